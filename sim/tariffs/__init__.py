"""Rate designs compiled to per-step arrays, and vectorized billing."""

from .billing import BillAccumulator, CHARGES
from .compile import CompiledTariff, compile_tariff

__all__ = ["CHARGES", "BillAccumulator", "CompiledTariff", "compile_tariff"]
