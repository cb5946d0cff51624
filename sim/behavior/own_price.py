"""The constant-elasticity model as the pipeline runs it: each step's load scales as
(scenario price / baseline price) ** e, with each customer's change of gross utility of
consumption (the integral of inverse demand) computed in the same pass (equations in
:mod:`sim.behavior.elasticity` and :mod:`sim.behavior.welfare`).

It is the run's cheapest model and stays so on its own: where the customers' prices take
few distinct rows (tiers, menus) it works once per row pair (:class:`~sim.rowmath.RowGroups`)
and, in a committed pass, the response and the surplus come from one compiled kernel.
"""

from __future__ import annotations

import numpy as np

from ..rowmath import RowGroups
from .elasticity import constant_elasticity, constant_elasticity_rows, price_ratio
from .registry import CustomerParams, ResponseDay, ResponseModel, register
from .welfare import respond_with_utility, utility_change_from_response

__all__ = ["ConstantElasticityModel", "elasticity_response"]


def elasticity_response(load: np.ndarray, price_base: np.ndarray, price_scen: np.ndarray, elasticity: np.ndarray,
                        pair: RowGroups | None) -> np.ndarray:
    """Load after the constant-elasticity response of a block of customers (``pair``: their
    groups of equal baseline and scenario price rows, if known)."""
    if pair is None:
        return constant_elasticity(load, price_ratio(price_base, price_scen), elasticity)
    ratio_rows = price_ratio(pair.rows(price_base), pair.rows(price_scen))
    return constant_elasticity_rows(load, ratio_rows, pair.inverse, elasticity)


@register
class ConstantElasticityModel(ResponseModel):
    """``model: constant_elasticity``: the scenario role's response to its prices relative
    to the baseline's, elasticity x the day's strength; its utility term is the integral of
    inverse demand."""

    name = "constant_elasticity"
    params = ("elasticity",)
    stage = 10
    early_draw = True

    def respond(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        g = day.groups
        return elasticity_response(load, g.base_price, g.own_price, params.elasticity[day.idx] * day.strength,
                                   g.pair())

    def utility(self, before: np.ndarray, after: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        """The integral of inverse demand from the load before to the load after
        (:func:`sim.behavior.welfare.utility_change_from_response`)."""
        g = day.groups
        return utility_change_from_response(before, after, g.base_price, g.own_price,
                                            params.elasticity[day.idx] * day.strength, day.step_hours,
                                            groups=g.pair())

    def respond_with_utility(self, load: np.ndarray, day: ResponseDay, params: CustomerParams):
        """The response and its utility change in one compiled pass
        (:func:`sim.behavior.welfare.respond_with_utility`): the same numbers as
        :meth:`respond` and :meth:`utility`."""
        g = day.groups
        return respond_with_utility(load, g.base_price, g.own_price, params.elasticity[day.idx] * day.strength,
                                    day.step_hours, groups=g.pair())
