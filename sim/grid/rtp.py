"""Real-time prices formed from the scenario's own system load: a daily fixed point.

The price of a day depends on the system load, which depends on the price. The engine's
clock calls :func:`solve_day` for each day before committing it; the prices found go to
the run's :class:`~sim.grid.days.GridDays` (the tariffs stay as compiled).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..scenario.schema import Grid
from ..tariffs import CompiledTariff
from .cost import marginal_cost, rtp_price_from_cost
from .days import GridDays


def solve_day(d: int, tariffs: list[CompiledTariff], grid: Grid, days: GridDays,
              loads_of: Callable[[int], dict]) -> dict:
    """Damped fixed-point iteration of marginal cost <-> system load for day ``d``.

    c_(k+1) = (1 - a) c_k + a mc(L(c_k)), mc the merit-order marginal cost of the scenario
    system supply and every system-priced tariff charging its own formula of c; stop when
    max |c_(k+1) - c_k| <= tol. The first pass, at the prices the grid holds for the day
    (none yet: zero), gives the baseline load whose cost starts the iteration. With several
    such tariffs, the smallest damping and tolerance and the largest iteration count among
    them apply. The prices of the last iterate are left in ``days``.

    Parameters
    ----------
    d : int
    tariffs : list of CompiledTariff
        The tariffs whose prices are formed from the system load.
    grid : Grid
        The scenario's supply side (supply curve, losses).
    days : GridDays
        Where the day's prices are set.
    loads_of : callable(d) -> dict role -> ndarray (spd,)
        The system load of day ``d`` per role at the prices ``days`` holds, without
        committing anything. [kW]

    Returns
    -------
    dict
        The day's log entry: ``day``, ``iterations``, ``residual_per_kwh`` (NaN after a
        single pass) and ``converged``.
    """
    specs = [t.source for t in tariffs]
    a = min(x.damping for x in specs)
    tol = min(x.tolerance_per_kwh for x in specs)
    max_iter = max(x.max_iterations for x in specs)
    gross = 1.0 + grid.losses_pct / 100.0
    cost, step, it = None, float("inf"), 0

    def set_prices(c):
        for t in tariffs:
            days.set_rtp(t.name, d, rtp_price_from_cost(t.source, c))

    for it in range(1, max_iter + 1):
        if cost is not None:
            set_prices(cost)
        loads = loads_of(d)
        if cost is None:  # start from the cost the baseline load would form
            cost = marginal_cost(loads["baseline"] * gross, grid)
            continue
        new = (1 - a) * cost + a * marginal_cost(loads["scenario"] * gross, grid)
        step = float(np.abs(new - cost).max())
        cost = new
        if step <= tol:
            break
    set_prices(cost)
    return {"day": d, "iterations": it, "residual_per_kwh": step if it > 1 else float("nan"),
            "converged": it > 1 and step <= tol}
