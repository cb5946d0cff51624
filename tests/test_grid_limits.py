"""Grid limits (sim/grid/limits.py): the network operator's day-ahead grid events on the
transformers and feeders over their limit.

Invariants: the events reach the customers on the affected unit only (the units without
events carry the same bits as the run without limits); the hours over the limit drop
where the controllable load can move; managed EV charging avoids the event steps within
its departure constraint; thermal stores never charge in them; interruptible customers
curtail in them; the same bits across shards, chunks and 1 or 2 Dask workers; bad limit
input exits 2 naming file, line and field. And the examples: the EV timer peak of
large_system's households overloads transformers and managed charging removes it;
feeder_limit.yaml's operator cuts the hours over the limit.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.behavior.ev import EvFleet, charge_ev
from sim.behavior.prices import avoid_steps
from sim.behavior.storage import Store, dispatch_storage
from sim.cli import main
from sim.engine import simulate
from sim.network.analysis import analyze

from .conftest import build, scenario_dict

pytest.importorskip("pandapower")
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _storage_data(count=112, days=3, limit=None):
    """Storage-heated homes under a valley TOU (the timer peak) on 28-customer transformers."""
    data = scenario_dict(horizon={"start": "2024-01-08", "days": days, "step_minutes": 60})
    data["populations"] = [copy.deepcopy(data["populations"][0])]
    data["populations"][0].update(count=count, behavior={
        "model": "thermal_storage", "adoption": 1.0, "thermal_share": 0.6, "capacity_kwh_per_mean_kw": 15.0,
        "power_kw_per_mean_kw": 6.0})
    data["network"] = {"segment": "res", "customers_per_transformer": 28, "transformer_kva": 40,
                       "transformers_per_feeder": 2}
    if limit is not None:
        data["network"]["limit"] = limit
    return data


def _peaks_kva(result) -> np.ndarray:
    nr = analyze(result)
    return nr.transformers_kw[1].max(axis=1) / result.scenario.network.power_factor


def test_events_reach_only_the_customers_of_the_unit_over_its_limit():
    """A limit between the transformers' scenario peaks: the transformers below it get no
    event and carry exactly the load of the run without limits (their customers saw
    nothing); those above it get events and fewer hours over the limit."""
    free = sim.run(build(_storage_data()))
    peaks = _peaks_kva(free)
    limit = float(np.sort(peaks)[len(peaks) // 2 - 1] + np.sort(peaks)[len(peaks) // 2]) / 2
    assert (peaks < limit).any() and (peaks > limit).any()          # the test's premise
    run = sim.run(build(_storage_data(limit={"transformer_kva": limit, "rounds": 2})))
    led = run.grid_limits["ledger"]["transformers"]
    below, above = peaks < limit, peaks > limit
    assert np.all(led["event_days"][1][below] == 0) and np.all(led["event_days"][1][above] > 0)
    assert np.all(led["event_days"][0] == 0)                        # flat price: the baseline stays under
    a, b = analyze(free).transformers_kw, analyze(run).transformers_kw
    assert a[:, below].tobytes() == b[:, below].tobytes()
    assert a[0].tobytes() == b[0].tobytes()                         # baseline role: no events, no change
    over = lambda kw: (kw / run.scenario.network.power_factor > limit).sum()   # noqa: E731
    assert over(b[1][above]) < over(a[1][above])
    # the ledger's hours agree with the load series: the hours over the limit without events
    # are those of the run without limits (no event ever reached it), with them those of the run
    assert led["hours_over_limit"][1].sum() == over(b[1])
    assert led["hours_over_limit_without_events"][1][below].sum() == over(a[1][below])
    m = run.metrics["network"]["limit"]["scenario"]["transformers"]
    assert m["units_with_events"] == int(above.sum()) and m["curtailed_kwh"] > 0


def test_feeder_limit_reaches_every_transformer_of_the_feeder():
    """A feeder limit only: an event on a feeder is an event for each of its transformers."""
    free = sim.run(build(_storage_data(days=2)))
    f_peak = analyze(free).feeders_kw[1].max(axis=1) / 0.95
    run = sim.run(build(_storage_data(days=2, limit={"feeder_kva": float(f_peak.min()) * 0.9, "rounds": 1})))
    led = run.grid_limits["ledger"]
    assert np.all(led["feeders"]["event_days"][1] > 0)
    assert np.all(led["transformers"]["event_days"] == 0)          # no transformer limit: none of their own
    assert "transformers" not in run.metrics["network"]["limit"]["scenario"]
    b = analyze(run).feeders_kw
    assert (b[1].max(axis=1) < analyze(free).feeders_kw[1].max(axis=1)).all()


def test_interruptible_customers_curtail_in_grid_events():
    """Plants with an interruptible contract (no tariff event in the horizon): the grid
    events cut the load of their transformer in the event steps, toward the firm levels."""
    data = scenario_dict(horizon={"start": "2024-01-08", "days": 2, "step_minutes": 60})
    data["populations"] = [{"name": "plants", "customer_class": "industrial", "count": 20,
                            "annual_kwh": {"dist": "lognormal", "mean": 2e6, "cv": 0.5},
                            "interruptible": {"firm_kw_per_mean_kw": 0.5, "compliance": 0.9},
                            "behavior": {"model": "constant_elasticity", "elasticity": -0.05},
                            "tariff": {"baseline": "flat", "scenario": "intr"}}]
    data["tariffs"]["intr"] = {"type": "flat", "price_per_kwh": 0.5,
                               "interruptible": {"credit_per_kw_month": 1.0, "penalty_per_kwh": 1.0}}
    data["network"] = {"segment": "plants", "customers_per_transformer": 5, "transformer_kva": 2000}
    free = analyze(sim.run(build(data))).transformers_kw
    limit = float(free.max() / 0.95 * 0.95)
    data["network"]["limit"] = {"transformer_kva": limit, "rounds": 1}
    run = sim.run(build(data))
    got = analyze(run).transformers_kw
    led = run.grid_limits["ledger"]["transformers"]
    assert led["event_steps"].sum() > 0 and led["curtailed_kwh"].sum() > 0
    events = free / 0.95 > limit                                     # the forecast is the run without limits
    assert np.all(got[events] < free[events]) and np.array_equal(got[~events], free[~events])


@st.composite
def _cars(draw):
    spd = 24
    n = draw(st.integers(1, 5))
    start = np.array(draw(st.lists(st.integers(0, spd - 1), min_size=n, max_size=n)))
    steps = np.array(draw(st.lists(st.integers(1, spd - 1), min_size=n, max_size=n)))
    need = np.array(draw(st.lists(st.floats(0, 60), min_size=n, max_size=n)))
    power = np.array(draw(st.lists(st.sampled_from([3.7, 7.0, 11.0]), min_size=n, max_size=n)))
    price = np.array(draw(st.lists(st.sampled_from([0.1, 0.3, 0.5]), min_size=spd, max_size=spd)))
    event = np.array(draw(st.lists(st.lists(st.booleans(), min_size=spd, max_size=spd), min_size=n, max_size=n)))
    return EvFleet(start, steps, need, power), price, event


@settings(max_examples=150, deadline=None)
@given(_cars())
def test_managed_cars_avoid_grid_events_within_their_departure(case):
    """Each car still gets all that fits in its window by departure, and charges in an
    event step only the part of its need that the window's other steps cannot take."""
    fleet, price, event = case
    ev, short = charge_ev(fleet, avoid_steps(price, event), "managed", 1.0)
    free, _ = charge_ev(fleet, price, "managed", 1.0)
    np.testing.assert_allclose(ev.sum(axis=1), free.sum(axis=1), rtol=1e-9, atol=1e-9)
    for i in range(len(fleet.start)):
        window = np.zeros(24, dtype=bool)
        window[(fleet.start[i] + np.arange(fleet.steps[i])) % 24] = True
        room = fleet.power_kw[i] * (window & ~event[i]).sum()       # kWh the non-event steps can take
        in_events = ev[i, event[i]].sum()
        assert in_events == pytest.approx(max(0.0, min(fleet.need_kwh[i], fleet.power_kw[i] * window.sum()) - room),
                                          abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 6), st.lists(st.sampled_from([0.1, 0.3, 0.6]), min_size=24, max_size=24),
       st.data())
def test_thermal_stores_never_charge_in_grid_events(n, price, data):
    price = np.array(price)
    event = np.array(data.draw(st.lists(st.lists(st.booleans(), min_size=24, max_size=24), min_size=n, max_size=n)))
    load = np.array(data.draw(st.lists(st.lists(st.floats(0, 5), min_size=24, max_size=24), min_size=n, max_size=n)))
    soc = np.array(data.draw(st.lists(st.floats(0, 10), min_size=n, max_size=n)))
    store = Store(np.full(n, 0.6), np.full(n, 10.0), np.full(n, 3.0), np.full(n, 0.95), np.zeros(n))
    _, charge, _ = dispatch_storage(load, avoid_steps(price, event, price), price, store, soc, 1.0)
    assert np.all(charge[event] == 0.0)


def test_same_bits_whatever_the_shards_chunks_and_workers():
    """Two stream blocks, transformers straddling the block edge, grid events: one shard,
    three shards with one block per chunk, and two Dask workers give the same bits."""
    data = _storage_data(count=4200, days=2, limit={"transformer_kva": 30, "rounds": 2})
    data["network"]["customers_per_transformer"] = 37
    sc = build(data)
    one = simulate(sc)
    split = simulate(sc, shards=3, chunk_customers=4096)
    assert one.grid_limits["ledger"]["transformers"]["event_steps"].sum() > 0
    two = sim.run(sc, workers=2)
    assert two.execution["shards"] == 2
    for other in (split, two):
        assert analyze(one).groups_kw.tobytes() == analyze(other).groups_kw.tobytes()
        for kind in ("transformers", "feeders"):
            for f, arr in one.grid_limits["ledger"][kind].items():
                assert arr.tobytes() == other.grid_limits["ledger"][kind][f].tobytes(), (kind, f)
        assert one.grid_limits["log"] == other.grid_limits["log"]
        for name in one.segments:
            for role in ("baseline", "scenario"):
                assert one.segments[name].load_kw[role].tobytes() == other.segments[name].load_kw[role].tobytes()


@pytest.mark.parametrize("limit,expected", [
    ({"transformer_kva": -5}, "network.limit.transformer_kva"),
    ({"feeder_kva": 0}, "network.limit.feeder_kva"),
    ({"rounds": 0}, "network.limit.rounds"),
    ({"transfomer_kva": 10}, "network.limit.transfomer_kva"),
])
def test_bad_limit_input_exits_2_naming_line_and_field(limit, expected, write_yaml, tmp_path, capsys):
    path = write_yaml(_storage_data(limit=limit))
    code = main(["run", str(path), "--results", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and err.startswith(f"{path}:") and "Traceback" not in err
    assert not (tmp_path / "results").exists()


def _example(name: str, **changes):
    data = yaml.safe_load((SCENARIOS / name).read_text())
    data.update(changes)
    return build(data)


def test_large_system_feeders_timer_overloads_and_managed_charging_removes_it():
    timer = sim.run(_example("large_system_feeders.yaml"))
    managed = sim.run(_example("large_system_feeders_managed.yaml"))
    t, m = timer.metrics["network"], managed.metrics["network"]
    assert t["baseline"]["transformers"]["over_rating"] == 0
    assert t["scenario"]["transformers"]["over_rating"] >= 1
    assert m["scenario"]["transformers"]["over_rating"] == 0
    # the overload is the timer's: its largest step rise is at 23:00, the valley's first step
    assert t["scenario"]["transformers"]["max_rise_hour_of_day"] == 23.0
    assert t["scenario"]["transformers"]["max_rise_kw"] > 2 * m["scenario"]["transformers"]["max_rise_kw"]


def test_feeder_limit_example_cuts_the_hours_over_the_limit():
    run = sim.run(_example("feeder_limit.yaml"))
    lim = run.metrics["network"]["limit"]["scenario"]["transformers"]
    assert lim["event_hours"] > 0
    assert lim["hours_over_limit"] < 0.5 * lim["hours_over_limit_without_events"]
    assert run.metrics["network"]["limit"]["baseline"]["transformers"]["event_hours"] == 0
