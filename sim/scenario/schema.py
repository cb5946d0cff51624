"""The scenario file format: pydantic models that validate a scenario, field by field.

Every model is frozen and forbids unknown keys. Checks that involve several fields
(TOU hours that overlap or leave gaps, tariff names that do not exist, ...) collect all
their problems and raise them together as one :class:`Problems` error whose context
carries a sub-path for each problem, so that the loader can point at the exact line.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationInfo, field_validator,
                      model_validator)
from pydantic_core import PydanticCustomError

SCHEMA_VERSION = 1

#: Largest number of customers in one segment, and in a whole scenario. Beyond this a run
#: would need tens of GiB for per-customer state; larger studies belong on a cluster.
MAX_CUSTOMERS = 20_000_000

#: Longest horizon, in days (ten years).
MAX_DAYS = 3660

#: Day types a tariff schedule can name.
DAY_TYPES = ("weekday", "weekend", "holiday")

CUSTOMER_CLASSES = ("residential", "commercial", "industrial")


def problems(items: list[tuple[tuple[str | int, ...], str]]) -> PydanticCustomError:
    """One validation error that carries several (sub-path, message) problems."""
    text = "; ".join(f"{'.'.join(map(str, p)) or '.'}: {m}" for p, m in items)
    return PydanticCustomError("drsim_problems", "{text}", {"text": text, "problems": items})


class Model(BaseModel):
    """Base of every scenario model: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- parameters


class Normal(Model):
    """Normal distribution across customers, optionally truncated to [min, max]."""

    dist: Literal["normal"]
    mean: float = Field(description="Mean of the untruncated normal.")
    sd: float = Field(ge=0, description="Standard deviation of the untruncated normal.")
    min: float | None = Field(None, description="Lower truncation bound (optional).")
    max: float | None = Field(None, description="Upper truncation bound (optional).")

    @model_validator(mode="after")
    def _bounds(self) -> Normal:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise problems([(("max",), f"must be > min ({self.min}); got {self.max}")])
        return self


class LogNormal(Model):
    """Log-normal distribution given by its mean and coefficient of variation."""

    dist: Literal["lognormal"]
    mean: float = Field(gt=0, description="Mean of the distribution (not of its log).")
    cv: float = Field(ge=0, le=10, description="Coefficient of variation, sd / mean.")


class Uniform(Model):
    """Uniform distribution on [low, high]."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if self.low > self.high:
            raise problems([(("high",), f"must be >= low ({self.low}); got {self.high}")])
        return self


class Triangular(Model):
    """Triangular distribution on [low, high] with its mode."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise problems([(("mode",), f"need low <= mode <= high and low < high; got "
                                        f"{self.low}, {self.mode}, {self.high}")])
        return self


Distribution = Annotated[Union[Normal, LogNormal, Uniform, Triangular], Field(discriminator="dist")]

def _scalar_or_mapping(v: Any) -> str:
    """Pick the branch of a value-or-object field by the input's shape (one error, not two)."""
    return "mapping" if isinstance(v, (dict, BaseModel)) else "value"


#: A behaviour or size parameter: one value for every customer, or a distribution.
Param = Annotated[Union[Annotated[float, Tag("value")], Annotated[Distribution, Tag("mapping")]],
                  Discriminator(_scalar_or_mapping)]


def param_bounds(param: Param) -> tuple[float, float]:
    """Smallest and largest value a parameter can take."""
    if isinstance(param, (int, float)):
        return float(param), float(param)
    if isinstance(param, Normal):
        return (-math.inf if param.min is None else param.min,
                math.inf if param.max is None else param.max)
    if isinstance(param, LogNormal):
        return (0.0, math.inf) if param.cv > 0 else (param.mean, param.mean)
    return param.low, param.high


# --------------------------------------------------------------------------- horizon, calendar


class Horizon(Model):
    """The simulated period: start date, number of days, step length."""

    start: dt.date = Field(description="First simulated day (ISO date, e.g. 2025-01-01).")
    days: int = Field(gt=0, le=MAX_DAYS, description="Number of simulated days.")
    step_minutes: Literal[15, 30, 60] = Field(60, description="Step length in minutes.")

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

    @model_validator(mode="after")
    def _known(self) -> Holidays:
        import holidays

        if self.country is None:
            if self.subdivision is not None:
                raise problems([(("subdivision",), "needs a country")])
            return self
        supported = holidays.list_supported_countries()
        if self.country not in supported:
            raise problems([(("country",), f"unknown holiday country {self.country!r} "
                                           "(use an ISO 3166 code the `holidays` package knows, e.g. CN, US, DE)")])
        if self.subdivision is not None and self.subdivision not in supported[self.country]:
            subs = ", ".join(supported[self.country][:20])
            raise problems([(("subdivision",), f"unknown subdivision {self.subdivision!r} of {self.country} "
                                               f"(valid: {subs}{', ...' if len(supported[self.country]) > 20 else ''})")])
        return self


class Calendar(Model):
    """Calendar of the horizon: which days are holidays."""

    holidays: Holidays = Field(default_factory=Holidays)


# --------------------------------------------------------------------------- tariffs

_HHMM = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?\s*$")


def parse_hour_range(text: str) -> tuple[int, int]:
    """Parse ``"HH[:MM]-HH[:MM]"`` into minutes of the day ``(start, end)``.

    ``end`` may be earlier than ``start`` (the range wraps over midnight); ``"00-24"`` is the
    whole day. Raises ValueError with a readable message.
    """
    m = _HHMM.match(str(text))
    if not m:
        raise ValueError(f"hour range must look like '08:00-12:00' or '22-08'; got {text!r}")
    h1, m1, h2, m2 = (int(g) if g else 0 for g in m.groups())
    if not (0 <= h1 <= 24 and 0 <= h2 <= 24 and m1 < 60 and m2 < 60) or (h1 == 24 and m1) or (h2 == 24 and m2):
        raise ValueError(f"hours must be within 00:00-24:00; got {text!r}")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start % 15 or end % 15:
        raise ValueError(f"range boundaries must fall on a quarter hour; got {text!r}")
    if start % 1440 == end % 1440 and not (start == 0 and end == 1440):
        raise ValueError(f"empty hour range {text!r}")
    return start, end


def range_quarters(start: int, end: int) -> list[int]:
    """Quarter-hour indices (0..95) covered by a range of minutes, wrapping midnight."""
    s, e = start // 15, end // 15
    if e > s:
        return list(range(s, e))
    return list(range(s, 96)) + list(range(0, e))


class Period(Model):
    """One named TOU period (e.g. peak) and its energy price."""

    price_per_kwh: float = Field(ge=0, description="Energy price in this period. [currency/kWh]")


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


class _TariffBase(Model):
    description: str = Field("", description="Free text shown in reports.")
    fixed_per_month: float = Field(0.0, ge=0, description="Fixed charge per customer per month. [currency]")


class FlatTariff(_TariffBase):
    """One energy price in every step, plus an optional fixed monthly charge."""

    type: Literal["flat"]
    price_per_kwh: float = Field(ge=0, description="Energy price. [currency/kWh]")


class TouTariff(_TariffBase):
    """Time-of-use energy prices: named periods, by hour, day type and season."""

    type: Literal["tou"]
    periods: dict[str, Period] = Field(min_length=1, description="Period name -> price.")
    seasons: dict[str, Season] = Field(
        default_factory=lambda: {"all_year": Season(months=list(range(1, 13)))},
        description="Season name -> months. Every month must be in exactly one season.")
    schedule: list[ScheduleRule] = Field(min_length=1, description="Which period applies when.")
    holidays_as: Literal["weekday", "weekend"] = Field(
        "weekend", description="Day type used on holidays that no schedule rule covers.")

    @model_validator(mode="after")
    def _check(self) -> TouTariff:
        errs: list[tuple[tuple[str | int, ...], str]] = []
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
                if period not in self.periods:
                    errs.append((("schedule", i, "hours", period),
                                 f"unknown period {period!r} (valid: {', '.join(self.periods)})"))
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
            if gaps and cover:
                errs.append((("schedule", i, "hours"), f"hours {_quarters_text(gaps)} are in no period"))
        for s in self.seasons:
            for d in ("weekday", "weekend"):
                if (s, d) not in seen:
                    errs.append((("schedule",), f"no rule covers season {s!r} {d}s"))
        if errs:
            raise problems(errs)
        return self

    def boundaries_minutes(self) -> set[int]:
        """Minutes of the day at which some period starts or ends."""
        out: set[int] = set()
        for rule in self.schedule:
            for ranges in rule.hours.values():
                for text in ranges:
                    a, b = parse_hour_range(text)
                    out.update((a % 1440, b % 1440))
        return out


def _quarters_text(qs: list[int]) -> str:
    """Readable list of quarter-hour runs, e.g. '08:00-10:00, 12:00-12:30'."""
    runs, start = [], qs[0]
    for a, b in zip(qs, qs[1:] + [None]):
        if b != a + 1:
            runs.append(f"{start // 4:02d}:{start % 4 * 15:02d}-{(a + 1) // 4:02d}:{(a + 1) % 4 * 15:02d}")
            start = b
    return ", ".join(runs)


Tariff = Annotated[Union[FlatTariff, TouTariff], Field(discriminator="type")]


# --------------------------------------------------------------------------- populations


def _existing_file(v: Path, info: ValidationInfo) -> Path:
    """Resolve a path relative to the scenario file's folder; it must be a file."""
    base = (info.context or {}).get("base_dir")
    path = v if v.is_absolute() or base is None else Path(base) / v
    if not path.is_file():
        raise PydanticCustomError("drsim_file", "file not found: {path}", {"path": str(path)})
    return path


class CsvProfile(Model):
    """Measured load per customer from a CSV file (see docs/scenario.md for the layout)."""

    csv: Path = Field(description="CSV path, relative to the scenario file.")

    _exists = field_validator("csv")(_existing_file)


class Variation(Model):
    """Per-customer variation around the segment's base load shape."""

    shift_sd_hours: float = Field(0.75, ge=0, le=6, description=(
        "Standard deviation of each customer's time shift of the daily shape. [h]"))
    daily_sd: float = Field(0.10, ge=0, le=1, description=(
        "Standard deviation of each customer's day-to-day level factor (log-normal, mean 1)."))


class ConstantElasticity(Model):
    """Constant own-price elasticity: load scales as (scenario price / baseline price) ** e."""

    model: Literal["constant_elasticity"]
    elasticity: Param = Field(description="Own-price elasticity per customer (<= 0).")

    @field_validator("elasticity")
    @classmethod
    def _nonpositive(cls, v: Param) -> Param:
        lo, hi = param_bounds(v)
        if hi > 0:
            raise PydanticCustomError(
                "drsim_bound", "elasticity must be <= 0 for every customer; this one can reach {hi}",
                {"hi": hi})
        if lo < -5:
            raise PydanticCustomError(
                "drsim_bound", "elasticity must be >= -5 for every customer (set max/min on a normal); "
                "this one can reach {lo}", {"lo": lo})
        return v


Behavior = Annotated[Union[ConstantElasticity], Field(discriminator="model")]


class SegmentTariffs(Model):
    """Which tariff a segment is on in the baseline and in the scenario."""

    baseline: str = Field(description="Name of a tariff under `tariffs`.")
    scenario: str = Field(description="Name of a tariff under `tariffs`.")


class Segment(Model):
    """One customer segment: class, size, base load, behaviour, tariffs."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", description="Segment name (letters, digits, _ -).")
    customer_class: Literal["residential", "commercial", "industrial"]
    count: int | None = Field(None, gt=0, le=MAX_CUSTOMERS, description=(
        "Number of customers. Required for built-in profiles; for a CSV profile defaults to its columns."))
    profile: Annotated[Union[Annotated[Literal["builtin"], Tag("value")], Annotated[CsvProfile, Tag("mapping")]],
                       Discriminator(_scalar_or_mapping)] = Field("builtin", description=(
        "'builtin' (the class's built-in shape) or {csv: path} (measured load per customer)."))
    annual_kwh: Param | None = Field(None, description=(
        "Annual energy per customer for built-in profiles (value or distribution). [kWh/year]"))
    variation: Variation = Field(default_factory=Variation)
    behavior: Behavior
    tariff: SegmentTariffs

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
            errs.append((("annual_kwh",), "not used with a CSV profile (the measured load is kept as is)"))
        if errs:
            raise problems(errs)
        return self


# --------------------------------------------------------------------------- grid


class CsvSeries(Model):
    """A per-step series from a CSV file: one value per step of the horizon."""

    csv: Path = Field(description="CSV path, relative to the scenario file.")
    column: str | int = Field(-1, description="Column name, or index (default: the last column).")

    _exists = field_validator("csv")(_existing_file)


class Grid(Model):
    """Supply side: cost of energy and of capacity."""

    energy_cost_per_kwh: Annotated[Union[Annotated[float, Tag("value")], Annotated[CsvSeries, Tag("mapping")]],
                                   Discriminator(_scalar_or_mapping)] = Field(
        0.0, description="Cost of energy at the customer meter, flat or a per-step CSV. [currency/kWh]")
    capacity_cost_per_kw_year: float = Field(
        0.0, ge=0, description="Cost of capacity per kW of system peak per year. [currency/kW-year]")

    @field_validator("energy_cost_per_kwh")
    @classmethod
    def _nonneg(cls, v):
        if isinstance(v, float) and v < 0:
            raise PydanticCustomError("drsim_bound", "must be >= 0, got {v}", {"v": v})
        return v


# --------------------------------------------------------------------------- scenario


class Scenario(Model):
    """A complete tariff scenario."""

    schema_version: Literal[1] = Field(SCHEMA_VERSION, description="Version of this file format.")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", description="Scenario name (used in result paths).")
    description: str = ""
    seed: int = Field(0, ge=0, lt=2**63, description="Seed of every random draw.")
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code.")
    horizon: Horizon
    calendar: Calendar = Field(default_factory=Calendar)
    populations: list[Segment] = Field(min_length=1)
    tariffs: dict[str, Tariff] = Field(min_length=1)
    grid: Grid = Field(default_factory=Grid)

    @model_validator(mode="after")
    def _cross(self) -> Scenario:
        errs: list[tuple[tuple[str | int, ...], str]] = []
        names: set[str] = set()
        for i, seg in enumerate(self.populations):
            if seg.name in names:
                errs.append((("populations", i, "name"), f"duplicate segment name {seg.name!r}"))
            names.add(seg.name)
        total = sum(seg.count or 0 for seg in self.populations)
        if total > MAX_CUSTOMERS:
            errs.append((("populations",), f"{total} customers in all; at most {MAX_CUSTOMERS} are allowed"))
        for name, tariff in self.tariffs.items():
            if isinstance(tariff, TouTariff):
                bad = sorted(m for m in tariff.boundaries_minutes() if m % self.horizon.step_minutes)
                if bad:
                    errs.append((("tariffs", name, "schedule"),
                                 f"period boundaries at {', '.join(f'{m // 60:02d}:{m % 60:02d}' for m in bad)} "
                                 f"do not fall on {self.horizon.step_minutes}-minute steps"))
        if errs:
            raise problems(errs)
        return self

    def segment(self, name: str) -> Segment:
        for seg in self.populations:
            if seg.name == name:
                return seg
        raise KeyError(name)


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
            name = ref.get(role)
            if isinstance(name, str) and name not in known:
                out.append((("populations", i, "tariff", role),
                            f"unknown tariff {name!r} (defined: {', '.join(sorted(known)) or 'none'})"))
    return out
