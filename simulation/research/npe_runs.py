"""The simulations a neural posterior calibration learns from: prior draws, one run each.

Point ``i`` of a design is a pure function of (design seed, ``i``): its parameters and its run
seed come from a generator seeded with both, so a design can be extended without changing the
points it already holds, and a finished run is found again in the store by its key whichever
job, executor or resumed process asks for it. Each run stores every yearly metric of the years
table, so the choice of summaries can change without running anything again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .executors import Task

ID_COLUMNS = ("scenario", "replicate", "seed", "la", "academic_year")


@dataclass(frozen=True)
class DesignRun:
    """The argument of one design task."""

    scenario: object  # a Scenario
    params: dict
    seed: int


def design_task(run: DesignRun) -> dict:
    """One run: ``{"metric@year": value}`` for every metric and reported year, and its seed."""
    from .runner import run as run_model

    scen = run.scenario.with_(parameters={**run.scenario.parameters, **run.params})
    years = run_model(scen, seed=run.seed).years
    out: dict = {"seed": int(run.seed)}  # the record names its run, so a store can be checked against a design
    for row in years.to_dict("records"):
        year = int(row["academic_year"])
        for name, value in row.items():
            if name not in ID_COLUMNS:
                out[f"{name}@{year}"] = float(value)
    return out


def draw_point(seed: int, i: int, names) -> tuple[np.ndarray, int]:
    """Point ``i``: each parameter drawn from its prior (:meth:`Param.from_unit`), and its run seed."""
    from simulation.model.params import PARAMS

    rng = np.random.default_rng([int(seed), int(i)])
    u = rng.random(len(names))
    return np.array([PARAMS[n].from_unit(float(v)) for n, v in zip(names, u, strict=True)]), int(rng.integers(0, 2**62))


def draw_design(seed: int, start: int, stop: int, names) -> tuple[np.ndarray, np.ndarray]:
    """Points ``start`` to ``stop - 1``: (parameters, run seeds)."""
    pts = [draw_point(seed, i, names) for i in range(start, stop)]
    thetas = np.array([p[0] for p in pts]).reshape(len(pts), len(names))
    return thetas, np.array([p[1] for p in pts], dtype=np.int64)


def as_params(names, theta, integer) -> dict:
    """A parameter vector as the model's parameters (whole numbers rounded)."""
    return {n: (round(float(v)) if is_int else float(v)) for n, v, is_int in zip(names, theta, integer, strict=True)}


def design_tasks(scenario, names, thetas, seeds, integer) -> list[Task]:
    """One task per design point; the key hashes what determines the run."""
    from .runner import model_identity
    from .store import code_version, sha256_json

    model = model_identity(scenario)
    version = code_version()
    tasks = []
    for theta, seed in zip(thetas, seeds, strict=True):
        params = as_params(names, theta, integer)
        key = "npe-" + sha256_json({"model": model, "params": params, "seed": int(seed), "v": version})[:24]
        tasks.append(Task(key, design_task, DesignRun(scenario, params, int(seed))))
    return tasks
