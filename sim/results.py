"""Run folders: manifest, metrics, time series and bill tables, written atomically.

A run is written into a hidden ``.<run-id>.partial-<pid>-<random>`` folder beside its final place and
renamed into place only when every file is complete, so a killed run never leaves a folder
that looks finished, and an existing folder is never overwritten: two runs that chose the
same name land under two (:func:`land`). A partial folder left by a killed run is deleted
by the next run that writes beside it (:func:`clean_stale_partials`). The tables are
streamed in row chunks (:mod:`sim.tables`).
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from . import numerics
from .errors import InputError, Problem
from .population import STREAM_BLOCK
from .prosumers import system_pv_kw
from .tables import (CUSTOMER_BILLS, CUSTOMER_SURPLUS, EVENTS, SEGMENT_BILLS, TABLES, customer_bills_chunks,
                     customer_surplus_chunks, events_chunks, segment_bills_chunks, system_load_chunks,
                     system_load_spec, write_table)

#: Packages whose versions every manifest records.
TRACKED_PACKAGES = ("drsim", "numpy", "scipy", "simpy", "pyyaml", "pydantic", "holidays", "pyarrow")


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
        "currency": sc.currency,
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
        "numerics": numerics.profile(),
    }


def default_run_dir(root: str | Path, scenario, started: dt.datetime) -> Path:
    """``root/<scenario>/<YYYYMMDD-HHMMSS>-seed<N>``: the name a run lands under, or, if that
    is taken when it lands, the first free of ``-2``, ``-3``, ... (:func:`write_run`)."""
    return Path(root) / scenario.name / f"{started:%Y%m%d-%H%M%S}-seed{scenario.seed}"


def check_target(path: Path) -> None:
    """Refuse an existing, non-empty run folder before any work is done."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise InputError(Problem("--out", None, "", f"{path} exists; drsim never overwrites a run folder "
                                                     "(choose another --out or remove it)"))


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n", encoding="utf-8")


#: Files a run folder being written may hold (its hidden ``.partial-<pid>-<random>``
#: folder): all that :func:`clean_stale_partials` deletes.
RUN_FOLDER_FILES = frozenset({"manifest.json", "metrics.json"}
                             | {f"{t.name}.{ext}" for t in TABLES for ext in ("parquet", "csv")})

_PARTIAL = re.compile(r"^\.(?P<name>.+)\.partial-(?P<pid>[0-9]+)(?:-[0-9a-f]+)?$")


def make_partial_dir(out_dir: Path) -> Path:
    """Create the hidden folder a run is written into before it lands as ``out_dir``:
    ``.<name>.partial-<pid>-<random>``, the process id for :func:`clean_stale_partials`,
    the random part so that two writers in one process (threads) never share one."""
    while True:
        tmp = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            tmp.mkdir()
            return tmp
        except FileExistsError:  # pragma: no cover - 1 in 4 billion
            continue


def _writer_gone(pid: int, last_change: float) -> bool:
    """Whether the process that wrote a folder last changed at ``last_change`` (epoch
    seconds) has ended: no process has its id, or the one that has started after that
    change (its id was reused: the writer had ended before the new process started)."""
    import psutil

    try:
        return psutil.Process(pid).create_time() > last_change + 1.0  # create_time: to 1/100 s
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:  # another user's process we may not inspect: assume it is the writer
        return False


def clean_stale_partials(folder: str | Path) -> list[Path]:
    """Delete the hidden ``.<run>.partial-<pid>[-<random>]`` folders in ``folder`` left by
    runs killed while writing (``kill -9``, power loss); the folders deleted.

    A partial folder is stale when no process with its ``pid`` runs on this machine, or the
    process that does started after the folder last changed (the id was reused). Only
    folders that hold nothing but run-folder files are deleted; one that another machine
    is writing to a shared disk looks stale here (``docs/runs.md``, section 2)."""
    folder = Path(folder)
    removed = []
    try:
        candidates = [p for p in folder.iterdir() if _PARTIAL.match(p.name)]
    except OSError:  # no such folder yet, or not readable: nothing of ours there
        return removed
    for path in candidates:
        try:
            if not path.is_dir() or path.is_symlink() or {f.name for f in path.iterdir()} - RUN_FOLDER_FILES:
                continue
            if _writer_gone(int(_PARTIAL.match(path.name)["pid"]), path.stat().st_mtime):
                shutil.rmtree(path)
                removed.append(path)
        except OSError:  # gone meanwhile (another run cleaned it), or not ours to delete
            continue
    return removed


def land(tmp: Path, out_dir: Path) -> Path:
    """Rename the complete folder ``tmp`` to ``out_dir`` or, if a folder with files is there
    (another run landed first), to the first free of ``out_dir-2``, ``-3``, ...; the path.

    Race-free: ``rename(2)`` of a folder replaces only a missing or empty folder, atomically,
    so two runs can never land under one name; the one that finds its name taken tries the
    next."""
    target, k = out_dir, 1
    while True:
        try:
            os.rename(tmp, target)
            return target
        except OSError as e:
            if e.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR) or k > 10_000:
                raise
        k += 1
        target = out_dir.with_name(f"{out_dir.name}-{k}")


def write_run(result, out_dir: str | Path, *, command: list[str] | None, started: dt.datetime,
              finished: dt.datetime, chunk_customers: int, csv: bool = False) -> Path:
    """Write a run folder atomically; return its path (``out_dir``, or ``out_dir-2``, ... if
    another run took that name meanwhile: :func:`land`).

    Files (``results/README.md``): ``manifest.json``, ``metrics.json``, and each table of
    :data:`sim.tables.TABLES` as Parquet, streamed in row chunks: ``system_load`` (per step:
    baseline and scenario kW, system and per segment), ``segment_bills`` (per segment,
    month, tariff role and tariff: kWh and each charge), ``customer_bills`` (per customer:
    kWh, each charge and the total under both tariffs, the bill change, peak kW,
    elasticity), ``customer_surplus`` (per customer: the consumer ledger's utility of
    consumption in each role, its change, the bill change and the consumer surplus change)
    and ``events``. The small tables, ``system_load``, ``segment_bills`` and
    ``events``, are also written as CSV; the per-customer ones too with ``csv``.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_partial_dir(out_dir)
    try:
        currency = result.scenario.currency
        _write_json(tmp / "metrics.json", {"currency": currency, **result.metrics})  # money in it: docs/metrics.md
        write_table(tmp, system_load_spec(result.segments, pv=system_pv_kw(result) is not None),
                    system_load_chunks(result), currency=currency, csv=True)
        write_table(tmp, SEGMENT_BILLS, segment_bills_chunks(result), currency=currency, csv=True)
        write_table(tmp, CUSTOMER_BILLS, customer_bills_chunks(result.segments), currency=currency, csv=csv)
        write_table(tmp, CUSTOMER_SURPLUS, customer_surplus_chunks(result.segments), currency=currency, csv=csv)
        write_table(tmp, EVENTS, events_chunks(result.events, result.calendar.step_minutes), currency=currency,
                    csv=True)
        if getattr(result, "network", None) is not None:
            from .network.tables import write_network_tables

            write_network_tables(tmp, result)
        _write_json(tmp / "manifest.json", manifest(result, command=command, started=started,
                                                    finished=finished, chunk_customers=chunk_customers))
        return land(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
