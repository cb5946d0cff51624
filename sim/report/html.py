"""The run report: one self-contained, printable HTML page built from a finished run folder.

Everything the page needs is inside it: CSS in a ``<style>`` element, charts as inline SVG,
no script, no link to any other file or address. Every figure taken from ``metrics.json``
sits in a ``<td data-metric="dotted.path" data-unit="...">`` cell, so that the numbers can
be checked against the run (tests/test_report.py does).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import shlex
from importlib import metadata
from pathlib import Path

import numpy as np

from ..calendar import HOLIDAY, SEASON_NAMES, WEEKDAY, WEEKEND
from ..errors import InputError, Problem
from . import charts, fmt, sources
from .run import RunFolder, day_matrix
from .tariffs import tariff_views

#: Section ids and headings, in page order.
SECTIONS = [
    ("summary", "Key figures"),
    ("scenario", "Scenario"),
    ("tariffs", "Tariffs"),
    ("population", "Population"),
    ("load-curves", "Load curves"),
    ("load-duration", "Load duration curve"),
    ("monthly", "Monthly peak and energy"),
    ("metrics", "Metrics"),
    ("revenue", "Revenue, cost and margin"),
    ("bill-impacts", "Bill impacts"),
    ("events", "Event log"),
    ("assumptions", "Assumptions and calibration sources"),
    ("provenance", "Provenance"),
]

SEASON_LABELS = {"winter": "winter (Dec-Feb)", "summer": "summer (Jun-Aug)", "shoulder": "shoulder (Mar-May, Sep-Nov)"}

CSS = """
:root { --fg: #1a1a1a; --muted: #555; --accent: #0072B2; --rule: #e2e2e2; }
html { font-family: "DejaVu Sans", "Segoe UI", Arial, Helvetica, sans-serif; color: var(--fg); background: #fff; }
body { max-width: 1100px; margin: 0 auto; padding: 24px 32px 64px; line-height: 1.45; font-size: 14px; }
h1 { font-size: 26px; margin: 0 0 6px; }
h2 { font-size: 20px; border-bottom: 2px solid var(--accent); padding-bottom: 4px; margin: 40px 0 12px; }
h3 { font-size: 16px; margin: 24px 0 8px; }
p { margin: 6px 0 10px; }
.muted { color: var(--muted); }
.lede { font-size: 15px; max-width: 60em; }
table { border-collapse: collapse; margin: 8px 0 18px; font-size: 13px; }
caption { text-align: left; font-weight: 600; padding: 4px 0 6px; caption-side: top; }
th, td { border-bottom: 1px solid var(--rule); padding: 3px 8px; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #999; background: #f4f6f8; vertical-align: bottom; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num, .nowrap { white-space: nowrap; }
table { min-width: 24em; }
table.kv { width: 100%; }
tr.total td, tr.total th { font-weight: 600; border-top: 1px solid #999; }
tbody th { font-weight: normal; }
table.kv th { width: 15em; color: var(--muted); }
.table-wrap { overflow-x: auto; }
figure { margin: 12px 0 22px; }
figure svg.chart-svg { width: 100%; height: auto; display: block; }
svg.chart-svg * { stroke-linejoin: round; stroke-linecap: butt; }
figcaption { font-size: 12.5px; color: var(--muted); margin-top: 4px; }
pre, code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: #f6f8fa; padding: 8px 10px; white-space: pre-wrap; word-break: break-all; border: 1px solid var(--rule); }
.note { background: #fff8e1; border-left: 4px solid #e6a700; padding: 6px 10px; margin: 8px 0 12px; }
.empty { font-style: italic; color: var(--muted); }
nav.toc ol { columns: 2; margin: 6px 0 0; }
nav.toc a { color: var(--accent); }
ul.plain { padding-left: 1.2em; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  html { font-size: 10pt; }
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  section.report-section { break-before: page; }
  section#summary { break-before: auto; }
  h2, h3, caption { break-after: avoid; }
  figure, tr, pre, .note { break-inside: avoid; }
  thead { display: table-header-group; }
  .table-wrap { overflow: visible; }
  table { font-size: 8.5pt; }
  th, td { padding: 2px 5px; }
  a { color: inherit; text-decoration: none; }
  figure svg.chart-svg { max-height: 225mm; }
}
"""


# --------------------------------------------------------------------------- html helpers


def esc(x) -> str:
    return html.escape(str(x), quote=True)


def _cell(text, num: bool = False, header: bool = False, nowrap: bool = False) -> str:
    tag = "th" if header else "td"
    num_attr = ' class="num"' if num else ' class="nowrap"' if nowrap else ""
    return f"<{tag}{num_attr}>{esc(text)}</{tag}>"


def mcell(run: RunFolder, path: str, kind: str, *, signed: bool = False, change: bool = False) -> str:
    """A table cell holding one figure of ``metrics.json`` (dotted ``path``), rounded by ``kind``."""
    try:
        value = run.metric(path)
    except (KeyError, TypeError):
        return '<td class="num">n/a</td>'
    text = fmt.number(value, kind, signed=signed)
    u = fmt.unit(kind, run.currency, change=change)
    return f'<td class="num" data-metric="{esc(path)}" data-unit="{esc(u)}">{esc(text)}</td>'


def table(table_id: str, caption: str, header: list[str], rows: list[str], *, num_from: int = 1,
          num_cols: set[int] | None = None, cls: str = "") -> str:
    """A table with a caption; ``rows`` are ready ``<tr>`` markup; header cells of the number
    columns (``num_cols``, or every column from ``num_from`` on) are right-aligned like the
    numbers below them."""
    num_attr = ' class="num"'
    nums = num_cols if num_cols is not None else set(range(num_from, len(header)))
    head = "".join(f'<th{num_attr if i in nums else ""} scope="col">{esc(h)}</th>'
                   for i, h in enumerate(header))
    cls_attr = f' class="{esc(cls)}"' if cls else ""
    return (f'<div class="table-wrap"><table id="{esc(table_id)}"{cls_attr}>'
            f"<caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>\n")


def kv_table(table_id: str, caption: str, items: list[tuple[str, str]], *, raw: bool = False) -> str:
    """A two-column key/value table (values escaped unless ``raw``)."""
    rows = "".join(f'<tr><th scope="row">{esc(k)}</th><td>{v if raw else esc(v)}</td></tr>' for k, v in items)
    return (f'<div class="table-wrap"><table id="{esc(table_id)}" class="kv"><caption>{esc(caption)}</caption>'
            f"<tbody>{rows}</tbody></table></div>\n")


def figure(fig_id: str, svg: str, caption: str) -> str:
    return f'<figure class="chart" id="{esc(fig_id)}">{svg}<figcaption>{esc(caption)}</figcaption></figure>\n'


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
            return f"lognormal(mean {_g(p['mean'])}, cv {_g(p['cv'])})"
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
        parts.append(f"enrolment {e['mode'].replace('_', '-')} {e['share']:.0%}")
    if p.get("awareness"):
        a = p["awareness"]
        parts.append(f"awareness {a['start']:.0%} to {a['end']:.0%}")
    if p.get("enabling_technology"):
        t = p["enabling_technology"]
        parts.append(f"enabling technology {t['share']:.0%} (response x {_g(t['response_multiplier'])})")
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


def _section(sid: str, body: str, intro: str = "") -> str:
    title = dict(SECTIONS)[sid]
    n = [s for s, _ in SECTIONS].index(sid) + 1
    intro = f'<p class="lede">{intro}</p>' if intro else ""
    return (f'<section id="{sid}" class="report-section" aria-labelledby="{sid}-h">'
            f'<h2 id="{sid}-h">{n}. {esc(title)}</h2>{intro}\n{body}</section>\n')


def section_summary(run: RunFolder) -> str:
    c = "change"
    rows = [
        ("System peak, baseline", mcell(run, "baseline.peak_kw", "kw"), "kW"),
        ("System peak, scenario", mcell(run, "scenario.peak_kw", "kw"), "kW"),
        ("Peak reduction", mcell(run, f"{c}.peak_reduction_kw", "kw"), "kW"),
        ("Peak reduction, relative", mcell(run, f"{c}.peak_reduction_pct", "pct"), "%"),
        ("Energy change", mcell(run, f"{c}.energy_kwh_change", "kwh", signed=True), "kWh"),
        ("Revenue change", mcell(run, f"{c}.revenue_change", "money", signed=True), run.currency),
        ("Margin change", mcell(run, f"{c}.margin_change", "money", signed=True), run.currency),
        ("Mean bill change", mcell(run, f"{c}.bill_change_mean", "bill", signed=True), f"{run.currency}/customer"),
        ("Mean bill change, relative", mcell(run, f"{c}.bill_change_pct_mean", "pct", signed=True), "%"),
        ("Customers who pay more", mcell(run, f"{c}.share_pay_more", "share"), "%"),
        ("Customers who pay less", mcell(run, f"{c}.share_pay_less", "share"), "%"),
    ]
    body = table("tab-summary", f"Scenario against baseline over the {run.days}-day horizon",
                 ["figure", "value", "unit"],
                 [f"<tr><th scope=\"row\">{esc(k)}</th>{v}<td>{esc(u)}</td></tr>" for k, v, u in rows], num_from=1)
    return _section("summary", body)


def section_scenario(run: RunFolder) -> str:
    sc = run.scenario
    cal = run.calendar
    h = sc["horizon"]
    end = cal.start + dt.timedelta(days=cal.days - 1)
    hol = (sc.get("calendar") or {}).get("holidays") or {}
    where = hol.get("country") or "none"
    if hol.get("subdivision"):
        where += f" ({hol['subdivision']})"
    holidays = f"public holidays: {where}; extra dates: {len(hol.get('dates') or [])}; " \
               f"{len(cal.holiday_dates)} holiday(s) in the horizon"
    if cal.holiday_names:
        shown = list(cal.holiday_names.items())[:30]
        holidays += ": " + "; ".join(f"{d:%Y-%m-%d} {n}" for d, n in shown) + (" ..." if len(cal.holiday_names) > 30 else "")
    day_counts = {name: int((cal.day_type == code).sum()) for code, name in
                  ((WEEKDAY, "weekdays"), (WEEKEND, "weekend days"), (HOLIDAY, "holidays"))}
    grid = sc.get("grid") or {}
    cur = run.currency
    ec = grid.get("energy_cost_per_kwh", 0.0)
    if grid.get("supply_curve"):
        steps = "; ".join((f"up to {_g(s['up_to_kw'])} kW: " if s.get("up_to_kw") is not None else "above: ")
                          + f"{_g(s['cost_per_kwh'])} {cur}/kWh" for s in grid["supply_curve"])
        energy_cost = f"merit-order supply curve ({grid.get('supply_curve_shape', 'step')}): {steps}"
    elif isinstance(ec, dict):
        energy_cost = f"per-step series from {ec.get('csv')} (column {ec.get('column')}) {cur}/kWh"
    else:
        energy_cost = f"{_g(ec)} {cur}/kWh (flat)"
    items = [
        ("Name", sc["name"]),
        ("Description", sc.get("description") or "(none)"),
        ("Currency", cur),
        ("Horizon", f"{cal.start:%Y-%m-%d} to {end:%Y-%m-%d}: {h['days']} days of {h['step_minutes']}-minute steps "
                    f"({cal.n_steps:,} steps; {day_counts['weekdays']} weekdays, {day_counts['weekend days']} "
                    f"weekend days, {day_counts['holidays']} holidays)"),
        ("Calendar", holidays),
        ("Seed", str(sc.get("seed"))),
        ("Segments", "; ".join(f"{s['name']} ({s['customer_class']}, "
                               f"{run.metrics.get('segments', {}).get(s['name'], {}).get('customers', s.get('count'))}"
                               " customers)" for s in sc["populations"])),
        ("Tariffs", ", ".join(sc.get("tariffs", {}))),
        ("Energy cost of supply", energy_cost),
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
    return _section("scenario", kv_table("tab-scenario", "Scenario summary", items))


def section_tariffs(run: RunFolder) -> str:
    parts = []
    for v in tariff_views(run):
        slug = re.sub(r"[^A-Za-z0-9_-]", "-", v.name)
        out = [f'<div class="tariff" id="tariff-{esc(slug)}"><h3>Tariff {esc(v.name)} <span class="muted">'
               f'({esc(v.kind)})</span></h3>']
        if v.description:
            out.append(f"<p>{esc(v.description)}</p>")
        out.append(f"<p class=\"muted\">Used as: {esc('; '.join(v.used_by) or 'not used by any segment')}.</p>")
        if v.price_rows:
            first_num = 2 if v.price_header[:2] == ["season", "period"] else len(v.price_header)  # else text
            out.append(table(f"tab-prices-{slug}", f"{v.name}: energy prices by season, period and tier",
                             v.price_header, ["<tr>" + "".join(_cell(c, num=i >= first_num) for i, c in enumerate(r))
                                              + "</tr>" for r in v.price_rows], num_from=first_num))
        if v.charge_rows:
            out.append(kv_table(f"tab-charges-{slug}", f"{v.name}: other charges", v.charge_rows))
        for note in v.notes:
            out.append(f'<p class="note">{esc(note)}</p>')
        for fig_id, caption, svg in v.heatmaps:
            out.append(figure(fig_id, svg, caption + ". Rows: season and day type; columns: hour of day; colour "
                                                     "from pale (cheapest) to dark (dearest)."))
        out.append("</div>")
        parts.append("".join(out))
    intro = ("Prices as billed (season multipliers and tier adders applied). Schedules and TOU prices are shown "
             "for a whole calendar year, also where the run's horizon is shorter.")
    return _section("tariffs", "\n".join(parts), intro)


def section_population(run: RunFolder) -> str:
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
        if sources.default_matches(seg["customer_class"], seg["behavior"]):
            behaviour = f"default for {seg['customer_class']} (calibrated): {behaviour}"
        rows.append("<tr>" + _cell(name) + _cell(seg["customer_class"])
                    + mcell(run, f"segments.{name}.customers", "customers")
                    + _cell(size) + mcell(run, f"segments.{name}.baseline.energy_kwh", "kwh")
                    + _cell(behaviour) + _cell(participation_text(seg.get("participation")))
                    + _cell(seg["tariff"]["baseline"]) + _cell(scen) + "</tr>")
    body = table("tab-population", "Customer segments",
                 ["segment", "class", "customers", "annual kWh per customer (input)",
                  f"baseline energy over {run.days} days [kWh]", "behaviour models", "participation",
                  "baseline tariff", "scenario tariff"], rows, num_cols={2, 4})
    return _section("population", body)


def section_load_curves(run: RunFolder) -> str:
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
    body = [figure("fig-peak-day", charts.day_curves("fig-peak-day", panels, "System load on the peak day"),
                   "System load on the day of the system peak, baseline (dashed) and scenario; dots mark each "
                   "curve's highest step. Each step shows its mean power.")]
    body.append(table("tab-peaks", "System peaks", ["", "peak [kW]", "step starting"], [
        f"<tr><th scope=\"row\">baseline</th>{mcell(run, 'baseline.peak_kw', 'kw')}"
        f"<td class=\"num\">{stamps.iloc[ib]:%Y-%m-%d %H:%M}</td></tr>",
        f"<tr><th scope=\"row\">scenario</th>{mcell(run, 'scenario.peak_kw', 'kw')}"
        f"<td class=\"num\">{stamps.iloc[is_]:%Y-%m-%d %H:%M}</td></tr>"]))
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
    body.append(figure("fig-typical-days", charts.season_curves("fig-typical-days", rows, "Typical days by season"),
                       "Typical days: the mean system load over the weekdays and over the weekend days of each "
                       "meteorological season in the horizon (" + "; ".join(SEASON_LABELS.values())
                       + "); holidays are left out of both."))
    return _section("load-curves", "".join(body))


def section_duration(run: RunFolder) -> str:
    load = run.load
    b, s = load["baseline_kw"].to_numpy(), load["scenario_kw"].to_numpy()
    h = run.step_minutes / 60.0
    svg = charts.duration_curve("fig-duration", b, s, h, "Load duration curve")
    rows = []
    for q, label in ((0.0, "highest step (peak)"), (1.0, "exceeded in 1 % of steps"), (5.0, "exceeded in 5 % of steps"),
                     (10.0, "exceeded in 10 % of steps"), (50.0, "median"), (90.0, "exceeded in 90 % of steps"),
                     (100.0, "lowest step (valley)")):
        vb, vs = np.percentile(b, 100 - q), np.percentile(s, 100 - q)
        rows.append(f"<tr><th scope=\"row\">{esc(label)}</th>{_cell(fmt.number(vb, 'kw'), True)}"
                    f"{_cell(fmt.number(vs, 'kw'), True)}{_cell(fmt.number(vs - vb, 'kw', signed=True), True)}</tr>")
    body = figure("fig-duration", svg, "Load duration curves: the system load of every step, sorted from highest to "
                                       "lowest, baseline (dashed) and scenario.")
    body += table("tab-duration", "Points of the load duration curves (from system_load.csv)",
                  ["", "baseline [kW]", "scenario [kW]", "change [kW]"], rows)
    return _section("load-duration", body)


def section_monthly(run: RunFolder) -> str:
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
    rows = []
    for k, m in enumerate(months):
        rows.append("<tr>" + _cell(m, nowrap=True) + _cell(days[k], True) + "".join(_cell(fmt.number(v, "kw"), True) for v in
                                                                        (peak_b[k], peak_s[k]))
                    + _cell(fmt.number(peak_s[k] - peak_b[k], "kw", signed=True), True)
                    + "".join(_cell(fmt.number(v, "kwh"), True) for v in (en_b[k], en_s[k]))
                    + _cell(fmt.number(en_s[k] - en_b[k], "kwh", signed=True), True) + "</tr>")
    body = figure("fig-monthly", svg, "Highest system load [kW] and energy [MWh] of each calendar month in the "
                                      "horizon, baseline (hatched) and scenario. Months only partly in the horizon "
                                      "cover fewer days.")
    body += table("tab-monthly", "Monthly system peak and energy (from system_load.csv)",
                  ["month", "days in horizon", "peak, baseline [kW]", "peak, scenario [kW]", "change [kW]",
                   "energy, baseline [kWh]", "energy, scenario [kWh]", "change [kWh]"], rows)
    return _section("monthly", body)


def _charges_used(run: RunFolder) -> list[str]:
    b, s = run.metrics["baseline"], run.metrics["scenario"]
    return [c for c in fmt.CHARGE_LABELS if b.get(f"revenue_{c}", 0) or s.get(f"revenue_{c}", 0)]


def section_metrics(run: RunFolder) -> str:
    cur = run.currency
    b, ch = run.metrics["baseline"], run.metrics["change"]
    rows = []
    known = {k for k, _, _ in fmt.SYSTEM_ROWS} | {"peak_time_index"}
    system = [r for r in fmt.SYSTEM_ROWS if not r[0].startswith("revenue_")]
    system += [(k, k.replace("_", " "), "generic") for k, v in b.items()
               if k not in known and isinstance(v, (int, float)) and not isinstance(v, bool)]
    for key, label, kind in system:
        if key not in b:
            continue
        change = (mcell(run, f"change.{key}_change", kind, signed=True, change=True) if f"{key}_change" in ch
                  else '<td class="num"></td>')
        pct = (mcell(run, f"change.{key}_change_pct", "pct", signed=True) if f"{key}_change_pct" in ch
               else '<td class="num"></td>')
        u = fmt.unit(kind, cur)
        cu = fmt.unit(kind, cur, change=True)
        unit = u if cu == u else f"{u} ({cu} for the change)"
        rows.append(f"<tr><th scope=\"row\">{esc(label)}</th><td>{esc(unit)}</td>"
                    f"{mcell(run, f'baseline.{key}', kind)}{mcell(run, f'scenario.{key}', kind)}{change}{pct}</tr>")
    body = table("tab-metrics-system", f"System figures over the {run.days}-day horizon (metrics.json)",
                 ["metric", "unit", "baseline", "scenario", "change", "change [%]"], rows, num_from=2)
    rows = []
    listed = {k for k, _, _ in fmt.CHANGE_ROWS} | {k for k, _, _ in fmt.BILL_ROWS}
    extra = [(k, k.replace("_", " "), "bool" if isinstance(v, bool) else "generic") for k, v in ch.items()
             if k not in listed and not k.endswith("_change") and not k.endswith("_change_pct")
             and isinstance(v, (int, float))]
    for key, label, kind in [*fmt.CHANGE_ROWS, *extra]:
        if key not in ch:
            continue
        rows.append(f"<tr><th scope=\"row\">{esc(label)}</th><td>{esc(fmt.unit(kind, cur))}</td>"
                    f"{mcell(run, f'change.{key}', kind)}</tr>")
    body += table("tab-metrics-change", "Peak reduction, shifted energy, welfare and events (metrics.json, change)",
                  ["metric", "unit", "value"], rows, num_from=2)
    body += ("<p class=\"muted\">Definitions of every figure: docs/metrics.md. Changes of shares are in percentage "
             "points (pp); relative changes are against the baseline value. kW are mean power over a "
             f"{run.step_minutes}-minute step; money is in {esc(cur)} over the horizon, tax included.</p>")
    return _section("metrics", body)


def section_revenue(run: RunFolder) -> str:
    cur = run.currency
    charges = _charges_used(run)
    items = [(f"revenue_{c}", f"Revenue: {fmt.CHARGE_LABELS[c]}", "money") for c in charges] + [
        ("revenue", "Revenue (all bills)", "money"), ("energy_cost", "Energy cost of supply", "money"),
        ("capacity_cost", "Capacity cost of supply", "money"), ("cost", "Cost of supply", "money"),
        ("margin", "Margin (revenue - cost)", "money"), ("average_price_per_kwh", "Average price", "price")]
    ch = run.metrics["change"]
    rows = []
    for key, label, kind in items:
        cls = ' class="total"' if key in ("revenue", "cost", "margin") else ""
        pct = (mcell(run, f"change.{key}_change_pct", "pct", signed=True) if f"{key}_change_pct" in ch
               else '<td class="num"></td>')
        rows.append(f"<tr{cls}><th scope=\"row\">{esc(label)}</th><td>{esc(fmt.unit(kind, cur))}</td>"
                    f"{mcell(run, f'baseline.{key}', kind)}{mcell(run, f'scenario.{key}', kind)}"
                    f"{mcell(run, f'change.{key}_change', kind, signed=True)}{pct}</tr>")
    body = table("tab-revenue-system", "Utility revenue by charge, cost of supply and margin: whole system",
                 ["", "unit", "baseline", "scenario", "change", "change [%]"], rows, num_from=2)
    segs = run.metrics.get("segments", {})
    cols = [(f"revenue_{c}", fmt.CHARGE_LABELS[c], "money") for c in charges] + [
        ("revenue", "revenue", "money"), ("energy_cost", "energy cost", "money"),
        ("capacity_cost", "capacity cost", "money"), ("cost", "cost", "money"), ("margin", "margin", "money"),
        ("bill_mean", "mean bill", "bill")]
    rows = []
    for name in run.segment_names:
        for role in ("baseline", "scenario", "change"):
            cells = []
            for key, _, kind in cols:
                path = f"segments.{name}.{role}.{key}" if role != "change" else f"segments.{name}.change.{key}_change"
                cells.append(mcell(run, path, kind, signed=role == "change"))
            head = f"<th scope=\"row\">{esc(name)}</th>" if role == "baseline" else "<th scope=\"row\"></th>"
            cls = ' class="total"' if role == "baseline" else ""
            rows.append(f"<tr{cls}>{head}<td>{role}</td>"
                        f"{''.join(cells)}</tr>")
    body += table("tab-revenue-segments", f"Revenue by charge, cost and margin by segment [{cur}; mean bill in "
                                          f"{cur}/customer]", ["segment", "role", *[c[1] for c in cols]], rows,
                  num_from=2)
    if segs and charges:
        names = run.segment_names
        data = {role: np.array([[segs[n][role].get(f"revenue_{c}", 0.0) for c in charges] for n in names])
                for role in ("baseline", "scenario")}
        cost = {role: np.array([segs[n][role].get("cost", 0.0) for n in names]) for role in ("baseline", "scenario")}
        stacks = charts.RevenueStacks(names, [fmt.CHARGE_LABELS[c] for c in charges], data["baseline"],
                                      data["scenario"], cost["baseline"], cost["scenario"])
        svg = charts.revenue_bars("fig-revenue", stacks, cur, "Revenue by charge and segment")
        body += figure("fig-revenue", svg, "Revenue by charge for each segment, baseline (left, hatched) and scenario "
                                           "(right); credits and rebates below zero; the black bar is the segment's "
                                           "cost of supply (energy plus capacity by coincident peak).")
    body += ("<p class=\"muted\">Capacity cost is allocated to segments by their load at the system peak, so "
             "segment costs and margins add up to the system's (docs/metrics.md).</p>")
    body += _welfare_table(run)
    return _section("revenue", body)


#: The consumer ledger's terms in the welfare table: key of ``change``, column label.
WELFARE_COLUMNS = [("revenue_change", "bill change (revenue change)"),
                   ("consumer_utility_change", "utility of consumption change"),
                   ("consumer_surplus_change", "consumer surplus change"), ("margin_change", "margin change"),
                   ("welfare_change", "welfare change")]


def _welfare_table(run: RunFolder) -> str:
    """Each segment's and the system's consumer ledger: bills, utility, surplus, margin, welfare."""
    groups = [(name, f"segments.{name}.change") for name in run.segment_names] + [("system", "change")]
    rows = []
    for name, base in groups:
        cells = "".join(mcell(run, f"{base}.{key}", "money", signed=True) for key, _ in WELFARE_COLUMNS)
        cls = ' class="total"' if name == "system" else ""
        rows.append(f"<tr{cls}><th scope=\"row\">{esc(name)}</th>{cells}</tr>")
    body = table("tab-welfare", f"Consumer ledger and welfare, scenario against baseline [{run.currency}]",
                 ["segment", *[label for _, label in WELFARE_COLUMNS]], rows, num_from=1)
    return body + ("<p class=\"muted\">Bills are transfers: consumer surplus change = utility change - bill change; "
                   "welfare change = utility change - cost change = consumer surplus change + margin change, so a "
                   "fixed charge or a tax moves money between the columns and leaves welfare unchanged "
                   "(docs/metrics.md, Consumer ledger).</p>")


def section_bills(run: RunFolder) -> str:
    cur = run.currency
    bc = run.bill_changes
    panels = [(name, bc.loc[bc["segment"] == name, "bill_change"].to_numpy()) for name in run.segment_names]
    svg = charts.bill_histograms("fig-bills", panels, cur, run.days, "Bill change per customer by segment")
    body = figure("fig-bills", svg, f"Distribution of each customer's bill change (scenario minus baseline bill over "
                                    f"the {run.days}-day horizon, {cur}) in each segment; the dashed line is the mean, "
                                    "the solid line zero (customers right of it pay more).")
    groups = [(name, f"segments.{name}.change", f"segments.{name}.customers") for name in run.segment_names]
    groups.append(("all customers", "change", "baseline.customers"))
    absolute = [k for k in fmt.BILL_ROWS if k[2] != "pct" and not k[0].startswith("bill_change_pct")]
    rows = []
    for label, base, cust in groups:
        cls = ' class="total"' if label == "all customers" else ""
        unchanged = None
        try:
            unchanged = 1.0 - run.metric(f"{base}.share_pay_more") - run.metric(f"{base}.share_pay_less")
        except KeyError:
            pass
        rows.append(f"<tr{cls}><th scope=\"row\">{esc(label)}</th>{mcell(run, cust, 'customers')}"
                    f"{mcell(run, f'{base}.share_pay_more', 'share')}{mcell(run, f'{base}.share_pay_less', 'share')}"
                    f"{_cell(fmt.number(unchanged, 'share'), True)}"
                    + "".join(mcell(run, f"{base}.{k}", kind, signed=True) for k, _, kind in absolute[2:]) + "</tr>")
    body += table("tab-winners", f"Winners and losers: who pays more or less, and by how much [{cur}/customer over "
                                 f"{run.days} days]",
                  ["segment", "customers", "pay more [%]", "pay less [%]", "unchanged [%]",
                   *[label for _, label, _ in absolute[2:]]], rows)
    pct_rows = [("bill_change_pct_mean", "mean"), ("bill_change_pct_p5", "5th percentile"),
                ("bill_change_pct_p25", "25th"), ("bill_change_pct_p50", "median"), ("bill_change_pct_p75", "75th"),
                ("bill_change_pct_p95", "95th percentile")]
    rows = [f"<tr><th scope=\"row\">{esc(label)}</th>"
            + "".join(mcell(run, f"{base}.{k}", "pct", signed=True) for k, _ in pct_rows) + "</tr>"
            for label, base, _ in groups]
    body += table("tab-winners-pct", "Relative bill change per customer [% of the baseline bill]",
                  ["segment", *[lbl for _, lbl in pct_rows]], rows)
    choice = [(n, run.metrics["segments"][n]["choice"]) for n in run.segment_names
              if run.metrics.get("segments", {}).get(n, {}).get("choice")]
    if choice:
        rows = [f"<tr><th scope=\"row\">{esc(n)}</th>{mcell(run, f'segments.{n}.choice.switched_share', 'share')}"
                f"{mcell(run, f'segments.{n}.choice.switches', 'count')}"
                f"{mcell(run, f'segments.{n}.choice.structural_winners_share', 'share')}"
                f"{mcell(run, f'segments.{n}.choice.revenue_lost_to_structural_winners', 'money')}</tr>"
                for n, _ in choice]
        body += table("tab-choice", "Tariff choice within menus", ["segment", "switched at least once [%]",
                                                                   "switches", "structural winners [%]",
                                                                   f"revenue lost to structural winners [{cur}]"], rows)
    body += ("<p class=\"muted\">A customer pays more when its bill rises by more than half a cent; percentiles "
             "interpolate linearly between customers (docs/metrics.md).</p>")
    return _section("bill-impacts", body)


def section_events(run: RunFolder) -> str:
    ev = run.events
    if ev.empty:
        body = ("<p class=\"empty\" id=\"no-events\">No events in this run: no tariff lists an event in the "
                "horizon and no operator called one.</p>")
        return _section("events", body)
    rows = []
    for r in ev.itertuples(index=False):
        fc = "" if r.forecast_peak_kw != r.forecast_peak_kw else fmt.number(r.forecast_peak_kw, "kw")  # NaN: listed
        rows.append("<tr>" + "".join(_cell(x, nowrap=True) for x in (r.date, f"{r.start}-{r.end}", r.programme.replace("_", " "),
                                                         r.tariff, r.source))
                    + _cell(fc, True) + "".join(_cell(fmt.number(v, "kw", signed=k == 2), True) for k, v in
                                                enumerate((r.baseline_kw, r.scenario_kw, r.reduction_kw))) + "</tr>")
    summary = table("tab-events-summary", "Events in the horizon (metrics.json)", ["", "value"], [
        f"<tr><th scope=\"row\">distinct event windows</th>{mcell(run, 'change.event_windows', 'count')}</tr>",
        f"<tr><th scope=\"row\">calls by the operator</th>{mcell(run, 'change.event_calls_by_operator', 'count')}</tr>",
        f"<tr><th scope=\"row\">mean reduction in event windows [kW]</th>"
        f"{mcell(run, 'change.event_mean_reduction_kw', 'kw')}</tr>"])
    body = summary + table("tab-events", f"Event log ({len(ev)} rows of events.csv: one per event and tariff)",
                           ["date", "hours", "programme", "tariff", "source", "forecast peak [kW]",
                            "baseline [kW]", "scenario [kW]", "reduction [kW]"], rows, num_from=5)
    body += ("<p class=\"muted\">Loads are the mean system load over the event's steps; several tariffs sharing the "
             "same hours show the same figures.</p>")
    return _section("events", body)


def section_assumptions(run: RunFolder) -> str:
    rows = []
    any_default = set()
    for seg in run.scenario["populations"]:
        cls = seg["customer_class"]
        default = sources.default_matches(cls, seg["behavior"])
        if default:
            any_default.add(cls)
        for model in _models(seg["behavior"]):
            what, src = sources.MODEL_SOURCES.get(model["model"], ("", "no source recorded"))
            if default:
                what_d, src_d = sources.DEFAULT_SOURCES.get(cls, ("", ""))
                src = f"Calibrated default (behavior: default, docs/calibration.md). {src_d} Model form: {src}"
            else:
                src = f"Parameters set in the scenario (their source is the scenario author's). Model form: {src}"
            params = ", ".join(f"{k} {param_text(v)}" for k, v in model.items() if k != "model" and v is not None)
            rows.append("<tr>" + "".join(_cell(x) for x in (seg["name"], model["model"], params or "(none)", what, src))
                        + "</tr>")
        if seg.get("interruptible"):
            rows.append("<tr>" + "".join(_cell(x) for x in (
                seg["name"], "interruptible", param_text(seg["interruptible"]),
                "Customers shed a share (compliance) of their load above the firm level in interruptible events "
                "(docs/behavior.md 3.7).", "The compliance rule is an assumption.")) + "</tr>")
    body = table("tab-assumptions", "Behaviour models, their parameters and sources",
                 ["segment", "model", "parameters", "what it does", "source"], rows, num_cols=set())
    if any_default:
        body += "<h3>Calibrated defaults</h3>"
        body += kv_table("tab-defaults", "What behavior: default stands for, and where it comes from",
                         [(cls, f"{sources.DEFAULT_SOURCES[cls][0]} Source: {sources.DEFAULT_SOURCES[cls][1]}")
                          for cls in ("residential", "commercial", "industrial") if cls in any_default])
        cal = sources.calibration_table() if "residential" in any_default else None
        if cal:
            head, crow = cal
            body += table("tab-calibration", "Residential default against the published arc (docs/calibration.md): "
                                             "peak impact [%] by peak/off-peak price ratio", head,
                          ["<tr>" + "".join(_cell(c, True) for c in r) + "</tr>" for r in crow])
    else:
        body += ("<p>No segment uses drsim's calibrated defaults (<code>behavior: default</code>): every behaviour "
                 "parameter above is an input of the scenario. docs/calibration.md gives the evidence behind the "
                 "defaults for comparison.</p>")
    body += "<h3>Modelling assumptions</h3><ul class=\"plain\">" + "".join(
        f"<li>{esc(a)}</li>" for a in sources.GENERAL_ASSUMPTIONS) + "</ul>"
    body += ("<p class=\"muted\">References and how much of each was read: docs/behavior.md section 10; "
             "equations: docs/behavior.md and docs/model.md; metric definitions: docs/metrics.md.</p>")
    return _section("assumptions", body)


def section_provenance(run: RunFolder) -> str:
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
    body = kv_table("tab-provenance", "What was run, with what", items)
    pk = m.get("packages") or {}
    body += table("tab-packages", "Package versions", ["package", "version"],
                  [f"<tr><th scope=\"row\">{esc(k)}</th><td class=\"num\">{esc(v)}</td></tr>" for k, v in pk.items()])
    inputs = m.get("inputs") or []
    if inputs:
        body += table("tab-inputs", "Input files and their content hashes", ["file", "SHA-256"],
                      [f"<tr><td>{esc(i['path'])}</td><td><code>{esc(i['sha256'])}</code></td></tr>" for i in inputs],
                      num_cols=set())
    cmd = m.get("command")
    body += "<h3>Command</h3>"
    if cmd:
        body += f"<p>Recorded command:</p><pre id=\"command\">{esc(shlex.join(cmd))}</pre>"
        body += (f"<p>To reproduce into a new run folder (same scenario file and CSV inputs, seed "
                 f"{esc(m.get('seed'))}):</p><pre id=\"reproduce\">{esc(reproduce_command(cmd, m.get('seed')))}</pre>")
    else:
        body += ("<p id=\"command\">No command was recorded (the run was started from Python). To reproduce, save "
                 f"the resolved scenario of manifest.json (key <code>scenario</code>) as YAML and run:</p>"
                 f"<pre id=\"reproduce\">drsim run SCENARIO.yaml --seed {esc(m.get('seed'))}</pre>")
    body += ("<p>The results are bit-identical with the same drsim commit and package versions; the scenario hash "
             "above identifies the inputs (the resolved scenario with every CSV file replaced by its content hash). "
             "manifest.json holds the resolved scenario with every default filled in.</p>")
    return _section("provenance", body)


# --------------------------------------------------------------------------- page


def drsim_version() -> str:
    """The installed drsim's version, as the report pages name their generator."""
    try:
        return metadata.version("drsim")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_report(run_dir: str | Path, *, generated: dt.datetime | None = None) -> str:
    """The report of a finished run folder as one HTML document (a string)."""
    run = RunFolder.open(run_dir)
    sc = run.scenario
    generated = generated or dt.datetime.now(dt.timezone.utc)
    builders = [section_summary, section_scenario, section_tariffs, section_population, section_load_curves,
                section_duration, section_monthly, section_metrics, section_revenue, section_bills, section_events,
                section_assumptions, section_provenance]
    body = "".join(b(run) for b in builders)
    toc = "".join(f'<li><a href="#{sid}">{esc(title)}</a></li>' for sid, title in SECTIONS)
    desc = f'<p class="lede">{esc(sc.get("description"))}</p>' if sc.get("description") else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<meta name=\"generator\" content=\"drsim {esc(drsim_version())}\">\n"
        f"<title>drsim report: {esc(sc['name'])} (seed {esc(sc.get('seed'))})</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header id=\"top\"><h1>Tariff scenario report: {esc(sc['name'])}</h1>{desc}"
        f"<p class=\"muted\">Run of {esc(run.manifest.get('started_utc'))} (seed {esc(sc.get('seed'))}, scenario hash "
        f"<code>{esc(str(run.manifest.get('scenario_hash', ''))[:12])}</code>); {run.days} days of "
        f"{run.step_minutes}-minute steps; money in {esc(run.currency)}. Report written "
        f"{generated:%Y-%m-%d %H:%M} UTC by drsim {esc(drsim_version())} from {esc(run.path.name)}/.</p></header>\n"
        f"<nav class=\"toc\" id=\"contents\" aria-label=\"Contents\"><strong>Contents</strong><ol>{toc}</ol></nav>\n"
        f"<main>\n{body}</main>\n</body>\n</html>\n")


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
