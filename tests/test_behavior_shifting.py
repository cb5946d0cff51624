"""Invariants of the shifting response models: deferrable loads, thermal storage, peak shaving.

Each test names the invariant it checks in its docstring. Loads are random (gamma, mean
2.5 or 10 kW) with exact zeros mixed in, on 24, 48 or 96 steps a day; prices are drawn either from a few levels (ties, as in TOU
tariffs) or continuously (as in real-time pricing), shared by the block or per customer.

Tolerances: energy balances to 1e-9 relative (the models reach ~1e-15); bounds (>= 0, <= capacity, <= power, <= target) to 1e-9 x the scale of the
quantity; "nothing changes" cases are checked bit for bit; comparisons against the naive
reference implementations below to 1e-9 x the customer's largest load or capacity.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sim.behavior.flexible import shift_flexible
from sim.behavior.shaving import shave_peaks

from .conftest import store_call

RTOL = 1e-9
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ----------------------------------------------------------------------------- strategies

@st.composite
def day_block(draw, max_n: int = 5):
    """(load (n, spd), step_hours, rng): one day of a block of customers, >= 0 kW."""
    n = draw(st.integers(1, max_n))
    spd = draw(st.sampled_from([24, 24, 48, 96]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    load = rng.gamma(draw(st.sampled_from([0.5, 2.0])), 5.0, (n, spd))
    load[rng.random((n, spd)) < draw(st.sampled_from([0.0, 0.2]))] = 0.0
    return load, 24.0 / spd, rng


def prices(rng, n: int, spd: int, kind: str) -> np.ndarray:
    """Prices of the day: 'levels' (few values, ties) or 'rtp' (continuous); shared or per customer."""
    shape = (spd,) if kind.startswith("shared") else (n, spd)
    if kind.endswith("levels"):
        return rng.choice([0.1, 0.25, 0.5, 0.9], size=shape)
    return np.round(rng.uniform(0.02, 1.2, size=shape), 6)


PRICE_KINDS = st.sampled_from(["shared-levels", "shared-rtp", "row-levels", "row-rtp"])


def row_price(price: np.ndarray, i: int) -> np.ndarray:
    return price if price.ndim == 1 else price[i]


# ------------------------------------------------------------------- naive references (loops)

def flexible_reference(load, price, share, window, max_kw, inconvenience):
    """Unit-queue greedy of the module docstring, one customer at a time, in plain Python."""
    out = load.astype(float).copy()
    for i in range(load.shape[0]):
        p = row_price(price, i)
        f = share[i] * load[i] * window
        cap = max(max_kw[i], f.max())
        steps = [t for t in range(len(p)) if window[t]]
        sinks = sorted(steps, key=lambda t: (p[t], t))
        sources = sorted(steps, key=lambda t: (-p[t], -t))
        room = {t: cap - f[t] for t in steps}
        avail = {t: f[t] for t in steps}
        a = b = 0
        while a < len(sources) and b < len(sinks):
            src, snk = sources[a], sinks[b]
            if not p[src] > p[snk] + max(inconvenience[i], 0.0):
                break
            amount = min(avail[src], room[snk])
            out[i, src] -= amount
            out[i, snk] += amount
            avail[src] -= amount
            room[snk] -= amount
            if avail[src] <= 0:
                a += 1
            if room[snk] <= 0:
                b += 1
    return out


def storage_reference(load, charge_price, serve_price, share, capacity, power, eff, loss, soc0, h):
    """Plan by a two-pointer pairing, then make it feasible step by step, in plain Python."""
    n, spd = load.shape
    main = load.astype(float).copy()
    charge_kw = np.zeros((n, spd))
    soc_end = np.zeros(n)
    for i in range(n):
        q, p = row_price(charge_price, i), row_price(serve_price, i)
        servable = {t: min(share[i] * load[i, t], power[i]) * h for t in range(spd)}
        storable = {t: eff[i] * power[i] * h for t in range(spd)}
        serve_steps = sorted(range(spd), key=lambda t: (-p[t], t))
        charge_steps = sorted(range(spd), key=lambda t: (q[t], t))
        d = np.zeros(spd)
        c = np.zeros(spd)                      # stored kWh
        left = capacity[i]
        a = b = 0
        while a < spd and b < spd and left > 0:
            ts, tc = serve_steps[a], charge_steps[b]
            if not p[ts] > q[tc] / eff[i]:
                break
            amount = min(servable[ts], storable[tc], left)
            d[ts] += amount
            c[tc] += amount
            servable[ts] -= amount
            storable[tc] -= amount
            left -= amount
            if servable[ts] <= 0:
                a += 1
            if storable[tc] <= 0:
                b += 1
        soc = min(max(soc0[i], 0.0), capacity[i])
        for t in range(spd):                   # never below zero: cut the discharge
            soc += c[t] - d[t]
            if soc < 0:
                d[t] += soc
                soc = 0.0
        soc = min(max(soc0[i], 0.0), capacity[i])
        for t in range(spd):                   # never above capacity: cut the charge
            soc += c[t] - d[t]
            if soc > capacity[i]:
                c[t] -= soc - capacity[i]
                soc = capacity[i]
        main[i] -= d / h
        charge_kw[i] = c / h / eff[i]
        soc_end[i] = soc * (1 - loss[i]) ** (spd * h)
    return main, charge_kw, soc_end


# ------------------------------------------------------------------------ deferrable loads

@st.composite
def flexible_case(draw):
    load, h, rng = draw(day_block())
    n, spd = load.shape
    price = prices(rng, n, spd, draw(PRICE_KINDS))
    share = rng.uniform(0, 1, n) * (rng.random(n) > 0.1)
    window = rng.random(spd) < draw(st.sampled_from([0.5, 1.0, 1.0]))
    max_kw = rng.uniform(0, 30, n)
    inconvenience = rng.choice([0.0, 0.05, 0.3, -0.1], size=n)
    return load, price, share, window, max_kw, inconvenience, h


@SETTINGS
@given(case=flexible_case())
def test_flexible_matches_naive_reference(case):
    """The vectorized shift equals the unit-by-unit greedy queue of the module docstring (1e-9 x peak)."""
    load, price, share, window, max_kw, inconvenience, h = case
    out = shift_flexible(load, price, share, window, max_kw, inconvenience, h)
    ref = flexible_reference(load, price, share, window, max_kw, inconvenience)
    scale = max(load.max(), max_kw.max(), 1.0)
    assert_allclose(out, ref, rtol=0, atol=1e-9 * scale)


@SETTINGS
@given(case=flexible_case())
def test_flexible_conserves_energy_and_bounds(case):
    """Each customer's energy is conserved (1e-9 rel.); load >= 0; steps outside the window are
    unchanged (bit for bit)."""
    load, price, share, window, max_kw, inconvenience, h = case
    out = shift_flexible(load, price, share, window, max_kw, inconvenience, h)
    assert out.shape == load.shape and out.dtype == np.float64
    assert_allclose(out.sum(axis=1) * h, load.sum(axis=1) * h, rtol=RTOL, atol=1e-12)
    assert (out >= 0).all()
    assert_array_equal(out[:, ~window], load[:, ~window])


@SETTINGS
@given(case=flexible_case())
def test_flexible_moves_only_across_a_price_gap_above_inconvenience(case):
    """Every step that loses energy is dearer than every step that gains by more than the
    inconvenience, and a gaining step's flexible power stays <= max(max_kw, largest baseline
    flexible power) (1e-9 x peak)."""
    load, price, share, window, max_kw, inconvenience, h = case
    out = shift_flexible(load, price, share, window, max_kw, inconvenience, h)
    for i in range(load.shape[0]):
        p = row_price(price, i)
        tol = 1e-9 * max(load[i].max(), 1.0)
        delta = out[i] - load[i]
        lose, gain = delta < -tol, delta > tol
        if lose.any() and gain.any():
            assert p[lose].min() > p[gain].max() + max(inconvenience[i], 0.0)
        flex = share[i] * load[i] * window
        cap = max(max_kw[i], flex.max())
        assert (flex[gain] + delta[gain] <= cap + tol).all()


@SETTINGS
@given(case=flexible_case(), level=st.floats(0.0, 2.0))
def test_flexible_flat_price_moves_nothing(case, level):
    """A price flat over the day returns the load unchanged, bit for bit."""
    load, _, share, window, max_kw, inconvenience, h = case
    out = shift_flexible(load, np.full(load.shape[1], level), share, window, max_kw, inconvenience, h)
    assert_array_equal(out, load)


@SETTINGS
@given(case=flexible_case())
def test_flexible_rows_are_independent(case):
    """A customer's result does not depend on the block around it (bit for bit): per-customer prices
    use each customer's own order, and a block equals its customers run one by one."""
    load, price, share, window, max_kw, inconvenience, h = case
    out = shift_flexible(load, price, share, window, max_kw, inconvenience, h)
    for i in range(load.shape[0]):
        one = shift_flexible(load[i:i + 1], row_price(price, i), share[i:i + 1], window,
                             max_kw[i:i + 1], inconvenience[i:i + 1], h)
        assert_array_equal(out[i], one[0])


def test_flexible_saturates_and_rebounds():
    """A bigger price gap moves no more once the cheap steps are full; the moved energy makes a new peak."""
    load = np.full((1, 24), 2.0)
    window = np.ones(24, bool)
    price = np.where(np.arange(24) < 6, 0.1, 0.5)
    args = dict(share=np.array([0.5]), window=window, max_kw=np.array([4.0]),
                inconvenience_per_kwh=np.array([0.05]), step_hours=1.0)
    out1 = shift_flexible(load, price, **args)
    out2 = shift_flexible(load, np.where(np.arange(24) < 6, 0.1, 5.0), **args)
    # Six cheap steps, each can take 4 - 1 = 3 kW more: 18 kWh moved, peak 5 kW at night.
    assert_allclose(out1, out2, rtol=0, atol=1e-12)
    assert_allclose(out1[0, :6], 5.0)
    assert_allclose(out1[0].sum(), 48.0)
    assert out1.max() > load.max()
    # An inconvenience above the gap moves nothing.
    args["inconvenience_per_kwh"] = np.array([0.5])
    assert_array_equal(shift_flexible(load, price, **args), load)


def test_flexible_rejects_bad_shapes():
    """Shapes that do not match the block are refused, naming the argument."""
    load = np.ones((2, 24))
    with pytest.raises(ValueError, match="`price`"):
        shift_flexible(load, np.ones(23), np.ones(2), np.ones(24, bool), np.ones(2), np.zeros(2), 1.0)
    with pytest.raises(ValueError, match="`window`"):
        shift_flexible(load, np.ones(24), np.ones(2), np.ones(12, bool), np.ones(2), np.zeros(2), 1.0)


# -------------------------------------------------------------------------- thermal storage

@st.composite
def storage_case(draw, max_n: int = 5):
    load, h, rng = draw(day_block(max_n))
    n, spd = load.shape
    charge_price = prices(rng, n, spd, draw(PRICE_KINDS))
    serve_price = prices(rng, n, spd, draw(PRICE_KINDS))
    share = rng.uniform(0, 1, n)
    capacity = rng.choice([0.0, 5.0, 40.0, 400.0], size=n) * rng.uniform(0.5, 1.5, n)
    power = rng.choice([0.0, 2.0, 10.0, 50.0], size=n)
    eff = rng.choice([1.0, 0.9, 0.5], size=n)
    loss = rng.choice([0.0, 0.005, 0.05], size=n)
    soc0 = capacity * rng.choice([0.0, 0.3, 1.0], size=n)
    return load, charge_price, serve_price, share, capacity, power, eff, loss, soc0, h


def run_storage(case):
    main, charge, soc_end = store_call(*case)
    assert main.shape == charge.shape == case[0].shape and soc_end.shape == (case[0].shape[0],)
    return main, charge, soc_end


@SETTINGS
@given(case=storage_case())
def test_storage_matches_naive_reference(case):
    """The vectorized plan and feasibility passes equal a two-pointer plan made feasible step by step."""
    main, charge, soc_end = run_storage(case)
    ref_main, ref_charge, ref_soc = storage_reference(*case)
    load, capacity = case[0], case[4]
    scale = max(load.max(), capacity.max(), case[5].max(), 1.0)
    assert_allclose(main, ref_main, rtol=0, atol=1e-9 * scale)
    assert_allclose(charge, ref_charge, rtol=0, atol=1e-9 * scale / min(case[6]))
    assert_allclose(soc_end, ref_soc, rtol=0, atol=1e-9 * scale)


@SETTINGS
@given(case=storage_case())
def test_storage_state_of_charge_stays_within_capacity(case):
    """Recomputed from the returned arrays, 0 <= soc <= capacity at every step end (1e-9 x capacity)."""
    load, _, _, share, capacity, power, eff, loss, soc0, h = case
    main, charge, soc_end = run_storage(case)
    discharge = load - main
    soc = soc0[:, None] + np.cumsum((eff[:, None] * charge - discharge) * h, axis=1)
    tol = 1e-9 * np.maximum(capacity, 1.0)[:, None]
    assert (soc >= -tol).all()
    assert (soc <= capacity[:, None] + tol).all()
    assert (soc_end >= 0).all() and (soc_end <= capacity + tol[:, 0]).all()


@SETTINGS
@given(case=storage_case())
def test_storage_power_and_thermal_limits(case):
    """0 <= charge <= power; 0 <= discharge <= min(power, thermal load); main load >= 0 (1e-9 x scale)."""
    load, _, _, share, capacity, power, eff, loss, soc0, h = case
    main, charge, _ = run_storage(case)
    discharge = load - main
    tol = 1e-9 * max(load.max(), power.max(), 1.0)
    assert (main >= 0).all() and (charge >= 0).all()
    assert (discharge >= -tol).all()
    assert (charge <= power[:, None] + tol).all()
    assert (discharge <= power[:, None] + tol).all()
    assert (discharge <= share[:, None] * load + tol).all()


@SETTINGS
@given(case=storage_case())
def test_storage_energy_balance(case):
    """soc_end = (soc0 + eff x charged - discharged) x (1 - loss) ** (spd x h), to 1e-9 relative."""
    load, _, _, share, capacity, power, eff, loss, soc0, h = case
    main, charge, soc_end = run_storage(case)
    spd = load.shape[1]
    charged = charge.sum(axis=1) * h
    discharged = (load - main).sum(axis=1) * h
    expected = (soc0 + eff * charged - discharged) * (1 - loss) ** (spd * h)
    assert_allclose(soc_end, expected, rtol=RTOL, atol=1e-9 * max(capacity.max(), 1.0))


@SETTINGS
@given(case=storage_case(), level=st.floats(0.0, 2.0))
def test_storage_flat_price_dispatches_nothing(case, level):
    """One flat price for charging and serving dispatches nothing: main == load, charge == 0, bit for bit."""
    load, _, _, share, capacity, power, eff, loss, soc0, h = case
    flat = np.full(load.shape[1], level)
    main, charge, soc_end = store_call(load, flat, flat, share, capacity, power, eff, loss, soc0, h)
    assert_array_equal(main, load)
    assert_array_equal(charge, np.zeros_like(load))
    assert_allclose(soc_end, soc0 * (1 - loss) ** (load.shape[1] * h), rtol=1e-12)


@SETTINGS
@given(case=storage_case())
def test_storage_bill_never_rises_except_for_banked_energy(case):
    """With prices >= 0, bill with storage <= bill without + max(charge price) / eff x net energy banked;
    a store that starts full banks nothing, so its bill never rises (1e-9 x bill)."""
    load, charge_price, serve_price, share, capacity, power, eff, loss, soc0, h = case
    for start in (soc0, capacity):
        main, charge, _ = store_call(load, charge_price, serve_price, share, capacity, power,
                                           eff, loss, start, h)
        without = (load * serve_price).sum(axis=1) * h
        with_storage = (main * serve_price + charge * charge_price).sum(axis=1) * h
        banked = np.maximum(eff * charge.sum(axis=1) * h - (load - main).sum(axis=1) * h, 0.0)
        q_max = charge_price.max(axis=-1)
        tol = 1e-9 * np.maximum(without, 1.0)
        assert (with_storage <= without + q_max / eff * banked + tol).all()
        if start is capacity:
            assert (with_storage <= without + tol).all()


@SETTINGS
@given(case=storage_case(max_n=40))
def test_storage_rows_are_independent(case):
    """A customer's dispatch does not depend on the block around it (bit for bit), whether its
    prices are passed per customer or shared, and whether the block is corrected in place or by rows."""
    main, charge, soc_end = run_storage(case)
    load, charge_price, serve_price = case[:3]
    for i in range(load.shape[0]):
        one = store_call(load[i:i + 1], row_price(charge_price, i), row_price(serve_price, i),
                               *(np.asarray(a)[i:i + 1] for a in case[3:9]), case[9])
        assert_array_equal(main[i], one[0][0])
        assert_array_equal(charge[i], one[1][0])
        assert_array_equal(soc_end[i], one[2][0])


def test_storage_example_ice_tank():
    """A worked case: charge in the deep valley, serve the peak; at most one capacity a day."""
    load = np.full((1, 24), 10.0)
    serve = np.where((np.arange(24) >= 17) & (np.arange(24) < 21), 1.0, 0.5)
    charge = np.where(np.arange(24) < 6, 0.2, 0.5)
    main, charge_kw, soc_end = store_call(load, charge, serve, np.array([0.5]), np.array([12.0]),
                                                np.array([4.0]), np.array([0.8]), np.array([0.0]),
                                                np.array([0.0]), 1.0)
    # Serve 4 kW in 17:00-20:00 (12 kWh = capacity; 0.5 > 0.2 / 0.8 too, but the store is full);
    # charge 12 / 0.8 = 15 kWh at 4 kW in the first steps.
    assert_allclose(main[0, 17:20], 6.0)
    assert_allclose(main[0, 20], 10.0)
    assert_allclose(charge_kw[0, :4], [4.0, 4.0, 4.0, 3.0])
    assert_allclose(charge_kw[0, 4:], 0.0)
    assert_allclose(soc_end, 0.0, atol=1e-12)


def test_storage_rejects_bad_efficiency():
    """Efficiency outside (0, 1] is refused with the bad value."""
    one = np.ones(1)
    with pytest.raises(ValueError, match="`efficiency` must be in"):
        store_call(np.ones((1, 24)), np.ones(24), np.ones(24), one, one, one, np.zeros(1),
                         0 * one, 0 * one, 1.0)


# ---------------------------------------------------------------------------- peak shaving

@st.composite
def shaving_case(draw):
    load, h, rng = draw(day_block())
    n = load.shape[0]
    quantile = draw(st.sampled_from([0.3, 0.6, 0.9, 1.0]))
    target = np.quantile(load, quantile, axis=1) * rng.uniform(0.8, 1.2, n)
    share = rng.choice([0.0, 0.1, 0.5, 1.0], size=n)
    return load, target, share, h


@SETTINGS
@given(case=shaving_case())
def test_shaving_conserves_energy_and_lowers_peaks(case):
    """Energy conserved per customer (1e-9 rel.); no step above max(original, target); the day's maximum
    never increases; no step below its floor max(target, (1 - share) x load) when lowered (1e-9 x peak)."""
    load, target, share, h = case
    out = shave_peaks(load, target, share, h)
    tol = 1e-9 * max(load.max(), 1.0)
    assert_allclose(out.sum(axis=1) * h, load.sum(axis=1) * h, rtol=RTOL, atol=1e-12)
    assert (out <= np.maximum(load, target[:, None]) + tol).all()
    assert (out.max(axis=1) <= load.max(axis=1) + tol).all()
    above = load > target[:, None]
    floor = np.maximum(target[:, None], (1 - share[:, None]) * load)
    assert (out[above] >= floor[above] - tol).all()
    assert (out[~above] >= load[~above] - tol).all()          # quiet steps only gain


@SETTINGS
@given(case=shaving_case())
def test_shaving_uses_headroom_before_leaving_peaks(case):
    """If a step is left above both the target and its floor, all headroom is used: every step that
    was at or below the target ends at the target (1e-9 x peak)."""
    load, target, share, h = case
    out = shave_peaks(load, target, share, h)
    tol = 1e-9 * max(load.max(), 1.0)
    floor = np.maximum(target[:, None], (1 - share[:, None]) * load)
    for i in range(load.shape[0]):
        left_over = (out[i] > floor[i] + tol) & (load[i] > target[i])
        if left_over.any():
            quiet = load[i] <= target[i]
            assert_allclose(out[i, quiet], target[i], rtol=0, atol=tol)


@SETTINGS
@given(case=shaving_case())
def test_shaving_nothing_to_do_changes_nothing(case):
    """A target at or above the day's maximum, or a zero share, returns the load bit for bit."""
    load, target, share, h = case
    assert_array_equal(shave_peaks(load, load.max(axis=1) * 1.01 + 0.0, share, h), load)
    assert_array_equal(shave_peaks(load, load.max(axis=1), share, h), load)
    assert_array_equal(shave_peaks(load, target, np.zeros_like(share), h), load)


@SETTINGS
@given(case=shaving_case())
def test_shaving_rows_are_independent(case):
    """A customer's result does not depend on the block around it (bit for bit)."""
    load, target, share, h = case
    out = shave_peaks(load, target, share, h)
    for i in range(load.shape[0]):
        assert_array_equal(out[i], shave_peaks(load[i:i + 1], target[i:i + 1], share[i:i + 1], h)[0])


def test_shaving_example():
    """A worked case: two 10 kW steps above an 8 kW target, half movable, filled into the quietest steps."""
    load = np.array([[2.0, 4.0, 10.0, 10.0, 6.0, 3.0]])
    out = shave_peaks(load, np.array([8.0]), np.array([0.5]), 4.0)
    # 2 + 2 kW clipped (min(10 - 8, 0.5 x 10) each). Raising {2, 3} to V would need
    # (V - 2) + (V - 3) = 4, V = 4.5 > 4, so the 4 kW step joins: 3 V - 9 = 4, V = 13/3.
    assert_allclose(out[0], [13 / 3, 13 / 3, 8.0, 8.0, 6.0, 13 / 3], rtol=1e-12)
