"""Calibrated default behaviour per customer class (``behavior: default`` in a scenario).

Residential: the PRISM demand system (elasticity of substitution between peak and
off-peak energy, daily price elasticity), with its substitution elasticity fitted so that
the default segment reproduces the "arc of price responsiveness" of Faruqui and Sergici
(2017, Arcturus 2.0, The Electricity Journal 30(10)) at peak / off-peak price ratios 2-6:
see scripts/calibration.py and docs/calibration.md. The fitted value lies in the range the
California Statewide Pricing Pilot reported for the elasticity of substitution (about -0.09
to -0.10, as quoted in ../shared/DOMAIN.md); the daily price elasticity is the pilot's
(about -0.02, as quoted there). Enabling technology multiplies the response by the ratio of
the arc's slopes with and without technology, refitted the same way.

Commercial and industrial customers respond less to TOU energy prices and more to demand
and capacity charges (../shared/DOMAIN.md, "How customers respond"). Their defaults are
assumptions scaled from the residential response, not fits to a published study: a third
(commercial) and a quarter (industrial) of the residential substitution elasticity, no
daily elasticity, and demand shaving of their monthly peak by 5 % (commercial) and 8 %
(industrial) when a demand charge applies. docs/calibration.md says so next to the
residential evidence.
"""

from __future__ import annotations

#: Residential substitution elasticity fitted by ``scripts/calibration.py --fit``.
RESIDENTIAL_SUBSTITUTION = -0.103

DEFAULTS = {
    "residential": {
        "prism": {"substitution": RESIDENTIAL_SUBSTITUTION, "daily": -0.02},
        "technology_multiplier": 1.63,
    },
    "commercial": {
        "prism": {"substitution": RESIDENTIAL_SUBSTITUTION / 3, "daily": 0.0},
        "demand_shaving": {"reduction": 0.05, "max_shift_share": 0.3},
        "technology_multiplier": 1.63,
    },
    "industrial": {
        "prism": {"substitution": RESIDENTIAL_SUBSTITUTION / 4, "daily": 0.0},
        "demand_shaving": {"reduction": 0.08, "max_shift_share": 0.3},
        "technology_multiplier": 1.63,
    },
}


def default_behavior(customer_class: str) -> list[dict]:
    """The response models of a class's default behaviour, as scenario data.

    Heterogeneity: each customer's substitution elasticity is drawn from a normal
    distribution with a 30 % coefficient of variation, truncated to [2 x mean, 0].
    """
    if customer_class not in DEFAULTS:
        raise ValueError(f"no default behaviour for class {customer_class!r}; valid: {', '.join(DEFAULTS)}")
    d = DEFAULTS[customer_class]
    sub = d["prism"]["substitution"]
    models = [{"model": "prism", "substitution": {"dist": "normal", "mean": sub, "sd": abs(sub) * 0.3,
                                                  "min": 2 * sub, "max": 0.0},
               "daily": d["prism"]["daily"]}]
    if "demand_shaving" in d:
        models.append({"model": "demand_shaving", **d["demand_shaving"]})
    return models
