"""Weather in the load and the controllable-load model: no weather leaves loads as they
were, hotter days draw more cooling and give a larger controllable reduction, a device
never removes more than the load it controls, the day's energy closes (curtailment,
pre-cooling, rebound), same seed same bits, and bad weather files stop the run with the
file, line and field."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.behavior.control import control_day, control_steps
from sim.cli import main
from sim.population.thermal import CLASS_THERMAL, thermal_parts

from .conftest import build, scenario_dict

DAYS = 3


def _weather_csv(path, event_c: float, other_c: float | None = None):
    other = event_c - 8.0 if other_c is None else other_c
    rows = ["hour,temp_air"] + [f"{h},{event_c if 14 <= h < 19 else other}" for _ in range(DAYS) for h in range(24)]
    path.write_text("\n".join(rows) + "\n")
    return path


def _cpp_data(weather=None, behavior=None, event=True, n=300, seed=5) -> dict:
    tou = {"type": "tou", "periods": {"peak": {"price_per_kwh": 0.2}, "off": {"price_per_kwh": 0.1}},
           "schedule": [{"day_types": ["weekday"], "hours": {"peak": ["14:00-19:00"], "off": ["19:00-14:00"]}},
                        {"day_types": ["weekend", "holiday"], "hours": {"off": ["00:00-24:00"]}}]}
    if event:
        tou["critical_peak"] = {"price_multiplier": 3.0, "events": [{"date": "2025-07-15", "hours": "14:00-19:00"}]}
    data = {"name": "wx", "seed": seed, "horizon": {"start": "2025-07-14", "days": DAYS, "step_minutes": 60},
            "populations": [{"name": "r", "customer_class": "residential", "count": n,
                             "annual_kwh": {"dist": "lognormal", "mean": 3000, "cv": 0.5},
                             "behavior": behavior or {"model": "constant_elasticity", "elasticity": 0.0},
                             "tariff": {"baseline": "flat", "scenario": "cpp"}}],
            "tariffs": {"flat": {"type": "flat", "price_per_kwh": 0.12}, "cpp": tou}}
    if weather is not None:
        data["weather"] = weather
    return data


def _load(data) -> np.ndarray:
    return sim.run(build(data)).segments["r"].load_kw["scenario"]


EV = slice(24 + 14, 24 + 19)  # the event hours of the event day


def test_cold_weather_leaves_the_loads_exactly_as_without_weather(tmp_path):
    """Below the cooling balance point (and with no heating term) the weather adds nothing."""
    csv = _weather_csv(tmp_path / "w.csv", 10.0)
    assert np.array_equal(_load(_cpp_data()), _load(_cpp_data({"csv": str(csv)})))


def test_hotter_day_draws_more_cooling_load(tmp_path):
    mild = _load(_cpp_data({"csv": str(_weather_csv(tmp_path / "m.csv", 27.0))}))
    hot = _load(_cpp_data({"csv": str(_weather_csv(tmp_path / "h.csv", 38.0))}))
    base = _load(_cpp_data())
    assert (hot[EV] > mild[EV]).all() and (mild[EV] > base[EV]).all()


def test_thermal_parts_against_a_hand_computation():
    c = CLASS_THERMAL["residential"]
    cool, heat = thermal_parts("residential", np.array([[c.cool_base_c - 3, c.cool_base_c + 4.0]]))
    assert cool.tolist() == [[0.0, pytest.approx(4.0 * c.cool_per_degc)]]
    assert not heat.any()
    assert not thermal_parts("commercial", np.array([[40.0]]))[0].any()


def _reduction(tmp_path, temp, adoption, manual=0.0, name="w") -> float:
    csv = str(_weather_csv(tmp_path / f"{name}.csv", temp))
    beh = {"model": "controllable_load", "adoption": adoption, "device_share": 0.5, "manual_share": manual}
    on, off = _load(_cpp_data({"csv": csv}, beh)), _load(_cpp_data({"csv": csv}, beh, event=False))
    return 1.0 - on[EV].sum() / off[EV].sum()


def test_hotter_day_gives_a_larger_controllable_reduction(tmp_path):
    mild, hot = _reduction(tmp_path, 27.0, 1.0, name="m"), _reduction(tmp_path, 38.0, 1.0, name="h")
    assert 0 < mild < hot
    # with a device on a hot day the reduction is larger than by hand
    assert _reduction(tmp_path, 38.0, 0.0, manual=0.1, name="h2") < hot


def test_no_weather_no_cooling_control(tmp_path):
    beh = {"model": "controllable_load", "adoption": 1.0}
    assert np.array_equal(_load(_cpp_data(None, beh)), _load(_cpp_data(None)))


def test_same_seed_same_bits(tmp_path):
    csv = str(_weather_csv(tmp_path / "w.csv", 36.0))
    beh = {"model": "controllable_load", "adoption": 0.4, "device_share": {"dist": "uniform", "low": 0.3, "high": 0.7},
           "precool_hours": 2, "precool_share": 0.2}
    a = sim.run(build(_cpp_data({"csv": csv}, beh)))
    b = sim.run(build(_cpp_data({"csv": csv}, beh)))
    assert a.segments["r"].load_kw["scenario"].tobytes() == b.segments["r"].load_kw["scenario"].tobytes()
    for k in ("device_curtailed_kwh", "device_precool_kwh", "device_rebound_kwh"):
        assert a.segments["r"].stats[k].tobytes() == b.segments["r"].stats[k].tobytes()
    assert a.segments["r"].stats["device_curtailed_kwh"].sum() > 0


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), spd=st.sampled_from([24, 48, 96]), pre=st.integers(0, 6), rec=st.integers(1, 8),
       start=st.integers(0, 23), hours=st.integers(1, 8))
def test_energy_closes_and_a_device_removes_at_most_its_controlled_load(seed, spd, pre, rec, start, hours):
    rng = np.random.default_rng(seed)
    n, h = 7, 24.0 / spd
    load = rng.uniform(0.2, 3.0, (n, spd))
    controlled = load * rng.uniform(0.0, 1.0, (n, spd))
    price = np.full((n, spd), 0.1)
    k = spd // 24
    price[:, start * k:min(spd, (start + hours) * k)] = 0.6
    on = control_steps(price, 4.0, int(6 / h))
    share = rng.uniform(0, 1, n)
    got = control_day(load, controlled, on, share, (pre * k, rng.uniform(0, 1, n)), (rec * k, rng.uniform(0, 1, n)), h)
    removed = load - got.load_kw
    # never more than the controlled load, and never below zero
    assert (removed <= controlled + 1e-12).all() and (got.load_kw >= 0).all()
    # the comfort limit: at most 6 hours of control
    assert (on.sum(axis=1) <= int(6 / h)).all()
    # the day's energy closes: kept off = curtailed - pre-cooled - drawn back
    net = removed.sum(axis=1) * h
    np.testing.assert_allclose(net, got.curtailed_kwh - got.precool_kwh - got.rebound_kwh, rtol=0, atol=1e-9)
    np.testing.assert_allclose(got.curtailed_kwh, (np.where(on, share[:, None] * controlled, 0)).sum(axis=1) * h)
    # the rebound never exceeds the net energy kept off
    assert (got.rebound_kwh <= np.maximum(got.curtailed_kwh - got.precool_kwh, 0) + 1e-12).all()
    # one price row for all: the shared (1, spd) mask gives the same bits as one mask per customer
    shared = control_day(load, controlled, on[:1], share, (pre * k, got_pre := rng.uniform(0, 1, n)),
                         (rec * k, got_reb := rng.uniform(0, 1, n)), h)
    rows = control_day(load, controlled, on, share, (pre * k, got_pre), (rec * k, got_reb), h)
    assert shared.load_kw.tobytes() == rows.load_kw.tobytes()
    assert shared.rebound_kwh.tobytes() == rows.rebound_kwh.tobytes()


def test_a_flat_day_is_never_controlled():
    assert not control_steps(np.full((3, 24), 0.2), 1.5, 24).any()


def test_tmy3_sample_maps_by_month_day_and_hour():
    import datetime as dt

    from sim.calendar import Calendar
    from sim.scenario.weather import Weather
    from sim.weather import read_weather

    w = Weather(tmy3="pvlib:723170TYA.CSV")
    leap = read_weather(w, Calendar(dt.date(2024, 2, 28), 3, 24, frozenset(), {})).temp_c
    plain = read_weather(w, Calendar(dt.date(2023, 2, 28), 2, 48, frozenset(), {})).temp_c
    assert np.array_equal(leap[0], leap[1])              # 29 February takes 28 February's hours
    assert np.array_equal(leap[2], plain[1, ::2])        # 1 March is 1 March in any year; 30-min steps repeat the hour
    assert np.array_equal(plain[:, ::2], plain[:, 1::2])


def _cli(args, capsys):
    code = main(args)
    return code, capsys.readouterr().err


def test_bad_weather_csv_names_file_line_and_field(write_yaml, tmp_path, capsys):
    csv = tmp_path / "w.csv"
    csv.write_text("hour,temp_air\n" + "".join(f"{h},20\n" for h in range(5)) + "5,hot\n")
    data = scenario_dict(weather={"csv": "w.csv"})
    code, err = _cli(["run", str(write_yaml(data)), "--results", str(tmp_path / "r")], capsys)
    assert code == 2 and f"{csv}:7: temp_air: not a number: 'hot'" in err
    assert not (tmp_path / "r").exists()


def test_weather_csv_in_fahrenheit_is_refused(write_yaml, tmp_path, capsys):
    (tmp_path / "w.csv").write_text("hour,temp_air\n" + "".join(f"{h},95\n" for h in range(24 * 14)))
    code, err = _cli(["run", str(write_yaml(scenario_dict(weather={"csv": "w.csv"}))), "--results",
                      str(tmp_path / "r")], capsys)
    assert code == 2 and "temperature 95 degC at 2024-02-20 00:00 lies outside [-90, 60]" in err


def test_bad_weather_keys(write_yaml, tmp_path, capsys):
    code, err = _cli(["validate", str(write_yaml(scenario_dict(weather={"tmy3": "nowhere.csv"})))], capsys)
    assert code == 2 and "weather.tmy3: file not found" in err
    code, err = _cli(["validate", str(write_yaml(scenario_dict(weather={"tmy3": "pvlib:nope.csv"})))], capsys)
    assert code == 2 and "unknown pvlib sample" in err
    (tmp_path / "w.csv").write_text("hour,temp_air\n")
    code, err = _cli(["validate", str(write_yaml(scenario_dict(weather={"tmy3": "pvlib:723170TYA.CSV",
                                                                         "csv": "w.csv"})))], capsys)
    assert code == 2 and "give exactly one of tmy3 and csv" in err


def test_broken_tmy3_file(write_yaml, tmp_path, capsys):
    (tmp_path / "t.csv").write_text("not,a,tmy3\nfile\n")
    code, err = _cli(["run", str(write_yaml(scenario_dict(weather={"tmy3": "t.csv"}))), "--results",
                      str(tmp_path / "r")], capsys)
    assert code == 2 and "t.csv: not a readable TMY3 file" in err and "Traceback" not in err


def test_device_ledger_metric_is_the_segment_energy_the_device_changed(tmp_path):
    """With no other model, scenario energy - baseline energy = -(curtailed - pre-cooled - rebound)."""
    csv = str(_weather_csv(tmp_path / "w.csv", 37.0))
    beh = {"model": "controllable_load", "adoption": 0.6, "manual_share": 0.1, "precool_hours": 2,
           "precool_share": 0.3, "rebound_share": 0.7, "recovery_hours": 3}
    res = sim.run(build(_cpp_data({"csv": csv}, beh)))
    m = res.metrics["segments"]["r"]["change"]
    load = res.segments["r"].load_kw
    kept_off = float(load["baseline"].sum() - load["scenario"].sum())  # hourly steps: kW x 1 h
    assert m["device_curtailed_kwh"] > m["device_rebound_kwh"] > 0 and m["device_precool_kwh"] > 0
    assert m["device_net_kept_off_kwh"] == pytest.approx(kept_off, rel=1e-9)


def test_the_operator_calls_events_on_the_forecast_hot_day(tmp_path):
    """With weather, the operator's forecast holds the cooling load: with a threshold between
    the mild days' and the hot day's forecast peaks, it calls the hot day and no other; without
    weather, none."""
    days, hot_day = 4, 2
    rows = ["hour,temp_air"] + [f"{h},{38.0 if d == hot_day and 12 <= h < 20 else 22.0}"
                                for d in range(days) for h in range(24)]
    (tmp_path / "w.csv").write_text("\n".join(rows) + "\n")

    def scenario(weather, threshold=None):
        data = _cpp_data(weather, event=False)
        data["tariffs"]["cpp"]["critical_peak"] = {"price_multiplier": 3.0}
        data["horizon"].update(start="2025-07-15", days=days)  # Tuesday to Friday
        if threshold is not None:
            data["operator"] = {"threshold_kw": threshold, "event_hours": 3}
        return build(data)

    load = sim.run(scenario({"csv": str(tmp_path / "w.csv")})).system_load_kw["baseline"].reshape(days, 24).max(axis=1)
    mild = np.delete(load, hot_day).max()
    assert load[hot_day] > 1.2 * mild
    threshold = float(0.5 * (mild + load[hot_day]))
    called = [e for e in sim.run(scenario({"csv": str(tmp_path / "w.csv")}, threshold)).events
              if e["source"] == "operator"]
    assert sorted({e["date"] for e in called}) == ["2025-07-17"]
    assert not [e for e in sim.run(scenario(None, threshold)).events if e["source"] == "operator"]


def test_a_device_acts_on_the_event_also_where_event_response_answers_it(tmp_path):
    """Beside event_response (which takes the events out of the prices the other models
    see), the device still sees the event signal: it curtails more with the event than
    without it; with weather the event model has already turned off the share
    1 - r ** -(slope x thermal_factor) of the cooling load by hand (r = 3 here), and the
    device controls what is left of it."""
    from sim.scenario.defaults import default_behavior

    csv = str(_weather_csv(tmp_path / "w.csv", 37.0))
    device = {"model": "controllable_load", "adoption": 1.0, "device_share": 0.5, "manual_share": 0.0}
    events = next(m for m in default_behavior("residential") if m["model"] == "event_response")

    def curtailed(behavior, event=True):
        res = sim.run(build(_cpp_data({"csv": csv}, behavior, event=event)))
        return res.metrics["segments"]["r"]["change"]["device_curtailed_kwh"]

    with_events, alone, no_event = curtailed([events, device]), curtailed(device), curtailed(device, event=False)
    kept = 3.0 ** -(events["slope"] * events["thermal_factor"])
    assert with_events > no_event and with_events == pytest.approx(alone * kept, rel=1e-9)
