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

from .engine import DEFAULT_CHUNK, simulate
from .outcome import RunResult
from .errors import InputError, RunError
from .metrics import compute as compute_metrics
from .runner import run
from .scenario import Scenario, load_scenario
from .sweep import sweep  # the function; its modules: `from sim.sweep import design`

__version__ = "0.1.0"
__all__ = ["InputError", "RunError", "RunResult", "Scenario", "load_scenario", "run", "sweep", "__version__"]
