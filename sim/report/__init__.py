"""Reports for regulators: a run as one self-contained, printable HTML page, and runs compared.

``write_report(run_dir)`` writes ``run_dir/report.html`` (``drsim report``); ``compare_runs``
prints the metrics of several runs side by side (``drsim compare``). docs/report.md
describes both. Names are imported on first use, so that the command-line parser does not
pay for matplotlib.
"""

from __future__ import annotations

_EXPORTS = {
    "SECTIONS": "html", "build_report": "html", "write_report": "html",
    "compare_runs": "compare", "compare_table": "compare", "load_runs": "compare",
    "RunFolder": "run",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
