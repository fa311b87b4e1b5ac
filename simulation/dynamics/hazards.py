"""Weekly hazards of the events that move children: behaviour, pressure, exits, returns."""

from __future__ import annotations

import numpy as np

from ..state import SEN, Form, Need, Route


def behaviour_risk(fsm, sen, need, stress, secondary, p: dict) -> np.ndarray:
    """Relative risk of suspension and exclusion from pupil characteristics and stress."""
    rr = np.where(fsm, p["rr_fsm"], 1.0)
    rr = rr * np.choose(sen, [1.0, p["rr_sen_support"], p["rr_ehcp"]])
    rr = rr * np.where(need == Need.SEMH, p["rr_semh"], 1.0)
    rr = rr * (1.0 + p["behaviour_stress_mult"] * stress)
    return rr * np.where(secondary, p["secondary_behaviour_mult"], 1.0)


def exclusion_hazard(risk, school_propensity, suspensions, p: dict) -> np.ndarray:
    """Permanent exclusion escalates with this year's suspensions (elasticity ``pex_escalation``)."""
    return p["pex_hazard"] * risk * school_propensity * np.power(1.0 + suspensions, p["pex_escalation"])


def offroll_cost(absence_rate, suspensions, unmet, intensity, fsm) -> np.ndarray:
    """How costly a pupil looks to a school chasing results: absence, behaviour, need, disadvantage."""
    return 2.0 * absence_rate + 0.5 * np.minimum(suspensions, 4) + unmet + 0.5 * intensity + 0.2 * fsm


def pressure_hazard(propensity, peak, cost, p: dict) -> np.ndarray:
    pressure = np.where(peak, 1.0, p["offroll_pressure_offpeak"])
    return p["offroll_hazard"] * propensity * pressure * cost


def choose_form(u: np.ndarray, p: dict) -> np.ndarray:
    weights = np.array([p["form_weight_ultimatum"], p["form_weight_ehe_letter"],
                        p["form_weight_managed_move"], p["form_weight_part_time"]])
    if weights.sum() <= 0:
        weights = np.ones(4)
    cum = np.cumsum(weights / weights.sum())
    return np.minimum(np.searchsorted(cum, u, side="right"), Form.PART_TIME).astype(np.int8)


def p_comply(advocacy, trust, p: dict) -> np.ndarray:
    logit = p["comply_intercept"] + p["comply_low_advocacy"] * (1.0 - advocacy) + p["comply_low_trust"] * (1.0 - trust)
    return 1.0 / (1.0 + np.exp(-logit))


def ehe_hazards(stress, distress, unmet, fines, trust, preference, capacity, p: dict):
    """Weekly hazards of leaving for home education: (genuine, no choice)."""
    genuine = p["ehe_genuine_hazard"] * preference * (0.5 + capacity)
    s0 = p["ehe_stress_threshold"]
    strain = np.clip((stress - s0) / (1.0 - s0), 0.0, 1.0) + 0.5 * distress + 0.3 * unmet
    push = strain * (1.0 + p["ehe_fines_push"] * fines) * (1.5 - trust)
    return genuine, p["ehe_no_choice_hazard"] * push


def return_hazard(route, september: bool, p: dict) -> np.ndarray:
    mult = np.choose(route, [1.0, p["return_mult_genuine"], p["return_mult_no_choice"], p["return_mult_coerced"]])
    return p["ehe_return_hazard"] * mult * (p["september_return_mult"] if september else 1.0)


def ehcp_request_hazard(intensity, unmet, advocacy, sen, p: dict) -> np.ndarray:
    """Families (and schools) ask for assessment more when need is high and unmet."""
    base = p["ehcp_request_hazard"] * intensity * (0.5 + advocacy) * (1.0 + p["ehcp_request_unmet_mult"] * unmet)
    return np.where(sen == SEN.SUPPORT, base, 0.0)


__all__ = ["Route", "behaviour_risk", "choose_form", "ehcp_request_hazard", "ehe_hazards",
           "exclusion_hazard", "offroll_cost", "p_comply", "pressure_hazard", "return_hazard"]
