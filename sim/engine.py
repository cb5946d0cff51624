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

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import simpy

from .behavior.pipeline import PriceDay, elasticity_response, respond, strength
from .scenario.behavior import models_of
from .calendar import Calendar
from .errors import InputError, Problem, RunError
from .grid import energy_cost_series, role_energy_cost
from .grid.days import GridDays
from .grid.operator import has_programme, listed_events, operator_process
from .grid.rtp import solve_day
from .population import STREAM_BLOCK, SegmentPopulation, build_segment
from .scenario.schema import Scenario
from .population.segments import CHOICE, block_stream
from .outcome import ROLES, RunResult, SegmentOutcome
from .tariffs import BillAccumulator, BillSet, CompiledTariff, DayContext, compile_tariff
from .tariffs.billing import ChoiceBills
from .rowmath import block_column_sums, block_sum

#: Default number of customers processed together in memory (a multiple of STREAM_BLOCK).
DEFAULT_CHUNK = 4 * STREAM_BLOCK


@dataclass
class SegmentState:
    """One segment's customers in a shard while the run goes on: their population, bill
    accumulators, storage state and response sums (read out as a
    :class:`sim.outcome.SegmentOutcome` at the end).

    Attributes
    ----------
    population : SegmentPopulation
    tariffs : dict role -> tuple of CompiledTariff
        The tariff of the role, or the tariffs of its menu.
    bills : dict role -> BillSet or ChoiceBills
    spec : Segment
        The scenario's segment.
    soc : dict role -> (n,) thermal-storage state of charge [kWh], or None
    structural : list of BillAccumulator, or None
        Menu with choice: the baseline load billed on each menu tariff.
    stats : dict
        Running sums of the response (see behavior.pipeline.respond).
    """

    population: SegmentPopulation
    tariffs: dict[str, tuple[CompiledTariff, ...]]
    bills: dict
    spec: object = None
    soc: dict | None = None
    structural: list | None = None
    stats: dict = field(default_factory=dict)

    def readout(self) -> SegmentOutcome:
        """The finished segment as frozen arrays (the customers' state stays behind)."""
        pop = self.population
        structural = None if self.structural is None else np.stack([acc.bill for acc in self.structural])
        return SegmentOutcome(pop.name, pop.customer_class, pop.n, self.tariffs,
                              {r: b.readout() for r, b in self.bills.items()}, {}, self.stats, pop.elasticity,
                              self.soc, structural, self.spec)


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


def _storage_metered(bills, structural, contexts: dict) -> bool:
    """Whether any tariff a role's load is billed on has a storage meter of its own."""
    tariffs = list(bills.tariffs) + [acc.tariff for acc in structural or ()]
    return any(contexts[t.name].storage_price is not None for t in tariffs)


def _price_day(t: CompiledTariff, ctx: DayContext, price: np.ndarray, groups=None) -> PriceDay:
    return PriceDay(price=price, storage_price=ctx.storage_price, period=ctx.period,
                    period_names=tuple(n.split(".")[-1] for n in t.period_names),
                    demand_price=t.demand_price, interruptible=ctx.intr_mask, groups=groups)


#: Memory a customer needs in a run, measured (large_system, benchmarks/scale.py: about
#: 0.9 kB with two tariffs, 1,000,000 customers peak at 1.1 GiB), rounded up, and per extra
#: tariff it is billed on (menus, choice). [bytes]
BYTES_PER_CUSTOMER, BYTES_PER_EXTRA_TARIFF = 1_000, 700
#: A run's process before its customers: interpreter, numpy, numba and the compiled kernels
#: (about 275 MiB for 10,000 customers). [bytes]
BASE_BYTES = 280 * 2**20


def memory_estimate(scenario: Scenario) -> int:
    """Rough peak memory of a run, from its customer counts. [bytes]"""
    total = BASE_BYTES
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


def _compile_all(scenario: Scenario, cal: Calendar) -> dict[str, CompiledTariff]:
    return {name: compile_tariff(name, t, cal) for name, t in scenario.tariffs.items()}


class Shard:
    """The customers of a run, or the stream blocks of each segment one process holds.

    A shard builds its customers (each stream block draws from its own streams, so a
    customer is the same whichever shard holds it), bills them, and computes each day's
    loads when the coordinator (:func:`simulate`) asks. It returns the system load of each
    of its stream blocks; the coordinator adds the blocks of all shards in block order, so a
    run gives the same bits however its blocks are spread (chunks, processes, machines).

    Parameters
    ----------
    scenario : Scenario
    blocks : dict segment name -> (first, stop), optional
        Stream blocks of each segment to hold (default: all).
    chunk_customers : int
        Customers processed together in memory.
    compiled : dict name -> CompiledTariff, optional
        The coordinator's compiled tariffs, shared when the shard lives in its process; a
        shard elsewhere compiles its own (the same frozen arrays).
    """

    def __init__(self, scenario: Scenario, blocks: dict | None = None, chunk_customers: int = DEFAULT_CHUNK,
                 compiled: dict | None = None):
        self.scenario = scenario
        self.cal = cal = Calendar.from_scenario(scenario)
        self.step_h = cal.step_minutes / 60.0
        self.compiled = compiled if compiled is not None else _compile_all(scenario, cal)
        self.segments: dict[str, SegmentState] = {}
        for seg in scenario.populations:
            pop = build_segment(seg, cal, scenario.seed, None if blocks is None else blocks[seg.name])
            spans = pop.blocks
            tariffs = {r: tuple(self.compiled[name] for name, _ in seg.tariff.options(r)) for r in ROLES}
            if seg.participation.enrolment is not None:  # those not enrolled stay on the baseline tariff
                tariffs["scenario"] = tariffs["scenario"] + (self.compiled[seg.tariff.baseline],)
            choice = {"baseline": np.zeros(pop.n, dtype=np.int64),
                      "scenario": pop.menu_choice if pop.menu_choice is not None else np.zeros(pop.n, dtype=np.int64)}
            bills = {r: BillSet(tariffs[r], choice[r], cal, pop.contract_kva, pop.firm_kw, spans) for r in ROLES}
            structural = None
            if seg.tariff.choice is not None:  # customers switch within the menu: shadow bills on every tariff
                streams = [((lo, hi), block_stream(scenario.seed, seg.name, b, CHOICE))
                           for b, (lo, hi) in zip(pop.block_ids, spans)]
                bills["scenario"] = ChoiceBills(tariffs["scenario"], choice["scenario"], cal, seg.tariff.choice,
                                                streams, pop.contract_kva, pop.firm_kw)
                # the baseline load billed on each menu tariff: who wins without changing anything
                structural = [BillAccumulator(t, pop.n, cal, pop.contract_kva, pop.firm_kw, spans)
                              for t in tariffs["scenario"]]
            soc = {r: np.zeros(pop.n) for r in ROLES} if "thermal_storage.adopted" in pop.params else None
            self.segments[seg.name] = SegmentState(pop, tariffs, bills, seg, soc, structural, {
                "consumer_surplus": np.zeros(pop.n), "interruptible_requested_kwh": np.zeros(pop.n),
                "interruptible_delivered_kwh": np.zeros(pop.n)})
        self.work = [(s, _chunks(s.population, chunk_customers)) for s in self.segments.values()]
        self._factors: dict = {}
        self._factors_day = -1
        self.busy_s = 0.0  #: time spent computing days [s] (how evenly shards share the work)

    # ---------------------------------------------------------------- coordinator's calls

    def forecast_inputs(self) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """Per segment: the sum of mean loads of each stream block held, and (measured
        profiles) how many customers take each column. For the operator's forecast."""
        return [(s.population.mean_kw_by_block(), _column_counts(s.population)) for s in self.segments.values()]

    def day(self, d: int, streak: dict, commit: bool, tariff_days: dict) -> list[np.ndarray]:
        """All customers' loads on day ``d``; with ``commit``, bill them and keep their state.

        ``tariff_days``: tariff name -> the tariff's TariffDay of day ``d`` (from the
        coordinator's :class:`~sim.grid.days.GridDays`).

        Returns, per segment, the load of each stream block held summed over its customers,
        shape (roles, blocks, spd). Without ``commit`` nothing changes but the cache of the
        day's random level factors, so the pass can be repeated (the real-time price fixed
        point)."""
        started = time.perf_counter()
        cal, spd, step_h = self.cal, self.cal.steps_per_day, self.step_h
        if d != self._factors_day:  # each block's daily stream is drawn once a day
            self._factors, self._factors_day = {}, d
        factors = self._factors
        contexts = {name: DayContext(t, d, spd, day=tariff_days[name]) for name, t in self.compiled.items()}
        bills_closed = int(cal.billing_month[d])
        result = []
        for s, chunks in self.work:
            pop, spec = s.population, s.spec
            sums = np.zeros((len(ROLES), len(pop.blocks), spd))
            result.append(sums)
            models = {m.model: m for m in models_of(spec.behavior)}
            fast = set(models) <= {"constant_elasticity"}  # the foundation's model alone
            stats = s.stats if commit else None
            for a, b, group in chunks:
                rows = slice(a, b)
                bounds = np.array([lo - a for _, lo, _ in group] + [group[-1][2] - a])
                key = (spec.name, a)
                if key not in factors:
                    factors[key] = np.concatenate([pop.daily_factor(pop.first_block + k, hi - lo)
                                                   for k, lo, hi in group])
                base = pop.base_load(rows, d, factors[key])
                fixed_storage = pop.storage_load(rows)
                # behaviour sees prices only: the marginal price of each step under each role
                priced = {r: s.bills[r].day_price_groups(d, spd, rows, contexts) for r in ROLES}
                prices = {r: priced[r][0] for r in ROLES}
                m = strength(pop, spec.participation, d, cal.days, bills_closed, rows)
                for role in ROLES:
                    bills = s.bills[role]
                    load = np.empty_like(base) if not (fast and role == "baseline") else base
                    charges = []  # thermal-storage charging: (rows of the chunk, their loads)
                    for k, mask, _ in bills.split(rows):
                        tariff = bills.tariffs[k]
                        ctx = contexts[tariff.name]
                        # the customers' rows in the segment: a slice (views of their parameters) when all
                        idx = slice(a, b) if mask is None else np.arange(a, b)[mask]
                        fatigue = spec.participation.event_fatigue ** max(streak[tariff.name] - 1, 0)
                        if fast and ctx.intr_mask is None:
                            if role == "baseline":
                                continue
                            sub = base if mask is None else base[mask]
                            got = elasticity_response(sub, _prices_of(prices["baseline"], mask),
                                                      _prices_of(prices["scenario"], mask),
                                                      pop.elasticity[idx] * _rows_of(m, mask) * fatigue, step_h,
                                                      None, stats, idx)
                            ch = None
                        else:
                            own = _price_day(tariff, ctx, _prices_of(prices[role], mask),
                                             priced[role][1] if mask is None else None)
                            ref = _price_day(s.bills["baseline"].tariffs[0], contexts[s.bills["baseline"].tariffs[0].name],
                                             _prices_of(prices["baseline"], mask))
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
                            charges.append((ch[0] if mask is None else np.flatnonzero(mask)[ch[0]], ch[1]))
                    if role == "baseline":
                        base_main = load
                    storage = fixed_storage
                    if charges and not _storage_metered(bills, s.structural if role == "baseline" else None,
                                                        contexts):
                        # charging is billed on the main meter: added to the load of those who charge
                        # (the same sums as adding a charging array that is zero elsewhere)
                        if load is base or load is base_main:
                            load = load.copy()
                        for r, values in charges:
                            load[r] += values
                    elif charges:
                        charge = np.zeros_like(base)
                        for r, values in charges:
                            charge[r] = values
                        storage = charge if fixed_storage is None else fixed_storage + charge
                    # each stream block's sum over its customers (main meter and storage): taken in
                    # the billing pass where one tariff bills the whole load
                    block_sums = sums[ROLES.index(role), group[0][0]:group[-1][0] + 1]
                    fused = commit and storage is None and bills.single
                    if commit:
                        bills.add_day(rows, load, contexts, storage, (bounds, block_sums) if fused else None)
                        if role == "baseline" and s.structural is not None:
                            for acc in s.structural:
                                acc.add_day(rows, load, contexts[acc.tariff.name], storage)
                    if not fused:
                        block_sums[:] = block_column_sums(load, storage, bounds)
        self.busy_s += time.perf_counter() - started
        return result

    def days(self, d0: int, d1: int, streaks: list[dict], tariff_days: list[dict],
             close: int | None = None) -> list[np.ndarray]:
        """Days ``d0`` to ``d1 - 1``, committed, with each day's event streaks and tariff
        days, then (with ``close``) billing month ``close`` closed; per segment the blocks'
        sums, shape (roles, blocks, (d1 - d0) x spd)."""
        spd = self.cal.steps_per_day
        out = [np.empty((len(ROLES), len(s.population.blocks), (d1 - d0) * spd)) for s in self.segments.values()]
        for j, d in enumerate(range(d0, d1)):
            for o, part in zip(out, self.day(d, streaks[j], True, tariff_days[j])):
                o[:, :, j * spd:(j + 1) * spd] = part
        if close is not None:
            self.close_month(close)
        return out

    def busy(self) -> float:
        return self.busy_s

    def close_month(self, m: int) -> None:
        for s in self.segments.values():
            for bills in s.bills.values():
                bills.close_month(m)
            for acc in s.structural or ():
                acc.close_month(m)

    def readout(self, trim: bool = True) -> list[SegmentOutcome]:
        """The shard's finished segments as frozen arrays, for the coordinator.

        The shard lets go of its customers' state (the read-out keeps what the results
        need): a worker's memory is freed as its part reaches the coordinator. With
        ``trim``, the freed heap goes back to the system before the read-out is pickled."""
        out = [s.readout() for s in self.segments.values()]
        self.segments, self.work, self._factors = {}, [], {}
        if trim:
            trim_heap()
        return out


def _split_blocks(scenario: Scenario, cal: Calendar, n_shards: int) -> list[dict]:
    """Each segment's stream blocks cut into ``n_shards`` runs of as equal a length as whole
    blocks allow, so that every shard holds the same mix of customers (and about the same
    work, whatever a segment's customers cost). Where a segment's blocks do not divide
    evenly, the longer runs go to different shards from one segment to the next. Per shard
    and segment, (first, stop) of its blocks (possibly empty)."""
    from .population.segments import n_blocks, segment_size

    out: list[dict] = [{} for _ in range(n_shards)]
    for s, seg in enumerate(scenario.populations):
        blocks = n_blocks(segment_size(seg, cal))
        # shard k holds run k (shards hold the blocks in order); runs of floor/ceil length,
        # the offset s moving the longer runs along the shards from segment to segment
        cuts = [(k * blocks + s % n_shards) // n_shards for k in range(n_shards + 1)]
        for k in range(n_shards):
            out[k][seg.name] = (cuts[k], cuts[k + 1])
    return out


class _InProcess:
    """Shards in this process, called one after another."""

    def __init__(self, shards: list[Shard]):
        self.shards = shards

    def call(self, method: str, *args) -> list:
        return [getattr(s, method)(*args) for s in self.shards]

    def each(self, method: str, calls: list[tuple]) -> Iterator[list]:
        """``call(method, *args)`` for each ``args`` of ``calls`` in turn."""
        for args in calls:
            yield self.call(method, *args)

    def close(self) -> None:
        pass


class _DaskShards:
    """One shard per Dask worker, as an actor; every call goes to all of them at once."""

    def __init__(self, client, scenario: Scenario, blocks: list[dict], chunk_customers: int, workers: list[str]):
        futures = [client.submit(Shard, scenario, b, chunk_customers, actor=True, workers=[w],
                                 allow_other_workers=False, pure=False) for b, w in zip(blocks, workers)]
        self.futures = futures
        self.actors = [f.result() for f in futures]

    def call(self, method: str, *args) -> list:
        pending = [getattr(a, method)(*args) for a in self.actors]
        return [p.result() for p in pending]

    def each(self, method: str, calls: list[tuple]) -> Iterator[list]:
        """``call(method, *args)`` for each ``args`` of ``calls`` in turn, without waiting
        between calls for the slowest shard: each shard is given its next call as soon as it
        has answered the last (one thread per shard here; a shard answers its calls in
        order), and the answers of all shards to call ``i`` are yielded in order. A shard's
        error ends its calls and is raised here in its turn."""
        answers = [queue.SimpleQueue() for _ in self.actors]
        stop = threading.Event()

        def drive(actor, out: queue.SimpleQueue) -> None:
            for args in calls:
                if stop.is_set():
                    return
                try:
                    out.put((True, getattr(actor, method)(*args).result()))
                except BaseException as e:  # handed to the coordinator, which raises it
                    out.put((False, e))
                    return

        for a, q in zip(self.actors, answers):
            threading.Thread(target=drive, args=(a, q), daemon=True).start()
        try:
            for _ in calls:
                got = [q.get() for q in answers]
                for ok, value in got:
                    if not ok:
                        raise value
                yield [value for _, value in got]
        finally:  # a shard's thread ends after its call under way (the threads are daemons)
            stop.set()

    def close(self) -> None:
        for f in self.futures:
            f.release()


def _column_counts(pop: SegmentPopulation) -> np.ndarray | None:
    """Measured profiles: how many of the customers take each column (else None)."""
    return None if pop.column is None else np.bincount(pop.column, minlength=pop.curve.shape[1])


class _Forecast:
    """What the operator's forecast needs of a segment (duck-typed like a population)."""

    def __init__(self, pop: SegmentPopulation, mean_kw_by_block: np.ndarray, column_counts):
        self.curve, self.common, self.steps_per_day = pop.curve, pop.common, pop.steps_per_day
        self.mean_kw_total = float(block_sum(mean_kw_by_block, ()))
        self.column_counts = column_counts

    @classmethod
    def of(cls, pop: SegmentPopulation) -> "_Forecast":
        """The forecast inputs of a whole segment's population."""
        return cls(pop, pop.mean_kw_by_block(), _column_counts(pop))


def tune_allocator() -> bool:
    """Set glibc malloc's mmap threshold to 32 MiB and its trim threshold to 128 MiB in this
    process (what ``sim.sweep.execute.WORKER_MALLOC_ENV`` gives worker processes), unless
    the MALLOC_* environment variables say otherwise.

    A run allocates and frees arrays of a few MiB day after day; with glibc's adaptive
    defaults freed memory goes back to the operating system and is faulted in again
    (benchmarks: about 10 % of a 100,000-customer year, 25 % of a 10,000-customer one).
    Keeps up to 128 MiB of freed memory. Returns whether it was applied (glibc only)."""
    import os

    global _TUNED
    if _TUNED or any(k in os.environ for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    mallopt = _libc_function("mallopt")
    if mallopt is None:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc <malloc.h>
    _TUNED = bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 128 << 20))
    return _TUNED


_TUNED = False


def trim_heap() -> bool:
    """Give the memory glibc malloc holds free back to the operating system (``malloc_trim``).

    A shard that has handed its customers over still holds most of their memory: freed
    arrays below the mmap threshold stay in the heap, which ``tune_allocator`` keeps from
    being trimmed during the run. Returned now, before the read-out is serialized, it is
    not held at the moment the coordinator joins the shards' parts (a 500,000-customer
    shard: 681 -> 433 MiB, in 10 ms). Returns whether it ran (glibc only)."""
    trim = _libc_function("malloc_trim")
    if trim is None:
        return False
    trim(0)
    return True


def _libc_function(name: str):
    """A function of the C library by name, or None (no C library found, or not glibc)."""
    import ctypes
    import ctypes.util

    lib = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(lib), name, None) if lib else None
    except OSError:
        return None


def simulate(scenario: Scenario, *, chunk_customers: int = DEFAULT_CHUNK,
             progress: Callable[[int, int], None] | None = None, shards: int = 1, client=None) -> RunResult:
    """Run a scenario: baseline and scenario tariffs on the same customers and draws.

    Parameters
    ----------
    scenario : Scenario
    chunk_customers : int
        Customers processed together in memory, rounded down to whole stream blocks
        (at least one). Results do not depend on it.
    progress : callable(days_done, days), optional
    shards : int
        Split each segment's stream blocks over this many shards. Without ``client`` they
        run one after another in this process (the same result: a test of the split);
        with ``client``, ``shards`` is ignored and there is one shard per worker.
    client : distributed.Client, optional
        Spread the customers over the client's workers, one shard (a Dask actor) per worker;
        this process keeps the clock, the operator, the real-time price fixed point and the
        system load, and exchanges one message per shard and day pass (per billing month
        when nothing links customers day by day: no operator, no real-time price formed
        from the system load). Results do not depend on the number of workers.

    Returns
    -------
    RunResult (metrics not yet computed)
    """
    if client is None:
        _check_memory(scenario)
    tune_allocator()
    cal = Calendar.from_scenario(scenario)
    compiled = _compile_all(scenario, cal)
    names = [seg.name for seg in scenario.populations]
    if client is not None:
        workers = sorted(client.scheduler_info()["workers"])
        if not workers:
            raise RunError("the Dask cluster has no workers")
        split = _split_blocks(scenario, cal, len(workers))
        backend = _DaskShards(client, scenario, split, chunk_customers, workers)
        local = None
    elif shards > 1:
        backend = _InProcess([Shard(scenario, b, chunk_customers) for b in _split_blocks(scenario, cal, shards)])
        local = None
    else:
        local = Shard(scenario, None, chunk_customers, compiled)
        backend = _InProcess([local])
    remote = local is None
    try:
        result = _clock(scenario, cal, compiled, names, backend, remote, progress)
        busy = backend.call("busy")  # seconds each shard computed: how evenly the work was shared
    finally:
        backend.close()
    result.execution = {"shards": len(backend.shards) if isinstance(backend, _InProcess) else len(backend.actors),
                        "where": "dask" if client is not None else "this process"}
    result.shard_busy_s = busy
    if client is not None:
        result.execution["scheduler"] = str(client.scheduler.address)
    return result


def _clock(scenario, cal, compiled, names, backend, remote, progress) -> RunResult:
    """The coordinator: the SimPy clock over the shards (see :func:`simulate`)."""
    spd = cal.steps_per_day
    load_kw = {name: {r: np.zeros(cal.n_steps) for r in ROLES} for name in names}
    system_rtp = [t for t in compiled.values() if t.rtp_from_system]
    operated: dict[str, None] = {}  # the scenario tariffs of every segment, in order
    if scenario.operator is not None:
        for seg in scenario.populations:
            operated.update({name: None for name, _ in seg.tariff.options("scenario")})
            if seg.participation.enrolment is not None:
                operated[seg.tariff.baseline] = None
    grid_days = GridDays(compiled, cal)  # called events and formed prices: the tariffs stay as compiled
    streak = {name: 0 for name in compiled}  # consecutive event days of each tariff, today included
    rtp_log: list[dict] = []

    def combine(parts: list, steps: slice, commit: bool) -> dict:
        """The shards' block sums of some steps (per shard and segment: roles x blocks x
        steps) added in block order: segment loads (kept with ``commit``) and the system load."""
        system = {}
        every = []
        for i, name in enumerate(names):
            blocks = np.concatenate([p[i] for p in parts], axis=1)  # (roles, blocks, steps), block order
            every.append(blocks)
            if commit:
                for r, role in enumerate(ROLES):
                    load_kw[name][role][steps] = block_sum(blocks[r], blocks.shape[2:])
        allb = np.concatenate(every, axis=1)
        for r, role in enumerate(ROLES):
            system[role] = block_sum(allb[r], allb.shape[2:])
        return system

    def day_pass(d: int, commit: bool) -> dict:
        """Every shard's day at the tariff days the grid holds; the system load of the day per
        role, blocks added in order."""
        days = grid_days.day(d)
        parts = backend.call("day", d, dict(streak), commit, days)
        if commit:
            grid_days.record(d, days)
        return combine(parts, slice(d * spd, (d + 1) * spd), commit)

    def advance_streaks(d: int) -> dict:
        """Today's tariff days (before any price is formed), and each tariff's event streak."""
        days = grid_days.day(d)
        for name, day in days.items():
            streak[name] = streak[name] + 1 if day.is_event_day else 0
        return days

    def step_day(d: int) -> None:
        advance_streaks(d)
        if system_rtp:  # real-time prices formed from the scenario's own system load: a fixed point
            rtp_log.append(solve_day(d, system_rtp, scenario.grid, grid_days,
                                     lambda day: day_pass(day, commit=False)))
        day_pass(d, commit=True)

    env = simpy.Environment()
    state = {"days_done": 0}
    month_end = np.flatnonzero(np.diff(cal.billing_month)) + 1  # first day of each new month
    month_end = np.append(month_end, cal.days)

    def billing(env: simpy.Environment):
        for m, end in enumerate(month_end):
            yield env.timeout(int(end) - env.now)
            if state["days_done"] != end:  # the clock must have finished the month
                raise RuntimeError(f"billing month {m} closed after {state['days_done']} days, expected {end}")
            backend.call("close_month", m)

    def days(env: simpy.Environment):
        for d in range(cal.days):
            step_day(d)
            state["days_done"] = d + 1
            if progress is not None:
                progress(d + 1, cal.days)
            yield env.timeout(1)

    def months(env: simpy.Environment):
        """Shards in other processes with nothing to learn from the system day by day (no
        operator, no real-time price formed from the system load): each runs a whole
        billing month per message and closes its bills, the same days as :func:`days` in
        the same order. Nothing the coordinator learns changes a later month, so the
        months are all planned here and every shard goes on to its next month without
        waiting for the others (``each``)."""
        calls, d = [], 0
        for m, end in enumerate(month_end):
            streaks, days = [], []
            for day in range(d, int(end)):
                days.append(advance_streaks(day))
                grid_days.record(day, days[-1])
                streaks.append(dict(streak))
            calls.append((d, int(end), streaks, days, m))
            d = int(end)
        for (d, end, *_), parts in zip(calls, backend.each("days", calls)):
            combine(parts, slice(d * spd, end * spd), True)
            if progress is not None:
                progress(end, cal.days)
            yield env.timeout(end - d)

    # shards elsewhere with nothing to learn from the system day by day run month by month
    # and close each month's bills with its days; otherwise the clock goes day by day
    monthly = remote and not system_rtp and scenario.operator is None
    if not monthly:
        env.process(billing(env))  # created first: at a month boundary, bills close before the next day
    log: list[dict] = listed_events(compiled, cal)
    if scenario.operator is not None:  # then the operator: tomorrow's events are called before today runs
        inputs = backend.call("forecast_inputs")
        first = backend.shards[0] if isinstance(backend, _InProcess) else None
        forecasts = []
        for i, seg in enumerate(scenario.populations):
            by_block = np.concatenate([p[i][0] for p in inputs])
            cols = [p[i][1] for p in inputs]
            counts = None if cols[0] is None else np.sum(cols, axis=0)
            pop = first.segments[seg.name].population if first is not None else _forecast_population(scenario, cal, seg)
            forecasts.append(_Forecast(pop, by_block, counts))
        targets = {p: [compiled[n] for n in operated if has_programme(compiled[n], p)]
                   for p in scenario.operator.programmes}
        env.process(operator_process(env, scenario.operator, cal, forecasts, targets, log, grid_days))
    env.process(months(env) if monthly else days(env))
    env.run()

    if remote:
        parts = backend.call("readout")
        segments = {}
        for i, name in enumerate(names):  # each segment's parts dropped once joined
            segments[name] = SegmentOutcome.concat([p[i] for p in parts if p[i].n > 0] or [parts[0][i]])
            for p in parts:
                p[i] = None
        del parts
    else:
        segments = {o.name: o for o in backend.shards[0].readout(trim=False)}
    segments = {name: seg.with_load(load_kw[name]) for name, seg in segments.items()}
    system = {r: np.sum([s.load_kw[r] for s in segments.values()], axis=0) for r in ROLES}
    series = energy_cost_series(scenario.grid, cal)
    cost = {r: role_energy_cost(scenario.grid, series, system[r]) for r in ROLES}
    events = _event_performance(log, system, cal)
    return RunResult(scenario, cal, segments, system, cost, {}, events, rtp_log, realized=grid_days.realized())


def _forecast_population(scenario: Scenario, cal: Calendar, seg) -> SegmentPopulation:
    """A segment's shared curves (no customers), for the operator's forecast in the coordinator."""
    return build_segment(seg, cal, scenario.seed, (0, 0))
