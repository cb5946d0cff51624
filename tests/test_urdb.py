"""URDB import: real OpenEI rates billed by drsim and by NREL SAM (PySAM Utilityrate5) agree.

Fixtures are real URDB rate objects copied from public repositories (tests/data/urdb/SOURCES.md).
Each is imported with ``import_urdb``, billed by drsim on a deterministic synthetic 8760-hour
load over 2018 (1 January 2018 is a Monday, as SAM assumes), and billed by SAM configured from
the same URDB data through PySAM's own converter (``PySAM.UtilityRateTools``). Every month's
energy, demand, fixed and minimum charges and the annual total must agree within half a cent.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from pydantic import TypeAdapter

from sim.calendar import Calendar
from sim.errors import InputError
from sim.scenario.tariff import Tariff
from sim.tariffs.billing import CHARGES, bill_loads
from sim.tariffs.compile import compile_tariff
from sim.tariffs.urdb import import_urdb, read_urdb, tariff_yaml, urdb_source_note, urdb_to_tariff

DATA = Path(__file__).parent / "data" / "urdb"
TOL = 0.005  # half a cent
#: drsim bill columns compared with SAM's monthly outputs (demand may be split into flat and TOU columns)
C = {"energy": [CHARGES.index("energy")], "demand": [i for i, c in enumerate(CHARGES) if c.startswith("demand")],
     "fixed": [CHARGES.index("fixed")], "minimum": [CHARGES.index("minimum")]}


def col(bill: np.ndarray, charge: str) -> np.ndarray:
    """One charge of a (months, charges) bill, summed over its drsim columns."""
    return bill[:, C[charge]].sum(axis=1)

FPL = DATA / "fpl_rs1_residential_tiered.json"        # flat energy, 2 tiers, fixed (legacy field)
SCE = DATA / "sce_tou8_option_b.json"                 # seasonal TOU energy, flat + TOU demand, fixed
SDGE = DATA / "sdge_al_tou_secondary_items.json"      # API response: TOU energy (rate + adj), flat + TOU demand
SMUD = DATA / "smud_ci_tod3_items.json"               # API response: TOU energy, flat + TOU demand
ENTERGY = DATA / "entergy_lips_l_tiered_demand.json"  # demand tiers: refused

#: (fixture, kW scale of the synthetic load)
REAL = [(FPL, 1.6), (SCE, 420.0), (SDGE, 300.0), (SMUD, 700.0)]


def synthetic_load(scale: float, seed: int = 7) -> np.ndarray:
    """Hourly kW (= kWh per hour) for 8760 hours: morning and afternoon humps, a summer-peaking
    season and seeded lognormal noise. Deterministic."""
    h = np.arange(8760)
    day, hod = h // 24, h % 24
    daily = 0.55 + 0.45 * np.exp(-((hod - 15.5) / 3.5) ** 2) + 0.2 * np.exp(-((hod - 8) / 2.0) ** 2)
    seasonal = 1.0 + 0.4 * np.cos(2 * np.pi * (day - 200) / 365)
    weekly = np.where((day % 7) >= 5, 0.8, 1.0)  # 2018-01-01 is a Monday: days 5, 6 are the weekend
    noise = np.random.default_rng(seed).lognormal(0.0, 0.15, 8760)
    return scale * daily * seasonal * weekly * noise


def calendar(year: int) -> Calendar:
    start = dt.date(year, 1, 1)
    days = (dt.date(year + 1, 1, 1) - start).days
    return Calendar(start, days, 24, frozenset(), {})


def drsim_monthly(tariff: dict, load: np.ndarray, year: int = 2018) -> np.ndarray:
    """drsim's bill of one meter: (months, charges)."""
    cal = calendar(year)
    compiled = compile_tariff("urdb", TypeAdapter(Tariff).validate_python(tariff), cal)
    return bill_loads(compiled, load[None, :], cal, keep_monthly=True).monthly_by_customer[0]


def sam_monthly(rate: dict, load: np.ndarray, metering_option: int = 0) -> dict[str, np.ndarray]:
    """SAM's bill of the same meter, configured from the URDB rate by PySAM's converter."""
    ur5 = pytest.importorskip("PySAM.Utilityrate5")
    tools = pytest.importorskip("PySAM.UtilityRateTools")
    m = ur5.new()
    m.Lifetime.analysis_period = 1
    m.Lifetime.system_use_lifetime_output = 0
    m.Lifetime.inflation_rate = 0
    m.Load.load = load.tolist()
    m.Load.load_escalation = [0]
    m.SystemOutput.gen = [0.0] * len(load)
    m.SystemOutput.degradation = [0]
    er = m.ElectricityRates
    er.rate_escalation = [0]
    er.ur_monthly_fixed_charge = 0
    er.ur_monthly_min_charge = 0
    er.ur_annual_min_charge = 0
    er.assign(tools.URDBv8_to_ElectricityRates(copy.deepcopy(rate)))  # it edits the schedules in place
    lower = {k.lower(): v for k, v in rate.items()}
    if "fixedchargefirstmeter" not in lower and "fixedmonthlycharge" in lower:
        er.ur_monthly_fixed_charge = lower["fixedmonthlycharge"]  # legacy field the converter skips
    if "minmonthlycharge" in lower and "mincharge" not in lower:
        er.ur_monthly_min_charge = lower["minmonthlycharge"]
    er.ur_metering_option = metering_option  # 0: monthly net metering: tiers shared pro rata among periods
    m.execute(0)
    o = m.Outputs
    return {
        "energy": np.array(o.year1_monthly_ec_charge_without_system),
        "demand": np.array(o.year1_monthly_dc_fixed_without_system) + np.array(o.year1_monthly_dc_tou_without_system),
        "fixed": np.array(o.year1_monthly_fixed_without_system),
        "minimum": np.array(o.year1_monthly_minimum_without_system),
        "total": np.array(o.year1_monthly_utility_bill_wo_sys),
    }


def assert_agree(rate: dict, tariff: dict, load: np.ndarray, charges=("energy", "demand", "fixed", "minimum")):
    ours = drsim_monthly(tariff, load)
    sam = sam_monthly(rate, load)
    for c in charges:
        np.testing.assert_allclose(col(ours, c), sam[c], rtol=0, atol=TOL, err_msg=f"monthly {c} charge")
    np.testing.assert_allclose(ours.sum(), sam["total"].sum(), rtol=0, atol=TOL, err_msg="annual bill")
    return ours, sam


# --------------------------------------------------------------------------- differential


@pytest.mark.parametrize("path, scale", REAL, ids=[p.stem for p, _ in REAL])
def test_real_rates_agree_with_sam(path, scale):
    rate, _ = read_urdb(path)
    tariff = import_urdb(path)
    ours, sam = assert_agree(rate, tariff, synthetic_load(scale))
    assert sam["energy"].sum() > 0 and col(ours, "fixed").sum() > 0


def test_fpl_tiers_are_crossed_in_some_months_only():
    """The residential load straddles the 1000 kWh tier, so both tiers are exercised."""
    load = synthetic_load(1.6)
    month = np.repeat(np.arange(12), [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]).repeat(24)
    kwh = np.bincount(month, weights=load)
    assert (kwh > 1000).any() and (kwh < 1000).any()


def test_demand_charges_are_exercised():
    """Flat and TOU demand both bill on SCE TOU-8 and SDG&E AL-TOU."""
    for path, scale in REAL[1:3]:
        ours = drsim_monthly(import_urdb(path), synthetic_load(scale))
        assert col(ours, "demand").min() > 0


def _tiered_tou(rate: dict, summer_max: float, winter_max: float) -> dict:
    """A derived variant (not a real rate): every TOU period of SCE TOU-8 gets a second tier
    above ``max`` kWh (dearer by a different step in each period, so that how a tier is shared
    among periods matters), summer periods (2, 3, 4) and winter periods (0, 1) with their own bounds."""
    out = copy.deepcopy(rate)
    for i, period in enumerate(out["energyratestructure"]):
        base = period[0]
        period[:] = [dict(base, max=summer_max if i >= 2 else winter_max),
                     dict(base, rate=base["rate"] + 0.015 * (i + 1))]
    return out


@pytest.mark.parametrize("summer_max, winter_max", [(200_000.0, 200_000.0), (240_000.0, 150_000.0)])
def test_tiered_tou_shares_tiers_pro_rata_like_sam(summer_max, winter_max):
    """TOU with tiers: each month's tier energy is shared among periods pro rata (SAM's rule);
    seasonal bounds that never meet in a month are merged without changing any bill."""
    rate = _tiered_tou(json.loads(SCE.read_text()), summer_max, winter_max)
    tariff = urdb_to_tariff(rate)
    assert tariff["tiers"]["bounds_kwh"] == sorted({summer_max, winter_max})
    load = synthetic_load(420.0)
    ours, _ = assert_agree(rate, tariff, load)
    tiered = col(ours, "energy")  # the upper tier is reached in some months and not in others
    untiered = col(drsim_monthly(import_urdb(SCE), load), "energy")
    assert (tiered > untiered + 1).any() and np.isclose(tiered, untiered).any()


def chronological_energy(tariff: dict, load: np.ndarray) -> np.ndarray:
    """Monthly energy charges if each hour took the tier of the month's energy so far."""
    cal = calendar(2018)
    ct = compile_tariff("x", TypeAdapter(Tariff).validate_python(tariff), cal)
    month = np.repeat(cal.billing_month, 24)
    lo, hi = np.r_[0.0, ct.tier_bounds], np.r_[ct.tier_bounds, np.inf]
    out = np.zeros(12)
    for m in range(12):
        idx = np.flatnonzero(month == m)
        after = np.cumsum(load[idx])
        in_tier = np.clip(after[:, None], lo, hi) - np.clip((after - load[idx])[:, None], lo, hi)
        out[m] = (in_tier * ct.rate[ct.period[idx]]).sum()
    return out


def test_sam_net_billing_assigns_tiers_chronologically_drsim_does_not():
    """SAM's net-billing metering options (ur_metering_option 2-4, set from URDB dgrules 'Net
    Billing ...' / 'Buy All Sell All') bill each hour in the tier of the month's energy so far;
    drsim always shares tiers pro rata (SAM's net-metering options 0-1). With TOU the two differ."""
    rate = _tiered_tou(json.loads(SCE.read_text()), 240_000.0, 150_000.0)
    tariff = urdb_to_tariff(rate)
    load = synthetic_load(420.0)
    chrono = chronological_energy(tariff, load)
    sam_net_billing = sam_monthly(rate, load, metering_option=2)["energy"]
    np.testing.assert_allclose(sam_net_billing, chrono, rtol=0, atol=TOL)
    assert np.abs(col(drsim_monthly(tariff, load), "energy") - chrono).max() > 10.0


def test_daily_fixed_charge_matches_sam_over_the_year():
    """$/day fixed charges: drsim bills days x rate each month; SAM (via PySAM) bills
    rate x 365/12 every month. Years agree; months differ by design (docs/urdb.md)."""
    rate = json.loads(FPL.read_text())
    rate.pop("fixedmonthlycharge")
    rate.update(fixedchargefirstmeter=0.25, fixedchargeunits="$/day")
    tariff = urdb_to_tariff(rate)
    assert tariff["fixed_per_day"] == 0.25 and "fixed_per_month" not in tariff
    ours, sam = assert_agree(rate, tariff, synthetic_load(1.6), charges=("energy", "minimum"))
    assert col(ours, "fixed")[0] == pytest.approx(31 * 0.25)
    assert sam["fixed"][0] == pytest.approx(0.25 * 365 / 12)


def test_minimum_charge_matches_sam():
    rate = json.loads(FPL.read_text())
    rate.update(mincharge=95.0, minchargeunits="$/month")
    tariff = urdb_to_tariff(rate)
    ours, sam = assert_agree(rate, tariff, synthetic_load(1.6))
    assert sam["minimum"].max() > 0  # the minimum binds in the low months


# --------------------------------------------------------------------------- calendar


def test_weekdays_follow_the_real_calendar_not_sams_monday_start():
    """drsim places weekday/weekend schedules on real dates. SAM assumes 1 January is a Monday,
    so on 2019 (1 January a Tuesday) SAM would price Saturday 5 January as a weekday."""
    tariff = import_urdb(SDGE)
    cal = calendar(2019)
    compiled = compile_tariff("sdge", TypeAdapter(Tariff).validate_python(tariff), cal)
    rate, _ = read_urdb(SDGE)
    wk, we = np.array(rate["energyweekdayschedule"]), np.array(rate["energyweekendschedule"])
    for d in range(cal.days):
        date = dt.date(2019, 1, 1) + dt.timedelta(days=d)
        row = (we if date.weekday() >= 5 else wk)[date.month - 1]
        got = [int(compiled.period_names[p][1:]) for p in compiled.period[d * 24:(d + 1) * 24]]
        assert got == row.tolist(), date
    # SAM's Monday-start calendar: day index 4 of the year is a Friday (a weekday)
    sam_is_weekday = [(5 - (d % 7)) > 0 for d in range(7)]
    assert sam_is_weekday[4] and dt.date(2019, 1, 5).weekday() == 5
    # so the same load bills differently in drsim on 2019 than SAM's 2019-agnostic year
    load = synthetic_load(300.0)
    on_2019 = drsim_monthly(tariff, load, year=2019)
    on_2018 = drsim_monthly(tariff, load, year=2018)
    assert not np.allclose(col(on_2019, "energy"), col(on_2018, "energy"))


# --------------------------------------------------------------------------- format


def test_yaml_round_trip_and_header():
    d = import_urdb(SDGE)
    text = tariff_yaml(d, urdb_source_note(SDGE))
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("6772f0268322c2ebdc04e77e" in line for line in header)
    assert any("San Diego Gas & Electric Co" in line for line in header)
    assert any("AL-TOU Secondary" in line for line in header)
    assert yaml.safe_load(text) == d
    TypeAdapter(Tariff).validate_python(yaml.safe_load(text))


def test_items_take_the_first_and_say_so(tmp_path):
    rate, _ = read_urdb(FPL)
    other = copy.deepcopy(rate)
    other["name"] = "second"
    f = tmp_path / "two.json"
    f.write_text(json.dumps({"items": [rate, other]}))
    assert "item 1 of 2" in import_urdb(f)["description"]
    assert "item 1 of 2" in urdb_source_note(f)
    assert "second" in import_urdb(f, index=1)["description"]
    with pytest.raises(InputError, match="index 5 is out of range: the file has 2 rate"):
        import_urdb(f, index=5)


def test_fixture_shapes():
    assert import_urdb(FPL)["type"] == "flat"
    assert import_urdb(FPL)["tiers"]["bounds_kwh"] == [1000.0]
    sce = import_urdb(SCE)
    assert sce["type"] == "tou" and set(sce["seasons"]) == {"oct_may", "jun_sep"}
    assert sce["demand"]["per_kw_month"] == 15.57 and "tou" in sce["demand"]
    assert import_urdb(SDGE)["demand"]["tou"]["periods"]["p1"]["per_kw_month"] == pytest.approx(45.61)


# --------------------------------------------------------------------------- bad input


def _fpl(**changes):
    rate = json.loads(FPL.read_text())
    for k, v in changes.items():
        if v is None:
            rate.pop(k, None)
        else:
            rate[k] = v
    return rate


_SCE = json.loads(SCE.read_text())
_TWO_PERIODS = [[{"max": 500, "rate": 0.1}, {"rate": 0.2}], [{"max": 800, "rate": 0.3}, {"rate": 0.4}]]
_SCHED_TWO = [[0] * 12 + [1] * 12 for _ in range(12)]

BAD = {
    "no schedules": (_fpl(energyweekdayschedule=None, energyweekendschedule=None),
                     ["energyweekdayschedule: missing", "energyweekendschedule: missing"]),
    "no energy structure": (_fpl(energyratestructure=None), ["energyratestructure: missing"]),
    "daily tiers": (_fpl(energyratestructure=[[{"max": 10.5, "unit": "kWh daily", "rate": 0.4}, {"rate": 0.5}]]),
                    ["energyratestructure[0][0].unit: tier unit 'kWh daily' is not supported"]),
    "kWh/kW tiers": (_fpl(energyratestructure=[[{"max": 200, "unit": "kWh/kW", "rate": 0.1}, {"rate": 0.05}]]),
                     ["tier unit 'kWh/kW' is not supported"]),
    "bounds differ in a month": (_fpl(energyratestructure=_TWO_PERIODS, energyweekdayschedule=_SCHED_TWO,
                                      energyweekendschedule=_SCHED_TWO),
                                 ["periods 0 and 1 both apply in Jan but have different tier bounds"]),
    "tier without max": (_fpl(energyratestructure=[[{"rate": 0.1}, {"rate": 0.2}]]),
                         ["energyratestructure[0][0].max: missing"]),
    "max on last tier": (_fpl(energyratestructure=[[{"max": 1000, "rate": 0.1}, {"max": 5000, "rate": 0.2}]]),
                         ["energyratestructure[0][1].max: the last tier has max 5000"]),
    "bounds decrease": (_fpl(energyratestructure=[[{"max": 1000, "rate": 0.1}, {"max": 500, "rate": 0.2},
                                                   {"rate": 0.3}]]), ["tier bounds must increase"]),
    "period not in structure": (_fpl(energyweekdayschedule=[[0] * 23 + [3]] * 12),
                                ["energyweekdayschedule: period indices must be integers 0..0"]),
    "schedule shape": (_fpl(energyweekendschedule=[[0] * 24] * 11), ["must be 12 rows (months) of 24 hours; got 11"]),
    "yearly minimum": (_fpl(mincharge=100.0, minchargeunits="$/year"),
                       ["minchargeunits: a minimum charge in '$/year' is not supported"]),
    "daily minimum": (_fpl(mincharge=1.0, minchargeunits="$/day"), ["a minimum charge in '$/day' is not supported"]),
    "kVA demand": (_fpl(flatdemandstructure=[[{"rate": 5.0}]], flatdemandmonths=[0] * 12, flatdemandunit="kVA"),
                   ["flatdemandunit: demand unit 'kVA' is not supported (only kW)"]),
    "flat demand without months": (_fpl(flatdemandstructure=[[{"rate": 5.0}]]), ["flatdemandmonths: missing"]),
    "TOU demand without schedules": (_fpl(demandratestructure=[[{"rate": 5.0}]]),
                                     ["demandweekdayschedule: missing", "demandweekendschedule: missing"]),
    "ratchet": (dict(_SCE, lookbackpercent=0.8, lookbackrange=11), ["lookbackpercent: demand ratchets"]),
    "fuel adjustments": (_fpl(fueladjustmentsmonthly=[0.01] * 12), ["fueladjustmentsmonthly"]),
    "negative price": (_fpl(energyratestructure=[[{"max": 1000, "rate": 0.05, "adj": -0.08}, {"rate": 0.1}]]),
                       ["negative energy price"]),
    "text rate": (_fpl(energyratestructure=[[{"rate": "0.1"}]]), ["rate and adj must be numbers"]),
    "buy all sell all": (_fpl(dgrules="Buy All Sell All"), ["dgrules: 'Buy All Sell All' bills the load and the "
                                                            "generation on two meters"]),
    "unknown dgrules": (_fpl(dgrules="Net Metering Plus"), ["dgrules: unknown rule 'Net Metering Plus'"]),
    "sell by tier": (_fpl(dgrules="Net Billing Instantaneous",
                          energyratestructure=[[{"max": 1000, "rate": 0.1, "sell": 0.03}, {"rate": 0.12, "sell": 0.04}]]),
                     ["energyratestructure[0]: sell rates differ between the period's tiers"]),
    "negative sell": (_fpl(dgrules="Net Billing Hourly", energyratestructure=[[{"rate": 0.1, "sell": -0.02}]]),
                      ["energyratestructure[0][0].sell: must be a number >= 0"]),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_urdb_gives_input_error(name, tmp_path):
    rate, expected = BAD[name]
    f = tmp_path / "rate.json"
    f.write_text(json.dumps(rate))
    with pytest.raises(InputError) as e:
        import_urdb(f)
    text = str(e.value)
    for fragment in expected:
        assert fragment in text, text
    for line in text.splitlines():  # one problem per line, each naming the file
        assert line.startswith(str(f) + ": ")


def test_a_capped_last_demand_tier_is_refused():
    """Entergy LIPS-L's last demand tier has a max (500 kW): SAM would leave the demand above
    it unbilled; drsim refuses it, as it refuses a max on the last energy tier."""
    with pytest.raises(InputError) as e:
        import_urdb(ENTERGY)
    assert str(e.value) == (f"{ENTERGY}: flatdemandstructure[0][2].max: the last demand tier has max 500 kW: demand "
                            "above it would go unbilled (SAM) or be undefined; remove it to make the last tier "
                            "open-ended")


def _open_ended(rate: dict) -> dict:
    """Entergy LIPS-L with its last demand tier's max removed (a derived variant)."""
    out = copy.deepcopy(rate)
    del out["flatdemandstructure"][0][-1]["max"]
    return out


def test_real_demand_tiers_agree_with_sam():
    """Entergy LIPS-L's three flat demand tiers (0 / 13.48 / 14.48 $/kW above 300 and 400 kW),
    the last made open-ended, on a load whose monthly maximum lies in each tier in some month:
    drsim's blocks bill what SAM bills, month by month."""
    rate = _open_ended(read_urdb(ENTERGY)[0])
    tariff = urdb_to_tariff(rate)
    assert tariff["demand"]["blocks"] == {"bounds_kw": [300.0, 400.0], "per_kw_month": [0.0, 13.48, 14.48]}
    load = synthetic_load(200.0)          # monthly maxima 167-413 kW: below, inside and above the tiers
    ours, sam = assert_agree(rate, tariff, load)
    demand = col(ours, "demand")
    assert (demand == 0).any() and (demand > 0).any()


def _tiered_demand(rate: dict) -> dict:
    """A derived variant of SCE TOU-8 (not a real rate): the flat demand charge in two tiers
    with other bounds in summer (June-September, period 1) than in the rest of the year, and
    every TOU demand period in two tiers (SAM wants the same bounds for every period of a
    month; drsim bills any)."""
    out = copy.deepcopy(rate)
    flat = out["flatdemandstructure"][0][0]["rate"]
    out["flatdemandstructure"] = [[{"max": 450.0, "rate": flat}, {"rate": flat - 4.0}],
                                  [{"max": 600.0, "rate": flat + 2.0}, {"max": 700.0, "rate": flat}, {"rate": 1.0}]]
    out["flatdemandmonths"] = [0] * 5 + [1] * 4 + [0] * 3
    for i, period in enumerate(out["demandratestructure"]):
        r = period[0]["rate"]
        period[:] = [{"max": 400.0, "rate": r}, {"rate": r * 1.5 + 1.0 + i}]  # SAM: same bounds in a month
    return out


def test_tiered_flat_and_tou_demand_agree_with_sam():
    """Flat demand tiers whose bounds differ between months (merged into one set of blocks)
    and TOU demand periods with tiers of their own bill what SAM bills, month by month."""
    rate = _tiered_demand(json.loads(SCE.read_text()))
    tariff = urdb_to_tariff(rate)
    blocks = tariff["demand"]["blocks"]
    assert blocks["bounds_kw"] == [450.0, 600.0, 700.0]
    assert [len(r) if isinstance(r, list) else 1 for r in blocks["per_kw_month"]] == [12, 12, 12, 12]
    assert all("blocks" in p for p in tariff["demand"]["tou"]["periods"].values())
    load = synthetic_load(420.0)          # monthly maxima 351-868 kW: every flat block is reached
    ours, _ = assert_agree(rate, tariff, load)
    plain = col(drsim_monthly(import_urdb(SCE), load), "demand")
    diff = np.abs(col(ours, "demand") - plain)
    assert (diff > 1.0).sum() >= 8 and (diff == 0).any()   # months above a bound change; those below do not


def test_demand_blocks_bill_piecewise_linear_in_the_maximum():
    """A block charge is continuous and piecewise linear in the month's maximum, with the
    block's rate as its slope; one block equals the one-rate charge bit for bit."""
    from sim.tariffs.charges import in_blocks

    kw = np.linspace(0.0, 1000.0, 2001)
    bounds, rates = np.array([100.0, 250.0]), np.array([12.0, 8.0, 3.0])
    bill = in_blocks(kw, bounds, rates)
    slope = np.diff(bill) / np.diff(kw)
    mid = (kw[1:] + kw[:-1]) / 2
    np.testing.assert_allclose(slope, np.select([mid < 100, mid < 250], [12.0, 8.0], 3.0), rtol=1e-9)
    np.testing.assert_allclose(bill[kw == 250.0], 100 * 12 + 150 * 8)
    np.testing.assert_array_equal(in_blocks(kw, np.zeros(0), np.array([7.5])), kw * 7.5)


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"items": []}', "items: no rates in the file"),
    ("[1, 2]", "[0]: expected a URDB rate object; got int"),
])
def test_unreadable_files(tmp_path, content, message):
    f = tmp_path / "rate.json"
    f.write_text(content)
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        import_urdb(f)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read URDB file"):
        import_urdb(tmp_path / "nope.json")
