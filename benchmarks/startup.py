"""Start-up time of the ``drsim`` command: ``drsim --help`` and ``drsim validate FILE``.

Each command runs ``--repeat`` times in a fresh process (after one untimed run that warms
the operating system's file cache and Python's bytecode cache, kept in a temporary
PYTHONPYCACHEPREFIX as an installed drsim keeps it beside its modules); the table shows the median,
the fastest and the slowest wall time, and each median against ``--limit`` (0.3 s: the
start-up a command line should have). The command is the ``drsim`` console script beside
this Python (``.venv/bin/drsim``), or ``python -m sim.cli`` where there is none.

Then the top offenders: ``python -X importtime`` of ``drsim validate FILE``, the modules that
took longest to import counted with what they imported (cumulative), each listed once per
top-level package at its outermost import, and the time each top-level package took itself
(self time summed). ``-X importtime`` adds its own overhead: these figures are larger than
the plain timings and serve only to rank.

Usage: .venv/bin/python benchmarks/startup.py [--repeat N] [--limit S] [--top K] [--check] [--json]

``--check`` exits 1 when a median exceeds ``--limit``. On a busy machine the figures grow
with the load: compare them side by side, and read the load average printed with them.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCENARIO = "scenarios/tou_peak_valley.yaml"
CASES = {"drsim --help": ["--help"], f"drsim validate {SCENARIO}": ["validate", SCENARIO]}

#: One ``-X importtime`` line: self and cumulative microseconds, indentation, module name.
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")


def drsim_command() -> list[str]:
    """The ``drsim`` console script of this Python's environment, or ``python -m sim.cli``."""
    script = Path(sys.executable).with_name("drsim")
    return [str(script)] if script.exists() else [sys.executable, "-m", "sim.cli"]


def environment(pycache: str) -> dict[str, str]:
    """This environment with the repository first on the import path (a worktree measures
    itself) and Python's bytecode cache on, kept in ``pycache`` rather than in the repository.

    An installed drsim starts from compiled bytecode (pip compiles it on install); with
    PYTHONDONTWRITEBYTECODE set, every process would compile drsim's sources again, which is
    not what a user waits for."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def time_command(argv: list[str], repeat: int, env: dict[str, str]) -> list[float]:
    """Wall times [s] of ``repeat`` fresh processes running ``argv`` (after one untimed run)."""
    times = []
    for i in range(repeat + 1):
        t0 = time.perf_counter()
        done = subprocess.run(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed (exit {done.returncode}):\n{done.stderr.decode()}")
        if i:
            times.append(wall)
    return times


def import_times(argv: list[str], env: dict[str, str]) -> list[tuple[int, int, int, str]]:
    """``(self us, cumulative us, depth, module)`` of every import of ``python -X importtime ARGV``."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "sim.cli", *argv], cwd=REPO, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rows = []
    for line in done.stderr.splitlines():
        m = _IMPORT_LINE.match(line)
        if m:
            rows.append((int(m[1]), int(m[2]), (len(m[3]) - 1) // 2, m[4]))
    return rows


def offenders(rows, top: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """The ``top`` slowest imports by cumulative time (one per top-level package, its
    outermost import) and the ``top`` top-level packages by summed self time, in ms."""
    outermost: dict[str, tuple[int, int, str]] = {}
    own: collections.Counter = collections.Counter()
    for self_us, cum_us, depth, name in rows:
        package = name.split(".")[0]
        own[package] += self_us
        best = outermost.get(package)
        if best is None or (depth, -cum_us) < (best[0], -best[1]):
            outermost[package] = (depth, cum_us, name)
    cumulative = sorted(((name, cum / 1000) for _, cum, name in outermost.values()), key=lambda x: -x[1])
    return cumulative[:top], [(p, us / 1000) for p, us in own.most_common(top)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=9, help="timed runs of each command (default 9)")
    ap.add_argument("--limit", type=float, default=0.3, help="the start-up each median should keep [s] (default 0.3)")
    ap.add_argument("--top", type=int, default=10, help="imports listed (default 10)")
    ap.add_argument("--check", action="store_true", help="exit 1 when a median exceeds --limit")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)

    command = drsim_command()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    results = {}
    with tempfile.TemporaryDirectory(prefix="drsim-startup-pycache-") as pycache:
        env = environment(pycache)
        for label, extra in CASES.items():
            times = time_command([*command, *extra], args.repeat, env)
            results[label] = {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
                              "runs": len(times)}
        cumulative, own = offenders(import_times(CASES[f"drsim validate {SCENARIO}"], env), args.top)
    report = {"command": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(command)),
              "python": platform.python_version(), "load_average_1min": load, "limit_s": args.limit,
              "cases": results, "imports_cumulative_ms": cumulative, "imports_self_ms": own}
    over = [label for label, r in results.items() if r["median_s"] > args.limit]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"Start-up of `{report['command']}` (Python {report['python']}, load average {load:.2f} at the start, "
              f"{args.repeat} fresh processes each)\n")
        print(f"| command | median [s] | fastest [s] | slowest [s] | within {args.limit} s |")
        print("|---|---:|---:|---:|---|")
        for label, r in results.items():
            print(f"| `{label}` | {r['median_s']:.3f} | {r['min_s']:.3f} | {r['max_s']:.3f} | "
                  f"{'yes' if r['median_s'] <= args.limit else 'NO'} |")
        print(f"\nSlowest imports of `drsim validate {SCENARIO}` (python -X importtime; cumulative, "
              "outermost import of each package) [ms]\n")
        print("| module | cumulative [ms] |\n|---|---:|")
        for name, ms in cumulative:
            print(f"| {name} | {ms:.1f} |")
        print("\nTime each top-level package took itself (self time summed) [ms]\n")
        print("| package | self [ms] |\n|---|---:|")
        for name, ms in own:
            print(f"| {name} | {ms:.1f} |")
    return 1 if args.check and over else 0


if __name__ == "__main__":
    sys.exit(main())
