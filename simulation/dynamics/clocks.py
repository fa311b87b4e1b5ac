"""Hazard clocks: events fire when a pupil's accumulated hazard passes a private threshold.

Each pupil holds an Exp(1) threshold per mechanism, drawn from the mechanism's
stream by (uid, number of times it has fired). The weekly hazard is added to a
running total and the event fires when the total reaches the threshold. This is
exact for piecewise-constant hazards, needs no random draw in weeks when nothing
happens, and gives strong common random numbers: a policy that lowers a pupil's
hazard delays that same pupil's event rather than reshuffling who is hit.
"""

from __future__ import annotations

import numpy as np

from ..rng import Stream, exponential_keyed, exponential_keyed_each, multi_keys
from ..state import zeros


class HazardClock:
    def __init__(
        self,
        stream: Stream,
        uid: np.ndarray,
        rows: tuple[np.ndarray, ...] | None = None,
        bank: ClockBank | None = None,
    ):
        """A clock per pupil of ``uid``; ``rows`` (total, fired, threshold) hands it arrays a
        :class:`ClockBank` owns, already holding the starting thresholds."""
        self.stream = stream
        self._bank = bank
        self._pending = False  # fired since the bank last drew new thresholds
        if rows is None:
            self.total = np.zeros(len(uid), dtype=np.float64)
            self.fired = np.zeros(len(uid), dtype=np.int32)
            self.threshold = stream.exponential(uid, 0)
        else:
            self.total, self.fired, self.threshold = rows

    def advance(self, idx: np.ndarray, hazard: np.ndarray | float, uid: np.ndarray) -> np.ndarray:
        """Add one week of ``hazard`` for pupils ``idx``; return those whose event fires."""
        if len(idx) == 0:
            return idx
        if self._pending:
            self._bank.draw_thresholds(uid)
        total = self.total[idx]  # a copy (fancy indexing): add and reset in place
        total += hazard
        hit = total >= self.threshold[idx]
        total[hit] = 0.0
        self.total[idx] = total
        fired = idx[hit]
        self._renew(fired, uid)
        return fired

    def advance_all(self, hazard: np.ndarray | float, uid: np.ndarray) -> np.ndarray:
        """As :meth:`advance` for every slot at once (hazard 0 where a pupil is not at risk)."""
        if self._pending:
            self._bank.draw_thresholds(uid)
        self.total += hazard
        fired = (self.total >= self.threshold).nonzero()[0]
        if len(fired):
            self.total[fired] = 0.0
            self._renew(fired, uid)
        return fired

    def _renew(self, fired: np.ndarray, uid: np.ndarray) -> None:
        """Count the firings and give those pupils new thresholds: now, or, in a bank, with the
        other clocks' at the end of the step (the same numbers, one draw instead of one per clock)."""
        if len(fired) == 0:
            return
        self.fired[fired] += 1
        if self._bank is None:
            self.threshold[fired] = self.stream.exponential(uid[fired], self.fired[fired])
        else:
            self._bank.defer(self, fired, uid)

    def reset(self, slots: np.ndarray, uid: np.ndarray) -> None:
        """A new child in these slots starts a fresh clock."""
        self.total[slots] = 0.0
        self.fired[slots] = 0
        self.threshold[slots] = self.stream.exponential(uid[slots], 0)


class ClockBank:
    """Several mechanisms' clocks as the rows of three 2-D arrays.

    A slot refilled with a new child (every week: arrivals) then has all its clocks reset
    with three assignments and one random draw, instead of three assignments per clock.
    The clocks that fired during a step draw their new thresholds together, in one pass of the
    mixer (:meth:`draw_thresholds`, called at the end of the step, or before a clock with
    undrawn thresholds advances again): a few dozen small draws a week cost more in numpy's
    per-call overhead than in arithmetic."""

    def __init__(self, streams: dict[str, Stream], uid: np.ndarray):
        k, n = len(streams), len(uid)
        self.streams = list(streams.values())
        self.total = zeros((k, n), np.float64)
        self.fired = zeros((k, n), np.int32)
        self.threshold = np.empty((k, n), dtype=np.float64)
        self._first_keys = multi_keys(self.streams, 0)  # every new child's thresholds use counter 0
        self._keys = np.array([s.key for s in self.streams], dtype=np.uint64)
        self._bases = np.array([s._base for s in self.streams], dtype=np.uint64)
        self._deferred: list[tuple[int, np.ndarray, np.ndarray]] = []  # (row, slots, their uids)
        self.clocks: dict[str, HazardClock] = {}
        self._row: dict[int, int] = {}
        for i, (name, stream) in enumerate(streams.items()):
            self.threshold[i] = stream.exponential(uid, 0)
            clock = HazardClock(stream, uid, rows=(self.total[i], self.fired[i], self.threshold[i]), bank=self)
            self.clocks[name] = clock
            self._row[id(clock)] = i

    def defer(self, clock: HazardClock, slots: np.ndarray, uid: np.ndarray) -> None:
        clock._pending = True
        self._deferred.append((self._row[id(clock)], slots, uid[slots]))

    def draw_thresholds(self, uid: np.ndarray) -> None:
        """New thresholds for every firing since the last draw: ``stream.exponential(uid, fired)``
        of each clock, for the slots that still hold the child who fired (a slot refilled since
        was :meth:`reset`, which drew its new child's thresholds)."""
        if not self._deferred:
            return
        rows = np.concatenate([np.full(len(s), r, dtype=np.intp) for r, s, _ in self._deferred])
        slots = np.concatenate([s for _, s, _ in self._deferred])
        uids = np.concatenate([u for _, _, u in self._deferred])
        self._deferred.clear()
        for clock in self.clocks.values():
            clock._pending = False
        same = uid[slots] == uids
        if not same.all():
            rows, slots, uids = rows[same], slots[same], uids[same]
        self.threshold[rows, slots] = exponential_keyed_each(
            self._keys[rows], self._bases[rows], uids, self.fired[rows, slots]
        )

    def reset(self, slots: np.ndarray, uid: np.ndarray) -> None:
        """:meth:`HazardClock.reset` for every clock of the bank (same numbers, one pass)."""
        if len(slots) == 0:
            return
        self.total[:, slots] = 0.0
        self.fired[:, slots] = 0
        self.threshold[:, slots] = exponential_keyed(*self._first_keys, uid[slots])
