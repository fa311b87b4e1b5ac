"""Every intervention acts through the model's mechanisms, from its start year, and books its cost."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from simulation import SchoolExitModel, run
from simulation.model import drivers
from simulation.model import timeline as tl
from simulation.model.modifiers import Modifiers
from simulation.model.moves import refresh_school_traits
from simulation.model.state import Kind, Reason, Status
from simulation.policy.base import InterventionError
from simulation.policy.interventions import AccountabilityReform, OfstedScrutiny, SENDTraining
from simulation.policy.programmes import AttendanceMentors, EHEConsent, MentalHealthSupportTeams
from simulation.policy.registry import REGISTRY, find_conflict, from_dict

YEAR = tl.WEEKS_PER_YEAR


@pytest.fixture(scope="module")
def small(make_scenario):
    return make_scenario(n_pupils=4000, years=2, burn_in=0, seed=3)


@pytest.fixture(scope="module")
def base_run(small):
    return run(small, seed=3, record_events=True)


def _without_name(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns="scenario").reset_index(drop=True)


# Worlds where a lever has something to act on: in the 4,000-pupil LA few children wait for a
# special place, and extra places change nothing while places stand empty.
# Interventions whose target group is too rare in a 4,000-pupil LA for one year to show them
# acting: the mechanism they act on is made common (each value inside its registry range).
NEEDS_DEMAND = {
    "special_school_places": {"p_plan_names_special": 0.5},
    "accountability_reform": {"offroll_hazard": 0.06, "offroll_beta_a": 1.0},  # pressure events
    "ebsa_specialist_support": {"ebsa_entry_stress": 0.6},  # pupils in school distress
    "ehe_consent": {"ehe_no_choice_hazard": 0.02},  # no-choice exits to review
}


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_acts_from_its_start_year_and_books_costs_only_then(kind, small, base_run, model_invariants):
    cls = REGISTRY[kind]
    iv = cls(start_year=1)
    if kind in NEEDS_DEMAND:
        small = small.with_(parameters={**small.parameters, **NEEDS_DEMAND[kind]})
        base_run = run(small, seed=3, record_events=True)
    s = small.with_(name=kind, interventions=(iv,))
    res = run(s, seed=3, record_events=True, keep_model=True)
    m = res.model
    model_invariants(m)
    first, second = base_run.years["academic_year"].tolist()
    # Year 0: not started, the same lives as the baseline (every event identical).
    in_year0 = res.events["week"] < YEAR
    pd.testing.assert_frame_equal(
        _without_name(res.events[in_year0]), _without_name(base_run.events[base_run.events["week"] < YEAR])
    )
    pd.testing.assert_frame_equal(_without_name(res.years.iloc[:1]), _without_name(base_run.years.iloc[:1]))
    # Year 1: the mechanisms did something else (Ofsted acts at the end of the summer term, so its
    # effect starts the year after: tested on its own below).
    if kind != "ofsted_scrutiny":
        same_events = _without_name(res.events).equals(_without_name(base_run.events))
        same_years = _without_name(res.years).equals(_without_name(base_run.years))
        assert not (same_events and same_years), kind
    assert any(m.p[k] != m.p_base[k] for k in cls.levers) or not cls.levers
    costs = iv.cost_per_year(m)
    assert costs.get(first, 0.0) == 0.0
    if cls.cost_basis:
        assert costs.get(second, 0.0) > 0, f"{kind} booked no cost while active"
    else:
        assert costs == {}


def test_no_intervention_leaves_every_hook_unset(small):
    m = SchoolExitModel(small, seed=1)
    for _ in range(20):
        m.step()
        mods = m.modifiers
        assert mods.stress_input_scale is None and mods.no_choice_ehe_scale is None
        assert mods.ehe_consent_needed is None
    assert m.p["offroll_peak_excess"] == 1.0 and m.p["inclusion_uplift"] == 0.0


def test_an_intervention_that_ends_leaves_nothing_behind(small):
    """Year 0 under an intervention that ends after year 0, then year 1 exactly as the baseline's parameters."""
    s = small.with_(interventions=(SENDTraining(increase=0.2, end_year=0), MentalHealthSupportTeams(end_year=0)))
    m = SchoolExitModel(s, seed=2)
    m.run_for(YEAR + 1)
    expected = dict(m.p_base)
    drivers.apply(expected, m.world.academic_year)  # the year's published trends, nothing else
    assert m.p == expected and m.modifiers.stress_input_scale is None


def test_mentors_reach_persistently_absent_pupils_within_capacity(small):
    iv = AttendanceMentors(places_per_10k=100.0, p_engage=1.0, p_respond=1.0)
    m = SchoolExitModel(small.with_(interventions=(iv,)), seed=4)
    m.run_for(30)
    engaged = iv.units_per_year(m)[m.academic_year]
    quota = 100.0 * len(m.pupils) / 10_000 * int(tl.IS_TERM[:30].sum()) / tl.N_TERM_WEEKS
    assert 0 < engaged <= quota  # early in the year few pupils are yet persistently absent: places go unused
    marks = next(v for k, v in m.intervention_state[iv].items() if isinstance(k, tuple) and k[0] == "referred")
    referred = np.flatnonzero(marks == m.pupils.uid)
    left = np.count_nonzero((marks >= 0) & (marks != m.pupils.uid))  # slots since refilled: that child moved on
    assert len(referred) + left == round(engaged)  # p_engage = 1: every referred pupil engaged and was counted
    # Referred at 10%+ absence over 4+ weeks, so 0.4+ weeks missed; missed weeks only grow within a year
    # (the rate itself may have fallen since: one illness spell early in term makes a short-lived 10%).
    assert (m.pupils.sessions_missed[referred] >= 0.4 - 1e-5).all()


def test_mental_health_teams_cut_stress_build_up_in_covered_schools_only(small):
    iv = MentalHealthSupportTeams(coverage=0.5, current_coverage=0.0, effect=0.2)
    m = SchoolExitModel(small.with_(interventions=(iv,)), seed=5)
    m.run_for(3)
    m.modifiers = Modifiers(len(m.pupils))  # act now, against the current state
    iv.apply(m, 1.0)
    scale = m.modifiers.stress_input_scale
    pu = m.pupils
    covered = np.append(m.intervention_state[iv]["school_u"] < 0.5, False)[pu.school]
    mild = pu.stress < m.p["camhs_threshold"]
    assert np.allclose(scale[covered & mild], 0.8) and np.allclose(scale[~covered], 1.0)


def test_la_consent_stops_pushes_and_refusals_for_flagged_children(make_scenario):
    s = make_scenario(n_pupils=6000, years=2, burn_in=0, seed=9)
    s = s.with_(population=dataclasses.replace(s.population, social_care_share=0.3))  # many flagged children
    consent = s.with_(name="consent", interventions=(EHEConsent(p_refused=1.0, p_push_stopped=1.0),))
    base, pol = run(s, seed=9, record_events=True), run(consent, seed=9, record_events=True)

    def flagged_entries(events, reasons):
        e = events[(events["kind"] == Kind.MOVE) & (events["to_status"] == Status.EHE)]
        flagged = e["social_care"].astype(bool) | (e["from_status"] == Status.SPECIAL)
        return e[flagged & e["true_reason"].isin(reasons)]

    blocked = [Reason.COERCED_EHE, Reason.NO_CHOICE_EHE]
    assert len(flagged_entries(base.events, blocked)) > 0  # there is something to stop
    assert len(flagged_entries(pol.events, blocked)) == 0


def test_ofsted_scrutiny_inspects_more_and_deters(make_scenario):
    s = make_scenario(n_pupils=8000, years=2, burn_in=0, seed=4)
    s = s.with_(population=dataclasses.replace(s.population, n_secondary=12))
    a = SchoolExitModel(s, seed=4)
    b = SchoolExitModel(s.with_(interventions=(OfstedScrutiny(flag_share=0.3, p_inspection=1.0),)), seed=4)
    a.run_for(2 * YEAR)
    b.run_for(2 * YEAR)
    assert len(b.inspections) > len(a.inspections)
    found = sum(f for *_, f in b.inspections)
    if found > sum(f for *_, f in a.inspections):  # more findings: propensity cut in more schools
        assert b.schools.offroll_propensity.sum() < a.schools.offroll_propensity.sum()


def test_accountability_reform_removes_the_census_spike(make_scenario):
    s = make_scenario(
        n_pupils=6000, years=2, burn_in=0, seed=8, parameters={"offroll_hazard": 0.06, "offroll_beta_a": 1.0}
    )
    reform = s.with_(name="reform", interventions=(AccountabilityReform(),))
    base, pol = run(s, seed=8, record_events=True), run(reform, seed=8, record_events=True)

    def peak_pressure(events):
        e = events[events["kind"] == Kind.PRESSURE]
        week = e["week"] % YEAR
        return np.count_nonzero((e["year_group"] == 10) | ((e["year_group"] == 11) & (week <= tl.SPRING_CENSUS)))

    assert peak_pressure(pol.events) < 0.6 * peak_pressure(base.events)
    assert pol.summary["offrolled_per_1000"].iloc[0] < base.summary["offrolled_per_1000"].iloc[0]


def test_send_training_lowers_stress_of_pupils_with_needs(small):
    a = SchoolExitModel(small, seed=6)
    b = SchoolExitModel(small.with_(interventions=(SENDTraining(increase=0.3),)), seed=6)
    a.run_for(12)
    b.run_for(12)
    sen = a.pupils.sen > 0
    assert b.pupils.stress[sen].mean() < a.pupils.stress[sen].mean()


def test_modifiers_multiply():
    mods = Modifiers(4)
    mods.scale_stress_inputs(np.array([0, 1]), 0.5)
    mods.scale_stress_inputs(np.array([1]), 0.5)
    np.testing.assert_allclose(mods.stress_input_scale, [0.5, 0.25, 1, 1])


def test_conflicts_need_a_shared_lever_and_overlapping_years():
    a = from_dict({"type": "support_first_attendance"}, "f", 5)
    b = from_dict({"type": "penalty_notice_tightening", "start_year": 3}, "f", 5)
    assert "fines_first_share" in find_conflict([a, b])
    a_ends = from_dict({"type": "support_first_attendance", "end_year": 2}, "f", 5)
    assert find_conflict([a_ends, b]) is None
    m1 = from_dict({"type": "attendance_mentors"}, "f", 5)
    m2 = from_dict({"type": "attendance_mentors", "places_per_10k": 90}, "f", 5)
    assert "attendance_mentors" in find_conflict([m1, m2])
    assert find_conflict([m1, a, from_dict({"type": "ehe_consent"}, "f", 5)]) is None


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_field_is_validated(kind):
    cls = REGISTRY[kind]
    for name, (low, high, _unit, _) in cls.FIELDS.items():
        with pytest.raises(InterventionError, match=name):
            from_dict({"type": kind, name: high + 1}, "f", 5)
        with pytest.raises(InterventionError, match="not a number"):
            from_dict({"type": kind, name: "x"}, "f", 5)
        assert getattr(from_dict({"type": kind, name: low}, "f", 5), name) == low


def test_ofsted_sees_the_record_not_the_truth(make_scenario):
    """With no off-rolling at all, schools whose recorded losses stand out are still 'found':
    a finding reads the record (losses to EHE, CME and AP), never the hidden reasons."""
    s = make_scenario(n_pupils=8000, years=1, burn_in=0, seed=4)
    s = s.with_(population=dataclasses.replace(s.population, n_secondary=12))
    sure = {"p_inspection": 1.0, "p_ofsted_evidence": 1.0, "ofsted_flag_share": 0.3, "ofsted_finding_excess": 1.0}
    m = SchoolExitModel(s.with_(parameters=sure), seed=4, record_events=True)
    m.schools.offroll_propensity[:] = 0.0
    m.schools.offroll_base[:] = 0.0
    refresh_school_traits(m.world)
    m.run_for(YEAR)
    ev = m.log.year(0)
    assert np.count_nonzero(ev["kind"] == Kind.MOVE) > 100  # the year's moves are all there ...
    offrolled = np.isin(ev["true_reason"], (Reason.COERCED_EHE, Reason.OFFROLLED_UNKNOWN, Reason.OFFROLLED_TRANSFER))
    assert not offrolled.any()  # ... and nobody was off-rolled ...
    assert any(found for *_, found in m.inspections)  # ... yet the record flagged and 'found' some


def test_leaving_a_special_school_for_home_education_needs_la_consent(make_scenario):
    """Same seed, consent almost always refused against always given: far fewer special-school
    pupils go to home education, and no fewer from mainstream (the rule touches only them)."""
    # no-choice exits made common (inside the registry range) so special schools see enough of them
    hard = {
        "ehe_no_choice_hazard": 0.02,
        "ehe_stress_threshold": 0.5,
        "ehe_distress_weight": 1.0,
        "stress_from_mismatch": 0.08,
        "stress_background": 0.005,
    }
    s = make_scenario(n_pupils=20000, years=2, burn_in=0, parameters=hard)

    def ehe_entries(consent: float) -> tuple[int, int]:
        m = SchoolExitModel(
            s.with_(parameters={**s.parameters, "p_special_ehe_consent": consent}), seed=6, record_events=True
        )
        m.run_for(2 * YEAR)
        ev = [m.log.year(y) for y in m.log.years()]
        frm = np.concatenate([e["from_status"] for e in ev])
        to_ehe = np.concatenate([(e["kind"] == Kind.MOVE) & (e["to_status"] == Status.EHE) for e in ev])
        return int(np.count_nonzero(to_ehe & (frm == Status.SPECIAL))), int(
            np.count_nonzero(to_ehe & (frm == Status.ON_ROLL))
        )

    special_given, mainstream_given = ehe_entries(1.0)
    special_refused, mainstream_refused = ehe_entries(0.1)
    assert special_given >= 10, special_given  # enough for the comparison to mean something
    assert special_refused <= 0.4 * special_given, (special_refused, special_given)
    assert mainstream_refused >= 0.9 * mainstream_given
