"""The charges of a bill, and how each is billed when a month closes.

:data:`CHARGES` names the bill's charges in the order every table shows them (bills by
customer and charge, ``revenue_<charge>`` metrics, the CSV columns). Each charge except
the minimum bill and tax is a function registered with :func:`monthly_charge`: given the
month's meter reads of a bill accumulator (:class:`MonthClose`), it returns each customer's
charge, or None where the tariff has no such charge (the column stays zero). The minimum
bill and tax come last, on each customer's subtotal (``billing._close_rows``).

docs/tariffs.md gives each charge's equation; docs/architecture.md the recipe for a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..rowmath import row_dot

__all__ = ["CHARGES", "MONTHLY_CHARGES", "MonthClose", "monthly_charge"]

#: The charges of a bill, in table order.
CHARGES = ("energy", "critical_peak", "peak_time_rebate", "demand_flat", "demand_tou", "capacity", "fixed",
           "volume_rebate", "load_factor", "interruptible_credit", "interruptible_penalty", "storage_energy",
           "minimum", "tax")

#: Charge name -> its monthly function, in registration order.
MONTHLY_CHARGES: dict[str, Callable] = {}


def monthly_charge(name: str):
    """Register the monthly function of charge ``name`` (a decorator); ``name`` must be one
    of :data:`CHARGES` (other than the minimum bill and tax)."""
    if name not in CHARGES or name in ("minimum", "tax"):
        raise ValueError(f"{name!r} is not a charge billed monthly; add it to CHARGES first")
    if name in MONTHLY_CHARGES:
        raise ValueError(f"charge {name!r} already has its monthly function")

    def add(fn: Callable) -> Callable:
        MONTHLY_CHARGES[name] = fn
        return fn

    return add


@dataclass(frozen=True)
class MonthClose:
    """A month's meter reads of one bill accumulator's customers, as its charges read them.

    Attributes
    ----------
    acc : BillAccumulator
        Its running month sums (energy by period, real-time, critical-peak, rebate,
        interruptible and storage sums) and contract terms.
    m : int
        The billing month.
    frac : float
        The share of the month inside the horizon (prorates monthly charges).
    kwh : ndarray, shape (n,)
        Each customer's energy of the month. [kWh]
    max_kw : ndarray, shape (n,)
        Each customer's maximum step load of the month. [kW]
    days : int
        The month's days inside the horizon.
    """

    acc: object
    m: int
    frac: float
    kwh: np.ndarray
    max_kw: np.ndarray
    days: int

    @property
    def tariff(self):
        return self.acc.tariff


@monthly_charge("energy")
def energy(mc: MonthClose):
    """Energy by period at its (tiered) rates, plus the real-time price charges; under an
    export section, the energy left after netting and credits (sim/tariffs/export.py)."""
    acc, t = mc.acc, mc.tariff
    prior = acc.ytd_kwh if t.tier_basis == "annual" else np.zeros(len(mc.kwh))
    if acc.export is not None:
        return acc.export.energy(acc, prior)
    out = acc.energy_charge(acc.month_kwh_by_period, prior)
    if acc.month_rtp is not None:
        out += acc.month_rtp
    return out


@monthly_charge("critical_peak")
def critical_peak(mc: MonthClose):
    """The critical-peak adders on the energy of event steps."""
    return mc.acc.month_cpp


@monthly_charge("peak_time_rebate")
def peak_time_rebate(mc: MonthClose):
    """A credit on the energy cut below each customer's baseline in rebate events."""
    acc = mc.acc
    return None if acc.month_ptr_kwh is None else -mc.tariff.ptr_rate * acc.month_ptr_kwh


@monthly_charge("demand_flat")
def demand_flat(mc: MonthClose):
    """The month's maximum demand (or the ratchet's share of the past months' maxima, if
    higher) at the month's demand rate, prorated."""
    acc, t = mc.acc, mc.tariff
    billed_kw = mc.max_kw
    if acc.demand_history is not None:
        share = t.ratchet[0]
        billed_kw = np.maximum(billed_kw, share * acc.demand_history.max(axis=1))
        acc.demand_history = np.roll(acc.demand_history, 1, axis=1)
        acc.demand_history[:, 0] = mc.max_kw
    if t.demand_block_rate is not None:
        return in_blocks(billed_kw, t.demand_blocks_kw, t.demand_block_rate[:, mc.m]) * mc.frac
    return billed_kw * t.demand_rate_by_month[mc.m] * mc.frac


@monthly_charge("demand_tou")
def demand_tou(mc: MonthClose):
    """Each TOU demand period's maximum at its rate (or in its blocks), prorated."""
    t = mc.tariff
    if t.demand_period is None:
        return None
    if t.demand_period_block_rate is None:
        return row_dot(mc.acc.month_max_tou_kw, t.demand_period_rate) * mc.frac
    out = row_dot(mc.acc.month_max_tou_kw, t.demand_period_rate)
    for k in np.flatnonzero(np.isfinite(t.demand_period_blocks_kw[:, 0])):
        out = out + in_blocks(mc.acc.month_max_tou_kw[:, k], t.demand_period_blocks_kw[k],
                              t.demand_period_block_rate[k])
    return out * mc.frac


def in_blocks(kw: np.ndarray, bounds_kw: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Demand ``kw`` (n,) billed in blocks: ``sum_k rates[k] x min(max(kw - b[k-1], 0), b[k] - b[k-1])``
    with ``b[-1] = 0`` and the last block open (bounds of +inf and their 0 rates add
    nothing), the blocks added from the first, as NREL SAM's Utilityrate5 bills demand
    tiers (ssc ``rate_data::get_demand_charge``). [currency/month]"""
    out = np.zeros(len(kw))
    lower = 0.0
    for k, rate in enumerate(rates):
        upper = bounds_kw[k] if k < len(bounds_kw) else np.inf
        if lower == np.inf:
            break
        out += np.clip(kw - lower, 0.0, upper - lower) * rate
        lower = upper
    return out


@monthly_charge("capacity")
def capacity(mc: MonthClose):
    """The contracted capacity at the rate per kVA and month, prorated."""
    return mc.tariff.capacity_per_kva_month * mc.acc.contract_kva * mc.frac


@monthly_charge("fixed")
def fixed(mc: MonthClose):
    """The fixed charge per month (prorated) and per day."""
    t = mc.tariff
    return t.fixed_per_month * mc.frac + t.fixed_per_day * mc.days


@monthly_charge("volume_rebate")
def volume_rebate(mc: MonthClose):
    """A share of the supply cost saved on the month's energy above the threshold, returned."""
    if mc.tariff.volume_rebate is None:
        return None
    threshold, saving, share = mc.tariff.volume_rebate
    return -share * saving * np.maximum(mc.kwh - threshold, 0.0)


@monthly_charge("load_factor")
def load_factor(mc: MonthClose):
    """The adder of the band the month's load factor (energy / (maximum x hours)) falls in."""
    bands = mc.tariff.load_factor_bands
    if bands is None:
        return None
    n, kwh, max_kw = len(mc.kwh), mc.kwh, mc.max_kw
    hours = mc.days * 24.0
    lf = np.divide(kwh, max_kw * hours, out=np.zeros(n), where=max_kw > 0)
    out = np.zeros(n)
    for lo, hi, adder in bands:
        inside = (lf >= lo) & ((lf < hi) | (hi >= 1.0))
        out[inside] = adder * kwh[inside]
    return out


@monthly_charge("interruptible_credit")
def interruptible_credit(mc: MonthClose):
    """The credit per interruptible kW (the month's maximum above the firm level): per month,
    prorated, and per event called in the month."""
    acc, t = mc.acc, mc.tariff
    if t.intr_event is None:
        return None
    interruptible_kw = np.maximum(mc.max_kw - acc.firm_kw, 0.0)
    events = acc.intr_events_by_day[acc.cal.billing_month == mc.m].sum()
    credit = t.intr_credit_per_kw_month * mc.frac + t.intr_credit_per_kw_event * events
    return -credit * interruptible_kw


@monthly_charge("interruptible_penalty")
def interruptible_penalty(mc: MonthClose):
    """The penalty on the energy above the firm level in called events."""
    if mc.tariff.intr_event is None:
        return None
    return mc.tariff.intr_penalty_per_kwh * mc.acc.month_excess_kwh


@monthly_charge("storage_energy")
def storage_energy(mc: MonthClose):
    """The storage meter's energy at the storage rate."""
    return mc.acc.month_storage
