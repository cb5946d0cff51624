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


def _each(value, fn):
    return [fn(v) for v in value] if isinstance(value, list) else fn(value)


def _map_prices(d: dict, component: str, fn, money_only: bool = False) -> dict:
    """``d`` (a dumped tariff) with ``fn`` applied to every price of ``component`` (in place).

    The fields are those :func:`scale_tariff` documents; ``money_only`` leaves out the
    real-time ``multiplier``, which is a factor, not an amount of money."""
    if component in ("all", "energy"):
        if "price_per_kwh" in d:
            d["price_per_kwh"] = _each(d["price_per_kwh"], fn)
        for p in d.get("periods", {}).values():
            p["price_per_kwh"] = _each(p["price_per_kwh"], fn)
        if d.get("tiers", {}).get("adders_per_kwh"):
            d["tiers"]["adders_per_kwh"] = _each(d["tiers"]["adders_per_kwh"], fn)
        if d["type"] == "rtp":
            if not money_only:
                d["multiplier"] = fn(d["multiplier"])
            d["adder_per_kwh"] = fn(d["adder_per_kwh"])
        if "price_adder_per_kwh" in d.get("critical_peak", {}):
            d["critical_peak"]["price_adder_per_kwh"] = fn(d["critical_peak"]["price_adder_per_kwh"])
    if component in ("all", "demand") and "demand" in d:
        dem = d["demand"]
        if dem.get("blocks") is not None:
            dem["blocks"]["per_kw_month"] = [_each(r, fn) for r in dem["blocks"]["per_kw_month"]]
        else:
            dem["per_kw_month"] = _each(dem["per_kw_month"], fn)
        for p in (dem.get("tou") or {}).get("periods", {}).values():
            if p.get("blocks") is not None:
                p["blocks"]["per_kw_month"] = [fn(r) for r in p["blocks"]["per_kw_month"]]
            else:
                p["per_kw_month"] = fn(p["per_kw_month"])
    if component in ("all", "capacity") and "capacity" in d:
        d["capacity"]["per_kva_month"] = fn(d["capacity"]["per_kva_month"])
    if component in ("all", "fixed"):
        d["fixed_per_month"] = fn(d["fixed_per_month"])
        d["fixed_per_day"] = fn(d["fixed_per_day"])
    return d


def _dumped(tariff) -> dict:
    return copy.deepcopy(tariff.model_dump(mode="python", exclude_none=True))


def scale_tariff(tariff, component: str, k: float):
    """A copy of a tariff with one component's prices (or all prices) multiplied by ``k``.

    energy: every energy price and tier adder, real-time multiplier and adder, critical-peak
    adder; demand: flat and TOU demand rates; capacity: the per-kVA charge; fixed: fixed
    charges per month and per day.
    """
    if component not in COMPONENTS:
        raise ValueError(f"component must be one of {', '.join(COMPONENTS)}; got {component!r}")
    return TypeAdapter(Tariff).validate_python(_map_prices(_dumped(tariff), component, lambda v: k * v))


def round_to(value: float, step: float) -> float:
    """``value`` rounded to a whole multiple of ``step`` (half to even), as the nearest float
    to the decimal result: 0.7484999003809734 to 0.0001 is 0.7485, not 0.7485000000000001."""
    from decimal import ROUND_HALF_EVEN, Decimal

    unit = Decimal(repr(step))
    return float((Decimal(repr(value)) / unit).to_integral_value(ROUND_HALF_EVEN) * unit)


def round_tariff(tariff, component: str, step: float):
    """A copy of a tariff with the amounts of money that calibrating ``component`` scales
    rounded to ``step`` (the currency unit the tariff is quoted in, e.g. 0.0001); the
    real-time price multiplier is a factor and keeps its digits."""
    return TypeAdapter(Tariff).validate_python(
        _map_prices(_dumped(tariff), component, lambda v: round_to(v, step), money_only=True))


def calibrate(scenario, tariff_name: str, component: str = "energy", *, run, step: float | None = None) -> dict:
    """Find the factor ``k`` on a component of ``tariff_name`` that makes the revenue from
    the segments assigned to it (as their scenario tariff), billed on their baseline load,
    equal to their revenue under their baseline tariffs.

    The baseline load is the scenario's own (no price response: elasticities set to 0),
    simulated by ``run`` (``sim.run``: the caller passes it, so that the tariff layer does
    not import the simulation).
    Revenue is monotone in ``k``; the root is found with Brent's method to a relative
    tolerance of 1e-12. With ``step``, the calibrated prices are then rounded to it
    (:func:`round_tariff`) and ``revenue_after`` is the rounded tariff's (one more run).

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

    def revenue_of(tariff) -> tuple[float, float]:
        sc = scenario.model_copy(update={"populations": frozen, "tariffs": {**scenario.tariffs, tariff_name: tariff}})
        m = run(sc).metrics
        return m["baseline"]["revenue"], m["scenario"]["revenue"]

    def revenue(k: float) -> tuple[float, float]:
        return revenue_of(scale_tariff(original, component, k))

    target, before = revenue(1.0)
    if before == target:
        tariff = original if step is None else round_tariff(original, component, step)
        return {"factor": 1.0, "baseline_revenue": target, "revenue_before": before, "tariff": tariff,
                "revenue_after": before if tariff == original else revenue_of(tariff)[1]}
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
    tariff = scale_tariff(original, component, k)
    if step is not None:
        tariff = round_tariff(tariff, component, step)
    return {"factor": k, "baseline_revenue": target, "revenue_before": before,
            "revenue_after": revenue_of(tariff)[1], "tariff": tariff}


def scaled_locations(tariff, component: str) -> list[tuple]:
    """The locations (keys and list indices) of the tariff's numbers that calibrating
    ``component`` can change: the prices :func:`scale_tariff` scales that are not zero."""
    from ..scenario.dump import changed_numbers

    return list(changed_numbers(_dumped(tariff), _dumped(scale_tariff(tariff, component, 2.0))))
