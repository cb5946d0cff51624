"""The tariff part of the scenario format: every rate design as a validated model.

A tariff is one of three energy forms (``type: flat``, ``tou`` or ``rtp``) plus optional
components that combine freely with it: tiers (inclining or declining blocks), a volume
rebate, demand charges (maximum demand, TOU demand, ratchet), a capacity charge per kVA,
critical-peak events, load-factor bands, fixed charges per month and per day, a minimum
bill and a tax. docs/tariffs.md shows each with an example.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Union

from pydantic import Discriminator, Field, Tag, model_validator

from .base import CsvSeries, Loc, Model, parse_hour_range, problems, quarters_text, range_quarters, shape_of
from .currency import CURRENCY_PATTERN

DAY_TYPES = ("weekday", "weekend", "holiday")

#: A price that may differ by tier: one number for every tier, or one per tier.
TierPrice = Annotated[Union[Annotated[float, Tag("value")], Annotated[list[float], Tag("list")]],
                      Discriminator(shape_of)]


# --------------------------------------------------------------------------- schedules


class Season(Model):
    """A tariff season: the calendar months it covers."""

    months: list[Annotated[int, Field(ge=1, le=12)]] = Field(min_length=1, description="Months 1-12.")


class ScheduleRule(Model):
    """Hours of each period on some day types of some seasons."""

    seasons: list[str] | Literal["all"] = Field("all", description="Season names, or 'all'.")
    day_types: list[Literal["weekday", "weekend", "holiday"]] = Field(
        min_length=1, description="Day types this rule covers: weekday, weekend, holiday.")
    hours: dict[str, list[str]] = Field(
        min_length=1, description="Period name -> hour ranges 'HH:MM-HH:MM' (may wrap midnight).")


def _all_year() -> dict[str, Season]:
    return {"all_year": Season(months=list(range(1, 13)))}


class Scheduled(Model):
    """Periods assigned to hours by season and day type (shared by TOU energy and TOU demand)."""

    seasons: dict[str, Season] = Field(
        default_factory=_all_year,
        description="Season name -> months. Every month must be in exactly one season (default: one all-year season).")
    schedule: list[ScheduleRule] = Field(min_length=1, description="Which period applies when.")
    holidays_as: Literal["weekday", "weekend"] = Field(
        "weekend", description="Day type used on holidays that no schedule rule covers.")

    def schedule_problems(self, periods: list[str]) -> list[tuple[Loc, str]]:
        """Seasons cover each month once; rules cover each (season, weekday/weekend) once and
        every quarter hour of their days exactly once, with known periods."""
        errs: list[tuple[Loc, str]] = []
        owner: dict[int, str] = {}
        for name, season in self.seasons.items():
            for m in season.months:
                if m in owner:
                    errs.append((("seasons", name, "months"), f"month {m} is already in season {owner[m]!r}"))
                owner[m] = name
        missing = sorted(set(range(1, 13)) - owner.keys())
        if missing:
            errs.append((("seasons",), f"months {missing} are in no season"))
        seen: dict[tuple[str, str], int] = {}
        for i, rule in enumerate(self.schedule):
            names = list(self.seasons) if rule.seasons == "all" else rule.seasons
            for s in names:
                if s not in self.seasons:
                    errs.append((("schedule", i, "seasons"), f"unknown season {s!r} (valid: {', '.join(self.seasons)})"))
            for s in names:
                for d in rule.day_types:
                    if (s, d) in seen:
                        errs.append((("schedule", i), f"season {s!r} {d} is already scheduled by rule {seen[s, d]}"))
                    seen[s, d] = i
            cover: dict[int, str] = {}
            for period, ranges in rule.hours.items():
                if period not in periods:
                    errs.append((("schedule", i, "hours", period),
                                 f"unknown period {period!r} (valid: {', '.join(periods)})"))
                for j, text in enumerate(ranges):
                    try:
                        a, b = parse_hour_range(text)
                    except ValueError as e:
                        errs.append((("schedule", i, "hours", period, j), str(e)))
                        continue
                    clash = sorted({cover[q] for q in range_quarters(a, b) if q in cover})
                    if clash:
                        errs.append((("schedule", i, "hours", period, j),
                                     f"{text} overlaps hours already given to {', '.join(clash)}"))
                    for q in range_quarters(a, b):
                        cover.setdefault(q, period)
            gaps = [q for q in range(96) if q not in cover]
            if gaps and (cover or not any(rule.hours.values())):  # (not when every range was unreadable)
                errs.append((("schedule", i, "hours"), f"hours {quarters_text(gaps)} are in no period"))
        for s in self.seasons:
            for d in ("weekday", "weekend"):
                if (s, d) not in seen:
                    errs.append((("schedule",), f"no rule covers season {s!r} {d}s"))
        used = {p for rule in self.schedule for p, ranges in rule.hours.items() if ranges}
        for p in periods:  # a period no rule uses is a mistake (a misspelt name, say), never billed
            if p not in used:
                errs.append((("periods", p), f"period {p!r} is in no schedule rule's hours"))
        return errs

    def boundaries_minutes(self) -> set[int]:
        """Minutes of the day at which some period starts or ends."""
        out: set[int] = set()
        for rule in self.schedule:
            for ranges in rule.hours.values():
                for text in ranges:
                    a, b = parse_hour_range(text)
                    out.update((a % 1440, b % 1440))
        return out


# --------------------------------------------------------------------------- components


class Period(Model):
    """One named TOU period (e.g. peak) and its energy price."""

    price_per_kwh: TierPrice = Field(description=(
        "Energy price in this period [currency/kWh]; a list gives one price per tier."))


class Tiers(Model):
    """Inclining or declining blocks on the customer's cumulative energy.

    The bounds are cumulative kWh within the billing month (``basis: monthly``) or within
    the calendar year (``basis: annual``, reset on 1 January). With TOU periods, each
    month's energy in a tier is shared among the periods pro rata to their energy (the
    convention of NREL SAM's utility-rate model).
    """

    basis: Literal["monthly", "annual"] = Field("monthly", description="Where cumulative energy resets.")
    bounds_kwh: list[Annotated[float, Field(gt=0)]] = Field(
        min_length=1, description="Upper bounds of every tier but the last, strictly increasing. [kWh]")
    adders_per_kwh: list[float] | None = Field(None, description=(
        "Added to every period's price in each tier (one per tier, e.g. [0, 0.05, 0.3]). [currency/kWh]"))

    @property
    def n_tiers(self) -> int:
        return len(self.bounds_kwh) + 1

    @model_validator(mode="after")
    def _order(self) -> Tiers:
        errs: list[tuple[Loc, str]] = []
        for i in range(1, len(self.bounds_kwh)):
            if self.bounds_kwh[i] <= self.bounds_kwh[i - 1]:
                errs.append((("bounds_kwh", i), f"tiers out of order: {self.bounds_kwh[i]} follows "
                                                f"{self.bounds_kwh[i - 1]} (bounds must increase)"))
        if self.adders_per_kwh is not None and len(self.adders_per_kwh) != self.n_tiers:
            errs.append((("adders_per_kwh",), f"needs {self.n_tiers} values (one per tier); got "
                                              f"{len(self.adders_per_kwh)}"))
        if errs:
            raise problems(errs)
        return self


class VolumeRebate(Model):
    """Volume discount for energy-intensive customers: a share of the supply cost saved on
    energy above a monthly threshold is returned."""

    threshold_kwh: float = Field(ge=0, description="Monthly energy above which the rebate applies. [kWh]")
    cost_saving_per_kwh: float = Field(ge=0, description="Supply cost saved per kWh above the threshold. [currency/kWh]")
    share: float = Field(ge=0, le=1, description="Share of that saving returned to the customer.")


MonthlyRate = Annotated[Union[Annotated[float, Tag("value")],
                              Annotated[list[Annotated[float, Field(ge=0)]], Tag("list")]],
                        Discriminator(shape_of)]


class DemandBlocks(Model):
    """Demand billed in blocks (URDB's demand tiers, billed as NREL SAM does): the billed
    demand's first ``bounds_kw[0]`` kW at the first rate, the kW from there up to the next
    bound at the second, and so on; the last block has no upper bound."""

    bounds_kw: list[Annotated[float, Field(gt=0)]] = Field(min_length=1, max_length=50, description=(
        "Upper bound of each block but the last, increasing. [kW]"))
    per_kw_month: list[MonthlyRate] = Field(min_length=2, max_length=51, description=(
        "Rate of each block, one more than bounds_kw; for the charge on the month's maximum each may be a list "
        "of 12 monthly rates. [currency/kW-month]"))

    @model_validator(mode="after")
    def _check(self) -> DemandBlocks:
        errs: list[tuple[Loc, str]] = []
        for i in range(1, len(self.bounds_kw)):
            if self.bounds_kw[i] <= self.bounds_kw[i - 1]:
                errs.append((("bounds_kw", i), f"blocks out of order: {self.bounds_kw[i]} follows "
                                               f"{self.bounds_kw[i - 1]} (bounds must increase)"))
        if len(self.per_kw_month) != len(self.bounds_kw) + 1:
            errs.append((("per_kw_month",), f"needs {len(self.bounds_kw) + 1} rates (one per block, one more "
                                            f"than bounds_kw); got {len(self.per_kw_month)}"))
        for i, rate in enumerate(self.per_kw_month):
            errs += [(("per_kw_month", i) + loc, msg) for loc, msg in _monthly_rate_problems(rate)]
        if errs:
            raise problems(errs)
        return self


def _monthly_rate_problems(rate) -> list[tuple[Loc, str]]:
    """A rate per kW-month: one number >= 0, or 12 monthly ones."""
    if isinstance(rate, list) and len(rate) != 12:
        return [((), f"a list needs 12 monthly rates; got {len(rate)}")]
    if isinstance(rate, float) and rate < 0:
        return [((), f"must be >= 0; got {rate}")]
    return []


class DemandPeriod(Model):
    """One TOU demand period and its charge: one rate, or blocks."""

    per_kw_month: float | None = Field(None, ge=0, description=(
        "Charge per kW of the month's maximum in this period. [currency/kW-month]"))
    blocks: DemandBlocks | None = Field(None, description="The period's maximum billed in blocks instead of at one rate.")

    @model_validator(mode="after")
    def _check(self) -> DemandPeriod:
        if (self.per_kw_month is None) == (self.blocks is None):
            raise problems([(("per_kw_month",), "give the period's charge as per_kw_month or as blocks (one of them)")])
        if self.blocks is not None:
            for i, rate in enumerate(self.blocks.per_kw_month):
                if isinstance(rate, list):
                    raise problems([(("blocks", "per_kw_month", i),
                                     "a TOU demand period's block rate is one number (not 12 monthly rates)")])
        return self


class _PeriodSchedule(Scheduled):
    """A schedule of a subclass's own ``periods``: every period the schedule names is one of
    them, and every one of them is scheduled (:meth:`Scheduled.schedule_problems`)."""

    @model_validator(mode="after")
    def _check_periods(self) -> _PeriodSchedule:
        errs = self.schedule_problems(list(self.periods))
        if errs:
            raise problems(errs)
        return self


class TouDemand(_PeriodSchedule):
    """Demand charges on the maximum kW within chosen periods of each month."""

    periods: dict[str, DemandPeriod] = Field(min_length=1, description="Demand period name -> charge.")


class Ratchet(Model):
    """Billed demand is at least ``share`` of the highest metered monthly maximum demand of the
    previous ``months`` billing months of the horizon."""

    share: float = Field(gt=0, le=1, description="Share of the earlier maximum, e.g. 0.8.")
    months: int = Field(ge=1, le=36, description="How many previous billing months count, e.g. 11.")


class Demand(Model):
    """Demand charges: on the month's maximum kW (flat), and/or within TOU demand periods."""

    per_kw_month: MonthlyRate = Field(0.0, description=(
        "Charge per kW of the month's maximum demand; a list of 12 gives one rate per calendar month. [currency/kW-month]"))
    blocks: DemandBlocks | None = Field(None, description=(
        "The month's maximum demand billed in blocks instead of at one rate (then leave per_kw_month out)."))
    tou: TouDemand | None = Field(None, description="Charges on the maximum within TOU demand periods.")
    ratchet: Ratchet | None = Field(None, description="Demand ratchet on the flat (maximum-demand) charge.")

    @model_validator(mode="after")
    def _check(self) -> Demand:
        errs = [(("per_kw_month",) + loc, msg) for loc, msg in _monthly_rate_problems(self.per_kw_month)]
        rate = self.per_kw_month
        if self.blocks is not None and any(v != 0 for v in (rate if isinstance(rate, list) else [rate])):
            errs.append((("per_kw_month",), "give the charge on the month's maximum as per_kw_month or as blocks, "
                                            "not both"))
        if errs:
            raise problems(errs)
        return self


class Capacity(Model):
    """Basic charge by contracted (transformer) capacity."""

    per_kva_month: float = Field(ge=0, description="Charge per kVA of contracted capacity per month. [currency/kVA-month]")


class Event(Model):
    """One called event: a date and its hours."""

    date: dt.date
    hours: str = Field(description="Hour range 'HH:MM-HH:MM' on that date (may not wrap midnight).")


#: The description of ``notice_hours`` on critical-peak and peak-time-rebate programmes.
_NOTICE = ("Notice customers are given before each event starts, listed or called by the operator [h]; 24 (the "
           "default): day-ahead. An event whose notice is no longer than its start hour is announced on its own "
           "day (same-day notice), which event_response answers with same_day_factor (docs/behavior.md 3.8).")


class CriticalPeak(Model):
    """Critical-peak pricing: on listed event days and hours, an adder or a multiplier."""

    events: list[Event] = Field(default_factory=list, description=(
        "Event dates and hours listed in advance (the scenario's `operator` may call more)."))
    price_adder_per_kwh: float | None = Field(None, description="Added to the energy price in event steps. [currency/kWh]")
    price_multiplier: float | None = Field(None, gt=0, description=(
        "Multiplies the first-tier energy price in event steps (applied as an adder of (m - 1) x that price)."))
    notice_hours: float = Field(24.0, ge=0, le=168, description=_NOTICE)

    @model_validator(mode="after")
    def _check(self) -> CriticalPeak:
        errs: list[tuple[Loc, str]] = []
        if (self.price_adder_per_kwh is None) == (self.price_multiplier is None):
            errs.append(((), "give exactly one of price_adder_per_kwh and price_multiplier"))
        errs += _event_problems(self.events)
        if errs:
            raise problems(errs)
        return self


def _event_problems(events: list[Event]) -> list[tuple[Loc, str]]:
    errs: list[tuple[Loc, str]] = []
    taken: dict = {}
    for i, ev in enumerate(events):
        try:
            a, b = parse_hour_range(ev.hours)
        except ValueError as e:
            errs.append((("events", i, "hours"), str(e)))
            continue
        if b <= a:
            errs.append((("events", i, "hours"), f"an event may not wrap midnight; got {ev.hours!r}"))
            continue
        for j, (c, d) in taken.get(ev.date, []):
            if a < d and c < b:
                errs.append((("events", i, "hours"), f"overlaps event {j} on {ev.date}"))
        taken.setdefault(ev.date, []).append((i, (a, b)))
    return errs


def event_hours(ev: Event) -> float:
    a, b = parse_hour_range(ev.hours)
    return (b - a) / 60.0


class BaselineMethod(Model):
    """Customer baseline load (CBL) for peak-time rebates: in each event step, the mean load
    of the ``highest`` days among the last ``of_last`` similar days (non-holiday weekdays
    without events), ranked by their energy in the event's hours. "High 3 of 10" is the
    method of several US utilities' programmes (e.g. NYISO, PJM's economic DR)."""

    highest: int = Field(3, ge=1, le=30, description="How many of the candidate days are averaged.")
    of_last: int = Field(10, ge=1, le=60, description="How many recent similar days are candidates.")

    @model_validator(mode="after")
    def _check(self) -> BaselineMethod:
        if self.highest > self.of_last:
            raise problems([(("highest",), f"must be <= of_last ({self.of_last}); got {self.highest}")])
        return self


class PeakTimeRebate(Model):
    """Peak-time rebate: a payment per kWh of load below the customer's baseline in event hours."""

    rebate_per_kwh: float = Field(gt=0, description="Rebate per kWh below the baseline. [currency/kWh]")
    events: list[Event] = Field(default_factory=list, description=(
        "Event dates and hours listed in advance (the scenario's `operator` may call more)."))
    baseline: BaselineMethod = Field(default_factory=BaselineMethod, description="Customer baseline method.")
    notice_hours: float = Field(24.0, ge=0, le=168, description=_NOTICE)

    @model_validator(mode="after")
    def _check(self) -> PeakTimeRebate:
        errs = _event_problems(self.events)
        if errs:
            raise problems(errs)
        return self


class EventLimits(Model):
    """Limits an interruptible contract puts on events."""

    max_events_per_year: int | None = Field(None, ge=1, le=366, description="At most this many events per calendar year.")
    max_hours_per_event: float | None = Field(None, gt=0, le=24, description="At most this long. [h]")
    months: list[Annotated[int, Field(ge=1, le=12)]] | None = Field(None, description="Months events may fall in.")


class Interruptible(Model):
    """Interruptible contract: credits for load the customer lets the utility interrupt, and a
    penalty for load above the firm level when an event is called.

    The customer's firm service level F (kW) comes from its segment
    (``interruptible.firm_kw_per_mean_kw``); its interruptible kW in a month is
    max(0, the month's maximum demand - F).
    """

    credit_per_kw_month: float = Field(0.0, ge=0, description="Credit per interruptible kW per month. [currency/kW-month]")
    credit_per_kw_event: float = Field(0.0, ge=0, description="Credit per interruptible kW per event called. [currency/kW]")
    penalty_per_kwh: float = Field(0.0, ge=0, description="Penalty per kWh above the firm level in event steps. [currency/kWh]")
    notice_hours: float = Field(0.0, ge=0, le=72, description=(
        "Notice the utility gives before an event [h]; recorded with the contract (listed events are known in advance)."))
    limits: EventLimits = Field(default_factory=EventLimits)
    events: list[Event] = Field(default_factory=list, description="Events called (listed).")

    @model_validator(mode="after")
    def _check(self) -> Interruptible:
        errs = _event_problems(self.events)
        lim = self.limits
        per_year: dict[int, int] = {}
        for i, ev in enumerate(self.events):
            per_year[ev.date.year] = per_year.get(ev.date.year, 0) + 1
            try:
                hours = event_hours(ev)
            except ValueError:
                hours = 0.0  # reported by _event_problems
            if lim.max_hours_per_event is not None and hours > lim.max_hours_per_event:
                errs.append((("events", i, "hours"), f"{hours:g} h exceeds limits.max_hours_per_event "
                                                     f"({lim.max_hours_per_event:g})"))
            if lim.months is not None and ev.date.month not in lim.months:
                errs.append((("events", i, "date"), f"{ev.date} is outside limits.months {lim.months}"))
        for year, count in per_year.items():
            if lim.max_events_per_year is not None and count > lim.max_events_per_year:
                errs.append((("events",), f"{count} events in {year} exceed limits.max_events_per_year "
                                          f"({lim.max_events_per_year})"))
        if errs:
            raise problems(errs)
        return self


class LoadFactorBand(Model):
    """An energy price adjustment for months whose load factor lies in [min, max)."""

    min: float = Field(0.0, ge=0, le=1, description="Lower bound of the monthly load factor (inclusive).")
    max: float = Field(1.0, gt=0, le=1.000001, description="Upper bound (exclusive; 1 includes 1).")
    adder_per_kwh: float = Field(description="Added to the month's every kWh (negative: a credit). [currency/kWh]")


class StorageRate(Model):
    """Energy rate of a separately metered storage load: one price, or TOU periods."""

    price_per_kwh: float | None = Field(None, ge=0, description="One price for every step. [currency/kWh]")
    periods: dict[str, Annotated[float, Field(ge=0)]] | None = Field(None, description=(
        "TOU: period name -> price [currency/kWh]; needs schedule."))
    seasons: dict[str, Season] = Field(default_factory=_all_year)
    schedule: list[ScheduleRule] | None = None
    holidays_as: Literal["weekday", "weekend"] = "weekend"

    @model_validator(mode="after")
    def _check(self) -> StorageRate:
        if (self.price_per_kwh is None) == (self.periods is None):
            raise problems([((), "give either price_per_kwh or periods with a schedule")])
        if self.periods is not None:
            if not self.schedule:
                raise problems([(("schedule",), "TOU storage prices need a schedule")])
            sched = Scheduled(seasons=self.seasons, schedule=self.schedule, holidays_as=self.holidays_as)
            errs = sched.schedule_problems(list(self.periods))
            if errs:
                raise problems(errs)
        return self

    def as_schedule(self) -> Scheduled:
        return Scheduled(seasons=self.seasons, schedule=self.schedule, holidays_as=self.holidays_as)


class TrueUp(Model):
    """The settlement of export credits once a year, in the bill of ``month``: kWh credits
    left are paid at ``price_per_kwh`` (a net-surplus compensation rate; 0 forfeits them),
    money credits left are paid in full unless ``forfeit``. Nothing is carried past it."""

    month: int = Field(12, ge=1, le=12, description="Calendar month whose bill settles the credits (1-12).")
    price_per_kwh: float = Field(0.0, ge=0, description=(
        "Price paid for each kWh credit left at the true-up (e.g. a net-surplus compensation rate); "
        "0 forfeits them. [currency/kWh]"))
    forfeit: bool = Field(False, description="Money credits left at the true-up are forfeited instead of paid.")


class ExportSchedule(_PeriodSchedule):
    """An export price of its own by period, hour, day type and season."""

    periods: dict[str, Annotated[float, Field(ge=0)]] = Field(min_length=1, description=(
        "Export period name -> price. [currency/kWh]"))


class PeriodPrices(Model):
    """An export price per energy period of the tariff itself."""

    periods: dict[str, Annotated[float, Field(ge=0)]] = Field(min_length=1, description=(
        "The tariff's period name -> export price; every period of the tariff needs one. [currency/kWh]"))


def _price_shape(v) -> str:
    """Which form of export price: a number, a keyword, the tariff's periods, its own schedule, a CSV series."""
    if isinstance(v, str):
        return "keyword"
    if isinstance(v, dict):
        return "series" if "csv" in v else "schedule" if "schedule" in v else "periods"
    return shape_of(v)


ExportPrice = Annotated[Union[
    Annotated[Annotated[float, Field(ge=0)], Tag("value")],
    Annotated[Literal["retail", "avoided_cost"], Tag("keyword")],
    Annotated[PeriodPrices, Tag("periods")],
    Annotated[ExportSchedule, Tag("schedule")],
    Annotated[CsvSeries, Tag("series")]], Discriminator(_price_shape)]


class Export(Model):
    """What a customer's exports (steps where its net load is negative) earn, and what netting
    cannot offset. docs/tariffs.md 5.17 gives the rules and their NREL SAM equivalents.

    ``rule: net_metering`` nets each billing month's energy per energy period; a period's
    surplus becomes a credit carried to later months (in kWh, or in money at ``price``) and
    settled at the ``true_up``. ``rule: net_billing`` bills each step's import at the tariff's
    prices and pays each step's export at ``price``; with ``carry_credits`` credits beyond the
    month's energy charge are carried to later months and settled at the true-up, otherwise
    the month's energy charge may go below zero.
    """

    rule: Literal["net_metering", "net_billing"] = Field(description="net_metering or net_billing.")
    credits: Literal["kwh", "money"] = Field("kwh", description=(
        "net_metering: a period's monthly surplus is carried as kWh (offsetting the same period's energy in later "
        "months) or as money at `price`."))
    carry_credits: bool = Field(False, description=(
        "net_billing: export credits beyond the month's energy charge are carried to later months (settled at the "
        "true-up) instead of taking the month's energy charge below zero."))
    price: ExportPrice | None = Field(None, description=(
        "Export price [currency/kWh]: a number; `retail` (the first-tier energy price of the step, real-time and "
        "critical-peak prices included); `avoided_cost` (the run's energy cost per step); {periods: {...}} by the "
        "tariff's own periods; a schedule of its own (periods, seasons, schedule); or a CSV series {csv: ...}. "
        "Needed by net_billing and by money credits."))
    true_up: TrueUp = Field(default_factory=TrueUp, description="The yearly settlement of credits left.")
    limit_kw: float | None = Field(None, gt=0, description=(
        "Largest export credited in a step; the part above it earns nothing (curtailed). [kW]"))
    non_bypassable_per_kwh: float = Field(0.0, ge=0, description=(
        "Charge on every kWh imported (gross, step by step), which no netting or credit offsets. [currency/kWh]"))
    minimum_per_month: float | None = Field(None, ge=0, description=(
        "Minimum bill of a customer with exports or credits in the month, in place of the tariff's "
        "minimum_per_month. [currency]"))

    @model_validator(mode="after")
    def _check(self) -> Export:
        errs: list[tuple[Loc, str]] = []
        if self.rule == "net_billing" and self.price is None:
            errs.append((("price",), "net_billing needs an export price"))
        if self.rule == "net_metering" and self.credits == "money" and self.price is None:
            errs.append((("price",), "money credits need an export price (e.g. `retail`)"))
        if self.rule == "net_metering" and self.credits == "kwh" and self.price is not None:
            errs.append((("price",), "kWh credits have no export price (they offset later kWh; the true-up "
                                     "pays what is left at true_up.price_per_kwh)"))
        if self.rule == "net_metering" and self.carry_credits:
            errs.append((("carry_credits",), "net_metering always carries its credits; carry_credits is for "
                                             "net_billing"))
        if self.rule == "net_billing" and self.credits != "kwh":
            errs.append((("credits",), "net_billing credits are money; `credits` is for net_metering"))
        if self.rule == "net_metering" and self.credits == "money" and not isinstance(
                self.price, (float, int, PeriodPrices)) and self.price != "retail":
            errs.append((("price",), "money credits value a period's monthly surplus: give a number, `retail` or "
                                     "{periods: ...} (not a series or a schedule of its own)"))
        if errs:
            raise problems(errs)
        return self


# --------------------------------------------------------------------------- tariffs


class _TariffBase(Model):
    description: str = Field("", description="Free text shown in reports.")
    currency: str | None = Field(None, pattern=CURRENCY_PATTERN, description=(
        "ISO 4217 code of this tariff's prices (drsim tariff import-urdb writes USD); it must be the scenario's "
        "currency, which a scenario naming none takes from its tariffs when they all name the same. Default: the "
        "scenario's."))
    fixed_per_month: float = Field(0.0, ge=0, description="Fixed charge per customer per month. [currency]")
    fixed_per_day: float = Field(0.0, ge=0, description="Fixed charge per customer per day. [currency]")
    minimum_per_month: float = Field(0.0, ge=0, description=(
        "Minimum bill per month before tax; the shortfall is billed as the 'minimum' charge. [currency]"))
    tax_pct: float = Field(0.0, ge=0, le=100, description="Tax on the whole bill. [%]")
    tiers: Tiers | None = Field(None, description="Inclining or declining blocks on energy.")
    volume_rebate: VolumeRebate | None = None
    demand: Demand | None = Field(None, description="Demand charges.")
    capacity: Capacity | None = Field(None, description="Capacity (basic) charge per contracted kVA.")
    critical_peak: CriticalPeak | None = Field(None, description="Critical-peak events and prices.")
    load_factor: list[LoadFactorBand] | None = Field(None, description="Energy price adjustments by monthly load factor.")
    peak_time_rebate: PeakTimeRebate | None = Field(None, description="Peak-time rebate events.")
    interruptible: Interruptible | None = Field(None, description="Interruptible contract.")
    storage_rate: StorageRate | None = Field(None, description=(
        "Rate of a separately metered thermal-storage load (heat or cold storage); without it a "
        "segment's storage load is billed on the main meter."))
    export: Export | None = Field(None, description=(
        "What exports earn (net metering or net billing), export limit, non-bypassable charges, minimum bill "
        "(docs/tariffs.md 5.17). Without it a negative net load is netted at the energy prices within each "
        "period and month."))

    def _price_problems(self, prices: dict[str, float | list[float]]) -> list[tuple[Loc, str]]:
        errs: list[tuple[Loc, str]] = []
        k = self.tiers.n_tiers if self.tiers else 1
        for where, price in prices.items():
            loc = tuple(where.split("."))
            values = price if isinstance(price, list) else [price]
            if any(v < 0 for v in values):
                errs.append((loc, f"must be >= 0; got {price}"))
            if isinstance(price, list) and len(price) != k:
                errs.append((loc, f"one price per tier: needs {k}; got {len(price)}"))
        errs += self._export_problems()
        if self.load_factor:
            for i, band in enumerate(self.load_factor):
                if band.min >= band.max:
                    errs.append((("load_factor", i), f"min ({band.min}) must be below max ({band.max})"))
            bands = sorted(self.load_factor, key=lambda b: b.min)
            for a, b in zip(bands, bands[1:]):
                if b.min < a.max:
                    errs.append((("load_factor",), f"bands [{a.min}, {a.max}) and [{b.min}, {b.max}) overlap"))
        return errs


    def _export_problems(self) -> list[tuple[Loc, str]]:
        """An export price by the tariff's periods names each of them, and only them."""
        ex = self.export
        if ex is None or not isinstance(ex.price, PeriodPrices):
            return []
        own = list(self.periods) if isinstance(self, TouTariff) else ["all"]
        errs: list[tuple[Loc, str]] = []
        for p in ex.price.periods:
            if p not in own:
                errs.append((("export", "price", "periods", p), f"unknown period {p!r} (the tariff's: {', '.join(own)})"))
        missing = [p for p in own if p not in ex.price.periods]
        if missing:
            errs.append((("export", "price", "periods"), f"needs a price for every period of the tariff; missing "
                                                         f"{', '.join(missing)}"))
        return errs


class FlatTariff(_TariffBase):
    """One energy price in every step (per tier if tiered), with optional components."""

    type: Literal["flat"]
    price_per_kwh: TierPrice = Field(description="Energy price [currency/kWh]; a list gives one per tier.")

    @model_validator(mode="after")
    def _check(self) -> FlatTariff:
        errs = self._price_problems({"price_per_kwh": self.price_per_kwh})
        if errs:
            raise problems(errs)
        return self


class TouTariff(_TariffBase, Scheduled):
    """Time-of-use energy prices: named periods by hour, day type and season."""

    type: Literal["tou"]
    periods: dict[str, Period] = Field(min_length=1, description="Period name -> price.")
    season_multipliers: dict[str, Annotated[float, Field(gt=0)]] | None = Field(None, description=(
        "Season name -> factor on every energy price in that season (e.g. hydro wet 0.9, dry 1.1)."))

    @model_validator(mode="after")
    def _check(self) -> TouTariff:
        errs = self.schedule_problems(list(self.periods))
        errs += self._price_problems({f"periods.{n}.price_per_kwh": p.price_per_kwh for n, p in self.periods.items()})
        for s in self.season_multipliers or {}:
            if s not in self.seasons:
                errs.append((("season_multipliers", s), f"unknown season {s!r} (valid: {', '.join(self.seasons)})"))
        if errs:
            raise problems(errs)
        return self


class RtpTariff(_TariffBase):
    """Real-time pricing: a price per step from a series, times a multiplier plus an adder."""

    type: Literal["rtp"]
    prices: Annotated[Union[Annotated[Literal["system_marginal_cost"], Tag("value")], Annotated[CsvSeries, Tag("mapping")]],
                      Discriminator(shape_of)] = Field(description=(
        "A price series {csv: ...} [currency/kWh], or 'system_marginal_cost': each step's price formed "
        "from the scenario's own system load on the grid's merit-order curve (a fixed point per day)."))
    damping: float = Field(0.5, gt=0, le=1, description="System prices: weight of the new price in each iteration.")
    tolerance_per_kwh: float = Field(1e-6, gt=0, description=(
        "System prices: stop when the marginal cost moves no more than this in any step. [currency/kWh]"))
    max_iterations: int = Field(50, ge=2, le=1000, description="System prices: iterations at most per day.")
    multiplier: float = Field(1.0, ge=0, description="Factor on the series.")
    adder_per_kwh: float = Field(0.0, description="Added after the multiplier. [currency/kWh]")
    floor_per_kwh: float | None = Field(None, description="Lowest price billed, if any. [currency/kWh]")

    @model_validator(mode="after")
    def _check(self) -> RtpTariff:
        errs = self._price_problems({})
        if self.tiers is not None:
            errs.append((("tiers",), "tiers do not combine with real-time prices"))
        if self.export is not None and self.export.rule == "net_metering":
            errs.append((("export", "rule"), "real-time prices net step by step: without an export section an "
                                             "export earns the step's price; for another price use net_billing"))
        if errs:
            raise problems(errs)
        return self


Tariff = Annotated[Union[FlatTariff, TouTariff, RtpTariff], Field(discriminator="type")]


def tariff_boundaries(tariff) -> set[int]:
    """Minutes of the day where any of a tariff's TOU or event periods start or end."""
    out: set[int] = set()
    if isinstance(tariff, TouTariff):
        out |= tariff.boundaries_minutes()
    if tariff.demand is not None and tariff.demand.tou is not None:
        out |= tariff.demand.tou.boundaries_minutes()
    for part in (tariff.critical_peak, tariff.peak_time_rebate, tariff.interruptible):
        if part is not None:
            for ev in part.events:
                a, b = parse_hour_range(ev.hours)
                out |= {a % 1440, b % 1440}
    if tariff.storage_rate is not None and tariff.storage_rate.schedule:
        out |= tariff.storage_rate.as_schedule().boundaries_minutes()
    if tariff.export is not None and isinstance(tariff.export.price, ExportSchedule):
        out |= tariff.export.price.boundaries_minutes()
    return out
