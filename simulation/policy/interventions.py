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
  :class:`Modifiers`). They are reset every week.

``start_year`` counts evaluation years from 0 (no intervention acts during burn-in);
``end_year`` is the last year it acts (inclusive); ``ramp_years`` spreads the rise of its
strength. Each class names the registry parameters it moves (``levers``), the basis of its
default effect size (``source``) and of its cost (``cost_basis``, empty when none can be
estimated); its fields carry bounds, units and meanings (``FIELDS``). Costs are booked as the
intervention acts (pupils supported, capacity bought), in GBP for the whole LA (simulated
counts times ``model.weight``): see :meth:`Intervention.cost_per_year`.

The weekly programmes that have no registry lever (mentors, counsellors, ...) are in
:mod:`simulation.programmes`; the lever-moving interventions are here.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from simulation.model import timeline as tl
from simulation.model.params import PARAMS
from simulation.model.state import Phase, Status

REGISTRY: dict[str, type[Intervention]] = {}
REFERENCE_PUPILS = 80_000  # pupils of the reference LA: per-LA running costs are scaled from it
_TIMING = ("start_year", "end_year", "ramp_years")


class InterventionError(ValueError):
    """A bad intervention table; the message is one line naming where, the key and what is allowed."""


def register(cls: type[Intervention]) -> type[Intervention]:
    REGISTRY[cls.type] = cls
    return cls


class Modifiers:
    """Per-pupil multipliers interventions set in phase 2 for the mechanisms of the same week.

    ``None`` means "no change", and the hooks in the mechanisms are skipped entirely, so a
    scenario without interventions runs exactly as before. Reset every week by the model.

    - ``stress_input_scale`` multiplies each pupil's term-time stress inputs (phase 4);
    - ``no_choice_ehe_scale`` multiplies each pupil's no-choice home-education hazard (phase 9);
    - ``ehe_consent_needed`` marks pupils for whom a school's push into home education is
      stopped by an LA consent review (phase 7).
    """

    __slots__ = ("ehe_consent_needed", "n", "no_choice_ehe_scale", "stress_input_scale")

    def __init__(self, n_pupils: int = 0):
        self.n = n_pupils
        self.stress_input_scale: np.ndarray | None = None
        self.no_choice_ehe_scale: np.ndarray | None = None
        self.ehe_consent_needed: np.ndarray | None = None

    def scale_stress_inputs(self, idx: np.ndarray, factor: float) -> None:
        if self.stress_input_scale is None:
            self.stress_input_scale = np.ones(self.n, dtype=np.float32)
        self.stress_input_scale[idx] *= np.float32(factor)

    def scale_no_choice_ehe(self, idx: np.ndarray, factor: float) -> None:
        if self.no_choice_ehe_scale is None:
            self.no_choice_ehe_scale = np.ones(self.n, dtype=np.float64)
        self.no_choice_ehe_scale[idx] *= factor


def state(model, iv: Intervention) -> dict:
    """The intervention's own state in this model run (a dict; created on first use)."""
    store = model.__dict__.setdefault("intervention_state", {})
    return store.setdefault(iv, {"gbp": {}, "units": {}})


@dataclass(frozen=True)
class Intervention:
    """Base: timing, validation metadata and cost booking shared by every intervention."""

    type: ClassVar[str] = ""
    title: ClassVar[str] = ""  # short name for tables and figures
    lever: ClassVar[str] = ""  # the main registry parameter moved; a programme without one uses its type
    levers: ClassVar[tuple[str, ...]] = ()  # every registry parameter it moves
    source: ClassVar[str] = ""  # basis of the default effect size
    cost_basis: ClassVar[str] = ""  # basis of the cost estimate ("" = not estimated)
    units: ClassVar[str] = ""  # what the booked units count
    FIELDS: ClassVar[dict[str, tuple[float, float, str, str]]] = {}  # field: (low, high, unit, meaning)
    start_year: int = 0
    end_year: int | None = None
    ramp_years: int = 0

    def strength(self, eval_year: int) -> float:
        """0 before the start and after the end; rises linearly over ``ramp_years``."""
        if eval_year < self.start_year or (self.end_year is not None and eval_year > self.end_year):
            return 0.0
        if self.ramp_years <= 0:
            return 1.0
        return min(1.0, (eval_year - self.start_year + 1) / (self.ramp_years + 1))

    def adjust(self, p: dict[str, float], strength: float) -> None:
        """Change live parameter values for the coming year (phase 2, first week of the year)."""

    def apply(self, model, strength: float) -> None:
        """Act on the model's arrays this week (phase 2, every week), with whole-array operations
        and a random stream of the intervention's own (``model.streams["intervention:" + type]``)."""

    def conflict_keys(self) -> set[str]:
        """What two interventions may not both set in the same year."""
        return {self.lever, *self.levers}

    def cost_per_year(self, model) -> dict[int, float]:
        """GBP spent in each academic year of the run so far (whole LA), from what it did."""
        return dict(state(model, self)["gbp"])

    def units_per_year(self, model) -> dict[int, float]:
        """The booked units (see ``units``) in each academic year (whole LA)."""
        return dict(state(model, self)["units"])

    def _book(self, model, gbp: float, units: float = 0.0) -> None:
        led = state(model, self)
        year = model.academic_year
        led["gbp"][year] = led["gbp"].get(year, 0.0) + float(gbp)
        led["units"][year] = led["units"].get(year, 0.0) + float(units)

    def _set(self, p: dict[str, float], name: str, value: float) -> None:
        spec = PARAMS[name]
        value = min(max(value, spec.low), spec.high)
        p[name] = round(value) if spec.integer else value

    def _toward(self, p: dict[str, float], name: str, target: float, strength: float) -> None:
        self._set(p, name, p[name] + (target - p[name]) * strength)

    @classmethod
    def describe(cls) -> dict:
        """The class as documentation: what it moves, its fields, sources and cost basis."""
        fields = {}
        for f in dataclasses.fields(cls):
            if f.name not in _TIMING:
                low, high, unit, meaning = cls.FIELDS[f.name]
                fields[f.name] = {"default": f.default, "low": low, "high": high, "unit": unit, "meaning": meaning}
        return {
            "type": cls.type,
            "title": cls.title,
            "levers": list(cls.levers),
            "what": " ".join((cls.__doc__ or "").split("\n\n")[0].split()),
            "fields": fields,
            "source": cls.source,
            "cost_basis": cls.cost_basis or "not estimated",
        }


def _per_week_la(model, gbp_per_year_reference_la: float) -> float:
    """A running cost quoted for the reference LA, scaled to this LA's children, for one week."""
    children = len(model.pupils) * model.weight
    return gbp_per_year_reference_la * children / REFERENCE_PUPILS / tl.WEEKS_PER_YEAR


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
    levers = ("fines_first_share",)
    source = "DfE, Working together to improve school attendance (2024); MECHANISMS: p_fine 0.5 -> 0.05"
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
    levers = ("fines_first_share", "p_fine")
    source = "DfE parental responsibility measures; MECHANISMS: +25% fines"
    cost_basis = ""  # revenue-raising; administration not estimated
    FIELDS: ClassVar = {
        "fines_first_share": (0.0, 1.0, "share of schools", "schools fines-first"),
        "fine_increase": (0.0, 1.0, "share", "rise in the chance a persistently absent pupil's family is fined"),
    }
    fines_first_share: float = 0.8
    fine_increase: float = 0.25

    def adjust(self, p, strength):
        self._toward(p, "fines_first_share", self.fines_first_share, strength)
        self._set(p, "p_fine", p["p_fine"] * (1.0 + self.fine_increase * strength))


@register
@dataclass(frozen=True)
class SpecialSchoolPlaces(Intervention):
    """More special-school and resourced-provision places: places x (1 + increase)."""

    type = "special_school_places"
    title = "Special school places"
    lever = "special_places_ratio"
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
        self._book(model, extra * self.GBP_PER_CONTACT + _per_week_la(model, self.GBP_RUNNING), extra)


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
    levers = ("placement_weeks",)
    source = "DfE Fair Access Protocols guidance (2021): a place within 20 school days (4 weeks); assumption"
    cost_basis = "GBP 150,000 a year per reference-size LA (assumption: three admissions officers)"
    FIELDS: ClassVar = {"placement_weeks": (1.0, 16.0, "weeks (mean)", "mean weeks to secure a school place")}
    GBP_PER_YEAR: ClassVar[float] = 150_000.0
    placement_weeks: float = 4.0

    def adjust(self, p, strength):
        self._toward(p, self.lever, self.placement_weeks, strength)

    def apply(self, model, strength):
        self._book(model, _per_week_la(model, self.GBP_PER_YEAR) * strength)


@register
@dataclass(frozen=True)
class ComplaintTimeLimit(Intervention):
    """A 12-week limit on the LA's handling of complaints about children out of education."""

    type = "complaint_time_limit"
    title = "12-week complaint limit"
    lever = "complaint_response_weeks"
    levers = ("complaint_response_weeks",)
    source = "Councils' 12-week pledge after LGSCO findings (LGSCO 2022)"
    cost_basis = "GBP 45,000 a year per reference-size LA (assumption: one complaints officer)"
    FIELDS: ClassVar = {"response_weeks": (8.0, 40.0, "weeks", "weeks to answer a complaint")}
    GBP_PER_YEAR: ClassVar[float] = 45_000.0
    response_weeks: float = 12.0

    def adjust(self, p, strength):
        self._toward(p, self.lever, self.response_weeks, strength)

    def apply(self, model, strength):
        self._book(model, _per_week_la(model, self.GBP_PER_YEAR) * strength)


@register
@dataclass(frozen=True)
class SENDTraining(Intervention):
    """SEND training for teachers: every school's inclusion rises, so the mismatch between a child's
    need and the classroom (a source of stress) falls."""

    type = "send_training"
    title = "SEND training for teachers"
    lever = "inclusion_uplift"
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


def from_dict(raw: dict, where: str, horizon_years: int) -> Intervention:
    """Build an intervention from its TOML table, refusing unknown types, fields and values."""
    kind = raw.get("type")
    if kind not in REGISTRY:
        raise InterventionError(f"{where}: unknown intervention type {kind!r} (allowed: {', '.join(sorted(REGISTRY))})")
    cls = REGISTRY[kind]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in raw.items():
        if key == "type":
            continue
        if key not in fields:
            raise InterventionError(f"{where}: unknown field {key!r} for {kind} (allowed: {', '.join(fields)})")
        if key in _TIMING:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InterventionError(f"{where}: {key} = {value!r} must be a whole number of years >= 0")
        else:
            low, high, unit, _ = cls.FIELDS[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InterventionError(
                    f"{where}: {kind}.{key} = {value!r} is not a number (allowed: {low:g} to {high:g} {unit})"
                )
            if not low <= value <= high:
                raise InterventionError(
                    f"{where}: {kind}.{key} = {value!r} out of range (allowed: {low:g} to {high:g} {unit})"
                )
            value = float(value)
        kwargs[key] = value
    iv = cls(**kwargs)
    if iv.start_year >= horizon_years:
        raise InterventionError(
            f"{where}: start_year = {iv.start_year} is after the horizon ({horizon_years} evaluation years; "
            f"allowed: 0 to {horizon_years - 1})"
        )
    if iv.end_year is not None and iv.end_year < iv.start_year:
        raise InterventionError(f"{where}: end_year = {iv.end_year} is before start_year = {iv.start_year}")
    return iv


def to_dict(iv: Intervention) -> dict:
    out = {"type": iv.type}
    out.update({k: v for k, v in dataclasses.asdict(iv).items() if v is not None})
    return out


def find_conflict(ivs: tuple[Intervention, ...] | list[Intervention]) -> str | None:
    """Two interventions that set the same lever in overlapping years: a one-line message, or None."""
    for (i, a), (j, b) in itertools.combinations(enumerate(ivs), 2):
        shared = sorted(a.conflict_keys() & b.conflict_keys())
        if not shared:
            continue
        a_end = a.end_year if a.end_year is not None else 10**9
        b_end = b.end_year if b.end_year is not None else 10**9
        lo, hi = max(a.start_year, b.start_year), min(a_end, b_end)
        if lo <= hi:
            years = f"from evaluation year {lo}" if hi >= 10**9 else f"in evaluation years {lo}-{hi}"
            return (
                f"interventions[{i}] ({a.type}) and interventions[{j}] ({b.type}) both set {shared[0]!r} {years} "
                f"(allowed: one intervention per lever at a time; give them end_year/start_year that do not overlap)"
            )
    return None


# The weekly programmes register themselves on import; re-exported so every class is importable from here.
from .programmes import (  # noqa: E402
    AttendanceMentors,
    CAMHSKeyWorkers,
    EarlyIdentification,
    EBSASpecialistSupport,
    EHEConsent,
    FamilyLiaison,
    MentalHealthSupportTeams,
    SchoolCounsellors,
)

PROGRAMMES = (
    AttendanceMentors,
    CAMHSKeyWorkers,
    EarlyIdentification,
    EBSASpecialistSupport,
    EHEConsent,
    FamilyLiaison,
    MentalHealthSupportTeams,
    SchoolCounsellors,
)
