"""The numerical kernels pinned for the same bits on every x86-64 machine (sim/numerics.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sim import numerics

CODE = "import sim, numpy, json; from sim import numerics; print(json.dumps(numerics.profile()))"


def _profile(env: dict, code: str = CODE) -> dict:
    full = {k: v for k, v in os.environ.items()
            if k not in ("NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE", "DRSIM_NATIVE_NUMERICS")}
    out = subprocess.run([sys.executable, "-c", code], env={**full, **env}, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


needs_avx2 = pytest.mark.skipif(not {"avx2", "fma"} <= numerics._cpu_flags(),
                                reason="the pin acts on x86-64 CPUs with AVX2 and FMA only")


@needs_avx2
def test_import_sim_pins_numpys_and_openblas_kernels_before_numpy_loads():
    p = _profile({})
    assert p["status"] == "pinned"
    assert p["OPENBLAS_CORETYPE"] == "Haswell"
    assert "X86_V4" in p["NPY_DISABLE_CPU_FEATURES"].split()
    # numpy read the variable: no AVX-512 group is in use
    assert not any(g.startswith(("X86_V4", "AVX512")) for g in p["numpy_simd_in_use"])


@needs_avx2
def test_a_value_the_user_set_is_kept_and_the_opt_out_leaves_the_machines_own():
    assert _profile({"OPENBLAS_CORETYPE": "Zen"})["OPENBLAS_CORETYPE"] == "Zen"
    native = _profile({"DRSIM_NATIVE_NUMERICS": "1"})
    assert native["status"].startswith("native: DRSIM_NATIVE_NUMERICS")
    assert native["OPENBLAS_CORETYPE"] is None and native["NPY_DISABLE_CPU_FEATURES"] is None


def test_numpy_imported_first_is_reported_not_pinned():
    p = _profile({}, "import numpy, sim, json; from sim import numerics; print(json.dumps(numerics.profile()))")
    assert p["status"] == "native: numpy was imported before drsim"
    assert p["OPENBLAS_CORETYPE"] is None


def test_workers_with_other_kernels_are_named():
    own = {"numpy_simd_in_use": ["X86_V3"], "OPENBLAS_CORETYPE": "Haswell", "status": "pinned"}
    others = {"tcp://a": dict(own), "tcp://b": {**own, "numpy_simd_in_use": ["X86_V3", "X86_V4"]},
              "tcp://c": {**own, "OPENBLAS_CORETYPE": None}}
    assert numerics.differing(own, others) == ["tcp://b", "tcp://c"]
    assert numerics.differing(own, {"tcp://a": dict(own)}) == []


def test_the_manifest_records_the_kernels(tmp_path, write_yaml):
    from sim.cli import main
    from .conftest import scenario_dict

    path = write_yaml(scenario_dict())
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["numerics"] == numerics.profile()
    assert manifest["numerics"]["status"]
