"""Scenario files: inheritance, validation and the error messages users see."""

from pathlib import Path

import pytest

from simulation import PARAMS, Scenario, ScenarioError, load_scenario
from simulation.policy.interventions import EHCPAssessmentCapacity

FLOAT_PARAM = next(p for p in PARAMS.values() if not p.integer)


def write(tmp_path: Path, name: str, text: str) -> Path:
    """A scenario file; named after its stem unless the text names it (every file needs a name)."""
    path = tmp_path / name
    named = any(line.startswith("name") for line in text.splitlines())
    path.write_text(text if named else f'name = "{path.stem}"\n' + text)
    return path


def mid(name: str) -> float:
    p = PARAMS[name]
    return (p.low + p.high) / 2


def test_the_repository_baseline_loads(repo_root):
    s = load_scenario(repo_root / "scenarios" / "baseline.toml")
    assert s.name == "baseline"
    assert s.years >= 1 and s.replicates >= 1
    assert s.sha256 and len(s.sha256) == 64


def test_a_minimal_file_takes_the_defaults(tmp_path):
    s = load_scenario(write(tmp_path, "plain.toml", 'description = "nothing changed"\n'))
    assert s.name == "plain"  # the file stem
    assert s.parameters == {}
    assert s.params() == {n: p.default for n, p in PARAMS.items()}
    assert s.years == Scenario().years and s.burn_in == Scenario().burn_in


def test_extends_merges_one_level(tmp_path):
    write(
        tmp_path,
        "parent.toml",
        f"""
name = "parent"
years = 3
seed = 9
[population]
n_pupils = 3000
[parameters]
p_notice_attendance = {mid("p_notice_attendance")}
""",
    )
    child = write(
        tmp_path,
        "child.toml",
        f"""
name = "child"
extends = "parent.toml"
years = 2
[population]
n_primary = 8
[parameters]
fines_first_share = {mid("fines_first_share")}
""",
    )
    s = load_scenario(child)
    assert s.name == "child"
    assert s.years == 2  # child wins
    assert s.seed == 9  # inherited
    assert s.population.n_pupils == 3000 and s.population.n_primary == 8  # tables merged key by key
    assert s.parameters == {
        "p_notice_attendance": mid("p_notice_attendance"),
        "fines_first_share": mid("fines_first_share"),
    }


def test_extends_two_levels_is_refused(tmp_path):
    write(tmp_path, "grand.toml", "years = 3\n")
    write(tmp_path, "parent.toml", 'extends = "grand.toml"\n')
    child = write(tmp_path, "child.toml", 'extends = "parent.toml"\n')
    with pytest.raises(ScenarioError, match="one level"):
        load_scenario(child)


def test_a_missing_parent_is_reported(tmp_path):
    child = write(tmp_path, "child.toml", 'extends = "nowhere.toml"\n')
    with pytest.raises(ScenarioError, match=r"child.toml: extends = 'nowhere.toml': no such file"):
        load_scenario(child)


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(tmp_path / "absent.toml")


def test_toml_syntax_errors_are_reported(tmp_path):
    with pytest.raises(ScenarioError, match="TOML"):
        load_scenario(write(tmp_path, "bad.toml", "years = = 3\n"))


def test_unknown_top_level_key_is_refused(tmp_path):
    path = write(tmp_path, "s.toml", 'colour = "red"\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert "colour" in str(err.value) and str(path) in str(err.value)


def test_unknown_key_in_a_parent_is_refused(tmp_path):
    write(tmp_path, "parent.toml", "replicatez = 3\n")
    with pytest.raises(ScenarioError, match="replicatez"):
        load_scenario(write(tmp_path, "child.toml", 'extends = "parent.toml"\n'))


def test_unknown_parameter_is_refused_with_file_and_key(tmp_path):
    path = write(tmp_path, "s.toml", "[parameters]\nwibble = 0.3\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert "wibble" in str(err.value) and str(path) in str(err.value)


def test_out_of_range_parameter_names_key_value_and_bounds(tmp_path):
    p = FLOAT_PARAM
    bad = p.high + (p.high - p.low)
    path = write(tmp_path, "s.toml", f"[parameters]\n{p.name} = {bad}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    message = str(err.value)
    assert p.name in message and f"{p.low:g}" in message and f"{p.high:g}" in message and str(path) in message


@pytest.mark.parametrize(
    "text, key",
    [
        ('years = "five"\n', "years"),
        ("years = 0\n", "years"),
        ("years = 2.5\n", "years"),
        ("burn_in = -1\n", "burn_in"),
        ("replicates = true\n", "replicates"),
        ("seed = -3\n", "seed"),
        ("scale = 2\n", "scale"),
        ('scale = "half"\n', "scale"),
        ("name = 3\n", "name"),
        ('parameters = "none"\n', "parameters"),
        ("population = 5\n", "population"),
        ('[population]\nn_pupils = "many"\n', "n_pupils"),
        ("[population]\nn_pupils = 3000.5\n", "n_pupils"),
        ("[population]\nehcp_share = 1.5\n", "ehcp_share"),
        ("[population]\nehcp_need_mix = [0.5, 0.5]\n", "ehcp_need_mix"),
        ("[population]\nunknown_share = 0.1\n", "unknown_share"),
        ('[parameters]\np_notice_attendance = "high"\n', "p_notice_attendance"),
        ('interventions = "none"\n', "interventions"),
    ],
)
def test_bad_types_and_values_are_refused(tmp_path, text, key):
    with pytest.raises(ScenarioError, match=key):
        load_scenario(write(tmp_path, "s.toml", text))


def test_unknown_intervention_type_is_refused_listing_the_known_ones(tmp_path):
    path = write(tmp_path, "s.toml", '[[interventions]]\ntype = "free_ponies"\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert "free_ponies" in str(err.value)
    assert "ehcp_assessment_capacity" in str(err.value)


def test_unknown_intervention_field_is_refused(tmp_path):
    path = write(tmp_path, "s.toml", '[[interventions]]\ntype = "ehcp_assessment_capacity"\nboost = 0.2\n')
    with pytest.raises(ScenarioError, match="boost"):
        load_scenario(path)


def test_out_of_range_intervention_field_is_refused(tmp_path):
    path = write(
        tmp_path,
        "s.toml",
        '[[interventions]]\ntype = "ehcp_assessment_capacity"\nincrease = -5.0\n',
    )
    with pytest.raises(ScenarioError, match="increase"):
        load_scenario(path)


def test_intervention_starting_after_the_horizon_is_refused(tmp_path):
    path = write(
        tmp_path,
        "s.toml",
        'years = 2\n[[interventions]]\ntype = "support_funding"\nstart_year = 2\n',
    )
    with pytest.raises(ScenarioError, match="horizon"):
        load_scenario(path)
    ok = write(
        tmp_path,
        "ok.toml",
        'years = 2\n[[interventions]]\ntype = "support_funding"\nstart_year = 1\n',
    )
    assert load_scenario(ok).interventions[0].start_year == 1


def test_intervention_ending_before_it_starts_is_refused(tmp_path):
    path = write(
        tmp_path,
        "s.toml",
        'years = 5\n[[interventions]]\ntype = "support_funding"\nstart_year = 3\nend_year = 1\n',
    )
    with pytest.raises(ScenarioError, match="end_year"):
        load_scenario(path)


def test_negative_or_fractional_years_in_an_intervention_are_refused(tmp_path):
    for field in ("start_year = -1", "ramp_years = 1.5"):
        path = write(tmp_path, "s.toml", f'years = 5\n[[interventions]]\ntype = "support_funding"\n{field}\n')
        with pytest.raises(ScenarioError, match=field.split()[0]):
            load_scenario(path)


def test_two_interventions_on_one_lever_in_overlapping_years_are_refused(tmp_path):
    path = write(
        tmp_path,
        "s.toml",
        """
years = 5
[[interventions]]
type = "ehcp_assessment_capacity"
increase = 0.2
start_year = 0
[[interventions]]
type = "ehcp_assessment_capacity"
increase = 0.5
start_year = 2
""",
    )
    with pytest.raises(ScenarioError, match="assessment_capacity"):
        load_scenario(path)


def test_two_interventions_on_one_lever_in_turn_are_allowed(tmp_path):
    path = write(
        tmp_path,
        "s.toml",
        """
years = 5
[[interventions]]
type = "ehcp_assessment_capacity"
increase = 0.2
start_year = 0
end_year = 1
[[interventions]]
type = "ehcp_assessment_capacity"
increase = 0.5
start_year = 2
[[interventions]]
type = "support_funding"
change = 0.1
start_year = 0
""",
    )
    s = load_scenario(path)
    assert [iv.type for iv in s.interventions] == ["ehcp_assessment_capacity"] * 2 + ["support_funding"]
    assert s.interventions[1] == EHCPAssessmentCapacity(increase=0.5, start_year=2)


def test_the_hash_follows_the_content(tmp_path):
    a = load_scenario(write(tmp_path, "a.toml", "years = 2\n"))
    b = load_scenario(write(tmp_path, "b.toml", "years = 2\n"))
    c = load_scenario(write(tmp_path, "c.toml", "years = 3\n"))
    assert a.with_(name="x").sha256 == b.with_(name="x").sha256
    assert a.with_(name="x").sha256 != c.with_(name="x").sha256
    assert a.with_(years=3, name="c").sha256 == c.sha256


def test_scenario_round_trips_through_its_dict(tmp_path):
    s = load_scenario(
        write(
            tmp_path,
            "s.toml",
            f"""
years = 3
[parameters]
p_notice_attendance = {mid("p_notice_attendance")}
[[interventions]]
type = "support_funding"
change = 0.1
start_year = 1
ramp_years = 1
""",
        )
    )
    d = s.to_dict()
    assert d["parameters"] == {"p_notice_attendance": mid("p_notice_attendance")}
    assert d["interventions"] == [{"type": "support_funding", "change": 0.1, "start_year": 1, "ramp_years": 1}]


def test_a_child_does_not_inherit_its_parents_name(tmp_path):
    # The name is the scenario column of every table: a child that took its parent's would be
    # indistinguishable from it, and one named after its file would hide a forgotten name.
    write(tmp_path, "baseline.toml", 'name = "baseline"\nyears = 2\n')
    child = tmp_path / "more_assessors.toml"
    child.write_text(
        'extends = "baseline.toml"\n[[interventions]]\ntype = "ehcp_assessment_capacity"\nstart_year = 0\n'
    )
    with pytest.raises(ScenarioError, match=r"more_assessors.toml: name is missing"):
        load_scenario(child)
    child.write_text('name = "more_assessors"\n' + child.read_text())
    assert load_scenario(child).name == "more_assessors"
