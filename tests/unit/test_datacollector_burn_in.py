"""The DataCollector has a row for every step, burn-in included and flagged (issue 20), while the
``weeks`` table keeps the evaluation weeks only: the two agree on those rows."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np

from simulation import SchoolExitModel, run
from simulation.model import timeline as tl

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)  # as tests/test_readme.py


def test_every_step_has_a_row_and_burn_in_is_flagged(make_scenario, status_columns):
    sc = make_scenario(n_pupils=3000, years=1, burn_in=1)
    m = SchoolExitModel(sc, seed=3)
    weeks = tl.WEEKS_PER_YEAR + 5
    m.run_for(weeks)
    df = m.datacollector.get_model_vars_dataframe()
    assert len(df) == weeks
    assert df["burn_in"].dtype == bool
    assert df["burn_in"].tolist() == [True] * tl.WEEKS_PER_YEAR + [False] * 5
    np.testing.assert_array_equal(df[status_columns].sum(axis=1), len(m.pupils))
    # the evaluation rows are the weeks the observer keeps for the `weeks` table
    weekly = np.array(m.observer.weekly)
    evaluation = df[~df["burn_in"]]
    np.testing.assert_array_equal(evaluation[status_columns].to_numpy(), weekly[:, 3 : 3 + len(status_columns)])
    np.testing.assert_array_equal(evaluation["in_distress"].to_numpy(), weekly[:, 3 + len(status_columns)])
    m.datacollector.collect(m)  # Mesa's own collect, through the reporters, gives the same row
    again = m.datacollector.get_model_vars_dataframe()
    assert again.iloc[-1].tolist() == df.iloc[-1].tolist()


def test_a_burn_in_row_matches_mesa_collect_too(make_scenario):
    m = SchoolExitModel(make_scenario(n_pupils=3000, years=1, burn_in=1), seed=3)
    m.run_for(3)
    m.datacollector.collect(m)
    df = m.datacollector.get_model_vars_dataframe()
    assert df["burn_in"].all() and df.iloc[-1].tolist() == df.iloc[-2].tolist()


def test_the_weeks_table_still_holds_evaluation_weeks_only(make_scenario):
    sc = make_scenario(n_pupils=3000, years=1, burn_in=1)
    result = run(sc, seed=3, keep_model=True)
    assert len(result.weeks) == tl.WEEKS_PER_YEAR
    df = result.model.datacollector.get_model_vars_dataframe()
    assert len(df) == 2 * tl.WEEKS_PER_YEAR and (~df["burn_in"]).sum() == tl.WEEKS_PER_YEAR
    assert (
        result.weeks["on_roll"].to_numpy() == df.loc[~df["burn_in"], "on_roll"].to_numpy() * result.model.weight
    ).all()


def test_the_readme_mesa_block_prints_rows(monkeypatch):
    # Before issue 20 it printed "Empty DataFrame": the datacollector skipped the eight burn-in years.
    block = next(b for b in FENCE.findall((ROOT / "README.md").read_text()) if "datacollector" in b)
    monkeypatch.chdir(ROOT)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(block, "README.md Mesa block", "exec"), {"__name__": "__readme__"})
    printed = buf.getvalue()
    assert "Empty DataFrame" not in printed
    assert "on_roll" in printed and "burn_in" in printed
    assert len(re.findall(r"^\d+(\s+\d+){8}\s+True$", printed, re.M)) == 2  # tail(2): two burn-in rows
