"""Linked sweep parameters: a swept name drives scenario fields through formulas.

Formulas are checked before evaluation (only arithmetic, names and a few functions), every
linked field is validated like a swept path (bad input: exit 2, nothing run), the linked
values land in the scenario of each run and in the tables, and each run is reproduced by
``sim.run`` with those values set by hand.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sim
from sim.cli import main
from sim.errors import InputError
from sim.sweep.execute import flatten
from sim.sweep.links import compile_formula, evaluate, expand
from sim.sweep.plan import plan_sweep

from .conftest import tiny as tiny_scenario

PERIODS = "tariffs.tou.periods"
PEAK, FLAT, VALLEY = (f"{PERIODS}.{p}.price_per_kwh" for p in ("peak", "flat", "valley"))


def tiny() -> dict:
    return tiny_scenario(name="linked")


# --------------------------------------------------------------------------- formulas


def test_formulas_allow_arithmetic_and_refuse_everything_else():
    f = compile_formula("0.55 * sqrt(ratio) + base - 2 ** -k % 3")
    assert f.names == ("ratio", "base", "k") and f.drivers == ("ratio", "k") and f.uses_base
    for text, msg in [("__import__('os')", "unknown function"),
                      ("ratio.real", "attributes and indexing"), ("x[0]", "attributes and indexing"),
                      ("open('f')", "unknown function 'open'"), ("'a' * 3", "only numbers"),
                      ("x if y else z", "if-else"), ("x < 1", "a comparison"), ("lambda: 1", "lambda"),
                      ("(x := 2)", "an assignment"), ("[x]", "a list"), ("x and y", "and / or"), ("x @ y", "MatMult"), ("True * x", "only numbers"),
                      ("f(x)", "unknown function 'f'"), ("sqrt(x=1)", "unknown function"), ("1 +", "cannot read"),
                      ("", "empty formula"), ("x" * 501, "at most 500")]:
        with pytest.raises(ValueError, match=msg.replace("(", r"\(").replace("[", r"\[")):
            compile_formula(text)


@given(a=st.floats(-1e6, 1e6), b=st.floats(0.001, 1e3), base=st.floats(-1e3, 1e3))
def test_a_formula_gives_pythons_arithmetic_to_12_digits(a, b, base):
    """The evaluator agrees with the same arithmetic done in Python, rounded to 12 significant digits."""
    got = evaluate(compile_formula("(a - base) / b + sqrt(b) * 2 ** 2"), {"a": a, "b": b, "base": base})
    assert got == float(f"{(a - base) / b + math.sqrt(b) * 2 ** 2:.12g}")


def test_evaluation_failures_are_value_errors():
    for text, values, msg in [("1 / x", {"x": 0}, "division by zero"), ("log(x)", {"x": -1}, "math domain"),
                              ("exp(x)", {"x": 1e6}, "OverflowError"), ("x ** 0.5", {"x": -1.0}, "not a finite"),
                              ("10 ** x", {"x": 1e9}, "evaluate"), ("x", {"x": "abc"}, "not a number")]:
        with pytest.raises(ValueError, match=msg):
            evaluate(compile_formula(text), values)


def test_a_star_expands_to_every_existing_field():
    data = tiny()
    assert expand(f"{PERIODS}.*.price_per_kwh", data) == [PEAK, FLAT, VALLEY]
    assert expand("populations.*.count", data) == ["populations.res.count", "populations.shops.count"]
    assert expand(PEAK, data) == [PEAK]
    with pytest.raises(ValueError, match="matches no field"):
        expand(f"{PERIODS}.*.per_kw_month", data)


# --------------------------------------------------------------------------- plans


def test_a_ratio_sweep_sets_both_prices_at_every_point(write_yaml):
    """peak = 0.5 sqrt(r), valley = 0.5 / sqrt(r): their ratio is r and their geometric mean 0.5."""
    plan = plan_sweep(write_yaml(tiny()), params={"ratio": "1.5:3:4", PEAK: "link(0.5 * sqrt(ratio))",
                                                  VALLEY: "link(0.5 / sqrt(ratio))"}, replications=2)
    assert plan.columns == ["ratio", PEAK, VALLEY] and len(plan.runs) == 8
    assert [p["ratio"] for p in plan.design.points] == [1.5, 2.0, 2.5, 3.0]
    for run in plan.runs:
        point = plan.design.points[run.point]
        periods = run.scenario["tariffs"]["tou"]["periods"]
        assert periods["peak"]["price_per_kwh"] == point[PEAK]
        assert periods["valley"]["price_per_kwh"] == point[VALLEY]
        assert point[PEAK] / point[VALLEY] == pytest.approx(point["ratio"], rel=1e-11)
        assert periods["flat"]["price_per_kwh"] == 0.5 and "ratio" not in run.scenario
    assert plan.definition["links"] == [[PEAK, "0.5 * sqrt(ratio)"], [VALLEY, "0.5 / sqrt(ratio)"]]


def test_scale_keeps_every_ratio_between_the_tariffs_prices(write_yaml):
    plan = plan_sweep(write_yaml(tiny()), params={"level": "0.8,1,1.25", f"{PERIODS}.*.price_per_kwh": "scale(level)"})
    assert plan.columns == ["level", PEAK, FLAT, VALLEY]
    for point in plan.design.points:
        assert [point[p] for p in (PEAK, FLAT, VALLEY)] == pytest.approx(
            [0.9 * point["level"], 0.5 * point["level"], 0.25 * point["level"]], rel=1e-12)
        assert point[PEAK] / point[VALLEY] == pytest.approx(0.9 / 0.25, rel=1e-11)


def test_links_in_a_sweep_block_and_in_sampled_designs(write_yaml):
    data = tiny()
    data["sweep"] = {"design": "lhs", "samples": 5, "seed": 3,
                     "params": {"k": "uniform(0.5,2)", "populations.res.count": "link(round(40 * k))"}}
    plan = plan_sweep(write_yaml(data))
    counts = [p["populations.res.count"] for p in plan.design.points]
    assert all(isinstance(c, int) and c == round(40 * p["k"]) for c, p in zip(counts, plan.design.points))
    assert [r.scenario["populations"][0]["count"] for r in plan.runs] == counts


def test_a_sweep_without_links_keeps_its_definition():
    """Sweeps without links hash as before, so their folders and resumes are unchanged."""
    plan = plan_sweep(tiny(), params={PEAK: "0.7,0.9"})
    assert "links" not in plan.definition and plan.links == [] and plan.columns == [PEAK]


@pytest.mark.parametrize("params, message", [
    ({"r": "1,2", PEAK: "link(0.5 * q)"}, f"--param {PEAK}: the formula '0.5 * q' uses 'q', which is no swept name "
                                          "(swept names: r)"),
    ({"r": "1,2", f"{PERIODS}.shoulder.price_per_kwh": "link(r)"}, "shoulder.price_per_kwh"),
    ({"r": "1,2", "tariffs.tuo.periods.peak.price_per_kwh": "link(r)"}, "--param tariffs.tuo.periods.peak.price_per_kwh"),
    ({"r": "0,1", PEAK: "link(1 / r)"}, f"--param {PEAK}: '1 / r' at r=0: division by zero"),
    ({"r": "1,2", PEAK: "link(r.real)"}, "attributes and indexing"),
    ({"r": "1,2", PEAK: "link(__import__('os').system('true'))"}, "unknown function"),
    ({"r": "1,2", PEAK: "link(r"}, "missing its closing bracket"),
    ({"r": "1,2", PEAK: "scale(2 * r)"}, "scale(NAME) takes the name of a swept parameter"),
    ({"r": "1,2", PEAK: "link(0.5)"}, "uses no swept name"),
    ({"r": "1,2", PEAK: "link(-r)"}, f"--param {PEAK}: must be >= 0; got -1.0"),
    ({"r": "1,2"}, "--param r: no scenario field has this name, and no link(...)"),
    ({"name": "1,2", PEAK: "link(name)"}, "--param name: a formula's swept name must not be a scenario field"),
    ({"r": "1,2", PEAK: "1,2", f"{PERIODS}.*.price_per_kwh": "scale(r)"}, "already swept"),
    ({"r": "1,2", f"{PERIODS}.*.per_kw_month": "scale(r)"}, "matches no field"),
    ({"r": "1,2", "populations.res.count": "link(r * 10.5)"}, "fractional part"),
    ({"r": "1,2", "seed": "link(r)"}, "cannot be linked"),
])
def test_bad_links_exit_2_before_anything_runs(params, message, write_yaml, tmp_path, capsys, no_cluster):
    args = ["sweep", str(write_yaml(tiny())), "--out", str(tmp_path / "out")]
    for path, values in params.items():
        args += ["--param", f"{path}={values}"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err.replace("\n", " ") and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_link_given_with_set_too_is_refused(write_yaml):
    with pytest.raises(InputError, match="also given with --set"):
        plan_sweep(write_yaml(tiny()), params={"r": "1,2", PEAK: "link(r)"}, overrides=[f"{PEAK}=0.8"])


def test_validate_checks_the_links_of_a_sweep_block(write_yaml, capsys):
    data = tiny()
    data["sweep"] = {"params": {"r": "1,2,3", PEAK: "link(0.5 * r)"}}
    assert main(["validate", str(write_yaml(data))]) == 0
    assert "sweep block ok — 3 runs" in capsys.readouterr().out
    data["sweep"]["params"][PEAK] = "link(0.5 * s)"
    path = write_yaml(data, "bad.yaml")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:" in err and f"sweep.params.{PEAK}: the formula '0.5 * s' uses 's'" in err


# --------------------------------------------------------------------------- runs


def test_linked_values_land_in_the_tables_and_each_run_is_reproduced(write_yaml, tmp_path, client):
    path = write_yaml(tiny())
    params = {"ratio": "2,4", PEAK: "link(0.5 * sqrt(ratio))", VALLEY: "link(0.5 / sqrt(ratio))"}
    res = sim.sweep(path, params, replications=2, out=tmp_path / "s", client=client)
    assert res.failed == 0 and res.params == ["ratio", PEAK, VALLEY]
    assert list(res.runs.columns[:6]) == ["point", "replication", "seed", "ratio", PEAK, VALLEY]
    assert list(res.summary.columns[:4]) == ["point", "ratio", PEAK, VALLEY]
    for name in ("runs", "summary"):
        for table in (pd.read_parquet(tmp_path / "s" / f"{name}.parquet"), pd.read_csv(tmp_path / "s" / f"{name}.csv")):
            assert table[PEAK].tolist() == pytest.approx(0.5 * np.sqrt(table["ratio"]), rel=1e-11)
            assert table[VALLEY].tolist() == pytest.approx(0.5 / np.sqrt(table["ratio"]), rel=1e-11)
    for i in (0, 3):  # by hand: the linked values set with --set, the run's seed
        row = res.runs.iloc[i]
        ref = sim.run(sim.load_scenario(path, [f"{PEAK}={float(row[PEAK])!r}", f"{VALLEY}={float(row[VALLEY])!r}",
                                               f"seed={row['seed']}"]))
        for k, v in flatten(ref.metrics).items():
            assert row[k] == v or (v is None and np.isnan(row[k])), k
    meta = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert meta["links"] == [{"path": PEAK, "formula": "0.5 * sqrt(ratio)", "given": PEAK},
                             {"path": VALLEY, "formula": "0.5 / sqrt(ratio)", "given": VALLEY}]
    again = sim.sweep(path, params, replications=2, out=tmp_path / "again", client=client)
    pd.testing.assert_frame_equal(res.runs.drop(columns=["wall_s", "worker"]),
                                  again.runs.drop(columns=["wall_s", "worker"]))
    # the dearer the peak against the valley, the more the households cut their own peak
    peak_cut = res.summary["segments.res.change.peak_reduction_pct.mean"].tolist()
    assert peak_cut[1] > peak_cut[0]
