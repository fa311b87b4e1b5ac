"""The calibration job: a known answer, the same posterior on any executor, resumption, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from simulation.cli import main
from simulation.research.calibration import run_calibration
from simulation.research.calibration_config import CalibrationError, load_calibration
from simulation.research.executors import LocalExecutor, SerialExecutor

TABLES = ("posterior", "posterior_summary", "fit", "history", "predictive")


def _run(path, out, executor=None):
    return run_calibration(load_calibration(path), out, executor or SerialExecutor(), progress=False)


def test_toy_posterior_finds_the_known_answer(toy_config, tmp_path):
    # y_i = x_i + N(0, 0.5) per seed, mean of 2 seeds; targets y1 = 1 and y2 = -2 with ranges +/- 0.5.
    # At the final tolerance (about 1 half-width RMS) the posterior median must sit within 0.35 of
    # the truth (the posterior sd is about 0.45: the noise sd 0.35 plus the tolerance), its 90%
    # interval must cover it, and it must be far narrower than the prior (width 10).
    tables, manifest = _run(toy_config(generations=7), tmp_path / "out")
    s = tables["posterior_summary"].set_index("parameter")
    for name, truth in (("x1", 1.0), ("x2", -2.0)):
        assert abs(s.loc[name, "median"] - truth) < 0.35
        assert s.loc[name, "p5"] < truth < s.loc[name, "p95"]
        assert s.loc[name, "width_ratio"] < 0.3 and s.loc[name, "identification"] == "identified"
    h = tables["history"]
    assert (np.diff(h["epsilon"].to_numpy()[1:]) < 0).all()  # the tolerance falls every generation
    assert tables["fit"]["in_range"].all()
    assert manifest["generations"] == 7 and manifest["stopped_by"] == "generations"
    assert tables["posterior"]["weight"].sum() == pytest.approx(1.0)


def test_same_posterior_serial_and_on_two_processes(toy_config, tmp_path):
    path = toy_config(generations=3)
    serial, _ = _run(path, tmp_path / "serial")
    executor = LocalExecutor(2)
    try:
        pooled, _ = _run(path, tmp_path / "pooled", executor)
    finally:
        executor.close()
    for name in TABLES:
        pdt.assert_frame_equal(serial[name], pooled[name])


def test_resumes_from_the_last_generation_and_reruns_nothing(toy_config, tmp_path):
    reference, _ = _run(toy_config("ref.toml", generations=4), tmp_path / "ref")
    out = tmp_path / "out"
    _run(toy_config("a.toml", generations=2), out)  # stopped early ...
    # ... and killed during generation 2: its runs are in the store, its file never written
    third = _run(toy_config("b.toml", generations=3), out)[1]
    for suffix in ("json", "parquet", "csv"):
        (out / "generations" / f"gen_02.{suffix}").unlink()
    runs_before = len(list((out / "runs").glob("*.pkl")))
    resumed, manifest = _run(toy_config("c.toml", generations=4), out)
    assert manifest["resumed"] and third["resumed"]
    for name in TABLES:
        pdt.assert_frame_equal(resumed[name], reference[name])
    # generation 2 came back from the store; only generation 3's runs and the 20 posterior-
    # predictive runs drawn from it are new
    new_runs = len(list((out / "runs").glob("*.pkl"))) - runs_before
    assert new_runs == int(reference["history"]["runs"].iloc[3]) + 20


def test_a_changed_configuration_is_not_resumed(toy_config, tmp_path):
    out = tmp_path / "out"
    _run(toy_config(generations=1), out)
    with pytest.raises(ValueError, match="different configuration"):
        _run(toy_config("other.toml", generations=1, particles=20), out)


def test_generations_of_other_code_are_not_resumed(toy_config, tmp_path, monkeypatch):
    out = tmp_path / "out"
    _run(toy_config(generations=1), out)
    monkeypatch.setattr("simulation.research.store.code_sha256", lambda: "0" * 64)  # as if a source file changed
    with pytest.raises(ValueError, match="other code produced"):
        _run(toy_config(generations=2), out)


def test_the_run_budget_stops_before_an_incomplete_generation(toy_config, tmp_path):
    tables, manifest = _run(toy_config(generations=6, max_runs=500), tmp_path / "out")
    assert manifest["stopped_by"] == "max_runs"
    assert manifest["runs"] <= 500 and len(tables["history"]) == manifest["generations"] >= 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"particles": "5"}, "particles = 5"),
        ({"wibble": "1"}, "unknown key 'wibble'"),
        ({"epsilon_quantile": "1.5"}, "epsilon_quantile = 1.5"),
        ({"max_walk_scale": "0.5"}, r"max_walk_scale = 0.5 \(allowed: a number from 1 to 64\)"),
        ({"targets": '"missing.csv"'}, "missing.csv"),
    ],
)
def test_bad_configuration_names_file_and_key(toy_config, change, message):
    path = toy_config(**change)
    with pytest.raises(CalibrationError, match=message) as err:
        load_calibration(path)
    assert str(path) in str(err.value)


def test_bad_targets_name_the_row(toy_config, tmp_path):
    path = toy_config()
    csv = tmp_path / "toy_targets.csv"
    csv.write_text(csv.read_text().replace("y1_target,fit", "y1_target,fitted"))
    with pytest.raises(CalibrationError, match=r"row 2 \(y1_target\): role = 'fitted'"):
        load_calibration(path)


MODEL_CONFIG = """
targets = "{targets}"
[model]
scenario = "{scenario}"
scale = 0.05
[parameters]
names = {names}
{bounds}
"""


@pytest.mark.parametrize(
    ("names", "bounds", "message"),
    [
        ('["absence_wibble"]', "", "unknown parameter 'absence_wibble'"),
        ('["assessment_capacity"]', "", "is a lever"),
        ('["absence_base"]', "[parameters.bounds]\nabsence_base = [0.0, 0.05]", "outside the registry's range"),
        ('["absence_base"]', "[parameters.bounds]\nrr_fsm = [2, 3]", "is not fitted"),
    ],
)
def test_model_parameters_are_checked_against_the_registry(tmp_path, names, bounds, message):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    path = tmp_path / "cal.toml"
    path.write_text(
        MODEL_CONFIG.format(
            targets=root / "calibration" / "targets.csv",
            scenario=root / "scenarios" / "baseline.toml",
            names=names,
            bounds=bounds,
        )
    )
    with pytest.raises(CalibrationError, match=message):
        load_calibration(path)


def test_cli_bad_input_exits_2_and_writes_nothing(toy_config, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["calibrate", str(toy_config(particles=5)), "--out", str(out)])
    assert code == 2 and not out.exists()
    assert "particles = 5" in capsys.readouterr().err


def test_cli_runs_and_reports(toy_config, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["calibrate", str(toy_config(generations=2)), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    stdout = capsys.readouterr().out
    assert "2 generations" in stdout and "fitted targets in range" in stdout
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "How well does the model reproduce what is published?" in page
    assert "Generation 0 drew from the priors" in page
    for fig in ("calibration_fit", "calibration_marginals", "calibration_pairs", "calibration_history"):
        assert (out / "figures" / f"{fig}.png").is_file() and (out / "figures" / f"{fig}.csv").is_file()
    fit = pd.read_csv(out / "fit.csv")
    assert set(fit["role"]) == {"fit", "validation"}


def test_tightened_stopping_rules_end_where_a_fresh_job_would(toy_config, tmp_path):
    out = tmp_path / "out"
    _run(toy_config("long.toml", generations=4), out)
    shorter, manifest = _run(toy_config("short.toml", generations=2), out)
    fresh, _ = _run(toy_config("fresh.toml", generations=2), tmp_path / "fresh")
    assert manifest["generations"] == 2
    for name in TABLES:
        pdt.assert_frame_equal(shorter[name], fresh[name])


def test_same_posterior_on_a_dask_cluster(toy_config, tmp_path):
    distributed = pytest.importorskip("distributed")
    path = toy_config(generations=2)
    serial, _ = _run(path, tmp_path / "serial")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None, silence_logs=40
    ) as cluster:
        code = main(["calibrate", str(path), "--out", str(tmp_path / "dask"), "--scheduler", cluster.scheduler_address])
    assert code == 0
    for name in TABLES:
        pdt.assert_frame_equal(serial[name], pd.read_parquet(tmp_path / "dask" / f"{name}.parquet"))


def _own_and_fresh_distance(tables, out):
    """Median distance of the final particles on their own seeds, and of the predictive runs on fresh ones."""
    from simulation.research.abc_smc import distance

    targets = pd.read_csv(out.parent / "toy_targets.csv")
    value, low, high = (targets[c].to_numpy(float) for c in ("value", "low", "high"))
    fresh = distance(tables["predictive"][list(targets["id"])].to_numpy(), value, low, high)
    return float(np.median(tables["posterior"]["distance"])), float(np.median(fresh))


def test_reseeding_pools_the_kept_particles_seeds(toy_config, tmp_path):
    # With reseed_kept, each generation runs the kept half again on fresh seeds and pools them:
    # the final particles' values rest on more than one seed batch, the answer is still found,
    # and the particles' own distances are less flattering against fresh runs than without it
    # (fixed seeds; measured here, median distance on the particles' own seeds against single fresh
    # seeds: 0.68 against 1.92 plain, 1.19 against 1.82 reseeded, for 806 and 1,030 runs).
    plain_out, reseeded_out = tmp_path / "plain", tmp_path / "reseeded"
    plain, _ = _run(toy_config("plain.toml", generations=6), plain_out)
    reseeded, manifest = _run(toy_config("reseeded.toml", generations=6, reseed_kept="true"), reseeded_out)
    gen = pd.read_parquet(reseeded_out / "generations" / "gen_05.parquet")
    assert gen["evaluations"].max() >= 3 and (gen["evaluations"] >= 1).all()
    assert (pd.read_parquet(plain_out / "generations" / "gen_05.parquet")["evaluations"] == 1).all()
    s = reseeded["posterior_summary"].set_index("parameter")
    for name, truth in (("x1", 1.0), ("x2", -2.0)):
        assert abs(s.loc[name, "median"] - truth) < 0.35 and s.loc[name, "p5"] < truth < s.loc[name, "p95"]
    own_plain, fresh_plain = _own_and_fresh_distance(plain, plain_out)
    own_reseeded, fresh_reseeded = _own_and_fresh_distance(reseeded, reseeded_out)
    assert fresh_reseeded - own_reseeded < fresh_plain - own_plain
    # the setting is part of the job's identity only when on: older files keep theirs
    assert "reseed_kept" in load_calibration(toy_config("on.toml", reseed_kept="true")).identity()
    assert "reseed_kept" not in load_calibration(toy_config("off.toml", reseed_kept="false")).identity()
    assert manifest["runs"] > int(plain["history"]["runs"].sum())


def test_reseed_kept_must_be_true_or_false(toy_config):
    with pytest.raises(CalibrationError, match=r"reseed_kept = 1 \(allowed: true or false\)"):
        load_calibration(toy_config(reseed_kept="1"))


def _model_config(tmp_path, extra: str = "") -> Path:
    root = Path(__file__).resolve().parents[2]
    path = tmp_path / "cal.toml"
    text = MODEL_CONFIG.format(
        targets=root / "calibration" / "targets.csv",
        scenario=root / "scenarios" / "baseline.toml",
        names='["absence_base"]',
        bounds="",
    )
    path.write_text(extra + "\n" + text)
    return path


@pytest.mark.parametrize("value", ["0", "1.5", '"full"', "true"])
def test_predictive_scale_is_checked(tmp_path, value):
    path = _model_config(tmp_path, f"predictive_scale = {value}")
    allowed = r"predictive_scale = .* \(allowed: a number above 0, at most 1\)"
    with pytest.raises(CalibrationError, match=allowed) as err:
        load_calibration(path)
    assert str(path) in str(err.value)


def test_a_function_model_has_no_predictive_scale(toy_config):
    with pytest.raises(CalibrationError, match="predictive_scale: a function model has no population"):
        load_calibration(toy_config(predictive_scale="1.0"))


def test_the_predictive_runs_at_its_own_scale(tmp_path, monkeypatch):
    from simulation.research import calibration_checks as calmod

    seen = {}

    def fake_run_each(cal, thetas, seeds, executor, store, progress, what, scenario=None):
        seen["scale"] = scenario.scale
        seen["what"] = what
        return np.zeros((len(thetas), len(cal.targets)))

    monkeypatch.setattr(calmod, "_run_each", fake_run_each)
    final = calmod.Generation(np.array([[0.02], [0.03]]), np.zeros(2), np.zeros((2, 30)), 1.0, 2, 4, 0.5, 1, np.ones(2))
    cal = load_calibration(_model_config(tmp_path, "predictive = 3\npredictive_scale = 0.5"))
    assert calmod._predictive(cal, final, 4, None, None, False).shape == (3, len(cal.targets))
    assert seen == {"scale": 0.5, "what": "posterior predictive at scale 0.5"}
    default = load_calibration(_model_config(tmp_path, "predictive = 3"))
    calmod._predictive(default, final, 4, None, None, False)
    assert seen["scale"] == default.scenario.scale == 0.05
    # predictive.csv keeps the same draws at the calibration's own scale too, for the committed-posterior test
    headline = calmod._predictive(cal, final, 4, None, None, False)
    table = calmod._predictive_tables(cal, final, 4, None, None, False, headline)
    assert table.groupby("scale")["draw"].apply(list).to_dict() == {0.05: [0, 1, 2], 0.5: [0, 1, 2]}
    assert set(table.columns) == {"draw", "scale", *cal.targets["id"]}
    same = calmod._predictive_tables(default, final, 4, None, None, False, headline)
    assert list(same["scale"]) == [0.05] * 3


def test_a_warm_start_begins_from_the_given_population(toy_config, tmp_path):
    # start_from: generation 0 is an earlier posterior, re-run on this job's seeds, not prior draws.
    first, _ = _run(toy_config("first.toml", generations=3), tmp_path / "first")
    first["posterior"].to_csv(tmp_path / "stage1.csv", index=False)
    path = toy_config("second.toml", generations=2, start_from='"stage1.csv"', seeds=4)
    cal = load_calibration(path)
    assert cal.start_from.shape == (40, 2) and "start_from_sha256" in cal.identity()
    _, manifest = _run(path, tmp_path / "second")
    gen0 = pd.read_parquet(tmp_path / "second" / "generations" / "gen_00.parquet")
    np.testing.assert_array_equal(gen0[["x1", "x2"]].to_numpy(), first["posterior"][["x1", "x2"]].to_numpy())
    # its distances are new (4 fresh seeds per particle), not copied from the first job
    assert not np.allclose(gen0["distance"].to_numpy(), first["posterior"]["distance"].to_numpy())
    assert manifest["start_from"]["file"].endswith("stage1.csv") and manifest["start_from"]["particles"] == 40
    assert main(["report", str(tmp_path / "second")]) == 0
    report = (tmp_path / "second" / "report.html").read_text()
    assert "stage1.csv, 40 particles" in report and "width / start width" in report
    # the summary compares each interval with the start's (a cold start has no such column to fill)
    second = pd.read_csv(tmp_path / "second" / "posterior_summary.csv")
    assert second["start_width_ratio"].notna().all() and first["posterior_summary"]["start_width_ratio"].isna().all()
    # a population of another size is drawn from by weight, reproducibly
    smaller = first["posterior"].iloc[:7]
    smaller.to_csv(tmp_path / "small.csv", index=False)
    a = load_calibration(toy_config("a.toml", start_from='"small.csv"')).start_from
    b = load_calibration(toy_config("b.toml", start_from='"small.csv"')).start_from
    assert a.shape == (40, 2) and np.array_equal(a, b)
    assert {tuple(r) for r in a} <= {tuple(r) for r in smaller[["x1", "x2"]].to_numpy()}


@pytest.mark.parametrize(
    ("content", "value", "message"),
    [
        (None, '"nowhere.csv"', r"start_from: .*nowhere.csv not found"),
        ("x1,weight\n0.5,1\n1.0,1\n", '"pop.csv"', r"start_from: .*pop.csv has no column 'x2'"),
        ("x1,x2\n0.5,1\n9.0,1\n", '"pop.csv"', r"start_from: .*pop.csv row 2: x1 lies outside the prior"),
        ("x1,x2\n0.5,1\n0.7,abc\n", '"pop.csv"', r"start_from: .*pop.csv row 2: x2 is not a number"),
        ("x1,x2\n0.5,1\n", '"pop.csv"', r"pop.csv holds 1 particle\(s\) \(allowed: at least 2\)"),
        (None, "3", r"start_from = 3 \(allowed: the path of a posterior CSV"),
    ],
)
def test_a_bad_start_population_names_file_and_key(toy_config, tmp_path, content, value, message):
    if content is not None:
        (tmp_path / "pop.csv").write_text(content)
    path = toy_config(start_from=value)
    with pytest.raises(CalibrationError, match=message) as err:
        load_calibration(path)
    assert str(path) in str(err.value)


def test_max_walk_scale_lets_the_walk_grow_and_is_part_of_the_identity(toy_config, tmp_path):
    # The toy's first moves pass more than 40% of the time (42%), so with the cap raised the walk's
    # variance doubles for generation 2, whose longer steps pass less often (measured: 19% against
    # 29%); with the default it stays at 1 and the job keeps its old identity.
    plain = load_calibration(toy_config("plain.toml"))
    wide = load_calibration(toy_config("wide.toml", max_walk_scale="8.0"))
    assert "max_walk_scale" not in plain.identity() and wide.identity()["max_walk_scale"] == 8.0
    a, _ = _run(toy_config("a.toml", generations=4), tmp_path / "a")
    b, _ = _run(toy_config("b.toml", generations=4, max_walk_scale="8.0"), tmp_path / "b")
    ha, hb = a["history"], b["history"]
    assert ha["move_acceptance"].iloc[1] == hb["move_acceptance"].iloc[1] > 0.4  # the same until the cap matters
    assert hb["move_acceptance"].iloc[2] < ha["move_acceptance"].iloc[2] - 0.05
