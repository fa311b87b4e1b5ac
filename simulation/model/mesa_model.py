"""The Mesa model: one local authority, stepped one school week at a time.

The state is a :class:`~simulation.model.world.World` and the phases are functions over it;
this class is what Mesa users and Mesa's tools see: ``step()``, ``run_for``, agents as views
onto the arrays, and a DataCollector of weekly counts.
"""

from __future__ import annotations

import numpy as np

from . import calendar, la, observe, pupil_phases, schools
from . import timeline as tl
from .agents import Family, LocalAuthority, Pupil, School
from .build import new_world
from .mesa_core import mesa
from .state import Status
from .world import World


class WeeklyCounts(mesa.DataCollector):
    """The model's DataCollector: children by status and in school distress, one row per step.

    Burn-in weeks have rows too, with ``burn_in`` True: a Mesa user who steps a fresh model sees
    its state at once (burn-in is most of a default run). The ``weeks`` table, and anything else
    that reports results, keeps evaluation weeks only: filter on ``~burn_in`` for the same rows.

    The observer counts anyway, so it hands the counts over (:meth:`record_week`) instead of
    Mesa's ``collect`` calling a reporter per column and deep-copying each value every week. The
    reporters stay: ``collect(model)`` gives the same row, and ``model_reporters`` documents them."""

    def __init__(self):
        reporters = {
            name.lower(): (lambda m, code=code: int(m.observer.status_counts[code])) for name, code in Status.items()
        }
        reporters["in_distress"] = lambda m: int(np.count_nonzero(m.pupils.distress))
        reporters["burn_in"] = lambda m: bool(m.t_week - 1 < m.burn_in_weeks)  # of the week last stepped
        super().__init__(model_reporters=reporters)
        self._columns = [self.model_vars[name.lower()] for name, _ in Status.items()]
        self._distress = self.model_vars["in_distress"]
        self._burn_in = self.model_vars["burn_in"]

    def record_week(self, counts: np.ndarray, distress: int, burn_in: bool = False) -> None:
        """Append this week's row, as ``collect`` would."""
        for column, count in zip(self._columns, counts.tolist(), strict=True):
            column.append(int(count))
        self._distress.append(int(distress))
        self._burn_in.append(bool(burn_in))


class SchoolExitModel(mesa.Model):
    """A local authority's children, families, schools and LA, one week per step.

    The weekly step, in this order (each phase is a function over the run's
    :class:`~simulation.model.world.World`, composed in :meth:`step`):

    1. Calendar: term or holiday; in the first autumn week the year-end roll-over
       (Y11 leave, a new Reception cohort joins, SEN identified, budgets updated). ``calendar``
    2. Interventions whose time has come adjust the live parameters (start of year) and act
       on the arrays (every week); they may set ``modifiers`` the later phases read this week.
       ``calendar.apply_interventions``
    3. Support allocation: schools ration support hours, plans first; unmet need per pupil.
       ``pupil_phases``
    4. Stress: leaky accumulator of unmet need, mismatch, transition and incidents;
       CAMHS referral, wait and treatment. ``pupil_phases``, ``la.camhs``
    5. Attendance: a steady share, random illness spells, more with stress; school distress
       with hysteresis. ``pupil_phases``
    6. School responses: fines or support at half-term reviews; suspensions and
       permanent exclusions. ``schools``
    7. Off-rolling: pressure on high-cost pupils, its form, and family compliance. ``schools``
    8. EHCP process: requests, decisions, appeals, tribunal, assessment queue, plans, placement.
       ``la``
    9. Family decisions: exits to home education (genuine or no choice). ``pupil_phases``
    10. LA processes: moves and arrivals, EHE monitoring and returns, CME tracing,
        Section 19, AP, school places, complaints and the Ombudsman, parents leaving work.
        ``la.duties``
    11. Ofsted scrutiny (end of the summer term): schools with outlying Y10-Y11 losses.
        ``schools.ofsted``
    12. Observation: weekly counts, census snapshots, the year's statistics. ``observe``

    Every attribute of the world is also an attribute of the model (``model.pupils`` is
    ``model.world.pupils``), so Mesa users and the interventions see one state.
    """

    def __init__(self, scenario, seed: int = 0, *, record_events: bool = False):
        super().__init__(seed=seed)
        if scenario is None:
            raise TypeError("SchoolExitModel needs a scenario: SchoolExitModel(load_scenario(path), seed=1)")
        self.world = new_world(scenario, seed, record_events=record_events)
        self.la = LocalAuthority(self)
        self._school_agents = [School(self, j) for j in range(len(self.schools))]
        self._views_built = False
        self.datacollector = WeeklyCounts()  # one row per step, burn-in flagged (phase 12)

    def step(self) -> None:
        w = self.world
        calendar.start_week(w)
        calendar.calendar(w)
        calendar.apply_interventions(w)
        if w.is_term:
            pupil_phases.allocate_support(w)
        pupil_phases.update_stress(w)
        if w.is_term:
            pupil_phases.attendance(w)
            schools.responses(w)
            schools.offrolling(w)
        la.ehcp_process(w)
        pupil_phases.family_decisions(w)
        la.duties(w)
        if w.week == tl.HALF_TERMS[-1][1]:
            schools.ofsted(w)
        counts, distress = observe.observe(w)
        self.datacollector.record_week(counts, distress, w.t_week < w.burn_in_weeks)
        w.t_week += 1

    def run_for(self, weeks: int) -> None:
        for _ in range(weeks):
            self.step()

    # --- Mesa views -------------------------------------------------------------------------
    @property
    def agents(self):
        self._build_views()
        return super().agents

    @property
    def agents_by_type(self):
        self._build_views()
        return super().agents_by_type

    def _build_views(self) -> None:
        """Pupil and Family agents are created on first use: 100,000 Mesa objects cost ~0.5 s
        that sweeps never need. They are views, so they stay current as the arrays change;
        when a slot takes a new child or a family row is reused, its view is replaced."""
        if not self._views_built:
            self._views_built = True
            self._pupil_views = [Pupil(self, i) for i in range(len(self.pupils))]
            self._pupil_view_uid = self.pupils.uid.copy()
            self._family_views: dict[int, Family] = {}
        changed = (self._pupil_view_uid != self.pupils.uid).nonzero()[0]
        for slot in changed:
            self._pupil_views[slot].remove()
            self._pupil_views[slot] = Pupil(self, int(slot))
        self._pupil_view_uid[changed] = self.pupils.uid[changed]
        used = set(np.unique(self.pupils.family).tolist())
        for row in [r for r in self._family_views if r not in used]:
            self._family_views.pop(row).remove()
        for row in used - self._family_views.keys():
            self._family_views[row] = Family(self, row)

    def pupil(self, slot: int) -> Pupil:
        self._build_views()
        return self._pupil_views[slot]


def _forward(name: str) -> property:
    """``model.<name>`` reads and writes ``model.world.<name>``, so Mesa users, interventions and
    tests see one state."""

    def get(self):
        return getattr(self.world, name)

    def set_(self, value):
        setattr(self.world, name, value)

    return property(get, set_, doc=f"``world.{name}``: see :class:`~simulation.model.world.World`")


for _name in (*World.__slots__, "week", "year_index", "eval_year", "academic_year", "take_free_families"):
    if _name != "la":  # ``model.la`` is the Mesa agent, a view onto ``world.la``
        setattr(SchoolExitModel, _name, _forward(_name))
