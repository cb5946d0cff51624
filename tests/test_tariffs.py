"""Tariff compilation and billing against independent, loop-based references."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from sim.calendar import Calendar
from sim.tariffs import bill_loads, compile_tariff

from .conftest import build, scenario_dict

SEASONAL = {
    "type": "tou",
    "fixed_per_month": 10.0,
    "periods": {"peak": {"price_per_kwh": 1.2}, "flat": {"price_per_kwh": 0.7},
                "valley": {"price_per_kwh": 0.3}},
    "seasons": {"summer": {"months": [6, 7, 8, 9]}, "other": {"months": [1, 2, 3, 4, 5, 10, 11, 12]}},
    "holidays_as": "weekend",
    "schedule": [
        {"seasons": ["summer"], "day_types": ["weekday"],
         "hours": {"peak": ["13:30-18:00"], "flat": ["07:00-13:30", "18:00-22:00"], "valley": ["22:00-07:00"]}},
        {"seasons": ["summer"], "day_types": ["weekend"],
         "hours": {"flat": ["08:00-22:00"], "valley": ["22:00-08:00"]}},
        {"seasons": ["other"], "day_types": ["weekday", "weekend"],
         "hours": {"peak": ["18:00-21:00"], "flat": ["06:00-18:00", "21:00-23:00"], "valley": ["23:00-06:00"]}},
        {"seasons": ["other"], "day_types": ["holiday"], "hours": {"valley": ["00:00-24:00"]}},
    ],
}


def _reference_period(ts: dt.datetime, holidays: set, tariff: dict) -> str:
    """Which period applies at a moment, read straight from the tariff text (no arrays)."""
    season = next(n for n, s in tariff["seasons"].items() if ts.month in s["months"])
    day = "holiday" if ts.date() in holidays else ("weekend" if ts.weekday() >= 5 else "weekday")
    rules = [r for r in tariff["schedule"] if season in r.get("seasons", [season]) and day in r["day_types"]]
    if not rules and day == "holiday":
        day = tariff["holidays_as"]
        rules = [r for r in tariff["schedule"] if season in r.get("seasons", [season]) and day in r["day_types"]]
    (rule,) = rules
    minute = ts.hour * 60 + ts.minute
    for period, ranges in rule["hours"].items():
        for text in ranges:
            a, b = text.split("-")
            a = int(a[:2]) * 60 + int(a[3:])
            b = int(b[:2]) * 60 + int(b[3:])
            if (a < b and a <= minute < b) or (a >= b and (minute >= a or minute < b)):
                return period
    raise AssertionError("no period")


def _setup(start="2025-05-25", days=70, step=30):
    data = scenario_dict(horizon={"start": start, "days": days, "step_minutes": step},
                         calendar={"holidays": {"country": "CN"}})
    data["tariffs"]["seasonal"] = SEASONAL
    sc = build(data)
    cal = Calendar.from_scenario(sc)
    return sc, cal, compile_tariff("seasonal", sc.tariffs["seasonal"], cal)


def test_compiled_periods_match_reference_lookup():
    """Every step's period equals a direct reading of the schedule (seasons, day types, holidays)."""
    sc, cal, t = _setup()
    holidays = set(cal.holiday_dates)
    assert holidays, "the horizon should contain a holiday (Dragon Boat Festival 2025-05-31)"
    for k, ts in enumerate(cal.timestamps.astype("datetime64[m]").tolist()):
        assert t.period_names[t.period[k]] == _reference_period(ts, holidays, SEASONAL), ts


def test_bill_matches_reference_calculator():
    """Bills of random loads equal a plain loop over customers and steps, to the cent."""
    sc, cal, t = _setup()
    rng = np.random.default_rng(3)
    n, spd = 7, cal.steps_per_day
    load = rng.gamma(2.0, 0.8, size=(n, cal.n_steps))
    acc = bill_loads(t, load, cal)
    prices = {"peak": 1.2, "flat": 0.7, "valley": 0.3}
    holidays = set(cal.holiday_dates)
    ref = np.zeros(n)
    stamps = cal.timestamps.astype("datetime64[m]").tolist()
    for i in range(n):
        for k, ts in enumerate(stamps):
            ref[i] += load[i, k] * 0.5 * prices[_reference_period(ts, holidays, SEASONAL)]
    # fixed: 7 of 31 May days, June, July, 2 of 31 August days
    ref += 10.0 * (7 / 31 + 1 + 1 + 2 / 31)
    assert np.abs(acc.bill - ref).max() < 0.005


@settings(max_examples=30, deadline=None)
@given(k=st.floats(0.01, 100.0))
def test_energy_charge_is_linear_in_price(k):
    """Scaling every price by k scales every energy charge by k (rtol 1e-12)."""
    sc, cal, t = _setup(days=3)
    load = np.random.default_rng(0).random((5, cal.n_steps))
    scaled = dataclasses.replace(t, rate=k * t.rate)
    a, b = bill_loads(t, load, cal), bill_loads(scaled, load, cal)
    assert_allclose(b.total[:, 0], k * a.total[:, 0], rtol=1e-12)


def test_flat_tariff_compiles_to_one_price():
    sc, cal, _ = _setup(days=2)
    t = compile_tariff("flat", sc.tariffs["flat"], cal)
    assert t.period_names == ("all",) and (t.price_per_kwh == 0.5).all()
