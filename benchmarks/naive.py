"""The baseline of the scale benchmark: a naive agent-based simulation, one SimPy process
per customer.

Each customer is its own SimPy process. Every simulated day it draws its own day level,
builds its 24-hour baseline load from its class shape, responds to the scenario's prices by
constant elasticity (load x (scenario price / baseline price) ** elasticity), adds its
energy charge to its bill and its load to the system load, and waits for the next day.
This is how an agent-based model is usually first written; drsim's engine does the same
arithmetic for blocks of thousands of customers at once (docs/model.md).

The customers' sizes, shifts and elasticities are drsim's own draws for the scenario (so
both sides simulate the same population); tier, demand and fixed charges are left out (the
naive model bills energy at each period's first-tier price).

Usage (also called by benchmarks/scale.py): python benchmarks/naive.py [SCENARIO] [--customers 1000]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import simpy

REPO = Path(__file__).resolve().parents[1]


def customers_of(scenario, n: int) -> tuple[list, dict]:
    """Up to ``n`` customers of the scenario, as plain per-customer records, and the
    per-step baseline and scenario prices of each segment's tariffs."""
    import sim
    from sim.calendar import Calendar
    from sim.population import build_segment
    from sim.tariffs import compile_tariff

    cal = Calendar.from_scenario(scenario)
    total = sum(s.count for s in scenario.populations)
    out, prices = [], {}
    for seg in scenario.populations:
        pop = build_segment(seg, cal, scenario.seed)
        take = max(1, round(n * seg.count / total))
        roles = {}
        for role in ("baseline", "scenario"):
            name = seg.tariff.options(role)[0][0]
            t = compile_tariff(name, scenario.tariffs[name], cal)
            roles[role] = t.rate[t.period.astype(int), 0]   # first-tier price of every step
        prices[seg.name] = roles
        for i in range(min(take, pop.n)):
            out.append({"segment": seg.name, "mean_kw": float(pop.load.mean_kw[i]), "shift": int(pop.load.shift[i]),
                        "elasticity": float(pop.elasticity[i]), "daily_sd": pop.load.daily_sd,
                        "curve": pop.load.curve})
    del sim
    return out, prices


def customer(env: simpy.Environment, c: dict, prices: dict, days: int, spd: int, rng: np.random.Generator,
             system: np.ndarray, bills: list, k: int):
    """One customer, one day at a time."""
    s = np.sqrt(np.log1p(c["daily_sd"] ** 2))
    base_price, price = prices["baseline"], prices["scenario"]
    for d in range(days):
        day = slice(d * spd, (d + 1) * spd)
        level = np.exp(s * rng.standard_normal() - 0.5 * s * s)
        base = np.roll(c["curve"][d], c["shift"]) * c["mean_kw"] * level
        load = base * (price[day] / base_price[day]) ** c["elasticity"]
        bills[k] += float(load @ price[day])
        system[day] += load
        yield env.timeout(1)


def run(scenario_path: str, n: int, overrides: list[str] | None = None) -> dict:
    """Run the naive model on ``n`` customers of a scenario; wall time and throughput."""
    import sim

    sc = sim.load_scenario(scenario_path, overrides or [])
    people, prices = customers_of(sc, n)
    spd = 24 * 60 // sc.horizon.step_minutes
    days = sc.horizon.days
    t0 = time.perf_counter()
    env = simpy.Environment()
    system = np.zeros(days * spd)
    bills = [0.0] * len(people)
    root = np.random.SeedSequence(sc.seed)
    for k, (c, ss) in enumerate(zip(people, root.spawn(len(people)))):
        env.process(customer(env, c, prices[c["segment"]], days, spd, np.random.default_rng(ss), system, bills, k))
    env.run()
    wall = time.perf_counter() - t0
    return {"customers": len(people), "steps": days * spd, "wall_s": wall,
            "customer_hours_per_s": len(people) * days * 24 / wall,
            "energy_mwh": float(system.sum()) * sc.horizon.step_minutes / 60 / 1000, "revenue": sum(bills)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", nargs="?", default=str(REPO / "scenarios" / "large_system.yaml"))
    p.add_argument("--customers", type=int, default=1000)
    args = p.parse_args()
    print(json.dumps(run(args.scenario, args.customers)))


if __name__ == "__main__":
    main()
