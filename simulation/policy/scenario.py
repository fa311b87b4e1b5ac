"""Scenario files: TOML with one level of ``extends``, validated before anything runs.

Every problem is reported as one line naming the file, the key, the value and
what was allowed, so the command line can print it and exit non-zero.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import tomllib
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simulation.model.params import ParameterError, resolve
from simulation.model.population import REFERENCE_LA, PopulationSpec

from .base import Intervention, InterventionError
from .registry import from_dict, to_dict

_TOP_KEYS = {
    "name",
    "description",
    "extends",
    "population",
    "scale",
    "years",
    "burn_in",
    "replicates",
    "seed",
    "parameters",
    "interventions",
    "posterior",
}
_INTS = {"years": (1, 100), "burn_in": (0, 20), "replicates": (1, 100_000), "seed": (0, 2**63 - 1)}


class ScenarioError(ValueError):
    """A scenario that cannot run; the message is one line naming file and key."""


@dataclass(frozen=True)
class Scenario:
    name: str = "baseline"
    description: str = ""
    population: PopulationSpec = REFERENCE_LA
    scale: float = 1.0
    years: int = 5
    burn_in: int = 1
    replicates: int = 1
    seed: int = 0
    parameters: dict = field(default_factory=dict)  # overrides only
    interventions: tuple[Intervention, ...] = ()
    posterior: str | None = None  # a calibrated posterior CSV: each run draws its parameters from it
    particle: int | None = None  # pin the posterior particle (England pins one per replicate for all LAs)
    assumptions: tuple[str, ...] = ()  # uncertainty parameters each run draws from its range (compare --assumptions)
    source: str = ""  # file it came from
    sha256: str = ""  # of the resolved content

    def params(self, seed: int | None = None) -> dict[str, float]:
        """Registry defaults, then the posterior particles this seed draws (if the scenario has a
        posterior), then the assumptions drawn from their ranges (``compare --assumptions``), then the
        scenario's own ``parameters``: an explicit value always wins."""
        drawn = self.posterior_draw(seed)[1] if self.posterior and seed is not None else {}
        if self.assumptions and seed is not None:  # replicate r runs seed self.seed + r
            drawn.update(assumption_draw(self.assumptions, (seed - self.seed) // ASSUMPTION_SEEDS_PER_DRAW))
        return resolve({**drawn, **self.parameters}, where=self.source or self.name)

    def posterior_draw(self, seed: int) -> tuple[int, dict[str, float]]:
        """The particle index and parameter values run ``seed`` (replicate ``seed - self.seed``) takes
        from the posterior: its fitted columns from calibration draw r // 4 and its assumed ones from
        assumption draw r // 2, each an index drawn from (self.seed, draw) on its own stream
        (:meth:`Posterior.draw_index`). The index returned is the fitted columns' particle; a pinned
        ``particle`` gives every column from that one particle."""
        from .posterior import load_posterior

        post = load_posterior(self.posterior)
        where = self.source or self.name
        if self.particle is not None:
            if not 0 <= self.particle < len(post.weights):
                raise ScenarioError(f"{where}: particle = {self.particle} (allowed: 0 to {len(post.weights) - 1})")
            return self.particle, post.particle(self.particle)
        replicate = seed - self.seed
        if replicate < 0:
            raise ScenarioError(
                f"{where}: run seed {seed} is below the scenario's seed {self.seed} (allowed: the scenario's seed "
                "plus a replicate number, 0 or more)"
            )
        index = post.draw_index(self.seed, replicate // CALIBRATION_SEEDS_PER_DRAW, "fitted")
        values = post.particle(index, post.fitted)
        if post.assumed:
            other = post.draw_index(self.seed, replicate // ASSUMPTION_SEEDS_PER_DRAW, "assumed")
            values.update(post.particle(other, post.assumed))
        return index, values

    def with_(self, **changes) -> Scenario:
        """A copy with ``changes``, validated as a scenario file would be."""
        s = dataclasses.replace(self, **changes)
        where = s.source or s.name
        if not 0 < s.scale <= 1:
            raise ScenarioError(f"{where}: scale = {s.scale!r} (allowed: a number in (0, 1])")
        for key, (low, high) in _INTS.items():
            value = getattr(s, key)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ScenarioError(f"{where}: {key} = {value!r} (allowed: whole number {low} to {high})")
        try:
            resolve(s.parameters, where=f"{where}: parameters")
        except ParameterError as exc:
            raise ScenarioError(str(exc)) from None
        _check_assumptions(s.assumptions, where)
        late = [iv for iv in s.interventions if iv.start_year >= s.years]
        if late:
            raise ScenarioError(
                f"{where}: interventions[{late[0].type}] start_year = {late[0].start_year} is after "
                f"the horizon ({s.years} evaluation years)"
            )
        return dataclasses.replace(s, sha256=_hash(s.to_dict()))

    def to_dict(self) -> dict:
        d = {
            "name": self.name,
            "description": self.description,
            "population": dataclasses.asdict(self.population),
            "scale": self.scale,
            "years": self.years,
            "burn_in": self.burn_in,
            "replicates": self.replicates,
            "seed": self.seed,
            "parameters": dict(sorted(self.parameters.items())),
            "interventions": [to_dict(iv) for iv in self.interventions],
        }
        if self.posterior:
            d["posterior"] = self._posterior_id()
        if self.assumptions:
            d["assumptions"] = sorted(self.assumptions)
        return d

    def _posterior_id(self) -> dict:
        """The posterior by content, not path, so a moved checkout keeps its run keys."""
        from .posterior import load_posterior

        post = load_posterior(self.posterior)
        out = {"sha256": post.sha256, "particle": self.particle}
        if post.assumed:  # the roles change what a run draws, so they are part of what it is
            out["assumed"] = list(post.assumed)
        return out


def acts_through_of(scenarios) -> tuple[str, ...]:
    """Every uncertainty parameter the interventions of ``scenarios`` act through, sorted."""
    return tuple(sorted({name for s in scenarios for iv in s.interventions for name in type(iv).acts_through}))


def _check_assumptions(names: tuple[str, ...], where: str) -> None:
    from simulation.model.params import PARAMS

    for name in names:
        if name not in PARAMS or PARAMS[name].kind != "uncertainty":
            raise ScenarioError(
                f"{where}: assumptions: {name!r} is not an uncertainty parameter (allowed: the names "
                "`school-exit params --kind uncertainty` lists)"
            )


ASSUMPTION_SEEDS_PER_DRAW = 2  # runs that share one draw of the assumptions, so chance can be told apart
CALIBRATION_SEEDS_PER_DRAW = 2 * ASSUMPTION_SEEDS_PER_DRAW  # 2 assumption draws each, so calibration can be told apart


def assumption_draw(names: tuple[str, ...], draw: int) -> dict[str, float]:
    """Draw number ``draw`` of the uncertainty parameters ``names``, each from its registry range:
    uniform, or log-uniform where the range spans a factor of 10 or more (rates and hazards whose
    order of magnitude is what is uncertain). A pure function of (name, draw). Replicate r of every
    scenario in a comparison takes draw r // 2, so the paired difference is still the policy's, and
    each draw runs on two seeds, so chance and assumptions can be told apart
    (:func:`simulation.analysis.assumptions.assumption_share`)."""
    from simulation.model.params import PARAMS

    values = {}
    for name in sorted(names):
        par = PARAMS[name]
        value = par.from_unit(np.random.default_rng([draw, zlib.crc32(name.encode())]).random())
        values[name] = round(value) if par.integer else value
    return values


def _hash(d: dict) -> str:
    import json

    return hashlib.sha256(json.dumps(d, sort_keys=True, default=list).encode()).hexdigest()


def _read(path: Path) -> dict:
    """The TOML table of ``path``; a missing file, a directory or bad TOML is one line naming it."""
    if path.is_dir():
        inside = sorted(path.glob("*.toml"))
        hint = f", e.g. {inside[0]}" if inside else ""
        raise ScenarioError(f"{path}: is a directory, not a scenario file (allowed: a scenario .toml file{hint})")
    if not path.is_file():
        raise ScenarioError(f"{path}: scenario file not found")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: TOML syntax error: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read the scenario file ({exc.__class__.__name__}: {exc})") from None


def _parent_path(raw: dict, path: Path) -> Path:
    """Where ``extends`` points (relative to the child's folder), refused in the child's name and key
    when it is not a string or names no file: the parent's own path alone would not say who asked."""
    value = raw["extends"]
    if not isinstance(value, str) or not value:
        raise ScenarioError(
            f"{path}: extends = {value!r} (allowed: the path of a parent scenario file, relative to {path.parent})"
        )
    resolved = (path.parent / value).resolve()
    if resolved.is_dir():
        raise ScenarioError(
            f"{path}: extends = {value!r}: is a directory (resolved to {resolved}; allowed: a scenario .toml file)"
        )
    if not resolved.is_file():
        raise ScenarioError(
            f"{path}: extends = {value!r}: no such file (resolved to {resolved}; allowed: a scenario file, "
            f"relative to {path.parent})"
        )
    return resolved


def _check_keys(raw: dict, where: Path) -> None:
    for key in raw:
        if key not in _TOP_KEYS:
            raise ScenarioError(f"{where}: unknown key {key!r} (allowed: {', '.join(sorted(_TOP_KEYS))})")


def load_scenario(path: str | Path) -> Scenario:
    """Load, merge with the parent named by ``extends`` (one level), and validate."""
    path = Path(path)
    raw = _read(path)
    _check_keys(raw, path)
    merged: dict = {}
    if "extends" in raw:
        parent_path = _parent_path(raw, path)
        parent = _read(parent_path)
        _check_keys(parent, parent_path)
        if "extends" in parent:
            raise ScenarioError(
                f"{path}: extends = {raw['extends']!r} itself extends {parent['extends']!r} (allowed: one level)"
            )
        merged.update({k: v for k, v in parent.items() if k != "name"})  # a child is named after itself
        if isinstance(parent.get("posterior"), str) and parent["posterior"]:
            merged["posterior"] = str((parent_path.parent / parent["posterior"]).resolve())
        merged["parameters"] = dict(parent.get("parameters", {}))
        merged["population"] = dict(parent.get("population", {}))
    for key, value in raw.items():
        if key in ("parameters", "population"):
            if not isinstance(value, dict):
                raise ScenarioError(f"{path}: {key} must be a table")
            merged.setdefault(key, {}).update(value)
        elif key != "extends":
            merged[key] = value
    return _build(merged, path)


def _build(raw: dict, path: Path) -> Scenario:
    kwargs: dict = {"source": str(path)}
    for key in ("name", "description"):
        if key in raw:
            if not isinstance(raw[key], str):
                raise ScenarioError(f"{path}: {key} = {raw[key]!r} must be a string")
            if key == "name" and not raw[key].strip():
                raise ScenarioError(f"{path}: name = {raw[key]!r} (allowed: a non-empty string naming the scenario)")
            kwargs[key] = raw[key]
    for key, (low, high) in _INTS.items():
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ScenarioError(f"{path}: {key} = {value!r} (allowed: whole number {low} to {high})")
            kwargs[key] = value
    if "scale" in raw:
        value = raw["scale"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise ScenarioError(f"{path}: scale = {value!r} (allowed: a number in (0, 1])")
        kwargs["scale"] = float(value)
    pop = raw.get("population", {})
    if not isinstance(pop, dict):
        raise ScenarioError(f"{path}: population must be a table")
    allowed = {f.name: f for f in dataclasses.fields(PopulationSpec)}
    for key, value in pop.items():
        if key not in allowed:
            raise ScenarioError(f"{path}: population.{key} is not a population setting (allowed: {', '.join(allowed)})")
        default = getattr(REFERENCE_LA, key)
        if isinstance(default, tuple):
            if not isinstance(value, list) or len(value) != len(default):
                raise ScenarioError(f"{path}: population.{key} must be a list of {len(default)} shares")
            pop[key] = tuple(float(v) for v in value)
        elif isinstance(value, bool) or not isinstance(value, type(default) | int):
            raise ScenarioError(f"{path}: population.{key} = {value!r} must be a {type(default).__name__}")
    try:
        kwargs["population"] = dataclasses.replace(REFERENCE_LA, **pop)
    except ValueError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    params = raw.get("parameters", {})
    if not isinstance(params, dict):
        raise ScenarioError(f"{path}: parameters must be a table")
    try:
        resolve(params, where=f"{path}: parameters")
    except ParameterError as exc:
        raise ScenarioError(str(exc)) from None
    kwargs["parameters"] = dict(params)
    years = kwargs.get("years", Scenario.years)
    ivs = raw.get("interventions", [])
    if not isinstance(ivs, list):
        raise ScenarioError(f"{path}: interventions must be an array of tables ([[interventions]])")
    built = []
    for i, item in enumerate(ivs):
        if not isinstance(item, dict):
            raise ScenarioError(f"{path}: interventions[{i}] must be a table")
        try:
            built.append(from_dict(item, f"{path}: interventions[{i}]", years, require_start_year=True))
        except InterventionError as exc:
            raise ScenarioError(str(exc)) from None
    levers = [type(iv).lever for iv in built]
    for lever in set(levers):
        owners = [iv for iv in built if type(iv).lever == lever]
        if len(owners) > 1 and _overlap(owners):
            raise ScenarioError(
                f"{path}: interventions {', '.join(iv.type for iv in owners)} set the same lever "
                f"{lever!r} in overlapping years (allowed: one at a time)"
            )
    kwargs["interventions"] = tuple(built)
    kwargs["posterior"] = _posterior_path(raw, path)
    _require_name(raw, path)
    s = Scenario(**kwargs)
    return dataclasses.replace(s, sha256=_hash(s.to_dict()))


def _require_name(raw: dict, path: Path) -> None:
    """A file must name its scenario: the name is the ``scenario`` column of every table and what
    a job's --out is known by, and an empty file would otherwise run the hand-set defaults as if
    it were a scenario. Checked after every other key, so a typo is reported as itself."""
    if "name" in raw:
        return
    empty = "the file is empty; " if not raw else ""
    raise ScenarioError(
        f'{path}: {empty}name is missing (allowed: a string naming the scenario, e.g. name = "{path.stem}"; '
        "a file that extends another needs its own)"
    )


def _posterior_path(raw: dict, path: Path) -> str | None:
    """``posterior = "file.csv"`` relative to the scenario file (its parent's, when inherited);
    ``posterior = ""`` switches an inherited posterior off. The file is checked here."""
    from .posterior import PosteriorError, load_posterior

    value = raw.get("posterior")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ScenarioError(f'{path}: posterior = {value!r} (allowed: a path to a posterior CSV, or "" for none)')
    resolved = (path.parent / value).resolve()
    try:
        load_posterior(resolved)
    except PosteriorError as exc:
        raise ScenarioError(f"{path}: posterior: {exc}") from None
    return str(resolved)


def _overlap(ivs: list[Intervention]) -> bool:
    spans = sorted((iv.start_year, iv.end_year if iv.end_year is not None else 10**9) for iv in ivs)
    return any(b[0] <= a[1] for a, b in itertools.pairwise(spans))
