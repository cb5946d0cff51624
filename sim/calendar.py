"""The time axis of a run: one entry per step, on the horizon's real calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import holidays as holidays_lib
import numpy as np

from .scenario.base import parse_hour_range, range_quarters
from .scenario.schema import Scenario

#: Day types, as integer codes used in the per-day arrays.
WEEKDAY, WEEKEND, HOLIDAY = 0, 1, 2


@dataclass(frozen=True)
class Calendar:
    """Per-day and per-step calendar arrays of a horizon.

    Attributes
    ----------
    start : datetime.date
        First day.
    days : int
        Number of days.
    steps_per_day : int
        24, 48 or 96.
    holiday_dates : frozenset of datetime.date
        Holidays within the horizon (public holidays and custom dates).
    holiday_names : dict
        Date -> name, for reports.
    workday_dates : frozenset of datetime.date
        Saturdays and Sundays within the horizon that are working days (the make-up working
        days of China's holiday arrangements, 调休, and custom dates): weekdays in
        :attr:`day_type`, with weekday loads and tariff schedules.
    """

    start: dt.date
    days: int
    steps_per_day: int
    holiday_dates: frozenset
    holiday_names: dict
    workday_dates: frozenset = frozenset()

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Calendar:
        h, c = scenario.horizon, scenario.calendar.holidays
        end = h.start + dt.timedelta(days=h.days - 1)
        names: dict[dt.date, str] = {}
        workdays = {d for d in c.workdays if h.start <= d <= end}
        if c.country:
            years = range(h.start.year, end.year + 1)
            cal = holidays_lib.country_holidays(c.country, subdiv=c.subdivision, years=years)
            names.update({d: n for d, n in cal.items() if h.start <= d <= end})
            if c.make_up_workdays:  # the package's list holds other years too: the horizon's only
                workdays |= {d for d in getattr(cal, "weekend_workdays", ()) if h.start <= d <= end}
        for d in c.dates:
            if h.start <= d <= end:
                names.setdefault(d, "custom holiday")
        return cls(h.start, h.days, h.steps_per_day, frozenset(names), dict(sorted(names.items())),
                   frozenset(d for d in workdays if d.weekday() >= 5 and d not in names))

    # ---- per day
    @cached_property
    def dates(self) -> np.ndarray:
        """Date of each day, ``datetime64[D]``, shape (days,)."""
        return np.datetime64(self.start, "D") + np.arange(self.days)

    @cached_property
    def weekday(self) -> np.ndarray:
        """ISO weekday of each day, Monday = 0 ... Sunday = 6, shape (days,)."""
        return ((self.dates.astype(np.int64) + 3) % 7).astype(np.int8)  # 1970-01-01 was a Thursday

    @cached_property
    def month(self) -> np.ndarray:
        """Month 1-12 of each day, shape (days,)."""
        return (self.dates.astype("datetime64[M]").astype(np.int64) % 12 + 1).astype(np.int8)

    @cached_property
    def year(self) -> np.ndarray:
        return (self.dates.astype("datetime64[Y]").astype(np.int64) + 1970).astype(np.int16)

    @cached_property
    def is_holiday(self) -> np.ndarray:
        """Whether each day is a holiday, shape (days,)."""
        hol = np.array(sorted(self.holiday_dates), dtype="datetime64[D]")
        return np.isin(self.dates, hol)

    @cached_property
    def day_type(self) -> np.ndarray:
        """WEEKDAY, WEEKEND or HOLIDAY for each day, shape (days,): a make-up working day
        (:attr:`workday_dates`) is a weekday."""
        weekend = self.weekday >= 5
        if self.workday_dates:
            weekend &= ~np.isin(self.dates, np.array(sorted(self.workday_dates), dtype="datetime64[D]"))
        out = np.where(weekend, WEEKEND, WEEKDAY).astype(np.int8)
        out[self.is_holiday] = HOLIDAY
        return out

    @cached_property
    def billing_month(self) -> np.ndarray:
        """Index of the calendar month (billing cycle) of each day, 0 for the first, shape (days,)."""
        m = self.dates.astype("datetime64[M]").astype(np.int64)
        return (m - m[0]).astype(np.int32)

    @property
    def n_months(self) -> int:
        return int(self.billing_month[-1]) + 1

    @cached_property
    def month_fraction(self) -> np.ndarray:
        """Share of each billing month that lies within the horizon, shape (n_months,).

        Fixed monthly charges are prorated by it when the horizon starts or ends mid-month.
        """
        first = self.dates.astype("datetime64[M]")
        months = np.unique(first)
        days_in = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(np.int64)
        covered = np.bincount(self.billing_month, minlength=len(months))
        return covered / days_in

    @cached_property
    def month_labels(self) -> list[str]:
        """'YYYY-MM' of each billing month."""
        return [str(m) for m in np.unique(self.dates.astype("datetime64[M]"))]

    # ---- per step
    @property
    def n_steps(self) -> int:
        return self.days * self.steps_per_day

    @property
    def step_minutes(self) -> int:
        return 1440 // self.steps_per_day

    @cached_property
    def timestamps(self) -> np.ndarray:
        """Start of each step, ``datetime64[m]``, shape (n_steps,). Local time, no DST."""
        return (np.datetime64(self.start, "m")
                + np.arange(self.n_steps, dtype=np.int64) * np.timedelta64(self.step_minutes, "m"))

    def per_step(self, per_day: np.ndarray) -> np.ndarray:
        """Repeat a per-day array for each step of the day."""
        return np.repeat(per_day, self.steps_per_day)

    @cached_property
    def hour(self) -> np.ndarray:
        """Hour of day 0-23 of each step, shape (n_steps,)."""
        return np.tile(np.arange(self.steps_per_day) * self.step_minutes // 60, self.days).astype(np.int8)

    @cached_property
    def season(self) -> np.ndarray:
        """Meteorological season of each day (northern hemisphere): 0 winter (Dec-Feb),
        1 summer (Jun-Aug), 2 shoulder (other months); shape (days,). Tariff seasons are the
        tariff's own and are compiled with it."""
        return SEASON_CODE_OF_MONTH[self.month]


#: Season codes by month index 0..12 (index 0 unused): winter 0, summer 1, shoulder 2.
SEASON_NAMES = ("winter", "summer", "shoulder")
SEASON_CODE_OF_MONTH = np.array([-1, 0, 0, 2, 2, 2, 1, 1, 1, 2, 2, 2, 0], dtype=np.int8)


def hours_mask(ranges: list[str], spd: int) -> np.ndarray:
    """Steps of a day (start times) inside any of the hour ranges, shape (spd,) bool."""
    q = np.zeros(96, dtype=bool)
    for text in ranges:
        q[range_quarters(*parse_hour_range(text))] = True
    return q[::96 // spd].copy()
