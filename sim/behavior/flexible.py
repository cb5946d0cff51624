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
   at the last step of a price level, so with a shared price only those are evaluated:
   3 to 5 columns for a TOU tariff instead of ``spd``). The first ``Q_i``
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

Energy is conserved per customer (the same ``Q_i`` leaves and arrives); the load never
goes negative (a step gives at most its flexible energy); the flexible power of a step
that receives energy is at most ``K_i``.

Cost per block: one sort of the price vector (once for the block when the price is
shared), one cumulative sum, one ``searchsorted`` on the price levels (shared price) or
one merge sort of ``2 x spd`` keys per customer (per-customer prices), gathers. The
shared-price path works on (steps, customers) arrays, so that the running sum and the
other operations along the steps are vector operations over the customers. Per-customer
prices that take few distinct rows (tiers, menus: :mod:`sim.behavior._rows`) run the
shared-price path once per row, for that row's customers; a customer's result is the
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

from ._rows import RowGroups, group_rows, map_groups, scratch

__all__ = ["shift_flexible"]


def _day_block(load_kw, step_hours) -> tuple[np.ndarray, int, int]:
    """A day's (n, spd) load as float64 and its shape; step_hours checked."""
    load = np.asarray(load_kw, dtype=np.float64)
    if load.ndim != 2:
        raise ValueError(f"`load_kw` must be of shape (n, spd); got {load.shape}")
    if not np.isfinite(step_hours) or step_hours <= 0:
        raise ValueError(f"`step_hours` must be > 0; got {step_hours!r}")
    return load, load.shape[0], load.shape[1]


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
    to a query sorts before it and counts); a query's position in the merged row, less
    the queries before it, is the answer. Exact: no offsets or tolerances.
    """
    n, k = queries.shape
    if sorted_values.ndim == 1:
        return np.searchsorted(sorted_values, queries.ravel(), side="right").reshape(n, k)
    m = sorted_values.shape[1]
    merged = np.argsort(np.concatenate([sorted_values, queries], axis=1), axis=1, kind="stable")
    # Queries keep their (ascending) order in the merge: the j-th query of a row sits at
    # position j + (values before it) of that row.
    position = np.flatnonzero(merged.reshape(-1) >= m).reshape(n, k) % (m + k)
    position -= np.arange(k)
    return position


def _row_max(values: np.ndarray) -> np.ndarray:
    """Largest entry of each row of a 2-D array with few columns, exact.

    Reduces a transposed copy along its first axis: numpy reduces along a short last axis
    one row at a time, which costs 15x more on 16k rows of 4 columns (2x at 24 columns,
    where the copy's page faults eat the gain: wider arrays are reduced in place).
    """
    if values.shape[1] > 8:
        return values.max(axis=1)
    return np.ascontiguousarray(values.T).max(axis=0)


def _step_diff(cumulative: np.ndarray, out: np.ndarray, first) -> np.ndarray:
    """``out[:, j] = cumulative[:, j] - cumulative[:, j-1]`` (j >= 1) and ``out[:, 0] = first``.

    One subtraction over the flattened rows (the entries that straddle two rows are then
    overwritten by ``first``): about 3x faster than on ``[:, 1:]`` slices of short rows.
    Both arrays C-contiguous and distinct.
    """
    flat, flat_out = cumulative.reshape(-1), out.reshape(-1)
    np.subtract(flat[1:], flat[:-1], out=flat_out[1:])
    out[:, 0] = first
    return out


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


def _untake(sorted_values: np.ndarray, order: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Inverse of :func:`_take`: put the sorted columns back at their steps (into ``out``)."""
    if out is None:
        out = np.empty_like(sorted_values)
    if order.ndim == 1:
        # mode="clip": with the default mode, np.take buffers ``out`` (a fresh array).
        return np.take(sorted_values, np.argsort(order), axis=1, out=out, mode="clip")
    np.put_along_axis(out, order, sorted_values, axis=1)
    return out


def _queue_heads(cap_kw, windows, cum_flex, total, moved, work):
    """``H = A + B`` of the queue (see :func:`shift_flexible`): arrivals ``A[j] = min(K x
    window steps up to j - F[j], Q)`` and departures ``B[j] = min(total - F[j], Q)``, for
    either layout (the arguments broadcast). In place: returns (H in ``cum_flex``'s memory,
    A in ``work``'s)."""
    arrived = np.multiply(cap_kw, windows, out=work)
    arrived -= cum_flex
    np.minimum(arrived, moved, out=arrived)
    h_run = np.subtract(total, cum_flex, out=cum_flex)
    np.minimum(h_run, moved, out=h_run)
    h_run += arrived
    return h_run, arrived


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
        found here otherwise. Customers with equal price rows run together on the
        shared-price path; a customer's result is the same either way.

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
    load, n, spd = _day_block(load_kw, step_hours)
    price = _day_prices(price, n, spd, "price")
    window = np.asarray(window, dtype=bool)
    if window.shape != (spd,):
        raise ValueError(f"`window` must be of shape ({spd},) (one flag per step); got {window.shape}")
    share = np.clip(_per_customer(share, n, "share"), 0.0, 1.0)
    max_kw = _per_customer(max_kw, n, "max_kw")
    # Moving energy between equal prices saves nothing: a negative inconvenience acts as 0.
    inconvenience = np.maximum(_per_customer(inconvenience_per_kwh, n, "inconvenience_per_kwh"), 0.0)
    if n == 0 or not window.any():
        return load.copy()
    if price.ndim == 2:
        # Per-customer prices with few distinct rows (tiers, menus): the shared-price path
        # once per row, for the customers on it (the same result per customer).
        if groups is None:
            groups = group_rows(price)
        if groups is not None:
            return map_groups(groups, lambda g, ld, sh, mk, inc: _shift_shared(
                ld, groups.row(price, g), sh, window, mk, inc,
                None if groups.order is None else scratch("flexible:out", ld.shape)),
                load, share, max_kw, inconvenience)
    return _shift(load, price, share, window, max_kw, inconvenience)


def _cumsum_rows(values: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``np.cumsum(values, axis=0, out=out)`` of a (steps, n) array, one row at a time.

    The same additions in the same order (a running sum is sequential), but each is one
    vector operation over the customers: about 10x faster than ``np.cumsum`` along
    either axis of 16k x 24 values. ``out`` may be ``values``.
    """
    if out is not values:
        out[0] = values[0]
    for j in range(1, values.shape[0]):
        np.add(out[j - 1], values[j], out=out[j])
    return out


def _shift_shared(load: np.ndarray, price: np.ndarray, share: np.ndarray, window: np.ndarray,
                  max_kw: np.ndarray, inconvenience: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """:func:`_shift` with one price row for the block, computed step-major.

    The arithmetic of :func:`_shift`, element for element (the same result bit for bit),
    on (steps, n) arrays: an operation along the steps (running sum, maximum, differences,
    reordering) is then a few vector operations over the customers instead of a loop over
    short rows. Two transposed copies (in and out) pay for it several times over. The
    result goes to ``out`` when given (shape (n, spd)), else to a fresh array.
    """
    n, spd = load.shape
    order = np.argsort(price, kind="stable")
    price_sorted = price[order]
    in_window = window[order]
    windows_so_far = np.arange(1.0, spd + 1) if window.all() else np.cumsum(in_window)
    work = scratch("flexible:work", (spd, n))
    np.copyto(work, load.T)                                             # (steps, n), time order
    flex = np.take(work, order, axis=0, out=scratch("flexible:flex", (spd, n)), mode="clip")  # price order
    flex *= share
    if not window.all():
        flex *= in_window[:, None]                                      # flexible power f, 0 outside
    cap_kw = np.maximum(max_kw, flex.max(axis=0))                       # device power K >= every f
    cum_flex = _cumsum_rows(flex, flex)                                 # F[j]
    total = cum_flex[-1].copy()
    # Q = max_j min(R[j], S[j]) over the last step j of each price level (see _shift).
    cols = np.flatnonzero(np.append(price_sorted[1:] != price_sorted[:-1], True))
    room = cap_kw * windows_so_far[cols][:, None] - cum_flex[cols]
    threshold = price_sorted[cols][:, None] + inconvenience
    index = np.searchsorted(price_sorted, threshold.reshape(-1), side="right").reshape(threshold.shape)
    index -= 1                                                          # >= 0: p[j] itself counts
    index *= n
    index += np.arange(n)
    above = np.take(cum_flex.reshape(-1), index)
    np.subtract(total, above, out=above)
    candidate = np.minimum(room, above, out=above)
    moved = np.maximum(candidate.max(axis=0), 0.0)                      # Q; not -1e-17 from rounding
    # Arrivals A[j] = min(R[j], Q), departures B[j] = min(total - F[j], Q), H = A + B.
    h_run, delta = _queue_heads(cap_kw, windows_so_far[:, None], cum_flex, total, moved, work)
    np.subtract(h_run[1:], h_run[:-1], out=delta[1:])
    np.subtract(h_run[0], moved, out=delta[0])
    back = np.take(delta, np.argsort(order), axis=0, out=h_run, mode="clip")   # time order
    out = np.add(back.T, load, out=out)
    # A step gives at most its own flexible energy; rounding must not leave -1e-17 kW.
    return np.maximum(out, 0.0, out=out)


def _shift(load: np.ndarray, price: np.ndarray, share: np.ndarray, window: np.ndarray, max_kw: np.ndarray,
           inconvenience: np.ndarray) -> np.ndarray:
    """:func:`shift_flexible` on checked arguments (``n >= 1``, some window step)."""
    n, spd = load.shape
    if price.ndim == 1:
        return _shift_shared(load, price, share, window, max_kw, inconvenience)
    # Everything below is in kW x steps (h multiplies every term alike), on the steps in
    # increasing price order: sinks are read left to right, sources right to left. A few
    # (n, spd) buffers are reused throughout: on a block of 16k customers, every fresh
    # (n, spd) array costs about as much in page faults as the arithmetic on it.
    order = _ascending_order(price)
    shared = order.ndim == 1
    price_sorted = price[order] if shared else np.take_along_axis(price, order, axis=1)
    in_window = window[order]
    # Window steps among the j+1 cheapest (the same for all when the window is the whole day).
    windows_so_far = np.arange(1.0, spd + 1) if window.all() else np.cumsum(in_window, axis=-1)
    flex = _take(load, order)
    flex *= share[:, None]
    if not window.all():
        flex *= in_window                                               # flexible power f, 0 outside
    cap_kw = np.maximum(max_kw, flex.max(axis=1))[:, None]              # device power K >= every f
    cum_flex = np.cumsum(flex, axis=1)                                  # F[j]: the j+1 cheapest steps' energy
    total = cum_flex[:, -1:].copy()

    # Q = max_j min(R[j], S[j]): R[j] = K x (window steps up to j) - F[j] is the headroom of
    # the sinks up to j (every K - f >= 0), S[j] the energy priced above p[j] + c. Within a
    # level of equal prices S is constant and R grows, so only each level's last step counts.
    if shared:
        cols = np.flatnonzero(np.append(price_sorted[1:] != price_sorted[:-1], True))
        room = cap_kw * windows_so_far[cols] - np.take(cum_flex, cols, axis=1)
        threshold = price_sorted[cols] + inconvenience[:, None]
    else:
        room = np.multiply(cap_kw, windows_so_far)
        room -= cum_flex
        threshold = np.add(price_sorted, inconvenience[:, None], out=flex)
    # m steps are priced at most p[j] + c (m >= j + 1: p[j] itself); the rest hold total - F[m - 1].
    index = _count_at_most(price_sorted, threshold)
    index += (np.arange(n) * spd - 1)[:, None]
    above = np.take(cum_flex.reshape(-1), index, out=threshold, mode="clip")   # indices are valid
    np.subtract(total, above, out=above)
    candidate = np.minimum(room, above, out=above)
    if not shared:
        # The same candidates as a shared price would use (last step of each level), so
        # that a customer's result does not depend on how its price was passed: R is only
        # nondecreasing within a level up to rounding.
        not_last = np.zeros((n, spd), dtype=bool)
        np.equal(price_sorted[:, 1:], price_sorted[:, :-1], out=not_last[:, :-1])
        candidate[not_last] = -np.inf
    moved = _row_max(candidate)
    moved = np.maximum(moved, 0.0)[:, None]                             # Q; not -1e-17 from rounding

    # Arrivals: the first Q units of the sink queue, A[j] = min(R[j], Q) cumulated from the
    # cheapest step. Departures: the first Q units of the source queue, the energy above
    # the cumulative-from-the-top level: B[j] = min(total - F[j], Q) is what leaves steps
    # after j. With H[j] = A[j] + B[j] and H[-1] = Q (nothing arrived, Q to leave), the
    # change of step j is H[j] - H[j-1] = (A[j] - A[j-1]) - (B[j-1] - B[j]). A step that
    # neither gives nor receives has H[j] == H[j-1] bit for bit: it changes by exactly 0.
    h_run, delta = _queue_heads(cap_kw, windows_so_far, cum_flex, total, moved, flex)
    _step_diff(h_run, delta, h_run[:, 0] - moved[:, 0])
    out = _untake(delta, order, out=h_run)
    out += load
    # A step gives at most its own flexible energy; rounding must not leave -1e-17 kW.
    return np.maximum(out, 0.0, out=out)
