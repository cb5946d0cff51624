"""The run report's market section: each segment's sales, revenue, cost and margin per kWh,
their growth from market year to market year, the portfolio chart (growth against margin
per kWh, bubble area by sales) and the segments that pass the scenario's screen.

Reads ``metrics.json["market"]`` (:func:`sim.market.market_view`) of a run folder; a run
without a market view gets a line saying how to ask for one.
"""

from __future__ import annotations

import numpy as np

from ..words import counted
from . import charts, fmt
from .run import RunFolder
from .templating import Cell, Figure, Row, Table, cell, head

#: Colours of the portfolio chart: segments that pass the screen, and the others.
PASS, OTHER = "#009E73", charts.GREY


def _mcell(run: RunFolder, path: str, kind: str, *, signed: bool = False, change: bool = False) -> Cell:
    """A cell holding one figure of ``metrics.json`` (dotted ``path``), rounded by ``kind``."""
    try:
        value = run.metric(path)
    except (KeyError, TypeError):
        return Cell("n/a", cls="num")
    if value is None:
        return Cell("n/a", cls="num")
    return Cell(fmt.number(value, kind, signed=signed), cls="num", metric=path,
                unit=fmt.unit(kind, run.currency, change=change))


def _tx(text: str) -> str:
    """A segment name for a chart, with ``$`` escaped so that matplotlib never reads it as math."""
    return str(text).replace("$", r"\$")


def market_context(run: RunFolder) -> dict:
    """The market section's context: ``blocks`` (tables, the chart) and ``screen`` (a sentence
    naming the segments that pass, or None), or empty blocks without a market view."""
    market = run.metrics.get("market")
    if not isinstance(market, dict):
        return {"blocks": [], "screen": None}
    blocks = [_summary_table(run, market), _years_table(run, market)]
    svg = portfolio_chart("fig-portfolio", market, run.currency)
    years = market["years"]
    blocks.append(Figure("fig-portfolio", svg, (
        f"Each segment's compound annual growth of sales per day from market year 1 to {len(years)} (x) against "
        f"its margin per kWh over the horizon (y), under the scenario tariff; the bubble's area is the segment's "
        f"annual sales (kWh/year). Dashed lines: the screen's thresholds; green: segments that pass.")))
    return {"blocks": blocks, "screen": screen_text(market, run.currency)}


def _summary_table(run: RunFolder, market: dict) -> Table:
    cur = run.currency
    screened = "screen" in market
    rows = []
    for name in [*market["segments"], "system"]:
        base = f"market.segments.{name}" if name != "system" else "market.system"
        s = f"{base}.scenario"
        cells = [head(name), _mcell(run, f"{s}.annual_sales_kwh", "kwh"),
                 _mcell(run, f"{base}.change.sales_change_pct", "pct", signed=True),
                 _mcell(run, f"{s}.sales_growth", "share", signed=True),
                 _mcell(run, f"{s}.revenue_per_kwh", "price"), _mcell(run, f"{s}.cost_per_kwh", "price"),
                 _mcell(run, f"{s}.margin_per_kwh", "price"),
                 _mcell(run, f"{base}.change.margin_per_kwh_change", "price", signed=True),
                 _mcell(run, f"{s}.margin", "money")]
        if screened:
            cells.append(_mcell(run, f"{base}.screen.passes", "bool") if name != "system" else cell(""))
        rows.append(Row(cells, cls="total" if name == "system" else None))
    header = ["segment", "annual sales [kWh/year]", "sales change [%]", "sales growth [%/year]",
              f"revenue [{cur}/kWh]", f"cost of supply [{cur}/kWh]", f"margin [{cur}/kWh]",
              f"margin change [{cur}/kWh]", f"margin [{cur}]"] + (["passes the screen"] if screened else [])
    return Table("tab-market", f"Market segments under the scenario tariff over {counted(run.days, 'day')}: sales, their "
                               "change against the baseline tariff and their growth; revenue, cost of supply and "
                               f"margin per kWh sold [{cur}]", header, rows, num_from=1)


def _years_table(run: RunFolder, market: dict) -> Table:
    """Sales, their year-on-year growth and the margin per kWh of each segment in each market year
    (scenario tariff, with customer growth)."""
    rows = []
    for name, entry in [*market["segments"].items(), ("system", market["system"])]:
        y = entry["scenario"]["by_year"]
        for k, year in enumerate(market["years"]):
            rows.append(Row([head(name if k == 0 else ""), cell(f"{year['year']} (from {year['start']}, "
                                                                 f"{counted(year['days'], 'day')})", nowrap=True),
                             cell(fmt.number(y["customers"][k], "customers"), True), cell(fmt.number(y["sales_kwh"][k], "kwh"), True),
                             cell(fmt.number(y["sales_growth"][k], "share", signed=True), True),
                             cell(fmt.number(y["revenue"][k], "money"), True), cell(fmt.number(y["cost"][k], "money"), True),
                             cell(fmt.number(y["margin_per_kwh"][k], "price"), True)],
                            cls="total" if name == "system" else None))
    cur = run.currency
    return Table("tab-market-years", "Each market year under the scenario tariff: customers (with their growth), "
                                     "sales, year-on-year growth of sales per day, revenue, cost of supply and "
                                     "margin per kWh",
                 ["segment", "market year", "customers", "sales [kWh]", "growth [%]", f"revenue [{cur}]",
                  f"cost of supply [{cur}]", f"margin [{cur}/kWh]"], rows, num_from=2)


def screen_text(market: dict, currency: str) -> str | None:
    """The screen's thresholds and the segments that pass it, as a sentence; None without a screen."""
    screen = market.get("screen")
    if screen is None:
        return None
    parts = []
    if screen.get("min_sales_kwh") is not None:
        parts.append(f"annual sales of at least {fmt.number(screen['min_sales_kwh'], 'kwh')} kWh/year")
    if screen.get("min_growth") is not None:
        parts.append(f"sales growth of at least {fmt.number(screen['min_growth'], 'share')} % a year")
    if screen.get("min_margin_per_kwh") is not None:
        parts.append(f"a margin of at least {fmt.number(screen['min_margin_per_kwh'], 'price')} {currency}/kWh")
    passing = screen["passing"]
    who = ", ".join(passing) if passing else "no segment"
    return f"Screen: {'; '.join(parts)} under the scenario tariff. Passing: {who}."


def portfolio_chart(chart_id: str, market: dict, currency: str) -> str:
    """Growth of sales (x, % a year) against margin per kWh (y), one bubble per segment, its
    area proportional to annual sales; the screen's thresholds as dashed lines."""
    names = list(market["segments"])
    fig = [market["segments"][n]["scenario"] for n in names]
    growth = np.array([np.nan if f["sales_growth"] is None else f["sales_growth"] * 100 for f in fig])
    margin = np.array([np.nan if f["margin_per_kwh"] is None else f["margin_per_kwh"] for f in fig])
    sales = np.array([f["annual_sales_kwh"] for f in fig])
    passes = [bool(market["segments"][n].get("screen", {}).get("passes")) for n in names]
    screen = market.get("screen") or {}
    area = 2000.0 * sales / sales.max() if sales.size and sales.max() > 0 else np.full(len(names), 100.0)

    def draw(f):
        ax = f.subplots()
        x = np.where(np.isnan(growth), 0.0, growth)    # growth not measurable (one market year): drawn at 0
        ax.scatter(x, margin, s=np.maximum(area, 30.0), c=[PASS if p else OTHER for p in passes], alpha=0.55,
                   edgecolors="black", linewidths=0.6)
        for xi, yi, n, s in zip(x, margin, names, sales):
            if np.isfinite(yi):
                ax.annotate(f"{_tx(n)}\n{s:,.0f} kWh/yr", (xi, yi), ha="center", va="center", fontsize=7)
        if screen.get("min_growth") is not None:
            ax.axvline(screen["min_growth"] * 100, color="black", linestyle="--", linewidth=0.8)
        if screen.get("min_margin_per_kwh") is not None:
            ax.axhline(screen["min_margin_per_kwh"], color="black", linestyle="--", linewidth=0.8)
        if screen:
            from matplotlib.lines import Line2D

            ax.legend(handles=[Line2D([], [], marker="o", linestyle="", color=c, alpha=0.55, markersize=8, label=t)
                               for c, t in ((PASS, "passes the screen"), (OTHER, "does not pass"))],
                      frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
        ax.margins(0.25)
        ax.set_xlabel("sales growth [% a year, compound, per day]")
        ax.set_ylabel(f"margin [{currency}/kWh]")

    return charts.render(chart_id, (7.5, 3.9), draw, "Portfolio of segments: growth against margin per kWh")
