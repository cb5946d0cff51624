"""Shards: the customers of a run, or the stream blocks of each segment one process holds.

A shard builds its customers, keeps their state (bill accumulators, thermal stores,
response sums) and runs the block step (:func:`sim.engine.step.block_day`) over its chunks
when the clock asks; at the end it reads its segments out as frozen
:class:`~sim.outcome.SegmentOutcome` arrays.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..behavior.registry import ModelSetup, model_for
from ..network.placement import PieceSums
from ..network.topology import placement_of
from ..calendar import Calendar
from ..outcome import ROLES, SegmentOutcome
from ..population import STREAM_BLOCK, SegmentPopulation, build_segment
from ..population.segments import CHOICE, block_stream
from ..rowmath import block_sum
from ..scenario.behavior import models_of
from ..scenario.schema import Scenario
from ..tariffs import BillAccumulator, BillSet, CompiledTariff, DayContext, compile_tariff, listed_day
from ..tariffs.billing import ChoiceBills, SubsetBills
from ..weather import weather_of
from .backends import trim_heap
from .step import DayInputs, block_day, chunks

__all__ = ["DEFAULT_CHUNK", "Forecast", "SegmentState", "Shard", "compile_all", "forecast_population"]

#: Default number of customers processed together in memory (a multiple of STREAM_BLOCK).
DEFAULT_CHUNK = 4 * STREAM_BLOCK


def compile_all(scenario: Scenario, cal: Calendar) -> dict[str, CompiledTariff]:
    """Every tariff of the scenario, compiled (frozen) on the calendar."""
    return {name: compile_tariff(name, t, cal) for name, t in scenario.tariffs.items()}


@dataclass
class SegmentState:
    """One segment's customers in a shard while the run goes on: their population, bill
    accumulators, storage state and response sums (read out as a
    :class:`sim.outcome.SegmentOutcome` at the end).

    Attributes
    ----------
    population : SegmentPopulation
    tariffs : dict role -> tuple of CompiledTariff
        The tariff of the role, or the tariffs of its menu.
    bills : dict role -> BillSet or ChoiceBills
    spec : Segment
        The scenario's segment.
    soc : dict model name -> dict role -> (n,) state of charge [kWh], or None
        One entry per model of the segment that keeps a state of charge from day to day
        (``stores_energy``: the thermal store, the home battery), so that several coexist.
    structural : list of (BillAccumulator or None), or None
        The baseline role's load billed on each tariff of the scenario role (its menu, and
        the baseline tariff of those not enrolled): None for a tariff that is the baseline
        tariff itself (the baseline bill is that bill); None where every scenario tariff is
        the baseline tariff.
    stats : dict
        Running sums of the response (see behavior.pipeline.respond).
    models : list of ResponseModel
        The segment's registered behaviour models, in stage order.
    """

    population: SegmentPopulation
    tariffs: dict[str, tuple[CompiledTariff, ...]]
    bills: dict
    spec: object = None
    soc: dict | None = None
    structural: list | None = None
    stats: dict = field(default_factory=dict)
    models: list = field(default_factory=list)
    net: PieceSums | None = None  #: the network's per-piece load sums (the scenario's network segment only)
    #: role -> the gross load (final main-meter load plus generation) of the customers with a
    #: generator billed on their tariffs, rows of those customers only; None without any
    #: (rooftop PV: the cost shift, sim.prosumers.cost_shift)
    gross: dict | None = None
    generator: object = None      #: the segment's model that ``generates`` (rooftop PV), or None

    @property
    def observers(self) -> list:
        """The segment's models that read the final main-meter load (``observes_meter``)."""
        return [m for m in self.models if m.observes_meter]

    @property
    def needs_month_peak(self) -> bool:
        """A model of the segment reads each customer's baseline peak of the month so far."""
        return any(m.needs_month_peak for m in self.models)

    @classmethod
    def build(cls, seg, scenario: Scenario, cal: Calendar, compiled: dict, blocks) -> "SegmentState":
        """The customers of segment ``seg`` in stream blocks ``blocks`` ((first, stop) or
        None: all), with their bills on the compiled tariffs."""
        pop = build_segment(seg, cal, scenario.seed, blocks, _temperature(scenario, cal))
        spans = pop.blocks
        tariffs = {r: tuple(compiled[name] for name, _ in seg.tariff.options(r)) for r in ROLES}
        if seg.participation.enrolment is not None:  # those not enrolled stay on the baseline tariff
            tariffs["scenario"] = tariffs["scenario"] + (compiled[seg.tariff.baseline],)
        choice = {"baseline": np.zeros(pop.n, dtype=np.int64),
                  "scenario": pop.uptake.menu_choice if pop.uptake.menu_choice is not None
                  else np.zeros(pop.n, dtype=np.int64)}
        bills = {r: BillSet(tariffs[r], choice[r], cal, pop.contracts.contract_kva, pop.contracts.firm_kw, spans)
                 for r in ROLES}
        if seg.tariff.choice is not None:  # customers switch within the menu: shadow bills on every tariff
            streams = [((lo, hi), block_stream(scenario.seed, seg.name, b, CHOICE))
                       for b, (lo, hi) in zip(pop.block_ids, spans)]
            bills["scenario"] = ChoiceBills(tariffs["scenario"], choice["scenario"], cal, seg.tariff.choice,
                                            streams, pop.contracts.contract_kva, pop.contracts.firm_kw)
        # the baseline load billed on each scenario tariff: who wins or loses without changing
        # anything (the structural bill change, sim.equity)
        base_name = tariffs["baseline"][0].name
        structural = [None if t.name == base_name else
                      BillAccumulator(t, pop.n, cal, pop.contracts.contract_kva, pop.contracts.firm_kw, spans)
                      for t in tariffs["scenario"]]
        if all(acc is None for acc in structural):
            structural = None
        _share_maxima(structural, bills["baseline"])
        models = sorted((model_for(m) for m in models_of(seg.behavior)), key=lambda m: m.stage)
        weather = weather_of(scenario, cal)
        for m in models:
            m.read_inputs(weather, cal)
        soc = {m.name: {r: np.zeros(pop.n) for r in ROLES} for m in models if m.stores_energy} or None
        stats = {**{f"utility_{r}": np.zeros(pop.n) for r in ROLES},
                 "interruptible_requested_kwh": np.zeros(pop.n), "interruptible_delivered_kwh": np.zeros(pop.n),
                 **{k: v for m in models for k, v in m.new_stats(pop.n, spans, cal.n_steps).items()}}
        for m in models:  # decisions made once for the run (an electrification choice)
            m.prepare(ModelSetup(pop, tariffs, cal, scenario, stats))
        state = cls(pop, tariffs, bills, seg, soc, structural, stats, models)
        generator = next((m for m in models if m.generates), None)
        if generator is not None:
            members = generator.generators(pop.n, pop.params[generator.name])
            if len(members):
                state.generator = generator
                state.gross = {r: SubsetBills(bills[r], members, cal, pop.contracts.contract_kva,
                                              pop.contracts.firm_kw, spans) for r in ROLES}
        return state

    def close_month(self, m: int) -> None:
        for gross in (self.gross or {}).values():  # first: a menu's moves take effect after the month
            gross.close_month(m)
        for acc in self.structural or ():  # before the baseline bill, which resets the maxima they read
            if acc is not None:
                acc.close_month(m)
        for bills in self.bills.values():
            bills.close_month(m)

    def readout(self) -> SegmentOutcome:
        """The finished segment as frozen arrays (the customers' state stays behind)."""
        pop = self.population
        bills = {r: b.readout() for r, b in self.bills.items()}
        structural = None
        if self.structural is not None:
            structural = np.stack([bills["baseline"].bill if acc is None else acc.bill for acc in self.structural])
        net = None if self.net is None else {"kw": self.net.kw, "group": self.net.group}
        for r, gross in (self.gross or {}).items():
            self.stats[f"{self.generator.name}_gross_bill_{r}"][gross.members] = gross.bill
        return SegmentOutcome(pop.name, pop.customer_class, pop.n, self.tariffs, bills, {}, self.stats,
                              pop.elasticity, self.soc, structural, self.spec, net)


def _share_maxima(structural: list | None, baseline) -> None:
    """Let each structural accumulator read the month's running maxima of the baseline bill
    (:meth:`BillAccumulator.maxima_from`) where it bills the very same load: one baseline
    tariff for all the customers (``block_day`` bills the baseline role's load on it and on
    each structural tariff, rows alike), and a thermal-storage load either on a meter of its
    own under both tariffs or added to the main meter under both."""
    if structural is None or not baseline.single:
        return
    base = baseline.accs[0]
    for acc in structural:
        if acc is not None and (acc.tariff.storage_price is None) == (base.tariff.storage_price is None):
            acc.maxima_from(base)


class Shard:
    """The customers of a run, or the stream blocks of each segment one process holds.

    A shard builds its customers (each stream block draws from its own streams, so a
    customer is the same whichever shard holds it), bills them, and computes each day's
    loads when the coordinator (:func:`sim.engine.simulate`) asks. It returns the system
    load of each of its stream blocks; the coordinator adds the blocks of all shards in
    block order, so a run gives the same bits however its blocks are spread (chunks,
    processes, machines).

    Parameters
    ----------
    scenario : Scenario
    blocks : dict segment name -> (first, stop), optional
        Stream blocks of each segment to hold (default: all).
    chunk_customers : int
        Customers processed together in memory.
    compiled : dict name -> CompiledTariff, optional
        The coordinator's compiled tariffs, shared when the shard lives in its process; a
        shard elsewhere compiles its own (the same frozen arrays).
    """

    def __init__(self, scenario: Scenario, blocks: dict | None = None, chunk_customers: int = DEFAULT_CHUNK,
                 compiled: dict | None = None):
        self.scenario = scenario
        self.cal = cal = Calendar.from_scenario(scenario)
        self.step_h = cal.step_minutes / 60.0
        self.compiled = compiled if compiled is not None else compile_all(scenario, cal)
        self.segments: dict[str, SegmentState] = {
            seg.name: SegmentState.build(seg, scenario, cal, self.compiled, None if blocks is None else blocks[seg.name])
            for seg in scenario.populations}
        self.work = [(s, chunks(s.population.blocks, chunk_customers)) for s in self.segments.values()]
        if scenario.network is not None:
            attach_network(self.segments[scenario.network.segment], self.work, scenario.network, cal.n_steps)
        self.limits = scenario.network is not None and scenario.network.limit is not None
        self._factors: dict = {}
        self._factors_day = -1
        self.busy_s = 0.0  #: time spent computing days [s] (how evenly shards share the work)

    # ---------------------------------------------------------------- coordinator's calls

    def network_size(self) -> int:
        """Rows of the network segment up to the last one held (the placement's ``n`` when
        this shard holds the segment's last block)."""
        s = self.segments[self.scenario.network.segment]
        return s.population.first_block * STREAM_BLOCK + s.population.n

    def network_groups(self) -> np.ndarray:
        """The group of each piece of the network segment held, in order."""
        return self.segments[self.scenario.network.segment].net.group

    def forecast_inputs(self) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """Per segment: the sum of mean loads of each stream block held, and (measured
        profiles) how many customers take each column. For the operator's forecast."""
        return [(s.population.mean_kw_by_block(), column_counts(s.population)) for s in self.segments.values()]

    def day(self, d: int, streak: dict, commit: bool, changed: dict) -> list[np.ndarray]:
        """All customers' loads on day ``d``; with ``commit``, bill them and keep their state.

        ``changed``: tariff name -> the tariff's TariffDay of day ``d`` where it differs
        from the listed day (called events, formed prices: the coordinator's
        :meth:`~sim.grid.days.GridDays.changed`); every other tariff's day is its listed one.

        Returns, per segment, the load of each stream block held summed over its customers,
        shape (roles, blocks, spd). Without ``commit`` nothing changes but the cache of the
        day's random level factors, so the pass can be repeated (the real-time price fixed
        point)."""
        return self._pass(d, streak, commit, changed, None)[0]

    def limit_day(self, d: int, streak: dict, commit: bool, changed: dict,
                  grid: np.ndarray | None) -> tuple[list[np.ndarray], np.ndarray]:
        """As :meth:`day`, with the grid events ``grid`` (bool (roles, transformers, spd), or
        None: none) reaching the network segment's customers on each transformer (the
        grid limits, :mod:`sim.grid.limits`). Returns the blocks' sums and the network
        segment's load over each piece held, shape (roles, pieces, spd) [kW]."""
        return self._pass(d, streak, commit, changed, grid)

    def _pass(self, d: int, streak: dict, commit: bool, changed: dict, grid) -> tuple[list, np.ndarray | None]:
        started = time.perf_counter()
        cal = self.cal
        spd = cal.steps_per_day
        if d != self._factors_day:  # each block's daily stream is drawn once a day
            self._factors, self._factors_day = {}, d
        contexts = {name: DayContext(t, d, spd, day=changed[name] if name in changed else listed_day(t, d, spd))
                    for name, t in self.compiled.items()}
        day = DayInputs(d, contexts, streak, commit, int(cal.billing_month[d]), cal.days, spd, self.step_h)
        result, pieces = [], None
        for s, work in self.work:
            sums = np.zeros((len(ROLES), _n_blocks(work), spd))
            result.append(sums)
            if s.net is not None and self.limits:
                pieces = np.zeros((len(ROLES), len(s.net.group), spd))
            for k, chunk in enumerate(work):
                events = None if grid is None or s.net is None else grid_rows(grid, s.net.transformers_of_chunk(k))
                out = block_day(s, chunk, day, self._day_factors(s, chunk), events)
                sums[:, chunk.first_block:chunk.stop_block] = out.sums
                loads = [(out.load[r], out.storage[r]) for r in ROLES] if s.net is not None else None
                if commit and s.net is not None:
                    s.net.add(k, slice(d * spd, (d + 1) * spd), loads)
                if pieces is not None and not commit:
                    s.net.day_sums(k, loads, pieces)
            if pieces is not None and commit:
                pieces = s.net.kw[:, :, d * spd:(d + 1) * spd].copy()
        self.busy_s += time.perf_counter() - started
        return result, pieces

    def _day_factors(self, s: SegmentState, chunk) -> np.ndarray:
        """The day's random level factor of each customer of ``chunk`` (drawn once a day)."""
        key = (s.spec.name, chunk.rows.start)
        found = self._factors.get(key)
        if found is None:
            pop = s.population
            sizes = np.diff(chunk.bounds)  # each stream block's customers
            found = self._factors[key] = np.concatenate(
                [pop.load.daily_factor(pop.first_block + k, int(size))
                 for k, size in zip(range(chunk.first_block, chunk.stop_block), sizes)])
        return found

    def days(self, d0: int, d1: int, streaks: list[dict], changed: list[dict],
             close: int | None = None) -> list[np.ndarray]:
        """Days ``d0`` to ``d1 - 1``, committed, with each day's event streaks and changed
        tariff days (as :meth:`day`), then (with ``close``) billing month ``close`` closed; per segment the blocks'
        sums, shape (roles, blocks, (d1 - d0) x spd)."""
        spd = self.cal.steps_per_day
        out = [np.empty((len(ROLES), _n_blocks(work), (d1 - d0) * spd)) for _, work in self.work]
        for j, d in enumerate(range(d0, d1)):
            for o, part in zip(out, self.day(d, streaks[j], True, changed[j])):
                o[:, :, j * spd:(j + 1) * spd] = part
        if close is not None:
            self.close_month(close)
        return out

    def busy(self) -> float:
        return self.busy_s

    def close_month(self, m: int) -> None:
        for s in self.segments.values():
            s.close_month(m)

    def readout(self, trim: bool = True) -> list[SegmentOutcome]:
        """The shard's finished segments as frozen arrays, for the coordinator.

        The shard lets go of its customers' state (the read-out keeps what the results
        need): a worker's memory is freed as its part reaches the coordinator. With
        ``trim``, the freed heap goes back to the system before the read-out is pickled."""
        out = [s.readout() for s in self.segments.values()]
        self.segments, self.work, self._factors = {}, [], {}
        if trim:
            trim_heap()
        return out


def attach_network(s: SegmentState, work: list, network, n_steps: int) -> None:
    """Give the network's segment its per-piece load sums (sim.network.placement)."""
    pop = s.population
    row0 = pop.first_block * STREAM_BLOCK
    placement = placement_of(network, row0 + pop.n)
    seg_work = next(w for st, w in work if st is s)
    s.net = PieceSums(placement, row0, seg_work, n_steps, len(ROLES))


def grid_rows(grid: np.ndarray, transformer: np.ndarray) -> dict | None:
    """The grid events of a chunk's customers: role -> bool (rows, spd), or None for a role
    whose customers have none; None where no customer has one. ``grid``: bool (roles,
    transformers, spd); ``transformer``: each row's transformer."""
    out = {}
    for r, role in enumerate(ROLES):
        rows = grid[r][transformer]
        out[role] = rows if rows.any() else None
    return out if any(v is not None for v in out.values()) else None


def _n_blocks(work: list) -> int:
    """Stream blocks held of a segment, from its chunks (which cover them all, in order)."""
    return work[-1].stop_block if work else 0


def column_counts(pop: SegmentPopulation) -> np.ndarray | None:
    """Measured profiles: how many of the customers take each column (else None)."""
    load = pop.load
    return None if load.column is None else np.bincount(load.column, minlength=load.curve.shape[1])


class Forecast:
    """What the operator's forecast needs of a segment: its shared curves, the sum of its
    customers' mean loads (added in block order) and, for measured profiles, how many
    customers take each column (see :func:`sim.grid.operator.expected_day_load`)."""

    def __init__(self, pop: SegmentPopulation, mean_kw_by_block: np.ndarray, counts):
        self.curve, self.common, self.steps_per_day = pop.load.curve, pop.load.common, pop.load.steps_per_day
        if pop.load.cooling is not None:  # the weather's load, as perfectly forecast as the rest
            self.curve = self.curve + pop.load.cooling + pop.load.heating
        self.mean_kw_total = float(block_sum(mean_kw_by_block, ()))
        self.column_counts = counts

    @classmethod
    def of(cls, pop: SegmentPopulation) -> "Forecast":
        """The forecast inputs of a whole segment's population."""
        return cls(pop, pop.mean_kw_by_block(), column_counts(pop))


def forecast_population(scenario: Scenario, cal: Calendar, seg) -> SegmentPopulation:
    """A segment's shared curves (no customers), for the operator's forecast in the coordinator."""
    return build_segment(seg, cal, scenario.seed, (0, 0), _temperature(scenario, cal))


def _temperature(scenario: Scenario, cal: Calendar) -> np.ndarray | None:
    """The run's outdoor temperature per step (days, spd), or None without weather."""
    w = weather_of(scenario, cal)
    return None if w is None else w.temp_c
