"""A topology file: which of a segment's customers sit on which transformer and bus.

A CSV file (``network.topology``, docs/network.md section 1) with a header and one row per
run of consecutive customers of the segment, in segment order:

* ``customers``: how many customers the run has (a whole number >= 0);
* ``transformer``: its transformer (0, 1, ...: every index up to the largest used, each
  with at least one customer);
* with a power flow, exactly one of ``bus`` (the bus of the power-flow network the run's
  customers are connected at: their load is the network's first load at that bus) and
  ``load`` (the load's position in the network's load order). Without a power flow the
  column may be there (it is checked to be a whole number >= 0) and is not used.

Other columns (a name of the group, say) are ignored. The runs must add up to the
segment's customers. Runs of no customers are dropped and consecutive runs on the same
load point joined, so a file that lists the contiguous cut of ``customers_per_transformer``
gives the same pieces, and the same bits, as that key. Every problem is an
:class:`~sim.errors.InputError` naming the file, its line and the column, found before
any customer is simulated (:func:`check_topology`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import InputError, Problem
from ..words import counted
from .grids import grid_loads, load_points
from .placement import Placement

__all__ = ["Topology", "check_topology", "placement_of", "read_topology"]


@dataclass(frozen=True)
class Topology:
    """A topology file read and checked.

    Attributes
    ----------
    starts : tuple of int
        Each run's first customer (segment order), then the customers of all runs.
    groups : tuple of int
        Each run's load point ``t x L + l`` (transformer ``t``, load ``l`` of ``L``).
    loads : int
        Load points per transformer ``L`` (the network's loads; 1 without a power flow).
    last_line : int
        The file's last line with a run (1: none), for messages about the whole file.
    """

    starts: tuple[int, ...]
    groups: tuple[int, ...]
    loads: int
    last_line: int

    @property
    def customers(self) -> int:
        return self.starts[-1]


def _int(text: str, path: str, line: int, column: str) -> int:
    try:
        value = int(text.strip())
    except (ValueError, AttributeError):
        raise InputError(Problem(path, line, column, f"{text!r} is not a whole number")) from None
    if value < 0:
        raise InputError(Problem(path, line, column, f"{value} is negative"))
    return value


def _rows(path: str) -> list[tuple[int, list[str]]]:
    """The file's rows with their line numbers (UTF-8, a byte-order mark allowed)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise InputError(Problem(path, None, "network.topology", f"cannot read the file: {e}")) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise InputError(Problem(path, line, "network.topology", f"not UTF-8 text: {e.reason}")) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    try:
        for row in reader:
            rows.append((reader.line_num, row))
    except csv.Error as e:
        raise InputError(Problem(path, reader.line_num, "network.topology", f"not CSV: {e}")) from None
    return rows


def _load_column(header: list[str], path: str, power_flow: bool) -> str | None:
    kinds = [c for c in ("bus", "load") if c in header]
    if power_flow and len(kinds) != 1:
        raise InputError(Problem(path, 1, "bus", "with a power flow give exactly one of the columns `bus` and "
                                                 f"`load` (the header: {', '.join(header)})"))
    return kinds[0] if kinds else None


def _point(cell: dict, kind: str | None, loads: list[int] | None, where: tuple[str, int]) -> int:
    """The load (position in the network's load order) a row names; 0 without a power flow."""
    if kind is None:
        return 0
    value = _int(cell[kind], *where, kind)
    if loads is None:
        return 0
    if kind == "load" and value >= len(loads):
        raise InputError(Problem(*where, "load", f"load {value}: the network has {counted(len(loads), 'load')} "
                                                 f"(0 to {len(loads) - 1})"))
    if kind == "bus" and value not in loads:
        shown = sorted(set(loads))
        more = ", ..." if len(shown) > 20 else ""
        raise InputError(Problem(*where, "bus", f"bus {value} has no load in the network (buses with a load: "
                                                f"{', '.join(str(b) for b in shown[:20])}{more})"))
    return value if kind == "load" else loads.index(value)


def _check_transformers(path: str, sizes: list, transformers: list, lines: list) -> None:
    """Every transformer from 0 to the largest named has customers."""
    used = np.bincount(np.asarray(transformers, dtype=np.int64), weights=np.asarray(sizes, dtype=np.float64),
                       minlength=1) if transformers else np.zeros(1)
    empty = np.flatnonzero(used == 0)
    if len(empty):
        t = int(empty[0])
        above = next((ln for ln, x in zip(lines, transformers) if x > t), None)
        named = f"; line {above} names transformer {transformers[lines.index(above)]}" if above else ""
        raise InputError(Problem(path, above or (lines[-1] if lines else 1), "transformer",
                                 f"transformer {t} has no customers (transformers are numbered 0, 1, ... without "
                                 f"gaps, each with customers{named})"))


def parse_topology(path: str, loads: list[int] | None) -> Topology:
    """Read a topology file. ``loads``: the bus of each load of the power-flow network, in
    load order, or None without a power flow. InputError naming file, line and column."""
    rows = _rows(path)
    header = [c.strip().lower() for c in rows[0][1]] if rows else []
    for col in ("customers", "transformer"):
        if col not in header:
            raise InputError(Problem(path, 1, col, f"missing column (the header: {', '.join(header) or 'none'})"))
    kind = _load_column(header, path, loads is not None)
    L = 1 if loads is None else len(loads)
    sizes, transformers, groups, lines = [], [], [], []
    for line, row in rows[1:]:
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise InputError(Problem(path, line, header[min(len(row), len(header) - 1)],
                                     f"{len(row)} fields; the header has {len(header)}"))
        cell = dict(zip(header, row))
        size = _int(cell["customers"], path, line, "customers")
        t = _int(cell["transformer"], path, line, "transformer")
        groups.append(t * L + _point(cell, kind, loads, (path, line)))
        sizes.append(size)
        transformers.append(t)
        lines.append(line)
    _check_transformers(path, sizes, transformers, lines)
    starts, joined = [0], []
    for size, g in zip(sizes, groups):
        if size == 0:
            continue
        if joined and joined[-1] == g:  # consecutive runs on one load point: one run
            starts[-1] += size
        else:
            joined.append(g)
            starts.append(starts[-1] + size)
    return Topology(tuple(starts), tuple(joined), L, lines[-1] if lines else 1)


@lru_cache(maxsize=8)
def _cached(path: str, stamp: tuple, grid: str | None, file: str | None, power_flow: bool) -> Topology:
    return parse_topology(path, grid_loads(grid, file) if power_flow else None)


def read_topology(network) -> Topology:
    """A scenario ``network`` section's topology file, read and checked (kept while the
    file is unchanged)."""
    path = str(Path(network.topology))
    try:
        st = Path(path).stat()
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError as e:
        raise InputError(Problem(path, None, "network.topology", f"cannot read the file: {e}")) from None
    pf = network.power_flow
    if pf is None:
        return _cached(path, stamp, None, None, False)
    return _cached(path, stamp, pf.grid, None if pf.file is None else str(Path(pf.file)), True)


def placement_of(network, n: int) -> Placement:
    """The placement of ``n`` customers a scenario's ``network`` section gives: its
    topology file's runs (``n`` at most their customers: a shard may hold the first rows
    only), or the contiguous cut of ``customers_per_transformer``."""
    if network.topology is None:
        return Placement.of(network, n, load_points(network))
    top = read_topology(network)
    if n > top.customers:
        raise InputError(Problem(str(network.topology), top.last_line, "customers",
                                 f"the runs add up to {counted(top.customers, 'customer')}; segment "
                                 f"{network.segment!r} has at least {n}"))
    return Placement(n, top.customers, network.transformers_per_feeder, (0,) * top.loads, (top.starts, top.groups))


def check_topology(scenario) -> None:
    """Before any work: the topology file reads, names buses or loads of the network,
    numbers its transformers without gaps, and places exactly the segment's customers."""
    spec = scenario.network
    if spec is None or spec.topology is None:
        return
    top = read_topology(spec)
    seg = next(s for s in scenario.populations if s.name == spec.segment)
    count = seg.count
    if count is None:  # a measured profile without a count: one customer per column
        from ..calendar import Calendar
        from ..population.segments import segment_size

        count = segment_size(seg, Calendar.from_scenario(scenario))
    if top.customers != count:
        raise InputError(Problem(str(spec.topology), top.last_line, "customers",
                                 f"the runs add up to {counted(top.customers, 'customer')}; segment "
                                 f"{spec.segment!r} has {count}"))
