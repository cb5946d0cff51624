"""Parameter sweeps: designs, replications, Dask execution, resume, tables and sensitivity.

Notebook use::

    import sim
    res = sim.sweep("scenarios/sweep_tou_ratio.yaml",
                    params={"tariffs.residential_tou.periods.peak.price_per_kwh": "0.6:0.9:4"},
                    replications=3)
    res.runs        # DataFrame, one row per run
    res.summary     # DataFrame, one row per design point: mean and 95 % CI of every metric
    res.out         # the sweep folder (runs/, runs.parquet, summary.parquet, ...)

The modules: :mod:`.design` (values and designs), :mod:`.plan` (the sweep validated into
runs), :mod:`.execute` (Dask), :mod:`.store` (the sweep folder), :mod:`.analysis` (tables,
confidence intervals, sensitivity), :mod:`.command` (``drsim sweep``). Import them as
``from sim.sweep import design``: ``sim.sweep`` itself is this function.

This module owns one invocation of a sweep: its options (:class:`SweepSpec`,
:class:`Execution`, :class:`Output`), the runs still to do against the sweep folder, the
progress of those runs, and the tables written at the end (:class:`SweepResult`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..words import counted

__all__ = ["Execution", "Output", "SweepInterrupted", "SweepResult", "SweepSpec", "sweep"]


class SweepInterrupted(KeyboardInterrupt):
    """A sweep stopped by Ctrl-C; every finished run is kept in ``out/runs``."""

    def __init__(self, finished: int, total: int, this_session: int, out: Path):
        self.finished, self.total, self.this_session, self.out = finished, total, this_session, out
        super().__init__(
            f"interrupted: {finished} of {total} runs finished and kept in {out / 'runs'} "
            f"({this_session} in this session); rerun the same command to run the other {total - finished}")


@dataclass
class SweepResult:
    """What a sweep returns.

    Attributes
    ----------
    runs : pandas.DataFrame
        One row per run (design point x replication): ``point``, ``replication``, ``seed``,
        one column per parameter (its dotted path), ``status`` ("ok" / "failed"), ``error``,
        ``wall_s``, ``worker``, ``key``, then every metric by dotted name.
    summary : pandas.DataFrame
        One row per design point: ``point``, the parameters, ``n`` (successful
        replications), ``n_failed``, and ``<metric>.mean`` / ``.ci_low`` / ``.ci_high``.
    sensitivity : pandas.DataFrame or None
        Sobol or Morris indices (sobol and morris designs).
    out : Path
        The sweep folder.
    total, reused, executed, failed : int
        Runs in the sweep; found finished in ``out``; run now; failed (recorded, retried
        by the next invocation).
    params : list of str
        The swept parameters, then the linked fields (their columns in ``runs`` and ``summary``).
    notes : list of str
        Adjustments and warnings (e.g. a Sobol sample size rounded up).
    timings : dict
        Seconds spent planning (validating every point), starting the cluster, running,
        and writing the tables.
    """

    runs: Any
    summary: Any
    sensitivity: Any
    out: Path
    total: int
    reused: int
    executed: int
    failed: int
    params: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def sweep(scenario, params: dict[str, Any] | None = None, **options) -> SweepResult:
    """Run a parameter sweep, resuming whatever an earlier invocation finished.

    The options are keyword arguments, grouped into three records: what is swept besides
    ``params`` (:class:`SweepSpec`), where the runs go (:class:`Execution`) and where the
    files and messages go (:class:`Output`). An unknown keyword is a TypeError.

    Parameters
    ----------
    scenario : path of a scenario file, Scenario, or raw scenario dict
        A file may carry a ``sweep:`` block (params, design, samples, replications, seed,
        sensitivity); the arguments override it (parameters one by one).
    params : dict, optional
        ``{dotted.path: values}``: ``"a,b,c"``, ``"lo:hi:n"``, ``"uniform(lo,hi)"``,
        ``"loguniform(lo,hi)"``, ``"normal(mu,sd)"``, ``"choice(a,b)"``, a list, or a value.
    design : {"grid", "lhs", "sobol", "morris"}, default grid
    samples : int, optional
        LHS points (default 64), Sobol base samples N (power of two, default 64; N x (d+2)
        points) or Morris trajectories (default 10; N x (d+1) points).
    replications : int, default 1
        Seeds per design point, derived from the sweep seed.
    seed : int, optional
        Sweep seed (default: the scenario's).
    sensitivity : list of str, optional
        Metrics for Sobol / Morris indices (default change.peak_reduction_pct).
    overrides : sequence of str
        ``path=value`` scenario overrides, as ``--set``.
    out : path, optional
        Sweep folder; default ``results/<scenario>/sweep-<definition hash>``, so the same
        sweep always lands (and resumes) in the same folder.
    scheduler : str, optional
        Address of a running Dask scheduler; default: a LocalCluster.
    workers : int, optional
        LocalCluster workers (processes with one thread; default one per core).
    client : distributed.Client, optional
        Run on this client instead (it is not closed).
    retries : int, optional
        Dask retries of a task whose worker raised outside the run (default 2).
    progress : bool
        Show a progress bar with ETA on stderr.
    log : callable(str), optional
        Receives one-line messages (plan, notes, where runs go).
    command : list of str, optional
        The command line, recorded in ``sweep.json``.

    Returns
    -------
    SweepResult
        ``.runs`` and ``.summary`` DataFrames (and ``.sensitivity``); also written to ``out``.

    Raises
    ------
    InputError
        Bad parameters, values or options, found before anything runs.
    SweepInterrupted
        Ctrl-C: unfinished tasks were cancelled, the cluster closed, finished runs kept.
    """
    from .plan import plan_sweep
    from .store import SweepStore

    spec, execution, output = _records(options)
    t0 = time.perf_counter()
    execution.check()
    plan = plan_sweep(scenario, params=params, design=spec.design, samples=spec.samples,
                      replications=spec.replications, seed=spec.seed, sensitivity=spec.sensitivity,
                      overrides=spec.overrides)
    timings = {"plan_s": time.perf_counter() - t0}
    out = output.folder(plan)
    store = SweepStore(out)
    notes = list(plan.design.notes)
    notes += store.open(plan.definition, plan.definition_hash, _sweep_info(plan, notes, output.command))
    session = _Session(plan, store, output.say, timings)
    try:
        for note in notes:
            output.say(f"note: {note}")
        session.read_finished()
        executed = session.run(execution, output.progress) if session.todo else 0
        result = session.tables(notes, executed)
        timings["total_s"] = time.perf_counter() - t0
        return result
    except KeyboardInterrupt as e:
        if isinstance(e, SweepInterrupted):
            raise
        done = sum(1 for r in plan.runs if (store.read(r.key) or {}).get("status") == "ok")
        raise SweepInterrupted(done, len(plan.runs), 0, out) from None
    finally:
        store.close()


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep sweeps besides its parameters (see :func:`sweep`); None: the `sweep:` block's or the default."""

    design: str | None = None
    samples: int | None = None
    replications: int | None = None
    seed: int | None = None
    sensitivity: list[str] | str | None = None
    overrides: Sequence[str] = ()


@dataclass(frozen=True)
class Execution:
    """Where a sweep's runs go (see :func:`sweep`): a running scheduler, a local cluster, or a client."""

    scheduler: str | None = None
    workers: int | None = None
    client: Any = None
    retries: int | None = None

    def check(self) -> None:
        """``workers`` is a count of local workers, and only for a local cluster."""
        from ..errors import InputError, Problem

        workers = self.workers
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
            raise InputError(Problem("--workers", None, "", f"must be an integer >= 1; got {workers!r}"))
        if workers is not None and (self.scheduler or self.client is not None):
            raise InputError(Problem("--workers", None, "", "sizes the local cluster; with --scheduler the cluster "
                                                             "has the workers it has"))


@dataclass(frozen=True)
class Output:
    """Where a sweep's files and messages go (see :func:`sweep`)."""

    out: str | Path | None = None
    results: str | Path = "results"
    progress: bool = False
    log: Callable[[str], None] | None = None
    command: list[str] | None = None

    def folder(self, plan) -> Path:
        """``out``, or ``results/<scenario>/sweep-<definition hash>``: the same sweep lands in the same folder."""
        return Path(self.out) if self.out is not None else Path(self.results) / plan.name / \
            f"sweep-{plan.definition_hash[:12]}"

    def say(self, msg: str) -> None:
        if self.log is not None:
            self.log(msg)


def _records(options: dict[str, Any]) -> tuple[SweepSpec, Execution, Output]:
    """The keyword arguments of :func:`sweep`, each in its record."""
    rest = dict(options)
    records = []
    for record in (SweepSpec, Execution, Output):
        names = [f.name for f in dataclasses.fields(record)]
        records.append(record(**{k: rest.pop(k) for k in names if k in rest}))
    if rest:
        raise TypeError(f"sweep() got an unexpected keyword argument {next(iter(rest))!r}")
    spec, execution, output = records
    return spec, execution, output


def _sweep_info(plan, notes: list[str], command: list[str] | None) -> dict:
    """What sweep.json says about the sweep, besides its definition and state."""
    from ..results import code_version

    des = plan.design
    return {
        "drsim_sweep": 1,
        "scenario": plan.label,
        "scenario_name": plan.name,
        "currency": plan.currency,
        "design": des.kind,
        "params": [{"path": p.path, "values": p.text, "kind": p.kind} for p in plan.params],
        **({"links": [{"path": link.path, "formula": link.formula.text, "given": link.given} for link in plan.links]}
           if plan.links else {}),
        "samples": des.base_samples,
        "replications": plan.replications,
        "seed": plan.seed,
        "replication_seeds": plan.seeds,
        "points": len(des.points),
        "runs": len(plan.runs),
        "sensitivity": plan.sensitivity,
        "notes": notes,
        "command": command,
        "code": code_version(),
    }


class _Session:
    """One invocation of a sweep over its folder: the records found and written, and the runs left."""

    def __init__(self, plan, store, say: Callable[[str], None], timings: dict[str, float]):
        self.plan, self.store, self.say, self.timings = plan, store, say, timings
        self.records: dict[str, dict] = {}
        self.written: set[str] = set()  # keys whose record this invocation wrote
        self.reused = 0
        self.todo: list = []
        self.checked = not plan.sensitivity  # the sensitivity metrics checked against a run's metrics

    def read_finished(self) -> None:
        """The runs an earlier invocation finished, and those left to do."""
        plan = self.plan
        self.records = self.store.finished([r.key for r in plan.runs])
        self.reused = sum(1 for r in plan.runs if self.records.get(r.key, {}).get("status") == "ok")
        self.todo = [r for r in plan.runs if self.records.get(r.key, {}).get("status") != "ok"]
        des = plan.design
        self.say(f"sweep of {plan.name}: {des.kind} design, {counted(len(des.points), 'point')} x "
                 f"{counted(plan.replications, 'replication')} = {counted(len(plan.runs), 'run')}; {self.reused} "
                 f"finished earlier, {len(self.todo)} to run "
                 f"-> {self.store.out}")
        for rec in self.records.values():
            self.check_sensitivity(rec)
        self.timings["cluster_s"] = self.timings["run_s"] = 0.0

    def check_sensitivity(self, rec: dict) -> None:
        """The first successful run's metrics include the sensitivity metrics, or the sweep stops as bad input."""
        from ..errors import InputError, Problem
        from .analysis import check_metrics

        if not self.checked and rec.get("status") == "ok":
            self.checked = True
            bad = check_metrics(self.plan.sensitivity, rec.get("metrics", {}))
            if bad:
                raise InputError([Problem("--sensitivity", None, "", b) for b in bad])

    def run(self, execution: Execution, progress: bool) -> int:
        """Run the runs left on the cluster, recording each as it completes; the number of tasks completed."""
        from ..console import sweep_progress
        from .execute import DEFAULT_RETRIES, connect, describe, execute

        plan, say = self.plan, self.say
        retries = DEFAULT_RETRIES if execution.retries is None else execution.retries
        bar = sweep_progress(progress)
        t1 = time.perf_counter()
        if execution.scheduler:
            say(f"connecting to {execution.scheduler}")
        with bar, connect(execution.scheduler, execution.workers, execution.client) as cl:
            self.timings["cluster_s"] = time.perf_counter() - t1
            where = describe(cl)
            say(f"running {len({r.key for r in self.todo})} runs on {where}")
            if " (0 workers" in where:
                say("note: the scheduler has no workers yet; the runs start when workers connect")
            task = bar.add_task(plan.name, total=len(plan.runs), completed=self.reused, failed=0)
            t2 = time.perf_counter()
            try:
                executed = execute(self.todo, cl, plan.base_dir, self._recorder(bar, task), retries=retries)
            except KeyboardInterrupt:
                raise self._interrupted() from None
            self.timings["run_s"] = time.perf_counter() - t2
        self._check_lost()
        return executed

    def _recorder(self, bar, task) -> Callable[[Any, dict], None]:
        """What is done with each run's outcome as it arrives: its record written, the bar advanced."""
        from .store import make_record

        params_of = {r.point: self.plan.design.points[r.point] for r in self.todo}
        same_key: dict[str, int] = {}
        for r in self.todo:
            same_key[r.key] = same_key.get(r.key, 0) + 1
        failed = 0

        def on_result(run, outcome: dict) -> None:
            nonlocal failed
            rec = make_record(run, params_of[run.point], outcome)
            self.store.write(rec)
            self.records[run.key] = rec
            self.written.add(run.key)
            failed += rec["status"] != "ok"
            bar.update(task, advance=same_key[run.key], failed=failed)
            self.check_sensitivity(rec)

        return on_result

    def _interrupted(self) -> SweepInterrupted:
        """Ctrl-C during the runs: what is on disk counts (the interrupt may fall between a write and its callback)."""
        now = sum(1 for r in self.todo if r.key in self.written
                  or (self.store.read(r.key) or {}).get("status") == "ok")
        self.store.update_meta(state="interrupted", finished=self.reused + now)
        return SweepInterrupted(self.reused + now, len(self.plan.runs), now, self.store.out)

    def _check_lost(self) -> None:
        """Tasks cancelled from outside, or a scheduler that went away: the sweep failed, its finished runs kept."""
        from ..errors import RunError

        lost = sum(1 for r in self.todo if r.key not in self.written)
        if lost:
            total = len(self.plan.runs)
            kept = total - lost
            self.store.update_meta(state="incomplete", finished=kept)
            raise RunError(f"{lost} of {total} runs did not complete (their tasks were cancelled or "
                           f"the cluster was lost); the {kept} finished are kept in {self.store.out / 'runs'}: rerun "
                           "the same command to finish")

    def tables(self, notes: list[str], executed: int) -> SweepResult:
        """The runs, summary and sensitivity tables, written to the folder, and the counts of the runs."""
        from .analysis import run_table, sensitivity as sensitivity_table, summarize

        plan, store = self.plan, self.store
        t3 = time.perf_counter()
        runs = run_table(plan, self.records)
        summary = summarize(runs, plan)
        sens, sens_notes = sensitivity_table(plan, summary)
        notes += sens_notes
        for note in sens_notes:
            self.say(f"note: {note}")
        store.write_table(runs, "runs", plan.currency)
        store.write_table(summary, "summary", plan.currency)
        if sens is not None:
            store.write_table(sens, "sensitivity", plan.currency)
        failed = int((runs["status"] != "ok").sum())
        store.update_meta(state="complete" if not failed else "complete with failed runs",
                          finished=len(plan.runs), failed=failed, notes=notes)
        self.timings["tables_s"] = time.perf_counter() - t3
        return SweepResult(runs=runs, summary=summary, sensitivity=sens, out=store.out, total=len(plan.runs),
                           reused=self.reused, executed=executed, failed=failed, params=plan.columns,
                           notes=notes, timings=self.timings)
