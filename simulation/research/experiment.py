"""Experiment files: what a sensitivity sweep varies, how it samples, and what it analyses.

An experiment is a TOML file (see ``experiments/``)::

    name = "morris_screening"
    method = "morris"        # or "sobol"
    samples = 10             # morris: trajectories (at least 2); sobol: base sample N, a power of 2
    seeds = 2                # seeds per point; every point runs seeds seed, seed+1, ... (common seeds)
    seed = 1                 # first run seed; also seeds SALib's sampling and bootstrap
    noise_seeds = 10         # extra runs at the base point, to measure seed noise (0: none)
    outputs = ["ehe_census_pct", "offrolled_per_1000"]

    [model]                  # the school-exit model (a scenario, run small) ...
    scenario = "../scenarios/baseline.toml"   # relative to this file
    scale = 0.1
    years = 3
    burn_in = 1
    # ... or any function (params: dict, seed: int) -> dict of outputs:
    # function = "simulation.research.sensitivity:ishigami"

    [parameters]
    kinds = ["uncertainty", "lever"]   # every registry parameter of these kinds
    names = []                         # plus these
    exclude = []                       # minus these
    [parameters.bounds]                # narrower bounds than the registry's (a function model: all of them)
    ebsa_exit_stress = [0.3, 0.59]

    [morris]
    num_levels = 4

Everything is checked before anything runs or is written: an unknown key, method or
parameter, reversed or out-of-registry bounds, a sample size the method does not allow,
an unknown output, and any sampled point the model would refuse.

The command line can size a sweep without editing the file (``sweep --samples N --scale F
--years Y``): :func:`load_experiment` applies those overrides through the same checks, names
the flag in any error, and keeps them in :attr:`Experiment.overrides`, which the sweep
records in its manifest and job identity.
"""

from __future__ import annotations

import importlib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

METHODS = ("morris", "sobol")
SCHOOL_EXIT = "school-exit"
_TOP = {"name", "description", "method", "samples", "seeds", "seed", "noise_seeds", "outputs", "chunk_size"}
_TABLES = {"model", "parameters", "morris", "sobol"}
_MODEL_KEYS = {"scenario", "scale", "years", "burn_in", "function"}
_PARAM_KEYS = {"kinds", "names", "exclude", "bounds"}
OVERRIDES = ("samples", "scale", "years")  # what `sweep --samples/--scale/--years` may override


class ExperimentError(ValueError):
    """An experiment that cannot run; the message is one line naming the file and the key."""


@dataclass(frozen=True)
class Experiment:
    name: str
    path: Path
    method: str
    samples: int
    seeds: int
    seed: int
    noise_seeds: int
    outputs: tuple[str, ...]
    names: tuple[str, ...]  # parameters varied, in order
    bounds: tuple[tuple[float, float], ...]
    kinds: tuple[str, ...]  # "uncertainty" / "lever" (registry) or "parameter" (function model)
    integer: tuple[bool, ...]
    base: dict  # the base point: registry defaults (or scenario values), or bounds' midpoints
    function: str | None = None  # "module:function", or None for the school-exit model
    scenario: object = None  # the Scenario (school-exit model)
    description: str = ""
    num_levels: int = 4
    chunk_size: int | None = None
    overrides: dict = field(default_factory=dict)  # command-line changes to the file: samples, scale, years
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def problem(self) -> dict:
        return {"num_vars": len(self.names), "names": list(self.names), "bounds": [list(b) for b in self.bounds]}

    @property
    def block(self) -> int:
        """Rows per Morris trajectory or per Sobol block (k + 1, or k + 2 without second order)."""
        return len(self.names) + (1 if self.method == "morris" else 2)

    def n_points(self) -> int:
        return self.samples * self.block

    def n_runs(self) -> int:
        return self.n_points() * self.seeds + self.noise_seeds


def _fail(path: Path, message: str):
    raise ExperimentError(f"{path}: {message}")


def _int(raw: dict, key: str, default: int, low: int, high: int, path: Path) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        _fail(path, f"{key} = {value!r} (allowed: a whole number {low} to {high})")
    return value


def _names(value, key: str, path: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        _fail(path, f"{key} = {value!r} (allowed: a list of names)")
    return list(value)


def _samples_problem(method: str, samples) -> str | None:
    """Why ``samples`` is not allowed for ``method`` (None if it is): one rule for the file and the flag."""
    if isinstance(samples, bool) or not isinstance(samples, int):
        samples = None
    if method == "morris" and (samples is None or samples < 2):
        return "is not allowed for morris (allowed: a whole number of trajectories >= 2)"
    if method == "sobol" and (samples is None or samples < 8 or samples & (samples - 1)):
        return "is not allowed for sobol (allowed: a power of 2, at least 8, e.g. 256)"
    return None


def load_experiment(
    path: str | Path, *, samples: int | None = None, scale: float | None = None, years: int | None = None
) -> Experiment:
    """Read and check an experiment file (nothing runs).

    ``samples``, ``scale`` and ``years`` (the command line's ``--samples``, ``--scale``,
    ``--years``) replace the file's values; a value the file could not hold either is refused
    naming the flag, so a sweep can be sized without editing the file."""
    path = Path(path)
    flags = {k: v for k, v in {"samples": samples, "scale": scale, "years": years}.items() if v is not None}
    if isinstance(flags.get("scale"), int) and not isinstance(flags["scale"], bool):
        flags["scale"] = float(flags["scale"])  # 1 and 1.0 are one scale, and one run key
    if not path.is_file():
        _fail(path, "experiment file not found")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        _fail(path, f"TOML syntax error: {exc}")
    for key in raw:
        if key not in _TOP | _TABLES:
            _fail(path, f"unknown key {key!r} (allowed: {', '.join(sorted(_TOP | _TABLES))})")
    method = raw.get("method")
    if method not in METHODS:
        _fail(path, f"method = {method!r} is not a method (allowed: {', '.join(METHODS)})")
    for key in ("morris", "sobol"):
        if key in raw and key != method:
            _fail(path, f"[{key}] is given but method = {method!r}")
    num_levels = 4
    if method == "morris":
        opts = raw.get("morris", {})
        unknown = set(opts) - {"num_levels"}
        if unknown:
            _fail(path, f"morris.{sorted(unknown)[0]} is not a Morris option (allowed: num_levels)")
        num_levels = _int(opts, "num_levels", 4, 2, 100, path)
        if num_levels % 2:
            _fail(path, f"morris.num_levels = {num_levels} (allowed: an even number; odd levels bias the sample)")
    elif raw.get("sobol"):
        _fail(path, f"sobol.{sorted(raw['sobol'])[0]} is not a Sobol option (first-order and total indices only)")
    samples = raw.get("samples")
    if "samples" in flags:
        problem = _samples_problem(method, flags["samples"])
        if problem:
            _fail(path, f"--samples {flags['samples']} {problem}")
        samples = flags["samples"]
    elif problem := _samples_problem(method, samples):
        _fail(path, f"samples = {samples!r} {problem}")
    seeds = _int(raw, "seeds", 1, 1, 1000, path)
    seed = _int(raw, "seed", 1, 0, 2**62, path)
    noise_seeds = _int(raw, "noise_seeds", 0, 0, 100_000, path)
    chunk = raw.get("chunk_size")
    if chunk is not None:
        chunk = _int(raw, "chunk_size", 1, 1, 100_000, path)
    outputs = raw.get("outputs")
    if not isinstance(outputs, list) or not outputs or not all(isinstance(o, str) for o in outputs):
        _fail(path, f"outputs = {outputs!r} (allowed: a non-empty list of output names)")
    if len(set(outputs)) != len(outputs):
        _fail(path, "outputs: a name is listed twice")
    for key in ("name", "description"):
        if key in raw and not isinstance(raw[key], str):
            _fail(path, f"{key} = {raw[key]!r} must be a string")

    model = raw.get("model", {})
    if not isinstance(model, dict):
        _fail(path, "model must be a table")
    for key in model:
        if key not in _MODEL_KEYS:
            _fail(path, f"model.{key} is not a model setting (allowed: {', '.join(sorted(_MODEL_KEYS))})")
    params = raw.get("parameters", {})
    if not isinstance(params, dict):
        _fail(path, "parameters must be a table")
    for key in params:
        if key not in _PARAM_KEYS:
            _fail(path, f"parameters.{key} is not a parameters setting (allowed: {', '.join(sorted(_PARAM_KEYS))})")
    overrides = bounds_table(params.get("bounds", {}), path, ExperimentError)

    common = dict(
        name=raw.get("name", path.stem),
        path=path,
        method=method,
        samples=samples,
        seeds=seeds,
        seed=seed,
        noise_seeds=noise_seeds,
        outputs=tuple(outputs),
        description=raw.get("description", ""),
        num_levels=num_levels,
        chunk_size=chunk,
        overrides=flags,
        raw=raw,
    )
    if "function" in model:
        given = [k for k in ("scale", "years") if k in flags]
        if given:
            _fail(
                path,
                f"--{given[0]} applies to the school-exit model; this experiment runs model.function "
                "(allowed here: --samples)",
            )
        exp = _function_experiment(path, model, params, overrides, common)
    else:
        exp = _school_exit_experiment(path, model, params, overrides, common)
    if len(exp.names) < 1:
        _fail(path, "parameters: nothing to vary")
    return exp


# --- pieces shared with other job files --------------------------------------------------------


def bounds_table(value, path: Path, error: type[ValueError]) -> dict[str, tuple[float, float]]:
    """``[parameters.bounds]``: name = [low, high], two finite numbers with low < high."""
    if not isinstance(value, dict):
        raise error(f"{path}: parameters.bounds must be a table of [low, high] pairs")
    out: dict[str, tuple[float, float]] = {}
    for name, pair in value.items():
        ok = isinstance(pair, list) and len(pair) == 2
        ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in pair)
        if not ok:
            raise error(f"{path}: parameters.bounds.{name} = {pair!r} (allowed: [low, high], two numbers)")
        if not pair[0] < pair[1]:
            raise error(f"{path}: parameters.bounds.{name} = {pair!r}: bounds reversed or empty (allowed: low < high)")
        out[name] = (float(pair[0]), float(pair[1]))
    return out


def within_registry(names, overrides: dict, path: Path, error: type[ValueError]) -> list[tuple[float, float]]:
    """Each parameter's bounds: the override, which must lie inside the registry's range, or that range."""
    from simulation.model.params import PARAMS

    bounds = []
    for name in names:
        p = PARAMS[name]
        lo, hi = overrides.get(name, (p.low, p.high))
        if lo < p.low or hi > p.high:
            raise error(
                f"{path}: parameters.bounds.{name} = [{lo:g}, {hi:g}] is outside the registry's range "
                f"(allowed: within {p.low:g} to {p.high:g} {p.unit})"
            )
        bounds.append((float(lo), float(hi)))
    return bounds


def model_scenario(path: Path, model: dict, error: type[ValueError]):
    """The scenario a ``[model]`` table names (relative to ``path``), with its scale, years and
    burn-in, one replicate and no posterior draws: the caller varies the parameters itself."""
    from simulation.policy.scenario import ScenarioError, load_scenario

    ref = model.get("scenario", "../scenarios/baseline.toml")
    if not isinstance(ref, str):
        raise error(f"{path}: model.scenario = {ref!r} must be a path")
    changes = {k: model[k] for k in ("scale", "years", "burn_in") if k in model}
    if isinstance(changes.get("scale"), int) and not isinstance(changes["scale"], bool):
        changes["scale"] = float(changes["scale"])
    try:
        return load_scenario((path.parent / ref).resolve()).with_(replicates=1, posterior=None, **changes)
    except (ScenarioError, TypeError) as exc:
        raise error(f"{path}: model: {exc}") from None


# Where the functions of experiment and calibration files written before the package was split
# into subpackages now live, so that those files still load.
MOVED_MODULES = {
    "simulation.sensitivity": "simulation.research.sensitivity",
}


def resolve_function(ref: str):
    """``"package.module:function"`` to the function; raises ExperimentError naming what is missing."""
    module_name, _, attr = ref.partition(":")
    module_name = MOVED_MODULES.get(module_name, module_name)
    if not module_name or not attr:
        raise ExperimentError(f"model.function = {ref!r} (allowed: 'package.module:function')")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ExperimentError(f"model.function = {ref!r}: cannot import {module_name!r} ({exc})") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ExperimentError(f"model.function = {ref!r}: {module_name} has no function {attr!r}")
    return fn


def _function_experiment(path, model, params, overrides, common) -> Experiment:
    ref = model["function"]
    if not isinstance(ref, str):
        _fail(path, f"model.function = {ref!r} (allowed: 'package.module:function')")
    others = set(model) - {"function"}
    if others:
        _fail(path, f"model.{sorted(others)[0]} applies to the school-exit model, not to model.function")
    try:
        resolve_function(ref)
    except ExperimentError as exc:
        _fail(path, str(exc))
    for key in ("kinds", "names", "exclude"):
        if params.get(key):
            _fail(
                path, f"parameters.{key}: a function model has no registry; give every parameter in parameters.bounds"
            )
    if not overrides:
        _fail(path, "parameters.bounds: a function model needs [low, high] for every parameter")
    names = tuple(overrides)
    return Experiment(
        names=names,
        bounds=tuple(overrides[n] for n in names),
        kinds=tuple("parameter" for _ in names),
        integer=tuple(False for _ in names),
        base={n: (lo + hi) / 2 for n, (lo, hi) in overrides.items()},
        function=ref,
        **common,
    )


def _school_exit_experiment(path, model, params, overrides, common) -> Experiment:
    from simulation.model.metrics import METRICS
    from simulation.model.params import PARAMS

    scenario = model_scenario(path, model, ExperimentError)  # sweeps vary parameters themselves: no posterior
    flags = {k: common["overrides"][k] for k in ("scale", "years") if k in common["overrides"]}
    if flags:
        from simulation.policy.scenario import ScenarioError

        try:
            scenario = scenario.with_(**flags)
        except (ScenarioError, TypeError) as exc:
            given = " ".join(f"--{k} {v}" for k, v in flags.items())
            _fail(path, f"{given}: {exc}")
    for out in common["outputs"]:
        if out not in METRICS:
            _fail(path, f"outputs: unknown output {out!r} (allowed: columns of the summary table, see METRICS)")
    kinds = _names(params.get("kinds", []), "parameters.kinds", path)
    for kind in kinds:
        if kind not in ("uncertainty", "lever"):
            _fail(path, f"parameters.kinds: {kind!r} is not a kind (allowed: uncertainty, lever)")
    listed = _names(params.get("names", []), "parameters.names", path)
    exclude = _names(params.get("exclude", []), "parameters.exclude", path)
    for name in [*listed, *exclude, *overrides]:
        if name not in PARAMS:
            close = [n for n in PARAMS if n.split("_")[0] == name.split("_")[0]][:4]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            _fail(path, f"parameters: unknown parameter {name!r}{hint}")
    chosen = [p.name for p in PARAMS.values() if p.kind in kinds] + [n for n in listed if PARAMS[n].kind not in kinds]
    chosen = [n for n in chosen if n not in exclude]
    for name in overrides:
        if name not in chosen:
            _fail(path, f"parameters.bounds.{name}: {name!r} is not varied (add it to parameters.names)")
    bounds = within_registry(chosen, overrides, path, ExperimentError)
    values = scenario.params()
    base = {n: values[n] for n in chosen}
    for (lo, hi), n in zip(bounds, chosen, strict=True):
        base[n] = min(max(base[n], lo), hi)
    return Experiment(
        names=tuple(chosen),
        bounds=tuple(bounds),
        kinds=tuple(PARAMS[n].kind for n in chosen),
        integer=tuple(PARAMS[n].integer for n in chosen),
        base=base,
        scenario=scenario,
        **common,
    )


# --- the design -------------------------------------------------------------------------


def sample(exp: Experiment) -> tuple[np.ndarray, pd.DataFrame]:
    """SALib's design (``X``, for the analysis) and the points as run (within bounds, integers rounded)."""
    if exp.method == "morris":
        from SALib.sample import morris

        X = morris.sample(exp.problem, exp.samples, num_levels=exp.num_levels, seed=exp.seed)
    else:
        from SALib.sample import sobol

        X = sobol.sample(exp.problem, exp.samples, calc_second_order=False, scramble=True, seed=exp.seed)
    bounds = np.asarray(exp.bounds, dtype=float)
    values = np.clip(X, bounds[:, 0], bounds[:, 1])  # SALib's scaling can overshoot a bound by 1 ulp
    for j, is_int in enumerate(exp.integer):
        if is_int:
            values[:, j] = np.round(values[:, j])
    points = pd.DataFrame(values, columns=list(exp.names))
    points.insert(0, "point", np.arange(len(points)))
    return X, points


def check_points(exp: Experiment, points: pd.DataFrame) -> None:
    """Every point must be one the model accepts (e.g. ``ebsa_exit_stress < ebsa_entry_stress``)."""
    if exp.function is not None:
        return
    from simulation.model.params import ParameterError, resolve

    fixed = dict(exp.scenario.parameters)
    records = points[list(exp.names)].to_dict("records")
    for i, point in enumerate([exp.base, *records]):
        values = {n: (int(v) if exp.integer[j] else float(v)) for j, (n, v) in enumerate(point.items())}
        try:
            resolve({**fixed, **values}, where="point")
        except ParameterError as exc:
            where = "the base point" if i == 0 else f"sample point {i - 1}"
            _fail(exp.path, f"{where} is refused by the model ({exc}); narrow parameters.bounds")
