"""A new run's state: the synthetic population, personal traits, schools and random streams.

A scenario is anything with the attributes read here (``params(seed)``, ``population``,
``scale``, ``burn_in``) and ``interventions``: the model never imports the policy layer that
defines it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from . import drivers, schools
from . import timeline as tl
from .dynamics.clocks import ClockBank
from .dynamics.queues import DueCalendar
from .modifiers import Modifiers
from .moves import ehe_reason, refresh_school_traits, school_rolls, set_personal_traits
from .observe import EventLog, Observer
from .population import build_population
from .rng import Streams
from .state import Phase, Reason, Route, Status
from .world import LAState, World

CLOCKS = (
    "bullying",
    "illness",
    "suspension",
    "exclusion",
    "offroll",
    "ehcp_request",
    "ehe",
    "ehe_monitor",
    "ehe_return",
    "cme_trace",
    "s19_return",
    "ap_return",
    "complaint",
    "work",
    "move",
    "holiday",
    "directed_ap",
)


def new_world(scenario: Any, seed: int, *, record_events: bool = False) -> World:
    """The state at week 0, before any step. Same (scenario, seed), same world, bit for bit."""
    w = World()
    w.scenario = scenario
    w.p_base = scenario.params(seed)
    w.p = dict(w.p_base)
    w.streams = Streams(seed)
    w.record_events = record_events
    first_year = scenario.population.start_year - scenario.burn_in  # the spin-up's first year
    start = drivers.prevalence_spec(scenario.population, first_year)
    pop = build_population(start, w.streams["population"].generator(0), scenario.scale)
    w.spec = dataclasses.replace(pop.spec, **{f: getattr(scenario.population, f) for f in drivers.PREVALENCE.values()})
    w.weight = pop.weight
    w.draw_spec = pop.spec
    w.funding_index = drivers.value(drivers.FUNDING, first_year)
    w.pupils, w.families, w.schools = pop.pupils, pop.families, pop.schools
    w.school_ids = {ph: (w.schools.phase == ph).nonzero()[0] for ph in Phase}
    w.t_week = 0
    w.is_term = False
    w.burn_in_weeks = scenario.burn_in * tl.WEEKS_PER_YEAR
    w.modifiers = Modifiers()
    w.active_interventions = []
    w.intervention_state = {}
    w.need_idx = np.zeros(0, dtype=np.intp)
    n = len(w.pupils)
    set_personal_traits(w, np.arange(n), w.streams["traits"].generator(0))
    w.clock_bank = ClockBank({name: w.streams[name] for name in CLOCKS}, w.pupils.uid)
    w.clocks = w.clock_bank.clocks
    w.calendars = {"camhs": DueCalendar(), "complaint": DueCalendar()}
    schools.initialise(w, w.streams["schools"].generator(0))
    w.rolls = school_rolls(w)
    refresh_school_traits(w)
    _starting_ehe_reasons(w)
    w.la = LAState(w)
    w.log = EventLog()
    w.observer = Observer()
    w.inspections = []
    w.family_pool = np.zeros(0, dtype=np.int32)
    return w


def _starting_ehe_reasons(w: World) -> None:
    """Reasons for the starting home-education stock, as its routes would give them (the spin-up
    replaces this stock with the model's own)."""
    pu = w.pupils
    ehe = (pu.status == Status.EHE).nonzero()[0]
    for route, true in ((Route.GENUINE, Reason.GENUINE_EHE), (Route.NO_CHOICE, Reason.NO_CHOICE_EHE),
                        (Route.COERCED, Reason.COERCED_EHE)):  # fmt: skip
        idx = ehe[pu.ehe_route[ehe] == route]
        pu.ehe_reason[idx] = ehe_reason(w, idx, true)
