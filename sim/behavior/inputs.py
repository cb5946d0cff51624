"""The array inputs of a behaviour model's response, checked and shaped alike in every model.

A model takes a day of customers' load as an (n, spd) array, per-customer parameters as
scalars or (n,) arrays, and the day's prices as one shared (spd,) vector or an (n, spd)
array. These helpers turn what a caller passes into those float64 shapes, or raise a
``ValueError`` naming the argument.
"""

from __future__ import annotations

import numpy as np

__all__ = ["day_block", "day_prices", "per_customer"]


def day_block(load_kw, step_hours) -> tuple[np.ndarray, int, int]:
    """A day's (n, spd) load as float64 and its shape; step_hours checked."""
    load = np.asarray(load_kw, dtype=np.float64)
    if load.ndim != 2:
        raise ValueError(f"`load_kw` must be of shape (n, spd); got {load.shape}")
    if not np.isfinite(step_hours) or step_hours <= 0:
        raise ValueError(f"`step_hours` must be > 0; got {step_hours!r}")
    return load, load.shape[0], load.shape[1]


def per_customer(values, n: int, name: str) -> np.ndarray:
    """A per-customer parameter as a float64 array of shape (n,); a scalar is broadcast."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"`{name}` must be of shape ({n},) (one value per customer); got {arr.shape}")
    return arr


def day_prices(price, n: int, spd: int, name: str) -> np.ndarray:
    """Prices of the day as float64 of shape (spd,) when shared, (n, spd) when per customer.

    A 2-D array whose rows are one row broadcast (stride 0, e.g. from ``np.broadcast_to``)
    is treated as shared: one sort serves the whole block.
    """
    arr = np.asarray(price, dtype=np.float64)
    if arr.ndim == 2 and arr.shape == (n, spd) and (arr.strides[0] == 0 or n == 1):
        arr = arr[0]
    if arr.shape != (spd,) and arr.shape != (n, spd):
        raise ValueError(f"`{name}` must be of shape ({spd},) or ({n}, {spd}); got {arr.shape}")
    return arr
