"""Running a sweep's runs on Dask: the task, the cluster, and collecting results as they finish.

One task is one run: it receives the run's resolved scenario (a few kB of JSON data, no
big objects), validates it, runs :func:`sim.run` and returns the run's metrics as a flat
dict of numbers. A run that raises returns its error instead, so it is recorded as
failed and the sweep goes on. The client writes each run's record the moment its
future completes (`distributed.as_completed`), so whatever finished is kept.

By default the runs go to a LocalCluster of worker processes with one thread each, one
worker per core; ``scheduler`` runs them on an existing cluster (``dask scheduler`` /
``dask worker``, dask-jobqueue). A worker that dies takes its task with it: the scheduler
reruns the task on another worker (up to ``distributed.scheduler.allowed-failures``
times), and ``retries`` reruns tasks whose worker raised outside the run itself.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..engine.backends import WORKER_DASK_CONFIG, WORKER_MALLOC_ENV, WORKER_PRELOAD
from ..errors import InputError, Problem

#: Seconds to wait for a connection to an existing scheduler.
CONNECT_TIMEOUT_S = 30

#: Reruns of a task that raised outside the run (a run's own error is recorded, not retried).
DEFAULT_RETRIES = 2

# The local cluster's worker settings (malloc tunables, preload, Dask config) are the
# engine's, shared by the shards of a run and the sweep's tasks (sim.engine.backends).


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
    import sim
    from ..scenario.loader import validate

    t0 = time.perf_counter()
    try:
        sc = validate(scenario, label="<sweep run>", base_dir=base_dir or ".")
        result = sim.run(sc)
        out = {"status": "ok", "error": None, "metrics": flatten(result.metrics)}
    except Exception as e:  # recorded with the run; the sweep goes on
        out = {"status": "failed", "error": f"{type(e).__name__}: {e}", "metrics": {}}
    out.update(wall_s=round(time.perf_counter() - t0, 6), worker=f"{socket.gethostname()}:{os.getpid()}",
               code=_code())
    return out


@contextmanager
def connect(scheduler: str | None = None, workers: int | None = None, client=None) -> Iterator:
    """A dask.distributed Client for the sweep, closed (with its cluster) on exit.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler, e.g. ``tcp://10.0.0.5:8786``.
    workers : int, optional
        Workers of the LocalCluster started when there is no scheduler (default: one per
        core); each is a process with one thread.
    client : distributed.Client, optional
        Use this client (not closed on exit).
    """
    if client is not None:
        yield client
        return
    from distributed import Client

    if scheduler:
        try:
            c = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as e:
            raise InputError(Problem(f"--scheduler {scheduler}", None, "", f"cannot connect: {e}")) from None
        try:
            yield c
        finally:
            c.close()
        return
    n = workers or os.cpu_count() or 1
    cluster = _start_local_cluster(n)
    try:
        c = Client(cluster)
        try:
            yield c
        finally:
            c.close()
    finally:
        cluster.close()


def _start_local_cluster(n: int):
    """A LocalCluster of ``n`` single-threaded worker processes that ignore Ctrl-C.

    Ctrl-C belongs to the client, which cancels the tasks and closes the cluster; worker
    processes started while SIGINT is ignored inherit that (Python then installs no
    KeyboardInterrupt handler), so they do not die mid-task with a traceback each. The
    workers get WORKER_MALLOC_ENV and WORKER_DASK_CONFIG and import WORKER_PRELOAD as
    they start.
    """
    import signal
    import threading

    import dask
    from distributed import LocalCluster

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    env = {f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in WORKER_MALLOC_ENV.items()}
    env.update(WORKER_DASK_CONFIG)
    keys = set(WORKER_MALLOC_ENV) | set(dask.config.get("distributed.nanny.pre-spawn-environ", {})) | {"PYTHONHASHSEED"}
    saved = {k: os.environ.get(k) for k in keys}
    try:
        # ":0": any free port for the scheduler's HTTP server (the dashboard, when bokeh is installed)
        with dask.config.set(env):
            return LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                                silence_logs=logging.ERROR, preload=WORKER_PRELOAD)
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)
        for k, v in saved.items():  # the nanny sets the workers' variables in this process too: undo
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def describe(client) -> str:
    """Where the runs go, for the user: the scheduler and its workers and threads."""
    try:
        info = client.scheduler_info()
        workers = info.get("workers", {})
        threads = sum(w.get("nthreads", 0) for w in workers.values())
        import importlib.util

        board = f", dashboard {client.dashboard_link}" if importlib.util.find_spec("bokeh") else ""
        return f"{client.scheduler.address} ({len(workers)} workers, {threads} threads{board})"
    except Exception:  # informational only
        return str(getattr(client.scheduler, "address", "a Dask scheduler"))


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

