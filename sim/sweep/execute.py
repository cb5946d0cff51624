"""Running a sweep's runs on Dask: the task, its one way of running a scenario, and collecting results.

One task is one run: it receives the run's resolved scenario (a few kB of JSON data, no
big objects), validates it, runs it through :func:`run_scenario` (the sweep's one way of
running a simulation: :func:`sim.run`) and returns the run's metrics as a flat
dict of numbers. A run that raises returns its error instead, so it is recorded as
failed and the sweep goes on. The client writes each run's record the moment its
future completes (`distributed.as_completed`), so whatever finished is kept.

By default the runs go to a LocalCluster of worker processes with one thread each, one
worker per core; ``scheduler`` runs them on an existing cluster (``dask scheduler`` /
``dask worker``, dask-jobqueue); :mod:`sim.cluster` connects or starts it. A worker that
dies takes its task with it: the scheduler reruns the task on another worker (up to
``distributed.scheduler.allowed-failures`` times), and ``retries`` reruns tasks whose
worker raised outside the run itself.
"""

from __future__ import annotations

import functools
import math
import os
import socket
import time
from collections.abc import Callable

from .. import runner
from ..cluster import CONNECT_TIMEOUT_S, connect, describe
from ..engine.backends import WORKER_DASK_CONFIG, WORKER_MALLOC_ENV, WORKER_PRELOAD

__all__ = ["CONNECT_TIMEOUT_S", "DEFAULT_RETRIES", "WORKER_DASK_CONFIG", "WORKER_MALLOC_ENV", "WORKER_PRELOAD",
           "connect", "describe", "execute", "flatten", "run_scenario", "run_task"]

#: Reruns of a task that raised outside the run (a run's own error is recorded, not retried).
DEFAULT_RETRIES = 2

# The local cluster's worker settings (malloc tunables, preload, Dask config) are the
# engine's, shared by the shards of a run and the sweep's tasks (sim.engine.backends);
# sim.cluster starts the cluster with them.


def flatten(metrics: dict, prefix: str = "") -> dict[str, float | int | None]:
    """A run's metrics (metrics.json) as ``{dotted.name: number}``.

    Nested keys are joined with dots (``change.peak_reduction_pct``,
    ``segments.residential.change.peak_reduction_pct``); booleans become 0 / 1, non-finite
    numbers None; text (tariff names, customer class) is left out.
    """
    out: dict[str, float | int | None] = {}
    for k, v in metrics.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, name + "."))
            continue
        if hasattr(v, "item") and not isinstance(v, (list, tuple)):  # numpy scalar
            v = v.item()
        if isinstance(v, bool):
            out[name] = int(v)
        elif isinstance(v, int):
            out[name] = v
        elif isinstance(v, float):
            out[name] = v if math.isfinite(v) else None
    return out


@functools.lru_cache(maxsize=1)
def _code() -> dict:
    from ..results import code_version

    return code_version()


def run_scenario(scenario):
    """Simulate one validated scenario of a sweep: :func:`sim.run` in the task's process.

    The one place a sweep runs a simulation; a run's own customers are not spread further
    (the sweep's workers already run one run each).
    """
    return runner.run(scenario)


def run_task(scenario: dict, base_dir: str | None = None) -> dict:
    """Run one resolved scenario; never raises for a failing run.

    Parameters
    ----------
    scenario : dict
        Resolved scenario JSON (as :func:`sim.results.resolved_scenario` gives it).
    base_dir : str, optional
        Folder that relative input paths are read from.

    Returns
    -------
    dict
        ``status`` ("ok" or "failed"), ``error`` (text or None), ``metrics`` (flat dict),
        ``wall_s``, ``worker`` (host:pid) and ``code`` (drsim version and git commit).
    """
    from ..scenario.loader import validate

    t0 = time.perf_counter()
    try:
        sc = validate(scenario, label="<sweep run>", base_dir=base_dir or ".")
        result = run_scenario(sc)
        out = {"status": "ok", "error": None, "metrics": flatten(result.metrics)}
    except Exception as e:  # recorded with the run; the sweep goes on
        out = {"status": "failed", "error": f"{type(e).__name__}: {e}", "metrics": {}}
    out.update(wall_s=round(time.perf_counter() - t0, 6), worker=f"{socket.gethostname()}:{os.getpid()}",
               code=_code())
    return out


def execute(runs: list, client, base_dir: str, on_result: Callable[[object, dict], None], *,
            retries: int = DEFAULT_RETRIES) -> int:
    """Submit runs (one task per distinct key) and hand each outcome over as it completes.

    Parameters
    ----------
    runs : list of Run
        Runs to do; runs that share a key are run once.
    client : distributed.Client
    base_dir : str
        Folder relative input paths are read from (the scenario file's).
    on_result : callable(run, outcome)
        Called in this process for every completed task, in completion order (it writes
        the run's record). If it raises, the remaining tasks are cancelled.
    retries : int
        Reruns of a task that raised outside the run.

    Returns
    -------
    int
        Number of tasks that completed.

    On KeyboardInterrupt (or any error) every unfinished task is cancelled before the
    exception propagates.
    """
    from distributed import as_completed

    by_key: dict[str, object] = {}
    for run in runs:
        by_key.setdefault(run.key, run)
    futures = [client.submit(run_task, run.scenario, base_dir, key=f"drsim-run-{key}", retries=retries)
               for key, run in by_key.items()]
    run_of = {f.key: run for f, run in zip(futures, by_key.values())}
    completed = 0
    try:
        for fut in as_completed(futures):
            run = run_of[fut.key]
            if fut.status == "cancelled":
                continue
            if fut.status == "finished":
                outcome = fut.result()
            else:  # the task itself failed: e.g. its workers kept dying (KilledWorker)
                exc = fut.exception()
                outcome = {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "metrics": {}}
            fut.release()
            completed += 1
            on_result(run, outcome)
    except BaseException:
        pending = [f for f in futures if not f.done()]
        if pending:
            try:
                client.cancel(pending)
            except Exception:  # the cluster may already be gone
                pass
        raise
    return completed

