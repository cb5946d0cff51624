"""A run's tables, column by column with units, streamed to Parquet and CSV in row chunks.

Each table of a run folder (``results/README.md``) is declared here once, as a
:class:`TableSpec`: its columns, their Arrow types, units and meaning. The rows are
produced in chunks of at most :data:`WRITE_ROWS` (dicts of numpy or Arrow arrays, one per column)
and each chunk is written at once, as one Parquet row group and, when asked, as CSV lines,
so writing holds a chunk in memory, not a table (``docs/benchmarks.md``, "Writing the run
folder").

Units, one convention for every table (``docs/runs.md``, section 3): a column's header
names its unit. Money columns end in the scenario's currency code in lower case
(``energy_charge_cny``, ``bill_change_usd``: :meth:`Column.header`), energy columns in
``_kwh`` and power columns in ``_kw``; the columns that end in neither are text, an index
(``customer``), a count (``switches``) or dimensionless (``elasticity``). The Parquet file
has the CSV's headers and names the units again in its schema: each field's metadata has
``unit`` (``kW``, ``kWh``, the currency code, ``count``, ``1`` for dimensionless, ``index``,
or ``""`` for text and times) and ``description``; the schema's metadata has
``drsim.table``, ``drsim.currency`` and ``drsim.units`` (a JSON object header -> unit, for
readers that do not show field metadata). The chunks name columns by :attr:`Column.name`,
the header without its currency.

Parquet keeps every float64 as computed; CSV carries a fixed number of decimals per
column (6 for loads, energy and money; 3 in ``events.csv``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .ledger import segment_ledger
from .prosumers import system_pv_kw
from .tariffs import CHARGES

__all__ = ["CUSTOMER_BILLS", "CUSTOMER_SURPLUS", "EVENTS", "SEGMENT_BILLS", "SYSTEM_LOAD", "TABLES", "UNITLESS",
           "WRITE_ROWS", "Column", "TableSpec", "customer_bills_chunks", "customer_surplus_chunks", "events_chunks",
           "headers", "segment_bills_chunks", "system_load_chunks", "system_load_spec", "write_table"]

#: Rows written at a time: one Parquet row group, one block of CSV lines. A chunk of the
#: per-customer table is about 20 MiB of float64 columns (36 columns); its CSV text about
#: as much again. [rows]
WRITE_ROWS = 65_536

#: Rows formatted into CSV text at a time: 36 columns of Python strings, about 60 bytes
#: each, take some 20 MiB for 8,192 rows. [rows]
CSV_ROWS = 8_192

#: Parquet compression: zstd, which pandas (pyarrow), Polars, DuckDB, Spark and R's arrow
#: read: 8 % smaller than Snappy's on the per-customer table of a month of
#: tou_peak_valley (986 against 1,069 kB; 3.7 MB as CSV).
PARQUET_COMPRESSION = "zstd"

#: The unit placeholder of money columns, replaced by the scenario's currency code.
MONEY = "currency"

#: Units of numeric columns whose header carries no unit: a number that names a row, a
#: count, a dimensionless quantity (docs/runs.md, section 3).
UNITLESS = ("index", "count", "1")

#: The header suffix of each physical unit (money: the currency code in lower case).
SUFFIX = {"kW": "_kw", "kWh": "_kwh"}


@dataclass(frozen=True)
class Column:
    """One column of a table.

    Attributes
    ----------
    name : str
    type : pyarrow.DataType
    unit : str
        ``kW``, ``kWh``, :data:`MONEY` (the scenario's currency), one of :data:`UNITLESS`, or
        ``""`` (text, times).
    description : str
    decimals : int or None
        Decimals of a float column in CSV.
    """

    name: str
    type: pa.DataType
    unit: str
    description: str
    decimals: int | None = None

    def header(self, currency: str) -> str:
        """The column's name in the files: a money column's :attr:`name` with ``_<currency>``
        (lower case) appended; any other column's name (which ends in its unit)."""
        return f"{self.name}_{currency.lower()}" if self.unit == MONEY else self.name


@dataclass(frozen=True)
class TableSpec:
    """A table of a run folder: its file stem, what a row is, and its columns in order."""

    name: str
    description: str
    columns: tuple[Column, ...]

    def schema(self, currency: str) -> pa.Schema:
        """The Arrow schema: each column under its header, with its unit (money in
        ``currency``) and description."""
        units = {c.header(currency): (currency if c.unit == MONEY else c.unit) for c in self.columns}
        fields = [pa.field(h, c.type, metadata={"unit": u, "description": c.description})
                  for c, (h, u) in zip(self.columns, units.items())]
        return pa.schema(fields, metadata={"drsim.table": self.name, "drsim.description": self.description,
                                           "drsim.currency": currency, "drsim.units": json.dumps(units)})


def _text(name: str, description: str) -> Column:
    return Column(name, pa.string(), "", description)


def _num(name: str, unit: str, description: str, decimals: int = 6) -> Column:
    return Column(name, pa.float64(), unit, description, decimals)


def _role_columns(role: str) -> tuple[Column, ...]:
    under = f"under the {role} tariff"
    return (_num(f"{role}_kwh", "kWh", f"energy on the main meter {under}"),
            *(_num(f"{role}_{c}_charge", MONEY, f"the {c} charges {under}, summed over the horizon") for c in CHARGES),
            _num(f"{role}_bill", MONEY, f"the sum of the charges {under}"),
            _num(f"{role}_peak_kw", "kW", f"the highest step load on the main meter {under}"))


SYSTEM_LOAD = TableSpec("system_load", "one row per step: system and segment loads, baseline and scenario", (
    Column("timestamp", pa.timestamp("s"), "", "start of the step, local time"),
    _num("baseline_kw", "kW", "system load under the baseline tariffs (mean power over the step)"),
    _num("scenario_kw", "kW", "system load under the scenario tariffs (mean power over the step)"),
))  # then <segment>_baseline_kw, <segment>_scenario_kw per segment: see system_load_spec

SEGMENT_BILLS = TableSpec("segment_bills", "one row per segment, tariff role, tariff and billing month", (
    _text("segment", "segment name"), _text("month", "billing month, YYYY-MM"),
    _text("tariff_role", "baseline or scenario"), _text("tariff", "the tariff (a+b: the bills paid within a menu)"),
    _num("energy_kwh", "kWh", "energy on the customers' main meters in the month"),
    *(_num(f"{c}_charge", MONEY, f"the {c} charges, summed over the segment's customers") for c in CHARGES),
    _num("total", MONEY, "sum of the charges"),
))

CUSTOMER_BILLS = TableSpec("customer_bills", "one row per customer: energy, charges, bills and peak under both tariffs", (
    _text("segment", "segment name"),
    Column("customer", pa.int64(), "index", "customer number within the segment, from 0"),
    *_role_columns("baseline"), *_role_columns("scenario"),
    _num("bill_change", MONEY, "scenario_bill - baseline_bill"),
    _num("elasticity", "1", "the customer's own-price elasticity (constant_elasticity; 0 otherwise)"),
    _text("scenario_tariff", "the customer's scenario tariff (with choice: the one it ended on)"),
    Column("switches", pa.int64(), "count", "tariff switches (with tariff choice; 0 otherwise)"),
))

EVENTS = TableSpec("events", "one row per event (listed or called by the operator) and tariff", (
    Column("date", pa.date32(), "", "day of the event"),
    _text("start", "start of the event, HH:MM local time"), _text("end", "end of the event, HH:MM (excluded)"),
    _text("programme", "critical_peak, peak_time_rebate or interruptible"), _text("tariff", "the tariff"),
    _text("source", "listed or operator"),
    _num("forecast_peak_kw", "kW", "forecast system peak that triggered an operator call (empty when listed)", 3),
    _num("baseline_kw", "kW", "mean system load over the event's steps, baseline", 3),
    _num("scenario_kw", "kW", "mean system load over the event's steps, scenario", 3),
    _num("reduction_kw", "kW", "baseline_kw - scenario_kw", 3),
))

#: Every table of a run folder, in the order they are written.
CUSTOMER_SURPLUS = TableSpec("customer_surplus", "one row per customer: the consumer ledger (sim/ledger.py)", (
    _text("segment", "segment name"),
    Column("customer", pa.int64(), "index", "customer number within the segment, from 0"),
    _num("baseline_utility", MONEY, "change of utility of consumption in the baseline role, against the load "
         "before any response"),
    _num("scenario_utility", MONEY, "the same in the scenario role"),
    _num("utility_change", MONEY, "scenario_utility - baseline_utility"),
    _num("bill_change", MONEY, "scenario bill - baseline bill (every charge)"),
    _num("consumer_surplus_change", MONEY, "utility_change - bill_change"),
))

TABLES = (SYSTEM_LOAD, SEGMENT_BILLS, CUSTOMER_BILLS, CUSTOMER_SURPLUS, EVENTS)


def headers(spec: TableSpec, currency: str) -> dict[str, str]:
    """Each column's :attr:`Column.name` -> its header in a run folder of ``currency``."""
    return {c.name: c.header(currency) for c in spec.columns}


def system_load_spec(segments, pv: bool = False) -> TableSpec:
    """:data:`SYSTEM_LOAD` with the two columns of each segment, in population order, and with
    ``pv`` (a run with rooftop PV) a last column ``pv_kw``: the systems' generation."""
    extra = tuple(_num(f"{name}_{role}_kw", "kW", f"segment {name}'s load under its {role} tariff")
                  for name in segments for role in ("baseline", "scenario"))
    if pv:
        extra += (_num("pv_kw", "kW", "rooftop PV generation of every segment (the same in both roles; gross "
                                      "load = load + pv)"),)
    return TableSpec(SYSTEM_LOAD.name, SYSTEM_LOAD.description, SYSTEM_LOAD.columns + extra)


# ----------------------------------------------------------------------------- rows


def system_load_chunks(result, rows: int = WRITE_ROWS) -> Iterator[dict]:
    """``system_load``: the run's per-step loads, ``rows`` steps at a time."""
    stamps = result.calendar.timestamps.astype("datetime64[s]")
    series = {"baseline_kw": result.system_load_kw["baseline"], "scenario_kw": result.system_load_kw["scenario"]}
    for name, seg in result.segments.items():
        series.update({f"{name}_{role}_kw": seg.load_kw[role] for role in ("baseline", "scenario")})
    pv = system_pv_kw(result)
    if pv is not None:
        series["pv_kw"] = pv
    for a in range(0, len(stamps), rows):
        yield {"timestamp": stamps[a:a + rows], **{k: v[a:a + rows] for k, v in series.items()}}


def segment_bills_chunks(result) -> Iterator[dict]:
    """``segment_bills``: one chunk (months x sheets x segments rows is small)."""
    out = {c.name: [] for c in SEGMENT_BILLS.columns}
    labels = result.calendar.month_labels
    for name, seg in result.segments.items():
        for role, bills in seg.bills.items():
            for sheet in bills.sheets:  # one per tariff; with tariff choice, one of the bills paid
                monthly, kwh = sheet.monthly, sheet.monthly_kwh
                for m, label in enumerate(labels):
                    for key, value in (("segment", name), ("month", label), ("tariff_role", role),
                                       ("tariff", sheet.label), ("energy_kwh", kwh[m]), ("total", monthly[m].sum())):
                        out[key].append(value)
                    for j, c in enumerate(CHARGES):
                        out[f"{c}_charge"].append(monthly[m, j])
    yield {k: np.array(v, dtype=object if k in ("segment", "month", "tariff_role", "tariff") else float)
           for k, v in out.items()}


def customer_bills_chunks(segments, rows: int = WRITE_ROWS) -> Iterator[dict]:
    """``customer_bills``: each segment's customers, ``rows`` at a time.

    ``segments`` maps segment name -> outcome (``bills`` by role, ``elasticity``, ``n``).
    Only a chunk's columns are built at a time; each bill is its charges summed over the
    charge axis, as :attr:`sim.outcome.BillArrays.bill` sums them."""
    for name, seg in segments.items():
        b, s = seg.bills["baseline"], seg.bills["scenario"]
        tariffs = pa.array(s.tariff_names, type=pa.string())
        for a in range(0, seg.n, rows):
            z = min(a + rows, seg.n)
            out = {"segment": pa.repeat(pa.scalar(name, pa.string()), z - a),
                   "customer": np.arange(a, z, dtype=np.int64)}
            bill = {}
            for role, bills in (("baseline", b), ("scenario", s)):
                total = bills.total[a:z]
                bill[role] = total.sum(axis=1)
                out[f"{role}_kwh"] = bills.kwh[a:z]
                out.update({f"{role}_{c}_charge": total[:, j] for j, c in enumerate(CHARGES)})
                out[f"{role}_bill"], out[f"{role}_peak_kw"] = bill[role], bills.peak_kw[a:z]
            out["bill_change"] = bill["scenario"] - bill["baseline"]
            out["elasticity"] = seg.elasticity[a:z]
            out["scenario_tariff"] = tariffs.take(s.choice[a:z])
            out["switches"] = s.switches[a:z] if s.switches is not None else np.zeros(z - a, dtype=np.int64)
            yield out


def customer_surplus_chunks(segments, rows: int = WRITE_ROWS) -> Iterator[dict]:
    """``customer_surplus``: each segment's consumer ledger (:func:`sim.ledger.segment_ledger`),
    ``rows`` customers at a time."""
    for name, seg in segments.items():
        led = segment_ledger(seg)
        for a in range(0, seg.n, rows):
            z = min(a + rows, seg.n)
            yield {"segment": pa.repeat(pa.scalar(name, pa.string()), z - a),
                   "customer": np.arange(a, z, dtype=np.int64),
                   "baseline_utility": led.utility[0][a:z], "scenario_utility": led.utility[1][a:z],
                   "utility_change": led.utility_change[a:z], "bill_change": led.bill_change[a:z],
                   "consumer_surplus_change": led.surplus_change[a:z]}


def events_chunks(events: list[dict], step_minutes: int) -> Iterator[dict]:
    """``events``: one chunk of every event row (``sim.outcome.RunResult.events``)."""
    def hhmm(step: int) -> str:
        minutes = step * step_minutes
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    yield {"date": np.array([ev["date"] for ev in events], dtype="datetime64[D]"),
           "start": np.array([hhmm(ev["start_step"]) for ev in events], dtype=object),
           "end": np.array([hhmm(ev["stop_step"]) for ev in events], dtype=object),
           **{k: np.array([ev[k] for ev in events], dtype=object) for k in ("programme", "tariff", "source")},
           **{k: np.array([ev[k] for ev in events], dtype=float if k != "forecast_peak_kw" else object)
              for k in ("forecast_peak_kw", "baseline_kw", "scenario_kw", "reduction_kw")}}


# ---------------------------------------------------------------------------- write


def _csv_cells(col: Column, values: np.ndarray) -> list[str]:
    """One column of a chunk as CSV cells: floats to the column's decimals, None as empty."""
    if col.decimals is not None:
        fmt = f"{{:.{col.decimals}f}}"
        return ["" if v is None else fmt.format(v) for v in values.tolist()]
    if values.dtype.kind == "M":
        return np.datetime_as_string(values, unit="m" if pa.types.is_timestamp(col.type) else "D").tolist()
    return [str(v) for v in values.tolist()]


def _arrow(values, type_: pa.DataType) -> pa.Array:
    """A chunk's column as an Arrow array (text from a list: pyarrow converts numpy object
    arrays through pandas, which it would import)."""
    if isinstance(values, pa.Array):
        return values
    values = np.asarray(values)
    return pa.array(values.tolist() if values.dtype == object else values, type=type_)


def write_table(folder: Path, spec: TableSpec, chunks: Iterator[dict], *, currency: str, csv: bool) -> list[Path]:
    """Write ``folder/<name>.parquet`` (one row group per chunk) and, with ``csv``,
    ``folder/<name>.csv``, chunk after chunk; the paths written."""
    schema = spec.schema(currency)
    paths = [folder / f"{spec.name}.parquet"] + ([folder / f"{spec.name}.csv"] if csv else [])
    with contextlib.ExitStack() as stack:
        parquet = stack.enter_context(pq.ParquetWriter(paths[0], schema, compression=PARQUET_COMPRESSION))
        text = stack.enter_context(open(paths[1], "w", encoding="utf-8")) if csv else None
        if text:
            text.write(",".join(schema.names) + "\n")
        for chunk in chunks:
            arrays = [_arrow(chunk[c.name], c.type) for c in spec.columns]
            parquet.write_batch(pa.record_batch(arrays, schema=schema))
            for a in range(0, len(arrays[0]) if text else 0, CSV_ROWS):  # Python's cells: a few rows at a time
                cells = [_csv_cells(c, np.asarray(chunk[c.name][a:a + CSV_ROWS])) for c in spec.columns]
                text.write("\n".join(map(",".join, zip(*cells))) + "\n")
    return paths
