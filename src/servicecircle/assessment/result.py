"""What an assessment produced: :class:`Assessment`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ..checks import CheckOutcome
from ..network.model import WalkNetwork
from ..profiles import Profile
from .state import RunState

__all__ = ["Assessment"]


@dataclass
class Assessment:
    """Everything an assessment produced; GeoDataFrames are in the network's metric CRS.

    Attributes
    ----------
    communities
        Every input boundary with every input attribute, plus ``weight_total``,
        ``n_demand`` and, per check, ``cov_<cat>`` (percent of weight within
        reach), ``pass_<cat>`` and ``unc_<cat>`` (weight out of reach), and
        ``checks_assessed``, ``checks_failed``, ``worst_cov``.
    demand
        Every demand point with its attributes, ``community_id``, ``weight``,
        ``snap_m``, ``snapped`` and per category ``dist_<cat>`` (metres, empty
        where unreachable) and ``n_<cat>_<r>m`` (facilities within each radius).
    facilities
        Every input facility with its attributes, ``category_key``,
        ``in_profile``, ``snap_m``, ``snapped`` and ``community_id``.
    gaps
        One row per failed check and community: the uncovered part of the
        community (``None`` if the grid found no uncovered cell).
    summary
        One row per check, citywide.
    warnings
        Every data warning raised, one row each.
    input_columns
        Per layer, every input column's name in the output → its name in the
        input (they differ where an output column took the name: see
        :func:`~servicecircle.inputs.columns.keep_input_columns`).
    register
        The plan's indicator register, one row per target (:func:`servicecircle.checks.register.register_table`):
        assessed (the check's citywide value, target and result) or not assessed (why, and the data needed).
    state
        What a scenario or a siting study reuses (:class:`RunState`); not exported.
    """

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
    parameters: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    id_column: str = "community_id"
    name_column: str | None = None
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    #: per layer (communities, facilities, demand): output column → the input column it holds
    input_columns: dict[str, dict[str, str]] = field(default_factory=dict)
    #: the plan's indicator register: every target, assessed or not (see checks/register.py)
    register: pd.DataFrame = field(default_factory=pd.DataFrame)
    state: RunState | None = field(default=None, repr=False)

    def map(self, **kwargs: Any) -> Any:
        """The interactive gap map (a ``folium.Map``); see :func:`servicecircle.outputs.gap_map`."""
        from ..outputs.gapmap import gap_map

        return gap_map(self, **kwargs)

    def save(self, out_dir: str | Path, **kwargs: Any) -> dict[str, Path]:
        """Write ``shortfall.gpkg``, ``gap_map.html`` and ``summary.csv`` to ``out_dir``."""
        from ..outputs import save_assessment

        return save_assessment(self, out_dir, **kwargs)

    def __repr__(self) -> str:
        failed = int((self.summary["communities_failed"] > 0).sum()) if len(self.summary) else 0
        return (
            f"<Assessment {len(self.communities)} communities, {len(self.facilities)} facilities, "
            f"{len(self.demand)} demand points, {len(self.checks)} checks ({failed} with failures), "
            f"profile {self.profile.key!r}>"
        )
