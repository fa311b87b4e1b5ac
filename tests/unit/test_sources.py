"""The three-way split of a paired effect's spread: chance, calibration, assumptions (nested ANOVA)."""
# (replicate r takes calibration draw r // 4, assumption draw r // 2 and its own seed)

import numpy as np
import pytest

from simulation.analysis.sources import describe, source_shares, sources_table


def _nested(rng, n_groups, sd_calibration, sd_assumptions, sd_chance, mean=-1.0):
    """Effects of 4 * n_groups replicates with the nested structure the draws give."""
    k = np.repeat(rng.normal(0, sd_calibration, n_groups), 4)
    a = np.repeat(rng.normal(0, sd_assumptions, 2 * n_groups), 2)
    return mean + k + a + rng.normal(0, sd_chance, 4 * n_groups)


@pytest.mark.parametrize(
    ("sds", "shares"),
    [
        ((2.0, 1.5, 1.0), (4 / 7.25, 2.25 / 7.25, 1 / 7.25)),  # all three
        ((0.0, 1.0, 1.0), (0.0, 0.5, 0.5)),  # no calibration uncertainty
        ((1.0, 0.0, 1.0), (0.5, 0.0, 0.5)),  # no assumptions
        ((0.0, 0.0, 1.0), (0.0, 0.0, 1.0)),  # chance alone
    ],
)
def test_the_split_recovers_known_components(sds, shares):
    rng = np.random.default_rng(20240611)
    n_groups = 4000
    effect = _nested(rng, n_groups, *sds)
    got = source_shares(np.arange(4 * n_groups), effect)
    assert got["draws"] == n_groups
    # A mean square on df degrees of freedom has relative standard error sqrt(2 / df). The worst case
    # is the calibration share of the first row: MS_groups (expected 21.5, 3,999 df) has SE 0.48,
    # MS_pairs (5.5, 4,000 df) 0.12, so sigma_k^2 = (MS_groups - MS_pairs) / 4 has SE 0.125, 0.017 of
    # the total 7.25 (the share's own SE is smaller, 0.010 over 200 simulated repeats, as the total moves
    # with it); the other shares' SEs are below 0.01. 0.06 is 3.5 of the bound and 6 of the simulated SE.
    for source, want in zip(("calibration", "assumptions", "chance"), shares, strict=True):
        assert got[f"{source}_share"] == pytest.approx(want, abs=0.06), source
    assert sum(got[f"{s}_share"] for s in ("chance", "calibration", "assumptions")) == pytest.approx(1.0)
    assert got["total_var"] == pytest.approx(sum(s**2 for s in sds), rel=0.1)
    # the mean's SE is sqrt(MS_groups / (4 g)), at most sqrt(21.5 / 16,000) = 0.037: 0.15 is 4 of them
    assert got["mean_effect"] == pytest.approx(-1.0, abs=0.15)
    assert got["effect_lo"] < got["mean_effect"] < got["effect_hi"]


def test_the_mean_squares_are_the_balanced_nested_formulas():
    # two groups, by hand: pair means 1, 3 | 5, 9; group means 2, 7; grand mean 4.5
    y = np.array([0.0, 2.0, 2.0, 4.0, 4.0, 6.0, 8.0, 10.0])
    got = source_shares(np.arange(8), y)
    ms_chance = (1 + 1 + 1 + 1 + 1 + 1 + 1 + 1) / 4  # within-pair squares, 2g = 4 df
    ms_pairs = 2 * (1 + 1 + 4 + 4) / 2  # pair means about group means, g = 2 df
    ms_groups = 4 * (2.5**2 + 2.5**2) / 1  # group means about the grand mean, g - 1 = 1 df
    assert got["chance_var"] == pytest.approx(ms_chance)
    assert got["assumptions_var"] == pytest.approx((ms_pairs - ms_chance) / 2)
    assert got["calibration_var"] == pytest.approx((ms_groups - ms_pairs) / 4)
    assert got["total_var"] == pytest.approx(ms_chance + (ms_pairs - ms_chance) / 2 + (ms_groups - ms_pairs) / 4)


def test_only_complete_groups_count():
    rng = np.random.default_rng(1)
    effect = rng.normal(size=12)
    # one complete group and part of another: too few for a between-group mean square
    one = source_shares(np.arange(7), effect[:7])
    assert one["draws"] == 1 and np.isnan(one["chance_share"]) and np.isnan(one["calibration_share"])
    # a non-finite effect knocks its group out; the partial third group (replicates 8-9) is ignored
    holed = effect[:10].copy()
    holed[5] = np.nan
    assert source_shares(np.arange(10), holed)["draws"] == 1
    # two complete groups of three (0-3, 8-11): the split uses them and ignores group 1's remains
    reps = np.array([0, 1, 2, 3, 4, 6, 8, 9, 10, 11])
    two = source_shares(reps, effect[reps])
    assert two["draws"] == 2
    assert two["chance_share"] + two["calibration_share"] + two["assumptions_share"] == pytest.approx(1.0)
    assert two == source_shares(np.array([0, 1, 2, 3, 8, 9, 10, 11]), effect[[0, 1, 2, 3, 8, 9, 10, 11]])
    # no spread at all: nothing to split, said so
    flat = source_shares(np.arange(8), np.zeros(8))
    assert flat["draws"] == 2 and flat["total_var"] == 0 and np.isnan(flat["chance_share"])


def test_the_table_pairs_by_replicate_and_says_it_in_a_line():
    import pandas as pd

    rng = np.random.default_rng(5)
    n = 40
    base = rng.normal(10, 1, n)
    summary = pd.DataFrame(
        {
            "scenario": ["base"] * n + ["policy"] * n,
            "replicate": list(range(n)) * 2,
            "x": np.concatenate([base, base + _nested(rng, n // 4, 1.0, 0.5, 0.2)]),
        }
    )
    table = sources_table(summary, "base", ["x", "missing"])
    assert list(table["metric"]) == ["x"] and table["draws"].iloc[0] == n // 4
    line = describe(table.iloc[0])
    assert line.startswith("policy: of the spread between replicates, ") and "% calibration" in line
    assert "too few" in describe(sources_table(summary[summary["replicate"] < 4], "base", ["x"]).iloc[0])
