"""Property tests: anywhere inside the registry's bounds the model runs, its outputs stay in
range and the conservation invariants hold.

Each example is a tiny LA (1,500 pupils); ten examples per property keep this under ~5 s.
"""

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation import METRICS, PARAMS, SchoolExitModel
from simulation.model.params import resolve
from simulation.model.state import Status

SETTINGS = settings(
    max_examples=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _value(p, how: str):
    if p.integer:
        return st.integers(int(p.low), int(p.high))
    if how == "corner":
        return st.sampled_from([p.low, p.default, p.high])
    return st.floats(p.low, p.high, allow_nan=False, allow_infinity=False)


def _valid(params: dict) -> dict:
    """Keep the one cross-parameter rule: school distress ends below where it starts."""
    entry, exit_ = params["ebsa_entry_stress"], params["ebsa_exit_stress"]
    if exit_ >= entry:
        params = dict(params, ebsa_exit_stress=max(PARAMS["ebsa_exit_stress"].low, entry - 0.05))
    return params


anywhere = st.fixed_dictionaries({name: _value(p, "uniform") for name, p in PARAMS.items()}).map(_valid)
corners = st.fixed_dictionaries({name: _value(p, "corner") for name, p in PARAMS.items()}).map(_valid)


def _is_pct(name: str) -> bool:
    return name.endswith("_pct") or "_pct_" in name


def check_year_row(row: dict, n_pupils: int) -> None:
    assert set(row) == set(METRICS)
    for name, value in row.items():
        assert isinstance(value, float), name
        if math.isnan(value):
            assert (
                name != "n_pupils"
                and not name.endswith("_per_1000")
                and name not in ("pex_rate", "suspension_rate", "ehcp_requests")
            ), f"{name} is NaN"
            continue
        assert math.isfinite(value), f"{name} = {value}"
        assert value >= 0.0, f"{name} = {value} is negative"
        if _is_pct(name):
            assert value <= 100.0 + 1e-9, f"{name} = {value} exceeds 100%"
    assert row["n_pupils"] == n_pupils
    assert row["severe_absence_pct"] <= row["persistent_absence_pct"] + 1e-9
    assert row["ehe_census_pct"] <= row["ehe_anypoint_pct"] + 1e-9
    assert row["cme_census_pct"] <= row["cme_anypoint_pct"] + 1e-9
    assert row["ehe_ehcp_pct"] <= row["ehe_sen_pct"] + 1e-9 or math.isnan(row["ehe_sen_pct"])
    assert row["ehcp_over_52w_pct"] + row["ehcp_timely_pct"] <= 100.0 + 1e-9 or math.isnan(row["ehcp_timely_pct"])


@SETTINGS
@given(params=anywhere, seed=st.integers(0, 10_000))
def test_a_year_anywhere_in_the_bounds_keeps_invariants_and_ranges(
    make_scenario, model_invariants, event_log_invariants, params, seed
):
    scenario = make_scenario(n_pupils=1500, parameters=params)
    assert scenario.params() == resolve(params)  # the drawn point is valid by the registry's own rules
    m = SchoolExitModel(scenario, seed=seed, record_events=True)
    for _ in range(52):
        m.step()
        model_invariants(m)
    event_log_invariants(m)
    assert len(m.observer.rows) == 1
    check_year_row(m.observer.rows[0], len(m.pupils))


@SETTINGS
@given(params=corners, seed=st.integers(0, 10_000))
def test_half_a_year_at_the_corners_of_the_bounds_keeps_invariants(make_scenario, model_invariants, params, seed):
    m = SchoolExitModel(make_scenario(n_pupils=1500, parameters=params), seed=seed)
    n = len(m.pupils)
    for _ in range(26):
        m.step()
        model_invariants(m)
    weekly = np.array(m.observer.weekly)
    assert weekly.shape[0] == 26
    assert np.all(weekly[:, 3 : 3 + len(Status)].sum(axis=1) == n)
