"""Electric space heating from the run's weather, and the electrification choice of the
customers who heat with coal, gas or oil (``model: electric_heat``).

**Heat need.** Customer ``i`` needs, in each step ``t``, the heat

    Q_i[t] = U_i x max(T_b - T[t], 0)            [kW of heat]

with ``U_i`` its heat need per degree-hour (``heat_kwh_per_degree_hour``, drawn per
customer) and ``T_b`` the heating balance temperature: the degree-hours of the degree-hour
model of the base loads (:func:`sim.population.thermal.heating_degrees`, and by default its
class's ``heat_base_c``).

**Heat pump** (air source): electric load ``Q_i[t] / COP[t]`` with the When2Heat COP curve
[1]_: ``COP = f x (6.0801 - 0.0941 dT + 0.0005 dT^2)``, ``dT = max(T_sink - T, 15 K)`` (held at
the curve's vertex, 94.1 K, beyond it: an assumption), the
sink (flow) temperature of a radiator system ``40 - T`` and of floor heating
``30 - 0.5 T`` [degC], and the dataset's correction of the curve, fitted to manufacturers'
data, to field measurements, ``f = 0.85``. So ``heat = electric x COP`` in every step. The
heat pump is taken to meet the whole need (no capacity limit, no back-up heater).

**Storage heater**: resistance elements charge a core that gives off its heat later; it
charges in the cheapest steps of the day and serves the need in the dearest, within its
capacity ``C`` and power ``P``, and heats directly (at the step's price) what the store
does not serve. That is the day's plan of a thermal store with a thermal share of 1 and a
round-trip efficiency of 1 (:func:`sim.behavior.storage.dispatch_storage`: the heat need
is its load, the role's energy price both its charge and its serve price); its standing loss
``loss_per_hour`` is the store's. Electric load ``direct + charge``; heat delivered
``direct + served = Q`` in every step; the store's balance ``soc_end = (soc0 + charged -
served) x (1 - loss) ** 24``. Under one flat price nothing is stored (every kWh is heated
directly: storing would only add losses); under a valley price the need moves into the valley
as far as ``C`` and ``P`` allow.

**Who heats electrically.** Each customer draws (its own stream) whether it heats
electrically today (``electric_share``), with a fuel (``fuels``: coal, gas, oil, each a
share), or otherwise (the rest: district heat, none; outside the heating figures). Those
heating electrically today do so in both tariff roles. A customer heating with a fuel
switches to electric heat, in the scenario role only, when over the equipment's life the
switch pays under the scenario tariff (the baseline role is the world without the new
tariff: today's heating):

    S_i = F_i - E_i - K_i a(r_i, L) - O_i > 0

``F_i = U_i H p_f / (k_f eta_f)`` the fuel's annual cost (``H`` the typical year's
heating degree-hours, ``p_f`` the fuel's price per unit, ``k_f`` its kWh per unit, ``eta_f``
the stove's or boiler's efficiency); ``E_i`` the annual cost of the electric heat: the
horizon's electric heating of the customer at the scenario tariff's listed energy prices
(first tier, listed events and real-time prices), by the model itself (heat pump, or storage
heater dispatched day by day), times ``H / H_horizon``; ``K_i`` the equipment's cost,
``a(r, L) = r / (1 - (1 + r) ** -L)`` (``1 / L`` at ``r = 0``) the capital recovery factor
at the customer's discount rate ``r_i`` over the life ``L``; ``O_i`` a non-monetary yearly
cost of switching. Heterogeneity: ``U_i``, ``K_i``, ``r_i`` and ``O_i`` are drawn per
customer (implicit discount rates of households' energy investments vary widely and are high
[2]_ [3]_). ``S_i`` falls as the tariff's prices rise, so the share switching is monotone in
the price. The choice is made once, before the first day, from the horizon's weather and
prices; fixed and demand charges, tiers above the first, and the value of the old stove are
left out.

**Consumer ledger.** A switcher buys the same heat with electricity and equipment instead
of fuel: its utility term in the scenario role is the fuel cost of the day's heat need less
the day's part of the equipment's annuity and of ``O_i`` (weighted by the day's degree-hours
in the typical year's), so that its surplus change is its saving (docs/metrics.md). Those
heating electrically in both roles get the same heat in both: no term.

References
----------
.. [1] O. Ruhnau, L. Hirth and A. Praktiknjo, "Time series of heat demand and heat pump
   efficiency for energy system modeling", Scientific Data 6, 189 (2019), and its When2Heat
   code and inputs (github.com/oruhnau/when2heat: ``input/cop/cop_parameters.csv``, air
   source: 6.0801, -0.0941, 0.0005; ``scripts/cop.py``: ``dT`` clipped at 15 K, sink
   temperatures ``40 - T`` (radiator) and ``30 - 0.5 T`` (floor), correction 0.85).
.. [2] J. A. Hausman, "Individual discount rates and the purchase and utilization of
   energy-using durables", Bell Journal of Economics 10(1), 1979: about 20 % a year for room
   air conditioners (as cited in [3]). H. Ruderman, M. D. Levine and J. E. McMahon, The
   Energy Journal 8(1), 1987: market discount rates of 39 % and above for gas and oil central
   space heaters (as cited in a review's abstract; the paper was not read).
.. [3] A. K. Meier and J. Whittier, "Consumer discount rates implied by purchases of energy
   efficient refrigerators", Energy 8(12), 1983: a distribution of implied discount rates,
   three fifths of buyers above 35 % (abstract and citing summaries read).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ..population.thermal import CLASS_THERMAL, heating_degrees
from .._jit import jit
from ..rowmath import add_rows, numpy_sum
from .registry import CustomerParams, ModelSetup, ResponseDay, ResponseModel, register, writable
from .storage import Store, dispatch_storage

__all__ = ["COP_AIR", "COP_CORRECTION", "FUEL_CODES", "ElectricHeatModel", "annuity_factor", "cop_air_source",
           "heat_pump_kw", "storage_heater_day", "switch_saving"]

#: Spawn-key suffix of the heat draws' own stream (under the block's parameter stream).
HEAT_STREAM = 102

#: When2Heat's air-source COP curve: ``COP = c0 + c1 dT + c2 dT^2`` [1]_.
COP_AIR = (6.0801, -0.0941, 0.0005)
#: When2Heat's correction of the COP curve to field measurements [1]_.
COP_CORRECTION = 0.85
#: The smallest temperature lift the curve is evaluated at (When2Heat clips dT at 15 K). [K]
MIN_LIFT_K = 15.0

#: Heating codes of a customer: electric today, a fuel (coal, gas, oil), or otherwise.
FUEL_CODES = {"electric": 0, "coal": 1, "gas": 2, "oil": 3, "other": -1}


def cop_air_source(temp_c: np.ndarray, sink: str = "radiator") -> np.ndarray:
    """An air-source heat pump's COP at outdoor temperature ``temp_c`` (When2Heat [1]_):
    ``0.85 x (6.0801 - 0.0941 dT + 0.0005 dT^2)``, ``dT = max(T_sink - T, 15)``, ``T_sink =
    40 - T`` (radiator) or ``30 - 0.5 T`` (floor). The quadratic turns up beyond its vertex,
    ``dT = 94.1 K`` (below about -27 degC with radiators); the COP is held at that minimum
    there (an assumption: the curve's data do not reach such lifts). [-]"""
    t = np.asarray(temp_c, dtype=np.float64)
    if sink == "radiator":
        t_sink = 40.0 - t
    elif sink == "floor":
        t_sink = 30.0 - 0.5 * t
    else:
        raise ValueError(f"sink must be 'radiator' or 'floor'; got {sink!r}")
    c0, c1, c2 = COP_AIR
    lift = np.clip(t_sink - t, MIN_LIFT_K, -c1 / (2.0 * c2))
    return COP_CORRECTION * (c0 + c1 * lift + c2 * lift * lift)


def heat_pump_kw(heat_kw: np.ndarray, cop: np.ndarray) -> np.ndarray:
    """A heat pump's electric load, ``heat / COP`` per step (``cop`` (spd,) shared). [kW]"""
    return heat_kw / cop[None, :]


def storage_heater_day(heat_kw: np.ndarray, price: np.ndarray, store: Store, soc_kwh: np.ndarray,
                       step_hours: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One day of storage heaters: (electric load [kW], heat served from the cores [kW],
    state of charge at the day's end [kWh]).

    The heat need is the load of a thermal store (:func:`dispatch_storage`) with
    ``store.thermal_share`` 1 and efficiency 1, charged and served at the role's price: what
    it does not serve is heated directly. Electric load ``= direct + charge``; heat
    delivered ``= direct + served = heat_kw``."""
    direct, charge, soc_end = dispatch_storage(heat_kw, price, price, store, soc_kwh, step_hours)
    return direct + charge, heat_kw - direct, soc_end


def annuity_factor(rate: np.ndarray, years: float) -> np.ndarray:
    """The capital recovery factor ``r / (1 - (1 + r) ** -L)``, ``1 / L`` at ``r = 0``: the
    yearly payment that repays 1 over ``L`` years at the rate ``r``. [1/year]"""
    r = np.asarray(rate, dtype=np.float64)
    safe = np.where(r > 0, r, 1.0)
    # 1 - (1 + r) ** -L, accurate for small r
    return np.where(r > 0, safe / -np.expm1(-years * np.log1p(safe)), 1.0 / years)


def switch_saving(fuel_cost: np.ndarray, electric_cost: np.ndarray, equipment_cost: np.ndarray,
                  rate: np.ndarray, years: float, other_cost: np.ndarray) -> np.ndarray:
    """The yearly saving of switching from a fuel to electric heat, ``S = F - E - K a(r, L) -
    O``; a customer switches where ``S > 0``. [currency/year]"""
    return fuel_cost - electric_cost - equipment_cost * annuity_factor(rate, years) - other_cost


def year_degree_hours(scenario, cal, base_c: float, horizon: float) -> float:
    """The heating degree-hours of a typical year at ``base_c``: a TMY3 file's whole year
    (hourly), or a CSV weather's horizon ``horizon`` (degree-hours) times ``365 / days``
    (a CSV file holds the horizon only). [K h]"""
    from ..calendar import Calendar
    from ..weather import read_weather

    w = scenario.weather
    if w.tmy3 is None:
        return horizon * 365.0 / cal.days
    year = read_weather(w, Calendar(dt.date(2001, 1, 1), 365, 24, frozenset(), {}))
    return float(heating_degrees(year.temp_c, base_c).sum())


def _rows(idx) -> np.ndarray:
    """The segment rows ``idx`` (a slice or an index array) as an index array."""
    return np.arange(idx.start, idx.stop) if isinstance(idx, slice) else np.asarray(idx)


@register
class ElectricHeatModel(ResponseModel):
    """``model: electric_heat``: heat pumps or storage heaters from the weather for the
    customers heating electrically (today's in both roles, the switchers from coal, gas and
    oil in the scenario role); see the module docstring."""

    name = "electric_heat"
    params = ("heat_kwh_per_degree_hour", "equipment_cost", "discount_rate", "other_cost_per_year",
              "capacity_kwh", "charger_kw", "loss_per_hour")
    stage = 36                     # after EV charging (35), before thermal storage (40)
    roles = ("baseline", "scenario")
    stats = ("heat_kwh_baseline", "heat_kwh_scenario", "heat_electric_kwh_baseline", "heat_electric_kwh_scenario",
             "heat_fuel_kwh_baseline", "heat_fuel_kwh_scenario", "heat_heating", "heat_switched",
             "heat_annual_saving", "heat_block_kw_baseline", "heat_block_kw_scenario")

    def __init__(self, settings):
        super().__init__(settings)
        self._block_of = np.zeros(0, dtype=np.int64)
        self._soc: dict = {}
        self._on: dict = {}
        self._chunks: dict = {}
        self._fuel_eff = np.zeros(0)
        self._value_per_dh = np.zeros(0)
        self._base_c = 15.0

    def new_stats(self, n: int, blocks: list, steps: int) -> dict[str, np.ndarray]:
        """Per customer [kWh]: heat delivered electrically ``heat_kwh_<role>``, its electricity
        ``heat_electric_kwh_<role>``, the final energy of fuel heating ``heat_fuel_kwh_<role>``;
        the heating today ``heat_heating`` (:data:`FUEL_CODES`), ``heat_switched`` (1 for a
        switcher) and ``heat_annual_saving`` of a fuel customer [currency/year]; per stream
        block and step ``heat_block_kw_<role>``, the electric heating load [kW]."""
        self._block_of = np.repeat(np.arange(len(blocks)), [b - a for a, b in blocks]) if blocks \
            else np.zeros(0, dtype=np.int64)
        self._soc = {"baseline": np.zeros(n), "scenario": np.zeros(n)}
        out = {k: np.zeros(n) for k in self.stats[:9]}
        out.update({k: np.zeros((len(blocks), steps)) for k in self.stats[9:]})
        return out

    def draw(self, draw_param, rng: np.random.Generator, rows: int) -> dict[str, np.ndarray]:
        """The parameters from a stream of their own (the block's parameter stream's spawn key
        extended by ``HEAT_STREAM``; ``rng`` is not advanced, so no other draw moves), in
        ``params`` order, then ``heating_u`` (uniform: which heating the customer has)."""
        ss = rng.bit_generator.seed_seq
        own = np.random.Generator(np.random.PCG64(
            np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, HEAT_STREAM))))
        out = super().draw(draw_param, own, rows)
        out["heating_u"] = own.random(rows)
        return out

    def heating_codes(self, u: np.ndarray) -> np.ndarray:
        """Each customer's heating today from its uniform draw: electric below
        ``electric_share``, then each fuel's share in the order coal, gas, oil, else other."""
        s = self.settings
        code = np.full(u.shape, FUEL_CODES["other"], dtype=np.int64)
        edge = s.electric_share
        code[u < edge] = FUEL_CODES["electric"]
        for fuel in ("coal", "gas", "oil"):
            f = s.fuels.get(fuel)
            if f is not None:
                code[(u >= edge) & (u < edge + f.share)] = FUEL_CODES[fuel]
                edge += f.share
        return code

    def prepare(self, setup: ModelSetup) -> None:
        """Each customer's heating today and, for those heating with a fuel, the choice to
        switch (module docstring), recorded in ``heat_heating``, ``heat_switched`` and
        ``heat_annual_saving``. Each customer's result rests on its own draws and the shared
        weather and prices alone: the same whatever the shard."""
        pop, s = setup.population, self.settings
        params = pop.params[self.name]
        code = self.heating_codes(params.heating_u)
        self._base_c = (s.balance_temp_c if s.balance_temp_c is not None
                        else CLASS_THERMAL[pop.customer_class].heat_base_c)
        n = code.shape[0]
        self._fuel_eff, per_kwh = np.zeros(n), np.zeros(n)   # per kWh of heat: p_f / (k_f eta_f)
        for fuel, f in s.fuels.items():
            m = code == FUEL_CODES[fuel]
            self._fuel_eff[m] = f.efficiency
            per_kwh[m] = f.price / f.kwh_per_unit / f.efficiency
        switched = np.zeros(n, dtype=bool)
        self._value_per_dh = np.zeros(n)
        rows = np.flatnonzero(self._fuel_eff > 0)
        if rows.size and pop.load.temp_c is not None:
            saving, value = self.choose(setup, rows, per_kwh[rows])
            switched[rows] = saving > 0
            setup.stats["heat_annual_saving"][rows] = saving
            self._value_per_dh[rows] = np.where(saving > 0, value, 0.0)
        setup.stats["heat_heating"][:] = code
        setup.stats["heat_switched"][:] = switched
        electric = code == FUEL_CODES["electric"]
        self._on = {"baseline": electric, "scenario": electric | switched}
        self._chunks = {}

    def choose(self, setup: ModelSetup, rows: np.ndarray, fuel_per_kwh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For the fuel customers ``rows``: the yearly saving of switching ``S`` [currency/year]
        and the value of a degree-hour of switched heating (fuel cost avoided less the
        equipment's annuity and the non-monetary cost, per degree-hour of the typical year)
        [currency/(K h)]. No horizon heating: no saving can be measured, nobody switches."""
        s, cal = self.settings, setup.calendar
        h = cal.step_minutes / 60.0
        params = setup.population.params[self.name]
        deg = heating_degrees(setup.population.load.temp_c, self._base_c)     # (days, spd)
        dh_horizon = float(deg.sum()) * h
        if not dh_horizon > 0:
            return np.full(rows.size, -np.inf), np.zeros(rows.size)
        dh_year = year_degree_hours(setup.scenario, cal, self._base_c, dh_horizon)
        price = setup.tariffs["scenario"][0].price_per_kwh.reshape(cal.days, cal.steps_per_day)
        ua = params.heat_kwh_per_degree_hour[rows]
        electric = self.horizon_cost(setup, rows, deg, price) * (dh_year / dh_horizon)
        fuel = ua * dh_year * fuel_per_kwh
        fixed = (params.equipment_cost[rows] * annuity_factor(params.discount_rate[rows], s.lifetime_years)
                 + params.other_cost_per_year[rows])
        saving = fuel - electric - fixed
        return saving, ua * fuel_per_kwh - fixed / dh_year

    def horizon_cost(self, setup: ModelSetup, rows: np.ndarray, deg: np.ndarray, price: np.ndarray) -> np.ndarray:
        """The cost of customers ``rows``' electric heating over the horizon at the prices
        ``price`` (days, spd), as the model would heat them. [currency]"""
        cal, h = setup.calendar, setup.calendar.step_minutes / 60.0
        params = setup.population.params[self.name]
        ua = params.heat_kwh_per_degree_hour[rows]
        if self.settings.technology == "heat_pump":
            cop = cop_air_source(setup.population.load.temp_c, self.settings.sink)
            return ua * (float((deg / cop * price).sum()) * h)
        store = self.store(params, rows)
        soc, cost = np.zeros(rows.size), np.zeros(rows.size)
        for d in range(cal.days):
            elec, _, soc = storage_heater_day(ua[:, None] * deg[d][None, :], price[d], store, soc, h)
            cost += (elec * price[d][None, :]).sum(axis=1) * h
        return cost

    @staticmethod
    def store(params: CustomerParams, rows: np.ndarray) -> Store:
        """The storage heaters of customers ``rows`` as :func:`dispatch_storage` takes them."""
        k = rows.shape[0]
        return Store(np.ones(k), params.capacity_kwh[rows], params.charger_kw[rows], np.ones(k),
                     params.loss_per_hour[rows])

    def electric_kw(self, heat: np.ndarray, day: ResponseDay, params: CustomerParams, rows: np.ndarray,
                    sub: np.ndarray) -> np.ndarray:
        """The electric load [kW] of the heating of customers ``rows`` (positions ``sub`` among
        the day's), from their heat need ``heat`` [kW]; storage heaters keep their state in a
        committed pass."""
        if self.settings.technology == "heat_pump":
            return heat_pump_kw(heat, cop_air_source(day.weather.temp_c, self.settings.sink))
        price = day.own.price if np.ndim(day.own.price) == 1 else day.own.price[sub]
        soc = self._soc[day.role]
        elec, _, soc_end = storage_heater_day(heat, price, self.store(params, rows), soc[rows], day.step_hours)
        if day.stats is not None:
            soc[rows] = soc_end
        return elec

    def respond(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        return self._respond(load, day, params)[0]

    def respond_with_utility(self, load: np.ndarray, day: ResponseDay,
                             params: CustomerParams) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`respond` and, where it added heating, :meth:`utility` (None otherwise; the
        load is changed in place where another model's output allows it, so identity does
        not tell)."""
        after, changed = self._respond(load, day, params)
        return after, (self.utility(load, after, day, params) if changed else None)

    def _respond(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> tuple[np.ndarray, bool]:
        """The load with the heating added, and whether any was."""
        if day.weather is None or not self._on:
            return load, False
        deg = heating_degrees(day.weather.temp_c, self._base_c)
        if not deg.any() and self.settings.technology == "heat_pump":
            return load, False           # (a storage heater's store still loses heat)
        sub, rows, fuel_rows = self._chunk(day.idx, day.role)
        if day.stats is not None and fuel_rows.size:
            # the final energy of the day's fuel heating: heat need / efficiency [kWh]
            day.stats["heat_fuel_kwh_" + day.role][fuel_rows] += (
                params.heat_kwh_per_degree_hour[fuel_rows] * (float(deg.sum()) * day.step_hours)
                / self._fuel_eff[fuel_rows])
        if not sub.size:
            return load, False
        out = writable(load, day)
        keep = day.stats is not None
        blocks = keep and day.d is not None          # each stream block's electric heating load
        elec_kwh = day.stats["heat_electric_kwh_" + day.role] if keep else None
        heat_kwh = day.stats["heat_kwh_" + day.role] if keep else None
        spd = out.shape[1]
        block_kw = day.stats["heat_block_kw_" + day.role][:, day.d * spd:(day.d + 1) * spd] if blocks else None
        if self.settings.technology == "heat_pump":
            # one compiled pass per customer: heat need, electric load placed, the sums
            cop = cop_air_source(day.weather.temp_c, self.settings.sink)
            _heat_pump_day(np.ascontiguousarray(params.heat_kwh_per_degree_hour[rows]), deg, cop, out, sub,
                           float(day.step_hours), keep, np.zeros(0) if elec_kwh is None else elec_kwh,
                           np.zeros(0) if heat_kwh is None else heat_kwh, rows, blocks, self._block_of,
                           np.zeros((0, 0)) if block_kw is None else block_kw)
            return out, True
        heat = params.heat_kwh_per_degree_hour[rows][:, None] * deg[None, :]
        elec = self.electric_kw(heat, day, params, rows, sub)
        # one pass: the load placed, each customer's electric kWh and each stream block's
        # electric heating load (its rows in row order: the same bits however the blocks are
        # chunked or spread)
        add_rows(elec, day.step_hours, out=out, sub=sub, kwh=elec_kwh, rows=rows,
                 block_of=self._block_of if blocks else None, block_kw=block_kw)
        if keep:
            add_rows(heat, day.step_hours, kwh=heat_kwh, rows=rows)
        return out, True

    def _chunk(self, idx, role: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Among the customers ``idx``: those heating electrically in ``role`` (positions in
        ``idx``, segment rows) and those heating with a fuel there (segment rows); kept for a
        chunk of consecutive customers (who heats how is settled before the first day)."""
        key = (idx.start, idx.stop, role) if isinstance(idx, slice) else None
        found = self._chunks.get(key) if key is not None else None
        if found is None:
            rows_all = _rows(idx)
            on = self._on[role][rows_all]
            sub = np.flatnonzero(on)
            found = (sub, rows_all[sub], rows_all[(self._fuel_eff[rows_all] > 0) & ~on])
            if key is not None:
                self._chunks[key] = found
        return found

    def utility(self, before: np.ndarray, after: np.ndarray, day: ResponseDay, params: CustomerParams):
        """Scenario role: each switcher's fuel cost of the day's heat need less the day's part
        of its annuity and non-monetary cost (``value per degree-hour x the day's
        degree-hours``); 0 for the others. Baseline role: None (today's heating)."""
        if day.role != "scenario":
            return None
        dh_day = float(heating_degrees(day.weather.temp_c, self._base_c).sum()) * day.step_hours
        return self._value_per_dh[_rows(day.idx)] * dh_day


@jit
def _heat_pump_day(ua, deg, cop, out, sub, h, keep, elec_kwh, heat_kwh, rows, blocks, block_of, block_kw):
    """Heat pumps' day, one customer after another, in the order and bits of the numpy
    expressions: ``heat = ua_i deg_t``, ``elec = heat / cop_t``, ``out[sub_i] += elec``;
    with ``keep`` ``elec_kwh`` and ``heat_kwh`` of row ``rows_i`` add ``numpy_sum(row) h``;
    with ``blocks`` each stream block's electric load (its rows summed from 0.0 in row
    order, as :func:`sim.rowmath.add_rows`) is added to ``block_kw[b]`` (the day's columns)."""
    k = sub.shape[0]
    spd = deg.shape[0]
    heat = np.empty(spd)
    elec = np.empty(spd)
    acc = np.zeros(spd)
    for i in range(k):
        r = sub[i]
        for t in range(spd):
            heat[t] = ua[i] * deg[t]
            elec[t] = heat[t] / cop[t]
            out[r, t] = out[r, t] + elec[t]
        if keep:
            elec_kwh[rows[i]] = elec_kwh[rows[i]] + numpy_sum(elec) * h
            heat_kwh[rows[i]] = heat_kwh[rows[i]] + numpy_sum(heat) * h
        if blocks:
            b = block_of[rows[i]]
            for t in range(spd):
                acc[t] += elec[t]
            if i == k - 1 or block_of[rows[i + 1]] != b:
                for t in range(spd):
                    block_kw[b, t] = block_kw[b, t] + acc[t]
                    acc[t] = 0.0
