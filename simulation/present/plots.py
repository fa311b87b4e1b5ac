"""Figures over time: children out of school week by week (small multiples, one status a panel),
paired effects by academic year, and fan charts by academic year.

These show how a measure moves across the run (bands over replicates), with the published
figures beside the model where they exist (``simulation/data/england_targets.csv``). The report
draws paired effects (the difference from the baseline and its band) rather than fans, whose
unpaired bands overlap where the paired effect is clear; ``plot_fan`` stays for one scenario's
spread. The scenario comparison figures are in :mod:`.comparison_plots` and the shared style in
:mod:`.plot_style`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simulation.analysis.paired import t_interval
from simulation.model import timeline as tl
from simulation.model.metrics import HEADLINE_LABELS

from .comparison_plots import _titled, _wrap
from .plot_style import (
    _LINESTYLES,
    _SLIDE_RC,
    OKABE_ITO,
    _finish,
    _need,
    _pyplot,
    _save,
    _year_label,
    scenario_colours,
)

# Status columns of the `weeks` table that count children (the population denominator).
POPULATION_STATUSES = ["on_roll", "special", "ap", "s19", "ehe", "cme"]

OUT_OF_SCHOOL = {  # column: (label, colour)
    "ehe": ("Elective home education (EHE)", OKABE_ITO["blue"]),
    "cme": ("Children missing education (CME)", OKABE_ITO["vermillion"]),
    "s19": ("Section 19 provision (out of school, LA-arranged)", OKABE_ITO["bluish_green"]),
    "ap": ("Alternative provision (AP)", OKABE_ITO["orange"]),
}


def out_of_school_rates(weeks: pd.DataFrame) -> pd.DataFrame:
    """Per scenario, status and week: median and 5th/95th percentile across replicates of
    children per 1,000 (5-16 population: all statuses except ``left``), summed over LAs."""
    need = {"scenario", "replicate", "t_week", "academic_year", "week", *POPULATION_STATUSES}
    missing = sorted(need - set(weeks.columns))
    if missing:
        raise ValueError(f"weeks table: missing columns {', '.join(missing)}")
    if weeks.empty:
        raise ValueError("weeks table: no rows to plot")
    keys = ["scenario", "replicate", "t_week", "academic_year", "week"]
    summed = weeks.groupby(keys, sort=True)[POPULATION_STATUSES].sum().reset_index()
    pop = summed[POPULATION_STATUSES].sum(axis=1).replace(0, np.nan)
    start = summed.groupby("scenario")["t_week"].transform("min")
    summed["weeks_since_start"] = summed["t_week"] - start
    parts = []
    for col in OUT_OF_SCHOOL:
        rate = summed[["scenario", "weeks_since_start", "academic_year", "week"]].copy()
        rate["status"] = col
        rate["per_1000"] = summed[col] / pop * 1000
        parts.append(rate)
    long = pd.concat(parts, ignore_index=True)
    g = long.groupby(["scenario", "status", "weeks_since_start", "academic_year", "week"], sort=False)["per_1000"]
    out = g.agg(
        median="median",
        p5=lambda s: s.quantile(0.05),
        p95=lambda s: s.quantile(0.95),
        n_replicates="count",
    ).reset_index()
    # Scenarios in the order they first appear, statuses in legend order.
    order = {"scenario": list(dict.fromkeys(weeks["scenario"])), "status": list(OUT_OF_SCHOOL)}
    for col, cats in order.items():
        out[col] = pd.Categorical(out[col], categories=cats)
    out = out.sort_values(["scenario", "status", "weeks_since_start"], kind="stable")
    for col in order:
        out[col] = out[col].astype(str)
    out = out.reset_index(drop=True)
    return out


# Published census-day stocks drawn on the out-of-school panels: metric (% of 5-16) per status column.
PUBLISHED_STOCK = {"ehe": "ehe_census_pct", "cme": "cme_census_pct"}


def published_stocks(data: pd.DataFrame) -> pd.DataFrame:
    """The published autumn-census stocks (per 1,000 children) for the years ``data`` covers, placed
    at the census week of each year: one row per status with a published figure."""
    from simulation.analysis.targets import published_points

    first = data.drop_duplicates(["academic_year", "week", "weeks_since_start"])
    start = first[first["week"] == 0].set_index("academic_year")["weeks_since_start"]
    rows = []
    for col, metric in PUBLISHED_STOCK.items():
        for _, r in published_points(metric, start.index).iterrows():
            rows.append(
                {
                    "status": col,
                    "academic_year": int(r["academic_year"]),
                    "weeks_since_start": float(start[r["academic_year"]] + tl.AUTUMN_CENSUS),
                    "per_1000": 10 * r["value"],
                    "low": 10 * r["low"],
                    "high": 10 * r["high"],
                    "period": r["period"],
                }
            )
    return pd.DataFrame(
        rows, columns=["status", "academic_year", "weeks_since_start", "per_1000", "low", "high", "period"]
    )


def plot_out_of_school(weeks: pd.DataFrame, path_stem: Path, titles: dict[str, str] | None = None) -> dict[str, Path]:
    """Children per 1,000 in EHE, CME, Section 19 provision and AP, week by week: one panel per
    status (each on its own scale), one line per scenario (median over replicates, band: 5-95%),
    and the published autumn-census figures as diamonds where they exist.

    Writes ``<path_stem>.png``, ``.svg`` and ``.csv`` (the plotted numbers) and returns their paths.
    """
    path_stem = Path(path_stem)
    data = out_of_school_rates(weeks)
    plt = _pyplot()
    scenarios = list(dict.fromkeys(data["scenario"]))
    names = dict(zip(scenarios, _titled(scenarios, titles), strict=True))
    colours = scenario_colours(scenarios)
    n_rep = int(data["n_replicates"].max())
    published = published_stocks(data)
    first = data[data["scenario"] == scenarios[0]]
    year_starts = first[first["week"] == 0].drop_duplicates("weeks_since_start")
    x_max = max(float(data["weeks_since_start"].max()), 1)

    with plt.rc_context(_SLIDE_RC):
        fig, axes = plt.subplots(2, 2, figsize=(15, 9.5), sharex=True)
        for ax, (col, (label, _)) in zip(axes.flat, OUT_OF_SCHOOL.items(), strict=True):
            for si, scen in enumerate(scenarios):
                d = data[(data["scenario"] == scen) & (data["status"] == col)]
                c = colours[scen]
                ax.plot(
                    d["weeks_since_start"],
                    d["median"],
                    color=c,
                    lw=2.2,
                    ls=_LINESTYLES[si % len(_LINESTYLES)],
                    label=names[scen],
                )
                if n_rep > 1:
                    ax.fill_between(d["weeks_since_start"], d["p5"], d["p95"], color=c, alpha=0.15, lw=0)
            pub = published[published["status"] == col]
            if len(pub):
                ax.errorbar(
                    pub["weeks_since_start"],
                    pub["per_1000"],
                    yerr=np.vstack([pub["per_1000"] - pub["low"], pub["high"] - pub["per_1000"]]),
                    fmt="D",
                    ms=8,
                    capsize=4,
                    color=OKABE_ITO["vermillion"],
                    label="Published, England (autumn census, range)",
                )
            top = float(max(data.loc[data["status"] == col, "p95"].max(), pub["high"].max() if len(pub) else 0.0, 1e-9))
            for x in year_starts["weeks_since_start"]:
                ax.axvline(x, color="0.8", lw=1, zorder=0)
            ax.set_ylim(0, top * 1.1)
            ax.set_xlim(0, x_max)
            ax.set_title(label, loc="left", fontsize=15)
            ax.set_ylabel("Children per 1,000 aged 5-16")
            ax.grid(axis="y", color="0.9")
            ax.spines[["top", "right"]].set_visible(False)
        ticks = year_starts["weeks_since_start"].to_numpy()
        for ax in axes[1]:
            ax.set_xticks(ticks, [_year_label(y) for y in year_starts["academic_year"]])
            ax.set_xlabel("Academic year, week by week (gridlines: September)")
        handles, labels = [], []
        for ax in axes.flat:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        fig.legend(
            handles, labels, loc="lower center", bbox_to_anchor=(0.5, -0.06), ncol=min(len(labels), 3), frameon=False
        )
        how = f"line: median of {n_rep} replicates, band: 5-95% range" if n_rep > 1 else "one replicate (no band)"
        fig.suptitle(
            "Children out of school or in alternative provision, per 1,000 children, week by week\n"
            f"one panel per status, each on its own scale; {how}",
            x=0.01,
            ha="left",
            fontsize=16,
        )
        fig.tight_layout(rect=(0, 0.02, 1, 0.97))
        png, svg = _save(fig, path_stem)
        plt.close(fig)
    csv = path_stem.with_suffix(".csv")
    data.to_csv(csv, index=False)
    return {"png": png, "svg": svg, "csv": csv}


# --- paired effects by year (instead of unpaired fans) --------------------------------------------


def paired_effect_data(years: pd.DataFrame, metric: str, baseline: str) -> pd.DataFrame:
    """Per scenario and academic year (and ``academic_year`` -1 for the mean over all years): the
    mean and 5-95% range over replicates of ``metric``, and for the other scenarios the paired
    difference from the baseline (replicate by replicate) with its 90% t-interval."""
    _need(years, {"scenario", "replicate", "academic_year", metric}, "years")
    if baseline not in set(years["scenario"]):
        raise ValueError(f"years table: no rows for the baseline {baseline!r}")
    by_run = years.groupby(["scenario", "replicate"], sort=False)[metric].mean().rename("value").reset_index()
    every = pd.concat(
        [
            years[["scenario", "replicate", "academic_year", metric]].rename(columns={metric: "value"}),
            by_run.assign(academic_year=-1),
        ],
        ignore_index=True,
    )
    base = every[every["scenario"] == baseline].set_index(["academic_year", "replicate"])["value"]
    rows = []
    for (scen, year), g in every.groupby(["scenario", "academic_year"], sort=False):
        v = g["value"].to_numpy(float)
        row = {
            "scenario": scen,
            "academic_year": int(year),
            "metric": metric,
            "mean": float(np.nanmean(v)),
            "p5": float(np.nanquantile(v, 0.05)),
            "p95": float(np.nanquantile(v, 0.95)),
            "n_replicates": len(v),
        }
        if scen != baseline:
            b = base.reindex(pd.MultiIndex.from_arrays([[year] * len(g), g["replicate"]])).to_numpy(float)
            row["diff"], row["diff_lo"], row["diff_hi"] = t_interval(v - b)
        rows.append(row)
    cols = ["scenario", "academic_year", "metric", "mean", "p5", "p95", "n_replicates", "diff", "diff_lo", "diff_hi"]
    return pd.DataFrame(rows).reindex(columns=cols)


def plot_paired_effect(
    years: pd.DataFrame,
    metric: str,
    path_stem: Path,
    baseline: str,
    *,
    label: str = "",
    unit: str = "",
    titles: dict[str, str] | None = None,
    published: pd.DataFrame | None = None,
) -> dict:
    """Left: the baseline by year (mean, 5-95% of replicates) with the published figures for that
    year beside it. Right: each scenario's paired difference from the baseline by year and over
    all years, with its 90% interval: the effect and its band, not two overlapping fans."""
    from .plot_style import _year_label

    path_stem = Path(path_stem)
    label = label or HEADLINE_LABELS.get(metric, (metric, ""))[0]
    unit = unit or HEADLINE_LABELS.get(metric, ("", ""))[1]
    data = paired_effect_data(years, metric, baseline)
    scenarios = list(dict.fromkeys(data["scenario"]))
    names = dict(zip(scenarios, _titled(scenarios, titles), strict=True))
    colours = scenario_colours(scenarios)
    yrs = sorted(y for y in data["academic_year"].unique() if y >= 0)
    all_x = (yrs[-1] + 1.3) if yrs else 0.0
    reps = int(data["n_replicates"].max())
    plt = _pyplot()
    with plt.rc_context(_SLIDE_RC):
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(16, 6.5), gridspec_kw={"width_ratios": [1, 1.35], "wspace": 0.3})
        b = data[(data["scenario"] == baseline) & (data["academic_year"] >= 0)]
        ax.fill_between(
            b["academic_year"], b["p5"], b["p95"], color="0.6", alpha=0.3, lw=0, label="5-95% of replicates"
        )
        ax.plot(b["academic_year"], b["mean"], color=OKABE_ITO["black"], lw=2.6, marker="o", label=names[baseline])
        pub = published if published is not None else pd.DataFrame()
        if len(pub):
            err = np.vstack([pub["value"] - pub["low"], pub["high"] - pub["value"]])
            ax.errorbar(
                pub["academic_year"].to_numpy(float) + 0.08,
                pub["value"],
                yerr=err,
                fmt="D",
                ms=9,
                color=OKABE_ITO["vermillion"],
                capsize=5,
                lw=2,
                label="Published, England (range)",
            )
        ax.set_xticks(yrs, [_year_label(y) for y in yrs])
        ax.set_xlabel("Academic year")
        ax.set_ylabel(_wrap(f"{label} ({unit})", 40))
        ax.set_ylim(0, None)
        ax.set_title("Baseline" + (" against published figures" if len(pub) else ""), loc="left")
        ax.grid(axis="y", color="0.9")
        ax.legend(loc="lower right", frameon=False, fontsize=11)
        others = [sc for sc in scenarios if sc != baseline]
        n = max(len(others), 1)
        for i, scen in enumerate(others):
            d = data[data["scenario"] == scen]
            by_year, every = d[d["academic_year"] >= 0], d[d["academic_year"] < 0]
            dx = (i - (n - 1) / 2) * 0.08
            x = by_year["academic_year"].to_numpy(float) + dx
            c = colours[scen]
            ax2.fill_between(x, by_year["diff_lo"], by_year["diff_hi"], color=c, alpha=0.18, lw=0)
            ax2.plot(x, by_year["diff"], color=c, lw=2.4, marker="o", ls=_LINESTYLES[i % len(_LINESTYLES)])
            if len(every):
                r = every.iloc[0]
                ax2.errorbar(
                    all_x + dx * 2,
                    r["diff"],
                    yerr=[[r["diff"] - r["diff_lo"]], [r["diff_hi"] - r["diff"]]],
                    fmt="s",
                    ms=9,
                    color=c,
                    capsize=5,
                    lw=2.4,
                    label=names[scen],
                )
        ax2.axhline(0, color="0.3", lw=1.2)
        ax2.set_xticks([*yrs, all_x], [*(_year_label(y) for y in yrs), "All years"])
        ax2.set_xlabel("Academic year (square: mean over all years)")
        ax2.set_ylabel(_wrap(f"Change against the baseline ({unit})", 40))
        ax2.set_title("Paired effect: scenario minus baseline, same children", loc="left")
        ax2.grid(axis="y", color="0.9")
        ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=min(n, 3), frameon=False, fontsize=12)
        fig.suptitle(
            _wrap(f"{label}: the change each scenario makes", 90)
            + f"\nline and band: mean and 90% interval of the paired difference over {reps} replicates",
            x=0.01,
            ha="left",
            fontsize=16,
            y=1.04,
        )
        out = data.copy()
        out["academic_year"] = out["academic_year"].map(lambda y: "all years" if y < 0 else str(y))
        if len(pub):
            out = pd.concat([out, pub.assign(scenario="published", academic_year=pub["academic_year"].astype(str))])
        return _finish(fig, [ax, ax2], path_stem, out)


def fan_data(years: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Median and 50%/90% bands across replicates of ``metric``, per scenario and academic year."""
    _need(years, {"scenario", "replicate", "academic_year", metric}, "years")
    g = years.groupby(["scenario", "academic_year"], sort=False)[metric]
    out = g.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
    out.columns = ["p5", "p25", "median", "p75", "p95"]
    out["n_replicates"] = g.count()
    return out.reset_index().assign(metric=metric)


def plot_fan(years: pd.DataFrame, metric: str, path_stem: Path, *, label: str = "", unit: str = "") -> dict:
    """A fan chart by academic year: per scenario the median (line), 50% band (dark) and 90% band (light)
    across replicates. Returns the paths of the PNG, SVG and CSV written, and the figure."""
    path_stem = Path(path_stem)
    label, unit = (
        label or HEADLINE_LABELS.get(metric, (metric, ""))[0],
        unit or HEADLINE_LABELS.get(metric, ("", ""))[1],
    )
    data = fan_data(years, metric)
    scenarios = list(dict.fromkeys(data["scenario"]))
    colours = scenario_colours(scenarios)
    plt = _pyplot()
    with plt.rc_context(_SLIDE_RC):
        fig, ax = plt.subplots(figsize=(12, 6.75))
        n = len(scenarios)
        for i, scen in enumerate(scenarios):
            d = data[data["scenario"] == scen]
            x = d["academic_year"].to_numpy(float) + (i - (n - 1) / 2) * 0.06  # small dodge: bands stay readable
            c = colours[scen]
            ax.fill_between(x, d["p5"], d["p95"], color=c, alpha=0.12, lw=0)
            ax.fill_between(x, d["p25"], d["p75"], color=c, alpha=0.3, lw=0)
            ax.plot(x, d["median"], color=c, lw=2.6, marker="o", label=scen)
        ticks = sorted(data["academic_year"].unique())
        ax.set_xticks(ticks, [_year_label(y) for y in ticks])
        ax.set_xlabel("Academic year (September to August)")
        ax.set_ylabel(f"{label}\n({unit})" if unit else label)
        reps = int(data["n_replicates"].max())
        ax.set_title(
            f"{label}, by academic year and scenario\nline: median of {reps} replicates; "
            "bands: middle 50% (dark) and 90% (light)",
            loc="left",
        )
        ax.grid(axis="y", color="0.9")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=min(n, 4), frameon=False)
        return _finish(fig, [ax], path_stem, data)
