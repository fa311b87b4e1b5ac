"""The per-pupil phases of the week: support (3), stress (4), attendance (5) and the family's
decision to home-educate (9). Whole-array operations over every pupil; the rules themselves
are in :mod:`.dynamics`, so these functions only gather their inputs and write the results."""

from __future__ import annotations

import numpy as np

from . import la
from . import timeline as tl
from .dynamics import hazards, support, wellbeing
from .moves import move
from .state import SEN, Need, Reason, Route, Status
from .world import World


def allocate_support(w: World) -> None:
    pu, p = w.pupils, w.p
    in_school = pu.status <= Status.SPECIAL
    # One scan for both SEN tiers, split on the fifth of pupils it finds; the pastoral tier from
    # the few highly stressed pupils. (Every scan of all 80,000 pupils is a pass over memory.)
    with_sen = (in_school & (pu.sen != SEN.NONE)).nonzero()[0]
    has_plan = pu.sen[with_sen] == SEN.EHCP
    ehcp, sen_support = with_sen[has_plan], with_sen[~has_plan]
    stressed = (pu.stress > p["pastoral_stress_threshold"]).nonzero()[0]
    pastoral = stressed[in_school[stressed] & (pu.sen[stressed] == SEN.NONE)]
    ehcp_need, support_need = pu.need_intensity[ehcp], pu.need_intensity[sen_support]
    capacity = w.schools.support_hours * ((1.0 + p["support_funding_change"]) * w.funding_index)
    shares = support.share_by_tier(
        [
            (pu.school[ehcp], ehcp_need * p["support_hours_ehcp"]),
            (pu.school[sen_support], support_need * p["support_hours_sen"]),
            (pu.school[pastoral], np.full(len(pastoral), p["support_hours_pastoral"])),
        ],
        capacity,
    )
    pu.unmet_need[:] = 0.0
    # Fidelity is of the hours a mainstream school delivers; a special school is the provision.
    fidelity = np.where(pu.status[ehcp] == Status.SPECIAL, np.float32(1.0), np.float32(p["ehcp_fidelity"]))
    pu.unmet_need[ehcp] = support.unmet_need(ehcp_need, shares[0], fidelity)
    pu.unmet_need[sen_support] = support.unmet_need(support_need, shares[1], 1.0)
    pu.unmet_need[pastoral] = support.unmet_pastoral(shares[2], p["pastoral_unmet_weight"])
    # A need the register has not recorded gets no SEN hours: all of it is unmet.
    needs = (in_school & (pu.need != Need.NONE)).nonzero()[0]
    unrecorded = needs[pu.sen[needs] == SEN.NONE]
    pu.unmet_need[unrecorded] = np.maximum(pu.unmet_need[unrecorded], pu.need_intensity[unrecorded])
    w.need_idx = needs  # every pupil in school with a need, recorded or not, in slot order


def update_stress(w: World) -> None:
    pu, p = w.pupils, w.p
    stress = pu.stress
    out = (pu.status >= Status.S19).nonzero()[0]
    out_stress = stress[out]
    if w.is_term:
        inputs = p["stress_background"] * pu.vulnerability
        idx = w.need_idx
        in_special = pu.status[idx] == Status.SPECIAL
        inclusion = w.schools.inclusion[pu.school[idx]]
        if p["inclusion_uplift"]:  # lever: SEND training for teachers
            inclusion = np.minimum(inclusion + np.float32(p["inclusion_uplift"]), np.float32(1.0))
        inputs[idx] += p["stress_from_mismatch"] * wellbeing.mismatch(
            pu.need[idx], pu.need_intensity[idx], inclusion, in_special
        )
        inputs += p["stress_from_unmet"] * pu.unmet_need
        if w.week < tl.Y7_TRANSITION_WEEKS:
            inputs[(pu.year_group == 7).nonzero()[0]] += p["stress_from_transition"]
        if w.modifiers.stress_input_scale is not None:  # interventions (e.g. mental health teams)
            inputs *= w.modifiers.stress_input_scale
        wellbeing.update_stress(stress, p["stress_recovery_term"], inputs, out=stress)
        at_school = pu.status <= Status.AP
        hit = w.clocks["bullying"].advance_all(p["bullying_hazard"] * pu.vulnerability * at_school, pu.uid)
        stress[hit] = np.minimum(stress[hit] + p["bullying_stress"], 1.0)
    else:
        wellbeing.update_stress(
            stress, p["stress_recovery_holiday"], 0.5 * p["stress_background"] * pu.vulnerability, out=stress
        )
    # Out of school, away from its pressures, stress recovers at the holiday rate.
    stress[out] = wellbeing.update_stress(
        out_stress, p["stress_recovery_holiday"], 0.5 * p["stress_background"] * pu.vulnerability[out]
    )
    la.camhs(w)


def attendance(w: World) -> None:
    pu, p, t = w.pupils, w.p, w.t_week
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
    on_roll = on_roll.astype(np.float32)
    # Penalty notices count unauthorised absence and holidays apart: unauthorised is a share of the
    # steady and stress-driven absence; illness spells are authorised.
    unauthorised = q * np.float32(p["unauthorised_absence_share"])
    # Illness spells: short, random and common, they make persistent absence a matter of luck
    # for many pupils as well as of a high steady propensity (DfE: illness is half of all absence).
    ill = w.clocks["illness"].advance_all(pu.illness_hazard * on_roll, pu.uid)
    q[ill] = np.minimum(q[ill] + np.float32(p["illness_spell_absence"]), 1.0)
    # A term-time holiday: the whole week away, unauthorised.
    away = w.clocks["holiday"].advance_all(pu.holiday_hazard * on_roll, pu.uid)
    q[away] = 1.0
    unauthorised[away] = 1.0
    pu.holiday_week[away] = t
    unauthorised *= on_roll
    pu.half_term_unauth[:] += unauthorised
    missed = q * on_roll
    pu.sessions_possible[:] += on_roll
    pu.sessions_missed[:] += missed
    pu.half_term_missed[:] += missed
    if w.week <= tl.AUTUMN_TERM_END:
        pu.autumn_possible[:] += on_roll
        pu.autumn_missed[:] += missed


def family_decisions(w: World) -> None:
    """Exits to home education: genuine preference, or 'no choice' after unmet need, distress, fines.

    Open to children on a school roll, in alternative provision and on Section 19 provision
    (families deregister from AP too); not to those waiting for a place the LA has found."""
    pu, fam, p = w.pupils, w.families, w.p
    eligible = (pu.status <= Status.S19) & (pu.place_due_week < 0)
    hazard = pu.genuine_ehe_hazard * eligible
    strain = (pu.stress > p["ehe_stress_threshold"]) | (pu.unmet_need > 0) | pu.distress
    strained = (eligible & strain).nonzero()[0]
    f = pu.family[strained]
    no_choice = hazards.no_choice_ehe_hazard(
        pu.stress[strained], pu.distress[strained], pu.unmet_need[strained], fam.fines[f], fam.trust[f], p
    )
    if not w.is_term:
        no_choice = no_choice * p["holiday_exit_factor"]
    if w.modifiers.no_choice_ehe_scale is not None:  # interventions (e.g. LA consent for EHE)
        no_choice = no_choice * w.modifiers.no_choice_ehe_scale[strained]
    hazard[strained] += no_choice
    who = w.clocks["ehe"].advance_all(hazard, pu.uid)
    # A child placed in a special school by the LA leaves the roll for home education only with
    # the LA's consent (Pupil Registration Regulations 2006, reg. 9(2)); a refused family stays.
    special = (pu.status[who] == Status.SPECIAL).nonzero()[0]
    if len(special):
        u_consent = w.streams["ehe_consent"].uniform(pu.uid[who[special]], w.t_week)
        who = np.delete(who, special[u_consent >= p["p_special_ehe_consent"]])
    if len(who) == 0:
        return
    share_genuine = pu.genuine_ehe_hazard[who] / np.maximum(hazard[who], 1e-12)
    u = w.streams["ehe_route"].uniform(pu.uid[who], w.t_week)
    prior = pu.prior_year_absence[who]  # the published statistic looks at the year before the exit
    is_genuine = u < share_genuine
    for mask, route, reason in (
        (is_genuine, Route.GENUINE, Reason.GENUINE_EHE),
        (~is_genuine, Route.NO_CHOICE, Reason.NO_CHOICE_EHE),
    ):
        go = who[mask]
        move(w, go, Status.EHE, reason, Reason.ELECTIVE_EHE, value=prior[mask])
        pu.ehe_route[go] = route
