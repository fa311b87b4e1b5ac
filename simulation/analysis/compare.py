"""Compare scenarios with a baseline: paired differences under common random numbers, exits
averted and displaced by route, equality, and cost per child kept on a school roll.

``compare(baseline, others, replicates=N)`` runs every scenario on the same seeds (replicate r
of each uses seed S + r, S the baseline's seed), so each mechanism's random stream is shared and
a child the policy does not touch lives the same life in both runs. It returns a
:class:`Comparison` of tidy tables (``comparison["metrics"]``); ``school-exit compare`` is the
same call from the command line.

The counts (children leaving a roll, moves off a roll, children out of school, weeks of school
education lost) are defined once, in :data:`simulation.model.metrics.COUNTS`, and computed once,
in :mod:`.counts`; every table here and every figure of the report uses them. The rest:

- **Route**: the true reason (genuine home education; no-choice home education; pushed into
  home education by the school; off-rolled, destination unknown; permanent exclusion; Section
  19 after school distress) or the recorded one (elective home education; unexplained exit;
  permanent exclusion; Section 19 provision), of a child's first move off a roll in the year.
- **Averted / new / displaced** (children, year by year): a child (uid, the same child in both
  runs of a replicate) who left a roll in a year of the baseline run but not in that year under
  the policy is *averted*; one who left only under the policy is *new*; one who left in both by a
  different route is *displaced*. Net averted = averted - new = the paired difference of
  ``children_leaving_per_1000`` times the population / 1,000 (exactly: the same children are
  counted). A leaving delayed into the next year is averted in one year and new in the next; one
  delayed past the end of the window counts as averted. Capacity-limited services (places,
  queues) spread small changes to other children, so gross averted and new both include some
  reshuffling; the net figure is the policy's effect.
- **Pupil-weeks regained**: baseline minus policy pupil-weeks of school education lost
  (``weeks_education_lost_per_1000`` times the population / 1,000, summed over the years), in
  all and by component (home education; on a roll, missing or in Section 19).
- **Intervals**: a scenario's "p5-p95" is the 5-95% range across replicates; a paired difference
  comes with the 90% t-interval of its mean over replicates, beside the interval the same runs
  would give if they were unpaired (Welch). Risk ratios and cost per child kept on a roll use a
  bootstrap over replicates (2,000 resamples, fixed seed).
- **Equality**: a group (SEN status, primary need, FSM, child in need or looked after) is read
  from the child's record at their first move off a roll in the year; risk = children of the
  group leaving a roll a year per 1,000 children of the group (its share of the run's children
  at the end, times the 5-16 population), so "All children" is ``children_leaving_per_1000``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simulation.model.metrics import HEADLINE, HEADLINE_LABELS
from simulation.policy.scenario import Scenario, ScenarioError, load_scenario

from .counts import leavers
from .digest import RunDigest, pair_runs, run_digest
from .paired import (  # noqa: F401  (re-exported: the comparison's statistics)
    ALL_METRICS,
    EXTRA_METRICS,
    _displacement_summary,
    _summarise,
    bootstrap_ratio,
    cost_summary,
    crn_line,
    equality_summary,
    metric_table,
    t_interval,
    welch_interval,
)


class CompareFailed(RuntimeError):
    """A run of the comparison raised; the message holds the first traceback."""


@dataclass
class Comparison:
    """Tidy tables (``tables[name]`` or ``comparison[name]``) and what produced them."""

    tables: dict[str, pd.DataFrame]
    scenarios: list[Scenario]
    seeds: list[int]
    wall_seconds: float = 0.0
    workers: int = 1

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    @property
    def baseline(self) -> str:
        return self.scenarios[0].name


def align(
    baseline: Scenario, others: Sequence[Scenario], *, replicates=None, seed=None, scale=None, years=None
) -> list[Scenario]:
    """The scenarios with the baseline's (or the given) seed, replicates, scale, years and burn-in."""
    common = {
        "replicates": replicates or baseline.replicates,
        "seed": baseline.seed if seed is None else seed,
        "scale": scale or baseline.scale,
        "years": years or baseline.years,
        "burn_in": baseline.burn_in,
    }
    names = [baseline.name]
    for s in others:
        where = s.source or s.name
        if s.population != baseline.population:
            raise ScenarioError(
                f"{where}: population differs from the baseline's ({baseline.source or baseline.name}) "
                "(allowed: the same population; a comparison changes policy, not the local authority)"
            )
        if s.name in names:
            raise ScenarioError(f"{where}: name = {s.name!r} is used twice (allowed: a distinct name per scenario)")
        if s.posterior != baseline.posterior:
            raise ScenarioError(
                f"{where}: posterior = {s.posterior!r} differs from the baseline's ({baseline.posterior!r}) "
                "(allowed: the same posterior, so that replicate r of every scenario runs the same parameter set)"
            )
        names.append(s.name)
    return [s.with_(**common) for s in [baseline, *others]]


def load_all(paths: Sequence[str | Path]) -> list[Scenario]:
    """Load and validate scenario files, each checked fully before any run (see :func:`validate_file`)."""
    return [validate_file(p) for p in paths]


def validate_file(path: str | Path) -> Scenario:
    """:func:`load_scenario` plus the check it leaves to callers: interventions that set any shared
    lever in overlapping years."""
    from simulation.policy.registry import find_conflict

    path = Path(path)
    scenario = load_scenario(path)
    problem = find_conflict(scenario.interventions)
    if problem:
        raise ScenarioError(f"{path}: {problem}")
    return scenario


# --- one run --------------------------------------------------------------------------------------


def _cluster(scenario: Scenario) -> int:
    """Replicates that share a fitted-parameter draw (1 without a posterior): see Scenario.posterior_draw."""
    from simulation.policy.scenario import CALIBRATION_SEEDS_PER_DRAW

    return CALIBRATION_SEEDS_PER_DRAW if scenario.posterior and scenario.particle is None else 1


def compare(
    baseline: str | Path | Scenario,
    others: Sequence[str | Path | Scenario],
    *,
    replicates: int | None = None,
    workers: int | None = None,
    seed: int | None = None,
    scale: float | None = None,
    years: int | None = None,
    keep_events: bool = False,
    progress: bool | Callable[[int, int], None] = False,
    scheduler: str | None = None,
) -> Comparison:
    """Run the baseline and every other scenario on the same seeds and compare them (see module doc)."""
    from simulation.research.executors import Task, make_executor, run_tasks

    t0 = time.perf_counter()
    loaded = [s if isinstance(s, Scenario) else validate_file(s) for s in [baseline, *others]]
    scenarios = align(loaded[0], loaded[1:], replicates=replicates, seed=seed, scale=scale, years=years)
    n_rep = scenarios[0].replicates
    tasks = [Task(f"{i}-{r}", run_digest, (s, r, keep_events)) for i, s in enumerate(scenarios) for r in range(n_rep)]
    executor = make_executor(min(workers or os.cpu_count() or 1, len(tasks)), scheduler)
    try:
        report = run_tasks(tasks, executor, desc="compare", progress=progress)
    finally:
        executor.close()
    if report.failed:
        raise CompareFailed(
            f"{len(report.failed)} of {len(tasks)} runs failed; the first:\n{next(iter(report.failed.values()))}"
        )
    digests = [report.outcomes[t.key].value for t in tasks]
    tables = tabulate(digests, scenarios)
    return Comparison(
        tables,
        scenarios,
        [scenarios[0].seed + r for r in range(n_rep)],
        time.perf_counter() - t0,
        getattr(executor, "workers", 1),
    )


def tabulate(digests: list[RunDigest], scenarios: list[Scenario]) -> dict[str, pd.DataFrame]:
    """Every table of a comparison from the run digests (baseline first, in job order)."""
    names = [s.name for s in scenarios]
    n_years = scenarios[0].years
    years = pd.concat([d.years for d in digests], ignore_index=True)
    metric_cols = [c for c in ALL_METRICS if c in years.columns]
    summary = years.groupby(["scenario", "replicate", "seed", "la"], sort=False)[metric_cols].mean().reset_index()
    base = {d.replicate: d for d in digests if d.scenario == names[0]}
    averted, pairs, groups = [], [], []
    for d in digests:
        if d.scenario != names[0]:
            a, p, g = pair_runs(base[d.replicate], d, n_years)
            averted += a
            pairs += p
            groups += g
    routes = []
    for d in digests:
        children = leavers(d.exits)
        for view in ("true", "recorded"):
            col = f"{view}_route"
            n_children = children.groupby([children.index.get_level_values("academic_year"), col]).size()
            n_moves = d.exits.groupby(["academic_year", col]).size()
            for (year, route), n in n_moves.items():
                routes.append(
                    {
                        "scenario": d.scenario,
                        "replicate": d.replicate,
                        "academic_year": year,
                        "view": view,
                        "route": route,
                        "children": n_children.get((year, route), 0) * d.weight,
                        "moves": n * d.weight,
                    }
                )
    exit_routes = pd.DataFrame(
        routes, columns=["scenario", "replicate", "academic_year", "view", "route", "children", "moves"]
    )
    averted_df = pd.DataFrame(averted)
    eq = pd.DataFrame(groups)
    costs = pd.concat([d.costs.assign(scenario=d.scenario, replicate=d.replicate) for d in digests], ignore_index=True)
    costs = costs.astype({"academic_year": int, "cost_gbp": float, "units": float, "cost_estimated": bool})
    tables = {
        "metrics": metric_table(summary, names[0], cluster=_cluster(scenarios[0])),
        "summary": summary,
        "years": years,
        "weeks": pd.concat([d.weeks for d in digests], ignore_index=True),
        "exit_routes": exit_routes,
        "ehcp_waits": pd.concat(
            [d.ehcp_waits.assign(scenario=d.scenario, replicate=d.replicate) for d in digests], ignore_index=True
        ),
        "costs": costs,
    }
    if len(names) > 1:
        tables["averted"] = averted_df
        tables["averted_summary"] = _summarise(averted_df, ["scenario", "view", "measure", "route", "unit"], "per_year")
        disp = pd.DataFrame(pairs, columns=["scenario", "replicate", "view", "from_route", "to_route", "children"])
        tables["displacement"] = disp
        tables["displacement_summary"] = _displacement_summary(disp, scenarios[0].replicates, n_years)
        tables["equality"] = eq
        tables["equality_summary"] = equality_summary(eq)
        tables["cost_summary"] = cost_summary(costs, averted_df, names[1:], cluster=_cluster(scenarios[0]))
    if any(d.events is not None for d in digests):
        tables["events"] = pd.concat([d.events for d in digests if d.events is not None], ignore_index=True)
    return tables


# --- writing and printing -------------------------------------------------------------------------


def write(comparison: Comparison, out: Path, command: list[str] | None = None) -> None:
    """Every table as Parquet and CSV, and ``manifest.json`` (scenarios, interventions, seeds, timing)."""
    from simulation.research import store

    out.mkdir(parents=True, exist_ok=True)
    for name, df in comparison.tables.items():
        store.write_table(df, out, name)
    scenarios = []
    for s in comparison.scenarios:
        d = s.to_dict()
        d["source"], d["sha256"] = s.source, s.sha256
        d["interventions_described"] = [
            {**type(iv).describe(), "settings": d["interventions"][i]} for i, iv in enumerate(s.interventions)
        ]
        scenarios.append(d)
    manifest = {
        "kind": "compare",
        "command": command,
        "baseline": comparison.baseline,
        "scenarios": scenarios,
        "replicates": comparison.scenarios[0].replicates,
        "seeds": comparison.seeds,
        "workers": comparison.workers,
        "wall_seconds": round(comparison.wall_seconds, 2),
        "tables": sorted(comparison.tables),
        "environment": store.environment(),
    }
    store.write_json(manifest, out / "manifest.json")


def format_cell(x: float) -> str:
    from .targets import _fmt_cell

    return _fmt_cell(float(x), 3)


def headline_table(metrics: pd.DataFrame, baseline: str, metrics_shown: Sequence[str] = HEADLINE) -> pd.DataFrame:
    """Baseline mean, scenario mean and paired difference with its 90% interval, as text cells; each
    measure by its label for people (:data:`HEADLINE_LABELS`), its code in ``metrics.csv``."""
    rows = []
    shown = metrics[metrics["metric"].isin(metrics_shown) & (metrics["scenario"] != baseline)]
    order = {m: i for i, m in enumerate(metrics_shown)}
    shown = shown.sort_values("metric", key=lambda m: m.map(order), kind="stable").sort_values(
        "scenario", key=lambda s: s.map({n: i for i, n in enumerate(dict.fromkeys(metrics["scenario"]))}), kind="stable"
    )
    for _, r in shown.iterrows():
        rows.append(
            {
                "scenario": r["scenario"],
                "measure": HEADLINE_LABELS.get(r["metric"], (r["metric"],))[0],
                "baseline": format_cell(r["baseline_mean"]),
                "scenario mean": format_cell(r["mean"]),
                "difference (90% CI)": (
                    f"{format_cell(r['diff'])} ({format_cell(r['diff_lo'])} to {format_cell(r['diff_hi'])})"
                ),
                "unit": r["unit"],
            }
        )
    return pd.DataFrame(
        rows, columns=["scenario", "measure", "baseline", "scenario mean", "difference (90% CI)", "unit"]
    )
