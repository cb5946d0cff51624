"""Counts in words, for every message, summary and report: ``1 transformer``, ``2 transformers``.

The lowest layer (it imports nothing of drsim), so that input checks, the terminal summary
and the report print counts the same way.
"""

from __future__ import annotations

__all__ = ["counted"]


def counted(n: int, noun: str, plural: str | None = None, *, spec: str = "") -> str:
    """``n`` and the noun, singular for exactly one: ``counted(1, "feeder")`` is ``1 feeder``,
    ``counted(3, "feeder")`` ``3 feeders``, ``counted(2, "bus", "buses")`` ``2 buses``.
    ``spec`` formats the number (``","``: thousands separators)."""
    word = noun if n == 1 else (plural if plural is not None else noun + "s")
    return f"{n:{spec}} {word}"
