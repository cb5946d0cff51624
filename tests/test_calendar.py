"""The time axis follows the real calendar: weekdays, leap years, holidays, billing months."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.calendar import HOLIDAY, WEEKDAY, WEEKEND, Calendar

from .conftest import build, scenario_dict


def _cal(start, days, step=60, holidays=None):
    data = scenario_dict(horizon={"start": start, "days": days, "step_minutes": step})
    if holidays:
        data["calendar"] = {"holidays": holidays}
    return Calendar.from_scenario(build(data))


@settings(max_examples=40, deadline=None)
@given(start=st.dates(dt.date(1990, 1, 1), dt.date(2090, 12, 31)), days=st.integers(1, 800))
def test_days_match_python_datetime(start, days):
    """Date, weekday and month of every day agree with the standard library."""
    cal = _cal(start.isoformat(), days)
    ref = [start + dt.timedelta(days=i) for i in range(days)]
    assert [d.weekday() for d in ref] == cal.weekday.tolist()
    assert [d.month for d in ref] == cal.month.tolist()
    assert [d.year for d in ref] == cal.year.tolist()
    assert cal.n_months == len({(d.year, d.month) for d in ref})


def test_leap_year_has_february_29():
    cal = _cal("2024-01-01", 366)
    assert np.datetime64("2024-02-29") in cal.dates
    assert cal.month_fraction.tolist() == [1.0] * 12
    assert cal.n_steps == 366 * 24


def test_steps_per_day_and_timestamps():
    cal = _cal("2025-03-01", 2, step=15)
    assert cal.steps_per_day == 96 and cal.n_steps == 192
    assert str(cal.timestamps[1]) == "2025-03-01T00:15"
    assert cal.hour[4] == 1 and cal.hour[-1] == 23


def test_holidays_from_package_and_custom_dates():
    """National Day (1 Oct) in China is a holiday; a custom date is too; day types follow."""
    cal = _cal("2025-09-28", 10, holidays={"country": "CN", "dates": ["2025-09-29"]})
    hol = {str(d) for d in cal.dates[cal.is_holiday]}
    assert {"2025-10-01", "2025-09-29"} <= hol
    assert cal.day_type[cal.dates.tolist().index(dt.date(2025, 10, 1))] == HOLIDAY
    assert cal.day_type[cal.dates.tolist().index(dt.date(2025, 9, 30))] == WEEKDAY
    # 2025-09-28 is a Sunday worked in the National Day arrangement: a weekday
    assert cal.day_type[0] == WEEKDAY


def test_make_up_working_days_are_weekdays():
    """China's 2025 make-up working days (State Council arrangement; the `holidays` package's
    weekend_workdays) are weekdays: the other weekends stay weekends; without
    make_up_workdays they are weekend days; custom workdays count only on weekends."""
    made_up = {dt.date(2025, 1, 26), dt.date(2025, 2, 8), dt.date(2025, 4, 27), dt.date(2025, 9, 28),
               dt.date(2025, 10, 11)}
    cal = _cal("2025-01-01", 365, holidays={"country": "CN"})
    assert set(cal.workday_dates) == made_up
    dates = cal.dates.tolist()
    weekend = {d for d in dates if d.weekday() >= 5}
    for d in weekend:
        expected = WEEKDAY if d in made_up else (HOLIDAY if d in cal.holiday_dates else WEEKEND)
        assert cal.day_type[dates.index(d)] == expected, d
    off = _cal("2025-01-01", 365, holidays={"country": "CN", "make_up_workdays": False})
    assert not off.workday_dates and all(off.day_type[dates.index(d)] != WEEKDAY for d in weekend)
    extra = _cal("2026-03-02", 14, holidays={"workdays": ["2026-03-07", "2026-03-09"]})  # a Saturday, a Monday
    assert set(extra.workday_dates) == {dt.date(2026, 3, 7)} and extra.day_type[5] == WEEKDAY


def test_a_make_up_working_day_takes_weekday_prices():
    """On Sunday 26 January 2025 (worked) a TOU tariff bills its weekday hours."""
    from sim.tariffs.compile import compile_tariff

    data = scenario_dict(horizon={"start": "2025-01-13", "days": 14, "step_minutes": 60})
    data["calendar"] = {"holidays": {"country": "CN"}}
    weekday_hours = data["tariffs"]["tou"]["schedule"][0]["hours"]
    data["tariffs"]["tou"]["schedule"] = [{"day_types": ["weekday"], "hours": weekday_hours},
                                          {"day_types": ["weekend"], "hours": {"flat": ["09:00-21:00"],
                                                                               "valley": ["21:00-09:00"]}}]
    sc = build(data)
    cal = Calendar.from_scenario(sc)
    name, spec = next((n, t) for n, t in sc.tariffs.items() if getattr(t, "schedule", None))
    period = compile_tariff(name, spec, cal).period.reshape(cal.days, 24)
    worked, monday, sunday = (cal.dates.tolist().index(dt.date(2025, 1, d)) for d in (26, 20, 19))
    assert (period[worked] == period[monday]).all()
    assert (period[sunday] != period[monday]).any()      # the tariff's weekend hours differ


def test_subdivision_holidays():
    """US-CA has César Chávez Day on 31 March (a state holiday, not federal)."""
    ca = _cal("2025-03-31", 1, holidays={"country": "US", "subdivision": "CA"})
    us = _cal("2025-03-31", 1, holidays={"country": "US"})
    assert ca.is_holiday[0] and not us.is_holiday[0]


def test_partial_months_are_prorated():
    cal = _cal("2025-01-20", 20)  # 12 days of January, 8 of February
    np.testing.assert_allclose(cal.month_fraction, [12 / 31, 8 / 28])
    assert cal.month_labels == ["2025-01", "2025-02"]
