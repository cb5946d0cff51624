"""Every bad input gives one clear line per problem, exit code 2, no traceback, nothing written."""

from __future__ import annotations

import copy

import pytest
import yaml

from sim.cli import main

from .conftest import scenario_dict


def _run_cli(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def _mutate(fn):
    data = scenario_dict()
    fn(data)
    return data


CASES = [
    ("unknown key", lambda d: d["populations"][0].update(colour="blue"),
     "populations[0].colour: unknown key"),
    ("wrong type", lambda d: d["horizon"].update(days="ten"),
     "horizon.days: must be a valid integer"),
    ("negative price", lambda d: d["tariffs"]["flat"].update(price_per_kwh=-0.05),
     "tariffs.flat.price_per_kwh: must be >= 0; got -0.05"),
    ("overlapping hours", lambda d: d["tariffs"]["tou"]["schedule"][0]["hours"]["peak"].append("16:00-18:00"),
     "tariffs.tou.schedule[0].hours.peak[1]: 16:00-18:00 overlaps hours already given to peak"),
    ("gap in hours", lambda d: d["tariffs"]["tou"]["schedule"][0]["hours"].update(valley=["00:00-07:00"]),
     "tariffs.tou.schedule[0].hours: hours 23:00-24:00 are in no period"),
    ("period in no hours", lambda d: d["tariffs"]["tou"]["periods"].update(peek={"price_per_kwh": 1.0}),
     "tariffs.tou.periods.peek: period 'peek' is in no schedule rule's hours"),
    ("unknown holiday country", lambda d: d.update(calendar={"holidays": {"country": "XX"}}),
     "calendar.holidays.country: unknown holiday country 'XX'"),
    ("subdivision of a country without any", lambda d: d.update(calendar={"holidays": {"country": "CN", "subdivision": "GD"}}),
     "calendar.holidays.subdivision: CN has no subdivisions in the `holidays` package: remove subdivision 'GD'"),
    ("missing profile file", lambda d: d["populations"][1].update(profile={"csv": "nowhere.csv"}, annual_kwh=None),
     "populations[1].profile.csv: file not found"),
    ("zero customers", lambda d: d["populations"][0].update(count=0),
     "populations[0].count: must be > 0; got 0"),
    ("absurd customers", lambda d: d["populations"][0].update(count=10**12),
     "populations[0].count: must be <= 20000000; got 1000000000000"),
    ("unknown tariff name", lambda d: d["populations"][0]["tariff"].update(scenario="tuo"),
     "populations[0].tariff.scenario: unknown tariff 'tuo'"),
    ("unknown sector", lambda d: d["populations"][1].update(behavior="default", sector="foundry"),
     "populations[1].sector: must be 'continuous_process', 'general_manufacturing', 'batch_process'"),
    ("sector of another class", lambda d: d["populations"][1].update(behavior="default", sector="batch_process"),
     "populations[1].sector: sector 'batch_process' is not a commercial sector"),
    ("shifts of a household", lambda d: d["populations"][0].update(behavior="default", shifts=2),
     "populations[0].shifts: applies to commercial and industrial segments only"),
    ("sector without the default", lambda d: d["populations"][1].update(sector="office"),
     "populations[1].sector: sets the defaults of behavior: default only"),
    ("four shifts", lambda d: d["populations"][1].update(behavior="default", shifts=4),
     "populations[1].shifts: must be 1, 2 or 3; got 4"),
    ("positive elasticity", lambda d: d["populations"][1]["behavior"].update(elasticity=0.2),
     "populations[1].behavior.elasticity: elasticity must lie in [-5.0, 0.0] for every customer"),
    ("month in no season", lambda d: d["tariffs"]["tou"].update(seasons={"s": {"months": [1, 2, 3]}}),
     "tariffs.tou.seasons: months [4, 5, 6, 7, 8, 9, 10, 11, 12] are in no season"),
    ("bad step", lambda d: d["horizon"].update(step_minutes=45),
     "horizon.step_minutes: must be 15, 30 or 60"),
    ("unknown period", lambda d: d["tariffs"]["tou"]["schedule"][0]["hours"].update(shoulder=["23:00-23:30"]),
     "tariffs.tou.schedule[0].hours.shoulder: unknown period 'shoulder'"),
    ("bad hour range", lambda d: d["tariffs"]["tou"]["schedule"][0]["hours"].update(peak=["17-25"]),
     "hours must be within 00:00-24:00"),
    ("tiers out of order", lambda d: d["tariffs"]["flat"].update(tiers={"bounds_kwh": [300, 200]}),
     "tariffs.flat.tiers.bounds_kwh[1]: tiers out of order: 200.0 follows 300.0"),
    ("tier prices do not match tiers", lambda d: d["tariffs"]["flat"].update(
        price_per_kwh=[0.5, 0.6], tiers={"bounds_kwh": [100, 200]}),
     "tariffs.flat.price_per_kwh: one price per tier: needs 3; got 2"),
    ("demand blocks out of order", lambda d: d["tariffs"]["flat"].update(
        demand={"blocks": {"bounds_kw": [50, 20], "per_kw_month": [10, 8, 5]}}),
     "tariffs.flat.demand.blocks.bounds_kw[1]: blocks out of order: 20.0 follows 50.0"),
    ("demand block rates do not match blocks", lambda d: d["tariffs"]["flat"].update(
        demand={"blocks": {"bounds_kw": [50], "per_kw_month": [10, 8, 5]}}),
     "tariffs.flat.demand.blocks.per_kw_month: needs 2 rates (one per block, one more than bounds_kw); got 3"),
    ("demand rate and blocks", lambda d: d["tariffs"]["flat"].update(
        demand={"per_kw_month": 12, "blocks": {"bounds_kw": [50], "per_kw_month": [10, 8]}}),
     "tariffs.flat.demand.per_kw_month: give the charge on the month's maximum as per_kw_month or as blocks"),
    ("demand block with 11 monthly rates", lambda d: d["tariffs"]["flat"].update(
        demand={"blocks": {"bounds_kw": [50], "per_kw_month": [10, [8] * 11]}}),
     "tariffs.flat.demand.blocks.per_kw_month[1]: a list needs 12 monthly rates; got 11"),
    ("net billing without a price", lambda d: d["tariffs"]["flat"].update(export={"rule": "net_billing"}),
     "tariffs.flat.export.price: net_billing needs an export price"),
    ("export price of an unknown period", lambda d: d["tariffs"]["tou"].update(
        export={"rule": "net_billing", "price": {"periods": {"peak": 0.1, "valley": 0.05, "flat": 0.1, "mid": 0.2}}}),
     "tariffs.tou.export.price.periods.mid: unknown period 'mid'"),
    ("true-up month 13", lambda d: d["tariffs"]["flat"].update(export={"rule": "net_metering",
                                                                        "true_up": {"month": 13}}),
     "tariffs.flat.export.true_up.month: must be <= 12; got 13"),
    ("negative export limit", lambda d: d["tariffs"]["flat"].update(
        export={"rule": "net_billing", "price": 0.1, "limit_kw": -5}),
     "tariffs.flat.export.limit_kw: must be > 0; got -5"),
    ("net metering on real-time prices", lambda d: d["tariffs"].update(
        rtp={"type": "rtp", "prices": "system_marginal_cost", "export": {"rule": "net_metering"}}),
     "tariffs.rtp.export.rule: real-time prices net step by step"),
    ("negative capacity", lambda d: d["tariffs"]["flat"].update(capacity={"per_kva_month": -26}),
     "tariffs.flat.capacity.per_kva_month: must be >= 0; got -26"),
    ("capacity charge without contract", lambda d: d["tariffs"]["flat"].update(capacity={"per_kva_month": 26}),
     "populations[0].contract_kva_per_mean_kw: required: the baseline tariff 'flat' has a capacity charge"),
    ("event wraps midnight", lambda d: d["tariffs"]["tou"].update(
        critical_peak={"price_adder_per_kwh": 1, "events": [{"date": "2024-02-21", "hours": "22:00-02:00"}]}),
     "tariffs.tou.critical_peak.events[0].hours: an event may not wrap midnight"),
    ("boundary off the step", lambda d: d["tariffs"]["tou"]["schedule"][0]["hours"].update(
        peak=["17:30-21:00"], flat=["07:00-17:30", "21:00-23:00"]),
     "tariffs.tou: period boundaries at 17:30 do not fall on 60-minute steps"),
]


@pytest.mark.parametrize("name,mutate,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_names_line_and_field(name, mutate, expected, write_yaml, tmp_path, capsys):
    path = write_yaml(_mutate(mutate))
    code, out, err = _run_cli(["run", str(path), "--results", str(tmp_path / "results")], capsys)
    assert code == 2
    assert expected in err, err
    assert err.startswith(str(path)) or err.startswith("--set")
    assert "Traceback" not in err
    assert not (tmp_path / "results").exists()


def test_all_problems_are_reported_together(write_yaml, capsys):
    data = scenario_dict()
    data["tariffs"]["flat"]["price_per_kwh"] = -1
    data["populations"][0]["count"] = 0
    data["populations"][1]["tariff"]["baseline"] = "missing"
    data["calendar"] = {"holidays": {"country": "ZZ"}}
    path = write_yaml(data)
    code, _, err = _run_cli(["validate", str(path)], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 4, err
    assert all(line.startswith(f"{path}:") for line in lines), err


def test_error_line_numbers_point_at_the_field(write_yaml, capsys):
    text = yaml.safe_dump(scenario_dict(), sort_keys=False).replace("price_per_kwh: 0.5\n", "price_per_kwh: -0.5\n", 1)
    path = write_yaml(text)
    lineno = next(i for i, line in enumerate(text.splitlines(), 1) if "price_per_kwh: -0.5" in line)
    code, _, err = _run_cli(["validate", str(path)], capsys)
    assert code == 2 and f"{path}:{lineno}: tariffs.flat.price_per_kwh" in err


@pytest.mark.parametrize("text,expected", [
    ("name: x\n  bad: [indent\n", "YAML error"),
    ("name: !!python/object/apply:os.system ['echo hi']\n", "YAML error"),
    ("name: a\nname: b\n", ":2: name: duplicate key"),
    ("- just\n- a list\n", "a scenario file is a mapping"),
    ("", "the file is empty"),
])
def test_broken_yaml(text, expected, write_yaml, capsys):
    code, _, err = _run_cli(["validate", str(write_yaml(text))], capsys)
    assert code == 2 and expected in err and "Traceback" not in err


def test_missing_file(tmp_path, capsys):
    code, _, err = _run_cli(["validate", str(tmp_path / "nope.yaml")], capsys)
    assert code == 2 and "cannot read file" in err


def test_bad_override_names_the_set(write_yaml, capsys):
    path = write_yaml(scenario_dict())
    code, _, err = _run_cli(["validate", str(path), "--set", "populations.res.count=-3"], capsys)
    assert code == 2 and "--set populations.res.count: populations[0].count: must be > 0; got -3" in err
    code, _, err = _run_cli(["validate", str(path), "--set", "populations.nobody.count=3"], capsys)
    assert code == 2 and "no item named 'nobody'" in err
    code, _, err = _run_cli(["validate", str(path), "--set", "seed"], capsys)
    assert code == 2 and "path=value" in err


def test_bad_measured_csv(write_yaml, tmp_path, capsys):
    csv = tmp_path / "load.csv"
    csv.write_text("timestamp,a,b\n2024-02-20T00:00,1.0,2.0\n2024-02-20T01:00,1.0,-2\n")
    data = scenario_dict()
    data["populations"][1].update(profile={"csv": "load.csv"}, annual_kwh=None, count=None)
    code, _, err = _run_cli(["run", str(write_yaml(data)), "--results", str(tmp_path / "r")], capsys)
    assert code == 2
    assert f"{csv}:3: b: must be a finite number >= 0 (kWh); got -2" in err
    assert not (tmp_path / "r").exists()


def test_debug_shows_the_traceback(write_yaml):
    data = scenario_dict()
    data["populations"][0]["count"] = 0
    with pytest.raises(Exception):
        main(["--debug", "validate", str(write_yaml(data))])


def test_a_run_too_large_for_the_machine_is_refused_up_front(write_yaml, tmp_path, capsys, monkeypatch):
    """A run whose memory estimate exceeds the machine is refused before any work, exit 2
    (the per-customer size is inflated here so that the test does not depend on the machine)."""
    import sim.engine.backends

    monkeypatch.setattr(sim.engine.backends, "BYTES_PER_CUSTOMER", 10**12)
    code, _, err = _run_cli(["run", str(write_yaml(scenario_dict())), "--results", str(tmp_path / "r")], capsys)
    assert code == 2 and "GiB of memory" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()
