"""A run's network results: the load series of every load point, transformer and feeder,
their load balance, and the power flows, spread over Dask workers by feeder when a client
is given (feeders are independent given the system's prices, which the run has fixed).

The power flows of a feeder depend on its own loads only, each transformer's steps run in
time order on a fresh copy of its network, and the results are joined in feeder order: the
same bits whatever the number of workers (tests/test_network.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..outcome import ROLES, RunResult
from .grids import coordinates, load_grid
from .loads import balance, group_series, sum_groups
from .placement import Placement
from .topology import placement_of
from .powerflow import FLOW_FIELDS, TransformerFlow, run_steps, stress_steps

__all__ = ["NetworkResult", "analyze", "feeder_flows", "limit_metrics", "network_metrics"]


@dataclass(frozen=True)
class NetworkResult:
    """The network of a run.

    Attributes
    ----------
    placement : Placement
    groups_kw : ndarray, shape (roles, groups, steps)
        Each load point's load. [kW]
    transformers_kw, feeders_kw : ndarray, shape (roles, units, steps)  [kW]
    balance : dict role -> {"transformers", "feeders"} -> figure -> array per unit
    flows : list of TransformerFlow, or None
        Each transformer's power flow (transformer order), or None without one.
    limits : dict, or None
        The grid limits' ledger and event log (:meth:`sim.grid.limits.GridLimits.summary`),
        or None without limits.
    geometry : dict, or None
        The power-flow network's bus coordinates and branches
        (:func:`sim.network.grids.coordinates`), or None (no power flow, or no coordinates).
    """

    placement: Placement
    groups_kw: np.ndarray
    transformers_kw: np.ndarray
    feeders_kw: np.ndarray
    balance: dict
    flows: list | None = None
    limits: dict | None = None
    geometry: dict | None = None


def feeder_flows(power_flow, power_factor: float, jobs: list[tuple[np.ndarray, np.ndarray]]) -> list[TransformerFlow]:
    """The power flows of one feeder's transformers: ``jobs`` of (load points' kW (roles,
    loads, steps), steps to run)."""
    band = (power_flow.v_min_pu, power_flow.v_max_pu, power_flow.max_loading_percent)
    return [run_steps(load_grid(power_flow), kw, steps, band, power_factor) for kw, steps in jobs]


def _flows(net_spec, placement: Placement, groups_kw: np.ndarray, t_kw: np.ndarray, client) -> list:
    """Every transformer's power flow, one task per feeder (on ``client`` if given)."""
    pf, L = net_spec.power_flow, placement.loads
    tasks = []
    for f in range(placement.feeders):
        jobs = []
        for t in range(f * placement.per_feeder, min((f + 1) * placement.per_feeder, placement.transformers)):
            steps = stress_steps(t_kw[:, t], pf.steps)
            jobs.append((np.ascontiguousarray(groups_kw[:, t * L:(t + 1) * L][:, :, steps]), steps))
        tasks.append(jobs)
    # each job's loads cut to its steps (indices into the job's own columns)
    tasks = [[(kw, steps, np.arange(len(steps))) for kw, steps in jobs] for jobs in tasks]
    if client is None:
        parts = [_feeder_task(pf, net_spec.power_factor, jobs) for jobs in tasks]
    else:
        futures = [client.submit(_feeder_task, pf, net_spec.power_factor, jobs, pure=False) for jobs in tasks]
        parts = client.gather(futures)
    return [flow for part in parts for flow in part]


def _feeder_task(pf, power_factor: float, jobs: list) -> list[TransformerFlow]:
    out = feeder_flows(pf, power_factor, [(kw, local) for kw, _, local in jobs])
    return [TransformerFlow(steps, f.figures, f.vm_pu, f.buses) for f, (_, steps, _) in zip(out, jobs)]


def analyze(result: RunResult, client=None, power_flow: bool = True) -> NetworkResult | None:
    """The network results of a run whose scenario has a ``network`` section (else None);
    the power flows on ``client``'s workers when given."""
    spec = result.scenario.network
    if spec is None:
        return None
    seg = result.segments[spec.segment]
    placement = placement_of(spec, seg.n)
    groups_kw = group_series(seg.network, placement.groups)
    t_kw = sum_groups(groups_kw, placement.loads)
    f_kw = sum_groups(t_kw, placement.per_feeder)
    step_h = result.calendar.step_minutes / 60.0
    series = {role: {"transformers": t_kw[r], "feeders": f_kw[r]} for r, role in enumerate(ROLES)}
    flows = _flows(spec, placement, groups_kw, t_kw, client) if spec.power_flow is not None and power_flow else None
    geometry = coordinates(spec.power_flow) if spec.power_flow is not None else None
    return NetworkResult(placement, groups_kw, t_kw, f_kw, balance(series, placement, spec, step_h), flows,
                         result.grid_limits, geometry)


def _role_metrics(nr: NetworkResult, r: int, role: str, spec, step_h: float) -> dict:
    out = {}
    for unit in ("transformers", "feeders"):
        b = nr.balance[role][unit]
        out[unit] = {"count": len(b["peak_kw"]), "over_rating": int((b["peak_loading_percent"] > 100.0).sum()),
                     "peak_loading_percent_max": float(b["peak_loading_percent"].max()),
                     "hours_over_rating": float(b["hours_over_rating"].sum()),
                     "admd_kw_mean": float(b["admd_kw"].mean()),
                     "max_rise_kw": float(b["max_rise_kw"].max()),
                     "max_rise_hour_of_day": float((int(b["max_rise_step"][int(b["max_rise_kw"].argmax())])
                                                    % round(24 / step_h)) * step_h)}
    if nr.flows is not None:
        fig = np.concatenate([f.figures[r] for f in nr.flows])  # (all steps run, fields)
        col = {name: fig[:, i] for i, name in enumerate(FLOW_FIELDS)}
        out["power_flow"] = {"steps_run": int(len(fig)), "steps_in_violation": int(np.nansum(col["violation"])),
                             "vm_min_pu": float(np.nanmin(col["vm_min_pu"])), "vm_max_pu": float(np.nanmax(col["vm_max_pu"])),
                             "bus_steps_outside_band": int(np.nansum(col["buses_outside_band"])),
                             "line_loading_max_percent": float(np.nanmax(col["line_loading_max_percent"])),
                             "trafo_loading_max_percent": float(np.nanmax(col["trafo_loading_max_percent"])),
                             "losses_kwh_in_steps_run": float(np.nansum(col["losses_kw"]) * step_h)}
    return out


def network_metrics(nr: NetworkResult, spec, step_h: float) -> dict:
    """The ``network`` block of metrics.json: per role, the transformers' and feeders'
    load balance and the power flow's summary (docs/metrics.md, "Network")."""
    out = {"segment": spec.segment, "customers": nr.placement.n, "transformers": nr.placement.transformers,
           "feeders": nr.placement.feeders, "transformer_kva": spec.transformer_kva}
    for r, role in enumerate(ROLES):
        out[role] = _role_metrics(nr, r, role, spec, step_h)
    if nr.limits is not None:
        out["limit"] = limit_metrics(nr.limits)
    return out


def limit_metrics(limits: dict) -> dict:
    """The grid limits' summary (metrics.json, ``network.limit``): the limits, and per role
    and kind of unit the events called and what remained over the limit."""
    spec = limits["spec"]
    out = {"transformer_kva": spec.transformer_kva, "feeder_kva": spec.feeder_kva, "rounds": spec.rounds}
    for r, role in enumerate(ROLES):
        out[role] = {}
        for kind, led in limits["ledger"].items():
            if (spec.transformer_kva if kind == "transformers" else spec.feeder_kva) is None:
                continue
            out[role][kind] = {
                "units_with_events": int((led["event_days"][r] > 0).sum()),
                "event_days": int(led["event_days"][r].sum()), "event_hours": float(led["event_hours"][r].sum()),
                "curtailed_kwh": float(led["curtailed_kwh"][r].sum()),
                "max_curtailed_kw": float(led["max_curtailed_kw"][r].max()),
                "units_over_limit_without_events": int((led["hours_over_limit_without_events"][r] > 0).sum()),
                "hours_over_limit_without_events": float(led["hours_over_limit_without_events"][r].sum()),
                "units_over_limit": int((led["hours_over_limit"][r] > 0).sum()),
                "hours_over_limit": float(led["hours_over_limit"][r].sum())}
    return out
