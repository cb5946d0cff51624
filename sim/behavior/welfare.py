"""Change of consumer surplus when prices move along a constant-elasticity demand curve.

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

References
----------
.. [1] A. Mas-Colell, M. D. Whinston and J. R. Green, Microeconomic Theory, Oxford
   University Press, 1995, ch. 3 (welfare evaluation of price changes): the Marshallian
   consumer surplus change is the area to the left of the demand curve between the two
   prices. Standard textbook result; no figure is taken from it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jit import jit

from ..rowmath import RowGroups
from .elasticity import RATIO_MAX, RATIO_MIN, respond_rows

__all__ = ["respond_with_surplus", "surplus_change_constant_elasticity", "surplus_change_from_response"]


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


def surplus_change_from_response(load_base_kw: np.ndarray, load_kw: np.ndarray, price_base: np.ndarray,
                                 price_scen: np.ndarray, elasticity: np.ndarray, step_hours: float, *,
                                 groups: RowGroups | None = None) -> np.ndarray:
    """The same surplus change as :func:`surplus_change_constant_elasticity`, from the load
    the response already computed: no further powers or exponentials.

    On the demand curve ``q1 = q0 * r ** e`` (``r`` the clipped price ratio), so
    ``q0 * r ** (1 + e) = q1 * r`` and, for ``e != -1``::

        dCS = -p0 * (q1 * r - q0) / (1 + e)  -  q1 * (p1 - p0 * r)

    the second term being the clip's rectangle (zero inside the clip). The sums over a
    customer's steps are one compiled pass over its row (:func:`_surplus_sums`), the same
    arithmetic whether its prices came shared, grouped or per customer. Where ``|1 + e| < 1e-6`` (or the
    baseline price is not positive) the exact function is used for those customers.

    Parameters
    ----------
    load_base_kw, load_kw : ndarray, shape (n, spd)
        Load before and after the constant-elasticity response. [kW]
    price_base, price_scen : ndarray, shape (spd,) or (n, spd)  [currency/kWh]
    elasticity : ndarray, shape (n,)
    step_hours : float
    groups : RowGroups, optional
        ``group_rows(price_base, price_scen)`` (per-customer prices only): the price work
        is then done once per distinct pair of rows, and each customer's sums are the
        per-customer path's, element for element (the same result).

    Returns
    -------
    ndarray, shape (n,)  [currency]
    """
    rows = _price_rows(price_base, price_scen, len(elasticity), groups)
    body, extra = _surplus_sums(np.ascontiguousarray(load_base_kw, dtype=np.float64),
                                np.ascontiguousarray(load_kw, dtype=np.float64), rows.inverse, rows.p0 * rows.r,
                                rows.p0, rows.rect)
    return _surplus(body, extra, load_base_kw, rows, elasticity, step_hours)


def respond_with_surplus(load_base_kw: np.ndarray, price_base: np.ndarray, price_scen: np.ndarray,
                         elasticity: np.ndarray, step_hours: float, *,
                         groups: RowGroups | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sim.behavior.elasticity.constant_elasticity` and
    :func:`surplus_change_from_response` of its result in one pass over each customer's day:
    (load [kW], surplus change [currency]), the same numbers as the two calls.

    Parameters as :func:`surplus_change_from_response` (``load_kw`` being the result).
    """
    rows = _price_rows(price_base, price_scen, len(elasticity), groups)
    load, body, extra = respond_rows(load_base_kw, np.log(rows.r), rows.inverse, elasticity,
                                     (rows.p0 * rows.r, rows.p0, rows.rect))
    return load, _surplus(body, extra, load_base_kw, rows, elasticity, step_hours)


class _PriceRows(NamedTuple):
    """Both prices of a block as rows, each customer's row, and the clipped ratio."""

    p0: np.ndarray        #: (G, spd) baseline price rows
    p1: np.ndarray        #: (G, spd) scenario price rows
    inverse: np.ndarray   #: (n,) each customer's row
    ok: np.ndarray        #: (G, spd) bool, baseline price > 0
    r: np.ndarray         #: (G, spd) clipped price ratio (1 where not ok)
    rect: np.ndarray      #: (G, spd) the clip's rectangle p1 - p0 r


def _price_rows(price_base, price_scen, n: int, groups: RowGroups | None) -> _PriceRows:
    """Both prices as rows (G, spd) with each customer's row ``inverse`` (n,): the groups'
    rows, one shared row, or one row per customer. With them, where the baseline price is
    positive (``ok``), the clipped price ratio ``r`` (1 elsewhere: no response) and the
    clip's rectangle ``rect = p1 - p0 r`` (zero inside the clip)."""
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
    return _PriceRows(p0, p1, inverse, ok, r, p1 - p0 * r)


def _surplus(body, extra, load_base_kw, rows: _PriceRows, elasticity, step_hours) -> np.ndarray:
    """The surplus change from the two sums of :func:`_surplus_sums`; the exact form for
    customers near unit elasticity or with a free baseline step."""
    denom = 1.0 + elasticity
    near = np.abs(denom) < 1e-6
    out = -(body / np.where(near, 1.0, denom) + extra) * step_hours
    exact = near | ~rows.ok.all(axis=1)[rows.inverse]
    if exact.any():
        # rare: unit elasticity, or free baseline steps (no response there, q1 = q0)
        which = rows.inverse[exact]
        out[exact] = surplus_change_constant_elasticity(load_base_kw[exact], rows.p0[which], rows.p1[which],
                                                        elasticity[exact], step_hours)
    return out


@jit
def _surplus_sums(load_base, load, inverse, p0r, p0, rect):
    """Per customer ``i`` with price rows ``g = inverse[i]``: ``sum_t (q1 p0 r - q0 p0)`` and
    ``sum_t q1 (p1 - p0 r)``, summed step by step in time order (one pass over the row)."""
    n, spd = load.shape
    body = np.empty(n)
    extra = np.empty(n)
    for i in range(n):
        g = inverse[i]
        b = 0.0
        x = 0.0
        for t in range(spd):
            q1 = load[i, t]
            b += q1 * p0r[g, t] - load_base[i, t] * p0[g, t]
            x += q1 * rect[g, t]
        body[i] = b
        extra[i] = x
    return body, extra
