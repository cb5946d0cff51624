"""Same outputs, bit for bit: every example scenario's run folder against hashes saved earlier.

A change that should not move any figure (a refactoring of the core, a speed-up) is checked
with this script: it runs every ``scenarios/*.yaml`` on its own horizon and compares the
SHA-256 of ``metrics.json`` and of every CSV in the run folder (every table written as
CSV too, ``customer_bills.csv`` included, which ``drsim run`` writes only with ``--csv``;
the Parquet tables hold the same numbers unrounded, which tests/test_tables.py checks
against the CSVs), plus the float64 bytes of
the run's arrays (system and segment loads, every customer's bill by charge, each
customer's utility of consumption in each role), against ``benchmarks/golden/outputs.json``. The CSVs carry
six decimals; the array hashes catch a change in the last bit.

Usage::

    python benchmarks/golden.py                 # check against benchmarks/golden/outputs.json
    python benchmarks/golden.py --save          # record the current code's outputs
    python benchmarks/golden.py --rev 31db364   # run the code of a git revision (a worktree)
    python benchmarks/golden.py --only flat tou_peak_valley

Exit code 1 when any hash differs. An intended change of figures (a model fixed, a
default recalibrated) is recorded with ``--save`` in the same commit, which says why.

The bits also depend on the numerical libraries: a new numpy, numba (its LLVM) or holidays
release can move the last bit of a result (seen on 2026-12-06: a fresh install of the
then-current releases changed every scenario's arrays under unchanged code). ``--save``
records the versions (key ``_environment``); a check under other versions says which
differ, so that a difference is not taken for a change of the code. ``constraints.txt``
pins the versions ``make setup`` installs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAVED = REPO / "benchmarks" / "golden" / "outputs.json"

# numpy's and OpenBLAS's kernels pinned in this process's environment, which every child
# inherits, also one running an older revision that does not pin them (sim/numerics.py)
sys.path.insert(0, str(REPO))
from sim import numerics  # noqa: E402

numerics.pin()

#: Run in a child process whose working directory is the checkout under test, so that
#: ``import sim`` takes that checkout's package.
_CHILD = r"""
import hashlib, json, sys
from pathlib import Path
import sim  # before numpy: it pins numpy's kernels (sim/numerics.py)
import numpy as np
from sim import results

def h(a):
    return hashlib.sha256(np.ascontiguousarray(np.asarray(a, dtype=np.float64)).tobytes()).hexdigest()

path, out = sys.argv[1], Path(sys.argv[2])
sc = sim.load_scenario(path)
r = sim.run(sc)
import datetime as dt
now = dt.datetime(2000, 1, 1)
import inspect
# every table as CSV too (customer_bills.csv is written only on request since Parquet became the default)
extra = {"csv": True} if "csv" in inspect.signature(results.write_run).parameters else {}
results.write_run(r, out, command=None, started=now, finished=now, chunk_customers=0, **extra)
arrays = {}
roles = ("baseline", "scenario")
for role in roles:
    arrays[f"system.{role}"] = h(r.system_load_kw[role])
    arrays[f"energy_cost.{role}"] = h(r.energy_cost_per_kwh[role])
for name, seg in r.segments.items():
    for role in roles:
        arrays[f"{name}.load.{role}"] = h(seg.load_kw[role])
        bills = seg.bills[role]
        total, kwh, peak = bills.total, bills.kwh, bills.peak_kw
        arrays[f"{name}.bills.{role}"] = h(total)
        arrays[f"{name}.kwh.{role}"] = h(kwh)
        arrays[f"{name}.peak_kw.{role}"] = h(peak)
    stats = seg.stats
    for k in sorted(stats):
        arrays[f"{name}.stats.{k}"] = h(stats[k])
print(json.dumps(arrays))
"""


#: The packages whose releases can move a result's bits, recorded with the hashes.
PACKAGES = ("numpy", "numba", "llvmlite", "scipy", "pandas", "pyarrow", "holidays")


def environment() -> dict:
    """The Python and package versions and the machine the outputs were computed with."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    def v(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return None
    return {"python": platform.python_version(), "machine": platform.machine(), **{k: v(k) for k in PACKAGES}}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_one(checkout: Path, scenario: Path, python: str) -> dict:
    """Hashes of one scenario's run folder and arrays, run with the code of ``checkout``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        env = {**os.environ, "PYTHONPATH": str(checkout)}
        proc = subprocess.run([python, "-c", _CHILD, str(scenario), str(out)], cwd=checkout, env=env,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{scenario.name}: the run failed\n{proc.stderr[-3000:]}")
        arrays = json.loads(proc.stdout.strip().splitlines()[-1])
        files = {p.name: _sha(p) for p in sorted(out.iterdir())
                 if p.name == "metrics.json" or p.suffix == ".csv"}
    return {"files": files, "arrays": arrays}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--save", action="store_true", help="record the outputs instead of checking them")
    p.add_argument("--rev", help="run the code of this git revision (checked out in a temporary worktree)")
    p.add_argument("--only", nargs="*", help="scenario names (file stems) to run")
    p.add_argument("--file", type=Path, default=SAVED, help=f"hashes file (default {SAVED.relative_to(REPO)})")
    args = p.parse_args()
    scenarios = sorted((REPO / "scenarios").glob("*.yaml"))
    if args.only:
        scenarios = [s for s in scenarios if s.stem in args.only]
    checkout, tmp = REPO, None
    if args.rev:
        tmp = tempfile.mkdtemp(prefix="drsim-golden-")
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", tmp, args.rev], check=True,
                       capture_output=True)
        checkout = Path(tmp)
    try:
        got = {}
        for sc in scenarios:
            got[sc.stem] = run_one(checkout, sc.resolve(), sys.executable)
            print(f"ran {sc.stem}", file=sys.stderr)
    finally:
        if tmp:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", tmp], capture_output=True)
    if args.save:
        saved = json.loads(args.file.read_text()) if args.file.exists() else {}
        saved.update(got)
        saved["_environment"] = environment()
        args.file.parent.mkdir(parents=True, exist_ok=True)
        args.file.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n")
        print(f"saved {len(got)} scenarios to {args.file}")
        return 0
    saved = json.loads(args.file.read_text())
    env, then = environment(), saved.get("_environment", {})
    moved = [f"{k} {then.get(k)} -> {env[k]}" for k in env if then.get(k) != env[k]]
    if moved:
        print("NOTE: the saved outputs were computed with other versions (" + ", ".join(moved)
              + "): a difference may come from them rather than from the code")
    bad = 0
    for name, now in got.items():
        before = saved.get(name)
        if before is None:
            print(f"{name}: no saved outputs")
            bad += 1
            continue
        diffs = [f"{kind}/{k}" for kind in ("files", "arrays") for k in sorted(set(before[kind]) | set(now[kind]))
                 if before[kind].get(k) != now[kind].get(k)]
        n = len(before["files"]) + len(before["arrays"])
        print(f"{name}: {'identical' if not diffs else 'DIFFERENT'} ({n - len(diffs)} of {n} hashes equal)"
              + ("".join(f"\n    {d}" for d in diffs)))
        bad += bool(diffs)
    print(f"{len(got) - bad} of {len(got)} scenarios identical")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
