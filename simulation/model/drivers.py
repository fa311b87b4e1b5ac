"""Trends that really moved in 2018-2024, as explicit inputs by academic year.

The parameter defaults describe 2023/24. Each driver in ``data/drivers.csv`` is a published
series divided by its 2023/24 value, and scales the parameters it names in the year it describes:
post-pandemic absence, children's mental health, requests for EHC needs assessments and the
plans LAs issued, SEN prevalence among children arriving in the LA, and real school funding.
Before the first year of a series the first value holds, after the last the last: a spin-up
before 2018 is a stationary 2018/19 world, and years after the data carry no assumed trend.
Two links are fitted, not read. Need onset grows with the mental-health series at a fitted
elasticity. Schools' suspensions and permanent exclusions rose by about
two-thirds from 2021/22 to 2023/24 with nothing in the model to explain it (stricter behaviour
policies are the usual reading), so each hazard carries a fitted log-linear trend over those years:
the model reproduces that rise, it does not explain it.
Driving the model this way, rather than letting a start-up transient stand in for the trends, is
what lets the spin-up settle to the model's own state (see ``Scenario.burn_in``).
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import math
from pathlib import Path

DRIVERS_CSV = Path(__file__).resolve().parents[1] / "data" / "drivers.csv"
REFERENCE_YEAR = 2023  # the academic year (2023/24) the parameter defaults describe

# driver -> the parameters it multiplies
SCALES: dict[str, tuple[str, ...]] = {
    "absence": ("absence_base", "illness_spell_rate"),
    "ehcp_requests": ("ehcp_request_hazard",),
    "ehcp_assessments": ("assessment_capacity",),  # LAs' assessment output grew with demand
    "mental_health": ("stress_background",),  # probable mental disorder among children
}
# A driver raised to a fitted elasticity: (driver, parameter scaled, elasticity parameter).
ELASTIC: tuple[tuple[str, str, str], ...] = (("mental_health", "p_need_onset", "need_onset_mental_health_elasticity"),)
# Trends no published series measures, fitted instead: the hazard is exp(trend * (year - LAST))
# times its 2023/24 value for FIRST <= year <= LAST, held flat outside (trend parameter -> scaled).
FITTED_TRENDS: dict[str, str] = {"suspension_trend": "suspension_hazard", "exclusion_trend": "pex_hazard"}
FITTED_TREND_YEARS = (2021, REFERENCE_YEAR)  # 2021/22, after the closures, to 2023/24
# Real funding scales school support capacity (phase 3), beside the support_funding_change lever.
FUNDING = "school_funding"
# Prevalence among children drawn into the LA (the start population, Reception, arrivals).
PREVALENCE = {"ehcp_prevalence": "ehcp_share", "sen_support_prevalence": "sen_support_share"}
DRIVERS = (*SCALES, FUNDING, *PREVALENCE)


@functools.cache
def series(path: str = str(DRIVERS_CSV)) -> dict[str, dict[int, float]]:
    """driver -> {academic year: value relative to 2023/24}."""
    out: dict[str, dict[int, float]] = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            name = row["driver"]
            if name not in DRIVERS:
                raise ValueError(f"{path}: driver = {name!r} (allowed: {', '.join(DRIVERS)})")
            value = float(row["value"])
            if not value > 0:
                raise ValueError(f"{path}: {name} {row['academic_year']} value = {value} must be positive")
            out.setdefault(name, {})[int(row["academic_year"])] = value
    missing = [d for d in DRIVERS if d not in out]
    if missing:
        raise ValueError(f"{path}: no rows for driver {', '.join(missing)}")
    return out


def value(driver: str, year: int) -> float:
    """The driver in an academic year, held flat before and after its series."""
    by_year = series()[driver]
    first, last = min(by_year), max(by_year)
    return by_year[min(max(year, first), last)]


def apply(p: dict, year: int) -> None:
    """Scale a year's parameters in place (called once a year, before interventions adjust them)."""
    for driver, names in SCALES.items():
        k = value(driver, year)
        for name in names:
            p[name] = p[name] * k
    for driver, name, elasticity in ELASTIC:
        p[name] = p[name] * value(driver, year) ** p[elasticity]
    first, last = FITTED_TREND_YEARS
    for trend, name in FITTED_TRENDS.items():
        p[name] = p[name] * math.exp(p[trend] * (min(max(year, first), last) - last))


def prevalence_spec(spec, year: int):
    """The population spec with that year's SEN shares, for drawing new children."""
    changes = {field: getattr(spec, field) * value(d, year) for d, field in PREVALENCE.items()}
    return dataclasses.replace(spec, **changes)
