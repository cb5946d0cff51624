"""Experimental designs of a sweep: parameter values, grid / LHS / Sobol / Morris points, seeds.

A parameter is a scenario field (dotted path) with its values: a list, a range ``lo:hi:n``
or, for sampled designs, a distribution. A design turns the parameters into design points
(one value per parameter per point); replications give every point R seeds. Everything is
deterministic given the sweep seed, so the same command always produces the same points
and the same run keys (which is what makes a sweep resumable).

References
----------
.. [1] McKay, Beckman and Conover (1979), "A comparison of three methods for selecting
   values of input variables in the analysis of output from a computer code",
   Technometrics 21(2). (Latin hypercube sampling.)
.. [2] Saltelli et al. (2010), "Variance based sensitivity analysis of model output.
   Design and estimator for the total sensitivity index", Computer Physics
   Communications 181(2). (The Sobol design and indices; SALib implements both.)
.. [3] Morris (1991), "Factorial sampling plans for preliminary computational
   experiments", Technometrics 33(2); Campolongo, Cariboni and Saltelli (2007). (Screening.)
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import yaml

# numpy is imported inside the functions that use it: the command-line parser reads DESIGNS,
# and `drsim --help` or `drsim validate` should not pay for numpy (benchmarks/startup.py).

#: Designs and what they need.
DESIGNS = ("grid", "lhs", "sobol", "morris")

#: Default ``samples`` of the sampled designs: LHS points, Sobol base samples N (the design
#: has N x (d + 2) points), Morris trajectories (N x (d + 1) points).
DEFAULT_SAMPLES = {"lhs": 64, "sobol": 64, "morris": 10}

#: Grid levels of the Morris design (SALib's default); elementary effects are steps of
#: 4 / (2 x 3) = 2/3 of a parameter's range in the unit cube.
MORRIS_LEVELS = 4

#: Distributions a sampled design draws from, and their number of arguments.
DISTRIBUTIONS = {"uniform": 2, "loguniform": 2, "normal": 2, "choice": None}

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^\s*({_NUM})\s*:\s*({_NUM})\s*:\s*(\d+)\s*$")
_COLONS = re.compile(rf"^\s*{_NUM}(\s*:\s*{_NUM})+\s*$")
_DIST = re.compile(r"^\s*([a-z]+)\s*\((.*)\)\s*$", re.S)


@dataclass(frozen=True)
class Param:
    """One swept scenario field.

    Attributes
    ----------
    path : str
        Dotted path of the field, list items by name or index (``populations.res.count``).
    kind : {"values", "uniform", "loguniform", "normal", "choice"}
        ``values``: a finite list (a grid axis; in sampled designs a uniform choice).
    values : tuple
        The values of ``values`` and ``choice``.
    args : tuple of float
        (low, high) of ``uniform`` and ``loguniform``; (mean, sd) of ``normal``.
    text : str
        The values as the user wrote them (recorded in sweep.json).
    """

    path: str
    kind: str
    values: tuple = ()
    args: tuple = ()
    text: str = ""

    @property
    def fixed(self) -> bool:
        """A single value: the same in every design point, not a dimension of the design."""
        return self.kind == "values" and len(self.values) == 1


@dataclass
class Design:
    """Design points of a sweep.

    Attributes
    ----------
    kind : str
        grid, lhs, sobol or morris.
    params : list of Param
        Every swept parameter, in the order given.
    dims : list of Param
        The parameters that vary (the columns of ``unit``).
    points : list of dict
        ``{path: value}`` for every design point, every parameter.
    unit : ndarray, shape (n_points, len(dims)), or None
        Sampled designs: each point's coordinates in the unit cube (the SALib sample
        matrix of sobol and morris designs, which their analyses need).
    base_samples : int or None
        LHS points, Sobol base samples N, or Morris trajectories.
    notes : list of str
        What was adjusted (e.g. a Sobol sample size rounded up to a power of two).
    """

    kind: str
    params: list[Param]
    dims: list[Param]
    points: list[dict[str, Any]]
    unit: np.ndarray | None = None
    base_samples: int | None = None
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- values


def _scalar(text: str) -> Any:
    """A YAML scalar the way ``--set`` reads it (only true/false are booleans)."""
    from ..scenario.loader import YamlLoader

    text = text.strip()
    if not text:
        raise ValueError("empty value")
    try:
        return yaml.load(text, Loader=YamlLoader)
    except yaml.YAMLError as e:
        raise ValueError(f"cannot read value {text!r}: {e}") from None


def _split_top(text: str) -> list[str]:
    """Split on commas that are outside brackets, braces and quotes."""
    parts, depth, quote, cur = [], 0, None, []
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return parts


def _number(v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"{what} must be a finite number; got {v!r}")
    return float(v)


def range_values(lo: float, hi: float, n: int, integers: bool = False) -> list:
    """``n`` evenly spaced values from ``lo`` to ``hi`` inclusive.

    Values are rounded to 12 significant digits (so that 0.1:0.3:3 gives 0.2, not
    0.20000000000000001) and are integers when ``integers`` and every value is whole.
    """
    import numpy as np

    vals = [float(f"{v:.12g}") for v in np.linspace(lo, hi, n)]
    if integers and all(v.is_integer() for v in vals):
        return [int(v) for v in vals]
    return vals


def parse_values(path: str, spec: Any) -> Param:
    """Read a parameter's values: ``a,b,c``, ``[a, b]``, ``lo:hi:n`` or a distribution.

    Parameters
    ----------
    path : str
        The field's dotted path.
    spec : str, list or scalar
        A string in the command-line syntax; from a YAML ``sweep:`` block also a list of
        values or a single value.

    Raises
    ------
    ValueError
        With a message that names what is wrong.
    """
    if isinstance(spec, (list, tuple)):
        if not spec:
            raise ValueError("needs at least one value")
        return Param(path, "values", tuple(spec), text=yaml.safe_dump(list(spec), default_flow_style=True).strip())
    if isinstance(spec, dict):
        raise ValueError("values are a list, a range lo:hi:n or a distribution such as uniform(lo,hi); "
                         "got a mapping")
    if not isinstance(spec, str):
        return Param(path, "values", (spec,), text=str(spec))
    text = spec.strip()
    if not text:
        raise ValueError("no values given (write a list a,b,c, a range lo:hi:n or a distribution)")
    m = _RANGE.match(text)
    if m:
        lo, hi, n = _scalar(m.group(1)), _scalar(m.group(2)), int(m.group(3))
        if n < 1 or (n == 1 and lo != hi):
            raise ValueError(f"a range lo:hi:n needs n >= 2; got {text!r}")
        ints = all(isinstance(v, int) for v in (lo, hi))
        return Param(path, "values", tuple(range_values(float(lo), float(hi), n, ints)), text=text)
    if _COLONS.match(text):  # YAML would read 1:30 as a base-60 integer (90)
        raise ValueError(f"a range is lo:hi:n (n values from lo to hi); got {text!r}")
    m = _DIST.match(text)
    if m and m.group(1) in DISTRIBUTIONS:
        kind, args = m.group(1), [_scalar(a) for a in _split_top(m.group(2))] if m.group(2).strip() else []
        if kind == "choice":
            if not args:
                raise ValueError("choice() needs at least one value")
            return Param(path, "choice", tuple(args), text=text)
        if len(args) != 2:
            raise ValueError(f"{kind}() takes 2 numbers; got {len(args)} in {text!r}")
        a, b = (_number(v, f"{kind}() argument") for v in args)
        if kind in ("uniform", "loguniform") and not a < b:
            raise ValueError(f"{kind}(lo,hi) needs lo < hi; got {text!r}")
        if kind == "loguniform" and a <= 0:
            raise ValueError(f"loguniform(lo,hi) needs 0 < lo; got {text!r}")
        if kind == "normal" and not b > 0:
            raise ValueError(f"normal(mu,sd) needs sd > 0; got {text!r}")
        return Param(path, kind, args=(a, b), text=text)
    if m:
        raise ValueError(f"unknown distribution {m.group(1)!r} (valid: {', '.join(DISTRIBUTIONS)})")
    if text.startswith("["):
        value = _scalar(text)
        if not isinstance(value, list) or not value:
            raise ValueError(f"cannot read the list {text!r}")
        return Param(path, "values", tuple(value), text=text)
    return Param(path, "values", tuple(_scalar(p) for p in _split_top(text)), text=text)


# --------------------------------------------------------------------------- designs


def design_seed(seed: int) -> np.random.SeedSequence:
    """The random stream of the design's sampling, independent of the replication seeds."""
    import numpy as np

    return np.random.SeedSequence(seed, spawn_key=(0,))


def replication_seeds(seed: int, replications: int) -> list[int]:
    """Scenario seeds of replications 0..R-1, derived from the sweep seed.

    Replication r's seed comes from ``SeedSequence(seed, spawn_key=(1, r))``, so it does
    not depend on R: raising the replications of a sweep keeps (and reuses) the runs it has.
    Every design point uses the same seeds (common random numbers across points), so the
    difference between two points is not blurred by different draws.

    Returns
    -------
    list of int, each in [0, 2**63)
    """
    if replications < 1:
        raise ValueError(f"`replications` must be >= 1; got {replications!r}")
    import numpy as np

    seeds = [int(np.random.SeedSequence(seed, spawn_key=(1, r)).generate_state(1, np.uint64)[0] >> np.uint64(1))
             for r in range(replications)]
    if len(set(seeds)) != len(seeds):  # 2**-63 per pair; never seen, but never silent
        raise ValueError("replication seeds collide; choose another --seed")
    return seeds


def _from_unit(p: Param, u: np.ndarray, integer: bool, morris: bool) -> list:
    """Map unit-cube coordinates to a parameter's values (inverse CDF)."""
    import numpy as np
    from scipy import stats

    if p.kind in ("values", "choice"):
        k = len(p.values)
        idx = np.minimum((u * k).astype(int), k - 1)
        return [p.values[i] for i in idx]
    a, b = p.args
    if p.kind == "uniform":
        x = a + u * (b - a)
    elif p.kind == "loguniform":
        x = np.exp(np.log(a) + u * (np.log(b) - np.log(a)))
    else:
        # Morris levels include 0 and 1, where a normal quantile is infinite: use the
        # centres of MORRIS_LEVELS equal-probability bins instead.
        q = (u * (MORRIS_LEVELS - 1) + 0.5) / MORRIS_LEVELS if morris else np.clip(u, 1e-12, 1 - 1e-12)
        x = stats.norm.ppf(q, loc=a, scale=b)
    return [int(round(v)) for v in x] if integer else [float(v) for v in x]


def make_design(params: list[Param], kind: str, samples: int | None, seed: int,
                integer_paths: frozenset[str] = frozenset()) -> Design:
    """Design points of a sweep.

    Parameters
    ----------
    params : list of Param
    kind : {"grid", "lhs", "sobol", "morris"}
        grid: the Cartesian product of the value lists (the last parameter varies fastest).
        lhs: ``samples`` points of a Latin hypercube (scipy.stats.qmc.LatinHypercube).
        sobol: SALib's Saltelli/Sobol design with ``samples`` base samples N (a power of two;
        rounded up), N x (d + 2) points, for first-order and total Sobol indices.
        morris: SALib's Morris design, ``samples`` trajectories, N x (d + 1) points.
    samples : int or None
        Default per design in DEFAULT_SAMPLES; ignored by grid.
    seed : int
        Sweep seed (sampling uses its own stream, see `design_seed`).
    integer_paths : frozenset of str
        Parameters whose scenario field is an integer: sampled values are rounded.

    Raises
    ------
    ValueError
    """
    if kind not in DESIGNS:
        raise ValueError(f"unknown design {kind!r} (valid: {', '.join(DESIGNS)})")
    import numpy as np

    notes: list[str] = []
    if kind == "grid":
        sampled = [p.path for p in params if p.kind not in ("values", "choice")]
        if sampled:
            raise ValueError(f"{sampled[0]}: a distribution needs a sampled design (--design lhs, sobol or morris); "
                             "a grid takes lists a,b,c or ranges lo:hi:n")
        if samples is not None:
            notes.append("--samples is ignored by the grid design")
        points = [dict(zip([p.path for p in params], combo)) for combo in itertools.product(*(p.values for p in params))]
        return Design(kind, list(params), [p for p in params if len(p.values) > 1], points, notes=notes)

    dims = [p for p in params if not p.fixed]
    if not dims:
        raise ValueError(f"a {kind} design needs at least one parameter with several values or a distribution")
    n = DEFAULT_SAMPLES[kind] if samples is None else samples
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"`samples` must be an integer >= 1; got {n!r}")
    d = len(dims)
    ss = design_seed(seed)
    problem = {"num_vars": d, "names": [p.path for p in dims], "bounds": [[0.0, 1.0]] * d}
    if kind == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d, rng=np.random.default_rng(ss)).random(n)
    elif kind == "sobol":
        from SALib.sample import sobol as sobol_sample

        m = max(1, math.ceil(math.log2(n)))
        if 2 ** m != n:
            notes.append(f"Sobol base samples must be a power of two: {n} rounded up to {2 ** m}")
            n = 2 ** m
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            unit = sobol_sample.sample(problem, n, calc_second_order=False, scramble=True,
                                       seed=int(ss.generate_state(1)[0]))
    else:
        from SALib.sample import morris as morris_sample

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            unit = morris_sample.sample(problem, n, num_levels=MORRIS_LEVELS, seed=int(ss.generate_state(1)[0]))
    columns = {p.path: _from_unit(p, unit[:, j], p.path in integer_paths, kind == "morris")
               for j, p in enumerate(dims)}
    points = [{p.path: (p.values[0] if p.fixed else columns[p.path][i]) for p in params} for i in range(len(unit))]
    return Design(kind, list(params), dims, points, unit=np.asarray(unit), base_samples=n, notes=notes)
