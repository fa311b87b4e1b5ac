"""Figures over time: children out of school week by week, and fan charts by academic year.

These show how a measure moves across the run (median and bands over replicates); the
scenario comparison figures are in :mod:`.comparison_plots` and the shared style in
:mod:`.plot_style`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simulation.model.metrics import HEADLINE_LABELS

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


def plot_out_of_school(weeks: pd.DataFrame, path_stem: Path) -> dict[str, Path]:
    """Children per 1,000 in EHE, CME, Section 19 provision and AP, week by week: one small panel
    per status, each with its own scale (AP and Section 19 are a tenth of home education), the
    scenarios as lines in the same panels (colour-blind-safe colours and line styles).

    Lines are the median across replicates and the shaded band the 5-95% range. Writes
    ``<path_stem>.png``, ``.svg`` and ``.csv`` (the plotted numbers) and returns their paths.
    """
    from .comparison_plots import scenario_title

    path_stem = Path(path_stem)
    data = out_of_school_rates(weeks)
    plt = _pyplot()
    scenarios = list(dict.fromkeys(data["scenario"]))
    n_rep = int(data["n_replicates"].max())
    colours = list(OKABE_ITO.values())
    colour = {scen: ("black" if i == 0 else colours[(i - 1) % len(colours)]) for i, scen in enumerate(scenarios)}
    first = data[data["scenario"] == scenarios[0]]
    year_starts = first[first["week"] == 0].drop_duplicates("weeks_since_start")
    with plt.rc_context({"font.size": 13, "axes.titlesize": 14, "axes.labelsize": 13, "legend.fontsize": 12}):
        fig, axes = plt.subplots(2, 2, figsize=(13, 8), sharex=True)
        for ax, (col, (label, single)) in zip(axes.flat, OUT_OF_SCHOOL.items(), strict=True):
            for si, scen in enumerate(scenarios):
                d = data[(data["scenario"] == scen) & (data["status"] == col)]
                c = single if len(scenarios) == 1 else colour[scen]
                ls = _LINESTYLES[si % len(_LINESTYLES)]
                ax.plot(d["weeks_since_start"], d["median"], color=c, lw=2.2, ls=ls, label=scenario_title(scen))
                if n_rep > 1:
                    ax.fill_between(d["weeks_since_start"], d["p5"], d["p95"], color=c, alpha=0.18, lw=0)
            top = float(data[data["status"] == col][["median", "p95"]].max().max())
            ax.set_ylim(0, top * 1.15 if top > 0 else 1)
            for x in year_starts["weeks_since_start"]:
                ax.axvline(x, color="0.8", lw=1, zorder=0)
            ax.set_title(label, loc="left")
            ax.set_ylabel("per 1,000 aged 5-16")
            ax.grid(axis="y", color="0.92")
            ax.spines[["top", "right"]].set_visible(False)
        ticks = year_starts["weeks_since_start"].to_numpy()
        for ax in axes[1]:
            ax.set_xticks(ticks, [f"{int(y)}/{(int(y) + 1) % 100:02d}" for y in year_starts["academic_year"]])
            ax.set_xlabel("Academic year (weeks; gridlines: start of September)")
        how = f"line: median of {n_rep} replicates, band: 5-95% range" if n_rep > 1 else "one replicate (no band)"
        fig.suptitle(
            f"Children out of school or in alternative provision, per 1,000, week by week ({how})",
            x=0.01,
            ha="left",
        )
        if len(scenarios) > 1:
            handles, labels = axes.flat[0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="lower center", ncol=min(len(scenarios), 4), frameon=False)
            fig.subplots_adjust(bottom=0.13)
        png, svg = _save(fig, path_stem)
        plt.close(fig)
    csv = path_stem.with_suffix(".csv")
    data.to_csv(csv, index=False)
    return {"png": png, "svg": svg, "csv": csv}


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
