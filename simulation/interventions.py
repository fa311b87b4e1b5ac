"""Interventions: small frozen dataclasses registered under their TOML ``type``.

An intervention acts at one point of the step, phase 2: at the start of each academic
year it may adjust the live parameter values the mechanisms read (``adjust``), and each
week it may act on the arrays (``apply``). The effect on outcomes (shorter waits, fewer
exits) is left to the mechanisms. Its fields are its saved form. ``start_year`` counts
evaluation years from 0; during burn-in no intervention is active.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from .params import PARAMS

REGISTRY: dict[str, type[Intervention]] = {}


class InterventionError(ValueError):
    pass


def register(cls: type[Intervention]) -> type[Intervention]:
    REGISTRY[cls.type] = cls
    return cls


@dataclass(frozen=True)
class Intervention:
    """Base: timing shared by every intervention."""

    type: ClassVar[str] = ""
    lever: ClassVar[str] = ""  # the registry parameter this intervention moves
    source: ClassVar[str] = ""
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
        and a random stream of the intervention's own (``model.streams["intervention:" + type]``)."""

    def _set(self, p: dict[str, float], name: str, value: float) -> None:
        spec = PARAMS[name]
        p[name] = min(max(value, spec.low), spec.high)


@register
@dataclass(frozen=True)
class EHCPAssessmentCapacity(Intervention):
    """More educational psychologists and caseworkers: LA assessment capacity x (1 + increase)."""

    type: ClassVar[str] = "ehcp_assessment_capacity"
    lever: ClassVar[str] = "assessment_capacity"
    source: ClassVar[str] = "DfE timeliness series; MECHANISMS: y = 10-50%"
    increase: float = 0.3

    def adjust(self, p, strength):
        self._set(p, self.lever, p[self.lever] * (1.0 + self.increase * strength))


@register
@dataclass(frozen=True)
class SupportFunding(Intervention):
    """Restore (or cut) school SEN and pastoral support funding by ``change``."""

    type: ClassVar[str] = "support_funding"
    lever: ClassVar[str] = "support_funding_change"
    source: ClassVar[str] = "Isos 2024; MECHANISMS: x = 5-20%"
    change: float = 0.1

    def adjust(self, p, strength):
        self._set(p, self.lever, p[self.lever] + self.change * strength)


@register
@dataclass(frozen=True)
class SupportFirstAttendance(Intervention):
    """DfE 2024 guidance: schools move from fines-first to support-first attendance policy."""

    type: ClassVar[str] = "support_first_attendance"
    lever: ClassVar[str] = "fines_first_share"
    source: ClassVar[str] = "DfE, Working together to improve school attendance (2024)"
    fines_first_share: float = 0.05

    def adjust(self, p, strength):
        self._set(p, self.lever, p[self.lever] + (self.fines_first_share - p[self.lever]) * strength)


_FIELD_BOUNDS: dict[str, tuple[float, float]] = {
    "increase": (0.0, 2.0),
    "change": (-0.3, 0.3),
    "fines_first_share": (0.0, 1.0),
}


def from_dict(raw: dict, where: str, horizon_years: int) -> Intervention:
    """Build an intervention from its TOML table, refusing unknown types, fields and values."""
    kind = raw.get("type")
    if kind not in REGISTRY:
        raise InterventionError(f"{where}: unknown intervention type {kind!r} (allowed: {', '.join(sorted(REGISTRY))})")
    cls = REGISTRY[kind]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in raw.items():
        if key == "type":
            continue
        if key not in fields:
            raise InterventionError(f"{where}: unknown field {key!r} for {kind} (allowed: {', '.join(fields)})")
        if key in ("start_year", "ramp_years", "end_year"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InterventionError(f"{where}: {key} = {value!r} must be a whole number of years >= 0")
        else:
            low, high = _FIELD_BOUNDS[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                raise InterventionError(f"{where}: {key} = {value!r} out of range (allowed: {low:g} to {high:g})")
        kwargs[key] = value
    iv = cls(**kwargs)
    if iv.start_year >= horizon_years:
        raise InterventionError(
            f"{where}: start_year = {iv.start_year} is after the horizon ({horizon_years} evaluation years)"
        )
    if iv.end_year is not None and iv.end_year < iv.start_year:
        raise InterventionError(f"{where}: end_year = {iv.end_year} is before start_year = {iv.start_year}")
    return iv


def to_dict(iv: Intervention) -> dict:
    out = {"type": iv.type}
    out.update({k: v for k, v in dataclasses.asdict(iv).items() if v is not None})
    return out
