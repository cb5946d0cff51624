"""Start-up: ``drsim --help`` and ``drsim validate`` import none of the heavy libraries.

The time itself is a benchmark (benchmarks/startup.py, docs/benchmarks.md), not a test: the
machines are shared. What makes it fast is checked here, in fresh processes: the modules a
command imports. scipy.stats, numba and Dask were 1.1 s of the 1.4 s ``drsim --help`` took
when ``import sim`` imported the whole simulator.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: Libraries neither command needs; numpy included (0.1 s, and validating a file needs no arrays), and
#: rich's progress bars (only commands that show one import them).
HEAVY = ("numpy", "scipy", "numba", "dask", "distributed", "pandas", "pyarrow", "matplotlib", "SALib", "simpy",
         "jinja2", "rich.progress")


def _imported_after(code: str) -> dict:
    """Run ``code`` in a fresh Python and return which of HEAVY it left imported, and its output."""
    probe = (f"import sys, json\n{code}\n"
             f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    *_, last = done.stderr.strip().splitlines()
    return {"heavy": json.loads(last), "stdout": done.stdout, "stderr": done.stderr}


def test_help_imports_no_heavy_library():
    out = _imported_after("from sim.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass")
    assert "validate" in out["stdout"] and "sweep" in out["stdout"]  # the help was printed
    assert out["heavy"] == []


@pytest.mark.parametrize("command", [["sweep", "--help"], ["run", "--help"], ["tariff", "calibrate", "--help"]])
def test_sub_command_help_imports_no_heavy_library(command):
    out = _imported_after(f"from sim.cli import main\ntry:\n    main({command!r})\nexcept SystemExit:\n    pass")
    assert "usage: drsim" in out["stdout"]
    assert out["heavy"] == []


def test_validate_imports_no_heavy_library():
    out = _imported_after("from sim.cli import main\n"
                          "assert main(['validate', 'scenarios/tou_peak_valley.yaml']) == 0")
    assert ": ok" in out["stdout"]
    assert out["heavy"] == []


def test_validate_reports_the_sweep_block_still():
    """The quick look for a ``sweep:`` key finds it (and then numpy may load: the block is checked)."""
    out = _imported_after("from sim.cli import main\n"
                          "assert main(['validate', 'scenarios/sweep_tou_ratio.yaml']) == 0")
    assert "sweep block ok" in out["stdout"]


def test_import_sim_is_light_and_its_names_load_on_use():
    out = _imported_after("import sim\n"
                          "assert sim.__version__\n"
                          "heavy_before = [m for m in ('numba', 'scipy', 'dask') if m in sys.modules]\n"
                          "assert not heavy_before, heavy_before\n"
                          "from sim import run, load_scenario, RunResult, Scenario, InputError, sweep\n"
                          "import sim.runner, sim.scenario, sim.outcome\n"
                          "assert run is sim.runner.run and load_scenario is sim.scenario.load_scenario\n"
                          "assert RunResult is sim.outcome.RunResult and sim.run is run\n"
                          "assert callable(sweep) and sim.engine.DEFAULT_CHUNK == sim.DEFAULT_CHUNK\n"
                          "assert set(sim.__all__) <= set(dir(sim))\n"
                          "try:\n    sim.no_such_name\nexcept AttributeError:\n    pass\n"
                          "else:\n    raise AssertionError('sim.no_such_name did not raise')\n"
                          "print('ok')")
    assert out["stdout"].strip() == "ok", out["stderr"]


def test_dask_preload_imports_the_simulator():
    """``dask worker --preload sim`` (and the local cluster's workers) call ``sim.dask_setup``,
    which imports what a shard runs, so the first task does not pay for it."""
    out = _imported_after("import sim\nsim.dask_setup(None)\n"
                          "assert all(m in sys.modules for m in sim.WARM_MODULES)\n"
                          "assert 'numba' in sys.modules and 'scipy.stats' in sys.modules")
    assert "numba" in out["heavy"] and "scipy" in out["heavy"], out["stderr"]


def test_sim_sweep_stays_the_function_after_its_modules_are_imported():
    """Importing ``sim.sweep.design`` binds ``sim.sweep`` to the package unless ``sim`` binds it back."""
    out = _imported_after("import sim\nimport sim.sweep.design, sim.sweep.execute\n"
                          "from sim.sweep import design\n"
                          "assert callable(sim.sweep) and sim.sweep.__module__ == 'sim.sweep', sim.sweep\n"
                          "print('ok')")
    assert out["stdout"].strip() == "ok", out["stderr"]
