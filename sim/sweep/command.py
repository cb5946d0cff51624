"""The ``drsim sweep`` command: arguments, the run, and what it prints."""

from __future__ import annotations

import argparse
import sys

from ..errors import InputError, Problem
from ..words import counted

DESCRIPTION = """\
Run a scenario many times over a design of parameter values and seeds, on Dask (a local
cluster of one process per core, or --scheduler ADDRESS), and write one row per run and a
summary per design point (mean and 95 % confidence interval of every metric) as Parquet and
CSV. Interrupted or killed, the same command resumes: finished runs are never run again.

VALUES of --param PATH=VALUES:
  a,b,c              a list (YAML scalars; [x, y] for one list-valued value)
  lo:hi:n            n evenly spaced values from lo to hi
  uniform(lo,hi)  loguniform(lo,hi)  normal(mu,sd)  choice(a,b,c)
                     distributions, for --design lhs, sobol and morris
PATH addresses any scenario field; list items by name or index, e.g.
  populations.residential.count, tariffs.tou.periods.peak.price_per_kwh

Linked parameters: a NAME that is no scenario field is a swept value that
fields follow through a formula (docs/sweeps.md, "Linked parameters"):
  --param ratio=1.5:3:4
  --param tariffs.tou.periods.peak.price_per_kwh='link(0.55 * sqrt(ratio))'
  --param tariffs.tou.periods.valley.price_per_kwh='link(0.55 / sqrt(ratio))'
  --param 'tariffs.tou.periods.*.price_per_kwh=scale(level)'   # base * level

The same options may be given in a `sweep:` block of the scenario file (docs/sweeps.md).
"""


def add_parser(sub, scenario_args) -> None:
    """Add ``sweep`` to the drsim subcommands (``scenario_args`` adds FILE, --set, --debug)."""
    from .design import DESIGNS

    q = sub.add_parser("sweep", help="parameter sweep on Dask: grid, LHS, Sobol or Morris designs, resumable",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    scenario_args(q)
    q.add_argument("--param", action="append", metavar="PATH=VALUES",
                   help="a swept field and its values (repeatable)")
    q.add_argument("--design", choices=DESIGNS, help="grid (default), lhs, sobol or morris")
    q.add_argument("--samples", type=int, metavar="N",
                   help="LHS points, Sobol base samples (a power of two) or Morris trajectories")
    q.add_argument("--replications", type=int, metavar="R", help="seeds per design point (default 1)")
    q.add_argument("--seed", type=int, metavar="S", help="sweep seed (default: the scenario's seed)")
    q.add_argument("--sensitivity", metavar="METRIC,...",
                   help="metrics for Sobol / Morris indices (default change.peak_reduction_pct)")
    q.add_argument("--out", metavar="DIR",
                   help="sweep folder (default results/<scenario>/sweep-<hash of the sweep>); rerun to resume")
    q.add_argument("--results", default="results", help="root of default sweep folders (default: results)")
    q.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing Dask scheduler, e.g. tcp://host:8786")
    q.add_argument("--workers", type=int, metavar="N", help="local cluster workers (default: one per core)")
    q.add_argument("--retries", type=int, default=None, metavar="N", help=argparse.SUPPRESS)
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    q.add_argument("--progress", action="store_true", help="progress bar even when stderr is not a terminal")
    q.set_defaults(func=cmd_sweep)


def parse_params(items: list[str] | None) -> dict[str, str]:
    """``PATH=VALUES`` items into ``{path: values text}`` (a later item wins)."""
    out: dict[str, str] = {}
    problems = []
    for item in items or []:
        path, sep, values = item.partition("=")
        if not sep or not path.strip():
            problems.append(Problem("--param", None, "", f"takes PATH=VALUES; got {item!r}"))
            continue
        out[path.strip()] = values
    if problems:
        raise InputError(problems)
    return out


def cmd_sweep(args) -> int:
    from rich.markup import escape

    from ..console import err_console, hide_progress, out_console, print_error
    from . import SweepInterrupted, sweep

    quiet = hide_progress(args.quiet, args.progress)

    def say(msg: str) -> None:
        err_console.print(escape(msg), highlight=False, soft_wrap=True)

    try:
        res = sweep(args.file, parse_params(args.param), design=args.design, samples=args.samples,
                    replications=args.replications, seed=args.seed, sensitivity=args.sensitivity,
                    overrides=list(args.set or []), out=args.out, results=args.results, scheduler=args.scheduler,
                    workers=args.workers, retries=args.retries, progress=not quiet, log=say,
                    command=["drsim", *sys.argv[1:]])
    except SweepInterrupted as e:
        print_error(str(e), soft_wrap=True)
        return 130
    print_result(res, out_console)
    return 1 if res.failed else 0


def print_result(res, console) -> None:
    """A compact table of the design points (at most 20) and where the files are."""
    from rich.markup import escape
    from rich.table import Table

    s = res.summary
    metric = "change.peak_reduction_pct"
    params = res.params
    if f"{metric}.mean" in s and len(s) <= 20:
        t = Table(title="peak reduction [%] by design point (mean and 95 % CI over replications)",
                  title_justify="left")
        t.add_column("point", justify="right")
        for p in params:
            t.add_column(escape(p), justify="right")
        t.add_column("n", justify="right")
        t.add_column("mean", justify="right")
        t.add_column("95 % CI", justify="right")
        for i in range(len(s)):
            row = {c: s[c].iloc[i] for c in ["point", "n", *params, f"{metric}.mean", f"{metric}.ci_low",
                                             f"{metric}.ci_high"]}
            lo, hi = row[f"{metric}.ci_low"], row[f"{metric}.ci_high"]
            ci = "" if lo != lo else f"[{lo:.3f}, {hi:.3f}]"
            t.add_row(str(row["point"]), *[escape(_fmt(row[p])) for p in params], str(row["n"]),
                      f"{row[f'{metric}.mean']:.3f}", ci)
        console.print(t)
    if res.sensitivity is not None:
        sens = res.sensitivity
        t = Table(title="sensitivity", title_justify="left")
        cols = [c for c in sens.columns if c != "values"]
        for c in cols:
            t.add_column(escape(c), justify="left" if c in ("metric", "parameter") else "right")
        for i in range(len(sens)):
            t.add_row(*[escape(_fmt(sens[c].iloc[i])) for c in cols])
        console.print(t)
    files = ["runs.parquet", "runs.csv", "summary.parquet", "summary.csv"]
    if res.sensitivity is not None:
        files += ["sensitivity.parquet", "sensitivity.csv"]
    console.print(f"{counted(res.total, 'run')}: {res.reused} finished earlier, {res.executed} run now, {res.failed} failed"
                  f"{' (recorded with their error; rerun to retry them)' if res.failed else ''}", highlight=False)
    console.print(f"sweep folder: {res.out}  ({', '.join(files)}, runs/)", highlight=False)


def _fmt(v) -> str:
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
