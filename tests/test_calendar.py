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
    # 2025-09-28 is a Sunday and not a holiday in the package's list
    assert cal.day_type[0] in (WEEKEND, HOLIDAY)


def test_subdivision_holidays():
    """US-CA has César Chávez Day on 31 March (a state holiday, not federal)."""
    ca = _cal("2025-03-31", 1, holidays={"country": "US", "subdivision": "CA"})
    us = _cal("2025-03-31", 1, holidays={"country": "US"})
    assert ca.is_holiday[0] and not us.is_holiday[0]


def test_partial_months_are_prorated():
    cal = _cal("2025-01-20", 20)  # 12 days of January, 8 of February
    np.testing.assert_allclose(cal.month_fraction, [12 / 31, 8 / 28])
    assert cal.month_labels == ["2025-01", "2025-02"]
