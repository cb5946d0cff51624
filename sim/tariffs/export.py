"""Exports: net metering and net billing of a net load that goes below zero (docs/tariffs.md 5.17).

Only a tariff with an ``export:`` section comes here; every other tariff bills a negative
net load as before (netted at the energy prices within each period and month), through the
same arithmetic as a load that never goes negative.

An :class:`ExportMeter` sits beside a bill accumulator. Each day it adds, per customer, the
energy imported and exported in each energy period (exports above the limit are curtailed:
not credited, counted apart), the value of the exports at the export price (net billing) and,
for net billing, the real-time and critical-peak amounts on the imports alone. When a month
closes it turns these into the month's energy charge (:meth:`ExportMeter.energy`): the energy
charge on the kWh left after netting and credits, less the money credits applied, plus the
non-bypassable charge on the gross import; it carries the credits left, and in the true-up
month settles them (:meth:`ExportMeter.settle`). Every amount is booked in the bill's
``energy`` column (NREL SAM books net-metering and net-billing credits in its energy charge,
``year1_monthly_ec_charge_with_system``); the true-up payment goes in after the minimum bill
and the tax, as SAM pays it after the minimum (ssc ``cmod_utilityrate5.cpp``, ``ur_calc`` and
``ur_calc_timestep``). The parts of each month are kept in :data:`EXPORT_PARTS` for `drsim bill`.

The rules and their SAM equivalents (``ur_metering_option``):

* net metering, kWh credits (SAM 0): ``billed[p] = max(net[p] - credit[p], 0)``,
  ``credit[p] = max(credit[p] - net[p], 0)`` for each energy period ``p`` (SAM's
  ``rate_data::transfer_surplus`` and ``compute_surplus``); the true-up pays the kWh left at
  ``true_up.price_per_kwh`` (SAM's ``ur_nm_yearend_sell_rate``);
* net metering, money credits (SAM 1): each period's surplus ``max(-net[p], 0)`` is worth
  ``price[p]`` per kWh; the month's energy charge on ``max(net[p], 0)`` less the credits
  carried and earned, floored at 0, the rest carried; the true-up pays it (or forfeits);
* net billing (SAM 2): imports by period at the energy prices, each step's export at the
  export price; the month's energy charge may go below zero;
* net billing with carried credits (SAM 3 with ``ur_nb_apply_credit_current_month = 1``):
  as net metering's money credits, on the step-by-step import charge and export value.
"""

from __future__ import annotations

import numpy as np

from .._jit import jit
from ..rowmath import row_dot

__all__ = ["EXPORT_PARTS", "ExportMeter"]

#: What `drsim bill` shows of each month's exports, per customer: energies [kWh] and money
#: [currency] (a credit is negative). All the money is inside the bill's ``energy`` column.
EXPORT_PARTS = ("import_kwh", "export_kwh", "curtailed_kwh", "netted_kwh", "billed_kwh", "export_credit",
                "non_bypassable", "true_up", "carried_kwh", "carried_credit")
_P = {p: i for i, p in enumerate(EXPORT_PARTS)}

_NONE_1D = np.zeros(0)


@jit
def _export_day_kernel(load, h, period_cols, period_bounds, limit, sell, rtp, cpp, imp, exp, value, curtailed,
                       month_rtp, month_cpp):  # pragma: no cover - compiled
    """One day of each row's export sums.

    For each row ``i`` of ``load`` (n, steps) and energy period ``k`` (the steps
    ``period_cols[period_bounds[k]:period_bounds[k + 1]]``, in step order): ``imp[i, k] +=
    (sum of the positive loads) * h`` (the same additions as the day kernel's energy by
    period, for a row that never goes negative: the same bits) and ``exp[i, k] += (sum of
    min(-load, limit) over the negative loads) * h``; ``curtailed[i] += (sum of max(-load -
    limit, 0)) * h``. If ``sell`` is not empty: ``value[i] += (sum_j min(-load, limit)
    sell[j]) * h`` over the exporting steps; if ``rtp`` (``cpp``) is not empty:
    ``month_rtp[i] += (sum_j load rtp[j]) * h`` over the importing steps (alike).
    """
    n, steps = load.shape
    for i in range(n):
        cut = 0.0
        for k in range(imp.shape[1]):
            si = 0.0
            se = 0.0
            for t in range(period_bounds[k], period_bounds[k + 1]):
                x = load[i, period_cols[t]]
                if x > 0.0:
                    si += x
                elif x < 0.0:
                    e = -x
                    if e > limit:
                        cut += e - limit
                        e = limit
                    se += e
            imp[i, k] += si * h
            exp[i, k] += se * h
        curtailed[i] += cut * h
        v = 0.0
        r = 0.0
        q = 0.0
        for j in range(steps):
            x = load[i, j]
            if x < 0.0:
                if sell.shape[0] > 0:
                    v += min(-x, limit) * sell[j]
            else:
                if rtp.shape[0] > 0:
                    r += x * rtp[j]
                if cpp.shape[0] > 0:
                    q += x * cpp[j]
        if sell.shape[0] > 0:
            value[i] += v * h
        if rtp.shape[0] > 0:
            month_rtp[i] += r * h
        if cpp.shape[0] > 0:
            month_cpp[i] += q * h


class ExportMeter:
    """The export sums, carried credits and monthly parts of one bill accumulator's customers.

    Parameters
    ----------
    terms : ExportTerms
        The tariff's compiled export section.
    n : int
        Customers.
    n_periods : int
        The tariff's energy periods.
    n_months : int
        Billing months of the horizon (for the kept monthly parts).
    """

    def __init__(self, terms, n: int, n_periods: int, n_months: int):
        self.terms = terms
        self.month_import = np.zeros((n, n_periods))   #: [kWh] by energy period
        self.month_export = np.zeros((n, n_periods))   #: [kWh] credited (at most the limit), by energy period
        self.month_value = np.zeros(n)                 #: [currency] the exports at the export price (net billing)
        self.month_curtailed = np.zeros(n)             #: [kWh] exports above the limit
        self.carried_kwh = np.zeros((n, n_periods))    #: [kWh] net metering's kWh credits, by energy period
        self.carried_money = np.zeros(n)               #: [currency] money credits carried
        self.parts = np.zeros((n, len(EXPORT_PARTS)))  #: the month just closed, per customer
        self.monthly = None                            #: (n, months, parts), kept on request
        self.total = np.zeros((n, len(EXPORT_PARTS)))  #: summed over the horizon (carried: the last month's)
        self._n_months = n_months

    def keep_monthly(self) -> None:
        self.monthly = np.zeros((len(self.carried_money), self._n_months, len(EXPORT_PARTS)))

    def add_day(self, rows: slice, load_kw: np.ndarray, ctx, h: float, acc) -> None:
        """Add one day (or span) of customers ``rows``; for net billing the real-time and
        critical-peak amounts of the imports go into the accumulator's month sums (the day
        kernel then leaves them out)."""
        t = self.terms
        nb = t.net_billing
        sell = ctx.export_sell if nb else _NONE_1D
        rtp = ctx.rtp if nb and ctx.rtp is not None else _NONE_1D
        cpp = ctx.cpp if nb and ctx.cpp is not None else _NONE_1D
        _export_day_kernel(load_kw, h, ctx.period_cols, ctx.period_bounds, t.limit_kw, sell, rtp, cpp,
                           self.month_import[rows], self.month_export[rows], self.month_value[rows],
                           self.month_curtailed[rows], acc.month_rtp[rows] if len(rtp) else _NONE_1D,
                           acc.month_cpp[rows] if len(cpp) else _NONE_1D)

    def had_exports(self) -> np.ndarray:
        """Customers with exports in the month or credits carried into it (net-metered: their
        minimum bill is the export section's)."""
        return (self.month_export.sum(axis=1) > 0) | (self.carried_kwh.sum(axis=1) > 0) | (self.carried_money > 0)

    def energy(self, acc, prior: np.ndarray) -> np.ndarray:
        """The month's energy charge under the export rule (the bill's ``energy`` column, less
        the true-up), carrying the credits left. [currency], shape (n,)"""
        t = self.terms
        p = self.parts
        p[:] = 0.0
        net = self.month_import - self.month_export
        extra = acc.month_rtp if acc.month_rtp is not None else 0.0
        if t.net_billing:
            gross = acc.energy_charge(self.month_import, prior) + extra
            credit = self.month_value
            billed_kwh = self.month_import
        elif not t.money_credits:
            billed = np.maximum(net - self.carried_kwh, 0.0)
            p[:, _P["netted_kwh"]] = (np.maximum(net, 0.0) - billed).sum(axis=1)
            self.carried_kwh = np.maximum(self.carried_kwh - net, 0.0)
            gross = acc.energy_charge(billed, prior) + extra
            credit = None
            billed_kwh = billed
        else:
            billed_kwh = np.maximum(net, 0.0)
            gross = acc.energy_charge(billed_kwh, prior) + extra
            credit = row_dot(np.maximum(-net, 0.0), t.period_price)
        if credit is None:
            out = gross
        elif t.net_billing and not t.carry:
            out = gross - credit
        else:
            left = gross - (self.carried_money + credit)
            out = np.maximum(left, 0.0)
            self.carried_money = np.maximum(-left, 0.0)
        p[:, _P["export_credit"]] = out - gross
        nbc = t.non_bypassable_per_kwh * self.month_import.sum(axis=1)
        p[:, _P["non_bypassable"]] = nbc
        p[:, _P["import_kwh"]] = self.month_import.sum(axis=1)
        p[:, _P["export_kwh"]] = self.month_export.sum(axis=1)
        p[:, _P["curtailed_kwh"]] = self.month_curtailed
        self.billed_kwh = billed_kwh.sum(axis=1)
        p[:, _P["billed_kwh"]] = self.billed_kwh
        return out + nbc if t.non_bypassable_per_kwh else out

    def settle(self, month_number: int) -> np.ndarray | None:
        """In the true-up month, the payment for the credits left (negative, [currency]) and
        the credits cleared; None in other months."""
        t = self.terms
        if month_number != t.true_up_month:
            return None
        paid = row_dot(self.carried_kwh, np.full(self.carried_kwh.shape[1], t.true_up_per_kwh))
        if not t.forfeit:
            paid = paid + self.carried_money
        self.carried_kwh[:] = 0.0
        self.carried_money[:] = 0.0
        self.parts[:, _P["true_up"]] = -paid
        return -paid

    def finish_month(self, m: int) -> None:
        """Record the month's parts and reset the month's sums."""
        p = self.parts
        p[:, _P["carried_kwh"]] = self.carried_kwh.sum(axis=1)
        p[:, _P["carried_credit"]] = self.carried_money
        flows = [i for c, i in _P.items() if not c.startswith("carried")]
        self.total[:, flows] += p[:, flows]
        self.total[:, [_P["carried_kwh"], _P["carried_credit"]]] = p[:, [_P["carried_kwh"], _P["carried_credit"]]]
        if self.monthly is not None:
            self.monthly[:, m] = p
        for a in (self.month_import, self.month_export, self.month_value, self.month_curtailed):
            a[:] = 0.0
