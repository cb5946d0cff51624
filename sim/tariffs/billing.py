"""Vectorized billing: per-customer bills by charge, accumulated day by day, closed monthly.

Each day adds, per customer, the energy of every rate period, the real-time, critical-peak
and storage-meter charges (products with the day's price vectors) and the running maximum
demand (overall and per TOU demand period), in one compiled pass over the customer's day
(:func:`_add_day_kernel`).
Each month then turns these into charges: tiers shared among periods pro rata to their
energy, demand with its ratchet, capacity, fixed charges, volume rebate, load-factor
adjustment, minimum bill and tax. Money is float64 throughout.
"""

from __future__ import annotations

import numpy as np

from .compile import CompiledTariff
from .day import TariffDay, listed_day
from .._jit import jit
from ..outcome import BillArrays, MonthlySums
from ..rowmath import RowGroups, block_sum, numpy_sum, row_dot, row_matmul
from .charges import CHARGES, MONTHLY_CHARGES, MonthClose
from .export import ExportMeter

#: Bill components, in the column order of every bill array. A credit is negative.
_C = {c: i for i, c in enumerate(CHARGES)}


class DayContext:
    """What every block needs of one tariff over a span of days, computed once.

    Made from the frozen tariff and its :class:`~sim.tariffs.day.TariffDay` of the span
    (real-time prices, critical-peak adders, events); without one, from the tariff's
    listed events (:func:`~sim.tariffs.day.listed_day`). The engine uses one day at a
    time; :func:`bill_loads` uses whole months where the tariff has no event programme that
    needs day-by-day state (peak-time rebates, interruptible events).

    For the compiled day kernel: ``period_cols`` holds the span's steps grouped by rate
    period, each period's in step order, ``period_cols[period_bounds[k]:period_bounds[k + 1]]``
    being those of period ``k`` (none for a period absent from the span); ``demand_runs``
    (runs, 3) holds each run of consecutive steps in one TOU demand period as (demand
    period, first step, stop step), in time order (no runs when the tariff has no TOU
    demand periods).
    """

    __slots__ = ("period_cols", "period_bounds", "n_periods", "rtp", "cpp", "demand_runs", "period", "ptr_mask",
                 "ptr_eligible", "intr_mask", "storage_price", "day", "first_day", "days", "intr_events",
                 "export_sell")

    def __init__(self, tariff: CompiledTariff, d: int, spd: int, days: int = 1, day: TariffDay | None = None):
        span = slice(d * spd, (d + days) * spd)
        self.day = day if day is not None else listed_day(tariff, d, spd, days)
        self.first_day, self.days = d, days
        self.period = tariff.period[span]
        self.n_periods = tariff.n_periods
        self.period_cols = np.argsort(self.period, kind="stable").astype(np.intp)
        self.period_bounds = np.searchsorted(self.period[self.period_cols],
                                             np.arange(self.n_periods + 1)).astype(np.intp)
        self.rtp = self.day.rtp
        cpp = self.day.cpp_adder
        self.cpp = cpp if cpp is not None and cpp.any() else None
        self.demand_runs = np.zeros((0, 3), dtype=np.intp)
        if tariff.demand_period is not None:
            dp = tariff.demand_period[span]
            edges = np.flatnonzero(np.diff(dp)) + 1
            starts, stops = np.r_[0, edges], np.r_[edges, len(dp)]
            self.demand_runs = np.stack([dp[starts].astype(np.intp), starts, stops], axis=1).astype(np.intp)
        self.ptr_mask = self.intr_mask = None
        self.ptr_eligible = False
        self.intr_events = self.day.intr_events
        if tariff.ptr_event is not None or tariff.intr_event is not None:
            if days != 1:
                raise ValueError("event programmes are billed one day at a time")
            if tariff.ptr_event is not None:
                m = self.day.ptr_event
                self.ptr_mask = m if m.any() else None
                self.ptr_eligible = self.day.ptr_eligible
            if tariff.intr_event is not None:
                m = self.day.intr_event
                self.intr_mask = m if m.any() else None
        self.storage_price = tariff.storage_price[span] if tariff.storage_price is not None else None
        ex = tariff.export
        self.export_sell = ex.sell_price[span] if ex is not None and ex.sell_price is not None else None


#: Stand-in for an absent price vector or running sum in :func:`_add_day_kernel`.
_NONE_1D = np.zeros(0)
_NONE_2D = np.zeros((0, 0))
_NONE_INT = np.zeros(0, dtype=np.intp)


@jit
def _add_day_kernel(load, h, period_cols, period_bounds, by_period, rtp, month_rtp, cpp, month_cpp, storage,
                    storage_price, month_storage, max_lanes, demand_runs, max_tou, bounds, column_sums):  # pragma: no cover - compiled
    """One day (or span of days) of each row's running month sums.

    For each row ``i`` of ``load`` (n, steps), with ``h`` the step length in hours:

    * energy by rate period: ``s`` starts at 0.0 and adds ``load[i, j]`` for each step ``j``
      of period ``k`` (``period_cols[period_bounds[k]:period_bounds[k + 1]]``, in step
      order): numpy's column-by-column sum of the period's columns, the same bits; then
      ``by_period[i, k] += s * h`` (0.0 for a period without steps);
    * if ``rtp`` (steps,) is not empty: ``month_rtp[i] += (load[i, 0] * rtp[0] + load[i, 1]
      * rtp[1] + ...) * h``, summed from 0.0 in step order; likewise ``cpp`` into
      ``month_cpp``, and ``storage[i]`` times ``storage_price`` into ``month_storage``;
    * ``max_lanes[i, k]`` (8 lanes) becomes the largest of itself and the row's loads at
      steps ``j`` with ``j % 8 == k`` (``j`` from the span's start), a nan if any is one (as
      ``np.maximum`` would make it): the row's maximum is the maximum of its lanes. An empty
      ``max_lanes`` (no rows) skips them: another accumulator keeps the same load's maxima
      (:meth:`BillAccumulator.maxima_from`);
    * for each run (demand period ``k``, steps ``a:b``) of ``demand_runs``, ``max_tou[i, k]``
      becomes the larger of itself and ``load[i, a:b]``'s values (alike);
    * if ``bounds`` is not empty: ``column_sums[k]`` becomes the column sums of the rows
      ``bounds[k]:bounds[k + 1]``, from 0.0, one row after another (the engine's stream-block
      sums: the additions of :func:`sim.rowmath.block_column_sums`).

    The sums take rows four at a time so that four rows' chains of additions overlap (the
    last group repeats its last row and keeps only the rows it has); the maxima follow in a
    second pass, row by row. Each row's arithmetic is its own, in the order above, whatever
    rows it is taken with.
    """
    n, steps = load.shape

    def add_dots(acc, a, w, i, i1, i2, i3, m):  # acc[i + q] += (a[i + q] . w) * h, first m rows
        s0 = s1 = s2 = s3 = 0.0
        for j in range(w.shape[0]):
            x = w[j]
            s0 += a[i, j] * x
            s1 += a[i1, j] * x
            s2 += a[i2, j] * x
            s3 += a[i3, j] * x
        acc[i] += s0 * h
        if m > 1:
            acc[i1] += s1 * h
        if m > 2:
            acc[i2] += s2 * h
        if m > 3:
            acc[i3] += s3 * h

    for i in range(0, n, 4):
        m = min(4, n - i)
        i1, i2, i3 = min(i + 1, n - 1), min(i + 2, n - 1), min(i + 3, n - 1)
        for k in range(by_period.shape[1]):
            s0 = s1 = s2 = s3 = 0.0
            for t in range(period_bounds[k], period_bounds[k + 1]):
                c = period_cols[t]
                s0 += load[i, c]
                s1 += load[i1, c]
                s2 += load[i2, c]
                s3 += load[i3, c]
            by_period[i, k] += s0 * h
            if m > 1:
                by_period[i1, k] += s1 * h
            if m > 2:
                by_period[i2, k] += s2 * h
            if m > 3:
                by_period[i3, k] += s3 * h
        if rtp.shape[0] > 0:
            add_dots(month_rtp, load, rtp, i, i1, i2, i3, m)
        if cpp.shape[0] > 0:
            add_dots(month_cpp, load, cpp, i, i1, i2, i3, m)
        if storage_price.shape[0] > 0:
            add_dots(month_storage, storage, storage_price, i, i1, i2, i3, m)
    lanes = max_lanes.shape[0] > 0
    block = 0
    for k in range(column_sums.shape[0]):
        for j in range(column_sums.shape[1]):
            column_sums[k, j] = 0.0
    for i in range(n):
        if bounds.shape[0] > 0:
            while i >= bounds[block + 1]:
                block += 1
            for j in range(steps):
                column_sums[block, j] += load[i, j]
        # eight running maxima over every eighth step: an elementwise update the compiler
        # vectorizes (the lanes are reduced when the month closes)
        if lanes:
            j = 0
            while j + 8 <= steps:
                for k in range(8):
                    x, y = load[i, j + k], max_lanes[i, k]
                    max_lanes[i, k] = x if (x > y or x != x) else y
                j += 8
            while j < steps:
                x, y = load[i, j], max_lanes[i, 0]
                max_lanes[i, 0] = x if (x > y or x != x) else y
                j += 1
        for r in range(demand_runs.shape[0]):
            k = demand_runs[r, 0]
            y = max_tou[i, k]
            for j in range(demand_runs[r, 1], demand_runs[r, 2]):
                x = load[i, j]
                y = x if (x > y or x != x) else y
            max_tou[i, k] = y


def _lanes_max(lanes: np.ndarray) -> np.ndarray:
    """Each row's largest of its eight running maxima (a nan stays a nan), by elementwise
    maxima of halves: far cheaper than numpy's reduction along a short row."""
    half = np.maximum(lanes[:, :4], lanes[:, 4:])
    half = np.maximum(half[:, :2], half[:, 2:])
    return np.maximum(half[:, 0], half[:, 1])


@jit
def _close_rows(c, kwh, minimum, tax_rate, i_min, i_tax, total, spans, by_block, kwh_by_block, min_rows, late,
                i_late):  # pragma: no cover
    """A month's close, row by row, with numpy's arithmetic (the same bits as the array
    expressions it replaces): ``subtotal = c[i].sum()`` (pairwise, :func:`numpy_sum`);
    ``c[i, i_min] = np.maximum(minimum - subtotal, 0.0)``; ``c[i, i_tax] = tax_rate *
    (subtotal + c[i, i_min])``; ``total[i] += c[i]``. Then per span ``(a, b)`` of rows:
    ``by_block[k] = c[a:b].sum(axis=0)`` (rows added one after another) and ``kwh_by_block[k]
    = kwh[a:b].sum()`` (pairwise).

    A tariff with an export section passes ``min_rows`` (each row's minimum, instead of
    ``minimum``) and ``late`` (the true-up payment); then the minimum tops up ``max(subtotal,
    0)`` (a bill below zero is not raised to the minimum: NREL SAM's rule, ssc
    ``cmod_utilityrate5.cpp`` ``ur_calc``), and ``late[i]`` is added to ``c[i, i_late]`` after
    the tax. Without them (empty arrays) the arithmetic is the first paragraph's."""
    n, k_charges = c.shape
    export = min_rows.shape[0] > 0
    for i in range(n):
        subtotal = numpy_sum(c[i])
        if export:
            x = min_rows[i] - (subtotal if subtotal > 0.0 else 0.0)
        else:
            x = minimum - subtotal
        c[i, i_min] = x if (x > 0.0 or x != x) else 0.0  # np.maximum(x, 0.0), signed zeros too
        c[i, i_tax] = tax_rate * (subtotal + c[i, i_min])
        if late.shape[0] > 0:
            c[i, i_late] += late[i]
        for k in range(k_charges):
            total[i, k] += c[i, k]
    for s in range(spans.shape[0]):
        a, b = spans[s, 0], spans[s, 1]
        for k in range(k_charges):
            by_block[s, k] = 0.0
        for i in range(a, b):
            for k in range(k_charges):
                by_block[s, k] += c[i, k]
        kwh_by_block[s] = numpy_sum(kwh[a:b])


@jit
def _tiers_kernel(by_period, ytd, bounds):  # pragma: no cover - compiled
    """Tier of each row: the number of ``bounds`` at or below the row's energy, the sum
    of its ``by_period`` row in numpy's order plus ``ytd[i]`` (when ``ytd`` is not empty);
    ``np.searchsorted(bounds, used, side="right")``, nan past the last bound."""
    n = by_period.shape[0]
    out = np.empty(n, dtype=np.intp)
    for i in range(n):
        used = numpy_sum(by_period[i])
        if ytd.shape[0] > 0:
            used = used + ytd[i]
        t = 0
        if used != used:
            t = bounds.shape[0]
        else:
            while t < bounds.shape[0] and bounds[t] <= used:
                t += 1
        out[i] = t
    return out


class BillAccumulator:
    """Bills of one segment's customers under one tariff, accumulated as days pass.

    Memory is O(customers x periods): the current month's running sums and the horizon
    totals by charge; segment totals are kept per month.

    Parameters
    ----------
    tariff : CompiledTariff
    n_customers : int
    calendar : Calendar
    contract_kva : ndarray, shape (n_customers,), optional
        Contracted capacity of each customer, for capacity charges. [kVA]
    firm_kw : ndarray, shape (n_customers,), optional
        Firm service level of each customer, for interruptible contracts. [kW]
    spans : list of (start, stop), optional
        The rows of each stream block, in order (default: one span of all rows). Segment
        sums are kept per block and added in block order, so that they come out the same
        to the bit however a run's blocks are spread over chunks, processes or machines.
    """

    def __init__(self, tariff: CompiledTariff, n_customers: int, calendar, contract_kva: np.ndarray | None = None,
                 firm_kw: np.ndarray | None = None, spans: list[tuple[int, int]] | None = None):
        self.tariff = tariff
        self.cal = calendar
        self.step_hours = calendar.step_minutes / 60.0
        n, n_months = n_customers, calendar.n_months
        self.contract_kva = contract_kva if contract_kva is not None else np.zeros(n)
        self.firm_kw = firm_kw if firm_kw is not None else np.zeros(n)
        self.month_ptr_kwh = np.zeros(n) if tariff.ptr_event is not None else None
        self.ptr_history = None  # (n, of_last, spd) float32 ring of baseline-eligible days, made on first use
        self.ptr_days = 0
        self.month_excess_kwh = np.zeros(n) if tariff.intr_event is not None else None
        #: interruptible events of each day of the horizon, as billed (the month's count pays a credit per event)
        self.intr_events_by_day = np.zeros(calendar.days, dtype=np.int64) if tariff.intr_event is not None else None
        self.month_storage = np.zeros(n) if tariff.storage_price is not None else None
        self.month_kwh_by_period = np.zeros((n, tariff.n_periods))
        self.month_rtp = np.zeros(n) if tariff.rtp_price is not None else None
        self.month_cpp = np.zeros(n) if tariff.cpp_adder is not None else None
        self.month_max_kw = np.zeros(n)                #: [kW] the month's maximum, set at each close
        self.max_lanes = np.zeros((n, 8))              #: [kW] running maxima of every eighth step of the month
        #: the accumulator that keeps this one's running maxima (:meth:`maxima_from`), or None
        self.lanes_of: BillAccumulator | None = None
        self.month_max_tou_kw = np.zeros((n, len(tariff.demand_period_names)))
        self.ytd_kwh = np.zeros(n)  # energy since 1 January (annual tiers)
        self.demand_history = np.zeros((n, tariff.ratchet[1])) if tariff.ratchet else None
        self.total = np.zeros((n, len(CHARGES)))      #: [currency] per customer and charge, horizon total
        self.kwh = np.zeros(n)                         #: [kWh] per customer over the horizon
        self.peak_kw = np.zeros(n)                     #: [kW] each customer's maximum step load
        self.spans = list(spans) if spans is not None else [(0, n)]
        self.monthly_by_block = np.zeros((len(self.spans), n_months, len(CHARGES)))  #: [currency] block sums
        self.monthly_kwh_by_block = np.zeros((len(self.spans), n_months))         #: [kWh] block sums
        self.monthly_by_customer = None                #: optional (n, n_months) bills, see keep_monthly()
        self.keep_last = False                         #: keep the last closed month's charges (n, charges)
        self.last_month = None
        self._month_days = np.bincount(calendar.billing_month, minlength=n_months)
        self._month_number = np.array([int(lbl[5:7]) for lbl in calendar.month_labels])
        #: the export sums and credits of a tariff with an export section (docs/tariffs.md 5.17)
        self.export = ExportMeter(tariff.export, n, tariff.n_periods, n_months) if tariff.export is not None else None

    @property
    def monthly(self) -> np.ndarray:
        """(months, charges) sums over the customers, by month and charge. [currency]"""
        return block_sum(self.monthly_by_block, (self.cal.n_months, len(CHARGES)))

    @property
    def monthly_kwh(self) -> np.ndarray:
        """(months,) energy summed over the customers. [kWh]"""
        return block_sum(self.monthly_kwh_by_block, (self.cal.n_months,))

    def sheet(self) -> MonthlySums:
        """The segment sums by month and stream block, as read out."""
        return MonthlySums(self.tariff.name, self.monthly_by_block, self.monthly_kwh_by_block)

    def keep_monthly(self) -> None:
        """Also keep every customer's bill of every month (n x months floats), e.g. for `drsim bill`."""
        self.monthly_by_customer = np.zeros((len(self.kwh), self.cal.n_months, len(CHARGES)))
        if self.export is not None:
            self.export.keep_monthly()

    # ------------------------------------------------------------------ daily

    def current_tier(self, rows: slice) -> np.ndarray | None:
        """Tier each customer is in now (month-to-date or year-to-date energy), or None."""
        t = self.tariff
        if not t.tiered:
            return None
        ytd = self.ytd_kwh[rows] if t.tier_basis == "annual" else _NONE_1D
        return _tiers_kernel(self.month_kwh_by_period[rows], ytd, t.tier_bounds)

    def add_day(self, rows: slice, load_kw: np.ndarray, ctx: DayContext, storage_kw: np.ndarray | None = None,
                block_sums: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Add one day of load for customers ``rows``.

        Parameters
        ----------
        load_kw : ndarray, shape (n_rows, steps of the context's span)
            Mean power in each step on the main meter. [kW]
        ctx : DayContext
            This tariff's day (periods, prices, demand runs, events).
        storage_kw : ndarray, shape (n_rows, steps_per_day), optional
            Thermal-storage load: billed on its own meter at the storage rate, or added to the
            main meter when the tariff has none. [kW]
        block_sums : (bounds, out), optional
            Also the column sums of the main-meter load over each run of rows ``bounds[k]:
            bounds[k + 1]`` (of ``load_kw``) into ``out[k]`` (the engine's stream-block sums,
            taken in the same pass). Without ``storage_kw``.
        """
        h = self.step_hours
        if block_sums is not None and storage_kw is not None:
            raise ValueError("block sums are taken in the billing pass only without a storage load")
        own_meter = storage_kw is not None and ctx.storage_price is not None
        if storage_kw is not None and not own_meter:
            load_kw = load_kw + storage_kw
        # event programmes (rare, with state of their own) in numpy; the rest in one compiled pass
        if ctx.ptr_mask is not None:
            cbl = self._customer_baseline(rows, ctx.ptr_mask)
            self.month_ptr_kwh[rows] += np.maximum(cbl - load_kw[:, ctx.ptr_mask], 0.0).sum(axis=1) * h
        if self.intr_events_by_day is not None:  # the same for every block of the day
            self.intr_events_by_day[ctx.first_day] = ctx.intr_events
        if ctx.intr_mask is not None:
            excess = np.maximum(load_kw[:, ctx.intr_mask] - self.firm_kw[rows, None], 0.0)
            self.month_excess_kwh[rows] += excess.sum(axis=1) * h
        if ctx.ptr_eligible:
            self._remember_day(rows, load_kw)
        rtp, cpp = ctx.rtp, ctx.cpp
        if self.export is not None:
            self.export.add_day(rows, load_kw, ctx, h, self)
            if self.export.terms.net_billing:  # the export meter took the imports' real-time and event amounts
                rtp = cpp = None
        _add_day_kernel(load_kw, h, ctx.period_cols, ctx.period_bounds, self.month_kwh_by_period[rows],
                        _NONE_1D if rtp is None else rtp, _NONE_1D if rtp is None else self.month_rtp[rows],
                        _NONE_1D if cpp is None else cpp, _NONE_1D if cpp is None else self.month_cpp[rows],
                        storage_kw if own_meter else _NONE_2D, ctx.storage_price if own_meter else _NONE_1D,
                        self.month_storage[rows] if own_meter else _NONE_1D,
                        self.max_lanes[rows], ctx.demand_runs, self.month_max_tou_kw[rows],
                        _NONE_INT if block_sums is None else block_sums[0], _NONE_2D if block_sums is None else block_sums[1])

    def month_max_so_far(self, rows) -> np.ndarray:
        """Each customer's maximum load of the current month so far. [kW]"""
        return _lanes_max(self._lanes()[rows])

    def maxima_from(self, other: BillAccumulator) -> None:
        """Read the running maxima of the month from ``other`` instead of keeping them: for an
        accumulator that bills the very load ``other`` bills, of the same customers in the
        same rows, on the same days (the structural bill: the baseline role's load on a
        scenario tariff, billed on the baseline tariff too). The maxima do not depend on the
        tariff, and keeping them is half of a day's billing pass. ``other`` resets them when
        its month closes: this one's month closes first."""
        if len(other.kwh) != len(self.kwh):
            raise ValueError(f"maxima of {len(other.kwh)} customers for {len(self.kwh)}")
        self.lanes_of = other
        self.max_lanes = np.zeros((0, 8))

    def _lanes(self) -> np.ndarray:
        """The running maxima of this accumulator's load (its own, or those of ``lanes_of``)."""
        return self.max_lanes if self.lanes_of is None else self.lanes_of.max_lanes

    def _remember_day(self, rows: slice, load_kw: np.ndarray) -> None:
        """Keep a baseline-eligible day in the ring of recent days (per customer)."""
        t = self.tariff
        if self.ptr_history is None:
            self.ptr_history = np.zeros((len(self.kwh), t.ptr_method[1], load_kw.shape[1]), dtype=np.float32)
            self.ptr_slot = np.zeros(len(self.kwh), dtype=np.int64)
            self.ptr_filled = np.zeros(len(self.kwh), dtype=np.int64)
        idx = np.arange(rows.start, rows.stop)
        self.ptr_history[idx, self.ptr_slot[rows]] = load_kw
        self.ptr_slot[rows] = (self.ptr_slot[rows] + 1) % t.ptr_method[1]
        self.ptr_filled[rows] = np.minimum(self.ptr_filled[rows] + 1, t.ptr_method[1])

    def _customer_baseline(self, rows: slice, mask: np.ndarray) -> np.ndarray:
        """Customer baseline load in the event steps: mean over the ``highest`` of the last
        ``of_last`` eligible days, ranked by energy in the event steps. Zero with no history."""
        n_rows = rows.stop - rows.start
        if self.ptr_history is None:
            return np.zeros((n_rows, int(mask.sum())))
        highest = self.tariff.ptr_method[0]
        window = self.ptr_history[rows][:, :, mask].astype(np.float64)  # (n, days, event steps)
        filled = self.ptr_filled[rows]
        energy = window.sum(axis=2)
        energy[np.arange(window.shape[1])[None, :] >= filled[:, None]] = -np.inf  # empty slots never rank
        order = np.argsort(-energy, axis=1, kind="stable")[:, :highest]
        top = np.take_along_axis(window, order[:, :, None], axis=1)
        used = np.minimum(filled, highest)[:, None]
        valid = (np.arange(highest)[None, :] < used)[:, :, None]
        return np.divide((top * valid).sum(axis=1), used, out=np.zeros((n_rows, int(mask.sum()))), where=used > 0)

    # ------------------------------------------------------------------ monthly

    def energy_charge(self, kwh_by_period: np.ndarray, prior_kwh: np.ndarray) -> np.ndarray:
        """Energy charge of a month from its kWh by period, tiers shared pro rata.

        Tier k holds the part of this month's energy that falls between the tier's bounds
        of cumulative energy (``prior_kwh`` before the month: 0 for monthly tiers, the
        year-to-date energy for annual tiers). Each period's energy is spread over the tiers
        in the proportion of the month's total (NREL SAM's convention).
        """
        t = self.tariff
        if not t.tiered:
            return row_dot(kwh_by_period, t.rate[:, 0])
        total = kwh_by_period.sum(axis=1)
        lo = np.concatenate(([0.0], t.tier_bounds))
        hi = np.concatenate((t.tier_bounds, [np.inf]))
        before = prior_kwh[:, None]
        in_tier = np.clip(before + total[:, None], lo, hi) - np.clip(before, lo, hi)  # (n, K)
        per_tier_price = row_matmul(kwh_by_period, t.rate)  # (n, K): what all the month's energy would cost in tier k
        share = np.divide(in_tier, total[:, None], out=np.zeros_like(in_tier), where=total[:, None] > 0)
        return (share * per_tier_price).sum(axis=1)

    def close_month(self, m: int) -> None:
        """Turn the month's running sums into bills and reset them."""
        t, frac = self.tariff, self.cal.month_fraction[m]
        n = len(self.kwh)
        self.month_max_kw[:] = _lanes_max(self._lanes())
        self.max_lanes[:] = 0.0  # (none of its own with lanes_of: the other's reset them)
        np.maximum(self.peak_kw, self.month_max_kw, out=self.peak_kw)
        kwh = self.month_kwh_by_period.sum(axis=1)
        c = np.zeros((n, len(CHARGES)))
        min_rows, late = _NONE_1D, _NONE_1D
        if self.export is not None:
            min_rows = self._export_minimum(frac)
        month = MonthClose(self, m, frac, kwh, self.month_max_kw, self._month_days[m])
        for name, charge in MONTHLY_CHARGES.items():  # each charge's column (sim/tariffs/charges.py)
            value = charge(month)
            if value is not None:
                c[:, _C[name]] = value
        if self.export is not None:
            paid = self.export.settle(int(self._month_number[m]))
            late = paid if paid is not None else np.zeros(n)
        # minimum bill and tax on each customer's subtotal; horizon totals; block sums
        spans = np.array(self.spans, dtype=np.intp).reshape(-1, 2)
        _close_rows(c, kwh, t.minimum_per_month * frac, t.tax_pct / 100.0, _C["minimum"], _C["tax"], self.total,
                    spans, self.monthly_by_block[:, m], self.monthly_kwh_by_block[:, m], min_rows, late, _C["energy"])
        if self.export is not None:
            self.export.finish_month(m)

        self.last_month = c if self.keep_last else None
        self.kwh += kwh
        if self.monthly_by_customer is not None:
            self.monthly_by_customer[:, m] = c
        self.ytd_kwh += kwh if self.export is None else self.export.billed_kwh  # annual tiers: the kWh billed
        if self._month_number[m] == 12:
            self.ytd_kwh[:] = 0.0
        self.month_kwh_by_period[:] = 0.0
        self.month_max_kw[:] = 0.0
        self.month_max_tou_kw[:] = 0.0
        for acc in (self.month_rtp, self.month_cpp, self.month_ptr_kwh, self.month_excess_kwh, self.month_storage):
            if acc is not None:
                acc[:] = 0.0

    def _export_minimum(self, frac: float) -> np.ndarray:
        """Each customer's minimum bill of the month under an export section: the section's
        for customers with exports or credits, the tariff's for the others, prorated. [currency]"""
        t = self.tariff
        out = np.full(len(self.kwh), t.minimum_per_month * frac)
        if t.export.minimum_per_month is not None:
            out[self.export.had_exports()] = t.export.minimum_per_month * frac
        return out

    @property
    def bill(self) -> np.ndarray:
        """Each customer's total bill over the horizon. [currency]"""
        return self.total.sum(axis=1)


#: Customers billed together by :func:`bill_loads`: a day of a block stays in cache.
BILL_BLOCK = 2048


def bill_loads(tariff: CompiledTariff, load_kw: np.ndarray, calendar, *, contract_kva: np.ndarray | None = None,
               firm_kw: np.ndarray | None = None, keep_monthly: bool = False) -> BillAccumulator:
    """Bill whole load series at once: loads of ``n`` meters over the calendar's horizon.

    Meters are taken in blocks of :data:`BILL_BLOCK` within each month, so that each day's
    slice of a block is small (rows of a long series lie far apart in memory).

    Parameters
    ----------
    tariff : CompiledTariff
    load_kw : ndarray, shape (n, n_steps)
        Mean power in each step. [kW]
    calendar : Calendar
    contract_kva : ndarray, shape (n,), optional
    firm_kw : ndarray, shape (n,), optional
    keep_monthly : bool
        Keep each meter's bill of each month (``monthly_by_customer``).

    Returns
    -------
    BillAccumulator, every month closed.
    """
    load_kw = np.atleast_2d(load_kw)
    n, spd = load_kw.shape[0], calendar.steps_per_day
    if load_kw.shape[1] != calendar.n_steps:
        raise ValueError(f"load has {load_kw.shape[1]} steps; the calendar has {calendar.n_steps}")
    acc = BillAccumulator(tariff, n, calendar, contract_kva, firm_kw)
    if keep_monthly:
        acc.keep_monthly()
    month = calendar.billing_month
    by_day = tariff.ptr_event is not None or tariff.intr_event is not None
    for m in range(calendar.n_months):
        days = np.flatnonzero(month == m)
        # a whole month at once, unless event programmes need the days one by one
        spans = [(int(d), 1) for d in days] if by_day else [(int(days[0]), len(days))]
        contexts = [(d, k, DayContext(tariff, d, spd, k)) for d, k in spans]
        for a in range(0, n, BILL_BLOCK):
            rows = slice(a, min(a + BILL_BLOCK, n))
            for d, k, ctx in contexts:
                acc.add_day(rows, load_kw[rows, d * spd:(d + k) * spd], ctx)
        acc.close_month(m)
    return acc


class BillSet:
    """A segment's bills in one role when its customers are split over a tariff menu.

    Customer ``i`` is on ``tariffs[choice[i]]``. Each tariff has its own accumulator over
    just its customers; since a customer's place among those on the same tariff is a
    running count, any run of segment rows maps to one run of rows per tariff, so the
    accumulators keep working on slices. Read-outs are in segment order.
    """

    def __init__(self, tariffs: list[CompiledTariff], choice: np.ndarray, calendar,
                 contract_kva: np.ndarray | None = None, firm_kw: np.ndarray | None = None,
                 spans: list[tuple[int, int]] | None = None):
        self.tariffs = tariffs
        self.choice = choice
        self._index()
        spans = spans if spans is not None else [(0, len(choice))]
        self.accs = [BillAccumulator(t, len(idx), calendar,
                                     None if contract_kva is None else contract_kva[idx],
                                     None if firm_kw is None else firm_kw[idx],
                                     [(int(np.searchsorted(idx, a)), int(np.searchsorted(idx, b))) for a, b in spans])
                     for t, idx in zip(tariffs, self.members)]

    def _index(self) -> None:
        self.members = [np.flatnonzero(self.choice == k) for k in range(len(self.tariffs))]
        # place of each customer among the customers on its tariff
        self.place = np.zeros(len(self.choice), dtype=np.int64)
        for idx in self.members:
            self.place[idx] = np.arange(len(idx))

    @property
    def single(self) -> bool:
        return len(self.accs) == 1

    def split(self, rows: slice):
        """For each tariff with customers in ``rows``: (k, mask over rows or None, its accumulator's rows)."""
        if self.single:
            yield 0, None, rows
            return
        choice = self.choice[rows]
        for k in range(len(self.accs)):
            mask = choice == k
            if mask.any():
                first = int(self.place[rows][mask][0])
                yield k, mask, slice(first, first + int(mask.sum()))

    def day_price(self, d: int, spd: int, rows: slice, contexts: dict) -> np.ndarray:
        """Marginal price of each step for customers ``rows``: (spd,) when one untiered tariff
        serves them all, else (n_rows, spd). ``contexts``: tariff name -> DayContext of day ``d``."""
        return self.day_price_groups(d, spd, rows, contexts)[0]

    def day_price_groups(self, d: int, spd: int, rows: slice, contexts: dict) -> tuple[np.ndarray, RowGroups | None]:
        """:meth:`day_price`, and, when one tiered tariff serves customers ``rows``, their
        groups of equal price rows (customers in the same tier: ``RowGroups.from_codes``)."""
        if self.single:
            t = self.tariffs[0]
            if not t.tiered:
                return t.day_price(contexts[t.name].day, d, spd), None
            tier = self.accs[0].current_tier(rows)
            groups = RowGroups.from_codes(tier) if len(tier) else None
            return t.day_price(contexts[t.name].day, d, spd, tier), groups
        out = np.empty((rows.stop - rows.start, spd))
        for k, mask, r in self.split(rows):
            t = self.tariffs[k]
            p = t.day_price(contexts[t.name].day, d, spd, self.accs[k].current_tier(r))
            if mask is None:
                out[:] = p
            else:
                out[mask] = p
        return out, None

    def add_day(self, rows: slice, load_kw: np.ndarray, contexts: dict, storage_kw: np.ndarray | None = None,
                block_sums: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Bill one day of customers ``rows`` on their tariffs; ``block_sums`` as
        :meth:`BillAccumulator.add_day` (one tariff for all of them only)."""
        if block_sums is not None and not self.single:
            raise ValueError("block sums are taken in the billing pass only with one tariff")
        for k, mask, r in self.split(rows):
            ctx = contexts[self.tariffs[k].name]
            if mask is None:
                self.accs[k].add_day(r, load_kw, ctx, storage_kw, block_sums)
            else:
                self.accs[k].add_day(r, load_kw[mask], ctx, None if storage_kw is None else storage_kw[mask])

    def close_month(self, m: int) -> None:
        for acc in self.accs:
            acc.close_month(m)

    def _gather(self, attr: str) -> np.ndarray:
        first = getattr(self.accs[0], attr)
        if self.single:  # one tariff: its accumulator's rows are the segment's
            return first
        out = np.zeros((len(self.choice),) + first.shape[1:])
        for idx, acc in zip(self.members, self.accs):
            out[idx] = getattr(acc, attr)
        return out

    def readout(self) -> BillArrays:
        """The finished bills as frozen arrays in segment order (one sheet per tariff)."""
        return BillArrays(tuple(t.name for t in self.tariffs), self.choice, self._gather("total"),
                          self._gather("kwh"), self._gather("peak_kw"), tuple(acc.sheet() for acc in self.accs))


class ChoiceBills:
    """A segment's scenario bills when customers choose among a menu's tariffs over time.

    Every customer's actual load is billed on every tariff of the menu (shadow bills), so
    that after each bill a customer can compare. A customer pays, each month, the bill of
    the tariff it was on; after the bill it reviews with probability ``review_probability``
    and moves to the tariff that would have billed that month least, if that saves more
    than ``threshold_pct`` of its bill. Review draws come from each stream block's own
    stream, so results do not depend on chunking.

    The engine drives it as a :class:`BillSet`; its :meth:`readout` is what results read.
    """

    def __init__(self, tariffs: list[CompiledTariff], choice: np.ndarray, calendar, review, streams,
                 contract_kva: np.ndarray | None = None, firm_kw: np.ndarray | None = None):
        spans = [ab for ab, _ in streams]
        self.tariffs = tariffs
        self.choice = choice.copy()
        self.review = review
        self.streams = streams  # list of ((start, stop), Generator) per stream block
        n = len(choice)
        self.cal = calendar
        self.accs = [BillAccumulator(t, n, calendar, contract_kva, firm_kw, spans) for t in tariffs]
        for acc in self.accs:
            acc.keep_last = True
        self.total = np.zeros((n, len(CHARGES)))
        self.monthly_by_block = np.zeros((len(spans), calendar.n_months, len(CHARGES)))  #: paid, by block
        self.switches = np.zeros(n, dtype=np.int64)

    @property
    def single(self) -> bool:
        return False

    def split(self, rows: slice):
        choice = self.choice[rows]
        for k in range(len(self.accs)):
            mask = choice == k
            if mask.any():
                yield k, mask, rows

    def day_price(self, d: int, spd: int, rows: slice, contexts: dict) -> np.ndarray:
        out = np.empty((rows.stop - rows.start, spd))
        choice = self.choice[rows]
        for k, t in enumerate(self.tariffs):
            mask = choice == k
            if mask.any():
                tier = self.accs[k].current_tier(rows)
                p = t.day_price(contexts[t.name].day, d, spd, tier)
                out[mask] = p if p.ndim == 1 else p[mask]
        return out

    def day_price_groups(self, d: int, spd: int, rows: slice, contexts: dict) -> tuple[np.ndarray, None]:
        """:meth:`day_price`; the groups of equal rows are left to be found (menu options
        and tiers mixed)."""
        return self.day_price(d, spd, rows, contexts), None

    def add_day(self, rows: slice, load_kw: np.ndarray, contexts: dict, storage_kw: np.ndarray | None = None,
                block_sums: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Bill one day of customers ``rows`` on every tariff of the menu; ``block_sums`` as
        :meth:`BillSet.add_day` (not taken here: the load is billed on several tariffs)."""
        if block_sums is not None:
            raise ValueError("block sums are taken in the billing pass only with one tariff")
        for t, acc in zip(self.tariffs, self.accs):  # what this load costs on every tariff of the menu
            acc.add_day(rows, load_kw, contexts[t.name], storage_kw)

    def close_month(self, m: int) -> None:
        for acc in self.accs:
            acc.close_month(m)
        shadow = np.stack([acc.last_month for acc in self.accs])  # (options, n, charges)
        n = shadow.shape[1]
        paid = shadow[self.choice, np.arange(n)]
        self.total += paid
        for i, (a, b) in enumerate(self.accs[0].spans):
            self.monthly_by_block[i, m] = paid[a:b].sum(axis=0)
        bills = shadow.sum(axis=2)  # (options, n)
        current = bills[self.choice, np.arange(n)]
        best = bills.argmin(axis=0)
        saving = current - bills[best, np.arange(n)]
        reviews = np.zeros(n, dtype=bool)
        for (a, b), rng in self.streams:
            reviews[a:b] = rng.random(b - a) < self.review.review_probability
        move = reviews & (best != self.choice) & (saving > self.review.threshold_pct / 100.0 * np.abs(current))
        self.choice[move] = best[move]
        self.switches += move

    def readout(self) -> BillArrays:
        """The bills paid as frozen arrays (one sheet: the paid bills' sums, with the energy
        of the first tariff's meter, the same load on every tariff), the shadow bills of the
        last month closed, and how often each customer moved."""
        paid = MonthlySums("+".join(t.name for t in self.tariffs), self.monthly_by_block,
                           self.accs[0].monthly_kwh_by_block)
        last = None
        if self.accs[0].last_month is not None:
            last = np.stack([acc.last_month.sum(axis=1) for acc in self.accs])
        return BillArrays(tuple(t.name for t in self.tariffs), self.choice, self.total, self.accs[0].kwh,
                          self.accs[0].peak_kw, (paid,), self.switches, last)


class SubsetBills:
    """A second bill of some of a role's customers: another load of theirs billed on the
    tariff each of them is billed on in the role, beside their actual bills (the rooftop PV
    customers' gross load, :func:`sim.prosumers.cost_shift`).

    Only the rows ``members`` (sorted rows of the segment held) have accumulators: the
    customers of any run of segment rows are one run of member rows (a member's place is a
    running count), so the accumulators work on slices, as :class:`BillSet`'s do.

    On a :class:`BillSet` a member is billed on the tariff of its ``choice``, as in the role.
    On :class:`ChoiceBills` (customers who move within a menu) the load is billed on every
    tariff of the menu and each month a member pays the one it was on that month in the role:
    call :meth:`close_month` before the role's own close, which moves customers.

    Parameters
    ----------
    bills : BillSet or ChoiceBills
        The role's bills (their tariffs, and the customers' choices).
    members : ndarray of int
        The customers billed, sorted rows of the segment held.
    calendar : Calendar
    contract_kva, firm_kw : ndarray, shape (segment rows,), optional
    spans : list of (start, stop), optional
        The segment rows of each stream block (the accumulators' block sums).
    """

    def __init__(self, bills, members: np.ndarray, calendar, contract_kva: np.ndarray | None = None,
                 firm_kw: np.ndarray | None = None, spans: list[tuple[int, int]] | None = None):
        self.members = np.asarray(members, dtype=np.int64)
        n = len(self.members)
        kva = None if contract_kva is None else contract_kva[self.members]
        firm = None if firm_kw is None else firm_kw[self.members]
        own = [(int(np.searchsorted(self.members, a)), int(np.searchsorted(self.members, b))) for a, b in spans] \
            if spans is not None else None
        self.follow = bills if isinstance(bills, ChoiceBills) else None
        if self.follow is None:
            self.set = BillSet(bills.tariffs, bills.choice[self.members], calendar, kva, firm, own)
        else:
            self.tariffs = bills.tariffs
            self.accs = [BillAccumulator(t, n, calendar, kva, firm, own) for t in bills.tariffs]
            for acc in self.accs:
                acc.keep_last = True
            self.total = np.zeros((n, len(CHARGES)))

    def place(self, rows: slice) -> slice:
        """The member rows of the customers ``rows`` (segment rows held)."""
        return slice(int(np.searchsorted(self.members, rows.start)), int(np.searchsorted(self.members, rows.stop)))

    def add_day(self, rows: slice, load_kw: np.ndarray, contexts: dict, storage_kw: np.ndarray | None = None) -> None:
        """Bill one day of the members among the customers ``rows``: ``load_kw`` (and
        ``storage_kw``) has one row per such member, in order."""
        own = self.place(rows)
        if own.stop - own.start != len(load_kw):
            raise ValueError(f"{len(load_kw)} load rows for {own.stop - own.start} members in rows "
                             f"{rows.start}:{rows.stop}")
        if own.stop == own.start:
            return
        if self.follow is None:
            self.set.add_day(own, load_kw, contexts, storage_kw)
            return
        for t, acc in zip(self.tariffs, self.accs):
            acc.add_day(own, load_kw, contexts[t.name], storage_kw)

    def close_month(self, m: int) -> None:
        """Close the month (before the role's own close: see the class docstring)."""
        if self.follow is None:
            self.set.close_month(m)
            return
        for acc in self.accs:
            acc.close_month(m)
        choice = self.follow.choice[self.members]
        shadow = np.stack([acc.last_month for acc in self.accs])  # (options, n, charges)
        self.total += shadow[choice, np.arange(len(self.members))]

    @property
    def bill(self) -> np.ndarray:
        """Each member's total bill over the horizon, in member order. [currency]"""
        if self.follow is None:
            return self.set._gather("total").sum(axis=1)
        return self.total.sum(axis=1)
