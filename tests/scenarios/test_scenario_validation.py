"""Bad scenario files stop `school-exit compare` before anything runs: one line, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation.cli import main

BASE = """name = "base"
years = 2
burn_in = 0
replicates = 2
[population]
n_pupils = 1500
n_primary = 4
n_secondary = 1
n_special = 1
"""

CASES = {  # name: (file text, words the one-line message must hold); each file is named after its case
    "unknown_key": ('extends = "base.toml"\ncolour = "red"\n', ["colour", "allowed"]),
    "bad_type": ('extends = "base.toml"\nyears = "five"\n', ["years", "'five'", "allowed"]),
    "out_of_range": (
        'extends = "base.toml"\n[parameters]\np_notice_attendance = 3.0\n',
        ["p_notice_attendance", "3.0", "allowed: 0.05 to 0.8"],
    ),
    "unknown_type": ('extends = "base.toml"\n[[interventions]]\ntype = "magic"\n', ["'magic'", "allowed"]),
    "unknown_field": (
        'extends = "base.toml"\n[[interventions]]\ntype = "attendance_mentors"\nstart_year = 0\ncolour = 1\n',
        ["'colour'", "attendance_mentors", "allowed"],
    ),
    "field_range": (
        'extends = "base.toml"\n[[interventions]]\ntype = "attendance_mentors"\n'
        "start_year = 0\nplaces_per_10k = 9000\n",
        ["places_per_10k", "9000", "allowed: 0 to 500"],
    ),
    "field_type": (
        'extends = "base.toml"\n[[interventions]]\ntype = "s19_timeliness"\nstart_year = 0\ndelay_weeks = "soon"\n',
        ["delay_weeks", "'soon'", "not a number", "allowed"],
    ),
    "late_start": (
        'extends = "base.toml"\n[[interventions]]\ntype = "support_funding"\nstart_year = 2\n',
        ["start_year", "2", "horizon", "allowed: 0 to 1"],
    ),
    "deep_extends": ('extends = "middle.toml"\n', ["extends", "middle.toml", "one level"]),
    "missing_extends": ('extends = "nowhere.toml"\n', ["extends", "'nowhere.toml'", "no such file", "allowed"]),
    "extends_a_directory": ('extends = "sub"\n', ["extends", "'sub'", "allowed"]),
    "no_start_year": (
        'extends = "base.toml"\n[[interventions]]\ntype = "support_funding"\n',
        ["interventions[0]", "support_funding", "start_year is missing", "allowed: a whole number", "0 to 1"],
    ),
    "same_lever": (
        'extends = "base.toml"\n[[interventions]]\ntype = "support_first_attendance"\nstart_year = 0\n'
        '[[interventions]]\ntype = "penalty_notice_tightening"\nstart_year = 1\n',
        ["fines_first_share", "overlapping", "allowed"],
    ),
    "same_programme": (
        'extends = "base.toml"\n[[interventions]]\ntype = "attendance_mentors"\nstart_year = 0\n'
        '[[interventions]]\ntype = "attendance_mentors"\nstart_year = 0\nplaces_per_10k = 90\n',
        ["attendance_mentors", "allowed"],
    ),
    "other_population": ('extends = "base.toml"\n[population]\nn_pupils = 2000\n', ["population", "allowed"]),
}


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "base.toml").write_text(BASE)
    (tmp_path / "middle.toml").write_text('name = "middle"\nextends = "base.toml"\n')
    (tmp_path / "sub").mkdir()
    return tmp_path


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_is_one_line_exit_2_and_nothing_written(folder, case, capsys):
    text, words = CASES[case]
    bad = folder / f"{case}.toml"
    bad.write_text(f'name = "{case}"\n' + text)
    out = folder / "out"
    code = main(["compare", str(folder / "base.toml"), str(bad), "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert f"{case}.toml" in err[0], err[0]
    for word in words:
        assert word in err[0], (word, err[0])
    assert not out.exists()


def test_a_bad_file_anywhere_in_the_list_stops_everything(folder, capsys):
    (folder / "good.toml").write_text(
        'name = "good"\nextends = "base.toml"\n[[interventions]]\ntype = "support_funding"\nstart_year = 0\n'
    )
    (folder / "bad.toml").write_text('name = "bad"\nextends = "base.toml"\n[[interventions]]\ntype = "magic"\n')
    out = folder / "out"
    assert (
        main(
            [
                "compare",
                str(folder / "base.toml"),
                str(folder / "good.toml"),
                str(folder / "bad.toml"),
                "--out",
                str(out),
            ]
        )
        == 2
    )
    assert "bad.toml" in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize(
    "args, words",
    [
        (["--replicates", "1"], ["--replicates", "'1'", "allowed: a whole number 2"]),
        (["--scale", "2"], ["--scale", "allowed"]),
        (["--years", "0"], ["--years", "allowed"]),
    ],
)
def test_bad_options_are_refused(folder, args, words, capsys):
    out = folder / "out"
    assert main(["compare", str(folder / "base.toml"), str(folder / "base.toml"), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert all(w in err for w in words), err
    assert not out.exists()


def test_a_shorter_horizon_on_the_command_line_is_checked(folder, capsys):
    (folder / "late.toml").write_text(
        'name = "late"\nextends = "base.toml"\n[[interventions]]\ntype = "support_funding"\nstart_year = 1\n'
    )
    out = folder / "out"
    assert (
        main(["compare", str(folder / "base.toml"), str(folder / "late.toml"), "--out", str(out), "--years", "1"]) == 2
    )
    err = capsys.readouterr().err
    assert "start_year" in err and "horizon" in err and not out.exists()


def test_report_refuses_a_directory_compare_did_not_write(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "manifest.json" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "nope")]) == 2


def test_workers_and_a_scheduler_together_are_refused(folder, capsys):
    out = folder / "out"
    args = ["compare", str(folder / "base.toml"), str(folder / "base.toml"), "--out", str(out)]
    assert main([*args, "--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    assert "--scheduler" in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize(
    "text, words",
    [
        ("", ["empty", "name is missing", 'name = "nameless"']),
        ('extends = "base.toml"\nyears = 1\n', ["name is missing", "allowed", "needs its own"]),
        ('name = "  "\nextends = "base.toml"\n', ["name = '", "allowed: a non-empty string"]),
    ],
)
def test_a_file_without_a_name_is_refused(folder, text, words, capsys):
    # An empty file used to run the hand-set defaults with exit status 0.
    (folder / "nameless.toml").write_text(text)
    out = folder / "out"
    assert main(["compare", str(folder / "base.toml"), str(folder / "nameless.toml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nameless.toml" in err[0], err
    assert all(w in err[0] for w in words), err[0]
    assert not out.exists()


def test_a_directory_as_a_scenario_is_named_as_one(folder, capsys):
    out = folder / "out"
    assert main(["compare", str(folder / "base.toml"), str(folder / "sub"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "sub: is a directory, not a scenario file" in err and "allowed" in err and "not found" not in err
    assert not out.exists()
