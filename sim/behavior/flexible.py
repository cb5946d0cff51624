"""Deferrable loads: flexible energy moves to cheaper steps of its window when the saving beats the bother.

Part of each customer's load can run at another time of the same day without loss of
service: appliances started later, an electric vehicle charged overnight, a batch process
moved to the night shift. The customer moves that energy to cheaper steps of an allowed
window (17:00-07:00 for a car that is home in the evening; the whole day for a washing
machine), but only where the saving per kWh beats an inconvenience cost, and never above
the power its device can draw (a charger's rating). The result fills the cheapest steps
first, up to the device power: the valley-filling profile of smart charging [1]_, seen by
one customer against its own prices. It also creates rebound: new peaks where the moved
energy lands (at the start of a cheap period, say), which the engine's metrics show.

The model, for customer ``i`` with flexible share ``a_i``, window ``W`` (a set of steps),
device power ``K_i`` and inconvenience ``c_i`` (currency/kWh):

1. Flexible power of each window step: ``f[t] = a_i * L[t]`` (``t`` in ``W``), 0 outside.
2. A unit of flexible energy may move from step ``t`` to step ``s`` of the window only if
   ``p[t] > p[s] + c_i``: a flat price, or price differences within the inconvenience,
   move nothing, and the response saturates once the cheap steps are full.
3. Sinks are the window steps in increasing price order (ties: earlier step first), each
   with headroom ``K_i - f[s]``; sources are the window steps in decreasing price
   order (ties: later step first), each with its flexible energy ``f[t]``. The dearest
   source energy goes to the cheapest headroom, unit by unit, for as long as the pair's
   price gap exceeds ``c_i``. Since the source price falls and the sink price rises
   along this queue, the gap falls too, and the energy moved is

       Q_i = max over steps j of  min(headroom of sinks up to j in price order,
                                      energy of sources priced above p[j] + c_i)

   (each term is a feasible move: every source counted is dearer than every sink counted
   by more than ``c_i``; the greedy queue reaches the largest of them, which is attained
   at the last step of a price level, so only those are evaluated: 3 to 5 for a TOU
   tariff instead of ``spd``). The first ``Q_i``
   units of the source queue leave; the first ``Q_i`` units of the sink queue arrive.
   Everything else stays where it was: no step outside the window changes, and a step
   never both gives and receives. (Pooling all energy priced more than ``c_i`` above the
   window's cheapest price and valley-filling it would be simpler, but can move energy
   across a gap below ``c_i``: from 0.5 to 0.3 with ``c_i = 0.25`` once a step at 0 is
   full. The pairwise queue cannot.)

The device power ``K_i`` is the customer's ``max_kw`` raised, where lower, to the largest
flexible power of its baseline day in the window: the baseline shows the device can draw
that much, and a rating at least the window's mean flexible power (which this implies)
is what lets the window hold the flexible energy at all.

**Utility.** The moved energy is consumed all the same; what the customer gives up is the
convenience of the first time, priced at ``c_i`` per kWh moved (:func:`shift_cost`), the
same cost that decides what moves. With the default ``c_i = 0`` moving costs nothing and the
whole bill saving is the customer's gain.

Energy is conserved per customer (the same ``Q_i`` leaves and arrives); the load never
goes negative (a step gives at most its flexible energy); the flexible power of a step
that receives energy is at most ``K_i``.

Cost per block: one compiled loop over the customers (:func:`_shift_kernel`) does the
whole shift of one customer's day at a time: a pass over its window steps in price order
(flexible power, device power, running sum), one over the price levels (``Q_i``), one
back over the window steps (the result). The order of the window steps by price and the
price levels are found once for a shared price, once per distinct row for per-customer
prices that take few distinct rows (tiers, menus: :mod:`sim.rowmath`), and per
customer otherwise (an insertion sort of its window steps). A customer's result is the
same bit for bit whichever path computes it (``tests/test_behavior_rows.py``).

References
----------
.. [1] L. Gan, U. Topcu and S. H. Low, "Optimal decentralized protocol for electric
   vehicle charging", IEEE Transactions on Power Systems 28(2), 2013: charging
   schedules subject to a maximum charging rate and a deadline that "fill the valleys"
   of the load profile. Only the abstract was read for this module; the algorithm here
   is the single-customer, price-driven analogue, not the paper's protocol.
"""

from __future__ import annotations

import numpy as np

from .._jit import jit
from ..rowmath import RowGroups, group_rows
from .inputs import day_block, day_prices, per_customer
from .prices import spread
from .registry import CustomerParams, ResponseDay, ResponseModel, register

__all__ = ["shift_cost", "shift_flexible", "shift_flexible_moved"]


def shift_flexible(load_kw: np.ndarray, price: np.ndarray, share: np.ndarray, window: np.ndarray,
                   max_kw: np.ndarray, inconvenience_per_kwh: np.ndarray,
                   step_hours: float, *, groups: RowGroups | None = None) -> np.ndarray:
    """Load after flexible energy has moved to the cheapest steps of its window.

    See the module docstring for the model. Energy of a window step whose price exceeds a
    cheaper window step's by more than the customer's inconvenience moves there, dearest
    energy to cheapest headroom, each receiving step filled up to the device power.

    Parameters
    ----------
    load_kw : ndarray, shape (n, spd)
        Load of each customer in each step of the day (mean power in the step), >= 0. [kW]
    price : ndarray, shape (spd,) or (n, spd)
        Price of energy in each step, shared by the block or per customer (a per-customer
        price gives each customer its own order of steps). [currency/kWh]
    share : ndarray, shape (n,)
        Flexible share of each customer's load inside the window; clipped to [0, 1]. [-]
    window : ndarray of bool, shape (spd,)
        Steps between which flexible energy may move (all True: anywhere in the day).
        Steps outside the window are returned unchanged.
    max_kw : ndarray, shape (n,)
        Most flexible power a customer can draw in one step (a charger's rating). Raised,
        where lower, to the largest flexible power of the baseline day in the window
        (``share x load``), which is also at least the mean flexible power over the window
        (flexible energy / (window steps x h)), so the window always holds the energy. [kW]
    inconvenience_per_kwh : ndarray, shape (n,)
        Price gap a kWh must save to be moved; negative values are taken as 0 (moving
        between equal prices saves nothing). [currency/kWh]
    step_hours : float
        Length of one step, ``24 / spd``. [h] The energy moved is proportional to it on
        both sides, so the result does not depend on it; it is kept in the signature so
        that every response model is called alike.
    groups : RowGroups, optional
        ``group_rows(price)`` when the caller has it already (per-customer prices only);
        found here otherwise. The price row of customers with equal rows is sorted once
        for all of them; a customer's result is the same either way.

    Returns
    -------
    ndarray, shape (n, spd)
        Load after the shift, float64, >= 0. [kW]

    Notes
    -----
    Invariants (tested in ``tests/test_behavior_shifting.py``): the day's energy of every
    customer is unchanged (to rounding, ~1e-15 relative); no step outside the window
    changes (bit for bit); a flat price changes nothing (bit for bit); every step that
    loses energy is dearer than every step that gains energy by more than the
    inconvenience; the flexible power of a gaining step stays <= the (raised) ``max_kw``;
    a customer's result does not depend on the other rows of the block.

    References
    ----------
    .. [1] Gan, Topcu and Low 2013, IEEE Trans. Power Systems 28(2): valley filling by
       flexible (EV) loads; see the module docstring.
    """
    load, _, _ = day_block(load_kw, step_hours)
    return _checked_shift(load, price, share, window, max_kw, inconvenience_per_kwh, groups, None)


def shift_flexible_moved(load_kw: np.ndarray, price: np.ndarray, share: np.ndarray, window: np.ndarray,
                         max_kw: np.ndarray, inconvenience_per_kwh: np.ndarray, step_hours: float, *,
                         groups: RowGroups | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`shift_flexible`, and each customer's energy moved: ``sum_t max(L[t] - L'[t], 0)``
    [kW x steps], added in time order (the very numbers of :func:`shift_cost`'s own sum),
    found in the kernel's pass while the customer's row is in the cache: a separate pass
    over the block cost a third of the shift. Returns (load [kW], moved)."""
    load, n, _ = day_block(load_kw, step_hours)
    moved = np.empty(n)
    return _checked_shift(load, price, share, window, max_kw, inconvenience_per_kwh, groups, moved), moved


def _checked_shift(load: np.ndarray, price, share, window, max_kw, inconvenience_per_kwh,
                   groups: RowGroups | None, moved: np.ndarray | None) -> np.ndarray:
    """:func:`shift_flexible` of a checked (n, spd) float64 load; fills ``moved`` when given."""
    n, spd = load.shape
    price = day_prices(price, n, spd, "price")
    window = np.asarray(window, dtype=bool)
    if window.shape != (spd,):
        raise ValueError(f"`window` must be of shape ({spd},) (one flag per step); got {window.shape}")
    share = np.clip(per_customer(share, n, "share"), 0.0, 1.0)
    max_kw = per_customer(max_kw, n, "max_kw")
    # Moving energy between equal prices saves nothing: a negative inconvenience acts as 0.
    inconvenience = np.maximum(per_customer(inconvenience_per_kwh, n, "inconvenience_per_kwh"), 0.0)
    if moved is None:
        moved = _NO_MOVED
    if n == 0 or not window.any():
        moved[:] = 0.0
        return load.copy()
    if price.ndim == 1:
        return _shift(load, price, share, window, max_kw, inconvenience, moved)
    # Per-customer prices with few distinct rows (tiers, menus): each distinct row is
    # sorted once, for all the customers on it (the same result per customer).
    if groups is None:
        groups = group_rows(price)
    elif groups.n != n:
        raise ValueError(f"`groups` is for {groups.n} customers; the block has {n}")
    if groups is None:
        return _shift(load, price, share, window, max_kw, inconvenience, moved)
    return _run(load, price[groups.first], groups.inverse, window, share, max_kw, inconvenience, moved)


#: The energy moved not asked for: the kernel skips the sum.
_NO_MOVED = np.zeros(0)


def shift_cost(load_base_kw: np.ndarray, load_kw: np.ndarray, inconvenience_per_kwh: np.ndarray,
               step_hours: float) -> np.ndarray:
    """Change of each customer's utility of consumption from moving energy within the day:
    the energy moved (what left the steps that lost load) times the customer's inconvenience
    cost, ``-c_i sum_t max(L[t] - L'[t], 0) h``. The energy is consumed all the same, at
    another time: what the customer gives up is the convenience of the first time, which
    the model prices at ``c_i`` per kWh (the gap a kWh must save before it moves), so each
    kWh moved saves more than it costs.

    Parameters
    ----------
    load_base_kw, load_kw : ndarray, shape (n, spd)
        Load before and after the shift. [kW]
    inconvenience_per_kwh : ndarray, shape (n,)
        Negative values are taken as 0, as by the shift. [currency/kWh]
    step_hours : float  [h]

    Returns
    -------
    ndarray, shape (n,)  [currency], <= 0; 0 where nothing moved or ``c_i = 0``.
    """
    c = np.maximum(np.asarray(inconvenience_per_kwh, dtype=float), 0.0)
    if not c.any():                                   # moving is free (the default): nothing to sum
        return np.zeros(np.shape(load_kw)[0])
    moved = np.empty(np.shape(load_kw)[0])
    _moved(np.ascontiguousarray(load_base_kw, dtype=np.float64), np.ascontiguousarray(load_kw, dtype=np.float64),
           moved)
    return -c * (moved * step_hours)


@jit
def _moved(before, after, out):
    """``out[i] = sum_t max(before[i, t] - after[i, t], 0)``, added in time order: one pass,
    no temporary arrays (three numpy passes over the block cost as much as the shift)."""
    for i in range(before.shape[0]):
        out[i] = _moved_row(before, after, i)


@jit
def _moved_row(before, after, i):
    """``sum_t max(before[i, t] - after[i, t], 0)``, added in time order (one customer)."""
    s = 0.0
    for t in range(before.shape[1]):
        d = before[i, t] - after[i, t]
        if d > 0.0:
            s += d
    return s


def _shift(load: np.ndarray, price: np.ndarray, share: np.ndarray, window: np.ndarray, max_kw: np.ndarray,
           inconvenience: np.ndarray, moved: np.ndarray = _NO_MOVED) -> np.ndarray:
    """:func:`shift_flexible` on checked arguments (``n >= 1``, some window step), without
    grouping: a per-customer price is sorted for each customer on its own."""
    if price.ndim == 1:
        return _run(load, price[None, :], np.zeros(load.shape[0], dtype=np.intp), window, share, max_kw,
                    inconvenience, moved)
    return _run(load, price, np.zeros(0, dtype=np.intp), window, share, max_kw, inconvenience, moved)


def _run(load, rows, which, window, share, max_kw, inconvenience, moved=_NO_MOVED) -> np.ndarray:
    """:func:`_shift_kernel` on C-contiguous arguments of its types (one compiled version)."""
    c = np.ascontiguousarray
    return _shift_kernel(c(load), c(rows), c(which, dtype=np.intp), c(window, dtype=np.bool_), c(share),
                         c(max_kw), c(inconvenience), np.empty(load.shape), moved)


# ------------------------------------------------------------------------ compiled kernel
#
# A customer's day is 24-96 numbers and the shift a dozen passes over them: one compiled
# loop over the customers does them all on one day while it sits in the first-level cache.
# Each customer's result is computed from its own row and its price row only, with the
# operations in a fixed order: the same bits in any block and on any path (shared,
# grouped or per-customer prices).


@jit
def _price_levels(rows, r, window, order, levels, level_price, g):
    """Sort the window steps of price row ``rows[r]`` and find its price levels, into row
    ``g`` of the work arrays.

    Writes the window steps in increasing price order, ties by earlier step (a stable
    insertion sort), to ``order[g, :nw]``; the position in that order of the last step of
    each level of equal prices to ``levels[g, :nl]``, and the level's price to
    ``level_price[g, :nl]``. Returns ``(nw, nl)``. Steps outside the window are left out:
    they hold no flexible energy and no headroom, so the queue neither reads nor changes
    them (with them in, every sum below would take the same values in the same order).
    """
    nw = 0
    for t in range(rows.shape[1]):
        if window[t]:
            key = rows[r, t]
            k = nw
            while k > 0 and rows[r, order[g, k - 1]] > key:
                order[g, k] = order[g, k - 1]
                k -= 1
            order[g, k] = t
            nw += 1
    nl = 0
    for j in range(nw):
        if j == nw - 1 or rows[r, order[g, j + 1]] != rows[r, order[g, j]]:
            levels[g, nl] = j
            level_price[g, nl] = rows[r, order[g, j]]
            nl += 1
    return nw, nl


@jit
def _shift_kernel(load, rows, which, window, share, max_kw, inconvenience, out, moved_out):
    """The shift of :func:`shift_flexible`, customer by customer, into ``out`` (returned).

    Customer ``i`` (row ``i`` of ``load``, ``share``, ``max_kw``, ``inconvenience``, all
    checked and clipped) is priced at ``rows[which[i]]``: each distinct row is sorted and
    split into levels once (:func:`_price_levels`). An empty ``which`` means that
    ``rows[i]`` is customer ``i``'s own row, sorted for it alone.

    For each customer, in this order, on its window steps in increasing price order
    (``j = 0 .. nw-1``, at step ``t_j``):

    1. flexible power ``f[j] = load[t_j] x share``; device power ``K`` = ``max_kw`` raised to
       each ``f[j]`` in turn (and to 0 first when the window is not the whole day: the steps
       outside hold ``f = 0``); running sum ``F[j] = F[j-1] + f[j]``, ``total = F[nw-1]``;
    2. ``Q = max(0, largest over the levels of min(K x (j+1) - F[j], total - F[m-1]))``, ``j``
       the level's last position, ``m`` the positions priced at most ``p[j] + inconvenience``
       (a pointer over the levels that only moves forward, as the thresholds rise);
    3. ``out`` = the customer's load, then at each window step the change of the queue
       heads: ``H[j] = min(K x (j+1) - F[j], Q) + min(total - F[j], Q)``, ``H[-1] = Q``,
       ``out[t_j] = max(load[t_j] + (H[j] - H[j-1]), 0)``;
    4. when ``moved_out`` is not empty, ``moved_out[i] = sum_t max(load[t] - out[t], 0)`` in
       time order (:func:`_moved`'s sum, on the row while it is in the cache; over the window
       steps only, where alone ``out`` can differ from ``load``).
    """
    n, spd = load.shape
    own = which.shape[0] == 0
    n_rows = 1 if own else rows.shape[0]
    order = np.empty((n_rows, spd), dtype=np.intp)
    levels = np.empty((n_rows, spd), dtype=np.intp)
    level_price = np.empty((n_rows, spd))
    nws = np.empty(n_rows, dtype=np.intp)
    nls = np.empty(n_rows, dtype=np.intp)
    if not own:
        for g in range(n_rows):
            nws[g], nls[g] = _price_levels(rows, g, window, order, levels, level_price, g)
    want_moved = moved_out.shape[0] > 0
    partial = False
    n_window = 0
    for t in range(spd):
        if not window[t]:
            partial = True
        else:
            n_window += 1
    # the window's steps in time order: the only steps where out can differ from load
    steps_in_time = np.empty(n_window, dtype=np.intp)
    k = 0
    for t in range(spd):
        if window[t]:
            steps_in_time[k] = t
            k += 1
    cum = np.empty(spd)
    g = 0
    for i in range(n):
        if own:
            nw, nl = _price_levels(rows, i, window, order, levels, level_price, 0)
        else:
            g = which[i]
            nw, nl = nws[g], nls[g]
        # 1. Flexible power, device power K, running sum F (in kW x steps: h multiplies
        # every term alike).
        s = share[i]
        cap = max_kw[i]
        if partial and 0.0 > cap:
            cap = 0.0
        acc = 0.0
        for j in range(nw):
            v = load[i, order[g, j]] * s
            if v > cap:
                cap = v
            acc += v
            cum[j] = acc
        total = acc
        # 2. Q: within a level S is constant and R grows, so only its last position counts.
        c = inconvenience[i]
        moved = -np.inf
        m = 0
        for k in range(nl):
            e = levels[g, k]
            room = cap * (e + 1.0) - cum[e]
            threshold = level_price[g, k] + c
            while m + 1 < nl and level_price[g, m + 1] <= threshold:
                m += 1
            candidate = min(room, total - cum[levels[g, m]])
            if candidate > moved:
                moved = candidate
        moved = max(moved, 0.0)                     # not -1e-17 from rounding
        # 3. Arrivals A[j] = min(R[j], Q), departures B[j] = min(total - F[j], Q), H = A + B.
        for t in range(spd):
            out[i, t] = load[i, t]
        prev = moved
        for j in range(nw):
            h = min(cap * (j + 1.0) - cum[j], moved) + min(total - cum[j], moved)
            t = order[g, j]
            # A step gives at most its own flexible energy; rounding must not leave -1e-17 kW.
            out[i, t] = max(load[i, t] + (h - prev), 0.0)
            prev = h
        if want_moved:
            # _moved_row's sum on the window steps only, in time order: elsewhere out is load
            # (a difference of 0.0, which the sum skips). (Q = 0 is no shortcut: rounding of
            # the running sums can still move 1e-17 kW.)
            acc = 0.0
            for t in steps_in_time:
                d = load[i, t] - out[i, t]
                if d > 0.0:
                    acc += d
            moved_out[i] = acc
    return out


@register
class FlexibleModel(ResponseModel):
    """``model: flexible``: in both roles, each customer's deferrable share of the window's
    energy moves to the window's cheapest steps at the role's prices, where the price
    difference beats the customer's inconvenience."""

    name = "flexible"
    params = ("share", "max_kw_per_mean_kw", "inconvenience_per_kwh")
    stage = 30
    roles = ("baseline", "scenario")

    def __init__(self, settings):
        super().__init__(settings)
        self._windows: dict[int, np.ndarray] = {}

    def window(self, steps_per_day: int) -> np.ndarray:
        """The steps of a day inside the window's hours, (spd,) bool."""
        w = self._windows.get(steps_per_day)
        if w is None:
            from ..calendar import hours_mask

            w = self._windows[steps_per_day] = hours_mask(self.settings.window, steps_per_day)
        return w

    def respond(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        return self._shift(load, day, params, shift_flexible)[0]

    def _shift(self, load: np.ndarray, day: ResponseDay, params: CustomerParams, how) -> tuple:
        """``how`` (:func:`shift_flexible` or :func:`shift_flexible_moved`) on the day, as a
        tuple (load, and the energy moved for the latter); ``(load,)`` itself on a day
        whose prices within the window differ by less than every customer's inconvenience:
        nothing moves (the same result, skipped)."""
        idx, window = day.idx, self.window(load.shape[1])
        if not spread(day.groups.own_rows(), window) > params.inconvenience_per_kwh[idx].min():
            return (load,)
        out = how(load, day.own.price, params.share[idx], window, params.max_kw_per_mean_kw[idx] * day.mean_kw[idx],
                  params.inconvenience_per_kwh[idx], day.step_hours, groups=day.groups.own())
        return out if isinstance(out, tuple) else (out,)

    def respond_with_utility(self, load: np.ndarray, day: ResponseDay,
                             params: CustomerParams) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`respond` and :meth:`utility` in one pass: the shift kernel sums the energy
        moved while it has each customer's row (the same numbers as :func:`shift_cost`)."""
        c = np.maximum(np.asarray(params.inconvenience_per_kwh[day.idx], dtype=float), 0.0)
        if not c.any():                               # moving is free: as shift_cost
            after = self.respond(load, day, params)
            return after, (None if after is load else np.zeros(load.shape[0]))
        out = self._shift(load, day, params, shift_flexible_moved)
        if len(out) == 1:
            return load, None
        after, moved = out
        return after, -c * (moved * day.step_hours)

    def utility(self, before: np.ndarray, after: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        """The inconvenience of the energy moved: ``-c_i x sum_t max(L[t] - L'[t], 0) x h``
        (:func:`shift_cost`)."""
        return shift_cost(before, after, params.inconvenience_per_kwh[day.idx], day.step_hours)
