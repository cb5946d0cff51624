"""PV output per kWp of modules on the run's calendar, computed with pvlib from the run's
weather (:class:`sim.weather.SunWeather`), or read from a measured profile.

One profile per orientation class (tilt, azimuth) and system settings, computed once per
process and run: each customer's generation is its system size times its class's profile
(:mod:`sim.behavior.pv`). The chain, every step a pvlib function (docs/prosumers.md):

1. solar position at each hour's midpoint (the irradiance is the hour's mean), local
   standard time of the site: :func:`pvlib.solarposition.get_solarposition` (NREL SPA,
   pressure from the altitude with :func:`pvlib.atmosphere.alt2pres`, the hour's temperature
   for refraction);
2. plane-of-array irradiance: :func:`pvlib.irradiance.get_total_irradiance`, Perez sky
   diffuse model (as PVWatts), extraterrestrial irradiance
   :func:`pvlib.irradiance.get_extra_radiation`, relative air mass
   :func:`pvlib.atmosphere.get_relative_airmass` (Kasten-Young 1989), ground albedo;
3. effective irradiance: the beam reflected off the glass by the incidence-angle modifier
   :func:`pvlib.iam.physical` (angle from :func:`pvlib.irradiance.aoi`), plus the diffuse;
4. cell temperature: :func:`pvlib.temperature.sapm_cell` from the plane-of-array irradiance,
   air temperature and wind, with the mounting's SAPM parameters (King et al. 2004);
5. DC power per kWp: :func:`pvlib.pvsystem.pvwatts_dc` (``pdc0`` = 1 kW, temperature
   coefficient ``gamma_pdc``), times ``1 - losses`` (PVWatts' 14.08 % total by default);
6. AC power: :func:`pvlib.inverter.pvwatts` with an inverter of AC rating 1 / ``dc_ac_ratio``
   kW (its ``pdc0`` that over the nominal efficiency): clipping and part-load efficiency.

This is the chain of pvlib's ``ModelChain.with_pvwatts`` with the Perez model
(tests/test_pv.py compares the two). Sub-hourly steps take their hour's value.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np

from .calendar import Calendar
from .errors import InputError, Problem
from .series import read_series
from .weather import SunWeather

__all__ = ["measured_per_kwp", "pv_per_kwp"]

#: Plausible measured output per kWp of modules (a guard against W instead of kW). [kW/kWp]
MEASURED_RANGE = (0.0, 1.5)


def hourly_times(sun: SunWeather, days: int):
    """The midpoints of the horizon's hours, in the site's local standard time (tz-aware)."""
    import pandas as pd

    tz = dt.timezone(dt.timedelta(hours=sun.utc_offset))
    start = pd.Timestamp(dt.datetime.combine(sun.start, dt.time(0, 30), tzinfo=tz))
    return pd.date_range(start, periods=days * 24, freq="h")


def ac_per_kwp(sun: SunWeather, tilt: float, azimuth: float, system) -> np.ndarray:
    """The AC output of 1 kWp of modules facing (tilt, azimuth), hour by hour over the
    horizon, shape (days x 24,); ``system`` a :class:`sim.scenario.solar.PvSystem`. [kW/kWp]"""
    import pvlib

    days = sun.ghi.shape[0]
    times = hourly_times(sun, days)
    temp, wind = sun.temp_c.reshape(-1), sun.wind_m_s.reshape(-1)
    ghi, dni, dhi = sun.ghi.reshape(-1), sun.dni.reshape(-1), sun.dhi.reshape(-1)
    pos = pvlib.solarposition.get_solarposition(times, sun.latitude, sun.longitude, altitude=sun.altitude,
                                                pressure=pvlib.atmosphere.alt2pres(sun.altitude), temperature=temp)
    zenith, sun_az = pos["apparent_zenith"].to_numpy(), pos["azimuth"].to_numpy()
    poa = pvlib.irradiance.get_total_irradiance(
        tilt, azimuth, zenith, sun_az, dni, ghi, dhi, dni_extra=pvlib.irradiance.get_extra_radiation(times).to_numpy(),
        airmass=pvlib.atmosphere.get_relative_airmass(zenith), albedo=system.albedo, model="perez")
    aoi = pvlib.irradiance.aoi(tilt, azimuth, zenith, sun_az)
    effective = np.asarray(poa["poa_direct"]) * pvlib.iam.physical(aoi) + np.asarray(poa["poa_diffuse"])
    params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"][system.mounting]
    cell = pvlib.temperature.sapm_cell(np.asarray(poa["poa_global"]), temp, wind, **params)
    dc = pvlib.pvsystem.pvwatts_dc(effective, cell, 1.0, system.gamma_pdc) * (1.0 - system.losses_pct / 100.0)
    inverter_dc = 1.0 / system.dc_ac_ratio / system.inverter_efficiency
    ac = pvlib.inverter.pvwatts(np.nan_to_num(np.asarray(dc, dtype=float)), inverter_dc, system.inverter_efficiency)
    return np.maximum(np.nan_to_num(np.asarray(ac, dtype=float)), 0.0)


@lru_cache(maxsize=32)
def _profile(sun: SunWeather, tilt: float, azimuth: float, system, spd: int) -> np.ndarray:
    hourly = ac_per_kwp(sun, tilt, azimuth, system).reshape(-1, 24)
    per = spd // 24
    out = np.repeat(hourly, per, axis=1) if per > 1 else hourly
    out.flags.writeable = False
    return out


def pv_per_kwp(sun: SunWeather, tilt: float, azimuth: float, system, spd: int) -> np.ndarray:
    """The output of 1 kWp facing (tilt, azimuth) in each step, shape (days, spd), read-only;
    computed once per weather, orientation, system and step length in a process. [kW/kWp]"""
    return _profile(sun, float(tilt), float(azimuth), system, spd)   # a weather is hashed by identity


def measured_per_kwp(spec, cal: Calendar) -> np.ndarray:
    """A measured output profile (``spec``: a :class:`sim.scenario.base.CsvSeries`, hourly,
    kW per kWp) on the calendar, shape (days, spd); every value must lie in
    :data:`MEASURED_RANGE` (a problem names the file, the column and the hour). [kW/kWp]"""
    hourly = Calendar(cal.start, cal.days, 24, frozenset(), {})
    got = read_series(spec, hourly)
    lo, hi = MEASURED_RANGE
    bad = np.flatnonzero(~np.isfinite(got) | (got < lo) | (got > hi))
    if bad.size:
        k = int(bad[0])
        raise InputError(Problem(str(spec.csv), None, str(spec.column),
                                 f"PV output {got[k]:g} kW/kWp at {str(hourly.timestamps[k]).replace('T', ' ')} lies "
                                 f"outside [{lo:g}, {hi:g}] (W instead of kW, or a missing-value code?)"))
    per = cal.steps_per_day // 24
    out = got.reshape(cal.days, 24)
    return np.repeat(out, per, axis=1) if per > 1 else out
