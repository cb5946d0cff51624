"""A finished run folder read back for reports: manifest, metrics and the tables beside them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ..errors import InputError, Problem
from ..tables import TABLES, headers

#: The files every finished run folder holds (results/README.md).
RUN_FILES = ("manifest.json", "metrics.json")
#: The tables of a run folder: each read from ``<name>.parquet`` (unrounded), or from
#: ``<name>.csv`` when there is no Parquet file (run folders written before drsim wrote
#: Parquet; results/README.md).
RUN_TABLES = ("system_load", "segment_bills", "customer_bills", "events")


def _not_a_run(path: Path, why: str) -> InputError:
    return InputError(Problem(str(path), None, "", f"not a finished drsim run folder: {why}"))


def read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise _not_a_run(path.parent, f"cannot read {path.name} ({e})") from None
    except json.JSONDecodeError as e:
        raise _not_a_run(path.parent, f"{path.name} is not valid JSON (line {e.lineno}: {e.msg})") from None
    if not isinstance(data, dict):
        raise _not_a_run(path.parent, f"{path.name} does not hold a JSON object")
    return data


def check_run_dir(path: str | Path, needed: tuple[str, ...] = ("manifest.json", "metrics.json")) -> Path:
    """The folder, if it exists and holds ``needed``; otherwise one InputError naming what is missing."""
    path = Path(path)
    if not path.exists():
        raise InputError(Problem(str(path), None, "", "no such folder"))
    if not path.is_dir():
        raise _not_a_run(path, "it is a file, not a folder")
    missing = [f for f in needed if not (path / f).is_file()]
    if missing:
        raise _not_a_run(path, f"no {', '.join(missing)} (was the run interrupted?)")
    return path


def read_summary(path: str | Path) -> tuple[dict, dict]:
    """``(manifest, metrics)`` of a finished run folder; InputError if it is not one."""
    path = check_run_dir(path)
    manifest, metrics = read_json(path / "manifest.json"), read_json(path / "metrics.json")
    for key in ("baseline", "scenario", "change"):
        if not isinstance(metrics.get(key), dict):
            raise _not_a_run(path, f"metrics.json has no {key!r} figures")
    return manifest, metrics


@dataclass
class RunFolder:
    """Everything a report reads from one run folder.

    Attributes
    ----------
    path : Path
    manifest, metrics : dict
        ``manifest.json`` and ``metrics.json`` as written by the run.
    """

    path: Path
    manifest: dict
    metrics: dict
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: str | Path) -> RunFolder:
        path = check_run_dir(path, RUN_FILES)
        missing = [t for t in RUN_TABLES if not any((path / f"{t}.{ext}").is_file() for ext in ("parquet", "csv"))]
        if missing:
            raise _not_a_run(path, f"no {', '.join(f'{t}.parquet' for t in missing)} (was the run interrupted?)")
        manifest, metrics = read_summary(path)
        if not isinstance(manifest.get("scenario"), dict):
            raise _not_a_run(path, "manifest.json has no resolved 'scenario'")
        return cls(path, manifest, metrics)

    # ---- scenario facts
    @property
    def scenario(self) -> dict:
        """The resolved scenario (plain JSON data, defaults filled in)."""
        return self.manifest["scenario"]

    @property
    def currency(self) -> str:
        return self.scenario.get("currency", "")

    @property
    def step_minutes(self) -> int:
        return int(self.scenario["horizon"]["step_minutes"])

    @property
    def steps_per_day(self) -> int:
        return 1440 // self.step_minutes

    @property
    def days(self) -> int:
        return int(self.scenario["horizon"]["days"])

    @property
    def segment_names(self) -> list[str]:
        return [seg["name"] for seg in self.scenario["populations"]]

    @cached_property
    def calendar(self):
        """The run's calendar (``sim.calendar.Calendar``) from the manifest's horizon and holidays."""
        return calendar_for(self.scenario["horizon"], self.scenario.get("calendar", {}))

    # ---- tables
    @cached_property
    def load(self) -> pd.DataFrame:
        """``system_load``: one row per step, kW columns, ``timestamp`` as datetime64."""
        df = self._table("system_load")
        df["timestamp"] = pd.to_datetime(df["timestamp"], format="%Y-%m-%dT%H:%M")
        n = self.days * self.steps_per_day
        if len(df) != n:
            raise _not_a_run(self.path, f"system_load has {len(df)} rows; the horizon has {n} steps")
        return df

    @cached_property
    def segment_bills(self) -> pd.DataFrame:
        return self._table("segment_bills", text=("segment", "month", "tariff"))

    @cached_property
    def bill_changes(self) -> pd.DataFrame:
        """Per customer: ``segment`` and ``bill_change`` [currency] (the other columns are not read)."""
        return self._table("customer_bills", columns=["segment", "bill_change"], text=("segment",))

    @cached_property
    def events(self) -> pd.DataFrame:
        return self._table("events", text=("date", "start", "end", "programme", "tariff", "source"))

    def _table(self, name: str, columns: list[str] | None = None, text: tuple[str, ...] = ()) -> pd.DataFrame:
        """A table from ``<name>.parquet``, else ``<name>.csv``, its columns under their
        :attr:`sim.tables.Column.name` (a money column's header without its currency,
        ``bill_change`` for ``bill_change_cny``; folders written before the headers named
        their currency have those names already); the ``text`` columns as strings (a Parquet
        date as ``YYYY-MM-DD``, as in the CSV)."""
        path = self.path / f"{name}.parquet"
        spec = next((t for t in TABLES if t.name == name), None)
        names = {h: n for n, h in headers(spec, self.currency).items()} if spec and self.currency else {}
        wanted = None if columns is None else \
            list(dict.fromkeys([h for h, n in names.items() if n in columns] + columns))
        try:
            if not path.is_file():
                path = path.with_suffix(".csv")
                head = pd.read_csv(path, nrows=0).columns
                df = pd.read_csv(path, usecols=None if wanted is None else [c for c in wanted if c in head],
                                 dtype={c: str for c in text})
            else:
                have = pq.read_schema(path).names
                df = pd.read_parquet(path, columns=None if wanted is None else [c for c in wanted if c in have])
        except (OSError, ValueError, pd.errors.ParserError) as e:
            raise _not_a_run(self.path, f"cannot read {path.name} ({e})") from None
        df = df.rename(columns=names)
        if columns is not None and set(columns) - set(df.columns):
            raise _not_a_run(self.path, f"{path.name} has no column {sorted(set(columns) - set(df.columns))[0]!r}")
        for c in text:
            if c in df and len(df):
                df[c] = df[c].astype(str)
        return df

    def metric(self, dotted: str):
        """A value of ``metrics.json`` by dotted path, e.g. ``segments.res.change.bill_change_mean``."""
        node = self.metrics
        for part in dotted.split("."):
            node = node[part]
        return node


def calendar_for(horizon: dict, calendar: dict):
    """A ``sim.calendar.Calendar`` from the resolved scenario's ``horizon`` and ``calendar`` data.

    Only these two parts are validated, so that a run whose other inputs (CSV files) have
    moved can still be reported.
    """
    from ..calendar import Calendar
    from ..scenario.schema import Calendar as CalendarSpec
    from ..scenario.schema import Horizon

    spec = SimpleNamespace(horizon=Horizon.model_validate(horizon), calendar=CalendarSpec.model_validate(calendar or {}))
    return Calendar.from_scenario(spec)


def day_matrix(series: np.ndarray, steps_per_day: int) -> np.ndarray:
    """A per-step series as (days, steps_per_day)."""
    return np.asarray(series, dtype=float).reshape(-1, steps_per_day)
