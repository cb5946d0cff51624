"""How a block of customers responds on one day: the response models applied in order.

The engine hands over prices as arrays (:class:`PriceDay`), never tariff objects. Order:

1. the energy-price model (constant elasticity, elasticity matrix or PRISM), scenario
   only: it responds to the scenario's prices relative to the baseline's, scaled by the
   day's response strength ``m`` (awareness, enabling technology, learning, fatigue);
2. demand shaving, scenario only, where the scenario's demand charges are dearer than the
   baseline's (CompiledTariff.demand_price): the target
   is the customer's baseline peak of the month so far, less the reduction x ``m``;
3. flexible loads, in both roles, at each role's prices (automation reacts to absolute
   price differences: under a flat price nothing moves);
4. thermal storage, in both roles, at each role's prices, for the customers who have it;
5. interruptible curtailment in the role's called events, compliance x fatigue.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rowmath import RowGroups, group_rows
from .elasticity import constant_elasticity, constant_elasticity_rows, price_ratio
from .interruptible import curtail
from .welfare import respond_with_surplus


@dataclass
class PriceDay:
    """One role's prices and tariff facts on one day, for some customers.

    Attributes
    ----------
    price : ndarray, shape (spd,) or (n, spd)
        Marginal energy price of each step. [currency/kWh]
    storage_price : ndarray, shape (spd,), or None
        Price of a separately metered storage load, if the tariff has one. [currency/kWh]
    period : ndarray of int, shape (spd,)
        Index of each step's energy period in ``period_names``.
    period_names : tuple of str
        Base period names (a season prefix removed).
    demand_price : float
        The tariff's demand charges in one number (CompiledTariff.demand_price). [currency/kW-month]
    interruptible : ndarray of bool, shape (spd,), or None
        Steps of a called interruptible event.
    groups : RowGroups, optional
        Per-customer ``price``: the customers' groups of equal rows where the tariff knows
        them (customers in the same tier); found by checksum otherwise.
    """

    price: np.ndarray
    storage_price: np.ndarray | None
    period: np.ndarray
    period_names: tuple
    demand_price: float
    interruptible: np.ndarray | None
    groups: RowGroups | None = None


def _spread(price: np.ndarray, window: np.ndarray | None) -> float:
    """Largest price difference within the window's steps (any customer). [currency/kWh]

    ``price`` may be just the distinct rows of per-customer prices: the same number.
    """
    p = price if window is None else price[..., window]
    return float((p.max(axis=-1) - p.min(axis=-1)).max()) if p.size else 0.0


class _Groups:
    """The distinct rows of one day's per-customer prices, found once for all the models.

    ``own`` groups the customers by this role's prices (flexible loads, storage), ``pair`` by
    the baseline's and this role's together (price ratio, elasticity, surplus). None: the
    prices are shared, or take too many distinct rows (the models' per-customer paths).
    """

    def __init__(self, base: np.ndarray, own: np.ndarray, known: RowGroups | None = None):
        self.base_price, self.own_price = base, own
        self._found: dict[str, RowGroups | None] = {}
        if known is not None and own.ndim == 2:
            self._found["own"] = known

    def own(self) -> RowGroups | None:
        if "own" not in self._found:
            self._found["own"] = group_rows(self.own_price) if self.own_price.ndim == 2 else None
        return self._found["own"]

    def pair(self) -> RowGroups | None:
        if "pair" not in self._found:
            if self.base_price.ndim == 1:
                self._found["pair"] = self.own()
            else:
                self._found["pair"] = group_rows(self.base_price, self.own_price)
        return self._found["pair"]

    def own_rows(self) -> np.ndarray:
        """This role's distinct price rows (the prices themselves when not grouped)."""
        g = self.own()
        return self.own_price if g is None else g.rows(self.own_price)


def strength(pop, participation, d: int, days: int, bills_closed: int, rows: slice) -> np.ndarray:
    """Today's response strength of customers ``rows`` (before event fatigue): aware or not
    (the aware share grows linearly from ``start`` to ``end`` over the horizon; a customer is
    aware once the share passes its own uniform draw), times the enabling-technology factor,
    times learning: 1 - (1 - initial) (1 - rate) ** (bills received)."""
    n = rows.stop - rows.start
    m = np.ones(n)
    aw = participation.awareness
    if aw is not None:
        level = aw.start + (aw.end - aw.start) * d / max(days - 1, 1)
        m *= pop.aware_u[rows] < level
    tech = participation.enabling_technology
    if tech is not None:
        m *= np.where(pop.tech[rows], tech.response_multiplier, 1.0)
    lr = participation.learning
    if lr is not None:
        m *= 1.0 - (1.0 - lr.initial) * (1.0 - lr.rate) ** bills_closed
    return m


def elasticity_response(load: np.ndarray, price_base: np.ndarray, price_scen: np.ndarray, elasticity: np.ndarray,
                        step_hours: float, pair: RowGroups | None, stats: dict | None, idx) -> np.ndarray:
    """Load after the constant-elasticity response of a block of customers (``pair``: their
    groups of equal baseline and scenario price rows, if known); with ``stats``, each
    customer's consumer surplus change is added to ``stats["consumer_surplus"][idx]``,
    computed in the same pass (:func:`sim.behavior.welfare.respond_with_surplus`)."""
    if stats is not None:
        load, surplus = respond_with_surplus(load, price_base, price_scen, elasticity, step_hours, groups=pair)
        stats["consumer_surplus"][idx] += surplus
        return load
    if pair is None:
        return constant_elasticity(load, price_ratio(price_base, price_scen), elasticity)
    ratio_rows = price_ratio(pair.rows(price_base), pair.rows(price_scen))
    return constant_elasticity_rows(load, ratio_rows, pair.inverse, elasticity)


def respond(role: str, base_kw: np.ndarray, idx: np.ndarray | slice, pop, models: dict, base: PriceDay, own: PriceDay,
            strength: np.ndarray, fatigue: float, month_peak_kw: np.ndarray | None, soc: np.ndarray | None,
            step_hours: float, stats: dict | None = None) -> tuple[np.ndarray, tuple | None, np.ndarray | None]:
    """Load of customers ``idx`` in one role on one day.

    Parameters
    ----------
    role : 'baseline' or 'scenario'
    base_kw : ndarray, shape (n, spd)
        Load before any response. [kW]
    idx : ndarray of int, shape (n,), or slice
        The customers' rows in their segment (for their parameters; a slice of consecutive
        rows reads them as views).
    pop : SegmentPopulation
    models : dict model name -> scenario model
    base, own : PriceDay
        The baseline role's and this role's prices.
    strength : ndarray, shape (n,)
        Today's response strength of each customer (scenario only).
    fatigue : float
        Today's event-fatigue factor on interruptible compliance.
    month_peak_kw : ndarray, shape (n,), or None
        Each customer's baseline peak of the month so far, today included (demand shaving).
    soc : ndarray, shape (n,), or None
        State of charge of thermal storage at the start of the day. [kWh]
    stats : dict, optional
        Running sums this adds to: ``consumer_surplus`` (n,) per customer in the segment
        (constant elasticity only), ``interruptible_requested_kwh`` (n,) per customer (load above
        the firm level in called events) and ``interruptible_delivered_kwh`` (n,) (what
        curtailment removed).

    Returns
    -------
    load_kw : ndarray, shape (n, spd)
        Main-meter load. [kW]
    charge_kw : (rows, ndarray of shape (len(rows), spd)), or None
        Thermal-storage charging of the customers with a store (``rows``: their positions
        among the n), billed on the storage meter when the tariff has one. [kW]
    soc : ndarray, shape (n,), or None
        State of charge at the end of the day. [kWh]
    """
    p = pop.params
    load = base_kw
    # Per-customer prices (tiers, menus) take few distinct rows: each model works once per
    # row where it can (the same result per customer as row by row).
    groups = _Groups(np.asarray(base.price, dtype=np.float64), np.asarray(own.price, dtype=np.float64), own.groups)
    if role == "scenario":
        if "constant_elasticity" in models:
            load = elasticity_response(load, groups.base_price, groups.own_price, pop.elasticity[idx] * strength,
                                       step_hours, groups.pair(), stats, idx)
        elif "elasticity_matrix" in models:
            from .matrix import respond_matrix

            spec = models["elasticity_matrix"]
            index = {n: i for i, n in enumerate(spec.periods)}
            # steps of periods the matrix does not name take no part
            period = np.array([index.get(name, -1) for name in own.period_names])[own.period]
            load = respond_matrix(load, base.price, own.price, period, np.asarray(spec.matrix),
                                  p["elasticity_matrix.scale"][idx] * strength)
        elif "prism" in models:
            from .prism import respond_prism

            spec = models["prism"]
            if spec.peak_periods:
                peak = np.isin(np.array(own.period_names)[own.period], spec.peak_periods)
            else:
                price = own.price if own.price.ndim == 1 else own.price.mean(axis=0)
                peak = price >= price.max() - 1e-12
            load = respond_prism(load, base.price, own.price, peak, p["prism.substitution"][idx] * strength,
                                 p["prism.daily"][idx] * strength, step_hours)
        # shave only where the scenario's demand charges are dearer than the baseline's
        if "demand_shaving" in models and own.demand_price > base.demand_price and month_peak_kw is not None:
            from .shaving import shave_peaks

            target = (1.0 - p["demand_shaving.reduction"][idx] * strength) * month_peak_kw
            load = shave_peaks(load, target, p["demand_shaving.max_shift_share"][idx], step_hours)
    window = pop.behavior_masks.get("flexible.window")
    if "flexible" in models and _spread(groups.own_rows(), window) > p["flexible.inconvenience_per_kwh"][idx].min():
        # (a day whose prices within the window differ by less than every customer's
        # inconvenience moves nothing: skipped, with the same result)
        from .flexible import shift_flexible

        load = shift_flexible(load, own.price, p["flexible.share"][idx], window,
                              p["flexible.max_kw_per_mean_kw"][idx] * pop.mean_kw[idx],
                              p["flexible.inconvenience_per_kwh"][idx], step_hours, groups=groups.own())
    charge = None
    if soc is not None:
        soc = soc.copy()
    idle = (own.storage_price is None and _spread(groups.own_rows(), None) == 0 and not soc.any()
            if soc is not None else True)
    if "thermal_storage" in models and soc is not None and not idle:
        # (an empty store under one flat price neither charges nor serves: skipped)
        from .storage import dispatch_storage

        sub, params = _storage_customers(pop, idx)
        if len(sub):
            serve = own.price if own.price.ndim == 1 else own.price[sub]
            charge_price = own.storage_price if own.storage_price is not None else serve
            # (a storage price is shared: the customers' groups are those of their own prices)
            own_groups = groups.own()
            sub_groups = (own_groups.subset(sub) if own_groups is not None
                          and (charge_price is serve or np.ndim(charge_price) == 1) else None)
            main, ch, soc_end = dispatch_storage(load[sub], charge_price, serve, *params, soc[sub], step_hours,
                                                 groups=sub_groups)
            load = load.copy() if load is base_kw else load
            load[sub] = main
            charge = (sub, ch)
            soc[sub] = soc_end
    if own.interruptible is not None and pop.firm_kw is not None:
        before = load
        load = curtail(load, own.interruptible, pop.firm_kw[idx], pop.compliance[idx] * fatigue)
        if stats is not None:
            ev = own.interruptible
            # per customer (summed over customers by the metrics: the same bits however the
            # customers were chunked or spread over processes)
            stats["interruptible_requested_kwh"][idx] += np.maximum(
                before[:, ev] - pop.firm_kw[idx, None], 0.0).sum(axis=1) * step_hours
            stats["interruptible_delivered_kwh"][idx] += (before[:, ev] - load[:, ev]).sum(axis=1) * step_hours
    return load, charge, soc


def _storage_customers(pop, idx):
    """The customers among ``idx`` who have thermal storage (positions in ``idx``) and their
    store's parameters as :func:`sim.behavior.storage.dispatch_storage` takes them (thermal
    share, capacity [kWh], power [kW], efficiency, loss per hour). The same every day: kept
    for a chunk of consecutive customers (``idx`` a slice)."""
    key = ("thermal_storage", idx.start, idx.stop) if isinstance(idx, slice) else None
    found = pop._cache.get(key) if key is not None else None
    if found is None:
        p = pop.params
        sub = np.flatnonzero(p["thermal_storage.adopted"][idx] > 0)
        i = (np.arange(idx.start, idx.stop) if isinstance(idx, slice) else idx)[sub]
        found = (sub, (p["thermal_storage.thermal_share"][i],
                       p["thermal_storage.capacity_kwh_per_mean_kw"][i] * pop.mean_kw[i],
                       p["thermal_storage.power_kw_per_mean_kw"][i] * pop.mean_kw[i],
                       p["thermal_storage.efficiency"][i], p["thermal_storage.loss_per_hour"][i]))
        if key is not None:
            pop._cache[key] = found
    return found
