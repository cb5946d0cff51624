"""The event-day response (``event_response``) and the self-selection of enrolment: the
kernel's invariants, its utility term against a numerical integral, and small runs of the
residential default (events answered once, rebates below charges, opt-in above default per
participant, the per-eligible identity, same seed same bits across shards)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import integrate

import sim
from sim.behavior.events import event_ratio, respond_events, utility_change_events
from sim.population.segments import self_selection
from sim.scenario import validate
from sim.scenario.defaults import EVENT_SLOPE, PTR_FACTOR

EVENT_DAYS = (8, 9, 10, 15, 16, 17)
DAY0 = np.datetime64("2025-06-30")


def _event_load(ratio: float) -> float:
    """Event-step load left of 1 kW at ``ratio`` under the default slope (kernel only)."""
    load = np.array([[1.0, 1.0, 1.0]])
    r = np.array([1.0, ratio, 1.0])
    return float(respond_events(load, r, np.array([EVENT_SLOPE]), np.array([1.0]))[0, 1])


def test_reduction_grows_with_the_ratio_above_ten():
    """No plateau: 14:1 removes more than 10:1, which removes more than 6:1; the reduction
    stays below the whole load (it saturates only where the load runs out)."""
    got = [1.0 - _event_load(r) for r in (2.0, 6.0, 10.0, 14.0, 50.0, 1e6)]
    assert all(b > a for a, b in zip(got, got[1:]))
    assert got[3] - got[2] > 0.01                    # 14:1 against 10:1: a visible step, not rounding
    assert got[-1] < 1.0
    assert_allclose(got[2], 1.0 - 10.0 ** -EVENT_SLOPE)   # the log form: q' = q r ** -b


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 50.0), min_size=6, max_size=6),
       st.lists(st.floats(1.0, 40.0), min_size=6, max_size=6),
       st.floats(0.0, 0.9), st.floats(0.0, 1.0))
def test_energy_kept_as_shift_share_says(load, ratio, slope, shift):
    """The day's energy falls by (1 - shift_share) x what left the event steps (kept whole at
    shift_share 1), where any other step has load to take it; steps outside events only gain."""
    q = np.array([load])
    r = np.array(ratio)
    out = respond_events(q, r, np.array([slope]), np.array([shift]))
    event = r != 1.0
    removed = (q - out)[:, event].sum()
    rest = q[:, ~event].sum()
    assert removed >= -1e-12
    expected = q.sum() - (removed if rest == 0 else (1.0 - shift) * removed)
    assert_allclose(out.sum(), expected, rtol=1e-12, atol=1e-9)
    assert (out[:, ~event] >= q[:, ~event] - 1e-12).all()


def test_no_event_no_change():
    q = np.array([[1.0, 2.0, 3.0]])
    assert_allclose(respond_events(q, np.ones(3), np.array([0.5]), np.array([1.0])), q)
    assert_allclose(event_ratio(np.array([0.1, 0.7]), np.array([0.0, 0.6])), [1.0, 7.0])


def test_utility_against_the_integral_of_inverse_demand():
    """Each event step: the integral of the constant-elasticity inverse demand P(q) =
    p0 (q / q0) ** (1 / e) from q0 to q1 (scipy quad); other steps: energy x their price."""
    q0 = np.array([[2.0, 3.0, 1.5, 0.5]])
    plain = np.array([0.1, 0.2, 0.2, 0.1])
    ratio = np.array([1.0, 6.0, 14.0, 1.0])
    b, h = 0.3, 0.5
    q1 = respond_events(q0, ratio, np.array([b]), np.array([0.7]))
    e = -b
    want = 0.0
    for t in range(4):
        if ratio[t] == 1.0:
            want += (q1[0, t] - q0[0, t]) * plain[t] * h
        else:
            inv = (lambda q, t=t: plain[t] * (q / q0[0, t]) ** (1.0 / e))
            want += integrate.quad(inv, q0[0, t], q1[0, t])[0] * h
    got = utility_change_events(q0, q1, plain, ratio, np.array([b]), h)
    assert_allclose(got, [want], rtol=1e-9)


def test_self_selection_mean_over_the_enrolled():
    """The mean responsiveness of the customers enrolled with share s is
    (1 - (1 - s) ** (1 + a)) / s (quadrature), 1 over everyone, decreasing in s."""
    a = 1.31
    for s in (0.2, 0.5, 0.95, 1.0):
        num = integrate.quad(lambda u: self_selection(np.array([u]), a)[0], 0.0, s)[0] / s
        assert_allclose(num, (1.0 - (1.0 - s) ** (1.0 + a)) / s, rtol=1e-9)
    assert_allclose(integrate.quad(lambda u: self_selection(np.array([u]), a)[0], 0, 1)[0], 1.0, rtol=1e-9)
    assert_allclose(self_selection(np.array([0.3, 0.9]), 0.0), [1.0, 1.0])


# --------------------------------------------------------------------------- runs


def _scenario(programme: dict, customers: int = 300, enrolment: dict | None = None) -> dict:
    events = [{"date": f"2025-07-{d:02d}", "hours": "16:00-19:00"} for d in EVENT_DAYS]
    scen = {"type": "flat", "price_per_kwh": 0.10, **{k: {**v, "events": events} for k, v in programme.items()}}
    seg = {"name": "homes", "customer_class": "residential", "count": customers,
           "annual_kwh": {"dist": "lognormal", "mean": 3000, "cv": 0.5}, "behavior": "default",
           "tariff": {"baseline": "flat", "scenario": "event"}}
    if enrolment is not None:
        seg["participation"] = {"enrolment": enrolment}
    return {"name": "events", "seed": 7, "horizon": {"start": "2025-06-30", "days": 21, "step_minutes": 60},
            "populations": [seg], "tariffs": {"flat": {"type": "flat", "price_per_kwh": 0.10}, "event": scen}}


def _run(data):
    return sim.run(validate(data, label="<test>"))


def _event_reduction(res) -> float:
    return res.metrics["segments"]["homes"]["change"]["event_reduction_pct"]


def test_run_no_plateau_at_ten_and_rebates_below_charges():
    """The residential default: a critical peak at 14x the price removes more of the event
    hours' load than one at 10x; a rebate of the same event price draws PTR_FACTOR of the slope."""
    cpp = {r: _event_reduction(_run(_scenario({"critical_peak": {"price_multiplier": r}}))) for r in (7.0, 10.0, 14.0)}
    assert cpp[14.0] > cpp[10.0] > cpp[7.0] > 0
    ptr = _event_reduction(_run(_scenario({"peak_time_rebate": {"rebate_per_kwh": 0.6}})))
    assert 0 < ptr < cpp[7.0]
    # the kernel's own figure for one customer at the population's mean strength: the run is a
    # sum over customers, so compare the ratio of the logs (both ~ b ln r to first order)
    assert_allclose(math.log(1 - ptr / 100) / math.log(1 - cpp[7.0] / 100), PTR_FACTOR, rtol=0.05)


def test_events_answered_once():
    """With the event model's slope 0 nothing responds to the event: the energy-price model
    sees the day's prices without it (on a flat rate, no change at all)."""
    data = _scenario({"critical_peak": {"price_multiplier": 8.0}}, customers=120)
    seg = data["populations"][0]
    seg["behavior"] = [{"model": "ces", "substitution": -0.1, "daily": -0.02},
                       {"model": "event_response", "slope": 0.0}]
    res = _run(data)
    load = res.segments["homes"].load_kw
    assert np.array_equal(load["baseline"], load["scenario"])
    seg["behavior"] = [{"model": "ces", "substitution": -0.1, "daily": -0.02}]   # without it, CES answers
    assert _event_reduction(_run(data)) > 5


def test_opt_in_above_default_per_participant_and_the_per_eligible_identity():
    cpp = {"critical_peak": {"price_multiplier": 6.0}}
    got = {}
    for mode, share in (("opt_in", 0.2), ("opt_out", 0.95)):
        ch = _run(_scenario(cpp, customers=1200, enrolment={"mode": mode, "share": share})).metrics[
            "segments"]["homes"]["change"]
        got[mode] = ch
        for key in ("energy_change_kwh", "coincident_peak_reduction_kw", "peak_reduction_kw"):
            assert_allclose(ch[f"{key}_per_eligible"], ch[f"{key}_per_participant"] * ch["enrolled_share"],
                            rtol=1e-12, atol=1e-15)
        assert_allclose(ch["event_reduction_pct_per_eligible"],
                        ch["event_reduction_pct_per_participant"] * ch["enrolled_baseline_energy_share"], rtol=1e-12)
    assert got["opt_in"]["event_reduction_pct_per_participant"] > got["opt_out"]["event_reduction_pct_per_participant"]
    assert got["opt_in"]["event_reduction_pct_per_eligible"] < got["opt_out"]["event_reduction_pct_per_eligible"]


def test_without_self_selection_opt_in_is_a_random_draw():
    """self_selection 0: participants are a random draw, so per participant opt-in and default
    agree to sampling error."""
    cpp = {"critical_peak": {"price_multiplier": 6.0}}
    a = _run(_scenario(cpp, 1500, {"mode": "opt_in", "share": 0.3, "self_selection": 0.0}))
    b = _run(_scenario(cpp, 1500, {"mode": "opt_out", "share": 0.95, "self_selection": 0.0}))
    pa = a.metrics["segments"]["homes"]["change"]["event_reduction_pct_per_participant"]
    pb = b.metrics["segments"]["homes"]["change"]["event_reduction_pct_per_participant"]
    assert abs(pa - pb) < 0.1 * pb


def test_same_seed_same_bits_in_shards():
    from sim.engine import simulate
    from sim.metrics import compute

    data = _scenario({"critical_peak": {"price_multiplier": 12.0}}, customers=4200,
                     enrolment={"mode": "opt_in", "share": 0.4})
    data["horizon"]["days"] = 12
    sc = validate(data, label="<test>")
    one = sim.run(sc)
    shards = simulate(sc, shards=3, chunk_customers=2048)
    shards.metrics = compute(shards)
    assert json.dumps(shards.metrics, sort_keys=True) == json.dumps(one.metrics, sort_keys=True)
    for role in ("baseline", "scenario"):
        assert one.segments["homes"].load_kw[role].tobytes() == shards.segments["homes"].load_kw[role].tobytes()
    assert one.metrics["segments"]["homes"]["change"]["event_reduction_pct"] > 0


@pytest.mark.parametrize("bad, field", [({"slope": 1.5}, "slope"), ({"slope": 0.1, "ptr_factor": 2.0}, "ptr_factor"),
                                        ({"slope": 0.1, "shift_share": 1.2}, "shift_share")])
def test_bad_settings_name_the_field(bad, field):
    from sim.errors import InputError

    data = _scenario({"critical_peak": {"price_multiplier": 6.0}}, customers=10)
    data["populations"][0]["behavior"] = [{"model": "event_response", **bad}]
    with pytest.raises(InputError, match=field):
        validate(data, label="<test>")


def test_the_same_event_in_both_tariffs_is_no_change():
    """A critical peak the baseline tariff already has is no change of tariff: nobody responds."""
    data = _scenario({"critical_peak": {"price_multiplier": 8.0}}, customers=120)
    data["tariffs"]["flat"] = data["tariffs"]["event"]
    load = _run(data).segments["homes"].load_kw
    assert np.array_equal(load["baseline"], load["scenario"])
