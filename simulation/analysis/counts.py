"""The counts of the metric catalogue (:data:`simulation.model.metrics.COUNTS`), computed once.

Every table and figure that shows children leaving a roll, moves off a roll, children out of
school or weeks of education lost reads it from here, so the same words always mean the same
number. The definitions are in the catalogue; this module only computes them from a run's event
log (its moves off a roll), its ``weeks`` table and its ``years`` rows.

Rates are per 1,000 children of the LA's 5-16 population (``n_pupils``), so ``rate * n_pupils /
1000`` is a number of children (or pupil-weeks) in the whole LA: :func:`whole_la` is that product,
and the comparison's averted and regained tables are built from the same numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.model import timeline as tl
from simulation.model.metrics import COUNTS
from simulation.model.state import Kind, Status

EXIT_FROM = (Status.ON_ROLL, Status.SPECIAL)  # a school roll
EXIT_TO = (Status.AP, Status.S19, Status.EHE, Status.CME)  # leaving it
OUT_OF_SCHOOL = {"ehe": "Home education", "cme": "Missing education", "s19": "Section 19"}
# Components of weeks_education_lost_per_1000, as pupil-weeks (whole LA) in the averted table.
WEEKS_LOST_PARTS = {
    "ehe_term_weeks_per_1000": "Home education",
    "pupil_weeks_missed_per_1000": "On a roll, missing education or in Section 19",
}
ALL_WEEKS_LOST = "All weeks lost"


def is_exit(events: pd.DataFrame) -> pd.Series:
    """Moves off a school roll: the event rows every count of leaving is built from."""
    return (events["kind"] == Kind.MOVE) & events["from_status"].isin(EXIT_FROM) & events["to_status"].isin(EXIT_TO)


def leavers(exits: pd.DataFrame) -> pd.DataFrame:
    """Children leaving a roll: one row per academic year and child (``uid``), their first move off
    a roll that year (its route and the child's record at that move), indexed by (year, uid)."""
    first = exits.sort_values("week", kind="stable").drop_duplicates(["academic_year", "uid"])
    return first.set_index(["academic_year", "uid"]).sort_index()


def add_counts(years: pd.DataFrame, exits: pd.DataFrame, weeks: pd.DataFrame, weight: float) -> pd.DataFrame:
    """``years`` (one run, one LA) with the :data:`COUNTS` columns added.

    ``exits`` holds the run's moves off a roll (``academic_year``, ``uid``; unweighted rows),
    ``weeks`` its weekly counts by status (weighted), ``weight`` the children one simulated child
    stands for."""
    years = years.copy()
    pop = years["n_pupils"].to_numpy(float)
    year = years["academic_year"]
    moves = exits.groupby("academic_year").size()
    children = exits.drop_duplicates(["academic_year", "uid"]).groupby("academic_year").size()
    years["children_leaving_per_1000"] = 1000.0 * year.map(children).fillna(0).to_numpy(float) * weight / pop
    years["exits_per_1000"] = 1000.0 * year.map(moves).fillna(0).to_numpy(float) * weight / pop
    term = weeks[tl.IS_TERM[weeks["week"].to_numpy()]]
    by_year = term.groupby("academic_year")
    out = by_year[list(OUT_OF_SCHOOL)].sum().sum(axis=1) / by_year.size()
    years["children_out_of_school_per_1000"] = 1000.0 * year.map(out).fillna(0).to_numpy(float) / pop
    ehe = by_year["ehe"].sum()
    years["ehe_term_weeks_per_1000"] = 1000.0 * year.map(ehe).fillna(0).to_numpy(float) / pop
    years["weeks_education_lost_per_1000"] = years["pupil_weeks_missed_per_1000"] + years["ehe_term_weeks_per_1000"]
    return years[[*[c for c in years.columns if c not in COUNTS], *COUNTS]]


def whole_la(years: pd.DataFrame, metric: str) -> np.ndarray:
    """A rate per 1,000 as a number in the whole LA, per row: ``metric * n_pupils / 1000``."""
    return years[metric].to_numpy(float) * years["n_pupils"].to_numpy(float) / 1000.0


def pupil_weeks_lost(years: pd.DataFrame) -> dict[str, float]:
    """Pupil-weeks of school education lost over a run's evaluation years (whole LA), by component
    of ``weeks_education_lost_per_1000`` and in all (:data:`ALL_WEEKS_LOST`)."""
    parts = {label: float(whole_la(years, m).sum()) for m, label in WEEKS_LOST_PARTS.items()}
    parts[ALL_WEEKS_LOST] = float(whole_la(years, "weeks_education_lost_per_1000").sum())
    return parts


def group_population(counts: dict[str, float], years: pd.DataFrame, everyone: str) -> dict[str, float]:
    """Children in each group: the group's share of the run's children at its end, times the mean
    5-16 population, so the whole population (``everyone``) is exactly the rates' denominator."""
    pop = float(years["n_pupils"].mean())
    total = counts[everyone]
    return {g: pop * n / total if total else 0.0 for g, n in counts.items()}
