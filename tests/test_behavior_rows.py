"""Per-customer prices with few distinct rows (sim/rowmath.py): grouping is exact, and
every model run once per group gives each customer its per-customer result bit for bit.

Blocks of 1-60 customers draw their price rows from 1-5 distinct rows (levels with ties, or
continuous), so that groups are uneven, interleaved, sometimes a single customer. The
per-customer paths are called directly (``flexible._shift``, ``storage._dispatch``, the
per-customer forms of the elasticity and utility functions) or, for whole runs, forced by
making ``group_rows`` find nothing. Comparisons are ``np.array_equal`` (bit for bit up to
the sign of zero) unless stated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

import sim
import sim.rowmath as rows_mod
import sim.behavior.flexible as flexible
import sim.behavior.prices as prices
import sim.behavior.storage as storage
from sim.rowmath import RowGroups, group_rows
from sim.behavior.elasticity import constant_elasticity, constant_elasticity_rows, price_ratio
from sim.behavior.welfare import utility_change_from_response

from .conftest import dispatch_call, store_call

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def grouped_block(draw):
    """(rng, load (n, spd), h, distinct rows (k, spd), row of each customer (n,), price (n, spd))."""
    n = draw(st.integers(1, 60))
    spd = draw(st.sampled_from([24, 24, 48, 96]))
    k = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    load = rng.gamma(draw(st.sampled_from([0.5, 2.0])), 5.0, (n, spd))
    load[rng.random((n, spd)) < draw(st.sampled_from([0.0, 0.2]))] = 0.0
    if draw(st.booleans()):      # TOU-like: few levels, ties; tiers add a constant per row
        levels = rng.choice([0.1, 0.25, 0.5, 0.9], size=spd)
        distinct = levels + np.array([0.0, 0.05, 0.3, 0.6, 1.1])[:k, None]
        if draw(st.booleans()):
            distinct[-1] = rng.choice([0.1, 0.25, 0.5, 0.9], size=spd)  # a row with its own order
    else:                        # continuous
        distinct = np.round(rng.uniform(0.02, 1.2, (k, spd)), 6)
    which = rng.integers(0, k, n)
    price = distinct[which]
    return rng, load, 24.0 / spd, distinct, which, price


def _n_groups(*prices) -> int:
    g = group_rows(*prices)
    assert g is not None
    return len(g)


# ----------------------------------------------------------------------------- grouping

@SETTINGS
@given(case=grouped_block())
def test_groups_are_the_distinct_rows(case):
    """Each group holds exactly the customers of one distinct row, its first row first."""
    _, _, _, distinct, which, price = case
    g = group_rows(price)
    assert g is not None and len(g) == len(np.unique(which))
    for grp in range(len(g)):
        members = np.flatnonzero(g.inverse == grp)
        assert_array_equal(price[members], np.broadcast_to(price[g.first[grp]], price[members].shape))
        assert g.first[grp] == members[0]
    firsts = price[g.first]
    assert len(np.unique(firsts, axis=0)) == len(g)       # different groups, different rows


def test_grouping_refuses_what_it_cannot_prove():
    """None (per-customer path) for too many rows, non-finite prices, rows that differ only in
    the sign of a zero, and checksum collisions between different rows."""
    rng = np.random.default_rng(1)
    rows = rng.uniform(0.1, 1.0, (20, 24))
    assert group_rows(rows) is None                                   # 20 > MAX_GROUPS
    assert group_rows(rows[:16]) is not None and len(group_rows(rows[:16])) == 16
    bad = np.tile(rows[0], (5, 1))
    bad[2, 3] = np.nan
    assert group_rows(bad) is None
    zeros = np.zeros((4, 24))
    zeros[1, 5] = -0.0
    assert group_rows(zeros) is None
    assert len(group_rows(np.zeros((4, 24)))) == 1


def test_grouping_detects_checksum_collisions(monkeypatch):
    """Rows are grouped only after a bit-for-bit check: with a checksum that cannot tell rows
    apart (all weights zero), different rows are refused, equal rows still grouped."""
    monkeypatch.setattr(rows_mod, "_weights", lambda spd, k: np.zeros(spd))
    rng = np.random.default_rng(2)
    two = rng.uniform(0.1, 1.0, (2, 24))[[0, 1, 0, 1]]
    assert group_rows(two) is None
    same = np.tile(two[0], (3, 1))
    assert len(group_rows(same)) == 1


def test_joint_groups_split_on_either_array():
    """Grouping on two arrays: customers share a group only if both rows are equal."""
    a = np.array([[1.0] * 24, [1.0] * 24, [2.0] * 24, [2.0] * 24])
    b = np.array([[5.0] * 24, [6.0] * 24, [5.0] * 24, [5.0] * 24])
    g = group_rows(a, b)
    assert len(g) == 3 and g.inverse[2] == g.inverse[3] and len({*g.inverse[:3]}) == 3
    assert len(group_rows(a, np.full(24, 3.0))) == 2                   # shared arrays take no part


def test_groups_from_codes_label_in_order_of_first_appearance():
    """Known codes (tiers) give the groups group_rows would find from the rows they stand for."""
    codes = np.array([2, 0, 2, 3, 0, 0, 3])
    g = RowGroups.from_codes(codes)
    assert_array_equal(g.inverse, [0, 1, 0, 2, 1, 1, 2])
    assert_array_equal(g.first, [0, 1, 3])
    table = np.array([[0.3, 0.5], [0.1, 0.9], [0.3, 0.6], [0.2, 0.2]])
    found = group_rows(table[codes])
    assert_array_equal(found.inverse, g.inverse)
    assert_array_equal(found.first, g.first)


def test_subset_keeps_each_rows_group():
    price = np.array([[1.0] * 4, [2.0] * 4, [1.0] * 4, [3.0] * 4, [2.0] * 4, [3.0] * 4])
    g = group_rows(price)
    sub = np.array([1, 3, 4])
    s = g.subset(sub)
    assert len(s) == 2
    for i, r in enumerate(sub):
        assert_array_equal(price[sub][s.first[s.inverse[i]]], price[r])


# --------------------------------------------------------------------------- the models

@SETTINGS
@given(case=grouped_block(), full_window=st.booleans())
def test_flexible_grouped_equals_per_customer(case, full_window):
    """shift_flexible on grouped rows equals its per-customer path (every row sorted on its own)."""
    rng, load, h, _, _, price = case
    n, spd = load.shape
    share = rng.uniform(0, 1, n) * (rng.random(n) > 0.1)
    window = np.ones(spd, bool) if full_window else rng.random(spd) < 0.6
    window[0] = True
    max_kw = rng.uniform(0, 30, n)
    inconvenience = rng.choice([0.0, 0.05, 0.3], size=n)
    assert _n_groups(price) >= 1
    got = flexible.shift_flexible(load, price, share, window, max_kw, inconvenience, h)
    ref = flexible._shift(load, price, share, window, max_kw, inconvenience)   # per-customer path
    assert_array_equal(got, ref)
    # and with the groups handed in, as respond() does
    again = flexible.shift_flexible(load, price, share, window, max_kw, inconvenience, h, groups=group_rows(price))
    assert_array_equal(again, ref)


@SETTINGS
@given(case=grouped_block(), shared_charge=st.booleans())
def test_storage_grouped_equals_per_customer(case, shared_charge):
    """dispatch_storage on grouped rows equals its per-customer path, with a per-customer or a
    shared charge price."""
    rng, load, h, distinct, which, price = case
    n, spd = load.shape
    charge_price = rng.choice([0.1, 0.2, 0.5], size=spd) if shared_charge else price[::-1][np.argsort(
        rng.random(n))] * 0.7
    args = (np.clip(rng.uniform(0, 1.2, n), 0, 1), rng.choice([0.0, 5.0, 40.0], size=n) * rng.uniform(0.5, 1.5, n),
            rng.choice([0.0, 2.0, 10.0], size=n), rng.choice([1.0, 0.9, 0.5], size=n),
            rng.choice([0.0, 0.005, 0.05], size=n))
    soc0 = args[1] * rng.choice([0.0, 0.3, 1.0], size=n)
    got = store_call(load, charge_price, price, *args, soc0, h)
    ref = dispatch_call(load, np.asarray(charge_price, float), price, *args, soc0, h)  # per-customer path
    for a, b in zip(got, ref):
        assert_array_equal(a, b)


@SETTINGS
@given(case=grouped_block(), shared_base=st.booleans(), clip=st.booleans())
def test_elasticity_and_surplus_grouped_equal_per_customer(case, shared_base, clip):
    """Price ratio, constant elasticity and the utility change, once per distinct pair of
    rows, equal the per-customer computation (including clipped ratios and free steps)."""
    rng, load, h, _, _, price = case
    n, spd = load.shape
    base = np.full(spd, 0.55) if shared_base else np.where(rng.random((1, spd)) < 0.5, 0.55, 0.4) + 0 * price
    scen = price * (30.0 if clip else 1.0)
    if clip:
        scen[:, 0] = 0.0                                              # below the clip too
    if not shared_base and clip:
        base = base.copy()
        base[:, 1] = 0.0                                              # a free baseline step
    e = rng.uniform(-0.4, 0.0, n)
    e[0] = -1.0                                                       # the exact form's customer
    pair = group_rows(*(p for p in (base, scen) if p.ndim == 2))
    assert pair is not None
    ratio = price_ratio(base, scen)
    ref_load = constant_elasticity(load, ratio, e)                    # per-customer ratio
    rows = price_ratio(pair.rows(base), pair.rows(scen))
    got_load = constant_elasticity_rows(load, rows, pair.inverse, e)
    assert_array_equal(got_load, ref_load)
    ref = utility_change_from_response(load, ref_load, base, scen, e, h)
    got = utility_change_from_response(load, got_load, base, scen, e, h, groups=pair)
    assert_array_equal(got, ref)


# ----------------------------------------------------------------------------- whole runs

def _run_large(monkeypatch, grouped: bool):
    """A tiered run with the groups of equal price rows (from the tiers, or found) or, with
    ``grouped`` false, none at all (every model on its per-customer path)."""
    found = []
    real_find, real_codes = rows_mod.group_rows, rows_mod.RowGroups.from_codes

    def spy(*prices, **kw):
        g = real_find(*prices, **kw) if grouped else None
        found.append(g is not None and len(g) > 1)
        return g

    def from_codes(codes):
        g = real_codes(codes) if grouped else None
        found.append(g is not None and len(g) > 1)
        return g

    for mod in (prices, flexible, storage):
        monkeypatch.setattr(mod, "group_rows", spy)
    monkeypatch.setattr(rows_mod.RowGroups, "from_codes", staticmethod(from_codes))
    sc = sim.load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "large_system.yaml", [
        "populations.households.count=700", "populations.businesses.count=60", "populations.plants.count=20",
        "horizon.days=45"])
    return sim.run(sc), found


def test_tiered_run_is_the_same_with_and_without_grouping(monkeypatch):
    """The representative scenario (households on monthly tiers: per-customer prices) gives the
    same loads, bills, storage states and utility whether models run per group or per customer."""
    grouped, found = _run_large(monkeypatch, True)
    assert any(found)                                                 # several tiers met, grouped
    monkeypatch.undo()
    plain, found = _run_large(monkeypatch, False)
    assert found and not any(found)
    for role in ("baseline", "scenario"):
        assert_array_equal(grouped.system_load_kw[role], plain.system_load_kw[role])
    for name, seg in grouped.segments.items():
        other = plain.segments[name]
        for role in ("baseline", "scenario"):
            assert_array_equal(seg.bills[role].total, other.bills[role].total)
            if seg.soc is not None:
                assert_array_equal(seg.soc["thermal_storage"][role], other.soc["thermal_storage"][role])
        for role in ("baseline", "scenario"):
            assert_array_equal(seg.stats[f"utility_{role}"], other.stats[f"utility_{role}"])


@pytest.mark.parametrize("n", [1, 7])
def test_elasticity_factor_uses_one_exponential_path(n):
    """Tiny blocks too: a shared ratio (one exponential per customer and distinct value) gives
    the per-customer ratio's result (one exponential per step), bit for bit."""
    rng = np.random.default_rng(n)
    load = rng.uniform(0.1, 3.0, (n, 24))
    ratio = np.array([0.5, 1.3, 2.0])[rng.integers(0, 3, 24)]
    e = rng.uniform(-0.5, 0.0, n)
    assert_array_equal(constant_elasticity(load, ratio, e), constant_elasticity(load, np.tile(ratio, (n, 1)), e))


@SETTINGS
@given(case=grouped_block(), shared_base=st.booleans(), clip=st.booleans(), grouped=st.booleans())
def test_response_with_utility_in_one_pass_equals_the_two_calls(case, shared_base, clip, grouped):
    """respond_with_utility gives the load of constant_elasticity and the utility change of
    utility_change_from_response on it, bit for bit (grouped or not, clipped, free steps)."""
    from sim.behavior.welfare import respond_with_utility

    rng, load, h, _, _, price = case
    n, spd = load.shape
    base = np.full(spd, 0.55) if shared_base else np.where(rng.random((1, spd)) < 0.5, 0.55, 0.4) + 0 * price
    scen = price * (30.0 if clip else 1.0)
    if not shared_base and clip:
        base = base.copy()
        base[:, 1] = 0.0                                              # a free baseline step
    e = rng.uniform(-0.4, 0.0, n)
    e[0] = -1.0                                                       # the exact form's customer
    pair = group_rows(*(p for p in (base, scen) if p.ndim == 2)) if grouped else None
    ref_load = constant_elasticity(load, price_ratio(base, scen), e)
    ref = utility_change_from_response(load, ref_load, base, scen, e, h, groups=pair)
    got_load, got = respond_with_utility(load, base, scen, e, h, groups=pair)
    assert_array_equal(got_load, ref_load)
    assert_array_equal(got, ref)
