"""England: LA tables, national rows as sums and rates over LAs, small-count suppression, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.cli import main
from simulation.model.metrics import RUN_HEADLINE
from simulation.model.population import REFERENCE_LA
from simulation.policy.scenario import Scenario
from simulation.research.england import (
    AGGREGATION,
    LA_TABLE,
    LATableError,
    england_specs,
    la_seed,
    load_las,
    national_years,
    small_multiples_table,
)

SMALL = """\
name = "small"
years = 2
burn_in = 0
seed = 3
"""

LAS = """\
la,name,region,n_pupils,n_primary,n_secondary,n_special,ehcp_share,assessment_capacity,ehcp_timely_pct
A1,Alpha,North,3000,8,2,1,0.05,3.9,50
B2,Beta,North,1500,4,1,1,0.04,1.2,10
C3,Gamma,South,2500,6,2,1,0.06,5.0,70
"""


def test_packaged_la_table_matches_national_totals():
    las = load_las()
    assert len(las) == 153 and las["la"].is_unique
    assert las["n_pupils"].sum() == 8_100_000
    w = las["n_pupils"]
    for col in ("ehcp_share", "sen_support_share", "fsm_share_no_sen", "initial_ehe_share"):
        assert np.average(las[col], weights=w) == pytest.approx(getattr(REFERENCE_LA, col), abs=2e-4), col
        assert las[col].std() > 0  # LAs differ
    assert las["n_secondary"].sum() == pytest.approx(3_450, rel=0.05)
    assert {"assessment_capacity", "special_places_ratio", "ehcp_timely_pct"} <= set(las.columns)
    assert LA_TABLE.is_file()


def test_la_specs_seeds_and_overrides(tmp_path):
    path = tmp_path / "las.csv"
    path.write_text(LAS)
    las = load_las(path)
    base = Scenario(replicates=2, seed=7).with_()
    specs = england_specs(base, las)
    assert [(s.la, s.replicate) for s in specs][:3] == [("A1", 0), ("A1", 1), ("B2", 0)]
    b2 = specs[2]
    assert b2.scenario.population.n_pupils == 1500 and b2.scenario.parameters["assessment_capacity"] == 1.2
    assert b2.seed == la_seed(7, "B2") != la_seed(7, "A1")
    assert la_seed(7, "B2") == la_seed(7, "B2") and 0 <= la_seed(7, "B2") < 2**63
    assert len({s.key() for s in specs}) == len(specs)


def test_national_rows_are_sums_and_rates_over_las():
    years = pd.DataFrame(
        {
            "scenario": "s",
            "replicate": 0,
            "seed": [1, 2],
            "la": ["A", "B"],
            "academic_year": 2023,
            "n_pupils": [1000.0, 3000.0],
            "ehe_census_pct": [1.0, 2.0],  # 10 + 60 children of 4,000
            "ehe_entries_pct": [0.5, 0.1],  # 5 + 3 entrants
            "ehe_sen_pct": [40.0, 80.0],  # 2 + 2.4 of 8 entrants
            "ehcp_requests": [10.0, 30.0],
            "ehcp_timely_pct": [20.0, 60.0],
            "offrolled_per_1000": [2.0, np.nan],
        }
    )
    nat = national_years(years, base_seed=100).iloc[0]
    assert nat["la"] == "England" and nat["seed"] == 100
    assert nat["n_pupils"] == 4000 and nat["ehcp_requests"] == 40
    assert nat["ehe_census_pct"] == pytest.approx(70 / 4000 * 100)
    assert nat["ehe_sen_pct"] == pytest.approx(100 * 4.4 / 8)
    assert nat["ehcp_timely_pct"] == pytest.approx((20 * 10 + 60 * 30) / 40)
    assert nat["offrolled_per_1000"] == pytest.approx(2.0)  # LAs without a value are left out
    assert AGGREGATION["ehe_census_pct"] == ("n_pupils", True)
    assert AGGREGATION["pex_rate"] == ("n_pupils", False)


def test_small_counts_are_suppressed_and_counts_rounded():
    years = pd.DataFrame(
        {
            "la": ["A", "A", "B", "B"],
            "academic_year": 2023,
            "replicate": [0, 1, 0, 1],
            "n_pupils": [1000.0, 1000.0, 50_000.0, 50_000.0],
            "offrolled_per_1000": [2.0, 4.0, 1.0, 1.0],  # A: 2-4 children; B: 50
        }
    )
    t = small_multiples_table(years, ["offrolled_per_1000"]).set_index("la")
    assert bool(t.loc["A", "suppressed"]) and np.isnan(t.loc["A", "value"]) and t.loc["A", "count_shown"] == "<5"
    assert not t.loc["B", "suppressed"] and t.loc["B", "value"] == 1.0 and t.loc["B", "count_shown"] == "50.0"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (LAS.replace("ehcp_timely_pct", "happiness"), ["'happiness'"]),
        (LAS.replace("B2,Beta", "A1,Beta"), ["'A1'", "twice"]),
        (LAS.replace(",1.2,10", ",99,10"), ["assessment_capacity", "out of range"]),
        (LAS.replace("B2,Beta,North,1500", "B2,Beta,North,15.5"), ["n_pupils", "whole number"]),
        (LAS.replace("0.05,3.9", "1.5,3.9"), ["ehcp_share"]),
        ("name\nx\n", ["'la'"]),
    ],
)
def test_bad_la_table_refused_and_nothing_written(tmp_path, capsys, text, words):
    scen, las, out = tmp_path / "s.toml", tmp_path / "las.csv", tmp_path / "out"
    scen.write_text(SMALL)
    las.write_text(text)
    assert main(["run", str(scen), "--las", str(las), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and str(las) in err[0]
    for word in words:
        assert word in err[0]
    assert not out.exists()
    with pytest.raises(LATableError):
        load_las(las)


def test_run_with_an_la_table_adds_national_rows_and_figures(tmp_path, capsys):
    scen, las, out = tmp_path / "s.toml", tmp_path / "las.csv", tmp_path / "out"
    scen.write_text(SMALL)
    las.write_text(LAS)
    assert main(["run", str(scen), "--las", str(las), "--out", str(out), "--replicates", "2", "--plot"]) == 0
    years = pd.read_parquet(out / "years.parquet")
    assert set(years["la"]) == {"A1", "B2", "C3", "England"}
    assert len(years) == 4 * 2 * 2  # (3 LAs + England) x 2 replicates x 2 years
    la_rows, nat = years[years["la"] != "England"], years[years["la"] == "England"]
    keys = ["replicate", "academic_year"]
    summed = la_rows.groupby(keys)["n_pupils"].sum()
    assert np.allclose(nat.set_index(keys)["n_pupils"].sort_index(), summed.sort_index())
    ehe = (la_rows["ehe_census_pct"] * la_rows["n_pupils"]).groupby([la_rows[k] for k in keys]).sum() / summed
    assert np.allclose(nat.set_index(keys)["ehe_census_pct"].sort_index(), ehe.sort_index())
    weeks = pd.read_parquet(out / "weeks.parquet")
    w_la, w_nat = weeks[weeks["la"] != "England"], weeks[weeks["la"] == "England"]
    assert w_nat["ehe"].sum() == w_la["ehe"].sum() and len(w_nat) == 2 * 2 * 52
    summary = pd.read_parquet(out / "summary.parquet")
    assert len(summary) == 4 * 2
    assert (out / "figures" / "out_of_school.png").is_file()
    for m in RUN_HEADLINE:
        assert (out / "figures" / f"la_{m}.png").is_file()
        assert (out / "figures" / f"la_{m}.csv").is_file()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["england"]["las"] == 3 and manifest["runs"] == 6
    assert "3 LAs of England" in capsys.readouterr().out


@pytest.mark.slow
def test_england_with_the_packaged_table_at_tiny_scale(tmp_path):
    out = tmp_path / "england"
    args = ["run", "scenarios/baseline.toml", "--england", "--scale", "0.005", "--years", "1", "--replicates", "1"]
    import os

    root = Path(__file__).resolve().parents[2]
    cwd = os.getcwd()
    os.chdir(root)
    try:
        assert main([*args, "--out", str(out)]) == 0
    finally:
        os.chdir(cwd)
    years = pd.read_parquet(out / "years.parquet")
    assert years["la"].nunique() == 154
    nat = years[years["la"] == "England"]
    assert nat["n_pupils"].iloc[0] == pytest.approx(8_100_000, rel=0.01)
