"""The sweep engine against known answers: Ishigami's analytic Sobol indices, a linear model's
Morris effects, and a known share of seed noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import function_experiment

from simulation.cli import main
from simulation.research.sensitivity import ISHIGAMI_ANALYTIC, ISHIGAMI_VARIANCE

ROOT = Path(__file__).resolve().parents[2]


def test_ishigami_sobol_indices_match_the_analytic_values(tmp_path, capsys):
    """experiments/ishigami.toml (N = 1024, 5,120 runs) through `sweep` as a module:function model:
    every first-order and total index is within its 95% bootstrap interval of the analytic value."""
    out = tmp_path / "ishigami"
    assert main(["sweep", str(ROOT / "experiments" / "ishigami.toml"), "--out", str(out), "--workers", "2"]) == 0
    idx = pd.read_parquet(out / "indices.parquet").set_index("parameter")
    truth = ISHIGAMI_ANALYTIC.set_index("parameter")
    for p in ("x1", "x2", "x3"):
        for s in ("S1", "ST"):
            est, conf, exact = idx.loc[p, s], idx.loc[p, f"{s}_conf"], truth.loc[p, s]
            assert abs(est - exact) <= conf, f"{s}[{p}] = {est:.4f} +- {conf:.4f}, analytic {exact:.4f}"
            assert conf < 0.1  # and the intervals are informative
    assert (idx["n_used"] == 1024).all()
    for name in ("samples", "results", "indices", "noise"):
        assert (out / f"{name}.parquet").is_file() and (out / f"{name}.csv").is_file()
    for ext in ("png", "svg", "csv"):
        assert (out / "figures" / f"sobol_y.{ext}").is_file()


def test_morris_effects_of_a_linear_model(write_experiment, tmp_path, capsys):
    text = (
        'name = "linear"\nmethod = "morris"\nsamples = 6\nseeds = 1\noutputs = ["y"]\n'
        '[model]\nfunction = "sweep_models:linear"\n'
        "[parameters.bounds]\na = [0.0, 1.0]\nb = [0.0, 1.0]\nc = [0.0, 1.0]\n"
    )
    out = tmp_path / "o"
    assert main(["sweep", str(write_experiment(text)), "--out", str(out), "--workers", "1"]) == 0
    idx = pd.read_parquet(out / "indices.parquet").set_index("parameter")
    np.testing.assert_allclose(idx["mu_star"], [3.0, 1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(idx["sigma"], [0.0, 0.0, 0.0], atol=1e-9)
    assert list(idx["rank"]) == [1, 2, 3]


def test_noise_share_of_a_known_noise(write_experiment, tmp_path):
    """Ishigami + N(0, 2^2) noise, 2 seeds per point: the noise share of the seed mean is
    (4 / 2) / (V + 4 / 2), V = 13.84; the base-point spread measures the same noise."""
    text = function_experiment("simulation.research.sensitivity:noisy_ishigami", samples=128, seeds=2, noise_seeds=60)
    out = tmp_path / "o"
    assert main(["sweep", str(write_experiment(text)), "--out", str(out), "--workers", "2"]) == 0
    noise = pd.read_parquet(out / "noise.parquet").iloc[0]
    expected = 2.0 / (ISHIGAMI_VARIANCE + 2.0)
    assert noise["noise_share"] == pytest.approx(expected, abs=0.03)
    assert noise["var_seed_pooled"] == pytest.approx(4.0, rel=0.15)
    assert noise["var_seed_base"] == pytest.approx(4.0, rel=0.5)
    idx = pd.read_parquet(out / "indices.parquet")
    assert idx["ST_seed_se"].notna().all() and (idx["ST_seed_se"] > 0).all()
