"""Gap polygons: the part of a community that is out of reach, traced on a grid.

The failing communities are covered by a regular grid of ``resolution`` metres
(``settings.gap_resolution``, 20 m; coarsened with a warning so the grid never
holds more than ``settings.max_gap_cells`` cells). Each cell belongs to the
community its centre lies in (the first listed, on a shared edge — as for demand
points), so the communities' gaps never overlap.

The distance of a cell is the network distance of its centre, with exactly the
same definition as for demand points: snapped to the nearest point of the nearest
street, access leg included, out of reach beyond ``max_snap``. Cells farther than
the radius are traced into polygons per community with rasterio.

So a gap is drawn at the grid's resolution: its area is a whole number of cells,
and its outline follows cell edges (also along the community boundary). The
uncovered households or residents of a gap come from the demand points, not from
the grid.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from .._arrays import run_starts
from ..engine.snapping import snap_lattice
from ..errors import warn_data
from ..options import setting_or
from .measure import within

if TYPE_CHECKING:
    from ..engine import Attachment, DistanceEngine
    from ..engine.snapping import LatticeStore
    from .context import CheckOutcome, Context

__all__ = ["gap_resolution", "GapGrid", "gap_polygons", "trace_gaps"]


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
            ((areas[k], int(k) + 1) for k in order),
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


def gap_polygons(
    grid: GapGrid, cell_dist: NDArray[np.float64], radius: float, which: NDArray[np.intp]
) -> NDArray[np.object_]:
    """For each community in ``which``, its cells farther than ``radius``; ``None`` if none.

    Parameters
    ----------
    grid
        The gap grid.
    cell_dist
        Distance of every grid cell (:meth:`GapGrid.distances`).
    radius
        Metres.
    which
        Positions of the communities to trace (all must be covered by the grid).

    Returns
    -------
    numpy.ndarray
        Object array parallel to ``which`` of (Multi)Polygons or ``None``.
    """
    from rasterio.features import shapes

    result: NDArray[np.object_] = np.full(len(which), None, dtype=object)
    want = np.zeros(int(grid.cell_comm.max()) + 2 if len(grid.cell_comm) else 1, dtype=bool)
    want[np.asarray(which)] = True
    out = ~within(cell_dist, radius) & want[grid.cell_comm]
    if not out.any():
        return result
    raster: NDArray[np.int32] = np.zeros(grid.ny * grid.nx, dtype=np.int32)
    raster[grid.cells[out]] = grid.cell_comm[out] + 1
    raster = raster.reshape(grid.ny, grid.nx)
    # build the polygons in bulk from their rings (shapely.geometry.shape one by one is slow)
    coords: list[Any] = []
    ring_of: list[int] = []
    poly_of: list[int] = []
    part_label: list[int] = []
    n_ring = 0
    for p_i, (g, v) in enumerate(shapes(raster, mask=raster > 0, connectivity=4, transform=grid.transform)):
        part_label.append(int(v) - 1)
        for ring in g["coordinates"]:
            coords.extend(ring)
            ring_of.append(len(ring))
            poly_of.append(p_i)
            n_ring += 1
    rings = shapely.linearrings(np.asarray(coords, dtype=float), indices=np.repeat(np.arange(n_ring), ring_of))
    polys: NDArray[np.object_] = shapely.polygons(rings, indices=np.asarray(poly_of))
    labels = np.asarray(part_label)
    order = np.argsort(labels, kind="stable")
    polys, labels = polys[order], labels[order]
    starts = np.flatnonzero(run_starts(labels))
    ends = np.r_[starts[1:], len(labels)]
    pos = {int(k): i for i, k in enumerate(np.asarray(which))}
    single = ends - starts == 1
    for s in starts[single]:
        result[pos[int(labels[s])]] = polys[s]
    for s, e in zip(starts[~single], ends[~single]):
        # disconnected parts of one community's gap: cells touch at corners at most
        result[pos[int(labels[s])]] = shapely.multipolygons(polys[s:e])
    return result


def trace_gaps(ctx: Context, outcomes: list[CheckOutcome]) -> None:
    """Trace the gap polygons of every failing (community, check), on one grid.

    Reach checks leave ``pending_gaps`` on their outcome; the grid is built once
    over the communities that fail any of them (or reused from a scenario's base
    when it covers them all), then each check's gaps are traced on it.
    """
    pending = [(o, o.pending_gaps) for o in outcomes if o.pending_gaps]
    if not pending:
        return
    failing = np.unique(np.concatenate([p["fail"] for _, p in pending]))
    grid = ctx.gap_grid(failing)
    for o, p in pending:
        polys = gap_polygons(grid, p["cell_dist"](grid), p["radius"], p["fail"])
        areas = shapely.area(polys)
        for k, poly, area in zip(p["fail"], polys, areas):
            o.gaps.append({**p["rows"][int(k)], "gap_area_m2": 0.0 if poly is None else float(area), "geometry": poly})
        o.pending_gaps = None
