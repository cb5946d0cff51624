"""The response models' welfare terms: consumer surplus along a constant-elasticity demand
curve, and the change of gross utility of consumption (the consumer ledger's utility side)
for constant-elasticity, CES (two-stage) and linear demand.

For one customer and one step, demand is the constant-elasticity curve through the
baseline point ``(p0, q0)``::

    q(p) = q0 * (p / p0) ** e

and the change of (Marshallian) consumer surplus when the price moves from ``p0`` to
``p1`` is the area to the left of the demand curve between the two prices::

    dCS = -integral_{p0}^{p1} q(p) dp
        = -q0 * p0 / (1 + e) * ((p1 / p0) ** (1 + e) - 1)        e != -1
        = -q0 * p0 * ln(p1 / p0)                                  e == -1 (the limit)

Both are one expression, ``-q0 * p0 * x * exprel((1 + e) * x)`` with ``x = ln(p1/p0)``
and ``exprel(z) = expm1(z) / z`` (``exprel(0) = 1``), which is what is computed: it is
continuous through ``e = -1`` with no cancellation near it (``expm1`` is accurate near 0). With ``e = 0`` the customer
does not respond and ``dCS = -q0 * (p1 - p0)``, minus the change of the bill at the
baseline quantity; that case is computed in that form, exactly.

The demand curve is the one :func:`sim.behavior.elasticity.constant_elasticity` moves
along, including its clip: beyond ``p1 / p0`` in ``[RATIO_MIN, RATIO_MAX]`` the quantity
stays at its value at the bound, so the surplus change there adds a rectangle,
``-q(p_bound) * (p1 - p_bound)``; where the baseline price is not positive there is no
response (``q = q0``) and ``dCS = -q0 * (p1 - p0)``. Summing the steps of a day (each
``q0`` in kW held for ``step_hours``) gives the customer's surplus change for the day.

**Utility of consumption.** The consumer ledger (:mod:`sim.ledger`) needs the change of
each customer's gross utility of consumption in money, ``dV = V(q1) - V(q0)``, not the
surplus of an energy-only bill: consumer surplus change is then ``dV`` minus the change of
the whole bill. With quasi-linear utility (money enters linearly: no income effect, so the
Marshallian surplus is exact [1]_, [2]_), ``V`` is the integral of inverse demand, and for
any demand curve ``-integral_{p0}^{p1} q dp = integral_{q0}^{q1} P(q) dq - (p1 q1 - p0 q0)``
(integration by parts), so::

    dV = dCS + (p1 q1 - p0 q0)

the surplus above plus the change of spend at the responded quantity. On the
constant-elasticity curve, with ``r`` the clipped price ratio and ``q1 = q0 r ** e``::

    dV = integral_{q0}^{q1} p0 (q / q0) ** (1 / e) dq = e / (1 + e) * (q1 p0 r - q0 p0)

(the clip's rectangle cancels between ``dCS`` and the spend), which is zero for ``e = 0``
(the customer keeps ``q0``) and for unchanged prices (``q1 = q0``), exactly.
:func:`utility_change_from_response` computes it from the responded load,
:func:`respond_with_utility` in the same pass as the response.

:func:`utility_change_ces` is the utility of a CES demand over price groups with a
constant-elasticity demand for their aggregate (two-stage budgeting: PRISM), and
:func:`utility_change_trapezoid` the rule-of-a-half utility of a linear demand system (the
elasticity matrix).

References
----------
.. [1] A. Mas-Colell, M. D. Whinston and J. R. Green, Microeconomic Theory, Oxford
   University Press, 1995, ch. 3 (welfare evaluation of price changes): the Marshallian
   consumer surplus change is the area to the left of the demand curve between the two
   prices. Standard textbook result; no figure is taken from it.
.. [2] R. D. Willig, "Consumer's surplus without apology", American Economic Review 66(4),
   1976, 589-597: the Marshallian surplus approximates the compensating and equivalent
   variations closely when the expenditure share is small, and equals them without income
   effects (quasi-linear utility).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jit import jit

from ..rowmath import RowGroups, distinct_by_row
from .elasticity import RATIO_MAX, RATIO_MIN, respond_rows

__all__ = ["respond_with_utility", "surplus_change_constant_elasticity", "utility_change_ces",
           "utility_change_from_response", "utility_change_trapezoid"]


def surplus_change_constant_elasticity(load_base_kw: np.ndarray, price_base: np.ndarray,
                                       price_scen: np.ndarray, elasticity: np.ndarray,
                                       step_hours: float) -> np.ndarray:
    """Change of consumer surplus of each customer over a day, constant-elasticity demand.

    Parameters
    ----------
    load_base_kw : ndarray, shape (n, spd)
        Baseline load ``q0`` in each step (the quantity demanded at the baseline price). [kW]
    price_base, price_scen : ndarray, shape (spd,) or (n, spd)
        Baseline price ``p0`` and scenario price ``p1`` in each step. [currency/kWh]
    elasticity : ndarray, shape (n,)
        Own-price elasticity ``e`` of each customer (the same ``e`` in every step), usually
        <= 0. [-]
    step_hours : float
        Length of a step. [h]

    Returns
    -------
    ndarray, shape (n,)  [currency]
        ``sum_t dCS[c, t] * step_hours``: positive when the customer gains (prices fell),
        negative when it loses.
    """
    q0 = np.asarray(load_base_kw, dtype=float)
    p0 = np.asarray(price_base, dtype=float)
    p1 = np.asarray(price_scen, dtype=float)
    e = np.asarray(elasticity, dtype=float)[:, None]
    # Prices stay (spd,) when they are per step: the ratio work is then done once per step.
    responds = p0 > 0
    all_respond = bool(responds.all())
    if all_respond:
        safe_p0, ratio = p0, p1 / p0
    else:
        safe_p0 = np.where(responds, p0, 1.0)
        ratio = np.where(responds, p1 / safe_p0, 1.0)
    # The demand curve stops moving outside [RATIO_MIN, RATIO_MAX] (clip of constant_elasticity).
    ratio_c = np.clip(ratio, RATIO_MIN, RATIO_MAX)
    x = np.log(ratio_c)
    z = (1.0 + e) * x                                                 # (n, spd)
    rel = np.expm1(z)                                                 # -> exprel(z) in place
    nonzero = z != 0
    np.divide(rel, z, out=rel, where=nonzero)
    np.copyto(rel, 1.0, where=~nonzero)                               # exprel(0) = 1
    rel *= safe_p0 * x
    rel *= q0                                                         # integral_{p0}^{p_c} q dp
    per_step = np.negative(rel, out=rel)
    clipped = ratio != ratio_c
    if clipped.any():
        # Past the clip the quantity stays at q(p_c): a rectangle -q(p_c) (p1 - p_c).
        past = np.where(clipped, p1 - ratio_c * safe_p0, 0.0)
        per_step -= q0 * np.exp(e * x) * past
    if not all_respond or (e == 0.0).any():
        # No response (e = 0, or no positive baseline price): minus the bill change, exactly.
        per_step = np.where(~responds | (e == 0.0), -q0 * (p1 - p0), per_step)
    return per_step.sum(axis=1) * step_hours


def utility_change_from_response(load_base_kw: np.ndarray, load_kw: np.ndarray, price_base: np.ndarray,
                                 price_scen: np.ndarray, elasticity: np.ndarray, step_hours: float, *,
                                 groups: RowGroups | None = None) -> np.ndarray:
    """Change of each customer's gross utility of consumption over a day on its
    constant-elasticity demand curve, from the load the response computed (module docstring)::

        dV = e / (1 + e) * sum_t (q1 p0 r - q0 p0) * h

    The sums over a customer's steps are one compiled pass over its row
    (:func:`_surplus_sums`), the same arithmetic whether its prices came shared, grouped or
    per customer. Where ``|1 + e| < 1e-6`` (or the baseline price is not positive in some
    step) ``dV = dCS + sum_t (p1 q1 - p0 q0) h`` with the exact
    :func:`surplus_change_constant_elasticity`; ``e = 0`` gives 0 exactly.

    Parameters
    ----------
    load_base_kw, load_kw : ndarray, shape (n, spd)
        Load before and after the constant-elasticity response. [kW]
    price_base, price_scen : ndarray, shape (spd,) or (n, spd)  [currency/kWh]
    elasticity : ndarray, shape (n,)
    step_hours : float
    groups : RowGroups, optional
        ``group_rows(price_base, price_scen)`` (per-customer prices only): the price work
        is then done once per distinct pair of rows, with each customer's result the same.

    Returns
    -------
    ndarray, shape (n,)  [currency]
    """
    rows = _price_rows(price_base, price_scen, len(elasticity), groups)
    body = _surplus_sums(np.ascontiguousarray(load_base_kw, dtype=np.float64),
                         np.ascontiguousarray(load_kw, dtype=np.float64), rows.inverse, rows.p0 * rows.r, rows.p0)
    return _utility(body, load_base_kw, load_kw, rows, elasticity, step_hours)


def respond_with_utility(load_base_kw: np.ndarray, price_base: np.ndarray, price_scen: np.ndarray,
                         elasticity: np.ndarray, step_hours: float, *,
                         groups: RowGroups | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sim.behavior.elasticity.constant_elasticity` and
    :func:`utility_change_from_response` of its result in one pass over each customer's day:
    (load [kW], utility change [currency]), the same numbers as the two calls.

    Parameters as :func:`utility_change_from_response` (``load_kw`` being the result).
    """
    rows = _price_rows(price_base, price_scen, len(elasticity), groups)
    load, body = respond_rows(load_base_kw, np.log(rows.r), rows.inverse, elasticity, (rows.p0 * rows.r, rows.p0))
    return load, _utility(body, load_base_kw, load, rows, elasticity, step_hours)


class _PriceRows(NamedTuple):
    """Both prices of a block as rows, each customer's row, and the clipped ratio."""

    p0: np.ndarray        #: (G, spd) baseline price rows
    p1: np.ndarray        #: (G, spd) scenario price rows
    inverse: np.ndarray   #: (n,) each customer's row
    ok: np.ndarray        #: (G, spd) bool, baseline price > 0
    r: np.ndarray         #: (G, spd) clipped price ratio (1 where not ok)


def _price_rows(price_base, price_scen, n: int, groups: RowGroups | None) -> _PriceRows:
    """Both prices as rows (G, spd) with each customer's row ``inverse`` (n,): the groups'
    rows, one shared row, or one row per customer. With them, where the baseline price is
    positive (``ok``), the clipped price ratio ``r`` (1 elsewhere: no response)."""
    p0, p1 = np.asarray(price_base, dtype=float), np.asarray(price_scen, dtype=float)
    if groups is not None and (p0.ndim == 2 or p1.ndim == 2):
        p0, p1, inverse = groups.rows(p0), groups.rows(p1), groups.inverse
    elif p0.ndim == 1 and p1.ndim == 1:
        p0, p1, inverse = p0[None, :], p1[None, :], np.zeros(n, dtype=np.intp)
    else:
        p0, p1 = np.broadcast_arrays(p0, p1)
        inverse = np.arange(n)
    p0, p1 = np.ascontiguousarray(p0), np.ascontiguousarray(p1)
    ok = p0 > 0
    r = np.where(ok, np.clip(p1 / np.where(ok, p0, 1.0), RATIO_MIN, RATIO_MAX), 1.0)
    return _PriceRows(p0, p1, inverse, ok, r)


def _utility(body, load_base_kw, load_kw, rows: _PriceRows, elasticity, step_hours) -> np.ndarray:
    """The utility change from the first sum of :func:`_surplus_sums`; the exact form for
    customers near unit elasticity or with a free baseline step."""
    elasticity = np.asarray(elasticity, dtype=float)
    denom = 1.0 + elasticity
    near = np.abs(denom) < 1e-6
    out = body * (elasticity / np.where(near, 1.0, denom)) * step_hours
    exact = (near | ~rows.ok.all(axis=1)[rows.inverse]) & (elasticity != 0.0)
    if exact.any():
        # rare: unit elasticity, or free baseline steps (no response there, q1 = q0)
        which = rows.inverse[exact]
        q0, q1 = np.asarray(load_base_kw, dtype=float)[exact], np.asarray(load_kw, dtype=float)[exact]
        p0, p1 = rows.p0[which], rows.p1[which]
        spend = ((q1 * p1).sum(axis=1) - (q0 * p0).sum(axis=1)) * step_hours
        out[exact] = surplus_change_constant_elasticity(q0, p0, p1, elasticity[exact], step_hours) + spend
    return out


@jit
def _surplus_sums(load_base, load, inverse, p0r, p0):
    """Per customer ``i`` with price rows ``g = inverse[i]``: ``sum_t (q1 p0 r - q0 p0)``,
    summed step by step in time order (one pass over the row)."""
    n, spd = load.shape
    body = np.empty(n)
    for i in range(n):
        g = inverse[i]
        b = 0.0
        for t in range(spd):
            b += load[i, t] * p0r[g, t] - load_base[i, t] * p0[g, t]
        body[i] = b
    return body


# --------------------------------------------------------------------- CES price groups

def utility_change_ces(energy_base: np.ndarray, energy: np.ndarray, price_base: np.ndarray, price_scen: np.ndarray,
                       substitution: np.ndarray, daily: np.ndarray) -> np.ndarray:
    """Change of gross utility of consumption of a CES demand over ``G`` price groups whose
    aggregate follows a constant-elasticity demand in the CES price index (two-stage
    budgeting), for each customer and day.

    The customer's energy in group ``g`` (peak and off-peak for PRISM; any number of
    periods) is a good with price ``p_g``. Lower stage: a CES aggregate of the groups with
    elasticity of substitution ``s = -substitution >= 0``, calibrated on the baseline point
    (weights: baseline spend shares ``w_g = p0_g q0_g / E0``, ``E0 = sum_g p0_g q0_g``), whose
    unit cost, relative to the baseline, is the CES price index::

        pi = P1 / P0 = (sum_g w_g (p1_g / p0_g) ** (1 - s)) ** (1 / (1 - s))
                     = exp(sum_g w_g ln(p1_g / p0_g))                       s = 1

    Upper stage: the aggregate ``X`` follows ``X = X0 (P / P0) ** eta`` (``eta = daily``), and
    utility is quasi-linear, so the surplus of the price change is the area left of that
    demand in the index, ``dCS = -E0 integral_1^pi u ** eta du`` (the constant-elasticity
    integral of :func:`surplus_change_constant_elasticity` with ``q0 p0 = E0``, the ratio
    clipped to [RATIO_MIN, RATIO_MAX]), and the utility change is that surplus plus the change
    of spend on the quantities bought::

        dV = dCS + sum_g p1_g q1_g - E0

    When the groups' quantities are those of the two-stage demand (``X1 = X0 pi ** eta`` and
    the CES split), this is ``integral_{X0}^{X1} P(X) dX`` exactly; with one group it is the
    constant-elasticity ``dV``. A customer whose quantities did not change has ``dV = 0``
    exactly. Price relatives are clipped to [RATIO_MIN, RATIO_MAX] as in the response models;
    a group with no baseline energy or no positive baseline price takes no part in the index,
    and one whose scenario price is not positive enters it unchanged (relative 1).

    The groups may be single steps: steps with the same price relative add up in the index
    as one group would, so the result is the same as over the groups they form.

    Parameters
    ----------
    energy_base, energy : ndarray, shape (n, G)
        Each customer's energy in each group before and after the response. [kWh]
    price_base, price_scen : ndarray, shape (n, G), or (G,) shared by every customer
        Each group's price under the baseline and the role's tariff: its spend over its
        baseline energy (energy-weighted). [currency/kWh]
    substitution : ndarray, shape (n,)
        Elasticity of substitution with its sign (``sigma <= 0``). [-]
    daily : ndarray, shape (n,)
        Price elasticity of the aggregate (``eta <= 0``). [-]

    Returns
    -------
    ndarray, shape (n,)  [currency]

    References
    ----------
    .. [1] A. Deaton and J. Muellbauer, Economics and Consumer Behavior, Cambridge University
       Press, 1980, ch. 5 (separability and two-stage budgeting): with a homothetic group
       sub-utility, the group's spend is its price index times its quantity index, and the
       upper stage sees the group through that index alone.
    .. [2] A. K. Dixit and J. E. Stiglitz, "Monopolistic competition and optimum product
       diversity", American Economic Review 67(3), 1977, 297-308: the CES quantity aggregate
       and its dual price index.
    """
    c = np.ascontiguousarray
    q0, q1 = c(energy_base, dtype=np.float64), c(energy, dtype=np.float64)
    n = q0.shape[0]
    p0, p1 = np.asarray(price_base, dtype=np.float64), np.asarray(price_scen, dtype=np.float64)
    if p0.ndim == 1 and p1.ndim == 1:                   # prices shared by every customer: one row
        p0, p1, inverse = p0[None, :], p1[None, :], np.zeros(n, dtype=np.intp)
    else:
        p0, p1 = np.broadcast_arrays(p0, p1)
        p0, p1 = np.broadcast_to(p0, q0.shape), np.broadcast_to(p1, q0.shape)
        inverse = np.arange(n, dtype=np.intp)
    # each row's clipped log price relatives (0 where the group has no price change to respond to)
    moves = (p0 > 0) & (p1 > 0)
    log_rel = np.where(moves, np.clip(np.log(np.where(moves, p1, 1.0) / np.where(moves, p0, 1.0)),
                                      np.log(RATIO_MIN), np.log(RATIO_MAX)), 0.0)
    sigma = c(np.broadcast_to(np.asarray(substitution, dtype=np.float64), (n,)))
    eta = c(np.broadcast_to(np.asarray(daily, dtype=np.float64), (n,)))
    out = np.empty(n)
    values, counts, codes = distinct_by_row(c(log_rel))          # one exponential per distinct relative
    _ces_utility(q0, q1, c(p0), c(p1), values, counts, codes, inverse, sigma, eta,
                 (np.log(RATIO_MIN), np.log(RATIO_MAX)), out)
    return out


@jit
def _ces_utility(q0, q1, p0, p1, values, counts, codes, inverse, sigma, eta, log_clip, out):
    """:func:`utility_change_ces`, one customer after another: customer ``i``'s prices are
    row ``r = inverse[i]``, whose distinct log price relatives are ``values[r, :counts[r]]``
    and group ``g``'s is number ``codes[r, g]`` of them; the index's sum is taken over the
    distinct relatives (baseline spend added per relative, groups in order)."""
    n, groups = q0.shape
    log_min, log_max = log_clip
    spend_by = np.empty(groups)
    for i in range(n):
        r = inverse[i]
        same = True
        e0 = 0.0
        spend = 0.0
        for k in range(counts[r]):
            spend_by[k] = 0.0
        for g in range(groups):
            if q1[i, g] != q0[i, g]:
                same = False
            if q0[i, g] > 0.0 and p0[r, g] > 0.0:
                e0 += q0[i, g] * p0[r, g]
                spend_by[codes[r, g]] += q0[i, g] * p0[r, g]
            spend += p1[r, g] * q1[i, g] - p0[r, g] * q0[i, g]
        if same:                      # unchanged quantities: no change of utility, exactly
            out[i] = 0.0
            continue
        a = 1.0 + sigma[i]            # 1 - s, s = -sigma
        unit = abs(a) < 1e-9
        m = 0.0                       # sum_g w_g (rel_g ** a - 1), or sum_g w_g ln(rel_g) at a = 0
        if e0 > 0.0:
            for k in range(counts[r]):
                lr = values[r, k]
                if lr != 0.0:
                    m += spend_by[k] / e0 * (lr if unit else np.expm1(a * lr))
        log_pi = m if unit else np.log1p(max(m, -1.0 + 1e-300)) / a
        # Marshallian surplus on the index: -E0 integral_1^pi u ** eta du, clipped as the models clip
        x = min(max(log_pi, log_min), log_max)
        if eta[i] == 0.0:
            cs = -e0 * np.expm1(log_pi)
        else:
            z = (1.0 + eta[i]) * x
            rel = 1.0 if z == 0.0 else np.expm1(z) / z
            cs = -e0 * x * rel
            if x != log_pi:          # past the clip the aggregate stays at its value at the bound
                cs -= e0 * np.exp(eta[i] * x) * (np.exp(log_pi) - np.exp(x))
        out[i] = cs + spend


# ----------------------------------------------------------------- linear demand systems

def utility_change_trapezoid(load_base_kw: np.ndarray, load_kw: np.ndarray, price_base: np.ndarray,
                             price_scen: np.ndarray, step_hours: float) -> np.ndarray:
    """Change of gross utility of consumption by the rule of a half: each step's change of
    energy valued at the mean of its two prices::

        dV = sum_t (p0[t] + p1[t]) / 2 * (q1[t] - q0[t]) * h

    For a demand linear in the prices, the surplus along the straight path from the
    baseline to the scenario prices is ``-sum_t (q0 + q1)/2 (p1 - p0) h`` exactly (the
    integrand is linear along the path), and ``dV = dCS + sum_t (p1 q1 - p0 q0) h`` is the
    form above. A linear system with an asymmetric matrix has no path-independent surplus;
    the straight path is the convention [1]_. Where the response clipped a period's load at
    zero the demand is not linear there and the form is an approximation.

    Parameters
    ----------
    load_base_kw, load_kw : ndarray, shape (n, spd)  [kW]
    price_base, price_scen : ndarray, shape (spd,) or (n, spd)  [currency/kWh]
    step_hours : float  [h]

    Returns
    -------
    ndarray, shape (n,)  [currency]; 0 exactly where the load did not change.

    References
    ----------
    .. [1] A. C. Harberger, "Three basic postulates for applied welfare economics: an
       interpretive essay", Journal of Economic Literature 9(3), 1971, 785-797: the
       change of surplus as the sum of quantity changes times the mean of the old and new
       prices (the rule of a half).
    """
    mid = 0.5 * (np.asarray(price_base, dtype=float) + np.asarray(price_scen, dtype=float))
    dq = np.asarray(load_kw, dtype=float) - np.asarray(load_base_kw, dtype=float)
    return (dq * mid).sum(axis=1) * step_hours
