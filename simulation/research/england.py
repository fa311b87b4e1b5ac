"""All of England: one LA model per row of an LA table, run in parallel, then summed.

The LA table is a CSV with one row per local authority (the packaged default is
``data/england_las.csv``, drawn by ``experiments/make_england_las.py`` to match national
totals and published spreads; a user can pass their own file). Its columns are:

- ``la`` (required, unique), ``name``, ``region``: identifiers;
- any scalar field of :class:`~simulation.model.population.PopulationSpec` (``n_pupils``,
  ``n_primary``, ``ehcp_share``, ...): the LA's population; missing fields keep the scenario's;
- any registry parameter (``assessment_capacity``, ``special_places_ratio``, ...): an LA
  override on top of the scenario's parameters (EHCP timeliness enters this way, through
  ``assessment_capacity``);
- ``ehcp_timely_pct``: information only (the published-style timeliness the capacity was set from).

Every LA runs as its own model with its own seed, :func:`la_seed` (the national total is a sum
of independent LAs; the same LA and replicate share their random numbers across scenarios).
National rows (``la = "England"``) are sums of counts and rates over LAs: a rate whose
denominator is the 5-16 population (``_pct`` of population, ``_per_1000``) or the entrants to
home education is recomputed exactly from numerators and denominators; other rates (on-roll
or enrolled denominators, EHCP process shares) are weighted by ``n_pupils`` or by EHCP
requests, a close approximation (:data:`AGGREGATION` says which).
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.model.params import PARAMS, ParameterError
from simulation.model.population import PopulationSpec
from simulation.policy.scenario import Scenario

from .runner import ID_COLUMNS, RunSpec, summarise

LA_TABLE = Path(__file__).resolve().parents[1] / "data" / "england_las.csv"
NATIONAL = "England"
IDENTIFIERS = ("la", "name", "region")
INFORMATION = ("ehcp_timely_pct",)
_POP_FIELDS = {
    f.name: f for f in dataclasses.fields(PopulationSpec) if not isinstance(getattr(PopulationSpec(), f.name), tuple)
}


class LATableError(ValueError):
    """An LA table that cannot be used; the message names the file, the row and the column."""


def load_las(path: str | Path | None = None) -> pd.DataFrame:
    """Read and check an LA table (default: the packaged one)."""
    path = Path(path) if path is not None else LA_TABLE
    if not path.is_file():
        raise LATableError(f"{path}: LA table not found")
    try:
        df = pd.read_csv(path, dtype={"la": str, "name": str, "region": str})
    except Exception as exc:
        raise LATableError(f"{path}: cannot read CSV ({type(exc).__name__}: {exc})") from None
    if "la" not in df.columns:
        raise LATableError(f"{path}: no 'la' column (one row per local authority, with its code in 'la')")
    if df.empty:
        raise LATableError(f"{path}: no rows")
    codes = df["la"]
    if codes.isna().any() or (codes.str.strip() == "").any():
        raise LATableError(f"{path}: row {int(np.flatnonzero(codes.isna() | (codes == ''))[0]) + 2}: empty 'la'")
    dup = codes[codes.duplicated()]
    if len(dup):
        raise LATableError(f"{path}: la {dup.iloc[0]!r} appears twice")
    if (codes == NATIONAL).any():
        raise LATableError(f"{path}: la {NATIONAL!r} is reserved for the national rows")
    allowed = [*IDENTIFIERS, *INFORMATION, *_POP_FIELDS, *PARAMS]
    for col in df.columns:
        if col not in allowed:
            raise LATableError(
                f"{path}: column {col!r} is not an LA characteristic (allowed: la, name, region, ehcp_timely_pct, "
                "population fields such as n_pupils or ehcp_share, and registry parameters)"
            )
    for i, row in enumerate(df.to_dict("records")):
        where = f"{path}: row {i + 2} (la {row['la']})"
        for col in df.columns:
            if col in IDENTIFIERS:
                continue
            value = row[col]
            if pd.isna(value):
                raise LATableError(f"{where}: {col} is empty")
            if col in PARAMS:
                try:
                    PARAMS[col].check(float(value), where)
                except ParameterError as exc:
                    raise LATableError(str(exc)) from None
        try:
            la_population(PopulationSpec(), row)
        except (ValueError, TypeError) as exc:
            raise LATableError(f"{where}: {exc}") from None
    return df


def la_population(base: PopulationSpec, row: dict) -> PopulationSpec:
    """The LA's population: the scenario's, with the table's fields."""
    changes = {}
    for name in _POP_FIELDS:
        if name in row and not pd.isna(row[name]):
            value = row[name]
            kind = type(getattr(base, name))
            if kind is int and float(value) != int(value):
                raise ValueError(f"{name} = {value!r} must be a whole number")
            changes[name] = kind(value)
    return dataclasses.replace(base, **changes)


def la_seed(seed: int, la: str) -> int:
    """The seed of LA ``la`` in the replicate whose base seed is ``seed``: a hash, so LAs draw
    independent numbers and adding an LA changes no other."""
    digest = hashlib.sha256(f"{seed}:{la}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def england_specs(scenario: Scenario, las: pd.DataFrame, *, record_events: bool = False) -> list[RunSpec]:
    """One run per LA and replicate (LA by LA, replicates inside)."""
    specs = []
    for row in las.to_dict("records"):
        params = {k: row[k] for k in las.columns if k in PARAMS}
        params = {k: (int(v) if PARAMS[k].integer else float(v)) for k, v in params.items()}
        la_scen = scenario.with_(
            population=la_population(scenario.population, row), parameters={**scenario.parameters, **params}
        )
        for r in range(scenario.replicates):
            rep_scen = la_scen
            if scenario.posterior:  # one parameter set per replicate, shared by every LA (national uncertainty)
                rep_scen = la_scen.with_(particle=scenario.posterior_draw(scenario.seed + r)[0])
            specs.append(
                RunSpec(rep_scen, r, la_seed(scenario.seed + r, row["la"]), la=row["la"], record_events=record_events)
            )
    return specs


# --- national rows ------------------------------------------------------------------------

_ENTRANTS = ("ehe_sen_pct", "ehe_ehcp_pct", "ehe_y10_11_pct", "ehe_entrants_prior_absence_pct", "ehe_coerced_pct")
_EHCP_PROCESS = (
    "ehcp_refusal_pct",
    "ehcp_timely_pct",
    "ehcp_over_52w_pct",
    "ehcp_mean_wait_weeks",
    "tribunal_appeal_pct",
    "tribunal_win_pct",
)


def _aggregation() -> dict[str, tuple[str, bool]]:
    """metric -> (how, exact): ``sum``, or a weighted mean by ``n_pupils``, ``entrants`` or ``requests``."""
    from simulation.model.metrics import METRICS

    rules = {}
    for m in METRICS:
        if m in ("n_pupils", "ehcp_requests"):
            rules[m] = ("sum", True)
        elif m in _ENTRANTS:
            rules[m] = ("entrants", True)
        elif m in _EHCP_PROCESS:
            rules[m] = ("requests", False)
        else:
            exact = m.startswith(("ehe_census", "ehe_anypoint", "ehe_entries", "ehe_returns", "cme_")) or m.endswith(
                "_per_1000"
            )
            rules[m] = ("n_pupils", exact)
    return rules


AGGREGATION = _aggregation()


def national_years(years: pd.DataFrame, base_seed: int) -> pd.DataFrame:
    """National rows of the ``years`` table: one per scenario, replicate and academic year."""
    df = years.copy()
    df["_w_n_pupils"] = df["n_pupils"]
    df["_w_requests"] = df["ehcp_requests"]
    df["_w_entrants"] = df["ehe_entries_pct"] * df["n_pupils"]
    keys = ["scenario", "replicate", "academic_year"]
    rows = []
    for (scen, rep, year), g in df.groupby(keys, sort=False):
        row = {"scenario": scen, "replicate": rep, "seed": base_seed + int(rep), "la": NATIONAL, "academic_year": year}
        for m, (how, _) in AGGREGATION.items():
            if m not in g.columns:
                continue
            v = g[m].to_numpy(dtype=float)
            if how == "sum":
                row[m] = float(np.nansum(v))
                continue
            w = g[f"_w_{how}"].to_numpy(dtype=float)
            ok = np.isfinite(v) & np.isfinite(w) & (w > 0)
            row[m] = float(np.sum(v[ok] * w[ok]) / np.sum(w[ok])) if ok.any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=list(years.columns))


def national_weeks(weeks: pd.DataFrame, base_seed: int) -> pd.DataFrame:
    keys = ["scenario", "replicate", "academic_year", "t_week", "week"]
    counted = [c for c in weeks.columns if c not in (*ID_COLUMNS, *keys)]
    nat = weeks.groupby(keys, sort=False)[counted].sum().reset_index()
    nat["seed"] = base_seed + nat["replicate"].astype(int)
    nat["la"] = NATIONAL
    return nat[list(weeks.columns)]


def add_national(tables: dict[str, pd.DataFrame], base_seed: int) -> dict[str, pd.DataFrame]:
    """The LA tables with the national rows appended (``la = "England"``)."""
    years = national_years(tables["years"], base_seed)
    out = dict(tables)
    out["years"] = pd.concat([tables["years"], years], ignore_index=True)
    out["weeks"] = pd.concat([tables["weeks"], national_weeks(tables["weeks"], base_seed)], ignore_index=True)
    out["summary"] = pd.concat([tables["summary"], summarise(years)], ignore_index=True)
    return out


# --- small counts -------------------------------------------------------------------------

SUPPRESS_BELOW = 5  # counts of 1 to 4 children are not published (DfE and ONS practice)


def count_behind(metric: str, years: pd.DataFrame) -> pd.Series:
    """The number of children (or events) behind a rate, to decide suppression.

    Exact for rates of the 5-16 population; for others an estimate: on-roll and enrolled
    denominators are taken as ``n_pupils``, plans as requests agreed for assessment, and the
    synthetic-cohort exit share as a share of one year group (``n_pupils / 12``)."""
    n = years["n_pupils"]
    value = years[metric]
    if metric == "ehcp_timely_pct" or metric == "ehcp_over_52w_pct":
        return value / 100 * years["ehcp_requests"] * (1 - years["ehcp_refusal_pct"].fillna(0) / 100)
    if metric == "unexplained_exit_cohort_pct":
        return value / 100 * n / 12
    if metric.endswith("_per_1000"):
        return value / 1000 * n
    if metric.endswith("_pct") or metric.endswith("_rate"):
        return value / 100 * n
    return pd.Series(np.inf, index=years.index)


def small_multiples_table(years: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Per LA (and England), academic year and metric: the median over replicates, the count behind
    it rounded to the nearest 5, and whether it is suppressed (a count under 5: value and count
    are then not shown)."""
    parts = []
    for m in metrics:
        if m not in years.columns:
            continue
        d = years[["la", "academic_year", "replicate"]].copy()
        d["value"] = years[m]
        d["count"] = count_behind(m, years)
        med = d.groupby(["la", "academic_year"], sort=False)[["value", "count"]].median().reset_index()
        med.insert(0, "metric", m)
        parts.append(med)
    t = pd.concat(parts, ignore_index=True)
    t["suppressed"] = t["count"] < SUPPRESS_BELOW
    rounded = (5 * np.round(t["count"].replace(np.inf, np.nan) / 5)).astype("Float64")
    t["count_shown"] = np.where(t["suppressed"], "<5", rounded.astype(str).replace("<NA>", ""))
    t.loc[t["suppressed"], "value"] = np.nan
    return t.drop(columns="count")
