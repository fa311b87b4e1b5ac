"""ABC-SMC calibration as a resumable job on the sweep executors.

``school-exit calibrate CONFIG.toml --out DIR`` calls :func:`run_calibration`:

1. generation 0 draws ``particles`` parameter sets from the prior (or, with ``start_from``, takes
   an earlier posterior: a warm start that runs on with new settings); each later generation keeps
   the best ``epsilon_quantile`` share (the tolerance is the largest distance kept), resamples
   the rest from them and moves those by Metropolis-Hastings steps that must stay within the
   tolerance (:mod:`simulation.abc_smc`);
2. each proposal runs ``seeds`` times with fresh seeds; its value is the mean over seeds and its
   distance the RMS, over fitted targets, of (model - published) in half-widths of the range;
3. every run goes through the run store, and every finished generation is written at once,
   so a killed calibration resumes from its last generation and reruns nothing it finished;
4. after the last generation: posterior-predictive runs (particles drawn by weight, fresh
   seeds, at ``predictive_scale``), a check that the reduced scale does not bias the statistics, and the tables.

Proposals, seeds and acceptance depend only on the configuration, so the posterior is the
same on one core, a process pool or a Dask cluster.
"""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.policy.posterior import summarise

from . import abc_smc
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


def _model_id(cal: Calibration) -> dict:
    return cal.identity()["model"]


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


# --- the job -----------------------------------------------------------------------------


def equal_weights(n: int) -> np.ndarray:
    """Replenishment ABC-SMC weighs every particle the same; the posterior file still carries weights."""
    return np.full(n, 1.0 / n)


@dataclass
class Generation:
    theta: np.ndarray
    distances: np.ndarray
    values: np.ndarray  # particles x targets (mean over seeds)
    epsilon: float
    proposals: int
    runs: int
    acceptance: float  # share of MCMC moves accepted (1 for the prior draws)
    steps: int  # MCMC steps
    evaluations: np.ndarray  # seed batches behind each particle's value (more than 1 only with reseed_kept)


def _write_generation(out: Path, t: int, cal: Calibration, g: Generation) -> None:
    from .store import write_json, write_table

    df = pd.DataFrame(g.theta, columns=list(cal.prior.names))
    df.insert(0, "evaluations", g.evaluations)
    df.insert(0, "distance", g.distances)
    df.insert(0, "weight", equal_weights(len(df)))
    df.insert(0, "particle", np.arange(len(df)))
    vals = pd.DataFrame(g.values, columns=[f"value:{i}" for i in cal.targets["id"]])
    write_table(pd.concat([df, vals], axis=1), out / "generations", f"gen_{t:02d}")
    meta = {
        "epsilon": g.epsilon,
        "proposals": g.proposals,
        "runs": g.runs,
        "acceptance": g.acceptance,
        "steps": g.steps,
    }
    write_json(meta, out / "generations" / f"gen_{t:02d}.json")


def _read_generations(out: Path, cal: Calibration) -> list[Generation]:
    import json

    gens = []
    t = 0
    while (out / "generations" / f"gen_{t:02d}.json").is_file():
        df = pd.read_parquet(out / "generations" / f"gen_{t:02d}.parquet")
        meta = json.loads((out / "generations" / f"gen_{t:02d}.json").read_text())
        cols = [f"value:{i}" for i in cal.targets["id"]]
        gens.append(
            Generation(
                df[list(cal.prior.names)].to_numpy(float),
                df["distance"].to_numpy(float),
                df[cols].to_numpy(float),
                float(meta["epsilon"]),
                int(meta["proposals"]),
                int(meta["runs"]),
                float(meta["acceptance"]),
                int(meta["steps"]),
                df["evaluations"].to_numpy(np.int64) if "evaluations" in df else np.ones(len(df), np.int64),
            )
        )
        t += 1
    return gens


def _stopped(gens: list[Generation], cal: Calibration) -> list[Generation]:
    """The generations a job with these stopping rules would have kept: a resumed job whose
    rules were tightened ends where a fresh one would have (the later files stay on disk)."""
    gens = gens[: cal.generations]
    for t in range(2, len(gens)):
        if gens[t - 1].acceptance < cal.min_acceptance:
            return gens[:t]
    return gens


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _evaluate(cal, theta, seeds, executor, store) -> np.ndarray:
    """Mean over seeds of every target's value, per proposal (NaN if every seed failed)."""
    tasks = make_tasks(cal, theta, seeds)
    run_tasks(tasks, executor, store=store, progress=False)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all seeds of a proposal failed: NaN, rejected
        return np.nanmean(_values(store, tasks, len(theta), cal.seeds, list(cal.targets["id"])), axis=1)


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


def _run_each(cal, thetas, seeds, executor, store, progress, what: str, scenario=None) -> np.ndarray:
    """One run per row (``None``: the scenario's own parameters), with a progress line:
    the values as (runs, targets)."""
    tasks = make_tasks(cal, thetas, seeds, scenario=scenario)
    if progress:
        _say(f"{what}: {len(tasks)} runs")
    run_tasks(tasks, executor, store=store, progress=progress, desc=what)
    return _values(store, tasks, len(tasks), 1, list(cal.targets["id"]))[:, 0, :]


def _noise_pilot(cal: Calibration, executor, store, progress) -> pd.DataFrame:
    """Each statistic's simulation noise: its standard deviation over ``noise_runs`` seeds at the
    scenario's parameters, divided by sqrt(seeds) for a particle's mean. Rare-event ratios (an
    exclusion rate ratio from 26 exclusions a year at quarter scale) move by several published
    half-widths from seed to seed; without this the fit rewards parameter sets for lucky draws."""
    n = cal.noise_runs
    if n < 2:
        sd = np.zeros(len(cal.targets))
    else:
        seeds = np.random.default_rng([cal.seed, 10**6 + 1]).integers(0, _SEED_SPACE, size=(n, 1))
        at = [None] * n  # the scenario's parameters; a function model has none: the prior's centre
        if cal.function is not None:
            at = np.tile((cal.prior.low + cal.prior.high) / 2, (n, 1))
        values = _run_each(cal, at, seeds, executor, store, progress, "noise pilot")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            sd = np.nanstd(values, axis=0, ddof=1)
    sd = np.nan_to_num(sd, nan=0.0)
    t = cal.targets
    return pd.DataFrame(
        {
            "id": t["id"],
            "role": t["role"],
            "runs": n,
            "sd_one_run": sd,
            "sd_of_particle_mean": sd / np.sqrt(cal.seeds),
            "published_halfwidth": ((t["high"] - t["low"]) / 2).to_numpy(float),
        }
    )


def _predictive(cal: Calibration, final: Generation, generation: int, executor, store, progress) -> np.ndarray:
    """Posterior-predictive values (draws x targets): particles by weight, one fresh seed each
    (seeds named by the final generation, so they are fresh for every posterior).

    They run at ``predictive_scale``: the fit may run small to save time, but the predictive is
    what a scenario at that scale would report. A rate from a few events cannot be judged small:
    at quarter scale the LA has about 10 tribunal hearings a year, so a year's win rate is 90%
    or 100%, never inside the published 96-99%."""
    return _predictive_at(cal, final, generation, executor, store, progress, cal.predictive_scale)


def _predictive_at(cal, final, generation, executor, store, progress, scale) -> np.ndarray:
    """The posterior-predictive runs at one scale: the same draws and seeds at any scale."""
    n = cal.predictive
    if n == 0:
        return np.empty((0, len(cal.targets)))
    rng = np.random.default_rng([cal.seed, 10**6, generation])
    w = equal_weights(len(final.theta))
    idx = rng.choice(len(final.theta), size=n, p=w / w.sum())
    seeds = rng.integers(0, _SEED_SPACE, size=(n, 1))
    scenario = None if scale is None else cal.scenario.with_(scale=scale)
    what = "posterior predictive" + ("" if scale is None else f" at scale {scale:g}")
    return _run_each(cal, final.theta[idx], seeds, executor, store, progress, what, scenario=scenario)


def _predictive_tables(cal, final, generation, executor, store, progress, headline: np.ndarray) -> pd.DataFrame:
    """Every posterior-predictive run, by scale: the headline scale's runs and, when that is not
    the calibration's own, the same draws and seeds at the calibration scale too (cheap), so that
    a test can check the committed posterior at the small scale it was fitted at."""
    own = None if cal.scenario is None else cal.scenario.scale
    parts = [(cal.predictive_scale, headline)]
    if own != cal.predictive_scale and len(headline):
        parts.append((own, _predictive_at(cal, final, generation, executor, store, progress, own)))
    frames = []
    for scale, values in parts:
        df = pd.DataFrame(values, columns=list(cal.targets["id"]))
        df.insert(0, "scale", scale)
        df.insert(0, "draw", np.arange(len(df)))
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _scale_check(cal: Calibration, executor, store, progress) -> pd.DataFrame:
    """At the scenario's parameters: the calibration scale against a larger one, same seeds, per
    target; a bias shows as a difference large against its standard error."""
    big, n = cal.scale_check
    seeds = np.arange(n).reshape(-1, 1) + cal.seed
    rows = {}
    for label, scale in (("calibration_scale", cal.scenario.scale), ("larger_scale", big)):
        scen = cal.scenario.with_(scale=scale)
        what = f"scale check at scale {scale:g}"
        rows[label] = _run_each(cal, [None] * n, seeds, executor, store, progress, what, scenario=scen)
    small, large = rows["calibration_scale"], rows["larger_scale"]
    t = cal.targets
    diff = np.nanmean(small, 0) - np.nanmean(large, 0)
    se = np.sqrt(np.nanvar(small, 0, ddof=1) / n + np.nanvar(large, 0, ddof=1) / n)
    half = (t["high"] - t["low"]).to_numpy(float) / 2
    return pd.DataFrame(
        {
            "id": t["id"],
            "metric": t["metric"],
            "role": t["role"],
            "scale": cal.scenario.scale,
            "larger_scale": big,
            "seeds": n,
            "mean_at_scale": np.nanmean(small, 0),
            "mean_at_larger_scale": np.nanmean(large, 0),
            "difference": diff,
            "difference_se": se,
            "difference_over_halfwidth": diff / half,
            "z": diff / np.where(se > 0, se, np.nan),
        }
    )


def _tables(cal, gens, final, predictive, every_draw, scale_check) -> dict[str, pd.DataFrame]:
    names = list(cal.prior.names)
    posterior = pd.DataFrame(final.theta, columns=names)
    posterior.insert(0, "distance", final.distances)
    posterior.insert(0, "weight", equal_weights(len(posterior)))
    posterior.insert(0, "particle", np.arange(len(posterior)))
    summary = summarise(
        names,
        final.theta,
        equal_weights(len(final.theta)),
        cal.prior.low,
        cal.prior.high,
        start=gens[0].theta if cal.start_from is not None else None,  # warm start: did the fit narrow it?
    )
    history = pd.DataFrame(
        [
            {
                "generation": t,
                "epsilon": g.epsilon,
                "particles": len(g.theta),
                "distinct_particles": len(np.unique(g.theta, axis=0)),
                "mcmc_steps": g.steps,
                "proposals": g.proposals,
                "runs": g.runs,
                "move_acceptance": g.acceptance,
                "median_distance": float(np.median(g.distances)),
            }
            for t, g in enumerate(gens)
        ]
    )
    t = cal.targets
    rows = []
    for j, row in enumerate(t.itertuples(index=False)):
        v = predictive[:, j] if len(predictive) else np.array([])
        v = v[np.isfinite(v)]
        med, p5, p95 = np.percentile(v, [50, 5, 95]) if len(v) else (np.nan,) * 3
        in_range = bool(row.low <= med <= row.high) if np.isfinite(med) else False
        rows.append(
            {
                "id": row.id,
                "role": row.role,
                "metric": row.metric,
                "value": row.value,
                "low": row.low,
                "high": row.high,
                "predictive_median": med,
                "predictive_p5": p5,
                "predictive_p95": p95,
                "in_range": in_range,
                "n_runs": len(v),
                "scale": cal.predictive_scale,
                "unit": row.unit,
                "period": row.period,
            }
        )
    tables = {"posterior": posterior, "posterior_summary": summary, "history": history, "fit": pd.DataFrame(rows)}
    if len(predictive):
        tables["predictive"] = every_draw
    if scale_check is not None:
        tables["scale_check"] = scale_check
    return tables
