"""The network (sim.network): customers on transformers and feeders, their loads, and the
power flow (pandapower).

Invariants: the load points' loads add up to the segment's load; the placement's pieces
cover every customer once; the same bits whatever the chunks, shards and Dask workers; the
power flow equals pandapower run directly on the same loads; bad network input exits 2
naming file, line and field.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.engine import simulate
from sim.network.analysis import analyze
from sim.network.placement import Placement, pieces
from sim.network.powerflow import FLOW_FIELDS

from .conftest import build, scenario_dict

pp = pytest.importorskip("pandapower")


def _network_data(count=120, days=3, power_flow=True, steps=3):
    data = scenario_dict(horizon={"start": "2024-01-08", "days": days, "step_minutes": 60})
    data["populations"] = [copy.deepcopy(data["populations"][0])]
    data["populations"][0].update(count=count, behavior={
        "model": "thermal_storage", "adoption": 1.0, "thermal_share": 0.5, "capacity_kwh_per_mean_kw": 10.0,
        "power_kw_per_mean_kw": 4.0})
    net = {"segment": "res", "customers_per_transformer": 28, "transformer_kva": 160, "transformers_per_feeder": 2}
    if power_flow:
        net["power_flow"] = {"grid": "kerber_landnetz_kabel_2", "steps": steps}
    data["network"] = net
    return data


@given(n=st.integers(1, 3000), per_t=st.integers(1, 300), loads=st.integers(1, 20),
       lo=st.integers(0, 3000), width=st.integers(0, 3000))
@settings(max_examples=60, deadline=None)
def test_pieces_cover_each_row_once_within_one_group(n, per_t, loads, lo, width):
    """Every row of [lo, hi) lies in exactly one piece, and a piece's rows all belong to the
    group it names (checked against each customer's group computed directly)."""
    net = build(_network_data(count=max(n, 1), power_flow=False)).network.model_copy(
        update={"customers_per_transformer": per_t})
    pl = Placement.of(net, n, loads)
    lo = min(lo, n)
    hi = min(lo + width, n)
    bounds, group = pieces(pl.group_starts(), lo, hi)
    assert bounds[0] == 0 and bounds[-1] == hi - lo and np.all(np.diff(bounds) > 0) or hi == lo
    starts = pl.group_starts()[:-1]
    for (a, b), g in zip(zip(bounds[:-1], bounds[1:]), group):
        rows = np.arange(lo + a, lo + b)
        direct = np.searchsorted(starts, rows, side="right") - 1   # last group starting at or before the row
        assert np.all(direct == g)
        t, within = rows // per_t, rows % per_t
        assert np.all(t == g // loads)
        edges = np.cumsum(pl.per_load)
        assert np.all(np.searchsorted(edges, within, side="right") == g % loads)


def test_network_loads_add_up_to_the_segment_load():
    sc = build(_network_data(count=130, power_flow=False))
    result = simulate(sc)
    nr = analyze(result)
    assert nr.placement.transformers == 5 and nr.placement.feeders == 3
    seg = result.segments["res"]
    for r, role in enumerate(("baseline", "scenario")):
        total = seg.load_kw[role]
        np.testing.assert_allclose(nr.transformers_kw[r].sum(axis=0), total, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(nr.feeders_kw[r].sum(axis=0), total, rtol=1e-12, atol=1e-9)
    # the timer peak: storage charging makes the scenario's largest step rise larger
    assert nr.balance["scenario"]["transformers"]["max_rise_kw"].max() > \
        nr.balance["baseline"]["transformers"]["max_rise_kw"].max()


def test_same_bits_whatever_the_chunks_and_shards():
    """Two stream blocks (4096 customers each), transformers straddling the block edge:
    one shard versus three, one chunk versus one block per chunk."""
    data = _network_data(count=8300, days=2, power_flow=False)
    data["network"]["customers_per_transformer"] = 37
    sc = build(data)
    one = analyze(simulate(sc))
    split = analyze(simulate(sc, shards=3, chunk_customers=4096))
    assert one.groups_kw.tobytes() == split.groups_kw.tobytes()
    assert one.transformers_kw.tobytes() == split.transformers_kw.tobytes()


def test_power_flow_agrees_with_pandapower_run_directly():
    sc = build(_network_data(count=56, steps=2))
    result = simulate(sc)
    nr = analyze(result)
    assert len(nr.flows) == 2
    import random

    import pandapower.networks as pn
    import pandapower.networks.kerber_networks as kn

    from sim.network.grids import BUILD_SEED

    tan = math.tan(math.acos(sc.network.power_factor))
    for t, flow in enumerate(nr.flows):
        for r in range(2):
            for j, step in enumerate(flow.steps):
                kn.rd = random.Random(BUILD_SEED)  # the Kerber constructor draws branch-out cable types
                net = pn.create_kerber_landnetz_kabel_2()
                kn.rd = random
                # two customers on each of the 14 loads: their loads added directly from the groups
                kw = nr.groups_kw[r, t * 14:(t + 1) * 14, step]
                net.load["p_mw"] = kw / 1000.0
                net.load["q_mvar"] = kw / 1000.0 * tan
                pp.runpp(net)
                np.testing.assert_allclose(flow.vm_pu[r, j], net.res_bus.vm_pu.to_numpy(), atol=1e-8)
                fig = dict(zip(FLOW_FIELDS, flow.figures[r, j]))
                assert fig["trafo_loading_max_percent"] == pytest.approx(net.res_trafo.loading_percent.max(), abs=1e-6)
                assert fig["losses_kw"] == pytest.approx(
                    1000 * (net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()), abs=1e-6)
    # the steps run are each role's highest-load steps of the transformer
    t_kw = nr.transformers_kw[:, 0]
    for r in range(2):
        assert int(t_kw[r].argmax()) in nr.flows[0].steps


def test_same_bits_on_dask_workers():
    """A whole run on 2 Dask workers (customers in Dask shards, power flows one feeder per
    task) and the power flows on 1 worker equal the run in this process, bit for bit."""
    import sim
    from sim.sweep.execute import connect

    sc = build(_network_data(count=112, days=2, steps=2))
    here = sim.run(sc)
    two = sim.run(sc, workers=2)
    assert two.execution["shards"] == 2
    # drsim's own local cluster (a plain LocalCluster left Dask's MALLOC_TRIM_THRESHOLD_ in this
    # process's environment, which later clusters then inherited)
    with connect(None, 1) as client:
        one = analyze(here, client)
    assert here.network.groups_kw.tobytes() == two.network.groups_kw.tobytes()
    assert here.metrics["network"] == two.metrics["network"]
    for other in (one, two.network):
        assert len(other.flows) == len(here.network.flows) == 4
        for a, b in zip(here.network.flows, other.flows):
            assert a.steps.tobytes() == b.steps.tobytes()
            assert a.figures.tobytes() == b.figures.tobytes()
            assert a.vm_pu.tobytes() == b.vm_pu.tobytes()


@pytest.mark.parametrize("change,expected", [
    (lambda n: n.update(segment="nobody"), "network.segment: unknown segment 'nobody'"),
    (lambda n: n.update(transformer_kva=-1), "network.transformer_kva"),
    (lambda n: n["power_flow"].update(grid="atlantis"), "network.power_flow.grid"),
    (lambda n: n["power_flow"].update(customers_per_load=[1, 2]), "network.power_flow.customers_per_load"),
    (lambda n: n["power_flow"].update(customers_per_load=[14, 14]),
     "network.power_flow.customers_per_load: lists 2 loads; the network has 14"),
    (lambda n: n["power_flow"].update(grid=None, file="nowhere.json"), "network.power_flow.file: file not found"),
])
def test_bad_network_input_exits_2_naming_line_and_field(change, expected, write_yaml, tmp_path, capsys):
    data = _network_data()
    change(data["network"])
    path = write_yaml(data)
    code = main(["run", str(path), "--results", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and err.startswith(f"{path}:") and "Traceback" not in err
    assert not (tmp_path / "results").exists()


def test_report_draws_the_network_where_it_has_coordinates(write_yaml, tmp_path):
    """CIGRE's LV network has bus coordinates: the run folder keeps them and the report
    draws the network (inline SVG, every bus coloured); Kerber's has none: a note instead."""
    import pandas as pd

    for grid, drawn in (("cigre_lv", True), ("kerber_landnetz_kabel_2", False)):
        data = _network_data(count=30, days=2, steps=1)
        data["network"].update(customers_per_transformer=15, transformer_kva=500)
        data["network"]["power_flow"]["grid"] = grid
        path = write_yaml(data, name=f"{grid}.yaml")
        assert main(["run", str(path), "--results", str(tmp_path / grid)]) == 0
        folder = next((tmp_path / grid).glob("*/*/"))
        assert (folder / "network" / "buses.parquet").is_file() == drawn
        assert main(["report", str(folder)]) == 0
        html = (folder / "report.html").read_text()
        if drawn:
            buses = pd.read_parquet(folder / "network" / "buses.parquet")
            assert len(buses) == 44 and buses[["x", "y"]].notna().all().all()
            start = html.index('id="fig-network-diagram"')
            svg = html[html.index("<svg", start):html.index("</svg>", start)]
            assert svg.count("<path") >= len(buses)              # the branches and the buses are drawn
        else:
            assert "fig-network-diagram" not in html and "no bus coordinates" in html
