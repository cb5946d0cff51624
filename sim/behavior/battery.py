"""Home batteries behind the main meter (``model: battery``): self-consumption, time-of-use
arbitrage and export, each within the battery's power, energy and reserve limits, with an
optional part in the operator's events (a virtual power plant).

The battery acts on the customer's **net** load at the main meter (``x[t]`` kW, after every
model before it: negative where rooftop generation exports) and returns the net load after
its charging ``c[t] >= 0`` and discharging ``d[t] >= 0`` (both AC power at the meter):
``x'[t] = x[t] + c[t] - d[t]``. Customer ``i`` has (drawn once, :meth:`BatteryModel.draw`)
an energy capacity ``C`` [kWh], a power ``P`` [kW] (charge and discharge alike), a round-trip
efficiency ``eta`` split evenly into charge and discharge, ``eta_c = eta_d = sqrt(eta)``
(as HOMER does [3]_), and a reserve ``R = reserve_share x C`` it never discharges below.
The state of charge ``s`` (energy in the cells) moves in a step of ``h`` hours by::

    s[t] = s[t-1] + (eta_c c[t] - d[t] / eta_d) h,      R <= s[t] <= C,   0 <= c, d <= P

and carries from day to day (per role; it starts at ``R`` on the first day).

**self_consumption** (a causal rule in time order, the usual "self-powered" mode): where
``x[t] < 0`` charge ``c = min(-x, P, (C - s) / (eta_c h))`` from the surplus; where
``x[t] > 0`` discharge ``d = min(x, P, (s - R) eta_d / h)`` to cover the import. It never
charges from the grid (``c <= -x``) and never exports from the battery (``d <= x``).

**tou_arbitrage** and **export** are planned a day ahead at the role's prices ``p[t]`` (the
day's net load and prices known), in stored energy, like the thermal store
(:mod:`sim.behavior.storage`):

1. *Pair.* Discharge candidates are the steps by decreasing ``p`` (ties: earlier first),
   each able to take ``D[t] h / eta_d`` out of the cells, worth ``p[t] eta_d`` per stored
   kWh, with ``D[t] = min(P, max(x[t], 0))`` in arbitrage (own load only) and ``D[t] = P``
   in export (what the home does not use is exported). The energy already stored above the
   reserve, ``E0 = s0 - R``, serves the dearest of them first (where ``p > 0``); then charge
   candidates, by increasing ``p`` (ties: earlier first), each able to store ``P h eta_c``
   at ``p[t] / eta_c`` per stored kWh, are paired with the next dearest, for as long as
   ``p_dis eta_d > p_chg / eta_c`` -- the spread covers the round-trip loss (never under one
   flat price). At most one usable capacity ``C - R`` is discharged a day; a step does not
   both charge and discharge.
2. *Feasible in time order* (as the thermal store): discharge is withheld by the running
   deficit below ``R``, then charge cut by the running overflow above ``C``.
3. *Nothing banked.* Where withholding left the day storing more than it released (``sum
   eta_c c h > sum d h / eta_d``), the excess charge is taken off the latest charging steps
   (never letting ``s`` fall below ``R``). With non-negative prices, every kWh discharged
   is then worth more than every kWh charged cost and no more is charged than discharged,
   so **the day's energy cost at the role's prices never exceeds the cost without the
   battery** (tested, and against scipy's HiGHS LP, which bounds it from below).
4. *Never at a loss.* With negative prices a round trip can pay (charging is paid more than
   the losses cost), and a pair whose charge step 2 cut (a full battery) leaves its
   discharge drawing the energy already stored at a step where it is worth less than
   nothing. A plan (without events or an export section's parts) that would raise the
   day's energy cost, ``sum_t (c - d) p h > 0`` beyond rounding, is dropped: the battery
   stays idle that day. With non-negative prices no plan is dropped (3.).

The plan is a heuristic, not the day's optimum: one cycle a day, and the pairing ignores
time order until step 2. On a day whose cheap steps all come before its dear ones, from an
empty battery, it equals the linear programme's optimum (tested); with a recharge between
two dear periods the optimum may cycle twice and cost less.

**Export section.** Under a tariff with an ``export`` section (``exports``, an
:class:`~sim.behavior.prices.ExportValue`: the export price ``e[t]``, the export limit ``L``,
the non-bypassable charge ``n`` on imports) a kWh imported costs ``p' = p + n`` and one
exported earns ``e`` (net metering's kWh credits: ``p``). Step 1 then pairs *parts* of
steps, each at its own value, in the same order rules (ties: the earlier part below, then
the earlier step): a step's discharge parts are its own load ``min(P, max(x, 0))`` at
``p'`` and (export mode, or an event step) the rest of ``P`` as a credited export at
``min(e, p')``, at most ``L - max(-x, 0)`` (uncapped in an event step); its charge parts are
the surplus above the limit ``max(-x - L, 0)`` at 0 (curtailed anyway), the surplus within
it at ``max(e, 0)`` (its export forgone), then the grid at ``p'``. A step's power goes to
its parts in that order physically (a discharge covers the home first; a charge takes the
curtailed surplus, then the credited one, then the grid): a charge part is planned only
after the step's parts before it (one that comes earlier in the cost order, the grid at a
step whose surplus would earn more exported, is passed over). No part is worth more, or
costs less, in the plan than in the bill, so the day's bill under the section
never exceeds that without the battery (tested, negative prices included), and at an
export rate of 0 with prices >= 0 no mode exports from the battery (an event day of ``vpp``
aside). A section that
credits exports at the import price with no limit and no charge on imports is planned as
plain netting (:attr:`ExportValue.plain`), bit for bit.

**vpp** (virtual power plant): on a day the operator calls an event in the role (critical
peak, peak-time rebate, interruptible: the steps where ``PriceDay.cpp_adder`` or
``ptr_adder`` is not 0, or ``PriceDay.interruptible``), the day is planned (step 1-3) with
the event steps first in the discharge order and ``D[t] = P`` there (export allowed), and
charging only before the first event step (from the grid too, whatever the mode): the
battery holds and fills its charge for the event and discharges in it. The customer is paid
through the tariff's event prices; a programme payment beyond them is not modelled.

**Events.** The model declares ``sees_events``: it is dispatched on the role's prices with
the events' part in them, also where ``event_response`` answers the events for the
price-responsive load (a battery answers through its own energy, not the household's).

**Utility.** None: a battery changes when energy is drawn, not what the household consumes;
its losses are energy bought, in the bill.

References
----------
.. [1] Tesla, Powerwall 2 AC datasheet: 13.5 kWh usable energy, 5 kW continuous power,
   90 % round-trip efficiency (read at second hand, in retailers' summaries of the sheet).
.. [2] NREL, Annual Technology Baseline 2023 and 2024, "Residential Battery Storage": a
   representative 5 kW / 12.5 kWh (2.5 h) system; the 2020 edition took 85 % round-trip
   efficiency (after Cole and Frazier 2020).
.. [3] HOMER Energy, HOMER Pro and Grid manuals, "Battery Roundtrip Efficiency": charge and
   discharge efficiency each the square root of the round trip.
.. [4] Tesla support, "Backup Reserve": the owner sets the reserve held for outages; below
   20 % the app warns of a low reserve.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jit import jit
from ..rowmath import numpy_sum
from .inputs import day_block, day_prices, per_customer
from .prices import ExportValue, PriceRows, owners_prices, spread
from .registry import CustomerParams, ResponseDay, ResponseModel, register, writable

__all__ = ["BATTERY_STREAM", "Battery", "BatteryDay", "BatteryModel", "ExportValue", "MODES", "dispatch_battery",
           "event_steps"]

#: Dispatch modes and their codes in the kernels.
MODES = {"self_consumption": 0, "tou_arbitrage": 1, "export": 2}

#: Spawn-key suffix of the battery draws' own stream (under the block's parameter stream).
BATTERY_STREAM = 102


class Battery(NamedTuple):
    """Each customer's battery, as :func:`dispatch_battery` takes it (scalars broadcast).

    Attributes
    ----------
    capacity_kwh : ndarray, shape (n,)
        Energy the cells hold when full, ``C``. [kWh]
    power_kw : ndarray, shape (n,)
        Largest charge and largest discharge power at the meter, ``P``. [kW]
    efficiency : ndarray, shape (n,)
        Round-trip efficiency ``eta`` in (0, 1]; charge and discharge each ``sqrt(eta)``. [-]
    reserve_kwh : ndarray, shape (n,)
        Energy never discharged, ``R``, in [0, C]. [kWh]
    """

    capacity_kwh: np.ndarray
    power_kw: np.ndarray
    efficiency: np.ndarray
    reserve_kwh: np.ndarray


class BatteryDay(NamedTuple):
    """One day of some customers' batteries.

    Attributes
    ----------
    net_kw : ndarray, shape (n, spd)
        Net load at the meter after the battery, ``x + c - d``. [kW]
    charge_kw, discharge_kw : ndarray, shape (n, spd)
        Charging and discharging power at the meter, each in [0, P]. [kW]
    soc_kwh : ndarray, shape (n,)
        State of charge at the end of the day, in [R, C]. [kWh]
    """

    net_kw: np.ndarray
    charge_kw: np.ndarray
    discharge_kw: np.ndarray
    soc_kwh: np.ndarray


def event_steps(price_day) -> np.ndarray | None:
    """The steps of the day's called events in a role (critical-peak adder or rebate not 0,
    or an interruptible event), (spd,) bool; None on a day without any."""
    mask = None
    for part in (price_day.cpp_adder, price_day.ptr_adder):
        if part is not None:
            on = np.asarray(part) != 0
            mask = on if mask is None else mask | on
    if price_day.interruptible is not None:
        mask = price_day.interruptible if mask is None else mask | price_day.interruptible
    return mask if mask is not None and mask.any() else None


class _Checked(Battery):
    """A :class:`Battery` whose arrays :func:`_checked` made and checked (not checked again)."""

    __slots__ = ()


def _checked(battery: Battery, n: int) -> Battery:
    """The battery's arrays as float64 of shape (n,), checked (once: a battery this made is
    returned as it is)."""
    if isinstance(battery, _Checked) and battery.capacity_kwh.shape == (n,):
        return battery
    cap = per_customer(battery.capacity_kwh, n, "capacity_kwh")
    power = per_customer(battery.power_kw, n, "power_kw")
    eff = per_customer(battery.efficiency, n, "efficiency")
    reserve = per_customer(battery.reserve_kwh, n, "reserve_kwh")
    if np.any(~(cap >= 0)) or np.any(~(power >= 0)):
        raise ValueError("`capacity_kwh` and `power_kw` must be >= 0")
    if np.any(~(eff > 0) | (eff > 1)):
        raise ValueError(f"`efficiency` must be in (0, 1]; got {eff[~(eff > 0) | (eff > 1)][:5]!r}")
    if np.any(~(reserve >= 0) | (reserve > cap)):
        raise ValueError("`reserve_kwh` must be in [0, capacity_kwh]")
    return _Checked(cap, power, eff, reserve)


def dispatch_battery(net_kw: np.ndarray, price: np.ndarray, battery: Battery, soc_kwh: np.ndarray,
                     step_hours: float, mode: str, events: np.ndarray | None = None,
                     exports: ExportValue | None = None) -> BatteryDay:
    """One day of each customer's battery (module docstring).

    Parameters
    ----------
    net_kw : ndarray, shape (n, spd)
        Net load at the meter before the battery (negative: export). [kW]
    price : ndarray, shape (spd,) or (n, spd), or PriceRows
        The role's marginal energy price of each step (of imports; of exports too without
        ``exports``); as :class:`~sim.behavior.prices.PriceRows`, the customers' distinct
        rows and each one's row: the plan's sort orders are found once per distinct row, the
        same plan as per customer. [currency/kWh]
    battery : Battery
    soc_kwh : ndarray, shape (n,)
        State of charge at the start of the day; clipped to [R, C]. [kWh]
    step_hours : float
    mode : 'self_consumption', 'tou_arbitrage' or 'export'
    events : ndarray of bool, shape (spd,), optional
        A virtual power plant's event steps today (None: no event, or no part in events).
    exports : ExportValue, optional
        What an exported kWh earns and an imported one costs beyond ``price`` under the
        tariff's export section (None: an export earns ``price``, the plan of plain netting).
    """
    x, n, spd = day_block(net_kw, step_hours)
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {', '.join(MODES)}; got {mode!r}")
    if isinstance(price, PriceRows):
        p, price_row = price.checked(n, spd)
    else:
        p, price_row = day_prices(price, n, spd, "price"), None
    b = _checked(battery, n)
    soc0 = np.clip(per_customer(soc_kwh, n, "soc_kwh"), b.reserve_kwh, b.capacity_kwh)
    eta = np.sqrt(b.efficiency)
    h = float(step_hours)
    out = BatteryDay(np.empty((n, spd)), np.empty((n, spd)), np.empty((n, spd)), np.empty(n))
    if MODES[mode] == 0 and events is None:
        _self_consume(np.ascontiguousarray(x), b.power_kw, b.capacity_kwh, b.reserve_kwh, eta, soc0, h, *out)
        return out
    plan = _plan_inputs(p, events, b.efficiency, price_row)
    parts = _NO_PARTS if exports is None or exports.plain else _part_tables(p, events, b.efficiency, exports, spd)
    _plan_rows(np.ascontiguousarray(x), b.power_kw, b.capacity_kwh, b.reserve_kwh, eta, soc0, h,
               MODES[mode] == 2, *plan, *parts, *out)
    return out


#: The part tables of the plan without an export section (:func:`_plan_rows` reads none).
_NO_PARTS = (False, np.zeros((0, 0)), np.zeros((0, 0), dtype=np.intp), np.zeros((0, 0)),
             np.zeros((0, 0), dtype=np.intp), np.inf)


def _part_tables(p: np.ndarray, events: np.ndarray | None, efficiency: np.ndarray, exports: ExportValue,
                 spd: int) -> tuple:
    """The plan's tables under an export section (module docstring, "Export section"): per
    price row, the discharge parts' values ``[import value p' of each step, export value of
    each step]`` (event steps lifted as in :func:`_plan_inputs`) and their order (decreasing,
    stable), the charge parts' costs ``[curtailed surplus, credited surplus, grid]`` and their
    order (increasing, stable); then the export limit."""
    rows = np.ascontiguousarray(p[None, :] if p.ndim == 1 else p)
    imp = rows + float(exports.import_adder)
    ex = rows if exports.price is None else np.broadcast_to(np.asarray(exports.price, dtype=np.float64), rows.shape)
    # never above what a part earns, never below what it costs (the pairing keeps a step's
    # charge parts in their physical order: the curtailed surplus, the credited one, the grid)
    out_value = np.minimum(ex, imp)                        # an export: at most an own kWh's worth
    free = np.zeros_like(imp)                              # surplus beyond the limit: earns nothing exported
    in_cost = np.maximum(ex, free)                         # surplus within the limit: its export forgone
    value = np.concatenate([imp, out_value], axis=1)
    event = np.zeros(spd, dtype=np.bool_) if events is None else np.asarray(events, dtype=np.bool_)
    if event.any():
        top = (np.abs(value).max() + 1.0) / max(float(efficiency.min()), 1e-3) + np.abs(value).max() + 1.0
        value = np.where(np.concatenate([event, event])[None, :], top, value)
    cost = np.concatenate([free, in_cost, imp], axis=1)
    return (True, np.ascontiguousarray(value), np.ascontiguousarray(np.argsort(-value, axis=1, kind="stable")),
            np.ascontiguousarray(cost), np.ascontiguousarray(np.argsort(cost, axis=1, kind="stable")),
            float(exports.limit_kw))


def _plan_inputs(p: np.ndarray, events: np.ndarray | None, efficiency: np.ndarray,
                 row: np.ndarray | None = None) -> tuple:
    """The plan's price tables: discharge values (event steps lifted above every charge's
    break-even) and their order (decreasing, stable), charge prices and their order
    (increasing, stable), each customer's row of each (``row``, else one shared row or one
    row per customer), where charging may happen, and the event mask (all False without
    events)."""
    rows = np.ascontiguousarray(p[None, :] if p.ndim == 1 else p)
    n_rows, spd = rows.shape
    if row is None:
        row = np.zeros(efficiency.size, dtype=np.intp) if p.ndim == 1 else np.arange(efficiency.size, dtype=np.intp)
    event = np.zeros(spd, dtype=np.bool_) if events is None else np.asarray(events, dtype=np.bool_)
    ok = np.ones(spd, dtype=np.bool_)
    value = rows
    if event.any():
        top = (np.abs(rows).max() + 1.0) / max(float(efficiency.min()), 1e-3) + np.abs(rows).max() + 1.0
        value = np.where(event[None, :], top, rows)
        ok[int(np.argmax(event)):] = False           # charge only before the first event step
    value_order = np.argsort(-value, axis=1, kind="stable")
    cost_order = np.argsort(rows, axis=1, kind="stable")
    return (np.ascontiguousarray(value), row, np.ascontiguousarray(value_order), rows,
            np.ascontiguousarray(cost_order), ok, event)


@jit
def _self_consume(x, power, cap, reserve, eta, soc0, h, net, charge, discharge, soc_end):
    """Self-consumption in time order (module docstring), one customer at a time."""
    n, spd = x.shape
    for i in range(n):
        s = soc0[i]
        p = power[i]
        e = eta[i]
        for t in range(spd):
            load = x[i, t]
            c = 0.0
            d = 0.0
            if load < 0.0 and s < cap[i]:       # (a full battery takes nothing: c = 0, s as is)
                c = -load
                if c > p:
                    c = p
                room = (cap[i] - s) / (e * h)
                if c > room:
                    c = room
                if not c > 0.0:
                    c = 0.0
                s += c * e * h
            elif load > 0.0 and s > reserve[i]:  # (an empty one gives nothing: d = 0, s as is)
                d = load
                if d > p:
                    d = p
                avail = (s - reserve[i]) * e / h
                if d > avail:
                    d = avail
                if not d > 0.0:
                    d = 0.0
                s -= d / e * h
            if s > cap[i]:
                s = cap[i]
            if s < reserve[i]:
                s = reserve[i]
            charge[i, t] = c
            discharge[i, t] = d
            net[i, t] = load + c - d
        soc_end[i] = s


@jit
def _pair(x, p_i, room, e0, eta, h, export, value, order_d, cost, order_c, ok, event, dis, chg):
    """Step 1 of the plan for one customer: stored kWh out (``dis``) and in (``chg``) per step."""
    spd = x.shape[0]
    for t in range(spd):
        dis[t] = 0.0
        chg[t] = 0.0
    total = 0.0
    kd = 0
    used = 0.0                                   # stored kWh taken out at the current discharge step
    avail = e0
    ks = 0
    taken = 0.0                                  # stored kWh put in at the current charge step
    supply = p_i * h * eta
    while kd < spd and total < room:
        td = order_d[kd]
        bound = p_i
        if not (export or event[td]):
            bound = x[td] if x[td] < p_i else p_i
        demand = (bound * h / eta if bound > 0.0 else 0.0) - used
        if not demand > 0.0 or chg[td] > 0.0:
            kd += 1
            used = 0.0
            continue
        worth = value[td] * eta
        if avail > 0.0:                          # the energy already stored, for the dearest steps
            if not worth > 0.0:
                avail = 0.0
                continue
            amt = min(demand, avail, room - total)
            avail -= amt
        else:
            if ks >= spd:
                break
            ts = order_c[ks]
            if not ok[ts] or not supply - taken > 0.0 or dis[ts] > 0.0 or ts == td:
                ks += 1
                taken = 0.0
                continue
            if not worth > cost[ts] / eta:       # the spread no longer covers the round trip
                break
            amt = min(demand, supply - taken, room - total)
            chg[ts] += amt
            taken += amt
        dis[td] += amt
        used += amt
        total += amt


@jit
def _discharge_part(x, p_i, limit, export, event, part, t):
    """Power a discharge part of step ``t`` may take at the meter: part 0 the own load
    ``min(P, max(x, 0))``; part 1 (export mode, or an event step) the rest of ``P``,
    credited exports only (at most ``limit`` less the surplus already exported; not capped
    in an event step). [kW]"""
    own = x[t] if x[t] > 0.0 else 0.0
    if own > p_i:
        own = p_i
    if part == 0:
        return own
    if event[t]:
        return p_i - own
    if not export:
        return 0.0
    out = p_i - own
    room = limit - (-x[t] if x[t] < 0.0 else 0.0)
    if room < out:
        out = room
    return out if out > 0.0 else 0.0


@jit
def _charge_part(x, p_i, limit, part, t):
    """Power a charge part of step ``t`` may take at the meter: part 0 the surplus beyond the
    export limit (curtailed anyway), part 1 the surplus within it, part 2 the grid (the rest
    of ``P``). [kW]"""
    surplus = -x[t] if x[t] < 0.0 else 0.0
    cut = surplus - limit if surplus > limit else 0.0
    if cut > p_i:
        cut = p_i
    if part == 0:
        return cut
    kept = surplus if surplus < limit else limit
    if kept > p_i - cut:
        kept = p_i - cut
    if part == 1:
        return kept
    return p_i - cut - kept


@jit
def _pair_parts(x, p_i, room, e0, eta, h, export, limit, value, order_d, cost, order_c, ok, event, dis, chg,
                sold, level):
    """Step 1 of the plan under an export section (module docstring): as :func:`_pair`, over
    the parts of the steps (two discharge parts and three charge parts a step, each at its
    own value or cost) instead of whole steps. A step's charge part is taken only once the
    parts before it in the step (``level[t]``: the first not used up) are, in the physical
    order; one that comes earlier in the cost order is passed over. ``sold[t]``: whether step
    ``t``'s export part was planned."""
    spd = x.shape[0]
    for t in range(spd):
        dis[t] = 0.0
        chg[t] = 0.0
        sold[t] = False
        level[t] = 0
    n_d = order_d.shape[0]
    n_c = order_c.shape[0]
    total = 0.0
    kd = 0
    used = 0.0                                   # stored kWh taken out at the current discharge part
    avail = e0
    ks = 0
    taken = 0.0                                  # stored kWh put in at the current charge part
    while kd < n_d and total < room:
        k = order_d[kd]
        td = k % spd
        bound = _discharge_part(x, p_i, limit, export, event, k // spd, td)
        demand = (bound * h / eta if bound > 0.0 else 0.0) - used
        if not demand > 0.0 or chg[td] > 0.0:
            kd += 1
            used = 0.0
            continue
        worth = value[k] * eta
        if avail > 0.0:                          # the energy already stored, for the dearest parts
            if not worth > 0.0:
                avail = 0.0
                continue
            amt = min(demand, avail, room - total)
            avail -= amt
        else:
            if ks >= n_c:
                break
            j = order_c[ks]
            ts = j % spd
            q = j // spd
            while level[ts] < 2 and not _charge_part(x, p_i, limit, level[ts], ts) > 0.0:
                level[ts] += 1                   # empty parts are used up
            supply = _charge_part(x, p_i, limit, q, ts) * h * eta
            if q == level[ts] and not supply - taken > 0.0:
                level[ts] = q + 1                # this part used up: the next may follow
            if not ok[ts] or not supply - taken > 0.0 or dis[ts] > 0.0 or ts == td or q != level[ts]:
                ks += 1
                taken = 0.0
                continue
            if not worth > cost[j] / eta:        # the spread no longer covers the round trip
                break
            amt = min(demand, supply - taken, room - total)
            chg[ts] += amt
            taken += amt
        dis[td] += amt
        used += amt
        total += amt
        if k >= spd:
            sold[td] = True


@jit
def _feasible(s0, reserve, cap, dis, chg, soc):
    """Steps 2 and 3 of the plan for one customer (module docstring); ``soc`` the state of
    charge at each step end (stored kWh)."""
    spd = dis.shape[0]
    run = s0
    low = False
    for t in range(spd):
        run += chg[t] - dis[t]
        soc[t] = run
        low |= run < reserve
    if low:                                      # withhold discharge by the running deficit
        lowest = 0.0
        before = 0.0
        for t in range(spd):
            short = reserve - soc[t]
            if short > lowest:
                lowest = short
            soc[t] += lowest
            dis[t] -= lowest - before
            if not dis[t] >= 0.0:
                dis[t] = 0.0
            before = lowest
    highest = 0.0
    before = 0.0
    for t in range(spd):                         # cut charge by the running overflow
        over = soc[t] - cap
        if over > highest:
            highest = over
        soc[t] -= highest
        chg[t] -= highest - before
        if not chg[t] >= 0.0:
            chg[t] = 0.0
        before = highest
    gain = 0.0
    for t in range(spd):
        gain += chg[t] - dis[t]
    if gain > 0.0:                               # nothing banked: the latest charges come off
        margin = np.inf
        for t in range(spd - 1, -1, -1):
            if soc[t] - reserve < margin:
                margin = soc[t] - reserve
            r = min(chg[t], gain, margin)
            if r > 0.0:
                chg[t] -= r
                gain -= r
                margin -= r
                for k in range(t, spd):
                    soc[k] -= r


@jit
def _raises_cost(c, d, p):
    """Whether meter powers ``c`` (charge) and ``d`` (discharge) raise the day's energy cost
    at prices ``p`` under plain netting, ``sum_t (c - d) p > 0``, beyond rounding (a billionth
    of the cost of the energy moved)."""
    delta = 0.0
    moved = 0.0
    for t in range(p.shape[0]):
        delta += (c[t] - d[t]) * p[t]
        moved += (c[t] + d[t]) * abs(p[t])
    return delta > 1e-9 * moved


@jit
def _plan_rows(x, power, cap, reserve, eta, soc0, h, export, value, row, value_order, cost, cost_order,
               ok, event, parts, part_value, part_value_order, part_cost, part_cost_order, limit,
               net, charge, discharge, soc_end):
    """The day-ahead plan (arbitrage, export, event days), one customer at a time; with
    ``parts``, over the parts of an export section (:func:`_pair_parts`)."""
    n, spd = x.shape
    dis = np.empty(spd)
    chg = np.empty(spd)
    soc = np.empty(spd)
    sold = np.zeros(spd, dtype=np.bool_)
    level = np.zeros(spd, dtype=np.intp)
    guard = not parts and not event.any()        # step 4 (module docstring)
    for i in range(n):
        r = row[i]
        e = eta[i]
        if parts:
            _pair_parts(x[i], power[i], cap[i] - reserve[i], soc0[i] - reserve[i], e, h, export, limit,
                        part_value[r], part_value_order[r], part_cost[r], part_cost_order[r], ok, event, dis, chg,
                        sold, level)
        else:
            _pair(x[i], power[i], cap[i] - reserve[i], soc0[i] - reserve[i], e, h, export,
                  value[r], value_order[r], cost[r], cost_order[r], ok, event, dis, chg)
        _feasible(soc0[i], reserve[i], cap[i], dis, chg, soc)
        p_i = power[i]
        for t in range(spd):
            c = chg[t] / (e * h)
            d = dis[t] * e / h
            if c > p_i:                          # rounding must not pass the limits
                c = p_i
            if d > p_i:
                d = p_i
            if parts:                            # nor the powers of the parts planned
                if not event[t]:
                    most = _discharge_part(x[i], p_i, limit, export, event, 0, t)
                    if sold[t]:                      # the export part too
                        most += _discharge_part(x[i], p_i, limit, export, event, 1, t)
                    if d > most:
                        d = most
            elif not (export or event[t]) and d > x[i, t]:
                d = x[i, t] if x[i, t] > 0.0 else 0.0
            charge[i, t] = c
            discharge[i, t] = d
            net[i, t] = x[i, t] + c - d
        if guard and _raises_cost(charge[i], discharge[i], cost[r]):
            for t in range(spd):                 # a plan that costs more than no battery: none
                charge[i, t] = 0.0
                discharge[i, t] = 0.0
                net[i, t] = x[i, t]
            soc_end[i] = soc0[i]
            continue
        last = soc[spd - 1]
        if last > cap[i]:
            last = cap[i]
        if last < reserve[i]:
            last = reserve[i]
        soc_end[i] = last


@register
class BatteryModel(ResponseModel):
    """``model: battery``: in both roles, the customers with a battery (``adoption``)
    dispatch it on their net load and the role's prices (:func:`dispatch_battery`); the
    state of charge carries from day to day."""

    name = "battery"
    params = ("capacity_kwh", "power_kw", "round_trip_efficiency", "reserve_share")
    stage = 60                     # after rooftop generation (50): it sees the net load
    roles = ("baseline", "scenario")
    stores_energy = True
    sees_events = True             # dispatched on the prices with the events' part in them
    stats = tuple(f"battery_{k}_kwh_{r}" for r in ("baseline", "scenario")
                  for k in ("charged", "discharged", "loss", "event", "export"))

    def __init__(self, settings):
        super().__init__(settings)
        self._owners: dict = {}

    def draw(self, draw_param, rng: np.random.Generator, rows: int) -> dict[str, np.ndarray]:
        """The battery parameters from a stream of their own (the block's parameter stream's
        spawn key extended by ``BATTERY_STREAM``; ``rng`` is not advanced, so adding the model
        moves no other draw): each of ``params`` in order, then ``adopted``."""
        ss = rng.bit_generator.seed_seq
        own = np.random.Generator(np.random.PCG64(
            np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, BATTERY_STREAM))))
        out = super().draw(draw_param, own, rows)
        out["adopted"] = own.random(rows) < self.settings.adoption
        return out

    def owners(self, idx, params: CustomerParams) -> tuple[np.ndarray, np.ndarray, Battery]:
        """The customers among ``idx`` with a battery (positions in ``idx``), their rows in
        the segment and their batteries; kept for a chunk of consecutive customers."""
        key = (idx.start, idx.stop) if isinstance(idx, slice) else None
        found = self._owners.get(key) if key is not None else None
        if found is None:
            sub = np.flatnonzero(params.adopted[idx] > 0)
            i = (np.arange(idx.start, idx.stop) if isinstance(idx, slice) else np.asarray(idx))[sub]
            cap = params.capacity_kwh[i]
            found = (sub, i, _checked(Battery(cap, params.power_kw[i], params.round_trip_efficiency[i],
                                              params.reserve_share[i] * cap), len(sub)))
            if key is not None:
                self._owners[key] = found
        return found

    def respond(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        s = self.settings
        if s.adoption <= 0 or day.soc is None:
            return load
        sub, rows, battery = self.owners(day.idx, params)
        if not len(sub):
            return load
        soc = day.soc[self.name]
        mode = s.mode if day.role == "scenario" else (s.baseline_mode or s.mode)
        called = event_steps(day.own)
        # the owners' distinct price rows where the block's are grouped: each sorted once
        price = owners_prices(day.own.price, day.groups.own() if day.own.price.ndim == 2 else None, sub)
        before = load[sub]
        exports = day.own.export
        plain = exports is None or exports.plain
        if (called is None or not s.vpp) and not (soc[sub] > battery.reserve_kwh).any() and (
                (mode != "self_consumption" and plain and spread(day.groups.own_rows(), None) == 0)
                or (mode == "self_consumption" and not (before < 0).any())):
            return load            # an empty battery under one flat price, or with no surplus, does nothing
        got = dispatch_battery(before, price, battery, soc[sub], day.step_hours, mode, called if s.vpp else None,
                               exports)
        soc[sub] = got.soc_kwh
        if day.stats is not None:
            self._keep(day, rows, before, got, battery, called)
        load = writable(load, day)                               # another model's output: changed in place
        load[sub] = got.net_kw
        return load

    def _keep(self, day: ResponseDay, rows: np.ndarray, before: np.ndarray, got: BatteryDay, battery: Battery,
              called: np.ndarray | None) -> None:
        """The day's per-customer energy sums (kWh): charged and discharged at the meter, the
        conversion losses ``charged (1 - eta_c) + discharged (1 / eta_d - 1)``, the discharge in
        the day's event steps, and the discharge beyond the customer's own load (exported)."""
        h, role, st = day.step_hours, day.role, day.stats
        # one pass over the owners' day (the same bits as the numpy expressions in the kernel's
        # docstring)
        _keep_sums(got.charge_kw, got.discharge_kw, np.ascontiguousarray(before), np.sqrt(battery.efficiency),
                   float(h), np.asarray(rows, dtype=np.int64), st["battery_charged_kwh_" + role],
                   st["battery_discharged_kwh_" + role], st["battery_loss_kwh_" + role],
                   st["battery_export_kwh_" + role])
        if called is not None:
            st["battery_event_kwh_" + role][rows] += got.discharge_kw[:, called].sum(axis=1) * h

    def utility(self, before: np.ndarray, after: np.ndarray, day: ResponseDay, params: CustomerParams) -> None:
        """None: the battery changes when energy is drawn, not what the household consumes;
        its losses are energy bought, in the bill."""
        return None


@jit
def _keep_sums(charge, discharge, before, eta, h, rows, charged_kwh, discharged_kwh, loss_kwh, export_kwh):
    """Per owner ``i`` (segment row ``rows_i``), in numpy's order of additions:
    ``c = charge.sum(axis=1) h``, ``d = discharge.sum(axis=1) h`` added to ``charged_kwh``
    and ``discharged_kwh``; ``c (1 - eta) + d (1 / eta - 1)`` to ``loss_kwh``; and
    ``np.maximum(discharge - np.maximum(before, 0), 0).sum(axis=1) h`` to ``export_kwh``
    (``np.maximum(a, b)`` is ``a if a >= b or a is NaN else b``)."""
    n, spd = charge.shape
    over = np.empty(spd)
    for i in range(n):
        r = rows[i]
        c = numpy_sum(charge[i]) * h
        d = numpy_sum(discharge[i]) * h
        charged_kwh[r] = charged_kwh[r] + c
        discharged_kwh[r] = discharged_kwh[r] + d
        e = eta[i]
        loss_kwh[r] = loss_kwh[r] + (c * (1.0 - e) + d * (1.0 / e - 1.0))
        for t in range(spd):
            b = before[i, t]
            if not (b >= 0.0 or b != b):
                b = 0.0
            x = discharge[i, t] - b
            if not (x >= 0.0 or x != x):
                x = 0.0
            over[t] = x
        export_kwh[r] = export_kwh[r] + numpy_sum(over) * h
