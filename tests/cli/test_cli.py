"""The ``school-exit`` command line: outputs, same results whatever the workers, bad input."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from simulation import METRICS, PARAMS
from simulation.analysis.targets import compare_to_targets, count_line, format_table, load_targets
from simulation.cli import main
from simulation.model.metrics import RUN_HEADLINE
from simulation.present.plots import plot_out_of_school

SMALL = """\
name = "small"
years = 1
burn_in = 0
seed = 11

[population]
n_pupils = 3000
n_primary = 8
n_secondary = 2
n_special = 1
"""

MANIFEST_KEYS = {
    "scenario",
    "scenario_sha256",
    "scenario_file",
    "scenario_file_sha256",
    "package_version",
    "git_commit",
    "seeds",
    "replicates",
    "started",
    "finished",
    "wall_seconds",
    "run_seconds",
}


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory) -> Path:
    """One small two-replicate job with events and a figure, shared by the read-only tests."""
    root = tmp_path_factory.mktemp("job")
    scen = root / "small.toml"
    scen.write_text(SMALL)
    out = root / "out"
    assert (
        main(
            [
                "run",
                str(scen),
                "--out",
                str(out),
                "--replicates",
                "2",
                "--workers",
                "1",
                "--events",
                "--plot",
            ]
        )
        == 0
    )
    return out


def _error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {captured.err!r}"
    assert lines[0].startswith("error: ")
    assert "Traceback" not in captured.err
    return lines[0]


# --- run ----------------------------------------------------------------------------------


def test_run_writes_tables_and_manifest(results_dir: Path):
    for name in ("years", "weeks", "summary", "events"):
        assert (results_dir / f"{name}.parquet").is_file()
        assert (results_dir / f"{name}.csv").is_file()
    years = pd.read_parquet(results_dir / "years.parquet")
    summary = pd.read_parquet(results_dir / "summary.parquet")
    weeks = pd.read_parquet(results_dir / "weeks.parquet")
    assert sorted(years["replicate"]) == [0, 1]  # 2 replicates x 1 evaluation year
    assert list(summary["seed"]) == [11, 12]
    assert len(weeks) == 2 * 52
    assert set(METRICS) <= set(years.columns)
    pdt.assert_frame_equal(pd.read_csv(results_dir / "summary.csv"), summary, check_dtype=False)

    manifest = json.loads((results_dir / "manifest.json").read_text())
    assert set(manifest) >= MANIFEST_KEYS
    assert manifest["replicates"] == 2
    assert manifest["seeds"] == [11, 12]
    assert len(manifest["run_seconds"]) == 2 and all(s > 0 for s in manifest["run_seconds"])
    assert manifest["scenario"]["population"]["n_pupils"] == 3000
    assert manifest["scenario"]["replicates"] == 2
    scen_file = Path(manifest["scenario_file"])
    assert manifest["scenario_file_sha256"] == hashlib.sha256(scen_file.read_bytes()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["scenario_sha256"])
    assert manifest["started"] <= manifest["finished"]
    assert manifest["tables"] == ["years", "weeks", "summary", "events"]


def test_run_plot_writes_png_svg_and_csv(results_dir: Path):
    fig = results_dir / "figures"
    for suffix in (".png", ".svg", ".csv"):
        assert (fig / f"out_of_school{suffix}").stat().st_size > 0
    assert (fig / "out_of_school.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = pd.read_csv(fig / "out_of_school.csv")
    assert set(data["status"]) == {"ehe", "cme", "s19", "ap"}
    assert (data["p5"] <= data["median"] + 1e-9).all() and (data["median"] <= data["p95"] + 1e-9).all()
    assert (data["n_replicates"] == 2).all()


def test_run_prints_headline_summary(small: Path, tmp_path: Path, capsys):
    assert main(["run", str(small), "--out", str(tmp_path / "o"), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    for metric in RUN_HEADLINE:
        line = next(ln for ln in out.splitlines() if ln.startswith(metric))
        assert METRICS[metric][0] in line  # unit printed beside the numbers
    assert not (tmp_path / "o" / "events.parquet").exists()  # events only when asked


def test_workers_do_not_change_results(small: Path, tmp_path: Path):
    one, two = tmp_path / "w1", tmp_path / "w2"
    assert main(["run", str(small), "--out", str(one), "--replicates", "2", "--workers", "1"]) == 0
    assert main(["run", str(small), "--out", str(two), "--replicates", "2", "--workers", "2"]) == 0
    for name in ("years", "weeks", "summary"):
        a, b = pd.read_parquet(one / f"{name}.parquet"), pd.read_parquet(two / f"{name}.parquet")
        pdt.assert_frame_equal(a, b)
    a = pd.read_parquet(one / "summary.parquet")
    assert a["ehe_census_pct"].nunique() == 2 or a["suspension_rate"].nunique() == 2  # replicates differ


def test_overrides_reach_the_run(small: Path, tmp_path: Path):
    out = tmp_path / "o"
    assert (
        main(
            [
                "run",
                str(small),
                "--out",
                str(out),
                "--seed",
                "5",
                "--years",
                "2",
                "--scale",
                "0.5",
                "--workers",
                "1",
            ]
        )
        == 0
    )
    years = pd.read_parquet(out / "years.parquet")
    assert list(years["academic_year"]) == [2023, 2024]
    assert set(years["seed"]) == {5}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["scale"] == 0.5 and manifest["scenario"]["years"] == 2


# --- bad input ----------------------------------------------------------------------------

BAD_FILES = {
    "bad_syntax.toml": "years = 1\n[population\n",
    "unknown_key.toml": "yearz = 1\n",
    "out_of_range.toml": "[parameters]\np_notice_attendance = 7.0\n",
    "bad_intervention.toml": '[[interventions]]\ntype = "teleport"\n',
    "late_intervention.toml": SMALL.replace("years = 1", "years = 3")
    + '\n[[interventions]]\ntype = "support_funding"\nstart_year = 2\n',
}


@pytest.mark.parametrize(
    ("scenario", "extra", "expected"),
    [
        ("missing.toml", [], ["missing.toml", "not found"]),
        ("bad_syntax.toml", [], ["bad_syntax.toml", "TOML"]),
        ("unknown_key.toml", [], ["unknown_key.toml", "'yearz'"]),
        ("out_of_range.toml", [], ["out_of_range.toml", "p_notice_attendance"]),
        ("bad_intervention.toml", [], ["bad_intervention.toml", "'teleport'"]),
        ("late_intervention.toml", ["--years", "2"], ["late_intervention.toml", "--years"]),
        ("small.toml", ["--replicates", "0"], ["--replicates"]),
        ("small.toml", ["--replicates", "-2"], ["--replicates"]),
        ("small.toml", ["--seed", "-1"], ["--seed"]),
        ("small.toml", ["--scale", "0"], ["--scale"]),
        ("small.toml", ["--scale", "1.5"], ["--scale"]),
        ("small.toml", ["--scale", "nan"], ["--scale"]),
        ("small.toml", ["--years", "0"], ["--years"]),
        ("small.toml", ["--workers", "0"], ["--workers"]),
        ("small.toml", ["--bogus"], ["--bogus"]),
    ],
)
def test_bad_run_input_exits_2_and_writes_nothing(tmp_path: Path, small: Path, capsys, scenario, extra, expected):
    for name, text in BAD_FILES.items():
        (tmp_path / name).write_text(text)
    out = tmp_path / "out"
    code = main(["run", str(tmp_path / scenario), "--out", str(out), *extra])
    assert code == 2
    line = _error_line(capsys)
    for word in expected:
        assert word in line
    assert not out.exists()


def test_out_that_is_a_file_is_refused(small: Path, tmp_path: Path, capsys):
    out = tmp_path / "taken"
    out.write_text("not a directory")
    assert main(["run", str(small), "--out", str(out)]) == 2
    assert "--out" in _error_line(capsys)
    assert out.read_text() == "not a directory"


def test_failed_run_writes_no_tables(small: Path, tmp_path: Path, capsys, monkeypatch):
    """A run that raises is recorded in the run store with its traceback; no tables are written
    (the tables are complete or absent) and the exit status is 1, not 2 (not bad input)."""

    def boom(*args, **kwargs):
        raise RuntimeError("model fell over")

    monkeypatch.setattr("simulation.research.runner.run", boom)
    out = tmp_path / "out"
    assert main(["run", str(small), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("error: ")
    assert "model fell over" in err
    assert not any(out.glob("*.parquet")) and not (out / "manifest.json").exists()
    assert "model fell over" in next((out / "runs" / "failed").glob("*.txt")).read_text()


def test_missing_command_and_unknown_command(capsys):
    assert main([]) == 2
    assert "COMMAND" in _error_line(capsys)
    assert main(["frobnicate"]) == 2
    assert "frobnicate" in _error_line(capsys)


# --- check-targets ------------------------------------------------------------------------


def test_check_targets_on_results_dir(results_dir: Path, capsys):
    assert main(["check-targets", str(results_dir)]) == 0
    out = capsys.readouterr().out
    targets = load_targets()
    for tid in targets["id"]:
        assert re.search(rf"^{re.escape(tid)}\s", out, re.M), tid
    m = re.search(r"^(\d+) of (\d+) targets in range; (\d+) out of range \((\d+) below, (\d+) above\)", out, re.M)
    assert m and int(m.group(2)) == len(targets)
    assert int(m.group(3)) == int(m.group(4)) + int(m.group(5))
    assert int(m.group(1)) + int(m.group(3)) <= len(targets)


def test_check_targets_runs_a_scenario_in_memory(small: Path, capsys):
    assert main(["check-targets", "--scenario", str(small), "--replicates", "1", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "ehe_census_autumn2023" in out and "targets in range" in out


@pytest.mark.parametrize(
    "args",
    [["{tmp}"], ["{tmp}/nowhere"], ["--scenario", "{tmp}/none.toml"], ["{tmp}", "--scale", "0.5"]],
)
def test_check_targets_bad_input(tmp_path: Path, capsys, args):
    assert main(["check-targets", *(a.format(tmp=tmp_path) for a in args)]) == 2
    line = _error_line(capsys)
    assert str(tmp_path) in line or "--scale" in line


# --- params and help ----------------------------------------------------------------------


def test_params_lists_every_parameter(capsys):
    assert main(["params"]) == 0
    out = capsys.readouterr().out
    names = {ln.split()[0] for ln in out.splitlines()[2:] if ln.strip()}
    assert set(PARAMS) <= names


def test_params_kind_filter(capsys):
    assert main(["params", "--kind", "lever"]) == 0
    out = capsys.readouterr().out
    levers = {p.name for p in PARAMS.values() if p.kind == "lever"}
    others = {p.name for p in PARAMS.values() if p.kind != "lever"}
    listed = {ln.split()[0] for ln in out.splitlines()[2:] if ln.strip()}
    assert levers <= listed and not (others & listed)


@pytest.mark.parametrize("command", [[], ["run"], ["sweep"], ["check-targets"], ["params"]])
def test_help_for_every_command(command, capsys):
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: school-exit")


def test_console_entry_point_in_a_subprocess(tmp_path: Path):
    ok = subprocess.run(
        [sys.executable, "-m", "simulation.cli", "run", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0 and "--replicates" in ok.stdout
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulation.cli",
            "run",
            str(tmp_path / "x.toml"),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("error: ") and len(bad.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_help_does_not_import_pandas_or_mesa():
    """`school-exit --help` is the first thing a newcomer runs: it should answer in a blink, not
    after the 0.3 s of pandas and 0.2 s of Mesa that only running a model needs."""
    code = (
        "import sys\n"
        "from simulation.cli import main\n"
        "try:\n"
        "    main(['run', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('pandas', 'mesa', 'scipy') if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "--replicates" in done.stdout
    assert done.stderr.strip() == "[]"


# --- targets and plots as library functions -----------------------------------------------


def test_compare_to_targets_statuses():
    t = load_targets()
    row = t.set_index("id").loc["pex_2023_24"]  # 0.13 (0.11-0.15)
    base = t[t["metric"] == "pex_rate"].head(1)
    cases = {  # model: (status, distance from the range in % of 0.13)
        0.12: ("in range", 0.0),
        0.15: ("in range", 0.0),
        0.17: ("ABOVE range", 100 * 0.02 / 0.13),
        0.09: ("BELOW range", -100 * 0.02 / 0.13),
    }
    for model, (status, off) in cases.items():
        got = compare_to_targets(pd.DataFrame({"pex_rate": [model, model]}), base)
        assert got.loc[0, "status"] == status, (model, row["value"])
        assert got.loc[0, "off_by_pct"] == pytest.approx(off), model
    got = compare_to_targets(pd.DataFrame({"pex_rate": [0.1, 0.2, np.nan]}), base)
    assert got.loc[0, "model_mean"] == pytest.approx(0.15) and got.loc[0, "n_rows"] == 2
    assert got.loc[0, "model_p5"] == pytest.approx(0.105) and got.loc[0, "model_p95"] == pytest.approx(0.195)
    missing = compare_to_targets(pd.DataFrame({"other": [1.0]}))
    assert (missing["status"] == "not modelled").all() and len(missing) == len(t)
    assert (
        count_line(missing)
        == f"0 of {len(t)} targets in range; 0 out of range (0 below, 0 above), {len(t)} not modelled"
    )
    both = compare_to_targets(pd.DataFrame({"pex_rate": [0.5]}), base)
    assert count_line(both) == "0 of 1 targets in range; 1 out of range (0 below, 1 above)"
    text = format_table(missing)
    assert all(tid in text for tid in t["id"])
    header, rule, *body = text.splitlines()
    col = header.index("status")
    assert rule[col - 2 : col] == "  " and rule[col] == "-"  # columns line up
    assert all(ln[col:].startswith("not modelled") for ln in body)


def test_plot_rates_per_1000(tmp_path: Path):
    rows = []
    for rep in range(3):
        for t in range(60):
            rows.append(
                {
                    "scenario": "s",
                    "replicate": rep,
                    "seed": rep,
                    "la": "a",
                    "academic_year": 2023 + t // 52,
                    "t_week": 52 + t,
                    "week": t % 52,
                    "on_roll": 960.0,
                    "special": 10.0,
                    "ap": 5.0,
                    "s19": 3.0,
                    "ehe": 10.0 + rep,
                    "cme": 2.0,
                    "left": 7.0,
                    "in_distress": 0,
                    "ehcp_queue": 0,
                }
            )
    weeks = pd.DataFrame(rows)
    paths = plot_out_of_school(weeks, tmp_path / "fig" / "oos")
    assert all(p.is_file() for p in paths.values())
    data = pd.read_csv(paths["csv"])
    ehe = data[data["status"] == "ehe"]
    # population 980 + ehe; left is not counted
    assert ehe["median"].iloc[0] == pytest.approx(11 / 991 * 1000)
    assert ehe["weeks_since_start"].min() == 0 and ehe["weeks_since_start"].max() == 59
    assert data[data["status"] == "cme"]["p5"].iloc[0] < data[data["status"] == "cme"]["p95"].iloc[0]
