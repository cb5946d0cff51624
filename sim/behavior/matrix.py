"""Self- and cross-price elasticity matrix over tariff periods (Kirschen et al. 2000).

Kirschen, Strbac, Cumperayot and Mendes model a consumer's reaction to a day of prices
with a matrix of self- and cross-elasticities: element ``E[i, j]`` is the relative change
of the energy drawn in period ``i`` per relative change of the price in period ``j``,

    E[i, j] = (rho0_j / q0_i) * dq_i / drho_j,

negative on the diagonal (a dearer period loses load), usually positive off it (load
moved to the periods that did not get dearer). The response is the first-order
(linearised) one, in relative changes:

    dq_i / q0_i = sum_j E[i, j] * drho_j / rho0_j.

Kirschen et al. write the matrix over the 24 hours of a pool-priced day; here it is over
the periods of a time-of-use tariff (peak / flat / valley ...), which is the same system
with each period's steps sharing one relative price change. The equations above are the
paper's definitions and linear response as they are generally quoted; the stored copy
of the paper that could be read for this module is its abstract (IEEE Xplore record
867149), which states the model ("a matrix of self- and cross-elasticities", illustrated
on a 26-generator system) but not the equation numbers, so none is cited here.

One customer scales the whole matrix by its own ``scale`` (heterogeneity in how much a
household reacts, not in how it shifts). Because the form is linear, a large enough price
rise would drive a period's load below zero; that is clipped at zero (a load cannot be
negative), and so the linear form is only trustworthy for the moderate price changes
the elasticities were measured on.

References
----------
.. [1] D. S. Kirschen, G. Strbac, P. Cumperayot and D. de Paiva Mendes, "Factoring the
   elasticity of demand in electricity prices", IEEE Transactions on Power Systems
   15(2), May 2000 (IEEE Xplore document 867149).
"""

from __future__ import annotations

import numpy as np

from ..rowmath import row_matmul
from .registry import CustomerParams, ResponseDay, ResponseModel, register
from .welfare import utility_change_trapezoid

__all__ = ["period_price_change", "respond_matrix", "shifting_matrix"]


def _check_period(period: np.ndarray, n_periods: int) -> np.ndarray:
    """Period index per step as an int array; -1 marks a step outside every period."""
    period = np.asarray(period)
    if period.ndim != 1 or not np.issubdtype(period.dtype, np.integer):
        raise ValueError(f"`period` must be a 1-D integer array (one period index per step); "
                         f"got dtype {period.dtype}, shape {period.shape}")
    if period.size and (period.min() < -1 or period.max() >= n_periods):
        raise ValueError(f"`period` must be in [-1, {n_periods - 1}]; got values in "
                         f"[{period.min()}, {period.max()}]")
    return period


def _one_hot(period: np.ndarray, n_periods: int) -> np.ndarray:
    """(spd, P) float matrix: 1 where step t is in period j; a row of 0 for period -1."""
    onehot = np.zeros((period.size, n_periods))
    inside = period >= 0
    onehot[np.flatnonzero(inside), period[inside]] = 1.0
    return onehot


def period_price_change(price_base: np.ndarray, price_scen: np.ndarray, period: np.ndarray,
                        n_periods: int) -> np.ndarray:
    """Relative price change of each period: mean scenario price / mean baseline price - 1.

    Parameters
    ----------
    price_base, price_scen : ndarray, shape (spd,) or (n, spd)
        Price in each step under the baseline and the scenario tariff. [currency/kWh]
    period : ndarray of int, shape (spd,)
        Period index (0 .. n_periods-1) of each step; -1 for a step in no period (it
        enters no period's mean).
    n_periods : int
        Number of periods P.

    Returns
    -------
    ndarray, shape (P,) or (n, P)
        ``drho_j / rho0_j`` per period (per customer when either price is per customer).
        Zero for a period with no step in the day, and where the mean baseline price is
        not positive (no finite relative change: no response is modelled, as in
        :func:`sim.behavior.elasticity.price_ratio`).
    """
    onehot = _one_hot(_check_period(period, n_periods), n_periods)
    count = onehot.sum(axis=0)
    present = count > 0
    safe_count = np.where(present, count, 1.0)
    mean_base = _per_period(price_base, onehot) / safe_count
    mean_scen = _per_period(price_scen, onehot) / safe_count
    ok = present & (mean_base > 0)
    return np.where(ok, mean_scen / np.where(ok, mean_base, 1.0) - 1.0, 0.0)


def _per_period(price, onehot: np.ndarray) -> np.ndarray:
    """Sum of a day's prices in each period: (P,) for a shared price, (n, P) per customer
    (row by row, sim.rowmath)."""
    price = np.asarray(price, dtype=float)
    return price @ onehot if price.ndim == 1 else row_matmul(price, onehot)


def respond_matrix(load_kw: np.ndarray, price_base: np.ndarray, price_scen: np.ndarray,
                   period: np.ndarray, matrix: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Load after a linear self-/cross-elasticity response over tariff periods.

    In every step ``t`` of period ``i``::

        L'[c, t] = L[c, t] * max(0, 1 + scale[c] * sum_j E[i, j] * dp[c, j])

    with ``dp[c, j]`` the relative price change of period ``j``
    (:func:`period_price_change`). Within a period the baseline shape is kept.

    Parameters
    ----------
    load_kw : ndarray, shape (n, spd)
        Baseline load of each customer in each step of the day. [kW]
    price_base, price_scen : ndarray, shape (spd,) or (n, spd)
        Baseline and scenario price in each step. [currency/kWh]
    period : ndarray of int, shape (spd,)
        Period index (0 .. P-1) of each step, e.g. from the scenario tariff's TOU
        periods; -1 for a step that takes no part (its load is returned unchanged and
        its price enters no period's mean). A period with no step in the day has no effect.
    matrix : ndarray, shape (P, P) or (n, P, P)
        Elasticity matrix ``E[i, j]``: relative change of energy in period ``i`` per
        relative change of price in period ``j``; own elasticities (diagonal) <= 0,
        cross elasticities usually >= 0. A per-customer stack is accepted, e.g. from
        :func:`shifting_matrix` with per-customer period shares.
    scale : ndarray, shape (n,)
        Per-customer multiplier of the whole matrix, >= 0 (0: no response). [-]

    Returns
    -------
    ndarray, shape (n, spd)  [kW]

    Notes
    -----
    Unchanged prices (``dp = 0``) return the load exactly. With a matrix whose columns
    have zero energy-share-weighted sums (``shares @ E = 0``, see :func:`shifting_matrix`)
    and a customer whose period energies have those shares, the day's energy is conserved
    as long as no period is clipped at zero.

    References
    ----------
    .. [1] Kirschen, Strbac, Cumperayot, Mendes 2000, IEEE Trans. Power Systems 15(2):
       self- and cross-elasticity matrix; see the module docstring.
    """
    load_kw = np.asarray(load_kw, dtype=float)
    matrix = np.asarray(matrix, dtype=float)
    n_periods = matrix.shape[-1]
    if matrix.shape[-2:] != (n_periods, n_periods) or matrix.ndim not in (2, 3):
        raise ValueError(f"`matrix` must be of shape (P, P) or (n, P, P); got {matrix.shape}")
    period = _check_period(period, n_periods)
    dp = period_price_change(price_base, price_scen, period, n_periods)   # (P,) or (n, P)
    if not dp.any():
        return load_kw.copy()
    # Relative change of each period's energy, per customer: (n, P).
    if matrix.ndim == 2:
        rel = dp @ matrix.T if dp.ndim == 1 else row_matmul(dp, matrix.T)
    else:
        rel = np.einsum("cij,cj->ci", matrix, np.broadcast_to(dp, (load_kw.shape[0], n_periods)))
    rel = np.asarray(scale, dtype=float)[:, None] * np.broadcast_to(rel, (load_kw.shape[0], n_periods))
    # The linear form can go below -100 % for a large price rise: a load is never negative.
    factor = np.maximum(0.0, 1.0 + rel)
    if (period < 0).any():
        # One more column, of ones, for the steps that take no part.
        factor = np.concatenate([factor, np.ones((factor.shape[0], 1))], axis=1)
        period = np.where(period < 0, n_periods, period)
    return load_kw * factor[:, period]


def shifting_matrix(own: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Elasticity matrix of pure load shifting: what a dearer period sheds, the others take.

    Column ``j`` (a change of period ``j``'s price) is built so that the energy it takes
    out of period ``j`` goes to the other periods in proportion to their energy, i.e.
    every other period gets the same relative increase::

        E[j, j] = own[j]
        E[i, j] = -own[j] * s[j] / (1 - s[j])      for i != j

    with ``s`` the period energy shares (``s >= 0``, ``sum(s) = 1``). Then every column
    has a zero share-weighted sum, ``sum_i s[i] * E[i, j] = s[j]*own[j] - own[j]*s[j] = 0``,
    so for a customer whose baseline period energies have the shares ``s``, the response of
    :func:`respond_matrix` to any price change conserves the day's energy (up to the
    clip at zero load). Cross elasticities are >= 0 when own elasticities are <= 0.

    A period holding all the energy (``s[j] = 1``) has nowhere to shift to: its column is
    zero. A period with no energy (``s[j] = 0``) sheds nothing: its column is zero apart
    from its own elasticity, which then acts on no energy.

    Parameters
    ----------
    own : ndarray, shape (P,) or (n, P)
        Own-price elasticity of each period, <= 0. [-]
    shares : ndarray, shape (P,) or (n, P)
        Share of the day's baseline energy in each period, >= 0, summing to 1 along the
        last axis. [-]

    Returns
    -------
    ndarray, shape (P, P), or (n, P, P) when either input is per customer.
    """
    own = np.asarray(own, dtype=float)
    shares = np.asarray(shares, dtype=float)
    if np.any(own > 0):
        raise ValueError(f"`own` must be <= 0; got {own[own > 0][:5]!r}")
    if np.any(shares < 0):
        raise ValueError(f"`shares` must be >= 0; got {shares[shares < 0][:5]!r}")
    total = shares.sum(axis=-1)
    if not np.allclose(total, 1.0, rtol=0, atol=1e-9):
        raise ValueError(f"`shares` must sum to 1 along the last axis; got sums {np.atleast_1d(total)[:5]!r}")
    own, shares = np.broadcast_arrays(own, shares)
    n_periods = own.shape[-1]
    rest = 1.0 - shares
    movable = rest > 0
    cross = np.where(movable, -own * shares / np.where(movable, rest, 1.0), 0.0)   # per column j
    own_eff = np.where(movable, own, 0.0)
    eye = np.eye(n_periods, dtype=bool)
    # Column j of every row i != j holds cross[j]; the diagonal holds own[j].
    return np.where(eye, own_eff[..., None, :], cross[..., None, :])


@register
class ElasticityMatrixModel(ResponseModel):
    """``model: elasticity_matrix``: the scenario role's response to each period's relative
    price change through the own- and cross-period elasticities, scale x the day's strength."""

    name = "elasticity_matrix"
    params = ("scale",)
    stage = 10

    def respond(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        spec, own = self.settings, day.own
        index = {n: i for i, n in enumerate(spec.periods)}
        # steps of periods the matrix does not name take no part
        period = np.array([index.get(name, -1) for name in own.period_names])[own.period]
        return respond_matrix(load, day.base.price, own.price, period, np.asarray(spec.matrix),
                              params.scale[day.idx] * day.strength)

    def utility(self, before: np.ndarray, after: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        """The rule of a half (:func:`sim.behavior.welfare.utility_change_trapezoid`): exact
        along the straight price path for this linear demand, where no period is clipped at
        zero load."""
        return utility_change_trapezoid(before, after, day.base.price, day.own.price, day.step_hours)
