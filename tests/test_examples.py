"""Every file in scenarios/ validates and runs on a short horizon; key figures are checked."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_example_runs(path):
    sc = sim.load_scenario(path, ["horizon.days=21", "horizon.start=2025-07-07"])
    r = sim.run(sc)
    m = r.metrics
    assert m["baseline"]["peak_kw"] > 0 and m["baseline"]["revenue"] > 0
    assert 0 < m["baseline"]["load_factor"] <= 1
    if path.stem == "flat":
        assert m["change"]["peak_reduction_kw"] == 0 and m["change"]["bill_change_mean"] == 0
    if path.stem == "tou_peak_valley":
        assert m["change"]["peak_reduction_pct"] > 0
        assert m["change"]["peak_valley_rate_change"] < 0
    if path.stem.startswith("ev_"):                   # the valley timer's peak; managed charging's valley fill
        ev = m["segments"]["households"]
        assert ev["scenario"]["ev_kwh"] == ev["baseline"]["ev_kwh"] > 0
        if path.stem == "ev_timer_peak":
            assert m["change"]["peak_reduction_kw"] < 0 and ev["scenario"]["ev_share_of_system_peak"] > 0.5
        else:
            assert m["change"]["peak_reduction_kw"] > 0 and ev["scenario"]["ev_peak_kw"] < ev["baseline"]["ev_peak_kw"]


def test_examples_exist():
    assert {"flat", "tou_peak_valley"} <= {p.stem for p in SCENARIOS}
