"""The grid's state of a run, day by day: called events and formed prices as tariff days.

Tariffs are compiled once and never change (:mod:`sim.tariffs.compile`). What the grid
side learns as the run goes lives here instead: the events the operator calls a day ahead
(:mod:`sim.grid.operator`) and the real-time prices formed from the system load
(:mod:`sim.grid.rtp`). :meth:`GridDays.day` turns them, with each tariff's listed
events, into the day's :class:`~sim.tariffs.day.TariffDay` of every tariff: the small
value that billing and behaviour read beside the frozen tariff. Shards are sent only the
days that differ from the listed ones (:meth:`GridDays.changed`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..calendar import Calendar
from ..tariffs import CompiledTariff, TariffDay, listed_day
from ..tariffs.day import critical_peak_adder

#: Event programmes the operator can call, as the TariffDay field that marks their steps.
PROGRAMME_FIELD = {"critical_peak": "cpp_event", "peak_time_rebate": "ptr_event", "interruptible": "intr_event"}


@dataclasses.dataclass(frozen=True)
class Realized:
    """What a tariff actually charged over the horizon, day values joined (None where the
    tariff has no such part): real-time prices [currency/kWh], critical-peak adders
    [currency/kWh], and the steps of critical-peak, rebate and interruptible events
    (listed and called), each shape (n_steps,)."""

    rtp_price: np.ndarray | None
    cpp_adder: np.ndarray | None
    cpp_event: np.ndarray | None
    ptr_event: np.ndarray | None
    intr_event: np.ndarray | None


class GridDays:
    """Called events and formed real-time prices of a run, and each day's tariff days.

    Parameters
    ----------
    compiled : dict name -> CompiledTariff
        Every tariff of the scenario, as compiled (never changed here).
    calendar : Calendar
    """

    def __init__(self, compiled: dict[str, CompiledTariff], calendar: Calendar):
        self.compiled = compiled
        self.cal = calendar
        self.spd = calendar.steps_per_day
        self._called: dict[tuple[str, int], dict[str, np.ndarray]] = {}  # (tariff, day) -> programme -> steps
        self._rtp: dict[tuple[str, int], np.ndarray] = {}                # (tariff, day) -> formed price
        self._realized = {name: {f.name: None if getattr(t, f.name) is None else np.zeros_like(getattr(t, f.name))
                                 for f in dataclasses.fields(Realized)} for name, t in compiled.items()}

    def call(self, tariff: str, programme: str, d: int, start: int, stop: int) -> None:
        """The operator calls an event of ``programme`` on tariff ``tariff``, day ``d``, steps
        [start, stop) of the day."""
        steps = self._called.setdefault((tariff, d), {}).setdefault(programme, np.zeros(self.spd, dtype=bool))
        steps[start:stop] = True
        if programme == "interruptible":
            counts = self._called[tariff, d]
            counts["interruptible_events"] = counts.get("interruptible_events", 0) + 1

    def set_rtp(self, tariff: str, d: int, price: np.ndarray) -> None:
        """The real-time price of tariff ``tariff`` on day ``d``, formed from the system load. [currency/kWh]"""
        self._rtp[tariff, d] = price

    def day(self, d: int) -> dict[str, TariffDay]:
        """Every tariff's day ``d``: listed events, called events and formed prices."""
        return {name: self.tariff_day(t, d) for name, t in self.compiled.items()}

    def changed(self, d: int, days: dict[str, TariffDay]) -> dict[str, TariffDay]:
        """Of the tariff days ``days`` of day ``d``, those that differ from the tariff's
        listed day (called events, formed prices): what a shard, which lists the rest
        itself (:func:`~sim.tariffs.day.listed_day`), needs to be sent."""
        return {name: day for name, day in days.items() if (name, d) in self._called or (name, d) in self._rtp}

    def tariff_day(self, t: CompiledTariff, d: int) -> TariffDay:
        """One tariff's day ``d``."""
        listed = listed_day(t, d, self.spd)
        called = self._called.get((t.name, d), {})
        rtp = self._rtp.get((t.name, d))
        if not called and rtp is None:
            return listed
        changes: dict = {}
        if rtp is not None:
            changes["rtp"] = rtp
        for programme, name in PROGRAMME_FIELD.items():
            if programme in called and getattr(listed, name) is not None:
                changes[name] = getattr(listed, name) | called[programme]
        if "peak_time_rebate" in called:
            changes["ptr_eligible"] = False  # an event day is no baseline day
        if "interruptible_events" in called:
            changes["intr_events"] = listed.intr_events + called["interruptible_events"]
        if listed.cpp_event is not None and ("cpp_event" in changes or rtp is not None):
            # a multiplier applies to the day's price, real-time part included
            period = t.period[d * self.spd:(d + 1) * self.spd]
            event = changes.get("cpp_event", listed.cpp_event)
            changes["cpp_adder"] = critical_peak_adder(t, event, period, changes.get("rtp", listed.rtp))
        return dataclasses.replace(listed, **changes)

    def record(self, d: int, days: dict[str, TariffDay]) -> None:
        """Keep the tariff days a committed day ``d`` was billed with (:meth:`realized`)."""
        steps = slice(d * self.spd, (d + 1) * self.spd)
        fields = {"rtp_price": "rtp", "cpp_adder": "cpp_adder", "cpp_event": "cpp_event", "ptr_event": "ptr_event",
                  "intr_event": "intr_event"}
        for name, day in days.items():
            arrays = self._realized[name]
            for field, attr in fields.items():
                if arrays[field] is not None:
                    arrays[field][steps] = getattr(day, attr)

    def realized(self) -> dict[str, Realized]:
        """Per tariff, what it charged over the horizon (the committed days recorded)."""
        return {name: Realized(**arrays) for name, arrays in self._realized.items()}
