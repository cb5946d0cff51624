"""Cost of supply: energy cost per step, flat or from a CSV series."""

from __future__ import annotations

import csv

import numpy as np

from ..calendar import Calendar
from ..errors import InputError, Problem
from ..scenario.schema import CsvSeries, Grid


def energy_cost_series(grid: Grid, cal: Calendar) -> np.ndarray:
    """Energy cost in each step of the horizon. [currency/kWh], shape (n_steps,)"""
    spec = grid.energy_cost_per_kwh
    if not isinstance(spec, CsvSeries):
        return np.full(cal.n_steps, float(spec))
    return read_series(spec, cal)


def read_series(spec: CsvSeries, cal: Calendar) -> np.ndarray:
    """A per-step series from a CSV file, shape (n_steps,).

    The file has a header row and one value per step, in step order from the first step of
    the horizon; ``column`` picks the column by name or index. Extra rows are ignored.
    """
    label = str(spec.csv)
    with spec.csv.open(newline="", encoding="utf-8-sig") as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    if not rows:
        raise InputError(Problem(label, None, "", "empty file"))
    header = rows[0]
    if isinstance(spec.column, str):
        if spec.column not in header:
            raise InputError(Problem(label, 1, "", f"no column {spec.column!r} (columns: {', '.join(header)})"))
        j = header.index(spec.column)
    else:
        j = spec.column
        if not -len(header) <= j < len(header):
            raise InputError(Problem(label, 1, "", f"column index {j} out of range ({len(header)} columns)"))
    body = rows[1:1 + cal.n_steps]
    if len(body) < cal.n_steps:
        raise InputError(Problem(label, None, "", f"{len(body)} rows of values; the horizon has {cal.n_steps} steps"))
    out = np.empty(cal.n_steps)
    for k, row in enumerate(body):
        try:
            out[k] = float(row[j])
        except (ValueError, IndexError):
            raise InputError(Problem(label, k + 2, header[j], f"not a number: {row[j] if j < len(row) else ''!r}")) from None
        if not np.isfinite(out[k]):
            raise InputError(Problem(label, k + 2, header[j], f"not finite: {row[j]}"))
    return out
