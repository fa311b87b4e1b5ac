"""One definition per count: compare's averted, displaced and regained totals are the paired
difference of the catalogue's rates times the population, and every table counts the same children.

A small comparison (4,000 pupils simulated at scale 0.5, so each simulated child stands for 2;
3 replicates, 2 evaluation years, seed 7) with a policy that keeps children on roll and one that
pushes them off (more fines).

Tolerance. Both sides of every identity count the same children: the averted table sums
``weight`` per child, the rate is ``1000 * count * weight / n_pupils`` and is multiplied back by
``n_pupils / 1000``. Each of those float operations is exact to half an ulp (relative 1.1e-16),
and a replicate sums a handful of them, so the two sides agree to about 1e-12 children on counts
of a few hundred. ``ABS = 1e-9`` children (and pupil-weeks) is far above that rounding and far
below the smallest real difference, one simulated child (2 children at this scale): a definition
that drifted (moves instead of children, a first exit over the window instead of per year, home
education left out of the weeks) fails by whole children, as the three counts in issue 20 did.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.analysis.compare import compare
from simulation.analysis.counts import ALL_WEEKS_LOST, whole_la
from simulation.analysis.digest import ALL_ROUTES
from simulation.model import timeline as tl
from simulation.model.metrics import COUNTS, EXIT_METRIC, HEADLINE, HEADLINE_LABELS
from simulation.policy.interventions import SupportFunding
from simulation.policy.registry import REGISTRY

ABS = 1e-9  # children or pupil-weeks; see the module docstring
YEARS = 2


@pytest.fixture(scope="module")
def comparison(make_scenario):
    base = make_scenario(n_pupils=4000, years=YEARS, burn_in=0, replicates=3, seed=7).with_(scale=0.5)
    support = base.with_(name="support", interventions=(SupportFunding(change=0.3),))
    fines = base.with_(
        name="more_fines",
        interventions=(REGISTRY["penalty_notice_tightening"](fines_first_share=0.9, fine_increase=0.5),),
    )
    return compare(base, [support, fines], workers=2)


def _paired_whole_la(years: pd.DataFrame, metric: str) -> pd.Series:
    """Per scenario and replicate: sum over years of (baseline - scenario) * n_pupils / 1000."""
    y = years.assign(count=whole_la(years, metric)).set_index(["replicate", "academic_year"])
    base = y[y["scenario"] == "baseline"]["count"]
    out = {}
    for scen, d in y[y["scenario"] != "baseline"].groupby("scenario"):
        diff = (base - d["count"]).groupby("replicate").sum()
        out |= {(scen, r): v for r, v in diff.items()}
    return pd.Series(out)


def _averted(comparison, measure: str, route: str = ALL_ROUTES, view: str = "true") -> pd.Series:
    av = comparison["averted"]
    d = av[(av["measure"] == measure) & (av["route"] == route) & (av["view"] == view)]
    return d.set_index(["scenario", "replicate"])["value"]


def test_the_population_is_the_same_in_every_run_and_year(comparison):
    # The rates share one denominator (n_pupils), constant because a child who moves away is
    # replaced at once: so "times the population" is one number per comparison.
    assert comparison["years"]["n_pupils"].nunique() == 1


def test_net_averted_is_the_paired_difference_of_the_exit_metric(comparison):
    expected = _paired_whole_la(comparison["years"], EXIT_METRIC)
    for view in ("true", "recorded"):
        got = _averted(comparison, "net_averted", view=view)
        np.testing.assert_allclose(got.loc[expected.index], expected, rtol=0, atol=ABS)
        # ... and baseline - policy children, from the averted table's own totals
        b, p = _averted(comparison, "baseline_exits", view=view), _averted(comparison, "policy_exits", view=view)
        np.testing.assert_allclose((b - p).loc[expected.index], expected, rtol=0, atol=ABS)
    # The summaries: net averted a year (and its 90% interval) is minus the metric's paired
    # difference (and interval) times the population / 1000, for every scenario.
    pop = float(comparison["years"]["n_pupils"].iloc[0])
    m = comparison["metrics"].set_index(["scenario", "metric"])
    s = comparison["averted_summary"]
    net = s[(s["measure"] == "net_averted") & (s["view"] == "true")].set_index("scenario")
    cs = comparison["cost_summary"].set_index("scenario")
    for scen in ("support", "more_fines"):
        row = m.loc[(scen, EXIT_METRIC)]
        assert net.loc[scen, "mean"] == pytest.approx(-row["diff"] * pop / 1000, abs=ABS)
        assert net.loc[scen, "lo"] == pytest.approx(-row["diff_hi"] * pop / 1000, abs=ABS)
        assert net.loc[scen, "hi"] == pytest.approx(-row["diff_lo"] * pop / 1000, abs=ABS)
        assert cs.loc[scen, "net_averted_per_year"] == pytest.approx(net.loc[scen, "mean"], abs=ABS)
    # The policies really move the count (so the identities are not 0 = 0).
    assert m.loc[("support", EXIT_METRIC), "diff"] < 0 < m.loc[("more_fines", EXIT_METRIC), "diff"]


def test_averted_and_displaced_by_route_are_the_paired_difference_of_children_by_route(comparison):
    er = comparison["exit_routes"]
    for view in ("true", "recorded"):
        d = er[er["view"] == view]
        by = d.groupby(["scenario", "replicate", "route"])["children"].sum()
        routes = sorted(set(d["route"]))
        for scen in ("support", "more_fines"):
            for rep in range(3):
                for route in routes:
                    base = by.get(("baseline", rep, route), 0.0)
                    pol = by.get((scen, rep, route), 0.0)
                    parts = {
                        k: _averted(comparison, k, route, view).get((scen, rep), 0.0)
                        for k in ("averted", "new", "displaced_out", "displaced_in", "baseline_exits", "policy_exits")
                    }
                    assert parts["baseline_exits"] == pytest.approx(base, abs=ABS)
                    assert parts["policy_exits"] == pytest.approx(pol, abs=ABS)
                    change = parts["averted"] + parts["displaced_out"] - parts["new"] - parts["displaced_in"]
                    assert base - pol == pytest.approx(change, abs=ABS), (view, scen, rep, route)


def test_exit_routes_count_children_and_moves_by_the_catalogue(comparison):
    er = comparison["exit_routes"]
    years = comparison["years"].set_index(["scenario", "replicate", "academic_year"])
    for view in ("true", "recorded"):
        tot = er[er["view"] == view].groupby(["scenario", "replicate", "academic_year"])[["children", "moves"]].sum()
        y = years.loc[tot.index]
        np.testing.assert_allclose(tot["children"], whole_la(y, "children_leaving_per_1000"), rtol=0, atol=ABS)
        np.testing.assert_allclose(tot["moves"], whole_la(y, "exits_per_1000"), rtol=0, atol=ABS)
    assert (years["exits_per_1000"] >= years["children_leaving_per_1000"]).all()


def test_figures_show_the_same_children_as_the_tables(comparison):
    from simulation.present import comparison_plots

    routes = comparison_plots.exit_route_data(comparison["exit_routes"])
    total = routes[routes["view"] == "true"].groupby("scenario")["children_per_year"].sum()
    for scen in ("support", "more_fines"):
        steps = comparison_plots.waterfall_data(comparison["averted_summary"], scen).set_index("step")["value"]
        assert steps.iloc[0] == pytest.approx(total["baseline"], abs=ABS)
        assert steps.iloc[-1] == pytest.approx(total[scen], abs=ABS)
    pop = float(comparison["years"]["n_pupils"].iloc[0])
    m = comparison["metrics"].set_index(["scenario", "metric"])
    assert total["baseline"] == pytest.approx(m.loc[("baseline", EXIT_METRIC), "mean"] * pop / 1000, abs=ABS)
    eq = comparison["equality_summary"].set_index(["scenario", "group"])
    for scen in ("support", "more_fines"):
        everyone = eq.loc[(scen, "All children")]
        assert everyone["baseline_risk_per_1000"] == pytest.approx(m.loc[(scen, EXIT_METRIC), "baseline_mean"])
        assert everyone["policy_risk_per_1000"] == pytest.approx(m.loc[(scen, EXIT_METRIC), "mean"])


def test_pupil_weeks_regained_are_the_paired_difference_of_weeks_lost(comparison):
    years = comparison["years"]
    np.testing.assert_allclose(
        years["weeks_education_lost_per_1000"],
        years["pupil_weeks_missed_per_1000"] + years["ehe_term_weeks_per_1000"],
    )
    # home education's part is every term week in EHE, from the weekly counts
    weeks = comparison["weeks"]
    term = weeks[tl.IS_TERM[weeks["week"].to_numpy()]]
    ehe = term.groupby(["scenario", "replicate", "academic_year"])["ehe"].sum()
    y = years.set_index(["scenario", "replicate", "academic_year"]).loc[ehe.index]
    np.testing.assert_allclose(whole_la(y, "ehe_term_weeks_per_1000"), ehe, rtol=1e-12)
    expected = _paired_whole_la(years, "weeks_education_lost_per_1000")
    got = _averted(comparison, "pupil_weeks_regained", ALL_WEEKS_LOST)
    np.testing.assert_allclose(got.loc[expected.index], expected, rtol=0, atol=1e-6)  # pupil-weeks in the thousands
    # More fines: more children leave, into home education among others: weeks lost rise.
    assert got.xs("more_fines", level="scenario").mean() < 0


def test_every_headline_measure_has_one_definition(comparison):
    m = comparison["metrics"]
    assert set(HEADLINE) <= set(m["metric"])
    assert set(COUNTS) <= set(m["metric"]) and set(COUNTS) <= set(comparison["summary"].columns)
    for metric in set(HEADLINE_LABELS) & set(COUNTS):  # the label's unit is the catalogue's
        assert HEADLINE_LABELS[metric][1] == COUNTS[metric][0] == m[m["metric"] == metric]["unit"].iloc[0]
    labels = [label for label, _ in HEADLINE_LABELS.values()]
    assert len(labels) == len(set(labels)), "two measures share a label"
