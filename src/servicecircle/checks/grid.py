"""The gap grid: square cells over the failing communities, each snapped to the street like a demand point.

It depends on the engine only (no other check module), so the checks' shared
:class:`~servicecircle.checks.context.Context` can hold one and the gap tracer
(:mod:`servicecircle.checks.gaps`) can use it without importing each other.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from ..engine.snapping import snap_lattice
from ..errors import warn_data
from ..options import setting_or

if TYPE_CHECKING:
    from ..engine import Attachment, DistanceEngine
    from ..engine.snapping import LatticeStore

__all__ = ["gap_resolution", "GapGrid"]


def gap_resolution(
    bounds: tuple[float, float, float, float], resolution: float | None = None, max_cells: int | None = None
) -> float:
    """The grid cell size: the asked one, coarsened to keep the cell count bounded."""
    res = float(setting_or("gap_resolution", resolution))
    cap = int(setting_or("max_gap_cells", max_cells))
    w = max(bounds[2] - bounds[0], res)
    h = max(bounds[3] - bounds[1], res)
    if (w / res) * (h / res) > cap:
        new = math.ceil(math.sqrt(w * h / cap))
        warn_data(
            "coarse_gap_grid",
            f"gap polygons traced on a {new} m grid instead of {res:g} m (more than {cap:,} cells otherwise)",
        )
        res = float(new)
    return res


class GapGrid:
    """Cells over the failing communities, snapped once and reused for every check.

    Parameters
    ----------
    engine
        The distance engine the cells are first attached to (others can be
        attached later with :meth:`attachment_for`).
    areas
        Every community polygon (metric CRS).
    covers
        Positions of the communities to cover.
    resolution
        Cell size in metres (see :func:`gap_resolution`).
    max_snap
        Snapping limit, as for demand points.
    store : servicecircle.engine.snapping.LatticeStore, optional
        Where the cells' snaps are kept between runs (e.g.
        :func:`servicecircle.network.cache.lattice_store` of the network);
        ``None``: every cell is snapped afresh.
    """

    def __init__(
        self,
        engine: DistanceEngine,
        areas: NDArray[np.object_],
        covers: ArrayLike,
        resolution: float,
        max_snap: float,
        *,
        store: LatticeStore | None = None,
    ) -> None:
        from rasterio.features import rasterize
        from rasterio.transform import from_origin

        self.covers = np.asarray(covers)
        minx, miny, maxx, maxy = shapely.total_bounds(areas[self.covers])
        self.res = res = resolution
        self.x0 = math.floor(minx / res) * res
        self.y1 = math.ceil(maxy / res) * res
        self.nx = max(int(math.ceil((maxx - self.x0) / res)), 1)
        self.ny = max(int(math.ceil((self.y1 - miny) / res)), 1)
        self.transform = from_origin(self.x0, self.y1, res, res)
        # a cell belongs to the community its centre lies in; drawn last-to-first so the
        # first listed community wins on a shared edge
        order = self.covers[::-1]
        self.labels: NDArray[np.int32] = rasterize(
            zip(_geojson(areas[order]), (order + 1).tolist()),
            out_shape=(self.ny, self.nx),
            transform=self.transform,
            all_touched=False,
            dtype=np.int32,
            fill=0,
        )
        flat = self.labels.ravel()
        self.cells = np.flatnonzero(flat)
        self.cell_comm = flat[self.cells] - 1
        # lattice numbers from the CRS origin: the same cell has the same centre in every
        # run, so its snap can come from a lattice store (see snap_lattice)
        ix = round(self.x0 / res) + self.cells % self.nx
        iy = round(self.y1 / res) - 1 - self.cells // self.nx
        self.centres = np.column_stack([(ix + 0.5) * res, (iy + 0.5) * res])
        self.snapped = snap_lattice(engine.network, ix, iy, res, max_snap, store=store)
        self._attachments: dict[int, tuple[DistanceEngine, Attachment]] = {}
        #: the community polygons (the ``areas`` given)
        self.areas = areas
        #: the communities' windows for fitting gaps (checks.gaps._fit_windows), once per grid
        self.fit_windows: tuple[NDArray[np.intp], ...] | None = None
        #: every community's cells grown by two cells, and whether they cover it (checks.gaps._whole_gaps)
        self.whole_gaps: tuple[NDArray[np.object_], NDArray[np.bool_]] | None = None
        self.engine = engine

    def inside(self, polygons: ArrayLike) -> NDArray[np.bool_]:
        """Whether each cell's centre lies inside any of ``polygons`` (rasterised, no point objects)."""
        from rasterio.features import rasterize

        polys = [g for g in np.asarray(polygons, dtype=object) if g is not None and not g.is_empty]
        if not polys:
            return np.zeros(len(self.cells), dtype=bool)
        mask: NDArray[np.uint8] = rasterize(
            ((g, 1) for g in polys),
            out_shape=(self.ny, self.nx),
            transform=self.transform,
            all_touched=False,
            dtype=np.uint8,
            fill=0,
        )
        return mask.ravel()[self.cells].astype(bool)

    def attachment_for(self, engine: DistanceEngine) -> Attachment:
        """The cells attached to ``engine``'s graph (computed once per engine)."""
        key = id(engine)
        if key not in self._attachments:
            self._attachments[key] = (engine, engine.attach(self.snapped))
        return self._attachments[key][1]

    def distances(self, node_dist: NDArray[np.float64], engine: DistanceEngine | None = None) -> NDArray[np.float64]:
        """Distance of every cell centre, from node distances of ``engine`` (default: the grid's)."""
        engine = engine or self.engine
        return engine.point_distances(node_dist, self.attachment_for(engine))


def _geojson(polygons: NDArray[np.object_]) -> list[dict[str, Any]]:
    """GeoJSON-like mappings of (Multi)Polygons, built from their coordinate arrays.

    What rasterio reads, made a ring at a time rather than a point at a time
    (shapely's ``__geo_interface__``): the same coordinates. A mix of Polygons and
    MultiPolygons gives MultiPolygons throughout; any other geometry, its own
    ``__geo_interface__``.

    Examples
    --------
    >>> ring = shapely.box(0, 0, 4, 4).exterior.coords[:]
    >>> _geojson(np.array([shapely.Polygon(ring, [[(1, 1), (2, 1), (2, 2), (1, 1)]])], dtype=object))
    [{'type': 'Polygon', 'coordinates': [[[4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0], [4.0, 0.0]], \
[[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 1.0]]]}]
    >>> [d["type"] for d in _geojson(np.array([shapely.box(0, 0, 1, 1), shapely.MultiPolygon()], dtype=object))]
    ['MultiPolygon', 'MultiPolygon']
    >>> [d["type"] for d in _geojson(np.array([shapely.box(0, 0, 1, 1), shapely.Point(0, 0)], dtype=object))]
    ['Polygon', 'Point']
    """
    geoms = np.asarray(polygons, dtype=object)
    if not np.isin(shapely.get_type_id(geoms), (3, 6)).all():
        return [g.__geo_interface__ for g in geoms]
    _, xy, offsets = shapely.to_ragged_array(geoms)
    cut = offsets[0].tolist()
    rings = [xy[a:b].tolist() for a, b in zip(cut[:-1], cut[1:])]
    if len(offsets) == 2:
        by = offsets[1].tolist()
        return [{"type": "Polygon", "coordinates": rings[a:b]} for a, b in zip(by[:-1], by[1:])]
    parts_at, by = offsets[1].tolist(), offsets[2].tolist()
    parts = [rings[a:b] for a, b in zip(parts_at[:-1], parts_at[1:])]
    return [{"type": "MultiPolygon", "coordinates": parts[a:b]} for a, b in zip(by[:-1], by[1:])]
