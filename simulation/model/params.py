"""Every model parameter, declared once.

Each entry carries a default, bounds for sensitivity analysis, a unit, a kind
(``uncertainty`` describes the world; ``lever`` is what policy changes) and a
source. ``"assumption"`` marks values no publication gives: they are behavioural
guesses for calibration to fit, and the docs say so. Scenario validation, the
SALib problem, calibration priors and the parameter table in the docs are all
built from this one list.

Rates are per week unless the name says otherwise; probabilities start ``p_``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Literal

import numpy as np

Kind = Literal["uncertainty", "lever"]


class ParameterError(ValueError):
    """An unknown, mistyped or out-of-range parameter; the message names it."""


@dataclass(frozen=True)
class Param:
    name: str
    default: float
    low: float
    high: float
    unit: str
    kind: Kind
    source: str
    doc: str
    integer: bool = False

    def check(self, value: object, where: str = "parameters") -> float:
        """Return ``value`` as a number or raise a message naming the key and the bounds."""
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
            raise ParameterError(
                f"{where}: {self.name} = {value!r} is not a number (allowed: {self.low:g} to {self.high:g} {self.unit})"
            )
        if not math.isfinite(value) or not (self.low <= value <= self.high):
            raise ParameterError(
                f"{where}: {self.name} = {value!r} is out of range (allowed: {self.low:g} to {self.high:g} {self.unit})"
            )
        if self.integer and float(value) != int(value):
            raise ParameterError(f"{where}: {self.name} = {value!r} must be a whole number")
        return int(value) if self.integer else float(value)  # plain Python numbers from here on

    @property
    def log_scaled(self) -> bool:
        """A range spanning a factor of 10 or more: its order of magnitude is what is uncertain."""
        return self.low > 0 and self.high >= 10 * self.low

    def from_unit(self, u: float) -> float:
        """The prior's quantile at ``u`` in [0, 1]: uniform on the range, log-uniform where
        :attr:`log_scaled`. The one prior that calibration and ``compare --assumptions`` share
        (not rounded: whole-number parameters are rounded where the model takes them)."""
        if self.log_scaled:
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)

    def to_unit(self, value):
        """The inverse of :meth:`from_unit`: where ``value`` (a number or an array) sits in the prior, 0 to 1."""
        value = np.asarray(value, dtype=float)
        if self.log_scaled:
            return (np.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)


def _p(name, default, low, high, unit, kind, source, doc, integer=False) -> Param:
    return Param(name, default, low, high, unit, kind, source, doc, integer)


A = "assumption"
U = "uncertainty"
L = "lever"

# fmt: off
_PARAMS: list[Param] = [
    # --- attendance --------------------------------------------------------------------------------
    _p("absence_base", 0.015, 0.01, 0.06, "share of sessions", U, "hand-tuned with illness spells to DfE 2023/24 overall absence 7.1% (MECHANISMS q0 included illness) (hand-tuned at full scale after the spin-up, Dec 2026)",
       "Steady weekly absence share (all reasons but illness spells) of a pupil with average propensity."),
    _p("illness_spell_rate", 0.052, 0.02, 0.12, "per week", U, "DfE pupil absence 2023/24: illness 3.5% of sessions (rate x share); " + A,
       "Weekly hazard of an illness spell for a pupil of average propensity (scaled like the steady share)."),
    _p("illness_spell_absence", 0.6, 0.3, 0.8, "share of sessions", U, A,
       "Share of the week's sessions missed in a week with an illness spell."),
    _p("absence_mult_fsm", 1.8, 1.2, 2.2, "ratio", U, "DfE autumn 2023 persistent-absence ratio FSM/non-FSM (an upper bound: stress adds to it); 1.8 hand-tuned to the FSM persistent-absence rate",
       "Multiplier on steady absence and illness spells for FSM pupils."),
    _p("absence_mult_sen", 1.35, 1.1, 2.2, "ratio", U, "DfE autumn 2023 persistent-absence ratio SEN/no SEN (an upper bound: stress and distress add to it)",
       "Multiplier on steady absence and illness spells for pupils with SEN."),
    _p("absence_propensity_sigma", 0.9, 0.3, 1.2, "log-sd", U, A,
       "Spread (lognormal sigma) of pupils' personal absence propensity; sets persistent absence."),
    _p("absence_stress_slope", 0.1, 0.1, 0.4, "share of sessions", U, A + " (MECHANISMS q1)",
       "Extra absence share at maximum stress."),
    _p("absence_stress_shape", 2.0, 1.0, 3.0, "exponent", U, A + " (MECHANISMS gamma)",
       "Convexity of absence in stress."),
    _p("ebsa_entry_stress", 0.64, 0.6, 0.9, "stress (0-1)", U, A + " (MECHANISMS s_on)" + " (hand-tuned at full scale after the spin-up, Dec 2026)",
       "Stress above which a pupil enters school distress (EBSA)."),
    _p("ebsa_exit_stress", 0.3, 0.25, 0.55, "stress (0-1)", U, A + " (MECHANISMS s_off)",
       "Stress below which a pupil in school distress recovers (hysteresis)."),
    _p("ebsa_absence", 0.65, 0.5, 0.95, "share of sessions", U, A + " (hand-tuned to DfE severe absence 2.3%, 2023/24)",
       "Absence share while in school distress."),
    # --- stress ------------------------------------------------------------------------------------
    _p("stress_recovery_term", 0.03, 0.01, 0.08, "share per week", U, A + " (MECHANISMS delta_term)",
       "Weekly decay of stress in term time."),
    _p("stress_recovery_holiday", 0.08, 0.05, 0.3, "share per week", U, A + " (MECHANISMS delta_hol)",
       "Weekly decay of stress in holidays and out of school."),
    _p("stress_from_unmet", 0.05, 0.01, 0.08, "stress per week", U, A + " (MECHANISMS alpha_u)",
       "Stress added per week by fully unmet need."),
    _p("stress_from_mismatch", 0.04, 0.01, 0.08, "stress per week", U, A + " (MECHANISMS alpha_m)",
       "Stress added per week by a full mismatch between need and school environment."),
    _p("stress_from_transition", 0.02, 0.0, 0.05, "stress per week", U, "FFT Y6-Y7 disadvantage gap (MECHANISMS alpha_tr)",
       "Extra stress per week in the first six weeks of Year 7."),
    _p("vulnerability_sigma", 0.953, 0.4, 1.4, "log-sd", U, A,
       "Spread (lognormal sigma, mean 1) of pupils' vulnerability to everyday stress: anxiety without an identified need."),
    _p("stress_background", 0.00265, 0.001, 0.01, "stress per week", U, A,
       "Everyday stress input, scaled by the pupil's vulnerability (mean 1)."),
    _p("bullying_hazard", 0.006, 0.001, 0.01, "per term week", U, A,
       "Weekly hazard of a bullying or adverse incident at school."),
    _p("bullying_stress", 0.2, 0.05, 0.3, "stress", U, A,
       "Stress added by one incident."),
    _p("stress_from_fine", 0.1, 0.0, 0.2, "stress", U, A + " (MECHANISMS alpha_fine)",
       "Stress added to the child when the family is fined."),
    _p("stress_from_suspension", 0.08, 0.02, 0.2, "stress", U, A,
       "Stress added by a suspension."),
    _p("support_first_relief", 0.05, 0.0, 0.15, "stress", U, A,
       "Stress removed by a support-first attendance meeting with adjustments."),
    # --- support allocation ------------------------------------------------------------------------
    _p("support_hours_ehcp", 10.0, 5.0, 20.0, "hours/week at full intensity", U, A,
       "Support hours a plan specifies for a pupil at need intensity 1."),
    _p("support_hours_sen", 3.0, 1.0, 6.0, "hours/week at full intensity", U, A,
       "Support hours a SEN-support pupil needs at need intensity 1."),
    _p("support_hours_pastoral", 1.5, 0.5, 3.0, "hours/week", U, A,
       "Pastoral hours a highly stressed pupil needs."),
    _p("pastoral_unmet_weight", 0.5, 0.2, 1.0, "need (0-1)", U, A,
       "Unmet need of a stressed pupil without SEN who gets no pastoral help."),
    _p("pastoral_stress_threshold", 0.5, 0.3, 0.7, "stress (0-1)", U, A,
       "Stress above which a pupil needs pastoral support."),
    _p("support_capacity_ratio", 0.8, 0.5, 1.3, "share of demand", L, A + " (Isos 2024 funding gap)",
       "Mainstream support staff hours as a share of pupils' demand at the start."),
    _p("support_capacity_sigma", 0.25, 0.0, 0.5, "log-sd", U, A + " (Isos 2024: high-needs pressure differs widely between schools)",
       "Spread (lognormal sigma, mean support_capacity_ratio) of mainstream schools' funding adequacy; "
       "less inclusive schools sit lower (school_trait_correlation)."),
    _p("special_capacity_ratio", 1.1, 0.8, 1.5, "share of demand", L, A,
       "Special-school support hours as a share of demand."),
    _p("support_funding_change", 0.0, -0.3, 0.3, "share", L, "Isos 2024 (MECHANISMS: uplift 5-20%)",
       "Change in school support funding against the baseline path."),
    _p("ehcp_fidelity", 0.65, 0.4, 0.9, "share", U, A + " (Sense survey; MECHANISMS f)",
       "Share of a plan's provision a mainstream school actually delivers of the hours it gives (special schools: all)."),
    _p("support_trend", 0.0118, -0.1, 0.05, "share per year", L, A,
       "Real-terms yearly change in school support capacity (negative: cuts)."),
    # --- attendance responses ----------------------------------------------------------------------
    _p("fines_first_share", 0.5, 0.0, 1.0, "share of schools", L, A,
       "Share of schools with a fines-first (not support-first) attendance policy."),
    _p("p_notice_attendance", 0.10, 0.05, 0.8, "probability per half term", L,
       "fit to DfE 2022/23: 11% of 398,800 penalty notices not for holidays (about 0.6 per 100 pupils); "
       "full scale after the spin-up, 4 seeds: 5.5 notices per 100 pupils, 89% for holidays",
       "Chance a fines-first school's case (10 unauthorised sessions in 10 school weeks, not a holiday) ends "
       "in a penalty notice (the national framework's rule, which the model applies in every year)."),
    _p("fine_deterrence", 0.2, 0.0, 0.4, "share", U, A + " (MECHANISMS d_fine)",
       "Cut in discretionary absence in the half term after a fine."),
    _p("fine_trust_loss", 0.15, 0.05, 0.3, "trust (0-1)", U, A + " (MECHANISMS dtau_fine)",
       "Loss of family trust in the school after a fine."),
    _p("unauthorised_absence_share", 0.5, 0.3, 0.7, "share", U,
       "DfE pupil absence 2023/24: unauthorised about 2.3 of 7.1% of sessions, about 0.3 of it holidays; "
       "the share of non-illness absence left unauthorised: " + A,
       "Share of steady and stress-driven absence (not illness spells) that is unauthorised."),
    _p("holiday_hazard", 0.0035, 0.001, 0.008, "per term week", U,
       "order of DfE's unauthorised family-holiday absence (about 0.3% of sessions); " + A,
       "Weekly hazard of a term-time holiday (a week away) for a pupil of average steady absence; "
       "carved out of the steady share, so overall absence is unchanged."),
    _p("p_notice_holiday", 0.32, 0.05, 0.9, "probability", U,
       "fit to DfE 2022/23: 398,800 penalty notices, 89% for term-time holidays (about 4.7 per 100 pupils)",
       "Chance a term-time holiday over the 2024 threshold (10 unauthorised sessions in 10 school weeks) "
       "ends in a penalty notice."),
    _p("holiday_fine_trust_loss", 0.03, 0.0, 0.15, "trust (0-1)", U, A,
       "Loss of family trust in the school after a holiday penalty notice (no stress on the child)."),
    _p("p_prosecution", 0.05, 0.0, 0.3, "probability", U,
       "DfE national framework 2024: after two notices in 3 years, other action such as prosecution; rate " + A,
       "Chance a case past the notice cap is prosecuted (effects as a notice's)."),
    # --- suspensions and exclusions ----------------------------------------------------------------
    _p("suspension_hazard", 0.0004, 0.0001, 0.003, "per term week", U, "fit to DfE 11.31 suspensions per 100 pupils (2023/24) (hand-tuned at full scale after the spin-up, Dec 2026)",
       "Base weekly suspension hazard (primary pupil, mean frailty, no risk factors)."),
    _p("suspension_frailty_shape", 0.3, 0.15, 0.6, "gamma shape", U, "FFT: about 2% of pupils account for half of suspensions (MECHANISMS k)",
       "Heterogeneity of suspension risk between pupils (smaller = more concentrated)."),
    _p("secondary_behaviour_mult", 6.0, 2.0, 12.0, "ratio", U, "DfE: secondary suspension rate about 12x primary",
       "Suspension and exclusion hazard multiplier in secondary."),
    _p("rr_fsm", 4.6, 1.5, 8.0, "ratio", U, "DfE autumn 2023/24 via Browne Jacobson; tuned to the emergent ratio",
       "Behaviour-hazard multiplier for FSM pupils."),
    _p("rr_sen_support", 3.0, 0.5, 5.2, "ratio", U, "DfE autumn 2023/24 via Browne Jacobson; (hand-tuned at full scale after the spin-up, Dec 2026)",
       "Behaviour-hazard multiplier for SEN-support pupils."),
    _p("rr_ehcp", 2.7, 0.3, 3.6, "ratio", U, "DfE autumn 2023/24 via Browne Jacobson; (hand-tuned at full scale after the spin-up, Dec 2026)",
       "Behaviour-hazard multiplier for pupils with a plan."),
    _p("rr_semh", 2.0, 1.0, 3.0, "ratio", U, "DfE (MECHANISMS RR_SEMH)",
       "Behaviour-hazard multiplier for SEMH primary need."),
    _p("behaviour_stress_mult", 1.0, 0.0, 4.0, "ratio per unit stress", U, A,
       "Increase of behaviour hazards per unit of stress."),
    _p("pex_hazard", 2.6e-6, 3e-07, 2e-05, "per term week", U, "fit to DfE 0.13 permanent exclusions per 100 pupils (hand-tuned at full scale after the spin-up, Dec 2026)",
       "Base weekly permanent-exclusion hazard."),
    _p("suspension_trend", 0.24, -0.1, 0.4, "log-change per year", U,
       A + " (DfE suspensions per 100 pupils: 6.91 in 2021/22, 9.33 in 2022/23, 11.31 in 2023/24, mostly "
       "'persistent disruptive behaviour'; no published series measures the stricter behaviour policies "
       "behind it, so the rise is a fitted trend, not explained)",
       "Yearly change in schools' suspension hazard from 2021/22 to 2023/24 (the hazard is exp(trend * "
       "(year - 2023)) times its 2023/24 value; held at 2021/22 before and at 2023/24 after)."),
    _p("exclusion_trend", 0.24, -0.1, 0.4, "log-change per year", U,
       A + " (DfE permanent exclusions per 100 pupils: 0.08 in 2021/22, 0.11 in 2022/23, 0.13 in 2023/24; "
       "a fitted trend, like suspension_trend)",
       "Yearly change in schools' permanent-exclusion hazard from 2021/22 to 2023/24 (same form as "
       "suspension_trend)."),
    _p("pex_escalation", 1.0, 0.5, 2.0, "elasticity", U, A + " (MECHANISMS eta)",
       "Elasticity of exclusion risk in the number of suspensions this year."),
    _p("exclusion_propensity_sigma", 1.2, 0.5, 2.0, "log-sd", U, "Timpson 2019: 85% of schools exclude no one in a year",
       "Spread of schools' exclusion propensity."),
    _p("school_trait_correlation", 0.5, 0.0, 0.8, "correlation (latent normal)", U,
       A + " (EPI 2019 'Unexplained pupil exits': exits concentrated in a small number of schools and MATs; "
       "Timpson 2019: exclusion rates vary widely between similar schools)",
       "Pairwise correlation, through one latent pressure factor, of schools' low inclusion, low funding "
       "adequacy, exclusion and off-rolling propensities (Gaussian copula; marginals unchanged)."),
    # --- off-rolling -------------------------------------------------------------------------------
    _p("offroll_beta_a", 0.4, 0.2, 1.0, "beta shape", U, A + " (Education Committee: 5% of schools, 40% of withdrawals)",
       "Shape a of schools' off-rolling propensity Beta(a, b)."),
    _p("offroll_beta_b", 6.0, 3.0, 10.0, "beta shape", U, A,
       "Shape b of schools' off-rolling propensity."),
    _p("offroll_hazard", 0.02, 0.002, 0.06, "per term week", U, A,
       "Weekly pressure hazard for a pupil of unit cost in a school of unit propensity at peak pressure."),
    _p("offroll_pressure_offpeak", 0.3, 0.1, 0.5, "share of peak", L, "Ofsted Y10-Y11 analysis",
       "Exam pressure outside Y10 autumn to the Y11 January census."),
    _p("form_weight_ultimatum", 0.3, 0.0, 1.0, "weight", U, A,
       "Relative frequency of 'leave or be excluded'."),
    _p("form_weight_ehe_letter", 0.2, 0.0, 1.0, "weight", U, A,
       "Relative frequency of a drafted home-education letter."),
    _p("form_weight_managed_move", 0.3, 0.0, 1.0, "weight", U, A,
       "Relative frequency of a managed move."),
    _p("form_weight_part_time", 0.2, 0.0, 1.0, "weight", U, A,
       "Relative frequency of a part-time timetable."),
    _p("comply_intercept", -1.0, -3.0, 1.0, "logit", U, A,
       "Log-odds that an average family gives in to pressure."),
    _p("comply_low_advocacy", 2.0, 1.0, 3.0, "logit", U, A + " (YouGov/Ofsted 2019; MECHANISMS a1)",
       "Added log-odds of complying for a family with no advocacy capacity."),
    _p("comply_low_trust", 1.0, 0.0, 2.0, "logit", U, A,
       "Added log-odds of complying at zero trust."),
    _p("coerced_to_ehe_share", 0.5, 0.3, 0.7, "share", U, "Ofsted: half not in a state school (MECHANISMS omega)",
       "Share of pupils pushed off roll who go to home education."),
    _p("coerced_unknown_share", 0.5, 0.2, 0.8, "share", U, A,
       "Share of the other pushed-off pupils whose destination is unknown (rather than another school)."),
    _p("p_managed_move_success", 0.6, 0.4, 0.8, "probability", U, A,
       "Managed-move trial success."),
    _p("part_time_weeks", 8, 4, 20, "weeks", U, A,
       "Length of a part-time timetable.", integer=True),
    _p("part_time_absence", 0.5, 0.3, 0.8, "share of sessions", U, A,
       "Absence share on a part-time timetable."),
    _p("p_ultimatum_exclusion", 0.2, 0.0, 0.5, "probability", U, A,
       "Chance a school carries out its threat when a family refuses to leave."),
    _p("directed_ap_per_exclusion", 7.0, 0.0, 12.0, "ratio of hazards", U,
       "hand-fitted so moves to AP without exclusion are about 1.5-2x permanent exclusions (FFT Education "
       "Datalab, Who's Left 2018-19: about 8,700 such moves in one cohort against 3,900-5,400 excluded); "
       "scale 0.25, 12 seeds, 3 years: 788 moves against 500 exclusions (1.58; noisy, AP places bind)",
       "Hazard that a school directs a suspended secondary pupil to off-site AP without a permanent "
       "exclusion, as a multiple of the pupil's exclusion hazard (only when an AP place is free)."),
    _p("directed_ap_weeks", 26.0, 8.0, 78.0, "weeks (mean)", U, A + " (DfE AP guidance 2013: directions are time-limited and reviewed)",
       "Mean length of a directed AP placement before the pupil returns to a school (exponential)."),
    # --- EHCP process ------------------------------------------------------------------------------
    _p("ehcp_request_hazard", 0.012, 0.001, 0.02, "per week", U, "fit to DfE requests and new plans (MECHANISMS rho0); hand-tuned to the January 2024 plan stock after the spin-up",
       "Weekly hazard of a needs-assessment request for a SEN-support pupil at intensity 1 and mean advocacy."),
    _p("ehcp_request_unmet_mult", 2.0, 0.0, 4.0, "ratio", U, A,
       "Extra request hazard per unit of unmet need."),
    _p("p_refuse_assessment", 0.218, 0.1, 0.4, "probability", L, "Suffolk 36%; national unconfirmed (MECHANISMS r_LA)",
       "Chance the LA refuses to assess."),
    _p("p_appeal", 0.58, 0.2, 0.7, "probability at full advocacy", U, "MoJ tribunal statistics (MECHANISMS pi_app)",
       "Chance a refused family appeals, times its advocacy."),
    _p("p_tribunal_win", 0.975, 0.9, 0.99, "probability", U, "MoJ: 98% decided for the family at least in part",
       "Chance the family wins at tribunal."),
    _p("tribunal_lag_weeks", 40, 26, 60, "weeks", U, "tribunal backlog reports",
       "Weeks from appeal to hearing.", integer=True),
    _p("ehcp_decision_weeks", 6, 4, 8, "weeks", U, "SEND Code of Practice: 6-week decision",
       "Weeks from request to the decision to assess.", integer=True),
    _p("assessment_min_weeks", 10, 6, 14, "weeks", U, A,
       "Minimum weeks of assessment once work starts.", integer=True),
    _p("p_assessment_delayed", 0.38, 0.1, 0.6, "probability", U, A + " (hand-tuned to DfE 7% of plans over 52 weeks)",
       "Chance an assessment is held up (missing advice from health or an educational psychologist)."),
    _p("assessment_delay_weeks", 12.0, 5.0, 40.0, "weeks (mean)", U, A,
       "Mean extra weeks of a held-up assessment (exponential)."),
    _p("assessment_capacity", 1.85, 0.5, 6.0, "assessments/week per 10,000 pupils", L, "fit to DfE 46-50% of plans within 20 weeks (MECHANISMS C_LA) (hand-tuned at full scale after the spin-up, Dec 2026); in 2023/24, scaled by the ehcp_assessments driver in other years",
       "LA assessment starts per week."),
    _p("assessment_backlog_response", 0.08, 0.0, 0.1, "share of backlog per week", U, A,
       "Extra assessments started per week as a share of the waiting list (agency staff, overtime)."),
    _p("p_plan_after_assessment", 0.8, 0.6, 0.95, "probability", U, "DERIVED: DfE 97,747 plans from 154,489 requests after ~22% refusals",
       "Chance an assessment ends in a plan."),
    _p("p_plan_names_special", 0.4, 0.1, 0.8, "probability at mean SEN-support need", U, A + " (DfE: 43.8% of pupils with plans are not in mainstream)",
       "Chance a new plan names a special school, for a pupil of average SEN-support need (scales with need)."),
    _p("p_plan_ceased_at_review", 0.05, 0.02, 0.08, "probability per review", U,
       A + " (order of DfE SEN2 plans ceased for reasons other than leaving, about 5% a year; not verified here)",
       "Chance an annual review ceases a plan because needs are met (more likely the lower the need)."),
    _p("p_review_names_special", 0.3, 0.05, 0.6, "probability at need intensity 1", U,
       A + " (SEND Code of Practice 9.166-9.185: a review may amend the plan's named placement)",
       "Chance a review amends the plan of a mainstream pupil with unmet need to name a special school (scales with need)."),
    _p("review_on_time_share", 0.6, 0.2, 1.0, "share of reviews", L,
       A + " (SEND Code 9.166: at least every 12 months; LGSCO and DfE: many reviews are overdue)",
       "Share of annual reviews held on time; the rest are late by an exponential delay (mean 16 weeks)."),
    _p("special_places_ratio", 1.0, 0.9, 1.3, "places per initial pupil", L, "CCN/Isos 2025: 83% at or over capacity",
       "Special-school places relative to the initial special-school roll."),
    _p("p_need_onset", 0.029, 0.005, 0.05, "per year", U, A + " (with p_need_resolve, sized to the 18% of pupils on the register)",
       "Yearly chance a child in school without a need develops one (the latent truth, recorded or not)."),
    _p("need_onset_mental_health_elasticity", 0.0, 0.0, 3.0, "elasticity", U,
       A + " (NHS England MHCYP: probable mental disorder among children 12.5% in 2017, 20.3% in 2023; "
       "SEN primary needs that grew fastest are SEMH, speech and language, and autism). The hand-set "
       "default 0 keeps the 2023/24 hand-tuning (the driver is 1 from 2023/24, so it shapes only the "
       "years before); the calibration fits it (posterior median 2.1)",
       "Elasticity of the yearly chance of need onset in the mental-health driver (the onset chance is "
       "p_need_onset times driver ** elasticity; the driver is 1 in 2023/24)."),
    _p("p_need_resolve", 0.0649, 0.02, 0.15, "per year", U, A + " (the yearly SEN-support exit rate the register had before)",
       "Yearly chance a need without a plan resolves."),
    _p("p_sen_identify", 0.35, 0.1, 0.7, "per year", U, A + " (diagnosis and identification take years: NHS autism waits over 1 year)",
       "Yearly chance a school records a need not yet on the register, at mean advocacy and inclusion "
       "(times 0.5 + advocacy and 0.5 + inclusion)."),
    _p("p_sen_declassify", 0.5, 0.2, 0.9, "per year", U, A,
       "Yearly chance the register drops a pupil whose need has resolved."),
    # --- home education ----------------------------------------------------------------------------
    _p("p_special_ehe_consent", 0.5, 0.1, 1.0, "probability", U,
       "Education (Pupil Registration) (England) Regulations 2006, reg. 9(2): LA consent needed to "
       "deregister a child the LA placed in a special school; the consent rate: " + A,
       "Chance the LA consents when the family of a special-school pupil asks to home-educate."),
    _p("ehe_genuine_hazard", 0.0008, 1e-05, 0.003, "per week at preference 1", U, "hand-tuned to the DfE EHE stock and the autumn 2024 reasons (philosophical, preferential or lifestyle 23%); MECHANISMS h_g",
       "Weekly hazard of choosing home education out of preference."),
    _p("ehe_no_choice_hazard", 0.0039, 0.0005, 0.02, "per week at full push", U, "hand-tuned to the DfE EHE stock and the autumn 2024 reasons (mental health 14%, dissatisfaction 10%); MECHANISMS h_nc",
       "Weekly hazard of deregistering because school has become impossible."),
    _p("p_ehe_reason_unknown", 0.45, 0.3, 0.6, "probability", U,
       "DfE, Elective home education, autumn 2024/25: more than 4 in 10 primary reasons unknown to the LA, "
       "other, or not given",
       "Chance the LA records no usable reason for a home education, whatever the real one."),
    _p("ehe_stress_threshold", 0.6, 0.5, 0.8, "stress (0-1)", U, A + " (MECHANISMS s_EHE)",
       "Stress above which a family considers leaving school."),
    _p("ehe_distress_weight", 0.5, 0.0, 1.0, "strain", U, A,
       "Strain on a family from school distress, in the no-choice hazard."),
    _p("ehe_unmet_weight", 0.45, 0.0, 1.0, "strain per unit unmet need", U, A + " (hand-tuned to DfE: dissatisfaction with school or SEND 10% of reasons)",
       "Strain from unmet need, in the no-choice hazard."),
    _p("holiday_exit_factor", 0.25, 0.0, 1.0, "ratio", U, A,
       "No-choice exits in holidays relative to term time (school is felt in term)."),
    _p("ehe_fines_push", 0.5, 0.0, 1.0, "ratio per fine", U, A + " (MECHANISMS psi_fine)",
       "Extra no-choice hazard per fine the family has received."),
    _p("ehe_return_hazard", 0.0085, 0.005, 0.0115, "per term week", U, "DERIVED from DfE stock-flow: 0.31 a year (MECHANISMS h_r0); hand-tuned to the 2023/24 any-point to census ratio (1.9 to 1.1%)",
       "Weekly hazard of returning to school from EHE."),
    _p("return_mult_coerced", 2.0, 1.0, 3.0, "ratio", U, A,
       "Return multiplier for coerced home education."),
    _p("return_mult_no_choice", 1.5, 1.0, 2.0, "ratio", U, A,
       "Return multiplier for no-choice home education."),
    _p("return_mult_genuine", 0.3, 0.1, 0.6, "ratio", U, A,
       "Return multiplier for genuine home education."),
    _p("september_return_mult", 5.0, 2.0, 10.0, "ratio", U, "DERIVED: summer-to-autumn fall in EHE stock",
       "Return multiplier in the first weeks of the autumn term."),
    _p("ehe_monitoring_rate", 0.5, 0.1, 1.0, "contacts per family per year", L, A,
       "LA monitoring contacts with home-educating families."),
    _p("p_ehe_unsuitable", 0.1, 0.05, 0.25, "probability per contact", U, A + " (MECHANISMS zeta)",
       "Chance a monitoring contact finds education unsuitable."),
    _p("p_school_order", 0.5, 0.1, 0.9, "probability", U, A,
       "Chance unsuitable home education ends in a school attendance order (else the child is missing education)."),
    _p("p_la_steers_ehe", 0.1, 0.0, 0.3, "probability", U, A + " (practitioner forums)",
       "Chance an LA officer steers a family refusing an offered place toward home education."),
    _p("p_refuse_offered_place", 0.15, 0.0, 0.4, "probability", U, A,
       "Chance a family refuses the school place the LA offers."),
    # --- children missing education, mobility ------------------------------------------------------
    _p("cme_mean_weeks", 18.0, 6.0, 30.0, "weeks", L, "DERIVED via Little's law from DfE CME stock and flow (hand-tuned at full scale after the spin-up, Dec 2026)",
       "Mean weeks before a child missing education is traced and placed."),
    _p("mobility_rate", 0.03, 0.01, 0.06, "per year", U, A,
       "Yearly chance a child moves out of the area (the slot is taken by an arriving child)."),
    _p("p_arrival_without_place", 0.5, 0.1, 0.7, "probability", U, A,
       "Chance an arriving child has no school place and starts as missing education."),
    _p("placement_weeks", 15.0, 1.0, 16.0, "weeks (mean)", L, A,
       "Mean weeks for the LA to secure a school place."),
    # --- Section 19, alternative provision ---------------------------------------------------------
    _p("s19_referral_weeks", 16, 4, 26, "weeks", U, A,
       "Weeks in school distress before the LA accepts a Section 19 duty.", integer=True),
    _p("p_s19_accepted", 0.149, 0.05, 0.6, "probability", L, A + " (LGSCO: duties accepted only with medical evidence)",
       "Chance the LA accepts a Section 19 duty for a child in long school distress."),
    _p("s19_delay_weeks", 8.0, 2.0, 26.0, "weeks", L, A + " (LGSCO cases; MECHANISMS d_S19)",
       "Mean weeks from referral (or exclusion) to Section 19 provision."),
    _p("s19_delay_shape", 2.5, 1.8, 5.0, "log-logistic shape", U,
       "LGSCO Section 19 reports (cases of 6 months to over a year); spread: " + A,
       "Shape of the Section 19 delay (log-logistic; lower is a longer tail): at 2.5 and a mean of 8 "
       "weeks, 2.5% wait over 26 weeks and 0.5% over a year."),
    _p("s19_hours_per_week", 5.0, 1.0, 15.0, "hours/week", L, A + " (LGSCO: one hour a week after 14 months)",
       "Education offered under Section 19, of 25 hours."),
    _p("s19_return_hazard", 0.0421, 0.005, 0.06, "per week", U, A,
       "Weekly hazard of returning to a school from Section 19."),
    _p("ap_places_per_1000", 4.0, 2.0, 8.0, "places per 1,000 pupils", L, "DfE AP census: 48,133 LA-funded placements",
       "Alternative-provision places."),
    _p("ap_return_hazard", 0.012, 0.004, 0.04, "per term week", U, A,
       "Weekly hazard of reintegration from AP."),
    # --- CAMHS, complaints, work -------------------------------------------------------------------
    _p("camhs_threshold", 0.85, 0.7, 0.95, "stress (0-1)", U, A + " (parents report acceptance only after crisis)",
       "Stress above which CAMHS accepts a referral."),
    _p("camhs_wait_weeks", 20.0, 8.0, 52.0, "weeks (mean)", L, A,
       "Mean wait from acceptance to treatment."),
    _p("camhs_effect", 0.4, 0.1, 0.7, "share of stress", U, A,
       "Share of stress removed by treatment."),
    _p("complaint_hazard", 0.02, 0.005, 0.05, "per week", U, A,
       "Weekly hazard that the family of a child out of education complains."),
    _p("complaint_response_weeks", 16, 8, 40, "weeks", L, A + " (councils' 12-week pledge after LGSCO findings)",
       "Weeks the LA takes to answer a complaint.", integer=True),
    _p("p_ombudsman", 0.1, 0.02, 0.3, "probability", U, A,
       "Share of unresolved complaints taken to the Ombudsman."),
    _p("p_ombudsman_upheld", 0.84, 0.77, 0.9, "probability", U, "LGSCO annual review 2022-23: 84% of 1,263",
       "Share of investigated education complaints upheld."),
    _p("remedy_gbp_per_month", 300.0, 150.0, 500.0, "GBP per month", U, "LGSCO decisions (Worcestershire, Suffolk, Hertfordshire)",
       "Remedy payment per month of missed education."),
    _p("p_parent_leaves_work", 0.01, 0.002, 0.03, "per week", U, A,
       "Weekly hazard a parent gives up work while their child is out of school."),
    # --- Ofsted ------------------------------------------------------------------------------------
    _p("ofsted_flag_share", 0.1, 0.02, 0.3, "share of secondary schools", L, "Ofsted blogs 2018-19: 340 schools flagged a year",
       "Share of secondary schools with the highest Y10-Y11 losses flagged each year."),
    _p("p_inspection", 0.5, 0.1, 1.0, "probability", L, A,
       "Chance a flagged school is inspected on off-rolling."),
    _p("inspection_deterrence", 0.5, 0.1, 0.9, "share", U, A,
       "Cut in off-rolling propensity after a finding."),
    _p("ofsted_finding_excess", 2.0, 1.0, 4.0, "ratio to the LA's rate", U, A,
       "An inspection can find off-rolling only where the school's recorded Y10-Y11 losses are this "
       "many times the LA's (inspectors see the record, not the truth)."),
    _p("p_ofsted_evidence", 0.5, 0.1, 1.0, "probability", U, A,
       "Chance an inspection of such a school finds evidence that the losses were off-rolling."),
    # --- policy levers read by small hooks (interventions.py; 0 or 1 = today's policy) -------------
    _p("inclusion_uplift", 0.0, 0.0, 0.3, "inclusion (0-1)", L, A + " (MECHANISMS: inclusion ethos I_j +0.1-0.2)",
       "Rise in every school's inclusion from SEND training for teachers; lowers the need-environment mismatch."),
    _p("offroll_peak_excess", 1.0, 0.0, 1.0, "share of the census-date excess", L, "EPI 2019 (results attributed to every school attended); assumption",
       "Share of the Y10-to-January-Y11 excess exam pressure (peak over off-peak) that remains; 0 = no census-date spike."),
]
# fmt: on

PARAMS: dict[str, Param] = {p.name: p for p in _PARAMS}
if len(PARAMS) != len(_PARAMS):  # pragma: no cover - guards the list above
    raise RuntimeError("duplicate parameter name in the registry")


def defaults() -> dict[str, float]:
    return {p.name: p.default for p in _PARAMS}


def resolve(overrides: dict[str, object] | None = None, where: str = "parameters") -> dict[str, float]:
    """Defaults updated with ``overrides``; unknown names and bad values are refused."""
    values = defaults()
    for key, value in (overrides or {}).items():
        if key not in PARAMS:
            close = [n for n in PARAMS if n.split("_")[0] == key.split("_")[0]][:4]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ParameterError(f"{where}: unknown parameter {key!r}{hint}")
        values[key] = PARAMS[key].check(value, where)
    if values["ebsa_exit_stress"] >= values["ebsa_entry_stress"]:
        raise ParameterError(
            f"{where}: ebsa_exit_stress ({values['ebsa_exit_stress']}) must be below "
            f"ebsa_entry_stress ({values['ebsa_entry_stress']})"
        )
    return values


def by_kind(kind: Kind) -> list[Param]:
    return [p for p in _PARAMS if p.kind == kind]


def salib_problem(names: list[str] | None = None) -> dict:
    """A SALib problem over ``names`` (default: every non-integer parameter)."""
    chosen = [PARAMS[n] for n in names] if names else [p for p in _PARAMS if not p.integer]
    return {
        "num_vars": len(chosen),
        "names": [p.name for p in chosen],
        "bounds": [[p.low, p.high] for p in chosen],
    }
