"""`drsim tariff calibrate --round STEP --write NEW.yaml`: prices rounded to the currency unit,
and the scenario file written anew with the calibrated prices in place (comments kept)."""

from __future__ import annotations

import difflib
from decimal import Decimal

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import sim
from sim.cli import main
from sim.tariffs import calibrate as calibrate_mod
from sim.tariffs.calibrate import round_to

from .conftest import scenario_dict

#: A small scenario file as a person writes it: comments, flow mappings, a quoted key order.
SCENARIO = """\
# A small TOU scenario (comments and layout must survive --write)
name: small
seed: 11
horizon: {start: 2024-02-20, days: 14, step_minutes: 60}
populations:
  - name: res                      # households
    customer_class: residential
    count: 300
    annual_kwh: {dist: lognormal, mean: 3000, cv: 0.4}
    behavior:
      model: constant_elasticity
      elasticity: {dist: normal, mean: -0.15, sd: 0.05, min: -0.5, max: 0}
    tariff: {baseline: flat, scenario: tou}
tariffs:
  flat: {type: flat, price_per_kwh: 0.5, fixed_per_month: 3.0}
  tou:
    type: tou
    periods:
      peak:   {price_per_kwh: 0.9}    # evening
      flat:   {price_per_kwh: 0.5}
      valley: {price_per_kwh: 0.25}   # night
    fixed_per_month: 3.0
    schedule:
      - day_types: [weekday, weekend]
        hours: {peak: ["17:00-21:00"], flat: ["07:00-17:00", "21:00-23:00"], valley: ["23:00-07:00"]}
grid: {energy_cost_per_kwh: 0.3, capacity_cost_per_kw_year: 400}
"""


@given(v=st.floats(0, 1e4), exp=st.integers(-6, 0))
def test_round_to_gives_the_nearest_multiple_of_the_step(v, exp):
    step = 10.0 ** exp
    r = round_to(v, step)
    q = Decimal(repr(r)) / Decimal(repr(step))
    assert q == q.to_integral_value()                       # a whole number of steps, as written
    assert abs(Decimal(repr(r)) - Decimal(repr(v))) <= Decimal(repr(step)) / 2


def test_round_to_examples():
    assert round_to(0.7484999003809734, 0.0001) == 0.7485
    assert round_to(0.30000000000000004, 0.01) == 0.3
    assert round_to(1.005, 0.01) == 1.0  # 1.005 is 1.00499999999999989...: below the half
    assert round_to(0.125, 0.25) == 0.0 and round_to(0.375, 0.25) == 0.5  # half to even


def test_round_and_write(tmp_path, capsys):
    src = tmp_path / "small.yaml"
    src.write_text(SCENARIO)
    out, tariff_file = tmp_path / "small-calibrated.yaml", tmp_path / "tou.yaml"
    assert main(["tariff", "calibrate", str(src), "--tariff", "tou", "--round", "0.0001", "--write", str(out),
                 "-o", str(tariff_file)]) == 0
    err = capsys.readouterr().err
    assert "rounded to 0.0001" in err and f"wrote {out}" in err
    assert src.read_text() == SCENARIO  # the input untouched

    # only the three prices changed; every comment and every other line is kept
    new = out.read_text()
    header = [line for line in new.splitlines() if line.startswith("# tou, revenue-neutral")]
    assert header and "energy prices x" in header[0]
    diff = [d for d in difflib.unified_diff(SCENARIO.splitlines(), new.splitlines(), lineterm="", n=0)
            if d[:1] in "+-" and not d.startswith(("+++", "---"))]
    changed = [d for d in diff if not d.startswith("+#")]
    assert len(changed) == 6 and all("price_per_kwh" in d for d in changed), diff
    assert "      peak:   {price_per_kwh: " in new and "# evening" in new and "# night" in new

    # the written prices are the calibrated, rounded ones, with at most four decimals
    written = yaml.safe_load(new)["tariffs"]["tou"]["periods"]
    printed = yaml.safe_load(tariff_file.read_text())["tou"]["periods"]
    for period in ("peak", "flat", "valley"):
        price = written[period]["price_per_kwh"]
        assert price == printed[period]["price_per_kwh"] and price == round(price, 4)
    k = written["peak"]["price_per_kwh"] / 0.9
    assert written["valley"]["price_per_kwh"] == pytest.approx(0.25 * k, abs=1e-4)

    # the written file is a scenario, revenue-neutral to the rounding: billed on the baseline
    # load (no response), the rounded prices raise the revenue the command reported
    sc = sim.load_scenario(out, ["populations.res.behavior.elasticity=0.0"])
    m = sim.run(sc).metrics
    reported = float(err.split("-> revenue ")[1].split()[0].replace(",", ""))
    assert m["scenario"]["revenue"] == pytest.approx(reported, abs=0.01)
    assert m["scenario"]["revenue"] == pytest.approx(m["baseline"]["revenue"], rel=1e-3)


@pytest.fixture
def no_run(monkeypatch):
    """Fail the test if the calibration starts (a refusal must come first)."""
    def refuse(*a, **k):
        raise AssertionError("the calibration ran")
    monkeypatch.setattr(calibrate_mod, "brentq", refuse)
    monkeypatch.setattr(sim, "run", refuse)


def test_write_never_overwrites_and_refuses_before_working(tmp_path, capsys, no_run):
    src = tmp_path / "small.yaml"
    src.write_text(SCENARIO)
    for target in (src, tmp_path / "taken.yaml"):
        (tmp_path / "taken.yaml").write_text("keep me")
        assert main(["tariff", "calibrate", str(src), "--tariff", "tou", "--write", str(target)]) == 2
        assert "exists; drsim does not overwrite it" in capsys.readouterr().err
    assert src.read_text() == SCENARIO and (tmp_path / "taken.yaml").read_text() == "keep me"
    for bad in ("0", "-0.01", "nan", "inf", "cent"):
        assert main(["tariff", "calibrate", str(src), "--tariff", "tou", "--round", bad]) == 2
        assert "--round: takes the unit to round prices to" in capsys.readouterr().err


def test_write_refuses_prices_shared_through_an_anchor(tmp_path, capsys, no_run):
    """Rewriting an anchored value in place would change every field that uses it."""
    src = tmp_path / "anchored.yaml"
    src.write_text(SCENARIO.replace("flat: {type: flat, price_per_kwh: 0.5,", "flat: {type: flat, price_per_kwh: &p 0.5,")
                   .replace("flat:   {price_per_kwh: 0.5}", "flat:   {price_per_kwh: *p}"))
    out = tmp_path / "new.yaml"
    assert main(["tariff", "calibrate", str(src), "--tariff", "tou", "--write", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{src}: tariffs.tou: cannot write the calibrated prices back: tariffs.tou.periods.flat.price_per_kwh is " \
           "shared with other fields through a YAML anchor" in err.replace("\n", " ")
    assert not out.exists()


def test_write_refuses_a_price_that_is_not_in_the_file(tmp_path, write_yaml, capsys, no_run):
    """A price set by --set where the file has none cannot be written back in place."""
    data = scenario_dict()
    path = write_yaml(data)
    out = tmp_path / "new.yaml"
    assert main(["tariff", "calibrate", str(path), "--tariff", "tou", "--component", "fixed", "--write", str(out),
                 "--set", "tariffs.tou.fixed_per_day=0.1"]) == 2
    assert "tariffs.tou.fixed_per_day is not written in the file" in capsys.readouterr().err.replace("\n", " ")
    assert not out.exists()
