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
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["SweepInterrupted", "SweepResult", "sweep"]


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
        The swept parameters (their columns in ``runs`` and ``summary``).
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


def sweep(scenario, params: dict[str, Any] | None = None, *, design: str | None = None,
          samples: int | None = None, replications: int | None = None, seed: int | None = None,
          sensitivity: list[str] | str | None = None, overrides=(), out: str | Path | None = None,
          results: str | Path = "results", scheduler: str | None = None, workers: int | None = None,
          client=None, retries: int | None = None, progress: bool = False,
          log: Callable[[str], None] | None = None, command: list[str] | None = None) -> SweepResult:
    """Run a parameter sweep, resuming whatever an earlier invocation finished.

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
    from ..console import sweep_progress
    from ..errors import InputError, Problem, RunError
    from ..results import code_version
    from .analysis import check_metrics, run_table, sensitivity as sensitivity_table, summarize
    from .execute import DEFAULT_RETRIES, connect, describe, execute
    from .plan import plan_sweep
    from .store import SweepStore, make_record

    say = log or (lambda msg: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError(Problem("--workers", None, "", f"must be an integer >= 1; got {workers!r}"))
    if workers is not None and (scheduler or client is not None):
        raise InputError(Problem("--workers", None, "", "sizes the local cluster; with --scheduler the cluster "
                                                         "has the workers it has"))
    retries = DEFAULT_RETRIES if retries is None else retries
    plan = plan_sweep(scenario, params=params, design=design, samples=samples, replications=replications,
                      seed=seed, sensitivity=sensitivity, overrides=overrides)
    timings["plan_s"] = time.perf_counter() - t0
    notes = list(plan.design.notes)
    des = plan.design
    out = Path(out) if out is not None else Path(results) / plan.name / f"sweep-{plan.definition_hash[:12]}"
    store = SweepStore(out)
    info = {
        "drsim_sweep": 1,
        "scenario": plan.label,
        "scenario_name": plan.name,
        "design": des.kind,
        "params": [{"path": p.path, "values": p.text, "kind": p.kind} for p in plan.params],
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
    notes += store.open(plan.definition, plan.definition_hash, info)
    try:
        for note in notes:
            say(f"note: {note}")
        keys = [r.key for r in plan.runs]
        records = store.finished(keys)
        reused = sum(1 for r in plan.runs if records.get(r.key, {}).get("status") == "ok")
        todo = [r for r in plan.runs if records.get(r.key, {}).get("status") != "ok"]
        n_distinct = len({r.key for r in todo})
        say(f"sweep of {plan.name}: {des.kind} design, {len(des.points)} points x {plan.replications} "
            f"replications = {len(plan.runs)} runs; {reused} finished earlier, {len(todo)} to run -> {out}")
        checked = not plan.sensitivity

        def check_sensitivity(rec: dict) -> None:
            nonlocal checked
            if not checked and rec.get("status") == "ok":
                checked = True
                bad = check_metrics(plan.sensitivity, rec.get("metrics", {}))
                if bad:
                    raise InputError([Problem("--sensitivity", None, "", b) for b in bad])

        for rec in records.values():
            check_sensitivity(rec)
        executed = 0
        written: set[str] = set()  # keys whose record this invocation wrote
        timings["cluster_s"] = timings["run_s"] = 0.0
        if todo:
            bar = sweep_progress(progress)
            t1 = time.perf_counter()
            if scheduler:
                say(f"connecting to {scheduler}")
            with bar, connect(scheduler, workers, client) as cl:
                timings["cluster_s"] = time.perf_counter() - t1
                where = describe(cl)
                say(f"running {n_distinct} runs on {where}")
                if " (0 workers" in where:
                    say("note: the scheduler has no workers yet; the runs start when workers connect")
                failed_now = 0
                task = bar.add_task(plan.name, total=len(plan.runs), completed=reused, failed=0)
                params_of = {r.point: des.points[r.point] for r in todo}
                same_key: dict[str, int] = {}
                for r in todo:
                    same_key[r.key] = same_key.get(r.key, 0) + 1

                def on_result(run, outcome: dict) -> None:
                    nonlocal failed_now
                    rec = make_record(run, params_of[run.point], outcome)
                    store.write(rec)
                    records[run.key] = rec
                    written.add(run.key)
                    failed_now += rec["status"] != "ok"
                    bar.update(task, advance=same_key[run.key], failed=failed_now)
                    check_sensitivity(rec)

                t2 = time.perf_counter()
                try:
                    executed = execute(todo, cl, plan.base_dir, on_result, retries=retries)
                except KeyboardInterrupt:
                    # what is on disk counts (the interrupt may fall between a write and its callback)
                    now = sum(1 for r in todo if r.key in written
                              or (store.read(r.key) or {}).get("status") == "ok")
                    store.update_meta(state="interrupted", finished=reused + now)
                    raise SweepInterrupted(reused + now, len(plan.runs), now, out) from None
                timings["run_s"] = time.perf_counter() - t2
            lost = sum(1 for r in todo if r.key not in written)
            if lost:  # tasks cancelled from outside, or the scheduler went away
                kept = len(plan.runs) - lost
                store.update_meta(state="incomplete", finished=kept)
                raise RunError(f"{lost} of {len(plan.runs)} runs did not complete (their tasks were cancelled or "
                               f"the cluster was lost); the {kept} finished are kept in {out / 'runs'}: rerun the "
                               "same command to finish")
        t3 = time.perf_counter()
        runs = run_table(plan, records)
        summary = summarize(runs, plan)
        sens, sens_notes = sensitivity_table(plan, summary)
        notes += sens_notes
        for note in sens_notes:
            say(f"note: {note}")
        store.write_table(runs, "runs")
        store.write_table(summary, "summary")
        if sens is not None:
            store.write_table(sens, "sensitivity")
        failed = int((runs["status"] != "ok").sum())
        store.update_meta(state="complete" if not failed else "complete with failed runs",
                          finished=len(plan.runs), failed=failed, notes=notes)
        timings["tables_s"] = time.perf_counter() - t3
        timings["total_s"] = time.perf_counter() - t0
        return SweepResult(runs=runs, summary=summary, sensitivity=sens, out=out, total=len(plan.runs),
                           reused=reused, executed=executed, failed=failed, params=[p.path for p in plan.params],
                           notes=notes, timings=timings)
    except KeyboardInterrupt as e:
        if isinstance(e, SweepInterrupted):
            raise
        done = sum(1 for r in plan.runs if (store.read(r.key) or {}).get("status") == "ok")
        raise SweepInterrupted(done, len(plan.runs), 0, out) from None
    finally:
        store.close()
