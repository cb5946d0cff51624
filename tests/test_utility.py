"""Each response model's utility term (the consumer ledger's utility side, docs/metrics.md):
against closed forms and quadrature, and exactly zero where consumption does not change."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.integrate import quad

from sim.behavior.ces import respond_ces
from sim.behavior.elasticity import constant_elasticity, price_ratio
from sim.behavior.flexible import shift_cost, shift_flexible, shift_flexible_moved
from sim.behavior.prism import respond_prism, utility_change_prism
from sim.behavior.registry import ResponseModel, register
from sim.behavior.welfare import utility_change_ces, utility_change_from_response, utility_change_trapezoid

import pytest

SET = settings(max_examples=50, deadline=None)


@SET
@given(seed=st.integers(0, 10_000), groups=st.integers(2, 6), s=st.floats(0.0, 3.0), eta=st.floats(-1.8, -0.05))
def test_ces_utility_is_the_integral_of_the_aggregate_inverse_demand(seed, groups, s, eta):
    """Quantities of the two-stage demand itself (aggregate ``X1 = X0 pi ** eta`` in the CES
    price index ``pi``, split by the CES demand ``q1_g = q0_g (X1/X0) (rel_g / pi) ** -s``):
    the utility change is ``integral_{X0}^{X1} P(X) dX`` with ``P = P0 (X / X0) ** (1 / eta)``,
    by quadrature (rtol 1e-8). Spend on the bundle is ``P1 X1``: the bundle is the CES one."""
    rng = np.random.default_rng(seed)
    q0 = rng.uniform(0.5, 20.0, (1, groups))
    p0 = rng.uniform(0.1, 1.5, (1, groups))
    rel = np.exp(rng.normal(0.0, 0.5, (1, groups)))
    p1 = p0 * rel
    e0 = float((p0 * q0).sum())
    w = p0 * q0 / e0
    pi = (w * rel ** (1 - s)).sum() ** (1 / (1 - s)) if abs(1 - s) > 1e-9 else np.exp((w * np.log(rel)).sum())
    if not 0.1 <= pi <= 10:
        return                                                    # outside the clip: not this identity
    x1 = pi ** eta
    q1 = q0 * x1 * (rel / pi) ** (-s)
    assert_allclose((p1 * q1).sum(), pi * e0 * x1, rtol=1e-10)       # E1 = P1 X1
    ref, _ = quad(lambda x: e0 * x ** (1 / eta), 1.0, x1, epsabs=0, epsrel=1e-12)
    got = utility_change_ces(q0, q1, p0, p1, np.array([-s]), np.array([eta]))
    assert_allclose(got, [ref], rtol=1e-8, atol=1e-12 * e0)


@SET
@given(seed=st.integers(0, 10_000), e=st.floats(-1.5, 0.0))
def test_ces_utility_with_one_group_is_the_constant_elasticity_one(seed, e):
    """One price group: the CES index is the group's price relative, and the utility change is
    the constant-elasticity integral of inverse demand (rtol 1e-8: near e = -1 both closed
    forms divide by 1 + e, and hypothesis found e = -0.99999 at 1.9e-9 relative)."""
    rng = np.random.default_rng(seed)
    n = 6
    q0 = rng.uniform(0.1, 5.0, (n, 1))
    p0 = rng.uniform(0.1, 1.0, (n, 1))
    p1 = p0 * np.exp(rng.normal(0, 0.6, (n, 1)))
    el = np.full(n, e)
    q1 = constant_elasticity(q0, price_ratio(p0, p1), el)
    ref = utility_change_from_response(q0, q1, p0, p1, el, 1.0)
    got = utility_change_ces(q0, q1, p0, p1, rng.uniform(-2, 0, n), el)
    assert_allclose(got, ref, rtol=1e-8, atol=1e-12)


def test_prism_utility_is_zero_without_response_and_negative_for_a_dearer_day():
    """Zero elasticities: the load is unchanged and so is utility, exactly. Every price up
    (and the peak more): less consumption, less utility."""
    rng = np.random.default_rng(2)
    load = rng.uniform(0.2, 3.0, (8, 24))
    p0 = np.full(24, 0.5)
    p1 = np.where(np.arange(24) >= 17, 1.2, 0.6)
    peak = np.arange(24) >= 17
    zero = np.zeros(8)
    same = respond_prism(load, p0, p1, peak, zero, zero, 1.0)
    assert_array_equal(utility_change_prism(load, same, p0, p1, peak, zero, zero, 1.0), 0.0)
    sigma, eta = np.full(8, -0.1), np.full(8, -0.2)
    after = respond_prism(load, p0, p1, peak, sigma, eta, 1.0)
    du = utility_change_prism(load, after, p0, p1, peak, sigma, eta, 1.0)
    assert (du < 0).all()
    # the customer's surplus on an energy-only bill is below minus the bill change at fixed
    # quantities (it adapts), and above minus the bill change at its new ones (it values what it gave up)
    bill0 = (load * p0).sum(axis=1)
    cs = du - ((after * p1).sum(axis=1) - bill0)
    assert (cs >= -((load * p1).sum(axis=1) - bill0) - 1e-12).all()


@SET
@given(seed=st.integers(0, 10_000), s=st.floats(0.0, 2.0), eta=st.floats(-1.0, 0.0))
def test_ces_utility_over_steps_equals_it_over_the_periods_they_form(seed, s, eta):
    """The CES model's steps as groups: steps with the same price change add up in the
    index, so the utility over the day's steps equals the utility over its periods (the
    steps' energies and spend-weighted prices summed per period), rtol 1e-10."""
    rng = np.random.default_rng(seed)
    n, spd = 4, 24
    period = rng.integers(0, 3, spd)
    p0 = np.array([0.5, 0.5, 0.5])[period]
    p1 = np.array([1.1, 0.6, 0.3])[period]
    load = rng.uniform(0.1, 3.0, (n, spd))
    sigma, daily = np.full(n, -s), np.full(n, eta)
    after = respond_ces(load, p0, p1, sigma, daily)
    by_step = utility_change_ces(load, after, np.tile(p0, (n, 1)), np.tile(p1, (n, 1)), sigma, daily)
    onehot = np.eye(3)[period]                                     # (spd, 3)
    q0, q1 = load @ onehot, after @ onehot
    present = onehot.sum(axis=0) > 0
    gp0 = np.where(present, (load * p0) @ onehot / np.where(q0 > 0, q0, 1), 0.0)
    gp1 = np.where(present, (load * p1) @ onehot / np.where(q0 > 0, q0, 1), 0.0)
    by_period = utility_change_ces(q0, q1, gp0, gp1, sigma, daily)
    assert_allclose(by_step, by_period, rtol=1e-10, atol=1e-12)
    if s == 0 and eta == 0:
        assert_array_equal(by_step, 0.0)


@SET
@given(q0=st.floats(0.1, 10.0), p0=st.floats(0.1, 1.0), rel=st.floats(-0.5, 0.5), own=st.floats(-0.8, 0.0))
def test_rule_of_a_half_is_exact_for_linear_demand(q0, p0, rel, own):
    """Linear demand ``q(p) = q0 (1 + E (p - p0) / p0)``: the utility change is the integral
    of its inverse demand from q0 to q1, by quadrature (rtol 1e-9)."""
    p1 = p0 * (1 + rel)
    q1 = q0 * (1 + own * rel)
    got = utility_change_trapezoid(np.array([[q0]]), np.array([[q1]]), np.array([p0]), np.array([p1]), 1.0)
    if own == 0:
        assert got[0] == 0.0
        return
    inverse = (lambda q: p0 * (1 + (q / q0 - 1) / own))
    ref, _ = quad(inverse, q0, q1, epsabs=1e-15, epsrel=1e-12)  # (absolute: an integral near 0 has no relative error)
    assert_allclose(got, [ref], rtol=1e-9, atol=1e-14)


@SET
@given(seed=st.integers(0, 10_000), c=st.floats(0.0, 0.3))
def test_flexible_shift_costs_the_inconvenience_of_the_energy_moved(seed, c):
    """Energy is conserved, so the energy moved is half the total absolute change: the utility
    change is ``-c`` times it (rtol 1e-9), and 0 when nothing moves or ``c = 0``."""
    rng = np.random.default_rng(seed)
    n = 5
    load = rng.uniform(0.1, 3.0, (n, 24))
    price = np.where((np.arange(24) >= 17) & (np.arange(24) < 21), 1.0, 0.3)
    cost = np.full(n, c)
    after = shift_flexible(load, price, np.full(n, 0.3), np.ones(24, bool), np.full(n, 5.0), cost, 1.0)
    moved = 0.5 * np.abs(after - load).sum(axis=1)
    assert_allclose(shift_cost(load, after, cost, 1.0), -c * moved, rtol=1e-9, atol=1e-12)
    assert_array_equal(shift_cost(load, load.copy(), cost, 1.0), 0.0)


@SET
@given(seed=st.integers(0, 10_000), c=st.floats(0.0, 0.3), per_customer=st.booleans(),
       window_all=st.booleans(), n=st.integers(1, 9))
def test_the_shift_kernels_energy_moved_is_shift_costs_bit_for_bit(seed, c, per_customer, window_all, n):
    """The energy moved, summed inside the shift kernel (:func:`shift_flexible_moved`), is
    :func:`shift_cost`'s own pass over the two loads bit for bit, for shared, per-customer
    and grouped prices, and for any number of customers (the kernel sums four at a time)."""
    rng = np.random.default_rng(seed)
    load = rng.uniform(0.0, 3.0, (n, 24))
    base = np.where((np.arange(24) >= 17) & (np.arange(24) < 21), 1.0, 0.3)
    price = base[None, :] * rng.choice([1.0, 1.5], size=(n, 1)) if per_customer else base
    window = np.ones(24, bool) if window_all else (np.arange(24) >= 12)
    cost = rng.uniform(0.0, c, n)
    after, moved = shift_flexible_moved(load, price, np.full(n, 0.4), window, np.full(n, 2.0), cost, 0.5)
    assert_array_equal(after, shift_flexible(load, price, np.full(n, 0.4), window, np.full(n, 2.0), cost, 0.5))
    expected = shift_cost(load, after, np.full(n, 1.0), 0.5) / -0.5      # sum_t max(L - L', 0)
    assert_array_equal(moved, expected + 0.0)


def test_a_model_without_a_utility_term_is_refused():
    class NoUtility(ResponseModel):
        name = "no_utility"

        def respond(self, load, day, params):
            return load

    with pytest.raises(TypeError, match="defines no utility"):
        register(NoUtility)
