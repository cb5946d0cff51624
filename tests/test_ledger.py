"""The consumer ledger's identities (sim/ledger.py, docs/metrics.md "Consumer ledger"):
a pure transfer changes welfare by exactly zero; without response the surplus change is
minus the bill change for every customer; the ledger's charges sum to the revenue; the
utility of consumption of a constant-elasticity customer is the integral of its inverse
demand; welfare = consumer surplus change + margin change to rounding."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import sim
from sim.ledger import segment_ledger
from sim.outcome import ROLES
from sim.tariffs import CHARGES

from .conftest import TOU, build, scenario_dict

RUNS = settings(max_examples=6, deadline=None, derandomize=True)

#: The base tariff of every segment: TOU energy with a demand charge and an interruptible
#: contract with one listed event (each model's response has something to act on).
BASE = dict(copy.deepcopy(TOU), demand={"per_kw_month": 8.0}, interruptible={
    "credit_per_kw_month": 2.0, "penalty_per_kwh": 1.5,
    "events": [{"date": "2024-02-22", "hours": "18:00-20:00"}]})


def _every_model(base: dict, scen: dict, **behaviour) -> dict:
    """Segments with every kind of response model on tariffs ``base`` and ``scen``; with
    ``zero=True`` in ``behaviour``, every energy-price elasticity is 0."""
    zero = behaviour.get("zero", False)
    data = scenario_dict(horizon={"start": "2024-02-20", "days": 7, "step_minutes": 60})
    data["tariffs"] = {"base": base, "scen": scen}
    tariff = {"baseline": "base", "scenario": "scen"}
    firm = {"firm_kw_per_mean_kw": 0.7, "compliance": {"dist": "uniform", "low": 0.5, "high": 1.0}}
    data["populations"] = [
        {"name": "homes", "customer_class": "residential", "count": 60, "tariff": tariff, "interruptible": firm,
         "annual_kwh": {"dist": "lognormal", "mean": 3000, "cv": 0.4},
         "behavior": [{"model": "constant_elasticity", "elasticity": 0.0 if zero else -0.2},
                      {"model": "flexible", "share": 0.2, "window": ["17:00-08:00"], "inconvenience_per_kwh": 0.03},
                      {"model": "thermal_storage", "adoption": 0.5, "thermal_share": 0.3,
                       "capacity_kwh_per_mean_kw": 4.0, "power_kw_per_mean_kw": 2.0, "efficiency": 0.9,
                       "loss_per_hour": 0.01}]},
        {"name": "shops", "customer_class": "commercial", "count": 40, "tariff": tariff, "interruptible": firm,
         "annual_kwh": {"dist": "uniform", "low": 20000, "high": 60000},
         "behavior": [{"model": "prism", "substitution": 0.0 if zero else -0.1, "daily": 0.0 if zero else -0.05},
                      {"model": "demand_shaving", "reduction": 0.1}]},
        {"name": "plants", "customer_class": "industrial", "count": 30, "tariff": tariff, "interruptible": firm,
         "annual_kwh": {"dist": "uniform", "low": 50000, "high": 200000},
         "behavior": {"model": "ces", "substitution": 0.0 if zero else -0.1, "daily": 0.0 if zero else -0.05,
                      "flexible_share": 0.5}},
        {"name": "offices", "customer_class": "commercial", "count": 40, "tariff": tariff, "interruptible": firm,
         "annual_kwh": {"dist": "uniform", "low": 20000, "high": 60000},
         "behavior": {"model": "elasticity_matrix", "periods": ["peak", "flat", "valley"],
                      "matrix": [[-0.2, 0.05, 0.05], [0.05, -0.1, 0.02], [0.1, 0.05, -0.1]],
                      "scale": 0.0 if zero else 1.0}},
    ]
    return data


def _check_ledger_sums_to_revenue(r) -> None:
    """Per role and charge, the customers' charges add up to the revenue metrics (rtol 1e-12)."""
    m = r.metrics
    for k, role in enumerate(ROLES):
        total = np.zeros(len(CHARGES))
        for name, seg in r.segments.items():
            led = segment_ledger(seg)
            seg_by_charge = led.charges[k].sum(axis=0)
            entry = m["segments"][name][role]
            assert_allclose(led.bill[k].sum(), entry["revenue"], rtol=1e-12, atol=1e-9)
            for c, v in zip(CHARGES, seg_by_charge):
                assert_allclose(v, entry[f"revenue_{c}"], rtol=1e-12, atol=1e-9)
            total += seg_by_charge
        assert_allclose(total.sum(), m[role]["revenue"], rtol=1e-12, atol=1e-9)


def _check_welfare_identity(m: dict) -> None:
    """welfare = consumer surplus change + margin change, and the segments' ledger terms add up
    to the system's, to rounding (1e-12 of the baseline revenue)."""
    for ch, scale in [(m["change"], m["baseline"]["revenue"])] + [
            (s["change"], s["baseline"]["revenue"]) for s in m["segments"].values()]:
        assert_allclose(ch["consumer_surplus_change"] + ch["margin_change"], ch["welfare_change"],
                        rtol=0, atol=1e-12 * max(scale, 1.0))
    # the segments' terms add up to the system's (capacity cost allocated by coincident peak)
    for key in ("consumer_utility_change", "consumer_surplus_change", "welfare_change"):
        assert_allclose(sum(seg["change"][key] for seg in m["segments"].values()), m["change"][key],
                        rtol=0, atol=1e-12 * max(m["baseline"]["revenue"], 1.0))


@RUNS
@given(fixed=st.floats(0.0, 50.0), per_day=st.floats(0.0, 2.0), tax=st.floats(0.0, 20.0),
       rebate=st.one_of(st.none(), st.tuples(st.floats(0.0, 200.0), st.floats(0.01, 0.5), st.floats(0.0, 1.0))))
def test_a_pure_transfer_changes_welfare_by_exactly_zero(fixed, per_day, tax, rebate):
    """A scenario that differs from the baseline only by a fixed charge, a daily charge, a tax
    on the bill, or a volume rebate with a fixed charge (the response models see energy
    prices before tax, so none of these moves a load): the welfare change is exactly 0 for
    the system and every segment, and every customer's surplus change is exactly minus its
    bill change, whatever the models (constant elasticity, flexible, storage, PRISM, demand
    shaving, CES, the elasticity matrix, curtailment)."""
    scen = dict(copy.deepcopy(BASE), fixed_per_month=fixed, fixed_per_day=per_day, tax_pct=tax)
    if rebate is not None:
        scen["volume_rebate"] = {"threshold_kwh": rebate[0], "cost_saving_per_kwh": rebate[1], "share": rebate[2]}
    r = sim.run(build(_every_model(copy.deepcopy(BASE), scen)))
    m = r.metrics
    assert_array_equal(r.system_load_kw["baseline"], r.system_load_kw["scenario"])
    assert m["change"]["welfare_change"] == 0.0
    assert m["change"]["consumer_utility_change"] == 0.0 and m["change"]["cost_change"] == 0.0
    for name, seg in r.segments.items():
        assert m["segments"][name]["change"]["welfare_change"] == 0.0
        led = segment_ledger(seg)
        assert_array_equal(led.utility_change, 0.0)
        assert_array_equal(led.surplus_change, -led.bill_change)
    # the transfer is what the customers lose and the utility gains (to rounding)
    assert_allclose(m["change"]["consumer_surplus_change"], -m["change"]["revenue_change"], rtol=1e-12, atol=1e-9)
    _check_welfare_identity(m)
    _check_ledger_sums_to_revenue(r)


@RUNS
@given(peak=st.floats(0.3, 2.0), valley=st.floats(0.05, 0.5), fixed=st.floats(0.0, 20.0),
       demand=st.floats(0.0, 30.0), cpp=st.booleans())
def test_zero_elasticity_gives_surplus_change_minus_bill_change_for_every_customer(peak, valley, fixed, demand, cpp):
    """With every energy-price elasticity 0 (constant elasticity, PRISM, CES, the matrix) and a
    scenario tariff of other prices and charges, each customer's surplus change is exactly
    minus its bill change; and the ledger sums to the revenue."""
    scen = copy.deepcopy(BASE)
    scen["periods"]["peak"]["price_per_kwh"] = peak
    scen["periods"]["valley"]["price_per_kwh"] = valley
    scen.update(fixed_per_month=fixed, demand={"per_kw_month": demand})
    if cpp:
        scen["critical_peak"] = {"price_adder_per_kwh": 1.0, "events": [{"date": "2024-02-23", "hours": "17:00-20:00"}]}
    data = _every_model(copy.deepcopy(BASE), scen, zero=True)
    for seg in data["populations"]:          # the energy-price models only
        behaviour = seg["behavior"] if isinstance(seg["behavior"], list) else [seg["behavior"]]
        seg["behavior"] = [b for b in behaviour if b["model"] in ("constant_elasticity", "prism", "ces", "elasticity_matrix")]
    r = sim.run(build(data))
    for name, seg in r.segments.items():
        led = segment_ledger(seg)
        assert_array_equal(led.utility_change, 0.0)     # curtailment in both roles: the same loss
        assert_array_equal(led.surplus_change, -led.bill_change)
    _check_ledger_sums_to_revenue(r)
    _check_welfare_identity(r.metrics)


@pytest.mark.parametrize("e", [-0.3, -1.0])
def test_constant_elasticity_utility_against_the_closed_form_per_customer(e):
    """Households on a flat price that rises from 0.5 to 0.8 with a fixed charge added:
    each keeps ``q1 = r ** e q0`` of its baseline energy ``q0`` (its baseline kWh, billed),
    gains ``dV = p0 q0 e / (1 + e) (r ** (1 + e) - 1)`` (``-p0 q0 ln r`` at ``e = -1``) of
    utility, the integral of its inverse demand, and its surplus change is ``dV`` minus its
    bill change. Welfare is ``sum dV`` minus the change of energy cost (no capacity cost)."""
    data = scenario_dict(horizon={"start": "2024-02-20", "days": 7, "step_minutes": 60})
    data["tariffs"] = {"flat": {"type": "flat", "price_per_kwh": 0.5},
                       "dear": {"type": "flat", "price_per_kwh": 0.8, "fixed_per_month": 4.0}}
    data["populations"] = data["populations"][:1]
    data["populations"][0].update(behavior={"model": "constant_elasticity", "elasticity": e},
                                  tariff={"baseline": "flat", "scenario": "dear"})
    data["grid"] = {"energy_cost_per_kwh": 0.3, "capacity_cost_per_kw_year": 0.0}
    r = sim.run(build(data))
    seg = r.segments["res"]
    led = segment_ledger(seg)
    q0, q1 = seg.bills["baseline"].kwh, seg.bills["scenario"].kwh
    ratio = 0.8 / 0.5
    assert_allclose(q1, q0 * ratio ** e, rtol=1e-12)
    dv = 0.5 * q0 * (e / (1 + e) * (ratio ** (1 + e) - 1) if e != -1 else -np.log(ratio))
    assert_allclose(led.utility_change, dv, rtol=1e-9)
    assert_allclose(led.surplus_change, dv - led.bill_change, rtol=1e-12)
    m = r.metrics["change"]
    assert_allclose(m["welfare_change"], dv.sum() - 0.3 * (q1 - q0).sum(), rtol=1e-9)
    # a price above the cost of supply: the fall in consumption is a deadweight loss
    assert m["welfare_change"] < 0 < m["margin_change"]
    _check_welfare_identity(r.metrics)


def test_the_ledger_is_the_same_bits_across_shards_and_chunks():
    """Every model's utility term, summed per customer as the days pass, and the ledger's
    metrics: the same bits in one process and in three shards with smaller chunks (segments
    of two stream blocks; the elasticity matrix and CES included, which tests/test_scale.py's
    mixed scenario does not have)."""
    import json

    from sim.engine import simulate
    from sim.metrics import compute

    scen = copy.deepcopy(BASE)
    scen["periods"]["peak"]["price_per_kwh"] = 1.3
    scen.update(fixed_per_month=5.0, demand={"per_kw_month": 12.0})
    data = _every_model(copy.deepcopy(BASE), scen)
    data["horizon"]["days"] = 3
    for seg in data["populations"]:
        seg["count"] = 4200                   # two stream blocks each
    sc = build(data)
    one = sim.run(sc)
    shards = simulate(sc, shards=3, chunk_customers=2048)
    shards.metrics = compute(shards)
    assert shards.execution["shards"] == 3
    assert json.dumps(shards.metrics, sort_keys=True) == json.dumps(one.metrics, sort_keys=True)
    for name, seg in one.segments.items():
        a, b = segment_ledger(seg), segment_ledger(shards.segments[name])
        assert a.utility.tobytes() == b.utility.tobytes() and a.charges.tobytes() == b.charges.tobytes()
        assert (a.utility_change != 0).any()          # something to compare
