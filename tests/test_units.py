"""Currency and units end to end: an imported URDB rate is in USD, a scenario refuses to mix
currencies, every numeric column of a run folder and of a sweep names its unit, and every
JSON output names its currency (docs/runs.md, section 3)."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.cli import main
from sim.errors import InputError
from sim.scenario.currency import DEFAULT_CURRENCY
from sim.sweep.plan import plan_sweep
from sim.tables import TABLES, UNITLESS, headers, system_load_spec
from sim.tariffs.urdb import import_urdb

from .conftest import build, scenario_dict, tiny

URDB = Path(__file__).resolve().parent / "data" / "urdb"
FPL = URDB / "fpl_rs1_residential_tiered.json"

#: The header suffix each physical unit requires (money: the currency code in lower case).
SUFFIX = {"kW": "_kw", "kWh": "_kwh"}


# ----------------------------------------------------------------------------- URDB


def test_a_urdb_import_is_in_usd(tmp_path, capsys):
    """The imported tariff names USD; a scenario that names no currency and holds only
    imported tariffs is in USD; `drsim bill` of the rate reports USD."""
    assert import_urdb(FPL)["currency"] == "USD"
    out = tmp_path / "fpl.yaml"
    assert main(["tariff", "import-urdb", str(FPL), "-o", str(out)]) == 0
    tariff = yaml.safe_load(out.read_text())
    assert tariff["currency"] == "USD" and "prices in USD" in out.read_text()
    data = scenario_dict()
    data["tariffs"] = {"flat": tariff, "tou": {**copy.deepcopy(data["tariffs"]["tou"]), "currency": "USD"}}
    assert build(data).currency == "USD"
    assert build(scenario_dict()).currency == DEFAULT_CURRENCY == "CNY"
    load = tmp_path / "load.csv"
    load.write_text("kwh\n" + "0.8\n" * 8760)
    capsys.readouterr()
    assert main(["bill", str(FPL), str(load), "--year", "2025", "--json"]) == 0
    bill = json.loads(capsys.readouterr().out)
    assert bill["currency"] == "USD" and bill["units"] == {"energy_kwh": "kWh", "max_kw": "kW", "charges": "USD",
                                                           "total": "USD"}
    assert main(["bill", str(FPL), str(load), "--year", "2025"]) == 0
    assert "total [USD]" in capsys.readouterr().out


# ------------------------------------------------------------------ mixed currencies


def _mixed(scenario_currency: str | None) -> dict:
    data = scenario_dict()
    data["tariffs"]["tou"]["currency"] = "USD"
    if scenario_currency:
        data["currency"] = scenario_currency
    return data


@pytest.mark.parametrize("scenario_currency,why", [(None, "CNY, the default"), ("EUR", "currency is EUR")])
def test_mixing_currencies_exits_2_naming_file_line_and_field(write_yaml, tmp_path, capsys, scenario_currency, why):
    """A tariff in USD in a scenario in another currency: exit 2 before any work, one line
    naming the file, the line of the tariff's `currency` and the field."""
    path = write_yaml(_mixed(scenario_currency))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "USD" in text)
    out = tmp_path / "run"
    for argv in (["validate", str(path)], ["run", str(path), "--out", str(out), "--quiet"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"{path}:{line}: tariffs.tou.currency:" in " ".join(err.split())
        assert "prices are in USD" in err and why in " ".join(err.split()) and "Traceback" not in err
    assert not out.exists()
    load = tmp_path / "load.csv"
    load.write_text("kwh\n" + "0.8\n" * 8784)
    assert main(["bill", str(path), str(load), "--year", "2024", "--tariff", "tou"]) == 2
    assert f"{path}:{line}: tariffs.tou.currency:" in " ".join(capsys.readouterr().err.split())
    assert main(["bill", str(path), str(load), "--year", "2024", "--tariff", "flat"]) == 0  # its own currency


#: Three capital letters; not KWH, whose money suffix would read as energy (no ISO 4217 code).
CODES = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3).filter(lambda c: c != "KWH")


@settings(max_examples=25, deadline=None)
@given(scenario_code=st.one_of(st.none(), CODES), tariff_codes=st.lists(st.one_of(st.none(), CODES), min_size=2,
                                                                        max_size=2))
def test_a_scenario_is_in_one_currency(scenario_code, tariff_codes):
    """For any codes: the scenario's currency is its own, else the one all its tariffs name,
    else CNY; it is valid exactly when no tariff names another, and each refusal names the
    tariff's `currency` field."""
    data = scenario_dict()
    for (name, tariff), code in zip(data["tariffs"].items(), tariff_codes):
        if code is not None:
            tariff["currency"] = code
    if scenario_code is not None:
        data["currency"] = scenario_code
    named = set(tariff_codes)
    want = scenario_code or (tariff_codes[0] if len(named) == 1 and None not in named else "CNY")
    wrong = sorted(n for n, code in zip(data["tariffs"], tariff_codes) if code not in (None, want))
    try:
        assert build(data).currency == want and not wrong
    except InputError as e:
        assert sorted(p.path for p in e.problems) == [f"tariffs.{n}.currency" for n in wrong] and wrong


@settings(max_examples=25, deadline=None)
@given(code=CODES)
def test_headers_name_the_currency_for_any_code(code):
    """Every money column's header ends in the code in lower case, the rest keep their name
    (ending in _kw or _kwh when they hold power or energy); no two headers of a table are
    the same; the Parquet schema carries the headers and their units."""
    for spec in (*TABLES, system_load_spec(["a", "b"])):
        names = headers(spec, code)
        assert len(set(names.values())) == len(names)
        schema = spec.schema(code)
        assert schema.names == list(names.values())
        for col in spec.columns:
            unit = schema.field(names[col.name]).metadata[b"unit"].decode()
            if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
                assert _check_labelled(names[col.name], unit, code) is None, (spec.name, col.name)
            if col.unit == "currency":
                assert unit == code and names[col.name] == f"{col.name}_{code.lower()}"
            else:
                assert names[col.name] == col.name


def test_a_sweep_over_currencies_is_refused(write_yaml):
    """One sweep's tables compare money across runs: runs in two currencies are refused."""
    with pytest.raises(InputError, match="currencies"):
        plan_sweep(write_yaml(tiny()), params={"currency": "CNY,EUR"})


# ------------------------------------------------------------------ every column labelled


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _check_labelled(header: str, unit: str | None, currency: str) -> str | None:
    """Why a numeric column is unlabelled, or None: its header must end in its unit's
    suffix (money: the currency), or its unit be one of UNITLESS."""
    if unit is None or unit == "":
        return f"{header}: a numeric column without a unit"
    want = SUFFIX.get(unit) or (f"_{currency.lower()}" if unit == currency else None)
    if want is None and unit not in UNITLESS:
        return f"{header}: unknown unit {unit!r}"
    if want is not None and not header.endswith(want):
        return f"{header}: unit {unit}, but the header does not end in {want}"
    for suffix, u in (("_kw", "kW"), ("_kwh", "kWh"), (f"_{currency.lower()}", currency)):
        if header.endswith(suffix) and unit != u:
            return f"{header}: the header says {u}, the schema {unit}"
    return None


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A run in EUR with `--csv`: every table as Parquet and CSV."""
    tmp = tmp_path_factory.mktemp("units")
    data = scenario_dict(currency="EUR")
    data["horizon"]["days"] = 7
    path = tmp / "eur.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["run", str(path), "--out", str(tmp / "run"), "--quiet", "--csv"]) == 0
    return tmp / "run"


def test_every_numeric_column_of_a_run_folder_names_its_unit(run_folder):
    """Every CSV of the run folder: each column whose cells are all numbers has a unit in its
    header (money in EUR, energy in kWh, power in kW) or is an index, count or dimensionless
    quantity by its Parquet schema; every Parquet field of a number has a unit."""
    csvs = sorted(run_folder.glob("*.csv"))
    assert {p.stem for p in csvs} == {"system_load", "segment_bills", "customer_bills", "customer_surplus", "events"}
    bad = []
    for path in csvs:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        schema = pq.read_schema(path.with_suffix(".parquet"))
        assert schema.names == list(table.columns), path.name
        units = {f.name: (f.metadata or {}).get(b"unit", b"").decode() for f in schema}
        for col in table.columns:
            cells = [c for c in table[col] if c != ""]
            if cells and all(_is_number(c) for c in cells):
                why = _check_labelled(col, units[col], "EUR")
                bad += [f"{path.name}: {why}"] if why else []
    assert not bad, bad
    money = [n for p in csvs for n in pd.read_csv(p, nrows=0).columns if n.endswith("_eur")]
    assert {"energy_charge_eur", "total_eur", "baseline_bill_eur", "bill_change_eur",
            "consumer_surplus_change_eur"} <= set(money)


def test_every_parquet_schema_names_currency_and_units(run_folder):
    for path in sorted(run_folder.glob("*.parquet")):
        schema = pq.read_schema(path)
        meta = {k.decode(): v.decode() for k, v in schema.metadata.items()}
        assert meta["drsim.currency"] == "EUR" and json.loads(meta["drsim.units"]).keys() == set(schema.names)
        for f in schema:
            if pa.types.is_integer(f.type) or pa.types.is_floating(f.type):
                assert _check_labelled(f.name, f.metadata[b"unit"].decode(), "EUR") is None, (path.name, f.name)


def test_json_outputs_carry_their_currency(run_folder):
    metrics = json.loads((run_folder / "metrics.json").read_text())
    manifest = json.loads((run_folder / "manifest.json").read_text())
    assert metrics["currency"] == manifest["currency"] == manifest["scenario"]["currency"] == "EUR"


def test_unlabelled_columns_are_caught():
    """The check itself: it fails on the headers drsim wrote before units were named."""
    assert _check_labelled("energy", "EUR", "EUR") and _check_labelled("total", "EUR", "EUR")
    assert _check_labelled("bill_change", "", "EUR") and _check_labelled("peak_kw", "kWh", "EUR")
    assert _check_labelled("bill_change_cny", "EUR", "EUR")
    assert _check_labelled("energy_kwh", "kWh", "EUR") is None and _check_labelled("switches", "count", "EUR") is None


def test_a_sweep_names_its_currency_and_units(write_yaml, tmp_path, client):
    """sweep.json and every run record name the currency; each Parquet table's schema names
    it and each metric column's unit."""
    path = write_yaml(tiny(currency="EUR"))
    res = sim.sweep(path, {"tariffs.tou.periods.peak.price_per_kwh": "0.8,1.2"}, out=tmp_path / "s", client=client)
    meta = json.loads((res.out / "sweep.json").read_text())
    assert meta["currency"] == "EUR"
    assert {json.loads(p.read_text())["currency"] for p in (res.out / "runs").glob("*.json")} == {"EUR"}
    for name in ("runs", "summary"):
        schema = pq.read_schema(res.out / f"{name}.parquet")
        assert schema.metadata[b"drsim.currency"] == b"EUR"
        units = json.loads(schema.metadata[b"drsim.units"])
        assert set(units) == set(schema.names)
        suffix = ".mean" if name == "summary" else ""
        assert units[f"scenario.revenue{suffix}"] == "EUR" and units[f"change.peak_reduction_kw{suffix}"] == "kW"
        assert units[f"scenario.energy_kwh{suffix}"] == "kWh" and units[f"change.revenue_change{suffix}"] == "EUR"
        assert units[f"change.peak_valley_rate_change{suffix}"] == "pp"
