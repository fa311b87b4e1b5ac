"""Every child has a latent need (none for most); the SEN register is a lagged record of it."""

from __future__ import annotations

import numpy as np

from simulation import SchoolExitModel
from simulation.model import moves, pupil_phases
from simulation.model.population import REFERENCE_LA, build_population
from simulation.model.state import SEN, Need, Status


def test_everyone_on_the_register_has_a_need_and_some_with_a_need_are_not_on_it():
    pop = build_population(REFERENCE_LA, np.random.default_rng(3), scale=0.25)
    pu = pop.pupils
    assert np.all(pu.need[pu.sen != SEN.NONE] != Need.NONE)
    unrecorded = (pu.sen == SEN.NONE) & (pu.need != Need.NONE)
    share = unrecorded.sum() / (pu.sen == SEN.NONE).sum()
    # 20,000 pupils: a binomial share has sd about 0.002 around the spec's 6%
    assert abs(share - REFERENCE_LA.unrecorded_need_share) < 0.01
    # anxiety is the most common unrecorded need, and never a need the starting register records
    assert np.bincount(pu.need[unrecorded], minlength=8).argmax() == Need.ANXIETY
    assert not np.any(pu.need[pu.sen != SEN.NONE] == Need.ANXIETY)


def test_a_need_nobody_recorded_gets_no_sen_hours_and_stresses_through_mismatch(make_scenario):
    m = SchoolExitModel(make_scenario(n_pupils=3000), seed=2)
    w = m.world
    w.is_term = True
    pupil_phases.allocate_support(w)
    pu = w.pupils
    in_school = pu.status <= Status.SPECIAL
    unrecorded = (in_school & (pu.sen == SEN.NONE) & (pu.need != Need.NONE)).nonzero()[0]
    assert len(unrecorded) > 50
    np.testing.assert_array_equal(pu.unmet_need[unrecorded], pu.need_intensity[unrecorded])
    assert set(unrecorded) <= set(w.need_idx)  # mismatch stress reads the latent need


def test_the_register_follows_the_need_with_a_lag_and_a_child_out_of_school_keeps_their_record(make_scenario):
    m = SchoolExitModel(make_scenario(n_pupils=3000), seed=4)
    w = m.world
    pu = w.pupils
    out = (pu.status == Status.ON_ROLL).nonzero()[0][:200]
    pu.status[out] = Status.EHE  # (only the status matters to the yearly register changes)
    before_out = pu.sen[out].copy(), pu.need[out].copy()
    unrecorded = ((pu.status == Status.ON_ROLL) & (pu.sen == SEN.NONE) & (pu.need != Need.NONE)).nonzero()[0]
    moves.sen_changes(w, np.random.default_rng(0))
    np.testing.assert_array_equal(pu.sen[out], before_out[0])
    np.testing.assert_array_equal(pu.need[out], before_out[1])
    recorded = np.mean(pu.sen[unrecorded] == SEN.SUPPORT)
    # p_sen_identify 0.35 a year at mean advocacy and inclusion, minus the few whose need resolved
    assert 0.2 < recorded < 0.5
    # a need is recorded only while it lasts (needs resolve before the register looks)
    newly = unrecorded[pu.sen[unrecorded] == SEN.SUPPORT]
    assert np.all(pu.need[newly] != Need.NONE)
