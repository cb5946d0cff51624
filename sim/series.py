"""Per-step input series read from CSV files: real-time prices, energy costs.

The lowest layer that reads such series: tariffs (real-time price series) and the grid
(energy cost) both take them from here.
"""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np

from .calendar import Calendar
from .errors import InputError, Problem
from .scenario.base import MAX_MAGNITUDE
from .scenario.schema import CsvSeries


def read_series(spec: CsvSeries, cal: Calendar) -> np.ndarray:
    """A per-step series from a CSV file, shape (n_steps,).

    The file has a header row. If its first column is ``timestamp`` (ISO 8601 local time,
    step start), rows are placed by their timestamps and must cover the horizon; otherwise
    the rows hold one value per step in step order from the first step of the horizon.
    ``column`` picks the value column by name or index. Extra rows are ignored.
    """
    label = str(spec.csv)
    with spec.csv.open(newline="", encoding="utf-8-sig") as f:
        rows = [(n, r) for n, r in enumerate(csv.reader(f), start=1) if r and any(c.strip() for c in r)]
    if not rows:
        raise InputError(Problem(label, None, "", "empty file"))
    header = rows[0][1]
    if isinstance(spec.column, str):
        if spec.column not in header:
            raise InputError(Problem(label, 1, "", f"no column {spec.column!r} (columns: {', '.join(header)})"))
        j = header.index(spec.column)
    else:
        j = spec.column
        if not -len(header) <= j < len(header):
            raise InputError(Problem(label, 1, "", f"column index {j} out of range ({len(header)} columns)"))
    timed = header[0].strip().lower() == "timestamp"
    out = np.full(cal.n_steps, np.nan)
    first = np.datetime64(cal.start, "m")
    for k, (line, row) in enumerate(rows[1:]):
        if timed:
            try:
                stamp = dt.datetime.fromisoformat(row[0].strip())
            except ValueError:
                raise InputError(Problem(label, line, "timestamp", f"not an ISO timestamp: {row[0]!r}")) from None
            if stamp.tzinfo is not None:
                raise InputError(Problem(label, line, "timestamp", f"{row[0]} has a UTC offset; give local time"))
            if stamp.second or stamp.microsecond:
                raise InputError(Problem(label, line, "timestamp", f"{row[0]} is not on a step start"))
            minutes = int((np.datetime64(stamp, "m") - first) // np.timedelta64(1, "m"))
            step, rem = divmod(minutes, cal.step_minutes)
            if rem:
                raise InputError(Problem(label, line, "timestamp", f"{row[0]} is not on a {cal.step_minutes}-minute step"))
        else:
            step = k
        if not 0 <= step < cal.n_steps:
            continue
        try:
            value = float(row[j])
        except (ValueError, IndexError):
            raise InputError(Problem(label, line, header[j], f"not a number: {row[j] if j < len(row) else ''!r}")) from None
        if not np.isfinite(value):
            raise InputError(Problem(label, line, header[j], f"not finite: {row[j]}"))
        if abs(value) > MAX_MAGNITUDE:  # the scenario format's bound on every number
            raise InputError(Problem(label, line, header[j], f"must lie between -1e12 and 1e12; got {row[j]}"))
        if timed and not np.isnan(out[step]):
            raise InputError(Problem(label, line, "timestamp", f"{row[0]} appears twice"))
        out[step] = value
    missing = np.flatnonzero(np.isnan(out))
    if missing.size:
        when = str(cal.timestamps[missing[0]]).replace("T", " ")
        raise InputError(Problem(label, None, "", f"{missing.size} of the horizon's {cal.n_steps} steps have no value, "
                                                  f"the first at {when}"))
    return out
