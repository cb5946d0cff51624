"""Building blocks of the scenario format: the frozen base model, error collection,
parameters drawn across customers, hour ranges and file references."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

Loc = tuple[str | int, ...]


def problems(items: list[tuple[Loc, str]]) -> PydanticCustomError:
    """One validation error that carries several (sub-path, message) problems."""
    text = "; ".join(f"{'.'.join(map(str, p)) or '.'}: {m}" for p, m in items)
    return PydanticCustomError("drsim_problems", "{text}", {"text": text, "problems": items})


#: Largest magnitude of any number in a scenario (prices, costs, energies, loads, shares,
#: elasticities). Fields with narrower physical bounds declare them; this one keeps every
#: product the simulation forms (price x energy x customers x steps) far from float64's
#: overflow at 1.8e308, so that no run can end in an infinite or NaN figure.
MAX_MAGNITUDE = 1e12


def _too_large(v: Any, loc: Loc = ()) -> list[tuple[Loc, str]]:
    """(sub-path, message) of every float in ``v`` (a value, list or mapping) beyond MAX_MAGNITUDE."""
    if isinstance(v, float):
        return [(loc, f"must lie between -1e12 and 1e12; got {v:g}")] if abs(v) > MAX_MAGNITUDE else []
    if isinstance(v, (list, tuple)):
        return [p for i, x in enumerate(v) for p in _too_large(x, loc + (i,))]
    if isinstance(v, dict):
        return [p for k, x in v.items() for p in _too_large(x, loc + (k,))]
    return []


class Model(BaseModel):
    """Base of every scenario model: frozen, unknown keys rejected, every number finite
    (no NaN or infinity, ``allow_inf_nan=False``) and within +-:data:`MAX_MAGNITUDE`."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _finite_range(cls, v: Any) -> Any:
        bad = _too_large(v)
        if bad:
            raise problems(bad)
        return v


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
    """Log-normal distribution given by its mean and coefficient of variation; a negative
    mean gives the negative of a log-normal (mean ``|mean|``), for quantities written with
    a minus sign such as elasticities. An optional ``cap`` limits the magnitude: a value
    the log-normal puts beyond it is set to it (censored, not redrawn), so the mean falls
    below ``mean`` and a share ``P(|X| > cap)`` of customers sits at the cap."""

    dist: Literal["lognormal"]
    mean: float = Field(description="Mean of the uncapped distribution (not of its log); nonzero, "
                                    "negative for the negative of a log-normal.")
    cv: float = Field(ge=0, le=10, description="Coefficient of variation of the uncapped distribution, "
                                               "sd / |mean|.")
    cap: float | None = Field(None, gt=0, description=(
        "Largest magnitude (optional): values beyond it are set to it (+cap, or -cap for a negative mean)."))

    @model_validator(mode="after")
    def _nonzero(self) -> LogNormal:
        if self.mean == 0:
            raise problems([(("mean",), "must be nonzero (positive, or negative for the negative of a "
                                        "log-normal); got 0")])
        return self


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

def shape_of(v: Any) -> str:
    """Pick the branch of a value-list-or-mapping field by the input's shape (one error, not
    one per branch)."""
    if isinstance(v, (dict, BaseModel)):
        return "mapping"
    return "list" if isinstance(v, (list, tuple)) else "value"


#: A behaviour or size parameter: one value for every customer, or a distribution.
Param = Annotated[Union[Annotated[float, Tag("value")], Annotated[Distribution, Tag("mapping")]],
                  Discriminator(shape_of)]


def param_bounds(param: Param) -> tuple[float, float]:
    """Smallest and largest value a parameter can take."""
    if isinstance(param, (int, float)):
        return float(param), float(param)
    if isinstance(param, Normal):
        return (-math.inf if param.min is None else param.min,
                math.inf if param.max is None else param.max)
    if isinstance(param, LogNormal):
        m = abs(param.mean) if param.cap is None else min(abs(param.mean), param.cap)
        hi = (math.inf if param.cap is None else param.cap) if param.cv > 0 else m
        lo = 0.0 if param.cv > 0 else m
        return (lo, hi) if param.mean > 0 else (-hi, -lo if lo else 0.0)
    return param.low, param.high


# --------------------------------------------------------------------------- hour ranges

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


def quarters_text(qs: list[int]) -> str:
    """Readable list of quarter-hour runs, e.g. '08:00-10:00, 12:00-12:30'."""
    runs, start = [], qs[0]
    for a, b in zip(qs, qs[1:] + [None]):
        if b != a + 1:
            runs.append(f"{start // 4:02d}:{start % 4 * 15:02d}-{(a + 1) // 4:02d}:{(a + 1) % 4 * 15:02d}")
            start = b
    return ", ".join(runs)



# --------------------------------------------------------------------------- files


def existing_file(v: Path, info: ValidationInfo) -> Path:
    """Resolve a path relative to the scenario file's folder; it must be a file."""
    base = (info.context or {}).get("base_dir")
    path = v if v.is_absolute() or base is None else Path(base) / v
    if not path.is_file():
        raise PydanticCustomError("drsim_file", "file not found: {path}", {"path": str(path)})
    return path


class CsvSeries(Model):
    """A per-step series from a CSV file: one value per step of the horizon."""

    csv: Path = Field(description="CSV path, relative to the scenario file.")
    column: str | int = Field(-1, description="Column name, or index (default: the last column).")

    _exists = field_validator("csv")(existing_file)

def within(name: str, lo: float, hi: float):
    """A field validator: every customer's value of a parameter lies in [lo, hi]."""

    def check(cls, v):
        a, b = param_bounds(v)
        if a < lo or b > hi:
            raise PydanticCustomError("drsim_bound", "{name} must lie in [{lo}, {hi}] for every customer; "
                                      "this one spans [{a}, {b}] (truncate a normal with min/max, or give a lognormal a cap)",
                                      {"name": name, "lo": lo, "hi": hi, "a": a, "b": b})
        return v

    return field_validator(name)(classmethod(check))
