"""The run report's first screen and its equity tables: who wins, who loses, and what happens
to the peak, revenue and welfare, segment by segment.

The first section answers a regulator's first questions on one screen (docs/report.md):
one table of bill impacts with a row per segment (households and factories are never added
into one bill headline), and one of the peak, revenue, margin, consumer surplus and welfare
with a row per segment and a row for the system. The bill-impacts section adds the full
equity figures of ``metrics.json`` (``segments.<name>.change.equity``, :mod:`sim.equity`).
Every figure sits in a ``data-metric`` cell (:func:`sim.report.templating.mcell`).
"""

from __future__ import annotations

from ..words import counted
from .run import RunFolder
from .templating import BLANK, Cell, Row, Table, cell, mcell

__all__ = ["equity_tables", "summary_intro", "summary_tables"]


def _eq(name: str) -> str:
    return f"segments.{name}.change.equity"


def _label(run: RunFolder, name: str) -> str:
    seg = next(s for s in run.scenario["populations"] if s["name"] == name)
    return f"{name} ({seg['customer_class']})"


def _head(run: RunFolder, name: str) -> Cell:
    """A segment's row heading, kept on one line."""
    return Cell(_label(run, name), tag="th", scope="row", cls="nowrap")


def _has_equity(run: RunFolder) -> bool:
    return all("equity" in run.metrics.get("segments", {}).get(n, {}).get("change", {}) for n in run.segment_names)


def summary_intro(run: RunFolder) -> str:
    return (f"Scenario against baseline over the {run.days}-day horizon, money in {run.currency}. A positive bill "
            "change means the customer pays more. Each segment has its own row: customers of different segments "
            "are never added into one bill figure. Structural: the scenario tariff applied to the unchanged "
            "baseline load; behavioural: what the customers' response adds.")


def _bills_table(run: RunFolder) -> Table:
    """Who wins and who loses, a row per segment."""
    cur = run.currency
    cols = [("customers", "customers", False), ("share_pay_more", "share", False),
            ("share_pay_more_than_5pct", "share", False), ("share_pay_more_than_10pct", "share", False),
            ("share_pay_less", "share", False), ("bill_change_median", "bill", True),
            ("bill_change_pct_median", "pct", True), ("bill_change_p10", "bill", True),
            ("bill_change_p90", "bill", True), ("structural_losers_share", "share", False),
            ("structural_change_mean", "bill", True), ("behavioural_change_mean", "bill", True)]
    rows = []
    for n in run.segment_names:
        rows.append(Row([_head(run, n), *[mcell(run, f"{_eq(n)}.{k}", kind, signed=s) for k, kind, s in cols]]))
        groups = run.metric(_eq(n)).get("groups") or {}
        attribute = run.metric(_eq(n)).get("group_attribute", "group")
        for g in groups:  # the segment's groups, each on its own row (the figures groups carry)
            base = f"{_eq(n)}.groups.{g}"
            rows.append(Row([Cell(f"\u2003{attribute} {g}", tag="th", scope="row", cls="nowrap"),
                             *[mcell(run, f"{base}.{k}", kind, signed=s) if k in groups[g] else BLANK
                               for k, kind, s in cols]], cls="group"))
    header = ["segment", "customers", "pay more [%]", "pay > 5 % more [%]", "pay > 10 % more [%]", "pay less [%]",
              f"median change [{cur}/cust.]", "median change [%]", f"10th pct. [{cur}/cust.]",
              f"90th pct. [{cur}/cust.]", "structural losers [%]", f"structural, mean [{cur}/cust.]",
              f"behavioural, mean [{cur}/cust.]"]
    return Table("tab-summary", f"Who wins, who loses: bill change per customer, scenario minus baseline, over "
                                f"{counted(run.days, 'day')}, by segment (and by group where the scenario names groups)",
                 header, rows)


def _system_table(run: RunFolder) -> Table:
    """The peak, revenue and welfare, a row per segment and the system."""
    money = ("revenue_change", "margin_change", "consumer_surplus_change", "welfare_change")
    rows = []
    for n in run.segment_names:
        base = f"segments.{n}"
        rows.append(Row([_head(run, n), mcell(run, f"{base}.baseline.coincident_peak_kw", "kw"),
                         mcell(run, f"{base}.change.coincident_peak_kw_change", "kw", signed=True), BLANK,
                         *[mcell(run, f"{base}.change.{k}", "money", signed=True) for k in money]]))
    rows.append(Row([Cell("system", tag="th", scope="row"), mcell(run, "baseline.peak_kw", "kw"),
                     mcell(run, "change.peak_kw_change", "kw", signed=True),
                     mcell(run, "change.peak_kw_change_pct", "pct", signed=True),
                     *[mcell(run, f"change.{k}", "money", signed=True) for k in money]], cls="total"))
    cur = run.currency
    header = ["segment", "load at the system peak, baseline [kW]", "change [kW]", "change [%]",
              f"revenue change [{cur}]", f"margin change [{cur}]", f"consumer surplus change [{cur}]",
              f"welfare change [{cur}]"]
    return Table("tab-summary-system", "The peak, revenue and welfare: each segment's load at the system's peak "
                                       "hour and its part of the money, and the system", header, rows)


def summary_tables(run: RunFolder) -> list[Table]:
    """The first screen's tables (the bill table needs a run with equity figures)."""
    return ([_bills_table(run)] if _has_equity(run) else []) + [_system_table(run)]


def _gini_cell(run: RunFolder, path: str) -> Cell:
    """A Gini coefficient, or ``n/a`` (without a metric) where it is not defined."""
    try:
        value = run.metric(path)
    except (KeyError, TypeError):
        value = None
    return cell("n/a", num=True) if value is None else mcell(run, path, "ratio")


def equity_tables(run: RunFolder) -> list[Table]:
    """The bill-impacts section's equity tables: deciles of the bill change (money and %),
    the shares paying more, the structural and behavioural parts, and concentration."""
    if not _has_equity(run):
        return []
    cur = run.currency
    deciles = (10, 20, 30, 40, 50, 60, 70, 80, 90)
    money = [Row([_head(run, n), *[mcell(run, f"{_eq(n)}.bill_change_p{p}", "bill", signed=True) for p in deciles]])
             for n in run.segment_names]
    pct = [Row([_head(run, n), *[mcell(run, f"{_eq(n)}.bill_change_pct_p{p}", "pct", signed=True) for p in deciles]])
           for n in run.segment_names]
    shares = [("share_pay_more_than_1pct", "share"), ("share_pay_more_than_5pct", "share"),
              ("share_pay_more_than_10pct", "share")]
    shares_rows = [Row([_head(run, n), *[mcell(run, f"{_eq(n)}.{k}", kind) for k, kind in shares],
                        *[_gini_cell(run, f"{_eq(n)}.{k}") for k in ("bill_gini_baseline", "bill_gini_scenario",
                                                                    "gains_gini", "losses_gini")]])
                   for n in run.segment_names]
    parts = [("structural_winners_share", "share"), ("structural_losers_share", "share"),
             ("structural_change_mean", "bill"), ("structural_change_median", "bill"),
             ("structural_change_total", "money"), ("behavioural_savers_share", "share"),
             ("behavioural_change_mean", "bill"), ("behavioural_change_median", "bill"),
             ("behavioural_change_total", "money")]
    parts_rows = [Row([_head(run, n), *[mcell(run, f"{_eq(n)}.{k}", kind, signed=kind != "share")
                                        for k, kind in parts]]) for n in run.segment_names]
    return [
        Table("tab-equity-deciles", f"Deciles of the bill change per customer [{cur}/customer over {counted(run.days, 'day')}]",
              ["segment", *[f"{p}th" if p != 50 else "median" for p in deciles]], money),
        Table("tab-equity-deciles-pct", "Deciles of the relative bill change [% of the customer's baseline bill]",
              ["segment", *[f"{p}th" if p != 50 else "median" for p in deciles]], pct),
        Table("tab-equity-shares", "Customers paying more than 1, 5 and 10 % more, and the concentration of bills, "
                                   "gains and losses (Gini coefficient: 0 even, towards 1 concentrated)",
              ["segment", "pay > 1 % more [%]", "pay > 5 % more [%]", "pay > 10 % more [%]", "Gini of bills, baseline",
               "Gini of bills, scenario", "Gini of gains", "Gini of losses"], shares_rows),
        Table("tab-equity-parts", "Structural part (the scenario tariff on the unchanged baseline load) and "
                                  "behavioural part (what the response adds) of the bill change",
              ["segment", "structural winners [%]", "structural losers [%]", f"structural, mean [{cur}/cust.]",
               f"structural, median [{cur}/cust.]", f"structural, total [{cur}]", "response lowers the bill [%]",
               f"behavioural, mean [{cur}/cust.]", f"behavioural, median [{cur}/cust.]",
               f"behavioural, total [{cur}]"], parts_rows),
    ]
