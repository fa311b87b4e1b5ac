"""A calibration file (``calibration/config.toml``), read and checked before anything runs.

Every error names the file, the key and what is allowed, and nothing is written (exit 2).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .npe import Network

TARGET_COLUMNS = ("id", "role", "family", "metric", "academic_year", "value", "low", "high", "unit", "period", "url")
ROLES = ("fit", "validation")
KINDS = ("uncertainty", "lever")

# key -> (default, low, high)
_INTS = {
    "seed": (20261207, 0, 2**62),
    "simulations": (8000, 50, 10**7),
    "sbc_truths": (300, 10, 10**6),
    "posterior_draws": (2000, 100, 10**6),
}
_FLOATS = {"scale": (0.125, 0.001, 1.0), "screening_share": (0.01, 0.0, 0.5)}
_TABLES = {
    "discrepancy": {"family_correlation": (0.5, 0.0, 0.95)},
    "network": {
        "hidden": (128, 8, 4096),
        "transforms": (5, 1, 50),
        "batch": (256, 16, 100_000),
        "learning_rate": (5e-4, 1e-6, 0.1),
        "stop_after_epochs": (20, 1, 1000),
        "max_epochs": (400, 1, 100_000),
    },
    "offset": {"draws": (100, 4, 100_000), "scale": (1.0, 0.001, 1.0)},
    "predictive": {"draws": (200, 4, 100_000), "scale": (1.0, 0.001, 1.0)},
    # a second round (truncated sequential NPE): simulations = 0 turns it off
    "truncation": {"simulations": (0, 0, 10**7), "quantile": (1e-4, 1e-8, 0.5), "sbc_truths": (150, 2, 10**6)},
}
_MODELS = ("maf", "nsf")
_SUFFIX = {"targets": "csv", "scenario": "toml"}
_TOP = {"name", "description", "targets", "scenario", *_INTS, *_FLOATS, *_TABLES, "parameters"}


class CalibrationError(ValueError):
    """A calibration that cannot run; the message is one line naming the file and the key."""


def _fail(path: Path, message: str):
    raise CalibrationError(f"{path}: {message}")


@dataclass(frozen=True)
class Calibration:
    name: str
    path: Path
    description: str
    targets: pd.DataFrame  # every row (fit and validation)
    scenario: object  # the Scenario the design runs, at ``scale``
    names: tuple[str, ...]  # the parameters drawn in the design (those that pass the screening are fitted)
    seed: int
    simulations: int
    sbc_truths: int
    posterior_draws: int
    scale: float
    screening_share: float
    family_correlation: float
    network: Network
    offset_draws: int
    offset_scale: float
    predictive_draws: int
    predictive_scale: float
    truncation_simulations: int = 0
    truncation_quantile: float = 1e-4
    truncation_sbc_truths: int = 150
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def fit(self) -> pd.DataFrame:
        return self.targets[self.targets["role"] == "fit"].reset_index(drop=True)

    @property
    def validation(self) -> pd.DataFrame:
        return self.targets[self.targets["role"] == "validation"].reset_index(drop=True)

    @property
    def integer(self) -> tuple[bool, ...]:
        from simulation.model.params import PARAMS

        return tuple(PARAMS[n].integer for n in self.names)

    def identity(self) -> dict:
        """What determines the posterior: a resumed job must have the same."""
        from .runner import model_identity

        return {
            "method": "npe",
            "model": model_identity(self.scenario),
            "targets": self.targets[
                ["id", "role", "family", "metric", "academic_year", "value", "low", "high"]
            ].to_dict("records"),
            "names": list(self.names),
            "seed": self.seed,
            "simulations": self.simulations,
            "sbc_truths": self.sbc_truths,
            "posterior_draws": self.posterior_draws,
            "screening_share": self.screening_share,
            "family_correlation": self.family_correlation,
            "network": self.network.__dict__,
            "offset": [self.offset_draws, self.offset_scale],
            "predictive": [self.predictive_draws, self.predictive_scale],
            "truncation": [self.truncation_simulations, self.truncation_quantile, self.truncation_sbc_truths],
        }


def load_targets(path: Path, where: Path) -> pd.DataFrame:
    """The targets table, checked: columns, roles, ranges that hold their value, known metrics."""
    from simulation.model.metrics import METRICS

    if not path.is_file():
        _fail(where, f"targets = {str(path)!r}: file not found")
    try:
        df = pd.read_csv(path, dtype={"id": str, "metric": str, "role": str, "family": str})
    except (ValueError, OSError) as exc:
        _fail(path, f"unreadable CSV ({exc})")
    missing = [c for c in TARGET_COLUMNS if c not in df.columns]
    if missing:
        _fail(path, f"missing column(s) {', '.join(missing)} (required: {', '.join(TARGET_COLUMNS)})")
    for i, row in df.iterrows():
        at = f"row {i + 2} ({row['id']})"
        if row["role"] not in ROLES:
            _fail(path, f"{at}: role = {row['role']!r} (allowed: {', '.join(ROLES)})")
        if row["metric"] not in METRICS:
            _fail(path, f"{at}: metric = {row['metric']!r} is not a model metric (see simulation/model/metrics.py)")
        if not isinstance(row["family"], str) or not row["family"]:
            _fail(path, f"{at}: family is empty (allowed: a name shared by figures of one series)")
        lo, v, hi = (float(row[k]) for k in ("low", "value", "high"))
        if not lo < v < hi:
            _fail(path, f"{at}: needs low < value < high (got {lo:g}, {v:g}, {hi:g})")
        if pd.isna(row["academic_year"]) or float(row["academic_year"]) != int(row["academic_year"]):
            _fail(path, f"{at}: academic_year = {row['academic_year']!r} (allowed: a year such as 2023)")
    if df["id"].duplicated().any():
        _fail(path, f"duplicate id {df.loc[df['id'].duplicated(), 'id'].iloc[0]!r}")
    if not (df["role"] == "fit").any():
        _fail(path, "no target has role 'fit'")
    df["academic_year"] = df["academic_year"].astype(int)
    return df


def _number(path: Path, key: str, value, low, high, whole: bool):
    ok = not isinstance(value, bool) and isinstance(value, int if whole else int | float) and low <= value <= high
    if not ok:
        kind = "whole number" if whole else "a number"
        _fail(path, f"{key} = {value!r} (allowed: {kind} from {low:g} to {high:g})")
    return int(value) if whole else float(value)


def _parameters(path: Path, raw: dict) -> tuple[str, ...]:
    from simulation.model.params import PARAMS, by_kind

    section = raw.get("parameters", {"kinds": ["uncertainty"]})
    if not isinstance(section, dict) or set(section) - {"kinds", "names"} or not section:
        _fail(path, "[parameters] takes kinds = [...] or names = [...] (allowed kinds: " + ", ".join(KINDS) + ")")
    if "names" in section:
        names = section["names"]
        if not isinstance(names, list) or not names:
            _fail(path, f"parameters.names = {names!r} (allowed: a list of registry parameter names)")
        for n in names:
            if n not in PARAMS:
                _fail(path, f"parameters.names: {n!r} is not a registry parameter (see 'school-exit params')")
        return tuple(names)
    kinds = section["kinds"]
    if not isinstance(kinds, list) or not kinds or any(k not in KINDS for k in kinds):
        _fail(path, f"parameters.kinds = {kinds!r} (allowed: a list of {', '.join(KINDS)})")
    return tuple(p.name for k in kinds for p in by_kind(k))


def load_calibration(path: str | Path) -> Calibration:
    """Load and check a calibration file; raises CalibrationError (nothing is written)."""
    from simulation.policy.scenario import ScenarioError, load_scenario

    path = Path(path)
    if not path.is_file():
        raise CalibrationError(f"{path}: calibration file not found")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise CalibrationError(f"{path}: TOML syntax error: {exc}") from None
    for key in raw:
        if key not in _TOP:
            _fail(path, f"unknown key {key!r} (allowed: {', '.join(sorted(_TOP))})")
    v: dict = {}
    for key, (default, low, high) in _INTS.items():
        v[key] = _number(path, key, raw.get(key, default), low, high, whole=True)
    for key, (default, low, high) in _FLOATS.items():
        v[key] = _number(path, key, raw.get(key, default), low, high, whole=False)
    tables: dict = {}
    for table, keys in _TABLES.items():
        section = raw.get(table, {})
        if not isinstance(section, dict):
            _fail(path, f"{table} must be a table")
        allowed = set(keys) | ({"model"} if table == "network" else set())
        for key in section:
            if key not in allowed:
                _fail(path, f"{table}.{key} is not a setting (allowed: {', '.join(sorted(allowed))})")
        for key, (default, low, high) in keys.items():
            whole = isinstance(default, int)
            tables[f"{table}.{key}"] = _number(path, f"{table}.{key}", section.get(key, default), low, high, whole)
    model = raw.get("network", {}).get("model", "maf")
    if model not in _MODELS:
        _fail(path, f"network.model = {model!r} (allowed: {', '.join(_MODELS)})")
    if v["sbc_truths"] >= v["simulations"] // 2:
        _fail(path, f"sbc_truths = {v['sbc_truths']} (allowed: fewer than half of simulations = {v['simulations']})")
    n2, k2 = tables["truncation.simulations"], tables["truncation.sbc_truths"]
    if n2 and k2 >= n2 // 2:
        _fail(path, f"truncation.sbc_truths = {k2} (allowed: fewer than half of truncation.simulations = {n2})")
    for key in ("targets", "scenario"):
        if not isinstance(raw.get(key), str):
            _fail(
                path,
                f'{key}: give a path relative to this file, e.g. {key} = "{key}.{_SUFFIX[key]}"',
            )
    targets = load_targets((path.parent / raw["targets"]).resolve(), path)
    try:
        scenario = load_scenario((path.parent / raw["scenario"]).resolve())
    except ScenarioError as exc:
        _fail(path, f"scenario = {raw['scenario']!r}: {exc}")
    if scenario.posterior:
        _fail(
            path, f"scenario = {raw['scenario']!r} draws from a posterior ({scenario.posterior}); the design must not"
        )
    years = range(scenario.population.start_year, scenario.population.start_year + scenario.years)
    outside = targets[~targets["academic_year"].isin(list(years))]
    if len(outside):
        _fail(
            path,
            f"target {outside['id'].iloc[0]!r} is dated {outside['academic_year'].iloc[0]} (allowed: the years the "
            f"scenario reports, {years.start} to {years.stop - 1})",
        )
    return Calibration(
        name=str(raw.get("name", path.stem)),
        path=path,
        description=str(raw.get("description", "")),
        targets=targets,
        scenario=scenario.with_(scale=v["scale"]),
        names=_parameters(path, raw),
        seed=v["seed"],
        simulations=v["simulations"],
        sbc_truths=v["sbc_truths"],
        posterior_draws=v["posterior_draws"],
        scale=v["scale"],
        screening_share=v["screening_share"],
        family_correlation=tables["discrepancy.family_correlation"],
        network=Network(
            model=model,
            hidden=tables["network.hidden"],
            transforms=tables["network.transforms"],
            batch=tables["network.batch"],
            learning_rate=tables["network.learning_rate"],
            stop_after_epochs=tables["network.stop_after_epochs"],
            max_epochs=tables["network.max_epochs"],
        ),
        offset_draws=tables["offset.draws"],
        offset_scale=tables["offset.scale"],
        predictive_draws=tables["predictive.draws"],
        predictive_scale=tables["predictive.scale"],
        truncation_simulations=tables["truncation.simulations"],
        truncation_quantile=tables["truncation.quantile"],
        truncation_sbc_truths=tables["truncation.sbc_truths"],
        raw=raw,
    )
