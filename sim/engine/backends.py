"""Where a run's shards execute, and the process settings that make them fast.

Two backends behind one small protocol (:class:`Backend`): :class:`InProcess` (the shards
in this process, one after another) and :class:`DaskShards` (one shard per Dask worker, as
an actor). The clock (:mod:`sim.engine.clock`) calls every shard through it and never
knows which it has. Also here: how a scenario's stream blocks are split over shards, the
memory estimate checked before a run starts, and the C allocator's settings, for this
process (:func:`tune_allocator`, :func:`trim_heap`) and for the workers of a local Dask
cluster (:data:`WORKER_MALLOC_ENV`, :data:`WORKER_PRELOAD`, :data:`WORKER_DASK_CONFIG`,
shared with the sweep's workers).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from ..calendar import Calendar
from ..errors import InputError, Problem
from ..scenario.behavior import models_of
from ..scenario.schema import Scenario

__all__ = ["BASE_BYTES", "BYTES_PER_CUSTOMER", "BYTES_PER_EXTRA_TARIFF", "DASK_PROCESS_BYTES", "MEMORY_SHARE", "RESULT_BYTES_PER_CUSTOMER",
           "WRITE_BYTES", "Backend", "DaskShards", "InProcess", "MemoryPlan", "WORKER_DASK_CONFIG", "WORKER_MALLOC_ENV",
           "WORKER_PRELOAD", "check_memory", "memory_estimate", "memory_plan", "physical_memory", "split_blocks",
           "trim_heap", "tune_allocator"]


class Backend(Protocol):
    """How the clock calls the shards: every call goes to all of them, answers in shard order."""

    def call(self, method: str, *args) -> list:
        """``shard.method(*args)`` on every shard; their answers."""

    def each(self, method: str, calls: list[tuple]) -> Iterator[list]:
        """``call(method, *args)`` for each ``args`` of ``calls`` in turn (a backend may
        start a shard's next call before the others have answered the last)."""

    def close(self) -> None:
        """Let the shards go."""

    @property
    def size(self) -> int:
        """How many shards."""


class InProcess:
    """Shards in this process, called one after another."""

    def __init__(self, shards: list):
        self.shards = shards

    @property
    def size(self) -> int:
        return len(self.shards)

    def call(self, method: str, *args) -> list:
        return [getattr(s, method)(*args) for s in self.shards]

    def each(self, method: str, calls: list[tuple]) -> Iterator[list]:
        for args in calls:
            yield self.call(method, *args)

    def close(self) -> None:
        pass


class DaskShards:
    """One shard per Dask worker, as an actor; every call goes to all of them at once.

    ``make(*args)`` builds a shard on its worker, with the arguments of that shard in
    ``shard_args``."""

    def __init__(self, client, make: Callable, shard_args: list[tuple], workers: list[str]):
        futures = [client.submit(make, *args, actor=True, workers=[w], allow_other_workers=False, pure=False)
                   for args, w in zip(shard_args, workers)]
        self.futures = futures
        self.actors = [f.result() for f in futures]

    @property
    def size(self) -> int:
        return len(self.actors)

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


def split_blocks(scenario: Scenario, cal: Calendar, n_shards: int) -> list[dict]:
    """Each segment's stream blocks cut into ``n_shards`` runs of as equal a length as whole
    blocks allow, so that every shard holds the same mix of customers (and about the same
    work, whatever a segment's customers cost). Where a segment's blocks do not divide
    evenly, the longer runs go to different shards from one segment to the next. Per shard
    and segment, (first, stop) of its blocks (possibly empty)."""
    from ..population.segments import n_blocks, segment_size

    out: list[dict] = [{} for _ in range(n_shards)]
    for s, seg in enumerate(scenario.populations):
        blocks = n_blocks(segment_size(seg, cal))
        # shard k holds run k (shards hold the blocks in order); runs of floor/ceil length,
        # the offset s moving the longer runs along the shards from segment to segment
        cuts = [(k * blocks + s % n_shards) // n_shards for k in range(n_shards + 1)]
        for k in range(n_shards):
            out[k][seg.name] = (cuts[k], cuts[k + 1])
    return out


# ------------------------------------------------------------------------------ memory

#: Memory a customer needs in a run, measured (large_system, benchmarks/scale.py: about
#: 0.9 kB with two tariffs, 1,000,000 customers peak at 1.1 GiB), rounded up, and per extra
#: tariff it is billed on (menus, choice). [bytes]
BYTES_PER_CUSTOMER, BYTES_PER_EXTRA_TARIFF = 1_000, 700
#: A run's process before its customers: interpreter, numpy, numba and the compiled kernels
#: (about 275 MiB for 10,000 customers). [bytes]
BASE_BYTES = 280 * 2**20
#: What a process that talks to Dask adds to :data:`BASE_BYTES`: the worker's or the
#: client's modules (distributed, tornado, msgpack) and its event loop (a local-cluster
#: worker holding 10,000 customers peaks at 382 MiB; benchmarks/writing.py --runs). [bytes]
DASK_PROCESS_BYTES = 120 * 2**20
#: What the coordinator of a run spread over workers holds per customer once the workers
#: have handed their customers over: the read-out (each customer's bills by charge in both
#: roles, energy, peak, tariff, response sums) as received parts and joined, both at once
#: for a moment, then the metrics' per-customer arrays. Measured about 540 bytes (flat,
#: 2,000,000 customers on two workers: 1,413 MiB) and 490 (large_system, 1,000,000: 866
#: MiB) above the base; rounded up for menus, whose customers carry a bill per tariff
#: (docs/benchmarks.md, "Writing the run folder"). [bytes]
RESULT_BYTES_PER_CUSTOMER = 640
#: Writing the run folder: a chunk of the per-customer table (``sim.tables.WRITE_ROWS``
#: rows) as numpy columns, Arrow arrays, its Parquet row group and pyarrow's memory pool
#: and code, and CSV text (``sim.tables.CSV_ROWS`` rows): 121-133 MiB for Parquet and
#: 157-174 MiB with CSV too, at 210,000 to 2,000,000 customers (docs/benchmarks.md). [bytes]
WRITE_BYTES = 180 * 2**20
#: Share of the memory limit a run may be planned to fill: the estimate is rough, and the
#: machine runs other things. Dask pauses a worker at the same share of its limit.
MEMORY_SHARE = 0.8


@dataclass(frozen=True)
class MemoryPlan:
    """Estimated peak memory of a run's processes. [bytes]

    Attributes
    ----------
    coordinator : int
        This process: the whole run in one process, or, with workers, the clock and every
        customer's results once the workers hand them over, and the writing of the run folder.
    worker : int
        Each worker process (its share of the customers); 0 without workers.
    workers : int
        How many worker processes (0: the run is one process).
    """

    coordinator: int
    worker: int = 0
    workers: int = 0

    @property
    def total(self) -> int:
        """Coordinator and workers together (all on one machine with a local cluster)."""
        return self.coordinator + self.workers * self.worker


def _simulation_bytes(scenario: Scenario, share: float = 1.0) -> int:
    """Peak memory of simulating ``share`` of each segment's customers, without the
    process's base. [bytes]"""
    total = 0
    days_steps = scenario.horizon.days * scenario.horizon.steps_per_day
    for seg in scenario.populations:
        n = (seg.count or 0) * share
        options = len(seg.tariff.options("scenario")) + (1 if seg.participation.enrolment else 0)
        per = BYTES_PER_CUSTOMER + BYTES_PER_EXTRA_TARIFF * (options - 1) * (2 if seg.tariff.choice else 1)
        # rooftop PV: its customers' gross load billed in both roles (every menu tariff with choice)
        pv = sum(m.adoption for m in models_of(seg.behavior) if getattr(m, "model", None) == "pv")
        per += min(pv, 1.0) * BYTES_PER_EXTRA_TARIFF * (1 + (options if seg.tariff.choice else 1))
        total += int(n * per) + days_steps * 8 * 4
    return total


def _network_series(scenario: Scenario) -> tuple[int, int]:
    """The network's series over the horizon, both roles: (the pieces' sums the shards
    keep, at most one piece per run of the placement and per stream block; the load points',
    transformers' and feeders' series of the analysis, at most three times the load points'). [bytes]"""
    spec = scenario.network
    if spec is None:
        return 0, 0
    from ..network.topology import placement_of
    from ..population.segments import n_blocks

    n = next(s for s in scenario.populations if s.name == spec.segment).count or 0
    placement = placement_of(spec, n)
    per_piece = 2 * 8 * scenario.horizon.days * scenario.horizon.steps_per_day
    return (len(placement.run_table()[1]) + n_blocks(n)) * per_piece, 3 * placement.groups * per_piece


def memory_plan(scenario: Scenario, workers: int = 0) -> MemoryPlan:
    """Rough peak memory of a run in one process (``workers=0``), or spread over
    ``workers`` worker processes, and of writing its run folder. [bytes]

    With a network, the shards' piece sums and the analysis's series (:func:`_network_series`;
    the coordinator holds the pieces joined and the series, a worker its share of the pieces)."""
    pieces, series = _network_series(scenario)
    if workers <= 0:
        return MemoryPlan(BASE_BYTES + _simulation_bytes(scenario) + pieces + series + WRITE_BYTES)
    n = sum(seg.count or 0 for seg in scenario.populations)
    days_steps = scenario.horizon.days * scenario.horizon.steps_per_day
    coordinator = (BASE_BYTES + DASK_PROCESS_BYTES + n * RESULT_BYTES_PER_CUSTOMER
                   + days_steps * 8 * 4 * len(scenario.populations) + pieces + series + WRITE_BYTES)
    return MemoryPlan(coordinator, BASE_BYTES + DASK_PROCESS_BYTES + _simulation_bytes(scenario, 1 / workers)
                      + pieces // workers, workers)


def memory_estimate(scenario: Scenario) -> int:
    """Rough peak memory of a run in one process, writing its run folder included. [bytes]"""
    return memory_plan(scenario).coordinator


def physical_memory() -> int | None:
    """This machine's memory, or None where the operating system does not say. [bytes]"""
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def check_memory(scenario: Scenario, *, workers: int = 0, limit: int | None = None,
                 worker_limit: int | None = None, local: bool = True) -> MemoryPlan:
    """Refuse, before any work, a run that would need more memory than it may use.

    Parameters
    ----------
    scenario : Scenario
    workers : int
        Worker processes the customers are spread over (0: this process alone).
    limit : int, optional
        Memory the run may use on this machine [bytes]; default :data:`MEMORY_SHARE` of
        the machine's memory (no check where the operating system does not say).
    worker_limit : int, optional
        Each worker's memory limit (Dask's ``memory_limit``) [bytes]; its workers may use
        :data:`MEMORY_SHARE` of it.
    local : bool
        Whether the workers run on this machine (a local cluster), so that they count
        against ``limit`` with the coordinator.

    Returns
    -------
    MemoryPlan
        The estimate, when the run fits. Raises InputError (naming the figures and what to
        change) when it does not.
    """
    plan = memory_plan(scenario, workers)
    if limit is None:
        physical = physical_memory()
        allowed = None if physical is None else int(MEMORY_SHARE * physical)
        may = f"a run may use {MEMORY_SHARE:.0%} of this machine's {_gib(physical or 0)}, {_gib(allowed or 0)}"
        more = "or --max-memory SIZE to allow more, at the risk of running out of memory"
    else:
        allowed, may, more = limit, f"--max-memory allows {_gib(limit)}", "or a larger --max-memory"
    if not plan.workers:
        here, where = plan.total, ""
    elif local:
        here, where = plan.total, (f" ({_gib(plan.coordinator)} in this process, which gathers every customer's "
                                   f"bills, and {_gib(plan.worker)} in each of {plan.workers} workers)")
    else:
        here, where = plan.coordinator, " in this process, which gathers every customer's bills from the workers"
    if allowed is not None and here > allowed:
        raise InputError(Problem("populations", None, "", f"this run needs about {_gib(here)} of memory{where}; "
                                 f"{may}. To proceed: fewer customers, or split the population across runs, "
                                 f"{more}"))
    if plan.workers and worker_limit and plan.worker > MEMORY_SHARE * worker_limit:
        raise InputError(Problem("populations", None, "", f"each of the {plan.workers} workers needs about "
                                 f"{_gib(plan.worker)} of memory; their limit is {_gib(worker_limit)} and Dask "
                                 f"pauses a worker at {MEMORY_SHARE:.0%} of it. To proceed: more workers, workers "
                                 "with a larger memory_limit, or fewer customers"))
    return plan


# --------------------------------------------------------------------------- allocator

#: Environment of the local cluster's worker processes (for drsim's runs and the sweep's
#: tasks alike): glibc malloc tunables. Dask's nanny starts workers with
#: MALLOC_TRIM_THRESHOLD_=65536 (to hand freed memory back to the OS quickly), and glibc's
#: defaults are not much better for drsim, whose runs allocate and free large arrays day
#: after day: freed memory goes back to the OS and is faulted in again. With a fixed 32 MiB
#: mmap threshold and a 128 MiB trim threshold a 10,000-customer year ran in 0.75 s instead
#: of 1.0 s (default glibc) or 2.0 s (Dask's setting), with 15x fewer page faults, at the
#: price of up to 128 MiB of freed memory kept per worker. Variables already set in the
#: environment take precedence (Dask's rule). :func:`tune_allocator` sets the same in this
#: process.
WORKER_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(128 << 20)}

#: Modules the local cluster's workers import as they start (Dask's worker ``preload``), so
#: that the first task or shard does not: importing drsim (scipy.stats, numba, pydantic
#: schemas) takes about 0.9 s, which a run in one process pays before its clock starts and
#: a run spread over fresh workers paid inside it (1.2 s to start two shards, of which the
#: imports were 0.9 s; docs/benchmarks.md). ``dask worker ... --preload sim`` does the same
#: on a cluster of your own.
WORKER_PRELOAD = ["sim"]

#: Dask settings of the local cluster's workers. The worker's statistical profiler (for the
#: dashboard's profile page) samples the stack of the computing thread every 10 ms, which
#: has to take the GIL from it. A 10,000-customer year in a task, median of 15 tasks: 0.538
#: and 0.549 s with it on (Dask's defaults), 0.529 s with it off, 0.522 and 0.527 s with it
#: off and Dask's monitors slowed (system and memory monitor, event-loop tick); 0.51 s in a
#: plain process. A cluster of your own (``--scheduler``) keeps its own settings.
WORKER_DASK_CONFIG = {"distributed.worker.profile.enabled": False,
                      "distributed.admin.system-monitor.interval": "2s"}

_TUNED = False


def tune_allocator() -> bool:
    """Set glibc malloc's mmap threshold to 32 MiB and its trim threshold to 128 MiB in this
    process (what :data:`WORKER_MALLOC_ENV` gives worker processes), unless the MALLOC_*
    environment variables say otherwise.

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
