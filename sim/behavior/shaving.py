"""Demand-charge response: a customer keeps its load under a target by rescheduling within the day.

A customer billed on its monthly maximum demand (a demand or capacity charge) lowers that
maximum by moving some of its work out of its highest steps into its quietest ones: a
batch process started after the lunch peak, a pump or compressor run at night. Each day
it aims at a target power, its aim for the month's peak (the engine sets it below the
customer's peak of the month so far):

1. **Clip.** In every step above the target it can move at most ``max_shift_share`` of
   that step's load, and has no reason to go below the target: the step may lose up to
   ``c[t] = min(L[t] - T, s x L[t])`` (0 where ``L[t] <= T``).
2. **Place.** The clipped energy goes to the same day's steps with the most headroom
   below the target, lowest load first: a water-fill that raises the lowest steps to a
   common level ``V <= T`` (``L'[t] = max(L[t], V)``), so no step is raised above the
   target and the day's order of quiet steps is kept.
3. **What does not fit stays.** When the day's headroom ``sum(max(T - L, 0))`` is smaller
   than the energy that could be clipped, the headroom is filled to the target and only
   that much is clipped, taken from the top: the clipped steps come down to a common
   level ``M`` (each no lower than its own floor ``L[t] - c[t]``), which keeps the day's
   maximum as low as the headroom allows.

So energy is conserved per customer (to rounding), no step rises above ``max(L[t], T)``,
the day's maximum never increases, and a target above the day's maximum or a zero share
changes nothing. Moving work costs the customer nothing here: the engine pairs this with
the demand charge the customer saves; the energy-price effect of the moved energy is left
to the energy response models. In the consumer ledger the model's utility term is
therefore zero (the work is done all the same, later the same day): no source found gives
a cost per kWh of rescheduled industrial or commercial work to default to, and a cost of
zero makes the customer's surplus change its bill change, an upper bound on its gain.

A threshold on the customer's own net load is the form that optimal scheduling of
behind-the-meter resources under demand charges takes [1]_; here the threshold is given
(``target_kw``) and the resource is the customer's movable load.

References
----------
.. [1] "Joint scheduling of DER under demand charges: structure and approximation",
   arXiv:2506.21510 (2025): the optimal policy for flexible loads and storage under
   demand charges "admits a threshold-based form". Only the abstract was read for this
   module; the rule here is this module's own.
"""

from __future__ import annotations

import numpy as np

from .inputs import day_block, per_customer
from .registry import CustomerParams, ResponseDay, ResponseModel, register

__all__ = ["shave_peaks"]


def _shave_from_top(load: np.ndarray, floor: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Lower the highest steps to a common level ``M`` (not below ``floor``) so that ``amount`` leaves.

    Solves ``sum_t (L[t] - max(min(L[t], M), floor[t])) = amount`` for ``M`` per row, with
    ``floor <= L`` and ``0 <= amount <= sum(L - floor)``, and returns the lowered load.
    The removed energy is ``r(M) = sum_t min(max(L[t] - M, 0), L[t] - floor[t])``, piecewise
    linear and non-increasing in ``M`` with corners at the ``L[t]`` and the ``floor[t]``;
    at a corner ``a``, ``r(a) = sum_{corners above a} w x corner - a x sum_{corners above a} w``
    with ``w = +1`` for a load and ``-1`` for a floor. One sort of the 2 x spd corners and
    two cumulative sums give ``r`` at every corner; ``M`` is interpolated in the segment
    where ``r`` crosses ``amount``.

    The sort carries each corner's kind in the last bit of its sort key (1: load, 0:
    floor), which moves a value by at most one unit in the last place (~1e-16 relative):
    a sort of integer keys instead of an argsort and a gather, at half the cost. The key
    is the float's bit pattern with the magnitude bits of negative values flipped, which
    orders as the values do. The lowered load is then clamped with the exact loads and
    floors.
    """
    n, spd = load.shape
    keys = np.concatenate([load, floor], axis=1).view(np.int64)
    flip = np.int64(0x7FFFFFFFFFFFFFFF)
    np.bitwise_xor(keys, flip, out=keys, where=keys < 0)           # order-preserving for any sign
    keys[:, :spd] |= 1
    keys[:, spd:] &= ~1
    keys.sort(axis=1)                                              # ascending values
    weight = (keys & 1).astype(np.float64)
    np.bitwise_xor(keys, flip, out=keys, where=keys < 0)
    corners = keys.view(np.float64)
    weight *= 2.0
    weight -= 1.0                                                  # +1 load, -1 floor
    count = np.cumsum(weight, axis=1)                              # -(sum of w above a[k]), exact integers
    np.multiply(weight, corners, out=weight)
    moment = np.cumsum(weight, axis=1)
    # r(a[k]) = (moment[-1] - moment[k]) + a[k] x count[k]   (sum w = 0 over all corners)
    removed = np.subtract(moment[:, -1:].copy(), moment, out=moment)
    removed += corners * count
    # The last corner with r >= amount: M lies between it and the next one, where
    # -count[k] steps are being lowered.
    k = np.minimum((removed >= amount[:, None]).sum(axis=1) - 1, 2 * spd - 2)
    rows = np.arange(n)
    lowering = np.maximum(-count[rows, k], 1.0)
    level = corners[rows, k] + (removed[rows, k] - amount) / lowering
    return np.maximum(np.minimum(load, level[:, None]), floor)


def _fill_level(load: np.ndarray, target: np.ndarray, amount: np.ndarray,
                work: np.ndarray | None = None) -> np.ndarray:
    """Water level ``V <= target`` with ``sum_t max(V - L[t], 0) = amount``, per row.

    On the loads capped at the target and sorted ascending (``u``), raising the ``k + 1``
    lowest to ``u[k]`` takes ``(k + 1) u[k] - cumsum(u)[k]``; ``V`` lies in the last
    segment whose need is <= ``amount``: ``V = (amount + cumsum(u)[k]) / (k + 1)``.
    Requires ``0 <= amount <= sum(max(target - L, 0))``. ``work``: optional scratch array
    of the shape of ``load``.
    """
    n, spd = load.shape
    u = np.minimum(load, target[:, None], out=work)
    u.sort(axis=1)
    cum_u = np.cumsum(u, axis=1)
    need = np.multiply(u, np.arange(1, spd + 1), out=u)
    need -= cum_u
    k = (need <= amount[:, None]).sum(axis=1) - 1                  # >= 0: need[:, 0] == 0
    level = (amount + cum_u[np.arange(n), k]) / (k + 1)
    return np.minimum(level, target)                               # rounding: never above the target


def shave_peaks(load_kw: np.ndarray, target_kw: np.ndarray, max_shift_share: np.ndarray,
                step_hours: float) -> np.ndarray:
    """Load after the customer has moved energy from steps above its target to its quietest steps.

    See the module docstring: clip at most ``max_shift_share`` of each step's load above
    ``target_kw`` (not below the target), water-fill the clipped energy into the lowest
    steps up to the target at most, and leave what does not fit, shaving from the top.

    Parameters
    ----------
    load_kw : ndarray, shape (n, spd)
        Load of each customer in each step of the day, >= 0. [kW]
    target_kw : ndarray, shape (n,)
        Power the customer tries to stay at or below (its aim for the month's peak). [kW]
    max_shift_share : ndarray, shape (n,)
        Largest share of a step's load that can be moved to another step; clipped to
        [0, 1]. [-]
    step_hours : float
        Length of one step, ``24 / spd``. [h] Energy moved is proportional to it on both
        sides, so the result does not depend on it; kept so that every response model is
        called alike.

    Returns
    -------
    ndarray, shape (n, spd)
        Load after shaving, float64. [kW]

    Notes
    -----
    Invariants (tested in ``tests/test_behavior_shifting.py``): each customer's energy is
    unchanged (to rounding, ~1e-15 relative); no step rises above ``max(L[t], target)``;
    the day's maximum never increases; a target at or above the day's maximum, or a zero
    share, returns the load unchanged (bit for bit).

    References
    ----------
    .. [1] arXiv:2506.21510 (2025), threshold form of demand-charge scheduling; see the
       module docstring.
    """
    load, n, spd = day_block(load_kw, step_hours)
    target = per_customer(target_kw, n, "target_kw")
    share = np.clip(per_customer(max_shift_share, n, "max_shift_share"), 0.0, 1.0)
    # Energies in kW x steps (h multiplies both sides alike). Clip c[t] = min(L - T, s L)+.
    clip = np.subtract(load, target[:, None])
    buf = np.multiply(load, share[:, None])
    np.minimum(clip, buf, out=clip)
    np.maximum(clip, 0.0, out=clip)
    clippable = clip.sum(axis=1)
    # Headroom sum(max(T - L, 0)).
    room = np.subtract(target[:, None], load, out=buf)
    np.maximum(room, 0.0, out=room)
    headroom = room.sum(axis=1)
    active = (clippable > 0) & (headroom > 0)
    short = active & (clippable > headroom)                            # not everything fits
    fits = active & ~short
    if fits.all():
        # Every clip taken, water-filled below the target (the usual case; no row gathers).
        level = _fill_level(load, target, clippable, work=buf)
        out = np.subtract(load, clip, out=clip)
        return np.maximum(out, level[:, None], out=out)               # lowered peaks stay >= T >= V
    out = np.copy(load)
    rows = np.flatnonzero(fits)
    if rows.size:
        level = _fill_level(load[rows], target[rows], clippable[rows])
        out[rows] = np.maximum(load[rows] - clip[rows], level[:, None])
    rows = np.flatnonzero(short)
    if rows.size:
        # The headroom is filled to the target; only that much leaves, from the top.
        lowered = _shave_from_top(load[rows], load[rows] - clip[rows], headroom[rows])
        out[rows] = np.maximum(lowered, target[rows, None])
    return out


@register
class DemandShavingModel(ResponseModel):
    """``model: demand_shaving``: in the scenario role, where the scenario's demand charges
    are dearer than the baseline's, each customer's load is held to its baseline peak of the
    month so far less the reduction x the day's strength."""

    name = "demand_shaving"
    params = ("reduction", "max_shift_share")
    stage = 20
    needs_month_peak = True

    def respond(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        # shave only where the scenario's demand charges are dearer than the baseline's
        if not (day.own.demand_price > day.base.demand_price and day.month_peak_kw is not None):
            return load
        idx = day.idx
        target = (1.0 - params.reduction[idx] * day.strength) * day.month_peak_kw
        return shave_peaks(load, target, params.max_shift_share[idx], day.step_hours)

    def utility(self, before: np.ndarray, after: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        """Zero: the energy is conserved and moving work is taken to cost the customer
        nothing (module docstring), so the customer's gain is its bill saving."""
        return np.zeros(before.shape[0])
