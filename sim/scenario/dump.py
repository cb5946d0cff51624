"""Readable YAML for tariffs and scenarios that drsim writes (short lists inline)."""

from __future__ import annotations

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
