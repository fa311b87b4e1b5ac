"""Shared helpers for the test suite.

Small populations keep the suite fast; defaults are always read from the parameter
registry (``simulation.model.params.PARAMS``) so that tuning a default never breaks a test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import simulation
from simulation.model import timeline as tl
from simulation.model.params import resolve
from simulation.model.state import Kind, Phase, Status

REPO_ROOT = Path(__file__).resolve().parents[1]


def tiny_population(
    n_pupils: int = 3000, n_primary: int = 8, n_secondary: int = 2, n_special: int = 1
) -> simulation.PopulationSpec:
    return simulation.PopulationSpec(
        n_pupils=n_pupils, n_primary=n_primary, n_secondary=n_secondary, n_special=n_special
    )


def tiny_scenario(n_pupils: int = 3000, years: int = 1, burn_in: int = 0, **changes) -> simulation.Scenario:
    """A small LA with no burn-in: about 0.2 s per simulated year."""
    pop = tiny_population(n_pupils=n_pupils, n_primary=max(2, n_pupils // 375), n_secondary=max(2, n_pupils // 1500))
    return simulation.Scenario(population=pop, years=years, burn_in=burn_in).with_(**changes)


def status_columns() -> list[str]:
    """Status-count column names of the ``weeks`` table and the datacollector, in code order."""
    if hasattr(Status, "items"):
        return [name.lower() for name, _ in Status.items()]
    return [s.name.lower() for s in Status]


@pytest.fixture(scope="session", name="status_columns")
def status_columns_fixture() -> list[str]:
    return status_columns()


@pytest.fixture(scope="session")
def make_scenario():
    """Factory: ``make_scenario(n_pupils=3000, years=1, burn_in=0, **changes)``."""
    return tiny_scenario


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture()
def default_params() -> dict[str, float]:
    """The registry's current defaults (never hard-coded in tests)."""
    return resolve()


def check_model_invariants(m: simulation.SchoolExitModel) -> None:
    """Invariants that hold at the end of every step; the AssertionError names the first broken."""
    pu, sc = m.pupils, m.schools
    n = len(pu)
    status = pu.status
    # Exactly one valid status per pupil; LEFT is transient (the slot is refilled within the step).
    assert status.min() >= 0 and status.max() < len(Status), f"invalid status code at t={m.t_week}"
    assert not np.any(status == Status.LEFT), f"LEFT persisted past the end of step t={m.t_week - 1}"
    assert np.all((pu.year_group >= 0) & (pu.year_group <= 11)), "year group outside Reception..Y11"
    # School index consistent with status and phase.
    on_roll = status == Status.ON_ROLL
    school_on = pu.school[on_roll]
    assert np.all((school_on >= 0) & (school_on < len(sc))), "mainstream pupil without a valid school"
    expected = np.where(pu.year_group[on_roll] >= 7, Phase.SECONDARY, Phase.PRIMARY)
    wrong = np.flatnonzero(sc.phase[school_on] != expected)
    assert len(wrong) == 0, f"{len(wrong)} mainstream pupils at a school of the wrong phase (t={m.t_week})"
    special = status == Status.SPECIAL
    assert np.all(pu.school[special] >= 0), "special-school pupil without a school"
    assert np.all(sc.phase[pu.school[special]] == Phase.SPECIAL), "SPECIAL pupil on a mainstream roll"
    off_roll = np.isin(status, (Status.AP, Status.S19, Status.EHE, Status.CME))
    assert np.all(pu.school[off_roll] == -1), "pupil off a school roll still holds a school index"
    # Identity: every slot holds a distinct child; families are valid rows; siblings share FSM.
    assert len(np.unique(pu.uid)) == n, "two slots share a uid"
    assert pu.family.min() >= 0 and pu.family.max() < len(m.families), "family index out of range"
    fsm_per_family = np.zeros(len(m.families), dtype=np.int64)
    np.add.at(fsm_per_family, pu.family, pu.fsm.astype(np.int64))
    size = np.bincount(pu.family, minlength=len(m.families))
    mixed = (fsm_per_family > 0) & (fsm_per_family < size)
    assert not mixed.any(), f"{int(mixed.sum())} families with siblings of different FSM status"
    # Ranges of the weekly state.
    for name in ("stress", "absence", "unmet_need"):
        col = pu.columns[name]
        assert np.all((col >= 0.0) & (col <= 1.0)), f"{name} outside [0, 1]"
    assert np.all(pu.sessions_possible >= 0) and np.all(pu.sessions_missed >= 0)
    # Suspension days are capped at the sessions still possible, so missed never exceeds possible.
    excess = pu.sessions_missed - pu.sessions_possible
    assert excess.max() <= 1e-4, f"sessions_missed exceeds sessions_possible by {excess.max():.3g}"
    assert np.all(pu.autumn_missed <= pu.autumn_possible + 1e-4), "autumn_missed exceeds autumn_possible"
    last_week = (m.t_week - 1) % tl.WEEKS_PER_YEAR
    term_weeks_so_far = int(tl.IS_TERM[: last_week + 1].sum())
    assert pu.sessions_possible.max() <= term_weeks_so_far, "more possible weeks than term weeks this year"
    # The school-roll cache agrees with a recount.
    on = pu.school >= 0
    recount = np.bincount(pu.school[on], minlength=len(sc))
    assert np.array_equal(np.asarray(m.rolls), recount), "cached school rolls differ from a recount"
    # The observer's weekly counts (after burn-in) cover every pupil exactly once.
    if m.observer.weekly and m.t_week > m.burn_in_weeks:
        last = m.observer.weekly[-1]
        assert last[0] == m.t_week - 1
        assert last[3 : 3 + len(Status)].sum() == n, "weekly status counts do not sum to the pupils"


def check_event_log(m: simulation.SchoolExitModel) -> None:
    """Waits recorded in the event log are never negative."""
    for year in m.log.years():
        ev = m.log.year(year)
        for kind in (Kind.EHCP_PLAN, Kind.CAMHS_TREATED):
            waits = ev["value"][ev["kind"] == kind]
            assert np.all(waits >= 0), f"negative wait in events of kind {int(kind)}"


@pytest.fixture(scope="session")
def model_invariants():
    """The invariant checker as a session fixture (usable from hypothesis tests)."""
    return check_model_invariants


@pytest.fixture(scope="session")
def event_log_invariants():
    return check_event_log
