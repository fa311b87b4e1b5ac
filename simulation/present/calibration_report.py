"""The calibration report: every target against the posterior predictive, the posterior itself,
what the data identify, and whether the reduced scale biases anything. From tables only.

``school-exit report DIR`` on a directory written by ``school-exit calibrate`` draws the
figures into ``DIR/figures/`` (PNG, SVG and the CSV of the plotted numbers) and writes
``DIR/report.html``, one page that opens offline. A target outside its published range is
named with the reason given in ``calibration/misfits.csv`` (or "no reason recorded").
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd

from .plot_style import OKABE_ITO, _finish, _pyplot
from .report import _CSS, _n, _table, load_results

TABLES = ("fit", "posterior", "posterior_summary", "history")
MISFITS_CSV = Path(__file__).resolve().parents[2] / "calibration" / "misfits.csv"
FIT, VALIDATION = OKABE_ITO["blue"], OKABE_ITO["vermillion"]


def load(results_dir: Path) -> tuple[dict[str, pd.DataFrame], dict]:
    return load_results(
        results_dir, kind="calibration", command="calibrate", required=TABLES, optional=("scale_check", "predictive")
    )


def _at_scale(manifest: dict) -> str:
    scale = manifest.get("predictive_scale")
    return "" if scale is None else f" at scale {scale:g}"


def _start(manifest: dict) -> str:
    """Where generation 0 came from: the prior, or an earlier posterior (a warm start)."""
    start = manifest.get("start_from")
    if not start:
        return "Generation 0 drew from the priors. "
    return (
        f"Generation 0 was an earlier posterior ({html.escape(str(start['file']))}, {start['particles']} particles, "
        f"{start['distinct']} distinct), run again on this job's seeds: a warm start, not prior draws. "
    )


def misfit_reasons(path: Path = MISFITS_CSV) -> dict[str, str]:
    if not path.is_file():
        return {}
    df = pd.read_csv(path, dtype=str).fillna("")
    return dict(zip(df["id"], df["reason"], strict=True))


# --- figures -------------------------------------------------------------------------------


def _standardise(value, low, high, x):
    x = np.asarray(x, dtype=float)
    return np.where(x < value, (x - value) / (value - low), (x - value) / (high - value))


def plot_fit(fit: pd.DataFrame, path_stem: Path) -> dict:
    """Each target's posterior-predictive median and 90% interval on a scale where the published
    range is [-1, 1], so targets in different units share one axis."""
    plt = _pyplot()
    rows = []
    for r in fit.itertuples(index=False):
        z = _standardise(r.value, r.low, r.high, [r.predictive_median, r.predictive_p5, r.predictive_p95])
        rows.append({"id": r.id, "role": r.role, "z_median": z[0], "z_p5": z[1], "z_p95": z[2], "in_range": r.in_range})
    data = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(data) + 1.6))
    y = np.arange(len(data))[::-1]
    ax.axvspan(-1, 1, color="0.88", label="published range")
    ax.axvline(0, color="0.4", lw=0.8)
    for role, colour, marker in (("fit", FIT, "o"), ("validation", VALIDATION, "D")):
        m = (data["role"] == role).to_numpy()
        lo = np.clip(data["z_p5"][m], -6, 6)
        hi = np.clip(data["z_p95"][m], -6, 6)
        med = np.clip(data["z_median"][m], -6, 6)
        ax.hlines(y[m], lo, hi, color=colour, lw=2)
        label = "fitted target" if role == "fit" else "held-out validation figure"
        ax.plot(med, y[m], marker, color=colour, label=f"{label}: predictive median, 90% interval")
    ax.set_yticks(y, data["id"], fontsize=8)
    ax.set_xlim(-6.2, 6.2)
    ax.set_xlabel("model minus published value, in half-widths of the published range (clipped at ±6)")
    ax.set_title("Posterior-predictive fit to published England figures")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.04), ncol=1, fontsize=8, frameon=False)
    return _finish(fig, [ax], path_stem, data)


def plot_marginals(posterior: pd.DataFrame, summary: pd.DataFrame, path_stem: Path) -> dict:
    """Weighted histograms of each parameter over its whole prior range: a flat histogram is a
    parameter the data do not speak to."""
    plt = _pyplot()
    names = list(summary["parameter"])
    w = posterior["weight"].to_numpy(float)
    cols = 4
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(12, 2.1 * rows), squeeze=False)
    data = []
    for ax, rec in zip(axes.flat, summary.itertuples(index=False), strict=False):
        x = posterior[rec.parameter].to_numpy(float)
        bins = np.linspace(rec.prior_low, rec.prior_high, 13)
        dens, edges = np.histogram(x, bins=bins, weights=w, density=True)
        ax.stairs(dens, edges, fill=True, color=OKABE_ITO["sky_blue"], label="posterior")
        ax.axhline(1 / (rec.prior_high - rec.prior_low), color="0.3", ls="--", lw=1, label="prior")
        ax.axvline(rec.median, color=OKABE_ITO["blue"], lw=1.5, label="posterior median")
        ax.set_title(f"{rec.parameter}\n({rec.identification})", fontsize=8)
        ax.set_xlabel(rec.unit or "value", fontsize=7)
        ax.set_yticks([])
        ax.tick_params(labelsize=7)
        data += [
            {"parameter": rec.parameter, "bin_low": a, "bin_high": b, "density": d}
            for a, b, d in zip(edges[:-1], edges[1:], dens, strict=True)
        ]
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7, frameon=False)
    axes.flat[0].set_ylabel("density", fontsize=7)
    fig.suptitle("Marginal posteriors against their uniform priors (x axis: the prior range)")
    fig.tight_layout()
    return _finish(fig, list(axes.flat), path_stem, pd.DataFrame(data))


def plot_pairs(posterior: pd.DataFrame, summary: pd.DataFrame, path_stem: Path, k: int = 5) -> dict:
    """Pairwise scatter of the ``k`` best-identified parameters (weight as marker size): ridges
    show parameters the data constrain only in combination."""
    plt = _pyplot()
    top = list(summary.sort_values("width_ratio")["parameter"][:k])
    w = posterior["weight"].to_numpy(float)
    size = 60 * w / w.max()
    fig, axes = plt.subplots(k, k, figsize=(2.1 * k, 2.1 * k), squeeze=False)
    bounds = summary.set_index("parameter")
    for i, yi in enumerate(top):
        for j, xj in enumerate(top):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                ax.hist(posterior[xj], bins=12, weights=w, color=OKABE_ITO["sky_blue"])
                ax.set_yticks([])
            else:
                ax.scatter(posterior[xj], posterior[yi], s=size, color=OKABE_ITO["blue"], alpha=0.5, lw=0)
                ax.set_ylim(bounds.loc[yi, "prior_low"], bounds.loc[yi, "prior_high"])
            ax.set_xlim(bounds.loc[xj, "prior_low"], bounds.loc[xj, "prior_high"])
            ax.tick_params(labelsize=6)
            if i == k - 1:
                ax.set_xlabel(xj, fontsize=7)
            if j == 0 and i > 0:
                ax.set_ylabel(yi, fontsize=7)
    fig.suptitle(f"Pairwise posterior of the {k} best-identified parameters (axes: prior ranges)")
    fig.tight_layout()
    return _finish(fig, list(axes.flat), path_stem, posterior[["particle", "weight", *top]])


def plot_history(history: pd.DataFrame, path_stem: Path) -> dict:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    h = history[np.isfinite(history["epsilon"])]
    ax.plot(h["generation"], h["epsilon"], "o-", color=OKABE_ITO["blue"], label="tolerance")
    ax.plot(
        history["generation"], history["median_distance"], "s--", color=OKABE_ITO["orange"], label="median distance"
    )
    ax.axhline(1, color="0.5", lw=0.8, ls=":", label="every target at the edge of its range")
    ax.set_yscale("log")
    ax.set_xlabel("generation")
    ax.set_ylabel("RMS distance (published half-widths)")
    ax.set_title("ABC-SMC: the tolerance falls generation by generation")
    ax.legend(fontsize=8, frameon=False)
    return _finish(fig, [ax], path_stem, history)


def plot_scale_check(check: pd.DataFrame, path_stem: Path) -> dict:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(check) + 1.5))
    y = np.arange(len(check))[::-1]
    half = check["difference"] / check["difference_over_halfwidth"]
    err = 2 * check["difference_se"] / half
    ax.axvspan(-1, 1, color="0.9", label="a published range's half-width")
    ax.errorbar(
        check["difference_over_halfwidth"], y, xerr=err, fmt="o", color=OKABE_ITO["blue"], label="difference ± 2 SE"
    )
    ax.axvline(0, color="0.4", lw=0.8)
    ax.set_yticks(y, check["id"], fontsize=8)
    ax.set_xlabel("(calibration scale − full scale), in half-widths of the published range")
    ax.set_title(
        f"Running at scale {check['scale'].iloc[0]:g} instead of {check['larger_scale'].iloc[0]:g}: "
        "same parameters, same seeds"
    )
    ax.legend(fontsize=8, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.06))
    return _finish(fig, [ax], path_stem, check)


# --- page ----------------------------------------------------------------------------------


def _fit_rows(fit: pd.DataFrame, reasons: dict[str, str]) -> list[dict]:
    rows = []
    for r in fit.itertuples(index=False):
        reason = "" if r.in_range else html.escape(reasons.get(r.id, "no reason recorded"))
        rows.append(
            {
                "target": html.escape(r.id),
                "role": r.role,
                "published [range]": f"{_n(r.value)} [{_n(r.low)}-{_n(r.high)}]",
                "posterior predictive median (90%)": (
                    f"{_n(r.predictive_median)} ({_n(r.predictive_p5)}-{_n(r.predictive_p95)})"
                ),
                "in range": "yes" if r.in_range else "<b>no</b>",
                "why not": reason,
            }
        )
    return rows


def _summary_rows(summary: pd.DataFrame) -> list[dict]:
    warm = "start_width_ratio" in summary and summary["start_width_ratio"].notna().any()
    return [
        {
            "parameter": r.parameter,
            "prior": f"{_n(r.prior_low)}-{_n(r.prior_high)}",
            "hand-tuned default": _n(r.registry_default),
            "posterior median (90%)": f"{_n(r.median)} ({_n(r.p5)}-{_n(r.p95)})",
            "width / prior width": f"{r.width_ratio:.2f}",
            **({"width / start width": f"{r.start_width_ratio:.2f}"} if warm else {}),
            "data": r.identification,
        }
        for r in summary.sort_values("width_ratio").itertuples(index=False)
    ]


def build_report(results_dir: str | Path) -> Path:
    from simulation.research.store import atomic_write_bytes

    results_dir = Path(results_dir)
    tables, manifest = load(results_dir)
    fig_dir = results_dir / "figures"
    figs = [
        (
            "calibration_fit",
            "Every target against the posterior predictive",
            plot_fit(tables["fit"], fig_dir / "calibration_fit"),
        ),
        (
            "calibration_marginals",
            "Marginal posteriors",
            plot_marginals(tables["posterior"], tables["posterior_summary"], fig_dir / "calibration_marginals"),
        ),
        (
            "calibration_pairs",
            "Pairwise posterior",
            plot_pairs(tables["posterior"], tables["posterior_summary"], fig_dir / "calibration_pairs"),
        ),
        (
            "calibration_history",
            "Tolerance by generation",
            plot_history(tables["history"], fig_dir / "calibration_history"),
        ),
    ]
    if "scale_check" in tables:
        figs.append(
            (
                "calibration_scale",
                "Does the reduced scale bias the statistics?",
                plot_scale_check(tables["scale_check"], fig_dir / "calibration_scale"),
            )
        )
    fit = tables["fit"]
    fitted = fit[fit["role"] == "fit"]
    held = fit[fit["role"] != "fit"]
    summary = tables["posterior_summary"]
    counts = summary["identification"].value_counts()
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Calibration: {html.escape(manifest.get('name', ''))}</title>"
        f"<style>{_CSS}</style></head><body>",
        "<h1>How well does the model reproduce what is published?</h1>",
        f"<p>ABC-SMC fitted {len(summary)} uncertain parameters to {len(fitted)} published England figures: "
        f"{manifest.get('generations')} generations, {manifest.get('runs')} model runs plus "
        f"{manifest.get('predictive_runs')} posterior-predictive runs{_at_scale(manifest)} "
        f"(stopped by: {html.escape(str(manifest.get('stopped_by')))}). {_start(manifest)}"
        f"<b>{int(fitted['in_range'].sum())} of {len(fitted)} fitted targets</b> lie within their published range "
        "under the "
        f"posterior-predictive median; {int(held['in_range'].sum())} of {len(held)} held-out validation figures do. "
        f"The data identify {counts.get('identified', 0)} parameters, "
        f"partly identify {counts.get('partly identified', 0)}, "
        f"and leave {counts.get('prior', 0)} close to their priors"
        + (
            f"; {counts['start-limited']} are no narrower than the warm start's spread (start-limited: their "
            "intervals say where the fit began, not what the data allow)"
            if counts.get("start-limited", 0)
            else ""
        )
        + ".</p>",
        "<h2>Targets</h2>" + _table(_fit_rows(fit, misfit_reasons())),
        "<h2>Posterior</h2>" + _table(_summary_rows(summary), "Sorted from best to least identified"),
    ]
    if "scale_check" in tables:
        sc = tables["scale_check"]
        big = sc[np.abs(sc["z"]) > 3]
        parts.append(
            "<h2>Scale</h2><p>The same parameters and seeds at the calibration scale and at the larger scale: "
            f"{len(sc) - len(big)} of {len(sc)} statistics differ by less than 3 standard errors"
            + (f"; larger differences: {html.escape(', '.join(big['id']))}" if len(big) else "")
            + ". The largest difference is "
            f"{np.nanmax(np.abs(sc['difference_over_halfwidth'])):.2f} half-widths of a published range.</p>"
        )
    parts.append("<h2>Figures</h2>")
    for name, title, f in figs:
        data = base64.b64encode(Path(f["png"]).read_bytes()).decode()
        parts.append(
            f"<figure><img alt='{html.escape(title)}' src='data:image/png;base64,{data}'>"
            f"<figcaption><b>{html.escape(title)}.</b> Data: <code>figures/{name}.csv</code>.</figcaption></figure>"
        )
    env = manifest.get("environment", {})
    parts.append(
        f"<p class='src'>school-exit {html.escape(str(env.get('package_version')))}, commit "
        f"{html.escape(str(env.get('git_commit')))}; configuration "
        f"{html.escape(str(manifest.get('config_file')))}.</p></body></html>"
    )
    page = results_dir / "report.html"
    atomic_write_bytes(page, "\n".join(parts).encode())
    return page


def cli_report(args) -> int:
    page = build_report(args.results)
    print(f"wrote {page} and the calibration figures (PNG, SVG, CSV) in {page.parent / 'figures'}")
    return 0
