"""Bad scenario input that used to go through (issue 20): each now stops `school-exit run` with one
line naming the file and the key and what is allowed, exit status 2, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation import ScenarioError, load_scenario
from simulation.cli import main
from simulation.policy.registry import from_dict

BASE = 'name = "base"\nyears = 2\nburn_in = 0\n[population]\nn_pupils = 1500\nn_primary = 4\nn_secondary = 1\n'


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "base.toml").write_text(BASE)
    (tmp_path / "adir").mkdir()
    return tmp_path


CASES = {  # file name: (text, words the one line must hold)
    "empty.toml": ("", ["empty.toml", "the file is empty", "name is missing", "allowed: a string", 'name = "empty"']),
    "nameless.toml": ("years = 2\n", ["nameless.toml", "name is missing", "allowed"]),
    "nameless_child.toml": ('extends = "base.toml"\n', ["nameless_child.toml", "name is missing", "needs its own"]),
    "nostart.toml": (
        'name = "nostart"\nextends = "base.toml"\n[[interventions]]\ntype = "support_funding"\nchange = 0.1\n',
        ["nostart.toml", "interventions[0]", "support_funding", "start_year is missing", "allowed", "0 to 1"],
    ),
    "noparent.toml": (
        'name = "noparent"\nextends = "nope.toml"\n',
        ["noparent.toml", "extends = 'nope.toml'", "no such file", "resolved to", "nope.toml", "allowed"],
    ),
    "dirparent.toml": (
        'name = "dirparent"\nextends = "adir"\n',
        ["dirparent.toml", "extends = 'adir'", "is a directory", "allowed: a scenario .toml file"],
    ),
    "badparent.toml": ('name = "badparent"\nextends = 3\n', ["badparent.toml", "extends = 3", "allowed"]),
}


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_scenario_is_one_line_exit_2_and_nothing_written(folder, name, capsys):
    text, words = CASES[name]
    (folder / name).write_text(text)
    out = folder / "out"
    assert main(["run", str(folder / name), "--out", str(out)]) == 2
    line = _one_line(capsys)
    for word in words:
        assert word in line, (word, line)
    assert not out.exists()


def test_missing_parent_names_the_child_and_the_resolved_path(folder):
    child = folder / "child.toml"
    child.write_text('name = "child"\nextends = "sub/nope.toml"\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(child)
    assert str(err.value) == (
        f"{child}: extends = 'sub/nope.toml': no such file (resolved to {(folder / 'sub' / 'nope.toml').resolve()}; "
        f"allowed: a scenario file, relative to {folder})"
    )


def test_a_directory_as_the_scenario_says_so(folder, capsys):
    (folder / "adir" / "one.toml").write_text(BASE)
    out = folder / "out"
    assert main(["run", str(folder / "adir"), "--out", str(out)]) == 2
    line = _one_line(capsys)
    assert "adir: is a directory, not a scenario file" in line and "not found" not in line
    assert f"e.g. {folder / 'adir' / 'one.toml'}" in line
    assert not out.exists()


def test_a_missing_scenario_is_still_not_found(folder, capsys):
    assert main(["run", str(folder / "absent.toml"), "--out", str(folder / "out")]) == 2
    assert "absent.toml: scenario file not found" in _one_line(capsys)


def test_the_first_problem_in_a_file_is_the_one_reported(folder):
    # A typo in a key is reported as itself, not as a missing name.
    (folder / "typo.toml").write_text("nmae = 'x'\n")
    with pytest.raises(ScenarioError, match="unknown key 'nmae'"):
        load_scenario(folder / "typo.toml")


def test_start_year_is_required_in_a_scenario_file_but_not_in_code():
    table = {"type": "support_funding", "change": 0.1}
    with pytest.raises(ValueError, match="start_year is missing"):
        from_dict(table, "here", 5, require_start_year=True)
    assert from_dict({**table, "start_year": 0}, "here", 5, require_start_year=True).start_year == 0
    assert from_dict(table, "here", 5).start_year == 0  # a dict built in code may rely on the default
    from simulation.policy.interventions import SupportFunding

    assert SupportFunding(change=0.1).start_year == 0  # and so may the classes


def test_every_committed_scenario_has_a_name_and_its_interventions_a_start_year(repo_root):
    import tomllib

    files = sorted((repo_root / "scenarios").glob("*.toml"))
    assert files
    for path in files:
        raw = tomllib.loads(path.read_text())
        assert isinstance(raw.get("name"), str) and raw["name"], path
        assert all("start_year" in iv for iv in raw.get("interventions", [])), path
        load_scenario(path)
