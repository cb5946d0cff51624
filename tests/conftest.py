"""Shared builders for small scenarios."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

TOU = {
    "type": "tou",
    "periods": {"peak": {"price_per_kwh": 0.9}, "flat": {"price_per_kwh": 0.5},
                "valley": {"price_per_kwh": 0.25}},
    "schedule": [{"day_types": ["weekday", "weekend"],
                  "hours": {"peak": ["17:00-21:00"], "flat": ["07:00-17:00", "21:00-23:00"],
                            "valley": ["23:00-07:00"]}}],
}


def scenario_dict(**changes) -> dict:
    """A small valid scenario as raw data: two segments, flat baseline, TOU scenario."""
    data = {
        "name": "small",
        "seed": 11,
        "horizon": {"start": "2024-02-20", "days": 14, "step_minutes": 60},
        "populations": [
            {"name": "res", "customer_class": "residential", "count": 300,
             "annual_kwh": {"dist": "lognormal", "mean": 3000, "cv": 0.4},
             "behavior": {"model": "constant_elasticity",
                          "elasticity": {"dist": "normal", "mean": -0.15, "sd": 0.05, "min": -0.5, "max": 0}},
             "tariff": {"baseline": "flat", "scenario": "tou"}},
            {"name": "shops", "customer_class": "commercial", "count": 50,
             "annual_kwh": {"dist": "uniform", "low": 20000, "high": 60000},
             "behavior": {"model": "constant_elasticity", "elasticity": -0.05},
             "tariff": {"baseline": "flat", "scenario": "tou"}},
        ],
        "tariffs": {"flat": {"type": "flat", "price_per_kwh": 0.5, "fixed_per_month": 3.0},
                    "tou": copy.deepcopy(TOU)},
        "grid": {"energy_cost_per_kwh": 0.3, "capacity_cost_per_kw_year": 400},
    }
    data.update(changes)
    return data


def build(data: dict):
    """Validate raw scenario data into a Scenario."""
    from sim.scenario import validate

    return validate(data, label="<test>")


@pytest.fixture
def write_yaml(tmp_path):
    def _write(data, name="scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
        return path
    return _write
