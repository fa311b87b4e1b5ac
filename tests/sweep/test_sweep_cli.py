"""Sizing a sweep from the command line (--samples, --scale, --years, --dry-run), the seed-noise
warning, and mu* intervals that never reach below zero."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import function_experiment

from simulation.cli import main
from simulation.model.params import PARAMS
from simulation.present.figures import mu_star_xerr
from simulation.research.sensitivity import (
    NOISE_SHARE_THRESHOLD,
    mu_star_bounds,
    noise_warning_text,
    noise_warnings,
    prepare,
)

ROOT = Path(__file__).resolve().parents[2]
ISHIGAMI = "simulation.research.sensitivity:ishigami"
ABC = "[parameters.bounds]\na = [0.0, 1.0]\nb = [0.0, 1.0]\nc = [0.0, 1.0]\n"


def tiny_school_exit(method: str = "morris", samples: int = 2) -> str:
    """Two levers of the school-exit model at a twentieth of the reference LA, one year, no burn-in."""
    return (
        f'name = "tiny"\nmethod = "{method}"\nsamples = {samples}\nseeds = 1\nseed = 1\nnoise_seeds = 2\n'
        'outputs = ["ehe_census_pct"]\n'
        f'[model]\nscenario = "{ROOT}/scenarios/baseline.toml"\nscale = 0.02\nyears = 1\nburn_in = 0\n'
        '[parameters]\nnames = ["assessment_capacity", "support_capacity_ratio"]\n'
    )


def morris_function(function: str, *, samples: int = 4, seeds: int = 2) -> str:
    return (
        f'name = "m"\nmethod = "morris"\nsamples = {samples}\nseeds = {seeds}\nseed = 1\noutputs = ["y"]\n'
        f'[model]\nfunction = "{function}"\n' + ABC
    )


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")} if folder.exists() else {}


# --- overrides ---------------------------------------------------------------------------


def test_samples_override_changes_the_run_count_and_is_recorded(write_experiment, tmp_path, capsys):
    exp = write_experiment(function_experiment(ISHIGAMI, samples=64))
    assert len(prepare(exp).tasks) == 64 * 5
    assert len(prepare(exp, samples=8).tasks) == 8 * 5
    out = tmp_path / "o"
    assert main(["sweep", str(exp), "--out", str(out), "--workers", "1", "--samples", "8", "--no-plot"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["overrides"] == {"samples": 8}
    assert manifest["runs_total"] == 8 * 5
    assert len(pd.read_parquet(out / "results.parquet")) == 8 * 5
    assert "(--samples 8)" in capsys.readouterr().err  # the size line says what was overridden


def test_scale_and_years_override_the_model_and_its_run_keys(write_experiment):
    path = write_experiment(tiny_school_exit())
    plain = prepare(path)
    small = prepare(path, scale=0.01, years=2)
    assert (plain.exp.scenario.scale, plain.exp.scenario.years) == (0.02, 1)
    assert (small.exp.scenario.scale, small.exp.scenario.years) == (0.01, 2)
    assert small.exp.scenario.burn_in == 0  # the file's burn-in stays
    assert small.exp.overrides == {"scale": 0.01, "years": 2}
    assert len(small.tasks) == len(plain.tasks)
    assert not {t.key for t in small.tasks} & {t.key for t in plain.tasks}  # other runs, never mixed
    assert prepare(path, samples=3).exp.n_points() == 3 * 3


def test_a_resume_with_other_overrides_says_so_and_keeps_only_its_own_runs(write_experiment, tmp_path, capsys):
    exp = write_experiment(function_experiment(ISHIGAMI, samples=64))
    out = tmp_path / "o"
    base = ["sweep", str(exp), "--out", str(out), "--workers", "1", "--no-plot"]
    assert main([*base, "--samples", "8"]) == 0
    capsys.readouterr()
    assert main([*base, "--samples", "16"]) == 0
    err = capsys.readouterr().err
    assert "note:" in err and "another sweep" in err and "'samples': 8" in err
    assert len(pd.read_parquet(out / "results.parquet")) == 16 * 5
    runs_manifest = json.loads((out / "runs" / "manifest.json").read_text())
    assert runs_manifest["overrides"] == {"samples": 16}


BAD_OVERRIDES = {
    "sobol_samples_not_power_of_two": ("sobol", ["--samples", "100"], ["--samples 100", "power of 2"]),
    "morris_one_trajectory": ("morris", ["--samples", "1"], ["--samples 1", ">= 2"]),
    "samples_not_a_number": ("sobol", ["--samples", "many"], ["--samples", "whole number"]),
    "scale_zero": ("sobol", ["--scale", "0"], ["--scale", "(0, 1]"]),
    "scale_above_one": ("sobol", ["--scale", "1.5"], ["--scale", "(0, 1]"]),
    "years_zero": ("sobol", ["--years", "0"], ["--years", "1 to 100"]),
    "years_too_many": ("sobol", ["--years", "101"], ["--years", "1 to 100"]),
    "scale_for_a_function_model": ("function", ["--scale", "0.5"], ["--scale", "model.function"]),
    "years_for_a_function_model": ("function", ["--years", "2"], ["--years", "model.function"]),
}


@pytest.mark.parametrize("case", sorted(BAD_OVERRIDES))
@pytest.mark.parametrize("dry", [False, True])
def test_bad_override_exits_2_naming_the_flag_and_writes_nothing(case, dry, write_experiment, tmp_path, capsys):
    kind, flags, words = BAD_OVERRIDES[case]
    if kind == "function":
        path = write_experiment(function_experiment(ISHIGAMI, samples=8))
    else:
        path = write_experiment(tiny_school_exit(method=kind, samples=8 if kind == "sobol" else 2))
    out = tmp_path / "out"
    argv = ["sweep", str(path), "--out", str(out), "--workers", "1", *flags, *(["--dry-run"] if dry else [])]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    for word in words:
        assert word in err[0], (word, err[0])
    assert not out.exists()


# --- dry run -----------------------------------------------------------------------------


def test_dry_run_prints_runs_and_an_estimate_and_creates_nothing(write_experiment, tmp_path, capsys):
    path = write_experiment(tiny_school_exit())
    out = tmp_path / "not" / "yet"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "2", "--years", "2", "--dry-run"]) == 0
    text = capsys.readouterr().out
    runs = prepare(path, years=2).exp.n_runs()  # 2 trajectories x 3 points x 1 seed + 2 noise runs
    assert runs == 8
    assert f"= {runs} runs (--years 2)" in text
    assert "0 burn-in + 2 evaluation years per run" in text
    timing = re.search(r"one run of 0 burn-in \+ 2 evaluation years takes about ([\d.]+) s", text)
    assert timing and float(timing.group(1)) > 0, text
    assert re.search(r"estimate: 8 runs x [\d.e-]+ s / 2 worker\(s\) = ", text), text
    assert "nothing was written" in text
    assert not out.exists() and not out.parent.exists()


def test_dry_run_of_a_started_sweep_counts_what_is_left_and_changes_nothing(write_experiment, tmp_path, capsys):
    path = write_experiment(function_experiment(ISHIGAMI, samples=8))
    out = tmp_path / "o"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--no-plot"]) == 0
    before = _files(out)
    capsys.readouterr()
    assert main(["sweep", str(path), "--out", str(out), "--dry-run", "--samples", "16"]) == 0
    text = capsys.readouterr().out
    assert "= 80 runs (--samples 16)" in text
    left = re.search(r"([\d,]+) of these runs are already in .*: ([\d,]+) to run", text)
    assert left and int(left.group(1)) + int(left.group(2)) == 80, text
    assert "calls of simulation.research.sensitivity:ishigami" in text
    assert _files(out) == before


def test_dry_run_on_a_cluster_does_not_connect(write_experiment, tmp_path, capsys):
    path = write_experiment(function_experiment(ISHIGAMI, samples=8))
    argv = ["sweep", str(path), "--out", str(tmp_path / "o"), "--dry-run", "--scheduler", "tcp://127.0.0.1:1"]
    assert main(argv) == 0
    assert "divided by the cluster's workers" in capsys.readouterr().out
    assert not (tmp_path / "o").exists()


# --- the seed-noise warning --------------------------------------------------------------


def test_noise_warning_fires_only_above_the_threshold():
    noise = pd.DataFrame(
        {"output": ["quiet", "at", "loud", "unmeasured"], "noise_share": [0.05, NOISE_SHARE_THRESHOLD, 0.51, np.nan]}
    )
    warned = noise_warnings(noise)
    assert warned == [{"output": "loud", "noise_share": 0.51, "threshold": NOISE_SHARE_THRESHOLD}]
    text = noise_warning_text(warned[0])
    assert text.startswith("warning: ") and "loud" in text and "51.0%" in text and "20%" in text
    assert "--years" in text and "--years" not in noise_warning_text(warned[0], school_exit=False)
    assert noise_warnings(noise, threshold=0.01)[0]["output"] == "quiet"


def test_a_noisy_sweep_warns_on_stderr_and_in_the_manifest(write_experiment, tmp_path, capsys):
    out = tmp_path / "o"
    path = write_experiment(morris_function("sweep_models:pure_noise"))
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    captured = capsys.readouterr()
    lines = [x for x in captured.err.splitlines() if x.startswith("warning: seed noise")]
    assert len(lines) == 1 and "the variance of y across points" in lines[0], captured.err
    assert "read with care" in captured.out  # the printed summary marks it too
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["noise_share_threshold"] == NOISE_SHARE_THRESHOLD
    assert [w["output"] for w in manifest["noise_warnings"]] == ["y"]
    assert manifest["noise_warnings"][0]["noise_share"] > NOISE_SHARE_THRESHOLD
    # mu* of pure noise is small with a wide interval: the figure's numbers never go below 0
    fig = pd.read_csv(out / "figures" / "morris_y.csv")
    assert (fig["mu_star_low"] >= 0).all()
    assert (fig["mu_star_low"] <= fig["mu_star"]).all() and (fig["mu_star_high"] >= fig["mu_star"]).all()


def test_a_quiet_sweep_does_not_warn(write_experiment, tmp_path, capsys):
    out = tmp_path / "o"
    path = write_experiment(morris_function("sweep_models:linear"))
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--no-plot"]) == 0
    assert "warning:" not in capsys.readouterr().err
    assert json.loads((out / "manifest.json").read_text())["noise_warnings"] == []


def test_the_readme_cites_the_threshold_the_code_uses():
    text = (ROOT / "experiments" / "README.md").read_text()
    assert "NOISE_SHARE_THRESHOLD" in text
    assert f"Above {100 * NOISE_SHARE_THRESHOLD:.0f}%" in text


# --- mu* intervals -----------------------------------------------------------------------


def test_mu_star_lower_bound_is_clipped_at_zero():
    low, high = mu_star_bounds([0.01, 1.0, 0.0, np.nan], [0.05, 0.2, 0.0, 0.1])
    np.testing.assert_allclose(low, [0.0, 0.8, 0.0, np.nan])
    np.testing.assert_allclose(high, [0.06, 1.2, 0.0, np.nan])


def test_mu_star_bars_never_reach_below_zero():
    rng = np.random.default_rng(1)
    mu = rng.exponential(1.0, 500)
    half = rng.exponential(2.0, 500)  # often wider than mu* itself
    xerr = mu_star_xerr(mu, half)
    assert xerr.shape == (2, 500) and (xerr >= 0).all()
    assert (mu - xerr[0] >= 0).all()  # the bar's left end
    np.testing.assert_allclose(mu + xerr[1], mu + half)  # the right end is SALib's


def test_the_morris_figure_clips_its_intervals_at_zero(tmp_path):
    from simulation.present.figures import plot_morris

    indices = pd.DataFrame(
        {
            "output": "y",
            "parameter": ["a", "b", "c"],
            "kind": "parameter",
            "mu_star": [2.0, 0.05, 0.0],
            "mu_star_conf": [0.5, 0.3, 0.1],  # b's and c's symmetric intervals reach below 0
            "mu": [2.0, 0.0, 0.0],
            "sigma": [0.1, 0.3, 0.0],
            "mu_star_seed_se": [0.1, 0.2, 0.05],
        }
    )
    noise = pd.DataFrame({"output": ["y"], "noise_share": [0.1]})
    files = plot_morris(indices, noise, "y", tmp_path / "morris_y")
    drawn = pd.read_csv(files["csv"]).set_index("parameter")
    np.testing.assert_allclose(drawn.loc[["a", "b", "c"], "mu_star_low"], [1.5, 0.0, 0.0])
    np.testing.assert_allclose(drawn.loc[["a", "b", "c"], "mu_star_high"], [2.5, 0.35, 0.1])


# --- the docs' counts --------------------------------------------------------------------


def test_experiments_readme_states_no_stale_parameter_count():
    """A count of parameters, levers or uncertainties on the page must be the registry's (better: none)."""
    text = (ROOT / "experiments" / "README.md").read_text()
    kinds = [p.kind for p in PARAMS.values()]
    truth = {"parameters": len(kinds), "levers": kinds.count("lever"), "uncertainties": kinds.count("uncertainty")}
    for number, noun in re.findall(r"\b(\d[\d,]*) (parameters|levers|uncertainties)\b", text):
        assert int(number.replace(",", "")) == truth[noun], f"experiments/README.md says {number} {noun}"
