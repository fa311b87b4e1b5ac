"""Per-pupil multipliers that interventions set for the mechanisms of the same week.

They live in the model, not in policy, because the mechanisms read them: policy writes, the
model reads, and the model never imports policy.
"""

from __future__ import annotations

import numpy as np


class Modifiers:
    """Per-pupil multipliers interventions set in phase 2 for the mechanisms of the same week.

    ``None`` means "no change", and the hooks in the mechanisms are skipped entirely, so a
    scenario without interventions runs exactly as before. Reset every week by the model.

    - ``stress_input_scale`` multiplies each pupil's term-time stress inputs (phase 4);
    - ``no_choice_ehe_scale`` multiplies each pupil's no-choice home-education hazard (phase 9);
    - ``ehe_consent_needed`` marks pupils for whom a school's push into home education is
      stopped by an LA consent review (phase 7).
    """

    __slots__ = ("ehe_consent_needed", "n", "no_choice_ehe_scale", "stress_input_scale")

    def __init__(self, n_pupils: int = 0):
        self.n = n_pupils
        self.stress_input_scale: np.ndarray | None = None
        self.no_choice_ehe_scale: np.ndarray | None = None
        self.ehe_consent_needed: np.ndarray | None = None

    def scale_stress_inputs(self, idx: np.ndarray, factor: float) -> None:
        if self.stress_input_scale is None:
            self.stress_input_scale = np.ones(self.n, dtype=np.float32)
        self.stress_input_scale[idx] *= np.float32(factor)

    def scale_no_choice_ehe(self, idx: np.ndarray, factor: float) -> None:
        if self.no_choice_ehe_scale is None:
            self.no_choice_ehe_scale = np.ones(self.n, dtype=np.float64)
        self.no_choice_ehe_scale[idx] *= factor
