"""Who the model says leaves, and why: the figures issue 17 asks for before and after a change.

Runs the baseline (record_events on) and prints, per evaluation year and averaged over seeds:
penalty notices per 100 pupils and how concentrated they are, the home-educated stock's SEN
composition on the autumn census day, the routes into home education (true reasons), the share
of entrants from fined families, and the unexplained-exit figures with their concentration.

    .venv/bin/python calibration/diagnostics/who_leaves.py --scale 0.25 --seeds 4
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

from simulation import load_scenario, run
from simulation.model.state import SEN, Kind, Reason, Status


def one_run(scenario, seed: int) -> dict:
    res = run(scenario, seed=seed, record_events=True)
    ev, yr = res.events, res.years
    out = {"seed": seed}
    fines = ev[ev["kind"] == Kind.FINE]
    if len(fines):  # notices per fined child over the evaluation years
        per_child = fines.groupby("uid").size()
        out["fined_children_max_notices"] = float(per_child.max())
        out["fined_children_mean_notices"] = float(per_child.mean())
    moves = ev[ev["kind"] == Kind.MOVE]
    ehe = moves[moves["to_status"] == Status.EHE]
    total = max(len(ehe), 1)
    for reason in (Reason.GENUINE_EHE, Reason.NO_CHOICE_EHE, Reason.COERCED_EHE, Reason.LA_STEERED_EHE):
        share = np.count_nonzero(ehe["true_reason"] == reason) / total
        out[f"ehe_route_{Reason.name_of(reason).lower()}_pct"] = 100 * share
    fined_uids = set(fines["uid"].tolist())
    from_fined = [u in fined_uids for u in ehe["uid"].tolist()]
    out["ehe_entrants_from_fined_pct"] = 100 * np.mean(from_fined) if len(ehe) else np.nan
    out["ehe_entrants_sen_support_pct"] = 100 * np.mean(ehe["sen"] == SEN.SUPPORT) if len(ehe) else np.nan
    out["ehe_entrants_ehcp_pct"] = 100 * np.mean(ehe["sen"] == SEN.EHCP) if len(ehe) else np.nan
    for col in (
        "fines_per_100",
        "fines_holiday_pct",
        "prosecutions_per_10000",
        "ehe_census_pct",
        "ehe_census_sen_support_pct",
        "ehe_census_ehcp_pct",
        "ehe_census_y10_11_pct",
        "ehe_entrants_prior_absence_pct",
        "unexplained_exit_cohort_pct",
        "unexplained_exit_top6_share_pct",
        "ehe_coerced_pct",
        "offrolled_per_1000",
    ):
        if col in yr:
            out[col] = float(yr[col].mean())
            out[col + "_first_year"] = float(yr[col].iloc[0])
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="scenarios/baseline.toml")
    ap.add_argument("--scale", type=float, default=0.25)
    ap.add_argument("--seeds", type=int, default=4)
    args = ap.parse_args(argv)
    scenario = load_scenario(args.scenario).with_(scale=args.scale)
    rows = []
    for s in range(args.seeds):
        rows.append(one_run(scenario, scenario.seed + s))
        print(f"seed {s + 1}/{args.seeds} done", file=sys.stderr)
    df = pd.DataFrame(rows).drop(columns="seed")
    table = pd.DataFrame({"mean": df.mean(), "sd": df.std(ddof=1) if len(df) > 1 else np.nan})
    with pd.option_context("display.float_format", "{:.2f}".format, "display.max_rows", 200):
        print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
