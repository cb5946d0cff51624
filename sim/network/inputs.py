"""A scenario's network inputs checked before any work: the power-flow network (a shipped
network or a pandapower JSON file, :func:`sim.network.grids.check_network`) and the topology
file (:func:`sim.network.topology.check_topology`).

:func:`check_inputs` is the one check every command that reads a scenario file makes
(``drsim validate``, ``run``, ``sweep`` for each design point, ``tariff calibrate``, through
``load_scenario(..., check=check_inputs)``) and :func:`sim.run` makes again for a scenario
handed in directly; the files it reads are cached, so the run does not read them twice.
"""

from __future__ import annotations

__all__ = ["check_inputs"]


def check_inputs(scenario, label: str | None = None) -> None:
    """Raise InputError (file, line, field) for a power-flow network or topology file that
    cannot be used; nothing without a ``network`` section. ``label``: the scenario file, named
    in problems with the scenario's own keys (default: the scenario's name)."""
    if scenario.network is None:
        return
    # imported here: a scenario without a network needs neither (a fast `drsim validate`)
    from .grids import check_network
    from .topology import check_topology

    check_network(scenario, label)
    check_topology(scenario)
