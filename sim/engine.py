"""The SimPy clock: days and monthly billing cycles driving blocks of customers as arrays.

SimPy keeps time (one time unit = one day); numpy does the arithmetic. Two processes run:

* ``days`` steps through the horizon; each day every customer block computes its
  baseline load, its response to the scenario tariff's prices (from the same random
  draws: common random numbers), adds both to the bill accumulators and to the per-block
  system load sums;
* ``billing`` closes each calendar month's bills when the month has passed.

Memory grows with customers, not customers x steps: per-customer state is a few arrays
of length n, and only system-level and per-segment load series are kept over time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import simpy

from .behavior import constant_elasticity, price_ratio
from .behavior.pipeline import PriceDay, respond, strength
from .behavior.welfare import surplus_change_from_response
from .scenario.behavior import models_of
from .calendar import Calendar
from .errors import InputError, Problem
from .grid import energy_cost_series, role_energy_cost
from .grid.cost import marginal_cost, rtp_price_from_cost
from .grid.operator import has_programme, listed_events, operator_process, refresh_cpp
from .population import STREAM_BLOCK, SegmentPopulation, build_segment
from .scenario.schema import Scenario
from .population.segments import CHOICE, block_stream
from .tariffs import BillAccumulator, BillSet, CompiledTariff, DayContext, compile_tariff
from .tariffs.billing import ChoiceBills

ROLES = ("baseline", "scenario")

#: Default number of customers processed together in memory (a multiple of STREAM_BLOCK).
DEFAULT_CHUNK = 4 * STREAM_BLOCK


@dataclass
class SegmentResult:
    """One segment's outcome.

    Attributes
    ----------
    population : SegmentPopulation
    tariffs : dict role -> list of CompiledTariff
        The tariff of the role, or the tariffs of its menu.
    bills : dict role -> BillSet
    load_kw : dict role -> ndarray, shape (n_steps,)
        The segment's total load in each step. [kW]
    """

    population: SegmentPopulation
    tariffs: dict[str, list[CompiledTariff]]
    bills: dict[str, BillSet]
    load_kw: dict[str, np.ndarray]
    spec: object = None                 #: the scenario's Segment
    soc: dict | None = None             #: role -> (n,) thermal-storage state of charge [kWh]
    structural: list | None = None      #: menu with choice: the baseline load billed on each menu tariff
    stats: dict = field(default_factory=dict)  #: running sums of the response (see behavior.pipeline.respond)


@dataclass
class RunResult:
    """Everything a run produced, as arrays; ``metrics`` is filled by :func:`sim.metrics.compute`.

    Attributes
    ----------
    scenario : Scenario
    calendar : Calendar
    segments : dict name -> SegmentResult
    system_load_kw : dict role -> ndarray, shape (n_steps,)  [kW]
    energy_cost_per_kwh : dict role -> ndarray, shape (n_steps,)
        Cost of energy per metered kWh in each step, losses included. [currency/kWh]
    metrics : dict
    """

    scenario: Scenario
    calendar: Calendar
    segments: dict[str, SegmentResult]
    system_load_kw: dict[str, np.ndarray]
    energy_cost_per_kwh: dict[str, np.ndarray]
    metrics: dict
    events: list = field(default_factory=list)  #: event log: listed and operator-called events
    rtp_iterations: list = field(default_factory=list)  #: per day: fixed-point iterations of system RTP


def _chunks(pop: SegmentPopulation, chunk_customers: int) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """Group whole stream blocks into chunks: (start, stop, [(block index, block start, block stop)...])."""
    per_chunk = max(1, chunk_customers // STREAM_BLOCK)
    blocks = pop.blocks
    out = []
    for c in range(0, len(blocks), per_chunk):
        group = [(b, *blocks[b]) for b in range(c, min(c + per_chunk, len(blocks)))]
        out.append((group[0][1], group[-1][2], group))
    return out


def _event_performance(log: list[dict], system: dict, cal: Calendar) -> list[dict]:
    """Each event, in date order, with the system load in its steps: mean baseline and
    scenario kW and the reduction delivered."""
    spd = cal.steps_per_day
    first = np.datetime64(cal.start, "D")
    out = []
    for ev in sorted(log, key=lambda e: (e["date"], e["start_step"], e["programme"], e["tariff"])):
        d = int((np.datetime64(ev["date"], "D") - first).astype(int))
        steps = slice(d * spd + ev["start_step"], d * spd + ev["stop_step"])
        b, s = float(system["baseline"][steps].mean()), float(system["scenario"][steps].mean())
        out.append({**ev, "baseline_kw": b, "scenario_kw": s, "reduction_kw": b - s})
    return out


def _prices_of(price: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """The prices of some customers: a per-step vector (spd,) is shared by all; a per-customer
    (n, spd) array is cut to the rows in ``mask``."""
    return price if mask is None or price.ndim == 1 else price[mask]


def _rows_of(a: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Rows ``mask`` of a per-customer array (n,)."""
    return a if mask is None else a[mask]


def _event_day(t: CompiledTariff, day: slice) -> bool:
    return any(x is not None and x[day].any() for x in (t.cpp_adder, t.ptr_event, t.intr_event))


def _price_day(t: CompiledTariff, ctx: DayContext, price: np.ndarray) -> PriceDay:
    return PriceDay(price=price, storage_price=ctx.storage_price, period=ctx.period,
                    period_names=tuple(n.split(".")[-1] for n in t.period_names),
                    demand_price=t.demand_price, interruptible=ctx.intr_mask)


#: Memory a customer needs in a run, measured (about 1 kB with two tariffs; 1,000,000
#: customers peak near 1 GiB), and per extra tariff it is billed on (menus, choice). [bytes]
BYTES_PER_CUSTOMER, BYTES_PER_EXTRA_TARIFF = 1_100, 700


def memory_estimate(scenario: Scenario) -> int:
    """Rough peak memory of a run, from its customer counts. [bytes]"""
    total = 150 * 2**20
    days_steps = scenario.horizon.days * scenario.horizon.steps_per_day
    for seg in scenario.populations:
        n = seg.count or 0
        options = len(seg.tariff.options("scenario")) + (1 if seg.participation.enrolment else 0)
        per = BYTES_PER_CUSTOMER + BYTES_PER_EXTRA_TARIFF * (options - 1) * (2 if seg.tariff.choice else 1)
        total += n * per + days_steps * 8 * 4
    return total


def _check_memory(scenario: Scenario) -> None:
    """Refuse, before any work, a run that would need more memory than the machine has."""
    import os

    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return
    need = memory_estimate(scenario)
    if need > 0.8 * physical:
        raise InputError(Problem("populations", None, "", f"this run needs about {need / 2**30:.1f} GiB of memory; "
                                                           f"the machine has {physical / 2**30:.1f} GiB (fewer customers, "
                                                           "or split the population across runs)"))


def simulate(scenario: Scenario, *, chunk_customers: int = DEFAULT_CHUNK,
             progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Run a scenario: baseline and scenario tariffs on the same customers and draws.

    Parameters
    ----------
    scenario : Scenario
    chunk_customers : int
        Customers processed together in memory, rounded down to whole stream blocks
        (at least one). Results do not depend on it.
    progress : callable(days_done, days), optional

    Returns
    -------
    RunResult (metrics not yet computed)
    """
    _check_memory(scenario)
    cal = Calendar.from_scenario(scenario)
    spd = cal.steps_per_day
    step_h = cal.step_minutes / 60.0
    compiled = {name: compile_tariff(name, t, cal) for name, t in scenario.tariffs.items()}
    segments: dict[str, SegmentResult] = {}
    for seg in scenario.populations:
        pop = build_segment(seg, cal, scenario.seed)
        tariffs = {r: [compiled[name] for name, _ in seg.tariff.options(r)] for r in ROLES}
        if seg.participation.enrolment is not None:  # those not enrolled stay on the baseline tariff
            tariffs["scenario"] = tariffs["scenario"] + [compiled[seg.tariff.baseline]]
        choice = {"baseline": np.zeros(pop.n, dtype=np.int64),
                  "scenario": pop.menu_choice if pop.menu_choice is not None else np.zeros(pop.n, dtype=np.int64)}
        bills = {r: BillSet(tariffs[r], choice[r], cal, pop.contract_kva, pop.firm_kw) for r in ROLES}
        structural = None
        if seg.tariff.choice is not None:  # customers switch within the menu: shadow bills on every tariff
            streams = [((lo, hi), block_stream(scenario.seed, seg.name, b, CHOICE))
                       for b, (lo, hi) in enumerate(pop.blocks)]
            bills["scenario"] = ChoiceBills(tariffs["scenario"], choice["scenario"], cal, seg.tariff.choice, streams,
                                            pop.contract_kva, pop.firm_kw)
            # the baseline load billed on each menu tariff: who wins without changing anything
            structural = [BillAccumulator(t, pop.n, cal, pop.contract_kva, pop.firm_kw) for t in tariffs["scenario"]]
        load = {r: np.zeros(cal.n_steps) for r in ROLES}
        soc = {r: np.zeros(pop.n) for r in ROLES} if "thermal_storage.adopted" in pop.params else None
        segments[seg.name] = SegmentResult(pop, tariffs, bills, load, seg, soc, structural, {
            "consumer_surplus": np.zeros(pop.n), "interruptible_requested_kwh": 0.0,
            "interruptible_delivered_kwh": 0.0})

    work = [(s, _chunks(s.population, chunk_customers)) for s in segments.values()]

    streak = {name: 0 for name in compiled}  # consecutive event days of each tariff, today included
    rtp_log: list[dict] = []

    def day_pass(d: int, contexts: dict, factors: dict, commit: bool) -> dict:
        """All customers' loads on day ``d``; with ``commit``, bill them and keep their state.

        Returns the system load of the day per role (spd,). Without ``commit`` nothing
        changes but the cache of the day's random level factors, so the pass can be repeated
        (the real-time price fixed point)."""
        day = slice(d * spd, (d + 1) * spd)
        bills_closed = int(cal.billing_month[d])
        system = {r: np.zeros(spd) for r in ROLES}
        for s, chunks in work:
            pop, spec = s.population, s.spec
            models = {m.model: m for m in models_of(spec.behavior)}
            fast = set(models) <= {"constant_elasticity"}  # the foundation's model alone
            stats = s.stats if commit else None
            for a, b, group in chunks:
                rows = slice(a, b)
                key = (spec.name, a)
                if key not in factors:  # each block's daily stream is drawn once a day
                    factors[key] = np.concatenate([pop.daily_factor(k, hi - lo) for k, lo, hi in group])
                base = pop.base_load(rows, d, factors[key])
                fixed_storage = pop.storage_load(rows)
                # behaviour sees prices only: the marginal price of each step under each role
                prices = {r: s.bills[r].day_price(d, spd, rows) for r in ROLES}
                m = strength(pop, spec.participation, d, cal.days, bills_closed, rows)
                out = {}
                for role in ROLES:
                    bills = s.bills[role]
                    load = np.empty_like(base) if not (fast and role == "baseline") else base
                    charge = None
                    for k, mask, _ in bills.split(rows):
                        tariff = bills.tariffs[k]
                        ctx = contexts[tariff.name]
                        idx = np.arange(a, b) if mask is None else np.arange(a, b)[mask]
                        if fast and ctx.intr_mask is None:
                            if role == "baseline":
                                continue
                            sub = base if mask is None else base[mask]
                            ratio = price_ratio(_prices_of(prices["baseline"], mask), _prices_of(prices["scenario"], mask))
                            fatigue = spec.participation.event_fatigue ** max(streak[tariff.name] - 1, 0)
                            e = pop.elasticity[idx] * _rows_of(m, mask) * fatigue
                            got, ch = constant_elasticity(sub, ratio, e), None
                            if stats is not None:
                                stats["consumer_surplus"][idx] += surplus_change_from_response(
                                    sub, got, _prices_of(prices["baseline"], mask), _prices_of(prices["scenario"], mask), e,
                                    step_h)
                        else:
                            own = _price_day(tariff, ctx, _prices_of(prices[role], mask))
                            ref = _price_day(s.bills["baseline"].tariffs[0], contexts[s.bills["baseline"].tariffs[0].name],
                                             _prices_of(prices["baseline"], mask))
                            fatigue = spec.participation.event_fatigue ** max(streak[tariff.name] - 1, 0)
                            peak = None
                            if role == "scenario" and "demand_shaving" in models:
                                # the baseline peak of the month so far, today included (the same in
                                # every pass of the day, whether or not today is billed yet)
                                today = base_main if mask is None else base_main[mask]
                                peak = np.maximum(s.bills["baseline"].accs[0].month_max_so_far(idx), today.max(axis=1))
                            soc = s.soc[role][idx] if s.soc is not None else None
                            got, ch, soc = respond(role, base if mask is None else base[mask], idx, pop, models, ref,
                                                   own, _rows_of(m, mask) * (fatigue if role == "scenario" else 1.0),
                                                   fatigue if role == "scenario" else 1.0, peak, soc, step_h,
                                                   stats if role == "scenario" else None)
                            if soc is not None and commit:
                                s.soc[role][idx] = soc
                        if mask is None:
                            load = got
                        else:
                            load[mask] = got
                        if ch is not None:
                            if charge is None:
                                charge = np.zeros_like(base)
                            charge[idx - a] = ch
                    storage = fixed_storage if charge is None else (
                        charge if fixed_storage is None else fixed_storage + charge)
                    if role == "baseline":
                        base_main = load
                    if commit:
                        bills.add_day(rows, load, contexts, storage)
                        if role == "baseline" and s.structural is not None:
                            for acc in s.structural:
                                acc.add_day(rows, load, contexts[acc.tariff.name], storage)
                    out[role] = load if storage is None else load + storage
                # per stream block sums, added in block order: the same bits however blocks are chunked
                for _, lo, hi in group:
                    for role in ROLES:
                        block = out[role][lo - a:hi - a].sum(axis=0)
                        system[role] += block
                        if commit:
                            s.load_kw[role][day] += block
        return system

    system_rtp = [t for t in compiled.values() if t.rtp_from_system]

    def step_day(d: int) -> None:
        day = slice(d * spd, (d + 1) * spd)
        for name, t in compiled.items():
            streak[name] = streak[name] + 1 if _event_day(t, day) else 0
        factors: dict = {}
        if system_rtp:  # real-time prices formed from the scenario's own system load: a fixed point
            solve_rtp_day(d, day, factors)
        contexts = {name: DayContext(t, d, spd) for name, t in compiled.items()}
        day_pass(d, contexts, factors, commit=True)

    def solve_rtp_day(d: int, day: slice, factors: dict) -> None:
        """Damped fixed-point iteration of marginal cost <-> system load for day ``d``.

        c_(k+1) = (1 - a) c_k + a mc(L(c_k)), mc the merit-order marginal cost of the scenario
        system supply and every system-priced tariff charging its own formula of c; stop when
        max |c_(k+1) - c_k| <= tol. With several such tariffs, the smallest damping and
        tolerance and the largest iteration count among them apply."""
        specs = [t.source for t in system_rtp]
        a = min(x.damping for x in specs)
        tol = min(x.tolerance_per_kwh for x in specs)
        max_iter = max(x.max_iterations for x in specs)
        gross = 1.0 + scenario.grid.losses_pct / 100.0
        cost, step, it = None, float("inf"), 0

        def set_prices(c):
            for t in system_rtp:
                t.rtp_price[day] = rtp_price_from_cost(t.source, c)
                if t.cpp_event is not None:
                    refresh_cpp(t, day)

        for it in range(1, max_iter + 1):
            if cost is not None:
                set_prices(cost)
            contexts = {name: DayContext(t, d, spd) for name, t in compiled.items()}
            loads = day_pass(d, contexts, factors, commit=False)
            if cost is None:  # start from the cost the baseline load would form
                cost = marginal_cost(loads["baseline"] * gross, scenario.grid)
                continue
            new = (1 - a) * cost + a * marginal_cost(loads["scenario"] * gross, scenario.grid)
            step = float(np.abs(new - cost).max())
            cost = new
            if step <= tol:
                break
        set_prices(cost)
        rtp_log.append({"day": d, "iterations": it, "residual_per_kwh": step if it > 1 else float("nan"),
                        "converged": it > 1 and step <= tol})

    env = simpy.Environment()
    state = {"days_done": 0}
    month_end = np.flatnonzero(np.diff(cal.billing_month)) + 1  # first day of each new month
    month_end = np.append(month_end, cal.days)

    def billing(env: simpy.Environment):
        for m, end in enumerate(month_end):
            yield env.timeout(int(end) - env.now)
            if state["days_done"] != end:  # the clock must have finished the month
                raise RuntimeError(f"billing month {m} closed after {state['days_done']} days, expected {end}")
            for s in segments.values():
                for bills in s.bills.values():
                    bills.close_month(m)
                for acc in s.structural or ():
                    acc.close_month(m)

    def days(env: simpy.Environment):
        for d in range(cal.days):
            step_day(d)
            state["days_done"] = d + 1
            if progress is not None:
                progress(d + 1, cal.days)
            yield env.timeout(1)

    env.process(billing(env))  # created first: at a month boundary, bills close before the next day
    log: list[dict] = listed_events(compiled, cal)
    if scenario.operator is not None:  # then the operator: tomorrow's events are called before today runs
        scenario_tariffs = {t.name: t for s in segments.values() for t in s.tariffs["scenario"]}
        targets = {p: [t for t in scenario_tariffs.values() if has_programme(t, p)] for p in scenario.operator.programmes}
        env.process(operator_process(env, scenario.operator, cal, [s.population for s in segments.values()],
                                     targets, log))
    env.process(days(env))
    env.run()

    system = {r: np.sum([s.load_kw[r] for s in segments.values()], axis=0) for r in ROLES}
    series = energy_cost_series(scenario.grid, cal)
    cost = {r: role_energy_cost(scenario.grid, series, system[r]) for r in ROLES}
    events = _event_performance(log, system, cal)
    return RunResult(scenario, cal, segments, system, cost, {}, events, rtp_log)
