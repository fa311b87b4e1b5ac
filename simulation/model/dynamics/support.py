"""Support allocation: each school rations finite staff hours, EHCPs first.

Within a school, tiers are served in order (plans, then SEN support, then pastoral
help for highly stressed pupils); inside a tier every pupil gets the same share of
their demand. A pupil's unmet need is what is left, scaled by need intensity.
"""

from __future__ import annotations

import numpy as np

TIER_EHCP, TIER_SEN, TIER_PASTORAL = 0, 1, 2


def share_met(school: np.ndarray, tier: np.ndarray, demand: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Share of each pupil's demand the school can meet, serving tiers in order.

    ``demand`` is in hours; ``capacity`` holds each school's hours. Pupils with no
    demand get 1.
    """
    share = np.ones(len(school), dtype=np.float64)
    groups = [(tier == level).nonzero()[0] for level in (TIER_EHCP, TIER_SEN, TIER_PASTORAL)]
    for rows, got in zip(groups, share_by_tier([(school[g], demand[g]) for g in groups], capacity), strict=True):
        share[rows] = got
    return share


def share_by_tier(tiers: list[tuple[np.ndarray, np.ndarray]], capacity: np.ndarray) -> list[np.ndarray]:
    """As :func:`share_met`, with the pupils of each tier given separately as (school, demand), in tier
    order. This is the form the model uses: no masks over mixed tiers in the weekly step."""
    remaining = capacity.astype(np.float64).copy()
    n_schools = len(capacity)
    shares = []
    for school, demand in tiers:
        if len(school) == 0:
            shares.append(np.ones(0))
            continue
        wanted = np.bincount(school, weights=demand, minlength=n_schools)
        frac = np.ones(n_schools)
        np.divide(remaining, wanted, out=frac, where=wanted > 0)
        np.minimum(frac, 1.0, out=frac)
        remaining = np.maximum(remaining - frac * wanted, 0.0)  # no negative remainder from rounding
        shares.append(np.where(demand > 0, frac[school], 1.0))
    return shares


def unmet_need(intensity: np.ndarray, share: np.ndarray, fidelity: np.ndarray | float) -> np.ndarray:
    """Unmet need on 0-1: intensity times the undelivered share (plans deliver at most ``fidelity``)."""
    return intensity * (1.0 - fidelity * share)


def unmet_pastoral(share: np.ndarray, weight: float) -> np.ndarray:
    """A stressed pupil without SEN who gets no pastoral help carries unmet need ``weight``."""
    return weight * (1.0 - share)
