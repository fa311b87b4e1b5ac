"""Weekly hazards: behaviour, exclusion, off-rolling, compliance, home education, returns."""

import numpy as np
import pytest

from simulation.model.dynamics import hazards
from simulation.model.state import SEN, Form, Need, Route


def test_behaviour_risk_multiplies_the_relative_risks(default_params):
    p = default_params
    fsm = np.array([False, True, False, False, False, True])
    sen = np.array([SEN.NONE, SEN.NONE, SEN.SUPPORT, SEN.EHCP, SEN.NONE, SEN.SUPPORT])
    need = np.array([Need.NONE, Need.NONE, Need.MLD, Need.ASD, Need.NONE, Need.SEMH])
    stress = np.array([0.0, 0.0, 0.0, 0.0, 0.5, 0.5])
    secondary = np.array([False, False, False, False, False, True])
    rr = hazards.behaviour_risk(fsm, sen, need, stress, secondary, p)
    stress_factor = 1.0 + p["behaviour_stress_mult"] * 0.5
    expected = [
        1.0,
        p["rr_fsm"],
        p["rr_sen_support"],
        p["rr_ehcp"],
        stress_factor,
        p["rr_fsm"] * p["rr_sen_support"] * p["rr_semh"] * stress_factor * p["secondary_behaviour_mult"],
    ]
    np.testing.assert_allclose(rr, expected, rtol=1e-6)


def test_exclusion_hazard_escalates_with_suspensions(default_params):
    p = default_params
    suspensions = np.arange(0, 8)
    h = hazards.exclusion_hazard(np.ones(8), np.ones(8), suspensions, p)
    assert np.all(np.diff(h) > 0)
    assert h[0] == pytest.approx(p["pex_hazard"])
    np.testing.assert_allclose(h, p["pex_hazard"] * (1.0 + suspensions) ** p["pex_escalation"], rtol=1e-9)
    # Linear in the pupil's risk and the school's propensity.
    h2 = hazards.exclusion_hazard(np.full(8, 2.0), np.full(8, 3.0), suspensions, p)
    np.testing.assert_allclose(h2, 6.0 * h, rtol=1e-9)


@pytest.mark.parametrize("weights", [(0.3, 0.2, 0.3, 0.2), (1.0, 0.0, 0.0, 3.0), (0.0, 0.5, 0.25, 0.25)])
def test_choose_form_matches_the_normalised_weights(default_params, weights):
    p = dict(
        default_params,
        form_weight_ultimatum=weights[0],
        form_weight_ehe_letter=weights[1],
        form_weight_managed_move=weights[2],
        form_weight_part_time=weights[3],
    )
    n = 100_000
    u = (np.arange(n) + 0.5) / n  # an even grid on [0, 1)
    form = hazards.choose_form(u, p)
    shares = np.bincount(form, minlength=4) / n
    expected = np.array(weights) / sum(weights)
    np.testing.assert_allclose(shares, expected, atol=2.0 / n)
    assert set(np.unique(form)) <= {int(f) for f in Form}


def test_choose_form_never_picks_a_zero_weight_form(default_params):
    p = dict(
        default_params,
        form_weight_ultimatum=0.0,
        form_weight_ehe_letter=1.0,
        form_weight_managed_move=0.0,
        form_weight_part_time=1.0,
    )
    form = hazards.choose_form(np.linspace(0.0, 0.999999, 1001), p)
    assert set(np.unique(form)) == {Form.EHE_LETTER, Form.PART_TIME}


def test_choose_form_with_all_weights_zero_is_uniform(default_params):
    p = dict(
        default_params,
        form_weight_ultimatum=0.0,
        form_weight_ehe_letter=0.0,
        form_weight_managed_move=0.0,
        form_weight_part_time=0.0,
    )
    form = hazards.choose_form((np.arange(400) + 0.5) / 400, p)
    np.testing.assert_array_equal(np.bincount(form, minlength=4), [100, 100, 100, 100])


def test_p_comply_falls_with_advocacy_and_trust(default_params):
    p = default_params
    grid = np.linspace(0, 1, 11)
    by_advocacy = hazards.p_comply(grid, np.full(11, 0.5), p)
    by_trust = hazards.p_comply(np.full(11, 0.5), grid, p)
    assert np.all((by_advocacy > 0) & (by_advocacy < 1))
    if p["comply_low_advocacy"] > 0:
        assert np.all(np.diff(by_advocacy) < 0)
    assert np.all(np.diff(by_advocacy) <= 0)
    assert np.all(np.diff(by_trust) <= 0)
    # With positive weights the fall is strict.
    q = dict(p, comply_low_advocacy=2.0, comply_low_trust=1.0)
    assert np.all(np.diff(hazards.p_comply(grid, np.full(11, 0.5), q)) < 0)
    assert np.all(np.diff(hazards.p_comply(np.full(11, 0.5), grid, q)) < 0)
    # At full advocacy and trust the log-odds are the intercept.
    assert hazards.p_comply(np.array([1.0]), np.array([1.0]), p)[0] == pytest.approx(
        1 / (1 + np.exp(-p["comply_intercept"]))
    )


def test_no_choice_home_education_needs_strain(default_params):
    p = default_params
    s0 = p["ehe_stress_threshold"]
    n = 5
    stress = np.array([0.0, s0 * 0.5, s0, s0, s0])
    distress = np.array([False, False, False, True, False])
    unmet = np.array([0.0, 0.0, 0.0, 0.0, 0.5])
    genuine, no_choice = hazards.ehe_hazards(
        stress, distress, unmet, np.zeros(n), np.full(n, 0.5), np.zeros(n), np.full(n, 0.5), p
    )
    np.testing.assert_array_equal(no_choice[:3], 0.0)  # at or below the stress threshold, no distress or unmet need
    assert no_choice[3] > 0 and no_choice[4] > 0
    np.testing.assert_array_equal(genuine, 0.0)  # no preference, no genuine exits


def test_no_choice_hazard_rises_with_stress_fines_and_falling_trust(default_params):
    p = default_params
    s0 = p["ehe_stress_threshold"]
    stress = np.linspace(s0, 1.0, 6)
    base = dict(distress=np.zeros(6, bool), unmet=np.zeros(6), preference=np.zeros(6), capacity=np.zeros(6))
    _, by_stress = hazards.ehe_hazards(
        stress,
        base["distress"],
        base["unmet"],
        np.zeros(6),
        np.full(6, 0.5),
        base["preference"],
        base["capacity"],
        p,
    )
    assert np.all(np.diff(by_stress) > 0)
    high = np.full(6, 0.9)
    _, by_fines = hazards.ehe_hazards(
        high,
        base["distress"],
        base["unmet"],
        np.arange(6),
        np.full(6, 0.5),
        base["preference"],
        base["capacity"],
        p,
    )
    assert np.all(np.diff(by_fines) >= 0)
    _, by_trust = hazards.ehe_hazards(
        high,
        base["distress"],
        base["unmet"],
        np.zeros(6),
        np.linspace(0, 1, 6),
        base["preference"],
        base["capacity"],
        p,
    )
    assert np.all(np.diff(by_trust) < 0)


def test_genuine_home_education_follows_preference_and_capacity(default_params):
    p = default_params
    pref = np.array([0.0, 0.5, 1.0, 1.0])
    cap = np.array([0.5, 0.5, 0.5, 1.0])
    genuine, _ = hazards.ehe_hazards(np.zeros(4), np.zeros(4, bool), np.zeros(4), np.zeros(4), np.ones(4), pref, cap, p)
    np.testing.assert_allclose(genuine, p["ehe_genuine_hazard"] * pref * (0.5 + cap))


def test_return_hazard_september_peak_and_routes(default_params):
    p = default_params
    route = np.array([Route.NONE, Route.GENUINE, Route.NO_CHOICE, Route.COERCED])
    normal = hazards.return_hazard(route, False, p)
    september = hazards.return_hazard(route, True, p)
    np.testing.assert_allclose(september / normal, p["september_return_mult"])
    np.testing.assert_allclose(
        normal,
        p["ehe_return_hazard"]
        * np.array([1.0, p["return_mult_genuine"], p["return_mult_no_choice"], p["return_mult_coerced"]]),
    )


def test_pressure_hazard_peaks_in_year_10_and_11(default_params):
    p = default_params
    h = hazards.pressure_hazard(np.full(2, 0.5), np.array([True, False]), np.full(2, 2.0), p)
    assert h[0] == pytest.approx(p["offroll_hazard"] * 0.5 * 2.0)
    assert h[1] / h[0] == pytest.approx(p["offroll_pressure_offpeak"])


def test_offroll_cost_grows_with_absence_behaviour_and_need():
    base = hazards.offroll_cost(np.array([0.0]), np.array([0]), np.array([0.0]), np.array([0.0]), np.array([False]))
    for args in (
        ([0.3], [0], [0.0], [0.0], [False]),
        ([0.0], [2], [0.0], [0.0], [False]),
        ([0.0], [0], [0.5], [0.0], [False]),
        ([0.0], [0], [0.0], [0.5], [False]),
        ([0.0], [0], [0.0], [0.0], [True]),
    ):
        assert hazards.offroll_cost(*(np.array(a) for a in args))[0] > base[0]


def test_ehcp_requests_only_for_sen_support_and_rise_with_unmet_need(default_params):
    p = default_params
    sen = np.array([SEN.NONE, SEN.SUPPORT, SEN.SUPPORT, SEN.EHCP])
    h = hazards.ehcp_request_hazard(np.full(4, 0.5), np.array([0.5, 0.0, 0.5, 0.5]), np.full(4, 0.5), sen, p)
    assert h[0] == 0.0 and h[3] == 0.0
    assert h[2] > h[1] > 0
