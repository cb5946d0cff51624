"""drsim vs NREL SAM: annual bills per second on one tariff, side by side.

The tariff is SCE TOU-8 Option B from OpenEI URDB (tests/data/urdb/sce_tou8_option_b.json:
seasonal TOU energy, a flat demand charge and TOU demand charges) with a second energy tier
added to every period (seasonal bounds; the same derived variant the SAM differential test
uses), so that it has TOU energy, tiers, flat and TOU demand. drsim bills it through
``import_urdb`` -> ``compile_tariff`` -> ``bill_loads``; SAM through PySAM's Utilityrate5
configured by ``PySAM.UtilityRateTools.URDBv8_to_ElectricityRates`` from the same URDB data.

(a) drsim: ``bill_loads`` on a float64 (customers, 8760) array of hourly kW over 2018; wall
    time excludes load generation; median of ``--repeat`` runs.
(b) SAM: ``--sam-bills`` annual bills (one ``execute`` per customer, the first customers' loads)
    on one model instance; median of ``--repeat`` runs.

Usage: .venv/bin/python benchmarks/billing.py [--customers N] [--repeat R] [--sam-bills B] [--profile]
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import datetime as dt
import json
import platform
import pstats
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pydantic import TypeAdapter  # noqa: E402

from sim.calendar import Calendar  # noqa: E402
from sim.scenario.tariff import Tariff  # noqa: E402
from sim.tariffs.billing import CHARGES, bill_loads  # noqa: E402
from sim.tariffs.compile import compile_tariff  # noqa: E402
from sim.tariffs.urdb import urdb_to_tariff  # noqa: E402

FIXTURE = REPO / "tests" / "data" / "urdb" / "sce_tou8_option_b.json"


def benchmark_rate() -> dict:
    """SCE TOU-8 with a second tier in every energy period (summer 240 MWh, winter 150 MWh)."""
    rate = json.loads(FIXTURE.read_text())
    for i, period in enumerate(rate["energyratestructure"]):
        base = period[0]
        period[:] = [dict(base, max=240_000.0 if i >= 2 else 150_000.0),
                     dict(base, rate=base["rate"] + 0.015 * (i + 1))]
    return rate


def shapes(k: int = 4) -> np.ndarray:
    """k deterministic hourly shapes over 2018, mean 1: daily humps, season, weekends, noise."""
    h = np.arange(8760)
    day, hod = h // 24, h % 24
    out = np.empty((k, 8760))
    rng = np.random.default_rng(2018)
    for j in range(k):
        peak = 12 + 2 * j
        daily = 0.5 + 0.5 * np.exp(-((hod - peak) / 3.5) ** 2) + 0.15 * np.exp(-((hod - 8) / 2.0) ** 2)
        seasonal = 1.0 + (0.2 + 0.1 * j) * np.cos(2 * np.pi * (day - 200) / 365)
        weekly = np.where(day % 7 >= 5, 0.7 + 0.1 * j, 1.0)
        s = daily * seasonal * weekly * rng.lognormal(0.0, 0.1, 8760)
        out[j] = s / s.mean()
    return out


def make_loads(n: int, seed: int = 1) -> np.ndarray:
    """(n, 8760) hourly kW: one of 4 shapes per customer times a lognormal size (mean ~300 kW)."""
    rng = np.random.default_rng(seed)
    base = shapes()
    kind = rng.integers(0, len(base), n)
    size = rng.lognormal(np.log(300.0) - 0.5 * 0.6 ** 2, 0.6, n)
    load = np.empty((n, 8760))
    step = 4096
    for i in range(0, n, step):
        j = min(i + step, n)
        np.multiply(base[kind[i:j]], size[i:j, None], out=load[i:j])
    return load


def calendar() -> Calendar:
    return Calendar(dt.date(2018, 1, 1), 365, 24, frozenset(), {})


def drsim_run(compiled, load, cal) -> float:
    t = time.perf_counter()
    acc = bill_loads(compiled, load, cal)
    wall = time.perf_counter() - t
    assert np.isfinite(acc.total).all()
    return wall


def sam_model(rate: dict):
    import PySAM.Utilityrate5 as ur5
    from PySAM.UtilityRateTools import URDBv8_to_ElectricityRates

    m = ur5.new()
    m.Lifetime.analysis_period = 1
    m.Lifetime.system_use_lifetime_output = 0
    m.Lifetime.inflation_rate = 0
    m.Load.load_escalation = [0]
    m.SystemOutput.gen = [0.0] * 8760
    m.SystemOutput.degradation = [0]
    er = m.ElectricityRates
    er.rate_escalation = [0]
    er.ur_monthly_fixed_charge = rate.get("fixedmonthlycharge", 0.0)
    er.ur_monthly_min_charge = 0
    er.ur_annual_min_charge = 0
    er.assign(URDBv8_to_ElectricityRates(copy.deepcopy(rate)))
    er.ur_metering_option = 0
    return m


def sam_run(model, loads: np.ndarray) -> tuple[float, np.ndarray]:
    bills = np.empty(len(loads))
    rows = [row.tolist() for row in loads]  # list conversion is input preparation, not billing
    t = time.perf_counter()
    for i, row in enumerate(rows):
        model.Load.load = row
        model.execute(0)
        bills[i] = sum(model.Outputs.year1_monthly_utility_bill_wo_sys)
    return time.perf_counter() - t, bills


def profile_drsim(compiled, load, cal) -> None:
    """Where bill_loads spends its time: cProfile by function."""
    prof = cProfile.Profile()
    prof.enable()
    bill_loads(compiled, load, cal)
    prof.disable()
    print("\ncProfile of one bill_loads run (top 12 by own time):")
    pstats.Stats(prof).sort_stats("tottime").print_stats(12)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--sam-bills", type=int, default=200)
    p.add_argument("--profile", action="store_true", help="also profile one drsim run")
    args = p.parse_args()

    print(f"machine: {platform.machine()}, {platform.platform()}, python {platform.python_version()}, "
          f"numpy {np.__version__}")
    rate = benchmark_rate()
    cal = calendar()
    t = time.perf_counter()
    tariff = TypeAdapter(Tariff).validate_python(urdb_to_tariff(rate, file=str(FIXTURE)))
    compiled = compile_tariff("sce_tou8_tiered", tariff, cal)
    t_compile = time.perf_counter() - t
    t = time.perf_counter()
    load = make_loads(args.customers)
    t_gen = time.perf_counter() - t
    print(f"tariff: SCE TOU-8 Option B + seasonal energy tiers; {compiled.n_periods} energy periods, "
          f"{compiled.rate.shape[1]} tiers, flat demand, {len(compiled.demand_period_names)} TOU demand periods; "
          f"import + compile {t_compile * 1e3:.0f} ms")
    print(f"loads: {args.customers:,} customers x 8760 h float64 ({load.nbytes / 2**30:.2f} GiB), "
          f"generated in {t_gen:.1f} s (not timed below)")

    walls = [drsim_run(compiled, load, cal) for _ in range(args.repeat)]
    d_wall = statistics.median(walls)
    d_rate = args.customers / d_wall
    print(f"(a) drsim bill_loads: median {d_wall:.2f} s over {args.repeat} runs "
          f"({', '.join(f'{w:.2f}' for w in walls)}) -> {d_rate:,.0f} bills/s")

    try:
        model = sam_model(rate)
    except ImportError:
        print("(b) SAM: PySAM is not installed; skipped")
        return
    m = min(args.sam_bills, args.customers)
    sam_loads = load[:m]
    runs = [sam_run(model, sam_loads) for _ in range(args.repeat)]
    s_wall = statistics.median(w for w, _ in runs)
    s_rate = m / s_wall
    print(f"(b) SAM Utilityrate5: {m} bills, median {s_wall:.2f} s over {args.repeat} runs -> {s_rate:,.0f} bills/s")
    ours = bill_loads(compiled, sam_loads, cal).total.sum(axis=1)
    gap = np.abs(ours - runs[0][1]).max()
    print(f"    same {m} customers billed by both: max |drsim - SAM| annual bill = {gap:.2e} "
          f"(bills {runs[0][1].min():,.0f} .. {runs[0][1].max():,.0f})")
    print(f"ratio drsim / SAM throughput: {d_rate / s_rate:,.0f}x")
    print(f"charges: {', '.join(CHARGES)}")
    if args.profile or d_wall > 5.0 * args.customers / 100_000:
        profile_drsim(compiled, load, cal)


if __name__ == "__main__":
    main()
