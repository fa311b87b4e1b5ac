"""First-come-first-served queues with a weekly service capacity."""

from __future__ import annotations

import itertools

import numpy as np


def serve_oldest(waiting: np.ndarray, joined_week: np.ndarray, n_served: int) -> np.ndarray:
    """The ``n_served`` members of ``waiting`` who joined first (ties by slot order)."""
    if n_served <= 0 or len(waiting) == 0:
        return waiting[:0]
    if n_served >= len(waiting):
        return waiting
    order = np.argsort(joined_week, kind="stable")
    return waiting[order[:n_served]]


def weekly_capacity(base_per_week: float, backlog: int, backlog_response: float, carry: float) -> tuple[int, float]:
    """Whole services this week from a fractional rate; ``carry`` keeps the fraction for next week."""
    rate = base_per_week + backlog_response * backlog + carry
    n = int(rate + 1e-9)  # 0.1 added ten times is 0.999...: count it as the one service it is
    return n, max(rate - n, 0.0)


class DueCalendar:
    """Who is due in which week, so that a weekly process need not scan every pupil's due week.

    A process files (slot, uid) under the week it writes into its due-week column. When that week
    comes, an entry counts only if the slot still holds that child and the column still holds that
    week: exactly the pupils a scan of the column would find, given that the process looks every
    week and only ever sets due weeks from the current week on."""

    def __init__(self):
        self._weeks: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}

    def add(self, slots: np.ndarray, uid: np.ndarray, weeks: np.ndarray) -> None:
        """File ``slots`` (children ``uid[slots]``) under their due ``weeks``."""
        if len(slots) == 0:
            return
        uids = uid[slots]
        first = int(weeks[0])
        if (weeks == first).all():  # the usual case: one week for the whole batch
            self._weeks.setdefault(first, []).append((slots, uids))
            return
        # Several weeks (e.g. CAMHS waits): sort once by week and file each run of equal weeks as a
        # slice, rather than a mask and two selections per distinct week. (Order within a week does
        # not matter: due() sorts.)
        order = np.argsort(weeks, kind="stable")
        by_week, slots, uids = weeks[order], slots[order], uids[order]
        bounds = [0, *((by_week[1:] != by_week[:-1]).nonzero()[0] + 1).tolist(), len(by_week)]
        for start, end in itertools.pairwise(bounds):
            self._weeks.setdefault(int(by_week[start]), []).append((slots[start:end], uids[start:end]))

    def due(self, week: int, uid: np.ndarray, column: np.ndarray) -> np.ndarray:
        """Slots due in ``week`` whose child and due week are unchanged since filing, in slot order."""
        entries = self._weeks.pop(week, None)
        if entries is None:
            return np.zeros(0, dtype=np.intp)
        slots = np.concatenate([e[0] for e in entries])
        uids = np.concatenate([e[1] for e in entries])
        return np.unique(slots[(uid[slots] == uids) & (column[slots] == week)])
