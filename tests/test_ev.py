"""Home EV charging (``model: ev``, sim/behavior/ev.py): each car's energy by its departure,
the charger's rating, the timer, the least-cost managed schedule (against an LP), the same
bits across shards and chunks, and an adoption of 0 leaving every other output alone."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import sim
from sim.behavior.ev import EvFleet, charge_ev, window_steps
from sim.behavior.prices import PriceRows
from sim.cli import main
from sim.engine import simulate
from sim.metrics import compute

from .conftest import build, scenario_dict

MODES = ("unmanaged", "timer", "managed")


@st.composite
def fleets(draw):
    """A few cars, a day of 24 or 48 steps, and prices with ties (few levels)."""
    spd = draw(st.sampled_from([24, 48]))
    n = draw(st.integers(1, 6))
    start = np.array(draw(st.lists(st.integers(0, spd - 1), min_size=n, max_size=n)))
    steps = np.array(draw(st.lists(st.integers(0, spd - 1), min_size=n, max_size=n)))
    need = np.array(draw(st.lists(st.floats(0, 80), min_size=n, max_size=n)))
    power = np.array(draw(st.lists(st.sampled_from([0.0, 2.3, 3.7, 7.0, 11.0]), min_size=n, max_size=n)))
    levels = draw(st.lists(st.floats(-0.1, 2.0), min_size=1, max_size=4))
    price = np.array(draw(st.lists(st.sampled_from(levels), min_size=spd, max_size=spd)))
    return EvFleet(start, steps, need, power), price, 24.0 / spd


def _window(fleet: EvFleet, spd: int) -> np.ndarray:
    """Each car's plug-in steps as a mask (n, spd), computed independently of the kernel."""
    mask = np.zeros((fleet.start.size, spd), dtype=bool)
    for i, (s, L) in enumerate(zip(fleet.start, fleet.steps)):
        for k in range(L):
            mask[i, (s + k) % spd] = True
    return mask


@settings(max_examples=200, deadline=None)
@given(fleets(), st.sampled_from(MODES))
def test_every_car_gets_what_fits_by_its_departure_within_its_rating(case, mode):
    fleet, price, h = case
    spd = price.size
    ev, short = charge_ev(fleet, price, mode, h)
    fits = np.minimum(fleet.need_kwh, fleet.power_kw * h * fleet.steps)
    np.testing.assert_allclose(ev.sum(axis=1) * h, fits, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(short, fleet.need_kwh - fits, rtol=1e-12, atol=1e-9)
    assert (ev >= 0).all()
    assert (ev <= fleet.power_kw[:, None]).all()                    # never above the charger's rating
    assert (ev[~_window(fleet, spd)] == 0).all()                    # only while plugged in


@settings(max_examples=200, deadline=None)
@given(fleets(), st.integers(0, 47))
def test_a_timer_car_starts_no_earlier_than_its_timer_when_the_need_fits_after_it(case, timer):
    fleet, price, h = case
    spd = price.size
    timer %= spd
    ev, _ = charge_ev(fleet, price, "timer", h, timer_step=timer)
    for i in range(fleet.start.size):
        s, L, cap = fleet.start[i], fleet.steps[i], fleet.power_kw[i] * h
        k0 = (timer - s) % spd
        e = min(fleet.need_kwh[i], cap * L)
        if k0 >= L or e == 0:
            continue
        charged = [k for k in range(L) if ev[i, (s + k) % spd] > 0]
        if (L - k0) * cap >= e:
            assert min(charged) >= k0
        else:                                                        # starts early enough to finish
            assert max(charged) == L - 1


@settings(max_examples=150, deadline=None)
@given(fleets())
def test_managed_charging_is_the_least_cost_schedule(case):
    """Managed cost equals the linear programme's optimum (scipy's HiGHS) and is never above
    the unmanaged or timer cost at the same prices."""
    fleet, price, h = case
    spd = price.size
    cost = {m: (charge_ev(fleet, price, m, h)[0] * price).sum(axis=1) * h for m in MODES}
    assert (cost["managed"] <= cost["unmanaged"] + 1e-9).all()
    assert (cost["managed"] <= cost["timer"] + 1e-9).all()
    window = _window(fleet, spd)
    for i in range(fleet.start.size):
        e = min(fleet.need_kwh[i], fleet.power_kw[i] * h * fleet.steps[i])
        if e <= 0:
            continue
        bounds = [(0, fleet.power_kw[i] if window[i, t] else 0) for t in range(spd)]
        # the objective divided by the day's largest price: HiGHS's tolerances are absolute
        scale = float(np.abs(price).max()) or 1.0
        lp = linprog(price / scale * h, A_eq=np.full((1, spd), h), b_eq=[e], bounds=bounds, method="highs")
        assert lp.status == 0
        # to the LP solver's tolerances (HiGHS's primal feasibility 1e-7 per bound, over up to
        # 96 steps), relative to the day's cost scale; a case with the managed cost 1.01e-6
        # below HiGHS's optimum was found at abs 1e-6
        assert cost["managed"][i] == pytest.approx(lp.fun * scale, rel=1e-7, abs=1e-5 * (1 + e * np.abs(price).max()))


@settings(max_examples=150, deadline=None)
@given(fleets(), st.sampled_from(MODES), st.data())
def test_charging_on_distinct_price_rows_is_the_per_car_charging_bit_for_bit(case, mode, data):
    """``charge_ev`` given each car's row of the distinct price rows (``PriceRows``, as the
    model passes a tiered block's groups) charges exactly as on per-car prices."""
    fleet, price, h = case
    n = fleet.start.size
    k = data.draw(st.integers(1, 3))
    distinct = price[None, :] + np.array([0.0, 0.05, -0.4])[:k, None]
    distinct[-1] = distinct[-1][::-1]                       # a row with its own order
    which = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    used, row = np.unique(which, return_inverse=True)
    ref = charge_ev(fleet, distinct[which], mode, h, None)
    got = charge_ev(fleet, PriceRows(distinct[used], row), mode, h, None)
    for a, b in zip(got, ref):
        np.testing.assert_array_equal(a, b)


def test_a_hand_worked_evening():
    """Arrival 18:10, departure 07:30 on hourly steps: plugged in 19:00-07:00 (12 steps);
    a 7 kW charger and 16 kWh: 7, 7, 2 kW from 19:00 unmanaged; from the 23:00 valley on a
    timer; managed, the 8-hour valley (23:00-07:00) at 2 kW each."""
    start, steps = window_steps(np.array([18 + 1 / 6]), np.array([7.5]), 24)
    assert (start[0], steps[0]) == (19, 12)
    fleet = EvFleet(start, steps, [16.0], [7.0])
    price = np.where((np.arange(24) >= 23) | (np.arange(24) < 7), 0.25, 0.9)
    ev, short = charge_ev(fleet, price, "unmanaged", 1.0)
    assert ev[0, 19:22].tolist() == [7.0, 7.0, 2.0] and ev[0].sum() == 16.0 and short[0] == 0
    ev, _ = charge_ev(fleet, price, "timer", 1.0)
    assert ev[0, 23] == 7.0 and ev[0, 0] == 7.0 and ev[0, 1] == 2.0 and ev[0].sum() == 16.0
    ev, _ = charge_ev(fleet, price, "managed", 1.0)
    expected = np.zeros(24)
    expected[[23, 0, 1, 2, 3, 4, 5, 6]] = 2.0
    np.testing.assert_array_equal(ev[0], expected)
    # 100 kWh do not fit in 12 h x 7 kW: 84 charged, 16 short, in every mode
    for mode in MODES:
        ev, short = charge_ev(EvFleet(start, steps, [100.0], [7.0]), price, mode, 1.0)
        assert ev[0].sum() == 84.0 and short[0] == 16.0


def test_a_fleet_on_a_valley_timer_makes_the_timer_peak():
    """The evidence: cars on timers at a TOU valley start together (the INL EV Project's
    San Diego peak at 1:30 under rates cheapest from midnight; docs/behavior.md). Drawn
    arrivals spread unmanaged charging over the evening; a timer puts the fleet's peak at
    the valley's first step, higher than unmanaged; managed charging spreads it below both."""
    rng = np.random.default_rng(3)
    n = 2000
    start, steps = window_steps(np.clip(rng.normal(18, 2, n), 12, 24), np.clip(rng.normal(7.5, 1, n), 4, 11), 24)
    fleet = EvFleet(start, steps, rng.lognormal(np.log(6.5) - 0.15, 0.55, n), np.full(n, 7.0))
    price = np.where((np.arange(24) >= 23) | (np.arange(24) < 7), 0.25, 0.9)
    load = {m: charge_ev(fleet, price, m, 1.0)[0].sum(axis=0) for m in MODES}
    assert int(load["timer"].argmax()) == 23
    assert load["timer"].max() > 2 * load["unmanaged"].max()
    assert load["managed"].max() < load["unmanaged"].max()
    np.testing.assert_allclose([x.sum() for x in load.values()], load["unmanaged"].sum(), rtol=1e-12)


# --------------------------------------------------------------------------- whole runs

EV = {"model": "ev", "adoption": 0.3, "mode": "timer"}


def _scenario(ev: dict | None, count: int = 300, days: int = 3):
    data = scenario_dict(horizon={"start": "2024-02-20", "days": days, "step_minutes": 60})
    res = data["populations"][0]
    res["count"] = count
    res["participation"] = {"enrolment": {"mode": "opt_in", "share": 0.6},
                            "awareness": {"start": 0.5, "end": 0.9}}
    if ev is not None:
        res["behavior"] = [res["behavior"], ev]
    return data


def _fingerprint(r, ev_stats: bool = True) -> dict:
    out = {"system": {k: v.tobytes() for k, v in r.system_load_kw.items()},
           "segments": {name: (s.load_kw["baseline"].tobytes(), s.load_kw["scenario"].tobytes(),
                               s.bills["baseline"].total.tobytes(), s.bills["scenario"].total.tobytes(),
                               s.stats["utility_scenario"].tobytes())
                        for name, s in r.segments.items()}}
    if ev_stats:
        out["metrics"] = json.dumps(r.metrics, sort_keys=True)
        out["ev"] = {k: v.tobytes() for k, v in r.segments["res"].stats.items() if k.startswith("ev_")}
    return out


def test_every_ev_is_charged_each_day_in_a_run_and_both_roles_carry_the_same_energy():
    data = _scenario(dict(EV, daily_kwh=8.0, charger_kw=7.0))
    del data["populations"][1]                                        # households alone: an evening peak
    r = sim.run(build(data))
    seg = r.segments["res"]
    m = r.metrics["segments"]["res"]
    cars = int((seg.stats["ev_kwh_baseline"] > 0).sum())
    assert 60 < cars < 120                                            # ~30 % of 300
    assert m["baseline"]["ev_kwh"] == pytest.approx(cars * 8.0 * 3, rel=1e-12)
    assert m["scenario"]["ev_kwh"] == pytest.approx(m["baseline"]["ev_kwh"], rel=1e-12)
    assert m["baseline"]["ev_shortfall_kwh"] == 0 == m["scenario"]["ev_shortfall_kwh"]
    # the per-block sums hold the same energy; the fleet's load at the system peak is a share of it
    fleet = seg.stats["ev_block_kw_scenario"].sum(axis=0)
    assert fleet.sum() == pytest.approx(m["scenario"]["ev_kwh"], rel=1e-12)
    t = int(r.system_load_kw["scenario"].argmax())
    assert m["scenario"]["ev_share_of_system_peak"] == pytest.approx(fleet[t] / r.system_load_kw["scenario"][t])
    assert 0.5 < m["scenario"]["ev_share_of_system_peak"] <= 1       # the timer peak is the cars'
    assert t % 24 == 23                                               # at the valley's first hour


def test_adoption_zero_gives_the_bits_of_a_run_without_the_model():
    """The EV draws come from a stream of their own: later draws (enrolment, awareness) do
    not move, and with no car the loads, bills and utility are those of no model."""
    without = sim.run(build(_scenario(None)))
    zero = sim.run(build(_scenario(dict(EV, adoption=0.0))))
    assert _fingerprint(zero, ev_stats=False) == _fingerprint(without, ev_stats=False)
    strip = {k: v for k, v in zero.metrics["segments"]["res"]["scenario"].items() if not k.startswith("ev_")}
    assert json.dumps(strip, sort_keys=True) == json.dumps(without.metrics["segments"]["res"]["scenario"],
                                                           sort_keys=True)
    # and the cars change the loads when there are some (the comparison can fail)
    some = sim.run(build(_scenario(EV)))
    assert _fingerprint(some, ev_stats=False) != _fingerprint(without, ev_stats=False)


@pytest.mark.parametrize("mode", ["timer", "managed"])
def test_same_bits_across_shards_and_chunks(mode):
    sc = build(_scenario(dict(EV, mode=mode), count=9000, days=2))
    reference = sim.run(sc)
    assert reference.segments["res"].stats["ev_block_kw_scenario"].shape == (3, 48)
    for shards, chunk in [(2, 4096), (3, 4096), (1, 8192)]:
        r = simulate(sc, shards=shards, chunk_customers=chunk)
        r.metrics = compute(r)
        assert _fingerprint(r) == _fingerprint(reference)


@pytest.mark.parametrize("field, value, expected", [
    ("mode", "smart", "behavior[1].mode"),
    ("adoption", 1.5, "behavior[1].adoption"),
    ("arrival_hour", {"dist": "normal", "mean": 18, "sd": 2}, "arrival_hour must lie in [0.0, 24.0]"),
    ("timer_start", 24, "behavior[1].timer_start"),
])
def test_bad_ev_settings_exit_2_naming_the_field(field, value, expected, write_yaml, tmp_path, capsys):
    path = write_yaml(_scenario(dict(EV, **{field: value})))
    code = main(["run", str(path), "--results", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and "Traceback" not in err, err
    assert not (tmp_path / "results").exists()


def test_a_stated_timer_holds_every_car_until_its_hour():
    """``timer_start: 0.5`` on hourly steps: charging from 01:00 (the first step starting at
    or after the timer); 8 kWh at 7 kW take two steps, which fit before any departure (>= 4:00),
    so no car charges between noon and 01:00, and the same energy as unmanaged is charged."""
    data = _scenario(dict(EV, daily_kwh=8.0, charger_kw=7.0, timer_start=0.5))
    r = sim.run(build(data))
    fleet = r.segments["res"].stats["ev_block_kw_scenario"].sum(axis=0).reshape(3, 24)
    assert (fleet[:, 12:] == 0).all() and (fleet[:, 0] == 0).all()
    assert fleet[:, 1].min() > 0
    m = r.metrics["segments"]["res"]
    assert m["scenario"]["ev_kwh"] == pytest.approx(m["baseline"]["ev_kwh"], rel=1e-12)


def test_the_systems_ev_share_of_its_peak_is_in_runs_without_pv():
    """With EVs in two segments and no rooftop PV, the system's ``ev_kw_at_system_peak`` is
    the two fleets' load at the system peak step (not only in PV runs), and its share is that
    over the system peak; the segments' own figures add up to it."""
    data = _scenario(dict(EV, daily_kwh=8.0, charger_kw=7.0))
    data["populations"][1]["behavior"] = copy.deepcopy(data["populations"][0]["behavior"])
    r = sim.run(build(data))
    for role in ("baseline", "scenario"):
        system = r.system_load_kw[role]
        t = int(system.argmax())
        fleets = [s.stats[f"ev_block_kw_{role}"].sum(axis=0) for s in r.segments.values()]
        assert len(fleets) == 2 and all(f.sum() > 0 for f in fleets)
        m = r.metrics[role]
        assert "pv_generation_kwh" not in m
        assert m["ev_kw_at_system_peak"] == sum(float(f[t]) for f in fleets)
        assert m["ev_share_of_system_peak"] == m["ev_kw_at_system_peak"] / float(system[t])
        per_segment = sum(r.metrics["segments"][n][role]["ev_kw_at_system_peak"] for n in r.segments)
        assert m["ev_kw_at_system_peak"] == pytest.approx(per_segment, rel=1e-12)
    assert r.metrics["change"]["ev_share_of_system_peak_change"] == pytest.approx(
        r.metrics["scenario"]["ev_share_of_system_peak"] - r.metrics["baseline"]["ev_share_of_system_peak"])


def test_a_separately_metered_charger_is_billed_at_the_second_meters_rate():
    """``meter: separate`` under a tariff with a storage meter: the cars' energy is billed at
    ``storage_rate`` and only there (the main meter carries the rest), in both roles; the
    system load is the same as with the charger behind the main meter when the plan's price
    is the same (a flat storage rate equal to the flat price)."""
    data = _scenario(dict(EV, meter="separate", daily_kwh=8.0, charger_kw=7.0))
    del data["populations"][1]
    del data["populations"][0]["participation"]  # everyone on the TOU in the scenario role
    flat = data["tariffs"]["flat"]
    flat["storage_rate"] = {"price_per_kwh": 0.2}
    r = sim.run(build(data))
    m = r.metrics
    for role in ("baseline", "scenario"):
        ev_kwh = m["segments"]["res"][role]["ev_kwh"]
        assert ev_kwh > 0
        if role == "baseline":  # the flat tariff has the meter: the cars' energy at its rate
            assert m[role]["revenue_storage_energy"] == pytest.approx(ev_kwh * 0.2, rel=1e-9)
        else:                   # the TOU has none: on the main meter
            assert m[role]["revenue_storage_energy"] == 0
    main = copy.deepcopy(data)
    main["populations"][0]["behavior"][1]["meter"] = "main"
    r_main = sim.run(build(main))
    # the TOU scenario (no second meter) gives the bits of a main-meter charger
    assert r.system_load_kw["scenario"].tobytes() == r_main.system_load_kw["scenario"].tobytes()
    # the baseline's energy is the same; its bill differs by exactly the price difference
    assert m["baseline"]["energy_kwh"] == pytest.approx(r_main.metrics["baseline"]["energy_kwh"], rel=1e-12)
    ev_kwh = m["segments"]["res"]["baseline"]["ev_kwh"]
    diff = r_main.metrics["baseline"]["revenue"] - m["baseline"]["revenue"]
    price = flat["price_per_kwh"]
    tax = flat.get("tax_rate", 0.0)
    assert diff == pytest.approx(ev_kwh * (price - 0.2) * (1 + tax), rel=1e-9)


def test_load_metered_apart_by_two_models_adds_up():
    """Two models' loads metered apart (a store's charging and a separately metered charger)
    are added row by row over the union of their customers."""
    from sim.behavior.registry import ResponseDay

    day = ResponseDay(role="scenario", base=None, own=None, groups=None, strength=np.ones(5), fatigue=1.0,
                      step_hours=1.0, idx=slice(0, 5), mean_kw=np.ones(5), month_peak_kw=None, stats=None,
                      soc=None, input_kw=np.zeros((5, 3)))
    a = np.arange(6, dtype=float).reshape(2, 3)
    b = np.full((2, 3), 10.0)
    day.add_charge(np.array([1, 3]), a)
    day.add_charge(np.array([3, 4]), b)
    rows, values = day.charge
    assert rows.tolist() == [1, 3, 4]
    assert values.tolist() == [[0, 1, 2], [13, 14, 15], [10, 10, 10]]
