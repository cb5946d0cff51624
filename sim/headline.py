"""Per-segment headlines: the figures a regulator reads first, for each segment and for all
customers, each with its unit and currency.

Owns the ``headline`` block of ``metrics.json``. It is built once, at the end of
:func:`sim.metrics.compute`, from figures the registered metrics have already computed from
the run's arrays (the segments' ``baseline``, ``scenario`` and ``change`` entries and the
system's), so the terminal summary of ``drsim run``, ``drsim compare`` and the sweep tables
show the same numbers. Layout::

    "headline": {
      "currency": "CNY",
      "segments": {"<segment>": {<field>: value, ...}, ...},   (in the order of populations)
      "all":      {<field>: value, ...}                        (every customer of the run)
    }

Money fields carry the currency in their name (``bill_change_mean_cny``), so that a column of
a sweep table never mixes currencies. The "all customers" row is the sum of the segment
rows for the additive fields (the peak at the system peak, energy, revenue, margin, surplus:
the segments' loads add up to the system load in every step, and their bills to the
revenue); its bill-change mean is the customer-weighted mean of the segments' means, and
its median and shares are taken over all customers together (they do not add up).
docs/metrics.md ("headline") defines every field.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FIELDS", "Field", "headline", "headline_of", "field_key", "ALL_LABEL"]

#: How the "all customers" row is labelled wherever it is shown.
ALL_LABEL = "all customers"


@dataclass(frozen=True)
class Field:
    """One headline figure: its key in the block (``{cur}`` stands for the lower-case currency
    code), what a reader sees, and its kind (a kind of :mod:`sim.report.fmt`, which gives the
    unit and rounding)."""

    key: str
    label: str
    kind: str
    change: bool = False  #: a change (scenario - baseline or baseline - scenario)


#: The headline figures, in the order every table shows them.
FIELDS = (
    Field("customers", "Customers", "customers"),
    Field("peak_baseline_kw", "Load at the system peak, baseline", "kw"),
    Field("peak_scenario_kw", "Load at the system peak, scenario", "kw"),
    Field("peak_reduction_kw", "Peak reduction (load at the system peak, baseline - scenario)", "kw", True),
    Field("energy_baseline_kwh", "Energy, baseline", "kwh"),
    Field("energy_scenario_kwh", "Energy, scenario", "kwh"),
    Field("energy_change_kwh", "Energy change", "kwh", True),
    Field("bill_change_mean_{cur}", "Bill change, mean", "bill", True),
    Field("bill_change_median_{cur}", "Bill change, median", "bill", True),
    Field("bill_change_pct_mean", "Bill change, mean relative", "pct", True),
    Field("share_pay_more", "Customers who pay more", "share"),
    Field("share_pay_less", "Customers who pay less", "share"),
    Field("consumer_surplus_change_{cur}", "Consumer surplus change", "money", True),
    Field("revenue_baseline_{cur}", "Revenue, baseline", "money"),
    Field("revenue_scenario_{cur}", "Revenue, scenario", "money"),
    Field("revenue_change_{cur}", "Revenue change", "money", True),
    Field("margin_baseline_{cur}", "Margin, baseline", "money"),
    Field("margin_scenario_{cur}", "Margin, scenario", "money"),
    Field("margin_change_{cur}", "Margin change", "money", True),
)

#: Fields of the "all customers" row that are the sum of the segment rows.
ADDITIVE = ("customers", "peak_baseline_kw", "peak_scenario_kw", "peak_reduction_kw", "energy_baseline_kwh",
            "energy_scenario_kwh", "energy_change_kwh", "consumer_surplus_change_{cur}", "revenue_baseline_{cur}",
            "revenue_scenario_{cur}", "revenue_change_{cur}", "margin_baseline_{cur}", "margin_scenario_{cur}",
            "margin_change_{cur}")


def field_key(key: str, currency: str) -> str:
    """A field's key for a currency: ``bill_change_mean_{cur}`` -> ``bill_change_mean_cny``."""
    return key.replace("{cur}", currency.lower())


def _segment_row(seg: dict, cur: str) -> dict:
    b, s, c = seg["baseline"], seg["scenario"], seg["change"]
    row = {
        "customers": int(seg["customers"]),
        "peak_baseline_kw": b["coincident_peak_kw"],
        "peak_scenario_kw": s["coincident_peak_kw"],
        "peak_reduction_kw": b["coincident_peak_kw"] - s["coincident_peak_kw"],
        "energy_baseline_kwh": b["energy_kwh"],
        "energy_scenario_kwh": s["energy_kwh"],
        "energy_change_kwh": c["energy_kwh_change"],
        "bill_change_mean_{cur}": c["bill_change_mean"],
        "bill_change_median_{cur}": c["bill_change_p50"],
        "bill_change_pct_mean": c["bill_change_pct_mean"],
        "share_pay_more": c["share_pay_more"],
        "share_pay_less": c["share_pay_less"],
        "consumer_surplus_change_{cur}": c["consumer_surplus_change"],
        "revenue_baseline_{cur}": b["revenue"],
        "revenue_scenario_{cur}": s["revenue"],
        "revenue_change_{cur}": c["revenue_change"],
        "margin_baseline_{cur}": b["margin"],
        "margin_scenario_{cur}": s["margin"],
        "margin_change_{cur}": c["margin_change"],
    }
    return {field_key(k, cur): v for k, v in row.items()}


def _all_row(rows: list[dict], change: dict, cur: str) -> dict:
    """The "all customers" row: sums of the segment rows, the customer-weighted mean bill
    change, and the median, relative mean and shares over all customers (``change``: the
    system's ``change`` block)."""
    out = {}
    for f in FIELDS:
        key = field_key(f.key, cur)
        if f.key in ADDITIVE:
            out[key] = sum(r[key] for r in rows)
    n = out["customers"]
    mean = field_key("bill_change_mean_{cur}", cur)
    out[mean] = sum(r[mean] * r["customers"] for r in rows) / n if n else 0.0
    out[field_key("bill_change_median_{cur}", cur)] = change["bill_change_p50"]
    for key in ("bill_change_pct_mean", "share_pay_more", "share_pay_less"):
        out[key] = change[key]
    return {field_key(f.key, cur): out[field_key(f.key, cur)] for f in FIELDS}


def headline(metrics: dict, currency: str) -> dict:
    """The ``headline`` block of a run's metrics (``metrics``: the other blocks, as
    :func:`sim.metrics.compute` builds them)."""
    rows = {name: _segment_row(seg, currency) for name, seg in metrics["segments"].items()}
    return {"currency": currency, "segments": rows,
            "all": _all_row(list(rows.values()), metrics["change"], currency)}


def headline_of(metrics: dict, currency: str) -> dict:
    """A run's headline block: the one in its metrics, or, for a run folder written before
    metrics.json had one, built from its other blocks the same way."""
    block = metrics.get("headline")
    if isinstance(block, dict) and block.get("currency") == currency:
        return block
    return headline(metrics, currency)
