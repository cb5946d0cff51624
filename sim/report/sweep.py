"""Sweep reports: a metric over the swept parameters, and sensitivity indices, in one page.

`drsim report SWEEP_DIR` (a folder with sweep.json) writes SWEEP_DIR/report.html: the
sweep's design, a heat map of the chosen metric's mean over the first two swept parameters
(the others averaged over), or a line with its 95 % confidence band for a single
parameter, a table per design point, and the Sobol or Morris indices as a bar chart when
the sweep computed them. Self-contained like the run report (inline SVG, no network).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np

from ..errors import InputError, Problem
from .charts import render
from .html import CSS, drsim_version, esc, figure, table, write_atomic

_TITLES = {"sweep-design": "Design", "sweep-metric": "The metric over the swept parameters",
           "sweep-points": "Design points", "sweep-sensitivity": "Sensitivity"}


def _section(sid: str, body: str) -> str:
    n = list(_TITLES).index(sid) + 1
    return (f'<section id="{sid}" class="report-section" aria-labelledby="{sid}-h">'
            f'<h2 id="{sid}-h">{n}. {esc(_TITLES[sid])}</h2>\n{body}</section>\n')

#: The metric shown unless another is asked for.
DEFAULT_METRIC = "change.peak_reduction_pct"


def is_sweep(folder: str | Path) -> bool:
    return (Path(folder) / "sweep.json").is_file()


def _heatmap(meta_params: list[str], summary, metric: str) -> str:
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
        fig.colorbar(im, ax=ax, label=metric)

    return render("sweep-heat", (7.0, 4.8), draw, f"{metric} over {x} and {y}")


def _scatter(meta_params: list[str], summary, metric: str) -> str:
    """Sampled designs: each design point at its two parameter values, coloured by the metric."""
    x, y = meta_params[0], meta_params[1]

    def draw(fig):
        ax = fig.add_subplot()
        sc = ax.scatter(summary[x], summary[y], c=summary[f"{metric}.mean"], cmap="viridis", s=40, edgecolors="k",
                        linewidths=0.3)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.grid(alpha=0.3)
        fig.colorbar(sc, ax=ax, label=metric)

    return render("sweep-scatter", (7.0, 4.8), draw, f"{metric} over {x} and {y}")


def _line(param: str, summary, metric: str) -> str:
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
        ax.set_ylabel(metric)
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
    parts = []
    design = [("Scenario", meta.get("scenario_name")), ("Design", meta.get("design")),
              ("Design points", meta.get("points")), ("Runs", meta.get("runs")),
              ("Replications", meta.get("replications")), ("Seed", meta.get("seed")),
              ("Command", " ".join(map(str, meta.get("command") or [])))]
    rows = [f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in design]
    parts.append(_section("sweep-design", f'<table id="sweep-design-table">{"".join(rows)}</table>'))
    if len(numeric) >= 2 and meta.get("design") != "grid":
        chart = figure("fig-sweep-scatter", _scatter(numeric, summary, metric),
                       f"{metric} at each sampled design point over {numeric[0]} and {numeric[1]}")
    elif len(numeric) >= 2:
        chart = figure("fig-sweep-heat", _heatmap(numeric, summary, metric),
                       f"Mean of {metric} over {numeric[0]} and {numeric[1]}"
                       + (" (other parameters averaged over)" if len(numeric) > 2 else ""))
    elif numeric:
        chart = figure("fig-sweep-line", _line(numeric[0], summary, metric), f"{metric} against {numeric[0]}")
    else:
        chart = "<p>No numeric swept parameter to draw.</p>"
    parts.append(_section("sweep-metric", chart))
    head = ["point", *params, "n", "mean", "95 % CI low", "95 % CI high"]
    body = []
    for _, r in summary.iterrows():
        cells = [str(int(r["point"])), *[f"{r[p]:.6g}" if isinstance(r[p], (int, float)) else str(r[p]) for p in params],
                 str(int(r["n"])), *[f"{r[f'{metric}.{k}']:.4g}" for k in ("mean", "ci_low", "ci_high")]]
        body.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    parts.append(_section("sweep-points", table("sweep-points-table", f"{metric} by design point", head, body)))
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
