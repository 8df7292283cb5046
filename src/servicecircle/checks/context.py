"""What every check needs, computed once: the network engine, demand, communities.

A check is a function ``check(ctx) -> list[CheckOutcome]``. It reads the
:class:`Context` and returns per-community columns, a citywide summary row,
scorecard rows and gap rows; it never reads or writes files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..engine import Attachment, DistanceEngine, Snapped
from ..network.model import WalkNetwork
from ..options import Options
from ..profiles import Profile

if TYPE_CHECKING:
    import pyproj

    from ..engine.snapping import LatticeStore
    from .grid import GapGrid

__all__ = ["Context", "CheckOutcome", "PendingGaps"]


class PendingGaps(TypedDict):
    """The gaps a reach check leaves to trace (see :func:`servicecircle.checks.gaps.trace_gaps`)."""

    #: positions of the failing communities
    fail: NDArray[np.intp]
    #: ``grid -> distance of every cell of the gap grid``
    cell_dist: Callable[[GapGrid], NDArray[np.float64]]
    #: metres: one radius, or one per community (position) when it depends on the community's type
    radius: float | NDArray[np.float64]
    #: the gap rows of the failing communities, without area and geometry: column -> one value for all of them,
    #: or an array parallel to ``fail``
    rows: dict[str, Any]


@dataclass
class CheckOutcome:
    """The result of one check, ready to be merged into the outputs.

    Attributes
    ----------
    key
        Unique key (``kindergarten``, ``green``, ``park``, ``floor_area``, ``six_ones`` ...).
    kind
        ``lifecircle``, ``reach``, ``floor_area``, ``six_ones`` or ``indicator``.
    name_zh, name_en
        What is checked, for tables and the map.
    columns
        Per-community columns (arrays parallel to the communities).
    pass_col
        The column holding pass/fail (nullable boolean), if the check has one.
    score_col, score_unit
        The column the map colours communities by, and its unit (``%``, ``m²`` ...).
    summary
        One citywide row for ``summary``.
    scorecard
        Rows for the citywide scorecard (one per target).
    gaps
        Rows for the ``gaps`` layer, as tables: column -> one value for every
        row, or an array (a ``geometry`` array gives the number of rows).
    layers
        Extra output layers (name → GeoDataFrame), e.g. ``greenspace``.
    demand_columns
        Columns for the ``demand`` layer (arrays parallel to the demand points).
    category
        Facility category the check is about (map markers), if one.
    radius_m, target
        The service radius and the target (percent, m² ...) where they apply.
    cov_col, unc_col
        Coverage (%) and uncovered-weight columns of reach checks.
    """

    key: str
    kind: str
    name_zh: str
    name_en: str
    source: str
    confirmed: bool
    columns: dict[str, Any] = field(default_factory=dict)
    pass_col: str | None = None
    score_col: str | None = None
    score_unit: str = "%"
    summary: dict[str, Any] = field(default_factory=dict)
    scorecard: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    layers: dict[str, Any] = field(default_factory=dict)
    demand_columns: dict[str, Any] = field(default_factory=dict)
    category: str | None = None
    radius_m: float | None = None
    target: float | None = None
    cov_col: str | None = None
    unc_col: str | None = None
    #: the communities the check applies to (by its ``applies_to`` and their types); None: all
    applies: NDArray[np.bool_] | None = None
    #: gaps still to trace (see :func:`servicecircle.checks.gaps.trace_gaps`)
    pending_gaps: PendingGaps | None = None
    #: service areas still to build (see :func:`servicecircle.checks.timed.add_service_areas`)
    pending_service_areas: Any = None
    level: str = ""
    level_name_zh: str = ""
    level_name_en: str = ""

    @property
    def label_zh(self) -> str:
        return f"{self.name_zh} ≤{self.radius_m:g}米" if self.radius_m else self.name_zh

    @property
    def label_en(self) -> str:
        return f"{self.name_en} ≤ {self.radius_m:g} m" if self.radius_m else self.name_en


@dataclass
class Context:
    """Shared state of one assessment (all geometry in the network's metric CRS)."""

    profile: Profile
    network: WalkNetwork
    engine: DistanceEngine
    max_snap: float
    progress: bool | None
    # communities
    boundaries: Any  # prepared GeoDataFrame, input CRS
    comm_geom: NDArray[np.object_]
    comm_ids: NDArray[Any]  # as in the input: integers or text
    households: NDArray[np.float64]
    residents: NDArray[np.float64]
    # facilities
    facilities: Any  # prepared GeoDataFrame, input CRS
    fac_geom: NDArray[np.object_]
    fac_key: NDArray[np.object_]
    fac_snap: Snapped
    # demand
    d_geom: NDArray[np.object_]
    d_weight: NDArray[np.float64]
    d_comm: NDArray[np.int64]
    d_snap: Snapped
    d_att: Attachment
    weight_kind: str
    d_area: NDArray[np.float64] | None = None  # residential area each demand point stands for (m²)
    #: facility attribute columns by role: "floor_area", "build_type", "places", "area" (name or None)
    fac_columns: dict[str, str | None] = field(default_factory=dict)
    #: community of each facility (position, -1: outside every boundary)
    fac_comm: NDArray[np.int64] | None = None
    #: destinations that are not facility points, by category key (e.g. "public_green" from the green
    #: spaces): {"inside": bool per community, "dist": distance per demand point}
    destinations: dict[str, dict[str, NDArray[Any]]] = field(default_factory=dict)
    gap_resolution_m: float | None = None
    #: node distances to the nearest facility per category, filled as the checks ask (see :meth:`node_distances`)
    node_dist: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    #: the gap grid, once built (see :func:`servicecircle.checks.gaps.gap_grid`); a scenario hands its base's in
    grid: GapGrid | None = None
    #: where snapped gap-grid cells are kept between runs (an ``engine.snapping.LatticeStore``), or None
    lattice_store: LatticeStore | None = None
    #: every option of the run (a check reads its own knobs here: ``ctx.options.<name>``)
    options: Options = field(default_factory=Options)
    #: the elevation read already (an ``inputs.rasters.ElevationGrid``, given as ``sc.assess(elevation=...)``);
    #: None: ``options.dem``'s file, if any
    elevation: Any = None
    #: per community "urban" | "town" | "rural" | None (unknown) (see :mod:`servicecircle.inputs.units`)
    comm_type: NDArray[np.object_] | None = None
    #: per unit level ("township", "county", "city") the unit code (text) of each community, None unknown
    comm_units: dict[str, NDArray[np.object_]] = field(default_factory=dict)
    #: level -> unit code -> unit name
    unit_names: dict[str, dict[str, str]] = field(default_factory=dict)
    #: the residential compounds (小区), metric CRS, with ``community`` (position, -1: none), or None
    compounds: Any = None
    #: why an indicator or target of this run gave no result, by its output key (the register reports it)
    not_assessed: dict[str, str] = field(default_factory=dict)
    _types_warned: bool = field(default=False, repr=False)

    @property
    def n_comm(self) -> int:
        return len(self.comm_geom)

    @property
    def crs(self) -> pyproj.CRS:
        return self.network.crs

    @cached_property
    def comm_area(self) -> NDArray[np.float64]:
        """Area of each community, m² (0 for an empty geometry)."""
        import shapely

        area: NDArray[np.float64] = shapely.area(self.comm_geom)
        return np.nan_to_num(area, nan=0.0)

    def types(self) -> NDArray[np.object_]:
        """The type of each community, with the profile's ``default_type`` where unknown.

        Where the type is unknown and the profile names no default, the value is None.
        """
        if self.comm_type is None:
            out = np.full(self.n_comm, None, dtype=object)
        else:
            out = np.asarray(self.comm_type, dtype=object).copy()
        default = self.profile.default_type
        missing = pd.isna(out).astype(bool)
        if default is not None and missing.any():
            out[missing] = default
            if not self._types_warned:
                from ..errors import warn_data

                warn_data(
                    "community_type_assumed",
                    f"{int(missing.sum())} communities have no known type: taken as {default} (the profile's "
                    f"default_type, {self.profile.key}); give their type with type_column, or their codes and "
                    "a code register",
                    count=int(missing.sum()),
                )
                self._types_warned = True
        return out

    def applies(self, applies_to: Iterable[str]) -> NDArray[np.bool_]:
        """Whether a rule for community types ``applies_to`` applies to each community.

        A rule for every type applies to every community, whatever its type; a
        rule for some types applies to communities of those types, and not to
        a community of unknown type (whose result is then unknown, not a fail).

        >>> from servicecircle.profiles import load_profile
        >>> ctx = Context.__new__(Context)
        >>> ctx.profile, ctx.comm_geom = load_profile("gb50180"), np.empty(3, dtype=object)
        >>> ctx.comm_type = np.array(["urban", "town", "rural"], dtype=object)
        >>> ctx.applies(["urban", "town", "rural"]).tolist(), ctx.applies(["urban"]).tolist()
        ([True, True, True], [True, False, False])
        """
        wanted = set(applies_to)
        if wanted >= {"urban", "town", "rural"}:
            return np.ones(self.n_comm, dtype=bool)
        types = self.types()
        return np.array([t in wanted for t in types], dtype=bool)

    def scope(self, applies_to: Iterable[str], what: str) -> NDArray[np.bool_] | None:
        """:meth:`applies`, or None for a rule of every type; warns once per rule about unknown types.

        ``what`` names the rule in the warning (``"the Kindergarten check"``).
        """
        wanted = tuple(applies_to)
        if set(wanted) >= {"urban", "town", "rural"}:
            return None
        unknown = ~self.type_known()
        if unknown.any():
            from ..errors import warn_data

            warn_data(
                "community_type_unknown",
                f"{int(unknown.sum())} communities have no known type, and {what} applies to "
                f"{', '.join(wanted)} communities only: they get no result for it (give their type with "
                "type_column, or their codes and a code register)",
                count=int(unknown.sum()),
            )
        return self.applies(wanted)

    def type_known(self) -> NDArray[np.bool_]:
        """Whether each community's type is known (or taken from the profile's default)."""
        return ~pd.isna(self.types()).astype(bool)

    def facility_values(self, role: str) -> NDArray[np.float64] | None:
        """A facility attribute as float64 by role (``None`` if the input has no such column).

        Raises the usual one-line error for text or negative numbers.
        """
        column = self.fac_columns.get(role)
        if not column or column not in self.facilities.columns:
            return None
        from ..inputs.prepare import numeric_column

        return numeric_column(self.facilities, column, f"facility {role.replace('_', ' ')}")

    def facility_community(self) -> NDArray[np.int64]:
        """The community (position, -1: none) each facility stands in."""
        if self.fac_comm is not None:
            return np.asarray(self.fac_comm)
        from ..demand import assign_to_communities

        return assign_to_communities(self.fac_geom, self.comm_geom)

    def facility_distances(
        self, src: NDArray[np.intp], dst: NDArray[np.intp], code: str, what: str
    ) -> NDArray[np.float64]:
        """Walking distance from each facility ``src`` to its nearest facility ``dst``, m.

        Exact: both access legs are counted. ``inf`` where unreachable, ``nan`` where a
        facility of ``src`` is too far from every street (warned as ``code``, naming
        ``what`` the distance is for, e.g. ``"indicator elderly_near_clinic"``).
        """
        from .. import settings
        from ..errors import feature_label, source_of, warn_data

        node_dist = self.engine.node_distances(dst, settings.max_distance)
        dist: NDArray[np.float64] = self.engine.point_distances(node_dist, self.engine.attach(self.fac_snap.take(src)))
        bad = np.isnan(dist)
        if bad.any():
            file, layer = source_of(self.facilities)
            cats = ", ".join(dict.fromkeys(str(k) for k in np.asarray(self.fac_key, dtype=object)[src]))
            warn_data(
                code,
                f"{int(bad.sum())} of {len(src)} facilities of {cats} are too far from every street to measure {what}",
                file=file,
                layer=layer,
                feature=feature_label(self.facilities, int(src[bad][0])),
                count=int(bad.sum()),
            )
        return dist

    def members(self, categories: str | Iterable[str]) -> NDArray[np.intp]:
        """Indices of facilities whose category key is one of ``categories``."""
        cats = [categories] if isinstance(categories, str) else list(categories)
        return np.flatnonzero(pd.Series(self.fac_key).isin(cats).to_numpy())

    def node_distances(self, key: str, sources: NDArray[np.intp] | None = None) -> NDArray[np.float64]:
        """Node distances to the nearest facility of category ``key`` (cached)."""
        if key not in self.node_dist:
            from .. import settings

            idx = self.members(key) if sources is None else sources
            self.node_dist[key] = self.engine.node_distances(idx, settings.max_distance)
        return self.node_dist[key]
