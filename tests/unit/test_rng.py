"""Named counter-based random streams."""

import numpy as np
import pytest

from simulation.model.rng import Stream, Streams
from simulation.model.state import make_uid

IDS = make_uid(np.arange(1000), np.zeros(1000, dtype=np.int64))


def test_same_stream_id_and_counter_give_the_same_number():
    a = Stream(42, "ehcp").uniform(IDS, 17)
    b = Stream(42, "ehcp").uniform(IDS, 17)
    np.testing.assert_array_equal(a, b)
    # Pure function of (stream, id, counter): order and company of the ids do not matter.
    perm = np.random.default_rng(0).permutation(len(IDS))
    np.testing.assert_array_equal(Stream(42, "ehcp").uniform(IDS[perm], 17), a[perm])
    np.testing.assert_array_equal(Stream(42, "ehcp").uniform(IDS[:10], 17), a[:10])


def test_scalar_and_array_counters_agree():
    s = Stream(1, "x")
    np.testing.assert_array_equal(s.uniform(IDS, 5), s.uniform(IDS, np.full(len(IDS), 5)))
    counters = np.arange(len(IDS)) % 7
    mixed = s.uniform(IDS, counters)
    for c in range(7):
        sel = counters == c
        np.testing.assert_array_equal(mixed[sel], s.uniform(IDS[sel], c))


def test_different_names_seeds_and_counters_give_different_numbers():
    base = Stream(42, "ehcp").uniform(IDS, 3)
    for other in (
        Stream(42, "camhs").uniform(IDS, 3),
        Stream(43, "ehcp").uniform(IDS, 3),
        Stream(42, "ehcp").uniform(IDS, 4),
        Stream(42, "ehcp").uniform(IDS + 1, 3),
    ):
        assert np.mean(base == other) < 0.01
        assert abs(np.corrcoef(base, other)[0, 1]) < 0.15  # about 4.7 sd for 1,000 pairs


def test_adding_a_stream_does_not_change_another_streams_draws():
    alone = Streams(7)
    a_alone = alone["offroll"].uniform(IDS, 9)
    g_alone = alone["offroll"].generator(2).random(50)
    crowded = Streams(7)
    for name in ("new_mechanism", "another", "zzz", "ehcp", "population"):
        crowded[name].uniform(IDS, 9)
        crowded[name].generator(2).random(10)
    np.testing.assert_array_equal(crowded["offroll"].uniform(IDS, 9), a_alone)
    np.testing.assert_array_equal(crowded["offroll"].generator(2).random(50), g_alone)


def test_streams_are_cached_by_name():
    s = Streams(3)
    assert s["a"] is s["a"]
    assert s["a"] is not s["b"]


def test_streams_refuse_a_bad_seed():
    with pytest.raises(ValueError, match="non-negative"):
        Streams(-1)
    with pytest.raises(ValueError):
        Streams(1.5)


def test_uniforms_have_the_right_distribution():
    n = 100_000
    u = Stream(2024, "stats").uniform(np.arange(n, dtype=np.int64), 0)
    assert u.min() >= 0.0 and u.max() < 1.0
    # Standard errors: mean sqrt(1/12/n) = 0.0009, variance sqrt((1/80 - 1/144)/n) = 0.00024.
    assert abs(u.mean() - 0.5) < 4 * 0.0009
    assert abs(u.var() - 1 / 12) < 4 * 0.00024
    # Even across deciles (chi-square with 9 df; 27.9 is the 0.999 quantile).
    counts = np.bincount((u * 10).astype(int), minlength=10)
    chi2 = ((counts - n / 10) ** 2 / (n / 10)).sum()
    assert chi2 < 27.9
    # Successive counters for one pupil look independent too.
    one = Stream(2024, "stats").uniform(np.zeros(n, dtype=np.int64), np.arange(n))
    assert abs(one.mean() - 0.5) < 4 * 0.0009
    assert abs(np.corrcoef(one[:-1], one[1:])[0, 1]) < 4 / np.sqrt(n)


def test_exponentials_have_mean_one():
    n = 100_000
    e = Stream(5, "exp").exponential(np.arange(n, dtype=np.int64), 0)
    assert e.min() >= 0.0
    assert abs(e.mean() - 1.0) < 4 / np.sqrt(n)


def test_generators_are_reproducible_and_distinct_by_counter():
    s = Stream(8, "cohort")
    np.testing.assert_array_equal(s.generator(3).random(20), Stream(8, "cohort").generator(3).random(20))
    assert not np.array_equal(s.generator(3).random(20), s.generator(4).random(20))
    assert not np.array_equal(s.generator(3).random(20), Stream(8, "arrivals").generator(3).random(20))


def test_empty_ids_give_no_draws():
    assert len(Stream(1, "e").uniform(np.zeros(0, dtype=np.int64), 3)) == 0


def test_few_ids_give_the_numbers_many_ids_give():
    # Up to a few ids are drawn in Python integers, more in numpy: both must give the same numbers.
    stream = Stream(11, "few")
    ids = np.array([0, 1, 7919, 2**24 + 3, 2**40 + 5, 2**62 + 9, 123456789, 42, 5, 6, 77, 2**31], dtype=np.int64)
    counters = np.array([0, 3, 1, 2**20, 7, 0, 5, 9, 4, 4, 2, 1], dtype=np.int32)
    many = stream.uniform(ids, 17)
    many_by_counter = stream.uniform(ids, counters)
    many_rows = stream.uniforms(ids, (3, 4, 5))
    for k in range(1, 9):
        np.testing.assert_array_equal(stream.uniform(ids[:k], 17), many[:k])
        np.testing.assert_array_equal(stream.uniform(ids[:k], counters[:k]), many_by_counter[:k])
        np.testing.assert_array_equal(stream.uniforms(ids[:k], (3, 4, 5)), many_rows[:, :k])
        np.testing.assert_array_equal(stream.exponential(ids[:k], 17), -np.log1p(-many[:k]))
