"""The prosumer figures of a run: gross and net load, PV self-consumption and exports, the
"duck curve" (minimum net load at midday, the evening ramp), the shares of end uses at the
system peak, and the cost shift between customers with and without PV.

Reads :class:`sim.outcome.RunResult` arrays only (the per-customer and per-block sums that
rooftop PV keeps, :mod:`sim.behavior.pv`); :mod:`sim.metrics` registers the figures.
docs/metrics.md ("Rooftop PV and prosumers") gives every key and its source.

Net load is what the main meters read (negative: an export); gross load = net load + PV
generation (what the customers consumed, EV charging and storage included).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["END_USES", "cost_shift", "duck_figures", "end_use", "gross_net_figures", "has_pv", "pv_kw",
           "self_consumption"]

#: The window of the day in which the midday minimum of the net load is taken. [h]
MIDDAY_HOURS = (10.0, 16.0)
#: The span of the evening ramp: the largest rise of the net load over this many hours. [h]
RAMP_HOURS = 3.0


def has_pv(seg) -> bool:
    """Whether segment outcome ``seg`` has a PV model with at least one system."""
    return "pv_kwp" in seg.stats and bool((seg.stats["pv_kwp"] > 0).any())


def pv_kw(seg) -> np.ndarray | None:
    """The segment's PV generation in each step (its stream blocks' sums added in block order:
    the same bits however the run was sharded), or None without PV. [kW]"""
    if not has_pv(seg):
        return None
    return seg.stats["pv_block_kw"].sum(axis=0)


def system_pv_kw(result) -> np.ndarray | None:
    """Every segment's PV generation added in segment order, or None without PV. [kW]"""
    parts = [p for p in (pv_kw(s) for s in result.segments.values()) if p is not None]
    if not parts:
        return None
    out = parts[0].copy()
    for p in parts[1:]:
        out += p
    return out


def gross_net_figures(net_kw: np.ndarray, pv: np.ndarray, step_hours: float) -> dict:
    """Peak, minimum and energy of the gross load (``net + pv``) and of the net load. [kW, kWh]"""
    gross = net_kw + pv
    return {"gross_peak_kw": float(gross.max()), "gross_min_kw": float(gross.min()),
            "gross_energy_kwh": float(gross.sum() * step_hours),
            "net_peak_kw": float(net_kw.max()), "net_min_kw": float(net_kw.min()),
            "net_energy_kwh": float(net_kw.sum() * step_hours),
            "pv_generation_kwh": float(pv.sum() * step_hours), "pv_peak_kw": float(pv.max())}


def self_consumption(seg, role: str) -> dict:
    """Generation, exports and the energy consumed on site by the segment's PV customers over
    the horizon: ``exported = sum_t max(-net_i(t), 0) h`` (read from the final main-meter
    loads), ``self_consumed = generated - exported``; their share of the generation. [kWh]"""
    st = seg.stats
    gen = float(st["pv_kwh"].sum())
    exp = float(st[f"pv_export_kwh_{role}"].sum())
    return {"pv_customers": int((st["pv_kwp"] > 0).sum()), "pv_kwp": float(st["pv_kwp"].sum()),
            "pv_exported_kwh": exp, "pv_self_consumed_kwh": gen - exp,
            "pv_self_consumption_share": (gen - exp) / gen if gen > 0 else 0.0}


def duck_figures(net_kw: np.ndarray, steps_per_day: int, step_hours: float, prefix: str = "net") -> dict:
    """The duck curve of a load series: the largest rise over :data:`RAMP_HOURS` (across the
    horizon [kW], the hour of the day it starts [h], and the mean over days of each day's
    largest rise within the day [kW]), and the minimum in the :data:`MIDDAY_HOURS` window
    (the lowest over the horizon and the mean of the days' minima) [kW]."""
    k = max(int(round(RAMP_HOURS / step_hours)), 1)
    rises = net_kw[k:] - net_kw[:-k]
    t = int(rises.argmax()) if rises.size else 0
    daily = net_kw.reshape(-1, steps_per_day)
    day_rises = daily[:, k:] - daily[:, :-k]
    lo, hi = (int(round(h / step_hours)) for h in MIDDAY_HOURS)
    midday = daily[:, lo:hi].min(axis=1)
    return {f"{prefix}_ramp_3h_kw": float(rises[t]) if rises.size else 0.0,
            f"{prefix}_ramp_3h_start_hour": float((t % steps_per_day) * step_hours),
            f"{prefix}_ramp_3h_daily_mean_kw": float(day_rises.max(axis=1).mean()) if day_rises.size else 0.0,
            f"{prefix}_midday_min_kw": float(midday.min()),
            f"{prefix}_midday_min_daily_mean_kw": float(midday.mean())}


# ------------------------------------------------------------------- end uses at the peak

#: End uses whose load a run keeps per step: name -> function (segment outcome, role) -> the
#: segment's load of that end use per step [kW], or None where it has none. One registration
#: (:func:`end_use`) adds ``<name>_kw_at_system_peak`` and ``<name>_share_of_system_peak``.
END_USES: dict[str, Callable] = {}


def end_use(name: str):
    """Register an end use's per-step load (a decorator; see :data:`END_USES`)."""
    def add(fn: Callable) -> Callable:
        if name in END_USES:
            raise ValueError(f"an end use named {name!r} is already registered")
        END_USES[name] = fn
        return fn
    return add


@end_use("ev")
def _ev_kw(seg, role: str) -> np.ndarray | None:
    """Home EV charging (``model: ev``), its stream blocks' sums added in block order."""
    blocks = seg.stats.get(f"ev_block_kw_{role}")
    return None if blocks is None else blocks.sum(axis=0)


@end_use("heat")
def _heat_kw(seg, role: str) -> np.ndarray | None:
    """Electric space heating (``model: electric_heat``), its stream blocks' sums added in block order."""
    blocks = seg.stats.get(f"heat_block_kw_{role}")
    return None if blocks is None else blocks.sum(axis=0)


def peak_shares(result, role: str) -> dict:
    """Each registered end use's load at the role's system peak, summed over the segments in
    order [kW], and its share of the system peak [-]; nothing for an end use no segment has."""
    system = result.system_load_kw[role]
    t = int(system.argmax())
    out = {}
    for name, fn in END_USES.items():
        parts = [p for p in (fn(s, role) for s in result.segments.values()) if p is not None]
        if not parts:
            continue
        at = float(sum(float(p[t]) for p in parts))
        out[f"{name}_kw_at_system_peak"] = at
        out[f"{name}_share_of_system_peak"] = at / float(system[t]) if system[t] > 0 else 0.0
    return out


# ------------------------------------------------------------------------------ cost shift

def cost_shift(seg, role: str, bill: np.ndarray, avoided_cost: float) -> dict:
    """The cost shift between the segment's customers with and without PV in one role.

    ``bill``: each customer's bill [currency]; ``avoided_cost``: the utility's cost of serving
    the segment's gross load less that of its net load [currency]. A PV customer's bill
    without PV, ``W_i`` (``pv_gross_bill_<role>``), is its gross load (final main-meter load
    plus generation) billed on the tariff it is on in the role, the whole tariff applied
    (export section, minimum bill, demand charges, tiers). Revenue lost = ``sum_{PV} (W_i -
    B_i)``, the PV customers' bill savings; the cost shift = revenue lost - avoided cost (E3
    2013 for the CPUC; Borenstein), the part of the utility's cost no longer recovered from PV
    customers, recovered from every customer by a uniform per-kWh adder on metered energy:
    its part on customers without PV is ``shift x E_nonpv / E_metered``. [currency, kWh,
    currency/kWh]"""
    st = seg.stats
    pv = st["pv_kwp"] > 0
    without = st[f"pv_gross_bill_{role}"]
    kwh = seg.bills[role].kwh
    gross_kwh = kwh + st["pv_kwh"]
    lost = float((without[pv] - bill[pv]).sum())
    shift = lost - avoided_cost
    n_pv, n_non = int(pv.sum()), int((~pv).sum())
    metered = float(kwh.sum())
    non_kwh = float(kwh[~pv].sum())
    on_non = shift * non_kwh / metered if metered > 0 else 0.0

    def per(a: float, b: float) -> float:
        return a / b if b else 0.0

    return {
        "pv_customers": n_pv, "non_pv_customers": n_non,
        "pv_bill_mean": per(float(bill[pv].sum()), n_pv),
        "pv_bill_mean_without_pv": per(float(without[pv].sum()), n_pv),
        "pv_bill_per_gross_kwh": per(float(bill[pv].sum()), float(gross_kwh[pv].sum())),
        "pv_bill_per_gross_kwh_without_pv": per(float(without[pv].sum()), float(gross_kwh[pv].sum())),
        "non_pv_bill_mean": per(float(bill[~pv].sum()), n_non),
        "non_pv_bill_per_kwh": per(float(bill[~pv].sum()), non_kwh),
        "revenue_lost": lost, "avoided_cost": avoided_cost, "cost_shift": shift,
        "cost_shift_per_metered_kwh": per(shift, metered),
        "cost_shift_to_non_pv": on_non, "cost_shift_per_non_pv_customer": per(on_non, n_non),
    }
