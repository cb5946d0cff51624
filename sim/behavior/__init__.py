"""Price response models. They see prices and loads, never tariff objects."""

from .elasticity import constant_elasticity, price_ratio

__all__ = ["constant_elasticity", "price_ratio"]
