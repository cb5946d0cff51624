"""Dask clients for drsim: connect to a running scheduler, or start a local cluster and close it.

Used by a run spread over processes (:func:`sim.run` with ``workers`` or ``scheduler``)
and by the sweep's tasks (:mod:`sim.sweep.execute`). A local cluster is of single-threaded
worker processes started with the engine's worker settings (:mod:`sim.engine.backends`:
malloc tunables, preload, Dask config), and its workers ignore Ctrl-C, which belongs to the
client.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from .engine.backends import WORKER_DASK_CONFIG, WORKER_MALLOC_ENV, WORKER_PRELOAD
from .errors import InputError, Problem

__all__ = ["CONNECT_TIMEOUT_S", "connect", "describe", "worker_memory_limits"]

#: Seconds to wait for a connection to an existing scheduler.
CONNECT_TIMEOUT_S = 30


@contextmanager
def connect(scheduler: str | None = None, workers: int | None = None, client=None) -> Iterator:
    """A dask.distributed Client for a run or a sweep, closed (with its cluster) on exit.

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


def worker_memory_limits(client) -> list[int]:
    """Each worker's memory limit as Dask knows it (``memory_limit``; 0 for a worker without
    one), in worker order. [bytes]"""
    workers = client.scheduler_info().get("workers", {})
    return [int(w.get("memory_limit") or 0) for _, w in sorted(workers.items())]
