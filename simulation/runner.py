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
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import timeline as tl
from .model import SchoolExitModel
from .observe import EVENT_FIELDS, METRICS
from .params import ParameterError, resolve
from .scenario import Scenario, load_scenario
from .state import Status

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
    return RunResult(years_df, weeks_df, summary, events, time.perf_counter() - t0, model if keep_model else None)


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
    """The model as a plain function: parameter dict and seed in, summary metrics out."""
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
    result = run(scenario.with_(parameters=merged), seed=seed)
    row = result.summary.iloc[0]
    return {k: float(row[k]) for k in METRICS}


def _run_job(job: tuple[Scenario, int, int | None, bool]) -> RunResult:
    scenario, replicate, years, events = job
    return run(scenario, replicate=replicate, years=years, record_events=events)


def run_many(
    scenarios: Scenario | Sequence[Scenario],
    replicates: int,
    *,
    workers: int | None = None,
    years: int | None = None,
    record_events: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[RunResult]:
    """Every scenario x replicate, in a process pool (``workers=1`` runs in this process).

    Results come back in job order, so the output is the same whatever the number of workers.
    """
    if isinstance(scenarios, Scenario):
        scenarios = [scenarios]
    jobs = [(s, r, years, record_events) for s in scenarios for r in range(replicates)]
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) == 1:
        results = []
        for i, job in enumerate(jobs):
            results.append(_run_job(job))
            if progress:
                progress(i + 1, len(jobs))
        return results
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=_mp_context()) as pool:
        futures = [pool.submit(_run_job, job) for job in jobs]
        results = []
        for i, fut in enumerate(futures):
            results.append(fut.result())
            if progress:
                progress(i + 1, len(jobs))
        return results


def _mp_context():
    """Fork where the platform has it: workers start with the parent's code already imported
    (Mesa sets the global start method to spawn, which re-imports the package in every worker)."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


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
