"""Invariants of a whole run: null scenarios, conservation of money, scaling, reproducibility."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import sim
from sim.population import STREAM_BLOCK
from sim.tariffs import CHARGES

from .conftest import build, scenario_dict


def _run(data, **kw):
    return sim.run(build(data), **kw)


def test_flat_scenario_gives_zero_response_and_zero_bill_change():
    """Scenario tariff = baseline tariff: loads are bit-identical and no bill moves."""
    data = scenario_dict()
    for seg in data["populations"]:
        seg["tariff"]["scenario"] = seg["tariff"]["baseline"]
    r = _run(data)
    assert_array_equal(r.system_load_kw["baseline"], r.system_load_kw["scenario"])
    for s in r.segments.values():
        assert_array_equal(s.bills["baseline"].total, s.bills["scenario"].total)
    ch = r.metrics["change"]
    assert ch["peak_reduction_kw"] == 0 and ch["bill_change_mean"] == 0 and ch["revenue_change"] == 0
    assert ch["share_pay_more"] == 0 and ch["share_pay_less"] == 0


def test_same_tou_prices_as_flat_give_zero_response():
    """A TOU tariff whose every period has the flat price is no price change."""
    data = scenario_dict()
    for p in data["tariffs"]["tou"]["periods"].values():
        p["price_per_kwh"] = data["tariffs"]["flat"]["price_per_kwh"]
    r = _run(data)
    assert_array_equal(r.system_load_kw["baseline"], r.system_load_kw["scenario"])


def test_bills_sum_to_revenue():
    """Per-customer bills, per-segment monthly totals and metrics revenue agree (rtol 1e-12)."""
    r = _run(scenario_dict())
    for role in ("baseline", "scenario"):
        customer_sum = sum(s.bills[role].bill.sum() for s in r.segments.values())
        monthly_sum = sum(s.bills[role].monthly.sum() for s in r.segments.values())
        assert_allclose(customer_sum, r.metrics[role]["revenue"], rtol=1e-12)
        assert_allclose(monthly_sum, r.metrics[role]["revenue"], rtol=1e-12)
        seg_sum = sum(v[role]["revenue"] for v in r.metrics["segments"].values())
        assert_allclose(seg_sum, r.metrics[role]["revenue"], rtol=1e-12)
        by_charge = sum(r.metrics[role][f"revenue_{c}"] for c in CHARGES)
        assert_allclose(by_charge, r.metrics[role]["revenue"], rtol=1e-12)


def test_segment_loads_sum_to_system_load_and_energy_matches_bills():
    """System load is the sum of segment loads; kWh billed equals kWh in the load series."""
    r = _run(scenario_dict())
    for role in ("baseline", "scenario"):
        total = sum(s.load_kw[role] for s in r.segments.values())
        assert_allclose(total, r.system_load_kw[role], rtol=1e-12)
        billed_kwh = sum(s.bills[role].kwh.sum() for s in r.segments.values())
        assert_allclose(billed_kwh, r.metrics[role]["energy_kwh"], rtol=1e-10)


def _no_variation(data):
    for seg in data["populations"]:
        seg["variation"] = {"shift_sd_hours": 0, "daily_sd": 0}
        seg["annual_kwh"] = 5000.0
        seg["behavior"]["elasticity"] = -0.1
    return data


def test_doubling_every_count_doubles_system_load():
    """With per-customer variation off, twice the customers draw exactly twice the load."""
    one = _no_variation(scenario_dict())
    two = copy.deepcopy(one)
    for seg in two["populations"]:
        seg["count"] *= 2
    r1, r2 = _run(one), _run(two)
    for role in ("baseline", "scenario"):
        assert_allclose(r2.system_load_kw[role], 2 * r1.system_load_kw[role], rtol=1e-12)
    assert_allclose(r2.metrics["scenario"]["revenue"], 2 * r1.metrics["scenario"]["revenue"], rtol=1e-12)


@pytest.mark.parametrize("chunk", [STREAM_BLOCK, 2 * STREAM_BLOCK, 10 * STREAM_BLOCK])
def test_same_seed_same_results_whatever_the_block_size(chunk):
    """Metrics and load series are bit-identical however customers are chunked in memory."""
    data = scenario_dict()
    data["populations"][0]["count"] = 2 * STREAM_BLOCK + 500  # three stream blocks, the last partial
    data["horizon"]["days"] = 5
    ref = _run(data, chunk_customers=STREAM_BLOCK)
    got = _run(data, chunk_customers=chunk)
    assert got.metrics == ref.metrics
    for role in ("baseline", "scenario"):
        assert_array_equal(got.system_load_kw[role], ref.system_load_kw[role])


def test_another_seed_gives_other_draws():
    """The seed matters (so the identity above is not vacuous)."""
    a = _run(scenario_dict(seed=1))
    b = _run(scenario_dict(seed=2))
    assert not np.array_equal(a.system_load_kw["baseline"], b.system_load_kw["baseline"])


def test_segment_draws_do_not_depend_on_other_segments():
    """Adding a segment leaves another segment's draws untouched (streams keyed by name)."""
    data = scenario_dict()
    alone = copy.deepcopy(data)
    alone["populations"] = alone["populations"][:1]
    r_all, r_one = _run(data), _run(alone)
    assert_array_equal(r_all.segments["res"].load_kw["baseline"], r_one.segments["res"].load_kw["baseline"])


def test_tou_cuts_load_in_dear_steps_and_raises_it_in_cheap_steps():
    """With elasticities <= 0, load falls where the price rises and rises where it falls."""
    r = _run(scenario_dict())
    seg = r.segments["res"]
    ratio = seg.tariffs["scenario"][0].price_per_kwh / seg.tariffs["baseline"][0].price_per_kwh
    base, scen = seg.load_kw["baseline"], seg.load_kw["scenario"]
    assert (scen[ratio > 1] < base[ratio > 1]).all()
    assert (scen[ratio < 1] > base[ratio < 1]).all()
    assert_array_equal(scen[ratio == 1], base[ratio == 1])


def test_single_customer_bill_matches_its_load_series():
    """One customer: its bill equals an independent sum over its load series, to the cent."""
    data = scenario_dict()
    data["populations"] = data["populations"][:1]
    data["populations"][0]["count"] = 1
    data["horizon"] = {"start": "2024-01-25", "days": 40, "step_minutes": 30}
    r = _run(data)
    seg = r.segments["res"]
    for role in ("baseline", "scenario"):
        load = seg.load_kw[role]
        price = seg.tariffs[role][0].price_per_kwh
        fixed = 3.0 * (7 / 31 + 29 / 29 + 4 / 31) if role == "baseline" else 0.0
        expected = float(np.sum(load * price) * 0.5) + fixed
        assert abs(seg.bills[role].bill[0] - expected) < 0.005


def test_shift_decomposition_on_a_known_change():
    """Energy cut in one step and added in another is shifted; a net cut is foregone."""
    from sim.metrics import shift_decomposition
    base = np.array([2.0, 2.0, 4.0, 4.0, 2.0, 2.0, 4.0, 4.0])
    scen = np.array([3.0, 2.0, 3.0, 3.5, 2.0, 2.0, 4.0, 4.0])
    d = shift_decomposition(base, scen, 4, 1.0)
    assert d["energy_cut_kwh"] == 1.5 and d["energy_added_kwh"] == 1.0
    assert d["energy_shifted_kwh"] == 1.0 and d["energy_foregone_kwh"] == 0.5
    assert d["rebound_max_kw"] == 1.0
    assert d["rebound_days"] == 0  # day 1 peaks at step 3 (3.5 kW), a baseline peak step


def test_consumer_surplus_falls_when_every_price_rises_and_is_zero_without_change():
    data = scenario_dict()
    data["tariffs"]["dear"] = {"type": "flat", "price_per_kwh": 0.6}
    for seg in data["populations"]:
        seg["tariff"]["scenario"] = "dear"
    r = _run(data)
    assert r.metrics["change"]["consumer_surplus_change"] < 0
    for seg in data["populations"]:
        seg["tariff"]["scenario"] = "flat"
    assert _run(data).metrics["change"]["consumer_surplus_change"] == 0
