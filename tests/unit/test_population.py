"""The synthetic local authority: shares near the spec, joint FSM/SEN, families, scale."""

import numpy as np
import pytest

import simulation
from simulation.model.population import PopulationSpec, build_population, choice_cdf, weighted_choice
from simulation.model.state import SEN, Phase, Status

N = 20_000


@pytest.fixture(scope="module")
def spec():
    return PopulationSpec(n_pupils=N, n_primary=50, n_secondary=10, n_special=3)


@pytest.fixture(scope="module")
def pop(spec):
    return build_population(spec, np.random.default_rng(2024))


def within_binomial(observed_share: float, p: float, n: int, k_sd: float = 4.0) -> bool:
    """|observed - p| within k binomial sd (at 4 sd a false alarm about once in 16,000)."""
    return abs(observed_share - p) <= k_sd * np.sqrt(p * (1 - p) / n)


def test_sen_shares_are_near_the_spec(pop, spec):
    sen = pop.pupils.sen
    # The year-group profiles are normalised to mean 1 and year groups are drawn uniformly, so the
    # expected shares equal the spec's; the binomial sd at 20,000 pupils is 0.15 (EHCP) and
    # 0.24 (SEN support) percentage points.
    assert within_binomial(np.mean(sen == SEN.EHCP), spec.ehcp_share, N)
    assert within_binomial(np.mean(sen == SEN.SUPPORT), spec.sen_support_share, N)


def test_fsm_shares_by_sen_group_are_near_the_spec(pop, spec):
    pu = pop.pupils
    for level, p in (
        (SEN.NONE, spec.fsm_share_no_sen),
        (SEN.SUPPORT, spec.fsm_share_sen_support),
        (SEN.EHCP, spec.fsm_share_ehcp),
    ):
        group = pu.sen == level
        assert within_binomial(np.mean(pu.fsm[group]), p, int(group.sum())), f"SEN code {level}"


def test_fsm_is_much_more_common_among_pupils_with_sen(pop):
    pu = pop.pupils
    with_sen = np.mean(pu.fsm[pu.sen > 0])
    without = np.mean(pu.fsm[pu.sen == 0])
    assert with_sen > 1.5 * without


def test_siblings_share_fsm_and_families_are_small(pop, spec):
    pu = pop.pupils
    size = np.bincount(pu.family)
    fsm_count = np.bincount(pu.family, weights=pu.fsm.astype(float))
    used = size > 0
    assert np.all((fsm_count[used] == 0) | (fsm_count[used] == size[used]))
    assert size.max() <= len(spec.family_size_shares)
    # Some families have more than one child.
    assert np.mean(size[used] > 1) > 0.2


def test_every_pupil_has_a_school_that_fits_their_status(pop):
    pu, sc = pop.pupils, pop.schools
    on = pu.status == Status.ON_ROLL
    assert np.all(sc.phase[pu.school[on]] == np.where(pu.year_group[on] >= 7, Phase.SECONDARY, Phase.PRIMARY))
    sp = pu.status == Status.SPECIAL
    assert sp.any() and np.all(sc.phase[pu.school[sp]] == Phase.SPECIAL)
    assert np.all(pu.sen[sp] == SEN.EHCP)
    out = ~(on | sp)
    assert np.all(pu.school[out] == -1)


def test_starting_stocks_are_near_the_published_ones(pop, spec):
    # Starting statuses are drawn with risk weights (older, SEN, FSM) normalised over all pupils but
    # applied to mainstream pupils only, so the stocks sit a little below the spec: allow 35%.
    status = pop.pupils.status
    for code, share in ((Status.EHE, spec.initial_ehe_share), (Status.CME, spec.initial_cme_share)):
        assert np.mean(status == code) == pytest.approx(share, rel=0.35), f"status code {code}"
    special = np.mean(pop.pupils.status[pop.pupils.sen == SEN.EHCP] == Status.SPECIAL)
    assert special == pytest.approx(1 - spec.ehcp_in_mainstream, abs=0.1)


def test_school_counts_follow_the_spec(pop, spec):
    phase = pop.schools.phase
    assert np.count_nonzero(phase == Phase.PRIMARY) == spec.n_primary
    assert np.count_nonzero(phase == Phase.SECONDARY) == spec.n_secondary
    assert np.count_nonzero(phase == Phase.SPECIAL) == spec.n_special
    assert np.all(pop.schools.feeder[phase == Phase.PRIMARY] >= 0)
    assert np.all(phase[pop.schools.feeder[phase == Phase.PRIMARY]] == Phase.SECONDARY)


def test_the_same_generator_seed_builds_the_same_population(spec):
    a = build_population(spec, np.random.default_rng(5))
    b = build_population(spec, np.random.default_rng(5))
    for name, col in a.pupils.columns.items():
        np.testing.assert_array_equal(col, b.pupils.columns[name], err_msg=name)


def test_scale_keeps_a_fraction_of_pupils_with_weight_one_over_scale(spec):
    pop = build_population(spec, np.random.default_rng(1), scale=0.25)
    assert len(pop.pupils) == round(N * 0.25)
    assert pop.weight == pytest.approx(4.0)
    assert pop.spec.n_primary == round(spec.n_primary * 0.25)
    # Weighted, the sample stands for the whole LA.
    assert len(pop.pupils) * pop.weight == pytest.approx(N)


def test_a_scaled_run_reports_the_full_population(make_scenario, status_columns):
    s = make_scenario(n_pupils=6000, years=1).with_(scale=0.5)
    result = simulation.run(s, seed=1)
    assert result.model is None
    assert result.years["n_pupils"].iloc[0] == pytest.approx(6000, rel=0.01)
    np.testing.assert_allclose(result.weeks[status_columns].sum(axis=1), 6000, rtol=1e-9)


def test_weights_stand_for_the_whole_population_when_the_floor_applies():
    # PopulationSpec.scaled floors n_pupils at 100: 1,000 pupils at scale 0.05 keep 100 (10%), so
    # each must stand for 10 children, not 1 / scale = 20.
    spec = PopulationSpec(n_pupils=1000, n_primary=8, n_secondary=2, n_special=1)
    pop = build_population(spec, np.random.default_rng(1), scale=0.05)
    assert len(pop.pupils) * pop.weight == pytest.approx(1000)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"ehcp_share": 1.2}, "ehcp_share"),
        ({"fsm_share_no_sen": -0.1}, "fsm_share_no_sen"),
        ({"n_pupils": 10}, "n_pupils"),
        ({"n_secondary": 0}, "phase"),
    ],
)
def test_population_spec_validates(changes, message):
    with pytest.raises(ValueError, match=message):
        PopulationSpec(**changes)


@pytest.mark.parametrize("scale", [0.0, -0.5, 1.5])
def test_scale_must_be_in_the_unit_interval(scale):
    with pytest.raises(ValueError, match="scale"):
        PopulationSpec().scaled(scale)


@pytest.mark.parametrize("weights", [(0.315, 0.213, 0.207, 0.106, 0.06, 0.099), (0.0, 2.0, 0.0, 1.0), (1.0,)])
@pytest.mark.parametrize("size", [0, 1, 7, 500])
def test_weighted_choice_draws_what_numpy_choice_draws(weights, size):
    values = np.arange(1, len(weights) + 1, dtype=np.int8)
    ours, numpys = np.random.default_rng(3), np.random.default_rng(3)
    got = weighted_choice(ours, values, choice_cdf(weights), size)
    want = numpys.choice(values, size=size, p=np.asarray(weights) / np.sum(weights))
    assert got.dtype == want.dtype and np.array_equal(got, want)
    assert ours.random() == numpys.random()  # and leaves the generator where numpy leaves it
