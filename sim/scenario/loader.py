"""Scenario files: safe YAML with line numbers, `--set` overrides, and readable errors.

A file is composed with PyYAML's safe loader (no object construction from tags), every
node's line is kept, and the pydantic errors are mapped back through those lines into
``file:line: dotted.path: message``, all problems together.
"""

from __future__ import annotations

import copy
import difflib
import re
import typing
from pathlib import Path
from typing import Any, Callable

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import InputError, Problem
from .schema import Scenario, tariff_references

#: Scenario files larger than this are refused before parsing. [bytes]
MAX_FILE_BYTES = 5 * 1024 * 1024

Loc = tuple[str | int, ...]


# --------------------------------------------------------------------------- YAML with lines


#: Deepest nesting of mappings and lists a scenario file may have (the deepest scenario
#: field lies about ten levels down).
MAX_DEPTH = 50

#: Most nodes that aliases (``*name``) may add to a document by repeating an anchored
#: node. Aliases are expanded by everything after the parser, so a few hundred bytes of
#: nested aliases ("billion laughs") would otherwise stand for billions of nodes.
MAX_ALIAS_NODES = 10_000


class YamlLoader(yaml.SafeLoader):
    """Safe loader with YAML 1.2 booleans: only true/false are booleans, so that period
    names such as ``on``, ``off``, ``yes`` or ``no`` stay strings. Scenario files, ``--set``
    values and sweep values are all read with it.

    Composing refuses, as YAML errors at the offending line: nesting deeper than
    :data:`MAX_DEPTH`, an alias inside the node it names (a recursive document), and
    aliases that together stand for more than :data:`MAX_ALIAS_NODES` nodes.
    """

    def compose_document(self):
        self._depth = 0
        self._nodes = 0              # nodes of the document with every alias expanded
        self._alias_nodes = 0        # of which aliases stand for
        self._sizes: dict[str, int] = {}  # anchor -> expanded size of its node
        self._open: set[str] = set()      # anchors of the nodes being composed
        return super().compose_document()

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open:
                raise yaml.composer.ComposerError(None, None, f"alias *{event.anchor} refers to a node that "
                                                              "contains it (recursive data)", event.start_mark)
            size = self._sizes.get(event.anchor, 1)
            self._alias_nodes += size
            self._nodes += size
            if self._alias_nodes > MAX_ALIAS_NODES:
                raise yaml.composer.ComposerError(
                    None, None, f"aliases expand to more than {MAX_ALIAS_NODES} nodes; write the data out "
                                "or use fewer aliases", event.start_mark)
            return super().compose_node(parent, index)
        if self._depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels",
                                              event.start_mark)
        anchor = getattr(event, "anchor", None)
        before = self._nodes
        self._depth += 1
        if anchor is not None:
            self._open.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open.discard(anchor)
        self._nodes += 1
        if anchor is not None:
            self._sizes[anchor] = self._nodes - before
        return node


#: Longest integer a YAML file may write, in characters (Python refuses to read integers
#: of more than 4300 digits; every integer field of a scenario is far shorter).
MAX_INT_CHARS = 100


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    if len(node.value) > MAX_INT_CHARS:
        raise yaml.constructor.ConstructorError(None, None, f"an integer of {len(node.value)} characters is too long "
                                                            f"(at most {MAX_INT_CHARS})", node.start_mark)
    return yaml.SafeLoader.construct_yaml_int(loader, node)


YamlLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)

# Dates and timestamps stay strings: the schema parses them and names a bad one by line.
YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _walk_lines(node: yaml.Node, path: Loc, lines: dict[Loc, int], dups: list[tuple[Loc, int]]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key, value in node.value:
            k = key.value if isinstance(key, yaml.ScalarNode) else str(key.value)
            if k in seen:
                dups.append((path + (k,), key.start_mark.line + 1))
            seen.add(k)
            lines[path + (k,)] = key.start_mark.line + 1
            _walk_lines(value, path + (k,), lines, dups)
            lines[path + (k,)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk_lines(item, path + (i,), lines, dups)


def read_yaml(path: str | Path, label: str | None = None) -> tuple[Any, dict[Loc, int]]:
    """Parse a YAML file safely; return its data and the line of every node path.

    Raises
    ------
    InputError
        Missing or oversized file, YAML syntax errors, tags, duplicate keys.
    """
    path = Path(path)
    label = label or str(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise InputError(Problem(label, None, "", f"cannot read file: {e.strerror}")) from None
    if not path.is_file():
        raise InputError(Problem(label, None, "", "not a file"))
    if size > MAX_FILE_BYTES:
        raise InputError(Problem(label, None, "", f"file is {size} bytes; scenario files are limited to "
                                                  f"{MAX_FILE_BYTES} bytes"))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise InputError(Problem(label, None, "", f"not UTF-8 text ({e.reason} at byte {e.start})")) from None
    try:
        loader = YamlLoader(text)
    except yaml.reader.ReaderError as e:  # a control character, checked before parsing
        line = text.count("\n", 0, e.position) + 1
        raise InputError(Problem(label, line, "", f"YAML error: control character #x{e.character:04x} "
                                                  "is not allowed in a YAML file")) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise InputError(Problem(label, 1, "", "the file is empty"))
        lines: dict[Loc, int] = {}
        dups: list[tuple[Loc, int]] = []
        _walk_lines(node, (), lines, dups)
        if dups:
            raise InputError([Problem(label, ln, format_loc(p), "duplicate key") for p, ln in dups])
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        msg = " ".join(x for x in (e.context, e.problem) if x)
        raise InputError(Problem(label, line, "", f"YAML error: {msg}")) from None
    except yaml.YAMLError as e:
        raise InputError(Problem(label, None, "", f"YAML error: {e}")) from None
    finally:
        loader.dispose()
    return data, lines


# --------------------------------------------------------------------------- overrides


_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_dotted(path: str) -> list[str | int]:
    """Split ``a.b[2].c`` or ``a.b.2.c`` into keys and list indices."""
    if not path or path.startswith(".") or path.endswith(".") or ".." in path:
        raise ValueError(f"malformed path {path!r}")
    out: list[str | int] = []
    pos = 0
    for m in _TOKEN.finditer(path):
        if m.start() != pos and path[pos:m.start()] != ".":
            raise ValueError(f"malformed path {path!r}")
        key, idx = m.groups()
        out.append(int(idx) if idx is not None else (int(key) if key.isdigit() else key))
        pos = m.end()
    if pos != len(path):
        raise ValueError(f"malformed path {path!r}")
    return out


def _list_index(items: list, key: str | int, where: str) -> int:
    """Index of a list item given by position or by its `name`."""
    if isinstance(key, int):
        if not -len(items) <= key < len(items):
            raise ValueError(f"{where}: index {key} out of range (the list has {len(items)} items)")
        return key % len(items)
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == key:
            return i
    names = [str(it.get("name")) for it in items if isinstance(it, dict) and "name" in it]
    raise ValueError(f"{where}: no item named {key!r} (names: {', '.join(names) or 'none'})")


def apply_override(data: dict, dotted: str, value: Any) -> Loc:
    """Set ``dotted`` (keys, indices, or list items by name) to ``value`` in a copy-safe way.

    Returns the resolved path (list items by index). Intermediate mappings are created
    when missing; the schema then judges whether the key is valid.
    """
    tokens = parse_dotted(dotted)
    node: Any = data
    resolved: list[str | int] = []
    for i, tok in enumerate(tokens):
        last = i == len(tokens) - 1
        where = ".".join(map(str, resolved)) or "(top)"
        if isinstance(node, list):
            j = _list_index(node, tok, where)
            resolved.append(j)
            if last:
                node[j] = value
            else:
                node = node[j]
        elif isinstance(node, dict):
            key = str(tok) if not isinstance(tok, str) and str(tok) in node else tok
            resolved.append(key)
            if last:
                node[key] = value
            else:
                if key not in node or node[key] is None:
                    node[key] = {}
                node = node[key]
        else:
            raise ValueError(f"{where} is a {type(node).__name__}, not a mapping or list")
    return tuple(resolved)


def parse_set(item: str) -> tuple[str, Any]:
    """Split a ``path=value`` command-line override; the value is read as YAML."""
    if "=" not in item:
        raise ValueError(f"--set takes path=value; got {item!r}")
    path, text = item.split("=", 1)
    try:
        value = yaml.load(text, Loader=YamlLoader) if text.strip() else ""
    except yaml.YAMLError as e:
        why = " ".join(x for x in (e.context, e.problem) if x) if isinstance(e, yaml.MarkedYAMLError) else e
        raise ValueError(f"--set {path}: cannot read value {_short(text)}: {why}") from None
    return path.strip(), value


# --------------------------------------------------------------------------- errors


def format_loc(path: Loc) -> str:
    """A resolved location as the dotted path of error messages: ``populations[0].count``."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _clean_loc(loc: Loc, data: Any) -> Loc:
    """Drop union tags from a pydantic location by following the data."""
    out: list[str | int] = []
    node = data
    for item in loc:
        if isinstance(node, dict) and item in node:
            out.append(item)
            node = node[item]
        elif isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node):
            out.append(item)
            node = node[item]
        elif isinstance(node, dict) and isinstance(item, str) and item not in _UNION_TAGS and not _is_tag(item, node):
            out.append(item)  # a missing key: keep it, there is no deeper data
            node = None
    return tuple(out)


_UNION_TAGS = {"value", "list", "mapping"}


def _is_tag(item: str, node: dict) -> bool:
    """Whether `item` is a discriminator value of `node` (pydantic puts it in the location)."""
    return item in {str(v) for k, v in node.items() if k in ("type", "dist", "model")}


def _line_of(path: Loc, lines: dict[Loc, int]) -> int | None:
    for n in range(len(path), -1, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return None


def _model_at(loc: Loc, root: Any = None) -> type[BaseModel] | None:
    """The model class that validated the mapping at a raw pydantic location."""
    tp: Any = Scenario if root is None else root
    for item in loc:
        tp = _step(tp, item)
        if tp is None:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _step(tp: Any, item: str | int) -> Any:
    tp = _unwrap(tp)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        for arg in typing.get_args(tp):
            meta = typing.get_args(arg)[1:] if typing.get_origin(arg) is typing.Annotated else ()
            if any(getattr(m, "tag", None) == item for m in meta):
                return arg
            inner = _unwrap(arg)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                for name in ("type", "dist", "model"):
                    f = inner.model_fields.get(name)
                    if f is not None and item in typing.get_args(f.annotation):
                        return inner
            if typing.get_origin(inner) is typing.Union:
                found = _step(inner, item)
                if found is not None:
                    return found
        return None
    if origin is list:
        return typing.get_args(tp)[0]
    if origin is dict:
        return typing.get_args(tp)[1]
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        f = tp.model_fields.get(item) if isinstance(item, str) else None
        return f.annotation if f is not None else None
    return None


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut in the middle when longer than ``limit`` characters."""
    if isinstance(value, int) and value.bit_length() > 4 * limit:
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit // 2]}...{text[-limit // 4:]} ({len(text)} characters)"


def _message(err: dict, root: Any = None) -> str:
    kind, ctx, got = err["type"], err.get("ctx") or {}, err.get("input")
    shown = f"; got {_short(got)}" if isinstance(got, (int, float, str, bool)) or got is None else ""
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        model = _model_at(err["loc"][:-1], root)
        if model is not None:
            valid = list(model.model_fields)
            near = difflib.get_close_matches(str(err["loc"][-1]), valid, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            return f"unknown key{hint} (valid keys: {', '.join(valid)})"
        return "unknown key"
    bounds = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"),
              "less_than_equal": ("<=", "le"), "less_than": ("<", "lt")}
    if kind in bounds:
        op, key = bounds[kind]
        bound = ctx[key]
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        return f"must be {op} {bound}{shown}"
    if kind == "union_tag_invalid" and ctx.get("tag") in _UNION_TAGS | {"list"}:
        shapes = {"value": "a number", "list": "a list", "mapping": "a mapping"}
        expected = [shapes.get(t.strip(" '"), t) for t in str(ctx.get("expected_tags", "")).split(",")]
        return f"must be {' or '.join(expected)}; got {shapes[ctx['tag']]}"
    if kind == "union_tag_invalid":
        return f"unknown {ctx.get('discriminator', 'type')} {ctx.get('tag')!r} (valid: {ctx.get('expected_tags')})"
    if kind == "union_tag_not_found":
        return f"needs the key {ctx.get('discriminator')} (which kind of item this is)"
    if kind.startswith("drsim_"):
        return err["msg"]
    msg = err["msg"]
    if msg.startswith("Input should be "):
        msg = "must be " + msg[len("Input should be "):]
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
        shown = ""
    return f"{msg[0].lower()}{msg[1:]}{shown}"


def _problems(exc: ValidationError, data: Any, lines: dict[Loc, int], label: str,
              overridden: dict[Loc, str], root: Any = None) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        base = _clean_loc(tuple(err["loc"]), data)
        ctx = err.get("ctx") or {}
        items = ctx.get("problems") if err["type"] == "drsim_problems" else None
        for sub, msg in items or [((), _message(err, root))]:
            path = base + tuple(sub)
            out.append(_located(path, msg, lines, label, overridden))
    return out


def _located(path: Loc, msg: str, lines: dict[Loc, int], label: str, overridden: dict[Loc, str]) -> Problem:
    for n in range(len(path), 0, -1):
        if path[:n] in overridden:
            return Problem(f"--set {overridden[path[:n]]}", None, format_loc(path), msg)
    below = [dotted for loc, dotted in overridden.items() if loc[:len(path)] == path]
    if below:  # the problem sits above a field that --set changed
        msg = f"{msg} (after --set {', '.join(below)})"
    return Problem(label, _line_of(path, lines), format_loc(path), msg)


# --------------------------------------------------------------------------- public


def load_raw(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> tuple[dict, dict[Loc, int], dict[Loc, str]]:
    """Read a scenario file and apply ``path=value`` overrides; no validation yet."""
    label = str(path)
    data, lines = read_yaml(path, label)
    if not isinstance(data, dict):
        raise InputError(Problem(label, 1, "", f"a scenario file is a mapping of keys; got a {type(data).__name__}"))
    data = copy.deepcopy(data)
    return data, lines, apply_overrides(data, overrides)


def apply_overrides(data: dict, overrides) -> dict[Loc, str]:
    """Apply ``path=value`` items to raw scenario data in place; every bad one is reported.

    Returns the resolved path of each override -> its dotted text (for error lines)."""
    overridden: dict[Loc, str] = {}
    problems = []
    for item in overrides:
        try:
            dotted, value = parse_set(item)
            overridden[apply_override(data, dotted, value)] = dotted
        except ValueError as e:
            problems.append(Problem("--set", None, "", str(e)))
    if problems:
        raise InputError(problems)
    return overridden


def validate(data: dict, *, label: str = "<scenario>", lines: dict[Loc, int] | None = None,
             base_dir: str | Path = ".", overridden: dict[Loc, str] | None = None,
             check: Callable[[Scenario, str], None] | None = None) -> Scenario:
    """Validate raw scenario data; raise InputError listing every problem.

    ``check(scenario, label)``, when given, runs on the valid scenario: a further check of
    the files it names that the format cannot make (the network's, :func:`sim.network.inputs.
    check_inputs`). Its problems with the scenario's own keys (``label``, no line) are told
    at their line in the file, or as the ``--set`` item that gave the key."""
    lines = lines or {}
    overridden = overridden or {}
    problems = [_located(p, m, lines, label, overridden) for p, m in tariff_references(data)]
    try:
        scenario = Scenario.model_validate(data, context={"base_dir": Path(base_dir)})
    except ValidationError as exc:
        problems = _problems(exc, data, lines, label, overridden) + problems
        scenario = None
    if problems:
        seen, unique = set(), []
        for p in problems:
            if str(p) not in seen:
                seen.add(str(p))
                unique.append(p)
        unique.sort(key=lambda p: (p.file != label, p.line or 0))
        raise InputError(unique)
    if check is not None:
        try:
            check(scenario, label)
        except InputError as e:
            raise InputError([_relocated(p, lines, label, overridden) for p in e.problems]) from None
    return scenario


def _relocated(p: Problem, lines: dict[Loc, int], label: str, overridden: dict[Loc, str]) -> Problem:
    """A later check's problem with a key of the scenario file, at the key's line (or its --set)."""
    if p.file != label or p.line is not None or not p.path:
        return p
    try:
        loc = tuple(parse_dotted(p.path))
    except ValueError:
        return p
    return _located(loc, p.message, lines, label, overridden)


def load_scenario(path: str | Path, overrides: list[str] | tuple[str, ...] = (), *,
                  check: Callable[[Scenario, str], None] | None = None) -> Scenario:
    """Load, override and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        The YAML scenario file.
    overrides : sequence of str
        ``dotted.path=value`` items, applied before validation (list items by index or name).
    check : callable(scenario, label), optional
        A further check of the valid scenario (see :func:`validate`).

    Raises
    ------
    InputError
        With every problem as ``file:line: dotted.path: message``.
    """
    data, lines, overridden = load_raw(path, overrides)
    if isinstance(data, dict):
        data.pop("sweep", None)  # a sweep file's `sweep:` block belongs to `drsim sweep`; the rest is a scenario
    return validate(data, label=str(path), lines=lines, base_dir=Path(path).parent, overridden=overridden,
                    check=check)


def load_tariff(path: str | Path, name: str | None = None):
    """Load one tariff from a YAML file: a tariff mapping, or a scenario file's ``tariffs``
    (pick one with ``name``; a file with one tariff needs none).

    Returns
    -------
    (name, tariff model)
    """
    name, tariff, _ = load_tariff_currency(path, name)
    return name, tariff


def load_tariff_currency(path: str | Path, name: str | None = None):
    """:func:`load_tariff`, and the currency its bills are in: the tariff's ``currency``, else
    the scenario file's (``currency``, or the one all its tariffs name), else the default.
    A tariff whose currency differs from its scenario file's is refused (file, line, field).

    Returns
    -------
    (name, tariff model, ISO 4217 code)
    """
    from pydantic import TypeAdapter

    from .currency import DEFAULT_CURRENCY, currency_from_tariffs, currency_problems
    from .tariff import Tariff

    label = str(path)
    data, lines = read_yaml(path, label)
    if not isinstance(data, dict):
        raise InputError(Problem(label, 1, "", "a tariff file is a mapping of keys"))
    prefix: Loc = ()
    scenario = currency_from_tariffs(data) if "tariffs" in data else {}
    if "tariffs" in data and isinstance(data["tariffs"], dict):
        tariffs = data["tariffs"]
        if name is None and len(tariffs) == 1:
            name = next(iter(tariffs))
        if name not in tariffs:
            raise InputError(Problem(label, lines.get(("tariffs",)), "tariffs",
                                     f"choose a tariff with --tariff (defined: {', '.join(tariffs)})"
                                     if name is None else f"no tariff {name!r} (defined: {', '.join(tariffs)})"))
        prefix, data = ("tariffs", name), tariffs[name]
    elif "type" not in data and len(data) == 1 and isinstance(next(iter(data.values())), dict):
        name = next(iter(data))  # {name: tariff}, as `drsim tariff calibrate` writes it
        prefix, data = (name,), data[name]
    name = name or Path(path).stem
    adapter = TypeAdapter(Tariff)
    try:
        tariff = adapter.validate_python(data, context={"base_dir": Path(path).parent})
    except ValidationError as exc:
        shifted = {k[len(prefix):]: v for k, v in lines.items() if k[:len(prefix)] == prefix}
        probs = _problems(exc, data, shifted, label, {}, root=Tariff)
        head = format_loc(prefix)
        raise InputError([Problem(p.file, p.line, ".".join(x for x in (head, p.path) if x).replace(".[", "["),
                                  p.message) for p in probs]) from None
    currency = scenario.get("currency", DEFAULT_CURRENCY) if scenario else None  # a scenario file's
    mixed = currency_problems(currency, {name: tariff}, named="currency" in scenario) if currency else []
    if mixed:
        raise InputError([_located(loc, message, lines, label, {}) for loc, message in mixed])
    return name, tariff, tariff.currency or currency or DEFAULT_CURRENCY
