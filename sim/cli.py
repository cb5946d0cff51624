"""The `drsim` command: its parser, and the run, validate, bill, tariff and schema commands.

The sweep, report and compare commands add their own sub-parsers (:mod:`sim.sweep.command`,
:mod:`sim.report.command`); every command prints through :mod:`sim.console`, so no command
module imports this one. Every command goes through one wrapper that turns bad input into
one line per problem (``file:line: dotted.path: message``) and exit code 2, a failed run
into exit code 1, and shows a traceback only with ``--debug``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from pathlib import Path

from . import __version__
from .console import err_console, hide_progress, out_console, print_error, print_problems, run_progress
from .errors import InputError, Problem, RunError
from .words import counted


def _scenario(args):
    """The scenario file with its --set (and --seed) overrides, validated, and the files its
    network names (power-flow network, topology) read and checked: before any work."""
    from .network.inputs import check_inputs
    from .scenario import load_scenario

    overrides = list(args.set or [])
    if getattr(args, "seed", None) is not None:
        overrides.append(f"seed={args.seed}")
    return load_scenario(args.file, overrides, check=check_inputs)


def cmd_validate(args) -> int:
    sc = _scenario(args)
    n = sum(seg.count or 0 for seg in sc.populations)
    csv = any(s.count is None for s in sc.populations)
    out_console.print(f"{args.file}: ok — scenario {sc.name!r}, {counted(len(sc.populations), 'segment')}, "
                      f"{f'{n} customers (plus CSV)' if csv else counted(n, 'customer')}, "
                      f"{counted(sc.horizon.days, 'day')} at {sc.horizon.step_minutes}-minute steps, "
                      f"{counted(len(sc.tariffs), 'tariff')}", highlight=False)
    if _has_sweep_block(args.file):  # check the sweep block too: every path and value, every point
        from .sweep.plan import plan_sweep

        plan = plan_sweep(args.file, overrides=list(args.set or []))
        out_console.print(f"{args.file}: sweep block ok — {counted(len(plan.runs), 'run')} (drsim sweep {args.file}; "
                          "drsim run uses the scenario without the sweep)", highlight=False)
    return 0


def _has_sweep_block(path: str) -> bool:
    """Whether the file (already read and validated as a scenario) has a top-level ``sweep`` key.

    Only composed, not constructed (aliases stay references), with libyaml where PyYAML has it:
    1 ms instead of the 13 ms of reading the file again with line numbers."""
    import yaml

    node = yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return isinstance(node, yaml.MappingNode) and any(
        isinstance(key, yaml.ScalarNode) and key.value == "sweep" for key, _ in node.value)


def cmd_schema(args) -> int:
    from .scenario import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
    return 0


def cmd_run(args) -> int:
    from . import run
    from .engine import DEFAULT_CHUNK
    from .outdir import check_writable
    from .results import check_target, default_run_dir, write_run

    sc = _scenario(args)
    if args.chunk is None:
        args.chunk = DEFAULT_CHUNK
    if args.chunk < 1:
        raise InputError(Problem("--chunk", None, "", f"must be >= 1; got {args.chunk}"))
    if args.workers < 1:
        raise InputError(Problem("--workers", None, "", f"must be >= 1; got {args.workers}"))
    limit = _memory_limit(args.max_memory)
    started = dt.datetime.now(dt.timezone.utc)
    out = Path(args.out) if args.out else default_run_dir(args.results, sc, started)
    check_writable(out, "--out" if args.out else "--results")
    if args.out:  # a default name is never refused: it lands under the first free suffix
        check_target(out)
    _clean_partials(out.parent)
    with run_progress(disable=hide_progress(args.quiet, args.progress)) as bar:
        task = bar.add_task(sc.name, total=sc.horizon.days)
        result = run(sc, chunk_customers=args.chunk, progress=lambda d, n: bar.update(task, completed=d),
                     workers=args.workers, scheduler=args.scheduler, memory_limit=limit)
    finished = dt.datetime.now(dt.timezone.utc)
    path = write_run(result, out, command=["drsim", *args.argv], started=started, finished=finished,
                     chunk_customers=args.chunk, csv=args.csv)
    from .summary import print_summary

    print_summary(result.metrics, sc.currency, out_console)
    bad = result.metrics["change"].get("rtp_days_not_converged", 0)
    if bad:
        err_console.print(f"warning: the real-time price fixed point did not converge on {bad} days "
                          "(raise max_iterations or lower damping)", highlight=False)
    if args.out and path != out:
        err_console.print(f"warning: {out} was taken by another run while this one ran; this run is in {path}",
                          highlight=False)
    out_console.print(f"run folder: {path}  ({(finished - started).total_seconds():.1f} s)", highlight=False)
    if args.report:  # the run folder is complete: a failed report is reported and the run kept
        from .report.command import report_after_run

        return report_after_run(path)
    return 0


def _memory_limit(text: str | None) -> int | None:
    """``--max-memory``: a size such as ``8GiB``, ``500MB`` or a number of bytes."""
    if text is None:
        return None
    from dask.utils import parse_bytes

    try:
        value = parse_bytes(text)
    except (ValueError, TypeError):
        value = None
    if not value or value <= 0:
        raise InputError(Problem("--max-memory", None, "", f"must be a size such as 8GiB or 500MB; got {text!r}"))
    return int(value)


def _clean_partials(folder: Path) -> None:
    """Delete the hidden folders of killed runs beside this run's folder, and say so."""
    from .results import clean_stale_partials

    for path in clean_stale_partials(folder):
        err_console.print(f"removed {path}: a run folder left half-written by a process that has ended "
                          f"(pid {path.name.split('.partial-')[1].split('-')[0]})", highlight=False)


def _read_tariff(path: str, name: str | None):
    """A tariff model from a drsim YAML file or an OpenEI URDB JSON file: (name, tariff,
    the currency of its bills)."""
    from .scenario.loader import load_tariff_currency

    if str(path).lower().endswith(".json"):
        from pydantic import TypeAdapter

        from .scenario.tariff import Tariff
        from .tariffs.urdb import URDB_CURRENCY, import_urdb

        data = import_urdb(path)
        return Path(path).stem, TypeAdapter(Tariff).validate_python(data), URDB_CURRENCY
    return load_tariff_currency(path, name)


def _calendar_for_year(year: int, steps_per_day: int, holidays: str | None):
    from .calendar import Calendar
    from .scenario.schema import Holidays

    start = dt.date(year, 1, 1)
    days = (dt.date(year + 1, 1, 1) - start).days
    names = {}
    if holidays:
        country, _, sub = holidays.partition(":")
        from pydantic import ValidationError

        try:
            spec = Holidays(country=country, subdivision=sub or None)
        except ValidationError as e:  # the model's own messages, without pydantic's decoration
            raise InputError([Problem("--holidays", None, "", msg) for err in e.errors(include_url=False)
                              for _, msg in (err.get("ctx") or {}).get("problems", [((), err["msg"])])]) from None
        import holidays as holidays_lib

        cal = holidays_lib.country_holidays(spec.country, subdiv=spec.subdivision, years=year)
        names = dict(sorted(cal.items()))
        workdays = frozenset(d for d in getattr(cal, "weekend_workdays", ()) if d.year == year and d not in names)
        return Calendar(start, days, steps_per_day, frozenset(names), names, workdays)
    return Calendar(start, days, steps_per_day, frozenset(names), names)


def cmd_bill(args) -> int:
    import numpy as np

    from .tariffs import CHARGES, bill_loads, compile_tariff
    from .tariffs.meter import read_meter_csv

    for flag, value in (("--contract-kva", args.contract_kva), ("--firm-kw", args.firm_kw)):
        if value is not None and not (math.isfinite(value) and 0 <= value <= 1e12):
            raise InputError(Problem(flag, None, "", f"must be a finite number from 0 to 1e12; got {value}"))
    name, tariff, currency = _read_tariff(args.tariff_file, args.tariff)
    kwh, year, spd = read_meter_csv(args.load, args.year)
    cal = _calendar_for_year(year, spd, args.holidays)
    boundaries = {m for m in _boundaries(tariff) if m % cal.step_minutes}
    if boundaries:
        raise InputError(Problem(args.tariff_file, None, "", f"period boundaries at minutes {sorted(boundaries)} "
                                                             f"do not fall on the load's {cal.step_minutes}-minute steps"))
    if tariff.capacity is not None and args.contract_kva is None:
        raise InputError(Problem("--contract-kva", None, "", "the tariff has a capacity charge: give the contracted kVA"))
    compiled = compile_tariff(name, tariff, cal)
    load_kw = kwh / (cal.step_minutes / 60.0)
    if tariff.interruptible is not None and args.firm_kw is None:
        raise InputError(Problem("--firm-kw", None, "", "the tariff is an interruptible contract: give the firm service level"))
    contract = np.array([args.contract_kva or 0.0])
    firm = np.array([args.firm_kw or 0.0])
    acc = bill_loads(compiled, load_kw[None, :], cal, contract_kva=contract, firm_kw=firm, keep_monthly=True)
    monthly = acc.monthly_by_customer[0]
    kwh_month = np.bincount(np.repeat(cal.billing_month, spd), weights=kwh, minlength=cal.n_months)
    max_kw = np.array([load_kw[np.repeat(cal.billing_month, spd) == m].max() for m in range(cal.n_months)])
    months = [{"month": label, "energy_kwh": float(kwh_month[m]), "max_kw": float(max_kw[m]),
               "charges": {c: float(v) for c, v in zip(CHARGES, monthly[m])}, "total": float(monthly[m].sum())}
              for m, label in enumerate(cal.month_labels)]
    units = {"energy_kwh": "kWh", "max_kw": "kW", "charges": currency, "total": currency}
    report = {"tariff": name, "currency": currency, "units": units, "year": year, "steps_per_day": spd,
              "holidays": args.holidays,
              "months": months,
              "annual": {"energy_kwh": float(kwh.sum()), "max_kw": float(load_kw.max()),
                         "charges": {c: float(v) for c, v in zip(CHARGES, monthly.sum(axis=0))},
                         "total": float(monthly.sum())}}
    if acc.export is not None:
        report["export"] = _export_report(acc.export, cal, currency)
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return 0
    from rich.table import Table

    shown = [c for c in CHARGES if monthly[:, CHARGES.index(c)].any()]
    t = Table(title=f"{name}: bills for {year} in {currency} ({cal.step_minutes}-minute steps"
                    f"{', holidays ' + args.holidays if args.holidays else ', no holidays'})", title_justify="left")
    from rich.markup import escape

    money = [escape(f"{c.replace('_', ' ')} [{currency}]") for c in (*shown, "total")]
    for col in ["month", "kWh", "max kW", *money]:
        t.add_column(col, justify="left" if col == "month" else "right")
    for mo in months:
        t.add_row(mo["month"], f"{mo['energy_kwh']:,.1f}", f"{mo['max_kw']:,.2f}",
                  *[f"{mo['charges'][c]:,.2f}" for c in shown], f"{mo['total']:,.2f}")
    a = report["annual"]
    t.add_row("year", f"{a['energy_kwh']:,.1f}", f"{a['max_kw']:,.2f}", *[f"{a['charges'][c]:,.2f}" for c in shown],
              f"{a['total']:,.2f}", style="bold")
    out_console.print(t)
    if acc.export is not None:
        _print_export(report["export"], currency)
    return 0


def _export_report(meter, cal, currency: str) -> dict:
    """`drsim bill`'s export block: each month's export parts (sim/tariffs/export.py), all of
    whose money is inside the bill's energy charge."""
    from .tariffs.export import EXPORT_PARTS

    parts = meter.monthly[0]
    units = {p: ("kWh" if p.endswith("_kwh") else currency) for p in EXPORT_PARTS}
    annual = {p: float(parts[:, i].sum()) for i, p in enumerate(EXPORT_PARTS) if not p.startswith("carried")}
    annual.update({p: float(parts[-1, i]) for i, p in enumerate(EXPORT_PARTS) if p.startswith("carried")})
    return {"rule": meter.terms.rule, "units": units, "note": "the money parts are inside the energy charge",
            "months": [{"month": label, **{p: float(parts[m, i]) for i, p in enumerate(EXPORT_PARTS)}}
                       for m, label in enumerate(cal.month_labels)], "annual": annual}


def _print_export(report: dict, currency: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"exports ({report['rule'].replace('_', ' ')}; the money is inside the energy charge)",
              title_justify="left")
    names = list(report["units"])
    t.add_column("month")
    for p in names:
        t.add_column(escape(f"{p.removesuffix('_kwh').replace('_', ' ')} [{report['units'][p]}]"), justify="right")
    for row in [*report["months"], {"month": "year", **report["annual"]}]:
        t.add_row(row["month"], *[f"{row[p]:,.2f}" for p in names])
    out_console.print(t)


def _check_output(path: str | None) -> None:
    """Refuse, before any work, an output file that exists or could not be written."""
    if not path:
        return
    from .outdir import check_writable

    target = Path(path)
    if target.exists() or target.is_symlink():
        raise InputError(Problem("-o", None, "", f"{path} exists; drsim does not overwrite it"))
    if not target.parent.is_dir():
        why = "is not a folder" if target.parent.exists() else "does not exist"
        raise InputError(Problem("-o", None, "", f"cannot write {path}: {target.parent} {why}"))
    check_writable(target, "-o")


def _write_text(path: str | None, text: str, option: str = "-o") -> None:
    """Print, or write a file atomically without overwriting an existing one."""
    if not path:
        sys.stdout.write(text)
        return
    import os

    target = Path(path)
    if target.exists():
        raise InputError(Problem(option, None, "", f"{target} exists; drsim does not overwrite it"))
    tmp = target.with_name(f".{target.name}.partial-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    err_console.print(f"wrote {target}", highlight=False)


def cmd_calibrate(args) -> int:
    from .scenario.dump import tariff_to_yaml
    from . import run
    from .tariffs.calibrate import calibrate

    sc = _scenario(args)
    _check_output(args.output)
    if args.tariff not in sc.tariffs:
        raise InputError(Problem("--tariff", None, "", f"no tariff {args.tariff!r} (defined: {', '.join(sc.tariffs)})"))
    step = _round_step(args.round)
    source = _writable_source(args, sc) if args.write else None  # before any work
    res = calibrate(sc, args.tariff, args.component, run=run, step=step)
    cur = sc.currency
    rounded = f", rounded to {args.round}" if step else ""
    err_console.print(
        f"{args.tariff}: {args.component} prices x {res['factor']:.6f}{rounded} -> revenue {res['revenue_after']:,.2f} "
        f"{cur} on the baseline load (baseline tariffs {res['baseline_revenue']:,.2f}; before "
        f"{res['revenue_before']:,.2f})", highlight=False)
    header = (f"{args.tariff}, revenue-neutral calibration by drsim: {args.component} prices x {res['factor']:.9f}"
              f"{rounded}\nagainst the baseline tariffs of scenario {sc.name!r} on its baseline load "
              f"({res['baseline_revenue']:,.2f} {cur}; the calibrated prices raise {res['revenue_after']:,.2f})"
              + (f"\nwith --set {' --set '.join(args.set)}" if args.set else ""))
    if args.output or not args.write:
        _write_text(args.output, tariff_to_yaml(args.tariff, res["tariff"], header))
    if args.write:
        from .scenario.dump import calibrated_scenario

        _write_text(args.write, calibrated_scenario(source, sc.tariffs[args.tariff], res["tariff"], header), "--write")
        if args.set:
            err_console.print(f"note: {args.write} is {args.file} with the calibrated prices; the other --set "
                              "overrides are not written into it", highlight=False)
    return 0


def _round_step(text: str | None) -> float | None:
    """``--round STEP``: a finite step > 0 (the currency unit prices are quoted in)."""
    import math

    if text is None:
        return None
    try:
        step = float(text)
    except ValueError:
        step = math.nan
    if not math.isfinite(step) or step <= 0:
        raise InputError(Problem("--round", None, "", f"takes the unit to round prices to, e.g. 0.0001; got {text!r}"))
    return step


def _writable_source(args, sc):
    """``--write FILE``: a new file, and the calibrated prices rewritable in the scenario's text."""
    from .scenario.dump import SourceText
    from .tariffs.calibrate import scaled_locations

    target = Path(args.write)
    if target.exists() or target.is_symlink():
        raise InputError(Problem("--write", None, "", f"{target} exists; drsim does not overwrite it (the "
                                                      "scenario file included): name a new file"))
    source = SourceText.read(args.file, args.tariff)
    try:
        source.check(scaled_locations(sc.tariffs[args.tariff], args.component))
    except ValueError as e:
        raise InputError(Problem(args.file, None, f"tariffs.{args.tariff}", f"cannot write the calibrated prices "
                                                                           f"back: {e}; use -o for the tariff alone")) from None
    return source


def cmd_import_urdb(args) -> int:
    from .tariffs.urdb import import_urdb, tariff_yaml

    _check_output(args.output)
    data = import_urdb(args.rate)
    _write_text(args.output, tariff_yaml(data, f"imported from {Path(args.rate).name}\nprices in {data['currency']}: "
                                               f"a scenario that uses this tariff is in {data['currency']} too"))
    return 0


def _boundaries(tariff) -> set[int]:
    from .scenario.tariff import tariff_boundaries

    return tariff_boundaries(tariff)


def build_parser() -> argparse.ArgumentParser:
    """The ``drsim`` parser: its commands in the order ``drsim --help`` lists them."""
    p = argparse.ArgumentParser(prog="drsim", description="Demand-response tariff simulator.")
    p.add_argument("--version", action="version", version=f"drsim {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_run(sub)
    q = sub.add_parser("validate", help="check a scenario file and report every problem")
    scenario_args(q)
    q.set_defaults(func=cmd_validate)
    _add_bill(sub)
    _add_tariff(sub)

    from .sweep.command import add_parser as add_sweep_parser

    add_sweep_parser(sub, scenario_args)

    from .report.command import add_parsers as add_report_parsers

    add_report_parsers(sub)

    q = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    q.set_defaults(func=cmd_schema)
    return p


def scenario_args(q) -> None:
    """The arguments of every command that reads a scenario file: FILE, --set, --debug."""
    q.add_argument("file", help="scenario YAML file")
    q.add_argument("--set", action="append", metavar="PATH=VALUE",
                   help="override a field, e.g. --set populations.residential.count=500 (repeatable)")
    q.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def _add_run(sub) -> None:
    """``drsim run``."""
    q = sub.add_parser("run", help="simulate a scenario and write a run folder",
                       description="Simulate baseline and scenario tariffs and write results/<scenario>/<run-id>/.")
    scenario_args(q)
    q.add_argument("--out", help="run folder to write (must not exist); default results/<scenario>/<run-id>")
    q.add_argument("--results", default="results", help="root of default run folders (default: results)")
    q.add_argument("--seed", type=int, help="override the scenario's seed")
    q.add_argument("--chunk", type=int, help=argparse.SUPPRESS)  # default: sim.engine.DEFAULT_CHUNK
    q.add_argument("--workers", type=int, default=1, metavar="N",
                   help="spread the customers over N worker processes on this machine (default 1: this process)")
    q.add_argument("--scheduler", metavar="ADDRESS",
                   help="spread the customers over the workers of a running Dask scheduler, e.g. tcp://host:8786")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    q.add_argument("--progress", action="store_true", help="progress bar even when stderr is not a terminal")
    q.add_argument("--report", action="store_true", help="also write report.html into the run folder (drsim report)")
    q.add_argument("--csv", action="store_true",
                   help="also write customer_bills.csv (every table is written as Parquet; the small ones also as CSV)")
    q.add_argument("--max-memory", metavar="SIZE",
                   help="memory the run may use on this machine, e.g. 8GiB (default: 80%% of the machine's); a run "
                        "estimated to need more, in this process or its workers, is refused before it starts")
    q.set_defaults(func=cmd_run)


def _add_bill(sub) -> None:
    """``drsim bill``."""
    q = sub.add_parser("bill", help="bill one meter's load file under a tariff, month by month",
                       description="Bill a load CSV (kWh per step over one calendar year) under a drsim YAML "
                                   "tariff or an OpenEI URDB JSON rate.")
    q.add_argument("tariff_file", metavar="TARIFF", help="drsim tariff YAML (or scenario YAML) or URDB .json")
    q.add_argument("load", metavar="LOAD.csv", help="kWh per step; optional header and timestamp column")
    q.add_argument("--tariff", help="tariff name when TARIFF is a scenario file with several")
    q.add_argument("--year", type=int, help="calendar year billed (default: from the timestamps)")
    q.add_argument("--holidays", metavar="CC[:SUB]", help="public holidays, e.g. CN or US:CA (default: none)")
    q.add_argument("--contract-kva", type=float, help="contracted capacity, for capacity charges [kVA]")
    q.add_argument("--firm-kw", type=float, help="firm service level, for interruptible contracts [kW]")
    q.add_argument("--json", action="store_true", help="print JSON instead of a table")
    q.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    q.set_defaults(func=cmd_bill)


def _add_tariff(sub) -> None:
    """``drsim tariff calibrate`` and ``drsim tariff import-urdb``."""
    q = sub.add_parser("tariff", help="tariff tools: calibrate, import-urdb")
    tsub = q.add_subparsers(dest="tariff_command", metavar="TOOL", required=True)
    c = tsub.add_parser("calibrate", help="scale a tariff to the baseline tariffs' revenue on the baseline load",
                        description="Revenue-neutral calibration: scale the prices of one component (or all) of "
                                    "a scenario's tariff so that the segments on it raise, on their baseline load, "
                                    "the revenue of their baseline tariffs. Prints the calibrated tariff as YAML.")
    scenario_args(c)
    c.add_argument("--tariff", required=True, help="the scenario tariff to calibrate")
    c.add_argument("--component", default="energy", choices=["all", "energy", "demand", "capacity", "fixed"],
                   help="which prices to scale (default: energy)")
    c.add_argument("-o", "--output", help="write the tariff YAML here (default: stdout, unless --write)")
    c.add_argument("--round", metavar="STEP", help="round the calibrated prices to STEP, the currency unit they are "
                                                   "quoted in (e.g. 0.0001); the revenue reported is the rounded one")
    c.add_argument("--write", metavar="NEW.yaml", help="write the scenario file with the calibrated prices in place "
                                                       "of the old ones (comments and layout kept) to this new file")
    c.set_defaults(func=cmd_calibrate)
    c = tsub.add_parser("import-urdb", help="convert an OpenEI URDB rate (JSON) to a drsim tariff (YAML)")
    c.add_argument("rate", metavar="RATE.json")
    c.add_argument("-o", "--output", help="write the tariff YAML here (default: stdout)")
    c.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    c.set_defaults(func=cmd_import_urdb)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded in manifests as the command
    try:
        return args.func(args)
    except InputError as e:
        if args.debug:
            raise
        print_problems(e.problems)
        return 2
    except KeyboardInterrupt:
        err_console.print("interrupted; nothing was written")
        return 130
    except RunError as e:
        if args.debug:
            raise
        print_error(f"run failed: {e}")
        return 1
    except MemoryError:
        if args.debug:
            raise
        err_console.print("run failed: out of memory (fewer customers, or a shorter horizon)")
        return 1
    except Exception as e:  # a defect in drsim itself: say so briefly, trace with --debug
        if args.debug:
            raise
        print_error(f"internal error: {type(e).__name__}: {e} (rerun with --debug for the traceback)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
