"""Weekly programmes: interventions that act on pupils and families directly, with no registry lever.

Each acts in phase 2 through ``apply`` with whole-array operations and its own random stream
(``model.streams["intervention:<type>"]``), drawing per-pupil numbers by uid so that common
random numbers hold. Capacity-limited programmes spread a yearly number of places over the
39 term weeks (fractions carry over). Effects move the state the mechanisms read (stress,
trust, advocacy) or set a weekly :class:`~simulation.model.modifiers.Modifiers` entry; what
follows (attendance, exits) is left to the mechanisms.

Effect sizes are from MECHANISMS.md where it gives one; everything else is marked as an
assumption in ``source``. Costs are booked from what the programme did (pupils supported,
schools covered) in GBP for the whole LA.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from simulation.model import timeline as tl
from simulation.model.dynamics import hazards
from simulation.model.state import Phase, Status

from .base import Intervention, register, state


def _stream(model, iv: Intervention):
    return model.streams["intervention:" + iv.type]


def _quota(model, iv: Intervention, per_10k_a_year: float) -> int:
    """Places this term week from a yearly capacity per 10,000 pupils (fractions carry over)."""
    st = state(model, iv)
    carry = st.get("carry", 0.0) + per_10k_a_year * len(model.pupils) / 10_000 / tl.N_TERM_WEEKS
    n = int(carry)
    st["carry"] = carry - n
    return n


def _marks(model, iv: Intervention, name: str, yearly: bool = False) -> np.ndarray:
    """Per-slot uid of the child the programme has marked (-1: none). A slot that takes a new child
    has a new uid, so marks never carry over to another child; ``yearly`` marks clear each September."""
    st = state(model, iv)
    key = (name, model.academic_year) if yearly else name
    if key not in st:
        st[key] = np.full(len(model.pupils), -1, dtype=np.int64)
        if yearly:
            st.pop((name, model.academic_year - 1), None)
    return st[key]


def _year_to_date_absence(pu) -> np.ndarray:
    possible = pu.sessions_possible
    return np.divide(pu.sessions_missed, possible, out=np.zeros(len(possible), np.float32), where=possible >= 4)


def _relieve(pu, idx: np.ndarray, amount: float) -> None:
    pu.stress[idx] = np.maximum(pu.stress[idx] - np.float32(amount), 0.0)


def _on_school_roll(pu) -> np.ndarray:
    return pu.status <= Status.SPECIAL


@register
@dataclass(frozen=True)
class AttendanceMentors(Intervention):
    """Attendance mentors: persistently (not severely) absent pupils are referred up to the programme's
    capacity; 66% engage, half of those respond, and a responder's stress falls by 0.15 once."""

    type = "attendance_mentors"
    title = "Attendance mentors"
    lever = "attendance_mentors"
    acts_through = ("absence_stress_slope", "ehe_stress_threshold")
    source = (
        "DfE attendance mentors pilot evaluation (York Consulting 2024): 223 of 339 referred engaged (0.66), about "
        "half improved; capacity: DfE 2025 expansion, 50 mentors for 3,600 pupils a year in 10 areas (~45 per "
        "10,000 pupils); stress -0.15: MECHANISMS (assumption)"
    )
    cost_basis = "GBP 1,500 per pupil supported (DfE 2025 expansion: GBP 15m for about 10,800 pupils)"
    units = "pupils supported"
    FIELDS: ClassVar = {
        "places_per_10k": (0.0, 500.0, "pupils a year per 10,000", "mentoring places"),
        "p_engage": (0.0, 1.0, "probability", "referred pupil engages"),
        "p_respond": (0.0, 1.0, "probability", "engaged pupil responds"),
        "stress_relief": (0.0, 0.5, "stress (0-1)", "stress removed from a responder"),
    }
    GBP_PER_PUPIL: ClassVar[float] = 1500.0
    places_per_10k: float = 45.0
    p_engage: float = 0.66
    p_respond: float = 0.5
    stress_relief: float = 0.15

    def apply(self, model, strength):
        if not model.is_term:
            return
        n = _quota(model, self, self.places_per_10k * strength)
        if n == 0:
            return
        pu, t = model.pupils, model.t_week
        marks = _marks(model, self, "referred", yearly=True)
        rate = _year_to_date_absence(pu)
        eligible = (_on_school_roll(pu) & (rate >= 0.1) & (rate < 0.5) & (marks != pu.uid)).nonzero()[0]
        stream = _stream(model, self)
        chosen = eligible[np.argsort(stream.uniform(pu.uid[eligible], 3 * t), kind="stable")[:n]]
        marks[chosen] = pu.uid[chosen]
        engaged = chosen[stream.uniform(pu.uid[chosen], 3 * t + 1) < self.p_engage]
        respond = engaged[stream.uniform(pu.uid[engaged], 3 * t + 2) < self.p_respond]
        _relieve(pu, respond, self.stress_relief)
        self._book(model, len(engaged) * model.weight * self.GBP_PER_PUPIL, len(engaged) * model.weight)


@register
@dataclass(frozen=True)
class MentalHealthSupportTeams(Intervention):
    """Mental health support teams in more schools: in newly covered schools, the term-time stress
    build-up of pupils with mild or moderate difficulties (below the CAMHS threshold) falls.

    Today's coverage is already in the calibrated baseline, so only schools beyond it change."""

    type = "mhst_coverage"
    title = "Mental health support teams"
    lever = "mhst_coverage"
    acts_through = ("camhs_threshold", "ehe_stress_threshold", "ehe_no_choice_hazard")
    source = (
        "NIHR MHST early evaluation (2023); MECHANISMS: stress accumulation x (1 - 0.1...0.2) in covered schools; "
        "coverage 26% of pupils (2023, Schools Week) to 52% (April 2025, Tes); every pupil by 2029-30 "
        "(government pledge)"
    )
    cost_basis = "GBP 55 per newly covered pupil a year (Lib Dem FOI 2023 via Tes: GBP 24-87 per pupil by ICB)"
    units = "pupils newly covered (pupil-years)"
    FIELDS: ClassVar = {
        "coverage": (0.0, 1.0, "share of pupils", "coverage reached"),
        "current_coverage": (0.0, 1.0, "share of pupils", "coverage already in the baseline"),
        "effect": (0.0, 0.5, "share", "cut in stress build-up for covered pupils"),
    }
    GBP_PER_PUPIL_YEAR: ClassVar[float] = 55.0
    coverage: float = 1.0
    current_coverage: float = 0.4
    effect: float = 0.15

    def apply(self, model, strength):
        if not model.is_term:
            return
        st = state(model, self)
        if "school_u" not in st:  # which schools the teams reach first: a fixed order
            st["school_u"] = _stream(model, self).generator(0).random(len(model.schools))
        u = st["school_u"]
        reach = self.current_coverage + max(self.coverage - self.current_coverage, 0.0) * strength
        covered = np.append((u >= self.current_coverage) & (u < reach), False)  # school -1 reads False
        pu = model.pupils
        in_covered = covered[pu.school]
        idx = (in_covered & (pu.stress < model.p["camhs_threshold"])).nonzero()[0]
        model.modifiers.scale_stress_inputs(idx, 1.0 - self.effect)
        n = np.count_nonzero(in_covered) * model.weight / tl.N_TERM_WEEKS
        self._book(model, n * self.GBP_PER_PUPIL_YEAR, n)


@register
@dataclass(frozen=True)
class EBSASpecialistSupport(Intervention):
    """A specialist school-distress (EBSA) service: pupils in distress for some weeks are treated up to
    capacity (CBT with graded return); responders' stress falls by 0.2 at once and builds up at half
    the rate during the course, so more of them leave distress."""

    type = "ebsa_specialist_support"
    title = "School-distress (EBSA) service"
    lever = "ebsa_specialist_support"
    acts_through = ("ebsa_exit_stress", "ebsa_absence", "ehe_distress_weight")
    source = (
        "Maynard et al. 2015 Campbell review (CBT for school refusal, ~0.5 SD attendance gain, UNCONFIRMED); "
        "MECHANISMS: s -0.2; capacity, response and course: assumption"
    )
    cost_basis = "GBP 2,400 per pupil treated (assumption: about 12 sessions with a psychologist or therapist)"
    units = "pupils treated"
    FIELDS: ClassVar = {
        "places_per_10k": (0.0, 200.0, "pupils a year per 10,000", "treatment places"),
        "referral_weeks": (1.0, 26.0, "weeks", "weeks in distress before referral"),
        "p_respond": (0.0, 1.0, "probability", "treated pupil responds"),
        "stress_relief": (0.0, 0.5, "stress (0-1)", "stress removed from a responder at once"),
        "course_weeks": (1.0, 26.0, "weeks", "length of the course"),
        "course_effect": (0.0, 1.0, "share", "cut in stress build-up during the course"),
    }
    GBP_PER_PUPIL: ClassVar[float] = 2400.0
    places_per_10k: float = 30.0
    referral_weeks: float = 4.0
    p_respond: float = 0.6
    stress_relief: float = 0.2
    course_weeks: float = 10.0
    course_effect: float = 0.5

    def apply(self, model, strength):
        if not model.is_term:
            return
        pu, t = model.pupils, model.t_week
        treated = _marks(model, self, "treated")
        until = state(model, self).setdefault("until", np.full(len(pu), -1, dtype=np.int32))
        n = _quota(model, self, self.places_per_10k * strength)
        if n:
            waiting = (
                pu.distress & (pu.distress_weeks >= self.referral_weeks) & _on_school_roll(pu) & (treated != pu.uid)
            ).nonzero()[0]
            order = np.lexsort((_stream(model, self).uniform(pu.uid[waiting], 2 * t), -pu.distress_weeks[waiting]))
            chosen = waiting[order[:n]]  # longest in distress first
            treated[chosen] = pu.uid[chosen]
            respond = chosen[_stream(model, self).uniform(pu.uid[chosen], 2 * t + 1) < self.p_respond]
            _relieve(pu, respond, self.stress_relief)
            until[respond] = t + round(self.course_weeks)
            self._book(model, len(chosen) * model.weight * self.GBP_PER_PUPIL, len(chosen) * model.weight)
        in_course = ((until > t) & (treated == pu.uid)).nonzero()[0]
        if len(in_course):
            model.modifiers.scale_stress_inputs(in_course, 1.0 - self.course_effect)


@register
@dataclass(frozen=True)
class FamilyLiaison(Intervention):
    """Family liaison officers: disadvantaged families whose child is persistently absent, in distress
    or has been fined are supported up to capacity; their trust in school and advocacy rise by 0.1.
    Higher trust lowers the no-choice home-education hazard (and so the push from fines); higher
    advocacy raises EHCP requests and appeals and lowers compliance with off-rolling pressure."""

    type = "family_liaison"
    title = "Family liaison officers"
    lever = "family_liaison"
    acts_through = ("comply_low_advocacy", "ehcp_request_hazard", "p_appeal")
    source = "EEF/YEF grant round 2022 (trials pending); MECHANISMS: trust +0.1, advocacy +0.1; capacity: assumption"
    cost_basis = (
        "GBP 800 per family supported (assumption: an officer at about GBP 36,000 with on-costs, 45 families a year)"
    )
    units = "families supported"
    FIELDS: ClassVar = {
        "families_per_10k": (0.0, 500.0, "families a year per 10,000 pupils", "families supported"),
        "trust_gain": (0.0, 0.5, "trust (0-1)", "rise in trust in school"),
        "advocacy_gain": (0.0, 0.5, "advocacy (0-1)", "rise in advocacy capacity"),
    }
    GBP_PER_FAMILY: ClassVar[float] = 800.0
    families_per_10k: float = 100.0
    trust_gain: float = 0.1
    advocacy_gain: float = 0.1

    def apply(self, model, strength):
        if not model.is_term:
            return
        n = _quota(model, self, self.families_per_10k * strength)
        if n == 0:
            return
        pu, fam, t = model.pupils, model.families, model.t_week
        marks = _marks(model, self, "supported")
        strained = (_year_to_date_absence(pu) >= 0.1) | pu.distress | (fam.fines[pu.family] > 0)
        eligible = (pu.fsm & strained & (pu.status <= Status.AP) & (marks != pu.uid)).nonzero()[0]
        chosen = eligible[np.argsort(_stream(model, self).uniform(pu.uid[eligible], t), kind="stable")[:n]]
        marks[chosen] = pu.uid[chosen]
        f = np.unique(pu.family[chosen])
        fam.trust[f] = np.minimum(fam.trust[f] + np.float32(self.trust_gain), 1.0)
        fam.advocacy[f] = np.minimum(fam.advocacy[f] + np.float32(self.advocacy_gain), 1.0)
        self._book(model, len(f) * model.weight * self.GBP_PER_FAMILY, len(f) * model.weight)


@register
@dataclass(frozen=True)
class EHEConsent(Intervention):
    """LA consent for home education of children with a social worker (child in need or looked after)
    or on a special-school roll. Genuine choices are agreed; a no-choice application is refused
    (and the school placement reviewed) with probability ``p_refused``, which lowers that hazard; a
    school's push into home education is stopped by the review with probability ``p_push_stopped``."""

    type = "ehe_consent"
    title = "LA consent for home education"
    lever = "ehe_consent"
    acts_through = ("ehe_no_choice_hazard", "coerced_to_ehe_share")
    source = (
        "Children's Wellbeing and Schools Bill proposals; Education Committee 2021; "
        "refusal and detection shares: assumption"
    )
    cost_basis = "GBP 600 per consent review (assumption: a multi-agency meeting), for the expected applications"
    units = "consent reviews"
    FIELDS: ClassVar = {
        "p_refused": (0.0, 1.0, "probability", "no-choice application refused"),
        "p_push_stopped": (0.0, 1.0, "probability", "school's push into home education stopped"),
    }
    GBP_PER_REVIEW: ClassVar[float] = 600.0
    p_refused: float = 0.5
    p_push_stopped: float = 0.9

    def apply(self, model, strength):
        pu, p, fam = model.pupils, model.p, model.families
        flagged = pu.social_care & (pu.status <= Status.S19)
        flagged |= pu.status == Status.SPECIAL
        idx = flagged.nonzero()[0]
        model.modifiers.scale_no_choice_ehe(idx, 1.0 - self.p_refused * strength)
        u = _stream(model, self).uniform(pu.uid[idx], model.t_week)
        stopped = np.zeros(len(pu), dtype=bool)
        stopped[idx[u < self.p_push_stopped * strength]] = True
        model.modifiers.ehe_consent_needed = stopped
        # Expected applications this week (for the cost): the flagged pupils' EHE hazards.
        f = pu.family[idx]
        no_choice = hazards.no_choice_ehe_hazard(
            pu.stress[idx], pu.distress[idx], pu.unmet_need[idx], fam.fines[f], fam.trust[f], p
        )
        strained = (pu.stress[idx] > p["ehe_stress_threshold"]) | (pu.unmet_need[idx] > 0) | pu.distress[idx]
        expected = float(pu.genuine_ehe_hazard[idx].sum() + (no_choice * strained).sum()) * model.weight
        self._book(model, expected * self.GBP_PER_REVIEW, expected)


@register
@dataclass(frozen=True)
class CAMHSKeyWorkers(Intervention):
    """Key workers for children on CAMHS waiting lists: while a child waits, stress eases a little each
    week (contact, coordination with school) and the family's trust rises once."""

    type = "camhs_key_workers"
    title = "Key workers while waiting for CAMHS"
    lever = "camhs_key_workers"
    acts_through = ("camhs_effect", "ehe_stress_threshold")
    source = "Children's Commissioner 2024 recommendation; weekly relief and trust gain: assumption"
    cost_basis = "GBP 1,400 per child a year on the list (assumption: key worker at about GBP 35,000, caseload 25)"
    units = "child-years supported"
    FIELDS: ClassVar = {
        "weekly_relief": (0.0, 0.05, "stress per week", "stress eased per week of waiting"),
        "trust_gain": (0.0, 0.5, "trust (0-1)", "rise in the family's trust, once"),
    }
    GBP_PER_CHILD_YEAR: ClassVar[float] = 1400.0
    weekly_relief: float = 0.01
    trust_gain: float = 0.05

    def apply(self, model, strength):
        pu = model.pupils
        waiting = (pu.camhs_due_week >= 0).nonzero()[0]
        if len(waiting) == 0:
            return
        _relieve(pu, waiting, self.weekly_relief * strength)
        marks = _marks(model, self, "allocated")
        new = waiting[marks[waiting] != pu.uid[waiting]]
        marks[new] = pu.uid[new]
        f = np.unique(pu.family[new])
        model.families.trust[f] = np.minimum(model.families.trust[f] + np.float32(self.trust_gain * strength), 1.0)
        n = len(waiting) * model.weight / tl.WEEKS_PER_YEAR
        self._book(model, n * self.GBP_PER_CHILD_YEAR, n)


@register
@dataclass(frozen=True)
class SchoolCounsellors(Intervention):
    """A counsellor in every school: highly stressed pupils (above the pastoral threshold) start a course
    of weekly sessions while the school's caseload has room; each session eases stress a little."""

    type = "school_counsellors"
    title = "A counsellor in every school"
    lever = "school_counsellors"
    acts_through = ("pastoral_stress_threshold", "ehe_stress_threshold")
    source = (
        "ETHOS trial (Cooper et al.; up to 10 weekly sessions, small effects on distress); about 60% of English "
        "secondaries already offer some counselling (Roehampton); caseload and relief: assumption"
    )
    cost_basis = (
        "GBP 30,000 a year per secondary and GBP 8,000 per primary or special school (assumption: 0.8 and 0.2 of "
        "a counsellor at about GBP 38,000 with on-costs)"
    )
    units = "courses started"
    FIELDS: ClassVar = {
        "caseload_per_1000": (1.0, 50.0, "pupils at a time per 1,000 on roll", "counselling caseload"),
        "course_weeks": (1.0, 20.0, "weeks", "sessions in a course, one a week"),
        "relief_per_session": (0.0, 0.1, "stress (0-1)", "stress eased by one session"),
    }
    GBP_PER_SCHOOL: ClassVar[dict[int, float]] = {
        Phase.PRIMARY: 8000.0,
        Phase.SECONDARY: 30_000.0,
        Phase.SPECIAL: 8000.0,
    }
    caseload_per_1000: float = 10.0
    course_weeks: float = 8.0
    relief_per_session: float = 0.02

    def apply(self, model, strength):
        if not model.is_term:
            return
        pu, t, n_schools = model.pupils, model.t_week, len(model.schools)
        st = state(model, self)
        until = st.setdefault("until", np.full(len(pu), -1, dtype=np.int32))
        client = _marks(model, self, "client")
        on_roll = _on_school_roll(pu)
        in_course = (until > t) & (client == pu.uid) & on_roll
        caseload = np.bincount(pu.school[in_course], minlength=n_schools)
        capacity = np.maximum(1, np.round(model.rolls * self.caseload_per_1000 / 1000 * strength)).astype(np.int64)
        room = np.maximum(capacity - caseload, 0)
        candidates = (on_roll & ~in_course & (pu.stress > model.p["pastoral_stress_threshold"])).nonzero()[0]
        if len(candidates) and room.any():
            school = pu.school[candidates]
            order = np.lexsort((_stream(model, self).uniform(pu.uid[candidates], t), school))
            candidates, school = candidates[order], school[order]
            first = np.searchsorted(school, school)  # index of each school's first candidate
            start = candidates[np.arange(len(candidates)) - first < room[school]]
            until[start] = t + round(self.course_weeks)
            client[start] = pu.uid[start]
            in_course[start] = True
            self._book(model, 0.0, len(start) * model.weight)
        _relieve(pu, in_course.nonzero()[0], self.relief_per_session)
        if st.get("costed_year") != model.academic_year:  # staff: a yearly cost, booked once a year
            st["costed_year"] = model.academic_year
            gbp = sum(len(ids) * self.GBP_PER_SCHOOL[ph] for ph, ids in model.school_ids.items())
            self._book(model, gbp * model.weight * strength)


@register
@dataclass(frozen=True)
class EarlyIdentification(Intervention):
    """Early identification and intervention protocols: at each half-term review, pupils on a school roll
    with emerging difficulties (stress between ``emerging_stress`` and the pastoral threshold, below the
    point where pastoral or SEN support starts, and not in school distress) are spotted with probability
    ``p_spotted`` and given early help once a year, easing stress."""

    type = "early_identification"
    title = "Early identification and help"
    lever = "early_identification"
    acts_through = ("stress_background", "ehe_stress_threshold")
    source = "SEND Code of Practice graduated approach; Children's Commissioner 2024; shares and relief: assumption"
    cost_basis = "GBP 250 per pupil helped (assumption: about 5 hours of pastoral or SENCo time)"
    units = "pupils helped"
    FIELDS: ClassVar = {
        "p_spotted": (0.0, 1.0, "probability", "emerging difficulty spotted at a review"),
        "emerging_stress": (0.1, 0.5, "stress (0-1)", "lowest stress counted as emerging"),
        "stress_relief": (0.0, 0.3, "stress (0-1)", "stress eased by early help"),
    }
    GBP_PER_PUPIL: ClassVar[float] = 250.0
    p_spotted: float = 0.5
    emerging_stress: float = 0.35
    stress_relief: float = 0.05

    def apply(self, model, strength):
        if model.week not in tl.HALF_TERM_ENDS:
            return
        pu = model.pupils
        marks = _marks(model, self, "helped", yearly=True)
        stress = pu.stress
        emerging = (stress >= self.emerging_stress) & (stress < model.p["pastoral_stress_threshold"])
        idx = (emerging & _on_school_roll(pu) & ~pu.distress & (marks != pu.uid)).nonzero()[0]
        u = _stream(model, self).uniform(pu.uid[idx], model.t_week)
        helped = idx[u < self.p_spotted * strength]
        marks[helped] = pu.uid[helped]
        _relieve(pu, helped, self.stress_relief)
        self._book(model, len(helped) * model.weight * self.GBP_PER_PUPIL, len(helped) * model.weight)
