"""Sweep reports: the metric over two swept parameters and the sensitivity indices."""

from __future__ import annotations

import re

import pandas as pd

from sim.cli import main

from .conftest import run_sweep


def _sweep(tmp_path, *args):
    return run_sweep(tmp_path, *args, days=7, counts=(60, 20))


def test_grid_sweep_report_has_a_heat_map_of_the_metric(tmp_path, capsys):
    out = _sweep(tmp_path, "--param", "tariffs.tou.periods.peak.price_per_kwh=0.7,0.9,1.2",
                 "--param", "tariffs.tou.periods.valley.price_per_kwh=0.15,0.25")
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert 'id="fig-sweep-heat"' in html and "<svg" in html and "http://" not in html.replace(
        "http://www.w3.org", "")
    summary = pd.read_csv(out / "summary.csv")
    for value in summary["change.peak_reduction_pct.mean"]:
        assert f"{value:.4g}" in html  # every design point's mean is in the table


def test_sobol_sweep_report_draws_the_sensitivity_indices(tmp_path, capsys):
    out = _sweep(tmp_path, "--design", "sobol", "--samples", "4",
                 "--param", "tariffs.tou.periods.peak.price_per_kwh=uniform(0.6,1.2)",
                 "--param", "tariffs.tou.periods.valley.price_per_kwh=uniform(0.1,0.3)")
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert 'id="fig-sweep-sens"' in html and 'id="fig-sweep-scatter"' in html
    assert len(re.findall(r"<svg", html)) == 2


def test_unknown_metric_is_bad_input(tmp_path, capsys):
    out = _sweep(tmp_path, "--param", "tariffs.tou.periods.peak.price_per_kwh=0.7,0.9")
    assert main(["report", str(out), "--metric", "change.nothing"]) == 2
    assert "the sweep has no metric 'change.nothing'" in capsys.readouterr().err
