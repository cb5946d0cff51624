"""How a block of customers responds on one day: a segment's registered models applied in
stage order (:mod:`sim.behavior.registry`), then interruptible curtailment.

The engine hands over prices as arrays (:class:`~sim.behavior.prices.PriceDay`), never
tariff objects. The built-in models' stages:

1. the energy-price model (constant elasticity, elasticity matrix, PRISM or CES), scenario
   only: it responds to the scenario's prices relative to the baseline's, scaled by the
   day's response strength ``m`` (awareness, enabling technology, learning, fatigue);
1a. the event response (``event_response``), scenario only, on days with critical-peak or
   rebate events: where a segment has it, the other models see those days' prices without
   the events (:func:`_without_events`), so each event is answered once;
2. demand shaving, scenario only, where the scenario's demand charges are dearer than the
   baseline's (CompiledTariff.demand_price): the target
   is the customer's baseline peak of the month so far, less the reduction x ``m``;
3. flexible loads, in both roles, at each role's prices (automation reacts to absolute
   price differences: under a flat price nothing moves);
3a. home EV charging (:mod:`sim.behavior.ev`), in both roles, a load added for the
   customers with an EV, placed by each role's charging mode;
3b. electric space heating (:mod:`sim.behavior.heat`), in both roles, a load from the
   weather for the customers heating electrically (the switchers from coal, gas and oil in
   the scenario role only);
4. thermal storage, in both roles, at each role's prices, for the customers who have it;
5. interruptible curtailment in the role's called events, compliance x fatigue (a tariff
   programme, not a model: always last), and in the network operator's grid events
   (``PriceDay.grid_event``, :mod:`sim.grid.limits`) outside them.

In a committed pass each model's utility term (:meth:`ResponseModel.utility`: the change of
its customers' gross utility of consumption, in money) is added to the role's running sum,
``day.stats["utility_<role>"]``: the utility side of the consumer ledger
(:mod:`sim.ledger`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .interruptible import curtail, curtailment_utility
from .prices import PriceDay, PriceGroups
from .registry import ResponseDay, ResponseModel

__all__ = ["PriceDay", "ResponseDay", "respond", "strength"]


def strength(pop, participation, d: int, days: int, bills_closed: int, rows: slice) -> np.ndarray:
    """Today's response strength of customers ``rows`` (before event fatigue): aware or not
    (the aware share grows linearly from ``start`` to ``end`` over the horizon; a customer is
    aware once the share passes its own uniform draw), times the enabling-technology factor,
    times the self-selection of enrolment (``Uptake.selection``), times learning: 1 - (1 - initial) (1 - rate) ** (bills received)."""
    n = rows.stop - rows.start
    m = np.ones(n)
    aw = participation.awareness
    if aw is not None:
        level = aw.start + (aw.end - aw.start) * d / max(days - 1, 1)
        m *= pop.uptake.aware_u[rows] < level
    tech = participation.enabling_technology
    if tech is not None:
        m *= np.where(pop.uptake.tech[rows], tech.response_multiplier, 1.0)
    if pop.uptake.selection is not None:  # self-selection of enrolment (docs/behavior.md section 4)
        m *= pop.uptake.selection[rows]
    lr = participation.learning
    if lr is not None:
        m *= 1.0 - (1.0 - lr.initial) * (1.0 - lr.rate) ** bills_closed
    return m


def respond(models: list[ResponseModel], pop, day: ResponseDay) -> tuple[np.ndarray, tuple | None, np.ndarray | None]:
    """Load of some customers of a segment in one role on one day.

    Parameters
    ----------
    models : list of ResponseModel
        The segment's models, in stage order (each acts in the roles it declares).
    pop : SegmentPopulation
        The segment's customers (their drawn parameters, firm levels and compliance).
    day : ResponseDay
        The role's day for the customers ``day.idx``; ``day.input_kw`` is their load before
        any response (n, spd) [kW]. ``day.stats``, when given, collects the running sums per
        customer: ``utility_<role>``, the change of gross utility of consumption in money
        that each model's response caused (:meth:`ResponseModel.utility`) and curtailment
        (:func:`curtailment_utility`), and in the scenario role
        ``interruptible_requested_kwh`` (load above the firm level in called events) and
        ``interruptible_delivered_kwh`` (what curtailment removed).

    Returns
    -------
    load_kw : ndarray, shape (n, spd)
        Main-meter load. [kW]
    charge_kw : (rows, ndarray of shape (len(rows), spd)), or None
        A storage model's charging of the customers with a store (``rows``: their positions
        among the n), billed on the storage meter when the tariff has one. [kW]
    soc : dict model name -> ndarray, shape (n,), or None
        Each storing model's state of charge at the end of the day. [kWh]
    """
    load = day.input_kw
    own, idx, stats = day.own, day.idx, day.stats
    utility = None if stats is None else stats["utility_" + day.role]
    plain = _without_events(models, day)
    for model in models:
        if day.role in model.roles:
            seen = day if model.handles_events or model.sees_events else plain
            if utility is None:
                load = model.respond(load, seen, pop.params[model.name])
                continue
            load, du = model.respond_with_utility(load, seen, pop.params[model.name])
            if du is not None:
                utility[idx] += du
    terms = pop.contracts
    if own.interruptible is not None and terms.firm_kw is not None:
        before = load
        load = curtail(load, own.interruptible, terms.firm_kw[idx], terms.compliance[idx] * day.fatigue)
        if utility is not None:
            # valued at the baseline's marginal prices in both roles: the same curtailment
            # is the same loss of consumption whatever the tariff
            utility[idx] += curtailment_utility(before, load, own.interruptible, day.base.price, day.step_hours)
        if stats is not None and day.role == "scenario":
            ev = own.interruptible
            # per customer (summed over customers by the metrics: the same bits however the
            # customers were chunked or spread over processes)
            stats["interruptible_requested_kwh"][idx] += np.maximum(
                before[:, ev] - terms.firm_kw[idx, None], 0.0).sum(axis=1) * day.step_hours
            stats["interruptible_delivered_kwh"][idx] += (before[:, ev] - load[:, ev]).sum(axis=1) * day.step_hours
    if own.grid_event is not None and terms.firm_kw is not None:
        load = _grid_curtail(load, day, terms, utility)
    return load, plain.charge, plain.soc          # storage keeps its state on the day it saw


def _grid_curtail(load: np.ndarray, day: ResponseDay, terms, utility: np.ndarray | None) -> np.ndarray:
    """Interruptible customers in the network operator's grid events (outside the tariff's
    own called events): each sheds ``compliance x fatigue`` of its load above its firm
    level (:func:`~sim.behavior.interruptible.curtail`, per customer's steps), valued as
    curtailment is."""
    event = day.own.grid_event
    if day.own.interruptible is not None:
        event = event & ~day.own.interruptible[None, :]
    idx = day.idx
    above = np.maximum(load - terms.firm_kw[idx][:, None], 0.0)
    after = load - event * ((terms.compliance[idx] * day.fatigue)[:, None] * above)
    if utility is not None:  # at the baseline's marginal prices, as the tariff's curtailment
        p = np.asarray(day.base.price, dtype=float)
        utility[idx] += -((load - after) * p).sum(axis=1) * day.step_hours
    return after


def _without_events(models: list[ResponseModel], day: ResponseDay) -> ResponseDay:
    """The day as the models that do not answer events see it: where a model of the segment
    answers the day's critical-peak and rebate events (``handles_events``) and acts in this
    role, the others see this role's and the baseline's prices without the events' part
    (each event answered once); otherwise the day itself."""
    if not day.own.has_events or not any(m.handles_events and day.role in m.roles for m in models):
        return day
    own, base = day.own.without_events(), day.base.without_events()   # the baseline's events too
    groups = PriceGroups(np.asarray(base.price, dtype=np.float64), np.asarray(own.price, dtype=np.float64),
                         own.groups)
    return replace(day, own=own, base=base, groups=groups)


def response_day(role: str, input_kw: np.ndarray, base: PriceDay, own: PriceDay, strength: np.ndarray,
                 fatigue: float, step_hours: float, **more) -> ResponseDay:
    """A :class:`ResponseDay` with the price groups found once for all the models (``more``:
    ``idx``, ``mean_kw``, ``month_peak_kw``, ``stats``, ``soc``: model name -> (n,), a copy is taken)."""
    # Per-customer prices (tiers, menus) take few distinct rows: each model works once per
    # row where it can (the same result per customer as row by row).
    groups = PriceGroups(np.asarray(base.price, dtype=np.float64), np.asarray(own.price, dtype=np.float64),
                         own.groups)
    soc = more.pop("soc", None)
    return ResponseDay(role, base, own, groups, strength, fatigue, step_hours, input_kw=input_kw,
                       soc=None if soc is None else {k: v.copy() for k, v in soc.items()}, **more)
