"""Exports billed by drsim and by NREL SAM (PySAM ``Utilityrate5``), to the cent, for every
``ur_metering_option`` SAM offers, on real URDB rates (tests/data/urdb/SOURCES.md) and a
rooftop-PV net load on the real 2018 calendar (1 January 2018 is a Monday, as SAM assumes).

The load is tests/test_urdb.py's synthetic 8,760-hour load; the generation is pvlib's PVWatts
model on the Greensboro, NC typical year that pvlib ships (``pvlib/data/723170TYA.CSV``), so
that the net load goes below zero around midday. SAM takes the load and the generation apart
(``Load.load``, ``SystemOutput.gen``); drsim bills their difference, the net load, as the
billing contract between customers and tariffs says. SAM's rules are read from ssc
(``ssc/cmod_utilityrate5.cpp``: ``ur_calc`` for options 0-1, ``ur_calc_timestep`` for 2-4;
``shared/lib_utility_rate_equations.cpp``: ``rate_data::transfer_surplus``,
``compute_surplus``); sim/tariffs/export.py says which drsim rule matches which option.
"""

from __future__ import annotations

import copy
import json
import os

import numpy as np
import pytest
from pydantic import TypeAdapter

from sim.scenario.tariff import Tariff
from sim.tariffs.billing import CHARGES, bill_loads
from sim.tariffs.compile import compile_tariff
from sim.tariffs.export import EXPORT_PARTS
from sim.tariffs.urdb import urdb_to_tariff

from .test_urdb import ENTERGY, FPL, SCE, SDGE, TOL, _open_ended, _tiered_demand, calendar, synthetic_load

ur5 = pytest.importorskip("PySAM.Utilityrate5")
tools = pytest.importorskip("PySAM.UtilityRateTools")
pvlib = pytest.importorskip("pvlib")

E, T = CHARGES.index("energy"), EXPORT_PARTS.index("true_up")
DEMAND = [i for i, c in enumerate(CHARGES) if c.startswith("demand")]


def pv_kw(kw_dc: float) -> np.ndarray:
    """Hourly AC output [kW] of a south-facing, 25-degree-tilt array of ``kw_dc`` kW DC on the
    Greensboro typical year (pvlib: solar position, Perez-free isotropic sky, PVWatts DC with
    -0.4 %/K, SAPM cell temperature, PVWatts inverter at 96 %), in the file's hour order."""
    path = os.path.join(os.path.dirname(pvlib.__file__), "data", "723170TYA.CSV")
    data, meta = pvlib.iotools.read_tmy3(path, map_variables=True)
    loc = pvlib.location.Location(meta["latitude"], meta["longitude"], altitude=meta["altitude"])
    times = data.index - np.timedelta64(30, "m")  # mid-hour sun for the hour ending at the stamp
    sun = loc.get_solarposition(times)
    poa = pvlib.irradiance.get_total_irradiance(25, 180, sun["apparent_zenith"].values, sun["azimuth"].values,
                                                data["dni"].values, data["ghi"].values, data["dhi"].values)
    params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_glass"]
    cell = pvlib.temperature.sapm_cell(poa["poa_global"], data["temp_air"].values, data["wind_speed"].values, **params)
    dc = pvlib.pvsystem.pvwatts_dc(poa["poa_global"], cell, kw_dc, -0.004)
    ac = pvlib.inverter.pvwatts(dc, kw_dc / 1.2)
    return np.clip(np.nan_to_num(np.asarray(ac, dtype=float)), 0.0, None)[:8760]


def sam_bill(rate: dict, load: np.ndarray, gen: np.ndarray, option: int | None, **rates) -> dict[str, np.ndarray]:
    """SAM's monthly bill with the system, configured from the URDB rate by PySAM's converter,
    ``ur_metering_option`` and the ``ElectricityRates`` values ``rates`` set after it."""
    m = ur5.new()
    m.Lifetime.analysis_period = 1
    m.Lifetime.system_use_lifetime_output = 0
    m.Lifetime.inflation_rate = 0
    m.Load.load = load.tolist()
    m.Load.load_escalation = [0]
    m.SystemOutput.gen = gen.tolist()
    m.SystemOutput.degradation = [0]
    er = m.ElectricityRates
    er.rate_escalation = [0]
    er.ur_monthly_fixed_charge = 0
    er.ur_monthly_min_charge = 0
    er.ur_annual_min_charge = 0
    er.assign(tools.URDBv8_to_ElectricityRates(copy.deepcopy(rate)))
    lower = {k.lower(): v for k, v in rate.items()}
    if "fixedchargefirstmeter" not in lower and "fixedmonthlycharge" in lower:
        er.ur_monthly_fixed_charge = lower["fixedmonthlycharge"]
    if "minmonthlycharge" in lower and "mincharge" not in lower:
        er.ur_monthly_min_charge = lower["minmonthlycharge"]
    settings = {"ur_nm_credit_month": 11, "ur_nm_credit_rollover": 0, "ur_nm_yearend_sell_rate": 0.0,
                "ur_nb_credit_expire": 0, "ur_nb_apply_credit_current_month": 1, "ur_sell_eq_buy": 0,
                "ur_en_ts_sell_rate": 0, "TOU_demand_single_peak": 0, **rates}
    for key, value in settings.items():
        setattr(er, key, value)
    if option is not None:  # else the converter's choice from dgrules
        er.ur_metering_option = option
    m.execute(0)
    o = m.Outputs
    return {
        "energy": np.array(o.year1_monthly_ec_charge_with_system),
        "demand": np.array(o.year1_monthly_dc_fixed_with_system) + np.array(o.year1_monthly_dc_tou_with_system),
        "fixed": np.array(o.year1_monthly_fixed_with_system),
        "minimum": np.array(o.year1_monthly_minimum_with_system),
        "true_up": -np.array(o.year1_true_up_credits),
        "total": np.array(o.year1_monthly_utility_bill_w_sys),
    }


def drsim_bill(tariff: dict, net_kw: np.ndarray):
    """drsim's monthly bill of one meter's net load: (months, charges) and the accumulator."""
    cal = calendar(2018)
    compiled = compile_tariff("urdb", TypeAdapter(Tariff).validate_python(tariff), cal)
    acc = bill_loads(compiled, net_kw[None, :], cal, keep_monthly=True)
    return acc.monthly_by_customer[0], acc


def ours_by_charge(bill: np.ndarray, acc) -> dict[str, np.ndarray]:
    """drsim's monthly bill in SAM's outputs: the true-up (booked in drsim's energy column after
    the minimum bill) apart from the energy charge."""
    true_up = acc.export.monthly[0, :, T] if acc.export is not None else np.zeros(12)
    return {"energy": bill[:, E] - true_up, "demand": bill[:, DEMAND].sum(axis=1),
            "fixed": bill[:, CHARGES.index("fixed")], "minimum": bill[:, CHARGES.index("minimum")],
            "true_up": true_up, "total": bill.sum(axis=1)}


def assert_agree(rate: dict, tariff: dict, load: np.ndarray, gen: np.ndarray, option: int, **rates):
    """Every month's energy, demand, fixed and minimum charges, true-up and bill agree with
    SAM's to half a cent, and the year's bill too."""
    bill, acc = drsim_bill(tariff, load - gen)
    ours, sam = ours_by_charge(bill, acc), sam_bill(rate, load, gen, option, **rates)
    for c in ("energy", "demand", "fixed", "minimum", "true_up", "total"):
        np.testing.assert_allclose(ours[c], sam[c], rtol=0, atol=TOL, err_msg=f"option {option}: monthly {c}")
    np.testing.assert_allclose(bill.sum(), sam["total"].sum(), rtol=0, atol=TOL, err_msg="annual bill")
    return ours, sam, acc


def with_sell(rate: dict, sell: list[float], dgrules: str | None = None) -> dict:
    """A derived variant of a real rate: each energy period's export (sell) rate, and dgrules."""
    out = copy.deepcopy(rate)
    for i, period in enumerate(out["energyratestructure"]):
        for tier in period:
            tier["sell"] = sell[i % len(sell)]
    if dgrules is not None:
        out["dgrules"] = dgrules
    return out


#: The residential meter: FPL RS-1's load (tiers at 1,000 kWh) with a 6 kW-DC array.
RES_LOAD = synthetic_load(1.6)
RES_GEN = pv_kw(6.0)
#: The commercial meter: SDG&E AL-TOU's load with a 400 kW-DC array.
COM_LOAD = synthetic_load(300.0)
COM_GEN = pv_kw(400.0)


def test_the_meters_export_at_midday_in_some_months_and_import_overall():
    for load, gen in ((RES_LOAD, RES_GEN), (COM_LOAD, COM_GEN)):
        net = load - gen
        hour = np.arange(8760) % 24
        assert (net < 0).sum() > 300 and (net[(hour < 6) | (hour > 20)] > 0).all()
        month = np.repeat(calendar(2018).billing_month, 24)
        monthly_net = np.bincount(month, weights=net)
        assert (monthly_net > 0).any()
    res = np.bincount(np.repeat(calendar(2018).billing_month, 24), weights=RES_LOAD - RES_GEN)
    assert (res < 0).sum() >= 3  # the residential meter nets out below zero in winter months: credits carry


def fpl(**export) -> tuple[dict, dict]:
    """FPL RS-1 (real) with a sell rate of 0.04 $/kWh (derived), and its drsim tariff with ``export``."""
    rate = with_sell(json.loads(FPL.read_text()), [0.04])
    tariff = urdb_to_tariff(json.loads(FPL.read_text()))
    tariff["export"] = export
    return rate, tariff


SELL = [0.03 + 0.01 * i for i in range(8)]   # derived export rates, one per URDB period


def commercial(path, modify=None) -> dict:
    rate = json.loads(path.read_text())
    rate = rate["items"][0] if "items" in rate else rate
    return modify(rate) if modify else rate


#: (rate, load, generation): FPL RS-1 (flat, 2 tiers) residential; SDG&E AL-TOU (3 seasons,
#: flat and TOU demand); SCE TOU-8 with tiered flat and TOU demand (derived); Entergy LIPS-L's
#: three flat demand tiers, the last made open-ended (derived).
METERS = {
    "fpl": (json.loads(FPL.read_text()), RES_LOAD, RES_GEN),
    "sdge": (commercial(SDGE), COM_LOAD, COM_GEN),
    "sce_tiered_demand": (commercial(SCE, _tiered_demand), synthetic_load(420.0), pv_kw(500.0)),
    "entergy_tiered_demand": (commercial(ENTERGY, _open_ended), synthetic_load(200.0), pv_kw(300.0)),
}


def by_period(tariff: dict, prices: list[float]) -> dict | float:
    """An export price per period of an imported tariff (URDB period i -> prices[i])."""
    if tariff["type"] == "flat":
        return prices[0]
    return {"periods": {p: prices[int(p[1:])] for p in tariff["periods"]}}


#: (SAM option, drsim export section from the tariff, SAM settings)
OPTIONS = {
    0: (lambda t: {"rule": "net_metering", "true_up": {"price_per_kwh": 0.03}}, {"ur_nm_yearend_sell_rate": 0.03}),
    1: (lambda t: {"rule": "net_metering", "credits": "money", "price": by_period(t, SELL)}, {}),
    2: (lambda t: {"rule": "net_billing", "price": by_period(t, SELL)}, {}),
    3: (lambda t: {"rule": "net_billing", "carry_credits": True, "price": by_period(t, SELL)}, {}),
}


@pytest.mark.parametrize("option", sorted(OPTIONS))
@pytest.mark.parametrize("meter", sorted(METERS))
def test_exports_agree_with_sam(meter, option):
    """SAM's metering options 0-3 on real rates (with derived sell rates) and a PV net load:
    every month's charges, true-up and bill to the cent."""
    rate, load, gen = METERS[meter]
    tariff = urdb_to_tariff(rate)
    section, settings = OPTIONS[option]
    tariff["export"] = section(tariff)
    n = len(rate["energyratestructure"])
    ours, sam, acc = assert_agree(with_sell(rate, SELL[:n]), tariff, load, gen, option, **settings)
    parts = acc.export.monthly[0]
    assert parts[:, EXPORT_PARTS.index("export_kwh")].sum() > 1000     # the meter exports
    if option == 0 and meter == "fpl":   # the residential meter's kWh credits carry and are settled
        assert parts[:, EXPORT_PARTS.index("carried_kwh")].max() > 100 and ours["true_up"][11] < 0
    elif option >= 2 or meter == "fpl":   # money credits earned and applied (the commercial meters'
        assert parts[:, EXPORT_PARTS.index("export_credit")].sum() < -10  # exports net within their periods)


def test_buy_all_sell_all_is_two_meters():
    """SAM's option 4 (buy all, sell all; URDB dgrules 'Buy All Sell All') bills the load on one
    meter and sells all the generation on another (ssc ``ur_calc_timestep`` with ``gen_only``,
    no fixed or minimum charge on the second). drsim bills one net load per customer; the same
    bill is drsim's bill of the load with no export section plus a net-billing bill of the
    generation alone (a net load of minus the generation) on a tariff without fixed charges."""
    rate, load, gen = METERS["sdge"]
    n = len(rate["energyratestructure"])
    sam = sam_bill(with_sell(rate, SELL[:n]), load, gen, 4)
    consumption, _ = drsim_bill(urdb_to_tariff(rate), load)
    seller = urdb_to_tariff(rate)
    for key in ("fixed_per_month", "fixed_per_day", "minimum_per_month", "demand"):
        seller.pop(key, None)
    seller["export"] = {"rule": "net_billing", "price": by_period(seller, SELL)}
    generation, _ = drsim_bill(seller, -gen)
    np.testing.assert_allclose((consumption + generation).sum(axis=1), sam["total"], rtol=0, atol=TOL)
    assert generation[:, E].sum() < -1000 and (generation[:, E] <= 0).all()


def kwh_credits_by_period(tariff: dict, net: np.ndarray, price: float) -> tuple[np.ndarray, float]:
    """drsim's net-metering rule computed apart: each month's kWh billed by energy period
    after kWh credits carried by period (a period's credits wait for the period to come back),
    and the December true-up's payment for the kWh left."""
    cal = calendar(2018)
    ct = compile_tariff("x", TypeAdapter(Tariff).validate_python(tariff), cal)
    month = np.repeat(cal.billing_month, 24)
    carried = np.zeros(ct.n_periods)
    billed = np.zeros((12, ct.n_periods))
    for m in range(12):
        net_p = np.bincount(ct.period[month == m], weights=net[month == m], minlength=ct.n_periods)
        billed[m] = np.maximum(net_p - carried, 0.0)
        carried = np.maximum(carried - net_p, 0.0)
    return billed, carried.sum() * price


def test_kwh_credits_stay_in_their_period_sam_moves_them_by_time_of_day():
    """Net metering with kWh credits on a seasonal TOU rate (SCE TOU-8, a meter whose midday
    periods end most months in surplus). drsim carries a period's kWh credits until the same
    period comes back; SAM moves them at a season change to the new season's period at the
    same time of day (ssc ``rate_data::transfer_surplus``), and its true-up pays the month's
    cumulative surplus over all periods (``ur_calc``: ``monthly_cumulative_excess_energy``),
    not the credits left by period. The months before the first season change agree to the
    cent; after it drsim follows its own rule exactly, and both years' bills differ."""
    rate = commercial(SCE)
    load, gen = synthetic_load(420.0), pv_kw(1500.0)
    tariff = urdb_to_tariff(rate)
    tariff["export"] = {"rule": "net_metering", "true_up": {"price_per_kwh": 0.03}}
    bill, acc = drsim_bill(tariff, load - gen)
    ours = ours_by_charge(bill, acc)
    sam = sam_bill(with_sell(rate, [0.0] * 5), load, gen, 0, ur_nm_yearend_sell_rate=0.03)
    np.testing.assert_allclose(ours["energy"][:5], sam["energy"][:5], rtol=0, atol=TOL)  # January-May: one season
    billed, paid = kwh_credits_by_period(tariff, load - gen, 0.03)
    cal = calendar(2018)
    ct = compile_tariff("x", TypeAdapter(Tariff).validate_python(tariff), cal)
    np.testing.assert_allclose(ours["energy"], billed @ ct.rate[:, 0], rtol=0, atol=TOL)
    np.testing.assert_allclose(-ours["true_up"][11], paid, rtol=0, atol=TOL)
    assert abs(ours["energy"][5:10] - sam["energy"][5:10]).max() > 100  # summer: SAM moved the credits
    assert abs(ours["true_up"][11] - sam["true_up"][11]) > 100


def test_sam_net_billing_with_credits_applied_next_month():
    """SAM's option 3 by default (``ur_nb_apply_credit_current_month = 0``) applies a month's
    export credits from the next month on; drsim applies them in the month earned (SAM with
    the flag set, which the differential tests use). Months differ; with every credit settled
    at the December true-up, the years agree."""
    rate, load, gen = METERS["fpl"]
    tariff = urdb_to_tariff(rate)
    tariff["export"] = OPTIONS[3][0](tariff)
    bill, acc = drsim_bill(tariff, load - gen)
    later = sam_bill(with_sell(rate, SELL[:1]), load, gen, 3, ur_nb_apply_credit_current_month=0)
    assert abs(bill.sum(axis=1) - later["total"]).max() > 1.0
    np.testing.assert_allclose(bill.sum(), later["total"].sum(), rtol=0, atol=TOL)


@pytest.mark.parametrize("dgrules, option", [("Net Metering", 0), ("Net Billing Instantaneous", 2),
                                             ("Net Billing Hourly", 3)])
@pytest.mark.parametrize("meter", ["fpl", "sdge"])
def test_imported_dgrules_and_sell_rates_bill_as_sam(meter, dgrules, option):
    """`drsim tariff import-urdb` reads dgrules and the tiers' sell rates into the export
    section; the imported tariff bills what SAM bills with the metering option PySAM's converter
    picks from the same rate (SAM's defaults: true-up in December at 0 $/kWh)."""
    rate, load, gen = METERS[meter]
    n = len(rate["energyratestructure"])
    rate = with_sell(rate, SELL[:n], dgrules)
    tariff = urdb_to_tariff(rate)
    assert tariff["export"]["rule"] == ("net_metering" if option == 0 else "net_billing")
    assert tools.URDBv8_to_ElectricityRates(copy.deepcopy(rate))["ur_metering_option"] == option
    assert_agree(rate, tariff, load, gen, None)
