"""Controllable load: a device (smart thermostat, AC switch, water-heater or EV control)
that keeps a share of one end use's load off in a day's high-price steps, pre-cools before
them and draws part of the energy back after (``model: controllable_load``).

What a device can remove is the load it controls, and nothing more: for cooling and
heating, the temperature-dependent part of the customer's load from the scenario's weather
(:mod:`sim.population.thermal`), so the same device removes more on a hot day than on a
mild one, and nothing without weather; for a water heater or an EV charger, a fixed share
of the load. docs/behavior.md ("Controllable load") has the equations and sources.

Per customer ``i`` and step ``t`` of a day (``h`` the step length in hours)::

    C[t]   = min(L[t], P_i * c[t])            (cooling/heating: c from the weather; fixed: f_i L[t])
    K      = steps with p[t] >= r * min_t p[t], the first floor(H / h) of them (comfort limit H)
    cut[t] = s_i * C[t]                  t in K     (s_i: device_share with a device, else manual_share x m_i)
    pre[t] = q_i * C[t]                  the precool_hours before the first step of K
    reb[t] = b_i * max(E_cut - E_pre, 0) / (R h)   the recovery_hours after the last step of K (within the day)
    L'[t]  = L[t] - cut[t] + pre[t] + reb[t]

and the day's energy closes exactly: ``sum_t (L - L') h = E_cut - E_pre - E_reb`` (kept off
net; ``device_*_kwh`` running sums in the scenario role).
"""

from __future__ import annotations

import numpy as np

from .registry import CustomerParams, ResponseDay, ResponseModel, register

__all__ = ["ControlDay", "ControllableLoadModel", "control_day", "control_steps", "duration_factor"]


def control_steps(price: np.ndarray, trigger_ratio: float, max_steps: int) -> np.ndarray:
    """The steps a device acts in, per customer: price at least ``trigger_ratio`` x the day's
    lowest price (a day whose lowest price is 0 or below: x its mean absolute price), the
    first ``max_steps`` of them (the comfort limit). ``price`` (n, spd); returns bool (n, spd)."""
    lo = price.min(axis=1, keepdims=True)
    ref = np.where(lo > 0, lo, np.abs(price).mean(axis=1, keepdims=True))
    on = (price >= trigger_ratio * ref) & (ref > 0)
    return on & (np.cumsum(on, axis=1) <= max_steps)


def duration_factor(hours: np.ndarray, reference_hours: float, exponent: float) -> np.ndarray:
    """Factor on a device's per-hour share for a control of ``hours`` hours:
    ``(hours / reference_hours) ** -exponent`` (1 at the reference length; more for shorter
    controls, less for longer ones). A thermostat's setback lets the indoor temperature drift
    up, and the longer the event the more of it the air conditioner has to run again: the
    California pilot's thermostat homes cut 41 % of their peak load in two-hour critical
    periods and 25 % in five-hour ones (Herter et al., LBNL), which ``exponent``
    ln(41 / 25) / ln(5 / 2) = 0.54 reproduces (docs/behavior.md 3.6a). ``hours`` 0 gives 1."""
    h = np.asarray(hours, dtype=np.float64)
    return np.where(h > 0, (np.where(h > 0, h, 1.0) / reference_hours) ** -exponent, 1.0)


class ControlDay:
    """A day's control of some customers: the load after it and its energy ledger.

    Attributes
    ----------
    load_kw : ndarray, shape (n, spd)  [kW]
    curtailed_kwh, precool_kwh, rebound_kwh : ndarray, shape (n,)
        Energy kept off in the control steps, drawn extra before them and drawn back after. [kWh]
    """

    __slots__ = ("load_kw", "curtailed_kwh", "precool_kwh", "rebound_kwh")

    def __init__(self, load_kw, curtailed_kwh, precool_kwh, rebound_kwh):
        self.load_kw, self.curtailed_kwh = load_kw, curtailed_kwh
        self.precool_kwh, self.rebound_kwh = precool_kwh, rebound_kwh


def control_day(load: np.ndarray, controlled: np.ndarray, on: np.ndarray, share: np.ndarray,
                precool: tuple[int, np.ndarray], rebound: tuple[int, np.ndarray], step_hours: float) -> ControlDay:
    """The load after a day's control (module docstring).

    Parameters
    ----------
    load, controlled : ndarray, shape (n, spd)
        Load, and the part of it the device controls (0 <= controlled <= load). [kW]
    on : ndarray of bool, shape (n, spd), or (1, spd) shared by all
        Control steps (:func:`control_steps`).
    share : ndarray, shape (n,)
        Share of the controlled load kept off in a control step, in [0, 1].
    precool : (steps, share per customer (n,))
        Pre-cooling steps before the first control step and the extra share of the controlled load.
    rebound : (steps, share per customer (n,))
        Recovery steps after the last control step and the share of the net energy drawn back.
    step_hours : float
    """
    n, spd = load.shape
    t = np.arange(spd)[None, :]
    has = on.any(axis=1, keepdims=True)
    first = np.argmax(on, axis=1)[:, None]
    last = spd - 1 - np.argmax(on[:, ::-1], axis=1)[:, None]
    cut = controlled * on * share[:, None]
    pre_mask = has & (t >= first - precool[0]) & (t < first)
    after = load - cut
    e_cut = cut.sum(axis=1) * step_hours
    if precool[0] > 0 and pre_mask.any():
        pre = controlled * pre_mask * precool[1][:, None]
        after += pre
        e_pre = pre.sum(axis=1) * step_hours
    else:
        e_pre = np.zeros(n)
    reb_mask = has & (t > last) & (t <= last + rebound[0])
    steps = np.broadcast_to(reb_mask.sum(axis=1), (n,))
    # the recovery window ends at midnight: what falls beyond it is not drawn back
    e_reb = np.where(steps > 0, rebound[1] * np.maximum(e_cut - e_pre, 0.0), 0.0)
    reb_kw = np.divide(e_reb, steps * step_hours, out=np.zeros(n), where=steps > 0)
    after += reb_mask * reb_kw[:, None]
    return ControlDay(after, e_cut, e_pre, e_reb)


@register
class ControllableLoadModel(ResponseModel):
    """Curtailment, pre-cooling and rebound of a controlled end use (module docstring)."""

    name = "controllable_load"
    params = ("fixed_share", "device_share", "manual_share", "precool_share", "rebound_share")
    stage = 25                      # after the energy-price models and demand shaving, before flexible loads
    sees_events = True              # dispatched on the event signal, also where event_response answers the events
    roles = ("scenario",)
    stats = ("device_curtailed_kwh", "device_precool_kwh", "device_rebound_kwh")

    def draw(self, draw_param, rng: np.random.Generator, rows: int) -> dict[str, np.ndarray]:
        out = super().draw(draw_param, rng, rows)
        out["device"] = (rng.random(rows) < self.settings.adoption).astype(float)  # after the parameters
        return out

    def controlled(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray | None:
        """The load the device controls (n, spd) [kW], or None (none today)."""
        s = self.settings
        if s.end_use == "fixed":
            return params.fixed_share[day.idx][:, None] * load
        w = day.weather
        if w is None:
            return None
        part = w.cooling if s.end_use == "cooling" else w.heating
        if not part.any():
            return None
        # never more than the load there is (the price models may have lowered it already)
        own = day.mean_kw[day.idx][:, None] * part[None, :]
        if day.thermal_kept is not None:      # less what the event response already turned off by hand
            own = own * day.thermal_kept
        return np.minimum(own, np.maximum(load, 0.0))

    def control(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> ControlDay | None:
        """The day's control of the customers ``day.idx``, or None where nothing happens."""
        s, idx, h = self.settings, day.idx, day.step_hours
        price = np.asarray(day.own.price, dtype=float)
        # one price row for all: the control steps once, as a (1, spd) mask every customer shares
        on = control_steps(price[None, :] if price.ndim == 1 else price, s.trigger_ratio,
                           int(np.floor(s.max_hours / h + 1e-9)))
        if not on.any():
            return None
        c = self.controlled(load, day, params)
        if c is None:
            return None
        device = params.device[idx] > 0
        # automation keeps its share (per hour, less in a long control: duration_factor); by hand, the
        # day's response strength (awareness, fatigue) applies
        share = np.where(device, self._device_share(params.device_share[idx], on, h),
                         np.minimum(params.manual_share[idx] * day.strength, 1.0))
        steps = (int(round(s.precool_hours / h)), int(round(s.recovery_hours / h)))
        return control_day(load, c, on, share, (steps[0], params.precool_share[idx]),
                           (steps[1], params.rebound_share[idx]), h)

    def _device_share(self, share: np.ndarray, on: np.ndarray, step_hours: float) -> np.ndarray:
        """A device's share of the controlled load kept off in each control step, for the day's
        control length: ``device_share`` at ``reference_hours``, x ``duration_factor`` below (no
        change with ``duration_exponent`` 0, the default)."""
        k = self.settings.duration_exponent
        if k == 0.0:
            return share
        hours = on.sum(axis=1) * step_hours                     # (n,) or (1,): the day's control hours
        return np.minimum(share * duration_factor(hours, self.settings.reference_hours, k), 1.0)

    def respond(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        got = self.control(load, day, params)
        if got is None:
            return load
        if day.stats is not None and day.role == "scenario":
            day.stats["device_curtailed_kwh"][day.idx] += got.curtailed_kwh
            day.stats["device_precool_kwh"][day.idx] += got.precool_kwh
            day.stats["device_rebound_kwh"][day.idx] += got.rebound_kwh
        return got.load_kw

    def utility(self, before: np.ndarray, after: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        """The energy kept off (and drawn extra) valued at the baseline's marginal price of its
        step: ``-sum_t p_base[t] (L[t] - L'[t]) h`` (first order, as interruptible curtailment)."""
        p = np.asarray(day.base.price, dtype=float)
        return -((before - after) * p).sum(axis=1) * day.step_hours
