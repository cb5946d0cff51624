"""Several runs side by side: their metrics, and each run's difference from the first.

Under the system's rows come the per-segment headlines (:mod:`sim.headline`): one group of
rows per segment, then all customers.

The first run (A) is the reference: for every later run the table shows ``run - A`` and,
for amounts (kW, kWh, money, counts) under the scenario or baseline tariffs, the relative
difference ``(run - A) / |A|`` in % (not for the scenario-against-baseline changes, whose
relative differences mislead when they cross zero).
Differences of ratios are plain differences; differences of shares and percentages are in
percentage points. Used by ``drsim compare`` in the terminal and, with ``--html``, as a
self-contained HTML page.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, Problem
from ..headline import ALL_LABEL, FIELDS, headline_of
from . import fmt
from .run import read_summary

#: (group, dotted path in metrics.json, label, kind), in table order.
COMPARE_ROWS = [
    ("Scenario tariffs: system", "scenario.peak_kw", "System peak", "kw"),
    ("Scenario tariffs: system", "scenario.valley_kw", "System valley", "kw"),
    ("Scenario tariffs: system", "scenario.energy_kwh", "Energy", "kwh"),
    ("Scenario tariffs: system", "scenario.load_factor", "Load factor", "ratio"),
    ("Scenario tariffs: system", "scenario.peak_to_average", "Peak-to-average ratio", "ratio"),
    ("Scenario tariffs: system", "scenario.peak_valley_rate", "Peak-valley difference rate", "share"),
    ("Scenario tariffs: system", "scenario.daily_peak_valley_rate", "Mean daily peak-valley rate", "share"),
    ("Scenario tariffs: system", "scenario.max_ramp_up_kw_per_step", "Largest ramp up", "kw_step"),
    ("Scenario tariffs: system", "scenario.revenue", "Revenue", "money"),
    ("Scenario tariffs: system", "scenario.cost", "Cost of supply", "money"),
    ("Scenario tariffs: system", "scenario.margin", "Margin", "money"),
    ("Scenario tariffs: system", "scenario.average_price_per_kwh", "Average price", "price"),
    ("Scenario against its baseline", "change.peak_reduction_kw", "Peak reduction", "kw"),
    ("Scenario against its baseline", "change.peak_reduction_pct", "Peak reduction, relative", "pct"),
    ("Scenario against its baseline", "change.energy_kwh_change", "Energy change", "kwh"),
    ("Scenario against its baseline", "change.energy_shifted_kwh", "Energy shifted", "kwh"),
    ("Scenario against its baseline", "change.revenue_change", "Revenue change", "money"),
    ("Scenario against its baseline", "change.margin_change", "Margin change", "money"),
    ("Scenario against its baseline", "change.bill_change_mean", "Mean bill change", "bill"),
    ("Scenario against its baseline", "change.bill_change_pct_mean", "Mean bill change, relative", "pct"),
    ("Scenario against its baseline", "change.bill_change_p5", "Bill change, 5th percentile", "bill"),
    ("Scenario against its baseline", "change.bill_change_p50", "Bill change, median", "bill"),
    ("Scenario against its baseline", "change.bill_change_p95", "Bill change, 95th percentile", "bill"),
    ("Scenario against its baseline", "change.share_pay_more", "Customers who pay more", "share"),
    ("Scenario against its baseline", "change.share_pay_less", "Customers who pay less", "share"),
    ("Scenario against its baseline", "change.consumer_utility_change", "Customers' utility change", "money"),
    ("Scenario against its baseline", "change.consumer_surplus_change", "Consumer surplus change", "money"),
    ("Scenario against its baseline", "change.welfare_change", "Welfare change", "money"),
    ("Scenario against its baseline", "change.event_windows", "Event windows", "count"),
    ("Baseline tariffs: system", "baseline.peak_kw", "System peak", "kw"),
    ("Baseline tariffs: system", "baseline.energy_kwh", "Energy", "kwh"),
    ("Baseline tariffs: system", "baseline.revenue", "Revenue", "money"),
    ("Baseline tariffs: system", "baseline.customers", "Customers", "customers"),
]


def headline_rows(runs: list["Run"]) -> list[tuple[str, str, str, str]]:
    """The per-segment headline rows (:mod:`sim.headline`): each segment of any run (in the
    order the runs name them), then all customers; ``{cur}`` in a path stands for each run's
    lower-case currency code."""
    names = list(dict.fromkeys(n for r in runs for n in (r.metrics.get("headline") or {}).get("segments", {})))
    groups = [(f"Segment {n}", f"headline.segments.{n}") for n in names] + [(ALL_LABEL.capitalize(), "headline.all")]
    return [(group, f"{prefix}.{f.key}", f.label, f.kind) for group, prefix in groups for f in FIELDS]


def _is_change(path: str) -> bool:
    """Whether a row is a scenario-against-baseline change (no relative difference shown)."""
    return path.startswith("change.") or (path.startswith("headline.") and path.rsplit(".", 1)[1] in _CHANGES)


_CHANGES = {f.key for f in FIELDS if f.change}


@dataclass
class Run:
    label: str
    path: Path
    manifest: dict
    metrics: dict

    def __post_init__(self):
        if "headline" not in self.metrics:  # a run folder written before metrics.json had the block
            try:
                self.metrics["headline"] = headline_of(self.metrics, self.currency)
            except (KeyError, TypeError):  # older still: no per-segment ledger figures
                pass

    @property
    def currency(self) -> str:
        return (self.manifest.get("scenario") or {}).get("currency", "")

    @property
    def days(self):
        return ((self.manifest.get("scenario") or {}).get("horizon") or {}).get("days")

    def value(self, dotted: str):
        node = self.metrics
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node


@dataclass
class Comparison:
    """The rows of a comparison, formatted, for the terminal and for HTML."""

    runs: list[Run]
    rows: list[dict] = field(default_factory=list)   #: group, path, label, unit, kind, values, diffs
    warnings: list[str] = field(default_factory=list)


def _labels(n: int) -> list[str]:
    letters = string.ascii_uppercase
    return [letters[i] if i < 26 else f"R{i + 1}" for i in range(n)]


def load_runs(paths: list[str | Path]) -> list[Run]:
    """Read every run folder; InputError listing every folder that is not a finished run."""
    if len(paths) < 2:
        raise InputError(Problem("compare", None, "", f"give at least two run folders; got {len(paths)}"))
    runs, problems = [], []
    for label, p in zip(_labels(len(paths)), paths):
        try:
            manifest, metrics = read_summary(p)
        except InputError as e:
            problems += e.problems
            continue
        runs.append(Run(label, Path(p), manifest, metrics))
    if problems:
        raise InputError(problems)
    return runs


def compare_table(runs: list[Run]) -> Comparison:
    """Every row of ``COMPARE_ROWS`` for these runs, with each run's difference from the first."""
    cmp = Comparison(runs)
    currencies = {r.currency for r in runs}
    same_currency = len(currencies) == 1
    if not same_currency:
        cmp.warnings.append(f"the runs use different currencies ({', '.join(sorted(currencies))}): money "
                            "differences are not shown")
    days = {r.days for r in runs}
    if len(days) > 1:
        cmp.warnings.append(f"the horizons differ ({', '.join(str(d) for d in sorted(days, key=str))} days): "
                            "energy, money and event totals cover different periods")
    hashes = {r.manifest.get("scenario_hash") for r in runs}
    if len(hashes) == 1 and len(runs) > 1:
        cmp.warnings.append("every run has the same scenario hash (identical inputs)")
    cur = runs[0].currency if same_currency else "currency"
    for group, template, label, kind in COMPARE_ROWS + headline_rows(runs):
        values = [r.value(template.replace("{cur}", r.currency.lower())) for r in runs]
        path = template.replace("{cur}", cur.lower())
        if all(v is None for v in values):
            continue
        money = "{cur}" in fmt.KINDS[kind].unit
        diffs = []
        for r, v in zip(runs[1:], values[1:]):
            va = values[0]
            if v is None or va is None or (money and not same_currency):
                diffs.append(("n/a", ""))
                continue
            d = float(v) - float(va)
            if kind == "pct":  # a difference of percentages is in percentage points
                dtext = fmt.number(d, "pct", signed=True)
            else:
                dtext = fmt.number(d, kind, signed=True)
            # a relative difference of two differences (change.*) says little: amounts only
            rel = fmt.relative(va, v) if fmt.relative_meaningful(kind) and not _is_change(template) else None
            diffs.append((dtext, "" if rel is None else fmt.number(rel, "generic_pct", signed=True)))
        unit = fmt.unit(kind, cur)
        diff_unit = "pp" if kind in ("share", "pct") else unit
        cmp.rows.append({"group": group, "path": path, "label": label, "kind": kind, "unit": unit,
                         "diff_unit": diff_unit, "values": [fmt.number(v, kind) for v in values], "diffs": diffs})
    return cmp


def print_comparison(cmp: Comparison, console) -> None:
    """The comparison as rich tables: the runs, then the metrics."""
    from rich.markup import escape
    from rich.table import Table

    runs = Table(title="runs compared", title_justify="left")
    for col in ("run", "folder", "scenario", "seed", "days", "currency", "scenario hash", "commit"):
        runs.add_column(col)
    for r in cmp.runs:
        m = r.manifest
        runs.add_row(r.label, escape(str(r.path)), escape(str(m.get("scenario_name", ""))), str(m.get("seed", "")),
                     str(r.days), r.currency, str(m.get("scenario_hash", ""))[:12],
                     str((m.get("code") or {}).get("git_commit") or "")[:10])
    console.print(runs)
    a = cmp.runs[0].label
    t = Table(title=f"metrics side by side (differences against run {a})", title_justify="left")
    t.add_column("metric")
    t.add_column("unit")
    for r in cmp.runs:
        t.add_column(r.label, justify="right")
    for r in cmp.runs[1:]:
        t.add_column(f"{r.label} - {a}", justify="right")
        t.add_column(f"{r.label} - {a} [%]", justify="right")
    group = None
    for row in cmp.rows:
        if row["group"] != group:
            group = row["group"]
            t.add_row(f"[bold]{escape(group)}[/bold]", *[""] * (1 + len(cmp.runs) + 2 * (len(cmp.runs) - 1)))
        diffs = [x for d, p in row["diffs"] for x in (f"{d} {row['diff_unit']}" if d not in ("n/a",) and
                                                      row["diff_unit"] in ("pp",) else d, p)]
        t.add_row("  " + escape(row["label"]), escape(row["unit"]), *row["values"], *diffs)
    console.print(t)
    for w in cmp.warnings:
        console.print(f"note: {w}", highlight=False)


def comparison_html(cmp: Comparison) -> str:
    """The comparison as one self-contained HTML page."""
    from .html import CSS, esc, kv_table, table

    a = cmp.runs[0].label
    run_rows = []
    for r in cmp.runs:
        m = r.manifest
        code = m.get("code") or {}
        cmd = " ".join(m.get("command") or []) or "(not recorded)"
        run_rows.append("<tr>" + "".join(f"<td>{esc(x)}</td>" for x in (
            r.label, str(r.path), m.get("scenario_name", ""), m.get("seed", ""), r.days, r.currency,
            str(m.get("scenario_hash", ""))[:16], str(code.get("git_commit") or "")[:10]
            + (" (dirty)" if code.get("git_dirty") else ""), cmd)) + "</tr>")
    body = table("tab-runs", "Runs compared", ["run", "folder", "scenario", "seed", "days", "currency",
                                               "scenario hash", "commit", "command"], run_rows, num_cols=set())
    header = ["metric", "unit", *[r.label for r in cmp.runs]]
    for r in cmp.runs[1:]:
        header += [f"{r.label} - {a}", f"{r.label} - {a} [%]"]
    rows, group = [], None
    for row in cmp.rows:
        if row["group"] != group:
            group = row["group"]
            rows.append(f'<tr class="total"><th scope="rowgroup" colspan="{len(header)}">{esc(group)}</th></tr>')
        cells = "".join(f'<td class="num" data-run="{r.label}" data-metric="{esc(row["path"])}" '
                        f'data-unit="{esc(row["unit"])}">{esc(v)}</td>' for r, v in zip(cmp.runs, row["values"]))
        for d, p in row["diffs"]:
            dd = f"{d} pp" if row["diff_unit"] == "pp" and d != "n/a" else d
            cells += f'<td class="num">{esc(dd)}</td><td class="num">{esc(p)}</td>'
        rows.append(f'<tr><th scope="row">{esc(row["label"])}</th><td>{esc(row["unit"])}</td>{cells}</tr>')
    body += table("tab-compare", f"Metrics side by side; differences against run {a}", header, rows, num_from=2)
    if cmp.warnings:
        body += "".join(f'<p class="note">{esc(w)}</p>' for w in cmp.warnings)
    body += ("<p class=\"muted\">Differences of shares and percentages are in percentage points (pp); relative "
             "differences only for amounts, against run A. Definitions: docs/metrics.md.</p>")
    body += kv_table("tab-compare-about", "About this comparison", [
        ("Written", f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC"),
        ("Reference run", f"{a}: {cmp.runs[0].path}")])
    title = " vs ".join(str(r.manifest.get("scenario_name", r.label)) for r in cmp.runs)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>drsim comparison: {esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<header id=\"top\"><h1>Run comparison: {esc(title)}</h1></header>\n<main>\n"
            f"<section id=\"comparison\"><h2>Metrics side by side</h2>\n{body}</section>\n</main>\n</body>\n</html>\n")


def compare_runs(paths: list[str | Path], *, html: str | Path | None = None, force: bool = False,
                 console=None) -> Comparison:
    """Compare run folders: print the table to ``console`` (if given) and write ``html`` (if given).

    Raises InputError for folders that are not finished runs, and for an ``html`` file that
    exists (unless ``force``).
    """
    from .html import write_atomic

    if html is not None:
        target = Path(html)
        if target.exists() and not force:
            raise InputError(Problem("--html", None, "", f"{target} exists; drsim does not overwrite it (use --force)"))
        if not target.parent.is_dir():
            raise InputError(Problem("--html", None, "", f"folder {target.parent} does not exist"))
    cmp = compare_table(load_runs(paths))
    if console is not None:
        print_comparison(cmp, console)
    if html is not None:
        write_atomic(Path(html), comparison_html(cmp))
    return cmp
