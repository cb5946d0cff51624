"""The behaviour model registry: a model registered from outside the package runs in a whole
simulation, its parameters drawn per customer through the registry's one mechanism.

This is the recipe of docs/architecture.md ("Add a behaviour model") followed step by step.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import sim
from sim.behavior.registry import CustomerParams, ResponseDay, ResponseModel, register, registered, unregister
from sim.calendar import Calendar
from sim.population import build_segment
from sim.scenario.base import Model, Param

from .conftest import build, scenario_dict


# 1. The model's settings: what a scenario gives it (here built in the test; a built-in
#    model's settings class sits in sim/scenario/behavior.py, in the `behavior` union).
class ToyCutSettings(Model):
    model: Literal["toy_cut"]
    cut: Param            # share of every step's load each customer gives up under the scenario


# 2. The model: its per-customer parameters, where it acts, and its response.
class ToyCut(ResponseModel):
    """Every step of the scenario role's load cut by the customer's share ``cut``, whatever
    the prices (a toy: the simplest response whose effect a test can state exactly)."""

    name = "toy_cut"
    params = ("cut",)
    stage = 15                    # after the energy-price models, before demand shaving
    roles = ("scenario",)

    def respond(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        return load * (1.0 - params.cut[day.idx])[:, None]

    def utility(self, before: np.ndarray, after: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        # the energy given up, valued at its price (the first-order value of what is lost)
        return ((after - before) * day.own.price).sum(axis=1) * day.step_hours


@pytest.fixture
def toy():
    register(ToyCut)              # 3. one registration
    yield ToyCut
    unregister(ToyCut.name)


def _scenario(cut):
    data = scenario_dict(horizon={"start": "2025-03-03", "days": 14, "step_minutes": 60})
    sc = build(data)
    segments = [s.model_copy(update={"behavior": ToyCutSettings(model="toy_cut", cut=cut)}) for s in sc.populations]
    return sc.model_copy(update={"populations": segments})


def test_a_registered_toy_model_runs_in_a_whole_simulation(toy):
    """A constant cut of 10 %: the scenario's system load is 0.9 x the baseline's in every
    step (loads, energy and bills follow), and nothing else responds."""
    r = sim.run(_scenario(0.1))
    assert_allclose(r.system_load_kw["scenario"], 0.9 * r.system_load_kw["baseline"], rtol=1e-12)
    assert r.metrics["change"]["energy_kwh_change_pct"] == pytest.approx(-10.0, rel=1e-9)
    for seg in r.segments.values():
        assert_allclose(seg.bills["scenario"].kwh, 0.9 * seg.bills["baseline"].kwh, rtol=1e-12)


def test_a_registered_models_utility_term_reaches_the_consumer_ledger(toy):
    """The toy's utility term, defined in its own class, is what the ledger counts: on a flat
    scenario price of 0.6 (scenario_dict's TOU replaced), a cut of 10 % loses each customer
    0.1 x 0.6 x its baseline kWh of utility, and its surplus change is that less its bill
    change (rtol 1e-9)."""
    from sim.ledger import segment_ledger

    sc = _scenario(0.1)
    flat = sc.tariffs["flat"].model_copy(update={"price_per_kwh": 0.6, "fixed_per_month": 0.0})
    sc = sc.model_copy(update={"tariffs": {**sc.tariffs, "tou": flat}})
    r = sim.run(sc)
    for seg in r.segments.values():
        led = segment_ledger(seg)
        expected = -0.1 * 0.6 * seg.bills["baseline"].kwh
        assert_allclose(led.utility_change, expected, rtol=1e-9)
        assert_allclose(led.surplus_change, expected - led.bill_change, rtol=1e-9)
    assert r.metrics["change"]["consumer_utility_change"] < 0


def test_the_toy_models_parameters_are_drawn_per_customer_from_the_seed(toy):
    """A distribution gives each customer its own cut, drawn from its stream block: the same
    draws for the same seed, and the run's loads follow them customer by customer."""
    sc = _scenario({"dist": "uniform", "low": 0.0, "high": 0.3})
    cal = Calendar.from_scenario(sc)
    seg = sc.populations[0]
    a, b = build_segment(seg, cal, sc.seed), build_segment(seg, cal, sc.seed)
    cut = a.params["toy_cut"].cut
    assert_array_equal(cut, b.params["toy_cut"].cut)
    assert cut.shape == (a.n,) and 0.0 <= cut.min() < cut.max() <= 0.3 and np.unique(cut).size == a.n
    r = sim.run(sc)
    bills = r.segments[seg.name].bills
    assert_allclose(bills["scenario"].kwh, (1.0 - cut) * bills["baseline"].kwh, rtol=1e-12)


def test_registration_checks_what_a_model_declares(toy):
    assert registered()["toy_cut"] is ToyCut
    assert {"constant_elasticity", "elasticity_matrix", "prism", "demand_shaving", "flexible",
            "thermal_storage"} <= set(registered())

    class Other(ToyCut):
        pass

    with pytest.raises(ValueError, match="already registered"):
        register(Other)                                   # the same name twice

    class NoRespond(ResponseModel):
        name = "no_respond"

    with pytest.raises(TypeError, match="defines no respond"):
        register(NoRespond)

    class NoName(ResponseModel):
        def respond(self, load, day, params):
            return load

    with pytest.raises(TypeError, match="declares no model name"):
        register(NoName)


# ------------------------------------------------------------------------------- metrics

def test_a_registered_metric_reaches_metrics_json_in_its_place(toy):
    """docs/architecture.md, "Add a metric": a function registered in a scope is computed for
    every run and its keys come after those registered before it."""
    from sim import metrics

    @metrics.metric("segment_change", name="toy_energy_ratio")
    def energy_ratio(run, name, entry, c):
        return {"toy_energy_ratio": entry["scenario"]["energy_kwh"] / entry["baseline"]["energy_kwh"]}

    try:
        m = sim.run(_scenario(0.25)).metrics
    finally:
        metrics.unregister("segment_change", "toy_energy_ratio")
    for entry in m["segments"].values():
        assert entry["change"]["toy_energy_ratio"] == pytest.approx(0.75, rel=1e-12)
        assert list(entry["change"])[-1] == "toy_energy_ratio"
    assert "toy_energy_ratio" not in sim.run(_scenario(0.25)).metrics["segments"]["res"]["change"]
    with pytest.raises(ValueError, match="scope must be one of"):
        metrics.metric("nowhere")
    with pytest.raises(ValueError, match="already registered"):
        metrics.metric("role", name="system_load_balance")(lambda run, role, m: {})


# ------------------------------------------------------------------------------- charges

def test_every_charge_is_billed_by_one_registered_function():
    """docs/architecture.md, "Add a tariff charge": each charge of CHARGES but the minimum
    bill and tax (taken on the subtotal) has its monthly function, and no other name can
    be registered."""
    from sim.tariffs.charges import CHARGES, MONTHLY_CHARGES, monthly_charge

    assert set(MONTHLY_CHARGES) == set(CHARGES) - {"minimum", "tax"}
    with pytest.raises(ValueError, match="add it to CHARGES first"):
        monthly_charge("toy_levy")
    with pytest.raises(ValueError, match="already has its monthly function"):
        monthly_charge("energy")
