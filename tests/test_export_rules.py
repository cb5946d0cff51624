"""The export rules' invariants and hand-computed cases (docs/tariffs.md 5.17).

Credits never exceed the rules: kWh credited never exceed kWh exported, nothing carried is
ever negative, nothing is carried past a true-up; kWh balance: the kWh billed are the net
kWh plus the kWh credits settled at true-ups. A customer that never exports is billed to the
bit as without an export section (a non-bypassable charge adds exactly its charge). Bills
still sum to the segment's revenue, whatever the rows billed together.
"""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from sim.calendar import Calendar
from sim.scenario.tariff import Tariff
from sim.tariffs.billing import CHARGES, bill_loads
from sim.tariffs.compile import compile_tariff
from sim.tariffs.export import EXPORT_PARTS

from .conftest import TOU

P = {p: i for i, p in enumerate(EXPORT_PARTS)}
E, MIN = CHARGES.index("energy"), CHARGES.index("minimum")
#: two years, so that a true-up happens and credits start again after it
CAL = Calendar(dt.date(2023, 9, 1), 2 * 365, 24, frozenset(), {})

SECTIONS = {
    "nem_kwh": {"rule": "net_metering", "true_up": {"month": 3, "price_per_kwh": 0.04}},
    "nem_money": {"rule": "net_metering", "credits": "money", "price": "retail"},
    "nb": {"rule": "net_billing", "price": {"periods": {"peak": 0.2, "flat": 0.1, "valley": 0.05}}},
    "nb_carry": {"rule": "net_billing", "carry_credits": True, "price": 0.08, "true_up": {"forfeit": True}},
}


def tariff(section: dict | None, **extra) -> object:
    d = copy.deepcopy(TOU) | {"fixed_per_month": 4.0, "minimum_per_month": 6.0, "tiers": {"bounds_kwh": [300.0]},
                              "tax_pct": 5.0}
    d["periods"] = {k: {"price_per_kwh": [v["price_per_kwh"], v["price_per_kwh"] * 1.3]} for k, v in d["periods"].items()}
    if section is not None:
        d["export"] = copy.deepcopy(section) | extra
    return compile_tariff("t", TypeAdapter(Tariff).validate_python(d), CAL)


def net_loads(seed: int, n: int, pv: float) -> np.ndarray:
    """Household loads (kW) with a midday generation of ``pv`` kW peak (scaled per customer)."""
    rng = np.random.default_rng(seed)
    hour = np.arange(CAL.n_steps) % 24
    day = np.arange(CAL.n_steps) // 24
    base = 0.4 + 0.6 * np.exp(-((hour - 19) / 2.5) ** 2)
    sun = np.clip(np.sin(np.pi * (hour - 6) / 12), 0, None) * (1 + 0.3 * np.cos(2 * np.pi * (day - 172) / 365))
    size = rng.uniform(0, pv, (n, 1))
    return base * rng.lognormal(0, 0.3, (n, CAL.n_steps)) - size * sun * rng.uniform(0.3, 1.0, (n, CAL.n_steps))


def bill(t, load):
    return bill_loads(t, load, CAL, keep_monthly=True)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10**6), pv=st.floats(0.0, 4.0), name=st.sampled_from(sorted(SECTIONS)),
       limit=st.one_of(st.none(), st.floats(0.2, 3.0)))
def test_credits_never_exceed_the_rules(seed, pv, name, limit):
    t = tariff(SECTIONS[name], **({"limit_kw": limit} if limit else {}))
    load = net_loads(seed, 8, pv)
    acc = bill(t, load)
    parts = acc.export.monthly                          # (n, months, parts)
    exported = np.maximum(-load, 0).reshape(8, -1, 24).sum(axis=2)  # kWh per customer and day
    months = CAL.billing_month
    by_month = np.stack([exported[:, months == m].sum(axis=1) for m in range(CAL.n_months)], axis=1)
    cap = np.inf if limit is None else limit
    credited = np.minimum(np.maximum(-load, 0), cap).reshape(8, -1, 24).sum(axis=2)
    np.testing.assert_allclose(parts[:, :, P["export_kwh"]].sum(axis=1), credited.sum(axis=1), rtol=1e-12, atol=1e-9)
    assert (parts[:, :, P["export_kwh"]] <= by_month + 1e-9).all()
    assert (np.cumsum(parts[:, :, P["netted_kwh"]], axis=1) <= np.cumsum(parts[:, :, P["export_kwh"]], axis=1) + 1e-9).all()
    assert (parts[:, :, P["carried_kwh"]] >= 0).all() and (parts[:, :, P["carried_credit"]] >= 0).all()
    assert (parts[:, :, P["export_credit"]] <= 0).all() and (parts[:, :, P["true_up"]] <= 0).all()
    settled = [m for m, lbl in enumerate(CAL.month_labels) if int(lbl[5:7]) == t.export.true_up_month]
    assert settled and (parts[:, settled, P["carried_kwh"]] == 0).all() and (parts[:, settled, P["carried_credit"]] == 0).all()
    if name == "nem_kwh":  # kWh balance: billed = imported - exported + kWh settled at true-ups + still carried
        settled_kwh = -parts[:, :, P["true_up"]].sum(axis=1) / 0.04
        lhs = parts[:, :, P["billed_kwh"]].sum(axis=1)
        rhs = (parts[:, :, P["import_kwh"]] - parts[:, :, P["export_kwh"]]).sum(axis=1) + settled_kwh \
            + parts[:, -1, P["carried_kwh"]]
        np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-6)
    # bills sum to revenue: the segment's sums by month are the customers' bills
    np.testing.assert_allclose(acc.monthly.sum(axis=0), acc.total.sum(axis=0), rtol=1e-12, atol=1e-6)


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_a_customer_without_exports_is_billed_as_without_the_section(name):
    load = np.abs(net_loads(3, 6, 0.0))
    plain = bill(tariff(None), load)
    ours = bill(tariff(SECTIONS[name]), load)
    np.testing.assert_array_equal(ours.total, plain.total)
    np.testing.assert_array_equal(ours.monthly_by_customer, plain.monthly_by_customer)
    nbc = bill(tariff(SECTIONS[name], non_bypassable_per_kwh=0.03), load)
    extra = (nbc.total - plain.total).sum(axis=1)
    np.testing.assert_allclose(extra, 0.03 * load.sum(axis=1) * 1.05, rtol=1e-12)  # tax on it too


def test_rows_are_billed_alone_or_together_to_the_bit():
    t = tariff(SECTIONS["nb_carry"], non_bypassable_per_kwh=0.02, limit_kw=1.0)
    load = net_loads(5, 7, 3.0)
    together = bill(t, load)
    for i in range(7):
        alone = bill(t, load[i:i + 1])
        np.testing.assert_array_equal(alone.total[0], together.total[i])


CAL1 = Calendar(dt.date(2025, 1, 1), 31, 24, frozenset(), {})


def one_month(section: dict, load: np.ndarray, **tariff_keys):
    d = {"type": "flat", "price_per_kwh": 0.2, "export": section, **tariff_keys}
    t = compile_tariff("t", TypeAdapter(Tariff).validate_python(d), CAL1)
    acc = bill_loads(t, load[None, :], CAL1, keep_monthly=True)
    return acc.monthly_by_customer[0, 0], acc.export.monthly[0, 0]


def test_limit_non_bypassable_and_minimum_by_hand():
    """January, hourly: 1 kW imported in 400 hours, 5 kW exported in 100 hours (a 3 kW limit
    curtails 2 kW of each), nothing otherwise. Net billing at 0.07: import 400 kWh x 0.2 = 80;
    credit 300 kWh x 0.07 = 21; non-bypassable 400 x 0.025 = 10; fixed 5; energy 80 - 21 + 10."""
    load = np.zeros(31 * 24)
    load[:400] = 1.0
    load[400:500] = -5.0
    c, parts = one_month({"rule": "net_billing", "price": 0.07, "limit_kw": 3.0, "non_bypassable_per_kwh": 0.025},
                         load, fixed_per_month=5.0)
    assert c[E] == pytest.approx(80 - 21 + 10)
    assert parts[P["curtailed_kwh"]] == pytest.approx(200) and parts[P["export_kwh"]] == pytest.approx(300)
    assert parts[P["export_credit"]] == pytest.approx(-21) and parts[P["non_bypassable"]] == pytest.approx(10)
    # net billing at 0.5: the energy charge goes below zero (80 - 150 = -70); a minimum of 20 for
    # net-metered customers tops up max(subtotal, 0): the bill is -70 + 5 + 20 = -45 (NREL SAM's rule)
    c, _ = one_month({"rule": "net_billing", "price": 0.5, "limit_kw": 3.0, "minimum_per_month": 20.0}, load,
                     fixed_per_month=5.0, minimum_per_month=8.0)
    assert c[E] == pytest.approx(-70) and c[MIN] == pytest.approx(20) and c.sum() == pytest.approx(-45)
    # net metering with kWh credits, a 4.5 kW limit, true-up in January at 0.03: 400 kWh imported,
    # 450 credited (50 curtailed): nothing billed, 50 kWh left and paid 1.5, after the minimum bill
    c, parts = one_month({"rule": "net_metering", "limit_kw": 4.5, "true_up": {"month": 1, "price_per_kwh": 0.03}},
                         load, minimum_per_month=8.0)
    assert parts[P["billed_kwh"]] == 0 and parts[P["netted_kwh"]] == 0 and parts[P["curtailed_kwh"]] == pytest.approx(50)
    assert parts[P["carried_kwh"]] == 0 and parts[P["true_up"]] == pytest.approx(-1.5)
    assert c[MIN] == pytest.approx(8.0) and c[E] == pytest.approx(-1.5) and c.sum() == pytest.approx(6.5)
    # the same in a month before the true-up: 50 kWh carried, then offsetting 50 kWh of February
    cal = Calendar(dt.date(2025, 1, 1), 59, 24, frozenset(), {})
    two = np.r_[load, np.full(28 * 24, 0.5)]
    d = {"type": "flat", "price_per_kwh": 0.2, "export": {"rule": "net_metering", "limit_kw": 4.5}}
    acc = bill_loads(compile_tariff("t", TypeAdapter(Tariff).validate_python(d), cal), two[None, :], cal,
                     keep_monthly=True)
    parts = acc.export.monthly[0]
    assert parts[0, P["carried_kwh"]] == pytest.approx(50) and parts[1, P["netted_kwh"]] == pytest.approx(50)
    assert acc.monthly_by_customer[0, 1, E] == pytest.approx((336 - 50) * 0.2)


def test_a_scenario_tariff_with_an_export_section_runs_and_bills(write_yaml):
    """A scenario whose TOU tariff has an export section validates and runs; its customers
    never export (no generation), so every bill is the bill without the section, to the bit."""
    import sim

    from .conftest import scenario_dict

    plain = sim.run(write_yaml(scenario_dict(), "plain.yaml"))
    data = scenario_dict()
    data["tariffs"]["tou"]["export"] = {"rule": "net_billing", "carry_credits": True, "limit_kw": 10.0,
                                        "price": {"periods": {"peak": 0.3, "flat": 0.2, "valley": 0.1}},
                                        "minimum_per_month": 10.0}
    data["tariffs"]["flat"]["export"] = {"rule": "net_metering", "true_up": {"price_per_kwh": 0.05}}
    ours = sim.run(write_yaml(data, "export.yaml"))
    for name, seg in plain.segments.items():
        for role in ("baseline", "scenario"):
            np.testing.assert_array_equal(ours.segments[name].bills[role].total, seg.bills[role].total)
    assert ours.metrics["scenario"]["revenue"] == plain.metrics["scenario"]["revenue"]


def test_avoided_cost_is_the_series_handed_in():
    """`price: avoided_cost` pays each step's export at the energy cost handed to the compiler
    (the grid side computes it; tariffs do not import the grid); without one it is refused."""
    from sim.errors import InputError

    d = {"type": "flat", "price_per_kwh": 0.2, "export": {"rule": "net_billing", "price": "avoided_cost"}}
    t = TypeAdapter(Tariff).validate_python(d)
    cost = np.linspace(0.01, 0.2, CAL1.n_steps)
    load = np.where(np.arange(CAL1.n_steps) % 24 == 12, -2.0, 0.5)
    acc = bill_loads(compile_tariff("t", t, CAL1, avoided_cost=cost), load[None, :], CAL1, keep_monthly=True)
    credit = (2.0 * cost[load < 0]).sum()
    assert acc.export.monthly[0, 0, P["export_credit"]] == pytest.approx(-credit, rel=1e-12)
    with pytest.raises(InputError, match="avoided_cost needs the grid's energy cost"):
        compile_tariff("t", t, CAL1)
