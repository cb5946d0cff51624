"""The behaviour part of the scenario format: response models and how customers take part.

A segment's ``behavior`` is one model or a list of models that combine: at most one
energy-price model (``constant_elasticity``, ``elasticity_matrix``, ``prism`` or ``ces``), plus any
of ``event_response`` (critical-peak and rebate events), ``flexible`` (deferrable loads),
``demand_shaving``, ``thermal_storage``, ``ev`` (home EV charging), ``electric_heat``
(heat pumps or storage heaters, and electrification), ``pv`` (rooftop PV,
:mod:`sim.scenario.solar`) and ``battery`` (home batteries).
``participation`` says who takes the scenario tariff and how strongly they respond over
time (enrolment, awareness, enabling technology, event fatigue, learning).
docs/behavior.md gives the equations and the published evidence behind the defaults.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Discriminator, Field, Tag, model_validator

from .defaults import SELF_SELECTION
from .base import LogNormal, Loc, Model, Normal, Param, parse_hour_range, problems, shape_of, within as _within
from .heat import ElectricHeat
from .solar import SolarPv
from .weather import ControllableLoad


class ConstantElasticity(Model):
    """Constant own-price elasticity: each step's load scales as (scenario / baseline price) ** e."""

    model: Literal["constant_elasticity"]
    elasticity: Param = Field(description="Own-price elasticity per customer, in [-5, 0].")
    _e = _within("elasticity", -5.0, 0.0)


class ElasticityMatrix(Model):
    """Own- and cross-period elasticities between TOU periods (Kirschen et al. 2000)."""

    model: Literal["elasticity_matrix"]
    periods: list[str] = Field(min_length=1, description="Period names of the scenario tariff, in matrix order.")
    matrix: list[list[float]] = Field(description=(
        "E[i][j]: relative change of energy in period i per relative change of the price of period j."))
    scale: Param = Field(1.0, description="Per-customer multiplier of the whole matrix (heterogeneity), >= 0.")
    _s = _within("scale", 0.0, 10.0)

    @model_validator(mode="after")
    def _square(self) -> ElasticityMatrix:
        p = len(self.periods)
        errs: list[tuple[Loc, str]] = []
        if len(self.matrix) != p or any(len(row) != p for row in self.matrix):
            errs.append((("matrix",), f"must be {p} x {p} (one row and column per period)"))
        elif any(self.matrix[i][i] > 0 for i in range(p)):
            errs.append((("matrix",), "own elasticities (the diagonal) must be <= 0"))
        if len(set(self.periods)) != p:
            errs.append((("periods",), "a period is named twice"))
        if errs:
            raise problems(errs)
        return self


class Prism(Model):
    """PRISM demand system of the California Statewide Pricing Pilot: a CES split between peak
    and off-peak energy with an elasticity of substitution, and a daily price elasticity."""

    model: Literal["prism"]
    substitution: Param = Field(description="Elasticity of substitution between peak and off-peak energy, <= 0.")
    daily: Param = Field(0.0, description="Daily price elasticity on the day's average price, <= 0.")
    peak_periods: list[str] | None = Field(None, description=(
        "Scenario tariff periods that form the peak (default: each day's dearest steps)."))
    _sub = _within("substitution", -2.0, 0.0)
    _day = _within("daily", -2.0, 0.0)


class Ces(Model):
    """CES demand system over every price period of the day (PRISM generalised): each period's
    use moves with its own price relative to all the others, plus a daily price elasticity."""

    model: Literal["ces"]
    substitution: Param = Field(description="Elasticity of substitution between price periods, <= 0.")
    daily: Param = Field(0.0, description="Daily price elasticity on the day's average price, <= 0.")
    flexible_share: Param = Field(1.0, description=(
        "Share of each customer's load that takes part in the substitution, in [0, 1]."))
    _sub = _within("substitution", -2.0, 0.0)
    _day = _within("daily", -2.0, 0.0)
    _flex = _within("flexible_share", 0.0, 1.0)


class EventResponse(Model):
    """Response to critical-peak and peak-time-rebate events in the log form of the event's
    price ratio, without a clip; the energy-price model then sees the days' prices without
    the events (docs/behavior.md section 3.8)."""

    model: Literal["event_response"]
    slope: Param = Field(description=(
        "Slope b of the log form: event-step load x (event price / price without the event) ** -b, in [0, 0.9]."))
    ptr_factor: float = Field(1.0, ge=0, le=1, description=(
        "Factor on the slope in peak-time-rebate steps (a rebate draws less response than a charge of the same size)."))
    shift_share: Param = Field(1.0, description=(
        "Share of the energy removed from event steps used in the day's other steps, in [0, 1]."))
    thermal_factor: float | None = Field(None, ge=0, le=20, description=(
        "With weather: the temperature-dependent (cooling and heating) load of event steps answers with "
        "slope x thermal_factor, the rest with slope x other_factor; null (the default): the whole load "
        "answers with slope, with or without weather. The residential default sets 1.98 and 0.36 "
        "(Herter et al., LBNL: 13 % on hot days, 4 % on mild ones)."))
    other_factor: float = Field(1.0, ge=0, le=20, description=(
        "With weather and thermal_factor: the factor on the slope of the load that does not depend on the "
        "temperature."))
    same_day_factor: float = Field(1.0, ge=0, le=1, description=(
        "Factor on the slope in the steps of an event announced on its own day (its programme's notice_hours "
        "no longer than the event's start hour); 1: notice does not matter. The residential default sets 0.75 "
        "(Centre for Net Zero, Octopus Energy's Saving Sessions: about a quarter less response with day-of "
        "than with day-ahead notice; docs/behavior.md 3.8)."))
    _slope = _within("slope", 0.0, 0.9)
    _shift = _within("shift_share", 0.0, 1.0)


class Flexible(Model):
    """Deferrable loads (appliances, EV charging, batch processes) moved to the cheapest steps
    of a window, when the saving beats an inconvenience cost."""

    model: Literal["flexible"]
    share: Param = Field(description="Share of the energy inside the window that is flexible, in [0, 1].")
    window: list[str] = Field(["00:00-24:00"], min_length=1, description="Hour ranges where flexible energy may move.")
    max_kw_per_mean_kw: Param = Field(3.0, description=(
        "Largest flexible power in a step per kW of the customer's mean load (a charger's rating). [kW/kW]"))
    inconvenience_per_kwh: Param = Field(0.0, description=(
        "Energy moves only to steps cheaper by more than this; each kWh moved costs the customer as much "
        "utility (consumer ledger). [currency/kWh]"))
    _share = _within("share", 0.0, 1.0)
    _kw = _within("max_kw_per_mean_kw", 0.0, 100.0)
    _inc = _within("inconvenience_per_kwh", 0.0, 1e6)

    @model_validator(mode="after")
    def _hours(self) -> Flexible:
        errs = []
        for i, text in enumerate(self.window):
            try:
                parse_hour_range(text)
            except ValueError as e:
                errs.append((("window", i), str(e)))
        if errs:
            raise problems(errs)
        return self


class DemandShaving(Model):
    """Customers on demand charges keep their load below a target: their baseline peak of the
    month so far, less a reduction, by moving load within the day."""

    model: Literal["demand_shaving"]
    reduction: Param = Field(description="Share of the month's baseline peak each customer shaves, in [0, 1].")
    max_shift_share: Param = Field(0.5, description="Largest share of a step's load that can be moved, in [0, 1].")
    _red = _within("reduction", 0.0, 1.0)
    _shift = _within("max_shift_share", 0.0, 1.0)


class ThermalStorage(Model):
    """Heat or cold storage: charged in cheap steps, serving heating or cooling load in dear ones."""

    model: Literal["thermal_storage"]
    adoption: float = Field(ge=0, le=1, description="Share of the segment's customers with storage.")
    thermal_share: Param = Field(description="Share of the load that is heating or cooling the store can serve, [0, 1].")
    capacity_kwh_per_mean_kw: Param = Field(description="Storage capacity per kW of mean load. [kWh/kW]")
    power_kw_per_mean_kw: Param = Field(description="Charge and discharge power per kW of mean load. [kW/kW]")
    efficiency: Param = Field(0.9, description="Round-trip efficiency, in (0, 1].")
    loss_per_hour: Param = Field(0.005, description="Standing loss, share of the stored energy per hour.")
    _ts = _within("thermal_share", 0.0, 1.0)
    _cap = _within("capacity_kwh_per_mean_kw", 0.0, 1000.0)
    _pow = _within("power_kw_per_mean_kw", 0.0, 100.0)
    _eff = _within("efficiency", 1e-3, 1.0)
    _loss = _within("loss_per_hour", 0.0, 0.99)


class ElectricVehicles(Model):
    """Home EV charging added to the load of a share of the segment's customers, charged
    unmanaged, on a timer, or managed against the prices (sim.behavior.ev; defaults and their
    sources in docs/behavior.md, "Electric vehicles")."""

    model: Literal["ev"]
    adoption: float = Field(ge=0, le=1, description="Share of the segment's customers with an EV charged at home.")
    charger_kw: Param = Field(7.0, description="Home charger rating per customer. [kW]")
    arrival_hour: Param = Field(Normal(dist="normal", mean=18.0, sd=2.0, min=12.0, max=24.0), description=(
        "Hour the car is plugged in at home each day, in [0, 24]. [h]"))
    departure_hour: Param = Field(Normal(dist="normal", mean=7.5, sd=1.0, min=4.0, max=11.0), description=(
        "Hour the car leaves (the next morning when earlier than the arrival), in [0, 24]. [h]"))
    daily_kwh: Param = Field(LogNormal(dist="lognormal", mean=6.5, cv=0.6), description=(
        "Energy the car needs each day (charged every day). [kWh]"))
    mode: Literal["unmanaged", "timer", "managed"] = Field("unmanaged", description=(
        "Charging in the scenario role: at arrival, from the timer, or the cheapest steps before departure."))
    baseline_mode: Literal["unmanaged", "timer", "managed"] = Field("unmanaged", description=(
        "Charging in the baseline role (the same cars and energy)."))
    timer_start: float | None = Field(None, ge=0, lt=24, description=(
        "Timer mode: hour the timer starts charging (default: the first step of the cheapest price "
        "in each car's window, the valley start). [h]"))
    meter: Literal["main", "separate"] = Field("main", description=(
        "main: the charger is behind the home's main meter; separate: it has a meter of its own, billed at "
        "the tariff's `storage_rate` (the second meter, docs/tariffs.md 5.14) and planned at that price, or "
        "on the main meter under a tariff without one."))
    _kw = _within("charger_kw", 0.0, 1000.0)
    _arr = _within("arrival_hour", 0.0, 24.0)
    _dep = _within("departure_hour", 0.0, 24.0)
    _kwh = _within("daily_kwh", 0.0, float("inf"))


class HomeBattery(Model):
    """Home batteries behind the main meter of a share of the segment's customers, dispatched
    for self-consumption, TOU arbitrage or export, optionally in the operator's events
    (sim.behavior.battery; defaults and their sources in docs/behavior.md, "Home batteries")."""

    model: Literal["battery"]
    adoption: float = Field(ge=0, le=1, description="Share of the segment's customers with a battery.")
    capacity_kwh: Param = Field(13.5, description="Energy the battery holds when full, per customer. [kWh]")
    power_kw: Param = Field(5.0, description="Largest charge and discharge power at the meter, per customer. [kW]")
    round_trip_efficiency: Param = Field(0.9, description=(
        "Round-trip efficiency, in (0, 1]; charge and discharge each its square root."))
    reserve_share: Param = Field(0.2, description=(
        "Share of the capacity held in reserve (never discharged), in [0, 1]."))
    mode: Literal["self_consumption", "tou_arbitrage", "export"] = Field("self_consumption", description=(
        "Dispatch in the scenario role: cover own import from own surplus, or charge cheap and discharge dear "
        "(own load only, or exporting too)."))
    baseline_mode: Literal["self_consumption", "tou_arbitrage", "export"] | None = Field(None, description=(
        "Dispatch in the baseline role (default: as mode)."))
    vpp: bool = Field(False, description=(
        "Take part in the operator's events (a virtual power plant): hold charge for them and discharge in them."))
    _cap = _within("capacity_kwh", 0.0, 1000.0)
    _kw = _within("power_kw", 0.0, 1000.0)
    _eff = _within("round_trip_efficiency", 1e-3, 1.0)
    _res = _within("reserve_share", 0.0, 1.0)


ResponseModel = Annotated[Union[ConstantElasticity, ElasticityMatrix, Prism, Ces, EventResponse, Flexible, DemandShaving,
                                ThermalStorage, ControllableLoad, ElectricVehicles, ElectricHeat, SolarPv,
                                HomeBattery],
                          Field(discriminator="model")]

#: Models that respond to the scenario's energy prices relative to the baseline's.
PRICE_MODELS = ("constant_elasticity", "elasticity_matrix", "prism", "ces")

BehaviorSpec = Annotated[Union[Annotated[ResponseModel, Tag("mapping")], Annotated[list[ResponseModel], Tag("list")]],
                         Discriminator(shape_of)]


def models_of(spec) -> list:
    """The list of response models of a segment's ``behavior``."""
    return list(spec) if isinstance(spec, list) else [spec]


def behavior_problems(spec) -> list[tuple[Loc, str]]:
    """At most one energy-price model, and each kind of model at most once."""
    models = models_of(spec)
    kinds = [m.model for m in models]
    errs: list[tuple[Loc, str]] = []
    price = [k for k in kinds if k in PRICE_MODELS]
    if len(price) > 1:
        errs.append(((), f"at most one energy-price model; got {', '.join(price)}"))
    for k in set(kinds):
        if kinds.count(k) > 1:
            errs.append(((), f"model {k!r} appears twice"))
    return errs


# --------------------------------------------------------------------------- participation


class Enrolment(Model):
    """Who takes the scenario tariff; the others stay on the baseline tariff."""

    mode: Literal["opt_in", "opt_out"] = Field(description="How customers are enrolled (recorded with the results).")
    share: float = Field(gt=0, le=1, description="Share of the segment's customers enrolled.")
    self_selection: float = Field(SELF_SELECTION, ge=0, le=20, description=(
        "Strength a of self-selection: customers enrol in order of their responsiveness (1 + a)(1 - u) ** a, "
        "u uniform; 0: enrolment independent of response (docs/behavior.md section 4)."))


class Awareness(Model):
    """Share of enrolled customers who know the tariff and respond, growing linearly over the horizon."""

    start: float = Field(ge=0, le=1, description="Share aware on the first day.")
    end: float = Field(ge=0, le=1, description="Share aware on the last day (>= start).")

    @model_validator(mode="after")
    def _grows(self) -> Awareness:
        if self.end < self.start:
            raise problems([(("end",), f"must be >= start ({self.start}); got {self.end}")])
        return self


class EnablingTechnology(Model):
    """Smart thermostats, automated controls: which customers have them (``share``, drawn per
    customer). What a device does comes from a ``controllable_load`` model in the segment's
    behaviour (docs/behavior.md, "Controllable load"); ``response_multiplier`` is the retired
    shortcut (a factor on the price response), kept so that older scenarios run unchanged."""

    share: float = Field(ge=0, le=1, description="Share of customers with enabling technology.")
    response_multiplier: float = Field(1.0, ge=1, le=10, description=(
        "Retired: a factor on their price response (1: none). Give a controllable_load model instead."))


class Learning(Model):
    """Response grows between bills: from ``initial`` of full strength, closing the gap by
    ``rate`` after each monthly bill."""

    initial: float = Field(gt=0, le=1, description="Strength of the response before the first bill.")
    rate: float = Field(gt=0, le=1, description="Share of the remaining gap closed at each bill.")


class Participation(Model):
    """How the segment takes part: enrolment, awareness, technology, fatigue and learning."""

    enrolment: Enrolment | None = Field(None, description="Default: every customer takes the scenario tariff.")
    awareness: Awareness | None = Field(None, description="Default: every enrolled customer is aware.")
    enabling_technology: EnablingTechnology | None = None
    event_fatigue: float = Field(1.0, gt=0, le=1, description=(
        "Factor on event response for each consecutive event day before (1: no fatigue)."))
    learning: Learning | None = Field(None, description="Default: full response from the start.")
