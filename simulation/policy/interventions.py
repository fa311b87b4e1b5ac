"""Interventions: small frozen dataclasses registered under their TOML ``type``.

Every policy lever of DESIGN.md section 4 is one intervention. It acts in phase 2 of the
weekly step, in one or both of two ways, and leaves the effect on outcomes (shorter waits,
fewer exits) to the mechanisms:

* ``adjust(p, strength)``, once a year (first week): moves registry levers in the live
  parameter dict the mechanisms read. ``model.p`` is rebuilt from the scenario every year, so
  an intervention that ends leaves nothing behind.
* ``apply(model, strength)``, every week: acts on the arrays with whole-array operations and
  its own random stream (``model.streams["intervention:<type>"]``), and may set
  ``model.modifiers``: per-pupil multipliers that mechanisms later in the same week read (see
  :class:`simulation.model.modifiers.Modifiers`). They are reset every week.

``start_year`` counts evaluation years from 0 (no intervention acts during burn-in);
``end_year`` is the last year it acts (inclusive); ``ramp_years`` spreads the rise of its
strength. Each class names the registry parameters it moves (``levers``), the basis of its
default effect size (``source``) and of its cost (``cost_basis``, empty when none can be
estimated); its fields carry bounds, units and meanings (``FIELDS``). Costs are booked as the
intervention acts (pupils supported, capacity bought), in GBP for the whole LA (simulated
counts times ``model.weight``): see :meth:`Intervention.cost_per_year`.

The base class and registry are in :mod:`simulation.policy.base`; the weekly programmes that
have no registry lever (mentors, counsellors, ...) in :mod:`simulation.policy.programmes`;
reading and writing scenario tables in :mod:`simulation.policy.registry`. The lever-moving
interventions are here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from simulation.model import timeline as tl
from simulation.model.state import Phase, Status

from .base import Intervention, per_week_la, register

# --- levers that move registry parameters -----------------------------------------------------


@register
@dataclass(frozen=True)
class EHCPAssessmentCapacity(Intervention):
    """More educational psychologists and caseworkers: LA assessment starts per week x (1 + increase).

    Waiting times fall only as the extra capacity clears the queue (an emergent result). In the
    hand-tuned baseline the queue is rarely binding and waits come mostly from assessments held up
    for advice; ``advice_delay_cut`` (optional) lets the extra psychologists also cut the chance an
    assessment is held up (for the default increase, 1 - 1/1.3 = 0.23: held-up advice falls in
    proportion to the extra time; an assumption)."""

    type = "ehcp_assessment_capacity"
    title = "EHCP assessment capacity"
    lever = "assessment_capacity"
    acts_through = (
        "assessment_backlog_response",
        "assessment_delay_weeks",
        "ehcp_fidelity",
        "stress_from_unmet",
        "ehe_unmet_weight",
    )
    levers = ("assessment_capacity", "p_assessment_delayed")
    source = (
        "DfE EHCP timeliness series; MECHANISMS: y = 10-50% (share within 20 weeks back toward the 2019 60%); "
        "advice_delay_cut: assumption"
    )
    cost_basis = (
        "GBP 2,500 per assessment of extra capacity, all year (assumption: educational psychologist advice, "
        "privately GBP 800-2,000, plus caseworker and panel time)"
    )
    units = "extra assessments a year (capacity)"
    FIELDS: ClassVar = {
        "increase": (0.0, 2.0, "share", "rise in assessments started per week"),
        "advice_delay_cut": (0.0, 1.0, "share", "cut in the chance an assessment is held up for advice (none: 0)"),
    }
    GBP_PER_ASSESSMENT: ClassVar[float] = 2500.0
    increase: float = 0.3
    advice_delay_cut: float | None = None  # None (not 0.0) keeps saved scenarios without it unchanged

    def adjust(self, p, strength):
        self._set(p, self.lever, p[self.lever] * (1.0 + self.increase * strength))
        if self.advice_delay_cut:
            self._set(p, "p_assessment_delayed", p["p_assessment_delayed"] * (1.0 - self.advice_delay_cut * strength))

    def apply(self, model, strength):
        extra = (model.p[self.lever] - model.p_base[self.lever]) * len(model.pupils) / 10_000 * model.weight
        self._book(model, extra * self.GBP_PER_ASSESSMENT, extra)


@register
@dataclass(frozen=True)
class SupportFunding(Intervention):
    """Restore (or, with a negative change, cut) schools' SEN and pastoral support funding:
    support staff hours x (1 + change)."""

    type = "support_funding"
    title = "Support funding"
    lever = "support_funding_change"
    acts_through = (
        "support_hours_ehcp",
        "support_hours_sen",
        "support_capacity_sigma",
        "pastoral_unmet_weight",
        "stress_from_unmet",
        "ehe_unmet_weight",
    )
    levers = ("support_funding_change",)
    source = "Isos 2024; MECHANISMS: uplift x = 5-20%"
    cost_basis = "GBP 25 per extra support-staff hour in term (assumption: teaching-assistant pay with on-costs)"
    units = "extra support hours"
    FIELDS: ClassVar = {"change": (-0.3, 0.3, "share", "change in support staff hours (negative: a cut)")}
    GBP_PER_HOUR: ClassVar[float] = 25.0
    change: float = 0.1

    def adjust(self, p, strength):
        self._set(p, self.lever, p[self.lever] + self.change * strength)

    def apply(self, model, strength):
        if model.is_term:
            hours = float(model.schools.support_hours.sum()) * (model.p[self.lever] - model.p_base[self.lever])
            self._book(model, hours * model.weight * self.GBP_PER_HOUR, hours * model.weight)


@register
@dataclass(frozen=True)
class SupportFirstAttendance(Intervention):
    """DfE 2024 guidance: schools move from fines-first to support-first attendance policy."""

    type = "support_first_attendance"
    title = "Support-first attendance"
    lever = "fines_first_share"
    acts_through = ("support_first_relief", "fine_deterrence", "fine_trust_loss", "stress_from_fine", "ehe_fines_push")
    levers = ("fines_first_share",)
    source = "DfE, Working together to improve school attendance (2024); MECHANISMS: fines-first schools 50% -> 5%"
    cost_basis = "GBP 50 per support contact instead of a fine (assumption: about an hour of attendance staff time)"
    units = "support contacts"
    FIELDS: ClassVar = {"fines_first_share": (0.0, 1.0, "share of schools", "schools still fines-first")}
    GBP_PER_MEETING: ClassVar[float] = 50.0
    fines_first_share: float = 0.05

    def adjust(self, p, strength):
        self._toward(p, self.lever, self.fines_first_share, strength)

    def apply(self, model, strength):
        # Count the persistently absent pupils of switched schools at each half-term review
        # (phase 2 runs before this week's attendance: the threshold is on the weeks so far).
        if model.week not in tl.HALF_TERM_ENDS:
            return
        sc, pu = model.schools, model.pupils
        switched = (sc.policy_draw < model.p_base[self.lever]) & ~sc.fines_first
        first, last = next(h for h in tl.HALF_TERMS if h[1] == model.week)
        on = (pu.status == Status.ON_ROLL).nonzero()[0]
        n = np.count_nonzero(switched[pu.school[on]] & (pu.half_term_missed[on] >= 0.1 * (last - first)))
        self._book(model, n * model.weight * self.GBP_PER_MEETING, n * model.weight)


@register
@dataclass(frozen=True)
class PenaltyNoticeTightening(Intervention):
    """Enforcement first: more schools fine-first and fines more likely (penalty-notice tightening)."""

    type = "penalty_notice_tightening"
    title = "More fines"
    lever = "fines_first_share"
    acts_through = ("fine_deterrence", "fine_trust_loss", "stress_from_fine", "ehe_fines_push", "p_prosecution")
    levers = ("fines_first_share", "p_notice_attendance")
    source = "DfE parental responsibility measures; MECHANISMS: +25% fines"
    cost_basis = ""  # revenue-raising; administration not estimated
    FIELDS: ClassVar = {
        "fines_first_share": (0.0, 1.0, "share of schools", "schools fines-first"),
        "fine_increase": (0.0, 1.0, "share", "rise in the chance an attendance case ends in a penalty notice"),
    }
    fines_first_share: float = 0.8
    fine_increase: float = 0.25

    def adjust(self, p, strength):
        self._toward(p, "fines_first_share", self.fines_first_share, strength)
        self._set(p, "p_notice_attendance", p["p_notice_attendance"] * (1.0 + self.fine_increase * strength))


@register
@dataclass(frozen=True)
class SpecialSchoolPlaces(Intervention):
    """More special-school and resourced-provision places: places x (1 + increase)."""

    type = "special_school_places"
    title = "Special school places"
    lever = "special_places_ratio"
    acts_through = ("p_plan_names_special", "p_review_names_special", "stress_from_mismatch", "ehe_unmet_weight")
    levers = ("special_places_ratio",)
    source = "CCN/Isos 2025 (83% of special schools at or over capacity); MECHANISMS: +5-10% places"
    cost_basis = "GBP 25,000 per extra place a year (assumption: DfE high-needs place funding GBP 10,000 plus top-up)"
    units = "extra places (place-years)"
    FIELDS: ClassVar = {"increase": (0.0, 0.3, "share", "rise in special-school places")}
    GBP_PER_PLACE_YEAR: ClassVar[float] = 25_000.0
    increase: float = 0.07

    def adjust(self, p, strength):
        self._set(p, self.lever, p[self.lever] * (1.0 + self.increase * strength))

    def apply(self, model, strength):
        initial = model.la.initial_special_roll
        extra = round(initial * model.p[self.lever]) - round(initial * model.p_base[self.lever])
        per_week = extra * model.weight / tl.WEEKS_PER_YEAR
        self._book(model, per_week * self.GBP_PER_PLACE_YEAR, per_week)


@register
@dataclass(frozen=True)
class Section19Timeliness(Intervention):
    """Statutory Section 19 timeliness: provision arranged sooner and for more hours a week."""

    type = "s19_timeliness"
    title = "Section 19 timeliness"
    lever = "s19_delay_weeks"
    acts_through = ("s19_referral_weeks", "s19_delay_shape", "s19_return_hazard")
    levers = ("s19_delay_weeks", "s19_hours_per_week")
    source = (
        "LGSCO 'Out of school... out of mind?' (2022); DfE Section 19 guidance 2023 (provision from day 6); "
        "MECHANISMS: delay 8 -> 3 weeks; hours: assumption"
    )
    cost_basis = "GBP 40 per extra tuition hour (assumption: LA tuition rate)"
    units = "extra tuition hours"
    FIELDS: ClassVar = {
        "delay_weeks": (2.0, 26.0, "weeks", "weeks from referral to provision"),
        "hours_per_week": (1.0, 15.0, "hours/week", "education offered a week, of 25"),
    }
    GBP_PER_HOUR: ClassVar[float] = 40.0
    delay_weeks: float = 3.0
    hours_per_week: float = 10.0

    def adjust(self, p, strength):
        self._toward(p, "s19_delay_weeks", self.delay_weeks, strength)
        self._toward(p, "s19_hours_per_week", self.hours_per_week, strength)

    def apply(self, model, strength):
        if model.is_term:
            n = np.count_nonzero(model.pupils.status == Status.S19) * model.weight
            extra = n * (model.p["s19_hours_per_week"] - model.p_base["s19_hours_per_week"])
            self._book(model, extra * self.GBP_PER_HOUR, extra)


@register
@dataclass(frozen=True)
class OfstedScrutiny(Intervention):
    """Ofsted scrutiny of deregistrations: more schools with outlying Y10-Y11 losses flagged and inspected."""

    type = "ofsted_scrutiny"
    title = "Ofsted off-rolling scrutiny"
    lever = "ofsted_flag_share"
    acts_through = ("p_ofsted_evidence", "ofsted_finding_excess", "inspection_deterrence", "offroll_hazard")
    levers = ("ofsted_flag_share", "p_inspection")
    source = (
        "Ofsted blogs 2018-19 (340 schools flagged a year, about 10%); doubling and near-certain inspection: assumption"
    )
    cost_basis = "GBP 7,500 per extra off-rolling inspection (assumption: two inspectors for two days with preparation)"
    units = "extra inspections"
    FIELDS: ClassVar = {
        "flag_share": (0.02, 0.3, "share of secondary schools", "schools flagged each year"),
        "p_inspection": (0.1, 1.0, "probability", "chance a flagged school is inspected"),
    }
    GBP_PER_INSPECTION: ClassVar[float] = 7500.0
    flag_share: float = 0.2
    p_inspection: float = 0.9

    def adjust(self, p, strength):
        self._toward(p, "ofsted_flag_share", self.flag_share, strength)
        self._toward(p, "p_inspection", self.p_inspection, strength)

    def apply(self, model, strength):
        if model.week != tl.HALF_TERMS[-1][1]:  # the inspection week (phase 11)
            return
        n_sec = len(model.school_ids[Phase.SECONDARY])

        def expected(q):
            return max(1, round(q["ofsted_flag_share"] * n_sec)) * q["p_inspection"]

        extra = (expected(model.p) - expected(model.p_base)) * model.weight
        self._book(model, extra * self.GBP_PER_INSPECTION, extra)


@register
@dataclass(frozen=True)
class NotInSchoolRegister(Intervention):
    """A register of children not in school: more LA contact with home-educating families and faster tracing."""

    type = "not_in_school_register"
    title = "Register of children not in school"
    lever = "ehe_monitoring_rate"
    acts_through = ("p_ehe_unsuitable", "p_school_order", "ehe_return_hazard", "return_mult_no_choice")
    levers = ("ehe_monitoring_rate", "cme_mean_weeks")
    source = (
        "Children's Wellbeing and Schools Bill; DfE (HL101 answer, 2024); "
        "MECHANISMS: CME spell 13 -> 8 weeks (assumption); monitoring once a year: assumption"
    )
    cost_basis = (
        "GBP 250 per extra monitoring contact plus GBP 30,000 a year per reference-size LA to run the register "
        "(assumption)"
    )
    units = "extra monitoring contacts"
    FIELDS: ClassVar = {
        "monitoring_rate": (0.1, 1.0, "contacts per family per year", "LA contacts with home-educating families"),
        "cme_weeks_factor": (0.2, 1.0, "ratio", "mean weeks missing education, relative to now"),
    }
    GBP_PER_CONTACT: ClassVar[float] = 250.0
    GBP_RUNNING: ClassVar[float] = 30_000.0
    monitoring_rate: float = 1.0
    cme_weeks_factor: float = 0.62

    def adjust(self, p, strength):
        self._toward(p, "ehe_monitoring_rate", self.monitoring_rate, strength)
        self._set(p, "cme_mean_weeks", p["cme_mean_weeks"] * (1.0 - (1.0 - self.cme_weeks_factor) * strength))

    def apply(self, model, strength):
        n_ehe = np.count_nonzero(model.pupils.status == Status.EHE) * model.weight
        extra = n_ehe * (model.p["ehe_monitoring_rate"] - model.p_base["ehe_monitoring_rate"]) / tl.WEEKS_PER_YEAR
        self._book(model, extra * self.GBP_PER_CONTACT + per_week_la(model, self.GBP_RUNNING), extra)


@register
@dataclass(frozen=True)
class AccountabilityReform(Intervention):
    """Results attributed to every school a pupil attended in Y7-11: the January-census incentive goes.

    Today a school's off-rolling pressure peaks from Y10 autumn to the Y11 January census (the
    performance-table cut-off) at 1, against ``offroll_pressure_offpeak`` (0.3) otherwise. When
    results follow the pupil, removing a pupil before the census no longer removes their results,
    so the census-date spike goes: peak pressure falls to the off-peak level
    (``peak_excess`` 0). Other motives (behaviour, cost) remain, so the off-peak level is
    unchanged by default; ``offpeak_change`` can lower it too (an assumption to explore)."""

    type = "accountability_reform"
    title = "Accountability reform"
    lever = "offroll_peak_excess"
    acts_through = ("offroll_hazard", "comply_intercept", "coerced_to_ehe_share")
    levers = ("offroll_peak_excess", "offroll_pressure_offpeak")
    source = "EPI 2019 recommendations (UNCONFIRMED proposal wording); Ofsted Y10-Y11 analysis"
    cost_basis = ""  # a change to performance-table rules: no delivery cost to the LA
    FIELDS: ClassVar = {
        "peak_excess": (0.0, 1.0, "share", "share of the census-date excess pressure that remains"),
        "offpeak_change": (-0.5, 0.0, "share", "relative change of the off-peak pressure"),
    }
    peak_excess: float = 0.0
    offpeak_change: float = 0.0

    def adjust(self, p, strength):
        self._toward(p, "offroll_peak_excess", self.peak_excess, strength)
        self._set(p, "offroll_pressure_offpeak", p["offroll_pressure_offpeak"] * (1.0 + self.offpeak_change * strength))


@register
@dataclass(frozen=True)
class LAAdmissionsAuthority(Intervention):
    """LAs as admissions authority for all schools: children out of school are placed faster."""

    type = "la_admissions_authority"
    title = "LA admissions for all schools"
    lever = "placement_weeks"
    acts_through = ("p_arrival_without_place", "p_refuse_offered_place")
    levers = ("placement_weeks",)
    source = "DfE Fair Access Protocols guidance (2021): a place within 20 school days (4 weeks); assumption"
    cost_basis = "GBP 150,000 a year per reference-size LA (assumption: three admissions officers)"
    FIELDS: ClassVar = {"placement_weeks": (1.0, 16.0, "weeks (mean)", "mean weeks to secure a school place")}
    GBP_PER_YEAR: ClassVar[float] = 150_000.0
    placement_weeks: float = 4.0

    def adjust(self, p, strength):
        self._toward(p, self.lever, self.placement_weeks, strength)

    def apply(self, model, strength):
        self._book(model, per_week_la(model, self.GBP_PER_YEAR) * strength)


@register
@dataclass(frozen=True)
class ComplaintTimeLimit(Intervention):
    """A 12-week limit on the LA's handling of complaints about children out of education."""

    type = "complaint_time_limit"
    title = "12-week complaint limit"
    lever = "complaint_response_weeks"
    acts_through = ("complaint_hazard", "p_ombudsman", "p_parent_leaves_work")
    levers = ("complaint_response_weeks",)
    source = "Councils' 12-week pledge after LGSCO findings (LGSCO 2022)"
    cost_basis = "GBP 45,000 a year per reference-size LA (assumption: one complaints officer)"
    FIELDS: ClassVar = {"response_weeks": (8.0, 40.0, "weeks", "weeks to answer a complaint")}
    GBP_PER_YEAR: ClassVar[float] = 45_000.0
    response_weeks: float = 12.0

    def adjust(self, p, strength):
        self._toward(p, self.lever, self.response_weeks, strength)

    def apply(self, model, strength):
        self._book(model, per_week_la(model, self.GBP_PER_YEAR) * strength)


@register
@dataclass(frozen=True)
class SENDTraining(Intervention):
    """SEND training for teachers: every school's inclusion rises, so the mismatch between a child's
    need and the classroom (a source of stress) falls."""

    type = "send_training"
    title = "SEND training for teachers"
    lever = "inclusion_uplift"
    acts_through = ("stress_from_mismatch", "ehe_stress_threshold")
    levers = ("inclusion_uplift",)
    source = "MECHANISMS inclusion-ethos lever: I_j +0.1-0.2 (Timpson 2019: variation between schools); assumption"
    cost_basis = (
        "GBP 2,500 a year per primary or special school and GBP 7,500 per secondary (assumption: two days of "
        "specialist training for all staff, with cover)"
    )
    units = "schools trained"
    FIELDS: ClassVar = {"increase": (0.0, 0.3, "inclusion (0-1)", "rise in every school's inclusion")}
    GBP_PER_SCHOOL: ClassVar[dict[int, float]] = {Phase.PRIMARY: 2500.0, Phase.SECONDARY: 7500.0, Phase.SPECIAL: 2500.0}
    increase: float = 0.1

    def adjust(self, p, strength):
        self._set(p, self.lever, p[self.lever] + self.increase * strength)

    def apply(self, model, strength):
        if model.week == 0:
            n = {ph: len(ids) * model.weight for ph, ids in model.school_ids.items()}
            gbp = sum(n[ph] * self.GBP_PER_SCHOOL[ph] for ph in n) * strength
            self._book(model, gbp, sum(n.values()) * strength)
