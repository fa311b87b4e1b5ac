"""Draw the default LA table, ``simulation/data/england_las.csv``: 153 synthetic local authorities.

    .venv/bin/python experiments/make_england_las.py            # rewrites the CSV (about 30 s)

The LAs are synthetic (codes such as ``NW07``, named by region): no row is a real LA. The
table is drawn, with a fixed seed, to match national totals and published spreads:

- 153 LAs with education duties (DfE), split by region roughly as the DfE's regions are
  (assumption: the exact count per region is not used anywhere).
- Pupils: a 5-16 population of 8.1 million (the base of DfE's EHE and CME rates, see
  ``data/england_targets.csv``), spread across LAs log-normally (sigma 0.6, so the largest LA is
  about 20 times the smallest of the bulk, as Kent is to Rutland; assumption), at least 1,500.
- Schools in proportion to pupils, summing to about 16,700 primary, 3,450 secondary and
  1,050 special state-funded schools (DfE, Schools, pupils and their characteristics 2024/25;
  rounded), with 10% noise.
- Shares (EHCP, SEN support, FSM by SEN group, plans in mainstream, starting EHE/CME/AP) drawn
  around the national values in ``population.PopulationSpec`` with LA spreads of the size DfE's
  LA tables show (standard deviations below; assumption), then rescaled so that the
  pupil-weighted means equal the national values exactly.
- EHCP timeliness (share of new plans within 20 weeks): Beta(1.6, 1.6) around 50% (DfE EHC
  plans 2024: LAs range from under 5% to 100%; England 46-50%). The model's lever for it,
  ``assessment_capacity``, is set per LA by inverting the model's own curve of timeliness
  against capacity, measured below on the reference LA. In the model, timeliness levels off at
  about 65% (assessments held up for health or psychology advice, ``p_assessment_delayed``, miss
  20 weeks whatever the capacity), so LAs drawn above the plateau get the capacity where it starts;
  ``ehcp_timely_pct`` keeps the drawn value.
- Capacities: special-school places, AP places and support capacity drawn around the registry
  defaults (assumption).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulation import PARAMS, REFERENCE_LA, load_scenario, run_many  # noqa: E402

SEED = 20250601
OUT = ROOT / "simulation" / "data" / "england_las.csv"
TOTAL_PUPILS = 8_100_000
SCHOOLS = {"n_primary": 16_700, "n_secondary": 3_450, "n_special": 1_050}
REGIONS = {  # code: (name, number of LAs)
    "NE": ("North East", 12),
    "NW": ("North West", 24),
    "YH": ("Yorkshire and the Humber", 15),
    "EM": ("East Midlands", 9),
    "WM": ("West Midlands", 14),
    "EE": ("East of England", 11),
    "LN": ("London", 33),
    "SE": ("South East", 19),
    "SW": ("South West", 16),
}
# share: (national value, LA standard deviation, low, high)
SHARES = {
    "ehcp_share": (REFERENCE_LA.ehcp_share, 0.008, 0.025, 0.08),
    "sen_support_share": (REFERENCE_LA.sen_support_share, 0.015, 0.09, 0.2),
    "ehcp_in_mainstream": (REFERENCE_LA.ehcp_in_mainstream, 0.07, 0.35, 0.8),
    "initial_ehe_share": (REFERENCE_LA.initial_ehe_share, 0.0035, 0.003, 0.03),
    "initial_cme_share": (REFERENCE_LA.initial_cme_share, 0.0018, 0.0005, 0.012),
    "initial_ap_share": (REFERENCE_LA.initial_ap_share, 0.0015, 0.0005, 0.01),
}
FSM = ("fsm_share_ehcp", "fsm_share_sen_support", "fsm_share_no_sen")
CAPACITIES = {  # parameter: (mean, sd)
    "special_places_ratio": (PARAMS["special_places_ratio"].default, 0.07),
    "ap_places_per_1000": (PARAMS["ap_places_per_1000"].default, 1.2),
    "support_capacity_ratio": (PARAMS["support_capacity_ratio"].default, 0.08),
}


def rescale_to_mean(values: np.ndarray, weights: np.ndarray, target: float, low: float, high: float) -> np.ndarray:
    """Multiply so that the weighted mean is ``target``, keeping values within [low, high]."""
    for _ in range(50):
        values = np.clip(values * target / np.average(values, weights=weights), low, high)
    return values


def timeliness_curve(capacities=(0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.9, 5.0), seeds: int = 2) -> pd.DataFrame:
    """Share of plans within 20 weeks against assessment_capacity, on the reference LA (scale 0.25, 3 years)."""
    base = load_scenario(ROOT / "scenarios" / "baseline.toml").with_(scale=0.25, years=3)
    scens = [base.with_(name=f"cap{c}", parameters={**base.parameters, "assessment_capacity": c}) for c in capacities]
    summary = pd.concat([r.summary for r in run_many(scens, seeds, workers=2)], ignore_index=True)
    timely = summary.groupby("scenario", sort=False)["ehcp_timely_pct"].mean().to_numpy()
    return pd.DataFrame({"assessment_capacity": capacities, "ehcp_timely_pct": timely})


def capacity_for(timely: np.ndarray, curve: pd.DataFrame) -> np.ndarray:
    """The smallest capacity whose (running-maximum) timeliness reaches each target, interpolated
    linearly between measured capacities; targets above the model's plateau get the plateau's start."""
    caps = curve["assessment_capacity"].to_numpy()
    reach = np.maximum.accumulate(curve["ehcp_timely_pct"].to_numpy())
    out = np.empty(len(timely))
    for i, t in enumerate(timely):
        j = int(np.searchsorted(reach, t))  # first index with reach >= t
        if j == 0:
            out[i] = caps[0]
        elif j >= len(caps):
            out[i] = caps[int(np.argmax(reach))]
        else:
            lo, hi = reach[j - 1], reach[j]
            out[i] = caps[j - 1] + (caps[j] - caps[j - 1]) * (t - lo) / (hi - lo) if hi > lo else caps[j]
    return out


def main() -> None:
    rng = np.random.default_rng(SEED)
    codes, names, regions = [], [], []
    for code, (region, n) in REGIONS.items():
        for i in range(1, n + 1):
            codes.append(f"{code}{i:02d}")
            names.append(f"{region} LA {i}")
            regions.append(region)
    n = len(codes)
    assert n == 153

    raw = rng.lognormal(0.0, 0.6, size=n)
    pupils = np.maximum(1_500, np.round(raw / raw.sum() * TOTAL_PUPILS)).astype(int)
    pupils[np.argmax(pupils)] += TOTAL_PUPILS - pupils.sum()
    df = pd.DataFrame({"la": codes, "name": names, "region": regions, "n_pupils": pupils})
    for col, total in SCHOOLS.items():
        df[col] = np.maximum(1, np.round(pupils / TOTAL_PUPILS * total * rng.lognormal(0, 0.1, n))).astype(int)

    w = pupils.astype(float)
    for col, (mean, sd, lo, hi) in SHARES.items():
        df[col] = rescale_to_mean(np.clip(rng.normal(mean, sd, n), lo, hi), w, mean, lo, hi)
    fsm_factor = rng.lognormal(0.0, 0.3, n)  # LAs differ in deprivation; SEN groups move together
    for col in FSM:
        national = getattr(REFERENCE_LA, col)
        df[col] = rescale_to_mean(np.clip(national * fsm_factor, 0.03, 0.75), w, national, 0.03, 0.75)

    timely = np.clip(100 * rng.beta(1.6, 1.6, n), 2.0, 99.0)
    curve = timeliness_curve()
    print("model curve (reference LA):")
    print(curve.round(2).to_string(index=False))
    cap = capacity_for(timely, curve)
    p = PARAMS["assessment_capacity"]
    df["ehcp_timely_pct"] = timely.round(1)
    df["assessment_capacity"] = np.clip(cap, p.low, p.high).round(3)
    for col, (mean, sd) in CAPACITIES.items():
        p = PARAMS[col]
        df[col] = np.clip(rng.normal(mean, sd, n), p.low, p.high).round(3)
    for col in [*SHARES, *FSM]:
        df[col] = df[col].round(5)
    df.to_csv(OUT, index=False)
    print(
        f"wrote {OUT}: {n} LAs, {df['n_pupils'].sum():,} pupils, "
        f"{df['n_pupils'].min():,} to {df['n_pupils'].max():,} per LA (median {int(df['n_pupils'].median()):,})"
    )
    for col in ["n_primary", "n_secondary", "n_special"]:
        print(f"  {col}: {df[col].sum():,}")
    for col in [*SHARES, *FSM]:
        print(
            f"  {col}: weighted mean {np.average(df[col], weights=w):.4f}, "
            f"LA range {df[col].min():.4f}-{df[col].max():.4f}"
        )


if __name__ == "__main__":
    main()
