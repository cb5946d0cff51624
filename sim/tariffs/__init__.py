"""Rate designs compiled to per-step arrays, and vectorized billing."""

from .billing import CHARGES, BillAccumulator, BillSet, DayContext, bill_loads
from .day import TariffDay, listed_day
from .compile import CompiledTariff, compile_tariff

__all__ = ["CHARGES", "BillAccumulator", "BillSet", "DayContext", "bill_loads", "CompiledTariff", "TariffDay", "compile_tariff",
           "listed_day"]
