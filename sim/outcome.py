"""What a run hands on: frozen arrays of bills, loads and response sums, per segment.

This module owns the values that cross from the simulation to its readers: the engine
(and billing, for the bills) builds them once a run is finished; :mod:`sim.metrics`,
:mod:`sim.results` and the reports read them and nothing else. It sits in the lowest layer
(it imports numpy and :mod:`sim.rowmath` only), so that every layer can name the roles
and read a result without importing the engine.

Every array here is read-only once built: a reader cannot change what another reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .rowmath import block_sum

#: The two tariff roles of every run: the same customers and draws, billed and responding
#: under the baseline tariff and under the scenario tariff.
ROLES = ("baseline", "scenario")


def _frozen(a: np.ndarray | None) -> np.ndarray | None:
    if a is not None:
        a.flags.writeable = False
    return a


@dataclass(frozen=True)
class MonthlySums:
    """One tariff's (or, with choice, the paid bills') sums over a segment's customers by
    month, kept per stream block.

    The block sums are added in block order only when read (:func:`sim.rowmath.block_sum`),
    so the months' sums come out the same to the bit however a run's blocks were spread over
    chunks, processes or machines.

    Attributes
    ----------
    label : str
        The tariff's name (``a+b`` for the bills paid within a menu with choice).
    by_block : ndarray, shape (blocks, months, charges)  [currency]
    kwh_by_block : ndarray, shape (blocks, months)  [kWh]
    """

    label: str
    by_block: np.ndarray
    kwh_by_block: np.ndarray

    def __post_init__(self):
        _frozen(self.by_block), _frozen(self.kwh_by_block)

    @property
    def monthly(self) -> np.ndarray:
        """(months, charges) sums over the customers. [currency]"""
        return block_sum(self.by_block, self.by_block.shape[1:])

    @property
    def monthly_kwh(self) -> np.ndarray:
        """(months,) energy summed over the customers. [kWh]"""
        return block_sum(self.kwh_by_block, self.kwh_by_block.shape[1:])


@dataclass(frozen=True)
class BillArrays:
    """A segment's bills in one role, by customer (segment order) and charge.

    Attributes
    ----------
    tariff_names : tuple of str
        The role's tariff, or the tariffs of its menu (``choice`` indexes them).
    choice : ndarray of int64, shape (n,)
        The tariff each customer is on (with switching: at the end of the horizon).
    total : ndarray, shape (n, charges)
        Each customer's horizon total of each charge (:data:`sim.tariffs.CHARGES` order);
        with switching, of the bills it paid. [currency]
    kwh : ndarray, shape (n,)
        Each customer's metered energy over the horizon. [kWh]
    peak_kw : ndarray, shape (n,)
        Each customer's largest step load. [kW]
    sheets : tuple of MonthlySums
        Segment sums by month: one per tariff of the role, or (with switching) one of the
        bills paid.
    switches : ndarray of int64, shape (n,), or None
        Within a menu with choice: how often each customer moved; else None.
    shadow_last_month : ndarray, shape (options, n), or None
        Within a menu with choice: each customer's last month billed on every tariff.
    """

    tariff_names: tuple[str, ...]
    choice: np.ndarray
    total: np.ndarray
    kwh: np.ndarray
    peak_kw: np.ndarray
    sheets: tuple[MonthlySums, ...]
    switches: np.ndarray | None = None
    shadow_last_month: np.ndarray | None = None

    def __post_init__(self):
        for a in (self.choice, self.total, self.kwh, self.peak_kw, self.switches, self.shadow_last_month):
            _frozen(a)

    @property
    def n(self) -> int:
        return len(self.kwh)

    @property
    def bill(self) -> np.ndarray:
        """Each customer's total bill over the horizon. [currency]"""
        return self.total.sum(axis=1)

    @property
    def monthly(self) -> np.ndarray:
        """(months, charges) sums over the segment of the bills paid. [currency]"""
        if self.switches is not None:  # one sheet: the bills paid
            return self.sheets[0].monthly
        return sum(s.monthly for s in self.sheets)

    @property
    def monthly_kwh(self) -> np.ndarray:
        """(months,) energy summed over the segment. [kWh]"""
        if self.switches is not None:
            return self.sheets[0].monthly_kwh
        return sum(s.monthly_kwh for s in self.sheets)

    @classmethod
    def concat(cls, parts: list["BillArrays"]) -> "BillArrays":
        """The bills of consecutive runs of customers (stream blocks in order), as one."""
        if len(parts) == 1:
            return parts[0]

        def join(name, axis=0):
            arrays = [getattr(p, name) for p in parts]
            return None if arrays[0] is None else np.concatenate(arrays, axis=axis)

        sheets = tuple(MonthlySums(s.label, np.concatenate([p.sheets[k].by_block for p in parts]),
                                   np.concatenate([p.sheets[k].kwh_by_block for p in parts]))
                       for k, s in enumerate(parts[0].sheets))
        return cls(parts[0].tariff_names, join("choice"), join("total"), join("kwh"), join("peak_kw"), sheets,
                   join("switches"), join("shadow_last_month", axis=1))

    def __getstate__(self) -> dict:
        """Pickled (a shard's read-out sent to the coordinator) without the charge columns of
        ``total`` that are all zeros, bit for bit (most tariffs use two or three of the
        charges): about half the bytes of a read-out."""
        state = self.__dict__.copy()
        total = state["total"]
        used = np.flatnonzero((total.view(np.uint64) != 0).any(axis=0))   # -0.0 counts as used
        state["total"] = (total.shape, used, np.ascontiguousarray(total[:, used]))
        return state

    def __setstate__(self, state: dict) -> None:
        shape, used, columns = state["total"]
        total = np.zeros(shape)
        total[:, used] = columns
        state["total"] = _frozen(total)
        for k, v in state.items():
            object.__setattr__(self, k, v)
        for a in (self.choice, self.kwh, self.peak_kw, self.switches, self.shadow_last_month):
            _frozen(a)


@dataclass(frozen=True)
class SegmentOutcome:
    """One segment's outcome: what its customers paid, drew and did, as arrays.

    Attributes
    ----------
    name, customer_class : str
    n : int
        Customers.
    tariffs : dict role -> tuple of CompiledTariff
        The role's tariff, or the tariffs of its menu (frozen: as compiled).
    bills : dict role -> BillArrays
    load_kw : dict role -> ndarray, shape (n_steps,)
        The segment's total load in each step. [kW]
    stats : dict name -> ndarray, shape (n,) (or (blocks, n_steps): per stream block)
        Per-customer sums of the response over the horizon (``consumer_surplus``
        [currency], ``interruptible_requested_kwh``, ``interruptible_delivered_kwh`` [kWh],
        a model's own, such as ``ev_kwh_<role>``), or a model's sums per stream block and
        step (``ev_block_kw_<role>`` [kW]).
    elasticity : ndarray, shape (n,)
        Each customer's own-price elasticity (constant-elasticity model; 0 without it).
    soc : dict model name -> dict role -> ndarray, shape (n,), or None
        Each storing model's state of charge at the end (``thermal_storage``,
        ``battery``). [kWh]
    structural_bill : ndarray, shape (options, n), or None
        Each customer's baseline-role load billed on every tariff of the scenario role (its
        menu, and the baseline tariff of customers not enrolled): who wins or loses without
        changing anything. None where the scenario tariff is the baseline tariff (the
        structural bill is then the baseline bill). [currency]
    spec : Segment
        The scenario's segment.
    network : dict or None
        The scenario's network segment only: ``kw``, shape (roles, pieces, n_steps), its
        load summed over each piece (rows of one stream block on one load point, in block
        order) [kW], and ``group``, shape (pieces,), each piece's load point
        (:mod:`sim.network.placement`).
    """

    name: str
    customer_class: str
    n: int
    tariffs: dict
    bills: dict
    load_kw: dict
    stats: dict
    elasticity: np.ndarray
    soc: dict | None = None
    structural_bill: np.ndarray | None = None
    spec: object = None
    network: dict | None = None

    def __post_init__(self):
        for a in (self.elasticity, self.structural_bill, *(self.network or {}).values(), *self.stats.values(), *self.load_kw.values(),
                  *(a for by_role in (self.soc or {}).values() for a in by_role.values())):
            _frozen(a)

    @classmethod
    def concat(cls, parts: list["SegmentOutcome"]) -> "SegmentOutcome":
        """One segment from the outcomes of its consecutive stream blocks (shards), in order."""
        first = parts[0]
        if len(parts) == 1:
            return first

        def cat(arrays, axis=0):
            return np.concatenate(list(arrays), axis=axis)

        return cls(first.name, first.customer_class, sum(p.n for p in parts), first.tariffs,
                   {r: BillArrays.concat([p.bills[r] for p in parts]) for r in first.bills},
                   first.load_kw, {k: cat(p.stats[k] for p in parts) for k in first.stats},
                   cat(p.elasticity for p in parts),
                   None if first.soc is None else {m: {r: cat(p.soc[m][r] for p in parts) for r in first.soc[m]}
                                                   for m in first.soc},
                   None if first.structural_bill is None else cat((p.structural_bill for p in parts), axis=1),
                   first.spec, None if first.network is None else
                   {"kw": cat((p.network["kw"] for p in parts), axis=1),
                    "group": cat(p.network["group"] for p in parts)})

    def with_load(self, load_kw: dict) -> "SegmentOutcome":
        """The same outcome with the segment's load series (added by the coordinator)."""
        return replace(self, load_kw=load_kw)


@dataclass
class RunResult:
    """Everything a run produced, as arrays and values; ``metrics`` is filled by
    :func:`sim.metrics.compute`.

    Attributes
    ----------
    scenario : Scenario
    calendar : Calendar
    segments : dict name -> SegmentOutcome
    system_load_kw : dict role -> ndarray, shape (n_steps,)  [kW]
    energy_cost_per_kwh : dict role -> ndarray, shape (n_steps,)
        Cost of energy per metered kWh in each step, losses included. [currency/kWh]
    metrics : dict
    """

    scenario: object
    calendar: object
    segments: dict[str, SegmentOutcome]
    system_load_kw: dict[str, np.ndarray]
    energy_cost_per_kwh: dict[str, np.ndarray]
    metrics: dict
    events: list = field(default_factory=list)  #: event log: listed and operator-called events
    rtp_iterations: list = field(default_factory=list)  #: per day: fixed-point iterations of system RTP
    execution: dict = field(default_factory=dict)  #: where the customers ran: shards, workers (results do not depend on it)
    shard_busy_s: list = field(default_factory=list)  #: seconds each shard spent computing days
    #: tariff name -> what it charged over the horizon: listed and called events, formed prices
    realized: dict = field(default_factory=dict)
    #: the scenario's network section: loads, load balance and power flow (sim.network.analysis), or None
    network: object = None
    #: the grid limits' events and ledger (sim.grid.limits.GridLimits.summary), or None without limits
    grid_limits: dict | None = None
