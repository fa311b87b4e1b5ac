"""Figures from the result tables, each saved as PNG and SVG with a CSV of the plotted numbers.

Colours are the Okabe-Ito palette (safe for the common forms of colour blindness) and
sizes are set for a slide. matplotlib runs with the non-interactive Agg backend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simulation.model.metrics import HEADLINE, HEADLINE_LABELS

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}

# Status columns of the `weeks` table that count children (the population denominator).
POPULATION_STATUSES = ["on_roll", "special", "ap", "s19", "ehe", "cme"]

OUT_OF_SCHOOL = {  # column: (label, colour)
    "ehe": ("Elective home education (EHE)", OKABE_ITO["blue"]),
    "cme": ("Children missing education (CME)", OKABE_ITO["vermillion"]),
    "s19": ("Section 19 provision (out of school, LA-arranged)", OKABE_ITO["bluish_green"]),
    "ap": ("Alternative provision (AP)", OKABE_ITO["orange"]),
}
_LINESTYLES = ["-", "--", ":", "-."]
WEEKS_PER_YEAR = 52


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path_stem: Path) -> tuple[Path, Path]:
    path_stem.parent.mkdir(parents=True, exist_ok=True)
    png, svg = path_stem.with_suffix(".png"), path_stem.with_suffix(".svg")
    fig.savefig(png, dpi=150, bbox_inches="tight")
    fig.savefig(svg, bbox_inches="tight")
    return png, svg


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
    """Children per 1,000 in EHE, CME, Section 19 provision and AP, week by week.

    Lines are the median across replicates and the shaded band the 5-95% range. Writes
    ``<path_stem>.png``, ``.svg`` and ``.csv`` (the plotted numbers) and returns their paths.
    """
    path_stem = Path(path_stem)
    data = out_of_school_rates(weeks)
    plt = _pyplot()
    scenarios = list(dict.fromkeys(data["scenario"]))
    n_rep = int(data["n_replicates"].max())

    with plt.rc_context(
        {
            "font.size": 14,
            "axes.titlesize": 17,
            "axes.labelsize": 15,
            "legend.fontsize": 12,
            "xtick.labelsize": 13,
            "ytick.labelsize": 13,
        }
    ):
        fig, ax = plt.subplots(figsize=(12, 6.75))
        for si, scen in enumerate(scenarios):
            ls = _LINESTYLES[si % len(_LINESTYLES)]
            for col, (label, colour) in OUT_OF_SCHOOL.items():
                d = data[(data["scenario"] == scen) & (data["status"] == col)]
                name = label if len(scenarios) == 1 else f"{label} - {scen}"
                ax.plot(d["weeks_since_start"], d["median"], color=colour, lw=2.4, ls=ls, label=name)
                if n_rep > 1:
                    ax.fill_between(d["weeks_since_start"], d["p5"], d["p95"], color=colour, alpha=0.2, lw=0)
        # Mark the start of each academic year.
        first = data[data["scenario"] == scenarios[0]]
        year_starts = first[first["week"] == 0].drop_duplicates("weeks_since_start")
        top = float(data[["median", "p95"]].max().max())
        for x, year in zip(year_starts["weeks_since_start"], year_starts["academic_year"], strict=True):
            ax.axvline(x, color="0.75", lw=1, zorder=0)
            ax.text(
                x + 0.6,
                top * 1.02,
                f"{int(year)}/{(int(year) + 1) % 100:02d}",
                fontsize=12,
                color="0.35",
                va="bottom",
            )
        ax.set_ylim(0, top * 1.12 if top > 0 else 1)
        ax.set_xlim(0, max(float(data["weeks_since_start"].max()), 1))
        ax.set_xlabel("Weeks since the start of the evaluation period (academic years start in September)")
        ax.set_ylabel("Children per 1,000 aged 5-16")
        where = scenarios[0] if len(scenarios) == 1 else ", ".join(scenarios)
        if n_rep > 1:
            how = f"line: median of {n_rep} replicates, band: 5-95% range"
        else:
            how = "one replicate (no uncertainty band)"
        ax.set_title(
            f"Children out of school or in alternative provision, per 1,000\nScenario: {where}; {how}",
            loc="left",
        )
        ax.grid(axis="y", color="0.9")
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
        png, svg = _save(fig, path_stem)
        plt.close(fig)
    csv = path_stem.with_suffix(".csv")
    data.to_csv(csv, index=False)
    return {"png": png, "svg": svg, "csv": csv}


# --- scenario comparison figures (from the tables `school-exit compare` writes) -------------------

SCENARIO_COLOURS = [
    OKABE_ITO[c] for c in ("blue", "orange", "bluish_green", "vermillion", "reddish_purple", "sky_blue")
]
ROUTE_COLOURS = {  # recorded and true routes of an exit; the same family of colour for the same destination
    "Elective home education": OKABE_ITO["blue"],
    "Home education: genuine choice": OKABE_ITO["sky_blue"],
    "Home education: no choice": OKABE_ITO["blue"],
    "Home education: pushed by school": OKABE_ITO["reddish_purple"],
    "Unexplained exit (missing education)": OKABE_ITO["vermillion"],
    "Off-rolled: destination unknown": OKABE_ITO["vermillion"],
    "Permanent exclusion": OKABE_ITO["orange"],
    "Section 19 provision": OKABE_ITO["bluish_green"],
    "Section 19 after school distress": OKABE_ITO["bluish_green"],
    "Other": "0.6",
}
ROUTE_HATCH = {"Home education: pushed by school": "//", "Off-rolled: destination unknown": "//"}
_SLIDE_RC = {
    "font.size": 14,
    "axes.titlesize": 17,
    "axes.labelsize": 15,
    "legend.fontsize": 12,
    "xtick.labelsize": 13,
    "ytick.labelsize": 13,
}


def scenario_colours(scenarios: list[str]) -> dict[str, str]:
    """The baseline (first) in black, then the Okabe-Ito colours in order."""
    out = {scenarios[0]: OKABE_ITO["black"]} if scenarios else {}
    for i, s in enumerate(scenarios[1:]):
        out[s] = SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]
    return out


def _finish(fig, ax_list, path_stem: Path, data: pd.DataFrame) -> dict:
    for ax in ax_list:
        ax.spines[["top", "right"]].set_visible(False)
    png, svg = _save(fig, path_stem)
    csv = path_stem.with_suffix(".csv")
    data.to_csv(csv, index=False)
    _pyplot().close(fig)
    return {"png": png, "svg": svg, "csv": csv, "figure": fig}


def _need(df: pd.DataFrame, columns: set[str], what: str) -> None:
    missing = sorted(columns - set(df.columns))
    if missing:
        raise ValueError(f"{what} table: missing columns {', '.join(missing)}")
    if df.empty:
        raise ValueError(f"{what} table: no rows to plot")


def _year_label(year: int) -> str:
    return f"{int(year)}/{(int(year) + 1) % 100:02d}"


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


def forest_data(metrics: pd.DataFrame, shown: list[str] | None = None) -> pd.DataFrame:
    _need(metrics, {"scenario", "metric", "diff", "diff_lo", "diff_hi", "baseline_mean"}, "metrics")
    shown = shown or HEADLINE
    d = metrics[metrics["metric"].isin(shown) & metrics["diff"].notna()].copy()
    base = d["baseline_mean"].abs().replace(0, np.nan)
    for col, src in (("diff_pct", "diff"), ("lo_pct", "diff_lo"), ("hi_pct", "diff_hi")):
        d[col] = 100 * d[src] / base
    d["label"] = d["metric"].map(lambda m: HEADLINE_LABELS.get(m, (m,))[0])
    order = {m: i for i, m in enumerate(shown)}
    return d.sort_values(by="metric", key=lambda s: s.map(order), kind="stable")[
        ["scenario", "metric", "label", "baseline_mean", "diff", "diff_lo", "diff_hi", "diff_pct", "lo_pct", "hi_pct"]
    ].reset_index(drop=True)


def plot_forest(metrics: pd.DataFrame, path_stem: Path, shown: list[str] | None = None) -> dict:
    """Paired effects of each scenario on the headline measures, as % of the baseline, with 90% intervals."""
    path_stem = Path(path_stem)
    data = forest_data(metrics, shown)
    scenarios = list(dict.fromkeys(data["scenario"]))
    labels = list(dict.fromkeys(data["label"]))
    colours = dict(zip(scenarios, SCENARIO_COLOURS * 3, strict=False))
    plt = _pyplot()
    with plt.rc_context(_SLIDE_RC):
        fig, ax = plt.subplots(figsize=(12, max(5.0, 0.9 * len(labels) + 2.5)))
        n = len(scenarios)
        for i, scen in enumerate(scenarios):
            d = data[data["scenario"] == scen]
            y = np.array([labels.index(lab) for lab in d["label"]]) + (i - (n - 1) / 2) * 0.8 / max(n, 1)
            err = np.vstack([d["diff_pct"] - d["lo_pct"], d["hi_pct"] - d["diff_pct"]])
            ax.errorbar(d["diff_pct"], y, xerr=err, fmt="o", ms=8, lw=2.2, capsize=4, color=colours[scen], label=scen)
        ax.axvline(0, color="0.3", lw=1.2)
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.set_xlabel("Change against the baseline (% of the baseline mean; bars: 90% interval, paired)")
        ax.set_title(
            "Effect of each scenario on the headline measures\n"
            "paired difference from the baseline (same children, same random numbers)",
            loc="left",
        )
        ax.grid(axis="x", color="0.9")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=min(n, 4), frameon=False)
        return _finish(fig, [ax], path_stem, data)


def exit_route_data(exit_routes: pd.DataFrame) -> pd.DataFrame:
    """Mean exits a year per scenario, view and route (over replicates and years)."""
    _need(exit_routes, {"scenario", "replicate", "academic_year", "view", "route", "exits"}, "exit_routes")
    per_run = exit_routes.groupby(["scenario", "view", "route", "replicate"], sort=False)["exits"].sum()
    n_years = exit_routes.groupby("scenario")["academic_year"].nunique()
    n_reps = exit_routes.groupby("scenario")["replicate"].nunique()
    out = per_run.groupby(["scenario", "view", "route"], sort=False).sum().reset_index()
    out["exits_per_year"] = out["exits"] / out["scenario"].map(n_years * n_reps)
    return out.drop(columns="exits")


def plot_exit_routes(exit_routes: pd.DataFrame, path_stem: Path) -> dict:
    """Exits per year by route as stacked bars: what the statistics record (left) and what happened (right)."""
    path_stem = Path(path_stem)
    data = exit_route_data(exit_routes)
    scenarios = list(dict.fromkeys(exit_routes["scenario"]))
    plt = _pyplot()
    with plt.rc_context(_SLIDE_RC):
        fig, axes = plt.subplots(1, 2, figsize=(15, 7.5), sharey=True)
        for ax, view, title in (
            (axes[0], "recorded", "What the statistics record"),
            (axes[1], "true", "What really happened"),
        ):
            d = data[data["view"] == view]
            routes = [r for r in ROUTE_COLOURS if r in set(d["route"])] + sorted(set(d["route"]) - set(ROUTE_COLOURS))
            bottom = np.zeros(len(scenarios))
            for route in routes:
                v = d[d["route"] == route].set_index("scenario")["exits_per_year"].reindex(scenarios).fillna(0)
                ax.bar(
                    range(len(scenarios)),
                    v,
                    bottom=bottom,
                    color=ROUTE_COLOURS.get(route, "0.6"),
                    hatch=ROUTE_HATCH.get(route),
                    edgecolor="white",
                    lw=0.8,
                    label=route,
                )
                bottom += v.to_numpy()
            ax.set_xticks(range(len(scenarios)), scenarios, rotation=20, ha="right")
            ax.set_title(title, loc="left")
            ax.set_xlabel("Scenario")
            ax.grid(axis="y", color="0.9")
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=1, frameon=False, fontsize=11)
        axes[0].set_ylabel("Children leaving a school roll a year\n(whole LA, mean of replicates)")
        fig.suptitle("Why children leave school rolls, by route: recorded against true", x=0.01, ha="left", fontsize=17)
        return _finish(fig, list(axes), path_stem, data)


def waterfall_data(averted_summary: pd.DataFrame, scenario: str, view: str = "true") -> pd.DataFrame:
    """Baseline exits, minus averted, plus new, equals exits under the policy (children a year).

    Each step is a bar from ``bottom`` to ``top``; ``value`` is its signed size, ``lo``/``hi`` the 90%
    interval of that size, drawn as an error bar at ``err_at``."""
    _need(averted_summary, {"scenario", "view", "measure", "route", "mean", "lo", "hi"}, "averted_summary")
    d = averted_summary[
        (averted_summary["scenario"] == scenario)
        & (averted_summary["view"] == view)
        & (averted_summary["route"] == "All routes")
    ].set_index("measure")
    if d.empty:
        raise ValueError(f"averted_summary table: no rows for scenario {scenario!r}")
    base, averted, new, pol = (d.loc[m] for m in ("baseline_exits", "averted", "new", "policy_exits"))
    after = base["mean"] - averted["mean"]
    rows = [
        ("Baseline: children who left", 0.0, base["mean"], base["mean"], base["lo"], base["hi"], base["mean"]),
        (
            "Averted: left only in the baseline",
            after,
            base["mean"],
            -averted["mean"],
            -averted["hi"],
            -averted["lo"],
            after,
        ),
        (
            "New: left only under the policy",
            after,
            after + new["mean"],
            new["mean"],
            new["lo"],
            new["hi"],
            after + new["mean"],
        ),
        ("Policy: children who left", 0.0, pol["mean"], pol["mean"], pol["lo"], pol["hi"], pol["mean"]),
    ]
    cols = ["step", "bottom", "top", "value", "lo", "hi", "err_at"]
    return pd.DataFrame(rows, columns=cols).assign(scenario=scenario)


def plot_waterfall(
    averted_summary: pd.DataFrame, displacement_summary: pd.DataFrame, scenario: str, path_stem: Path, top: int = 6
) -> dict:
    """Children leaving a school roll a year: the baseline, averted, new and the policy (left), and the
    children who left by another route instead (right: the largest route changes)."""
    path_stem = Path(path_stem)
    steps = waterfall_data(averted_summary, scenario)
    disp = displacement_summary[
        (displacement_summary["scenario"] == scenario) & (displacement_summary["view"] == "true")
    ].nlargest(top, "mean")
    plt = _pyplot()
    colours = [OKABE_ITO["black"], OKABE_ITO["bluish_green"], OKABE_ITO["vermillion"], OKABE_ITO["blue"]]
    with plt.rc_context(_SLIDE_RC):
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(17, 7), gridspec_kw={"width_ratios": [1, 1], "wspace": 0.8})
        for i, r in steps.iterrows():
            ax.bar(i, r["top"] - r["bottom"], bottom=r["bottom"], color=colours[i], width=0.65)
            # the interval of the step's size, around the end of the bar it moves
            low, high = r["err_at"] - (r["value"] - r["lo"]), r["err_at"] + (r["hi"] - r["value"])
            if np.isfinite(low) and np.isfinite(high):
                ax.plot([i, i], [low, high], color="0.25", lw=2)
            text = f"{r['value']:+,.0f}" if i in (1, 2) else f"{r['value']:,.0f}"
            ax.text(i + 0.36, r["top"], text, ha="left", va="bottom", fontsize=13)
        ax.set_xticks(range(4), ["Baseline", "Averted", "New", "Policy"])
        ax.set_ylabel("Children leaving a school roll a year\n(whole LA, mean of replicates)")
        ax.set_xlabel("Averted and new: the same children matched across paired runs\n(line: 90% interval)")
        ax.set_title("Exits averted and new", loc="left")
        ax.grid(axis="y", color="0.9")
        if disp.empty:
            ax2.text(0.5, 0.5, "No child left by another route", ha="center", va="center", transform=ax2.transAxes)
            ax2.set_yticks([])
        else:
            labels = [f"{a}\n-> {b}" for a, b in zip(disp["from_route"], disp["to_route"], strict=True)]
            err = np.vstack([disp["mean"] - disp["lo"].clip(lower=0), disp["hi"] - disp["mean"]])
            ax2.barh(range(len(disp)), disp["mean"], xerr=err, color=OKABE_ITO["orange"], capsize=4)
            ax2.set_yticks(range(len(disp)), labels, fontsize=11)
            ax2.invert_yaxis()
        ax2.set_xlabel("Children a year (mean, 90% interval)")
        ax2.set_title("Displaced: left by another route instead", loc="left")
        fig.suptitle(
            f"{scenario}: children leaving school rolls, averted, new and displaced", x=0.01, ha="left", fontsize=17
        )
        data = pd.concat(
            [steps.assign(panel="waterfall"), disp.assign(panel="displaced").rename(columns={"mean": "value"})],
            ignore_index=True,
        )
        return _finish(fig, [ax, ax2], path_stem, data)


def ehcp_wait_data(ehcp_waits: pd.DataFrame, bin_weeks: int = 4) -> pd.DataFrame:
    """Share of new plans by weeks waited (``bin_weeks`` bins), per scenario, pooled over replicates."""
    _need(ehcp_waits, {"scenario", "wait_weeks", "plans"}, "ehcp_waits")
    # bins (start, end]: a plan at exactly 20 weeks is on time, left of the 20-week line
    d = ehcp_waits.assign(bin_start=((ehcp_waits["wait_weeks"] - 1).clip(lower=0) // bin_weeks) * bin_weeks)
    out = d.groupby(["scenario", "bin_start"], sort=False)["plans"].sum().reset_index()
    out["share_pct"] = 100 * out["plans"] / out.groupby("scenario")["plans"].transform("sum")
    within = d[d["wait_weeks"] <= 20].groupby("scenario")["plans"].sum() / d.groupby("scenario")["plans"].sum()
    out["within_20_weeks_pct"] = 100 * out["scenario"].map(within).fillna(0)
    out["bin_end"] = out["bin_start"] + bin_weeks
    return out.sort_values(["scenario", "bin_start"], kind="stable").reset_index(drop=True)


def plot_ehcp_waits(ehcp_waits: pd.DataFrame, path_stem: Path, bin_weeks: int = 4) -> dict:
    """How long new EHC plans took, per scenario, with the 20-week legal limit marked."""
    path_stem = Path(path_stem)
    data = ehcp_wait_data(ehcp_waits, bin_weeks)
    scenarios = list(dict.fromkeys(ehcp_waits["scenario"]))
    colours = scenario_colours(scenarios)
    plt = _pyplot()
    with plt.rc_context(_SLIDE_RC):
        fig, ax = plt.subplots(figsize=(12, 6.75))
        for i, scen in enumerate(scenarios):
            d = data[data["scenario"] == scen]
            within = d["within_20_weeks_pct"].iloc[0] if len(d) else 0
            x = np.append(d["bin_start"].to_numpy(), d["bin_end"].to_numpy()[-1:])
            y = np.append(d["share_pct"].to_numpy(), d["share_pct"].to_numpy()[-1:])
            ax.step(
                x,
                y,
                where="post",
                color=colours[scen],
                lw=2.4,
                ls=_LINESTYLES[i % len(_LINESTYLES)],
                label=f"{scen}: {within:.0f}% within 20 weeks",
            )
        ax.axvline(20, color=OKABE_ITO["vermillion"], lw=2, ls="--")
        ax.set_ylim(0, None)
        ax.text(20.8, ax.get_ylim()[1] * 0.5, "20-week legal limit", color=OKABE_ITO["vermillion"], va="center")
        ax.set_xlabel(f"Weeks from request to plan ({bin_weeks}-week bins; on the line: on time)")
        ax.set_ylabel("Share of new EHC plans (%)")
        ax.set_xlim(0, None)
        ax.set_ylim(0, None)
        ax.set_title(
            "How long children wait for an EHC plan, by scenario\nnew plans pooled over replicates and years",
            loc="left",
        )
        ax.grid(axis="y", color="0.9")
        ax.legend(loc="upper right", frameon=False)
        return _finish(fig, [ax], path_stem, data)


def _ratio_ticks(ax, values: np.ndarray) -> None:
    """Plain-number ticks (0.5, 0.8, 1, 1.25, 2 ...) on a log ratio axis."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    v = values[np.isfinite(values) & (values > 0)]
    lo, hi = (min(v.min(), 0.95), max(v.max(), 1.05)) if len(v) else (0.5, 2.0)
    ticks = [
        t
        for t in (0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2, 3, 5, 10)
        if lo / 1.1 <= t <= hi * 1.1
    ]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:g}")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())


def plot_equality(equality_summary: pd.DataFrame, path_stem: Path) -> dict:
    """Risk ratios (scenario / baseline) of leaving a school roll, by group, with 90% intervals."""
    path_stem = Path(path_stem)
    _need(equality_summary, {"scenario", "group", "risk_ratio", "rr_lo", "rr_hi"}, "equality_summary")
    data = equality_summary[np.isfinite(equality_summary["risk_ratio"])][
        ["scenario", "group", "baseline_risk_per_1000", "policy_risk_per_1000", "risk_ratio", "rr_lo", "rr_hi"]
    ].reset_index(drop=True)
    groups = list(dict.fromkeys(data["group"]))
    scenarios = list(dict.fromkeys(data["scenario"]))
    colours = dict(zip(scenarios, SCENARIO_COLOURS * 3, strict=False))
    plt = _pyplot()
    with plt.rc_context(_SLIDE_RC):
        fig, ax = plt.subplots(figsize=(12, max(6.0, 0.55 * len(groups) + 2.5)))
        n = len(scenarios)
        for i, scen in enumerate(scenarios):
            d = data[data["scenario"] == scen]
            y = np.array([groups.index(g) for g in d["group"]]) + (i - (n - 1) / 2) * 0.8 / max(n, 1)
            lo, hi = d["rr_lo"].fillna(d["risk_ratio"]), d["rr_hi"].fillna(d["risk_ratio"])
            err = np.vstack([d["risk_ratio"] - lo, hi - d["risk_ratio"]]).clip(min=0)
            ax.errorbar(d["risk_ratio"], y, xerr=err, fmt="o", ms=7, lw=2, capsize=3, color=colours[scen], label=scen)
        ax.axvline(1, color="0.3", lw=1.2)
        ax.set_xscale("log")
        _ratio_ticks(ax, data[["risk_ratio", "rr_lo", "rr_hi"]].to_numpy())
        ax.set_yticks(range(len(groups)), groups)
        ax.invert_yaxis()
        ax.set_xlabel("Risk ratio of leaving a school roll (scenario / baseline; log scale; below 1: fewer leave)")
        ax.set_title(
            "Who gains: risk of leaving a school roll by group, against the baseline\n"
            "group read at exit; bars: 90% interval (bootstrap over replicates)",
            loc="left",
        )
        ax.grid(axis="x", color="0.9", which="both")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=min(n, 4), frameon=False)
        return _finish(fig, [ax], path_stem, data)
