"""Same seed, same numbers: in one process, twice, and across a process pool."""

import numpy as np
import pandas as pd
import pytest

import simulation
from simulation import (
    ParameterError,
    ScenarioError,
    SchoolExitModel,
    combine,
    run,
    run_many,
    simulate,
)
from simulation.policy.interventions import EHCPAssessmentCapacity


@pytest.fixture(scope="module")
def scenario(make_scenario):
    return make_scenario(n_pupils=3000, years=2)


def test_the_same_seed_gives_identical_tables(scenario):
    a = run(scenario, seed=11, record_events=True)
    b = run(scenario, seed=11, record_events=True)
    pd.testing.assert_frame_equal(a.years, b.years)
    pd.testing.assert_frame_equal(a.weeks, b.weeks)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.events, b.events)
    assert len(a.years) == 2 and len(a.weeks) == 104
    assert len(a.events) > 100


def test_building_a_model_twice_gives_the_same_state(scenario):
    a, b = SchoolExitModel(scenario, seed=4), SchoolExitModel(scenario, seed=4)
    for name, col in a.pupils.columns.items():
        np.testing.assert_array_equal(col, b.pupils.columns[name], err_msg=name)
    for name, col in a.schools.columns.items():
        np.testing.assert_array_equal(col, b.schools.columns[name], err_msg=name)


def test_different_seeds_give_different_results(scenario):
    a, b = run(scenario, seed=1), run(scenario, seed=2)
    assert not a.weeks.drop(columns="seed").equals(b.weeks.drop(columns="seed"))
    metrics = [
        "suspension_rate",
        "absence_overall_pct",
        "persistent_absence_pct",
        "pupil_weeks_missed_per_1000",
    ]
    assert all(a.summary[m].iloc[0] != b.summary[m].iloc[0] for m in metrics)


def test_run_many_is_the_same_serial_or_in_a_process_pool(make_scenario):
    base = make_scenario(n_pupils=1500)
    variant = base.with_(name="more_assessors", interventions=(EHCPAssessmentCapacity(increase=0.5),))
    serial = combine(run_many([base, variant], replicates=2, workers=1))
    pooled = combine(run_many([base, variant], replicates=2, workers=2))
    for name in ("years", "weeks", "summary"):
        pd.testing.assert_frame_equal(serial[name], pooled[name])
    assert list(serial["summary"]["scenario"]) == [
        "baseline",
        "baseline",
        "more_assessors",
        "more_assessors",
    ]
    assert list(serial["summary"]["replicate"]) == [0, 1, 0, 1]
    # Replicate r of a job with base seed S runs seed S + r.
    assert list(serial["summary"]["seed"]) == [base.seed, base.seed + 1] * 2


def test_run_many_replicate_equals_a_single_run(make_scenario):
    s = make_scenario(n_pupils=1500).with_(seed=20)
    many = run_many(s, replicates=2, workers=1)
    single = run(s, replicate=1)
    pd.testing.assert_frame_equal(many[1].years, single.years)
    assert single.years["seed"].iloc[0] == 21


def test_simulate_returns_the_summary_of_run(make_scenario):
    s = make_scenario(n_pupils=1500)
    name = next(n for n, p in simulation.PARAMS.items() if not p.integer and p.kind == "lever")
    value = simulation.PARAMS[name].low
    out = simulate({name: value}, seed=3, scenario=s)
    expected = run(s.with_(parameters={name: value}), seed=3).summary.iloc[0]
    assert set(out) == set(simulation.METRICS)
    for k, v in out.items():
        assert v == pytest.approx(expected[k], nan_ok=True), k
    assert simulate({name: value}, seed=3, scenario=s) == pytest.approx(out, nan_ok=True)


def test_simulate_refuses_unknown_and_out_of_range_parameters(make_scenario):
    s = make_scenario(n_pupils=1500)
    # Refused as in scenario files: ParameterError or ScenarioError, each naming the key.
    with pytest.raises((ParameterError, ScenarioError), match="not_a_parameter"):
        simulate({"not_a_parameter": 1.0}, seed=1, scenario=s)
    p = next(p for p in simulation.PARAMS.values() if not p.integer)
    with pytest.raises((ParameterError, ScenarioError), match=p.name):
        simulate({p.name: p.high * 10 + 1}, seed=1, scenario=s)
