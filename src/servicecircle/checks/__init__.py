"""Checks: pure computations on distances, weights and communities."""

from .gaps import gap_polygons, gap_resolution
from .lifecircle import WITHIN_TOLERANCE, coverage, within

__all__ = ["coverage", "within", "WITHIN_TOLERANCE", "gap_polygons", "gap_resolution"]
