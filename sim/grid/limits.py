"""Grid limits: the network operator keeps each transformer and feeder under a capacity,
day-ahead, by calling grid events for the customers on the affected unit only.

Each day ``d``, before it runs, the operator forecasts every unit's load of the day in both
tariff roles and calls an event in the steps where the forecast apparent power exceeds the
unit's limit. Its forecast is the load the unit's customers would draw that day without
the day's grid events: the day-ahead plans of their devices (stores, chargers) on the
day's known prices, and their other load, taken as perfectly forecast (a trial pass of the
day that commits nothing). With ``rounds`` > 1 it forecasts again with the events called so
far, and adds the steps still over the limit (the load the events moved elsewhere). A
feeder's event reaches every transformer on it. The models that can follow the event
(managed EV charging, thermal storage, interruptible contracts) read it as
``PriceDay.grid_event`` (docs/network.md, "Grid limits").

This module is numpy only: it sees the units' load series the clock builds from the
shards' per-piece sums (the same bits whatever the workers), and never a customer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GridLimits", "LimitSpec", "UNIT_KINDS"]

#: The units a limit applies to, in the order of every array here.
UNIT_KINDS = ("transformers", "feeders")

#: Per-unit figures of the ledger (:meth:`GridLimits.summary`), in order.
FIGURES = ("event_days", "event_steps", "event_hours", "curtailed_kwh", "max_curtailed_kw",
           "hours_over_limit_without_events", "hours_over_limit")


@dataclass(frozen=True)
class LimitSpec:
    """A scenario's grid limits as the operator applies them.

    Attributes
    ----------
    transformer_kva, feeder_kva : float or None
        Each transformer's and feeder's limit (None: none). [kVA]
    power_factor : float
        kVA = kW / power factor.
    per_feeder : int
        Transformers on each feeder (the last feeder: the remainder).
    rounds : int
        Forecasts per day.
    step_hours : float
    """

    transformer_kva: float | None
    feeder_kva: float | None
    power_factor: float
    per_feeder: int
    rounds: int
    step_hours: float

    @classmethod
    def of(cls, network, step_hours: float) -> "LimitSpec":
        """The limits of a scenario's ``network`` section (its ``limit``): a transformer limit
        given, or the transformers' rating unless only a feeder limit is given."""
        lim = network.limit
        t = lim.transformer_kva
        if t is None and lim.feeder_kva is None:
            t = network.transformer_kva
        return cls(t, lim.feeder_kva, network.power_factor, network.transformers_per_feeder, lim.rounds, step_hours)

    def limits(self) -> tuple:
        return self.transformer_kva, self.feeder_kva


class GridLimits:
    """The operator's grid events of a run and their ledger.

    Parameters
    ----------
    spec : LimitSpec
    transformers, feeders : int
    roles : int
    """

    def __init__(self, spec: LimitSpec, transformers: int, feeders: int, roles: int):
        self.spec = spec
        self.sizes = (transformers, feeders)
        self.feeder_of = np.arange(transformers) // spec.per_feeder
        self.ledger = {kind: {f: np.zeros((roles, n)) for f in FIGURES} for kind, n in zip(UNIT_KINDS, self.sizes)}
        self.log: list[dict] = []

    def over(self, units: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Steps where each unit's load exceeds its limit: per kind, bool (roles, units, spd)
        (all False for a kind without a limit). ``units``: the transformers' and feeders'
        load (roles, units, spd) [kW]."""
        out = []
        for kw, limit in zip(units, self.spec.limits()):
            out.append(np.zeros(kw.shape, dtype=bool) if limit is None else kw / self.spec.power_factor > limit)
        return out[0], out[1]

    def call(self, units: tuple, called: tuple | None) -> tuple[tuple, bool]:
        """Add the steps of ``units`` (a forecast) over the limits to the events ``called``
        (per kind, bool (roles, units, spd), or None: none yet). Returns the events and
        whether any step was added."""
        over = self.over(units)
        if called is None:
            return over, any(o.any() for o in over)
        new = tuple(c | o for c, o in zip(called, over))
        return new, any((n & ~c).any() for n, c in zip(new, called))

    def customer_mask(self, called: tuple | None) -> np.ndarray | None:
        """The events as each transformer's customers see them: the transformer's own and
        its feeder's, bool (roles, transformers, spd); None without any."""
        if called is None or not any(c.any() for c in called):
            return None
        return called[0] | called[1][:, self.feeder_of]

    def record(self, d: int, date: str, first: tuple, actual: tuple, called: tuple | None) -> None:
        """Day ``d``'s ledger: ``first`` the forecast without events, ``actual`` the load
        the day ran with, each per kind (roles, units, spd) [kW]; ``called`` the events."""
        h = self.spec.step_hours
        for i, kind in enumerate(UNIT_KINDS):
            led = self.ledger[kind]
            limit = self.spec.limits()[i]
            if limit is not None:
                led["hours_over_limit_without_events"] += (first[i] / self.spec.power_factor > limit).sum(axis=2) * h
                led["hours_over_limit"] += (actual[i] / self.spec.power_factor > limit).sum(axis=2) * h
            if called is None:
                continue
            ev = called[i]
            cut = np.where(ev, first[i] - actual[i], 0.0)
            steps = ev.sum(axis=2)
            led["event_days"] += steps > 0
            led["event_steps"] += steps
            led["event_hours"] += steps * h
            led["curtailed_kwh"] += cut.sum(axis=2) * h
            led["max_curtailed_kw"] = np.maximum(led["max_curtailed_kw"], cut.max(axis=2))
            for r, u in zip(*np.nonzero(steps)):
                on = np.flatnonzero(ev[r, u])
                self.log.append({"role": int(r), "unit": kind[:-1], "index": int(u), "date": date,
                                 "first_step": int(on[0]), "last_step": int(on[-1]), "steps": int(len(on)),
                                 "forecast_peak_kw": float(first[i][r, u].max()),
                                 "peak_kw": float(actual[i][r, u].max()),
                                 "curtailed_kwh": float(cut[r, u].sum() * h)})

    def summary(self) -> dict:
        """The ledger: per kind, per figure, an array (roles, units); and the event log."""
        return {"spec": self.spec, "ledger": self.ledger, "log": self.log}
