"""The validation gallery's rules and the documents that show its tables."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from sim.scenario.sectors import SECTORS, SHIFT_FACTOR

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gallery():
    spec = importlib.util.spec_from_file_location("validate_gallery", REPO / "scripts" / "validate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def _row(gallery, published, interval=None, percent=True, check=None):
    return gallery.Row("x", "t", "s", published, interval, percent, lambda n: 0.0, check)


def test_verdict_rules(gallery):
    """An interval is inclusive; without one, 40 % relative or 2 points for figures in %
    (whichever is wider); a direction agrees only when the check holds."""
    v = gallery.verdict
    assert v(_row(gallery, 5.0, (4.0, 6.0)), 6.0) == "inside"
    assert v(_row(gallery, 5.0, (4.0, 6.0)), 6.01) == "outside"
    assert v(_row(gallery, 5.0), 7.0) == "within"            # 2 points beat 40 % of 5
    assert v(_row(gallery, 5.0), 7.01) == "outside"
    assert v(_row(gallery, 20.0), 27.9) == "within"          # 40 % of 20 = 8 points
    assert v(_row(gallery, 20.0), 28.1) == "outside"
    assert v(_row(gallery, 0.11, percent=False), 0.15) == "within"
    assert v(_row(gallery, 0.11, percent=False), 0.16) == "outside"  # no 2-point rule for elasticities
    assert v(_row(gallery, "falls", check=lambda x: x < 0), -1.0) == "agrees"
    assert v(_row(gallery, "falls", check=lambda x: x < 0), 0.5) == "disagrees"


def test_docs_table_has_one_line_per_row(gallery):
    """docs/validation.md carries the script's table between its markers, one line per row
    (its values are checked by `scripts/validate.py --check`, which runs the simulations)."""
    text = (REPO / "docs" / "validation.md").read_text(encoding="utf-8")
    body = text.split(gallery.BEGIN)[1].split(gallery.END)[0]
    rows = [ln for ln in body.splitlines() if re.match(r"^\| \d+ \|", ln)]
    assert len(rows) == len(gallery.ROWS)
    assert all(ln.rstrip().endswith(("within |", "inside |", "outside |", "agrees |", "disagrees |")) for ln in rows)


def test_scenario_docs_list_the_sector_table():
    """docs/scenario.md section 5.7 shows every sector with its classes and share, and every
    shift factor, as sim/scenario/sectors.py defines them."""
    text = (REPO / "docs" / "scenario.md").read_text(encoding="utf-8")
    section = text.split("### 5.7")[1].split("\n## ")[0]
    got = {m[0]: (tuple(c.strip() for c in m[1].split(",")), float(m[2]))
           for m in re.findall(r"^\| `(\w+)` \| ([a-z, ]+) \| ([\d.]+) \|", section, flags=re.M)}
    assert got == {k: (s.classes, s.flexible_share) for k, s in SECTORS.items()}
    shifts = {int(m[0]): float(m[1]) for m in re.findall(r"^\| (\d) \| ([\d.]+) \|", section, flags=re.M)}
    assert shifts == SHIFT_FACTOR
