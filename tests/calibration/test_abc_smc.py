"""The numerical core of ABC-SMC on cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import abc_smc
from simulation.abc_smc import UniformPrior

PRIOR = UniformPrior(("a", "b"), np.array([0.0, -1.0]), np.array([1.0, 1.0]))


def test_prior_samples_stay_in_the_box_and_cover_it():
    x = PRIOR.sample(np.random.default_rng(1), 20_000)
    assert PRIOR.contains(x).all()
    # uniform on [0, 1]: the mean is 0.5 with sd 0.289 / sqrt(20000) = 0.002; 4 sd tolerance
    assert abs(x[:, 0].mean() - 0.5) < 0.008 and abs(x[:, 1].mean()) < 0.016


def test_free_coordinates_round_trip():
    x = PRIOR.sample(np.random.default_rng(3), 100)
    np.testing.assert_allclose(PRIOR.from_free(PRIOR.to_free(x)), x, rtol=0, atol=1e-12)


def test_proposals_never_leave_the_prior():
    theta = np.array([[0.01, 0.99], [0.99, -0.99]])
    cov = np.diag([3.0, 3.0]) ** 2  # a very wide kernel in free coordinates
    x = abc_smc.propose(np.random.default_rng(2), theta, np.array([0.5, 0.5]), cov, 5000, PRIOR)
    assert PRIOR.contains(x).all()


def test_importance_weights_undo_the_proposal_density():
    # One ancestor: the weight is prior(u) / N(u; u0, cov) in free coordinates, so a proposal
    # one kernel sd away weighs exp(0.5) times one at the ancestor, times the prior ratio.
    prev = np.array([[0.5, 0.0]])
    cov = np.diag([0.1, 0.1]) ** 2
    u0 = PRIOR.to_free(prev)[0]
    new = PRIOR.from_free(np.array([u0, u0 + np.array([0.1, 0.0])]))
    w = abc_smc.importance_weights(new, prev, np.array([1.0]), cov, PRIOR)
    prior_ratio = np.exp(PRIOR.log_density_free(PRIOR.to_free(new[1:]))[0] - PRIOR.log_density_free(u0[None])[0])
    assert w[1] / w[0] == pytest.approx(np.exp(0.5) * prior_ratio, rel=1e-9)
    assert w.sum() == pytest.approx(1.0)


def test_weighted_proposals_reproduce_the_prior():
    # Importance sampling: proposals from a mixture around prior draws, weighted by
    # prior / mixture, estimate prior expectations without bias. The mean of a U(0, 1) is 0.5
    # and of U(-1, 1) is 0; 40,000 weighted draws (ESS well above 5,000) give sd below 0.01;
    # tolerance 0.03.
    rng = np.random.default_rng(4)
    pop = PRIOR.sample(rng, 200)
    w_pop = np.full(200, 1 / 200)
    cov = abc_smc.kernel_covariance(pop, w_pop, PRIOR)
    x = abc_smc.propose(rng, pop, w_pop, cov, 40_000, PRIOR)
    w = abc_smc.importance_weights(x, pop, w_pop, cov, PRIOR)
    assert abc_smc.effective_sample_size(w) > 5000
    assert np.average(x[:, 0], weights=w) == pytest.approx(0.5, abs=0.03)
    assert np.average(x[:, 1], weights=w) == pytest.approx(0.0, abs=0.03)


def test_weighted_quantile_and_ess():
    v = np.array([3.0, 1.0, 2.0, 4.0])
    assert abc_smc.weighted_quantile(v, np.ones(4), 0.5) == 2.0
    assert abc_smc.weighted_quantile(v, np.array([0, 0, 0, 1.0]), 0.5) == 4.0
    assert abc_smc.effective_sample_size(np.ones(10)) == pytest.approx(10)
    assert abc_smc.effective_sample_size(np.array([1.0, 0, 0])) == pytest.approx(1)


def test_residuals_use_the_side_of_an_asymmetric_range():
    # tribunal wins: 98.3 in [96, 99]; 96 and 99 are both exactly one half-width away
    z = abc_smc.standardised_residuals(np.array([96.0, 99.0, 98.3, 93.7]), 98.3, 96.0, 99.0)
    assert z.tolist() == pytest.approx([-1.0, 1.0, 0.0, -2.0])


def test_distance_is_infinite_when_a_statistic_is_missing():
    value, low, high = np.array([1.0, 2.0]), np.array([0.0, 1.0]), np.array([2.0, 3.0])
    d = abc_smc.distance(np.array([[1.0, 2.0], [2.0, 3.0], [np.nan, 2.0]]), value, low, high)
    assert d[0] == 0.0 and d[1] == pytest.approx(1.0) and np.isinf(d[2])
