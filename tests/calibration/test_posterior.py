"""Scenarios that draw each run's parameters from a calibrated posterior."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation import load_scenario
from simulation.policy.scenario import ScenarioError
from simulation.research.england import england_specs
from simulation.research.runner import run_specs, simulate

POSTERIOR = "particle,weight,distance,absence_base,rr_fsm\n0,0.25,0.5,0.03,2.0\n1,0.75,0.6,0.05,6.0\n"
SCENARIO = """
name = "{name}"
{extra}
years = 1
burn_in = 0
[population]
n_pupils = 2000
n_primary = 6
n_secondary = 2
n_special = 1
"""


@pytest.fixture
def files(tmp_path: Path):
    (tmp_path / "post").mkdir()
    (tmp_path / "post" / "posterior.csv").write_text(POSTERIOR)
    base = tmp_path / "base.toml"
    base.write_text(SCENARIO.format(name="base", extra='posterior = "post/posterior.csv"'))
    (tmp_path / "kids").mkdir()
    child = tmp_path / "kids" / "child.toml"
    child.write_text('extends = "../base.toml"\nname = "child"\n[parameters]\nrr_fsm = 3.0\n')
    return tmp_path, base, child


def test_each_seed_draws_one_particle_by_weight(files):
    _, base, _ = files
    s = load_scenario(base)
    draws = [s.posterior_draw(seed)[0] for seed in range(400)]
    assert draws == [s.posterior_draw(seed)[0] for seed in range(400)]  # same seed, same particle
    # particle 1 has weight 0.75: 400 draws give 300 +/- 8.7; 4 sd tolerance
    assert abs(sum(draws) - 300) < 35
    p = s.params(seed=0)
    index = s.posterior_draw(0)[0]
    assert p["absence_base"] == [0.03, 0.05][index] and p["rr_fsm"] == [2.0, 6.0][index]


def test_a_child_inherits_the_posterior_and_its_own_values_win(files):
    _, base, child = files
    b, c = load_scenario(base), load_scenario(child)
    assert c.posterior == b.posterior  # resolved against the parent's directory
    for seed in range(20):
        assert c.posterior_draw(seed) == b.posterior_draw(seed)  # common parameters, replicate by replicate
        assert c.params(seed)["rr_fsm"] == 3.0  # the child's explicit value wins
        assert c.params(seed)["absence_base"] == b.params(seed)["absence_base"]
    # paired replicates of two scenarios share seeds, hence particles
    specs = run_specs([b, c], 3)
    for r in range(3):
        assert specs[r].seed == specs[3 + r].seed


def test_the_model_runs_with_the_drawn_parameters(files):
    from simulation import SchoolExitModel

    _, base, _ = files
    s = load_scenario(base)
    for seed in (1, 2, 3):
        m = SchoolExitModel(s, seed=seed)
        index = s.posterior_draw(seed)[0]
        assert m.p["absence_base"] == [0.03, 0.05][index]


def test_posterior_off_and_simulate_ignore_it(files):
    tmp, base, _ = files
    off = tmp / "off.toml"
    off.write_text('name = "off"\nextends = "base.toml"\nposterior = ""\n')
    assert load_scenario(off).posterior is None
    s = load_scenario(base)
    a = simulate({}, 5, scenario=s)
    b = simulate({}, 5, scenario=s.with_(posterior=None))
    assert a.keys() == b.keys()
    np.testing.assert_array_equal(list(a.values()), list(b.values()))  # NaN == NaN here


def test_england_pins_one_particle_per_replicate_for_every_la(files):
    _, base, _ = files
    s = load_scenario(base).with_(replicates=4)
    las = pd.DataFrame({"la": ["A", "B", "C"], "n_pupils": [2000, 2500, 3000]})
    specs = england_specs(s, las)
    for r in range(4):
        particles = {spec.scenario.particle for spec in specs if spec.replicate == r}
        assert particles == {s.posterior_draw(s.seed + r)[0]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("particle,weight,wibble\n0,1,0.5\n", "column 'wibble' is not a registry parameter"),
        ("particle,weight,absence_base\n0,1,0.9\n", "column 'absence_base' has values outside its range"),
        ("particle,absence_base\n0,0.04\n", "no 'weight' column"),
        ("particle,weight,absence_base\n0,-1,0.04\n", "'weight' must be non-negative"),
    ],
)
def test_a_bad_posterior_file_names_file_and_column(files, text, message):
    tmp, base, _ = files
    (tmp / "post" / "posterior.csv").write_text(text)
    with pytest.raises(ScenarioError, match=message) as err:
        load_scenario(base)
    assert "posterior.csv" in str(err.value)


def test_a_missing_posterior_file_is_named(files):
    tmp, base, _ = files
    (tmp / "post" / "posterior.csv").unlink()
    with pytest.raises(ScenarioError, match="posterior file not found"):
        load_scenario(base)


def test_weights_are_normalised(files):
    from simulation.policy.posterior import load_posterior

    tmp, _, _ = files
    post = load_posterior(tmp / "post" / "posterior.csv")
    assert np.isclose(post.weights.sum(), 1.0) and post.names == ("absence_base", "rr_fsm")


def test_compare_refuses_scenarios_on_different_posteriors(files):
    from simulation.analysis.compare import align

    tmp, base, child = files
    off = tmp / "off.toml"
    off.write_text('extends = "base.toml"\nname = "off"\nposterior = ""\n')
    b = load_scenario(base)
    assert len(align(b, [load_scenario(child)])) == 2  # same posterior: fine
    with pytest.raises(ScenarioError, match="differs from the baseline's"):
        align(b, [load_scenario(off)])


def test_summary_tells_a_narrow_start_from_identification():
    # A warm-started fit can inherit its narrowness: the summary compares each interval with the start's.
    from simulation.policy.posterior import summarise

    rng = np.random.default_rng(7)
    low, high = np.zeros(3), np.ones(3)
    start = np.column_stack([rng.uniform(0.2, 0.8, 400), rng.uniform(0.45, 0.55, 400), rng.uniform(0, 1, 400)])
    # parameter 0: narrowed well inside a wide start; 1: as narrow as it started; 2: still at its prior
    final = np.column_stack([rng.uniform(0.4, 0.5, 400), rng.uniform(0.45, 0.55, 400), rng.uniform(0, 1, 400)])
    w = np.full(400, 1 / 400)
    warm = summarise(["a", "b", "c"], final, w, low, high, start=start).set_index("parameter")
    assert list(warm["identification"]) == ["identified", "start-limited", "prior"]
    assert warm.loc["a", "start_width_ratio"] == pytest.approx(0.1 / 0.6, rel=0.1)
    assert warm.loc["b", "start_width_ratio"] == pytest.approx(1.0, rel=0.1)
    cold = summarise(["a", "b", "c"], final, w, low, high).set_index("parameter")
    assert list(cold["identification"]) == ["identified", "identified", "prior"]
    assert cold["start_width_ratio"].isna().all()
