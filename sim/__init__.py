"""drsim: a demand-response tariff simulator.

Notebook use::

    import sim
    scenario = sim.load_scenario("scenarios/tou_peak_valley.yaml")
    result = sim.run(scenario)
    result.metrics["change"]["peak_reduction_pct"]
    result.system_load_kw["scenario"]          # kW per step
    sweep = sim.sweep("scenarios/tou_peak_valley.yaml", {"populations.residential.count": "1000,2000"},
                      replications=3)             # sweep.runs, sweep.summary: DataFrames

The names below are imported on first use (PEP 562), so that ``import sim`` and the
``drsim`` command start without scipy.stats, numba or Dask: ``drsim --help`` and ``drsim
validate`` need none of them (benchmarks/startup.py). A Dask worker started with
``--preload sim`` imports them at once (:func:`dask_setup`).
"""

from __future__ import annotations

from importlib import import_module

from . import numerics

# before numpy is first imported: the same numerical kernels on every x86-64 machine (sim/numerics.py)
numerics.pin()

# Bound now, not on first use: importing any module of the package sim.sweep sets `sim.sweep`
# to that package, and only this import makes the name the function again (the package's
# __init__ is light: it imports its modules inside its functions).
from .sweep import sweep

__version__ = "0.1.0"
__all__ = ["InputError", "RunError", "RunResult", "Scenario", "load_scenario", "run", "sweep", "__version__"]

#: Public name -> (module, attribute) it is taken from on first use.
_EXPORTS = {
    "DEFAULT_CHUNK": ("sim.engine", "DEFAULT_CHUNK"),
    "simulate": ("sim.engine", "simulate"),
    "RunResult": ("sim.outcome", "RunResult"),
    "InputError": ("sim.errors", "InputError"),
    "RunError": ("sim.errors", "RunError"),
    "compute_metrics": ("sim.metrics", "compute"),
    "run": ("sim.runner", "run"),
    "Scenario": ("sim.scenario", "Scenario"),
    "load_scenario": ("sim.scenario", "load_scenario"),
}

#: What a worker process imports before its first task: everything a run or a shard uses.
WARM_MODULES = ("sim.runner", "sim.engine.shard", "sim.sweep.execute")


def __getattr__(name: str):
    if name in _EXPORTS:
        module, attr = _EXPORTS[name]
        value = getattr(import_module(module), attr)
        globals()[name] = value  # later look-ups find it directly
        return value
    if not name.startswith("_"):  # a submodule, as `import sim; sim.engine` found it when this module imported all
        try:
            return import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_EXPORTS})


def dask_setup(worker=None) -> None:
    """Dask's preload hook (``dask worker ... --preload sim``, and the local cluster's
    workers): import the simulation's modules as the worker starts, not in its first task."""
    for module in WARM_MODULES:
        import_module(module)
