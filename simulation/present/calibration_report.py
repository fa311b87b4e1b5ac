"""The calibration report: every figure against the posterior predictive (fitted and held out side
by side), what the data narrow, whether the intervals cover the truth, and the scale offset.

``school-exit report DIR`` on a directory written by ``school-exit calibrate`` draws the figures
into ``DIR/figures/`` (PNG, SVG and the CSV of the plotted numbers) and writes ``DIR/report.html``,
one page that opens offline. The caveats come from ``calibration/caveats.csv``, the same rows the
calibration README quotes (a test holds the two together), and a figure outside its range is named
with the reason in ``calibration/misfits.csv`` (or "no reason recorded").
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd

from .plot_style import OKABE_ITO, _finish, _pyplot
from .report import _CSS, _n, _table, load_results

TABLES = ("fit", "posterior", "posterior_summary", "coverage", "sbc_ranks", "scale_offset", "summaries")
CALIBRATION_DIR = Path(__file__).resolve().parents[2] / "calibration"
MISFITS_CSV = CALIBRATION_DIR / "misfits.csv"
CAVEATS_CSV = CALIBRATION_DIR / "caveats.csv"
FIT, VALIDATION = OKABE_ITO["blue"], OKABE_ITO["vermillion"]
FITTED = OKABE_ITO["blue"]


def load(results_dir: Path) -> tuple[dict[str, pd.DataFrame], dict]:
    return load_results(results_dir, kind="calibration", command="calibrate", required=TABLES)


def misfit_reasons(path: Path = MISFITS_CSV) -> dict[str, str]:
    if not path.is_file():
        return {}
    df = pd.read_csv(path, dtype=str).fillna("")
    return dict(zip(df["id"], df["reason"], strict=True))


def caveats(path: Path = CAVEATS_CSV) -> pd.DataFrame:
    """The caveats, one per row: what is assumed or approximate, and what it means for a quoted number."""
    df = pd.read_csv(path, dtype=str).fillna("")
    missing = {"id", "caveat", "meaning"} - set(df.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))} (required: id, caveat, meaning)")
    return df


# --- figures -------------------------------------------------------------------------------


def _standardise(value, low, high, x):
    x = np.asarray(x, dtype=float)
    return np.where(x < value, (x - value) / (value - low), (x - value) / (high - value))


def plot_fit(fit: pd.DataFrame, path_stem: Path) -> dict:
    """Each figure's posterior-predictive median and 90% interval on a scale where the published
    range is [-1, 1], so figures in different units share one axis."""
    plt = _pyplot()
    rows = []
    for r in fit.itertuples(index=False):
        z = _standardise(r.value, r.low, r.high, [r.median, r.p5, r.p95])
        rows.append({"id": r.id, "role": r.role, "z_median": z[0], "z_p5": z[1], "z_p95": z[2], "in_range": r.in_range})
    data = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(10, 0.3 * len(data) + 1.8))
    y = np.arange(len(data))[::-1]
    ax.axvspan(-1, 1, color="0.88", label="published range")
    ax.axvline(0, color="0.4", lw=0.8)
    for role, colour, marker in (("fit", FIT, "o"), ("validation", VALIDATION, "D")):
        m = (data["role"] == role).to_numpy()
        lo, hi, med = (np.clip(data[c][m], -6, 6) for c in ("z_p5", "z_p95", "z_median"))
        ax.hlines(y[m], lo, hi, color=colour, lw=2)
        label = "fitted figure" if role == "fit" else "held-out validation figure"
        ax.plot(med, y[m], marker, color=colour, label=f"{label}: predictive median and 90% interval")
    ax.set_yticks(y, data["id"], fontsize=8)
    ax.set_xlim(-6.2, 6.2)
    ax.set_xlabel("model minus published value, in half-widths of the published range (clipped at ±6)")
    ax.set_title("Posterior-predictive fit to published England figures, at full scale")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.03), ncol=1, fontsize=9, frameon=False)
    return _finish(fig, [ax], path_stem, data)


def plot_coverage(coverage: pd.DataFrame, path_stem: Path) -> dict:
    """How often each parameter's 90% interval holds the synthetic truth: right when inside the
    band chance allows around 90%."""
    plt = _pyplot()
    data = coverage.sort_values("coverage_90").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(10, 0.2 * len(data) + 2))
    y = np.arange(len(data))[::-1]
    ax.axvspan(
        data["band_low"].iloc[0], data["band_high"].iloc[0], color="0.85", label="95% band for a correct 90% interval"
    )
    for v in (0.85, 0.95):
        ax.axvline(v, color="0.4", lw=0.8, ls=":")
    ax.axvline(0.9, color="0.3", lw=1)
    ax.plot(data["coverage_90"], y, "o", ms=5, color=FITTED, label="fitted parameter")
    ax.set_yticks(y, data["parameter"], fontsize=7)
    ax.set_xlim(0.6, 1.0)
    truths = f"{int(data['truths'].iloc[0])} synthetic truths"
    if "coverage_90_truncated" in data:
        truths += " (both rounds, weighted as in training)"
    ax.set_xlabel(f"share of {truths} inside the posterior's 90% interval")
    ax.set_title(
        "Simulation-based calibration: do the 90% intervals hold the truth 90% of the time?\n"
        "(assumed parameters are drawn from their priors, which cover by construction)"
    )
    ax.legend(fontsize=9, frameon=False, loc="lower left")
    return _finish(fig, [ax], path_stem, data)


def plot_ranks(ranks: pd.DataFrame, coverage: pd.DataFrame, path_stem: Path) -> dict:
    """Rank ECDF minus the uniform for every fitted parameter: a curve outside the band is a
    posterior that is too narrow (a U shape), too wide (a hump) or shifted (a slope). Truths of
    a two-round calibration carry their round's weight in the mixture the posterior was trained on."""
    from simulation.research.npe_job import SBC_DRAWS

    plt = _pyplot()
    fitted = list(coverage["parameter"])
    n = len(ranks)
    w = ranks["weight"].to_numpy() if "weight" in ranks else np.full(n, 1.0 / n)
    w = w / w.sum()
    n_eff = 1.0 / np.sum(w**2)
    grid = np.linspace(0, 1, 101)
    band = 1.36 / np.sqrt(n_eff)  # Kolmogorov-Smirnov 95% band for one curve
    fig, ax = plt.subplots(figsize=(9, 5))
    ax.fill_between(grid, -band, band, color="0.88", label="95% band (one parameter)")
    rows = []
    for name in fitted:
        r = ranks[name].to_numpy() / SBC_DRAWS
        order = np.argsort(r)
        ecdf = np.concatenate([[0.0], np.cumsum(w[order])])[np.searchsorted(r[order], grid, side="right")]
        ax.plot(grid, ecdf - grid, color=FITTED, lw=0.8, alpha=0.6)
        rows += [{"parameter": name, "q": q, "ecdf_minus_uniform": e - q} for q, e in zip(grid, ecdf, strict=True)]
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xlabel("rank of the truth among the posterior draws (fraction)")
    ax.set_ylabel("rank ECDF minus uniform")
    ax.set_title(f"Rank ECDF of {len(fitted)} fitted parameters over {n} synthetic truths")
    ax.legend(fontsize=9, frameon=False)
    return _finish(fig, [ax], path_stem, pd.DataFrame(rows))


def plot_marginals(summary: pd.DataFrame, path_stem: Path) -> dict:
    """Each fitted parameter's 90% interval and median on its prior's quantile scale (the prior
    is flat on [0, 1] there), labelled with the values at its ends."""
    plt = _pyplot()
    data = summary[summary["role"] == "fitted"].sort_values("width_ratio").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(10, 0.32 * len(data) + 1.6))
    y = np.arange(len(data))[::-1]
    from simulation.model.params import PARAMS

    lo = np.array([PARAMS[r.parameter].to_unit(r.p5) for r in data.itertuples(index=False)])
    hi = np.array([PARAMS[r.parameter].to_unit(r.p95) for r in data.itertuples(index=False)])
    ax.hlines(y, lo, hi, color=FITTED, lw=3, label="posterior 90% interval")
    ax.plot(data["median_u"], y, "o", color="black", ms=4, label="posterior median")
    ax.set_yticks(y, [f"{r.parameter} ({_n(r.p5)} to {_n(r.p95)})" for r in data.itertuples(index=False)], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("prior quantile (0 and 1: the ends of the registry range; the prior is flat on this axis)")
    ax.set_title(f"The {len(data)} parameters the data narrow, against their priors")
    ax.legend(fontsize=9, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.02), ncol=2)
    return _finish(fig, [ax], path_stem, data)


def plot_offset(offset: pd.DataFrame, summaries: pd.DataFrame, path_stem: Path) -> dict:
    plt = _pyplot()
    data = offset.merge(summaries[["summary", "discrepancy_sd"]], on="summary")
    data["offset_halfwidths"] = data["offset"] / data["discrepancy_sd"]
    data["se_halfwidths"] = data["offset_se"] / data["discrepancy_sd"]
    fig, ax = plt.subplots(figsize=(9, 0.28 * len(data) + 1.6))
    y = np.arange(len(data))[::-1]
    ax.axvspan(-1, 1, color="0.9", label="half the published range")
    ax.errorbar(
        data["offset_halfwidths"], y, xerr=2 * data["se_halfwidths"], fmt="o", color=FITTED, label="offset ± 2 SE"
    )
    ax.axvline(0, color="0.4", lw=0.8)
    ax.set_yticks(y, data["id"], fontsize=8)
    ax.set_xlabel("full scale minus reduced scale, same parameters and seeds (half-widths of the published range)")
    ax.set_title("The scale offset corrected in the observation")
    ax.legend(fontsize=9, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.03), ncol=2)
    return _finish(fig, [ax], path_stem, data)


# --- page ----------------------------------------------------------------------------------


def _fit_rows(fit: pd.DataFrame, reasons: dict[str, str]) -> list[dict]:
    return [
        {
            "figure": html.escape(r.id),
            "role": "fitted" if r.role == "fit" else "held out",
            "year": f"{r.academic_year}/{(r.academic_year + 1) % 100:02d}",
            "published [range]": f"{_n(r.value)} [{_n(r.low)}-{_n(r.high)}]",
            "posterior predictive median (90%)": f"{_n(r.median)} ({_n(r.p5)}-{_n(r.p95)})",
            "in range": "yes" if r.in_range else "<b>no</b>",
            "why not": "" if r.in_range else html.escape(reasons.get(r.id, "no reason recorded")),
        }
        for r in fit.itertuples(index=False)
    ]


def _summary_rows(summary: pd.DataFrame, coverage: pd.DataFrame) -> list[dict]:
    cov = coverage.set_index("parameter")["coverage_90"]
    return [
        {
            "parameter": r.parameter,
            "prior": f"{r.prior} {_n(r.prior_low)}-{_n(r.prior_high)}",
            "hand-set default": _n(r.default),
            "posterior median (90%)": f"{_n(r.median)} ({_n(r.p5)}-{_n(r.p95)})",
            "width / prior width": f"{r.width_ratio:.2f}",
            "90% coverage": f"{cov[r.parameter]:.0%}",
            "ESS": f"{r.ess:.0f}",
        }
        for r in summary[summary["role"] == "fitted"].sort_values("width_ratio").itertuples(index=False)
    ]


def _caveat_rows() -> list[dict]:
    return [
        {"caveat": html.escape(r.caveat), "what it means for a number you quote": html.escape(r.meaning)}
        for r in caveats().itertuples(index=False)
    ]


def build_report(results_dir: str | Path) -> Path:
    from simulation.research.store import atomic_write_bytes

    results_dir = Path(results_dir)
    tables, manifest = load(results_dir)
    fig_dir = results_dir / "figures"
    cov, summary, fit = tables["coverage"], tables["posterior_summary"], tables["fit"]
    figs = [
        (
            "calibration_fit",
            "Every figure against the posterior predictive",
            plot_fit(fit, fig_dir / "calibration_fit"),
        ),
        ("calibration_coverage", "Coverage of the 90% intervals", plot_coverage(cov, fig_dir / "calibration_coverage")),
        ("calibration_ranks", "Rank ECDFs", plot_ranks(tables["sbc_ranks"], cov, fig_dir / "calibration_ranks")),
        ("calibration_marginals", "What the data narrow", plot_marginals(summary, fig_dir / "calibration_marginals")),
        (
            "calibration_offset",
            "Scale offset",
            plot_offset(tables["scale_offset"], tables["summaries"], fig_dir / "calibration_offset"),
        ),
    ]
    fitted, held = fit[fit["role"] == "fit"], fit[fit["role"] != "fit"]
    n_fitted = int((summary["role"] == "fitted").sum())
    fitted_cov = cov
    library = manifest.get("library", {})
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Calibration: {html.escape(manifest.get('name', ''))}</title>"
        f"<style>{_CSS}</style></head><body>",
        "<h1>How well does the model reproduce what is published, and can its intervals be trusted?</h1>",
        f"<p>Neural posterior estimation (sbi {html.escape(str(library.get('sbi')))}) learned the posterior of "
        f"{len(summary)} uncertain parameters from {manifest.get('training_simulations')} prior simulations at "
        f"scale {manifest.get('scale')}, given {len(fitted)} published England figures. <b>{n_fitted}</b> of "
        f"them are fitted: each alone explains at least {manifest.get('config', {}).get('screening_share', 0.01):.0%} "
        "of the variance of some fitted figure over the design. The others are assumed: the figures cannot tell "
        "their values apart, so their posterior is their prior, and scenarios draw them from it. "
        f"The posterior holds {len(tables['posterior'])} independent draws (effective sample size at least "
        f"{manifest.get('ess_min', float('nan')):.0f}).</p>",
        f"<p><b>{int(fitted['in_range'].sum())} of {len(fitted)} fitted figures</b> lie within their published range "
        f"under the posterior-predictive median at scale {manifest.get('predictive_scale')} "
        f"({manifest.get('predictive_runs')} runs); <b>{int(held['in_range'].sum())} of {len(held)}</b> held-out "
        "validation figures do. On "
        f"{manifest.get('sbc_truths')} synthetic truths the 90% intervals of the fitted parameters cover the truth "
        f"{fitted_cov['coverage_90'].min():.0%} to {fitted_cov['coverage_90'].max():.0%} of the time "
        f"({int(fitted_cov['in_85_95'].sum())} of {len(fitted_cov)} within 85-95%).</p>",
        "<h2>What to keep in mind</h2>" + _table(_caveat_rows()),
        "<h2>Figures, fitted and held out</h2>" + _table(_fit_rows(fit, misfit_reasons())),
        "<h2>Parameters the data narrow</h2>"
        + _table(
            _summary_rows(summary, cov), "Sorted from most to least narrowed; the rest are in posterior_summary.csv"
        ),
        "<h2>Figures</h2>",
    ]
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
