"""Checks: pure computations on distances, weights and communities.

Each check module exposes a function ``f(ctx) -> list[CheckOutcome]``. The reach
checks (life circles, green and park reach) run first and their gaps are traced;
then every kind in :data:`CHECK_KINDS` runs, in that order, on the same
:class:`Context`. A new kind of check is a module with such a function, added
to :data:`CHECK_KINDS` (see docs/architecture.md, "How to add a check kind").
"""

from collections.abc import Callable

from .compounds import compound_checks
from .context import CheckOutcome, Context
from .floorarea import floor_area_checks
from .gaps import gap_polygons, gap_resolution
from .indicators import indicator_checks
from .lifecircle import lifecircle_checks, reach_outcome
from .measure import WITHIN_TOLERANCE, coverage, within
from .sixones import six_ones_checks
from .targets import target_checks

#: the checks that run after the reach checks and their gaps, in this order
CHECK_KINDS: tuple[Callable[[Context], list[CheckOutcome]], ...] = (
    floor_area_checks,
    six_ones_checks,
    indicator_checks,
    target_checks,
    compound_checks,
)

__all__ = [
    "CHECK_KINDS",
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
