"""The numerical core of ABC-SMC on cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.research import abc_smc
from simulation.research.abc_smc import UniformPrior

PRIOR = UniformPrior(("a", "b"), np.array([0.0, -1.0]), np.array([1.0, 1.0]))


def test_prior_samples_stay_in_the_box_and_cover_it():
    x = PRIOR.sample(np.random.default_rng(1), 20_000)
    assert PRIOR.contains(x).all()
    # uniform on [0, 1]: the mean is 0.5 with sd 0.289 / sqrt(20000) = 0.002; 4 sd tolerance
    assert abs(x[:, 0].mean() - 0.5) < 0.008 and abs(x[:, 1].mean()) < 0.016


def test_free_coordinates_round_trip():
    x = PRIOR.sample(np.random.default_rng(3), 100)
    np.testing.assert_allclose(PRIOR.from_free(PRIOR.to_free(x)), x, rtol=0, atol=1e-12)


def test_random_walk_stays_in_the_prior_and_reports_the_prior_ratio():
    theta = np.array([[0.01, 0.99], [0.99, -0.99]] * 2500)
    cov = np.diag([3.0, 3.0]) ** 2  # a very wide walk in free coordinates
    x, log_ratio = abc_smc.random_walk(np.random.default_rng(2), theta, cov, PRIOR)
    assert PRIOR.contains(x).all()
    expected = PRIOR.log_density_free(PRIOR.to_free(x)) - PRIOR.log_density_free(PRIOR.to_free(theta))
    np.testing.assert_allclose(log_ratio, expected, rtol=1e-9, atol=1e-9)


def test_metropolis_walk_with_no_data_samples_the_prior():
    # With every proposal within tolerance, the Metropolis-Hastings walk in free coordinates
    # must leave the uniform prior invariant: 4,000 chains from one corner, 60 steps, then the
    # means of U(0, 1) and U(-1, 1) are 0.5 and 0 (sd of the mean about 0.005; tolerance 0.03).
    rng = np.random.default_rng(5)
    theta = np.tile([[0.05, -0.9]], (4000, 1))
    cov = np.diag([1.5, 1.5]) ** 2
    for _ in range(60):
        prop, log_ratio = abc_smc.random_walk(rng, theta, cov, PRIOR)
        ok = np.log(rng.random(len(theta))) < log_ratio
        theta[ok] = prop[ok]
    assert theta[:, 0].mean() == pytest.approx(0.5, abs=0.03)
    assert theta[:, 1].mean() == pytest.approx(0.0, abs=0.03)
    assert np.std(theta[:, 0]) == pytest.approx(np.sqrt(1 / 12), abs=0.02)


def test_steps_needed_follows_the_acceptance_rate():
    # a particle should stay put with probability 1%: (1 - 0.6)^5 = 0.01
    assert abc_smc.steps_needed(0.6, cap=50) == 6  # 0.4^5 = 0.0102 > 0.01, 0.4^6 below
    assert abc_smc.steps_needed(0.99, cap=50) == 1
    assert abc_smc.steps_needed(0.05, cap=5) == 5
    assert abc_smc.steps_needed(0.0, cap=7) == 7


def test_residuals_use_the_side_of_an_asymmetric_range():
    # tribunal wins: 98.3 in [96, 99]; 96 and 99 are both exactly one half-width away
    z = abc_smc.standardised_residuals(np.array([96.0, 99.0, 98.3, 93.7]), 98.3, 96.0, 99.0)
    assert z.tolist() == pytest.approx([-1.0, 1.0, 0.0, -2.0])


def test_distance_is_infinite_when_a_statistic_is_missing():
    value, low, high = np.array([1.0, 2.0]), np.array([0.0, 1.0]), np.array([2.0, 3.0])
    d = abc_smc.distance(np.array([[1.0, 2.0], [2.0, 3.0], [np.nan, 2.0]]), value, low, high)
    assert d[0] == 0.0 and d[1] == pytest.approx(1.0) and np.isinf(d[2])


def test_walk_scale_shrinks_when_moves_stall_and_recovers():
    from simulation.research.calibration import walk_scale

    assert walk_scale([0.2, 0.1, 0.3]) == 1.0  # a healthy walk keeps its scale
    assert walk_scale([0.2, 0.03]) == 0.5
    assert walk_scale([0.03, 0.01, 0.2]) == 0.25
    assert walk_scale([0.03, 0.01, 0.5, 0.6, 0.7]) == 1.0  # never above 1 by default
    # with a higher cap, a walk whose moves mostly pass lengthens its steps
    assert walk_scale([0.5, 0.6, 0.3, 0.7], cap=8.0) == 8.0
    assert walk_scale([0.5, 0.6, 0.7, 0.8], cap=4.0) == 4.0
    assert walk_scale([0.5, 0.6, 0.03], cap=8.0) == 2.0


def test_noise_widens_the_scale_of_a_residual():
    # half-width 1, noise sd 1: a residual of sqrt(2) is one scale unit
    z = abc_smc.standardised_residuals(np.array([1.0 + np.sqrt(2)]), 1.0, 0.0, 2.0, noise_sd=1.0)
    assert z[0] == pytest.approx(1.0)
