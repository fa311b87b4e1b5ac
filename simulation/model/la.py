"""The local authority's processes: the EHCP process (phase 8), its statutory duties
and services (phase 10: mobility, EHE monitoring and returns, CME, Section 19,
alternative provision, school places, complaints) and CAMHS referral (phase 4)."""

from __future__ import annotations

import numpy as np

from . import timeline as tl
from .dynamics import hazards
from .dynamics.queues import serve_oldest, weekly_capacity
from .moves import move, place_in_school, refill, refresh_constants, special_places_free
from .population import needs_special_school
from .state import SEN, EHCPStage, Kind, Reason, Route, Status
from .world import World

SEN_SUPPORT_MEAN_INTENSITY = 2 / 7  # mean of Beta(2, 5), the need intensity of SEN-support pupils
S19_REFUSED = -2  # s19_due_week while the LA has declined the duty for this episode of distress
COMPLAINT_DISTRESS_WEEKS = 6  # weeks of school distress after which a family may complain


def due_weeks(mean_weeks: float, u: np.ndarray) -> np.ndarray:
    """Whole weeks from an exponential with this mean; at least one."""
    return np.maximum(1, np.ceil(-mean_weeks * np.log1p(-u))).astype(np.int32)


def s19_delays(p: dict, u: np.ndarray) -> np.ndarray:
    """Weeks until Section 19 provision starts: log-logistic with mean ``s19_delay_weeks`` and a
    long tail (shape ``s19_delay_shape``; Ombudsman cases run from 6 months to over a year), at
    least one week, at most two years. Its quantile function is closed-form, so each child's
    delay is one uniform of its own stream (and no scipy import on the model's path)."""
    shape = p["s19_delay_shape"]
    median = p["s19_delay_weeks"] * np.sin(np.pi / shape) / (np.pi / shape)
    u = np.clip(u, 1e-9, 1 - 1e-9)
    weeks = median * (u / (1.0 - u)) ** (1.0 / shape)
    return np.clip(np.rint(weeks), 1, 2 * tl.WEEKS_PER_YEAR).astype(np.int32)


def ehcp_process(w: World) -> None:
    """Requests, six-week decisions, appeals and tribunal, the assessment queue, plans and placement."""
    pu, p, t = w.pupils, w.p, w.t_week
    stream = w.streams["ehcp"]
    stage = pu.ehcp_stage
    # Requests (term time): SEN-support pupils not already in the process.
    if w.is_term:
        idx = ((pu.sen == SEN.SUPPORT) & (stage == EHCPStage.NONE) & (pu.status != Status.LEFT)).nonzero()[0]
        need = pu.need_intensity[idx]
        unmet = np.where(pu.status[idx] >= Status.S19, need, pu.unmet_need[idx])
        h = hazards.ehcp_request_hazard(need, unmet, w.families.advocacy[pu.family[idx]], pu.sen[idx], p)
        req = w.clocks["ehcp_request"].advance(idx, h, pu.uid)
        stage[req] = EHCPStage.DECIDING
        pu.ehcp_requested_week[req] = t
        pu.ehcp_due_week[req] = t + p["ehcp_decision_weeks"]
        w.log.record(w, Kind.EHCP_REQUEST, req)
    # Decisions to assess.
    active = (stage != EHCPStage.NONE).nonzero()[0]
    due = active[pu.ehcp_due_week[active] <= t]
    deciding = due[stage[due] == EHCPStage.DECIDING]
    if len(deciding):
        u, u_appeal = stream.uniforms(pu.uid[deciding], (3 * t, 3 * t + 1))
        is_refused = u < p["p_refuse_assessment"]
        refused = deciding[is_refused]
        agreed = deciding[u >= p["p_refuse_assessment"]]
        w.log.record(w, Kind.EHCP_REFUSED, refused)
        w.log.record(w, Kind.EHCP_AGREED, agreed)
        _queue(w, agreed)
        advocacy = w.families.advocacy[pu.family[refused]]
        appeal = refused[u_appeal[is_refused] < p["p_appeal"] * advocacy]
        w.log.record(w, Kind.EHCP_APPEAL, appeal)
        stage[refused] = EHCPStage.NONE
        stage[appeal] = EHCPStage.TRIBUNAL
        pu.ehcp_due_week[appeal] = t + p["tribunal_lag_weeks"]
    # Tribunal hearings.
    hearing = due[(stage[due] == EHCPStage.TRIBUNAL) & (pu.ehcp_due_week[due] <= t)]  # not this week's appeals
    if len(hearing):
        won = stream.uniform(pu.uid[hearing], 3 * t + 2) < p["p_tribunal_win"]
        w.log.record(w, Kind.TRIBUNAL, hearing, value=won.astype(np.float64))
        stage[hearing[~won]] = EHCPStage.NONE
        _queue(w, hearing[won])
    # Assessment starts at the LA's capacity, oldest first. (Decisions and hearings only move pupils
    # already in the process, so the active set is the earlier one less those who left it.)
    active = active[stage[active] != EHCPStage.NONE]
    queued = active[stage[active] == EHCPStage.QUEUED]
    n, w.la.assessment_carry = weekly_capacity(
        w.la.assessments_per_week(), len(queued), p["assessment_backlog_response"], w.la.assessment_carry
    )
    start = serve_oldest(queued, pu.ehcp_due_week[queued], n)
    if len(start):
        stream = w.streams["assessment"]
        u, u_delay = stream.uniforms(pu.uid[start], (2 * t, 2 * t + 1))
        extra = np.where(u < p["p_assessment_delayed"], due_weeks(p["assessment_delay_weeks"], u_delay), 0)
        stage[start] = EHCPStage.ASSESSING
        pu.ehcp_due_week[start] = t + p["assessment_min_weeks"] + extra
    # Assessments ending: a plan, or not.
    assessing = active[stage[active] == EHCPStage.ASSESSING]
    done = assessing[pu.ehcp_due_week[assessing] <= t]
    if len(done):
        plan = stream.uniform(pu.uid[done], 3 * t + 2 + 7919) < p["p_plan_after_assessment"]
        issued, none = done[plan], done[~plan]
        w.log.record(w, Kind.EHCP_NO_PLAN, none)
        w.log.record(w, Kind.EHCP_PLAN, issued, value=(t - pu.ehcp_requested_week[issued]).astype(np.float64))
        stage[done] = EHCPStage.NONE
        pu.sen[issued] = SEN.EHCP
        refresh_constants(w, issued)
        # A new plan names a special school more often the higher the need (relative to SEN support).
        u = w.streams["placement_need"].uniform(pu.uid[issued], t)
        names = u < p["p_plan_names_special"] * pu.need_intensity[issued] / SEN_SUPPORT_MEAN_INTENSITY
        pu.wants_special[issued] = names & (pu.status[issued] != Status.SPECIAL)
        pu.ehcp_review_week[issued] = t + tl.WEEKS_PER_YEAR  # first annual review due in 12 months
    _annual_reviews(w)
    _fill_special_places(w)


REVIEW_LATE_MEAN_WEEKS = 16.0  # mean delay of a late annual review (assumption)
REVIEW_UNMET_THRESHOLD = 0.2  # unmet need at which a review considers a special school (assumption)


def _annual_reviews(w: World) -> None:
    """Annual reviews of EHC plans (SEND Code of Practice 9.166: at least every 12 months), held in
    term weeks. ``ehcp_review_week`` is the statutory due date; a review is held then with chance
    ``review_on_time_share``, else late by an exponential delay, a pure function of (child, due
    date). A review may cease the plan (more likely the lower the need; not for special-school
    pupils, whose place rests on it) or, for a mainstream pupil whose needs go unmet, amend it to
    name a special school (queued for a place as a new plan's is). The next review is due 12
    months after this one. Logged as EHCP_REVIEW: value the weeks late, -1 if the plan ceased."""
    pu, p, t = w.pupils, w.p, w.t_week
    plans = ((pu.sen == SEN.EHCP) & (pu.status != Status.LEFT)).nonzero()[0]
    due_week = pu.ehcp_review_week[plans]
    unset = plans[due_week < 0]  # the stock at the start and arrivals with a plan: due within a year
    if len(unset):
        u = w.streams["ehcp_review"].uniform(pu.uid[unset], t)
        pu.ehcp_review_week[unset] = t + 1 + (u * tl.WEEKS_PER_YEAR).astype(np.int32)
    if not w.is_term:
        return
    due = plans[(due_week >= 0) & (due_week <= t)]
    if len(due) == 0:
        return
    stream = w.streams["ehcp_review"]
    anniversary = pu.ehcp_review_week[due]
    u_late, u_delay = stream.uniform(pu.uid[due], 2 * anniversary + 1), stream.uniform(pu.uid[due], 2 * anniversary)
    late = np.where(u_late < p["review_on_time_share"], 0, due_weeks(REVIEW_LATE_MEAN_WEEKS, u_delay))
    is_held = anniversary + late <= t
    held = due[is_held]
    if len(held) == 0:
        return
    # Weeks late: the LA's delay. A due date in a holiday moves to the next term week, which counts
    # as on time (schools hold such reviews in the term before; the model holds them just after).
    weeks_late = late[is_held].astype(np.float64)
    u_cease, u_special = stream.uniforms(pu.uid[held], (2 * t + 7919, 2 * t + 7920))
    intensity = pu.need_intensity[held]
    status = pu.status[held]
    cease = (status != Status.SPECIAL) & (u_cease < p["p_plan_ceased_at_review"] * 2.0 * (1.0 - intensity))
    names = (
        ~cease
        & (status == Status.ON_ROLL)
        & ~pu.wants_special[held]
        & (pu.unmet_need[held] >= REVIEW_UNMET_THRESHOLD)
        & (u_special < p["p_review_names_special"] * intensity)
    )
    w.log.record(w, Kind.EHCP_REVIEW, held, value=np.where(cease, -1.0, weeks_late))
    ceased = held[cease]
    pu.sen[ceased] = SEN.SUPPORT
    pu.wants_special[ceased] = False
    pu.ehcp_review_week[ceased] = -1
    if len(ceased):
        refresh_constants(w, ceased)
    pu.wants_special[held[names]] = True
    pu.ehcp_requested_week[held[names]] = t  # queued for a special place from now (oldest first)
    pu.ehcp_review_week[held[~cease]] = t + tl.WEEKS_PER_YEAR


def _queue(w: World, idx: np.ndarray) -> None:
    w.pupils.ehcp_stage[idx] = EHCPStage.QUEUED
    w.pupils.ehcp_due_week[idx] = w.t_week  # joined the queue


def _fill_special_places(w: World) -> None:
    pu = w.pupils
    free = special_places_free(w)
    if free <= 0:
        return
    named = pu.wants_special.nonzero()[0]
    st = pu.status[named]
    waiting = named[(st != Status.SPECIAL) & (st != Status.EHE) & (st != Status.LEFT)]
    chosen = serve_oldest(waiting, pu.ehcp_requested_week[waiting], free)
    place_in_school(w, chosen, Reason.SPECIAL_PLACEMENT, Reason.SPECIAL_PLACEMENT)


def duties(w: World) -> None:
    _mobility(w)
    # Children out of school (about 2%) are found once; each duty re-checks their current status.
    pu = w.pupils
    out = (pu.status >= Status.S19).nonzero()[0]
    # Likewise pupils long in school distress: within these duties distress weeks only fall (to 0 when
    # a child leaves school), so one scan at the lower of the two thresholds serves both duties.
    distressed = (pu.distress_weeks >= min(w.p["s19_referral_weeks"], COMPLAINT_DISTRESS_WEEKS)).nonzero()[0]
    _ehe(w, out)
    _cme(w, out)
    _section19_and_ap(w, out, distressed)
    _placements(w, out)
    _complaints_and_work(w, out, distressed)


def _mobility(w: World) -> None:
    """Children move away (a hazard that does not depend on the model's state, so the same children
    move in every scenario); an arriving child of the same year group takes the slot."""
    pu, p = w.pupils, w.p
    moved = w.clocks["move"].advance_all(p["mobility_rate"] / tl.WEEKS_PER_YEAR, pu.uid)
    if len(moved) == 0:
        return
    move(w, moved, Status.LEFT, Reason.MOVED_AWAY, Reason.MOVED_AWAY)
    rng = w.streams["arrivals"].generator(w.t_week)
    refill(w, moved, pu.year_group[moved].copy(), rng)
    pu.status[moved] = Status.LEFT
    no_place = rng.random(len(moved)) < p["p_arrival_without_place"]
    pu.wants_special[moved] = needs_special_school(w.spec, pu.sen[moved], pu.need_intensity[moved], rng)
    missing = moved[no_place]
    move(w, missing, Status.CME, Reason.ARRIVED, Reason.ARRIVED)
    pu.place_due_week[missing] = w.t_week + due_weeks(p["placement_weeks"], rng.random(len(missing)))
    place_in_school(w, moved[~no_place], Reason.ARRIVED, Reason.ARRIVED)


def _ehe(w: World, out: np.ndarray) -> None:
    """Monitoring contacts (unsuitable education: school order or CME) and returns to school."""
    pu, p, t = w.pupils, w.p, w.t_week
    ehe = out[(pu.status[out] == Status.EHE) & (pu.place_due_week[out] < 0)]
    contact = w.clocks["ehe_monitor"].advance(ehe, p["ehe_monitoring_rate"] / tl.WEEKS_PER_YEAR, pu.uid)
    if len(contact):
        stream = w.streams["ehe_monitor_outcome"]
        capacity = w.families.ehe_capacity[pu.family[contact]]
        u = stream.uniforms(pu.uid[contact], (2 * t, 2 * t + 1, 2 * t + 2))
        is_unsuitable = u[0] < p["p_ehe_unsuitable"] * (1.5 - capacity)
        unsuitable = contact[is_unsuitable]
        order = u[1, is_unsuitable] < p["p_school_order"]
        ordered = unsuitable[order]
        pu.place_due_week[ordered] = t + due_weeks(p["placement_weeks"], u[2, is_unsuitable][order])
        move(w, unsuitable[~order], Status.CME, Reason.EHE_UNSUITABLE, Reason.EHE_UNSUITABLE)
    if w.is_term:
        ehe = ehe[(pu.status[ehe] == Status.EHE) & (pu.place_due_week[ehe] < 0)]
        h = hazards.return_hazard(pu.ehe_route[ehe], w.week < tl.SEPTEMBER_WEEKS, p)
        back = w.clocks["ehe_return"].advance(ehe, h, pu.uid)
        pu.place_due_week[back] = t + due_weeks(
            p["placement_weeks"], w.streams["ehe_return_wait"].uniform(pu.uid[back], t)
        )


def _cme(w: World, out: np.ndarray) -> None:
    """Children missing education are traced, then offered a place."""
    pu, p, t = w.pupils, w.p, w.t_week
    cme = out[(pu.status[out] == Status.CME) & (pu.place_due_week[out] < 0)]
    traced = w.clocks["cme_trace"].advance(cme, 1.0 / p["cme_mean_weeks"], pu.uid)
    pu.place_due_week[traced] = t + 1


def _section19_and_ap(w: World, out: np.ndarray, distressed: np.ndarray) -> None:
    """Long school distress becomes a Section 19 duty (after a delay); AP places, reintegration."""
    pu, p, t = w.pupils, w.p, w.t_week
    due_week = pu.s19_due_week
    flagged = (due_week != -1).nonzero()[0]  # refused (-2) or pending (a week): one scan for both
    refused = flagged[due_week[flagged] == S19_REFUSED]
    due_week[refused[pu.distress_weeks[refused] == 0]] = -1  # a new episode may be referred again
    long_distress = distressed[pu.distress_weeks[distressed] >= p["s19_referral_weeks"]]
    refer = long_distress[(pu.status[long_distress] <= Status.SPECIAL) & (due_week[long_distress] == -1)]
    accepted = w.streams["s19"].uniform(pu.uid[refer], t) < p["p_s19_accepted"]
    delay = s19_delays(p, w.streams["s19_delay"].uniform(pu.uid[refer], t))
    due_week[refer] = np.where(accepted, t + delay, S19_REFUSED)
    pending = flagged[due_week[flagged] >= 0]
    if len(refer):  # the newly accepted had -1 before, so they are not in ``flagged``
        pending = np.sort(np.concatenate([pending, refer[accepted]]))
    due = pending[(pu.status[pending] <= Status.SPECIAL) & (pu.s19_due_week[pending] <= t)]
    still = due[pu.distress[due]]
    pu.s19_due_week[due[~pu.distress[due]]] = -1
    move(w, still, Status.S19, Reason.S19_PROVISION, Reason.S19_PROVISION)
    pu.s19_due_week[still] = t
    s19 = out[pu.status[out] == Status.S19]
    # Excluded children waiting in Section 19 take AP places as they free up.
    ap = (pu.status == Status.AP).nonzero()[0]
    free = int(w.la.ap_places - len(ap))  # as ap_places_free(m), from the one scan
    if free > 0:
        waiting = s19[pu.exit_true_reason[s19] == Reason.PERMANENT_EXCLUSION]
        chosen = serve_oldest(waiting, pu.out_since_week[waiting], free)
        move(w, chosen, Status.AP, Reason.AP_PLACEMENT, Reason.AP_PLACEMENT)
        if len(chosen):
            ap = np.sort(np.concatenate([ap, chosen]))
    # Reintegration from Section 19 (once recovered) and from AP (term time).
    s19 = s19[pu.status[s19] == Status.S19]
    s19 = s19[
        (pu.stress[s19] < p["ebsa_exit_stress"])
        & (pu.exit_true_reason[s19] != Reason.PERMANENT_EXCLUSION)
        & (pu.place_due_week[s19] < 0)
    ]
    back = w.clocks["s19_return"].advance(s19, p["s19_return_hazard"], pu.uid)
    pu.place_due_week[back] = t
    if w.is_term:  # (the S19 returns above only set a due week: nobody left AP since the scan)
        back = w.clocks["ap_return"].advance(ap, p["ap_return_hazard"], pu.uid)
        ends = pu.place_due_week[ap]  # a directed placement's end (-1 for placements by the LA)
        ended = ap[(ends >= 0) & (ends <= t)]
        if len(ended):
            back = np.union1d(back, ended)
        place_in_school(w, back, Reason.REINTEGRATION, Reason.REINTEGRATION)


def _placements(w: World, out: np.ndarray) -> None:
    """Offer school places that are due; some families refuse, and an officer may steer them to EHE."""
    pu, p, t = w.pupils, w.p, w.t_week
    pending = out[pu.place_due_week[out] >= 0]
    st = pu.status[pending]
    due = pending[(pu.place_due_week[pending] <= t) & (st >= Status.S19) & (st <= Status.CME)]
    if len(due) == 0:
        return
    stream = w.streams["placement_offer"]
    u, u_steer = stream.uniforms(pu.uid[due], (2 * t, 2 * t + 1))
    refuse = u < p["p_refuse_offered_place"]
    refusing = due[refuse]
    steer = (u_steer[refuse] < p["p_la_steers_ehe"]) & (pu.status[refusing] != Status.EHE)
    steered = refusing[steer]
    move(w, steered, Status.EHE, Reason.LA_STEERED_EHE, Reason.ELECTIVE_EHE, value=w.pupils.prior_year_absence[steered])
    pu.ehe_route[steered] = Route.COERCED
    pu.place_due_week[refusing[~steer]] = t + 4  # the others who refused: offered again in 4 weeks
    accept = due[~refuse]
    status = pu.status[accept]
    for from_status, reason in (
        (Status.S19, Reason.REINTEGRATION),
        (Status.EHE, Reason.RETURN_FROM_EHE),
        (Status.CME, Reason.CME_PLACED),
    ):
        place_in_school(w, accept[status == from_status], reason, reason)


def _complaints_and_work(w: World, out: np.ndarray, distressed: np.ndarray) -> None:
    """Families of children out of education complain; the LA answers late; some go to the Ombudsman."""
    pu, p, t, fam = w.pupils, w.p, w.t_week, w.families
    long_distress = distressed[pu.distress_weeks[distressed] >= COMPLAINT_DISTRESS_WEEKS]
    candidates = np.concatenate([out[pu.status[out] >= Status.S19], long_distress])
    st = pu.status[candidates]
    out_mask = (
        (st == Status.S19)
        | ((st == Status.CME) & (pu.place_due_week[candidates] >= 0))
        | ((st <= Status.SPECIAL) & (pu.distress_weeks[candidates] >= COMPLAINT_DISTRESS_WEEKS))
        | ((st == Status.EHE) & (pu.ehe_route[candidates] >= Route.NO_CHOICE))
    )
    away = candidates[out_mask]
    can_complain = away[(pu.complaint_due_week[away] < 0) & (pu.status[away] != Status.EHE)]
    new = w.clocks["complaint"].advance(can_complain, p["complaint_hazard"], pu.uid)
    w.log.record(w, Kind.COMPLAINT, new)
    pu.complaint_due_week[new] = t + p["complaint_response_weeks"]
    pu.complaint_start_week[new] = t
    calendar = w.calendars["complaint"]
    calendar.add(new, pu.uid, pu.complaint_due_week[new])
    answered = calendar.due(t, pu.uid, pu.complaint_due_week)  # answers are never later than due
    if len(answered):
        is_out = np.zeros(len(pu.status), dtype=bool)
        is_out[away] = True
        unresolved = answered[is_out[answered]]
        stream = w.streams["ombudsman"]
        u = stream.uniform(pu.uid[unresolved], t)
        upheld = unresolved[u < p["p_ombudsman"] * p["p_ombudsman_upheld"]]
        since = np.where(pu.out_since_week[upheld] >= 0, pu.out_since_week[upheld], t - pu.distress_weeks[upheld])
        months = np.maximum(t - since, 1) / (tl.WEEKS_PER_YEAR / 12)
        w.log.record(w, Kind.OMBUDSMAN_UPHELD, upheld, value=months * p["remedy_gbp_per_month"])
        pu.complaint_due_week[answered] = -1
    carers = away[~fam.parent_left_work[pu.family[away]]]
    left = w.clocks["work"].advance(carers, p["p_parent_leaves_work"], pu.uid)
    if len(left):
        fam.parent_left_work[pu.family[left]] = True
        w.log.record(w, Kind.PARENT_LEFT_WORK, left)


def camhs(w: World) -> None:
    """CAMHS accepts only children in crisis, treats after a wait, and treatment lowers stress."""
    pu, p, t = w.pupils, w.p, w.t_week
    high = (pu.stress > p["camhs_threshold"]).nonzero()[0]
    last = pu.camhs_referred_week[high]
    crisis = high[(pu.camhs_due_week[high] < 0) & ((last < 0) | (t - last > tl.WEEKS_PER_YEAR))]
    calendar = w.calendars["camhs"]
    if len(crisis):
        pu.camhs_referred_week[crisis] = t
        pu.camhs_due_week[crisis] = t + due_weeks(p["camhs_wait_weeks"], w.streams["camhs"].uniform(pu.uid[crisis], t))
        calendar.add(crisis, pu.uid, pu.camhs_due_week[crisis])
    treated = calendar.due(t, pu.uid, pu.camhs_due_week)  # waits are at least a week: due means due now
    if len(treated):
        pu.stress[treated] *= 1.0 - p["camhs_effect"]
        w.log.record(w, Kind.CAMHS_TREATED, treated, value=(t - pu.camhs_referred_week[treated]).astype(np.float64))
        pu.camhs_due_week[treated] = -1
