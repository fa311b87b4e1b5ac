"""What one calibration run is, its key in the run store, and how a batch of runs is evaluated.

The key hashes everything that determines a run (model, parameters, seed, code version), so the
store recognises a finished run whichever generation, check or resumed job asks for it again.
The SMC loop and the after-fit checks both build their runs here, which keeps them out of each
other's modules.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calibration_config import Calibration
from .executors import Task, run_tasks

_SEED_SPACE = 2**62


@dataclass(frozen=True)
class CalibrationRun:
    """The argument of one calibration task."""

    function: str | None
    scenario: object
    params: dict
    seed: int
    targets: tuple[tuple[str, str, int | None], ...]  # (id, metric, academic year or None)


def calibration_task(run: CalibrationRun) -> dict[str, float]:
    """One run: the value of every target (fit and validation), by target id."""
    if run.function is not None:
        from .experiment import resolve_function

        out = resolve_function(run.function)(dict(run.params), run.seed)
        return {tid: float(out.get(metric, np.nan)) for tid, metric, _ in run.targets}
    from .runner import run as run_model

    scen = run.scenario.with_(parameters={**run.scenario.parameters, **run.params})
    years = run_model(scen, seed=run.seed).years
    values = {}
    for tid, metric, year in run.targets:
        rows = years[years["academic_year"] == year] if year is not None else years
        if len(rows) == 0:
            rows = years
        col = pd.to_numeric(rows[metric], errors="coerce") if metric in rows else pd.Series(dtype=float)
        values[tid] = float(col.mean()) if col.notna().any() else np.nan
    return values


def gaussian_toy(params: dict, seed: int) -> dict[str, float]:
    """A test problem with a known answer: ``y_i = x_i + N(0, 0.5)``. With a uniform prior and a
    target y_i = 1 (range +/- 0.5), the ABC posterior of x_i centres on 1 with sd about 0.5."""
    rng = np.random.default_rng([int(seed), 17])
    return {f"y{i}": float(params[f"x{i}"] + 0.5 * rng.standard_normal()) for i in (1, 2)}


# --- seeds and tasks ---------------------------------------------------------------------


def _rng(cal: Calibration, generation: int, step: int) -> np.random.Generator:
    """The random numbers of one step of one generation, whatever ran before or where."""
    return np.random.default_rng([cal.seed, generation, step])


def _params(cal: Calibration, theta: np.ndarray) -> dict:
    return {
        n: (round(float(v)) if is_int else float(v))
        for n, v, is_int in zip(cal.prior.names, theta, cal.integer, strict=True)
    }


def _targets_arg(cal: Calibration) -> tuple:
    out = []
    for t in cal.targets.itertuples(index=False):
        year = None if cal.function is not None or pd.isna(t.academic_year) else int(t.academic_year)
        out.append((str(t.id), str(t.metric), year))
    return tuple(out)


def make_tasks(cal: Calibration, thetas: np.ndarray, seeds: np.ndarray, scenario=None) -> list[Task]:
    """One task per (proposal, seed); the key is a hash of what determines the run."""
    from .store import code_version, sha256_json

    scenario = scenario if scenario is not None else cal.scenario
    model = {"function": cal.function} if cal.function else {"scenario": scenario.to_dict()}
    targets = _targets_arg(cal)
    version = code_version()
    tasks = []
    for theta, row in zip(thetas, seeds, strict=True):
        params = _params(cal, theta) if theta is not None else {}
        for seed in row:
            key = "cal-" + sha256_json({"model": model, "params": params, "seed": int(seed), "v": version})[:24]
            tasks.append(
                Task(key, calibration_task, CalibrationRun(cal.function, scenario, params, int(seed), targets))
            )
    return tasks


def _values(store, tasks: list[Task], n: int, seeds: int, ids) -> np.ndarray:
    """(proposals, seeds, targets) values from the store; NaN for a failed run."""
    done = store.done_keys()
    out = np.full((n * seeds, len(ids)), np.nan)
    for i, task in enumerate(tasks):
        if task.key in done:
            v = store.load(task.key)["value"]
            out[i] = [v.get(tid, np.nan) for tid in ids]
    return out.reshape(n, seeds, len(ids))


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _evaluate(cal, theta, seeds, executor, store) -> np.ndarray:
    """Mean over seeds of every target's value, per proposal (NaN if every seed failed)."""
    tasks = make_tasks(cal, theta, seeds)
    run_tasks(tasks, executor, store=store, progress=False)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all seeds of a proposal failed: NaN, rejected
        return np.nanmean(_values(store, tasks, len(theta), cal.seeds, list(cal.targets["id"])), axis=1)
