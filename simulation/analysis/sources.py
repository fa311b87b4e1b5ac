"""Where the spread of a policy effect comes from: chance, calibration or assumptions.

With a posterior, replicate r of a comparison takes its fitted parameters from calibration draw
r // 4 and its assumed ones (the roles sidecar's, and ``compare --assumptions``'s) from assumption
draw r // 2, and its own seed (:meth:`simulation.policy.scenario.Scenario.posterior_draw`). The
replicates of one scenario's paired effects are therefore a balanced nested design: g groups of
4 (one fitted set each) of 2 pairs (one assumed set each) of 2 seeds. With y_ijk the effect of seed
k in pair j of group i, a random-effects model y = mu + K_i + A_ij + C_ijk (variances sigma_k^2,
sigma_a^2, sigma_c^2) has these mean squares, by the method of moments:

    MS_chance = sum (y_ijk - ybar_ij.)^2 / (2g)            E = sigma_c^2
    MS_pairs  = 2 sum (ybar_ij. - ybar_i..)^2 / g          E = sigma_c^2 + 2 sigma_a^2
    MS_groups = 4 sum (ybar_i.. - ybar...)^2 / (g - 1)     E = sigma_c^2 + 2 sigma_a^2 + 4 sigma_k^2

so sigma_c^2 = MS_chance, sigma_a^2 = (MS_pairs - MS_chance) / 2 and sigma_k^2 = (MS_groups -
MS_pairs) / 4, each clipped at 0; their sum is the variance of one replicate's effect, and each
share is its part of that sum.
"""

from __future__ import annotations

import math

import numpy as np

from simulation.policy.scenario import ASSUMPTION_SEEDS_PER_DRAW, CALIBRATION_SEEDS_PER_DRAW

from .paired import t_interval

SOURCES = ("chance", "calibration", "assumptions")


def source_shares(replicates: np.ndarray, effects: np.ndarray) -> dict[str, float]:
    """Split the variance of one replicate's paired effect into chance, calibration and assumptions.

    Only complete groups count: the nested mean squares are unbiased for a balanced design, and a
    group missing a replicate (a failed or non-finite run, or replicates not a multiple of 4) would
    bias the pair and group means it sits in; the estimator needs two complete groups for a
    between-group mean square at all, so fewer give NaN shares. A component estimated below zero is
    noise around a true value near zero, so it is clipped rather than let a share go negative; the
    shares are then of the clipped sum, which is also the reported total variance. The interval
    reported is of the mean effect, from the group means: groups are independent where replicates are
    not (four share a fitted set), so it is wider than a t-interval over replicates when calibration
    matters."""
    replicates, effects = np.asarray(replicates, dtype=int), np.asarray(effects, dtype=float)
    keep = np.isfinite(effects)
    replicates, effects = replicates[keep], effects[keep]
    per_group, per_pair = CALIBRATION_SEEDS_PER_DRAW, ASSUMPTION_SEEDS_PER_DRAW
    groups = []
    for group in np.unique(replicates // per_group):
        members = replicates // per_group == group
        if len(set(replicates[members])) == members.sum() == per_group:
            groups.append(effects[members][np.argsort(replicates[members])])
    out = {
        "draws": float(len(groups)),
        "total_var": math.nan,
        "chance_var": math.nan,
        "calibration_var": math.nan,
        "assumptions_var": math.nan,
        **{f"{s}_share": math.nan for s in SOURCES},
        "mean_effect": float(np.mean(effects)) if len(effects) else math.nan,
        "effect_lo": math.nan,
        "effect_hi": math.nan,
    }
    g = len(groups)
    if g < 2:
        return out
    y = np.array(groups).reshape(g, per_group // per_pair, per_pair)  # group, pair, seed
    pair_means, group_means = y.mean(axis=2), y.mean(axis=(1, 2))
    n_pairs = per_group // per_pair
    ms_chance = float(((y - pair_means[:, :, None]) ** 2).sum() / (g * n_pairs * (per_pair - 1)))
    ms_pairs = float(per_pair * ((pair_means - group_means[:, None]) ** 2).sum() / (g * (n_pairs - 1)))
    ms_groups = float(per_group * ((group_means - group_means.mean()) ** 2).sum() / (g - 1))
    var = {
        "chance": max(ms_chance, 0.0),
        "assumptions": max((ms_pairs - ms_chance) / per_pair, 0.0),
        "calibration": max((ms_groups - ms_pairs) / per_group, 0.0),
    }
    total = sum(var.values())
    mean, lo, hi = t_interval(group_means)
    out.update(
        total_var=total,
        **{f"{s}_var": var[s] for s in SOURCES},
        **{f"{s}_share": (var[s] / total if total > 0 else math.nan) for s in SOURCES},
        mean_effect=mean,
        effect_lo=lo,
        effect_hi=hi,
    )
    return out


def sources_table(summary, baseline: str, metrics):
    """For each scenario and metric: the paired effect, its 90% interval, and the shares of the
    variance of one replicate's effect that come from chance, calibration and assumptions.

    ``summary`` is the comparison's per-replicate table (one row per scenario and replicate, each
    metric the mean over the evaluation years)."""
    import pandas as pd

    rows = []
    base = summary[summary["scenario"] == baseline].set_index("replicate")
    for scenario, runs in summary[summary["scenario"] != baseline].groupby("scenario", sort=False):
        runs = runs.set_index("replicate")
        common = runs.index.intersection(base.index)
        for metric in metrics:
            if metric not in runs.columns:
                continue
            effect = (runs.loc[common, metric] - base.loc[common, metric]).to_numpy(float)
            rows.append({"scenario": scenario, "metric": metric, **source_shares(common.to_numpy(), effect)})
    columns = [
        "scenario",
        "metric",
        "draws",
        "total_var",
        "chance_share",
        "calibration_share",
        "assumptions_share",
        "mean_effect",
        "effect_lo",
        "effect_hi",
        "chance_var",
        "calibration_var",
        "assumptions_var",
    ]
    return pd.DataFrame(rows, columns=columns)


def describe(row) -> str:
    """One line for the terminal: the shares of the spread between replicates."""
    if row["draws"] < 2:
        return (
            f"{row['scenario']}: too few complete calibration draws ({int(row['draws'])}; need at least 2, "
            f"each of {CALIBRATION_SEEDS_PER_DRAW} replicates)"
        )
    if not np.isfinite(row["chance_share"]):
        return f"{row['scenario']}: the paired effect is the same in every replicate (no spread to split)"
    return (
        f"{row['scenario']}: of the spread between replicates, {row['chance_share']:.0%} is chance, "
        f"{row['calibration_share']:.0%} calibration, {row['assumptions_share']:.0%} assumptions "
        f"(over {int(row['draws'])} calibration draws; mean effect {row['mean_effect']:+.2f}, 90% interval "
        f"{row['effect_lo']:+.2f} to {row['effect_hi']:+.2f})"
    )
