"""Small ``module:function`` models for the sweep tests (importable as ``sweep_models``)."""

from __future__ import annotations

import os
import time

from simulation.research.sensitivity import ishigami


def slow_ishigami(params: dict, seed: int) -> dict[str, float]:
    """Ishigami taking 20 ms, logging each call to $SWEEP_LOG (to count executions)."""
    time.sleep(0.02)
    log = os.environ.get("SWEEP_LOG")
    if log:
        with open(log, "a") as fh:  # one short append per call: atomic on POSIX
            fh.write(f"{os.getpid()} {seed} {params['x1']!r} {params['x2']!r} {params['x3']!r}\n")
    return ishigami(params, seed)


def flaky(params: dict, seed: int) -> dict[str, float]:
    """Ishigami that raises for x1 > 2.5 (about 10% of points)."""
    if params["x1"] > 2.5:
        raise ValueError(f"x1 = {params['x1']:.3f} is too large for this model")
    return ishigami(params, seed)


def linear(params: dict, seed: int) -> dict[str, float]:
    """y = 3a + b (c does nothing): Morris mu* is 3, 1 and 0 over unit ranges, sigma 0."""
    return {"y": 3.0 * params["a"] + params["b"] + 0.0 * params["c"]}


def pure_noise(params: dict, seed: int) -> dict[str, float]:
    """y = N(0, 1) from (seed, point) plus a tiny effect of a: nearly all variance is seed noise."""
    import numpy as np

    from simulation.research.store import sha256_json

    rng = np.random.default_rng([seed, int(sha256_json(params)[:15], 16)])
    return {"y": float(rng.standard_normal()) + 0.01 * params["a"]}
