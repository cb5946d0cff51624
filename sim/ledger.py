"""The consumer ledger: every charge of both tariff roles per customer, the utility of
consumption, and the consumer surplus and welfare built from them.

Bills are transfers between customers and the utility: they move money, not resources.
For each customer ``i`` the ledger holds each charge ``k`` of its bill under the baseline
and the scenario tariffs, ``B[r, i, k]`` (:data:`sim.tariffs.CHARGES`: energy, critical
peak, rebates, demand, capacity, fixed, credits, penalties, storage energy, minimum, tax),
and the change of its gross utility of consumption in each role, ``U[r, i]``: the sum of
the response models' utility terms (:meth:`sim.behavior.registry.ResponseModel.utility`)
relative to its load before any response. Then, in money::

    dB_i  = sum_k (B[s, i, k] - B[b, i, k])          bill change (every charge)
    dV_i  = U[s, i] - U[b, i]                         change of utility of consumption
    dCS_i = dV_i - dB_i                               consumer surplus change

and for the customers of a segment or of the system, with ``dC`` the change of the cost of
supply (:func:`sim.metrics.supply_cost`)::

    welfare change = sum_i dV_i - dC  =  sum_i dCS_i + (dRevenue - dC)

the consumer surplus change plus the utility's margin change, because the bills sum to
the revenue (``sum_i dB_i = dRevenue``). drsim computes the first form, so that a pure
transfer (a fixed charge, a tax, a rebate paid for by a fixed charge: loads unchanged,
``dV_i = 0`` and ``dC = 0`` exactly) gives a welfare change of exactly zero; the second
form equals it to rounding (``tests/test_ledger.py``). No other party is counted: the cost
of supply already holds the capacity cost the scenario avoids.

Reads :class:`sim.outcome.SegmentOutcome` arrays only; docs/metrics.md ("Consumer ledger")
gives every term with its unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .outcome import ROLES
from .tariffs import CHARGES

__all__ = ["SegmentLedger", "segment_ledger"]


@dataclass(frozen=True)
class SegmentLedger:
    """One segment's ledger, per customer (segment order).

    Attributes
    ----------
    charges : ndarray, shape (2, n, len(CHARGES))
        Each customer's horizon total of each charge, baseline (0) and scenario (1); a
        credit or rebate is negative. [currency]
    utility : ndarray, shape (2, n)
        Each customer's change of gross utility of consumption over the horizon in each role,
        relative to its load before any response. [currency]
    """

    charges: np.ndarray
    utility: np.ndarray

    @property
    def n(self) -> int:
        return self.charges.shape[1]

    @property
    def bill(self) -> np.ndarray:
        """(2, n) each customer's bill in each role: the sum of its charges. [currency]"""
        return self.charges.sum(axis=2)

    @property
    def bill_change(self) -> np.ndarray:
        """(n,) ``dB_i``, scenario bill - baseline bill. [currency]"""
        bill = self.bill
        return bill[1] - bill[0]

    @property
    def charge_change(self) -> np.ndarray:
        """(n, len(CHARGES)) each charge's change per customer. [currency]"""
        return self.charges[1] - self.charges[0]

    @property
    def utility_change(self) -> np.ndarray:
        """(n,) ``dV_i``, the change of gross utility of consumption. [currency]"""
        return self.utility[1] - self.utility[0]

    @property
    def surplus_change(self) -> np.ndarray:
        """(n,) ``dCS_i = dV_i - dB_i``, positive where the customer gains. [currency]"""
        return self.utility_change - self.bill_change


def segment_ledger(seg) -> SegmentLedger:
    """The ledger of a :class:`sim.outcome.SegmentOutcome`."""
    charges = np.stack([seg.bills[r].total for r in ROLES])
    if charges.shape[2] != len(CHARGES):
        raise ValueError(f"bills carry {charges.shape[2]} charges; the ledger expects {len(CHARGES)}")
    utility = np.stack([seg.stats[f"utility_{r}"] for r in ROLES])
    return SegmentLedger(charges, utility)
