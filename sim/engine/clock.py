"""The SimPy clock: days and monthly billing cycles over the shards of a run.

SimPy keeps time (one time unit = one day). The clock owns no customers: it asks every
shard (through a :class:`~sim.engine.backends.Backend`) for each day's stream-block load
sums, adds them in block order into the segment and system loads, and calls the grid side
between days (:class:`~sim.grid.days.GridDays`: the operator's events, the real-time price
fixed point). Processes:

* ``days`` steps through the horizon, one day pass of every shard per day (several, while
  real-time prices formed from the system load converge);
* ``billing`` closes each calendar month's bills when the month has passed;
* ``months`` replaces both when the shards run elsewhere and nothing links customers day
  by day (no operator, no real-time price formed from the system load): each shard runs a
  whole billing month per message;
* the operator's process (:func:`sim.grid.operator.operator_process`) calls tomorrow's
  events before today runs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import simpy

from .. import numerics
from ..calendar import Calendar
from ..errors import RunError
from ..grid import energy_cost_series, role_energy_cost
from ..grid.days import GridDays
from ..grid.limits import GridLimits, LimitSpec
from ..grid.operator import has_programme, listed_events, operator_process
from ..grid.rtp import solve_day
from ..network.placement import Placement, unit_series
from ..network.topology import placement_of
from ..outcome import ROLES, RunResult, SegmentOutcome
from ..rowmath import block_sum
from ..scenario.schema import Scenario
from ..behavior.registry import model_for
from ..scenario.behavior import models_of
from ..weather import weather_of
from .backends import Backend, DaskShards, InProcess, split_blocks, tune_allocator
from .shard import DEFAULT_CHUNK, Forecast, Shard, compile_all, forecast_population

__all__ = ["simulate"]


def simulate(scenario: Scenario, *, chunk_customers: int = DEFAULT_CHUNK,
             progress: Callable[[int, int], None] | None = None, shards: int = 1, client=None) -> RunResult:
    """Run a scenario: baseline and scenario tariffs on the same customers and draws.

    Parameters
    ----------
    scenario : Scenario
    chunk_customers : int
        Customers processed together in memory, rounded down to whole stream blocks
        (at least one). Results do not depend on it.
    progress : callable(days_done, days), optional
    shards : int
        Split each segment's stream blocks over this many shards. Without ``client`` they
        run one after another in this process (the same result: a test of the split);
        with ``client``, ``shards`` is ignored and there is one shard per worker.
    client : distributed.Client, optional
        Spread the customers over the client's workers, one shard (a Dask actor) per worker;
        this process keeps the clock, the operator, the real-time price fixed point and the
        system load, and exchanges one message per shard and day pass (per billing month
        when nothing links customers day by day: no operator, no real-time price formed
        from the system load). Results do not depend on the number of workers.

    Returns
    -------
    RunResult (metrics not yet computed)
    """
    tune_allocator()
    cal = Calendar.from_scenario(scenario)
    compiled = compile_all(scenario, cal)
    weather = weather_of(scenario, cal)  # read (and checked: bad input stops the run here) before any customer
    for seg in scenario.populations:  # and the models' own inputs (rooftop PV: its profiles, measured files)
        for spec in models_of(seg.behavior):
            model_for(spec).read_inputs(weather, cal)
    if client is not None:
        workers = sorted(client.scheduler_info()["workers"])
        if not workers:
            raise RunError("the Dask cluster has no workers")
        _check_worker_numerics(client)
        split = split_blocks(scenario, cal, len(workers))
        backend = DaskShards(client, Shard, [(scenario, b, chunk_customers) for b in split], workers)
        local = None
    elif shards > 1:
        backend = InProcess([Shard(scenario, b, chunk_customers) for b in split_blocks(scenario, cal, shards)])
        local = None
    else:
        local = Shard(scenario, None, chunk_customers, compiled)
        backend = InProcess([local])
    try:
        result = Clock(scenario, cal, compiled, backend, local, progress).run()
        busy = backend.call("busy")  # seconds each shard computed: how evenly the work was shared
    finally:
        backend.close()
    result.execution = {"shards": backend.size, "where": "dask" if client is not None else "this process"}
    result.shard_busy_s = busy
    if client is not None:
        result.execution["scheduler"] = str(client.scheduler.address)
    return result


def _check_worker_numerics(client) -> None:
    """Refuse Dask workers whose numerical kernels differ from this process's (their shards'
    bits would differ from an in-process run's: sim/numerics.py), unless the user asked for
    each machine's own kernels (``DRSIM_NATIVE_NUMERICS=1``)."""
    own = numerics.profile()
    if own["status"].startswith("native: DRSIM_NATIVE_NUMERICS"):
        return
    bad = numerics.differing(own, client.run(numerics.profile))
    if bad:
        raise RunError(f"Dask workers {', '.join(bad)} use other numerical kernels than this process "
                       f"({', '.join(f'{k}={own.get(k)}' for k in numerics.KERNEL_KEYS)}), so their results would "
                       "differ in the last bits; start them with NPY_DISABLE_CPU_FEATURES and OPENBLAS_CORETYPE "
                       "as this process has them (docs/architecture.md, 'Same bits'), or set DRSIM_NATIVE_NUMERICS=1 "
                       "here to accept each machine's own")


class Clock:
    """The coordinator of one run: time, the grid's days and the system load (see
    :func:`simulate`).

    Parameters
    ----------
    scenario : Scenario
    cal : Calendar
    compiled : dict name -> CompiledTariff
    backend : Backend
        The shards.
    local : Shard or None
        The one shard, when it lives in this process (its segments' curves serve the
        operator's forecast); None when the customers are split over shards.
    progress : callable(days_done, days), optional
    """

    def __init__(self, scenario: Scenario, cal: Calendar, compiled: dict, backend: Backend, local: Shard | None,
                 progress: Callable[[int, int], None] | None = None):
        self.scenario, self.cal, self.compiled = scenario, cal, compiled
        self.backend, self.local, self.progress = backend, local, progress
        self.names = [seg.name for seg in scenario.populations]
        self.spd = cal.steps_per_day
        self.load_kw = {name: {r: np.zeros(cal.n_steps) for r in ROLES} for name in self.names}
        self.system_rtp = [t for t in compiled.values() if t.rtp_from_system]
        self.grid_days = GridDays(compiled, cal)  # called events and formed prices: the tariffs stay as compiled
        self.streak = {name: 0 for name in compiled}  # consecutive event days of each tariff, today included
        self.rtp_log: list[dict] = []
        self.days_done = 0
        month_end = np.flatnonzero(np.diff(cal.billing_month)) + 1  # first day of each new month
        self.month_end = np.append(month_end, cal.days)
        self.limits: GridLimits | None = None  # the grid limits' operator (set up by the first day)
        self.placement: Placement | None = None
        self.limit_groups = np.zeros(0, dtype=np.int64)

    # ------------------------------------------------------------------ the day's passes

    def combine(self, parts: list, steps: slice, commit: bool) -> dict:
        """The shards' block sums of some steps (per shard and segment: roles x blocks x
        steps) added in block order: segment loads (kept with ``commit``) and the system load."""
        system = {}
        every = []
        for i, name in enumerate(self.names):
            blocks = np.concatenate([p[i] for p in parts], axis=1)  # (roles, blocks, steps), block order
            every.append(blocks)
            if commit:
                for r, role in enumerate(ROLES):
                    self.load_kw[name][role][steps] = block_sum(blocks[r], blocks.shape[2:])
        allb = np.concatenate(every, axis=1)
        for r, role in enumerate(ROLES):
            system[role] = block_sum(allb[r], allb.shape[2:])
        return system

    def day_pass(self, d: int, commit: bool) -> dict:
        """Every shard's day at the tariff days the grid holds; the system load of the day per
        role, blocks added in order."""
        days = self.grid_days.day(d)
        parts = self.backend.call("day", d, dict(self.streak), commit, self.grid_days.changed(d, days))
        if commit:
            self.grid_days.record(d, days)
        return self.combine(parts, slice(d * self.spd, (d + 1) * self.spd), commit)

    def advance_streaks(self, d: int) -> dict:
        """Today's tariff days (before any price is formed), and each tariff's event streak."""
        days = self.grid_days.day(d)
        for name, day in days.items():
            self.streak[name] = self.streak[name] + 1 if day.is_event_day else 0
        return days

    def step_day(self, d: int) -> None:
        self.advance_streaks(d)
        if self.system_rtp:  # real-time prices formed from the scenario's own system load: a fixed point
            self.rtp_log.append(solve_day(d, self.system_rtp, self.scenario.grid, self.grid_days,
                                          lambda day: self.day_pass(day, commit=False)))
        if self.scenario.network is not None and self.scenario.network.limit is not None:
            self.limit_day(d)
        else:
            self.day_pass(d, commit=True)

    # ------------------------------------------------------------------ grid limits

    def units(self, parts: list) -> tuple[np.ndarray, np.ndarray]:
        """The transformers' and feeders' load of a day from the shards' per-piece sums
        (pieces in shard order: block order), as the run's network adds them."""
        pieces = np.concatenate([p[1] for p in parts], axis=1)
        group = self.limit_groups
        return unit_series({"kw": pieces, "group": group}, self.placement)

    def start_limits(self) -> None:
        """The grid limits' operator, and the pieces' groups of every shard in order."""
        spec = self.scenario.network
        n = max(self.backend.call("network_size"))
        self.placement = placement_of(spec, n)
        self.limit_groups = np.concatenate(self.backend.call("network_groups"))
        self.limits = GridLimits(LimitSpec.of(spec, self.cal.step_minutes / 60.0), self.placement.transformers,
                                 self.placement.feeders, len(ROLES))

    def limit_day(self, d: int) -> None:
        """Day ``d`` under the grid limits (:mod:`sim.grid.limits`): forecasts of the day
        without committing (the first without grid events, each further one with those
        called so far), events where a unit's forecast exceeds its limit, then the day
        committed with them; the events and what they did go to the operator's ledger."""
        if self.limits is None:
            self.start_limits()
        days = self.grid_days.day(d)
        changed = self.grid_days.changed(d, days)
        called, first = None, None
        for _ in range(self.limits.spec.rounds):
            parts = self.backend.call("limit_day", d, dict(self.streak), False, changed,
                                      self.limits.customer_mask(called))
            forecast = self.units(parts)
            first = forecast if first is None else first
            called, added = self.limits.call(forecast, called)
            if not added:
                break
        grid = self.limits.customer_mask(called)
        parts = self.backend.call("limit_day", d, dict(self.streak), True, changed, grid)
        self.grid_days.record(d, days)
        self.combine([p[0] for p in parts], slice(d * self.spd, (d + 1) * self.spd), True)
        self.limits.record(d, str(self.cal.dates[d]), first, self.units(parts), None if grid is None else called)

    # ------------------------------------------------------------------ SimPy processes

    def billing(self, env: simpy.Environment):
        for m, end in enumerate(self.month_end):
            yield env.timeout(int(end) - env.now)
            if self.days_done != end:  # the clock must have finished the month
                raise RuntimeError(f"billing month {m} closed after {self.days_done} days, expected {end}")
            self.backend.call("close_month", m)

    def days(self, env: simpy.Environment):
        for d in range(self.cal.days):
            self.step_day(d)
            self.days_done = d + 1
            if self.progress is not None:
                self.progress(d + 1, self.cal.days)
            yield env.timeout(1)

    def months(self, env: simpy.Environment):
        """Shards in other processes with nothing to learn from the system day by day (no
        operator, no real-time price formed from the system load): each runs a whole
        billing month per message and closes its bills, the same days as :meth:`days` in
        the same order. Nothing the coordinator learns changes a later month, so the
        months are all planned here and every shard goes on to its next month without
        waiting for the others (``each``)."""
        calls, d = [], 0
        for m, end in enumerate(self.month_end):
            streaks, days = [], []
            for day in range(d, int(end)):
                today = self.advance_streaks(day)
                self.grid_days.record(day, today)
                days.append(self.grid_days.changed(day, today))
                streaks.append(dict(self.streak))
            calls.append((d, int(end), streaks, days, m))
            d = int(end)
        for (d, end, *_), parts in zip(calls, self.backend.each("days", calls)):
            self.combine(parts, slice(d * self.spd, end * self.spd), True)
            if self.progress is not None:
                self.progress(end, self.cal.days)
            yield env.timeout(end - d)

    def operator(self, env: simpy.Environment, log: list[dict]):
        """The operator's process, on forecasts of every segment's expected load."""
        scenario, compiled = self.scenario, self.compiled
        inputs = self.backend.call("forecast_inputs")
        # a shard in this process lends its segments' shared curves; elsewhere they are built here
        holder = self.backend.shards[0] if isinstance(self.backend, InProcess) else None
        forecasts = []
        for i, seg in enumerate(scenario.populations):
            by_block = np.concatenate([p[i][0] for p in inputs])
            cols = [p[i][1] for p in inputs]
            counts = None if cols[0] is None else np.sum(cols, axis=0)
            pop = (holder.segments[seg.name].population if holder is not None
                   else forecast_population(scenario, self.cal, seg))
            forecasts.append(Forecast(pop, by_block, counts))
        operated: dict[str, None] = {}  # the scenario tariffs of every segment, in order
        for seg in scenario.populations:
            operated.update({name: None for name, _ in seg.tariff.options("scenario")})
            if seg.participation.enrolment is not None:
                operated[seg.tariff.baseline] = None
        targets = {p: [compiled[n] for n in operated if has_programme(compiled[n], p)]
                   for p in scenario.operator.programmes}
        return operator_process(env, scenario.operator, self.cal, forecasts, targets, log, self.grid_days)

    # ------------------------------------------------------------------------- the run

    def run(self) -> RunResult:
        """Run the horizon and read the shards out."""
        scenario, cal = self.scenario, self.cal
        env = simpy.Environment()
        # shards elsewhere with nothing to learn from the system day by day run month by month
        # and close each month's bills with its days; otherwise the clock goes day by day
        monthly = (self.local is None and not self.system_rtp and scenario.operator is None
                   and (scenario.network is None or scenario.network.limit is None))
        if not monthly:
            env.process(self.billing(env))  # created first: at a month boundary, bills close before the next day
        log: list[dict] = listed_events(self.compiled, cal)
        if scenario.operator is not None:  # then the operator: tomorrow's events are called before today runs
            env.process(self.operator(env, log))
        env.process(self.months(env) if monthly else self.days(env))
        env.run()
        segments = self.readout()
        system = {r: np.sum([s.load_kw[r] for s in segments.values()], axis=0) for r in ROLES}
        series = energy_cost_series(scenario.grid, cal)
        cost = {r: role_energy_cost(scenario.grid, series, system[r]) for r in ROLES}
        events = event_performance(log, system, cal)
        return RunResult(scenario, cal, segments, system, cost, {}, events, self.rtp_log,
                         realized=self.grid_days.realized(),
                         grid_limits=None if self.limits is None else self.limits.summary())

    def readout(self) -> dict[str, SegmentOutcome]:
        """Every segment's outcome, joined from its shards in block order, with its load."""
        if self.local is not None:
            segments = {o.name: o for o in self.local.readout(trim=False)}
        else:
            parts = self.backend.call("readout")
            segments = {}
            for i, name in enumerate(self.names):  # each segment's parts dropped once joined
                segments[name] = SegmentOutcome.concat([p[i] for p in parts if p[i].n > 0] or [parts[0][i]])
                for p in parts:
                    p[i] = None
            del parts
        return {name: seg.with_load(self.load_kw[name]) for name, seg in segments.items()}


def event_performance(log: list[dict], system: dict, cal: Calendar) -> list[dict]:
    """Each event, in date order, with the system load in its steps: mean baseline and
    scenario kW and the reduction delivered."""
    spd = cal.steps_per_day
    first = np.datetime64(cal.start, "D")
    out = []
    for ev in sorted(log, key=lambda e: (e["date"], e["start_step"], e["programme"], e["tariff"])):
        d = int((np.datetime64(ev["date"], "D") - first).astype(int))
        steps = slice(d * spd + ev["start_step"], d * spd + ev["stop_step"])
        b, s = float(system["baseline"][steps].mean()), float(system["scenario"][steps].mean())
        out.append({**ev, "baseline_kw": b, "scenario_kw": s, "reduction_kw": b - s})
    return out
