"""Scenario comparison figures, from the tables ``school-exit compare`` writes.

Each sets a policy against the baseline (paired effects, exit routes, averted and displaced
exits, EHC plan waits, who gains), so they are read together and share the route colours.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simulation.model.metrics import HEADLINE, HEADLINE_LABELS

from .plot_style import _LINESTYLES, _SLIDE_RC, OKABE_ITO, SCENARIO_COLOURS, _finish, _need, _pyplot, scenario_colours

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
