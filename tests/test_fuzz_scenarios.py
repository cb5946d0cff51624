"""A small fuzz of the scenario format in the suite: mutated example scenarios give exit code
0 or 2 from `drsim validate`, with one line per problem and never a traceback or an internal
error. scripts/fuzz_scenarios.py runs the same mutations at scale, each in its own process
under a time and memory limit, and runs tiny copies of those that validate."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("fuzz_scenarios", ROOT / "scripts" / "fuzz_scenarios.py")
fuzz = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("fuzz_scenarios", fuzz)  # dataclasses look their module up there
_spec.loader.exec_module(fuzz)

MUTATIONS = fuzz.mutations(30, seed=20261206)


def test_the_mutations_are_varied_and_reproducible():
    """The draw is a pure function of the seed, and covers data and text mutations."""
    again = fuzz.mutations(30, seed=20261206)
    assert [(m.base, m.kind, m.detail, m.text) for m in again] == [(m.base, m.kind, m.detail, m.text) for m in MUTATIONS]
    kinds = {m.kind for m in MUTATIONS}
    assert len(kinds) >= 8, kinds
    assert len({m.base for m in MUTATIONS}) >= 8


@pytest.mark.parametrize("m", MUTATIONS, ids=[f"{m.index}-{m.base}-{m.kind}" for m in MUTATIONS])
def test_a_mutated_scenario_is_valid_or_bad_input(m, tmp_path, capsys):
    (tmp_path / "data").symlink_to(fuzz.SCENARIOS / "data")
    path = tmp_path / m.base
    path.write_bytes(m.text if isinstance(m.text, bytes) else m.text.encode("utf-8"))
    t0 = time.perf_counter()
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert time.perf_counter() - t0 < 10, f"{m.detail}: validation took too long"
    assert code in (0, 2), f"{m.kind} {m.detail}: exit {code}: {err}"
    assert "Traceback" not in err and "internal error" not in err, f"{m.kind} {m.detail}: {err}"
    if code == 2:
        first = err.splitlines()[0]
        assert first.startswith((str(path), "--set")), first  # names the file
