"""The run folder's tables: Parquet holds the CSV's numbers unrounded, names its units, and
does not depend on the chunks it was streamed in; readers take Parquet, or CSV alone."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.outcome import BillArrays, MonthlySums
from sim.report.run import RunFolder
from sim.results import write_run
from sim.tables import CUSTOMER_BILLS, MONEY, TABLES, customer_bills_chunks, system_load_spec, write_table
from sim.tariffs import CHARGES

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """peak_time_rebate (events) on 300 customers over July: every table as Parquet and CSV."""
    sc = sim.load_scenario(REPO / "scenarios" / "peak_time_rebate.yaml",
                           ["populations.households.count=300", "horizon.start=2025-07-01", "horizon.days=31"])
    now = dt.datetime(2000, 1, 1)
    out = tmp_path_factory.mktemp("tables") / "run"
    return write_run(sim.run(sc), out, command=None, started=now, finished=now, chunk_customers=0, csv=True)


@pytest.mark.parametrize("name", [t.name for t in TABLES])
def test_parquet_holds_the_csv_numbers(folder, name):
    """Each Parquet table, rounded to the CSV's decimals, is the CSV cell for cell (same
    columns, rows and text); events include empty forecasts (listed events)."""
    spec = next(t for t in TABLES if t.name == name)
    if name == "system_load":
        spec = system_load_spec(["households"])
    csv = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
    table = pq.read_table(folder / f"{name}.parquet")
    assert table.column_names == list(csv.columns)
    assert len(csv) > 0 and table.num_rows == len(csv)
    decimals = {c.header("CNY"): c.decimals for c in spec.columns}
    for col in csv.columns:
        values = table.column(col).to_pylist()
        if decimals.get(col) is not None:
            want = ["" if v is None else f"{v:.{decimals[col]}f}" for v in values]
        elif col == "timestamp":
            want = [v.strftime("%Y-%m-%dT%H:%M") for v in values]
        else:
            want = [str(v) for v in values]
        assert want == csv[col].tolist(), col


@pytest.mark.parametrize("name", [t.name for t in TABLES])
def test_parquet_names_every_unit(folder, name):
    """Money columns carry the scenario's currency (in their header and their unit), loads
    kW, energy kWh, each field its unit and description, and the schema the same units as
    one JSON object."""
    schema = pq.read_schema(folder / f"{name}.parquet")
    meta = {k.decode(): v.decode() for k, v in schema.metadata.items()}
    units = json.loads(meta["drsim.units"])
    assert meta["drsim.currency"] == "CNY" and meta["drsim.table"] == name
    assert list(units) == schema.names
    for field in schema:
        fm = {k.decode(): v.decode() for k, v in field.metadata.items()}
        assert fm["unit"] == units[field.name] and fm["description"]
        if field.name.endswith("_kw"):
            assert fm["unit"] == "kW"
        if field.name.endswith("_kwh"):
            assert fm["unit"] == "kWh"
        if field.name.endswith("_cny"):
            assert fm["unit"] == "CNY"
        if field.name.removesuffix("_cny").endswith(("_charge", "_bill", "bill_change", "total", "_utility")):
            assert field.name.endswith("_cny")
    assert MONEY not in units.values()


def _segments(n: int, seed: int) -> dict:
    """Two segments of random bills (with and without tariff choice) as the writer reads them."""
    rng = np.random.default_rng(seed)

    def bills(k, names, switching):
        return BillArrays(names, rng.integers(0, len(names), k), rng.normal(0, 50, (k, len(CHARGES))),
                          rng.gamma(2, 100, k), rng.gamma(2, 1, k), (MonthlySums("x", np.zeros((1, 1, 1)),
                                                                                 np.zeros((1, 1))),),
                          rng.integers(0, 4, k) if switching else None)

    out = {}
    for name, k, names, switching in (("a", n, ("flat",), False), ("b", n // 3 + 1, ("tou", "flat"), True)):
        out[name] = SimpleNamespace(n=k, elasticity=rng.uniform(-0.3, 0, k),
                                    bills={"baseline": bills(k, ("flat",), False),
                                           "scenario": bills(k, names, switching)})
    return out


@settings(max_examples=15, deadline=None)
@given(rows=st.integers(7, 400), seed=st.integers(0, 2**31))
def test_customer_table_does_not_depend_on_the_chunks(tmp_path_factory, rows, seed):
    """Streamed in chunks of any size, the per-customer table is the same: the same Parquet
    values to the bit and the same CSV bytes as written in one chunk; one row group per chunk."""
    segments = _segments(300, seed)
    one, many = tmp_path_factory.mktemp("one"), tmp_path_factory.mktemp("many")
    write_table(one, CUSTOMER_BILLS, customer_bills_chunks(segments, rows=10**6), currency="EUR", csv=True)
    write_table(many, CUSTOMER_BILLS, customer_bills_chunks(segments, rows=rows), currency="EUR", csv=True)
    assert (one / "customer_bills.csv").read_bytes() == (many / "customer_bills.csv").read_bytes()
    a, b = (pq.read_table(d / "customer_bills.parquet") for d in (one, many))
    assert a.equals(b)
    n = sum(s.n for s in segments.values())
    assert pq.ParquetFile(many / "customer_bills.parquet").num_row_groups == sum(-(-s.n // rows) for s in
                                                                                  segments.values())
    bills = a.to_pandas()
    assert len(bills) == n
    seg = segments["b"]
    rows_b = bills[bills.segment == "b"]
    np.testing.assert_array_equal(rows_b["scenario_bill_eur"], seg.bills["scenario"].bill)  # BillArrays' own sum
    np.testing.assert_array_equal(rows_b["bill_change_eur"], seg.bills["scenario"].bill - seg.bills["baseline"].bill)
    for j, c in enumerate(CHARGES):
        np.testing.assert_array_equal(rows_b[f"scenario_{c}_charge_eur"], seg.bills["scenario"].total[:, j])
    assert (rows_b["scenario_tariff"] == np.array(["tou", "flat"])[seg.bills["scenario"].choice]).all()


def test_reports_read_parquet_or_csv_alone(folder, tmp_path):
    """A report reads the Parquet tables; a run folder written before Parquet (CSV only)
    still opens and gives the same figures, to the CSV's 6 decimals."""
    import shutil

    old = tmp_path / "old"
    shutil.copytree(folder, old)
    for p in old.glob("*.parquet"):
        p.unlink()
    new_run, old_run = RunFolder.open(folder), RunFolder.open(old)
    np.testing.assert_allclose(new_run.bill_changes["bill_change"], old_run.bill_changes["bill_change"], atol=5e-7)
    assert (new_run.bill_changes["segment"] == old_run.bill_changes["segment"]).all()
    pd.testing.assert_frame_equal(new_run.events[["date", "start", "end", "source"]],
                                  old_run.events[["date", "start", "end", "source"]])
    assert (new_run.load["timestamp"].to_numpy() == old_run.load["timestamp"].to_numpy()).all()
    np.testing.assert_allclose(new_run.load["scenario_kw"], old_run.load["scenario_kw"], atol=5e-7)
    gone = tmp_path / "gone"
    shutil.copytree(old, gone)
    (gone / "customer_bills.csv").unlink()
    from sim.errors import InputError

    with pytest.raises(InputError, match="customer_bills.parquet"):
        RunFolder.open(gone)
