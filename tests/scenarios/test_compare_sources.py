"""A posterior's roles, the nested draws they give (calibration r // 4, assumptions r // 2, seed r), and
`school-exit compare` splitting each effect's spread into chance, calibration and assumptions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from simulation.cli import main
from simulation.model.metrics import EXIT_METRIC, HEADLINE
from simulation.policy.posterior import load_posterior
from simulation.policy.scenario import ScenarioError, acts_through_of, assumption_draw, load_scenario

N_PARTICLES = 40  # distinct values in every column, so a shared value means a shared particle
FITTED = ("absence_base", "rr_fsm")
ASSUMED = ("ehe_genuine_hazard", "support_first_relief")
RANGES = {
    "absence_base": (0.01, 0.06),
    "rr_fsm": (1.5, 8.0),
    "ehe_genuine_hazard": (1e-4, 2e-3),
    "support_first_relief": (0.0, 0.15),
}
ROLES = "parameter,role\nabsence_base,fitted\nehe_genuine_hazard,assumed\nsupport_first_relief,assumed\n"
BASE = """name = "base"
posterior = "posterior.csv"
years = 1
burn_in = 0
replicates = 8
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


def _posterior() -> str:
    grid = np.linspace(0.1, 0.9, N_PARTICLES)
    cols = {n: lo + (hi - lo) * np.roll(grid, 7 * j) for j, (n, (lo, hi)) in enumerate(RANGES.items())}
    df = pd.DataFrame({"particle": range(N_PARTICLES), "weight": 1.0, "distance": 0.5, **cols})
    return df.to_csv(index=False)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "posterior.csv").write_text(_posterior())
    (tmp_path / "posterior_roles.csv").write_text(ROLES)
    (tmp_path / "base.toml").write_text(BASE)
    (tmp_path / "policy.toml").write_text(POLICY)
    return tmp_path


def test_roles_come_from_the_sidecar_and_default_to_fitted(folder):
    post = load_posterior(folder / "posterior.csv")
    assert post.assumed == ASSUMED and post.fitted == FITTED  # rr_fsm is not named: fitted
    (folder / "posterior_roles.csv").unlink()
    post = load_posterior(folder / "posterior.csv")
    assert post.assumed == () and post.fitted == post.names


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("parameter,role\nwibble,fitted\n", "'wibble' is not a column of .*posterior.csv .allowed: absence_base"),
        ("parameter,role\nrr_fsm,prior\n", "role of 'rr_fsm' = 'prior' .allowed: fitted or assumed."),
        ("parameter,kind\nrr_fsm,fitted\n", "no 'role' column .allowed columns: parameter, role"),
        ("parameter,role\nrr_fsm,fitted\nrr_fsm,assumed\n", "'rr_fsm' is given a role twice"),
    ],
)
def test_a_bad_roles_file_names_the_file_the_key_and_what_is_allowed(folder, text, message):
    (folder / "posterior_roles.csv").write_text(text)
    with pytest.raises(ScenarioError, match=message) as err:
        load_scenario(folder / "base.toml")
    assert "posterior_roles.csv:" in str(err.value)


def test_replicates_nest_seeds_in_assumption_draws_in_calibration_draws(folder):
    s = load_scenario(folder / "base.toml")
    draws = [s.params(seed=s.seed + r) for r in range(40)]
    fitted = [tuple(d[n] for n in FITTED) for d in draws]
    assumed = [tuple(d[n] for n in ASSUMED) for d in draws]
    assert len(set(fitted[:4])) == 1 and fitted[4] != fitted[0]  # replicates 0-3 share a fitted set
    assert assumed[0] == assumed[1] and assumed[2] == assumed[3]  # pairs within them share an assumed set
    for r in range(0, 40, 2):
        assert fitted[r] == fitted[r + 1] and assumed[r] == assumed[r + 1]  # a pair differs in its seed alone
    # new draws, by weight from 40 equal particles, as the draw number moves (a repeat is chance, 1 in 40)
    assert len(set(fitted)) >= 7 and len(set(assumed)) >= 14  # of 10 and 20 draws
    assert any(assumed[4 * g] != assumed[4 * g + 2] for g in range(10))  # the two pairs of a group differ
    draws = draws[:8]
    # the assumed columns come from another particle than the fitted ones (independent streams)
    post = load_posterior(folder / "posterior.csv")
    index = [s.posterior_draw(s.seed + r)[0] for r in range(8)]
    assert {n: draws[0][n] for n in FITTED} == post.particle(index[0], FITTED)
    assert any(post.particle(i, ASSUMED) != {n: d[n] for n in ASSUMED} for i, d in zip(index, draws, strict=True))
    # a function of (scenario seed, replicate): another base seed, other draws; the same, the same
    moved = s.with_(seed=s.seed + 1)
    assert [moved.params(seed=moved.seed + r)["rr_fsm"] for r in range(8)] != [f[1] for f in fitted[:8]]
    assert [s.params(seed=s.seed + r) for r in range(8)] == draws
    # a pinned particle (England pins one per replicate) gives every column from that particle
    pinned = s.with_(particle=index[5])
    assert {n: pinned.params(seed=99)[n] for n in post.names} == post.particle(index[5])


def test_baseline_and_policy_share_every_parameter_of_a_replicate(folder):
    from simulation.research.runner import run_specs

    base, policy = load_scenario(folder / "base.toml"), load_scenario(folder / "policy.toml")
    names = load_posterior(folder / "posterior.csv").names
    for r in range(8):
        a, b = base.params(seed=base.seed + r), policy.params(seed=policy.seed + r)
        assert {n: a[n] for n in names} == {n: b[n] for n in names}
    specs = run_specs([base, policy], 8)
    assert [x.seed for x in specs[:8]] == [x.seed for x in specs[8:]]  # common random numbers
    # compare --assumptions draws the acts-through parameters by pair and they override the posterior's
    drawn = acts_through_of([base, policy])
    assert "support_first_relief" in drawn
    for r in range(8):
        a, b = (s.with_(assumptions=drawn).params(seed=s.seed + r) for s in (base, policy))
        want = assumption_draw(drawn, r // 2)["support_first_relief"]
        assert a["support_first_relief"] == b["support_first_relief"] == want
        assert a["rr_fsm"] == base.params(seed=base.seed + r)["rr_fsm"]  # the fitted ones stay the posterior's


def test_a_policy_that_changes_nothing_has_no_effect_in_any_replicate(folder):
    # the strongest check of common random numbers: the same parameters and the same seed, the same run
    from simulation.analysis.compare import compare

    base = load_scenario(folder / "base.toml").with_(replicates=4)
    same = base.with_(name="same")
    summary = compare(base, [same], workers=2)["summary"]
    left = summary[summary["scenario"] == "base"].set_index("replicate").drop(columns="scenario")
    right = summary[summary["scenario"] == "same"].set_index("replicate").drop(columns="scenario")
    pd.testing.assert_frame_equal(left, right)


def test_compare_writes_the_sources_table_and_says_it(folder, capsys):
    from simulation.present.report import load_results
    from simulation.present.report_text import caveats, summary

    out = folder / "out"
    argv = ["compare", str(folder / "base.toml"), str(folder / "policy.toml"), "--out", str(out), "--workers", "2"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "support_first: of the spread between replicates, " in printed and "% assumptions" in printed
    table = pd.read_csv(out / "sources.csv")
    assert set(table["metric"]) <= set(HEADLINE) and EXIT_METRIC in set(table["metric"])
    assert (table["draws"] == 2).all()
    for col in ("total_var", "chance_share", "calibration_share", "assumptions_share", "effect_lo", "effect_hi"):
        assert col in table.columns
    split = table.dropna(subset=["chance_share"])
    assert len(split)
    shares = split[["chance_share", "calibration_share", "assumptions_share"]]
    assert ((shares >= 0) & (shares <= 1)).all().all()
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenarios"][0]["posterior"]["assumed"] == list(ASSUMED)
    tables, manifest = load_results(out)
    page = summary(tables, manifest)
    row = table[table["metric"] == EXIT_METRIC].iloc[0]
    assert f"{row['chance_share']:.0%} is chance" in page and f"{row['calibration_share']:.0%} is calibration" in page
    assert "2 of its parameters are marked assumed" in caveats(tables, manifest)


def test_compare_refuses_replicates_that_are_not_a_multiple_of_4_with_a_posterior(folder, capsys):
    out = folder / "six"
    argv = ["compare", str(folder / "base.toml"), str(folder / "policy.toml"), "--out", str(out)]
    assert main([*argv, "--replicates", "6"]) == 2
    err = capsys.readouterr().err
    assert "--replicates 6" in err and "a multiple of 4 with a posterior" in err
    assert not out.exists()
