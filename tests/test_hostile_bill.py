"""Hostile input to `drsim bill` and `drsim tariff import-urdb`: each is exit code 2 with one
clear line naming the file (and line) or the flag, no traceback, never invalid JSON."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pytest

from sim.cli import main

URDB = Path(__file__).parent / "data" / "urdb" / "fpl_rs1_residential_tiered.json"

TARIFF = """tariffs:
  f:
    type: flat
    price_per_kwh: 0.5
    capacity: {per_kva_month: 10}
    interruptible: {credit_per_kw_month: 2, penalty_per_kwh: 5}
"""


def _cli(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def files(tmp_path):
    tariff = tmp_path / "t.yaml"
    tariff.write_text(TARIFF)
    load = tmp_path / "load.csv"
    start = dt.datetime(2023, 1, 1)
    load.write_text("timestamp,kwh\n" + "".join(f"{start + dt.timedelta(hours=h):%Y-%m-%dT%H:%M},1.0\n"
                                                   for h in range(8760)))
    return tariff, load


def test_a_good_bill_is_valid_json(files, capsys):
    tariff, load = files
    code, out, err = _cli(["bill", tariff, load, "--contract-kva", 10, "--firm-kw", 0.5, "--json"], capsys)
    assert code == 0, err
    report = json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))
    assert report["annual"]["charges"]["capacity"] == pytest.approx(12 * 10 * 10, rel=1e-12)


@pytest.mark.parametrize("flags,expected", [
    (["--contract-kva", "nan"], "--contract-kva: must be a finite number from 0 to 1e12; got nan"),
    (["--contract-kva", "inf"], "--contract-kva: must be a finite number from 0 to 1e12; got inf"),
    (["--contract-kva", "-100"], "--contract-kva: must be a finite number from 0 to 1e12; got -100.0"),
    (["--contract-kva", "10", "--firm-kw", "nan"], "--firm-kw: must be a finite number from 0 to 1e12; got nan"),
    (["--contract-kva", "10", "--firm-kw", "-5"], "--firm-kw: must be a finite number from 0 to 1e12; got -5.0"),
    (["--contract-kva", "10", "--firm-kw", "1", "--year", "0"], "--year: must be a year from 1900 to 2199; got 0"),
    (["--contract-kva", "10", "--firm-kw", "1", "--year", "-4"], "--year: must be a year from 1900 to 2199; got -4"),
    (["--contract-kva", "10", "--firm-kw", "1", "--year", "9999"], "--year: must be a year from 1900 to 2199"),
    (["--contract-kva", "10", "--firm-kw", "1", "--holidays", "ZZ"], "--holidays: unknown holiday country 'ZZ'"),
    (["--contract-kva", "10", "--firm-kw", "1", "--holidays", "US:ZZ"], "--holidays: unknown subdivision 'ZZ' of US"),
])
def test_bad_bill_flags(flags, expected, files, capsys):
    tariff, load = files
    code, out, err = _cli(["bill", tariff, load, "--json", *flags], capsys)
    assert code == 2 and out == "" and "Traceback" not in err, err
    assert err.strip() == expected or err.startswith(expected), err
    assert "type=" not in err and "input_value" not in err  # nothing of pydantic's own decoration


def test_a_timestamp_year_out_of_range(tmp_path, files, capsys):
    tariff, _ = files
    load = tmp_path / "far.csv"
    start = dt.datetime(2300, 1, 1)
    load.write_text("timestamp,kwh\n" + "".join(f"{start + dt.timedelta(hours=h):%Y-%m-%dT%H:%M},1.0\n"
                                                   for h in range(8760)))
    code, _, err = _cli(["bill", tariff, load, "--contract-kva", 1, "--firm-kw", 1], capsys)
    assert code == 2 and err.startswith(f"{load}:2: timestamp: the year must be from 1900 to 2199; got 2300"), err


def test_a_huge_csv_field_names_its_line(tmp_path, files, capsys):
    tariff, _ = files
    load = tmp_path / "wide.csv"
    load.write_text("kwh\n1.0\n\"" + "a" * 140_000 + "\"\n")
    code, _, err = _cli(["bill", tariff, load, "--contract-kva", 1, "--firm-kw", 1], capsys)
    assert code == 2 and err.startswith(f"{load}:3: not a readable CSV row: field larger than field limit"), err


@pytest.mark.parametrize("blank", ["\n", "\n\n\n", " , \n"])
def test_blank_lines_do_not_shift_line_numbers(blank, tmp_path, files, capsys):
    """A bad value is reported at its own line of the file, whatever blank lines come before."""
    tariff, _ = files
    rows = ["1.0"] * 8760
    rows[5], rows[100] = "x", "inf"
    text = "kwh\n" + blank + "\n".join(rows[:50]) + "\n" + blank + "\n".join(rows[50:]) + "\n"
    load = tmp_path / "blank.csv"
    load.write_text(text)
    lines = text.splitlines()
    at_x = lines.index("x") + 1
    at_neg = lines.index("inf") + 1
    code, _, err = _cli(["bill", tariff, load, "--contract-kva", 1, "--firm-kw", 1], capsys)
    assert code == 2
    assert f"{load}:{at_x}: not a number: 'x'" in err, err
    assert f"{load}:{at_neg}: must be a finite number (kWh; below 0: exported); got inf" in err, err


def test_a_timestamp_error_after_blank_lines_names_its_line(tmp_path, files, capsys):
    tariff, _ = files
    start = dt.datetime(2023, 1, 1)
    rows = [f"{start + dt.timedelta(hours=h):%Y-%m-%dT%H:%M},1.0" for h in range(8760)]
    rows[10] = rows[11]  # a repeated step
    text = "timestamp,kwh\n\n\n" + "\n".join(rows) + "\n"
    load = tmp_path / "t.csv"
    load.write_text(text)
    code, _, err = _cli(["bill", tariff, load, "--contract-kva", 1, "--firm-kw", 1], capsys)
    assert code == 2 and err.startswith(f"{load}:{4 + 10}: timestamp: expected 2023-01-01 10:00"), err


# --------------------------------------------------------------------------- URDB


def _urdb(tmp_path, text: str | bytes, name="rate.json") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_urdb_in_utf16_is_read(tmp_path, capsys):
    """JSON in UTF-16 (with its byte-order mark) is JSON text: imported like UTF-8."""
    code8, out8, _ = _cli(["tariff", "import-urdb", URDB], capsys)
    path = _urdb(tmp_path, URDB.read_text(encoding="utf-8").encode("utf-16"), "fpl.json")
    code16, out16, err = _cli(["tariff", "import-urdb", path], capsys)
    assert code8 == code16 == 0, err
    assert out16.replace("fpl.json", URDB.name) == out8


@pytest.mark.parametrize("make,expected", [
    (lambda: b"\x7fELF\x02\x01\x01\x00\xd0\xd1 binary", "not JSON text: the file is neither UTF-8 nor UTF-16/32"),
    (lambda: URDB.read_text().replace('"rate": 0.07531', '"rate": ' + "9" * 5000, 1),
     "an integer of 5000 digits is too long (at most 100)"),
    (lambda: "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    (lambda: '{"items": ' + "[" * 30 + "]" * 30 + "}", "nested too deeply"),
    (lambda: URDB.read_text().replace('"rate": 0.07531', '"rate": null', 1),
     "energyratestructure[0][0].rate: is null: the file gives no rate for this tier"),
    (lambda: URDB.read_text().replace('"rate": 0.07531', '"rate": 1e300', 1),
     "price_per_kwh.0: must lie between -1e12 and 1e12"),
])
def test_hostile_urdb_files(make, expected, tmp_path, capsys):
    text = make()
    if not isinstance(text, bytes):
        assert text != URDB.read_text()  # the mutation took
    path = _urdb(tmp_path, text)
    out_file = tmp_path / "out.yaml"
    code, out, err = _cli(["tariff", "import-urdb", path, "-o", out_file], capsys)
    assert code == 2 and expected in err and "Traceback" not in err and "internal error" not in err, err
    assert err.startswith(f"{path}"), err
    assert not out_file.exists()
    code, _, err = _cli(["bill", path, tmp_path / "none.csv"], capsys)
    assert code == 2 and expected in err, err


def test_the_rate_null_fixture_really_has_a_rate():
    """The null-rate case above replaces a real rate (so a rate of 0 would bill differently)."""
    data = json.loads(URDB.read_text())
    rate = (data["items"][0] if "items" in data else data)["energyratestructure"][0][0]["rate"]
    assert math.isfinite(rate) and rate == 0.07531


@pytest.mark.parametrize("where,expected", [
    ("a_file/t.yaml", "a_file is not a folder"),
    ("missing/t.yaml", "missing does not exist"),
    ("/proc/drsim-x.yaml", "cannot write /proc/drsim-x.yaml"),
])
def test_output_file_is_checked_before_any_work(where, expected, tmp_path, capsys, monkeypatch):
    """`-o` of import-urdb and calibrate is refused before the import or the calibration's runs."""
    if where.startswith("/proc") and not Path("/proc").is_dir():
        pytest.skip("no /proc on this system")
    (tmp_path / "a_file").write_text("")
    out = where if where.startswith("/") else tmp_path / where
    code, _, err = _cli(["tariff", "import-urdb", URDB, "-o", out], capsys)
    assert code == 2 and err.startswith("-o: ") and expected in err, err
    import sim.tariffs.calibrate

    monkeypatch.setattr(sim.tariffs.calibrate, "calibrate", lambda *a, **k: pytest.fail("calibration started"))
    scenario = Path(__file__).parents[1] / "scenarios" / "tou_peak_valley.yaml"
    code, _, err = _cli(["tariff", "calibrate", scenario, "--tariff", "residential_tou", "-o", out], capsys)
    assert code == 2 and err.startswith("-o: ") and expected in err, err
