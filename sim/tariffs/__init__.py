"""Rate designs compiled to per-step arrays, and vectorized billing."""

from .billing import CHARGES, BillAccumulator, BillSet, DayContext, bill_loads
from .compile import CompiledTariff, compile_tariff

__all__ = ["CHARGES", "BillAccumulator", "BillSet", "DayContext", "bill_loads", "CompiledTariff", "compile_tariff"]
