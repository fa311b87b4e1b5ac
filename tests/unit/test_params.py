"""The parameter registry: defaults, bounds, validation and the SALib problem."""

import math

import pytest

from simulation.model.params import PARAMS, ParameterError, by_kind, defaults, resolve, salib_problem


def a_float_param():
    return next(p for p in PARAMS.values() if not p.integer)


def an_integer_param():
    return next(p for p in PARAMS.values() if p.integer)


def test_every_entry_is_complete_and_its_default_in_bounds():
    assert len(PARAMS) > 50
    for name, p in PARAMS.items():
        assert p.name == name
        assert p.kind in ("uncertainty", "lever"), name
        assert p.low < p.high, name
        assert p.low <= p.default <= p.high, f"{name}: default {p.default} outside [{p.low}, {p.high}]"
        assert p.unit and p.doc, f"{name}: unit and doc are required"
        assert p.source, f"{name}: a source or 'assumption' is required"
        if p.integer:
            assert float(p.default) == int(p.default), name
            assert float(p.low) == int(p.low) and float(p.high) == int(p.high), name


def test_both_kinds_are_present():
    assert by_kind("lever") and by_kind("uncertainty")
    assert len(by_kind("lever")) + len(by_kind("uncertainty")) == len(PARAMS)
    assert "assessment_capacity" in {p.name for p in by_kind("lever")}


def test_resolve_without_overrides_gives_the_defaults():
    assert resolve() == defaults()
    assert resolve({}) == {name: p.default for name, p in PARAMS.items()}


def test_resolve_applies_overrides_within_bounds():
    p = a_float_param()
    value = (p.low + p.high) / 2
    assert resolve({p.name: value})[p.name] == value
    assert resolve({p.name: p.low})[p.name] == p.low
    assert resolve({p.name: p.high})[p.name] == p.high


def test_resolve_refuses_an_unknown_key_naming_it():
    with pytest.raises(ParameterError, match="no_such_parameter"):
        resolve({"no_such_parameter": 1.0})


def test_unknown_key_error_suggests_close_names():
    with pytest.raises(ParameterError, match="did you mean"):
        resolve({"ehcp_request_rate": 0.001})


@pytest.mark.parametrize("side", ["below", "above"])
def test_resolve_refuses_out_of_range_values_naming_key_and_bounds(side):
    p = a_float_param()
    value = p.low - (p.high - p.low) if side == "below" else p.high + (p.high - p.low)
    with pytest.raises(ParameterError) as err:
        resolve({p.name: value}, where="my.toml")
    message = str(err.value)
    assert p.name in message
    assert f"{p.low:g}" in message and f"{p.high:g}" in message
    assert "my.toml" in message


@pytest.mark.parametrize("bad", ["0.5", None, True, [1.0], float("nan"), float("inf")])
def test_resolve_refuses_values_that_are_not_finite_numbers(bad):
    p = a_float_param()
    with pytest.raises(ParameterError, match=p.name):
        resolve({p.name: bad})


def test_integer_parameters_refuse_fractions_and_accept_whole_floats():
    p = an_integer_param()
    with pytest.raises(ParameterError, match=p.name):
        resolve({p.name: p.low + 0.5})
    value = resolve({p.name: float(p.low)})[p.name]
    assert value == p.low and isinstance(value, int)


def test_ebsa_exit_must_be_below_entry():
    entry, exit_ = PARAMS["ebsa_entry_stress"], PARAMS["ebsa_exit_stress"]
    # The highest exit and lowest entry the bounds allow: if they can meet, resolve must refuse.
    lo_entry = entry.low
    hi_exit = min(exit_.high, lo_entry)
    overrides = {"ebsa_entry_stress": lo_entry, "ebsa_exit_stress": hi_exit}
    if hi_exit >= lo_entry:
        with pytest.raises(ParameterError, match="ebsa_exit_stress"):
            resolve(overrides)
    else:
        assert resolve(overrides)["ebsa_exit_stress"] < resolve(overrides)["ebsa_entry_stress"]
    ok = {"ebsa_entry_stress": entry.high, "ebsa_exit_stress": exit_.low}
    assert resolve(ok)["ebsa_exit_stress"] < resolve(ok)["ebsa_entry_stress"]


def test_salib_problem_bounds_equal_the_registry():
    problem = salib_problem()
    assert problem["num_vars"] == len(problem["names"]) == len(problem["bounds"])
    assert set(problem["names"]) == {n for n, p in PARAMS.items() if not p.integer}
    for name, (low, high) in zip(problem["names"], problem["bounds"], strict=True):
        assert (low, high) == (PARAMS[name].low, PARAMS[name].high)


def test_salib_problem_for_chosen_names():
    names = ["assessment_capacity", "p_notice_attendance"]
    problem = salib_problem(names)
    assert problem["names"] == names
    assert problem["bounds"] == [[PARAMS[n].low, PARAMS[n].high] for n in names]
    assert problem["num_vars"] == 2


def test_defaults_are_finite():
    assert all(math.isfinite(v) for v in defaults().values())
