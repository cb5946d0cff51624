"""Interruptible customers shed load above their firm service level when an event is called."""

from __future__ import annotations

import numpy as np


def curtail(load_kw: np.ndarray, event: np.ndarray, firm_kw: np.ndarray, compliance: np.ndarray) -> np.ndarray:
    """Load after curtailment in event steps.

    In each event step a customer sheds the share ``compliance`` of its load above its firm
    service level: ``L' = L - c * max(L - F, 0)``; other steps are unchanged. Compliance
    below 1 leaves part of the interruptible load on, which the contract's penalty bills.

    Parameters
    ----------
    load_kw : ndarray, shape (n, steps)  [kW]
    event : ndarray of bool, shape (steps,)
    firm_kw : ndarray, shape (n,)  [kW]
    compliance : ndarray, shape (n,), in [0, 1]

    Returns
    -------
    ndarray, shape (n, steps)  [kW]
    """
    out = load_kw.copy()
    above = np.maximum(load_kw[:, event] - firm_kw[:, None], 0.0)
    out[:, event] -= compliance[:, None] * above
    return out
