"""The run folder's network tables (Parquet, in ``network/``): the transformers' and
feeders' load series, their load balance, and the power flow's step figures and per-bus
voltages. Columns and units: docs/network.md, "Files"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..outcome import ROLES
from .powerflow import FLOW_FIELDS

__all__ = ["write_network_tables"]


def _series(kw: np.ndarray, prefix: str, timestamps) -> pa.Table:
    cols = {"timestamp": timestamps}
    for r, role in enumerate(ROLES):
        for u in range(kw.shape[1]):
            cols[f"{role}_{prefix}{u}_kw"] = kw[r, u]
    return pa.table(cols)


def _balance(nr) -> pa.Table:
    rows = {"role": [], "unit": [], "index": []}
    fields = list(nr.balance[ROLES[0]]["transformers"])
    for f in fields:
        rows[f] = []
    for role in ROLES:
        for unit in ("transformers", "feeders"):
            b = nr.balance[role][unit]
            n = len(b["peak_kw"])
            rows["role"] += [role] * n
            rows["unit"] += [unit[:-1]] * n
            rows["index"] += list(range(n))
            for f in fields:
                rows[f] += [float(x) for x in b[f]]
    return pa.table(rows)


def _flows(nr, timestamps) -> tuple[pa.Table, pa.Table]:
    steps_rows = {"role": [], "transformer": [], "step": [], "timestamp": [], **{f: [] for f in FLOW_FIELDS}}
    bus_rows = {"role": [], "transformer": [], "step": [], "bus": [], "vm_pu": []}
    for t, flow in enumerate(nr.flows):
        for r, role in enumerate(ROLES):
            for j, s in enumerate(flow.steps):
                steps_rows["role"].append(role)
                steps_rows["transformer"].append(t)
                steps_rows["step"].append(int(s))
                steps_rows["timestamp"].append(timestamps[int(s)])
                for i, f in enumerate(FLOW_FIELDS):
                    steps_rows[f].append(float(flow.figures[r, j, i]))
                nb = len(flow.buses)
                bus_rows["role"] += [role] * nb
                bus_rows["transformer"] += [t] * nb
                bus_rows["step"] += [int(s)] * nb
                bus_rows["bus"] += [int(b) for b in flow.buses]
                bus_rows["vm_pu"] += [float(v) for v in flow.vm_pu[r, j]]
    return pa.table(steps_rows), pa.table(bus_rows)


def _limits(limits: dict, timestamps) -> tuple[pa.Table, pa.Table]:
    """The grid limits' ledger per role and unit, and their event log."""
    rows = {"role": [], "unit": [], "index": []}
    for role_i, role in enumerate(ROLES):
        for kind, led in limits["ledger"].items():
            n = led["event_days"].shape[1]
            rows["role"] += [role] * n
            rows["unit"] += [kind[:-1]] * n
            rows["index"] += list(range(n))
            for f, arr in led.items():
                rows.setdefault(f, []).extend(float(x) for x in arr[role_i])
    log = limits["log"]
    events = {"role": [ROLES[e["role"]] for e in log], **{k: [e[k] for e in log] for k in (
        "unit", "index", "date", "first_step", "last_step", "steps", "forecast_peak_kw", "peak_kw", "curtailed_kwh")}}
    if not log:
        events = {k: pa.array([], type=pa.string() if k in ("role", "unit", "date") else pa.float64()) for k in events}
    return pa.table(rows), pa.table(events)


def write_network_tables(folder: Path, result) -> None:
    """Write ``network/`` tables of a run with a network (nothing otherwise)."""
    nr = result.network
    if nr is None:
        return
    out = Path(folder) / "network"
    out.mkdir(exist_ok=True)
    ts = np.asarray(result.calendar.timestamps).astype("datetime64[s]")
    pq.write_table(_series(nr.transformers_kw, "t", ts), out / "transformer_load.parquet")
    pq.write_table(_series(nr.feeders_kw, "f", ts), out / "feeder_load.parquet")
    pq.write_table(_balance(nr), out / "load_balance.parquet")
    if nr.geometry is not None:
        g = nr.geometry
        pq.write_table(pa.table({"bus": g["bus"], "x": g["x"], "y": g["y"], "load": g["load"]}), out / "buses.parquet")
        pq.write_table(pa.table({"kind": [b[0] for b in g["branches"]], "from_bus": [b[1] for b in g["branches"]],
                                 "to_bus": [b[2] for b in g["branches"]]}), out / "branches.parquet")
    if nr.limits is not None:
        ledger, events = _limits(nr.limits, ts)
        pq.write_table(ledger, out / "limits.parquet")
        pq.write_table(events, out / "limit_events.parquet")
    if nr.flows is not None:
        steps, buses = _flows(nr, ts)
        pq.write_table(steps, out / "power_flow_steps.parquet")
        pq.write_table(buses, out / "power_flow_buses.parquet")
