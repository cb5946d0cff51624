"""The constant-elasticity model as the pipeline runs it: each step's load scales as
(scenario price / baseline price) ** e, with each customer's consumer-surplus change
computed in the same pass (equations in :mod:`sim.behavior.elasticity` and
:mod:`sim.behavior.welfare`).

It is the run's cheapest model and stays so on its own: where the customers' prices take
few distinct rows (tiers, menus) it works once per row pair (:class:`~sim.rowmath.RowGroups`)
and, in a committed pass, the response and the surplus come from one compiled kernel.
"""

from __future__ import annotations

import numpy as np

from ..rowmath import RowGroups
from .elasticity import constant_elasticity, constant_elasticity_rows, price_ratio
from .registry import CustomerParams, ResponseDay, ResponseModel, register
from .welfare import respond_with_surplus

__all__ = ["ConstantElasticityModel", "elasticity_response"]


def elasticity_response(load: np.ndarray, price_base: np.ndarray, price_scen: np.ndarray, elasticity: np.ndarray,
                        step_hours: float, pair: RowGroups | None, stats: dict | None, idx) -> np.ndarray:
    """Load after the constant-elasticity response of a block of customers (``pair``: their
    groups of equal baseline and scenario price rows, if known); with ``stats``, each
    customer's consumer surplus change is added to ``stats["consumer_surplus"][idx]``,
    computed in the same pass (:func:`sim.behavior.welfare.respond_with_surplus`)."""
    if stats is not None:
        load, surplus = respond_with_surplus(load, price_base, price_scen, elasticity, step_hours, groups=pair)
        stats["consumer_surplus"][idx] += surplus
        return load
    if pair is None:
        return constant_elasticity(load, price_ratio(price_base, price_scen), elasticity)
    ratio_rows = price_ratio(pair.rows(price_base), pair.rows(price_scen))
    return constant_elasticity_rows(load, ratio_rows, pair.inverse, elasticity)


@register
class ConstantElasticityModel(ResponseModel):
    """``model: constant_elasticity``: the scenario role's response to its prices relative
    to the baseline's, elasticity x the day's strength; defines the consumer-surplus term."""

    name = "constant_elasticity"
    params = ("elasticity",)
    stage = 10
    early_draw = True

    def respond(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        g = day.groups
        return elasticity_response(load, g.base_price, g.own_price, params.elasticity[day.idx] * day.strength,
                                   day.step_hours, g.pair(), day.stats, day.idx)
