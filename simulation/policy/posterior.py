"""A calibrated posterior as scenarios use it: particles and weights read from a CSV, and one
particle per run drawn from the run's seed.

The draw depends on the seed only (its own SeedSequence, apart from every model stream), so
replicate ``r`` of a baseline and of an intervention draws the same particle: a paired
difference is the policy's effect *under that parameter set*, and the spread of the paired
differences over replicates carries parameter uncertainty as well as noise.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

RESERVED = ("particle", "weight", "distance")
_DRAW_KEY = 0x706F7374  # "post": keeps the draw apart from the model's named streams


class PosteriorError(ValueError):
    """A posterior file that cannot be used; the message names the file and the column."""


@dataclass(frozen=True)
class Posterior:
    path: str
    names: tuple[str, ...]
    theta: np.ndarray  # particles x parameters
    weights: np.ndarray  # normalised
    sha256: str

    def draw_index(self, seed: int) -> int:
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), _DRAW_KEY]))
        return int(rng.choice(len(self.weights), p=self.weights))

    def particle(self, index: int) -> dict[str, float]:
        from simulation.model.params import PARAMS

        row = self.theta[index]
        return {n: (round(float(v)) if PARAMS[n].integer else float(v)) for n, v in zip(self.names, row, strict=True)}


def load_posterior(path: str | Path) -> Posterior:
    """Read and check a posterior CSV (cached per file content)."""
    path = Path(path)
    if not path.is_file():
        raise PosteriorError(f"{path}: posterior file not found")
    data = path.read_bytes()
    return _parse(str(path), data)


@cache
def _parse(path: str, data: bytes) -> Posterior:
    from io import BytesIO

    from simulation.model.params import PARAMS

    try:
        df = pd.read_csv(BytesIO(data))
    except ValueError as exc:
        raise PosteriorError(f"{path}: unreadable CSV ({exc})") from None
    if "weight" not in df.columns:
        raise PosteriorError(f"{path}: no 'weight' column (columns: particle, weight, distance, then parameters)")
    names = tuple(c for c in df.columns if c not in RESERVED)
    if not names or len(df) == 0:
        raise PosteriorError(f"{path}: no parameters or no particles")
    for name in names:
        if name not in PARAMS:
            raise PosteriorError(f"{path}: column {name!r} is not a registry parameter")
        p, col = PARAMS[name], df[name].to_numpy(dtype=float)
        if not np.all(np.isfinite(col)) or col.min() < p.low or col.max() > p.high:
            raise PosteriorError(
                f"{path}: column {name!r} has values outside its range (allowed: {p.low:g} to {p.high:g})"
            )
    w = df["weight"].to_numpy(dtype=float)
    if not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
        raise PosteriorError(f"{path}: column 'weight' must be non-negative numbers with a positive sum")
    theta = df[list(names)].to_numpy(dtype=float)
    return Posterior(path, names, theta, w / w.sum(), hashlib.sha256(data).hexdigest())


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs) -> np.ndarray:
    """Quantiles of a weighted sample by interpolating its cumulative weight at the particles' midpoints."""
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order] / weights.sum()
    cum = np.cumsum(w) - 0.5 * w
    return np.interp(qs, cum, v)


def summarise(
    names, theta: np.ndarray, weights: np.ndarray, low: np.ndarray, high: np.ndarray, start: np.ndarray | None = None
) -> pd.DataFrame:
    """Per parameter: prior range, posterior median and 90% interval, and how far the data
    narrowed it: ``width_ratio`` is the 90% interval's width over the prior's (uniform: 0.9 of
    its range); below 0.5 the data identify the parameter, 0.5-0.8 partly, above 0.8 it stays
    close to its prior.

    A fit warm-started from ``start`` (generation 0's parameter sets) can inherit a narrow interval
    from it rather than earn one from the data, so ``start_width_ratio`` compares the interval with
    the start's; a parameter the fit narrowed from the prior but not from its start (ratio above
    0.8) is labelled "start-limited": its width says where the fit began, not what the data allow."""
    from simulation.model.params import PARAMS

    rows = []
    for j, name in enumerate(names):
        q5, q50, q95 = weighted_quantiles(theta[:, j], weights, [0.05, 0.5, 0.95])
        ratio = (q95 - q5) / (0.9 * (high[j] - low[j]))
        label = "identified" if ratio < 0.5 else ("partly identified" if ratio < 0.8 else "prior")
        from_start = np.nan
        if start is not None:
            s5, s95 = np.quantile(start[:, j], [0.05, 0.95])
            from_start = (q95 - q5) / (s95 - s5) if s95 > s5 else np.inf
            if label != "prior" and from_start > 0.8:
                label = "start-limited"
        p = PARAMS.get(name)
        rows.append(
            {
                "parameter": name,
                "prior_low": float(low[j]),
                "prior_high": float(high[j]),
                "registry_default": float(p.default) if p else np.nan,
                "median": float(q50),
                "p5": float(q5),
                "p95": float(q95),
                "mean": float(np.average(theta[:, j], weights=weights)),
                "width_ratio": float(ratio),
                "start_width_ratio": float(from_start),
                "identification": label,
                "unit": p.unit if p else "",
                "source": p.source if p else "",
            }
        )
    return pd.DataFrame(rows)
