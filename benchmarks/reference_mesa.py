"""The hot weekly rules twice: a plain per-agent Mesa model, and the package's vectorised functions.

The slow side, :class:`ReferenceModel`, is written the ordinary Mesa way: one
:class:`PupilAgent` per pupil whose ``step()`` does scalar Python arithmetic for
that pupil, and one :class:`SchoolAgent` per school that rations its support hours
by looping over its roll. It imports no dynamics function, only constants
(``MISMATCH_BY_NEED``, the calendar), so it is an independent statement of the
rules. The fast side, :func:`vectorised_week`, applies the same rules to column
arrays with :mod:`simulation.model.dynamics` (``support.share_met`` / ``unmet_need``,
``wellbeing.update_stress`` / ``update_distress`` / ``absence_share`` / ``mismatch``,
``hazards.ehe_hazards``), statement for statement as ``SchoolExitModel`` does.

The rules, for pupils on a school roll (mainstream or special), one week at a time,
in the model's phase order:

1. Support (term weeks). Each school serves tiers in order: plans (demand
   ``need_intensity * support_hours_ehcp``), SEN support (``need_intensity *
   support_hours_sen``), then pastoral help (``support_hours_pastoral``) for pupils
   with ``stress > pastoral_stress_threshold``. Each tier gets ``min(1,
   remaining / demand)`` of its demand. Unmet need is ``intensity * (1 - fidelity *
   share)`` (fidelity ``ehcp_fidelity`` for plans in mainstream, 1 for plans in special schools
   and for SEN support) and ``0.5 * (1 - share)`` for pastoral help; a need the register has not
   recorded is unmet in full (``intensity``, or the pastoral figure if larger); 0 for everyone
   else (``pupil_phases.allocate_support``).
2. Stress. Term: ``stress * (1 - stress_recovery_term) + stress_background *
   vulnerability + stress_from_unmet * unmet + stress_from_mismatch * mismatch`` (mismatch for
   every pupil with a need, recorded or not)
   (+ ``stress_from_transition`` in the first weeks of Year 7), clipped to 0..1.
   Holidays, and children no longer on a roll: ``stress * (1 - stress_recovery_holiday)
   + 0.5 * stress_background * vulnerability`` (``pupil_phases.update_stress``).
3. Attendance (term weeks): school distress with hysteresis (enter above
   ``ebsa_entry_stress``, leave below ``ebsa_exit_stress``) and this week's absence
   share ``min(1, max(base + slope * stress**shape, distress floor, part-time floor))``,
   the base cut by ``fine_deterrence`` while a fine deters, plus ``illness_spell_absence``
   (capped at 1) in a week with an illness spell, whose hazard is the uncut base times
   ``illness_spell_rate / absence_base`` (``pupil_phases.attendance``). Spells, like exits, are
   drawn per pupil by each side in its own way (see 4), and replayed for the exact check.
4. Exits to home education: the genuine and the no-choice hazard of
   ``hazards.ehe_hazards`` (no-choice quartered in holidays), realised per pupil per week.
   The reference draws a Bernoulli with probability ``genuine + no_choice`` from
   the model's ``random.random()``; the vectorised side uses the package's
   :class:`~simulation.model.dynamics.clocks.HazardClock`, whose weekly firing probability
   is ``1 - exp(-hazard)``: the two agree to ``O(hazard**2)``, so exit counts agree in
   distribution, not draw for draw. The route is genuine with probability
   ``genuine / total``. A child who leaves goes to EHE and off the roll (``moves.move``).

Left out, because they are not part of the hot per-pupil arithmetic: bullying incidents,
CAMHS, school responses, off-rolling, the EHCP process and the LA's duties.

Both sides start from :func:`build_state`: a synthetic LA drawn with
``simulation.model.population.build_population``, keeping the pupils on a school roll.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import mesa
import numpy as np

from simulation.model.dynamics import hazards, support, wellbeing
from simulation.model.dynamics.clocks import HazardClock
from simulation.model.dynamics.wellbeing import MISMATCH_BY_NEED, SPECIAL_SCHOOL_MISMATCH
from simulation.model.params import defaults
from simulation.model.population import REFERENCE_LA, build_population
from simulation.model.rng import Streams
from simulation.model.state import SEN, Phase, Route, Status
from simulation.model.timeline import IS_TERM, WEEKS_PER_YEAR, Y7_TRANSITION_WEEKS

# Expected share of a school's roll above the pastoral threshold when support hours are
# set; the same assumption as ``simulation.model.schools._EXPECTED_PASTORAL_SHARE``.
EXPECTED_PASTORAL_SHARE = 0.03

# Columns compared between the two implementations, week by week.
COMPARED = (
    "share",
    "unmet",
    "stress",
    "distress",
    "distress_weeks",
    "absence",
    "sessions_possible",
    "sessions_missed",
    "h_genuine",
    "h_no_choice",
    "status",
    "route",
)


@dataclass
class State:
    """Column arrays for the pupils on a school roll at the start, their families and schools.

    Pupil rows are fixed: a child who leaves keeps the row with ``status`` EHE.
    """

    # pupils: characteristics
    school: np.ndarray  # int32
    sen: np.ndarray  # int8, SEN code
    need: np.ndarray  # int8, Need code
    intensity: np.ndarray  # float32, need intensity 0-1
    vulnerability: np.ndarray  # float32, mean 1
    year_group: np.ndarray  # int8
    base_absence: np.ndarray  # float32, absence share before stress
    family: np.ndarray  # int32, row of the family arrays
    deterred_until: np.ndarray  # int32, week a fine's deterrence ends
    part_time_until: np.ndarray  # int32, week a part-time timetable ends
    # pupils: weekly state
    status: np.ndarray  # int8: ON_ROLL, SPECIAL, or EHE once left
    route: np.ndarray  # int8, Route of the exit
    stress: np.ndarray  # float32
    distress: np.ndarray  # bool
    distress_weeks: np.ndarray  # int16
    unmet: np.ndarray  # float32
    share: np.ndarray  # float64, share of support demand met (1 with no demand)
    absence: np.ndarray  # float32, this week's absence share
    sessions_possible: np.ndarray  # float32, weeks on roll
    sessions_missed: np.ndarray  # float32
    h_genuine: np.ndarray  # float64, this week's genuine EHE hazard (0 if not at risk)
    h_no_choice: np.ndarray  # float64, this week's no-choice EHE hazard
    # families (siblings share a row)
    fines: np.ndarray  # int16
    trust: np.ndarray  # float32
    preference: np.ndarray  # float32, EHE preference
    capacity: np.ndarray  # float32, EHE capacity
    # schools
    support_hours: np.ndarray  # float32, hours per week
    inclusion: np.ndarray  # float32
    t_week: int = 0

    @property
    def n_pupils(self) -> int:
        return len(self.school)

    def copy(self) -> State:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return State(**{k: v.copy() if isinstance(v, np.ndarray) else v for k, v in values.items()})

    def snapshot(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name).copy() for name in COMPARED}


def build_state(scale: float = 0.05, seed: int = 0, *, warm: bool = True, p: dict | None = None) -> State:
    """A synthetic start: the reference LA at ``scale``, pupils on a school roll only.

    Support hours per school are ``ratio * demand`` with ``ratio`` the parameter
    ``support_capacity_ratio`` (``special_capacity_ratio`` for special schools) and
    demand the plan and SEN-support hours of the roll plus ``EXPECTED_PASTORAL_SHARE``
    of the roll at pastoral hours, as ``simulation.model.schools.initialise`` sets them.

    ``warm`` gives the mid-run spread a fresh population lacks (its stress is all 0),
    so that every branch runs: stress ~ Beta(1.2, 3), school distress above the entry
    threshold (and for a third of pupils in the hysteresis band), fines ~ Poisson(0.3)
    per family, 3% of pupils deterred by a recent fine and 1% on part-time timetables
    for up to eight weeks.
    """
    p = p or defaults()
    rng = np.random.default_rng(seed)
    pop = build_population(REFERENCE_LA, rng, scale=scale)
    pu, fam, sc = pop.pupils, pop.families, pop.schools
    keep = np.flatnonzero(pu.status <= Status.SPECIAL)
    n = len(keep)
    sigma = p["absence_propensity_sigma"]
    propensity = rng.lognormal(-0.5 * sigma * sigma, sigma, size=n).astype(np.float32)
    sen, fsm = pu.sen[keep], pu.fsm[keep]
    base = wellbeing.baseline_absence(
        propensity, fsm, sen, p["absence_base"], p["absence_mult_fsm"], p["absence_mult_sen"]
    )
    school = pu.school[keep].astype(np.int32)
    intensity = pu.need_intensity[keep]
    n_schools = len(sc)
    roll = np.bincount(school, minlength=n_schools)
    hours = np.choose(sen, [0.0, p["support_hours_sen"], p["support_hours_ehcp"]]) * intensity
    demand = np.bincount(school, weights=hours, minlength=n_schools)
    demand += EXPECTED_PASTORAL_SHARE * roll * p["support_hours_pastoral"]
    ratio = np.where(sc.phase == Phase.SPECIAL, p["special_capacity_ratio"], p["support_capacity_ratio"])
    n_families = int(pu.family.max()) + 1
    stress = np.zeros(n, dtype=np.float32)
    distress = np.zeros(n, dtype=bool)
    fines = np.zeros(n_families, dtype=np.int16)
    deterred_until = np.full(n, -1, dtype=np.int32)
    part_time_until = np.full(n, -1, dtype=np.int32)
    if warm:
        stress[:] = rng.beta(1.2, 3.0, size=n)
        band = (stress > p["ebsa_exit_stress"]) & (stress <= p["ebsa_entry_stress"])
        distress[:] = (stress > p["ebsa_entry_stress"]) | (band & (rng.random(n) < 1 / 3))
        fines[:] = rng.poisson(0.3, size=n_families)
        deterred = rng.random(n) < 0.03
        deterred_until[deterred] = rng.integers(1, 8, size=int(deterred.sum()))
        part_time = rng.random(n) < 0.01
        part_time_until[part_time] = rng.integers(1, 9, size=int(part_time.sum()))
    return State(
        school=school,
        sen=sen.copy(),
        need=pu.need[keep].copy(),
        intensity=intensity.copy(),
        vulnerability=pu.vulnerability[keep].copy(),
        year_group=pu.year_group[keep].copy(),
        base_absence=base,
        family=pu.family[keep].astype(np.int32),
        deterred_until=deterred_until,
        part_time_until=part_time_until,
        status=pu.status[keep].copy(),
        route=np.zeros(n, dtype=np.int8),
        stress=stress,
        distress=distress,
        distress_weeks=distress.astype(np.int16),
        unmet=np.zeros(n, dtype=np.float32),
        share=np.ones(n),
        absence=np.zeros(n, dtype=np.float32),
        sessions_possible=np.zeros(n, dtype=np.float32),
        sessions_missed=np.zeros(n, dtype=np.float32),
        h_genuine=np.zeros(n),
        h_no_choice=np.zeros(n),
        fines=fines,
        trust=fam.trust[:n_families].copy(),
        preference=fam.ehe_preference[:n_families].copy(),
        capacity=fam.ehe_capacity[:n_families].copy(),
        support_hours=(ratio * demand).astype(np.float32),
        inclusion=sc.inclusion.copy(),
    )


# --- the slow side: one Mesa agent per pupil ---------------------------------------------------


class SchoolAgent(mesa.Agent):
    """A school with a fixed number of support hours and a list of the pupils it has had."""

    def __init__(self, model: ReferenceModel, support_hours: float, inclusion: float):
        super().__init__(model)
        self.support_hours = support_hours
        self.inclusion = inclusion
        self.pupils: list[PupilAgent] = []

    def allocate(self) -> None:
        """Serve plans, then SEN support, then pastoral help; each tier gets what is left."""
        p = self.model.p
        wanted = [0.0, 0.0, 0.0]
        for pupil in self.pupils:
            tier, demand = pupil.support_demand()
            if tier is not None:
                wanted[tier] += demand
        remaining = self.support_hours * (1.0 + p["support_funding_change"])
        fraction = [1.0, 1.0, 1.0]
        for tier in range(3):
            if wanted[tier] > 0.0:
                fraction[tier] = min(1.0, remaining / wanted[tier])
                remaining -= fraction[tier] * wanted[tier]
        for pupil in self.pupils:
            pupil.receive_support(fraction)


class PupilAgent(mesa.Agent):
    """One pupil; every number is a Python float and every rule is scalar arithmetic."""

    def __init__(self, model: ReferenceModel, index: int, school: SchoolAgent, s: State):
        super().__init__(model)
        i, f = index, int(s.family[index])
        self.index = index
        self.school = school
        self.status = int(s.status[i])
        self.route = int(s.route[i])
        self.sen = int(s.sen[i])
        self.need = int(s.need[i])
        self.intensity = float(s.intensity[i])
        self.vulnerability = float(s.vulnerability[i])
        self.year_group = int(s.year_group[i])
        self.base_absence = float(s.base_absence[i])
        self.deterred_until = int(s.deterred_until[i])
        self.part_time_until = int(s.part_time_until[i])
        self.stress = float(s.stress[i])
        self.distress = bool(s.distress[i])
        self.distress_weeks = int(s.distress_weeks[i])
        self.unmet = float(s.unmet[i])
        self.share = float(s.share[i])
        self.absence = float(s.absence[i])
        self.sessions_possible = float(s.sessions_possible[i])
        self.sessions_missed = float(s.sessions_missed[i])
        self.h_genuine = 0.0
        self.h_no_choice = 0.0
        # Family traits: no rule here changes them, so each child holds its own copy.
        self.fines = int(s.fines[f])
        self.trust = float(s.trust[f])
        self.preference = float(s.preference[f])
        self.capacity = float(s.capacity[f])

    @property
    def on_roll(self) -> bool:
        return self.status <= Status.SPECIAL

    def support_demand(self) -> tuple[int | None, float]:
        """(tier, hours wanted this week), or (None, 0) with no need or no school."""
        p = self.model.p
        if not self.on_roll:
            return None, 0.0
        if self.sen == SEN.EHCP:
            return support.TIER_EHCP, self.intensity * p["support_hours_ehcp"]
        if self.sen == SEN.SUPPORT:
            return support.TIER_SEN, self.intensity * p["support_hours_sen"]
        if self.stress > p["pastoral_stress_threshold"]:
            return support.TIER_PASTORAL, p["support_hours_pastoral"]
        return None, 0.0

    def receive_support(self, fraction: list[float]) -> None:
        tier, _ = self.support_demand()
        if tier is None:
            self.share, self.unmet = 1.0, 0.0
        else:
            self.share = fraction[tier]
            if tier == support.TIER_PASTORAL:
                self.unmet = 0.5 * (1.0 - self.share)
            else:
                special = self.status == Status.SPECIAL
                fidelity = self.model.p["ehcp_fidelity"] if tier == support.TIER_EHCP and not special else 1.0
                self.unmet = self.intensity * (1.0 - fidelity * self.share)
        if self.on_roll and self.sen == SEN.NONE and self.need > 0:  # a need nobody has recorded
            self.unmet = max(self.unmet, self.intensity)

    def step(self) -> None:
        self.update_stress()
        if self.model.is_term:
            self.attend()
        self.decide_on_school()

    def update_stress(self) -> None:
        p, model = self.model.p, self.model
        if model.is_term and self.on_roll:
            inputs = p["stress_background"] * self.vulnerability
            if self.need > 0:  # the need itself, on the register or not
                fit = SPECIAL_SCHOOL_MISMATCH if self.status == Status.SPECIAL else 1.0 - self.school.inclusion
                inputs += p["stress_from_mismatch"] * float(MISMATCH_BY_NEED[self.need]) * self.intensity * fit
            inputs += p["stress_from_unmet"] * self.unmet
            if model.week < Y7_TRANSITION_WEEKS and self.year_group == 7:
                inputs += p["stress_from_transition"]
            recovery = p["stress_recovery_term"]
        else:  # a holiday, or away from school and its pressures
            inputs = 0.5 * p["stress_background"] * self.vulnerability
            recovery = p["stress_recovery_holiday"]
        self.stress = min(max(self.stress * (1.0 - recovery) + inputs, 0.0), 1.0)

    def attend(self) -> None:
        p, t = self.model.p, self.model.t_week
        if self.distress:
            self.distress = self.stress > p["ebsa_exit_stress"]
        else:
            self.distress = self.stress > p["ebsa_entry_stress"]
        self.distress_weeks = self.distress_weeks + 1 if self.distress else 0
        base = self.base_absence
        if self.deterred_until > t:
            base *= 1.0 - p["fine_deterrence"]
        absence = base + p["absence_stress_slope"] * self.stress ** p["absence_stress_shape"]
        if self.distress:
            absence = max(absence, p["ebsa_absence"])
        if self.part_time_until > t:
            absence = max(absence, p["part_time_absence"])
        self.absence = min(absence, 1.0)
        if self.on_roll:
            hazard = self.base_absence * p["illness_spell_rate"] / p["absence_base"]
            if self.model.random.random() < -math.expm1(-hazard):
                self.absence = min(self.absence + p["illness_spell_absence"], 1.0)
                self.model.illness.append(self.index)
            self.sessions_possible += 1.0
            self.sessions_missed += self.absence

    def decide_on_school(self) -> None:
        """The family may take the child out to home education: genuine wish, or no choice left."""
        p, model = self.model.p, self.model
        if not self.on_roll:
            self.h_genuine = self.h_no_choice = 0.0
            return
        genuine = p["ehe_genuine_hazard"] * self.preference * (0.5 + self.capacity)
        s0 = p["ehe_stress_threshold"]
        strain = min(max((self.stress - s0) / (1.0 - s0), 0.0), 1.0)
        strain += p["ehe_distress_weight"] * self.distress + p["ehe_unmet_weight"] * self.unmet
        push = strain * (1.0 + p["ehe_fines_push"] * self.fines) * (1.5 - self.trust)
        no_choice = p["ehe_no_choice_hazard"] * push
        if not model.is_term:
            no_choice *= 0.25
        self.h_genuine, self.h_no_choice = genuine, no_choice
        total = genuine + no_choice
        model.expected_exits += total
        model.exit_variance += total * (1.0 - total)
        if self.random.random() < total:
            route = Route.GENUINE if self.random.random() < genuine / total else Route.NO_CHOICE
            self.leave_for_home_education(route)

    def leave_for_home_education(self, route: Route) -> None:
        self.status = int(Status.EHE)
        self.route = int(route)
        self.distress = False
        self.distress_weeks = 0
        self.part_time_until = -1
        self.model.exits.append((self.index, int(route)))


class ReferenceModel(mesa.Model):
    """The hot weekly rules with one Mesa agent per pupil.

    Each week the schools ration their hours, then the pupils step in random order.
    """

    def __init__(self, state: State, p: dict | None = None, seed: int = 0):
        super().__init__(seed=seed)
        self.p = dict(p or defaults())
        self.t_week = state.t_week
        self.is_term = False
        self.exits: list[tuple[int, int]] = []  # (pupil index, route), all weeks
        self.illness: list[int] = []  # pupil index of each illness spell, all weeks
        self.expected_exits = 0.0  # sum of weekly exit probabilities over pupils at risk
        self.exit_variance = 0.0
        schools = [
            SchoolAgent(self, float(h), float(c)) for h, c in zip(state.support_hours, state.inclusion, strict=True)
        ]
        for i in range(state.n_pupils):
            school = schools[int(state.school[i])]
            school.pupils.append(PupilAgent(self, i, school, state))
        self.schools = self.agents_by_type[SchoolAgent]
        self.pupils = self.agents_by_type[PupilAgent]

    @property
    def week(self) -> int:
        return self.t_week % WEEKS_PER_YEAR

    def step(self) -> None:
        self.is_term = bool(IS_TERM[self.week])
        if self.is_term:
            self.schools.do("allocate")
        self.pupils.shuffle_do("step")
        self.t_week += 1

    def snapshot(self) -> dict[str, np.ndarray]:
        """The compared columns as arrays in pupil order (dtypes as in :class:`State`)."""
        ordered = sorted(self.pupils, key=lambda a: a.index)
        return {name: np.array([getattr(a, name) for a in ordered]) for name in COMPARED}


# --- the fast side: the package's vectorised functions -----------------------------------------


class ExitDraws:
    """How the model realises exits: a hazard clock per pupil and a route uniform per event."""

    def __init__(self, n_pupils: int, seed: int = 0):
        streams = Streams(seed)
        self.uid = np.arange(n_pupils, dtype=np.int64)
        self.clock = HazardClock(streams["ehe"], self.uid)
        self.illness = HazardClock(streams["illness"], self.uid)
        self.route_stream = streams["ehe_route"]


@dataclass
class WeekExits:
    who: np.ndarray  # pupil rows that left this week
    route: np.ndarray  # their Route codes
    expected: float  # sum of this week's firing probabilities over pupils at risk
    variance: float
    illness: int = 0  # illness spells this week


def vectorised_week(
    s: State,
    p: dict,
    draws: ExitDraws | None = None,
    replay: tuple[np.ndarray, np.ndarray] | None = None,
    replay_illness: np.ndarray | None = None,
) -> WeekExits:
    """One week of the same rules on arrays, statement for statement as ``SchoolExitModel``.

    Exits and illness spells come from ``draws`` or, to follow another run exactly, from
    ``replay`` (rows and routes that leave this week) and ``replay_illness`` (rows with a spell).
    """
    t = s.t_week
    week = t % WEEKS_PER_YEAR
    is_term = bool(IS_TERM[week])
    on_roll = s.status <= Status.SPECIAL
    ill = np.zeros(0, dtype=np.int64)
    support_idx = np.zeros(0, dtype=np.int64)
    if is_term:  # pupil_phases.allocate_support
        need = on_roll & ((s.sen > 0) | (s.stress > p["pastoral_stress_threshold"]))
        idx = np.flatnonzero(need)
        sen, intensity = s.sen[idx], s.intensity[idx]
        tier = np.where(
            sen == SEN.EHCP,
            support.TIER_EHCP,
            np.where(sen == SEN.SUPPORT, support.TIER_SEN, support.TIER_PASTORAL),
        )
        demand = np.where(
            sen == SEN.EHCP,
            intensity * p["support_hours_ehcp"],
            np.where(sen == SEN.SUPPORT, intensity * p["support_hours_sen"], p["support_hours_pastoral"]),
        )
        capacity = s.support_hours * (1.0 + p["support_funding_change"])
        share = support.share_met(s.school[idx], tier, demand, capacity)
        special = s.status[idx] == Status.SPECIAL
        fidelity = np.where((sen == SEN.EHCP) & ~special, p["ehcp_fidelity"], 1.0)
        unmet = np.where(
            tier == support.TIER_PASTORAL,
            0.5 * (1.0 - share),
            support.unmet_need(intensity, share, fidelity),
        )
        s.unmet[:] = 0.0
        s.unmet[idx] = unmet
        s.share[:] = 1.0
        s.share[idx] = share
        support_idx = np.flatnonzero(on_roll & (s.need > 0))
        unrecorded = support_idx[s.sen[support_idx] == SEN.NONE]
        s.unmet[unrecorded] = np.maximum(s.unmet[unrecorded], s.intensity[unrecorded])
    # pupil_phases.update_stress
    out = np.flatnonzero(~on_roll)
    out_stress = s.stress[out]
    if is_term:
        inputs = p["stress_background"] * s.vulnerability
        in_special = s.status[support_idx] == Status.SPECIAL
        inclusion = s.inclusion[s.school[support_idx]]
        inputs[support_idx] += p["stress_from_mismatch"] * wellbeing.mismatch(
            s.need[support_idx], s.intensity[support_idx], inclusion, in_special
        )
        inputs += p["stress_from_unmet"] * s.unmet
        if week < Y7_TRANSITION_WEEKS:
            inputs[s.year_group == 7] += p["stress_from_transition"]
        s.stress[:] = wellbeing.update_stress(s.stress, p["stress_recovery_term"], inputs)
    else:
        s.stress[:] = wellbeing.update_stress(
            s.stress, p["stress_recovery_holiday"], 0.5 * p["stress_background"] * s.vulnerability
        )
    s.stress[out] = wellbeing.update_stress(
        out_stress,
        p["stress_recovery_holiday"],
        0.5 * p["stress_background"] * s.vulnerability[out],
    )
    if is_term:  # pupil_phases.attendance
        s.distress[:] = wellbeing.update_distress(s.distress, s.stress, p["ebsa_entry_stress"], p["ebsa_exit_stress"])
        s.distress_weeks[:] = np.where(s.distress, s.distress_weeks + 1, 0)
        base = s.base_absence
        deterred = np.flatnonzero(s.deterred_until > t)
        if len(deterred):
            base = base.copy()
            base[deterred] *= 1.0 - p["fine_deterrence"]
        q = wellbeing.absence_share(
            base,
            s.stress,
            p["absence_stress_slope"],
            p["absence_stress_shape"],
            s.distress,
            p["ebsa_absence"],
            s.part_time_until > t,
            p["part_time_absence"],
        )
        if replay_illness is not None:
            ill = replay_illness
        else:
            if draws is None:
                raise ValueError("vectorised_week needs draws or a replay")
            spell_hazard = s.base_absence * np.float32(p["illness_spell_rate"] / p["absence_base"])
            ill = draws.illness.advance_all(spell_hazard * on_roll, draws.uid)
        q[ill] = np.minimum(q[ill] + np.float32(p["illness_spell_absence"]), 1.0)
        s.absence[:] = q
        weight = on_roll.astype(np.float32)
        s.sessions_possible[:] += weight
        s.sessions_missed[:] += q * weight
    # pupil_phases.family_decisions
    eligible = np.flatnonzero(on_roll)
    f = s.family[eligible]
    genuine, no_choice = hazards.ehe_hazards(
        s.stress[eligible],
        s.distress[eligible],
        s.unmet[eligible],
        s.fines[f],
        s.trust[f],
        s.preference[f],
        s.capacity[f],
        p,
    )
    if not is_term:
        no_choice = no_choice * 0.25
    total = genuine + no_choice
    s.h_genuine[:] = 0.0
    s.h_no_choice[:] = 0.0
    s.h_genuine[eligible] = genuine
    s.h_no_choice[eligible] = no_choice
    if replay is not None:
        who, route = replay
        firing = total
    else:
        if draws is None:
            raise ValueError("vectorised_week needs draws or a replay")
        firing = -np.expm1(-total)  # the clock's chance of firing this week
        who = draws.clock.advance(eligible, total, draws.uid)
        fired = np.searchsorted(eligible, who)
        share_genuine = genuine[fired] / np.maximum(total[fired], 1e-12)
        is_genuine = draws.route_stream.uniform(draws.uid[who], t) < share_genuine
        route = np.where(is_genuine, Route.GENUINE, Route.NO_CHOICE).astype(np.int8)
    s.status[who] = Status.EHE  # moves.move
    s.route[who] = route
    s.distress[who] = False
    s.distress_weeks[who] = 0
    s.part_time_until[who] = -1
    s.t_week += 1
    return WeekExits(
        np.asarray(who),
        np.asarray(route),
        float(firing.sum()),
        float((firing * (1.0 - firing)).sum()),
        len(ill) if is_term else 0,
    )


def reference_weekly_illness(model: ReferenceModel, start: int) -> np.ndarray:
    """Rows of the illness spells the reference drew from position ``start`` of its log."""
    return np.array(model.illness[start:], dtype=np.int64)


def reference_weekly_exits(model: ReferenceModel, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and routes of the exits the reference recorded from position ``start`` of its log."""
    rows = model.exits[start:]
    return (
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.int8),
    )
