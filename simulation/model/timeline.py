"""The academic calendar: 52 weeks from the first week of September.

Term weeks are the 39 weeks schools are open (six half terms); census days are
the October, January and May school-census Thursdays, mapped to the week they
fall in. Every phase of the step asks this module, never a hard-coded week.
"""

from __future__ import annotations

import numpy as np

WEEKS_PER_YEAR = 52
SESSIONS_PER_WEEK = 10

# (first week, last week) of each half term, inclusive.
HALF_TERMS: tuple[tuple[int, int], ...] = ((0, 7), (9, 15), (18, 23), (25, 30), (33, 37), (39, 45))
AUTUMN_CENSUS = 5  # first Thursday in October
SPRING_CENSUS = 20  # third Thursday in January
SUMMER_CENSUS = 37  # third Thursday in May
CENSUS_WEEKS = {"autumn": AUTUMN_CENSUS, "spring": SPRING_CENSUS, "summer": SUMMER_CENSUS}
AUTUMN_TERM_END = 15  # last week of the autumn term (termly absence statistics)
SEPTEMBER_WEEKS = 3  # weeks at the start of the year that carry the September return peak
Y7_TRANSITION_WEEKS = 6

IS_TERM = np.zeros(WEEKS_PER_YEAR, dtype=bool)
for _first, _last in HALF_TERMS:
    IS_TERM[_first : _last + 1] = True
HALF_TERM_ENDS = frozenset(last for _, last in HALF_TERMS)
N_TERM_WEEKS = int(IS_TERM.sum())
assert N_TERM_WEEKS == 39


def week_of_year(t_week: int) -> int:
    return t_week % WEEKS_PER_YEAR


def academic_year(t_week: int, start_year: int) -> int:
    """Calendar year in which the academic year of ``t_week`` starts (2025 for 2025/26)."""
    return start_year + t_week // WEEKS_PER_YEAR


def is_term(t_week: int) -> bool:
    return bool(IS_TERM[t_week % WEEKS_PER_YEAR])


def is_peak_pressure(year_group: np.ndarray, week: int) -> np.ndarray:
    """Performance-table pressure peaks from Y10 autumn to the Y11 January census."""
    return (year_group == 10) | ((year_group == 11) & (week <= SPRING_CENSUS))
