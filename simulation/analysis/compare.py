"""Compare scenarios with a baseline: paired differences under common random numbers, exits
averted and displaced by route, equality, and cost per exit averted.

``compare(baseline, others, replicates=N)`` runs every scenario on the same seeds (replicate r
of each uses seed S + r, S the baseline's seed), so each mechanism's random stream is shared and
a child the policy does not touch lives the same life in both runs. It returns a
:class:`Comparison` of tidy tables (``comparison["metrics"]``); ``school-exit compare`` is the
same call from the command line.

Definitions (documented here once; the report repeats them):

- **Exit**: a move off a school roll (mainstream or special) into home education (EHE),
  missing education (CME), alternative provision (AP) or Section 19 provision. Moving away,
  ageing out, transfers and managed moves to another school are not exits.
- **Route**: the true reason (genuine home education; no-choice home education; pushed into
  home education by the school; off-rolled, destination unknown; permanent exclusion; Section
  19 after school distress) or the recorded one (elective home education; unexplained exit;
  permanent exclusion; Section 19 provision).
- **Averted / new / displaced** (children, over the evaluation window): a child (uid, the same
  child in both runs of a replicate) who left a roll in the baseline run but not under the
  policy is *averted*; one who left only under the policy is *new*; one who left in both by a
  different route (of their first exit) is *displaced*. Net exits averted = averted - new.
  Capacity-limited services (places, queues) spread small changes to other children, so gross
  averted and new both include some reshuffling; the net figure is the policy's effect. An exit
  delayed past the end of the window counts as averted.
- **Pupil-weeks out of school**: term weeks in EHE, CME or Section 19 provision (weighted);
  regained = baseline minus policy.
- **Intervals**: a scenario's "p5-p95" is the 5-95% range across replicates; a paired difference
  comes with the 90% t-interval of its mean over replicates, beside the interval the same runs
  would give if they were unpaired (Welch). Risk ratios and cost per exit averted use a
  bootstrap over replicates (2,000 resamples, fixed seed).
- **Equality**: a group (SEN status, primary need, FSM, child in need or looked after) is read
  from the child's record at exit; risk = children leaving per 1,000 children of the group
  present at the end of the run, per year.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.model import timeline as tl
from simulation.model.metrics import HEADLINE
from simulation.model.state import Kind, Reason, Status
from simulation.policy.scenario import Scenario, ScenarioError, load_scenario
from simulation.research.runner import run

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

TRUE_ROUTES = {
    Reason.GENUINE_EHE: "Home education: genuine choice",
    Reason.NO_CHOICE_EHE: "Home education: no choice",
    Reason.COERCED_EHE: "Home education: pushed by school",
    Reason.OFFROLLED_UNKNOWN: "Off-rolled: destination unknown",
    Reason.PERMANENT_EXCLUSION: "Permanent exclusion",
    Reason.S19_PROVISION: "Section 19 after school distress",
}
RECORDED_ROUTES = {
    Reason.ELECTIVE_EHE: "Elective home education",
    Reason.UNEXPLAINED: "Unexplained exit (missing education)",
    Reason.PERMANENT_EXCLUSION: "Permanent exclusion",
    Reason.S19_PROVISION: "Section 19 provision",
}
ALL_ROUTES = "All routes"
GROUPS: dict[str, Callable[[dict], np.ndarray]] = {
    "All children": lambda c: np.ones(len(c["sen"]), bool),
    "No SEN": lambda c: c["sen"] == 0,
    "SEN support": lambda c: c["sen"] == 1,
    "EHC plan": lambda c: c["sen"] == 2,
    "Need: autism": lambda c: c["need"] == 1,
    "Need: speech, language, communication": lambda c: c["need"] == 2,
    "Need: social, emotional, mental health": lambda c: c["need"] == 3,
    "Need: moderate learning difficulty": lambda c: c["need"] == 4,
    "Need: physical or medical": lambda c: c["need"] == 5,
    "Need: other": lambda c: c["need"] == 6,
    "Free school meals": lambda c: c["fsm"].astype(bool),
    "No free school meals": lambda c: ~c["fsm"].astype(bool),
    "Child in need or looked after": lambda c: c["social_care"].astype(bool),
}
_EXIT_FROM = (Status.ON_ROLL, Status.SPECIAL)
_EXIT_TO = (Status.AP, Status.S19, Status.EHE, Status.CME)
_OUT = {"ehe": "Home education", "cme": "Missing education", "s19": "Section 19"}


class CompareFailed(RuntimeError):
    """A run of the comparison raised; the message holds the first traceback."""


@dataclass
class RunDigest:
    """What a comparison keeps of one run (computed in the worker; the model is dropped)."""

    scenario: str
    replicate: int
    seed: int
    weight: float
    years: pd.DataFrame
    weeks: pd.DataFrame
    exits: pd.DataFrame
    ehcp_waits: pd.DataFrame
    groups: dict[str, float]
    costs: pd.DataFrame
    events: pd.DataFrame | None = None
    seconds: float = 0.0


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
    """:func:`load_scenario` plus the checks it leaves to callers: a missing ``extends`` target named
    by key, and interventions that set any shared lever in overlapping years."""
    import tomllib

    from simulation.policy.registry import find_conflict

    path = Path(path)
    if path.is_file():
        try:
            raw = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError:
            raw = {}
        parent = raw.get("extends")
        if isinstance(parent, str) and not (path.parent / parent).is_file():
            raise ScenarioError(
                f"{path}: extends = {parent!r}: no such file {path.parent / parent} "
                f"(allowed: a scenario file, relative to {path.parent})"
            )
    scenario = load_scenario(path)
    problem = find_conflict(scenario.interventions)
    if problem:
        raise ScenarioError(f"{path}: {problem}")
    return scenario


# --- one run --------------------------------------------------------------------------------------


def _label(codes: pd.Series, names: dict[int, str]) -> pd.Series:
    return codes.map(lambda c: names.get(int(c), "Other"))


def run_digest(arg: tuple[Scenario, int, bool]) -> RunDigest:
    """Run one replicate with its event log and reduce it to what a comparison needs."""
    scenario, replicate, keep_events = arg
    res = run(scenario, replicate=replicate, record_events=True, keep_model=True)
    m, ev, w = res.model, res.events, res.model.weight
    start = scenario.population.start_year - scenario.burn_in
    is_exit = (ev["kind"] == Kind.MOVE) & ev["from_status"].isin(_EXIT_FROM) & ev["to_status"].isin(_EXIT_TO)
    cols = ["uid", "week", "year_group", "sen", "fsm", "need", "social_care", "school"]
    exits = ev.loc[is_exit, cols].reset_index(drop=True)
    exits.insert(2, "academic_year", start + exits["week"] // tl.WEEKS_PER_YEAR)
    exits["true_route"] = _label(ev.loc[is_exit, "true_reason"].reset_index(drop=True), TRUE_ROUTES)
    exits["recorded_route"] = _label(ev.loc[is_exit, "recorded_reason"].reset_index(drop=True), RECORDED_ROUTES)
    waits = ev.loc[ev["kind"] == Kind.EHCP_PLAN, "value"].round().astype(int)
    ehcp_waits = waits.value_counts().sort_index().rename_axis("wait_weeks").reset_index(name="plans")
    ehcp_waits["plans"] = ehcp_waits["plans"] * w

    years = res.years.copy()
    by_year = exits.groupby("academic_year").size()
    years["exits_per_1000"] = 1000.0 * years["academic_year"].map(by_year).fillna(0) * w / years["n_pupils"]
    term = res.weeks[tl.IS_TERM[res.weeks["week"].to_numpy()]]
    out_weeks = term.groupby("academic_year")[list(_OUT)].sum()
    years["weeks_out_of_school_per_1000"] = (
        1000.0 * years["academic_year"].map(out_weeks.sum(axis=1)).fillna(0) / years["n_pupils"]
    )
    pu = m.pupils.columns
    groups = {g: float(np.count_nonzero(f(pu))) * w for g, f in GROUPS.items()}
    groups.update({f"weeks_out:{k}": float(out_weeks[k].sum()) for k in _OUT})
    eval_years = sorted(years["academic_year"].unique())
    rows = []
    for i, iv in enumerate(scenario.interventions):
        gbp, units = iv.cost_per_year(m), iv.units_per_year(m)
        for y in eval_years:
            rows.append(
                {
                    "intervention": f"{i}:{iv.type}",
                    "type": iv.type,
                    "title": iv.title,
                    "academic_year": int(y),
                    "cost_gbp": gbp.get(y, 0.0),
                    "units": units.get(y, 0.0),
                    "unit": iv.units,
                    "cost_estimated": bool(iv.cost_basis),
                }
            )
    costs = pd.DataFrame(
        rows, columns=["intervention", "type", "title", "academic_year", "cost_gbp", "units", "unit", "cost_estimated"]
    )
    return RunDigest(
        scenario.name,
        replicate,
        int(res.years["seed"].iloc[0]),
        w,
        years,
        res.weeks,
        exits,
        ehcp_waits,
        groups,
        costs,
        ev if keep_events else None,
        res.seconds,
    )


# --- pairing children across runs -----------------------------------------------------------------


def _first_exits(exits: pd.DataFrame) -> pd.DataFrame:
    return exits.sort_values("week", kind="stable").drop_duplicates("uid").set_index("uid")


def pair_runs(b: RunDigest, p: RunDigest, years: int) -> tuple[list[dict], list[dict], list[dict]]:
    """Averted, new and displaced children (by route and view), displacement pairs and group counts."""
    fb, fp = _first_exits(b.exits), _first_exits(p.exits)
    w = b.weight
    in_b, in_p = fb.index, fp.index
    averted, new = in_b.difference(in_p), in_p.difference(in_b)
    both = in_b.intersection(in_p)
    ids = {"scenario": p.scenario, "replicate": p.replicate}
    out, pairs, groups = [], [], []
    for view in ("true", "recorded"):
        col = f"{view}_route"
        moved = both[fb.loc[both, col].to_numpy() != fp.loc[both, col].to_numpy()]
        parts = {
            "baseline_exits": fb[col],
            "policy_exits": fp[col],
            "averted": fb.loc[averted, col],
            "new": fp.loc[new, col],
            "displaced_out": fb.loc[moved, col],
            "displaced_in": fp.loc[moved, col],
        }
        for measure, routes in parts.items():
            counts = routes.value_counts()
            for route, n in [(ALL_ROUTES, len(routes)), *counts.items()]:
                out.append(
                    {
                        **ids,
                        "view": view,
                        "measure": measure,
                        "route": route,
                        "value": n * w,
                        "per_year": n * w / years,
                        "unit": "children",
                    }
                )
        out.append(
            {
                **ids,
                "view": view,
                "measure": "net_averted",
                "route": ALL_ROUTES,
                "value": (len(averted) - len(new)) * w,
                "per_year": (len(averted) - len(new)) * w / years,
                "unit": "children",
            }
        )
        pair = pd.DataFrame({"from_route": fb.loc[moved, col].to_numpy(), "to_route": fp.loc[moved, col].to_numpy()})
        for (a, c), n in pair.value_counts().items():
            pairs.append({**ids, "view": view, "from_route": a, "to_route": c, "children": n * w})
    for k, label in _OUT.items():
        wb, wp = b.groups[f"weeks_out:{k}"], p.groups[f"weeks_out:{k}"]
        out.append(
            {
                **ids,
                "view": "true",
                "measure": "pupil_weeks_regained",
                "route": label,
                "value": wb - wp,
                "per_year": (wb - wp) / years,
                "unit": "pupil-weeks (term)",
            }
        )
    regained = sum(b.groups[f"weeks_out:{k}"] - p.groups[f"weeks_out:{k}"] for k in _OUT)
    out.append(
        {
            **ids,
            "view": "true",
            "measure": "pupil_weeks_regained",
            "route": "All out of school",
            "value": regained,
            "per_year": regained / years,
            "unit": "pupil-weeks (term)",
        }
    )
    for g, f in GROUPS.items():
        cb = {c: fb[c].to_numpy() for c in ("sen", "need", "fsm", "social_care")}
        cp = {c: fp[c].to_numpy() for c in ("sen", "need", "fsm", "social_care")}
        mb, mp = pd.Series(f(cb), index=fb.index), pd.Series(f(cp), index=fp.index)
        groups.append(
            {
                **ids,
                "group": g,
                "baseline_exits": mb.sum() * w,
                "policy_exits": mp.sum() * w,
                "averted": mb.loc[averted].sum() * w,
                "new": mp.loc[new].sum() * w,
                "baseline_population": b.groups[g],
                "policy_population": p.groups[g],
                "years": years,
            }
        )
    return out, pairs, groups


# --- the comparison -------------------------------------------------------------------------------


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
        for view in ("true", "recorded"):
            counts = d.exits.groupby(["academic_year", f"{view}_route"]).size()
            for (year, route), n in counts.items():
                routes.append(
                    {
                        "scenario": d.scenario,
                        "replicate": d.replicate,
                        "academic_year": year,
                        "view": view,
                        "route": route,
                        "exits": n * d.weight,
                    }
                )
    exit_routes = pd.DataFrame(routes, columns=["scenario", "replicate", "academic_year", "view", "route", "exits"])
    averted_df = pd.DataFrame(averted)
    eq = pd.DataFrame(groups)
    costs = pd.concat([d.costs.assign(scenario=d.scenario, replicate=d.replicate) for d in digests], ignore_index=True)
    costs = costs.astype({"academic_year": int, "cost_gbp": float, "units": float, "cost_estimated": bool})
    tables = {
        "metrics": metric_table(summary, names[0]),
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
        tables["cost_summary"] = cost_summary(costs, averted_df, names[1:])
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
    """Baseline mean, scenario mean and paired difference with its 90% interval, as text cells."""
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
                "metric": r["metric"],
                "baseline": format_cell(r["baseline_mean"]),
                "scenario mean": format_cell(r["mean"]),
                "difference (90% CI)": (
                    f"{format_cell(r['diff'])} ({format_cell(r['diff_lo'])} to {format_cell(r['diff_hi'])})"
                ),
                "unit": r["unit"],
            }
        )
    return pd.DataFrame(
        rows, columns=["scenario", "metric", "baseline", "scenario mean", "difference (90% CI)", "unit"]
    )
