"""A synthetic local authority: pupils, families and schools from a population spec.

Shares come from DfE publications (see ``data/england_population.csv``); pupil
characteristics are drawn jointly so that, as published, free school meals are far
more common among pupils with SEN. ``scale`` keeps a fraction of pupils and schools;
each kept pupil then stands for ``1 / scale`` children in reported counts.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, fields

import numpy as np

from .state import (
    FAMILY_COLUMNS,
    PUPIL_COLUMNS,
    SCHOOL_COLUMNS,
    SEN,
    UNSET_IS_MINUS_ONE,
    Need,
    Phase,
    Route,
    Status,
    Table,
    make_uid,
)

N_YEARS = 12  # Reception to Year 11
NEEDS = (Need.ASD, Need.SLCN, Need.SEMH, Need.MLD, Need.PHYSICAL, Need.OTHER)  # the register's mixes
LATENT_NEEDS = (*NEEDS, Need.ANXIETY)  # needs the register has not (yet) recorded


@dataclass(frozen=True)
class PopulationSpec:
    """What a local authority looks like; every share is a fraction (0-1)."""

    n_pupils: int = 80_000
    n_primary: int = 230
    n_secondary: int = 45
    n_special: int = 15
    ehcp_share: float = 0.048  # DfE SEN in England, January 2024
    sen_support_share: float = 0.136  # DfE SEN in England, January 2024
    fsm_share_ehcp: float = 0.438  # DfE SEN in England 2024/25
    fsm_share_sen_support: float = 0.393
    fsm_share_no_sen: float = 0.222
    ehcp_in_mainstream: float = 0.562  # DfE SEN in England 2024/25
    ehcp_need_mix: tuple[float, ...] = (0.315, 0.213, 0.207, 0.106, 0.06, 0.099)  # DfE EHC plans, Jan 2025
    sen_support_need_mix: tuple[float, ...] = (0.08, 0.25, 0.21, 0.17, 0.07, 0.22)  # DfE SEN 2024 (SpLD as other)
    # Needs the SEN register does not record: a share of children without SEN (assumption: NHS
    # England MHCYP 2023 finds a probable mental disorder in 20% of 8-16 year olds, while 18% of
    # pupils are on the register, and diagnosis of autism and ADHD waits years), mostly anxiety.
    unrecorded_need_share: float = 0.06
    unrecorded_need_mix: tuple[float, ...] = (0.08, 0.15, 0.15, 0.1, 0.02, 0.05, 0.45)  # LATENT_NEEDS; assumption
    social_care_share: float = 0.04  # children in need incl. looked after, DfE CIN census
    family_size_shares: tuple[float, ...] = (0.55, 0.35, 0.10)  # 1, 2, 3 school-age children: assumption
    initial_ehe_share: float = 0.006  # ADCS 2016 survey (about 0.5%); the spin-up replaces this stock
    initial_cme_share: float = 0.0045  # DfE CME autumn census (0.41-0.48%)
    initial_ap_share: float = 0.004  # DfE AP census, LA-funded placements
    start_year: int = 2023

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not 0.0 <= value <= 1.0:
                raise ValueError(f"population.{f.name} = {value} must be a share between 0 and 1")
        if self.n_pupils < 100:
            raise ValueError(f"population.n_pupils = {self.n_pupils} must be at least 100")
        if min(self.n_primary, self.n_secondary, self.n_special) < 1:
            raise ValueError("population: each phase needs at least one school")

    def scaled(self, scale: float) -> PopulationSpec:
        if not 0.0 < scale <= 1.0:
            raise ValueError(f"scale = {scale} must be in (0, 1]")
        values = asdict(self)
        values["n_pupils"] = max(100, round(self.n_pupils * scale))
        for key in ("n_primary", "n_secondary", "n_special"):
            values[key] = max(1, round(values[key] * scale))
        return PopulationSpec(**values)


REFERENCE_LA = PopulationSpec()

# Relative prevalence by year group (Reception..Y11); DfE SEN by age profile, rounded.
_EHCP_BY_YEAR = np.array([0.45, 0.6, 0.75, 0.85, 0.95, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.3])
_SUPPORT_BY_YEAR = np.array([0.6, 0.85, 1.0, 1.1, 1.2, 1.25, 1.25, 1.1, 1.05, 1.0, 0.95, 0.9])
_EXIT_BY_YEAR = np.array([0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 1.1, 1.25, 1.4, 1.6, 1.7])


@dataclass
class Population:
    pupils: Table
    families: Table
    schools: Table
    spec: PopulationSpec
    weight: float  # children each simulated pupil stands for


def choice_cdf(weights) -> np.ndarray:
    """The cumulative table ``weighted_choice`` samples from, for weights in any scale."""
    p = np.asarray(weights, dtype=np.float64) / np.sum(weights)
    cdf = p.cumsum()
    cdf /= cdf[-1]
    return cdf


def weighted_choice(rng: np.random.Generator, values: np.ndarray, cdf: np.ndarray, size: int) -> np.ndarray:
    """``rng.choice(values, size, p=weights)`` draw for draw, given ``cdf = choice_cdf(weights)``.

    numpy's ``Generator.choice`` samples with replacement exactly so (cumulative sum over its
    last entry, one ``random`` per draw, ``searchsorted(side="right")``), after validating ``p``
    on every call: that validation costs 30 us, which the weekly arrivals pay twice. A unit
    test checks the two agree, so a numpy that changed its method would be caught."""
    return values[cdf.searchsorted(rng.random(size), side="right")]


@dataclass(frozen=True)
class _DrawTables:
    """Per-spec constants of :func:`draw_characteristics`, computed once (elementwise exactly as
    the per-child expressions they replace, so the draws are unchanged)."""

    ehcp_p: np.ndarray  # by year group
    sen_p: np.ndarray  # EHCP or SEN support, by year group
    fsm_p: np.ndarray  # by SEN code
    female_p: np.ndarray  # by any SEN
    care_p: np.ndarray  # by FSM * 2 + any SEN
    ehcp_need_cdf: np.ndarray
    support_need_cdf: np.ndarray
    unrecorded_p: np.ndarray  # by year group, for children without SEN
    unrecorded_need_cdf: np.ndarray


@functools.lru_cache(maxsize=64)
def _draw_tables(spec: PopulationSpec) -> _DrawTables:
    ehcp_p = spec.ehcp_share * _EHCP_BY_YEAR / _EHCP_BY_YEAR.mean()
    support_p = spec.sen_support_share * _SUPPORT_BY_YEAR / _SUPPORT_BY_YEAR.mean()
    fsm, any_sen = np.array([0, 0, 1, 1], dtype=bool), np.array([0, 1, 0, 1], dtype=bool)
    care_p = spec.social_care_share * 0.5 * (1 + fsm) * (1 + 0.8 * any_sen)
    return _DrawTables(
        ehcp_p=ehcp_p,
        sen_p=ehcp_p + support_p,
        fsm_p=np.array([spec.fsm_share_no_sen, spec.fsm_share_sen_support, spec.fsm_share_ehcp]),
        female_p=0.49 - 0.15 * np.array([False, True]),
        care_p=np.minimum(care_p, 1.0),
        ehcp_need_cdf=choice_cdf(spec.ehcp_need_mix),
        support_need_cdf=choice_cdf(spec.sen_support_need_mix),
        unrecorded_p=spec.unrecorded_need_share * _SUPPORT_BY_YEAR / _SUPPORT_BY_YEAR.mean(),
        unrecorded_need_cdf=choice_cdf(spec.unrecorded_need_mix),
    )


_NEED_CODES = np.array(NEEDS, dtype=np.int8)
_LATENT_CODES = np.array(LATENT_NEEDS, dtype=np.int8)


def draw_characteristics(spec: PopulationSpec, year_group: np.ndarray, rng: np.random.Generator) -> dict:
    """Characteristics of new children in the given year groups.

    ``need`` and ``need_intensity`` are the child's latent need; ``sen`` is the register's record
    of it. Every child on the register has a need; some children with a need are not on it."""
    n = len(year_group)
    tab = _draw_tables(spec)
    u = rng.random(n)
    sen = np.where(u < tab.ehcp_p[year_group], SEN.EHCP, np.where(u < tab.sen_p[year_group], SEN.SUPPORT, SEN.NONE))
    fsm = rng.random(n) < tab.fsm_p[sen]
    ehcp, support = (sen == SEN.EHCP).nonzero()[0], (sen == SEN.SUPPORT).nonzero()[0]
    need = np.zeros(n, dtype=np.int8)
    need[ehcp] = weighted_choice(rng, _NEED_CODES, tab.ehcp_need_cdf, len(ehcp))
    need[support] = weighted_choice(rng, _NEED_CODES, tab.support_need_cdf, len(support))
    intensity = np.zeros(n, dtype=np.float32)
    intensity[ehcp] = rng.beta(5, 3, size=len(ehcp))
    intensity[support] = rng.beta(2, 5, size=len(support))
    any_sen = sen > 0
    ones = np.ones(n, dtype=np.float32)  # (one array for the three: callers copy it into their columns)
    female = rng.random(n) < tab.female_p[any_sen.view(np.int8)]
    social_care = rng.random(n) < tab.care_p[2 * fsm + any_sen]
    unrecorded = (~any_sen & (rng.random(n) < tab.unrecorded_p[year_group])).nonzero()[0]
    need[unrecorded] = weighted_choice(rng, _LATENT_CODES, tab.unrecorded_need_cdf, len(unrecorded))
    intensity[unrecorded] = rng.beta(2, 5, size=len(unrecorded))
    return {
        "year_group": year_group.astype(np.int8),
        "female": female,
        "fsm": fsm,
        "social_care": social_care,
        "sen": sen.astype(np.int8),
        "need": need,
        "need_intensity": intensity,
        "vulnerability": ones,  # set by the model from its sigma
        "absence_propensity": ones,  # set by the model from its sigma
        "behaviour_frailty": ones,  # set by the model from its shape
    }


EHCP_MEAN_INTENSITY = 5 / 8  # mean of Beta(5, 3), the intensity of children with a plan


def needs_special_school(
    spec: PopulationSpec, sen: np.ndarray, intensity: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Children whose plan names a special school: the published non-mainstream share of plans,
    more likely the more intense the need."""
    p = (1 - spec.ehcp_in_mainstream) * intensity / EHCP_MEAN_INTENSITY
    return (sen == SEN.EHCP) & (rng.random(len(sen)) < p)


def draw_families(n: int, fsm: np.ndarray, rng: np.random.Generator) -> dict:
    """Family traits for ``n`` new families, poorer ones with less time, money and know-how."""
    return {
        "advocacy": np.clip(rng.beta(3, 3, size=n) - 0.15 * fsm, 0.0, 1.0).astype(np.float32),
        "trust": rng.beta(5, 2, size=n).astype(np.float32),
        "ehe_preference": rng.beta(0.3, 6, size=n).astype(np.float32),
        "ehe_capacity": np.clip(rng.beta(2, 2, size=n) - 0.2 * fsm, 0.0, 1.0).astype(np.float32),
    }


def _group_siblings(fsm: np.ndarray, sizes: tuple[float, ...], rng: np.random.Generator) -> np.ndarray:
    """Family index per pupil; siblings share FSM eligibility."""
    family = np.empty(len(fsm), dtype=np.int32)
    next_id = 0
    for flag in (False, True):
        idx = rng.permutation(np.flatnonzero(fsm == flag))
        k = len(idx)
        size = rng.choice(np.arange(1, len(sizes) + 1), size=k, p=np.asarray(sizes) / sum(sizes))
        ends = np.cumsum(size)
        ends = ends[ends < k]
        labels = np.zeros(k, dtype=np.int32)
        labels[ends] = 1
        labels = np.cumsum(labels) + next_id
        family[idx] = labels
        next_id = int(labels.max()) + 1 if k else next_id
    return family


def _school_table(spec: PopulationSpec, rng: np.random.Generator) -> Table:
    n = spec.n_primary + spec.n_secondary + spec.n_special
    schools = Table.empty(SCHOOL_COLUMNS, n)
    phase = np.repeat(
        [Phase.PRIMARY, Phase.SECONDARY, Phase.SPECIAL], [spec.n_primary, spec.n_secondary, spec.n_special]
    )
    schools.phase[:] = phase
    schools.academy[:] = rng.random(n) < np.where(phase == Phase.SECONDARY, 0.8, 0.4)
    schools.inclusion[:] = rng.beta(4, 4, size=n)
    schools.inclusion[phase == Phase.SPECIAL] = 0.9
    secondaries = np.flatnonzero(phase == Phase.SECONDARY)
    schools.feeder[:] = -1
    schools.feeder[phase == Phase.PRIMARY] = rng.choice(secondaries, size=spec.n_primary)
    return schools


def _assign_schools(pupils: Table, schools: Table, rng: np.random.Generator) -> None:
    """Mainstream pupils to schools of their phase, school sizes varying about threefold."""
    size_weight = rng.lognormal(0.0, 0.4, size=len(schools))
    for phase, years in ((Phase.PRIMARY, range(0, 7)), (Phase.SECONDARY, range(7, 12))):
        ids = np.flatnonzero(schools.phase == phase)
        who = np.flatnonzero((pupils.status == Status.ON_ROLL) & np.isin(pupils.year_group, list(years)))
        p = size_weight[ids] / size_weight[ids].sum()
        pupils.school[who] = rng.choice(ids, size=len(who), p=p)
    special = np.flatnonzero(schools.phase == Phase.SPECIAL)
    who = np.flatnonzero(pupils.status == Status.SPECIAL)
    pupils.school[who] = rng.choice(special, size=len(who))


def build_population(spec: PopulationSpec, rng: np.random.Generator, scale: float = 1.0) -> Population:
    """Draw a whole LA: characteristics, families, schools, starting statuses."""
    full = spec.n_pupils
    spec = spec.scaled(scale) if scale != 1.0 else spec
    weight = full / spec.n_pupils  # 1 / scale, exact after rounding and the 100-pupil floor
    n = spec.n_pupils
    year_group = np.sort(rng.integers(0, N_YEARS, size=n))
    pupils = Table.empty(PUPIL_COLUMNS, n)
    for name, values in draw_characteristics(spec, year_group, rng).items():
        pupils.columns[name][:] = values
    slot = np.arange(n)
    pupils.uid[:] = make_uid(slot, pupils.generation)
    for name in UNSET_IS_MINUS_ONE:
        pupils.columns[name][:] = -1

    # Starting statuses near the published stocks; older and SEN pupils more often out.
    pupils.status[:] = Status.ON_ROLL
    ehcp = np.flatnonzero(pupils.sen == SEN.EHCP)
    in_special = needs_special_school(spec, pupils.sen[ehcp], pupils.need_intensity[ehcp], rng)
    pupils.status[ehcp[in_special]] = Status.SPECIAL
    risk = _EXIT_BY_YEAR[year_group] * (1 + 1.5 * (pupils.sen > 0)) * (1 + 0.5 * pupils.fsm)
    risk = risk / risk.mean()
    u = rng.random(n)
    mainstream = pupils.status == Status.ON_ROLL
    cut_ehe = spec.initial_ehe_share * risk
    cut_cme = cut_ehe + spec.initial_cme_share * risk
    cut_ap = cut_cme + spec.initial_ap_share * risk * (year_group >= 5) * 1.7
    pupils.status[mainstream & (u < cut_ehe)] = Status.EHE
    pupils.status[mainstream & (u >= cut_ehe) & (u < cut_cme)] = Status.CME
    pupils.status[mainstream & (u >= cut_cme) & (u < cut_ap)] = Status.AP
    ehe = np.flatnonzero(pupils.status == Status.EHE)
    pupils.ehe_route[ehe] = rng.choice(
        [Route.GENUINE, Route.NO_CHOICE, Route.COERCED], size=len(ehe), p=[0.45, 0.45, 0.10]
    )

    out = pupils.status >= Status.S19
    pupils.out_since_week[out] = -rng.integers(1, 52, size=int(out.sum()))

    pupils.family[:] = _group_siblings(pupils.fsm, spec.family_size_shares, rng)
    n_families = int(pupils.family.max()) + 1
    families = Table.empty(FAMILY_COLUMNS, n)  # capacity: at most one family per pupil
    fam_fsm = np.zeros(n_families, dtype=bool)
    fam_fsm[pupils.family] = pupils.fsm
    for name, values in draw_families(n_families, fam_fsm, rng).items():
        families.columns[name][:n_families] = values
    ehe_fam = pupils.family[pupils.ehe_route == Route.GENUINE]
    families.ehe_preference[ehe_fam] = np.maximum(families.ehe_preference[ehe_fam], 0.5)

    schools = _school_table(spec, rng)
    pupils.school[:] = -1
    _assign_schools(pupils, schools, rng)
    return Population(pupils, families, schools, spec, weight)
