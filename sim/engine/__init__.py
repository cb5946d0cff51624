"""The simulation engine: customers as rows of arrays, driven day by day by a SimPy clock.

What it owns, by module:

* :mod:`~sim.engine.step`: the block step, one chunk of customers through one day (load,
  response in each tariff role, meter reads, stream-block sums);
* :mod:`~sim.engine.shard`: shards, which build and hold customers and run the block step
  over their chunks; the read-out of their segments as frozen arrays;
* :mod:`~sim.engine.backends`: where shards execute (this process, Dask workers), the
  memory estimate and the allocator settings;
* :mod:`~sim.engine.clock`: :func:`simulate` and the SimPy clock that keeps time, calls the
  grid side between days and adds the shards' loads in block order.

Memory grows with customers, not customers x steps: per-customer state is a few arrays of
length n, and only system-level and per-segment load series are kept over time.
"""

from __future__ import annotations

from ..outcome import ROLES, RunResult, SegmentOutcome
from .backends import (BASE_BYTES, BYTES_PER_CUSTOMER, BYTES_PER_EXTRA_TARIFF, DaskShards, InProcess, MemoryPlan,
                       check_memory, memory_estimate, memory_plan, trim_heap, tune_allocator)
from .clock import simulate
from .shard import DEFAULT_CHUNK, Forecast, Shard

__all__ = ["BASE_BYTES", "BYTES_PER_CUSTOMER", "BYTES_PER_EXTRA_TARIFF", "DEFAULT_CHUNK", "DaskShards", "Forecast",
           "InProcess", "MemoryPlan", "ROLES", "RunResult", "SegmentOutcome", "Shard", "check_memory", "memory_estimate",
           "memory_plan", "simulate", "trim_heap", "tune_allocator"]
