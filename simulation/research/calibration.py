"""ABC-SMC calibration as a resumable job on the sweep executors.

``school-exit calibrate CONFIG.toml --out DIR`` calls :func:`run_calibration`:

1. generation 0 draws ``particles`` parameter sets from the prior (or, with ``start_from``, takes
   an earlier posterior: a warm start that runs on with new settings); each later generation keeps
   the best ``epsilon_quantile`` share (the tolerance is the largest distance kept), resamples
   the rest from them and moves those by Metropolis-Hastings steps that must stay within the
   tolerance (:mod:`simulation.research.abc_smc`);
2. each proposal runs ``seeds`` times with fresh seeds; its value is the mean over seeds and its
   distance the RMS, over fitted targets, of (model - published) in half-widths of the range;
3. every run goes through the run store, and every finished generation is written at once,
   so a killed calibration resumes from its last generation and reruns nothing it finished;
4. after the last generation: posterior-predictive runs (particles drawn by weight, fresh
   seeds, at ``predictive_scale``), a check that the reduced scale does not bias the statistics, and the tables.

Proposals, seeds and acceptance depend only on the configuration, so the posterior is the
same on one core, a process pool or a Dask cluster.

This module is the job and the SMC step; a run and its store key are in
:mod:`.calibration_tasks`, the generation files in :mod:`.calibration_records`, and step 4 in
:mod:`.calibration_checks`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import abc_smc
from .calibration_checks import _noise_pilot, _predictive, _predictive_tables, _scale_check, _tables
from .calibration_config import Calibration
from .calibration_records import Generation, _read_generations, _stopped, _write_generation, equal_weights
from .calibration_tasks import (
    _SEED_SPACE,
    CalibrationRun,
    _evaluate,
    _rng,
    _say,
    calibration_task,
    gaussian_toy,
    make_tasks,
)

# Moved to their own modules, still named from here: experiment and calibration files refer to
# ``simulation.research.calibration:gaussian_toy``, and tests and scripts import the rest from here.
__all__ = [
    "CalibrationRun",
    "Generation",
    "calibration_task",
    "equal_weights",
    "gaussian_toy",
    "make_tasks",
    "run_calibration",
    "walk_scale",
]


def _first_generation(cal, executor, store, fit, runs_left) -> Generation | None:
    """``particles`` draws from the prior (or the ``start_from`` population), all kept (tolerance infinite)."""
    n = cal.particles
    if n * cal.seeds > runs_left:
        return None
    rng = _rng(cal, 0, 0)
    theta = cal.prior.sample(rng, n)  # drawn either way, so that the run seeds do not depend on start_from
    if cal.start_from is not None:
        theta = cal.start_from.copy()
    seeds = rng.integers(0, _SEED_SPACE, size=(n, cal.seeds))
    vals = _evaluate(cal, theta, seeds, executor, store)
    d = abc_smc.distance(vals[:, fit.index], *fit.bounds)
    return Generation(theta, d, vals, np.inf, n, n * cal.seeds, 1.0, 0, np.ones(n, dtype=np.int64))


def walk_scale(acceptances: list[float], cap: float = 1.0) -> float:
    """The random walk's variance factor after generations with these move acceptances: halved
    after a generation accepting under 5% of moves, so that a tolerance closing in does not
    freeze the particles in place; doubled (up to ``cap``) after one above 40%, so that a
    population that has collapsed onto a narrow ridge still takes steps long enough to move
    along it (``max_walk_scale``)."""
    c = 1.0
    for a in acceptances:
        if a < 0.05:
            c /= 2
        elif a > 0.4:
            c = min(cap, 2 * c)
    return c


def _next_generation(cal, t, prev, executor, store, fit, runs_left, progress, walk_scale=1.0) -> Generation | None:
    """Keep the best ``epsilon_quantile`` share, resample the rest from them and move those by
    Metropolis-Hastings steps within the new tolerance. None when the run budget ends first."""
    n = cal.particles
    n_keep = min(n - 1, max(2, round(cal.epsilon_quantile * n)))
    order = np.argsort(prev.distances, kind="stable")
    keep = order[:n_keep]
    values, distances, evaluations, runs = prev.values, prev.distances, prev.evaluations, 0
    if cal.reseed_kept:
        if n_keep * cal.seeds > runs_left:
            return None
        values, distances, evaluations = _reseed(cal, t, prev, keep, executor, store, fit)
        runs = n_keep * cal.seeds
    epsilon = float(distances[keep].max())
    refill = _rng(cal, t, 0).choice(keep, size=n - n_keep, replace=True)
    source = np.concatenate([keep, refill])
    theta, d, vals, batches = prev.theta[source], distances[source], values[source], evaluations[source]  # copies
    moving = np.arange(n_keep, n)
    cov = abc_smc.mcmc_covariance(prev.theta[keep], cal.prior) * walk_scale
    proposals = accepted = 0
    steps, planned = 0, 1
    t0 = time.perf_counter()
    while steps < planned:
        rng = _rng(cal, t, steps + 1)
        prop, log_ratio = abc_smc.random_walk(rng, theta[moving], cov, cal.prior)
        passes_prior = np.log(rng.random(len(moving))) < log_ratio  # tested first: no run needed to refuse
        seeds = rng.integers(0, _SEED_SPACE, size=(len(moving), cal.seeds))
        todo = np.flatnonzero(passes_prior)
        if runs + len(todo) * cal.seeds > runs_left:
            return None
        ok = np.zeros(len(moving), dtype=bool)
        if len(todo):
            v = _evaluate(cal, prop[todo], seeds[todo], executor, store)
            dist = abc_smc.distance(v[:, fit.index], *fit.bounds)
            good = dist <= epsilon
            ok[todo[good]] = True
            d[moving[todo[good]]] = dist[good]
            vals[moving[todo[good]]] = v[good]
            batches[moving[todo[good]]] = 1
        theta[moving[ok]] = prop[ok]
        proposals += len(moving)
        accepted += int(ok.sum())
        runs += len(todo) * cal.seeds
        steps += 1
        if steps == 1:
            planned = abc_smc.steps_needed(accepted / proposals, cap=cal.mcmc_steps)
        if progress:
            _say(
                f"  generation {t}: tolerance {epsilon:.3g}, step {steps}/{planned}: {int(ok.sum())}/{len(moving)} "
                f"moves accepted ({runs} runs, {time.perf_counter() - t0:.0f} s)"
            )
    acceptance = accepted / proposals
    return Generation(theta, d, vals, epsilon, proposals, runs, acceptance, steps, batches)


def _reseed(cal, t, prev: Generation, keep: np.ndarray, executor, store, fit):
    """(values, distances, evaluations) of ``prev`` after its kept particles ran again on fresh
    seeds: each one's value becomes the mean over every seed it has run on. Without this, a
    particle kept for a lucky draw keeps that draw, and the population fills with luck
    (measured: 1.05 on the particles' own seeds, 1.41 on fresh ones)."""
    seeds = np.random.default_rng([cal.seed, t, 0, 1]).integers(0, _SEED_SPACE, size=(len(keep), cal.seeds))
    fresh = _evaluate(cal, prev.theta[keep], seeds, executor, store)
    k = prev.evaluations[keep]
    old = prev.values[keep]
    pooled = np.where(np.isnan(fresh), old, (old * k[:, None] + fresh) / (k[:, None] + 1))
    values, distances, evaluations = prev.values.copy(), prev.distances.copy(), prev.evaluations.copy()
    values[keep] = pooled
    distances[keep] = abc_smc.distance(pooled[:, fit.index], *fit.bounds)
    evaluations[keep] = k + 1
    return values, distances, evaluations


@dataclass(frozen=True)
class _Fit:
    """The fitted targets: their columns in the targets table, their published ranges and the
    simulation noise of a particle's value (the mean over its seeds)."""

    index: np.ndarray
    bounds: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # value, low, high, noise sd


def run_calibration(cal: Calibration, out: Path, executor, *, command: list[str] | None = None, progress=True):
    """Run (or resume) the calibration; write generations as they finish, then the results."""
    from . import store as st

    out = Path(out)
    store = st.RunStore(out / "runs")
    env = st.environment()
    identity = cal.identity()
    job = st.sha256_json(identity)
    started = datetime.now(UTC).isoformat()
    previous = store.open({"kind": "calibration", "job_sha256": job, "started": started, **env})
    gens = _stopped(_read_generations(out, cal), cal) if previous else []
    if gens and previous.get("job_sha256") != job:
        raise ValueError(
            f"--out {out}: holds a calibration of a different configuration (targets, priors, seeds or model "
            "changed); use a new --out, or delete that directory"
        )
    if gens and previous.get("code_sha256") != env["code_sha256"]:
        raise ValueError(
            f"--out {out}: holds generations that other code produced (the package's files changed since); "
            "use a new --out, or delete that directory"
        )
    fit_idx = np.flatnonzero(cal.targets["role"].to_numpy() == "fit")
    noise = _noise_pilot(cal, executor, store, progress)
    published = tuple(cal.targets.iloc[fit_idx][c].to_numpy(float) for c in ("value", "low", "high"))
    fit = _Fit(fit_idx, (*published, noise["sd_of_particle_mean"].to_numpy()[fit_idx]))
    if gens and progress:
        _say(f"resuming after generation {len(gens) - 1} ({sum(g.runs for g in gens)} runs done)")
    stop = "generations"
    t0 = time.perf_counter()
    while len(gens) < cal.generations:
        t = len(gens)
        if gens and t > 1 and gens[-1].acceptance < cal.min_acceptance:
            stop = "acceptance"
            break
        runs_left = cal.max_runs - sum(g.runs for g in gens)
        if not gens:
            g = _first_generation(cal, executor, store, fit, runs_left)
        else:
            scale = walk_scale([g.acceptance for g in gens[1:]], cal.max_walk_scale)
            g = _next_generation(cal, t, gens[-1], executor, store, fit, runs_left, progress, scale)
        if g is None:
            stop = "max_runs"
            break
        _write_generation(out, t, cal, g)
        gens.append(g)
        if progress:
            in_range = np.mean(np.abs(_z(cal, g.values, fit_idx)) <= 1, axis=0)  # by the published range alone
            _say(
                f"generation {t} done: tolerance {g.epsilon:.3g}, move acceptance {g.acceptance:.0%}, "
                f"{len(np.unique(g.theta, axis=0))} distinct particles, median distance {np.median(g.distances):.3g}, "
                f"targets in range for half the particles: {int(np.sum(in_range >= 0.5))}/{len(fit_idx)}"
            )
    if not gens:
        raise ValueError(f"max_runs = {cal.max_runs} is too small for one generation ({cal.particles} particles)")
    final = gens[-1]
    predictive = _predictive(cal, final, len(gens) - 1, executor, store, progress)
    every_draw = _predictive_tables(cal, final, len(gens) - 1, executor, store, progress, predictive)
    scale_check = _scale_check(cal, executor, store, progress) if cal.scale_check else None
    tables = _tables(cal, gens, final, predictive, every_draw, scale_check)
    tables["noise"] = noise
    for name, table in tables.items():
        st.write_table(table, out, name)
    manifest = {
        "kind": "calibration",
        "name": cal.name,
        "config_file": str(cal.path),
        "config": cal.raw,
        "job_sha256": job,
        "identity": identity,
        "parameters": list(cal.prior.names),
        "generations": len(gens),
        "stopped_by": stop,
        "runs": int(sum(g.runs for g in gens)),
        "predictive_runs": cal.predictive,
        "predictive_scale": cal.predictive_scale,
        "start_from": _start_from_record(cal),
        "command": command,
        "executor": executor.describe(),
        "environment": env,
        "git_commit": env["git_commit"],
        "resumed": bool(previous),
        "started": previous.get("started", started) if previous else started,
        "finished": datetime.now(UTC).isoformat(),
        "wall_seconds_this_time": round(time.perf_counter() - t0, 1),
    }
    st.write_json(manifest, out / "manifest.json")
    return tables, manifest


def _start_from_record(cal: Calibration) -> dict | None:
    if cal.start_from is None:
        return None
    return {
        "file": str(cal.raw["start_from"]),
        "sha256": cal.start_from_sha256,
        "particles": len(cal.start_from),
        "distinct": len(np.unique(cal.start_from, axis=0)),
    }


def _z(cal: Calibration, values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    t = cal.targets.iloc[idx]
    return abc_smc.standardised_residuals(values[:, idx], *(t[c].to_numpy(float) for c in ("value", "low", "high")))
