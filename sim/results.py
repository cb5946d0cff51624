"""Run folders: manifest, metrics, time series and bill tables, written atomically.

A run is written into a hidden ``.<run-id>.partial-<pid>`` folder beside its final place and
renamed into place only when every file is complete, so a killed run never leaves a folder
that looks finished, and an existing folder is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

from .errors import InputError, Problem
from .ledger import segment_ledger
from .population import STREAM_BLOCK
from .tariffs import CHARGES

#: Packages whose versions every manifest records.
TRACKED_PACKAGES = ("drsim", "numpy", "scipy", "simpy", "pyyaml", "pydantic", "holidays")


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def resolved_scenario(scenario) -> dict:
    """The validated scenario as plain JSON data (defaults filled in)."""
    return scenario.model_dump(mode="json")


def _input_files(node) -> list[str]:
    """Every file a resolved scenario refers to (its `csv` fields), in file order."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in ([v] if k == "csv" and isinstance(v, str) else _input_files(v))]
    if isinstance(node, list):
        return [p for v in node for p in _input_files(v)]
    return []


def scenario_hash(scenario) -> str:
    """SHA-256 of the resolved scenario, with every referenced file replaced by its content hash.

    Two runs with the same hash used the same inputs, wherever the files lay.
    """
    def content(node):
        if isinstance(node, dict):
            return {k: (f"sha256:{file_sha256(v)}" if k == "csv" and isinstance(v, str) else content(v))
                    for k, v in node.items()}
        if isinstance(node, list):
            return [content(v) for v in node]
        return node

    text = json.dumps(content(resolved_scenario(scenario)), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def code_version() -> dict:
    """The package version and, when it runs from a git checkout, the commit and whether the
    working tree had uncommitted changes."""
    out = {"drsim": _version("drsim"), "git_commit": None, "git_dirty": None}
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=5)
        if commit.returncode == 0:
            out["git_commit"] = commit.stdout.strip()
            status = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--", "."],
                                    capture_output=True, text=True, timeout=5)
            out["git_dirty"] = bool(status.stdout.strip()) if status.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        pass
    return out


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def manifest(result, *, command: list[str] | None, started: dt.datetime, finished: dt.datetime,
             chunk_customers: int) -> dict:
    sc = result.scenario
    inputs = [{"path": p, "sha256": file_sha256(p)} for p in dict.fromkeys(_input_files(resolved_scenario(sc)))]
    return {
        "drsim_manifest_version": 1,
        "scenario_name": sc.name,
        "scenario_hash": scenario_hash(sc),
        "seed": sc.seed,
        "scenario": resolved_scenario(sc),
        "inputs": inputs,
        "command": command,
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": finished.isoformat(timespec="seconds"),
        "wall_seconds": round((finished - started).total_seconds(), 3),
        "engine": {"stream_block_customers": STREAM_BLOCK, "chunk_customers": chunk_customers,
                   **getattr(result, "execution", {})},
        "code": code_version(),
        "packages": {p: _version(p) for p in TRACKED_PACKAGES},
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def default_run_dir(root: str | Path, scenario, started: dt.datetime) -> Path:
    """``root/<scenario>/<YYYYMMDD-HHMMSS>-seed<N>``, with a suffix if that exists."""
    base = Path(root) / scenario.name / f"{started:%Y%m%d-%H%M%S}-seed{scenario.seed}"
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path


def check_target(path: Path) -> None:
    """Refuse an existing, non-empty run folder before any work is done."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise InputError(Problem("--out", None, "", f"{path} exists; drsim never overwrites a run folder "
                                                     "(choose another --out or remove it)"))


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n", encoding="utf-8")


def _system_load_table(result) -> tuple[list[str], np.ndarray]:
    cols = ["baseline_kw", "scenario_kw"]
    data = [result.system_load_kw["baseline"], result.system_load_kw["scenario"]]
    for name, seg in result.segments.items():
        cols += [f"{name}_baseline_kw", f"{name}_scenario_kw"]
        data += [seg.load_kw["baseline"], seg.load_kw["scenario"]]
    return cols, np.column_stack(data)


def _write_customer_surplus(path: Path, result) -> None:
    """The consumer ledger per customer (sim.ledger): each role's change of utility of
    consumption, its change, the bill change and the consumer surplus change. [currency]"""
    with open(path, "w", encoding="utf-8") as f:
        f.write("segment,customer,baseline_utility,scenario_utility,utility_change,bill_change,"
                "consumer_surplus_change\n")
        for name, seg in result.segments.items():
            led = segment_ledger(seg)
            values = np.column_stack([led.utility[0], led.utility[1], led.utility_change, led.bill_change,
                                      led.surplus_change])
            f.write("".join(f"{name},{i}," + ",".join(f"{v:.6f}" for v in row) + "\n"
                            for i, row in enumerate(values)))


def write_run(result, out_dir: str | Path, *, command: list[str] | None, started: dt.datetime,
              finished: dt.datetime, chunk_customers: int) -> Path:
    """Write a run folder atomically; return its path.

    Files: ``manifest.json``, ``metrics.json``, ``system_load.csv`` (per step: baseline and
    scenario kW, system and per segment), ``segment_bills.csv`` (per segment, month and
    tariff role: kWh and each charge), ``customer_bills.csv`` (per customer: kWh, each
    charge and the total under both tariffs, the bill change, peak kW and elasticity),
    ``customer_surplus.csv`` (per customer: the consumer ledger's utility of consumption in
    each role, its change, the bill change and the consumer surplus change), ``events.csv``.
    """
    out_dir = Path(out_dir)
    check_target(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        _write_json(tmp / "metrics.json", result.metrics)
        cal = result.calendar
        stamps = np.datetime_as_string(cal.timestamps, unit="m")
        cols, table = _system_load_table(result)
        with open(tmp / "system_load.csv", "w", encoding="utf-8") as f:
            f.write("timestamp," + ",".join(cols) + "\n")
            body = np.char.add(stamps.astype(object).astype(str), ",")
            rows = [",".join(f"{v:.6f}" for v in row) for row in table]
            f.write("\n".join(a + b for a, b in zip(body, rows)) + "\n")
        with open(tmp / "segment_bills.csv", "w", encoding="utf-8") as f:
            f.write("segment,month,tariff_role,tariff,energy_kwh," + ",".join(CHARGES) + ",total\n")
            for name, seg in result.segments.items():
                for role, bills in seg.bills.items():
                    # one sheet per tariff; with tariff choice, one of the bills paid
                    for tname, monthly, kwh in ((s.label, s.monthly, s.monthly_kwh) for s in bills.sheets):
                        for m, label in enumerate(cal.month_labels):
                            charges = monthly[m]
                            f.write(f"{name},{label},{role},{tname},{kwh[m]:.6f},"
                                    + ",".join(f"{v:.6f}" for v in charges) + f",{charges.sum():.6f}\n")
        with open(tmp / "customer_bills.csv", "w", encoding="utf-8") as f:
            head = ["segment", "customer"]
            for role in ("baseline", "scenario"):
                head += [f"{role}_kwh"] + [f"{role}_{c}" for c in CHARGES] + [f"{role}_bill", f"{role}_peak_kw"]
            head += ["bill_change", "elasticity", "scenario_tariff", "switches"]
            f.write(",".join(head) + "\n")
            for name, seg in result.segments.items():
                b, s = seg.bills["baseline"], seg.bills["scenario"]
                cols = [b.kwh[:, None], b.total, b.bill[:, None], b.peak_kw[:, None],
                        s.kwh[:, None], s.total, s.bill[:, None], s.peak_kw[:, None],
                        (s.bill - b.bill)[:, None], seg.elasticity[:, None]]
                values = np.hstack(cols)
                ids = np.arange(seg.n)
                names = np.array(s.tariff_names)[s.choice]
                switches = s.switches if s.switches is not None else np.zeros(seg.n, dtype=np.int64)
                lines = [f"{name},{i}," + ",".join(f"{v:.6f}" for v in row) + f",{t},{k}"
                         for i, row, t, k in zip(ids, values, names, switches)]
                f.write("\n".join(lines) + "\n")
        _write_customer_surplus(tmp / "customer_surplus.csv", result)
        with open(tmp / "events.csv", "w", encoding="utf-8") as f:
            f.write("date,start,end,programme,tariff,source,forecast_peak_kw,baseline_kw,scenario_kw,reduction_kw\n")
            step = cal.step_minutes
            for ev in result.events:
                a, b = ev["start_step"] * step, ev["stop_step"] * step
                fc = "" if ev["forecast_peak_kw"] is None else f"{ev['forecast_peak_kw']:.3f}"
                f.write(f"{ev['date']},{a // 60:02d}:{a % 60:02d},{b // 60:02d}:{b % 60:02d},{ev['programme']},"
                        f"{ev['tariff']},{ev['source']},{fc},{ev['baseline_kw']:.3f},{ev['scenario_kw']:.3f},"
                        f"{ev['reduction_kw']:.3f}\n")
        _write_json(tmp / "manifest.json", manifest(result, command=command, started=started,
                                                    finished=finished, chunk_customers=chunk_customers))
        if out_dir.exists():  # an empty folder made beforehand: take its place
            out_dir.rmdir()
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir
