"""Scenario files: TOML with one level of ``extends``, validated before anything runs.

Every problem is reported as one line naming the file, the key, the value and
what was allowed, so the command line can print it and exit non-zero.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

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
    source: str = ""  # file it came from
    sha256: str = ""  # of the resolved content

    def params(self, seed: int | None = None) -> dict[str, float]:
        """Registry defaults, then the posterior particle this seed draws (if the scenario has a
        posterior), then the scenario's own ``parameters``: an explicit value always wins."""
        drawn = self.posterior_draw(seed)[1] if self.posterior and seed is not None else {}
        return resolve({**drawn, **self.parameters}, where=self.source or self.name)

    def posterior_draw(self, seed: int) -> tuple[int, dict[str, float]]:
        """The particle index and parameter values run ``seed`` takes from the posterior."""
        from .posterior import load_posterior

        post = load_posterior(self.posterior)
        index = self.particle if self.particle is not None else post.draw_index(seed)
        if not 0 <= index < len(post.weights):
            raise ScenarioError(
                f"{self.source or self.name}: particle = {index} (allowed: 0 to {len(post.weights) - 1})"
            )
        return index, post.particle(index)

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
        return d

    def _posterior_id(self) -> dict:
        """The posterior by content, not path, so a moved checkout keeps its run keys."""
        from .posterior import load_posterior

        return {"sha256": load_posterior(self.posterior).sha256, "particle": self.particle}


def _hash(d: dict) -> str:
    import json

    return hashlib.sha256(json.dumps(d, sort_keys=True, default=list).encode()).hexdigest()


def _read(path: Path) -> dict:
    if not path.is_file():
        raise ScenarioError(f"{path}: scenario file not found")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: TOML syntax error: {exc}") from None


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
        parent_path = (path.parent / str(raw["extends"])).resolve()
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
            kwargs[key] = raw[key]
    kwargs.setdefault("name", path.stem)
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
            built.append(from_dict(item, f"{path}: interventions[{i}]", years))
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
    s = Scenario(**kwargs)
    return dataclasses.replace(s, sha256=_hash(s.to_dict()))


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
