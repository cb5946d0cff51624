"""Shared builders for small scenarios."""

from __future__ import annotations

import sim  # noqa: F401  (first, before numpy: the suite runs on the kernels drsim pins, sim/numerics.py)

import copy
import logging
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

TOU = {
    "type": "tou",
    "periods": {"peak": {"price_per_kwh": 0.9}, "flat": {"price_per_kwh": 0.5},
                "valley": {"price_per_kwh": 0.25}},
    "schedule": [{"day_types": ["weekday", "weekend"],
                  "hours": {"peak": ["17:00-21:00"], "flat": ["07:00-17:00", "21:00-23:00"],
                            "valley": ["23:00-07:00"]}}],
}


def scenario_dict(**changes) -> dict:
    """A small valid scenario as raw data: two segments, flat baseline, TOU scenario."""
    data = {
        "name": "small",
        "seed": 11,
        "horizon": {"start": "2024-02-20", "days": 14, "step_minutes": 60},
        "populations": [
            {"name": "res", "customer_class": "residential", "count": 300,
             "annual_kwh": {"dist": "lognormal", "mean": 3000, "cv": 0.4},
             "behavior": {"model": "constant_elasticity",
                          "elasticity": {"dist": "normal", "mean": -0.15, "sd": 0.05, "min": -0.5, "max": 0}},
             "tariff": {"baseline": "flat", "scenario": "tou"}},
            {"name": "shops", "customer_class": "commercial", "count": 50,
             "annual_kwh": {"dist": "uniform", "low": 20000, "high": 60000},
             "behavior": {"model": "constant_elasticity", "elasticity": -0.05},
             "tariff": {"baseline": "flat", "scenario": "tou"}},
        ],
        "tariffs": {"flat": {"type": "flat", "price_per_kwh": 0.5, "fixed_per_month": 3.0},
                    "tou": copy.deepcopy(TOU)},
        "grid": {"energy_cost_per_kwh": 0.3, "capacity_cost_per_kw_year": 400},
    }
    data.update(changes)
    return data


def run_sweep(tmp_path, *args, days: int = 3, counts: tuple[int, int] = (30, 10)) -> Path:
    """``drsim sweep`` (one worker) over :func:`scenario_dict` with ``days`` days and ``counts``
    customers in its two segments; the sweep folder (the command must exit 0)."""
    from sim.cli import main

    data = scenario_dict(horizon={"start": "2025-07-01", "days": days, "step_minutes": 60})
    data["populations"][0]["count"], data["populations"][1]["count"] = counts
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "sweep"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", *args]) == 0
    return out


def build(data: dict):
    """Validate raw scenario data into a Scenario."""
    from sim.scenario import validate

    return validate(data, label="<test>")


@pytest.fixture
def write_yaml(tmp_path):
    def _write(data, name="scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
        return path
    return _write


#: Where the `dask` command is (next to this Python).
DASK_BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def _start(args: list[str], log: Path) -> subprocess.Popen:
    f = open(log, "wb")
    return subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[1],
                            start_new_session=True)


@pytest.fixture
def dask_cluster(tmp_path):
    """A scheduler and two single-threaded workers as separate processes; yields
    (address, [worker processes])."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = []
    try:
        procs.append(_start([str(DASK_BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                             "--no-dashboard"], tmp_path / "scheduler.log"))
        workers = [_start([str(DASK_BIN / "dask"), "worker", address, "--nthreads", "1", "--nworkers", "1",
                           "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{i}", "--death-timeout", "60"],
                          tmp_path / f"worker{i}.log") for i in range(2)]
        procs += workers
        from distributed import Client

        with Client(address, timeout=30) as c:
            c.wait_for_workers(2, timeout=60)
        yield address, workers
    finally:
        for p in procs:
            _kill(p)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


def store_call(load, charge_price, serve_price, share, capacity, power, eff, loss, soc0, h, **kw):
    """``dispatch_storage`` with the store's five parameters given as its ``Store`` record
    (the tests build their cases as flat tuples)."""
    from sim.behavior import storage

    return storage.dispatch_storage(load, charge_price, serve_price, storage.Store(share, capacity, power, eff, loss),
                                    soc0, h, **kw)


def dispatch_call(load, charge_price, serve_price, share, capacity, power, eff, loss, soc0, h, groups=None):
    """``storage._dispatch`` (the per-customer path) with the store's five checked parameters as its record."""
    from sim.behavior import storage

    return storage._dispatch(load, charge_price, serve_price, storage.Store(share, capacity, power, eff, loss), soc0,
                             h, groups)


# ------------------------------------------------------------------ sweeps


def tiny(name="tiny", **changes) -> dict:
    """A scenario that runs in milliseconds: 70 customers, one week."""
    data = scenario_dict(name=name, **changes)
    data["horizon"]["days"] = 7
    data["populations"][0]["count"] = 60
    data["populations"][1]["count"] = 10
    return data


@pytest.fixture(scope="module")
def client():
    """An in-process Dask cluster with one single-threaded worker (no process start-up)."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0",
                           silence_logs=logging.ERROR)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture
def no_cluster(monkeypatch):
    """Fail the test if a sweep tries to start or reach a cluster."""
    from sim.sweep import execute as execute_mod

    def refuse(*a, **k):
        raise AssertionError("a cluster was started")
    monkeypatch.setattr(execute_mod, "connect", refuse)
