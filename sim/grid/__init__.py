"""Supply side: the cost of energy and of capacity."""

from .cost import energy_cost_series

__all__ = ["energy_cost_series"]
