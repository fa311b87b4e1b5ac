"""Scenario comparison figures, from the tables ``school-exit compare`` writes.

Each sets a policy against the baseline (paired effects by year, effects on the headline, exit
routes, averted and displaced children, EHC plan waits, who gains), so they are read together
and share the route colours. Every number a figure claims carries its interval; where a
published figure exists (``simulation/data/england_targets.csv``) it is drawn beside the model's.
Counts are the catalogue's (:data:`simulation.model.metrics.COUNTS`): the exit-routes bars, the
waterfall and the headline all count children leaving a school roll a year, the same children.

Scenarios are named for people by :func:`scenario_title` (or a ``titles`` mapping).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.analysis.paired import t_interval
from simulation.model.metrics import HEADLINE, HEADLINE_LABELS

from .plot_style import _LINESTYLES, _SLIDE_RC, OKABE_ITO, SCENARIO_COLOURS, _finish, _need, _pyplot, scenario_colours

_WORDS = {  # how a scenario name's words are written for people
    "childrens": "Children's",
    "commissioner": "Commissioner",
    "send": "SEND",
    "sen": "SEN",
    "ehcp": "EHCP",
    "ehe": "home education",
    "cme": "CME",
    "la": "LA",
    "las": "LAs",
    "ap": "AP",
    "camhs": "CAMHS",
    "mhst": "mental health support team",
    "ebsa": "EBSA",
    "s19": "Section 19",
    "ofsted": "Ofsted",
    "dfe": "DfE",
    "fsm": "FSM",
    "handset": "hand-set",
}


def scenario_title(name: str, source: str | None = None, title: str | None = None) -> str:
    """A scenario's name for people: its ``title`` if it has one, else its snake_case name written
    out ("childrens_commissioner" from ``package_childrens_commissioner.toml``: "Children's
    Commissioner package")."""
    if title:
        return str(title)
    words = [w for w in re.split(r"[_\s]+", str(name)) if w]
    out = [_WORDS.get(w.lower(), w.lower()) for w in words]
    if out and out[0] == out[0].lower():
        out[0] = out[0][:1].upper() + out[0][1:]
    text = " ".join(out) or str(name)
    if source and Path(source).stem.startswith("package") and "package" not in text.lower():
        text += " package"
    return text


def _titled(names, titles: dict[str, str] | None) -> list[str]:
    return [(titles or {}).get(n) or scenario_title(n) for n in names]


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
    "Directed to AP without exclusion": "0.6",
    "Other": "0.8",
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


def plot_forest(
    metrics: pd.DataFrame, path_stem: Path, shown: list[str] | None = None, titles: dict[str, str] | None = None
) -> dict:
    """Paired effects of each scenario on the headline measures, as % of the baseline, with 90% intervals."""
    path_stem = Path(path_stem)
    data = forest_data(metrics, shown)
    scenarios = list(dict.fromkeys(data["scenario"]))
    names = dict(zip(scenarios, _titled(scenarios, titles), strict=True))
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
            ax.errorbar(
                d["diff_pct"], y, xerr=err, fmt="o", ms=8, lw=2.2, capsize=4, color=colours[scen], label=names[scen]
            )
        ax.axvline(0, color="0.3", lw=1.2)
        ax.set_yticks(range(len(labels)), [_wrap(lab, 44) for lab in labels])
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


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


# --- exit routes -------------------------------------------------------------------------------------


def exit_route_data(exit_routes: pd.DataFrame) -> pd.DataFrame:
    """Children leaving a school roll a year per scenario, view and route (the route of each child's
    first move off a roll in the year; mean over replicates), the moves off a roll beside them, and
    per scenario and view the total with its 90% interval over replicates."""
    _need(exit_routes, {"scenario", "replicate", "academic_year", "view", "route", "children", "moves"}, "exit_routes")
    n_years = exit_routes.groupby("scenario")["academic_year"].nunique()
    n_reps = exit_routes.groupby("scenario")["replicate"].nunique()
    keys = ["scenario", "view", "route"]
    out = exit_routes.groupby(keys, sort=False)[["children", "moves"]].sum().reset_index()
    per = out["scenario"].map(n_years * n_reps)
    out["children_per_year"], out["moves_per_year"] = out["children"] / per, out["moves"] / per
    per_rep = exit_routes.groupby(["scenario", "view", "replicate"], sort=False)["children"].sum()
    totals = {}
    for (scen, view), v in per_rep.groupby(level=["scenario", "view"], sort=False):
        totals[(scen, view)] = t_interval(v.to_numpy(float) / n_years[scen])
    tot = pd.DataFrame(
        [(sc, vw, *t) for (sc, vw), t in totals.items()],
        columns=["scenario", "view", "total_per_year", "total_lo", "total_hi"],
    )
    return out.drop(columns=["children", "moves"]).merge(tot, on=["scenario", "view"], how="left")


def plot_exit_routes(exit_routes: pd.DataFrame, path_stem: Path, titles: dict[str, str] | None = None) -> dict:
    """Children leaving a roll a year by route as stacked bars, what the statistics record (left)
    and what happened (right), each total with its 90% interval over replicates."""
    path_stem = Path(path_stem)
    data = exit_route_data(exit_routes)
    scenarios = list(dict.fromkeys(exit_routes["scenario"]))
    names = _titled(scenarios, titles)
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
                v = d[d["route"] == route].set_index("scenario")["children_per_year"].reindex(scenarios).fillna(0)
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
            tot = d.drop_duplicates("scenario").set_index("scenario").reindex(scenarios)
            err = np.vstack([tot["total_per_year"] - tot["total_lo"], tot["total_hi"] - tot["total_per_year"]])
            ax.errorbar(range(len(scenarios)), bottom, yerr=np.nan_to_num(err), fmt="none", ecolor="0.2", capsize=6)
            for i, (_, r) in enumerate(tot.iterrows()):
                text = f"{r['total_per_year']:,.0f}"  # whole children, as the waterfall's baseline bar
                if np.isfinite(r["total_lo"]):
                    text += f"\n({r['total_lo']:,.0f} to {r['total_hi']:,.0f})"
                ax.text(
                    i + 0.1,
                    r["total_hi"] if np.isfinite(r["total_hi"]) else bottom[i],
                    text,
                    fontsize=11,
                    ha="left",
                    va="bottom",
                )
            ax.set_xticks(range(len(scenarios)), [_wrap(n, 13) for n in names], fontsize=12)
            ax.set_title(title, loc="left")
            ax.set_xlabel("Scenario")
            ax.grid(axis="y", color="0.9")
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=1, frameon=False, fontsize=11)
        axes[0].set_ylabel("Children leaving a school roll a year\n(whole LA, mean of replicates)")
        axes[0].set_ylim(
            0,
            float(data["total_hi"].max(skipna=True) if data["total_hi"].notna().any() else data["total_per_year"].max())
            * 1.18,
        )
        fig.suptitle(
            "Why children leave school rolls, by route: recorded against true\n"
            "bar: children a year by the route of their first move off a roll; line: 90% interval of the total\n"
            "(of each level: the paired change between scenarios, far narrower, is in the waterfalls)",
            x=0.01,
            ha="left",
            fontsize=16,
            y=1.03,
        )
        return _finish(fig, list(axes), path_stem, data)


# --- averted, new and displaced ------------------------------------------------------------------


def waterfall_data(averted_summary: pd.DataFrame, scenario: str, view: str = "true") -> pd.DataFrame:
    """Baseline children leaving, minus averted, plus new, equals the policy's (children a year).

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
    averted_summary: pd.DataFrame,
    displacement_summary: pd.DataFrame,
    scenario: str,
    path_stem: Path,
    top: int = 6,
    title: str | None = None,
) -> dict:
    """Children leaving a school roll a year: the baseline, averted, new and the policy (left), and the
    children who left by another route instead (right: the largest route changes)."""
    path_stem = Path(path_stem)
    steps = waterfall_data(averted_summary, scenario)
    net = averted_summary[
        (averted_summary["scenario"] == scenario)
        & (averted_summary["view"] == "true")
        & (averted_summary["measure"] == "net_averted")
    ]
    disp = displacement_summary[
        (displacement_summary["scenario"] == scenario) & (displacement_summary["view"] == "true")
    ].nlargest(top, "mean")
    plt = _pyplot()
    colours = [OKABE_ITO["black"], OKABE_ITO["bluish_green"], OKABE_ITO["vermillion"], OKABE_ITO["blue"]]
    with plt.rc_context(_SLIDE_RC):
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(18, 7.5), gridspec_kw={"width_ratios": [1.2, 1], "wspace": 0.7})
        peak = float(np.nanmax(np.r_[steps["top"].to_numpy(float), (steps["err_at"] + steps["hi"] - steps["value"])]))
        for i, r in steps.iterrows():
            ax.bar(i, r["top"] - r["bottom"], bottom=r["bottom"], color=colours[i], width=0.65)
            # the interval of the step's size, around the end of the bar it moves
            low, high = r["err_at"] - (r["value"] - r["lo"]), r["err_at"] + (r["hi"] - r["value"])
            if np.isfinite(low) and np.isfinite(high):
                ax.plot([i, i], [low, high], color="0.25", lw=2)
            text = f"{r['value']:+,.0f}" if i in (1, 2) else f"{r['value']:,.0f}"
            if np.isfinite(r["lo"]):
                text += f"\n({r['lo']:,.0f} to {r['hi']:,.0f})"
            above = max(r["top"], high) if np.isfinite(high) else r["top"]
            ax.text(i, above + 0.015 * peak, text, ha="center", va="bottom", fontsize=12)
        ax.set_xticks(range(4), ["Baseline", "Averted", "New", "Policy"])
        ax.set_ylim(0, peak * 1.2)
        ax.set_ylabel("Children leaving a school roll a year\n(whole LA, mean of replicates)")
        ax.set_xlabel("Averted and new: the same children matched across paired runs\n(line: 90% interval)")
        if len(net):
            r = net.iloc[0]
            if r["mean"] >= 0:
                net_text = f"Net: {r['mean']:,.0f} children a year kept on a roll ({r['lo']:,.0f} to {r['hi']:,.0f})"
            else:
                net_text = f"Net: {-r['mean']:,.0f} more children a year leave ({-r['hi']:,.0f} to {-r['lo']:,.0f})"
            ax.set_title(net_text, loc="left")
        else:
            ax.set_title("Children averted and new", loc="left")
        ax.grid(axis="y", color="0.9")
        if disp.empty:
            ax2.text(0.5, 0.5, "No child left by another route", ha="center", va="center", transform=ax2.transAxes)
            ax2.set_yticks([])
        else:
            labels = [f"{a}\n-> {b}" for a, b in zip(disp["from_route"], disp["to_route"], strict=True)]
            err = np.vstack([disp["mean"] - disp["lo"].clip(lower=0), disp["hi"] - disp["mean"]])
            ax2.barh(range(len(disp)), disp["mean"], xerr=np.nan_to_num(err), color=OKABE_ITO["orange"], capsize=4)
            ax2.set_yticks(range(len(disp)), labels, fontsize=11)
            ax2.invert_yaxis()
        ax2.set_xlabel("Children a year (mean, 90% interval)")
        ax2.set_title("Displaced: left by another route instead", loc="left")
        fig.suptitle(
            f"{title or scenario_title(scenario)}: children leaving school rolls, averted, new and displaced",
            x=0.01,
            ha="left",
            fontsize=17,
        )
        data = pd.concat(
            [steps.assign(panel="waterfall"), disp.assign(panel="displaced").rename(columns={"mean": "value"})],
            ignore_index=True,
        )
        return _finish(fig, [ax, ax2], path_stem, data)


# --- EHC plan waits --------------------------------------------------------------------------------


def ehcp_wait_data(ehcp_waits: pd.DataFrame, bin_weeks: int = 4) -> pd.DataFrame:
    """Share of new plans by weeks waited (``bin_weeks`` bins), per scenario, pooled over replicates,
    with the 5-95% range of the replicates' shares; and the share within 20 weeks (pooled) with its
    90% interval over replicates."""
    _need(ehcp_waits, {"scenario", "wait_weeks", "plans"}, "ehcp_waits")
    waits = ehcp_waits if "replicate" in ehcp_waits.columns else ehcp_waits.assign(replicate=0)
    # bins (start, end]: a plan at exactly 20 weeks is on time, left of the 20-week line
    d = waits.assign(bin_start=((waits["wait_weeks"] - 1).clip(lower=0) // bin_weeks) * bin_weeks)
    out = d.groupby(["scenario", "bin_start"], sort=False)["plans"].sum().reset_index()
    out["share_pct"] = 100 * out["plans"] / out.groupby("scenario")["plans"].transform("sum")
    rep = d.groupby(["scenario", "replicate", "bin_start"], sort=False)["plans"].sum()
    rep_share = 100 * rep / rep.groupby(level=["scenario", "replicate"]).transform("sum")
    rep_share = rep_share.unstack("bin_start").fillna(0.0).stack()
    band = rep_share.groupby(level=["scenario", "bin_start"]).quantile([0.05, 0.95]).unstack()
    band.columns = ["share_p5", "share_p95"]
    out = out.merge(band.reset_index(), on=["scenario", "bin_start"], how="left")
    within = d[d["wait_weeks"] <= 20].groupby("scenario")["plans"].sum() / d.groupby("scenario")["plans"].sum()
    out["within_20_weeks_pct"] = 100 * out["scenario"].map(within).fillna(0)
    rw = (
        d[d["wait_weeks"] <= 20].groupby(["scenario", "replicate"])["plans"].sum()
        / d.groupby(["scenario", "replicate"])["plans"].sum()
    ).fillna(0.0)
    for scen, v in rw.groupby(level="scenario"):
        _, lo, hi = t_interval(100 * v.to_numpy(float))
        out.loc[out["scenario"] == scen, ["within_20_lo", "within_20_hi"]] = lo, hi
    out["bin_end"] = out["bin_start"] + bin_weeks
    return out.sort_values(["scenario", "bin_start"], kind="stable").reset_index(drop=True)


def _range(d: pd.DataFrame, lo: str, hi: str) -> str:
    if not len(d) or lo not in d or not np.isfinite(d[lo].iloc[0]):
        return ""
    return f" ({d[lo].iloc[0]:.0f}-{d[hi].iloc[0]:.0f})"


def plot_ehcp_waits(
    ehcp_waits: pd.DataFrame,
    path_stem: Path,
    bin_weeks: int = 4,
    titles: dict[str, str] | None = None,
    published: pd.DataFrame | None = None,
) -> dict:
    """How long new EHC plans took, per scenario, with the 20-week legal limit marked (left), and the
    share issued within 20 weeks with its 90% interval beside the published figure (right)."""
    path_stem = Path(path_stem)
    data = ehcp_wait_data(ehcp_waits, bin_weeks)
    scenarios = list(dict.fromkeys(ehcp_waits["scenario"]))
    names = dict(zip(scenarios, _titled(scenarios, titles), strict=True))
    colours = scenario_colours(scenarios)
    n_reps = ehcp_waits.groupby("scenario")["replicate"].nunique() if "replicate" in ehcp_waits else {}
    plt = _pyplot()
    with plt.rc_context(_SLIDE_RC):
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(16, 6.75), gridspec_kw={"width_ratios": [1.7, 1], "wspace": 0.45})
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
                label=f"{names[scen]}: {within:.0f}% on time" + _range(d, "within_20_lo", "within_20_hi"),
            )
            if n_reps.get(scen, 1) > 1:
                lo = np.append(d["share_p5"].to_numpy(), d["share_p5"].to_numpy()[-1:])
                hi = np.append(d["share_p95"].to_numpy(), d["share_p95"].to_numpy()[-1:])
                ax.fill_between(x, lo, hi, step="post", color=colours[scen], alpha=0.15, lw=0)
        ax.axvline(20, color=OKABE_ITO["vermillion"], lw=2, ls="--")
        ax.set_ylim(0, None)
        ax.text(20.8, ax.get_ylim()[1] * 0.95, "20-week legal limit", color=OKABE_ITO["vermillion"], va="top")
        ax.set_xlabel(f"Weeks from request to plan ({bin_weeks}-week bins; on the line: on time)")
        ax.set_ylabel("Share of new EHC plans (%)")
        ax.set_xlim(0, None)
        ax.set_title("How long new plans took (band: 5-95% of replicates)", loc="left")
        ax.grid(axis="y", color="0.9")
        ax.legend(loc="upper right", bbox_to_anchor=(1.0, 0.8), frameon=False, fontsize=11)
        first = data.drop_duplicates("scenario").set_index("scenario").reindex(scenarios)
        pub = published if published is not None else pd.DataFrame()
        if len(pub):
            r = pub.iloc[-1]
            ax2.axvspan(r["low"], r["high"], color=OKABE_ITO["vermillion"], alpha=0.15, lw=0)
            ax2.axvline(r["value"], color=OKABE_ITO["vermillion"], lw=2)
            ax2.text(
                r["value"],
                1.01,
                f"published, England ({r['period']}):\n{r['value']:g}% (range {r['low']:g}-{r['high']:g})",
                color=OKABE_ITO["vermillion"],
                fontsize=11,
                ha="center",
                va="bottom",
                transform=ax2.get_xaxis_transform(),
            )
        for i, scen in enumerate(scenarios):
            r = first.loc[scen]
            lo, hi = r.get("within_20_lo", np.nan), r.get("within_20_hi", np.nan)
            err = [[r["within_20_weeks_pct"] - lo], [hi - r["within_20_weeks_pct"]]] if np.isfinite(lo) else None
            ax2.errorbar(r["within_20_weeks_pct"], i, xerr=err, fmt="o", ms=9, capsize=5, lw=2.4, color=colours[scen])
        ax2.set_yticks(range(len(scenarios)), [_wrap(names[s], 22) for s in scenarios])
        ax2.set_ylim(len(scenarios) - 0.5, -0.5)
        ax2.set_xlim(0, 100)
        ax2.set_xlabel("New plans issued within 20 weeks (%; bar: 90% interval)")
        ax2.set_title("Within the legal limit", loc="left", pad=44 if len(pub) else 6)
        ax2.grid(axis="x", color="0.9")
        fig.suptitle(
            "How long children wait for an EHC plan, by scenario (new plans pooled over replicates and years)",
            x=0.01,
            ha="left",
            fontsize=16,
            y=1.03,
        )
        return _finish(fig, [ax, ax2], path_stem, data)


# --- who gains ---------------------------------------------------------------------------------------


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


def plot_equality(equality_summary: pd.DataFrame, path_stem: Path, titles: dict[str, str] | None = None) -> dict:
    """Risk ratios (scenario / baseline) of leaving a school roll, by group, with 90% intervals."""
    path_stem = Path(path_stem)
    _need(equality_summary, {"scenario", "group", "risk_ratio", "rr_lo", "rr_hi"}, "equality_summary")
    data = equality_summary[np.isfinite(equality_summary["risk_ratio"])][
        ["scenario", "group", "baseline_risk_per_1000", "policy_risk_per_1000", "risk_ratio", "rr_lo", "rr_hi"]
    ].reset_index(drop=True)
    groups = list(dict.fromkeys(data["group"]))
    scenarios = list(dict.fromkeys(data["scenario"]))
    names = dict(zip(scenarios, _titled(scenarios, titles), strict=True))
    colours = dict(zip(scenarios, SCENARIO_COLOURS * 3, strict=False))
    base = data.drop_duplicates("group").set_index("group")["baseline_risk_per_1000"]
    plt = _pyplot()
    with plt.rc_context(_SLIDE_RC):
        fig, ax = plt.subplots(figsize=(12, max(6.0, 0.55 * len(groups) + 2.5)))
        n = len(scenarios)
        for i, scen in enumerate(scenarios):
            d = data[data["scenario"] == scen]
            y = np.array([groups.index(g) for g in d["group"]]) + (i - (n - 1) / 2) * 0.8 / max(n, 1)
            lo, hi = d["rr_lo"].fillna(d["risk_ratio"]), d["rr_hi"].fillna(d["risk_ratio"])
            err = np.vstack([d["risk_ratio"] - lo, hi - d["risk_ratio"]]).clip(min=0)
            ax.errorbar(
                d["risk_ratio"], y, xerr=err, fmt="o", ms=7, lw=2, capsize=3, color=colours[scen], label=names[scen]
            )
        ax.axvline(1, color="0.3", lw=1.2)
        ax.set_xscale("log")
        _ratio_ticks(ax, data[["risk_ratio", "rr_lo", "rr_hi"]].to_numpy())
        ax.set_yticks(range(len(groups)), [f"{g} ({base[g]:.3g})" for g in groups])
        ax.invert_yaxis()
        ax.set_xlabel("Risk ratio of leaving a school roll (scenario / baseline; log scale; below 1: fewer leave)")
        ax.set_ylabel("Group (baseline: children leaving a year per 1,000 of the group)")
        ax.set_title(
            "Who gains: risk of leaving a school roll by group, against the baseline\n"
            "group read at the year's first move off a roll; bars: 90% interval (bootstrap over replicates)",
            loc="left",
        )
        ax.grid(axis="x", color="0.9", which="both")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=min(n, 3), frameon=False)
        return _finish(fig, [ax], path_stem, data)
