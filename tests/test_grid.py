"""The supply side: merit-order costs, losses."""

from __future__ import annotations

import numpy as np
import pytest

import sim

from .conftest import build, scenario_dict

CURVE = [{"up_to_kw": 200.0, "cost_per_kwh": 0.2}, {"up_to_kw": 350.0, "cost_per_kwh": 0.4},
         {"cost_per_kwh": 1.0}]


def test_merit_order_cost_follows_the_load_and_losses():
    """Energy cost = sum of load x (1 + losses) x marginal cost at that supply, step by step."""
    data = scenario_dict(grid={"supply_curve": CURVE, "losses_pct": 5.0})
    r = sim.run(build(data))
    for role in ("baseline", "scenario"):
        load = r.system_load_kw[role]
        supply = load * 1.05
        mc = np.where(supply <= 200, 0.2, np.where(supply <= 350, 0.4, 1.0))
        assert r.metrics[role]["energy_cost"] == pytest.approx(float((supply * mc).sum()), rel=1e-12)
    assert len(set(np.unique(r.energy_cost_per_kwh["baseline"]))) > 1  # the load crosses steps


def test_flat_cost_with_losses():
    r = sim.run(build(scenario_dict(grid={"energy_cost_per_kwh": 0.3, "losses_pct": 10.0})))
    assert r.metrics["baseline"]["energy_cost"] == pytest.approx(r.metrics["baseline"]["energy_kwh"] * 0.33, rel=1e-12)


@pytest.mark.parametrize("curve,expected", [
    ([{"up_to_kw": 300, "cost_per_kwh": 0.2}, {"up_to_kw": 200, "cost_per_kwh": 0.4}, {"cost_per_kwh": 1}],
     "supply_curve[1].up_to_kw: steps out of order"),
    ([{"up_to_kw": 300, "cost_per_kwh": 0.4}, {"cost_per_kwh": 0.2}], "a merit order never gets cheaper"),
    ([{"up_to_kw": 300, "cost_per_kwh": 0.4}], "leave the last step open"),
])
def test_bad_supply_curves(curve, expected, write_yaml, capsys):
    from sim.cli import main
    assert main(["validate", str(write_yaml(scenario_dict(grid={"supply_curve": curve})))]) == 2
    assert expected in capsys.readouterr().err


def _rtp_scenario(shape="linear"):
    data = scenario_dict(horizon={"start": "2025-07-01", "days": 10, "step_minutes": 60})
    data["grid"] = {"supply_curve": CURVE, "supply_curve_shape": shape, "losses_pct": 3.0}
    data["tariffs"]["rtp"] = {"type": "rtp", "prices": "system_marginal_cost", "multiplier": 1.2,
                              "adder_per_kwh": 0.05, "damping": 0.5, "tolerance_per_kwh": 1e-7}
    for seg in data["populations"]:
        seg["tariff"]["scenario"] = "rtp"
    return data


def test_rtp_fixed_point_is_stable_to_a_further_iteration():
    """On every day the price equals the price its own scenario load forms (to 1e-5)."""
    from sim.grid.cost import rtp_price_from_load

    sc = build(_rtp_scenario())
    r = sim.run(sc)
    assert all(day["converged"] for day in r.rtp_iterations) and len(r.rtp_iterations) == 10
    assert max(day["iterations"] for day in r.rtp_iterations) > 2  # the load answers the price
    t = r.realized["rtp"]  # what the tariff charged: the prices formed in the run
    formed = rtp_price_from_load(sc.tariffs["rtp"], sc.grid, r.system_load_kw["scenario"])
    assert np.abs(formed - t.rtp_price).max() < 1e-5


def test_system_rtp_needs_a_supply_curve(write_yaml, capsys):
    from sim.cli import main
    data = _rtp_scenario()
    data["grid"] = {"energy_cost_per_kwh": 0.3}
    assert main(["validate", str(write_yaml(data))]) == 2
    assert "grid.supply_curve: required: tariff 'rtp' forms prices from the system load" in capsys.readouterr().err


def test_critical_peak_multiplier_on_prices_formed_from_the_system():
    """A CPP multiplier applies to the day's formed real-time price, not to a zero placeholder."""
    data = _rtp_scenario()
    data["tariffs"]["rtp"]["critical_peak"] = {"price_multiplier": 2.0,
                                               "events": [{"date": "2025-07-03", "hours": "18:00-20:00"}]}
    r = sim.run(build(data))
    t = r.realized["rtp"]  # what the tariff charged: the prices formed in the run
    steps = slice(2 * 24 + 18, 2 * 24 + 20)
    np.testing.assert_allclose(t.cpp_adder[steps], t.rtp_price[steps], rtol=1e-12)
    assert r.metrics["scenario"]["revenue_critical_peak"] > 0
