"""A calibrated posterior as scenarios use it: particles and weights read from a CSV, each
parameter's role from an optional sidecar, and the particles a run draws from its replicate.

The draws depend on the scenario's seed and the replicate only (their own SeedSequences, apart from
every model stream), so replicate ``r`` of a baseline and of an intervention draws the same
particles: a paired difference is the policy's effect *under that parameter set*, and the spread of
the paired differences over replicates carries parameter uncertainty as well as noise.

A parameter's role says what its posterior column means. ``fitted``: the data narrowed it, so the
column is calibration's answer. ``assumed``: the data do not narrow it, so the column is in effect its
prior, an assumption carried through. The sidecar ``<stem>_roles.csv`` next to the posterior
(columns ``parameter,role``) names them; without one every column is fitted. The two roles are drawn
from independent particle streams (:meth:`Posterior.draw_index`), so calibration's and the
assumptions' shares of an effect's spread can be told apart
(:func:`simulation.analysis.sources.source_shares`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

RESERVED = ("particle", "weight", "distance")
ROLES = ("fitted", "assumed")
_DRAW_KEYS = {  # keep the draws apart from the model's named streams and from each other
    "fitted": 0x706F7374,  # "post"
    "assumed": 0x61737375,  # "assu"
}


class PosteriorError(ValueError):
    """A posterior file that cannot be used; the message names the file and the column."""


@dataclass(frozen=True)
class Posterior:
    path: str
    names: tuple[str, ...]
    theta: np.ndarray  # particles x parameters
    weights: np.ndarray  # normalised
    sha256: str  # of the posterior CSV (the roles are in ``assumed``)
    assumed: tuple[str, ...] = ()  # columns the data do not narrow (the roles sidecar); the rest are fitted

    @property
    def fitted(self) -> tuple[str, ...]:
        """The columns calibration narrowed: every column the roles sidecar does not call assumed."""
        return tuple(n for n in self.names if n not in self.assumed)

    def draw_index(self, seed: int, draw: int = 0, role: str = "fitted") -> int:
        """The particle that draw number ``draw`` of the ``role`` columns takes, by weight: a pure
        function of (seed, draw, role), the seed being the scenario's base seed."""
        entropy = [int(seed), int(draw), _DRAW_KEYS[role]]
        rng = np.random.default_rng(np.random.SeedSequence(entropy))
        return int(rng.choice(len(self.weights), p=self.weights))

    def particle(self, index: int, names: tuple[str, ...] | None = None) -> dict[str, float]:
        """The values of particle ``index``: every column, or only ``names``."""
        from simulation.model.params import PARAMS

        wanted = self.names if names is None else names
        row = dict(zip(self.names, self.theta[index], strict=True))
        return {n: (round(float(row[n])) if PARAMS[n].integer else float(row[n])) for n in wanted}


def roles_path(path: str | Path) -> Path:
    """Where the roles sidecar of posterior ``path`` lives: ``<stem>_roles.csv`` beside it."""
    path = Path(path)
    return path.with_name(f"{path.stem}_roles.csv")


def load_posterior(path: str | Path) -> Posterior:
    """Read and check a posterior CSV and, when it has one, its roles sidecar (:func:`roles_path`),
    cached per file content."""
    path = Path(path)
    if not path.is_file():
        raise PosteriorError(f"{path}: posterior file not found")
    data = path.read_bytes()
    sidecar = roles_path(path)
    if not sidecar.is_file():
        return _parse(str(path), data)
    return _with_roles(str(path), data, str(sidecar), sidecar.read_bytes())


@cache
def _with_roles(posterior_path: str, posterior_data: bytes, path: str, data: bytes) -> Posterior:
    """The posterior with the roles its sidecar file ``path`` gives (``parameter,role``, role fitted
    or assumed; a parameter it does not name is fitted)."""
    from dataclasses import replace
    from io import BytesIO

    post = _parse(posterior_path, posterior_data)
    try:
        df = pd.read_csv(BytesIO(data), dtype=str, keep_default_na=False)
    except ValueError as exc:
        raise PosteriorError(f"{path}: unreadable CSV ({exc})") from None
    missing = [c for c in ("parameter", "role") if c not in df.columns]
    if missing:
        raise PosteriorError(
            f"{path}: no {missing[0]!r} column (allowed columns: parameter, role; one row per posterior column)"
        )
    assumed, seen = [], set()
    for name, role in zip(df["parameter"].str.strip(), df["role"].str.strip(), strict=True):
        if name not in post.names:
            raise PosteriorError(
                f"{path}: parameter {name!r} is not a column of {post.path} (allowed: {', '.join(post.names)})"
            )
        if name in seen:
            raise PosteriorError(f"{path}: parameter {name!r} is given a role twice (allowed: one row per parameter)")
        if role not in ROLES:
            raise PosteriorError(f"{path}: role of {name!r} = {role!r} (allowed: {' or '.join(ROLES)})")
        seen.add(name)
        if role == "assumed":
            assumed.append(name)
    return replace(post, assumed=tuple(n for n in post.names if n in assumed))


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
