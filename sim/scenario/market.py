"""The scenario's market view: a segment's annual growth (``growth:``) and the screen of
segments by sales, growth and margin (``market:``).

These models only validate; :mod:`sim.population.segments` applies consumption growth to the
base load, and :mod:`sim.market` reads a finished run's arrays into the market view
(docs/scenario.md 13, docs/metrics.md "Market view").
"""

from __future__ import annotations

from pydantic import Field, model_validator

from .base import Model, problems

#: Bounds of an annual growth rate (a share per year): from halving to doubling each year.
MIN_GROWTH, MAX_GROWTH = -0.5, 1.0


class Growth(Model):
    """A segment's annual growth over a multi-year horizon.

    Market year k (k = 0 for the horizon's first twelve billing months) has its customers'
    consumption scaled by ``(1 + consumption_per_customer) ** k`` (in the simulation: every
    response, bill and the system load see it) and its customer numbers by
    ``(1 + customers) ** k`` (a weight on the segment's totals in the market view only).
    """

    customers: float = Field(0.0, ge=MIN_GROWTH, le=MAX_GROWTH, description=(
        "Annual growth in the number of customers, as a share (0.03 = 3 % a year). Weights the segment's "
        "yearly sales, revenue and cost in the market view; the simulated customers and the system load "
        "do not change (docs/metrics.md, Market view)."))
    consumption_per_customer: float = Field(0.0, ge=MIN_GROWTH, le=MAX_GROWTH, description=(
        "Annual growth in each customer's consumption, as a share (0.01 = 1 % a year): every step of "
        "the base load of market year k is scaled by (1 + g)^k before any response."))


class Screen(Model):
    """Thresholds a segment must meet to pass the market screen (each one optional)."""

    min_sales_kwh: float | None = Field(None, ge=0, description=(
        "Least annual sales under the scenario tariff: the horizon's sales per day x 365 (with customer "
        "growth). [kWh/year]"))
    min_growth: float | None = Field(None, ge=-1, le=10, description=(
        "Least compound annual growth of the segment's sales per day under the scenario tariff, from the "
        "first market year to the last, as a share (0.02 = 2 % a year). Needs two market years."))
    min_margin_per_kwh: float | None = Field(None, description=(
        "Least margin per kWh sold under the scenario tariff over the horizon: (revenue - cost of "
        "supply) / sales. [currency/kWh]"))

    @model_validator(mode="after")
    def _some(self) -> Screen:
        if self.min_sales_kwh is None and self.min_growth is None and self.min_margin_per_kwh is None:
            raise problems([((), "give at least one of min_sales_kwh, min_growth, min_margin_per_kwh")])
        return self


class Market(Model):
    """The market view of a run: each segment's sales, revenue, cost and margin per market
    year, their growth, and the screen."""

    screen: Screen | None = Field(None, description=(
        "Thresholds a segment must meet; the report names the segments that pass."))
