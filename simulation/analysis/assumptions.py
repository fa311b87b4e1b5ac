"""Does a policy effect survive the assumptions it rests on? (``compare --assumptions``)

In that mode every replicate also draws the uncertainty parameters the compared interventions act
through (``Intervention.acts_through``) from their registry ranges, and each draw is run on two
seeds (replicates 2k and 2k + 1 take draw k: :func:`simulation.policy.scenario.assumption_draw`).
The paired effect of a replicate then varies for two reasons: the assumptions of its draw, and
chance. The two seeds of one draw differ by chance alone, so half the mean squared difference
within draws estimates the chance variance; what the total variance has beyond it is the
assumptions' share (a one-way random-effects split). With a posterior the two seeds of a draw also
share a draw of the fitted parameters, so this split counts calibration as assumptions; the
``sources`` table (:mod:`simulation.analysis.sources`) tells the three apart.
"""

from __future__ import annotations

import math

import numpy as np

from simulation.policy.scenario import ASSUMPTION_SEEDS_PER_DRAW


def assumption_share(replicates: np.ndarray, effects: np.ndarray) -> dict[str, float]:
    """Split the variance of paired effects (one per replicate) into assumptions and chance.

    Returns the number of draws with both seeds run, the chance and total variance of one
    replicate's effect, the assumptions' share of the total (0-1, NaN without two complete draws),
    the 5-95% range of the per-draw effect (the mean of its seeds) and the share of draws whose
    effect has the sign of the overall mean."""
    replicates, effects = np.asarray(replicates), np.asarray(effects, dtype=float)
    keep = np.isfinite(effects)
    replicates, effects = replicates[keep], effects[keep]
    draws = replicates // ASSUMPTION_SEEDS_PER_DRAW
    pairs = []
    for draw in np.unique(draws):
        members = effects[draws == draw]
        if len(members) == ASSUMPTION_SEEDS_PER_DRAW:
            pairs.append(members)
    out = {
        "draws": float(len(pairs)),
        "chance_var": math.nan,
        "total_var": math.nan,
        "assumption_share": math.nan,
        "draw_p5": math.nan,
        "draw_p95": math.nan,
        "same_sign_share": math.nan,
    }
    if len(pairs) < 2:
        return out
    p = np.array(pairs)
    chance = float(np.mean((p[:, 0] - p[:, 1]) ** 2) / 2)
    total = float(p.reshape(-1).var(ddof=1))
    per_draw = p.mean(axis=1)
    mean = float(p.mean())
    out.update(
        chance_var=chance,
        total_var=total,
        assumption_share=float(np.clip(1.0 - chance / total, 0.0, 1.0)) if total > 0 else 0.0,
        draw_p5=float(np.percentile(per_draw, 5)),
        draw_p95=float(np.percentile(per_draw, 95)),
        same_sign_share=float(np.mean(np.sign(per_draw) == np.sign(mean))) if mean != 0 else math.nan,
    )
    return out


def assumption_table(summary, baseline: str, metrics, names: tuple[str, ...]):
    """For each scenario and metric: the paired effect, the share of its variance across replicates
    that comes from the drawn assumptions, and whether its sign holds across draws.

    ``summary`` is the comparison's per-replicate table (one row per scenario and replicate, each
    metric the mean over the evaluation years); ``names`` are the parameters that were drawn."""
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
            split = assumption_share(common.to_numpy(), effect)
            rows.append(
                {
                    "scenario": scenario,
                    "metric": metric,
                    "mean_effect": float(np.nanmean(effect)),
                    **split,
                    "parameters_drawn": len(names),
                }
            )
    return pd.DataFrame(rows)


def describe(row) -> str:
    """One line for the terminal: the effect, the range over draws, the shares."""
    if not np.isfinite(row["assumption_share"]):
        return f"{row['scenario']}: too few complete draws (need 2 replicates per draw, at least 2 draws)"
    held = row["same_sign_share"]
    return (
        f"{row['scenario']}: {row['mean_effect']:+.2f} (over {int(row['draws'])} draws of the assumptions: "
        f"{row['draw_p5']:+.2f} to {row['draw_p95']:+.2f}); {row['assumption_share']:.0%} of the spread between "
        f"replicates comes from the assumptions, {1 - row['assumption_share']:.0%} from chance; same sign in "
        f"{held:.0%} of draws"
    )
