"""Charts of a run as inline SVG, drawn with matplotlib's SVG backend and no pyplot state.

Each chart is a function from arrays to an ``<svg>`` string ready to paste into HTML:
text stays text (``svg.fonttype: none``, so no font is embedded or fetched), element ids
are prefixed with the chart's id (several charts share one page), the XML prolog, DOCTYPE,
namespace URLs and RDF metadata are removed (inline SVG needs none of them, and the page
must not name any network address), and the fixed size gives way to a ``viewBox`` so the
chart scales with the page and prints at full width.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from ..words import counted

#: Okabe-Ito colours: distinguishable with colour-blindness; baseline is also dashed for grey print.
BASELINE = "#0072B2"
SCENARIO = "#D55E00"
GREY = "#555555"

RC = {
    "svg.fonttype": "none",           # text as <text>: no glyphs embedded, no fonts fetched
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Liberation Sans"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "lines.linewidth": 1.4,
}

CHARGE_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
                  "#999999", "#882255", "#44AA99", "#117733", "#332288", "#AA4499", "#DDCC77"]


def render(chart_id: str, size: tuple[float, float], draw: Callable[[Figure], None], label: str) -> str:
    """Draw a figure of ``size`` inches with ``draw(fig)`` and return it as inline SVG markup.

    ``label`` becomes the SVG's accessible name (``aria-label``).
    """
    with rc_context({**RC, "svg.hashsalt": chart_id}), warnings.catch_warnings():
        # names in any script are fine for the browser; matplotlib's own font may lack the glyphs
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
        fig = Figure(figsize=size, layout="constrained")
        draw(fig)
        buf = io.StringIO()
        FigureCanvasSVG(fig).print_svg(buf, metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return clean_svg(buf.getvalue(), chart_id, label)


def clean_svg(text: str, prefix: str, label: str) -> str:
    """Make matplotlib's SVG file text fit for inlining (see the module docstring)."""
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    text = re.sub(r'<style type="text/css">.*?</style>\s*', "", text, flags=re.S)  # a global `*` rule; page CSS has it
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', text)
    head_end = text.index(">")
    head = text[:head_end]
    head = re.sub(r'\s(width|height)="[^"]*"', "", head)
    label = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    head += f' class="chart-svg" role="img" aria-label="{label}" preserveAspectRatio="xMidYMid meet"'
    return head + text[head_end:].rstrip() + "\n"


def _thousands(ax, axis: str = "y") -> None:
    """Tick labels with thousands separators and no offset or scientific notation."""
    f = FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 100 or v == int(v) else f"{v:,.2g}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(f)


def _tx(text: str) -> str:
    """User text for a chart, with ``$`` escaped so that matplotlib never reads it as math."""
    return str(text).replace("$", r"\$")


def _hours(steps_per_day: int) -> np.ndarray:
    return np.arange(steps_per_day + 1) * 24.0 / steps_per_day


def _day_axes(ax, steps_per_day: int) -> None:
    ax.set_xlim(0, 24)
    ax.set_xticks(range(0, 25, 3))
    ax.set_xlabel("hour of day")


def _step_line(ax, y: np.ndarray, **kw) -> None:
    """A per-step mean power drawn as steps over the day (each step's value holds for its length)."""
    x = _hours(len(y))
    ax.stairs(y, x, baseline=None, **kw)


def day_curves(chart_id: str, panels: list[tuple[str, np.ndarray, np.ndarray]], label: str) -> str:
    """Baseline and scenario load over a day, one panel per ``(title, baseline_kw, scenario_kw)``."""
    n = len(panels)

    def draw(fig):
        axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
        for ax, (title, b, s) in zip(axes, panels):
            _step_line(ax, b, color=BASELINE, linestyle="--", label="baseline")
            _step_line(ax, s, color=SCENARIO, label="scenario")
            for y, c in ((b, BASELINE), (s, SCENARIO)):
                k = int(np.argmax(y))
                ax.plot([(k + 0.5) * 24 / len(y)], [y[k]], marker="o", ms=4, color=c, zorder=3)
            ax.set_title(title)
            _day_axes(ax, len(b))
        axes[0].set_ylabel("system load [kW]")
        axes[0].legend(loc="lower right", frameon=False)
        axes[0].set_ylim(bottom=0)
        _thousands(axes[0])

    return render(chart_id, (4.2 * n if n > 1 else 7.5, 3.0), draw, label)


def duck_curves(chart_id: str, panels: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]], label: str) -> str:
    """Gross and net system load over a day (the "duck curve"), one panel per ``(title,
    gross_kw, net_baseline_kw, net_scenario_kw)``: the gross load (consumption; the baseline's)
    and the net load the meters read in each role."""
    n = len(panels)

    def draw(fig):
        axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
        for ax, (title, gross, b, s) in zip(axes, panels):
            _step_line(ax, gross, color=GREY, linestyle=":", label="gross load (baseline)")
            _step_line(ax, b, color=BASELINE, linestyle="--", label="net load, baseline")
            _step_line(ax, s, color=SCENARIO, label="net load, scenario")
            ax.axhline(0.0, color="#cccccc", linewidth=0.8, zorder=0)
            ax.set_title(title)
            _day_axes(ax, len(b))
        axes[0].set_ylabel("system load [kW]")
        axes[0].legend(loc="upper left", frameon=False, fontsize="small")
        _thousands(axes[0])

    return render(chart_id, (4.2 * n if n > 1 else 7.5, 3.2), draw, label)


def season_curves(chart_id: str, rows: list[tuple[str, list[tuple[str, np.ndarray | None, np.ndarray | None, int]]]],
                  label: str) -> str:
    """Typical days: one row per season, one column per day type; each panel the mean baseline
    and scenario load over the days of that season and type (``None`` where there are none)."""
    n_rows, n_cols = len(rows), max(len(r[1]) for r in rows)

    def draw(fig):
        axes = fig.subplots(n_rows, n_cols, sharey=True, squeeze=False)
        for i, (season, panels) in enumerate(rows):
            for j, (day_type, b, s, days) in enumerate(panels):
                ax = axes[i, j]
                ax.set_title(f"{season}: {day_type}s ({counted(days, 'day')})")
                _day_axes(ax, len(b) if b is not None else 24)
                if b is None:
                    ax.text(12, 0.5, "no such days in the horizon", ha="center", va="center",
                            transform=ax.get_xaxis_transform(), color=GREY)
                    continue
                _step_line(ax, b, color=BASELINE, linestyle="--", label="baseline")
                _step_line(ax, s, color=SCENARIO, label="scenario")
            axes[i, 0].set_ylabel("mean load [kW]")
        drawn = [ax for ax in axes.flat if ax.get_lines()]   # the first panel with days (one may have none)
        if drawn:
            drawn[0].legend(loc="lower right", frameon=False)
        axes[0, 0].set_ylim(bottom=0)
        _thousands(axes[0, 0])

    return render(chart_id, (7.5, 2.5 * n_rows + 0.3), draw, label)


def duration_curve(chart_id: str, baseline: np.ndarray, scenario: np.ndarray, step_hours: float, label: str,
                   max_points: int = 2000) -> str:
    """Load duration curves: each series sorted from highest to lowest against the share of time.

    Long series are sampled at ``max_points`` evenly spaced ranks (the first and last kept),
    which changes the drawing by less than a line width.
    """
    def curve(y):
        y = np.sort(np.asarray(y, dtype=float))[::-1]
        x = (np.arange(y.size) + 0.5) / y.size * 100.0
        if y.size > max_points:
            idx = np.unique(np.linspace(0, y.size - 1, max_points).round().astype(int))
            x, y = x[idx], y[idx]
        return x, y

    def draw(fig):
        ax = fig.subplots()
        for y, c, ls, name in ((baseline, BASELINE, "--", "baseline"), (scenario, SCENARIO, "-", "scenario")):
            x, v = curve(y)
            ax.plot(x, v, color=c, linestyle=ls, label=name)
        ax.set_xlim(0, 100)
        ax.set_ylim(bottom=0)
        ax.set_xlabel(f"share of the {baseline.size * step_hours:,.0f} hours of the horizon [%]")
        ax.set_ylabel("system load [kW]")
        ax.legend(frameon=False)
        _thousands(ax)

    return render(chart_id, (7.5, 3.2), draw, label)


def monthly_bars(chart_id: str, months: list[str], peak_b, peak_s, energy_b, energy_s, label: str) -> str:
    """Monthly system peak [kW] and energy [MWh], baseline and scenario side by side."""
    def draw(fig):
        axes = fig.subplots(1, 2)
        x = np.arange(len(months))
        w = 0.38
        for ax, (b, s, ylabel, title) in zip(axes, ((peak_b, peak_s, "peak [kW]", "Monthly peak"),
                                                    (energy_b, energy_s, "energy [MWh]", "Monthly energy"))):
            ax.bar(x - w / 2, b, w, color=BASELINE, label="baseline", hatch="//", edgecolor="white", linewidth=0)
            ax.bar(x + w / 2, s, w, color=SCENARIO, label="scenario")
            ax.set_xticks(x, months, rotation=90 if len(months) > 6 else 0)
            ax.set_ylabel(ylabel)
            ax.set_title(title)
            ax.grid(axis="x", visible=False)
            _thousands(ax)
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside upper center", ncols=2, frameon=False)

    return render(chart_id, (7.5, 3.2), draw, label)


@dataclass(frozen=True)
class RevenueStacks:
    """Revenue by group and charge under the baseline and the scenario tariffs, and each group's cost of supply.

    ``baseline`` and ``scenario`` have shape (len(groups), len(charges)), ``cost_baseline``
    and ``cost_scenario`` shape (len(groups),) [currency].
    """

    groups: list[str]
    charges: list[str]
    baseline: np.ndarray
    scenario: np.ndarray
    cost_baseline: np.ndarray
    cost_scenario: np.ndarray


def revenue_bars(chart_id: str, stacks: RevenueStacks, currency: str, label: str) -> str:
    """Revenue by charge, stacked (credits below zero), with the cost of supply as a black tick."""
    groups, charges = stacks.groups, stacks.charges
    baseline, scenario, cost_b, cost_s = stacks.baseline, stacks.scenario, stacks.cost_baseline, stacks.cost_scenario

    def draw(fig):
        ax = fig.subplots()
        x = np.arange(len(groups))
        w = 0.36
        top, low = 0.0, 0.0
        for off, data, cost, hatch in ((-w / 2 - 0.01, baseline, cost_b, "//"), (w / 2 + 0.01, scenario, cost_s, None)):
            pos = np.zeros(len(groups))
            neg = np.zeros(len(groups))
            for k, c in enumerate(charges):
                v = data[:, k]
                bottom = np.where(v >= 0, pos, neg)
                ax.bar(x + off, v, w, bottom=bottom, color=CHARGE_COLOURS[k % len(CHARGE_COLOURS)], hatch=hatch,
                       edgecolor="white", linewidth=0.4)
                pos += np.maximum(v, 0)
                neg += np.minimum(v, 0)
            ax.hlines(cost, x + off - w / 2, x + off + w / 2, colors="black", linewidth=2)
            top = max(top, float(pos.max(initial=0)), float(np.max(cost, initial=0)))
            low = min(low, float(neg.min(initial=0)), float(np.min(cost, initial=0)))
        ax.set_ylim(low * 1.06, top * 1.06 if top > 0 else 1.0)  # whole stacks, whatever autoscaling makes of them
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_xticks(x, [f"{g}\nbaseline | scenario" for g in groups])
        ax.set_ylabel(f"revenue over the horizon [{currency}]")
        ax.grid(axis="x", visible=False)
        _thousands(ax)
        handles = [Patch(color=CHARGE_COLOURS[k % len(CHARGE_COLOURS)], label=c) for k, c in enumerate(charges)]
        handles.append(Patch(color="black", label="cost of supply"))
        ax.legend(handles=handles, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))

    return render(chart_id, (7.5, 3.4), draw, label)


def bill_histograms(chart_id: str, panels: list[tuple[str, np.ndarray]], currency: str, horizon_days: int,
                    label: str, bins: int = 30) -> str:
    """Histogram of the per-customer bill change (scenario - baseline bill) of each segment."""
    n = len(panels)
    cols = 2 if n > 1 else 1
    rows_n = (n + cols - 1) // cols

    def draw(fig):
        axes = fig.subplots(rows_n, cols, squeeze=False).ravel()
        for ax, (title, d) in zip(axes, panels):
            d = np.asarray(d, dtype=float)
            lo, hi = (float(d.min()), float(d.max())) if d.size else (0.0, 0.0)
            if hi - lo < 1e-9:
                lo, hi = lo - 0.5, hi + 0.5
            ax.hist(d, bins=bins, range=(lo, hi), color=SCENARIO, alpha=0.85, edgecolor="white", linewidth=0.4)
            ax.axvline(0, color="black", linewidth=0.8)
            if d.size:
                ax.axvline(float(d.mean()), color=BASELINE, linestyle="--", linewidth=1.2,
                           label=f"mean {d.mean():,.2f}")
                ax.legend(frameon=False, loc="upper right")
            ax.set_title(f"{title} ({counted(d.size, 'customer', spec=',')})")
            ax.set_xlabel(f"bill change over {counted(horizon_days, 'day')} [{currency}]")
            ax.set_ylabel("customers")
            ax.grid(axis="x", visible=False)
            _thousands(ax, "x")
        for ax in axes[n:]:
            ax.set_visible(False)

    return render(chart_id, (7.5, 2.7 * rows_n + 0.2), draw, label)


def schedule_heatmap(chart_id: str, row_labels: list[str], grid: np.ndarray, names: list[str], legend: list[str],
                     order: np.ndarray, label: str) -> str:
    """Periods by hour of day (columns) for each season and day type (rows).

    ``grid`` (n_rows, steps_per_day) holds period indices into ``names``; ``order`` ranks the
    periods from cheapest to dearest so that the colour runs from pale to dark with the price;
    ``legend`` is the text shown for each period.
    """
    n_p = len(names)
    n_rows, spd = grid.shape

    def draw(fig):
        ax = fig.subplots()
        from matplotlib import colormaps

        cmap_full = colormaps["YlOrRd"]
        shades = [cmap_full(0.15 + 0.75 * r / max(n_p - 1, 1)) for r in range(n_p)]
        colours = [shades[int(order[p])] for p in range(n_p)]
        cmap = ListedColormap(colours)
        norm = BoundaryNorm(np.arange(n_p + 1) - 0.5, n_p)
        x = _hours(spd)
        y = np.arange(n_rows + 1)
        ax.pcolormesh(x, y, grid, cmap=cmap, norm=norm, edgecolors="white", linewidth=0.5)
        ax.set_xlim(0, 24)
        ax.set_ylim(n_rows, 0)
        ax.set_xticks(range(0, 25, 2))
        ax.set_xlabel("hour of day")
        ax.set_yticks(np.arange(n_rows) + 0.5, [_tx(r) for r in row_labels])
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.tick_params(length=0)
        handles = [Patch(facecolor=colours[p], edgecolor="#999999", linewidth=0.4, label=_tx(legend[p]))
                   for p in np.argsort(-np.asarray(order), kind="stable")]
        ax.legend(handles=handles, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))

    return render(chart_id, (7.5, 0.28 * n_rows + 1.0), draw, label)
