"""The network's load series and load balance: each load point's, transformer's and
feeder's load, their peaks, hours over rating, after-diversity maximum demand and the
timer or rebound peak (the largest rise from one step to the next).

Series are built from the engine's per-piece sums (:mod:`sim.network.placement`) added in
block order, load points added in load order, transformers in transformer order: the same
bits whatever the chunks, shards or workers. Definitions: docs/metrics.md, "Network".
"""

from __future__ import annotations

import numpy as np

from ..outcome import ROLES
from .placement import Placement, group_series, sum_groups

__all__ = ["balance", "group_series", "sum_groups"]


def _one(kw: np.ndarray, rating_kva: float, pf: float, customers: np.ndarray, step_h: float) -> dict:
    """Load balance of units (transformers or feeders), kw shape (units, steps)."""
    kva = kw / pf
    rise = np.diff(kw, axis=1)
    at = rise.argmax(axis=1) + 1
    return {"peak_kw": kw.max(axis=1), "peak_loading_percent": 100.0 * kva.max(axis=1) / rating_kva,
            "hours_over_rating": (kva > rating_kva).sum(axis=1) * step_h,
            "admd_kw": kw.max(axis=1) / np.maximum(customers, 1),
            "max_rise_kw": rise.max(axis=1), "max_rise_step": at}


def balance(series: dict, placement: Placement, network, step_h: float) -> dict:
    """Per role, the transformers' and feeders' load balance: arrays per unit (see
    :func:`_one`) under ``transformers`` and ``feeders``. ``series``: role ->
    {"transformers": (T, steps), "feeders": (F, steps)} [kW]."""
    per_t = placement.transformer_customers()
    per_f = np.array([per_t[f * placement.per_feeder:(f + 1) * placement.per_feeder].sum()
                      for f in range(placement.feeders)])
    feeder_kva = network.feeder_kva or network.transformer_kva * placement.per_feeder
    return {role: {"transformers": _one(series[role]["transformers"], network.transformer_kva,
                                        network.power_factor, per_t, step_h),
                   "feeders": _one(series[role]["feeders"], feeder_kva, network.power_factor, per_f, step_h)}
            for role in ROLES}
