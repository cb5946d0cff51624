"""The terminal of the ``drsim`` commands: the two consoles, error lines and progress bars.

The run, report, compare and sweep commands print through these, so that none of their
modules imports another command's module to reach the console (:mod:`sim.cli` imports the
commands, never the other way round). Results go to ``out_console`` (standard output, 160
columns when it is not a terminal); messages, warnings and progress bars to ``err_console``
(standard error).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:  # rich.progress is imported by the commands that show a bar (drsim --help starts without it)
    from rich.progress import Progress

err_console = Console(stderr=True)
out_console = Console(width=None if sys.stdout.isatty() else 160)


def hide_progress(quiet: bool, progress: bool) -> bool:
    """Whether a command hides its progress bar: ``--quiet``, or stderr is not a terminal and no ``--progress``."""
    return quiet or not err_console.is_terminal and not progress


def print_error(text: str, *, soft_wrap: bool = False) -> None:
    """One message on stderr, printed as it is (no markup, no highlighting)."""
    err_console.print(text, highlight=False, markup=False, soft_wrap=soft_wrap)


def print_problems(problems: Iterable) -> None:
    """Bad input, one ``file:line: dotted.path: message`` line per problem, never wrapped."""
    for problem in problems:
        print_error(str(problem), soft_wrap=True)


def run_progress(*, disable: bool) -> Progress:
    """The progress bar of ``drsim run``: days simulated, on ``err_console``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("days"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=err_console, disable=disable, transient=True)


def sweep_progress(enabled: bool) -> Progress:
    """The progress bar of a sweep (runs finished, failed, ETA) on a console of its own on stderr."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("runs"),
                    TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(), TextColumn("ETA"),
                    TimeRemainingColumn(), console=Console(stderr=True), disable=not enabled, transient=True)
