"""The time-varying drivers: published series relative to 2023/24, held flat outside their years."""

from __future__ import annotations

import csv
import math

import pytest

from simulation.model import drivers
from simulation.model.params import resolve
from simulation.model.population import REFERENCE_LA


def test_every_value_is_its_published_figure_over_the_2023_24_figure():
    with open(drivers.DRIVERS_CSV, newline="") as f:
        rows = list(csv.DictReader(f))
    by_driver: dict[str, dict[int, float]] = {}
    for r in rows:
        if r["published"]:
            by_driver.setdefault(r["driver"], {})[int(r["academic_year"])] = float(r["published"])
    assert set(by_driver) >= {"absence", "ehcp_requests", "ehcp_prevalence", "sen_support_prevalence"}
    for name, published in by_driver.items():
        for year, figure in published.items():
            # rounded to 3 decimals in the file
            assert drivers.value(name, year) == pytest.approx(figure / published[drivers.REFERENCE_YEAR], abs=6e-4)


def test_each_series_is_one_in_the_reference_year_and_flat_outside_its_data():
    for name, series in drivers.series().items():
        assert series[drivers.REFERENCE_YEAR] == 1.0, name
        first, last = min(series), max(series)
        assert drivers.value(name, first - 5) == series[first]
        assert drivers.value(name, last + 5) == series[last]


def test_apply_scales_only_the_named_parameters():
    p = resolve({"need_onset_mental_health_elasticity": 1.0})  # its default 0 leaves onset unscaled
    q = dict(p)
    drivers.apply(q, 2018)
    scaled = {name for names in drivers.SCALES.values() for name in names}
    scaled |= {name for _, name, _ in drivers.ELASTIC} | set(drivers.FITTED_TRENDS.values())
    for name in p:
        if name in scaled:
            assert q[name] < p[name], name  # every series was lower in 2018/19 than in 2023/24
        else:
            assert q[name] == p[name], name
    drivers.apply(q := dict(p), drivers.REFERENCE_YEAR)
    assert q == p


def test_prevalence_spec_scales_the_sen_shares_for_new_children():
    spec = drivers.prevalence_spec(REFERENCE_LA, 2018)
    assert spec.ehcp_share == pytest.approx(REFERENCE_LA.ehcp_share * 3.1 / 4.8, rel=1e-3)
    assert spec.sen_support_share == pytest.approx(REFERENCE_LA.sen_support_share * 11.9 / 13.6, rel=1e-3)
    assert spec.n_pupils == REFERENCE_LA.n_pupils


def test_a_bad_file_names_itself_and_the_key(tmp_path):
    bad = tmp_path / "drivers.csv"
    bad.write_text("driver,academic_year,value,published,source\nweather,2020,1.0,,x\n")
    with pytest.raises(ValueError, match=r"drivers.csv: driver = 'weather' \(allowed: absence"):
        drivers.series(str(bad))
    bad.write_text("driver,academic_year,value,published,source\nabsence,2020,0,,x\n")
    with pytest.raises(ValueError, match=r"absence 2020 value = 0\.0 must be positive"):
        drivers.series(str(bad))


def test_fitted_trends_are_log_linear_from_2021_22_to_2023_24_and_flat_outside():
    p = resolve({"suspension_trend": 0.3, "exclusion_trend": -0.1})
    first, last = drivers.FITTED_TREND_YEARS
    assert (first, last) == (2021, drivers.REFERENCE_YEAR)
    for year, steps in [(2015, -2), (2021, -2), (2022, -1), (2023, 0), (2030, 0)]:
        q = dict(p)
        drivers.apply(q, year)
        mh = drivers.value("mental_health", year)  # stress_background's driver, not a trend
        assert q["suspension_hazard"] == pytest.approx(p["suspension_hazard"] * math.exp(0.3 * steps)), year
        assert q["pex_hazard"] == pytest.approx(p["pex_hazard"] * math.exp(-0.1 * steps)), year
        assert q["stress_background"] == pytest.approx(p["stress_background"] * mh), year


def test_need_onset_follows_mental_health_at_its_elasticity():
    for elasticity in (0.0, 1.0, 2.5):
        q = resolve({"need_onset_mental_health_elasticity": elasticity})
        base = q["p_need_onset"]
        drivers.apply(q, 2018)
        assert q["p_need_onset"] == pytest.approx(base * drivers.value("mental_health", 2018) ** elasticity)
