"""Sensitivity sweeps: sample with SALib, run every point on common seeds, analyse, tell signal from noise.

``school-exit sweep EXPERIMENT.toml --out DIR`` calls :func:`run_sweep`:

1. load and check the experiment (:mod:`simulation.research.experiment`); sample the design;
   check every point; nothing is written before this passes;
2. run every (point, seed) and the base-point noise runs through the run store, on any
   executor (a killed sweep resumes where it stopped);
3. analyse each output: Morris mu*, mu and sigma with a bootstrap interval for mu*, or Sobol
   first-order and total indices with bootstrap intervals (SALib), on the mean over seeds;
4. beside the indices, the seed noise: the share of the analysed output's variance that is
   noise, and the spread of each index across seeds; an output whose share is above
   :data:`NOISE_SHARE_THRESHOLD` is warned about (:func:`noise_warnings`);
5. write ``samples``, ``results``, ``indices`` and ``noise`` tables, figures and a manifest.

Before a sweep, :func:`time_one_run` times a short run in process so that ``sweep --dry-run``
can say how long the sweep will take.

Seeds are common to every point (point i, seed s runs with seed ``seed + s``), so the
difference between two points is the parameters, not the dice. A run that fails (or an
output that is missing) leaves a hole; the analysis drops the Morris trajectories or Sobol
blocks with a hole and says how many it used.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .executors import JobReport, Task, auto_chunk_size, run_tasks
from .experiment import Experiment, check_points, load_experiment, resolve_function, sample

NOISE_POINT = -1  # ``point`` of the base-point noise runs in the results table

NOISE_SHARE_THRESHOLD = 0.20
"""Above this share of seed noise in an output's variance across points, its indices partly
describe the dice: the sweep warns, the noise figure marks it, experiments/README.md cites it."""


@dataclass(frozen=True)
class SweepRun:
    """The argument of one sweep task."""

    function: str | None  # "module:function", or None for the school-exit model
    scenario: object  # the Scenario (school-exit model)
    params: dict
    seed: int


def sweep_task(run: SweepRun) -> dict[str, float]:
    """One (point, seed): every output of the model, as floats."""
    if run.function is None:
        from .runner import simulate

        return simulate(run.params, run.seed, scenario=run.scenario)
    out = resolve_function(run.function)(dict(run.params), run.seed)
    if not isinstance(out, dict):
        raise TypeError(f"{run.function} returned {type(out).__name__}, not a dict of outputs")
    return {str(k): float(v) for k, v in out.items()}


def _model_id(exp: Experiment) -> dict:
    if exp.function is not None:
        return {"function": exp.function}
    from .runner import model_identity

    return {"scenario": model_identity(exp.scenario)}


def sweep_tasks(exp: Experiment, points: pd.DataFrame) -> tuple[list[Task], pd.DataFrame]:
    """Tasks for every (point, seed) and the noise runs, and the run index (point, seed, key)."""
    from .store import code_version, sha256_json

    model = _model_id(exp)
    version = code_version()
    rows, tasks = [], []

    def add(point: int, params: dict, seed: int) -> None:
        key = "sw-" + sha256_json({"model": model, "params": params, "seed": seed, "version": version})[:24]
        rows.append({"point": point, "seed": seed, "key": key})
        tasks.append(Task(key, sweep_task, SweepRun(exp.function, exp.scenario, params, seed)))

    records = points[list(exp.names)].to_dict("records")
    for i, rec in enumerate(records):
        params = {n: (int(v) if exp.integer[j] else float(v)) for j, (n, v) in enumerate(rec.items())}
        for s in range(exp.seeds):
            add(i, params, exp.seed + s)
    base = {n: (int(v) if exp.integer[j] else float(v)) for j, (n, v) in enumerate(exp.base.items())}
    for s in range(exp.noise_seeds):
        add(NOISE_POINT, base, exp.seed + s)
    return tasks, pd.DataFrame(rows)


def collect(exp: Experiment, index: pd.DataFrame, store) -> pd.DataFrame:
    """The ``results`` table: one row per (point, seed) with status and outputs (NaN if failed)."""
    done = store.done_keys()
    failed = store.failures()
    rows = []
    for rec in index.to_dict("records"):
        row = {**rec, "status": "ok"}
        if rec["key"] in done:
            values = store.load(rec["key"])["value"]
            for out in exp.outputs:
                row[out] = float(values.get(out, np.nan))
        else:
            row["status"] = "failed" if rec["key"] in failed else "missing"
            row.update({out: np.nan for out in exp.outputs})
        rows.append(row)
    return pd.DataFrame(rows, columns=["point", "seed", "key", "status", *exp.outputs])


# --- the job ----------------------------------------------------------------------------


@dataclass
class Sweep:
    """A checked experiment, its design and its tasks: everything before the first run."""

    exp: Experiment
    X: np.ndarray
    points: pd.DataFrame
    tasks: list[Task]
    index: pd.DataFrame  # point, seed, key


def prepare(
    path: str | Path, *, samples: int | None = None, scale: float | None = None, years: int | None = None
) -> Sweep:
    """Load (with the command line's overrides), sample and check; raises ExperimentError (nothing is written)."""
    exp = load_experiment(path, samples=samples, scale=scale, years=years)
    X, points = sample(exp)
    check_points(exp, points)
    tasks, index = sweep_tasks(exp, points)
    return Sweep(exp, X, points, tasks, index)


@dataclass
class SweepResult:
    sweep: Sweep
    report: JobReport
    results: pd.DataFrame
    indices: pd.DataFrame
    noise: pd.DataFrame
    failures: dict[str, str] = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    warnings: list[dict] = field(default_factory=list)  # outputs whose seed noise is above the threshold


def run_sweep(sweep: Sweep, out: Path, executor, *, command: list[str] | None = None, plot=None) -> SweepResult:
    """Run what the store does not hold yet, then analyse everything and write the outputs.

    ``plot``, if given, draws the figures: ``plot(exp, indices, noise, folder)`` returns
    ``{figure: {format: path}}`` (the command line passes :func:`simulation.present.figures.sweep_figures`;
    research does not import the presentation layer)."""
    from . import store as st

    exp = sweep.exp
    out = Path(out)
    store = st.RunStore(out / "runs")
    env = st.environment()
    spec = {
        "experiment": exp.raw,
        "experiment_file": str(exp.path),
        "experiment_sha256": st.sha256_json(exp.raw),
        "overrides": exp.overrides,  # --samples, --scale, --years: part of the job's identity
        "model": _model_id(exp),
        "parameters": list(exp.names),
        "runs": len(sweep.tasks),
    }
    started = datetime.now(UTC).isoformat()
    job_sha256 = st.sha256_json(spec)
    previous = store.open({**spec, "job_sha256": job_sha256, "started": started, **env})
    if previous and previous.get("code_sha256") != env["code_sha256"]:
        import sys

        print(
            f"note: {out} holds runs that other code made (the package's files changed since); "
            "their keys differ, so none is reused: every run is done again",
            file=sys.stderr,
        )
    elif previous and previous.get("job_sha256") != job_sha256:
        import sys

        before = previous.get("overrides") or "none"
        print(
            f"note: {out} holds runs of another sweep (overrides then: {before}; now: {exp.overrides or 'none'}); "
            "only runs with the same model, parameters and seed are reused, and the tables hold this sweep's "
            "runs only",
            file=sys.stderr,
        )
    chunk = exp.chunk_size or auto_chunk_size(len(sweep.tasks), executor.workers, cheap=exp.function is not None)
    report = run_tasks(sweep.tasks, executor, store=store, chunk_size=chunk, desc=exp.name)
    t0 = time.perf_counter()
    results = collect(exp, sweep.index, store)
    indices, noise = analyse(exp, sweep.X, results)
    failures = {k: v for k, v in store.failures().items() if k in set(sweep.index["key"])}
    for name, table in (("samples", sweep.points), ("results", results), ("indices", indices), ("noise", noise)):
        st.write_table(table, out, name)
    warned = noise_warnings(noise)
    figures = {}
    if plot is not None:
        figures = plot(exp, indices, noise, out / "figures")
    manifest = {
        **spec,
        "command": command,
        "executor": executor.describe(),
        "environment": env,
        "package_version": env["package_version"],
        "git_commit": env["git_commit"],
        "resumed": report.already_done > 0,  # finished runs of this same code were reused
        "started": started,
        "finished": datetime.now(UTC).isoformat(),
        "runs_total": report.total,
        "runs_already_done": report.already_done,
        "runs_this_time": report.ran,
        "runs_failed": len(failures),
        "failed_keys": sorted(failures),
        "wall_seconds": round(report.wall_seconds, 3),
        "run_cpu_seconds": round(report.run_seconds, 3),
        "analysis_seconds": round(time.perf_counter() - t0, 3),
        "tables": ["samples", "results", "indices", "noise"],
        "figures": {k: {e: str(p.relative_to(out)) for e, p in v.items()} for k, v in figures.items()},
        "noise_share_threshold": NOISE_SHARE_THRESHOLD,
        "noise_warnings": warned,
    }
    st.write_json(manifest, out / "manifest.json")
    return SweepResult(sweep, report, results, indices, noise, failures, figures, warned)


def noise_warnings(noise: pd.DataFrame, threshold: float = NOISE_SHARE_THRESHOLD) -> list[dict]:
    """The outputs whose seed-noise share is above ``threshold``: their indices partly describe the dice."""
    return [
        {"output": str(r["output"]), "noise_share": float(r["noise_share"]), "threshold": threshold}
        for _, r in noise.iterrows()
        if np.isfinite(r["noise_share"]) and r["noise_share"] > threshold
    ]


def noise_warning_text(warning: dict, *, school_exit: bool = True) -> str:
    """One line for stderr: which output, how noisy, and what to do about it."""
    remedy = "seeds per point (seeds in the experiment file)"
    if school_exit:  # --years and --scale do not apply to a module:function model
        remedy += ", evaluation years (--years) or pupils (--scale)"
    return (
        f"warning: seed noise is {100 * warning['noise_share']:.1f}% of the variance of {warning['output']} "
        f"across points, above the {100 * warning['threshold']:.0f}% at which its indices are unreliable "
        f"(experiments/README.md); add {remedy}"
    )


def mu_star_bounds(mu_star, half_width) -> tuple[np.ndarray, np.ndarray]:
    """The interval ``mu* +- half_width``, its lower end clipped at 0.

    mu* is a mean of absolute values, so it cannot be negative; SALib's symmetric bootstrap
    half-width can reach below 0 when mu* is small, and a bar there would claim what cannot be."""
    mu = np.asarray(mu_star, dtype=float)
    half = np.asarray(half_width, dtype=float)
    return np.maximum(mu - half, 0.0), mu + half


def top_table(result: SweepResult, n: int = 5) -> str:
    """The few parameters that matter most for each output, and the noise share, as text."""
    exp, idx = result.sweep.exp, result.indices
    value, conf = ("mu_star", "mu_star_conf") if exp.method == "morris" else ("ST", "ST_conf")
    lines = []
    for _, nrow in result.noise.iterrows():
        out = nrow["output"]
        top = idx[idx["output"] == out].sort_values("rank").head(n)
        share = nrow["noise_share"]
        if not np.isfinite(share):
            lines.append(out)
        else:
            above = (
                f" (above {100 * NOISE_SHARE_THRESHOLD:.0f}%: read with care)" if share > NOISE_SHARE_THRESHOLD else ""
            )
            lines.append(f"{out}: seed noise {100 * share:.1f}% of variance across points{above}")
        for _, r in top.iterrows():
            if value == "mu_star":  # mu* >= 0: show the clipped interval, not a symmetric +-
                low, high = mu_star_bounds(r[value], r[conf])
                spread = f"(95%: {float(low):.2g} to {float(high):.2g})"
            else:
                spread = f"+- {r[conf]:.2g}"
            lines.append(f"  {r['rank']:>3}  {r['parameter']:<32} {r['kind']:<11} {value} {r[value]:.4g} {spread}")
    return "\n".join(lines)


# --- sizing a sweep before it runs ------------------------------------------------------


def _years(n: int) -> str:
    return f"{n} evaluation year{'s' if n != 1 else ''}"


def time_one_run(exp: Experiment, budget_seconds: float = 8.0) -> tuple[float, str]:
    """Seconds one run of the sweep takes on one core, and what was timed, from a short run in this process.

    The school-exit model runs at the sweep's scale for one evaluation year (no burn-in, the
    base point), twice if that is quick (the first run also pays for lazy imports), and the
    faster time is scaled to the sweep's burn-in plus evaluation years. A function model is
    called at the base point for about half a second. Used by ``sweep --dry-run``."""
    base = {n: (int(v) if exp.integer[j] else float(v)) for j, (n, v) in enumerate(exp.base.items())}
    if exp.function is not None:
        fn = resolve_function(exp.function)
        calls, t0 = 0, time.perf_counter()
        while True:
            fn(dict(base), exp.seed)
            calls += 1
            elapsed = time.perf_counter() - t0
            if calls >= 1000 or elapsed > min(0.5, budget_seconds):
                return elapsed / calls, f"{calls} calls of {exp.function} at the base point took {elapsed:.2f} s"
    from .runner import run

    sc = exp.scenario
    # one year unless an intervention starts later (a scenario refuses a horizon before it)
    timed = min(sc.years, max([1, *(iv.start_year + 1 for iv in sc.interventions)]))
    short = sc.with_(parameters={**sc.parameters, **base}, posterior=None, years=timed, burn_in=0)
    times: list[float] = []
    while len(times) < 2 and sum(times) < budget_seconds / 3:
        t0 = time.perf_counter()
        run(short, seed=exp.seed)
        times.append(time.perf_counter() - t0)
    total = sc.burn_in + sc.years
    per_run = min(times) * total / timed
    what = (
        f"{_years(timed)} at scale {sc.scale:g} took {min(times):.2f} s "
        "in this process "
        f"(best of {len(times)}), so one run of {sc.burn_in} burn-in + {_years(sc.years)} takes "
        f"about {per_run:.2f} s"
    )
    return per_run, what


# --- analysis ---------------------------------------------------------------------------


def _by_point(results: pd.DataFrame, output: str, n_points: int, seeds: list[int]) -> np.ndarray:
    """Output as a (points x seeds) array, NaN where a run failed."""
    table = results[results["point"] >= 0].pivot(index="point", columns="seed", values=output)
    return table.reindex(index=range(n_points), columns=seeds).to_numpy(dtype=float)


def _complete_blocks(y: np.ndarray, block: int) -> np.ndarray:
    """Rows of the blocks (Morris trajectories, Sobol blocks) in which every value is finite."""
    ok = np.isfinite(y).reshape(-1, block).all(axis=1)
    return np.repeat(ok, block)


def _morris(exp: Experiment, X: np.ndarray, y: np.ndarray) -> dict | None:
    from SALib.analyze import morris

    rows = _complete_blocks(y, exp.block)
    if rows.sum() < 2 * exp.block:
        return None
    res = morris.analyze(
        exp.problem, X[rows], y[rows], num_resamples=1000, conf_level=0.95, num_levels=exp.num_levels, seed=exp.seed
    )
    res["n_used"] = int(rows.sum() // exp.block)
    return res


def _sobol(exp: Experiment, y: np.ndarray) -> dict | None:
    from SALib.analyze import sobol

    rows = _complete_blocks(y, exp.block)
    if rows.sum() < 2 * exp.block or np.nanstd(y[rows]) == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = sobol.analyze(
            exp.problem, y[rows], calc_second_order=False, num_resamples=1000, conf_level=0.95, seed=exp.seed
        )
    res["n_used"] = int(rows.sum() // exp.block)
    return res


MORRIS_COLUMNS = ["mu_star", "mu_star_conf", "mu", "sigma", "mu_star_seed_se"]
SOBOL_COLUMNS = ["S1", "S1_conf", "ST", "ST_conf", "S1_seed_se", "ST_seed_se"]


def analyse(exp: Experiment, X: np.ndarray, results: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``indices`` and ``noise`` tables.

    Indices are computed on the mean over seeds at each point. ``*_conf`` is the half-width of
    SALib's 95% bootstrap interval. ``*_seed_se`` is the standard error of the index due to seed
    noise: the spread of the index computed seed by seed, over the square root of the seeds.
    """
    seeds = [exp.seed + s for s in range(exp.seeds)]
    n_points = len(X)
    index_rows, noise_rows = [], []
    for out in exp.outputs:
        y = _by_point(results, out, n_points, seeds)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ybar = np.nanmean(y, axis=1)
        per_seed = [y[:, s] for s in range(len(seeds))] if len(seeds) > 1 else []
        if exp.method == "morris":
            main = _morris(exp, X, ybar)
            extra = [r for r in (_morris(exp, X, ys) for ys in per_seed) if r is not None]
            cols = {"mu_star": "mu_star", "mu_star_conf": "mu_star_conf", "mu": "mu", "sigma": "sigma"}
            seed_se = {"mu_star_seed_se": "mu_star"}
        else:
            main = _sobol(exp, ybar)
            extra = [r for r in (_sobol(exp, ys) for ys in per_seed) if r is not None]
            cols = {"S1": "S1", "S1_conf": "S1_conf", "ST": "ST", "ST_conf": "ST_conf"}
            seed_se = {"S1_seed_se": "S1", "ST_seed_se": "ST"}
        for j, name in enumerate(exp.names):
            row = {"output": out, "parameter": name, "kind": exp.kinds[j], "method": exp.method}
            for col, key in cols.items():
                row[col] = float(np.asarray(main[key])[j]) if main else np.nan
            for col, key in seed_se.items():
                vals = [float(np.asarray(r[key])[j]) for r in extra]
                row[col] = float(np.std(vals, ddof=1) / np.sqrt(len(vals))) if len(vals) > 1 else np.nan
            row["n_used"] = main["n_used"] if main else 0
            index_rows.append(row)
        noise_rows.append(_noise_row(exp, out, y, ybar, results))
    indices = pd.DataFrame(index_rows)
    rank_by = "mu_star" if exp.method == "morris" else "ST"
    indices["rank"] = (
        indices.groupby("output")[rank_by].rank(ascending=False, method="min", na_option="bottom").astype(int)
    )
    return indices, pd.DataFrame(noise_rows)


def _noise_row(exp: Experiment, out: str, y: np.ndarray, ybar: np.ndarray, results: pd.DataFrame) -> dict:
    """How much of an output's variance is seed noise.

    ``var_seed`` is the variance across seeds at a fixed point: pooled over sample points when
    each point has two or more seeds, else measured at the base point. ``noise_share`` is the
    share of the variance across points of the analysed output (the mean over ``seeds`` seeds)
    that is noise: ``var_seed / seeds / var_between_points``. Near 0: the indices describe the
    parameters; near 1 or above: they describe the dice.
    """
    base = results.loc[results["point"] == NOISE_POINT, out].to_numpy(dtype=float)
    base = base[np.isfinite(base)]
    var_base = float(np.var(base, ddof=1)) if len(base) > 1 else np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        finite = np.isfinite(y).sum(axis=1) >= 2
        var_pooled = float(np.nanmean(np.nanvar(y[finite], axis=1, ddof=1))) if finite.any() else np.nan
        var_between = float(np.nanvar(ybar, ddof=1)) if np.isfinite(ybar).sum() > 1 else np.nan
        var_runs = float(np.nanvar(y, ddof=1)) if np.isfinite(y).sum() > 1 else np.nan
    var_seed = var_pooled if np.isfinite(var_pooled) else var_base
    share = var_seed / exp.seeds / var_between if var_between and np.isfinite(var_between) else np.nan
    return {
        "output": out,
        "n_points": int(np.isfinite(ybar).sum()),
        "seeds_per_point": exp.seeds,
        "mean": float(np.nanmean(ybar)) if np.isfinite(ybar).any() else np.nan,
        "var_between_points": var_between,
        "var_single_runs": var_runs,
        "var_seed_pooled": var_pooled,
        "var_seed_base": var_base,
        "base_mean": float(np.mean(base)) if len(base) else np.nan,
        "base_runs": len(base),
        "noise_share": share,
        "noise_share_single_run": var_seed / var_runs if var_runs and np.isfinite(var_runs) else np.nan,
    }


# --- a test function with a known answer -----------------------------------------------

# Ishigami & Homma (1990), a = 7, b = 0.1, x_i ~ U(-pi, pi): analytic first-order and total
# indices (Saltelli et al. 2008, Global Sensitivity Analysis: The Primer; SALib's test function).
_A, _B = 7.0, 0.1
_V1 = 0.5 * (1 + _B * np.pi**4 / 5) ** 2
_V2 = _A**2 / 8
_V13 = _B**2 * np.pi**8 * (1 / 18 - 1 / 50)
_V = _V1 + _V2 + _V13
ISHIGAMI_ANALYTIC = pd.DataFrame(
    {
        "parameter": ["x1", "x2", "x3"],
        "S1": [_V1 / _V, _V2 / _V, 0.0],
        "ST": [(_V1 + _V13) / _V, _V2 / _V, _V13 / _V],
    }
)


def ishigami(params: dict, seed: int) -> dict[str, float]:
    """SALib's Ishigami function as a sweep model: ``{"x1", "x2", "x3"}`` in, ``{"y"}`` out (seed unused)."""
    from SALib.test_functions import Ishigami

    x = np.array([[params["x1"], params["x2"], params["x3"]]], dtype=float)
    return {"y": float(Ishigami.evaluate(x, A=_A, B=_B)[0])}


def noisy_ishigami(params: dict, seed: int) -> dict[str, float]:
    """Ishigami plus noise of standard deviation 2 drawn from (seed, point): a known noise share.

    With ``S`` seeds per point the noise share of the mean over seeds is
    ``(4 / S) / (V + 4 / S)``, ``V`` being Ishigami's variance (about 13.84)."""
    from .store import sha256_json

    point = int(sha256_json(params)[:15], 16)
    rng = np.random.default_rng([seed, point])
    return {"y": ishigami(params, seed)["y"] + 2.0 * float(rng.standard_normal())}


ISHIGAMI_VARIANCE = float(_V)
