"""Cost of supply: energy cost per step, flat or from a CSV series."""

from __future__ import annotations

import numpy as np

from ..calendar import Calendar
from ..scenario.schema import CsvSeries, Grid
from ..series import read_series


def marginal_cost(supply_kw: np.ndarray, grid: Grid) -> np.ndarray:
    """Marginal cost of energy on the merit-order curve at each level of system supply.

    Parameters
    ----------
    supply_kw : ndarray
        System supply: metered load x (1 + losses). [kW]

    Returns
    -------
    ndarray, same shape  [currency/kWh]
    """
    bounds = np.array([s.up_to_kw for s in grid.supply_curve[:-1]], dtype=float)
    costs = np.array([s.cost_per_kwh for s in grid.supply_curve])
    if grid.supply_curve_shape == "linear":
        return np.interp(supply_kw, np.r_[0.0, bounds], costs)
    return costs[np.searchsorted(bounds, supply_kw, side="left")]


def rtp_price_from_cost(tariff, cost_per_kwh: np.ndarray) -> np.ndarray:
    """A real-time tariff's price from the system's marginal cost: multiplier x cost + adder,
    floored. [currency/kWh]"""
    price = tariff.multiplier * cost_per_kwh + tariff.adder_per_kwh
    if tariff.floor_per_kwh is not None:
        price = np.maximum(price, tariff.floor_per_kwh)
    return price


def rtp_price_from_load(tariff, grid: Grid, system_load_kw: np.ndarray) -> np.ndarray:
    """Real-time price formed from the system load: the tariff's formula on the merit-order
    marginal cost of the supply (load plus losses). [currency/kWh]"""
    return rtp_price_from_cost(tariff, marginal_cost(system_load_kw * (1.0 + grid.losses_pct / 100.0), grid))


def role_energy_cost(grid: Grid, flat_or_series: np.ndarray, system_load_kw: np.ndarray) -> np.ndarray:
    """Cost of energy per metered kWh in each step: the series (or flat cost), or the merit-order
    marginal cost at this load, both grossed up by losses. [currency/kWh], shape (n_steps,)"""
    gross = 1.0 + grid.losses_pct / 100.0
    if grid.supply_curve is None:
        return flat_or_series * gross
    return marginal_cost(system_load_kw * gross, grid) * gross


def energy_cost_series(grid: Grid, cal: Calendar) -> np.ndarray:
    """Energy cost in each step of the horizon before losses (flat or a CSV series; zeros with a
    supply curve, whose cost depends on the load). [currency/kWh], shape (n_steps,)"""
    spec = grid.energy_cost_per_kwh
    if not isinstance(spec, CsvSeries):
        return np.full(cal.n_steps, float(spec))
    return read_series(spec, cal)
