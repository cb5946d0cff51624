"""Supply side: the cost of energy and of capacity."""

from .cost import energy_cost_series, marginal_cost, role_energy_cost

__all__ = ["energy_cost_series", "marginal_cost", "role_energy_cost"]
