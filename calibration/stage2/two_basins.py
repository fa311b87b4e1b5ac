"""Write ``start.csv``: generation 0 of the stage-2 calibration (``config.toml`` here).

Stage 1 (``stage1/``, from the prior) settled in one basin of the fit; the hand-set defaults of
``scenarios/baseline_handset.toml`` lie in another it never visited, with a lower distance by stage 1's
own measure (0.62 against 0.90, README). Stage 2 starts from both and lets the ABC kernel choose:
the same cloud, the stage-1 particles' spread around their mean in the priors' logit coordinates,
placed once at the stage-1 centre (those 50 particles as they are) and once at the hand-set point.
Deterministic: rerunning it writes the same file.

    .venv/bin/python calibration/stage2/two_basins.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simulation import load_scenario
from simulation.research.calibration_config import load_calibration
from simulation.policy.posterior import load_posterior

HERE = Path(__file__).resolve().parent
HALF = 50


def main() -> None:
    cal = load_calibration(HERE.parent / "stage1" / "config.toml")
    prior, names = cal.prior, list(cal.prior.names)
    stage1 = load_posterior(HERE.parent / "stage1" / "posterior.csv")  # checked against the registry
    pick = np.random.default_rng([cal.seed, 2]).choice(len(stage1.weights), size=HALF, replace=False, p=stage1.weights)
    theta = stage1.theta[:, [stage1.names.index(n) for n in names]][np.sort(pick)]
    u = prior.to_free(theta)
    hand = load_scenario(HERE.parents[1] / "scenarios" / "baseline_handset.toml").params()
    u_hand = prior.to_free(np.array([[hand[n] for n in names]]))
    moved = prior.from_free(u_hand + (u - u.mean(axis=0)))
    out = pd.DataFrame(np.vstack([theta, moved]), columns=names)
    out.insert(0, "basin", ["stage 1"] * HALF + ["hand-set"] * HALF)
    out.insert(1, "weight", 1.0 / len(out))
    out.to_csv(HERE / "start.csv", index=False)
    print(f"wrote {HERE / 'start.csv'}: {HALF} particles at each of 2 centres")


if __name__ == "__main__":
    main()
