"""Assumptions and calibration sources behind a run's behaviour models, for the report.

The texts summarise docs/behavior.md (sections 3, 5, 10 and 11) and docs/calibration.md;
those pages are the reference, and say how much of each source was read.
"""

from __future__ import annotations

import re
from pathlib import Path

#: What each response model does, and where its form or its magnitudes come from.
MODEL_SOURCES = {
    "constant_elasticity": (
        "Constant own-price elasticity: each step's load scales as (scenario price / baseline price) ** "
        "elasticity, the price ratio clipped to 0.1-10 (docs/behavior.md 3.1).",
        "Magnitudes of constant elasticities: Labandeira, Labeaga and Lopez-Otero 2017, Energy Policy 102 "
        "(figures at second hand, not checked against the paper). Utility of consumption, the integral of "
        "inverse demand: Mas-Colell, Whinston and Green 1995, Microeconomic Theory, ch. 3; Willig 1976, "
        "American Economic Review 66(4)."),
    "elasticity_matrix": (
        "Own- and cross-period elasticities between TOU periods (docs/behavior.md 3.2).",
        "Kirschen, Strbac, Cumperayot and Mendes 2000, IEEE Trans. Power Systems 15(2) (abstract only). "
        "Utility of consumption: the rule of a half (Harberger 1971, Journal of Economic Literature 9(3))."),
    "prism": (
        "PRISM demand system: a CES split between peak and off-peak energy with an elasticity of substitution, "
        "and a daily price elasticity (docs/behavior.md 3.3).",
        "California Statewide Pricing Pilot (Charles River Associates 2005; Faruqui and George 2005): values at "
        "second hand, neither report read; the steps of the computation after the Open Modeling Framework's "
        "prismDR code. Utility of consumption: two-stage budgeting with the CES price index (Deaton and "
        "Muellbauer 1980, ch. 5; Dixit and Stiglitz 1977)."),
    "ces": (
        "CES demand system over every price period of the day: each period's use moves with its own price "
        "relative to all the others (one elasticity of substitution), plus a daily price elasticity; two periods "
        "give PRISM (docs/behavior.md 3.3a).",
        "Form: the CES special case of the Addilog system Faruqui, Sergici, Lessem and Mountain 2015, Energy "
        "Economics 52(A), estimated over Ontario's peak, mid-peak and off-peak periods (abstract only); its "
        "two-period form is PRISM (California Statewide Pricing Pilot). Utility of consumption: two-stage CES "
        "budgeting, as for PRISM."),
    "event_response": (
        "Critical-peak and rebate events answered in the log form of the event price ratio, no clip: "
        "event-step load x (event price / price without the event) ** -slope; the other models see event days' "
        "prices without the event (docs/behavior.md 3.8).",
        "Rebate factor 0.52: U.S. DOE Consumer Behavior Studies final report (Cappers and Scheer 2016, "
        "summary): 11 % on critical peak rebates against 21 % on critical peak pricing. Slope: the residential "
        "TOU one (no event-specific slope read). With weather, factors 1.98 on the cooling and heating load "
        "and 0.36 on the rest: California Statewide Pricing Pilot by temperature (Herter et al., LBNL, "
        "abstract). Same-day notice factor 0.75: Centre for Net Zero 2024 on Octopus Energy's Saving Sessions "
        "(key findings: effects about a quarter lower with shorter than day-ahead notice). Event duration: "
        "not modelled for manual response (no figure read); for devices, controllable_load's "
        "duration_exponent (Herter et al.: 41 % in two-hour, 25 % in five-hour events). Consecutive-day "
        "fatigue: participation.event_fatigue, default 1 (no figure read)."),
    "flexible": (
        "Deferrable loads moved to the cheapest steps of a window when the saving beats an inconvenience cost "
        "(docs/behavior.md 3.4).",
        "Valley filling by deferrable load: Gan, Topcu and Low 2013, IEEE Trans. Power Systems 28(2) "
        "(abstract only). Shares and windows are scenario inputs."),
    "demand_shaving": (
        "Customers on demand charges keep their load below their month's baseline peak less a reduction, "
        "moving load within the day (docs/behavior.md 3.5).",
        "Threshold form: arXiv:2506.21510 (2025), joint scheduling under demand charges (abstract only). "
        "The reductions are assumptions, not published figures."),
    "thermal_storage": (
        "Heat or cold storage charged in cheap steps and serving heating or cooling load in dear ones, "
        "planned one day ahead (docs/behavior.md 3.6).",
        "Drees and Braun 1996, HVAC&R Research 2(4); Henze, Dodier and Krarti 1997 (abstracts only)."),
    "battery": (
        "Home batteries on the net load: self-consumption in time order, or TOU arbitrage and export planned "
        "one day ahead at the role's prices, optionally discharged in the operator's events (docs/behavior.md 3.6e).",
        "Defaults: Tesla Powerwall 2 datasheet (13.5 kWh, 5 kW, 90 % round trip; at second hand); NREL Annual "
        "Technology Baseline, residential battery storage (5 kW / 12.5 kWh); the 20 % reserve is an assumption."),
}

#: Published sources of the calibrated defaults (``behavior: default``, docs/calibration.md).
DEFAULT_SOURCES = {
    "residential": (
        "CES over the price periods (PRISM with two) with an elasticity of substitution of -0.103 (normal "
        "across customers, 30 % coefficient of "
        "variation, truncated to [-0.206, 0]) and a daily elasticity of -0.02.",
        "Fitted so that a default residential segment reproduces the arc of price responsiveness of Faruqui "
        "and Sergici 2017, 'Arcturus 2.0', The Electricity Journal 30(10) (peak impact -0.011 - 0.065 ln r "
        "- 0.046 ln r x tech) at peak/off-peak ratios 2-6; within the California pilot's -0.09 to -0.10; daily "
        "elasticity the pilot's (Charles River Associates 2005, at second hand). Enabling technology: multiplier "
        "1.63, the ratio of "
        "the arc's slopes. Events: event_response with the same slope (0.103) and a rebate factor of 0.52 (DOE "
        "Consumer Behavior Studies, 11 % against 21 %); with weather, factors 1.98 (cooling and heating load) "
        "and 0.36 (the rest) from the California pilot by temperature (Herter et al.); 0.75 in events announced "
        "the same day (Centre for Net Zero 2024, Saving Sessions). The spread across customers is an "
        "assumption."),
    "commercial": (
        "CES over the price periods (PRISM with two) with an elasticity of substitution averaging -0.11 "
        "(capped log-normal across customers: cv 10, magnitude at most 1), no daily "
        "elasticity; demand shaving of 5 % of the month's baseline peak where a demand charge applies.",
        "Goldman, Hopper, Bharvirkar, Neenan and Cappers 2007, The Energy Journal 28(1) (LBNL-60720; "
        "abstract read at osti.gov/biblio/920341): average elasticity of substitution 0.11 for 119 large "
        "customers on Niagara Mohawk's hourly prices, 18 % of them above 0.10; the spread's shape and cap "
        "are drsim's fit to these figures (docs/evidence_ci.md). The 5 % shaving is an assumption."),
    "industrial": (
        "As commercial, with demand shaving of 8 % of the month's baseline peak.",
        "Goldman et al. 2007 as for commercial; the 8 % shaving is an assumption."),
}

def sector_text(sector: str | None, shifts: int | None) -> str:
    """How a segment's sector and shifts changed its default, for the report ('' without them)."""
    if sector is None and shifts is None:
        return ""
    from ..scenario.sectors import REFERENCE_SHARE, flexible_share

    who = " and ".join(x for x in (f"sector {sector}" if sector else "", f"{shifts} shift(s)" if shifts else "") if x)
    return (f"For {who}: flexible share {flexible_share(sector, shifts):g} (the class default is read as a customer "
            f"with share {REFERENCE_SHARE:g}; the load that can move has the class elasticity / {REFERENCE_SHARE:g}; "
            "sim/scenario/sectors.py). The shares are assumptions ordered by published evaluations "
            "(docs/evidence_ci.md). ")


#: Modelling assumptions that hold for every run (docs/behavior.md section 11, docs/metrics.md).
GENERAL_ASSUMPTIONS = [
    "Baseline and scenario use the same customers and the same random draws (common random numbers): "
    "differences are paired and contain no sampling noise between the two (docs/model.md).",
    "In the baseline role customers do not respond to a change of tariff; deferrable loads, price-responsive "
    "storage and interruptible curtailment act in both roles, each at its own tariff (docs/behavior.md 1).",
    "The energy-price models see energy prices only: demand, capacity and fixed charges, credits, penalties "
    "and tax do not enter them; demand charges act only through demand shaving.",
    "No load moves between days (except energy left in a thermal store); no rebound after an interruptible "
    "event; no memory of past prices beyond learning and event fatigue.",
    "Bills are transfers: consumer surplus change = the change of the customers' utility of consumption "
    "(each model's money metric, quasi-linear utility) minus the change of the whole bill; welfare change = "
    "utility change - cost-of-supply change = surplus change + margin change, so a fixed charge or a tax "
    "changes welfare by zero. Moving load costs nothing unless the model states an inconvenience cost "
    "(flexible: inconvenience_per_kwh; demand shaving: none); curtailed energy is valued at the baseline "
    "price (a lower bound) (docs/metrics.md, Consumer ledger).",
    "Parameters are drawn independently of customer size and of each other.",
    "Capacity cost is the system peak times the capacity cost per kW-year, prorated to the horizon, and is "
    "allocated to segments by their load at the system peak (docs/metrics.md).",
    "The operator's rules, the interruptible compliance rule, the demand-shaving target and the supply-curve "
    "settings of the examples have no published source: they are assumptions.",
    "All money figures cover the simulated horizon, not a year, and include tax where a tariff has one.",
]


def default_matches(customer_class: str, behavior, sector: str | None = None, shifts: int | None = None) -> bool:
    """Whether a resolved ``behavior`` is exactly the class's calibrated default (for the
    segment's ``sector`` and ``shifts``, when it names them)."""
    from ..scenario.sectors import is_default

    return is_default(behavior, customer_class, sector, shifts)


def docs_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "docs"


def calibration_table() -> tuple[list[str], list[list[str]]] | None:
    """The residential calibration table of docs/calibration.md (simulated against published
    arc), or None when the docs are not beside the package."""
    path = docs_dir() / "calibration.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    m = re.search(r"<!-- calibration table: begin -->(.*?)<!-- calibration table: end -->", text, flags=re.S)
    if not m:
        return None
    lines = [ln.strip() for ln in m.group(1).splitlines() if ln.strip().startswith("|")]
    if len(lines) < 3:
        return None

    def cells(line):
        return [c.strip() for c in line.strip("|").split("|")]

    header = cells(lines[0])
    rows = []
    for ln in lines[2:]:
        if set(ln) <= set("|-: "):
            break
        row = cells(ln)
        if len(row) != len(header):
            break
        rows.append(row)
    return header, rows
