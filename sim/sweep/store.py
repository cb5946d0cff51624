"""The sweep folder: one JSON file per finished run, the sweep's definition, and its tables.

Layout of ``OUT/``::

    sweep.json            what was swept (definition, design notes, command, counts)
    runs/<key>.json       one record per run: status, error, seed, parameters, metrics
    runs.parquet/.csv     one row per run (design point x replication)
    summary.parquet/.csv  one row per design point: mean and 95 % CI of every metric
    sensitivity.parquet/.csv   Sobol or Morris indices (sobol and morris designs)

Every file is written to a hidden ``.<name>.partial-<pid>`` beside its place, flushed to
disk and renamed into place (``os.replace``), so a run file exists complete or not at all,
whenever the sweep is interrupted or the machine dies. A run whose file exists with status
"ok" is never run again; a "failed" one is retried by the next invocation.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from ..outdir import check_writable

#: Version of the run-record format.
RECORD_VERSION = 1


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial-{os.getpid()}")


def write_atomic(path: Path, write) -> None:
    """Call ``write(tmp_path)``, flush the file to disk and rename it to ``path``."""
    tmp = _partial(path)
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    text = json.dumps(data, indent=1, allow_nan=False, default=str) + "\n"
    write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))


class SweepStore:
    """The folder of one sweep (see the module docstring for its layout)."""

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.runs_dir = self.out / "runs"
        self._lock_fd: int | None = None

    # ---------------------------------------------------------------- opening

    def open(self, definition: dict, definition_hash: str, info: dict) -> list[str]:
        """Create or reopen the folder for a sweep; lock it against a second writer.

        Returns notes for the user (e.g. the folder held a different sweep whose runs are
        reused where keys match).

        Raises
        ------
        InputError
            The folder exists and is not a sweep folder, or another sweep is writing it.
        """
        notes = []
        meta = self.out / "sweep.json"
        # before any run: the folder (or, when it exists, a file in it) can be written
        check_writable(self.out / "sweep.json" if self.out.is_dir() else self.out, "--out")
        if self.out.exists():
            if not self.out.is_dir():
                raise InputError(Problem("--out", None, "", f"{self.out} exists and is not a folder"))
            if not meta.is_file() and any(self.out.iterdir()):
                raise InputError(Problem("--out", None, "", f"{self.out} exists and is not a sweep folder (no "
                                                             "sweep.json); drsim does not write into it"))
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self._lock()
        previous = self.read_meta()
        if previous and previous.get("definition_sha256") != definition_hash:
            notes.append(f"{self.out} held another sweep ({previous.get('design')} design over "
                         f"{', '.join(p for p, _ in previous.get('definition', {}).get('params', []))}); "
                         "its runs are reused where the keys match, and the tables now describe this sweep")
        for stale in self.runs_dir.glob(".*.partial-*"):  # from a killed writer: never a finished run
            stale.unlink(missing_ok=True)
        for stale in self.out.glob(".*.partial-*"):
            stale.unlink(missing_ok=True)
        now = _now()
        same = previous is not None and previous.get("definition_sha256") == definition_hash
        self.write_meta({**info, "definition": definition, "definition_sha256": definition_hash,
                         "created_utc": previous.get("created_utc", now) if same else now,
                         "updated_utc": now, "state": "running"})
        return notes

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            return
        fd = os.open(self.out / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise InputError(Problem("--out", None, "", f"another sweep is writing {self.out}; wait for it or "
                                                         "choose another --out")) from None
        self._lock_fd = fd

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def read_meta(self) -> dict | None:
        try:
            return json.loads((self.out / "sweep.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def write_meta(self, meta: dict) -> None:
        write_json(self.out / "sweep.json", meta)

    def update_meta(self, **changes) -> None:
        meta = self.read_meta() or {}
        meta.update(changes, updated_utc=_now())
        self.write_meta(meta)

    # ---------------------------------------------------------------- runs

    def path(self, key: str) -> Path:
        return self.runs_dir / f"{key}.json"

    def read(self, key: str) -> dict | None:
        """The record of a run, or None if it is missing or unreadable (then it is rerun)."""
        try:
            rec = json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(rec, dict) or rec.get("key") != key or rec.get("status") not in ("ok", "failed"):
            return None
        return rec

    def finished(self, keys) -> dict[str, dict]:
        """Records of the given keys that exist (ok or failed)."""
        out = {}
        for key in dict.fromkeys(keys):
            rec = self.read(key)
            if rec is not None:
                out[key] = rec
        return out

    def write(self, record: dict) -> None:
        """Write a run's record atomically."""
        write_json(self.path(record["key"]), record)

    # ---------------------------------------------------------------- tables

    def write_table(self, df, name: str, currency: str = "") -> list[Path]:
        """``OUT/<name>.parquet`` and ``OUT/<name>.csv``, each written atomically.

        The Parquet schema's metadata names the money's ``currency`` (``drsim.currency``) and
        each column's unit (``drsim.units``, a JSON object column -> unit:
        :func:`sim.sweep.units.column_units`), as a run folder's tables do.

        The CSV follows RFC 4180: lines end with CRLF, so that the csv module quotes a text
        cell holding a carriage return (with ``\\n`` line ends it writes one raw, which splits
        the row); text that a spreadsheet would run as a formula is neutralised (:func:`csv_safe`).
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        from .units import column_units

        paths = [self.out / f"{name}.parquet", self.out / f"{name}.csv"]
        table = pa.Table.from_pandas(df, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"drsim.table": name.encode(),
                                               b"drsim.currency": currency.encode(),
                                               b"drsim.units": json.dumps(column_units(df.columns, currency)).encode()})
        write_atomic(paths[0], lambda p: pq.write_table(table, p))
        safe = csv_safe(df)
        write_atomic(paths[1], lambda p: safe.to_csv(p, index=False, lineterminator="\r\n"))
        return paths


#: First characters that make a spreadsheet read a cell as a formula: OWASP, "CSV Injection"
#: (https://owasp.org/www-community/attacks/CSV_Injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe_cell(value: Any) -> Any:
    """A text cell beginning with a formula character, prefixed with a single quote (OWASP's
    advice), so that a spreadsheet shows it as text; numbers, and text that reads as a number
    (``-0.5``), are left as they are."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def csv_safe(df):
    """A copy of a table whose text columns have every cell passed through :func:`csv_safe_cell`
    (numeric and boolean columns are left untouched)."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col])):
            out[col] = out[col].map(csv_safe_cell)
    return out


def make_record(run, params: dict, outcome: dict) -> dict:
    """A run's record from what its task returned."""
    return {
        "drsim_sweep_run": RECORD_VERSION,
        "key": run.key,
        "status": outcome["status"],
        "error": outcome.get("error"),
        "seed": run.seed,
        "currency": run.scenario.get("currency"),
        "point": run.point,
        "replication": run.replication,
        "params": params,
        "wall_s": outcome.get("wall_s"),
        "worker": outcome.get("worker"),
        "code": outcome.get("code"),
        "finished_utc": _now(),
        "metrics": outcome.get("metrics") or {},
    }
