"""Price response models. They see prices and loads, never tariff objects."""

from . import models  # noqa: F401  (registers the built-in response models)
from .elasticity import constant_elasticity, price_ratio
from .interruptible import curtail

__all__ = ["constant_elasticity", "curtail", "price_ratio"]
