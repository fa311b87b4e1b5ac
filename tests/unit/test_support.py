"""Support allocation on hand-built schools of a few pupils."""

import numpy as np
import pytest

from simulation.model.dynamics.support import TIER_EHCP, TIER_PASTORAL, TIER_SEN, share_met, unmet_need


def provided_hours(school, share, demand, n_schools):
    return np.bincount(school, weights=share * demand, minlength=n_schools)


def test_plans_are_served_before_sen_support_and_pastoral():
    # School 0 has 10 hours: plans want 8 (all met), SEN support wants 8 (2 hours left: a quarter),
    # pastoral wants 1 (nothing left).
    school = np.array([0, 0, 0, 0, 0])
    tier = np.array([TIER_EHCP, TIER_EHCP, TIER_SEN, TIER_SEN, TIER_PASTORAL])
    demand = np.array([6.0, 2.0, 4.0, 4.0, 1.0])
    share = share_met(school, tier, demand, np.array([10.0]))
    np.testing.assert_allclose(share, [1.0, 1.0, 0.25, 0.25, 0.0])


def test_a_lower_tier_gets_nothing_until_the_tier_above_is_fully_served():
    school = np.array([0, 0, 0])
    tier = np.array([TIER_SEN, TIER_EHCP, TIER_PASTORAL])  # order in the arrays must not matter
    demand = np.array([3.0, 8.0, 1.0])
    share = share_met(school, tier, demand, np.array([4.0]))
    np.testing.assert_allclose(share, [0.0, 0.5, 0.0])


def test_rationing_inside_a_tier_is_proportional():
    # Three plans asking 2, 4 and 6 hours from 6 hours: each gets half of what they asked.
    school = np.array([0, 0, 0])
    tier = np.full(3, TIER_EHCP)
    demand = np.array([2.0, 4.0, 6.0])
    share = share_met(school, tier, demand, np.array([6.0]))
    np.testing.assert_allclose(share, [0.5, 0.5, 0.5])
    np.testing.assert_allclose(provided_hours(school, share, demand, 1), [6.0])


def test_schools_ration_independently():
    school = np.array([0, 1, 1, 0])
    tier = np.array([TIER_SEN, TIER_SEN, TIER_SEN, TIER_PASTORAL])
    demand = np.array([2.0, 3.0, 3.0, 1.0])
    share = share_met(school, tier, demand, np.array([10.0, 3.0]))
    np.testing.assert_allclose(share, [1.0, 0.5, 0.5, 1.0])


def test_a_school_whose_tier_has_no_demand_gives_share_one():
    school = np.array([0, 1])
    tier = np.array([TIER_SEN, TIER_SEN])
    demand = np.array([5.0, 0.0])
    share = share_met(school, tier, demand, np.array([1.0, 0.0]))
    assert share[1] == 1.0  # no demand: fully met even with zero capacity
    assert share[0] == pytest.approx(0.2)


def test_a_pupil_with_no_demand_gets_share_one_even_in_a_rationed_tier():
    school = np.array([0, 0])
    tier = np.array([TIER_SEN, TIER_SEN])
    demand = np.array([4.0, 0.0])
    share = share_met(school, tier, demand, np.array([1.0]))
    assert share[1] == 1.0


def test_capacity_is_never_exceeded_and_tiers_are_respected_on_random_schools():
    rng = np.random.default_rng(12)
    for _ in range(200):
        n, n_schools = int(rng.integers(1, 30)), int(rng.integers(1, 5))
        school = rng.integers(0, n_schools, size=n)
        tier = rng.integers(0, 3, size=n)
        demand = rng.exponential(3.0, size=n) * (rng.random(n) > 0.1)
        capacity = rng.exponential(8.0, size=n_schools)
        share = share_met(school, tier, demand, capacity)
        assert np.all((share >= 0.0) & (share <= 1.0))
        assert np.all(provided_hours(school, share, demand, n_schools) <= capacity + 1e-9)
        for j in range(n_schools):
            for level in (TIER_SEN, TIER_PASTORAL):
                lower_served = (school == j) & (tier == level) & (share * demand > 1e-12)
                higher = (school == j) & (tier < level) & (demand > 0)
                if lower_served.any():
                    assert np.all(share[higher] == 1.0), "a lower tier was served before a higher tier was met"
            for level in (TIER_EHCP, TIER_SEN, TIER_PASTORAL):
                same = (school == j) & (tier == level) & (demand > 0)  # zero demand gets 1
                if same.any():
                    assert np.ptp(share[same]) == 0.0, "pupils of one tier in one school got different shares"
        # Work-conserving: a school with unmet demand has used all its hours.
        short = np.bincount(school, weights=(1 - share) * demand, minlength=n_schools) > 1e-9
        used = provided_hours(school, share, demand, n_schools)
        np.testing.assert_allclose(used[short], capacity[short], rtol=1e-9)


def test_shares_are_never_negative_after_a_tier_exhausts_capacity():
    # 0.7 h for a 4.9 h plan: frac * wanted rounds to slightly more than 0.7, which once left a
    # remainder of -1e-16 and a negative share for the next tier.
    share = share_met(np.array([0, 0]), np.array([TIER_EHCP, TIER_SEN]), np.array([4.9, 1.0]), np.array([0.7]))
    assert share[1] >= 0.0


def test_unmet_need_scales_with_intensity_and_fidelity():
    intensity = np.array([0.8, 0.8, 0.5, 0.0])
    share = np.array([1.0, 0.5, 1.0, 0.3])
    np.testing.assert_allclose(unmet_need(intensity, share, 1.0), [0.0, 0.4, 0.0, 0.0])
    # A plan delivered at fidelity f leaves (1 - f) of the need unmet even when fully funded.
    fidelity = 0.65
    np.testing.assert_allclose(unmet_need(intensity, share, fidelity), intensity * (1 - fidelity * share))
    per_pupil = np.array([0.65, 1.0, 0.65, 1.0])
    np.testing.assert_allclose(unmet_need(intensity, share, per_pupil), [0.8 * 0.35, 0.4, 0.5 * 0.35, 0.0])
    # Less fidelity, more unmet need.
    assert np.all(unmet_need(intensity, share, 0.4) >= unmet_need(intensity, share, 0.9))
