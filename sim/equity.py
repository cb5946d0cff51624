"""Equity of a tariff change: how the bill changes fall on a segment's customers, and how
much of each customer's change the tariff makes by itself (structural) against what its
response to the tariff adds (behavioural).

For each customer ``i`` of a segment, with ``B_i`` its baseline bill, ``S_i`` its scenario
bill and ``T_i`` its *structural bill* (its baseline-role load billed on the scenario
tariff it is on at the end of the horizon: :attr:`sim.outcome.SegmentOutcome.structural_bill`),
all over the run's horizon and in the scenario's currency::

    dB_i          = S_i - B_i        bill change
    structural_i  = T_i - B_i        what the new tariff does to the unchanged load
    behavioural_i = S_i - T_i        what the customer's response adds (negative: it saves)

so that ``structural_i + behavioural_i = dB_i`` (to float rounding, tested). Relative
changes are ``100 dB_i / |B_i|`` [%], taken over the customers whose baseline bill is at
least a cent in size. A customer pays "more than x %" when ``dB_i > max(x/100 |B_i|, 0.005)``
(the cent is the smallest change a bill shows, as in :func:`sim.metrics.bill_change_distribution`),
so that the shares are nested: more than 10 % <= more than 5 % <= more than 1 % <= pays more.

Concentration: the Gini coefficient of the segment's bills in each role, and of the gains
``-dB_i`` where ``dB_i < -0.005`` and losses ``dB_i`` where ``dB_i > 0.005`` (0 elsewhere:
a change within half a cent is none) over all of its customers (0: spread evenly
over every customer; towards 1: one customer takes all). docs/metrics.md ("Equity") gives
every key with its definition.

Groups: a segment may name groups of its customers (``groups:``, docs/scenario.md 5.8), such
as income quintiles. Each customer is drawn into one from the seed, per stream block, with a
Gaussian copula: its latent value is ``rho z_i + sqrt(1 - rho^2) e_i``, where ``z_i`` is
the normal score of the rank of its baseline energy in the segment, ``e_i`` a standard
normal draw and ``rho`` the scenario's ``consumption_correlation``; the groups, listed from
the lowest to the highest value, take the latent values' standard normal quantiles in
order of their shares. The groups change no load and no bill; the figures by group are a
subset of the segment's (:data:`GROUP_KEYS`).

Reads :class:`sim.outcome.SegmentOutcome` arrays (and draws the groups from the seed's
streams, :func:`sim.population.segments.block_stream`); :mod:`sim.metrics` registers the
figures into ``metrics.json``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .population.segments import GROUPS, STREAM_BLOCK, block_stream
from .rowmath import dot

__all__ = ["DECILES", "GROUP_KEYS", "THRESHOLDS_PCT", "BillSplit", "bill_split", "customer_groups", "equity_figures",
           "gini", "group_figures", "split_of"]

#: The percentiles of the bill-change distribution reported: the nine deciles.
DECILES = (10, 20, 30, 40, 50, 60, 70, 80, 90)
#: The relative bill increases whose shares of customers are reported. [% of the baseline bill]
THRESHOLDS_PCT = (1, 5, 10)
#: The smallest change a bill shows: smaller differences count as no change. [currency]
CENT = 0.005


@dataclass(frozen=True)
class BillSplit:
    """One segment's (or several segments') bills per customer, and the split of each
    customer's change.

    Attributes
    ----------
    baseline, scenario, structural : ndarray, shape (n,)
        ``B_i``, ``S_i`` and ``T_i`` over the horizon. [currency]
    """

    baseline: np.ndarray
    scenario: np.ndarray
    structural: np.ndarray

    @property
    def change(self) -> np.ndarray:
        """``dB_i = S_i - B_i``. [currency]"""
        return self.scenario - self.baseline

    @property
    def structural_change(self) -> np.ndarray:
        """``T_i - B_i``: the scenario tariff on the unchanged load. [currency]"""
        return self.structural - self.baseline

    @property
    def behavioural_change(self) -> np.ndarray:
        """``S_i - T_i``: what the response adds to the bill. [currency]"""
        return self.scenario - self.structural

    def subset(self, rows: np.ndarray) -> "BillSplit":
        """The customers ``rows`` (a mask or indices)."""
        return BillSplit(self.baseline[rows], self.scenario[rows], self.structural[rows])

    @classmethod
    def join(cls, parts: list["BillSplit"]) -> "BillSplit":
        return cls(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("baseline", "scenario", "structural")))


def bill_split(seg) -> BillSplit:
    """The bills of a :class:`sim.outcome.SegmentOutcome` and each customer's structural bill:
    its baseline load on the scenario tariff it ends on (with none recorded, the scenario
    tariff is the baseline tariff, and the structural bill is the baseline bill)."""
    base = seg.bills["baseline"].bill
    scen_bills = seg.bills["scenario"]
    if seg.structural_bill is None:
        structural = base
    else:
        structural = seg.structural_bill[scen_bills.choice, np.arange(seg.n)]
    return BillSplit(base, scen_bills.bill, structural)


def split_of(segments) -> BillSplit:
    """The customers of several segments (outcomes, in order) as one split."""
    return BillSplit.join([bill_split(s) for s in segments])


def gini(x: np.ndarray) -> float | None:
    """The Gini coefficient of non-negative amounts ``x``, ``sum_ij |x_i - x_j| / (2 n^2 mean)``,
    from the sorted values: ``(2 sum_k k x_(k)) / (n sum x) - (n + 1) / n`` (k = 1..n).
    None when the amounts do not sum to more than zero or any is negative (the
    coefficient is not defined there)."""
    x = np.sort(np.asarray(x, dtype=float))
    n = x.size
    total = x.sum()
    if n == 0 or not total > 0 or x[0] < 0:
        return None
    k = np.arange(1, n + 1)
    return float(max(0.0, min(1.0, 2.0 * dot(k, x) / (n * total) - (n + 1) / n)))  # not @: sim.rowmath.dot


def _percentiles(x: np.ndarray, prefix: str) -> dict:
    values = np.percentile(x, DECILES) if x.size else [0.0] * len(DECILES)
    return {f"{prefix}_p{p}": float(v) for p, v in zip(DECILES, values)}


def distribution(split: BillSplit) -> dict:
    """Deciles, mean and median of the bill changes, in money [currency per customer] and
    relative [% of the baseline bill], and the shares of customers paying more than each of
    :data:`THRESHOLDS_PCT` (fractions 0-1)."""
    change, base = split.change, split.baseline
    n = change.size
    sized = np.abs(base) >= CENT
    pct = change[sized] / np.abs(base[sized]) * 100.0
    money, rel = _percentiles(change, "bill_change"), _percentiles(pct, "bill_change_pct")
    out = {"customers": int(n), "customers_with_relative_change": int(sized.sum()),
           "bill_change_mean": float(change.mean()) if n else 0.0, "bill_change_median": money["bill_change_p50"],
           **money,
           "bill_change_pct_mean": float(pct.mean()) if pct.size else 0.0,
           "bill_change_pct_median": rel["bill_change_pct_p50"], **rel}
    out["share_pay_more"] = float(np.mean(change > CENT)) if n else 0.0
    out["share_pay_less"] = float(np.mean(change < -CENT)) if n else 0.0
    for x in THRESHOLDS_PCT:
        out[f"share_pay_more_than_{x}pct"] = float(np.mean(change > np.maximum(x / 100.0 * np.abs(base), CENT))) \
            if n else 0.0
    return out


def decomposition(split: BillSplit) -> dict:
    """The structural and behavioural parts of the bill changes: their means and medians per
    customer and totals over the customers [currency], and who wins or loses on each
    (fractions 0-1)."""
    st, be = split.structural_change, split.behavioural_change
    n = st.size

    def stat(f, x):
        return float(f(x)) if n else 0.0

    return {"structural_change_mean": stat(np.mean, st), "structural_change_median": stat(np.median, st),
            "structural_change_total": float(st.sum()),
            "behavioural_change_mean": stat(np.mean, be), "behavioural_change_median": stat(np.median, be),
            "behavioural_change_total": float(be.sum()),
            "structural_winners_share": stat(np.mean, st < -CENT), "structural_losers_share": stat(np.mean, st > CENT),
            "behavioural_savers_share": stat(np.mean, be < -CENT)}


def concentration(split: BillSplit) -> dict:
    """Gini coefficients (0-1, None where undefined) of the bills in each role and of the
    gains and losses over all the customers."""
    change = split.change
    # a change within half a cent is no gain or loss (as in the shares paying more or less):
    # otherwise a segment where nobody gains would report the Gini of its rounding residues
    gains = np.where(change < -CENT, -change, 0.0)
    losses = np.where(change > CENT, change, 0.0)
    return {"bill_gini_baseline": gini(split.baseline), "bill_gini_scenario": gini(split.scenario),
            "gains_gini": gini(gains), "losses_gini": gini(losses)}


def equity_figures(split: BillSplit, currency: str, days: int, *, gini_of_bills: bool = True) -> dict:
    """Every equity figure of ``split``'s customers, with the currency and units named
    (``metrics.json``: ``segments.<name>.change.equity`` and ``change.equity``).

    ``gini_of_bills=False`` leaves the concentration figures out: over the customers of
    several segments they would measure how customers differ in size (households against
    factories), not how a tariff treats them."""
    out = {"currency": currency,
           "units": {"money": f"{currency} per customer over the {days}-day horizon (totals: {currency})",
                     "pct": "% of the customer's baseline bill", "share": "fraction of the customers, 0-1",
                     "gini": "Gini coefficient, 0-1"}}
    out.update(distribution(split))
    out.update(decomposition(split))
    if gini_of_bills:
        out.update(concentration(split))
    else:
        del out["units"]["gini"]
    return out


#: The figures reported for each group of a segment's customers (keys of :func:`equity_figures`).
GROUP_KEYS = ("customers", "bill_change_mean", "bill_change_median", "bill_change_pct_median", "share_pay_more",
              "share_pay_less", "share_pay_more_than_5pct", "share_pay_more_than_10pct", "structural_change_mean",
              "behavioural_change_mean")


def customer_groups(groups, seed: int, segment: str, kwh: np.ndarray) -> np.ndarray:
    """Each customer's group (index into ``groups.shares``, in the order listed), drawn from
    the seed per stream block with the Gaussian copula of the module docstring; ``kwh`` is
    each customer's baseline energy (segment order). The same customers get the same groups
    however the run was spread (the draws are per stream block, the ranks over the segment)."""
    n = kwh.size
    noise = np.empty(n)
    for b, a in enumerate(range(0, n, STREAM_BLOCK)):
        stop = min(a + STREAM_BLOCK, n)
        noise[a:stop] = block_stream(seed, segment, b, GROUPS).standard_normal(stop - a)
    rho = float(groups.consumption_correlation)
    latent = noise
    if rho != 0.0 and n:
        scores = stats.norm.ppf((stats.rankdata(kwh, method="average") - 0.5) / n)
        latent = rho * scores + np.sqrt(1.0 - rho * rho) * noise
    edges = np.cumsum(list(groups.shares.values()))[:-1]
    return np.searchsorted(edges, stats.norm.cdf(latent), side="right")


def group_figures(split: BillSplit, group: np.ndarray, names: list[str], currency: str, days: int) -> dict:
    """The figures of :data:`GROUP_KEYS` for each group ``names[k]`` (customers ``group == k``)."""
    out = {}
    for k, name in enumerate(names):
        f = equity_figures(split.subset(group == k), currency, days, gini_of_bills=False)
        out[name] = {key: f[key] for key in GROUP_KEYS}
    return out
