"""Stress, school distress (with hysteresis), absence and environment mismatch."""

import numpy as np
import pytest

from simulation.model.dynamics.wellbeing import (
    MISMATCH_BY_NEED,
    SPECIAL_SCHOOL_MISMATCH,
    absence_share,
    baseline_absence,
    mismatch,
    update_distress,
    update_stress,
)
from simulation.model.state import Need


def test_stress_decays_by_the_recovery_share_and_adds_inputs():
    stress = np.array([0.5, 0.2, 0.0])
    out = update_stress(stress, 0.1, np.array([0.0, 0.05, 0.02]))
    np.testing.assert_allclose(out, [0.45, 0.23, 0.02])
    # Recovery may differ per pupil.
    out = update_stress(stress, np.array([0.0, 0.5, 1.0]), np.zeros(3))
    np.testing.assert_allclose(out, [0.5, 0.1, 0.0])


def test_stress_with_no_input_decays_geometrically_towards_zero():
    stress = np.array([1.0])
    for _ in range(10):
        stress = update_stress(stress, 0.2, np.zeros(1))
    assert stress[0] == pytest.approx(0.8**10)


def test_stress_is_clipped_to_the_unit_interval():
    out = update_stress(np.array([0.9, 0.1, 0.5]), 0.05, np.array([0.5, -0.5, 0.0]))
    assert out[0] == 1.0
    assert out[1] == 0.0
    assert 0.0 <= out[2] <= 1.0


def test_stress_written_in_place_is_the_same_numbers():
    # The model updates its float32 stress column in place; that must not change a single bit.
    rng = np.random.default_rng(4)
    stress = rng.random(1000).astype(np.float32)
    inputs = (rng.random(1000) * 0.2 - 0.05).astype(np.float32)
    expected = update_stress(stress, 0.13, inputs)
    column = stress.copy()
    assert update_stress(column, 0.13, inputs, out=column) is column
    np.testing.assert_array_equal(column, expected)
    # Arithmetic wider than the column (a float64 recovery) is not squeezed into it: a new array.
    wide = update_stress(stress, np.float64(0.13), inputs, out=stress.copy())
    assert wide.dtype == np.float64
    np.testing.assert_array_equal(wide, np.clip(stress * (1.0 - np.float64(0.13)) + inputs, 0.0, 1.0))


def test_distress_enters_above_s_on_only():
    s_on, s_off = 0.75, 0.5
    stress = np.array([0.8, 0.75, 0.6, 0.2])
    out = update_distress(np.zeros(4, bool), stress, s_on, s_off)
    np.testing.assert_array_equal(out, [True, False, False, False])


def test_distress_persists_between_the_thresholds_and_ends_below_s_off():
    s_on, s_off = 0.75, 0.5
    stress = np.array([0.8, 0.6, 0.51, 0.5, 0.3])
    out = update_distress(np.ones(5, bool), stress, s_on, s_off)
    np.testing.assert_array_equal(out, [True, True, True, False, False])


def test_distress_hysteresis_along_a_stress_path():
    s_on, s_off = 0.75, 0.5
    path = [0.6, 0.7, 0.8, 0.7, 0.6, 0.55, 0.45, 0.6, 0.7]
    expected = [False, False, True, True, True, True, False, False, False]
    distress = np.zeros(1, bool)
    seen = []
    for s in path:
        distress = update_distress(distress, np.array([s]), s_on, s_off)
        seen.append(bool(distress[0]))
    assert seen == expected


def _absence(
    base,
    stress,
    distress=None,
    part_time=None,
    slope=0.25,
    shape=2.0,
    distress_absence=0.7,
    part_time_absence=0.5,
):
    n = len(stress)
    distress = np.zeros(n, bool) if distress is None else distress
    part_time = np.zeros(n, bool) if part_time is None else part_time
    return absence_share(
        np.asarray(base, np.float32),
        np.asarray(stress, np.float32),
        slope,
        shape,
        distress,
        distress_absence,
        part_time,
        part_time_absence,
    )


@pytest.mark.parametrize("shape", [1.0, 2.0, 3.0])
def test_absence_rises_with_stress(shape):
    stress = np.linspace(0.0, 1.0, 21)
    q = _absence(np.full(21, 0.04), stress, shape=shape)
    assert np.all(np.diff(q) > 0)
    assert q[0] == pytest.approx(0.04)
    assert q[-1] == pytest.approx(0.04 + 0.25)


def test_distress_sets_a_floor_on_absence():
    q = _absence([0.04, 0.04, 0.9], [0.1, 0.1, 0.1], distress=np.array([True, False, True]))
    assert q[0] == pytest.approx(0.7)
    assert q[1] < 0.1
    assert q[2] == pytest.approx(0.9 + 0.25 * 0.01)  # above the floor already


def test_part_time_timetable_sets_a_floor_on_absence():
    q = _absence([0.04, 0.04], [0.0, 0.0], part_time=np.array([True, False]))
    assert q[0] == pytest.approx(0.5)
    assert q[1] == pytest.approx(0.04)


def test_absence_in_place_matches_the_plain_formula():
    # base + slope * stress**2, floored for distress (0.9) and part-time (0.5), capped at 1.
    rng = np.random.default_rng(8)
    n = 2000
    base = (rng.random(n) * 0.1).astype(np.float32)
    stress = rng.random(n).astype(np.float32)
    distress, part_time = rng.random(n) < 0.05, rng.random(n) < 0.05
    plain = np.minimum(
        np.maximum(np.maximum(base + 0.3 * (stress * stress), distress * np.float32(0.9)), part_time * np.float32(0.5)),
        1.0,
    )
    out = np.empty(n, np.float32)
    q = absence_share(base, stress, 0.3, 2.0, distress, 0.9, part_time, 0.5, out=out)
    assert q is out
    np.testing.assert_array_equal(q, plain)
    assert (q[distress] >= np.float32(0.9)).all() and (q[part_time] >= np.float32(0.5)).all()


def test_absence_is_capped_at_one():
    q = _absence(
        [0.9, 1.5, 0.2],
        [1.0, 0.0, 1.0],
        distress=np.array([True, False, False]),
        distress_absence=0.95,
        slope=0.4,
    )
    assert np.all(q <= 1.0)
    assert q[0] == 1.0 and q[1] == 1.0
    assert q[2] == pytest.approx(0.6)


def test_baseline_absence_multiplies_propensity_fsm_and_sen():
    base = baseline_absence(
        np.array([1.0, 1.0, 1.0, 2.0]),
        np.array([False, True, False, True]),
        np.array([0, 0, 2, 1]),
        0.04,
        1.9,
        1.7,
    )
    np.testing.assert_allclose(base, [0.04, 0.04 * 1.9, 0.04 * 1.7, 0.04 * 2 * 1.9 * 1.7], rtol=1e-6)


def test_mismatch_by_need_environment_and_special_school():
    need = np.array([Need.NONE, Need.ASD, Need.ASD, Need.SEMH, Need.ASD])
    intensity = np.array([1.0, 1.0, 0.5, 1.0, 1.0])
    inclusion = np.array([0.5, 0.2, 0.2, 0.2, 0.9])
    in_special = np.array([False, False, False, False, True])
    out = mismatch(need, intensity, inclusion, in_special)
    assert out[0] == 0.0  # no need, no mismatch
    assert out[1] == pytest.approx(MISMATCH_BY_NEED[Need.ASD] * 0.8)
    assert out[2] == pytest.approx(out[1] / 2)  # proportional to intensity
    assert out[3] == pytest.approx(MISMATCH_BY_NEED[Need.SEMH] * 0.8)
    assert out[4] == pytest.approx(MISMATCH_BY_NEED[Need.ASD] * SPECIAL_SCHOOL_MISMATCH)


def test_mismatch_falls_as_inclusion_rises():
    inclusion = np.linspace(0, 1, 11)
    out = mismatch(np.full(11, Need.ASD), np.ones(11), inclusion, np.zeros(11, bool))
    assert np.all(np.diff(out) < 0)
    assert out[-1] == pytest.approx(0.0)
