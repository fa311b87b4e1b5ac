"""The Mesa model: one local authority, stepped one school week at a time."""

from __future__ import annotations

import numpy as np

from simulation.policy.scenario import Scenario

from . import la, schools
from . import timeline as tl
from .agents import Family, LocalAuthority, Pupil, School
from .dynamics import hazards, support, wellbeing
from .dynamics.clocks import ClockBank
from .dynamics.queues import DueCalendar
from .mesa_core import mesa
from .modifiers import Modifiers
from .moves import (
    choose_schools,
    move,
    refill,
    refresh_constants,
    refresh_school_traits,
    school_rolls,
    sen_changes,
    set_personal_traits,
)
from .observe import EventLog, Observer, WeeklyCounts
from .population import build_population, needs_special_school
from .rng import Streams
from .state import SEN, Phase, Reason, Route, Status

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
)


class SchoolExitModel(mesa.Model):
    """A local authority's children, families, schools and LA, one week per step.

    The weekly step, in this order (each phase is one method below):

    1. Calendar: term or holiday; in the first autumn week the year-end roll-over
       (Y11 leave, a new Reception cohort joins, SEN identified, budgets updated).
    2. Interventions whose time has come adjust the live parameters (start of year) and act
       on the arrays (every week); they may set ``modifiers`` the later phases read this week.
    3. Support allocation: schools ration support hours, plans first; unmet need per pupil.
    4. Stress: leaky accumulator of unmet need, mismatch, transition and incidents;
       CAMHS referral, wait and treatment.
    5. Attendance: a steady share, random illness spells, more with stress; school distress with hysteresis.
    6. School responses: fines or support at half-term reviews; suspensions and
       permanent exclusions.
    7. Off-rolling: pressure on high-cost pupils, its form, and family compliance.
    8. EHCP process: requests, decisions, appeals, tribunal, assessment queue, plans, placement.
    9. Family decisions: exits to home education (genuine or no choice).
    10. LA processes: moves and arrivals, EHE monitoring and returns, CME tracing,
        Section 19, AP, school places, complaints and the Ombudsman, parents leaving work.
    11. Ofsted scrutiny (end of the summer term): schools with outlying Y10-Y11 losses.
    12. Observation: weekly counts, census snapshots, the year's statistics.
    """

    modifiers = Modifiers()  # per-pupil multipliers set by interventions; reset every week (phase 2)

    def __init__(self, scenario: Scenario | None = None, seed: int = 0, *, record_events: bool = False):
        super().__init__(seed=seed)
        self.scenario = scenario or Scenario()
        self.p_base = self.scenario.params(seed)
        self.p = dict(self.p_base)
        self.streams = Streams(seed)
        self.record_events = record_events
        pop = build_population(self.scenario.population, self.streams["population"].generator(0), self.scenario.scale)
        self.spec, self.weight = pop.spec, pop.weight
        self.pupils, self.families, self.schools = pop.pupils, pop.families, pop.schools
        self.school_ids = {ph: (self.schools.phase == ph).nonzero()[0] for ph in Phase}
        self.t_week = 0
        self.burn_in_weeks = self.scenario.burn_in * tl.WEEKS_PER_YEAR
        n = len(self.pupils)
        set_personal_traits(self, np.arange(n), self.streams["traits"].generator(0))
        self.clock_bank = ClockBank({name: self.streams[name] for name in CLOCKS}, self.pupils.uid)
        self.clocks = self.clock_bank.clocks
        # Who is due in which week, for the LA processes with a due-week column (see DueCalendar).
        self.calendars = {"camhs": DueCalendar(), "complaint": DueCalendar()}
        schools.initialise(self, self.streams["schools"].generator(0))
        self.rolls = school_rolls(self)
        refresh_school_traits(self)
        self.la = LocalAuthority(self)
        self._school_agents = [School(self, j) for j in range(len(self.schools))]
        self._views_built = False
        self.log = EventLog()
        self.observer = Observer(self)
        self.inspections: list[tuple[int, int, bool]] = []  # (year, school, off-rolling found)
        self._family_pool = np.zeros(0, dtype=np.int32)
        self.datacollector = WeeklyCounts()  # filled by the observer every observed week (phase 12)

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

    def run_for(self, weeks: int) -> None:
        for _ in range(weeks):
            self.step()

    def step(self) -> None:
        was_term = getattr(self, "is_term", False)
        self.is_term = tl.is_term(self.t_week)
        if was_term and not self.is_term:
            self.pupils.unmet_need[:] = 0.0  # no school, no unmet school need in the holidays
        self._calendar()
        self._apply_interventions()
        if self.is_term:
            self._allocate_support()
        self._update_stress()
        if self.is_term:
            self._attendance()
            schools.responses(self)
            schools.offrolling(self)
        la.ehcp_process(self)
        self._family_decisions()
        la.duties(self)
        if self.week == tl.HALF_TERMS[-1][1]:
            schools.ofsted(self)
        self._observe()
        self.t_week += 1

    # --- phases --------------------------------------------------------------------------------
    def _calendar(self) -> None:
        if self.week == 0 and self.t_week > 0:
            self._roll_over()
        if self.week == 0:
            pu = self.pupils
            for name in (
                "sessions_possible",
                "sessions_missed",
                "autumn_possible",
                "autumn_missed",
                "half_term_missed",
                "weeks_out",
            ):
                pu.columns[name][:] = 0
            pu.suspensions[:] = 0

    def _roll_over(self) -> None:
        pu = self.pupils
        rng = self.streams["cohort"].generator(self.year_index)
        leavers = (pu.year_group == 11).nonzero()[0]
        self.log.record(self, 0, leavers, to=int(Status.LEFT), true=int(Reason.AGED_OUT), recorded=int(Reason.AGED_OUT))
        pu.year_group[:] += 1
        # Y6 -> Y7: mainstream pupils move to their primary's feeder secondary.
        to_secondary = ((pu.year_group == 7) & (pu.status == Status.ON_ROLL)).nonzero()[0]
        pu.school[to_secondary] = self.schools.feeder[pu.school[to_secondary]]
        refill(self, leavers, np.zeros(len(leavers), dtype=np.int8), rng, new_family_share=0.65)
        pu.status[leavers] = Status.LEFT
        self.rolls = school_rolls(self)
        school = choose_schools(self, leavers, rng.random(len(leavers)))
        move(self, leavers, Status.ON_ROLL, Reason.STARTED_SCHOOL, Reason.STARTED_SCHOOL, school=school)
        # Reception children whose plan names a special school wait for a place (filled in phase 8).
        pu.wants_special[leavers] = needs_special_school(self.spec, pu.sen[leavers], pu.need_intensity[leavers], rng)
        refresh_school_traits(self)
        sen_changes(self, rng)
        self._family_pool = np.zeros(0, dtype=np.int32)
        trend = 1.0 + self.p["support_trend"]
        self.schools.support_hours[self.schools.phase != Phase.SPECIAL] *= trend
        schools.new_year(self)

    def _apply_interventions(self) -> None:
        if self.week == 0:
            self.p = dict(self.p_base)
            self._active = [(iv, iv.strength(self.eval_year)) for iv in self.scenario.interventions]
            self._active = [(iv, s) for iv, s in self._active if s > 0]
            for iv, strength in self._active:
                iv.adjust(self.p, strength)
            refresh_constants(self)
            self.schools.fines_first[:] = self.schools.policy_draw < self.p["fines_first_share"]
        self.modifiers = Modifiers(len(self.pupils))
        for iv, strength in self._active:
            iv.apply(self, strength)

    def _allocate_support(self) -> None:
        pu, p = self.pupils, self.p
        in_school = pu.status <= Status.SPECIAL
        # One scan for both SEN tiers, split on the fifth of pupils it finds; the pastoral tier from
        # the few highly stressed pupils. (Every scan of all 80,000 pupils is a pass over memory.)
        with_sen = (in_school & (pu.sen != SEN.NONE)).nonzero()[0]
        has_plan = pu.sen[with_sen] == SEN.EHCP
        ehcp, sen_support = with_sen[has_plan], with_sen[~has_plan]
        stressed = (pu.stress > p["pastoral_stress_threshold"]).nonzero()[0]
        pastoral = stressed[in_school[stressed] & (pu.sen[stressed] == SEN.NONE)]
        ehcp_need, support_need = pu.need_intensity[ehcp], pu.need_intensity[sen_support]
        capacity = self.schools.support_hours * (1.0 + p["support_funding_change"])
        shares = support.share_by_tier(
            [
                (pu.school[ehcp], ehcp_need * p["support_hours_ehcp"]),
                (pu.school[sen_support], support_need * p["support_hours_sen"]),
                (pu.school[pastoral], np.full(len(pastoral), p["support_hours_pastoral"])),
            ],
            capacity,
        )
        pu.unmet_need[:] = 0.0
        pu.unmet_need[ehcp] = support.unmet_need(ehcp_need, shares[0], p["ehcp_fidelity"])
        pu.unmet_need[sen_support] = support.unmet_need(support_need, shares[1], 1.0)
        pu.unmet_need[pastoral] = support.unmet_pastoral(shares[2], p["pastoral_unmet_weight"])
        self._support_idx = with_sen  # both tiers, in slot order

    def _update_stress(self) -> None:
        pu, p = self.pupils, self.p
        stress = pu.stress
        out = (pu.status >= Status.S19).nonzero()[0]
        out_stress = stress[out]
        if self.is_term:
            inputs = p["stress_background"] * pu.vulnerability
            idx = self._support_idx
            in_special = pu.status[idx] == Status.SPECIAL
            inclusion = self.schools.inclusion[pu.school[idx]]
            if p["inclusion_uplift"]:  # lever: SEND training for teachers
                inclusion = np.minimum(inclusion + np.float32(p["inclusion_uplift"]), np.float32(1.0))
            inputs[idx] += p["stress_from_mismatch"] * wellbeing.mismatch(
                pu.need[idx], pu.need_intensity[idx], inclusion, in_special
            )
            inputs += p["stress_from_unmet"] * pu.unmet_need
            if self.week < tl.Y7_TRANSITION_WEEKS:
                inputs[(pu.year_group == 7).nonzero()[0]] += p["stress_from_transition"]
            if self.modifiers.stress_input_scale is not None:  # interventions (e.g. mental health teams)
                inputs *= self.modifiers.stress_input_scale
            wellbeing.update_stress(stress, p["stress_recovery_term"], inputs, out=stress)
            at_school = pu.status <= Status.AP
            hit = self.clocks["bullying"].advance_all(p["bullying_hazard"] * pu.vulnerability * at_school, pu.uid)
            stress[hit] = np.minimum(stress[hit] + p["bullying_stress"], 1.0)
        else:
            wellbeing.update_stress(
                stress, p["stress_recovery_holiday"], 0.5 * p["stress_background"] * pu.vulnerability, out=stress
            )
        # Out of school, away from its pressures, stress recovers at the holiday rate.
        stress[out] = wellbeing.update_stress(
            out_stress, p["stress_recovery_holiday"], 0.5 * p["stress_background"] * pu.vulnerability[out]
        )
        la.camhs(self)

    def _attendance(self) -> None:
        pu, p, t = self.pupils, self.p, self.t_week
        on_roll = pu.status <= Status.SPECIAL
        pu.distress[:] = (
            wellbeing.update_distress(pu.distress, pu.stress, p["ebsa_entry_stress"], p["ebsa_exit_stress"]) & on_roll
        )
        np.add(pu.distress_weeks, 1, out=pu.distress_weeks)  # (distress_weeks + 1) * distress, in place
        np.multiply(pu.distress_weeks, pu.distress, out=pu.distress_weeks)
        base = pu.base_absence
        deterred = np.flatnonzero(pu.deterred_until > t)
        if len(deterred):
            base = base.copy()
            base[deterred] *= 1.0 - p["fine_deterrence"]
        q = wellbeing.absence_share(
            base,
            pu.stress,
            p["absence_stress_slope"],
            p["absence_stress_shape"],
            pu.distress,
            p["ebsa_absence"],
            pu.part_time_until > t,
            p["part_time_absence"],
            out=pu.absence,  # this week's share, computed in place
        )
        # Illness spells: short, random and common, they make persistent absence a matter of luck
        # for many pupils as well as of a high steady propensity (DfE: illness is half of all absence).
        on_roll = on_roll.astype(np.float32)
        ill = self.clocks["illness"].advance_all(pu.illness_hazard * on_roll, pu.uid)
        q[ill] = np.minimum(q[ill] + np.float32(p["illness_spell_absence"]), 1.0)
        missed = q * on_roll
        pu.sessions_possible[:] += on_roll
        pu.sessions_missed[:] += missed
        pu.half_term_missed[:] += missed
        if self.week <= tl.AUTUMN_TERM_END:
            pu.autumn_possible[:] += on_roll
            pu.autumn_missed[:] += missed

    def _family_decisions(self) -> None:
        """Exits to home education: genuine preference, or 'no choice' after unmet need, distress, fines.

        Open to children on a school roll, in alternative provision and on Section 19 provision
        (families deregister from AP too); not to those waiting for a place the LA has found."""
        pu, fam, p = self.pupils, self.families, self.p
        eligible = (pu.status <= Status.S19) & (pu.place_due_week < 0)
        hazard = pu.genuine_ehe_hazard * eligible
        strain = (pu.stress > p["ehe_stress_threshold"]) | (pu.unmet_need > 0) | pu.distress
        strained = (eligible & strain).nonzero()[0]
        f = pu.family[strained]
        no_choice = hazards.no_choice_ehe_hazard(
            pu.stress[strained], pu.distress[strained], pu.unmet_need[strained], fam.fines[f], fam.trust[f], p
        )
        if not self.is_term:
            no_choice = no_choice * p["holiday_exit_factor"]
        if self.modifiers.no_choice_ehe_scale is not None:  # interventions (e.g. LA consent for EHE)
            no_choice = no_choice * self.modifiers.no_choice_ehe_scale[strained]
        hazard[strained] += no_choice
        who = self.clocks["ehe"].advance_all(hazard, pu.uid)
        if len(who) == 0:
            return
        share_genuine = pu.genuine_ehe_hazard[who] / np.maximum(hazard[who], 1e-12)
        u = self.streams["ehe_route"].uniform(pu.uid[who], self.t_week)
        prior = np.divide(
            pu.sessions_missed[who],
            pu.sessions_possible[who],
            out=np.zeros(len(who), np.float32),
            where=pu.sessions_possible[who] > 0,
        )
        is_genuine = u < share_genuine
        for mask, route, reason in (
            (is_genuine, Route.GENUINE, Reason.GENUINE_EHE),
            (~is_genuine, Route.NO_CHOICE, Reason.NO_CHOICE_EHE),
        ):
            go = who[mask]
            move(self, go, Status.EHE, reason, Reason.ELECTIVE_EHE, value=prior[mask])
            pu.ehe_route[go] = route

    def _observe(self) -> None:
        pu = self.pupils
        if self.is_term:
            out = (pu.status >= Status.S19).nonzero()[0]
            st = pu.status[out]
            waiting = pu.s19_due_week[out] > self.t_week
            missed = np.where(st == Status.CME, 1.0, 0.0)
            missed += (st == Status.S19) * np.where(waiting, 1.0, 1.0 - self.p["s19_hours_per_week"] / 25.0)
            pu.weeks_out[out] += missed
        if self.t_week < self.burn_in_weeks:
            if self.week == tl.WEEKS_PER_YEAR - 1:
                self.log.drop(self.year_index)
            return
        self.observer.observe_week(self)
        if self.week == tl.WEEKS_PER_YEAR - 1:
            self.observer.finish_year(self)
            if not self.record_events:
                self.log.drop(self.year_index)

    # --- families ----------------------------------------------------------------------------
    def take_free_families(self, n: int) -> np.ndarray:
        """``n`` family rows with no children. The pool is refreshed when it runs low."""
        if len(self._family_pool) < n:
            used = np.zeros(len(self.families), dtype=bool)
            used[self.pupils.family] = True
            self._family_pool = (~used).nonzero()[0].astype(np.int32)
            if len(self._family_pool) < n:  # cannot happen: one row per pupil slot
                raise RuntimeError("family table full")
        taken, self._family_pool = self._family_pool[:n], self._family_pool[n:]
        return taken
