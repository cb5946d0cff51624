"""Equity figures (sim/equity.py, docs/metrics.md "Equity"): the distribution of bill changes,
its structural and behavioural parts, and the Gini coefficients.

Properties for all inputs (hypothesis): deciles in order, shares in [0, 1] and nested, the two
parts adding up to the bill change, the Gini against its pairwise definition. On runs: the
parts add up to every customer's ledger bill change; without any response the change is all
structural; a change that is the same for every customer has no spread; a customer left on
the baseline tariff (not enrolled) has no structural change. Groups (``groups:``): each takes its
share, follows consumption as the scenario says, adds up to the segment, is the same across
shards, and a bad ``groups:`` is refused with file, line and field."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal

import sim
from sim.equity import DECILES, THRESHOLDS_PCT, BillSplit, bill_split, customer_groups, equity_figures, gini
from sim.ledger import segment_ledger

from .conftest import build, scenario_dict

money = st.floats(-1e5, 1e5, allow_nan=False, allow_infinity=False)
bills = st.integers(1, 60).flatmap(lambda n: st.tuples(*(arrays(np.float64, n, elements=money) for _ in range(3))))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(bills)
def test_distribution_invariants_for_any_bills(abc):
    """Deciles increase; shares lie in [0, 1] and are nested (more than 10 % <= 5 % <= 1 % <=
    pays more); the structural and behavioural parts add up to the change, per customer and
    in the totals."""
    split = BillSplit(*abc)
    f = equity_figures(split, "CNY", 30)
    for prefix in ("bill_change", "bill_change_pct"):
        deciles = [f[f"{prefix}_p{p}"] for p in DECILES]
        assert all(a <= b for a, b in zip(deciles, deciles[1:])), deciles
        assert f[f"{prefix}_median"] == f[f"{prefix}_p50"]
    shares = [f["share_pay_more"], *[f[f"share_pay_more_than_{x}pct"] for x in THRESHOLDS_PCT]]
    assert all(0.0 <= s <= 1.0 for s in shares)
    assert all(a >= b for a, b in zip(shares, shares[1:])), shares
    assert f["share_pay_more"] + f["share_pay_less"] <= 1.0
    assert f["structural_winners_share"] + f["structural_losers_share"] <= 1.0
    scale = 1e-12 * max(1.0, np.abs(np.stack(abc)).max())
    assert_allclose(split.structural_change + split.behavioural_change, split.change, rtol=0, atol=4 * scale)
    assert f["structural_change_total"] + f["behavioural_change_total"] == pytest.approx(
        split.change.sum(), abs=4 * scale * len(abc[0]))
    assert f["structural_change_mean"] + f["behavioural_change_mean"] == pytest.approx(f["bill_change_mean"],
                                                                                        abs=8 * scale)
    for key in ("bill_gini_baseline", "bill_gini_scenario", "gains_gini", "losses_gini"):
        assert f[key] is None or 0.0 <= f[key] <= 1.0


@settings(max_examples=200, deadline=None, derandomize=True)
@given(arrays(np.float64, st.integers(1, 40), elements=st.floats(0.0, 1e4)))
def test_gini_against_its_pairwise_definition(x):
    """``sum_ij |x_i - x_j| / (2 n^2 mean)``, computed pair by pair; None for all zeros."""
    g = gini(x)
    if not x.sum() > 0:
        assert g is None
        return
    ref = np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size ** 2 * x.mean())
    assert g == pytest.approx(ref, abs=1e-9)


def test_gini_extremes_and_undefined_cases():
    assert gini(np.full(7, 3.0)) == 0.0
    assert gini(np.r_[np.zeros(9), 5.0]) == pytest.approx(0.9)   # one of ten takes all: (n-1)/n
    assert gini(np.zeros(4)) is None and gini(np.array([-1.0, 2.0])) is None and gini(np.array([])) is None


def test_shares_count_the_thresholds_of_each_customer():
    """Five customers with baseline bill 100: +0.5 %, +2 %, +6 %, +12 % and -3 %."""
    split = BillSplit(np.full(5, 100.0), np.array([100.5, 102.0, 106.0, 112.0, 97.0]), np.full(5, 100.0))
    f = equity_figures(split, "CNY", 30)
    assert (f["share_pay_more"], f["share_pay_more_than_1pct"], f["share_pay_more_than_5pct"],
            f["share_pay_more_than_10pct"]) == (0.8, 0.6, 0.4, 0.2)
    assert f["share_pay_less"] == 0.2 and f["bill_change_median"] == 2.0 and f["bill_change_pct_median"] == 2.0
    assert f["structural_change_total"] == 0.0 and f["behavioural_savers_share"] == 0.2
    assert f["currency"] == "CNY" and "CNY" in f["units"]["money"]


def _two_segments(**scen_changes) -> dict:
    data = scenario_dict(horizon={"start": "2024-02-20", "days": 7, "step_minutes": 60})
    data["populations"][0]["count"] = 200
    data["populations"][1]["count"] = 40
    data["tariffs"]["tou"].update(scen_changes)
    return data


def test_on_a_run_the_parts_add_up_to_every_customers_ledger_bill_change():
    r = sim.run(build(_two_segments(fixed_per_month=2.0)))
    for name, seg in r.segments.items():
        split = bill_split(seg)
        led = segment_ledger(seg)
        total = led.bill_change
        assert_allclose(split.structural_change + split.behavioural_change, total, rtol=0,
                        atol=1e-12 * np.abs(led.bill).max())
        f = r.metrics["segments"][name]["change"]["equity"]
        assert f["customers"] == seg.n
        assert f["bill_change_mean"] == pytest.approx(total.mean(), rel=1e-12)
        # peak prices rise, customers respond: structural losers, and the response saves
        assert f["structural_losers_share"] > 0.5 and f["behavioural_savers_share"] > 0.5
        assert f["behavioural_change_total"] < 0 < f["structural_change_total"]
    system = r.metrics["change"]["equity"]
    assert system["customers"] == sum(s.n for s in r.segments.values())
    assert "bill_gini_baseline" not in system          # no Gini across segments of different sizes
    assert_allclose(system["structural_change_total"] + system["behavioural_change_total"],
                    r.metrics["change"]["revenue_change"], rtol=1e-9)


def test_without_response_the_change_is_all_structural():
    """Elasticity 0: each customer's load is the same in both roles, so its scenario bill is its
    structural bill (the same tariff on the same load, billed by the same code)."""
    data = _two_segments()
    for seg in data["populations"]:
        seg["behavior"] = {"model": "constant_elasticity", "elasticity": 0.0}
    r = sim.run(build(data))
    for seg in r.segments.values():
        split = bill_split(seg)
        assert_array_equal(split.behavioural_change, 0.0)
        assert (split.structural_change != 0).all()


def test_a_uniform_change_has_no_spread():
    """The same tariff plus a fixed charge, without response: every customer pays the same
    amount more, so every decile is that amount, nobody gains, the losses are spread evenly
    (Gini 0) and nothing is behavioural."""
    data = _two_segments()
    data["tariffs"]["dearer"] = dict(copy.deepcopy(data["tariffs"]["flat"]), fixed_per_month=10.0)
    for seg in data["populations"]:
        seg["behavior"] = {"model": "constant_elasticity", "elasticity": 0.0}
        seg["tariff"]["scenario"] = "dearer"
    r = sim.run(build(data))
    for name, seg in r.segments.items():
        f = r.metrics["segments"][name]["change"]["equity"]
        deciles = [f[f"bill_change_p{p}"] for p in DECILES]
        assert deciles[0] > 0 and deciles[-1] - deciles[0] == pytest.approx(0.0, abs=1e-9)
        assert f["share_pay_more"] == 1.0 and f["share_pay_less"] == 0.0
        assert f["gains_gini"] is None and f["losses_gini"] == pytest.approx(0.0, abs=1e-12)
        assert f["structural_losers_share"] == 1.0 and f["behavioural_change_total"] == 0.0


def test_customers_not_enrolled_have_no_structural_change():
    """Opt-in enrolment: those not enrolled stay on the baseline tariff, and their structural
    bill is their baseline bill; the enrolled meet the TOU tariff."""
    data = _two_segments()
    data["populations"][0]["participation"] = {"enrolment": {"mode": "opt_in", "share": 0.4}}
    r = sim.run(build(data))
    seg = r.segments["res"]
    split = bill_split(seg)
    on_base = seg.bills["scenario"].choice == len(seg.tariffs["scenario"]) - 1
    assert 0 < on_base.sum() < seg.n
    assert_array_equal(split.structural_change[on_base], 0.0)
    assert (split.structural_change[~on_base] != 0).all()


# ------------------------------------------------------------------------------- groups

QUINTILES = {"attribute": "income", "shares": {"q1": 0.2, "q2": 0.2, "q3": 0.2, "q4": 0.2, "q5": 0.2}}


def _groups(shares: dict, rho: float = 0.0):
    from sim.scenario.schema import CustomerGroups

    return CustomerGroups(shares=shares, consumption_correlation=rho)


@pytest.mark.parametrize("shares", [{"low": 0.25, "rest": 0.75}, QUINTILES["shares"], {"a": 0.1, "b": 0.6, "c": 0.3}])
@pytest.mark.parametrize("rho", [0.0, 0.7])
def test_groups_take_their_shares_of_the_customers(shares, rho):
    """20,000 customers (five stream blocks): each group's share within 4 binomial standard
    deviations of the scenario's share, whatever the correlation with consumption."""
    kwh = np.random.default_rng(5).lognormal(8.0, 0.6, 20_000)
    group = customer_groups(_groups(shares, rho), 3, "res", kwh)
    counts = np.bincount(group, minlength=len(shares))
    assert counts.sum() == kwh.size and len(counts) == len(shares)
    for count, p in zip(counts, shares.values()):
        assert abs(count / kwh.size - p) < 4 * np.sqrt(p * (1 - p) / kwh.size), (counts, shares)


def test_groups_follow_consumption_as_the_scenario_says():
    """rho = 0: the groups do not depend on the customers' energy at all (the same draws for
    any energies); rho > 0: the higher groups hold the larger customers, rho < 0 the smaller."""
    rng = np.random.default_rng(9)
    kwh = rng.lognormal(8.0, 0.6, 5000)
    g = _groups(QUINTILES["shares"])
    assert_array_equal(customer_groups(g, 3, "res", kwh), customer_groups(g, 3, "res", rng.permutation(kwh)))
    for rho, sign in ((0.8, 1), (-0.8, -1)):
        group = customer_groups(_groups(QUINTILES["shares"], rho), 3, "res", kwh)
        means = [np.median(kwh[group == k]) for k in range(5)]
        assert all(sign * (b - a) > 0 for a, b in zip(means, means[1:])), means
    # another seed or segment, other draws
    assert (customer_groups(g, 4, "res", kwh) != customer_groups(g, 3, "res", kwh)).any()
    assert (customer_groups(g, 3, "shops", kwh) != customer_groups(g, 3, "res", kwh)).any()


def test_group_figures_on_a_run_add_up_to_the_segment_and_are_the_same_across_shards():
    """A segment of two stream blocks with income quintiles: the groups' customers add up to
    the segment, their customer-weighted mean bill change is the segment's, and three shards
    give the same metrics to the bit."""
    import json

    from sim.engine import simulate
    from sim.metrics import compute

    data = _two_segments()
    data["horizon"]["days"] = 3
    data["populations"][0].update(count=4200, groups=dict(QUINTILES, consumption_correlation=0.5))
    sc = build(data)
    one = sim.run(sc)
    eq = one.metrics["segments"]["res"]["change"]["equity"]
    groups = eq["groups"]
    assert list(groups) == list(QUINTILES["shares"]) and eq["group_attribute"] == "income"
    assert sum(g["customers"] for g in groups.values()) == 4200
    assert sum(g["customers"] * g["bill_change_mean"] for g in groups.values()) / 4200 == pytest.approx(
        eq["bill_change_mean"], rel=1e-9)
    assert "groups" not in one.metrics["segments"]["shops"]["change"]["equity"]
    shards = simulate(sc, shards=3, chunk_customers=2048)
    shards.metrics = compute(shards)
    assert json.dumps(shards.metrics, sort_keys=True) == json.dumps(one.metrics, sort_keys=True)


@pytest.mark.parametrize("groups, expected", [
    ({"shares": {"low": 0.3, "high": 0.3}}, "populations[0].groups.shares: the shares must sum to 1; they sum to 0.6"),
    ({"shares": {"low": 1.2, "high": -0.2}}, "populations[0].groups.shares.low: must be > 0 and <= 1; got 1.2"),
    ({"shares": {"9th": 1.0}}, "populations[0].groups.shares.9th: a group name starts with a letter"),
    ({"shares": {}}, "populations[0].groups.shares: give 1 to 20 groups; got 0"),
    ({"shares": {"all": 1.0}, "consumption_correlation": 1.5},
     "populations[0].groups.consumption_correlation: must be <= 1; got 1.5"),
    ({"shares": {"all": 1.0}, "colour": "red"}, "populations[0].groups.colour: unknown key"),
])
def test_bad_groups_name_file_line_and_field(groups, expected, write_yaml, capsys):
    from sim.cli import main

    data = scenario_dict()
    data["populations"][0]["groups"] = groups
    path = write_yaml(data)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err, err
    assert any(line.startswith(f"{path}:") and expected in line for line in err.splitlines()), err


def test_changes_within_half_a_cent_are_no_gains_for_the_concentration():
    """Bills at a floor (a net-metered prosumer at its minimum bill of 0 in both roles) differ
    by rounding residues of about 1e-13: those are no gains, so a segment where nobody gains
    by a cent has no gains Gini (not the Gini of its residues, near 1); a real gain counts,
    and the residues do not move the losses' Gini."""
    base = np.array([100.0, 0.0, 0.0, 0.0, 50.0])
    scen = np.array([110.0, 1e-13, -2e-13, 0.0, 50.0 - 1e-12])
    f = equity_figures(BillSplit(base, scen, base.copy()), "USD", 30)
    assert f["gains_gini"] is None
    assert f["losses_gini"] == pytest.approx(gini(np.array([10.0, 0, 0, 0, 0])))
    scen[2] = -1.0                                        # one customer saves a dollar
    f = equity_figures(BillSplit(base, scen, base.copy()), "USD", 30)
    assert f["gains_gini"] == pytest.approx(gini(np.array([0, 0, 1.0, 0, 0])))
    assert f["share_pay_less"] == pytest.approx(0.2)
