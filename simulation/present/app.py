"""The live app: a scenario and its levers against the baseline, one LA, run week by week in the browser.

``school-exit app`` (or ``solara run app.py`` in the repository, Mesa's convention) serves a Mesa
``SolaraViz`` page over a :class:`~simulation.present.live.PairedRun`. The sidebar holds Mesa's
controls (Reset, run, step) and the run's parameters: the scenario (any committed
``scenarios/*.toml`` but the baselines), six policy levers from the parameter registry, the
scale, the reported years and the seed. Press Reset to build the runs with the values shown, then
the run button (the triangle). The main area shows the run's progress and its result in words,
three charts (children who left a roll, baseline and policy; their paired difference; the paired
difference in children out of school by status) and the settings each run used.

The charts are drawn here with matplotlib in the figures' house style (Mesa's own
``make_plot_component`` labels every x axis "Step"), as SVG scaled to their grid cell. The page
(:data:`Page`, built on first use) needs the ``[app]`` extra; this module imports without it.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from simulation.model import timeline as tl

from .live import (
    APP_LEVERS,
    DEFAULT_SCALE,
    DEFAULT_SEED,
    DEFAULT_YEARS,
    DIFFERENCE_COLOURS,
    MAX_YEARS,
    RUN_COLOURS,
    SCALE_RANGE,
    STATUS_COLOURS,
    PairedRun,
    default_scenario_title,
    lever_sliders,
    scenario_choices,
)

# --- the page (needs the [app] extra) ---------------------------------------------------------------
# Short slider labels (the sidebar puts a label and its slider on one line); the card under the
# charts' first cell gives each in full with the values the run used.
SIDEBAR_LABELS = {
    "fines_first_share": "Fines-first schools",
    "support_funding_change": "Support funding change",
    "assessment_capacity": "EHC assessments",
    "ehe_monitoring_rate": "EHE contacts a year",
    "camhs_wait_weeks": "CAMHS wait (weeks)",
    "offroll_peak_excess": "Census off-roll spike",
}
CHART_SPECS = {  # name: (title, y label, series and colours, zero line)
    "exits": (
        "Children leaving a school roll",
        "Per 1,000 children, cumulative",
        RUN_COLOURS,
        False,
    ),
    "difference": (
        "Paired difference: children leaving a roll",
        "Policy minus baseline, per 1,000",
        DIFFERENCE_COLOURS,
        True,
    ),
    "status": (
        "Paired difference: children out of school, by status",
        "Policy minus baseline, per 1,000",
        STATUS_COLOURS,
        True,
    ),
}
LEGEND = {"Policy minus baseline": "Policy minus baseline (below 0: fewer left)"}
_LINESTYLES = ["-", "--", "-.", ":"]  # with the colours, so a line is told apart in grey too


def model_params() -> dict:
    """SolaraViz's ``model_params``: the sidebar's inputs, by ``PairedRun`` keyword."""
    from mesa.visualization import Slider

    params: dict = {
        "scenario": {
            "type": "Select",
            "value": default_scenario_title(),
            "values": list(scenario_choices()),
            "label": "Scenario (the policy run)",
        },
        "scale": Slider("Scale (of 80,000 pupils)", DEFAULT_SCALE, *SCALE_RANGE, 0.05, dtype=float),
        "years": Slider("Reported years", DEFAULT_YEARS, 1, MAX_YEARS, 1, dtype=int),
        "seed": Slider("Seed (both runs)", DEFAULT_SEED, 1, 20, 1, dtype=int),
    }
    for name, s in lever_sliders().items():
        params[name] = Slider(SIDEBAR_LABELS[name], s["value"], s["min"], s["max"], s["step"], dtype=float)
    return params


def chart_svg(model: PairedRun, name: str) -> bytes | None:
    """One of the page's charts as SVG (None before the first reported week): weeks as academic
    years, labelled axes with units, Okabe-Ito colours with distinct line styles."""
    from matplotlib.figure import Figure

    df = model.datacollector.get_model_vars_dataframe()
    if df.empty:
        return None
    title, y_label, series, zero = CHART_SPECS[name]
    first, years = model.first_year, model.years
    x = first + (np.arange(len(df)) + 1) / tl.WEEKS_PER_YEAR
    fig = Figure(figsize=(6.4, 4.0), dpi=100)
    ax = fig.subplots()
    if zero:
        ax.axhline(0.0, color="#777777", linewidth=1.0)
    for i, (label, colour) in enumerate(series.items()):
        ax.plot(
            x,
            df[label].to_numpy(),
            label=LEGEND.get(label, label),
            color=colour,
            linestyle=_LINESTYLES[i % 4],
            linewidth=2.2,
        )
    ax.set_xlim(first, first + years)
    ax.set_xticks([first + k + 0.5 for k in range(years)])
    ax.set_xticklabels([f"{first + k}/{(first + k + 1) % 100:02d}" for k in range(years)])
    ax.set_xticks(range(first, first + years + 1), minor=True)
    ax.tick_params(axis="x", which="major", length=0)
    ax.grid(axis="x", which="minor", color="#dddddd")
    ax.grid(axis="y", color="#eeeeee")
    ax.set_xlabel("Academic year (gridlines: 1 September)", fontsize=12)
    ax.set_ylabel(y_label, fontsize=12)
    ax.set_title(title, fontsize=14, loc="left")
    ax.tick_params(labelsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=10, frameon=False, loc="best", ncol=2 if len(series) > 2 else 1)
    fig.tight_layout()
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="svg")
    return buf.getvalue()


def settings_rows(model: PairedRun) -> list[tuple[str, str, str]]:
    """(setting, policy run, baseline) for the card: the runs' sizes, and each app lever's live value
    this year in each run (the scenario's interventions included)."""
    s = model.baseline.scenario
    rows = [
        ("Pupils simulated", f"{model.pupils:,} ({s.scale:.0%} of {model.n_pupils_la:,})", "same"),
        ("Reported years", f"{model.years} from {model.first_year}/{(model.first_year + 1) % 100:02d}", "same"),
        ("Seed", f"{model.seed_used}", "same (common random numbers)"),
    ]
    start = f"{model.first_year}/{(model.first_year + 1) % 100:02d}"
    if model.reported_weeks == 0:  # before reporting: the values set, from the first reported year
        base = model.baseline.scenario.params(model.seed_used)
        for name, label in APP_LEVERS.items():
            value = model.levers.get(name, base[name])
            moved = not math.isclose(value, base[name], abs_tol=1e-9)
            rows.append((label, f"{value:.3g} from {start}" if moved else f"{value:.3g}", f"{base[name]:.3g}"))
        return rows
    live_p, live_b = model.policy.model.world.p, model.baseline.model.world.p
    for name, label in APP_LEVERS.items():
        rows.append((label, f"{live_p[name]:.3g}", f"{live_b[name]:.3g}"))
    return rows


@cache
def _page():
    import html

    import ipywidgets
    import solara
    from mesa.visualization import SolaraViz
    from mesa.visualization.utils import update_counter

    def _html(tag: str, text: str, style: str = "", cls: str = ""):
        return solara.HTML(tag=tag, unsafe_innerHTML=text, style=style, classes=[cls] if cls else [])

    @solara.component
    def RunCard(model: PairedRun):
        update_counter.get()  # redrawn whenever Mesa's controller has stepped the model
        with solara.Column(style={"padding": "10px 14px", "overflow": "auto", "height": "100%"}):
            _html("h3", html.escape(f"{model.title}, against the baseline"), "margin: 0 0 6px 0")
            _html(
                "div",
                "Choose a scenario and levers in the sidebar, press <b>RESET</b> to build the runs, then the "
                "run button (&#9654;). Both runs share one seed, so their difference is the policy.",
                "font-size: 0.9em; color: #444",
            )
            solara.ProgressLinear(value=model.progress, color="primary")
            _html("div", html.escape(model.status_line()), "font-size: 0.95em", "app-status")
            text = model.summary()
            if text:
                _html("p", html.escape(text), "font-size: 1.1em; font-weight: 600; margin: 8px 0 4px 0", "app-summary")
                _html("div", html.escape(model.noise_note()), "font-size: 0.85em; color: #555")

    @solara.component
    def SettingsCard(model: PairedRun):
        update_counter.get()
        rows = "".join(
            f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td><td>{html.escape(c)}</td></tr>"
            for a, b, c in settings_rows(model)
        )
        with solara.Column(style={"padding": "10px 14px", "overflow": "auto", "height": "100%"}):
            _html("h4", "What the two runs use", "margin: 0 0 6px 0")
            _html(
                "table",
                f"<tr><th>Setting (levers: this year's value)</th><th>Policy run</th><th>Baseline</th></tr>{rows}",
                "font-size: 0.9em; border-collapse: collapse; width: 100%",
                "app-settings",
            )
            _html(
                "div",
                "A lever slider moved off the baseline value sets that lever in the policy run from the first "
                "reported year; a scenario's intervention on the same lever acts after it.",
                "font-size: 0.85em; color: #555; margin-top: 6px",
            )

    def chart(name: str):
        @solara.component
        def Chart(model: PairedRun):
            update_counter.get()
            svg = chart_svg(model, name)
            if svg is None:
                title = CHART_SPECS[name][0]
                return _html(
                    "div",
                    f"<b>{html.escape(title)}</b><br>Drawn from the first reported week "
                    f"({model.first_year}/{(model.first_year + 1) % 100:02d}), after the spin-up.",
                    "padding: 14px; color: #555",
                    "app-chart-waiting",
                )
            return ipywidgets.Image.element(
                value=svg, format="svg+xml", layout=ipywidgets.Layout(width="100%", height="auto")
            )

        Chart.__name__ = f"Chart_{name}"
        return Chart

    charts = [chart(name) for name in CHART_SPECS]

    @solara.component
    def Page():
        model = solara.use_memo(PairedRun, [])  # one paired run per browser tab
        solara.Style(_CSS)
        SolaraViz(
            model,
            components=[RunCard, *charts, SettingsCard],
            model_params=model_params(),
            name="School exits: a policy against the baseline, one LA, live",
            play_interval=1,
            render_interval=5,  # Mesa's slider offers 1, 3, 5, ...
        )

    return Page


# Show each slider's value at all times (Vuetify shows it only while dragging), and style the card.
_CSS = """
.v-slider__thumb-label-container { display: block !important; }
.v-slider__thumb-label { transform: translateY(-4px) translateX(-50%) rotate(45deg) !important; }
.app-settings td, .app-settings th { text-align: left; padding: 1px 6px; border-bottom: 1px solid #eee; }
"""


def __getattr__(name: str):
    if name == "Page":  # built on first use, so the model side imports without the [app] extra
        return _page()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
