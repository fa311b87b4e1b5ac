"""Stress and attendance: a leaky accumulator of pressures, and absence that rises with it.

School distress (EBSA) has hysteresis: a pupil enters above ``s_on`` and recovers
only below ``s_off``, which makes severe absence sticky as it is in the data. Illness
spells (drawn in :func:`simulation.model.pupil_phases.attendance`) add to the share computed here.
"""

from __future__ import annotations

import numpy as np

from ..state import Need

# How badly a mainstream environment fits each primary need (assumption).
MISMATCH_BY_NEED = np.array([0.0, 1.0, 0.5, 0.8, 0.4, 0.3, 0.4, 0.6], dtype=np.float32)  # by Need (ANXIETY: assumption)
SPECIAL_SCHOOL_MISMATCH = 0.3


def mismatch(need: np.ndarray, intensity: np.ndarray, inclusion: np.ndarray, in_special: np.ndarray) -> np.ndarray:
    fit = np.where(in_special, SPECIAL_SCHOOL_MISMATCH, 1.0 - inclusion)
    return MISMATCH_BY_NEED[need] * intensity * fit


def update_stress(
    stress: np.ndarray, recovery: float | np.ndarray, inputs: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """One week of the leaky accumulator, clipped to 0-1; written into ``out`` (which may be
    ``stress`` itself) when the arithmetic is in its dtype, so the numbers do not change."""
    if out is not None and np.result_type(stress, 1.0 - recovery, inputs) != out.dtype:
        out = None
    new = np.multiply(stress, 1.0 - recovery, out=out)
    new += inputs
    return np.clip(new, 0.0, 1.0, out=new)


def update_distress(distress: np.ndarray, stress: np.ndarray, s_on: float, s_off: float) -> np.ndarray:
    """Enter above ``s_on``; once in, stay while above ``s_off`` (s_off < s_on)."""
    return (stress > s_on) | (distress & (stress > s_off))


def absence_share(
    base: np.ndarray,
    stress: np.ndarray,
    slope: float,
    shape: float,
    distress: np.ndarray,
    distress_absence: float,
    part_time: np.ndarray,
    part_time_absence: float,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Share of this week's sessions missed.

    The floors for school distress and part-time timetables are applied to the few pupils they
    concern: the steady share is never negative (parameter bounds), so for the rest a floor of 0
    changes nothing. (``np.clip`` to -inf is ``np.minimum`` at less than half the cost.) Written
    into ``out`` if given, which must have the dtype of ``stress``."""
    q = np.multiply(stress, stress, out=out) if shape == 2.0 else np.power(stress, shape, out=out)
    q *= slope
    q += base
    for mask, floor in ((distress, distress_absence), (part_time, part_time_absence)):
        rows = np.flatnonzero(mask)
        if len(rows):
            q[rows] = np.maximum(q[rows], np.float32(floor))
    return np.clip(q, -np.inf, 1.0, out=q)


def baseline_absence(propensity, fsm, sen, q0: float, mult_fsm: float, mult_sen: float) -> np.ndarray:
    return (q0 * propensity * np.where(fsm, mult_fsm, 1.0) * np.where(sen > 0, mult_sen, 1.0)).astype(np.float32)


__all__ = ["Need", "absence_share", "baseline_absence", "mismatch", "update_distress", "update_stress"]
