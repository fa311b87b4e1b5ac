"""compare --assumptions: what each intervention rests on, the paired draws, and the variance split."""
# (replicate r of a scenario runs seed scenario.seed + r and takes assumption draw r // 2)

import numpy as np
import pytest

from simulation.analysis.assumptions import assumption_share
from simulation.model.params import PARAMS
from simulation.policy.base import REGISTRY
from simulation.policy.scenario import ScenarioError, acts_through_of, assumption_draw, load_scenario


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_intervention_names_the_uncertainties_it_acts_through(kind):
    names = REGISTRY[kind].acts_through
    assert names, f"{kind} declares no acts_through"
    for name in names:
        assert PARAMS[name].kind == "uncertainty", name


def test_draws_are_in_range_paired_by_seed_and_shared_by_two_seeds():
    names = tuple(sorted({n for cls in REGISTRY.values() for n in cls.acts_through}))
    base = load_scenario("scenarios/baseline.toml").with_(assumptions=names)
    draws = [{n: base.params(seed=base.seed + r)[n] for n in names} for r in range(40)]
    for d in draws:
        for name, value in d.items():
            assert PARAMS[name].low <= value <= PARAMS[name].high, name
    assert draws[0] == draws[1] and draws[2] == draws[3]  # two replicates per draw
    assert all(draws[2 * k] != draws[2 * k + 2] for k in range(19))  # a new draw every second replicate
    assert draws[7] == assumption_draw(names, 3)  # replicate 7 takes draw 3, a pure function of (names, draw)
    # a log-uniform range puts about half its draws below the geometric midpoint
    name = "pex_hazard"
    mid = np.sqrt(PARAMS[name].low * PARAMS[name].high)
    below = np.mean([assumption_draw((name,), k)[name] < mid for k in range(400)])
    assert 0.43 < below < 0.57  # binomial(400, 0.5): 2.8 standard deviations either side


def test_baseline_and_policy_draw_the_same_values_for_a_seed():
    base = load_scenario("scenarios/baseline.toml")
    policy = load_scenario("scenarios/support_first_attendance.toml")
    names = acts_through_of([base, policy])
    assert "ehe_fines_push" in names
    a, b = (s.with_(assumptions=names).params(seed=5) for s in (base, policy))
    assert {n: a[n] for n in names} == {n: b[n] for n in names}
    assert a != base.params(seed=5)  # the draws replace the defaults


def test_an_unknown_assumption_is_refused():
    with pytest.raises(ScenarioError, match="not an uncertainty parameter"):
        load_scenario("scenarios/baseline.toml").with_(assumptions=("fines_first_share",))


def test_the_split_recovers_known_variances():
    rng = np.random.default_rng(3)
    n_draws = 400
    seeds = np.arange(2 * n_draws)
    for sd_assumption, sd_chance, share in ((2.0, 1.0, 0.8), (0.0, 1.0, 0.0), (1.0, 1.0, 0.5)):
        effect = np.repeat(rng.normal(-1.0, sd_assumption, n_draws), 2) + rng.normal(0, sd_chance, 2 * n_draws)
        got = assumption_share(seeds, effect)
        assert got["draws"] == n_draws
        # 400 pairs: the chance variance is estimated to about 7% (chi-square, 400 df), the total to 5%
        assert got["assumption_share"] == pytest.approx(share, abs=0.08)
    assert np.isnan(assumption_share(np.array([0, 1]), np.array([1.0, 2.0]))["assumption_share"])
