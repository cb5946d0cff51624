"""The built-in behaviour models: importing this module registers them (each in its own
module, with :func:`sim.behavior.registry.register`). A new built-in model adds its module
here."""

from . import battery, ces, control, ev, events, flexible, heat, matrix, own_price, prism, pv, shaving, storage  # noqa: F401

__all__: list[str] = []
