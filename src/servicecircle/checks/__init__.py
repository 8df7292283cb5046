"""Checks: pure computations on distances, weights and communities.

Each check module exposes a function ``f(ctx, ...) -> list[CheckOutcome]``.
"""

from .context import CheckOutcome, Context
from .gaps import gap_polygons, gap_resolution
from .lifecircle import lifecircle_checks, reach_outcome
from .measure import WITHIN_TOLERANCE, coverage, within

__all__ = [
    "CheckOutcome",
    "Context",
    "coverage",
    "within",
    "WITHIN_TOLERANCE",
    "gap_polygons",
    "gap_resolution",
    "lifecircle_checks",
    "reach_outcome",
]
