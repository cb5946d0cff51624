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

**Temperature-dependent load.** With weather (``ResponseDay.weather``) and ``thermal_factor``
set, each event step's load is split into its temperature-dependent part ``T_t = min(P x
(cooling_t + heating_t), q_t)`` (``P`` the customer's mean load, the parts per kW of mean load
from :mod:`sim.population.thermal`) and the rest ``N_t = q_t - T_t``; each answers with its
own slope::

    q'_t  = N_t * r_t ** (-b x other_factor) + T_t * r_t ** (-b x thermal_factor)

so the response grows with the cooling (or heating) load there is to move on the day: the
California pilot's manual critical-peak response was 4 % on mild days and 13 % on hot ones
(Herter et al., LBNL; docs/behavior.md section 3.8 has the derivation of both factors).
Without weather, or without ``thermal_factor``, the whole load answers with ``b`` as above
(the same arithmetic, bit for bit): the day's temperature is then unknown, and ``b`` stands
for an average event day. The share of the temperature-dependent load left after the
response is given to later models (``ResponseDay.thermal_kept``): a device then controls
what the customers did not already turn off by hand.

**Notice.** An event announced on its own day (same-day, "day-of" notice: its programme's
``notice_hours`` no longer than the event's start hour, :func:`same_day_steps`) is answered with
``b x same_day_factor`` in its steps: Centre for Net Zero found the Saving Sessions of Octopus
Energy's customers (Great Britain, winter 2022-23) about a quarter less effective with day-of
than with day-ahead notice (docs/behavior.md section 3.8). Listed events and those the operator
calls keep the programme's notice (24 h, day-ahead, by default).

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

__all__ = ["EventResponseModel", "event_ratio", "respond_events", "respond_events_split", "same_day_steps",
           "step_factors", "thermal_load", "utility_change_events", "utility_change_events_split"]


def event_ratio(price: np.ndarray, adder: np.ndarray) -> np.ndarray:
    """``(p + a) / p`` in each step, ``p = price - adder`` the price without the event; 1
    where ``a`` is 0 or ``p`` is not positive. Shapes broadcast ((spd,) or (n, spd))."""
    plain = price - adder
    ok = (adder != 0) & (plain > 0) & (price > 0)
    return np.where(ok, price / np.where(ok, plain, 1.0), 1.0)


def same_day_steps(event: np.ndarray, notice_hours: float, step_hours: float) -> np.ndarray:
    """The steps (spd,) of the events in ``event`` (bool, spd) that are announced on their own
    day: each run of consecutive event steps is one event, starting at hour ``h`` (its first
    step x ``step_hours``); it is announced ``notice_hours`` before it starts, on its own day
    where ``notice_hours <= h`` (same-day, "day-of" notice; compared with 1e-9 h to spare, as
    steps of 10 minutes do not give exact hours), the day before or earlier otherwise."""
    event = np.asarray(event, dtype=bool)
    if not event.any():
        return np.zeros_like(event)
    starts = event & ~np.concatenate(([False], event[:-1]))             # first step of each run
    run = np.cumsum(starts)                                             # the run each step belongs to (1, 2, ...)
    start_hour = np.flatnonzero(starts) * step_hours
    same = np.concatenate(([False], notice_hours <= start_hour + 1e-9))
    return event & same[run]


def step_factors(own, ptr_factor: float, same_day_factor: float, step_hours: float) -> np.ndarray | None:
    """The factor on the event slope in each step (spd,), or None where it is 1 everywhere:
    ``ptr_factor`` in rebate steps (a step with a critical-peak adder counts as critical
    peak), x ``same_day_factor`` in the steps of events announced on their own day
    (:func:`same_day_steps`, with the programme's notice, ``own.cpp_notice_hours`` or
    ``own.ptr_notice_hours``). ``own``: the day's :class:`~sim.behavior.prices.PriceDay`."""
    spd = own.price.shape[-1]
    in_cpp = (own.cpp_adder != 0) if own.cpp_adder is not None else np.zeros(spd, dtype=bool)
    in_ptr = ((own.ptr_adder != 0) & ~in_cpp) if own.ptr_adder is not None else np.zeros(spd, dtype=bool)
    factor = np.ones(spd)
    if ptr_factor != 1.0:
        factor = np.where(in_ptr, ptr_factor, factor)
    if same_day_factor != 1.0:
        same = (same_day_steps(in_cpp, own.cpp_notice_hours, step_hours)
                | same_day_steps(in_ptr, own.ptr_notice_hours, step_hours))
        factor = np.where(same, factor * same_day_factor, factor)
    return None if bool(np.all(factor == 1.0)) else factor


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
    return _spread(out, np.where(event, 0.0, load_kw), (load_kw - out).sum(axis=1), shift_share)


def _spread(out: np.ndarray, rest: np.ndarray, removed: np.ndarray, shift_share) -> np.ndarray:
    """``out`` plus ``shift_share`` x ``removed`` (n,) [kW-steps] spread over each customer's
    steps in proportion to ``rest`` (its load outside the event steps; nothing where it has none)."""
    rest_sum = rest.sum(axis=1)
    shifted = np.asarray(shift_share, dtype=np.float64) * removed
    with np.errstate(over="ignore"):
        add = np.where(rest_sum > 0, shifted / np.where(rest_sum > 0, rest_sum, 1.0), 0.0)
    bad = ~np.isfinite(add)
    if bad.any():      # a subnormal load outside the events: the quotient overflows; spread by shares instead
        share = rest[bad] / rest_sum[bad, None]
        moved = rest * np.where(bad, 0.0, add)[:, None]   # (the bad rows' inf x 0 would warn)
        moved[bad] = share * shifted[bad, None]
        return out + moved
    return out + rest * add[:, None]


def _curve(before: np.ndarray, after: np.ndarray, plain: np.ndarray, ratio: np.ndarray,
           slope: np.ndarray) -> np.ndarray:
    """Per event step, the integral of the inverse demand of elasticity ``-slope`` from the
    load ``before`` to ``after`` (0 outside events), shape (n, spd); arrays already broadcast."""
    slope = np.asarray(slope, dtype=np.float64)
    e = -(slope if slope.ndim == 2 else slope[:, None]) * np.ones_like(before)
    event = ratio != 1.0
    near = np.abs(1.0 + e) < 1e-6
    # on the curve q = q0 (P / p0) ** e: the integral of inverse demand from q0 to q1
    # (at e = -1 it is p0 q0 ln(q1 / q0) = -p0 q0 ln r)
    log_r = np.log(ratio)
    curve = np.where(near, -plain * before * log_r,
                     e / np.where(near, 1.0, 1.0 + e) * (after * plain * ratio - before * plain))
    return np.where(event & (before > 0), curve, 0.0)


def utility_change_events(before: np.ndarray, after: np.ndarray, plain: np.ndarray, ratio: np.ndarray,
                          slope: np.ndarray, step_hours: float) -> np.ndarray:
    """Change of each customer's gross utility of consumption from :func:`respond_events`
    (module docstring), shape (n,). [currency]"""
    ratio = np.broadcast_to(np.asarray(ratio, dtype=np.float64), before.shape)
    plain = np.broadcast_to(np.asarray(plain, dtype=np.float64), before.shape)
    curve = _curve(before, after, plain, ratio, slope)
    moved = np.where(ratio != 1.0, 0.0, (after - before) * plain)              # used in other steps, at their price
    return (curve + moved).sum(axis=1) * step_hours


def thermal_load(load: np.ndarray, per_kw: np.ndarray, mean_kw: np.ndarray) -> np.ndarray:
    """The temperature-dependent part of each customer's load, ``min(P x c[t], max(q, 0))``,
    shape (n, spd). [kW]

    ``per_kw`` (spd,): the cooling and heating load per kW of mean load (the weather model);
    ``mean_kw`` (n,): each customer's mean load ``P``. Never more than the load there is."""
    return np.minimum(np.asarray(mean_kw, dtype=np.float64)[:, None] * np.asarray(per_kw)[None, :],
                      np.maximum(load, 0.0))


def respond_events_split(load_kw: np.ndarray, thermal_kw: np.ndarray, ratio: np.ndarray,
                         slopes: tuple[np.ndarray, np.ndarray], shift_share: np.ndarray) -> np.ndarray:
    """Load after the event response where the temperature-dependent part ``thermal_kw``
    (0 <= thermal_kw <= load_kw) answers with its own slope (module docstring).

    ``slopes``: (slope of the rest, slope of the temperature-dependent part), each (n,) or
    (n, spd). Energy removed from event steps is used in other steps as in :func:`respond_events`."""
    load_kw = np.asarray(load_kw, dtype=np.float64)
    ratio = np.broadcast_to(np.asarray(ratio, dtype=np.float64), load_kw.shape)
    event = ratio != 1.0
    log_r = np.log(np.where(event, ratio, 1.0))
    b_other, b_thermal = (np.asarray(b, dtype=np.float64) for b in slopes)
    b_other = b_other if b_other.ndim == 2 else b_other[:, None]
    b_thermal = b_thermal if b_thermal.ndim == 2 else b_thermal[:, None]
    other = load_kw - thermal_kw
    out = np.where(event, other * np.exp(-b_other * log_r) + thermal_kw * np.exp(-b_thermal * log_r), load_kw)
    return _spread(out, np.where(event, 0.0, load_kw), (load_kw - out).sum(axis=1), shift_share)


def utility_change_events_split(before: np.ndarray, after: np.ndarray, thermal_kw: np.ndarray, plain: np.ndarray,
                                ratio: np.ndarray, slopes: tuple[np.ndarray, np.ndarray],
                                step_hours: float) -> np.ndarray:
    """Change of gross utility from :func:`respond_events_split`, shape (n,): each part of an
    event step moves along its own demand curve (the rest with the first slope, the
    temperature-dependent part with the second); energy used in other steps at their price. [currency]"""
    ratio = np.broadcast_to(np.asarray(ratio, dtype=np.float64), before.shape)
    plain = np.broadcast_to(np.asarray(plain, dtype=np.float64), before.shape)
    event = ratio != 1.0
    log_r = np.log(np.where(event, ratio, 1.0))
    parts = (before - thermal_kw, thermal_kw)
    curve = np.zeros_like(before)
    for part, b in zip(parts, slopes):
        b = np.asarray(b, dtype=np.float64)
        b2 = b if b.ndim == 2 else b[:, None]
        curve = curve + _curve(part, part * np.exp(-b2 * log_r), plain, ratio, b)
    moved = np.where(event, 0.0, (after - before) * plain)
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
        plain = day.own.price - adder
        thermal = self._thermal(load, day)
        if thermal is None:
            after = respond_events(load, ratio, slope, params.shift_share[idx])
            return after, utility_change_events(load, after, plain, ratio, slope, day.step_hours)
        s = self.settings
        slopes = (slope * s.other_factor, slope * s.thermal_factor)
        after = respond_events_split(load, thermal, ratio, slopes, params.shift_share[idx])
        self._hand_on(day, thermal, ratio, slopes[1])
        return after, utility_change_events_split(load, after, thermal, plain, ratio, slopes, day.step_hours)

    def respond(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        return self.respond_with_utility(load, day, params)[0]

    def utility(self, before: np.ndarray, after: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        adder, slope = self._adder_and_slope(day, params.slope[day.idx] * day.strength)
        ratio, plain = self._ratio(day, adder), day.own.price - adder
        thermal = self._thermal(before, day)
        if thermal is None:
            return utility_change_events(before, after, plain, ratio, slope, day.step_hours)
        s = self.settings
        return utility_change_events_split(before, after, thermal, plain, ratio,
                                           (slope * s.other_factor, slope * s.thermal_factor), day.step_hours)

    def _thermal(self, load: np.ndarray, day: ResponseDay) -> np.ndarray | None:
        """The temperature-dependent part of the load (n, spd) where the split applies (weather
        and ``thermal_factor`` given), else None."""
        if getattr(self.settings, "thermal_factor", None) is None or day.weather is None:
            return None
        w = day.weather
        return thermal_load(load, w.cooling + w.heating, day.mean_kw[day.idx])

    @staticmethod
    def _hand_on(day: ResponseDay, thermal: np.ndarray, ratio: np.ndarray, slope: np.ndarray) -> None:
        """Tell later models (a device) which share of the temperature-dependent load is left in
        each step: ``r ** -b_thermal`` in event steps, 1 elsewhere."""
        r = np.broadcast_to(np.asarray(ratio, dtype=np.float64), thermal.shape)
        b = np.asarray(slope, dtype=np.float64)
        b = b if b.ndim == 2 else b[:, None]
        day.thermal_kept = np.where(r != 1.0, np.exp(-b * np.log(np.where(r != 1.0, r, 1.0))), 1.0)

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
        (n, spd) where rebate steps take ``ptr_factor`` of it and steps of events announced on
        their own day ``same_day_factor`` (:func:`step_factors`)."""
        own = day.own
        cpp = own.cpp_adder if own.cpp_adder is not None else 0.0
        ptr = own.ptr_adder if own.ptr_adder is not None else 0.0
        adder = np.asarray(cpp + ptr, dtype=np.float64)
        s = self.settings
        factor = step_factors(own, s.ptr_factor, s.same_day_factor, day.step_hours)
        return adder, (slope if factor is None else slope[:, None] * factor[None, :])
