"""The unit of each column of a sweep's tables (``runs``, ``summary``, ``sensitivity``),
written into their Parquet schemas (:meth:`sim.sweep.store.SweepStore.write_table`).

A metric column is a dotted metrics key (``change.revenue_change``,
``segments.res.baseline.peak_kw``; in ``summary`` with ``.mean``, ``.ci_low`` or
``.ci_high`` appended); its unit is the one the reports show for that key
(:data:`sim.report.fmt.KIND_OF`, docs/metrics.md), money in the sweep's currency, changes of
shares in percentage points. A key the reports do not list has the unit ``""`` (see
docs/metrics.md); so have the swept parameters, whose units are those of their scenario
fields (docs/scenario.md).
"""

from __future__ import annotations

from ..report.fmt import KIND_OF, unit

__all__ = ["column_units"]

#: Columns of the run and summary tables that are not metrics or parameters.
FIXED = {"point": "index", "replication": "index", "seed": "", "status": "", "error": "", "wall_s": "s",
         "worker": "", "key": "", "n": "count", "n_failed": "count", "metric": "", "parameter": "", "values": "",
         "S1": "1", "S1_conf": "1", "ST": "1", "ST_conf": "1",
         "mu": "the metric's unit", "mu_star": "the metric's unit", "sigma": "the metric's unit",
         "mu_star_conf": "the metric's unit"}

_STATS = (".mean", ".ci_low", ".ci_high")


def metric_unit(dotted: str, currency: str) -> str:
    """The unit of a metrics key such as ``change.bill_change_mean`` (``""`` if unknown)."""
    for tail in _STATS:
        dotted = dotted.removesuffix(tail)
    parts = dotted.split(".")
    key, group = parts[-1], (parts[-2] if len(parts) > 1 else "")
    kind = KIND_OF.get(key)
    if kind is None and group == "change":
        kind = KIND_OF.get(key.removesuffix("_change"))  # revenue_change: a difference of revenue
    return "" if kind is None else unit(kind, currency, change=group == "change")


def column_units(columns, currency: str) -> dict[str, str]:
    """Each column of a sweep table -> its unit."""
    return {c: FIXED[c] if c in FIXED else metric_unit(c, currency) for c in map(str, columns)}
