"""After the fit: the noise pilot, the posterior predictive, the scale check and the result tables.

These judge a posterior rather than move it (the noise pilot only sets the distance's noise
term before generation 0), and their seeds are set apart from the generations' draws, so a
check never repeats the runs a particle was selected on. Kept apart so the SMC loop reads as the algorithm.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from simulation.policy.posterior import summarise

from .calibration_config import Calibration
from .calibration_records import Generation, equal_weights
from .calibration_tasks import _SEED_SPACE, _say, _values, make_tasks
from .executors import run_tasks


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
