"""How a child changes place: status moves with their log entry, school placement, slot refills.

Every status change in the model goes through :func:`move`, so the event log is
complete by construction and the conservation checks in the tests hold.
"""

from __future__ import annotations

import numpy as np

from .dynamics.hazards import behaviour_static_risk, genuine_ehe_hazard, no_choice_strain_terms
from .dynamics.wellbeing import baseline_absence
from .population import LATENT_NEEDS, draw_characteristics, draw_families
from .state import (
    PUPIL_COLUMNS,
    SEN,
    UNSET_IS_MINUS_ONE,
    EHCPStage,
    EHEReason,
    Kind,
    Need,
    Phase,
    Reason,
    Route,
    Status,
    make_uid,
)
from .world import World

OUT_OF_EDUCATION = (Status.S19, Status.EHE, Status.CME)
# Columns :func:`refill` always writes itself: drawn characteristics and the constants derived from them.
_CHARACTERISTICS = ("year_group", "female", "fsm", "social_care", "sen", "need", "need_intensity")
_DRAWN = (
    *_CHARACTERISTICS,
    "vulnerability", "absence_propensity", "behaviour_frailty",
    "base_absence", "illness_hazard", "behaviour_base", "genuine_ehe_hazard",
)  # fmt: skip
# What a new child's row holds before its characteristics are drawn: every other column except identity.
_NEW_CHILD = {
    name: (-1 if name in UNSET_IS_MINUS_ONE else 0)
    for name in PUPIL_COLUMNS
    if name not in ("generation", "uid", *_DRAWN)
}


def move(
    w: World,
    idx: np.ndarray,
    to: Status,
    true: Reason,
    recorded: Reason,
    school: np.ndarray | None = None,
    value: np.ndarray | float = 0.0,
) -> None:
    """Move pupils ``idx`` to status ``to`` (and ``school``), logging one event each."""
    if len(idx) == 0:
        return
    pu = w.pupils
    w.log.record(w, Kind.MOVE, idx, to=int(to), true=int(true), recorded=int(recorded), value=value)
    status = pu.status
    before = status[idx] if to in OUT_OF_EDUCATION else None
    status[idx] = to
    old = pu.school[idx]
    rolls = w.rolls
    if old.max() >= 0:  # (not when every child moved is already off a roll: arrivals, placements)
        rolls -= np.bincount(old[old >= 0], minlength=len(rolls))
    t = w.t_week
    if school is None:
        pu.school[idx] = -1
        for column in _SCHOOL_TRAITS:  # off a roll: the traits read the sentinel 0
            pu.columns[column][idx] = 0.0
    else:
        school = np.asarray(school)
        pu.school[idx] = school
        if school.min() >= 0:  # every caller names real schools: no sentinel needed
            rolls += np.bincount(school, minlength=len(rolls))
            sc = w.schools
            traits = (sc.exclusion_propensity, sc.offroll_propensity, sc.exclusion_sqrt)
            for column, values in zip(_SCHOOL_TRAITS, traits, strict=True):
                pu.columns[column][idx] = values[school]
        else:
            rolls += np.bincount(school[school >= 0], minlength=len(rolls))
            refresh_school_traits(w, idx)
    pu.status_since_week[idx] = t
    if to == Status.EHE:  # before the move clears the strain the reason is read from
        pu.ehe_reason[idx] = ehe_reason(w, idx, true)
    if to in OUT_OF_EDUCATION:
        pu.out_since_week[idx[(before < Status.S19) | (before > Status.CME)]] = t
        pu.exit_true_reason[idx] = true
        pu.exit_recorded_reason[idx] = recorded
        pu.distress[idx] = False
        pu.distress_weeks[idx] = 0
        pu.unmet_need[idx] = 0.0
        pu.part_time_until[idx] = -1
    else:
        pu.out_since_week[idx] = -1
        pu.s19_due_week[idx] = -1
    pu.place_due_week[idx] = -1  # any pending place offer lapses; callers set a new one after the move
    if to != Status.EHE:
        pu.ehe_route[idx] = Route.NONE
        pu.ehe_reason[idx] = EHEReason.NONE


def ehe_reason(w: World, idx: np.ndarray, true: Reason) -> np.ndarray:
    """The primary reason the LA records, read from why the child really left.

    A family that chose home education gives a philosophical or lifestyle reason. One with no
    choice names what pushed hardest: mental health in the share of the push that came from stress
    and school distress, dissatisfaction with the school or its SEND support in the share that came
    from unmet need (the terms of ``no_choice_ehe_hazard``). A child pushed out by a school or
    steered by an officer is recorded under "other". Whatever the route, the LA often never learns
    the reason (DfE autumn 2024: more than 4 in 10 unknown, other or not given)."""
    pu, p = w.pupils, w.p
    u_reason, u_unknown = w.streams["ehe_reason"].uniforms(pu.uid[idx], (2 * w.t_week, 2 * w.t_week + 1))
    if true == Reason.GENUINE_EHE:
        reason = np.full(len(idx), EHEReason.PREFERENCE, dtype=np.int8)
    elif true == Reason.NO_CHOICE_EHE:
        mental, unmet = no_choice_strain_terms(pu.stress[idx], pu.distress[idx], pu.unmet_need[idx], p)
        is_mental = u_reason * (mental + unmet) < mental
        reason = np.where(is_mental, EHEReason.MENTAL_HEALTH, EHEReason.DISSATISFACTION).astype(np.int8)
    else:
        reason = np.full(len(idx), EHEReason.UNKNOWN, dtype=np.int8)
    unknown = u_unknown < p["p_ehe_reason_unknown"]
    reason[unknown] = EHEReason.UNKNOWN
    return reason


# Pupil columns that copy a trait of the pupil's school (0 when not on a roll).
_SCHOOL_TRAITS = ("school_exclusion", "school_offroll", "school_exclusion_sqrt")


def refresh_school_traits(w: World, slots: np.ndarray | slice = slice(None)) -> None:
    """Copy the traits of each pupil's school into pupil columns (read every week, change rarely)."""
    pu, sc = w.pupils, w.schools
    school = pu.school[slots]
    traits = (sc.exclusion_propensity, sc.offroll_propensity, sc.exclusion_sqrt)
    for column, values in zip(_SCHOOL_TRAITS, traits, strict=True):
        pu.columns[column][slots] = np.append(values, 0.0)[school]  # school -1 reads the 0 sentinel


def school_rolls(w: World) -> np.ndarray:
    """Pupils on each school's roll, counted afresh (``m.rolls`` keeps it current between counts)."""
    pu = w.pupils
    on = pu.school >= 0
    return np.bincount(pu.school[on], minlength=len(w.schools))


def choose_schools(w: World, idx: np.ndarray, u: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
    """A mainstream school of the right phase for each pupil, weighted by spare places.

    With ``exclude``, never that pupil's excluded school: -1 where the phase has no other school."""
    chosen = np.empty(len(idx), dtype=np.int32)
    if len(idx) == 0:
        return chosen
    secondary = w.pupils.year_group[idx] >= 7
    n_secondary = np.count_nonzero(secondary)
    if n_secondary == 0 or n_secondary == len(idx):  # the usual case: one phase, no split needed
        groups = [(Phase.SECONDARY if n_secondary else Phase.PRIMARY, slice(None))]
    else:
        groups = [(Phase.PRIMARY, (~secondary).nonzero()[0]), (Phase.SECONDARY, secondary.nonzero()[0])]
    for ph, sel in groups:
        ids = w.school_ids[ph]
        spare = np.maximum(w.schools.capacity[ids] - w.rolls[ids], 0).astype(np.float64) + 1.0  # by position in ids
        cum = np.cumsum(spare)
        x = u[sel] * cum[-1]
        if exclude is None:
            chosen[sel] = ids[np.minimum(np.searchsorted(cum, x), len(ids) - 1)]
            continue
        # Draw over the other schools: scale to the total without the excluded one, then step over it.
        pos = np.searchsorted(ids, exclude[sel])
        pos = np.minimum(pos, len(ids) - 1)
        is_here = ids[pos] == exclude[sel]
        w_excl = np.where(is_here, spare[pos], 0.0)
        rest = cum[-1] - w_excl
        x = u[sel] * rest
        x = np.where(is_here & (x >= cum[pos] - w_excl), x + w_excl, x)
        pick = ids[np.minimum(np.searchsorted(cum, x), len(ids) - 1)]
        chosen[sel] = np.where(rest > 0, pick, -1)
    return chosen


def special_places_free(w: World) -> int:
    return int(w.la.special_places - w.rolls[w.school_ids[Phase.SPECIAL]].sum())


def ap_places_free(w: World) -> int:
    return int(w.la.ap_places - np.count_nonzero(w.pupils.status == Status.AP))


def place_in_school(w: World, idx: np.ndarray, true: Reason, recorded: Reason) -> None:
    """Admit pupils to school: a special place where the plan names one and a place is free."""
    if len(idx) == 0:
        return
    pu = w.pupils
    named = pu.wants_special[idx].nonzero()[0]
    n_special = min(len(named), max(special_places_free(w), 0)) if len(named) else 0
    if n_special:
        chosen = idx[named[:n_special]]
        special_ids = w.school_ids[Phase.SPECIAL]
        u = w.streams["placement"].uniform(pu.uid[chosen], w.t_week)
        move(
            w,
            chosen,
            Status.SPECIAL,
            Reason.SPECIAL_PLACEMENT,
            Reason.SPECIAL_PLACEMENT,
            school=special_ids[(u * len(special_ids)).astype(np.int64)],
        )
        pu.wants_special[chosen] = False
        idx = np.sort(np.delete(idx, named[:n_special]))  # np.setdiff1d(idx, chosen): slots are unique
    if len(idx):
        u = w.streams["placement"].uniform(pu.uid[idx], w.t_week + 7919)
        move(w, idx, Status.ON_ROLL, true, recorded, school=choose_schools(w, idx, u))


def refill(
    w: World,
    slots: np.ndarray,
    year_group: np.ndarray,
    rng: np.random.Generator,
    new_family_share: float = 1.0,
) -> None:
    """New children take these slots: fresh characteristics, family, uid and clocks."""
    if len(slots) == 0:
        return
    pu, fam = w.pupils, w.families
    columns = pu.columns
    for name, value in _NEW_CHILD.items():
        columns[name][slots] = value
    pu.generation[slots] += 1
    pu.uid[slots] = make_uid(slots, pu.generation[slots])
    drawn = draw_characteristics(w.draw_spec, year_group, rng)
    for name in _CHARACTERISTICS:
        columns[name][slots] = drawn[name]
    set_personal_traits(w, slots, rng)
    # Families: some reception children join an older sibling's family, the rest are new.
    n = len(slots)
    joins = rng.random(n) >= new_family_share
    if joins.any():  # (never for arrivals: the scan of every pupil is only made when it is needed)
        in_primary = ((pu.year_group >= 1) & (pu.year_group <= 6) & (pu.status == Status.ON_ROLL)).nonzero()[0]
        if len(in_primary):
            sib = in_primary[rng.integers(0, len(in_primary), size=int(joins.sum()))]
            pu.family[slots[joins]] = pu.family[sib]
            pu.fsm[slots[joins]] = pu.fsm[sib]
    new = slots[~joins]
    if len(new):
        free = w.take_free_families(len(new))
        pu.family[new] = free
        for name, values in draw_families(len(new), pu.fsm[new], rng).items():
            fam.columns[name][free] = values
        fam.fines[free] = 0
        fam.parent_left_work[free] = False
    refresh_constants(w, slots)
    w.clock_bank.reset(slots, pu.uid)


def set_personal_traits(w: World, slots: np.ndarray, rng: np.random.Generator) -> None:
    """Absence propensity and vulnerability (lognormal, mean 1), behaviour frailty (gamma, mean 1)."""
    p, pu = w.p, w.pupils
    sigma = p["absence_propensity_sigma"]
    pu.absence_propensity[slots] = rng.lognormal(-0.5 * sigma * sigma, sigma, size=len(slots))
    v = p["vulnerability_sigma"]
    pu.vulnerability[slots] = rng.lognormal(-0.5 * v * v, v, size=len(slots))
    k = p["suspension_frailty_shape"]
    pu.behaviour_frailty[slots] = rng.gamma(k, 1.0 / k, size=len(slots))


def refresh_constants(w: World, slots: np.ndarray | slice = slice(None)) -> None:
    """Recompute per-pupil terms that change only with SEN, year group, family or parameters."""
    p, pu, fam = w.p, w.pupils, w.families
    pu.base_absence[slots] = baseline_absence(
        pu.absence_propensity[slots],
        pu.fsm[slots],
        pu.sen[slots],
        p["absence_base"],
        p["absence_mult_fsm"],
        p["absence_mult_sen"],
    )
    pu.illness_hazard[slots] = pu.base_absence[slots] * np.float32(p["illness_spell_rate"] / p["absence_base"])
    # Term-time holidays are a week away now and then, out of the same steady budget: each pupil's
    # mean absence is unchanged (absence_base was fitted to absence that includes holidays). They are
    # a stream of their own because penalty notices count them as their own type.
    holiday_share = np.float32(min(p["holiday_hazard"] / p["absence_base"], 0.9))
    pu.holiday_hazard[slots] = pu.base_absence[slots] * holiday_share
    pu.base_absence[slots] *= np.float32(1.0) - holiday_share
    pu.behaviour_base[slots] = pu.behaviour_frailty[slots] * behaviour_static_risk(
        pu.fsm[slots], pu.sen[slots], pu.need[slots], pu.year_group[slots] >= 7, p
    )
    f = pu.family[slots]
    pu.genuine_ehe_hazard[slots] = genuine_ehe_hazard(fam.ehe_preference[f], fam.ehe_capacity[f], p)


def sen_changes(w: World, rng: np.random.Generator) -> None:
    """Yearly: needs arise and resolve (the latent truth), and the register follows with a lag.

    A need not yet recorded is found with a chance that rises with the family's advocacy and the
    school's inclusion; a record outlives a resolved need until a review drops it. Only children
    in school change: a child who left keeps the record made when they left."""
    pu, p = w.pupils, w.p
    n = len(pu.sen)
    in_school = pu.status <= Status.AP
    u, v = rng.random(n), rng.random(n)
    no_need = pu.need == Need.NONE
    onset = (in_school & no_need & (u < p["p_need_onset"])).nonzero()[0]
    resolve = (
        in_school
        & ~no_need
        & (pu.sen != SEN.EHCP)
        & (pu.ehcp_stage == EHCPStage.NONE)
        & (u > 1.0 - p["p_need_resolve"])
    ).nonzero()[0]
    pu.need[onset] = rng.choice(np.asarray(LATENT_NEEDS, dtype=np.int8), size=len(onset), p=_ONSET_MIX)
    pu.need_intensity[onset] = rng.beta(2, 5, size=len(onset))
    pu.need[resolve] = Need.NONE
    pu.need_intensity[resolve] = 0.0
    unrecorded = (in_school & (pu.sen == SEN.NONE) & (pu.need != Need.NONE)).nonzero()[0]
    school = pu.school[unrecorded]
    inclusion = np.where(school >= 0, w.schools.inclusion[np.maximum(school, 0)], 0.5)
    advocacy = w.families.advocacy[pu.family[unrecorded]]
    found = unrecorded[v[unrecorded] < p["p_sen_identify"] * (0.5 + advocacy) * (0.5 + inclusion)]
    pu.sen[found] = SEN.SUPPORT
    stale = (
        in_school
        & (pu.sen == SEN.SUPPORT)
        & (pu.need == Need.NONE)
        & (pu.ehcp_stage == EHCPStage.NONE)
        & (v > 1.0 - p["p_sen_declassify"])
    ).nonzero()[0]
    pu.sen[stale] = SEN.NONE


# Needs arising at school age (LATENT_NEEDS order): assumption, weighted to the needs that emerge
# later (communication, SEMH, learning and anxiety) rather than those seen at birth.
_ONSET_MIX = np.array([0.06, 0.18, 0.22, 0.16, 0.03, 0.1, 0.25])
