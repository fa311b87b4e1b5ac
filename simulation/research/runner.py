"""Runs as pure functions of data: ``run(scenario, seed) -> RunResult``, and many of them.

Replicate ``r`` of a job with base seed ``S`` uses seed ``S + r``; every stream is
spawned from that seed and its name, so the same replicate of two scenarios shares
its random numbers (common random numbers) and results do not depend on which
process ran them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.model import timeline as tl
from simulation.model.mesa_model import SchoolExitModel
from simulation.model.metrics import METRICS
from simulation.model.observe import EVENT_FIELDS
from simulation.model.params import ParameterError, resolve
from simulation.model.state import Status
from simulation.policy.scenario import Scenario, load_scenario

ID_COLUMNS = ["scenario", "replicate", "seed", "la"]
STATUS_COLUMNS = [name.lower() for name, _ in Status.items()]
WEEK_COLUMNS = ["t_week", "year_index", "week", *STATUS_COLUMNS, "in_distress", "ehcp_queue"]


@dataclass
class RunResult:
    years: pd.DataFrame
    weeks: pd.DataFrame
    summary: pd.DataFrame
    events: pd.DataFrame | None = None
    seconds: float = 0.0
    model: SchoolExitModel | None = field(default=None, repr=False)


def run(
    scenario: Scenario,
    seed: int | None = None,
    *,
    replicate: int = 0,
    years: int | None = None,
    record_events: bool = False,
    keep_model: bool = False,
    la: str = "reference",
) -> RunResult:
    """Simulate burn-in plus ``years`` evaluation years and return the tidy tables."""
    t0 = time.perf_counter()
    if years is not None:
        scenario = scenario.with_(years=years)
    seed = scenario.seed + replicate if seed is None else seed
    model = SchoolExitModel(scenario, seed=seed, record_events=record_events)
    model.run_for((scenario.burn_in + scenario.years) * tl.WEEKS_PER_YEAR)
    ids = {"scenario": scenario.name, "replicate": replicate, "seed": seed, "la": la}
    years_df = pd.DataFrame(model.observer.rows)
    years_df.insert(0, "academic_year", [scenario.population.start_year + i for i in range(len(years_df))])
    for i, (k, v) in enumerate(ids.items()):
        years_df.insert(i, k, v)
    weekly = np.array(model.observer.weekly)
    weeks_df = pd.DataFrame(weekly, columns=WEEK_COLUMNS).astype("int64")
    counted = [*STATUS_COLUMNS, "in_distress", "ehcp_queue"]
    weeks_df[counted] = weeks_df[counted] * model.weight
    weeks_df["year_index"] -= scenario.burn_in
    weeks_df.insert(0, "academic_year", scenario.population.start_year + weeks_df["year_index"])
    weeks_df = weeks_df.drop(columns="year_index")
    for i, (k, v) in enumerate(ids.items()):
        weeks_df.insert(i, k, v)
    summary = summarise(years_df)
    events = _events_frame(model, ids) if record_events else None
    if not keep_model:
        _forget(model)
    return RunResult(years_df, weeks_df, summary, events, time.perf_counter() - t0, model if keep_model else None)


def _forget(model: SchoolExitModel) -> None:
    """Drop Mesa's class-level reference to a finished model: ``mesa.Agent._ids`` keeps an id counter
    per model, keyed by the model, which otherwise keeps every model alive (about 4 MB per
    sweep-sized run, gigabytes over a sweep in one worker)."""
    from simulation.model.mesa_core import mesa

    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)


def model_identity(scenario: Scenario) -> dict:
    """What of a scenario determines its runs (not its name, description, seed or replicates): the
    part of a run's store key that sweeps and calibrations share."""
    content = scenario.to_dict()
    for key in ("replicates", "seed", "name", "description"):
        content.pop(key, None)
    return content


def summarise(years: pd.DataFrame) -> pd.DataFrame:
    """One row per run: the mean of each metric over the evaluation years."""
    metrics = [c for c in METRICS if c in years.columns]
    return years.groupby(ID_COLUMNS, sort=False)[metrics].mean().reset_index()


def _events_frame(model: SchoolExitModel, ids: dict) -> pd.DataFrame:
    years = [y for y in model.log.years() if y >= model.scenario.burn_in]
    parts = [pd.DataFrame(model.log.year(y)) for y in years]
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(EVENT_FIELDS))
    for i, (k, v) in enumerate(ids.items()):
        df.insert(i, k, v)
    return df


_SCENARIO_CACHE: dict[str, Scenario] = {}


def simulate(params: dict, seed: int, scenario: str | Path | Scenario = "scenarios/baseline.toml") -> dict[str, float]:
    """The model as a plain function: parameter dict and seed in, summary metrics out.

    The scenario's calibrated posterior is not drawn from: the result depends on ``params``
    and ``seed`` only (registry defaults and the scenario's own parameters fill the rest)."""
    if not isinstance(scenario, Scenario):
        key = str(scenario)
        if key not in _SCENARIO_CACHE:
            _SCENARIO_CACHE[key] = load_scenario(scenario)
        scenario = _SCENARIO_CACHE[key]
    merged = {**scenario.parameters, **params}
    try:
        resolve(merged, where="simulate")
    except ParameterError as exc:
        raise ParameterError(str(exc)) from None
    result = run(scenario.with_(parameters=merged, posterior=None), seed=seed)
    row = result.summary.iloc[0]
    return {k: float(row[k]) for k in METRICS}


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines one run: the argument of a run task."""

    scenario: Scenario
    replicate: int
    seed: int
    la: str = "reference"
    years: int | None = None
    record_events: bool = False

    def key(self) -> str:
        """A hash of what determines the result (the scenario's ``replicates`` does not)."""
        from .store import code_version, sha256_json

        content = self.scenario.to_dict()
        content.pop("replicates", None)
        content.pop("seed", None)
        spec = {
            "kind": "run",
            "scenario": content,
            "seed": self.seed,
            "replicate": self.replicate,
            "la": self.la,
            "years": self.years,
            "events": self.record_events,
            "version": code_version(),
        }
        return f"run-{sha256_json(spec)[:24]}"


def run_task(spec: RunSpec) -> RunResult:
    """The task a job runs for one (scenario, replicate, LA): a RunResult without the model."""
    return run(
        spec.scenario,
        seed=spec.seed,
        replicate=spec.replicate,
        years=spec.years,
        record_events=spec.record_events,
        la=spec.la,
    )


def run_specs(
    scenarios: Sequence[Scenario], replicates: int, *, years: int | None = None, record_events: bool = False
) -> list[RunSpec]:
    """Scenario x replicate; replicate r of a scenario with base seed S uses seed S + r."""
    return [
        RunSpec(s, r, s.seed + r, years=years, record_events=record_events)
        for s in scenarios
        for r in range(replicates)
    ]


def run_many(
    scenarios: Scenario | Sequence[Scenario],
    replicates: int,
    *,
    workers: int | None = None,
    executor=None,
    years: int | None = None,
    record_events: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[RunResult]:
    """Every scenario x replicate on an executor (default: local processes, ``workers=1`` in
    this process). Results come back in job order, so the output is the same whatever the
    executor and the number of workers. A run that raises raises here (after the others ran).
    """
    from .executors import Task, make_executor, run_tasks

    if isinstance(scenarios, Scenario):
        scenarios = [scenarios]
    specs = run_specs(scenarios, replicates, years=years, record_events=record_events)
    tasks = [Task(f"{i}", run_task, spec) for i, spec in enumerate(specs)]
    executor = executor or make_executor(min(workers or os.cpu_count() or 1, len(tasks)))
    report = run_tasks(tasks, executor, progress=progress or False)
    if report.failed:
        text = next(iter(report.failed.values()))
        raise RunFailed(f"{len(report.failed)} of {len(tasks)} runs failed; the first:\n{text}")
    return [report.outcomes[t.key].value for t in tasks]


class RunFailed(RuntimeError):
    """One or more runs of a job raised; the message holds the first traceback."""


def combine(results: Sequence[RunResult]) -> dict[str, pd.DataFrame]:
    tables = {
        "years": pd.concat([r.years for r in results], ignore_index=True),
        "weeks": pd.concat([r.weeks for r in results], ignore_index=True),
        "summary": pd.concat([r.summary for r in results], ignore_index=True),
    }
    events = [r.events for r in results if r.events is not None]
    if events:
        tables["events"] = pd.concat(events, ignore_index=True)
    return tables
