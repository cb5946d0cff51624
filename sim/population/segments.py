"""Customer segments as arrays: per-customer parameters, random streams per block, base load.

A segment's customers are cut into fixed-size *stream blocks* of :data:`STREAM_BLOCK`
customers. Each stream block has its own random streams derived from
(scenario seed, segment name, block index, purpose), so a customer's draws never depend on
how blocks are grouped in memory or across processes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from .._jit import jit
from ..behavior.registry import CustomerParams, model_for
from ..calendar import Calendar, hours_mask
from ..scenario.behavior import models_of
from ..scenario.schema import CsvProfile, LogNormal, Normal, Param, Segment, Triangular, Uniform
from . import profiles
from .measured import read_measured_load
from .thermal import thermal_parts

#: Customers per stream block. Part of the model: changing it changes every draw.
STREAM_BLOCK = 4096

#: Purposes of the random streams of a block (spawn-key suffixes); GROUPS draws the
#: customers' groups for the equity figures (sim.equity).
PARAMS, DAILY, COMMON, CHOICE, GROUPS = 0, 1, 2, 3, 4


def block_stream(seed: int, segment: str, block: int, purpose: int) -> np.random.Generator:
    """The random generator of one stream block for one purpose.

    Keys are derived with :class:`numpy.random.SeedSequence` from the scenario seed and a
    stable hash (CRC-32) of the segment name, so segments can be reordered freely.
    """
    key = (zlib.crc32(segment.encode()), block, purpose)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def draw(param: Param, rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw a parameter for ``n`` customers (float64, shape (n,)).

    A plain number gives that value to everyone. Distributions: ``normal`` (optionally
    truncated to [min, max], sampled by inverse CDF), ``lognormal`` by its mean and
    coefficient of variation (negative mean: the negative of a log-normal; ``cap``: magnitudes
    beyond it set to it), ``uniform`` and ``triangular``.
    """
    if isinstance(param, (int, float)):
        return np.full(n, float(param))
    if isinstance(param, Normal):
        if param.sd == 0:
            return np.full(n, float(np.clip(param.mean, param.min if param.min is not None else -np.inf,
                                            param.max if param.max is not None else np.inf)))
        lo = -np.inf if param.min is None else (param.min - param.mean) / param.sd
        hi = np.inf if param.max is None else (param.max - param.mean) / param.sd
        u = rng.random(n)
        return stats.truncnorm.ppf(u, lo, hi, loc=param.mean, scale=param.sd)
    if isinstance(param, LogNormal):
        sigma = np.sqrt(np.log1p(param.cv ** 2))
        x = abs(param.mean) * np.exp(sigma * rng.standard_normal(n) - 0.5 * sigma ** 2)
        if param.cap is not None:
            x = np.minimum(x, param.cap)  # censored at the cap (docs/scenario.md section 6)
        return np.copysign(x, param.mean)
    if isinstance(param, Uniform):
        return rng.uniform(param.low, param.high, n)
    if isinstance(param, Triangular):
        return rng.triangular(param.low, param.mode, param.high, n)
    raise TypeError(f"unknown parameter type {type(param).__name__}")


@dataclass
class BaseLoad:
    """Where a segment's customers' baseline load comes from: the segment's curve, each
    customer's size and shift, and the day-to-day level factors (drawn from each stream
    block's daily stream, one day at a time, in day order).

    Attributes
    ----------
    name : str
        The segment (its streams' key).
    seed : int
    steps_per_day : int
    curve : ndarray, shape (days, steps_per_day) or (days * steps_per_day, n_columns)
        Built-in: the segment's relative load per step of each day (mean 1 over a typical
        year). Measured: kW per step and CSV column.
    column : ndarray of int, shape (n,) or None
        Measured profiles: the CSV column of each customer.
    mean_kw : ndarray, shape (n,)
        Mean load of each customer over a typical year (built-in profiles). [kW]
    shift : ndarray of int16, shape (n,)
        Time shift of each customer's daily shape. [steps]
    daily_sd : float
        Standard deviation of the day-to-day level factor.
    common : ndarray, shape (days,), or None
        Day factor shared by the segment: weather, times the growth in consumption per
        customer (:func:`consumption_growth`).
    cooling, heating : ndarray, shape (days, steps_per_day), or None
        Built-in profiles with a scenario weather: the temperature-dependent load per kW of
        mean load (:mod:`sim.population.thermal`), added unshifted; None without weather.
    temp_c : ndarray, shape (days, steps_per_day), or None
        The run's outdoor temperature (with a scenario weather; measured profiles too). [degC]
    """

    name: str
    seed: int
    steps_per_day: int
    curve: np.ndarray
    column: np.ndarray | None
    mean_kw: np.ndarray
    shift: np.ndarray
    daily_sd: float
    common: np.ndarray | None = None
    cooling: np.ndarray | None = None
    heating: np.ndarray | None = None
    temp_c: np.ndarray | None = None
    _daily: dict = field(default_factory=dict, repr=False)      #: block -> its daily stream
    _shifted_day: tuple | None = field(default=None, repr=False)  #: (day, its shifted curves)

    def daily_factor(self, block: int, n_rows: int) -> np.ndarray:
        """Next day's level factor for the customers of a stream block (log-normal, mean 1).

        Each block's daily stream is consumed one day at a time, in day order.
        """
        if self.daily_sd == 0:
            return np.ones(n_rows)
        rng = self._daily.get(block)
        if rng is None:
            rng = self._daily[block] = block_stream(self.seed, self.name, block, DAILY)
        s = np.sqrt(np.log1p(self.daily_sd ** 2))  # log-normal with mean 1 and sd daily_sd
        return np.exp(s * rng.standard_normal(n_rows) - 0.5 * s * s)

    def base_load(self, rows: slice, day: int, factor: np.ndarray) -> np.ndarray:
        """Baseline load of customers ``rows`` on ``day`` before any price response.

        Returns
        -------
        ndarray, shape (n_rows, steps_per_day)  [kW]
        """
        spd = self.steps_per_day
        if self.common is not None:
            factor = factor * self.common[day]
        if self.column is None:
            # each customer's day is the segment's day shifted by its own offset (wrapping
            # midnight): the day's shifted curves are a small (shift, step) table, and each
            # customer takes its row (a row gather, cheaper than an element gather)
            scale = self.mean_kw[rows] * factor
            if self.cooling is not None:  # the weather's part follows the clock, not the customer's habits
                return _scaled_rows_plus(self._shifted(day), self.shift[rows], scale,
                                         self.cooling[day] + self.heating[day])
            return _scaled_rows(self._shifted(day), self.shift[rows], scale)
        idx = (np.arange(spd)[None, :] - self.shift[rows, None]) % spd
        return self.curve[day * spd + idx, self.column[rows, None]] * factor[:, None]

    def _shifted(self, day: int) -> np.ndarray:
        """The segment's curve of ``day`` shifted by every offset: row s is the day shifted by s
        steps, shape (spd, spd); kept for the day."""
        cached = self._shifted_day
        if cached is None or cached[0] != day:
            spd = self.steps_per_day
            steps = np.arange(spd)
            table = self.curve[day][(steps[None, :] - steps[:, None]) % spd]
            self._shifted_day = cached = (day, table)
        return cached[1]


@dataclass(frozen=True)
class Contracts:
    """Each customer's contract terms that bills and programmes read.

    Attributes
    ----------
    contract_kva : ndarray, shape (n,), or None
        Contracted capacity, for capacity charges. [kVA]
    firm_kw : ndarray, shape (n,), or None
        Firm service level of an interruptible contract. [kW]
    compliance : ndarray, shape (n,), or None
        Share of the load above the firm level shed in called events.
    storage_kw : ndarray, shape (n,), or None
        Fixed storage charging power in the charge steps. [kW]
    storage_mask : ndarray of bool, shape (steps_per_day,), or None
        The storage's charge steps.
    """

    contract_kva: np.ndarray | None = None
    firm_kw: np.ndarray | None = None
    compliance: np.ndarray | None = None
    storage_kw: np.ndarray | None = None
    storage_mask: np.ndarray | None = None

    def storage_load(self, rows: slice) -> np.ndarray | None:
        """Fixed storage load of customers ``rows`` in each step of a day, (n_rows, spd) [kW]."""
        if self.storage_kw is None:
            return None
        return self.storage_kw[rows, None] * self.storage_mask[None, :]


@dataclass(frozen=True)
class Uptake:
    """Who takes what: each customer's tariff in a menu or enrolment, enabling technology,
    and the draw that decides when the customer becomes aware.

    Attributes
    ----------
    menu_choice : ndarray of int, shape (n,), or None
        Index of each customer's scenario tariff in the menu (with enrolment: 0 enrolled,
        1 staying on the baseline tariff).
    tech : ndarray of bool, shape (n,), or None
        Has enabling technology.
    aware_u : ndarray, shape (n,), or None
        Uniform draws: a customer is aware once the awareness share exceeds its draw.
    selection : ndarray, shape (n,), or None
        With enrolment: each customer's responsiveness from its place in the order of
        enrolment, ``(1 + a)(1 - u) ** a`` (``u`` its enrolment draw, ``a`` the
        self-selection strength; mean 1 over the segment), a factor on its response.
    """

    menu_choice: np.ndarray | None = None
    tech: np.ndarray | None = None
    aware_u: np.ndarray | None = None
    selection: np.ndarray | None = None


@dataclass
class SegmentPopulation:
    """One segment's customers (or the stream blocks of it a shard holds) as arrays.

    Attributes
    ----------
    name, customer_class : str
    n : int
        Number of customers.
    load : BaseLoad
        Their baseline load before any response.
    contracts : Contracts
        Their contract terms (capacity, interruptible, fixed storage).
    uptake : Uptake
        Their tariff, technology and awareness.
    params : dict model name -> CustomerParams
        Each behaviour model's per-customer parameters (drawn as the model declares).
    first_block : int
        Global index of the first stream block held.
    """

    name: str
    customer_class: str
    n: int
    load: BaseLoad
    contracts: Contracts = field(default_factory=Contracts)
    uptake: Uptake = field(default_factory=Uptake)
    params: dict = field(default_factory=dict)
    first_block: int = 0

    @property
    def blocks(self) -> list[tuple[int, int]]:
        """(start, stop) rows of each stream block held, in this object's row numbering."""
        return [(a, min(a + STREAM_BLOCK, self.n)) for a in range(0, self.n, STREAM_BLOCK)]

    @property
    def block_ids(self) -> list[int]:
        """Global index of each stream block held (its random streams' key)."""
        return [self.first_block + k for k in range(len(self.blocks))]

    def mean_kw_by_block(self) -> np.ndarray:
        """Sum of the customers' mean load in each stream block held, shape (blocks,). [kW]"""
        return np.array([self.load.mean_kw[a:b].sum() for a, b in self.blocks])

    @property
    def elasticity(self) -> np.ndarray:
        """Each customer's own-price elasticity (constant-elasticity model; 0 without it)."""
        ce = self.params.get("constant_elasticity")
        return ce.elasticity if ce is not None else np.zeros(self.n)


def common_factor(seed: int, segment: str, days: int, sd: float, persistence: float) -> np.ndarray | None:
    """A segment's shared day factor: log-normal with mean 1 and standard deviation ``sd``,
    its logarithm an AR(1) series with the given persistence (a stationary start). From
    its own stream (block index -1), so customer draws are untouched. None when sd = 0."""
    if sd == 0:
        return None
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        seed, spawn_key=(zlib.crc32(segment.encode()), 2**32 - 1, COMMON))))
    sigma = np.sqrt(np.log1p(sd ** 2))
    shocks = rng.standard_normal(days) * sigma * np.sqrt(1 - persistence ** 2)
    x = np.empty(days)
    x[0] = rng.standard_normal() * sigma
    # AR(1) recursion as a linear filter: x[t] = persistence * x[t-1] + shock[t]
    from scipy.signal import lfilter

    x[1:] = lfilter([1.0], [1.0, -persistence], shocks[1:], zi=[persistence * x[0]])[0]
    return np.exp(x - 0.5 * sigma ** 2)


def consumption_growth(segment: Segment, cal: Calendar) -> np.ndarray | None:
    """Each day's factor on a segment's base load from its annual growth in consumption per
    customer: ``(1 + g) ** k`` on the days of market year k (twelve billing months from the
    horizon's first, ``billing_month // 12``); None without growth in consumption (the load is
    then untouched, bit for bit). Shape (days,)."""
    g = segment.growth.consumption_per_customer if segment.growth is not None else 0.0
    if g == 0:
        return None
    return (1.0 + g) ** (cal.billing_month // 12).astype(np.float64)


def with_growth(common: np.ndarray | None, growth: np.ndarray | None) -> np.ndarray | None:
    """The shared day factor with the growth factor folded in (either may be None)."""
    if growth is None:
        return common
    return growth if common is None else common * growth


def segment_size(segment: Segment, cal: Calendar) -> int:
    """Number of customers of a segment (a measured profile without a count: one per column)."""
    if segment.count is not None or not isinstance(segment.profile, CsvProfile):
        return segment.count
    return read_measured_load(segment.profile.csv, cal).shape[1]


def n_blocks(n: int) -> int:
    """Stream blocks of a segment of ``n`` customers."""
    return -(-n // STREAM_BLOCK)


def build_segment(segment: Segment, cal: Calendar, seed: int, blocks: tuple[int, int] | None = None,
                  temp_c: np.ndarray | None = None) -> SegmentPopulation:
    """Draw a segment's per-customer parameters and prepare its base load curve.

    ``blocks``: only stream blocks ``[first, stop)`` of the segment (a shard of a run spread
    over processes); each block's customers get the same draws as in the whole segment.
    ``temp_c``: the run's outdoor temperature (days, steps_per_day) [degC], or None; with
    it, a built-in profile gets its class's temperature-dependent load (measured profiles
    already hold theirs).
    """
    spd = cal.steps_per_day
    measured = isinstance(segment.profile, CsvProfile)
    if measured:
        curve = read_measured_load(segment.profile.csv, cal) / (cal.step_minutes / 60.0)
        total = segment.count or curve.shape[1]
    else:
        curve = np.stack([profiles.daily_shape(segment.customer_class, int(m), bool(t != 0), spd)
                          for m, t in zip(cal.month, cal.day_type)])
        total = segment.count
    first, stop = blocks if blocks is not None else (0, n_blocks(total))
    row0 = first * STREAM_BLOCK
    n = max(0, min(stop * STREAM_BLOCK, total) - row0)
    models = [model_for(m) for m in models_of(segment.behavior)]  # in the order listed
    d = _draw_customers(segment, models, seed, first, n, spd)
    column = (row0 + np.arange(n)) % curve.shape[1] if measured else None
    mean_kw = curve.mean(axis=0)[column] if measured else d["mean_kw"]  # measured: its column's mean load
    common = common_factor(seed, segment.name, cal.days, segment.variation.common_daily_sd,
                           segment.variation.common_persistence)
    load = BaseLoad(segment.name, seed, spd, curve, column, mean_kw, d["shift"], segment.variation.daily_sd,
                    with_growth(common, consumption_growth(segment, cal)))
    if temp_c is not None:
        if not measured:  # measured loads hold their temperature-dependent part already
            load.cooling, load.heating = thermal_parts(segment.customer_class, temp_c)
        load.temp_c = temp_c
    pop = SegmentPopulation(segment.name, segment.customer_class, n, load,
                            _contracts(segment, d, mean_kw, spd, cal.step_minutes), _uptake(segment, d),
                            {name: CustomerParams(arrays) for name, arrays in d["params"].items()}, first)
    return pop


def _draw_customers(segment: Segment, models: list, seed: int, first: int, n: int, spd: int) -> dict:
    """Every per-customer draw of ``n`` customers from stream block ``first`` on, each block
    from its own parameter stream in a fixed order: size, shift, the energy-price model's
    parameters, contract, storage, interruptible, menu, the other models' parameters (in the
    order the segment lists them), technology, awareness, enrolment. Draws added later come
    after the earlier ones, so earlier draws never move."""
    part = segment.participation
    # every declared parameter has its array, also for a shard holding none of the customers
    params: dict[str, dict[str, np.ndarray]] = {m.name: {k: np.zeros(n) for k in m.params} for m in models}
    out = {name: np.zeros(n) for name in ("mean_kw", "contract", "storage_kwh", "firm", "compliance", "menu_u",
                                          "tech_u", "aware_u", "enrol_u")}
    out["shift"], out["params"] = np.zeros(n, dtype=np.int16), params
    sd = segment.variation.shift_sd_hours * (spd / 24.0)

    def keep(model, drawn: dict, z: slice) -> None:  # a block's draws into the segment's arrays
        for name, values in drawn.items():
            params[model.name].setdefault(name, np.zeros(n))[z] = values

    for b, a in enumerate(range(0, n, STREAM_BLOCK), start=first):
        z = slice(a, min(a + STREAM_BLOCK, n))
        rows = z.stop - z.start
        rng = block_stream(seed, segment.name, b, PARAMS)
        if segment.annual_kwh is not None:
            out["mean_kw"][z] = draw(segment.annual_kwh, rng, rows) / 8760.0
        out["shift"][z] = np.rint(rng.standard_normal(rows) * sd).astype(np.int16) % spd if sd > 0 else 0
        for model in models:  # the energy-price model's draws come with the basics (see early_draw)
            if model.early_draw:
                keep(model, model.draw(draw, rng, rows), z)
        if segment.contract_kva_per_mean_kw is not None:
            out["contract"][z] = draw(segment.contract_kva_per_mean_kw, rng, rows)
        if segment.storage is not None:
            out["storage_kwh"][z] = draw(segment.storage.kwh_per_day, rng, rows)
        if segment.interruptible is not None:
            out["firm"][z] = draw(segment.interruptible.firm_kw_per_mean_kw, rng, rows)
            out["compliance"][z] = draw(segment.interruptible.compliance, rng, rows)
        if isinstance(segment.tariff.scenario, list):
            out["menu_u"][z] = rng.random(rows)
        for model in models:  # each model's parameters, in the order listed
            if not model.early_draw:
                keep(model, model.draw(draw, rng, rows), z)
        for name, given in (("tech_u", part.enabling_technology), ("aware_u", part.awareness),
                            ("enrol_u", part.enrolment)):
            if given is not None:
                out[name][z] = rng.random(rows)
    return out


def _contracts(segment: Segment, d: dict, mean_kw: np.ndarray, spd: int, step_minutes: int) -> Contracts:
    """The customers' contract terms from their draws (sizes relative to their mean load)."""
    terms = {}
    if segment.contract_kva_per_mean_kw is not None:
        terms["contract_kva"] = d["contract"] * mean_kw
    if segment.storage is not None:
        mask = hours_mask(segment.storage.charge_hours, spd)
        terms["storage_mask"] = mask
        terms["storage_kw"] = d["storage_kwh"] / (mask.sum() * step_minutes / 60.0)
    if segment.interruptible is not None:
        terms["firm_kw"] = d["firm"] * mean_kw
        terms["compliance"] = d["compliance"]
    return Contracts(**terms)


def _uptake(segment: Segment, d: dict) -> Uptake:
    """Each customer's menu tariff or enrolment, technology and awareness draw."""
    part = segment.participation
    choice = None
    if isinstance(segment.tariff.scenario, list):
        shares = np.cumsum([o.share for o in segment.tariff.scenario])
        choice = np.minimum(np.searchsorted(shares, d["menu_u"], side="right"), len(shares) - 1)
    selection = None
    if part.enrolment is not None:  # option 0: the scenario tariff; option 1: staying on the baseline
        choice = (d["enrol_u"] >= part.enrolment.share).astype(np.int64)
        selection = self_selection(d["enrol_u"], part.enrolment.self_selection)
    tech = (d["tech_u"] < part.enabling_technology.share) if part.enabling_technology is not None else None
    return Uptake(choice, tech, d["aware_u"] if part.awareness is not None else None, selection)


def self_selection(u: np.ndarray, a: float) -> np.ndarray:
    """Each customer's responsiveness from its enrolment draw ``u`` (customers enrol in order of
    ``u``, so the first to enrol are the most responsive): ``(1 + a)(1 - u) ** a``, mean 1 over
    u uniform on [0, 1); 1 for everyone when ``a = 0``. The mean over the customers enrolled with
    share ``s`` is ``(1 - (1 - s) ** (1 + a)) / s`` (docs/behavior.md section 4)."""
    if a == 0:
        return np.ones_like(u)
    return (1.0 + a) * (1.0 - u) ** a


@jit
def _scaled_rows(table, which, scale):
    """``table[which[i]] * scale[i]`` for every customer ``i`` (a row gather and a scaling
    in one pass): shape (len(which), table columns)."""
    n, spd = which.shape[0], table.shape[1]
    out = np.empty((n, spd))
    for i in range(n):
        w, c = which[i], scale[i]
        for t in range(spd):
            out[i, t] = table[w, t] * c
    return out


@jit
def _scaled_rows_plus(table, which, scale, extra):
    """``(table[which[i]] + extra) * scale[i]`` for every customer ``i``: the shifted shape
    plus a part every customer shares unshifted (the weather's), scaled, in one pass."""
    n, spd = which.shape[0], table.shape[1]
    out = np.empty((n, spd))
    for i in range(n):
        w, c = which[i], scale[i]
        for t in range(spd):
            out[i, t] = (table[w, t] + extra[t]) * c
    return out
