"""Interventions: timing, ramps and how they move their lever."""

import pytest

from simulation import PARAMS, SchoolExitModel
from simulation.model.params import resolve
from simulation.policy.base import InterventionError
from simulation.policy.interventions import EHCPAssessmentCapacity, SupportFirstAttendance, SupportFunding
from simulation.policy.registry import REGISTRY, from_dict, to_dict


def test_every_registered_intervention_moves_registry_levers_or_is_a_programme():
    assert {"ehcp_assessment_capacity", "support_funding", "support_first_attendance"} <= set(REGISTRY)
    for name, cls in REGISTRY.items():
        assert cls.type == name
        for lever in cls.levers:
            assert lever in PARAMS, f"{name} moves unknown parameter {lever}"
        if cls.levers:
            assert cls.lever in cls.levers
            assert PARAMS[cls.lever].kind == "lever", f"{name} moves {cls.lever}, which is not a lever"
            # Only stated exceptions move an uncertainty (e.g. psychologists also cut held-up advice).
            others = {lever for lever in cls.levers if PARAMS[lever].kind != "lever"}
            assert others <= {"p_assessment_delayed"}, (name, others)
        else:  # a weekly programme: its own name is what two entries may not both set
            assert cls.lever == name


def test_strength_is_zero_before_the_start_and_one_after():
    iv = SupportFunding(start_year=2)
    assert [iv.strength(y) for y in range(-1, 5)] == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]


def test_strength_stops_after_the_end_year_inclusive():
    iv = SupportFunding(start_year=1, end_year=2)
    assert [iv.strength(y) for y in range(5)] == [0.0, 1.0, 1.0, 0.0, 0.0]


def test_strength_ramps_linearly():
    iv = SupportFunding(start_year=1, ramp_years=2)
    assert [iv.strength(y) for y in range(5)] == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0, 1.0])
    assert all(
        a <= b for a, b in zip([iv.strength(y) for y in range(10)], [iv.strength(y) for y in range(1, 11)], strict=True)
    )


def test_assessment_capacity_scales_the_lever_within_bounds():
    p = resolve()
    base = p["assessment_capacity"]
    q = dict(p)
    EHCPAssessmentCapacity(increase=0.5).adjust(q, 1.0)
    assert q["assessment_capacity"] == pytest.approx(min(base * 1.5, PARAMS["assessment_capacity"].high))
    q = dict(p)
    EHCPAssessmentCapacity(increase=0.5).adjust(q, 0.5)
    assert q["assessment_capacity"] == pytest.approx(min(base * 1.25, PARAMS["assessment_capacity"].high))
    q = dict(p)
    EHCPAssessmentCapacity(increase=2.0).adjust(q, 1.0)
    assert PARAMS["assessment_capacity"].low <= q["assessment_capacity"] <= PARAMS["assessment_capacity"].high
    # Only the lever moves.
    assert {k for k in p if p[k] != q[k]} <= {"assessment_capacity"}


def test_support_funding_adds_its_change():
    p = resolve()
    q = dict(p)
    SupportFunding(change=0.1).adjust(q, 1.0)
    spec = PARAMS["support_funding_change"]
    assert q["support_funding_change"] == pytest.approx(
        min(max(p["support_funding_change"] + 0.1, spec.low), spec.high)
    )
    q = dict(p)
    SupportFunding(change=0.0).adjust(q, 1.0)
    assert q == p  # a zero change is no change at all


def test_support_first_moves_fines_share_towards_its_target():
    p = dict(resolve(), fines_first_share=0.8)
    q = dict(p)
    SupportFirstAttendance(fines_first_share=0.0).adjust(q, 0.5)
    assert q["fines_first_share"] == pytest.approx(0.4)
    SupportFirstAttendance(fines_first_share=0.0).adjust(q, 1.0)
    assert q["fines_first_share"] == pytest.approx(0.0)


def test_from_dict_and_to_dict_round_trip():
    raw = {"type": "ehcp_assessment_capacity", "increase": 0.4, "start_year": 1, "ramp_years": 2}
    iv = from_dict(raw, "here", horizon_years=5)
    assert iv == EHCPAssessmentCapacity(increase=0.4, start_year=1, ramp_years=2)
    assert to_dict(iv) == raw
    assert from_dict(to_dict(iv), "here", 5) == iv


def test_from_dict_refuses_bad_input_naming_where():
    with pytest.raises(InterventionError, match=r"here.*unknown intervention type"):
        from_dict({"type": "nope"}, "here", 5)
    with pytest.raises(InterventionError, match="start_year"):
        from_dict({"type": "support_funding", "start_year": 5}, "here", 5)
    with pytest.raises(InterventionError, match="change"):
        from_dict({"type": "support_funding", "change": 1.0}, "here", 5)
    with pytest.raises(InterventionError, match="change"):
        from_dict({"type": "support_funding", "change": True}, "here", 5)


def test_interventions_are_frozen():
    iv = SupportFunding()
    with pytest.raises(AttributeError):
        iv.change = 0.5


def test_the_model_applies_an_intervention_from_its_start_year(make_scenario):
    iv = EHCPAssessmentCapacity(increase=0.5, start_year=1)
    s = make_scenario(n_pupils=1500, years=2, interventions=(iv,))
    m = SchoolExitModel(s, seed=1)
    base = m.p_base["assessment_capacity"]
    m.run_for(52)
    assert m.p["assessment_capacity"] == base  # evaluation year 0: not yet
    m.step()  # first week of evaluation year 1
    expected = min(base * 1.5, PARAMS["assessment_capacity"].high)
    assert m.p["assessment_capacity"] == pytest.approx(expected)
    assert m.p_base["assessment_capacity"] == base  # the scenario's own values are untouched
