"""Invariants of the elasticity-matrix, PRISM and consumer-surplus models.

Each test names the invariant it checks in its docstring, with its tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sim.behavior.matrix import period_price_change, respond_matrix, shifting_matrix
from sim.behavior.prism import respond_prism
from sim.behavior.welfare import surplus_change_constant_elasticity

SPD = 24
#: peak 17-21, valley 23-07, flat otherwise (the TOU of tests/conftest.py): 0 peak, 1 flat, 2 valley
PERIOD = np.array([2] * 7 + [1] * 10 + [0] * 4 + [1] * 2 + [2])
PEAK = PERIOD == 0
FLAT = np.full(SPD, 0.5)
TOU = np.array([0.9, 0.5, 0.25])[PERIOD]

seeds = st.integers(0, 2**32 - 1)
FAST = settings(max_examples=60, deadline=None)


def _load(rng, n=40):
    """Positive baseline loads with a random daily shape. [kW]"""
    return rng.uniform(0.05, 5.0, (n, SPD))


def _prices(rng, n=None, low=0.05, high=2.0):
    shape = (SPD,) if n is None else (n, SPD)
    return rng.uniform(low, high, shape)


# --------------------------------------------------------------------------- matrix


@FAST
@given(seed=seeds, per_customer=st.booleans())
def test_matrix_unchanged_prices_give_unchanged_load(seed, per_customer):
    """Scenario price = baseline price: the load comes back bit-identical."""
    rng = np.random.default_rng(seed)
    load = _load(rng)
    price = _prices(rng, load.shape[0] if per_customer else None)
    matrix = rng.uniform(-0.5, 0.5, (3, 3))
    out = respond_matrix(load, price, price.copy(), PERIOD, matrix, rng.uniform(0, 3, load.shape[0]))
    assert_array_equal(out, load)


@FAST
@given(seed=seeds)
def test_matrix_zero_matrix_gives_unchanged_load(seed):
    """A zero elasticity matrix: no response to any price change (exact)."""
    rng = np.random.default_rng(seed)
    load = _load(rng)
    out = respond_matrix(load, _prices(rng), _prices(rng, load.shape[0]), PERIOD,
                         np.zeros((3, 3)), rng.uniform(0, 3, load.shape[0]))
    assert_array_equal(out, load)


@FAST
@given(seed=seeds, per_customer=st.booleans())
def test_shifting_matrix_conserves_energy(seed, per_customer):
    """shares @ E = 0 (shifting_matrix, atol 1e-15): a customer whose period energies have
    those shares keeps its daily energy under any price change that clips no period
    (rtol 1e-12). Bounds chosen so that no period can be clipped: own in [-0.3, 0],
    shares <= 0.84, period prices within +-20 %, scale <= 1 (|relative change| < 0.7)."""
    rng = np.random.default_rng(seed)
    n = 30
    if per_customer:
        # Per-customer shares taken from each customer's own load: (n, P, P) matrices.
        load = rng.uniform(0.5, 2.0, (n, SPD))
        shares = np.stack([load[:, PERIOD == j].sum(1) for j in range(3)], axis=1)
        shares /= shares.sum(1, keepdims=True)
        own = rng.uniform(-0.3, 0.0, (n, 3))
    else:
        # One set of shares for all: loads built to have exactly those shares.
        shares = rng.uniform(0.1, 1.0, 3)
        shares /= shares.sum()
        shape = rng.uniform(0.5, 1.5, SPD)
        for j in range(3):
            m = PERIOD == j
            shape[m] *= shares[j] / shape[m].sum()
        load = rng.uniform(0.1, 10, (n, 1)) * shape
        own = rng.uniform(-0.3, 0.0, 3)
    matrix = shifting_matrix(own, shares)
    assert_allclose(np.einsum("...i,...ij->...j", shares, matrix), 0.0, atol=1e-15)
    scen = rng.uniform(0.8, 1.2, 3)[PERIOD] * FLAT
    out = respond_matrix(load, FLAT, scen, PERIOD, matrix, rng.uniform(0, 1, n))
    assert (out > 0).all()
    assert_allclose(out.sum(1), load.sum(1), rtol=1e-12)


def test_shifting_matrix_construction():
    """Diagonal = own elasticity; column j's off-diagonal = -own[j] s[j] / (1 - s[j]) >= 0;
    a period holding all the energy has a zero column (exact)."""
    own = np.array([-0.2, -0.1, -0.05])
    s = np.array([0.2, 0.5, 0.3])
    m = shifting_matrix(own, s)
    assert_array_equal(np.diag(m), own)
    for j in range(3):
        off = np.delete(m[:, j], j)
        assert_allclose(off, -own[j] * s[j] / (1 - s[j]), rtol=1e-15)
        assert (off >= 0).all()
    m1 = shifting_matrix(own, np.array([0.0, 1.0, 0.0]))
    assert_array_equal(m1[:, 1], 0.0)


@pytest.mark.parametrize("own, shares, match", [
    ([0.1, -0.1], [0.5, 0.5], "own"),
    ([-0.1, -0.1], [-0.5, 1.5], "shares"),
    ([-0.1, -0.1], [0.5, 0.6], "sum to 1"),
])
def test_shifting_matrix_rejects_bad_input(own, shares, match):
    """Positive own elasticities, negative shares, shares not summing to 1: ValueError naming the field."""
    with pytest.raises(ValueError, match=match):
        shifting_matrix(own, shares)


@FAST
@given(seed=seeds, rise=st.floats(0.0, 3.0))
def test_matrix_dearer_peak_never_raises_peak_load(seed, rise):
    """Only the peak price rises, own elasticity of the peak <= 0, scale >= 0: no peak
    step's load rises (exact comparison)."""
    rng = np.random.default_rng(seed)
    load = _load(rng)
    matrix = rng.uniform(0.0, 0.4, (3, 3))
    np.fill_diagonal(matrix, rng.uniform(-0.6, 0.0, 3))
    scen = FLAT * np.where(PEAK, 1.0 + rise, 1.0)
    out = respond_matrix(load, FLAT, scen, PERIOD, matrix, rng.uniform(0, 3, load.shape[0]))
    assert (out[:, PEAK] <= load[:, PEAK]).all()


@FAST
@given(seed=seeds)
def test_matrix_load_never_negative(seed):
    """Any prices (up to x40 changes), any matrix, any scale >= 0: load >= 0, and a
    period driven below zero by the linear form is exactly zero."""
    rng = np.random.default_rng(seed)
    load = _load(rng)
    matrix = rng.uniform(-3, 3, (3, 3))
    base, scen = _prices(rng), _prices(rng, load.shape[0])
    scale = rng.uniform(0, 5, load.shape[0])
    out = respond_matrix(load, base, scen, PERIOD, matrix, scale)
    assert (out >= 0).all()
    below = (1 + scale[:, None] * (period_price_change(base, scen, PERIOD, 3) @ matrix.T)) < 0
    assert_array_equal(out[below[:, PERIOD]], 0.0)


def test_matrix_absent_period_has_no_effect():
    """A period with no step in the day contributes no price change, whatever its column."""
    period = np.where(PERIOD == 2, 1, PERIOD)        # no valley today
    dp = period_price_change(FLAT, TOU, period, 3)
    assert dp[2] == 0.0
    m = np.array([[-0.2, 0.0, 5.0], [0.0, -0.1, 5.0], [0.0, 0.0, -0.1]])
    m_no_col = m.copy()
    m_no_col[:, 2] = 0.0
    load = _load(np.random.default_rng(1), 5)
    scale = np.ones(5)
    assert_array_equal(respond_matrix(load, FLAT, TOU, period, m, scale),
                       respond_matrix(load, FLAT, TOU, period, m_no_col, scale))


def test_matrix_steps_outside_every_period_are_untouched():
    """period = -1 steps: load unchanged (exact) and their prices enter no period's mean
    (the other steps respond exactly as if those steps' prices were anything else)."""
    rng = np.random.default_rng(2)
    load = _load(rng, 7)
    period = np.where(PERIOD == 2, -1, PERIOD)                     # valley not in the matrix
    m = rng.uniform(-0.3, 0.3, (2, 2))
    scale = rng.uniform(0, 2, 7)
    out = respond_matrix(load, FLAT, TOU, period, m, scale)
    assert_array_equal(out[:, period < 0], load[:, period < 0])
    other = np.where(period < 0, 7.0, TOU)                          # any price outside the periods
    assert_array_equal(respond_matrix(load, FLAT, other, period, m, scale), out)
    assert not np.array_equal(out[:, period >= 0], load[:, period >= 0])


@pytest.mark.parametrize("period, match", [
    (np.full(SPD, 3), r"\[-1, 2\]"),
    (np.full(SPD, -2), r"\[-1, 2\]"),
    (np.full(SPD, 0.0), "integer"),
])
def test_matrix_rejects_bad_period(period, match):
    """Period indices outside [-1, P-1] or not integers: ValueError naming `period`."""
    with pytest.raises(ValueError, match=match):
        respond_matrix(np.ones((1, SPD)), FLAT, TOU, period, np.zeros((3, 3)), np.ones(1))


def test_matrix_worked_example():
    """Hand-computed: peak +80 % with own -0.1 and a flat-to-peak cross 0.05 (rtol 1e-14)."""
    load = np.ones((2, SPD))
    m = np.array([[-0.1, 0.0, 0.0], [0.05, -0.1, 0.0], [0.0, 0.0, -0.1]])
    out = respond_matrix(load, FLAT, np.where(PEAK, 0.9, 0.5), PERIOD, m, np.array([1.0, 2.0]))
    assert_allclose(out[:, PEAK], [[1 - 0.08] * 4, [1 - 0.16] * 4], rtol=1e-14)
    assert_allclose(out[:, PERIOD == 1], np.array([[1.04], [1.08]]) * np.ones((1, 12)), rtol=1e-14)
    assert_array_equal(out[:, PERIOD == 2], 1.0)


def test_matrix_per_customer_prices_match_row_by_row():
    """(n, spd) prices give, row by row, what (spd,) prices give for that customer (rtol 1e-13)."""
    rng = np.random.default_rng(3)
    load = _load(rng, 6)
    pb, ps = _prices(rng, 6), _prices(rng, 6)
    m = rng.uniform(-0.3, 0.3, (3, 3))
    scale = rng.uniform(0, 2, 6)
    block = respond_matrix(load, pb, ps, PERIOD, m, scale)
    for c in range(6):
        row = respond_matrix(load[c:c + 1], pb[c], ps[c], PERIOD, m, scale[c:c + 1])
        assert_allclose(block[c], row[0], rtol=1e-13)


# --------------------------------------------------------------------------- PRISM


def _prism(load, pb, ps, sigma, eta, peak=PEAK):
    n = load.shape[0]
    return respond_prism(load, pb, ps, peak, np.full(n, sigma) if np.ndim(sigma) == 0 else sigma,
                         np.full(n, eta) if np.ndim(eta) == 0 else eta, 1.0)


@FAST
@given(seed=seeds, per_customer=st.booleans())
def test_prism_unchanged_prices_give_unchanged_load(seed, per_customer):
    """Scenario price = baseline price: load unchanged (atol 1e-12 kW; in fact exact)."""
    rng = np.random.default_rng(seed)
    load = _load(rng)
    price = _prices(rng, load.shape[0] if per_customer else None)
    out = _prism(load, price, price.copy(), rng.uniform(-0.3, 0, load.shape[0]),
                 rng.uniform(-0.2, 0, load.shape[0]))
    assert_allclose(out, load, rtol=0, atol=1e-12)


@FAST
@given(seed=seeds)
def test_prism_zero_elasticities_give_unchanged_load(seed):
    """sigma = eta = 0: no response to any price change (atol 1e-12 kW)."""
    rng = np.random.default_rng(seed)
    load = _load(rng)
    out = _prism(load, _prices(rng), _prices(rng, load.shape[0]), 0.0, 0.0)
    assert_allclose(out, load, rtol=0, atol=1e-12)


@FAST
@given(seed=seeds, ratio=st.floats(1.0, 12.0), sigma=st.floats(-1.0, 0.0), eta=st.floats(-0.5, 0.0))
def test_prism_dearer_peak_never_raises_peak_share(seed, ratio, sigma, eta):
    """A peak / off-peak price ratio raised by `ratio` >= 1 with sigma <= 0: the peak share of
    each customer's daily energy does not rise (tolerance 1e-12 on the share)."""
    rng = np.random.default_rng(seed)
    load = _load(rng)
    base = _prices(rng)
    scen = base * np.where(PEAK, ratio, 1.0) * rng.uniform(0.5, 2.0)   # any level, ratio up
    out = _prism(load, base, scen, sigma, eta)
    share0 = load[:, PEAK].sum(1) / load.sum(1)
    share1 = out[:, PEAK].sum(1) / out.sum(1)
    assert (share1 <= share0 + 1e-12).all()


@FAST
@given(seed=seeds, per_customer=st.booleans())
def test_prism_pure_substitution_conserves_daily_energy(seed, per_customer):
    """eta = 0: each customer's daily energy is conserved whatever the prices (rtol 1e-12)."""
    rng = np.random.default_rng(seed)
    load = _load(rng)
    n = load.shape[0]
    out = _prism(load, _prices(rng, n if per_customer else None), _prices(rng, n),
                 rng.uniform(-1.0, 0.0, n), 0.0)
    assert_allclose(out.sum(1), load.sum(1), rtol=1e-12)


@FAST
@given(seed=seeds)
def test_prism_load_never_negative(seed):
    """Any positive prices and elasticities in [-2, 0]: load >= 0, and > 0 where it was > 0."""
    rng = np.random.default_rng(seed)
    load = _load(rng)
    n = load.shape[0]
    out = _prism(load, _prices(rng, n, 0.01, 10), _prices(rng, n, 0.01, 10),
                 rng.uniform(-2, 0, n), rng.uniform(-2, 0, n))
    assert (out > 0).all()


def test_prism_worked_example():
    """Hand-computed PRISM day (rtol 1e-12): 4 peak hours, flat 0.5 -> peak 0.9 / off 0.4,
    flat load 1 kW: Q' = 24 (Pbar'/0.5)^eta, R' = (4/20) (0.9/0.4)^sigma, split of Q'."""
    sigma, eta = -0.09, -0.02
    load = np.ones((1, SPD))
    scen = np.where(PEAK, 0.9, 0.4)
    out = _prism(load, FLAT, scen, sigma, eta)
    pbar = (4 * 0.9 + 20 * 0.4) / 24
    q_new = 24 * (pbar / 0.5) ** eta
    r_new = (4 / 20) * (0.9 / 0.4) ** sigma
    assert_allclose(out[0, PEAK].sum(), q_new * r_new / (1 + r_new), rtol=1e-12)
    assert_allclose(out[0, ~PEAK].sum(), q_new / (1 + r_new), rtol=1e-12)
    assert_allclose(out[0, PEAK], out[0, PEAK][0], rtol=1e-15)        # shape kept


def test_prism_no_peak_energy_means_no_substitution():
    """A customer with no peak load, or a day with no peak step: only the daily response (rtol 1e-12)."""
    load = np.ones((2, SPD))
    load[0, PEAK] = 0.0
    scen = np.where(PEAK, 0.9, 0.4)
    out = _prism(load, FLAT, scen, -0.1, -0.05)
    assert_array_equal(out[0, PEAK], 0.0)
    pbar = 0.4                                                         # customer 0 only buys off-peak
    assert_allclose(out[0].sum(), 20 * (pbar / 0.5) ** -0.05, rtol=1e-12)
    none = _prism(load, FLAT, np.full(SPD, 0.6), -0.1, -0.05, peak=np.zeros(SPD, bool))
    assert_allclose(none, load * (0.6 / 0.5) ** -0.05, rtol=1e-12)


def test_prism_step_hours_does_not_change_the_result():
    """Every PRISM ratio is independent of the step length (rtol 1e-14)."""
    rng = np.random.default_rng(5)
    load = _load(rng, 8)
    args = (load, FLAT, TOU, PEAK, np.full(8, -0.09), np.full(8, -0.02))
    assert_allclose(respond_prism(*args, 0.25), respond_prism(*args, 1.0), rtol=1e-14)


# --------------------------------------------------------------------------- welfare


@FAST
@given(seed=seeds, per_customer=st.booleans())
def test_surplus_zero_when_prices_unchanged(seed, per_customer):
    """p1 = p0 in every step: no surplus change (exact)."""
    rng = np.random.default_rng(seed)
    load = _load(rng)
    price = _prices(rng, load.shape[0] if per_customer else None)
    out = surplus_change_constant_elasticity(load, price, price.copy(),
                                             rng.uniform(-2, 0, load.shape[0]), 1.0)
    assert_array_equal(out, 0.0)


@FAST
@given(seed=seeds, e_low=st.floats(-3.0, 0.0))
def test_surplus_negative_when_every_price_rises(seed, e_low):
    """p1 > p0 in every step with q0 > 0: every customer loses surplus (strictly)."""
    rng = np.random.default_rng(seed)
    load = _load(rng)
    n = load.shape[0]
    base = _prices(rng, n)
    scen = base * rng.uniform(1.001, 20.0, (n, SPD))                   # beyond the x10 clip too
    e = rng.uniform(e_low, 0.0, n)
    assert (surplus_change_constant_elasticity(load, base, scen, e, 0.5) < 0).all()


@FAST
@given(seed=seeds, hours=st.sampled_from([0.25, 0.5, 1.0]))
def test_surplus_zero_elasticity_is_minus_bill_change(seed, hours):
    """e = 0: dCS = -q0 (p1 - p0) x step_hours summed over steps (exact)."""
    rng = np.random.default_rng(seed)
    load = _load(rng)
    n = load.shape[0]
    base, scen = _prices(rng, n), _prices(rng, n)
    out = surplus_change_constant_elasticity(load, base, scen, np.zeros(n), hours)
    assert_array_equal(out, (-load * (scen - base)).sum(axis=1) * hours)


@FAST
@given(seed=seeds, up=st.booleans())
def test_surplus_continuous_through_unit_elasticity(seed, up):
    """e = -1 +/- 1e-6 agrees with the log form -q0 p0 ln(p1/p0) x h (rtol 1e-5), and e = -1
    itself equals it (rtol 1e-14). Prices all rise or all fall, so that the day's sum does
    not cancel (the difference is ~ 1e-6 |ln(p1/p0)| / 2 of each step's term)."""
    rng = np.random.default_rng(seed)
    load = _load(rng)
    n = load.shape[0]
    base = _prices(rng, n)
    move = rng.uniform(1.0, 5.0, (n, SPD)) if up else rng.uniform(0.2, 1.0, (n, SPD))
    scen = base * move                                                 # inside the clip
    log_form = (-load * base * np.log(scen / base)).sum(axis=1) * 1.0
    for e in (-1.0 - 1e-6, -1.0 + 1e-6):
        assert_allclose(surplus_change_constant_elasticity(load, base, scen, np.full(n, e), 1.0),
                        log_form, rtol=1e-5)
    assert_allclose(surplus_change_constant_elasticity(load, base, scen, np.full(n, -1.0), 1.0),
                    log_form, rtol=1e-14)


@FAST
@given(seed=seeds, e=st.floats(-2.5, 0.5).filter(lambda v: abs(v + 1) > 1e-3))
def test_surplus_matches_closed_form_and_quadrature(seed, e):
    """Inside the clip, dCS = -q0 p0/(1+e) [(p1/p0)^(1+e) - 1] (rtol 1e-10) and equals
    -integral of q0 (p/p0)^e dp by 2001-point Simpson quadrature (rtol 1e-8)."""
    rng = np.random.default_rng(seed)
    q0, p0 = rng.uniform(0.1, 5, (1, SPD)), _prices(rng, 1)
    p1 = p0 * rng.uniform(0.15, 8.0, (1, SPD))
    got = surplus_change_constant_elasticity(q0, p0, p1, np.array([e]), 1.0)
    closed = (-q0 * p0 / (1 + e) * ((p1 / p0) ** (1 + e) - 1)).sum()
    assert_allclose(got, closed, rtol=1e-10)
    t = np.linspace(0.0, 1.0, 2001)
    p = p0[..., None] + (p1 - p0)[..., None] * t                        # (1, SPD, 2001)
    f = q0[..., None] * (p / p0[..., None]) ** e
    w = np.ones_like(t)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    simpson = (f * w).sum(-1) * (t[1] - t[0]) / 3 * (p1 - p0)
    assert_allclose(got, -simpson.sum(), rtol=1e-8)


def test_surplus_beyond_clip_adds_flat_rectangle():
    """Price x20 (past RATIO_MAX = 10): curve up to 10 p0, then the flat quantity at 10 p0 (rtol 1e-13)."""
    q0, p0, e = 2.0, 0.5, -0.3
    got = surplus_change_constant_elasticity(np.array([[q0]]), np.array([p0]), np.array([20 * p0]),
                                             np.array([e]), 1.0)
    curve = -q0 * p0 / (1 + e) * (10 ** (1 + e) - 1)
    rect = -q0 * 10 ** e * (20 * p0 - 10 * p0)
    assert_allclose(got, [curve + rect], rtol=1e-13)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), per_customer=st.booleans())
def test_utility_from_response_is_the_surplus_plus_the_spend_change(seed, per_customer):
    """dV = dCS + sum_t (p1 q1 - p0 q0) h (integration by parts): the shortcut through the
    computed response equals the closed-form Marshallian surplus plus the change of spend
    at the responded quantities (rtol 1e-9), clipped ratios and unit elasticity included."""
    from sim.behavior.elasticity import constant_elasticity, price_ratio
    from sim.behavior.welfare import surplus_change_constant_elasticity, utility_change_from_response

    rng = np.random.default_rng(seed)
    n, spd = 7, 24
    q0 = rng.gamma(2.0, 1.0, size=(n, spd))
    shape = (n, spd) if per_customer else (spd,)
    p0 = rng.uniform(0.05, 1.0, size=shape)
    p1 = p0 * np.exp(rng.normal(0, 1.5, size=shape))  # some beyond the [0.1, 10] clip
    e = rng.uniform(-2.0, 0.0, size=n)
    e[0] = -1.0
    q1 = constant_elasticity(q0, price_ratio(p0, p1), e)
    spend = ((q1 * p1).sum(axis=1) - (q0 * p0).sum(axis=1)) * 0.5
    exact = surplus_change_constant_elasticity(q0, p0, p1, e, 0.5) + spend
    scale = np.abs(q0 * np.broadcast_to(p0, q0.shape)).sum(axis=1)
    np.testing.assert_allclose(utility_change_from_response(q0, q1, p0, p1, e, 0.5), exact, rtol=1e-9,
                               atol=1e-9 * scale.max())


@settings(max_examples=40, deadline=None)
@given(q0=st.floats(0.01, 100.0), p0=st.floats(0.05, 2.0), ratio=st.floats(0.2, 5.0),
       e=st.floats(-1.5, -0.01))
def test_utility_is_the_integral_of_inverse_demand(q0, p0, ratio, e):
    """Against an independent reference: scipy's quadrature of the inverse demand
    P(q) = p0 (q / q0) ** (1 / e) from q0 to q1 (rtol 1e-7)."""
    from scipy.integrate import quad

    from sim.behavior.welfare import utility_change_from_response

    q1 = q0 * ratio ** e
    ref, _ = quad(lambda q: p0 * (q / q0) ** (1.0 / e), q0, q1, epsabs=0, epsrel=1e-11)
    got = utility_change_from_response(np.array([[q0]]), np.array([[q1]]), np.array([p0]), np.array([p0 * ratio]),
                                       np.array([e]), 1.0)
    assert_allclose(got, [ref], rtol=1e-7, atol=1e-12 * q0 * p0)


def test_zero_elasticity_and_unchanged_prices_give_no_utility_change_exactly():
    """e = 0 keeps q0, and unchanged prices keep q0: dV is 0 exactly (not to rounding)."""
    from sim.behavior.elasticity import constant_elasticity, price_ratio
    from sim.behavior.welfare import respond_with_utility

    rng = np.random.default_rng(3)
    q0 = rng.gamma(2.0, 1.0, size=(5, 24))
    p0 = rng.uniform(0.1, 1.0, size=24)
    p1 = p0 * rng.uniform(0.3, 3.0, size=24)
    p1[3] = 40 * p0[3]                                                # beyond the clip
    load, du = respond_with_utility(q0, p0, p1, np.zeros(5), 1.0)
    assert_array_equal(load, q0)
    assert (du == 0).all()
    load, du = respond_with_utility(q0, p0, p0.copy(), rng.uniform(-1.2, 0, 5), 1.0)
    assert_array_equal(load, constant_elasticity(q0, price_ratio(p0, p0), np.zeros(5)))
    assert (du == 0).all()


@pytest.mark.parametrize("n", [1, 4, 7, 9])
def test_surplus_sums_are_each_customers_sums_in_time_order(n):
    """The compiled surplus sums equal a plain
    per-customer loop over the steps in time order, bit for bit."""
    from sim.behavior.welfare import _surplus_sums

    rng = np.random.default_rng(n)
    q0 = rng.gamma(1.0, 2.0, (n, 24)) * rng.choice([1e-4, 1.0, 1e4], size=(n, 24))
    q1 = q0 * rng.uniform(0.8, 1.2, (n, 24))
    rows = rng.uniform(0.1, 1.0, (3, 24))
    p0r, p0 = rows * 1.1, rows
    inverse = rng.integers(0, 3, n)
    body = _surplus_sums(q0, q1, inverse, p0r, p0)
    for i in range(n):
        g, b = inverse[i], 0.0
        for t in range(24):
            b += q1[i, t] * p0r[g, t] - q0[i, t] * p0[g, t]
        assert body[i] == b
