"""Hazard clocks: exact waiting times and common random numbers."""

import numpy as np

from simulation.model.dynamics.clocks import HazardClock
from simulation.model.rng import Stream
from simulation.model.state import make_uid


def first_event_week(clock: HazardClock, uid: np.ndarray, hazard_by_week, max_weeks: int = 10_000) -> np.ndarray:
    """Week (1-based) of each pupil's first event; hazard_by_week(t) gives this week's hazards."""
    n = len(uid)
    when = np.zeros(n, dtype=np.int64)
    pending = np.arange(n)
    for t in range(1, max_weeks + 1):
        if len(pending) == 0:
            break
        h = hazard_by_week(t)
        fired = clock.advance(pending, h[pending] if np.ndim(h) else h, uid)
        when[fired] = t
        pending = np.setdiff1d(pending, fired, assume_unique=True)
    assert len(pending) == 0, "some pupils never fired"
    return when


def test_constant_hazard_gives_the_geometric_waiting_time():
    # With a constant weekly hazard h the first event falls in week k with P(W > k) = exp(-k h):
    # W is geometric with p = 1 - exp(-h), mean 1 / p (about 1/h + 1/2).
    n, h = 100_000, 0.05
    uid = np.arange(n, dtype=np.int64)
    clock = HazardClock(Stream(3, "test-clock"), uid)
    when = first_event_week(clock, uid, lambda t: h)
    p = 1 - np.exp(-h)
    mean, sd = 1 / p, np.sqrt(1 - p) / p
    # 4 standard errors: fails by chance about once in 16,000 runs (and the seed is fixed anyway).
    assert abs(when.mean() - mean) < 4 * sd / np.sqrt(n)
    assert abs(when.mean() - 1 / h) < 1.0  # and so about 1/h
    # The whole distribution, not just the mean: P(W > k) at a few k.
    for k in (5, 20, 60):
        assert abs((when > k).mean() - np.exp(-k * h)) < 0.01


def test_advance_all_matches_advance_on_every_slot():
    n = 500
    uid = np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(5)
    a = HazardClock(Stream(9, "x"), uid)
    b = HazardClock(Stream(9, "x"), uid)
    for _ in range(60):
        h = rng.exponential(0.05, size=n)
        fa = a.advance(np.arange(n), h, uid)
        fb = b.advance_all(h, uid)
        np.testing.assert_array_equal(np.sort(fa), np.sort(fb))
    np.testing.assert_array_equal(a.fired, b.fired)


def test_lower_hazard_never_makes_an_event_earlier():
    # Common random numbers: the same pupil has the same threshold in both scenarios, so a lower
    # hazard in every week delays (never advances) that pupil's event.
    n = 5_000
    uid = make_uid(np.arange(n), np.zeros(n, dtype=np.int64))
    rng = np.random.default_rng(7)
    weeks = 400
    # Time-varying hazards, the lower one at most the higher one in every week; both floored so
    # that every pupil fires within the horizon.
    high = np.maximum(rng.exponential(0.05, size=(weeks + 1, n)), 0.02)
    low = np.maximum(high * rng.uniform(0.2, 1.0, size=(weeks + 1, n)), 0.02)
    assert np.all(low <= high)
    stream = Stream(11, "crn")
    t_high = first_event_week(HazardClock(stream, uid), uid, lambda t: high[t], max_weeks=weeks)
    t_low = first_event_week(HazardClock(stream, uid), uid, lambda t: low[t], max_weeks=weeks)
    assert np.all(t_low >= t_high)
    assert np.mean(t_low > t_high) > 0.3  # and the change did delay many events


def test_the_same_pupil_gets_the_same_thresholds_in_another_run():
    uid = np.arange(100, dtype=np.int64) * 7
    a = HazardClock(Stream(1, "s"), uid)
    b = HazardClock(Stream(1, "s"), uid[::-1].copy())
    np.testing.assert_array_equal(a.remaining, b.remaining[::-1])
    c = HazardClock(Stream(1, "other"), uid)
    assert not np.allclose(a.remaining, c.remaining)


def test_thresholds_after_firing_come_from_the_pupil_and_firing_count():
    uid = np.arange(50, dtype=np.int64)
    stream = Stream(2, "s")
    clock = HazardClock(stream, uid)
    fired = clock.advance(np.arange(50), np.full(50, 100.0), uid)  # everyone fires
    assert len(fired) == 50
    np.testing.assert_array_equal(clock.fired, 1)
    np.testing.assert_array_equal(clock.remaining, stream.exponential(uid, 1))  # a fresh threshold, none used


def test_reset_gives_a_new_child_a_fresh_clock():
    n = 10
    slots = np.arange(n)
    generation = np.zeros(n, dtype=np.int64)
    uid = make_uid(slots, generation)
    stream = Stream(4, "s")
    clock = HazardClock(stream, uid)
    clock.advance(slots, np.full(n, 100.0), uid)  # fire once
    clock.advance(slots, np.full(n, 1e-6), uid)  # accumulate a little (no one fires)
    old_remaining = clock.remaining.copy()
    refilled = np.array([2, 5])
    generation[refilled] += 1
    uid = make_uid(slots, generation)
    clock.reset(refilled, uid)
    assert np.all(clock.fired[refilled] == 0)
    np.testing.assert_array_equal(clock.remaining[refilled], stream.exponential(uid[refilled], 0))
    assert np.all(clock.remaining[refilled] != old_remaining[refilled])
    keep = np.setdiff1d(slots, refilled)
    np.testing.assert_array_equal(clock.remaining[keep], old_remaining[keep])
    np.testing.assert_allclose(clock.remaining[keep], stream.exponential(uid[keep], 1) - 1e-6)
    assert np.all(clock.fired[keep] == 1)


def test_zero_hazard_never_fires():
    uid = np.arange(1000, dtype=np.int64)
    clock = HazardClock(Stream(5, "z"), uid)
    for _ in range(100):
        assert len(clock.advance_all(np.zeros(1000), uid)) == 0
        assert len(clock.advance(np.arange(1000), 0.0, uid)) == 0


def test_an_event_fires_in_the_week_the_hazard_reaches_its_threshold():
    # Halving is exact in binary: two weeks of half the threshold use it up exactly, and "reaches"
    # counts (as "the total reaches the threshold" did), so everyone fires in week 2, not week 3.
    uid = np.arange(200, dtype=np.int64)
    clock = HazardClock(Stream(6, "edge"), uid)
    half = clock.remaining / 2.0
    assert len(clock.advance_all(half, uid)) == 0
    np.testing.assert_array_equal(np.sort(clock.advance_all(half, uid)), np.arange(200))
