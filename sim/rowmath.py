"""Per-customer sums of products whose result for a row does not depend on the other rows.

numpy's ``@`` on float64 arrays calls BLAS, whose kernels are chosen by the matrix's shape
and a row's place in it (full tiles against edge tiles): the same customer's numbers can
then differ in the last bit with the neighbours it is processed with. A run must give the
same bits however its customers are grouped into chunks or spread over processes, so
per-customer products go through these helpers instead (``np.einsum`` without
``optimize`` loops over each output element alike; a reduction along a row's own
contiguous values sums it alike whatever the number of rows).
"""

from __future__ import annotations

import numpy as np

from ._jit import jit

__all__ = ["block_column_sums", "block_sum", "row_dot", "row_matmul", "numpy_sum"]


def row_dot(a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``a @ v`` for a (n, k) array and a (k,) vector, row by row: shape (n,)."""
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
