"""How a child changes place: status moves with their log entry, school placement, slot refills.

Every status change in the model goes through :func:`move`, so the event log is
complete by construction and the conservation checks in the tests hold.
"""

from __future__ import annotations

import numpy as np

from .dynamics.hazards import behaviour_static_risk, genuine_ehe_hazard
from .dynamics.wellbeing import baseline_absence
from .population import draw_characteristics, draw_families
from .state import (
    PUPIL_COLUMNS,
    SEN,
    UNSET_IS_MINUS_ONE,
    EHCPStage,
    Kind,
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
    drawn = draw_characteristics(w.spec, year_group, rng)
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
    # a stream of their own only under the 2024 framework, which fines them as their own type.
    holiday_share = np.float32(
        min(p["holiday_hazard"] / p["absence_base"], 0.9) if p["penalty_notice_framework"] else 0.0
    )
    pu.holiday_hazard[slots] = pu.base_absence[slots] * holiday_share
    pu.base_absence[slots] *= np.float32(1.0) - holiday_share
    pu.behaviour_base[slots] = pu.behaviour_frailty[slots] * behaviour_static_risk(
        pu.fsm[slots], pu.sen[slots], pu.need[slots], pu.year_group[slots] >= 7, p
    )
    f = pu.family[slots]
    pu.genuine_ehe_hazard[slots] = genuine_ehe_hazard(fam.ehe_preference[f], fam.ehe_capacity[f], p)


def sen_changes(w: World, rng: np.random.Generator) -> None:
    """Yearly identification and de-identification of SEN support."""
    pu, p = w.pupils, w.p
    in_school = pu.status <= Status.AP
    u = rng.random(len(pu.sen))
    identify = (in_school & (pu.sen == SEN.NONE) & (u < p["p_sen_identify"])).nonzero()[0]
    mix = np.asarray(w.spec.sen_support_need_mix) / np.sum(w.spec.sen_support_need_mix)
    pu.sen[identify] = SEN.SUPPORT
    pu.need[identify] = rng.choice(np.arange(1, 7), size=len(identify), p=mix)
    pu.need_intensity[identify] = rng.beta(2, 5, size=len(identify))
    drop = (
        in_school & (pu.sen == SEN.SUPPORT) & (pu.ehcp_stage == EHCPStage.NONE) & (u > 1.0 - p["p_sen_declassify"])
    ).nonzero()[0]
    pu.sen[drop] = SEN.NONE
    pu.need[drop] = 0
    pu.need_intensity[drop] = 0.0
