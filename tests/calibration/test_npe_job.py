"""The calibration job on the real model at a tiny size: it runs, resumes without redoing work,
gives the same posterior again, and refuses bad files before writing anything."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.cli.main import main
from simulation.policy.scenario import load_scenario
from simulation.research.npe_config import CalibrationError, load_calibration
from simulation.research.npe_runs import draw_design
from simulation.research.runner import run

ROOT = Path(__file__).resolve().parents[2]


def test_the_calibration_scenario_is_the_baseline_reported_from_2021():
    """Same spin-up start, drivers and random numbers: its 2023/24 and 2024/25 rows are the baseline's."""
    cal = load_scenario(ROOT / "calibration" / "scenario.toml").with_(scale=0.02)
    base = load_scenario(ROOT / "scenarios" / "baseline_handset.toml").with_(scale=0.02, years=2)
    assert cal.population.start_year - cal.burn_in == base.population.start_year - base.burn_in
    a = run(cal, seed=5).years
    b = run(base, seed=5).years
    assert list(a["academic_year"]) == [2021, 2022, 2023, 2024]
    cols = [c for c in b.columns if c not in ("scenario", "replicate", "seed", "la")]
    pd.testing.assert_frame_equal(a[cols].iloc[2:].reset_index(drop=True), b[cols].reset_index(drop=True))


def test_design_points_do_not_depend_on_the_design_size():
    names = ["absence_base", "pex_hazard"]
    small = draw_design(3, 0, 5, names)
    large = draw_design(3, 0, 9, names)
    tail = draw_design(3, 5, 9, names)
    np.testing.assert_array_equal(small[0], large[0][:5])
    np.testing.assert_array_equal(tail[1], large[1][5:])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"simulations": "10"}, "simulations = 10 (allowed: whole number from 50"),
        ({"sbc_truths": "40"}, "sbc_truths = 40 (allowed: fewer than half of simulations"),
        ({"scale": "2"}, "scale = 2 (allowed: a number from 0.001 to 1)"),
        ({"screening_share": '"high"'}, "screening_share = 'high' (allowed: a number"),
        ({"particles": "100"}, "unknown key 'particles' (allowed:"),
        ({"seed": "-1"}, "seed = -1 (allowed: whole number from 0"),
    ],
)
def test_a_bad_setting_is_named_with_what_is_allowed(small_config, change, message, tmp_path, capsys):
    path = small_config(**change)
    with pytest.raises(CalibrationError, match=str(path).replace(".", r"\.")) as err:
        load_calibration(path)
    assert message in str(err.value)
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()  # nothing written


def test_a_bad_targets_file_and_a_target_outside_the_scenario_years_are_refused(small_config, tmp_path):
    targets = pd.read_csv(ROOT / "calibration" / "targets.csv")
    bad_role = targets.copy()
    bad_role.loc[0, "role"] = "maybe"
    bad_role.to_csv(tmp_path / "t1.csv", index=False)
    with pytest.raises(CalibrationError, match=r"role = 'maybe' \(allowed: fit, validation\)"):
        load_calibration(small_config(targets='"t1.csv"'))
    late = targets.copy()
    late.loc[0, "academic_year"] = 2030
    late.to_csv(tmp_path / "t2.csv", index=False)
    with pytest.raises(
        CalibrationError, match=r"is dated 2030 \(allowed: the years the scenario reports, 2021 to 2024\)"
    ):
        load_calibration(small_config(targets='"t2.csv"'))
    path = small_config()
    path.write_text(path.read_text().replace('names = ["absence_base"', 'names = ["nonsense", "absence_base"'))
    with pytest.raises(CalibrationError, match=r"parameters.names: 'nonsense' is not a registry parameter"):
        load_calibration(path)


def test_the_job_runs_resumes_and_gives_the_same_posterior(small_config, tmp_path, capsys):
    path = small_config()
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    first = {n: pd.read_csv(out / f"{n}.csv") for n in ("posterior", "fit", "coverage", "posterior_roles")}
    cal = load_calibration(path)
    assert len(first["posterior"]) == cal.posterior_draws
    assert set(first["posterior_roles"]["role"]) <= {"fitted", "assumed"}
    assert set(first["fit"]["role"]) == {"fit", "validation"}
    capsys.readouterr()
    # a second run finds every run and the trained network: nothing is simulated or trained again
    assert main(["calibrate", str(path), "--out", str(out), "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert "training: loaded" in err and "design: 60 runs, 60 already done, 0 run now" in err
    again = pd.read_csv(out / "posterior.csv")
    pd.testing.assert_frame_equal(first["posterior"], again)
    # the posterior loads as scenarios use it, with its roles
    from simulation.policy.posterior import load_posterior

    post = load_posterior(out / "posterior.csv")
    assert set(post.fitted) | set(post.assumed) == set(cal.names)
    assert (out / "report.html").exists() is False
    assert main(["report", str(out)]) == 0
    assert (out / "report.html").is_file()


def test_a_truncated_second_round_runs_resumes_and_is_checked_on_both_rounds(small_config, tmp_path, capsys):
    path = small_config()
    path.write_text(path.read_text() + "\n[truncation]\nsimulations = 30\nsbc_truths = 8\nquantile = 0.01\n")
    cal = load_calibration(path)
    assert (cal.truncation_simulations, cal.truncation_sbc_truths, cal.truncation_quantile) == (30, 8, 0.01)
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out), "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert "truncation: the round-1 posterior's" in err and "truncated design: 30 runs, 0 already done" in err
    coverage = pd.read_csv(out / "coverage.csv")
    # 12 truths from the prior, 8 from the truncated prior; weighted by training points (48 and 22)
    assert {"coverage_90_prior", "coverage_90_truncated"} <= set(coverage.columns)
    assert (coverage["truths"] == 20).all()
    w = np.array([48, 22]) / 70
    np.testing.assert_allclose(
        coverage["coverage_90"], w[0] * coverage["coverage_90_prior"] + w[1] * coverage["coverage_90_truncated"]
    )
    ranks = pd.read_csv(out / "sbc_ranks.csv")
    assert ranks["weight"].sum() == pytest.approx(1.0) and set(ranks["round"]) == {"prior", "truncated"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["training_simulations"] == 48 + 22 and 0 < manifest["truncation"]["acceptance"] <= 1
    first = pd.read_csv(out / "posterior.csv")
    assert main(["calibrate", str(path), "--out", str(out), "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert "truncated design: 30 runs, 30 already done, 0 run now" in err and err.count("training: loaded") == 2
    pd.testing.assert_frame_equal(first, pd.read_csv(out / "posterior.csv"))
    assert main(["report", str(out)]) == 0


def test_a_truncation_whose_checks_would_eat_the_round_is_refused(small_config):
    path = small_config()
    path.write_text(path.read_text() + "\n[truncation]\nsimulations = 10\nsbc_truths = 5\n")
    with pytest.raises(CalibrationError, match=r"truncation.sbc_truths = 5 \(allowed: fewer than half of truncation"):
        load_calibration(path)


@pytest.mark.slow
def test_the_posterior_is_the_same_on_a_process_pool(small_config, tmp_path):
    path = small_config()
    assert main(["calibrate", str(path), "--out", str(tmp_path / "a"), "--workers", "1", "--quiet"]) == 0
    assert main(["calibrate", str(path), "--out", str(tmp_path / "b"), "--workers", "2", "--quiet"]) == 0
    for name in ("posterior", "fit", "coverage", "scale_offset"):
        pd.testing.assert_frame_equal(
            pd.read_csv(tmp_path / "a" / f"{name}.csv"), pd.read_csv(tmp_path / "b" / f"{name}.csv")
        )


def test_run_keys_ignore_report_code_but_not_model_code():
    """Editing a plot must not make a resumed job redo its runs; editing the model must."""
    from simulation.research import store

    assert "model" in store.RUN_CODE and "research/npe_runs.py" in store.RUN_CODE
    assert not any(p.startswith(("present", "cli")) for p in store.RUN_CODE)
    assert dataclasses.is_dataclass(load_calibration(ROOT / "calibration" / "config.toml").network)
