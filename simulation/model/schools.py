"""What schools do: set-up of their traits, attendance responses, suspensions and
exclusions (phase 6), off-rolling pressure (phase 7) and Ofsted scrutiny (phase 11)."""

from __future__ import annotations

import numpy as np

from . import timeline as tl
from .dynamics import hazards
from .la import due_weeks, s19_delays
from .moves import ap_places_free, choose_schools, move, refresh_school_traits
from .state import Form, Kind, Phase, Reason, Route, Status
from .world import World

_EXPECTED_PASTORAL_SHARE = 0.03  # share of pupils above the pastoral threshold at a time (assumption)


def initialise(w: World, rng: np.random.Generator) -> None:
    """School traits drawn once: capacity, support hours, ethos, policies, propensities."""
    sc, pu, p = w.schools, w.pupils, w.p
    n = len(sc)
    on = pu.school >= 0
    roll = np.bincount(pu.school[on], minlength=n)
    sc.capacity[:] = np.ceil(roll * 1.1).astype(np.int32) + 5
    demand = np.bincount(
        pu.school[on],
        minlength=n,
        weights=np.choose(pu.sen[on], [0.0, p["support_hours_sen"], p["support_hours_ehcp"]]) * pu.need_intensity[on],
    )
    demand += _EXPECTED_PASTORAL_SHARE * roll * p["support_hours_pastoral"]
    # One latent "pressure" factor per school (low inclusion, thin funding, exclusion and off-rolling
    # cultures together): each trait keeps its own marginal, tied to the others by a Gaussian copula.
    x_excl, x_offroll, x_incl, x_fund = latent_traits(n, p["school_trait_correlation"], rng)
    special = sc.phase == Phase.SPECIAL
    s = p["support_capacity_sigma"]
    mainstream_ratio = p["support_capacity_ratio"] * np.exp(-0.5 * s * s - s * x_fund)  # lognormal, mean the ratio
    sc.support_ratio[:] = np.where(special, p["special_capacity_ratio"], mainstream_ratio)
    sc.support_hours[:] = sc.support_ratio * demand
    sigma = p["exclusion_propensity_sigma"]
    sc.exclusion_propensity[:] = np.exp(-0.5 * sigma * sigma + sigma * x_excl)  # lognormal, mean 1
    sc.exclusion_sqrt[:] = np.sqrt(sc.exclusion_propensity)
    secondary = (sc.phase == Phase.SECONDARY).nonzero()[0]
    sc.offroll_propensity[:] = 0.0  # Y10-Y11 results pressure: secondary schools only
    sc.offroll_propensity[secondary] = by_rank(
        x_offroll[secondary], rng.beta(p["offroll_beta_a"], p["offroll_beta_b"], size=len(secondary))
    )
    sc.offroll_base[:] = sc.offroll_propensity
    ordinary = (~special).nonzero()[0]
    sc.inclusion[ordinary] = by_rank(-x_incl[ordinary], rng.beta(4.0, 4.0, size=len(ordinary)))
    sc.policy_draw[:] = rng.random(n)
    sc.fines_first[:] = sc.policy_draw < p["fines_first_share"]


def latent_traits(n: int, rho: float, rng: np.random.Generator) -> np.ndarray:
    """Four standard normals per school (rows: exclusion, off-rolling, inclusion, funding), each
    pair correlated ``rho``: one common factor with loading sqrt(rho) plus an own term. High values
    are the less inclusive end; callers flip the sign for inclusion and funding."""
    common = rng.standard_normal(n)
    own = rng.standard_normal((4, n))
    return np.sqrt(rho) * common + np.sqrt(1.0 - rho) * own


def by_rank(x: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """``sample`` (a draw from a trait's marginal) re-ordered so its ranks follow ``x``: the empirical
    Gaussian copula. Each school's value still has the marginal, with no inverse CDF (no scipy)."""
    out = np.empty_like(sample)
    out[np.argsort(x, kind="stable")] = np.sort(sample)
    return out


def new_year(w: World) -> None:
    """Deterrence from an inspection finding wears off: propensity drifts a fifth of the way back."""
    sc = w.schools
    sc.offroll_propensity[:] += DETERRENCE_DECAY * (sc.offroll_base - sc.offroll_propensity)
    sc.scrutiny[:] *= 1.0 - DETERRENCE_DECAY
    refresh_school_traits(w)


DETERRENCE_DECAY = 0.2  # assumption


def responses(w: World) -> None:
    """Half-term attendance reviews (fines or support), then suspensions and exclusions."""
    if w.week in tl.HALF_TERM_ENDS:
        _attendance_review(w)
    pu, p = w.pupils, w.p
    # Whole-array products are formed in place (same operands, same order, same dtypes): at 80,000
    # pupils each temporary saved is a pass over memory saved.
    risk = pu.stress * p["behaviour_stress_mult"]
    risk += 1.0
    risk *= pu.behaviour_base  # behaviour_base * (1 + mult * stress)
    mainstream = pu.status == Status.ON_ROLL
    # Special schools suspend at half the rate; a school's exclusion culture enters suspensions damped.
    at_risk = mainstream + np.float32(0.5) * (pu.status == Status.SPECIAL)
    at_risk *= np.float32(p["suspension_hazard"])
    hazard = risk * pu.school_exclusion_sqrt
    hazard *= at_risk
    hit = w.clocks["suspension"].advance_all(hazard, pu.uid)
    if len(hit):
        pu.suspensions[hit] += 1
        pu.stress[hit] = np.minimum(pu.stress[hit] + p["stress_from_suspension"], 1.0)
        fam = pu.family[hit]
        w.families.trust[fam] = np.maximum(w.families.trust[fam] - 0.05, 0.0)
        pu.sessions_missed[hit] += np.minimum(0.2, pu.sessions_possible[hit] - pu.sessions_missed[hit])
        w.log.record(w, Kind.SUSPENSION, hit)
    pex_h = hazards.exclusion_hazard(risk, pu.school_exclusion, pu.suspensions, p)
    pex_h *= mainstream
    exclude(w, w.clocks["exclusion"].advance_all(pex_h, pu.uid))
    if p["directed_ap_per_exclusion"] > 0:
        # Suspended secondary pupils still on roll: the school's other way out (behaviour, not results)
        cand = ((pu.suspensions > 0) & (pu.status == Status.ON_ROLL) & (pu.year_group >= 7)).nonzero()[0]
        _direct_to_ap(w, cand, pex_h[cand] * np.float32(p["directed_ap_per_exclusion"]))


NOTICE_THRESHOLD_WEEKS = 1.0  # 10 unauthorised sessions (a week of school) ...
NOTICE_WINDOW_WEEKS = 10  # ... in a rolling 10 school weeks (DfE national framework, August 2024)
NOTICE_CAP = 2  # notices per child in ...
NOTICE_CAP_WEEKS = 3 * tl.WEEKS_PER_YEAR  # ... 3 years; after that, other action (prosecution)


def _attendance_review(w: World) -> None:
    """Half-term review under the 2024 national framework for penalty notices.

    A case is 10 unauthorised sessions in 10 school weeks (this half term and the end of the last,
    pro rata: reviews are at half-term ends, not every week). Illness and authorised absence do
    not count. A case with a term-time holiday is a holiday case, for which any school may request
    a notice; other cases get a notice only in fines-first schools. At most two notices per child
    in 3 years; past the cap a case may be prosecuted. Support-first schools meet the families of
    all persistent absentees (10% of sessions) instead."""
    pu, p, fam, t = w.pupils, w.p, w.families, w.t_week
    k = next(i for i, h in enumerate(tl.HALF_TERMS) if h[1] == w.week)
    first, last = tl.HALF_TERMS[k]
    prev_first, prev_last = tl.HALF_TERMS[k - 1]  # k = 0: the summer's second half term
    weeks, prev_weeks = last - first + 1, prev_last - prev_first + 1
    reach_back = np.float32(max(0, NOTICE_WINDOW_WEEKS - weeks) / prev_weeks)
    window = pu.half_term_unauth + reach_back * pu.prev_half_unauth
    pu.prev_half_unauth[:] = pu.half_term_unauth
    pu.half_term_unauth[:] = 0.0
    on_roll = pu.status == Status.ON_ROLL
    persistent = (on_roll & (pu.half_term_missed >= 0.1 * weeks)).nonzero()[0]
    pu.half_term_missed[:] = 0.0
    supported = persistent[~w.schools.fines_first[pu.school[persistent]]]
    if len(supported):
        pu.stress[supported] = np.maximum(pu.stress[supported] - p["support_first_relief"], 0.0)
        f = pu.family[supported]
        fam.trust[f] = np.minimum(fam.trust[f] + 0.05, 1.0)
    cases = (on_roll & (window >= NOTICE_THRESHOLD_WEEKS)).nonzero()[0]
    if len(cases) == 0:
        return
    holiday = pu.holiday_week[cases] >= t - (w.week - first)
    u = w.streams["fines"].uniform(pu.uid[cases], t)
    fines_first = w.schools.fines_first[pu.school[cases]]
    wanted = np.where(holiday, u < p["p_notice_holiday"], fines_first & (u < p["p_notice_attendance"]))
    since = max(0, t - NOTICE_CAP_WEEKS)  # -1 is "no notice"
    recent = (pu.notice_week_1[cases] >= since).astype(np.int8) + (pu.notice_week_2[cases] >= since)
    capped = recent >= NOTICE_CAP
    notice = wanted & ~capped
    issued = cases[notice]
    pu.notice_week_2[issued] = pu.notice_week_1[issued]
    pu.notice_week_1[issued] = t
    w.log.record(w, Kind.FINE, issued, value=holiday[notice].astype(np.float32))
    over_cap = cases[wanted & capped]
    if len(over_cap):
        v = w.streams["prosecution"].uniform(pu.uid[over_cap], t)
        prosecuted = over_cap[v < p["p_prosecution"]]
        w.log.record(w, Kind.PROSECUTION, prosecuted)
    else:
        prosecuted = over_cap
    holiday_notice = cases[notice & holiday]
    if len(holiday_notice):
        f = pu.family[holiday_notice]
        fam.trust[f] = np.maximum(fam.trust[f] - p["holiday_fine_trust_loss"], 0.0)
    fined = np.concatenate([cases[notice & ~holiday], prosecuted])
    if len(fined):
        f = pu.family[fined]
        fam.fines[f] += 1
        fam.trust[f] = np.maximum(fam.trust[f] - p["fine_trust_loss"], 0.0)
        pu.stress[fined] = np.minimum(pu.stress[fined] + p["stress_from_fine"], 1.0)
        pu.deterred_until[fined] = t + 7


def exclude(w: World, idx: np.ndarray) -> None:
    """Permanent exclusion: to alternative provision if a place is free, else Section 19 after a delay."""
    if len(idx) == 0:
        return
    n_ap = min(len(idx), max(ap_places_free(w), 0))
    move(w, idx[:n_ap], Status.AP, Reason.PERMANENT_EXCLUSION, Reason.PERMANENT_EXCLUSION)
    waiting = idx[n_ap:]
    move(w, waiting, Status.S19, Reason.PERMANENT_EXCLUSION, Reason.PERMANENT_EXCLUSION)
    u = w.streams["s19_delay"].uniform(w.pupils.uid[waiting], w.t_week)
    w.pupils.s19_due_week[waiting] = w.t_week + s19_delays(w.p, u)


def offrolling(w: World) -> None:
    """Pressure on costly pupils in schools with a propensity to off-roll, and what families do."""
    pu, p, fam = w.pupils, w.p, w.families
    idx = (pu.school_offroll > 0).nonzero()[0]  # on a secondary roll (special schools and the rest are 0)
    rate = pu.sessions_missed[idx] / np.maximum(pu.sessions_possible[idx], 1.0)
    cost = hazards.offroll_cost(rate, pu.suspensions[idx], pu.unmet_need[idx], pu.need_intensity[idx], pu.fsm[idx])
    peak = tl.is_peak_pressure(pu.year_group[idx], w.week)
    h = hazards.pressure_hazard(pu.school_offroll[idx], peak, cost, p)
    if p["offroll_peak_excess"] != 1.0:  # lever: accountability reform shrinks the census-date spike
        off = p["offroll_pressure_offpeak"]
        h = np.where(peak, h * (off + p["offroll_peak_excess"] * (1.0 - off)), h)
    hit = w.clocks["offroll"].advance(idx, h, pu.uid)
    if len(hit) == 0:
        return
    stream = w.streams["offroll_choice"]
    u_form, u_comply, u_dest, u_more = stream.uniforms(pu.uid[hit], tuple(4 * w.t_week + k for k in range(4)))
    form = hazards.choose_form(u_form, p)
    f = pu.family[hit]
    comply = u_comply < hazards.p_comply(fam.advocacy[f], fam.trust[f], p)
    w.log.record(w, Kind.PRESSURE, hit, value=form.astype(np.float64))
    fam.trust[f] = np.maximum(fam.trust[f] - 0.1, 0.0)

    leaves = comply & ((form == Form.ULTIMATUM) | (form == Form.EHE_LETTER))
    to_ehe = leaves & ((form == Form.EHE_LETTER) | (u_dest < p["coerced_to_ehe_share"]))
    if w.modifiers.ehe_consent_needed is not None:  # intervention: an LA consent review stops the push
        stopped = to_ehe & w.modifiers.ehe_consent_needed[hit]
        leaves, to_ehe = leaves & ~stopped, to_ehe & ~stopped
    to_unknown = leaves & ~to_ehe & (u_more < p["coerced_unknown_share"])
    to_school = leaves & ~to_ehe & ~to_unknown
    to_ehe_idx = hit[to_ehe]
    move(w, to_ehe_idx, Status.EHE, Reason.COERCED_EHE, Reason.ELECTIVE_EHE, value=pu.prior_year_absence[to_ehe_idx])
    pu.ehe_route[hit[to_ehe]] = Route.COERCED
    move(w, hit[to_unknown], Status.CME, Reason.OFFROLLED_UNKNOWN, Reason.UNEXPLAINED)
    _transfer(w, hit[to_school], Reason.OFFROLLED_TRANSFER, Reason.TRANSFER, u_more[to_school])

    managed = comply & (form == Form.MANAGED_MOVE)
    success = managed & (u_dest < p["p_managed_move_success"])
    _transfer(w, hit[success], Reason.MANAGED_MOVE, Reason.MANAGED_MOVE, u_more[success])
    failed = hit[managed & ~success]
    pu.stress[failed] = np.minimum(pu.stress[failed] + 0.1, 1.0)

    part_time = hit[form == Form.PART_TIME]
    pu.part_time_until[part_time] = w.t_week + p["part_time_weeks"]
    pu.stress[part_time] = np.minimum(pu.stress[part_time] + 0.05, 1.0)

    refused = ~comply & (form == Form.ULTIMATUM) & (u_dest < p["p_ultimatum_exclusion"])
    exclude(w, hit[refused])


def _direct_to_ap(w: World, idx: np.ndarray, h: np.ndarray) -> None:
    """Exclusion by another name: the school directs (maintained, Education Act 2002 s.29A) or
    arranges (academy) an off-site AP placement for a pupil whose behaviour it will not manage, with
    no permanent exclusion and no family choice in it. The hazard is the pupil's exclusion hazard
    (the school's exclusion culture, the pupil's risk and suspensions) times
    ``directed_ap_per_exclusion``. Recorded truthfully as DIRECTED_TO_AP: a move into AP without
    exclusion, which EPI counts as an unexplained exit. Excluded children waiting for a place come
    first (the LA's duty); the placement is time-limited (``directed_ap_weeks``), then the pupil
    returns to a school."""
    pu, t = w.pupils, w.t_week
    hit = w.clocks["directed_ap"].advance(idx, h, pu.uid)
    if len(hit) == 0:
        return
    waiting = np.count_nonzero((pu.status == Status.S19) & (pu.exit_true_reason == Reason.PERMANENT_EXCLUSION))
    free = max(ap_places_free(w) - waiting, 0)
    if free == 0:
        return
    u_order, u_weeks = w.streams["directed_ap"].uniforms(pu.uid[hit], (2 * t, 2 * t + 1))
    chosen = np.sort(np.argsort(u_order, kind="stable")[:free])  # places by lot when too few
    directed = hit[chosen]
    move(w, directed, Status.AP, Reason.DIRECTED_TO_AP, Reason.DIRECTED_TO_AP)
    pu.place_due_week[directed] = t + due_weeks(w.p["directed_ap_weeks"], u_weeks[chosen])
    f = pu.family[directed]
    w.families.trust[f] = np.maximum(w.families.trust[f] - 0.1, 0.0)


def _transfer(w: World, idx: np.ndarray, true: int, recorded: int, u: np.ndarray) -> None:
    """Move pupils to another school. Where the LA has no other school of the phase, a managed move
    fails (the pupil stays) and a pushed-out pupil's destination is unknown."""
    if len(idx) == 0:
        return
    school = choose_schools(w, idx, u, exclude=w.pupils.school[idx])
    ok = school >= 0
    move(w, idx[ok], Status.ON_ROLL, true, recorded, school=school[ok])
    if true == Reason.OFFROLLED_TRANSFER:
        move(w, idx[~ok], Status.CME, Reason.OFFROLLED_UNKNOWN, Reason.UNEXPLAINED)


def ofsted(w: World) -> None:
    """Flag secondary schools whose Y10-Y11 losses stand out; inspection may find off-rolling."""
    pu, p, sc = w.pupils, w.p, w.schools
    ev = w.log.year(w.year_index)
    sec = w.school_ids[Phase.SECONDARY]
    lost = (
        (ev["kind"] == Kind.MOVE)
        & (ev["from_status"] == Status.ON_ROLL)
        & (ev["year_group"] >= 10)
        & np.isin(ev["to_status"], (Status.EHE, Status.CME, Status.AP))
        & (ev["recorded_reason"] != Reason.PERMANENT_EXCLUSION)
    )
    losses = np.bincount(ev["school"][lost].astype(np.int64), minlength=len(sc))[sec]
    roll = np.bincount(pu.school[(pu.status == Status.ON_ROLL) & (pu.year_group >= 10)], minlength=len(sc))[sec]
    rate = losses / np.maximum(roll, 1)
    n_flag = max(1, round(p["ofsted_flag_share"] * len(sec)))
    flagged = sec[np.argsort(-rate, kind="stable")[:n_flag]]
    rng = w.streams["ofsted"].generator(w.year_index)
    inspected = flagged[rng.random(len(flagged)) < p["p_inspection"]]
    # Inspectors see the record, not the truth: a finding needs losses well above the LA's
    # (the pattern Ofsted's off-rolling work looks for) and evidence that they were not the
    # families' own choice, which an inspection turns up only sometimes.
    la_rate = losses.sum() / max(roll.sum(), 1)
    stands_out = rate[np.searchsorted(sec, inspected)] >= p["ofsted_finding_excess"] * la_rate
    evidence = rng.random(len(inspected)) < p["p_ofsted_evidence"]
    for j, found in zip(inspected, (stands_out & evidence).tolist(), strict=True):
        if found:
            sc.offroll_propensity[j] *= 1.0 - p["inspection_deterrence"]
            sc.scrutiny[j] = 1.0
            pu.school_offroll[pu.school == j] = sc.offroll_propensity[j]
        w.inspections.append((w.year_index, int(j), found))
