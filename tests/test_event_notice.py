"""Notice of events: an event announced on its own day draws ``same_day_factor`` of the event
slope (sim/behavior/events.py; docs/behavior.md 3.8)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import sim
from sim.behavior.events import same_day_steps, step_factors
from sim.behavior.prices import PriceDay
from sim.scenario.defaults import EVENT_SAME_DAY_FACTOR, PTR_FACTOR

from .conftest import build


def _reference_same_day(event: list[bool], notice: float, step_hours: float) -> list[bool]:
    """Step by step: walk back to the first step of the event each step belongs to (start hours
    compared with a tolerance of 1e-9 h, as the function does: 10-minute steps are not exact)."""
    out = []
    for t, on in enumerate(event):
        if not on:
            out.append(False)
            continue
        s = t
        while s > 0 and event[s - 1]:
            s -= 1
        out.append(notice <= s * step_hours + 1e-9)
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=96), st.floats(0.0, 48.0), st.sampled_from([0.25, 0.5, 1.0]))
def test_same_day_steps_against_a_step_by_step_reference(event, notice, step_hours):
    got = same_day_steps(np.array(event), notice, step_hours)
    assert got.tolist() == _reference_same_day(event, notice, step_hours)


def test_same_day_is_announced_after_midnight_of_the_event_day():
    """An event from 17:00 announced 17 h before (at midnight) is a same-day event; 18 h before
    (23:00 the day before) is not; a morning event and an evening one on the same day are
    judged each by its own start."""
    event = np.zeros(24, dtype=bool)
    event[7:9] = True          # 07:00-09:00
    event[17:19] = True        # 17:00-19:00
    assert same_day_steps(event, 17.0, 1.0).tolist() == [False] * 17 + [True, True] + [False] * 5
    assert not same_day_steps(event, 18.0, 1.0).any()
    assert same_day_steps(event, 6.0, 1.0)[[7, 8, 17, 18]].all()


def _price_day(cpp: np.ndarray | None, ptr: np.ndarray | None, cpp_notice: float, ptr_notice: float) -> PriceDay:
    spd = 24
    return PriceDay(price=np.full(spd, 0.1), storage_price=None, period=np.zeros(spd, dtype=int), period_names=("x",),
                    demand_price=0.0, interruptible=None, cpp_adder=cpp, ptr_adder=ptr,
                    cpp_notice_hours=cpp_notice, ptr_notice_hours=ptr_notice)


def test_step_factors_multiply_ptr_and_same_day():
    cpp = np.zeros(24)
    cpp[16:19] = 0.5
    ptr = np.zeros(24)
    ptr[7:9] = 0.4
    ptr[16:19] = 0.4           # under the critical peak: counts as critical peak
    f = step_factors(_price_day(cpp, ptr, 4.0, 24.0), 0.5, 0.8, 1.0)
    want = np.ones(24)
    want[7:9] = 0.5            # rebate, announced the day before
    want[16:19] = 0.8          # critical peak announced at 12:00 the same day
    assert_allclose(f, want, rtol=0, atol=0)
    f = step_factors(_price_day(cpp, ptr, 24.0, 2.0), 0.5, 0.8, 1.0)
    want[7:9], want[16:19] = 0.4, 1.0
    assert_allclose(f, want, rtol=0, atol=0)
    assert step_factors(_price_day(cpp, None, 2.0, 24.0), 1.0, 1.0, 1.0) is None
    assert step_factors(_price_day(None, None, 2.0, 2.0), 0.5, 0.5, 1.0) is None


# --------------------------------------------------------------------------- runs


def _scenario(programme: dict, customers: int = 400) -> dict:
    events = [{"date": f"2025-07-{d:02d}", "hours": "16:00-19:00"} for d in (1, 2, 8, 9)]
    scen = {"type": "flat", "price_per_kwh": 0.10, **{k: {**v, "events": events} for k, v in programme.items()}}
    seg = {"name": "homes", "customer_class": "residential", "count": customers,
           "annual_kwh": {"dist": "lognormal", "mean": 3000, "cv": 0.5}, "behavior": "default",
           "tariff": {"baseline": "flat", "scenario": "event"}}
    return {"name": "notice", "seed": 11, "horizon": {"start": "2025-06-30", "days": 14, "step_minutes": 60},
            "populations": [seg], "tariffs": {"flat": {"type": "flat", "price_per_kwh": 0.10}, "event": scen}}


def _run(data):
    return sim.run(build(data))


def _reduction(res) -> float:
    return res.metrics["segments"]["homes"]["change"]["event_reduction_pct"]


@pytest.mark.parametrize("programme", [{"critical_peak": {"price_multiplier": 6.0}},
                                       {"peak_time_rebate": {"rebate_per_kwh": 0.5}}])
def test_same_day_notice_draws_the_factor_of_the_slope(programme):
    """The residential default: events announced the same day remove less; the ratio of the
    logs of what is left is the factor (both ~ b ln r to first order: the run sums customers);
    notice up to the start hour (16 h) is the same day, 17 h is the day before and gives the
    bits of the default day-ahead notice."""
    kind = next(iter(programme))
    runs = {h: _run(_scenario({kind: {**programme[kind], "notice_hours": h}})) for h in (3.0, 16.0, 17.0, 24.0)}
    day_ahead, same_day = _reduction(runs[24.0]), _reduction(runs[3.0])
    assert 0 < same_day < day_ahead
    assert_allclose(math.log(1 - same_day / 100) / math.log(1 - day_ahead / 100), EVENT_SAME_DAY_FACTOR, rtol=0.05)
    assert _reduction(runs[16.0]) == same_day
    for h in (17.0,):
        for role in ("baseline", "scenario"):
            assert runs[h].segments["homes"].load_kw[role].tobytes() == \
                runs[24.0].segments["homes"].load_kw[role].tobytes()
    if kind == "peak_time_rebate":   # the two factors multiply: against a critical peak of the same event price
        cpp = _reduction(_run(_scenario({"critical_peak": {"price_multiplier": 6.0}})))
        assert_allclose(math.log(1 - same_day / 100) / math.log(1 - cpp / 100), PTR_FACTOR * EVENT_SAME_DAY_FACTOR,
                        rtol=0.06)


def test_notice_does_not_matter_without_the_factor():
    """An event model without same_day_factor (1) answers same-day events as day-ahead ones."""
    def data(h):
        d = _scenario({"critical_peak": {"price_multiplier": 6.0, "notice_hours": h}}, customers=150)
        d["populations"][0]["behavior"] = [{"model": "ces", "substitution": -0.1, "daily": -0.02},
                                           {"model": "event_response", "slope": 0.1, "ptr_factor": 0.5}]
        return d
    a, b = _run(data(2.0)), _run(data(24.0))
    assert a.segments["homes"].load_kw["scenario"].tobytes() == b.segments["homes"].load_kw["scenario"].tobytes()
    assert _reduction(a) > 0


@pytest.mark.parametrize("where, value, field", [("tariff", -1.0, "notice_hours"), ("tariff", 200.0, "notice_hours"),
                                                 ("behavior", 1.5, "same_day_factor")])
def test_bad_notice_input_names_the_field(where, value, field):
    from sim.errors import InputError

    data = _scenario({"critical_peak": {"price_multiplier": 6.0}}, customers=10)
    if where == "tariff":
        data["tariffs"]["event"]["critical_peak"]["notice_hours"] = value
    else:
        data["populations"][0]["behavior"] = [{"model": "event_response", "slope": 0.1, "same_day_factor": value}]
    with pytest.raises(InputError, match=field):
        build(data)
