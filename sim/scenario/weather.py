"""The weather part of the scenario format: where a run's hourly outdoor temperature (and
irradiance) comes from, and the settings of the controllable-load model that acts on the
temperature-dependent load (``model: controllable_load``). docs/scenario.md ("Weather") and
docs/behavior.md ("Controllable load") give the keys and the equations."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .base import Model, Param, problems, within as _within

#: The CSV weather's irradiance columns (all or none).
IRRADIANCE_COLUMNS = ("ghi_column", "dni_column", "dhi_column")

#: ``tmy3:`` values that name a typical-year file shipped with pvlib (read offline).
PVLIB_SAMPLES = ("pvlib:723170TYA.CSV", "pvlib:703165TY.csv")


def _pvlib_sample(name: str) -> Path:
    """The path of a TMY3 sample file shipped in pvlib's data folder (found without importing
    pvlib, which takes seconds; no download)."""
    from importlib.util import find_spec

    spec = find_spec("pvlib")
    if spec is None or not spec.submodule_search_locations:
        raise PydanticCustomError("drsim_file", "pvlib is not installed: its sample files cannot be read", {})
    return Path(spec.submodule_search_locations[0]) / "data" / name.split(":", 1)[1]


class Site(Model):
    """Where a CSV weather file was measured (a TMY3 file names its own site)."""

    latitude: float = Field(ge=-90, le=90, description="Latitude, north positive. [deg]")
    longitude: float = Field(ge=-180, le=180, description="Longitude, east positive. [deg]")
    altitude: float = Field(0.0, ge=-500, le=9000, description="Altitude above sea level. [m]")
    utc_offset: float = Field(ge=-12, le=14, description=(
        "Hours the file's local standard time is ahead of UTC (-5: US Eastern). [h]"))


class Weather(Model):
    """Hourly outdoor temperature (and, for rooftop PV, irradiance) of the run, from a TMY3
    typical-year file (read with pvlib) or an hourly CSV file. Exactly one of ``tmy3`` and ``csv``."""

    tmy3: str | None = Field(None, description=(
        "A TMY3 file (path relative to the scenario file), or one of pvlib's sample files: "
        + ", ".join(PVLIB_SAMPLES) + " (Greensboro NC; Sand Point AK). Mapped onto the horizon by month, day "
        "and hour; 29 February takes 28 February's hours."))
    csv: Path | None = Field(None, description=(
        "An hourly CSV file (path relative to the scenario file): a header row, then one row per hour of the "
        "horizon, with a first column 'timestamp' (local time, hour start) or in hour order from the "
        "horizon's start."))
    temperature_column: str | int = Field("temp_air", description="The CSV's dry-bulb temperature column. [degC]")
    ghi_column: str | int | None = Field(None, description=(
        "The CSV's global horizontal irradiance column, the hour's mean (rooftop PV; with dni_column, "
        "dhi_column and site). [W/m2]"))
    dni_column: str | int | None = Field(None, description="The CSV's direct normal irradiance column. [W/m2]")
    dhi_column: str | int | None = Field(None, description="The CSV's diffuse horizontal irradiance column. [W/m2]")
    wind_column: str | int | None = Field(None, description=(
        "The CSV's wind speed column (cell temperature; default: 1 m/s throughout). [m/s]"))
    site: Site | None = Field(None, description="The CSV's site (required with irradiance columns).")

    @field_validator("tmy3")
    @classmethod
    def _tmy3_file(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None:
            return v
        if v.lower().startswith("pvlib:"):
            match = [s for s in PVLIB_SAMPLES if s.lower() == v.lower()]
            if not match:
                raise PydanticCustomError("drsim_file", "unknown pvlib sample {v!r}; valid: {valid}",
                                          {"v": v, "valid": ", ".join(PVLIB_SAMPLES)})
            if not _pvlib_sample(match[0]).is_file():
                raise PydanticCustomError("drsim_file", "pvlib's sample file is missing: {path}",
                                          {"path": str(_pvlib_sample(match[0]))})
            return match[0]
        base = (info.context or {}).get("base_dir")
        path = Path(v) if Path(v).is_absolute() or base is None else Path(base) / v
        if not path.is_file():
            raise PydanticCustomError("drsim_file", "file not found: {path}", {"path": str(path)})
        return str(path)

    @field_validator("csv")
    @classmethod
    def _csv_file(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        if v is None:
            return v
        base = (info.context or {}).get("base_dir")
        path = v if v.is_absolute() or base is None else Path(base) / v
        if not path.is_file():
            raise PydanticCustomError("drsim_file", "file not found: {path}", {"path": str(path)})
        return path

    @model_validator(mode="after")
    def _one_source(self) -> Weather:
        if (self.tmy3 is None) == (self.csv is None):
            raise problems([((), "give exactly one of tmy3 and csv")])
        named = [k for k in IRRADIANCE_COLUMNS if getattr(self, k) is not None]
        errs = []
        if self.tmy3 is not None:
            errs += [((k,), "a TMY3 file has its own irradiance, wind and site: give this with csv only")
                     for k in (*named, "wind_column", "site") if getattr(self, k) is not None]
        elif named and len(named) < len(IRRADIANCE_COLUMNS):
            errs += [((k,), "required with the other irradiance columns") for k in IRRADIANCE_COLUMNS
                     if k not in named]
        elif named and self.site is None:
            errs.append((("site",), "required with irradiance columns (latitude, longitude, utc_offset)"))
        if errs:
            raise problems(errs)
        return self

    @property
    def has_irradiance(self) -> bool:
        """Whether the weather gives irradiance (every TMY3 file; a CSV with its columns named)."""
        return self.tmy3 is not None or self.ghi_column is not None

    def path(self) -> Path:
        """The file to read."""
        if self.csv is not None:
            return self.csv
        return _pvlib_sample(self.tmy3) if self.tmy3.startswith("pvlib:") else Path(self.tmy3)




class ControllableLoad(Model):
    """A device (smart thermostat, AC switch, water-heater or EV control) that curtails a
    share of one end use's load in high-price steps, with pre-cooling before and a rebound
    after (docs/behavior.md, "Controllable load")."""

    model: Literal["controllable_load"]
    adoption: float = Field(1.0, ge=0, le=1, description=(
        "Share of the segment's customers with the device (drawn per customer); the others act by hand "
        "(manual_share)."))
    end_use: Literal["cooling", "heating", "fixed"] = Field("cooling", description=(
        "The controlled end use: cooling or heating (the temperature-dependent load of the weather model: zero "
        "without weather), or fixed (a water heater, an EV charger: fixed_share of the load in every step)."))
    fixed_share: Param = Field(0.0, description="end_use fixed: share of each step's load the device controls, [0, 1].")
    device_share: Param = Field(0.5, description=(
        "Share of the controlled load a device keeps off in a control step (an AC switch's cycling share; "
        "the duty-cycle limit), [0, 1]."))
    manual_share: Param = Field(0.0, description=(
        "Share of the controlled load customers without a device turn off by hand in a control step, [0, 1]."))
    trigger_ratio: float = Field(4.0, gt=1, le=1000, description=(
        "The device acts in the steps whose price is at least this multiple of the day's lowest price of the "
        "tariff (an event, not an ordinary TOU peak)."))
    max_hours: float = Field(6.0, gt=0, le=24, description=(
        "Comfort limit: control ends after this many hours of a day's control steps."))
    precool_hours: float = Field(0.0, ge=0, le=12, description="Hours before the first control step with pre-cooling.")
    precool_share: Param = Field(0.0, description=(
        "Extra controlled load drawn in the pre-cooling hours, as a share of the controlled load then, [0, 1]."))
    rebound_share: Param = Field(0.5, description=(
        "Share of the energy kept off (net of pre-cooling) drawn back after the last control step, [0, 1]."))
    recovery_hours: float = Field(2.0, gt=0, le=12, description="Hours over which the rebound is drawn.")
    duration_exponent: float = Field(0.0, ge=0, le=3, description=(
        "A device's per-hour share falls with the day's control length: device_share x (hours / "
        "reference_hours) ** -duration_exponent, at most 1. 0 (the default): the same share whatever the "
        "length (an AC switch's cycling); 0.54 for a thermostat setback (Herter et al., LBNL: 41 % in "
        "two-hour, 25 % in five-hour critical periods)."))
    reference_hours: float = Field(5.0, gt=0, le=24, description=(
        "The control length at which a device keeps device_share off (with duration_exponent). [h]"))
    _fs = _within("fixed_share", 0.0, 1.0)
    _ds = _within("device_share", 0.0, 1.0)
    _ms = _within("manual_share", 0.0, 1.0)
    _ps = _within("precool_share", 0.0, 1.0)
    _rs = _within("rebound_share", 0.0, 1.0)
