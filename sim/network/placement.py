"""Where a segment's customers sit on the network: transformers, feeders and load points.

The placement is a fixed cut of the segment's customers, in segment order, into
contiguous runs: transformer ``t`` takes customers ``[t C, (t + 1) C)`` (``C`` customers per
transformer, the last one the remainder), feeder ``f`` takes transformers
``[f T, (f + 1) T)``, and within a transformer its customers are split over the load points
of its low-voltage network (one point without a power flow). A topology file
(:mod:`sim.network.topology`) lists the runs and their load points instead. Customers are independent
draws, so a contiguous run is a random sample of the segment, drawn from the seed with the
customers themselves.

A *group* is one load point of one transformer (``group = t x L + l``). The engine sums the
customers' loads over each *piece*: the rows of one stream block that belong to one group,
in row order (:func:`pieces`). A piece never depends on how blocks are chunked in memory or
spread over processes, and the groups' series are the pieces added in block order
(:func:`sim.network.loads.group_series`): the same bits whatever the workers.

This module imports numpy and :mod:`sim.rowmath` only (the engine uses it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rowmath import block_column_sums

__all__ = ["PieceSums", "Placement", "group_series", "pieces", "sum_groups", "unit_series"]


@dataclass(frozen=True)
class Placement:
    """A segment's customers on transformers, feeders and load points.

    Attributes
    ----------
    n : int
        Customers of the segment.
    per_transformer : int
        Customers on each transformer (the last one: the remainder); with a topology, the
        customers of all its runs (not used).
    per_feeder : int
        Transformers on each feeder (the last feeder: the remainder).
    per_load : tuple of int
        Customers on each load point of a full transformer (adds up to ``per_transformer``);
        with a topology, one 0 per load point of the network.
    runs : (starts, groups), or None
        A topology file's placement (:mod:`sim.network.topology`): the first customer of
        each non-empty run of consecutive customers, then the customers of all runs (shape
        (runs + 1,)), and each run's group ``t x L + l`` (shape (runs,)); None: the
        contiguous cut above.
    """

    n: int
    per_transformer: int
    per_feeder: int
    per_load: tuple[int, ...]
    runs: tuple | None = None

    @classmethod
    def of(cls, network, n: int, loads: int = 1) -> "Placement":
        """The placement a scenario's ``network`` section gives ``n`` customers, on ``loads``
        load points per transformer (spread evenly unless the section lists them)."""
        c = network.customers_per_transformer
        pf = network.power_flow
        if pf is not None and pf.customers_per_load is not None:
            per_load = tuple(pf.customers_per_load)
        else:
            edges = (np.arange(loads + 1) * c) // loads
            per_load = tuple(int(x) for x in np.diff(edges))
        return cls(n, c, network.transformers_per_feeder, per_load)

    @property
    def loads(self) -> int:
        return len(self.per_load)

    @property
    def transformers(self) -> int:
        if self.runs is not None:
            return int(max(self.runs[1], default=-1)) // self.loads + 1
        return -(-self.n // self.per_transformer)

    @property
    def feeders(self) -> int:
        return -(-self.transformers // self.per_feeder)

    @property
    def groups(self) -> int:
        return self.transformers * self.loads

    def group_starts(self) -> np.ndarray:
        """First customer of every group (segment order), then ``n``: shape (groups + 1,).
        Groups of a last, partly filled transformer may be empty (equal bounds)."""
        offsets = np.concatenate([[0], np.cumsum(self.per_load)])[:-1]
        starts = (np.arange(self.transformers)[:, None] * self.per_transformer + offsets[None, :]).ravel()
        return np.minimum(np.append(starts, self.n), self.n).astype(np.int64)

    def transformer_customers(self) -> np.ndarray:
        """Customers on each transformer, shape (transformers,)."""
        if self.runs is not None:
            starts, group = self.run_table()
            return np.bincount(group // self.loads, weights=np.diff(starts),
                               minlength=self.transformers).astype(np.int64)
        starts = np.append(np.arange(self.transformers) * self.per_transformer, self.n)
        return np.diff(starts)

    def run_table(self) -> tuple[np.ndarray, np.ndarray]:
        """The runs of consecutive customers on one group: their first customers, then
        ``n`` (runs + 1,), and their groups (runs,). Without a topology, one run per group
        (:meth:`group_starts`)."""
        if self.runs is None:
            return self.group_starts(), np.arange(self.groups, dtype=np.int64)
        return np.asarray(self.runs[0], dtype=np.int64), np.asarray(self.runs[1], dtype=np.int64)

    def transformer_of(self, rows: np.ndarray) -> np.ndarray:
        """The transformer of each customer row (segment order)."""
        starts, group = self.run_table()
        return group[np.searchsorted(starts[:-1], rows, side="right") - 1] // self.loads

    def feeder_transformers(self) -> np.ndarray:
        """Each transformer's feeder, shape (transformers,)."""
        return np.arange(self.transformers) // self.per_feeder


def pieces(starts: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """The pieces of the customer rows ``[lo, hi)`` (segment order; one stream block or a
    run of whole blocks): each non-empty intersection of a group (or a run of a topology,
    :meth:`Placement.run_table`, whose starts ``starts`` are) with the rows.

    Returns ``(bounds, group)``: the pieces' first rows relative to ``lo``, then ``hi - lo``
    (shape (pieces + 1,)), and each piece's group (run) (shape (pieces,))."""
    inner = starts[(starts > lo) & (starts < hi)]
    bounds = np.unique(np.concatenate([[lo], inner, [hi]]))
    # the group of a piece is the last group starting at or before its first row (empty groups skipped)
    group = np.searchsorted(starts, bounds[:-1], side="right") - 1
    return (bounds - lo).astype(np.int64), group.astype(np.int64)


def group_series(network: dict, groups: int) -> np.ndarray:
    """Each load point's load, shape (roles, groups, steps) [kW]: the pieces of a segment
    outcome's ``network`` (``kw`` (roles, pieces, steps), ``group`` (pieces,)) added in
    block order (an empty load point: zeros)."""
    kw, group = network["kw"], network["group"]
    out = np.zeros((kw.shape[0], groups, kw.shape[2]))
    for p, g in enumerate(group):
        out[:, g] += kw[:, p]
    return out


def sum_groups(series: np.ndarray, size: int) -> np.ndarray:
    """Consecutive runs of ``size`` rows of ``series`` (roles, rows, steps) added in order
    (the last run may be shorter): shape (roles, ceil(rows / size), steps)."""
    rows = series.shape[1]
    out = np.zeros((series.shape[0], -(-rows // size), series.shape[2]))
    for i in range(rows):
        out[:, i // size] += series[:, i]
    return out


def unit_series(network: dict, placement: Placement) -> tuple[np.ndarray, np.ndarray]:
    """The transformers' and feeders' load from the pieces (:func:`group_series`): load
    points added in load order, transformers in transformer order; shapes (roles,
    transformers, steps) and (roles, feeders, steps) [kW]."""
    t_kw = sum_groups(group_series(network, placement.groups), placement.loads)
    return t_kw, sum_groups(t_kw, placement.per_feeder)


class PieceSums:
    """A shard's running sums of its customers' load over each piece of the placement (the
    engine's side of the network: rows of one stream block on one load point), over the
    horizon, for both roles.

    Parameters
    ----------
    placement : Placement
        The placement (``n`` at least the last customer row held).
    row0 : int
        Segment row of the shard's first customer.
    chunks : list of Chunk
        The shard's chunks of the segment (:func:`sim.engine.step.chunks`), in order.
    n_steps, roles : int
    """

    def __init__(self, placement: Placement, row0: int, chunks: list, n_steps: int, roles: int):
        starts, run_group = placement.run_table()
        self.cuts: list[tuple[np.ndarray, int, int]] = []  # per chunk: piece bounds in the chunk, pieces [p0, p1)
        groups = []
        for ch in chunks:
            bounds, p0 = [], sum(len(g) for g in groups)
            for k in range(len(ch.bounds) - 1):  # each stream block of the chunk: its own pieces
                lo = row0 + ch.rows.start + int(ch.bounds[k])
                b, g = pieces(starts, lo, row0 + ch.rows.start + int(ch.bounds[k + 1]))
                bounds.append(b[:-1] + ch.bounds[k])
                groups.append(run_group[g])
            self.cuts.append((np.append(np.concatenate(bounds), ch.bounds[-1]).astype(np.int64), p0,
                              p0 + sum(len(x) for x in bounds)))
        self.group = np.concatenate(groups) if groups else np.zeros(0, dtype=np.int64)
        self.kw = np.zeros((roles, len(self.group), n_steps))
        self.placement, self.row0, self.chunks = placement, row0, chunks
        self._transformers: dict[int, np.ndarray] = {}

    def add(self, k: int, steps: slice, loads: list) -> None:
        """Chunk ``k``'s day: ``loads`` per role, (main-meter load, storage-meter load or
        None), each (rows, spd) [kW], summed over each piece in row order."""
        bounds, p0, p1 = self.cuts[k]
        for r, (load, storage) in enumerate(loads):
            self.kw[r, p0:p1, steps] = block_column_sums(load, storage, bounds)

    def day_sums(self, k: int, loads: list, out: np.ndarray) -> None:
        """As :meth:`add`, into ``out`` (roles, pieces held, spd) instead of the horizon's
        sums (a trial pass: nothing is kept)."""
        bounds, p0, p1 = self.cuts[k]
        for r, (load, storage) in enumerate(loads):
            out[r, p0:p1] = block_column_sums(load, storage, bounds)

    def transformers_of_chunk(self, k: int) -> np.ndarray:
        """The transformer of each customer of chunk ``k``, shape (rows,) (kept once found)."""
        found = self._transformers.get(k)
        if found is None:
            ch = self.chunks[k]
            found = self._transformers[k] = self.placement.transformer_of(
                self.row0 + np.arange(ch.rows.start, ch.rows.stop))
        return found
