"""`drsim bill` on load files and `drsim tariff calibrate`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

import sim
from sim.cli import main
from sim.tariffs import CHARGES

from .conftest import build, scenario_dict
from .reference import reference_bills

TARIFF = {
    "type": "tou", "fixed_per_month": 10.0,
    "periods": {"peak": {"price_per_kwh": 0.9}, "off": {"price_per_kwh": 0.3}},
    "schedule": [{"day_types": ["weekday"], "hours": {"peak": ["16:00-21:00"], "off": ["21:00-16:00"]}},
                 {"day_types": ["weekend"], "hours": {"off": ["00:00-24:00"]}}],
    "demand": {"per_kw_month": 5.0},
}


def _load(year=2025, steps_per_day=24):
    days = 366 if year % 4 == 0 else 365
    n = days * steps_per_day
    k = np.arange(n)
    return 0.5 + 0.4 * np.sin(k / steps_per_day * 2 * np.pi) ** 2 + (k % 97) / 500


def _csv(path, values, year=2025, header=True, stamps=True, steps_per_day=24):
    lines = ["timestamp,kwh" if stamps else "kwh"] if header else []
    t0 = np.datetime64(f"{year}-01-01T00:00")
    step = np.timedelta64(1440 // steps_per_day, "m")
    for i, v in enumerate(values):
        lines.append(f"{t0 + i * step},{v:.6f}" if stamps else f"{v:.6f}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("header,stamps", [(True, True), (False, True), (True, False), (False, False)])
def test_bill_json_matches_reference(tmp_path, capsys, header, stamps):
    """Each month's charges equal the loop-based reference, whatever the CSV layout."""
    values = _load()
    csv = _csv(tmp_path / "load.csv", values, header=header, stamps=stamps)
    tariff = tmp_path / "t.yaml"
    tariff.write_text(yaml.safe_dump(TARIFF))
    assert main(["bill", str(tariff), str(csv), "--year", "2025", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["year"] == 2025 and len(out["months"]) == 12
    stamps_list = (np.datetime64("2025-01-01T00:00") + np.arange(8760) * np.timedelta64(60, "m")).astype("datetime64[m]").tolist()
    ref = reference_bills(TARIFF, stamps_list, values.tolist(), 1.0)
    for month, (key, charges) in zip(out["months"], ref.items()):
        for c, amount in charges.items():
            assert abs(month["charges"][c] - amount) < 0.005, (key, c)
    assert abs(out["annual"]["total"] - sum(sum(c.values()) for c in ref.values())) < 0.01
    assert set(out["annual"]["charges"]) == set(CHARGES)


def test_bill_half_hourly_leap_year_and_table(tmp_path, capsys):
    csv = _csv(tmp_path / "load.csv", _load(2024, 48), year=2024, steps_per_day=48)
    tariff = tmp_path / "t.yaml"
    tariff.write_text(yaml.safe_dump(TARIFF))
    assert main(["bill", str(tariff), str(csv)]) == 0
    out = capsys.readouterr().out
    assert "2024-02" in out and "30-minute" in out and "year" in out


@pytest.mark.parametrize("body,expected", [
    ("kwh\n1\n2\nnan\n", ":4: must be a finite number (kWh; below 0: exported); got nan"),
    ("kwh\n1\nabc\n", ":3: not a number: 'abc'"),
    ("kwh\n" + "1\n" * 100, "100 rows: expected one value per step of a year"),
])
def test_bill_bad_load_file(tmp_path, capsys, body, expected):
    (tmp_path / "load.csv").write_text(body)
    tariff = tmp_path / "t.yaml"
    tariff.write_text(yaml.safe_dump(TARIFF))
    assert main(["bill", str(tariff), str(tmp_path / "load.csv")]) == 2
    assert expected in capsys.readouterr().err


def test_bill_bad_tariff_file(tmp_path, capsys):
    bad = dict(TARIFF, periods={"peak": {"price_per_kwh": -1}, "off": {"price_per_kwh": 0.3}})
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(bad, sort_keys=False))
    csv = _csv(tmp_path / "load.csv", _load())
    assert main(["bill", str(tmp_path / "t.yaml"), str(csv)]) == 2
    err = capsys.readouterr().err
    assert "t.yaml:" in err and "periods.peak.price_per_kwh: must be >= 0" in err


def test_calibrated_tariff_is_revenue_neutral_on_the_baseline_load(tmp_path, write_yaml, capsys):
    """After calibration, the scenario tariff raises the baseline tariff's revenue on the
    baseline load (rtol 1e-9), and the printed tariff bills exactly that."""
    data = scenario_dict()
    path = write_yaml(data)
    out = tmp_path / "cal.yaml"
    assert main(["tariff", "calibrate", str(path), "--tariff", "tou", "-o", str(out)]) == 0
    calibrated = yaml.safe_load(out.read_text())["tou"]
    data["tariffs"]["tou"] = calibrated
    for seg in data["populations"]:
        seg["behavior"]["elasticity"] = 0.0
    m = sim.run(build(data)).metrics
    assert m["scenario"]["revenue"] == pytest.approx(m["baseline"]["revenue"], rel=1e-9)
    # prices moved by one common factor
    ratio = calibrated["periods"]["peak"]["price_per_kwh"] / 0.9
    assert calibrated["periods"]["valley"]["price_per_kwh"] == pytest.approx(0.25 * ratio, rel=1e-12)


def test_calibrating_the_baseline_itself_gives_factor_one(write_yaml, capsys):
    data = scenario_dict()
    for seg in data["populations"]:
        seg["tariff"]["scenario"] = "flat"
    assert main(["tariff", "calibrate", str(write_yaml(data)), "--tariff", "flat", "--component", "all"]) == 0
    assert "x 1.000000" in capsys.readouterr().err


def test_bill_rejects_timestamps_out_of_order(tmp_path, capsys):
    values = _load()
    csv = _csv(tmp_path / "load.csv", values)
    lines = csv.read_text().splitlines()
    lines[5], lines[6] = lines[6], lines[5]
    csv.write_text("\n".join(lines) + "\n")
    tariff = tmp_path / "t.yaml"
    tariff.write_text(yaml.safe_dump(TARIFF))
    assert main(["bill", str(tariff), str(csv)]) == 2
    assert "load.csv:6: timestamp: expected 2025-01-01 04:00" in capsys.readouterr().err


def test_calibration_refuses_an_existing_output_before_working(tmp_path, write_yaml, capsys):
    out = tmp_path / "cal.yaml"
    out.write_text("keep me")
    assert main(["tariff", "calibrate", str(write_yaml(scenario_dict())), "--tariff", "tou", "-o", str(out)]) == 2
    assert out.read_text() == "keep me"
