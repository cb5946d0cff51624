"""A run's weather: the scenario's hourly outdoor temperature read onto its calendar.

Two sources (``weather:`` in a scenario, :class:`sim.scenario.weather.Weather`): a TMY3
typical-year file, read with pvlib's reader (:func:`pvlib.iotools.read_tmy3`; pvlib ships
sample files, so the documented default works offline), or an hourly CSV file read with the
same rules as every other series (:func:`sim.series.read_series`). Every problem names the
file, the line where there is one, and the field; the run reads its weather before any
customer is simulated.

Mapping a typical year onto the calendar: a TMY3 file holds 8760 hours, 1 January to
31 December of a non-leap year, in local standard time, each row the hour *ending* at its
time stamp. Day ``d`` of the horizon takes the file's day with the same month and day
(29 February takes 28 February), and the step starting at hour ``h`` takes the row
ending at ``h + 1``: the same calendar day and hour whatever the horizon's year. Sub-hourly
steps take their hour's value. No daylight-saving shift is applied (the calendar has none).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .calendar import Calendar
from .errors import InputError, Problem
from .scenario.base import CsvSeries
from .scenario.weather import Weather
from .series import read_series

__all__ = ["DayWeather", "RunWeather", "read_weather", "weather_of"]

#: Plausible outdoor dry-bulb temperatures, a guard against wrong units or missing-value
#: codes (the lowest and highest ever measured lie within). [degC]
TEMP_RANGE_C = (-90.0, 60.0)

#: First day-of-year index of each month in a non-leap year.
_MONTH_START = np.cumsum([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30])


@dataclass(frozen=True)
class RunWeather:
    """The run's outdoor temperature on its calendar.

    Attributes
    ----------
    temp_c : ndarray, shape (days, steps_per_day)
        Dry-bulb temperature in each step. [degC]
    source : str
        The file it was read from.
    """

    temp_c: np.ndarray
    source: str


@dataclass(frozen=True)
class DayWeather:
    """One day's weather as response models see it (``ResponseDay.weather``).

    Attributes
    ----------
    temp_c : ndarray, shape (spd,)
        Outdoor temperature. [degC]
    cooling, heating : ndarray, shape (spd,)
        The segment's temperature-dependent cooling and heating load per kW of a customer's
        mean load (docs/profiles.md, "Temperature-dependent load"). [kW/kW]
    """

    temp_c: np.ndarray
    cooling: np.ndarray
    heating: np.ndarray


def _tmy3_day_index(cal: Calendar) -> np.ndarray:
    """Each horizon day's day of a non-leap typical year (29 February -> 28 February)."""
    dates = [cal.start + dt.timedelta(days=k) for k in range(cal.days)]
    return np.array([_MONTH_START[d.month - 1] + min(d.day, 28 if d.month == 2 else 31) - 1 for d in dates])


def _read_tmy3(spec: Weather, cal: Calendar) -> np.ndarray:
    """Hourly temperature of the horizon (days, 24) from a TMY3 file."""
    import pvlib  # the TMY3 reader

    path = spec.path()
    label = str(spec.tmy3 if spec.tmy3.startswith("pvlib:") else path)
    try:
        data, _ = pvlib.iotools.read_tmy3(str(path), map_variables=True)
    except Exception as e:  # pvlib raises on a malformed header or row; report it as bad input
        raise InputError(Problem(label, None, "", f"not a readable TMY3 file: {type(e).__name__}: {e}")) from None
    if len(data) != 8760:
        raise InputError(Problem(label, None, "", f"a TMY3 year has 8760 hourly rows; this file has {len(data)}"))
    if "temp_air" not in data:
        raise InputError(Problem(label, 2, "Dry-bulb (C)", "no dry-bulb temperature column"))
    temp = data["temp_air"].to_numpy(dtype=float)
    # the file's own date and time columns (the index moves hour 24:00 to the next day)
    try:
        date = data["Date (MM/DD/YYYY)"].astype(str).str.split("/", expand=True).astype(int).to_numpy()
        hour = data["Time (HH:MM)"].astype(str).str.split(":", expand=True)[0].astype(int).to_numpy()
    except (KeyError, ValueError) as e:
        raise InputError(Problem(label, None, "Date (MM/DD/YYYY)", f"unreadable dates or times: {e}")) from None
    got = _MONTH_START[np.clip(date[:, 0], 1, 12) - 1] + date[:, 1] - 1
    bad = np.flatnonzero((got != np.repeat(np.arange(365), 24)) | (hour != np.tile(np.arange(1, 25), 365)))
    if bad.size:
        k = int(bad[0])
        raise InputError(Problem(label, k + 3, "Date (MM/DD/YYYY)",
                                 f"rows must run hour by hour from 01/01 01:00 to 12/31 24:00; row {k + 1} is "
                                 f"{date[k, 0]:02d}/{date[k, 1]:02d} {hour[k]:02d}:00"))
    _check_range(temp, label, lambda k: k + 3, "Dry-bulb (C)")
    return temp.reshape(365, 24)[_tmy3_day_index(cal)]


def _read_csv(spec: Weather, cal: Calendar) -> np.ndarray:
    """Hourly temperature of the horizon (days, 24) from an hourly CSV file."""
    hourly = Calendar(cal.start, cal.days, 24, frozenset(), {})
    temp = read_series(CsvSeries.model_construct(csv=spec.csv, column=spec.temperature_column), hourly)
    _check_range(temp, str(spec.csv), lambda k: None, str(spec.temperature_column),
                 when=lambda k: str(hourly.timestamps[k]).replace("T", " "))
    return temp.reshape(cal.days, 24)


def _check_range(temp: np.ndarray, label: str, line, field: str, when=None) -> None:
    lo, hi = TEMP_RANGE_C
    bad = np.flatnonzero(~np.isfinite(temp) | (temp < lo) | (temp > hi))
    if bad.size:
        k = int(bad[0])
        at = f" at {when(k)}" if when is not None else ""
        raise InputError(Problem(label, line(k), field, f"temperature {temp[k]:g} degC{at} lies outside "
                                                        f"[{lo:g}, {hi:g}] (wrong unit or a missing-value code?)"))


def read_weather(spec: Weather, cal: Calendar) -> RunWeather:
    """The scenario's weather on the calendar: temperature per step (days, steps_per_day)."""
    hourly = _read_tmy3(spec, cal) if spec.tmy3 is not None else _read_csv(spec, cal)
    per = cal.steps_per_day // 24
    return RunWeather(np.repeat(hourly, per, axis=1) if per > 1 else hourly, str(spec.path()))


@lru_cache(maxsize=4)
def _cached(spec: Weather, modified_ns: int, start, days: int, spd: int) -> RunWeather:
    return read_weather(spec, Calendar(start, days, spd, frozenset(), {}))


def weather_of(scenario, cal: Calendar) -> RunWeather | None:
    """The run's weather (None without ``weather:``), read once per process, calendar and
    version of the file (a file changed on disk is read again)."""
    if scenario.weather is None:
        return None
    w = scenario.weather
    return _cached(w, w.path().stat().st_mtime_ns, cal.start, cal.days, cal.steps_per_day)
