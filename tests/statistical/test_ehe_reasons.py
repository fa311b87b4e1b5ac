"""The reason the LA records for a home education comes from the route the child really took."""

from __future__ import annotations

import numpy as np

from simulation import SchoolExitModel
from simulation.model.params import PARAMS
from simulation.model.state import EHEReason, Route, Status


def test_recorded_reasons_follow_the_routes(make_scenario):
    m = SchoolExitModel(make_scenario(n_pupils=20_000, years=2), seed=11)
    m.run_for(2 * 52)
    pu = m.pupils
    ehe = pu.status == Status.EHE
    route, reason = pu.ehe_route[ehe], pu.ehe_reason[ehe]
    assert np.all(reason != EHEReason.NONE)
    assert np.all(pu.ehe_reason[~ehe] == EHEReason.NONE)
    known = reason != EHEReason.UNKNOWN
    assert np.all(route[known & (reason == EHEReason.PREFERENCE)] == Route.GENUINE)
    assert np.all(np.isin(route[known & (reason != EHEReason.PREFERENCE)], (Route.NO_CHOICE,)))
    assert np.all(reason[route == Route.COERCED] == EHEReason.UNKNOWN)
    no_choice = reason[route == Route.NO_CHOICE]
    assert np.count_nonzero(no_choice == EHEReason.MENTAL_HEALTH) > 0
    assert np.count_nonzero(no_choice == EHEReason.DISSATISFACTION) > 0
    # Among chosen and no-choice routes the LA learns no reason with chance p_ehe_reason_unknown:
    # a binomial share over a few hundred children, allowed 4 standard deviations.
    chosen = np.isin(route, (Route.GENUINE, Route.NO_CHOICE))
    n, p = int(chosen.sum()), PARAMS["p_ehe_reason_unknown"].default
    assert n > 150
    share = np.mean(reason[chosen] == EHEReason.UNKNOWN)
    assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / n), (share, n)
