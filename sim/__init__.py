"""drsim: a demand-response tariff simulator.

Notebook use::

    import sim
    scenario = sim.load_scenario("scenarios/tou_peak_valley.yaml")
    result = sim.run(scenario)
    result.metrics["change"]["peak_reduction_pct"]
    result.system_load_kw["scenario"]          # kW per step
    sweep = sim.sweep("scenarios/tou_peak_valley.yaml", {"populations.residential.count": "1000,2000"},
                      replications=3)             # sweep.runs, sweep.summary: DataFrames
"""

from __future__ import annotations

from pathlib import Path

from .engine import DEFAULT_CHUNK, RunResult, simulate
from .errors import InputError, RunError
from .metrics import compute as compute_metrics
from .scenario import Scenario, load_scenario
from .sweep import sweep  # the function; its modules: `from sim.sweep import design`

__version__ = "0.1.0"
__all__ = ["InputError", "RunError", "RunResult", "Scenario", "load_scenario", "run", "sweep", "__version__"]


def run(scenario: Scenario | str | Path, *, chunk_customers: int = DEFAULT_CHUNK, progress=None) -> RunResult:
    """Simulate a scenario and compute its metrics.

    Parameters
    ----------
    scenario : Scenario, or path of a scenario file
    chunk_customers : int
        Customers processed together in memory; results do not depend on it.
    progress : callable(days_done, days), optional

    Returns
    -------
    RunResult
        Arrays of the run and ``metrics``, a dict ``{"baseline", "scenario", "change", "segments"}``.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    result = simulate(scenario, chunk_customers=chunk_customers, progress=progress)
    result.metrics = compute_metrics(result)
    return result
