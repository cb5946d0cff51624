"""Import OpenEI URDB rates into drsim's tariff format, with NREL SAM's semantics.

A URDB rate (one rate object, or an API response ``{"items": [rate, ...]}``) becomes a plain
drsim tariff dict (YAML-able, validated by :data:`sim.scenario.tariff.Tariff`):

- ``energyratestructure`` + ``energyweekdayschedule``/``energyweekendschedule`` (12 x 24,
  0-based period indices) -> TOU ``periods`` ``p0``, ``p1``, ... (the URDB index), ``seasons``
  (groups of months whose weekday and weekend rows are identical) and one schedule rule per
  season and day type. One period in use -> a ``flat`` tariff.
- tier ``max`` (cumulative kWh in the month) -> ``tiers.bounds_kwh`` and per-period price lists;
  each month's tier energy is shared among periods pro rata to their energy (SAM's rule, and
  drsim's). Periods that meet in a month must have the same bounds (SAM requires it too);
  periods that never meet may differ (e.g. seasonal baselines): their bounds are merged and
  each price repeated over the finer tiers, which bills the same.
- ``flatdemandstructure`` + ``flatdemandmonths`` -> ``demand.per_kw_month`` (12 monthly rates),
  or ``demand.blocks`` where a period has demand tiers (the months' bounds merged);
  ``demandratestructure`` + ``demandweekdayschedule``/``demandweekendschedule`` -> ``demand.tou``
  (a period with tiers gets ``blocks``).
- ``fixedchargefirstmeter`` + ``fixedchargeunits`` ($/month, $/day, $/year) and the legacy
  ``fixedmonthlycharge`` -> ``fixed_per_month`` / ``fixed_per_day``; ``mincharge`` with
  ``minchargeunits: $/month`` and the legacy ``minmonthlycharge`` -> ``minimum_per_month``.
- every price is ``rate + adj``.
- ``dgrules`` -> the ``export`` section, as PySAM's converter picks SAM's metering option
  (``UtilityRateTools.URDBv8_to_ElectricityRates``): "Net Metering" -> ``rule: net_metering``
  (kWh credits, settled in December at 0: SAM's option 0 with its defaults), "Net Billing
  Instantaneous" -> ``rule: net_billing`` (option 2), "Net Billing Hourly" -> ``rule:
  net_billing`` with ``carry_credits`` (option 3); each tier's ``sell`` -> the export price
  (one number, or one per period). "Buy All Sell All" (two meters) is refused: drsim bills one
  net load per customer. Without ``dgrules`` no section is written (a negative net load is
  then netted at the energy prices, as drsim bills any tariff without one).

URDB and SAM know no holidays: schedules use ``holidays_as: weekend``. drsim places weekdays on
the real calendar; SAM assumes 1 January is a Monday (see docs/urdb.md).

What drsim cannot bill exactly is refused with :class:`sim.errors.InputError`, one problem per
line: tier units other than kWh (kWh daily, kWh/kW), demand units other than kW,
a ``max`` on a last (energy or demand) tier, minimum charges per day or per year, demand ratchets, coincident
demand, monthly fuel adjustments, and files missing what a charge needs (e.g. an
``energyratestructure`` without its schedules).

Public API: :func:`import_urdb`, :func:`urdb_source_note`, :func:`tariff_yaml`, and the pure
converter :func:`urdb_to_tariff`.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError, Problem

__all__ = ["URDB_CURRENCY", "import_urdb", "urdb_source_note", "tariff_yaml", "urdb_to_tariff", "read_urdb"]

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_KWH_UNITS = {"kwh"}
_KW_UNITS = {"kw"}
#: Prices are rounded to this many decimals (rate + adj leaves float noise such as 0.08721000000000001).
_PRICE_DIGITS = 10


class _Problems:
    """Collects problems of one URDB file, each naming its field."""

    def __init__(self, file: str):
        self.file = file
        self.items: list[Problem] = []

    def add(self, field: str, message: str) -> None:
        self.items.append(Problem(self.file, None, field, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.items)


# --------------------------------------------------------------------------- reading


#: The currency of every URDB rate: the database holds U.S. rates, and its own units say dollars
#: (``fixedchargeunits`` "$/month", ``minchargeunits`` "$/month"; the rate fields are "$/kWh" and
#: "$/kW" in OpenEI's URDB API documentation, https://openei.org/services/doc/rest/util_rates/?version=7).
#: An imported tariff names it, so that a scenario in another currency refuses it
#: (:mod:`sim.scenario.currency`).
URDB_CURRENCY = "USD"


def read_urdb(path: str | Path, index: int | None = None) -> tuple[dict, str]:
    """Read one URDB rate object from a JSON file.

    Parameters
    ----------
    path : path of a URDB rate JSON: a rate object, a list of rates, or an API response
        ``{"items": [rate, ...]}``.
    index : which rate of a list / ``items`` to take (0-based); default the first.

    Returns
    -------
    (rate, where) : the rate object and a short text saying which item was taken
        ('' for a single rate object, e.g. 'item 1 of 3 (the first; choose another with index)').
    """
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise InputError(Problem(file, None, "", f"cannot read URDB file: {e.strerror or e}")) from None
    data = _parse_json(raw, file)
    field = ""
    if isinstance(data, dict) and "items" in data:
        data, field = data["items"], "items"
    if isinstance(data, list):
        if not data:
            raise InputError(Problem(file, None, field, "no rates in the file (the list is empty)"))
        n = len(data)
        i = 0 if index is None else index
        if not -n <= i < n:
            raise InputError(Problem(file, None, field, f"index {index} is out of range: the file has {n} rate(s)"))
        rate = data[i]
        i %= n
        if n == 1:
            where = ""
        elif index is None:
            where = f"item 1 of {n} (the first; pass an index to choose another)"
        else:
            where = f"item {i + 1} of {n}"
        field = f"{field or ''}[{i}]"
    else:
        if index not in (None, 0):
            raise InputError(Problem(file, None, "", f"index {index} given, but the file holds a single rate"))
        rate, where = data, ""
    if not isinstance(rate, dict):
        raise InputError(Problem(file, None, field, f"expected a URDB rate object; got {type(rate).__name__}"))
    return rate, where


#: Longest integer a URDB file may write, in digits (Python refuses to read integers of
#: more than 4300 digits; no URDB field needs more than a few).
_MAX_INT_DIGITS = 100
#: Deepest nesting of a URDB file (a rate structure is a list of lists of objects inside
#: the rate inside an API response's ``items``: five levels).
_MAX_DEPTH = 20


class _LongInteger(ValueError):
    pass


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise _LongInteger(len(text.lstrip("-")))
    return int(text)


def _parse_json(raw: bytes, file: str) -> Any:
    """JSON text (UTF-8, or UTF-16/32 as :func:`json.loads` detects them) into data, refusing
    non-text, long integers and deep nesting as :class:`InputError`."""
    def refuse(message: str, line: int | None = None) -> InputError:
        return InputError(Problem(file, line, "", message))

    try:
        data = json.loads(raw, parse_int=_parse_int)
    except json.JSONDecodeError as e:
        raise refuse(f"not valid JSON: {e.msg} (column {e.colno})", e.lineno) from None
    except UnicodeDecodeError as e:
        raise refuse(f"not JSON text: the file is neither UTF-8 nor UTF-16/32 ({e.reason} at byte {e.start})") from None
    except _LongInteger as e:
        raise refuse(f"an integer of {e.args[0]} digits is too long (at most {_MAX_INT_DIGITS})") from None
    except RecursionError:
        raise refuse(f"nested too deeply (a URDB rate nests about five levels; at most {_MAX_DEPTH})") from None
    stack = [(data, 1)]
    while stack:  # iterative, so that the check itself cannot recurse too deeply
        node, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise refuse(f"nested too deeply (a URDB rate nests about five levels; at most {_MAX_DEPTH})")
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return data


def import_urdb(path: str | Path, index: int | None = None) -> dict:
    """Convert the URDB rate in ``path`` into a validated drsim tariff dict (plain data).

    With a list or an API response ``{"items": [...]}``, ``index`` picks the rate (default the
    first; the tariff's ``description`` then says which item was taken).
    Raises InputError, one problem per line, for anything drsim cannot bill exactly.
    """
    rate, where = read_urdb(path, index)
    return urdb_to_tariff(rate, file=str(path), where=where)


def urdb_source_note(path: str | Path, index: int | None = None) -> str:
    """Lines naming the URDB rate in ``path``: label, utility, name, source, file. For
    :func:`tariff_yaml`'s header."""
    rate, where = read_urdb(path, index)
    r = _lower_keys(rate)
    label = r.get("label")
    lines = [
        "Imported from OpenEI URDB (U.S. Utility Rate Database) by drsim.",
        f"utility: {r.get('utility', '?')}",
        f"name: {r.get('name', '?')}",
        f"label: {label or '?'}",
    ]
    uri = r.get("uri") or (f"https://apps.openei.org/USURDB/rate/view/{label}" if label else None)
    if uri:
        lines.append(f"uri: {uri}")
    for key in ("source", "sourcereference", "sourceparent"):
        if r.get(key):
            lines.append(f"source: {r[key]}")
            break
    if r.get("startdate") is not None:
        lines.append(f"startdate (unix): {r['startdate']}")
    lines.append(f"file: {path}" + (f" ({where})" if where else ""))
    lines.append("Semantics follow NREL SAM (tier max cumulative per month, tiers shared pro rata among")
    lines.append("periods, holidays as weekends); see docs/urdb.md.")
    return "\n".join(lines)


def tariff_yaml(d: dict, source_note: str) -> str:
    """YAML text of a drsim tariff dict with ``source_note`` as a header comment.

    The body is one tariff: paste it under a name in a scenario's ``tariffs:`` mapping.
    """
    header = "".join(f"# {line}".rstrip() + "\n" for line in source_note.splitlines())
    body = yaml.safe_dump(d, sort_keys=False, default_flow_style=None, allow_unicode=True, width=100)
    return header + body


# --------------------------------------------------------------------------- conversion


def _lower_keys(rate: dict) -> dict:
    """URDB keys, lower-cased (API versions spell e.g. flatdemandunit / flatDemandUnits)."""
    return {str(k).lower(): v for k, v in rate.items()}


def _is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _price(x: float) -> float:
    v = round(float(x), _PRICE_DIGITS)
    return 0.0 if v == 0 else v


def _tier_entries(structure: Any, key: str, probs: _Problems, kind: str) -> list[list[dict]] | None:
    """A URDB rate structure: a list (periods) of non-empty lists (tiers) of dicts."""
    if not isinstance(structure, list) or not structure:
        probs.add(key, "must be a non-empty list of periods, each a list of tiers")
        return None
    ok = True
    for i, period in enumerate(structure):
        if not isinstance(period, list) or not period:
            probs.add(f"{key}[{i}]", f"each {kind} period must be a non-empty list of tiers")
            ok = False
            continue
        for j, tier in enumerate(period):
            if not isinstance(tier, dict):
                probs.add(f"{key}[{i}][{j}]", "each tier must be an object with rate (and adj, max, unit)")
                ok = False
    return structure if ok else None


def _tier_price(tier: dict, where: str, probs: _Problems) -> float | None:
    rate, adj = tier.get("rate"), tier.get("adj", 0.0)
    if rate is None and "adj" not in tier:
        probs.add(where, "tier has no rate")
        return None
    if "rate" in tier and rate is None:  # null is not zero: a rate missing from the source
        probs.add(f"{where}.rate", "is null: the file gives no rate for this tier; write the rate as a number "
                                   "(0 if the tier has only an adjustment, adj)")
        return None
    rate = 0.0 if rate is None else rate
    adj = 0.0 if adj is None else adj
    if not _is_num(rate) or not _is_num(adj):
        probs.add(where, f"rate and adj must be numbers; got rate={rate!r}, adj={adj!r}")
        return None
    return float(rate) + float(adj)


def _schedule(r: dict, key: str, n_periods: int, probs: _Problems, needed_by: str) -> list[list[int]] | None:
    """A 12 x 24 schedule of 0-based period indices."""
    sched = r.get(key)
    if sched is None:
        probs.add(key, f"missing: {needed_by} needs 12 x 24 weekday and weekend schedules")
        return None
    if not isinstance(sched, list) or len(sched) != 12 or not all(isinstance(row, list) and len(row) == 24
                                                                    for row in sched):
        shape = f"{len(sched)} rows" if isinstance(sched, list) else type(sched).__name__
        probs.add(key, f"must be 12 rows (months) of 24 hours; got {shape}")
        return None
    out: list[list[int]] = []
    bad: set = set()
    for row in sched:
        vals = []
        for v in row:
            if not _is_num(v) or int(v) != v or not 0 <= int(v) < n_periods:
                bad.add(v)
                vals.append(0)
            else:
                vals.append(int(v))
        out.append(vals)
    if bad:
        shown = ", ".join(map(repr, sorted(bad, key=repr)[:5]))
        probs.add(key, f"period indices must be integers 0..{n_periods - 1} (0-based into {needed_by}); got {shown}")
        return None
    return out


def _season_name(months: list[int]) -> str:
    """'all_year', 'jun_sep', 'jan_may+oct_dec' from 0-based months (runs may wrap the year)."""
    if len(months) == 12:
        return "all_year"
    ms = set(months)
    runs: list[tuple[int, int]] = []
    starts = [m for m in sorted(ms) if (m - 1) % 12 not in ms]
    for s in starts:
        e = s
        while (e + 1) % 12 in ms:
            e = (e + 1) % 12
        runs.append((s, e))
    return "+".join(_MONTHS[s] if s == e else f"{_MONTHS[s]}_{_MONTHS[e]}" for s, e in runs)


def _hour_ranges(row: list[int], names: dict[int, str]) -> dict[str, list[str]]:
    """24 hourly period indices -> period name -> ['HH:00-HH:00', ...] (wrapping midnight)."""
    runs: list[list[int]] = []  # [period, start, end)
    for h, p in enumerate(row):
        if runs and runs[-1][0] == p:
            runs[-1][2] = h + 1
        else:
            runs.append([p, h, h + 1])
    if len(runs) > 1 and runs[0][0] == runs[-1][0]:
        last = runs.pop()
        runs[0][1] = last[1]  # wraps midnight: e.g. 21:00-06:00
    out: dict[str, list[str]] = {}
    for p in sorted({r[0] for r in runs}):
        out[names[p]] = [f"{s:02d}:00-{e:02d}:00" for q, s, e in runs if q == p]
    return out


def _scheduled(weekday: list[list[int]], weekend: list[list[int]], names: dict[int, str]) -> dict:
    """Seasons (months with identical weekday and weekend rows) and their schedule rules."""
    groups: dict[tuple, list[int]] = {}
    for m in range(12):
        groups.setdefault((tuple(weekday[m]), tuple(weekend[m])), []).append(m)
    seasons: dict[str, dict] = {}
    schedule: list[dict] = []
    for (wk, we), months in groups.items():
        name = _season_name(months)
        seasons[name] = {"months": [m + 1 for m in months]}
        if wk == we:
            schedule.append({"seasons": [name], "day_types": ["weekday", "weekend"],
                             "hours": _hour_ranges(list(wk), names)})
        else:
            schedule.append({"seasons": [name], "day_types": ["weekday"], "hours": _hour_ranges(list(wk), names)})
            schedule.append({"seasons": [name], "day_types": ["weekend"], "hours": _hour_ranges(list(we), names)})
    return {"seasons": seasons, "schedule": schedule, "holidays_as": "weekend"}


def _unit_ok(unit: Any, allowed: set[str]) -> bool:
    return unit is None or (isinstance(unit, str) and unit.strip().lower() in allowed)


def _energy(r: dict, probs: _Problems) -> dict | None:
    """type, prices, seasons/schedule and tiers from the URDB energy fields."""
    key = "energyratestructure"
    if r.get(key) is None:
        probs.add(key, "missing: drsim needs the energy rate structure (a list of periods of tiers)")
        return None
    structure = _tier_entries(r[key], key, probs, "energy")
    if structure is None:
        return None
    prices: list[list[float]] = []
    bounds: list[list[float]] = []
    for i, period in enumerate(structure):
        ps, bs = [], []
        for j, tier in enumerate(period):
            where = f"{key}[{i}][{j}]"
            unit = tier.get("unit")
            if not _unit_ok(unit, _KWH_UNITS):
                probs.add(f"{where}.unit", f"tier unit {unit!r} is not supported: drsim tiers are cumulative kWh "
                                           "per month (unit 'kWh'); daily and kWh/kW tiers cannot be imported")
            p = _tier_price(tier, where, probs)
            if p is not None and p < 0:
                probs.add(where, f"negative energy price {p} (rate + adj) is not supported")
            ps.append(p)
            mx = tier.get("max")
            last = j == len(period) - 1
            if last:
                if mx is not None and not (_is_num(mx) and mx >= 1e37):
                    probs.add(f"{where}.max", f"the last tier has max {mx!r}: energy above it would go unbilled "
                                              "(SAM) or be undefined; remove it to make the last tier open-ended")
            elif mx is None:
                probs.add(f"{where}.max", "missing: every tier but the last needs a max (cumulative kWh)")
            elif not _is_num(mx) or mx <= 0:
                probs.add(f"{where}.max", f"must be a positive number of kWh; got {mx!r}")
            else:
                if bs and mx <= bs[-1]:
                    probs.add(f"{where}.max",
                              f"tier bounds must increase (max is cumulative kWh): {mx} follows {bs[-1]}")
                bs.append(float(mx))
        prices.append(ps)
        bounds.append(bs)
    n = len(structure)
    wk = _schedule(r, "energyweekdayschedule", n, probs, key)
    we = _schedule(r, "energyweekendschedule", n, probs, key)
    if wk is None or we is None or probs.items:
        return None
    used = sorted({p for rows in (wk, we) for row in rows for p in row})
    # periods meeting in a month must share tier bounds (SAM: "Tiers within a month should be the same")
    for m in range(12):
        in_month = sorted(set(wk[m]) | set(we[m]))
        first = in_month[0]
        for p in in_month[1:]:
            if bounds[p] != bounds[first]:
                probs.add(key, f"periods {first} and {p} both apply in {_MONTHS[m].title()} but have different tier "
                               f"bounds ({bounds[first] or 'none'} vs {bounds[p] or 'none'} kWh); drsim, like SAM, "
                               "needs the same cumulative tier bounds for all periods of a month")
                return None
    glob = sorted({b for p in used for b in bounds[p]})
    names = {p: f"p{p}" for p in used}

    def expanded(p: int) -> float | list[float]:
        if not glob:
            return _price(prices[p][0])
        lows = [0.0] + glob
        vals = [_price(prices[p][bisect_right(bounds[p], lo)]) for lo in lows]
        return vals[0] if len(set(vals)) == 1 else vals

    out: dict[str, Any] = {}
    if len(used) == 1:
        out["type"] = "flat"
        out["price_per_kwh"] = expanded(used[0])
    else:
        out["type"] = "tou"
        out["periods"] = {names[p]: {"price_per_kwh": expanded(p)} for p in used}
        out.update(_scheduled(wk, we, names))
    if glob:
        out["tiers"] = {"basis": "monthly", "bounds_kwh": glob}
    return out


def _demand_rates(structure: list[list[dict]], key: str, used: list[int],
                  probs: _Problems) -> dict[int, tuple[list[float], list[float]]]:
    """Each used demand period's tiers as (upper bounds [kW] of all tiers but the last, rates
    [$/kW-month]): one rate and no bound for a period of one tier."""
    out: dict[int, tuple[list[float], list[float]]] = {}
    for p in used:
        tiers = structure[p]
        where = f"{key}[{p}]"
        bounds: list[float] = []
        rates: list[float] = []
        ok = True
        for j, tier in enumerate(tiers):
            at = f"{where}[{j}]"
            if not _unit_ok(tier.get("unit"), _KW_UNITS):
                probs.add(f"{at}.unit", f"demand unit {tier.get('unit')!r} is not supported (only kW)")
                ok = False
            price = _tier_price(tier, at, probs)
            if price is None:
                ok = False
            elif price < 0:
                probs.add(at, f"negative demand charge {price} is not supported")
                ok = False
            else:
                rates.append(_price(price))
            mx = tier.get("max")
            last = j == len(tiers) - 1
            if last:
                if mx is not None and not (_is_num(mx) and mx >= 1e37):
                    probs.add(f"{at}.max", f"the last demand tier has max {mx!r} kW: demand above it would go "
                                           "unbilled (SAM) or be undefined; remove it to make the last tier open-ended")
                    ok = False
            elif mx is None or not _is_num(mx) or mx <= 0:
                probs.add(f"{at}.max", "missing: every demand tier but the last needs a max (kW), a number > 0")
                ok = False
            elif bounds and mx <= bounds[-1]:
                probs.add(f"{at}.max", f"demand tier bounds must increase: {mx} follows {bounds[-1]}")
                ok = False
            else:
                bounds.append(float(mx))
        if ok:
            out[p] = (bounds, rates)
    return out


def _rate_in(tiers: tuple[list[float], list[float]], lower_kw: float) -> float:
    """The rate of the tier that holds the kW just above ``lower_kw``."""
    bounds, rates = tiers
    return rates[sum(b <= lower_kw for b in bounds)]


def _flat_blocks(rates: dict[int, tuple[list[float], list[float]]], months: list[int]) -> dict:
    """The flat demand charge of periods with tiers as drsim blocks: the bounds of all the
    months' periods merged, each block's rate that of the tier holding it in each month (the
    same bill: a tier split at another period's bound bills the same on both sides)."""
    glob = sorted({b for p in set(months) for b in rates[p][0]})
    lowers = [0.0, *glob]
    per_block = []
    for lo in lowers:
        monthly = [_rate_in(rates[p], lo) for p in months]
        per_block.append(monthly[0] if len(set(monthly)) == 1 else monthly)
    return {"bounds_kw": glob, "per_kw_month": per_block}


def _demand(r: dict, probs: _Problems) -> dict | None:
    demand: dict[str, Any] = {}
    for unit_key in ("flatdemandunit", "flatdemandunits", "demandrateunit", "demandrateunits"):
        if r.get(unit_key) is not None and not _unit_ok(r[unit_key], _KW_UNITS):
            probs.add(unit_key, f"demand unit {r[unit_key]!r} is not supported (only kW)")
    # flat (monthly maximum) demand
    fds, fdm = r.get("flatdemandstructure"), r.get("flatdemandmonths")
    if fds is not None and fdm is None:
        probs.add("flatdemandmonths", "missing: flatdemandstructure needs flatdemandmonths (12 period indices)")
    elif fdm is not None and fds is None:
        probs.add("flatdemandstructure", "missing: flatdemandmonths refers to a flatdemandstructure")
    elif fds is not None:
        structure = _tier_entries(fds, "flatdemandstructure", probs, "demand")
        if structure is not None:
            if not isinstance(fdm, list) or len(fdm) != 12 or not all(
                    _is_num(v) and int(v) == v and 0 <= v < len(structure) for v in fdm):
                probs.add("flatdemandmonths", f"must be 12 period indices 0..{len(structure) - 1}; got {fdm!r}")
            else:
                months = [int(v) for v in fdm]
                rates = _demand_rates(structure, "flatdemandstructure", sorted(set(months)), probs)
                if len(rates) == len(set(months)) and any(any(r for r in rates[p][1]) for p in months):
                    if all(not rates[p][0] for p in months):  # one tier in every period: one rate a month
                        monthly = [rates[p][1][0] for p in months]
                        demand["per_kw_month"] = monthly[0] if len(set(monthly)) == 1 else monthly
                    else:
                        demand["blocks"] = _flat_blocks(rates, months)
    # TOU demand
    drs = r.get("demandratestructure")
    if drs is not None:
        structure = _tier_entries(drs, "demandratestructure", probs, "demand")
        if structure is not None:
            wk = _schedule(r, "demandweekdayschedule", len(structure), probs, "demandratestructure")
            we = _schedule(r, "demandweekendschedule", len(structure), probs, "demandratestructure")
            if wk is not None and we is not None:
                used = sorted({p for rows in (wk, we) for row in rows for p in row})
                rates = _demand_rates(structure, "demandratestructure", used, probs)
                if len(rates) == len(used) and any(any(r for r in rates[p][1]) for p in used):
                    names = {p: f"p{p}" for p in used}
                    demand["tou"] = {"periods": {names[p]: ({"per_kw_month": rates[p][1][0]} if not rates[p][0] else
                                                            {"blocks": {"bounds_kw": rates[p][0],
                                                                        "per_kw_month": rates[p][1]}})
                                                 for p in used},
                                     **_scheduled(wk, we, names)}
    return demand or None


def _nonzero(v: Any) -> bool:
    if isinstance(v, list):
        return any(_nonzero(x) for x in v)
    if isinstance(v, dict):
        return any(_nonzero(x) for x in v.values())
    return _is_num(v) and v != 0


def _other_charges(r: dict, out: dict, probs: _Problems) -> None:
    """Fixed and minimum charges; refuse charges drsim would otherwise drop."""
    fc = r.get("fixedchargefirstmeter")
    legacy = r.get("fixedmonthlycharge")
    if fc is not None:
        units = str(r.get("fixedchargeunits") or "$/month").strip().lower()
        if not _is_num(fc) or fc < 0:
            probs.add("fixedchargefirstmeter", f"must be a number >= 0; got {fc!r}")
        elif units == "$/month":
            out["fixed_per_month"] = _price(fc)
        elif units == "$/day":
            out["fixed_per_day"] = _price(fc)
        elif units == "$/year":
            out["fixed_per_month"] = _price(fc / 12.0)
        else:
            probs.add("fixedchargeunits", f"unknown unit {units!r} (expected $/month, $/day or $/year)")
    elif legacy is not None:
        if not _is_num(legacy) or legacy < 0:
            probs.add("fixedmonthlycharge", f"must be a number >= 0; got {legacy!r}")
        else:
            out["fixed_per_month"] = _price(legacy)
    mc = r.get("mincharge")
    if mc is not None and not (_is_num(mc) and mc == 0):
        units = str(r.get("minchargeunits") or "$/month").strip().lower()
        if not _is_num(mc) or mc < 0:
            probs.add("mincharge", f"must be a number >= 0; got {mc!r}")
        elif units == "$/month":
            out["minimum_per_month"] = _price(mc)
        else:
            probs.add("minchargeunits", f"a minimum charge in {units!r} is not supported: drsim's minimum bill is "
                                        "per month ($/month)")
    elif r.get("minmonthlycharge") is not None and not (_is_num(r["minmonthlycharge"]) and r["minmonthlycharge"] == 0):
        v = r["minmonthlycharge"]
        if not _is_num(v) or v < 0:
            probs.add("minmonthlycharge", f"must be a number >= 0; got {v!r}")
        else:
            out["minimum_per_month"] = _price(v)
    refused = {
        "annualmincharge": "an annual minimum charge is not supported (drsim's minimum bill is per month)",
        "lookbackpercent": "demand ratchets (lookback) are not imported: SAM's billing-demand rules differ from "
                           "drsim's demand.ratchet; remove the lookback fields and add demand.ratchet by hand",
        "demandratchetpercentage": "demand ratchets are not imported; add demand.ratchet by hand",
        "coincidentratestructure": "coincident (system-peak) demand charges are not supported",
        "fueladjustmentsmonthly": "monthly fuel adjustments are not supported (SAM ignores them too); "
                                  "fold them into the energy rates' adj",
    }
    for key, message in refused.items():
        if key in r and _nonzero(r[key]):
            probs.add(key, message)


#: URDB ``dgrules`` -> the export section (PySAM's converter maps them to SAM's metering options 0, 2, 3).
_DG_RULES = {"net metering": {"rule": "net_metering"},
             "net billing instantaneous": {"rule": "net_billing"},
             "net billing hourly": {"rule": "net_billing", "carry_credits": True}}


def _sell_prices(r: dict, probs: _Problems) -> dict[str, float] | None:
    """Each energy period's export (``sell``) rate: 0 where absent (as PySAM's converter), one
    rate per period (a period whose tiers sell at different rates is refused)."""
    structure = r.get("energyratestructure")
    if not isinstance(structure, list):
        return None  # reported by _energy
    out: dict[str, float] = {}
    for i, period in enumerate(structure):
        if not isinstance(period, list):
            return None
        sells = []
        for j, tier in enumerate(period):
            v = tier.get("sell", 0.0) if isinstance(tier, dict) else 0.0
            v = 0.0 if v is None else v
            if not _is_num(v) or v < 0:
                probs.add(f"energyratestructure[{i}][{j}].sell", f"must be a number >= 0 ($/kWh); got {v!r}")
                return None
            sells.append(_price(v))
        if len(set(sells)) > 1:
            probs.add(f"energyratestructure[{i}]", f"sell rates differ between the period's tiers ({sells}): drsim's "
                                                   "export price is one per period")
            return None
        out[f"p{i}"] = sells[0]
    return out


def _only_period(r: dict) -> str:
    """The name of the one energy period a flat tariff's schedules use."""
    return f"p{int(r['energyweekdayschedule'][0][0])}"


def _export(r: dict, probs: _Problems) -> dict | None:
    """The export section from ``dgrules`` and the tiers' ``sell`` rates (None without dgrules)."""
    rules = r.get("dgrules")
    if rules is None:
        return None
    key = str(rules).strip().lower()
    if key == "buy all sell all":
        probs.add("dgrules", "'Buy All Sell All' bills the load and the generation on two meters; drsim bills one "
                             "net load per customer, so it cannot be imported (bill the load without an export section "
                             "and the generation as a net billing meter of its own: docs/urdb.md)")
        return None
    if key not in _DG_RULES:
        probs.add("dgrules", f"unknown rule {rules!r} (known: Net Metering, Net Billing Instantaneous, Net Billing "
                             "Hourly, Buy All Sell All)")
        return None
    export = dict(_DG_RULES[key])
    if export["rule"] == "net_billing":
        sells = _sell_prices(r, probs)
        if sells is None:
            return None
        export["price"] = {"periods": sells}
    return export


def urdb_to_tariff(rate: dict, file: str = "<urdb>", where: str = "") -> dict:
    """Convert one URDB rate object (a dict) into a validated drsim tariff dict.

    Parameters
    ----------
    rate : dict
        A URDB rate object (API v3-v8 field names, any case).
    file : str
        Name used in error messages.
    where : str
        Which item of the file this is, for the description (see :func:`read_urdb`).

    Raises
    ------
    InputError
        One problem per line for every field drsim cannot bill exactly.
    """
    if not isinstance(rate, dict):
        raise InputError(Problem(file, None, "", f"expected a URDB rate object; got {type(rate).__name__}"))
    r = _lower_keys(rate)
    probs = _Problems(file)
    energy = _energy(r, probs)
    demand = _demand(r, probs)
    out: dict[str, Any] = {}
    _other_charges(r, out, probs)
    export = _export(r, probs)
    probs.raise_if_any()
    assert energy is not None
    label = r.get("label")
    desc = f"{r.get('utility', 'unknown utility')}: {r.get('name', 'unnamed rate')}"
    desc += f" (OpenEI URDB {label})" if label else " (OpenEI URDB)"
    if where:
        desc += f"; {where}"
    tariff: dict[str, Any] = {"type": energy.pop("type"), "description": desc, "currency": URDB_CURRENCY}
    tariff.update(energy)
    if demand:
        tariff["demand"] = demand
    tariff.update(out)
    if export is not None:
        if isinstance(export.get("price"), dict):  # a price per period: the periods the tariff kept
            sells = export["price"]["periods"]
            if tariff["type"] == "tou":
                prices = {p: sells[p] for p in tariff["periods"]}
                one = len(set(prices.values())) == 1
                export["price"] = next(iter(prices.values())) if one else {"periods": prices}
            else:  # one period in use: its index is the only one the schedules name
                export["price"] = sells[_only_period(r)]
        tariff["export"] = export
    _validate(tariff, file)
    return tariff


def _validate(tariff: dict, file: str) -> None:
    from pydantic import TypeAdapter, ValidationError

    from ..scenario.tariff import Tariff

    try:
        TypeAdapter(Tariff).validate_python(tariff)
    except ValidationError as e:  # the importer built something the schema refuses
        out = []
        for err in e.errors(include_url=False):
            loc = [str(x) for x in err["loc"]]
            loc = loc[1:] if loc and loc[0] == tariff.get("type") else loc  # the union's tag
            for sub, msg in (err.get("ctx") or {}).get("problems") or [((), err["msg"])]:
                out.append(Problem(file, None, "(imported tariff) " + ".".join(loc + [str(x) for x in sub]), msg))
        raise InputError(out) from None
