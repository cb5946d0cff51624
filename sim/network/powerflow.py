"""Time-series AC power flow on one transformer's low-voltage network (pandapower).

pandapower solves each step (Newton-Raphson, ``pandapower.runpp``, initialised from a DC
power flow so that every step's result depends on its own loads only). Each load of the
network takes its load point's active power and the reactive power of the scenario's power
factor. What a step reports: the lowest and highest bus voltage, the number of buses
outside the voltage band, the largest line and transformer loading, the losses (lines and
transformers), and whether the step is in violation (a bus outside the band, a line or
transformer above the loading limit, or no convergence). Definitions: docs/network.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["FLOW_FIELDS", "TransformerFlow", "run_steps", "stress_steps"]

#: The per-step figures of a transformer's power flow, in order.
FLOW_FIELDS = ("vm_min_pu", "vm_max_pu", "buses_outside_band", "line_loading_max_percent",
               "trafo_loading_max_percent", "losses_kw", "violation")


def stress_steps(kw: np.ndarray, k: int | str) -> np.ndarray:
    """The steps a transformer's power flow runs on: the ``k`` highest-load steps of each
    role (``kw`` shape (roles, steps); ties: the earlier step), their union in time order;
    every step with ``k == "all"``."""
    if k == "all" or k >= kw.shape[1]:
        return np.arange(kw.shape[1])
    picked = [np.argsort(-row, kind="stable")[:k] for row in kw]
    return np.unique(np.concatenate(picked))


@dataclass(frozen=True)
class TransformerFlow:
    """One transformer's power flow on its chosen steps, both roles.

    Attributes
    ----------
    steps : ndarray of int, shape (k,)
        Steps of the horizon.
    figures : ndarray, shape (roles, k, len(FLOW_FIELDS))
        The step figures (FLOW_FIELDS; NaN where the flow did not converge).
    vm_pu : ndarray, shape (roles, k, buses)
        Every bus's voltage magnitude. [p.u.]
    buses : ndarray of int
        The network's bus indices.
    """

    steps: np.ndarray
    figures: np.ndarray
    vm_pu: np.ndarray
    buses: np.ndarray


def run_steps(net, kw: np.ndarray, steps: np.ndarray, band: tuple, power_factor: float) -> TransformerFlow:
    """The power flow of ``net`` (a fresh copy: it is changed) with its loads at ``kw``
    (roles, loads, steps of the horizon) [kW] on ``steps``; ``band``: (v_min_pu, v_max_pu,
    max loading %)."""
    import pandapower as pp

    tan = math.tan(math.acos(power_factor))
    net.load["scaling"] = 1.0
    roles, k = kw.shape[0], len(steps)
    figures = np.full((roles, k, len(FLOW_FIELDS)), np.nan)
    vm = np.full((roles, k, len(net.bus)), np.nan)
    for r in range(roles):
        for j, t in enumerate(steps):
            p = kw[r, :, t] / 1000.0
            net.load["p_mw"], net.load["q_mvar"] = p, p * tan
            try:
                pp.runpp(net, init="dc", calculate_voltage_angles=True)
            except pp.LoadflowNotConverged:
                figures[r, j, -1] = 1.0
                continue
            figures[r, j] = _figures(net, band)
            vm[r, j] = net.res_bus.vm_pu.to_numpy()
    return TransformerFlow(np.asarray(steps), figures, vm, net.bus.index.to_numpy())


def _figures(net, band: tuple) -> np.ndarray:
    v = net.res_bus.vm_pu.to_numpy()
    lo, hi, limit = band
    lines = net.res_line.loading_percent.to_numpy() if len(net.line) else np.zeros(1)
    trafos = net.res_trafo.loading_percent.to_numpy() if len(net.trafo) else np.zeros(1)
    losses = (net.res_line.pl_mw.sum() if len(net.line) else 0.0) + (net.res_trafo.pl_mw.sum() if len(net.trafo) else 0.0)
    outside = int(((v < lo) | (v > hi)).sum())
    violation = outside > 0 or lines.max() > limit or trafos.max() > limit
    return np.array([v.min(), v.max(), outside, lines.max(), trafos.max(), 1000.0 * losses, float(violation)])
