"""Event-day response: critical-peak pricing (CPP) and peak-time rebate (PTR) events as a
response of their own, in the log form of the price ratio, without a clip.

On a day with called or listed events the tariff's price in the event steps carries an event
component: the critical-peak adder, or the rebate per kWh (a kWh used in an event hour forgoes
the rebate, so the rebate is a price on it). This model owns the response to that component;
the segment's energy-price model (``ces``, ...) then sees the day's prices *without* it (the
pipeline takes it out for every model that does not declare ``handles_events``), so that the
event is answered once, here, and a time-of-use rate under the event is answered there as on
any other day.

Equations, for one customer and one event step ``t``, with ``p_t`` the step's price without
the event and ``p_t + a_t`` its price in the event (``a_t`` the adder or the rebate)::

    r_t   = (p_t + a_t) / p_t                      the event's price ratio (no clip), over the
                                                   baseline tariff's own event ratio in the step
    b     = slope x strength  (x ptr_factor in rebate steps)
    q'_t  = q_t * r_t ** (-b)                      event-step load after the response

The reduction ``1 - r_t ** (-b)`` is ``b ln r_t`` to first order: the log form of the
Arcturus arcs (Faruqui and Sergici 2017), growing with the ratio at every ratio (14:1 gives
more than 10:1); it saturates only where the load runs out (it never passes 100 % of the
event-step load). ``shift_share`` of the energy removed from the event steps is used in the
day's other steps instead, in proportion to their load (pre-cooling, running appliances
later); the rest is forgone. With ``shift_share = 1`` each customer's daily energy is kept.

``strength`` is the day's response strength of the customer (awareness, enabling technology,
learning, the self-selection of enrolment, and event fatigue on consecutive event days:
docs/behavior.md section 4). Where the price without the event is not positive there is no
ratio; such a step does not respond.

**Utility.** Each event step moves along a constant-elasticity demand curve with elasticity
``-b`` from price ``p_t`` to ``p_t + a_t`` (the same integral of inverse demand as
:mod:`sim.behavior.welfare`: ``e / (1 + e) (q' p' - q p) h`` with ``e = -b``); energy used in
another step is valued at that step's price without the event (first order: the customer
chose it at that price).

Sources of the defaults: docs/behavior.md section 3.8 and docs/validation.md.
"""

from __future__ import annotations

import numpy as np

from .registry import CustomerParams, ResponseDay, ResponseModel, register

__all__ = ["EventResponseModel", "event_ratio", "respond_events", "utility_change_events"]


def event_ratio(price: np.ndarray, adder: np.ndarray) -> np.ndarray:
    """``(p + a) / p`` in each step, ``p = price - adder`` the price without the event; 1
    where ``a`` is 0 or ``p`` is not positive. Shapes broadcast ((spd,) or (n, spd))."""
    plain = price - adder
    ok = (adder != 0) & (plain > 0) & (price > 0)
    return np.where(ok, price / np.where(ok, plain, 1.0), 1.0)


def respond_events(load_kw: np.ndarray, ratio: np.ndarray, slope: np.ndarray, shift_share: np.ndarray) -> np.ndarray:
    """Load after the event response.

    Parameters
    ----------
    load_kw : ndarray, shape (n, spd)
        Load before the response. [kW]
    ratio : ndarray, shape (spd,) or (n, spd)
        Each step's event price ratio (1 outside events, :func:`event_ratio`). [-]
    slope : ndarray, shape (n,) or (n, spd)
        Each customer's slope ``b`` of the log form (per step where rebate steps differ). [-]
    shift_share : ndarray, shape (n,)
        Share of the energy removed from event steps used in the day's other steps. [-]

    Returns
    -------
    ndarray, shape (n, spd)  [kW]
    """
    load_kw = np.asarray(load_kw, dtype=np.float64)
    ratio = np.broadcast_to(np.asarray(ratio, dtype=np.float64), load_kw.shape)
    slope = np.asarray(slope, dtype=np.float64)
    b = slope if slope.ndim == 2 else slope[:, None]
    event = ratio != 1.0
    factor = np.where(event, np.exp(-b * np.log(ratio)), 1.0)
    out = load_kw * factor
    removed = (load_kw - out).sum(axis=1)                                    # kW-steps, (n,)
    rest = np.where(event, 0.0, load_kw)
    rest_sum = rest.sum(axis=1)
    add = np.where(rest_sum > 0, np.asarray(shift_share, dtype=np.float64) * removed
                   / np.where(rest_sum > 0, rest_sum, 1.0), 0.0)
    return out + rest * add[:, None]


def utility_change_events(before: np.ndarray, after: np.ndarray, plain: np.ndarray, ratio: np.ndarray,
                          slope: np.ndarray, step_hours: float) -> np.ndarray:
    """Change of each customer's gross utility of consumption from :func:`respond_events`
    (module docstring), shape (n,). [currency]"""
    ratio = np.broadcast_to(np.asarray(ratio, dtype=np.float64), before.shape)
    plain = np.broadcast_to(np.asarray(plain, dtype=np.float64), before.shape)
    slope = np.asarray(slope, dtype=np.float64)
    e = -(slope if slope.ndim == 2 else slope[:, None]) * np.ones_like(before)
    event = ratio != 1.0
    near = np.abs(1.0 + e) < 1e-6
    # on the curve q = q0 (P / p0) ** e: the integral of inverse demand from q0 to q1
    # (at e = -1 it is p0 q0 ln(q1 / q0) = -p0 q0 ln r)
    log_r = np.log(ratio)
    curve = np.where(near, -plain * before * log_r,
                     e / np.where(near, 1.0, 1.0 + e) * (after * plain * ratio - before * plain))
    curve = np.where(event & (before > 0), curve, 0.0)
    moved = np.where(event, 0.0, (after - before) * plain)                    # used in other steps, at their price
    return (curve + moved).sum(axis=1) * step_hours


@register
class EventResponseModel(ResponseModel):
    """``model: event_response``: the scenario role's response to critical-peak and
    peak-time-rebate events (module docstring); its utility term is the integral of inverse
    demand in the event steps and the value of energy used at other times."""

    name = "event_response"
    params = ("slope", "shift_share")
    stage = 12                    # after the energy-price models, before demand shaving
    handles_events = True

    def respond_with_utility(self, load: np.ndarray, day: ResponseDay, params: CustomerParams):
        if not day.own.has_events:
            return load, None
        idx = day.idx
        adder, slope = self._adder_and_slope(day, params.slope[idx] * day.strength)
        ratio = self._ratio(day, adder)
        after = respond_events(load, ratio, slope, params.shift_share[idx])
        return after, utility_change_events(load, after, day.own.price - adder, ratio, slope, day.step_hours)

    def respond(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        return self.respond_with_utility(load, day, params)[0]

    def utility(self, before: np.ndarray, after: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        adder, slope = self._adder_and_slope(day, params.slope[day.idx] * day.strength)
        return utility_change_events(before, after, day.own.price - adder, self._ratio(day, adder), slope,
                                     day.step_hours)

    @staticmethod
    def _ratio(day: ResponseDay, adder: np.ndarray) -> np.ndarray:
        """The scenario's event ratio over the baseline's in the same step (1 where both have the
        same event, or none): the response is to the change of tariff, as for every model."""
        ratio = event_ratio(day.own.price, adder)
        base = day.base
        if not base.has_events:
            return ratio
        base_adder = (base.cpp_adder if base.cpp_adder is not None else 0.0) + \
            (base.ptr_adder if base.ptr_adder is not None else 0.0)
        return ratio / event_ratio(base.price, np.asarray(base_adder, dtype=np.float64))

    def _adder_and_slope(self, day: ResponseDay, slope: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The day's event component of the price (spd,) and each customer's slope: (n,), or
        (n, spd) where rebate steps take ``ptr_factor`` of it."""
        own = day.own
        cpp = own.cpp_adder if own.cpp_adder is not None else 0.0
        ptr = own.ptr_adder if own.ptr_adder is not None else 0.0
        adder = np.asarray(cpp + ptr, dtype=np.float64)
        if own.ptr_adder is None or self.settings.ptr_factor == 1.0:
            return adder, slope
        in_ptr = (own.ptr_adder != 0) & ~((own.cpp_adder if own.cpp_adder is not None else 0.0) != 0)
        return adder, slope[:, None] * np.where(in_ptr, self.settings.ptr_factor, 1.0)[None, :]
