"""The market view (sim/market.py): segment growth, sales, revenue, cost and margin per market
year, year-on-year growth, the screen, its report section, and the validation of its keys.

Invariants: growth of zero is no growth, to the bit; segment sales add up to the system's
energy; margin = revenue - cost, and revenue and cost over the market years equal the run's
own revenue and cost; consumption growth g scales market year k's sales by (1 + g)^k at
unchanged tariffs, so year-on-year growth is (1 + g)(1 + growth without it) - 1; customer
growth c weights year k by (1 + c)^k; the screen passes exactly the segments whose figures
meet every threshold.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import sim
from sim.cli import main
from sim.market import compound_growth, growth_by_year

from .conftest import build, scenario_dict
from .test_report import Page, check_cell

G = 0.04   # consumption growth per customer per year in the tests
C = 0.05   # customer growth per year


def years_dict(**changes) -> dict:
    """The small scenario over three market years (2025, 2026 and January 2027), with few customers."""
    data = scenario_dict(**changes)
    data["horizon"] = {"start": "2025-01-01", "days": 365 * 2 + 31, "step_minutes": 60}
    data["populations"][0]["count"] = 30
    data["populations"][1]["count"] = 8
    data.setdefault("market", {})
    return data


def with_growth(data: dict, i: int, **growth) -> dict:
    data = copy.deepcopy(data)
    data["populations"][i]["growth"] = growth
    return data


def unchanged_tariffs(data: dict) -> dict:
    data = copy.deepcopy(data)
    for seg in data["populations"]:
        seg["tariff"]["scenario"] = seg["tariff"]["baseline"]
    return data


@pytest.fixture(scope="module")
def runs():
    base = years_dict()
    flat = unchanged_tariffs(base)
    return {
        "plain": sim.run(build(base)),
        "zero": sim.run(build(with_growth(base, 0, customers=0.0, consumption_per_customer=0.0))),
        "flat": sim.run(build(flat)),
        "flat_g": sim.run(build(with_growth(flat, 0, consumption_per_customer=G))),
        "grow_c": sim.run(build(with_growth(base, 1, customers=C))),
    }


def _bits(r) -> dict:
    out = {f"system.{k}": v.tobytes() for k, v in r.system_load_kw.items()}
    for name, seg in r.segments.items():
        for role in ("baseline", "scenario"):
            out[f"{name}.load.{role}"] = seg.load_kw[role].tobytes()
            out[f"{name}.bills.{role}"] = seg.bills[role].total.tobytes()
    return out


def test_zero_growth_is_no_growth_to_the_bit(runs):
    """Growth of 0 in customers and consumption gives the same loads, bills and metrics, bit for bit
    (the market block's growth entry aside, which echoes the input)."""
    a, b = runs["plain"], runs["zero"]
    assert _bits(a) == _bits(b)
    ma, mb = json.loads(json.dumps(a.metrics)), json.loads(json.dumps(b.metrics))
    assert ma == mb


def test_market_view_only_when_asked_and_moves_nothing_else():
    """Without `market:` or `growth:` there is no market block; with `market: {}` every other figure is
    the same to the bit (14 days: one market year)."""
    data = scenario_dict()
    plain = sim.run(build(data)).metrics
    with_market = sim.run(build({**data, "market": {}})).metrics
    assert "market" not in plain and "market" in with_market
    assert json.dumps({k: v for k, v in with_market.items() if k != "market"}) == json.dumps(plain)


@pytest.mark.parametrize("which", ["plain", "grow_c"])
def test_segment_sales_add_up_to_the_system(runs, which):
    """Segment sales add up to the system's sales in every market year; without customer growth
    the system's sales over the horizon equal the run's system energy."""
    r = runs[which]
    m = r.metrics["market"]
    for role in ("baseline", "scenario"):
        per_year = np.sum([e[role]["by_year"]["sales_kwh"] for e in m["segments"].values()], axis=0)
        assert_allclose(m["system"][role]["by_year"]["sales_kwh"], per_year, rtol=1e-12)
        if which == "plain":
            assert_allclose(m["system"][role]["sales_kwh"], r.metrics[role]["energy_kwh"], rtol=1e-12)
            for name, e in m["segments"].items():
                assert_allclose(e[role]["sales_kwh"], r.metrics["segments"][name][role]["energy_kwh"], rtol=1e-12)


def test_margin_is_revenue_less_cost_and_matches_the_run(runs):
    """margin = revenue - cost in every year and in total; revenue and energy cost over the years equal
    the run's own (bills and the step-by-step energy cost); margin per kWh = margin / sales."""
    r = runs["plain"]
    m = r.metrics["market"]
    for name, e in m["segments"].items():
        for role in ("baseline", "scenario"):
            f, y = e[role], e[role]["by_year"]
            assert_allclose(np.array(y["margin"]), np.array(y["revenue"]) - np.array(y["cost"]), rtol=0, atol=1e-6)
            assert f["margin"] == pytest.approx(f["revenue"] - f["cost"], abs=1e-6)
            assert f["margin_per_kwh"] == pytest.approx(f["margin"] / f["sales_kwh"], rel=1e-12)
            seg = r.metrics["segments"][name][role]
            assert f["revenue"] == pytest.approx(seg["revenue"], rel=1e-12)
            assert f["energy_cost"] == pytest.approx(seg["energy_cost"], rel=1e-12)
            bills = r.segments[name].bills[role].total.sum()
            assert f["revenue"] == pytest.approx(float(bills), rel=1e-12)


def test_one_market_year_cost_equals_the_runs_cost():
    """Over one market year the coincident-peak capacity cost is the run's own: the market cost of
    each segment equals the segment's cost of supply in metrics."""
    r = sim.run(build(scenario_dict(market={})))
    for name, e in r.metrics["market"]["segments"].items():
        for role in ("baseline", "scenario"):
            assert e[role]["cost"] == pytest.approx(r.metrics["segments"][name][role]["cost"], rel=1e-12)
            assert e[role]["sales_growth"] is None and e[role]["by_year"]["sales_growth"] == [None]


def test_consumption_growth_scales_each_years_sales(runs):
    """At unchanged tariffs, consumption growth g multiplies market year k's sales by (1 + g)^k, so the
    year-on-year growth is (1 + g)(1 + the growth without it) - 1, and g where that is 0. The segment
    without growth is untouched."""
    m0, mg = runs["flat"].metrics["market"], runs["flat_g"].metrics["market"]
    for role in ("baseline", "scenario"):
        s0 = np.array(m0["segments"]["res"][role]["by_year"]["sales_kwh"])
        sg = np.array(mg["segments"]["res"][role]["by_year"]["sales_kwh"])
        assert_allclose(sg, s0 * (1 + G) ** np.arange(3), rtol=1e-12)
        y0 = m0["segments"]["res"][role]["by_year"]["sales_growth"]
        yg = mg["segments"]["res"][role]["by_year"]["sales_growth"]
        assert yg[0] is None
        assert_allclose(yg[1:], (1 + G) * (1 + np.array(y0[1:])) - 1, rtol=0, atol=1e-12)
        assert_allclose(mg["segments"]["res"][role]["sales_growth"],
                        (1 + G) * (1 + m0["segments"]["res"][role]["sales_growth"]) - 1, atol=1e-12)
        assert mg["segments"]["shops"][role] == m0["segments"]["shops"][role]
    # at unchanged tariffs the two roles sell the same
    assert mg["segments"]["res"]["change"]["sales_kwh_change"] == 0


def test_customer_growth_weights_each_year(runs):
    """Customer growth c weights market year k's sales, revenue and cost by (1 + c)^k and counts
    n (1 + c)^k customers; the simulated loads are those of the run without it."""
    m0, mc = runs["plain"].metrics["market"], runs["grow_c"].metrics["market"]
    w = (1 + C) ** np.arange(3)
    for role in ("baseline", "scenario"):
        a, b = m0["segments"]["shops"][role]["by_year"], mc["segments"]["shops"][role]["by_year"]
        for key in ("sales_kwh", "revenue", "cost", "margin"):
            assert_allclose(b[key], np.array(a[key]) * w, rtol=1e-12)
        assert_allclose(b["customers"], 8 * w, rtol=1e-12)
    assert _bits(runs["plain"]) == _bits(runs["grow_c"])


def test_screen_passes_the_segments_that_meet_every_threshold(runs):
    """The screen's pass list, recomputed from the figures; a threshold on growth fails a segment
    whose growth cannot be measured (one market year)."""
    m = runs["plain"].metrics["market"]
    res, shops = m["segments"]["res"]["scenario"], m["segments"]["shops"]["scenario"]
    # thresholds between the two segments' figures: only the larger-selling one passes on sales
    lo, hi = sorted([res["annual_sales_kwh"], shops["annual_sales_kwh"]])
    screen = {"min_sales_kwh": (lo + hi) / 2, "min_margin_per_kwh": min(res["margin_per_kwh"],
                                                                       shops["margin_per_kwh"]) - 0.01}
    r = sim.run(build(years_dict(market={"screen": screen})))
    mm = r.metrics["market"]
    expect = [n for n, e in mm["segments"].items()
              if e["scenario"]["annual_sales_kwh"] >= screen["min_sales_kwh"]
              and e["scenario"]["margin_per_kwh"] >= screen["min_margin_per_kwh"]]
    assert mm["screen"]["passing"] == expect and len(expect) == 1
    for e in mm["segments"].values():
        assert e["screen"]["growth"] is None
    short = sim.run(build(scenario_dict(market={"screen": {"min_growth": -0.5}}))).metrics["market"]
    assert short["screen"]["passing"] == []
    assert all(e["screen"]["growth"] is False for e in short["segments"].values())


@settings(max_examples=60, deadline=None)
@given(g=st.floats(-0.5, 1.0), s0=st.floats(1.0, 1e9), n=st.integers(2, 10),
       days=st.lists(st.sampled_from([365, 366, 200]), min_size=10, max_size=10))
def test_growth_of_a_steady_rate_is_that_rate(g, s0, n, days):
    """Sales per day growing by g a year give a year-on-year and a compound growth of g, whatever
    the years' lengths."""
    d = np.array(days[:n], dtype=float)
    sales = s0 * (1 + g) ** np.arange(n) * d
    yoy = growth_by_year(sales, d)
    assert yoy[0] is None
    assert_allclose(yoy[1:], g, rtol=0, atol=1e-9)
    assert compound_growth(sales, d) == pytest.approx(g, abs=1e-9)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["populations"][0].update(growth={"customers": 1.5}),
     "populations[0].growth.customers: must be <= 1; got 1.5"),
    (lambda d: d["populations"][1].update(growth={"consumption": 0.01}),
     "populations[1].growth.consumption: unknown key"),
    (lambda d: d["populations"][1].update(growth={"consumption_per_customer": -0.7}),
     "populations[1].growth.consumption_per_customer: must be >= -0.5; got -0.7"),
    (lambda d: d.update(market={"screen": {"min_growth": "fast"}}),
     "market.screen.min_growth: must be a valid number"),
    (lambda d: d.update(market={"screen": {"min_sales_kwh": -1}}),
     "market.screen.min_sales_kwh: must be >= 0; got -1"),
    (lambda d: d.update(market={"screen": {}}),
     "market.screen: give at least one of min_sales_kwh, min_growth, min_margin_per_kwh"),
    (lambda d: d.update(market={"screens": {}}), "market.screens: unknown key"),
])
def test_bad_market_keys_name_file_line_and_field(mutate, expected, write_yaml, capsys):
    data = scenario_dict()
    mutate(data)
    path = write_yaml(data)
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert expected in err, err
    assert "Traceback" not in err
    line = next(ln for ln in err.splitlines() if expected in ln)
    assert line.startswith(f"{path}:") and line.split(":")[1].isdigit(), line


def test_example_scenario_validates():
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scenarios" / "market_segments.yaml"
    sc = sim.load_scenario(path)
    assert sc.horizon.days >= 5 * 365 and sc.market.screen is not None
    assert all(seg.growth is not None for seg in sc.populations)


# --------------------------------------------------------------------------- the report


def test_report_section_shows_the_market_view(tmp_path):
    """The report's market section: its tables' figures equal metrics.json, the portfolio chart is
    inline SVG, and the screen names the passing segments; a run without a market view says so."""
    data = years_dict(market={"screen": {"min_margin_per_kwh": -10.0}})
    data["horizon"]["days"] = 380           # two market years, the second short
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["run", str(path), "--out", str(tmp_path / "m"), "--quiet", "--report"]) == 0
    text = (tmp_path / "m" / "report.html").read_text(encoding="utf-8")
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    page = Page(text)
    assert "market" in page.sections and page.figures.get("fig-portfolio") == 1
    assert {"tab-market", "tab-market-years"} <= set(page.tables)
    cells = [c for c in page.cells if c["metric"].startswith("market.")]
    assert len(cells) >= 3 * 8
    for c in cells:
        check_cell(c, metrics, "CNY")
    assert "Passing: res, shops." in text
    other = tmp_path / "p.yaml"
    other.write_text(yaml.safe_dump(scenario_dict(), sort_keys=False))
    assert main(["run", str(other), "--out", str(tmp_path / "p"), "--quiet", "--report"]) == 0
    assert 'id="no-market"' in (tmp_path / "p" / "report.html").read_text(encoding="utf-8")
