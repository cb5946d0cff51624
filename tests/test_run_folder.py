"""Run folders land whole and never on each other; killed runs' hidden folders are cleaned up.

Two runs that chose the same folder name both land (one under a suffix); a partial folder
whose writer has ended (or whose process id was reused) is deleted by the next run, and a
partial folder of a live writer, or holding anything but run files, is left alone.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import sim
from sim.cli import main
from sim.results import RUN_FOLDER_FILES, clean_stale_partials, default_run_dir, land, write_run

from .conftest import scenario_dict

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small_result():
    data = scenario_dict(horizon={"start": "2024-02-20", "days": 3, "step_minutes": 60})
    data["populations"][0]["count"], data["populations"][1]["count"] = 40, 10
    from sim.scenario.loader import validate

    return sim.run(validate(data, label="<test>", base_dir="."))


def test_concurrent_landings_never_collide(tmp_path):
    """Twelve threads land a folder under one name at once: all twelve land, under the name
    and its suffixes -2 .. -12, each with its own content."""
    target = tmp_path / "run"
    tmps = []
    for k in range(12):
        d = tmp_path / f".run.partial-{k}"
        d.mkdir()
        (d / "metrics.json").write_text(str(k))
        tmps.append(d)
    barrier, landed = threading.Barrier(12), {}

    def go(k):
        barrier.wait()
        landed[k] = land(tmps[k], target)

    threads = [threading.Thread(target=go, args=(k,)) for k in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(p.name for p in landed.values()) == sorted(["run"] + [f"run-{k}" for k in range(2, 13)])
    assert all((p / "metrics.json").read_text() == str(k) for k, p in landed.items())
    assert not list(tmp_path.glob(".run.partial-*"))


def test_two_runs_with_the_same_default_name_both_land(small_result, tmp_path):
    """Two identical runs started in the same second (so with the same default folder name)
    and written at the same time both land: one under the name, one under ``-2``."""
    started = dt.datetime(2025, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
    out = default_run_dir(tmp_path, small_result.scenario, started)
    barrier, paths, errors = threading.Barrier(2), [], []

    def go():
        barrier.wait()
        try:
            paths.append(write_run(small_result, out, command=None, started=started, finished=started,
                                   chunk_customers=1))
        except Exception as e:  # pragma: no cover - the failure this test is about
            errors.append(e)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(p.name for p in paths) == [out.name, f"{out.name}-2"]
    a, b = ((p / "metrics.json").read_bytes() for p in paths)
    assert a == b


def test_two_cli_runs_started_together_both_land(write_yaml, tmp_path):
    """Two `drsim run` processes started together with the same --out (the name both check
    free at the start): both exit 0 and both folders are complete; the one that landed second
    says where it went."""
    data = scenario_dict(horizon={"start": "2024-02-20", "days": 3, "step_minutes": 60})
    path = write_yaml(data)
    out = tmp_path / "same"
    cmd = [sys.executable, "-m", "sim.cli", "run", str(path), "--out", str(out), "--quiet"]
    procs = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=300) + (p.returncode,) for p in procs]
    assert [rc for _, _, rc in results] == [0, 0], [err for _, err, _ in results]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["same", "same-2"]
    for d in (out, tmp_path / "same-2"):
        assert {"manifest.json", "metrics.json", "customer_bills.parquet"} <= {p.name for p in d.iterdir()}
    assert (out / "metrics.json").read_bytes() == (tmp_path / "same-2" / "metrics.json").read_bytes()
    said = ["".join(err.split()) for _, err, _ in results]  # the console folds long lines
    warned = [err for err in said if "wastakenbyanotherrun" in err]
    assert len(warned) == 1 and f"thisrunisin{tmp_path / 'same-2'}" in warned[0], said


def _partial(folder: Path, pid: int, files=("metrics.json",)) -> Path:
    d = folder / f".20250101-120000-seed1.partial-{pid}"
    d.mkdir(parents=True)
    for name in files:
        (d / name).write_text("{}")
    return d


def test_a_dead_writers_partial_is_removed_and_a_live_ones_kept(tmp_path):
    """The partial folder of a process that has ended is deleted; that of a live process
    (this one) is kept; so is one holding a file a run never writes."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = _partial(tmp_path, proc.pid, ("metrics.json", "customer_bills.parquet"))
    proc.kill()
    proc.wait()
    live = _partial(tmp_path / "b", os.getpid())
    foreign = _partial(tmp_path / "c", proc.pid, ("notes.txt",))
    assert clean_stale_partials(tmp_path) == [dead]
    assert not dead.exists()
    assert clean_stale_partials(tmp_path / "b") == [] and live.exists()
    assert clean_stale_partials(tmp_path / "c") == [] and foreign.exists()
    assert clean_stale_partials(tmp_path / "missing") == []


def test_a_partial_whose_pid_was_reused_is_removed(tmp_path):
    """A partial folder named after a live process that started after the folder last
    changed was written by an earlier process with the same id: it is deleted."""
    import psutil

    d = _partial(tmp_path, os.getpid())
    before = psutil.Process().create_time() - 60
    os.utime(d, (before, before))
    assert clean_stale_partials(tmp_path) == [d]


def test_the_next_run_removes_a_killed_runs_partial_and_says_so(write_yaml, tmp_path, capsys):
    """`drsim run` deletes the stale partial folders beside its run folder before it starts,
    and names each on the console."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    root = tmp_path / "results"
    stale = _partial(root / "small", proc.pid, sorted(RUN_FOLDER_FILES)[:3])
    data = scenario_dict(horizon={"start": "2024-02-20", "days": 2, "step_minutes": 60})
    assert main(["run", str(write_yaml(data)), "--results", str(root), "--quiet"]) == 0
    err = "".join(capsys.readouterr().err.split())  # the console folds long lines
    assert not stale.exists()
    assert f"removed{stale}:" in err and f"(pid{proc.pid})" in err
    (run,) = [p for p in (root / "small").iterdir()]
    assert json.loads((run / "manifest.json").read_text())["scenario_name"] == "small"


def test_an_explicit_out_folder_is_still_refused_when_it_has_files(write_yaml, tmp_path, capsys):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "x").write_text("")
    data = scenario_dict(horizon={"start": "2024-02-20", "days": 2, "step_minutes": 60})
    t0 = time.perf_counter()
    assert main(["run", str(write_yaml(data)), "--out", str(out), "--quiet"]) == 2
    assert "never overwrites" in capsys.readouterr().err and time.perf_counter() - t0 < 5
