"""PRISM demand system of the California Statewide Pricing Pilot: substitution plus daily use.

The California Statewide Pricing Pilot (SPP; rates in effect from June 2003, impacts
estimated for the summers of 2003 and 2004) was analysed with a two-equation demand
system, which the Pricing Impact Simulation Model (PRISM) suite extends to other rate
designs. For one customer-day:

1. Substitution (a CES demand split between peak and off-peak energy)::

       ln(Q_peak / Q_offpeak) = a + sigma * ln(P_peak / P_offpeak)

   ``sigma`` is the elasticity of substitution, written here with its sign: negative, a
   dearer peak relative to the off-peak lowers the peak / off-peak ratio. (Some sources
   quote it positive with the minus sign in the definition, ``s = -%d(Qp/Qo) / %d(Pp/Po)``.)

2. Daily energy (a constant-elasticity demand for the day's energy)::

       ln(Q_day) = b + eta * ln(Pbar_day)

   ``eta`` is the daily price elasticity and ``Pbar_day`` the day's average price.

Applied as changes from the baseline day (the intercepts ``a``, ``b`` and anything else
held fixed cancel), with the prices of each group weighted by the customer's baseline energy::

    Q'  = Q * (Pbar' / Pbar) ** eta                       daily energy
    R'  = R * ((Pp' / Po') / (Pp / Po)) ** sigma          peak / off-peak ratio, R = Qp / Qo
    Qp' = Q' * R' / (1 + R'),   Qo' = Q' / (1 + R')       split of the day's energy

and every peak (off-peak) step is scaled by ``Qp'/Qp`` (``Qo'/Qo``): the baseline shape
within each group is kept. These are the steps of the PRISM spreadsheet as re-implemented
in the Open Modeling Framework (``dpinney/omf``, ``omf/scratch/prismDR/prismDR_v4.py``:
new daily use from the load-weighted daily price and the daily elasticity, new peak /
off-peak ratio from the price ratio and the substitution elasticity, the daily use split
by that ratio).

Price ratios are clipped to ``[RATIO_MIN, RATIO_MAX]`` of :mod:`sim.behavior.elasticity`
before the powers are taken, for the same reason as there: the constant-elasticity forms
have no meaning at zero or negative prices, and were measured on price changes well
inside a factor of ten. A customer with no energy in one group has no ratio to change
(no substitution); a customer with no energy at all is returned unchanged.

Published values: an elasticity of substitution near -0.09 to -0.10 and a daily price
elasticity near -0.02 for the SPP [1]_, [2]_, taken at second hand: neither the impact
evaluation of Charles River Associates (2005) nor Faruqui and George (2005) could be read
in the stored copies, so no table is cited here.

**Utility.** The change of a customer's gross utility of consumption (the consumer
ledger's utility side, docs/metrics.md) is that of two-stage budgeting with a CES lower
stage over the two groups and the constant-elasticity daily demand in its price index
(:func:`utility_change_prism`, :func:`sim.behavior.welfare.utility_change_ces`). The
split above is exactly the CES one; the daily level follows the baseline-weighted average
price rather than the CES index, which differs from it at second order in the price
changes.

References
----------
.. [1] Charles River Associates, "Impact Evaluation of the California Statewide Pricing
   Pilot", final report, March 16, 2005.
.. [2] A. Faruqui and S. George, "Quantifying Customer Response to Dynamic Pricing",
   The Electricity Journal, 2005.
.. [3] A. Faruqui and S. Sergici, "Household response to dynamic pricing of electricity:
   a survey of 15 experiments", Journal of Regulatory Economics 38(2): 193-225, 2010.
"""

from __future__ import annotations

import numpy as np

from ..rowmath import row_dot

from .elasticity import RATIO_MAX, RATIO_MIN
from .registry import CustomerParams, ResponseDay, ResponseModel, register
from .welfare import utility_change_ces

__all__ = ["prism_groups", "respond_prism", "utility_change_prism"]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den clipped to [RATIO_MIN, RATIO_MAX]; 1 where either is not positive."""
    ok = (num > 0) & (den > 0)
    return np.where(ok, np.clip(num / np.where(ok, den, 1.0), RATIO_MIN, RATIO_MAX), 1.0)


def respond_prism(load_kw: np.ndarray, price_base: np.ndarray, price_scen: np.ndarray,
                  peak: np.ndarray, substitution: np.ndarray, daily: np.ndarray,
                  step_hours: float) -> np.ndarray:
    """Load after the PRISM (SPP) response: peak / off-peak substitution and daily use.

    Parameters
    ----------
    load_kw : ndarray, shape (n, spd)
        Baseline load of each customer in each step of the day. [kW]
    price_base, price_scen : ndarray, shape (spd,) or (n, spd)
        Baseline and scenario price in each step. [currency/kWh]
    peak : ndarray of bool, shape (spd,)
        True in the peak steps (the scenario tariff's peak, or its critical-peak hours on
        an event day); every other step is off-peak.
    substitution : ndarray, shape (n,)
        Elasticity of substitution ``sigma`` between peak and off-peak energy, <= 0. [-]
    daily : ndarray, shape (n,)
        Daily price elasticity ``eta`` of the day's energy, <= 0. [-]
    step_hours : float
        Length of a step. [h] It turns kW into kWh; every ratio above is independent of
        it, so the result is too.

    Returns
    -------
    ndarray, shape (n, spd)  [kW]

    Notes
    -----
    ``Pp``, ``Po`` are the baseline-energy-weighted average prices of the peak and
    off-peak steps and ``Pbar`` that of the whole day, under each tariff and per
    customer. Unchanged prices return the load unchanged (every ratio is exactly 1);
    ``daily = 0`` conserves each customer's daily energy (pure substitution).
    """
    load_kw = np.asarray(load_kw, dtype=float)
    peak = np.asarray(peak, dtype=bool)
    if peak.shape != load_kw.shape[-1:]:
        raise ValueError(f"`peak` must have shape ({load_kw.shape[-1]},); got {peak.shape}")
    w_peak = peak.astype(float)
    w_off = 1.0 - w_peak
    q_peak = row_dot(load_kw, w_peak) * step_hours                          # (n,) kWh
    q_off = row_dot(load_kw, w_off) * step_hours
    q_day = q_peak + q_off

    def _cost(price):
        """Spend on peak and off-peak energy, (n,) each. [currency]"""
        price = np.asarray(price, dtype=float)
        if price.ndim == 1:                                           # one price per step
            return row_dot(load_kw, price * w_peak) * step_hours, row_dot(load_kw, price * w_off) * step_hours
        spend = load_kw * price                                       # (n, spd)
        return row_dot(spend, w_peak) * step_hours, row_dot(spend, w_off) * step_hours

    cp_b, co_b = _cost(price_base)
    cp_s, co_s = _cost(price_scen)
    # Load-weighted prices are a group's spend over its baseline energy (Pp = cp / Qp, ...).
    # Every ratio below compares one group under the two tariffs, so the energies cancel
    # and only the spends appear.
    day_ratio = _ratio(cp_s + co_s, cp_b + co_b)                      # Pbar' / Pbar
    has_both = (q_peak > 0) & (q_off > 0)
    # (Pp'/Po') / (Pp/Po) = (cp_s / cp_b) / (co_s / co_b): energies cancel.
    rel_ratio = np.where(has_both, _ratio(cp_s * co_b, cp_b * co_s), 1.0)

    sigma = np.asarray(substitution, dtype=float)
    eta = np.asarray(daily, dtype=float)
    day_factor = np.exp(eta * np.log(day_ratio))                      # Q' / Q
    k = np.exp(sigma * np.log(rel_ratio))                             # R' / R
    # Qp' = Q' R'/(1+R') with R' = k Qp/Qo, written without dividing by Qo:
    #   Qp'/Qp = (Q'/Q) * k * Q / (k Qp + Qo),   Qo'/Qo = (Q'/Q) * Q / (k Qp + Qo).
    den = k * q_peak + q_off
    common = day_factor * np.where(den > 0, q_day / np.where(den > 0, den, 1.0), 1.0)
    f_peak = common * k
    f_off = common
    return load_kw * np.where(peak, f_peak[:, None], f_off[:, None])


def prism_groups(values: np.ndarray, peak: np.ndarray, step_hours: float) -> np.ndarray:
    """Each customer's sums of ``values x step_hours`` over the peak and the off-peak steps,
    shape (n, 2), columns (peak, off-peak): its energy of each group from its load [kW ->
    kWh], or its spend from load x price [currency]. Row by row (:func:`sim.rowmath.row_dot`)."""
    w_peak = np.asarray(peak, dtype=bool).astype(float)
    return np.stack([row_dot(values, w_peak), row_dot(values, 1.0 - w_peak)], axis=1) * step_hours


def utility_change_prism(load_base_kw: np.ndarray, load_kw: np.ndarray, price_base: np.ndarray,
                         price_scen: np.ndarray, peak: np.ndarray, substitution: np.ndarray, daily: np.ndarray,
                         step_hours: float) -> np.ndarray:
    """Change of each customer's gross utility of consumption over the day under PRISM:
    :func:`sim.behavior.welfare.utility_change_ces` over the two groups (peak, off-peak),
    each priced at its spend on the baseline load over its baseline energy, as
    :func:`respond_prism` prices them. [currency], shape (n,)"""
    q0 = prism_groups(load_base_kw, peak, step_hours)
    q1 = prism_groups(load_kw, peak, step_hours)
    has = q0 > 0
    safe = np.where(has, q0, 1.0)
    p0 = np.where(has, prism_groups(load_base_kw * price_base, peak, step_hours) / safe, 0.0)
    p1 = np.where(has, prism_groups(load_base_kw * price_scen, peak, step_hours) / safe, 0.0)
    return utility_change_ces(q0, q1, p0, p1, substitution, daily)


@register
class PrismModel(ResponseModel):
    """``model: prism``: the scenario role's substitution between peak and off-peak energy
    and its daily energy change, each x the day's strength; its utility term is the
    two-stage CES one (:func:`utility_change_prism`)."""

    name = "prism"
    params = ("substitution", "daily")
    stage = 10

    def peak(self, day: ResponseDay) -> np.ndarray:
        """The day's peak steps, (spd,) bool: the named periods, or the dearest steps."""
        spec, own = self.settings, day.own
        if spec.peak_periods:
            return np.isin(np.array(own.period_names)[own.period], spec.peak_periods)
        price = own.price if own.price.ndim == 1 else own.price.mean(axis=0)
        return price >= price.max() - 1e-12

    def respond(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        idx = day.idx
        return respond_prism(load, day.base.price, day.own.price, self.peak(day),
                             params.substitution[idx] * day.strength, params.daily[idx] * day.strength,
                             day.step_hours)

    def utility(self, before: np.ndarray, after: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        idx = day.idx
        return utility_change_prism(before, after, day.base.price, day.own.price, self.peak(day),
                                    params.substitution[idx] * day.strength, params.daily[idx] * day.strength,
                                    day.step_hours)
