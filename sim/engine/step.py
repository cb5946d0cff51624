"""The block step: one chunk of a segment's customers through one day.

:func:`block_day` is the whole of a day's work on customers: their baseline load, their
response in each tariff role (from the same draws: common random numbers), the meter reads
(with ``commit``, into the role's bill accumulators) and each stream block's load summed
over its customers. It reads the frozen tariffs with the day's
:class:`~sim.tariffs.TariffDay` values (through each tariff's
:class:`~sim.tariffs.DayContext`) and nothing of the clock, so it runs the same whether a
shard in this process or one on a Dask worker calls it.

Order of the roles: the baseline first, then the scenario (demand shaving reads the
baseline's main-meter load of the day).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..behavior.pipeline import PriceDay, respond, response_day, strength
from ..behavior.prices import ExportValue
from ..outcome import ROLES
from ..population import STREAM_BLOCK
from ..rowmath import block_column_sums
from ..tariffs import CompiledTariff, DayContext
from ..weather import DayWeather

__all__ = ["BlockDay", "Chunk", "DayInputs", "block_day", "chunks"]


@dataclass(frozen=True)
class DayInputs:
    """What the clock gives every block for one day.

    Attributes
    ----------
    d : int
        Day of the horizon.
    contexts : dict tariff name -> DayContext
        Each frozen tariff with its TariffDay of day ``d``.
    streak : dict tariff name -> int
        Consecutive event days of each tariff, today included (event fatigue).
    commit : bool
        Bill the day and keep the customers' state (else a trial pass: the real-time price
        fixed point).
    bills_closed : int
        Billing months closed before today (learning).
    days, steps_per_day : int
    step_hours : float
    """

    d: int
    contexts: dict
    streak: dict
    commit: bool
    bills_closed: int
    days: int
    steps_per_day: int
    step_hours: float


@dataclass(frozen=True)
class Chunk:
    """Consecutive whole stream blocks of a segment, processed together in memory.

    Attributes
    ----------
    rows : slice
        The chunk's customers (rows of the segment held).
    first_block, stop_block : int
        The stream blocks it holds (indices among the segment's blocks held).
    bounds : ndarray of int
        Each stream block's first row within the chunk, then the chunk's length.
    """

    rows: slice
    first_block: int
    stop_block: int
    bounds: np.ndarray


def chunks(blocks: list[tuple[int, int]], chunk_customers: int) -> list[Chunk]:
    """Whole stream blocks (``(start, stop)`` rows each) grouped into chunks of about
    ``chunk_customers`` customers (at least one block)."""
    per_chunk = max(1, chunk_customers // STREAM_BLOCK)
    out = []
    for c in range(0, len(blocks), per_chunk):
        stop = min(c + per_chunk, len(blocks))
        a, b = blocks[c][0], blocks[stop - 1][1]
        bounds = np.array([lo - a for lo, _ in blocks[c:stop]] + [b - a])
        out.append(Chunk(slice(a, b), c, stop, bounds))
    return out


@dataclass
class BlockDay:
    """A chunk's day.

    Attributes
    ----------
    load : dict role -> ndarray, shape (rows, spd)
        Main-meter load of each customer after the response. [kW]
    storage : dict role -> ndarray, shape (rows, spd), or None
        Load on a storage meter of its own (fixed storage, and thermal-storage charging
        where a tariff meters it apart). [kW]
    sums : ndarray, shape (roles, blocks, spd)
        Each stream block's main-meter and storage load summed over its customers, in row
        order. [kW]
    """

    load: dict = field(default_factory=dict)
    storage: dict = field(default_factory=dict)
    sums: np.ndarray | None = None


@dataclass
class _Chunkday:
    """The day's inputs of a chunk shared by its roles."""

    rows: slice
    base: np.ndarray                       #: baseline load before any response (n, spd) [kW]
    fixed_storage: np.ndarray | None       #: fixed storage load (n, spd) or None [kW]
    priced: dict                           #: role -> (marginal prices, their row groups or None)
    strength: np.ndarray                   #: today's response strength (n,)
    base_main: np.ndarray | None = None    #: the baseline role's main-meter load, once known
    grid: dict | None = None               #: role -> the grid events of each customer (n, spd) bool, or None


def block_day(seg, chunk: Chunk, day: DayInputs, factors: np.ndarray, grid: dict | None = None) -> BlockDay:
    """One day of the customers of ``chunk`` in segment state ``seg`` (a shard's
    :class:`~sim.engine.shard.SegmentState`), both roles; ``factors``: the day's random
    level factor of each of its customers; ``grid``: role -> each customer's grid events
    (bool (rows, spd), or None), or None (the grid limits, :mod:`sim.grid.limits`). With
    ``day.commit``, the meter reads go into the role's bill accumulators and the storage
    state and response sums are kept."""
    pop, rows, spd = seg.population, chunk.rows, day.steps_per_day
    base = pop.load.base_load(rows, day.d, factors)
    # behaviour sees prices only: the marginal price of each step under each role
    priced = {r: seg.bills[r].day_price_groups(day.d, spd, rows, day.contexts) for r in ROLES}
    cd = _Chunkday(rows, base, pop.contracts.storage_load(rows), priced,
                   strength(pop, seg.spec.participation, day.d, day.days, day.bills_closed, rows), grid=grid)
    out = BlockDay(sums=np.empty((len(ROLES), chunk.stop_block - chunk.first_block, spd)))
    for r, role in enumerate(ROLES):
        load, charges = _respond_role(seg, role, cd, day)
        if role == "baseline":
            cd.base_main = load
        load, storage = _meters(seg, role, cd, day, load, charges)
        if day.commit:
            if seg.gross is not None:   # first: its pass over the PV rows reads their exports too
                _bill_gross(seg, role, rows, day, load, storage)
            for model in seg.observers:  # the final main-meter load (rooftop PV: its exports)
                model.observe(role, rows, load, seg.population.params[model.name], seg.stats, day.step_hours)
        _read_meters(seg, role, chunk, day, load, storage, out.sums[r])
        out.load[role], out.storage[role] = load, storage
    return out


def _respond_role(seg, role: str, cd: _Chunkday, day: DayInputs) -> tuple[np.ndarray, list]:
    """The role's main-meter load of the chunk after the response, and the thermal stores'
    charging (rows of the chunk, their loads)."""
    bills, base = seg.bills[role], cd.base
    load = None
    charges = []
    for k, mask, _ in bills.split(cd.rows):
        tariff = bills.tariffs[k]
        # the customers' rows in the segment: a slice (views of their parameters) when all
        idx = cd.rows if mask is None else np.arange(cd.rows.start, cd.rows.stop)[mask]
        fatigue = seg.spec.participation.event_fatigue ** max(day.streak[tariff.name] - 1, 0)
        got, ch = _respond_tariff(seg, role, cd, day, tariff, mask, idx, fatigue)
        if mask is None:
            load = got
        else:
            if load is None:
                load = np.empty_like(base)
            load[mask] = got
        if ch is not None:
            charges.append((ch[0] if mask is None else np.flatnonzero(mask)[ch[0]], ch[1]))
    return load, charges


def _respond_tariff(seg, role: str, cd: _Chunkday, day: DayInputs, tariff: CompiledTariff,
                    mask: np.ndarray | None, idx, fatigue: float) -> tuple[np.ndarray, tuple | None]:
    """The response of the customers of the chunk on one tariff of the role (``mask``: which
    of the chunk's rows; None: all) through the behaviour pipeline."""
    ctx, contexts = day.contexts[tariff.name], day.contexts
    prices, groups = cd.priced[role]
    own = _price_day(tariff, ctx, _prices_of(prices, mask), groups if mask is None else None)
    events = None if cd.grid is None else cd.grid[role]
    if events is not None:  # the grid events of these customers (the grid limits)
        events = events if mask is None else events[mask]
        own = replace(own, grid_event=events if events.any() else None)
    ref_tariff = seg.bills["baseline"].tariffs[0]
    ref = _price_day(ref_tariff, contexts[ref_tariff.name], _prices_of(cd.priced["baseline"][0], mask))
    scen = role == "scenario"
    peak = None
    if scen and seg.needs_month_peak:
        # the baseline peak of the month so far, today included (the same in every pass of
        # the day, whether or not today is billed yet)
        today = cd.base_main if mask is None else cd.base_main[mask]
        peak = np.maximum(seg.bills["baseline"].accs[0].month_max_so_far(idx), today.max(axis=1))
    rday = response_day(role, cd.base if mask is None else cd.base[mask], ref, own,
                        _rows_of(cd.strength, mask) * (fatigue if scen else 1.0), fatigue if scen else 1.0,
                        day.step_hours, idx=idx, mean_kw=seg.population.load.mean_kw, month_peak_kw=peak,
                        stats=seg.stats if day.commit else None,
                        soc=None if seg.soc is None else {k: v[role][idx] for k, v in seg.soc.items()},
                        weather=_day_weather(seg.population.load, day.d), d=day.d)
    got, ch, soc = respond(seg.models, seg.population, rday)
    if soc is not None and day.commit:
        for k, v in soc.items():
            seg.soc[k][role][idx] = v
    return got, ch


def _meters(seg, role: str, cd: _Chunkday, day: DayInputs, load: np.ndarray,
            charges: list) -> tuple[np.ndarray, np.ndarray | None]:
    """Where thermal-storage charging is metered: on a storage meter of its own where a
    tariff the role's load is billed on has one, else added to the chargers' main-meter
    load (the same sums as adding a charging array that is zero elsewhere). Returns the
    main-meter load and the storage-meter load (or None)."""
    storage = cd.fixed_storage
    if not charges:
        return load, storage
    bills = seg.bills[role]
    if not _storage_metered(bills, seg.structural if role == "baseline" else None, day.contexts):
        if load is cd.base or load is cd.base_main:
            load = load.copy()
        for r, values in charges:
            load[r] += values
        return load, storage
    charge = np.zeros_like(cd.base)
    for r, values in charges:
        charge[r] = values
    return load, (charge if storage is None else storage + charge)


def _read_meters(seg, role: str, chunk: Chunk, day: DayInputs, load: np.ndarray, storage: np.ndarray | None,
                 sums: np.ndarray) -> None:
    """With ``day.commit``, bill the day's meter reads (and, in the baseline role within a
    menu with choice, on every menu tariff); each stream block's load summed into ``sums``
    (blocks, spd), taken in the billing pass where one tariff bills the whole load."""
    bills = seg.bills[role]
    fused = day.commit and storage is None and bills.single
    if day.commit:
        bills.add_day(chunk.rows, load, day.contexts, storage, (chunk.bounds, sums) if fused else None)
        if role == "baseline" and seg.structural is not None:
            for acc in seg.structural:
                if acc is not None:
                    acc.add_day(chunk.rows, load, day.contexts[acc.tariff.name], storage)
    if not fused:
        sums[:] = block_column_sums(load, storage, chunk.bounds)


def _bill_gross(seg, role: str, rows: slice, day: DayInputs, load: np.ndarray, storage: np.ndarray | None) -> None:
    """Bill the day's gross load of the chunk's customers with a generator (rooftop PV): the
    final main-meter load plus the generation, the storage meter as read, on the tariffs
    of the role (``seg.gross``)."""
    gen = seg.generator
    params = seg.population.params[gen.name]
    sub, gross = gen.gross_load(rows, day.d, load, params, day.step_hours)
    if not len(sub):
        return
    seg.gross[role].add_day(rows, gross, day.contexts, None if storage is None else storage[sub])


def _day_weather(load, d: int) -> DayWeather | None:
    """Day ``d``'s weather as the response models see it (None without weather)."""
    if load.temp_c is None:
        return None
    if load.cooling is None:  # a measured profile: its temperature-dependent load is in the profile
        zero = np.zeros(load.temp_c.shape[1])
        return DayWeather(load.temp_c[d], zero, zero)
    return DayWeather(load.temp_c[d], load.cooling[d], load.heating[d])


def _prices_of(price: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """The prices of some customers: a per-step vector (spd,) is shared by all; a per-customer
    (n, spd) array is cut to the rows in ``mask``."""
    return price if mask is None or price.ndim == 1 else price[mask]


def _rows_of(a: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Rows ``mask`` of a per-customer array (n,)."""
    return a if mask is None else a[mask]


def _storage_metered(bills, structural, contexts: dict) -> bool:
    """Whether any tariff a role's load is billed on has a storage meter of its own."""
    tariffs = list(bills.tariffs) + [acc.tariff for acc in structural or () if acc is not None]
    return any(contexts[t.name].storage_price is not None for t in tariffs)


def _price_day(t: CompiledTariff, ctx: DayContext, price: np.ndarray, groups=None) -> PriceDay:
    day = ctx.day
    cpp = ctx.cpp                                   # the day's critical-peak adders, None without any
    ptr = t.ptr_rate * day.ptr_event if day.ptr_event is not None and day.ptr_event.any() else None
    return PriceDay(price=price, storage_price=ctx.storage_price, period=ctx.period,
                    period_names=tuple(n.split(".")[-1] for n in t.period_names),
                    demand_price=t.demand_price, interruptible=ctx.intr_mask, groups=groups,
                    cpp_adder=cpp, ptr_adder=ptr, export=_export_value(t, ctx), **_notice(t))


def _notice(t: CompiledTariff) -> dict:
    """The notice (hours before an event starts) of a tariff's critical-peak and rebate programmes."""
    out = {}
    for field, part in (("cpp_notice_hours", "critical_peak"), ("ptr_notice_hours", "peak_time_rebate")):
        prog = getattr(t.source, part, None)   # (a tariff type without the programme has no such field)
        if prog is not None:
            out[field] = float(prog.notice_hours)
    return out


def _export_value(t: CompiledTariff, ctx: DayContext) -> ExportValue | None:
    """The tariff's export section as a day's dispatch reads it: net billing's export price of
    each step, net metering's money credits at their period's price, or (kWh credits) the
    import price; the export limit and the charge on imports. None without a section."""
    ex = t.export
    if ex is None:
        return None
    if ex.net_billing:
        price = ctx.export_sell
    elif ex.money_credits:
        price = ex.period_price[ctx.period]
    else:
        price = None
    return ExportValue(price, float(ex.limit_kw), float(ex.non_bypassable_per_kwh))
