"""The temperature-dependent part of the built-in load profiles: a degree-hour model per
customer class, added to the profile's shape when a scenario names its weather.

In each step, per kW of a customer's mean load (docs/profiles.md, "Temperature-dependent
load")::

    cooling(t) = c_cool * max(T(t) - T_cool, 0)        heating(t) = c_heat * max(T_heat - T(t), 0)

Residential cooling is fitted to the California Statewide Pricing Pilot's normal-weekday
peak loads by temperature (Herter et al., LBNL; the derivation is in
:data:`CLASS_THERMAL`'s notes). Heating and non-residential cooling are 0: the built-in
profiles' seasons are measured loads that already hold their heating, and no source for a
commercial or industrial cooling slope was read. Without weather nothing is added: the
loads are exactly the profiles'.

References
----------
.. [1] K. Herter (Lawrence Berkeley National Laboratory) et al., "Observed temperature
   effects on hourly residential electric load reduction in response to an experimental
   critical peak pricing tariff", journal article; its abstract read at
   https://energy.lbl.gov/publications/observed-temperature-effects-hourly (the co-authors,
   journal and year were not read).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CLASS_THERMAL", "ThermalCoefficients", "heating_degrees", "thermal_parts"]


@dataclass(frozen=True)
class ThermalCoefficients:
    """A class's degree-hour model.

    Attributes
    ----------
    cool_per_degc : float
        Cooling load per kW of mean load per degree above ``cool_base_c``. [1/degC]
    cool_base_c : float
        Balance temperature of cooling. [degC]
    heat_per_degc : float
        Heating load per kW of mean load per degree below ``heat_base_c``. [1/degC]
    heat_base_c : float
        Balance temperature of heating. [degC]
    """

    cool_per_degc: float
    cool_base_c: float
    heat_per_degc: float = 0.0
    heat_base_c: float = 15.0


#: The degree-hour model of each class.
#:
#: Residential: Herter et al. (LBNL) report the SPP's critical-peak response by
#: temperature bin as kW and per cent of the normal-weekday peak-period (14:00-19:00) load;
#: the load is their quotient: 0.23 kW / 13 % = 1.77 kW in hot weather (95-104.9 F, midpoint
#: 37.8 C), 0.03 / 4 % = 0.75 kW in mild weather (60-94.9 F, midpoint 25.3 C) and
#: 0.07 / 9 % = 0.78 kW in cold weather (50-59.9 F). The mild and cold loads being equal puts
#: the balance temperature at the mild midpoint, rounded: 25 C; the slope is
#: (1.77 - 0.78) / (37.8 - 25) = 0.077 kW/C on an afternoon load of 0.78 kW without cooling.
#: The built-in residential shape's summer weekday 14:00-19:00 mean is 1.00 x the mean load,
#: so per kW of mean load: 0.077 / 0.78 = 0.10 per degree. Bin midpoints stand in for the bins'
#: mean temperatures, which the abstract does not give.
CLASS_THERMAL = {
    "residential": ThermalCoefficients(cool_per_degc=0.10, cool_base_c=25.0),
    "commercial": ThermalCoefficients(cool_per_degc=0.0, cool_base_c=25.0),
    "industrial": ThermalCoefficients(cool_per_degc=0.0, cool_base_c=25.0),
}


def heating_degrees(temp_c: np.ndarray, base_c: float) -> np.ndarray:
    """Degrees below the heating balance temperature in each step, ``max(base_c - T, 0)``
    (shaped as ``temp_c``); times a slope per degree, the heating part of the degree-hour
    model. [K]"""
    return np.maximum(base_c - temp_c, 0.0)


def thermal_parts(customer_class: str, temp_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cooling and heating load in each step per kW of mean load, each shaped as
    ``temp_c`` (days, steps_per_day). [kW/kW]"""
    if customer_class not in CLASS_THERMAL:
        raise ValueError(f"no degree-hour model for class {customer_class!r}; valid: {', '.join(CLASS_THERMAL)}")
    c = CLASS_THERMAL[customer_class]
    cooling = c.cool_per_degc * np.maximum(temp_c - c.cool_base_c, 0.0)  # no cooling below the balance point
    heating = c.heat_per_degc * heating_degrees(temp_c, c.heat_base_c)
    return cooling, heating
