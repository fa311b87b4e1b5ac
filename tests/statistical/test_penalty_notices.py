"""Penalty notices under the 2024 national framework (the rule the model applies in every year).

The volume is fitted to DfE 2022/23 (398,800 notices, about 5.3 per 100 pupils, 89% for
term-time holidays); the tolerances below are that range widened for a 20,000-pupil LA over
three seeds (about 1,100 notices a year: a sampling sd near 3%) and for posterior draws.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import SchoolExitModel, load_scenario, run
from simulation.model import schools
from simulation.model import timeline as tl
from simulation.model.params import PARAMS
from simulation.model.state import Kind, Status
from simulation.model.world import World


@pytest.fixture(scope="module")
def framework_runs(repo_root):
    sc = load_scenario(repo_root / "scenarios" / "baseline.toml").with_(scale=0.25, years=3)
    return [run(sc, seed=sc.seed + r, record_events=True) for r in range(3)]


def test_notice_volume_and_mix_match_dfe(framework_runs):
    years = np.concatenate([r.years[["fines_per_100", "fines_holiday_pct"]].to_numpy() for r in framework_runs])
    per_100, holiday = years.mean(axis=0)
    assert 4.3 <= per_100 <= 6.6, per_100
    assert 82 <= holiday <= 94, holiday


def test_no_child_gets_a_third_notice_within_three_years(framework_runs):
    for r in framework_runs:
        notices = r.events[r.events["kind"] == Kind.FINE].sort_values(["uid", "week"])
        weeks = notices.groupby("uid")["week"].apply(np.array)
        for w in weeks:
            if len(w) >= 3:
                assert np.all(w[2:] - w[:-2] >= 3 * 52), w


def test_holidays_come_out_of_the_steady_budget(make_scenario):
    """A pupil's expected absence is the same however much of it is holidays."""
    sc = make_scenario(n_pupils=3000)
    lo, hi = PARAMS["holiday_hazard"].low, PARAMS["holiday_hazard"].high
    models = [SchoolExitModel(sc.with_(parameters={"holiday_hazard": h}), seed=5) for h in (lo, hi)]
    for m in models:
        m.step()  # week 0 sets the year's per-pupil constants
    few, many = (m.world.pupils for m in models)
    assert (
        np.all(many.holiday_hazard >= few.holiday_hazard) and many.holiday_hazard.sum() > 4 * few.holiday_hazard.sum()
    )
    np.testing.assert_allclose(
        few.base_absence + few.holiday_hazard, many.base_absence + many.holiday_hazard, rtol=1e-5
    )


def _review_at_half_term(world: World) -> None:
    world.t_week = tl.HALF_TERMS[1][1]  # end of the autumn's second half term, first year
    world.p = {**world.p, "p_notice_attendance": 1.0}
    world.schools.fines_first[:] = True
    schools._attendance_review(world)


def test_only_unauthorised_absence_makes_a_case(make_scenario):
    """A half term of authorised absence (illness) is not a case; 10 unauthorised sessions are."""
    world = SchoolExitModel(make_scenario(n_pupils=3000), seed=4).world
    on_roll = (world.pupils.status == Status.ON_ROLL).nonzero()[0]
    world.pupils.half_term_missed[on_roll] = 7.0  # every session of the half term missed ...
    world.pupils.half_term_unauth[:] = 0.0  # ... none of it unauthorised
    _review_at_half_term(world)
    assert len(world.log.year(0)["kind"]) == 0
    world.pupils.half_term_unauth[on_roll[:50]] = 1.0  # 10 unauthorised sessions
    _review_at_half_term(world)
    fined = world.log.year(0)["slot"][world.log.year(0)["kind"] == Kind.FINE]
    assert sorted(fined.tolist()) == sorted(on_roll[:50].tolist())
    assert np.all(world.pupils.notice_week_1[on_roll[:50]] == world.t_week)


def test_prior_absence_is_last_years(make_scenario):
    """At the year's start each child keeps last academic year's absence; new children have -1."""
    m = SchoolExitModel(make_scenario(n_pupils=3000, years=2), seed=3)
    m.run_for(52)
    pu = m.pupils
    uid = pu.uid.copy()
    last_year = np.where(pu.sessions_possible >= 1, pu.sessions_missed / np.maximum(pu.sessions_possible, 1), -1)
    m.run_for(1)  # week 0 of the next year: roll-over, then the year's counters reset
    same = pu.uid == uid
    assert np.count_nonzero(same) > 2000 and np.count_nonzero(~same) > 100
    np.testing.assert_allclose(pu.prior_year_absence[same], last_year[same], rtol=1e-5, atol=1e-7)
    assert np.all(pu.prior_year_absence[~same] == -1)
