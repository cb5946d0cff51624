"""How every figure of a run is labelled, rounded and given its unit, in reports and comparisons.

One table of metric kinds fixes the rounding rules for the whole report: system loads in
kW and energy in kWh to 0 decimals, ratios to 3 decimals, shares (fractions 0-1) as percent
to 1 decimal and their changes in percentage points, money totals to 0 decimals and
per-customer bills to 2 decimals, both with thousands separators and the currency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Charges in the order of ``sim.tariffs.CHARGES``, with the names a reader sees.
CHARGE_LABELS = {
    "energy": "energy",
    "critical_peak": "critical peak",
    "peak_time_rebate": "peak-time rebate",
    "demand_flat": "demand (maximum)",
    "demand_tou": "demand (TOU periods)",
    "capacity": "capacity (per kVA)",
    "fixed": "fixed",
    "volume_rebate": "volume rebate",
    "load_factor": "load-factor adjustment",
    "interruptible_credit": "interruptible credit",
    "interruptible_penalty": "interruptible penalty",
    "storage_energy": "storage meter energy",
    "minimum": "minimum-bill top-up",
    "tax": "tax",
}


@dataclass(frozen=True)
class Kind:
    """A kind of figure: its unit, decimals, and whether it is a fraction shown as percent.

    ``unit`` may contain ``{cur}``, replaced by the run's currency.
    """

    unit: str
    decimals: int
    percent_of_fraction: bool = False  #: a 0-1 fraction shown x 100 as %, its changes in pp
    integer: bool = False


KINDS = {
    "kw": Kind("kW", 0),
    "kw_step": Kind("kW/step", 0),
    "kwh": Kind("kWh", 0),
    "ratio": Kind("–", 3),
    "share": Kind("%", 1, percent_of_fraction=True),
    "pct": Kind("%", 2),
    "money": Kind("{cur}", 0),
    "bill": Kind("{cur}/customer", 2),
    "price": Kind("{cur}/kWh", 4),
    "count": Kind("–", 0, integer=True),
    "customers": Kind("customers", 0, integer=True),
    "days": Kind("days", 0, integer=True),
    "passes": Kind("passes/day", 2),
    "bool": Kind("yes/no", 0),
    "generic": Kind("–", 3),
    "generic_pct": Kind("%", 1),
}

#: System figures (``metrics.json`` ``baseline`` and ``scenario``) in report order: key, label, kind.
SYSTEM_ROWS = [
    ("peak_kw", "System peak", "kw"),
    ("valley_kw", "System valley (lowest load)", "kw"),
    ("mean_kw", "Mean load", "kw"),
    ("energy_kwh", "Energy", "kwh"),
    ("load_factor", "Load factor (mean / peak)", "ratio"),
    ("peak_to_average", "Peak-to-average ratio", "ratio"),
    ("peak_valley_kw", "Peak-valley difference", "kw"),
    ("peak_valley_rate", "Peak-valley difference rate", "share"),
    ("daily_peak_kw", "Mean daily peak", "kw"),
    ("daily_peak_valley_rate", "Mean daily peak-valley rate", "share"),
    ("daily_load_factor", "Mean daily load factor", "ratio"),
    ("max_ramp_up_kw_per_step", "Largest ramp up", "kw_step"),
    ("max_ramp_down_kw_per_step", "Largest ramp down", "kw_step"),
    ("revenue", "Revenue (all bills)", "money"),
    *[(f"revenue_{c}", f"Revenue: {label}", "money") for c, label in CHARGE_LABELS.items()],
    ("energy_cost", "Energy cost of supply", "money"),
    ("capacity_cost", "Capacity cost of supply", "money"),
    ("cost", "Cost of supply", "money"),
    ("margin", "Margin (revenue - cost)", "money"),
    ("average_price_per_kwh", "Average price", "price"),
    ("consumer_utility", "Customers' utility of consumption (against their load before response)", "money"),
    ("customers", "Customers", "customers"),
]

#: Figures of ``metrics.json`` ``change`` that are not plain differences: key, label, kind.
CHANGE_ROWS = [
    ("peak_reduction_kw", "Peak reduction (baseline - scenario peak)", "kw"),
    ("peak_reduction_pct", "Peak reduction, relative", "pct"),
    ("energy_cut_kwh", "Energy cut (where scenario < baseline)", "kwh"),
    ("energy_added_kwh", "Energy added (where scenario > baseline)", "kwh"),
    ("energy_shifted_kwh", "Energy shifted", "kwh"),
    ("energy_foregone_kwh", "Energy foregone", "kwh"),
    ("shifted_share", "Share of the cut energy that was shifted", "share"),
    ("rebound_max_kw", "Largest rebound in a step", "kw"),
    ("rebound_days", "Days with a rebound peak", "days"),
    ("rebound_peak_in_offpeak", "Scenario peak in a former off-peak step", "bool"),
    ("consumer_surplus_change", "Consumer surplus change (utility change - bill change)", "money"),
    ("welfare_change", "Welfare change (utility change - cost change = surplus + margin)", "money"),
    ("event_windows", "Event windows", "count"),
    ("event_calls_by_operator", "Event calls by the operator", "count"),
    ("event_mean_reduction_kw", "Mean reduction in event windows", "kw"),
    ("rtp_iterations_mean", "Real-time price passes per day (mean)", "passes"),
    ("rtp_iterations_max", "Real-time price passes per day (max)", "count"),
    ("rtp_days_not_converged", "Days the real-time price did not converge", "days"),
]

#: The bill-change distribution (system ``change`` and each segment's ``change``).
BILL_ROWS = [
    ("share_pay_more", "Pay more", "share"),
    ("share_pay_less", "Pay less", "share"),
    ("bill_change_mean", "Mean change", "bill"),
    ("bill_change_pct_mean", "Mean change, relative", "pct"),
    ("bill_change_p5", "5th percentile", "bill"),
    ("bill_change_p25", "25th percentile", "bill"),
    ("bill_change_p50", "Median", "bill"),
    ("bill_change_p75", "75th percentile", "bill"),
    ("bill_change_p95", "95th percentile", "bill"),
    ("bill_change_pct_p5", "5th percentile, relative", "pct"),
    ("bill_change_pct_p25", "25th percentile, relative", "pct"),
    ("bill_change_pct_p50", "Median, relative", "pct"),
    ("bill_change_pct_p75", "75th percentile, relative", "pct"),
    ("bill_change_pct_p95", "95th percentile, relative", "pct"),
]

#: Segment figures (``segments.<name>.baseline`` and ``.scenario``).
SEGMENT_ROWS = [
    ("energy_kwh", "Energy", "kwh"),
    ("peak_kw", "Own peak", "kw"),
    ("coincident_peak_kw", "Load at the system peak", "kw"),
    ("revenue", "Revenue", "money"),
    *[(f"revenue_{c}", f"Revenue: {label}", "money") for c, label in CHARGE_LABELS.items()],
    ("energy_cost", "Energy cost", "money"),
    ("capacity_cost", "Capacity cost (coincident peak)", "money"),
    ("cost", "Cost of supply", "money"),
    ("margin", "Margin", "money"),
    ("average_price_per_kwh", "Average price", "price"),
    ("bill_mean", "Mean bill", "bill"),
    ("consumer_utility", "Utility of consumption", "money"),
]

KIND_OF = {k: kind for rows in (SYSTEM_ROWS, CHANGE_ROWS, BILL_ROWS, SEGMENT_ROWS) for k, _, kind in rows}


def unit(kind: str, currency: str, change: bool = False) -> str:
    """The unit a figure of this kind is shown in (percentage points for changes of shares)."""
    k = KINDS[kind]
    if change and k.percent_of_fraction:
        return "pp"
    return k.unit.format(cur=currency)


def number(value, kind: str, *, signed: bool = False) -> str:
    """A figure rounded for reading: thousands separators, the kind's decimals, ``-`` for
    negatives (``+`` for positives when ``signed``), no unit. Fractions of kind ``share`` are
    shown x 100. Booleans read ``yes``/``no``; a missing value reads ``n/a``."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or kind == "bool":
        return "yes" if value else "no"
    k = KINDS[kind]
    v = float(value)
    if not math.isfinite(v):
        return "n/a"
    if k.percent_of_fraction:
        v *= 100.0
    text = f"{v:,.{k.decimals}f}"
    if float(text.replace(",", "")) == 0.0:  # no "-0"
        text = text.lstrip("-")
        return text
    if signed and v > 0:
        text = "+" + text
    return text


def with_unit(value, kind: str, currency: str, *, signed: bool = False, change: bool = False) -> str:
    """``number`` followed by its unit, e.g. ``12,345 kW``, ``-1.4 pp``, ``3.21 CNY/customer``."""
    u = unit(kind, currency, change=change)
    n = number(value, kind, signed=signed)
    if u in ("–", "yes/no") or n == "n/a":
        return n
    return f"{n} %" if u == "%" else f"{n} {u}"


def relative(a, b) -> float | None:
    """``(b - a) / |a| x 100``, or None where ``a`` is 0 (no meaningful relative change)."""
    if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
        return None
    a, b = float(a), float(b)
    if a == 0 or not (math.isfinite(a) and math.isfinite(b)):
        return None
    return (b - a) / abs(a) * 100.0


def relative_meaningful(kind: str) -> bool:
    """Whether a relative (%) difference of two figures of this kind makes sense: yes for
    amounts (kW, kWh, money, counts), no for ratios, shares and figures already in percent."""
    return kind in ("kw", "kw_step", "kwh", "money", "bill", "price", "customers", "count", "days")
