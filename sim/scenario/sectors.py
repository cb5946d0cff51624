"""How flexible a business is: a segment's ``sector`` and ``shifts`` (scenario data).

A commercial or industrial segment with ``behavior: default`` may say what its customers
do (``sector``) and how many shifts they work (``shifts``). Both set how much of each
customer's load takes part in the substitution between price periods (its *flexible
share*, the ``ces`` model's ``flexible_share``); the rest of its load keeps its time of use
whatever the prices.

The class defaults (``sim/scenario/defaults.py``) reproduce the *average* large customer of
Goldman et al. (2007): an elasticity of substitution of -0.11 for the whole load. That
average mixes customers who cannot move anything (30 % of the study's customers used peak
and off-peak electricity in fixed proportions) with a few who move a lot (the 18 % with
elasticities above 0.10 gave 75 % of the response). drsim reads it as a customer whose
flexible share is :data:`REFERENCE_SHARE` (0.5, an assumption), so the load that can move
has an elasticity of substitution of ``-0.11 / 0.5 = -0.22``, and a sector's customer
responds in proportion to its own share:

    effective response  ~  flexible_share(sector, shifts) / REFERENCE_SHARE  x  class default

A segment without ``sector`` or ``shifts`` keeps the class default unchanged.

What the evidence says (docs/evidence_ci.md gives each source and how much of it was read):

- continuous production is a barrier to responding to TOU prices; the average Shanghai
  industrial and commercial firm showed no significant response, smaller firms and
  commercial firms responded more (Zhou, Ma, Su and Wu 2019, *China Economic Review* 58);
- of 110 Duke Energy industrial customers on real-time prices, the customers who responded
  significantly were mainly those able to self-generate or with discrete (batch)
  production processes (Schwarz, Taylor, Birmingham and Dardan 2002, *Economic Inquiry*,
  October 2002);
- a cold store may cut its consumption for an hour or two when prices are high, making it
  up later to hold its temperature ("An Econometric Analysis of Electricity Demand Response
  to Price Changes at the Intra-Day Horizon: The Case of Manufacturing Industry in West
  Denmark", *International Journal of Sustainable Energy Planning and Management* 7, 2015);
  warehouses reduced peak load by about 3 % with lighting alone and up to about 30 % with
  HVAC, refrigeration, lighting and plug-load strategies in demand-response events
  (E Source research brief "Strategies for C&I Demand Response: Warehouses");
- trade, restaurants and hotels and office-like buildings are the service subsectors with
  the most flexible cross-sectoral loads (cooling, air conditioning, ventilation)
  (Wohlfarth, Klobasa and Eßer 2019, *Energy Efficiency*, issue 1/2019);
- the structure and number of labour shifts are important factors in business customers'
  response to TOU rates (Aigner, Newman and Tishler 1994, the Israeli TOU experiment with small
  and medium business customers); adjustment costs of employment explain why
  most firms do not respond, and firms working one labour shift are less likely to
  (Tishler and Ye 1993, *Resources and Energy Economics*, September 1993).

None of these sources publishes a flexible share by sector: the ordering of the table
follows them, the numbers are drsim's assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["REFERENCE_SHARE", "SECTORS", "SHIFT_FACTOR", "flexible_share", "is_default", "sector_problems",
           "with_sector"]

#: Flexible share of the average customer the class defaults describe (an assumption).
REFERENCE_SHARE = 0.5


@dataclass(frozen=True)
class Sector:
    """One sector: the classes it applies to, its flexible share and what it stands for."""

    classes: tuple[str, ...]
    flexible_share: float
    covers: str


#: Sector -> classes, flexible share (share of each customer's load that takes part in the
#: substitution between price periods) and what it covers. Ordering from the sources in
#: the module docstring; the numbers are assumptions.
SECTORS: dict[str, Sector] = {
    "continuous_process": Sector(("industrial",), 0.1, "plants that run round the clock on a continuous process "
                                                       "(chemicals, refining, glass, primary metals, pulp)"),
    "general_manufacturing": Sector(("industrial",), 0.5, "discrete manufacturing and assembly (the class average)"),
    "batch_process": Sector(("industrial",), 1.0, "batch or discrete processes that can be rescheduled within "
                                                  "the day (mills, foundries, batch furnaces, pumping to storage)"),
    "cold_storage": Sector(("commercial", "industrial"), 0.8, "refrigerated warehouses and cold stores "
                                                              "(thermal inertia of hours)"),
    "office": Sector(("commercial",), 0.5, "offices and office-like public buildings (the class average)"),
    "retail": Sector(("commercial",), 0.5, "shops and supermarkets (the class average)"),
    "hospitality": Sector(("commercial",), 0.5, "restaurants and hotels (the class average)"),
}

#: Shifts worked -> factor on the sector's flexible share (an assumption): a plant on one
#: shift must add a shift to move work (labour adjustment costs), one on three shifts has
#: no empty shift to move it into; two shifts leave the night free.
SHIFT_FACTOR: dict[int, float] = {1: 0.5, 2: 1.0, 3: 0.5}


def flexible_share(sector: str | None, shifts: int | None) -> float:
    """The flexible share of a segment's customers from its sector and shifts.

    Without a sector the class average (:data:`REFERENCE_SHARE`) is the base; ``shifts``
    multiplies it by :data:`SHIFT_FACTOR`. Never above 1.
    """
    base = REFERENCE_SHARE if sector is None else SECTORS[sector].flexible_share
    return min(1.0, base * (1.0 if shifts is None else SHIFT_FACTOR[shifts]))


def sector_problems(customer_class: str, sector: str | None, shifts: int | None) -> list[tuple[tuple, str]]:
    """Problems with a segment's sector and shifts (class mismatch), as (sub-path, message)."""
    errs: list[tuple[tuple, str]] = []
    if customer_class == "residential" and (sector is not None or shifts is not None):
        key = "sector" if sector is not None else "shifts"
        errs.append(((key,), "applies to commercial and industrial segments only"))
    elif sector in SECTORS and customer_class not in SECTORS[sector].classes:
        valid = [name for name, s in SECTORS.items() if customer_class in s.classes]
        errs.append((("sector",), f"sector {sector!r} is not a {customer_class} sector; valid: {', '.join(valid)}"))
    return errs


def _scaled(param, k: float):
    """A parameter (number or distribution, as scenario data) with every value times k > 0."""
    if not isinstance(param, dict):
        return param * k
    out = dict(param)
    for key in ("mean", "sd", "min", "max", "low", "mode", "high", "cap"):
        if out.get(key) is not None:
            out[key] = out[key] * k
    return out


def with_sector(models: list[dict], customer_class: str, sector: str | None, shifts: int | None) -> list[dict]:
    """A class's default models (scenario data) for a segment with a sector or shifts.

    The ``ces`` model's substitution elasticity becomes that of the load that can move
    (class default / :data:`REFERENCE_SHARE`) and its ``flexible_share`` the segment's share.
    Unchanged when the segment gives neither, or gives values the schema rejects.
    """
    if (sector is None and shifts is None) or customer_class not in ("commercial", "industrial"):
        return models
    if (sector is not None and (sector not in SECTORS or customer_class not in SECTORS[sector].classes)) or \
            (shifts is not None and shifts not in SHIFT_FACTOR):
        return models  # the schema reports it
    share = flexible_share(sector, shifts)
    return [{**m, "substitution": _scaled(m["substitution"], 1.0 / REFERENCE_SHARE), "flexible_share": share}
            if m["model"] == "ces" else m for m in models]


def is_default(behavior, customer_class: str, sector: str | None = None, shifts: int | None = None) -> bool:
    """Whether a segment's ``behavior`` (scenario data or models) is exactly its class default
    for its sector and shifts, as a resolved scenario (``manifest.json``) records it. False
    for a behaviour or class this version cannot read."""
    from pydantic import TypeAdapter, ValidationError

    from .behavior import BehaviorSpec
    from .defaults import default_behavior

    try:
        ta = TypeAdapter(BehaviorSpec)
        want = with_sector(default_behavior(customer_class), customer_class, sector, shifts)
        return (ta.dump_python(ta.validate_python(behavior), mode="json")
                == ta.dump_python(ta.validate_python(want), mode="json"))
    except (ValidationError, ValueError, KeyError):
        return False
