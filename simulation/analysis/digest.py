"""What a comparison keeps of one run, and how a baseline run and a policy run are paired.

A run is digested in its worker (its moves off a roll by true and recorded route, the counts of
:mod:`.counts`, group sizes, EHCP waits, costs), so the model never crosses a process boundary;
pairing two digests of the same seed gives, year by year, the children whose leaving a roll was
averted, new or displaced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation.model import timeline as tl
from simulation.model.state import Kind, Reason
from simulation.policy.scenario import Scenario
from simulation.research.runner import run

from .counts import add_counts, group_population, is_exit, leavers, pupil_weeks_lost

TRUE_ROUTES = {
    Reason.GENUINE_EHE: "Home education: genuine choice",
    Reason.NO_CHOICE_EHE: "Home education: no choice",
    Reason.COERCED_EHE: "Home education: pushed by school",
    Reason.OFFROLLED_UNKNOWN: "Off-rolled: destination unknown",
    Reason.PERMANENT_EXCLUSION: "Permanent exclusion",
    Reason.DIRECTED_TO_AP: "Directed to AP without exclusion",
    Reason.S19_PROVISION: "Section 19 after school distress",
}
RECORDED_ROUTES = {
    Reason.ELECTIVE_EHE: "Elective home education",
    Reason.UNEXPLAINED: "Unexplained exit (missing education)",
    Reason.PERMANENT_EXCLUSION: "Permanent exclusion",
    Reason.DIRECTED_TO_AP: "Directed to AP without exclusion",
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
EVERYONE = "All children"


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


def _label(codes: pd.Series, names: dict[int, str]) -> pd.Series:
    return codes.map(lambda c: names.get(int(c), "Other"))


def run_digest(arg: tuple[Scenario, int, bool]) -> RunDigest:
    """Run one replicate with its event log and reduce it to what a comparison needs."""
    scenario, replicate, keep_events = arg
    res = run(scenario, replicate=replicate, record_events=True, keep_model=True)
    m, ev, w = res.model, res.events, res.model.weight
    start = scenario.population.start_year - scenario.burn_in
    moves_off = is_exit(ev)
    cols = ["uid", "week", "year_group", "sen", "fsm", "need", "social_care", "school"]
    exits = ev.loc[moves_off, cols].reset_index(drop=True)
    exits.insert(2, "academic_year", start + exits["week"] // tl.WEEKS_PER_YEAR)
    exits["true_route"] = _label(ev.loc[moves_off, "true_reason"].reset_index(drop=True), TRUE_ROUTES)
    exits["recorded_route"] = _label(ev.loc[moves_off, "recorded_reason"].reset_index(drop=True), RECORDED_ROUTES)
    waits = ev.loc[ev["kind"] == Kind.EHCP_PLAN, "value"].round().astype(int)
    ehcp_waits = waits.value_counts().sort_index().rename_axis("wait_weeks").reset_index(name="plans")
    ehcp_waits["plans"] = ehcp_waits["plans"] * w

    years = add_counts(res.years, exits, res.weeks, w)
    pu = m.pupils.columns
    groups = group_population({g: float(np.count_nonzero(f(pu))) for g, f in GROUPS.items()}, years, EVERYONE)
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


def pair_runs(b: RunDigest, p: RunDigest, years: int) -> tuple[list[dict], list[dict], list[dict]]:
    """Averted, new and displaced children (by route and view), displacement pairs and group counts.

    Children are matched year by year (:func:`.counts.leavers`): a child who left a roll in year y of
    the baseline run and not in year y of the policy run is averted in y, and one who left in both
    by a different route (of the year's first move off a roll) is displaced. Summed over the years,
    baseline minus policy children is therefore exactly the paired difference of
    ``children_leaving_per_1000`` times the population; the pupil-weeks regained are exactly that
    of ``weeks_education_lost_per_1000``."""
    fb, fp = leavers(b.exits), leavers(p.exits)
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
    lost_b, lost_p = pupil_weeks_lost(b.years), pupil_weeks_lost(p.years)
    for part, wb in lost_b.items():
        out.append(
            {
                **ids,
                "view": "true",
                "measure": "pupil_weeks_regained",
                "route": part,
                "value": wb - lost_p[part],
                "per_year": (wb - lost_p[part]) / years,
                "unit": "pupil-weeks",
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
