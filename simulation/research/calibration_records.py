"""Finished generations on disk: what is written after each one, read back on resume, and cut by the stop rules.

A calibration can be killed at any point; everything a resumed job needs to carry on where it
stopped (without rerunning a finished generation) is in these files, so their format is kept
in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .calibration_config import Calibration


def equal_weights(n: int) -> np.ndarray:
    """Replenishment ABC-SMC weighs every particle the same; the posterior file still carries weights."""
    return np.full(n, 1.0 / n)


@dataclass
class Generation:
    theta: np.ndarray
    distances: np.ndarray
    values: np.ndarray  # particles x targets (mean over seeds)
    epsilon: float
    proposals: int
    runs: int
    acceptance: float  # share of MCMC moves accepted (1 for the prior draws)
    steps: int  # MCMC steps
    evaluations: np.ndarray  # seed batches behind each particle's value (more than 1 only with reseed_kept)


def _write_generation(out: Path, t: int, cal: Calibration, g: Generation) -> None:
    from .store import write_json, write_table

    df = pd.DataFrame(g.theta, columns=list(cal.prior.names))
    df.insert(0, "evaluations", g.evaluations)
    df.insert(0, "distance", g.distances)
    df.insert(0, "weight", equal_weights(len(df)))
    df.insert(0, "particle", np.arange(len(df)))
    vals = pd.DataFrame(g.values, columns=[f"value:{i}" for i in cal.targets["id"]])
    write_table(pd.concat([df, vals], axis=1), out / "generations", f"gen_{t:02d}")
    meta = {
        "epsilon": g.epsilon,
        "proposals": g.proposals,
        "runs": g.runs,
        "acceptance": g.acceptance,
        "steps": g.steps,
    }
    write_json(meta, out / "generations" / f"gen_{t:02d}.json")


def _read_generations(out: Path, cal: Calibration) -> list[Generation]:
    import json

    gens = []
    t = 0
    while (out / "generations" / f"gen_{t:02d}.json").is_file():
        df = pd.read_parquet(out / "generations" / f"gen_{t:02d}.parquet")
        meta = json.loads((out / "generations" / f"gen_{t:02d}.json").read_text())
        cols = [f"value:{i}" for i in cal.targets["id"]]
        gens.append(
            Generation(
                df[list(cal.prior.names)].to_numpy(float),
                df["distance"].to_numpy(float),
                df[cols].to_numpy(float),
                float(meta["epsilon"]),
                int(meta["proposals"]),
                int(meta["runs"]),
                float(meta["acceptance"]),
                int(meta["steps"]),
                df["evaluations"].to_numpy(np.int64) if "evaluations" in df else np.ones(len(df), np.int64),
            )
        )
        t += 1
    return gens


def _stopped(gens: list[Generation], cal: Calibration) -> list[Generation]:
    """The generations a job with these stopping rules would have kept: a resumed job whose
    rules were tightened ends where a fresh one would have (the later files stay on disk)."""
    gens = gens[: cal.generations]
    for t in range(2, len(gens)):
        if gens[t - 1].acceptance < cal.min_acceptance:
            return gens[:t]
    return gens
