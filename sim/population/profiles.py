"""Built-in normalized base-load shapes for drsim customer classes.

This module provides typical hourly electricity load shapes for three customer
classes -- ``"residential"``, ``"commercial"`` and ``"industrial"`` -- for
weekdays and weekends in three seasons, plus twelve month-level energy factors,
and a helper :func:`daily_shape` that turns them into a normalized per-step
load multiplier for any day of the year.

All three shapes are derived from published, measured load-profile data (no
class is a hand-drawn or "stylized" shape):

* ``residential`` -- UK Elexon / Electricity Association load profile for
  Profile Class 1 (domestic unrestricted), 1997 reference data, as distributed
  by the UKERC Energy Data Centre.
* ``commercial`` -- the same UK dataset, Profile Class 3 (non-domestic
  unrestricted: small offices, shops and other small businesses on a single-rate
  meter).
* ``industrial`` -- the Dutch NEDU/MFFBAS 2019 standard electricity profile
  category E3D (connections > 3x80 A, < 100 kW, operating time >= 5000 h per
  year), as used for "other industry" by the Energy Transition Model dataset of
  Quintel.

The exact files, the processing applied to them and their limitations are
documented on each ``*_PROFILE`` constant below and in ``docs/profiles.md``.

Seasons
-------
``SEASON_OF_MONTH`` maps calendar months to the three drsim seasons using a
northern-hemisphere meteorological convention: December, January and February
are ``"winter"``; June, July and August are ``"summer"``; March-May and
September-November are ``"shoulder"``.  The source data use their own season
definitions; how they were mapped onto these three seasons is described per
class.

Normalization
-------------
The hourly tables in :class:`ClassProfile` are stored in their source units
(kW) and only their *relative* values matter.  :func:`daily_shape` rescales
them as follows, for a class with weekday table ``wd[s]``, weekend table
``we[s]`` and monthly factors ``f[m]``:

1. For season ``s`` the mean daily load of an average week is
   ``w[s] = (5 * mean(wd[s]) + 2 * mean(we[s])) / 7``.
2. A day in month ``m`` (season ``s = SEASON_OF_MONTH[m]``) gets the raw hourly
   values ``f[m] / w[s] * wd[s]`` (weekday) or ``f[m] / w[s] * we[s]``
   (weekend), so that the average week of month ``m`` has mean ``f[m]``.
3. All days are divided by the single constant
   ``Y = sum_m DAYS_IN_MONTH[m] / 365 * f[m]`` (a 365-day year).

Hence, for every class, averaging ``daily_shape`` over a whole year -- each
month weighted by its number of days, and within each month 5/7 weekdays and
2/7 weekend days -- gives exactly 1.0.  A customer with annual-mean load
``P`` kW therefore draws ``P * daily_shape(...)`` kW in each step.  The stored
``monthly_energy`` factors are already normalized so that ``Y`` is 1 up to
their 4-decimal rounding; step 3 removes that rounding error.

Sub-hourly resolutions (48 or 96 steps per day) are obtained from the hourly
day by periodic piecewise-linear interpolation at step midpoints (hourly values
sit at the hour midpoints ``h + 0.5``; 23:30 connects to 00:30 of the same
day), after which the day is rescaled so its mean equals the mean of the
hourly day.  The daily energy, and therefore the annual normalization, is thus
identical for 24, 48 and 96 steps per day.

Holidays are not modelled separately; callers should pass ``weekend=True`` for
public holidays (in the NEDU data 1 January has the profile of a Sunday).

References
----------
.. [1] Elexon Ltd (1997). *Electricity user load profiles by profile class*
   [Data set]. Electricity Association (supplied by Elexon Ltd). UKERC Energy
   Data Centre,
   https://ukerc.rl.ac.uk/cgi-bin/dataDiscover.pl?Action=detail&dataid=5af8ae29-86a7-4e8c-9fe4-1e2d99d9fb96
.. [2] Elexon, BSC Guidance Note "Load Profiles and their use in Electricity
   Settlement", v4.0,
   https://bscdocs.elexon.co.uk/guidance-notes/load-profiles-and-their-use-in-electricity-settlement
.. [3] GitHub ``themathedges/3YP-Standalone-Kennington``, files
   ``data/ProfileClass1.csv`` and ``data/ProfileClass3.csv`` (commit
   a444c78f36d6439a8e49d3b3dbd72c7c0e25eceb) -- copies of the UKERC files of
   [1]; the numbers used here were read from these copies.
.. [4] GitHub ``quintel/etdataset-public``, file
   ``curves/demand/industry/other/electricity/data/nl/2019/input/e3d.csv`` and
   ``curves/demand/industry/other/electricity/README.md`` (commit
   5758376d30f7553e5966343d0303ac398d222a96): NEDU E3D 2019 profile, 35040
   quarter-hourly fractions of annual consumption (source: MFFBAS/NEDU,
   "profielen Elektriciteit 2019 versie 1.00", https://www.mffbas.nl/documenten/).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "CUSTOMER_CLASSES",
    "SEASONS",
    "SEASON_OF_MONTH",
    "DAYS_IN_MONTH",
    "STEPS_PER_DAY_CHOICES",
    "ClassProfile",
    "RESIDENTIAL_PROFILE",
    "COMMERCIAL_PROFILE",
    "INDUSTRIAL_PROFILE",
    "PROFILES",
    "daily_shape",
]

CUSTOMER_CLASSES: tuple[str, ...] = ("residential", "commercial", "industrial")
"""Names of the built-in customer classes, in canonical order."""

SEASONS: tuple[str, ...] = ("winter", "summer", "shoulder")
"""Names of the three drsim seasons."""

SEASON_OF_MONTH: dict[int, str] = {
    1: "winter",
    2: "winter",
    3: "shoulder",
    4: "shoulder",
    5: "shoulder",
    6: "summer",
    7: "summer",
    8: "summer",
    9: "shoulder",
    10: "shoulder",
    11: "shoulder",
    12: "winter",
}
"""Month (1 = January ... 12 = December) -> season.

Northern-hemisphere meteorological seasons: Dec-Feb ``"winter"``, Jun-Aug
``"summer"``, Mar-May and Sep-Nov ``"shoulder"``.
"""

DAYS_IN_MONTH: tuple[int, ...] = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
"""Days per month (Jan..Dec) of the 365-day year used for the normalization."""

STEPS_PER_DAY_CHOICES: tuple[int, ...] = (24, 48, 96)
"""Resolutions accepted by :func:`daily_shape` (60, 30 and 15 minute steps)."""

_HOURS = 24


@dataclass(frozen=True)
class ClassProfile:
    """Typical hourly load shape of one customer class.

    Parameters
    ----------
    customer_class : str
        Class name, one of :data:`CUSTOMER_CLASSES`.
    source : str
        Short citation of the data the shape was derived from.
    weekday : dict of str to tuple of float
        Season name (each of :data:`SEASONS`) -> 24 hourly values for a
        working day.  Index ``h`` is the hour-beginning ``h:00``-``h+1:00``
        (local clock time).  Any positive scale; the stored values are in the
        source's units (see the class's documentation).
    weekend : dict of str to tuple of float
        Same as `weekday`, for weekend days and public holidays.  Must use the
        same scale as `weekday`, since the weekday/weekend level ratio is kept.
    monthly_energy : tuple of float
        Twelve relative factors (January..December) for the mean daily energy
        of an average week (5 weekdays + 2 weekend days) of each month.

    Raises
    ------
    ValueError
        If a season is missing, a table does not have 24 finite positive
        values, or `monthly_energy` does not have 12 finite positive values.

    See Also
    --------
    daily_shape : Normalized per-step shape of one day.
    """

    customer_class: str
    source: str
    weekday: dict[str, tuple[float, ...]] = field(hash=False)
    weekend: dict[str, tuple[float, ...]] = field(hash=False)
    monthly_energy: tuple[float, ...]

    def __post_init__(self) -> None:
        for name in ("weekday", "weekend"):
            table = getattr(self, name)
            if set(table) != set(SEASONS):
                raise ValueError(
                    f"{self.customer_class!r} {name} table must have exactly the "
                    f"seasons {SEASONS}, got {tuple(table)}"
                )
            for season, values in table.items():
                _check_positive(values, _HOURS, f"{self.customer_class!r} {name}[{season!r}]")
        _check_positive(self.monthly_energy, 12, f"{self.customer_class!r} monthly_energy")


def _check_positive(values, n: int, what: str) -> None:
    if len(values) != n:
        raise ValueError(f"{what} must have {n} values, got {len(values)}")
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"{what} must contain finite positive values only")


# ---------------------------------------------------------------------------
# Residential -- UK Profile Class 1 (domestic unrestricted)
# ---------------------------------------------------------------------------

RESIDENTIAL_PROFILE = ClassProfile(
    customer_class="residential",
    source=(
        "Elexon/Electricity Association load profiles by profile class, "
        "Profile Class 1 (domestic unrestricted), GB, 1997 reference data "
        "(UKERC Energy Data Centre); read from "
        "themathedges/3YP-Standalone-Kennington data/ProfileClass1.csv"
    ),
    weekday={
        "winter": (
            0.3050, 0.2400, 0.2150, 0.2050, 0.2050, 0.2300,
            0.3500, 0.5750, 0.5950, 0.5100, 0.4850, 0.4700,
            0.4900, 0.4600, 0.4500, 0.5000, 0.7100, 0.9050,
            0.9150, 0.8600, 0.7900, 0.7450, 0.6300, 0.4500,
        ),
        "summer": (
            0.2596, 0.2098, 0.1924, 0.1848, 0.1848, 0.1998,
            0.2778, 0.3983, 0.4178, 0.3974, 0.3822, 0.3724,
            0.3898, 0.3574, 0.3474, 0.3676, 0.4704, 0.5407,
            0.5180, 0.4804, 0.4872, 0.5391, 0.5152, 0.3774,
        ),
        "shoulder": (
            0.2770, 0.2197, 0.2000, 0.1911, 0.1941, 0.2101,
            0.3182, 0.4947, 0.5079, 0.4486, 0.4272, 0.4123,
            0.4350, 0.4043, 0.3924, 0.4237, 0.5737, 0.7048,
            0.7174, 0.6980, 0.6827, 0.6662, 0.5778, 0.4099,
        ),
    },
    weekend={
        "winter": (
            0.3650, 0.2750, 0.2325, 0.2125, 0.2100, 0.2200,
            0.2750, 0.3850, 0.5100, 0.5850, 0.6300, 0.6475,
            0.6800, 0.6350, 0.5775, 0.5950, 0.7175, 0.8700,
            0.9025, 0.8650, 0.7850, 0.7275, 0.6250, 0.4750,
        ),
        "summer": (
            0.2961, 0.2299, 0.2024, 0.1936, 0.1924, 0.1961,
            0.2312, 0.3162, 0.3953, 0.4555, 0.4792, 0.4930,
            0.5195, 0.4717, 0.4145, 0.4158, 0.4467, 0.5005,
            0.4955, 0.4804, 0.4808, 0.5110, 0.5016, 0.3875,
        ),
        "shoulder": (
            0.3272, 0.2496, 0.2143, 0.1986, 0.1969, 0.2047,
            0.2482, 0.3494, 0.4573, 0.5259, 0.5549, 0.5717,
            0.6060, 0.5524, 0.4904, 0.4979, 0.5716, 0.6726,
            0.7041, 0.7070, 0.6754, 0.6472, 0.5705, 0.4300,
        ),
    },
    monthly_energy=(
        1.1626, 1.1626, 1.1472, 0.9250, 0.8647, 0.8401,
        0.8372, 0.8333, 0.9347, 0.9788, 1.1626, 1.1626,
    ),
)
"""Residential (domestic) base-load shape.

Source
    UK settlement load profile, Profile Class 1 "Domestic Unrestricted"
    (average single-rate domestic customer), 1997 reference data, half-hourly
    Group Average Demand in kW for 5 seasons (Winter, Spring, Summer, High
    Summer, Autumn) x 3 day types (weekday, Saturday, Sunday) [1]_.  Values
    were read from the copy ``data/ProfileClass1.csv`` in the GitHub
    repository ``themathedges/3YP-Standalone-Kennington`` (commit a444c78) [3]_;
    an identical copy exists as ``ProfileClass1.csv`` in
    ``bluedotthinking/domestic-energy-bill-reduction-app`` (commit b017337).

Processing
    (1) Half-hour pairs averaged to hour-beginning hourly values (row ``k`` of
    the file is settlement period ``k + 1``, i.e. ``k*30`` to ``k*30 + 30``
    minutes).  (2) Weekend = mean of Saturday and Sunday.  (3) Each drsim
    season is the day-weighted mean of the UK seasons covering its months,
    using the UK season calendar of 1997: winter = Wtr (90 days); summer =
    48 Smr + 44 Hsr days; shoulder = 65 Wtr + 41 Spr + 22 Smr + 55 Aut days.
    (4) ``monthly_energy[m]`` = day-weighted mean, over the UK seasons of month
    ``m`` (1997 calendar), of the average-week daily mean load, normalized to a
    day-weighted annual mean of 1.  Units of the tables: kW.

Shape
    Low night load, morning shoulder around 07:00-08:00, pronounced evening
    peak at 17:00-19:00 in winter; flatter, later evening in summer; mid-day
    hump on weekends.  Winter months use about 1.39x the energy of summer
    months.

Limitations
    British 1997 stock: little air-conditioning (no summer afternoon cooling
    peak), some electric heating, no EVs/heat pumps/rooftop PV.  Not
    representative of hot-climate or Chinese provincial residential demand,
    which typically peaks in summer evenings.

References
----------
.. [1] UKERC Energy Data Centre, "Electricity user load profiles by profile
   class", dataid 5af8ae29-86a7-4e8c-9fe4-1e2d99d9fb96.
.. [3] themathedges/3YP-Standalone-Kennington, data/ProfileClass1.csv.
"""

# ---------------------------------------------------------------------------
# Commercial -- UK Profile Class 3 (non-domestic unrestricted)
# ---------------------------------------------------------------------------

COMMERCIAL_PROFILE = ClassProfile(
    customer_class="commercial",
    source=(
        "Elexon/Electricity Association load profiles by profile class, "
        "Profile Class 3 (non-domestic unrestricted), GB, 1997 reference data "
        "(UKERC Energy Data Centre); read from "
        "themathedges/3YP-Standalone-Kennington data/ProfileClass3.csv"
    ),
    weekday={
        "winter": (
            0.7350, 0.7700, 0.7550, 0.7500, 0.7800, 0.8350,
            1.0700, 1.6050, 2.6000, 3.6550, 3.8800, 3.9300,
            3.8200, 3.5550, 3.5300, 3.4200, 3.1950, 2.3950,
            1.5650, 1.3550, 1.1950, 1.0200, 0.8950, 0.8050,
        ),
        "summer": (
            0.6074, 0.5728, 0.5602, 0.5552, 0.5704, 0.5978,
            0.7124, 1.0987, 1.8224, 2.6165, 2.7774, 2.8452,
            2.8176, 2.6687, 2.6730, 2.6124, 2.4143, 1.7383,
            1.1509, 1.0491, 0.9754, 0.9050, 0.8098, 0.7298,
        ),
        "shoulder": (
            0.6485, 0.6489, 0.6384, 0.6349, 0.6551, 0.7016,
            0.8817, 1.3551, 2.2317, 3.1592, 3.3571, 3.4157,
            3.3386, 3.1063, 3.0906, 2.9915, 2.7672, 2.0467,
            1.3751, 1.2375, 1.1143, 0.9657, 0.8467, 0.7527,
        ),
    },
    weekend={
        "winter": (
            0.7500, 0.7725, 0.7425, 0.7350, 0.7375, 0.7375,
            0.7975, 0.9275, 1.2025, 1.7050, 1.8725, 1.9000,
            1.7350, 1.5650, 1.5050, 1.4625, 1.4075, 1.2300,
            1.1200, 1.0550, 0.9725, 0.9200, 0.8425, 0.7800,
        ),
        "summer": (
            0.6564, 0.6025, 0.5714, 0.5649, 0.5624, 0.5636,
            0.5985, 0.7237, 0.9892, 1.4053, 1.5341, 1.5401,
            1.4551, 1.3222, 1.2907, 1.2409, 1.1802, 1.0092,
            0.9100, 0.8651, 0.8372, 0.8349, 0.7761, 0.7148,
        ),
        "shoulder": (
            0.6860, 0.6645, 0.6416, 0.6262, 0.6273, 0.6370,
            0.6898, 0.8183, 1.0981, 1.5445, 1.6921, 1.7079,
            1.5862, 1.4347, 1.3909, 1.3324, 1.2610, 1.0955,
            1.0061, 0.9693, 0.9237, 0.8770, 0.8080, 0.7356,
        ),
    },
    monthly_energy=(
        1.1381, 1.1381, 1.1265, 0.9589, 0.9056, 0.8838,
        0.8683, 0.8468, 0.9120, 0.9557, 1.1381, 1.1381,
    ),
)
"""Commercial (small non-domestic) base-load shape.

Source
    UK settlement load profile, Profile Class 3 "Non-Domestic Unrestricted"
    (small businesses -- shops, offices, small workshops -- on a single-rate
    meter), 1997 reference data, same dataset and layout as the residential
    profile [1]_.  Values were read from ``data/ProfileClass3.csv`` in
    ``themathedges/3YP-Standalone-Kennington`` (commit a444c78) [3]_.

Processing
    Identical to :data:`RESIDENTIAL_PROFILE` (hourly averaging, weekend =
    mean of Saturday and Sunday, day-weighted UK-season mixing with the 1997
    calendar, monthly factors from the season mix).  Units: kW.

Shape
    Business-hours plateau from about 09:00 to 16:00 on weekdays (about 5x the
    night load in winter), fast decline after 17:00, Saturday daytime at about
    two thirds of the weekday level and an almost flat Sunday.  Winter months use
    about 1.3x the energy of summer months (lighting and heating).

Limitations
    Small British businesses in 1997: no significant air-conditioning load,
    so no summer peak; large commercial buildings (malls, large offices,
    hotels, hospitals) have flatter and, in warm climates, cooling-driven
    shapes.  Chinese provincial commercial load typically has a longer
    evening tail and a summer maximum.

References
----------
.. [1] UKERC Energy Data Centre, "Electricity user load profiles by profile
   class", dataid 5af8ae29-86a7-4e8c-9fe4-1e2d99d9fb96.
.. [3] themathedges/3YP-Standalone-Kennington, data/ProfileClass3.csv.
"""

# ---------------------------------------------------------------------------
# Industrial -- NEDU E3D 2019 (NL), via Quintel ETM dataset
# ---------------------------------------------------------------------------

INDUSTRIAL_PROFILE = ClassProfile(
    customer_class="industrial",
    source=(
        "NEDU/MFFBAS standard electricity profile E3D 2019 (NL; >3x80 A, "
        "<100 kW, >=5000 operating h/yr); read from quintel/etdataset-public "
        "curves/demand/industry/other/electricity/data/nl/2019/input/e3d.csv"
    ),
    weekday={
        "winter": (
            0.1013, 0.1012, 0.1013, 0.1013, 0.1020, 0.1057,
            0.1141, 0.1227, 0.1242, 0.1246, 0.1234, 0.1235,
            0.1231, 0.1223, 0.1221, 0.1229, 0.1249, 0.1252,
            0.1246, 0.1225, 0.1185, 0.1140, 0.1077, 0.1053,
        ),
        "summer": (
            0.1025, 0.1025, 0.1021, 0.1020, 0.1001, 0.1073,
            0.1166, 0.1223, 0.1250, 0.1261, 0.1261, 0.1257,
            0.1258, 0.1259, 0.1260, 0.1263, 0.1243, 0.1222,
            0.1210, 0.1159, 0.1153, 0.1119, 0.1072, 0.1037,
        ),
        "shoulder": (
            0.1024, 0.1019, 0.1023, 0.1025, 0.1031, 0.1062,
            0.1152, 0.1223, 0.1248, 0.1248, 0.1243, 0.1240,
            0.1234, 0.1227, 0.1229, 0.1231, 0.1225, 0.1209,
            0.1226, 0.1222, 0.1191, 0.1149, 0.1080, 0.1046,
        ),
    },
    weekend={
        "winter": (
            0.1007, 0.1003, 0.0999, 0.0998, 0.1002, 0.1033,
            0.1100, 0.1168, 0.1166, 0.1174, 0.1179, 0.1180,
            0.1175, 0.1158, 0.1147, 0.1147, 0.1152, 0.1167,
            0.1159, 0.1139, 0.1126, 0.1100, 0.1053, 0.1032,
        ),
        "summer": (
            0.1028, 0.1026, 0.1019, 0.1017, 0.0990, 0.1034,
            0.1111, 0.1148, 0.1176, 0.1189, 0.1183, 0.1176,
            0.1173, 0.1165, 0.1166, 0.1167, 0.1152, 0.1132,
            0.1125, 0.1106, 0.1119, 0.1093, 0.1047, 0.1022,
        ),
        "shoulder": (
            0.1014, 0.1010, 0.1017, 0.1015, 0.1016, 0.1042,
            0.1113, 0.1166, 0.1181, 0.1187, 0.1185, 0.1170,
            0.1155, 0.1139, 0.1135, 0.1132, 0.1124, 0.1118,
            0.1128, 0.1133, 0.1133, 0.1107, 0.1052, 0.1022,
        ),
    },
    monthly_energy=(
        0.9998, 0.9991, 0.9985, 0.9979, 0.9990, 1.0001,
        1.0012, 1.0012, 1.0012, 1.0012, 1.0007, 1.0002,
    ),
)
"""Industrial base-load shape.

Source
    Dutch standard electricity profile category E3D for 2019 (connections
    larger than 3x80 A, below 100 kW, with an operating time of at least 5000
    hours per year), published by NEDU/MFFBAS and used by Quintel's Energy
    Transition Model as the profile of "other industry" [4]_.  The file holds
    35040 quarter-hourly fractions of annual consumption (summing to 1) with
    no timestamps; its first value is 2019-01-01 00:00-00:15.

Processing
    (1) Four Monday-to-Sunday weeks without public holidays were read:
    7-13 Jan, 8-14 Apr, 15-21 Jul and 14-20 Oct 2019.  The January week's
    position in the file is exact; the other weeks were located from their
    character offsets in the file (mean line length 416571/35040 characters;
    expected position error about +-1 hour), with local midnight at
    quarter-hour index ``96*d - 4`` during daylight-saving time.  These
    positions reproduce the January morning ramp (first rise at about
    04:45-05:00, steepest rise around 06:30-06:45) and the weekly energy pattern, which
    supports the alignment.  (2) Quarter-hours averaged to hourly values and
    multiplied by 4000, giving kW per MWh of annual consumption.
    (3) Weekday = mean of Monday-Friday, weekend = mean of Saturday and
    Sunday.  (4) winter = January week, summer = July week, shoulder = mean of
    the April and October weeks.  (5) ``monthly_energy``: week means of the
    four sampled months, linear (cyclic) interpolation for the other months,
    normalized to a day-weighted annual mean of 1 (variation below +-0.3 %).

Shape
    Very flat, high-load-factor profile: night load about 80 % of the daytime
    plateau, ramp-up 05:00-07:00, plateau 07:00-18:00, gentle decline in the
    evening; weekends only about 5 % lower than weekdays; almost no seasonal
    variation.

Limitations
    E3D covers small (<100 kW) long-operating-hours non-residential
    connections in the Netherlands, used as a proxy for industry; it is not
    measured heavy industry.  Large three-shift plants are even flatter,
    single-shift plants have a much stronger day/night and weekday/weekend
    contrast.  Dutch 2019 conditions; not representative of Chinese
    provincial industrial curves (which may show tariff-driven night shifts).

References
----------
.. [4] quintel/etdataset-public,
   curves/demand/industry/other/electricity/data/nl/2019/input/e3d.csv and
   curves/demand/industry/other/electricity/README.md.
"""

PROFILES: dict[str, ClassProfile] = {
    "residential": RESIDENTIAL_PROFILE,
    "commercial": COMMERCIAL_PROFILE,
    "industrial": INDUSTRIAL_PROFILE,
}
"""Built-in profile of each customer class, keyed by class name.

The normalized arrays returned by :func:`daily_shape` are computed from these
profiles once, at import time; modifying the tables afterwards has no effect.
"""


# ---------------------------------------------------------------------------
# Normalization and resampling
# ---------------------------------------------------------------------------


def _resample(hourly: np.ndarray, steps_per_day: int) -> np.ndarray:
    """Resample one hourly day to `steps_per_day` steps, preserving its mean.

    Parameters
    ----------
    hourly : numpy.ndarray
        24 hour-beginning values.
    steps_per_day : int
        Multiple of 24.

    Returns
    -------
    numpy.ndarray
        float64 array of shape ``(steps_per_day,)``; for 24 steps a copy of
        `hourly`.
    """
    if steps_per_day == _HOURS:
        return hourly.astype(np.float64, copy=True)
    steps_per_hour = steps_per_day // _HOURS
    midpoints = (np.arange(steps_per_day) + 0.5) / steps_per_hour  # hours
    # Hourly values sit at hour midpoints; extend one point on each side so the
    # interpolation wraps around midnight (periodic day).
    xp = np.arange(-0.5, _HOURS + 1.0, 1.0)
    fp = np.concatenate(([hourly[-1]], hourly, [hourly[0]]))
    values = np.interp(midpoints, xp, fp)
    return values * (hourly.mean() / values.mean())


def _build_shapes() -> dict[tuple[str, int, bool, int], np.ndarray]:
    """Precompute every normalized day for all classes, months and resolutions."""
    shapes: dict[tuple[str, int, bool, int], np.ndarray] = {}
    for name, profile in PROFILES.items():
        wd = {s: np.asarray(profile.weekday[s], dtype=np.float64) for s in SEASONS}
        we = {s: np.asarray(profile.weekend[s], dtype=np.float64) for s in SEASONS}
        week_mean = {s: (5.0 * wd[s].mean() + 2.0 * we[s].mean()) / 7.0 for s in SEASONS}
        factors = np.asarray(profile.monthly_energy, dtype=np.float64)
        year_mean = float(np.dot(DAYS_IN_MONTH, factors)) / sum(DAYS_IN_MONTH)
        for month in range(1, 13):
            season = SEASON_OF_MONTH[month]
            scale = factors[month - 1] / week_mean[season] / year_mean
            for weekend, table in ((False, wd[season]), (True, we[season])):
                hourly = table * scale
                for steps in STEPS_PER_DAY_CHOICES:
                    arr = _resample(hourly, steps)
                    arr.setflags(write=False)
                    shapes[(name, month, weekend, steps)] = arr
    return shapes


_SHAPES = _build_shapes()


def _as_int(value, name: str) -> int:
    """Return `value` as an ``int`` (any integral type except bool) or raise TypeError."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None


def daily_shape(customer_class: str, month: int, weekend: bool, steps_per_day: int) -> np.ndarray:
    """Relative load in each step of one day.

    Parameters
    ----------
    customer_class : str
        One of :data:`CUSTOMER_CLASSES`.
    month : int
        Calendar month, 1 (January) to 12 (December); selects the season via
        :data:`SEASON_OF_MONTH` and the month's energy factor.
    weekend : bool
        ``True`` for Saturdays, Sundays and public holidays, ``False`` for
        working days.
    steps_per_day : int
        24, 48 or 96 (60, 30 or 15 minute steps).  Step ``j`` covers
        ``[j, j + 1) * 24 / steps_per_day`` hours after local midnight.

    Returns
    -------
    numpy.ndarray
        New float64 array of shape ``(steps_per_day,)`` with the load of each
        step relative to the class's annual mean load.

    Raises
    ------
    ValueError
        If `customer_class` is unknown (the message lists the valid classes),
        `month` is not in 1..12 or `steps_per_day` is not 24, 48 or 96.
    TypeError
        If `month` or `steps_per_day` is not an integer.

    Notes
    -----
    Sub-hourly values come from the hourly values by piecewise-linear
    interpolation at step midpoints (periodic over midnight); the day is then
    rescaled so its mean equals the mean of the hourly day (energy preserved).

    Scale: averaged over a whole 365-day year -- each month weighted by its
    number of days (:data:`DAYS_IN_MONTH`), and within each month 5/7 weekdays
    and 2/7 weekend days -- the values have mean exactly 1.0 (to floating-point
    precision) for every class and resolution.  A customer with annual-mean
    load ``P`` kW therefore draws ``P * daily_shape(...)`` kW.  Within month
    ``m`` the average week has mean ``monthly_energy[m - 1] / Y`` with ``Y``
    the day-weighted annual mean of ``monthly_energy`` (``Y`` is 1 up to
    rounding of the stored factors).  See the module documentation.

    All arrays are precomputed at import; each call returns a fresh copy.

    Examples
    --------
    >>> import numpy as np
    >>> day = daily_shape("residential", 1, weekend=False, steps_per_day=24)
    >>> day.shape
    (24,)
    >>> int(np.argmax(day))  # winter weekday evening peak, 18:00-19:00
    18
    >>> q = daily_shape("residential", 1, weekend=False, steps_per_day=96)
    >>> bool(np.isclose(q.mean(), day.mean()))
    True
    """
    if customer_class not in PROFILES:
        raise ValueError(
            f"unknown customer class {customer_class!r}; "
            f"valid classes are: {', '.join(CUSTOMER_CLASSES)}"
        )
    month = _as_int(month, "month")
    if not 1 <= month <= 12:
        raise ValueError(f"month must be in 1..12, got {month}")
    steps_per_day = _as_int(steps_per_day, "steps_per_day")
    if steps_per_day not in STEPS_PER_DAY_CHOICES:
        raise ValueError(
            f"steps_per_day must be one of {STEPS_PER_DAY_CHOICES}, got {steps_per_day}"
        )
    return _SHAPES[(customer_class, month, bool(weekend), steps_per_day)].copy()
