"""Sweeps on real Dask processes: a `dask scheduler` and two `dask worker` commands started on
127.0.0.1, a worker killed mid-sweep, the sweeping client killed and restarted, and Ctrl-C.

Every process runs in its own session and is killed (with its children) by the fixture's
finalizer; every wait has a timeout.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from .conftest import _kill, _start, dask_cluster, scenario_dict  # noqa: F401  (a fixture)

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PEAK = "tariffs.tou.periods.peak.price_per_kwh"
TIMEOUT_S = 120


def _scenario(tmp_path, name: str, customers: int, days: int) -> Path:
    data = scenario_dict(name=name)
    data["populations"][0]["count"] = customers
    data["horizon"]["days"] = days
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _sweep_cmd(path, out, *args) -> list[str]:
    return [str(BIN / "drsim"), "sweep", str(path), "--out", str(out), *args]


def _records(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in (out / "runs").glob("*.json")]


def _wait_for_runs(out: Path, n: int, proc: subprocess.Popen) -> None:
    """Until ``n`` run files exist, while the sweep is still running."""
    deadline = time.monotonic() + TIMEOUT_S
    while len(list((out / "runs").glob("*.json"))) < n:
        assert proc.poll() is None, "the sweep ended before it could be interrupted; make the runs longer"
        assert time.monotonic() < deadline, "no runs finished in time"
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep ended before it could be interrupted; make the runs longer"


def test_sweep_on_an_existing_scheduler(dask_cluster, tmp_path):
    address, _ = dask_cluster
    path = _scenario(tmp_path, "remote", 300, 14)
    out = tmp_path / "out"
    done = subprocess.run(_sweep_cmd(path, out, "--param", f"{PEAK}=0.6:1.2:6", "--replications", "2",
                                     "--scheduler", address),
                          capture_output=True, text=True, timeout=TIMEOUT_S, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert f"on {address} (2 workers, 2 threads)" in done.stderr
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 12 and (runs["status"] == "ok").all()
    assert runs["worker"].nunique() == 2  # both worker processes ran some
    # the same sweep on a local cluster gives the same figures
    local = subprocess.run(_sweep_cmd(path, tmp_path / "local", "--param", f"{PEAK}=0.6:1.2:6",
                                      "--replications", "2", "--workers", "1"),
                           capture_output=True, text=True, timeout=TIMEOUT_S, cwd=REPO)
    assert local.returncode == 0, local.stderr
    pd.testing.assert_frame_equal(runs.drop(columns=["wall_s", "worker"]),
                                  pd.read_parquet(tmp_path / "local" / "runs.parquet").drop(columns=["wall_s", "worker"]))


def test_a_killed_worker_does_not_stop_the_sweep(dask_cluster, tmp_path):
    """SIGKILL one worker (and its nanny) mid-sweep: its task is rerun on the other worker and
    every run finishes."""
    address, workers = dask_cluster
    path = _scenario(tmp_path, "killworker", 8000, 120)
    out = tmp_path / "out"
    proc = _start(_sweep_cmd(path, out, "--param", f"{PEAK}=0.6:1.2:8", "--replications", "2",
                             "--scheduler", address), tmp_path / "sweep.log")
    try:
        _wait_for_runs(out, 2, proc)
        _kill(workers[0])
        assert proc.wait(timeout=TIMEOUT_S) == 0, (tmp_path / "sweep.log").read_text()
    finally:
        _kill(proc)
    recs = _records(out)
    assert len(recs) == 16 and all(r["status"] == "ok" for r in recs)
    assert len(pd.read_csv(out / "runs.csv")) == 16


def test_a_killed_client_resumes_where_it_stopped(dask_cluster, tmp_path):
    """SIGKILL the sweeping command (as a dying machine would): the same command run again
    reuses every run that was written and runs only the rest."""
    address, _ = dask_cluster
    path = _scenario(tmp_path, "killclient", 8000, 120)
    out = tmp_path / "out"
    cmd = _sweep_cmd(path, out, "--param", f"{PEAK}=0.6:1.2:8", "--replications", "2", "--scheduler", address)
    proc = _start(cmd, tmp_path / "sweep.log")
    try:
        _wait_for_runs(out, 3, proc)
        _kill(proc)
        proc.wait(timeout=30)
    finally:
        _kill(proc)
    before = {r["key"]: r for r in _records(out)}
    assert 3 <= len(before) < 16 and not (out / "runs.parquet").exists()
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, cwd=REPO)
    assert again.returncode == 0, again.stderr
    assert f"16 runs: {len(before)} finished earlier, {16 - len(before)} run now, 0 failed" in again.stdout
    after = {r["key"]: r for r in _records(out)}
    assert len(after) == 16 and all(after[k] == r for k, r in before.items())  # nothing lost or rewritten


def test_ctrl_c_cancels_closes_and_exits_130(tmp_path):
    """SIGINT to the command's process group (what a terminal sends on Ctrl-C): exit 130, a
    message with the count of finished runs, no tracebacks, no run left behind as failed; the
    same command then finishes the sweep."""
    path = _scenario(tmp_path, "ctrlc", 8000, 120)
    out = tmp_path / "out"
    cmd = _sweep_cmd(path, out, "--param", f"{PEAK}=0.6:1.2:8", "--replications", "2", "--workers", "2")
    # SIGINT at its default in the command, as in a terminal: a suite started in the background
    # (`make test &`) passes it on ignored, and Python then leaves Ctrl-C ignored
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        _wait_for_runs(out, 2, proc)
        _kill(proc, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        _kill(proc)
    assert proc.returncode == 130, stderr
    finished = len(_records(out))
    assert f"interrupted: {finished} of 16 runs finished" in stderr and "rerun the same command" in stderr
    assert "Traceback" not in stderr
    assert all(r["status"] == "ok" for r in _records(out))
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, cwd=REPO)
    assert again.returncode == 0, again.stderr
    assert f"16 runs: {finished} finished earlier, {16 - finished} run now, 0 failed" in again.stdout


def test_the_local_cluster_workers_start_ready_to_compute():
    """drsim's own LocalCluster: workers have imported drsim before any task, have the
    allocator settings, and run without the statistical profiler (docs/sweeps.md); the
    client's own Dask configuration is left as it was."""
    import dask
    import distributed  # noqa: F401  (its configuration defaults)

    from sim.sweep.execute import WORKER_MALLOC_ENV, connect

    before = dask.config.get("distributed.worker.profile.enabled")
    with connect(None, 1) as client:
        (state,) = client.run(lambda: ("sim.engine" in __import__("sys").modules,
                                       __import__("dask").config.get("distributed.worker.profile.enabled"),
                                       {k: __import__("os").environ.get(k) for k in WORKER_MALLOC_ENV})).values()
    assert state == (True, False, WORKER_MALLOC_ENV)
    assert dask.config.get("distributed.worker.profile.enabled") == before
