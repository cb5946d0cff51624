"""Constant own-price elasticity: each step's load scales with the price ratio to a power.

    L_scenario[i, t] = L_baseline[i, t] * (p_scenario[t] / p_baseline[t]) ** e_i

with e_i <= 0 the customer's own-price elasticity. Each step is treated on its own (no
shifting between steps); with a flat price change this is the textbook constant-elasticity
demand curve. Published short-run electricity elasticities are around -0.1 (Labandeira,
Labeaga and Lopez-Otero 2017, Energy Policy 102: 549-568: short-run -0.126, long-run
-0.365).

The ratio is clipped to [RATIO_MIN, RATIO_MAX] before the power is taken: the constant-
elasticity form has no meaning at zero or negative prices (real-time prices can be), and
measured elasticities come from price changes well inside a factor of ten.
"""

from __future__ import annotations

import numpy as np

#: Price ratios outside [RATIO_MIN, RATIO_MAX] are clipped before the response is computed.
RATIO_MIN, RATIO_MAX = 0.1, 10.0


def price_ratio(price_baseline: np.ndarray, price_scenario: np.ndarray) -> np.ndarray:
    """Scenario over baseline price in each step; 1 where the baseline price is zero.

    A zero baseline price leaves no finite ratio, so no response is modelled there.
    """
    safe = np.where(price_baseline > 0, price_baseline, 1.0)
    return np.where(price_baseline > 0, price_scenario / safe, 1.0)


def constant_elasticity(base_kw: np.ndarray, ratio: np.ndarray, elasticity: np.ndarray) -> np.ndarray:
    """Load after a constant-elasticity response.

    Parameters
    ----------
    base_kw : ndarray, shape (n, steps)
        Load before the response. [kW]
    ratio : ndarray, shape (steps,) or (n, steps)
        Scenario / baseline price in each step (per customer where tiers make marginal
        prices differ); clipped to [RATIO_MIN, RATIO_MAX].
    elasticity : ndarray, shape (n,)
        Own-price elasticity of each customer, <= 0.

    Returns
    -------
    ndarray, shape (n, steps)  [kW]
    """
    log_ratio = np.log(np.clip(ratio, RATIO_MIN, RATIO_MAX))
    if not log_ratio.any():
        return base_kw.copy()
    if log_ratio.ndim == 1:
        # a day's prices take few values: one exponential per customer and distinct ratio,
        # gathered to the steps (the same numbers as per step, far fewer exponentials)
        values, which = np.unique(log_ratio, return_inverse=True)
        if len(values) < len(log_ratio):
            return base_kw * np.take(_factor(elasticity, values), which, axis=1)
    return base_kw * np.exp(elasticity[:, None] * log_ratio)


def _factor(elasticity: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``exp(elasticity[i] * values[k])``, shape (n, k): the per-step path's products and
    exponentials for the distinct values only (the same numbers; tested bit for bit)."""
    factor = np.multiply(elasticity[:, None], values[None, :])
    return np.exp(factor, out=factor)


def constant_elasticity_rows(base_kw: np.ndarray, ratio_rows: np.ndarray, inverse: np.ndarray,
                             elasticity: np.ndarray) -> np.ndarray:
    """:func:`constant_elasticity` with per-customer ratios given as a few distinct rows.

    Customer ``i``'s ratio is ``ratio_rows[inverse[i]]`` (see :mod:`sim.behavior._rows`).
    The result is :func:`constant_elasticity` of the per-customer ratios, bit for bit, with
    one logarithm per distinct row and one exponential per customer and distinct ratio.

    Parameters
    ----------
    base_kw : ndarray, shape (n, steps)  [kW]
    ratio_rows : ndarray, shape (G, steps)
    inverse : ndarray of int, shape (n,), values in [0, G)
    elasticity : ndarray, shape (n,)
    """
    log_rows = np.log(np.clip(ratio_rows, RATIO_MIN, RATIO_MAX))
    if not log_rows.any():
        return base_kw.copy()
    values, which = np.unique(log_rows, return_inverse=True)
    k = len(values)
    codes = np.take(which.reshape(log_rows.shape), inverse, axis=0)   # (n, steps): each step's value
    codes += (np.arange(len(inverse)) * k)[:, None]
    out = np.take(_factor(elasticity, values).reshape(-1), codes)
    out *= base_kw
    return out
