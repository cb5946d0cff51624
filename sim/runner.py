"""One run: a scenario simulated and its metrics computed (:func:`sim.run`).

The single entry point that runs a simulation for the ``drsim run`` command, notebooks
and the sweep's tasks (:func:`sim.sweep.execute.run_scenario`). It owns the choice of where
the customers are simulated (this process, a local cluster, or a running Dask scheduler)
and nothing else: the clock is :mod:`sim.engine`, the metrics :mod:`sim.metrics`.
"""

from __future__ import annotations

from pathlib import Path

from .engine import DEFAULT_CHUNK, check_memory, simulate
from .metrics import compute as compute_metrics
from .network.analysis import analyze as network_analysis
from .network.analysis import network_metrics
from .network.inputs import check_inputs
from .outcome import RunResult
from .scenario import Scenario, load_scenario

__all__ = ["run"]


def run(scenario: Scenario | str | Path, *, chunk_customers: int = DEFAULT_CHUNK, progress=None,
        workers: int = 1, scheduler: str | None = None, client=None, memory_limit: int | None = None) -> RunResult:
    """Simulate a scenario and compute its metrics.

    Parameters
    ----------
    scenario : Scenario, or path of a scenario file
    chunk_customers : int
        Customers processed together in memory; results do not depend on it.
    progress : callable(days_done, days), optional
    workers : int
        Spread the customers over this many worker processes on this machine (a Dask
        LocalCluster of single-threaded workers; 1: everything in this process). Results do
        not depend on it.
    scheduler : str, optional
        Address of a running Dask scheduler: spread the customers over its workers.
    client : distributed.Client, optional
        An open client to use instead (not closed here).
    memory_limit : int, optional
        Memory the run may use on this machine [bytes] (default: 80 % of the machine's). A
        run whose estimate (:func:`sim.engine.memory_plan`: this process, and each worker)
        exceeds it, or exceeds its Dask workers' own ``memory_limit``, is refused with an
        InputError before any customer is simulated; for a local cluster, before it starts.

    Returns
    -------
    RunResult
        Arrays of the run and ``metrics``, a dict ``{"baseline", "scenario", "change", "segments"}``.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    check_inputs(scenario)  # again for a scenario handed in (the commands checked it on loading)
    if client is None and scheduler is None and workers <= 1:
        check_memory(scenario, limit=memory_limit)
        result = simulate(scenario, chunk_customers=chunk_customers, progress=progress)
        result.network = network_analysis(result, None)
    else:
        from .cluster import connect, worker_memory_limits

        if client is None and scheduler is None:  # a local cluster of this run's own: check before it starts
            check_memory(scenario, workers=workers, limit=memory_limit)
        with connect(scheduler, workers if scheduler is None else None, client) as c:
            if client is not None or scheduler is not None:
                limits = worker_memory_limits(c)
                check_memory(scenario, workers=max(len(limits), 1), limit=memory_limit,
                             worker_limit=min((x for x in limits if x), default=None), local=False)
            result = simulate(scenario, chunk_customers=chunk_customers, progress=progress, client=c)
            result.network = network_analysis(result, c)
        if scheduler is None and client is None:  # a LocalCluster of this run's own: no address worth keeping
            result.execution.pop("scheduler", None)
            result.execution["where"] = "dask local cluster"
    result.metrics = compute_metrics(result)
    if result.network is not None:
        result.metrics["network"] = network_metrics(result.network, scenario.network,
                                                    result.calendar.step_minutes / 60.0)
    return result
