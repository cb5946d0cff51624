"""The market view of a run: each segment's sales, revenue, cost of supply and margin per
market year and per kWh, their growth from year to year, and the screen of segments by
sales, growth and margin (a utility's view of its sub-markets).

A *market year* is twelve billing months counted from the horizon's first
(``billing_month // 12``); the first or last may be shorter. A segment's growth in
consumption per customer (``growth.consumption_per_customer``) is in its simulated load
already (:func:`sim.population.segments.consumption_growth`); its growth in customers
(``growth.customers``, ``c``) is a weight ``(1 + c) ** k`` on its totals of market year
``k`` here: a customer added in year ``k`` is taken to be like the simulated ones (drawn
from the same distributions), so the segment's expected sales, revenue and cost scale with
their number. The simulated system load, its peak, its prices and the operator's calls do
not see the added customers (docs/metrics.md, "Market view").

Reads :class:`sim.outcome.RunResult` arrays only (the layer of :mod:`sim.metrics`); every
figure names its segment, its tariff role, its unit (kWh, currency, currency/kWh, share per
year) and the run's currency (``currency``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .outcome import ROLES

__all__ = ["MarketYears", "electrification_sales", "market_view", "market_years", "role_by_year", "wants_market"]

#: Days of a year in annual figures (sales per day x 365: a year of 365 days).
DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class MarketYears:
    """The market years of a horizon.

    Attributes
    ----------
    of_day : ndarray of int, shape (days,)
        Market year of each day (0 for the first).
    of_month : ndarray of int, shape (months,)
        Market year of each billing month.
    days : ndarray of int, shape (years,)
        Days of the horizon in each market year.
    first : list of str
        First date of each market year (ISO).
    """

    of_day: np.ndarray
    of_month: np.ndarray
    days: np.ndarray
    first: list[str]

    @property
    def n(self) -> int:
        return len(self.days)


def market_years(cal) -> MarketYears:
    """The market years of a :class:`sim.calendar.Calendar`."""
    of_day = (cal.billing_month // 12).astype(np.int64)
    n = int(of_day[-1]) + 1
    starts = np.searchsorted(of_day, np.arange(n))
    return MarketYears(of_day, np.arange(cal.n_months) // 12, np.bincount(of_day, minlength=n),
                       [str(cal.dates[i]) for i in starts])


def wants_market(scenario) -> bool:
    """Whether a run has a market view: the scenario asks for one (``market:``) or a segment grows."""
    return scenario.market is not None or any(seg.growth is not None for seg in scenario.populations)


def customer_weight(spec, years: MarketYears) -> np.ndarray:
    """Each market year's weight on a segment's totals from its growth in customers,
    ``(1 + c) ** k``; ones without growth. Shape (years,)."""
    c = spec.growth.customers if spec is not None and spec.growth is not None else 0.0
    return (1.0 + c) ** np.arange(years.n, dtype=np.float64)


def role_by_year(result, name: str, role: str, years: MarketYears) -> dict[str, np.ndarray]:
    """A segment's simulated sales, revenue and cost of supply in each market year, in one role,
    before any customer weight.

    Sales are the segment's metered energy (its load summed over the steps). Energy cost is
    its load at each step's cost of energy (losses included, ``RunResult.energy_cost_per_kwh``).
    Capacity cost is allocated by coincident peak in each market year: the segment's load at
    the step of that year's system peak, at the capacity cost per kW-year, prorated by the
    year's days / 365. Revenue is the bills of the year's billing months (every charge).

    Returns
    -------
    dict of ndarray, shape (years,): ``sales_kwh`` [kWh], ``revenue``, ``energy_cost``,
    ``capacity_cost``, ``cost`` [currency]
    """
    cal, seg = result.calendar, result.segments[name]
    spd, h = cal.steps_per_day, cal.step_minutes / 60.0
    load = seg.load_kw[role].reshape(-1, spd)
    cost = result.energy_cost_per_kwh[role].reshape(-1, spd)
    sales = np.bincount(years.of_day, load.sum(axis=1) * h, minlength=years.n)
    energy_cost = np.bincount(years.of_day, (load * cost).sum(axis=1) * h, minlength=years.n)
    system = result.system_load_kw[role].reshape(-1, spd)
    per_kw_year = result.scenario.grid.capacity_cost_per_kw_year
    capacity = np.zeros(years.n)
    for k in range(years.n):
        days = np.flatnonzero(years.of_day == k)
        t = int(system[days].argmax())            # the year's system peak step (first if tied)
        capacity[k] = load[days].reshape(-1)[t] * per_kw_year * years.days[k] / DAYS_PER_YEAR
    revenue = np.bincount(years.of_month, seg.bills[role].monthly.sum(axis=1), minlength=years.n)
    return {"sales_kwh": sales, "revenue": revenue, "energy_cost": energy_cost, "capacity_cost": capacity,
            "cost": energy_cost + capacity}


def electrification_sales(seg, weight: np.ndarray, years: MarketYears, base_sales: float) -> dict:
    """The part of a segment's sales change that electric space heating brings
    (``model: electric_heat``: today's electric heating in both roles, the switchers' in the
    scenario role): its electricity, scenario less baseline, in each market year, weighted
    as the sales are [kWh], and as a share of the baseline sales [%]. Empty without the
    model."""
    if "heat_block_kw_scenario" not in seg.stats:
        return {}
    spd = seg.load_kw["scenario"].size // years.of_day.size
    h = 24.0 / spd
    by_year = {}
    for role in ROLES:
        per_day = seg.stats[f"heat_block_kw_{role}"].sum(axis=0).reshape(-1, spd).sum(axis=1) * h
        by_year[role] = np.bincount(years.of_day, per_day, minlength=years.n) * weight
    gained = float((by_year["scenario"] - by_year["baseline"]).sum())
    return {"sales_change_from_electric_heat_kwh": gained,
            "sales_change_from_electric_heat_pct": gained / base_sales * 100 if base_sales else None}


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def growth_by_year(sales: np.ndarray, days: np.ndarray) -> list[float | None]:
    """Year-on-year growth of sales per day, ``(S[k] / d[k]) / (S[k-1] / d[k-1]) - 1``, as a
    share (None for the first year, or after a year without sales). Per day, so that a leap
    day or a part year does not show as growth."""
    per_day = sales / days
    return [None] + [float(per_day[k] / per_day[k - 1] - 1.0) if per_day[k - 1] > 0 else None
                     for k in range(1, len(sales))]


def compound_growth(sales: np.ndarray, days: np.ndarray) -> float | None:
    """Compound annual growth of sales per day from the first market year to the last, as a
    share per year; None with fewer than two market years or no sales in the first."""
    if len(sales) < 2 or not sales[0] > 0:
        return None
    ratio = (sales[-1] / days[-1]) / (sales[0] / days[0])
    return float(ratio ** (1.0 / (len(sales) - 1)) - 1.0)


def role_figures(by_year: dict[str, np.ndarray], weight: np.ndarray, n: int, years: MarketYears) -> dict:
    """A segment's (or the system's) market figures in one role from its yearly sums and the
    customer weight of each year: yearly lists, horizon totals, figures per kWh, growth."""
    w = {k: v * weight for k, v in by_year.items()}
    total = {k: float(v.sum()) for k, v in w.items()}
    sales = total["sales_kwh"]
    margin = w["revenue"] - w["cost"]
    out = {**total, "margin": total["revenue"] - total["cost"],
           "annual_sales_kwh": sales / float(years.days.sum()) * DAYS_PER_YEAR,
           "revenue_per_kwh": _ratio(total["revenue"], sales), "cost_per_kwh": _ratio(total["cost"], sales),
           "margin_per_kwh": _ratio(total["revenue"] - total["cost"], sales),
           "sales_growth": compound_growth(w["sales_kwh"], years.days)}
    out["by_year"] = {"customers": [float(n * x) for x in weight],
                      **{k: [float(x) for x in v] for k, v in w.items()},
                      "margin": [float(x) for x in margin],
                      "margin_per_kwh": [_ratio(float(m), float(s)) for m, s in zip(margin, w["sales_kwh"])],
                      "sales_growth": growth_by_year(w["sales_kwh"], years.days)}
    return out


def _changes(b: dict, s: dict) -> dict:
    """Scenario against baseline: sales, revenue, cost, margin and margin per kWh."""
    out = {f"{k}_change": s[k] - b[k] for k in ("sales_kwh", "revenue", "cost", "margin")}
    out["sales_change_pct"] = (s["sales_kwh"] - b["sales_kwh"]) / b["sales_kwh"] * 100 if b["sales_kwh"] else None
    out["margin_per_kwh_change"] = (s["margin_per_kwh"] - b["margin_per_kwh"]
                                    if s["margin_per_kwh"] is not None and b["margin_per_kwh"] is not None else None)
    return out


def screen_segment(fig: dict, screen) -> dict:
    """Which thresholds a segment's scenario figures meet (None where the screen sets none, or
    the figure cannot be measured: growth needs two market years), and whether it passes all."""
    tests = {"sales": (screen.min_sales_kwh, fig["annual_sales_kwh"]),
             "growth": (screen.min_growth, fig["sales_growth"]),
             "margin": (screen.min_margin_per_kwh, fig["margin_per_kwh"])}
    out = {k: (None if lo is None else (v is not None and v >= lo)) for k, (lo, v) in tests.items()}
    out["passes"] = all(v is not False for v in out.values())   # a figure that cannot be measured fails
    return out


def market_view(result) -> dict:
    """The market view of a :class:`sim.outcome.RunResult` (``metrics.json["market"]``)."""
    sc = result.scenario
    years = market_years(result.calendar)
    segments, sums = {}, {role: None for role in ROLES}
    for name, seg in result.segments.items():
        spec = sc.segment(name)
        weight = customer_weight(spec, years)
        entry: dict = {"growth": _growth_spec(spec)}
        for role in ROLES:
            by_year = role_by_year(result, name, role, years)
            entry[role] = role_figures(by_year, weight, seg.n, years)
            w = {k: v * weight for k, v in by_year.items()}
            sums[role] = w if sums[role] is None else {k: sums[role][k] + v for k, v in w.items()}
        entry["change"] = _changes(entry["baseline"], entry["scenario"])
        entry["change"].update(electrification_sales(seg, weight, years, entry["baseline"]["sales_kwh"]))
        segments[name] = entry
    customers = sum(seg.n for seg in result.segments.values())
    system = {role: role_figures(sums[role], np.ones(years.n), customers, years) for role in ROLES}
    system["baseline"]["by_year"]["customers"] = system["scenario"]["by_year"]["customers"] = [
        float(sum(segments[n]["scenario"]["by_year"]["customers"][k] for n in segments)) for k in range(years.n)]
    system["change"] = _changes(system["baseline"], system["scenario"])
    out = {"currency": sc.currency,
           "years": [{"year": k + 1, "start": years.first[k], "days": int(years.days[k])} for k in range(years.n)],
           "segments": segments, "system": system}
    screen = sc.market.screen if sc.market is not None else None
    if screen is not None:
        for entry in segments.values():
            entry["screen"] = screen_segment(entry["scenario"], screen)
        out["screen"] = {**screen.model_dump(mode="json"),
                         "passing": [n for n, e in segments.items() if e["screen"]["passes"]]}
    return out


def _growth_spec(spec) -> dict:
    g = spec.growth if spec is not None else None
    return {"customers": g.customers if g else 0.0, "consumption_per_customer": g.consumption_per_customer if g else 0.0}
