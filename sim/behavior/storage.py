"""Thermal storage (heat or cold) dispatched against the day's prices: charge cheap, serve dear.

A customer with an ice or chilled-water tank (cold) or an electric boiler with a heat store
(heat) can make the heat or cold its load needs at one time and use it at another. Part of
each step's load (``thermal_share``) is heating or cooling that the store can serve; the
store is charged by its own meter when the tariff has a storage rate (蓄热(冷)电价), else
by the main meter, and serving from it removes that load from the main meter.

The day is planned with both price vectors known (a day-ahead schedule; one-day horizons
are only marginally worse than longer ones for ice storage [2]_), in units of stored
energy, for customer ``i`` with round-trip efficiency ``eta``, power ``P`` and capacity
``C``:

1. **Plan: pair dear serving with cheap charging.** Discharge candidates are the steps
   in decreasing ``serve_price`` order (ties: earlier step first), each able to serve
   ``min(P, thermal load) x h``; charge candidates are the steps in increasing
   ``charge_price`` order (ties: earlier first), each able to store ``eta x P x h``.
   Served energy at price ``p`` is paired with stored energy bought at ``q / eta``
   (``q / eta`` per kWh served, since only ``eta`` of a kWh bought comes back), dearest
   with cheapest, for as long as ``p > q / eta`` -- storing pays only there, and it
   never pays under one flat price for both (``p > p / eta`` is false). The amount paired
   is, as in :mod:`sim.behavior.flexible`,

       Q = min(C, max over charge steps j of min((j + 1) x eta x P x h,
                                                  servable energy priced above q[j] / eta))

   and the plan discharges the ``Q`` dearest servable kWh and charges the ``Q`` cheapest
   storable kWh: enough to replace what it serves, and at most one capacity a day. Every
   served kWh is worth more than every charged kWh costs (``p_min > q_max / eta``).
2. **Feasible in time order.** The plan ignores when things happen; cumulative sums put
   it in order. With ``S[t] = soc0 + cumsum((eta x charge - discharge) x h)[t]`` the
   planned state of charge at the end of step ``t`` (charge drawn from the meter,
   discharge served, both in kW):

   * *never below zero* -- discharge is cut as little as possible, as early as needed.
     With ``A[t] = soc0 + cumsum(eta x charge x h)[t]`` the energy made available and
     ``D[t]`` the planned cumulative discharge, ``S = A - D`` and the feasible cumulative
     discharge is ``D'[t] = D[t] + min(0, min_{k<=t} (A[k] - D[k]))`` (running minimum).
     Derivation: by ``t`` the planned state has fallen below zero by at most
     ``W[t] = -min(0, min_{k<=t} S[k])``; withholding exactly that much discharge by ``t``
     (and no more) leaves every ``S'[k] = S[k] + W[k] >= 0`` (as ``W[k] >= -S[k]``), and
     an earlier or smaller cut would not. ``W`` never decreases, and grows in a step only
     to its new deficit, by at most that step's net discharge ``d - eta x c``, so each
     step's discharge ``d'[t] = d[t] - (W[t] - W[t-1])`` stays in ``[0, d[t]]``;
   * *never above capacity* -- charge is cut by the running maximum of the overshoot,
     ``U[t] = max(0, max_{k<=t} (S'[k] - C))``, in the steps where the store would
     overflow (``U`` only grows in a step that adds energy, by at most what it adds).
     Cutting charge lowers the state of charge afterwards, but by at most the drop since
     the overflow, which is at most the day's discharge ``<= Q <= C``: the store stays
     >= 0, so this second pass does not undo the first.

   Charging and discharging in the same step are allowed (they net within the step; the
   state of charge is checked at step ends). Energy bought for a discharge that had to
   be cut stays in the store for the next day.
3. **Standing loss** is applied once, at the end of the day, to the energy left:
   ``soc_end = S'[T] x (1 - loss_per_hour) ** (spd x h)``. Within the day the store is
   taken as lossless: a simplification that overstates the served energy by about
   ``loss x hours stored`` (0.5 %/h over 12 h: ~6 %) and keeps the day's balance
   ``soc_end = (soc0 + eta x charged - served) x (1 - loss) ** 24`` exact.

With non-negative charge prices the day's bill (main meter at ``serve_price`` plus storage
at ``charge_price``) never exceeds the bill without storage, except by the cost of energy
left in the store for the next day (at most ``max(charge_price) / eta`` per kWh of net
gain); a store that starts full never gains, so its bill never rises.

References
----------
.. [1] K. H. Drees and J. E. Braun, "Development and evaluation of a rule-based control
   strategy for ice storage systems", HVAC&R Research 2(4), October 1996, p. 312 ff.:
   simple rules for charging off-peak and discharging on-peak came within about 3 % of
   the optimal monthly cost (chiller-priority control: up to 20 % above). Only the
   abstract and introduction were read for this module; the rule here is its own.
.. [2] G. P. Henze, R. H. Dodier and M. Krarti, "Development of a predictive optimal
   controller for thermal energy storage systems", University of Colorado at Boulder,
   manuscript of 15 January 1997 (published in HVAC&R Research 3(3), 1997; the journal
   version was not read): planning horizons of about one day were only marginally
   suboptimal relative to a week. Only the abstract was read.
"""

from __future__ import annotations

import numpy as np

from ._rows import RowGroups, group_rows, map_groups
from .flexible import _day_prices, _per_customer, _row_max, _step_diff, _take, _untake

__all__ = ["dispatch_storage"]


def _count_above(sorted_desc: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Per row, how many entries of ``sorted_desc`` (descending) are > each query.

    ``queries`` (n, k) must be ascending along each row when ``sorted_desc`` is per row.
    """
    n, k = queries.shape
    if sorted_desc.ndim == 1:
        ascending = sorted_desc[::-1]
        return sorted_desc.size - np.searchsorted(ascending, queries.ravel(), side="right").reshape(n, k)
    m = sorted_desc.shape[1]
    # Merge (-entries, ascending) with (-queries, ascending): an entry counts when
    # -entry < -query, i.e. before it in a stable merge with the queries placed first.
    negated_queries = -queries[:, ::-1]
    merged = np.argsort(np.concatenate([negated_queries, -sorted_desc], axis=1), axis=1, kind="stable")
    # The j-th (negated) query of a row sits at position j + (entries before it).
    position = np.flatnonzero(merged.reshape(-1) < k).reshape(n, k) % (m + k)
    position -= np.arange(k)
    return np.ascontiguousarray(position[:, ::-1])


class _Rows:
    """Some rows of a block: a gathered copy when they are few, the whole block (in place) when many.

    Past an eighth of the block, gathering and scattering the rows costs more than working
    on all of them: rows that need no correction get a correction of exactly zero.
    """

    def __init__(self, rows: np.ndarray, n: int):
        self.rows = None if rows.size * 8 > n else rows

    def get(self, values: np.ndarray) -> np.ndarray:
        return values if self.rows is None else values[self.rows]

    def put(self, values: np.ndarray, part: np.ndarray) -> None:
        if self.rows is not None:
            values[self.rows] = part


def dispatch_storage(load_kw: np.ndarray, charge_price: np.ndarray, serve_price: np.ndarray,
                     thermal_share: np.ndarray, capacity_kwh: np.ndarray, power_kw: np.ndarray,
                     efficiency: np.ndarray, loss_per_hour: np.ndarray, soc_kwh: np.ndarray,
                     step_hours: float, *, groups: RowGroups | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plan one day of a thermal store: main-meter load, storage charging, end state.

    See the module docstring for the plan (pair the dearest served kWh with the cheapest
    stored kWh while ``serve > charge / efficiency``, at most one capacity a day), the
    feasibility passes (running minimum, then running maximum of the state of charge) and
    the end-of-day standing loss.

    Parameters
    ----------
    load_kw : ndarray, shape (n, spd)
        Main-meter load before storage, >= 0. [kW]
    charge_price : ndarray, shape (spd,) or (n, spd)
        Price the charging energy pays: the storage meter's rate when the tariff has one,
        else the main price. [currency/kWh]
    serve_price : ndarray, shape (spd,) or (n, spd)
        Main-meter price that serving from the store avoids. [currency/kWh]
    thermal_share : ndarray, shape (n,)
        Share of each step's load that is heating or cooling the store can serve;
        clipped to [0, 1]. [-]
    capacity_kwh : ndarray, shape (n,)
        Energy the store holds when full, >= 0. [kWh]
    power_kw : ndarray, shape (n,)
        Largest charging power drawn, and largest thermal load served, in a step (each;
        both may happen in one step), >= 0. [kW]
    efficiency : ndarray, shape (n,)
        Round-trip efficiency, in (0, 1]: a kWh charged can serve ``efficiency`` kWh. [-]
    loss_per_hour : ndarray, shape (n,)
        Standing loss, share of the stored energy lost per hour, in [0, 1). Applied at the
        end of the day (see the module docstring). [1/h]
    soc_kwh : ndarray, shape (n,)
        State of charge at the start of the day (the previous day's ``soc_end_kwh``);
        clipped to [0, capacity_kwh]. [kWh]
    step_hours : float
        Length of one step, ``24 / spd``. [h]
    groups : RowGroups, optional
        ``group_rows(charge_price, serve_price)`` when the caller has it already
        (per-customer prices only); found here otherwise. Customers with equal price rows
        run together on the shared-price path; a customer's result is the same either way.

    Returns
    -------
    main_kw : ndarray, shape (n, spd)
        Main-meter load after storage, ``load_kw - discharge``, >= 0. [kW]
    charge_kw : ndarray, shape (n, spd)
        Power drawn by the store's charging (what the storage meter, or the main meter
        when there is none, must add), in [0, power_kw]. [kW]
    soc_end_kwh : ndarray, shape (n,)
        State of charge at the end of the day after the standing loss, in [0, capacity].
        [kWh]

    Notes
    -----
    Invariants (tested in ``tests/test_behavior_shifting.py``): the state of charge
    recomputed from the returned arrays stays in [0, capacity] at every step end; charge
    and discharge are each <= ``power_kw``; discharge <= thermal load; ``soc_end =
    (soc0 + eta x charged - served) x (1 - loss) ** (spd x h)``; equal flat prices
    dispatch nothing; the bill never rises (start full) or rises only by the energy
    banked for tomorrow.

    References
    ----------
    .. [1] Drees and Braun 1996, HVAC&R Research 2(4); [2] Henze, Dodier and Krarti
       1997; see the module docstring.
    """
    load = np.asarray(load_kw, dtype=np.float64)
    if load.ndim != 2:
        raise ValueError(f"`load_kw` must be of shape (n, spd); got {load.shape}")
    n, spd = load.shape
    h = float(step_hours)
    if not np.isfinite(h) or h <= 0:
        raise ValueError(f"`step_hours` must be > 0; got {step_hours!r}")
    charge_price = _day_prices(charge_price, n, spd, "charge_price")
    serve_price = _day_prices(serve_price, n, spd, "serve_price")
    share = np.clip(_per_customer(thermal_share, n, "thermal_share"), 0.0, 1.0)
    capacity = np.maximum(_per_customer(capacity_kwh, n, "capacity_kwh"), 0.0)
    power = np.maximum(_per_customer(power_kw, n, "power_kw"), 0.0)
    eff = _per_customer(efficiency, n, "efficiency")
    if np.any(~(eff > 0) | (eff > 1)):
        bad = eff[~(eff > 0) | (eff > 1)]
        raise ValueError(f"`efficiency` must be in (0, 1]; got {bad[:5]!r}")
    loss = _per_customer(loss_per_hour, n, "loss_per_hour")
    if np.any(~(loss >= 0) | (loss >= 1)):
        bad = loss[~(loss >= 0) | (loss >= 1)]
        raise ValueError(f"`loss_per_hour` must be in [0, 1); got {bad[:5]!r}")
    soc0 = np.clip(_per_customer(soc_kwh, n, "soc_kwh"), 0.0, capacity)
    if charge_price.ndim == 2 or serve_price.ndim == 2:
        # Per-customer prices with few distinct rows (tiers, menus): the shared-price path
        # once per pair of rows, for the customers on it (the same result per customer).
        if groups is None:
            groups = group_rows(charge_price, serve_price)
        if groups is not None:
            return map_groups(groups, lambda g, *parts: _dispatch(
                parts[0], groups.row(charge_price, g), groups.row(serve_price, g), *parts[1:], h),
                load, share, capacity, power, eff, loss, soc0)
    return _dispatch(load, charge_price, serve_price, share, capacity, power, eff, loss, soc0, h)


def _dispatch(load, charge_price, serve_price, share, capacity, power, eff, loss, soc0, h):
    """:func:`dispatch_storage` on checked arguments."""
    n, spd = load.shape
    # Internally energies are in kW x steps (kWh / h) of *stored* energy: a step stores at
    # most eta x P, serves at most min(P, thermal load); capacity and soc are divided by h.
    cap = capacity / h
    stored_per_step = eff * power

    # 1. Plan. Servable power in decreasing serve-price order, and its running total D[j].
    serve_order = np.argsort(-serve_price, axis=-1, kind="stable")     # dearest first, ties earliest
    serve_desc = (serve_price[serve_order] if serve_order.ndim == 1
                  else np.take_along_axis(serve_price, serve_order, axis=1))
    buf1 = _take(load, serve_order)
    buf1 *= share[:, None]
    servable = np.minimum(buf1, power[:, None], out=buf1)
    cum_serve = np.cumsum(servable, axis=1)                            # D[j]: the j+1 dearest steps

    # Q = min(C, max_j min((j + 1) e, servable energy priced above q[j] / eta)), over the
    # charge steps j in increasing price order. Within a level of equal charge prices the
    # second term is constant and the first grows: with a shared charge price only each
    # level's last step is evaluated.
    charge_order = np.argsort(charge_price, axis=-1, kind="stable")   # cheapest first, ties earliest
    if charge_order.ndim == 1:
        charge_asc = charge_price[charge_order]
        cols = np.flatnonzero(np.append(charge_asc[1:] != charge_asc[:-1], True))
        breakeven = charge_asc[cols] / eff[:, None]                     # (n, L), ascending per row
    else:
        charge_asc = np.take_along_axis(charge_price, charge_order, axis=1)
        cols = np.arange(spd)
        breakeven = charge_asc / eff[:, None]
    n_dearer = _count_above(serve_desc, breakeven)                     # servable steps priced above
    index = n_dearer - 1
    np.maximum(index, 0, out=index)
    index += (np.arange(n) * spd)[:, None]
    pairable = np.take(cum_serve.reshape(-1), index)
    pairable *= n_dearer > 0                                           # none dearer: nothing pairs
    np.minimum(pairable, stored_per_step[:, None] * (cols + 1.0), out=pairable)
    plan = np.minimum(_row_max(pairable), cap)                         # Q, stored kW x steps
    np.maximum(plan, 0.0, out=plan)
    plan_col = plan[:, None]

    # Discharge: the Q dearest servable units, min(D[j], Q) - min(D[j-1], Q) in step j of
    # the serve order. Charge: the Q cheapest storable units, min((j + 1) e, Q) - min(j e, Q)
    # = clip(Q - j e, 0, e) in step j of the charge order.
    capped = np.minimum(cum_serve, plan_col, out=cum_serve)
    served_sorted = _step_diff(capped, buf1, capped[:, 0])
    discharge = _untake(served_sorted, serve_order, out=cum_serve)
    # The charge is computed at each step's place in the charge order (its rank), directly
    # in time order.
    if charge_order.ndim == 1:
        rank = np.empty(spd)
        rank[charge_order] = np.arange(spd)
    else:
        rank = np.empty((n, spd))
        np.put_along_axis(rank, charge_order, np.arange(spd, dtype=np.float64)[None, :], axis=1)
    charge = np.multiply(stored_per_step[:, None], rank, out=buf1)
    np.subtract(plan_col, charge, out=charge)
    np.maximum(charge, 0.0, out=charge)
    np.minimum(charge, stored_per_step[:, None], out=charge)

    # 2. Feasible in time order. S: planned state of charge at each step end (kW x steps).
    soc = np.subtract(charge, discharge)
    np.cumsum(soc, axis=1, out=soc)
    soc += (soc0 / h)[:, None]
    soc_t = np.array(soc.T, order="C")                                 # row min / max (see _row_max); a copy
    low = np.flatnonzero(soc_t.min(axis=0) < 0)
    high = soc_t.max(axis=0) > cap
    scratch = soc_t.reshape(n, spd)                                    # free from here on
    if low.size:
        # Never below zero: withheld discharge W[t] = -min(0, min_{k<=t} S[k]) (running
        # minimum); S' = S + W >= 0 and d'[t] = d[t] - (W[t] - W[t-1]).
        rows = _Rows(low, n)
        s_low = rows.get(soc)
        withheld = np.minimum.accumulate(s_low, axis=1, out=scratch if rows.rows is None else None)
        np.minimum(withheld, 0.0, out=withheld)
        np.negative(withheld, out=withheld)
        s_low += withheld
        rows.put(soc, s_low)
        d_low = rows.get(discharge)
        d_low -= withheld
        d_low[:, 1:] += withheld[:, :-1]
        rows.put(discharge, d_low)
        if rows.rows is None:
            high = soc.max(axis=1) > cap
        else:
            high[low] = _row_max(s_low) > cap[low]
    high = np.flatnonzero(high)
    if high.size:
        # Never above capacity: charge cut U[t] = max(0, max_{k<=t} (S'[k] - C)) (running
        # maximum); S'' = S' - U and c'[t] = c[t] - (U[t] - U[t-1]).
        rows = _Rows(high, n)
        s_high = rows.get(soc)
        overflow = np.subtract(s_high, rows.get(cap)[:, None], out=scratch if rows.rows is None else None)
        np.maximum.accumulate(overflow, axis=1, out=overflow)
        np.maximum(overflow, 0.0, out=overflow)
        s_high -= overflow
        rows.put(soc, s_high)
        c_high = rows.get(charge)
        c_high -= overflow
        c_high[:, 1:] += overflow[:, :-1]
        rows.put(charge, c_high)
    if low.size or high.size:
        # Rounding must not leave -1e-17 kW.
        np.maximum(discharge, 0.0, out=discharge)
        np.maximum(charge, 0.0, out=charge)

    # 3. Outputs in kW, and the end state after the day's standing loss.
    main = np.subtract(load, discharge, out=discharge)
    np.maximum(main, 0.0, out=main)                                    # discharge <= thermal load <= load
    charge /= eff[:, None]                                             # stored -> drawn from the meter
    soc_end = np.maximum(soc[:, -1], 0.0) * h * (1.0 - loss) ** (spd * h)
    return main, charge, soc_end
