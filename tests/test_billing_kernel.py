"""The compiled day kernel of the bills against straightforward per-customer sums written
here: period energy, real-time, critical-peak and storage products, the running maximum of
each step of the day and the TOU demand maxima; the tier lookup; numpy's summation order."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from pydantic import TypeAdapter

from sim.calendar import Calendar
from sim.rowmath import numpy_sum
from sim.scenario.tariff import Tariff
from sim.tariffs import BillAccumulator, BillSet, DayContext, compile_tariff

SPD = 24
N_PERIODS = 5  # period 3 never occurs: its sums stay 0
N_DEMAND = 3


def _tariff(seed: int, days: int, tiers: dict | None = None):
    """A compiled tariff whose step arrays are replaced by random ones: periods with long and
    short runs, real-time prices, critical-peak adders (zero on some days), a storage rate
    and TOU demand periods."""
    spec = {"type": "flat", "price_per_kwh": 0.5, "demand": {
        "tou": {"periods": {f"d{k}": {"per_kw_month": 1.0 + k} for k in range(N_DEMAND)},
                "schedule": [{"day_types": ["weekday", "weekend"],
                              "hours": {"d0": ["00:00-08:00"], "d1": ["08:00-20:00"], "d2": ["20:00-24:00"]}}]}}}
    if tiers:
        spec.update(price_per_kwh=[0.5, 0.6, 0.9], tiers=tiers)
    cal = Calendar(dt.date(2025, 1, 1), days, SPD, frozenset(), {})
    t = compile_tariff("t", TypeAdapter(Tariff).validate_python(spec), cal)
    rng = np.random.default_rng(seed)
    n = cal.n_steps
    period = rng.choice([0, 1, 2, 4], size=n, p=[0.6, 0.1, 0.1, 0.2]).astype(np.int16)
    period[:SPD] = 0  # a first day with one period only: a sum over all 24 steps
    cpp = np.where(rng.random(n) < 0.2, rng.uniform(0.5, 3.0, n), 0.0)
    cpp[SPD:2 * SPD] = 0.0
    demand = rng.integers(0, N_DEMAND, size=n)
    demand = np.sort(demand.reshape(-1, 6), axis=1).reshape(-1).astype(np.int8)  # runs of a few steps
    return cal, dataclasses.replace(t, period_names=tuple(f"p{k}" for k in range(N_PERIODS)), period=period,
                                    rtp_price=rng.uniform(-0.1, 0.4, n), cpp_adder=cpp,
                                    storage_price=rng.uniform(0.1, 0.3, n), demand_period=demand)


def _loads(rng, n, steps):
    load = rng.lognormal(0.0, 1.0, size=(n, steps)) * 10.0 ** rng.integers(-3, 4, size=(n, 1))
    load[0] = 0.0
    load[1, ::5] = -load[1, ::5]  # export
    return load


def _reference(acc: BillAccumulator, load, storage, days: list[tuple[int, int]]):
    """Each customer's month sums from the day's numbers, one customer and one step at a time."""
    t, h, spd = acc.tariff, acc.step_hours, acc.cal.steps_per_day
    n = load.shape[0]
    by_period = np.zeros((n, t.n_periods))
    rtp, cpp, sto = np.zeros(n), np.zeros(n), np.zeros(n)
    profile = np.zeros((n, spd))
    tou = np.zeros((n, len(t.demand_period_names)))
    for d, k in days:
        for i in range(n):
            sums = [0.0] * t.n_periods
            r = c = s = 0.0
            for j in range(d * spd, (d + k) * spd):
                x = load[i, j]
                sums[t.period[j]] += x
                r += x * t.rtp_price[j]
                c += x * t.cpp_adder[j]
                profile[i, j % spd] = max(profile[i, j % spd], x)
                tou[i, t.demand_period[j]] = max(tou[i, t.demand_period[j]], x)
            for j in range(d * spd, (d + 1) * spd) if storage is not None else ():
                s += storage[i, j] * t.storage_price[j]
            by_period[i] += np.array(sums) * h
            rtp[i] += r * h
            if t.cpp_adder[d * spd:(d + k) * spd].any():  # a day without an adder is skipped
                cpp[i] += c * h
            sto[i] += s * h
    return by_period, rtp, cpp, sto, profile, tou


def _run(cal, t, load, storage, days, chunks):
    acc = BillAccumulator(t, load.shape[0], cal)
    spd = cal.steps_per_day
    for d, k in days:
        ctx = DayContext(t, d, spd, k)
        for a, b in chunks:
            span = slice(d * spd, (d + k) * spd)
            acc.add_day(slice(a, b), load[a:b, span], ctx, None if storage is None else storage[a:b, span])
    return acc


@pytest.mark.parametrize("multi_day", [False, True])
def test_day_kernel_matches_a_per_customer_reference(multi_day):
    cal, t = _tariff(seed=3, days=6)
    rng = np.random.default_rng(11)
    n = 37
    load = _loads(rng, n, cal.n_steps)
    storage = None if multi_day else rng.uniform(0.0, 5.0, size=(n, cal.n_steps))
    days = [(0, 2), (2, 1), (3, 3)] if multi_day else [(d, 1) for d in range(cal.days)]
    acc = _run(cal, t, load, storage, days, [(0, n)])
    by_period, rtp, cpp, sto, profile, tou = _reference(acc, load, storage, days)
    # sums in step order: the same bits as the reference (and as numpy's sum of the columns)
    assert np.array_equal(acc.month_kwh_by_period, by_period)
    assert not acc.month_kwh_by_period[:, 3].any()
    assert np.array_equal(acc.max_lanes.max(axis=1), profile.max(axis=1))
    assert np.array_equal(acc.month_max_tou_kw, tou)
    assert np.array_equal(acc.month_rtp, rtp)
    assert np.array_equal(acc.month_cpp, cpp)
    if storage is not None:
        assert np.array_equal(acc.month_storage, sto)
    assert acc.month_max_so_far(slice(0, n)).tolist() == profile.max(axis=1).tolist()


def test_period_sums_have_numpys_bits():
    """A period's energy is the sum numpy gives of the period's columns (column by column)."""
    cal, t = _tariff(seed=5, days=3)
    load = _loads(np.random.default_rng(2), 50, cal.n_steps)
    acc = _run(cal, t, load, None, [(0, 1)], [(0, 50)])
    day = load[:, :SPD]
    for k in range(N_PERIODS):
        cols = np.flatnonzero(t.period[:SPD] == k)
        assert np.array_equal(acc.month_kwh_by_period[:, k], np.sum(day[:, cols], axis=1) * acc.step_hours)


def test_a_customers_sums_do_not_depend_on_the_chunks():
    cal, t = _tariff(seed=7, days=4)
    rng = np.random.default_rng(4)
    n = 41
    load, storage = _loads(rng, n, cal.n_steps), rng.uniform(0.0, 5.0, size=(n, cal.n_steps))
    days = [(d, 1) for d in range(cal.days)]
    whole = _run(cal, t, load, storage, days, [(0, n)])
    parts = _run(cal, t, load, storage, days, [(0, 1), (1, 17), (17, 40), (40, 41)])
    for name in ("month_kwh_by_period", "month_rtp", "month_cpp", "month_storage", "max_lanes", "month_max_tou_kw"):
        assert np.array_equal(getattr(whole, name), getattr(parts, name)), name
    single = _run(cal, t, load[17:18], storage[17:18], days, [(0, 1)])
    assert np.array_equal(single.month_kwh_by_period[0], whole.month_kwh_by_period[17])
    assert np.array_equal(single.month_rtp, whole.month_rtp[17:18])


def test_maxima_take_nan_like_np_maximum():
    cal, t = _tariff(seed=2, days=2)
    rng = np.random.default_rng(3)
    load = _loads(rng, 6, cal.n_steps)
    load[2, 5] = load[3, SPD + 7] = np.nan
    acc = _run(cal, t, load, None, [(0, 1), (1, 1)], [(0, 6)])
    profile = np.maximum(np.maximum(0.0, load[:, :SPD]), load[:, SPD:])
    assert np.array_equal(acc.max_lanes.max(axis=1), np.max(profile, axis=1), equal_nan=True)
    tou = np.zeros((6, N_DEMAND))
    for j in range(cal.n_steps):
        tou[:, t.demand_period[j]] = np.maximum(tou[:, t.demand_period[j]], load[:, j])
    assert np.array_equal(acc.month_max_tou_kw, tou, equal_nan=True)
    assert np.isnan(acc.month_kwh_by_period[2]).sum() == 1


def test_storage_without_its_own_rate_is_billed_on_the_main_meter():
    cal, t = _tariff(seed=8, days=2)
    t = dataclasses.replace(t, storage_price=None)
    rng = np.random.default_rng(6)
    load, storage = _loads(rng, 5, cal.n_steps), rng.uniform(0.0, 5.0, size=(5, cal.n_steps))
    days = [(0, 1), (1, 1)]
    with_storage = _run(cal, t, load, storage, days, [(0, 5)])
    added = _run(cal, t, load + storage, None, days, [(0, 5)])
    assert with_storage.month_storage is None
    for name in ("month_kwh_by_period", "month_rtp", "max_lanes", "month_max_tou_kw"):
        assert np.array_equal(getattr(with_storage, name), getattr(added, name)), name


@pytest.mark.parametrize("basis", ["monthly", "annual"])
def test_current_tier_counts_the_bounds_at_or_below_the_energy(basis):
    cal, t = _tariff(seed=9, days=2, tiers={"bounds_kwh": [200, 400], "basis": basis})
    n = 9
    acc = BillAccumulator(t, n, cal)
    acc.month_kwh_by_period[:, 0] = [0.0, 100.0, 199.0, 200.0, 150.0, 399.0, 400.0, 1e9, np.nan]
    acc.month_kwh_by_period[:, 2] = [0.0, 0.0, 0.5, 0.0, 50.0, 0.0, 0.0, 0.0, 0.0]
    acc.ytd_kwh[:] = [0.0, 100.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    used = acc.month_kwh_by_period.sum(axis=1) + (acc.ytd_kwh if basis == "annual" else 0.0)
    tier = acc.current_tier(slice(0, n))
    assert tier.tolist() == np.searchsorted(t.tier_bounds, used, side="right").tolist()
    assert acc.current_tier(slice(3, 5)).tolist() == tier[3:5].tolist()


def test_numpy_sum_has_numpys_bits():
    rng = np.random.default_rng(1)
    for n in [*range(0, 140), 255, 256, 257, 744, 1000, 8760]:
        a = rng.standard_normal((4, n)) * 10.0 ** rng.uniform(-4, 4, size=(4, n))
        ref = a.sum(axis=1)
        assert [numpy_sum(row) for row in a] == ref.tolist(), n


@pytest.mark.parametrize("minimum", [2.5, -0.0])
def test_month_close_rows_have_numpys_bits(minimum):
    """The compiled month close (minimum bill, tax, totals, block sums) gives the bits of the
    numpy expressions it replaced: minimum bills that bind and not, signed zeros, empty blocks."""
    from sim.tariffs.billing import _close_rows

    rng = np.random.default_rng(21)
    n, k = 53, 15
    c = rng.normal(0.0, 1.0, (n, k)) * rng.choice([1e-3, 1.0, 1e3], size=(n, k))
    c[:, [3, 4]] = 0.0                                                # minimum and tax: zero before the close
    c[7] = 0.0                                                        # a zero subtotal
    c[8, :3], c[8, 5:] = -0.0, -0.0                                   # a negative-zero subtotal
    kwh = rng.gamma(1.0, 100.0, n)
    spans = np.array([[0, 20], [20, 20], [20, 53]])
    rate = 0.13
    subtotal = c.sum(axis=1)
    ref = c.copy()
    ref[:, 3] = np.maximum(minimum - subtotal, 0.0)
    ref[:, 4] = rate * (subtotal + ref[:, 3])
    total0 = rng.normal(0.0, 10.0, (n, k))
    by_block, kwh_by_block = np.full((3, k), np.nan), np.full(3, np.nan)
    total = total0.copy()
    c_export = c.copy()
    _close_rows(c, kwh, minimum, rate, 3, 4, total, spans, by_block, kwh_by_block, np.zeros(0), np.zeros(0), 0)
    assert np.array_equal(c, ref) and np.array_equal(np.signbit(c), np.signbit(ref))
    assert np.array_equal(total, total0 + ref)
    for s, (a, b) in enumerate(spans):
        assert np.array_equal(by_block[s], ref[a:b].sum(axis=0))
        assert kwh_by_block[s] == kwh[a:b].sum()
    # under an export section: each row's minimum tops up max(subtotal, 0); the true-up payment
    # goes into column 0 after the tax
    late = -rng.gamma(1.0, 1.0, n)
    mins = np.full(n, minimum) + rng.uniform(0, 1, n)
    ref = c_export.copy()
    ref[:, 3] = np.maximum(mins - np.maximum(subtotal, 0.0), 0.0)
    ref[:, 4] = rate * (subtotal + ref[:, 3])
    ref[:, 0] += late
    total = total0.copy()
    _close_rows(c_export, kwh, minimum, rate, 3, 4, total, spans, by_block, kwh_by_block, mins, late, 0)
    np.testing.assert_array_equal(c_export, ref)
    np.testing.assert_array_equal(total, total0 + ref)


def test_pickled_bills_keep_every_bit():
    """A read-out's bills travel without their all-zero charge columns and come back the same
    bits (signed zeros and nan included)."""
    import pickle

    cal, t = _tariff(seed=4, days=2)
    bills = BillSet([t], np.zeros(5, dtype=np.int64), cal)
    acc = bills.accs[0]
    acc.total[:, 2] = [1.5, -0.0, 0.0, np.nan, 3.0]
    acc.total[4, 7] = -0.0
    out = bills.readout()
    back = pickle.loads(pickle.dumps(out, protocol=5))
    assert np.array_equal(back.total.view(np.uint64), acc.total.view(np.uint64))
    assert isinstance(out.total, np.ndarray)                          # the original is untouched
    assert not back.total.flags.writeable and not back.kwh.flags.writeable  # read-outs stay frozen


def test_block_sums_in_the_billing_pass_are_the_engines():
    """Column sums over runs of rows taken in the billing pass have the bits of
    sim.rowmath.block_column_sums, and the bills are those of a pass without them."""
    from sim.rowmath import block_column_sums

    cal, t = _tariff(seed=12, days=2)
    rng = np.random.default_rng(8)
    n = 29
    load = _loads(rng, n, cal.n_steps)
    ctx = DayContext(t, 1, SPD)
    bounds = np.array([0, 4, 4, 17, 29])
    out = np.full((4, SPD), np.nan)
    with_sums, plain = BillAccumulator(t, n, cal), BillAccumulator(t, n, cal)
    day = load[:, SPD:2 * SPD]
    with_sums.add_day(slice(0, n), day, ctx, block_sums=(bounds, out))
    plain.add_day(slice(0, n), day, ctx)
    assert np.array_equal(out, block_column_sums(day, None, bounds))
    for name in ("month_kwh_by_period", "month_rtp", "month_cpp", "max_lanes", "month_max_tou_kw"):
        assert np.array_equal(getattr(with_sums, name), getattr(plain, name)), name


def test_maxima_read_from_another_accumulator_give_the_same_bills():
    """An accumulator that reads the running maxima of another billing the same load
    (``maxima_from``: the structural bill reads the baseline bill's) keeps none of its own
    and bills every month to the bit as one that keeps them (demand charges and peaks
    included), nan included; closed first, it leaves the other's maxima to the other."""
    days = 45                                              # January and part of February
    cal, t = _tariff(seed=9, days=days)
    other = BillAccumulator(compile_tariff("flat", TypeAdapter(Tariff).validate_python(
        {"type": "flat", "price_per_kwh": 0.3}), cal), 23, cal)
    rng = np.random.default_rng(12)
    load = _loads(rng, 23, cal.n_steps)
    load[4, 30] = np.nan
    own, reads = BillAccumulator(t, 23, cal), BillAccumulator(t, 23, cal)
    reads.maxima_from(other)
    assert reads.max_lanes.shape == (0, 8)
    for d in range(days):
        ctx, span = DayContext(t, d, SPD), slice(d * SPD, (d + 1) * SPD)
        for a, b in [(0, 9), (9, 23)]:
            for acc in (other, own, reads):
                acc.add_day(slice(a, b), load[a:b, span], ctx if acc is not other else DayContext(other.tariff, d, SPD))
        assert np.array_equal(reads.month_max_so_far(slice(3, 20)), own.month_max_so_far(slice(3, 20)), equal_nan=True)
        if d + 1 < days and cal.billing_month[d + 1] != cal.billing_month[d]:
            for acc in (own, reads, other):                # the reader before the one it reads
                acc.close_month(int(cal.billing_month[d]))
    for acc in (own, reads, other):
        acc.close_month(int(cal.billing_month[-1]))
    for name in ("total", "kwh", "peak_kw", "monthly_by_block"):
        assert np.array_equal(getattr(reads, name).view(np.uint64), getattr(own, name).view(np.uint64)), name
    assert np.isnan(reads.peak_kw[4]) and not np.isnan(reads.peak_kw[5])
