"""A segment's sector and shifts: the flexible share they give, how `behavior: default`
uses it, and that a flexible sector moves more of its peak than a rigid one."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.scenario.defaults import default_behavior
from sim.scenario.sectors import REFERENCE_SHARE, SECTORS, SHIFT_FACTOR, flexible_share, with_sector

from .conftest import build, scenario_dict


def test_table_is_a_share_and_ordered_as_the_evidence():
    """Every share lies in (0, 1]; continuous process < the class average <= cold storage <= batch
    (Zhou et al. 2019; Schwarz et al. 2002; docs/evidence_ci.md)."""
    for s in SECTORS.values():
        assert 0 < s.flexible_share <= 1
        assert set(s.classes) <= {"commercial", "industrial"}
    share = {k: v.flexible_share for k, v in SECTORS.items()}
    assert share["continuous_process"] < share["general_manufacturing"] == REFERENCE_SHARE
    assert share["general_manufacturing"] < share["cold_storage"] <= share["batch_process"]
    assert max(SHIFT_FACTOR.values()) == SHIFT_FACTOR[2] == 1.0


@given(sector=st.sampled_from([None, *SECTORS]), shifts=st.sampled_from([None, 1, 2, 3]))
def test_flexible_share_in_unit_interval_and_never_raised_by_shifts(sector, shifts):
    """The share is in (0, 1], and naming the shifts never raises it above the sector's own."""
    f = flexible_share(sector, shifts)
    assert 0 < f <= 1
    assert f <= flexible_share(sector, None)


@pytest.mark.parametrize("cls", ["commercial", "industrial"])
def test_no_sector_leaves_the_default_untouched(cls):
    """Without sector and shifts the class default is returned as it is (outputs unchanged)."""
    models = default_behavior(cls)
    assert with_sector(models, cls, None, None) is models


def _sub_scale(before: dict, after: dict) -> float:
    """The factor a substitution distribution was scaled by (checked on every field that
    carries its unit; a log-normal's cv, a ratio, stays)."""
    a, b = before["substitution"], after["substitution"]
    ks = {k: b[k] / a[k] for k in ("mean", "sd", "min", "max", "low", "mode", "high", "cap") if a.get(k)}
    assert len(ks) >= 2 and len(set(np.round(list(ks.values()), 12))) == 1
    assert all(b[k] == a[k] for k in a if k not in ks)
    return next(iter(ks.values()))


@given(cls=st.sampled_from(["commercial", "industrial"]), shifts=st.sampled_from([None, 1, 2, 3]), data=st.data())
@settings(max_examples=30)
def test_the_default_takes_the_share(cls, shifts, data):
    """The class default's ces model gets the segment's flexible share and the elasticity of the
    load that can move (class default / reference share); the other models are untouched."""
    sector = data.draw(st.sampled_from([None, *[k for k, s in SECTORS.items() if cls in s.classes]]))
    models = default_behavior(cls)
    got = with_sector(copy.deepcopy(models), cls, sector, shifts)
    if sector is None and shifts is None:
        assert got == models
        return
    (before,), (after,) = [m for m in models if m["model"] == "ces"], [m for m in got if m["model"] == "ces"]
    assert after["flexible_share"] == flexible_share(sector, shifts)
    assert _sub_scale(before, after) == pytest.approx(1 / REFERENCE_SHARE)
    assert [m for m in got if m["model"] != "ces"] == [m for m in models if m["model"] != "ces"]


def test_ces_gets_the_flexible_share():
    """A model with a flexible share (ces): the share is set, substitution / reference share."""
    ces = [{"model": "ces", "substitution": {"dist": "normal", "mean": 0.0, "sd": 0.138, "min": -0.55, "max": 0.0},
            "daily": 0.0}]
    got = with_sector(ces, "commercial", "cold_storage", 2)[0]
    assert got["flexible_share"] == SECTORS["cold_storage"].flexible_share
    assert got["substitution"]["sd"] == pytest.approx(0.138 / REFERENCE_SHARE)
    assert got["substitution"]["min"] == pytest.approx(-0.55 / REFERENCE_SHARE)
    assert ces[0]["substitution"]["sd"] == 0.138  # the class default itself is not changed


def _peak_change(sector=None, shifts=None) -> float:
    """Change of an industrial segment's load in the TOU peak (17:00-21:00), in %."""
    data = scenario_dict()
    seg = {"name": "plant", "customer_class": "industrial", "count": 120,
           "annual_kwh": {"dist": "uniform", "low": 2e5, "high": 6e5}, "behavior": "default",
           "tariff": {"baseline": "flat", "scenario": "tou"}}
    seg.update({k: v for k, v in (("sector", sector), ("shifts", shifts)) if v is not None})
    data["populations"] = [seg]
    res = sim.run(build(data))
    peak = (res.calendar.hour >= 17) & (res.calendar.hour < 21)
    load = res.system_load_kw
    return 100 * (load["scenario"][peak].sum() / load["baseline"][peak].sum() - 1)


def test_flexible_sectors_move_more_of_their_peak():
    """Whole runs: peak use falls in every sector, more the larger the flexible share; the
    class-average sector responds like a segment that names no sector (within 15 %: twice the
    elasticity on half the load is not the same as the elasticity on all of it, and under the
    default's heavy-tailed spread the strongest responders, who carry most of the response,
    run out of flexible peak load sooner; 120 customers give about -6.1 % against -6.8 %)."""
    base = _peak_change()
    got = {s: _peak_change(s) for s in ("continuous_process", "general_manufacturing", "cold_storage",
                                        "batch_process")}
    assert all(v < 0 for v in got.values())
    assert got["continuous_process"] > got["general_manufacturing"] > got["cold_storage"] > got["batch_process"]
    assert got["general_manufacturing"] == pytest.approx(base, rel=0.15)
    assert _peak_change("batch_process", 3) > got["batch_process"]


def test_resolved_scenario_validates_again():
    """The resolved scenario of manifest.json (models written out, sector and shifts kept)
    validates again to the same behaviour; models of one's own with a sector do not."""
    from sim.errors import InputError
    from sim.results import resolved_scenario

    data = scenario_dict()
    data["populations"][1].update(behavior="default", sector="cold_storage", shifts=1)
    first = build(data)
    again = build(resolved_scenario(first))
    assert again.populations[1].behavior == first.populations[1].behavior
    own = resolved_scenario(first)
    own["populations"][1]["behavior"][0]["substitution"] = -0.3
    with pytest.raises(InputError, match="sector: sets the defaults of behavior: default only"):
        build(own)
