"""The low-voltage networks the power flow runs on: pandapower's shipped networks by name,
or a network in pandapower's JSON format.

Nothing downloads: the shipped networks are built by ``pandapower.networks`` from the data
that comes with the package (docs/network.md gives each one's source).
"""

from __future__ import annotations

import copy
import random
from functools import lru_cache
from pathlib import Path

from ..errors import InputError, Problem
from ..words import counted

__all__ = ["BUILD_SEED", "check_network", "coordinates", "grid_loads", "load_grid", "load_points", "shipped"]


def _dickert(feeders_range: str, customer: str):
    import pandapower.networks as pn

    return pn.create_dickert_lv_network(feeders_range=feeders_range, linetype="cable", customer=customer, case="good")


#: Seed of the branch-out cable draws of pandapower's Kerber networks: their constructors
#: pick some branch-out cable types with ``random.random()`` (module
#: ``pandapower.networks.kerber_networks``, imported there as ``rd``); drsim hands them a
#: ``random.Random(BUILD_SEED)`` of their own while they build, so the network is the same
#: in every process whatever else has drawn from Python's generator.
BUILD_SEED = 0


def shipped(name: str):
    """A shipped network, its random choices drawn from ``random.Random(BUILD_SEED)``."""
    import pandapower.networks.kerber_networks as kn

    saved = kn.rd
    kn.rd = random.Random(BUILD_SEED)
    try:
        return _shipped(name)
    finally:
        kn.rd = saved


def _shipped(name: str):
    import pandapower.networks as pn

    if name.startswith("kerber_"):
        return getattr(pn, "create_" + name)()
    if name == "cigre_lv":
        return pn.create_cigre_network_lv()
    if name.startswith("dickert_lv_"):
        rng = name.split("_")[2]
        return _dickert(rng, "single" if rng == "short" else "multiple")
    raise KeyError(name)


@lru_cache(maxsize=8)
def _cached(grid: str | None, file: str | None):
    if grid is not None:
        return shipped(grid)
    import pandapower as pp

    return pp.from_json(file)


def load_grid(power_flow):
    """A fresh copy of the network a scenario's ``network.power_flow`` names (its loads in
    the network's own order are the transformer's load points)."""
    return copy.deepcopy(_cached(power_flow.grid, None if power_flow.file is None else str(Path(power_flow.file))))


def coordinates(power_flow) -> dict | None:
    """The network's bus coordinates and branches, for a map-free diagram, or None where
    any bus has no coordinates (pandapower's ``bus.geo``, GeoJSON points; the Kerber and
    Dickert networks have none, CIGRE's LV network has them). Returns ``bus``, ``x``, ``y``
    (arrays per bus, in the network's bus order), ``load`` (bool: a load sits on the bus),
    and ``branches``: (kind ``line``/``trafo``/``switch``, from bus, to bus) of each line,
    transformer and closed bus-bus switch."""
    import json

    net = _cached(power_flow.grid, None if power_flow.file is None else str(Path(power_flow.file)))
    geo = net.bus["geo"] if "geo" in net.bus.columns else None
    if geo is None or len(geo) == 0 or geo.isna().any():
        return None
    xy = [json.loads(g)["coordinates"] for g in geo]
    branches = [("line", int(a), int(b)) for a, b in zip(net.line.from_bus, net.line.to_bus)]
    branches += [("trafo", int(a), int(b)) for a, b in zip(net.trafo.hv_bus, net.trafo.lv_bus)]
    sw = net.switch[(net.switch.et == "b") & net.switch.closed] if len(net.switch) else net.switch
    branches += [("switch", int(a), int(b)) for a, b in zip(sw.bus, sw.element)]
    return {"bus": net.bus.index.to_numpy(), "x": [float(p[0]) for p in xy], "y": [float(p[1]) for p in xy],
            "load": net.bus.index.isin(net.load.bus).tolist(), "branches": branches}


def grid_loads(grid: str | None, file: str | None) -> list[int]:
    """The bus of each load of a shipped network (``grid``) or JSON file, in load order."""
    return [int(b) for b in _cached(grid, None if file is None else str(Path(file))).load.bus]


def load_points(network) -> int:
    """Load points per transformer of a scenario's ``network`` section: the loads of its
    power-flow network, or one (the transformer) without a power flow."""
    pf = network.power_flow
    if pf is None:
        return 1
    if pf.customers_per_load is not None:
        return len(pf.customers_per_load)
    return len(_cached(pf.grid, None if pf.file is None else str(Path(pf.file))).load)


def _check_json(path: str) -> None:
    """A network file is JSON text (else the line and column where it stops being JSON) and
    holds a pandapower network (``pandapower.to_json`` writes one)."""
    import json

    def problem(line, msg):
        return InputError(Problem(path, line, "network.power_flow.file", msg))

    try:
        data = json.loads(Path(path).read_bytes().decode("utf-8-sig"))
    except OSError as e:
        raise problem(None, f"cannot read the file: {e}") from None
    except UnicodeDecodeError as e:
        raise problem(None, f"not UTF-8 text: {e.reason} at byte {e.start}") from None
    except json.JSONDecodeError as e:
        raise problem(e.lineno, f"not JSON: {e.msg} (column {e.colno})") from None
    if not (isinstance(data, dict) and data.get("_class") == "pandapowerNet"):
        raise problem(1, "not a pandapower network: pandapower's JSON format is an object with "
                         "\"_class\": \"pandapowerNet\" (what pandapower.to_json writes)")


def check_network(scenario, label: str | None = None) -> None:
    """Before any work: the power-flow network loads (a JSON file pandapower can read), has
    loads, and has as many as ``customers_per_load`` lists. InputError naming the field and
    ``label`` (the scenario file; default: the scenario's name)."""
    spec = scenario.network
    pf = None if spec is None else spec.power_flow
    if pf is None:
        return
    label = label or scenario.name
    if pf.file is not None:  # a whole-file problem is told at line 1, as a topology file's header
        where = (str(Path(pf.file)), 1, "network.power_flow.file")
        _check_json(where[0])
    else:
        where = (label, None, "network.power_flow.grid")
    try:
        net = _cached(pf.grid, None if pf.file is None else str(Path(pf.file)))
    except Exception as e:  # pandapower raises several kinds on a bad file
        raise InputError(Problem(*where, f"pandapower cannot read the network: {type(e).__name__}: {e}")) from None
    if len(net.load) == 0:
        raise InputError(Problem(*where, "the network has no loads to place customers on"))
    if pf.customers_per_load is not None and len(pf.customers_per_load) != len(net.load):
        raise InputError(Problem(label, None, "network.power_flow.customers_per_load",
                                 f"lists {counted(len(pf.customers_per_load), 'load')}; the network has "
                                 f"{counted(len(net.load), 'load')}"))
