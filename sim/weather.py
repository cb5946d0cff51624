"""A run's weather: the scenario's hourly outdoor temperature (and, for rooftop PV, the
irradiance and the site) read onto its calendar.

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

Irradiance (:class:`SunWeather`, what :mod:`sim.solar` turns into PV output): a TMY3 file's
global horizontal, direct normal and diffuse horizontal irradiance, wind speed and its site
(latitude, longitude, altitude, time zone from the file's header), mapped as the
temperature; a CSV file's columns named in the scenario (``ghi_column``, ``dni_column``,
``dhi_column``, optionally ``wind_column``) with the site given in ``weather.site``. Each
value is the hour's mean (TMY3: the hour ending at the row's time; CSV: the hour starting at
it); irradiance must lie in [0, 2000] W/m2 (a missing-value code does not).
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

__all__ = ["DayWeather", "RunWeather", "SunWeather", "read_weather", "weather_of"]

#: Plausible outdoor dry-bulb temperatures, a guard against wrong units or missing-value
#: codes (the lowest and highest ever measured lie within). [degC]
TEMP_RANGE_C = (-90.0, 60.0)

#: Plausible irradiance, a guard against missing-value codes (-9999) and wrong units. [W/m2]
IRRADIANCE_RANGE = (0.0, 2000.0)

#: Wind speed where a CSV names no wind column (cell temperature). [m/s]
DEFAULT_WIND = 1.0

#: First day-of-year index of each month in a non-leap year.
_MONTH_START = np.cumsum([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30])


@dataclass(frozen=True, eq=False)
class SunWeather:
    """The run's hourly irradiance and its site, for PV output (:mod:`sim.solar`).

    Attributes
    ----------
    ghi, dni, dhi : ndarray, shape (days, 24)
        Global horizontal, direct normal and diffuse horizontal irradiance, each hour's mean
        (hour ``h`` of day ``d``: from ``h`` to ``h + 1`` local standard time). [W/m2]
    temp_c, wind_m_s : ndarray, shape (days, 24)
        Dry-bulb temperature [degC] and wind speed [m/s] of each hour.
    latitude, longitude : float
        The site, north and east positive. [deg]
    altitude : float
        [m]
    utc_offset : float
        Hours local standard time is ahead of UTC. [h]
    start : datetime.date
        The horizon's first day (day 0's date).

    Compared and hashed by identity (PV profiles are cached per weather read).
    """

    ghi: np.ndarray
    dni: np.ndarray
    dhi: np.ndarray
    temp_c: np.ndarray
    wind_m_s: np.ndarray
    latitude: float
    longitude: float
    altitude: float
    utc_offset: float
    start: dt.date


@dataclass(frozen=True)
class RunWeather:
    """The run's outdoor temperature on its calendar.

    Attributes
    ----------
    temp_c : ndarray, shape (days, steps_per_day)
        Dry-bulb temperature in each step. [degC]
    source : str
        The file it was read from.
    sun : SunWeather, or None
        Irradiance and site (a TMY3 file; a CSV file with irradiance columns); else None.
    """

    temp_c: np.ndarray
    source: str
    sun: SunWeather | None = None


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


def _read_tmy3(spec: Weather, cal: Calendar) -> tuple[np.ndarray, SunWeather]:
    """Hourly temperature of the horizon (days, 24) from a TMY3 file, and its irradiance."""
    import pvlib  # the TMY3 reader

    path = spec.path()
    label = str(spec.tmy3 if spec.tmy3.startswith("pvlib:") else path)
    try:
        data, meta = pvlib.iotools.read_tmy3(str(path), map_variables=True)
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
    days = _tmy3_day_index(cal)
    hourly = temp.reshape(365, 24)[days]
    cols = {}
    for key, field in (("ghi", "GHI (W/m^2)"), ("dni", "DNI (W/m^2)"), ("dhi", "DHI (W/m^2)")):
        if key not in data:
            raise InputError(Problem(label, 2, field, "no such column"))
        cols[key] = _irradiance(data[key].to_numpy(dtype=float), label, lambda k: k + 3, field).reshape(365, 24)[days]
    wind = data["wind_speed"].to_numpy(dtype=float) if "wind_speed" in data else np.full(8760, DEFAULT_WIND)
    site = {k: float(meta[k]) for k in ("latitude", "longitude", "altitude")}
    return hourly, SunWeather(cols["ghi"], cols["dni"], cols["dhi"], hourly, np.nan_to_num(wind).reshape(365, 24)[days],
                              site["latitude"], site["longitude"], site["altitude"], float(meta["TZ"]), cal.start)


def _irradiance(values: np.ndarray, label: str, line, field: str, when=None) -> np.ndarray:
    """``values`` checked against :data:`IRRADIANCE_RANGE` (a problem names file, line, field)."""
    _in_range(values, IRRADIANCE_RANGE, "irradiance", "W/m2", label, line, field, when)
    return values


def _read_csv(spec: Weather, cal: Calendar) -> tuple[np.ndarray, SunWeather | None]:
    """Hourly temperature of the horizon (days, 24) from an hourly CSV file, and its
    irradiance where the scenario names the columns."""
    hourly = Calendar(cal.start, cal.days, 24, frozenset(), {})
    when = lambda k: str(hourly.timestamps[k]).replace("T", " ")  # noqa: E731
    temp = read_series(CsvSeries.model_construct(csv=spec.csv, column=spec.temperature_column), hourly)
    _check_range(temp, str(spec.csv), lambda k: None, str(spec.temperature_column), when=when)
    temp = temp.reshape(cal.days, 24)
    if spec.ghi_column is None:
        return temp, None
    cols = {}
    for key in ("ghi", "dni", "dhi"):
        column = getattr(spec, f"{key}_column")
        got = read_series(CsvSeries.model_construct(csv=spec.csv, column=column), hourly)
        cols[key] = _irradiance(got, str(spec.csv), lambda k: None, str(column), when).reshape(cal.days, 24)
    wind = np.full((cal.days, 24), DEFAULT_WIND) if spec.wind_column is None else read_series(
        CsvSeries.model_construct(csv=spec.csv, column=spec.wind_column), hourly).reshape(cal.days, 24)
    site = spec.site
    return temp, SunWeather(cols["ghi"], cols["dni"], cols["dhi"], temp, wind, site.latitude, site.longitude,
                            site.altitude, site.utc_offset, cal.start)


def _check_range(temp: np.ndarray, label: str, line, field: str, when=None) -> None:
    _in_range(temp, TEMP_RANGE_C, "temperature", "degC", label, line, field, when)


def _in_range(values: np.ndarray, bounds: tuple[float, float], what: str, unit: str, label: str, line, field: str,
              when=None) -> None:
    """Refuse the first value of ``values`` that is not finite or lies outside ``bounds``:
    an :class:`InputError` naming the file ``label``, its line ``line(k)``, the ``field`` and,
    with ``when``, the time ``when(k)``."""
    lo, hi = bounds
    bad = np.flatnonzero(~np.isfinite(values) | (values < lo) | (values > hi))
    if bad.size:
        k = int(bad[0])
        at = f" at {when(k)}" if when is not None else ""
        raise InputError(Problem(label, line(k), field, f"{what} {values[k]:g} {unit}{at} lies outside "
                                                        f"[{lo:g}, {hi:g}] (wrong unit or a missing-value code?)"))


def read_weather(spec: Weather, cal: Calendar) -> RunWeather:
    """The scenario's weather on the calendar: temperature per step (days, steps_per_day)."""
    hourly, sun = _read_tmy3(spec, cal) if spec.tmy3 is not None else _read_csv(spec, cal)
    per = cal.steps_per_day // 24
    return RunWeather(np.repeat(hourly, per, axis=1) if per > 1 else hourly, str(spec.path()), sun)


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
