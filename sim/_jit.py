"""Compiled per-customer kernels: :func:`jit` is ``numba.njit`` with the project's settings.

Why compiled loops in a design whose rule is "an agent is a row, numpy does the
arithmetic": a customer's day is 24-96 numbers, and the response chain (shift, storage,
billing) is a dozen passes over them. As numpy operations over a block of customers, each
pass reads and writes the whole block; a compiled loop over the customers does the whole
chain on one customer's day while it sits in the first-level cache. The loops are over
rows of the same arrays the numpy code used: an agent is still a row.

Settings, and why:

* ``fastmath=False`` (the default): floating-point operations keep their order, so a
  customer's result is the same bits in any block, chunk or process (the run's
  bit-identity; see :mod:`sim.rowmath`).
* ``cache=True``: compiled once per machine and code version, in ``__pycache__`` next to
  the source (or numba's user cache directory when that is read-only); later runs and
  Dask workers load it.
* ``nogil=True``: kernels release the GIL (threads in a Dask worker can overlap).
* ``error_model="numpy"``: division by zero gives inf/nan as in numpy, without a check
  per division.
"""

from __future__ import annotations

import numba

__all__ = ["jit"]


def jit(fn):
    """Compile ``fn`` with numba in nopython mode, with the settings above."""
    return numba.njit(cache=True, nogil=True, error_model="numpy")(fn)
