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

from .._jit import jit
from ..rowmath import distinct_by_row

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
    ratio = np.asarray(ratio, dtype=np.float64)
    n = base_kw.shape[0]
    if ratio.ndim == 1:
        return constant_elasticity_rows(base_kw, ratio[None, :], np.zeros(n, dtype=np.intp), elasticity)
    return constant_elasticity_rows(base_kw, ratio, np.arange(n), elasticity)


def constant_elasticity_rows(base_kw: np.ndarray, ratio_rows: np.ndarray, inverse: np.ndarray,
                             elasticity: np.ndarray) -> np.ndarray:
    """:func:`constant_elasticity` with per-customer ratios given as a few distinct rows.

    Customer ``i``'s ratio is ``ratio_rows[inverse[i]]`` (see :mod:`sim.rowmath`).
    One logarithm per distinct row and step; per customer, one exponential per distinct
    ratio of its row, gathered to the steps (:func:`_respond_rows`). A customer's result
    depends on its own ratio row and elasticity only, whichever way the rows were passed
    (shared, grouped or one per customer).

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
    return respond_rows(base_kw, log_rows, inverse, elasticity)[0]


def respond_rows(base_kw: np.ndarray, log_rows: np.ndarray, inverse: np.ndarray, elasticity: np.ndarray,
                 sums: tuple[np.ndarray, np.ndarray] | None = None):
    """The compiled response of :func:`constant_elasticity_rows` from the logarithms of the
    clipped ratio rows; with ``sums = (a, b)``, rows of shape (G, steps), also each
    customer's ``sum_t (q1 a - q0 b)`` in the same pass (``q0``, ``q1``: its load before and
    after), in time order. Returns (load, sums), the sums None without ``sums``."""
    values, counts, codes = distinct_by_row(log_rows)
    out = np.empty(base_kw.shape)
    n = base_kw.shape[0]
    with_sums = sums is not None
    a, b = (np.ascontiguousarray(x, dtype=np.float64) for x in sums) if with_sums else (_NONE_2D,) * 2
    first = np.empty(n if with_sums else 0)
    _respond_rows(np.ascontiguousarray(base_kw, dtype=np.float64), np.asarray(inverse, dtype=np.intp),
                  np.asarray(elasticity, dtype=np.float64), values, counts, codes, out, with_sums, a, b, first)
    return out, (first if with_sums else None)


_NONE_2D = np.zeros((0, 0))


@jit
def _respond_rows(base, inverse, elasticity, values, counts, codes, out, with_sums, a, b, first):
    """``out[i, t] = base[i, t] * exp(elasticity[i] * log_ratio[inverse[i], t])``, with the
    exponential taken once per customer and distinct value of its row; with ``with_sums``,
    ``first[i] = sum_t (out[i, t] a[g, t] - base[i, t] b[g, t])`` (``g = inverse[i]``), added
    step by step in time order."""
    n, spd = base.shape
    factor = np.empty(spd)
    for i in range(n):
        g = inverse[i]
        e = elasticity[i]
        for k in range(counts[g]):
            factor[k] = np.exp(e * values[g, k])
        if with_sums:
            s1 = 0.0
            for t in range(spd):
                q0 = base[i, t]
                q1 = q0 * factor[codes[g, t]]
                out[i, t] = q1
                s1 += q1 * a[g, t] - q0 * b[g, t]
            first[i] = s1
        else:
            for t in range(spd):
                out[i, t] = base[i, t] * factor[codes[g, t]]
