"""Populations: parameter draws, built-in shapes, measured CSV loads."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import sim
from sim.population import draw, profiles
from sim.scenario.schema import LogNormal, Normal, Triangular, Uniform

from .conftest import build, scenario_dict

RNG = np.random.default_rng(1)


@pytest.mark.parametrize("param,mean,sd", [
    (LogNormal(dist="lognormal", mean=2400, cv=0.5), 2400, 1200),
    (Uniform(dist="uniform", low=-0.2, high=0.0), -0.1, 0.2 / 12 ** 0.5),
    (Triangular(dist="triangular", low=0, mode=1, high=2), 1.0, (1 / 6) ** 0.5),
    (Normal(dist="normal", mean=-0.1, sd=0.05), -0.1, 0.05),
])
def test_draws_have_the_stated_moments(param, mean, sd):
    x = draw(param, RNG, 400_000)
    assert abs(x.mean() - mean) < 0.01 * abs(mean) + 0.002 * sd * 10
    assert abs(x.std() - sd) < 0.01 * sd


def test_truncated_normal_stays_within_bounds():
    x = draw(Normal(dist="normal", mean=-0.1, sd=0.2, min=-0.3, max=0.0), RNG, 100_000)
    assert x.min() >= -0.3 and x.max() <= 0.0 and x.std() > 0.05


@pytest.mark.parametrize("cls", profiles.CUSTOMER_CLASSES)
@pytest.mark.parametrize("spd", [24, 48, 96])
def test_builtin_shapes_average_one_over_a_year(cls, spd):
    """Over 365 days (5/7 weekdays), the relative shape averages 1: annual_kwh is honoured."""
    days = np.cumsum([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    total = 0.0
    for m in range(1, 13):
        n = days[m] - days[m - 1]
        total += n * (5 / 7 * profiles.daily_shape(cls, m, False, spd).mean()
                      + 2 / 7 * profiles.daily_shape(cls, m, True, spd).mean())
    assert abs(total / 365 - 1) < 1e-12


def test_annual_energy_follows_annual_kwh():
    """A flat-priced year of identical customers uses count x annual_kwh within 1 %."""
    data = scenario_dict(horizon={"start": "2023-01-01", "days": 365, "step_minutes": 60})
    data["populations"] = data["populations"][:1]
    seg = data["populations"][0]
    seg.update(count=50, annual_kwh=3650.0, variation={"shift_sd_hours": 1, "daily_sd": 0.1})
    seg["tariff"]["scenario"] = "flat"
    r = sim.run(build(data))
    assert abs(r.metrics["baseline"]["energy_kwh"] / (50 * 3650) - 1) < 0.01


def test_measured_csv_profile(tmp_path):
    """Customers replicate the CSV columns in turn; kWh per step become kW."""
    stamps = np.datetime64("2024-02-20T00:00") + np.arange(3 * 48) * np.timedelta64(30, "m")
    cols = np.column_stack([np.full(144, 0.5), np.arange(144) / 100, np.full(144, 2.0)])
    lines = ["timestamp,a,b,c"] + [f"{t},{x:.2f},{y:.2f},{z:.2f}" for t, (x, y, z) in zip(stamps.astype(str), cols)]
    (tmp_path / "load.csv").write_text("\n".join(lines) + "\n")
    data = scenario_dict(horizon={"start": "2024-02-20", "days": 3, "step_minutes": 30})
    data["populations"] = [data["populations"][0]]
    seg = data["populations"][0]
    seg.update(profile={"csv": "load.csv"}, count=5, variation={"shift_sd_hours": 0, "daily_sd": 0})
    del seg["annual_kwh"]
    from sim.scenario import validate
    sc = validate(data, base_dir=tmp_path)
    r = sim.run(sc)
    expected_kwh = cols[:, [0, 1, 2, 0, 1]].sum(axis=1)
    assert_allclose(r.system_load_kw["baseline"] * 0.5, expected_kwh, rtol=1e-12)


def test_energy_cost_from_csv(tmp_path):
    (tmp_path / "cost.csv").write_text("t,cost\n" + "\n".join(f"{k},{0.1 + k / 1000}" for k in range(14 * 24)))
    data = scenario_dict(grid={"energy_cost_per_kwh": {"csv": "cost.csv", "column": "cost"}})
    from sim.scenario import validate
    r = sim.run(validate(data, base_dir=tmp_path))
    load = r.system_load_kw["baseline"]
    assert_allclose(r.metrics["baseline"]["energy_cost"], float(load @ (0.1 + np.arange(336) / 1000)), rtol=1e-12)


def test_price_series_with_timestamps_is_placed_by_time(tmp_path):
    """A series that starts before the horizon is aligned by its timestamps, not by row."""
    stamps = np.datetime64("2024-02-01T00:00") + np.arange(40 * 24) * np.timedelta64(60, "m")
    (tmp_path / "cost.csv").write_text("timestamp,cost\n" + "\n".join(
        f"{t},{k / 1000}" for k, t in enumerate(stamps.astype(str))))
    data = scenario_dict(grid={"energy_cost_per_kwh": {"csv": "cost.csv", "column": "cost"}})
    from sim.scenario import validate
    r = sim.run(validate(data, base_dir=tmp_path))  # horizon starts 2024-02-20: row 19 * 24
    expected = (19 * 24 + np.arange(14 * 24)) / 1000
    assert_allclose(r.metrics["baseline"]["energy_cost"], float(r.system_load_kw["baseline"] @ expected), rtol=1e-12)


def test_common_day_factor_has_the_stated_mean_sd_and_persistence():
    from sim.population.segments import common_factor
    x = common_factor(3, "seg", 40_000, 0.1, 0.7)
    assert abs(x.mean() - 1) < 0.005 and abs(x.std() / 0.1 - 1) < 0.05
    lx = np.log(x)
    assert abs(np.corrcoef(lx[1:], lx[:-1])[0, 1] - 0.7) < 0.02
    assert common_factor(3, "seg", 10, 0.0, 0.7) is None


# --------------------------------------------------------------------------- log-normal: sign and cap

def _censored_lognormal(mean: float, cv: float, cap: float) -> tuple[float, float]:
    """Closed forms for a log-normal (mean, cv) censored at cap: its mean and P(X >= cap)."""
    from scipy import stats

    s = np.sqrt(np.log1p(cv ** 2))
    zc = (np.log(cap) - (np.log(mean) - s * s / 2)) / s
    at_cap = 1 - stats.norm.cdf(zc)
    return mean * stats.norm.cdf(zc - s) + cap * at_cap, at_cap


def test_negative_capped_lognormal_follows_the_censored_closed_form():
    """A negative mean mirrors the log-normal; the cap censors its magnitude (values beyond it are
    set to it, not redrawn): drawn mean and share at the cap against the closed forms. The capped
    mean (0.396) is far from the uncapped 0.5, so an uncapped or truncated draw fails."""
    x = draw(LogNormal(dist="lognormal", mean=-0.5, cv=2.0, cap=1.5), np.random.default_rng(7), 400_000)
    mean, at_cap = _censored_lognormal(0.5, 2.0, 1.5)
    assert x.max() < 0 and x.min() == -1.5
    assert abs(-x.mean() - mean) < 0.004
    assert abs(np.mean(x == -1.5) - at_cap) < 0.002 and at_cap > 0.05


def test_positive_lognormal_draws_are_unchanged():
    """Without a cap, a positive log-normal draws exactly as before the sign and the cap existed
    (the same bits from the same generator)."""
    s = np.sqrt(np.log1p(0.5 ** 2))
    want = 2400 * np.exp(s * np.random.default_rng(5).standard_normal(1000) - 0.5 * s ** 2)
    assert np.array_equal(draw(LogNormal(dist="lognormal", mean=2400, cv=0.5), np.random.default_rng(5), 1000), want)


@pytest.mark.parametrize("substitution,message", [
    ({"dist": "lognormal", "mean": -0.2, "cv": 1.0}, r"spans \[-inf, 0.0\]"),           # no cap
    ({"dist": "lognormal", "mean": -0.2, "cv": 1.0, "cap": 3.0}, r"spans \[-3.0, 0.0\]"),  # cap beyond -2
    ({"dist": "lognormal", "mean": 0.2, "cv": 1.0, "cap": 1.0}, r"spans \[0.0, 1.0\]"),    # positive
    ({"dist": "lognormal", "mean": 0.0, "cv": 1.0}, "must be nonzero"),
    ({"dist": "lognormal", "mean": -0.2, "cv": 1.0, "cap": 0.0}, "cap"),
])
def test_lognormal_sign_and_cap_are_checked(substitution, message):
    from sim.errors import InputError

    data = scenario_dict()
    data["populations"][1]["behavior"] = {"model": "ces", "substitution": substitution}
    with pytest.raises(InputError, match=message):
        build(data)
    data["populations"][1]["behavior"]["substitution"] = {"dist": "lognormal", "mean": -0.2, "cv": 1.0, "cap": 2.0}
    build(data)  # the same within the bound is accepted


@pytest.mark.parametrize("cls,sector,scale", [("commercial", None, 1.0), ("industrial", None, 1.0),
                                               ("industrial", "batch_process", 2.0)])
def test_default_ci_elasticities_follow_goldman(cls, sector, scale):
    """The default C&I customers' elasticities of substitution (200,000 draws of the resolved
    default): mean 0.11 (Goldman et al. 2007), none above the cap of 1, and 22.9 % above 0.10 in
    magnitude, within the gallery's 40 % of the study's 18 % (the former half-normal: 46.8 %). A
    sector scales the whole distribution (batch_process: the load that can move, twice)."""
    data = scenario_dict()
    data["populations"][1].update(customer_class=cls, behavior="default", **({"sector": sector} if sector else {}))
    (ces,) = [m for m in build(data).populations[1].behavior if m.model == "ces"]
    x = -draw(ces.substitution, np.random.default_rng(3), 200_000) / scale
    assert x.min() >= 0 and x.max() == pytest.approx(1.0)
    assert abs(x.mean() - 0.110) < 0.003          # standard error about 0.0005
    above = np.mean(x > 0.10)
    assert abs(above - 0.229) < 0.006             # standard error about 0.001
    assert abs(above - 0.18) < 0.4 * 0.18
    assert abs(np.mean(x >= 1.0) - 0.035) < 0.003
