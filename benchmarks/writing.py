"""Writing the run folder: the per-customer table, and whole runs against their memory estimate.

Part 1, ``writing``: the per-customer table (``customer_bills``) of N customers written
three ways, each in a fresh process, side by side (each repeat runs the three in turn),
medians of ``--repeat``:

* ``old csv``: the writer drsim had before the tables were streamed (kept below verbatim,
  ``_old_customer_bills_csv``): every row formatted into one list of strings, joined, written;
* ``parquet``: the default since then, :func:`sim.tables.write_table` in chunks of
  ``sim.tables.WRITE_ROWS`` rows (one Parquet row group each);
* ``parquet + csv``: the same with ``--csv`` (both files, chunk by chunk).

The bills are random (two segments, 85 % and 15 % of the customers; four of the 14 charges
used, the rest zero as in most tariffs), built before the clock starts. Reported: wall time
of the writing, the memory it added (the process's peak resident memory during the
writing less its resident memory before; the peak is reset through
``/proc/self/clear_refs``) and the size of the files.

Part 2, ``--runs``: ``drsim run`` of ``scenarios/flat.yaml`` (or ``--run-scenario
scenarios/large_system.yaml``) for N customers over 7 days (``--run-days``), in one
process and with ``--workers 2``, in a fresh process each: peak RSS of the process that
runs the command (the coordinator, its own high-water mark) and of the largest worker
(sampled every 0.05 s, so a peak shorter than that can be missed), against the estimate
(:func:`sim.engine.memory_plan`) that the run was checked against.

Usage: python benchmarks/writing.py [--sizes 210000 1000000 2000000] [--repeat 3]
       python benchmarks/writing.py --runs [--run-sizes 500000 2000000] [--run-scenario FILE] [--run-days 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, os, resource, sys, tempfile, time
from pathlib import Path
from types import SimpleNamespace
import numpy as np

from sim.outcome import BillArrays, MonthlySums
from sim.tables import CUSTOMER_BILLS, customer_bills_chunks, write_table
from sim.tariffs import CHARGES

sys.path.insert(0, str(Path(sys.argv[3]) / "benchmarks"))
from writing import _old_customer_bills_csv

how, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(1)

def bills(k, names):
    total = np.zeros((k, len(CHARGES)))
    for j in (0, 6, 12, 13):  # energy, fixed, minimum, tax
        total[:, j] = rng.gamma(2.0, 100.0, k) * (j != 12)
    return BillArrays(names, rng.integers(0, len(names), k), total, rng.gamma(2.0, 1000.0, k),
                      rng.gamma(2.0, 2.0, k), (MonthlySums(names[0], np.zeros((1, 1, 1)), np.zeros((1, 1))),))

segments = {}
for name, share in (("households", 0.85), ("shops", 0.15)):
    k = int(round(n * share))
    segments[name] = SimpleNamespace(n=k, elasticity=rng.uniform(-0.3, 0.0, k),
                                     bills={"baseline": bills(k, ("flat",)), "scenario": bills(k, ("tou", "flat"))})

def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

with tempfile.TemporaryDirectory() as tmp:
    folder = Path(tmp)
    before = rss()
    with open("/proc/self/clear_refs", "w") as f:  # reset the peak (VmHWM) to the present
        f.write("5")
    t = time.perf_counter()
    if how == "old csv":
        _old_customer_bills_csv(folder / "customer_bills.csv", segments)
    else:
        write_table(folder, CUSTOMER_BILLS, customer_bills_chunks(segments), currency="CNY", csv=how == "parquet + csv")
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    sizes = {p.name: p.stat().st_size for p in folder.iterdir()}
print(json.dumps({"wall_s": wall, "added_mib": (peak - before) / 2**20, "sizes": sizes}))
"""

_RUN_CHILD = r"""
import json, resource, sys, tempfile, threading
import psutil
from sim.cli import main
from sim.engine import memory_plan
import sim

n, workers, scenario, days = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
if scenario.endswith("large_system.yaml"):
    sys.path.insert(0, "benchmarks")
    from scale import overrides
    sets = overrides(n)
else:
    sets = [f"populations.households.count={n - n // 10}", f"populations.shops.count={n // 10}"]
sets.append(f"horizon.days={days}")
plan = memory_plan(sim.load_scenario(scenario, sets), 0 if workers == 1 else workers)
peaks, done = {}, threading.Event()

def sample():  # each descendant's largest RSS, every 0.05 s (a worker's own peak is not reported to us)
    me = psutil.Process()
    while not done.is_set():
        for p in me.children(recursive=True):
            try:
                peaks[p.pid] = max(peaks.get(p.pid, 0), p.memory_info().rss)
            except psutil.Error:
                pass
        done.wait(0.05)

threading.Thread(target=sample, daemon=True).start()
with tempfile.TemporaryDirectory() as tmp:
    args = ["run", scenario, "--quiet", "--out", f"{tmp}/run", "--workers", str(workers)]
    for s in sets:
        args += ["--set", s]
    code = main(args)
done.set()
mib = 2**20
print(json.dumps({"code": code, "coordinator_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "largest_worker_mib": max(peaks.values()) / mib if workers > 1 else None,
                  "estimate_coordinator_mib": plan.coordinator / mib, "estimate_worker_mib": plan.worker / mib}))
"""


def _old_customer_bills_csv(path, segments) -> None:
    """drsim's writer of ``customer_bills.csv`` before the tables were streamed (sim/results.py
    at commit e990f5b), for comparison."""
    import numpy as np

    from sim.tariffs import CHARGES

    with open(path, "w", encoding="utf-8") as f:
        head = ["segment", "customer"]
        for role in ("baseline", "scenario"):
            head += [f"{role}_kwh"] + [f"{role}_{c}" for c in CHARGES] + [f"{role}_bill", f"{role}_peak_kw"]
        head += ["bill_change", "elasticity", "scenario_tariff", "switches"]
        f.write(",".join(head) + "\n")
        for name, seg in segments.items():
            b, s = seg.bills["baseline"], seg.bills["scenario"]
            cols = [b.kwh[:, None], b.total, b.bill[:, None], b.peak_kw[:, None],
                    s.kwh[:, None], s.total, s.bill[:, None], s.peak_kw[:, None],
                    (s.bill - b.bill)[:, None], seg.elasticity[:, None]]
            values = np.hstack(cols)
            ids = np.arange(seg.n)
            names = np.array(s.tariff_names)[s.choice]
            switches = s.switches if s.switches is not None else np.zeros(seg.n, dtype=np.int64)
            lines = [f"{name},{i}," + ",".join(f"{v:.6f}" for v in row) + f",{t},{k}"
                     for i, row, t, k in zip(ids, values, names, switches)]
            f.write("\n".join(lines) + "\n")


def _child(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_writing(sizes: list[int], repeat: int) -> None:
    ways = ("old csv", "parquet", "parquet + csv")
    print("| customers | writer | median wall [s] | memory added, median [MiB] | files [MB] | runs |")
    print("|---:|---|---:|---:|---|---:|")
    for n in sizes:
        runs: dict = {w: [] for w in ways}
        for _ in range(repeat):
            for w in ways:  # side by side
                runs[w].append(_child(_CHILD, w, str(n), str(REPO)))
                print(f"  {n:,} {w}: {runs[w][-1]['wall_s']:.2f} s", file=sys.stderr, flush=True)
        for w in ways:
            sizes_mb = ", ".join(f"{k} {v / 1e6:.1f}" for k, v in sorted(runs[w][0]["sizes"].items()))
            print(f"| {n:,} | {w} | {statistics.median(r['wall_s'] for r in runs[w]):.2f} | "
                  f"{statistics.median(r['added_mib'] for r in runs[w]):,.0f} | {sizes_mb} | {repeat} |", flush=True)


def bench_runs(sizes: list[int], scenario: str, days: int) -> None:
    print(f"{scenario}, {days} days:")
    print("| customers | workers | coordinator peak RSS [MiB] | its estimate [MiB] | "
          "largest worker peak RSS [MiB] | its estimate [MiB] |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        for w in (1, 2):
            r = _child(_RUN_CHILD, str(n), str(w), scenario, str(days))
            worker = "" if r["largest_worker_mib"] is None else f"{r['largest_worker_mib']:,.0f}"
            west = "" if r["largest_worker_mib"] is None else f"{r['estimate_worker_mib']:,.0f}"
            print(f"| {n:,} | {w} | {r['coordinator_mib']:,.0f} | {r['estimate_coordinator_mib']:,.0f} | {worker} | "
                  f"{west} |", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="*", default=[210_000, 1_000_000, 2_000_000])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--runs", action="store_true", help="whole runs against their memory estimate instead")
    p.add_argument("--run-sizes", type=int, nargs="*", default=[500_000, 2_000_000])
    p.add_argument("--run-scenario", default="scenarios/flat.yaml",
                   help="scenarios/flat.yaml (90 %% households, 10 %% shops) or scenarios/large_system.yaml "
                        "(the shares of benchmarks/scale.py)")
    p.add_argument("--run-days", type=int, default=7)
    args = p.parse_args()
    if args.runs:
        bench_runs(args.run_sizes, args.run_scenario, args.run_days)
    else:
        bench_writing(args.sizes, args.repeat)


if __name__ == "__main__":
    main()
