"""Rooftop PV: each system's generation subtracted from its customer's main-meter load, in
both roles (the same systems and the same generation: common random numbers).

A share ``adoption`` of the segment's customers has a system. Each has, drawn once from the
seed (a stream of its own, see :meth:`PvModel.draw`): a size ``K`` [kWp] and an orientation
class ``c`` (the classes' shares). The output of 1 kWp of class ``c`` in step ``t``,
``p_c(t)`` [kW/kWp], is computed once per run with pvlib from the scenario's weather
(:mod:`sim.solar`), or read from a measured profile; a customer's generation is
``G_i(t) = K_i p_c(i)(t)`` and its main-meter load

    net_i(t) = load_i(t) - G_i(t)

where ``load_i`` is its load after the models before this one (consumption response, EV
charging, thermal storage). A negative ``net_i`` is an export. The day's cost is one
multiply and one subtract over the chunk's customers with PV (no pvlib per customer).

Stage 50: after the response models, EV charging (35) and thermal storage (40); a home
battery that comes later sees the net load. Utility term: None. Generation changes where the
customer's energy comes from, not what it consumes: the gross utility of consumption is the
same with and without PV, and what the customer gains is in its bill (lower by the energy it
no longer buys). Both roles carry the same generation, so it cancels from every change of the
consumer ledger.

Per-customer sums (``SegmentOutcome.stats``): ``pv_kwp`` (size, 0 without PV), ``pv_kwh``
(generation), ``pv_value_<role>`` (the generation valued at the role's marginal energy
prices: what the customer's bill would be higher without it where the energy charge is
linear in the metered energy and exports earn the import price, docs/metrics.md "Cost
shift"), ``pv_export_kwh_<role>`` (the final
main-meter load's negative part, read after every model: ``sum max(-net, 0) h``),
``pv_gross_bill_<role>`` (the bill of the customer's gross load, final main-meter load plus
generation, on its tariff in the role: its bill without PV, billed by the engine through
:meth:`PvModel.gross_load` and written at the read-out); per stream block and step
``pv_block_kw``, the systems' generation (the same in both roles).
"""

from __future__ import annotations

import numpy as np

from .._jit import jit
from ..solar import measured_per_kwp, pv_per_kwp
from .registry import CustomerParams, ResponseDay, ResponseModel, register, writable

__all__ = ["PV_STREAM", "PvModel"]

#: Spawn-key suffix of the PV draws' own stream (under the block's parameter stream).
PV_STREAM = 110


@register
class PvModel(ResponseModel):
    """``model: pv``: rooftop PV generation subtracted from the load of the customers with a
    system, in both roles; see the module docstring."""

    name = "pv"
    params = ("kwp",)
    stage = 50                     # after thermal storage (40); a battery (60) sees the net load
    roles = ("baseline", "scenario")
    sees_events = True             # generation is valued at the full marginal price, events included
    observes_meter = True          # exports are read from the final main-meter load
    generates = True               # the PV customers' gross load is billed too (the cost shift)
    stats = ("pv_kwp", "pv_kwh", "pv_value_baseline", "pv_value_scenario", "pv_export_kwh_baseline",
             "pv_export_kwh_scenario", "pv_gross_bill_baseline", "pv_gross_bill_scenario", "pv_block_kw")

    def __init__(self, settings):
        super().__init__(settings)
        self._fleets: dict = {}
        self._seen: tuple | None = None          #: (load, rows, step hours, exports) of the last gross_load
        self._block_of = np.zeros(0, dtype=np.int64)
        self.profile: np.ndarray | None = None   #: (classes, days, spd) output per kWp [kW/kWp]

    def read_inputs(self, weather, calendar) -> None:
        """The output per kWp of each orientation class over the horizon (pvlib, once per
        process, weather, class and system: :func:`sim.solar.pv_per_kwp`), or the measured
        profile (one class)."""
        s = self.settings
        if s.measured is not None:
            self.profile = measured_per_kwp(s.measured, calendar)[None]
            return
        if weather is None or weather.sun is None:
            raise ValueError("model pv needs weather with irradiance (weather.tmy3, or weather.csv with its "
                             "irradiance columns and site), or a measured profile")
        self.profile = np.stack([pv_per_kwp(weather.sun, o.tilt, o.azimuth, s.system, calendar.steps_per_day)
                                 for o in s.orientations])

    def new_stats(self, n: int, blocks: list, steps: int) -> dict[str, np.ndarray]:
        """Per customer the sums of the module docstring [kWp, kWh, currency]; per stream block
        and step ``pv_block_kw``, shape (blocks, steps) [kW]. Keeps each row's block."""
        self._block_of = np.repeat(np.arange(len(blocks)), [b - a for a, b in blocks]) if blocks \
            else np.zeros(0, dtype=np.int64)
        out = {k: np.zeros(n) for k in self.stats[:-1]}
        out["pv_block_kw"] = np.zeros((len(blocks), steps))
        return out

    def draw(self, draw_param, rng: np.random.Generator, rows: int) -> dict[str, np.ndarray]:
        """The PV parameters from a stream of their own, keyed under the block's parameter
        stream (its spawn key extended by :data:`PV_STREAM`): ``rng`` is not advanced, so
        adding the model to a segment moves no other draw. ``kwp``, then ``adopted`` (uniform
        < adoption), then ``orientation`` (the class whose cumulative share first exceeds a
        uniform draw)."""
        ss = rng.bit_generator.seed_seq
        own = np.random.Generator(np.random.PCG64(
            np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, PV_STREAM))))
        out = super().draw(draw_param, own, rows)
        out["adopted"] = (own.random(rows) < self.settings.adoption).astype(np.float64)
        cum = np.cumsum([o.share for o in self.settings.orientations])
        cls = np.searchsorted(cum / cum[-1], own.random(rows), side="right")
        out["orientation"] = np.minimum(cls, len(cum) - 1).astype(np.float64)
        return out

    def fleet(self, idx, params: CustomerParams) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The customers among ``idx`` with a system: their positions in ``idx``, their rows in
        the segment, sizes [kWp] and orientation classes; kept for a chunk (``idx`` a slice)."""
        key = (idx.start, idx.stop) if isinstance(idx, slice) else None
        found = self._fleets.get(key) if key is not None else None
        if found is None:
            rows_all = np.arange(idx.start, idx.stop) if isinstance(idx, slice) else np.asarray(idx)
            sub = np.flatnonzero((params.adopted[idx] > 0) & (params.kwp[idx] > 0))
            rows = rows_all[sub]
            # a measured profile is one class for every system
            cls = (params.orientation[rows].astype(np.int64) if self.settings.measured is None
                   else np.zeros(len(rows), dtype=np.int64))
            found = (sub, rows, np.ascontiguousarray(params.kwp[rows]), cls)
            if key is not None:
                self._fleets[key] = found
        return found

    def generation(self, d: int, kwp: np.ndarray, cls: np.ndarray) -> np.ndarray:
        """Day ``d``'s generation of systems of sizes ``kwp`` and classes ``cls``, shape
        (n, spd): ``K p_c(t)``. [kW]"""
        return kwp[:, None] * self.profile[:, d][cls]

    def respond(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        if self.settings.adoption <= 0:
            return load
        if day.d is None:
            raise ValueError("rooftop PV needs the day's index in the horizon (ResponseDay.d)")
        sub, rows, kwp, cls = self.fleet(day.idx, params)
        if not len(sub):
            return load
        # in place where the load is an earlier model's new array (the pipeline's own); never
        # into the day's input load or a view of it
        out = writable(load, day)
        spd = out.shape[1]
        price = np.asarray(day.own.price, dtype=np.float64)
        price = price[None, :] if price.ndim == 1 else np.ascontiguousarray(price)   # (1, spd), or the block's rows
        kwh, value = np.zeros(len(sub)), np.zeros(len(sub))
        keep = day.stats is not None and day.role == "baseline"
        blocks = self._block_of[rows] if keep else np.zeros(len(sub), dtype=np.int64)
        sums = day.stats["pv_block_kw"][:, day.d * spd:(day.d + 1) * spd] if keep else np.zeros((1, spd))
        if cls.size and cls.max() >= self.profile.shape[0]:   # the kernel does not check its indices
            raise ValueError(f"orientation class {cls.max()} of {self.profile.shape[0]}")
        _subtract(out, sub, kwp, cls, np.ascontiguousarray(self.profile[:, day.d]), price, day.step_hours,
                  kwh, value, blocks, sums, keep)
        if day.stats is not None:
            day.stats["pv_value_" + day.role][rows] += value
            if keep:                                  # generation and size: the same in both roles
                day.stats["pv_kwp"][rows] = kwp
                day.stats["pv_kwh"][rows] += kwh
        return out

    def observe(self, role: str, rows: slice, load: np.ndarray, params: CustomerParams, stats: dict,
                step_hours: float) -> None:
        """Each PV customer's exports of the day: ``sum_t max(-net(t), 0) h`` of its final
        main-meter load. [kWh]"""
        if self.settings.adoption <= 0:
            return
        sub, pv_rows, _, _ = self.fleet(rows, params)
        if len(sub):
            seen, self._seen = self._seen, None
            if seen is not None and seen[0] is load and seen[1] == (rows.start, rows.stop) and seen[2] == step_hours:
                got = seen[3]                 # read in the pass that made the gross load of this very load
            else:
                got = np.zeros(len(sub))
                _exports(load, sub, step_hours, got)
            stats["pv_export_kwh_" + role][pv_rows] += got

    def generators(self, n: int, params: CustomerParams) -> np.ndarray:
        """The rows with a system among the ``n`` customers held (none with ``adoption`` 0)."""
        if self.settings.adoption <= 0:
            return np.zeros(0, dtype=np.int64)
        return self.fleet(slice(0, n), params)[1]

    def gross_load(self, rows: slice, d: int, load: np.ndarray, params: CustomerParams,
                   step_hours: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The PV customers among ``rows`` (positions in ``rows``) and their gross load: their
        final main-meter load plus their generation, ``net_i(t) + K_i p_c(i)(t)`` (what the
        meter would read without the system, every other model's load as it is). [kW]

        With ``step_hours``, the same pass reads each PV customer's exports of ``load`` too,
        kept for :meth:`observe` of this very load (the engine bills the gross load first)."""
        if self.settings.adoption <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, load.shape[1]))
        sub, _, kwp, cls = self.fleet(rows, params)
        gross = np.empty((len(sub), load.shape[1]))
        if cls.size and cls.max() >= self.profile.shape[0]:   # the kernel does not check its indices
            raise ValueError(f"orientation class {cls.max()} of {self.profile.shape[0]}")
        got = np.zeros(len(sub) if step_hours is not None else 0)
        _gross(load, sub, kwp, cls, np.ascontiguousarray(self.profile[:, d]), gross, got,
               0.0 if step_hours is None else float(step_hours))
        self._seen = None if step_hours is None else (load, (rows.start, rows.stop), step_hours, got)
        return sub, gross

    def utility(self, before: np.ndarray, after: np.ndarray, day: ResponseDay, params: CustomerParams) -> None:
        """None: generation changes where the energy comes from, not what the customer
        consumes (its gain is in the bill)."""
        return None


@jit
def _subtract(out, sub, kwp, cls, prof, price, h, kwh, value, blocks, sums, keep):
    """One pass over the PV customers' day: ``g = K_i p_c(t)``, ``out[sub_i, t] -= g``; per
    customer ``kwh_i = (sum_t g) h`` and ``value_i = (sum_t g price_t) h`` (price row 0 for
    all, or the customer's row ``sub_i`` of the block's); with ``keep`` each stream block's
    generation added row after row in row order into ``sums[blocks_i, t]`` (a block is never
    split: the same bits in any chunk)."""
    spd = out.shape[1]
    shared = price.shape[0] == 1
    for i in range(sub.shape[0]):
        r = sub[i]
        c = cls[i]
        k = kwp[i]
        pr = 0 if shared else r
        e = 0.0
        v = 0.0
        for t in range(spd):
            g = k * prof[c, t]
            out[r, t] = out[r, t] - g
            e += g
            v += g * price[pr, t]
            if keep:
                sums[blocks[i], t] += g
        kwh[i] = e * h
        value[i] = v * h


@jit
def _gross(load, sub, kwp, cls, prof, out, exports, h):
    """``out = load[sub] + kwp[:, None] * prof[cls]`` (the same products and sums) in one
    pass, without the gathered copies; where ``exports`` has a place per customer, each
    one's exports as :func:`_exports` sums them."""
    keep = exports.shape[0] > 0
    for i in range(sub.shape[0]):
        r = sub[i]
        c = cls[i]
        k = kwp[i]
        e = 0.0
        for t in range(load.shape[1]):
            x = load[r, t]
            out[i, t] = x + k * prof[c, t]
            if -x > 0.0:
                e += -x
        if keep:
            exports[i] = e * h


@jit
def _exports(load, sub, h, got):
    """Each PV customer's exports of the day: ``(sum_t max(-load[sub_i, t], 0)) h``. [kWh]"""
    spd = load.shape[1]
    for i in range(sub.shape[0]):
        r = sub[i]
        e = 0.0
        for t in range(spd):
            x = -load[r, t]
            if x > 0.0:
                e += x
        got[i] = e * h
