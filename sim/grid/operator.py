"""The system operator: a SimPy process that calls events day-ahead on a load forecast.

Called events go to the run's :class:`~sim.grid.days.GridDays`, never into the tariffs
(which stay as compiled)."""

from __future__ import annotations

import numpy as np

from ..calendar import Calendar
from ..rowmath import row_dot
from ..scenario.base import parse_hour_range

#: Programmes the operator can call, by the compiled tariff's array that marks event steps.
PROGRAMMES = ("critical_peak", "peak_time_rebate", "interruptible")


def expected_day_load(segments, d: int) -> np.ndarray:
    """Tomorrow's expected baseline system load: each segment's shape for day ``d`` times its
    customers' total mean load (measured profiles: their columns' load that day), times the
    segment's shared day factor (weather, taken as perfectly forecast). [kW], (spd,)

    ``segments``: per segment, an object with ``curve``, ``common``, ``steps_per_day``,
    ``mean_kw_total`` and ``column_counts`` (None for built-in shapes) — see
    ``sim.engine.Forecast``."""
    total = 0.0
    for seg in segments:
        spd = seg.steps_per_day
        if seg.column_counts is None:
            day = seg.mean_kw_total * seg.curve[d]
        else:
            day = row_dot(seg.curve[d * spd:(d + 1) * spd], seg.column_counts)  # not @: sim.rowmath.dot
        total = total + (day if seg.common is None else day * seg.common[d])
    return np.asarray(total, dtype=float)


def has_programme(tariff, programme: str) -> bool:
    return {"critical_peak": tariff.cpp_adder, "peak_time_rebate": tariff.ptr_event,
            "interruptible": tariff.intr_event}[programme] is not None


def interruptible_allows(tariff, d: int, start: int, stop: int, cal: Calendar, called: dict) -> bool:
    """Whether an interruptible contract's limits allow one more event on day ``d``."""
    it = tariff.source.interruptible
    lim = it.limits
    date = cal.start + np.timedelta64(d, "D").astype(object)
    hours = (stop - start) * cal.step_minutes / 60.0
    notice = 24.0 + start * cal.step_minutes / 60.0  # called at the start of the day before
    if it.notice_hours > notice:
        return False
    if lim.max_hours_per_event is not None and hours > lim.max_hours_per_event:
        return False
    if lim.months is not None and date.month not in lim.months:
        return False
    if lim.max_events_per_year is not None:
        listed = sum(1 for ev in it.events if ev.date.year == date.year)
        if listed + called.get((tariff.name, "interruptible", date.year), 0) >= lim.max_events_per_year:
            return False
    return True


def operator_process(env, op, cal: Calendar, populations, targets: dict, log: list, grid_days):
    """Each day, decide tomorrow's events (SimPy process; one time unit = one day).

    Parameters
    ----------
    op : Operator
        The scenario's operator settings.
    populations : list
        What the forecast needs of each segment (:func:`expected_day_load`).
    targets : dict programme -> list of CompiledTariff
        Scenario tariffs that have each programme.
    log : list
        Called events are appended as dicts.
    grid_days : GridDays
        Where called events are kept (:meth:`sim.grid.days.GridDays.call`).
    """
    spd = cal.steps_per_day
    length = max(1, min(spd, int(round(op.event_hours * 60 / cal.step_minutes))))
    days_called: dict = {}
    called: dict = {}
    while True:
        d = int(env.now) + 1
        if d >= cal.days:
            return
        forecast = expected_day_load(populations, d)
        year = int(cal.year[d])
        if forecast.max() > op.threshold_kw and days_called.get(year, 0) < op.max_events_per_year:
            k = int(forecast.argmax())
            start = min(max(k - length // 2, 0), spd - length)
            stop = start + length
            any_called = False
            for programme in op.programmes:
                for tariff in targets.get(programme, []):
                    if programme == "interruptible" and not interruptible_allows(tariff, d, start, stop, cal, called):
                        continue
                    grid_days.call(tariff.name, programme, d, start, stop)
                    key = (tariff.name, programme, year)  # each programme's calls count against its own limits
                    called[key] = called.get(key, 0) + 1
                    log.append({"date": str(cal.dates[d]), "start_step": start, "stop_step": stop,
                                "programme": programme, "tariff": tariff.name, "source": "operator",
                                "forecast_peak_kw": float(forecast.max())})
                    any_called = True
            if any_called:
                days_called[year] = days_called.get(year, 0) + 1
        yield env.timeout(1)


def listed_events(compiled: dict, cal: Calendar) -> list[dict]:
    """The events listed in the tariffs that fall in the horizon, in the log's format."""
    out = []
    first = np.datetime64(cal.start, "D")
    for name, t in compiled.items():
        src = t.source
        for programme, part in (("critical_peak", src.critical_peak), ("peak_time_rebate", src.peak_time_rebate),
                                ("interruptible", src.interruptible)):
            if part is None:
                continue
            for ev in part.events:
                d = int((np.datetime64(ev.date, "D") - first).astype(int))
                if 0 <= d < cal.days:
                    a, b = parse_hour_range(ev.hours)
                    out.append({"date": str(ev.date), "start_step": a // cal.step_minutes,
                                "stop_step": b // cal.step_minutes, "programme": programme, "tariff": name,
                                "source": "listed", "forecast_peak_kw": None})
    return out
