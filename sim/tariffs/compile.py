"""Tariffs compiled once into per-step arrays (period index, price), ready for billing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..calendar import HOLIDAY, WEEKDAY, WEEKEND, Calendar
from ..scenario.schema import FlatTariff, TouTariff, parse_hour_range, range_quarters

_DAY_TYPE_CODE = {"weekday": WEEKDAY, "weekend": WEEKEND, "holiday": HOLIDAY}


@dataclass(frozen=True)
class CompiledTariff:
    """A tariff as arrays over the horizon.

    Attributes
    ----------
    name : str
    period_names : tuple of str
        Names of the energy periods ('all' for a flat rate).
    period : ndarray of int8, shape (n_steps,)
        Period index of each step.
    price_per_kwh : ndarray of float64, shape (n_steps,)
        Energy price in each step. [currency/kWh]
    period_price : ndarray of float64, shape (n_periods,)
        Energy price of each period. [currency/kWh]
    fixed_per_month : float
        Fixed charge per customer per (whole) billing month. [currency]
    """

    name: str
    period_names: tuple[str, ...]
    period: np.ndarray
    price_per_kwh: np.ndarray
    period_price: np.ndarray
    fixed_per_month: float

    def day(self, d: int, steps_per_day: int) -> slice:
        return slice(d * steps_per_day, (d + 1) * steps_per_day)


def compile_tariff(name: str, tariff: FlatTariff | TouTariff, cal: Calendar) -> CompiledTariff:
    """Compile a validated tariff onto a calendar.

    Flat: one period. TOU: for each (season, day type) a period per step of the day, built
    from the schedule's hour ranges at quarter-hour resolution and sampled at step starts
    (the schema has checked that boundaries fall on steps); holidays that no rule covers
    use the tariff's ``holidays_as`` day type.
    """
    spd = cal.steps_per_day
    if isinstance(tariff, FlatTariff):
        period = np.zeros(cal.n_steps, dtype=np.int8)
        prices = np.array([tariff.price_per_kwh])
        return CompiledTariff(name, ("all",), period, prices[period], prices, tariff.fixed_per_month)

    names = tuple(tariff.periods)
    prices = np.array([tariff.periods[p].price_per_kwh for p in names])
    season_names = tuple(tariff.seasons)
    season_of_month = np.full(13, -1, dtype=np.int8)
    for s, season in enumerate(tariff.seasons.values()):
        season_of_month[season.months] = s
    # table[season, day_type, step of day] -> period index; -1 where no rule applies
    table = np.full((len(season_names), 3, spd), -1, dtype=np.int8)
    quarters_per_step = 96 // spd
    for rule in tariff.schedule:
        seasons = season_names if rule.seasons == "all" else rule.seasons
        q = np.full(96, -1, dtype=np.int8)
        for pname, ranges in rule.hours.items():
            for text in ranges:
                q[range_quarters(*parse_hour_range(text))] = names.index(pname)
        for s in seasons:
            for d in rule.day_types:
                table[season_names.index(s), _DAY_TYPE_CODE[d], :] = q[::quarters_per_step]
    fallback = _DAY_TYPE_CODE[tariff.holidays_as]
    for s in range(len(season_names)):
        if (table[s, HOLIDAY] < 0).all():
            table[s, HOLIDAY] = table[s, fallback]
    day_period = table[season_of_month[cal.month], cal.day_type]  # (days, spd)
    period = day_period.reshape(-1)
    if (period < 0).any():  # the schema forbids gaps; this guards the compiler itself
        raise AssertionError(f"tariff {name}: steps without a period after compilation")
    return CompiledTariff(name, names, period, prices[period], prices, tariff.fixed_per_month)
