"""`make bench`: the cost of prosumers and electrification at scale, side by side.

scenarios/large_system.yaml at ``--sizes`` customers (its 85 / 13.5 / 1.5 % mix) is run
in three variants:

* ``plain``: the scenario as it is;
* ``weather``: the same with a typical-year weather file (pvlib's sample TMY3 of
  Greensboro, NC, which every run with PV or heat needs), so that the cost of reading and
  applying the weather is apart from the models';
* ``prosumers``: the same weather, and the households' behaviour extended by rooftop PV on
  20 % of them, home batteries on 5 %, EVs on 10 % (valley timer) and heat pumps on 10 %
  (``electric_heat`` with ``electric_share: 0.1``, no fuel switching). The models' settings
  are those of the examples (scenarios/pv_net_metering.yaml, battery_tou.yaml,
  ev_timer_peak.yaml, storage_heating.yaml).

Each run is a fresh subprocess (so peak RSS is the run's own). The variants are
interleaved round by round, so that a noisy stretch of a shared machine falls on all of
them. The table gives medians, and the ratio of ``prosumers`` to ``plain`` (the target is
at most 1.5x) and to ``weather``. Wall time is ``sim.run`` (metrics included) without
interpreter start-up and scenario loading.

Usage: python benchmarks/prosumers.py [--sizes 100000 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SCENARIO = "scenarios/large_system.yaml"
WEATHER = 'weather={tmy3: "pvlib:723170TYA.CSV"}'
MIX = {"households": 0.85, "businesses": 0.135, "plants": 0.015}

#: the models added to the households' own (``prosumers`` variant)
ADDED = [
    {"model": "pv", "adoption": 0.20},
    {"model": "battery", "adoption": 0.05, "mode": "tou_arbitrage", "baseline_mode": "self_consumption"},
    {"model": "ev", "adoption": 0.10, "charger_kw": 7.0, "baseline_mode": "unmanaged", "mode": "timer"},
    {"model": "electric_heat", "technology": "heat_pump", "electric_share": 0.10,
     "heat_kwh_per_degree_hour": {"dist": "lognormal", "mean": 0.15, "cv": 0.3},
     "discount_rate": 0.1},
]

_CHILD = r"""
import json, resource, sys, time
import sim
sc = sim.load_scenario(sys.argv[1], sys.argv[2:])
import sim.runner  # the engine, imported on the first use of sim.run: untimed, as in scale.py
t = time.perf_counter()
r = sim.run(sc)
wall = time.perf_counter() - t
print(json.dumps({"wall_s": wall, "customers": r.metrics["baseline"]["customers"],
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "peak_reduction_pct": r.metrics["change"]["peak_reduction_pct"]}))
"""


def counts(n: int) -> list[str]:
    """Overrides giving ``n`` customers in large_system's mix."""
    sizes = {k: int(round(n * v)) for k, v in MIX.items()}
    sizes["households"] += n - sum(sizes.values())
    return [f"populations.{k}.count={v}" for k, v in sizes.items()]


def variants(n: int) -> dict[str, list[str]]:
    """The three variants' overrides at ``n`` customers."""
    with open(REPO / SCENARIO, encoding="utf-8") as fh:
        spec = yaml.safe_load(fh)
    homes = next(p for p in spec["populations"] if p["name"] == "households")
    behavior = json.dumps(list(homes["behavior"]) + ADDED)  # JSON is YAML's flow style
    base = counts(n)
    return {"plain": base, "weather": [*base, WEATHER],
            "prosumers": [*base, WEATHER, f"populations.households.behavior={behavior}"]}


def run_case(overrides: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, SCENARIO, *overrides], cwd=REPO,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"benchmark run failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {platform.platform()}, "
          f"python {platform.python_version()}")
    print("| customers | variant | median wall [s] | peak RSS [MiB] | peak reduction [%] | runs |")
    print("|---:|---|---:|---:|---:|---:|")
    for n in args.sizes:
        cases = variants(n)
        runs = {name: [] for name in cases}
        for _ in range(args.repeat):
            for name, over in cases.items():
                runs[name].append(run_case(over))
        wall = {name: statistics.median(r["wall_s"] for r in got) for name, got in runs.items()}
        for name, got in runs.items():
            print(f"| {n:,} | {name} | {wall[name]:.2f} | {max(r['rss_mib'] for r in got):,.0f} | "
                  f"{got[0]['peak_reduction_pct']:.2f} | {len(got)} |", flush=True)
        print(f"\n{n:,} customers: prosumers / plain {wall['prosumers'] / wall['plain']:.2f}x "
              f"(at most 1.5x asked), prosumers / weather {wall['prosumers'] / wall['weather']:.2f}x, "
              f"weather / plain {wall['weather'] / wall['plain']:.2f}x\n", flush=True)


if __name__ == "__main__":
    main()
