"""Every command that reads a scenario checks the files its network names before any work:
``drsim validate``, ``sweep`` (each design point), ``tariff calibrate`` and ``run`` read the
topology CSV and the power-flow network file, and a bad one exits 2 with one line naming
file, line and field, no traceback, and nothing written.

The cases break one thing of a good pair of files (a topology file of 2 x 28 customers on
buses 3 and 5 of Kerber's rural cable network 2, and that network written by pandapower as
JSON); the good pair validates.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim.cli import main

from .conftest import scenario_dict

pp = pytest.importorskip("pandapower")

REPO = Path(__file__).resolve().parents[1]
GRID = "kerber_landnetz_kabel_2"     # 14 loads, on buses 3, 5, ..., 29


@pytest.fixture(scope="module")
def network_json(tmp_path_factory) -> str:
    """The shipped network as a pandapower JSON file."""
    from sim.network.grids import shipped

    path = tmp_path_factory.mktemp("grid") / "kerber.json"
    pp.to_json(shipped(GRID), str(path))
    return path.read_text()


def _scenario(folder: Path, *, topology: bool, network_file: bool, customers_per_load=None) -> Path:
    """A 56-customer scenario whose network names ``topo.csv`` (or 28 customers a
    transformer) and ``net.json`` (or the shipped network), relative to the scenario file."""
    data = scenario_dict(horizon={"start": "2024-01-08", "days": 2, "step_minutes": 60})
    data["populations"] = [copy.deepcopy(data["populations"][0])]
    data["populations"][0]["count"] = 56
    net = {"segment": "res", "transformer_kva": 160, "transformers_per_feeder": 2,
           "power_flow": {"steps": 1, **({"file": "net.json"} if network_file else {"grid": GRID})}}
    if topology:
        net["topology"] = "topo.csv"
    else:
        net["customers_per_transformer"] = 28
    if customers_per_load is not None:
        net["power_flow"]["customers_per_load"] = customers_per_load
    data["network"] = net
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


GOOD_TOPOLOGY = "customers,transformer,bus\n28,0,3\n28,1,5\n"

#: (what is broken, topology file or None, network JSON or None (the good one: "good"),
#: customers_per_load, the file the message names, its line (None: the line of the scenario
#: file's customers_per_load), the field, the message's start)
CASES = [
    ("bus not a number", "customers,transformer,bus\n28,0,3\n28,1,x5\n", None, None,
     "topo.csv", 3, "bus", "'x5' is not a whole number"),
    ("bus without a load", "customers,transformer,bus\n28,0,3\n28,1,4\n", None, None,
     "topo.csv", 3, "bus", "bus 4 has no load in the network"),
    ("runs short of the segment", "customers,transformer,bus\n28,0,3\n27,1,5\n", None, None,
     "topo.csv", 3, "customers", "the runs add up to 55 customers; segment 'res' has 56"),
    ("no transformer column", "customers,bus\n28,3\n28,5\n", None, None,
     "topo.csv", 1, "transformer", "missing column"),
    ("network not JSON", None, '{\n  "_class": "pandapowerNet",\n  "_object": \n}\n', None,
     "net.json", 4, "network.power_flow.file", "not JSON: Expecting value (column 1)"),
    ("network JSON of something else", None, '{"bus": []}\n', None,
     "net.json", 1, "network.power_flow.file", "not a pandapower network"),
    ("pandapower cannot build it", None, '{"_class": "pandapowerNet", "_object": 3}\n', None,
     "net.json", 1, "network.power_flow.file", "pandapower cannot read the network"),
    ("network without loads", None, "no loads", None,
     "net.json", 1, "network.power_flow.file", "the network has no loads to place customers on"),
    ("customers_per_load of another network", None, "good", [14, 14],
     "scenario.yaml", None, "network.power_flow.customers_per_load", "lists 2 loads; the network has 14"),
]

COMMANDS = {
    "validate": lambda path, tmp: ["validate", str(path)],
    "sweep": lambda path, tmp: ["sweep", str(path), "--param", "tariffs.tou.periods.peak.price_per_kwh=0.8,0.9",
                                "--workers", "1", "--out", str(tmp / "out"), "--quiet"],
    "calibrate": lambda path, tmp: ["tariff", "calibrate", str(path), "--tariff", "tou", "-o", str(tmp / "out")],
    "run": lambda path, tmp: ["run", str(path), "--out", str(tmp / "out"), "--quiet"],
}


def _write_case(tmp_path: Path, topology, network, customers_per_load, network_json) -> Path:
    if topology is not None:
        (tmp_path / "topo.csv").write_text(topology)
    if network == "no loads":
        net = pp.from_json_string(network_json)
        net.load.drop(net.load.index, inplace=True)
        pp.to_json(net, str(tmp_path / "net.json"))
    elif network is not None:
        (tmp_path / "net.json").write_text(network_json if network == "good" else network)
    return _scenario(tmp_path, topology=topology is not None, network_file=network is not None,
                     customers_per_load=customers_per_load)


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("what,topology,network,per_load,file,line,field,message", CASES, ids=[c[0] for c in CASES])
def test_bad_network_files_exit_2_naming_file_line_and_field(what, topology, network, per_load, file, line, field,
                                                             message, command, tmp_path, network_json, capsys):
    path = _write_case(tmp_path, topology, network, per_load, network_json)
    if line is None:
        line = next(i for i, text in enumerate(path.read_text().splitlines(), 1)
                    if text.strip().startswith("customers_per_load:"))
    code = main(COMMANDS[command](path, tmp_path))
    out = capsys.readouterr()
    assert code == 2, out
    assert out.err.startswith(f"{tmp_path / file}:{line}: {field}: {message}"), out.err
    assert "Traceback" not in out.err and "internal error" not in out.err
    assert len(out.err.strip().splitlines()) == 1       # the one problem, once (a sweep has two points)
    assert not (tmp_path / "out").exists()


def test_the_good_files_pass_every_command(tmp_path, network_json, capsys):
    """The files the cases break, unbroken: validate says ok, and a run uses them."""
    path = _write_case(tmp_path, GOOD_TOPOLOGY, "good", None, network_json)
    assert main(["validate", str(path)]) == 0
    assert ": ok — " in capsys.readouterr().out
    assert main(COMMANDS["run"](path, tmp_path)) == 0
    assert (tmp_path / "out" / "metrics.json").is_file()


def test_sweep_checks_each_design_point(tmp_path, network_json, capsys):
    """A swept segment size that the topology file does not place is refused before any run,
    told as the sweep's parameter, whether on the command line or in the file's sweep block."""
    path = _write_case(tmp_path, GOOD_TOPOLOGY, None, None, network_json)
    code = main(["sweep", str(path), "--param", "populations.res.count=56,60", "--workers", "1",
                 "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and f"{tmp_path / 'topo.csv'}:3: customers: the runs add up to 56 customers; segment " \
                         f"'res' has 60" in err, err
    assert "Traceback" not in err and not (tmp_path / "out").exists()
    data = yaml.safe_load(path.read_text())
    data["sweep"] = {"params": {"populations.res.count": [56, 60]}}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "segment 'res' has 60" in err and "Traceback" not in err, err
    data["sweep"] = {"params": {"populations.res.count": [56]}}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["validate", str(path)]) == 0
    assert "sweep block ok — 1 run" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["validate", "sweep"])
def test_the_installed_command_exits_2_without_a_traceback(command, tmp_path, network_json):
    """The same through the real command line (a process of its own): exit 2, one line."""
    path = _write_case(tmp_path, "customers,transformer,bus\n28,0,3\n28,1,x5\n", None, None, network_json)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "sim.cli", *COMMANDS[command](path, tmp_path)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == f"{tmp_path / 'topo.csv'}:3: bus: 'x5' is not a whole number", proc.stderr
    assert not (tmp_path / "out").exists()


#: Nouns the commands print after a count; "1 <plural>" is the defect the test looks for.
PLURALS = ("transformers", "feeders", "customers", "segments", "tariffs", "days", "runs", "points", "replications",
           "loads", "systems", "steps", "weekdays", "holidays")


def _ones(text: str) -> list[str]:
    """Every "1 <plural noun>" in a text (HTML tags count as breaks)."""
    import re

    text = re.sub(r"<[^>]*>", " | ", text)
    return re.findall(rf"(?<![\d.,]) ?\b1 (?:{'|'.join(PLURALS)})\b", text)


def test_counts_of_one_are_singular(tmp_path, capsys):
    """A one-day run of one segment, one tariff each way... one transformer: validate, the run's
    summary and its report say "1 transformer", "1 segment", "1 day", never "1 transformers";
    the same files with two transformers say "2 transformers"."""
    data = scenario_dict(horizon={"start": "2024-01-08", "days": 1, "step_minutes": 60})
    data["populations"] = [copy.deepcopy(data["populations"][0])]
    data["populations"][0].update(count=40, tariff={"baseline": "tou", "scenario": "tou"})
    del data["tariffs"]["flat"]
    data["network"] = {"segment": "res", "customers_per_transformer": 40, "transformer_kva": 100}
    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1 segment, 40 customers, 1 day at 60-minute steps, 1 tariff" in out and not _ones(out), out
    assert main(["run", str(path), "--out", str(tmp_path / "one"), "--quiet", "--report"]) == 0
    out = capsys.readouterr().out
    html = (tmp_path / "one" / "report.html").read_text()
    assert "network (res, 1 transformer of 100 kVA)" in out and not _ones(out), _ones(out)
    assert "Loading duration curves of the 1 transformer " in html and not _ones(html), _ones(html)
    data["network"]["customers_per_transformer"] = 20
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["run", str(path), "--out", str(tmp_path / "two"), "--quiet"]) == 0
    assert "network (res, 2 transformers of 100 kVA)" in capsys.readouterr().out


def test_several_segments_on_one_network_are_refused_naming_the_limitation(tmp_path, capsys):
    """A network takes one segment's customers: a list of segments is refused at its line,
    saying so and pointing to the way round it (one segment with behaviour shares)."""
    data = scenario_dict()
    data["network"] = {"segment": ["res", "shops"], "customers_per_transformer": 30, "transformer_kva": 100}
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.strip().startswith("segment:"))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:{line}: network.segment: one segment per network") and "adoption shares" in err
    assert "docs/network.md, section 7" in err and "Traceback" not in err
