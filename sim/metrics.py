"""Metrics of a run: load balance, peak reduction, revenue, cost, margin, bill impacts, and
the consumer ledger (utility of consumption, consumer surplus, welfare: :mod:`sim.ledger`).

Every function reads arrays (:class:`sim.outcome.RunResult`), never the engine. Each metric
is a function registered with :func:`metric` in a scope (the system per role, the system's
changes, a segment, a segment per role, a segment's changes); :func:`compute` applies them
in registration order, which is the order of the keys in ``metrics.json``.

Definitions (docs/metrics.md lists every key): load factor = mean / peak; peak-to-average =
peak / mean; peak-valley difference = Pmax - Pmin; peak-valley rate = (Pmax - Pmin) / Pmax;
largest upward ramp = max(L[t] - L[t-1]); daily figures are means over the days of the
horizon.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .behavior.heat import FUEL_CODES
from .equity import bill_split, customer_groups, equity_figures, group_figures, split_of
from .headline import headline
from .ledger import segment_ledger
from .market import market_view, wants_market
from .outcome import ROLES
from .prosumers import (cost_shift, duck_figures, gross_net_figures, has_pv, peak_shares, pv_kw, self_consumption,
                        system_pv_kw)
from .rowmath import dot
from .tariffs import CHARGES

#: Percentiles reported for the distribution of bill changes.
BILL_PERCENTILES = (5, 25, 50, 75, 95)


def load_balance(load_kw: np.ndarray, steps_per_day: int, step_hours: float) -> dict:
    """Load-balance figures of a system (or segment) load series.

    Parameters
    ----------
    load_kw : ndarray, shape (n_steps,)
        Mean power in each step. [kW]
    steps_per_day : int
    step_hours : float
        Step length. [h]
    """
    peak, valley, mean = float(load_kw.max()), float(load_kw.min()), float(load_kw.mean())
    daily = load_kw.reshape(-1, steps_per_day)
    dmax, dmin = daily.max(axis=1), daily.min(axis=1)
    ramps = np.diff(load_kw)
    return {
        "peak_kw": peak,
        "peak_time_index": int(load_kw.argmax()),
        "valley_kw": valley,
        "mean_kw": mean,
        "energy_kwh": float(load_kw.sum() * step_hours),
        "load_factor": mean / peak if peak > 0 else 0.0,
        "peak_to_average": peak / mean if mean > 0 else 0.0,
        "peak_valley_kw": peak - valley,
        "peak_valley_rate": (peak - valley) / peak if peak > 0 else 0.0,
        "daily_peak_kw": float(dmax.mean()),
        "daily_peak_valley_rate": float(np.mean(np.where(dmax > 0, (dmax - dmin) / np.where(dmax > 0, dmax, 1), 0))),
        "daily_load_factor": float(np.mean(np.where(dmax > 0, daily.mean(axis=1) / np.where(dmax > 0, dmax, 1), 0))),
        "max_ramp_up_kw_per_step": float(ramps.max(initial=0.0)),
        "max_ramp_down_kw_per_step": float(-ramps.min(initial=0.0)),
    }


def supply_cost(load_kw: np.ndarray, energy_cost_per_kwh: np.ndarray, step_hours: float,
                capacity_kw: float, capacity_cost_per_kw_year: float, horizon_years: float) -> dict:
    """Energy and capacity cost of serving a load.

    ``capacity_kw`` is the kW the load is charged capacity for: the system peak for the
    system, the segment's load at the system peak step for a segment (coincident peak
    allocation). Capacity cost is prorated to the horizon's length (days / 365).
    """
    energy = dot(load_kw, energy_cost_per_kwh) * step_hours  # not @: see sim.rowmath.dot
    capacity = float(capacity_kw * capacity_cost_per_kw_year * horizon_years)
    return {"energy_cost": energy, "capacity_cost": capacity, "cost": energy + capacity}


def shift_decomposition(base_kw: np.ndarray, scen_kw: np.ndarray, steps_per_day: int, step_hours: float) -> dict:
    """How a load change splits into shifted and foregone energy, and where rebound shows.

    ``energy_cut_kwh`` is the energy removed in steps where the scenario load is below the
    baseline, ``energy_added_kwh`` the energy added where it is above. Shifted energy is the
    smaller of the two; foregone energy is the rest of the cut (the net reduction).
    Rebound: ``rebound_max_kw`` is the largest increase in any step; a *rebound day* is a
    day whose scenario peak falls in a step where the baseline load was below the day's
    baseline mean (a former off-peak hour); ``rebound_peak_in_offpeak`` says whether the
    horizon's scenario peak itself lies in such a step.
    """
    diff = scen_kw - base_kw
    cut = float(np.maximum(-diff, 0).sum() * step_hours)
    added = float(np.maximum(diff, 0).sum() * step_hours)
    shifted = min(cut, added)
    b = base_kw.reshape(-1, steps_per_day)
    s = scen_kw.reshape(-1, steps_per_day)
    offpeak = b < b.mean(axis=1, keepdims=True)
    peak_step = s.argmax(axis=1)
    rebound_days = int(offpeak[np.arange(len(s)), peak_step].sum())
    t = int(scen_kw.argmax())
    return {"energy_cut_kwh": cut, "energy_added_kwh": added, "energy_shifted_kwh": shifted,
            "energy_foregone_kwh": cut - shifted, "shifted_share": shifted / cut if cut > 0 else 0.0,
            "rebound_max_kw": float(max(diff.max(initial=0.0), 0.0)), "rebound_days": rebound_days,
            "rebound_peak_in_offpeak": bool(offpeak.reshape(-1)[t])}


def bill_change_distribution(change: np.ndarray, base: np.ndarray) -> dict:
    """Distribution of per-customer bill changes (scenario - baseline). [currency]"""
    # relative to baseline bills of at least a cent (a prosumer's bill floored at 0 gives none)
    pct = np.divide(change, base, out=np.zeros_like(change), where=np.abs(base) >= 0.005) * 100
    out = {"bill_change_mean": float(change.mean()) if change.size else 0.0}
    for p, v in zip(BILL_PERCENTILES, np.percentile(change, BILL_PERCENTILES) if change.size else [0] * 5):
        out[f"bill_change_p{p}"] = float(v)
    out["bill_change_pct_mean"] = float(pct.mean()) if pct.size else 0.0
    for p, v in zip(BILL_PERCENTILES, np.percentile(pct, BILL_PERCENTILES) if pct.size else [0] * 5):
        out[f"bill_change_pct_p{p}"] = float(v)
    # a cent is the smallest amount a bill shows: smaller differences are no change
    out["share_pay_more"] = float(np.mean(change > 0.005)) if change.size else 0.0
    out["share_pay_less"] = float(np.mean(change < -0.005)) if change.size else 0.0
    return out


def _revenue(by_charge: np.ndarray) -> dict:
    """Revenue of a bill set from its sums by charge over its customers."""
    out = {"revenue": float(by_charge.sum())}
    out.update({f"revenue_{c}": float(v) for c, v in zip(CHARGES, by_charge)})
    return out


def _change(base: dict, scen: dict) -> dict:
    out = {}
    for k, b in base.items():
        s = scen[k]
        if k.endswith("_index") or k == "customers":
            continue
        out[f"{k}_change"] = s - b
        if k in ("peak_kw", "energy_kwh", "revenue", "margin", "peak_valley_kw", "daily_peak_kw"):
            out[f"{k}_change_pct"] = (s - b) / abs(b) * 100 if b else 0.0
    return out


# ------------------------------------------------------------------------- the registry

#: The scopes a metric can be registered in, and what its function is given:
#:
#: * ``role``: ``fn(run, role, m)``, the system's figures in one tariff role (``m``: the
#:   role's figures so far);
#: * ``change``: ``fn(run, b, s, ch)``, scenario against baseline for the system (``b``,
#:   ``s``: the roles' figures; ``ch``: the changes so far);
#: * ``segment``: ``fn(run, name, entry)``, a segment's own facts (``entry``: so far);
#: * ``segment_role``: ``fn(run, name, role, r)``, a segment's figures in one role;
#: * ``segment_change``: ``fn(run, name, entry, c)``, a segment's changes.
#:
#: Each returns a dict of figures, merged in registration order (metrics.json keeps it).
SCOPES = ("role", "change", "segment", "segment_role", "segment_change")

_METRICS: dict[str, list[tuple[str, Callable]]] = {scope: [] for scope in SCOPES}


def metric(scope: str, name: str | None = None):
    """Register a metric function in ``scope`` (a decorator): docs/architecture.md has the
    recipe, docs/metrics.md every key."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}; got {scope!r}")

    def add(fn: Callable) -> Callable:
        key = name or fn.__name__
        if any(k == key for k, _ in _METRICS[scope]):
            raise ValueError(f"a {scope} metric named {key!r} is already registered")
        _METRICS[scope].append((key, fn))
        return fn

    return add


def unregister(scope: str, name: str) -> None:
    """Remove a registered metric (tests)."""
    _METRICS[scope][:] = [(k, fn) for k, fn in _METRICS[scope] if k != name]


def _apply(scope: str, out: dict, *args) -> dict:
    for _, fn in _METRICS[scope]:
        out.update(fn(*args, out))
    return out


@dataclass(frozen=True)
class RunView:
    """What the metrics read of a finished run: its arrays (:class:`sim.outcome.RunResult`)
    and each bill set's customers' bills and sums by charge, gathered once."""

    result: object
    steps_per_day: int
    step_hours: float
    years: float
    capacity_cost_per_kw_year: float
    bill: dict          #: (segment, role) -> (n,) each customer's bill [currency]
    by_charge: dict     #: (segment, role) -> (charges,) revenue by charge [currency]
    ledger: dict        #: segment -> SegmentLedger (sim.ledger)

    @classmethod
    def of(cls, result) -> "RunView":
        cal = result.calendar
        bill, by_charge = {}, {}
        for name, s in result.segments.items():
            for role in ROLES:
                total = s.bills[role].total  # (customers, charges)
                bill[name, role], by_charge[name, role] = total.sum(axis=1), total.sum(axis=0)
        ledger = {name: segment_ledger(s) for name, s in result.segments.items()}
        return cls(result, cal.steps_per_day, cal.step_minutes / 60.0, cal.days / 365.0,
                   result.scenario.grid.capacity_cost_per_kw_year, bill, by_charge, ledger)


def compute(result) -> dict:
    """All metrics of a :class:`sim.outcome.RunResult`, organised as
    ``{"baseline", "scenario", "change", "segments", "headline"}``: every registered metric, in
    order, then the per-segment headlines built from them (:mod:`sim.headline`); and
    ``market`` (:func:`sim.market.market_view`) when the scenario has a market view."""
    run = RunView.of(result)
    out: dict = {"baseline": {}, "scenario": {}, "change": {}, "segments": {}}
    for role in ROLES:
        out[role] = _apply("role", {}, run, role)
    out["change"] = _apply("change", {}, run, out["baseline"], out["scenario"])
    for name in result.segments:
        entry = _apply("segment", {}, run, name)
        for role in ROLES:
            entry[role] = _apply("segment_role", {}, run, name, role)
        entry["change"] = _apply("segment_change", {}, run, name, entry)
        out["segments"][name] = entry
    out["headline"] = headline(out, result.scenario.currency)
    if wants_market(result.scenario):  # the market view (sim.market): asked for, or a segment grows
        out["market"] = market_view(result)
    return out


# ------------------------------------------------------------------- the system, per role

@metric("role")
def system_load_balance(run: RunView, role: str, m: dict) -> dict:
    return load_balance(run.result.system_load_kw[role], run.steps_per_day, run.step_hours)


@metric("role")
def system_revenue(run: RunView, role: str, m: dict) -> dict:
    rev = {"revenue": 0.0, **{f"revenue_{c}": 0.0 for c in CHARGES}}
    for name in run.result.segments:
        for k, v in _revenue(run.by_charge[name, role]).items():
            rev[k] += v
    rev["customers"] = int(sum(s.n for s in run.result.segments.values()))
    return rev


@metric("role")
def system_cost(run: RunView, role: str, m: dict) -> dict:
    r = run.result
    return supply_cost(r.system_load_kw[role], r.energy_cost_per_kwh[role], run.step_hours, m["peak_kw"],
                       run.capacity_cost_per_kw_year, run.years)


@metric("role")
def system_margin(run: RunView, role: str, m: dict) -> dict:
    return _margin(m)


@metric("role")
def system_utility(run: RunView, role: str, m: dict) -> dict:
    r = ROLES.index(role)
    return {"consumer_utility": float(sum(led.utility[r].sum() for led in run.ledger.values()))}


# ----------------------------------------------------------------- the system's changes

@metric("change")
def system_changes(run: RunView, b: dict, s: dict, ch: dict) -> dict:
    out = _change(b, s)
    out["peak_reduction_kw"] = b["peak_kw"] - s["peak_kw"]
    out["peak_reduction_pct"] = out["peak_reduction_kw"] / b["peak_kw"] * 100 if b["peak_kw"] else 0.0
    return out


@metric("change")
def system_bill_changes(run: RunView, b: dict, s: dict, ch: dict) -> dict:
    return _bill_changes(run.bill, list(run.result.segments))


@metric("change")
def system_shift(run: RunView, b: dict, s: dict, ch: dict) -> dict:
    load = run.result.system_load_kw
    return shift_decomposition(load["baseline"], load["scenario"], run.steps_per_day, run.step_hours)


@metric("change")
def system_welfare(run: RunView, b: dict, s: dict, ch: dict) -> dict:
    return _welfare(list(run.ledger.values()), ch)


@metric("change")
def system_events(run: RunView, b: dict, s: dict, ch: dict) -> dict:
    events = run.result.events
    windows = {(e["date"], e["start_step"], e["stop_step"]): e["reduction_kw"] for e in events}
    out = {"event_windows": len(windows),
           "event_calls_by_operator": sum(1 for e in events if e["source"] == "operator"),
           "event_mean_reduction_kw": float(np.mean(list(windows.values()))) if windows else 0.0}
    days = run.result.rtp_iterations
    if days:  # real-time prices formed from the system load: the daily fixed points
        its = [day["iterations"] for day in days]
        out["rtp_iterations_mean"] = float(np.mean(its))
        out["rtp_iterations_max"] = int(max(its))
        out["rtp_days_not_converged"] = int(sum(not day["converged"] for day in days))
    return out


# -------------------------------------------------------------------------- segments

@metric("segment")
def segment_facts(run: RunView, name: str, entry: dict) -> dict:
    seg = run.result.segments[name]
    out: dict = {"customer_class": seg.customer_class, "customers": seg.n,
                 "tariff_baseline": seg.tariffs["baseline"][0].name,
                 "tariff_scenario": "+".join(t.name for t in seg.tariffs["scenario"])}
    if len(seg.tariffs["scenario"]) > 1:  # a menu: how many customers took each tariff (at the end)
        counts = np.bincount(seg.bills["scenario"].choice, minlength=len(seg.tariffs["scenario"]))
        out["scenario_tariff_customers"] = {t.name: int(c) for t, c in zip(seg.tariffs["scenario"], counts)}
    if seg.bills["scenario"].switches is not None:  # a menu with choice
        out["choice"] = _choice_metrics(seg, run.bill[name, "baseline"])
    return out


@metric("segment_role")
def segment_figures(run: RunView, name: str, role: str, r: dict) -> dict:
    res = run.result
    load = res.segments[name].load_kw[role]
    peak_t = int(res.system_load_kw[role].argmax())
    out = {"energy_kwh": float(load.sum() * run.step_hours), "peak_kw": float(load.max()),
           "coincident_peak_kw": float(load[peak_t])}
    out.update(_revenue(run.by_charge[name, role]))
    out.update(supply_cost(load, res.energy_cost_per_kwh[role], run.step_hours, out["coincident_peak_kw"],
                           run.capacity_cost_per_kw_year, run.years))
    out.update(_margin(out))
    out["bill_mean"] = float(run.bill[name, role].mean())
    out["consumer_utility"] = float(run.ledger[name].utility[ROLES.index(role)].sum())
    return out


@metric("segment_change")
def segment_changes(run: RunView, name: str, entry: dict, c: dict) -> dict:
    seg = run.result.segments[name]
    b, s = entry["baseline"], entry["scenario"]
    out = _change(b, s)
    out["peak_reduction_kw"] = b["peak_kw"] - s["peak_kw"]
    out["peak_reduction_pct"] = out["peak_reduction_kw"] / b["peak_kw"] * 100 if b["peak_kw"] else 0.0
    out.update(_bill_changes(run.bill, [name]))
    out.update(shift_decomposition(seg.load_kw["baseline"], seg.load_kw["scenario"], run.steps_per_day,
                                   run.step_hours))
    out.update(_welfare([run.ledger[name]], out))
    return out


@metric("segment_change")
def segment_interruptible(run: RunView, name: str, entry: dict, c: dict) -> dict:
    stats = run.result.segments[name].stats
    req = float(stats["interruptible_requested_kwh"].sum())
    if not req > 0:
        return {}
    got = float(stats["interruptible_delivered_kwh"].sum())
    return {"interruptible_requested_kwh": req, "interruptible_delivered_kwh": got,
            "interruptible_performance": got / req}


@metric("segment_change")
def segment_equity(run: RunView, name: str, entry: dict, c: dict) -> dict:
    """How the bill changes fall on the segment's customers (sim.equity)."""
    res = run.result
    seg = res.segments[name]
    split = bill_split(seg)
    out = equity_figures(split, res.scenario.currency, res.calendar.days)
    groups = getattr(seg.spec, "groups", None)
    if groups is not None:  # the customers' groups, drawn from the seed (no load or bill depends on them)
        group = customer_groups(groups, res.scenario.seed, name, seg.bills["baseline"].kwh)
        out["group_attribute"] = groups.attribute
        out["groups"] = group_figures(split, group, list(groups.shares), res.scenario.currency, res.calendar.days)
    return {"equity": out}


@metric("change")
def system_equity(run: RunView, b: dict, s: dict, ch: dict) -> dict:
    """The bill changes over every customer (no Gini: it would mix the segments' sizes)."""
    res = run.result
    return {"equity": equity_figures(split_of(res.segments.values()), res.scenario.currency, res.calendar.days,
                                     gini_of_bills=False)}


def _event_steps(run: RunView, name: str) -> np.ndarray | None:
    """The steps of critical-peak and rebate events (listed and called) of a segment's
    scenario tariffs, (n_steps,) bool; None when there are none."""
    mask = None
    for t in run.result.segments[name].tariffs["scenario"]:
        got = run.result.realized.get(t.name)
        for ev in (() if got is None else (got.cpp_event, got.ptr_event)):
            if ev is not None and ev.any():
                mask = ev.copy() if mask is None else mask | ev
    return mask


@metric("segment_change")
def segment_events(run: RunView, name: str, entry: dict, c: dict) -> dict:
    """The segment's load in the steps of its scenario tariff's critical-peak and rebate events
    (docs/metrics.md): its energy there in both roles and the reduction in % (what event pilots
    report)."""
    mask = _event_steps(run, name)
    if mask is None:
        return {}
    load = run.result.segments[name].load_kw
    b = float(load["baseline"][mask].sum() * run.step_hours)
    s = float(load["scenario"][mask].sum() * run.step_hours)
    return {"event_hours": float(mask.sum() * run.step_hours), "event_energy_baseline_kwh": b,
            "event_energy_scenario_kwh": s, "event_reduction_pct": (1.0 - s / b) * 100 if b else 0.0}


@metric("segment_change")
def segment_enrolment(run: RunView, name: str, entry: dict, c: dict) -> dict:
    """With enrolment (docs/metrics.md, "Enrolment"): who took the scenario tariff, and the
    segment's changes per participant (enrolled customer) and per eligible customer (every
    customer of the segment). Customers not enrolled stay on the baseline tariff with the same
    draws in both roles, so the segment's change is the participants' change."""
    spec = next(p for p in run.result.scenario.populations if p.name == name)
    if spec.participation.enrolment is None:
        return {}
    seg = run.result.segments[name]
    enrolled = seg.bills["scenario"].choice == 0            # option 0: the scenario tariff
    n_in, n = int(enrolled.sum()), seg.n
    kwh = seg.bills["baseline"].kwh
    energy_share = float(kwh[enrolled].sum() / kwh.sum()) if kwh.sum() > 0 else 0.0
    out = {"enrolment_mode": spec.participation.enrolment.mode, "enrolled_customers": n_in,
           "enrolled_share": n_in / n if n else 0.0, "enrolled_baseline_energy_share": energy_share}
    for key, value in (("energy_change_kwh", c["energy_kwh_change"]),
                       ("coincident_peak_reduction_kw", -c["coincident_peak_kw_change"]),
                       ("peak_reduction_kw", c["peak_reduction_kw"])):
        out[f"{key}_per_participant"] = value / n_in if n_in else 0.0
        out[f"{key}_per_eligible"] = value / n if n else 0.0
    # in % of the baseline: per eligible customer the segment's own figure; per participant that
    # over the participants' share of the baseline energy (their share of the peak taken equal)
    out["peak_reduction_pct_per_eligible"] = c["peak_reduction_pct"]
    out["peak_reduction_pct_per_participant"] = c["peak_reduction_pct"] / energy_share if energy_share else 0.0
    if "event_reduction_pct" in c:
        out["event_reduction_pct_per_eligible"] = c["event_reduction_pct"]
        out["event_reduction_pct_per_participant"] = c["event_reduction_pct"] / energy_share if energy_share else 0.0
    return out


@metric("segment_change")
def segment_controllable_load(run: RunView, name: str, entry: dict, c: dict) -> dict:
    """A controllable load's energy ledger over the horizon (scenario role): kept off in the
    control steps, drawn extra before them (pre-cooling) and drawn back after (rebound), and
    the net energy kept off (the first less the other two)."""
    stats = run.result.segments[name].stats
    if "device_curtailed_kwh" not in stats:
        return {}
    cut, pre, reb = (float(stats[f"device_{k}_kwh"].sum()) for k in ("curtailed", "precool", "rebound"))
    return {"device_curtailed_kwh": cut, "device_precool_kwh": pre, "device_rebound_kwh": reb,
            "device_net_kept_off_kwh": cut - pre - reb}


@metric("segment_role")
def segment_battery(run: RunView, name: str, role: str, r: dict) -> dict:
    """The segment's home batteries (``model: battery``) in the role, over the horizon
    [kWh]: energy charged and discharged at the meter (the discharge is the throughput),
    conversion losses, discharge beyond the customers' own load (exported) and in the
    role's event steps; with events, the mean discharge per event hour [kW]."""
    stats = run.result.segments[name].stats
    if f"battery_charged_kwh_{role}" not in stats:
        return {}
    out = {f"battery_{k}_kwh": float(stats[f"battery_{k}_kwh_{role}"].sum())
           for k in ("charged", "discharged", "loss", "export", "event")}
    out["battery_throughput_kwh"] = out["battery_discharged_kwh"]
    mask = _event_steps(run, name) if role == "scenario" else None
    if mask is not None:
        hours = float(mask.sum() * run.step_hours)
        out["battery_event_kw"] = out["battery_event_kwh"] / hours if hours > 0 else 0.0
    return out


@metric("segment_role")
def segment_ev(run: RunView, name: str, role: str, r: dict) -> dict:
    """The segment's home EV charging (``model: ev``) in the role: energy and shortfall
    [kWh], the fleet's own peak and its load at the role's system peak [kW], and that load's
    share of the system peak [-]."""
    stats = run.result.segments[name].stats
    blocks = stats.get(f"ev_block_kw_{role}")
    if blocks is None:
        return {}
    peak, at_peak, share = _load_at_system_peak(blocks, run.result.system_load_kw[role])
    return {"ev_kwh": float(stats[f"ev_kwh_{role}"].sum()),
            "ev_shortfall_kwh": float(stats[f"ev_shortfall_kwh_{role}"].sum()),
            "ev_peak_kw": peak, "ev_kw_at_system_peak": at_peak, "ev_share_of_system_peak": share}


def _load_at_system_peak(blocks: np.ndarray, system: np.ndarray) -> tuple[float, float, float]:
    """A load kept per stream block and step (blocks, steps): its own peak, its load at the
    system's peak step and that load's share of the system peak. ([kW], [kW], [-])"""
    load = blocks.sum(axis=0)                      # (steps,) the same array however sharded
    peak_t = int(system.argmax())
    at_peak = float(load[peak_t]) if load.size else 0.0
    return (float(load.max()) if load.size else 0.0, at_peak,
            at_peak / float(system[peak_t]) if system[peak_t] > 0 else 0.0)


@metric("role")
def system_end_uses(run: RunView, role: str, m: dict) -> dict:
    """Each registered end use's load at the role's system peak, over all segments that have
    it [kW], and its share of the system peak [-] (:func:`sim.prosumers.peak_shares`: home EV
    charging, electric space heating); nothing in a run without any. Each segment's own
    figures are in its entry."""
    return peak_shares(run.result, role)


@metric("segment_role")
def segment_heat(run: RunView, name: str, role: str, r: dict) -> dict:
    """The segment's space heating (``model: electric_heat``) in the role: heat delivered by
    electricity, the electricity it took and the final energy of fuel heating [kWh];
    electricity's share of the segment's final heating energy [-]; the electric heating's own
    peak and its load at the role's system peak [kW], and that load's share of the system
    peak [-]."""
    stats = run.result.segments[name].stats
    blocks = stats.get(f"heat_block_kw_{role}")
    if blocks is None:
        return {}
    elec = float(stats[f"heat_electric_kwh_{role}"].sum())
    fuel = float(stats[f"heat_fuel_kwh_{role}"].sum())
    peak, at_peak, share = _load_at_system_peak(blocks, run.result.system_load_kw[role])
    return {"heat_kwh": float(stats[f"heat_kwh_{role}"].sum()), "heat_electric_kwh": elec, "heat_fuel_kwh": fuel,
            "heat_electric_share": elec / (elec + fuel) if elec + fuel > 0 else 0.0,
            "heat_peak_kw": peak, "heat_kw_at_system_peak": at_peak, "heat_share_of_system_peak": share}


@metric("segment_change")
def segment_electrification(run: RunView, name: str, entry: dict, c: dict) -> dict:
    """The electrification the scenario tariff brings (``model: electric_heat``): customers
    heating with each fuel and those who switched, the electricity gained [kWh] and its share of
    the segment's baseline sales [%], electricity's share of the segment's final heating energy
    before (baseline) and after (scenario) [-], and the switchers' mean yearly saving
    [currency/year]."""
    stats = run.result.segments[name].stats
    if "heat_switched" not in stats:
        return {}
    code, switched = stats["heat_heating"], stats["heat_switched"] > 0
    fuels = {f: k for f, k in FUEL_CODES.items() if k > 0 and (code == k).any()}
    gained = entry["scenario"]["heat_electric_kwh"] - entry["baseline"]["heat_electric_kwh"]
    base_sales = entry["baseline"]["energy_kwh"]
    saving = stats["heat_annual_saving"][switched]
    return {"heat_fuel_customers": {f: int((code == k).sum()) for f, k in fuels.items()},
            "heat_switched_customers": {f: int((switched & (code == k)).sum()) for f, k in fuels.items()},
            "heat_switched_total": int(switched.sum()),
            "electrification_kwh": gained,
            "electrification_sales_growth_pct": gained / base_sales * 100 if base_sales > 0 else 0.0,
            "heat_electric_share_before": entry["baseline"]["heat_electric_share"],
            "heat_electric_share_after": entry["scenario"]["heat_electric_share"],
            "heat_switcher_saving_mean": float(saving.mean()) if saving.size else 0.0}


# ------------------------------------------------------------- rooftop PV and prosumers

@metric("role")
def system_pv(run: RunView, role: str, m: dict) -> dict:
    """With rooftop PV (sim.prosumers, docs/metrics.md "Rooftop PV and prosumers"): the
    system's gross and net load, its PV generation, exports and self-consumption, the duck
    curve of the net (and gross) load."""
    res = run.result
    pv = system_pv_kw(res)
    if pv is None:
        return {}
    net = res.system_load_kw[role]
    out = gross_net_figures(net, pv, run.step_hours)
    parts = [self_consumption(s, role) for s in res.segments.values() if has_pv(s)]
    exported = sum(p["pv_exported_kwh"] for p in parts)
    gen = out["pv_generation_kwh"]
    out.update({"pv_customers": sum(p["pv_customers"] for p in parts), "pv_kwp": sum(p["pv_kwp"] for p in parts),
                "pv_exported_kwh": exported, "pv_self_consumed_kwh": gen - exported,
                "pv_self_consumption_share": (gen - exported) / gen if gen > 0 else 0.0,
                "pv_kw_at_system_peak": float(pv[int(net.argmax())])})
    out.update(duck_figures(net, run.steps_per_day, run.step_hours, "net"))
    out.update(duck_figures(net + pv, run.steps_per_day, run.step_hours, "gross"))
    return out


@metric("segment_role")
def segment_pv(run: RunView, name: str, role: str, r: dict) -> dict:
    """A segment's gross and net load, its PV generation, exports and self-consumption."""
    seg = run.result.segments[name]
    pv = pv_kw(seg)
    if pv is None:
        return {}
    out = gross_net_figures(seg.load_kw[role], pv, run.step_hours)
    out.update(self_consumption(seg, role))
    out["pv_kw_at_system_peak"] = float(pv[int(run.result.system_load_kw[role].argmax())])
    return out


def pv_avoided_cost(run: RunView, name: str, role: str) -> float:
    """The utility's cost of serving a segment's gross load less that of its net load: energy
    at each step's cost, capacity at the segment's load at the system peak (of the gross and
    of the net system load). [currency]"""
    res = run.result
    seg = res.segments[name]
    pv, sys_pv = pv_kw(seg), system_pv_kw(res)
    net, sys_net = seg.load_kw[role], res.system_load_kw[role]
    gross = net + pv
    cost = res.energy_cost_per_kwh[role]
    args = (run.capacity_cost_per_kw_year, run.years)
    with_pv = supply_cost(net, cost, run.step_hours, float(net[int(sys_net.argmax())]), *args)["cost"]
    without = supply_cost(gross, cost, run.step_hours, float(gross[int((sys_net + sys_pv).argmax())]), *args)["cost"]
    return without - with_pv


@metric("segment_change")
def segment_pv_cost_shift(run: RunView, name: str, entry: dict, c: dict) -> dict:
    """The cost shift between the segment's customers with and without PV, in each role
    (sim.prosumers.cost_shift)."""
    seg = run.result.segments[name]
    if not has_pv(seg):
        return {}
    return {"pv_cost_shift": {"currency": run.result.scenario.currency,
                              **{role: cost_shift(seg, role, run.bill[name, role], pv_avoided_cost(run, name, role))
                                 for role in ROLES}}}


def _welfare(ledgers: list, ch: dict) -> dict:
    """Consumer surplus change ``sum_i (dV_i - dB_i)`` over the customers of ``ledgers``, and
    the welfare change ``sum_i dV_i - dC`` (``ch``: the changes, with
    ``consumer_utility_change`` and ``cost_change``): exactly 0 for a pure transfer, and
    equal to consumer surplus change + margin change to rounding (sim.ledger)."""
    cs = float(sum(led.surplus_change.sum() for led in ledgers))
    return {"consumer_surplus_change": cs, "welfare_change": ch["consumer_utility_change"] - ch["cost_change"]}


def _margin(m: dict) -> dict:
    """Margin and average price from revenue, cost and energy."""
    margin = m["revenue"] - m["cost"]
    return {"margin": margin, "average_price_per_kwh": m["revenue"] / m["energy_kwh"] if m["energy_kwh"] else 0.0}


def _choice_metrics(seg, baseline_bill: np.ndarray) -> dict:
    """Switching within a menu, and the revenue given up to structural winners: customers
    whose baseline load costs less on the tariff they end on than on the baseline tariff."""
    bills = seg.bills["scenario"]
    n = len(bills.choice)
    structural = seg.structural_bill[bills.choice, np.arange(n)]
    saving = baseline_bill - structural
    winners = saving > 0.005
    return {"switched_share": float(np.mean(bills.switches > 0)), "switches": int(bills.switches.sum()),
            "structural_winners_share": float(winners.mean()),
            "revenue_lost_to_structural_winners": float(saving[winners].sum())}


def _bill_changes(bill: dict, names: list[str]) -> dict:
    """Bill change distribution over the customers of segments ``names``; ``bill`` maps
    (segment, role) to its customers' bills."""
    base = np.concatenate([bill[name, "baseline"] for name in names])
    scen = np.concatenate([bill[name, "scenario"] for name in names])
    return bill_change_distribution(scen - base, base)
