"""The compiled shift of deferrable loads (sim/behavior/flexible.py) against a per-customer
numpy reference of the formulas in the module docstring, bit for bit.

The reference sorts each customer's steps by price with numpy's stable sort, keeps every
step (window or not: a step outside the window holds no flexible energy and no headroom),
takes the running sum with ``np.cumsum``, finds the steps priced at most ``p[j] + c`` with
``np.searchsorted``, and evaluates ``Q`` at the last step of each price level. The kernel
works on the window steps only and finds those steps with a pointer over the levels: the
same floating-point operations in the same order, so the results are equal bit for bit
(``np.array_equal``, up to the sign of zero). Cases include ties, zero and out-of-range
shares, negative and zero ``max_kw``, negative inconvenience, inconvenience above the
price spread, one-step windows, one step a day, and prices of very different scales;
each runs with a shared price, grouped per-customer prices, and per-customer prices sorted
row by row.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

import sim.behavior.flexible as flexible
from sim.rowmath import group_rows
from sim.behavior.flexible import shift_flexible

SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def reference_row(load, p, share, window, max_kw, inconvenience):
    """One customer's shifted day, with numpy, from the module docstring's formulas."""
    if not window.any():
        return load.copy()
    s = min(max(share, 0.0), 1.0)
    c = max(inconvenience, 0.0)
    order = np.argsort(p, kind="stable")
    ps = p[order]
    f = load[order] * s
    if not window.all():
        f = f * window[order]                      # flexible power, 0 outside the window
    cap = max(max_kw, f.max())                     # device power
    cum = np.cumsum(f)                             # F[j]
    w = np.cumsum(window[order]).astype(float)     # window steps among the j+1 cheapest
    total = cum[-1]
    room = cap * w - cum
    m = np.searchsorted(ps, ps + c, side="right")  # steps priced at most p[j] + c
    last = np.append(ps[1:] != ps[:-1], True)      # last step of each price level
    moved = max(np.minimum(room, total - cum[m - 1])[last].max(), 0.0)
    heads = np.minimum(room, moved) + np.minimum(total - cum, moved)
    delta = np.diff(np.concatenate([[moved], heads]))
    out = load.copy()
    out[order] = np.maximum(load[order] + delta, 0.0)
    return out


@st.composite
def kernel_case(draw):
    """(load, distinct price rows, row of each customer, share, window, max_kw, inconvenience)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 30))
    spd = draw(st.sampled_from([1, 4, 24, 24, 48, 96]))
    k = draw(st.integers(1, 4))
    load = rng.gamma(draw(st.sampled_from([0.5, 2.0])), 5.0, (n, spd))
    load[rng.random((n, spd)) < draw(st.sampled_from([0.0, 0.2, 0.7]))] = 0.0
    kind = draw(st.sampled_from(["levels", "tiers", "continuous", "scaled"]))
    if kind == "levels":
        distinct = rng.choice([0.1, 0.25, 0.5, 0.9], size=(k, spd))
    elif kind == "tiers":
        distinct = rng.choice([0.1, 0.25, 0.5, 0.9], size=spd) + np.array([0.0, 0.05, 0.3, 1.1])[:k, None]
    elif kind == "continuous":
        distinct = np.round(rng.uniform(0.02, 1.2, (k, spd)), 6)
    else:
        distinct = rng.uniform(0.0, 1.0, (k, spd)) * draw(st.sampled_from([1e-7, 1e6]))
    which = rng.integers(0, k, n)
    share = rng.uniform(-0.2, 1.2, n) * (rng.random(n) > 0.15)
    window = rng.random(spd) < draw(st.sampled_from([0.1, 0.5, 1.0]))
    if draw(st.booleans()):
        window[rng.integers(spd)] = True
    max_kw = rng.uniform(-5.0, 30.0, n) * draw(st.sampled_from([0.0, 1e-3, 1.0]))
    inconvenience = rng.choice([0.0, 0.05, 0.3, -0.1, 1e-9, 5.0], size=n)
    return load, distinct, which, share, window, max_kw, inconvenience


def _reference(load, price, share, window, max_kw, inconvenience):
    return np.array([reference_row(load[i], price if price.ndim == 1 else price[i], share[i], window,
                                   max_kw[i], inconvenience[i]) for i in range(load.shape[0])]).reshape(load.shape)


@SETTINGS
@given(case=kernel_case())
def test_kernel_matches_numpy_reference_bit_for_bit(case):
    """Shared, grouped and row-by-row per-customer prices each give the reference's bits."""
    load, distinct, which, share, window, max_kw, inconvenience = case
    args = (share, window, max_kw, inconvenience, 1.0)
    shared = shift_flexible(load, distinct[0], *args)
    assert_array_equal(shared, _reference(load, distinct[0], share, window, max_kw, inconvenience))
    price = distinct[which]
    ref = _reference(load, price, share, window, max_kw, inconvenience)
    assert_array_equal(shift_flexible(load, price, *args), ref)                             # grouped
    assert_array_equal(shift_flexible(load, price, *args, groups=group_rows(price)), ref)  # groups given
    if window.any():
        sh, inc = np.clip(share, 0.0, 1.0), np.maximum(inconvenience, 0.0)
        assert_array_equal(flexible._shift(load, price, sh, window, max_kw, inc), ref)    # row by row


@SETTINGS
@given(case=kernel_case())
def test_kernel_result_of_a_customer_does_not_depend_on_its_path(case):
    """A customer's row is the same bit for bit alone, in its block, with a shared price,
    with its price repeated per customer, grouped or not."""
    load, distinct, which, share, window, max_kw, inconvenience = case
    args = (share, window, max_kw, inconvenience, 1.0)
    n, spd = load.shape
    price = distinct[which]
    block = shift_flexible(load, price, *args)
    for i in range(n):
        one = (share[i:i + 1], window, max_kw[i:i + 1], inconvenience[i:i + 1], 1.0)
        assert_array_equal(shift_flexible(load[i:i + 1], price[i], *one), block[i:i + 1])
        assert_array_equal(shift_flexible(load[i:i + 1], price[i:i + 1], *one), block[i:i + 1])
    same = np.broadcast_to(distinct[0], (n, spd))
    assert_array_equal(shift_flexible(load, np.array(same), *args), shift_flexible(load, distinct[0], *args))
    assert_array_equal(shift_flexible(load, same, *args), shift_flexible(load, distinct[0], *args))


def test_kernel_accepts_any_layout():
    """Fortran-ordered, strided and integer inputs give the result of C-ordered float64 ones."""
    rng = np.random.default_rng(5)
    n, spd = 7, 24
    load = rng.gamma(2.0, 3.0, (n, spd))
    price = rng.choice([0.1, 0.5, 0.9], size=(n, spd))
    share, max_kw, inc = rng.uniform(0, 1, n), rng.uniform(0, 10, n), np.zeros(n)
    window = np.arange(spd) % 3 != 0
    ref = shift_flexible(load, price, share, window, max_kw, inc, 1.0)
    got = shift_flexible(np.asfortranarray(load), np.asfortranarray(price), np.repeat(share, 2)[::2],
                         window.astype(int), max_kw, inc, 1.0)
    assert_array_equal(got, ref)


def test_kernel_rejects_groups_of_another_block():
    rng = np.random.default_rng(1)
    price = rng.choice([0.1, 0.9], size=(4, 24))
    load = np.ones((3, 24))
    with pytest.raises(ValueError, match="groups"):
        shift_flexible(load, price[:3], np.ones(3), np.ones(24, bool), np.ones(3), np.zeros(3), 1.0,
                       groups=group_rows(price))
