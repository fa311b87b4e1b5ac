"""Hazard clocks: events fire when a pupil's accumulated hazard passes a private threshold.

Each pupil holds an Exp(1) threshold per mechanism, drawn from the mechanism's
stream by (uid, number of times it has fired). The weekly hazard is taken off what
remains of the threshold and the event fires when nothing remains. This is exact
for piecewise-constant hazards, needs no random draw in weeks when nothing happens,
and gives strong common random numbers: a policy that lowers a pupil's hazard
delays that same pupil's event rather than reshuffling who is hit.

A clock keeps one float64 per pupil (the hazard still to go), not a running total
beside its threshold: the weekly step is bound by memory traffic, and a clock
advanced over every pupil then reads and writes one array instead of three.
"""

from __future__ import annotations

import numpy as np

from ..rng import Stream, exponential_keyed, multi_keys
from ..state import zeros


class HazardClock:
    def __init__(self, stream: Stream, uid: np.ndarray, rows: tuple[np.ndarray, np.ndarray] | None = None):
        """A clock per pupil of ``uid``; ``rows`` (remaining, fired) hands it arrays a
        :class:`ClockBank` owns, already holding the starting thresholds."""
        self.stream = stream
        if rows is None:
            self.remaining = stream.exponential(uid, 0)
            self.fired = np.zeros(len(uid), dtype=np.int32)
        else:
            self.remaining, self.fired = rows

    def advance(self, idx: np.ndarray, hazard: np.ndarray | float, uid: np.ndarray) -> np.ndarray:
        """Add one week of ``hazard`` for pupils ``idx``; return those whose event fires."""
        if len(idx) == 0:
            return idx
        remaining = self.remaining[idx]  # a copy (fancy indexing): subtract and redraw in place
        remaining -= hazard
        hit = remaining <= 0.0
        fired = idx[hit]
        if len(fired):
            self.fired[fired] += 1
            remaining[hit] = self.stream.exponential(uid[fired], self.fired[fired])
        self.remaining[idx] = remaining
        return fired

    def advance_all(self, hazard: np.ndarray | float, uid: np.ndarray) -> np.ndarray:
        """As :meth:`advance` for every slot at once (hazard 0 where a pupil is not at risk)."""
        self.remaining -= hazard
        fired = (self.remaining <= 0.0).nonzero()[0]
        if len(fired):
            self.fired[fired] += 1
            self.remaining[fired] = self.stream.exponential(uid[fired], self.fired[fired])
        return fired

    def reset(self, slots: np.ndarray, uid: np.ndarray) -> None:
        """A new child in these slots starts a fresh clock."""
        self.fired[slots] = 0
        self.remaining[slots] = self.stream.exponential(uid[slots], 0)


class ClockBank:
    """Several mechanisms' clocks as the rows of two 2-D arrays.

    A slot refilled with a new child (every week: arrivals) then has all its clocks reset
    with two assignments and one random draw, instead of two assignments per clock."""

    def __init__(self, streams: dict[str, Stream], uid: np.ndarray):
        k, n = len(streams), len(uid)
        self.streams = list(streams.values())
        self.remaining = np.empty((k, n), dtype=np.float64)
        self.fired = zeros((k, n), np.int32)
        self._first_keys = multi_keys(self.streams, 0)  # every new child's thresholds use counter 0
        self.clocks: dict[str, HazardClock] = {}
        for i, (name, stream) in enumerate(streams.items()):
            self.remaining[i] = stream.exponential(uid, 0)
            self.clocks[name] = HazardClock(stream, uid, rows=(self.remaining[i], self.fired[i]))

    def reset(self, slots: np.ndarray, uid: np.ndarray) -> None:
        """:meth:`HazardClock.reset` for every clock of the bank (same numbers, one pass)."""
        if len(slots) == 0:
            return
        self.fired[:, slots] = 0
        self.remaining[:, slots] = exponential_keyed(*self._first_keys, uid[slots])
