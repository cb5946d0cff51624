"""Same answer however a run is spread: over chunks, shards in one process, and Dask workers
as separate processes (issue 7). Every comparison is exact (bit for bit)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import sim
from sim.engine import simulate
from sim.metrics import compute

from .conftest import TOU, dask_cluster, scenario_dict  # noqa: F401  (a fixture)
from sim.scenario import validate


def _mixed(tmp_path, feedback: bool = True):
    """Every link between customers and the system in one scenario, with segments of several
    stream blocks: a tariff menu with switching, enrolment, flexible loads, heat storage,
    demand shaving, an interruptible contract and critical peaks called by the operator on
    its forecast, real-time prices formed from the system load (a fixed point each day),
    measured profiles, and a month's bills closed mid-run."""
    data = scenario_dict(horizon={"start": "2025-06-24", "days": 10, "step_minutes": 60})
    steps = 10 * 24
    stamps = np.datetime64("2025-06-24T00:00") + np.arange(steps) * np.timedelta64(60, "m")
    rng = np.random.default_rng(5)
    cols = rng.uniform(0.2, 2.0, size=(steps, 3))
    lines = ["timestamp,a,b,c"] + [f"{t},{x:.3f},{y:.3f},{z:.3f}" for t, (x, y, z) in zip(stamps.astype(str), cols)]
    (tmp_path / "load.csv").write_text("\n".join(lines) + "\n")
    res, shops = data["populations"]
    res.update(count=9000, variation={"shift_sd_hours": 1.0, "daily_sd": 0.1, "common_daily_sd": 0.05},
               behavior=[{"model": "constant_elasticity", "elasticity": -0.1},
                         {"model": "flexible", "share": {"dist": "uniform", "low": 0, "high": 0.2},
                          "window": ["17:00-08:00"], "max_kw_per_mean_kw": 3.0, "inconvenience_per_kwh": 0.05},
                         {"model": "thermal_storage", "adoption": 0.2, "thermal_share": 0.3,
                          "capacity_kwh_per_mean_kw": 5.0, "power_kw_per_mean_kw": 2.0, "efficiency": 0.9,
                          "loss_per_hour": 0.01}],
               tariff={"baseline": "flat", "scenario": [{"tariff": "tou", "share": 0.5},
                                                        {"tariff": "tiered", "share": 0.5}],
                       "choice": {"review_probability": 0.5, "threshold_pct": 1.0}})
    shops.update(count=5000, behavior=[{"model": "prism", "substitution": -0.05},
                                       {"model": "demand_shaving", "reduction": 0.1}],
                 participation={"enrolment": {"mode": "opt_in", "share": 0.6}},
                 tariff={"baseline": "flat", "scenario": "cpp_demand"})
    data["populations"] += [
        {"name": "plants", "customer_class": "industrial", "count": 4500,
         "annual_kwh": {"dist": "lognormal", "mean": 40000, "cv": 0.8},
         "interruptible": {"firm_kw_per_mean_kw": 0.6, "compliance": {"dist": "uniform", "low": 0.5, "high": 1}},
         "behavior": {"model": "constant_elasticity", "elasticity": -0.05},
         "tariff": {"baseline": "flat", "scenario": "interruptible"}},
        {"name": "rtp", "customer_class": "residential", "count": 4200,
         "annual_kwh": {"dist": "lognormal", "mean": 3000, "cv": 0.4},
         "behavior": {"model": "constant_elasticity", "elasticity": -0.2},
         "tariff": {"baseline": "flat", "scenario": "rtp"}},
        {"name": "metered", "customer_class": "commercial", "profile": {"csv": "load.csv"}, "count": 4100,
         "behavior": {"model": "constant_elasticity", "elasticity": -0.1},
         "tariff": {"baseline": "flat", "scenario": "tou"}},
    ]
    data["tariffs"].update({
        "tiered": dict(TOU, tiers={"basis": "monthly", "bounds_kwh": [20], "adders_per_kwh": [0.0, 0.2]}),
        "cpp_demand": dict(TOU, critical_peak={"price_adder_per_kwh": 1.0}, demand={"per_kw_month": 20.0}),
        "interruptible": {"type": "flat", "price_per_kwh": 0.5, "interruptible": {
            "credit_per_kw_month": 5.0, "penalty_per_kwh": 3.0, "limits": {"max_events_per_year": 4}}},
        "rtp": {"type": "rtp", "prices": "system_marginal_cost", "multiplier": 1.2, "adder_per_kwh": 0.05,
                "damping": 0.5, "tolerance_per_kwh": 1e-6},
    })
    data["grid"] = {"supply_curve": [{"up_to_kw": 30000, "cost_per_kwh": 0.3}, {"up_to_kw": 90000, "cost_per_kwh": 0.6},
                                     {"cost_per_kwh": 1.0}],
                    "supply_curve_shape": "linear", "losses_pct": 3.0, "capacity_cost_per_kw_year": 400}
    data["operator"] = {"threshold_kw": 1.0, "event_hours": 3, "max_events_per_year": 5,
                        "programmes": ["critical_peak", "interruptible"]}
    if not feedback:  # nothing links customers day by day: shards run a month per message
        del data["operator"]
        data["populations"] = [p for p in data["populations"] if p["name"] != "rtp"]
        del data["tariffs"]["rtp"]
    return validate(data, base_dir=tmp_path)


def _fingerprint(r) -> dict:
    """Everything a run produced that its files and reports show."""
    return {
        "metrics": json.dumps(r.metrics, sort_keys=True),
        "system": {k: v.tobytes() for k, v in r.system_load_kw.items()},
        "segments": {name: (s.load_kw["baseline"].tobytes(), s.load_kw["scenario"].tobytes(),
                            s.bills["baseline"].total.tobytes(), s.bills["scenario"].total.tobytes(),
                            s.bills["scenario"].monthly.tobytes(), s.stats["utility_baseline"].tobytes(),
                            s.stats["utility_scenario"].tobytes(),
                            s.elasticity.tobytes())
                     for name, s in r.segments.items()},
        "events": json.dumps(r.events, sort_keys=True),
        "rtp": json.dumps(r.rtp_iterations, sort_keys=True),
    }


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    sc = _mixed(tmp_path_factory.mktemp("mixed"))
    reference = sim.run(sc)
    return sc, reference


def test_the_mixed_scenario_exercises_every_link(mixed):
    """The comparisons below are worth something only if the run has what they compare."""
    sc, r = mixed
    assert any(e["source"] == "operator" and e["programme"] == "critical_peak" for e in r.events)
    assert any(e["source"] == "operator" and e["programme"] == "interruptible" for e in r.events)
    assert r.rtp_iterations and all(x["iterations"] > 2 for x in r.rtp_iterations)
    assert r.metrics["segments"]["res"]["choice"]["switches"] > 0
    assert r.metrics["segments"]["plants"]["change"]["interruptible_requested_kwh"] > 0
    blocks = {name: -(-s.n // 4096) for name, s in r.segments.items()}
    assert blocks == {"res": 3, "shops": 2, "plants": 2, "rtp": 2, "metered": 2}
    assert r.execution == {"shards": 1, "where": "this process"}


@pytest.mark.parametrize("shards, chunk", [(2, 4096), (3, 4096), (2, 8192), (5, 12288)])
def test_shards_and_chunks_give_the_same_bits(mixed, shards, chunk):
    sc, reference = mixed
    r = simulate(sc, shards=shards, chunk_customers=chunk)
    r.metrics = compute(r)
    assert r.execution["shards"] == shards
    assert _fingerprint(r) == _fingerprint(reference)


def test_dask_workers_give_the_same_bits(mixed, dask_cluster, tmp_path):
    """The customers of one run spread over a scheduler and two worker processes, with the
    day-by-day feedback (operator, real-time prices) kept in the client; and, without such
    feedback, with the shards running a month per message."""
    sc, reference = mixed
    address, _ = dask_cluster
    r = sim.run(sc, scheduler=address)
    assert r.execution == {"shards": 2, "where": "dask", "scheduler": address}
    assert all(b > 0 for b in r.shard_busy_s)  # both workers computed customers
    assert _fingerprint(r) == _fingerprint(reference)
    quiet = _mixed(tmp_path, feedback=False)
    assert _fingerprint(sim.run(quiet, scheduler=address)) == _fingerprint(sim.run(quiet))


def test_drsim_run_on_a_scheduler_writes_the_same_files(dask_cluster, tmp_path):
    """`drsim run --scheduler` writes the run folder `drsim run` writes, byte for byte (the
    manifest apart: it records where the customers ran)."""
    import yaml

    from sim.cli import main

    data = scenario_dict(horizon={"start": "2025-06-24", "days": 10, "step_minutes": 60})
    data["populations"][0]["count"] = 9000
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    address, _ = dask_cluster
    assert main(["run", str(path), "--quiet", "--out", str(tmp_path / "here")]) == 0
    assert main(["run", str(path), "--quiet", "--out", str(tmp_path / "there"), "--scheduler", address]) == 0
    for name in ("metrics.json", "system_load.csv", "segment_bills.csv", "events.csv", "system_load.parquet",
                 "segment_bills.parquet", "customer_bills.parquet", "customer_surplus.parquet", "events.parquet"):
        assert (tmp_path / "here" / name).read_bytes() == (tmp_path / "there" / name).read_bytes(), name
    manifest = json.loads((tmp_path / "there" / "manifest.json").read_text())
    assert manifest["engine"]["shards"] == 2 and manifest["engine"]["scheduler"] == address


@pytest.mark.parametrize("with_extra", [False, True])
def test_block_column_sums_are_numpys_row_after_row_sums(with_extra):
    """The compiled per-block sums of the engine add the same numbers in the same order as
    numpy's leading-axis sum of ``load + extra`` (values spanning 12 orders of magnitude, so
    another order would show), for blocks of unequal size, one row and none."""
    from sim.rowmath import block_column_sums

    rng = np.random.default_rng(11)
    load = rng.gamma(0.5, 3.0, (700, 24)) * rng.choice([1e-6, 1.0, 1e6], size=(700, 24))
    extra = rng.gamma(1.0, 1.0, (700, 24)) if with_extra else None
    bounds = np.array([0, 1, 1, 300, 699, 700])
    got = block_column_sums(load, extra, bounds)
    full = load if extra is None else load + extra
    ref = np.stack([full[a:b].sum(axis=0) for a, b in zip(bounds[:-1], bounds[1:])])
    np.testing.assert_array_equal(got, ref)


class _Steps:
    """An actor that answers ``step(i)`` with (its number, i), and raises at step ``fail``."""

    def __init__(self, k: int, fail: int | None = None):
        self.k, self.fail = k, fail

    def step(self, i: int) -> tuple[int, int]:
        if i == self.fail:
            raise ValueError(f"shard {self.k} failed at step {i}")
        return self.k, i


def test_shards_answer_a_series_of_calls_in_order_and_a_failure_reaches_the_coordinator():
    """`DaskShards.each` (each shard takes its next month without waiting for the others):
    the answers to every call come back together and in order, and a shard's error is
    raised in the coordinator instead of the later answers."""
    from distributed import Client

    from sim.engine import DaskShards

    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        def shards(fail=None):
            s = DaskShards.__new__(DaskShards)
            s.futures = [client.submit(_Steps, k, fail if k == 1 else None, actor=True, pure=False) for k in range(2)]
            s.actors = [f.result() for f in s.futures]
            return s

        calls = [(i,) for i in range(7)]  # more calls than a shard may run ahead
        assert list(shards().each("step", calls)) == [[(0, i), (1, i)] for i in range(7)]
        seen = []
        with pytest.raises(ValueError, match="shard 1 failed at step 3"):
            for answer in shards(fail=3).each("step", calls):
                seen.append(answer)
        assert seen == [[(0, i), (1, i)] for i in range(3)]


@pytest.mark.parametrize("place", [False, True])
def test_add_rows_is_the_numpy_statements_it_replaces(place):
    """``rowmath.add_rows`` (a model's added load placed and summed in one pass) gives the
    bits of ``out[sub] += v``, ``kwh[rows] += v.sum(axis=1) h`` and the block sums of
    ``block_column_sums`` added to each block's day, for uneven runs (1-7 rows of a block), 24
    and 96 steps, values over 12 orders of magnitude."""
    from sim.rowmath import add_rows, block_column_sums

    rng = np.random.default_rng(5)
    for spd in (24, 96):
        n, k = 300, 120
        v = rng.gamma(0.5, 3.0, (k, spd)) * rng.choice([1e-6, 1.0, 1e6], size=(k, spd))
        sub = np.sort(rng.choice(n, k, replace=False))
        rows = 1000 + sub
        block_of = np.repeat(np.arange(200), 7)[:1400]
        out0, kwh0 = rng.uniform(size=(n, spd)), rng.uniform(size=1400)
        blocks0 = rng.uniform(size=(200, 3 * spd))
        out, kwh, blocks = out0.copy(), kwh0.copy(), blocks0.copy()
        add_rows(v, 0.25, out=out if place else None, sub=sub, kwh=kwh, rows=rows, block_of=block_of,
                 block_kw=blocks[:, spd:2 * spd])
        ref_out, ref_kwh, ref_blocks = out0.copy(), kwh0.copy(), blocks0.copy()
        if place:
            ref_out[sub] += v
        ref_kwh[rows] += v.sum(axis=1) * 0.25
        b = block_of[rows]
        cut = np.flatnonzero(np.diff(b)) + 1
        sums = block_column_sums(v, None, np.concatenate(([0], cut, [len(rows)])))
        ref_blocks[b[np.concatenate(([0], cut))], spd:2 * spd] += sums
        assert 1 in np.diff(np.concatenate(([0], cut, [len(rows)])))   # a block of one row
        np.testing.assert_array_equal(out, ref_out)
        np.testing.assert_array_equal(kwh, ref_kwh)
        np.testing.assert_array_equal(blocks, ref_blocks)
        assert not place or not np.array_equal(out, out0)


_THREADS_CHILD = r"""
import sys
from types import SimpleNamespace
import numpy as np
from sim.equity import gini
from sim.grid.operator import expected_day_load
from sim.metrics import supply_cost

rng = np.random.default_rng(7)
n = 35_040                                     # a year of 15-minute steps
load, price = rng.uniform(0, 5e4, n), rng.uniform(0.1, 1.2, n)
seg = SimpleNamespace(steps_per_day=96, curve=rng.uniform(0, 3, (96 * 2, 400)), common=None,
                      column_counts=rng.integers(0, 50, 400).astype(float), mean_kw_total=None)
print(repr(supply_cost(load, price, 0.25, 1e5, 50.0, 1.0)["energy_cost"]))
print(repr(gini(rng.uniform(0, 3e3, 30_000))))
print(expected_day_load([seg], 1).tobytes().hex())
"""


def test_figures_do_not_depend_on_the_number_of_blas_threads():
    """The energy cost of a long series, the Gini coefficient of many customers and the
    operator's forecast of a measured profile's columns: the same bits with OpenBLAS on one
    thread (as in a Dask worker, whose nanny sets OPENBLAS_NUM_THREADS=1) and on two (a
    process on its own). With ``@`` (BLAS) the first differed in the last bits on a machine
    with two cores; on a one-core machine both runs use one thread and this cannot tell."""
    import os
    import subprocess
    import sys

    out = []
    for threads in ("1", "2"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads}
        got = subprocess.run([sys.executable, "-c", _THREADS_CHILD], env=env, capture_output=True, text=True,
                             check=True)
        out.append(got.stdout)
    assert out[0] == out[1]
