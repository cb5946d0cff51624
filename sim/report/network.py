"""The run report's network section: transformer loading duration curves, the worst
feeder's day (baseline and scenario) and the load-balance and power-flow figures, read from
the run folder's ``network/`` tables and ``metrics.json`` (docs/network.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..words import counted
from . import charts, fmt
from .charts import BASELINE, SCENARIO
from .run import RunFolder
from .templating import Figure, Row, Section, Table, cell, head

__all__ = ["network_blocks"]


def _loading_curves(chart_id: str, b: np.ndarray, s: np.ndarray, label: str) -> str:
    """Every transformer's loading [%] sorted from highest to lowest, baseline dashed."""
    def draw(fig):
        ax = fig.subplots()
        for rows, c, ls, name in ((b, BASELINE, "--", "baseline"), (s, SCENARIO, "-", "scenario")):
            for i, y in enumerate(rows):
                y = np.sort(y)[::-1]
                ax.plot((np.arange(y.size) + 0.5) / y.size * 100.0, y, color=c, linestyle=ls, lw=1.0,
                        label=name if i == 0 else None)
        ax.axhline(100.0, color="0.3", lw=0.8, linestyle=":")
        ax.set_xlim(0, 100)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("share of the steps of the horizon [%]")
        ax.set_ylabel("transformer loading [% of rating]")
        ax.legend(frameon=False)

    return charts.render(chart_id, (7.5, 3.2), draw, label)


def _feeder_day(chart_id: str, b: np.ndarray, s: np.ndarray, rating_kw: float, label: str) -> str:
    def draw(fig):
        ax = fig.subplots()
        x = np.arange(len(b) + 1) * 24.0 / len(b)
        ax.stairs(b, x, baseline=None, color=BASELINE, linestyle="--", label="baseline")
        ax.stairs(s, x, baseline=None, color=SCENARIO, label="scenario")
        ax.axhline(rating_kw, color="0.3", lw=0.8, linestyle=":", label="rating x power factor")
        ax.set_xlim(0, 24)
        ax.set_xticks(range(0, 25, 3))
        ax.set_xlabel("hour of day")
        ax.set_ylabel("feeder load [kW]")
        ax.set_ylim(bottom=0)
        ax.legend(frameon=False, loc="upper right")

    return charts.render(chart_id, (7.5, 3.0), draw, label)


def _diagram(chart_id: str, buses: pd.DataFrame, branches: pd.DataFrame, vmin: dict, label: str) -> str:
    """The network drawn from its bus coordinates (no map): lines, transformers (dashed) and
    switches, each bus coloured by its lowest voltage over the power-flow steps run, one
    panel per role on one colour scale (buses with a load: circles, others: small dots)."""
    xy = dict(zip(buses["bus"], zip(buses["x"], buses["y"])))
    values = np.concatenate([v for v in vmin.values() if v is not None] or [np.ones(1)])
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))

    def draw(fig):
        axes = fig.subplots(1, len(vmin), squeeze=False)[0]
        sc = None
        for ax, (role, v) in zip(axes, vmin.items()):
            for kind, a, b in zip(branches["kind"], branches["from_bus"], branches["to_bus"]):
                (x0, y0), (x1, y1) = xy[a], xy[b]
                ax.plot([x0, x1], [y0, y1], color="0.55", lw=0.9, linestyle="--" if kind == "trafo" else "-", zorder=1)
            load = buses["load"].to_numpy(dtype=bool)
            sc = ax.scatter(buses["x"], buses["y"], c=v, s=np.where(load, 22, 8), cmap="viridis_r", vmin=lo,
                            vmax=max(hi, lo + 1e-6), zorder=2, edgecolors="none")
            ax.set_title(role, fontsize=9)
            ax.set_aspect("equal", adjustable="datalim")
            ax.set_axis_off()
        fig.colorbar(sc, ax=list(axes), shrink=0.8, label="lowest bus voltage [p.u.]")

    return charts.render(chart_id, (7.5, 3.6), draw, label)


def _diagram_block(folder, m: dict) -> list:
    """The network diagram where the network has coordinates, else a note (with a power flow)."""
    if not (folder / "power_flow_buses.parquet").is_file():
        return []
    if not (folder / "buses.parquet").is_file():
        return [Table("tab-network-diagram", "No network diagram: the power-flow network has no bus coordinates "
                      "(the Kerber and Dickert networks have none; a pandapower JSON file with bus geodata, or "
                      "cigre_lv, is drawn)", [""], [])]
    buses = pd.read_parquet(folder / "buses.parquet")
    branches = pd.read_parquet(folder / "branches.parquet")
    v = pd.read_parquet(folder / "power_flow_buses.parquet")
    low = v.groupby(["role", "bus"])["vm_pu"].min()
    vmin = {r: low.loc[r].reindex(buses["bus"]).to_numpy() if r in low.index.get_level_values(0) else None
            for r in ("baseline", "scenario")}
    return [Figure("fig-network-diagram", _diagram("fig-network-diagram", buses, branches, vmin, "Network diagram"),
                   f"The low-voltage network of each transformer, drawn from its bus coordinates (no map): lines "
                   f"(solid) and transformers (dashed); each bus coloured by its lowest voltage over the power-flow "
                   f"steps run on every transformer ({m['transformers']}), baseline and scenario; larger dots carry "
                   "customers.")]


def _columns(df: pd.DataFrame, role: str) -> np.ndarray:
    cols = [c for c in df.columns if c.startswith(role + "_")]
    return df[cols].to_numpy().T


def _summary_rows(m: dict) -> list[Row]:
    rows = []
    for key, label, kind in (("over_rating", "transformers over rating", "count"),
                             ("peak_loading_percent_max", "largest transformer loading [%]", "pct"),
                             ("hours_over_rating", "transformer-hours over rating [h]", "count"),
                             ("admd_kw_mean", "after-diversity maximum demand, mean [kW per customer]", "generic"),
                             ("max_rise_kw", "largest step-to-step rise (timer or rebound peak) [kW]", "kw"),
                             ("max_rise_hour_of_day", "hour of day of that rise [h]", "count")):
        vals = [m[r]["transformers"][key] for r in ("baseline", "scenario")]
        rows.append(Row([head(label)] + [cell(fmt.number(v, kind), True) for v in vals]))
    if "power_flow" in m["baseline"]:
        for key, label, kind in (("steps_in_violation", "power-flow steps in violation", "count"),
                                 ("steps_run", "power-flow steps run", "count"),
                                 ("vm_min_pu", "lowest bus voltage [p.u.]", "ratio"),
                                 ("line_loading_max_percent", "largest line loading [%]", "pct"),
                                 ("trafo_loading_max_percent", "largest transformer loading, power flow [%]", "pct"),
                                 ("losses_kwh_in_steps_run", "losses over the steps run [kWh]", "kw")):
            vals = [m[r]["power_flow"][key] for r in ("baseline", "scenario")]
            rows.append(Row([head(label)] + [cell(fmt.number(v, kind), True) for v in vals]))
    return rows


def _limit_rows(lim: dict) -> list[Row]:
    """The grid limits' figures per kind of unit, baseline and scenario."""
    rows = []
    for kind in ("transformers", "feeders"):
        if kind not in lim["scenario"]:
            continue
        for key, label, k in (("units_with_events", "with grid events", "count"),
                              ("event_days", "unit-days with events", "count"),
                              ("event_hours", "unit-hours of events [h]", "count"),
                              ("curtailed_kwh", "energy kept off in the events [kWh]", "kw"),
                              ("max_curtailed_kw", "largest reduction in an event step [kW]", "kw"),
                              ("units_over_limit_without_events", "over the limit without events", "count"),
                              ("hours_over_limit_without_events", "unit-hours over the limit without events [h]", "count"),
                              ("units_over_limit", "over the limit with the events", "count"),
                              ("hours_over_limit", "unit-hours over the limit with the events [h]", "count")):
            vals = [lim[r][kind][key] for r in ("baseline", "scenario")]
            rows.append(Row([head(f"{kind}: {label}")] + [cell(fmt.number(v, k), True) for v in vals]))
    return rows


def network_blocks(run: RunFolder) -> list:
    """The section's blocks, or [] for a run without a network."""
    m = run.metrics.get("network")
    folder = run.path / "network"
    if not m or not (folder / "transformer_load.parquet").is_file():
        return []
    spec = run.scenario["network"]
    pf, rating = float(spec["power_factor"]), float(spec["transformer_kva"])
    t = pd.read_parquet(folder / "transformer_load.parquet")
    f = pd.read_parquet(folder / "feeder_load.parquet")
    tb, ts = (_columns(t, r) / pf / rating * 100.0 for r in ("baseline", "scenario"))
    fb, fs = _columns(f, "baseline"), _columns(f, "scenario")
    worst = int(fs.max(axis=1).argmax())
    spd = run.steps_per_day
    day = int(fs[worst].argmax()) // spd
    feeder_kva = spec.get("feeder_kva") or rating * spec["transformers_per_feeder"]
    date = pd.Timestamp(t["timestamp"].iloc[day * spd]).strftime("%Y-%m-%d")
    return [
        Figure("fig-network-duration", _loading_curves("fig-network-duration", tb, ts, "Transformer loading"),
               f"Loading duration curves of the {counted(m['transformers'], 'transformer')} (segment {m['segment']}): each "
               f"transformer's apparent power (kW / power factor {pf:g}) as a share of its {rating:g} kVA rating, "
               "sorted from highest to lowest, baseline (dashed) and scenario; the dotted line is the rating."),
        Figure("fig-network-feeder-day", _feeder_day("fig-network-feeder-day", fb[worst, day * spd:(day + 1) * spd],
                                                     fs[worst, day * spd:(day + 1) * spd], feeder_kva * pf,
                                                     "Worst feeder's day"),
               f"Feeder {worst} (the highest scenario peak) on {date}, the day of that peak: baseline (dashed) and "
               "scenario load; each step shows its mean power. The dotted line is the feeder's rating in kW at the "
               "power factor."),
        Table("tab-network", "Transformers and power flow (metrics.json, network)",
              ["", "baseline", "scenario"], _summary_rows(m)),
    ] + _diagram_block(folder, m) + ([] if "limit" not in m else [
        Table("tab-network-limit", _limit_title(m["limit"]), ["", "baseline", "scenario"], _limit_rows(m["limit"]))])


def _limit_title(lim: dict) -> str:
    parts = [f"{k} {lim[k + '_kva']:g} kVA" for k in ("transformer", "feeder") if lim[k + "_kva"] is not None]
    return (f"Grid limits ({', '.join(parts)}): the operator's day-ahead grid events and what remained over the "
            "limit (metrics.json, network.limit)")
