"""Calibration files: the targets fitted (and those held out), the priors and the ABC-SMC settings.

A calibration is a TOML file (see ``calibration/config.toml``)::

    name = "england_2023_24"
    targets = "targets.csv"      # relative to this file; rows with role "fit" are fitted
    seed = 1                     # names every proposal and every run seed
    particles = 100              # population size per generation
    seeds = 2                    # model runs per particle (fresh seeds; the particle's value is their mean)
    epsilon_quantile = 0.5       # share of particles kept each generation (the tolerance is the largest kept distance)
    mcmc_steps = 5               # at most this many Metropolis-Hastings steps per generation
    reseed_kept = false          # re-run kept particles on fresh seeds each generation (their value: mean of all)
    noise_runs = 12              # runs at the scenario's parameters measuring each statistic's seed noise
    predictive = 100             # posterior-predictive runs (particles drawn by weight, one fresh seed each)
    predictive_scale = 1.0       # their population scale (default: model.scale); the scale scenarios run at
    start_from = "start.csv"     # generation 0: this population (a posterior file) instead of prior draws
    max_walk_scale = 1.0         # the random walk's variance may grow to this multiple of 2.38^2/d x covariance
    # stopping rules (may change between a killed job and its resumption):
    generations = 8              # at most this many generations
    max_runs = 20000             # at most this many model runs in all
    min_acceptance = 0.02        # stop after a generation accepting fewer than this share of MCMC moves

    [model]                      # the school-exit model, run small ...
    scenario = "../scenarios/baseline.toml"
    scale = 0.25
    years = 2
    burn_in = 1
    # ... or any function (params: dict, seed: int) -> dict of target metrics:
    # function = "simulation.research.calibration:gaussian_toy"

    [parameters]
    names = ["absence_base", ...]    # uncertainty parameters fitted; the rest keep the scenario's values
    [parameters.bounds]              # a narrower prior than the registry's range (a function model: all)
    absence_base = [0.03, 0.06]

    [scale_check]                # runs at registry defaults, calibration scale against a larger one
    scale = 1.0
    seeds = 4

Everything is checked before anything runs or is written; each problem is one line naming
the file and the key.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .abc_smc import UniformPrior
from .experiment import bounds_table, model_scenario, within_registry

TARGET_COLUMNS = (
    "id",
    "role",
    "metric",
    "value",
    "low",
    "high",
    "unit",
    "period",
    "academic_year",
    "publisher",
    "title",
    "year",
    "url",
    "definition",
    "notes",
)
ROLES = ("fit", "validation")
# Part of a calibration's identity: change it whenever the algorithm changes.
ALGORITHM = "replenishment ABC-SMC, noise-scaled distance, random walk 2.38^2/d halved on stalling (v3)"
_TOP = {
    "name",
    "description",
    "targets",
    "seed",
    "particles",
    "seeds",
    "mcmc_steps",
    "epsilon_quantile",
    "generations",
    "max_runs",
    "min_acceptance",
    "predictive",
    "predictive_scale",
    "noise_runs",
    "reseed_kept",
    "start_from",
    "max_walk_scale",
}
_TABLES = {"model", "parameters", "scale_check"}
_MODEL_KEYS = {"scenario", "scale", "years", "burn_in", "function"}
_INT_KEYS = {  # key: (default, low, high)
    "seed": (1, 0, 2**63 - 1),
    "particles": (100, 10, 100_000),
    "seeds": (2, 1, 100),
    "mcmc_steps": (5, 1, 50),
    "generations": (8, 1, 100),
    "max_runs": (20_000, 1, 10**9),
    "predictive": (100, 0, 100_000),
    "noise_runs": (12, 0, 10_000),
}


class CalibrationError(ValueError):
    """A calibration that cannot run; the message is one line naming the file and the key."""


def _fail(path: Path, message: str):
    raise CalibrationError(f"{path}: {message}")


@dataclass(frozen=True)
class Calibration:
    name: str
    path: Path
    targets: pd.DataFrame  # every row (fit and validation)
    prior: UniformPrior
    integer: tuple[bool, ...]
    seed: int
    particles: int
    seeds: int
    mcmc_steps: int
    epsilon_quantile: float
    generations: int
    max_runs: int
    min_acceptance: float
    predictive: int
    noise_runs: int
    function: str | None = None
    scenario: object = None  # the Scenario run (without a posterior of its own)
    scale_check: tuple[float, int] | None = None  # (larger scale, seeds)
    description: str = ""
    reseed_kept: bool = False
    predictive_scale: float | None = None  # of the posterior-predictive runs (None: a function model)
    max_walk_scale: float = 1.0  # the random walk's variance may double up to this factor while moves mostly pass
    start_from: np.ndarray | None = None  # generation 0's parameter sets (None: draws from the prior)
    start_from_sha256: str | None = None  # of the file they came from
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def fit(self) -> pd.DataFrame:
        return self.targets[self.targets["role"] == "fit"].reset_index(drop=True)

    def identity(self) -> dict:
        """What determines the posterior: a resumed job must have the same (stopping rules may differ)."""
        model = {"function": self.function} if self.function else {"scenario": self.scenario.to_dict()}
        return {
            "algorithm": ALGORITHM,
            "model": model,
            "targets": self.targets.drop(columns=["notes"]).to_dict("records"),
            "parameters": {n: [float(lo), float(hi)] for n, lo, hi in zip(*self._bounds(), strict=True)},
            "seed": self.seed,
            "particles": self.particles,
            "seeds": self.seeds,
            "mcmc_steps": self.mcmc_steps,
            "epsilon_quantile": self.epsilon_quantile,
            "noise_runs": self.noise_runs,
            # Only when on, so that files written before the setting existed keep their identity.
            **({"reseed_kept": True} if self.reseed_kept else {}),
            **({"start_from_sha256": self.start_from_sha256} if self.start_from is not None else {}),
            **({"max_walk_scale": self.max_walk_scale} if self.max_walk_scale != 1.0 else {}),
        }

    def _bounds(self):
        return self.prior.names, self.prior.low, self.prior.high


def load_targets(path: Path, where: Path) -> pd.DataFrame:
    """The targets table, checked: columns, roles, ranges that hold their value, known metrics."""
    if not path.is_file():
        _fail(where, f"targets = {str(path)!r}: file not found")
    try:
        df = pd.read_csv(path, dtype={"id": str, "metric": str, "role": str})
    except (ValueError, OSError) as exc:
        _fail(path, f"unreadable CSV ({exc})")
    missing = [c for c in TARGET_COLUMNS if c not in df.columns]
    if missing:
        _fail(path, f"missing column(s) {', '.join(missing)} (required: {', '.join(TARGET_COLUMNS)})")
    df["notes"] = df["notes"].astype(object).fillna("").astype(str)
    for i, row in df.iterrows():
        where = f"row {i + 2} ({row['id']})"
        if row["role"] not in ROLES:
            _fail(path, f"{where}: role = {row['role']!r} (allowed: {', '.join(ROLES)})")
        lo, v, hi = (float(row[k]) for k in ("low", "value", "high"))
        if not lo < v < hi:
            _fail(path, f"{where}: needs low < value < high (got {lo:g}, {v:g}, {hi:g})")
    if df["id"].duplicated().any():
        _fail(path, f"duplicate id {df.loc[df['id'].duplicated(), 'id'].iloc[0]!r}")
    if not (df["role"] == "fit").any():
        _fail(path, "no target has role 'fit'")
    return df


def load_calibration(path: str | Path) -> Calibration:
    """Load and check a calibration file; raises CalibrationError (nothing is written)."""
    path = Path(path)
    if not path.is_file():
        raise CalibrationError(f"{path}: calibration file not found")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise CalibrationError(f"{path}: TOML syntax error: {exc}") from None
    for key in raw:
        if key not in _TOP | _TABLES:
            _fail(path, f"unknown key {key!r} (allowed: {', '.join(sorted(_TOP | _TABLES))})")
    common: dict = {}
    for key, (default, low, high) in _INT_KEYS.items():
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            _fail(path, f"{key} = {value!r} (allowed: whole number {low} to {high})")
        common[key] = value
    for key, default, low, high in (
        ("epsilon_quantile", 0.5, 0.05, 0.95),
        ("min_acceptance", 0.02, 0.0, 1.0),
        ("max_walk_scale", 1.0, 1.0, 64.0),
    ):
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            _fail(path, f"{key} = {value!r} (allowed: a number from {low:g} to {high:g})")
        common[key] = float(value)
    reseed = raw.get("reseed_kept", False)
    if not isinstance(reseed, bool):
        _fail(path, f"reseed_kept = {reseed!r} (allowed: true or false)")
    common["reseed_kept"] = reseed
    if not isinstance(raw.get("targets"), str):
        _fail(path, 'targets: give the targets CSV, e.g. targets = "targets.csv"')
    targets = load_targets((path.parent / raw["targets"]).resolve(), path)
    model = raw.get("model", {})
    params = raw.get("parameters", {})
    for table, allowed in (("model", _MODEL_KEYS), ("parameters", {"names", "bounds"})):
        section = raw.get(table, {})
        if not isinstance(section, dict):
            _fail(path, f"{table} must be a table")
        for key in section:
            if key not in allowed:
                _fail(path, f"{table}.{key} is not a setting (allowed: {', '.join(sorted(allowed))})")
    bounds = bounds_table(params.get("bounds", {}), path, CalibrationError)
    common.update(name=str(raw.get("name", path.stem)), path=path, description=str(raw.get("description", "")), raw=raw)
    if "function" in model:
        cal = _function_calibration(path, model, params, bounds, targets, common)
    else:
        cal = _model_calibration(path, model, params, bounds, targets, raw.get("scale_check"), common)
    if "start_from" in raw:
        theta, sha = _start_population(path, raw["start_from"], cal.prior, cal.particles, cal.seed)
        cal = replace(cal, start_from=theta, start_from_sha256=sha)
    return cal


def _start_population(path: Path, value, prior: UniformPrior, particles: int, seed: int) -> tuple[np.ndarray, str]:
    """Generation 0 taken from an earlier posterior file (a warm start): ``particles`` rows drawn
    by weight (all of them, in order, when the file has exactly that many)."""
    if not isinstance(value, str) or not value:
        _fail(path, f"start_from = {value!r} (allowed: the path of a posterior CSV, relative to this file)")
    src = (path.parent / value).resolve()
    if not src.is_file():
        _fail(path, f"start_from: {src} not found")
    try:
        df = pd.read_csv(src)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        _fail(path, f"start_from: {src} is not a CSV table ({exc})")
    missing = [n for n in prior.names if n not in df.columns]
    if missing:
        _fail(path, f"start_from: {src} has no column {missing[0]!r} (needs one per fitted parameter)")
    theta = df[list(prior.names)].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    if len(theta) < 2:
        _fail(path, f"start_from: {src} holds {len(theta)} particle(s) (allowed: at least 2)")
    outside = ~(np.isfinite(theta).all(axis=1) & prior.contains(theta))
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        inside = (theta[row] >= prior.low) & (theta[row] <= prior.high)
        col = int(np.argmin(inside))  # the first outside (NaN compares false: not a number)
        what = "is not a number" if not np.isfinite(theta[row, col]) else "lies outside the prior"
        _fail(path, f"start_from: {src} row {row + 1}: {prior.names[col]} {what} (allowed: a number within its bounds)")
    if len(theta) != particles:
        w = df["weight"].to_numpy(float) if "weight" in df else np.ones(len(theta))
        if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
            _fail(path, f"start_from: {src} column 'weight' (allowed: non-negative numbers, not all 0)")
        pick = np.random.default_rng([seed, 10**6 + 2]).choice(len(theta), size=particles, p=w / w.sum())
        theta = theta[pick]
    return theta, hashlib.sha256(src.read_bytes()).hexdigest()


def _function_calibration(path, model, params, bounds, targets, common) -> Calibration:
    from .experiment import ExperimentError, resolve_function

    ref = model["function"]
    try:
        resolve_function(ref)
    except ExperimentError as exc:
        _fail(path, f"model.function: {exc}")
    if params.get("names") or not bounds:
        _fail(path, "parameters.bounds: a function model has no registry; give [low, high] for every parameter")
    if "predictive_scale" in common["raw"]:
        _fail(path, "predictive_scale: a function model has no population to scale")
    names = tuple(bounds)
    prior = UniformPrior(names, *(np.array([bounds[n][i] for n in names], dtype=float) for i in (0, 1)))
    return Calibration(
        targets=targets, prior=prior, integer=(False,) * len(names), function=ref, scale_check=None, **common
    )


def _model_calibration(path, model, params, bounds, targets, scale_check, common) -> Calibration:
    from simulation.model.metrics import METRICS
    from simulation.model.params import PARAMS

    scenario = model_scenario(path, model, CalibrationError)  # its own posterior is not drawn from
    for row in targets.itertuples(index=False):
        if row.metric not in METRICS:
            _fail(
                path, f"targets: {row.id} maps to unknown metric {row.metric!r} (allowed: columns of the years table)"
            )
    names = params.get("names", [])
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        _fail(path, "parameters.names: give the uncertainty parameters to fit, as a list of names")
    for name in [*names, *bounds]:
        if name not in PARAMS:
            _fail(path, f"parameters: unknown parameter {name!r} (see `school-exit params --kind uncertainty`)")
        if PARAMS[name].kind != "uncertainty":
            _fail(path, f"parameters: {name!r} is a lever, not an uncertainty (a lever is policy, not fitted)")
    if len(set(names)) != len(names):
        _fail(path, "parameters.names: a parameter is listed twice")
    for name in bounds:
        if name not in names:
            _fail(path, f"parameters.bounds.{name}: {name!r} is not fitted (add it to parameters.names)")
    low, high = np.array(within_registry(names, bounds, path, CalibrationError)).T
    prior = UniformPrior(tuple(names), low, high)
    check = None
    if scale_check is not None:
        if not isinstance(scale_check, dict) or set(scale_check) - {"scale", "seeds"}:
            _fail(path, "scale_check: a table with scale and seeds")
        s, n = scale_check.get("scale", 1.0), scale_check.get("seeds", 4)
        if isinstance(s, bool) or not isinstance(s, int | float) or not scenario.scale < s <= 1:
            _fail(path, f"scale_check.scale = {s!r} (allowed: above model.scale = {scenario.scale:g}, at most 1)")
        if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= 1000:
            _fail(path, f"scale_check.seeds = {n!r} (allowed: whole number 2 to 1000)")
        check = (float(s), n)
    pscale = common["raw"].get("predictive_scale")
    if pscale is not None and (isinstance(pscale, bool) or not isinstance(pscale, int | float) or not 0 < pscale <= 1):
        _fail(path, f"predictive_scale = {pscale!r} (allowed: a number above 0, at most 1)")
    return Calibration(
        targets=targets,
        prior=prior,
        integer=tuple(PARAMS[n].integer for n in names),
        scenario=scenario,
        scale_check=check,
        predictive_scale=scenario.scale if pscale is None else float(pscale),
        **common,
    )
