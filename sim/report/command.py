"""The `drsim report` and `drsim compare` commands, and the report `drsim run --report` writes.

Kept apart from the report builders so that building the command-line parser imports
neither matplotlib nor pandas.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parsers(sub) -> None:
    """Add ``report`` and ``compare`` to the ``drsim`` sub-command parsers."""
    q = sub.add_parser("report", help="write a run's self-contained HTML report (RUN_DIR/report.html)",
                       description="Write RUN_DIR/report.html: one self-contained page (inline SVG charts, no "
                                   "network) with the scenario, tariffs, population, load curves, metrics, revenue, "
                                   "bill impacts, events, assumptions and provenance of a finished run. An earlier "
                                   "report.html in the run folder is replaced. See docs/report.md.")
    q.add_argument("run_dir", metavar="RUN_DIR", help="a finished run folder (with manifest.json and metrics.json)")
    q.add_argument("--out", metavar="FILE", help="write here instead of RUN_DIR/report.html (an existing file is "
                                                 "not overwritten without --force)")
    q.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    q.add_argument("--metric", default="change.peak_reduction_pct",
                   help="sweep folders: the metric to draw over the swept parameters (default: %(default)s)")
    q.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    q.set_defaults(func=cmd_report)

    q = sub.add_parser("compare", help="compare the metrics of two or more runs side by side",
                       description="Print the metrics of two or more finished runs side by side, with each run's "
                                   "difference from the first (B - A, and % where meaningful); --html also writes "
                                   "them as a self-contained HTML page. See docs/report.md.")
    q.add_argument("runs", nargs="+", metavar="RUN_DIR", help="finished run folders; the first is the reference (A)")
    q.add_argument("--html", metavar="FILE", help="also write the comparison as a self-contained HTML page (an "
                                                  "existing file is not overwritten without --force)")
    q.add_argument("--force", action="store_true", help="overwrite an existing --html file")
    q.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    q.set_defaults(func=cmd_compare)


def cmd_report(args) -> int:
    from ..console import out_console
    from .html import write_report

    from .sweep import is_sweep, write_sweep_report

    if is_sweep(args.run_dir):  # a sweep folder: the metric over the swept parameters
        path = write_sweep_report(args.run_dir, args.metric)
    else:
        path = write_report(args.run_dir, args.out, force=args.force)
    out_console.print(f"report: {path}", highlight=False)
    return 0


def cmd_compare(args) -> int:
    from ..console import err_console, out_console
    from .compare import compare_runs

    compare_runs(args.runs, html=args.html, force=args.force, console=out_console)
    if args.html:
        err_console.print(f"wrote {args.html}", highlight=False)
    return 0


def report_after_run(path: Path) -> int:
    """Write the report of a run folder just written (``drsim run --report``).

    The run folder is complete before this starts: if the report fails, the error is printed,
    the run is kept, and the exit code is 1.
    """
    from ..console import out_console, print_error

    try:
        from .html import write_report

        out_console.print(f"report: {write_report(path)}", highlight=False)
    except Exception as e:  # any failure: the finished run must survive it
        print_error(f"report failed: {type(e).__name__}: {e}. The run folder is complete and kept: {path} "
                    f"(retry with: drsim report {path})", soft_wrap=True)
        return 1
    return 0
