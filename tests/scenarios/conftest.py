"""Fixtures for the scenario, comparison and figure tests: one small paired comparison, run once."""

from __future__ import annotations

import pytest

from simulation.analysis.compare import Comparison, compare
from simulation.policy.interventions import AccountabilityReform, SupportFunding
from simulation.policy.programmes import EHEConsent, MentalHealthSupportTeams

N_PUPILS = 6000
REPLICATES = 6


@pytest.fixture(scope="session")
def small_scenarios(make_scenario):
    """A baseline and two policies on a small LA: one that helps (support funding and mental health
    teams) and one that moves routes (LA consent for home education and accountability reform)."""
    base = make_scenario(n_pupils=N_PUPILS, years=2, burn_in=0, replicates=REPLICATES, seed=11)
    support = base.with_(
        name="support",
        interventions=(SupportFunding(change=0.2), MentalHealthSupportTeams(current_coverage=0.0)),
    )
    consent = base.with_(
        name="consent",
        interventions=(EHEConsent(p_refused=1.0, p_push_stopped=1.0), AccountabilityReform()),
    )
    return base, support, consent


@pytest.fixture(scope="session")
def comparison(small_scenarios) -> Comparison:
    base, support, consent = small_scenarios
    return compare(base, [support, consent], workers=2)
