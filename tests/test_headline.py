"""Per-segment headlines (sim/headline.py, docs/metrics.md "headline"): the "all customers"
row agrees with the system figures computed from the system's own arrays, the segment rows
with each segment's customers' bills; the terminal summary, `compare` and the sweep tables
show each segment and all customers, and changes of shares in pp."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import sim
from sim.cli import main
from sim.headline import FIELDS, field_key, headline, headline_of
from sim.metrics import bill_change_distribution

from .conftest import build, scenario_dict


def _two_segments(**changes) -> dict:
    """Households and factories, a week: flat baseline, TOU scenario, a demand charge for factories."""
    data = scenario_dict(horizon={"start": "2024-02-20", "days": 7, "step_minutes": 60}, **changes)
    data["populations"][0].update(name="households", count=80)
    data["populations"][1].update(name="factories", customer_class="industrial", count=12,
                                  annual_kwh={"dist": "uniform", "low": 200000, "high": 900000},
                                  tariff={"baseline": "flat", "scenario": "tou_demand"})
    data["tariffs"]["tou_demand"] = dict(copy.deepcopy(data["tariffs"]["tou"]), demand={"per_kw_month": 30.0})
    return data


@pytest.fixture(scope="module")
def two():
    return sim.run(build(_two_segments()))


def test_all_customers_row_adds_up_to_the_system(two):
    m = two.metrics
    h = m["headline"]
    rows, all_ = list(h["segments"].values()), h["all"]
    assert list(h["segments"]) == ["households", "factories"] and h["currency"] == "CNY"
    # energy, revenue, surplus and customers: the segment rows sum exactly to the all-customers row
    for key in ("customers", "energy_baseline_kwh", "energy_scenario_kwh", "energy_change_kwh",
                "revenue_baseline_cny", "revenue_scenario_cny", "revenue_change_cny", "consumer_surplus_change_cny"):
        assert all_[key] == sum(r[key] for r in rows), key
    # ... and equal the system's own figures (system load, all bills together)
    assert all_["revenue_baseline_cny"] == m["baseline"]["revenue"]
    assert all_["revenue_scenario_cny"] == m["scenario"]["revenue"]
    assert all_["consumer_surplus_change_cny"] == m["change"]["consumer_surplus_change"]
    assert all_["customers"] == m["baseline"]["customers"]
    for role in ("baseline", "scenario"):
        assert_allclose(all_[f"energy_{role}_kwh"], m[role]["energy_kwh"], rtol=1e-12)
        assert_allclose(all_[f"peak_{role}_kw"], m[role]["peak_kw"], rtol=1e-12)   # coincident peaks add up
        assert_allclose(all_[f"margin_{role}_cny"], m[role]["margin"], rtol=1e-12)
    assert_allclose(all_["peak_reduction_kw"], m["change"]["peak_reduction_kw"], rtol=1e-9, atol=1e-6)
    # the mean bill change: customer-weighted mean of the segments = mean over all customers
    weighted = sum(r["bill_change_mean_cny"] * r["customers"] for r in rows) / all_["customers"]
    assert_allclose(all_["bill_change_mean_cny"], weighted, rtol=1e-12)
    assert_allclose(all_["bill_change_mean_cny"], m["change"]["bill_change_mean"], rtol=1e-12)
    # the segments really differ (the mixed mean would mislead)
    hh, fa = h["segments"]["households"], h["segments"]["factories"]
    assert np.sign(hh["bill_change_mean_cny"]) != np.sign(fa["bill_change_mean_cny"]) or \
        abs(fa["bill_change_mean_cny"]) > 10 * abs(hh["bill_change_mean_cny"])


def test_segment_rows_equal_their_customers_bills(two):
    """Each segment's bill figures, recomputed from the run's bill arrays (an independent reference)."""
    h = two.metrics["headline"]["segments"]
    for name, seg in two.segments.items():
        base = seg.bills["baseline"].total.sum(axis=1)
        change = seg.bills["scenario"].total.sum(axis=1) - base
        row = h[name]
        assert row["customers"] == len(change)
        assert_allclose(row["bill_change_mean_cny"], change.mean(), rtol=1e-12)
        assert_allclose(row["bill_change_median_cny"], np.median(change), rtol=1e-12)
        assert row["share_pay_more"] == np.mean(change > 0.005)
        assert_allclose(row["revenue_change_cny"], change.sum(), rtol=1e-9)
        t = {r: int(two.system_load_kw[r].argmax()) for r in ("baseline", "scenario")}
        assert_allclose(row["peak_baseline_kw"], seg.load_kw["baseline"][t["baseline"]], rtol=1e-12)
        assert_allclose(row["peak_scenario_kw"], seg.load_kw["scenario"][t["scenario"]], rtol=1e-12)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=4), st.integers(0, 2**32 - 1))
def test_all_customers_bill_figures_hold_for_any_segments(sizes, seed):
    """For any segments' bills: the all-customers mean is the system mean over every customer, and
    the shares and median are those of all customers together (not means of the segments')."""
    rng = np.random.default_rng(seed)
    base = [rng.uniform(10, 1000, n) for n in sizes]
    change = [rng.normal(0, 50, n) * rng.uniform(0.1, 10) for n in sizes]
    seg_figures = {"customers": 0, "coincident_peak_kw": 1.0, "energy_kwh": 1.0, "revenue": 1.0, "margin": 1.0}
    segments = {}
    for i, (b, c) in enumerate(zip(base, change)):
        ch = {**bill_change_distribution(c, b), "energy_kwh_change": 0.0, "consumer_surplus_change": -c.sum(),
              "revenue_change": c.sum(), "margin_change": c.sum()}
        segments[f"s{i}"] = {"customers": len(c), "baseline": seg_figures, "scenario": seg_figures, "change": ch}
    system = bill_change_distribution(np.concatenate(change), np.concatenate(base))
    h = headline({"segments": segments, "change": system}, "EUR")
    assert_allclose(h["all"]["bill_change_mean_eur"], system["bill_change_mean"], rtol=1e-10, atol=1e-9)
    assert h["all"]["bill_change_median_eur"] == system["bill_change_p50"]
    assert h["all"]["share_pay_more"] == system["share_pay_more"]
    assert h["all"]["customers"] == sum(sizes)
    assert_allclose(h["all"]["revenue_change_eur"], sum(c.sum() for c in change), rtol=1e-10, atol=1e-9)


def test_money_keys_carry_the_currency(two):
    h = sim.run(build(_two_segments(currency="USD"))).metrics["headline"]
    assert h["currency"] == "USD"
    assert set(h["all"]) == {field_key(f.key, "USD") for f in FIELDS}
    assert "bill_change_mean_usd" in h["segments"]["households"] and "bill_change_mean_cny" not in h["all"]
    # a run folder written before the block existed: rebuilt from its other blocks the same way
    m = {k: v for k, v in two.metrics.items() if k != "headline"}
    assert headline_of(m, "CNY") == two.metrics["headline"]


def test_terminal_summary_shows_every_segment_and_all_customers(write_yaml, tmp_path, capsys):
    path = write_yaml(_two_segments())
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    out = capsys.readouterr().out
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    h = metrics["headline"]
    tables = {}
    for table in ("by segment: load at the system peak", "by segment: bill change per customer",
                  "by segment: consumer surplus, revenue and margin"):
        block = out[out.index(table):]
        block = block[:block.index("└")]
        rows = [ln for ln in block.splitlines() if ln.startswith("│")]
        assert [r.split("│")[1].strip() for r in rows] == ["households", "factories", "all customers"], table
        tables[table] = dict(zip(["households", "factories", "all customers"], rows))
    bills = tables["by segment: bill change per customer"]
    # the figures are there, with their units in the headings
    for name in ("households", "factories"):
        assert f"{h['segments'][name]['bill_change_mean_cny']:+,.2f}" in bills[name]
    assert f"{h['all']['bill_change_mean_cny']:+,.2f}" in bills["all customers"]
    assert "[CNY/customer]" in out and "[kW]" in out and "[kWh]" in out and "[CNY]" in out
    lines = {r.split("│")[1].strip(): r for r in out.splitlines() if r.startswith("│")}
    # a change of a share is in percentage points
    rate = lines["peak-valley rate"]
    change = (metrics["scenario"]["peak_valley_rate"] - metrics["baseline"]["peak_valley_rate"]) * 100
    assert f"{change:+.1f} pp" in rate or (round(change, 1) == 0 and "0.0 pp" in rate)
    assert "pay more" in out and "mean -" not in out  # the old mixed one-line mean is gone


def test_compare_shows_each_segment(write_yaml, tmp_path, capsys):
    path = write_yaml(_two_segments())
    runs = [tmp_path / "a", tmp_path / "b"]
    assert main(["run", str(path), "--out", str(runs[0]), "--quiet"]) == 0
    assert main(["run", str(path), "--out", str(runs[1]), "--quiet", "--seed", "4"]) == 0
    capsys.readouterr()
    html = tmp_path / "cmp.html"
    assert main(["compare", *map(str, runs), "--html", str(html)]) == 0
    out = capsys.readouterr().out
    for group in ("Segment households", "Segment factories", "All customers"):
        assert group in out
    text = html.read_text()
    m = json.loads((runs[0] / "metrics.json").read_text())["headline"]
    for name in ("households", "factories"):
        assert f'data-metric="headline.segments.{name}.bill_change_mean_cny"' in text
        assert f'data-metric="headline.segments.{name}.peak_reduction_kw"' in text
    assert 'data-metric="headline.all.margin_change_cny"' in text
    cell = f'data-run="A" data-metric="headline.segments.factories.bill_change_mean_cny" data-unit="CNY/customer">'
    assert cell + f"{m['segments']['factories']['bill_change_mean_cny']:,.2f}<" in text
    # differences of shares in pp, and no relative difference of a change
    for row in (ln for ln in out.splitlines() if "Customers who pay more" in ln):
        cells = [c.strip() for c in row.split("│")[1:-1]]  # metric, unit, A, B, B - A, B - A [%]
        assert cells[1] == "%" and cells[4].endswith(" pp") and cells[5] == "", cells
    for row in (ln for ln in out.splitlines() if "Margin change" in ln):
        assert [c.strip() for c in row.split("│")[1:-1]][5] == "", row


def test_sweep_tables_and_report_carry_each_segment(tmp_path, capsys):
    import pandas as pd
    import yaml

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(_two_segments()))
    out = tmp_path / "sweep"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1",
                 "--param", "tariffs.tou.periods.peak.price_per_kwh=0.7,1.2"]) == 0
    runs = pd.read_parquet(out / "runs.parquet")
    summary = pd.read_parquet(out / "summary.parquet")
    for name in ("households", "factories"):
        for key in ("peak_reduction_kw", "energy_change_kwh", "bill_change_mean_cny", "share_pay_more",
                    "consumer_surplus_change_cny", "revenue_change_cny", "margin_change_cny"):
            assert f"headline.segments.{name}.{key}" in runs.columns
            assert f"headline.segments.{name}.{key}.mean" in summary.columns
    # the segments' revenue changes add up to all customers' in every run
    seg = runs["headline.segments.households.revenue_change_cny"] + runs["headline.segments.factories.revenue_change_cny"]
    assert (seg == runs["headline.all.revenue_change_cny"]).all()
    # the report: a row per design point and segment, shares in %, a share's change in pp
    assert main(["report", str(out), "--metric", "change.peak_valley_rate_change"]) == 0
    html = (out / "report.html").read_text()
    table = html[html.index('id="sweep-headlines-table"'):]
    table = table[:table.index("</table>")]
    assert table.count("<td>households</td>") == 2 and table.count("<td>all customers</td>") == 2
    assert "Bill change, mean [CNY/customer]" in table and "Customers who pay more [%]" in table
    fa = summary["headline.segments.factories.bill_change_mean_cny.mean"]
    assert all(f"{v:+,.2f}" in table for v in fa)
    assert "change.peak_valley_rate_change [pp]" in html
    change = summary["change.peak_valley_rate_change.mean"] * 100  # a 0-1 fraction's change, in pp
    assert all(f"{v:.4g}" in html for v in change)
