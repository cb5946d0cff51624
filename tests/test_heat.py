"""Electric heat and electrification (``model: electric_heat``, sim/behavior/heat.py): the
When2Heat COP curve, heat = electricity x COP for a heat pump, a storage heater delivering
its need with its store's energy conserved, the switching choice (none under a dear tariff,
all under a nearly free one, monotone in the price, a partial share between), the baseline
role without switchers, the metrics' identities, the same bits across shards, chunks and Dask
workers, and bad input stopping with exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.behavior.heat import annuity_factor, cop_air_source, heat_pump_kw, storage_heater_day
from sim.behavior.storage import Store
from sim.cli import main
from sim.engine import simulate
from sim.metrics import compute
from sim.population.thermal import heating_degrees
from sim.weather import weather_of
from sim.calendar import Calendar

from .conftest import build, dask_cluster, scenario_dict  # noqa: F401  (a fixture)

# --------------------------------------------------------------------------- the pieces


def test_cop_is_when2heats_air_source_curve():
    """Ruhnau et al. (2019), When2Heat inputs: 6.0801 - 0.0941 dT + 0.0005 dT^2, times 0.85,
    dT = T_sink - T clipped at 15 K, sink 40 - T (radiator) or 30 - 0.5 T (floor)."""
    def ref(dt):
        return 0.85 * (6.0801 - 0.0941 * dt + 0.0005 * dt * dt)
    t = np.array([-15.0, -5.0, 0.0, 7.0, 12.5, 20.0])
    np.testing.assert_allclose(cop_air_source(t, "radiator"), [ref(70), ref(50), ref(40), ref(26), ref(15), ref(15)],
                               rtol=1e-14)
    np.testing.assert_allclose(cop_air_source(t, "floor"), [ref(52.5), ref(37.5), ref(30), ref(19.5), ref(15), ref(15)],
                               rtol=1e-14)
    cold = cop_air_source(np.linspace(-40, 12, 200))
    assert (np.diff(cold) >= 0).all()                           # colder outside, a larger lift, a lower COP ...
    lowest = 0.85 * (6.0801 - 0.0941 ** 2 / (4 * 0.0005))       # ... held at the curve's minimum (dT = 94.1 K)
    assert cold.min() == pytest.approx(lowest, rel=1e-12) and cop_air_source(np.array([-40.0]))[0] == cold.min()
    with pytest.raises(ValueError):
        cop_air_source(t, "ceiling")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-30, 30), min_size=24, max_size=24), st.floats(0.0, 1.0))
def test_a_heat_pumps_electricity_times_its_cop_is_the_heat(temps, ua):
    t = np.array(temps)
    heat = np.array([[ua], [2 * ua]]) * heating_degrees(t, 15.0)[None, :]
    cop = cop_air_source(t)
    elec = heat_pump_kw(heat, cop)
    np.testing.assert_allclose(elec * cop[None, :], heat, rtol=1e-14, atol=1e-300)
    assert (cop > 1).all() and (elec <= heat + 1e-15).all()


@st.composite
def heater_days(draw):
    n = draw(st.integers(1, 5))
    spd = 24
    heat = np.array(draw(st.lists(st.lists(st.floats(0, 12), min_size=spd, max_size=spd), min_size=n, max_size=n)))
    levels = draw(st.lists(st.floats(0.05, 1.5), min_size=1, max_size=3))
    price = np.array(draw(st.lists(st.sampled_from(levels), min_size=spd, max_size=spd)))
    cap = np.array(draw(st.lists(st.floats(0, 80), min_size=n, max_size=n)))
    power = np.array(draw(st.lists(st.floats(0, 12), min_size=n, max_size=n)))
    loss = np.array(draw(st.lists(st.floats(0, 0.05), min_size=n, max_size=n)))
    soc0 = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))) * cap
    return heat, price, Store(np.ones(n), cap, power, np.ones(n), loss), soc0


@settings(max_examples=200, deadline=None)
@given(heater_days())
def test_a_storage_heater_delivers_the_days_need_and_conserves_its_stores_energy(case):
    heat, price, store, soc0 = case
    elec, served, soc_end = storage_heater_day(heat, price, store, soc0, 1.0)
    direct = heat - served                                    # heated directly: the need the store did not serve
    charge = elec - direct                                    # what the cores took
    assert (served >= -1e-12).all() and (direct >= -1e-9).all() and (charge >= -1e-9).all()
    assert (charge <= store.power_kw[:, None] + 1e-9).all() and (served <= store.power_kw[:, None] + 1e-9).all()
    decay = (1 - store.loss_per_hour) ** 24
    np.testing.assert_allclose(soc_end, (soc0 + charge.sum(axis=1) - served.sum(axis=1)) * decay, rtol=1e-9,
                               atol=1e-8)
    assert (soc_end <= store.capacity_kwh + 1e-9).all() and (soc_end >= 0).all()
    # the day's running state of charge stays within the cores
    run = soc0[:, None] + np.cumsum(charge - served, axis=1)
    assert (run >= -1e-8).all() and (run <= store.capacity_kwh[:, None] + 1e-8).all()


def test_a_storage_heater_stores_nothing_under_one_price_and_fills_the_valley_under_two():
    heat = np.full((1, 24), 3.0)                                # 72 kWh of heat a day, 48 of it in dear hours
    store = Store(np.ones(1), np.array([40.0]), np.array([8.0]), np.ones(1), np.zeros(1))
    flat, served, _ = storage_heater_day(heat, np.full(24, 0.44), store, np.zeros(1), 1.0)
    assert (served == 0).all() and np.array_equal(flat, heat)
    valley = np.where((np.arange(24) >= 23) | (np.arange(24) < 7), 0.20, 0.44)
    tou, served, soc = storage_heater_day(heat, valley, store, np.zeros(1), 1.0)
    dear = valley > 0.2
    # the cores (40 kWh) serve dear hours' heat, charged in the valley; the rest is heated directly
    assert served[0, dear].sum() == pytest.approx(40.0) and served[0, ~dear].sum() == 0
    assert tou[0, dear].sum() == pytest.approx(48.0 - 40.0)
    assert tou[0, ~dear].sum() == pytest.approx(8 * 3.0 + 40.0)
    assert (tou - (heat - served) <= 8.0 + 1e-12).all()         # the cores charge within the charger's rating
    assert tou.sum() == pytest.approx(heat.sum()) and soc[0] == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.floats(0.0, 2.0), st.integers(1, 40))
def test_the_annuity_repays_the_cost_over_the_life(rate, years):
    """An independent check: the payments discounted at the rate add up to the cost."""
    a = float(annuity_factor(np.array([rate]), years)[0])
    pv = sum(a / (1 + rate) ** k for k in range(1, years + 1))
    assert pv == pytest.approx(1.0, rel=1e-9)


# --------------------------------------------------------------------------- whole runs

HEAT = {"model": "electric_heat", "technology": "storage_heater",
        "heat_kwh_per_degree_hour": {"dist": "uniform", "low": 0.1, "high": 0.2},
        "electric_share": 0.1,
        "fuels": {"coal": {"share": 0.5, "price": 1000.0, "unit": "t", "kwh_per_unit": 6000.0, "efficiency": 0.55},
                  "gas": {"share": 0.25, "price": 2.6, "unit": "m3", "kwh_per_unit": 10.0, "efficiency": 0.85}},
        "equipment_cost": {"dist": "uniform", "low": 1000.0, "high": 4000.0},
        "discount_rate": {"dist": "uniform", "low": 0.05, "high": 0.4}}


def _scenario(heat: dict | None = None, valley: float = 0.20, count: int = 300, days: int = 3, **more) -> dict:
    data = scenario_dict(horizon={"start": "2024-01-08", "days": days, "step_minutes": 60},
                         weather={"tmy3": "pvlib:703165TY.csv"}, **more)
    del data["populations"][1]
    res = data["populations"][0]
    res["count"] = count
    res["behavior"] = [res["behavior"], dict(HEAT, **(heat or {}))]
    data["tariffs"] = {"flat": {"type": "flat", "price_per_kwh": 0.44},
                       "tou": {"type": "tou", "periods": {"day": {"price_per_kwh": 0.44},
                                                          "valley": {"price_per_kwh": valley}},
                               "schedule": [{"day_types": ["weekday", "weekend", "holiday"],
                                             "hours": {"day": ["07:00-23:00"], "valley": ["23:00-07:00"]}}]}}
    return data


def _switched(valley: float, **heat) -> np.ndarray:
    r = sim.run(build(_scenario(heat, valley=valley)))
    return r.segments["res"].stats["heat_switched"] > 0


def test_switching_is_monotone_in_the_price_none_when_dear_all_when_nearly_free():
    prices = [1e-4, 0.05, 0.15, 0.20, 0.30, 5.0]
    sets = [_switched(p) for p in prices]
    counts = [int(s.sum()) for s in sets]
    fuel = int((sim.run(build(_scenario())).segments["res"].stats["heat_heating"] > 0).sum())
    assert counts[0] == fuel                                    # every fuel customer, at a nearly free valley
    assert counts[-1] == 0                                      # nobody, where electricity is dearer than fuel
    assert 0 < counts[3] < fuel                                 # heterogeneity: a partial share between
    for cheaper, dearer in zip(sets, sets[1:]):                 # nested: a switcher at a price switches below it
        assert not (dearer & ~cheaper).any()
    assert counts == sorted(counts, reverse=True)


def test_without_heterogeneity_everyone_of_a_fuel_decides_alike():
    """With one heat need, cost and rate for all, the choice is all or nothing per fuel."""
    heat = dict(heat_kwh_per_degree_hour=0.15, equipment_cost=2500.0, discount_rate=0.3)
    r = sim.run(build(_scenario(heat)))
    st_ = r.segments["res"].stats
    for code in (1, 2):
        s = st_["heat_switched"][st_["heat_heating"] == code]
        assert s.all() or not s.any()


def test_the_baseline_has_no_switchers_and_the_heat_identities_hold():
    data = _scenario(count=400)
    r = sim.run(build(data))
    seg, m = r.segments["res"], r.metrics["segments"]["res"]
    st_ = seg.stats
    # the baseline role is the same whatever the scenario tariff: no switcher's load in it
    dear = sim.run(build(_scenario(valley=5.0, count=400)))
    assert seg.load_kw["baseline"].tobytes() == dear.segments["res"].load_kw["baseline"].tobytes()
    # heat need: each heating customer's U x degree-hours of the run's weather, an independent sum
    sc = build(data)
    cal = Calendar.from_scenario(sc)
    dh = float(heating_degrees(weather_of(sc, cal).temp_c, 15.0).sum())
    ua = seg.stats["heat_kwh_baseline"][st_["heat_heating"] == 0] / dh
    assert (ua > 0).all() and np.all(np.isclose(ua * dh, st_["heat_kwh_baseline"][st_["heat_heating"] == 0]))
    switched = st_["heat_switched"] > 0
    assert (st_["heat_kwh_baseline"][switched] == 0).all() and (st_["heat_kwh_scenario"][switched] > 0).all()
    # the fuel customers' final energy: heat / efficiency, until they switch
    eff = np.where(st_["heat_heating"] == 1, 0.55, 0.85)
    fuel = st_["heat_heating"] > 0
    heat_need = st_["heat_fuel_kwh_baseline"][fuel] * eff[fuel]
    np.testing.assert_allclose(st_["heat_kwh_scenario"][fuel & switched],
                               heat_need[switched[fuel]], rtol=1e-12)
    assert (st_["heat_fuel_kwh_scenario"][switched] == 0).all()
    # a storage heater's electricity covers its heat (charged - served stays in the cores at the end)
    assert m["scenario"]["heat_electric_kwh"] >= m["scenario"]["heat_kwh"] - 1e-6
    # metrics: per-block loads hold the energy, the kWh gained and the shares
    blocks = st_["heat_block_kw_scenario"].sum(axis=0)
    assert blocks.sum() == pytest.approx(m["scenario"]["heat_electric_kwh"], rel=1e-12)
    c = m["change"]
    assert c["electrification_kwh"] == pytest.approx(m["scenario"]["heat_electric_kwh"]
                                                     - m["baseline"]["heat_electric_kwh"], rel=1e-12)
    assert c["heat_switched_total"] == int(switched.sum()) == sum(c["heat_switched_customers"].values())
    assert c["electrification_sales_growth_pct"] == pytest.approx(
        c["electrification_kwh"] / m["baseline"]["energy_kwh"] * 100)
    b = m["baseline"]
    assert c["heat_electric_share_before"] == pytest.approx(
        b["heat_electric_kwh"] / (b["heat_electric_kwh"] + b["heat_fuel_kwh"]))
    assert c["heat_electric_share_after"] > c["heat_electric_share_before"]
    t = int(r.system_load_kw["scenario"].argmax())
    assert m["scenario"]["heat_share_of_system_peak"] == pytest.approx(blocks[t] / r.system_load_kw["scenario"][t])
    assert r.metrics["scenario"]["heat_share_of_system_peak"] == pytest.approx(
        m["scenario"]["heat_share_of_system_peak"])                # one segment: the system's is its own
    # the storage heaters charge in the valley: the scenario's peak is a valley hour
    assert t % 24 == 23 or t % 24 < 7
    # a switcher's surplus: the heat it bought is worth its fuel cost avoided, net of its annuity
    assert (st_["utility_scenario"][switched] != 0).all()


def test_a_heat_pump_run_keeps_heat_equal_electricity_times_cop():
    data = _scenario({"technology": "heat_pump", "sink": "floor"}, count=200)
    sc = build(data)
    r = sim.run(sc)
    st_ = r.segments["res"].stats
    cal = Calendar.from_scenario(sc)
    temp = weather_of(sc, cal).temp_c.reshape(-1)
    deg, cop = heating_degrees(temp, 15.0), cop_air_source(temp, "floor")
    on = st_["heat_kwh_scenario"] > 0
    ua = st_["heat_kwh_scenario"][on] / deg.sum()
    np.testing.assert_allclose(st_["heat_electric_kwh_scenario"][on], ua * (deg / cop).sum(), rtol=1e-12)


def _fingerprint(r) -> dict:
    return {"system": {k: v.tobytes() for k, v in r.system_load_kw.items()},
            "loads": {k: v.tobytes() for k, v in r.segments["res"].load_kw.items()},
            "bills": r.segments["res"].bills["scenario"].total.tobytes(),
            "stats": {k: v.tobytes() for k, v in r.segments["res"].stats.items()},
            "metrics": json.dumps(r.metrics, sort_keys=True)}


@pytest.fixture(scope="module")
def big():
    sc = build(_scenario(count=9000, days=2))
    return sc, sim.run(sc)


@pytest.mark.parametrize("shards, chunk", [(2, 4096), (3, 4096), (1, 8192)])
def test_same_bits_across_shards_and_chunks(big, shards, chunk):
    sc, reference = big
    assert reference.segments["res"].stats["heat_block_kw_scenario"].shape == (3, 48)
    r = simulate(sc, shards=shards, chunk_customers=chunk)
    r.metrics = compute(r)
    assert _fingerprint(r) == _fingerprint(reference)


def test_same_bits_on_two_dask_workers(big, dask_cluster):  # noqa: F811
    sc, reference = big
    address, _ = dask_cluster
    r = sim.run(sc, scheduler=address)
    assert r.execution["shards"] == 2 and all(b > 0 for b in r.shard_busy_s)
    assert _fingerprint(r) == _fingerprint(reference)


def test_adding_the_model_with_no_heating_moves_no_other_draw():
    """Its draws come from a stream of their own: with no one heating electrically and no
    fuels, loads and bills are those of no model."""
    without = scenario_dict(horizon={"start": "2024-01-08", "days": 2, "step_minutes": 60},
                            weather={"tmy3": "pvlib:703165TY.csv"})
    with_model = json.loads(json.dumps(without))
    with_model["populations"][0]["behavior"] = [with_model["populations"][0]["behavior"],
                                                dict(HEAT, electric_share=0.0, fuels={})]
    a, b = sim.run(build(without)), sim.run(build(with_model))
    for name in a.segments:
        assert a.segments[name].load_kw["scenario"].tobytes() == b.segments[name].load_kw["scenario"].tobytes()
        assert a.segments[name].bills["scenario"].total.tobytes() == b.segments[name].bills["scenario"].total.tobytes()


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("change, expected", [
    ({"weather": None}, "electric_heat needs the run's weather"),
    ({"heat": {"electric_share": 0.5}}, "add up to 1.25"),
    ({"heat": {"fuels": {"coal": {"share": 0.5, "price": 1.0, "efficiency": 0.0}}}}, "efficiency"),
    ({"heat": {"fuels": {"wood": {"share": 0.1, "price": 1.0, "efficiency": 0.5}}}}, "fuels"),
    ({"heat": {"technology": "boiler"}}, "technology"),
    ({"heat": {"discount_rate": {"dist": "normal", "mean": 0.3, "sd": 0.2}}}, "discount_rate must lie in"),
    ({"menu": True}, "made under one scenario tariff"),
])
def test_bad_heat_settings_exit_2_naming_file_line_and_field(change, expected, write_yaml, tmp_path, capsys):
    data = _scenario(change.get("heat"))
    if "weather" in change:
        del data["weather"]
    if change.get("menu"):
        data["populations"][0]["participation"] = {"enrolment": {"mode": "opt_in", "share": 0.5}}
    path = write_yaml(data)
    code = main(["run", str(path), "--results", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and "Traceback" not in err, err
    assert "scenario.yaml:" in err and "populations[0].behavior" in err, err
    assert not (tmp_path / "results").exists()


def test_a_switchers_utility_term_is_its_fuel_cost_avoided_less_its_annuity():
    """With one cost, rate and non-monetary cost for all: each switcher's utility over the
    horizon is ``(U p_f / (k eta) - (K a(r, L) + O) / H) x DH_horizon``, with ``H`` the
    TMY3 file's whole year read here with pvlib, independently of the model."""
    import pvlib
    from sim.scenario.weather import Weather

    heat = dict(equipment_cost=2000.0, discount_rate=0.2, lifetime_years=12, other_cost_per_year=50.0)
    data = _scenario(heat, count=200)
    data["populations"][0]["behavior"] = data["populations"][0]["behavior"][1:]   # the heat model alone
    sc = build(data)
    r = sim.run(sc)
    st_ = r.segments["res"].stats
    year, _ = pvlib.iotools.read_tmy3(str(Weather(tmy3="pvlib:703165TY.csv").path()), map_variables=True)
    H = np.maximum(15.0 - year["temp_air"].to_numpy(), 0).sum()
    dh = float(heating_degrees(weather_of(sc, Calendar.from_scenario(sc)).temp_c, 15.0).sum())
    a = 0.2 / (1 - 1.2 ** -12)
    switched = st_["heat_switched"] > 0
    assert switched.sum() > 10
    code = st_["heat_heating"][switched]
    per_kwh = np.where(code == 1, 1000.0 / 6000.0 / 0.55, 2.6 / 10.0 / 0.85)
    ua = st_["heat_kwh_scenario"][switched] / dh
    expected = (ua * per_kwh - (2000.0 * a + 50.0) / H) * dh
    np.testing.assert_allclose(st_["utility_scenario"][switched], expected, rtol=1e-9)
    assert (st_["utility_scenario"][~switched] == 0).all() and (st_["utility_baseline"] == 0).all()


def test_the_market_view_names_electric_heats_part_of_the_sales_change():
    r = sim.run(build(_scenario(market={})))
    mk = r.metrics["market"]["segments"]["res"]["change"]
    m = r.metrics["segments"]["res"]["change"]
    assert mk["sales_change_from_electric_heat_kwh"] == pytest.approx(m["electrification_kwh"], rel=1e-12)
    assert mk["sales_change_from_electric_heat_pct"] == pytest.approx(
        m["electrification_kwh"] / r.metrics["market"]["segments"]["res"]["baseline"]["sales_kwh"] * 100)
