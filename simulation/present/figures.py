"""Figures for research at scale: sensitivity indices with their noise, and LA small multiples.

Same house style as :mod:`simulation.present.plot_style`: Okabe-Ito colours, labelled axes with units,
titles that say what is shown, PNG and SVG with a CSV of the plotted numbers beside them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .plot_style import OKABE_ITO, _pyplot, _save

KIND_COLOURS = {
    "uncertainty": OKABE_ITO["blue"],
    "lever": OKABE_ITO["orange"],
    "parameter": OKABE_ITO["bluish_green"],
}
KIND_LABELS = {"uncertainty": "uncertainty (the world)", "lever": "lever (policy)", "parameter": "parameter"}
TOP_N = 20
_RC = {"font.size": 12, "axes.titlesize": 14, "axes.labelsize": 12, "legend.fontsize": 11}


def _unit(output: str) -> str:
    from simulation.model.metrics import METRICS

    return METRICS.get(output, ("output units",))[0]


def _legend(ax, kinds, extra=()) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(color=KIND_COLOURS[k], label=KIND_LABELS[k]) for k in KIND_COLOURS if k in set(kinds)]
    ax.legend(handles=[*handles, *extra], loc="lower right", frameon=False)


def _noise_text(noise: pd.DataFrame, output: str) -> str:
    row = noise[noise["output"] == output]
    share = float(row["noise_share"].iloc[0]) if len(row) else np.nan
    if not np.isfinite(share):
        return "seed noise: not measured (one seed per point and no base-point runs)"
    return f"seed noise: {100 * share:.1f}% of the variance across points"


def mu_star_xerr(mu_star, half_width) -> np.ndarray:
    """``xerr`` (2 x n, below and above) for mu* bars, the lower end never reaching below 0 (mu* >= 0)."""
    from simulation.research.sensitivity import mu_star_bounds

    mu = np.asarray(mu_star, dtype=float)
    low, high = mu_star_bounds(mu, half_width)
    return np.vstack([mu - low, high - mu])


def plot_morris(indices: pd.DataFrame, noise: pd.DataFrame, output: str, path_stem: Path) -> dict[str, Path]:
    """Top parameters by mu* (bars, 95% bootstrap interval) and mu* against sigma (all parameters).

    Intervals are clipped at 0: mu* is a mean of absolute effects, and SALib's symmetric
    bootstrap half-width would otherwise draw bars into impossible negative values."""
    from simulation.research.sensitivity import mu_star_bounds

    d = indices[indices["output"] == output].sort_values("mu_star", ascending=False, na_position="last").copy()
    d["mu_star_low"], d["mu_star_high"] = mu_star_bounds(d["mu_star"], d["mu_star_conf"])
    top = d.head(TOP_N).iloc[::-1]
    unit = _unit(output)
    plt = _pyplot()
    from matplotlib.lines import Line2D

    with plt.rc_context(_RC):
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(15, 7.5), gridspec_kw={"width_ratios": [1.4, 1]})
        colours = [KIND_COLOURS.get(k, "0.5") for k in top["kind"]]
        ax.barh(
            top["parameter"],
            top["mu_star"],
            xerr=mu_star_xerr(top["mu_star"], top["mu_star_conf"]),
            color=colours,
            ecolor="0.3",
            capsize=2,
        )
        extra = [Line2D([], [], color="0.3", lw=1, label="95% bootstrap interval (clipped at 0)")]
        if top["mu_star_seed_se"].notna().any():
            ax.errorbar(
                top["mu_star"],
                top["parameter"],
                xerr=mu_star_xerr(top["mu_star"], 2 * top["mu_star_seed_se"]),
                fmt="none",
                ecolor=OKABE_ITO["vermillion"],
                elinewidth=4,
                alpha=0.45,
            )
            extra.append(Line2D([], [], color=OKABE_ITO["vermillion"], lw=4, alpha=0.45, label="+-2 seed-noise s.e."))
        ax.set_xlabel(f"mu* (mean |elementary effect|): change in {unit} over the parameter's whole range")
        ax.set_title(f"Top {len(top)} of {len(d)} parameters by mu*", loc="left")
        ax.spines[["top", "right"]].set_visible(False)
        _legend(ax, d["kind"], extra)
        ax2.scatter(d["mu_star"], d["sigma"], c=[KIND_COLOURS.get(k, "0.5") for k in d["kind"]], s=28)
        for _, r in d.head(6).iterrows():
            ax2.annotate(
                r["parameter"], (r["mu_star"], r["sigma"]), fontsize=9, xytext=(4, 2), textcoords="offset points"
            )
        lim = float(np.nanmax([d["mu_star"].max(), d["sigma"].max(), 1e-12]))
        ax2.plot([0, lim], [0, lim], color="0.7", lw=1, ls="--", label="sigma = mu* (interactions, non-linearity)")
        ax2.set_xlabel(f"mu*, {unit}")
        ax2.set_ylabel(f"sigma (spread of elementary effects), {unit}")
        ax2.set_title("mu* against sigma, every parameter", loc="left")
        ax2.legend(loc="lower right", frameon=False)
        ax2.spines[["top", "right"]].set_visible(False)
        fig.suptitle(
            f"Morris screening of {output} ({unit}); {_noise_text(noise, output)}", x=0.01, ha="left", fontsize=15
        )
        fig.tight_layout()
        png, svg = _save(fig, path_stem)
        plt.close(fig)
    csv = path_stem.with_suffix(".csv")
    d.to_csv(csv, index=False)
    return {"png": png, "svg": svg, "csv": csv}


def plot_sobol(indices: pd.DataFrame, noise: pd.DataFrame, output: str, path_stem: Path) -> dict[str, Path]:
    """First-order and total Sobol indices with 95% bootstrap intervals, by total index."""
    d = indices[indices["output"] == output].sort_values("ST", ascending=False, na_position="last")
    top = d.head(TOP_N).iloc[::-1]
    unit = _unit(output)
    plt = _pyplot()
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(12, max(4.5, 0.42 * len(top) + 2)))
        y = np.arange(len(top))
        ax.barh(
            y + 0.2,
            top["ST"],
            height=0.4,
            xerr=top["ST_conf"],
            color=OKABE_ITO["blue"],
            ecolor="0.3",
            capsize=2,
            label="total index ST (with all interactions)",
        )
        ax.barh(
            y - 0.2,
            top["S1"],
            height=0.4,
            xerr=top["S1_conf"],
            color=OKABE_ITO["orange"],
            ecolor="0.3",
            capsize=2,
            label="first-order index S1 (alone)",
        )
        ax.set_yticks(y, [f"{p} ({k})" for p, k in zip(top["parameter"], top["kind"], strict=True)])
        ax.axvline(0, color="0.5", lw=1)
        ax.set_xlabel("share of the output's variance across the parameter space (0-1); bars: 95% bootstrap interval")
        ax.set_title(
            f"Sobol indices of {output} ({unit}), top {len(top)} of {len(d)} by total index\n"
            + _noise_text(noise, output),
            loc="left",
        )
        ax.legend(loc="lower right", frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        png, svg = _save(fig, path_stem)
        plt.close(fig)
    csv = path_stem.with_suffix(".csv")
    d.to_csv(csv, index=False)
    return {"png": png, "svg": svg, "csv": csv}


def plot_noise(noise: pd.DataFrame, path_stem: Path) -> dict[str, Path]:
    """Share of each output's variance across points that is seed noise, against the threshold
    above which the sweep warns (:data:`simulation.research.sensitivity.NOISE_SHARE_THRESHOLD`)."""
    from simulation.research.sensitivity import NOISE_SHARE_THRESHOLD

    limit = 100 * NOISE_SHARE_THRESHOLD
    d = noise.sort_values("noise_share", na_position="first")
    plt = _pyplot()
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(11, max(3.5, 0.5 * len(d) + 1.5)))
        share = 100 * d["noise_share"].fillna(0)
        colours = [OKABE_ITO["vermillion"] if s > limit else OKABE_ITO["bluish_green"] for s in share]
        ax.barh(d["output"], share, color=colours)
        for yi, s in enumerate(share):
            ax.text(s + 0.5, yi, f"{s:.1f}%", va="center", fontsize=10)
        ax.axvline(limit, color="0.6", ls="--", lw=1)
        ax.set_xlabel("seed noise as % of the variance across sample points (output averaged over its seeds)")
        ax.set_title(
            "How much of each output's variation is noise rather than parameters\n"
            f"(dashed line: {limit:.0f}%; above it, read the indices with care)",
            loc="left",
        )
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        png, svg = _save(fig, path_stem)
        plt.close(fig)
    csv = path_stem.with_suffix(".csv")
    d.to_csv(csv, index=False)
    return {"png": png, "svg": svg, "csv": csv}


def sweep_figures(exp, indices: pd.DataFrame, noise: pd.DataFrame, folder: Path) -> dict[str, dict[str, Path]]:
    """One figure per output, and the noise figure."""
    draw = plot_morris if exp.method == "morris" else plot_sobol
    figures = {}
    for out in exp.outputs:
        figures[f"{exp.method}_{out}"] = draw(indices, noise, out, folder / f"{exp.method}_{out}")
    figures["noise"] = plot_noise(noise, folder / "noise")
    return figures


# --- LA small multiples ----------------------------------------------------------------


def plot_la_small_multiples(table: pd.DataFrame, metric: str, path_stem: Path) -> dict[str, Path]:
    """One small panel per LA: the metric by academic year (median over replicates, blue), England
    in grey, every panel on the same scale. ``table`` is :func:`simulation.research.england.small_multiples_table`;
    suppressed values (a count under 5) are gaps, marked ``<5``.

    The panels are drawn in one set of axes (153 matplotlib axes take minutes to lay out)."""
    d = table[table["metric"] == metric]
    las = list(dict.fromkeys(d.loc[d["la"] != "England", "la"]))
    nat = d[d["la"] == "England"].sort_values("academic_year")
    unit = _unit(metric)
    years = sorted(d["academic_year"].unique())
    span = max(len(years) - 1, 1)
    top = float(np.nanmax(np.r_[d["value"].to_numpy(dtype=float), 1e-12])) * 1.1
    ncol = 13
    nrow = int(np.ceil(len(las) / ncol))
    w, h, gap_x, gap_y = 1.0, 0.62, 0.18, 0.38  # panel size and gaps, in axes units

    def xy(col: int, row: int, year, value):
        x = (
            col * (w + gap_x) + (np.asarray(year, float) - years[0]) / span * w
            if len(years) > 1
            else col * (w + gap_x) + w / 2
        )
        y = (nrow - 1 - row) * (h + gap_y) + np.asarray(value, float) / top * h
        return x, y

    plt = _pyplot()
    from matplotlib.collections import LineCollection, PatchCollection

    with plt.rc_context({"font.size": 8}):
        fig, ax = plt.subplots(figsize=(ncol * 1.25, nrow * 1.05 + 1.4))
        boxes, nat_lines, la_lines, dots = [], [], [], []
        groups = dict(tuple(d.sort_values("academic_year").groupby("la", sort=False)))
        for k, la in enumerate(las):
            col, row = k % ncol, k // ncol
            x0, y0 = col * (w + gap_x), (nrow - 1 - row) * (h + gap_y)
            boxes.append(plt.Rectangle((x0, y0), w, h))
            if len(nat):
                nat_lines.append(np.column_stack(xy(col, row, nat["academic_year"], nat["value"])))
            r = groups[la]
            pts = np.column_stack(xy(col, row, r["academic_year"], r["value"]))
            la_lines.append(pts)
            dots.append(pts)
            for _, s in r[r["suppressed"]].iterrows():
                sx, sy = xy(col, row, s["academic_year"], 0.0)
                ax.text(sx, sy + 0.03, "<5", fontsize=6, color=OKABE_ITO["vermillion"], ha="center", va="bottom")
            ax.text(x0 + 0.02, y0 + h + 0.03, la, fontsize=7, va="bottom")
        ax.add_collection(PatchCollection(boxes, facecolor="0.96", edgecolor="0.8", lw=0.5))
        ax.add_collection(LineCollection(nat_lines, colors="0.55", lw=1))
        ax.add_collection(LineCollection(la_lines, colors=OKABE_ITO["blue"], lw=1.5))
        pts = np.vstack(dots)
        ax.plot(pts[:, 0], pts[:, 1], ls="none", marker="o", ms=2, color=OKABE_ITO["blue"])
        ax.set_xlim(-0.1, ncol * (w + gap_x))
        ax.set_ylim(-0.1, nrow * (h + gap_y))
        ax.axis("off")
        first, last = years[0], years[-1]
        ax.set_title(
            f"{metric} ({unit}) by local authority: one panel per LA, academic years {first}/{(first + 1) % 100:02d} "
            f"to {last}/{(last + 1) % 100:02d} left to right\n"
            f"Blue: the LA (median over replicates); grey: England. Every panel runs from 0 (bottom) to {top:.3g} "
            f"{unit} (top). <5: fewer than 5 children, suppressed as published statistics are",
            loc="left",
            fontsize=11,
        )
        png, svg = _save(fig, path_stem)
        plt.close(fig)
    csv = path_stem.with_suffix(".csv")
    d.to_csv(csv, index=False)
    return {"png": png, "svg": svg, "csv": csv}


def england_figures(years: pd.DataFrame, folder: Path, metrics: list[str]) -> dict[str, dict[str, Path]]:
    """One LA small-multiples figure per headline metric."""
    from simulation.research.england import small_multiples_table

    table = small_multiples_table(years, metrics)
    return {
        f"la_{m}": plot_la_small_multiples(table, m, folder / f"la_{m}") for m in metrics if m in set(table["metric"])
    }
