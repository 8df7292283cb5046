"""What a writer reads from a result: the shape of an assessment, as a protocol.

The writers sit below the assessment layer (``Assessment.map()`` and ``.save()``
call down into them), so they do not import the :class:`~servicecircle.assessment.Assessment`
record; they are typed against this protocol, which the record satisfies, and
which names every attribute a writer may use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from ..checks.context import CheckOutcome
    from ..network.model import WalkNetwork
    from ..profiles import Profile

__all__ = ["AssessmentResult"]


class AssessmentResult(Protocol):
    """The attributes of an assessment the writers read (see :class:`servicecircle.assessment.Assessment`)."""

    communities: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    summary: pd.DataFrame
    warnings: pd.DataFrame
    checks: list[CheckOutcome]
    scorecard: pd.DataFrame
    profile: Profile
    network: WalkNetwork
    parameters: dict[str, Any]
    timings: dict[str, float]
    id_column: str
    name_column: str | None
    layers: dict[str, gpd.GeoDataFrame]
    input_columns: dict[str, dict[str, str]]
    #: the plan's indicator register (a writer reads it with getattr: results made by hand may lack it)
    register: pd.DataFrame
