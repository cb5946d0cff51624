"""One meter's load from a CSV file, for `drsim bill`.

Layout: one value per step of a calendar year, the net energy used in that step in kWh (for
hourly steps this equals the mean kW; below zero where the meter exports). A header row is optional; so is a leading timestamp
column (ISO 8601, step start), from which the year is taken. The number of rows fixes the
step: 365 or 366 days x 24, 48 or 96 steps.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

from ..errors import InputError, Problem
from ..population.measured import is_number
from ..scenario.schema import FIRST_DAY, LAST_DAY


def read_meter_csv(path: str | Path, year: int | None = None) -> tuple[np.ndarray, int, int]:
    """Read a meter's kWh per step.

    Parameters
    ----------
    path : str or Path
    year : int, optional
        Calendar year billed. Default: the year of the first timestamp; without
        timestamps, the latest past year whose length fits the number of rows.

    Returns
    -------
    kwh : ndarray, shape (n_steps,)  [kWh per step]
    year : int
    steps_per_day : int
    """
    label = str(path)
    years = f"{FIRST_DAY.year} to {LAST_DAY.year}"
    if year is not None and not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise InputError(Problem("--year", None, "", f"must be a year from {years}; got {year}"))
    rows, lines = _read_rows(path, label)
    if not rows:
        raise InputError(Problem(label, None, "", "no rows"))
    if not is_number(rows[0][-1]):
        rows, lines = rows[1:], lines[1:]  # a header row
    if not rows:
        raise InputError(Problem(label, None, "", "no data rows"))
    first_line = lines[0]
    has_time = len(rows[0]) >= 2 and not is_number(rows[0][0])
    problems, values = [], np.empty(len(rows))
    for k, row in enumerate(rows):
        cell = row[-1].strip()
        try:
            values[k] = float(cell)
        except ValueError:
            problems.append(Problem(label, lines[k], "", f"not a number: {cell!r}"))
            values[k] = 0.0
            if len(problems) >= 20:
                break
            continue
        if not np.isfinite(values[k]):
            problems.append(Problem(label, lines[k], "", f"must be a finite number (kWh; below 0: exported); got {cell}"))
    if problems:
        raise InputError(problems)
    if has_time and year is None:
        try:
            year = dt.datetime.fromisoformat(rows[0][0].strip()).year
        except ValueError:
            raise InputError(Problem(label, first_line, "timestamp", f"not an ISO timestamp: {rows[0][0]!r}")) from None
        if not FIRST_DAY.year <= year <= LAST_DAY.year:
            raise InputError(Problem(label, first_line, "timestamp", f"the year must be from {years}; got {year}"))
    n = len(values)
    fits = [(days, n // days) for days in (365, 366) if n % days == 0 and n // days in (24, 48, 96)]
    if not fits:
        raise InputError(Problem(label, None, "", f"{n} rows: expected one value per step of a year "
                                                  "(365 or 366 days x 24, 48 or 96 steps)"))
    if year is None:
        year = dt.date.today().year - 1
        while _days(year) not in [d for d, _ in fits]:
            year -= 1
    days = _days(year)
    match = [spd for d, spd in fits if d == days]
    if not match:
        raise InputError(Problem(label, None, "", f"{n} rows do not fit {year}, which has {days} days"))
    if has_time:
        _check_steps(label, rows, lines, year, 1440 // match[0])
    return values, year, match[0]


def _read_rows(path: str | Path, label: str) -> tuple[list[list[str]], list[int]]:
    """The non-blank rows of a CSV file and the file line each starts on."""
    rows, lines = [], []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            start = 1
            for row in reader:
                if row and any(c.strip() for c in row):
                    rows.append(row)
                    lines.append(start)
                start = reader.line_num + 1
    except OSError as e:
        raise InputError(Problem(label, None, "", f"cannot read file: {e.strerror}")) from None
    except UnicodeDecodeError:
        raise InputError(Problem(label, None, "", "not UTF-8 text")) from None
    except csv.Error as e:  # e.g. a field longer than the csv module's limit (131,072 characters)
        raise InputError(Problem(label, start, "", f"not a readable CSV row: {e}")) from None
    return rows, lines


def _check_steps(label: str, rows: list, lines: list[int], year: int, step_minutes: int) -> None:
    """Timestamps must run step by step from 1 January 00:00 of the year."""
    expected = dt.datetime(year, 1, 1)
    step = dt.timedelta(minutes=step_minutes)
    for k, row in enumerate(rows):
        try:
            stamp = dt.datetime.fromisoformat(row[0].strip())
        except ValueError:
            raise InputError(Problem(label, lines[k], "timestamp", f"not an ISO timestamp: {row[0]!r}")) from None
        if stamp.tzinfo is not None:
            raise InputError(Problem(label, lines[k], "timestamp", f"{row[0]} has a UTC offset; give local time"))
        if stamp != expected:
            raise InputError(Problem(label, lines[k], "timestamp",
                                     f"expected {expected:%Y-%m-%d %H:%M} (one row per step, in order); got {row[0]}"))
        expected += step


def _days(year: int) -> int:
    return (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
