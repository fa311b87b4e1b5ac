"""First-come-first-served queues with fractional weekly capacity."""

import numpy as np
import pytest

from simulation.model.dynamics.queues import serve_oldest, weekly_capacity


def test_serve_oldest_takes_the_earliest_joiners():
    waiting = np.array([10, 11, 12, 13, 14])
    joined = np.array([5, 2, 9, 1, 3])
    np.testing.assert_array_equal(np.sort(serve_oldest(waiting, joined, 3)), [11, 13, 14])


def test_serve_oldest_breaks_ties_by_slot_order():
    waiting = np.array([3, 7, 9, 20])
    joined = np.array([4, 4, 4, 1])
    np.testing.assert_array_equal(serve_oldest(waiting, joined, 3), [20, 3, 7])


def test_serve_oldest_edge_cases():
    waiting = np.array([1, 2, 3])
    joined = np.array([0, 0, 0])
    assert len(serve_oldest(waiting, joined, 0)) == 0
    assert len(serve_oldest(waiting, joined, -2)) == 0
    np.testing.assert_array_equal(np.sort(serve_oldest(waiting, joined, 10)), waiting)
    assert len(serve_oldest(waiting[:0], joined[:0], 5)) == 0


def test_weekly_capacity_carries_fractions():
    carry, served = 0.0, []
    for _ in range(10):
        n, carry = weekly_capacity(2.5, 0, 0.0, carry)
        served.append(n)
    assert sum(served) == 25
    assert set(served) == {2, 3}
    assert 0.0 <= carry < 1.0


def test_weekly_capacity_adds_a_share_of_the_backlog():
    n, carry = weekly_capacity(1.0, 100, 0.03, 0.0)
    assert n == 4 and carry == pytest.approx(0.0)
    n, carry = weekly_capacity(1.0, 10, 0.03, 0.5)
    assert n == 1 and carry == pytest.approx(0.8)


def test_weekly_capacity_below_one_serves_at_the_right_long_run_rate():
    carry, total = 0.0, 0
    for _ in range(100):
        n, carry = weekly_capacity(0.25, 0, 0.0, carry)
        total += n
    assert total == 25


@pytest.mark.parametrize("rate", [0.1, 0.6])
def test_weekly_capacity_does_not_lose_services_to_rounding(rate):
    carry, total = 0.0, 0
    for _ in range(100):
        n, carry = weekly_capacity(rate, 0, 0.0, carry)
        total += n
    assert total == round(100 * rate)
