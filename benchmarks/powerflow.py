"""Power-flow steps per second against network size (sim.network.powerflow.run_steps).

For each shipped network named, one transformer's power flow is run on ``--steps`` steps of
random loads (both roles, as a run does: 2 x steps power flows), after one untimed warm-up
flow; the median of ``--repeat`` timings is reported as power flows per second, with the
network's buses, lines and loads. Prints a Markdown table to paste into docs/benchmarks.md.

    PYTHONPATH=$PWD python benchmarks/powerflow.py --steps 20 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from sim.network.grids import load_grid
from sim.network.powerflow import run_steps
from sim.scenario.network import PowerFlow

DEFAULT = ("kerber_landnetz_kabel_1", "kerber_landnetz_kabel_2", "kerber_dorfnetz", "cigre_lv",
           "kerber_vorstadtnetz_kabel_1")


def measure(name: str, steps: int, repeat: int) -> dict:
    pf = PowerFlow(grid=name)
    net = load_grid(pf)
    loads = len(net.load)
    rng = np.random.default_rng(0)
    # loads around each network's own design load (its loads' p_mw), 50-150 %
    design_kw = net.load.p_mw.to_numpy() * 1000.0
    kw = design_kw[None, :, None] * rng.uniform(0.5, 1.5, size=(2, loads, steps))
    band = (pf.v_min_pu, pf.v_max_pu, pf.max_loading_percent)
    run_steps(load_grid(pf), kw[:, :, :1], np.arange(1), band, 0.95)  # warm-up (numba, caches)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run_steps(load_grid(pf), kw, np.arange(steps), band, 0.95)
        times.append(time.perf_counter() - started)
    t = statistics.median(times)
    return {"network": name, "buses": len(net.bus), "lines": len(net.line), "loads": loads,
            "flows": 2 * steps, "seconds": t, "per_second": 2 * steps / t}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--networks", nargs="*", default=list(DEFAULT))
    args = ap.parse_args(argv)
    print("| network | buses | lines | loads | power flows | median [s] | power flows per second |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in args.networks:
        r = measure(name, args.steps, args.repeat)
        print(f"| {r['network']} | {r['buses']} | {r['lines']} | {r['loads']} | {r['flows']} | "
              f"{r['seconds']:.2f} | {r['per_second']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
