"""The scenario file format: pydantic models that validate a scenario, field by field.

Every model is frozen and forbids unknown keys. Checks that involve several fields
(TOU hours that overlap or leave gaps, tariff names that do not exist, ...) collect all
their problems and raise them together as one error (:func:`sim.scenario.base.problems`)
whose context carries a sub-path for each problem, so that the loader can point at the
exact line. Tariff models live in :mod:`sim.scenario.tariff`.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .base import (CsvSeries, Distribution, LogNormal, Loc, Model, Normal, Param, Triangular, Uniform,
                   existing_file, param_bounds, parse_hour_range, problems, range_quarters, shape_of)
from .behavior import BehaviorSpec, Participation, behavior_problems, models_of
from .currency import CURRENCY_PATTERN, DEFAULT_CURRENCY, currency_from_tariffs, currency_problems
from .market import Growth, Market
from .network import Network
from .sectors import SECTORS, is_default, sector_problems, with_sector
from .tariff import (DAY_TYPES, FlatTariff, Period, RtpTariff, Season, ScheduleRule, Tariff, TouTariff,
                     tariff_boundaries)
from .weather import Weather

SCHEMA_VERSION = 1

#: Largest number of customers in one segment, and in a whole scenario. Beyond this a run
#: would need tens of GiB for per-customer state; larger studies belong on a cluster.
MAX_CUSTOMERS = 20_000_000

#: Longest horizon, in days (ten years).
MAX_DAYS = 3660

#: First and last day a horizon may cover: calendars, holidays and timestamps are well
#: defined over these years, and no date arithmetic of a run leaves Python's range.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)

#: Longest scenario, segment or tariff name, in characters (the scenario's name is a folder
#: name of every run; file systems allow 255 bytes).
MAX_NAME = 64

CUSTOMER_CLASSES = ("residential", "commercial", "industrial")

#: Sectors a commercial or industrial segment may name (sim/scenario/sectors.py).
SECTOR_NAMES = tuple(SECTORS)


# --------------------------------------------------------------------------- horizon, calendar


class Horizon(Model):
    """The simulated period: start date, number of days, step length."""

    start: dt.date = Field(description="First simulated day (ISO date, e.g. 2025-01-01).")
    days: int = Field(gt=0, le=MAX_DAYS, description="Number of simulated days.")
    step_minutes: Literal[15, 30, 60] = Field(60, description="Step length in minutes.")

    @model_validator(mode="after")
    def _within_calendar(self) -> Horizon:
        if not FIRST_DAY <= self.start <= LAST_DAY:
            raise problems([(("start",), f"must lie within {FIRST_DAY} to {LAST_DAY}; got {self.start}")])
        room = (LAST_DAY - self.start).days + 1
        if self.days > room:
            raise problems([(("days",), f"the horizon must end by {LAST_DAY}: at most {room} days from "
                                        f"{self.start}; got {self.days}")])
        return self

    @property
    def steps_per_day(self) -> int:
        return 1440 // self.step_minutes

    @property
    def step_hours(self) -> float:
        return self.step_minutes / 60.0


class Holidays(Model):
    """Public holidays from the `holidays` package, plus custom dates."""

    country: str | None = Field(None, description="ISO 3166 country code, e.g. CN, US, DE.")
    subdivision: str | None = Field(None, description="Subdivision code, e.g. CA for California.")
    dates: list[dt.date] = Field(default_factory=list, description="Extra holiday dates.")
    make_up_workdays: bool = Field(True, description=(
        "Weekend days that the country's holiday arrangement makes working days (China's 调休) count as weekdays."))
    workdays: list[dt.date] = Field(default_factory=list, description="Extra weekend dates that count as weekdays.")

    @model_validator(mode="after")
    def _known(self) -> Holidays:
        import holidays

        if self.country is None:
            if self.subdivision is not None:
                raise problems([(("subdivision",), "needs a country")])
            return self
        from holidays.registry import EntityLoader

        # the codes alone (holidays.list_supported_countries() imports all 250 countries' modules)
        if self.country not in EntityLoader.get_country_codes():
            raise problems([(("country",), f"unknown holiday country {self.country!r} "
                                           "(use an ISO 3166 code the `holidays` package knows, e.g. CN, US, DE)")])
        if self.subdivision is None:
            return self
        supported = list(getattr(holidays, self.country).subdivisions)  # imports every country's module
        if not supported:
            raise problems([(("subdivision",), f"{self.country} has no subdivisions in the `holidays` package: "
                                               f"remove subdivision {self.subdivision!r}")])
        if self.subdivision not in supported:
            subs = ", ".join(supported[:20])
            raise problems([(("subdivision",), f"unknown subdivision {self.subdivision!r} of {self.country} "
                                               f"(valid: {subs}{', ...' if len(supported) > 20 else ''})")])
        return self


class Calendar(Model):
    """Calendar of the horizon: which days are holidays."""

    holidays: Holidays = Field(default_factory=Holidays)


# --------------------------------------------------------------------------- populations


class CsvProfile(Model):
    """Measured load per customer from a CSV file (see docs/scenario.md for the layout)."""

    csv: Path = Field(description="CSV path, relative to the scenario file.")

    _exists = field_validator("csv")(existing_file)


class Variation(Model):
    """Per-customer variation around the segment's base load shape."""

    shift_sd_hours: float = Field(0.75, ge=0, le=6, description=(
        "Standard deviation of each customer's time shift of the daily shape. [h]"))
    daily_sd: float = Field(0.10, ge=0, le=1, description=(
        "Standard deviation of each customer's day-to-day level factor (log-normal with mean 1)."))
    common_daily_sd: float = Field(0.0, ge=0, le=1, description=(
        "Standard deviation of a day-to-day factor shared by every customer of the segment (weather): "
        "log-normal with mean 1, autocorrelated from day to day."))
    common_persistence: float = Field(0.7, ge=0, lt=1, description=(
        "Day-to-day autocorrelation of the shared factor's logarithm (AR(1))."))


class MenuOption(Model):
    """One tariff of a menu and the share of the segment's customers on it."""

    tariff: str = Field(description="Name of a tariff under `tariffs`.")
    share: float = Field(gt=0, le=1, description="Share of the segment's customers on this tariff.")


class TariffChoice(Model):
    """Customers on a menu review their tariff after each bill and move to the one that would
    have billed their last month least, if the saving is worth it."""

    review_probability: float = Field(0.2, ge=0, le=1, description=(
        "Chance that a customer reviews its tariff after a bill (1 - inertia)."))
    threshold_pct: float = Field(5.0, ge=0, le=100, description=(
        "Switch only if the best tariff saves more than this share of the current bill. [%]"))


class SegmentTariffs(Model):
    """Which tariff a segment is on in the baseline and in the scenario."""

    baseline: str = Field(description="Name of a tariff under `tariffs`.")
    scenario: str | list[MenuOption] = Field(description=(
        "Name of a tariff under `tariffs`, or a menu: a list of {tariff, share} whose shares sum to 1 "
        "(the shares customers start on)."))
    choice: TariffChoice | None = Field(None, description=(
        "Let customers on a menu switch between its tariffs after each bill (default: they stay)."))

    @model_validator(mode="after")
    def _shares(self) -> SegmentTariffs:
        if isinstance(self.scenario, list):
            total = sum(o.share for o in self.scenario)
            errs = []
            if abs(total - 1.0) > 1e-9:
                errs.append((("scenario",), f"menu shares must sum to 1; they sum to {total:g}"))
            names = [o.tariff for o in self.scenario]
            if len(set(names)) != len(names):
                errs.append((("scenario",), "a tariff appears twice in the menu"))
            if errs:
                raise problems(errs)
        elif self.choice is not None:
            raise problems([(("choice",), "tariff choice needs a menu: give `scenario` as a list of {tariff, share}")])
        return self

    def options(self, role: str) -> list[tuple[str, float]]:
        """(tariff name, share) of each tariff open to the segment in a role."""
        spec = getattr(self, role)
        return [(spec, 1.0)] if isinstance(spec, str) else [(o.tariff, o.share) for o in spec]


class Storage(Model):
    """A separately metered thermal-storage load (heat or cold storage) charged on a fixed
    daily window; the tariff's `storage_rate` bills it (the main rate if it has none)."""

    kwh_per_day: Param = Field(description="Energy charged into storage per day, per customer. [kWh/day]")
    charge_hours: list[str] = Field(min_length=1, description="Hour ranges of charging, e.g. ['22:00-06:00'].")

    @model_validator(mode="after")
    def _check(self) -> Storage:
        errs: list[tuple[Loc, str]] = []
        if param_bounds(self.kwh_per_day)[0] < 0:
            errs.append((("kwh_per_day",), "must be >= 0 for every customer"))
        cover: set[int] = set()
        for i, text in enumerate(self.charge_hours):
            try:
                q = set(range_quarters(*parse_hour_range(text)))
            except ValueError as e:
                errs.append((("charge_hours", i), str(e)))
                continue
            if q & cover:
                errs.append((("charge_hours", i), f"{text} overlaps an earlier range"))
            cover |= q
        if errs:
            raise problems(errs)
        return self


class InterruptibleParticipation(Model):
    """How a segment's customers take part in an interruptible contract."""

    firm_kw_per_mean_kw: Param = Field(description=(
        "Firm service level of each customer per kW of its mean load: load above it is interruptible. [kW/kW]"))
    compliance: Param = Field(1.0, description="Share of the load above the firm level each customer sheds in an event (0-1).")

    @model_validator(mode="after")
    def _check(self) -> InterruptibleParticipation:
        errs = []
        if param_bounds(self.firm_kw_per_mean_kw)[0] < 0:
            errs.append((("firm_kw_per_mean_kw",), "must be >= 0 for every customer"))
        lo, hi = param_bounds(self.compliance)
        if lo < 0 or hi > 1:
            errs.append((("compliance",), f"must lie in [0, 1] for every customer; this one spans [{lo}, {hi}]"))
        if errs:
            raise problems(errs)
        return self


#: Most groups a segment's customers may be split into (docs/scenario.md 5.8).
MAX_GROUPS = 20


class CustomerGroups(Model):
    """Named groups of a segment's customers (income quintiles, a vulnerable share), each
    customer drawn into one from the seed, for the equity figures by group (sim.equity). The
    groups change no load and no bill."""

    attribute: str = Field("group", pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=MAX_NAME, description=(
        "What the groups are (for example income), as the report names it."))
    shares: dict[str, float] = Field(description=(
        "Group name -> share of the segment's customers, each > 0, summing to 1; listed from the "
        "lowest to the highest value of the attribute."))
    consumption_correlation: float = Field(0.0, ge=-1.0, le=1.0, description=(
        "Correlation (Gaussian copula) between the attribute and the log of each customer's "
        "baseline energy: 0 draws the groups independently of consumption."))

    @model_validator(mode="after")
    def _shares(self) -> CustomerGroups:
        errs = []
        if not 1 <= len(self.shares) <= MAX_GROUPS:
            errs.append((("shares",), f"give 1 to {MAX_GROUPS} groups; got {len(self.shares)}"))
        for name, share in self.shares.items():
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]*", name) or len(name) > MAX_NAME:
                errs.append((("shares", name), "a group name starts with a letter, then letters, digits, _ -"))
            if not 0.0 < share <= 1.0:
                errs.append((("shares", name), f"must be > 0 and <= 1; got {share:g}"))
        total = sum(self.shares.values())
        if self.shares and abs(total - 1.0) > 1e-6:
            errs.append((("shares",), f"the shares must sum to 1; they sum to {total:.6g}"))
        if errs:
            raise problems(errs)
        return self


class Segment(Model):
    """One customer segment: class, size, base load, behaviour, tariffs."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=MAX_NAME, description=(
        "Segment name (letters, digits, _ -)."))
    customer_class: Literal["residential", "commercial", "industrial"]
    count: int | None = Field(None, gt=0, le=MAX_CUSTOMERS, description=(
        "Number of customers. Required for built-in profiles; for a CSV profile defaults to its columns."))
    profile: Annotated[Union[Annotated[Literal["builtin"], Tag("value")], Annotated[CsvProfile, Tag("mapping")]],
                       Discriminator(shape_of)] = Field("builtin", description=(
        "'builtin' (the class's built-in shape) or {csv: path} (measured load per customer)."))
    annual_kwh: Param | None = Field(None, description=(
        "Annual energy per customer for built-in profiles (value or distribution). [kWh/year]"))
    variation: Variation = Field(default_factory=Variation)
    storage: Storage | None = Field(None, description="A separately metered thermal-storage load.")
    interruptible: InterruptibleParticipation | None = Field(None, description=(
        "Participation in an interruptible contract; needed when a tariff of the segment has one."))
    contract_kva_per_mean_kw: Param | None = Field(None, description=(
        "Contracted (transformer) capacity of each customer per kW of its mean load; needed "
        "when a tariff of the segment has a capacity charge. [kVA/kW]"))
    behavior: BehaviorSpec = Field(description=(
        "A response model, a list of models that combine, or 'default' (the class's calibrated "
        "defaults, docs/calibration.md)."))
    sector: Literal[SECTOR_NAMES] | None = Field(None, description=(
        "What a commercial or industrial segment's customers do; sets the share of their load that "
        "takes part in the substitution under behavior: default (docs/evidence_ci.md)."))
    shifts: Literal[1, 2, 3] | None = Field(None, description=(
        "Shifts worked a day (1, 2 or 3) by a commercial or industrial segment's customers; a factor on "
        "their flexible share under behavior: default (docs/evidence_ci.md)."))
    groups: CustomerGroups | None = Field(None, description=(
        "Named groups of the customers (for example income quintiles), drawn from the seed, for the "
        "equity figures by group."))

    @model_validator(mode="before")
    @classmethod
    def _default_behavior(cls, data):
        if not isinstance(data, dict):
            return data
        sector, shifts = data.get("sector"), data.get("shifts")
        if data.get("behavior") == "default":
            from .defaults import default_behavior

            if data.get("customer_class") in ("residential", "commercial", "industrial"):
                models = default_behavior(data["customer_class"])
                data = {**data, "behavior": with_sector(models, data["customer_class"], sector, shifts)}
        elif (sector is not None or shifts is not None) and not _resolved_default(data, sector, shifts):
            key = "sector" if sector is not None else "shifts"
            raise problems([((key,), "sets the defaults of behavior: default only; with models of your own "
                                     "give the energy-price model's parameters instead")])
        return data
    participation: Participation = Field(default_factory=Participation, description=(
        "Enrolment, awareness, enabling technology, event fatigue, learning."))
    tariff: SegmentTariffs
    growth: Growth | None = Field(None, description=(
        "Annual growth in customers and in consumption per customer over a multi-year horizon "
        "(default: none; docs/scenario.md, Market view)."))

    @model_validator(mode="after")
    def _sizes(self) -> Segment:
        errs = []
        if self.profile == "builtin":
            if self.count is None:
                errs.append((("count",), "required with a built-in profile"))
            if self.annual_kwh is None:
                errs.append((("annual_kwh",), "required with a built-in profile"))
            elif param_bounds(self.annual_kwh)[0] < 0:
                errs.append((("annual_kwh",), "must be >= 0 for every customer (truncate with min: 0)"))
        elif self.annual_kwh is not None:
            errs.append((("annual_kwh",), "not used with a CSV profile (the measured load sets each customer's size)"))
        errs += [(("behavior",) + loc, msg) for loc, msg in behavior_problems(self.behavior)]
        errs += sector_problems(self.customer_class, self.sector, self.shifts)
        if self.participation.enrolment is not None and isinstance(self.tariff.scenario, list):
            errs.append((("participation", "enrolment"), "enrolment does not combine with a tariff menu "
                                                          "(put the baseline tariff in the menu instead)"))
        c = self.contract_kva_per_mean_kw
        if c is not None and (param_bounds(c)[0] < 0 or (param_bounds(c)[0] == 0 and not isinstance(c, LogNormal))):
            errs.append((("contract_kva_per_mean_kw",), "must be > 0 for every customer (truncate with min)"))
        if errs:
            raise problems(errs)
        return self


def _resolved_default(data: dict, sector, shifts) -> bool:
    """Whether a segment's models are its class default for its sector and shifts (a resolved
    scenario, as manifest.json records it, validates again), or its sector, shifts or class
    are values the schema reports on its own."""
    if data.get("customer_class") not in CUSTOMER_CLASSES or (sector is not None and sector not in SECTORS) \
            or (shifts is not None and shifts not in (1, 2, 3)):
        return True
    return is_default(data.get("behavior"), data["customer_class"], sector, shifts)


# --------------------------------------------------------------------------- grid


class SupplyStep(Model):
    """One step of a merit-order supply curve."""

    up_to_kw: float | None = Field(None, gt=0, description="System supply (load plus losses) up to which this cost "
                                                           "holds; omit on the last step. [kW]")
    cost_per_kwh: float = Field(ge=0, description="Marginal cost of energy on this step. [currency/kWh]")


class Grid(Model):
    """Supply side: cost of energy (flat, a series, or a merit-order curve), losses, capacity."""

    energy_cost_per_kwh: Annotated[Union[Annotated[float, Tag("value")], Annotated[CsvSeries, Tag("mapping")]],
                                   Discriminator(shape_of)] = Field(
        0.0, description="Cost of energy at the customer meter, flat or a per-step CSV. [currency/kWh]")
    supply_curve: list[SupplyStep] | None = Field(None, min_length=1, description=(
        "Merit-order curve: the marginal cost of energy at each level of system supply; every kWh of a "
        "step is bought at the marginal cost of that step's supply. Replaces energy_cost_per_kwh."))
    supply_curve_shape: Literal["step", "linear"] = Field("step", description=(
        "step: each step's cost holds up to its bound; linear: the cost rises linearly from the first step's "
        "cost at 0 kW to each next step's cost at the previous bound, flat beyond the last bound."))
    losses_pct: float = Field(0.0, ge=0, le=50, description=(
        "Network losses: energy bought = energy metered x (1 + losses_pct / 100). [%]"))
    capacity_cost_per_kw_year: float = Field(
        0.0, ge=0, description="Cost of capacity per kW of system peak per year. [currency/kW-year]")

    @model_validator(mode="after")
    def _curve(self) -> Grid:
        curve = self.supply_curve
        if curve is None:
            return self
        errs: list[tuple[Loc, str]] = []
        if not (isinstance(self.energy_cost_per_kwh, float) and self.energy_cost_per_kwh == 0):
            errs.append((("supply_curve",), "give either energy_cost_per_kwh or supply_curve, not both"))
        for i, step in enumerate(curve[:-1]):
            if step.up_to_kw is None:
                errs.append((("supply_curve", i, "up_to_kw"), "required on every step but the last"))
            elif i and curve[i - 1].up_to_kw is not None and step.up_to_kw <= curve[i - 1].up_to_kw:
                errs.append((("supply_curve", i, "up_to_kw"), f"steps out of order: {step.up_to_kw} follows "
                                                              f"{curve[i - 1].up_to_kw}"))
        for i in range(1, len(curve)):
            if curve[i].cost_per_kwh < curve[i - 1].cost_per_kwh:
                errs.append((("supply_curve", i, "cost_per_kwh"), "a merit order never gets cheaper"))
        if curve[-1].up_to_kw is not None:
            errs.append((("supply_curve", len(curve) - 1, "up_to_kw"), "leave the last step open (no up_to_kw)"))
        if errs:
            raise problems(errs)
        return self

    @field_validator("energy_cost_per_kwh")
    @classmethod
    def _nonneg(cls, v):
        if isinstance(v, float) and v < 0:
            raise PydanticCustomError("drsim_bound", "must be >= 0; got {v}", {"v": v})
        return v


# --------------------------------------------------------------------------- operator


class Operator(Model):
    """The system operator: calls events day-ahead when tomorrow's forecast system peak is high.

    The forecast is tomorrow's expected baseline load: every segment's base shape for that
    day times its customers' mean load and its shared weather factor (no per-customer noise
    or shifts). An event covers ``event_hours``
    centred on the forecast peak, within the day. Each programme's own limits (interruptible
    contracts: events per year, hours per event, months, notice) are kept.
    """

    threshold_kw: float = Field(gt=0, description="Call events for days whose forecast peak exceeds this. [kW]")
    event_hours: float = Field(4.0, gt=0, le=24, description="Length of each called event. [h]")
    max_events_per_year: int = Field(15, ge=0, le=366, description="At most this many event days per calendar year.")
    programmes: list[Literal["critical_peak", "peak_time_rebate", "interruptible"]] = Field(
        ["critical_peak", "peak_time_rebate", "interruptible"], min_length=1,
        description="Which programmes of the scenario tariffs the operator calls.")


# --------------------------------------------------------------------------- scenario


class Scenario(Model):
    """A complete tariff scenario."""

    schema_version: Literal[1] = Field(SCHEMA_VERSION, description="Version of this file format.")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=MAX_NAME, description=(
        "Scenario name (used in result paths)."))
    description: str = ""
    seed: int = Field(0, ge=0, lt=2**63, description="Seed of every random draw.")
    currency: str = Field(DEFAULT_CURRENCY, pattern=CURRENCY_PATTERN, description=(
        "ISO 4217 code of every price, cost and bill; default: the one all the tariffs name, else CNY."))
    horizon: Horizon
    calendar: Calendar = Field(default_factory=Calendar)
    populations: list[Segment] = Field(min_length=1)
    tariffs: dict[Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=MAX_NAME)], Tariff] = Field(
        min_length=1, description="Tariff name (letters, digits, _ -) -> tariff.")
    grid: Grid = Field(default_factory=Grid)
    operator: Operator | None = Field(None, description="Day-ahead event calls (default: only listed events).")
    network: Network | None = Field(None, description="A segment's customers on transformers and feeders (optional).")
    market: Market | None = Field(None, description=(
        "The market view: sales, revenue, cost and margin per segment and market year, their growth, "
        "and a screen (default: none; also shown when a segment has growth)."))
    weather: Weather | None = Field(None, description=(
        "Hourly outdoor temperature: adds the temperature-dependent load (docs/profiles.md) and drives "
        "controllable loads (default: none; loads as the built-in profiles give them)."))

    @model_validator(mode="before")
    @classmethod
    def _currency_of_tariffs(cls, data):
        return currency_from_tariffs(data)

    @model_validator(mode="after")
    def _cross(self) -> Scenario:
        errs = currency_problems(self.currency, self.tariffs, named="currency" in self.model_fields_set)
        names: set[str] = set()
        for i, seg in enumerate(self.populations):
            if seg.name in names:
                errs.append((("populations", i, "name"), f"duplicate segment name {seg.name!r}"))
            names.add(seg.name)
        total = sum(seg.count or 0 for seg in self.populations)
        if total > MAX_CUSTOMERS:
            errs.append((("populations",), f"{total} customers in all; at most {MAX_CUSTOMERS} are allowed"))
        for name, tariff in self.tariffs.items():
            bad = sorted(m for m in tariff_boundaries(tariff) if m % self.horizon.step_minutes)
            if bad:
                errs.append((("tariffs", name),
                             f"period boundaries at {', '.join(f'{m // 60:02d}:{m % 60:02d}' for m in bad)} "
                             f"do not fall on {self.horizon.step_minutes}-minute steps"))
        system_rtp = [n for n, t in self.tariffs.items() if getattr(t, "prices", None) == "system_marginal_cost"]
        if system_rtp and self.grid.supply_curve is None:
            errs.append((("grid", "supply_curve"), f"required: tariff {system_rtp[0]!r} forms prices from the system "
                                                   "load on the merit-order curve"))
        for i, seg in enumerate(self.populations):
            if seg.tariff.baseline in system_rtp:
                errs.append((("populations", i, "tariff", "baseline"),
                             "a baseline tariff cannot form prices from the system load (the fixed point is the "
                             "scenario's)"))
            for role in ("baseline", "scenario"):
                for name, _ in seg.tariff.options(role):
                    t = self.tariffs.get(name)
                    if t is not None and t.capacity is not None and seg.contract_kva_per_mean_kw is None:
                        errs.append((("populations", i, "contract_kva_per_mean_kw"),
                                     f"required: the {role} tariff {name!r} has a capacity charge"))
                    if t is not None and t.interruptible is not None and seg.interruptible is None:
                        errs.append((("populations", i, "interruptible"),
                                     f"required: the {role} tariff {name!r} is an interruptible contract"))
            for j, model in enumerate(models_of(seg.behavior)):
                if model.model == "pv" and model.measured is None and not (
                        self.weather is not None and self.weather.has_irradiance):
                    where = ("populations", i, "behavior") + ((j,) if isinstance(seg.behavior, list) else ())
                    errs.append((where, "model pv needs irradiance: give weather.tmy3, or weather.csv with "
                                        "ghi_column, dni_column, dhi_column and site (or pv's measured profile)"))
                names = getattr(model, "periods", None) if model.model == "elasticity_matrix" else \
                    getattr(model, "peak_periods", None)
                for tname, _ in seg.tariff.options("scenario"):
                    t = self.tariffs.get(tname)
                    known = set(getattr(t, "periods", {}) or {"all"}) if t is not None else None
                    missing = [n for n in names or [] if known is not None and n not in known]
                    if missing:
                        errs.append((("populations", i, "behavior"),
                                     f"{model.model}: periods {missing} are not periods of the scenario tariff "
                                     f"{tname!r} (its periods: {', '.join(sorted(known))})"))
            errs += _electric_heat_problems(i, seg, self.weather)
            if seg.storage is not None:
                bad = sorted(m for text in seg.storage.charge_hours for m in parse_hour_range(text)
                             if m % self.horizon.step_minutes)
                if bad:
                    errs.append((("populations", i, "storage", "charge_hours"),
                                 f"boundaries at minute {bad[0] % 1440} do not fall on "
                                 f"{self.horizon.step_minutes}-minute steps"))
        segments = sorted(seg.name for seg in self.populations)
        if self.network is not None and self.network.segment not in segments:
            errs.append((("network", "segment"), f"unknown segment {self.network.segment!r} "
                                                 f"(segments: {', '.join(segments)})"))
        if errs:
            raise problems(errs)
        return self

    def segment(self, name: str) -> Segment:
        for seg in self.populations:
            if seg.name == name:
                return seg
        raise KeyError(name)


def _electric_heat_problems(i: int, seg: Segment, weather) -> list:
    """``electric_heat`` needs the run's weather; its electrification choice is made under one
    scenario tariff (no menu, no enrolment)."""
    errs = []
    for model in models_of(seg.behavior):
        if model.model != "electric_heat":
            continue
        if weather is None:
            errs.append((("populations", i, "behavior"), "electric_heat needs the run's weather: add a `weather:` "
                                                         "section (tmy3 or csv)"))
        if model.fuels and (isinstance(seg.tariff.scenario, list) or seg.participation.enrolment is not None):
            errs.append((("populations", i, "behavior"), "electric_heat: the electrification choice (fuels) is made "
                                                         "under one scenario tariff: give a single scenario tariff "
                                                         "without a menu or enrolment"))
    return errs


def tariff_references(data: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Tariff names used by segments that do not exist under `tariffs` (checked on raw data,
    so that they are reported together with every other problem)."""
    if not isinstance(data, dict):
        return []
    tariffs = data.get("tariffs")
    known = set(tariffs) if isinstance(tariffs, dict) else None
    out = []
    pops = data.get("populations")
    if known is None or not isinstance(pops, list):
        return out
    for i, seg in enumerate(pops):
        ref = seg.get("tariff") if isinstance(seg, dict) else None
        if not isinstance(ref, dict):
            continue
        for role in ("baseline", "scenario"):
            spec = ref.get(role)
            refs = [((), spec)] if isinstance(spec, str) else [
                ((j, "tariff"), o.get("tariff")) for j, o in enumerate(spec) if isinstance(o, dict)
            ] if isinstance(spec, list) else []
            for sub, name in refs:
                if isinstance(name, str) and name not in known:
                    out.append((("populations", i, "tariff", role) + sub,
                                f"unknown tariff {name!r} (defined: {', '.join(sorted(known)) or 'none'})"))
    return out
