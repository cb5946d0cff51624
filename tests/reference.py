"""An independent bill calculator: plain Python loops over hours and months, read straight
from the tariff text. Slow and simple on purpose; the tests compare drsim's vectorized
billing with it."""

from __future__ import annotations

import datetime as dt


def period_at(tariff: dict, ts: dt.datetime, holidays: set, key: str = "hours") -> str:
    """The TOU period of a moment, from a schedule written as in the YAML."""
    seasons = tariff.get("seasons", {"all_year": {"months": list(range(1, 13))}})
    season = next(n for n, s in seasons.items() if ts.month in s["months"])
    day = "holiday" if ts.date() in holidays else ("weekend" if ts.weekday() >= 5 else "weekday")

    def rules(day_type):
        return [r for r in tariff["schedule"]
                if (r.get("seasons", "all") == "all" or season in r["seasons"]) and day_type in r["day_types"]]

    found = rules(day) or rules(tariff.get("holidays_as", "weekend"))
    minute = ts.hour * 60 + ts.minute
    for period, ranges in found[0][key].items():
        for text in ranges:
            a, b = (int(x.split(":")[0]) * 60 + (int(x.split(":")[1]) if ":" in x else 0) for x in text.split("-"))
            if (a < b and a <= minute < b) or (a >= b and (minute >= a or minute < b)):
                return period
    raise AssertionError(f"no period at {ts}")


def tiered_cost(kwh: float, bounds: list, prices: list) -> float:
    """Cost of kwh through blocks: prices[k] between bounds[k-1] and bounds[k]."""
    cost, lower = 0.0, 0.0
    for k, price in enumerate(prices):
        upper = bounds[k] if k < len(bounds) else float("inf")
        cost += price * max(0.0, min(kwh, upper) - lower)
        lower = upper
    return cost


def reference_bills(tariff: dict, stamps: list, kw: list, step_h: float, holidays=frozenset()) -> dict:
    """Monthly bills {(year, month): {charge: amount}} of one meter, monthly tiers only,
    every month taken whole (full-month horizons)."""
    months: dict = {}
    for ts, p in zip(stamps, kw):
        months.setdefault((ts.year, ts.month), []).append((ts, p))
    out, history = {}, []
    ttype = tariff["type"]
    for key, steps in months.items():
        c = dict.fromkeys(["energy", "critical_peak", "demand_flat", "demand_tou", "fixed", "volume_rebate",
                           "load_factor", "minimum", "tax"], 0.0)
        by_period: dict = {}
        for ts, p in steps:
            name = period_at(tariff, ts, holidays) if ttype == "tou" else "all"
            by_period[name] = by_period.get(name, 0.0) + p * step_h
        total = sum(by_period.values())
        tiers = tariff.get("tiers")
        n_tiers = len(tiers["bounds_kwh"]) + 1 if tiers else 1

        def prices_of(name):
            raw = tariff["price_per_kwh"] if ttype == "flat" else tariff["periods"][name]["price_per_kwh"]
            prices = raw if isinstance(raw, list) else [raw] * n_tiers
            adders = (tiers or {}).get("adders_per_kwh") or [0.0] * n_tiers
            return [a + b for a, b in zip(prices, adders)]

        if tiers:
            for name, e in by_period.items():
                # this period's share of every tier, pro rata to its energy
                c["energy"] += tiered_cost(total, tiers["bounds_kwh"], prices_of(name)) * (e / total if total else 0)
        else:
            c["energy"] = sum(prices_of(name)[0] * e for name, e in by_period.items())
        cp = tariff.get("critical_peak")
        if cp:
            for ts, p in steps:
                for ev in cp["events"]:
                    a, b = ev["hours"].split("-")
                    start = dt.datetime.combine(ev["date"], dt.time(int(a[:2]), int(a[3:5])))
                    end = dt.datetime.combine(ev["date"], dt.time(0)) + dt.timedelta(hours=int(b[:2]), minutes=int(b[3:5]))
                    if start <= ts < end:
                        c["critical_peak"] += cp["price_adder_per_kwh"] * p * step_h
        peak = max(p for _, p in steps)
        demand = tariff.get("demand")
        if demand:
            rate = demand.get("per_kw_month", 0.0)
            rate = rate[key[1] - 1] if isinstance(rate, list) else rate
            billed = peak
            if demand.get("ratchet"):
                r = demand["ratchet"]
                earlier = history[-r["months"]:]
                billed = max([peak] + [r["share"] * x for x in earlier])
            c["demand_flat"] = rate * billed if not demand.get("blocks") else _blocks(demand["blocks"], billed, key[1])
            if demand.get("tou"):
                tou = demand["tou"]
                for name, spec in tou["periods"].items():
                    inside = [p for ts, p in steps if period_at(tou, ts, holidays) == name]
                    top = max(inside) if inside else 0.0
                    c["demand_tou"] += _blocks(spec["blocks"], top, key[1]) if spec.get("blocks") else \
                        spec["per_kw_month"] * top
        history.append(peak)
        days = len({ts.date() for ts, _ in steps})
        c["fixed"] = tariff.get("fixed_per_month", 0.0) + tariff.get("fixed_per_day", 0.0) * days
        vr = tariff.get("volume_rebate")
        if vr:
            c["volume_rebate"] = -vr["share"] * vr["cost_saving_per_kwh"] * max(0.0, total - vr["threshold_kwh"])
        for band in tariff.get("load_factor") or []:
            lf = total / (peak * days * 24) if peak > 0 else 0.0
            if band.get("min", 0.0) <= lf < band.get("max", 1.0) or (lf >= 1.0 and band.get("max", 1.0) >= 1.0):
                c["load_factor"] = band["adder_per_kwh"] * total
        subtotal = sum(c.values())
        c["minimum"] = max(0.0, tariff.get("minimum_per_month", 0.0) - subtotal)
        c["tax"] = tariff.get("tax_pct", 0.0) / 100 * (subtotal + c["minimum"])
        out[key] = c
    return out


def _blocks(blocks: dict, kw: float, month: int) -> float:
    """Demand ``kw`` billed in blocks, walking up the blocks one by one (as a rate sheet reads)."""
    total, lower = 0.0, 0.0
    uppers = list(blocks["bounds_kw"]) + [float("inf")]
    for upper, rate in zip(uppers, blocks["per_kw_month"]):
        rate = rate[month - 1] if isinstance(rate, list) else rate
        if kw <= lower:
            break
        total += rate * (min(kw, upper) - lower)
        lower = upper
    return total
