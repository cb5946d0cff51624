"""Per-customer prices that take few distinct rows: find the rows, run each once.

Tiered tariffs and menus give each customer its own marginal prices, but a block of
customers shares only a few distinct price rows (one per tier and menu option). A response
model that sorts prices per customer does the same work once per distinct row instead: the
customers of a row form a group, and the group runs on the model's shared-price path.

:func:`group_rows` finds the groups cheaply and exactly: a checksum of each row (a
product with a fixed vector, row by row: ``sim.rowmath.row_dot``, so equal rows get equal
checksums) labels the rows, and every row is then checked
bit for bit against its group's first row. Rows whose checksums collide but differ, rows
with non-finite prices, and blocks with more than ``max_groups`` distinct rows give
``None``: the caller keeps its per-customer path. A model run on a group must give each
customer exactly the result its per-customer path gives (every model here computes a
customer's result from its own row only, and its shared path repeats the per-customer
arithmetic element for element; ``tests/test_behavior_rows.py`` checks it bit for bit).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from ..rowmath import row_dot

__all__ = ["MAX_GROUPS", "RowGroups", "group_rows", "map_groups", "scratch"]

_local = threading.local()


def scratch(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A float64 work array of ``shape`` kept for reuse by this thread under ``name``.

    Its contents are undefined, and the next call with the same name (in this thread)
    reuses it: it must not escape the function that asked for it. A block of 16k customers
    x 24 steps is 3 MiB, above the allocator's mmap threshold: a fresh array of that size
    costs about 1.5 ms of page faults, more than most of the arithmetic done on it.
    """
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {}
    size = int(np.prod(shape))
    buf = buffers.get(name)
    if buf is None or buf.size < size:
        buf = buffers[name] = np.empty(size)
    return buf[:size].reshape(shape)

#: Most distinct rows worth grouping; more take the per-customer path.
MAX_GROUPS = 16

_weights_cache: dict[tuple[int, int], np.ndarray] = {}


def _weights(spd: int, k: int) -> np.ndarray:
    """A fixed vector of distinct, irregular weights for the checksum of array ``k``."""
    w = _weights_cache.get((spd, k))
    if w is None:
        w = 1.0 + np.sqrt(np.arange(spd) * (k + 2.0) + 2.0) / np.sqrt(spd + 7.0 * k + 3.0)
        _weights_cache[(spd, k)] = w
    return w


class RowGroups:
    """Rows of a block grouped by identical prices.

    Attributes
    ----------
    inverse : ndarray of intp, shape (n,)
        Group of each row.
    first : ndarray of intp, shape (G,)
        A row of each group (its first): ``price[first[g]]`` is the group's price row.
    order : ndarray of intp, shape (n,), or None
        The rows in group order (stable); None when there is one group.
    starts : ndarray of intp, shape (G + 1,)
        Group ``g`` is ``order[starts[g]:starts[g + 1]]``.
    """

    __slots__ = ("inverse", "first", "order", "starts")

    def __init__(self, inverse: np.ndarray, first: np.ndarray):
        self.inverse = inverse
        self.first = first
        n = inverse.shape[0]
        if len(first) == 1:
            self.order = None
            self.starts = np.array([0, n], dtype=np.intp)
        else:
            self.order = np.argsort(inverse, kind="stable")
            self.starts = np.zeros(len(first) + 1, dtype=np.intp)
            np.cumsum(np.bincount(inverse, minlength=len(first)), out=self.starts[1:])

    def __len__(self) -> int:
        return len(self.first)

    @property
    def n(self) -> int:
        return self.inverse.shape[0]

    def row(self, price: np.ndarray, g: int) -> np.ndarray:
        """Group ``g``'s price row of ``price`` (a shared (spd,) price is returned as is)."""
        return price if price.ndim == 1 else price[self.first[g]]

    def rows(self, price: np.ndarray) -> np.ndarray:
        """Every group's price row, shape (G, spd) (a shared price broadcast to G rows)."""
        if price.ndim == 1:
            return np.broadcast_to(price, (len(self.first), price.shape[0]))
        return price[self.first]

    def subset(self, rows: np.ndarray) -> RowGroups:
        """The groups of some rows of the block (``rows``: indices into it, ascending)."""
        inverse = self.inverse[rows]
        present, first = np.unique(inverse, return_index=True)
        relabel = np.zeros(len(self.first), dtype=np.intp)
        relabel[present] = np.arange(len(present))
        return RowGroups(relabel[inverse], first.astype(np.intp))


def group_rows(*prices, max_groups: int = MAX_GROUPS) -> RowGroups | None:
    """Group the rows of a block by the prices of all the per-customer arrays in ``prices``.

    Parameters
    ----------
    *prices : ndarray, shape (spd,) or (n, spd), float64
        Prices of the block; shared (1-D) ones take no part. At least one is (n, spd).
    max_groups : int
        Most groups returned.

    Returns
    -------
    RowGroups, or None
        None when the rows take more than ``max_groups`` distinct values, when a price is
        not finite, or when a checksum collision is found (rows with equal checksums that
        differ): the caller then uses its per-customer path. Two rows are in one group
        if and only if every array's rows are equal bit for bit.
    """
    per_row = [p for p in prices if p.ndim == 2]
    n = per_row[0].shape[0]
    if n == 0:
        return None
    key = None
    for k, p in enumerate(per_row):
        part = row_dot(p, _weights(p.shape[1], k))
        key = part if key is None else np.add(key, part, out=key)
    if not np.isfinite(key).all():
        return None
    # Label the rows by checksum (equal rows, equal checksums: row_dot sums every row alike).
    inverse = np.empty(n, dtype=np.intp)
    first = []
    left = np.ones(n, dtype=bool)
    i = 0
    while True:
        if len(first) == max_groups:  # more distinct checksums, so more distinct rows, than allowed
            return None
        hit = key == key[i]
        inverse[hit] = len(first)
        first.append(i)
        left &= ~hit
        i = int(left.argmax())
        if not left[i]:
            break
    first = np.array(first, dtype=np.intp)
    # Exact check: every row equals its label's first row, bit for bit.
    bits = [np.ascontiguousarray(p).view(np.uint64) for p in per_row]
    for b in bits:
        if not np.array_equal(np.take(b[first], inverse, axis=0), b):
            return None
    return RowGroups(inverse, first)


def map_groups(groups: RowGroups, fn: Callable, *per_customer: np.ndarray):
    """Run ``fn`` once per group and put its results back in the block's row order.

    ``fn(g, *parts)`` gets the group index and the group's rows of each per-customer array
    (leading axis n; C-contiguous; to be read only), and returns an array or a tuple of
    arrays whose leading axis is the group's size. They are copied out before the next
    group runs, so with more than one group they may be work arrays (:func:`scratch`).
    Returns the same structure for the whole block, fresh arrays.
    """
    if groups.order is None:
        return fn(0, *per_customer)
    order = groups.order
    taken = []
    for k, a in enumerate(per_customer):
        if a.ndim == 2 and a.dtype == np.float64:
            taken.append(np.take(a, order, axis=0, out=scratch(f"map_groups:{k}", a.shape), mode="clip"))
        else:
            taken.append(np.take(a, order, axis=0))
    outs = None
    single = False
    for g in range(len(groups)):
        a, b = groups.starts[g], groups.starts[g + 1]
        res = fn(g, *(t[a:b] for t in taken))
        if not isinstance(res, tuple):
            res, single = (res,), True
        if outs is None:
            outs = tuple(np.empty((groups.n,) + r.shape[1:], dtype=r.dtype) for r in res)
        rows = order[a:b]
        for out, r in zip(outs, res):
            out[rows] = r
    return outs[0] if single else outs
