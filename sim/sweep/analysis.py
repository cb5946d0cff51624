"""Sweep tables: runs, per-point means with confidence intervals, and sensitivity indices.

The confidence interval of a metric at a design point is the Student-t interval of the
mean of its replications, ``mean +- t(0.975, n - 1) * s / sqrt(n)`` with ``s`` the sample
standard deviation (ddof = 1); it needs n >= 2 successful replications (NaN otherwise).
Because every design point uses the same replication seeds (common random numbers), the
intervals describe the spread over customer draws at each point, and differences between
points are paired.

Sensitivity indices analyse the mean over replications at each design point: Sobol
first-order and total indices (SALib.analyze.sobol, on SALib's Saltelli design) or Morris
elementary effects (SALib.analyze.morris), with respect to each parameter's position in
the unit cube (its quantile).

References
----------
.. [1] Saltelli et al. (2010), Computer Physics Communications 181(2), 259-270.
.. [2] Campolongo, Cariboni and Saltelli (2007), Environmental Modelling & Software 22(10).
.. [3] Herman and Usher (2017), "SALib: An open-source Python library for sensitivity
   analysis", Journal of Open Source Software 2(9).
"""

from __future__ import annotations

import difflib
import json
import warnings
from typing import Any

import numpy as np

from .design import MORRIS_LEVELS

#: Confidence level of the intervals and of the sensitivity indices' bootstrap intervals.
CONFIDENCE = 0.95

#: Columns of the run table that are not parameters or metrics.
RUN_COLUMNS = ("point", "replication", "seed", "status", "error", "wall_s", "worker", "key")


def mean_ci(values, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of a sample.

    Parameters
    ----------
    values : array_like
        Replications of one metric (NaN are left out).

    Returns
    -------
    (mean, low, high) : floats; low and high are NaN with fewer than 2 values.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return np.nan, np.nan, np.nan
    m = float(x.mean())
    if n < 2:
        return m, np.nan, np.nan
    from scipy import stats

    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return m, m - half, m + half


def _column(values: list) -> list:
    """A parameter column Parquet can store: numbers stay numbers; anything mixed, or
    lists and mappings, becomes text (JSON)."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return values
    if all(isinstance(v, bool) for v in values) or all(isinstance(v, str) for v in values):
        return values
    return [v if isinstance(v, str) else json.dumps(v) for v in values]


def run_table(plan, records: dict[str, dict]):
    """One row per run: point, replication, seed, parameters, status, error, wall time,
    worker, key, then every metric (dotted names; NaN for failed runs).

    Parameters
    ----------
    plan : Plan
    records : dict
        Run key -> record (see :func:`sim.sweep.store.make_record`).

    Returns
    -------
    pandas.DataFrame, rows in (point, replication) order.
    """
    import pandas as pd

    runs = plan.runs
    recs = [records.get(r.key) or {} for r in runs]
    cols: dict[str, Any] = {
        "point": np.array([r.point for r in runs], dtype=np.int64),
        "replication": np.array([r.replication for r in runs], dtype=np.int64),
        "seed": np.array([r.seed for r in runs], dtype=np.int64),
    }
    for path in plan.columns:  # the swept parameters, then the linked fields
        cols[path] = _column([plan.design.points[r.point][path] for r in runs])
    cols["status"] = [rec.get("status", "missing") for rec in recs]
    cols["error"] = [rec.get("error") for rec in recs]
    cols["wall_s"] = np.array([rec.get("wall_s", np.nan) if rec.get("wall_s") is not None else np.nan
                               for rec in recs], dtype=float)
    cols["worker"] = [rec.get("worker") for rec in recs]
    cols["key"] = [r.key for r in runs]
    head = pd.DataFrame(cols)
    metrics = pd.DataFrame.from_records([rec.get("metrics") or {} for rec in recs])
    if metrics.shape[1]:
        metrics = metrics.apply(pd.to_numeric, errors="coerce")
        return pd.concat([head, metrics], axis=1)
    return head


def summarize(runs, plan, confidence: float = CONFIDENCE):
    """One row per design point: parameters, ``n`` successful replications, ``n_failed``,
    and for every metric ``<metric>.mean``, ``<metric>.ci_low``, ``<metric>.ci_high``.

    Returns
    -------
    pandas.DataFrame
    """
    import pandas as pd
    from scipy import stats

    n_points = len(plan.design.points)
    params = plan.columns
    metrics = [c for c in runs.columns if c not in RUN_COLUMNS and c not in params]
    ok = runs[runs["status"] == "ok"]
    g = ok.groupby("point")
    index = pd.RangeIndex(n_points, name="point")
    cols: dict[str, Any] = {"point": np.arange(n_points)}
    for path in plan.columns:
        cols[path] = _column([pt[path] for pt in plan.design.points])
    cols["n"] = g.size().reindex(index, fill_value=0).to_numpy()
    cols["n_failed"] = runs[runs["status"] != "ok"].groupby("point").size().reindex(index, fill_value=0).to_numpy()
    if metrics:
        values = ok[metrics].astype(float)
        mean = values.groupby(ok["point"]).mean().reindex(index).to_numpy()
        sd = values.groupby(ok["point"]).std(ddof=1).reindex(index).to_numpy()
        n = values.groupby(ok["point"]).count().reindex(index, fill_value=0).to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            tq = np.where(n >= 2, stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)), np.nan)
            half = tq * sd / np.sqrt(n)
        for j, m in enumerate(metrics):
            cols[f"{m}.mean"] = mean[:, j]
            cols[f"{m}.ci_low"] = mean[:, j] - half[:, j]
            cols[f"{m}.ci_high"] = mean[:, j] + half[:, j]
    return pd.DataFrame(cols)


def check_metrics(names: list[str], available) -> list[str]:
    """Problems with metric names, against the metrics of a finished run."""
    available = list(available)
    out = []
    for m in names:
        if m not in available:
            near = difflib.get_close_matches(m, available, n=3)
            out.append(f"no metric {m!r}" + (f" (did you mean {', '.join(near)}?)" if near else ""))
    return out


def sensitivity(plan, summary) -> tuple[Any, list[str]]:
    """Sensitivity indices of the plan's metrics (sobol or morris designs).

    Returns
    -------
    (pandas.DataFrame or None, notes)
        Sobol: one row per (metric, parameter) with ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.
        Morris: ``mu``, ``mu_star``, ``sigma``, ``mu_star_conf``. ``*_conf`` are half-widths
        of bootstrap confidence intervals at CONFIDENCE.
    """
    import pandas as pd

    des = plan.design
    if des.kind not in ("sobol", "morris") or not plan.sensitivity:
        return None, []
    dims = des.dims
    problem = {"num_vars": len(dims), "names": [p.path for p in dims], "bounds": [[0.0, 1.0]] * len(dims)}
    seed = int(np.random.SeedSequence(plan.seed, spawn_key=(2,)).generate_state(1)[0])
    rows, notes = [], []
    for m in plan.sensitivity:
        col = f"{m}.mean"
        if col not in summary:
            notes.append(f"sensitivity of {m}: no such metric in the runs")
            continue
        y = summary[col].to_numpy(dtype=float)
        missing = int(np.isnan(y).sum())
        if missing:
            notes.append(f"sensitivity of {m} not computed: {missing} design points have no successful run "
                         "(rerun the sweep to retry the failed runs)")
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if des.kind == "sobol":
                from SALib.analyze import sobol

                si = sobol.analyze(problem, y, calc_second_order=False, conf_level=CONFIDENCE, seed=seed)
                keys = ("S1", "S1_conf", "ST", "ST_conf")
            else:
                from SALib.analyze import morris

                si = morris.analyze(problem, des.unit, y, conf_level=CONFIDENCE, num_levels=MORRIS_LEVELS, seed=seed)
                keys = ("mu", "mu_star", "sigma", "mu_star_conf")
        if np.var(y) == 0:
            notes.append(f"sensitivity of {m}: the metric is the same at every design point")
        for j, p in enumerate(dims):
            rows.append({"metric": m, "parameter": p.path, "values": p.text,
                         **{k: float(np.asarray(si[k])[j]) for k in keys}})
    if not rows:
        return None, notes
    return pd.DataFrame(rows), notes
