"""The electric-heat part of the scenario format (``model: electric_heat``): heat pumps or
electric storage heaters driven by the run's weather, and the electrification choice of the
customers who heat with coal, gas or oil today. docs/electrification.md gives the equations
and the evidence; docs/scenario.md the keys."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import Model, Param, problems, within as _within

#: Fuels a segment's customers may heat with today (the electrification choice's alternatives).
FUELS = ("coal", "gas", "oil")


class Fuel(Model):
    """How a share of the segment's customers heat today, and what it costs them."""

    share: float = Field(ge=0, le=1, description="Share of the segment's customers heating with this fuel today.")
    price: float = Field(ge=0, description="Price of the fuel per unit (`unit`). [currency/unit]")
    unit: str = Field("kWh", max_length=16, description="The fuel's unit of sale (t, m3, l, kWh): a label.")
    kwh_per_unit: float = Field(1.0, gt=0, description=(
        "Final energy in one unit of the fuel (its heating value): coal about 8,000 kWh/t, natural gas about "
        "10 kWh/m3, heating oil about 10 kWh/l; 1 when the price is per kWh. [kWh/unit]"))
    efficiency: float = Field(gt=0, le=1.5, description=(
        "Heat delivered per kWh of fuel by the stove or boiler. [-]"))


class ElectricHeat(Model):
    """Space heating by heat pumps or electric storage heaters: a load from the run's weather
    for the customers heating electrically, and the customers heating with coal, gas or oil
    who switch to electric heat when the scenario tariff makes it cheaper over the
    equipment's life (docs/electrification.md)."""

    model: Literal["electric_heat"]
    technology: Literal["heat_pump", "storage_heater"] = Field(description=(
        "The electric heating of the electric share and of every customer who switches."))
    heat_kwh_per_degree_hour: Param = Field(description=(
        "Each customer's heat need per degree-hour below the balance temperature (its heat-loss coefficient "
        "less internal and solar gains). [kWh/(K h)]"))
    balance_temp_c: float | None = Field(None, ge=-30, le=30, description=(
        "Outdoor temperature below which the home needs heat (default: the class's heating balance "
        "temperature of the degree-hour model, docs/profiles.md). [degC]"))
    electric_share: float = Field(0.0, ge=0, le=1, description=(
        "Share of the segment's customers heating electrically today, in both tariff roles."))
    fuels: dict[Literal[FUELS], Fuel] = Field(default_factory=dict, description=(
        "The customers heating with coal, gas or oil today, per fuel: their share, price and efficiency."))
    equipment_cost: Param = Field(0.0, description=(
        "Cost to a customer of the electric heating installed in place of its stove or boiler, net of "
        "subsidies. [currency]"))
    lifetime_years: float = Field(15.0, gt=0, le=60, description=(
        "Life of the electric heating, over which its cost is annualised. [years]"))
    discount_rate: Param = Field(description=(
        "Each customer's (implicit) discount rate for the investment, per year, >= 0. [1/year]"))
    other_cost_per_year: Param = Field(0.0, description=(
        "A customer's non-monetary cost of switching (hassle, comfort, habit), per year; may be negative "
        "(a preference for electric heat). [currency/year]"))
    sink: Literal["radiator", "floor"] = Field("radiator", description=(
        "Heat pump: the heating system it feeds (its flow temperature sets the COP)."))
    capacity_kwh: Param = Field(40.0, description=(
        "Storage heater: heat its cores hold when full (default: an assumption). [kWh]"))
    charger_kw: Param = Field(8.0, description=(
        "Storage heater: the largest power its elements draw, and the largest heat it gives off, in a step "
        "(default: an assumption). [kW]"))
    loss_per_hour: Param = Field(0.01, description=(
        "Storage heater: share of the stored heat lost (outside the heated hours) per hour, in [0, 0.5). [1/h]"))
    _ua = _within("heat_kwh_per_degree_hour", 0.0, float("inf"))
    _cost = _within("equipment_cost", 0.0, float("inf"))
    _rate = _within("discount_rate", 0.0, float("inf"))
    _cap = _within("capacity_kwh", 0.0, float("inf"))
    _kw = _within("charger_kw", 0.0, float("inf"))
    _loss = _within("loss_per_hour", 0.0, 0.5)

    @model_validator(mode="after")
    def _shares(self) -> ElectricHeat:
        total = self.electric_share + sum(f.share for f in self.fuels.values())
        if total > 1 + 1e-9:
            raise problems([(("fuels",), f"electric_share and the fuels' shares add up to {total:g}; at most 1")])
        return self
