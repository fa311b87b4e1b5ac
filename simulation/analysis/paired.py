"""Statistics of paired replicates, from result tables: intervals, the metric table, summaries.

Replicate r of every scenario shares its random numbers with replicate r of the baseline, so
differences are taken replicate by replicate (paired). The intervals: a scenario's "p5-p95" is the
5-95% range across replicates; a paired difference carries the 90% t-interval of its mean, beside
the interval the same runs would give unpaired (Welch); ratios (risk ratios, cost per child kept on a roll)
use a bootstrap over replicates (2,000 resamples, fixed seed). No model code is imported here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from simulation.model.metrics import COUNTS, EXIT_METRIC, METRICS

EXTRA_METRICS: dict[str, tuple[str, str]] = COUNTS  # computed by the comparison (simulation.analysis.counts)
ALL_METRICS = {**METRICS, **EXTRA_METRICS}
_B = 2000  # bootstrap resamples


def t_interval(x: np.ndarray, level: float = 0.9) -> tuple[float, float, float]:
    """Mean and the ``level`` t-interval of the mean (NaN bounds with fewer than two values)."""
    from scipy import stats

    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return (math.nan,) * 3
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan
    half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return mean, mean - half, mean + half


def clustered_t_interval(
    x: np.ndarray, replicates: np.ndarray, size: int, level: float = 0.9
) -> tuple[float, float, float]:
    """The mean and ``level`` t-interval over the means of groups of ``size`` replicates
    (replicates ``r // size`` share a posterior draw, so they are not independent and a plain
    t-interval over replicates would be too narrow). Incomplete groups are left out."""
    if size <= 1:
        return t_interval(x)
    x, replicates = np.asarray(x, dtype=float), np.asarray(replicates)
    groups = replicates // size
    means = [
        x[groups == g].mean()
        for g in np.unique(groups)
        if (groups == g).sum() == size and np.isfinite(x[groups == g]).all()
    ]
    if not means:
        return (math.nan,) * 3
    return t_interval(np.array(means), level)


def welch_interval(a: np.ndarray, b: np.ndarray, level: float = 0.9) -> tuple[float, float]:
    """The ``level`` interval of mean(a) - mean(b) treating the samples as independent (Welch)."""
    from scipy import stats

    a, b = (np.asarray(v, float)[np.isfinite(v)] for v in (a, b))
    if len(a) < 2 or len(b) < 2:
        return math.nan, math.nan
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if se > 0 else len(a) + len(b) - 2
    half = stats.t.ppf(0.5 + level / 2, df) * se
    d = a.mean() - b.mean()
    return float(d - half), float(d + half)


def bootstrap_ratio(num: np.ndarray, den: np.ndarray, level: float = 0.9) -> tuple[float, float, float]:
    """sum(num) / sum(den) and its bootstrap interval, resampling replicates (paired)."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    point = num.sum() / den.sum() if den.sum() != 0 else math.nan
    if len(num) < 2:
        return point, math.nan, math.nan
    idx = np.random.default_rng(0).integers(0, len(num), size=(_B, len(num)))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = num[idx].sum(axis=1) / den[idx].sum(axis=1)
    ratios = ratios[np.isfinite(ratios)]
    if len(ratios) < _B / 2:
        return point, math.nan, math.nan
    lo, hi = np.quantile(ratios, [0.5 - level / 2, 0.5 + level / 2])
    return float(point), float(lo), float(hi)


def metric_table(
    summary: pd.DataFrame, baseline: str, metrics: Sequence[str] | None = None, cluster: int = 1
) -> pd.DataFrame:
    """Per scenario and metric: mean and 5-95% range over replicates, and the paired difference against
    the baseline with its 90% interval, beside the unpaired (Welch) interval of the same runs.
    ``cluster``: replicates that share a parameter draw (``r // cluster``); the paired interval is
    then taken over the draws' means."""
    metrics = [m for m in (metrics or ALL_METRICS) if m in summary.columns]
    base = summary[summary["scenario"] == baseline].set_index("replicate")
    rows = []
    for scen, df in summary.groupby("scenario", sort=False):
        df = df.set_index("replicate")
        common = df.index.intersection(base.index)
        for metric in metrics:
            v = df[metric].to_numpy(float)
            row = {
                "scenario": scen,
                "metric": metric,
                "unit": ALL_METRICS[metric][0],
                "n_replicates": len(v),
                "mean": np.nanmean(v) if np.isfinite(v).any() else math.nan,
                "p5": np.nanquantile(v, 0.05) if np.isfinite(v).any() else math.nan,
                "p95": np.nanquantile(v, 0.95) if np.isfinite(v).any() else math.nan,
            }
            b = base.loc[common, metric].to_numpy(float)
            row["baseline_mean"] = np.nanmean(b) if np.isfinite(b).any() else math.nan
            if scen != baseline:
                d = df.loc[common, metric].to_numpy(float) - b
                row["diff"], row["diff_lo"], row["diff_hi"] = clustered_t_interval(d, np.asarray(common), cluster)
                row["unpaired_lo"], row["unpaired_hi"] = welch_interval(df.loc[common, metric].to_numpy(float), b)
                both = np.isfinite(d)
                var_d = np.var(d[both], ddof=1) if both.sum() > 1 else math.nan
                var_u = (
                    np.var(df.loc[common, metric].to_numpy(float)[both], ddof=1) + np.var(b[both], ddof=1)
                    if both.sum() > 1
                    else math.nan
                )
                row["crn_variance_ratio"] = var_u / var_d if var_d > 0 else math.inf if var_u > 0 else math.nan
                bm = row["baseline_mean"]
                row["diff_pct"] = 100 * row["diff"] / abs(bm) if bm and np.isfinite(bm) else math.nan
            rows.append(row)
    cols = [
        "scenario",
        "metric",
        "unit",
        "n_replicates",
        "mean",
        "p5",
        "p95",
        "baseline_mean",
        "diff",
        "diff_lo",
        "diff_hi",
        "diff_pct",
        "unpaired_lo",
        "unpaired_hi",
        "crn_variance_ratio",
    ]
    return pd.DataFrame(rows).reindex(columns=cols)


def _summarise(df: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    rows = []
    for key, g in df.groupby(keys, sort=False):
        mean, lo, hi = t_interval(g[value].to_numpy())
        rows.append(
            dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
            | {"mean": mean, "lo": lo, "hi": hi, "n_replicates": len(g)}
        )
    return pd.DataFrame(rows)


def _displacement_summary(disp: pd.DataFrame, replicates: int, years: int) -> pd.DataFrame:
    """Mean and interval per route pair a year, counting replicates without the pair as zero."""
    keys = ["scenario", "view", "from_route", "to_route"]
    if disp.empty:
        return pd.DataFrame(columns=[*keys, "mean", "lo", "hi", "n_replicates"])
    full = disp.set_index([*keys, "replicate"])["children"].unstack("replicate")
    full = full.reindex(columns=range(replicates)).fillna(0.0).stack().rename("per_year").reset_index()
    full["per_year"] /= years
    return _summarise(full, keys, "per_year").sort_values(["scenario", "view", "mean"], ascending=[True, True, False])


def equality_summary(eq: pd.DataFrame) -> pd.DataFrame:
    """Per scenario and group: yearly risk per 1,000 in each run and the risk ratio (policy / baseline)."""
    rows = []
    for (scen, group), g in eq.groupby(["scenario", "group"], sort=False):
        yrs = g["years"].to_numpy(float)
        rb = g["baseline_exits"].to_numpy(float) / g["baseline_population"].to_numpy(float)
        rp = g["policy_exits"].to_numpy(float) / g["policy_population"].to_numpy(float)
        rr, lo, hi = bootstrap_ratio(rp, rb)
        net = (g["averted"] - g["new"]).to_numpy(float) / yrs
        n_mean, n_lo, n_hi = t_interval(net)
        rows.append(
            {
                "scenario": scen,
                "group": group,
                "baseline_risk_per_1000": 1000 * rb.mean() / yrs.mean(),
                "policy_risk_per_1000": 1000 * rp.mean() / yrs.mean(),
                "risk_ratio": rr,
                "rr_lo": lo,
                "rr_hi": hi,
                "baseline_exits_per_year": (g["baseline_exits"] / yrs).mean(),
                "net_averted_per_year": n_mean,
                "net_averted_lo": n_lo,
                "net_averted_hi": n_hi,
            }
        )
    return pd.DataFrame(rows)


def _group_sums(x: np.ndarray, replicates: np.ndarray, size: int) -> np.ndarray:
    """Sums over complete groups of ``size`` replicates: a bootstrap of a ratio of sums resamples
    these when replicates share a parameter draw (``size`` 1: the replicates themselves)."""
    if size <= 1:
        return np.asarray(x, dtype=float)
    x, groups = np.asarray(x, dtype=float), np.asarray(replicates) // size
    return np.array([x[groups == g].sum() for g in np.unique(groups) if (groups == g).sum() == size])


def cost_summary(costs: pd.DataFrame, averted: pd.DataFrame, scenarios: list[str], cluster: int = 1) -> pd.DataFrame:
    """Per scenario: yearly cost (mean over replicates and its 90% interval), net children kept on
    a roll a year (net averted, true view), and the cost per child kept on a roll (bootstrap).
    ``cluster``: replicates sharing a parameter draw; intervals are then taken over the draws."""
    net = averted[(averted["measure"] == "net_averted") & (averted["view"] == "true")]
    rows = []
    for scen in scenarios:
        c = costs[costs["scenario"] == scen]
        n = net[net["scenario"] == scen].set_index("replicate")["per_year"]
        if n.empty:
            continue
        per_rep = c.groupby("replicate")["cost_gbp"].sum() / max(c["academic_year"].nunique(), 1)
        per_rep = per_rep.reindex(n.index).fillna(0.0)
        estimated = bool(c["cost_estimated"].any()) if len(c) else False
        reps = n.index.to_numpy()
        m, lo, hi = clustered_t_interval(n.to_numpy(), reps, cluster)
        c_mean, c_lo, c_hi = clustered_t_interval(per_rep.to_numpy(), reps, cluster)
        row = {
            "scenario": scen,
            "cost_gbp_per_year": c_mean,
            "cost_gbp_lo": c_lo,
            "cost_gbp_hi": c_hi,
            "cost_estimated": estimated,
            "costed_interventions": ", ".join(sorted(c.loc[c["cost_estimated"], "title"].unique())),
            "not_costed": ", ".join(sorted(c.loc[~c["cost_estimated"], "title"].unique())),
            "net_averted_per_year": m,
            "net_averted_lo": lo,
            "net_averted_hi": hi,
        }
        ratio = (
            bootstrap_ratio(_group_sums(per_rep.to_numpy(), reps, cluster), _group_sums(n.to_numpy(), reps, cluster))
            if estimated and m > 0
            else (math.nan,) * 3
        )
        row["gbp_per_exit_averted"], row["gbp_per_exit_lo"], row["gbp_per_exit_hi"] = ratio
        rows.append(row)
    return pd.DataFrame(rows)


def crn_line(metrics: pd.DataFrame, scenario: str, metric: str = EXIT_METRIC) -> str:
    """One line showing common random numbers at work for ``metric``."""
    r = metrics[(metrics["scenario"] == scenario) & (metrics["metric"] == metric)].iloc[0]
    paired, unpaired = r["diff_hi"] - r["diff_lo"], r["unpaired_hi"] - r["unpaired_lo"]
    narrower = (
        f"paired interval {unpaired / paired:.1f}x narrower (variance ratio {r['crn_variance_ratio']:.0f})"
        if paired > 0
        else "paired differences identical in every replicate (zero-width paired interval)"
    )
    return (
        f"{scenario}: {metric} paired difference {r['diff']:+.3g} (90% CI {r['diff_lo']:+.3g} to "
        f"{r['diff_hi']:+.3g}); unpaired 90% CI {r['unpaired_lo']:+.3g} to {r['unpaired_hi']:+.3g}: {narrower}"
    )
