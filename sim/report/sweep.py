"""Sweep reports: a metric over the swept parameters, and sensitivity indices, in one page.

`drsim report SWEEP_DIR` (a folder with sweep.json) writes SWEEP_DIR/report.html: the
sweep's design, a heat map of the chosen metric's mean over the first two swept parameters
(the others averaged over), or a line with its 95 % confidence band for a single
parameter, a table per design point, and the Sobol or Morris indices as a bar chart when
the sweep computed them, and the per-segment headlines (:mod:`sim.headline`) of every design
point: each segment and all customers. Self-contained like the run report (inline SVG, no
network). Shares (0-1 in the tables) are shown in %, their changes in percentage points
(pp), as in the run report.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np

from ..errors import InputError, Problem
from ..headline import ALL_LABEL, FIELDS, field_key
from . import fmt
from .charts import render
from .html import CSS, drsim_version, esc, figure, table, write_atomic

_TITLES = {"sweep-design": "Design", "sweep-metric": "The metric over the swept parameters",
           "sweep-points": "Design points", "sweep-headlines": "Headlines by segment",
           "sweep-sensitivity": "Sensitivity"}


def _section(sid: str, body: str) -> str:
    n = list(_TITLES).index(sid) + 1
    return (f'<section id="{sid}" class="report-section" aria-labelledby="{sid}-h">'
            f'<h2 id="{sid}-h">{n}. {esc(_TITLES[sid])}</h2>\n{body}</section>\n')

#: The metric shown unless another is asked for.
DEFAULT_METRIC = "change.peak_reduction_pct"


#: The headline fields the sweep report shows per design point and segment.
HEADLINE_SHOWN = ("customers", "peak_reduction_kw", "energy_change_kwh", "bill_change_mean_{cur}",
                  "bill_change_median_{cur}", "share_pay_more", "consumer_surplus_change_{cur}",
                  "revenue_change_{cur}", "margin_change_{cur}")


def sweep_currency(columns) -> str | None:
    """The currency of a sweep's money columns, read off its headline columns (upper case)."""
    for c in columns:
        m = re.fullmatch(r"headline\.all\.bill_change_mean_([a-z]{3})(\.mean)?", c)
        if m:
            return m.group(1).upper()
    return None


def metric_kind(metric: str) -> tuple[str | None, bool]:
    """The kind (:mod:`sim.report.fmt`) of a flattened metric and whether it is a change of
    that kind; ``(None, False)`` for a metric of no known kind."""
    key = metric.rsplit(".", 1)[-1]
    if metric.startswith("headline."):
        for f in FIELDS:
            if re.fullmatch(re.escape(f.key).replace(r"\{cur\}", "[a-z]{3}"), key):
                return f.kind, f.change
        return None, False
    if key in fmt.KIND_OF:
        return fmt.KIND_OF[key], key.endswith("_change") or key.startswith(("peak_reduction", "bill_change"))
    if key.endswith("_change_pct"):
        return "pct", True
    if key.endswith("_change") and key[:-len("_change")] in fmt.KIND_OF:
        return fmt.KIND_OF[key[:-len("_change")]], True
    return None, False


def metric_display(metric: str, currency: str | None) -> tuple[float, str]:
    """How the report shows a metric: the factor its values are multiplied by (100 for a 0-1
    share, shown in %, and for a change of one, in pp) and its unit ("" if unknown)."""
    kind, change = metric_kind(metric)
    if kind is None:
        return 1.0, ""
    scale = 100.0 if fmt.KINDS[kind].percent_of_fraction else 1.0
    return scale, fmt.unit(kind, currency or "currency", change=change)


def _labelled(metric: str, unit: str) -> str:
    return f"{metric} [{unit}]" if unit and unit != "–" else metric


def _headlines(summary, params: list[str], currency: str | None) -> str:
    """Per design point, each segment's and all customers' headline means over the replications."""
    cur = (currency or "").lower()
    names = list(dict.fromkeys(c.split(".")[2] for c in summary.columns
                               if c.startswith("headline.segments.") and c.endswith(".customers.mean")))
    if not currency or not names:
        return "<p>The runs carry no per-segment headlines (a sweep of runs written before they existed).</p>"
    kinds = {f.key: f for f in FIELDS}
    head = ["point", *params, "segment"]
    head += [f"{kinds[k].label} [{fmt.unit(kinds[k].kind, currency, change=kinds[k].change)}]"
             if kinds[k].kind != "customers" else kinds[k].label for k in HEADLINE_SHOWN]
    body = []
    for _, r in summary.iterrows():
        point = [str(int(r["point"])), *[f"{r[p]:.6g}" if isinstance(r[p], (int, float)) else str(r[p])
                                         for p in params]]
        for label, prefix in [*[(n, f"headline.segments.{n}") for n in names], (ALL_LABEL, "headline.all")]:
            cells = [fmt.number(r.get(f"{prefix}.{field_key(k, cur)}.mean"), kinds[k].kind, signed=kinds[k].change)
                     for k in HEADLINE_SHOWN]
            body.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in [*point, label, *cells]) + "</tr>")
    return table("sweep-headlines-table", "Each segment and all customers at every design point: means over the "
                 "successful replications (bill changes per customer, scenario - baseline; money over the horizon)",
                 head, body)


def is_sweep(folder: str | Path) -> bool:
    return (Path(folder) / "sweep.json").is_file()


def _heatmap(meta_params: list[str], summary, metric: str, label: str = "") -> str:
    x, y = meta_params[0], meta_params[1]
    grid = summary.groupby([y, x])[f"{metric}.mean"].mean().unstack(x)
    xs, ys = list(grid.columns), list(grid.index)
    values = grid.to_numpy(dtype=float)

    def draw(fig):
        ax = fig.add_subplot()
        im = ax.imshow(values, origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(xs)), [f"{v:.4g}" for v in xs], rotation=45, ha="right")
        ax.set_yticks(range(len(ys)), [f"{v:.4g}" for v in ys])
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        if values.size <= 100:
            for i in range(len(ys)):
                for j in range(len(xs)):
                    if np.isfinite(values[i, j]):
                        ax.text(j, i, f"{values[i, j]:.3g}", ha="center", va="center", fontsize=7, color="white")
        fig.colorbar(im, ax=ax, label=label or metric)

    return render("sweep-heat", (7.0, 4.8), draw, f"{metric} over {x} and {y}")


def _scatter(meta_params: list[str], summary, metric: str, label: str = "") -> str:
    """Sampled designs: each design point at its two parameter values, coloured by the metric."""
    x, y = meta_params[0], meta_params[1]

    def draw(fig):
        ax = fig.add_subplot()
        sc = ax.scatter(summary[x], summary[y], c=summary[f"{metric}.mean"], cmap="viridis", s=40, edgecolors="k",
                        linewidths=0.3)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.grid(alpha=0.3)
        fig.colorbar(sc, ax=ax, label=label or metric)

    return render("sweep-scatter", (7.0, 4.8), draw, f"{metric} over {x} and {y}")


def _line(param: str, summary, metric: str, label: str = "") -> str:
    s = summary.groupby(param)[[f"{metric}.mean", f"{metric}.ci_low", f"{metric}.ci_high"]].mean().sort_index()

    def draw(fig):
        ax = fig.add_subplot()
        xv = s.index.to_numpy(dtype=float)
        ax.plot(xv, s[f"{metric}.mean"], marker="o", color="#1f5f99")
        lo, hi = s[f"{metric}.ci_low"].to_numpy(dtype=float), s[f"{metric}.ci_high"].to_numpy(dtype=float)
        if np.isfinite(lo).all() and np.isfinite(hi).all():
            ax.fill_between(xv, lo, hi, alpha=0.2, color="#1f5f99", label="95 % confidence interval")
            ax.legend(loc="best", fontsize=8)
        ax.set_xlabel(param)
        ax.set_ylabel(label or metric)
        ax.grid(alpha=0.3)

    return render("sweep-line", (7.0, 4.0), draw, f"{metric} against {param}")


def _sensitivity(sens) -> str:
    first, total = ("S1", "ST") if "S1" in sens.columns else ("mu_star", "sigma")

    def draw(fig):
        metrics = list(dict.fromkeys(sens["metric"]))
        axes = fig.subplots(len(metrics), 1, squeeze=False)[:, 0]
        for ax, m in zip(axes, metrics):
            part = sens[sens["metric"] == m]
            pos = np.arange(len(part))
            ax.barh(pos - 0.2, part[first], height=0.4, label=first, color="#1f5f99")
            ax.barh(pos + 0.2, part[total], height=0.4, label=total, color="#e08a2c")
            ax.set_yticks(pos, list(part["parameter"]), fontsize=7)
            ax.set_title(m, fontsize=9)
            ax.legend(loc="best", fontsize=7)
            ax.grid(axis="x", alpha=0.3)

    n = sens["metric"].nunique()
    return render("sweep-sens", (7.0, 1.2 + 1.6 * n), draw, "sensitivity indices")


def _chart(design: str | None, numeric: list[str], summary, metric: str, label: str) -> str:
    """The metric over the first two numeric parameters (a heat map for a grid, a scatter for
    a sampled design), or against the only one."""
    if len(numeric) >= 2 and design != "grid":
        return figure("fig-sweep-scatter", _scatter(numeric, summary, metric, label),
                      f"{label} at each sampled design point over {numeric[0]} and {numeric[1]}")
    if len(numeric) >= 2:
        return figure("fig-sweep-heat", _heatmap(numeric, summary, metric, label),
                      f"Mean of {label} over {numeric[0]} and {numeric[1]}"
                      + (" (other parameters averaged over)" if len(numeric) > 2 else ""))
    if numeric:
        return figure("fig-sweep-line", _line(numeric[0], summary, metric, label), f"{label} against {numeric[0]}")
    return "<p>No numeric swept parameter to draw.</p>"


def build_sweep_report(folder: str | Path, metric: str = DEFAULT_METRIC) -> str:
    """The report of a finished sweep folder as one HTML document."""
    import pandas as pd

    folder = Path(folder)
    try:
        meta = json.loads((folder / "sweep.json").read_text())
        summary = pd.read_parquet(folder / "summary.parquet")
    except (OSError, ValueError) as e:
        raise InputError(Problem(str(folder), None, "", f"not a finished sweep folder ({e})")) from None
    params = [p["path"] for p in meta.get("params", [])]
    if f"{metric}.mean" not in summary.columns:
        known = sorted(c[:-5] for c in summary.columns if c.endswith(".mean"))[:12]
        raise InputError(Problem("--metric", None, "", f"the sweep has no metric {metric!r} (e.g. {', '.join(known)})"))
    # text parameters (tariff names, models) come back as pandas' string dtype, which numpy cannot read
    numeric = [p for p in params if p in summary.columns and pd.api.types.is_numeric_dtype(summary[p])
               and not pd.api.types.is_bool_dtype(summary[p])]
    currency = sweep_currency(summary.columns)
    scale, unit = metric_display(metric, currency)
    shown = summary.copy()
    for k in ("mean", "ci_low", "ci_high"):
        shown[f"{metric}.{k}"] = summary[f"{metric}.{k}"] * scale
    summary, label = shown, _labelled(metric, unit)
    parts = []
    design = [("Scenario", meta.get("scenario_name")), ("Design", meta.get("design")),
              ("Design points", meta.get("points")), ("Runs", meta.get("runs")),
              ("Replications", meta.get("replications")), ("Seed", meta.get("seed")),
              ("Command", " ".join(map(str, meta.get("command") or [])))]
    rows = [f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in design]
    parts.append(_section("sweep-design", f'<table id="sweep-design-table">{"".join(rows)}</table>'))
    chart = _chart(meta.get("design"), numeric, summary, metric, label)
    parts.append(_section("sweep-metric", chart))
    u = f" [{unit}]" if unit and unit != "–" else ""
    head = ["point", *params, "n", f"mean{u}", f"95 % CI low{u}", f"95 % CI high{u}"]
    body = []
    for _, r in summary.iterrows():
        cells = [str(int(r["point"])), *[f"{r[p]:.6g}" if isinstance(r[p], (int, float)) else str(r[p]) for p in params],
                 str(int(r["n"])), *[f"{r[f'{metric}.{k}']:.4g}" for k in ("mean", "ci_low", "ci_high")]]
        body.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    parts.append(_section("sweep-points", table("sweep-points-table", f"{label} by design point", head, body)))
    parts.append(_section("sweep-headlines", _headlines(summary, params, currency)))
    sens_path = folder / "sensitivity.parquet"
    if sens_path.is_file():
        sens = pd.read_parquet(sens_path)
        parts.append(_section("sweep-sensitivity", figure("fig-sweep-sens", _sensitivity(sens),
                                                          "Sensitivity indices by metric and parameter")))
    generated = dt.datetime.now(dt.timezone.utc)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>drsim sweep report: {esc(meta.get('scenario_name'))}</title>\n<style>{CSS}</style>\n</head>\n"
            f"<body>\n<header id=\"top\"><h1>Sweep report: {esc(meta.get('scenario_name'))}</h1>"
            f"<p class=\"muted\">{esc(meta.get('design'))} design, {esc(meta.get('runs'))} runs; metric {esc(metric)}. "
            f"Written {generated:%Y-%m-%d %H:%M} UTC by drsim {esc(drsim_version())}.</p></header>\n"
            f"<main>\n{''.join(parts)}</main>\n</body>\n</html>\n")


def write_sweep_report(folder: str | Path, metric: str = DEFAULT_METRIC) -> Path:
    path = Path(folder) / "report.html"
    write_atomic(path, build_sweep_report(folder, metric))
    return path
