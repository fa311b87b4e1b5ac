"""Every comparison figure, rendered from a small run's tables, checked for what it shows."""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest

from simulation.model.metrics import HEADLINE, HEADLINE_LABELS
from simulation.present import comparison_plots, plots
from simulation.present.plot_style import OKABE_ITO

SAFE = {mcolors.to_hex(c) for c in OKABE_ITO.values()}


def _files_exist(paths: dict) -> pd.DataFrame:
    for key in ("png", "svg", "csv"):
        assert paths[key].exists() and paths[key].stat().st_size > 0, key
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in paths["svg"].read_bytes()[:2000]
    return pd.read_csv(paths["csv"])


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("figures")


def test_fan_chart_by_academic_year(comparison, out):
    years = comparison["years"]
    paths = plots.plot_fan(years, "children_leaving_per_1000", out / "fan")
    data = _files_exist(paths)
    ax = paths["figure"].axes[0]
    assert "Children leaving a school roll" in ax.get_title(loc="left")
    assert ax.get_xlabel().startswith("Academic year") and "per 1,000" in ax.get_ylabel()
    assert len(ax.get_lines()) == 3  # one median line per scenario
    assert len(ax.collections) == 6  # a 50% and a 90% band per scenario
    assert {mcolors.to_hex(line.get_color()) for line in ax.get_lines()} <= SAFE
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2023/24", "2024/25"]
    # Bands nest around the median, per scenario and year.
    assert (data["p5"] <= data["p25"]).all() and (data["p25"] <= data["median"]).all()
    assert (data["median"] <= data["p75"]).all() and (data["p75"] <= data["p95"]).all()
    assert set(data["scenario"]) == {"baseline", "support", "consent"} and (data["n_replicates"] == 6).all()
    expected = years[(years["scenario"] == "support")].groupby("academic_year")["children_leaving_per_1000"].median()
    np.testing.assert_allclose(data[data["scenario"] == "support"]["median"], expected)


def test_forest_plot_of_paired_effects(comparison, out):
    paths = comparison_plots.plot_forest(comparison["metrics"], out / "forest")
    data = _files_exist(paths)
    ax = paths["figure"].axes[0]
    assert "% of the baseline" in ax.get_xlabel() and "Effect of each scenario" in ax.get_title(loc="left")
    assert len(ax.containers) == 2  # an error-bar series per policy scenario
    # (long labels are wrapped onto two lines)
    assert [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()] == [HEADLINE_LABELS[m][0] for m in HEADLINE]
    ok = data.dropna(subset=["lo_pct", "hi_pct"])
    assert (ok["lo_pct"] <= ok["diff_pct"] + 1e-9).all() and (ok["diff_pct"] <= ok["hi_pct"] + 1e-9).all()


def test_exit_routes_recorded_against_true(comparison, out):
    paths = comparison_plots.plot_exit_routes(comparison["exit_routes"], out / "routes")
    data = _files_exist(paths)
    left, right = paths["figure"].axes
    assert (
        left.get_title(loc="left") == "What the statistics record"
        and right.get_title(loc="left") == "What really happened"
    )
    assert "a year" in left.get_ylabel() and left.get_xlabel() == "Scenario"
    rec = {t.get_text() for t in left.get_legend().get_texts()}
    true = {t.get_text() for t in right.get_legend().get_texts()}
    assert "Elective home education" in rec and "Home education: pushed by school" in true
    assert not rec & {"Home education: no choice", "Home education: pushed by school"}  # not in the record
    # Stacked bar heights per scenario equal the CSV totals, and both panels show the same total.
    for ax, view in ((left, "recorded"), (right, "true")):
        tops = {}
        for patch in ax.patches:
            x = round(patch.get_x() + patch.get_width() / 2)
            tops[x] = max(tops.get(x, 0.0), patch.get_y() + patch.get_height())
        totals = data[data["view"] == view].groupby("scenario", sort=False)["children_per_year"].sum()
        np.testing.assert_allclose([tops[i] for i in range(3)], totals[["baseline", "support", "consent"]])


def test_waterfall_of_averted_and_displaced(comparison, out):
    paths = comparison_plots.plot_waterfall(
        comparison["averted_summary"], comparison["displacement_summary"], "support", out / "waterfall"
    )
    data = _files_exist(paths)
    ax, ax2 = paths["figure"].axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Baseline", "Averted", "New", "Policy"]
    assert "a year" in ax.get_ylabel() and "Children a year" in ax2.get_xlabel()
    steps = data[data["panel"] == "waterfall"].set_index("step")["value"]
    base, averted, new, policy = steps.to_numpy()
    assert averted < 0 < new
    assert base + averted + new == pytest.approx(policy)  # the waterfall closes
    assert len(ax.patches) == 4


def test_ehcp_waiting_time_distribution(comparison, out):
    paths = comparison_plots.plot_ehcp_waits(comparison["ehcp_waits"], out / "waits")
    data = _files_exist(paths)
    ax = paths["figure"].axes[0]
    assert ax.get_xlabel().startswith("Weeks from request to plan") and "%" in ax.get_ylabel()
    vertical = [line for line in ax.get_lines() if np.allclose(line.get_xdata(), 20)]
    assert vertical, "no line at 20 weeks"
    assert len(ax.get_legend().get_texts()) == 3
    np.testing.assert_allclose(data.groupby("scenario")["share_pct"].sum(), 100.0)
    # The legend's "within 20 weeks" share is the share of plans in the bins left of the line.
    left = data[data["bin_end"] <= 20].groupby("scenario")["share_pct"].sum()
    np.testing.assert_allclose(left, data.groupby("scenario")["within_20_weeks_pct"].first()[left.index])


def test_equality_risk_ratios(comparison, out):
    paths = comparison_plots.plot_equality(comparison["equality_summary"], out / "equality")
    data = _files_exist(paths)
    ax = paths["figure"].axes[0]
    assert ax.get_xscale() == "log" and "Risk ratio" in ax.get_xlabel()
    assert any(np.allclose(line.get_xdata(), 1) for line in ax.get_lines())
    assert len(ax.containers) == 2
    assert any(t.get_text().startswith("All children (") for t in ax.get_yticklabels())  # with its baseline rate
    ok = data.dropna()
    assert ((ok["rr_lo"] <= ok["risk_ratio"] + 1e-12) & (ok["risk_ratio"] <= ok["rr_hi"] + 1e-12)).all()


def test_figures_refuse_tables_without_their_columns(out):
    with pytest.raises(ValueError, match="years table: missing columns"):
        plots.plot_fan(pd.DataFrame({"scenario": ["a"]}), "exits_per_1000", out / "bad")
    with pytest.raises(ValueError, match="no rows"):
        comparison_plots.plot_ehcp_waits(pd.DataFrame(columns=["scenario", "wait_weeks", "plans"]), out / "bad")


def test_paired_effect_by_year_beside_published_figures(comparison, out):
    """The report's replacement for overlapping fans: the baseline with published figures (left) and
    each policy's paired difference by year and over all years with its 90% interval (right)."""
    from simulation.analysis.targets import published_points

    years = comparison["years"]
    metric = "ehe_census_pct"
    published = published_points(metric, years["academic_year"].unique())
    assert len(published), "the fixture's years have published home-education figures"
    paths = plots.plot_paired_effect(years, metric, out / "effect", "baseline", published=published)
    data = _files_exist(paths)
    left, right = paths["figure"].axes
    assert "%" in left.get_ylabel() and "Change against the baseline" in right.get_ylabel()
    assert len(left.containers) == 1  # the published figures, with their ranges
    assert [t.get_text() for t in right.get_xticklabels()][-1] == "All years"
    assert len(right.containers) == 2  # one all-years interval per policy
    # By year: the mean of the replicate-by-replicate differences; over all years: the metrics table's.
    b = years[years["scenario"] == "baseline"].set_index(["replicate", "academic_year"])[metric]
    m = comparison["metrics"].set_index(["scenario", "metric"])
    for scen in ("support", "consent"):
        d = data[data["scenario"] == scen].set_index("academic_year")
        s = years[years["scenario"] == scen].set_index(["replicate", "academic_year"])[metric]
        by_year = (s - b).groupby(level="academic_year").mean()
        for y, v in by_year.items():
            assert d.loc[str(y), "diff"] == pytest.approx(v)
        assert d.loc["all years", "diff"] == pytest.approx(m.loc[(scen, metric), "diff"])
        assert d.loc["all years", "diff_lo"] == pytest.approx(m.loc[(scen, metric), "diff_lo"])
        assert (d["diff_lo"] <= d["diff"] + 1e-12).all() and (d["diff"] <= d["diff_hi"] + 1e-12).all()
    assert set(data[data["scenario"] == "published"]["value"]) == set(published["value"])


def test_out_of_school_small_multiples_with_published_census(comparison, out):
    import matplotlib

    paths = plots.plot_out_of_school(comparison["weeks"], out / "oos")
    _files_exist(paths)
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text stays text in the SVG
        svg = plots.plot_out_of_school(comparison["weeks"], out / "oos_text")["svg"].read_text()
    for label, _ in plots.OUT_OF_SCHOOL.values():  # one panel per status, each titled
        assert label in svg, label
    assert "Published, England" in svg
    data = plots.published_stocks(plots.out_of_school_rates(comparison["weeks"]))
    # the published EHE and CME autumn-census figures for the fixture's years, per 1,000 (10 x %)
    assert set(data["status"]) == {"ehe", "cme"} and (data["per_1000"] > 0).all()


def test_exit_routes_and_waits_carry_intervals(comparison, out):
    routes = comparison_plots.exit_route_data(comparison["exit_routes"])
    ok = routes.dropna(subset=["total_lo"])
    assert len(ok) and ((ok["total_lo"] <= ok["total_per_year"]) & (ok["total_per_year"] <= ok["total_hi"])).all()
    from simulation.analysis.targets import published_points

    paths = comparison_plots.plot_ehcp_waits(
        comparison["ehcp_waits"], out / "waits_pub", published=published_points("ehcp_timely_pct")
    )
    data = _files_exist(paths)
    _, right = paths["figure"].axes
    first = data.drop_duplicates("scenario")
    assert (
        (first["within_20_lo"] <= first["within_20_weeks_pct"])
        & (first["within_20_weeks_pct"] <= first["within_20_hi"])
    ).all()
    assert any(np.allclose(line.get_xdata(), 50.3) for line in right.get_lines())  # the published share
    assert len(right.containers) == 3  # one interval per scenario


def test_scenario_titles_for_people():
    t = comparison_plots.scenario_title
    assert (
        t("childrens_commissioner", "scenarios/package_childrens_commissioner.toml")
        == "Children's Commissioner package"
    )
    assert t("send_reform", "scenarios/package_send_reform.toml") == "SEND reform package"
    assert t("baseline") == "Baseline" and t("ehcp_assessment_capacity") == "EHCP assessment capacity"
    assert t("anything", title="A given title") == "A given title"
