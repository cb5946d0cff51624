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
   with headroom ``max(K_i - f[s], 0)``; sources are the window steps in decreasing price
   order (ties: later step first), each with its flexible energy ``f[t]``. The dearest
   source energy goes to the cheapest headroom, unit by unit, for as long as the pair's
   price gap exceeds ``c_i``. Since the source price falls and the sink price rises
   along this queue, the gap falls too, and the energy moved is

       Q_i = max over sinks j of  min(headroom of sinks up to j in price order,
                                      energy of sources priced above p[j] + c_i)

   (each term is a feasible move: every source counted is dearer than every sink counted
   by more than ``c_i``; the greedy queue reaches the largest of them). The first ``Q_i``
   units of the source queue leave; the first ``Q_i`` units of the sink queue arrive.
   Everything else stays where it was: no step outside the window changes, and a step
   never both gives and receives.

Energy is conserved per customer (the same ``Q_i`` leaves and arrives); the load never
goes negative (a step gives at most its flexible energy); the flexible power of a step
that receives energy is at most ``K_i``.

Cost per block: one sort of the price vector (once for the block when the price is
shared), cumulative sums, one ``searchsorted`` (shared price) or one merge sort of
``2 x spd`` keys per customer (per-customer prices), gathers.

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

__all__ = ["shift_flexible"]


def _per_customer(values, n: int, name: str) -> np.ndarray:
    """A per-customer parameter as a float64 array of shape (n,); a scalar is broadcast."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"`{name}` must be of shape ({n},) (one value per customer); got {arr.shape}")
    return arr


def _day_prices(price, n: int, spd: int, name: str) -> np.ndarray:
    """Prices of the day as float64 of shape (spd,) when shared, (n, spd) when per customer.

    A 2-D array whose rows are one row broadcast (stride 0, e.g. from ``np.broadcast_to``)
    is treated as shared: one sort serves the whole block.
    """
    arr = np.asarray(price, dtype=np.float64)
    if arr.ndim == 2 and arr.shape == (n, spd) and (arr.strides[0] == 0 or n == 1):
        arr = arr[0]
    if arr.shape != (spd,) and arr.shape != (n, spd):
        raise ValueError(f"`{name}` must be of shape ({spd},) or ({n}, {spd}); got {arr.shape}")
    return arr


def _count_at_most(sorted_values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Per row, how many entries of ``sorted_values`` are <= each query.

    Parameters
    ----------
    sorted_values : ndarray, shape (m,) or (n, m)
        Sorted ascending along the last axis.
    queries : ndarray, shape (n, k)
        Sorted ascending along each row when ``sorted_values`` is 2-D.

    Returns
    -------
    ndarray of intp, shape (n, k)

    Notes
    -----
    With one shared row this is one ``np.searchsorted``. Per row, the two sorted rows are
    merged by a stable sort of their concatenation (values first, so that a value equal
    to a query sorts before it and counts); the running count of values seen, read at the
    queries' positions, is the answer. Exact: no offsets or tolerances.
    """
    n, k = queries.shape
    if sorted_values.ndim == 1:
        return np.searchsorted(sorted_values, queries.ravel(), side="right").reshape(n, k)
    m = sorted_values.shape[1]
    merged = np.argsort(np.concatenate([sorted_values, queries], axis=1), axis=1, kind="stable")
    is_value = merged < m
    seen = np.cumsum(is_value, axis=1)
    # Queries keep their (ascending) order in the merge, so row-major extraction is in query order.
    return seen[~is_value].reshape(n, k)


def _ascending_order(price: np.ndarray) -> np.ndarray:
    """Stable ascending order of the steps by price: (spd,) for a shared price, else (n, spd)."""
    return np.argsort(price, axis=-1, kind="stable")


def _take(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``values`` (n, spd) reordered along the steps by ``order`` of shape (spd,) or (n, spd).

    C-contiguous result (``values[:, order]`` would be Fortran-ordered, and every later
    operation along the steps several times slower).
    """
    if order.ndim == 1:
        return np.take(values, order, axis=1)
    return np.take_along_axis(values, order, axis=1)


def _untake(sorted_values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_take`: put the sorted columns back at their steps."""
    if order.ndim == 1:
        return np.take(sorted_values, np.argsort(order), axis=1)
    out = np.empty_like(sorted_values)
    np.put_along_axis(out, order, sorted_values, axis=1)
    return out


def shift_flexible(load_kw: np.ndarray, price: np.ndarray, share: np.ndarray, window: np.ndarray,
                   max_kw: np.ndarray, inconvenience_per_kwh: np.ndarray,
                   step_hours: float) -> np.ndarray:
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
        where lower, to the customer's mean flexible power over the window (flexible
        energy / (window steps x h)): a rating below it could not have served the
        baseline's flexible energy inside the window. [kW]
    inconvenience_per_kwh : ndarray, shape (n,)
        Price gap below which moving a kWh is not worth the bother; negative values are
        taken as 0 (moving between equal prices saves nothing). [currency/kWh]
    step_hours : float
        Length of one step, ``24 / spd``. [h] The energy moved is proportional to it on
        both sides, so the result does not depend on it; it is kept in the signature so
        that every response model is called alike.

    Returns
    -------
    ndarray, shape (n, spd)
        Load after the shift, float64, >= 0. [kW]

    Notes
    -----
    Invariants (tested in ``tests/test_behavior_shifting.py``): the day's energy of every
    customer is unchanged (to rounding, ~1e-15 relative); no step outside the window
    changes; a price that is flat over the window changes nothing; every step that loses
    energy is dearer than every step that gains energy by more than the inconvenience;
    the flexible power of a gaining step stays <= the (raised) ``max_kw``.

    References
    ----------
    .. [1] Gan, Topcu and Low 2013, IEEE Trans. Power Systems 28(2): valley filling by
       flexible (EV) loads; see the module docstring.
    """
    load = np.asarray(load_kw, dtype=np.float64)
    if load.ndim != 2:
        raise ValueError(f"`load_kw` must be of shape (n, spd); got {load.shape}")
    n, spd = load.shape
    if not np.isfinite(step_hours) or step_hours <= 0:
        raise ValueError(f"`step_hours` must be > 0; got {step_hours!r}")
    price = _day_prices(price, n, spd, "price")
    window = np.asarray(window, dtype=bool)
    if window.shape != (spd,):
        raise ValueError(f"`window` must be of shape ({spd},) (one flag per step); got {window.shape}")
    share = np.clip(_per_customer(share, n, "share"), 0.0, 1.0)
    max_kw = _per_customer(max_kw, n, "max_kw")
    # Moving energy between equal prices saves nothing: a negative inconvenience acts as 0.
    inconvenience = np.maximum(_per_customer(inconvenience_per_kwh, n, "inconvenience_per_kwh"), 0.0)
    n_window = int(window.sum())
    if n == 0 or n_window == 0:
        return load.copy()

    # Everything below is in kW x steps (h multiplies every term alike), on the steps in
    # increasing price order: sinks are read left to right, sources right to left.
    order = _ascending_order(price)
    if order.ndim == 1:
        price_sorted, in_window = price[order], window[order]
    else:
        price_sorted, in_window = np.take_along_axis(price, order, axis=1), window[order]
    flex = _take(load, order)
    flex *= share[:, None]
    flex *= in_window                                                  # flexible power, 0 outside
    cum_flex = np.cumsum(flex, axis=1)                                 # energy of the j+1 cheapest steps
    total = cum_flex[:, -1:].copy()
    cap_kw = np.maximum(max_kw, total[:, 0] / n_window)                # rating >= mean flexible power
    room = np.subtract(cap_kw[:, None], flex, out=flex)                # headroom of each sink ...
    np.maximum(room, 0.0, out=room)
    room *= in_window                                                  # ... inside the window only
    cum_room = np.cumsum(room, axis=1)                                 # headroom of sinks up to j

    # Sources for sink j: steps priced above p[j] + c (the rule p[t] > p[s] + c). There are
    # spd - m[j] of them, m[j] >= j + 1 (p[j] itself is not above), holding total - F[m[j] - 1].
    n_not_dearer = _count_at_most(price_sorted, price_sorted + inconvenience[:, None])
    n_not_dearer -= 1
    above = np.take_along_axis(cum_flex, n_not_dearer, axis=1)
    np.subtract(total, above, out=above)
    moved = np.minimum(cum_room, above, out=above).max(axis=1)        # Q_i
    moved = np.maximum(moved, 0.0)[:, None]                            # not -1e-17 from rounding

    # Arrivals: the first Q units of the sink queue, A[j] = min(R[j], Q) cumulated from the
    # cheapest step. Departures: the first Q units of the source queue, the energy above
    # the cumulative-from-the-top level: B[j] = min(total - F[j], Q) is what leaves steps
    # after j. With H[j] = A[j] + B[j] and H[-1] = Q (nothing arrived, Q to leave), the
    # change of step j is H[j] - H[j-1] = (A[j] - A[j-1]) - (B[j-1] - B[j]). A step that
    # neither gives nor receives has H[j] == H[j-1] bit for bit: it changes by exactly 0.
    arrived = np.minimum(cum_room, moved, out=cum_room)
    h_run = np.subtract(total, cum_flex, out=cum_flex)
    np.minimum(h_run, moved, out=h_run)
    h_run += arrived
    delta = h_run.copy()
    delta[:, 1:] -= h_run[:, :-1]
    delta[:, 0] -= moved[:, 0]
    out = load + _untake(delta, order)
    # A step gives at most its own flexible energy; rounding must not leave -1e-17 kW.
    return np.maximum(out, 0.0, out=out)
