"""An --out holds one job's outputs (another job is refused unless --force; the same job resumes),
and every file written ends with the mode the umask gives (issue 20)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from simulation.cli import main
from simulation.cli.common import JOB_FILE
from simulation.research import store

ROOT = Path(__file__).resolve().parents[2]
SMALL = """\
name = "{name}"
years = 1
burn_in = 0
seed = 11

[population]
n_pupils = 3000
n_primary = 8
n_secondary = 2
n_special = 1
"""


@pytest.fixture()
def scenarios(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name in ("alpha", "beta"):
        paths[name] = tmp_path / f"{name}.toml"
        paths[name].write_text(SMALL.format(name=name))
    return paths


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("error: "), err
    assert len(err) == 1, err
    return err[0]


def test_another_scenarios_out_is_refused_and_left_as_it_was(scenarios, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(scenarios["alpha"]), "--out", str(out), "--workers", "1"]) == 0
    assert json.loads((out / JOB_FILE).read_text())["job"] == {"command": "run", "scenario": "alpha", "area": "one LA"}
    before = _snapshot(out)
    capsys.readouterr()
    assert main(["run", str(scenarios["beta"]), "--out", str(out), "--workers", "1"]) == 2
    line = _one_line(capsys)
    for word in (f"--out {out}", "another job", "'alpha'", "'beta'", "allowed", "--force"):
        assert word in line, (word, line)
    assert _snapshot(out) == before  # nothing written, nothing removed


def test_force_writes_there_and_takes_the_directory_over(scenarios, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(scenarios["alpha"]), "--out", str(out), "--workers", "1"]) == 0
    assert main(["run", str(scenarios["beta"]), "--out", str(out), "--workers", "1", "--force"]) == 0
    assert json.loads((out / JOB_FILE).read_text())["job"]["scenario"] == "beta"
    assert json.loads((out / "manifest.json").read_text())["scenario"]["name"] == "beta"
    capsys.readouterr()
    assert main(["run", str(scenarios["alpha"]), "--out", str(out), "--workers", "1"]) == 2  # now beta's
    assert "'beta'" in _one_line(capsys)


def test_the_same_job_resumes_into_its_own_out(scenarios, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["run", str(scenarios["alpha"]), "--out", str(out), "--workers", "1", "--replicates", "2"]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 0
    assert "2 already done" in capsys.readouterr().err
    assert main([*args[:-1], "3"]) == 0  # more replicates of the same scenario: the same job
    assert "2 already done" in capsys.readouterr().err


def test_other_commands_are_refused_an_out_a_run_wrote(scenarios, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(scenarios["alpha"]), "--out", str(out), "--workers", "1"]) == 0
    before = _snapshot(out)
    capsys.readouterr()
    base = ROOT / "scenarios" / "baseline.toml"
    for args in (
        ["compare", str(base), str(ROOT / "scenarios" / "support_funding.toml")],
        ["sweep", str(ROOT / "experiments" / "ishigami.toml")],
        ["calibrate", str(ROOT / "tests" / "calibration" / "npe_small.toml")],
    ):
        assert main([*args, "--out", str(out)]) == 2, args
        line = _one_line(capsys)
        assert f"school-exit {args[0]}" in line and "school-exit run of scenario 'alpha'" in line, line
    assert _snapshot(out) == before


def test_a_directory_of_other_files_is_refused_unless_forced(scenarios, tmp_path, capsys):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "summary.csv").write_text("mine, not a job's\n")
    assert main(["run", str(scenarios["alpha"]), "--out", str(out), "--workers", "1"]) == 2
    assert "not empty, holds files no school-exit job wrote" in _one_line(capsys)
    assert sorted(p.name for p in out.iterdir()) == ["summary.csv"]
    (out / "manifest.json").write_text("{}")  # as an earlier version left its outputs
    assert main(["run", str(scenarios["alpha"]), "--out", str(out), "--workers", "1"]) == 2
    assert f"outputs of an earlier school-exit without a {JOB_FILE}" in _one_line(capsys)
    assert main(["run", str(scenarios["alpha"]), "--out", str(out), "--workers", "1", "--force"]) == 0


def test_an_empty_existing_directory_is_accepted(scenarios, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert main(["run", str(scenarios["alpha"]), "--out", str(out), "--workers", "1"]) == 0


def test_every_command_that_writes_takes_force(capsys):
    for command in ("run", "compare", "sweep", "calibrate"):
        assert main([command, "--help"]) == 0
        assert "--force" in capsys.readouterr().out, command


# --- the umask ------------------------------------------------------------------------------


@pytest.fixture()
def umask():
    """Set the process umask for one test, then put the old one back."""
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_atomic_writes_honour_the_umask(tmp_path, umask, mask):
    umask(mask)
    path = tmp_path / "x.json"
    store.write_json({"a": 1}, path)
    assert _mode(path) == 0o666 & ~mask
    store.atomic_write_bytes(path, b"again")  # a rewrite too
    assert _mode(path) == 0o666 & ~mask and path.read_bytes() == b"again"
    assert not list(tmp_path.glob(".*.tmp"))


def test_every_output_of_a_run_is_readable_by_the_group_and_others(scenarios, tmp_path, umask):
    umask(0o022)
    out = tmp_path / "out"
    assert main(["run", str(scenarios["alpha"]), "--out", str(out), "--workers", "1", "--plot", "--events"]) == 0
    files = [p for p in out.rglob("*") if p.is_file()]
    kinds = {p.suffix for p in files}
    assert {".parquet", ".csv", ".json", ".pkl", ".png", ".svg"} <= kinds, kinds
    wrong = {str(p.relative_to(out)): oct(_mode(p)) for p in files if _mode(p) != 0o644}
    assert not wrong, wrong
    assert all(_mode(p) == 0o755 for p in out.rglob("*") if p.is_dir())


def test_a_compare_and_its_report_honour_the_umask(tmp_path, umask, capsys):
    umask(0o027)
    base = tmp_path / "base.toml"
    base.write_text(SMALL.format(name="base").replace("years = 1", "years = 2\nreplicates = 2"))
    policy = tmp_path / "policy.toml"
    policy.write_text(
        'name = "policy"\nextends = "base.toml"\n[[interventions]]\ntype = "support_funding"\nstart_year = 0\n'
        "change = 0.2\n"
    )
    out = tmp_path / "cmp"
    assert main(["compare", str(base), str(policy), "--out", str(out), "--workers", "1"]) == 0
    assert main(["report", str(out)]) == 0
    files = [p for p in out.rglob("*") if p.is_file()]
    assert (out / "report.html") in files and any(p.suffix == ".png" for p in files)
    wrong = {str(p.relative_to(out)): oct(_mode(p)) for p in files if _mode(p) != 0o640}
    assert not wrong, wrong
    other = tmp_path / "other.toml"
    other.write_text(policy.read_text().replace('name = "policy"', 'name = "other"'))
    capsys.readouterr()
    assert main(["compare", str(base), str(other), "--out", str(out)]) == 2  # another comparison
    assert "scenarios ['base', 'policy']" in _one_line(capsys)
