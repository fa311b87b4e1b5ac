"""The per-agent Mesa reference and the vectorised rules agree (benchmarks/reference_mesa.py).

Both start from the same synthetic state. The deterministic rules (support shares,
unmet need, stress, school distress, absence, the exit hazards) must agree to float32
precision week by week, with the reference's exits replayed on the array side so the
two rolls stay the same. Exits themselves are drawn differently (a Bernoulli per
pupil-week against the model's hazard clocks), so their counts must agree in distribution:
within four binomial standard deviations of each other and of their expectations.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

from simulation.model.params import defaults, resolve
from simulation.model.timeline import IS_TERM

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
ref = importlib.import_module("reference_mesa")

FLOATS = (
    "share",
    "unmet",
    "stress",
    "absence",
    "sessions_possible",
    "sessions_missed",
    "h_genuine",
    "h_no_choice",
)
EXACT = ("distress", "distress_weeks", "status", "route")

# A harder world than the defaults: scarce support, a steeper absence curve of another shape,
# and exits frequent enough that many children leave in a few weeks.
STRETCHED = {
    "support_funding_change": -0.3,
    "absence_stress_shape": 1.5,
    "absence_stress_slope": 0.4,
    "ehe_no_choice_hazard": 0.02,
    "ehe_genuine_hazard": 0.0003,
    "stress_from_unmet": 0.08,
}


def _run_side_by_side(p: dict, scale: float, weeks: int, seed: int):
    """Step the reference; replay its exits on the arrays; yield both snapshots each week."""
    state = ref.build_state(scale, seed=seed, p=p)
    model = ref.ReferenceModel(state.copy(), p, seed=seed)
    arrays = state.copy()
    start = {name: getattr(state, name).copy() for name in ref.COMPARED}
    yield -1, model.snapshot(), start
    for week in range(weeks):
        n_before, ill_before = len(model.exits), len(model.illness)
        model.step()
        ref.vectorised_week(
            arrays,
            p,
            replay=ref.reference_weekly_exits(model, n_before),
            replay_illness=ref.reference_weekly_illness(model, ill_before),
        )
        yield week, model.snapshot(), arrays.snapshot()


@pytest.mark.parametrize("overrides", [{}, STRETCHED], ids=["defaults", "stretched"])
def test_deterministic_rules_agree_week_by_week(overrides):
    p = resolve(overrides)
    weeks = 12  # weeks 0-7 term (six of them with the Year 7 transition), 8 holiday, 9-11 term
    assert not IS_TERM[8] and IS_TERM[:8].all()
    n_left = 0
    for week, slow, fast in _run_side_by_side(p, scale=0.05, weeks=weeks, seed=11):
        for name in FLOATS:
            np.testing.assert_allclose(slow[name], fast[name], rtol=1e-5, atol=1e-6, err_msg=f"{name} in week {week}")
        for name in EXACT:
            np.testing.assert_array_equal(
                slow[name].astype(np.int64),
                fast[name].astype(np.int64),
                err_msg=f"{name} in week {week}",
            )
        n_left = int((fast["status"] == 4).sum())
    # The comparison covered every branch: rationed and fully met tiers, distress, exits.
    assert ((fast["share"] > 0.01) & (fast["share"] < 0.99)).any() and (fast["share"] < 0.01).any()
    assert fast["distress"].any() and (fast["unmet"] > 0).any()
    assert n_left > 0


def test_reference_reads_the_registry_defaults():
    state = ref.build_state(0.02, seed=3)
    model = ref.ReferenceModel(state, seed=3)
    assert model.p == defaults()
    assert len(model.pupils) == state.n_pupils
    assert len(model.schools) == len(state.support_hours)


def _exit_counts(p: dict, scale: float, weeks: int, seed: int):
    """(count, expected, variance, illness spells) of exits for the reference and for the model's draws."""
    state = ref.build_state(scale, seed=seed, p=p)
    model = ref.ReferenceModel(state.copy(), p, seed=seed + 100)
    for _ in range(weeks):
        model.step()
    arrays = state.copy()
    draws = ref.ExitDraws(arrays.n_pupils, seed=seed + 200)
    count = expected = variance = illness = 0.0
    for _ in range(weeks):
        week = ref.vectorised_week(arrays, p, draws)
        count += len(week.who)
        expected += week.expected
        variance += week.variance
        illness += week.illness
    return (len(model.exits), model.expected_exits, model.exit_variance, len(model.illness)), (
        count,
        expected,
        variance,
        illness,
    )


def test_exit_and_illness_counts_agree_in_distribution():
    """About 460,000 pupil-weeks over term and holiday weeks, pooled over three seeds.

    The reference fires with probability h a week, the clock with 1 - exp(-h): the bias,
    about h / 2 of the count (under 1% here), is far inside the tolerance.
    """
    p = resolve(STRETCHED)
    weeks = 20  # the autumn term, with both half-term holidays
    slow = np.zeros(4)
    fast = np.zeros(4)
    for seed in (1, 2, 3):
        s, f = _exit_counts(p, scale=0.1, weeks=weeks, seed=seed)
        slow += s
        fast += f
    n_slow, e_slow, v_slow, ill_slow = slow
    n_fast, e_fast, v_fast, ill_fast = fast
    assert e_slow > 800 and e_fast > 800  # enough events for the comparison to mean something
    # Each count against the expectation of its own path ...
    assert abs(n_slow - e_slow) < 4 * np.sqrt(v_slow), (n_slow, e_slow, v_slow)
    assert abs(n_fast - e_fast) < 4 * np.sqrt(v_fast), (n_fast, e_fast, v_fast)
    # ... and the two counts against each other.
    assert abs(n_slow - n_fast) < 4 * np.sqrt(v_slow + v_fast), (n_slow, n_fast)
    # Illness spells: two Poisson-like counts over nearly the same pupils (rolls differ only by
    # the exits), drawn by a Bernoulli per pupil-week on one side and a clock on the other.
    assert ill_slow > 5000 and ill_fast > 5000
    assert abs(ill_slow - ill_fast) < 4 * np.sqrt(ill_slow + ill_fast), (ill_slow, ill_fast)
