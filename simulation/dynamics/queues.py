"""First-come-first-served queues with a weekly service capacity."""

from __future__ import annotations

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
