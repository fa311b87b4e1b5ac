"""School traits tied by one latent factor (schools.initialise) and annual reviews of EHC plans (la)."""

import numpy as np
import pytest

from simulation import SchoolExitModel, load_scenario
from simulation.model.build import new_world
from simulation.model.params import PARAMS
from simulation.model.schools import by_rank, latent_traits
from simulation.model.state import Kind, Phase, Status

# Spearman's rho of a bivariate normal with correlation r is (6 / pi) asin(r / 2): 0.483 at r = 0.5.
SPEARMAN_AT_HALF = 6 / np.pi * np.arcsin(0.25)


def spearman(x, y) -> float:
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.8])
def test_latent_traits_have_the_stated_pairwise_correlation(rho):
    # 4,000 schools: the standard error of a rank correlation is about 1 / sqrt(n) = 0.016, so 0.05
    # is three standard errors.
    x = latent_traits(4000, rho, np.random.default_rng(7))
    expected = 6 / np.pi * np.arcsin(rho / 2)
    for i in range(4):
        assert abs(x[i].std() - 1.0) < 0.05
        for j in range(i + 1, 4):
            assert abs(spearman(x[i], x[j]) - expected) < 0.05


def test_by_rank_keeps_the_marginal_and_follows_the_ranks():
    rng = np.random.default_rng(3)
    x, sample = rng.standard_normal(500), rng.beta(0.4, 6.0, size=500)
    out = by_rank(x, sample)
    assert np.array_equal(np.sort(out), np.sort(sample))  # the same values: the marginal is untouched
    assert spearman(x, out) == pytest.approx(1.0)


def _world(rho: float, seed: int = 1):
    s = load_scenario("scenarios/baseline_handset.toml")
    return new_world(s.with_(parameters={**s.parameters, "school_trait_correlation": rho}), seed)


def test_less_inclusive_schools_are_less_well_funded_and_exclude_and_offroll_more():
    # The reference LA: about 280 mainstream schools (rank-correlation standard error about 0.06) and
    # about 44 secondaries (about 0.15). Expected 0.48 at rho 0.5: the mainstream checks ask for 0.25
    # (four standard errors below); the secondary-only off-rolling checks ask for the sign only.
    w = _world(0.5)
    sc = w.schools
    main = (sc.phase != Phase.SPECIAL).nonzero()[0]
    sec = (sc.phase == Phase.SECONDARY).nonzero()[0]
    assert spearman(sc.inclusion[main], sc.support_ratio[main]) > 0.25
    assert spearman(sc.inclusion[main], sc.exclusion_propensity[main]) < -0.25
    assert spearman(sc.support_ratio[main], sc.exclusion_propensity[main]) < -0.25
    assert spearman(sc.offroll_propensity[sec], sc.exclusion_propensity[sec]) > 0
    assert spearman(sc.offroll_propensity[sec], sc.inclusion[sec]) < 0
    # Funding adequacy keeps its mean (lognormal sd 0.25 around 0.8: ratio sd 0.2, mean's se 0.012).
    assert abs(sc.support_ratio[main].mean() - PARAMS["support_capacity_ratio"].default) < 0.04
    assert np.all(sc.support_ratio[sc.phase == Phase.SPECIAL] == PARAMS["special_capacity_ratio"].default)
    # Marginals as before: inclusion Beta(4, 4) (mean 0.5, sd 0.17), exclusion lognormal mean 1.
    assert abs(sc.inclusion[main].mean() - 0.5) < 0.04
    assert np.all(sc.inclusion[sc.phase == Phase.SPECIAL] == pytest.approx(0.9))
    assert np.all(sc.offroll_propensity[sc.phase != Phase.SECONDARY] == 0)


def test_no_correlation_leaves_traits_independent():
    # At rho 0 the mainstream rank correlations are noise: |r| < 0.2 is over three standard errors.
    sc = _world(0.0).schools
    main = (sc.phase != Phase.SPECIAL).nonzero()[0]
    assert abs(spearman(sc.inclusion[main], sc.support_ratio[main])) < 0.2
    assert abs(spearman(sc.inclusion[main], sc.exclusion_propensity[main])) < 0.2
    assert abs(spearman(sc.support_ratio[main], sc.exclusion_propensity[main])) < 0.2


def _reviews(make_scenario, **params):
    s = make_scenario(n_pupils=20000, years=2, burn_in=0, parameters=params)
    m = SchoolExitModel(s, seed=2, record_events=True)
    m.run_for(2 * 52)
    ev = m.log.year(1)  # the second year: every plan has had a due date set in the first
    return ev, ev["value"][ev["kind"] == Kind.EHCP_REVIEW]


def test_every_plan_is_reviewed_about_once_a_year_and_some_cease(make_scenario):
    ev, reviews = _reviews(make_scenario, review_on_time_share=1.0)
    plans = np.count_nonzero(ev["kind"] == Kind.EHCP_PLAN)
    n_reviews = len(reviews)
    ceased = np.count_nonzero(reviews < 0)
    # About 1,000 plans in 20,000 pupils: roughly one review each a year (children with a plan leave
    # and join in the year; new plans are first reviewed a year on).
    assert n_reviews > 600, (n_reviews, plans)
    assert np.all(reviews <= 0)  # all on time
    # Ceased: p * 2 (1 - intensity), about 0.05 * 0.8 of reviews outside special schools: 2-4%
    # of all reviews (about 30 of 1,000, Poisson sd 5.5).
    assert 0.01 < ceased / n_reviews < 0.07


def test_late_reviews_and_reviews_naming_special_schools(make_scenario):
    _, reviews = _reviews(make_scenario, review_on_time_share=0.5, p_review_names_special=0.6)
    late = np.count_nonzero(reviews > 0) / len(reviews)
    # Half of due dates are missed; a due date reached in the second year may be from the first.
    assert 0.3 < late < 0.7
    _, none_ceased = _reviews(make_scenario, p_plan_ceased_at_review=PARAMS["p_plan_ceased_at_review"].low)
    _, many_ceased = _reviews(make_scenario, p_plan_ceased_at_review=PARAMS["p_plan_ceased_at_review"].high)
    assert np.count_nonzero(many_ceased < 0) > 2 * np.count_nonzero(none_ceased < 0)


def test_reviews_that_name_special_schools_send_more_children_to_them(make_scenario):
    def to_special(p):
        ev, _ = _reviews(make_scenario, p_review_names_special=p)
        mv = ev["kind"] == Kind.MOVE
        return np.count_nonzero(mv & (ev["from_status"] == Status.ON_ROLL) & (ev["to_status"] == Status.SPECIAL))

    # Special places are full, so this counts places as they free up; more children named should
    # never mean fewer placed from mainstream (observed: more).
    low, high = to_special(PARAMS["p_review_names_special"].low), to_special(PARAMS["p_review_names_special"].high)
    assert high >= low
