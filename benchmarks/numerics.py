"""`make bench`: what the pinned numerical kernels cost (sim/numerics.py), side by side.

drsim pins numpy's kernels (no AVX-512) and OpenBLAS's (Haswell) so that a run gives the
same bits on every x86-64 machine. This times ``sim.run`` on scenarios/large_system.yaml
(the customer shares of ``scale.py``) in fresh processes, pinned and with the machine's own
kernels (``DRSIM_NATIVE_NUMERICS=1``), alternating which goes first round by round, and
prints the medians and the median of the paired ratios (pinned / native). On a CPU without
AVX-512 both are the same kernels.

Usage: python benchmarks/numerics.py [--sizes 10000 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import scale  # noqa: E402  (the scenario, its shares, the child; pins this process's kernels)

VARS = ("NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE", "DRSIM_NATIVE_NUMERICS")


def run(customers: int, native: bool) -> float:
    env = {k: v for k, v in os.environ.items() if k not in VARS}
    if native:
        env["DRSIM_NATIVE_NUMERICS"] = "1"
    cmd = [sys.executable, "-c", scale._CHILD, scale.SCENARIO, "1", *scale.overrides(customers)]
    out = subprocess.run(cmd, cwd=scale.REPO, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["wall_s"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    print(f"machine: {scale._machine()}, load average at start {os.getloadavg()[0]:.2f}")
    print("| customers | native median [s] | pinned median [s] | paired ratios (pinned / native) | median ratio |")
    print("|---:|---:|---:|---|---:|")
    for n in args.sizes:
        run(n, False)  # compile the kernels into the cache once, untimed
        pinned, native = [], []
        for r in range(args.repeat):
            for kind in ((False, True) if r % 2 == 0 else (True, False)):
                (native if kind else pinned).append(run(n, kind))
        ratios = [a / b for a, b in zip(pinned, native)]
        print(f"| {n:,} | {statistics.median(native):.3f} | {statistics.median(pinned):.3f} | "
              f"{', '.join(f'{x:.3f}' for x in ratios)} | {statistics.median(ratios):.3f} |", flush=True)


if __name__ == "__main__":
    main()
