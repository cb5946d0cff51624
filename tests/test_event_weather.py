"""Event response that scales with the temperature-dependent load, and a device's per-hour
share that falls with the length of the control: the kernels' invariants (energy, bounds,
monotonicity, the utility term against a quadrature), the features off giving the same
bits, and small runs (hot against mild days, two- against five-hour events)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import integrate

import sim
from sim.behavior.control import duration_factor
from sim.behavior.events import (respond_events, respond_events_split, thermal_load, utility_change_events,
                                 utility_change_events_split)
from sim.scenario.defaults import EVENT_OTHER_FACTOR, EVENT_SLOPE, EVENT_THERMAL_FACTOR, default_behavior

from .conftest import build

DAYS = 3
EV = slice(24 + 14, 24 + 19)          # the event hours of the event day (15 July 2025)


# --------------------------------------------------------------------------- kernels


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 20.0), min_size=5, max_size=5), st.lists(st.floats(0.0, 1.0), min_size=5, max_size=5),
       st.lists(st.sampled_from([1.0, 2.0, 3.0, 6.0, 14.0]), min_size=5, max_size=5),
       st.floats(0.0, 0.9), st.floats(0.0, 0.9), st.floats(0.0, 1.0))
def test_split_energy_and_bounds(load, frac, ratio, b_other, b_thermal, shift):
    """Each part of an event step falls by its own factor r ** -b (never below zero, never
    rising); the day's energy falls by (1 - shift_share) x what left the event steps where
    other steps carry load."""
    q = np.array([load])
    t = q * np.array([frac])
    r = np.array(ratio)
    out = respond_events_split(q, t, r, (np.array([b_other]), np.array([b_thermal])), np.array([shift]))
    event = r != 1.0
    want = (q - t) * r ** -b_other + t * r ** -b_thermal
    assert_allclose(out[:, event], want[:, event], rtol=1e-12, atol=1e-12)
    assert (out >= -1e-12).all()
    removed = (q - out)[:, event].sum()
    rest = q[:, ~event].sum()
    expected = q.sum() - (removed if rest == 0 else (1.0 - shift) * removed)
    assert_allclose(out.sum(), expected, rtol=1e-12, atol=1e-9)


def test_split_with_equal_slopes_or_no_thermal_load_is_the_plain_response():
    rng = np.random.default_rng(3)
    q = rng.uniform(0.2, 3.0, (4, 24))
    r = np.where((np.arange(24) >= 16) & (np.arange(24) < 19), 6.0, 1.0)
    b = rng.uniform(0.05, 0.2, 4)
    plain = respond_events(q, r, b, np.ones(4))
    assert_allclose(respond_events_split(q, q * 0.4, r, (b, b), np.ones(4)), plain, rtol=1e-12)
    assert_allclose(respond_events_split(q, np.zeros_like(q), r, (b * 0.5, b * 3), np.ones(4)),
                    respond_events(q, r, b * 0.5, np.ones(4)), rtol=1e-12)


def test_more_thermal_load_more_reduction():
    """With the temperature-dependent part answering more steeply, the event step's reduction
    grows with its share of the load (a hotter day)."""
    q = np.ones((1, 3))
    r = np.array([1.0, 3.0, 1.0])
    b = (np.array([EVENT_SLOPE * EVENT_OTHER_FACTOR]), np.array([EVENT_SLOPE * EVENT_THERMAL_FACTOR]))
    got = [1.0 - respond_events_split(q, q * f, r, b, np.zeros(1))[0, 1] for f in (0.0, 0.2, 0.5, 0.8)]
    assert all(y > x for x, y in zip(got, got[1:]))
    assert_allclose(got[0], 1.0 - 3.0 ** -(EVENT_SLOPE * EVENT_OTHER_FACTOR))


def test_thermal_load_never_exceeds_the_load():
    load = np.array([[1.0, 0.5, -0.1]])
    got = thermal_load(load, np.array([0.3, 0.9, 0.5]), np.array([1.0]))
    assert got.tolist() == [[0.3, 0.5, 0.0]]


def test_split_utility_against_quadrature():
    """Each part of each event step: the integral of its own constant-elasticity inverse
    demand (scipy quad); energy used elsewhere at its price."""
    q0 = np.array([[2.0, 3.0, 1.5, 0.5]])
    th = np.array([[0.0, 1.2, 0.9, 0.0]])
    plain = np.array([0.1, 0.2, 0.2, 0.1])
    ratio = np.array([1.0, 6.0, 3.0, 1.0])
    bo, bt, h = 0.04, 0.3, 0.5
    q1 = respond_events_split(q0, th, ratio, (np.array([bo]), np.array([bt])), np.array([0.7]))
    want = 0.0
    for t in range(4):
        if ratio[t] == 1.0:
            want += (q1[0, t] - q0[0, t]) * plain[t] * h
            continue
        for part, b in ((q0[0, t] - th[0, t], bo), (th[0, t], bt)):
            if part > 0:
                inv = (lambda q, p=part, b=b, t=t: plain[t] * (q / p) ** (-1.0 / b))
                want += integrate.quad(inv, part, part * ratio[t] ** -b)[0] * h
    got = utility_change_events_split(q0, q1, th, plain, ratio, (np.array([bo]), np.array([bt])), h)
    assert_allclose(got, [want], rtol=1e-9)
    # equal slopes: the plain model's utility
    q1p = respond_events(q0, ratio, np.array([bt]), np.array([0.7]))
    assert_allclose(utility_change_events_split(q0, q1p, th, plain, ratio, (np.array([bt]),) * 2, h),
                    utility_change_events(q0, q1p, plain, ratio, np.array([bt]), h), rtol=1e-12)


def test_duration_factor_falls_with_length_and_is_one_at_the_reference():
    hours = np.array([0.0, 1.0, 2.0, 5.0, 8.0])
    f = duration_factor(hours, 5.0, 0.54)
    assert f[0] == 1.0 and f[3] == 1.0
    assert f[1] > f[2] > f[3] > f[4]
    assert_allclose(f[2], 41.0 / 25.0, rtol=0.01)           # the SPP's two- against five-hour figure
    assert (duration_factor(hours, 5.0, 0.0) == 1.0).all()


# --------------------------------------------------------------------------- runs


def _weather_csv(path, event_c: float):
    rows = ["hour,temp_air"] + [f"{h},{event_c if 14 <= h < 19 else event_c - 8.0}" for _ in range(DAYS)
                                for h in range(24)]
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def _data(behavior, weather=None, event_hours="14:00-19:00", event=True, n=300) -> dict:
    tou = {"type": "tou", "periods": {"peak": {"price_per_kwh": 0.2}, "off": {"price_per_kwh": 0.1}},
           "schedule": [{"day_types": ["weekday"], "hours": {"peak": ["14:00-19:00"], "off": ["19:00-14:00"]}},
                        {"day_types": ["weekend", "holiday"], "hours": {"off": ["00:00-24:00"]}}]}
    if event:
        tou["critical_peak"] = {"price_multiplier": 3.0, "events": [{"date": "2025-07-15", "hours": event_hours}]}
    data = {"name": "ew", "seed": 11, "horizon": {"start": "2025-07-14", "days": DAYS, "step_minutes": 60},
            "populations": [{"name": "r", "customer_class": "residential", "count": n,
                             "annual_kwh": {"dist": "lognormal", "mean": 3000, "cv": 0.5}, "behavior": behavior,
                             "tariff": {"baseline": "flat", "scenario": "cpp"}}],
            "tariffs": {"flat": {"type": "flat", "price_per_kwh": 0.12}, "cpp": tou}}
    if weather is not None:
        data["weather"] = {"csv": weather}
    return data


def _without_split() -> list[dict]:
    models = default_behavior("residential")
    for m in models:
        m.pop("thermal_factor", None), m.pop("other_factor", None)
    return models


def _same_bits(a, b) -> bool:
    la, lb = a.segments["r"].load_kw["scenario"], b.segments["r"].load_kw["scenario"]
    return np.array_equal(la, lb) and a.metrics == b.metrics


def test_without_weather_the_split_changes_nothing():
    """The temperature split needs weather: without it the default gives the bits of the event
    model with no thermal_factor."""
    assert _same_bits(sim.run(build(_data(default_behavior("residential")))), sim.run(build(_data(_without_split()))))


def test_with_weather_but_no_thermal_factor_the_old_form(tmp_path):
    """thermal_factor null: the whole load answers with the slope, weather or not; a mild day's
    reduction is then the same as without the weather's (nil) cooling load."""
    csv = _weather_csv(tmp_path / "m.csv", 24.0)             # below the balance point: no cooling load
    assert _same_bits(sim.run(build(_data(_without_split(), csv))), sim.run(build(_data(_without_split()))))


def _reduction(data_on, data_off) -> float:
    on = sim.run(build(data_on)).segments["r"].load_kw["scenario"]
    off = sim.run(build(data_off)).segments["r"].load_kw["scenario"]
    return 1.0 - on[EV].sum() / off[EV].sum()


def test_hot_days_draw_about_three_times_the_mild_days_response(tmp_path):
    """The California pilot's 13 % on hot and 4 % on mild days: the residential default
    responds more on a hot day than on a mild one, by about the source's factor of 3."""
    beh = default_behavior("residential")
    red = {}
    for name, temp in (("hot", 37.7), ("mild", 25.3)):
        csv = _weather_csv(tmp_path / f"{name}.csv", temp)
        red[name] = _reduction(_data(beh, csv), _data(beh, csv, event=False))
    assert 0.02 < red["mild"] < 0.07 and 0.09 < red["hot"] < 0.18
    assert 2.3 < red["hot"] / red["mild"] < 4.2


def test_a_thermostat_cuts_more_per_hour_in_a_two_hour_event(tmp_path):
    """With duration_exponent, a device's per-hour reduction is larger in a two-hour event than
    in a five-hour one; with 0 (the default) the per-hour share is the same, and the bits are
    those of a device without the field."""
    csv = _weather_csv(tmp_path / "t.csv", 33.6)
    device = {"model": "controllable_load", "adoption": 1.0, "device_share": 0.5, "duration_exponent": 0.54}
    two = _data([device], csv, "14:00-16:00")
    five = _data([device], csv)

    def per_hour(data, hours):
        """The energy the devices kept off, per event hour. [kWh/h]"""
        return sim.run(build(data)).metrics["segments"]["r"]["change"]["device_curtailed_kwh"] / hours

    r2, r5 = per_hour(two, 2), per_hour(five, 5)
    assert r2 > r5 > 0
    # the same temperature in every event hour: the cooling load per hour is the same, and the
    # per-hour ratio is the duration factor's
    assert r2 / r5 == pytest.approx((2 / 5) ** -0.54, rel=1e-9)
    plain = {k: v for k, v in device.items() if k != "duration_exponent"}
    assert _same_bits(sim.run(build(_data([{**plain, "duration_exponent": 0.0}], csv))), sim.run(build(_data([plain], csv))))
