"""The working tree against an earlier revision: same cases as benchmarks/scale.py, side by side.

Why: a change that reshapes the simulation core (issue 13) has to show that the 10,000,
100,000 and 1,000,000-customer runs of ``make bench`` take no more than 5 % longer than
before it. On a shared, noisy machine two benchmarks taken at different times cannot show
that: a slow spell of the machine moves one of them by more than 5 %. This script measures
both code versions in one invocation, with their runs interleaved, and compares medians.

What it does:

* checks out the revision ``--ref`` (default 31db364, the commit before the reshaping) in
  a temporary ``git worktree add --detach``, removed at the end, also on an error, Ctrl-C
  or SIGTERM;
* runs untimed warm-ups of each checkout first, once for each workers count, with the
  smallest size (at most 10,000 customers): the compiled kernels are cached (numba
  ``cache=True``) in ``__pycache__`` next to the sources, and a fresh worktree has none, so
  without them the reference's first runs would include the compilation. Runs with
  workers compile kernels of their own, and larger runs can need further specializations
  (10,000 customers compile one of ``billing._close_rows`` that 1,000 do not); so the
  script also lists each checkout's kernel cache files before and after every round, and
  a round during which a kernel was compiled is run again (up to twice; if it compiled
  every time, it is kept and a WARNING says so). This also catches an edit of the working
  tree's sources in the middle of a measurement;
* for each size (``--sizes``) and workers count (``--workers``) runs ``--repeat`` rounds.
  A round is one run of the reference and one of the working tree, one after the other;
  which of them goes first alternates from round to round (so that neither always runs
  on a machine the other has just warmed, or just slowed);
* every run is a fresh subprocess whose working directory is that checkout, with
  ``PYTHONPATH=<that checkout>``, so that ``import sim`` takes that checkout's package
  rather than the editable install. The child prints ``sim.__file__`` (and, with
  workers, each Dask worker's) and the script stops with an error when it does not lie in
  the intended checkout;
* the scenario is benchmarks/scale.py's: scenarios/large_system.yaml (each checkout's own
  copy) with scale.py's shares of households, businesses and plants (``scale.overrides``)
  and hourly steps.

What is timed, as in scale.py: ``sim.run(scenario)`` only, metrics included; interpreter
start-up, the import of drsim (its engine included: drsim imports it on the first use of
``sim.run``, so the child imports ``sim.runner`` before the clock starts; without that, a
revision with lazy imports was charged 1-3 s of imports that one importing eagerly paid
before the timer; likewise the `holidays` package's country modules, 0.1 s, which revisions
up to 31db364 imported while loading the scenario and later ones on the run's first holiday
lookup) and the loading of the scenario are not. With workers > 1,
the local cluster is started first (``sim.sweep.execute.connect``, which both revisions
have) and its start-up is not timed either. While a run goes on, the resident memory
(RSS) of the child and all its worker processes together is sampled every 0.2 s
(``scale._tree_memory_mib``); the largest sum is shown, as the median over the rounds.

Same figures: each run also reports the run's ``change.peak_reduction_pct`` and
``scenario.revenue``. A change that should move no figure must give the same numbers, to
the last bit; when the two versions' numbers differ in a round, a WARNING line gives both
values (on stderr as it happens, and under the table), and the measurement goes on.

Output: progress lines on stderr; on stdout the machine (as scale.py's ``_machine``), the
load average at start, the reference's full commit hash and the working tree's
``git describe --always --dirty``, then a markdown table with, for each case, the median
wall time of the reference and of the working tree, the ratio of the two medians
(current / ref), each round's paired ratio (current / ref of the same round, with which
side ran first) and the median of the paired ratios. Under the table, one line per case:
``within 5 %`` when the ratio of medians is between 0.95 and 1.05, else ``SLOWER by x %``
or ``faster by x %`` (x = how much more or less time the working tree took, in % of the
reference's time). The ratio of medians decides; the median of the paired ratios, which
cancels slow spells longer than a round, is shown beside it as a check.

The working tree is measured as it is while the script runs: a file under sim/ or
scenarios/ that changes during the measurement is reported with a WARNING at the end.

With ``--current REV`` the other side is that revision, checked out like the reference in a
second temporary worktree, instead of the working tree: two points of the history compared on
today's machine (``make bench`` measures the reshaping itself so, from the commit before it to
the one that ended it; see docs/benchmarks.md).

Usage: python benchmarks/versus.py [--ref REV] [--current REV] [--sizes 10000 100000 1000000]
       [--repeat 3] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import scale  # noqa: E402  (benchmarks/scale.py: the scenario, its shares, the machine, RSS sampling)

REPO = scale.REPO
SCENARIO = scale.SCENARIO

#: Default reference: the commit before the reshaping of the core (issue 13).
DEFAULT_REF = "31db364"

#: Most customers of the untimed warm-up runs of each checkout (fill numba's kernel cache).
WARMUP_CUSTOMERS = 10_000

#: Times a round is run again because a kernel was compiled during it.
MAX_REDO = 2

#: The ratio of medians within 1 +- this is "within 5 %".
TOLERANCE = 0.05

#: Prefix of the child's result line on stdout (drsim or Dask may print other lines).
_MARK = "VERSUS-RESULT "

_CHILD = r"""
import json, sys, time

def sim_file():
    import sim
    return sim.__file__

def cpu_s():
    import resource
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime

def main():
    import sim
    workers = int(sys.argv[2])
    sc = sim.load_scenario(sys.argv[1], sys.argv[3:])
    # drsim imports its engine on the first use of sim.run (lazy, for a fast command line);
    # import it here, untimed, as revisions that imported it with `import sim` did (those
    # have no sim/runner.py; importing the name there would find the editable install's)
    import os
    if os.path.exists(os.path.join(os.path.dirname(sim.__file__), "runner.py")):
        import sim.runner  # noqa: F401
    # the `holidays` package's country modules (0.1 s): revisions up to 31db364 imported them
    # all when the scenario was validated, later ones on the run's first holiday lookup; the
    # same import on both sides, so it is made here, untimed (a no-op where loading did it)
    import holidays.countries  # noqa: F401
    start_s, worker_files, worker_cpu = 0.0, [], 0.0
    if workers > 1:
        from sim.sweep.execute import connect
        t = time.perf_counter()
        with connect(None, workers) as client:
            client.wait_for_workers(workers)
            start_s = time.perf_counter() - t
            before = client.run(cpu_s)
            c, t = time.process_time(), time.perf_counter()
            r = sim.run(sc, client=client)
            wall, coordinator_cpu = time.perf_counter() - t, time.process_time() - c
            worker_cpu = sum(client.run(cpu_s).values()) - sum(before.values())
            worker_files = sorted(client.run(sim_file).values())
    else:
        c, t = time.process_time(), time.perf_counter()
        r = sim.run(sc)
        wall, coordinator_cpu = time.perf_counter() - t, time.process_time() - c
    n = r.metrics["baseline"]["customers"]
    print(MARK + json.dumps({
        "sim_file": sim.__file__, "worker_sim_files": worker_files,
        "wall_s": wall, "cluster_start_s": start_s, "customers": n, "steps": r.calendar.n_steps,
        "coordinator_cpu_s": coordinator_cpu, "worker_cpu_s": worker_cpu,
        "peak_reduction_pct": float(r.metrics["change"]["peak_reduction_pct"]),
        "revenue": float(r.metrics["scenario"]["revenue"])}), flush=True)

if __name__ == "__main__":
    main()
""".replace("MARK", repr(_MARK))


def _git(*args: str, cwd: Path = REPO) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True).stdout.strip()


def _fingerprint(root: Path) -> str:
    """SHA-256 over the paths and contents of the working tree's sim/**/*.py and scenarios/**:
    what a run of the working tree reads. Compared at start and end to catch an edit made
    while the script ran."""
    h = hashlib.sha256()
    files = sorted(p for d in ("sim", "scenarios") for p in (root / d).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and (d == "scenarios" or p.suffix == ".py"))
    for p in files:
        h.update(str(p.relative_to(root)).encode() + b"\0")
        try:
            h.update(p.read_bytes())
        except OSError:  # removed between the listing and the read
            h.update(b"<gone>")
    return h.hexdigest()


def _kernel_cache(checkout: Path) -> dict[str, int]:
    """numba's cache files (index and compiled code) under ``checkout``/sim, with their
    modification times [ns]: a new or rewritten file means a kernel was compiled."""
    out = {}
    for p in (checkout / "sim").rglob("*.nb[ic]"):
        try:
            out[str(p.relative_to(checkout))] = p.stat().st_mtime_ns
        except OSError:
            pass
    return out


def _under(path: str, root: Path) -> bool:
    return Path(path).resolve().is_relative_to((root / "sim").resolve())


def _stop(child: subprocess.Popen) -> None:
    """End a child started here and everything it started (its Dask scheduler and workers):
    the child leads its own process group, so the group is ended by the child's id."""
    for sig, wait_s in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            return
        try:
            child.wait(wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def run_one(checkout: Path, customers: int, workers: int) -> dict:
    """One timed run of ``checkout``'s code in a fresh process (cwd and PYTHONPATH the
    checkout), with the RSS of the process and its workers sampled every 0.2 s. Raises
    when the run fails or when ``import sim`` (in the child or a worker) took a package
    outside ``checkout``."""
    import psutil

    cmd = [sys.executable, "-c", _CHILD, SCENARIO, str(workers), *scale.overrides(customers)]
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    # output to files, not pipes: a child writing more than a pipe holds (Dask's logs)
    # while nobody reads would block
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(cmd, cwd=checkout, env=env, stdout=out, stderr=err, text=True,
                                 start_new_session=True)
        try:
            proc = psutil.Process(child.pid)
            peak = 0.0
            while child.poll() is None:
                peak = max(peak, scale._tree_memory_mib(proc, pss=False)[0])
                time.sleep(0.2)
        except BaseException:
            _stop(child)
            raise
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode != 0:
        raise RuntimeError(f"run of {checkout} ({customers:,} customers, {workers} worker(s)) failed "
                           f"({child.returncode}):\n{stderr[-4000:]}")
    lines = [line for line in stdout.splitlines() if line.startswith(_MARK)]
    if not lines:
        raise RuntimeError(f"run of {checkout} printed no result:\n{stdout[-2000:]}\n{stderr[-2000:]}")
    result = json.loads(lines[-1][len(_MARK):])
    wrong = [f for f in [result["sim_file"], *result["worker_sim_files"]] if not _under(f, checkout)]
    if wrong or (workers > 1 and len(result["worker_sim_files"]) != workers):
        raise RuntimeError(f"the run meant for {checkout} imported sim from {result['sim_file']} "
                           f"(workers: {result['worker_sim_files']}), not from {checkout / 'sim'}")
    result["rss_sampled_mib"] = peak
    return result


def _pct(ratio: float) -> str:
    if ratio > 1 + TOLERANCE:
        return f"SLOWER by {(ratio - 1) * 100:.1f} %"
    if ratio < 1 - TOLERANCE:
        return f"faster by {(1 - ratio) * 100:.1f} %"
    return f"within 5 % ({(ratio - 1) * 100:+.1f} %)"


def measure(args, ref_dir: Path, current_dir: Path) -> None:
    sides = {"ref": ref_dir, "current": current_dir}
    warm = min(WARMUP_CUSTOMERS, min(args.sizes))
    for side, checkout in sides.items():
        for w in sorted(set(args.workers)):
            t = time.perf_counter()
            r = run_one(checkout, warm, w)
            print(f"  warm-up of {side} ({checkout}), {warm:,} customers, {w} worker(s): sim from {r['sim_file']}, "
                  f"{time.perf_counter() - t:.1f} s including start-up", file=sys.stderr, flush=True)

    cases = [(n, w) for n in args.sizes for w in args.workers]
    runs: dict = {case: [] for case in cases}  # per case: one {"first", "ref", "current"} per round
    warnings: list[str] = []
    k = 0  # rounds so far, over all cases: which side goes first alternates with it
    for n, w in cases:
        for i in range(args.repeat):
            order = ("ref", "current") if k % 2 == 0 else ("current", "ref")
            k += 1
            for attempt in range(MAX_REDO + 1):
                cache = {side: _kernel_cache(checkout) for side, checkout in sides.items()}
                rnd = {"first": order[0]}
                for side in order:
                    rnd[side] = r = run_one(sides[side], n, w)
                    start = f", cluster start {r['cluster_start_s']:.1f} s" if w > 1 else ""
                    cpu = f"CPU: coordinator {r['coordinator_cpu_s']:.2f} s" + (
                        f", workers {r['worker_cpu_s']:.2f} s" if w > 1 else "")
                    print(f"  {n:,} customers, {w} worker(s), round {i + 1}/{args.repeat}, {side}: {r['wall_s']:.2f} s"
                          f"{start}, {cpu}, peak RSS {r['rss_sampled_mib']:,.0f} MiB", file=sys.stderr, flush=True)
                compiled = [side for side, checkout in sides.items() if _kernel_cache(checkout) != cache[side]]
                if not compiled:
                    break
                what = f"kernels were compiled during it (numba cache of {' and '.join(compiled)})"
                if attempt < MAX_REDO:
                    print(f"  round {i + 1} again: {what}", file=sys.stderr, flush=True)
                else:
                    msg = f"WARNING: {n:,} customers, {w} worker(s), round {i + 1} kept although {what}"
                    warnings.append(msg)
                    print(msg, file=sys.stderr, flush=True)
            for key in ("peak_reduction_pct", "revenue"):
                a, b = rnd["ref"][key], rnd["current"][key]
                if a != b:
                    msg = (f"WARNING: {n:,} customers, {w} worker(s), round {i + 1}: {key} differs: "
                           f"ref {a!r}, current {b!r}")
                    warnings.append(msg)
                    print(msg, file=sys.stderr, flush=True)
            runs[(n, w)].append(rnd)

    print("| customers | workers | ref median wall [s] | current median wall [s] | current / ref (ratio of medians) "
          "| paired ratios, round by round (current / ref; who ran first) | median of paired ratios "
          "| ref peak RSS [MiB] | current peak RSS [MiB] | same figures | rounds |")
    print("|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---:|")
    verdicts = []
    for n, w in cases:
        rounds = runs[(n, w)]
        med = {s: statistics.median(r[s]["wall_s"] for r in rounds) for s in sides}
        rss = {s: statistics.median(r[s]["rss_sampled_mib"] for r in rounds) for s in sides}
        paired = [r["current"]["wall_s"] / r["ref"]["wall_s"] for r in rounds]
        same = all(r["ref"][key] == r["current"][key] for r in rounds for key in ("peak_reduction_pct", "revenue"))
        ratio = med["current"] / med["ref"]
        pairs = ", ".join(f"{x:.3f} ({r['first']} first)" for x, r in zip(paired, rounds))
        print(f"| {n:,} | {w} | {med['ref']:.3f} | {med['current']:.3f} | {ratio:.3f} | {pairs} | "
              f"{statistics.median(paired):.3f} | {rss['ref']:,.0f} | {rss['current']:,.0f} | "
              f"{'yes' if same else 'NO'} | {len(rounds)} |", flush=True)
        verdicts.append(f"{n:,} customers, {w} worker(s): {_pct(ratio)} (ratio of medians {ratio:.3f}; "
                        f"median of paired ratios {statistics.median(paired):.3f})")
    print()
    for line in verdicts:
        print(line)
    for line in warnings:
        print(line)


def _remove_worktree(folder: Path) -> None:
    removed = subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(folder)],
                             capture_output=True, text=True)
    if removed.returncode != 0 and folder.exists():  # e.g. the worktree was never added
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run(["git", "-C", str(REPO), "worktree", "prune"], capture_output=True)
    print(f"  removed the worktree {folder}", file=sys.stderr, flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ref", default=DEFAULT_REF, help=f"git revision to compare against (default {DEFAULT_REF})")
    p.add_argument("--current", default=None, metavar="REV",
                   help="git revision to measure instead of the working tree (checked out like --ref)")
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000], help="customers")
    p.add_argument("--repeat", type=int, default=3, help="rounds per case (each: one run of each side)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="1: one process; n > 1: n Dask workers")
    args = p.parse_args()
    if args.repeat < 1 or min(args.sizes) < 1 or min(args.workers) < 1:
        p.error("--repeat, --sizes and --workers must be positive")
    hashes = {}
    for opt, rev in (("--ref", args.ref), ("--current", args.current)):
        if rev is None:
            continue
        try:
            hashes[opt] = _git("rev-parse", "--verify", f"{rev}^{{commit}}")
        except subprocess.CalledProcessError as e:
            p.error(f"{opt} {rev}: not a commit ({e.stderr.strip()})")
    ref_hash, current_hash = hashes["--ref"], hashes.get("--current")
    # SIGTERM (a timeout, a killed job) unwinds like Ctrl-C, so the worktree is removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    print(f"machine: {scale._machine()}")
    try:
        print("load average at start: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1, 5, 15 min)")
    except OSError:
        pass
    print(f"ref: {ref_hash} ({args.ref})")
    if current_hash is None:
        print(f"current: {_git('describe', '--always', '--dirty')} (working tree {REPO})")
        differ = subprocess.run(["git", "-C", str(REPO), "diff", "--quiet", ref_hash, "--", "scenarios"]).returncode
    else:
        print(f"current: {current_hash} ({args.current})")
        differ = subprocess.run(["git", "-C", str(REPO), "diff", "--quiet", ref_hash, current_hash,
                                 "--", "scenarios"]).returncode
    if differ != 0:
        print("note: scenarios/ differ between the two sides; each side runs its own copy")
    print(flush=True)
    before = _fingerprint(REPO)

    checkouts: list[Path] = []
    try:
        for side, rev in (("ref", ref_hash), ("current", current_hash)):
            if rev is None:
                continue
            folder = Path(tempfile.mkdtemp(prefix=f"drsim-versus-{side}-"))
            checkouts.append(folder)
            _git("worktree", "add", "--detach", str(folder), rev)
            print(f"  {side} {rev[:12]} checked out in {folder}", file=sys.stderr, flush=True)
        measure(args, checkouts[0], checkouts[1] if current_hash is not None else REPO)
    finally:
        for folder in checkouts:
            _remove_worktree(folder)
    if current_hash is None and _fingerprint(REPO) != before:
        print("WARNING: sim/ or scenarios/ of the working tree changed while the script ran: "
              "some 'current' runs may have run other code than others")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
