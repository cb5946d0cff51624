"""Currency in the scenario format: the default, how a scenario takes its currency from its
tariffs, and the check that refuses to mix currencies in one scenario.

A scenario's money (every price, cost and bill) is in one currency, its ``currency``. A
tariff may name the currency of its prices (``drsim tariff import-urdb`` writes ``USD``, the
currency of every OpenEI URDB rate); a scenario that names no currency takes the one that
all its tariffs name, and a tariff whose currency differs from the scenario's is refused
(``docs/scenario.md``, section 1: currency). drsim converts no currency.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CURRENCY_PATTERN", "DEFAULT_CURRENCY", "currency_from_tariffs", "currency_problems"]

#: The scenario's currency when neither it nor all of its tariffs name one.
DEFAULT_CURRENCY = "CNY"

#: An ISO 4217 alphabetic code: three capital letters.
CURRENCY_PATTERN = r"^[A-Z]{3}$"


def currency_from_tariffs(data: Any) -> Any:
    """Raw scenario data with ``currency`` set to the one every tariff names, when the data
    names none and every tariff names the same; otherwise the data unchanged."""
    if not isinstance(data, dict) or "currency" in data or not isinstance(data.get("tariffs"), dict):
        return data
    named = {t.get("currency") if isinstance(t, dict) else None for t in data["tariffs"].values()}
    if len(named) == 1 and isinstance(code := next(iter(named)), str):
        return {**data, "currency": code}
    return data


def currency_problems(currency: str, tariffs: dict, *, named: bool) -> list[tuple[tuple, str]]:
    """(path, message) for each tariff whose ``currency`` is not the scenario's ``currency``;
    ``named``: whether the scenario (or every tariff) named it, or it is the default."""
    out = []
    for name, tariff in tariffs.items():
        code = getattr(tariff, "currency", None)
        if code is not None and code != currency:
            whose = (f"the scenario's currency is {currency}" if named else
                     f"the scenario's currency is {currency}, the default (it names none, and its tariffs do not "
                     "all name one)")
            out.append((("tariffs", name, "currency"),
                        f"this tariff's prices are in {code}, but {whose}; drsim does not mix currencies in one "
                        f"scenario: set `currency: {code}` at the top of the scenario (with every other price and "
                        f"cost in {code}), or convert this tariff's prices to {currency} and drop its `currency`"))
    return out
