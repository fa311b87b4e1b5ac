"""The intervention base class, its registry and its per-run state; every lever and programme
builds on it. See :mod:`simulation.policy.interventions` for what an intervention may do."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from simulation.model import timeline as tl
from simulation.model.params import PARAMS

REGISTRY: dict[str, type[Intervention]] = {}
REFERENCE_PUPILS = 80_000  # pupils of the reference LA: per-LA running costs are scaled from it
# Timing fields of every intervention. ``start_year`` defaults to 0 for code that builds one
# directly, but a scenario file must give it (``registry.from_dict(..., require_start_year=True)``).
TIMING = ("start_year", "end_year", "ramp_years")


class InterventionError(ValueError):
    """A bad intervention table; the message is one line naming where, the key and what is allowed."""


def register(cls: type[Intervention]) -> type[Intervention]:
    REGISTRY[cls.type] = cls
    return cls


def state(model, iv: Intervention) -> dict:
    """The intervention's own state in this model run (a dict; created on first use)."""
    store = model.intervention_state
    return store.setdefault(iv, {"gbp": {}, "units": {}})


@dataclass(frozen=True)
class Intervention:
    """Base: timing, validation metadata and cost booking shared by every intervention."""

    type: ClassVar[str] = ""
    title: ClassVar[str] = ""  # short name for tables and figures
    lever: ClassVar[str] = ""  # the main registry parameter moved; a programme without one uses its type
    levers: ClassVar[tuple[str, ...]] = ()  # every registry parameter it moves
    # The uncertainty parameters the size of its effect rests on (a judgement from the mechanism it
    # acts through): `compare --assumptions` draws them from their ranges in every replicate.
    acts_through: ClassVar[tuple[str, ...]] = ()
    source: ClassVar[str] = ""  # basis of the default effect size
    cost_basis: ClassVar[str] = ""  # basis of the cost estimate ("" = not estimated)
    units: ClassVar[str] = ""  # what the booked units count
    FIELDS: ClassVar[dict[str, tuple[float, float, str, str]]] = {}  # field: (low, high, unit, meaning)
    start_year: int = 0
    end_year: int | None = None
    ramp_years: int = 0

    def strength(self, eval_year: int) -> float:
        """0 before the start and after the end; rises linearly over ``ramp_years``."""
        if eval_year < self.start_year or (self.end_year is not None and eval_year > self.end_year):
            return 0.0
        if self.ramp_years <= 0:
            return 1.0
        return min(1.0, (eval_year - self.start_year + 1) / (self.ramp_years + 1))

    def adjust(self, p: dict[str, float], strength: float) -> None:
        """Change live parameter values for the coming year (phase 2, first week of the year)."""

    def apply(self, model, strength: float) -> None:
        """Act on the model's arrays this week (phase 2, every week), with whole-array operations
        and a random stream of the intervention's own (``model.streams["intervention:" + type]``).
        ``model`` is the run's :class:`~simulation.model.world.World` (the Mesa model has the same
        attributes)."""

    def conflict_keys(self) -> set[str]:
        """What two interventions may not both set in the same year."""
        return {self.lever, *self.levers}

    def cost_per_year(self, model) -> dict[int, float]:
        """GBP spent in each academic year of the run so far (whole LA), from what it did."""
        return dict(state(model, self)["gbp"])

    def units_per_year(self, model) -> dict[int, float]:
        """The booked units (see ``units``) in each academic year (whole LA)."""
        return dict(state(model, self)["units"])

    def _book(self, model, gbp: float, units: float = 0.0) -> None:
        led = state(model, self)
        year = model.academic_year
        led["gbp"][year] = led["gbp"].get(year, 0.0) + float(gbp)
        led["units"][year] = led["units"].get(year, 0.0) + float(units)

    def _set(self, p: dict[str, float], name: str, value: float) -> None:
        spec = PARAMS[name]
        value = min(max(value, spec.low), spec.high)
        p[name] = round(value) if spec.integer else value

    def _toward(self, p: dict[str, float], name: str, target: float, strength: float) -> None:
        self._set(p, name, p[name] + (target - p[name]) * strength)

    @classmethod
    def describe(cls) -> dict:
        """The class as documentation: what it moves, its fields, sources and cost basis."""
        fields = {}
        for f in dataclasses.fields(cls):
            if f.name not in TIMING:
                low, high, unit, meaning = cls.FIELDS[f.name]
                fields[f.name] = {"default": f.default, "low": low, "high": high, "unit": unit, "meaning": meaning}
        return {
            "type": cls.type,
            "title": cls.title,
            "levers": list(cls.levers),
            "what": " ".join((cls.__doc__ or "").split("\n\n")[0].split()),
            "fields": fields,
            "source": cls.source,
            "cost_basis": cls.cost_basis or "not estimated",
        }


def per_week_la(model, gbp_per_year_reference_la: float) -> float:
    """A running cost quoted for the reference LA, scaled to this LA's children, for one week."""
    children = len(model.pupils) * model.weight
    return gbp_per_year_reference_la * children / REFERENCE_PUPILS / tl.WEEKS_PER_YEAR
