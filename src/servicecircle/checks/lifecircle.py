"""The life-circle check: the share of each community's people within reach.

For a community *c* and a facility category with service radius *r*::

    covered(c)   = Σ weight(d)  over demand points d in c with distance(d) ≤ r
    total(c)     = Σ weight(d)  over demand points d in c with a known weight
    share(c)     = 100 × covered(c) / total(c)            (percent)
    uncovered(c) = total(c) − covered(c)
    pass(c)      = share(c) ≥ target share (profile; 100 % unless it says otherwise)

A demand point that could not be snapped to the network (farther than
``max_snap`` from every street) or that lies in a part of the network with no
facility of the category counts as *not* within reach. A community with no demand
weight (no households known, or no demand point) has no share and no pass/fail:
it is reported, not passed.
"""

from __future__ import annotations

import numpy as np

__all__ = ["WITHIN_TOLERANCE", "within", "coverage"]

#: Metres of floating-point slack when comparing a distance with a radius, so a
#: facility exactly at the radius (300 m on paper, 299.99999999997 in floating
#: point) counts as within it.
WITHIN_TOLERANCE = 1e-6


def within(distance: np.ndarray, radius: float) -> np.ndarray:
    """Boolean: ``distance ≤ radius`` (``nan`` and ``inf`` are never within).

    >>> within(np.array([299.9999999999, 300.0, 300.1, np.nan, np.inf]), 300).tolist()
    [True, True, False, False, False]
    """
    d = np.asarray(distance, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.isfinite(d) & (d <= radius + WITHIN_TOLERANCE)


def coverage(
    community: np.ndarray, weight: np.ndarray, reached: np.ndarray, n_communities: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Total weight, covered weight and covered share (percent) per community.

    Parameters
    ----------
    community
        Position of each demand point's community (``-1``: in none).
    weight
        Demand weight of each point (``nan``: unknown, left out of both sums).
    reached
        Whether each point is within reach.
    n_communities
        Number of communities.

    Returns
    -------
    total, covered, share : numpy.ndarray
        ``share`` is ``nan`` where ``total`` is 0.

    Examples
    --------
    >>> coverage(np.array([0, 0, 1, -1]), np.array([3.0, 1.0, 2.0, 5.0]),
    ...          np.array([True, False, False, True]), 3)[2].tolist()
    [75.0, 0.0, nan]
    """
    community = np.asarray(community)
    w = np.asarray(weight, dtype=float)
    use = (community >= 0) & np.isfinite(w)
    total = np.bincount(community[use], weights=w[use], minlength=n_communities)
    got = use & np.asarray(reached, dtype=bool)
    covered = np.bincount(community[got], weights=w[got], minlength=n_communities)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, 100.0 * covered / np.where(total > 0, total, 1.0), np.nan)
    # rounding can put covered a hair above total; keep the invariant exact
    share = np.minimum(share, 100.0)
    return total, covered, share
