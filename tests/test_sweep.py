"""Parameter sweeps: designs, overrides, seeds, confidence intervals, resume, failures, errors.

Most sweeps here run on an in-process Dask cluster (one worker thread) so that they are
quick and a test can count task executions; `test_same_results_with_one_or_two_worker_processes`
and the command-line tests use real worker processes; tests/test_sweep_dask.py uses a
scheduler and workers started as separate commands.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats

import sim
from sim.cli import main
from sim.errors import InputError
from sim.results import resolved_scenario
from sim.sweep import SweepInterrupted
from sim.sweep import execute as execute_mod
from sim.sweep import store as store_mod
from sim.sweep.analysis import mean_ci, summarize
from sim.sweep.design import make_design, parse_values, replication_seeds
from sim.sweep.execute import flatten
from sim.sweep.plan import plan_sweep

from .conftest import tiny

PEAK = "tariffs.tou.periods.peak.price_per_kwh"
COUNT = "populations.res.count"
EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "scenarios", "sweep_tou_ratio.yaml")


def _metrics(runs: pd.DataFrame) -> pd.DataFrame:
    return runs.drop(columns=["wall_s", "worker"])


# --------------------------------------------------------------------------- values and designs


def test_value_syntax():
    """Lists are YAML scalars, ranges are evenly spaced (integers stay integers), distributions
    carry their arguments; mistakes name what is wrong."""
    assert parse_values("x", "0.5,1,abc,true,null").values == (0.5, 1, "abc", True, None)
    assert parse_values("x", "0.1:0.3:3").values == (0.1, 0.2, 0.3)  # not 0.30000000000000004
    assert parse_values("x", "100:500:5").values == (100, 200, 300, 400, 500)
    assert parse_values("x", "[[a, b], [c]]").values == (["a", "b"], ["c"])
    assert parse_values("x", "on,off").values == ("on", "off")  # YAML 1.2 booleans, as --set
    assert parse_values("x", [1, 2]).values == (1, 2) and parse_values("x", 3).values == (3,)
    p = parse_values("x", "loguniform(0.01, 1)")
    assert (p.kind, p.args) == ("loguniform", (0.01, 1.0))
    assert parse_values("x", "choice(a, 'b,c')").values == ("a", "b,c")
    for text, msg in [("1:2", "a range is lo:hi:n"), ("uniform(2,1)", "lo < hi"), ("normal(0,0)", "sd > 0"),
                      ("loguniform(0,1)", "0 < lo"), ("gamma(1,2)", "unknown distribution 'gamma'"),
                      ("uniform(1)", "takes 2 numbers"), ("", "no values"), ("1:3:1", "n >= 2")]:
        with pytest.raises(ValueError, match=msg.replace("(", r"\(")):
            parse_values("x", text)


def test_grid_is_the_cartesian_product():
    """Every combination once, the last parameter varying fastest."""
    a, b = parse_values("a", "1,2,3"), parse_values("b", "x,y")
    d = make_design([a, b], "grid", None, 0)
    assert d.points == [{"a": i, "b": s} for i in (1, 2, 3) for s in ("x", "y")]
    assert [p.path for p in d.dims] == ["a", "b"] and d.unit is None
    with pytest.raises(ValueError, match="needs a sampled design"):
        make_design([parse_values("a", "uniform(0,1)")], "grid", None, 0)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 40), d=st.integers(1, 4), seed=st.integers(0, 2**32))
def test_lhs_has_one_point_in_every_stratum(n, d, seed):
    """Latin hypercube: along every dimension each of the n equal strata holds exactly one point."""
    params = [parse_values(f"p{j}", "uniform(0,1)") for j in range(d)]
    des = make_design(params, "lhs", n, seed)
    assert len(des.points) == n
    for j in range(d):
        u = np.array([pt[f"p{j}"] for pt in des.points])
        assert sorted(np.floor(u * n).astype(int)) == list(range(n))
    assert make_design(params, "lhs", n, seed).points == des.points  # deterministic


def test_lhs_maps_distributions_through_their_quantiles():
    """uniform / loguniform / normal / choice values come from the same strata of their CDFs."""
    n = 200
    params = [parse_values("u", "uniform(2,4)"), parse_values("l", "loguniform(1,100)"),
              parse_values("g", "normal(10,2)"), parse_values("c", "choice(a,b)"), parse_values("f", "7")]
    des = make_design(params, "lhs", n, 3)
    col = {k: np.array([p[k] for p in des.points]) for k in "ulgcf"}
    assert (col["f"] == 7).all() and [p.path for p in des.dims] == ["u", "l", "g", "c"]
    assert 2 <= col["u"].min() and col["u"].max() <= 4
    assert sorted(np.floor(np.log10(col["l"]) / 2 * n).astype(int)) == list(range(n))
    assert sorted(np.floor(stats.norm.cdf(col["g"], 10, 2) * n).astype(int)) == list(range(n))
    assert (col["c"] == "a").sum() == n // 2


def test_sobol_design_is_saltelli_balanced_and_a_power_of_two():
    """Base samples round up to a power of two (and say so); the design has N (d + 2) points;
    the A matrix is a (0, m, d)-net: every dimension splits evenly into 2^k bins."""
    params = [parse_values(f"p{j}", "uniform(0,1)") for j in range(3)]
    des = make_design(params, "sobol", 100, 5)
    assert des.base_samples == 128 and any("rounded up to 128" in n for n in des.notes)
    assert len(des.points) == 128 * 5 and des.unit.shape == (640, 3)
    a = des.unit[::5]
    for j in range(3):
        for bins in (2, 8, 32, 128):
            assert (np.bincount(np.floor(a[:, j] * bins).astype(int), minlength=bins) == 128 // bins).all()
    small = make_design(params, "sobol", 64, 5)  # same seed: the smaller design is a prefix
    assert_allclose(small.unit, des.unit[:len(small.unit)])


def test_morris_design_moves_one_parameter_at_a_time():
    params = [parse_values(f"p{j}", "uniform(0,10)") for j in range(3)]
    des = make_design(params, "morris", 6, 1)
    assert des.unit.shape == (6 * 4, 3)
    steps = np.abs(np.diff(des.unit.reshape(6, 4, 3), axis=1))
    assert ((steps > 0).sum(axis=2) == 1).all()  # each step of a trajectory changes one parameter


def test_replication_seeds_are_distinct_deterministic_and_do_not_depend_on_r():
    s5 = replication_seeds(42, 5)
    assert len(set(s5)) == 5 and all(0 <= s < 2**63 for s in s5)
    assert replication_seeds(42, 5) == s5 and replication_seeds(42, 3) == s5[:3]
    assert set(replication_seeds(43, 5)).isdisjoint(s5)


# --------------------------------------------------------------------------- plans


def test_each_run_is_the_scenario_with_its_overrides(write_yaml):
    """A run's resolved scenario is exactly what `--set path=value --set seed=S` loads, and its
    key changes with every parameter and seed."""
    path = write_yaml(tiny())
    plan = plan_sweep(path, params={PEAK: "0.8,1.2", COUNT: "20:40:3"}, replications=2)
    assert len(plan.design.points) == 6 and len(plan.runs) == 12
    assert len({r.key for r in plan.runs}) == 12
    for run in plan.runs:
        pt = plan.design.points[run.point]
        ref = sim.load_scenario(path, [f"{PEAK}={pt[PEAK]}", f"{COUNT}={pt[COUNT]}", f"seed={run.seed}"])
        assert run.scenario == resolved_scenario(ref)
        assert run.seed == plan.seeds[run.replication]


def test_sampled_integer_fields_are_rounded(write_yaml):
    plan = plan_sweep(write_yaml(tiny()), params={COUNT: "uniform(10,20.5)", PEAK: "uniform(0.6,1)"},
                      design="lhs", samples=8)
    counts = [r.scenario["populations"][0]["count"] for r in plan.runs]
    assert all(isinstance(c, int) and 10 <= c <= 21 for c in counts)
    assert all(isinstance(r.scenario["tariffs"]["tou"]["periods"]["peak"]["price_per_kwh"], float) for r in plan.runs)


def test_sweep_block_and_arguments(write_yaml):
    """A `sweep:` block is read (and stripped before validation); arguments override it."""
    data = tiny()
    data["sweep"] = {"params": {PEAK: [0.8, 1.0], COUNT: "10,20"}, "replications": 2, "seed": 5}
    path = write_yaml(data)
    plan = plan_sweep(path)
    assert [p.path for p in plan.params] == [PEAK, COUNT] and len(plan.runs) == 8 and plan.seed == 5
    plan = plan_sweep(path, params={COUNT: "30"}, replications=1)
    assert len(plan.runs) == 2 and {plan.design.points[r.point][COUNT] for r in plan.runs} == {30}
    data["sweep"]["colour"] = "blue"
    data["sweep"]["replications"] = 0
    with pytest.raises(InputError) as e:
        plan_sweep(write_yaml(data))
    text = str(e.value)
    assert "sweep.colour: unknown key" in text and "sweep.replications: must be an integer in [1, 100001); got 0" in text
    assert text.splitlines()[0].startswith(f"{path}:")  # file:line: sweep.key: message


def test_example_sweep_file():
    """The example's block plans 15 points x 3 replications, and without the block the file is an
    ordinary scenario that runs."""
    plan = plan_sweep(EXAMPLE)
    assert plan.design.kind == "grid" and len(plan.design.points) == 15 and len(plan.runs) == 45
    from sim.scenario.loader import load_raw, validate

    data, lines, over = load_raw(EXAMPLE, ["horizon.days=21", "horizon.start=2025-07-07"])
    data.pop("sweep")
    r = sim.run(validate(data, label=EXAMPLE, lines=lines, overridden=over))
    assert r.metrics["change"]["peak_valley_rate_change"] < 0


# --------------------------------------------------------------------------- confidence intervals


@settings(max_examples=50, deadline=None)
@given(x=st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=30))
def test_confidence_interval_is_scipys_t_interval(x):
    m, lo, hi = mean_ci(x)
    n = len(x)
    sem = np.std(x, ddof=1) / math.sqrt(n)
    if sem == 0:
        assert lo == hi == m
        return
    ref = stats.t.interval(0.95, n - 1, loc=np.mean(x), scale=sem)
    assert_allclose([m, lo, hi], [np.mean(x), *ref], rtol=1e-9, atol=1e-9 * max(1.0, abs(m)))


def test_summary_per_point_matches_scipy(write_yaml):
    """The summary table's mean and CI of each point equal scipy's t interval of its ok runs;
    a failed run is left out and counted."""
    plan = plan_sweep(write_yaml(tiny()), params={PEAK: "0.8,1.0,1.2"}, replications=4)
    rng = np.random.default_rng(0)
    runs = pd.DataFrame({"point": [r.point for r in plan.runs], "replication": [r.replication for r in plan.runs],
                         PEAK: [plan.design.points[r.point][PEAK] for r in plan.runs],
                         "status": ["ok"] * len(plan.runs), "m.x": rng.normal(size=len(plan.runs))})
    runs.loc[5, "status"] = "failed"
    runs.loc[5, "m.x"] = np.nan
    s = summarize(runs, plan)
    assert list(s["n"]) == [4, 3, 4] and list(s["n_failed"]) == [0, 1, 0]
    for pt in range(3):
        x = runs.loc[(runs.point == pt) & (runs.status == "ok"), "m.x"].to_numpy()
        lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        assert_allclose([s.loc[pt, "m.x.mean"], s.loc[pt, "m.x.ci_low"], s.loc[pt, "m.x.ci_high"]],
                        [x.mean(), lo, hi], rtol=1e-12)


def test_flatten_keeps_numbers_only():
    flat = flatten({"change": {"a": 1.5, "b": True, "c": "text", "d": float("nan")},
                    "segments": {"res": {"x": np.float64(2.0), "k": 3}}})
    assert flat == {"change.a": 1.5, "change.b": 1, "change.d": None, "segments.res.x": 2.0, "segments.res.k": 3}


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("param,message", [
    ("populations.nobody.count=1,2", "--param populations.nobody.count: populations: no item named 'nobody' "
                                     "(names: res, shops)"),
    ("horizon.dayz=3,4", "--param horizon.dayz: unknown key; did you mean 'days'?"),
    ("horizon.days=3,ten", "--param horizon.days: must be a valid integer, unable to parse string as an integer; "
                           "got 'ten'"),
    (f"{COUNT}=-5,10", f"--param {COUNT}: must be > 0; got -5"),
    (f"{PEAK}=uniform(0.5,1)", f"--param {PEAK}: a distribution needs a sampled design"),
    ("grid.nothing.here=1,2", "--param grid.nothing.here: grid.nothing: unknown key"),
    ("seed=1,2", "--param seed: the seed is set by the sweep"),
    ("populations[7].count=1", "--param populations[7].count: populations: index 7 out of range"),
    (f"{PEAK}", "--param: takes PATH=VALUES"),
])
def test_bad_parameter_exits_2_before_anything_runs(param, message, write_yaml, tmp_path, capsys, no_cluster):
    path = write_yaml(tiny())
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--param", param, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_bad_options_exit_2(write_yaml, tmp_path, capsys, no_cluster):
    path = str(write_yaml(tiny()))
    cases = [
        (["--param", f"{PEAK}=1,2", "--sensitivity", "change.revenue_change"], "--sensitivity: sensitivity indices "
                                                                              "need --design sobol or morris"),
        (["--param", f"{PEAK}=uniform(0.5,1)", "--design", "sobol", "--sensitivity", "peak"], "is not a metric"),
        (["--param", f"{PEAK}=1,2", "--replications", "0"], "--replications: must be an integer in [1, 100001)"),
        (["--param", f"{PEAK}=1,2", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "--workers: sizes"),
        ([], "nothing to sweep"),
        (["--param", f"{PEAK}=1,2", "--set", f"{PEAK}=3"], "also given with --set"),
    ]
    for args, message in cases:
        assert main(["sweep", path, "--out", str(tmp_path / "o"), *args]) == 2, args
        assert message in capsys.readouterr().err, args
    assert not (tmp_path / "o").exists()


def test_an_out_folder_that_is_not_a_sweep_is_refused(write_yaml, tmp_path, capsys, no_cluster):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    assert main(["sweep", str(write_yaml(tiny())), "--param", f"{PEAK}=1,2", "--out", str(tmp_path / "taken")]) == 2
    assert "is not a sweep folder" in capsys.readouterr().err


# --------------------------------------------------------------------------- running


def test_api_returns_tables_identical_to_sim_run(write_yaml, tmp_path, client):
    """Each row's metrics are those of `sim.run` of the same overridden scenario and seed."""
    path = write_yaml(tiny("api"))
    res = sim.sweep(path, {PEAK: "0.7,1.1", COUNT: "30,50"}, replications=2, out=tmp_path / "s", client=client)
    assert isinstance(res.runs, pd.DataFrame) and isinstance(res.summary, pd.DataFrame)
    assert len(res.runs) == 8 and len(res.summary) == 4 and res.executed == 8 and res.failed == 0
    assert list(res.runs.columns[:5]) == ["point", "replication", "seed", PEAK, COUNT]
    assert (res.runs["status"] == "ok").all() and res.runs["error"].isna().all()
    for i in (0, 5):
        row = res.runs.iloc[i]
        ref = sim.run(sim.load_scenario(path, [f"{PEAK}={row[PEAK]}", f"{COUNT}={row[COUNT]}", f"seed={row['seed']}"]))
        for k, v in flatten(ref.metrics).items():
            assert row[k] == v or (v is None and np.isnan(row[k])), k
    for name in ("runs", "summary"):
        assert_frame = pd.read_parquet(tmp_path / "s" / f"{name}.parquet")
        assert assert_frame.shape == getattr(res, name).shape
        assert len(pd.read_csv(tmp_path / "s" / f"{name}.csv")) == len(assert_frame)
    meta = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert meta["state"] == "complete" and meta["runs"] == 8 and meta["replication_seeds"] == sorted(
        set(res.runs["seed"]), key=list(res.runs["seed"]).index)


def test_resume_runs_only_what_is_missing(write_yaml, tmp_path, client, monkeypatch):
    """Delete three run files, truncate one (as a non-atomic writer would leave it) and leave a
    writer's partial file behind: the rerun executes exactly those four runs, and leaves every
    other run file untouched."""
    path = write_yaml(tiny("resume"))
    out = tmp_path / "s"
    real_run, calls = execute_mod.run_scenario, []

    def counted(sc, **kw):  # the in-process worker calls this: count the runs executed
        calls.append(sc.seed)
        return real_run(sc, **kw)

    monkeypatch.setattr(execute_mod, "run_scenario", counted)
    first = sim.sweep(path, {PEAK: "0.7,0.9,1.1"}, replications=3, out=out, client=client)
    assert len(calls) == 9
    assert first.executed == 9
    files = sorted((out / "runs").glob("*.json"))
    for f in files[:3]:
        f.unlink()
    files[3].write_text(files[3].read_text()[:50])
    (out / "runs" / f".{files[4].name}.partial-99999").write_text("{")
    kept = {f.name: (f.stat().st_mtime_ns, f.read_bytes()) for f in files[4:]}
    second = sim.sweep(path, {PEAK: "0.7,0.9,1.1"}, replications=3, out=out, client=client)
    assert (second.executed, second.reused) == (4, 5) and len(calls) == 9 + 4
    assert {f.name: (f.stat().st_mtime_ns, f.read_bytes()) for f in files[4:]} == kept
    assert not list((out / "runs").glob(".*partial*"))
    pd.testing.assert_frame_equal(_metrics(first.runs), _metrics(second.runs))
    third = sim.sweep(path, {PEAK: "0.7,0.9,1.1"}, replications=3, out=out, client=client)
    assert (third.executed, third.reused) == (0, 9) and len(calls) == 13
    # more replications later: the first three are reused (their seeds do not depend on R)
    more = sim.sweep(path, {PEAK: "0.7,0.9,1.1"}, replications=4, out=out, client=client)
    assert (more.executed, more.reused) == (3, 9) and any("held another sweep" in n for n in more.notes)


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(write_yaml, tmp_path, client, monkeypatch):
    path = write_yaml(tiny("failing"))
    real_run = execute_mod.run_scenario

    def flaky(sc, **kw):
        if sc.segment("res").count == 40:
            raise RuntimeError("boom at 40 customers")
        return real_run(sc, **kw)

    monkeypatch.setattr(execute_mod, "run_scenario", flaky)
    res = sim.sweep(path, {COUNT: "20,40,60"}, replications=2, out=tmp_path / "s", client=client)
    assert res.failed == 2 and res.executed == 6
    bad = res.runs[res.runs[COUNT] == 40]
    assert (bad["status"] == "failed").all() and bad["error"].str.contains("RuntimeError: boom at 40").all()
    assert bad["change.revenue_change"].isna().all()
    assert (res.runs.loc[res.runs[COUNT] != 40, "status"] == "ok").all()
    assert list(res.summary["n"]) == [2, 0, 2] and list(res.summary["n_failed"]) == [0, 2, 0]
    monkeypatch.setattr(execute_mod, "run_scenario", real_run)
    again = sim.sweep(path, {COUNT: "20,40,60"}, replications=2, out=tmp_path / "s", client=client)
    assert (again.executed, again.reused, again.failed) == (2, 4, 0)


def test_cli_reports_failed_runs_with_exit_1(write_yaml, tmp_path, client, monkeypatch, capsys):
    from contextlib import contextmanager

    @contextmanager
    def in_process(*args, **kwargs):
        yield client

    monkeypatch.setattr(execute_mod, "connect", in_process)
    monkeypatch.setattr(execute_mod, "run_scenario", lambda sc, **kw: 1 / 0)
    path = write_yaml(tiny("failing-cli"))
    code = main(["sweep", str(path), "--param", f"{COUNT}=20,30", "--out", str(tmp_path / "s")])
    out = capsys.readouterr().out
    assert code == 1 and "2 failed (recorded with their error; rerun to retry them)" in out
    rows = pd.read_csv(tmp_path / "s" / "runs.csv")
    assert (rows["error"] == "ZeroDivisionError: division by zero").all()


def test_ctrl_c_keeps_finished_runs_and_says_how_many(write_yaml, tmp_path, client, monkeypatch):
    path = write_yaml(tiny("interrupt"))
    real_write = store_mod.SweepStore.write
    calls = []

    def write_then_interrupt(self, record):
        real_write(self, record)
        calls.append(record["key"])
        if len(calls) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(store_mod.SweepStore, "write", write_then_interrupt)
    with pytest.raises(SweepInterrupted) as e:
        sim.sweep(path, {PEAK: "0.7,0.8,0.9,1.0,1.1,1.2"}, out=tmp_path / "s", client=client)
    assert (e.value.finished, e.value.total) == (3, 6)
    assert "3 of 6 runs finished" in str(e.value) and "rerun the same command" in str(e.value)
    assert json.loads((tmp_path / "s" / "sweep.json").read_text())["state"] == "interrupted"
    monkeypatch.setattr(store_mod.SweepStore, "write", real_write)
    res = sim.sweep(path, {PEAK: "0.7,0.8,0.9,1.0,1.1,1.2"}, out=tmp_path / "s", client=client)
    assert (res.reused, res.executed) == (3, 3)


def test_sobol_indices_find_the_parameter_that_matters(write_yaml, tmp_path, client):
    """A parameter that does not enter a metric has total and first-order index 0 (to rounding);
    the one that drives it has a large total index."""
    path = write_yaml(tiny("sobol"))
    res = sim.sweep(path, {PEAK: "uniform(0.6,1.4)", "grid.capacity_cost_per_kw_year": "uniform(100,600)"},
                    design="sobol", samples=8, sensitivity="change.revenue_change,change.margin_change",
                    out=tmp_path / "s", client=client)
    assert len(res.runs) == 8 * 4
    s = res.sensitivity.set_index(["metric", "parameter"])
    assert list(s.columns) == ["values", "S1", "S1_conf", "ST", "ST_conf"]
    rev = s.loc["change.revenue_change"]
    assert abs(rev.loc["grid.capacity_cost_per_kw_year", "ST"]) < 1e-9
    assert abs(rev.loc["grid.capacity_cost_per_kw_year", "S1"]) < 1e-9
    assert rev.loc[PEAK, "ST"] > 0.5
    assert pd.read_csv(tmp_path / "s" / "sensitivity.csv").shape[0] == 4


def test_morris_screening(write_yaml, tmp_path, client):
    path = write_yaml(tiny("morris"))
    res = sim.sweep(path, {PEAK: "uniform(0.6,1.4)", "grid.capacity_cost_per_kw_year": "100:600:6"},
                    design="morris", samples=4, sensitivity=["change.revenue_change"], out=tmp_path / "s",
                    client=client)
    s = res.sensitivity.set_index("parameter")
    assert list(s.columns) == ["metric", "values", "mu", "mu_star", "sigma", "mu_star_conf"]
    assert s.loc["grid.capacity_cost_per_kw_year", "mu_star"] == 0 and s.loc[PEAK, "mu_star"] > 0


def test_unknown_sensitivity_metric_stops_after_the_first_run(write_yaml, tmp_path, client):
    path = write_yaml(tiny("sens-name"))
    with pytest.raises(InputError, match="no metric 'change.revenue_chnage' \\(did you mean change.revenue_change"):
        sim.sweep(path, {PEAK: "uniform(0.6,1.4)"}, design="sobol", samples=2, sensitivity="change.revenue_chnage",
                  out=tmp_path / "s", client=client)


def test_same_results_with_one_or_two_worker_processes(write_yaml, tmp_path):
    """Results do not depend on the number of worker processes (nor on which worker ran what)."""
    path = write_yaml(tiny("workers"))
    params = {PEAK: "0.7,1.1", COUNT: "30,50"}
    one = sim.sweep(path, params, replications=2, workers=1, out=tmp_path / "one")
    two = sim.sweep(path, params, replications=2, workers=2, out=tmp_path / "two")
    assert one.executed == two.executed == 8
    assert two.runs["worker"].nunique() == 2
    pd.testing.assert_frame_equal(_metrics(one.runs), _metrics(two.runs))
    pd.testing.assert_frame_equal(one.summary, two.summary)


def test_cli_sweep_writes_the_folder_and_resumes(write_yaml, tmp_path, capsys):
    data = tiny("cli")
    data["sweep"] = {"params": {PEAK: "0.7:1.1:3"}, "replications": 2}
    path = write_yaml(data)
    out = tmp_path / "s"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    printed = capsys.readouterr()
    assert "6 runs: 0 finished earlier, 6 run now, 0 failed" in printed.out
    assert {p.name for p in out.iterdir()} >= {"sweep.json", "runs", "runs.parquet", "runs.csv", "summary.parquet",
                                               "summary.csv"}
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 6 and set(runs[PEAK]) == {0.7, 0.9, 1.1}
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    assert "6 runs: 6 finished earlier, 0 run now" in capsys.readouterr().out


def test_default_folder_is_the_same_for_the_same_sweep(write_yaml, tmp_path, client):
    path = write_yaml(tiny("default-out"))
    a = sim.sweep(path, {PEAK: "0.7,0.9"}, results=tmp_path / "results", client=client)
    b = sim.sweep(path, {PEAK: "0.7,0.9"}, results=tmp_path / "results", client=client)
    c = sim.sweep(path, {PEAK: "0.7,1.0"}, results=tmp_path / "results", client=client)
    assert a.out == b.out != c.out and a.out.parent == tmp_path / "results" / "default-out"
    assert b.reused == 2


def test_runs_that_never_complete_make_the_sweep_fail_and_resume(write_yaml, tmp_path, client, monkeypatch):
    """If tasks vanish (cancelled from outside, scheduler lost), the sweep says so (RunError,
    exit 1) instead of writing tables with holes; the next invocation finishes it."""
    from sim.errors import RunError

    path = write_yaml(tiny("lost"))
    real = execute_mod.execute

    def half(runs, client, base_dir, on_result, **kw):
        return real(runs[: len(runs) // 2], client, base_dir, on_result, **kw)

    monkeypatch.setattr(execute_mod, "execute", half)
    with pytest.raises(RunError, match="2 of 4 runs did not complete"):
        sim.sweep(path, {PEAK: "0.7,0.8,0.9,1.0"}, out=tmp_path / "s", client=client)
    assert not (tmp_path / "s" / "runs.parquet").exists()
    monkeypatch.setattr(execute_mod, "execute", real)
    res = sim.sweep(path, {PEAK: "0.7,0.8,0.9,1.0"}, out=tmp_path / "s", client=client)
    assert (res.reused, res.executed) == (2, 2)


def test_a_scenario_object_or_dict_sweeps_like_its_file(write_yaml, tmp_path, client):
    """Keys hash content, not where the scenario came from: a Scenario (or a dict) reuses the
    runs of its file."""
    data = tiny("object")
    path = write_yaml(data)
    a = sim.sweep(path, {PEAK: "0.7,0.9"}, out=tmp_path / "s", client=client)
    b = sim.sweep(sim.load_scenario(path), {PEAK: "0.7,0.9"}, out=tmp_path / "s", client=client)
    c = sim.sweep(data, {PEAK: "0.7,0.9"}, overrides=["horizon.days=7"], out=tmp_path / "s", client=client)
    assert a.executed == 2 and (b.reused, b.executed) == (c.reused, c.executed) == (2, 0)
    assert list(b.runs["key"]) == list(a.runs["key"])
