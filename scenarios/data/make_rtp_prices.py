"""Write the illustrative hourly wholesale price series used by scenarios/real_time_pricing.yaml.

The series is synthetic: a plausible shape for a Chinese provincial spot market, not data
from any market. One value per hour of a calendar year, in CNY/kWh, built as

    price[t] = level(day) x shape(hour, day) x weekend(day) x exp(noise[t])

* level(day): the seasonal cycle, highest in late July (cooling) and late January
  (heating), lowest in spring and autumn:
  0.37 + 0.045 cos(4 pi (doy - 210) / 365) + 0.02 cos(2 pi (doy - 210) / 365);
* shape(hour, day): the daily cycle, a sum of smooth bumps on a night base: a morning
  peak near 10:30 (business hours), an evening peak near 19:30 (households), an
  afternoon cooling bump near 15:00 that grows towards midsummer, and a midday solar dip
  that is deepest in spring;
* weekend(day): 0.9 on Saturdays and Sundays (public holidays are not treated apart);
* noise[t]: an AR(1) process (coefficient 0.8, innovation sd 0.04) plus a daily level
  shock (sd 0.05), from a fixed seed, so the file is the same on every run.

The result is scaled so that the year's mean price is 0.38 CNY/kWh (the energy cost the
other example scenarios assume) and floored at 0.02. Only the Python standard library
is used.

Usage (from the repository root; writes scenarios/data/rtp_prices_2025.csv by default):

    python scenarios/data/make_rtp_prices.py [--year 2025] [--seed 2025] [--out FILE]

The CSV has a header row and two columns, ``timestamp`` (ISO 8601, start of the hour,
local time) and ``price_cny_per_kwh``. Since the first column is ``timestamp``, drsim
places each row by its timestamp, so any hourly run inside ``--year`` reads the prices of
its own hours.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import random
from pathlib import Path

MEAN_PRICE = 0.38  # CNY/kWh, the year's mean after scaling
FLOOR = 0.02       # CNY/kWh, lowest value written


def level(doy: int) -> float:
    """Seasonal price level of day-of-year ``doy`` (1-366), before scaling. [CNY/kWh]"""
    return (0.37 + 0.045 * math.cos(4 * math.pi * (doy - 210) / 365)
            + 0.02 * math.cos(2 * math.pi * (doy - 210) / 365))


def bump(h: float, centre: float, width: float) -> float:
    """A smooth bump of height 1 at hour ``centre``, measured on the 24-hour circle."""
    d = min(abs(h - centre), 24 - abs(h - centre))
    return math.exp(-(d / width) ** 2)


def shape(hour: int, doy: int) -> float:
    """Daily cycle: relative price of hour ``hour`` (0-23) on day ``doy``."""
    h = hour + 0.5  # the middle of the hour
    summer = max(0.0, math.cos(2 * math.pi * (doy - 210) / 365)) ** 2   # 1 at end of July, 0 from October to April
    spring = max(0.0, math.cos(2 * math.pi * (doy - 110) / 365)) ** 4   # 1 in late April
    return (0.62
            + 0.55 * bump(h, 10.5, 1.8)            # morning peak (business hours)
            + 0.60 * bump(h, 19.5, 1.8)            # evening peak (households)
            + 0.45 * summer * bump(h, 15.0, 2.2)   # afternoon cooling load
            - 0.30 * spring * bump(h, 13.0, 2.0))  # midday solar dip


def series(year: int, seed: int) -> list[tuple[dt.datetime, float]]:
    """(hour start, price) for every hour of ``year``, scaled to MEAN_PRICE and floored."""
    rng = random.Random(seed)
    start = dt.datetime(year, 1, 1)
    hours = (dt.datetime(year + 1, 1, 1) - start).days * 24
    raw, ar, day_shock = [], 0.0, 0.0
    for k in range(hours):
        t = start + dt.timedelta(hours=k)
        doy = t.timetuple().tm_yday
        if t.hour == 0:
            day_shock = rng.gauss(0.0, 0.05)
        ar = 0.8 * ar + rng.gauss(0.0, 0.04)
        weekend = 0.9 if t.weekday() >= 5 else 1.0
        raw.append((t, level(doy) * shape(t.hour, doy) * weekend * math.exp(ar + day_shock)))
    scale = MEAN_PRICE / (sum(p for _, p in raw) / len(raw))
    return [(t, max(FLOOR, p * scale)) for t, p in raw]


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--year", type=int, default=2025, help="calendar year (default 2025)")
    ap.add_argument("--seed", type=int, default=2025, help="seed of the noise (default 2025)")
    ap.add_argument("--out", type=Path, help="CSV to write (default: rtp_prices_<year>.csv next to this script)")
    args = ap.parse_args()
    out = args.out or here / f"rtp_prices_{args.year}.csv"
    rows = series(args.year, args.seed)
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["timestamp", "price_cny_per_kwh"])
        for t, p in rows:
            w.writerow([t.strftime("%Y-%m-%dT%H:%M"), f"{p:.4f}"])
    prices = [p for _, p in rows]
    print(f"wrote {out}: {len(rows)} hours, mean {sum(prices) / len(prices):.4f}, "
          f"min {min(prices):.4f}, max {max(prices):.4f} CNY/kWh")


if __name__ == "__main__":
    main()
