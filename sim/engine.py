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
from dataclasses import dataclass

import numpy as np
import simpy

from .behavior import constant_elasticity, curtail, price_ratio
from .calendar import Calendar
from .grid import energy_cost_series
from .population import STREAM_BLOCK, SegmentPopulation, build_segment
from .scenario.schema import Scenario
from .tariffs import BillSet, CompiledTariff, DayContext, compile_tariff

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


@dataclass
class RunResult:
    """Everything a run produced, as arrays; ``metrics`` is filled by :func:`sim.metrics.compute`.

    Attributes
    ----------
    scenario : Scenario
    calendar : Calendar
    segments : dict name -> SegmentResult
    system_load_kw : dict role -> ndarray, shape (n_steps,)  [kW]
    energy_cost_per_kwh : ndarray, shape (n_steps,)  [currency/kWh]
    metrics : dict
    """

    scenario: Scenario
    calendar: Calendar
    segments: dict[str, SegmentResult]
    system_load_kw: dict[str, np.ndarray]
    energy_cost_per_kwh: np.ndarray
    metrics: dict


def _chunks(pop: SegmentPopulation, chunk_customers: int) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """Group whole stream blocks into chunks: (start, stop, [(block index, block start, block stop)...])."""
    per_chunk = max(1, chunk_customers // STREAM_BLOCK)
    blocks = pop.blocks
    out = []
    for c in range(0, len(blocks), per_chunk):
        group = [(b, *blocks[b]) for b in range(c, min(c + per_chunk, len(blocks)))]
        out.append((group[0][1], group[-1][2], group))
    return out


def _curtail(load: np.ndarray, bills: BillSet, contexts: dict, rows: slice, pop: SegmentPopulation) -> np.ndarray:
    """Apply interruptible curtailment where the customers' tariff calls an event today."""
    out = load
    for k, mask, _ in bills.split(rows):
        event = contexts[bills.tariffs[k].name].intr_mask
        if event is None:
            continue
        sel = np.arange(rows.start, rows.stop) if mask is None else np.arange(rows.start, rows.stop)[mask]
        part = load if mask is None else load[mask]
        shed = curtail(part, event, pop.firm_kw[sel], pop.compliance[sel])
        if out is load:
            out = load.copy()
        if mask is None:
            out[:] = shed
        else:
            out[mask] = shed
    return out


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
    cal = Calendar.from_scenario(scenario)
    spd = cal.steps_per_day
    compiled = {name: compile_tariff(name, t, cal) for name, t in scenario.tariffs.items()}
    segments: dict[str, SegmentResult] = {}
    for seg in scenario.populations:
        pop = build_segment(seg, cal, scenario.seed)
        tariffs = {r: [compiled[name] for name, _ in seg.tariff.options(r)] for r in ROLES}
        choice = {"baseline": np.zeros(pop.n, dtype=np.int64),
                  "scenario": pop.menu_choice if pop.menu_choice is not None else np.zeros(pop.n, dtype=np.int64)}
        bills = {r: BillSet(tariffs[r], choice[r], cal, pop.contract_kva, pop.firm_kw) for r in ROLES}
        load = {r: np.zeros(cal.n_steps) for r in ROLES}
        segments[seg.name] = SegmentResult(pop, tariffs, bills, load)

    work = [(s, _chunks(s.population, chunk_customers)) for s in segments.values()]

    def step_day(d: int) -> None:
        day = slice(d * spd, (d + 1) * spd)
        contexts = {name: DayContext(t, d, spd) for name, t in compiled.items()}
        for s, chunks in work:
            pop = s.population
            bb, bs = s.bills["baseline"], s.bills["scenario"]
            for a, b, group in chunks:
                rows = slice(a, b)
                factor = np.concatenate([pop.daily_factor(k, hi - lo) for k, lo, hi in group])
                base = pop.base_load(rows, d, factor)
                storage = pop.storage_load(rows)
                # behaviour sees prices only: the marginal price of each step under each role
                ratio = price_ratio(bb.day_price(d, spd, rows), bs.day_price(d, spd, rows))
                resp = constant_elasticity(base, ratio, pop.elasticity[rows])
                if pop.firm_kw is not None:  # interruptible contracts: shed load in called events
                    base = _curtail(base, bb, contexts, rows, pop)
                    resp = _curtail(resp, bs, contexts, rows, pop)
                bb.add_day(rows, base, contexts, storage)
                bs.add_day(rows, resp, contexts, storage)
                if storage is not None:
                    base, resp = base + storage, resp + storage
                # per stream block sums, added in block order: the same bits however blocks are chunked
                for _, lo, hi in group:
                    s.load_kw["baseline"][day] += base[lo - a:hi - a].sum(axis=0)
                    s.load_kw["scenario"][day] += resp[lo - a:hi - a].sum(axis=0)

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

    def days(env: simpy.Environment):
        for d in range(cal.days):
            step_day(d)
            state["days_done"] = d + 1
            if progress is not None:
                progress(d + 1, cal.days)
            yield env.timeout(1)

    env.process(billing(env))  # created first: at a month boundary, bills close before the next day
    env.process(days(env))
    env.run()

    system = {r: np.sum([s.load_kw[r] for s in segments.values()], axis=0) for r in ROLES}
    return RunResult(scenario, cal, segments, system, energy_cost_series(scenario.grid, cal), {})
