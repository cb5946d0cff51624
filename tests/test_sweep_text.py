"""Sweeps over text parameters: the report reads them, and the CSV tables never hand a
spreadsheet a formula (OWASP, CSV Injection)."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sim.cli import main
from sim.sweep.store import FORMULA_START, csv_safe, csv_safe_cell

from .conftest import run_sweep


def _sweep(tmp_path, *args):
    return run_sweep(tmp_path, "--quiet", *args)


def test_report_of_a_sweep_over_a_tariff_name(tmp_path, capsys):
    """A text parameter (which tariff a segment is on) is listed in the report's table."""
    out = _sweep(tmp_path, "--param", "populations.res.tariff.scenario=tou,flat")
    assert main(["report", str(out)]) == 0, capsys.readouterr().err
    html = (out / "report.html").read_text()
    assert "populations.res.tariff.scenario" in html
    assert "<td>tou</td>" in html and "<td>flat</td>" in html


def test_report_of_a_sweep_over_a_tariff_name_and_a_price(tmp_path, capsys):
    """With one numeric and one text parameter, the numeric one is drawn."""
    out = _sweep(tmp_path, "--param", "populations.res.tariff.scenario=tou,flat",
                 "--param", "tariffs.tou.periods.peak.price_per_kwh=0.7,0.9")
    assert main(["report", str(out)]) == 0, capsys.readouterr().err
    assert 'id="fig-sweep-line"' in (out / "report.html").read_text()


HOSTILE = ['=HYPERLINK("http://example.invalid","x")', "@SUM(1+1)", "+cmd", "-cmd|' /C calc'!A0",
           "\t=1+1", "\r=1+1"]


def test_swept_text_is_neutralised_in_the_csv_tables(tmp_path, capsys):
    """Every swept text cell that begins with = + - @ tab or CR starts with a single quote in
    runs.csv and summary.csv; Parquet keeps the values as given; numbers are untouched."""
    values = ",".join(yaml.safe_dump(v, default_style='"').strip() for v in HOSTILE + ["-2.5", "plain"])
    out = _sweep(tmp_path, "--param", f"description={values}")
    for name in ("runs", "summary"):
        with open(out / f"{name}.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        cells = [r["description"] for r in rows]
        assert sorted(cells) == sorted(["'" + v for v in HOSTILE] + ["-2.5", "plain"]), cells
        for row in rows:
            for key, cell in row.items():
                assert not cell.startswith(FORMULA_START) or float(cell) == float(cell), (key, cell)
        raw = pd.read_parquet(out / f"{name}.parquet")
        assert sorted(raw["description"]) == sorted(HOSTILE + ["-2.5", "plain"])
    runs = pd.read_csv(out / "runs.csv")
    assert (runs["change.bill_change_mean"] < 0).any() or (runs["change.bill_change_mean"] > 0).any()
    assert runs["change.bill_change_mean"].dtype.kind == "f"  # negative numbers stay numbers


@given(st.text(max_size=20))
def test_csv_safe_cell(text):
    """The rule itself: a quote is added exactly when the text starts with a formula character
    and does not read as a number; nothing else changes."""
    out = csv_safe_cell(text)
    try:
        float(text)
        number = True
    except ValueError:
        number = False
    if text.startswith(FORMULA_START) and not number:
        assert out == "'" + text
    else:
        assert out == text


def test_csv_safe_leaves_numbers_alone():
    df = pd.DataFrame({"x": [-1.5, 2.0], "n": [-3, 4], "b": [True, False], "t": ["-a", "b"]})
    safe = csv_safe(df)
    assert safe["x"].tolist() == [-1.5, 2.0] and safe["n"].tolist() == [-3, 4] and safe["b"].tolist() == [True, False]
    assert safe["t"].tolist() == ["'-a", "b"]
    assert df["t"].tolist() == ["-a", "b"]  # the table given is not changed


@pytest.mark.parametrize("value", ["-0.5", "+3", "-1e3"])
def test_text_reading_as_a_number_is_not_mangled(value):
    assert csv_safe_cell(value) == value
