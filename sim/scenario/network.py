"""The scenario's ``network:`` section: a segment's customers placed on distribution
transformers and feeders, and the power flow run on their low-voltage networks.

Only the format lives here (pydantic models, their bounds and messages); the placement is
:mod:`sim.network.placement`, the loads and the power flow the rest of :mod:`sim.network`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import Model, existing_file, problems

#: The low-voltage networks shipped with pandapower that a scenario may name
#: (``pandapower.networks``; docs/network.md lists their sources).
SHIPPED_NETWORKS = ("kerber_landnetz_kabel_1", "kerber_landnetz_kabel_2", "kerber_landnetz_freileitung_1",
                    "kerber_landnetz_freileitung_2", "kerber_dorfnetz", "kerber_vorstadtnetz_kabel_1",
                    "kerber_vorstadtnetz_kabel_2", "dickert_lv_short_cable", "dickert_lv_middle_cable",
                    "dickert_lv_long_cable", "cigre_lv")

#: Most customers on one transformer.
MAX_PER_TRANSFORMER = 4096


class PowerFlow(Model):
    """Time-series AC power flow (pandapower) on each transformer's low-voltage network."""

    grid: Literal[SHIPPED_NETWORKS] | None = Field(None, description=(
        "A low-voltage network shipped with pandapower (one copy per transformer)."))
    file: Path | None = Field(None, description="A pandapower JSON network file, relative to the scenario file.")
    steps: int | Literal["all"] = Field(24, description=(
        "Power flows on the k highest-load steps of each transformer in each role (their union, both roles "
        "run on it), or `all` steps of the horizon."))
    v_min_pu: float = Field(0.9, gt=0, lt=1, description="Lower edge of the voltage band. [p.u.]")
    v_max_pu: float = Field(1.1, gt=1, lt=2, description="Upper edge of the voltage band. [p.u.]")
    max_loading_percent: float = Field(100.0, gt=0, le=1000, description=(
        "Line and transformer loading above which a step counts as a violation. [%]"))
    customers_per_load: list[int] | None = Field(None, min_length=1, description=(
        "Customers of a transformer on each load of the network, in the network's load order (they must "
        "add up to customers_per_transformer); default: spread evenly over the loads."))

    @field_validator("file")
    @classmethod
    def _exists(cls, v, info):
        return None if v is None else existing_file(v, info)

    @field_validator("steps")
    @classmethod
    def _steps(cls, v):
        if isinstance(v, int) and not 1 <= v <= 10_000:
            raise ValueError("must be `all` or a number of steps between 1 and 10000")
        return v

    @field_validator("customers_per_load")
    @classmethod
    def _per_load(cls, v):
        if v is not None and any(x < 0 for x in v):
            raise ValueError("customers on a load cannot be negative")
        return v

    @model_validator(mode="after")
    def _one_network(self) -> PowerFlow:
        if (self.grid is None) == (self.file is None):
            raise problems([((), "give exactly one of `grid` (a shipped network) and `file` (a pandapower JSON file)")])
        return self


class Limit(Model):
    """Capacities the network operator keeps its transformers and feeders under, day-ahead:
    where a unit's forecast load for tomorrow exceeds its limit, it calls a grid event for
    the customers on that unit only (docs/network.md, "Grid limits")."""

    transformer_kva: float | None = Field(None, gt=0, le=1e6, description=(
        "Each transformer's limit (default: its rating, `transformer_kva`, unless only `feeder_kva` is given). [kVA]"))
    feeder_kva: float | None = Field(None, gt=0, le=1e7, description="Each feeder's limit (default: none). [kVA]")
    rounds: int = Field(3, ge=1, le=48, description=(
        "Forecasts per day: the first without events; each further one with the events called so far, "
        "adding the steps still over the limit (the load the events moved)."))


class Network(Model):
    """A segment's customers on transformers and feeders, in contiguous runs of the segment's
    customers (independent draws: a contiguous run is a random sample of the segment): runs
    of ``customers_per_transformer``, or the runs a ``topology`` file lists."""

    segment: str = Field(description=(
        "The segment whose customers are placed: one segment per network (docs/network.md, section 7)."))
    customers_per_transformer: int | None = Field(None, ge=1, le=MAX_PER_TRANSFORMER, description=(
        "Customers on each transformer (the last one takes the remainder); exactly one of this and `topology`."))
    topology: Path | None = Field(None, description=(
        "A CSV file, relative to the scenario file, placing runs of the segment's customers on transformers "
        "and buses (columns customers, transformer, and with a power flow bus or load; docs/network.md); "
        "exactly one of this and `customers_per_transformer`."))
    transformer_kva: float = Field(gt=0, le=1e6, description="Each transformer's rating. [kVA]")
    transformers_per_feeder: int = Field(1, ge=1, le=10_000, description="Transformers on each feeder.")
    feeder_kva: float | None = Field(None, gt=0, le=1e7, description=(
        "Each feeder's rating (default: its transformers' ratings added). [kVA]"))
    power_factor: float = Field(0.95, gt=0, le=1, description=(
        "Power factor of the customers' load (kVA = kW / power factor; reactive power in the power flow)."))
    power_flow: PowerFlow | None = Field(None, description="Power flow on each transformer's network (optional).")
    limit: Limit | None = Field(None, description=(
        "Transformer and feeder capacities the operator defends with day-ahead grid events (optional)."))

    @field_validator("segment", mode="before")
    @classmethod
    def _one_segment(cls, v):
        if isinstance(v, (list, tuple)):
            raise ValueError(
                "one segment per network: drsim places the customers of one segment (a segment's name). "
                "Several kinds of customers on one network are one segment whose behaviour models take "
                "adoption shares (e.g. 30 % with an EV); segments of different classes, energy "
                "distributions or tariffs cannot share a network yet (docs/network.md, section 7)")
        return v

    @field_validator("topology")
    @classmethod
    def _topology_exists(cls, v, info):
        return None if v is None else existing_file(v, info)

    @model_validator(mode="after")
    def _loads(self) -> Network:
        pf = self.power_flow
        if (self.customers_per_transformer is None) == (self.topology is None):
            raise problems([(("customers_per_transformer",),
                             "give exactly one of `customers_per_transformer` and `topology` (a CSV file)")])
        if pf is not None and pf.customers_per_load is not None and self.topology is not None:
            raise problems([(("power_flow", "customers_per_load"), "not with a `topology` (it places the customers)")])
        if pf is not None and pf.customers_per_load is not None and \
                sum(pf.customers_per_load) != self.customers_per_transformer:
            raise problems([(("power_flow", "customers_per_load"),
                             f"add up to {sum(pf.customers_per_load)}, not customers_per_transformer "
                             f"({self.customers_per_transformer})")])
        return self
