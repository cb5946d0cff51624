"""Cost of supply: energy cost per step, flat or from a CSV series."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np

from ..calendar import Calendar
from ..errors import InputError, Problem
from ..scenario.schema import CsvSeries, Grid


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


def read_series(spec: CsvSeries, cal: Calendar) -> np.ndarray:
    """A per-step series from a CSV file, shape (n_steps,).

    The file has a header row. If its first column is ``timestamp`` (ISO 8601 local time,
    step start), rows are placed by their timestamps and must cover the horizon; otherwise
    the rows hold one value per step in step order from the first step of the horizon.
    ``column`` picks the value column by name or index. Extra rows are ignored.
    """
    label = str(spec.csv)
    with spec.csv.open(newline="", encoding="utf-8-sig") as f:
        rows = [(n, r) for n, r in enumerate(csv.reader(f), start=1) if r and any(c.strip() for c in r)]
    if not rows:
        raise InputError(Problem(label, None, "", "empty file"))
    header = rows[0][1]
    if isinstance(spec.column, str):
        if spec.column not in header:
            raise InputError(Problem(label, 1, "", f"no column {spec.column!r} (columns: {', '.join(header)})"))
        j = header.index(spec.column)
    else:
        j = spec.column
        if not -len(header) <= j < len(header):
            raise InputError(Problem(label, 1, "", f"column index {j} out of range ({len(header)} columns)"))
    timed = header[0].strip().lower() == "timestamp"
    out = np.full(cal.n_steps, np.nan)
    first = np.datetime64(cal.start, "m")
    for k, (line, row) in enumerate(rows[1:]):
        if timed:
            try:
                stamp = dt.datetime.fromisoformat(row[0].strip())
            except ValueError:
                raise InputError(Problem(label, line, "timestamp", f"not an ISO timestamp: {row[0]!r}")) from None
            if stamp.tzinfo is not None:
                raise InputError(Problem(label, line, "timestamp", f"{row[0]} has a UTC offset; give local time"))
            if stamp.second or stamp.microsecond:
                raise InputError(Problem(label, line, "timestamp", f"{row[0]} is not on a step start"))
            minutes = int((np.datetime64(stamp, "m") - first) // np.timedelta64(1, "m"))
            step, rem = divmod(minutes, cal.step_minutes)
            if rem:
                raise InputError(Problem(label, line, "timestamp", f"{row[0]} is not on a {cal.step_minutes}-minute step"))
        else:
            step = k
        if not 0 <= step < cal.n_steps:
            continue
        try:
            value = float(row[j])
        except (ValueError, IndexError):
            raise InputError(Problem(label, line, header[j], f"not a number: {row[j] if j < len(row) else ''!r}")) from None
        if not np.isfinite(value):
            raise InputError(Problem(label, line, header[j], f"not finite: {row[j]}"))
        if timed and not np.isnan(out[step]):
            raise InputError(Problem(label, line, "timestamp", f"{row[0]} appears twice"))
        out[step] = value
    missing = np.flatnonzero(np.isnan(out))
    if missing.size:
        when = str(cal.timestamps[missing[0]]).replace("T", " ")
        raise InputError(Problem(label, None, "", f"{missing.size} of the horizon's {cal.n_steps} steps have no value, "
                                                  f"the first at {when}"))
    return out
