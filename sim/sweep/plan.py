"""A sweep's plan: the scenario, its `sweep:` block and the options, validated into run specs.

Everything is checked before anything runs: the sweep options, every parameter's path and
values, and the scenario of every design point (validation is cheap: milliseconds a point),
with the files its network names (power-flow network, topology: :mod:`sim.network.inputs`).
Problems come back together as ``--param PATH: message`` (or ``file:line: sweep.params.PATH:
message`` for a parameter of the file's `sweep:` block), exit code 2.

Each run is a (design point, replication) with its resolved scenario (validated, defaults
filled in, input files by absolute path) and its key: the SHA-256 of the scenario's content
hash (:func:`sim.results.scenario_hash`: input files by content) and its seed.

:func:`plan_sweep` goes in steps, each with its record: the :class:`Source` scenario, the
options and parameters gathered from the `sweep:` block and the arguments, the
:class:`SweepOptions` and :class:`Swept` parameters checked, the design, and the runs of
every design point; :class:`Problems` collects what is wrong on the way.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from .design import DESIGNS, Design, Param, make_design, parse_values, replication_seeds
from .links import IDENTIFIER, Formula, compile_formula, evaluate, expand, lookup, value_at

#: Keys of a scenario file's `sweep:` block.
SWEEP_KEYS = ("params", "design", "samples", "replications", "seed", "sensitivity")

#: Metric a sobol or morris sweep analyses unless told otherwise.
DEFAULT_SENSITIVITY = ("change.peak_reduction_pct",)

#: Top-level groups of a run's metrics (metrics.json).
METRIC_GROUPS = ("baseline", "scenario", "change", "segments", "headline")

#: At most this many problems are listed; the rest are counted.
MAX_PROBLEMS = 30

_MARK = "\x00"  # tags a --param in the loader's `overridden` map

#: A linked parameter's values: ``link(FORMULA)``, or ``scale(NAME)`` for ``link(base * NAME)``.
_LINK = re.compile(r"^\s*(link|scale)\s*\((.*)$", re.S)


@dataclass(frozen=True)
class Run:
    """One run of a sweep: a design point with one replication's seed."""

    point: int
    replication: int
    seed: int
    key: str
    scenario: dict = field(repr=False)  # resolved scenario JSON, this run's seed included


@dataclass
class Plan:
    """A validated sweep, ready to run."""

    label: str                 # the scenario file, or "<scenario>"
    name: str                  # scenario name
    base_dir: str              # absolute folder that relative input paths were resolved against
    base_hash: str             # scenario_hash of the scenario without the swept parameters
    design: Design
    replications: int
    seed: int
    seeds: list[int]
    sensitivity: list[str]
    runs: list[Run]
    definition: dict
    links: list[Link] = field(default_factory=list)
    currency: str = ""          # ISO 4217 code of every run's money (one for the whole sweep)

    @property
    def columns(self) -> list[str]:
        """The parameter columns of the sweep's tables: every swept parameter (drivers
        included), then every linked field."""
        return [p.path for p in self.params] + [link.path for link in self.links]

    @property
    def definition_hash(self) -> str:
        """SHA-256 of what determines the runs (scenario, design, parameters, seeds)."""
        text = json.dumps(self.definition, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def params(self) -> list[Param]:
        return self.design.params


def run_key(scenario) -> str:
    """Key of a run: SHA-256 of (the scenario's content hash, its seed)."""
    from ..results import scenario_hash

    text = json.dumps({"scenario_sha256": scenario_hash(scenario), "seed": scenario.seed}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- schema types


def _options(tp: Any) -> list:
    """Concrete alternatives of a type: Annotated and Union unwrapped."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [o for a in typing.get_args(tp) for o in _options(a)]
    return [tp]


def integer_field(loc: tuple) -> bool:
    """Whether the scenario field at a resolved location holds an integer (e.g. a count)."""
    from pydantic import BaseModel

    from ..scenario.schema import Scenario

    cands: list = [Scenario]
    for item in loc:
        nxt = []
        for tp in (o for c in cands for o in _options(c)):
            origin = typing.get_origin(tp)
            if origin is list and isinstance(item, int):
                nxt.append(typing.get_args(tp)[0])
            elif origin is dict and isinstance(item, str):
                nxt.append(typing.get_args(tp)[1])
            elif isinstance(tp, type) and issubclass(tp, BaseModel) and item in tp.model_fields:
                nxt.append(tp.model_fields[item].annotation)
        if not nxt:
            return False
        cands = nxt
    final = [o for c in cands for o in _options(c) if o is not type(None)]
    return bool(final) and all(o is int for o in final)


# --------------------------------------------------------------------------- the plan


@dataclass
class Source:
    """The scenario a sweep starts from, before its parameters."""

    data: dict                 # raw scenario data, --set overrides applied, `sweep:` block still in
    lines: dict                # location -> line in the file ({} without a file)
    overridden: dict           # location -> the --set item that set it
    label: str                 # the scenario file, or "<scenario>"
    base_dir: Path             # folder relative input paths are read from


def _source(scenario, overrides) -> Source:
    """Raw scenario data, its lines, --set overrides, label and folder."""
    from ..scenario import Scenario
    from ..scenario.loader import apply_overrides, load_raw
    from ..results import resolved_scenario

    if isinstance(scenario, (str, Path)):
        data, lines, overridden = load_raw(scenario, overrides)
        return Source(data, lines, overridden, str(scenario), Path(scenario).resolve().parent)
    if isinstance(scenario, Scenario):
        data = resolved_scenario(scenario)
    elif isinstance(scenario, dict):
        data = copy.deepcopy(scenario)
    else:
        raise TypeError(f"a sweep takes a scenario file, a Scenario or a scenario dict; got {type(scenario).__name__}")
    return Source(data, {}, apply_overrides(data, overrides), "<scenario>", Path.cwd())


@dataclass
class Problems:
    """The problems found while planning, each told where its value was given.

    A parameter's problem names ``--param PATH`` or the line of the file's `sweep:` block;
    an option's, ``--name`` or ``sweep.name`` at its line.
    """

    label: str
    lines: dict
    origin: dict[str, Any] = field(default_factory=dict)  # parameter path -> line in the block (int / None) or "cli"
    found: list[Problem] = field(default_factory=list)

    def param(self, path: str, msg: str) -> Problem:
        if self.origin.get(path) == "cli":
            return Problem(f"--param {path}", None, "", msg)
        return Problem(self.label, self.origin.get(path), f"sweep.params.{path}", msg)

    def option(self, name: str, msg: str, from_block: bool) -> Problem:
        if from_block:
            return Problem(self.label, self.lines.get(("sweep", name)), f"sweep.{name}", msg)
        return Problem(f"--{name}", None, "", msg)

    def add(self, problem: Problem) -> None:
        self.found.append(problem)

    def raise_all(self) -> None:
        """Raise every problem found, if any."""
        if self.found:
            raise InputError(self.found)

    def raise_first_ones(self) -> None:
        """Raise the problems found, each once and at most MAX_PROBLEMS of them, if any."""
        if self.found:
            unique = list({str(p): p for p in self.found}.values())
            if len(unique) > MAX_PROBLEMS:
                more = len(unique) - MAX_PROBLEMS
                unique = unique[:MAX_PROBLEMS] + [Problem("--param", None, "", f"... and {more} more problems")]
            raise InputError(unique)


@dataclass(frozen=True)
class SweepOptions:
    """The sweep's options, checked (the `sweep:` block's, overridden by the arguments)."""

    design: str = "grid"
    samples: int | None = None
    replications: int = 1
    seed: int | None = None                     # None: the scenario's seed
    sensitivity: tuple[str, ...] = ()


@dataclass(frozen=True)
class Link:
    """A scenario field whose value a formula computes from the swept drivers, at every point."""

    path: str                  # the field's dotted path (a ``*`` of the given path expanded)
    given: str                 # the path as written
    formula: Formula
    base: float | None         # the field's own value in the scenario, when the formula uses ``base``
    integer: bool = False      # the field holds an integer (a count): a whole value is written as one

    def value(self, point: dict[str, Any]) -> float | int:
        """The field's value at a design point (``{driver: value}``)."""
        v = evaluate(self.formula, {**point, "base": self.base})
        return int(v) if self.integer and v.is_integer() else v


@dataclass
class Swept:
    """The swept parameters, checked: their values, where they land and what they create."""

    params: list[Param] = field(default_factory=list)
    resolved: dict[str, tuple] = field(default_factory=dict)       # path -> resolved location
    created: dict[str, list[tuple]] = field(default_factory=dict)  # path -> locations its override creates
    links: list[Link] = field(default_factory=list)
    drivers: set[str] = field(default_factory=set)                 # parameters that only feed links
    unused: list[str] = field(default_factory=list)                # names no field has and no formula uses


def plan_sweep(scenario, *, params: dict[str, Any] | None = None, design: str | None = None,
               samples: int | None = None, replications: int | None = None, seed: int | None = None,
               sensitivity: list[str] | str | None = None, overrides=()) -> Plan:
    """Validate a sweep and list its runs.

    Parameters
    ----------
    scenario : path of a scenario file, Scenario, or raw scenario dict
        A file may hold a `sweep:` block (params, design, samples, replications, seed,
        sensitivity); the arguments below override it, parameter by parameter.
    params : dict, optional
        ``{dotted.path: values}``; values as on the command line (``"a,b,c"``, ``"lo:hi:n"``,
        ``"uniform(lo,hi)"``, ...), or a list of values, or one value.
    design : {"grid", "lhs", "sobol", "morris"}, default grid
    samples : int, optional
        LHS points, Sobol base samples (a power of two) or Morris trajectories.
    replications : int, default 1
        Seeds per design point.
    seed : int, optional
        Sweep seed (default: the scenario's seed).
    sensitivity : list of str or comma-separated str, optional
        Metrics to analyse (sobol and morris designs; default change.peak_reduction_pct).
    overrides : sequence of str
        ``--set path=value`` overrides of the scenario, applied before the sweep.

    Raises
    ------
    InputError
        Every problem, before anything runs.
    """
    from ..scenario.loader import validate
    from ..results import scenario_hash

    src = _source(scenario, overrides)
    block = src.data.pop("sweep", None)
    problems = Problems(src.label, src.lines)
    given = {"design": design, "samples": samples, "replications": replications, "seed": seed,
             "sensitivity": sensitivity}
    spec_raw, raw_params = _gather(block, given, params, problems)
    opts = _check_options(spec_raw, problems)
    swept = _check_params(raw_params, src, problems)
    if not raw_params and not problems.found:
        problems.add(Problem("--param", None, "", "nothing to sweep: give --param PATH=VALUES or a `sweep:` "
                                                  "block with params in the scenario file"))
    problems.raise_all()

    base = validate(copy.deepcopy(src.data), label=src.label, lines=src.lines, base_dir=src.base_dir,
                    overridden=src.overridden)
    sweep_seed = base.seed if opts.seed is None else opts.seed
    des, seeds = _design(swept, opts, sweep_seed, problems)
    _link_values(des, swept, problems)
    problems.raise_first_ones()
    runs = _runs(des, seeds, src, swept, problems)
    problems.raise_first_ones()
    currencies = sorted({r.scenario.get("currency", base.currency) for r in runs})
    if len(currencies) > 1:  # one sweep's tables compare money across runs: one currency
        raise InputError(Problem(src.label, None, "sweep.params", f"the runs would be in {len(currencies)} currencies "
                                 f"({', '.join(currencies)}); drsim does not mix currencies in one sweep"))

    definition = {
        "scenario_sha256": scenario_hash(base),
        "design": des.kind,
        "params": [[p.path, p.text] for p in swept.params],
        "samples": des.base_samples,
        "replications": opts.replications,
        "seed": sweep_seed,
    }
    if swept.links:  # only then: the definitions (and default folders) of sweeps without links are unchanged
        definition["links"] = [[link.path, link.formula.text] for link in swept.links]
    return Plan(label=src.label, name=base.name, base_dir=str(src.base_dir), base_hash=definition["scenario_sha256"],
                design=des, replications=opts.replications, seed=sweep_seed, seeds=seeds,
                sensitivity=list(opts.sensitivity), runs=runs, definition=definition, links=swept.links,
                currency=currencies[0] if currencies else base.currency)


def _gather(block, given: dict[str, Any], params: dict[str, Any] | None,
            problems: Problems) -> tuple[dict[str, tuple[Any, bool]], dict[str, Any]]:
    """The options and parameters of the `sweep:` block and the arguments (which win).

    Returns ``{option: (value, from the block)}`` and ``{parameter path: values}``; records
    where each parameter was given in ``problems.origin``.
    """
    label, lines = problems.label, problems.lines
    spec_raw: dict[str, tuple[Any, bool]] = {}
    if block is not None:
        if not isinstance(block, dict):
            problems.add(Problem(label, lines.get(("sweep",)), "sweep",
                                 f"must be a mapping with keys {', '.join(SWEEP_KEYS)}"))
            block = {}
        for k, v in block.items():
            if k not in SWEEP_KEYS:
                problems.add(Problem(label, lines.get(("sweep", k)), f"sweep.{k}",
                                     f"unknown key (valid keys: {', '.join(SWEEP_KEYS)})"))
            else:
                spec_raw[k] = (v, True)
    for k, v in given.items():
        if v is not None:
            spec_raw[k] = (v, False)

    raw_params: dict[str, Any] = {}
    if "params" in spec_raw:
        bp = spec_raw["params"][0]
        if not isinstance(bp, dict):
            problems.add(Problem(label, lines.get(("sweep", "params")), "sweep.params",
                                 "must be a mapping of dotted.path: values"))
        else:
            for path, v in bp.items():
                raw_params[str(path)] = v
                problems.origin[str(path)] = lines.get(("sweep", "params", path))
    for path, v in (params or {}).items():
        raw_params[str(path)] = v
        problems.origin[str(path)] = "cli"
    return spec_raw, raw_params


def _integer(lo: int, hi: int | None = None):
    """A check of an integer option in [lo, hi): the message, or None."""
    def check(v):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v >= hi):
            bound = f">= {lo}" if hi is None else f"in [{lo}, {hi})"
            return f"must be an integer {bound}; got {v!r}"
        return None
    return check


def _metric_names(v) -> str | None:
    ok = isinstance(v, (str, list)) and v and all(isinstance(x, str) for x in (v if isinstance(v, list) else [v]))
    return None if ok else "must be metric names"


def _check_options(spec_raw: dict[str, tuple[Any, bool]], problems: Problems) -> SweepOptions:
    """The options, checked; a bad one is reported and replaced by its default."""
    def option(name, check, default):
        if name not in spec_raw:
            return default
        value, from_block = spec_raw[name]
        msg = check(value)
        if msg:
            problems.add(problems.option(name, msg, from_block))
            return default
        return value

    kind = option("design", lambda v: None if v in DESIGNS else f"must be one of {', '.join(DESIGNS)}; got {v!r}",
                  "grid")
    n_samples = option("samples", _integer(1), None)
    n_reps = option("replications", _integer(1, 100_001), 1)
    sweep_seed = option("seed", _integer(0, 2 ** 63), None)
    sens = option("sensitivity", _metric_names, None)
    if isinstance(sens, str):
        sens = [s.strip() for s in sens.split(",") if s.strip()]
    if sens is not None and kind not in ("sobol", "morris"):
        problems.add(problems.option("sensitivity",
                                     f"sensitivity indices need --design sobol or morris (the design is {kind})",
                                     spec_raw["sensitivity"][1]))
    sens = list(sens or (DEFAULT_SENSITIVITY if kind in ("sobol", "morris") else ()))
    for m in sens:
        if m.split(".")[0] not in METRIC_GROUPS or "." not in m:
            problems.add(problems.option("sensitivity", f"{m!r} is not a metric: metrics are dotted names under "
                                                        f"{', '.join(METRIC_GROUPS)}, e.g. change.peak_reduction_pct",
                                         spec_raw.get("sensitivity", (None, False))[1]))
    return SweepOptions(kind, n_samples, n_reps, sweep_seed, tuple(sens))


def _check_params(raw_params: dict[str, Any], src: Source, problems: Problems) -> Swept:
    """Each parameter's path and values, checked against the scenario and the --set overrides;
    the linked ones (``link(FORMULA)``, ``scale(NAME)``) and the drivers their formulas use."""
    swept = Swept()
    before = len(problems.found)
    formulas = _formulas(raw_params, problems)
    unread = len(problems.found) - before  # formulas that could not be read: the names they use are unknown
    used = {name for f in formulas.values() for name in f.drivers}
    for path, v in raw_params.items():
        if isinstance(v, str) and _LINK.match(v):
            continue  # a link: checked below (or its formula could not be read: reported)
        if IDENTIFIER.match(path) and path in used:
            _check_driver(path, v, swept, problems)
        elif IDENTIFIER.match(path) and path not in src.data and path not in {*_scenario_fields(), "sweep"}:
            swept.unused.append(path)
            if not unread:
                close = difflib.get_close_matches(path, sorted(_scenario_fields()), n=1, cutoff=0.75)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.add(problems.param(path, f"no scenario field has this name{hint}, and no link(...) or "
                                                  "scale(...) formula uses it as a swept name"))
        else:
            _check_param(path, v, src, swept, problems)
    for path, formula in formulas.items():
        _check_link(path, formula, src, swept, problems)
    return swept


def _formulas(raw_params: dict[str, Any], problems: Problems) -> dict[str, Formula]:
    """The linked parameters' formulas, read (``scale(NAME)`` is ``base * NAME``)."""
    out = {}
    for path, v in raw_params.items():
        m = _LINK.match(v) if isinstance(v, str) else None
        if m is None:
            continue
        kind, inner = m.group(1), m.group(2).rstrip()
        if not inner.endswith(")"):
            problems.add(problems.param(path, f"{kind}(...) is missing its closing bracket: {v.strip()!r}"))
            continue
        inner = inner[:-1].strip()
        if kind == "scale" and not IDENTIFIER.match(inner):
            problems.add(problems.param(path, f"scale(NAME) takes the name of a swept parameter; got {inner!r}"))
            continue
        try:
            out[path] = compile_formula(f"base * {inner}" if kind == "scale" else inner)
        except ValueError as e:
            problems.add(problems.param(path, str(e)))
    return out


def _scenario_fields() -> set[str]:
    from ..scenario.schema import Scenario

    return set(Scenario.model_fields)


def _check_driver(name: str, v: Any, swept: Swept, problems: Problems) -> None:
    """A parameter that only feeds links: a name that is no scenario field, and its values."""
    if name in _scenario_fields() or name in ("base", "seed", "sweep"):
        problems.add(problems.param(name, f"a formula's swept name must not be a scenario field or 'base'; "
                                          f"rename it (e.g. {name}_x)"))
        return
    try:
        swept.params.append(parse_values(name, v))
    except ValueError as e:
        problems.add(problems.param(name, str(e)))
        return
    swept.drivers.add(name)


def _check_param(path: str, v: Any, src: Source, swept: Swept, problems: Problems) -> None:
    """A swept scenario field: its path, its values, and a field given once only."""
    from ..scenario.loader import parse_dotted

    try:
        parse_dotted(path)
    except ValueError as e:
        problems.add(problems.param(path, str(e)))
        return
    if path.split(".")[0] in ("seed", "sweep"):
        problems.add(problems.param(path, "the seed is set by the sweep: use --replications and --seed"
                                    if path == "seed" else "cannot sweep the sweep block"))
        return
    try:
        p = parse_values(path, v)
    except ValueError as e:
        problems.add(problems.param(path, str(e)))
        return
    loc = _target(path, src, swept, problems)
    if loc is not None:
        swept.params.append(p)


def _target(path: str, src: Source, swept: Swept, problems: Problems) -> tuple | None:
    """Where a swept or linked field lands, checked: an existing path, not --set, not swept twice."""
    from ..scenario.loader import apply_override

    probe = copy.deepcopy(src.data)
    try:
        loc = apply_override(probe, path, None)
    except ValueError as e:
        hint = (" (a name that is no scenario field is a swept value for formulas: use it in a "
                "link(...) or scale(...) parameter)") if IDENTIFIER.match(path) and "unknown key" in str(e) else ""
        problems.add(problems.param(path, f"{e}{hint}"))
        return None
    if loc in src.overridden:
        problems.add(problems.param(path, f"also given with --set {src.overridden[loc]}; give it once"))
        return None
    twice = [other for other, at in swept.resolved.items() if at == loc]
    if twice:
        problems.add(problems.param(path, f"the same field as {twice[0]}; give it once" if twice[0] != path else
                                          "already swept: a field is swept or linked, not both"))
        return None
    # intermediate mappings the override creates: a problem there belongs to the parameter
    swept.created[path] = [loc[:i] for i in range(1, len(loc) + 1) if not lookup(src.data, loc[:i])[0]] + [loc]
    swept.resolved[path] = loc
    return loc


def _check_link(given: str, formula: Formula, src: Source, swept: Swept, problems: Problems) -> None:
    """A linked field (or each field a ``*`` pattern matches): its formula's names are swept
    drivers, and its ``base`` a number in the scenario."""
    from ..scenario.loader import parse_dotted

    unknown = [n for n in formula.drivers if n not in swept.drivers]
    if unknown:
        drivers = ", ".join(sorted(swept.drivers | set(swept.unused))) or "none: sweep one with --param NAME=VALUES"
        problems.add(problems.param(given, f"the formula {formula.text!r} uses {', '.join(map(repr, unknown))}, which "
                                           f"is no swept name (swept names: {drivers})"))
        return
    if not formula.drivers:
        problems.add(problems.param(given, f"the formula {formula.text!r} uses no swept name: a fixed value is "
                                           "given with --set"))
        return
    try:
        paths = expand(given, src.data)
        for path in paths:
            parse_dotted(path)
    except ValueError as e:
        problems.add(problems.param(given, str(e)))
        return
    for path in paths:
        problems.origin.setdefault(path, problems.origin.get(given))
        if path.split(".")[0] in ("seed", "sweep"):
            problems.add(problems.param(path, "the seed and the sweep block cannot be linked"))
            continue
        loc = _target(path, src, swept, problems)
        if loc is None:
            continue
        base = value_at(src.data, loc) if formula.uses_base else None
        if formula.uses_base and (isinstance(base, bool) or not isinstance(base, (int, float))
                                  or not math.isfinite(base)):
            problems.add(problems.param(path, f"'base' is the field's value in the scenario, and it has none that "
                                              f"is a number (got {base!r})"))
            continue
        swept.links.append(Link(path, given, formula, None if base is None else float(base), integer_field(loc)))


def _link_values(des: Design, swept: Swept, problems: Problems) -> None:
    """Every linked field's value at every design point, added to the point."""
    for link in swept.links:
        for point in des.points:
            try:
                point[link.path] = link.value(point)
            except ValueError as e:
                at = ", ".join(f"{n}={point[n]!r}" for n in link.formula.drivers)
                problems.add(problems.param(link.path, f"{link.formula.text!r} at {at}: {e}"))
                break


def _design(swept: Swept, opts: SweepOptions, sweep_seed: int, problems: Problems) -> tuple[Design, list[int]]:
    """The design points and the replication seeds; a design that cannot be made is bad input."""
    ints = frozenset(p.path for p in swept.params if p.path in swept.resolved and integer_field(swept.resolved[p.path]))
    try:
        des = make_design(swept.params, opts.design, opts.samples, sweep_seed, ints)
        seeds = replication_seeds(sweep_seed, opts.replications)
    except ValueError as e:
        msg = str(e)
        path = msg.split(":")[0]
        raise InputError(problems.param(path, msg[len(path) + 2:]) if path in problems.origin
                         else Problem("--design", None, "", msg)) from None
    return des, seeds


def _runs(des: Design, seeds: list[int], src: Source, swept: Swept, problems: Problems) -> list[Run]:
    """Every design point's scenario validated (once per distinct point), and its runs, one per seed."""
    from ..network.inputs import check_inputs
    from ..results import resolved_scenario
    from ..scenario.loader import apply_override, format_loc, validate

    runs: list[Run] = []
    seen: dict[str, Any] = {}
    for i, point in enumerate(des.points):
        sig = json.dumps(point, sort_keys=True, default=repr)
        if sig not in seen:
            d = copy.deepcopy(src.data)
            over = dict(src.overridden)
            for path, value in point.items():
                if path in swept.drivers:  # a driver reaches the scenario through its links only
                    continue
                apply_override(d, path, copy.deepcopy(value))
                for loc in swept.created[path]:
                    over[loc] = _MARK + path
            try:
                seen[sig] = validate(d, label=src.label, lines=src.lines, base_dir=src.base_dir, overridden=over,
                                     check=check_inputs)  # the network's files too, before any run
            except InputError as e:
                seen[sig] = None
                for p in e.problems:
                    problems.add(_remap(p, problems.param, {k: format_loc(v) for k, v in swept.resolved.items()}))
        sc = seen[sig]
        if sc is None:
            continue
        for r, s in enumerate(seeds):
            sc_r = sc.model_copy(update={"seed": s})
            runs.append(Run(i, r, s, run_key(sc_r), resolved_scenario(sc_r)))
    return runs


def _remap(p: Problem, at, resolved: dict[str, str]) -> Problem:
    """A validation problem of a design point, told in terms of the sweep's parameters."""
    if p.file.startswith(f"--set {_MARK}"):
        path = p.file[len(f"--set {_MARK}"):]
        msg = p.message if not p.path or p.path == resolved.get(path) else f"{p.path}: {p.message}"
        return at(path, msg)
    msg = re.sub(f"--set {_MARK}", "--param ", p.message).replace(_MARK, "")
    return Problem(p.file, p.line, p.path, msg)
