"""Vectorized billing: per-customer bills by charge, accumulated day by day, closed monthly."""

from __future__ import annotations

import numpy as np

from .compile import CompiledTariff

#: Bill components, in the column order of every bill array.
CHARGES = ("energy", "fixed")


class BillAccumulator:
    """Bills of one segment's customers under one tariff, accumulated as days pass.

    Memory is O(customers): the current month's running sums and the horizon totals by
    charge; segment totals are kept per month. Money is float64 throughout.

    Parameters
    ----------
    tariff : CompiledTariff
    n_customers : int
    month_fraction : ndarray, shape (n_months,)
        Share of each billing month inside the horizon; fixed charges are prorated by it.
    step_hours : float
        Step length. [h]
    """

    def __init__(self, tariff: CompiledTariff, n_customers: int, month_fraction: np.ndarray, step_hours: float):
        self.tariff = tariff
        self.step_hours = step_hours
        self.month_fraction = month_fraction
        n_months = len(month_fraction)
        self.month_energy_charge = np.zeros(n_customers)
        self.month_kwh = np.zeros(n_customers)
        self.total = np.zeros((n_customers, len(CHARGES)))   #: [currency] per customer and charge
        self.kwh = np.zeros(n_customers)                       #: [kWh] per customer over the horizon
        self.monthly = np.zeros((n_months, len(CHARGES)))      #: [currency] segment sums by month
        self.monthly_kwh = np.zeros(n_months)                  #: [kWh] segment sums by month
        self.peak_kw = np.zeros(n_customers)                   #: [kW] each customer's maximum step load

    def add_day(self, rows: slice, load_kw: np.ndarray, price_per_kwh: np.ndarray) -> None:
        """Add one day of load for customers ``rows``.

        Parameters
        ----------
        load_kw : ndarray, shape (n_rows, steps_per_day)
            Mean power in each step. [kW]
        price_per_kwh : ndarray, shape (steps_per_day,)
            This tariff's energy price in each step of the day. [currency/kWh]
        """
        self.month_energy_charge[rows] += (load_kw @ price_per_kwh) * self.step_hours
        self.month_kwh[rows] += load_kw.sum(axis=1) * self.step_hours
        np.maximum(self.peak_kw[rows], load_kw.max(axis=1), out=self.peak_kw[rows])

    def close_month(self, m: int) -> None:
        """Turn the month's running sums into bills and reset them."""
        fixed = self.tariff.fixed_per_month * self.month_fraction[m]
        self.total[:, 0] += self.month_energy_charge
        self.total[:, 1] += fixed
        self.kwh += self.month_kwh
        self.monthly[m] = (self.month_energy_charge.sum(), fixed * len(self.month_kwh))
        self.monthly_kwh[m] = self.month_kwh.sum()
        self.month_energy_charge[:] = 0.0
        self.month_kwh[:] = 0.0

    @property
    def bill(self) -> np.ndarray:
        """Each customer's total bill over the horizon. [currency]"""
        return self.total.sum(axis=1)
