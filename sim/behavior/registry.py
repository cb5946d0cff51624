"""The behaviour model registry: what a response model declares, and the models the
pipeline loops over.

A response model is a class derived from :class:`ResponseModel`, registered with
:func:`register`. It declares

* ``name``: the ``model:`` value that selects it in a scenario's ``behavior``;
* ``params``: its per-customer parameters, fields of its scenario settings whose values
  may be distributions; every model's are drawn through one mechanism
  (:meth:`ResponseModel.draw`, each from the customer's stream block, in the order the
  segment lists its models) into a :class:`CustomerParams` record;
* ``stage`` and ``roles``: where it acts in the day's chain and in which tariff roles;
* ``respond(load, day, params)``: the customers' load after its response, from the load
  before it, the day's prices and facts (:class:`ResponseDay`) and its parameters;
* ``utility(before, after, day, params)``: the change of each customer's gross utility of
  consumption, in money, that its response caused (the consumer ledger's utility side:
  consumer surplus change = utility change - bill change, docs/metrics.md). Every model
  defines it (:func:`register` refuses one that does not), in its own module; a model whose
  response leaves consumption as it was (storage) returns None.
  :meth:`ResponseModel.respond_with_utility` gives both; a model that can compute its
  utility term in the same pass as its response overrides it.

:func:`sim.behavior.pipeline.respond` applies a segment's models in stage order; the engine
knows no model by name. Built-in models register in their own modules, listed in
:mod:`sim.behavior.models`. docs/architecture.md has the recipe for a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

__all__ = ["CustomerParams", "ModelSetup", "ResponseDay", "ResponseModel", "model_for", "register", "registered", "unregister",
           "writable"]


class CustomerParams:
    """A model's per-customer parameters, one (n,) array per name, read as attributes
    (``params.share``) or items (``params["share"]``)."""

    __slots__ = ("_arrays",)

    def __init__(self, arrays: dict[str, np.ndarray]):
        object.__setattr__(self, "_arrays", dict(arrays))

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self._arrays[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> np.ndarray:
        return self._arrays[name]

    def __contains__(self, name: str) -> bool:
        return name in self._arrays

    def names(self) -> tuple[str, ...]:
        return tuple(self._arrays)

    def __repr__(self) -> str:
        return f"CustomerParams({', '.join(self._arrays)})"


@dataclass
class ResponseDay:
    """One tariff role's day for some customers of a segment, as every model sees it.

    Attributes
    ----------
    role : 'baseline' or 'scenario'
    base, own : PriceDay
        The baseline role's and this role's prices and tariff facts.
    groups : PriceGroups
        The distinct rows of per-customer prices, found once for all the models.
    strength : ndarray, shape (n,)
        Today's response strength of each customer (awareness, technology, learning, and in
        the scenario role event fatigue).
    fatigue : float
        Today's event-fatigue factor (scenario role; 1 in the baseline role).
    step_hours : float
    idx : slice or ndarray of int
        The customers' rows in their segment (index every per-customer array with it).
    mean_kw : ndarray, shape (segment customers,)
        Each customer's mean load (index with ``idx``). [kW]
    month_peak_kw : ndarray, shape (n,), or None
        Each customer's baseline peak of the month so far, today included (given where a
        model of the segment declares ``needs_month_peak``). [kW]
    stats : dict, or None
        Running per-customer sums over the horizon, indexed by segment row (``utility_<role>``,
        and in the scenario role ``interruptible_requested_kwh``, ``interruptible_delivered_kwh``);
        None in a trial pass (the real-time price fixed point): nothing is then kept.
    soc : dict model name -> ndarray, shape (n,), or None
        Each storage model's state of charge at the start of the day, under its own name
        (``stores_energy``; copies the model may change: what it leaves is kept). [kWh]
    charge : (rows, ndarray), or None
        Load metered apart: a storage model's charging, and a separately metered EV charger
        (``ev`` with ``meter: separate``), billed on the storage meter where the tariff has
        one (else added to the main meter); :meth:`add_charge` adds to it. [kW]
    input_kw : ndarray, shape (n, spd)
        The load before any model of the day responded. [kW]
    weather : sim.weather.DayWeather, or None
        The day's outdoor temperature and the segment's temperature-dependent load per kW of
        mean load (a scenario with weather; a measured profile's parts are 0, its load holds
        them); None otherwise.
    d : int, or None
        The day's index in the horizon (its steps are ``d x spd`` to ``(d + 1) x spd``);
        None where the caller has no horizon (a test's single day).
    thermal_kept : ndarray, shape (n, spd), or None
        Set by ``event_response`` where it split the load by temperature: the share of each
        step's temperature-dependent load the customers kept (1 outside events), so that a
        device (``controllable_load``) controls what was not already turned off by hand;
        None otherwise.
    """

    role: str
    base: object
    own: object
    groups: object
    strength: np.ndarray
    fatigue: float
    step_hours: float
    idx: object
    mean_kw: np.ndarray
    month_peak_kw: np.ndarray | None
    stats: dict | None
    soc: dict | None
    input_kw: np.ndarray
    charge: tuple | None = None
    weather: object = None
    d: int | None = None
    thermal_kept: np.ndarray | None = None

    def add_charge(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Add load metered apart for the customers at positions ``rows`` (ascending) among
        the day's: :attr:`charge` becomes the union of the rows, their loads added (a row
        that only one model sets keeps its values unchanged)."""
        if self.charge is None:
            self.charge = (rows, values)
            return
        old_rows, old = self.charge
        both = np.union1d(old_rows, rows)
        out = np.zeros((len(both), values.shape[1]))
        out[np.searchsorted(both, old_rows)] += old
        out[np.searchsorted(both, rows)] += values
        self.charge = (both, out)


def writable(load: np.ndarray, day: ResponseDay) -> np.ndarray:
    """``load`` itself when a model may change it in place (another model's output of the
    day), else a copy: the day's input (``day.input_kw``, or anything sharing its memory) is
    read again by other roles and models and is never written. Changing a block in place
    rather than copying it for a few customers' rows is the same arithmetic, the same bits."""
    return load.copy() if load is day.input_kw or np.may_share_memory(load, day.input_kw) else load


@dataclass(frozen=True)
class ModelSetup:
    """What a model may read once, before the first day (:meth:`ResponseModel.prepare`).

    Attributes
    ----------
    population : SegmentPopulation
        The segment's customers held here (their drawn parameters in ``params``).
    tariffs : dict role -> tuple of CompiledTariff
        The tariff of each role (or its menu), frozen arrays over the horizon.
    calendar : sim.calendar.Calendar
    scenario : Scenario
    stats : dict
        The segment's running sums as :meth:`ResponseModel.new_stats` made them (a model may
        record its own once-for-the-run figures in its own).
    """

    population: object
    tariffs: dict
    calendar: object
    scenario: object
    stats: dict


class ResponseModel:
    """A behaviour model. Subclasses set the class attributes and define :meth:`respond`.

    An instance holds one segment's settings (its entry in the scenario's ``behavior``).
    """

    #: The ``model:`` value that selects it in a scenario.
    name: ClassVar[str]
    #: Per-customer parameters: fields of the settings, drawn in this order.
    params: ClassVar[tuple[str, ...]] = ()
    #: Place in the day's chain (lower first): energy-price models 10, event response 12, demand shaving 20,
    #: controllable loads 25, flexible loads 30, EV charging 35, electric heat 36, thermal storage 40,
    #: rooftop PV 50 (interruptible curtailment, a tariff programme, always comes last).
    stage: ClassVar[int] = 50
    #: The tariff roles it acts in.
    roles: ClassVar[tuple[str, ...]] = ("scenario",)
    #: Needs ``ResponseDay.month_peak_kw``.
    needs_month_peak: ClassVar[bool] = False
    #: Keeps a state of charge from day to day (``ResponseDay.soc[name]``).
    stores_energy: ClassVar[bool] = False
    #: Its parameters are drawn with the customer's basics (size, shift), before any other
    #: model's: the place the first energy-price model's draws have always had in a stream
    #: block, kept so that every seed gives the same customers.
    early_draw: ClassVar[bool] = False
    #: Answers the day's critical-peak and peak-time-rebate events itself: the segment's
    #: other models then see the day's prices without the events' part
    #: (:meth:`sim.behavior.prices.PriceDay.without_events`).
    handles_events: ClassVar[bool] = False
    #: Sees the day's event prices even where another model answers the events for the
    #: price-responsive load (a device dispatched on the event signal, which acts on the load
    #: it controls and nothing else).
    sees_events: ClassVar[bool] = False
    #: Per-customer running sums it keeps in ``ResponseDay.stats`` (names, each an (n,)
    #: array of zeros at the start, in the run's ``SegmentOutcome.stats``).
    stats: ClassVar[tuple[str, ...]] = ()
    #: Reads each customer's final main-meter load of every billed day (:meth:`observe`).
    observes_meter: ClassVar[bool] = False
    #: Generates behind the meter (rooftop PV): its customers' gross load, the final
    #: main-meter load plus their generation, is billed too (:meth:`generators`,
    #: :meth:`gross_load`; :func:`sim.prosumers.cost_shift`).
    generates: ClassVar[bool] = False

    def __init__(self, settings):
        self.settings = settings

    def read_inputs(self, weather, calendar) -> None:
        """Called once before the first day (and before any customer is built, so that bad
        input stops the run first), with the run's weather
        (:class:`sim.weather.RunWeather`, or None without one) and calendar: a model that
        needs either keeps what it needs (rooftop PV: its output profiles). The base does
        nothing."""

    def observe(self, role: str, rows: slice, load: np.ndarray, params: CustomerParams, stats: dict,
                step_hours: float) -> None:
        """With ``observes_meter``: on each billed day, the final main-meter load of the
        customers ``rows`` (a chunk, rows of the segment; ``params`` the model's parameters)
        in ``role``, shape (n, spd) [kW],
        after every model, curtailment and storage charging metered on the main meter: a
        model keeps its sums of it in ``stats`` (never changes ``load``)."""

    def generators(self, n: int, params: CustomerParams) -> np.ndarray:
        """With ``generates``: the rows (of the ``n`` customers of the segment held) with a
        generator, sorted."""
        raise NotImplementedError

    def gross_load(self, rows: slice, d: int, load: np.ndarray, params: CustomerParams,
                   step_hours: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """With ``generates``: the customers with a generator among ``rows`` (a chunk), as
        positions in ``rows``, in order, and their gross load of day ``d``: their rows of
        ``load`` (the final main-meter load of the chunk) plus their generation, shape
        (generators in rows, spd). [kW] The engine calls it before :meth:`observe` of the
        same load, with the step length (``step_hours``), so that a model may read what it
        observes in the same pass."""
        raise NotImplementedError

    def new_stats(self, n: int, blocks: list, steps: int) -> dict[str, np.ndarray]:
        """The running sums of :attr:`stats` at the start of a run, for ``n`` customers in
        stream ``blocks`` ((start, stop) rows each) over ``steps`` steps: an (n,) array of
        zeros each (a model
        that keeps sums per stream block and step overrides this; the shards' arrays are
        joined along the first axis, in block order)."""
        return {k: np.zeros(n) for k in self.stats}

    def prepare(self, setup: ModelSetup) -> None:
        """Once per segment and shard, before the first day: what the model decides for the
        whole run from the horizon's inputs (an adoption choice). Nothing by default; it
        must give each customer the same result whatever the shard or chunk holding it."""
        return None

    def draw(self, draw_param, rng: np.random.Generator, rows: int) -> dict[str, np.ndarray]:
        """This model's per-customer parameters for ``rows`` customers of a stream block,
        from its stream ``rng``: ``draw_param(setting, rng, rows)`` for each of ``params``
        in order (a model with draws of its own appends them after)."""
        return {name: draw_param(getattr(self.settings, name), rng, rows) for name in self.params}

    def respond(self, load: np.ndarray, day: ResponseDay, params: CustomerParams) -> np.ndarray:
        """The customers' load after this model's response. [kW]

        ``load`` (n, spd) is the load after the models before it; return it unchanged (the
        same array) when the model does nothing today, or a new array; never write into
        ``load`` when it is ``day.input_kw``."""
        raise NotImplementedError

    def utility(self, before: np.ndarray, after: np.ndarray, day: ResponseDay,
                params: CustomerParams) -> np.ndarray | None:
        """Change of each customer's gross utility of consumption over the day caused by this
        model's response, in money: ``V(after) - V(before)``, shape (n,). [currency]

        ``before`` is the load the model was given, ``after`` the load it returned (a new
        array: the pipeline calls this only when the model returned another array than it
        was given). The money metric is the model's own (quasi-linear utility: docs/metrics.md,
        "Consumer ledger"); None means consumption is unchanged (a store that serves the
        same heat or cold at another time: its losses are in the bill)."""
        raise NotImplementedError

    def respond_with_utility(self, load: np.ndarray, day: ResponseDay,
                             params: CustomerParams) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`respond` and :meth:`utility` of its result: (load [kW], utility change
        [currency] or None). None also where the model returned its input unchanged."""
        after = self.respond(load, day, params)
        if after is load:
            return after, None
        return after, self.utility(load, after, day, params)


_REGISTRY: dict[str, type[ResponseModel]] = {}


def register(cls: type[ResponseModel]) -> type[ResponseModel]:
    """Register a response model class (usable as a class decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, ResponseModel)):
        raise TypeError(f"{cls!r} is not a ResponseModel")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__name__} declares no model name")
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"a model named {name!r} is already registered ({_REGISTRY[name].__name__})")
    if cls.respond is ResponseModel.respond:
        raise TypeError(f"{cls.__name__} defines no respond()")
    if cls.utility is ResponseModel.utility:
        raise TypeError(f"{cls.__name__} defines no utility(): every model states the change of its customers' "
                        "utility of consumption (None where consumption is unchanged)")
    _REGISTRY[name] = cls
    return cls


def unregister(name: str) -> None:
    """Remove a registered model (tests)."""
    _REGISTRY.pop(name, None)


def registered() -> dict[str, type[ResponseModel]]:
    """The registered models by name (the built-in ones register as ``sim.behavior``, the
    package, imports :mod:`sim.behavior.models`)."""
    return dict(_REGISTRY)


def model_for(settings) -> ResponseModel:
    """The registered model a segment's settings select, bound to them."""
    cls = registered().get(settings.model)
    if cls is None:
        raise ValueError(f"no behaviour model {settings.model!r} is registered")
    return cls(settings)
