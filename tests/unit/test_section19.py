"""The Section 19 delay: a long-tailed distribution around its mean, one draw per child."""

import numpy as np
import pytest

from simulation.model.la import s19_delays
from simulation.model.params import resolve


def test_delay_keeps_its_mean_and_has_a_long_tail():
    p = resolve()
    u = (np.arange(200_000) + 0.5) / 200_000  # an even grid: the quantiles exactly
    weeks = s19_delays(p, u)
    assert weeks.mean() == pytest.approx(p["s19_delay_weeks"], rel=0.02)  # rounding moves it a little
    assert np.all(np.diff(weeks) >= 0) and weeks.min() >= 1
    assert 0.01 < np.mean(weeks > 26) < 0.06  # six months and more: the Ombudsman's cases
    assert np.mean(weeks > 52) > 0.0005


def test_a_small_spread_centres_on_the_median():
    p = resolve({"s19_delay_shape": 5.0, "s19_delay_weeks": 12.0})
    weeks = s19_delays(p, np.array([0.01, 0.5, 0.99]))
    median = 12 * np.sin(np.pi / 5) / (np.pi / 5)  # the log-logistic's median at this mean
    assert weeks[1] == pytest.approx(median, abs=0.5) and weeks[0] < weeks[1] < weeks[2]
