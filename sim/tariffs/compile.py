"""Tariffs compiled once into per-step arrays and small tables, ready for billing.

Billing then needs only gathers, matrix products and per-month arithmetic: the energy
period of every step, a (period x tier) price table, per-step price series (real-time
prices, critical-peak adders), demand period masks and the per-month rates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..calendar import HOLIDAY, WEEKDAY, WEEKEND, Calendar
from ..series import read_series
from ..scenario.base import parse_hour_range, range_quarters
from ..errors import InputError, Problem
from ..scenario.tariff import ExportSchedule, FlatTariff, PeriodPrices, RtpTariff, Scheduled, TouTariff

_DAY_TYPE_CODE = {"weekday": WEEKDAY, "weekend": WEEKEND, "holiday": HOLIDAY}


@dataclass(frozen=True)
class ExportTerms:
    """A tariff's export section, compiled (docs/tariffs.md 5.17).

    Attributes
    ----------
    rule : 'net_metering' or 'net_billing'
    money_credits : bool
        Net metering: a period's monthly surplus is credited in money at ``period_price``
        (else carried as kWh).
    carry : bool
        Net billing: credits beyond the month's energy charge are carried (else the energy
        charge may go below zero).
    sell_price : ndarray, shape (n_steps,), or None
        Net billing: the price each step's export earns. [currency/kWh]
    period_price : ndarray, shape (n_periods,), or None
        Net metering with money credits: the price of a period's surplus kWh. [currency/kWh]
    true_up_month : int
        Calendar month (1-12) whose bill settles the credits left.
    true_up_per_kwh : float
        Price of each kWh credit left at the true-up. [currency/kWh]
    forfeit : bool
        Money credits left at the true-up are forfeited (else paid).
    limit_kw : float
        Largest export credited in a step (inf without a limit). [kW]
    non_bypassable_per_kwh : float
        Charge on every kWh imported. [currency/kWh]
    minimum_per_month : float or None
        Minimum bill of a customer with exports or credits in the month. [currency]
    """

    rule: str
    money_credits: bool
    carry: bool
    sell_price: np.ndarray | None
    period_price: np.ndarray | None
    true_up_month: int
    true_up_per_kwh: float
    forfeit: bool
    limit_kw: float
    non_bypassable_per_kwh: float
    minimum_per_month: float | None

    def __post_init__(self):
        for value in (self.sell_price, self.period_price):
            if value is not None:
                value.flags.writeable = False

    @property
    def net_billing(self) -> bool:
        return self.rule == "net_billing"


@dataclass(frozen=True)
class CompiledTariff:
    """A tariff as arrays over the horizon, frozen: nothing changes it after compilation.

    Events are those listed in the scenario; real-time prices those of a series (zeros
    where they are formed from the system load). What a run learns day by day, the
    operator's called events and the formed prices, comes beside the tariff as a
    :class:`sim.tariffs.day.TariffDay`. Every array is read-only.

    Attributes
    ----------
    name : str
    period_names : tuple of str
        Energy rate periods ('all' for a flat rate; 'season.period' where season
        multipliers make a period's price differ by season).
    period : ndarray of int16, shape (n_steps,)
        Energy rate period of each step.
    rate : ndarray of float64, shape (n_periods, n_tiers)
        Energy price by period and tier, adders and season multipliers applied. [currency/kWh]
    tier_bounds : ndarray, shape (n_tiers - 1,)
        Cumulative kWh upper bounds of all tiers but the last (empty without tiers).
    tier_basis : 'monthly' or 'annual'
    rtp_price : ndarray, shape (n_steps,), or None
        Real-time energy price of each step. [currency/kWh]
    cpp_adder : ndarray, shape (n_steps,), or None
        Critical-peak adder in each step (0 outside events). [currency/kWh]
    demand_rate_by_month : ndarray, shape (n_billing_months,)
        Flat demand charge of each billing month of the horizon. [currency/kW-month]
    demand_period : ndarray of int8, shape (n_steps,), or None
        TOU demand period of each step.
    demand_period_names : tuple of str
    demand_period_rate : ndarray, shape (n_demand_periods,)  [currency/kW-month]
        (0 for a period billed in blocks)
    demand_blocks_kw, demand_block_rate : ndarray, shapes (B,) and (B + 1, n_billing_months), or None
        The flat demand charge in blocks: upper bounds [kW] and each block's rate in each
        billing month [currency/kW-month] (``demand_rate_by_month`` is then 0).
    demand_period_blocks_kw, demand_period_block_rate : ndarray, shapes (n_demand_periods, B) and
        (n_demand_periods, B + 1), or None
        TOU demand periods billed in blocks: bounds (+inf where a period has fewer) and rates (0
        there; a period with one rate has none here).
    """

    name: str
    period_names: tuple[str, ...]
    period: np.ndarray
    rate: np.ndarray
    tier_bounds: np.ndarray
    tier_basis: str
    rtp_price: np.ndarray | None
    cpp_adder: np.ndarray | None
    demand_rate_by_month: np.ndarray
    demand_period: np.ndarray | None
    demand_period_names: tuple[str, ...]
    demand_period_rate: np.ndarray
    ratchet: tuple[float, int] | None
    capacity_per_kva_month: float
    fixed_per_month: float
    fixed_per_day: float
    minimum_per_month: float
    tax_pct: float
    volume_rebate: tuple[float, float, float] | None
    load_factor_bands: np.ndarray | None
    ptr_rate: float = 0.0
    ptr_event: np.ndarray | None = None          #: (n_steps,) bool, peak-time rebate event steps
    ptr_eligible_day: np.ndarray | None = None   #: (days,) bool, days that may serve as baseline days
    ptr_method: tuple[int, int] = (3, 10)        #: (highest, of_last)
    intr_event: np.ndarray | None = None         #: (n_steps,) bool, interruptible event steps
    intr_events_by_day: np.ndarray | None = None  #: (days,) int, listed interruptible events of each day
    intr_credit_per_kw_month: float = 0.0
    intr_credit_per_kw_event: float = 0.0
    intr_penalty_per_kwh: float = 0.0
    storage_price: np.ndarray | None = None      #: (n_steps,) storage-meter price [currency/kWh]
    rtp_from_system: bool = False                #: real-time prices formed from the system load (filled daily)
    cpp_event: np.ndarray | None = None          #: (n_steps,) bool, critical-peak event steps
    demand_blocks_kw: np.ndarray | None = None
    demand_block_rate: np.ndarray | None = None
    demand_period_blocks_kw: np.ndarray | None = None
    demand_period_block_rate: np.ndarray | None = None
    export: ExportTerms | None = None            #: the export section (None: exports netted at the energy prices)

    source: object = field(repr=False, default=None)

    def __post_init__(self):
        for value in vars(self).values():  # read-only: a write anywhere is an error, not a silent change
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    @property
    def demand_price(self) -> float:
        """A tariff's demand charges in one number, to compare two tariffs: the mean flat demand
        rate over the billing months plus every TOU demand period's rate; a charge in blocks
        counts with the mean of its blocks' rates. [currency/kW-month]"""
        price = self.demand_rate_by_month.mean() + self.demand_period_rate.sum()
        if self.demand_block_rate is not None:
            price += self.demand_block_rate.mean()
        if self.demand_period_block_rate is not None:
            counts = np.isfinite(self.demand_period_blocks_kw).sum(axis=1) + 1
            blocked = np.isfinite(self.demand_period_blocks_kw[:, 0])  # periods with blocks have a bound
            price += (self.demand_period_block_rate.sum(axis=1)[blocked] / counts[blocked]).sum()
        return float(price)

    @property
    def n_periods(self) -> int:
        return len(self.period_names)

    @property
    def tiered(self) -> bool:
        return self.tier_bounds.size > 0

    @property
    def has_demand(self) -> bool:
        return (bool(self.demand_rate_by_month.any()) or self.demand_period is not None
                or (self.demand_block_rate is not None and bool(self.demand_block_rate.any())))

    @property
    def price_per_kwh(self) -> np.ndarray:
        """First-tier energy price of every step, real-time and critical-peak prices included.
        [currency/kWh], shape (n_steps,)"""
        p = self.rate[self.period, 0]
        if self.rtp_price is not None:
            p = p + self.rtp_price
        if self.cpp_adder is not None:
            p = p + self.cpp_adder
        return p

    @property
    def has_rtp(self) -> bool:
        """Whether the tariff charges a real-time price (from a series or the system load)."""
        return self.rtp_price is not None

    def day_price(self, day, d: int, spd: int, tier: np.ndarray | None = None) -> np.ndarray:
        """Marginal energy price of each step of day ``d``: shape (spd,), or (n, spd) when
        the tariff is tiered and each customer's current ``tier`` is given.

        ``day`` is the tariff's :class:`~sim.tariffs.day.TariffDay` of day ``d`` (real-time
        prices, critical-peak adders, rebate events)."""
        per = self.period[d * spd:(d + 1) * spd]
        if tier is None or not self.tiered:
            p = self.rate[per, 0]
        else:
            # each customer takes the row of its tier from the day's (tiers, steps) table
            p = np.take(np.ascontiguousarray(self.rate[per].T), tier, axis=0)
        if day.rtp is not None:
            p = p + day.rtp
        if day.cpp_adder is not None:
            p = p + day.cpp_adder
        if day.ptr_event is not None:
            # a rebate per kWh saved is a price on every kWh used in event hours
            p = p + self.ptr_rate * day.ptr_event
        return p


def event_steps(events, cal: Calendar) -> tuple[np.ndarray, np.ndarray]:
    """Steps inside listed events (bool, shape (n_steps,)) and the event days (bool, (days,));
    events outside the horizon are ignored."""
    mask = np.zeros(cal.n_steps, dtype=bool)
    days = np.zeros(cal.days, dtype=bool)
    first = np.datetime64(cal.start, "D")
    spd, step = cal.steps_per_day, cal.step_minutes
    for ev in events:
        d = int((np.datetime64(ev.date, "D") - first).astype(int))
        if 0 <= d < cal.days:
            a, b = parse_hour_range(ev.hours)
            mask[d * spd + a // step:d * spd + b // step] = True
            days[d] = True
    return mask, days


def compile_schedule(sched: Scheduled, names: tuple[str, ...], cal: Calendar) -> tuple[np.ndarray, np.ndarray]:
    """Period index of every step from a seasonal schedule, and the season index of every day.

    For each (season, day type) a period per step of the day is built from the rule's hour
    ranges at quarter-hour resolution and sampled at step starts (the schema has checked
    that boundaries fall on steps); holidays that no rule covers use ``holidays_as``.

    Returns
    -------
    period : ndarray of int16, shape (n_steps,)
    season : ndarray of int8, shape (days,)
    """
    spd = cal.steps_per_day
    season_names = tuple(sched.seasons)
    season_of_month = np.full(13, -1, dtype=np.int8)
    for s, season in enumerate(sched.seasons.values()):
        season_of_month[season.months] = s
    table = np.full((len(season_names), 3, spd), -1, dtype=np.int16)
    quarters_per_step = 96 // spd
    for rule in sched.schedule:
        seasons = season_names if rule.seasons == "all" else rule.seasons
        q = np.full(96, -1, dtype=np.int16)
        for pname, ranges in rule.hours.items():
            for text in ranges:
                q[range_quarters(*parse_hour_range(text))] = names.index(pname)
        for s in seasons:
            for d in rule.day_types:
                table[season_names.index(s), _DAY_TYPE_CODE[d], :] = q[::quarters_per_step]
    fallback = _DAY_TYPE_CODE[sched.holidays_as]
    for s in range(len(season_names)):
        if (table[s, HOLIDAY] < 0).all():
            table[s, HOLIDAY] = table[s, fallback]
    season = season_of_month[cal.month]
    period = table[season, cal.day_type].reshape(-1)
    if (period < 0).any():  # the schema forbids gaps; this guards the compiler itself
        raise AssertionError("steps without a period after compilation")
    return period, season


def _tier_prices(price, n_tiers: int) -> np.ndarray:
    return np.asarray(price if isinstance(price, list) else [price] * n_tiers, dtype=float)


def compile_tariff(name: str, tariff, cal: Calendar, avoided_cost: np.ndarray | None = None) -> CompiledTariff:
    """Compile a validated tariff (flat, TOU or RTP, with its components) onto a calendar.

    ``avoided_cost`` (n_steps,) is the run's energy cost per step [currency/kWh], the price
    of exports under an export section with ``price: avoided_cost`` (the grid side computes
    it; tariffs do not import the grid)."""
    names, period, rate, rtp = _energy_rates(tariff, cal)
    demand = _demand(tariff, cal)
    vr = tariff.volume_rebate
    bands = None
    if tariff.load_factor:
        bands = np.array([[b.min, b.max, b.adder_per_kwh] for b in tariff.load_factor])
    programmes = _programmes(tariff, cal, rate, period, rtp)
    export = None
    if tariff.export is not None:
        export = _export(name, tariff, cal, _Rates(names, period, rate, rtp, programmes["cpp_adder"]), avoided_cost)
    return CompiledTariff(
        name=name, period_names=names, period=period.astype(np.int16), rate=rate, export=export,
        tier_bounds=np.asarray(tariff.tiers.bounds_kwh if tariff.tiers else [], dtype=float),
        tier_basis=tariff.tiers.basis if tariff.tiers else "monthly",
        rtp_price=rtp, **demand,
        capacity_per_kva_month=tariff.capacity.per_kva_month if tariff.capacity else 0.0,
        fixed_per_month=tariff.fixed_per_month, fixed_per_day=tariff.fixed_per_day,
        minimum_per_month=tariff.minimum_per_month, tax_pct=tariff.tax_pct,
        volume_rebate=(vr.threshold_kwh, vr.cost_saving_per_kwh, vr.share) if vr else None,
        load_factor_bands=bands, source=tariff,
        rtp_from_system=isinstance(tariff, RtpTariff) and isinstance(tariff.prices, str),
        **programmes)


class _Rates(NamedTuple):
    """A compiled tariff's energy prices, as the export price reads them."""

    names: tuple[str, ...]
    period: np.ndarray
    rate: np.ndarray
    rtp: np.ndarray | None
    cpp: np.ndarray | None


def _export(name: str, tariff, cal: Calendar, rates: _Rates, avoided_cost: np.ndarray | None) -> ExportTerms:
    """The export section as :class:`ExportTerms`: its price as a price per step (net billing)
    or per energy period (money credits of net metering)."""
    names, rate = rates.names, rates.rate
    ex = tariff.export
    price, sell, per_period = ex.price, None, None
    if ex.rule == "net_metering" and ex.credits == "money":
        if price == "retail":
            per_period = rate[:, 0].copy()
        elif isinstance(price, PeriodPrices):
            per_period = np.array([price.periods[n.split(".")[-1]] for n in names])  # 'season.period' names too
        else:
            per_period = np.full(len(names), float(price))
    elif ex.rule == "net_billing":
        sell = _sell_price(name, price, cal, rates, avoided_cost)
    return ExportTerms(rule=ex.rule, money_credits=ex.credits == "money", carry=ex.carry_credits, sell_price=sell,
                       period_price=per_period, true_up_month=ex.true_up.month,
                       true_up_per_kwh=ex.true_up.price_per_kwh, forfeit=ex.true_up.forfeit,
                       limit_kw=ex.limit_kw if ex.limit_kw is not None else np.inf,
                       non_bypassable_per_kwh=ex.non_bypassable_per_kwh, minimum_per_month=ex.minimum_per_month)


def _sell_price(name: str, price, cal: Calendar, rates: _Rates, avoided_cost: np.ndarray | None) -> np.ndarray:
    """Net billing's export price of every step. [currency/kWh], shape (n_steps,)"""
    names, period, rate, rtp, cpp = rates
    if price == "retail":
        p = rate[period, 0]
        if rtp is not None:
            p = p + rtp
        if cpp is not None:
            p = p + cpp
        return np.ascontiguousarray(p, dtype=float)
    if price == "avoided_cost":
        if avoided_cost is None or len(avoided_cost) != cal.n_steps:
            raise InputError(Problem(f"tariffs.{name}", None, "export.price",
                                     "avoided_cost needs the grid's energy cost per step handed to compile_tariff "
                                     "(avoided_cost=...), which this caller does not do; give a number, periods or a "
                                     "CSV series of the avoided cost here"))
        return np.array(avoided_cost, dtype=float)
    if isinstance(price, PeriodPrices):
        return np.array([price.periods[n.split(".")[-1]] for n in names])[period]
    if isinstance(price, ExportSchedule):
        own = tuple(price.periods)
        per, _ = compile_schedule(price, own, cal)
        return np.array([price.periods[p] for p in own])[per]
    if isinstance(price, (int, float)):
        return np.full(cal.n_steps, float(price))
    return np.array(read_series(price, cal), dtype=float)


def _energy_rates(tariff, cal: Calendar) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray | None]:
    """Energy rate periods: their names, the period of every step, the (period x tier)
    price table (tier adders and season multipliers applied) and the real-time price of
    every step (None without one; zeros where it is formed from the system load in a run)."""
    n_tiers = tariff.tiers.n_tiers if tariff.tiers else 1
    adders = np.asarray(tariff.tiers.adders_per_kwh, dtype=float) if tariff.tiers and tariff.tiers.adders_per_kwh \
        else np.zeros(n_tiers)
    rtp = None
    if isinstance(tariff, TouTariff):
        names = tuple(tariff.periods)
        period, season = compile_schedule(tariff, names, cal)
        rate = np.stack([_tier_prices(tariff.periods[p].price_per_kwh, n_tiers) for p in names]) + adders[None, :]
        adders = np.zeros(n_tiers)  # applied: season multipliers scale every energy price, adders included
        if tariff.season_multipliers:
            # one rate period per (season, period): the same period costs more in a dear season
            season_names = tuple(tariff.seasons)
            mult = np.array([tariff.season_multipliers.get(s, 1.0) for s in season_names])
            combo = np.repeat(season, cal.steps_per_day).astype(np.int32) * len(names) + period
            used, period = np.unique(combo, return_inverse=True)
            period = period.astype(np.int16)
            rate = rate[used % len(names)] * mult[used // len(names)][:, None]
            names = tuple(f"{season_names[u // len(names)]}.{names[u % len(names)]}" for u in used)
    elif isinstance(tariff, FlatTariff):
        names = ("all",)
        period = np.zeros(cal.n_steps, dtype=np.int16)
        rate = _tier_prices(tariff.price_per_kwh, n_tiers)[None, :]
    elif isinstance(tariff, RtpTariff):
        names = ("all",)
        period = np.zeros(cal.n_steps, dtype=np.int16)
        rate = np.zeros((1, 1))
        if isinstance(tariff.prices, str):  # formed day by day in a run (sim.grid)
            rtp = np.zeros(cal.n_steps)
        else:
            series = read_series(tariff.prices, cal)
            rtp = series * tariff.multiplier + tariff.adder_per_kwh
            if tariff.floor_per_kwh is not None:
                rtp = np.maximum(rtp, tariff.floor_per_kwh)
    else:
        raise TypeError(f"unknown tariff type {type(tariff).__name__}")
    return names, period, rate + adders[None, :], rtp


def _programmes(tariff, cal: Calendar, rate: np.ndarray, period: np.ndarray, rtp: np.ndarray | None) -> dict:
    """The event programmes' and the storage meter's fields of a compiled tariff: listed
    events as step masks, their adders and rebates, contract terms."""
    extra: dict = {"cpp_adder": None}
    if tariff.critical_peak is not None:
        cp = tariff.critical_peak
        mask, _ = event_steps(cp.events, cal)
        cpp = np.zeros(cal.n_steps)
        extra.update(cpp_event=mask, cpp_adder=cpp)
        if cp.price_adder_per_kwh is not None:
            cpp[mask] = cp.price_adder_per_kwh
        else:  # for prices formed from the system load the grid redoes this each day
            base = rate[period[mask], 0] + (rtp[mask] if rtp is not None else 0.0)
            cpp[mask] = (cp.price_multiplier - 1.0) * base
    if tariff.peak_time_rebate is not None:
        ptr = tariff.peak_time_rebate
        mask, days = event_steps(ptr.events, cal)
        extra.update(ptr_rate=ptr.rebate_per_kwh, ptr_event=mask,
                     ptr_eligible_day=(cal.day_type == WEEKDAY) & ~days,
                     ptr_method=(ptr.baseline.highest, ptr.baseline.of_last))
    if tariff.interruptible is not None:
        it = tariff.interruptible
        mask, _ = event_steps(it.events, cal)
        first = np.datetime64(cal.start, "D")
        ev_days = np.array([int((np.datetime64(ev.date, "D") - first).astype(int)) for ev in it.events], dtype=int)
        ev_days = ev_days[(ev_days >= 0) & (ev_days < cal.days)]
        extra.update(intr_event=mask, intr_events_by_day=np.bincount(ev_days, minlength=cal.days),
                     intr_credit_per_kw_month=it.credit_per_kw_month, intr_credit_per_kw_event=it.credit_per_kw_event,
                     intr_penalty_per_kwh=it.penalty_per_kwh)
    if tariff.storage_rate is not None:
        sr = tariff.storage_rate
        if sr.price_per_kwh is not None:
            extra["storage_price"] = np.full(cal.n_steps, sr.price_per_kwh)
        else:
            names_s = tuple(sr.periods)
            per_s, _ = compile_schedule(sr.as_schedule(), names_s, cal)
            extra["storage_price"] = np.array([sr.periods[p] for p in names_s])[per_s]
    return extra


def _demand(tariff, cal: Calendar) -> dict:
    """The demand-charge fields of a compiled tariff: the flat rate of each billing month,
    TOU demand periods and rates, the ratchet."""
    demand = tariff.demand
    month_of_billing = np.array([int(lbl[5:7]) for lbl in cal.month_labels])
    flat_rate = np.zeros(cal.n_months)
    d_period, d_names, d_rate, ratchet = None, (), np.zeros(0), None
    blocks: dict = {}
    if demand is not None:
        def by_month(r):
            return np.asarray(r, dtype=float)[month_of_billing - 1] if isinstance(r, list) else np.full(cal.n_months, float(r))
        if demand.blocks is None:
            flat_rate = by_month(demand.per_kw_month)
        else:
            blocks["demand_blocks_kw"] = np.array(demand.blocks.bounds_kw, dtype=float)
            blocks["demand_block_rate"] = np.stack([by_month(r) for r in demand.blocks.per_kw_month])
        if demand.tou is not None:
            d_names = tuple(demand.tou.periods)
            d_period, _ = compile_schedule(demand.tou, d_names, cal)
            d_period = d_period.astype(np.int8)
            periods = [demand.tou.periods[p] for p in d_names]
            d_rate = np.array([0.0 if p.blocks is not None else p.per_kw_month for p in periods])
            if any(p.blocks is not None for p in periods):
                width = max(len(p.blocks.bounds_kw) for p in periods if p.blocks is not None)
                bounds, rates = np.full((len(periods), width), np.inf), np.zeros((len(periods), width + 1))
                for k, p in enumerate(periods):
                    if p.blocks is not None:
                        bounds[k, :len(p.blocks.bounds_kw)] = p.blocks.bounds_kw
                        rates[k, :len(p.blocks.per_kw_month)] = p.blocks.per_kw_month
                blocks["demand_period_blocks_kw"], blocks["demand_period_block_rate"] = bounds, rates
        if demand.ratchet is not None:
            ratchet = (demand.ratchet.share, demand.ratchet.months)
    return {"demand_rate_by_month": flat_rate, "demand_period": d_period, "demand_period_names": d_names,
            "demand_period_rate": d_rate, "ratchet": ratchet, **blocks}
