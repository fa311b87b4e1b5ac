"""The live app's model side: a baseline and a policy run on one seed, stepped together a week at a time.

:class:`PairedRun` is a ``mesa.Model`` that :mod:`simulation.present.app` (Mesa's ``SolaraViz``)
builds from the sidebar, steps and plots. It holds the committed baseline and the chosen scenario,
built at the same scale and on the same seed, so both share their random numbers (common random
numbers) and the difference between them is the policy, not noise. One step steps both local
authorities one school week, spin-up included (the baseline's eight years, reported nowhere, as in
``school-exit run``). From the first reported week its DataCollector records, each week:

- ``Baseline`` and ``Policy``: children leaving a school roll since the first reported week, per
  1,000 children: the metric catalogue's ``children_leaving_per_1000`` (distinct children with a
  move off a roll in an academic year, :mod:`simulation.analysis.counts`), read from the run's own
  event log and summed over the years so far, so the same children are counted as in
  ``school-exit compare``.
- ``Policy minus baseline``: the paired difference of that count.
- ``Home education``, ``Missing education``, ``Section 19``: children out of school (the
  catalogue's ``children_out_of_school_per_1000``, by status) in the policy run minus the
  baseline run, per 1,000 children, that week.

A lever (:data:`APP_LEVERS`, registry parameters of kind "lever") moved away from its baseline
value is set in the policy run from the first reported year (:class:`LeverSettings`), before the
scenario's interventions act (an intervention that sets the same lever has the last word; one that
scales it scales the slider's value). Levers left at the baseline value change nothing. Needs
only Mesa.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.analysis import counts
from simulation.model import timeline as tl
from simulation.model.mesa_core import mesa
from simulation.model.mesa_model import SchoolExitModel
from simulation.model.params import PARAMS
from simulation.model.state import Status
from simulation.policy.base import Intervention
from simulation.policy.scenario import Scenario, load_scenario

from .plot_style import OKABE_ITO

ROOT = Path(__file__).resolve().parents[2]
BASELINE_FILE = "baseline.toml"
DEFAULT_SCENARIO = "package_childrens_commissioner"
DEFAULT_SCALE = 0.1  # 8,000 of the reference LA's 80,000 pupils
SCALE_RANGE = (0.05, 0.25)
DEFAULT_YEARS = 3
MAX_YEARS = 5
DEFAULT_SEED = 1

# The levers offered as sliders: registry parameters of kind "lever" (bounds and units from the
# registry), with a label a room can read.
APP_LEVERS: dict[str, str] = {
    "fines_first_share": "Schools that fine first (share of schools)",
    "support_funding_change": "School SEN and pastoral support funding (change, share)",
    "assessment_capacity": "EHC needs assessments (a week per 10,000 pupils)",
    "ehe_monitoring_rate": "LA contacts with home-educating families (a year)",
    "camhs_wait_weeks": "CAMHS mean wait (weeks)",
    "offroll_peak_excess": "Census-date off-rolling spike (1 = today, 0 = none)",
}

# Okabe-Ito colours (colour-blind safe), as the figures use.
RUN_COLOURS = {"Baseline": OKABE_ITO["black"], "Policy": OKABE_ITO["blue"]}
DIFFERENCE_COLOURS = {"Policy minus baseline": OKABE_ITO["vermillion"]}
STATUS_LABELS = {  # children out of school, by status, as the metric catalogue counts them
    getattr(Status, key.upper()): label for key, label in counts.OUT_OF_SCHOOL.items()
}
STATUS_COLOURS = dict(
    zip(
        STATUS_LABELS.values(),
        (OKABE_ITO["orange"], OKABE_ITO["vermillion"], OKABE_ITO["bluish_green"]),
        strict=True,
    )
)
COLUMNS = [*RUN_COLOURS, *DIFFERENCE_COLOURS, *STATUS_COLOURS]


# --- scenarios and levers ---------------------------------------------------------------------------
def scenario_dir() -> Path:
    """The committed ``scenarios/`` folder (of the checkout this package runs from, else the working
    directory's)."""
    here = ROOT / "scenarios"
    return here if (here / BASELINE_FILE).is_file() else Path.cwd() / "scenarios"


def scenario_title(s: Scenario) -> str:
    """A title a room can read: the intervention's title for a one-lever scenario, the description's
    lead for a package (or anything else)."""
    if len(s.interventions) == 1:
        return type(s.interventions[0]).title
    lead = s.description.split(":")[0].split(". ")[0].strip()
    if lead and len(lead) <= 48:
        return f"Package: {lead}" if len(s.interventions) > 1 else lead
    return s.name.replace("_", " ").capitalize()


@cache
def scenario_choices(folder: str | None = None) -> dict[str, Path]:
    """Every committed scenario but the baselines, by title (sorted: packages first)."""
    folder_path = Path(folder) if folder else scenario_dir()
    found: dict[str, Path] = {}
    for path in sorted(folder_path.glob("*.toml")):
        if path.stem.startswith("baseline"):
            continue
        s = load_scenario(path)
        if not s.interventions:
            continue
        title = scenario_title(s)
        if title in found:  # two one-lever files on the same intervention (e.g. a funding cut)
            title = f"{title} ({path.stem.replace('_', ' ')})"
        found[title] = path
    return dict(sorted(found.items(), key=lambda kv: (not kv[0].startswith("Package"), kv[0])))


def default_scenario_title() -> str:
    choices = scenario_choices()
    by_stem = {p.stem: t for t, p in choices.items()}
    return by_stem.get(DEFAULT_SCENARIO, next(iter(choices)))


def lever_sliders() -> dict[str, dict]:
    """Slider settings for each app lever: the registry's bounds, the baseline value."""
    out = {}
    for name, label in APP_LEVERS.items():
        p = PARAMS[name]
        assert p.kind == "lever", f"{name} is not a lever in the registry"
        step = slider_step(p.low, p.high, p.default)
        out[name] = {"label": label, "value": float(p.default), "min": float(p.low), "max": float(p.high), "step": step}
    return out


def slider_step(low: float, high: float, default: float) -> float:
    """The coarsest round step (1, 2 or 5 times a power of ten) giving 20 to 200 positions on which
    the default falls exactly, so an untouched slider never snaps off the baseline value."""
    span = high - low
    candidates = sorted(
        (m * 10.0**e for e in range(-4, 4) for m in (1, 2, 5) if span / 200 <= m * 10.0**e <= span / 20),
        reverse=True,
    )
    for step in candidates:
        k = (default - low) / step
        if math.isclose(k, round(k), abs_tol=1e-6):
            return float(round(step, 10))
    return float(round(span / 100, 10))


@dataclass(frozen=True)
class LeverSettings(Intervention):
    """The app's lever sliders: sets registry parameters in the policy run from ``start_year``.

    ``values`` are the parameters' values in the reference year; in other years each follows the
    published trend (``drivers``) its baseline value ``base`` follows. Not a scenario-file
    intervention (it is not registered): it only starts the sliders' values with the reported years."""

    type = "app_lever_settings"
    title = "Lever settings (app sliders)"
    values: tuple[tuple[str, float], ...] = ()
    base: tuple[tuple[str, float], ...] = ()

    def adjust(self, p: dict[str, float], strength: float) -> None:
        base = dict(self.base)
        for name, value in self.values:
            trend = p[name] / base[name] if base.get(name) else 1.0
            self._set(p, name, value * trend)


def with_levers(s: Scenario, base_params: dict[str, float], levers: dict[str, float]) -> Scenario:
    """``s`` with the app levers that differ from ``base_params`` set from the first reported year."""
    unknown = sorted(set(levers) - set(APP_LEVERS))
    if unknown:
        raise ValueError(f"not an app lever: {', '.join(unknown)} (allowed: {', '.join(APP_LEVERS)})")
    moved = {k: float(v) for k, v in levers.items() if not math.isclose(float(v), base_params[k], abs_tol=1e-9)}
    if not moved:
        return s
    for name, value in moved.items():
        p = PARAMS[name]
        if not p.low <= value <= p.high:
            raise ValueError(f"{name} = {value} (allowed: {p.low} to {p.high})")
    iv = LeverSettings(values=tuple(sorted(moved.items())), base=tuple((k, base_params[k]) for k in sorted(moved)))
    return s.with_(interventions=(iv, *s.interventions))


# --- the paired run ---------------------------------------------------------------------------------
class _Side:
    """One of the two runs, and the children leaving a school roll in it since the first reported week."""

    def __init__(self, scenario: Scenario, seed: int):
        self.scenario = scenario
        self.model = SchoolExitModel(scenario, seed=seed, record_events=True)
        # Mesa's Agent keeps an id counter per model in a class-level dict, which would keep every
        # model built by this long-lived server alive; the app creates no agents after this point.
        ids = getattr(mesa.Agent, "_ids", None)
        if isinstance(ids, dict):
            ids.pop(self.model, None)
        self.done_years: dict[int, tuple[int, int]] = {}  # (children leaving, moves off a roll) a year
        self.children = 0  # children leaving a roll, summed over the reported years so far
        self.moves = 0  # moves off a roll, the same way

    def count(self) -> np.ndarray:
        """Update the counts of leaving; return the children by status this week."""
        m = self.model
        year = (m.t_week - 1) // tl.WEEKS_PER_YEAR  # of the week just stepped
        ev = m.log.year(year)
        frame = pd.DataFrame({k: ev[k] for k in ("kind", "from_status", "to_status")})
        moved = counts.is_exit(frame).to_numpy()
        this_year = (len(np.unique(ev["uid"][moved])), int(np.count_nonzero(moved)))
        if m.week == 0:  # the week just stepped ended the year: keep its totals
            self.done_years[year] = this_year
            this_year = (0, 0)
        self.children = sum(c for c, _ in self.done_years.values()) + this_year[0]
        self.moves = sum(n for _, n in self.done_years.values()) + this_year[1]
        return np.bincount(m.pupils.status, minlength=len(Status))


class PairedRun(mesa.Model):
    """The baseline and a policy scenario, on the same seed, stepped one school week together.

    Mesa's ``SolaraViz`` builds it from the sidebar (``PairedRun(**values)``), steps it and plots
    its ``datacollector``; it stops itself (``running = False``) after the last reported week.
    ``levers`` are app-lever values (:data:`APP_LEVERS`) for the policy run."""

    def __init__(
        self,
        scenario: str = "",
        scale: float = DEFAULT_SCALE,
        years: int = DEFAULT_YEARS,
        seed: int = DEFAULT_SEED,
        **kwargs,  # the levers, by registry name (Mesa's SolaraViz passes parameters by keyword)
    ):
        super().__init__(seed=seed)
        folder = scenario_dir()
        choices = scenario_choices(str(folder))
        scenario = scenario or default_scenario_title()
        path = choices.get(scenario) or folder / f"{Path(scenario).stem}.toml"
        changes = {"scale": float(scale), "years": int(years), "seed": int(seed)}
        base = load_scenario(folder / BASELINE_FILE).with_(**changes)
        policy = load_scenario(path).with_(**changes)
        policy = with_levers(policy, base.params(int(seed)), kwargs)
        self.title = next((t for t, p in choices.items() if p == path), scenario_title(policy))
        self.baseline = _Side(base, int(seed))
        self.policy = _Side(policy, int(seed))
        self.levers = {k: float(v) for k, v in kwargs.items()}
        self.seed_used = int(seed)
        self.weeks_stepped = 0
        self.burn_in_weeks = base.burn_in * tl.WEEKS_PER_YEAR
        self.total_weeks = (base.burn_in + base.years) * tl.WEEKS_PER_YEAR
        self.first_year = base.population.start_year
        self.years = base.years
        self.n_pupils_la = base.population.n_pupils  # the LA the scaled run stands for
        self.pupils = len(self.baseline.model.pupils)
        self.started: float | None = None
        self.seconds = 0.0
        self.latest = dict.fromkeys(COLUMNS, 0.0)
        self.datacollector = mesa.DataCollector(
            model_reporters={name: (lambda m, name=name: m.latest[name]) for name in COLUMNS}
        )

    def step(self) -> None:
        if self.weeks_stepped >= self.total_weeks:  # Mesa's controller steps in batches: the rest are no-ops
            self.running = False
            self.steps = self.weeks_stepped  # Mesa counted this call; the sidebar's "Step" stays in weeks
            return
        if self.started is None:
            self.started = time.perf_counter()
        self.baseline.model.step()
        self.policy.model.step()
        self.weeks_stepped += 1
        if self.weeks_stepped > self.burn_in_weeks:
            self._record()
        self.seconds = time.perf_counter() - self.started
        if self.weeks_stepped >= self.total_weeks:
            self.running = False

    def _record(self) -> None:
        counts_b, counts_p = self.baseline.count(), self.policy.count()
        per_b, per_p = 1000.0 / len(self.baseline.model.pupils), 1000.0 / len(self.policy.model.pupils)
        row = {
            "Baseline": self.baseline.children * per_b,
            "Policy": self.policy.children * per_p,
        }
        row["Policy minus baseline"] = row["Policy"] - row["Baseline"]
        for code, label in STATUS_LABELS.items():
            row[label] = counts_p[code] * per_p - counts_b[code] * per_b
        self.latest = row
        self.datacollector.collect(self)

    # --- what the page shows ------------------------------------------------------------------------
    @property
    def reported_weeks(self) -> int:
        return max(0, self.weeks_stepped - self.burn_in_weeks)

    @property
    def progress(self) -> float:
        return 100.0 * self.weeks_stepped / self.total_weeks

    def academic_year(self) -> str:
        """The academic year of the week last stepped, as ``2023/24``."""
        start = self.first_year - self.burn_in_weeks // tl.WEEKS_PER_YEAR
        y = start + max(0, self.weeks_stepped - 1) // tl.WEEKS_PER_YEAR
        return f"{y}/{(y + 1) % 100:02d}"

    def status_line(self) -> str:
        if self.weeks_stepped == 0:
            return (
                f"Ready: {self.pupils:,} pupils ({self.baseline.scenario.scale:.0%} of the reference LA), "
                f"{self.total_weeks // tl.WEEKS_PER_YEAR} years to simulate. Press the run button (triangle)."
            )
        if not self.running:
            return f"Done: {self.total_weeks} weeks of both runs in {self.seconds:.1f} s."
        phase = "spin-up, not reported" if self.weeks_stepped <= self.burn_in_weeks else "reported"
        return f"Week {self.weeks_stepped} of {self.total_weeks}: {self.academic_year()} ({phase})."

    def summary(self) -> str | None:
        """The paired difference in words, once a reported week exists."""
        weeks = self.reported_weeks
        if weeks == 0:
            return None
        years = weeks / tl.WEEKS_PER_YEAR
        d = self.latest["Policy minus baseline"] / years  # per 1,000 children a year
        la = abs(d) * self.n_pupils_la / 1000.0
        if abs(d) < 0.05:
            change = "about as many children left a school roll as in the baseline"
        else:
            direction = "fewer" if d < 0 else "more"
            change = (
                f"{abs(d):.1f} {direction} children per 1,000 a year left a school roll than in the baseline, "
                f"about {_round(la)} {direction} a year in an authority of {self.n_pupils_la:,} pupils"
            )
        span = f"{self.first_year}/{(self.first_year + 1) % 100:02d} to {self.academic_year()}"
        stocks = [(label, self.latest[label]) for label in STATUS_LABELS.values()]
        big = max(stocks, key=lambda kv: abs(kv[1]))
        when = "this week" if self.running else "in the last week"
        out_line = (
            f"Out of school {when}: {abs(big[1]):.1f} per 1,000 {'fewer' if big[1] < 0 else 'more'} "
            f"in {big[0].lower()}."
            if abs(big[1]) >= 0.05
            else f"Out of school {when}: close to the baseline."
        )
        return f"{span}: {change}. {out_line}"

    def noise_note(self) -> str:
        return (
            f"One paired run (seed {self.seed_used}, {self.pupils:,} pupils): the difference carries some "
            "run-to-run noise; school-exit compare gives its interval over replicates."
        )


def _round(x: float) -> str:
    """A count to two significant figures, as a room reads it."""
    if x < 10:
        return f"{x:.0f}"
    digits = 10 ** (int(math.log10(x)) - 1)
    return f"{round(x / digits) * digits:,.0f}"


def run_to_end(model: PairedRun) -> PairedRun:
    """Step ``model`` until it stops (what the run button does, without a browser)."""
    while model.running:
        model.step()
    return model
