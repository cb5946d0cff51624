"""Measured load per customer from a CSV file.

Layout (see docs/scenario.md): a header row; the first column ``timestamp`` holds the start
of each step in local time (ISO 8601, e.g. ``2025-01-01T00:00`` or ``2025-01-01 00:00``);
every further column is one customer (its header is the customer's id) and holds the
energy used in that step in kWh. Steps are the horizon's step; the rows must cover the
whole horizon (extra rows before or after are ignored).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

from ..calendar import Calendar
from ..errors import InputError, Problem
from ..scenario.base import MAX_MAGNITUDE

#: Measured-load files larger than this are refused. [bytes]
MAX_CSV_BYTES = 2 * 1024 ** 3


def read_measured_load(path: str | Path, cal: Calendar) -> np.ndarray:
    """Read a measured-load CSV and return kWh per step of the horizon.

    Returns
    -------
    ndarray, shape (n_steps, n_customers)  [kWh per step]

    Raises
    ------
    InputError
        Naming the file, line and column of each problem (at most 20 are listed).
    """
    path = Path(path)
    label = str(path)
    if path.stat().st_size > MAX_CSV_BYTES:
        raise InputError(Problem(label, None, "", f"file is larger than {MAX_CSV_BYTES} bytes"))
    problems: list[Problem] = []
    first = np.datetime64(cal.start, "m")
    step = np.timedelta64(cal.step_minutes, "m")
    out = None
    seen = None
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if not header or header[0].strip().lower() != "timestamp" or len(header) < 2:
            raise InputError(Problem(label, 1, "", "the header must be 'timestamp' followed by one column "
                                                   "per customer"))
        n_cust = len(header) - 1
        out = np.zeros((cal.n_steps, n_cust))
        seen = np.zeros(cal.n_steps, dtype=bool)
        for line, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != n_cust + 1:
                problems.append(Problem(label, line, "", f"{len(row)} columns; the header has {n_cust + 1}"))
            else:
                try:
                    stamp = dt.datetime.fromisoformat(row[0].strip())
                except ValueError:
                    problems.append(Problem(label, line, "timestamp", f"not an ISO timestamp: {row[0]!r}"))
                    continue
                if stamp.tzinfo is not None:
                    problems.append(Problem(label, line, "timestamp", f"{row[0]} has a UTC offset; give local time "
                                                                      "without one (the horizon is in local time)"))
                    continue
                if stamp.second or stamp.microsecond:
                    problems.append(Problem(label, line, "timestamp", f"{row[0]} is not on a step start"))
                    continue
                t = np.datetime64(stamp, "m")
                k, rem = divmod(int((t - first) // np.timedelta64(1, "m")), cal.step_minutes)
                if rem:
                    problems.append(Problem(label, line, "timestamp",
                                            f"{row[0]} is not on a {cal.step_minutes}-minute step"))
                    continue
                if not 0 <= k < cal.n_steps:
                    continue
                try:
                    values = np.array([float(c) for c in row[1:]])
                except ValueError:
                    bad = next(j for j, c in enumerate(row[1:]) if not is_number(c))
                    problems.append(Problem(label, line, header[bad + 1], f"not a number: {row[bad + 1]!r}"))
                    continue
                bad = np.flatnonzero(~np.isfinite(values) | (values < 0) | (values > MAX_MAGNITUDE))
                if bad.size:
                    j = int(bad[0])
                    bound = "at most 1e12 (the scenario format's bound)" if values[j] > MAX_MAGNITUDE else ">= 0"
                    problems.append(Problem(label, line, header[j + 1],
                                            f"must be a finite number {bound} (kWh); got {row[j + 1]}"))
                    continue
                if seen[k]:
                    problems.append(Problem(label, line, "timestamp", f"{row[0]} appears twice"))
                out[k] = values
                seen[k] = True
            if len(problems) >= 20:
                break
    if not problems and not seen.all():
        missing = np.flatnonzero(~seen)
        t0 = first + step * int(missing[0])
        problems.append(Problem(label, None, "", f"{missing.size} steps of the horizon have no row, "
                                                 f"the first at {str(t0).replace('T', ' ')}"))
    if problems:
        raise InputError(problems)
    return out


def is_number(text: str) -> bool:
    """Whether a CSV cell reads as a number."""
    try:
        float(text)
    except ValueError:
        return False
    return True
