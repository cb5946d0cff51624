"""The rooftop-PV part of the scenario format (``model: pv`` in a segment's ``behavior``): who
has a system, how large, which way it faces, and the system's losses. docs/prosumers.md
gives the equations and the sources of the defaults; docs/scenario.md the keys."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import CsvSeries, LogNormal, Model, Param, problems, within as _within


class Orientation(Model):
    """One orientation class of the segment's systems: the modules' tilt and azimuth and the
    share of the systems that face that way."""

    azimuth: float = Field(ge=0, lt=360, description="Compass direction the modules face (180: south). [deg]")
    tilt: float = Field(ge=0, le=90, description="Module tilt from the horizontal. [deg]")
    share: float = Field(gt=0, le=1, description="Share of the segment's PV systems with this orientation.")


#: Default orientation classes: LBNL "Tracking the Sun" (2021 edition, systems installed in
#: 2020): 54 % of residential systems face south, 24 % west, most of the rest east. The tilt
#: of 20 deg is an assumption (a typical pitched roof; the report's summary gives no figure).
DEFAULT_ORIENTATIONS = (Orientation(azimuth=180.0, tilt=20.0, share=0.54),
                        Orientation(azimuth=270.0, tilt=20.0, share=0.24),
                        Orientation(azimuth=90.0, tilt=20.0, share=0.22))


class PvSystem(Model):
    """The PVWatts system settings every system of the segment shares (per kWp of modules)."""

    losses_pct: float = Field(14.08, ge=0, lt=100, description=(
        "DC system losses (soiling, shading, mismatch, wiring, ...), PVWatts' default total. [%]"))
    dc_ac_ratio: float = Field(1.2, ge=0.5, le=3, description="Module DC rating over inverter AC rating (PVWatts default).")
    gamma_pdc: float = Field(-0.0037, ge=-0.01, le=0, description=(
        "Temperature coefficient of the modules' power, PVWatts' standard module. [1/degC]"))
    inverter_efficiency: float = Field(0.96, gt=0.5, le=1, description="Nominal inverter efficiency (PVWatts default).")
    albedo: float = Field(0.2, ge=0, le=1, description="Ground reflectance.")
    mounting: Literal["close_mount_glass_glass", "open_rack_glass_polymer", "open_rack_glass_glass",
                      "insulated_back_glass_polymer"] = Field("close_mount_glass_glass", description=(
                          "The SAPM cell-temperature parameters (King et al. 2004) of the mounting: roof-mounted "
                          "modules close to the roof by default."))


class SolarPv(Model):
    """Rooftop PV on a share of the segment's customers: each system's generation, a kW-per-kWp
    profile of its orientation class computed once with pvlib from the scenario's weather (or
    a measured profile), scaled by the system's size and subtracted from the main-meter load
    in both roles (sim.behavior.pv; docs/prosumers.md)."""

    model: Literal["pv"]
    adoption: float = Field(ge=0, le=1, description="Share of the segment's customers with a rooftop PV system.")
    kwp: Param = Field(LogNormal(dist="lognormal", mean=7.0, cv=0.4), description=(
        "System size per customer with PV, DC rating of the modules (default: median 6.5 kW, LBNL Tracking the "
        "Sun). [kWp]"))
    orientations: list[Orientation] = Field(list(DEFAULT_ORIENTATIONS), min_length=1, max_length=16, description=(
        "Orientation classes and their shares (shares sum to 1)."))
    system: PvSystem = Field(default_factory=PvSystem, description="Losses, inverter and mounting.")
    measured: CsvSeries | None = Field(None, description=(
        "A measured output profile instead of the weather: an hourly CSV, one row per hour of the horizon, of "
        "kW per kWp (every system the same profile; orientations and system are then not used). [kW/kWp]"))
    _kwp = _within("kwp", 0.0, float("inf"))

    @model_validator(mode="after")
    def _shares(self) -> SolarPv:
        total = sum(o.share for o in self.orientations)
        if abs(total - 1.0) > 1e-9:
            raise problems([(("orientations",), f"shares must sum to 1; they sum to {total:g}")])
        return self
