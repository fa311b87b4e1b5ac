"""`school-exit compare --assumptions`: the drawn parameters reach the runs, paired, and the output
splits each effect's spread between the assumptions and chance."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from simulation.cli import main
from simulation.policy.scenario import assumption_draw

BASE = """name = "base"
years = 1
burn_in = 0
replicates = 6
seed = 3
[population]
n_pupils = 2500
n_primary = 6
n_secondary = 2
n_special = 1
"""
POLICY = """extends = "base.toml"
name = "support_first"
[[interventions]]
type = "support_first_attendance"
start_year = 0
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("assumptions")
    (folder / "base.toml").write_text(BASE)
    (folder / "policy.toml").write_text(POLICY)
    return folder


def test_assumptions_mode_writes_the_split_and_pairs_the_draws(folder, capsys):
    out = folder / "out"
    argv = ["compare", str(folder / "base.toml"), str(folder / "policy.toml"), "--out", str(out), "--assumptions"]
    assert main([*argv, "--workers", "2"]) == 0
    printed = capsys.readouterr().out
    assert "Does it survive the assumptions?" in printed and "from chance" in printed
    table = pd.read_csv(out / "assumptions.csv")
    row = table[table["metric"] == "children_leaving_per_1000"].iloc[0]
    assert row["scenario"] == "support_first" and row["draws"] == 3
    assert 0.0 <= row["assumption_share"] <= 1.0
    assert row["draw_p5"] <= row["draw_p95"]
    # each scenario's manifest entry names what was drawn; the same draw feeds both arms of a replicate
    manifest = json.loads((out / "manifest.json").read_text())
    drawn = [s["assumptions"] for s in manifest["scenarios"]]
    assert drawn[0] == drawn[1] and "support_first_relief" in drawn[0]
    assert assumption_draw(tuple(drawn[0]), 1) != assumption_draw(tuple(drawn[0]), 0)


def test_assumptions_mode_refuses_an_odd_number_of_replicates(folder, capsys):
    out = folder / "odd"
    argv = ["compare", str(folder / "base.toml"), str(folder / "policy.toml"), "--out", str(out)]
    assert main([*argv, "--assumptions", "--replicates", "5"]) == 2
    assert "an even number, at least 4" in capsys.readouterr().err
    assert not out.exists()
