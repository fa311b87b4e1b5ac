"""Every intervention by its TOML ``type``: reading a scenario's intervention tables, writing
them back, and refusing two that set the same lever at once. Importing this module registers
every lever and programme."""

from __future__ import annotations

import dataclasses
import itertools

from . import interventions, programmes  # noqa: F401  (importing them registers every class)
from .base import REGISTRY, TIMING, Intervention, InterventionError

__all__ = ["REGISTRY", "find_conflict", "from_dict", "to_dict"]


def from_dict(raw: dict, where: str, horizon_years: int, *, require_start_year: bool = False) -> Intervention:
    """Build an intervention from its TOML table, refusing unknown types, fields and values.

    Scenario files pass ``require_start_year``: a table that forgets ``start_year`` would act from
    the first evaluation year, which is rarely what its reader assumes. Code building one from a
    dict may leave it to the class default (0)."""
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
        if key in TIMING:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InterventionError(f"{where}: {key} = {value!r} must be a whole number of years >= 0")
        else:
            low, high, unit, _ = cls.FIELDS[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InterventionError(
                    f"{where}: {kind}.{key} = {value!r} is not a number (allowed: {low:g} to {high:g} {unit})"
                )
            if not low <= value <= high:
                raise InterventionError(
                    f"{where}: {kind}.{key} = {value!r} out of range (allowed: {low:g} to {high:g} {unit})"
                )
            value = float(value)
        kwargs[key] = value
    if require_start_year and "start_year" not in raw:
        raise InterventionError(
            f"{where}: {kind}: start_year is missing (allowed: a whole number of evaluation years, "
            f"0 to {horizon_years - 1}; 0 acts from the first evaluation year)"
        )
    iv = cls(**kwargs)
    if iv.start_year >= horizon_years:
        raise InterventionError(
            f"{where}: start_year = {iv.start_year} is after the horizon ({horizon_years} evaluation years; "
            f"allowed: 0 to {horizon_years - 1})"
        )
    if iv.end_year is not None and iv.end_year < iv.start_year:
        raise InterventionError(f"{where}: end_year = {iv.end_year} is before start_year = {iv.start_year}")
    return iv


def to_dict(iv: Intervention) -> dict:
    out = {"type": iv.type}
    out.update({k: v for k, v in dataclasses.asdict(iv).items() if v is not None})
    return out


def find_conflict(ivs: tuple[Intervention, ...] | list[Intervention]) -> str | None:
    """Two interventions that set the same lever in overlapping years: a one-line message, or None."""
    for (i, a), (j, b) in itertools.combinations(enumerate(ivs), 2):
        shared = sorted(a.conflict_keys() & b.conflict_keys())
        if not shared:
            continue
        a_end = a.end_year if a.end_year is not None else 10**9
        b_end = b.end_year if b.end_year is not None else 10**9
        lo, hi = max(a.start_year, b.start_year), min(a_end, b_end)
        if lo <= hi:
            years = f"from evaluation year {lo}" if hi >= 10**9 else f"in evaluation years {lo}-{hi}"
            return (
                f"interventions[{i}] ({a.type}) and interventions[{j}] ({b.type}) both set {shared[0]!r} {years} "
                f"(allowed: one intervention per lever at a time; give them end_year/start_year that do not overlap)"
            )
    return None
