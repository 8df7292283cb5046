"""The two measures every reach check shares: within a radius, and the covered share per community.

They depend on nothing else in :mod:`servicecircle.checks`, so the gap tracer,
the reach checks and the siting study can all use them without importing each
other (see :mod:`servicecircle.checks.lifecircle` for the definitions).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = ["WITHIN_TOLERANCE", "within", "coverage", "nullable", "every_facility_passes"]

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


def nullable(ok: NDArray[np.bool_], known: NDArray[np.bool_]) -> pd.arrays.BooleanArray:
    """``ok`` as a nullable boolean array, ``<NA>`` where not ``known`` (unknown is never a pass or a fail).

    >>> nullable(np.array([True, False, True]), np.array([True, True, False])).tolist()
    [True, False, <NA>]
    """
    out = pd.array(np.where(known, ok, False), dtype="boolean")
    out[~known] = pd.NA
    return out


def every_facility_passes(
    community: NDArray[np.int64], ok: NDArray[np.bool_], known: NDArray[np.bool_], n_communities: int
) -> pd.arrays.BooleanArray:
    """Per community: every facility in it passes.

    ``community`` is each facility's community (-1: none). A community fails
    when one of its facilities fails; it passes when it has facilities and all
    of them pass; otherwise (none, or one unknown and none failing) it is unknown.

    >>> every_facility_passes(np.array([0, 0, 1, 1, -1]), np.array([True, True, True, False, False]),
    ...                       np.ones(5, dtype=bool), 3).tolist()
    [True, False, <NA>]
    """
    inside = community >= 0
    c = community[inside]
    n_fac = np.bincount(c, minlength=n_communities)
    n_fail = np.bincount(c, weights=(known & ~ok)[inside].astype(float), minlength=n_communities)
    n_ok = np.bincount(c, weights=(known & ok)[inside].astype(float), minlength=n_communities)
    return nullable(n_fail == 0, (n_fail > 0) | ((n_fac > 0) & (n_ok == n_fac)))
