"""Readable YAML for tariffs and scenarios that drsim writes (short lists inline)."""

from __future__ import annotations

from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    pass


def _list(dumper: yaml.SafeDumper, data: list):
    flow = all(not isinstance(x, (dict, list)) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _list)

#: Keys written first, in this order, when present.
_FIRST = ("type", "description", "price_per_kwh", "periods", "seasons", "schedule")


def _absolute_paths(node):
    """File references made absolute, so the written YAML works wherever it is saved."""
    from pathlib import Path

    if isinstance(node, dict):
        return {k: (str(Path(v).resolve()) if k == "csv" and isinstance(v, str) else _absolute_paths(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_absolute_paths(v) for v in node]
    return node


def tariff_to_yaml(name: str, tariff, header: str = "") -> str:
    """A tariff model as YAML ``{name: {...}}`` with only non-default fields, after a
    comment header."""
    data = _absolute_paths(tariff.model_dump(mode="json", exclude_defaults=True))
    data["type"] = tariff.type
    ordered = {k: data[k] for k in _FIRST if k in data} | {k: v for k, v in data.items() if k not in _FIRST}
    body = yaml.dump({name: ordered}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return "".join(f"# {line}\n" for line in header.splitlines()) + body


# --------------------------------------------------------------------------- values written back


def changed_numbers(old: Any, new: Any, at: tuple = ()) -> dict[tuple, Any]:
    """The locations (keys and list indices) of the numbers that differ between two dumped
    models of the same shape, with their new values."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: dict[tuple, Any] = {}
        for k in new:
            if k in old:
                out |= changed_numbers(old[k], new[k], (*at, k))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = {}
        for i, (a, b) in enumerate(zip(old, new)):
            out |= changed_numbers(a, b, (*at, i))
        return out
    return {at: new} if old != new else {}


def _references(root: yaml.Node) -> dict[int, int]:
    """How many places of the document refer to each node (an anchored node used through
    aliases counts once per use); each collection is walked once, so aliases cost nothing."""
    refs: dict[int, int] = {id(root): 1}
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        children = ([v for _, v in node.value] if isinstance(node, yaml.MappingNode) else
                    list(node.value) if isinstance(node, yaml.SequenceNode) else [])
        for child in children:
            refs[id(child)] = refs.get(id(child), 0) + 1
            stack.append(child)
    return refs


def _node_at(root: yaml.Node, loc: tuple, refs: dict[int, int]) -> yaml.ScalarNode:
    """The scalar node at ``loc``, reached by keys and indices; ValueError if it is not written
    in the file as one plain scalar of its own (a default, a list written as one value, a
    value shared through an anchor)."""
    node = root
    for depth, key in enumerate(loc):
        where = ".".join(map(str, loc[:depth + 1]))
        if isinstance(node, yaml.MappingNode) and isinstance(key, str):
            found = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key]
            node = found[0] if found else None
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            node = None
        if node is None:
            raise ValueError(f"{where} is not written in the file (a default, or one value standing for a list)")
        if refs.get(id(node), 1) > 1:
            raise ValueError(f"{where} is shared with other fields through a YAML anchor (&) and alias (*)")
    if not isinstance(node, yaml.ScalarNode):
        raise ValueError(f"{'.'.join(map(str, loc))} is not one value in the file")
    return node


def check_written(text: str, locs) -> None:
    """Check that every location can be rewritten in place in the YAML ``text`` (see
    :func:`replace_numbers`); ValueError naming the first that cannot."""
    from .loader import YamlLoader

    root = yaml.compose(text, Loader=YamlLoader)
    refs = _references(root)
    for loc in locs:
        _node_at(root, loc, refs)


def replace_numbers(text: str, changes: dict[tuple, float]) -> str:
    """The YAML ``text`` with the number at each location replaced by its new value, written
    as the shortest decimal that reads back as the same float; every other character (the
    comments, the layout, the order of keys) is kept.

    Raises
    ------
    ValueError
        A location that is not one scalar of its own in the file (see :func:`check_written`).
    """
    from .loader import YamlLoader

    root = yaml.compose(text, Loader=YamlLoader)
    refs = _references(root)
    spans = []
    for loc, value in changes.items():
        node = _node_at(root, loc, refs)
        spans.append((node.start_mark.index, node.end_mark.index, repr(float(value))))
    out = text
    for start, end, new in sorted(spans, reverse=True):  # from the end: earlier offsets stay valid
        out = out[:start] + new + out[end:]
    return out


class SourceText:
    """A scenario file's text, to be written again with one tariff's numbers changed."""

    def __init__(self, path, text: str, tariff: str):
        self.path, self.text, self.tariff = path, text, tariff

    @classmethod
    def read(cls, path, tariff: str) -> SourceText:
        from pathlib import Path

        return cls(path, Path(path).read_text(encoding="utf-8"), tariff)

    def at(self, loc: tuple) -> tuple:
        """A location in the tariff, as a location in the file."""
        return ("tariffs", self.tariff, *loc)

    def check(self, locs) -> None:
        """ValueError unless every location of the tariff can be rewritten in place."""
        check_written(self.text, [self.at(loc) for loc in locs])


def calibrated_scenario(source: SourceText, original, calibrated, header: str) -> str:
    """The scenario file's text with the tariff's numbers that differ between ``original``
    and ``calibrated`` (tariff models) replaced, after a comment ``header``; comments, layout
    and every other value are kept. The new text is read back: each replaced number must
    read as its new value."""
    from .loader import YamlLoader

    changes = changed_numbers(original.model_dump(mode="python", exclude_none=True),
                              calibrated.model_dump(mode="python", exclude_none=True))
    text = replace_numbers(source.text, {source.at(loc): v for loc, v in changes.items()})
    data = yaml.load(text, Loader=YamlLoader)
    for loc, value in changes.items():
        node = data
        for key in source.at(loc):
            node = node[key]
        if node != value:
            raise RuntimeError(f"{'.'.join(map(str, source.at(loc)))} reads back as {node!r}, not {value!r}")
    return "".join(f"# {line}\n" for line in header.splitlines()) + text
