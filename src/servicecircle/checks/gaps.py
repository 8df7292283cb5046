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

The traced cells are then fitted to the community (:func:`fit_to_boundary`; computed
on half cells by :func:`fit_on_grid`, one intersection per community): a
gap follows its community's boundary exactly (no area outside it, no slivers
along it) and only the frontier between gap and reach is drawn at the grid's
resolution. The uncovered households or residents of a gap come from the demand
points, not from the grid.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from numpy.typing import NDArray

from .._arrays import run_starts
from .grid import GapGrid, gap_resolution
from .measure import within

if TYPE_CHECKING:
    from .context import CheckOutcome, Context

__all__ = ["gap_resolution", "GapGrid", "gap_polygons", "fit_on_grid", "trace_gaps"]


def gap_polygons(
    grid: GapGrid,
    cell_dist: NDArray[np.float64],
    radius: float | NDArray[np.float64],
    which: NDArray[np.intp],
    boundaries: NDArray[np.object_] | None = None,
) -> NDArray[np.object_]:
    """For each community in ``which``, the part farther than ``radius``; ``None`` if none.

    Without ``boundaries``: the community's cells farther than the radius, as
    traced. With ``boundaries`` (the communities' polygons, parallel to
    ``which``): that part fitted to the community exactly (:func:`fit_to_boundary`,
    computed by :func:`fit_on_grid`).

    Parameters
    ----------
    grid
        The gap grid.
    cell_dist
        Distance of every grid cell (:meth:`GapGrid.distances`).
    radius
        Metres: one for all, or one per community (position) where the radius
        depends on the community's type.
    which
        Positions of the communities to trace (all must be covered by the grid).

    Returns
    -------
    numpy.ndarray
        Object array parallel to ``which`` of (Multi)Polygons or ``None``.
    """
    out = _out_of_reach(grid, cell_dist, radius)
    if boundaries is None:
        return _trace(grid, out, which)
    return fit_on_grid(grid, out, which, np.asarray(boundaries, dtype=object))


def _out_of_reach(
    grid: GapGrid, cell_dist: NDArray[np.float64], radius: float | NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Per grid cell: farther than the radius (one, or one per community by position)."""
    # one radius, or one per community (by position) where it depends on the community's type
    r: float | NDArray[np.float64] = (
        radius if isinstance(radius, float | int) else np.asarray(radius, dtype=float)[np.maximum(grid.cell_comm, 0)]
    )
    return ~within(cell_dist, r)


def fit_to_boundary(
    gaps: NDArray[np.object_], reached: NDArray[np.object_], boundaries: NDArray[np.object_], resolution: float
) -> NDArray[np.object_]:
    """Gaps that follow their community's boundary exactly; only the reach frontier stays on the grid.

    A traced gap is a union of whole cells: along the community boundary it
    spills past it (cells whose centre is inside) and leaves slivers (cells whose
    centre is outside). Fitted: the traced gap cut by the community polygon, and
    the boundary band (the community less its traced gap and reached cells)
    given to whichever of gap and reach is nearer, grown half a cell at a time
    up to two cells. So no gap has area outside its community, the boundary
    slivers next to a gap are gap, and the line between gap and reach is the
    traced cell line (to half a cell in the band).

    Examples
    --------
    >>> import shapely
    >>> g = fit_to_boundary(
    ...     np.array([shapely.box(0, 0, 20, 40)]), np.array([shapely.box(20, 0, 40, 40)]),
    ...     np.array([shapely.Point(20, 20).buffer(19.0)]), 10.0)
    >>> bool(g[0].within(shapely.Point(20, 20).buffer(19.0 + 1e-9))), round(g[0].bounds[2], 6)
    (True, 20.0)
    """
    out: NDArray[np.object_] = np.full(len(gaps), None, dtype=object)
    has = np.array([g is not None for g in gaps], dtype=bool)
    if not has.any():
        return out
    gap = np.asarray(gaps[has], dtype=object)
    reach = np.array([shapely.Polygon() if x is None else x for x in reached[has]], dtype=object)
    comm = boundaries[has]
    # the boundary band (parts of cells whose centre is outside, cells of other communities) goes to
    # whichever of gap and reach grows into it first, half a cell at a time
    band = shapely.difference(shapely.difference(comm, gap), reach)
    fitted = shapely.intersection(gap, comm)
    for k in (0.5, 1.0, 1.5, 2.0):
        near_gap = shapely.buffer(gap, k * resolution, join_style="mitre")
        near_reach = shapely.buffer(reach, k * resolution, join_style="mitre")
        take = shapely.difference(shapely.intersection(band, near_gap), near_reach)
        fitted = shapely.union(fitted, take)
        band = shapely.difference(band, shapely.union(near_gap, near_reach))
    fitted = shapely.make_valid(fitted)
    # keep the areal parts only (an intersection may leave lines where polygons touch)
    out[has] = np.array([_areal(x) for x in fitted], dtype=object)
    return out


def _grow(m: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """``m`` grown by one pixel in all eight directions (a 3 x 3 square)."""
    o = m.copy()
    o[1:] |= m[:-1]
    o[:-1] |= m[1:]
    g = o.copy()
    g[:, 1:] |= o[:, :-1]
    g[:, :-1] |= o[:, 1:]
    return g


def fit_on_grid(
    grid: GapGrid, out: NDArray[np.bool_], which: NDArray[np.intp], boundaries: NDArray[np.object_]
) -> NDArray[np.object_]:
    """:func:`fit_to_boundary` of the cells where ``out`` holds, computed on half cells.

    The same gaps as tracing gap and reached cells and fitting them with
    :func:`fit_to_boundary` (to rounding), in one intersection per community
    instead of a score of polygon operations. Why it is the same: traced cells
    are unions of grid squares, and a mitred buffer of such a polygon by ``d`` is
    the set of places within ``d`` of it in the maximum norm, so at ``d`` = 0.5,
    1, 1.5, 2 cells it is the polygon grown by 1-4 half cells in all eight
    directions. A place of the boundary band goes to the gap when the gap's
    growth reaches it at a step where the reach's does not; so the fitted gap is
    the community cut by the half cells that the gap reaches (within two cells)
    strictly before the reach does, the gap's own cells included.

    A community with no reached cell whose polygon its cells grown by two cells
    cover (:func:`_whole_gaps`, once per grid) is all gap: its gap is its
    polygon, with no tracing and no intersection. The others are grown on one
    raster holding their windows side by side (:func:`_atlas`) and traced with
    one call of ``rasterio.features.shapes``.

    Parameters
    ----------
    grid
        The gap grid.
    out
        Per grid cell: out of reach.
    which
        Positions of the communities to fit.
    boundaries
        Their polygons, parallel to ``which``.

    Returns
    -------
    numpy.ndarray
        Object array parallel to ``which`` of (Multi)Polygons or ``None``.
    """
    return _fit(grid, out, which, boundaries)[0]


def _fit(
    grid: GapGrid, out: NDArray[np.bool_], which: NDArray[np.intp], boundaries: NDArray[np.object_]
) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """:func:`fit_on_grid`, and which communities are all gap (their gap is :func:`_whole_gap` of their polygon)."""
    result: NDArray[np.object_] = np.full(len(which), None, dtype=object)
    which = np.asarray(which, dtype=np.intp)
    if not len(which) or not len(grid.cells):
        return result, np.zeros(len(which), dtype=bool)
    boundaries = np.asarray(boundaries, dtype=object)
    comm_id = _fit_windows(grid)[0]
    n = max(int(comm_id.max()), int(which.max())) + 2
    wid = np.full(n, -1, dtype=np.intp)
    wid[comm_id] = np.arange(len(comm_id))
    asked = np.zeros(n, dtype=bool)
    asked[which] = True
    mine = asked[grid.cell_comm]
    n_gap = np.bincount(grid.cell_comm[mine & out], minlength=n)[which]
    n_reach = np.bincount(grid.cell_comm[mine & ~out], minlength=n)[which]
    whole = (n_gap > 0) & (n_reach == 0)
    if whole.any():
        whole[whole] = _covered(grid, which[whole], boundaries[whole])
        result[whole] = _whole_gap(boundaries[whole])
    rest = np.flatnonzero((n_gap > 0) & ~whole)
    if len(rest):
        won = _won(grid, out, wid[which[rest]], 2)
        result[rest] = _areal_all(shapely.intersection(won, boundaries[rest]))
    return result, whole


def _whole_gap(polygons: NDArray[np.object_]) -> NDArray[np.object_]:
    """Community polygons as the gaps of communities all out of reach: as an intersection would give them.

    A MultiPolygon of one part is that Polygon.

    >>> import shapely
    >>> [g.geom_type for g in _whole_gap(np.array([shapely.MultiPolygon([shapely.box(0, 0, 1, 1)])]))]
    ['Polygon']
    """
    own = np.asarray(polygons, dtype=object).copy()
    one = (shapely.get_type_id(own) == 6) & (shapely.get_num_geometries(own) == 1)
    own[one] = shapely.get_geometry(own[one], 0)
    return own


def _won(grid: GapGrid, out: NDArray[np.bool_], wins: NDArray[np.intp], scale: int) -> NDArray[np.object_]:
    """Per window of ``wins``, the pixels the gap cells win (:func:`fit_on_grid`), as a (Multi)Polygon.

    ``scale`` pixels a cell side: 2 (half cells), or 1 for the cells grown by
    two cells where there is no reached cell. The windows lie side by side on
    one raster (:func:`_atlas`): a community's growth (two cells at most) stays in
    its own window, which has two cells more than its cells on every side, so the
    windows never meet. ``None`` for a window without a gap cell.
    """
    from rasterio.features import shapes
    from rasterio.transform import Affine

    result: NDArray[np.object_] = np.full(len(wins), None, dtype=object)
    if not len(wins):
        return result
    comm_id, lo_r, hi_r, lo_c, hi_c = _fit_windows(grid)
    lr, lc = lo_r[wins], lo_c[wins]
    oy, ox, shape = _atlas(scale * (hi_r[wins] - lr), scale * (hi_c[wins] - lc))
    # the cells of those windows' communities, at their atlas pixels
    wid = np.full(int(grid.cell_comm.max()) + 2, -1, dtype=np.intp)
    wid[comm_id[wins]] = np.arange(len(wins))
    slot = wid[grid.cell_comm]
    sel = np.flatnonzero(slot >= 0)
    s = slot[sel]
    r = oy[s] + scale * (grid.cells[sel] // grid.nx - lr[s])
    c = ox[s] + scale * (grid.cells[sel] % grid.nx - lc[s])
    gap = out[sel]
    g = np.zeros(shape, dtype=bool)
    q = np.zeros(shape, dtype=bool)
    for dr in range(scale):
        for dc in range(scale):
            g[r[gap] + dr, c[gap] + dc] = True
            q[r[~gap] + dr, c[~gap] + dc] = True
    won = g.copy()  # step 0: the gap's own cells (never reached ones)
    for _ in range(2 * scale):  # a pixel at a time, up to two cells
        g, q = _grow(g), _grow(q)
        won |= g & ~q
    # every won pixel is in its own window: looked up by its shelf (row) and column
    shelf_y, shelf_of = np.unique(oy, return_inverse=True)
    row_shelf = np.repeat(np.arange(len(shelf_y)), np.diff(np.r_[shelf_y, shape[0]]))
    ww = scale * (hi_c[wins] - lc)
    at = np.zeros((len(shelf_y), shape[1]), dtype=np.int32)
    at[np.repeat(shelf_of, ww), np.repeat(ox, ww) + (np.arange(ww.sum()) - np.repeat(np.cumsum(ww) - ww, ww))] = (
        np.repeat(np.arange(1, len(wins) + 1, dtype=np.int32), ww)
    )
    flat = np.flatnonzero(won)
    label = np.zeros(shape, dtype=np.int32)
    label.flat[flat] = at[row_shelf[flat // shape[1]], flat % shape[1]]
    coords: list[Any] = []
    ring_len: list[int] = []
    poly_of: list[int] = []
    part_slot: list[int] = []
    for geom, v in shapes(label, mask=won, connectivity=4, transform=Affine.identity()):
        for ring in geom["coordinates"]:
            coords.extend(ring)
            ring_len.append(len(ring))
            poly_of.append(len(part_slot))
        part_slot.append(int(v) - 1)
    if not part_slot:
        return result
    # from atlas pixels to the grid's coordinates (the same as tracing each window where it lies)
    xy = np.asarray(coords, dtype=float)
    of = np.asarray(part_slot)[np.repeat(np.asarray(poly_of), ring_len)]
    step = grid.res / scale
    xy[:, 0] = grid.transform.c + (scale * lc[of] + (xy[:, 0] - ox[of])) * step
    xy[:, 1] = grid.transform.f - (scale * lr[of] + (xy[:, 1] - oy[of])) * step
    rings = shapely.linearrings(xy, indices=np.repeat(np.arange(len(ring_len)), ring_len))
    polys: NDArray[np.object_] = shapely.polygons(rings, indices=np.asarray(poly_of))
    labels = np.asarray(part_slot)
    # parts of one window's won pixels touch at corners at most: a valid MultiPolygon
    by = np.argsort(labels, kind="stable")
    ks, part_of = np.unique(labels[by], return_inverse=True)
    result[ks] = shapely.multipolygons(polys[by], indices=part_of)
    return result


def _atlas(
    heights: NDArray[np.intp], widths: NDArray[np.intp]
) -> tuple[NDArray[np.intp], NDArray[np.intp], tuple[int, int]]:
    """Places for rectangles side by side on one raster, none overlapping: (rows, columns, raster shape).

    Shelf packing: the rectangles, tallest first, laid left to right in rows
    (shelves) about as wide as the raster is high; a shelf is as high as its
    tallest rectangle.

    Examples
    --------
    >>> y, x, shape = _atlas(np.array([2, 3, 1]), np.array([4, 2, 3]))
    >>> y.tolist(), x.tolist(), shape
    ([0, 0, 3], [2, 0, 0], (4, 6))
    """
    h = np.asarray(heights, dtype=np.intp)
    w = np.asarray(widths, dtype=np.intp)
    if not len(h):
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), (0, 0)
    order = np.argsort(-h, kind="stable")
    ws = w[order]
    span = max(int(ws.max()), math.ceil(math.sqrt(float((h * w).sum()))))
    start = np.cumsum(ws) - ws  # on one long strip
    first = run_starts(start // span)
    shelf = np.cumsum(first) - 1
    x = start - start[first][shelf]
    shelf_h = h[order][first]
    shelf_y = np.cumsum(shelf_h) - shelf_h
    ys, xs = np.empty_like(h), np.empty_like(w)
    ys[order], xs[order] = shelf_y[shelf], x
    return ys, xs, (int(shelf_h.sum()), int((x + ws).max()))


def _covered(grid: GapGrid, which: NDArray[np.intp], boundaries: NDArray[np.object_]) -> NDArray[np.bool_]:
    """Whether each community's polygon is covered by its cells grown by two cells (:func:`_whole_gaps`).

    Known for the grid's own polygons (the very objects); computed for any other.
    """
    comm_id = _fit_windows(grid)[0]
    won, cover = _whole_gaps(grid)
    wid = np.full(max(int(comm_id.max()), int(which.max())) + 2, -1, dtype=np.intp)
    wid[comm_id] = np.arange(len(comm_id))
    w = wid[which]
    same = np.fromiter((a is b for a, b in zip(boundaries, grid.areas[which])), dtype=bool, count=len(which))
    got = cover[w]
    if not same.all():
        got[~same] = shapely.covers(won[w[~same]], boundaries[~same])
    return got


def _whole_gaps(grid: GapGrid) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """Every community's cells grown by two cells, and whether that covers its polygon (once per grid).

    Where a community has no reached cell its fitted gap is its polygon cut by
    this growth (:func:`fit_on_grid`): the polygon itself where it is covered.
    """
    if grid.whole_gaps is None:
        comm_id = _fit_windows(grid)[0]
        won = _won(grid, np.ones(len(grid.cells), dtype=bool), np.arange(len(comm_id)), 1)
        cover = shapely.covers(won, grid.areas[comm_id])
        grid.whole_gaps = (won, np.asarray(cover, dtype=bool))
    return grid.whole_gaps


def _fit_windows(grid: GapGrid) -> tuple[NDArray[np.intp], ...]:
    """Every community's window on the grid (computed once per grid).

    A window is the community's cells' bounding rows and columns, two cells more
    on every side: a community's growth when fitting (two cells at most) stays
    inside it.

    Returns
    -------
    tuple
        Community positions, first and after-last window row, first and after-last
        window column; parallel arrays.
    """
    if grid.fit_windows is not None:
        return grid.fit_windows
    pad = 2
    order = np.argsort(grid.cell_comm, kind="stable")
    k = grid.cell_comm[order]
    rows, cols = grid.cells[order] // grid.nx, grid.cells[order] % grid.nx
    starts = np.flatnonzero(run_starts(k))
    lo_r = np.minimum.reduceat(rows, starts) - pad
    hi_r = np.maximum.reduceat(rows, starts) + pad + 1
    lo_c = np.minimum.reduceat(cols, starts) - pad
    hi_c = np.maximum.reduceat(cols, starts) + pad + 1
    grid.fit_windows = (k[starts].astype(np.intp), lo_r, hi_r, lo_c, hi_c)
    return grid.fit_windows


def _areal_all(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """:func:`_areal` of every geometry (Polygons and MultiPolygons kept as they are)."""
    out: NDArray[np.object_] = np.asarray(geoms, dtype=object).copy()
    kind = shapely.get_type_id(out)
    keep = np.isin(kind, (3, 6)) & ~shapely.is_empty(out)
    for i in np.flatnonzero(~keep).tolist():
        out[i] = _areal(out[i])
    return out


def _areal(geom: Any) -> Any:
    """The polygonal part of a geometry (``None`` if it has no area)."""
    if geom is None or shapely.is_empty(geom):
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon") and p.area > 0]
    return shapely.union_all(parts) if parts else None


def _trace(grid: GapGrid, mask: NDArray[np.bool_], which: NDArray[np.intp]) -> NDArray[np.object_]:
    """For each community in ``which``, the union of its cells where ``mask`` holds (``None`` if none)."""
    from rasterio.features import shapes

    result: NDArray[np.object_] = np.full(len(which), None, dtype=object)
    want = np.zeros(int(grid.cell_comm.max()) + 2 if len(grid.cell_comm) else 1, dtype=bool)
    want[np.asarray(which)] = True
    out = mask & want[grid.cell_comm]
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


def gap_grid(ctx: Context, which: NDArray[np.intp] | None = None) -> GapGrid:
    """The distance grid over the communities ``which`` (positions; default all), kept on ``ctx.grid``.

    Built once: a later call whose communities the grid already covers gets
    the same grid (a scenario reuses its base's grid this way).
    """
    g = ctx.comm_geom
    usable = ~(shapely.is_missing(g) | shapely.is_empty(g))
    want = np.flatnonzero(usable) if which is None else np.asarray(which)[usable[np.asarray(which)]]
    grid = ctx.grid
    if grid is not None and (grid.covers is None or np.isin(want, grid.covers).all()):
        return grid
    res = gap_resolution(tuple(shapely.total_bounds(g[want])), ctx.gap_resolution_m)
    ctx.grid = GapGrid(ctx.engine, g, want, res, ctx.max_snap, store=ctx.lattice_store)
    return ctx.grid


def trace_gaps(ctx: Context, outcomes: list[CheckOutcome]) -> None:
    """Trace the gap polygons of every failing (community, check), on one grid.

    Reach checks leave ``pending_gaps`` on their outcome; the grid is built once
    over the communities that fail any of them (or reused from a scenario's base
    when it covers them all), then each check's gaps are traced on it.
    """
    pending = [(o, o.pending_gaps) for o in outcomes if o.pending_gaps]
    if not pending:
        return
    from .._parallel import pmap, workers_for

    failing = np.unique(np.concatenate([p["fail"] for _, p in pending]))
    grid = gap_grid(ctx, failing)
    _whole_gaps(grid)  # once, before any fork: the children inherit it
    # the checks' gaps are independent: forked over the cores for a large grid (as settings.workers says)
    workers = workers_for(len(grid.cells) * len(pending))

    def one(p: dict[str, Any]) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
        out = _out_of_reach(grid, p["cell_dist"](grid), p["radius"])
        polys, whole = _fit(grid, out, p["fail"], ctx.comm_geom[p["fail"]])
        if workers > 1:  # from a worker as WKB (bytes travel at once, pickled shapes one at a time)
            polys[whole] = None  # and the whole communities as a mask: the parent has their polygons
            polys = shapely.to_wkb(polys)
        return polys, whole

    traced = pmap(one, [p for _, p in pending], workers)
    for (o, p), (polys, whole) in zip(pending, traced):
        if workers > 1:
            polys = shapely.from_wkb(polys)
            polys[whole] = _whole_gap(ctx.comm_geom[p["fail"][whole]])
        # the check's own columns, completed in place: one row per failing community
        p["rows"].update(gap_area_m2=np.where(shapely.is_missing(polys), 0.0, shapely.area(polys)), geometry=polys)
        o.gaps.append(p["rows"])
        o.pending_gaps = None
