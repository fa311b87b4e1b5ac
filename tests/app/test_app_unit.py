"""The live app without a browser: the paired run it steps (``live``), the series it plots, the page it builds.

The model side (``PairedRun``) needs only Mesa and runs in the default suite; the page tests need
the ``[app]`` extra and skip without it (``make test-app`` installs it and runs them too).
"""

from __future__ import annotations

import math
import runpy
from pathlib import Path

import numpy as np
import pytest

from simulation.cli.main import main
from simulation.model import timeline as tl
from simulation.model.params import PARAMS
from simulation.present import app, live

ROOT = Path(__file__).resolve().parents[2]
SMALL = {"scale": 0.05, "years": 1}  # 4,000 pupils, 9 simulated years: about half a second a run


@pytest.fixture(scope="module")
def finished() -> live.PairedRun:
    """The default scenario, run to the end at the smallest scale."""
    return live.run_to_end(live.PairedRun(**SMALL))


def test_every_committed_scenario_but_the_baselines_is_offered_by_a_readable_title():
    choices = live.scenario_choices()
    files = {p.stem for p in (ROOT / "scenarios").glob("*.toml") if not p.stem.startswith("baseline")}
    assert {p.stem for p in choices.values()} == files
    assert all("_" not in title for title in choices), "titles are for people, not file names"
    assert live.default_scenario_title() in choices
    assert next(iter(choices)).startswith("Package: ")  # the packages come first


def test_one_run_produces_the_paired_series(finished):
    m = finished
    df = m.datacollector.get_model_vars_dataframe()
    assert list(df.columns) == live.COLUMNS
    assert len(df) == tl.WEEKS_PER_YEAR  # one row per reported week, none in the spin-up
    assert not m.running and m.progress == 100.0 and m.weeks_stepped == m.total_weeks
    m.step()  # after the end (Mesa's controller steps in batches): nothing happens
    assert m.steps == m.weeks_stepped == m.total_weeks
    np.testing.assert_allclose(df["Policy minus baseline"], df["Policy"] - df["Baseline"])
    assert (df["Baseline"].diff().dropna() >= 0).all(), "a cumulative count never falls"
    assert np.isfinite(df.to_numpy()).all()
    # The package keeps children on a roll in this run: fewer leave, fewer are in home education.
    assert df["Policy minus baseline"].iloc[-1] < 0
    assert df["Home education"].iloc[-1] < 0
    text = m.summary()
    assert text and "fewer children per 1,000 a year left a school roll" in text
    assert "80,000 pupils" in text and m.status_line().startswith("Done: 468 weeks")


def test_the_counts_are_the_catalogues(finished):
    """The app counts the children ``school-exit compare`` counts (simulation.analysis.counts)."""
    from simulation.analysis.digest import run_digest

    for side in (finished.baseline, finished.policy):
        d = run_digest((side.scenario, 0, False))
        assert side.moves == len(d.exits) > 0  # every move off a roll
        assert side.children == d.exits["uid"].nunique() <= side.moves  # one year: distinct children
        leaving = d.years["children_leaving_per_1000"].iloc[0]
        assert side.children * 1000.0 / finished.pupils == pytest.approx(leaving, rel=1e-9)


def test_the_baseline_against_itself_differs_by_nothing():
    """Common random numbers: the same scenario on the same seed gives the same children, week by week."""
    m = live.run_to_end(live.PairedRun(scenario="baseline", **SMALL))
    diffs = m.datacollector.get_model_vars_dataframe().drop(columns=["Baseline", "Policy"])
    assert (diffs.to_numpy() == 0).all()
    assert "about as many children left a school roll as in the baseline" in m.summary()


def test_a_lever_slider_acts_from_the_first_reported_year_only():
    m = live.PairedRun(scenario="baseline", offroll_peak_excess=0.0, **SMALL)
    while m.weeks_stepped < m.burn_in_weeks:
        m.step()
    b, p = m.baseline.model, m.policy.model
    assert np.array_equal(b.pupils.status, p.pupils.status), "the spin-up is shared"
    assert np.array_equal(b.pupils.stress, p.pupils.stress)
    assert p.world.p["offroll_peak_excess"] == b.world.p["offroll_peak_excess"] == 1.0
    m.step()
    assert p.world.p["offroll_peak_excess"] == 0.0 and b.world.p["offroll_peak_excess"] == 1.0
    assert app.settings_rows(m)[-1] == (live.APP_LEVERS["offroll_peak_excess"], "0", "1")


def test_sliders_left_at_the_baseline_value_change_nothing():
    sliders = live.lever_sliders()
    assert set(sliders) == set(live.APP_LEVERS) and all(PARAMS[n].kind == "lever" for n in sliders)
    m = live.PairedRun(**SMALL, **{name: s["value"] for name, s in sliders.items()})
    assert not any(isinstance(iv, live.LeverSettings) for iv in m.policy.scenario.interventions)
    for name, s in sliders.items():  # an untouched slider sits exactly on the baseline value
        k = (s["value"] - s["min"]) / s["step"]
        assert math.isclose(k, round(k), abs_tol=1e-6), f"{name}: the default is not a slider position"
        assert 20 <= (s["max"] - s["min"]) / s["step"] <= 200


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"nonsense": 1.0}, "not an app lever: nonsense"), ({"camhs_wait_weeks": 99.0}, "camhs_wait_weeks = 99.0")],
)
def test_bad_levers_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        live.PairedRun(**SMALL, **kwargs)


def test_the_command_needs_the_app_extra(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "solara" else real(name, *a))
    assert main(["app", "--port", "8765"]) == 2
    assert "error: the app needs the [app] extra" in capsys.readouterr().err
    assert main(["app", "--port", "70000"]) == 2
    assert main(["app", "--help"]) == 0


def test_the_server_command_line():
    from simulation.cli.app import solara_command

    cmd = solara_command("127.0.0.1", 8800)
    assert cmd[1:5] == ["-m", "solara", "run", "simulation.present.app:Page"]
    assert {"--production", "--no-open", "--no-check-version"} <= set(cmd)


# --- the page (the [app] extra) -------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::UserWarning")  # Solara's hook check on Mesa's own ComponentsView
def test_the_page_builds_with_mesa_solaraviz(finished):
    pytest.importorskip("solara")
    pytest.importorskip("altair")
    from mesa.visualization.solara_viz import _check_model_params

    page = app.Page
    assert page is runpy.run_path(str(ROOT / "app.py"))["Page"], "solara run app.py serves the same page"
    params = app.model_params()
    _check_model_params(live.PairedRun.__init__, params)  # what SolaraViz checks before it builds a run
    assert set(params) == {"scenario", "scale", "years", "seed", *live.APP_LEVERS}
    assert params["scenario"]["value"] in params["scenario"]["values"]
    for name in app.CHART_SPECS:
        svg = app.chart_svg(finished, name)
        assert svg.startswith(b"<?xml") and b"Academic year" in svg
    assert app.chart_svg(live.PairedRun(**SMALL), "exits") is None  # nothing to draw before reporting


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_the_page_renders_the_run_card_and_waiting_charts():
    solara = pytest.importorskip("solara")
    _box, rc = solara.render(app.Page(), handle_error=False)
    shown = " ".join(w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets)
    assert "Ready: 8,000 pupils (10% of the reference LA), 11 years to simulate" in shown
    assert "against the baseline" in shown and "What the two runs use" in shown
    assert shown.count("Drawn from the first reported week (2023/24)") == len(app.CHART_SPECS)
