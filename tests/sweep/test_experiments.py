"""Experiment files: the shipped ones load; bad ones are refused with one clear line and nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import ISHIGAMI_BOUNDS, function_experiment

from simulation.cli import main
from simulation.model.params import PARAMS
from simulation.research.experiment import load_experiment, sample
from simulation.research.sensitivity import prepare

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "experiments").glob("*.toml"))

MODEL = """
[model]
scenario = "{root}/scenarios/baseline.toml"
scale = 0.05
years = 1
"""


def school_exit(body: str) -> str:
    head = 'name = "bad"\nseeds = 1\noutputs = ["ehe_census_pct"]\n'
    return head + body + MODEL.format(root=ROOT)


def test_shipped_experiments_are_valid():
    names = {p.stem for p in SHIPPED}
    assert {"morris_screening", "sobol_levers", "ishigami"} <= names
    for path in SHIPPED:
        sweep = prepare(path)  # loads, samples and checks every point
        exp = sweep.exp
        assert len(sweep.tasks) == exp.n_runs()
        # distinct runs, except where rounding an integer parameter makes two Sobol points equal
        assert len({t.key for t in sweep.tasks}) >= 0.99 * len(sweep.tasks)
        assert sweep.X.shape == (exp.n_points(), len(exp.names))


def test_morris_screening_covers_every_uncertainty_and_lever():
    exp = load_experiment(ROOT / "experiments" / "morris_screening.toml")
    assert set(exp.names) == set(PARAMS)
    sobol = load_experiment(ROOT / "experiments" / "sobol_levers.toml")
    # every lever (an on/off regime would be compared as two scenarios; there is none today)
    switches = {p.name for p in PARAMS.values() if p.integer and p.low == 0 and p.high == 1}
    assert switches == set()
    assert set(sobol.names) == {p.name for p in PARAMS.values() if p.kind == "lever"}
    assert sobol.outputs == exp.outputs


def test_samples_are_within_bounds_and_integers_rounded():
    exp = load_experiment(ROOT / "experiments" / "morris_screening.toml")
    X, points = sample(exp)
    for j, name in enumerate(exp.names):
        lo, hi = exp.bounds[j]
        col = points[name].to_numpy()
        assert col.min() >= lo and col.max() <= hi, name
        if exp.integer[j]:
            assert np.all(col == np.round(col)), name
    again_X, _ = sample(exp)
    assert np.array_equal(X, again_X)  # the design is a function of the seed


BAD = {
    "unknown_method": (school_exit('method = "fast"\nsamples = 4\n'), ["method", "'fast'", "morris, sobol"]),
    "bounds_reversed": (
        school_exit(
            'method = "morris"\nsamples = 4\n[parameters]\nnames = ["p_notice_attendance"]\n'
            "[parameters.bounds]\np_notice_attendance = [0.6, 0.2]\n"
        ),
        ["p_notice_attendance", "reversed"],
    ),
    "unknown_parameter": (
        school_exit('method = "morris"\nsamples = 4\n[parameters]\nnames = ["p_teleport"]\n'),
        ["unknown parameter", "'p_teleport'"],
    ),
    "sobol_not_power_of_two": (
        school_exit('method = "sobol"\nsamples = 100\n[parameters]\nkinds = ["lever"]\n'),
        ["samples = 100", "power of 2"],
    ),
    "morris_one_trajectory": (
        school_exit('method = "morris"\nsamples = 1\n[parameters]\nkinds = ["lever"]\n'),
        ["samples = 1", "trajectories"],
    ),
    "morris_odd_levels": (
        school_exit('method = "morris"\nsamples = 4\n[parameters]\nkinds = ["lever"]\n[morris]\nnum_levels = 3\n'),
        ["num_levels = 3", "even"],
    ),
    "bounds_outside_registry": (
        school_exit(
            'method = "morris"\nsamples = 4\n[parameters]\nnames = ["p_notice_attendance"]\n'
            "[parameters.bounds]\np_notice_attendance = [0.0, 0.9]\n"
        ),
        ["p_notice_attendance", "registry"],
    ),
    "unknown_output": (
        school_exit('method = "morris"\nsamples = 4\n[parameters]\nkinds = ["lever"]\n').replace(
            '"ehe_census_pct"', '"happiness_pct"'
        ),
        ["'happiness_pct'"],
    ),
    "unknown_key": (school_exit('method = "morris"\nsamples = 4\nsampels = 3\n'), ["'sampels'"]),
    "function_not_importable": (
        function_experiment("no_such_module_xyz:f"),
        ["model.function", "no_such_module_xyz"],
    ),
    "function_without_bounds": (
        function_experiment("simulation.research.sensitivity:ishigami").replace(ISHIGAMI_BOUNDS, ""),
        ["parameters.bounds"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_experiment_refused_with_one_line_and_nothing_written(case, write_experiment, tmp_path, capsys):
    text, words = BAD[case]
    path = write_experiment(text)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert str(path) in err[0]
    for word in words:
        assert word in err[0], (word, err[0])
    assert not out.exists()


def test_missing_experiment_and_bad_options(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "none.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "not found" in capsys.readouterr().err
    exp = ROOT / "experiments" / "ishigami.toml"
    for extra, word in (
        (["--workers", "0"], "--workers"),
        (["--scheduler", "127.0.0.1"], "--scheduler"),
        (["--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"], "cannot be used together"),
    ):
        assert main(["sweep", str(exp), "--out", str(tmp_path / "o"), *extra]) == 2
        assert word in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
