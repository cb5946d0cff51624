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

from typing import NamedTuple

import numpy as np

from .._jit import jit
from ..rowmath import RowGroups, group_rows
from .inputs import day_prices, per_customer
from .prices import avoid_steps, spread
from .registry import CustomerParams, ResponseDay, ResponseModel, register, writable

__all__ = ["Store", "dispatch_storage"]


class Store(NamedTuple):
    """Each customer's thermal store, as :func:`dispatch_storage` takes it (scalars are
    broadcast to every customer).

    Attributes
    ----------
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
    """

    thermal_share: np.ndarray
    capacity_kwh: np.ndarray
    power_kw: np.ndarray
    efficiency: np.ndarray
    loss_per_hour: np.ndarray


def dispatch_storage(load_kw: np.ndarray, charge_price: np.ndarray, serve_price: np.ndarray, store: Store,
                     soc_kwh: np.ndarray, step_hours: float, *, groups: RowGroups | None = None
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
    store : Store
        Each customer's store: thermal share, capacity, power, efficiency, standing loss.
    soc_kwh : ndarray, shape (n,)
        State of charge at the start of the day (the previous day's ``soc_end_kwh``);
        clipped to [0, capacity_kwh]. [kWh]
    step_hours : float
        Length of one step, ``24 / spd``. [h]
    groups : RowGroups, optional
        ``group_rows(charge_price, serve_price)`` when the caller has it already
        (per-customer prices only); found here otherwise. What depends on prices alone
        (sort orders, levels) is then found once per distinct row; a customer's result is
        the same either way.

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
    charge_price = day_prices(charge_price, n, spd, "charge_price")
    serve_price = day_prices(serve_price, n, spd, "serve_price")
    share = np.clip(per_customer(store.thermal_share, n, "thermal_share"), 0.0, 1.0)
    capacity = np.maximum(per_customer(store.capacity_kwh, n, "capacity_kwh"), 0.0)
    power = np.maximum(per_customer(store.power_kw, n, "power_kw"), 0.0)
    eff = per_customer(store.efficiency, n, "efficiency")
    if np.any(~(eff > 0) | (eff > 1)):
        bad = eff[~(eff > 0) | (eff > 1)]
        raise ValueError(f"`efficiency` must be in (0, 1]; got {bad[:5]!r}")
    loss = per_customer(store.loss_per_hour, n, "loss_per_hour")
    if np.any(~(loss >= 0) | (loss >= 1)):
        bad = loss[~(loss >= 0) | (loss >= 1)]
        raise ValueError(f"`loss_per_hour` must be in [0, 1); got {bad[:5]!r}")
    soc0 = np.clip(per_customer(soc_kwh, n, "soc_kwh"), 0.0, capacity)
    if groups is None and (charge_price.ndim == 2 or serve_price.ndim == 2):
        # Per-customer prices with few distinct rows (tiers, menus): the price rows are
        # sorted once per group (the same result per customer).
        groups = group_rows(charge_price, serve_price)
    return _dispatch(load, charge_price, serve_price, Store(share, capacity, power, eff, loss), soc0, h, groups)


def _price_rows(price: np.ndarray, n: int, groups: RowGroups | None) -> tuple[np.ndarray, np.ndarray, bool]:
    """The distinct rows of a day's prices, each customer's row among them, and whether
    every customer has its own row.

    A shared (spd,) price is one row; per-customer prices are their groups' rows when
    ``groups`` is given, else every customer's own row.
    """
    if price.ndim == 1:
        return price[None, :], np.zeros(n, dtype=np.intp), False
    if groups is not None:
        return np.ascontiguousarray(price[groups.first]), groups.inverse, False
    return np.ascontiguousarray(price), np.arange(n, dtype=np.intp), True


def _dispatch(load, charge_price, serve_price, store: Store, soc0, h, groups=None):
    """:func:`dispatch_storage` on checked arguments (``store``: float64 arrays, in range).

    What depends on prices only (:func:`_serve_order`, :func:`_charge_levels`) is found
    once per distinct price row: once for a shared price, once per group with ``groups``
    (:func:`_price_tables`, before the customers), else per customer inside
    :func:`_dispatch_rows`. The same arithmetic either way, so the same result bit for bit.
    """
    n, spd = load.shape
    serve_rows, serve_row, serve_own = _price_rows(serve_price, n, groups)
    charge_rows, charge_row, charge_own = _price_rows(charge_price, n, groups)
    tables = _price_tables(serve_rows[:0] if serve_own else serve_rows,
                           charge_rows[:0] if charge_own else charge_rows)
    share, capacity, power, eff, loss = store
    decay = (1.0 - loss) ** (spd * h)
    main = np.empty((n, spd))
    charge = np.empty((n, spd))
    soc_end = np.empty(n)
    _dispatch_rows(np.ascontiguousarray(load), share, capacity, power, eff, soc0, decay, h,
                   serve_rows, serve_row, serve_own, charge_rows, charge_row, charge_own, *tables,
                   main, charge, soc_end)
    return main, charge, soc_end


@jit
def _serve_order(p, order, desc):
    """Steps of the price row ``p`` by decreasing price, ties earlier step first (a stable
    insertion sort, as ``np.argsort(-p, kind="stable")``), into ``order``, and the prices in
    that order into ``desc``."""
    spd = p.shape[0]
    for t in range(spd):
        x = p[t]
        j = t
        while j > 0 and p[order[j - 1]] < x:
            order[j] = order[j - 1]
            j -= 1
        order[j] = t
    for k in range(spd):
        desc[k] = p[order[k]]


@jit
def _charge_levels(p, order, rank, level_price, level_count):
    """Each step's place in increasing price order of the row ``p`` (ties: earlier step
    first; a stable insertion sort in ``order``) as a float into ``rank``, and the levels of
    equal prices: level ``l`` has price ``level_price[l]`` (ascending) and ends at the
    ``level_count[l]``-th step of the order (a float). Returns the number of levels."""
    spd = p.shape[0]
    for t in range(spd):
        x = p[t]
        j = t
        while j > 0 and p[order[j - 1]] > x:
            order[j] = order[j - 1]
            j -= 1
        order[j] = t
    levels = 0
    for k in range(spd):
        rank[order[k]] = k
        if k == spd - 1 or p[order[k + 1]] != p[order[k]]:
            level_price[levels] = p[order[k]]
            level_count[levels] = k + 1.0
            levels += 1
    return levels


@jit
def _price_tables(serve_rows, charge_rows):
    """:func:`_serve_order` of each row of ``serve_rows`` and :func:`_charge_levels` of each
    row of ``charge_rows``: (serve order, serve prices descending, charge rank, level
    prices, level counts, number of levels), one row per price row."""
    spd = serve_rows.shape[1]
    serve_order = np.empty(serve_rows.shape, dtype=np.intp)
    serve_desc = np.empty(serve_rows.shape)
    for r in range(serve_rows.shape[0]):
        _serve_order(serve_rows[r], serve_order[r], serve_desc[r])
    charge_rank = np.empty(charge_rows.shape)
    level_price = np.empty(charge_rows.shape)
    level_count = np.empty(charge_rows.shape)
    n_levels = np.empty(charge_rows.shape[0], dtype=np.intp)
    order = np.empty(spd, dtype=np.intp)
    for r in range(charge_rows.shape[0]):
        n_levels[r] = _charge_levels(charge_rows[r], order, charge_rank[r], level_price[r], level_count[r])
    return serve_order, serve_desc, charge_rank, level_price, level_count, n_levels


@jit
def _dispatch_rows(load, share, capacity, power, eff, soc0, decay, h,
                   serve_rows, serve_row, serve_own, charge_rows, charge_row, charge_own,
                   serve_order, serve_desc, charge_rank, level_price, level_count, n_levels,
                   main, charge_out, soc_end):
    """One day of each customer's store, one customer at a time (see the module docstring).

    Customer ``i`` reads its own load and parameters, and its price rows ``serve_row[i]``
    and ``charge_row[i]``: their tables from :func:`_price_tables`, or, when ``serve_own``
    (``charge_own``) says each customer has its own row, :func:`_serve_order`
    (:func:`_charge_levels`) of it, found here. Energies are in kW x steps of stored energy
    (kWh / h): a step stores at most ``e = eta x P``, serves at most ``min(P, share x
    load)``; ``C = capacity / h``. In order:

    1. servable power in decreasing serve-price order and its running total ``D[k]``;
    2. ``Q = max(0, min(C, max over charge levels of min(e x steps up to the level's end,
       D[m - 1])))``, with ``m`` the servable steps priced above ``level price / eta``
       (``D[-1] = 0``), counted by one pointer over the levels from the dearest;
    3. discharge ``min(D[k], Q) - min(D[k-1], Q)`` at the k-th serve step; charge
       ``min(max(Q - e x rank, 0), e)`` at each step;
    4. ``S = cumsum(charge - discharge) + soc0 / h``; if some ``S < 0``, the running minimum
       ``W = -min(0, min S[..t])`` is added to ``S`` and comes off the discharge
       (``d[t] - W[t] + W[t-1]``); then if some ``S > C``, the running maximum
       ``U = max(0, max (S - C)[..t])`` comes off ``S`` and the charge
       (``c[t] - U[t] + U[t-1]``); a row so corrected has its discharge and charge
       clipped at 0 (rounding);
    5. ``main = max(load - discharge, 0)``, ``charge_out = charge / eta``, ``soc_end =
       max(S[-1], 0) x h x decay[i]``.

    Sums run in step order (as cumulative sums do); no fast-math. Prices and loads are
    taken as not NaN (comparisons with NaN are false here).
    """
    n, spd = load.shape
    cum = np.empty(spd)
    dis = np.empty(spd)
    chg = np.empty(spd)
    soc = np.empty(spd)
    own_order = np.empty(spd, dtype=np.intp)
    own_desc = np.empty(spd)
    own_charge_order = np.empty(spd, dtype=np.intp)
    own_rank = np.empty(spd)
    own_level_price = np.empty(spd)
    own_level_count = np.empty(spd)
    for i in range(n):
        if serve_own:
            _serve_order(serve_rows[serve_row[i]], own_order, own_desc)
            order, desc = own_order, own_desc
        else:
            order, desc = serve_order[serve_row[i]], serve_desc[serve_row[i]]
        if charge_own:
            levels = _charge_levels(charge_rows[charge_row[i]], own_charge_order, own_rank,
                                    own_level_price, own_level_count)
            rank, lev_price, lev_count = own_rank, own_level_price, own_level_count
        else:
            cr = charge_row[i]
            rank, lev_price, lev_count, levels = charge_rank[cr], level_price[cr], level_count[cr], n_levels[cr]
        p_i = power[i]
        eta = eff[i]
        cap = capacity[i] / h
        e = eta * p_i
        share_i = share[i]
        # 1. Servable power, dearest serve step first, and its running total.
        total = 0.0
        for k in range(spd):
            x = load[i, order[k]] * share_i
            if not x <= p_i:
                x = p_i
            total += x
            cum[k] = total
        # 2. Q: charge levels from the dearest, the count m of dearer serve steps growing.
        best = -np.inf
        m = 0
        for lv in range(levels - 1, -1, -1):
            breakeven = lev_price[lv] / eta
            while m < spd and desc[m] > breakeven:
                m += 1
            pair = cum[m - 1] if m > 0 else 0.0
            limit = e * lev_count[lv]
            if not pair <= limit:
                pair = limit
            if pair > best:
                best = pair
        plan = best if best <= cap else cap
        if not plan >= 0.0:
            plan = 0.0
        # 3. The plan in time order.
        prev = 0.0
        for k in range(spd):
            c = cum[k] if cum[k] <= plan else plan
            dis[order[k]] = c if k == 0 else c - prev
            prev = c
        for t in range(spd):
            x = plan - e * rank[t]
            if not x >= 0.0:
                x = 0.0
            chg[t] = x if x <= e else e
        # 4. Feasible in time order.
        s0 = soc0[i] / h
        run = 0.0
        low = False
        high = False
        for t in range(spd):
            run += chg[t] - dis[t]
            s = run + s0
            soc[t] = s
            low |= s < 0.0
            high |= s > cap
        if low:
            high = False
            lowest = soc[0]
            before = 0.0
            for t in range(spd):
                if soc[t] < lowest:
                    lowest = soc[t]
                withheld = -(lowest if lowest <= 0.0 else 0.0)
                s = soc[t] + withheld
                soc[t] = s
                high |= s > cap
                d = dis[t] - withheld
                if t > 0:
                    d += before
                dis[t] = d
                before = withheld
        if high:
            highest = soc[0] - cap
            before = 0.0
            for t in range(spd):
                over = soc[t] - cap
                if over > highest:
                    highest = over
                cut = highest if highest >= 0.0 else 0.0
                soc[t] -= cut
                c = chg[t] - cut
                if t > 0:
                    c += before
                chg[t] = c
                before = cut
        if low or high:
            # Rounding must not leave -1e-17 kW.
            for t in range(spd):
                if not dis[t] >= 0.0:
                    dis[t] = 0.0
                if not chg[t] >= 0.0:
                    chg[t] = 0.0
        # 5. Outputs in kW, and the end state after the day's standing loss.
        for t in range(spd):
            x = load[i, t] - dis[t]                 # discharge <= thermal load <= load
            main[i, t] = x if x >= 0.0 else 0.0
            charge_out[i, t] = chg[t] / eta
        last = soc[spd - 1]
        soc_end[i] = (last if last >= 0.0 else 0.0) * h * decay[i]


@register
class ThermalStorageModel(ResponseModel):
    """``model: thermal_storage``: in both roles, the customers with a store (``adoption``)
    charge it at the role's cheapest steps and serve their thermal share from it at the
    dearest (:func:`dispatch_storage`); the state of charge carries from day to day."""

    name = "thermal_storage"
    params = ("thermal_share", "capacity_kwh_per_mean_kw", "power_kw_per_mean_kw", "efficiency", "loss_per_hour")
    stage = 40
    roles = ("baseline", "scenario")
    stores_energy = True

    def __init__(self, settings):
        super().__init__(settings)
        self._customers: dict = {}

    def draw(self, draw_param, rng: np.random.Generator, rows: int) -> dict[str, np.ndarray]:
        out = super().draw(draw_param, rng, rows)
        out["adopted"] = rng.random(rows) < self.settings.adoption  # after the store's parameters
        return out

    def customers(self, idx, params: CustomerParams, mean_kw: np.ndarray):
        """The customers among ``idx`` who have a store (positions in ``idx``) and their
        store's parameters as :func:`dispatch_storage` takes them (thermal share, capacity
        [kWh], power [kW], efficiency, loss per hour). The same every day: kept for a chunk
        of consecutive customers (``idx`` a slice)."""
        key = (idx.start, idx.stop) if isinstance(idx, slice) else None
        found = self._customers.get(key) if key is not None else None
        if found is None:
            sub = np.flatnonzero(params.adopted[idx] > 0)
            i = (np.arange(idx.start, idx.stop) if isinstance(idx, slice) else idx)[sub]
            found = (sub, Store(params.thermal_share[i], params.capacity_kwh_per_mean_kw[i] * mean_kw[i],
                                params.power_kw_per_mean_kw[i] * mean_kw[i], params.efficiency[i],
                                params.loss_per_hour[i]))
            if key is not None:
                self._customers[key] = found
        return found

    def respond(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        soc, own, groups = None if day.soc is None else day.soc.get(self.name), day.own, day.groups
        if soc is None:
            return load
        # an empty store under one flat price neither charges nor serves: skipped
        if own.storage_price is None and spread(groups.own_rows(), None) == 0 and not soc.any():
            return load
        sub, store = self.customers(day.idx, params, day.mean_kw)
        if not len(sub):
            return load
        serve = own.price if own.price.ndim == 1 else own.price[sub]
        charge_price = own.storage_price if own.storage_price is not None else serve
        # (a storage price is shared: the customers' groups are those of their own prices)
        own_groups = groups.own()
        sub_groups = (own_groups.subset(sub) if own_groups is not None
                      and (charge_price is serve or np.ndim(charge_price) == 1) else None)
        if own.grid_event is not None:
            # the network operator's grid events: charging there never pays (the customers' rows found anew)
            charge_price, sub_groups = avoid_steps(charge_price, own.grid_event[sub], serve), None
        main, ch, soc_end = dispatch_storage(load[sub], charge_price, serve, store, soc[sub], day.step_hours,
                                             groups=sub_groups)
        load = writable(load, day)
        load[sub] = main
        day.charge = (sub, ch)
        soc[sub] = soc_end
        return load

    def utility(self, before: np.ndarray, after: np.ndarray, day: ResponseDay, params: CustomerParams) -> None:
        """None: the store serves the same heat or cold at another time, so consumption is
        unchanged; its losses (round trip and standing) are energy bought, in the bill."""
        return None
