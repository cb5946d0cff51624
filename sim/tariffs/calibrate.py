"""Revenue-neutral calibration: scale a tariff's prices so that, on the baseline load, it
raises the same revenue as the baseline tariff (the usual first step of TOU design)."""

from __future__ import annotations

import copy

from pydantic import TypeAdapter
from scipy.optimize import brentq

from ..errors import InputError, Problem
from ..scenario.behavior import ConstantElasticity, Participation
from ..scenario.tariff import Tariff

#: What `component` may name, and the price fields each scales.
COMPONENTS = ("all", "energy", "demand", "capacity", "fixed")


def _scale_prices(value, k):
    return [k * v for v in value] if isinstance(value, list) else k * value


def scale_tariff(tariff, component: str, k: float):
    """A copy of a tariff with one component's prices (or all prices) multiplied by ``k``.

    energy: every energy price and tier adder, real-time multiplier and adder, critical-peak
    adder; demand: flat and TOU demand rates; capacity: the per-kVA charge; fixed: fixed
    charges per month and per day.
    """
    if component not in COMPONENTS:
        raise ValueError(f"component must be one of {', '.join(COMPONENTS)}; got {component!r}")
    d = copy.deepcopy(tariff.model_dump(mode="python", exclude_none=True))
    if component in ("all", "energy"):
        if "price_per_kwh" in d:
            d["price_per_kwh"] = _scale_prices(d["price_per_kwh"], k)
        for p in d.get("periods", {}).values():
            p["price_per_kwh"] = _scale_prices(p["price_per_kwh"], k)
        if d.get("tiers", {}).get("adders_per_kwh"):
            d["tiers"]["adders_per_kwh"] = _scale_prices(d["tiers"]["adders_per_kwh"], k)
        if d["type"] == "rtp":
            d["multiplier"] *= k
            d["adder_per_kwh"] *= k
        if "price_adder_per_kwh" in d.get("critical_peak", {}):
            d["critical_peak"]["price_adder_per_kwh"] *= k
    if component in ("all", "demand") and "demand" in d:
        d["demand"]["per_kw_month"] = _scale_prices(d["demand"]["per_kw_month"], k)
        for p in d["demand"].get("tou", {}).get("periods", {}).values():
            p["per_kw_month"] *= k
    if component in ("all", "capacity") and "capacity" in d:
        d["capacity"]["per_kva_month"] *= k
    if component in ("all", "fixed"):
        d["fixed_per_month"] *= k
        d["fixed_per_day"] *= k
    return TypeAdapter(Tariff).validate_python(d)


def calibrate(scenario, tariff_name: str, component: str = "energy", *, run) -> dict:
    """Find the factor ``k`` on a component of ``tariff_name`` that makes the revenue from
    the segments assigned to it (as their scenario tariff), billed on their baseline load,
    equal to their revenue under their baseline tariffs.

    The baseline load is the scenario's own (no price response: elasticities set to 0),
    simulated by ``run`` (``sim.run``: the caller passes it, so that the tariff layer does
    not import the simulation).
    Revenue is monotone in ``k``; the root is found with Brent's method to a relative
    tolerance of 1e-12.

    Returns
    -------
    dict with ``factor``, ``baseline_revenue``, ``revenue_before``, ``revenue_after``
    and ``tariff`` (the calibrated tariff model).
    """
    menus = [s.name for s in scenario.populations
             if isinstance(s.tariff.scenario, list) and tariff_name in [o.tariff for o in s.tariff.scenario]]
    if menus:
        raise InputError(Problem("--tariff", None, "", f"{tariff_name!r} is offered in a menu (segments "
                                                       f"{', '.join(menus)}); calibration takes a tariff that is "
                                                       "every customer's scenario tariff"))
    segs = [s for s in scenario.populations if s.tariff.scenario == tariff_name]
    if not segs:
        raise InputError(Problem("--tariff", None, "", f"no segment has {tariff_name!r} as its scenario tariff"))
    if component not in COMPONENTS:
        raise InputError(Problem("--component", None, "", f"must be one of {', '.join(COMPONENTS)}; got {component!r}"))
    original = scenario.tariffs[tariff_name]
    # the baseline load itself: no price response at all
    frozen = [s.model_copy(update={"behavior": ConstantElasticity(model="constant_elasticity", elasticity=0.0),
                                   "participation": Participation()}) for s in segs]

    def revenue(k: float) -> tuple[float, float]:
        tariffs = dict(scenario.tariffs)
        tariffs[tariff_name] = scale_tariff(original, component, k)
        sc = scenario.model_copy(update={"populations": frozen, "tariffs": tariffs})
        m = run(sc).metrics
        return m["baseline"]["revenue"], m["scenario"]["revenue"]

    target, before = revenue(1.0)
    if before == target:
        return {"factor": 1.0, "baseline_revenue": target, "revenue_before": before, "revenue_after": before,
                "tariff": original}
    at_zero = revenue(0.0)[1]
    if at_zero > target:
        raise InputError(Problem("--component", None, "", f"the rest of the tariff alone raises {at_zero:,.2f}, more "
                                                         f"than the baseline's {target:,.2f}: no factor on "
                                                         f"{component!r} can match it"))
    hi = 2.0
    while revenue(hi)[1] < target:
        hi *= 2
        if hi > 1e6:
            raise InputError(Problem("--component", None, "", f"the {component!r} prices raise no revenue to scale"))
    k = brentq(lambda x: revenue(x)[1] - target, 0.0, hi, rtol=1e-12, xtol=1e-14)
    return {"factor": k, "baseline_revenue": target, "revenue_before": before,
            "revenue_after": revenue(k)[1], "tariff": scale_tariff(original, component, k)}
