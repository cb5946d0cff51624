"""Event programmes, storage meters and tariff menus: billing and the invariants they keep."""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pytest
from numpy.testing import assert_allclose
from pydantic import TypeAdapter

import sim
from sim.calendar import Calendar
from sim.scenario.tariff import Tariff
from sim.tariffs import CHARGES, bill_loads, compile_tariff

from .conftest import build, scenario_dict

FLAT = {"type": "flat", "price_per_kwh": 0.5}


def _bill(spec, cal, load, **kw):
    t = compile_tariff("t", TypeAdapter(Tariff).validate_python(spec), cal)
    return bill_loads(t, load, cal, keep_monthly=True, **kw)


def _ref_cbl(history_days, event_steps, highest):
    """Mean of the `highest` days by event-window energy, from a plain list of days."""
    ranked = sorted(history_days, key=lambda day: -sum(day[s] for s in event_steps))[:highest]
    return [sum(day[s] for day in ranked) / len(ranked) for s in event_steps]


def test_peak_time_rebate_pays_for_load_below_the_high_3_of_10_baseline():
    cal = Calendar(dt.date(2025, 6, 2), 28, 24, frozenset(), {})  # starts on a Monday
    ev_day = dt.date(2025, 6, 24)  # a Tuesday with 15 weekdays before it
    spec = dict(FLAT, peak_time_rebate={"rebate_per_kwh": 2.0, "events": [{"date": ev_day, "hours": "17:00-20:00"}]})
    rng = np.random.default_rng(5)
    load = rng.gamma(4.0, 0.5, size=(3, cal.n_steps))
    acc = _bill(spec, cal, load)
    d_ev = (ev_day - cal.start).days
    weekdays = [d for d in range(d_ev) if (cal.start + dt.timedelta(days=d)).weekday() < 5]
    steps = [17, 18, 19]
    for i in range(3):
        days = [load[i, d * 24:(d + 1) * 24].tolist() for d in weekdays[-10:]]
        cbl = _ref_cbl(days, steps, 3)
        saved = sum(max(0.0, c - load[i, d_ev * 24 + s]) for c, s in zip(cbl, steps))
        # the history of recent days is kept in float32 (memory): rtol 1e-6, far below a cent here
        assert acc.total[i, CHARGES.index("peak_time_rebate")] == pytest.approx(-2.0 * saved, rel=1e-6)


def test_interruptible_credit_and_penalty():
    cal = Calendar(dt.date(2025, 7, 1), 31, 24, frozenset(), {})
    spec = dict(FLAT, interruptible={
        "credit_per_kw_month": 10.0, "credit_per_kw_event": 3.0, "penalty_per_kwh": 4.0,
        "limits": {"max_events_per_year": 5, "max_hours_per_event": 4},
        "events": [{"date": dt.date(2025, 7, 10), "hours": "14:00-17:00"},
                   {"date": dt.date(2025, 7, 20), "hours": "15:00-18:00"}]})
    load = np.full((2, cal.n_steps), 5.0)
    load[:, 9 * 24 + 15] = 9.0  # 15:00 on the 10th, inside the first event
    firm = np.array([4.0, 6.0])
    acc = _bill(spec, cal, load, firm_kw=firm)
    interruptible_kw = np.maximum(9.0 - firm, 0)
    assert_allclose(acc.total[:, CHARGES.index("interruptible_credit")], -(10.0 + 3.0 * 2) * interruptible_kw)
    excess = np.array([(5 - 4) * 5 + (9 - 4), (9 - 6)])  # kWh above firm in the 6 event hours
    assert_allclose(acc.total[:, CHARGES.index("interruptible_penalty")], 4.0 * excess)


def test_interruptible_events_beyond_the_contract_limits_are_bad_input():
    spec = dict(FLAT, interruptible={"limits": {"max_events_per_year": 1, "max_hours_per_event": 2, "months": [7]},
                                     "events": [{"date": dt.date(2025, 7, 1), "hours": "14:00-17:00"},
                                                {"date": dt.date(2025, 8, 1), "hours": "14:00-15:00"}]})
    with pytest.raises(Exception) as e:
        TypeAdapter(Tariff).validate_python(spec)
    text = str(e.value)
    assert "exceeds limits.max_hours_per_event" in text and "outside limits.months" in text
    assert "exceed limits.max_events_per_year" in text


def _programme_scenario():
    data = scenario_dict(horizon={"start": "2025-07-01", "days": 31, "step_minutes": 60})
    data["tariffs"]["ibp"] = dict(copy.deepcopy(FLAT), interruptible={
        "credit_per_kw_month": 8.0, "penalty_per_kwh": 6.0,
        "events": [{"date": "2025-07-15", "hours": "14:00-18:00"}, {"date": "2025-07-22", "hours": "13:00-17:00"}]})
    shops = data["populations"][1]
    shops["tariff"] = {"baseline": "flat", "scenario": "ibp"}
    shops["interruptible"] = {"firm_kw_per_mean_kw": 0.8, "compliance": {"dist": "uniform", "low": 0.5, "high": 1.0}}
    return data


def test_curtailment_happens_only_in_called_events():
    r = sim.run(build(_programme_scenario()))
    seg = r.segments["shops"]
    event = seg.tariffs["scenario"][0].intr_event
    base, scen = seg.load_kw["baseline"], seg.load_kw["scenario"]
    # flat prices are equal, so outside events nothing may change
    assert_allclose(scen[~event], base[~event], rtol=1e-12)
    assert (scen[event] <= base[event] + 1e-9).all() and (scen[event] < base[event]).any()


def test_storage_meter_billed_at_its_own_rate_and_counted_in_system_load():
    data = scenario_dict(horizon={"start": "2025-01-06", "days": 7, "step_minutes": 60})
    data["populations"] = data["populations"][:1]
    seg = data["populations"][0]
    seg["storage"] = {"kwh_per_day": 8.0, "charge_hours": ["23:00-07:00"]}
    seg["tariff"]["scenario"] = "tou_storage"
    data["tariffs"]["tou_storage"] = dict(copy.deepcopy(data["tariffs"]["tou"]), storage_rate={"price_per_kwh": 0.1})
    r = sim.run(build(data))
    s = r.segments["res"]
    n = s.n
    storage = s.bills["scenario"].total[:, CHARGES.index("storage_energy")]
    assert_allclose(storage, 8.0 * 7 * 0.1, rtol=1e-12)
    # the baseline flat tariff has no storage rate: the storage load is on the main meter
    assert (s.bills["baseline"].total[:, CHARGES.index("storage_energy")] == 0).all()
    assert_allclose(s.bills["baseline"].kwh.sum() - s.bills["scenario"].kwh.sum(),
                    r.metrics["baseline"]["energy_kwh"] - r.metrics["scenario"]["energy_kwh"] + n * 56, rtol=1e-9)
    night = np.tile(np.r_[np.ones(7), np.zeros(16), np.ones(1)].astype(bool), 7)
    assert (s.load_kw["baseline"][night] > n * 1.0).all()  # every customer adds 1 kW while charging


def test_menu_shares_and_bills_follow_each_customers_tariff():
    data = scenario_dict()
    data["populations"][0]["count"] = 4000
    data["populations"][0]["tariff"]["scenario"] = [{"tariff": "tou", "share": 0.25}, {"tariff": "flat", "share": 0.75}]
    r = sim.run(build(data))
    seg = r.segments["res"]
    choice = seg.bills["scenario"].choice
    assert abs((choice == 0).mean() - 0.25) < 0.03
    flat_customers = choice == 1
    # customers who keep the flat tariff face no price change: same load, same bill
    b, s = seg.bills["baseline"], seg.bills["scenario"]
    assert_allclose(s.bill[flat_customers], b.bill[flat_customers], rtol=1e-12)
    assert not np.allclose(s.bill[~flat_customers], b.bill[~flat_customers])
    assert r.metrics["segments"]["res"]["scenario_tariff_customers"] == {"tou": int((choice == 0).sum()),
                                                                         "flat": int(flat_customers.sum())}
    assert_allclose(sum(x.bills["scenario"].bill.sum() for x in r.segments.values()), r.metrics["scenario"]["revenue"],
                    rtol=1e-12)


def test_menu_shares_must_sum_to_one(write_yaml, capsys):
    from sim.cli import main
    data = scenario_dict()
    data["populations"][0]["tariff"]["scenario"] = [{"tariff": "tou", "share": 0.5}, {"tariff": "nope", "share": 0.4}]
    assert main(["validate", str(write_yaml(data))]) == 2
    err = capsys.readouterr().err
    assert "menu shares must sum to 1; they sum to 0.9" in err
    assert "populations[0].tariff.scenario[1].tariff: unknown tariff 'nope'" in err


def _choice_scenario(**choice):
    data = scenario_dict(horizon={"start": "2025-01-01", "days": 90, "step_minutes": 60})
    data["populations"] = data["populations"][:1]
    data["populations"][0]["count"] = 600
    data["populations"][0]["tariff"]["scenario"] = [{"tariff": "tou", "share": 0.5}, {"tariff": "flat", "share": 0.5}]
    if choice:
        data["populations"][0]["tariff"]["choice"] = choice
    return data


def test_menu_without_reviews_bills_like_a_fixed_menu():
    """Choice with review probability 0 changes nobody's tariff: the same bills as a fixed menu."""
    fixed = sim.run(build(_choice_scenario()))
    still = sim.run(build(_choice_scenario(review_probability=0.0)))
    assert_allclose(still.segments["res"].bills["scenario"].bill, fixed.segments["res"].bills["scenario"].bill,
                    rtol=1e-12)
    assert still.metrics["segments"]["res"]["choice"]["switches"] == 0


def test_customers_move_to_the_tariff_that_billed_them_least():
    """With every customer reviewing and no threshold, each ends on last month's cheapest tariff."""
    r = sim.run(build(_choice_scenario(review_probability=1.0, threshold_pct=0.0)))
    bills = r.segments["res"].bills["scenario"]
    last = bills.shadow_last_month  # (options, customers): the last month billed on every tariff
    cheapest = last.argmin(axis=0)
    differs = np.abs(last[0] - last[1]) > 1e-9
    assert (bills.choice[differs] == cheapest[differs]).all()
    assert r.metrics["segments"]["res"]["choice"]["switched_share"] > 0
    assert_allclose(bills.bill.sum(), r.metrics["scenario"]["revenue"], rtol=1e-12)


def test_structural_winners_save_on_their_baseline_load():
    """A TOU tariff that equals the flat rate in every hour makes no structural winner."""
    data = _choice_scenario(review_probability=1.0, threshold_pct=0.0)
    for p in data["tariffs"]["tou"]["periods"].values():
        p["price_per_kwh"] = data["tariffs"]["flat"]["price_per_kwh"]
    data["tariffs"]["tou"]["fixed_per_month"] = data["tariffs"]["flat"]["fixed_per_month"]
    m = sim.run(build(data)).metrics["segments"]["res"]["choice"]
    assert m["structural_winners_share"] == 0 and m["revenue_lost_to_structural_winners"] == 0
    cheap = _choice_scenario(review_probability=1.0, threshold_pct=0.0)
    cheap["tariffs"]["tou"]["periods"] = {"peak": {"price_per_kwh": 0.6}, "flat": {"price_per_kwh": 0.45},
                                          "valley": {"price_per_kwh": 0.3}}
    r = sim.run(build(cheap))
    m2 = r.metrics["segments"]["res"]["choice"]
    assert m2["structural_winners_share"] > 0 and m2["revenue_lost_to_structural_winners"] > 0
    seg = r.segments["res"]
    on_tou = seg.bills["scenario"].choice == 0
    saving = seg.bills["baseline"].bill - seg.structural_bill[0]
    assert m2["revenue_lost_to_structural_winners"] == pytest.approx(saving[on_tou & (saving > 0.005)].sum())


@pytest.mark.parametrize("compliance", [1.0, 0.5])
def test_interruptible_performance_equals_compliance(compliance):
    """Delivered / requested energy in events equals the (uniform) compliance."""
    data = _programme_scenario()
    data["populations"][1]["interruptible"]["compliance"] = compliance
    c = sim.run(build(data)).metrics["segments"]["shops"]["change"]
    assert c["interruptible_requested_kwh"] > 0
    assert c["interruptible_performance"] == pytest.approx(compliance, rel=1e-9)


def test_menu_with_as_many_customers_as_steps_of_a_day():
    """A chunk of exactly 24 customers on a menu: shared price vectors are not mistaken for
    per-customer arrays (a shape coincidence)."""
    data = scenario_dict()
    data["populations"] = data["populations"][:1]
    data["populations"][0]["count"] = 24
    data["populations"][0]["tariff"]["scenario"] = [{"tariff": "tou", "share": 0.5}, {"tariff": "flat", "share": 0.5}]
    r = sim.run(build(data))
    seg = r.segments["res"]
    stay = seg.bills["scenario"].choice == 1
    assert stay.any() and (~stay).any()
    assert_allclose(seg.bills["scenario"].bill[stay], seg.bills["baseline"].bill[stay], rtol=1e-12)
