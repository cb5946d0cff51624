"""Every tariff component billed by drsim equals the loop-based reference calculator
(tests/reference.py) to the cent, month by month and charge by charge."""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pytest
from pydantic import TypeAdapter

from sim.calendar import Calendar
from sim.scenario.tariff import Tariff
from sim.tariffs import CHARGES, bill_loads, compile_tariff

from .reference import reference_bills

TOU = {
    "type": "tou",
    "periods": {"peak": {"price_per_kwh": 1.1}, "flat": {"price_per_kwh": 0.6}, "valley": {"price_per_kwh": 0.25}},
    "seasons": {"summer": {"months": [6, 7, 8]}, "rest": {"months": [1, 2, 3, 4, 5, 9, 10, 11, 12]}},
    "schedule": [
        {"seasons": ["summer"], "day_types": ["weekday"],
         "hours": {"peak": ["14:00-19:00"], "flat": ["07:00-14:00", "19:00-23:00"], "valley": ["23:00-07:00"]}},
        {"seasons": "all", "day_types": ["weekend"], "hours": {"flat": ["09:00-21:00"], "valley": ["21:00-09:00"]}},
        {"seasons": ["rest"], "day_types": ["weekday"],
         "hours": {"peak": ["17:00-21:00"], "flat": ["08:00-17:00", "21:00-22:00"], "valley": ["22:00-08:00"]}},
    ],
}


def _with(base, **extra):
    d = copy.deepcopy(base)
    d.update(extra)
    return d


FLAT = {"type": "flat", "price_per_kwh": 0.5}
CASES = {
    "flat_fixed_tax": _with(FLAT, fixed_per_month=8.0, fixed_per_day=0.2, tax_pct=13.0),
    "inclining_blocks": _with(FLAT, price_per_kwh=[0.52, 0.57, 0.82], tiers={"bounds_kwh": [180, 280]}),
    "declining_blocks_adders": _with(FLAT, tiers={"bounds_kwh": [200], "adders_per_kwh": [0.0, -0.15]}),
    "tou_tiers_pro_rata": _with(TOU, tiers={"bounds_kwh": [250, 400], "adders_per_kwh": [0.0, 0.05, 0.3]}),
    "tou_per_period_tier_prices": _with(TOU, periods={"peak": {"price_per_kwh": [1.0, 1.3]},
                                                      "flat": {"price_per_kwh": [0.5, 0.7]},
                                                      "valley": {"price_per_kwh": [0.2, 0.25]}},
                                        tiers={"bounds_kwh": [300]}),
    "demand_flat_monthly_rates": _with(FLAT, demand={"per_kw_month": [10, 10, 10, 10, 10, 20, 20, 20, 10, 10, 10, 10]}),
    "demand_tou_and_ratchet": _with(TOU, demand={
        "per_kw_month": 12.0, "ratchet": {"share": 0.8, "months": 2},
        "tou": {"periods": {"on": {"per_kw_month": 7.0}, "off": {"per_kw_month": 0.0}},
                "schedule": [{"day_types": ["weekday"], "hours": {"on": ["12:00-20:00"], "off": ["20:00-12:00"]}},
                             {"day_types": ["weekend"], "hours": {"off": ["00:00-24:00"]}}]}}),
    "demand_blocks_monthly_and_ratchet": _with(FLAT, demand={
        "blocks": {"bounds_kw": [1.0, 2.5], "per_kw_month": [10.0, [6, 6, 6, 6, 6, 9, 9, 9, 6, 6, 6, 6], 2.0]},
        "ratchet": {"share": 0.9, "months": 2}}),
    "demand_tou_blocks": _with(TOU, demand={
        "tou": {"periods": {"on": {"blocks": {"bounds_kw": [1.5], "per_kw_month": [9.0, 4.0]}},
                            "off": {"per_kw_month": 1.0}},
                "schedule": [{"day_types": ["weekday"], "hours": {"on": ["12:00-20:00"], "off": ["20:00-12:00"]}},
                             {"day_types": ["weekend"], "hours": {"off": ["00:00-24:00"]}}]}}),
    "critical_peak_adder": _with(TOU, critical_peak={"price_adder_per_kwh": 2.0, "events": [
        {"date": dt.date(2025, 7, 15), "hours": "14:00-17:00"}, {"date": dt.date(2025, 8, 5), "hours": "15:00-18:00"}]}),
    "volume_rebate": _with(FLAT, volume_rebate={"threshold_kwh": 300, "cost_saving_per_kwh": 0.1, "share": 0.5}),
    "load_factor_bands": _with(FLAT, load_factor=[{"max": 0.4, "adder_per_kwh": 0.03},
                                                  {"min": 0.6, "adder_per_kwh": -0.02}]),
    "minimum_bill": _with(FLAT, price_per_kwh=0.01, minimum_per_month=50.0, tax_pct=5.0),
}


def _loads(n, stamps, seed):
    """Hourly loads with a daily cycle, a summer bump and noise; some customers peaky."""
    rng = np.random.default_rng(seed)
    hours = np.array([ts.hour for ts in stamps])
    month = np.array([ts.month for ts in stamps])
    shape = 1 + 0.6 * np.sin((hours - 11) / 24 * 2 * np.pi) + 0.3 * np.isin(month, [6, 7, 8])
    scale = rng.lognormal(0, 0.5, size=(n, 1))
    return scale * shape * rng.gamma(8.0, 1 / 8.0, size=(n, len(stamps)))


@pytest.mark.parametrize("name", list(CASES))
def test_component_matches_reference(name):
    spec = CASES[name]
    tariff = TypeAdapter(Tariff).validate_python(spec)
    cal = Calendar(dt.date(2025, 5, 1), 123, 24, frozenset(), {})  # May to August, whole months
    stamps = cal.timestamps.astype("datetime64[m]").tolist()
    load = _loads(4, stamps, seed=len(name))
    acc = bill_loads(compile_tariff(name, tariff, cal), load, cal, keep_monthly=True)
    for i in range(load.shape[0]):
        ref = reference_bills(spec, stamps, load[i].tolist(), 1.0)
        for m, (key, charges) in enumerate(ref.items()):
            for c, amount in charges.items():
                got = acc.monthly_by_customer[i, m, CHARGES.index(c)]
                assert abs(got - amount) < 0.005, (name, i, key, c, got, amount)


def test_annual_tiers_carry_over_months_and_reset_in_january():
    """Annual blocks: the year-to-date energy decides the tier; 1 January starts afresh."""
    spec = _with(FLAT, price_per_kwh=[0.5, 0.8], tiers={"basis": "annual", "bounds_kwh": [1000]})
    tariff = TypeAdapter(Tariff).validate_python(spec)
    cal = Calendar(dt.date(2025, 11, 1), 92, 24, frozenset(), {})  # Nov, Dec, Jan
    load = np.full((1, cal.n_steps), 1.0)  # 720, 744, 744 kWh
    acc = bill_loads(compile_tariff("annual", tariff, cal), load, cal, keep_monthly=True)
    energy = acc.monthly_by_customer[0, :, 0]
    assert energy[0] == pytest.approx(720 * 0.5)
    assert energy[1] == pytest.approx(280 * 0.5 + 464 * 0.8)
    assert energy[2] == pytest.approx(744 * 0.5)


def test_season_multipliers_scale_prices_by_season():
    """Hydro wet/dry: the same period costs the season's factor times its price."""
    spec = _with(TOU, season_multipliers={"summer": 0.8, "rest": 1.2})
    tariff = TypeAdapter(Tariff).validate_python(spec)
    cal = Calendar(dt.date(2025, 5, 1), 62, 24, frozenset(), {})
    plain = compile_tariff("plain", TypeAdapter(Tariff).validate_python(TOU), cal)
    wet_dry = compile_tariff("wetdry", tariff, cal)
    factor = np.where(np.isin(np.repeat(cal.month, 24), [6, 7, 8]), 0.8, 1.2)
    np.testing.assert_allclose(wet_dry.price_per_kwh, plain.price_per_kwh * factor, rtol=1e-12)


def test_rtp_prices_follow_the_series(tmp_path):
    (tmp_path / "prices.csv").write_text("price\n" + "\n".join(str(0.1 + (k % 24) / 100) for k in range(48)))
    spec = {"type": "rtp", "prices": {"csv": str(tmp_path / "prices.csv")}, "multiplier": 1.5,
            "adder_per_kwh": 0.02, "floor_per_kwh": 0.2}
    tariff = TypeAdapter(Tariff).validate_python(spec)
    cal = Calendar(dt.date(2025, 1, 1), 2, 24, frozenset(), {})
    t = compile_tariff("rtp", tariff, cal)
    series = 0.1 + (np.arange(48) % 24) / 100
    np.testing.assert_allclose(t.price_per_kwh, np.maximum(series * 1.5 + 0.02, 0.2), rtol=1e-12)
    acc = bill_loads(t, np.ones((1, 48)), cal)
    assert acc.total[0, 0] == pytest.approx(float(np.maximum(series * 1.5 + 0.02, 0.2).sum()))


def test_capacity_charge_per_contracted_kva():
    spec = _with(FLAT, capacity={"per_kva_month": 26.0})
    tariff = TypeAdapter(Tariff).validate_python(spec)
    cal = Calendar(dt.date(2025, 1, 1), 59, 24, frozenset(), {})
    acc = bill_loads(compile_tariff("cap", tariff, cal), np.ones((2, cal.n_steps)), cal,
                     contract_kva=np.array([100.0, 315.0]))
    np.testing.assert_allclose(acc.total[:, CHARGES.index("capacity")], [2 * 2600.0, 2 * 26 * 315.0])


def test_holidays_billed_at_their_own_prices():
    """A holiday rule with its own period bills holidays at that period's price."""
    spec = _with(TOU, periods={**TOU["periods"], "holiday": {"price_per_kwh": 0.1}})
    spec["schedule"] = spec["schedule"] + [{"day_types": ["holiday"], "hours": {"holiday": ["00:00-24:00"]}}]
    tariff = TypeAdapter(Tariff).validate_python(spec)
    hol = dt.date(2025, 5, 1)
    cal = Calendar(dt.date(2025, 4, 30), 3, 24, frozenset({hol}), {hol: "Labour Day"})
    t = compile_tariff("h", tariff, cal)
    assert (t.price_per_kwh[24:48] == 0.1).all() and (t.price_per_kwh[:24] != 0.1).all()
