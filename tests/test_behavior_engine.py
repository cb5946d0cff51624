"""Behaviour models and participation inside whole runs: the invariants each keeps."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import sim
from sim.calendar import Calendar
from sim.population import build_segment

from .conftest import build, scenario_dict


def _with_behavior(behavior, participation=None, **changes):
    data = scenario_dict(**changes)
    for seg in data["populations"]:
        seg["behavior"] = copy.deepcopy(behavior)
        if participation:
            seg["participation"] = copy.deepcopy(participation)
    return data


FLEX = {"model": "flexible", "share": {"dist": "uniform", "low": 0.05, "high": 0.3}, "window": ["16:00-08:00"],
        "max_kw_per_mean_kw": 3.0, "inconvenience_per_kwh": 0.02}
PRISM_PURE = {"model": "prism", "substitution": -0.15, "daily": 0.0}


@pytest.mark.parametrize("behavior", [[FLEX], [PRISM_PURE], [PRISM_PURE, FLEX]], ids=["flexible", "prism", "both"])
def test_pure_shifting_conserves_every_customers_energy(behavior):
    """Deferrable loads and PRISM with no daily elasticity move energy, never create or lose it."""
    r = sim.run(build(_with_behavior(behavior)))
    for seg in r.segments.values():
        assert_allclose(seg.bills["scenario"].kwh, seg.bills["baseline"].kwh, rtol=1e-10)
    assert not np.allclose(r.system_load_kw["scenario"], r.system_load_kw["baseline"])
    ch = r.metrics["change"]
    assert ch["energy_foregone_kwh"] == pytest.approx(0.0, abs=1e-6 * ch["energy_cut_kwh"])


@pytest.mark.parametrize("behavior", [
    {"model": "prism", "substitution": 0.0, "daily": 0.0},
    {"model": "flexible", "share": 0.0},
    {"model": "elasticity_matrix", "periods": ["peak", "flat", "valley"], "matrix": [[0, 0, 0]] * 3},
    {"model": "constant_elasticity", "elasticity": 0.0},
], ids=["prism", "flexible", "matrix", "constant"])
def test_zero_parameters_give_zero_response(behavior):
    r = sim.run(build(_with_behavior(behavior)))
    assert_array_equal(r.system_load_kw["scenario"], r.system_load_kw["baseline"])


def test_elasticity_matrix_cuts_the_dear_period():
    m = {"model": "elasticity_matrix", "periods": ["peak", "flat", "valley"],
         "matrix": [[-0.2, 0.05, 0.05], [0.02, -0.1, 0.02], [0.03, 0.03, -0.05]]}
    r = sim.run(build(_with_behavior(m)))
    seg = r.segments["res"]
    ratio = seg.tariffs["scenario"][0].price_per_kwh / seg.tariffs["baseline"][0].price_per_kwh
    peak = ratio == ratio.max()
    assert (seg.load_kw["scenario"][peak] < seg.load_kw["baseline"][peak]).all()


def test_demand_shaving_never_raises_a_customers_monthly_peak():
    data = _with_behavior({"model": "demand_shaving", "reduction": 0.1, "max_shift_share": 0.5})
    data["tariffs"]["tou"]["demand"] = {"per_kw_month": 30.0}
    r = sim.run(build(data))
    for seg in r.segments.values():
        b, s = seg.bills["baseline"].peak_kw, seg.bills["scenario"].peak_kw
        assert (s <= b + 1e-9).all() and (s < b - 1e-6).any()
        assert_allclose(seg.bills["scenario"].kwh, seg.bills["baseline"].kwh, rtol=1e-10)


def test_thermal_storage_state_stays_within_capacity():
    st = {"model": "thermal_storage", "adoption": 0.5, "thermal_share": 0.4, "capacity_kwh_per_mean_kw": 5.0,
          "power_kw_per_mean_kw": 2.0, "efficiency": 0.9, "loss_per_hour": 0.01}
    r = sim.run(build(_with_behavior(st)))
    cal = Calendar.from_scenario(r.scenario)
    for seg in r.segments.values():
        pop = build_segment(seg.spec, cal, r.scenario.seed)  # the same customers, drawn again from the seed
        cap = pop.params["thermal_storage"].capacity_kwh_per_mean_kw * pop.load.mean_kw
        for role in ("baseline", "scenario"):
            soc = seg.soc["thermal_storage"][role]
            assert (soc >= -1e-9).all() and (soc <= cap + 1e-9).all()
        # customers without storage keep their load: compare one adopted-less customer's bill
        adopted = pop.params["thermal_storage"].adopted > 0
        assert adopted.any() and not adopted.all()
    assert r.metrics["change"]["energy_added_kwh"] > 0


def test_enrolment_puts_a_share_on_the_scenario_tariff_and_leaves_the_rest_alone():
    data = _with_behavior({"model": "constant_elasticity", "elasticity": -0.2},
                          {"enrolment": {"mode": "opt_in", "share": 0.3}})
    data["populations"][0]["count"] = 3000
    r = sim.run(build(data))
    seg = r.segments["res"]
    choice = seg.bills["scenario"].choice
    assert abs((choice == 0).mean() - 0.3) < 0.03
    stay = choice == 1
    assert_allclose(seg.bills["scenario"].bill[stay], seg.bills["baseline"].bill[stay], rtol=1e-12)


def test_awareness_and_learning_make_late_response_stronger():
    """With awareness growing and learning between bills, the last weeks respond more than the first."""
    part = {"awareness": {"start": 0.2, "end": 1.0}, "learning": {"initial": 0.3, "rate": 0.5}}
    data = _with_behavior({"model": "constant_elasticity", "elasticity": -0.2}, part,
                          horizon={"start": "2025-03-03", "days": 84, "step_minutes": 60})
    r = sim.run(build(data))
    diff = np.abs(r.system_load_kw["scenario"] - r.system_load_kw["baseline"]) / r.system_load_kw["baseline"]
    first, last = diff[:14 * 24].mean(), diff[-14 * 24:].mean()
    assert last > 2 * first


def test_enabling_technology_strengthens_the_response():
    base = _with_behavior({"model": "constant_elasticity", "elasticity": -0.1})
    tech = _with_behavior({"model": "constant_elasticity", "elasticity": -0.1},
                          {"enabling_technology": {"share": 1.0, "response_multiplier": 2.0}})
    a, b = sim.run(build(base)), sim.run(build(tech))
    assert b.metrics["change"]["energy_cut_kwh"] > 1.5 * a.metrics["change"]["energy_cut_kwh"] > 0


def test_demand_shaving_does_nothing_when_the_tariff_does_not_change():
    """The same tariff with a demand charge in both roles: no response at all."""
    data = _with_behavior({"model": "demand_shaving", "reduction": 0.1})
    data["tariffs"]["flat"]["demand"] = {"per_kw_month": 30.0}
    for seg in data["populations"]:
        seg["tariff"]["scenario"] = "flat"
    r = sim.run(build(data))
    assert_array_equal(r.system_load_kw["scenario"], r.system_load_kw["baseline"])


def test_event_fatigue_weakens_response_on_consecutive_event_days():
    """With fatigue 0.5, the third of three consecutive event days responds a quarter as much."""
    events = [{"date": f"2024-02-2{k}", "hours": "17:00-20:00"} for k in (1, 2, 3)]

    def run(fatigue):
        data = _with_behavior({"model": "constant_elasticity", "elasticity": -0.2}, {"event_fatigue": fatigue})
        data["tariffs"]["cpp"] = {"type": "flat", "price_per_kwh": 0.5,
                                  "critical_peak": {"price_adder_per_kwh": 1.0, "events": events}}
        for seg in data["populations"]:
            seg["tariff"]["scenario"] = "cpp"
        r = sim.run(build(data))
        cut = r.system_load_kw["baseline"] - r.system_load_kw["scenario"]
        return [cut[(d * 24) + 17:(d * 24) + 20].sum() for d in (1, 2, 3)]  # horizon starts 2024-02-20

    fresh, tired = run(1.0), run(0.5)
    assert tired[0] == pytest.approx(fresh[0], rel=1e-9)
    assert tired[2] < 0.3 * fresh[2] and tired[1] < 0.55 * fresh[1]
