"""`make bench`: throughput and memory of drsim runs, medians of repeated runs.

Each case runs in a fresh subprocess (so peak RSS is the run's own), several times, the
rounds interleaved;
the table reports the median wall time, customer-hours per second and peak RSS.
Usage: python benchmarks/run.py [--repeat N] [--cases NAME ...]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: name -> (scenario, overrides)
CASES = {
    "tou_10k_year": ("scenarios/tou_peak_valley.yaml", []),
    "all_models_10k_year": ("scenarios/behaviour_mix.yaml", []),
    # the same with weather (pvlib's sample typical year) and a controllable load on the homes
    "all_models_weather_10k_year": ("scenarios/behaviour_mix.yaml", [
        'weather={tmy3: "pvlib:723170TYA.CSV"}',
        "populations.homes.behavior=[{model: prism, substitution: {dist: normal, mean: -0.103, sd: 0.03, min: -0.3, "
        "max: 0.0}, daily: -0.02}, {model: flexible, share: {dist: uniform, low: 0.0, high: 0.15}, window: "
        "['17:00-08:00'], max_kw_per_mean_kw: 4.0, inconvenience_per_kwh: 0.05}, {model: thermal_storage, "
        "adoption: 0.1, thermal_share: 0.3, capacity_kwh_per_mean_kw: 6.0, power_kw_per_mean_kw: 2.0, "
        "efficiency: 0.9, loss_per_hour: 0.005}, {model: controllable_load, adoption: 0.2, manual_share: 0.05, "
        "trigger_ratio: 2.0, precool_hours: 1, precool_share: 0.2}]"]),
    # every class on its calibrated default (the multi-period CES model, plus demand shaving)
    "default_10k_year": ("scenarios/tou_peak_valley.yaml",
                         [f"populations.{p}.behavior=default" for p in ("residential", "commercial", "industrial")]),
    "tou_100k_year": ("scenarios/tou_peak_valley.yaml",
                      ["populations.residential.count=85000", "populations.commercial.count=13500",
                       "populations.industrial.count=1500"]),
}

_CHILD = r"""
import json, resource, sys, time
import sim
sc = sim.load_scenario(sys.argv[1], sys.argv[2:])
import sim.runner  # the engine, imported on the first use of sim.run: untimed, as in scale.py
t = time.perf_counter()
r = sim.run(sc)
wall = time.perf_counter() - t
n = r.metrics["baseline"]["customers"]
print(json.dumps({"wall_s": wall, "customers": n, "hours": sc.horizon.days * 24,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "peak_reduction_pct": r.metrics["change"]["peak_reduction_pct"]}))
"""


def run_case(scenario: str, overrides: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, scenario, *overrides], cwd=REPO,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--cases", nargs="*", default=list(CASES))
    args = p.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {platform.platform()}, python {platform.python_version()}")
    print("| case | customers | median wall [s] | customer-hours/s | peak RSS [MiB] | runs |")
    print("|---|---:|---:|---:|---:|---:|")
    # rounds interleave the cases, so that a noisy stretch of a shared machine falls on all of them
    runs = {name: [] for name in args.cases}
    for _ in range(args.repeat):
        for name in args.cases:
            runs[name].append(run_case(*CASES[name]))
    walls = {}
    for name, got in runs.items():
        wall = statistics.median(r["wall_s"] for r in got)
        ch = got[0]["customers"] * got[0]["hours"]
        rss = max(r["rss_mib"] for r in got)
        walls[name] = wall
        print(f"| {name} | {got[0]['customers']:,} | {wall:.2f} | {ch / wall:,.0f} | {rss:,.0f} | {len(got)} |",
              flush=True)
    for case, label in (("all_models_10k_year", "all behaviour models"),
                        ("all_models_weather_10k_year", "all behaviour models, weather and a controllable load"),
                        ("default_10k_year", "every class on behavior: default (ces)")):
        if {"tou_10k_year", case} <= walls.keys():
            print(f"\n{label} / constant elasticity, 10,000 customers x 8,760 h: "
                  f"{walls[case] / walls['tou_10k_year']:.2f}x (at most 3x asked)")

if __name__ == "__main__":
    main()
