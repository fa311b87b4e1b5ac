"""Regenerate the regression baseline, deliberately.

Run ``python tests/regression/update_baseline.py`` (with the project's venv) after a change that is
*meant* to move the model's numbers (a tuned default, a new mechanism, a fixed bug). It reruns the
fixed case below, prints every metric that changed, and rewrites ``baseline.json`` beside this file.
Commit the new baseline with the change that caused it, and say why in the commit message.

``test_regression.py`` imports the case from here, so the test and the baseline always agree on
what was run.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import simulation
from simulation import PopulationSpec, Scenario
from simulation.policy.interventions import EHCPAssessmentCapacity

BASELINE = Path(__file__).with_name("baseline.json")
SEED = 20240901
# A small LA, one burn-in year and two evaluation years with an intervention from year 1: about
# a second to run, and every phase of the step (roll-over, interventions, census, Ofsted) runs.
CASE = Scenario(
    name="regression",
    population=PopulationSpec(n_pupils=4000, n_primary=10, n_secondary=3, n_special=1),
    years=2,
    burn_in=1,
    seed=SEED,
    interventions=(EHCPAssessmentCapacity(increase=0.5, start_year=1),),
)


def current() -> dict:
    """The case's outputs now: each evaluation year's metrics, the summary and weekly totals."""
    result = simulation.run(CASE, seed=SEED)
    metrics = list(simulation.METRICS)
    status = [
        c
        for c in result.weeks.columns
        if c not in ("scenario", "replicate", "seed", "la", "academic_year", "t_week", "week")
    ]
    return {
        "case": {"scenario": CASE.to_dict(), "seed": SEED},
        "years": {
            str(int(row["academic_year"])): {m: _num(row[m]) for m in metrics} for _, row in result.years.iterrows()
        },
        "summary": {m: _num(result.summary[m].iloc[0]) for m in metrics},
        "weeks_totals": {c: _num(result.weeks[c].sum()) for c in status},
    }


def _num(x) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def flatten(d: dict, prefix: str = "") -> dict[str, object]:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def differences(old: dict, new: dict, rtol: float = 1e-9) -> list[tuple[str, object, object]]:
    """(key, old, new) for outputs differing beyond ``rtol`` (None is NaN; NaN equals NaN)."""
    a = flatten({k: v for k, v in old.items() if k != "case"})
    b = flatten({k: v for k, v in new.items() if k != "case"})
    diffs = []
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key, "missing"), b.get(key, "missing")
        if x == y:
            continue
        if isinstance(x, float) and isinstance(y, float) and math.isclose(x, y, rel_tol=rtol, abs_tol=1e-12):
            continue
        diffs.append((key, x, y))
    return diffs


def main() -> int:
    new = current()
    if BASELINE.exists():
        old = json.loads(BASELINE.read_text())
        if old.get("case") != json.loads(json.dumps(new["case"])):
            print("The regression case itself changed (scenario, population or seed).")
        diffs = differences(old, new)
        if not diffs:
            print(f"No change: {BASELINE.name} already matches the model.")
        for key, x, y in diffs:
            change = ""
            if isinstance(x, float) and isinstance(y, float) and x != 0:
                change = f" ({100 * (y - x) / abs(x):+.3g}%)"
            print(f"{key}: {x!r} -> {y!r}{change}")
        print(f"{len(diffs)} value(s) changed.")
    else:
        print(f"No baseline yet: writing {BASELINE}.")
    BASELINE.write_text(json.dumps(new, indent=1, sort_keys=True) + "\n")
    print(f"Wrote {BASELINE}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
