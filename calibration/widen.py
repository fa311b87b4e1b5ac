"""Write ``start.csv``: generation 0 of the stage-3 calibration (``config.toml``).

Stage 2 (``stage2/``) found the basin of the fit but not its width: its 90% intervals were the
spread of its starting cloud after 8 generations, and ``absence_stress_slope`` started on its
prior's lower bound, where the walk in logit coordinates cannot move it. Stage 3 starts wider than
the data were seen to allow and lets the ABC kernel narrow it, so that the final widths come from
the data rather than from the start:

- a Gaussian in the priors' logit coordinates with stage 2's mean and 3 times its standard
  deviations (its correlations kept), 100 draws;
- each parameter that stage 2 left on a bound of its prior is drawn from that prior instead.

Deterministic: rerunning it writes the same file.

    .venv/bin/python calibration/widen.py
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from simulation.research.calibration_config import load_calibration
from simulation.policy.posterior import load_posterior

HERE = Path(__file__).resolve().parent
WIDEN = 3.0


def main() -> None:
    cal = load_calibration(HERE / "stage2" / "config.toml")  # the same priors and population size as stage 3
    seed = tomllib.loads((HERE / "config.toml").read_text())["seed"]
    prior, names = cal.prior, list(cal.prior.names)
    stage2 = load_posterior(HERE / "stage2" / "posterior.csv")
    theta = stage2.theta[:, [stage2.names.index(n) for n in names]]
    low, span = prior.low, prior.high - prior.low
    position = (theta - low) / span
    on_bound = np.all(np.minimum(position, 1 - position) < 1e-6, axis=0)
    # scipy's logit, not prior.to_free (log p - log1p(-p)): the two differ in the last bits, and start.csv's
    # sha256 is part of the committed calibration's identity, so this file must keep writing the same bytes.
    u = logit(position[:, ~on_bound])
    mean = np.average(u, axis=0, weights=stage2.weights)
    cov = np.cov(u, rowvar=False, aweights=stage2.weights)
    rng = np.random.default_rng([seed, 3])
    start = np.empty((cal.particles, len(names)))
    free = rng.multivariate_normal(mean, WIDEN**2 * cov, size=cal.particles)
    start[:, ~on_bound] = low[~on_bound] + span[~on_bound] * expit(free)
    start[:, on_bound] = low[on_bound] + span[on_bound] * rng.random((cal.particles, on_bound.sum()))
    out = pd.DataFrame(start, columns=names)
    out.insert(0, "weight", 1.0 / len(out))
    out.to_csv(HERE / "start.csv", index=False)
    drawn = ", ".join(np.array(names)[on_bound]) or "none"
    print(f"wrote {HERE / 'start.csv'}: {cal.particles} particles; from the prior (on a bound in stage 2): {drawn}")


if __name__ == "__main__":
    main()
