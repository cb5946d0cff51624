"""What of a tariff changes from day to day: :class:`TariffDay`, beside the frozen tariff.

A compiled tariff (:class:`sim.tariffs.compile.CompiledTariff`) never changes once
compiled: it holds the schedule, the rates and the events *listed* in the scenario. What
is only known as the run goes (real-time prices formed from the system load, events the
operator calls a day ahead) comes as a small per-day value, a :class:`TariffDay`, made by
the grid side (:mod:`sim.grid.days`). Billing and behaviour read the two together.

:func:`listed_day` is the tariff's day from its listed events alone: what
:func:`sim.tariffs.billing.bill_loads` bills outside a run, and the start of the grid's
day in a run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compile import CompiledTariff


@dataclass(frozen=True)
class TariffDay:
    """One tariff's values that change from day to day, over a span of days (one in a run).

    Attributes
    ----------
    rtp : ndarray, shape (steps,), or None
        Real-time energy price of each step; None for a tariff without one. [currency/kWh]
    cpp_adder : ndarray, shape (steps,), or None
        Critical-peak adder of each step, 0 outside events; None for a tariff without a
        critical-peak programme. [currency/kWh]
    cpp_event : ndarray of bool, shape (steps,), or None
        Steps of critical-peak events (listed or called).
    ptr_event : ndarray of bool, shape (steps,), or None
        Steps of peak-time-rebate events (listed or called); None without the programme.
    ptr_eligible : bool
        The day may serve as a baseline day of the rebate's customer baseline (a weekday
        without an event).
    intr_event : ndarray of bool, shape (steps,), or None
        Steps of interruptible events (listed or called); None without the programme.
    intr_events : int
        Interruptible events on the span (a credit per kW and event is paid for each).
    """

    rtp: np.ndarray | None
    cpp_adder: np.ndarray | None
    cpp_event: np.ndarray | None
    ptr_event: np.ndarray | None
    ptr_eligible: bool
    intr_event: np.ndarray | None
    intr_events: int

    @property
    def is_event_day(self) -> bool:
        """Whether any event programme has an event on the span (event fatigue counts these)."""
        return any(x is not None and x.any() for x in (self.cpp_event, self.ptr_event, self.intr_event))


def listed_day(tariff: CompiledTariff, d: int, spd: int, days: int = 1) -> TariffDay:
    """The tariff's days ``d`` to ``d + days - 1`` from what was compiled: listed events, and
    real-time prices from a series (a price to be formed from the system load is zero here:
    only a run knows it)."""
    span = slice(d * spd, (d + days) * spd)

    def part(a):
        return None if a is None else a[span]

    eligible = bool(tariff.ptr_eligible_day[d:d + days].all()) if tariff.ptr_eligible_day is not None else False
    events = int(tariff.intr_events_by_day[d:d + days].sum()) if tariff.intr_events_by_day is not None else 0
    return TariffDay(rtp=part(tariff.rtp_price), cpp_adder=part(tariff.cpp_adder), cpp_event=part(tariff.cpp_event),
                     ptr_event=part(tariff.ptr_event), ptr_eligible=eligible, intr_event=part(tariff.intr_event),
                     intr_events=events)


def critical_peak_adder(tariff: CompiledTariff, event: np.ndarray, period: np.ndarray,
                        rtp: np.ndarray | None) -> np.ndarray:
    """Critical-peak adder of some steps from their event flags: the programme's adder, or
    (multiplier - 1) x (first-tier price + real-time price), 0 outside events.
    [currency/kWh]"""
    cp = tariff.source.critical_peak
    if cp.price_adder_per_kwh is not None:
        return np.where(event, cp.price_adder_per_kwh, 0.0)
    base = tariff.rate[period, 0] + (rtp if rtp is not None else 0.0)
    return np.where(event, (cp.price_multiplier - 1.0) * base, 0.0)
