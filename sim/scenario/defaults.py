"""Calibrated default behaviour per customer class (``behavior: default`` in a scenario).

Residential: the PRISM demand system (elasticity of substitution between peak and
off-peak energy, daily price elasticity), with its substitution elasticity fitted so that
the default segment reproduces the "arc of price responsiveness" of Faruqui and Sergici
(2017, Arcturus 2.0, The Electricity Journal 30(10)) at peak / off-peak price ratios 2-6:
see scripts/calibration.py and docs/calibration.md. The fitted value lies in the range the
California Statewide Pricing Pilot reported for the elasticity of substitution (about -0.09
to -0.10: Charles River Associates 2005, "Impact Evaluation of the California Statewide
Pricing Pilot"; Faruqui and George 2005; at second hand, see docs/behavior.md section 10);
the daily price elasticity is the pilot's (about -0.02, same sources). Enabling technology multiplies the response by the ratio of
the arc's slopes with and without technology, refitted the same way.

Commercial and industrial: the same PRISM substitution form, with the average elasticity of
substitution between peak and off-peak electricity that Goldman et al. (2007) estimated for
119 large customers (industrial, commercial/retail, government/education) on Niagara
Mohawk's day-ahead hourly prices, 2000-2004: 0.11 (written here with its sign, -0.11).
That study found the response very uneven (30 % of customers used peak and off-peak
electricity in fixed proportions; the 18 % with elasticities above 0.10 gave 75 % of the
aggregate response); drsim draws each customer's value from the negative of a log-normal
(cv 10) whose magnitude is capped at 1, with that mean after the cap (docs/evidence_ci.md
section 2: 22.9 % of customers above 0.10, 37 % below 0.01). No daily elasticity. Demand
shaving of the monthly peak by 5 % (commercial) and 8 % (industrial) where a demand charge
applies is an assumption, not a published figure (that demand and capacity charges drive
C&I peaks is drsim's working assumption; no source is cited).

The C&I elasticity is not refitted to time-of-use evidence: of the evaluations of TOU rates
for businesses that were read (docs/evidence_ci.md), none publishes, in the part that could
be read, an elasticity to fit, and several find small or insignificant responses of small
and medium businesses (Jessoe and Rapson 2015, *Journal of Industrial Economics* 63(3);
Zhou et al. 2019, *China Economic Review* 58; the Ontario general service customers of
Brattle's evaluation for the IESO; the Irish smart-metering trial's businesses). The value
may therefore overstate small and medium businesses' response to TOU energy prices; the
validation gallery (docs/validation.md) shows where it stands. A segment's ``sector`` and
``shifts`` scale it (sim/scenario/sectors.py).

References
----------
.. [1] A. Faruqui and S. Sergici, "Arcturus 2.0: A meta-analysis of time-varying rates for
   electricity", The Electricity Journal 30(10), 2017.
.. [2] C. Goldman, N. Hopper, R. Bharvirkar, B. Neenan and P. Cappers, "Customer Response
   to RTP in Competitive Markets: A Study of Niagara Mohawk's Standard Offer Tariff",
   The Energy Journal 28(1), 2007 (LBNL-60720; abstract read at osti.gov/biblio/920341).
"""

from __future__ import annotations

#: Residential substitution elasticity fitted by ``scripts/calibration.py --fit``.
RESIDENTIAL_SUBSTITUTION = -0.103

#: Strength of self-selection into enrolment (docs/behavior.md section 4): fitted so that the
#: per-participant response under opt-in enrolment of 20 % of customers is 1.92 times that
#: under default enrolment that keeps 95 % (SMUD SmartPricing Options, second summer: 23 %
#: against 12 %).
SELF_SELECTION = 1.31

#: Event-day response (``event_response``), residential: the slope of the log form of the
#: event price ratio, and its factor in peak-time-rebate steps (docs/behavior.md section 3.8).
EVENT_SLOPE = 0.103
PTR_FACTOR = 0.52

#: With weather, the factors on the event slope of the temperature-dependent load and of the
#: rest (``event_response.thermal_factor`` and ``other_factor``), from the California Statewide
#: Pricing Pilot's manual critical-peak response by temperature (Herter et al., LBNL; abstract):
#: at a critical-day ratio of about 3, 4 % on mild days (0.03 kW of 0.75 kW, almost no cooling)
#: gives the rest's slope -ln(0.96) / ln 3 = 0.0372 = 0.36 x 0.103; on hot days 0.23 kW of
#: 1.77 kW, of which 0.78 kW is the load without cooling (the mild and cold bins'), leaves
#: (0.23 - 0.04 x 0.78) / 0.99 = 20.1 % of the cooling load: slope -ln(0.799) / ln 3 = 0.204
#: = 1.98 x 0.103 (docs/behavior.md section 3.8).
EVENT_OTHER_FACTOR = 0.36
EVENT_THERMAL_FACTOR = 1.98

#: Factor on the event slope in events announced on their own day (``event_response.same_day_factor``):
#: Centre for Net Zero's analysis of Octopus Energy's Saving Sessions (Great Britain's Demand
#: Flexibility Service, winter 2022-23; "The Impact of Demand Response on Energy Consumption and
#: Economic Welfare", 25 March 2024, key findings as published on centrefornetzero.org): with notice
#: shorter than day-ahead, "effects are about a quarter lower"; its abstract: shorter advance notice
#: "dampened the demand response ... by 25 %" in the preferred specification (docs/behavior.md 3.8).
EVENT_SAME_DAY_FACTOR = 0.75

#: Average elasticity of substitution of large C&I customers on hourly prices (Goldman et al. 2007).
CI_SUBSTITUTION = -0.11

#: Spread of the C&I elasticity across customers (docs/evidence_ci.md section 2): the negative of a
#: log-normal with coefficient of variation :data:`CI_CV` (the format's largest; sigma of the log
#: 2.148), its magnitude capped at :data:`CI_CAP` (values beyond set to it), and the mean of the
#: uncapped log-normal, :data:`CI_LOGNORMAL_MEAN`, set so that the capped mean is the published
#: 0.11: E[min(X, 1)] = 0.1100 (0.10998). Then 22.9 % of customers lie above 0.10 in magnitude
#: (Goldman et al.: 18 %), 37 % below 0.01 (fixed proportions: 30 %), 3.5 % at the cap, and the
#: customers above 0.10 carry 85 % of the summed elasticity (75 % of the response).
CI_CV = 10.0
CI_CAP = 1.0
CI_LOGNORMAL_MEAN = -0.2036

DEFAULTS = {
    "residential": {
        "prism": {"substitution": RESIDENTIAL_SUBSTITUTION, "daily": -0.02},
        "technology_multiplier": 1.63,
    },
    "commercial": {
        "prism": {"substitution": CI_SUBSTITUTION, "daily": 0.0},
        "demand_shaving": {"reduction": 0.05, "max_shift_share": 0.3},
        "technology_multiplier": 1.63,
    },
    "industrial": {
        "prism": {"substitution": CI_SUBSTITUTION, "daily": 0.0},
        "demand_shaving": {"reduction": 0.08, "max_shift_share": 0.3},
        "technology_multiplier": 1.63,
    },
}


def default_behavior(customer_class: str) -> list[dict]:
    """The response models of a class's default behaviour, as scenario data.

    Heterogeneity: residential customers draw their substitution elasticity from a normal
    distribution with a 30 % coefficient of variation, truncated to [2 x mean, 0];
    commercial and industrial customers from the negative of a log-normal (cv 10) whose
    magnitude is capped at 1, with the published mean -0.11 after the cap.
    """
    if customer_class not in DEFAULTS:
        raise ValueError(f"no default behaviour for class {customer_class!r}; valid: {', '.join(DEFAULTS)}")
    d = DEFAULTS[customer_class]
    sub = d["prism"]["substitution"]
    if customer_class == "residential":
        dist = {"dist": "normal", "mean": sub, "sd": abs(sub) * 0.3, "min": 2 * sub, "max": 0.0}
    else:  # capped log-normal whose capped mean is `sub` (CI_LOGNORMAL_MEAN above)
        dist = {"dist": "lognormal", "mean": CI_LOGNORMAL_MEAN, "cv": CI_CV, "cap": CI_CAP}
    models = [{"model": "ces", "substitution": dist, "daily": d["prism"]["daily"]}]
    if customer_class == "residential":  # events answered by their own model (docs/behavior.md 3.8)
        models.append({"model": "event_response", "slope": EVENT_SLOPE, "ptr_factor": PTR_FACTOR,
                       "thermal_factor": EVENT_THERMAL_FACTOR, "other_factor": EVENT_OTHER_FACTOR,
                       "same_day_factor": EVENT_SAME_DAY_FACTOR})
    if "demand_shaving" in d:
        models.append({"model": "demand_shaving", **d["demand_shaving"]})
    return models
