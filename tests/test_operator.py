"""The operator calls events day-ahead on its forecast, within the programmes' limits."""

from __future__ import annotations

import copy

import numpy as np

import sim
from sim.calendar import Calendar
from sim.population import build_segment
from sim.engine import Forecast
from sim.grid.operator import expected_day_load

from .conftest import build, scenario_dict


def _scenario(threshold_share: float, **op):
    data = scenario_dict(horizon={"start": "2025-07-01", "days": 20, "step_minutes": 60})
    for seg in data["populations"]:
        seg["variation"] = {"common_daily_sd": 0.08}  # weather: some days are peak days
    data["tariffs"]["cpp"] = dict(copy.deepcopy(data["tariffs"]["tou"]),
                                  critical_peak={"price_adder_per_kwh": 1.5})
    data["tariffs"]["ibp"] = {"type": "flat", "price_per_kwh": 0.5, "interruptible": {
        "credit_per_kw_month": 5.0, "penalty_per_kwh": 3.0, "limits": {"max_events_per_year": 3}}}
    data["populations"][0]["tariff"]["scenario"] = "cpp"
    shops = data["populations"][1]
    shops["tariff"]["scenario"] = "ibp"
    shops["interruptible"] = {"firm_kw_per_mean_kw": 0.5, "compliance": 1.0}
    sc = build(data)
    r0 = sim.run(sc)  # to size the threshold from the expected loads
    cal = Calendar.from_scenario(sc)
    pops = [build_segment(seg, cal, sc.seed) for seg in sc.populations]
    peaks = [expected_day_load([Forecast.of(p) for p in pops], d).max() for d in range(20)]
    threshold = float(np.quantile(peaks, threshold_share))
    data["operator"] = {"threshold_kw": threshold, "event_hours": 3, **op}
    return build(data), peaks, threshold


def test_events_are_called_on_forecast_peak_days_and_move_load():
    sc, peaks, threshold = _scenario(0.7)
    r = sim.run(sc)
    called = [e for e in r.events if e["source"] == "operator"]
    cpp_days = sorted({e["date"] for e in called if e["programme"] == "critical_peak"})
    expected = sorted(str(np.datetime64("2025-07-01") + d) for d in range(1, 20) if peaks[d] > threshold)
    assert cpp_days == expected and cpp_days  # never day 0: no notice for it
    for e in called:
        assert e["stop_step"] - e["start_step"] == 3
        assert e["reduction_kw"] > 0  # the scenario load falls in every called window
    # interruptible contract: at most 3 events in the year, whatever the operator wanted
    assert sum(1 for e in called if e["programme"] == "interruptible") == min(3, len(expected))
    assert r.metrics["change"]["event_calls_by_operator"] == len(called)


def test_operator_cap_per_year():
    sc, peaks, threshold = _scenario(0.3, max_events_per_year=2)
    r = sim.run(sc)
    assert len({e["date"] for e in r.events if e["source"] == "operator"}) == 2


def test_no_operator_no_called_events():
    data = scenario_dict()
    r = sim.run(build(data))
    assert r.events == [] and r.metrics["change"]["event_windows"] == 0


def test_interruptible_limit_counts_only_interruptible_calls():
    """A tariff with both programmes: critical-peak calls do not use up the interruptible limit."""
    sc, peaks, threshold = _scenario(0.3)
    data = sc.model_dump(mode="json")
    both = dict(data["tariffs"]["ibp"])
    both["critical_peak"] = {"price_adder_per_kwh": 1.0}
    data["tariffs"]["ibp"] = both
    r = sim.run(build(data))
    called = [e for e in r.events if e["source"] == "operator" and e["tariff"] == "ibp"]
    assert sum(1 for e in called if e["programme"] == "interruptible") == 3
    assert sum(1 for e in called if e["programme"] == "critical_peak") > 3


def test_tariffs_stay_as_compiled_while_the_operator_calls_events():
    """Called events live in the grid's state: every compiled tariff of the run holds the
    same arrays as a fresh compilation (listed events only), read-only; the events the run
    billed show in ``realized``."""
    from sim.calendar import Calendar
    from sim.tariffs import compile_tariff

    sc, _, _ = _scenario(0.5)
    r = sim.run(sc)
    assert any(e["source"] == "operator" for e in r.events)
    cal = Calendar.from_scenario(sc)
    for seg in r.segments.values():
        for t in seg.tariffs["scenario"]:
            fresh = compile_tariff(t.name, sc.tariffs[t.name], cal)
            for name, value in vars(t).items():
                if isinstance(value, np.ndarray):
                    assert np.array_equal(value, getattr(fresh, name)), (t.name, name)
                    assert not value.flags.writeable
    spd = cal.steps_per_day
    for e in (e for e in r.events if e["source"] == "operator"):
        d = int((np.datetime64(e["date"]) - np.datetime64(cal.start)).astype(int))
        steps = slice(d * spd + e["start_step"], d * spd + e["stop_step"])
        field = {"critical_peak": "cpp_event", "interruptible": "intr_event"}[e["programme"]]
        assert getattr(r.realized[e["tariff"]], field)[steps].all()
        assert not getattr(r.segments["res" if e["tariff"] == "cpp" else "shops"].tariffs["scenario"][0],
                           field)[steps].any()
    assert (r.realized["cpp"].cpp_adder[r.realized["cpp"].cpp_event] == 1.5).all()
