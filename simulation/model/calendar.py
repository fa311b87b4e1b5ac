"""Phases 1 and 2: what changes with the date. Term or holiday, the year-end roll-over, and the
live parameters and interventions of the year (an intervention that ends leaves nothing behind,
because ``p`` is rebuilt from the scenario every year)."""

from __future__ import annotations

import numpy as np

from . import drivers, schools
from . import timeline as tl
from .modifiers import Modifiers
from .moves import choose_schools, move, refill, refresh_constants, refresh_school_traits, school_rolls, sen_changes
from .population import needs_special_school
from .state import Phase, Reason, Status
from .world import World

_YEARLY_COUNTERS = (
    "sessions_possible",
    "sessions_missed",
    "autumn_possible",
    "autumn_missed",
    "half_term_missed",
    "weeks_out",
)


def start_week(w: World) -> None:
    was_term = w.is_term
    w.is_term = tl.is_term(w.t_week)
    if was_term and not w.is_term:
        w.pupils.unmet_need[:] = 0.0  # no school, no unmet school need in the holidays


def calendar(w: World) -> None:
    if w.week == 0 and w.t_week > 0:
        roll_over(w)
    if w.week == 0:
        pu = w.pupils
        if w.t_week > 0:  # last year's absence, for statistics defined on the year before an exit
            possible = pu.sessions_possible
            pu.prior_year_absence[:] = np.where(
                possible >= 1, pu.sessions_missed / np.maximum(possible, 1.0), np.float32(-1.0)
            )
        for name in _YEARLY_COUNTERS:
            pu.columns[name][:] = 0
        pu.suspensions[:] = 0


def roll_over(w: World) -> None:
    pu = w.pupils
    rng = w.streams["cohort"].generator(w.year_index)
    leavers = (pu.year_group == 11).nonzero()[0]
    w.log.record(w, 0, leavers, to=int(Status.LEFT), true=int(Reason.AGED_OUT), recorded=int(Reason.AGED_OUT))
    pu.year_group[:] += 1
    # Y6 -> Y7: mainstream pupils move to their primary's feeder secondary.
    to_secondary = ((pu.year_group == 7) & (pu.status == Status.ON_ROLL)).nonzero()[0]
    pu.school[to_secondary] = w.schools.feeder[pu.school[to_secondary]]
    refill(w, leavers, np.zeros(len(leavers), dtype=np.int8), rng, new_family_share=0.65)
    pu.status[leavers] = Status.LEFT
    w.rolls = school_rolls(w)
    school = choose_schools(w, leavers, rng.random(len(leavers)))
    move(w, leavers, Status.ON_ROLL, Reason.STARTED_SCHOOL, Reason.STARTED_SCHOOL, school=school)
    # Reception children whose plan names a special school wait for a place (filled in phase 8).
    pu.wants_special[leavers] = needs_special_school(w.spec, pu.sen[leavers], pu.need_intensity[leavers], rng)
    refresh_school_traits(w)
    sen_changes(w, rng)
    w.family_pool = np.zeros(0, dtype=np.int32)
    trend = 1.0 + w.p["support_trend"]
    w.schools.support_hours[w.schools.phase != Phase.SPECIAL] *= trend
    schools.new_year(w)


def apply_interventions(w: World) -> None:
    if w.week == 0:
        w.p = dict(w.p_base)
        year = w.academic_year
        drivers.apply(w.p, year)
        w.funding_index = drivers.value(drivers.FUNDING, year)
        w.draw_spec = drivers.prevalence_spec(w.spec, year)
        active = [(iv, iv.strength(w.eval_year)) for iv in w.scenario.interventions]
        w.active_interventions = [(iv, s) for iv, s in active if s > 0]
        for iv, strength in w.active_interventions:
            iv.adjust(w.p, strength)
        refresh_constants(w)
        w.schools.fines_first[:] = w.schools.policy_draw < w.p["fines_first_share"]
    w.modifiers = Modifiers(len(w.pupils))
    for iv, strength in w.active_interventions:
        iv.apply(w, strength)
