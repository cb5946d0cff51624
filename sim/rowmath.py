"""Row arithmetic: per-customer sums whose result for a row does not depend on the other
rows, block sums in block order, and groups of equal price rows.

**Same bits whatever the neighbours.** numpy's ``@`` on float64 arrays calls BLAS, whose
kernels are chosen by the matrix's shape and a row's place in it (full tiles against edge
tiles): the same customer's numbers can then differ in the last bit with the neighbours it
is processed with. A run must give the same bits however its customers are grouped into
chunks or spread over processes, so per-customer products go through these helpers instead
(``np.einsum`` without ``optimize`` loops over each output element alike; a reduction along
a row's own contiguous values sums it alike whatever the number of rows).

**Groups of equal rows: find the rows, run each once.** Tiered tariffs and menus give each customer its own marginal prices, but a block of
customers shares only a few distinct price rows (one per tier and menu option). A response
model that sorts prices per customer does the same work once per distinct row instead (the
price-only work of its compiled kernel: sort orders, levels, logarithms), and each customer
reads its group's row.

Where the groups are known from how the prices were made (each customer's tier),
:meth:`RowGroups.from_codes` labels them directly. Otherwise :func:`group_rows` finds them
cheaply and exactly: a checksum of each row (a product with a fixed vector, row by row:
:func:`row_dot`, so equal rows get equal checksums) labels the rows, and every row is then
checked bit for bit against its group's first row. Rows whose checksums collide but differ,
rows with non-finite prices, and blocks with more than ``max_groups`` distinct rows give
``None``: the caller keeps its per-customer path. A model run on groups must give each
customer exactly the result its per-customer path gives (every model here computes a
customer's result from its own row only; ``tests/test_behavior_rows.py`` checks it bit for
bit). Billing labels the groups (it knows the tiers) and behaviour uses them: both read
them here, so the tariff layer does not depend on behaviour.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit

__all__ = ["MAX_GROUPS", "RowGroups", "add_rows", "block_column_sums", "block_sum", "distinct_by_row", "dot",
           "group_rows", "numpy_sum", "row_dot", "row_matmul"]


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """``a @ b`` for two vectors, without BLAS: OpenBLAS splits a dot product of more than
    10,000 values over its threads and adds their partial sums, so ``@`` gives last bits
    that depend on the number of threads (a Dask worker runs one, a process on its own as
    many as the machine has cores; seen: a year at 15-minute steps gave other energy costs
    with ``OPENBLAS_NUM_THREADS=1`` than with 2). ``np.einsum`` without ``optimize`` adds in
    one thread, alike everywhere."""
    return float(np.einsum("i,i->", np.asarray(a, dtype=float), np.asarray(b, dtype=float)))


def row_dot(a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``a @ v`` for a (n, k) array and a (k,) vector, row by row: shape (n,) (without BLAS,
    whose matrix-vector product also splits over threads: see :func:`dot`)."""
    return np.einsum("ij,j->i", a, v)


def row_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for a (n, k) and a (k, m) array, row by row: shape (n, m)."""
    return np.einsum("ij,jk->ik", a, b)


def block_sum(by_block: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum of per-block arrays (leading axis) added one block after another, in block
    order: the same bits whichever process summed each block's customers. Zeros of
    ``shape`` when there is no block."""
    out = np.zeros(shape)
    for x in by_block:
        out += x
    return out


@jit
def numpy_sum(a: np.ndarray) -> float:
    """``np.sum(a)`` of a 1-d float64 array, in numpy's order of additions (the same bits).

    numpy sums a contiguous run pairwise: under 8 values one after another from 0.0; up to
    128 in 8 interleaved partial sums, combined as ``((r0 + r1) + (r2 + r3)) + ((r4 + r5) +
    (r6 + r7))``, then the remainder one after another; longer runs split in two halves (the
    first a multiple of 8 long) summed alike and added. For compiled kernels whose sums must
    match numpy's sums along contiguous rows (``a.sum(axis=1)`` of a C-ordered ``a``).
    """
    n = a.shape[0]
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[i]
        return res
    if n <= 128:
        r0, r1, r2, r3, r4, r5, r6, r7 = a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]
        i = 8
        while i < n - n % 8:
            r0 += a[i]
            r1 += a[i + 1]
            r2 += a[i + 2]
            r3 += a[i + 3]
            r4 += a[i + 4]
            r5 += a[i + 5]
            r6 += a[i + 6]
            r7 += a[i + 7]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += a[i]
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return numpy_sum(a[:n2]) + numpy_sum(a[n2:])


def block_column_sums(load: np.ndarray, extra: np.ndarray | None, bounds: np.ndarray) -> np.ndarray:
    """Column sums of ``load (+ extra)`` over each run of rows ``bounds[k]:bounds[k + 1]``:
    shape (len(bounds) - 1, steps).

    Rows are added one after another in row order, each element as ``load + extra``: the
    same additions as ``(load + extra)[a:b].sum(axis=0)`` (numpy reduces a C-contiguous
    array's leading axis row after row), in one pass and without the sum array.
    """
    out = np.empty((len(bounds) - 1, load.shape[1]))
    _block_column_sums(np.ascontiguousarray(load), None if extra is None else np.ascontiguousarray(extra),
                       np.ascontiguousarray(bounds, dtype=np.intp), out)
    return out


@jit
def _block_column_sums(load, extra, bounds, out):
    spd = load.shape[1]
    for k in range(len(bounds) - 1):
        for t in range(spd):
            out[k, t] = 0.0
        for i in range(bounds[k], bounds[k + 1]):
            if extra is None:
                for t in range(spd):
                    out[k, t] += load[i, t]
            else:
                for t in range(spd):
                    out[k, t] += load[i, t] + extra[i, t]


def add_rows(values: np.ndarray, step_hours: float, *, out: np.ndarray | None = None, sub: np.ndarray | None = None,
             kwh: np.ndarray | None = None, rows: np.ndarray | None = None, block_of: np.ndarray | None = None,
             block_kw: np.ndarray | None = None) -> None:
    """Place some customers' added load ``values`` (k, spd) [kW] and keep its sums, in one
    pass (a model's load added to a block, e.g. EV charging or electric heat).

    With ``out``: ``out[sub] += values``. With ``kwh``: ``kwh[rows] += values.sum(axis=1) x
    h`` (numpy's order of additions, :func:`numpy_sum`). With ``block_kw`` (blocks, spd), e.g.
    the day's columns of a per-block series: each stream block's sum ``block_kw[b] +=
    values[run].sum(axis=0)``, the rows of a run of equal ``block_of[rows]`` (non-decreasing:
    ``rows`` ascending) added row after row from 0.0 (as :func:`block_column_sums`). The same
    bits as those numpy statements, without their gathered copies and temporaries; ``rows``
    must be distinct.
    """
    v = np.ascontiguousarray(values, dtype=np.float64)
    none_i, none_f = np.zeros(0, dtype=np.int64), np.zeros(0)
    _add_rows(v, float(step_hours), out is not None, np.zeros((0, v.shape[1])) if out is None else out,
              none_i if sub is None else np.asarray(sub, dtype=np.int64),
              kwh is not None, none_f if kwh is None else kwh,
              none_i if rows is None else np.asarray(rows, dtype=np.int64),
              block_kw is not None, none_i if block_of is None else block_of,
              np.zeros((0, 0)) if block_kw is None else block_kw)


@jit
def _add_rows(v, h, place, out, sub, keep_kwh, kwh, rows, keep_blocks, block_of, block_kw):
    k, spd = v.shape
    acc = np.zeros(spd)
    for i in range(k):
        if place:
            r = sub[i]
            for t in range(spd):
                out[r, t] = out[r, t] + v[i, t]
        if keep_kwh:
            kwh[rows[i]] = kwh[rows[i]] + numpy_sum(v[i]) * h
        if keep_blocks:
            b = block_of[rows[i]]
            for t in range(spd):
                acc[t] += v[i, t]
            if i == k - 1 or block_of[rows[i + 1]] != b:
                for t in range(spd):
                    block_kw[b, t] = block_kw[b, t] + acc[t]
                    acc[t] = 0.0


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


@jit
def distinct_by_row(rows):
    """Each row's distinct values in order of first appearance, how many there are, and
    each step's index among them: shapes (G, steps), (G,), (G, steps)."""
    g_count, spd = rows.shape
    values = np.empty((g_count, spd))
    counts = np.zeros(g_count, dtype=np.intp)
    codes = np.empty((g_count, spd), dtype=np.intp)
    for g in range(g_count):
        k = 0
        for t in range(spd):
            x = rows[g, t]
            j = 0
            while j < k and values[g, j] != x:
                j += 1
            if j == k:
                values[g, k] = x
                k += 1
            codes[g, t] = j
        counts[g] = k
    return values, counts, codes



class RowGroups:
    """Rows of a block grouped by identical prices.

    Attributes
    ----------
    inverse : ndarray of intp, shape (n,)
        Group of each row.
    first : ndarray of intp, shape (G,)
        A row of each group (its first): ``price[first[g]]`` is the group's price row.
    """

    __slots__ = ("inverse", "first")

    def __init__(self, inverse: np.ndarray, first: np.ndarray):
        self.inverse = inverse
        self.first = first

    @classmethod
    def from_codes(cls, codes: np.ndarray) -> "RowGroups":
        """Groups of rows whose prices are known to be equal when their codes are (e.g. each
        customer's tier on one tariff): codes ``>= 0`` of shape (n,), n >= 1, labelled in
        order of first appearance."""
        inverse, first, g = _label(np.ascontiguousarray(codes, dtype=np.intp))
        return cls(inverse, first[:g])

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
        return RowGroups.from_codes(self.inverse[rows]) if len(rows) else RowGroups(self.inverse[rows], self.first[:0])


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


@jit
def _label(codes):
    """Group labels of ``codes`` in order of first appearance, the first row of each group,
    and the number of groups."""
    n = codes.shape[0]
    label_of = np.full(codes.max() + 1, -1, dtype=np.intp)
    inverse = np.empty(n, dtype=np.intp)
    first = np.empty(n, dtype=np.intp)
    g = 0
    for i in range(n):
        c = codes[i]
        if label_of[c] < 0:
            label_of[c] = g
            first[g] = i
            g += 1
        inverse[i] = label_of[c]
    return inverse, first, g
