"""The presenter pack: every comparison figure and one self-contained HTML page, from result tables only.

``build_report(RESULTS_DIR)`` reads what ``school-exit compare`` wrote (Parquet tables and
``manifest.json``), draws the figures into ``RESULTS_DIR/figures/`` (PNG, SVG and the CSV of the
plotted numbers) and writes ``RESULTS_DIR/report.html``: figures embedded as data, tables,
a summary in plain words, scenario descriptions, a glossary and a caveats box built from the
registry and the manifest (:mod:`.report_text`). The page needs no network to open.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simulation.analysis.counts import ALL_WEEKS_LOST
from simulation.model.metrics import HEADLINE, HEADLINE_LABELS

from . import comparison_plots, plots, report_text

REQUIRED = ("metrics", "years", "exit_routes", "ehcp_waits")
OPTIONAL = (
    "averted_summary",
    "displacement_summary",
    "equality_summary",
    "cost_summary",
    "weeks",
    "assumptions",
    "sources",
)


class ReportError(ValueError):
    """A results directory the report cannot use; the message is one line."""


@dataclass
class FigureEntry:
    name: str
    title: str
    caption: str
    paths: dict


def load_results(
    results_dir: Path,
    *,
    kind: str = "compare",
    command: str = "compare",
    required: tuple[str, ...] = REQUIRED,
    optional: tuple[str, ...] = OPTIONAL,
) -> tuple[dict[str, pd.DataFrame], dict]:
    """The tables and manifest a ``school-exit COMMAND`` job wrote (its manifest's ``kind``),
    or a one-line :class:`ReportError`."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise ReportError(f"{results_dir}: results directory not found")
    manifest_path = results_dir / "manifest.json"
    if not manifest_path.is_file():
        raise ReportError(f"{manifest_path}: not found (expected a directory written by 'school-exit {command}')")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("kind") != kind:
        raise ReportError(
            f"{manifest_path}: kind = {manifest.get('kind')!r} (allowed: {kind!r}, a directory written by "
            f"'school-exit {command}')"
        )
    tables = {}
    for name in required + optional:
        path = results_dir / f"{name}.parquet"
        if path.is_file():
            tables[name] = pd.read_parquet(path)
        elif name in required:
            raise ReportError(f"{path}: not found (the job is incomplete; run 'school-exit {command}' again)")
    return tables, manifest


def build_figures(tables: dict[str, pd.DataFrame], manifest: dict, fig_dir: Path) -> list[FigureEntry]:
    """Draw every figure of the pack into ``fig_dir``."""
    metrics = tables["metrics"]
    units = dict(zip(metrics["metric"], metrics["unit"], strict=False))
    baseline = manifest["baseline"]
    out = []
    from simulation.analysis.targets import published_points

    titles = {s["name"]: comparison_plots.scenario_title(s["name"], s.get("source")) for s in manifest["scenarios"]}
    policies = len(manifest["scenarios"]) > 1
    for metric in HEADLINE:
        if metric not in tables["years"].columns:
            continue
        label = HEADLINE_LABELS[metric][0]
        if policies:  # the effect and its band, not two overlapping fans; published figures beside the baseline
            years = sorted(int(y) for y in tables["years"]["academic_year"].unique())
            paths = plots.plot_paired_effect(
                tables["years"], metric, fig_dir / f"effect_{metric}", baseline, label=label,
                unit=units.get(metric, ""), titles=titles, published=published_points(metric, years),
            )  # fmt: skip
            out.append(
                FigureEntry(
                    f"effect_{metric}",
                    f"{label}: the baseline, and each policy's paired effect",
                    "Left: the baseline by year (mean and 5-95% of replicates) with published figures where there "
                    "are any. Right: each policy minus the baseline, replicate by replicate, with its 90% interval.",
                    paths,
                )
            )
            continue
        paths = plots.plot_fan(tables["years"], metric, fig_dir / f"fan_{metric}", label=label, unit=units.get(metric))
        out.append(
            FigureEntry(
                f"fan_{metric}",
                f"{label}, by year",
                "Median and the middle 50% and 90% of replicates (one scenario: no paired effect to show).",
                paths,
            )
        )
    others = [s["name"] for s in manifest["scenarios"] if s["name"] != baseline]
    if others:
        out.append(
            FigureEntry(
                "forest",
                "Effects on the headline measures",
                "Paired differences from the baseline as % of the baseline mean, with 90% intervals.",
                comparison_plots.plot_forest(metrics, fig_dir / "forest", titles=titles),
            )
        )
    out.append(
        FigureEntry(
            "exit_routes",
            "Exit routes: recorded and true",
            "Children leaving a school roll a year (the headline count: the same children as the waterfall), by "
            "the route of their first move off a roll in the year. Left: the recorded reason the statistics see. "
            "Right: the true reason the model knows (hatched: pushed out by a school). Line and numbers: the total "
            "and its 90% interval over replicates.",
            comparison_plots.plot_exit_routes(tables["exit_routes"], fig_dir / "exit_routes", titles=titles),
        )
    )
    if "averted_summary" in tables:
        for scen in others:
            out.append(
                FigureEntry(
                    f"waterfall_{scen}",
                    f"{titles.get(scen, scen)}: children averted, new and displaced",
                    "The same children matched year by year across paired runs (children a year, 90% intervals). "
                    "Baseline minus averted plus new is the policy; net averted is the headline's paired "
                    "difference times the population.",
                    comparison_plots.plot_waterfall(
                        tables["averted_summary"],
                        tables["displacement_summary"],
                        scen,
                        fig_dir / f"waterfall_{scen}",
                        title=titles.get(scen),
                    ),
                )
            )
    out.append(
        FigureEntry(
            "ehcp_waits",
            "Waiting for an EHC plan",
            "Left: share of new plans by weeks from request to plan (band: 5-95% of replicates); the dashed line "
            "is the 20-week legal limit. Right: the share within 20 weeks with its 90% interval, beside the "
            "published England figure.",
            comparison_plots.plot_ehcp_waits(
                tables["ehcp_waits"],
                fig_dir / "ehcp_waits",
                titles=titles,
                published=published_points("ehcp_timely_pct"),
            ),
        )
    )
    if "equality_summary" in tables and len(tables["equality_summary"]):
        out.append(
            FigureEntry(
                "equality",
                "Who gains",
                "Risk ratios of leaving a school roll (scenario over baseline) by group, with 90% bootstrap intervals.",
                comparison_plots.plot_equality(tables["equality_summary"], fig_dir / "equality", titles=titles),
            )
        )
    if "weeks" in tables:
        out.append(
            FigureEntry(
                "out_of_school",
                "Children out of school, week by week",
                "One panel per status, each on its own scale: median and 5-95% range over replicates, per 1,000 "
                "children aged 5-16; diamonds: the published autumn-census figures for England, where they exist.",
                plots.plot_out_of_school(tables["weeks"], fig_dir / "out_of_school", titles=titles),
            )
        )
    return out


# --- HTML ----------------------------------------------------------------------------------------


def _n(x, digits: int = 3) -> str:
    from simulation.analysis.targets import _fmt_cell

    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return _fmt_cell(float(x), digits)


def _ci(mean, lo, hi) -> str:
    return f"{_n(mean)} <span class='ci'>({_n(lo)} to {_n(hi)})</span>"


def _table(rows: list[dict], caption: str = "") -> str:
    if not rows:
        return "<p><em>No rows.</em></p>"
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in r.values()) + "</tr>" for r in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _metric_rows(metrics: pd.DataFrame, baseline: str, manifest: dict) -> list[dict]:
    rows = []
    for _, r in metrics[metrics["metric"].isin(HEADLINE) & (metrics["scenario"] != baseline)].iterrows():
        rows.append(
            {
                "scenario": html.escape(report_text.title(r["scenario"], manifest)),
                "measure": html.escape(HEADLINE_LABELS.get(r["metric"], (r["metric"],))[0]),
                "unit": html.escape(r["unit"]),
                "baseline": _n(r["baseline_mean"]),
                "scenario mean (5-95%)": _ci(r["mean"], r["p5"], r["p95"]),
                "paired difference (90% CI)": _ci(r["diff"], r["diff_lo"], r["diff_hi"]),
                "unpaired 90% CI (same runs)": f"{_n(r['unpaired_lo'])} to {_n(r['unpaired_hi'])}",
                "variance ratio (CRN)": _n(r["crn_variance_ratio"], 2),
            }
        )
    return rows


def _averted_rows(av: pd.DataFrame, manifest: dict) -> list[dict]:
    rows = []
    for scen, d in av.groupby("scenario", sort=False):
        t = d[(d["view"] == "true") & (d["route"] == "All routes")].set_index("measure")
        w = d[(d["measure"] == "pupil_weeks_regained") & (d["route"] == ALL_WEEKS_LOST)]
        row = {"scenario": html.escape(report_text.title(scen, manifest))}
        for m, label in (
            ("baseline_exits", "baseline"),
            ("policy_exits", "policy"),
            ("averted", "averted"),
            ("new", "new"),
            ("displaced_out", "displaced"),
            ("net_averted", "net averted"),
        ):
            row[label] = _ci(*t.loc[m, ["mean", "lo", "hi"]]) if m in t.index else "-"
        row["weeks of education regained (EHE and CME included)"] = (
            _ci(*w.iloc[0][["mean", "lo", "hi"]]) if len(w) else "-"
        )
        rows.append(row)
    return rows


def _cost_rows(cs: pd.DataFrame, manifest: dict) -> list[dict]:
    rows = []
    for _, r in cs.iterrows():
        rows.append(
            {
                "scenario": html.escape(report_text.title(r["scenario"], manifest)),
                "cost a year (90% CI)": (
                    f"{report_text.money(r['cost_gbp_per_year'])} <span class='ci'>"
                    f"({report_text.money(r['cost_gbp_lo'])} to {report_text.money(r['cost_gbp_hi'])})</span>"
                    if r["cost_estimated"]
                    else "not estimated"
                ),
                "net children kept on a roll a year (90% CI)": (
                    f"{report_text.count(r['net_averted_per_year'])} <span class='ci'>"
                    f"({report_text.count(r['net_averted_lo'])} to {report_text.count(r['net_averted_hi'])})</span>"
                ),
                "per child kept on a roll (90% CI)": (
                    f"{report_text.money(r['gbp_per_exit_averted'])} <span class='ci'>"
                    f"({report_text.money(r['gbp_per_exit_lo'])} to {report_text.money(r['gbp_per_exit_hi'])})</span>"
                    if math.isfinite(r["gbp_per_exit_averted"])
                    else "-"
                ),
                "costed": html.escape(r["costed_interventions"] or "-"),
                "not costed": html.escape(r["not_costed"] or "-"),
            }
        )
    return rows


def _equality_rows(eq: pd.DataFrame, manifest: dict) -> list[dict]:
    return [
        {
            "scenario": html.escape(report_text.title(r["scenario"], manifest)),
            "group": html.escape(r["group"]),
            "baseline risk (per 1,000 a year)": _n(r["baseline_risk_per_1000"]),
            "policy risk": _n(r["policy_risk_per_1000"]),
            "risk ratio (90% CI)": _ci(r["risk_ratio"], r["rr_lo"], r["rr_hi"]),
            "net children kept on a roll a year": _ci(
                r["net_averted_per_year"], r["net_averted_lo"], r["net_averted_hi"]
            ),
        }
        for _, r in eq.iterrows()
    ]


def _scenario_html(s: dict) -> str:
    items = []
    for iv in s.get("interventions_described", []):
        settings = ", ".join(f"{k} = {v}" for k, v in iv["settings"].items() if k != "type")
        items.append(
            f"<li><b>{html.escape(iv['title'])}</b> ({html.escape(settings)}). {html.escape(iv['what'])}"
            f"<br><span class='src'>Effect size: {html.escape(iv['source'])}. Cost: {html.escape(iv['cost_basis'])}."
            "</span></li>"
        )
    body = f"<ul>{''.join(items)}</ul>" if items else "<p>No interventions: current policy.</p>"
    name = comparison_plots.scenario_title(s["name"], s.get("source"))
    return (
        f"<h3>{html.escape(name)} <span class='src'>(<code>{html.escape(s['name'])}</code>)</span></h3>"
        f"<p>{html.escape(s.get('description', ''))}</p>{body}"
    )


_CSS = """body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;
color:#111;line-height:1.45}h1{font-size:1.9em}h2{margin-top:1.6em;border-bottom:2px solid #0072B2}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:right;vertical-align:top}th{background:#eef4fa}td:first-child,th:first-child{text-align:left}
caption{text-align:left;font-weight:600;padding:4px 0}.ci{color:#555;font-size:.9em}.src{color:#444;font-size:.9em}
.caveats{background:#fff6e5;border-left:6px solid #E69F00;padding:.5em 1.2em;margin:1.5em 0}
figure{margin:1.5em 0}figure img{max-width:100%;border:1px solid #ddd}figcaption{color:#333}
.key{background:#eef7f1;border-left:6px solid #009E73;padding:.5em 1.2em}code{font-size:.9em}"""


def render_html(tables: dict[str, pd.DataFrame], manifest: dict, figures: list[FigureEntry]) -> str:
    baseline = manifest["baseline"]
    names = [s["name"] for s in manifest["scenarios"]]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>School exits: {html.escape(', '.join(names))}</title><style>{_CSS}</style></head><body>",
        "<h1>If we do this, how many children stop leaving school rolls?</h1>",
        f"<p>Scenarios compared with <b>{html.escape(report_text.title(baseline, manifest))}</b>: "
        f"{html.escape(', '.join(report_text.title(n, manifest) for n in names[1:]))}. "
        f"{manifest['replicates']} paired replicates each (seeds {manifest['seeds'][0]}-{manifest['seeds'][-1]}), "
        f"{manifest['scenarios'][0].get('years')} evaluation years at scale "
        f"{manifest['scenarios'][0].get('scale')}.</p>",
    ]
    parts.append(report_text.summary(tables, manifest))
    if "cost_summary" in tables and len(tables["cost_summary"]):
        parts.append("<h2>Key numbers</h2>" + _table(_cost_rows(tables["cost_summary"], manifest)))
    parts.append(report_text.caveats(tables, manifest))
    parts.append("<h2>Scenarios</h2>" + "".join(_scenario_html(s) for s in manifest["scenarios"]))
    parts.append(
        "<h2>Headline measures</h2>"
        + _table(
            _metric_rows(tables["metrics"], baseline, manifest), "Mean over replicates; differences paired by replicate"
        )
    )
    if "averted_summary" in tables:
        parts.append(
            "<h2>Children leaving a roll: averted, new and displaced (children a year, 90% CI)</h2>"
            + _table(_averted_rows(tables["averted_summary"], manifest))
        )
    if "equality_summary" in tables:
        parts.append("<h2>Equality</h2>" + _table(_equality_rows(tables["equality_summary"], manifest)))
    parts.append("<h2>Figures</h2>")
    for f in figures:
        data = base64.b64encode(Path(f.paths["png"]).read_bytes()).decode()
        parts.append(
            f"<figure><img alt='{html.escape(f.title)}' src='data:image/png;base64,{data}'>"
            f"<figcaption><b>{html.escape(f.title)}.</b> {html.escape(f.caption)} Data: "
            f"<code>figures/{Path(f.paths['csv']).name}</code>.</figcaption></figure>"
        )
    parts.append(report_text.glossary())
    env = manifest.get("environment", {})
    parts.append(
        f"<p class='src'>school-exit {html.escape(str(env.get('package_version')))}, commit "
        f"{html.escape(str(env.get('git_commit')))}; {manifest.get('wall_seconds')} s on "
        f"{manifest.get('workers')} worker(s).</p></body></html>"
    )
    return "\n".join(parts)


def build_report(results_dir: str | Path) -> Path:
    """Figures into ``RESULTS_DIR/figures/`` and ``RESULTS_DIR/report.html``; returns the page's path."""
    from simulation.research.store import atomic_write_bytes

    results_dir = Path(results_dir)
    tables, manifest = load_results(results_dir)
    figures = build_figures(tables, manifest, results_dir / "figures")
    page = results_dir / "report.html"
    atomic_write_bytes(page, render_html(tables, manifest, figures).encode())
    return page


def cli_report(args) -> int:
    """``school-exit report RESULTS_DIR``."""
    page = build_report(args.results)
    n = len(list((page.parent / "figures").glob("*.png")))
    print(
        f"wrote {page} ({page.stat().st_size / 1e6:.1f} MB, {n} figures embedded; PNG, SVG and CSV in "
        f"{page.parent / 'figures'})"
    )
    return 0


# --- the scenario catalogue (scenarios/README.md) -------------------------------------------------

CATALOGUE_BEGIN = "<!-- BEGIN GENERATED: scenario catalogue (python -m simulation.present.report scenarios) -->"
CATALOGUE_END = "<!-- END GENERATED -->"


def _md(text: str) -> str:
    return str(text).replace("|", "/").replace("\n", " ")


def _settings(iv) -> str:
    from simulation.policy.registry import to_dict

    d = {k: v for k, v in to_dict(iv).items() if k not in ("type", "end_year") and not (k == "ramp_years" and not v)}
    d.pop("start_year", None)
    return ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in d.items())


def scenario_catalogue(directory: str | Path) -> str:
    """Markdown tables of the scenario files in ``directory`` and of every intervention type."""
    from simulation.policy.registry import REGISTRY
    from simulation.policy.scenario import load_scenario

    files = sorted(
        Path(directory).glob("*.toml"), key=lambda p: (p.stem != "baseline", p.stem.startswith("package"), p.stem)
    )
    lines = ["| scenario (file) | what it changes | magnitude | source |", "|---|---|---|---|"]
    for path in files:
        s = load_scenario(path)
        if not s.interventions:
            source = "registry defaults (`simulation/model/params.py`)"
            if s.posterior:  # named from the repository root, as the other sources are
                where = Path(os.path.relpath(s.posterior, Path(directory).resolve().parent)).as_posix()
                source = f"calibrated posterior (`{where}`), registry defaults for the rest"
            lines.append(f"| `{path.name}` | {_md(s.description)} | - | {source} |")
            continue
        if len(s.interventions) == 1:
            iv = s.interventions[0]
            lines.append(f"| `{path.name}` | {_md(s.description)} | {_md(_settings(iv))} | {_md(type(iv).source)} |")
        else:
            what = "; ".join(type(iv).title for iv in s.interventions)
            mag = "; ".join(f"{type(iv).title}: {_settings(iv)}" for iv in s.interventions)
            lines.append(
                f"| `{path.name}` | **Package.** {_md(s.description)} | {_md(mag)} | {_md(what)}: see the lever rows |"
            )
    lines += [
        "",
        "| intervention `type` | acts on | fields: default (allowed range, unit) | cost basis |",
        "|---|---|---|---|",
    ]
    for kind, cls in sorted(REGISTRY.items()):
        d = cls.describe()
        acts = ", ".join(f"`{p}`" for p in d["levers"]) or "weekly programme (`apply`)"
        fields = "; ".join(
            f"`{k}` {'none' if f['default'] is None else format(f['default'], 'g')} "
            f"({f['low']:g}-{f['high']:g} {f['unit']})"
            for k, f in d["fields"].items()
        )
        lines.append(f"| `{kind}` | {acts} | {_md(fields)} | {_md(d['cost_basis'])} |")
    return "\n".join(lines)


def update_catalogue(directory: str | Path) -> Path:
    """Rewrite the generated tables inside ``directory/README.md`` (between the markers)."""
    readme = Path(directory) / "README.md"
    text = readme.read_text()
    start, end = text.index(CATALOGUE_BEGIN) + len(CATALOGUE_BEGIN), text.index(CATALOGUE_END)
    readme.write_text(text[:start] + "\n" + scenario_catalogue(directory) + "\n" + text[end:])
    return readme


if __name__ == "__main__":  # python -m simulation.present.report scenarios
    import sys

    print(f"updated {update_catalogue(sys.argv[1] if len(sys.argv) > 1 else 'scenarios')}")
