"""The command line: run folders, never overwriting, schema, validate, the Python API."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.cli import main

from .conftest import scenario_dict

REPO = Path(__file__).resolve().parents[1]


def test_run_writes_a_complete_folder(write_yaml, tmp_path, capsys):
    path = write_yaml(scenario_dict())
    out = tmp_path / "run1"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "peak reduction" in printed and "load factor" in printed and "revenue" in printed
    files = {p.name for p in out.iterdir()}
    assert files == {"manifest.json", "metrics.json", "system_load.csv", "segment_bills.csv", "events.csv",
                     *(f"{t}.parquet" for t in ("system_load", "segment_bills", "customer_bills", "customer_surplus",
                                                "events"))}
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"currency", "baseline", "scenario", "change", "segments", "headline"} and metrics["currency"] == "CNY"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 11 and len(manifest["scenario_hash"]) == 64
    assert manifest["scenario"]["populations"][0]["count"] == 300
    assert manifest["packages"]["numpy"]
    with open(out / "system_load.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["timestamp", "baseline_kw", "scenario_kw"] and len(rows) == 14 * 24 + 1
    bills = pd.read_parquet(out / "customer_bills.parquet")
    assert len(bills) == 350
    assert bills["scenario_bill_cny"].sum() == pytest.approx(metrics["scenario"]["revenue"], rel=1e-12)  # unrounded
    ledger = pd.read_parquet(out / "customer_surplus.parquet")
    assert len(ledger) == 350                 # the consumer ledger per customer: dCS = dV - dB
    for key, col in (("consumer_surplus_change", "consumer_surplus_change_cny"), ("revenue_change", "bill_change_cny"),
                     ("consumer_utility_change", "utility_change_cny")):
        assert ledger[col].sum() == pytest.approx(metrics["change"][key], rel=1e-9, abs=1e-6), key
    np.testing.assert_allclose(ledger["utility_change_cny"] - ledger["bill_change_cny"],
                               ledger["consumer_surplus_change_cny"], rtol=0, atol=1e-9)
    # never overwrite
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    assert "never overwrites" in capsys.readouterr().err


def test_default_run_folder_and_seed_override(write_yaml, tmp_path, capsys):
    path = write_yaml(scenario_dict())
    root = tmp_path / "results"
    assert main(["run", str(path), "--results", str(root), "--seed", "5", "--quiet"]) == 0
    assert main(["run", str(path), "--results", str(root), "--seed", "5", "--quiet"]) == 0
    runs = sorted((root / "small").iterdir())
    assert len(runs) == 2 and all("seed5" in r.name for r in runs)
    a, b = (json.loads((r / "metrics.json").read_text()) for r in runs)
    assert a == b  # same seed, same figures


def test_set_override_changes_the_run(write_yaml, tmp_path):
    path = write_yaml(scenario_dict())
    sc = sim.load_scenario(path, ["populations.shops.count=7", "tariffs.tou.periods.peak.price_per_kwh=2"])
    assert sc.segment("shops").count == 7 and sc.tariffs["tou"].periods["peak"].price_per_kwh == 2


def test_schema_command(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "populations" in schema["properties"] and schema["title"].startswith("drsim scenario")


def test_validate_ok(write_yaml, capsys):
    assert main(["validate", str(write_yaml(scenario_dict()))]) == 0
    assert "ok" in capsys.readouterr().out


def test_killed_run_leaves_no_complete_folder(tmp_path, write_yaml):
    """SIGKILL during a run leaves nothing that looks like a finished run folder."""
    data = scenario_dict()
    data["populations"][0]["count"] = 200_000
    data["horizon"]["days"] = 365
    path = write_yaml(data)
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "run", str(path), "--out", str(out), "--quiet"],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3)
    assert proc.poll() is None, "the run finished before it could be killed; make it larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    assert not any(p.name == "metrics.json" for p in tmp_path.rglob("*") if not p.parent.name.startswith("."))


def test_python_api():
    sc = sim.load_scenario(REPO / "scenarios" / "flat.yaml", ["horizon.days=3"])
    result = sim.run(sc)
    assert result.system_load_kw["scenario"].shape == (72,)
    assert result.metrics["change"]["peak_reduction_kw"] == 0


def test_validate_checks_a_sweep_block_and_run_sets_it_aside(tmp_path, capsys):
    """A sweep file is a scenario plus a `sweep:` block: `validate` checks both (a bad path in
    the block is an error, exit 2), `run` uses the scenario alone."""
    import yaml

    from sim.cli import main

    from .conftest import scenario_dict

    data = dict(scenario_dict(), sweep={"params": {"tariffs.tou.periods.peak.price_per_kwh": [0.8, 0.9]}})
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["validate", str(path)]) == 0
    assert "sweep block ok — 2 runs" in capsys.readouterr().out
    assert main(["run", str(path), "--quiet", "--out", str(tmp_path / "run")]) == 0
    assert (tmp_path / "run" / "metrics.json").exists()
    data["sweep"]["params"] = {"horizon.dayz": [3]}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["validate", str(path)]) == 2
    assert "sweep.params" in capsys.readouterr().err
