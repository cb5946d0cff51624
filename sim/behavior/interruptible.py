"""Interruptible customers shed load above their firm service level when an event is called.

What the customer gives up is valued at the baseline tariff's marginal price of each
curtailed step (:func:`curtailment_utility`), in both tariff roles: a customer that chose to
draw a kWh at price ``p`` values it at ``p`` or more, so ``p`` times the curtailed energy is
a lower bound on the utility lost (first order in the curtailed energy; the inframarginal
value of a large curtailment is higher). The baseline price is the one at which the
customer's uncurtailed consumption was chosen, and one price for both roles makes the same
curtailment the same loss whatever the tariff. The programme's credit and penalties are
charges of the bill.
"""

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


def curtailment_utility(before_kw: np.ndarray, after_kw: np.ndarray, event: np.ndarray, price: np.ndarray,
                        step_hours: float) -> np.ndarray:
    """Change of each customer's utility of consumption from curtailment: the curtailed
    energy valued at the marginal price of its step, ``-sum_t p[t] (L[t] - L'[t]) h``
    (module docstring).

    Parameters
    ----------
    before_kw, after_kw : ndarray, shape (n, steps)
        Load before and after curtailment. [kW]
    event : ndarray of bool, shape (steps,)
    price : ndarray, shape (steps,) or (n, steps)
        The baseline tariff's marginal price of each step. [currency/kWh]
    step_hours : float  [h]

    Returns
    -------
    ndarray, shape (n,)  [currency], <= 0 where prices are >= 0
    """
    p = np.asarray(price, dtype=float)
    p_ev = p[event] if p.ndim == 1 else p[:, event]
    lost = before_kw[:, event] - after_kw[:, event]
    return -(lost * p_ev).sum(axis=1) * step_hours
