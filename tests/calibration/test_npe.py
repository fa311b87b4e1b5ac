"""The pieces of the neural posterior calibration that do not need the model: coordinates,
screening, discrepancy, the effective sample size, and NPE itself on a problem with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.research import npe


def test_prior_coordinates_round_trip_and_follow_the_registry():
    names = ["absence_base", "pex_hazard", "part_time_weeks"]  # uniform, log-uniform, whole number
    u = np.array([[0.1, 0.5, 0.9], [0.5, 0.25, 0.0001]])
    theta = npe.from_unit(names, u)
    assert theta[0, 0] == pytest.approx(0.01 + 0.1 * 0.05)
    assert theta[0, 1] == pytest.approx(np.sqrt(3e-7 * 2e-5))  # the log-uniform median is the geometric mean
    np.testing.assert_allclose(npe.to_unit(names, theta), u, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(npe.expit(npe.logit(u)), u, rtol=1e-12)


def test_first_order_shares_find_what_each_parameter_explains():
    rng = np.random.default_rng(3)
    u = rng.random((20_000, 4))
    x = np.column_stack([3 * u[:, 0] + u[:, 1] ** 2 + 0.1 * rng.standard_normal(20_000), rng.standard_normal(20_000)])
    shares = npe.first_order_shares(u, x)
    # variances: 3u0 -> 9/12 = 0.75, u1^2 -> 1/5 - 1/9 = 0.0889, noise 0.01 (total 0.8489)
    assert shares[0, 0] == pytest.approx(0.75 / 0.8489, abs=0.02)
    assert shares[1, 0] == pytest.approx(0.0889 / 0.8489, abs=0.02)
    # a parameter that does nothing: its share is the estimator's noise, about 2/n
    assert shares[2:, :].max() < 0.002 and shares[:, 1].max() < 0.002


def test_discrepancy_is_correlated_within_a_family_only():
    import pandas as pd

    targets = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "metric": ["m", "m", "n"],
            "academic_year": [2022, 2023, 2023],
            "value": [1.0, 2.0, 3.0],
            "low": [0.0, 1.0, 2.0],
            "high": [2.0, 3.0, 5.0],
            "family": ["f", "f", "g"],
        }
    )
    s = npe.Summaries.from_targets(targets)
    assert s.keys == ("m@2022", "m@2023", "n@2023")
    cov = s.covariance(0.5)
    np.testing.assert_allclose(np.diag(cov), [1.0, 1.0, 2.25])
    assert cov[0, 1] == pytest.approx(0.5) and cov[0, 2] == 0 and cov[1, 2] == 0
    d = npe.discrepancy(40_000, cov, seed=1)
    corr = np.corrcoef(d.T)
    assert corr[0, 1] == pytest.approx(0.5, abs=0.02) and abs(corr[0, 2]) < 0.02  # 4 standard errors
    np.testing.assert_array_equal(d, npe.discrepancy(40_000, cov, seed=1))


def test_effective_sample_size_tells_independent_draws_from_a_chain():
    rng = np.random.default_rng(5)
    iid = rng.standard_normal((4000, 2))
    assert npe.effective_sample_size(iid).min() > 0.8 * 4000
    chain = np.zeros(4000)
    for t in range(1, 4000):
        chain[t] = 0.9 * chain[t - 1] + rng.standard_normal()
    ess = npe.effective_sample_size(chain[:, None])[0]
    assert 4000 * 0.1 / 1.9 * 0.6 < ess < 4000 * 0.1 / 1.9 * 1.6  # AR(1): n (1 - rho) / (1 + rho) = 211


def _grid_posterior(x_obs: float, noise: float) -> tuple[float, float]:
    """Mean and sd of phi given x = phi + N(0, noise) under the standard logistic prior, on a grid."""
    grid = np.linspace(-14, 14, 8001)
    w = np.exp(-grid - 2 * np.log1p(np.exp(-grid)) - 0.5 * ((x_obs - grid) / noise) ** 2)
    w /= w.sum()
    mean = (w * grid).sum()
    return mean, np.sqrt((w * (grid - mean) ** 2).sum())


def test_npe_recovers_a_posterior_known_on_a_grid_and_covers_held_out_truths():
    """phi has the standard logistic prior (a uniform u, in logit coordinates), x = phi + N(0, 0.5):
    the exact posterior is on a grid. A small network trained on 3,000 simulations should give its
    mean and sd to within 0.1 (a fifth of the noise sd) and cover 100 held-out truths."""
    rng = np.random.default_rng(11)
    n = 3100
    phi = npe.logit(rng.random((n, 2)))
    x = phi + 0.5 * rng.standard_normal((n, 2))
    net = npe.Network(hidden=32, transforms=2, max_epochs=200, batch=128)
    posterior, _, info = npe.train(phi[100:], x[100:], seed=1, net=net)
    assert info["epochs"] > 5
    x_obs = np.array([1.0, -2.0])
    draws = npe.sample(posterior, x_obs, 4000, seed=2)
    for j in range(2):
        mean, sd = _grid_posterior(x_obs[j], 0.5)
        assert draws[:, j].mean() == pytest.approx(mean, abs=0.1)
        assert draws[:, j].std() == pytest.approx(sd, abs=0.1)
    inside, ranks = npe.coverage(phi[:100], npe.sample_many(posterior, x[:100], 400, seed=3))
    # 100 truths: a right 90% interval covers 84-96 of them 95% of the time (binomial band)
    lo, hi = npe.binomial_band(100)
    assert lo - 0.02 <= inside.mean(axis=0).min() and inside.mean(axis=0).max() <= hi + 0.02
    assert ranks.shape == (100, 2) and ranks.max() <= 400
    np.testing.assert_array_equal(draws, npe.sample(posterior, x_obs, 4000, seed=2))  # same seed, same draws


@pytest.mark.slow  # two trainings to convergence: about 70 s on 2 idle cores
def test_a_truncated_second_round_samples_the_posterior_region_and_sharpens_the_posterior():
    """A sharp likelihood far out in the prior: the round-1 network, trained on prior draws, has
    few simulations near the observation; round 2 draws the prior restricted to round 1's
    highest-density region and trains on both rounds with the standard loss (TSNPE)."""
    rng = np.random.default_rng(21)
    noise, x_obs = 0.15, np.array([3.0, -2.5])
    net = npe.Network(hidden=32, transforms=2, max_epochs=200, batch=128)
    phi1 = npe.logit(rng.random((1500, 2)))
    x1 = phi1 + noise * rng.standard_normal(phi1.shape)
    q1, _, _ = npe.train(phi1, x1, seed=1, net=net)
    threshold = npe.hpd_threshold(q1, x_obs, 1e-3, seed=2)
    phi2, acceptance = npe.sample_truncated(q1, x_obs, 2, 1500, threshold, seed=3)
    assert phi2.shape == (1500, 2)
    assert (npe.log_prob(q1, phi2, x_obs) >= threshold).all()
    # the acceptance rate is the prior mass of the region: an independent estimate agrees within 4 SE
    check = npe.logit(np.random.default_rng(4).random((200_000, 2)))
    mass = np.mean(npe.log_prob(q1, check, x_obs) >= threshold)
    assert 0 < acceptance < 0.2 and abs(acceptance - mass) < 4 * np.sqrt(mass * (1 - mass) / 200_000) + 1e-4
    np.testing.assert_array_equal(phi2, npe.sample_truncated(q1, x_obs, 2, 1500, threshold, seed=3)[0])
    x2 = phi2 + noise * rng.standard_normal(phi2.shape)
    q2, _, _ = npe.train(np.concatenate([phi1, phi2]), np.concatenate([x1, x2]), seed=1, net=net)
    errors = {}
    for name, q in (("round 1", q1), ("round 2", q2)):
        draws = npe.sample(q, x_obs, 4000, seed=5)
        errors[name] = max(
            max(abs(draws[:, j].mean() - m), abs(draws[:, j].std() - s))
            for j, (m, s) in enumerate(_grid_posterior(v, noise) for v in x_obs)
        )
    # round 2 recovers mean and sd to within a third of the noise sd, and does better than round 1
    assert errors["round 2"] < noise / 3, errors
    assert errors["round 2"] < errors["round 1"], errors


def test_mixture_coverage_weights_each_round_by_its_share_of_the_training_points():
    a = np.array([[True, False]] * 9 + [[False, False]])  # 90% and 0% over 10 truths
    b = np.array([[True, True]] * 4)  # 100% over 4 truths
    cov, n_eff = npe.mixture_coverage([a, b], [3, 1])
    np.testing.assert_allclose(cov, [0.75 * 0.9 + 0.25, 0.25])
    assert n_eff == pytest.approx(1 / (0.75**2 / 10 + 0.25**2 / 4))
