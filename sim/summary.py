"""The terminal summary of ``drsim run``: the system's figures, then the headlines per segment
and for all customers (:mod:`sim.headline`), each with its unit and currency.

Reads a run's metrics only. Changes of shares (the peak-valley rates, the shares of
customers) are in percentage points, labelled ``pp``; rounding and units are those of the
reports (:mod:`sim.report.fmt`).
"""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from .headline import ALL_LABEL, FIELDS, field_key, headline_of
from .report import fmt
from .words import counted

#: The system table: metrics.json key, label, kind (sim.report.fmt).
SYSTEM = (
    ("peak_kw", "system peak", "kw"),
    ("valley_kw", "system valley", "kw"),
    ("energy_kwh", "energy", "kwh"),
    ("load_factor", "load factor", "ratio"),
    ("peak_to_average", "peak-to-average", "ratio"),
    ("peak_valley_rate", "peak-valley rate", "share"),
    ("daily_peak_valley_rate", "daily peak-valley rate", "share"),
    ("max_ramp_up_kw_per_step", "max ramp up", "kw_step"),
    ("revenue", "revenue", "money"),
    ("cost", "cost of supply", "money"),
    ("margin", "margin", "money"),
)

#: The per-segment tables: title and the headline fields (keys of sim.headline.FIELDS) they show.
SEGMENT_TABLES = (
    ("by segment: load at the system peak, and energy",
     ("customers", "peak_baseline_kw", "peak_reduction_kw", "energy_baseline_kwh", "energy_change_kwh")),
    ("by segment: bill change per customer (scenario - baseline)",
     ("bill_change_mean_{cur}", "bill_change_median_{cur}", "bill_change_pct_mean", "share_pay_more",
      "share_pay_less")),
    ("by segment: consumer surplus, revenue and margin",
     ("consumer_surplus_change_{cur}", "revenue_scenario_{cur}", "revenue_change_{cur}", "margin_scenario_{cur}",
      "margin_change_{cur}")),
)

#: Short column headings of the headline fields in the terminal.
HEADINGS = {
    "customers": "customers",
    "peak_baseline_kw": "at the system peak, baseline",
    "peak_reduction_kw": "peak reduction",
    "energy_baseline_kwh": "energy, baseline",
    "energy_change_kwh": "energy change",
    "bill_change_mean_{cur}": "mean",
    "bill_change_median_{cur}": "median",
    "bill_change_pct_mean": "mean, relative",
    "share_pay_more": "pay more",
    "share_pay_less": "pay less",
    "consumer_surplus_change_{cur}": "surplus change",
    "revenue_scenario_{cur}": "revenue, scenario",
    "revenue_change_{cur}": "revenue change",
    "margin_scenario_{cur}": "margin, scenario",
    "margin_change_{cur}": "margin change",
}


def change_text(value, kind: str, currency: str) -> str:
    """A change as the terminal shows it: signed, a change of a share in ``pp``."""
    text = fmt.number(value, kind, signed=True)
    return f"{text} pp" if fmt.unit(kind, currency, change=True) == "pp" and text != "n/a" else text


def system_table(metrics: dict, currency: str) -> Table:
    """The system's figures under both tariff sets and their change."""
    b, s = metrics["baseline"], metrics["scenario"]
    t = Table(title="drsim summary: the system", title_justify="left")
    for col, justify in (("metric", "left"), ("unit", "left"), ("baseline", "right"), ("scenario", "right"),
                         ("change", "right")):
        t.add_column(col, justify=justify, no_wrap=justify == "right", min_width=13 if justify == "right" else None)
    for key, label, kind in SYSTEM:
        u, cu = fmt.unit(kind, currency), fmt.unit(kind, currency, change=True)
        unit = u if u == cu else f"{u} (change: {cu})"
        t.add_row(escape(label), escape(unit), fmt.number(b[key], kind), fmt.number(s[key], kind),
                  change_text(s[key] - b[key], kind, currency))
    return t


def segment_tables(metrics: dict, currency: str) -> list[Table]:
    """The headline tables: one row per segment, then the "all customers" row."""
    block = headline_of(metrics, currency)
    rows = [*block["segments"].items(), (ALL_LABEL, block["all"])]
    fields = {f.key: f for f in FIELDS}
    tables = []
    for title, keys in SEGMENT_TABLES:
        body = [[escape(name), *[change_text(row[field_key(k, currency)], fields[k].kind, currency) if fields[k].change
                                 else fmt.number(row[field_key(k, currency)], fields[k].kind) for k in keys]]
                for name, row in rows]
        t = Table(title=title, title_justify="left")
        heads = ["segment", *[HEADINGS[k] if fields[k].kind == "customers" else
                              f"{HEADINGS[k]} [{fmt.unit(fields[k].kind, currency, change=fields[k].change)}]"
                              for k in keys]]
        for j, head in enumerate(heads):  # cells never wrap nor shorten: the headings wrap instead
            t.add_column(escape(head), justify="left" if j == 0 else "right",
                         min_width=max(len(r[j]) for r in body))
        for i, cells in enumerate(body):
            t.add_row(*cells, style="bold" if i == len(body) - 1 else None, end_section=i == len(body) - 2)
        tables.append(t)
    return tables


def print_summary(metrics: dict, currency: str, console) -> None:
    """The summary a rate analyst reads first: the system, then each segment and all customers."""
    console.print(system_table(metrics, currency))
    for t in segment_tables(metrics, currency):
        console.print(t)
    c = metrics["change"]
    console.print(f"system peak reduction: {fmt.number(c['peak_reduction_kw'], 'kw', signed=True)} kW "
                  f"({fmt.number(c['peak_reduction_pct'], 'pct', signed=True)} % of the baseline peak); money in "
                  f"{currency} over the horizon, tax included; shares of customers in %, their changes in pp",
                  highlight=False)
    if metrics.get("network"):
        console.print(network_line(metrics["network"]), highlight=False)
    if "pv_generation_kwh" in metrics["baseline"]:
        console.print(pv_line(metrics), highlight=False)


def pv_line(metrics: dict) -> str:
    """One line on rooftop PV (docs/metrics.md, "Rooftop PV and prosumers"), baseline -> scenario."""
    b, s = metrics["baseline"], metrics["scenario"]
    kw, kwh = (lambda v: fmt.number(v, "kw")), (lambda v: fmt.number(v, "kwh"))
    return (f"rooftop PV ({counted(b['pv_customers'], 'system')}, {fmt.number(b['pv_kwp'], 'kw')} kWp): generated "
            f"{kwh(b['pv_generation_kwh'])} kWh, exported {kwh(b['pv_exported_kwh'])} -> {kwh(s['pv_exported_kwh'])} "
            f"kWh (self-consumption {fmt.number(b['pv_self_consumption_share'] * 100, 'pct')} -> "
            f"{fmt.number(s['pv_self_consumption_share'] * 100, 'pct')} %); net load minimum {kw(b['net_min_kw'])} -> "
            f"{kw(s['net_min_kw'])} kW, largest 3-h rise {kw(b['net_ramp_3h_kw'])} -> {kw(s['net_ramp_3h_kw'])} kW "
            f"(gross load: {kw(b['gross_ramp_3h_kw'])} kW)")


def network_line(n: dict) -> str:
    """One line on the network (docs/network.md): transformers over rating, the largest
    loading and step rise, and power-flow steps in violation, baseline -> scenario."""
    b, s = n["baseline"], n["scenario"]
    bt, st = b["transformers"], s["transformers"]
    text = (f"network ({n['segment']}, {counted(n['transformers'], 'transformer')} of {n['transformer_kva']:g} kVA): "
            f"over rating "
            f"{bt['over_rating']} -> {st['over_rating']}; largest loading {fmt.number(bt['peak_loading_percent_max'], 'pct')}"
            f" -> {fmt.number(st['peak_loading_percent_max'], 'pct')} %; largest step rise "
            f"{fmt.number(bt['max_rise_kw'], 'kw')} -> {fmt.number(st['max_rise_kw'], 'kw')} kW")
    if "power_flow" in b:
        text += (f"; power-flow steps in violation {b['power_flow']['steps_in_violation']} -> "
                 f"{s['power_flow']['steps_in_violation']} of {s['power_flow']['steps_run']}")
    lim = n.get("limit")
    if lim is not None:
        kind = "transformers" if "transformers" in lim["scenario"] else "feeders"
        lb, ls = lim["baseline"][kind], lim["scenario"][kind]
        text += (f"; grid limit ({kind}): event hours {fmt.number(lb['event_hours'], 'count')} -> "
                 f"{fmt.number(ls['event_hours'], 'count')} h, unit-hours over the limit without events "
                 f"{fmt.number(lb['hours_over_limit_without_events'], 'count')} -> "
                 f"{fmt.number(ls['hours_over_limit_without_events'], 'count')} h, with them "
                 f"{fmt.number(lb['hours_over_limit'], 'count')} -> {fmt.number(ls['hours_over_limit'], 'count')} h")
    return text
