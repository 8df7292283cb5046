"""What each stage of an assessment hands to the next, typed; and what a rerun keeps.

The stages of :func:`servicecircle.assess` (see :mod:`servicecircle.assessment.stages`)
pass these objects along: :class:`Prepared` (the inputs, checked and in the
network's metric CRS), :class:`DemandPoints`, :class:`Snapping`,
:class:`Distances`. :class:`RunState` is what a scenario or a siting study
reuses from an assessment: everything that does not depend on the facilities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..engine import Attachment, DistanceEngine, Snapped
from ..options import Options
from ..profiles import Profile

__all__ = ["Prepared", "FacilitySet", "DemandPoints", "Snapping", "Distances", "RunState"]


@dataclass
class FacilitySet:
    """The facilities, checked, with their metric geometry and profile categories."""

    frame: gpd.GeoDataFrame  # prepared, input CRS, every input column
    geom: np.ndarray  # metric CRS (shapely objects)
    key: np.ndarray  # category key per facility (None where the category is blank)
    in_profile: np.ndarray  # bool: the category is one of the profile's


@dataclass
class Prepared:
    """The communities and facilities, checked, with metric geometry."""

    boundaries: gpd.GeoDataFrame  # prepared, input CRS, every input column
    comm_geom: np.ndarray  # metric CRS
    comm_ids: np.ndarray
    facilities: FacilitySet
    #: each community's type and the rule that gave it (``inputs.units.CommunityTypes``), its units
    #: (``inputs.units.UnitHierarchy``) and the residential compounds (metric CRS), where known
    types: Any = None
    units: Any = None
    compounds: gpd.GeoDataFrame | None = None

    @property
    def n_comm(self) -> int:
        return len(self.comm_geom)


@dataclass
class DemandPoints:
    """Where the people are: one weighted point per building, sample, or raster-cell piece."""

    geom: np.ndarray  # metric CRS
    weight: np.ndarray
    community: np.ndarray  # position of each point's community (-1: none)
    area: np.ndarray | None  # residential area each point stands for (m²), sampled demand only
    table: pd.DataFrame  # the demand layer's own columns (input attributes, or how the points were made)
    kind: str  # "layer", "raster" or "sampled"
    weight_kind: str  # "households", "residents", a weight column's name, or "count"
    households: np.ndarray  # per community (nan: unknown)
    residents: np.ndarray  # per community (nan: unknown)
    no_weight: np.ndarray  # per community: its demand carries no usable weight
    attrs: dict[str, Any] = field(default_factory=dict)  # provenance of a demand layer or raster


@dataclass
class Snapping:
    """Facilities and demand snapped to the streets, and the engine over the facilities."""

    facilities: Snapped
    demand: Snapped
    engine: DistanceEngine
    attachment: Attachment  # the demand points attached to the engine's graph


@dataclass
class Distances:
    """Network distances per category: to every demand point, to every graph node, counts within radii."""

    categories: list[str]
    demand: dict[str, np.ndarray] = field(default_factory=dict)
    nodes: dict[str, np.ndarray] = field(default_factory=dict)
    counts: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class RunState:
    """What a rerun (a scenario, a siting study) reuses from an assessment.

    Everything here is independent of the facilities, except ``distances`` and
    ``outcomes``, which a rerun keeps only for the categories it does not touch.
    """

    options: Options
    profile: Profile
    prepared: Prepared
    demand: DemandPoints
    demand_snap: Snapped
    distances: Distances
    gap_grid: Any  # checks.gaps.GapGrid or None
    destinations: dict[str, dict[str, np.ndarray]]
    green_keys: frozenset[str]
    facilities_input: gpd.GeoDataFrame | None = None  # the facilities as given (a scenario edits these)
    greenspace: gpd.GeoDataFrame | None = None
    entrances: gpd.GeoDataFrame | None = None
    lattice_store: Any = None
    elevation: Any = None  # inputs.rasters.ElevationGrid given to assess, or None
