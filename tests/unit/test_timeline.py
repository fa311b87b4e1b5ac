"""The academic calendar."""

import numpy as np

from simulation.model import timeline as tl


def test_there_are_39_term_weeks_in_52():
    assert tl.WEEKS_PER_YEAR == 52
    assert tl.N_TERM_WEEKS == 39
    assert int(tl.IS_TERM.sum()) == 39
    assert sum(last - first + 1 for first, last in tl.HALF_TERMS) == 39


def test_half_terms_are_ordered_and_separated_by_holidays():
    assert len(tl.HALF_TERMS) == 6
    for (f1, l1), (f2, l2) in zip(tl.HALF_TERMS, tl.HALF_TERMS[1:], strict=False):
        assert f1 <= l1 < f2 - 1 <= l2, "half terms must not touch: a holiday lies between"
    assert tl.HALF_TERMS[0][0] == 0
    assert tl.HALF_TERMS[-1][1] < tl.WEEKS_PER_YEAR - 1  # the summer holiday ends the year
    assert {last for _, last in tl.HALF_TERMS} == tl.HALF_TERM_ENDS


def test_census_weeks_are_term_weeks_in_order():
    weeks = [tl.CENSUS_WEEKS[k] for k in ("autumn", "spring", "summer")]
    assert weeks == sorted(weeks)
    for w in weeks:
        assert tl.is_term(w), f"census week {w} is a holiday"
    assert tl.AUTUMN_CENSUS <= tl.AUTUMN_TERM_END < tl.SPRING_CENSUS


def test_week_and_year_arithmetic():
    assert tl.week_of_year(0) == 0 and tl.week_of_year(53) == 1
    assert tl.academic_year(0, 2023) == 2023
    assert tl.academic_year(51, 2023) == 2023
    assert tl.academic_year(52, 2023) == 2024
    assert tl.is_term(0) and tl.is_term(52)
    assert not tl.is_term(tl.WEEKS_PER_YEAR - 1)


def test_exam_pressure_peaks_from_year_10_to_the_january_census():
    years = np.array([9, 10, 11])
    np.testing.assert_array_equal(tl.is_peak_pressure(years, 0), [False, True, True])
    np.testing.assert_array_equal(tl.is_peak_pressure(years, tl.SPRING_CENSUS), [False, True, True])
    np.testing.assert_array_equal(tl.is_peak_pressure(years, tl.SPRING_CENSUS + 1), [False, True, False])
