"""Rooftop PV (``model: pv``, sim.behavior.pv, sim.solar) and the prosumer metrics
(sim.prosumers): the profile against pvlib's own model chain, the energy identity against a
run without PV, zero adoption, the same bits however the customers are spread, exports, the
duck figures and the cost shift, and bad input."""

from __future__ import annotations

import copy
import datetime as dt
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.behavior.pv import PvModel
from sim.calendar import Calendar
from sim.cli import main
from sim.engine import simulate
from sim.metrics import compute
from sim.prosumers import duck_figures
from sim.scenario.solar import SolarPv
from sim.scenario.weather import Weather
from sim.weather import read_weather

from .conftest import TOU, build, scenario_dict

PV = {"model": "pv", "adoption": 0.25}
TMY = {"tmy3": "pvlib:723170TYA.CSV"}


def _scenario(pv: dict | None, count: int = 300, days: int = 4, step_minutes: int = 60, **more) -> dict:
    data = scenario_dict(horizon={"start": "2025-06-20", "days": days, "step_minutes": step_minutes},
                         **{"weather": TMY, **more})
    res = data["populations"][0]
    res["count"] = count
    res["annual_kwh"] = {"dist": "lognormal", "mean": 9000, "cv": 0.4}
    res["participation"] = {"enrolment": {"mode": "opt_in", "share": 0.6}, "awareness": {"start": 0.5, "end": 0.9}}
    if pv is not None:
        res["behavior"] = [res["behavior"], pv]
    return data


def _fingerprint(r, pv_stats: bool = True) -> dict:
    out = {"system": {k: v.tobytes() for k, v in r.system_load_kw.items()},
           "segments": {name: (s.load_kw["baseline"].tobytes(), s.load_kw["scenario"].tobytes(),
                               s.bills["baseline"].total.tobytes(), s.bills["scenario"].total.tobytes(),
                               s.stats["utility_scenario"].tobytes())
                        for name, s in r.segments.items()}}
    if pv_stats:
        out["metrics"] = json.dumps(r.metrics, sort_keys=True)
        out["pv"] = {k: v.tobytes() for k, v in r.segments["res"].stats.items() if k.startswith("pv_")}
    return out


# ------------------------------------------------------------------ the profile, against pvlib

@pytest.mark.parametrize("tilt, azimuth", [(20.0, 180.0), (35.0, 250.0)])
def test_one_customers_generation_is_pvlibs_pvwatts_model_chain(tilt, azimuth):
    """The independent reference: pvlib's ModelChain (PVWatts DC and AC, Perez sky model,
    physical IAM, SAPM cell temperature, PVWatts losses) on the same hours, site and weather,
    for a 6.2 kWp system; the model's generation of that customer must equal it."""
    import pandas as pd
    import pvlib

    cal = Calendar(dt.date(2025, 6, 20), 5, 24, frozenset(), {})
    weather = read_weather(Weather(**TMY), cal)
    sun = weather.sun
    # pvlib's default loss components (14.0757 %, PVWatts' "14.08 %" unrounded)
    settings = SolarPv(model="pv", adoption=1.0, orientations=[{"tilt": tilt, "azimuth": azimuth, "share": 1.0}],
                       system={"losses_pct": float(pvlib.pvsystem.pvwatts_losses())})
    model = PvModel(settings)
    model.read_inputs(weather, cal)
    kwp = 6.2
    ours = np.concatenate([model.generation(d, np.array([kwp]), np.array([0]))[0] for d in range(cal.days)])

    tz = dt.timezone(dt.timedelta(hours=sun.utc_offset))
    times = pd.date_range(pd.Timestamp(2025, 6, 20, 0, 30, tzinfo=tz), periods=cal.days * 24, freq="h")
    frame = pd.DataFrame({"ghi": sun.ghi.reshape(-1), "dni": sun.dni.reshape(-1), "dhi": sun.dhi.reshape(-1),
                          "temp_air": sun.temp_c.reshape(-1), "wind_speed": sun.wind_m_s.reshape(-1)}, index=times)
    site = pvlib.location.Location(sun.latitude, sun.longitude, tz=int(sun.utc_offset), altitude=sun.altitude)
    system = pvlib.pvsystem.PVSystem(
        surface_tilt=tilt, surface_azimuth=azimuth, albedo=0.2,
        module_parameters={"pdc0": kwp, "gamma_pdc": -0.0037},
        inverter_parameters={"pdc0": kwp / 1.2 / 0.96, "eta_inv_nom": 0.96},
        temperature_model_parameters=pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["close_mount_glass_glass"])
    chain = pvlib.modelchain.ModelChain(system, site, transposition_model="perez", aoi_model="physical",
                                        spectral_model="no_loss", losses_model="pvwatts", dc_model="pvwatts",
                                        ac_model="pvwatts", temperature_model="sapm")
    chain.run_model(frame)
    ref = np.maximum(np.nan_to_num(chain.results.ac.to_numpy()), 0.0)
    assert ref.max() > 0.5 * kwp                          # a June week: the comparison has something to compare
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9 * kwp)


def test_a_south_roof_in_greensboro_gives_a_plausible_june_yield():
    """Order of magnitude, from outside the code: PVWatts gives about 4-5 kWh per kWp a day for
    a south-facing roof in North Carolina in June (NREL PVWatts); the profile is zero at night."""
    cal = Calendar(dt.date(2025, 6, 1), 30, 24, frozenset(), {})
    model = PvModel(SolarPv(model="pv", adoption=1.0, orientations=[{"tilt": 20, "azimuth": 180, "share": 1}]))
    model.read_inputs(read_weather(Weather(**TMY), cal), cal)
    daily = model.profile[0].sum(axis=1)
    assert 3.5 < daily.mean() < 6.0
    assert (model.profile[0][:, :4] == 0).all() and (model.profile[0][:, 22:] == 0).all()


# ------------------------------------------------------------------ whole runs

def test_net_load_is_the_load_without_pv_less_the_generation_step_by_step():
    """PV acts last (stage 50) and changes no consumption: a segment's net load plus its
    generation is the load of the same run without PV, in every step and both roles; the
    system's too; the per-customer generation sums to the per-block series."""
    with_pv = sim.run(build(_scenario(PV)))
    without = sim.run(build(_scenario(None)))
    seg, ref = with_pv.segments["res"], without.segments["res"]
    pv = seg.stats["pv_block_kw"].sum(axis=0)
    assert pv.max() > 100                                          # the identity has something in it
    for role in ("baseline", "scenario"):
        np.testing.assert_allclose(seg.load_kw[role] + pv, ref.load_kw[role], rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(with_pv.system_load_kw[role] + pv, without.system_load_kw[role], rtol=1e-12,
                                   atol=1e-9)
    assert pv.sum() == pytest.approx(seg.stats["pv_kwh"].sum(), rel=1e-12)
    m = with_pv.metrics["baseline"]
    assert m["gross_energy_kwh"] == pytest.approx(without.metrics["baseline"]["energy_kwh"], rel=1e-12)
    assert m["gross_peak_kw"] == pytest.approx(without.metrics["baseline"]["peak_kw"], rel=1e-12)
    assert m["net_energy_kwh"] == pytest.approx(m["gross_energy_kwh"] - m["pv_generation_kwh"], rel=1e-12)
    sm = with_pv.metrics["segments"]["res"]["scenario"]
    assert sm["pv_self_consumed_kwh"] + sm["pv_exported_kwh"] == pytest.approx(sm["pv_generation_kwh"], rel=1e-12)
    assert 0 < sm["pv_self_consumption_share"] < 1


def test_the_revenue_lost_is_the_bill_difference_against_a_run_without_pv():
    """On a flat and a TOU rate (energy charges linear in the metered energy, plain netting)
    each PV customer's bill without PV is its bill plus its generation valued at the role's
    prices: the run without PV bills exactly that. (Systems small enough that no month's
    subtotal falls below the minimum charge of 0, which would cut the bill's linearity.)"""
    data = _scenario(dict(PV, kwp=2.0))
    with_pv, without = sim.run(build(data)), sim.run(build(_scenario(None)))
    seg = with_pv.segments["res"]
    has = seg.stats["pv_kwp"] > 0
    for role in ("baseline", "scenario"):
        diff = without.segments["res"].bills[role].bill - seg.bills[role].bill
        np.testing.assert_allclose(diff[has], seg.stats[f"pv_value_{role}"][has], rtol=1e-9, atol=1e-6)
        assert (diff[~has] == 0).all()
        shift = with_pv.metrics["segments"]["res"]["change"]["pv_cost_shift"][role]
        assert shift["revenue_lost"] == pytest.approx(diff[has].sum(), rel=1e-9)
        assert shift["cost_shift"] == pytest.approx(shift["revenue_lost"] - shift["avoided_cost"], rel=1e-12)
        assert shift["pv_bill_mean_without_pv"] == pytest.approx(without.segments["res"].bills[role].bill[has].mean(),
                                                                 rel=1e-9)


NEM = {"rule": "net_metering"}                                   # kWh credits
NEM_MONEY = {"rule": "net_metering", "credits": "money", "price": "retail", "true_up": {"month": 6}}
NEM_AT_RETAIL = {"rule": "net_metering", "true_up": {"month": 6, "price_per_kwh": 0.5}}   # the flat rate's price


def _export_tariffs(data: dict, baseline: dict | None, scenario: dict | None, **extra) -> dict:
    """The scenario's flat and TOU tariffs with the given export sections (None: none) and
    other fields (``extra``: on both)."""
    for name, ex in (("flat", baseline), ("tou", scenario)):
        t = data["tariffs"][name]
        t.update(copy.deepcopy(extra))
        if ex is not None:
            t["export"] = copy.deepcopy(ex)
    return data


@pytest.mark.parametrize("export", [NEM_AT_RETAIL, NEM_MONEY])
def test_under_net_metering_at_retail_the_revenue_lost_is_the_generation_at_retail(export):
    """The independent reference: on a flat energy-only rate (and a fixed charge) with every
    export credited at that rate (kWh credits, the June true-up paying what is left at it;
    or money credits at retail, paid at the true-up) and no limit, no charge on imports, a
    bill is linear in the metered energy, so the PV customers' bill savings are their
    generation valued at the marginal price (``pv_value``, summed step by step in the PV
    pass, the old formula): the gross-load bills must give it."""
    data = _export_tariffs(_scenario(dict(PV, kwp=4.0)), export, None)
    data["populations"][0]["tariff"] = {"baseline": "flat", "scenario": "flat"}
    r = sim.run(build(data))
    seg = r.segments["res"]
    has = seg.stats["pv_kwp"] > 0
    assert has.sum() > 50 and (seg.stats["pv_export_kwh_scenario"][has] > 0).any()   # exports, netted
    for role in ("baseline", "scenario"):
        shift = r.metrics["segments"]["res"]["change"]["pv_cost_shift"][role]
        value = float(seg.stats[f"pv_value_{role}"][has].sum())
        assert shift["revenue_lost"] == pytest.approx(value, rel=1e-9)
        saved = seg.stats[f"pv_gross_bill_{role}"] - seg.bills[role].bill
        np.testing.assert_allclose(saved[has], seg.stats[f"pv_value_{role}"][has], rtol=1e-9, atol=1e-6)
        assert (seg.stats[f"pv_gross_bill_{role}"][~has] == 0).all()


def test_net_billing_at_a_low_export_rate_loses_less_revenue_than_net_metering():
    """Large systems (8 kWp: a surplus at midday), the same TOU import prices: net metering
    credits exports at retail, net billing at 0.03 a kWh. Without PV both bill the same (the
    gross load never exports); with PV net billing bills more, so its revenue lost, and its
    cost shift, are smaller by exactly the difference of the PV customers' bills."""
    data = _scenario(dict(PV, kwp=8.0))
    data["populations"][0]["tariff"] = {"baseline": "nem", "scenario": "nb"}
    del data["populations"][0]["participation"]
    data["tariffs"]["nem"] = dict(copy.deepcopy(TOU), export=NEM)
    data["tariffs"]["nb"] = dict(copy.deepcopy(TOU), export={"rule": "net_billing", "price": 0.03})
    r = sim.run(build(data))
    seg = r.segments["res"]
    has = seg.stats["pv_kwp"] > 0
    shift = r.metrics["segments"]["res"]["change"]["pv_cost_shift"]
    nem, nb = shift["baseline"], shift["scenario"]
    assert seg.stats["pv_export_kwh_scenario"][has].sum() > 0
    np.testing.assert_array_equal(seg.stats["pv_gross_bill_baseline"], seg.stats["pv_gross_bill_scenario"])
    assert nb["revenue_lost"] < nem["revenue_lost"]
    paid_more = float((seg.bills["scenario"].bill[has] - seg.bills["baseline"].bill[has]).sum())
    assert paid_more > 0
    assert nem["revenue_lost"] - nb["revenue_lost"] == pytest.approx(paid_more, rel=1e-9)
    assert nem["cost_shift"] - nb["cost_shift"] == pytest.approx(paid_more, rel=1e-9)   # the same avoided cost


@settings(max_examples=6, deadline=None)
@given(rule=st.sampled_from(["nem", "nem_money", "nb", "nb_carry"]), sell=st.sampled_from([0.0, 0.05, 0.4]),
       limit=st.sampled_from([None, 1.5]), nbc=st.sampled_from([0.0, 0.04]), minimum=st.sampled_from([None, 25.0]),
       demand=st.sampled_from([0.0, 6.0]))
def test_the_gross_load_bill_is_the_bill_of_a_run_without_pv(rule, sell, limit, nbc, minimum, demand):
    """The accounting identity against an independent reference, on the whole tariff (export
    rule and rate, export limit, non-bypassable charge, minimum bill, demand charge): each PV
    customer's bill without PV is its bill in the same run without the model (PV changes no
    consumption), so revenue with PV + revenue lost = the revenue of that run over the PV
    customers; the customers without PV pay the same in both runs."""
    ex = {"nem": NEM, "nem_money": dict(NEM_MONEY, price=sell), "nb": {"rule": "net_billing", "price": sell},
          "nb_carry": {"rule": "net_billing", "price": sell, "carry_credits": True}}[rule]
    ex = dict(ex, non_bypassable_per_kwh=nbc, **({"limit_kw": limit} if limit else {}),
              **({"minimum_per_month": minimum} if minimum else {}))
    extra = {"demand": {"per_kw_month": demand}} if demand else {}
    with_pv = sim.run(build(_export_tariffs(_scenario(dict(PV, kwp=6.0), count=120, days=3), ex, ex, **extra)))
    without = sim.run(build(_export_tariffs(_scenario(None, count=120, days=3), ex, ex, **extra)))
    seg, ref = with_pv.segments["res"], without.segments["res"]
    has = seg.stats["pv_kwp"] > 0
    assert has.sum() > 10
    for role in ("baseline", "scenario"):
        np.testing.assert_allclose(seg.stats[f"pv_gross_bill_{role}"][has], ref.bills[role].bill[has], rtol=1e-9,
                                   atol=1e-9)
        assert (seg.bills[role].bill[~has] == ref.bills[role].bill[~has]).all()
        shift = with_pv.metrics["segments"]["res"]["change"]["pv_cost_shift"][role]
        revenue = float(seg.bills[role].bill[has].sum())
        assert revenue + shift["revenue_lost"] == pytest.approx(float(ref.bills[role].bill[has].sum()), rel=1e-9)
        assert shift["pv_bill_mean_without_pv"] == pytest.approx(float(ref.bills[role].bill[has].mean()), rel=1e-9)


def test_one_customers_exports_are_the_negative_part_of_its_net_load():
    data = _scenario(dict(PV, adoption=1.0, kwp=12.0), count=1)
    del data["populations"][1]
    r = sim.run(build(data))
    seg = r.segments["res"]
    for role in ("baseline", "scenario"):
        net = seg.load_kw[role]
        assert net.min() < 0
        assert seg.stats[f"pv_export_kwh_{role}"][0] == pytest.approx(np.maximum(-net, 0).sum(), rel=1e-12)


def test_adoption_zero_gives_the_bits_and_metrics_of_a_run_without_the_model():
    without = sim.run(build(_scenario(None)))
    zero = sim.run(build(_scenario(dict(PV, adoption=0.0))))
    assert _fingerprint(zero, pv_stats=False) == _fingerprint(without, pv_stats=False)
    assert json.dumps(zero.metrics, sort_keys=True) == json.dumps(without.metrics, sort_keys=True)
    some = sim.run(build(_scenario(PV)))
    assert _fingerprint(some, pv_stats=False) != _fingerprint(without, pv_stats=False)


def test_pv_with_ev_and_an_energy_price_model_in_one_segment():
    """A segment lists several models: constant elasticity, ev and pv; the EV draws do not
    move with PV added (own streams), and the system peak's EV share is reported."""
    ev = {"model": "ev", "adoption": 0.3, "mode": "timer"}
    ev_only = sim.run(build(_scenario(ev, days=3)))
    data = _scenario(None, days=3)
    res = data["populations"][0]
    res["behavior"] = [res["behavior"], ev, PV]
    mixed = sim.run(build(data))
    assert (mixed.segments["res"].stats["ev_kwh_baseline"] == ev_only.segments["res"].stats["ev_kwh_baseline"]).all()
    m = mixed.metrics["scenario"]
    assert 0 < m["ev_share_of_system_peak"] < 1 and m["pv_generation_kwh"] > 0


def _menu_with_exports() -> dict:
    """9,000 customers over two days across a month's end; the baseline flat with net
    metering, the scenario a menu (TOU with net metering, TOU with net billing at a limit and
    a charge on imports) in which customers move after the first month's bill: the gross-load
    bills of both kinds of menu bills (fixed choice, and moves) and of the export rules."""
    data = _export_tariffs(_scenario(PV, count=9000, days=2), NEM, NEM)
    data["horizon"]["start"] = "2025-06-30"
    data["tariffs"]["nb"] = dict(copy.deepcopy(TOU), export={"rule": "net_billing", "price": 0.05, "limit_kw": 2.0,
                                                             "non_bypassable_per_kwh": 0.03})
    res = data["populations"][0]
    res["tariff"] = {"baseline": "flat", "scenario": [{"tariff": "tou", "share": 0.5}, {"tariff": "nb", "share": 0.5}],
                     "choice": {"review_probability": 0.5, "threshold_pct": 1.0}}
    del res["participation"]
    return data


@pytest.mark.parametrize("step_minutes, exports", [(60, False), (15, False), (60, True)])
def test_same_bits_across_shards_and_chunks(step_minutes, exports):
    sc = build(_menu_with_exports() if exports else _scenario(PV, count=9000, days=2, step_minutes=step_minutes))
    reference = sim.run(sc)
    if exports:                            # the comparison has the menu's moves and both bills in it
        seg = reference.segments["res"]
        assert seg.bills["scenario"].switches.sum() > 0
        assert (seg.stats["pv_gross_bill_scenario"] > seg.bills["scenario"].bill)[seg.stats["pv_kwp"] > 0].all()
    assert reference.segments["res"].stats["pv_block_kw"].shape == (3, 2 * 24 * 60 // step_minutes)
    for shards, chunk in [(2, 4096), (3, 4096), (1, 8192)]:
        r = simulate(sc, shards=shards, chunk_customers=chunk)
        r.metrics = compute(r)
        assert _fingerprint(r) == _fingerprint(reference)


def test_dask_workers_give_the_same_bits(dask_cluster):
    sc = build(_menu_with_exports())
    address, _ = dask_cluster
    r = sim.run(sc, scheduler=address)
    assert r.execution["shards"] == 2
    assert _fingerprint(r) == _fingerprint(sim.run(sc))


# ------------------------------------------------------------------ figures

def test_duck_figures_by_hand():
    """Two hourly days: the net load dips at midday and climbs 30 kW from 15:00 to 18:00."""
    day = np.full(24, 50.0)
    day[10:16] = [20, 10, 5, 5, 10, 20]
    day[16:19] = [30, 40, 45]
    net = np.concatenate([day, day + 1.0])
    got = duck_figures(net, 24, 1.0)
    # rises over 3 hours: 13:00 (5) -> 16:00 (30) = 25, 14:00 (10) -> 17:00 (40) = 30 (the largest),
    # 15:00 (20) -> 18:00 (45) = 25
    assert got["net_ramp_3h_kw"] == 30.0 and got["net_ramp_3h_start_hour"] == 14.0
    assert got["net_midday_min_kw"] == 5.0 and got["net_midday_min_daily_mean_kw"] == 5.5
    assert got["net_ramp_3h_daily_mean_kw"] == 30.0


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("change, expected", [
    ({"adoption": 1.5}, "behavior[1].adoption"),
    ({"kwp": float("nan")}, "behavior[1].kwp"),
    ({"orientations": [{"azimuth": 180, "tilt": 20, "share": 0.5}]}, "shares must sum to 1"),
    ({"orientations": [{"azimuth": 400, "tilt": 20, "share": 1}]}, "azimuth"),
])
def test_bad_pv_settings_exit_2_naming_the_field(change, expected, write_yaml, tmp_path, capsys):
    path = write_yaml(_scenario(dict(PV, **change)))
    code = main(["run", str(path), "--results", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and "Traceback" not in err, err
    assert not (tmp_path / "results").exists()


def _csv_weather(tmp_path, columns: tuple[str, ...], rows: int = 48, bad: float | None = None) -> str:
    lines = ["timestamp," + ",".join(columns)]
    start = dt.datetime(2025, 6, 20)
    for k in range(rows):
        noon = max(0.0, 800 * np.sin(np.pi * ((k % 24) - 6) / 12))
        values = {"temp_air": 25.0, "ghi": noon, "dni": noon * 0.8, "dhi": noon * 0.2}
        if bad is not None and k == 30:
            values["ghi"] = bad
        lines.append((start + dt.timedelta(hours=k)).isoformat() + "," + ",".join(f"{values[c]:g}" for c in columns))
    path = tmp_path / "weather.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


CSV_KEYS = {"ghi_column": "ghi", "dni_column": "dni", "dhi_column": "dhi",
            "site": {"latitude": 36.1, "longitude": -79.95, "altitude": 273, "utc_offset": -5}}


def test_a_csv_weather_with_irradiance_and_a_site_runs(tmp_path):
    csv = _csv_weather(tmp_path, ("temp_air", "ghi", "dni", "dhi"))
    r = sim.run(build(_scenario(PV, days=2, weather={"csv": csv, **CSV_KEYS})))
    assert r.metrics["baseline"]["pv_generation_kwh"] > 0


@pytest.mark.parametrize("case, expected", [
    ("missing_column", "no column 'dhi'"),
    ("missing_code", "irradiance -9999 W/m2"),
    ("no_site", "weather.site"),
    ("no_irradiance", "model pv needs irradiance"),
])
def test_bad_irradiance_input_exits_2_naming_file_and_field(case, expected, write_yaml, tmp_path, capsys):
    cols = ("temp_air", "ghi", "dni") if case == "missing_column" else ("temp_air", "ghi", "dni", "dhi")
    csv = _csv_weather(tmp_path, cols, bad=-9999 if case == "missing_code" else None)
    weather = {"csv": csv, **CSV_KEYS}
    if case == "no_site":
        del weather["site"]
    if case == "no_irradiance":
        weather = {"csv": csv, "temperature_column": "temp_air"}
    path = write_yaml(_scenario(PV, days=2, weather=weather))
    code = main(["run", str(path), "--results", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and "Traceback" not in err, err
    if case in ("missing_column", "missing_code"):
        assert "weather.csv" in err
    assert not (tmp_path / "results").exists()


def test_a_measured_profile_scales_by_each_systems_size(tmp_path):
    """``measured``: every system follows the CSV's kW per kWp; the segment's generation is
    the systems' total kWp times the profile, step by step (no weather needed)."""
    hours = 48
    profile = np.clip(np.sin(np.pi * ((np.arange(hours) % 24) - 6) / 12), 0, None) * 0.7
    path = tmp_path / "pv.csv"
    path.write_text("kw_per_kwp\n" + "\n".join(f"{v:.6f}" for v in profile) + "\n")
    data = _scenario(dict(PV, measured={"csv": str(path), "column": "kw_per_kwp"}), days=2)
    del data["weather"]
    r = sim.run(build(data))
    seg = r.segments["res"]
    expected = np.round(profile, 6) * seg.stats["pv_kwp"].sum()
    np.testing.assert_allclose(seg.stats["pv_block_kw"].sum(axis=0), expected, rtol=1e-12, atol=1e-9)
    assert expected.max() > 0


def test_a_measured_profile_in_watts_exits_2(write_yaml, tmp_path, capsys):
    path = tmp_path / "pv.csv"
    path.write_text("w_per_kwp\n" + "\n".join("700" for _ in range(48)) + "\n")
    data = _scenario(dict(PV, measured={"csv": str(path), "column": "w_per_kwp"}), days=2)
    del data["weather"]
    code = main(["run", str(write_yaml(data)), "--results", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert code == 2 and "pv.csv" in err and "w_per_kwp" in err and "Traceback" not in err, err
