"""Each tariff of a run as a regulator reads it: prices by period, season and tier, the other
charges, and the hour-by-day-type schedule as a heat map.

Prices come from the tariff compiled exactly as the run billed it
(:func:`sim.tariffs.compile_tariff`), so season multipliers and tier adders appear as applied.
Schedules and TOU prices are compiled on a whole calendar year, so that every season shows
even when the run's horizon is shorter; real-time prices are compiled on the run's horizon.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..calendar import HOLIDAY, WEEKDAY, WEEKEND, Calendar
from . import charts
from .run import RunFolder

DAY_TYPE_NAMES = {WEEKDAY: "weekday", WEEKEND: "weekend", HOLIDAY: "holiday"}


@dataclass
class TariffView:
    """What the report shows of one tariff."""

    name: str
    kind: str                                   #: flat, tou or rtp
    description: str
    used_by: list[str]
    price_header: list[str] = field(default_factory=list)
    price_rows: list[list[str]] = field(default_factory=list)
    charge_rows: list[tuple[str, str]] = field(default_factory=list)   #: (charge, value with unit)
    heatmaps: list[tuple[str, str, str]] = field(default_factory=list)  #: (id, caption, svg)
    notes: list[str] = field(default_factory=list)


def validated_tariffs(run: RunFolder) -> dict[str, tuple[object | None, str | None]]:
    """Each tariff of the resolved scenario as a validated model, or the reason it is not.

    The whole scenario is validated first (``sim.scenario.validate``); if that fails (for
    example a CSV input has moved since the run), each tariff is validated on its own so
    that one missing file costs only that tariff's tables.
    """
    from pydantic import TypeAdapter, ValidationError

    from ..errors import InputError
    from ..scenario import validate
    from ..scenario.tariff import Tariff

    raw = run.scenario
    # CSV paths were recorded as resolved from where the run started: try here, then the checkout
    bases = list(dict.fromkeys([Path.cwd(), Path(__file__).resolve().parents[2]]))
    for base in bases:
        try:
            sc = validate(raw, label=str(run.path / "manifest.json"), base_dir=base)
            return {name: (t, None) for name, t in sc.tariffs.items()}
        except InputError:
            pass
    out: dict[str, tuple[object | None, str | None]] = {}
    adapter = TypeAdapter(Tariff)
    for name, data in raw.get("tariffs", {}).items():
        for base in bases:
            try:
                out[name] = (adapter.validate_python(data, context={"base_dir": base}), None)
                break
            except ValidationError as e:
                first = e.errors()[0]
                out.setdefault(name, (None, f"{'.'.join(map(str, first['loc']))}: {first['msg']}"))
    return out


def year_calendar(run: RunFolder) -> Calendar:
    """A whole calendar year (the horizon's first year) at the run's step length, with one
    holiday on the first Wednesday of every month, so that every season and day type occurs."""
    start = dt.date(run.calendar.start.year, 1, 1)
    days = (dt.date(start.year + 1, 1, 1) - start).days
    holidays = set()
    for m in range(1, 13):
        d = dt.date(start.year, m, 1)
        holidays.add(d + dt.timedelta(days=(2 - d.weekday()) % 7))
    return Calendar(start, days, run.steps_per_day, frozenset(holidays), {})


def _num(v: float, decimals: int = 4) -> str:
    text = f"{v:,.{decimals}f}"
    return text if float(text.replace(",", "")) != 0 else text.lstrip("-")


def _tier_labels(tiers) -> list[str]:
    per = "month" if tiers.basis == "monthly" else "year"
    b = [0.0, *tiers.bounds_kwh]
    labels = [f"tier {i + 1}: {b[i]:,.0f}-{b[i + 1]:,.0f} kWh/{per}" for i in range(len(b) - 1)]
    labels.append(f"tier {len(b)}: above {b[-1]:,.0f} kWh/{per}")
    return labels


def _used_by(run: RunFolder, name: str) -> list[str]:
    out = []
    for seg in run.scenario["populations"]:
        t = seg["tariff"]
        if t["baseline"] == name:
            out.append(f"baseline of {seg['name']}")
        scen = t["scenario"]
        if scen == name:
            out.append(f"scenario of {seg['name']}")
        elif isinstance(scen, list):
            for opt in scen:
                if opt["tariff"] == name:
                    out.append(f"scenario menu of {seg['name']} ({opt['share']:.0%})")
    return out


def _events_note(events, run: RunFolder) -> str:
    cal = run.calendar
    end = cal.start + dt.timedelta(days=cal.days - 1)
    inside = sum(1 for ev in events if cal.start <= ev.date <= end)
    return f"{len(events)} listed ({inside} in the horizon)"


def _monthly_rate_text(rate, cur: str) -> str:
    if isinstance(rate, list):
        return ", ".join(f"{m}: {_num(v, 2)}" for m, v in zip(
            ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), rate)) + \
            f" {cur}/kW-month"
    return f"{_num(rate, 2)} {cur}/kW-month"


def _blocks_text(blocks, cur: str) -> str:
    """'0-50 kW: 10 CNY/kW-month; 50-200 kW: ...; above 200 kW: ...'."""
    edges = [0.0, *blocks.bounds_kw]
    parts = [(f"{edges[k]:,.0f}-{edges[k + 1]:,.0f} kW" if k + 1 < len(edges) else f"above {edges[k]:,.0f} kW")
             + ": " + _monthly_rate_text(rate, cur) for k, rate in enumerate(blocks.per_kw_month)]
    return "; ".join(parts)


def other_charges(tariff, run: RunFolder) -> list[tuple[str, str]]:
    """Every charge of a tariff other than its energy prices, as (charge, value with unit)."""
    cur = run.currency
    rows = [
        ("Fixed charge per month", f"{_num(tariff.fixed_per_month, 2)} {cur}/customer-month"),
        ("Fixed charge per day", f"{_num(tariff.fixed_per_day, 2)} {cur}/customer-day"),
        ("Minimum bill per month (before tax)", f"{_num(tariff.minimum_per_month, 2)} {cur}"),
        ("Tax on the whole bill", f"{_num(tariff.tax_pct, 2)} %"),
    ]
    if tariff.tiers is not None:
        t = tariff.tiers
        text = f"{t.basis} basis; bounds {', '.join(f'{b:,.0f}' for b in t.bounds_kwh)} kWh"
        if t.adders_per_kwh:
            text += f"; adders {', '.join(_num(a) for a in t.adders_per_kwh)} {cur}/kWh (in the prices above)"
        rows.append(("Energy tiers (blocks)", text))
    if tariff.volume_rebate is not None:
        v = tariff.volume_rebate
        rows.append(("Volume rebate", f"{v.share:.0%} of {_num(v.cost_saving_per_kwh)} {cur}/kWh saved on energy "
                                      f"above {v.threshold_kwh:,.0f} kWh/month"))
    d = tariff.demand
    if d is not None:
        if d.blocks is None:
            rows.append(("Demand charge on the month's maximum", _monthly_rate_text(d.per_kw_month, cur)))
        else:
            rows.append(("Demand charge on the month's maximum, in blocks", _blocks_text(d.blocks, cur)))
        if d.tou is not None:
            for p, per in d.tou.periods.items():
                rows.append((f"Demand charge in TOU period '{p}'", _blocks_text(per.blocks, cur) if per.blocks
                             else f"{_num(per.per_kw_month, 2)} {cur}/kW-month"))
        if d.ratchet is not None:
            rows.append(("Demand ratchet", f"billed demand >= {d.ratchet.share:.0%} of the highest maximum of the "
                                           f"previous {d.ratchet.months} months"))
    if tariff.capacity is not None:
        rows.append(("Capacity (basic) charge", f"{_num(tariff.capacity.per_kva_month, 2)} {cur}/kVA-month"))
    cp = tariff.critical_peak
    if cp is not None:
        price = (f"+{_num(cp.price_adder_per_kwh)} {cur}/kWh" if cp.price_adder_per_kwh is not None
                 else f"x {cp.price_multiplier:g} of the first-tier energy price")
        rows.append(("Critical-peak price in event hours", f"{price}; events {_events_note(cp.events, run)}"))
    ptr = tariff.peak_time_rebate
    if ptr is not None:
        rows.append(("Peak-time rebate", f"{_num(ptr.rebate_per_kwh)} {cur}/kWh below the customer baseline "
                                         f"(highest {ptr.baseline.highest} of the last {ptr.baseline.of_last} "
                                         f"similar days); events {_events_note(ptr.events, run)}"))
    it = tariff.interruptible
    if it is not None:
        lim = it.limits
        limits = "; ".join(x for x in (
            f"at most {lim.max_events_per_year} events/year" if lim.max_events_per_year else "",
            f"at most {lim.max_hours_per_event:g} h/event" if lim.max_hours_per_event else "",
            f"months {lim.months}" if lim.months else "") if x) or "none"
        rows.append(("Interruptible contract",
                     f"credit {_num(it.credit_per_kw_month, 2)} {cur}/kW-month and {_num(it.credit_per_kw_event, 2)} "
                     f"{cur}/kW per event; penalty {_num(it.penalty_per_kwh)} {cur}/kWh above the firm level; notice "
                     f"{it.notice_hours:g} h; limits: {limits}; events {_events_note(it.events, run)}"))
    for band in tariff.load_factor or []:
        rows.append((f"Load-factor band [{band.min:g}, {band.max:g})", f"{_num(band.adder_per_kwh, 4)} {cur}/kWh"))
    sr = tariff.storage_rate
    if sr is not None:
        text = (f"{_num(sr.price_per_kwh)} {cur}/kWh" if sr.price_per_kwh is not None else
                ", ".join(f"{p} {_num(v)}" for p, v in sr.periods.items()) + f" {cur}/kWh (TOU, schedule below)")
        rows.append(("Separately metered storage load", text))
    return rows


def _price_table(name: str, tariff, compiled, run: RunFolder) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, rows and notes of the energy price table."""
    from ..scenario.tariff import RtpTariff, TouTariff

    cur = run.currency
    notes: list[str] = []
    if isinstance(tariff, RtpTariff):
        header = ["price", "value"]
        if isinstance(tariff.prices, str):
            rows = [["real-time price", "formed each day from the system load on the grid's supply curve "
                                        "(marginal cost, a fixed point per day; see the scenario summary)"]]
        else:
            p = compiled.rtp_price
            rows = [["real-time price series", f"{tariff.prices.csv} x {tariff.multiplier:g} + "
                                               f"{_num(tariff.adder_per_kwh)} {cur}/kWh"
                                               + (f", floor {_num(tariff.floor_per_kwh)}" if tariff.floor_per_kwh
                                                  is not None else "")],
                    ["lowest over the horizon", f"{_num(float(p.min()))} {cur}/kWh"],
                    ["mean over the horizon", f"{_num(float(p.mean()))} {cur}/kWh"],
                    ["highest over the horizon", f"{_num(float(p.max()))} {cur}/kWh"]]
        return header, rows, notes
    n_tiers = compiled.rate.shape[1]
    tiers = _tier_labels(tariff.tiers) if tariff.tiers else ["price"]
    header = ["season", "period", *[f"{t} [{cur}/kWh]" for t in tiers]]
    rows = []
    seasons_differ = isinstance(tariff, TouTariff) and bool(tariff.season_multipliers)
    for k, pname in enumerate(compiled.period_names):
        if seasons_differ:
            season, period = pname.split(".", 1)
            mult = tariff.season_multipliers.get(season, 1.0)
            season = f"{season} (x {mult:g})"
        else:
            season = "all seasons" if isinstance(tariff, TouTariff) and len(tariff.seasons) > 1 else "all year"
            period = "all hours" if pname == "all" else pname
        rows.append([season, period, *[_num(float(compiled.rate[k, j])) for j in range(n_tiers)]])
    if seasons_differ:
        notes.append("Season multipliers are applied to every energy price of their season, tier adders included.")
    return header, rows, notes


def _schedule_grid(sched, period: np.ndarray, season: np.ndarray, ycal: Calendar, with_holidays: bool):
    """Rows (labels) and a (rows, steps_per_day) grid of period indices: for each season of the
    schedule and each day type, the periods of the first such day of ``ycal``.

    ``period`` is per step (as compiled), ``season`` the schedule's season index per day.
    """
    per_day = period.reshape(ycal.days, ycal.steps_per_day)
    has_rule = any("holiday" in r.day_types for r in sched.schedule)
    types = [WEEKDAY, WEEKEND] + ([HOLIDAY] if with_holidays or has_rule else [])
    season_names = list(sched.seasons)
    labels, rows = [], []
    for s, sname in enumerate(season_names):
        for t in types:
            days = np.flatnonzero((season == s) & (ycal.day_type == t))
            if days.size == 0:
                continue
            tname = DAY_TYPE_NAMES[t]
            if t == HOLIDAY and not has_rule:
                tname = f"holiday (as {sched.holidays_as})"
            labels.append(tname if len(season_names) == 1 else f"{sname}, {tname}")
            rows.append(per_day[days[0]])
    return labels, np.array(rows)


@dataclass(frozen=True)
class ScheduleYear:
    """The year schedules are drawn over: a whole calendar year, and whether holidays are a day type of their own."""

    calendar: Calendar
    with_holidays: bool


@dataclass(frozen=True)
class ShownPeriods:
    """The periods a schedule's heat map shows, and their prices.

    ``names`` are the periods the schedule's rules name. A compiled tariff's own ``period``
    per step and its ``compiled_names`` may replace them (for season multipliers: one period
    per season and period). ``prices`` are each shown period's (lowest, highest) price in ``unit``.
    """

    names: list[str]
    prices: list[tuple[float, float]]
    unit: str
    period: np.ndarray | None = None
    compiled_names: list[str] | None = None


def _heatmap(chart_id: str, title: str, sched, periods: ShownPeriods, year: ScheduleYear) -> tuple[str, str, str]:
    """A schedule's heat map, as (figure id, caption, svg): the schedule compiled on ``year``."""
    from ..tariffs.compile import compile_schedule

    ycal = year.calendar
    base, season = compile_schedule(sched, tuple(periods.names), ycal)
    names = list(periods.names) if periods.compiled_names is None else periods.compiled_names
    period = periods.period
    labels, grid = _schedule_grid(sched, base if period is None else period, season, ycal, year.with_holidays)
    key = np.array([hi for _, hi in periods.prices])
    order = np.argsort(np.argsort(key, kind="stable"), kind="stable")
    shown = [f"{n.split('.', 1)[1]} ({n.split('.', 1)[0]})" if "." in n else n for n in names]
    legend = [f"{n}: {_num(lo)}" + (f"-{_num(hi)}" if hi != lo else "") + f" {periods.unit}"
              for n, (lo, hi) in zip(shown, periods.prices)]
    svg = charts.schedule_heatmap(chart_id, labels, grid, shown, legend, order, title)
    if len(sched.seasons) > 1:
        title += " (seasons: " + "; ".join(f"{s} = months {', '.join(map(str, v.months))}"
                                          for s, v in sched.seasons.items()) + ")"
    return chart_id, title, svg


def tariff_views(run: RunFolder) -> list[TariffView]:
    """Every tariff of the scenario, in scenario order, ready to render."""
    from ..scenario.tariff import RtpTariff, TouTariff
    from ..tariffs import compile_tariff

    cur = run.currency
    models = validated_tariffs(run)
    ycal = year_calendar(run)
    hol = run.scenario.get("calendar", {}).get("holidays", {}) or {}
    year = ScheduleYear(ycal, bool(hol.get("country") or hol.get("dates")))
    views = []
    for name, raw in run.scenario.get("tariffs", {}).items():
        tariff, problem = models.get(name, (None, "missing"))
        view = TariffView(name, raw.get("type", "?"), raw.get("description", ""), _used_by(run, name))
        if tariff is None:
            view.notes.append(f"This tariff could not be rebuilt from manifest.json ({problem}); "
                              "its prices are shown as recorded.")
            view.price_header = ["field", "value"]
            view.price_rows = [[k, str(v)] for k, v in raw.items() if k not in ("description",)]
            views.append(view)
            continue
        try:
            compiled = compile_tariff(name, tariff, run.calendar if isinstance(tariff, RtpTariff) else ycal)
        except Exception as e:  # a moved CSV series, say: show what can be shown
            view.notes.append(f"The tariff could not be compiled for the tables ({type(e).__name__}: {e}).")
            compiled = None
        if compiled is not None:
            view.price_header, view.price_rows, notes = _price_table(name, tariff, compiled, run)
            view.notes += notes
        view.charge_rows = other_charges(tariff, run)
        slug = re.sub(r"[^A-Za-z0-9_-]", "-", name)
        if isinstance(tariff, TouTariff) and compiled is not None:
            # the compiled periods: with season multipliers, one per (season, period) at its own price
            prices = [(float(compiled.rate[k].min()), float(compiled.rate[k].max()))
                      for k in range(compiled.n_periods)]
            shown = ShownPeriods(list(tariff.periods), prices, f"{cur}/kWh", compiled.period,
                                 list(compiled.period_names))
            view.heatmaps.append(_heatmap(f"fig-schedule-{slug}", f"{name}: energy periods by hour, season and "
                                          "day type", tariff, shown, year))
        elif view.kind == "flat":
            view.notes.append("Energy: one price in every hour of every day (no time-of-use energy schedule).")
        elif view.kind == "rtp":
            view.notes.append("Energy: real-time prices that change every step (no fixed energy schedule).")
        if tariff.demand is not None and tariff.demand.tou is not None:
            dt_ = tariff.demand.tou
            shown = ShownPeriods(list(dt_.periods), [_period_rate_range(v) for v in dt_.periods.values()],
                                 f"{cur}/kW-month")
            view.heatmaps.append(_heatmap(f"fig-demand-schedule-{slug}", f"{name}: demand periods by hour, season "
                                          "and day type", dt_, shown, year))
        sr = tariff.storage_rate
        if sr is not None and sr.periods:
            shown = ShownPeriods(list(sr.periods), [(v, v) for v in sr.periods.values()], f"{cur}/kWh")
            view.heatmaps.append(_heatmap(f"fig-storage-schedule-{slug}", f"{name}: storage meter periods by hour, "
                                          "season and day type", sr.as_schedule(), shown, year))
        views.append(view)
    return views


def _period_rate_range(period) -> tuple[float, float]:
    """A TOU demand period's lowest and highest rate (its one rate, or its blocks')."""
    if period.blocks is None:
        return period.per_kw_month, period.per_kw_month
    return min(period.blocks.per_kw_month), max(period.blocks.per_kw_month)
