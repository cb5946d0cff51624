"""The multi-period CES response (``model: ces``, the default for every class): properties
over random three- and four-period tariffs, PRISM as its two-period case, and a
peak / flat / valley rate in whole runs for every class."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import sim
from sim.behavior.ces import respond_ces
from sim.behavior.elasticity import RATIO_MAX
from sim.behavior.prism import respond_prism
from sim.scenario import validate

SPD = 24


@st.composite
def days(draw, periods=(3, 4)):
    """Customers, a baseline price per step and a tariff of 3 or 4 periods (as period
    indices and prices), elasticities and shares."""
    n = draw(st.integers(1, 6))
    k = draw(st.sampled_from(periods))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    load = rng.uniform(0.0, 3.0, (n, SPD)) * (rng.uniform(size=(n, SPD)) > 0.1)
    period = np.sort(rng.integers(0, k, SPD))
    period[:k] = np.arange(k)                                     # every period has a step
    rng.shuffle(period)
    prices = np.sort(rng.uniform(0.2, 1.5, k))[::-1].copy()       # period 0 the dearest
    base = np.full(SPD, draw(st.floats(0.3, 1.2)))
    sigma = rng.uniform(-0.5, -0.01, n)
    eta = rng.uniform(-0.3, 0.0, n)
    share = rng.uniform(0.0, 1.0, n)
    return load, period, prices, base, sigma, eta, share


def _period_use(load, period, k):
    return np.stack([load[:, period == j].sum(axis=1) for j in range(k)], axis=1)


@settings(max_examples=80, deadline=None)
@given(days(), st.floats(1.01, 3.0), st.data())
def test_raising_one_period_price_lowers_its_use_and_not_others_relative_to_it(day, up, data):
    load, period, prices, base, sigma, eta, share = day
    k = prices.size
    j = data.draw(st.integers(0, k - 1))
    raised = prices.copy()
    raised[j] *= up
    a = _period_use(respond_ces(load, base, prices[period], sigma, eta, share), period, k)
    b = _period_use(respond_ces(load, base, raised[period], sigma, eta, share), period, k)
    assert np.all(b[:, j] <= a[:, j] * (1 + 1e-12) + 1e-12)
    has = a[:, j] > 1e-9
    for other in range(k):
        if other != j:   # the other period's use relative to period j's never falls
            assert np.all(b[has, other] * a[has, j] >= a[has, other] * b[has, j] * (1 - 1e-12) - 1e-15)


@settings(max_examples=80, deadline=None)
@given(days(), st.floats(0.3, 0.99))
def test_a_cheaper_valley_draws_use_from_peak_and_flat(day, cut):
    load, period, prices, base, sigma, _, share = day
    k = prices.size
    cheaper = prices.copy()
    cheaper[-1] *= cut                                              # the valley: the cheapest period
    zero = np.zeros(len(load))
    a = _period_use(respond_ces(load, base, prices[period], sigma, zero, share), period, k)
    b = _period_use(respond_ces(load, base, cheaper[period], sigma, zero, share), period, k)
    assert np.all(b[:, -1] >= a[:, -1] - 1e-12)
    assert np.all(b[:, :-1] <= a[:, :-1] + 1e-12)
    moved = (share > 0) & (load[:, period == k - 1].sum(axis=1) > 0)
    assert np.all((b[moved, -1] > a[moved, -1]) | np.isclose(a[moved, :-1].sum(axis=1), 0))


@settings(max_examples=80, deadline=None)
@given(days())
def test_energy_balances_over_the_day(day):
    load, period, prices, base, sigma, eta, share = day
    scen = prices[period]
    zero = np.zeros(len(load))
    out = respond_ces(load, base, scen, sigma, zero, share)
    np.testing.assert_allclose(out.sum(axis=1), load.sum(axis=1), rtol=1e-12, atol=1e-12)
    out = respond_ces(load, base, scen, sigma, eta, share)
    ratio = np.clip((load * scen).sum(axis=1) / (load * base).sum(axis=1), 1 / RATIO_MAX, RATIO_MAX)
    has = load.sum(axis=1) > 0
    np.testing.assert_allclose(out.sum(axis=1)[has], (load.sum(axis=1) * ratio ** eta)[has], rtol=1e-12)


@settings(max_examples=80, deadline=None)
@given(days(periods=(2,)), st.floats(1.0, 9.0))
def test_two_periods_give_prism(day, ratio):
    """Two price levels: PRISM's result (its peak the dearer level), to rounding, wherever
    neither model's clip binds (each step's own price change within [0.1, 10] here, the
    peak / off-peak ratio there)."""
    load, period, prices, base, sigma, eta, _ = day
    scen = np.where(period == 0, prices[1] * ratio, prices[1])
    assume(np.all(scen / base <= RATIO_MAX) and np.all(scen / base >= 1 / RATIO_MAX))
    got = respond_ces(load, base, scen, sigma, eta, 1.0)
    want = respond_prism(load, base, scen, scen >= scen.max(), sigma, eta, 1.0)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_two_periods_give_prism_with_a_tou_baseline_too():
    """Baseline and scenario with the same two periods, the scenario's spread wider."""
    rng = np.random.default_rng(4)
    load = rng.uniform(0.1, 2.0, (50, SPD))
    peak = (np.arange(SPD) >= 8) & (np.arange(SPD) < 20)
    base, scen = np.where(peak, 1.2, 0.6), np.where(peak, 1.9, 0.5)
    sigma, eta = rng.uniform(-0.3, 0, 50), rng.uniform(-0.1, 0, 50)
    np.testing.assert_allclose(respond_ces(load, base, scen, sigma, eta),
                               respond_prism(load, base, scen, peak, sigma, eta, 1.0), rtol=1e-12)


def test_flexible_share_scales_the_substitution_only():
    rng = np.random.default_rng(5)
    load = rng.uniform(0.1, 2.0, (20, SPD))
    base = np.full(SPD, 0.8)
    scen = np.where(np.arange(SPD) >= 17, 1.6, 0.7)
    sigma, zero = np.full(20, -0.2), np.zeros(20)
    full = respond_ces(load, base, scen, sigma, zero, 1.0)
    none = respond_ces(load, base, scen, sigma, zero, 0.0)
    half = respond_ces(load, base, scen, sigma, zero, 0.5)
    np.testing.assert_array_equal(none, load)
    np.testing.assert_allclose(half - load, 0.5 * (full - load), rtol=1e-12, atol=1e-12)


def test_same_bits_whatever_the_neighbours_and_the_row_groups():
    """A customer's result depends on its own rows only: alone, in a block, with per-customer
    prices given row by row or as groups of equal rows."""
    from sim.rowmath import group_rows
    rng = np.random.default_rng(6)
    n = 40
    load = rng.uniform(0.1, 2.0, (n, SPD))
    tiers = np.array([np.where(np.arange(SPD) >= 17, 1.5, 0.6) * f for f in (1.0, 1.1, 1.3)])
    scen = tiers[rng.integers(0, 3, n)]
    base = np.full(SPD, 0.7)
    sigma, eta = rng.uniform(-0.3, 0, n), rng.uniform(-0.1, 0, n)
    block = respond_ces(load, base, scen, sigma, eta)
    grouped = respond_ces(load, base, scen, sigma, eta, pair=group_rows(scen))
    np.testing.assert_array_equal(block, grouped)
    for i in (0, 17, n - 1):
        alone = respond_ces(load[i:i + 1], base, scen[i:i + 1], sigma[i:i + 1], eta[i:i + 1])
        np.testing.assert_array_equal(alone[0], block[i])


def test_critical_peak_is_a_fourth_period():
    """On an event day the critical hours get their own price: their use falls more than the
    rest of the peak's, which falls more than the flat period's."""
    load = np.ones((1, SPD))
    hours = np.arange(SPD)
    scen = np.select([(hours >= 18) & (hours < 20), (hours >= 17) & (hours < 21), hours >= 8],
                     [1.45 * 1.2, 1.45, 1.2], 0.8)
    out = respond_ces(load, np.ones(SPD), scen, np.array([-0.1]), np.array([0.0]))[0]
    cpp, peak, flat, valley = out[18], out[17], out[10], out[2]
    assert cpp < peak < flat < 1.0 < valley


# ---------------------------------------------------------------- whole runs, every class

ANNUAL_KWH = {"residential": 3000, "commercial": 60000, "industrial": 2000000}
FLAT = 0.6


def _peak_flat_valley(flat: float = FLAT, **extra) -> dict:
    """A peak / flat / valley rate priced 1.45 : 1.2 : 0.8 around ``flat``, every day alike."""
    return {"type": "tou",
            "periods": {"peak": {"price_per_kwh": 1.45 * flat}, "flat": {"price_per_kwh": 1.2 * flat},
                        "valley": {"price_per_kwh": 0.8 * flat}},
            "schedule": [{"day_types": ["weekday", "weekend", "holiday"],
                          "hours": {"peak": ["08:00-11:00", "18:00-21:00"], "flat": ["11:00-18:00", "21:00-23:00"],
                                    "valley": ["23:00-08:00"]}}],
            **extra}


def _three_period_run(customer_class: str, customers: int = 300):
    flat = FLAT
    tou = _peak_flat_valley(flat)
    data = {"name": f"pfv_{customer_class}", "seed": 3,
            "horizon": {"start": "2025-03-03", "days": 28, "step_minutes": 60},
            "populations": [{"name": "seg", "customer_class": customer_class, "count": customers,
                             "annual_kwh": {"dist": "lognormal", "mean": ANNUAL_KWH[customer_class], "cv": 0.5},
                             "behavior": "default", "tariff": {"baseline": "flat", "scenario": "tou"}}],
            "tariffs": {"flat": {"type": "flat", "price_per_kwh": flat}, "tou": tou}}
    return sim.run(validate(data))


@pytest.mark.parametrize("customer_class", ["residential", "commercial", "industrial"])
def test_peak_flat_valley_moves_flat_use_down_for_every_class(customer_class):
    """Prices 1.45 : 1.2 : 0.8 around the old flat price: peak and flat use fall, valley use
    rises (the old two-period default raised the flat period's use as much as the valley's)."""
    res = _three_period_run(customer_class)
    hour = res.calendar.hour
    b, s = res.system_load_kw["baseline"], res.system_load_kw["scenario"]
    peak = ((hour >= 8) & (hour < 11)) | ((hour >= 18) & (hour < 21))
    valley = (hour >= 23) | (hour < 8)
    flat = ~peak & ~valley
    change = {name: s[m].sum() / b[m].sum() - 1 for name, m in (("peak", peak), ("flat", flat), ("valley", valley))}
    assert change["peak"] < change["flat"] < 0 < change["valley"], change


def test_an_ndrc_critical_peak_is_a_period_of_its_own_in_a_whole_run():
    """A critical peak 20 % above the peak price (the minimum of NDRC notice 发改价格〔2021〕1093号,
    docs/tariffs.md) on event days: the event hours lose more use than the rest of the peak."""
    flat = FLAT
    tou = _peak_flat_valley(flat, critical_peak={
        "price_multiplier": 1.2, "events": [{"date": f"2025-07-{d:02d}", "hours": "19:00-21:00"} for d in (1, 2, 3)]})
    data = {"name": "pfv_cpp", "seed": 5,
            "horizon": {"start": "2025-06-30", "days": 7, "step_minutes": 60},
            "populations": [{"name": "homes", "customer_class": "residential", "count": 300,
                             "annual_kwh": {"dist": "lognormal", "mean": 3000, "cv": 0.5},
                             "behavior": "default", "tariff": {"baseline": "flat", "scenario": "tou"}}],
            "tariffs": {"flat": {"type": "flat", "price_per_kwh": flat}, "tou": tou}}
    res = sim.run(validate(data))
    b, s = res.system_load_kw["baseline"], res.system_load_kw["scenario"]
    hour, day = res.calendar.hour, np.repeat(np.arange(7), 24)
    event_day = (day >= 1) & (day <= 3)
    cpp = event_day & (hour >= 19) & (hour < 21)
    other_peak = event_day & (hour == 18)
    plain_peak = ~event_day & (hour >= 18) & (hour < 21)
    change = {k: s[m].sum() / b[m].sum() - 1 for k, m in (("cpp", cpp), ("other", other_peak), ("plain", plain_peak))}
    assert change["cpp"] < change["other"] < 0, change
    assert change["cpp"] < change["plain"] < 0, change
