"""Layering rules of the ``sim`` package, read from the source with ``ast`` (nothing is imported).

The rules (issue 13, "Layering" and "Readable units"):

* ``cycle``: no import circle between modules. Every ``import`` counts, at module level or
  inside a function (a lazy import is still a dependency). ``from pkg import name`` is an
  edge to ``pkg.name`` when that is a module, else to ``pkg`` (the package's ``__init__``).
  Importing ``a.b.c`` also runs ``a/__init__`` and ``a/b/__init__``; that is not counted
  as an edge, or every module would form a circle with its package's ``__init__`` when
  the ``__init__`` re-exports it. A package ``__init__`` is a module like any other: what
  it re-exports is an edge from it to the module it takes the name from.
* ``layer``: tariffs never import behaviour, the engine or the metrics; metrics never
  import the engine; the scenario format, ``sim.outcome`` and ``sim.rowmath`` import
  nothing of the simulation; a report never runs a simulation: it imports neither the engine nor
  :mod:`sim.runner`, nor reaches them through other modules, and neither imports nor calls
  the top-level ``sim.run``.
* ``private``: no module imports another module's private name (``from m import _x``,
  ``m._x`` on an imported module, or a private module ``pkg._m`` from outside ``pkg``).
  Allowed: a package's ``__init__`` taking private names from its own submodules (it is
  their public face), and dunder names.
* ``length`` / ``params``: outside the numba kernels (functions decorated with ``jit`` or
  ``njit``, and what is nested in them), no function longer than 80 lines and none with
  more than 8 parameters. Lines are counted from ``def`` to the last line of the body,
  less the docstring; parameters are positional and keyword-only ones, less ``self`` /
  ``cls``, and not ``*args`` / ``**kwargs``.

A violation is ``(rule, module, detail)``: for ``cycle`` the module is the circle's first
in alphabetical order and the detail a shortest path round it; for ``layer`` and
``private`` the detail names what is imported, used or reached; for ``length`` and
``params`` it is the function's qualified name (its size is shown in the failure message,
not kept in the entry, so that an edit that leaves a function too long does not move it).

``PENDING`` lists the violations still known in the core while it is reshaped. The test
fails on any violation not listed, and on any listed entry that no longer occurs: fixing
one means deleting its line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "sim"

MAX_LINES = 80
MAX_PARAMS = 8

#: Module prefixes a module must not import: {importer prefix: forbidden target prefixes}.
#: A prefix matches the module itself and everything under it.
FORBIDDEN = {
    "sim.tariffs": ("sim.behavior", "sim.engine", "sim.metrics", "sim.ledger", "sim.equity"),
    "sim.metrics": ("sim.engine",),
    "sim.ledger": ("sim.engine", "sim.behavior", "sim.metrics"),
    "sim.market": ("sim.engine", "sim.behavior", "sim.population", "sim.metrics"),
    "sim.equity": ("sim.engine", "sim.behavior", "sim.metrics", "sim.tariffs", "sim.grid"),
    "sim.report": ("sim.engine", "sim.runner"),
    # the headlines read a metrics dict; the terminal summary prints one
    "sim.headline": ("sim.engine", "sim.behavior", "sim.metrics", "sim.report", "sim.runner", "sim.tariffs"),
    "sim.summary": ("sim.engine", "sim.runner"),
    # the inputs and the lowest layer import nothing of the simulation
    "sim.scenario": ("sim.behavior", "sim.population", "sim.tariffs", "sim.grid", "sim.engine", "sim.metrics"),
    "sim.outcome": ("sim.behavior", "sim.population", "sim.tariffs", "sim.grid", "sim.engine", "sim.metrics",
                    "sim.scenario"),
    "sim.rowmath": ("sim.behavior", "sim.population", "sim.tariffs", "sim.grid", "sim.engine", "sim.metrics",
                    "sim.scenario"),
}

#: Entry points that run a simulation (``sim.run`` is ``sim.runner.run``, re-exported); a
#: report imports none of them nor calls them.
RUNNERS = {("sim", "run"), ("sim.runner", "run")}
NO_RUNNING = ("sim.report",)
#: What a report must not reach even through other modules: the modules that simulate.
SIMULATING = ("sim.engine", "sim.runner")

#: Known violations in the core, as (rule, module, detail). Delete an entry once it is fixed:
#: the test fails while a listed entry no longer occurs.
PENDING: set[tuple[str, str, str]] = set()  # none left: the core was reshaped (issue 13)


# ---------------------------------------------------------------------------------------
# The checker


@dataclass
class Module:
    name: str
    is_package: bool
    tree: ast.Module


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int


@dataclass
class Report:
    edges: list[Edge] = field(default_factory=list)
    violations: set[tuple[str, str, str]] = field(default_factory=set)
    sizes: dict[tuple[str, str, str], int] = field(default_factory=dict)  # lines or parameters of a violation


def read_package(root: Path, package: str = "sim") -> dict[str, Module]:
    """Every module under ``root`` (the folder of ``package``), parsed."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        name = ".".join(parts)
        modules[name] = Module(name, is_package, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return modules


def modules_from_sources(sources: dict[str, str]) -> dict[str, Module]:
    """Modules from ``{name: source}``; a name ending in ``.__init__`` is a package."""
    out = {}
    for name, text in sources.items():
        is_package = name.endswith(".__init__")
        if is_package:
            name = name[: -len(".__init__")]
        out[name] = Module(name, is_package, ast.parse(text))
    return out


def _base(mod: Module, level: int) -> str:
    """The package a relative import of ``level`` dots in ``mod`` starts from."""
    parts = mod.name.split(".")
    if not mod.is_package:
        parts = parts[:-1]
    return ".".join(parts[: len(parts) - (level - 1)])


def _known(name: str, modules: dict[str, Module]) -> str | None:
    """The deepest module of ``modules`` that ``name`` is or lies in."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_module(target: str, importer: str) -> str | None:
    """The private module in ``target``'s path that ``importer`` is outside of, if any."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if _private(part):
            package = ".".join(parts[:i])
            if not (importer == package or importer.startswith(package + ".")):
                return ".".join(parts[: i + 1])
    return None


def _owns(importer: Module, target: str) -> bool:
    """A package ``__init__`` may use its own submodules' private names."""
    return importer.is_package and target.startswith(importer.name + ".")


def _in(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


class _Imports(ast.NodeVisitor):
    """The imports of one module: edges, private names, and names bound to modules."""

    def __init__(self, mod: Module, modules: dict[str, Module], report: Report):
        self.mod, self.modules, self.report = mod, modules, report
        self.bound: dict[str, str] = {}  # local name -> module it is bound to

    def edge(self, target: str, line: int) -> None:
        if target != self.mod.name:
            self.report.edges.append(Edge(self.mod.name, target, line))
        hidden = _private_module(target, self.mod.name)
        if hidden and not _owns(self.mod, target):
            self.report.violations.add(("private", self.mod.name, f"imports {hidden}"))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            target = _known(alias.name, self.modules)
            if target is None:
                continue
            self.edge(target, node.lineno)
            if alias.asname:
                self.bound[alias.asname] = target
            else:
                top = alias.name.split(".")[0]
                if top in self.modules:
                    self.bound[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        source = node.module or ""
        if node.level:
            base = _base(self.mod, node.level)
            source = f"{base}.{source}" if source else base
        if _known(source, self.modules) is None:
            return
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            if sub in self.modules:
                self.edge(sub, node.lineno)
                self.bound[alias.asname or alias.name] = sub
                continue
            target = _known(source, self.modules)
            self.edge(target, node.lineno)
            if _private(alias.name) and target != self.mod.name and not _owns(self.mod, target):
                self.report.violations.add(("private", self.mod.name, f"imports {target}.{alias.name}"))
            if (target, alias.name) in RUNNERS and _in(self.mod.name, NO_RUNNING):
                self.report.violations.add(("layer", self.mod.name, f"imports {target}.{alias.name}"))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain = []
        value: ast.expr = node
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        if isinstance(value, ast.Name) and value.id in self.bound:
            chain.reverse()
            target = self.bound[value.id]
            for attr in chain:  # walk down submodules: sim.pkg.mod._name
                if f"{target}.{attr}" in self.modules:
                    target = f"{target}.{attr}"
                    continue
                if _private(attr) and target != self.mod.name and not _owns(self.mod, target):
                    self.report.violations.add(("private", self.mod.name, f"uses {target}.{attr}"))
                if (target, attr) in RUNNERS and _in(self.mod.name, NO_RUNNING):
                    self.report.violations.add(("layer", self.mod.name, f"uses {target}.{attr}"))
                break
            return  # the inner attributes are this chain
        self.generic_visit(node)


def _kernel(fn: ast.FunctionDef) -> bool:
    for dec in fn.decorator_list:
        call = dec.func if isinstance(dec, ast.Call) else dec
        name = call.attr if isinstance(call, ast.Attribute) else getattr(call, "id", "")
        if name in ("jit", "njit"):
            return True
    return False


def _lines(fn) -> int:
    """Lines from ``def`` to the end of the body, less the docstring."""
    total = fn.end_lineno - fn.lineno + 1
    first = fn.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        total -= first.end_lineno - first.lineno + 1
    return total


def _params(fn, method: bool) -> int:
    args = [*fn.args.posonlyargs, *fn.args.args]
    if method and args and args[0].arg in ("self", "cls"):
        args = args[1:]
    return len(args) + len(fn.args.kwonlyargs)


def _check_functions(mod: Module, report: Report) -> None:
    def walk(node, qual: str, in_class: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                walk(child, f"{qual}{child.name}.", True)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if _kernel(child):
                    continue
                name = f"{qual}{child.name}"
                lines, params = _lines(child), _params(child, in_class)
                for rule, size, limit in (("length", lines, MAX_LINES), ("params", params, MAX_PARAMS)):
                    if size > limit:
                        report.violations.add((rule, mod.name, name))
                        report.sizes[(rule, mod.name, name)] = size
                walk(child, f"{name}.", False)
            else:
                walk(child, qual, in_class)

    walk(mod.tree, "", False)


def cycles(edges: list[Edge]) -> list[list[str]]:
    """One cycle path (first module repeated at the end) per strongly connected component."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.source, set()).add(e.target)
        graph.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan, iteratively
        work = [(v, iter(sorted(graph[v])))]
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        while work:
            node, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    if len(comp) > 1:
                        components.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    paths = []
    for comp in components:
        members = set(comp)
        start = comp[0]
        # breadth-first from start back to start within the component: a shortest cycle
        previous: dict[str, str] = {}
        frontier = [start]
        found = None
        while frontier and found is None:
            nxt = []
            for v in frontier:
                for w in sorted(graph[v] & members):
                    if w == start:
                        found = v
                        break
                    if w not in previous:
                        previous[w] = v
                        nxt.append(w)
                if found is not None:
                    break
            frontier = nxt
        chain = []
        v = found
        while v != start:
            chain.append(v)
            v = previous[v]
        paths.append([start, *reversed(chain), start])
    return paths


def reaches(edges: list[Edge], sources, targets) -> list[list[str]]:
    """For each module under ``sources``, a shortest import path to a module under ``targets``, if any."""
    graph: dict[str, list[str]] = {}
    for e in edges:
        graph.setdefault(e.source, []).append(e.target)
    paths = []
    for start in sorted(graph):
        if not _in(start, sources):
            continue
        previous = {start: ""}
        frontier = [start]
        end = None
        while frontier and end is None:
            nxt = []
            for v in frontier:
                for w in sorted(set(graph.get(v, ()))):
                    if w in previous:
                        continue
                    previous[w] = v
                    if _in(w, targets):
                        end = w
                        break
                    nxt.append(w)
                if end is not None:
                    break
            frontier = nxt
        if end is not None:
            path = [end]
            while previous[path[-1]]:
                path.append(previous[path[-1]])
            paths.append(path[::-1])
    return paths


def check(modules: dict[str, Module]) -> Report:
    """Every rule over ``modules``: the import edges and the set of violations."""
    report = Report()
    for mod in modules.values():
        _Imports(mod, modules, report).visit(mod.tree)
        _check_functions(mod, report)
    for e in report.edges:
        for importer, banned in FORBIDDEN.items():
            if _in(e.source, (importer,)) and _in(e.target, banned):
                report.violations.add(("layer", e.source, f"imports {e.target}"))
    for path in reaches(report.edges, NO_RUNNING, SIMULATING):
        report.violations.add(("layer", path[0], f"reaches {path[-1]}: {' -> '.join(path)}"))
    for path in cycles(report.edges):
        report.violations.add(("cycle", path[0], " -> ".join(path)))
    return report


# ---------------------------------------------------------------------------------------
# The package


def _describe(entries, sizes) -> str:
    return "\n".join(f"  {entry!r},{f'  # {sizes[entry]}' if entry in sizes else ''}" for entry in sorted(entries))


def compare(found: set, pending: set, sizes: dict | None = None) -> list[str]:
    """What is wrong with ``found`` violations against the ``pending`` list: new ones and stale entries."""
    sizes = sizes or {}
    message = []
    if found - pending:
        message.append(f"new violations (fix them; see this file's docstring):\n{_describe(found - pending, sizes)}")
    if pending - found:
        message.append(f"PENDING entries that no longer occur (delete them from PENDING):\n"
                       f"{_describe(pending - found, sizes)}")
    return message


def test_the_package_keeps_its_layering_rules():
    report = check(read_package(ROOT))
    message = compare(report.violations, PENDING, report.sizes)
    assert not message, "\n".join(message)


def test_pending_entries_are_well_formed():
    rules = {"cycle", "layer", "private", "length", "params"}
    for rule, module, detail in PENDING:
        assert rule in rules and module.startswith("sim") and detail


# ---------------------------------------------------------------------------------------
# The checker on synthetic sources: every rule can fail


def _violations(sources: dict[str, str]) -> set[tuple[str, str, str]]:
    return check(modules_from_sources(sources)).violations


def test_a_cycle_is_found_with_its_path():
    found = _violations({
        "sim.__init__": "",
        "sim.a": "from . import b\n",
        "sim.b": "def f():\n    from .c import g\n",  # a lazy import counts
        "sim.c": "import sim.a\n",
    })
    assert ("cycle", "sim.a", "sim.a -> sim.b -> sim.c -> sim.a") in found


def test_a_package_init_reexporting_its_modules_is_no_cycle():
    found = _violations({
        "sim.__init__": "from .pkg import thing\n",
        "sim.pkg.__init__": "from .impl import thing\n",
        "sim.pkg.impl": "from ..errors import E\nthing = 1\n",
        "sim.errors": "class E(Exception): pass\n",
    })
    assert not {v for v in found if v[0] == "cycle"}
    found = _violations({
        "sim.__init__": "",
        "sim.pkg.__init__": "from .impl import thing\n",
        "sim.pkg.impl": "from . import other\nthing = 1\n",
        "sim.pkg.other": "from sim.pkg import thing\n",  # the package's own name: a real circle
    })
    assert ("cycle", "sim.pkg", "sim.pkg -> sim.pkg.impl -> sim.pkg.other -> sim.pkg") in found


def test_private_names_across_modules_are_found():
    found = _violations({
        "sim.__init__": "",
        "sim.a": "_x = 1\n__all__ = []\n",
        "sim.b": "from .a import _x, __all__\n",
        "sim.c": "from . import a\ny = a._x\n",
        "sim.d": "import sim.a as m\ny = m._x\nz = m.__name__\n",
        "sim.e": "import sim.a\ny = sim.a._x\n",
        "sim.pkg.__init__": "from .impl import _helper\n",  # a package's own submodule: allowed
        "sim.pkg.impl": "def _helper(): pass\n",
        "sim.pkg._rows": "ROWS = 1\n",
        "sim.pkg.user": "from ._rows import ROWS\n",  # inside the package: allowed
        "sim.other": "from .pkg._rows import ROWS\nfrom .pkg import impl\nimpl._helper()\n",
    })
    assert found == {
        ("private", "sim.b", "imports sim.a._x"),
        ("private", "sim.c", "uses sim.a._x"),
        ("private", "sim.d", "uses sim.a._x"),
        ("private", "sim.e", "uses sim.a._x"),
        ("private", "sim.other", "imports sim.pkg._rows"),
        ("private", "sim.other", "uses sim.pkg.impl._helper"),
    }


def test_layer_rules_are_found():
    found = _violations({
        "sim.__init__": "def run(): pass\n",
        "sim.engine.__init__": "ROLES = ()\n",
        "sim.behavior.__init__": "",
        "sim.behavior.rows": "",
        "sim.metrics": "def f():\n    from .engine import ROLES\n",
        "sim.tariffs.__init__": "",
        "sim.tariffs.billing": "from ..behavior.rows import *\n",
        "sim.report.__init__": "",
        "sim.report.a": "from .. import run\n",
        "sim.report.b": "import sim\nsim.run()\n",
        "sim.report.c": "from sim.engine import ROLES\n",
        "sim.report.d": "def f():\n    from ..helper import g\n",  # through another module
        "sim.helper": "from .engine import ROLES\n",
    })
    assert found == {
        ("layer", "sim.metrics", "imports sim.engine"),
        ("layer", "sim.tariffs.billing", "imports sim.behavior.rows"),
        ("layer", "sim.report.a", "imports sim.run"),
        ("layer", "sim.report.b", "uses sim.run"),
        ("layer", "sim.report.c", "imports sim.engine"),
        ("layer", "sim.report.c", "reaches sim.engine: sim.report.c -> sim.engine"),
        ("layer", "sim.report.d", "reaches sim.engine: sim.report.d -> sim.helper -> sim.engine"),
    }


def test_long_functions_and_long_signatures_are_found():
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_LINES))  # def line + 80 = 81 lines
    fine = "".join(f"    x{i} = {i}\n" for i in range(MAX_LINES - 1))
    doc = '    """' + "\n" * 30 + '    """\n'
    sources = {
        "sim.__init__": "",
        "sim.a": (f"def long():\n{body}"
                  f"def short_with_docstring():\n{doc}{fine}"
                  "def wide(a, b, c, d, e, f, g, h, *, i):\n    pass\n"
                  "def eight(a, b, c, d, e, f, g, *args, h, **kw):\n    pass\n"
                  "class K:\n    def method(self, a, b, c, d, e, f, g, h):\n        pass\n"
                  "    def more(self, a, b, c, d, e, f, g, h, i):\n        pass\n"
                  f"@jit\ndef kernel(a, b, c, d, e, f, g, h, i):\n{body}"
                  f"@numba.njit(cache=True)\ndef kernel2():\n{body}"),
    }
    report = check(modules_from_sources(sources))
    assert report.violations == {
        ("length", "sim.a", "long"),
        ("params", "sim.a", "wide"),
        ("params", "sim.a", "K.more"),
    }
    assert report.sizes == {("length", "sim.a", "long"): 81, ("params", "sim.a", "wide"): 9,
                            ("params", "sim.a", "K.more"): 9}


def test_new_violations_and_stale_pending_entries_fail():
    found = {("length", "sim.a", "f"), ("cycle", "sim.b", "sim.b -> sim.c -> sim.b")}
    assert compare(found, found) == []
    new = compare(found, {("cycle", "sim.b", "sim.b -> sim.c -> sim.b")})
    assert len(new) == 1 and "new violations" in new[0] and "f" in new[0]
    stale = compare(found, found | {("private", "sim.d", "imports sim.e._x")})
    assert len(stale) == 1 and "no longer occur" in stale[0] and "sim.e._x" in stale[0]
