"""Weekly hazards of the events that move children: behaviour, pressure, exits, returns."""

from __future__ import annotations

import numpy as np

from ..state import SEN, Form, Need, Route


def behaviour_static_risk(fsm, sen, need, secondary, p: dict) -> np.ndarray:
    """The part of behaviour risk fixed by who the pupil is (changes only with SEN or year)."""
    rr = np.where(fsm, p["rr_fsm"], 1.0)
    rr = rr * np.array([1.0, p["rr_sen_support"], p["rr_ehcp"]])[sen]
    rr = rr * np.where(need == Need.SEMH, p["rr_semh"], 1.0)
    return rr * np.where(secondary, p["secondary_behaviour_mult"], 1.0)


def behaviour_risk(fsm, sen, need, stress, secondary, p: dict) -> np.ndarray:
    """Relative risk of suspension and exclusion from pupil characteristics and stress."""
    return behaviour_static_risk(fsm, sen, need, secondary, p) * (1.0 + p["behaviour_stress_mult"] * stress)


def exclusion_hazard(risk, school_propensity, suspensions, p: dict) -> np.ndarray:
    """Permanent exclusion escalates with this year's suspensions (elasticity ``pex_escalation``).

    The factor ``(1 + suspensions) ** elasticity`` is exactly 1 for the many pupils with no
    suspension, so only the suspended few are multiplied (by the factor in float32)."""
    hazard = p["pex_hazard"] * risk * school_propensity
    some = (np.asarray(suspensions) != 0).nonzero()[0]  # (a bool mask's nonzero is ~10x an int16 column's)
    hazard[some] *= np.power(1.0 + suspensions[some], p["pex_escalation"]).astype(np.float32)
    return hazard


def offroll_cost(absence_rate, suspensions, unmet, intensity, fsm) -> np.ndarray:
    """How costly a pupil looks to a school chasing results: absence, behaviour, need, disadvantage.

    ``2 * absence_rate + 0.5 * min(suspensions, 4) + unmet + 0.5 * intensity + 0.2 * fsm``, summed
    left to right. Suspensions are integer counts, so the sum is float64 from its second term on:
    it is accumulated in place in one float64 array, the same numbers at a third of the time of
    the expression's chain of mixed float32/float64 temporaries."""
    cost = np.minimum(suspensions, 4) * 0.5  # float64: an integer array times a Python float
    cost += 2.0 * absence_rate  # (addition commutes: this is 2 * rate + 0.5 * min(...))
    cost += unmet
    cost += 0.5 * intensity
    cost += 0.2 * fsm
    return cost


def pressure_hazard(propensity, peak, cost, p: dict) -> np.ndarray:
    pressure = np.where(peak, 1.0, p["offroll_pressure_offpeak"])
    return p["offroll_hazard"] * propensity * pressure * cost


def choose_form(u: np.ndarray, p: dict) -> np.ndarray:
    weights = np.array(
        [
            p["form_weight_ultimatum"],
            p["form_weight_ehe_letter"],
            p["form_weight_managed_move"],
            p["form_weight_part_time"],
        ]
    )
    if weights.sum() <= 0:
        weights = np.ones(4)
    cum = np.cumsum(weights)
    # side="right" skips zero-weight forms; u < 1 keeps u * total below the last edge
    return np.minimum(np.searchsorted(cum, u * cum[-1], side="right"), Form.PART_TIME).astype(np.int8)


def p_comply(advocacy, trust, p: dict) -> np.ndarray:
    logit = p["comply_intercept"] + p["comply_low_advocacy"] * (1.0 - advocacy) + p["comply_low_trust"] * (1.0 - trust)
    return 1.0 / (1.0 + np.exp(-logit))


def ehe_hazards(stress, distress, unmet, fines, trust, preference, capacity, p: dict):
    """Weekly hazards of leaving for home education: (genuine, no choice)."""
    return (genuine_ehe_hazard(preference, capacity, p), no_choice_ehe_hazard(stress, distress, unmet, fines, trust, p))


def genuine_ehe_hazard(preference, capacity, p: dict) -> np.ndarray:
    return p["ehe_genuine_hazard"] * preference * (0.5 + capacity)


def no_choice_strain_terms(stress, distress, unmet, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """The two parts of the strain behind a no-choice exit: the child's state (stress above the
    threshold, school distress) and the school's failure to meet need (unmet need)."""
    s0 = p["ehe_stress_threshold"]
    mental = np.clip((stress - s0) / (1.0 - s0), 0.0, 1.0) + p["ehe_distress_weight"] * distress
    return mental, p["ehe_unmet_weight"] * unmet


def no_choice_ehe_hazard(stress, distress, unmet, fines, trust, p: dict) -> np.ndarray:
    mental, unmet_part = no_choice_strain_terms(stress, distress, unmet, p)
    strain = mental + unmet_part
    return p["ehe_no_choice_hazard"] * strain * (1.0 + p["ehe_fines_push"] * fines) * (1.5 - trust)


def return_hazard(route, september: bool, p: dict) -> np.ndarray:
    mult = np.array([1.0, p["return_mult_genuine"], p["return_mult_no_choice"], p["return_mult_coerced"]])[route]
    return p["ehe_return_hazard"] * mult * (p["september_return_mult"] if september else 1.0)


def ehcp_request_hazard(intensity, unmet, advocacy, sen, p: dict) -> np.ndarray:
    """Families (and schools) ask for assessment more when need is high and unmet."""
    base = p["ehcp_request_hazard"] * intensity * (0.5 + advocacy) * (1.0 + p["ehcp_request_unmet_mult"] * unmet)
    return np.where(sen == SEN.SUPPORT, base, 0.0)


__all__ = [
    "Route",
    "behaviour_risk",
    "behaviour_static_risk",
    "choose_form",
    "ehcp_request_hazard",
    "ehe_hazards",
    "exclusion_hazard",
    "genuine_ehe_hazard",
    "no_choice_ehe_hazard",
    "offroll_cost",
    "p_comply",
    "pressure_hazard",
    "return_hazard",
]
