"""From the event log and census snapshots to published-definition statistics.

The model knows why each child left (the true reason); published statistics only
know what was recorded. Every metric below is computed from the *recorded* view by
the definition of the statistic it mirrors, except the two hidden truths
``offrolled_per_1000`` and ``ehe_coerced_pct``.
"""

from __future__ import annotations

import numpy as np

from . import timeline as tl
from .metrics import METRICS
from .state import SEN, EHEReason, Kind, Reason, Status
from .world import World

EVENT_FIELDS = (
    "kind",
    "week",
    "uid",
    "slot",
    "from_status",
    "to_status",
    "true_reason",
    "recorded_reason",
    "value",
    "year_group",
    "sen",
    "fsm",
    "need",
    "school",
    "social_care",
)
# EPI (2019) definition: an exit from a school roll is explained by a family move (MOVED_AWAY), a
# move to a special school, a permanent exclusion or a placement the LA arranges (Section 19
# provision); the rest are unexplained: to home education, missing education, alternative provision
# without exclusion, and moves between mainstream schools without a house move.
_UNEXPLAINED_TO = (Status.EHE, Status.CME, Status.AP)
_SCHOOL_MOVES = (Reason.TRANSFER, Reason.MANAGED_MOVE)  # recorded reasons of roll-to-roll moves
_OFFROLLED = (Reason.COERCED_EHE, Reason.OFFROLLED_UNKNOWN, Reason.OFFROLLED_TRANSFER)


_SCALAR_FIELDS = ("kind", "week", "to_status", "true_reason", "recorded_reason")
_PUPIL_FIELDS = (
    ("uid", "uid"),
    ("from_status", "status"),
    ("year_group", "year_group"),
    ("sen", "sen"),
    ("fsm", "fsm"),
    ("need", "need"),
    ("school", "school"),
    ("social_care", "social_care"),
)
_PUPIL_COLUMNS = tuple(col for _, col in _PUPIL_FIELDS)
_DTYPES = {"kind": np.int8, "week": np.int32, "to_status": np.int8, "true_reason": np.int8, "recorded_reason": np.int8}


class _YearChunks:
    """One year's events as appended: per-field lists of arrays, so a year is assembled with one
    concatenation per field rather than by walking every chunk once per field."""

    __slots__ = ("heads", "lengths", "pupil", "slots", "values")

    def __init__(self):
        self.heads: list[tuple[int, int, int, int, int]] = []  # (kind, week, to, true, recorded)
        self.lengths: list[int] = []
        self.slots: list[np.ndarray] = []
        self.pupil: list[list[np.ndarray]] = [[] for _ in _PUPIL_FIELDS]
        self.values: list[np.ndarray | float] = []

    def assemble(self, start: int) -> dict[str, np.ndarray]:
        """The columns of chunks ``start`` onwards."""
        lengths = np.array(self.lengths[start:])
        heads = self.heads[start:]
        out = {
            name: np.repeat(np.array([h[i] for h in heads], dtype=_DTYPES[name]), lengths)
            for i, name in enumerate(_SCALAR_FIELDS)
        }
        out["slot"] = np.concatenate(self.slots[start:])
        for (name, _), parts in zip(_PUPIL_FIELDS, self.pupil, strict=True):
            out[name] = np.concatenate(parts[start:])
        # Most events carry one value for the whole chunk: repeat those, then copy in the arrays.
        values = self.values[start:]
        per_event = [i for i, v in enumerate(values) if isinstance(v, np.ndarray)]
        scalars = [0.0 if isinstance(v, np.ndarray) else v for v in values]
        out["value"] = np.repeat(np.array(scalars, dtype=np.float64), lengths)
        if per_event:
            ends = np.cumsum(lengths)
            for i in per_event:
                out["value"][ends[i] - lengths[i] : ends[i]] = values[i]
        return out


class EventLog:
    """Append-only event log, kept as per-year chunks; columns are assembled when a year is read.

    A year is read twice in the step (Ofsted scrutiny in the summer, the year's statistics at its
    end): what was assembled is kept, and a later read assembles only the chunks added since."""

    def __init__(self):
        self._chunks: dict[int, _YearChunks] = {}
        self._assembled: dict[int, tuple[int, dict[str, np.ndarray]]] = {}

    def record(
        self,
        w: World,
        kind: int,
        idx: np.ndarray,
        *,
        to: int = -1,
        true: int = 0,
        recorded: int = 0,
        value: np.ndarray | float = 0.0,
    ) -> None:
        if len(idx) == 0:
            return
        pu = w.pupils.columns
        t = w.t_week
        chunks = self._chunks.get(t // tl.WEEKS_PER_YEAR)
        if chunks is None:
            chunks = self._chunks[t // tl.WEEKS_PER_YEAR] = _YearChunks()
        chunks.heads.append((int(kind), t, int(to), int(true), int(recorded)))
        chunks.lengths.append(len(idx))
        chunks.slots.append(idx.astype(np.int32))
        for parts, col in zip(chunks.pupil, _PUPIL_COLUMNS, strict=True):
            parts.append(pu[col][idx])  # fancy indexing copies
        chunks.values.append(value)

    def year(self, year_index: int) -> dict[str, np.ndarray]:
        chunks = self._chunks.get(year_index)
        if chunks is None or not chunks.heads:
            return {f: np.zeros(0) for f in EVENT_FIELDS}
        done, out = self._assembled.get(year_index, (0, None))
        if done < len(chunks.heads):
            new = chunks.assemble(done)
            out = new if out is None else {f: np.concatenate([out[f], new[f]]) for f in new}
            for column in out.values():
                column.flags.writeable = False  # shared by every read of the year
            self._assembled[year_index] = (len(chunks.heads), out)
        return {f: out[f] for f in EVENT_FIELDS}

    def drop(self, year_index: int) -> None:
        self._chunks.pop(year_index, None)
        self._assembled.pop(year_index, None)

    def years(self) -> list[int]:
        return sorted(self._chunks)


def _pct(num: float, den: float) -> float:
    return 100.0 * num / den if den > 0 else float("nan")


def _rate_ratio(events_a, pop_a, events_b, pop_b) -> float:
    if pop_a <= 0 or pop_b <= 0 or events_b <= 0:
        return float("nan")
    return (events_a / pop_a) / (events_b / pop_b)


def status_counts(status: np.ndarray) -> np.ndarray:
    """Children in each status (codes 0..6) as floats: ``np.bincount(status, minlength=7)``.

    bincount first widens the int8 column to intp (240 us at 80,000 pupils); a comparison and
    a count per rarer status is a fifth of that, and the rest are on a mainstream roll."""
    counts = np.zeros(len(Status), dtype=np.float64)
    for code in Status:
        if code != Status.ON_ROLL:
            counts[code] = np.count_nonzero(status == code)
    counts[Status.ON_ROLL] = len(status) - counts.sum()
    return counts


class Observer:
    """Collects census snapshots and weekly counts, and turns a finished year into a row."""

    def __init__(self):
        self.weekly: list[np.ndarray] = []
        self.census: dict[str, dict] = {}
        self.start_ehe: np.ndarray = np.zeros(0, np.int64)
        self.start_cme: np.ndarray = np.zeros(0, np.int64)
        self.rows: list[dict] = []
        self.status_counts = np.zeros(len(Status))

    def count_week(self, w: World) -> tuple[np.ndarray, int]:
        """Children by status and in school distress this week, for the Mesa DataCollector (which
        the observer does not know); burn-in weeks are counted too, but not kept here."""
        counts = status_counts(w.pupils.status)
        self.status_counts = counts
        return counts, np.count_nonzero(w.pupils.distress)

    def observe_week(self, w: World) -> tuple[np.ndarray, int]:
        """Count this evaluation week into ``weekly`` and the census; returns :meth:`count_week`."""
        pu = w.pupils
        week = w.week
        if week == 0:
            self.census = {}
            self.start_ehe = pu.uid[pu.status == Status.EHE]
            self.start_cme = pu.uid[pu.status == Status.CME]
        counts, distress = self.count_week(w)
        queue = np.count_nonzero(pu.ehcp_stage >= 3)
        self.weekly.append(np.concatenate([[w.t_week, w.year_index, week], counts, [distress, queue]]))
        if week == tl.AUTUMN_CENSUS:
            self.census["autumn"] = self._snapshot(w)
        elif week == tl.SPRING_CENSUS:
            self.census["spring"] = self._snapshot(w)
        return counts, distress

    @staticmethod
    def _snapshot(w: World) -> dict:
        pu = w.pupils
        on_roll = pu.status <= Status.AP
        mainstream = pu.status == Status.ON_ROLL
        return {
            "population": np.count_nonzero(pu.status != Status.LEFT),
            "ehe": np.count_nonzero(pu.status == Status.EHE),
            "ehe_by_sen": np.bincount(pu.sen[pu.status == Status.EHE], minlength=3),
            "ehe_by_reason": np.bincount(pu.ehe_reason[pu.status == Status.EHE], minlength=len(EHEReason)),
            "ehe_y10_11": np.count_nonzero((pu.status == Status.EHE) & (pu.year_group >= 10)),
            "cme": np.count_nonzero(pu.status == Status.CME),
            "on_roll": np.count_nonzero(on_roll),
            "by_sen": np.bincount(pu.sen[on_roll], minlength=3),
            "fsm": np.count_nonzero(on_roll & pu.fsm),
            "by_year_mainstream": np.bincount(pu.year_group[mainstream | (pu.status == Status.SPECIAL)], minlength=12),
            "y10_11_by_school": np.bincount(pu.school[mainstream & (pu.year_group >= 10)], minlength=len(w.schools)),
        }

    def finish_year(self, w: World) -> dict:
        ev = w.log.year(w.year_index)
        row = compute_year(w, ev, self.census, self.start_ehe, self.start_cme)
        self.rows.append(row)
        return row


def compute_year(w: World, ev: dict, census: dict, start_ehe, start_cme) -> dict:
    """One row of the ``years`` table from a year's events, census snapshots and pupil accumulators."""
    pu, weight = w.pupils, w.weight
    autumn, spring = census["autumn"], census["spring"]
    pop = autumn["population"]
    kind = ev["kind"]
    mv = kind == Kind.MOVE
    to, frm, rec, true = ev["to_status"], ev["from_status"], ev["recorded_reason"], ev["true_reason"]
    r: dict[str, float] = {"n_pupils": pop * weight}

    # Home education and children missing education
    ehe_in = mv & (to == Status.EHE) & (frm != Status.EHE)
    ehe_out = mv & (frm == Status.EHE) & (to != Status.EHE) & (to != Status.LEFT) & (true != Reason.AGED_OUT)
    cme_in = mv & (to == Status.CME) & (frm != Status.CME)
    r["ehe_census_pct"] = _pct(autumn["ehe"], pop)
    r["ehe_anypoint_pct"] = _pct(len(np.union1d(start_ehe, ev["uid"][ehe_in])), pop)
    r["ehe_entries_pct"] = _pct(np.count_nonzero(ehe_in), pop)
    r["ehe_returns_pct"] = _pct(np.count_nonzero(ehe_out & (to <= Status.AP)), pop)
    r["cme_census_pct"] = _pct(autumn["cme"], pop)
    r["cme_anypoint_pct"] = _pct(len(np.union1d(start_cme, ev["uid"][cme_in])), pop)

    # Exclusions and suspensions (January census headcount as the denominator, as DfE)
    on_roll = spring["on_roll"]
    pex = mv & (rec == Reason.PERMANENT_EXCLUSION)
    susp = kind == Kind.SUSPENSION
    r["pex_rate"] = _pct(np.count_nonzero(pex), on_roll)
    r["suspension_rate"] = _pct(np.count_nonzero(susp), on_roll)
    by_sen = spring["by_sen"]
    n_pex_sen = np.bincount(ev["sen"][pex].astype(np.int64), minlength=3)
    r["pex_rr_ehcp"] = _rate_ratio(n_pex_sen[SEN.EHCP], by_sen[SEN.EHCP], n_pex_sen[SEN.NONE], by_sen[SEN.NONE])
    r["pex_rr_sen_support"] = _rate_ratio(
        n_pex_sen[SEN.SUPPORT], by_sen[SEN.SUPPORT], n_pex_sen[SEN.NONE], by_sen[SEN.NONE]
    )
    n_pex_fsm = np.count_nonzero(pex & ev["fsm"])
    r["pex_rr_fsm"] = _rate_ratio(n_pex_fsm, spring["fsm"], np.count_nonzero(pex) - n_pex_fsm, on_roll - spring["fsm"])

    # Absence from the pupils' accumulators (full year and autumn term)
    possible, missed = pu.sessions_possible, pu.sessions_missed
    enrolled = possible >= 1
    rate = np.divide(missed, possible, out=np.zeros_like(missed), where=enrolled)
    r["absence_overall_pct"] = _pct(missed[enrolled].sum(), possible[enrolled].sum())
    r["persistent_absence_pct"] = _pct(np.count_nonzero(enrolled & (rate >= 0.1)), np.count_nonzero(enrolled))
    r["severe_absence_pct"] = _pct(np.count_nonzero(enrolled & (rate >= 0.5)), np.count_nonzero(enrolled))
    a_pos, a_mis = pu.autumn_possible, pu.autumn_missed
    a_enr = a_pos >= 1
    a_pa = a_enr & (np.divide(a_mis, a_pos, out=np.zeros_like(a_mis), where=a_enr) >= 0.1)
    for name, group in (
        ("ehcp", pu.sen == SEN.EHCP),
        ("sen_support", pu.sen == SEN.SUPPORT),
        ("no_sen", pu.sen == SEN.NONE),
        ("fsm", pu.fsm),
    ):
        r[f"persistent_absence_pct_{name}"] = _pct(np.count_nonzero(a_pa & group), np.count_nonzero(a_enr & group))

    # SEN and the EHCP process
    r["ehcp_pct"] = _pct(by_sen[SEN.EHCP], on_roll)
    r["sen_support_pct"] = _pct(by_sen[SEN.SUPPORT], on_roll)
    n_req = np.count_nonzero(kind == Kind.EHCP_REQUEST)
    n_ref = np.count_nonzero(kind == Kind.EHCP_REFUSED)
    n_agreed = np.count_nonzero(kind == Kind.EHCP_AGREED)
    plans = ev["value"][kind == Kind.EHCP_PLAN]
    n_no_plan = np.count_nonzero(kind == Kind.EHCP_NO_PLAN)
    tribunal = ev["value"][kind == Kind.TRIBUNAL]
    r["ehcp_requests"] = n_req * weight
    r["ehcp_refusal_pct"] = _pct(n_ref, n_ref + n_agreed)
    r["ehcp_timely_pct"] = _pct(np.count_nonzero(plans <= 20), len(plans))
    r["ehcp_over_52w_pct"] = _pct(np.count_nonzero(plans > 52), len(plans))
    r["ehcp_mean_wait_weeks"] = float(plans.mean()) if len(plans) else float("nan")
    r["tribunal_appeal_pct"] = _pct(np.count_nonzero(kind == Kind.EHCP_APPEAL), n_ref + n_no_plan + len(plans))
    r["tribunal_win_pct"] = _pct(np.count_nonzero(tribunal == 1), len(tribunal))
    reviews = ev["value"][kind == Kind.EHCP_REVIEW]
    r["ehcp_reviews_late_pct"] = _pct(np.count_nonzero(reviews > 0), len(reviews))
    r["ehcp_ceased_at_review_pct"] = _pct(np.count_nonzero(reviews < 0), len(reviews))

    # Who enters home education
    n_in = np.count_nonzero(ehe_in)
    r["ehe_sen_pct"] = _pct(np.count_nonzero(ehe_in & (ev["sen"] > 0)), n_in)
    r["ehe_ehcp_pct"] = _pct(np.count_nonzero(ehe_in & (ev["sen"] == SEN.EHCP)), n_in)
    r["ehe_census_sen_support_pct"] = _pct(autumn["ehe_by_sen"][SEN.SUPPORT], autumn["ehe"])
    r["ehe_census_ehcp_pct"] = _pct(autumn["ehe_by_sen"][SEN.EHCP], autumn["ehe"])
    r["ehe_y10_11_pct"] = _pct(np.count_nonzero(ehe_in & (ev["year_group"] >= 10)), n_in)
    r["ehe_census_y10_11_pct"] = _pct(autumn["ehe_y10_11"], autumn["ehe"])
    by_reason = autumn["ehe_by_reason"]
    r["ehe_reason_preference_pct"] = _pct(by_reason[EHEReason.PREFERENCE], autumn["ehe"])
    r["ehe_reason_mental_health_pct"] = _pct(by_reason[EHEReason.MENTAL_HEALTH], autumn["ehe"])
    r["ehe_reason_dissatisfaction_pct"] = _pct(by_reason[EHEReason.DISSATISFACTION], autumn["ehe"])
    r["ehe_reason_unknown_pct"] = _pct(by_reason[EHEReason.UNKNOWN], autumn["ehe"])
    known = ehe_in & (ev["value"] >= 0)  # children with a full school year before the exit
    r["ehe_entrants_prior_absence_pct"] = _pct(np.count_nonzero(known & (ev["value"] >= 0.1)), np.count_nonzero(known))

    # Penalty notices (national framework from August 2024) and prosecutions past the cap
    notices = kind == Kind.FINE
    r["fines_per_100"] = _pct(np.count_nonzero(notices), on_roll)
    r["fines_holiday_pct"] = _pct(np.count_nonzero(notices & (ev["value"] == 1)), np.count_nonzero(notices))
    r["fined_children_pct"] = _pct(len(np.unique(ev["uid"][notices])), on_roll)
    r["prosecutions_per_10000"] = 100.0 * _pct(np.count_nonzero(kind == Kind.PROSECUTION), on_roll)

    # Unexplained exits (EPI 2019): off a school roll to EHE, CME or AP without exclusion, or to
    # another mainstream school with no house move behind it (transfers and managed moves)
    from_roll = mv & ((frm == Status.ON_ROLL) | (frm == Status.SPECIAL))
    between_schools = from_roll & (to == Status.ON_ROLL) & np.isin(rec, _SCHOOL_MOVES)
    unexplained = (from_roll & np.isin(to, _UNEXPLAINED_TO) & (rec != Reason.PERMANENT_EXCLUSION)) | between_schools
    ap_no_pex = from_roll & (to == Status.AP) & (rec != Reason.PERMANENT_EXCLUSION)
    r["ap_without_exclusion_per_1000"] = 1000.0 * len(np.unique(ev["uid"][ap_no_pex])) / pop
    r["unexplained_moves_between_schools_per_1000"] = 1000.0 * np.count_nonzero(between_schools) / pop
    by_year = np.bincount(ev["year_group"][unexplained].astype(np.int64), minlength=12)
    roll_by_year = autumn["by_year_mainstream"]
    hazard = np.divide(by_year[7:12], roll_by_year[7:12], out=np.zeros(5), where=roll_by_year[7:12] > 0)
    r["unexplained_exit_cohort_pct"] = 100.0 * (1.0 - np.prod(1.0 - np.minimum(hazard, 1.0)))
    sec = w.school_ids[1]
    sec_exits = np.bincount(ev["school"][unexplained & (ev["school"] >= 0)].astype(np.int64), minlength=len(w.schools))[
        sec
    ]
    top = max(1, int(np.ceil(0.06 * len(sec))))
    r["unexplained_exit_top6_share_pct"] = _pct(np.sort(sec_exits)[::-1][:top].sum(), sec_exits.sum())

    # Costs to children and families
    r["pupil_weeks_missed_per_1000"] = 1000.0 * (missed.sum() + pu.weeks_out.sum()) / pop
    camhs = ev["value"][kind == Kind.CAMHS_TREATED]
    r["camhs_wait_weeks_mean"] = float(camhs.mean()) if len(camhs) else float("nan")
    upheld = kind == Kind.OMBUDSMAN_UPHELD
    r["complaints_upheld_per_1000"] = 1000.0 * np.count_nonzero(upheld) / pop
    r["remedy_gbp_per_1000"] = 1000.0 * ev["value"][upheld].sum() / pop
    r["parents_left_work_per_1000"] = 1000.0 * np.count_nonzero(kind == Kind.PARENT_LEFT_WORK) / pop

    # Hidden truths
    r["offrolled_per_1000"] = 1000.0 * np.count_nonzero(mv & np.isin(true, _OFFROLLED)) / pop
    coerced = ehe_in & np.isin(true, (Reason.COERCED_EHE, Reason.LA_STEERED_EHE))
    r["ehe_coerced_pct"] = _pct(np.count_nonzero(coerced), n_in)
    return {k: float(r[k]) for k in METRICS}


def observe(w: World) -> tuple[np.ndarray, int]:
    """Phase 12: weeks of education missed, then (after burn-in) this week's counts, and at the
    year's end its statistics. Returns the week's counts by status and in distress, burn-in
    weeks included (about 30 us at 80,000 pupils), so the DataCollector has a row every step."""
    pu = w.pupils
    if w.is_term:
        out = (pu.status >= Status.S19).nonzero()[0]
        st = pu.status[out]
        waiting = pu.s19_due_week[out] > w.t_week
        missed = np.where(st == Status.CME, 1.0, 0.0)
        missed += (st == Status.S19) * np.where(waiting, 1.0, 1.0 - w.p["s19_hours_per_week"] / 25.0)
        pu.weeks_out[out] += missed
    if w.t_week < w.burn_in_weeks:
        if w.week == tl.WEEKS_PER_YEAR - 1:
            w.log.drop(w.year_index)
        return w.observer.count_week(w)
    counts = w.observer.observe_week(w)
    if w.week == tl.WEEKS_PER_YEAR - 1:
        w.observer.finish_year(w)
        if not w.record_events:
            w.log.drop(w.year_index)
    return counts
