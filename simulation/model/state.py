"""Column arrays for pupils, families and schools, and the codes they hold.

A pupil is a row (a *slot*). Slots are recycled: when a Year 11 pupil ages out
or a family moves away, the slot takes a new child with a new ``uid``. The uid
is ``generation * 2**24 + slot`` so that it depends only on how often the slot
was refilled, which is the same in every scenario (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

SLOT_BITS = 24


class _CodesMeta(type):
    """Iterable, sized namespace of integer codes whose members are plain ``int``.

    Plain ints matter for speed: numpy compares an int8 array with a Python int in place,
    but casts the whole array to int64 to compare it with an ``IntEnum`` member (7x slower).
    """

    def __iter__(cls):
        return iter(cls._codes)

    def __len__(cls) -> int:
        return len(cls._codes)

    def __contains__(cls, value) -> bool:
        return value in cls._names


class Codes(metaclass=_CodesMeta):
    _codes: ClassVar[tuple[int, ...]] = ()
    _names: ClassVar[dict[int, str]] = {}

    def __init_subclass__(cls):
        members = {k: v for k, v in vars(cls).items() if k.isupper() and isinstance(v, int)}
        cls._names = {v: k for k, v in members.items()}
        cls._codes = tuple(sorted(cls._names))
        if len(cls._names) != len(members):
            raise TypeError(f"duplicate code in {cls.__name__}")

    @classmethod
    def name_of(cls, code: int) -> str:
        return cls._names[int(code)]

    @classmethod
    def items(cls) -> list[tuple[str, int]]:
        return [(cls._names[c], c) for c in cls._codes]


class Status(Codes):
    ON_ROLL = 0  # mainstream school roll
    SPECIAL = 1  # special school roll
    AP = 2  # alternative provision / pupil referral unit
    S19 = 3  # out of school, receiving Section 19 provision from the LA
    EHE = 4  # elective home education (as recorded)
    CME = 5  # child missing education
    LEFT = 6  # moved out of the area (transient: the slot is refilled at once)


class SEN(Codes):
    NONE = 0
    SUPPORT = 1
    EHCP = 2


class Need(Codes):
    NONE = 0
    ASD = 1
    SLCN = 2
    SEMH = 3
    MLD = 4
    PHYSICAL = 5
    OTHER = 6
    ANXIETY = 7  # anxiety or another mental-health need; rarely a recorded primary need


class Phase(Codes):
    PRIMARY = 0
    SECONDARY = 1
    SPECIAL = 2


class EHCPStage(Codes):
    NONE = 0
    DECIDING = 1  # request made, six-week decision pending
    TRIBUNAL = 2  # refused, appeal lodged, awaiting hearing
    QUEUED = 3  # agreed to assess, waiting for an assessor
    ASSESSING = 4  # assessment under way


class Reason(Codes):
    """True and recorded reasons for a move between statuses."""

    NONE = 0
    GENUINE_EHE = 1
    NO_CHOICE_EHE = 2
    COERCED_EHE = 3  # pushed by the school; recorded as ELECTIVE_EHE
    LA_STEERED_EHE = 4  # steered by an LA officer; recorded as ELECTIVE_EHE
    ELECTIVE_EHE = 5  # the recorded reason for every EHE entry
    OFFROLLED_UNKNOWN = 6  # pushed off roll, destination unknown (true)
    UNEXPLAINED = 7  # recorded: left the roll, no destination known
    OFFROLLED_TRANSFER = 8  # pushed to another school (true); recorded TRANSFER
    TRANSFER = 9
    MANAGED_MOVE = 10
    PERMANENT_EXCLUSION = 11
    MOVED_AWAY = 12
    ARRIVED = 13
    RETURN_FROM_EHE = 14
    EHE_UNSUITABLE = 15
    SCHOOL_ORDER = 16
    CME_PLACED = 17
    S19_PROVISION = 18
    AP_PLACEMENT = 19
    SPECIAL_PLACEMENT = 20
    REINTEGRATION = 21
    AGED_OUT = 22
    STARTED_SCHOOL = 23  # a new Reception child joins a school roll
    DIRECTED_TO_AP = 24  # the school directs or arranges off-site AP, no exclusion (recorded as such)


class Kind(Codes):
    """Kinds of event in the log; MOVE rows are status changes."""

    MOVE = 0
    SUSPENSION = 1
    FINE = 2  # a penalty notice; value: 1 term-time holiday, 0 other unauthorised absence
    PRESSURE = 3  # off-rolling pressure applied (value: form code)
    EHCP_REQUEST = 4
    EHCP_REFUSED = 5
    EHCP_APPEAL = 6
    TRIBUNAL = 7  # value: 1 won, 0 lost
    EHCP_NO_PLAN = 8
    EHCP_PLAN = 9  # value: weeks from request to plan
    CAMHS_TREATED = 10  # value: weeks waited
    COMPLAINT = 11
    OMBUDSMAN_UPHELD = 12  # value: remedy in GBP
    PARENT_LEFT_WORK = 13
    EHCP_AGREED = 14
    PROSECUTION = 15  # a third case in 3 years, past the penalty-notice cap
    EHCP_REVIEW = 16  # annual review of a plan; value: weeks late (0 on time), -1 if the plan ceased


class Form(Codes):
    """Forms off-rolling pressure takes."""

    ULTIMATUM = 0
    EHE_LETTER = 1
    MANAGED_MOVE = 2
    PART_TIME = 3


class Route(Codes):
    NONE = 0
    GENUINE = 1
    NO_CHOICE = 2
    COERCED = 3


class EHEReason(Codes):
    """The primary reason the LA records for a home education (DfE EHE collection, collapsed)."""

    NONE = 0
    PREFERENCE = 1  # philosophical or preferential, lifestyle, religious
    MENTAL_HEALTH = 2
    DISSATISFACTION = 3  # with the school or its SEND support (bullying included)
    UNKNOWN = 4  # unknown to the LA, other, or no reason given


PUPIL_COLUMNS: dict[str, type] = {
    # identity and characteristics
    "uid": np.int64,
    "generation": np.int64,
    "family": np.int32,
    "year_group": np.int8,  # 0 = Reception ... 11 = Year 11
    "female": np.bool_,
    "fsm": np.bool_,
    "social_care": np.bool_,  # looked after or child in need
    "sen": np.int8,  # SEN code
    "need": np.int8,  # Need code
    "need_intensity": np.float32,  # 0-1
    "vulnerability": np.float32,  # mean 1: scales everyday stress
    "absence_propensity": np.float32,  # mean 1, lognormal
    "behaviour_frailty": np.float32,  # mean 1, gamma
    "base_absence": np.float32,  # absence share before stress, from propensity, FSM and SEN
    "illness_hazard": np.float32,  # weekly hazard of an illness spell, scaled like base_absence
    "holiday_hazard": np.float32,  # weekly hazard of a term-time holiday, carved out of base_absence
    "behaviour_base": np.float32,  # frailty x relative risks fixed by who the pupil is
    "genuine_ehe_hazard": np.float32,  # weekly hazard of choosing home education from preference
    # where the pupil is
    "status": np.int8,
    "school": np.int32,  # -1 when not on a school roll
    "school_exclusion": np.float32,  # copies of the school's traits (0 when not on a roll)
    "school_exclusion_sqrt": np.float32,
    "school_offroll": np.float32,
    "status_since_week": np.int32,  # weeks in status = t_week - status_since_week
    "ehe_route": np.int8,  # Route of the current home education
    "ehe_reason": np.int8,  # EHEReason recorded for it
    # weekly state
    "stress": np.float32,
    "unmet_need": np.float32,
    "distress": np.bool_,  # school distress (EBSA)
    "distress_weeks": np.int16,
    "absence": np.float32,  # this week's absence share
    "part_time_until": np.int32,  # week the part-time timetable ends
    "deterred_until": np.int32,  # week a fine's deterrence ends
    "holiday_week": np.int32,  # -1 none; week of the last term-time holiday
    "notice_week_1": np.int32,  # -1 none; week of the latest penalty notice (the cap counts two in 3 years)
    "notice_week_2": np.int32,  # -1 none; week of the one before
    "half_term_unauth": np.float32,  # unauthorised absence this half term, in weeks (1 = 10 sessions)
    "prev_half_unauth": np.float32,  # the same, last half term (the rolling 10-week window reaches back)
    "prior_year_absence": np.float32,  # -1 none; last academic year's absence share
    # year accumulators (reset at roll-over)
    "sessions_possible": np.float32,  # in weeks
    "sessions_missed": np.float32,
    "autumn_possible": np.float32,
    "autumn_missed": np.float32,
    "half_term_missed": np.float32,
    "suspensions": np.int16,
    "weeks_out": np.float32,  # weeks of education missed out of school
    # processes
    "ehcp_stage": np.int8,
    "ehcp_requested_week": np.int32,
    "ehcp_due_week": np.int32,
    "wants_special": np.bool_,  # the plan names a special school not yet found
    "s19_due_week": np.int32,  # -1 none; week provision starts
    "place_due_week": np.int32,  # -1 none; week a school place is secured
    "camhs_due_week": np.int32,  # -1 none; week treatment starts
    "camhs_referred_week": np.int32,
    "complaint_due_week": np.int32,  # -1 none
    "complaint_start_week": np.int32,
    "out_since_week": np.int32,  # week the pupil last left education
    "exit_true_reason": np.int8,
    "exit_recorded_reason": np.int8,
    "ehcp_review_week": np.int32,  # -1 none; week the plan's next annual review is held
}

# Pupil columns whose "not set" value is -1 (week numbers and the school index), not 0.
UNSET_IS_MINUS_ONE = (
    "ehcp_requested_week", "ehcp_due_week", "s19_due_week", "place_due_week", "camhs_due_week",
    "camhs_referred_week", "complaint_due_week", "complaint_start_week", "out_since_week",
    "part_time_until", "deterred_until", "school", "holiday_week", "notice_week_1", "notice_week_2",
    "prior_year_absence", "ehcp_review_week",
)  # fmt: skip

FAMILY_COLUMNS: dict[str, type] = {
    "advocacy": np.float32,  # knowing rights, time, money (0-1)
    "trust": np.float32,  # trust in school (0-1)
    "ehe_preference": np.float32,  # genuine preference for home education (0-1)
    "ehe_capacity": np.float32,  # capacity to home-educate (0-1)
    "fines": np.int16,
    "parent_left_work": np.bool_,
}

SCHOOL_COLUMNS: dict[str, type] = {
    "phase": np.int8,
    "academy": np.bool_,
    "capacity": np.int32,  # places
    "support_hours": np.float32,  # SEN + pastoral staff hours per week
    "support_ratio": np.float32,  # support hours over the pupils' demand at the start (funding adequacy)
    "inclusion": np.float32,  # 0-1
    "fines_first": np.bool_,
    "exclusion_propensity": np.float32,
    "exclusion_sqrt": np.float32,  # square root, as it enters the suspension hazard
    "offroll_propensity": np.float32,
    "offroll_base": np.float32,  # propensity before any inspection finding
    "scrutiny": np.float32,  # 0-1, rises after a finding
    "feeder": np.int32,  # for primaries: the secondary most pupils move to
    "policy_draw": np.float32,  # fixed uniform: fines-first when below the fines-first share
}


@dataclass
class Table:
    """A set of equally long column arrays; attribute access returns the column."""

    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self):
        # Columns as plain attributes too: the weekly step reads them hundreds of times, and a
        # lookup in the instance dict skips the Python-level __getattr__ below.
        self.__dict__.update(self.columns)

    @classmethod
    def empty(cls, spec: dict[str, type], n: int) -> Table:
        return cls({name: zeros(n, dtype) for name, dtype in spec.items()})

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["columns"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


def zeros(shape: int | tuple[int, ...], dtype) -> np.ndarray:
    """``np.zeros``, with its memory written now. np.zeros maps large arrays lazily, so the first
    write to each page faults; for the model's state that first write is in the first weekly
    step (about 10 ms at 80,000 pupils), and a model allocates its state once: it pays here."""
    a = np.empty(shape, dtype=dtype)
    a.fill(0)
    return a


def make_uid(slot: np.ndarray, generation: np.ndarray) -> np.ndarray:
    return (generation.astype(np.int64) << SLOT_BITS) | slot.astype(np.int64)
