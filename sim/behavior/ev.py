"""Electric-vehicle home charging: a per-customer load added to a segment, charged in one of
three modes (unmanaged, timer, managed) within each car's plug-in window.

A share ``adoption`` of the segment's customers has an EV. Each has, drawn once from the
seed (its own stream, see :meth:`EvModel.draw`): a charger rating ``P`` [kW], a home
arrival hour, a departure hour and a daily energy need ``E`` [kWh]. Every day the car is
plugged in from the first whole step after arrival to the step that ends at departure,
``L`` steps of ``h`` hours; it can take ``min(E, P x h x L)`` (a need that does not fit is
charged as far as it fits and the rest is kept as the day's *shortfall*). How that energy
is placed in the window:

* ``unmanaged``: at full power from arrival until the need is met;
* ``timer``: at full power from the timer: a stated ``timer_start`` hour, or else the
  valley start of the customer's own prices that day, the first step (in window order,
  from arrival) of the cheapest price in the window -- the synchronised start of every car
  on a naive time-of-use valley that makes the "timer peak". Where the need does not fit
  between the timer and departure, charging starts earlier, just early enough to end at
  departure (the car is charged by its departure whenever physically possible). A timer
  hour outside the plug-in window starts charging at arrival;
* ``managed``: the cheapest steps of the window first, at full power, level by level of
  equal prices; the level that the rest of the need fills only in part is charged at one
  even power over all its steps (a smart charger spreading the need over the valley rather
  than starting every car at its first step). The least-cost schedule of the need under
  the power limit at the role's prices, and deterministic (no tie to break). Called events that raise the price (critical
  peak prices) are avoided through the price; an event that leaves the price unchanged is
  not seen. The network operator's grid events (``PriceDay.grid_event``, on an overloaded
  transformer or feeder) are avoided too: their steps come after every other step of the
  window (:func:`~sim.behavior.prices.avoid_steps`), so they are used only where the need
  does not fit in the rest of the window before departure.

**The window wraps within the calendar day.** The engine works one day at a time; an
overnight session (arrival 18:00, departure 07:30) is placed in the same day's steps
18:00-24:00 and 00:00-07:30, read at that day's prices: the steady daily cycle of a car
that plugs in every evening. Each day then carries exactly that day's energy (no state
crosses midnight), so the run's EV energy is ``days x sum(min(E, P h L))`` exactly; what it
misses is the price difference between one day's early morning and the next's (a weekend
or month boundary, a day-varying price), and on the first day the early-morning charge of
a session that began before the run.

Both tariff roles carry the same fleet and the same energy; only the mode may differ
(``baseline_mode``, default unmanaged, and ``mode`` in the scenario role). The load is on
the main meter, or with ``meter: separate`` on a meter of its own: the tariff's second
meter (``storage_rate``), at whose price the car is then planned, and the main meter under a
tariff without one (added after every model of the day). Its utility term is None: the car's driving, and so the energy it needs,
is the same in both roles, and moving the charging within the window costs the customer
nothing (no inconvenience is modelled).

Defaults of the per-customer distributions (docs/behavior.md, "Electric vehicles", gives
the evidence; where a source lacks a number the default is marked as an assumption):

.. [1] U.S. EIA, 2020 Residential Energy Consumption Survey: households with an EV used on
   average 2,363 kWh a year to charge it (6.5 kWh a day). The spread across households
   (``cv`` 0.6) is an assumption: the summary gives no distribution.
.. [2] Electric Nation (Western Power Distribution, EA Technology, 2016-2018; ~700 drivers,
   >140,000 charging events): cars are plugged in at home for over 12 hours on average;
   owners with an Economy 7 tariff set timers to its cheap hours ("creates a spike").
   Arrival 18:00 +- 2 h and departure 07:30 +- 1 h give a ~13.5 h window; the trial's
   summaries give no arrival-time distribution (assumption, shaped after [3]).
.. [3] U.S. DOE Vehicle Technologies Office, Fact of the Week #912 (2016), from the INL EV
   Project: the San Diego area's weekday home charging demand rose from about 15:00 to a
   plateau near 19:00-21:00, and under the rates cheapest from midnight to 05:00 peaked
   at 1:30 (over 1 MW) -- the timer peak. J. D. Kim, "Insights into residential EV
   charging behavior using energy meter data", Energy Policy 129 (2019): EV-TOU customers
   in San Diego show a "twin peak", evening and midnight.
"""

from __future__ import annotations

import numpy as np

from .._jit import jit
from ..rowmath import add_rows
from .prices import PriceRows, avoid_steps, owners_prices
from .registry import CustomerParams, ResponseDay, ResponseModel, register, writable

__all__ = ["EvFleet", "MODES", "charge_ev", "EvModel", "window_steps"]

#: Charging modes and their codes in the kernel.
MODES = {"unmanaged": 0, "timer": 1, "managed": 2}

#: Spawn-key suffix of the EV draws' own stream (under the block's parameter stream).
EV_STREAM = 101


class EvFleet:
    """The customers with an EV among some rows, as :func:`charge_ev` takes them.

    Attributes
    ----------
    start : ndarray of int, shape (n,)
        First step of the plug-in window (the first whole step after arrival), in [0, spd).
    steps : ndarray of int, shape (n,)
        Steps in the window, in [0, spd) (wrapping midnight).
    need_kwh : ndarray, shape (n,)
        Daily energy need. [kWh]
    power_kw : ndarray, shape (n,)
        Charger rating. [kW]
    """

    __slots__ = ("start", "steps", "need_kwh", "power_kw")

    def __init__(self, start, steps, need_kwh, power_kw):
        self.start = np.asarray(start, dtype=np.int64)
        self.steps = np.asarray(steps, dtype=np.int64)
        self.need_kwh = np.maximum(np.asarray(need_kwh, dtype=np.float64), 0.0)
        self.power_kw = np.maximum(np.asarray(power_kw, dtype=np.float64), 0.0)


def window_steps(arrival_hour: np.ndarray, departure_hour: np.ndarray, spd: int) -> tuple[np.ndarray, np.ndarray]:
    """Each car's plug-in window in steps of the day: (first step, number of steps).

    The window starts at the first step boundary at or after arrival and ends at the last
    boundary at or before departure, wrapping midnight: ``start = ceil(a / h) mod spd``,
    ``end = floor(d / h) mod spd``, ``steps = (end - start) mod spd`` (an arrival and a
    departure in the same step leave no window)."""
    h = 24.0 / spd
    start = np.ceil(np.asarray(arrival_hour, dtype=np.float64) / h - 1e-9).astype(np.int64) % spd
    end = np.floor(np.asarray(departure_hour, dtype=np.float64) / h + 1e-9).astype(np.int64) % spd
    return start, (end - start) % spd


def charge_ev(fleet: EvFleet, price: np.ndarray | PriceRows, mode: str, step_hours: float,
              timer_step: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One day's charging of each car: its load and the need that did not fit.

    Parameters
    ----------
    fleet : EvFleet
    price : ndarray, shape (spd,) or (n, spd), or PriceRows
        The role's marginal price of each step (timer valley and managed order); as
        :class:`~sim.behavior.prices.PriceRows`, the cars' distinct rows and each one's row
        (a managed charge sorts each row once). [currency/kWh]
    mode : 'unmanaged', 'timer' or 'managed'
    step_hours : float
    timer_step : int, optional
        Timer mode: the step the timer starts charging; None: each car's valley start.

    Returns
    -------
    ev_kw : ndarray, shape (n, spd)
        Charging load, in [0, power_kw]; ``ev_kw.sum(axis=1) x h == min(need, P h L)`` to
        rounding. [kW]
    shortfall_kwh : ndarray, shape (n,)
        ``need - P h L`` where the need does not fit in the window, else 0. [kWh]
    """
    n = fleet.start.shape[0]
    if isinstance(price, PriceRows):
        spd = np.shape(price.rows)[-1]
        rows, row = price.checked(n, spd)
    else:
        p = np.asarray(price, dtype=np.float64)
        spd = p.shape[-1]
        rows = np.ascontiguousarray(p[None, :] if p.ndim == 1 else p)
        row = np.zeros(n, dtype=np.intp) if p.ndim == 1 else np.arange(n, dtype=np.intp)
    out = np.zeros((n, spd))
    short = np.zeros(n)
    # managed: each price row's steps by price, sorted once (the order within a level of
    # equal prices does not matter: a level is charged all at one power)
    orders = (np.argsort(rows, axis=1, kind="stable") if mode == "managed"
              else np.zeros((rows.shape[0], spd), dtype=np.intp))
    _charge_rows(fleet.start, fleet.steps, fleet.need_kwh, fleet.power_kw, MODES[mode],
                 -1 if timer_step is None else int(timer_step) % spd, rows, row, orders, float(step_hours), out, short)
    return out, short


@jit
def _charge_rows(start, steps, need, power, mode, timer_step, rows, row, orders, h, out, short):
    """:func:`charge_ev` per car (window positions ``k = 0..L-1`` are steps ``(start + k) mod
    spd``): the energy ``e = min(E, cap x L)`` with ``cap = P h``, in full steps of ``cap``
    and one partial step, from position ``s`` on (unmanaged ``s = 0``; timer ``s = min(k0,
    L - m)`` with ``m`` the steps ``e`` needs), or (managed) by levels of equal price in
    increasing order (``orders``: each price row's steps sorted by price; a level's steps
    outside the window skipped), the last level reached at an even power."""
    n = start.shape[0]
    spd = out.shape[1]
    order = np.empty(spd, dtype=np.int64)
    for i in range(n):
        L = steps[i]
        cap = power[i] * h
        if L <= 0 or not cap > 0.0:
            short[i] = need[i]
            continue
        e = need[i]
        if e > cap * L:
            short[i] = e - cap * L
            e = cap * L
        if not e > 0.0:
            continue
        p = rows[row[i]]
        s0 = start[i]
        for k in range(L):
            order[k] = k
        if mode == 2:
            first = 0
        elif mode == 1:
            if timer_step >= 0:
                k0 = (timer_step - s0) % spd
                if k0 >= L:
                    k0 = 0
            else:
                k0 = 0
                for k in range(1, L):
                    if p[(s0 + k) % spd] < p[(s0 + k0) % spd]:
                        k0 = k
            m = int(np.ceil(e / cap))
            while m * cap < e:
                m += 1
            while m > 1 and (m - 1) * cap >= e:
                m -= 1
            first = k0 if k0 <= L - m else L - m
        else:
            first = 0
        rem = e
        if mode == 2:
            # level by level from the cheapest (the row's steps by price, those in the
            # window counted): a level the rest of the need fills only in part is charged
            # at one even power over all its steps in the window
            o = orders[row[i]]
            k = 0
            while k < spd and rem > 0.0:
                x = p[o[k]]
                j = k
                count = 0
                while j < spd and p[o[j]] == x:
                    if (o[j] - s0) % spd < L:
                        count += 1
                    j += 1
                if count > 0:
                    if rem >= cap * count:
                        level = power[i]
                        rem -= cap * count
                    else:
                        level = rem / count / h
                        rem = 0.0
                    for q in range(k, j):
                        if (o[q] - s0) % spd < L:
                            out[i, o[q]] = level
                k = j
            continue
        for k in range(first, L):
            t = (s0 + order[k]) % spd
            if rem >= cap:
                out[i, t] = power[i]
                rem -= cap
            else:
                out[i, t] = rem / h
                rem = 0.0
            if not rem > 0.0:
                break


@register
class EvModel(ResponseModel):
    """``model: ev``: home EV charging added to the load of the customers with an EV, in both
    roles (``baseline_mode`` and ``mode``); see the module docstring."""

    name = "ev"
    params = ("charger_kw", "arrival_hour", "departure_hour", "daily_kwh")
    stage = 35                     # after flexible loads (30), before thermal storage (40)
    roles = ("baseline", "scenario")
    stats = ("ev_kwh_baseline", "ev_kwh_scenario", "ev_shortfall_kwh_baseline", "ev_shortfall_kwh_scenario",
             "ev_block_kw_baseline", "ev_block_kw_scenario")

    def __init__(self, settings):
        super().__init__(settings)
        self._fleets: dict = {}
        self._block_of = np.zeros(0, dtype=np.int64)

    def new_stats(self, n: int, blocks: list, steps: int) -> dict[str, np.ndarray]:
        """Per customer: ``ev_kwh_<role>`` (energy charged) and ``ev_shortfall_kwh_<role>``
        (need that did not fit) [kWh]; per stream block and step: ``ev_block_kw_<role>``,
        the block's EV charging load [kW], shape (blocks, steps) (the fleet's load at the
        system peak, docs/metrics.md). Keeps each row's block."""
        self._block_of = np.repeat(np.arange(len(blocks)), [b - a for a, b in blocks]) if blocks \
            else np.zeros(0, dtype=np.int64)
        out = {k: np.zeros(n) for k in self.stats[:4]}
        out.update({k: np.zeros((len(blocks), steps)) for k in self.stats[4:]})
        return out

    def draw(self, draw_param, rng: np.random.Generator, rows: int) -> dict[str, np.ndarray]:
        """The EV parameters from a stream of their own, keyed under the block's parameter
        stream (its spawn key extended by ``EV_STREAM``): ``rng`` is not advanced, so adding
        the model to a segment moves no other draw (an adoption of 0 gives the same bits as
        no model). Each parameter in ``params`` order, then ``adopted`` (uniform <
        adoption)."""
        ss = rng.bit_generator.seed_seq
        own = np.random.Generator(np.random.PCG64(
            np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, EV_STREAM))))
        out = super().draw(draw_param, own, rows)
        out["adopted"] = own.random(rows) < self.settings.adoption
        return out

    def fleet(self, idx, params: CustomerParams, spd: int) -> tuple[np.ndarray, EvFleet]:
        """The customers among ``idx`` who have an EV (positions in ``idx``) and their cars;
        kept for a chunk of consecutive customers (``idx`` a slice)."""
        key = (idx.start, idx.stop, spd) if isinstance(idx, slice) else None
        found = self._fleets.get(key) if key is not None else None
        if found is None:
            sub = np.flatnonzero(params.adopted[idx] > 0)
            i = (np.arange(idx.start, idx.stop) if isinstance(idx, slice) else np.asarray(idx))[sub]
            start, steps = window_steps(params.arrival_hour[i], params.departure_hour[i], spd)
            found = (sub, EvFleet(start, steps, params.daily_kwh[i], params.charger_kw[i]))
            if key is not None:
                self._fleets[key] = found
        return found

    def respond(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        if self.settings.adoption <= 0:
            return load
        spd = load.shape[1]
        sub, fleet = self.fleet(day.idx, params, spd)
        if not len(sub):
            return load
        s = self.settings
        mode = s.mode if day.role == "scenario" else s.baseline_mode
        # the first step starting at or after the timer's hour (as the window's start)
        timer = None if s.timer_start is None else int(np.ceil(s.timer_start / day.step_hours - 1e-9))
        separate = s.meter == "separate"
        grid = mode == "managed" and day.own.grid_event is not None
        if separate and day.own.storage_price is not None:  # a meter of its own, at its own rate
            price = np.asarray(day.own.storage_price, dtype=np.float64)
        else:   # the cars' distinct price rows where the block's are grouped: each sorted once
            groups = day.groups.own() if day.own.price.ndim == 2 and not grid else None
            price = owners_prices(day.own.price, groups, sub)
        if grid:
            # the network operator's grid events: used only where the rest of the window does not suffice
            price = avoid_steps(price, day.own.grid_event[sub])
        ev, short = charge_ev(fleet, price, mode, day.step_hours, timer)
        if separate:  # billed on the storage meter where the tariff has one (sim.engine.step._meters)
            out = load
            day.add_charge(np.asarray(sub), ev)
        else:
            out = writable(load, day)
        keep = day.stats is not None
        rows = ((day.idx.start + sub) if isinstance(day.idx, slice) else np.asarray(day.idx)[sub]) if keep else None
        # one pass: the load placed (main meter), each car's kWh and each stream block's EV
        # load (its rows added in row order: the same bits however the blocks are chunked or
        # spread; a block is never split)
        add_rows(ev, day.step_hours, out=None if separate else out, sub=sub,
                 kwh=day.stats["ev_kwh_" + day.role] if keep else None, rows=rows,
                 block_of=self._block_of if keep and day.d is not None else None,
                 block_kw=(day.stats["ev_block_kw_" + day.role][:, day.d * spd:(day.d + 1) * spd]
                           if keep and day.d is not None else None))
        if keep:
            day.stats["ev_shortfall_kwh_" + day.role][rows] += short
        return out

    def utility(self, before: np.ndarray, after: np.ndarray, day: ResponseDay, params: CustomerParams) -> None:
        """None: the car's driving, and so its energy, is the same in both roles; when it
        charges within its window costs the customer nothing (no inconvenience modelled)."""
        return None
