"""``school-exit calibrate``: the neural posterior calibration as a resumable job.

1. **Design.** ``simulations`` prior draws of every parameter named, one run each at the reduced
   ``scale``, through the run store (:mod:`.npe_runs`).
2. **Screen.** A parameter is *fitted* when, alone, it explains at least ``screening_share`` of
   the variance of some fitted summary over the design (a first-order index from one regression);
   the others are *assumed*: the figures cannot tell their values apart, their posterior is their
   prior, and scenarios draw them from it.
3. **Train.** The first ``sbc_truths`` points are held out; the network learns q(theta | x) of the
   fitted parameters on the rest, with the discrepancy term drawn into x (:mod:`.npe`). The
   assumed ones vary in every design run, so the network has marginalised them. The trained
   estimator is kept in ``DIR/estimator.pt`` with a hash of what it was trained on.
4. **Scale offset.** ``offset.draws`` posterior draws run at the reduced and at the full scale on
   the same seeds. The mean difference of each summary is the offset; the observation is moved
   by it into the reduced scale's terms, and half of the pairs check the other half's offset.
   *Round 2* (when ``truncation.simulations`` > 0, truncated sequential NPE, Deistler et al. 2022):
   the prior restricted to the round-1 posterior's highest-density region at the corrected
   observation, run and trained on with round 1 (the standard loss stays right inside the
   region); the offset is then measured again on the final posterior. Round 1's network is
   amortised over the whole prior and, trained on prior draws, spreads its mass where few of
   them fall near the observation; round 2 puts the simulations there.
5. **Posterior.** ``posterior_draws`` independent draws of the fitted parameters at the corrected
   observation, beside independent prior draws of the assumed ones.
6. **Predictive.** ``predictive.draws`` posterior draws run at full scale: every fit and
   validation figure against its published range.
7. **Calibration check.** The held-out truths: the 90% interval's coverage for every fitted
   parameter (an assumed one is drawn from its prior, which covers by construction). With two
   rounds the truths of each are weighted by its share of the training points: the posterior
   was trained on that mixture, so that is the distribution its coverage is owed over.

Everything random is named by the seed and a stage, and runs are keyed by content, so the result
is the same on one core, a process pool or a Dask cluster, and a killed job resumes: finished runs
are read back, a finished training is loaded.
"""

from __future__ import annotations

import hashlib
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from . import npe
from .executors import run_tasks
from .npe_config import Calibration
from .npe_runs import design_tasks, draw_design

SBC_DRAWS = 500  # posterior draws per synthetic truth: ranks on 0..500, interval ends to within 0.2%
_STAGE = {
    "discrepancy": 1,
    "offset": 2,
    "posterior": 3,
    "predictive": 4,
    "sbc": 5,
    "train": 6,
    "assumed": 7,
    "offset_assumed": 8,
    "threshold": 9,
    "truncation": 10,
    "truncation_assumed": 11,
    "truncation_runs": 12,
    "discrepancy_truncated": 13,
}


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _seed(cal: Calibration, stage: str) -> int:
    return int(np.random.SeedSequence([cal.seed, _STAGE[stage]]).generate_state(1, np.uint64)[0] % 2**62)


def _run(cal, store, executor, thetas, seeds, scale, desc, progress) -> list[dict | None]:
    scenario = cal.scenario.with_(scale=scale)
    tasks = design_tasks(scenario, cal.names, thetas, seeds, cal.integer)
    report = run_tasks(tasks, executor, store=store, desc=desc, progress=progress)
    if progress:
        failed = f", {len(report.failed)} failed (tracebacks in {store.failed_dir})" if report.failed else ""
        _say(f"{desc}: {report.total} runs, {report.already_done} already done, {report.ran} run now{failed}")
    done = store.done_keys()
    return [store.load(t.key)["value"] if t.key in done else None for t in tasks]


def _matrix(summaries: npe.Summaries, values: list[dict | None]) -> np.ndarray:
    return summaries.matrix([v if v is not None else {} for v in values])


def _with_discrepancy(cal: Calibration, summaries: npe.Summaries, x: np.ndarray, stage: str) -> np.ndarray:
    return x + npe.discrepancy(len(x), summaries.covariance(cal.family_correlation), _seed(cal, stage))


def _split(ok: np.ndarray, n_truths: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n_truths`` points (that ran) are held out as synthetic truths; the rest train."""
    index = np.arange(len(ok))
    return index[ok & (index < n_truths)], index[ok & (index >= n_truths)]


def _draw_seeds(cal: Calibration, stage: str, n: int) -> np.ndarray:
    return np.random.default_rng(_seed(cal, stage)).integers(0, 2**62, n)


def _full_theta(cal: Calibration, fitted: np.ndarray, phi: np.ndarray, stage: str) -> np.ndarray:
    """Parameter sets: the fitted columns from posterior draws (phi), the assumed from the prior."""
    u = np.random.default_rng(_seed(cal, stage)).random((len(phi), len(cal.names)))
    u[:, fitted] = npe.expit(phi)
    return npe.from_unit(cal.names, u)


def _estimator(cal, out: Path, phi, x, progress, file: str = "estimator.pt"):
    """Train, or load the estimator a finished earlier attempt trained on the same inputs;
    returns (posterior, training summary, key of what it was trained on)."""
    import torch

    digest = hashlib.sha256()
    for a in (phi, x):
        digest.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    digest.update(repr(cal.network).encode())
    digest.update(str(cal.seed).encode())
    key = digest.hexdigest()
    path = out / file
    if path.is_file():
        saved = torch.load(path, weights_only=False)
        if saved.get("key") == key:
            if progress:
                _say(f"training: loaded {path} (trained on the same design)")
            return npe.posterior_from(saved["estimator"], phi.shape[1]), saved["info"], key
    if progress:
        _say(
            f"training: {cal.network.model}, {len(phi)} simulations, {phi.shape[1]} parameters, {x.shape[1]} summaries"
        )
    t0 = time.perf_counter()
    posterior, estimator, info = npe.train(phi, x, _seed(cal, "train"), cal.network)
    info["seconds"] = round(time.perf_counter() - t0, 1)
    tmp = path.with_name(f".{file}.tmp")
    torch.save({"key": key, "estimator": estimator, "info": info}, tmp)
    tmp.replace(path)
    if progress:
        _say(f"training: {info['epochs']} epochs in {info['seconds']} s")
    return posterior, info, key


def _truncated_design(cal, out: Path, posterior, key: str, fitted, observed, progress):
    """Round 2's points: the prior restricted to the round-1 posterior's highest-density region at
    the observation (fitted parameters), the assumed ones from their prior; kept in
    ``DIR/truncated_design.npz`` beside the key of the estimator they came from, so a resumed job
    runs the same points."""
    path = out / "truncated_design.npz"
    settings = f"{key}:{cal.truncation_simulations}:{cal.truncation_quantile}"
    if path.is_file():
        saved = np.load(path, allow_pickle=False)
        if str(saved["settings"]) == settings:
            found = {"threshold": float(saved["threshold"]), "acceptance": float(saved["acceptance"])}
            return saved["theta"], saved["seeds"], found
    n, d = cal.truncation_simulations, int(fitted.sum())
    threshold = npe.hpd_threshold(posterior, observed, cal.truncation_quantile, _seed(cal, "threshold"))
    phi, acceptance = npe.sample_truncated(posterior, observed, d, n, threshold, _seed(cal, "truncation"))
    if progress:
        _say(
            f"truncation: the round-1 posterior's {1 - cal.truncation_quantile:.4%} region holds {acceptance:.3%} "
            f"of the prior; {n} points drawn from it"
        )
    u = np.random.default_rng(_seed(cal, "truncation_assumed")).random((n, len(cal.names)))
    u[:, fitted] = npe.expit(phi)
    theta = npe.from_unit(cal.names, u)
    seeds = _draw_seeds(cal, "truncation_runs", n)
    tmp = path.with_name(".truncated_design.tmp.npz")
    np.savez(tmp, theta=theta, seeds=seeds, threshold=threshold, acceptance=acceptance, settings=settings)
    tmp.replace(path)
    return theta, seeds, {"threshold": threshold, "acceptance": acceptance}


def _offset(cal, store, executor, posterior, fitted, observed, summaries, progress):
    """Run posterior draws at both scales on the same seeds; the offset and its split-half check."""
    phi = npe.sample(posterior, observed, cal.offset_draws, _seed(cal, "offset"))
    theta = _full_theta(cal, fitted, phi, "offset_assumed")
    seeds = _draw_seeds(cal, "offset", cal.offset_draws)
    low = _matrix(summaries, _run(cal, store, executor, theta, seeds, cal.scale, "offset, reduced scale", progress))
    high = _matrix(
        summaries, _run(cal, store, executor, theta, seeds, cal.offset_scale, "offset, full scale", progress)
    )
    diff = high - low
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a summary no run could compute: NaN, reported as such
        offset = np.nanmean(diff, axis=0)
        se = np.nanstd(diff, axis=0, ddof=1) / np.sqrt(np.sum(np.isfinite(diff), axis=0))
        even, odd = diff[0::2], diff[1::2]
        # the offset of one half, tested on the other: (mean of odd - mean of even) / its standard error
        check_se = np.sqrt(np.nanvar(even, axis=0, ddof=1) / len(even) + np.nanvar(odd, axis=0, ddof=1) / len(odd))
        check_z = (np.nanmean(odd, axis=0) - np.nanmean(even, axis=0)) / check_se
        table = _offset_table(summaries, low, high, diff, offset, se, check_z)
    return np.where(np.isfinite(offset), offset, 0.0), table


def _offset_table(summaries, low, high, diff, offset, se, check_z) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": summaries.ids,
            "summary": summaries.keys,
            "reduced_mean": np.nanmean(low, axis=0),
            "full_mean": np.nanmean(high, axis=0),
            "offset": offset,
            "offset_se": se,
            "offset_z": offset / se,
            "half_split_z": check_z,
            "reduced_sd": np.nanstd(low, axis=0, ddof=1),
            "full_sd": np.nanstd(high, axis=0, ddof=1),
            "pairs": np.sum(np.isfinite(diff), axis=0),
        }
    )


def _roles(cal, theta: np.ndarray, fitted: np.ndarray, shares: np.ndarray, summary_ids) -> pd.DataFrame:
    """Per parameter: fitted or assumed, what it explains, its posterior against its prior."""
    from simulation.model.params import PARAMS

    u = npe.to_unit(cal.names, theta)
    lo_u, hi_u = np.quantile(u, [0.05, 0.95], axis=0)
    ratio = (hi_u - lo_u) / 0.9  # the prior's 90% interval is 0.9 wide in u
    rows = []
    for j, name in enumerate(cal.names):
        p = PARAMS[name]
        rows.append(
            {
                "parameter": name,
                "role": "fitted" if fitted[j] else "assumed",
                "screening_share": float(shares[j].max()),
                "screening_summary": summary_ids[int(shares[j].argmax())],
                "prior_low": p.low,
                "prior_high": p.high,
                "prior": "log-uniform" if p.log_scaled else "uniform",
                "default": p.default,
                "median": float(np.median(theta[:, j])),
                "p5": float(np.quantile(theta[:, j], 0.05)),
                "p95": float(np.quantile(theta[:, j], 0.95)),
                "width_ratio": float(ratio[j]),
                "median_u": float(np.median(u[:, j])),
            }
        )
    return pd.DataFrame(rows)


def _fit_table(cal, values_full: np.ndarray, targets: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for j, t in enumerate(targets.itertuples(index=False)):
        col = values_full[:, j]
        col = col[np.isfinite(col)]
        med = float(np.median(col)) if len(col) else np.nan
        rows.append(
            {
                "id": t.id,
                "role": t.role,
                "family": t.family,
                "metric": t.metric,
                "academic_year": t.academic_year,
                "value": t.value,
                "low": t.low,
                "high": t.high,
                "median": med,
                "p5": float(np.quantile(col, 0.05)) if len(col) else np.nan,
                "p95": float(np.quantile(col, 0.95)) if len(col) else np.nan,
                "in_range": bool(t.low <= med <= t.high) if np.isfinite(med) else False,
                "runs": len(col),
                "unit": t.unit,
            }
        )
    return pd.DataFrame(rows)


def _sbc(cal, names, posterior, groups, progress) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coverage on held-out truths. ``groups``: (round, phi, x, training points of that round).

    The final posterior was trained on a mixture of the rounds' proposals, so its truths come from
    that mixture: each round's truths are weighted by its share of the training points."""
    n_truths = sum(len(g[1]) for g in groups)
    if progress:
        _say(f"calibration check: {n_truths} synthetic truths x {SBC_DRAWS} draws")
    seed = _seed(cal, "sbc")
    parts, widths = [], []
    for k, (_, phi, x, _) in enumerate(groups):
        draws = npe.sample_many(posterior, x, SBC_DRAWS, seed + k)
        parts.append(npe.coverage(phi, draws))
        u = npe.expit(draws)
        widths.append(((np.quantile(u, 0.95, axis=1) - np.quantile(u, 0.05, axis=1)) / 0.9).mean(axis=0))
    weights = np.array([g[3] for g in groups], float)
    weights /= weights.sum()
    inside = [p[0] for p in parts]
    coverage, n_eff = npe.mixture_coverage(inside, weights)
    lo, hi = npe.binomial_band(n_eff)
    cov = pd.DataFrame(
        {
            "parameter": names,
            "coverage_90": coverage,
            "band_low": lo,
            "band_high": hi,
            "within_band": (coverage >= lo) & (coverage <= hi),
            "in_85_95": (coverage >= 0.85) & (coverage <= 0.95),
            "mean_width_ratio": sum(w * v for w, v in zip(weights, widths, strict=True)),
            "rank_mean": sum(w * p[1].mean(axis=0) for w, p in zip(weights, parts, strict=True)) / SBC_DRAWS,
            "truths": n_truths,
            "effective_truths": n_eff,
        }
    )
    for (name, *_), ins in zip(groups, inside, strict=True):
        cov[f"coverage_90_{name}"] = ins.mean(axis=0)
    tables = []
    for (name, phi, *_), (_, ranks), w in zip(groups, parts, weights, strict=True):
        t = pd.DataFrame(ranks, columns=list(names))
        t.insert(0, "weight", w / len(phi))  # weights over all truths sum to 1
        t.insert(0, "round", name)
        tables.append(t)
    rank_table = pd.concat(tables, ignore_index=True)
    rank_table.insert(0, "truth", np.arange(len(rank_table)))
    return cov, rank_table


def run_npe(cal: Calibration, out: Path, executor, *, command: list[str] | None = None, progress=True):
    """Run (or resume) the calibration and write its tables; returns (tables, manifest)."""
    from . import store as st

    out = Path(out)
    t0 = time.perf_counter()
    store = st.RunStore(out / "runs")
    env = st.environment()
    identity = cal.identity()
    job_sha = st.sha256_json(identity)
    started = datetime.now(UTC).isoformat()
    previous = store.open({"kind": "calibration", "method": "npe", "job_sha256": job_sha, "started": started, **env})
    if previous and previous.get("job_sha256") not in (None, job_sha):
        raise ValueError(
            f"--out {out}: holds a calibration of a different configuration (targets, parameters, seeds or model "
            "changed); use a new --out, or delete that directory"
        )
    fit = npe.Summaries.from_targets(cal.fit)

    theta, seeds = draw_design(cal.seed, 0, cal.simulations, cal.names)
    values = _run(cal, store, executor, theta, seeds, cal.scale, "design", progress)
    ok = np.array([v is not None for v in values])
    x = _matrix(fit, values)
    x_noisy = _with_discrepancy(cal, fit, x, "discrepancy")
    phi = npe.logit(npe.to_unit(cal.names, theta))
    truths, train = _split(ok, cal.sbc_truths)
    with np.errstate(all="ignore"):
        fill = np.nanmedian(x_noisy[train], axis=0)
    missing_share = np.mean(~np.isfinite(x[train]), axis=0)
    # asinh: near-linear for small values, logarithmic for the long tails (an exclusion ratio of 200
    # from two events in a small LA); the network sees every summary and the observation through it
    x_noisy = np.arcsinh(npe.fill_missing(x_noisy, fill))

    shares = npe.first_order_shares(npe.to_unit(cal.names, theta[train]), x[train])
    fitted = shares.max(axis=1) >= cal.screening_share
    fitted_names = [n for n, f in zip(cal.names, fitted, strict=True) if f]
    if progress:
        _say(
            f"screening: {len(fitted_names)} of {len(cal.names)} parameters explain at least "
            f"{cal.screening_share:.0%} of a fitted figure"
        )
    phi_fit = phi[:, fitted]
    posterior, info, key = _estimator(cal, out, phi_fit[train], x_noisy[train], progress)
    offset, offset_table = _offset(cal, store, executor, posterior, fitted, np.arcsinh(fit.observed), fit, progress)
    groups = [("prior", phi_fit[truths], x_noisy[truths], len(train))]
    truncation: dict = {}
    if cal.truncation_simulations:
        # Round 2 (truncated sequential NPE): simulate where the round-1 posterior at the observation
        # puts its mass, and train again on both rounds.
        observed = np.arcsinh(fit.observed - offset)
        theta2, seeds2, truncation = _truncated_design(cal, out, posterior, key, fitted, observed, progress)
        values2 = _run(cal, store, executor, theta2, seeds2, cal.scale, "truncated design", progress)
        ok2 = np.array([v is not None for v in values2])
        x2 = _matrix(fit, values2)
        x2 = np.arcsinh(npe.fill_missing(_with_discrepancy(cal, fit, x2, "discrepancy_truncated"), fill))
        phi2 = npe.logit(npe.to_unit(cal.names, theta2))[:, fitted]
        truths2, train2 = _split(ok2, cal.truncation_sbc_truths)
        posterior, info2, _ = _estimator(
            cal,
            out,
            np.concatenate([phi_fit[train], phi2[train2]]),
            np.concatenate([x_noisy[train], x2[train2]]),
            progress,
            file="estimator_truncated.pt",
        )
        info = {"round_1": info, "truncated": info2}
        truncation |= {"runs": int(ok2.sum()), "failed": int((~ok2).sum()), "sbc_truths": len(truths2)}
        truncation["round_1_offset"] = offset.tolist()
        offset, offset_table = _offset(cal, store, executor, posterior, fitted, np.arcsinh(fit.observed), fit, progress)
        groups.append(("truncated", phi2[truths2], x2[truths2], len(train2)))
    corrected = fit.observed - offset
    phi_post = npe.sample(posterior, np.arcsinh(corrected), cal.posterior_draws, _seed(cal, "posterior"))
    theta_post = _full_theta(cal, fitted, phi_post, "assumed")
    roles = _roles(cal, theta_post, fitted, shares, fit.ids)
    ess = npe.effective_sample_size(npe.logit(npe.to_unit(cal.names, theta_post)))
    roles["ess"] = ess

    k = min(cal.predictive_draws, len(theta_post))
    pred_seeds = _draw_seeds(cal, "predictive", k)
    both = npe.Summaries.from_targets(cal.targets)
    pred = _matrix(
        both, _run(cal, store, executor, theta_post[:k], pred_seeds, cal.predictive_scale, "predictive", progress)
    )
    fit_table = _fit_table(cal, pred, cal.targets)
    coverage, ranks = _sbc(cal, fitted_names, posterior, groups, progress)

    posterior_table = pd.DataFrame(theta_post, columns=list(cal.names))
    for j, is_int in enumerate(cal.integer):
        if is_int:
            name = cal.names[j]
            posterior_table[name] = posterior_table[name].round().astype(int)
    posterior_table.insert(0, "weight", 1.0 / len(posterior_table))
    posterior_table.insert(0, "particle", np.arange(len(posterior_table)))
    training = pd.DataFrame(
        {
            "summary": fit.keys,
            "id": fit.ids,
            "family": fit.family,
            "observed": fit.observed,
            "discrepancy_sd": fit.sigma,
            "scale_offset": offset,
            "observed_at_design_scale": corrected,
            "missing_share": missing_share,
            "fill": fill,
            "design_p5": np.nanquantile(x[train], 0.05, axis=0),
            "design_p95": np.nanquantile(x[train], 0.95, axis=0),
        }
    )
    tables = {
        "posterior": posterior_table,
        "posterior_roles": roles[["parameter", "role"]],
        "posterior_summary": roles,
        "fit": fit_table,
        "scale_offset": offset_table,
        "coverage": coverage,
        "sbc_ranks": ranks,
        "summaries": training,
    }
    for name, table in tables.items():
        st.write_table(table, out, name)
    manifest = {
        "kind": "calibration",
        "method": "npe",
        "library": _library_versions(),
        "name": cal.name,
        "config_file": str(cal.path),
        "config": cal.raw,
        "job_sha256": job_sha,
        "parameters": list(cal.names),
        "fitted": fitted_names,
        "design_runs": int(ok.sum()),
        "design_failed": int((~ok).sum()),
        "training_simulations": sum(g[3] for g in groups),
        "sbc_truths": sum(len(g[1]) for g in groups),
        "truncation": truncation,
        "training": info,
        "ess_min": float(ess[fitted].min()),
        "ess_median": float(np.median(ess[fitted])),
        "offset_runs": 2 * cal.offset_draws,
        "predictive_runs": k,
        "scale": cal.scale,
        "predictive_scale": cal.predictive_scale,
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


def _library_versions() -> dict:
    from importlib import metadata

    return {name: metadata.version(name) for name in ("sbi", "torch")}
