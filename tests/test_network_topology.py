"""A topology file (``network.topology``, sim.network.topology): runs of a segment's
customers placed on named transformers and buses.

Invariants: a file that lists the contiguous cut of ``customers_per_transformer`` gives
the same bits as that key; with runs that interleave transformers and buses the network's
loads still add up to the segment's load, and each load point's load is exactly the sum of
the customers the file puts there (checked against the segment's own per-customer load);
the power flow puts each run's load on the bus it names (pandapower run directly on the
same loads); the same bits whatever the chunks, shards and Dask workers; a bad file or
bad keys exit 2 naming file, line and column.
"""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from sim.cli import main
from sim.engine import simulate
from sim.network.analysis import analyze
from sim.network.grids import grid_loads
from sim.network.topology import check_topology, placement_of

from .conftest import build, scenario_dict

pp = pytest.importorskip("pandapower")

GRID = "kerber_landnetz_kabel_2"     # 14 loads, on buses 3, 5, ..., 29


def _data(count=120, days=3, power_flow=True, steps=3) -> dict:
    data = scenario_dict(horizon={"start": "2024-01-08", "days": days, "step_minutes": 60})
    data["populations"] = [copy.deepcopy(data["populations"][0])]
    data["populations"][0].update(count=count, behavior={
        "model": "thermal_storage", "adoption": 1.0, "thermal_share": 0.5, "capacity_kwh_per_mean_kw": 10.0,
        "power_kw_per_mean_kw": 4.0})
    net = {"segment": "res", "customers_per_transformer": 28, "transformer_kva": 160, "transformers_per_feeder": 2}
    if power_flow:
        net["power_flow"] = {"grid": GRID, "steps": steps}
    data["network"] = net
    return data


def _write_csv(path, header, rows) -> str:
    path.write_text("\n".join([",".join(header)] + [",".join(str(x) for x in r) for r in rows]) + "\n")
    return str(path)


def _with_topology(data: dict, csv_path: str) -> dict:
    data = copy.deepcopy(data)
    del data["network"]["customers_per_transformer"]
    data["network"]["topology"] = csv_path
    return data


def _contiguous_rows(n: int, per_t: int, buses: list[int] | None) -> list:
    """The contiguous cut of ``per_t`` customers a transformer as a topology: each load
    ``l`` of ``L`` takes ``[floor(l C / L), floor((l + 1) C / L))`` of its transformer."""
    rows = []
    L = 1 if buses is None else len(buses)
    for t in range(-(-n // per_t)):
        c = min(per_t, n - t * per_t)
        edges = (np.arange(L + 1) * per_t) // L
        for l in range(L):
            size = max(0, min(edges[l + 1], c) - min(edges[l], c))
            rows.append((size, t) if buses is None else (size, t, buses[l]))
    return rows


@pytest.mark.parametrize("power_flow,count,per_t", [(False, 130, 28), (True, 70, 28)])
def test_contiguous_topology_gives_the_same_bits_as_customers_per_transformer(tmp_path, power_flow, count, per_t):
    data = _data(count=count, power_flow=power_flow, steps=2)
    data["network"]["customers_per_transformer"] = per_t
    buses = grid_loads(GRID, None) if power_flow else None
    header = ["customers", "transformer"] + (["bus"] if power_flow else [])
    topo = _with_topology(data, _write_csv(tmp_path / "cut.csv", header, _contiguous_rows(count, per_t, buses)))
    a, b = analyze(simulate(build(data))), analyze(simulate(build(topo)))
    assert a.placement.transformers == b.placement.transformers and a.placement.feeders == b.placement.feeders
    for x, y in ((a.groups_kw, b.groups_kw), (a.transformers_kw, b.transformers_kw), (a.feeders_kw, b.feeders_kw)):
        assert x.shape == y.shape and x.tobytes() == y.tobytes()
    for role in ("baseline", "scenario"):
        for unit in ("transformers", "feeders"):
            for k, v in a.balance[role][unit].items():
                assert v.tobytes() == b.balance[role][unit][k].tobytes(), (role, unit, k)
    assert (a.flows is None) == (b.flows is None) == (not power_flow)
    for fa, fb in zip(a.flows or [], b.flows or []):
        assert fa.steps.tobytes() == fb.steps.tobytes() and fa.figures.tobytes() == fb.figures.tobytes()
        assert fa.vm_pu.tobytes() == fb.vm_pu.tobytes()


#: Runs that interleave transformers and buses (segment order), 120 customers on 3
#: transformers; a run of no customers and two consecutive runs on one bus on the way.
INTERLEAVED = [(7, 1, 29), (5, 0, 3), (0, 2, 9), (9, 2, 9), (4, 0, 3), (11, 1, 5), (6, 0, 29),
               (13, 2, 3), (2, 1, 17), (20, 0, 11), (8, 2, 29), (3, 1, 5), (32, 1, 7)]


def _customer_groups(rows, buses) -> np.ndarray:
    """Each customer's load point ``t x L + l``, directly from the rows."""
    L = len(buses)
    return np.concatenate([np.full(n, t * L + buses.index(b), dtype=np.int64) for n, t, b in rows])


def test_interleaved_runs_add_up_and_sit_where_the_file_says(tmp_path):
    buses = grid_loads(GRID, None)
    assert sum(r[0] for r in INTERLEAVED) == 120
    data = _with_topology(_data(count=120, power_flow=True, steps=1),
                          _write_csv(tmp_path / "mixed.csv", ["customers", "transformer", "bus"], INTERLEAVED))
    sc = build(data)
    result = simulate(sc)
    nr = analyze(result)
    L = len(buses)
    assert nr.placement.transformers == 3 and nr.placement.feeders == 2
    seg = result.segments["res"]
    for r, role in enumerate(("baseline", "scenario")):
        total = seg.load_kw[role]
        np.testing.assert_allclose(nr.groups_kw[r].sum(axis=0), total, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(nr.transformers_kw[r].sum(axis=0), total, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(nr.feeders_kw[r].sum(axis=0), total, rtol=1e-12, atol=1e-9)
    # customers per transformer (the balance's ADMD divides by them) and per load point
    groups = _customer_groups(INTERLEAVED, buses)
    assert nr.placement.transformer_customers().tolist() == np.bincount(groups // L, minlength=3).tolist()
    assert nr.placement.transformer_of(np.arange(120)).tolist() == (groups // L).tolist()
    empty = np.setdiff1d(np.arange(3 * L), groups)
    assert len(empty) > 0 and not nr.groups_kw[:, empty].any()
    assert nr.groups_kw[:, np.unique(groups)].any(axis=2).all()


def test_each_load_point_is_the_sum_of_its_customers(tmp_path):
    """Segment row i's load is the same in any placement (the placement draws nothing), so
    a topology with one customer per run on its own load point (transformer t, bus l)
    gives each customer's load; the interleaved file's load points are those added up."""
    buses = grid_loads(GRID, None)
    L = len(buses)
    n = 120
    single = [(1, i // L, buses[i % L]) for i in range(n)]    # customer i alone on group i
    base = _data(count=n, power_flow=True, steps=1)
    one = analyze(simulate(build(_with_topology(base, _write_csv(tmp_path / "one.csv",
                                                                 ["customers", "transformer", "bus"], single)))))
    per_customer = one.groups_kw[:, :n]                      # (roles, customers, steps)
    mixed = analyze(simulate(build(_with_topology(base, _write_csv(tmp_path / "mixed.csv",
                                                                   ["customers", "transformer", "bus"],
                                                                   INTERLEAVED)))))
    groups = _customer_groups(INTERLEAVED, buses)
    for g in range(3 * L):
        np.testing.assert_allclose(mixed.groups_kw[:, g], per_customer[:, groups == g].sum(axis=1),
                                   rtol=1e-12, atol=1e-9)


def test_power_flow_puts_each_run_on_its_bus(tmp_path):
    """The power flow equals pandapower run directly with each load point's load on the load
    at the bus the file names; a `load` column (positions in load order) gives the same."""
    import random

    import pandapower.networks as pn
    import pandapower.networks.kerber_networks as kn

    from sim.network.grids import BUILD_SEED
    from sim.network.powerflow import FLOW_FIELDS

    buses = grid_loads(GRID, None)
    rows = [(10, 0, 29), (6, 1, 3), (12, 0, 5), (4, 1, 29)]   # two transformers, a few buses each
    base = _data(count=32, power_flow=True, steps=2)
    sc = build(_with_topology(base, _write_csv(tmp_path / "bus.csv", ["customers", "transformer", "bus"], rows)))
    nr = analyze(simulate(sc))
    by_load = [(n, t, buses.index(b)) for n, t, b in rows]
    same = analyze(simulate(build(_with_topology(base, _write_csv(tmp_path / "load.csv",
                                                                  ["customers", "transformer", "load"], by_load)))))
    assert nr.groups_kw.tobytes() == same.groups_kw.tobytes()
    assert [f.figures.tobytes() for f in nr.flows] == [f.figures.tobytes() for f in same.flows]
    tan = math.tan(math.acos(sc.network.power_factor))
    L = len(buses)
    seg_rows = np.concatenate([np.full(n, t * L + buses.index(b)) for n, t, b in rows])
    for t, flow in enumerate(nr.flows):
        for r in range(2):
            for j, step in enumerate(flow.steps):
                kn.rd = random.Random(BUILD_SEED)
                net = pn.create_kerber_landnetz_kabel_2()
                kn.rd = random
                kw = nr.groups_kw[r, t * L:(t + 1) * L, step]
                # only the named buses carry load
                loaded = {buses[g - t * L] for g in set(seg_rows.tolist()) if g // L == t}
                assert {int(b) for b, k in zip(net.load.bus, kw) if k != 0} == loaded
                net.load["p_mw"] = kw / 1000.0
                net.load["q_mvar"] = kw / 1000.0 * tan
                pp.runpp(net)
                np.testing.assert_allclose(flow.vm_pu[r, j], net.res_bus.vm_pu.to_numpy(), atol=1e-8)
                fig = dict(zip(FLOW_FIELDS, flow.figures[r, j]))
                assert fig["trafo_loading_max_percent"] == pytest.approx(net.res_trafo.loading_percent.max(), abs=1e-6)
                assert fig["losses_kw"] == pytest.approx(
                    1000 * (net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()), abs=1e-6)


def test_same_bits_whatever_the_chunks_and_shards(tmp_path):
    """Two stream blocks (4096 customers each), runs straddling the block edge and
    interleaving transformers: one shard versus three, one chunk versus one block per chunk."""
    rng = np.random.default_rng(5)
    sizes = rng.integers(1, 60, size=400)
    sizes = sizes[np.cumsum(sizes) <= 8300]
    sizes = np.append(sizes, 8300 - sizes.sum())
    rows = [(int(s), int(rng.integers(0, 40)) if i >= 40 else i) for i, s in enumerate(sizes)]
    data = _with_topology(_data(count=8300, days=2, power_flow=False),
                          _write_csv(tmp_path / "big.csv", ["customers", "transformer"], rows))
    sc = build(data)
    one = analyze(simulate(sc))
    split = analyze(simulate(sc, shards=3, chunk_customers=4096))
    assert one.placement.transformers == 40
    assert one.groups_kw.tobytes() == split.groups_kw.tobytes()
    assert one.transformers_kw.tobytes() == split.transformers_kw.tobytes()
    assert one.feeders_kw.tobytes() == split.feeders_kw.tobytes()


def test_same_bits_on_dask_workers(tmp_path):
    """A whole run with grid limits on 2 Dask workers equals the run in this process."""
    import sim

    rows = [(9, 1, 5), (20, 0, 3), (14, 1, 29), (13, 0, 29), (16, 2, 11), (12, 2, 3), (28, 3, 7)]
    data = _with_topology(_data(count=112, days=2, steps=2),
                          _write_csv(tmp_path / "dask.csv", ["customers", "transformer", "bus"], rows))
    data["network"]["limit"] = {"transformer_kva": 60}
    sc = build(data)
    here = sim.run(sc)
    two = sim.run(sc, workers=2)
    assert two.execution["shards"] == 2
    assert here.network.groups_kw.tobytes() == two.network.groups_kw.tobytes()
    assert here.metrics["network"] == two.metrics["network"]
    assert here.metrics["network"]["transformers"] == 4
    for a, b in zip(here.network.flows, two.network.flows):
        assert a.figures.tobytes() == b.figures.tobytes() and a.vm_pu.tobytes() == b.vm_pu.tobytes()


GOOD = [(28, 0, 3), (28, 1, 5)]


@pytest.mark.parametrize("header,rows,line,field,message", [
    (["customers", "bus"], [(28, 3), (28, 5)], 1, "transformer", "missing column"),
    (["transformer", "bus"], [(0, 3), (1, 5)], 1, "customers", "missing column"),
    (["customers", "transformer"], [(28, 0), (28, 1)], 1, "bus", "with a power flow give exactly one of the columns"),
    (["customers", "transformer", "bus", "load"], [(28, 0, 3, 0), (28, 1, 5, 1)], 1, "bus",
     "with a power flow give exactly one of the columns"),
    (["customers", "transformer", "bus"], [(28, 0, 3), ("2.5", 1, 5)], 3, "customers", "'2.5' is not a whole number"),
    (["customers", "transformer", "bus"], [(28, 0, 3), (28, "one", 5)], 3, "transformer", "'one' is not a whole number"),
    (["customers", "transformer", "bus"], [(28, 0, 3), (28, -1, 5)], 3, "transformer", "-1 is negative"),
    (["customers", "transformer", "bus"], [(-4, 0, 3), (60, 1, 5)], 2, "customers", "-4 is negative"),
    (["customers", "transformer", "bus"], [(28, 0, 3), (28, 1, 4)], 3, "bus", "bus 4 has no load in the network"),
    (["customers", "transformer", "load"], [(28, 0, 0), (28, 1, 14)], 3, "load",
     "load 14: the network has 14 loads (0 to 13)"),
    (["customers", "transformer", "bus"], [(28, 0, 3), (28, 2, 5)], 3, "transformer", "transformer 1 has no customers"),
    (["customers", "transformer", "bus"], [(28, 0, 3), (0, 1, 3), (28, 2, 5)], 4, "transformer",
     "transformer 1 has no customers"),
    (["customers", "transformer", "bus"], [(28, 0, 3), (27, 1, 5)], 3, "customers",
     "the runs add up to 55 customers; segment 'res' has 56"),
    (["customers", "transformer", "bus"], [(28, 0, 3), (28, 1, 5), (1, 1, 7)], 4, "customers",
     "the runs add up to 57 customers; segment 'res' has 56"),
    (["customers", "transformer", "bus"], [(28, 0, 3), (28, 1)], 3, "bus", "2 fields; the header has 3"),
])
def test_bad_topology_file_exits_2_naming_file_line_and_column(header, rows, line, field, message, write_yaml,
                                                                 tmp_path, capsys):
    _write_csv(tmp_path / "topo.csv", header, rows)
    data = _with_topology(_data(count=56), "topo.csv")       # relative to the scenario file
    path = write_yaml(data)
    code = main(["run", str(path), "--results", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{tmp_path / 'topo.csv'}:{line}: {field}: {message}" in err, err
    assert "Traceback" not in err and not (tmp_path / "results").exists()


def test_unreadable_topology_file_exits_2(write_yaml, tmp_path, capsys):
    (tmp_path / "topo.csv").write_bytes(b"customers,transformer,bus\n28,0,3\n28,1,\xff5\n")
    path = write_yaml(_with_topology(_data(count=56), "topo.csv"))
    code = main(["run", str(path), "--results", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert code == 2 and f"{tmp_path / 'topo.csv'}:3: network.topology: not UTF-8 text" in err, err
    assert "Traceback" not in err and not (tmp_path / "results").exists()


@pytest.mark.parametrize("change,expected", [
    (lambda n: n.update(customers_per_transformer=28), "give exactly one of `customers_per_transformer` and"),
    (lambda n: n.pop("topology"), "give exactly one of `customers_per_transformer` and"),
    (lambda n: n.update(topology="nowhere.csv"), "network.topology: file not found"),
    (lambda n: n["power_flow"].update(customers_per_load=[4] * 14), "network.power_flow.customers_per_load: not with"),
])
def test_bad_topology_keys_exit_2_naming_line_and_field(change, expected, write_yaml, tmp_path, capsys):
    _write_csv(tmp_path / "topo.csv", ["customers", "transformer", "bus"], GOOD)
    data = _with_topology(_data(count=56), "topo.csv")
    change(data["network"])
    path = write_yaml(data)
    code = main(["run", str(path), "--results", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and err.startswith(f"{path}:") and "Traceback" not in err, err
    assert not (tmp_path / "results").exists()


def test_a_good_file_runs_and_the_checks_pass(write_yaml, tmp_path):
    """The same file as the cases above, unbroken: it runs (relative path, a byte-order mark
    and an extra column allowed)."""
    (tmp_path / "topo.csv").write_text("\ufeffCustomers,transformer,bus,name\n28,0,3,street A\n28,1,5,street B\n")
    data = _with_topology(_data(count=56, days=2, steps=1), "topo.csv")
    path = write_yaml(data)
    from sim.scenario import load_scenario

    sc = load_scenario(path)
    check_topology(sc)
    assert placement_of(sc.network, 56).transformers == 2
    assert main(["run", str(path), "--results", str(tmp_path / "results"), "--quiet"]) == 0
    metrics = json.loads(next((tmp_path / "results").glob("*/*/metrics.json")).read_text())
    assert metrics["network"]["transformers"] == 2 and metrics["network"]["customers"] == 56


def test_memory_plan_counts_the_network_series(tmp_path):
    """The memory plan covers the network's series a run holds: the pieces' sums, and the
    load points', transformers' and feeders' series; a file of many short runs needs more."""
    from sim.engine import memory_plan

    rows = [(1, i % 5) for i in range(300)]                    # 300 runs of one customer, 5 transformers
    data = _with_topology(_data(count=300, days=2, power_flow=False),
                          _write_csv(tmp_path / "short.csv", ["customers", "transformer"], rows))
    sc = build(data)
    plain = copy.deepcopy(data)
    del plain["network"]
    extra = memory_plan(sc).coordinator - memory_plan(build(plain)).coordinator
    result = simulate(sc)
    nr = analyze(result)
    held = result.segments["res"].network["kw"].nbytes
    series = nr.groups_kw.nbytes + nr.transformers_kw.nbytes + nr.feeders_kw.nbytes
    assert held >= 300 * 2 * 48 * 8 and held + series <= extra
    contiguous = build(_data(count=300, days=2, power_flow=False))
    assert memory_plan(contiguous).coordinator - memory_plan(build(plain)).coordinator < extra / 5
    two = memory_plan(sc, 2)
    assert two.worker - memory_plan(build(plain), 2).worker >= held // 2
