"""The report's words: the summary in plain language, scenario titles, rounded money, caveats and
the glossary. Every number and list here is computed from the registry, the count catalogue, the
manifest and the result tables; nothing is typed in by hand, so the page cannot drift from the
model (``tests/scenarios/test_report_text.py`` holds it to the README's counts)."""

from __future__ import annotations

import html
import math

import pandas as pd

from simulation.model.metrics import COUNTS, EXIT_METRIC


def title(name: str, manifest: dict | None = None) -> str:
    """A scenario's name for people ("Children's Commissioner package"), from its file as the figures do."""
    from .comparison_plots import scenario_title

    sources = {s["name"]: s.get("source") for s in (manifest or {}).get("scenarios", [])}
    return scenario_title(name, sources.get(name))


def money(x: float) -> str:
    """GBP rounded to two significant figures, in words a room reads: "GBP 5.5 million"."""
    if x is None or not math.isfinite(x):
        return "-"
    sign, a = ("-" if x < 0 else ""), abs(x)
    for size, word in ((1e9, "billion"), (1e6, "million"), (1e3, "thousand")):
        if a >= size:
            return f"{sign}GBP {_sig2(a / size)} {word}"
    return f"{sign}GBP {_sig2(a)}"


def _sig2(x: float) -> str:
    """``x`` (positive) to two significant figures: 157,934 -> "160,000", 5.547 -> "5.5"."""
    if x == 0:
        return "0"
    place = 1 - math.floor(math.log10(x))
    return f"{round(x, place):,.{max(place, 0)}f}"


def count(x: float) -> str:
    """A number of children, rounded to two significant figures (10 or more) or to a whole one."""
    if not math.isfinite(x):
        return "-"
    sign, a = ("-" if x < 0 else ""), abs(x)
    return f"{sign}{_sig2(a) if a >= 10 else f'{a:.0f}'}"


def summary(tables: dict[str, pd.DataFrame], manifest: dict) -> str:
    """One paragraph per policy: how many more children a year stay on a school roll, in the whole
    authority, with the 90% interval, and the cost a year; from the cost and averted tables."""
    cs = tables.get("cost_summary")
    if cs is None or not len(cs):
        return ""
    years = tables["years"]
    baseline = manifest["baseline"]
    pupils = float(years[years["scenario"] == baseline]["n_pupils"].mean())
    assumptions = tables.get("assumptions")
    items = []
    for _, r in cs.iterrows():
        n, lo, hi = r["net_averted_per_year"], r["net_averted_lo"], r["net_averted_hi"]
        more = "more" if n >= 0 else "fewer"
        sure = (
            "the whole interval is on this side of zero"
            if (lo > 0 and hi > 0) or (lo < 0 and hi < 0)
            else "the interval includes zero: the model cannot tell this policy from none"
        )
        if n >= 0:
            interval = f"90% interval {count(lo)} to {count(hi)} net children kept"
        else:  # say it as the children who leave, not as negative children kept
            interval = f"90% interval {count(-hi)} to {count(-lo)} more children leaving"
        text = (
            f"<b>{html.escape(title(r['scenario'], manifest))}.</b> In an authority of {pupils:,.0f} pupils, about "
            f"<b>{count(abs(n))} {more} children a year stay on a school roll</b> ({interval}; {sure})."
        )
        weeks = _weeks_regained(tables.get("averted_summary"), r["scenario"])
        if weeks is not None:
            w, w_lo, w_hi = weeks
            lo_w, hi_w = (w_lo, w_hi) if w >= 0 else (-w_hi, -w_lo)
            text += (
                f" Children lose about {count(abs(w))} {'fewer' if w >= 0 else 'more'} pupil-weeks of school "
                f"education a year, home education and missing education included (range {count(lo_w)} to "
                f"{count(hi_w)})."
            )
        if r["cost_estimated"]:
            text += f" It costs about {money(r['cost_gbp_per_year'])} a year"
            lo_c, hi_c = r.get("cost_gbp_lo", math.nan), r.get("cost_gbp_hi", math.nan)
            if math.isfinite(lo_c) and math.isfinite(hi_c) and money(lo_c) != money(hi_c):
                text += f" ({money(lo_c)} to {money(hi_c)})"
            if math.isfinite(r["gbp_per_exit_averted"]) and n > 0:
                text += f", {money(r['gbp_per_exit_averted'])} for each child kept on a roll"
                lo_e, hi_e = r.get("gbp_per_exit_lo", math.nan), r.get("gbp_per_exit_hi", math.nan)
                if math.isfinite(lo_e) and math.isfinite(hi_e):
                    text += f" ({money(lo_e)} to {money(hi_e)})"
            text += "."
        if assumptions is not None and len(assumptions):
            a = assumptions[(assumptions["scenario"] == r["scenario"]) & (assumptions["metric"] == EXIT_METRIC)]
            if len(a) and math.isfinite(a["assumption_share"].iloc[0]):
                a = a.iloc[0]
                text += (
                    f" With the assumptions it rests on drawn from their ranges, the effect keeps its sign in "
                    f"{a['same_sign_share']:.0%} of {int(a['draws'])} draws; {a['assumption_share']:.0%} of its spread "
                    "comes from those assumptions."
                )
        text += _sources_sentence(tables.get("sources"), r["scenario"])
        items.append(f"<li>{text}</li>")
    return (
        "<div class='key'><h2>In plain words</h2><ul>" + "".join(items) + "</ul>"
        "<p class='src'>'Stay on a school roll' is net: children who would have left and did not, less "
        "children who left only because of the policy. A range is the model's 90% interval over its "
        f"paired runs. {_what_varies(manifest)} Read the caveats below before quoting a number.</p></div>"
    )


def _sources_sentence(sources: pd.DataFrame | None, scenario: str) -> str:
    """Where the spread of a policy's effect comes from, in words, from the sources table (written
    when the replicates draw from a posterior); empty without one or with too few draws."""
    if sources is None or not len(sources):
        return ""
    row = sources[(sources["scenario"] == scenario) & (sources["metric"] == EXIT_METRIC)]
    if not len(row) or not math.isfinite(row["chance_share"].iloc[0]):
        return ""
    row = row.iloc[0]
    return (
        f" Of how much this effect varies from one run to the next, {row['chance_share']:.0%} is chance (the model's "
        f"own randomness), {row['calibration_share']:.0%} is calibration (the parameters fitted to published data, "
        f"drawn from the posterior) and {row['assumptions_share']:.0%} is assumptions (parameters the data do not "
        "narrow, drawn from their ranges)."
    )


def _what_varies(manifest: dict) -> str:
    """What the ranges include, from the manifest: chance, a posterior's draws, drawn assumptions."""
    posterior = any(s.get("posterior") for s in manifest.get("scenarios", []))
    drawn = sorted({n for s in manifest.get("scenarios", []) for n in s.get("assumptions", [])})
    parts = ["chance (the model's own randomness)"]
    if posterior:
        parts.append("the calibrated posterior's parameter sets")
    if drawn:
        parts.append(f"{len(drawn)} assumed parameters drawn from their ranges")
    text = "The ranges include " + " and ".join(parts) + "."
    if not posterior:
        text += " No calibrated posterior is used: the parameters are the registry's hand-set defaults."
    return text


def _weeks_regained(av: pd.DataFrame | None, scenario: str) -> tuple[float, float, float] | None:
    """Pupil-weeks of education regained a year (all weeks lost) and its 90% interval, if the table has it."""
    from simulation.analysis.counts import ALL_WEEKS_LOST

    if av is None or not len(av):
        return None
    w = av[(av["scenario"] == scenario) & (av["measure"] == "pupil_weeks_regained") & (av["route"] == ALL_WEEKS_LOST)]
    if not len(w) or not math.isfinite(w["mean"].iloc[0]):
        return None
    return float(w["mean"].iloc[0]), float(w["lo"].iloc[0]), float(w["hi"].iloc[0])


def parameter_counts() -> dict[str, int]:
    """The registry's parameters by kind, and how many are marked ``assumption`` (their source is
    an assumption) or only partly assumed (a published figure, with an assumed part): the README
    states the first four."""
    from simulation.model.params import PARAMS

    values = list(PARAMS.values())
    marked = [p.source.lower().startswith("assumption") for p in values]
    return {
        "parameters": len(values),
        "uncertain": sum(p.kind == "uncertainty" for p in values),
        "levers": sum(p.kind == "lever" for p in values),
        "assumption": sum(marked),
        "partly_assumed": sum("assumption" in p.source.lower() and not m for p, m in zip(values, marked, strict=True)),
    }


def caveats(tables: dict, manifest: dict) -> str:
    """The caveats box, built from the registry, the manifest (posterior, scale, levers) and the tables."""
    from simulation.analysis.targets import compare_to_targets, count_line
    from simulation.model.params import PARAMS

    c = parameter_counts()
    assumed = [p.name for p in PARAMS.values() if p.source.lower().startswith("assumption")]
    years = tables["years"]
    fit = count_line(compare_to_targets(years[years["scenario"] == manifest["baseline"]]))
    posterior = {s.get("posterior", {}).get("sha256") for s in manifest["scenarios"]} - {None}
    if posterior:
        calibrated = (
            "Each replicate draws its parameters from a calibrated posterior (sha256 "
            f"{html.escape(', '.join(sorted(p[:12] for p in posterior)))})."
        )
        marked = sorted({n for s in manifest["scenarios"] for n in (s.get("posterior") or {}).get("assumed", [])})
        if marked:
            calibrated += (
                f" {len(marked)} of its parameters are marked assumed, not fitted: the data do not narrow them "
                f"({html.escape(', '.join(marked))}), so they are drawn apart from the fitted ones, and the summary "
                "can say how much of an effect's spread is calibration and how much assumptions."
            )
    else:
        tuned = sum("hand-tuned" in p.source.lower() for p in PARAMS.values())
        calibrated = (
            f"No scenario compared here names a calibrated posterior, so every parameter is at its hand-set default "
            f"(the registry's); {tuned} of them are marked hand-tuned at full scale so that the baseline lands near "
            "published England figures. No formal fit stands behind them, and the intervals carry no parameter "
            "uncertainty from one."
        )
    lever_items = "".join(_intervention_caveat(kind, where) for kind, where in _interventions(manifest).items())
    drawn = sorted({n for s in manifest["scenarios"] for n in s.get("assumptions", [])})
    if posterior:
        varies = (
            f"chance, the posterior's parameter sets and the {len(drawn)} uncertain parameters the compared "
            f"interventions act through, drawn from their ranges ({html.escape(', '.join(drawn))})"
            if drawn
            else "chance and the posterior's parameter sets"
        )
        uncertainty = (
            f"Intervals include {varies}; uncertain parameters the posterior "
            "does not hold stay at their defaults. Four replicates share a draw of the fitted parameters and two a "
            "draw of the assumed ones, so replicates are not independent: an interval over replicates that treats "
            "them as independent is too narrow when calibration or assumptions give much of the spread (the "
            "summary says how much each gives)."
        )
    elif drawn:
        uncertainty = (
            f"Intervals include chance and the {len(drawn)} uncertain parameters the compared interventions act "
            f"through, drawn from their ranges ({html.escape(', '.join(drawn))}); the other "
            f"{c['uncertain'] - len(drawn)} uncertain parameters stay at their defaults."
        )
    else:
        uncertainty = (
            "Intervals show chance only (the paired intervals are narrow because both runs share their random "
            f"numbers). None of the {c['uncertain']} uncertain parameters varies, so as statements about the world "
            "they are too narrow: <code>school-exit compare --assumptions</code> also draws the parameters the "
            "compared interventions act through and says how much of each interval comes from them."
        )
    scale = manifest["scenarios"][0].get("scale", 1.0)
    return f"""
<div class="caveats"><h2>Caveats: read before quoting a number</h2><ul>
<li><b>Assumptions.</b> {c["assumption"]} of the model's {c["parameters"]} parameters ({c["uncertain"]} uncertain,
{c["levers"]} policy levers) rest on an assumption: no publication gives them; {c["partly_assumed"]} more combine a
published figure with an assumed part.
<details><summary>Which parameters</summary>{", ".join(f"<code>{n}</code>" for n in assumed)}</details></li>
<li><b>Calibration.</b> {calibrated} This comparison's baseline against the published targets: {html.escape(fit)}.</li>
<li><b>Interventions and what their effects rest on.</b> For each lever compared: the parameters it sets, the
evidence for its size, and the uncertain parameters of the mechanism it acts through (from the registry). A lever
whose mechanism rests on assumptions gives "what if children responded this way", not a forecast; in a package the
model cannot say which lever drives the result (compare the single-lever files in <code>scenarios/</code>).
<ul>{lever_items or "<li>none: no scenario here changes a policy</li>"}</ul></li>
<li><b>Uncertainty.</b> {uncertainty}</li>
<li><b>Scale.</b> Runs simulate a fraction {scale:g} of the authority's pupils; each simulated child stands for
{1 / scale:g} children. Small groups (looked-after children, some needs) rest on few simulated children.</li>
<li><b>Costs.</b> Yearly GBP estimates of delivering each intervention, on the bases stated, rounded to two
significant figures; not budgets, and they count no savings elsewhere (fewer tribunals, remedies, parents out of
work).</li>
</ul></div>"""


def _interventions(manifest: dict) -> dict[str, list[str]]:
    """Intervention type -> the titles of the compared scenarios that use it, in manifest order."""
    out: dict[str, list[str]] = {}
    for s in manifest["scenarios"]:
        for iv in s.get("interventions_described", []):
            out.setdefault(iv["type"], [])
            if s["name"] not in out[iv["type"]]:
                out[iv["type"]].append(s["name"])
    return {k: [title(n, manifest) for n in v] for k, v in out.items()}


def _assumed(source: str) -> bool:
    text = source.lower()
    return "assumption" in text or "unconfirmed" in text


def _intervention_caveat(kind: str, where: list[str]) -> str:
    """One lever's caveat, from the registry: what it sets, its evidence, what its effect rests on."""
    from simulation.model.params import PARAMS
    from simulation.policy.registry import REGISTRY

    cls = REGISTRY.get(kind)
    if cls is None:  # a type this version no longer has: say so rather than guess
        return f"<li><code>{html.escape(kind)}</code>: not in this version's registry.</li>"
    sets = [
        f"<code>{html.escape(p)}</code>" + (" (assumption)" if p in PARAMS and _assumed(PARAMS[p].source) else "")
        for p in cls.levers
    ]
    through = [p for p in getattr(cls, "acts_through", ()) if p in PARAMS]
    assumed = [p for p in through if PARAMS[p].source.lower().startswith("assumption")]
    rests = (
        f" Its effect on children runs through {len(through)} uncertain parameters, {len(assumed)} of them "
        f"assumptions: {', '.join(f'<code>{html.escape(p)}</code>' for p in through)}."
        if through
        else " The registry names no uncertain parameter its effect runs through."
    )
    flag = " <b>(effect rests on assumptions)</b>" if assumed or _assumed(cls.source) else ""
    sets_text = f" Sets {', '.join(sets)}." if sets else " A programme (acts each week; sets no registry parameter)."
    return (
        f"<li><b>{html.escape(cls.title)}</b>{flag} (in {html.escape(', '.join(where))}).{sets_text} Evidence for its "
        f"size: {html.escape(cls.source)}.{rests}</li>"
    )


def glossary() -> str:
    """Each count's one definition (the metric catalogue), then the comparison's terms."""
    counts = "".join(
        f"<li><b>{html.escape(name)}</b> ({html.escape(unit)}): {html.escape(text)}.</li>"
        for name, (unit, text) in COUNTS.items()
    )
    return f"""
<h2>Glossary</h2><ul>{counts}
<li><b>Averted / new / displaced</b>: replicate r of every scenario shares its random numbers, so each child is the
same child in both runs. A child who left in the baseline but not under the policy is averted; one who left only
under the policy is new; one who left in both by a different route is displaced. Net averted = averted - new, which
is exactly the paired difference of <code>{EXIT_METRIC}</code> times the population.</li>
<li><b>Intervals</b>: "5-95%" is the range over replicates; a paired difference carries the 90% t-interval of its
mean; the unpaired interval is what the same runs would give without common random numbers.</li>
<li><b>Equality</b>: a child's group (SEN, need, free school meals, child in need or looked after) is read at
their first move off a roll in the year; risk is children of the group leaving a year per 1,000 children of the
group, so the risk of "All children" is <code>{EXIT_METRIC}</code>.</li>
<li><b>Replicate</b>: one run of a scenario on one seed. <b>Paired difference</b>: a policy run minus the
baseline run of the same replicate (same children, same random numbers: <b>common random numbers</b>), averaged
over replicates; its <b>90% interval</b> (the "range" in the summary) is where the mean effect lies, given the
model's own chance, 9 times in 10.</li>
<li><b>Children kept on a school roll</b>: net averted, the summary's headline. <b>Risk ratio</b>: a group's risk
of leaving under the policy over its risk in the baseline (below 1: fewer leave).</li>
<li><b>Recorded and true routes</b>: the reason the statistics record for a child leaving (a push by a school
is recorded as elective home education) and the reason the model knows. <b>Off-rolling</b>: a school pushing a
child off its roll; a <b>hidden truth</b>, never in published statistics.</li>
<li><b>EHE</b> elective home education; <b>CME</b> children missing education; <b>AP</b> alternative provision;
<b>Section 19</b> the LA's duty to arrange education for a child out of school; <b>EHCP</b> education, health
and care plan; <b>SEN support</b> special educational needs support without a plan; <b>FSM</b> free school
meals; <b>per 1,000 children</b> of the authority's 5-16 population (all children, on a roll or not).</li></ul>"""
