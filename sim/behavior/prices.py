"""Prices as the behaviour models see them: one role's day for some customers
(:class:`PriceDay`), the distinct rows of per-customer prices (:class:`PriceGroups`) and the
largest price difference in a window (:func:`spread`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from ..rowmath import RowGroups, group_rows

__all__ = ["ExportValue", "PriceDay", "PriceGroups", "PriceRows", "avoid_steps", "owners_prices", "spread"]


class PriceRows(NamedTuple):
    """Some customers' per-customer prices as their distinct rows and each one's row (the
    prices of customer ``i`` are ``rows[of[i]]``): a model that sorts prices sorts each row
    once, and each customer gets exactly what its own row would give.

    Attributes
    ----------
    rows : ndarray, shape (G, spd)
        The distinct price rows. [currency/kWh]
    of : ndarray of int, shape (n,)
        Each customer's row.
    """

    rows: np.ndarray
    of: np.ndarray

    def checked(self, n: int, spd: int) -> tuple[np.ndarray, np.ndarray]:
        """``rows`` as float64 (G, spd) and ``of`` as intp (n,), every row index valid."""
        rows = np.ascontiguousarray(self.rows, dtype=np.float64)
        of = np.ascontiguousarray(self.of, dtype=np.intp)
        if rows.ndim != 2 or rows.shape[1] != spd or of.shape != (n,) or (
                n and (of.min() < 0 or of.max() >= rows.shape[0])):
            raise ValueError(f"price rows of shape {rows.shape} and row indices of shape {of.shape} do not give "
                             f"{n} customers a price row of {spd} steps")
        return rows, of


class ExportValue(NamedTuple):
    """A tariff's export section as a day's dispatch reads it (the home battery's plan).

    Attributes
    ----------
    price : ndarray, shape (spd,), or None
        What a kWh exported in each step earns (net billing's export rate; net metering's
        money credits at a rate of their own); None: the import price of the step (net
        metering). [currency/kWh]
    limit_kw : float
        The largest export credited in a step (inf: no limit); beyond it nothing is earned. [kW]
    import_adder : float
        A charge on every kWh imported that exports do not offset (non-bypassable). [currency/kWh]
    """

    price: np.ndarray | None
    limit_kw: float = np.inf
    import_adder: float = 0.0

    @property
    def plain(self) -> bool:
        """Whether an export earns the import price with no limit and no charge on imports
        (net metering with kWh credits): worth what plain netting makes it worth."""
        return self.price is None and self.limit_kw == np.inf and self.import_adder == 0.0


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
    cpp_adder, ptr_adder : ndarray, shape (spd,), or None
        The part of ``price`` in each step that today's critical-peak event (its adder) or
        peak-time-rebate event (the rebate per kWh) puts there, 0 outside events; None on a
        day without such an event. [currency/kWh]
    cpp_notice_hours, ptr_notice_hours : float
        Notice the customers are given before each event of the tariff's critical-peak and
        peak-time-rebate programmes starts (the programmes' ``notice_hours``; 24: day-ahead). [h]
    export : ExportValue, or None
        The tariff's export section (export price of each step, export limit, charge on
        imports); None without one (a negative load is netted at ``price``).
    grid_event : ndarray of bool, shape (n, spd), or None
        Each customer's grid events: the steps in which the network operator asks the
        customers on an overloaded transformer or feeder to keep their controllable load
        off (:mod:`sim.grid.limits`); None where none of the customers has one. Managed
        EV charging avoids them within its plug-in window, thermal stores do not charge in
        them, interruptible contracts curtail to their firm level (:func:`avoid_steps`).
    """

    price: np.ndarray
    storage_price: np.ndarray | None
    period: np.ndarray
    period_names: tuple
    demand_price: float
    interruptible: np.ndarray | None
    groups: RowGroups | None = None
    cpp_adder: np.ndarray | None = None
    ptr_adder: np.ndarray | None = None
    grid_event: np.ndarray | None = None
    cpp_notice_hours: float = 24.0
    ptr_notice_hours: float = 24.0
    export: ExportValue | None = None

    @property
    def has_events(self) -> bool:
        """Whether today's prices carry a critical-peak or peak-time-rebate event."""
        return self.cpp_adder is not None or self.ptr_adder is not None

    def without_events(self) -> PriceDay:
        """The same day with the event components taken out of ``price``."""
        adder = (self.cpp_adder if self.cpp_adder is not None else 0.0) + \
            (self.ptr_adder if self.ptr_adder is not None else 0.0)
        return replace(self, price=self.price - adder, cpp_adder=None, ptr_adder=None)


def avoid_steps(price: np.ndarray, event: np.ndarray, above: np.ndarray | float = 0.0) -> np.ndarray:
    """Per-customer prices (n, spd) that put each customer's event steps after every other
    step: ``price + event x (max - min + max |price| + max |above| + 1)`` of its own row
    (``price`` (spd,) or
    (n, spd), ``event`` bool (n, spd)). A least-cost schedule on them uses an event step
    only where the others do not suffice; ``above``: a price the event steps must also
    exceed (a store's serving price, so that charging there never pays). [currency/kWh]"""
    p = np.broadcast_to(np.asarray(price, dtype=np.float64), event.shape)
    span = (p.max(axis=1, keepdims=True) - p.min(axis=1, keepdims=True) + np.abs(p).max(axis=1, keepdims=True)
            + np.abs(np.asarray(above, dtype=np.float64)).max() + 1.0)
    return p + event * span


def spread(price: np.ndarray, window: np.ndarray | None) -> float:
    """Largest price difference within the window's steps (any customer). [currency/kWh]

    ``price`` may be just the distinct rows of per-customer prices: the same number.
    """
    p = price if window is None else price[..., window]
    return float((p.max(axis=-1) - p.min(axis=-1)).max()) if p.size else 0.0


class PriceGroups:
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


def owners_prices(day_price: np.ndarray, groups: RowGroups | None, sub: np.ndarray) -> np.ndarray | PriceRows:
    """The prices of the customers at positions ``sub`` of a block whose prices are
    ``day_price`` (shared (spd,), or per customer with their ``groups``): the shared row, the
    owners' distinct rows (:class:`PriceRows`) where the block's rows are grouped, else the
    owners' rows."""
    if day_price.ndim == 1:
        return day_price
    if groups is None:
        return day_price[sub]
    owners = groups.subset(sub)
    return PriceRows(day_price[sub[owners.first]], owners.inverse)
