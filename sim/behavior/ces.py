"""A CES demand system over any number of price periods: PRISM's substitution, generalised.

PRISM (:mod:`sim.behavior.prism`) splits a day into two groups, the peak (the dearest steps)
and everything else, and moves energy between them with one elasticity of substitution.
Under a peak / flat / valley rate that puts the flat period in the off-peak group: its use
then moves exactly as the valley's does, although its price rose against the valley's. The
single-level CES demand system below gives every period its own price: the use of each
period moves by its own price relative to all the others, with the same two parameters.

Equations, for one customer-day. The day's steps are grouped by their baseline and
scenario prices; ``q_t`` is the baseline load of step ``t`` and ``r_t = p'_t / p_t`` its
price change. With ``sigma <= 0`` the elasticity of substitution (written with its sign,
as in :mod:`sim.behavior.prism`) and ``eta <= 0`` the daily price elasticity::

    Q'   = Q * (Pbar' / Pbar) ** eta                        daily energy (PRISM's)
    k_t  = r_t ** sigma                                     price change, to the power sigma
    q'_t = q_t * Q' * k_t / sum_s (q_s * k_s)               split of the day's energy

``Pbar`` is the day's baseline-load-weighted average price.
Between any two periods ``i`` and ``j`` this is the CES first-order condition of PRISM's
substitution equation::

    ln(Q_i' / Q_j') - ln(Q_i / Q_j) = sigma * ln(r_i / r_j)

so a tariff with two price levels gives PRISM's result (to rounding), a third period (a
flat or shoulder price, a critical peak on event days) gets its own share, and the use of a
period whose price rises against the day's price index falls. Within a group of steps with
the same price change the load keeps its shape; with ``eta = 0`` each customer's daily
energy is conserved.

The demand system is the constant-elasticity-of-substitution special case of the Addilog
system that Faruqui, Sergici, Lessem and Mountain (2015) estimated between the peak,
mid-peak and off-peak periods of Ontario's three-period time-of-use rate [1]_; PRISM's two
equations are its two-period form (California Statewide Pricing Pilot, see
:mod:`sim.behavior.prism`).

``flexible_share`` (``f``, per customer, default 1) is the share of each step's load that
takes part in the substitution; the rest only follows the daily term::

    q'_t = q_t * Q'/Q * ((1 - f) + f * k_t * Q / sum_s (q_s * k_s))

(the daily energy is still ``Q'``). A continuous-process plant with ``f = 0.1`` moves a
tenth of what a customer with ``f = 1`` and the same elasticity moves.

Clips: each step's own price change ``r_t`` is clipped to ``[RATIO_MIN, RATIO_MAX]``, as in
the constant-elasticity model, and so is ``Pbar'/Pbar``, as in PRISM. A clip of each step's
own change keeps every property above (a monotone map of each price); PRISM instead clips
the peak / off-peak price ratio, so the two agree wherever neither clip binds, and a peak
more than ten times the off-peak price still moves more energy here. A step whose price is
not positive under either tariff has no price change to respond to (``r_t = 1``); a
customer with no energy is returned unchanged.

**Utility.** The change of a customer's gross utility of consumption (the consumer
ledger, docs/metrics.md) is that of two-stage budgeting with a CES lower stage over the
day's steps and the daily constant-elasticity demand in its price index
(:func:`sim.behavior.welfare.utility_change_ces`, as for PRISM; steps with the same price
change add up as one period). The split above is exactly the CES one; the daily level
follows the baseline-weighted average price rather than the CES index (a difference of
second order in the price changes). With ``flexible_share`` ``f < 1`` the index takes the
elasticity of substitution ``f x sigma``: exact at ``f = 0`` (the load only scales with
the day, as under a Leontief lower stage, whose index is the baseline-weighted average) and
at ``f = 1``, an interpolation between.

References
----------
.. [1] A. Faruqui, S. Sergici, N. Lessem and D. Mountain, "Impact measurement of tariff
   changes when experimentation is not an option -- A case study of Ontario, Canada",
   Energy Economics 52(A): 39-48, 2015 (abstract: elasticities of substitution between
   peak, mid-peak and off-peak periods from the Addilog demand system, which includes the
   CES model as a special case).
"""

from __future__ import annotations

import numpy as np

from .._jit import jit
from ..rowmath import RowGroups, distinct_by_row
from .elasticity import RATIO_MAX, RATIO_MIN
from .registry import CustomerParams, ResponseDay, ResponseModel, register
from .welfare import utility_change_ces

__all__ = ["CesModel", "log_price_changes", "respond_ces"]


def log_price_changes(price_base: np.ndarray, price_scen: np.ndarray) -> np.ndarray:
    """``ln(r_t)``, each step's price change clipped to ``[RATIO_MIN, RATIO_MAX]``.

    Parameters
    ----------
    price_base, price_scen : ndarray, shape (G, spd)  [currency/kWh]

    Returns
    -------
    ndarray, shape (G, spd)
        0 (no change) in the steps whose price is not positive under either tariff.
    """
    ok = (price_base > 0) & (price_scen > 0)
    log_r = np.log(np.where(ok, price_scen, 1.0)) - np.log(np.where(ok, price_base, 1.0))
    return np.clip(log_r, np.log(RATIO_MIN), np.log(RATIO_MAX))


def respond_ces(load_kw: np.ndarray, price_base: np.ndarray, price_scen: np.ndarray, substitution: np.ndarray,
                daily: np.ndarray, flexible_share: np.ndarray | float = 1.0,
                pair: RowGroups | None = None) -> np.ndarray:
    """Load after the CES response: substitution between every price period and daily use.

    Parameters
    ----------
    load_kw : ndarray, shape (n, spd)
        Baseline load of each customer in each step of the day. [kW]
    price_base, price_scen : ndarray, shape (spd,) or (n, spd)
        Baseline and scenario price in each step. [currency/kWh]
    substitution : ndarray, shape (n,)
        Elasticity of substitution ``sigma`` between periods, <= 0. [-]
    daily : ndarray, shape (n,)
        Daily price elasticity ``eta``, <= 0. [-]
    flexible_share : float or ndarray, shape (n,)
        Share of the load that takes part in the substitution, in [0, 1]. [-]
    pair : RowGroups, optional
        The customers' groups of equal (baseline, scenario) price rows, for per-customer
        prices (:class:`~sim.behavior.prices.PriceGroups`); without it each customer's
        rows are taken on their own (the same result, more work).

    Returns
    -------
    ndarray, shape (n, spd)  [kW]

    Notes
    -----
    Every ratio is of energies or of prices, so the step length cancels. Each customer's
    result depends on its own load, prices and parameters only (a compiled loop, sums in
    time order): the same bits in any block of customers.
    """
    load_kw = np.ascontiguousarray(load_kw, dtype=np.float64)
    n, spd = load_kw.shape
    base_rows, scen_rows, inverse = _price_rows(np.asarray(price_base, float), np.asarray(price_scen, float), n, pair)
    values, counts, codes = distinct_by_row(log_price_changes(base_rows, scen_rows))
    out = np.empty_like(load_kw)
    share = np.broadcast_to(np.asarray(flexible_share, dtype=np.float64), (n,))
    _respond(load_kw, base_rows, scen_rows, inverse, np.ascontiguousarray(substitution, dtype=np.float64),
             np.ascontiguousarray(daily, dtype=np.float64), np.ascontiguousarray(share), values, counts, codes,
             np.log(RATIO_MIN), np.log(RATIO_MAX), out)
    return out


def _price_rows(price_base, price_scen, n, pair):
    """The distinct (baseline, scenario) price rows, shapes (G, spd), and each customer's row."""
    if price_base.ndim == 1 and price_scen.ndim == 1:
        return price_base[None, :], price_scen[None, :], np.zeros(n, dtype=np.intp)
    spd = price_base.shape[-1]
    if pair is None:                                      # rows not grouped: one per customer
        return (np.ascontiguousarray(np.broadcast_to(price_base, (n, spd))),
                np.ascontiguousarray(np.broadcast_to(price_scen, (n, spd))), np.arange(n, dtype=np.intp))
    rows_b = price_base[None, :] if price_base.ndim == 1 else pair.rows(price_base)
    rows_s = price_scen[None, :] if price_scen.ndim == 1 else pair.rows(price_scen)
    g = len(pair)
    return (np.ascontiguousarray(np.broadcast_to(rows_b, (g, spd))),
            np.ascontiguousarray(np.broadcast_to(rows_s, (g, spd))), np.asarray(pair.inverse, dtype=np.intp))


@jit
def _respond(load, base, scen, inverse, sigma, eta, share, values, counts, codes, log_min, log_max, out):
    """One customer at a time: its day energy and spends, the CES split, its new load."""
    n, spd = load.shape
    k = np.empty(spd)
    for i in range(n):
        g = inverse[i]
        for j in range(counts[g]):
            k[j] = np.exp(sigma[i] * values[g, j])
        q = 0.0
        spend_b = 0.0
        spend_s = 0.0
        den = 0.0
        for t in range(spd):
            x = load[i, t]
            q += x
            spend_b += x * base[g, t]
            spend_s += x * scen[g, t]
            den += x * k[codes[g, t]]
        day = 1.0
        if spend_b > 0.0 and spend_s > 0.0:
            day = np.exp(eta[i] * min(max(np.log(spend_s / spend_b), log_min), log_max))
        f = share[i]
        split = day * f * q / den if den > 0.0 else 0.0
        rest = day * (1.0 - f) if den > 0.0 else day
        for t in range(spd):
            out[i, t] = load[i, t] * (rest + split * k[codes[g, t]])


@register
class CesModel(ResponseModel):
    """``model: ces``: the scenario role's substitution between all its price periods and
    its daily energy change, each x the day's strength; its utility term is the two-stage
    CES one."""

    name = "ces"
    params = ("substitution", "daily", "flexible_share")
    stage = 10

    def respond(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        idx = day.idx
        return respond_ces(load, day.base.price, day.own.price, params.substitution[idx] * day.strength,
                           params.daily[idx] * day.strength, params.flexible_share[idx], day.groups.pair())

    def utility(self, before: np.ndarray, after: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        """Two-stage CES budgeting over the day's steps (module docstring)."""
        idx, h = day.idx, day.step_hours
        sigma = params.substitution[idx] * day.strength * params.flexible_share[idx]
        return utility_change_ces(before * h, after * h, day.base.price, day.own.price, sigma,
                                  params.daily[idx] * day.strength)
