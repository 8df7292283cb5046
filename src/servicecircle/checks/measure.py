"""The two measures every reach check shares: within a radius, and the covered share per community.

They depend on nothing else in :mod:`servicecircle.checks`, so the gap tracer,
the reach checks and the siting study can all use them without importing each
other (see :mod:`servicecircle.checks.lifecircle` for the definitions).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["WITHIN_TOLERANCE", "within", "coverage"]

#: Metres of floating-point slack when comparing a distance with a radius, so a
#: facility exactly at the radius (300 m on paper, 299.99999999997 in floating
#: point) counts as within it.
WITHIN_TOLERANCE = 1e-6


def within(distance: ArrayLike, radius: float | NDArray[np.float64]) -> NDArray[np.bool_]:
    """Boolean: ``distance ≤ radius`` (``nan`` and ``inf`` are never within).

    ``radius`` is one number or one per distance.

    >>> within(np.array([299.9999999999, 300.0, 300.1, np.nan, np.inf]), 300).tolist()
    [True, True, False, False, False]
    """
    d = np.asarray(distance, dtype=float)
    with np.errstate(invalid="ignore"):
        inside: NDArray[np.bool_] = np.isfinite(d) & (d <= radius + WITHIN_TOLERANCE)
    return inside


def coverage(
    community: ArrayLike, weight: ArrayLike, reached: ArrayLike, n_communities: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
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
    comm = np.asarray(community)
    w = np.asarray(weight, dtype=float)
    use = (comm >= 0) & np.isfinite(w)
    # numpy's stub types every bincount as intp; with weights it is float64
    total: NDArray[np.float64] = np.bincount(comm[use], weights=w[use], minlength=n_communities)  # type: ignore[assignment]
    got = use & np.asarray(reached, dtype=bool)
    covered: NDArray[np.float64] = np.bincount(comm[got], weights=w[got], minlength=n_communities)  # type: ignore[assignment]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, 100.0 * covered / np.where(total > 0, total, 1.0), np.nan)
    # rounding can put covered a hair above total; keep the invariant exact
    share = np.minimum(share, 100.0)
    return total, covered, share
