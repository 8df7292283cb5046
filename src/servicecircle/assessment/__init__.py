"""Assess communities against a standards profile: the whole computation in memory.

:func:`assess` takes GeoDataFrames (any CRS) and a
:class:`~servicecircle.network.WalkNetwork` and returns an :class:`Assessment`
of GeoDataFrames and tables; nothing here reads or writes files (see
:mod:`servicecircle.pipeline` and :mod:`servicecircle.outputs`). The stages are
in :mod:`~servicecircle.assessment.stages`, what they pass along in
:mod:`~servicecircle.assessment.state`.
"""

from .result import Assessment
from .run import assess, rerun
from .stages import category_slug, community_population
from .state import DemandPoints, Distances, FacilitySet, Prepared, RunState, Snapping

__all__ = [
    "Assessment",
    "assess",
    "rerun",
    "category_slug",
    "community_population",
    "RunState",
    "Prepared",
    "FacilitySet",
    "DemandPoints",
    "Snapping",
    "Distances",
]
