"""The committed calibration says what its files hold: the README and the report quote the same
caveats, the posterior loads as scenarios use it, and the figures quoted are the tables'."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from simulation.policy.posterior import load_posterior
from simulation.policy.scenario import load_scenario
from simulation.present.calibration_report import caveats

ROOT = Path(__file__).resolve().parents[2]
CAL = ROOT / "calibration"


def test_the_readme_quotes_every_caveat_the_report_shows():
    readme = (CAL / "README.md").read_text()
    for row in caveats().itertuples(index=False):
        assert row.caveat in readme and row.meaning in readme, row.id


def test_the_posterior_scenario_draws_the_committed_posterior_with_its_roles():
    scen = load_scenario(ROOT / "scenarios" / "baseline_posterior.toml")
    post = load_posterior(Path(scen.posterior))
    roles = pd.read_csv(CAL / "posterior_roles.csv")
    assert set(post.fitted) == set(roles.loc[roles["role"] == "fitted", "parameter"])
    assert len(post.fitted) + len(post.assumed) == len(post.names) == 122
    assert scen.replicates % 4 == 0  # the source split needs whole calibration draws


def test_the_quoted_figures_are_the_tables():
    manifest = json.loads((CAL / "manifest.json").read_text())
    coverage = pd.read_csv(CAL / "coverage.csv")
    fit = pd.read_csv(CAL / "fit.csv")
    assert manifest["ess_min"] >= 500 and len(pd.read_csv(CAL / "posterior.csv")) == 2000
    assert manifest["sbc_truths"] == 450 and len(coverage) == len(manifest["fitted"]) == 51
    assert int(coverage["in_85_95"].sum()) == 50
    assert manifest["truncation"]["runs"] == 3000 and manifest["training_simulations"] == 7700 + 2850
    fitted = fit[fit["role"] == "fit"]
    assert int(fitted["in_range"].sum()) == 25 and len(fitted) == 43
    # every figure outside its range has a reason
    reasons = set(pd.read_csv(CAL / "misfits.csv")["id"])
    assert set(fit.loc[~fit["in_range"], "id"]) <= reasons
