"""`make bench`: how drsim scales, against a naive one-process-per-customer simulation.

Cases, each run in a fresh subprocess (so peak RSS is the run's own), ``--repeat`` times,
medians reported:

* scenarios/large_system.yaml (households, businesses and plants; seasonal TOU with tiers
  and demand charges; elasticity, flexible loads and thermal storage) at 10,000, 100,000
  and 1,000,000 customers x 8,760 hourly steps, in one process and spread over two local
  Dask worker processes (``--workers 2``);
* the same at 10,000 customers with 15-minute steps (35,040 steps): throughput linear in
  steps;
* the baseline: benchmarks/naive.py, the constant-elasticity model with one SimPy process
  per customer, on 1,000 customers of the same scenario.

Wall time is the simulation (``sim.run``, metrics included) without interpreter start-up
and scenario loading; with workers, starting the local cluster (which includes the workers'
import of drsim, ``WORKER_PRELOAD``) is shown apart. Memory, two figures: the largest
resident memory of the run's process and all its workers together, sampled every 0.2 s
(what the run held at one time; as RSS, and as PSS, which counts the libraries the
processes share once), and the sum of each process's own peak RSS (an upper bound: the
peaks need not coincide, and shared libraries count once per process).

PSS is read from /proc/PID/smaps_rollup, which makes the kernel walk each process's page
tables: 36 ms for a two-worker run's processes (400,000 customers), 18 % of a core at five
samples a second. A one-process run leaves a core free for that; two workers need both, so
sampling PSS slowed them and biased the ratio between the two. The timed runs therefore
sample RSS only (/proc/PID/statm, 0.01 ms), and PSS comes from one more run of each case,
not timed.

Usage: python benchmarks/scale.py [--sizes 10000 100000 1000000] [--workers 1 2] [--repeat 3]
       [--no-steps] [--no-naive]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCENARIO = "scenarios/large_system.yaml"

# numpy's and OpenBLAS's kernels pinned in this process's environment, which every child
# inherits, also one running an older revision that does not pin them (sim/numerics.py):
# side-by-side timings compare the same kernels
sys.path.insert(0, str(REPO))
from sim import numerics  # noqa: E402

numerics.pin()

#: Shares of the scenario's customers: households, businesses, plants.
SHARES = {"households": 0.85, "businesses": 0.135, "plants": 0.015}


def overrides(customers: int, step_minutes: int = 60) -> list[str]:
    counts = {k: max(1, round(customers * s)) for k, s in SHARES.items()}
    counts["households"] += customers - sum(counts.values())
    return [f"populations.{k}.count={n}" for k, n in counts.items()] + [f"horizon.step_minutes={step_minutes}"]


_CHILD = r"""
import json, resource, sys, time

def maxrss_mib():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def main():
    import sim
    workers = int(sys.argv[2])
    sc = sim.load_scenario(sys.argv[1], sys.argv[3:])
    # drsim imports its engine on the first use of sim.run (lazy, for a fast command line);
    # import it here, untimed, as revisions that imported it with `import sim` did
    import sim.runner  # noqa: F401
    # likewise the `holidays` package's country modules (0.1 s), which the run's first holiday
    # lookup imports and revisions up to 31db364 imported while validating the scenario
    import holidays.countries  # noqa: F401
    start_s, worker_rss = 0.0, []
    if workers > 1:
        from sim.sweep.execute import connect
        t = time.perf_counter()
        with connect(None, workers) as client:
            client.wait_for_workers(workers)
            start_s = time.perf_counter() - t
            t = time.perf_counter()
            r = sim.run(sc, client=client)
            wall = time.perf_counter() - t
            worker_rss = list(client.run(maxrss_mib).values())
    else:
        t = time.perf_counter()
        r = sim.run(sc)
        wall = time.perf_counter() - t
    n = r.metrics["baseline"]["customers"]
    print(json.dumps({"wall_s": wall, "cluster_start_s": start_s, "customers": n,
                      "steps": r.calendar.n_steps, "hours": sc.horizon.days * 24,
                      "rss_mib": maxrss_mib() + sum(worker_rss), "coordinator_rss_mib": maxrss_mib(),
                      "worker_rss_mib": worker_rss, "shards": r.execution["shards"],
                      "peak_reduction_pct": r.metrics["change"]["peak_reduction_pct"]}))

if __name__ == "__main__":
    main()
"""


def _tree_memory_mib(proc, pss: bool) -> tuple[float, float]:
    """Resident memory of a process and all its descendants now, summed: (RSS, PSS) [MiB];
    PSS only with ``pss`` (else NaN; reading it is not cheap, see the module docstring).

    RSS counts pages shared between the processes (the interpreter, numpy's and numba's
    libraries) once per process; PSS splits each shared page between the processes that
    map it, so the PSS sum is the memory the processes hold together."""
    import psutil

    rss = shared = 0
    try:
        family = [proc] + proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0.0, 0.0
    for p in family:
        try:
            info = p.memory_full_info() if pss else p.memory_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss += info.rss
        shared += getattr(info, "pss", info.rss) if pss else 0
    return rss / 2**20, shared / 2**20 if pss else float("nan")


def run_case(customers: int, workers: int, step_minutes: int = 60, pss: bool = False) -> dict:
    """One run in a fresh process. Besides the per-process peaks the child reports, the
    resident memory of the child and all its worker processes together is sampled every
    0.2 s: the largest sums are what the run held at one time (``rss_sampled_mib``, and
    with ``pss`` also ``pss_sampled_mib``)."""
    import psutil

    cmd = [sys.executable, "-c", _CHILD, SCENARIO, str(workers), *overrides(customers, step_minutes)]
    with subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        proc = psutil.Process(child.pid)
        peak = peak_pss = 0.0
        while child.poll() is None:
            rss, shared = _tree_memory_mib(proc, pss)
            peak, peak_pss = max(peak, rss), max(peak_pss, shared)
            time.sleep(0.2)
        out, err = child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"benchmark run failed ({child.returncode}):\n{err}")
    result = json.loads(out.strip().splitlines()[-1])
    result["rss_sampled_mib"] = peak
    result["pss_sampled_mib"] = peak_pss if pss else float("nan")
    return result


def run_naive(customers: int) -> dict:
    out = subprocess.run([sys.executable, str(REPO / "benchmarks" / "naive.py"), SCENARIO, "--customers",
                          str(customers)], cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _machine() -> str:
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    try:
        mem = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")) / 2**20
    except (OSError, StopIteration):
        mem = float("nan")
    return f"{model}, {os.cpu_count()} cores, {mem:.0f} GiB, {platform.platform()}, Python {platform.python_version()}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-steps", action="store_true", help="skip the 15-minute case")
    p.add_argument("--no-naive", action="store_true", help="skip the naive baseline")
    p.add_argument("--naive-customers", type=int, default=1000)
    args = p.parse_args()
    print(f"machine: {_machine()}")
    try:
        print(f"load average at start: {os.getloadavg()[0]:.2f}")
    except OSError:
        pass
    print("| case | customers | steps | workers | median wall [s] | customer-hours/s | peak PSS at once [MiB] "
          "(memory run) | peak RSS at once [MiB] | sum of process peak RSS [MiB] | cluster start [s] | timed runs |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    walls: dict = {}
    throughput: dict = {}
    cases = [(n, w, 60) for n in args.sizes for w in args.workers]
    if not args.no_steps:
        cases += [(10_000, w, 15) for w in args.workers]
    # side by side: each repeat runs every workers count of a size in turn, so that a slow
    # spell of the (shared) machine falls on both sides of a ratio
    all_runs: dict = {case: [] for case in cases}
    memory_runs: dict = {}
    for n, minutes in dict.fromkeys((n, minutes) for n, _, minutes in cases):
        for _ in range(args.repeat):
            for w in args.workers:
                r = run_case(n, w, minutes)
                all_runs[(n, w, minutes)].append(r)
                print(f"  ran {n:,} customers, {minutes}-min steps, {w} worker(s): {r['wall_s']:.2f} s",
                      file=sys.stderr, flush=True)
        for w in args.workers:  # one more run of each, not timed: the memory the processes share (PSS)
            memory_runs[(n, w, minutes)] = r = run_case(n, w, minutes, pss=True)
            print(f"  memory run, {n:,} customers, {minutes}-min steps, {w} worker(s): {r['pss_sampled_mib']:,.0f} MiB PSS",
                  file=sys.stderr, flush=True)
    for n, w, minutes in cases:
        runs = all_runs[(n, w, minutes)]
        wall = statistics.median(r["wall_s"] for r in runs)
        ch = runs[0]["customers"] * runs[0]["hours"]
        every = runs + [memory_runs[(n, w, minutes)]]
        rss = max(r["rss_mib"] for r in every)
        at_once = max(r["rss_sampled_mib"] for r in every)
        pss = memory_runs[(n, w, minutes)]["pss_sampled_mib"]
        start = statistics.median(r["cluster_start_s"] for r in runs)
        walls[(n, w, minutes)] = wall
        throughput[(n, w, minutes)] = ch / wall
        name = f"large_system{'' if minutes == 60 else f' {minutes}-min'}"
        print(f"| {name} | {n:,} | {runs[0]['steps']:,} | {w} | {wall:.2f} | {ch / wall:,.0f} | {pss:,.0f} | {at_once:,.0f} | "
              f"{rss:,.0f} | {start:.1f} | {len(runs)} |", flush=True)
    if not args.no_naive:
        runs = [run_naive(args.naive_customers) for _ in range(args.repeat)]
        wall = statistics.median(r["wall_s"] for r in runs)
        ch = runs[0]["customers"] * runs[0]["steps"]
        throughput["naive"] = ch / wall
        print(f"| naive: one SimPy process per customer | {runs[0]['customers']:,} | {runs[0]['steps']:,} | 1 | "
              f"{wall:.2f} | {ch / wall:,.0f} | | | | | {len(runs)} |", flush=True)
    print()
    for n in args.sizes:
        if (n, 1, 60) in walls and (n, 2, 60) in walls:
            paired = [a["wall_s"] / b["wall_s"] for a, b in zip(all_runs[(n, 1, 60)], all_runs[(n, 2, 60)])]
            print(f"{n:,} customers: two workers / one process = {walls[(n, 1, 60)] / walls[(n, 2, 60)]:.2f}x "
                  f"(ratio of medians); each repeat's pair: {', '.join(f'{x:.2f}x' for x in paired)} "
                  f"(median {statistics.median(paired):.2f}x)")
    for w in args.workers:
        if (10_000, w, 60) in walls and (10_000, w, 15) in walls:
            print(f"10,000 customers, {w} worker(s): 4x the steps took {walls[(10_000, w, 15)] / walls[(10_000, w, 60)]:.2f}x the time")
    sizes = sorted(n for n in args.sizes if (n, 1, 60) in walls)
    for a, b in zip(sizes, sizes[1:]):
        print(f"one process: {b // a}x the customers took {walls[(b, 1, 60)] / walls[(a, 1, 60)]:.2f}x the time")
    if "naive" in throughput:
        best = max(v for k, v in throughput.items() if k != "naive")
        print(f"best drsim throughput / naive: {best / throughput['naive']:,.0f}x")


if __name__ == "__main__":
    main()
