"""The run report: one self-contained, printable HTML page built from a finished run folder.

Everything the page needs is inside it: CSS in a ``<style>`` element, charts as inline SVG,
no script, no link to any other file or address. Every figure taken from ``metrics.json``
sits in a ``<td data-metric="dotted.path" data-unit="...">`` cell, so that the numbers can
be checked against the run (tests/test_report.py does).

This module reads the run and decides what each section shows (tables of :class:`Row`
records, figures, texts); the markup is in Jinja2 templates (sim/report/templates:
``report.html.j2`` the page, ``sections/<id>.html.j2`` each section, ``blocks/macros.html.j2``
tables and figures), rendered with autoescaping by :mod:`sim.report.templating`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
from importlib import metadata
from pathlib import Path

import numpy as np
from markupsafe import Markup

from ..calendar import HOLIDAY, SEASON_NAMES, WEEKDAY, WEEKEND
from ..errors import InputError, Problem
from ..words import counted
from . import charts, fmt, sources
from .market import market_context
from .run import RunFolder, day_matrix
from .network import network_blocks
from .tariffs import tariff_views
from .opening import equity_tables, summary_intro, summary_tables
from .templating import (BLANK, CSS, Cell, Figure, KeyValues, Row, Section, Table, cell, esc, figure, head, kv_table,
                         mcell, render, table)

__all__ = ["CSS", "SECTIONS", "build_report", "drsim_version", "esc", "figure", "kv_table", "table", "write_atomic",
           "write_report"]

#: Section ids and headings, in page order.
SECTIONS = [
    ("summary", "Summary: who wins, who loses"),
    ("scenario", "Scenario"),
    ("tariffs", "Tariffs"),
    ("population", "Population"),
    ("load-curves", "Load curves"),
    ("load-duration", "Load duration curve"),
    ("monthly", "Monthly peak and energy"),
    ("network", "Transformers and feeders"),
    ("metrics", "Metrics"),
    ("revenue", "Revenue, cost and margin"),
    ("market", "Market segments"),
    ("bill-impacts", "Bill impacts"),
    ("events", "Event log"),
    ("assumptions", "Assumptions and calibration sources"),
    ("provenance", "Provenance"),
]

SEASON_LABELS = {"winter": "winter (Dec-Feb)", "summer": "summer (Jun-Aug)", "shoulder": "shoulder (Mar-May, Sep-Nov)"}

# --------------------------------------------------------------------------- cells


def _g(v) -> str:
    """A scenario input number as written: no trailing zeros, thousands separators."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float)):
        return f"{v:,.6g}" if abs(v) < 1e6 else f"{v:,.0f}"
    return str(v)


def param_text(p) -> str:
    """A per-customer parameter: one value, or its distribution across customers."""
    if isinstance(p, dict) and "dist" in p:
        d = p["dist"]
        if d == "normal":
            cut = [f"min {_g(p['min'])}" if p.get("min") is not None else "",
                   f"max {_g(p['max'])}" if p.get("max") is not None else ""]
            cut = ", ".join(c for c in cut if c)
            return f"normal(mean {_g(p['mean'])}, sd {_g(p['sd'])}{', ' + cut if cut else ''})"
        if d == "lognormal":
            cap = f", cap {_g(p['cap'])}" if p.get("cap") is not None else ""
            return f"lognormal(mean {_g(p['mean'])}, cv {_g(p['cv'])}{cap})"
        if d == "uniform":
            return f"uniform({_g(p['low'])} to {_g(p['high'])})"
        if d == "triangular":
            return f"triangular({_g(p['low'])}, mode {_g(p['mode'])}, {_g(p['high'])})"
        return ", ".join(f"{k} {_g(v)}" for k, v in p.items())
    if isinstance(p, list):
        if p and isinstance(p[0], list):
            return f"{len(p)} x {len(p[0])} matrix " + "; ".join(" ".join(_g(v) for v in row) for row in p)
        return "[" + ", ".join(_g(v) for v in p) + "]"
    if isinstance(p, dict):
        return ", ".join(f"{k} {param_text(v)}" for k, v in p.items() if v is not None)
    return _g(p)


def _models(behavior) -> list[dict]:
    return list(behavior) if isinstance(behavior, list) else [behavior]


def model_text(model: dict) -> str:
    params = ", ".join(f"{k} {param_text(v)}" for k, v in model.items() if k != "model" and v is not None)
    return f"{model['model']}: {params}" if params else model["model"]


def participation_text(p: dict | None) -> str:
    if not p:
        return "every customer enrolled and responding from the start"
    parts = []
    if p.get("enrolment"):
        e = p["enrolment"]
        parts.append(f"enrolment {e['mode'].replace('_', '-')} {e['share']:.0%}"
                     + (f" (self-selection {_g(e['self_selection'])})" if e.get("self_selection") else ""))
    if p.get("awareness"):
        a = p["awareness"]
        parts.append(f"awareness {a['start']:.0%} to {a['end']:.0%}")
    if p.get("enabling_technology"):
        t = p["enabling_technology"]
        mult = t.get("response_multiplier", 1.0)  # retired (default 1): devices are controllable_load models
        parts.append(f"enabling technology {t['share']:.0%}" + (f" (response x {_g(mult)})" if mult != 1.0 else ""))
    if p.get("event_fatigue", 1.0) != 1.0:
        parts.append(f"event fatigue x {_g(p['event_fatigue'])} per consecutive event day")
    if p.get("learning"):
        ln = p["learning"]
        parts.append(f"learning from {ln['initial']:.0%}, closing {ln['rate']:.0%} of the gap per bill")
    return "; ".join(parts) or "every customer enrolled and responding from the start"


def scenario_tariff_text(seg: dict) -> str:
    t = seg["tariff"]
    if isinstance(t["scenario"], list):
        text = "menu: " + ", ".join(f"{o['tariff']} {o['share']:.0%}" for o in t["scenario"])
        if t.get("choice"):
            c = t["choice"]
            text += (f"; customers review after each bill with probability {c['review_probability']:.0%} and "
                     f"switch if they save more than {_g(c['threshold_pct'])} %")
        return text
    return t["scenario"]


def reproduce_command(command: list[str] | None, seed) -> str | None:
    """The recorded ``drsim run`` command without its ``--out`` (that folder now exists) and
    with an explicit ``--seed``."""
    if not command:
        return None
    out, i = [], 0
    while i < len(command):
        a = command[i]
        if a == "--out":
            i += 2
            continue
        if a.startswith("--out="):
            i += 1
            continue
        out.append(a)
        i += 1
    if "--seed" not in out and not any(a.startswith("--seed=") for a in out):
        out += ["--seed", str(seed)]
    return shlex.join(out)


# --------------------------------------------------------------------------- sections


def _section(sid: str, intro: str = "", **context) -> Section:
    """Section ``sid``: its number and heading from SECTIONS, its template sections/<sid>.html.j2."""
    n = [x for x, _ in SECTIONS].index(sid) + 1
    return Section(sid, n, dict(SECTIONS)[sid], f"sections/{sid}.html.j2", context, intro)


def section_summary(run: RunFolder) -> Section:
    """The first screen: who wins, who loses, the peak, revenue and welfare, per segment (sim.report.opening)."""
    return _section("summary", summary_intro(run), blocks=summary_tables(run))


def _holidays_text(run: RunFolder) -> str:
    cal = run.calendar
    hol = (run.scenario.get("calendar") or {}).get("holidays") or {}
    where = hol.get("country") or "none"
    if hol.get("subdivision"):
        where += f" ({hol['subdivision']})"
    text = f"public holidays: {where}; extra dates: {len(hol.get('dates') or [])}; " \
           f"{len(cal.holiday_dates)} holiday(s) in the horizon"
    if cal.holiday_names:
        shown = list(cal.holiday_names.items())[:30]
        text += ": " + "; ".join(f"{d:%Y-%m-%d} {n}" for d, n in shown) + (" ..." if len(cal.holiday_names) > 30 else "")
    if cal.workday_dates:
        text += (f"; {len(cal.workday_dates)} weekend day(s) worked, counted as weekdays (make-up working days): "
                 + ", ".join(f"{d:%Y-%m-%d}" for d in sorted(cal.workday_dates)[:30]))
    return text


def _energy_cost_text(grid: dict, cur: str) -> str:
    ec = grid.get("energy_cost_per_kwh", 0.0)
    if grid.get("supply_curve"):
        steps = "; ".join((f"up to {_g(s['up_to_kw'])} kW: " if s.get("up_to_kw") is not None else "above: ")
                          + f"{_g(s['cost_per_kwh'])} {cur}/kWh" for s in grid["supply_curve"])
        return f"merit-order supply curve ({grid.get('supply_curve_shape', 'step')}): {steps}"
    if isinstance(ec, dict):
        return f"per-step series from {ec.get('csv')} (column {ec.get('column')}) {cur}/kWh"
    return f"{_g(ec)} {cur}/kWh (flat)"


def section_scenario(run: RunFolder) -> Section:
    sc = run.scenario
    cal = run.calendar
    h = sc["horizon"]
    end = cal.start + dt.timedelta(days=cal.days - 1)
    day_counts = {name: int((cal.day_type == code).sum()) for code, name in
                  ((WEEKDAY, "weekdays"), (WEEKEND, "weekend days"), (HOLIDAY, "holidays"))}
    grid = sc.get("grid") or {}
    cur = run.currency
    items = [
        ("Name", sc["name"]),
        ("Description", sc.get("description") or "(none)"),
        ("Currency", cur),
        ("Horizon", f"{cal.start:%Y-%m-%d} to {end:%Y-%m-%d}: {counted(h['days'], 'day')} of {h['step_minutes']}-minute "
                    f"steps ({counted(cal.n_steps, 'step', spec=',')}; {counted(day_counts['weekdays'], 'weekday')}, "
                    f"{counted(day_counts['weekend days'], 'weekend day')}, {counted(day_counts['holidays'], 'holiday')})"),
        ("Calendar", _holidays_text(run)),
        ("Seed", str(sc.get("seed"))),
        ("Segments", "; ".join(f"{s['name']} ({s['customer_class']}, "
                               f"{run.metrics.get('segments', {}).get(s['name'], {}).get('customers', s.get('count'))}"
                               " customers)" for s in sc["populations"])),
        ("Tariffs", ", ".join(sc.get("tariffs", {}))),
        ("Energy cost of supply", _energy_cost_text(grid, cur)),
        ("Network losses", f"{_g(grid.get('losses_pct', 0.0))} %"),
        ("Capacity cost", f"{_g(grid.get('capacity_cost_per_kw_year', 0.0))} {cur}/kW-year of system peak"),
    ]
    op = sc.get("operator")
    if op:
        items.append(("Operator", f"calls {', '.join(op['programmes'])} events of {_g(op['event_hours'])} h day-ahead "
                                  f"on days whose forecast peak exceeds {_g(op['threshold_kw'])} kW, at most "
                                  f"{op['max_events_per_year']} per year"))
    else:
        items.append(("Operator", "none: only events listed in the tariffs"))
    return _section("scenario", blocks=[KeyValues("tab-scenario", "Scenario summary", items)])


def section_tariffs(run: RunFolder) -> Section:
    tariffs = []
    for v in tariff_views(run):
        slug = re.sub(r"[^A-Za-z0-9_-]", "-", v.name)
        blocks = []
        if v.price_rows:
            first_num = 2 if v.price_header[:2] == ["season", "period"] else len(v.price_header)  # else text
            blocks.append(Table(f"tab-prices-{slug}", f"{v.name}: energy prices by season, period and tier",
                                v.price_header, [Row([cell(c, num=i >= first_num) for i, c in enumerate(r)])
                                                 for r in v.price_rows], num_from=first_num))
        if v.charge_rows:
            blocks.append(KeyValues(f"tab-charges-{slug}", f"{v.name}: other charges", v.charge_rows))
        heatmaps = [Figure(fig_id, svg, caption + ". Rows: season and day type; columns: hour of day; colour from pale "
                                                  "(cheapest) to dark (dearest).") for fig_id, caption, svg in v.heatmaps]
        tariffs.append({"view": v, "slug": slug, "used_by": "; ".join(v.used_by) or "not used by any segment",
                        "blocks": blocks, "heatmaps": heatmaps})
    intro = ("Prices as billed (season multipliers and tier adders applied). Schedules and TOU prices are shown "
             "for a whole calendar year, also where the run's horizon is shorter.")
    return _section("tariffs", intro, tariffs=tariffs)


def section_population(run: RunFolder) -> Section:
    rows = []
    segs = run.metrics.get("segments", {})
    for seg in run.scenario["populations"]:
        name = seg["name"]
        size = (param_text(seg["annual_kwh"]) if seg.get("annual_kwh") is not None
                else f"measured load from {seg['profile']['csv']}" if isinstance(seg.get("profile"), dict) else "n/a")
        scen = scenario_tariff_text(seg)
        m = segs.get(name, {})
        if m.get("scenario_tariff_customers"):
            scen += " (end of horizon: " + ", ".join(f"{t} {n:,}" for t, n in m["scenario_tariff_customers"].items()) + ")"
        behaviour = "; ".join(model_text(x) for x in _models(seg["behavior"]))
        if sources.default_matches(seg["customer_class"], seg["behavior"], seg.get("sector"), seg.get("shifts")):
            who = " ".join(x for x in (seg["customer_class"], seg.get("sector") or "",
                                       f"{seg['shifts']} shift(s)" if seg.get("shifts") else "") if x)
            behaviour = f"default for {who} (calibrated): {behaviour}"
        rows.append(Row([cell(name), cell(seg["customer_class"]), mcell(run, f"segments.{name}.customers", "customers"),
                         cell(size), mcell(run, f"segments.{name}.baseline.energy_kwh", "kwh"), cell(behaviour),
                         cell(participation_text(seg.get("participation"))), cell(seg["tariff"]["baseline"]),
                         cell(scen)]))
    return _section("population", blocks=[Table(
        "tab-population", "Customer segments",
        ["segment", "class", "customers", "annual kWh per customer (input)", f"baseline energy over {counted(run.days, 'day')} [kWh]",
         "behaviour models", "participation", "baseline tariff", "scenario tariff"], rows, num_cols={2, 4})])


def _typical_days(run: RunFolder, b: np.ndarray, s: np.ndarray) -> list:
    """Per season in the horizon: the mean weekday and weekend-day curves, baseline and scenario."""
    cal = run.calendar
    rows = []
    for code, season in enumerate(SEASON_NAMES):
        in_season = cal.season == code
        if not in_season.any():
            continue
        panels = []
        for dtype, label in ((WEEKDAY, "weekday"), (WEEKEND, "weekend")):
            days = np.flatnonzero(in_season & (cal.day_type == dtype))
            if days.size:
                panels.append((label, b[days].mean(axis=0), s[days].mean(axis=0), int(days.size)))
            else:
                panels.append((label, None, None, 0))
        rows.append((season, panels))
    return rows


def section_load_curves(run: RunFolder) -> Section:
    spd = run.steps_per_day
    load = run.load
    b = day_matrix(load["baseline_kw"].to_numpy(), spd)
    s = day_matrix(load["scenario_kw"].to_numpy(), spd)
    cal = run.calendar
    stamps = load["timestamp"]
    ib, is_ = int(run.metrics["baseline"]["peak_time_index"]), int(run.metrics["scenario"]["peak_time_index"])
    db, ds = ib // spd, is_ // spd
    date = lambda d: f"{cal.start + dt.timedelta(days=int(d)):%Y-%m-%d (%a)}"  # noqa: E731
    if db == ds:
        panels = [(f"{date(db)}: day of the system peak", b[db], s[db])]
    else:
        panels = [(f"{date(db)}: baseline peak day", b[db], s[db]), (f"{date(ds)}: scenario peak day", b[ds], s[ds])]
    blocks = [
        Figure("fig-peak-day", charts.day_curves("fig-peak-day", panels, "System load on the peak day"),
               "System load on the day of the system peak, baseline (dashed) and scenario; dots mark each "
               "curve's highest step. Each step shows its mean power."),
        Table("tab-peaks", "System peaks", ["", "peak [kW]", "step starting"], [
            Row([head("baseline"), mcell(run, "baseline.peak_kw", "kw"), cell(f"{stamps.iloc[ib]:%Y-%m-%d %H:%M}", True)]),
            Row([head("scenario"), mcell(run, "scenario.peak_kw", "kw"),
                 cell(f"{stamps.iloc[is_]:%Y-%m-%d %H:%M}", True)])]),
        Figure("fig-typical-days", charts.season_curves("fig-typical-days", _typical_days(run, b, s),
                                                        "Typical days by season"),
               "Typical days: the mean system load over the weekdays and over the weekend days of each "
               "meteorological season in the horizon (" + "; ".join(SEASON_LABELS.values())
               + "); holidays are left out of both."),
    ]
    if "pv_kw" in load.columns:  # rooftop PV: gross and net load (the duck curve)
        blocks.append(_duck_figure(run, b, s, day_matrix(load["pv_kw"].to_numpy(), spd)))
    return _section("load-curves", blocks=blocks)


def _duck_figure(run: RunFolder, b: np.ndarray, s: np.ndarray, pv: np.ndarray) -> Figure:
    """The mean day of the horizon and the day of the lowest net load (scenario), gross and net."""
    low = int(s.min(axis=1).argmin())
    date = f"{run.calendar.start + dt.timedelta(days=low):%Y-%m-%d (%a)}"
    panels = [("mean day of the horizon", (b + pv).mean(axis=0), b.mean(axis=0), s.mean(axis=0)),
              (f"{date}: lowest net load", b[low] + pv[low], b[low], s[low])]
    return Figure("fig-duck", charts.duck_curves("fig-duck", panels, "Gross and net system load"),
                  "Rooftop PV: the gross system load (consumption, baseline role, dotted) and the net load the "
                  "meters read (gross less PV generation; below 0 the system exports), baseline (dashed) and "
                  "scenario, on the horizon's mean day and on the day of the lowest net load. The evening ramp and "
                  "midday minimum are in the metrics (net_ramp_3h_kw, net_midday_min_kw).")


def section_duration(run: RunFolder) -> Section:
    load = run.load
    b, s = load["baseline_kw"].to_numpy(), load["scenario_kw"].to_numpy()
    h = run.step_minutes / 60.0
    svg = charts.duration_curve("fig-duration", b, s, h, "Load duration curve")
    rows = []
    for q, label in ((0.0, "highest step (peak)"), (1.0, "exceeded in 1 % of steps"), (5.0, "exceeded in 5 % of steps"),
                     (10.0, "exceeded in 10 % of steps"), (50.0, "median"), (90.0, "exceeded in 90 % of steps"),
                     (100.0, "lowest step (valley)")):
        vb, vs = np.percentile(b, 100 - q), np.percentile(s, 100 - q)
        rows.append(Row([head(label), cell(fmt.number(vb, "kw"), True), cell(fmt.number(vs, "kw"), True),
                         cell(fmt.number(vs - vb, "kw", signed=True), True)]))
    return _section("load-duration", blocks=[
        Figure("fig-duration", svg, "Load duration curves: the system load of every step, sorted from highest to "
                                    "lowest, baseline (dashed) and scenario."),
        Table("tab-duration", "Points of the load duration curves (from system_load.csv)",
              ["", "baseline [kW]", "scenario [kW]", "change [kW]"], rows)])


def section_monthly(run: RunFolder) -> Section:
    load = run.load
    h = run.step_minutes / 60.0
    month = load["timestamp"].dt.strftime("%Y-%m")
    g = load.groupby(month, sort=True)
    months = list(g.groups)
    peak_b, peak_s = g["baseline_kw"].max().to_numpy(), g["scenario_kw"].max().to_numpy()
    en_b, en_s = g["baseline_kw"].sum().to_numpy() * h, g["scenario_kw"].sum().to_numpy() * h
    days = (g.size().to_numpy() // run.steps_per_day).astype(int)
    svg = charts.monthly_bars("fig-monthly", months, peak_b, peak_s, en_b / 1000.0, en_s / 1000.0,
                              "Monthly peak and energy")
    rows = [Row([cell(m, nowrap=True), cell(days[k], True), cell(fmt.number(peak_b[k], "kw"), True),
                 cell(fmt.number(peak_s[k], "kw"), True), cell(fmt.number(peak_s[k] - peak_b[k], "kw", signed=True), True),
                 cell(fmt.number(en_b[k], "kwh"), True), cell(fmt.number(en_s[k], "kwh"), True),
                 cell(fmt.number(en_s[k] - en_b[k], "kwh", signed=True), True)])
            for k, m in enumerate(months)]
    return _section("monthly", blocks=[
        Figure("fig-monthly", svg, "Highest system load [kW] and energy [MWh] of each calendar month in the "
                                   "horizon, baseline (hatched) and scenario. Months only partly in the horizon "
                                   "cover fewer days."),
        Table("tab-monthly", "Monthly system peak and energy (from system_load.csv)",
              ["month", "days in horizon", "peak, baseline [kW]", "peak, scenario [kW]", "change [kW]",
               "energy, baseline [kWh]", "energy, scenario [kWh]", "change [kWh]"], rows)])


def _charges_used(run: RunFolder) -> list[str]:
    b, s = run.metrics["baseline"], run.metrics["scenario"]
    return [c for c in fmt.CHARGE_LABELS if b.get(f"revenue_{c}", 0) or s.get(f"revenue_{c}", 0)]


def _system_rows(run: RunFolder) -> list[Row]:
    cur = run.currency
    b, ch = run.metrics["baseline"], run.metrics["change"]
    known = {k for k, _, _ in fmt.SYSTEM_ROWS} | {"peak_time_index"}
    system = [r for r in fmt.SYSTEM_ROWS if not r[0].startswith("revenue_")]
    system += [(k, k.replace("_", " "), "generic") for k, v in b.items()
               if k not in known and isinstance(v, (int, float)) and not isinstance(v, bool)]
    rows = []
    for key, label, kind in system:
        if key not in b:
            continue
        change = mcell(run, f"change.{key}_change", kind, signed=True, change=True) if f"{key}_change" in ch else BLANK
        pct = mcell(run, f"change.{key}_change_pct", "pct", signed=True) if f"{key}_change_pct" in ch else BLANK
        u = fmt.unit(kind, cur)
        cu = fmt.unit(kind, cur, change=True)
        rows.append(Row([head(label), Cell(u if cu == u else f"{u} ({cu} for the change)"),
                         mcell(run, f"baseline.{key}", kind), mcell(run, f"scenario.{key}", kind), change, pct]))
    return rows


def section_network(run: RunFolder) -> Section:
    """Transformer loading and the worst feeder's day (sim.report.network); empty without a network."""
    return _section("network", blocks=network_blocks(run))


def section_metrics(run: RunFolder) -> Section:
    cur = run.currency
    ch = run.metrics["change"]
    listed = {k for k, _, _ in fmt.CHANGE_ROWS} | {k for k, _, _ in fmt.BILL_ROWS}
    extra = [(k, k.replace("_", " "), "bool" if isinstance(v, bool) else "generic") for k, v in ch.items()
             if k not in listed and not k.endswith("_change") and not k.endswith("_change_pct")
             and isinstance(v, (int, float))]
    rows = [Row([head(label), Cell(fmt.unit(kind, cur)), mcell(run, f"change.{key}", kind)])
            for key, label, kind in [*fmt.CHANGE_ROWS, *extra] if key in ch]
    return _section("metrics", blocks=[
        Table("tab-metrics-system", f"System figures over the {run.days}-day horizon (metrics.json)",
              ["metric", "unit", "baseline", "scenario", "change", "change [%]"], _system_rows(run), num_from=2),
        Table("tab-metrics-change", "Peak reduction, shifted energy, welfare and events (metrics.json, change)",
              ["metric", "unit", "value"], rows, num_from=2)], step_minutes=run.step_minutes, currency=cur)


def _revenue_segment_rows(run: RunFolder, cols: list[tuple[str, str, str]]) -> list[Row]:
    rows = []
    for name in run.segment_names:
        for role in ("baseline", "scenario", "change"):
            cells = [mcell(run, f"segments.{name}.{role}.{key}" if role != "change"
                           else f"segments.{name}.change.{key}_change", kind, signed=role == "change")
                     for key, _, kind in cols]
            rows.append(Row([head(name if role == "baseline" else ""), Cell(role), *cells],
                            cls="total" if role == "baseline" else None))
    return rows


def _revenue_figure(run: RunFolder, charges: list[str]) -> Figure | None:
    segs = run.metrics.get("segments", {})
    if not (segs and charges):
        return None
    names = run.segment_names
    data = {role: np.array([[segs[n][role].get(f"revenue_{c}", 0.0) for c in charges] for n in names])
            for role in ("baseline", "scenario")}
    cost = {role: np.array([segs[n][role].get("cost", 0.0) for n in names]) for role in ("baseline", "scenario")}
    stacks = charts.RevenueStacks(names, [fmt.CHARGE_LABELS[c] for c in charges], data["baseline"],
                                  data["scenario"], cost["baseline"], cost["scenario"])
    svg = charts.revenue_bars("fig-revenue", stacks, run.currency, "Revenue by charge and segment")
    return Figure("fig-revenue", svg, "Revenue by charge for each segment, baseline (left, hatched) and scenario "
                                      "(right); credits and rebates below zero; the black bar is the segment's "
                                      "cost of supply (energy plus capacity by coincident peak).")


def section_revenue(run: RunFolder) -> Section:
    cur = run.currency
    charges = _charges_used(run)
    items = [(f"revenue_{c}", f"Revenue: {fmt.CHARGE_LABELS[c]}", "money") for c in charges] + [
        ("revenue", "Revenue (all bills)", "money"), ("energy_cost", "Energy cost of supply", "money"),
        ("capacity_cost", "Capacity cost of supply", "money"), ("cost", "Cost of supply", "money"),
        ("margin", "Margin (revenue - cost)", "money"), ("average_price_per_kwh", "Average price", "price")]
    ch = run.metrics["change"]
    rows = [Row([head(label), Cell(fmt.unit(kind, cur)), mcell(run, f"baseline.{key}", kind),
                 mcell(run, f"scenario.{key}", kind), mcell(run, f"change.{key}_change", kind, signed=True),
                 mcell(run, f"change.{key}_change_pct", "pct", signed=True) if f"{key}_change_pct" in ch else BLANK],
                cls="total" if key in ("revenue", "cost", "margin") else None)
            for key, label, kind in items]
    cols = [(f"revenue_{c}", fmt.CHARGE_LABELS[c], "money") for c in charges] + [
        ("revenue", "revenue", "money"), ("energy_cost", "energy cost", "money"),
        ("capacity_cost", "capacity cost", "money"), ("cost", "cost", "money"), ("margin", "margin", "money"),
        ("bill_mean", "mean bill", "bill")]
    blocks = [
        Table("tab-revenue-system", "Utility revenue by charge, cost of supply and margin: whole system",
              ["", "unit", "baseline", "scenario", "change", "change [%]"], rows, num_from=2),
        Table("tab-revenue-segments", f"Revenue by charge, cost and margin by segment [{cur}; mean bill in "
                                      f"{cur}/customer]", ["segment", "role", *[c[1] for c in cols]],
              _revenue_segment_rows(run, cols), num_from=2),
    ]
    fig = _revenue_figure(run, charges)
    return _section("revenue", blocks=blocks + ([fig] if fig else []), ledger=[_welfare_table(run)])


def section_market(run: RunFolder) -> Section:
    """Each segment's sales, margin per kWh and growth, the portfolio chart and the screen
    (sim/report/market.py)."""
    return _section("market", **market_context(run))


#: The consumer ledger's terms in the welfare table: key of ``change``, column label.
WELFARE_COLUMNS = [("revenue_change", "bill change (revenue change)"),
                   ("consumer_utility_change", "utility of consumption change"),
                   ("consumer_surplus_change", "consumer surplus change"), ("margin_change", "margin change"),
                   ("welfare_change", "welfare change")]


def _welfare_table(run: RunFolder) -> Table:
    """Each segment's and the system's consumer ledger: bills, utility, surplus, margin, welfare."""
    groups = [(name, f"segments.{name}.change") for name in run.segment_names] + [("system", "change")]
    rows = [Row([head(name), *[mcell(run, f"{base}.{key}", "money", signed=True) for key, _ in WELFARE_COLUMNS]],
                cls="total" if name == "system" else None)
            for name, base in groups]
    return Table("tab-welfare", f"Consumer ledger and welfare, scenario against baseline [{run.currency}]",
                 ["segment", *[label for _, label in WELFARE_COLUMNS]], rows, num_from=1)


def _winner_tables(run: RunFolder) -> list[Table]:
    cur = run.currency
    groups = [(name, f"segments.{name}.change", f"segments.{name}.customers") for name in run.segment_names]
    groups.append(("all customers", "change", "baseline.customers"))
    absolute = [k for k in fmt.BILL_ROWS if k[2] != "pct" and not k[0].startswith("bill_change_pct")]
    rows = []
    for label, base, cust in groups:
        unchanged = None
        try:
            unchanged = 1.0 - run.metric(f"{base}.share_pay_more") - run.metric(f"{base}.share_pay_less")
        except KeyError:
            pass
        pooled = label == "all customers" and len(run.segment_names) > 1
        rows.append(Row([head(label), mcell(run, cust, "customers"), mcell(run, f"{base}.share_pay_more", "share"),
                         mcell(run, f"{base}.share_pay_less", "share"), cell(fmt.number(unchanged, "share"), True),
                         *[cell("-", True) if pooled and k != "bill_change_mean" else
                           mcell(run, f"{base}.{k}", kind, signed=True) for k, _, kind in absolute[2:]]],
                        cls="total" if label == "all customers" else None))
    pct_rows = [("bill_change_pct_mean", "mean"), ("bill_change_pct_p5", "5th percentile"),
                ("bill_change_pct_p25", "25th"), ("bill_change_pct_p50", "median"), ("bill_change_pct_p75", "75th"),
                ("bill_change_pct_p95", "95th percentile")]
    return [
        Table("tab-winners", f"Winners and losers: who pays more or less, and by how much [{cur}/customer over "
                             f"{counted(run.days, 'day')}; the money percentiles are per segment only: over all "
                             "customers they would rank bills of segments of very different sizes together]",
              ["segment", "customers", "pay more [%]", "pay less [%]", "unchanged [%]",
               *[label for _, label, _ in absolute[2:]]], rows),
        Table("tab-winners-pct", "Relative bill change per customer [% of the baseline bill]",
              ["segment", *[lbl for _, lbl in pct_rows]],
              [Row([head(label), *[mcell(run, f"{base}.{k}", "pct", signed=True) for k, _ in pct_rows]])
               for label, base, _ in groups]),
    ]


def section_bills(run: RunFolder) -> Section:
    cur = run.currency
    bc = run.bill_changes
    panels = [(name, bc.loc[bc["segment"] == name, "bill_change"].to_numpy()) for name in run.segment_names]
    svg = charts.bill_histograms("fig-bills", panels, cur, run.days, "Bill change per customer by segment")
    blocks = [Figure("fig-bills", svg, f"Distribution of each customer's bill change (scenario minus baseline bill over "
                                       f"the {run.days}-day horizon, {cur}) in each segment; the dashed line is the "
                                       "mean, the solid line zero (customers right of it pay more)."),
              *_winner_tables(run), *equity_tables(run)]
    choice = [n for n in run.segment_names if run.metrics.get("segments", {}).get(n, {}).get("choice")]
    if choice:
        blocks.append(Table("tab-choice", "Tariff choice within menus",
                            ["segment", "switched at least once [%]", "switches", "structural winners [%]",
                             f"revenue lost to structural winners [{cur}]"],
                            [Row([head(n), mcell(run, f"segments.{n}.choice.switched_share", "share"),
                                  mcell(run, f"segments.{n}.choice.switches", "count"),
                                  mcell(run, f"segments.{n}.choice.structural_winners_share", "share"),
                                  mcell(run, f"segments.{n}.choice.revenue_lost_to_structural_winners", "money")])
                             for n in choice]))
    return _section("bill-impacts", blocks=blocks)


def section_events(run: RunFolder) -> Section:
    ev = run.events
    if ev.empty:
        return _section("events", blocks=[])
    rows = []
    for r in ev.itertuples(index=False):
        fc = "" if r.forecast_peak_kw != r.forecast_peak_kw else fmt.number(r.forecast_peak_kw, "kw")  # NaN: listed
        rows.append(Row([*[cell(x, nowrap=True) for x in (r.date, f"{r.start}-{r.end}", r.programme.replace("_", " "),
                                                           r.tariff, r.source)],
                         cell(fc, True), *[cell(fmt.number(v, "kw", signed=k == 2), True) for k, v in
                                           enumerate((r.baseline_kw, r.scenario_kw, r.reduction_kw))]]))
    summary = Table("tab-events-summary", "Events in the horizon (metrics.json)", ["", "value"], [
        Row([head("distinct event windows"), mcell(run, "change.event_windows", "count")]),
        Row([head("calls by the operator"), mcell(run, "change.event_calls_by_operator", "count")]),
        Row([head("mean reduction in event windows [kW]"), mcell(run, "change.event_mean_reduction_kw", "kw")])])
    log = Table("tab-events", f"Event log ({len(ev)} rows of events.csv: one per event and tariff)",
                ["date", "hours", "programme", "tariff", "source", "forecast peak [kW]", "baseline [kW]",
                 "scenario [kW]", "reduction [kW]"], rows, num_from=5)
    return _section("events", blocks=[summary, log])


def _assumption_rows(run: RunFolder) -> tuple[list[Row], set[str]]:
    rows, any_default = [], set()
    for seg in run.scenario["populations"]:
        cls = seg["customer_class"]
        default = sources.default_matches(cls, seg["behavior"], seg.get("sector"), seg.get("shifts"))
        if default:
            any_default.add(cls)
        for model in _models(seg["behavior"]):
            what, src = sources.MODEL_SOURCES.get(model["model"], ("", "no source recorded"))
            if default:
                what_d, src_d = sources.DEFAULT_SOURCES.get(cls, ("", ""))
                src = (f"Calibrated default (behavior: default, docs/calibration.md). {src_d} "
                       f"{sources.sector_text(seg.get('sector'), seg.get('shifts'))}Model form: {src}")
            else:
                src = f"Parameters set in the scenario (their source is the scenario author's). Model form: {src}"
            params = ", ".join(f"{k} {param_text(v)}" for k, v in model.items() if k != "model" and v is not None)
            rows.append(Row([cell(x) for x in (seg["name"], model["model"], params or "(none)", what, src)]))
        if seg.get("interruptible"):
            rows.append(Row([cell(x) for x in (
                seg["name"], "interruptible", param_text(seg["interruptible"]),
                "Customers shed a share (compliance) of their load above the firm level in interruptible events "
                "(docs/behavior.md 3.7).", "The compliance rule is an assumption.")]))
    return rows, any_default


def section_assumptions(run: RunFolder) -> Section:
    rows, any_default = _assumption_rows(run)
    models = Table("tab-assumptions", "Behaviour models, their parameters and sources",
                   ["segment", "model", "parameters", "what it does", "source"], rows, num_cols=set())
    defaults, calibration = None, None
    if any_default:
        defaults = KeyValues("tab-defaults", "What behavior: default stands for, and where it comes from",
                             [(cls, f"{sources.DEFAULT_SOURCES[cls][0]} Source: {sources.DEFAULT_SOURCES[cls][1]}")
                              for cls in ("residential", "commercial", "industrial") if cls in any_default])
        cal = sources.calibration_table() if "residential" in any_default else None
        if cal:
            head_row, crow = cal
            calibration = Table("tab-calibration", "Residential default against the published arc "
                                                   "(docs/calibration.md): peak impact [%] by peak/off-peak price ratio",
                                head_row, [Row([cell(c, True) for c in r]) for r in crow])
    return _section("assumptions", models=models, defaults=defaults, calibration=calibration,
                    general=sources.GENERAL_ASSUMPTIONS)


def section_provenance(run: RunFolder) -> Section:
    m = run.manifest
    code = m.get("code") or {}
    commit = code.get("git_commit") or "unknown"
    dirty = code.get("git_dirty")
    commit_text = commit + (" (with uncommitted changes under sim/: the commit alone does not reproduce this run)"
                            if dirty else " (clean)" if dirty is False else "")
    eng = m.get("engine") or {}
    items = [
        ("Scenario", m.get("scenario_name", "")),
        ("Scenario hash (SHA-256)", m.get("scenario_hash", "")),
        ("Seed", str(m.get("seed"))),
        ("drsim version", str(code.get("drsim"))),
        ("Git commit", commit_text),
        ("Python", str(m.get("python"))),
        ("Platform", str(m.get("platform"))),
        ("Started (UTC)", str(m.get("started_utc"))),
        ("Finished (UTC)", str(m.get("finished_utc"))),
        ("Wall time", f"{m.get('wall_seconds', 0):,.1f} s"),
        ("Engine", f"stream blocks of {eng.get('stream_block_customers')} customers (part of the model); "
                   f"{eng.get('chunk_customers')} customers in memory at a time"
                   + (f", spread over {eng['shards']} Dask workers" if str(eng.get("where", "")).startswith("dask") else "")
                   + " (neither changes results)"),
        ("Run folder", str(run.path.resolve())),
    ]
    inputs = m.get("inputs") or []
    cmd = m.get("command")
    return _section(
        "provenance", about=KeyValues("tab-provenance", "What was run, with what", items),
        packages=Table("tab-packages", "Package versions", ["package", "version"],
                       [Row([head(k), cell(v, True)]) for k, v in (m.get("packages") or {}).items()]),
        inputs=Table("tab-inputs", "Input files and their content hashes", ["file", "SHA-256"],
                     [Row([cell(i["path"]), Cell(i["sha256"], code=True)]) for i in inputs], num_cols=set())
        if inputs else None,
        command=shlex.join(cmd) if cmd else None, reproduce=reproduce_command(cmd, m.get("seed")), seed=m.get("seed"))


# --------------------------------------------------------------------------- page


def drsim_version() -> str:
    """The installed drsim's version, as the report pages name their generator."""
    try:
        return metadata.version("drsim")
    except metadata.PackageNotFoundError:
        return "unknown"


#: The sections of the page, in page order.
BUILDERS = [section_summary, section_scenario, section_tariffs, section_population, section_load_curves,
            section_duration, section_monthly, section_network, section_metrics, section_revenue, section_market,
            section_bills, section_events,
            section_assumptions, section_provenance]


def build_report(run_dir: str | Path, *, generated: dt.datetime | None = None) -> str:
    """The report of a finished run folder as one HTML document (a string), from the
    templates in sim/report/templates (report.html.j2, and one per section)."""
    run = RunFolder.open(run_dir)
    generated = generated or dt.datetime.now(dt.timezone.utc)
    pages = [render(s.template, s=s, **s.context) for s in (build(run) for build in BUILDERS)]
    # the summary comes first, above the contents: the first screen answers who wins and loses
    return str(render("report.html.j2", run=run, sc=run.scenario, sections=SECTIONS, first=pages[0],
                      body=Markup("").join(pages[1:]), generated=generated, version=drsim_version()))


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file beside it and ``os.replace``: a reader
    sees the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_report(run_dir: str | Path, out: str | Path | None = None, *, force: bool = False) -> Path:
    """Write the report of a run folder; return its path.

    By default it goes to ``RUN_DIR/report.html``, replacing an earlier report there (a
    report is derived from the run folder, which never changes). Any other ``out`` file is
    not overwritten unless ``force``.
    """
    run_dir = Path(run_dir)
    default = run_dir / "report.html"
    target = Path(out) if out else default
    if out and target.exists() and not force and target.resolve() != default.resolve():
        raise InputError(Problem("--out", None, "", f"{target} exists; drsim does not overwrite it (use --force)"))
    if out and not target.parent.is_dir():
        raise InputError(Problem("--out", None, "", f"folder {target.parent} does not exist"))
    text = build_report(run_dir)
    write_atomic(target, text)
    return target
