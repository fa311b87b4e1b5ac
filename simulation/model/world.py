"""One local authority's run as plain state: the arrays, the live parameters, the clock.

The weekly phases take a :class:`World` and nothing else, so they can be read, tested and
(later) compiled without Mesa; :func:`simulation.model.build.new_world` fills one, and
:class:`~simulation.model.mesa_model.SchoolExitModel` composes the phases over it. This module
imports no phase, so every phase may import it.
"""

from __future__ import annotations

import numpy as np

from . import timeline as tl
from .state import Status


class LAState:
    """The local authority's capacities and carried-over state; its duties run in :mod:`.la`."""

    __slots__ = ("assessment_carry", "initial_special_roll", "world")

    def __init__(self, world: World):
        self.world = world
        self.initial_special_roll = int((world.pupils.status == Status.SPECIAL).sum())
        self.assessment_carry = 0.0

    @property
    def special_places(self) -> int:
        return round(self.initial_special_roll * self.world.p["special_places_ratio"])

    @property
    def ap_places(self) -> int:
        return max(1, round(len(self.world.pupils) * self.world.p["ap_places_per_1000"] / 1000))

    def assessments_per_week(self) -> float:
        return self.world.p["assessment_capacity"] * len(self.world.pupils) / 10_000


class World:
    """Everything a run holds. Declared in one place (``__slots__``) so a reader sees the whole
    state, and so a phase that invents a new attribute fails instead of hiding state."""

    __slots__ = (
        "active_interventions",  # (intervention, strength) acting this year (phase 2)
        "burn_in_weeks",
        "calendars",  # who is due in which week, for the LA processes with a due-week column
        "clock_bank",
        "clocks",
        "draw_spec",  # the population spec with this year's SEN prevalence, for new children (drivers)
        "families",
        "family_pool",  # family rows with no children, refreshed when it runs low
        "funding_index",  # real school funding this year against 2023/24 (drivers)
        "inspections",  # (year, school, off-rolling found)
        "intervention_state",  # each intervention's own ledger, by intervention
        "is_term",
        "la",
        "log",
        "modifiers",  # per-pupil multipliers set by interventions; reset every week (phase 2)
        "need_idx",  # pupils in school with a latent need, recorded or not, in slot order (phase 3, read in 4)
        "observer",
        "p",  # live parameters: the scenario's, moved by this year's interventions
        "p_base",
        "pupils",
        "record_events",
        "rolls",
        "scenario",
        "school_ids",
        "schools",
        "spec",
        "streams",
        "t_week",
        "weight",
    )

    # --- time ---------------------------------------------------------------------------------
    @property
    def week(self) -> int:
        return tl.week_of_year(self.t_week)

    @property
    def year_index(self) -> int:
        return self.t_week // tl.WEEKS_PER_YEAR

    @property
    def eval_year(self) -> int:
        return self.year_index - self.scenario.burn_in

    @property
    def academic_year(self) -> int:
        return self.spec.start_year + self.eval_year

    # --- families ----------------------------------------------------------------------------
    def take_free_families(self, n: int) -> np.ndarray:
        """``n`` family rows with no children. The pool is refreshed when it runs low."""
        if len(self.family_pool) < n:
            used = np.zeros(len(self.families), dtype=bool)
            used[self.pupils.family] = True
            self.family_pool = (~used).nonzero()[0].astype(np.int32)
            if len(self.family_pool) < n:  # cannot happen: one row per pupil slot
                raise RuntimeError("family table full")
        taken, self.family_pool = self.family_pool[:n], self.family_pool[n:]
        return taken
