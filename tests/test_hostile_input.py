"""Hostile scenario files and overrides: each is refused with exit code 2, a line naming the
file (or the --set), the line and the field where there is one, no traceback, before any
work and with nothing written."""

from __future__ import annotations

import os
import time

import pytest
import yaml

from sim.cli import main

from .conftest import scenario_dict


def _cli(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _laughs(levels: int = 9, width: int = 9) -> str:
    """The "billion laughs" document: each level is a list of `width` aliases of the one before."""
    lines = ["a0: &a0 [" + ",".join(['"lol"'] * width) + "]"]
    for k in range(1, levels):
        lines.append(f"a{k}: &a{k} [" + ",".join([f"*a{k - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_at_once(write_yaml, tmp_path, capsys):
    """9 levels of 9 aliases stand for 9**9 nodes from a few hundred bytes: refused while composing."""
    text = _laughs()
    assert len(text) < 500
    path = write_yaml(text)
    t0 = time.perf_counter()
    code, _, err = _cli(["validate", path], capsys)
    assert time.perf_counter() - t0 < 5
    assert code == 2 and "aliases expand to more than" in err and "Traceback" not in err
    assert err.startswith(f"{path}:"), err
    code, _, err = _cli(["bill", path, tmp_path / "load.csv"], capsys)  # the tariff file of `drsim bill`
    assert code == 2 and "aliases expand to more than" in err


def test_a_few_aliases_still_work(write_yaml, capsys):
    """Anchors and aliases are legitimate YAML: a tariff shared by name is not refused."""
    text = yaml.safe_dump(scenario_dict(), sort_keys=False)
    text = text.replace("  flat:\n    type: flat", "  flat: &flat\n    type: flat", 1)
    text = text.replace("\ngrid:\n", "\n  flat_copy: *flat\ngrid:\n", 1)
    code, out, err = _cli(["validate", write_yaml(text)], capsys)
    assert code == 0, err
    assert "3 tariffs" in " ".join(out.split())


@pytest.mark.parametrize("text,expected,line", [
    ("a: &a [*a]\n", "alias *a refers to a node that contains it", 1),
    ("name: x\nb: &b {c: *b}\n", "alias *b refers to a node that contains it", 2),
    ("a: " + "[" * 500 + "]" * 500 + "\n", "nested deeper than 50 levels", 1),
    ("a: " + "{b: " * 500 + "1" + "}" * 500 + "\n", "nested deeper than 50 levels", 1),
    ("name: x\nseed: 1\nb: fl\x00at\n", "control character #x0000 is not allowed", 3),
    ("name: x\nseed: " + "9" * 5000 + "\n", "an integer of 5000 characters is too long", 2),
])
def test_recursive_deep_or_binary_yaml(text, expected, line, write_yaml, capsys):
    path = write_yaml(text)
    code, _, err = _cli(["validate", path], capsys)
    assert code == 2 and "Traceback" not in err and "internal error" not in err, err
    assert err.startswith(f"{path}:{line}: YAML error: {expected}"), err


def test_recursive_set_value(write_yaml, capsys):
    code, _, err = _cli(["validate", write_yaml(scenario_dict()), "--set", "description=a: &a [*a]"], capsys)
    assert code == 2 and "--set description: cannot read value" in err and "recursive" in err, err


NON_FINITE = [
    ("tariffs.flat.price_per_kwh=.nan", "tariffs.flat.price_per_kwh: must be a finite number"),
    ("tariffs.flat.price_per_kwh=.inf", "tariffs.flat.price_per_kwh: must be a finite number"),
    ("tariffs.flat.price_per_kwh=1e308", "tariffs.flat.price_per_kwh: must lie between -1e12 and 1e12"),
    ("tariffs.flat.price_per_kwh=[0.5, -.inf]", "tariffs.flat.price_per_kwh[1]: must be a finite number"),
    ("tariffs.tou.periods.peak.price_per_kwh=1e300", "tariffs.tou.periods.peak.price_per_kwh: must lie between"),
    ("tariffs.flat.fixed_per_month=.nan", "tariffs.flat.fixed_per_month: must be a finite number"),
    ("grid.energy_cost_per_kwh=.nan", "grid.energy_cost_per_kwh: must be a finite number"),
    ("grid.capacity_cost_per_kw_year=1e308", "grid.capacity_cost_per_kw_year: must lie between"),
    ("populations.shops.behavior.elasticity=.nan", "populations[1].behavior.elasticity: must be a finite number"),
    ("populations.res.behavior.elasticity.mean=-.inf", "populations[0].behavior.elasticity.mean: must be a finite"),
    ("populations.res.annual_kwh.mean=.inf", "populations[0].annual_kwh.mean: must be a finite number"),
    ("populations.res.annual_kwh.mean=1e308", "populations[0].annual_kwh.mean: must lie between"),
    ("populations.shops.annual_kwh.high=.nan", "populations[1].annual_kwh.high: must be a finite number"),
]


@pytest.mark.parametrize("override,expected", NON_FINITE, ids=[o for o, _ in NON_FINITE])
def test_every_number_is_finite_and_bounded(override, expected, write_yaml, tmp_path, capsys):
    """NaN, infinities and absurd magnitudes are refused at validation, so `run` never starts."""
    path = write_yaml(scenario_dict())
    code, _, err = _cli(["run", path, "--set", override, "--results", tmp_path / "r"], capsys)
    assert code == 2 and expected in err and "Traceback" not in err, err
    assert not (tmp_path / "r").exists()


def test_non_finite_in_the_file_names_its_line(write_yaml, capsys):
    text = yaml.safe_dump(scenario_dict(), sort_keys=False).replace("price_per_kwh: 0.5\n", "price_per_kwh: .nan\n", 1)
    lineno = next(i for i, ln in enumerate(text.splitlines(), 1) if "price_per_kwh: .nan" in ln)
    path = write_yaml(text)
    code, _, err = _cli(["validate", path], capsys)
    assert code == 2 and f"{path}:{lineno}: tariffs.flat.price_per_kwh: must be a finite number; got nan" in err


@pytest.mark.parametrize("override,expected", [
    ("horizon.start=9999-12-31", "horizon.start: must lie within 1900-01-01 to 2199-12-31; got 9999-12-31"),
    ("horizon.start=0001-01-01", "horizon.start: must lie within 1900-01-01 to 2199-12-31"),
    ("horizon.start=2199-12-30", "horizon.days: the horizon must end by 2199-12-31: at most 2 days"),
    ("name=" + "a" * 300, "name: string should have at most 64 characters"),
    ("populations.res.name=" + "r" * 65, "populations[0].name: string should have at most 64 characters"),
])
def test_dates_and_names_are_bounded(override, expected, write_yaml, tmp_path, capsys):
    code, _, err = _cli(["run", write_yaml(scenario_dict()), "--set", override, "--results", tmp_path / "r"], capsys)
    assert code == 2 and expected in err and "Traceback" not in err, err
    assert len(err) < 400  # a long value is shortened in the message
    assert not (tmp_path / "r").exists()


def test_the_last_allowed_horizon_runs(write_yaml, tmp_path, capsys):
    """The bounds are not too tight: a horizon ending on the last allowed day runs."""
    data = scenario_dict(horizon={"start": "2199-12-25", "days": 7, "step_minutes": 60})
    for seg in data["populations"]:
        seg["count"] = 5
    code, _, err = _cli(["run", write_yaml(data), "--out", tmp_path / "run", "--quiet"], capsys)
    assert code == 0, err
    assert (tmp_path / "run" / "metrics.json").is_file()


def _out_cases(tmp_path):
    (tmp_path / "a_file").write_text("")
    (tmp_path / "empty").mkdir()
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    os.symlink(tmp_path / "empty", tmp_path / "to_empty")
    return {
        "under a file": (tmp_path / "a_file" / "run", "a_file is a file, not a folder"),
        "dangling link": (tmp_path / "dangling", "which does not exist"),
        "under a dangling link": (tmp_path / "dangling" / "run", "which does not exist"),
        "link to an empty folder": (tmp_path / "to_empty", "is a symbolic link"),
        "/proc": ("/proc/drsim-x", "cannot write /proc/drsim-x"),
        "name too long": (tmp_path / ("n" * 300), "cannot write"),
    }


@pytest.mark.parametrize("case", ["under a file", "dangling link", "under a dangling link",
                                  "link to an empty folder", "/proc", "name too long"])
def test_output_place_is_checked_before_the_run(case, write_yaml, tmp_path, capsys, monkeypatch):
    """A place that cannot take the run folder is refused before anything is simulated."""
    if case == "/proc" and not os.path.isdir("/proc"):
        pytest.skip("no /proc on this system")
    out, expected = _out_cases(tmp_path)[case]
    import sim

    def no_run(*a, **k):
        raise AssertionError("the simulation started")

    monkeypatch.setattr(sim, "run", no_run)
    code, _, err = _cli(["run", write_yaml(scenario_dict()), "--out", out], capsys)
    assert code == 2 and err.startswith("--out: ") and expected in err and "Traceback" not in err, err
    assert sorted(p.name for p in (tmp_path / "empty").iterdir()) == []
    assert not [p for p in tmp_path.iterdir() if ".check-" in p.name]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_results_folder_is_refused_before_the_run(write_yaml, tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    results.chmod(0o555)
    try:
        code, _, err = _cli(["run", write_yaml(scenario_dict()), "--results", results], capsys)
    finally:
        results.chmod(0o755)
    assert code == 2 and err.startswith("--results: cannot write") and "Permission denied" in err, err


def test_a_place_where_nothing_can_be_made_is_refused_before_the_run(write_yaml, tmp_path, capsys, monkeypatch):
    """The refusal of a read-only folder, for a test run by root (who may write anywhere): the
    file system's answer to making the probe folder is simulated."""
    import tempfile

    import sim

    def read_only(*a, **k):
        raise PermissionError(13, "Permission denied")

    def no_run(*a, **k):
        raise AssertionError("the simulation started")

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    monkeypatch.setattr(sim, "run", no_run)
    code, _, err = _cli(["run", write_yaml(scenario_dict()), "--results", tmp_path / "results"], capsys)
    assert code == 2 and err.startswith("--results: cannot write") and "Permission denied" in err, err


def test_writable_check_leaves_nothing(tmp_path):
    from sim.outdir import check_writable

    check_writable(tmp_path / "deep" / "er" / "run")
    check_writable(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", ["under a file", "dangling link", "/proc"])
def test_sweep_output_place_is_checked_before_any_run(case, write_yaml, tmp_path, capsys):
    if case == "/proc" and not os.path.isdir("/proc"):
        pytest.skip("no /proc on this system")
    out, expected = _out_cases(tmp_path)[case]
    t0 = time.perf_counter()
    code, _, err = _cli(["sweep", write_yaml(scenario_dict()), "--param", "tariffs.flat.price_per_kwh=0.5,0.6",
                         "--out", out, "--workers", "1"], capsys)
    assert code == 2 and err.startswith("--out: ") and expected in err and "Traceback" not in err, err
    assert time.perf_counter() - t0 < 20  # refused before the cluster starts or any run


def test_absurd_numbers_in_input_csv_files_are_refused(write_yaml, tmp_path, capsys):
    """The bound on every number holds for the CSV files a scenario reads too (found as the run
    starts, exit 2, nothing written): an energy-cost series and a measured load."""
    import datetime as dt

    start = dt.datetime(2024, 2, 20)
    rows = [f"{start + dt.timedelta(hours=h):%Y-%m-%dT%H:%M},0.3" for h in range(14 * 24)]
    rows[4] = rows[4].replace(",0.3", ",1e308")
    (tmp_path / "cost.csv").write_text("timestamp,cost\n" + "\n".join(rows) + "\n")
    data = scenario_dict(grid={"energy_cost_per_kwh": {"csv": "cost.csv"}})
    code, _, err = _cli(["run", write_yaml(data), "--results", tmp_path / "r"], capsys)
    assert code == 2 and f"{tmp_path / 'cost.csv'}:6: cost: must lie between -1e12 and 1e12; got 1e308" in err, err
    load = tmp_path / "load.csv"
    load.write_text("timestamp,a,b\n2024-02-20T00:00,1.0,2.0\n2024-02-20T01:00,1.0,1e300\n")
    data = scenario_dict()
    data["populations"][1].update(profile={"csv": "load.csv"}, annual_kwh=None, count=None)
    code, _, err = _cli(["run", write_yaml(data), "--results", tmp_path / "r"], capsys)
    assert code == 2 and f"{load}:3: b: must be a finite number at most 1e12" in err, err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("where", ["energy", "demand"])
def test_a_schedule_rule_with_only_empty_hour_lists_is_refused(where, write_yaml, capsys):
    """Found by scripts/fuzz_scenarios.py: a rule whose every period has an empty list of hours
    covers no hour of its days; it validated, and the run then failed compiling the tariff."""
    data = scenario_dict()
    tou = data["tariffs"]["tou"]
    if where == "demand":
        data["tariffs"]["flat"]["demand"] = {"tou": {
            "periods": {"peak": {"per_kw_month": 26.0}, "off_peak": {"per_kw_month": 0.0}},
            "schedule": [{"day_types": ["weekday"], "hours": {"peak": ["10:00-12:00"], "off_peak": ["12:00-10:00"]}},
                         {"day_types": ["weekend"], "hours": {"off_peak": []}}]}}
        prefix = "tariffs.flat.demand.tou.schedule[1].hours"
    else:
        tou["schedule"] = [tou["schedule"][0] | {"day_types": ["weekday"]},
                           {"day_types": ["weekend"], "hours": {"peak": [], "flat": [], "valley": []}}]
        prefix = "tariffs.tou.schedule[1].hours"
    code, _, err = _cli(["validate", write_yaml(data)], capsys)
    assert code == 2 and f"{prefix}: hours 00:00-24:00 are in no period" in err, err


def test_a_period_whose_every_hour_list_is_empty_is_in_no_hours(write_yaml, capsys):
    data = scenario_dict()
    data["tariffs"]["tou"]["periods"]["spare"] = {"price_per_kwh": 0.4}
    data["tariffs"]["tou"]["schedule"][0]["hours"]["spare"] = []
    code, _, err = _cli(["validate", write_yaml(data)], capsys)
    assert code == 2 and "tariffs.tou.periods.spare: period 'spare' is in no schedule rule's hours" in err, err
