"""Gap polygons: the part of a community that is out of reach.

The distance field is evaluated on a regular grid of cell centres (``resolution``
metres) with exactly the same definition as for demand points: snapped to the
nearest edge within ``max_snap``, access leg included. Cells farther than the
radius (or not reachable at all) are traced into polygons with rasterio and
clipped to each failing community, so a gap follows the community's own boundary
and the street network's reach at the grid's resolution.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

from .. import settings
from .._arrays import run_starts
from ..errors import warn_data
from .lifecircle import within

__all__ = ["gap_resolution", "GapGrid", "gap_polygons", "trace_gaps"]


def gap_resolution(bounds: tuple[float, float, float, float], resolution: float | None = None,
                   max_cells: int | None = None) -> float:
    """The grid cell size: the asked one, coarsened to keep the cell count bounded."""
    res = float(resolution or settings.gap_resolution)
    cap = int(max_cells or settings.max_gap_cells)
    w = max(bounds[2] - bounds[0], res)
    h = max(bounds[3] - bounds[1], res)
    if (w / res) * (h / res) > cap:
        new = math.ceil(math.sqrt(w * h / cap))
        warn_data("coarse_gap_grid", f"gap polygons traced on a {new} m grid instead of {res:g} m "
                  f"(more than {cap:,} cells otherwise)")
        res = float(new)
    return res


class GapGrid:
    """Cell centres over an area, snapped once and reused for every check.

    Parameters
    ----------
    engine
        The distance engine the cells are first attached to (others can be
        attached later with :meth:`attachment_for`).
    areas
        Polygons (metric CRS) the grid must cover.
    resolution
        Cell size in metres (see :func:`gap_resolution`).
    max_snap
        Snapping limit, as for demand points.
    """

    def __init__(self, engine, areas: np.ndarray, resolution: float, max_snap: float,
                 covers: np.ndarray | None = None) -> None:
        from ..engine import snap_points

        #: positions (in the caller's list of communities) whose cells the grid holds
        self.covers = covers
        minx, miny, maxx, maxy = shapely.total_bounds(areas)
        self.res = res = resolution
        self.x0 = math.floor(minx / res) * res
        self.y1 = math.ceil(maxy / res) * res
        self.nx = max(int(math.ceil((maxx - self.x0) / res)), 1)
        self.ny = max(int(math.ceil((self.y1 - miny) / res)), 1)
        # only cells that touch an area matter (rasterised in compiled code)
        from rasterio.features import rasterize
        from rasterio.transform import from_origin

        self.transform = from_origin(self.x0, self.y1, res, res)
        touched = rasterize(
            ((g, 1) for g in areas if g is not None and not g.is_empty),
            out_shape=(self.ny, self.nx), transform=self.transform, all_touched=True, dtype=np.uint8,
        )
        hit = np.flatnonzero(touched.ravel())
        self.cells = hit
        centres = np.column_stack([self.x0 + (hit % self.nx + 0.5) * res,
                                   self.y1 - (hit // self.nx + 0.5) * res])
        self.centres = centres
        self.snapped = snap_points(engine.network, centres, max_snap, report_far=False)
        self._attachments: dict[int, tuple] = {}
        self.engine = engine

    def attachment_for(self, engine):
        """The cells attached to ``engine``'s graph (computed once per engine)."""
        key = id(engine)
        if key not in self._attachments:
            self._attachments[key] = (engine, engine.attach(self.snapped))
        return self._attachments[key][1]

    def distances(self, node_dist: np.ndarray, engine=None) -> np.ndarray:
        """Distance of every cell centre, from node distances of ``engine`` (default: the grid's)."""
        engine = engine or self.engine
        return engine.point_distances(node_dist, self.attachment_for(engine))

    def uncovered_polygons(self, cell_dist: np.ndarray, radius: float, tile: int = 64) -> np.ndarray:
        """Polygons of cells farther than ``radius`` (or unreachable), from cell distances.

        The raster is traced in tiles of ``tile`` × ``tile`` cells, so no polygon
        spans the whole city: clipping them to each community stays local.
        """
        from rasterio.features import shapes

        out = ~within(cell_dist, radius)
        cells = self.cells[out]
        if len(cells) == 0:
            return np.zeros(0, dtype=object)
        row, col = cells // self.nx, cells % self.nx
        tiles_x = (self.nx + tile - 1) // tile
        raster = np.zeros(self.ny * self.nx, dtype=np.int32)
        raster[cells] = (row // tile) * tiles_x + col // tile + 1
        raster = raster.reshape(self.ny, self.nx)
        polys = [shape(g) for g, _ in shapes(raster, mask=raster > 0, connectivity=4,
                                             transform=self.transform)]
        return np.asarray(polys, dtype=object)


def gap_polygons(grid: GapGrid, cell_dist: np.ndarray, radius: float,
                 areas: np.ndarray, which: np.ndarray) -> np.ndarray:
    """For each area in ``which``, its part farther than ``radius``; ``None`` if no such part.

    Parameters
    ----------
    grid
        The gap grid.
    cell_dist
        Distance of every grid cell (:meth:`GapGrid.distances`).
    radius
        Metres.
    areas, which
        Community polygons and the positions of those to trace.

    Returns
    -------
    numpy.ndarray
        Object array parallel to ``which`` of (Multi)Polygons or ``None``.
    """
    result = np.full(len(which), None, dtype=object)
    polys = grid.uncovered_polygons(cell_dist, radius)
    if len(polys) == 0 or len(which) == 0:
        return result
    tree = shapely.STRtree(polys)
    target = areas[which]
    a_idx, p_idx = tree.query(target, predicate="intersects")
    if len(a_idx) == 0:
        return result
    # tiles wholly inside their community need no clipping
    inside = np.zeros(len(a_idx), dtype=bool)
    ca, cp = tree.query(target, predicate="contains_properly")
    if len(ca):
        inside = pd.MultiIndex.from_arrays([a_idx, p_idx]).isin(pd.MultiIndex.from_arrays([ca, cp]))
    pieces = polys[p_idx].copy()
    clip = ~inside
    pieces[clip] = shapely.intersection(target[a_idx[clip]], polys[p_idx[clip]])
    # polygon parts only (an intersection can also hold lines and points), grouped by community
    parts, owner = shapely.get_parts(pieces, return_index=True)
    keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0)
    parts, group = parts[keep], a_idx[owner[keep]]
    order = np.argsort(group, kind="stable")
    parts, group = parts[order], group[order]
    starts = np.flatnonzero(run_starts(group))
    ends = np.r_[starts[1:], len(group)]
    single = ends - starts == 1
    result[group[starts[single]]] = parts[starts[single]]  # most communities fit in one tile
    for s, e in zip(starts[~single], ends[~single]):
        result[group[s]] = shapely.union_all(parts[s:e])
    return result


def trace_gaps(ctx, outcomes) -> None:
    """Trace the gap polygons of every failing (community, check), on one grid.

    Reach checks leave ``pending_gaps`` on their outcome; the grid is built once
    over the communities that fail any of them (or reused from a scenario's base
    when it covers them all), then each check's gaps are traced on it.
    """
    pending = [o for o in outcomes if getattr(o, "pending_gaps", None)]
    if not pending:
        return
    failing = np.unique(np.concatenate([o.pending_gaps["fail"] for o in pending]))
    grid = ctx.gap_grid(failing)
    for o in pending:
        p = o.pending_gaps
        polys = gap_polygons(grid, p["cell_dist"](grid), p["radius"], ctx.comm_geom, p["fail"])
        for k, poly in zip(p["fail"], polys):
            o.gaps.append({**p["rows"][int(k)], "gap_area_m2": float(shapely.area(poly)) if poly is not None else 0.0,
                           "geometry": poly})
        o.pending_gaps = None
