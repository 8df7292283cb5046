"""Residents from a population raster (WorldPop, GHS-POP, a census grid).

A population raster gives people per cell. :func:`population_demand` turns the
cells under the community boundaries into demand points whose weight is the
number of residents they stand for:

* a cell wholly inside one community gives one point at the cell centre,
  carrying the cell's whole population;
* a cell cut by community boundaries gives one point per piece, placed inside
  the piece (:func:`shapely.point_on_surface`), carrying the cell's population
  times the piece's share of the cell's area (residents are assumed to be spread
  evenly over a cell);
* the part of a cell outside every community is dropped, and the number of
  people dropped that way is reported (a ``population_outside`` warning).

Only the window of the raster that covers the communities is read, in blocks of
rows, so a national raster can be used for one district. Areas are measured in
the communities' metric CRS: each cell's four corners are transformed there, so
the cells tile the communities with no gap or overlap and every person in the
window is either assigned or reported as outside.

Unknown cells
-------------
A cell the raster marks as nodata (its nodata value or mask) or that holds NaN
(with or without a nodata tag) has an **unknown** population, never 0: WorldPop
and GHS-POP leave a cell nodata where they have no estimate, which is not the
same as knowing that nobody lives there. The pieces of such a cell carry
``nan`` residents and households.

The rule for a community is strict: **a community any of whose area lies under
an unknown cell has unknown residents**, however small that part, and gets no
coverage and no pass/fail from the reach checks. (Summed per community, the
``nan`` propagates; :func:`servicecircle.assessment.stages.build_demand` takes
every demand weight of such a community as unknown.) The alternative, a
coverage over the known cells only, would assume that the people of the
unknown cells reach services as their neighbours do, or that nobody lives
there; either can turn a fail into a pass, and nothing in the pass column would
show it. Where the nodata cells are known to be empty (a river, a lake), fill
them with 0 (``gdal_calc``, or drop the nodata tag after writing 0) and the
communities are assessed. A run with unknown cells under the communities gives
one ``population_unknown`` warning naming the number of unknown cells under
the communities, the number of communities on them and the first of those,
with its unknown share of area.

The window sums stay meaningful: ``window_residents`` and
``outside_residents`` are sums over the **known** cells (an unknown cell adds
nothing to either), so ``residents.sum() + outside_residents ==
window_residents`` still holds with the ``nan`` skipped (as ``Series.sum`` does).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from .errors import CRSError, InputDataError, warn_data
from .inputs.rasters import PopulationGrid, read_population

__all__ = ["population_demand", "population_bounds", "COLUMNS"]

#: Columns of the frame :func:`population_demand` returns (plus ``geometry``).
COLUMNS = ["community", "residents", "households", "cell_row", "cell_col", "cell_fraction", "area_m2"]

#: Cells turned into polygons at a time (bounds memory for large windows).
_CHUNK_CELLS = 1_000_000

#: A community is reported as outside the raster when more than this share of
#: its area is not under any cell of the raster.
_UNCOVERED_SHARE = 0.01

_POLYGONAL = (3, 6)  # shapely type ids of Polygon, MultiPolygon


def _polygonal(geom: Any) -> Any:
    """The polygonal part of a geometry (drops the points and lines of a collection)."""
    if geom is None or shapely.get_type_id(geom) in _POLYGONAL:
        return geom
    parts = shapely.get_parts(geom)
    parts = parts[np.isin(shapely.get_type_id(parts), _POLYGONAL)]
    return shapely.union_all(parts) if len(parts) else shapely.Polygon()


def _areas_crs(areas: gpd.GeoSeries) -> pyproj.CRS:
    if areas.crs is None:
        raise CRSError(
            "the communities have no coordinate system",
            fix="set it (areas.set_crs(...)) and project them to a metric CRS",
        )
    crs = pyproj.CRS(areas.crs)
    units = {(a.unit_name or "").lower() for a in crs.axis_info}
    if not crs.is_projected or not units <= {"metre", "meter", "m"}:
        raise CRSError(
            f"the communities are in {crs.name}, not a projected CRS in metres",
            fix="project them first (areas.to_crs(servicecircle.coords.choose_metric_crs(...)))",
        )
    return crs


def _owned_geometries(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each community minus the communities listed before it (overlaps go to the first).

    Returns the owned geometries and a mask of the communities that lost area.
    """
    owned = geoms.copy()
    lost = np.zeros(len(geoms), dtype=bool)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    idx = np.flatnonzero(usable)
    if len(idx) < 2:
        return owned, lost
    tree = shapely.STRtree(geoms[idx])
    later, earlier = tree.query(geoms[idx], predicate="intersects")
    keep = earlier < later
    later, earlier = idx[later[keep]], idx[earlier[keep]]
    if not len(later):
        return owned, lost
    overlap = shapely.area(shapely.intersection(geoms[later], geoms[earlier])) > 0
    later, earlier = later[overlap], earlier[overlap]
    for j in np.unique(later):  # one loop per overlapping community, not per cell
        before = shapely.union_all(geoms[earlier[later == j]])
        owned[j] = _polygonal(shapely.difference(geoms[j], before))
        lost[j] = True
    return owned, lost


def _usable_owned(areas: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Owned geometries (overlaps to the first listed), the communities that lost area, the usable ones."""
    geoms = np.array(areas.values, dtype=object)  # a copy: the caller's series is left alone
    invalid = ~shapely.is_missing(geoms) & ~shapely.is_valid(geoms)
    if invalid.any():  # prepare_boundaries repairs and reports these; be safe when called directly
        geoms[invalid] = [_polygonal(g) for g in shapely.make_valid(geoms[invalid])]
    owned, lost = _owned_geometries(geoms)
    usable = ~(shapely.is_missing(owned) | shapely.is_empty(owned)) & (shapely.area(owned) > 0)
    return owned, lost, usable


def population_bounds(areas: gpd.GeoSeries) -> tuple[float, float, float, float] | None:
    """The extent of the raster to read for ``areas`` (metric CRS): what :func:`population_demand` uses.

    ``None`` when no community has an area (the file is then only checked).
    """
    if isinstance(areas, gpd.GeoDataFrame):
        areas = areas.geometry
    _areas_crs(areas)
    owned, _, usable = _usable_owned(areas)
    return tuple(float(v) for v in shapely.total_bounds(owned[usable])) if usable.any() else None  # type: ignore[return-value]


def _n_cells(rows: np.ndarray, cols: np.ndarray) -> int:
    """Number of distinct (row, column) cells."""
    return int(len(np.unique(np.column_stack([rows, cols]), axis=0))) if len(rows) else 0


def _warn_unknown(
    path: str,
    rows: np.ndarray,
    cols: np.ndarray,
    unknown: np.ndarray,
    on_unknown: np.ndarray,
    unknown_area: np.ndarray,
    owned_area: np.ndarray,
    n_usable: int,
) -> None:
    """The ``population_unknown`` warning: nodata / NaN cells under the communities."""
    n_unknown, n_cells = _n_cells(rows[unknown], cols[unknown]), _n_cells(rows, cols)
    k = int(on_unknown.sum())
    first = int(np.flatnonzero(on_unknown)[0])
    if n_unknown == n_cells:
        noun = "community" if k == 1 else "communities"
        them = f"all {k} {noun}" if k == n_usable else f"the {k} {noun} on them"
        what = (
            f"all {n_cells:,} raster cells under the communities are nodata or NaN: their population is unknown, "
            f"not 0, so the residents of {them} are unknown and the reach checks give "
            f"{'it' if k == 1 else 'them'} no pass/fail; check the raster's nodata value and band, or use a raster "
            "with data there"
        )
    else:
        pct = 100.0 * unknown_area[first] / owned_area[first]
        what = (
            f"{n_unknown:,} of the {n_cells:,} raster cells under the communities "
            f"{'is' if n_unknown == 1 else 'are'} nodata or NaN: {'its' if n_unknown == 1 else 'their'} "
            f"population is unknown, not 0, so the residents of {k} "
            f"{'community' if k == 1 else 'communities'} with area on them are unknown (#{first + 1}: "
            f"{_percent(pct)} of its area) and the reach checks give {'it' if k == 1 else 'them'} no pass/fail; "
            "fill those cells (with 0 where nobody lives) or use a raster with data there"
        )
    warn_data("population_unknown", what, file=path, feature=f"#{first + 1}", count=k, stacklevel=3)


def _percent(pct: float) -> str:
    """A share of area as shown in a message: whole percents, never rounded to 0 % or 100 %."""
    if 0 < pct < 1:
        return "under 1%"
    if 99 < pct < 100:
        return "over 99%"
    return f"{pct:.0f}%"


def _empty(crs: Any) -> gpd.GeoDataFrame:
    frame = {c: np.zeros(0, dtype=np.int64 if c in ("community", "cell_row", "cell_col") else float) for c in COLUMNS}
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def population_demand(
    source: str | Path | PopulationGrid,
    areas: gpd.GeoSeries,
    *,
    band: int = 1,
    crs: Any = None,
    household_size: float | None = None,
) -> gpd.GeoDataFrame:
    """Demand points weighted by residents, from a population raster.

    Parameters
    ----------
    source
        A :class:`~servicecircle.inputs.rasters.PopulationGrid` read with
        :func:`~servicecircle.inputs.rasters.read_population`, or the path of a
        raster GDAL reads (GeoTIFF), read here, of people per cell, e.g. WorldPop 100 m
        (EPSG:4326, float32, nodata -99999). Cells that are nodata (as declared
        by the file or its mask) or NaN have an **unknown** population (not 0:
        see the module's "Unknown cells"); a negative or infinite value is an
        error.
    areas
        Community polygons in a projected CRS in metres. The result is in that
        CRS. Overlapping communities: the overlap belongs to the community
        listed first (as in :func:`~servicecircle.demand.assign_to_communities`).
    band
        Band of the raster to read (1-based).
    crs
        The raster's coordinate system when the file has none (or to override
        it, with a ``crs_overridden`` warning).
    household_size
        People per household: fills ``households`` = residents ÷ size.

    Returns
    -------
    geopandas.GeoDataFrame
        One point per piece of a cell in a community, ordered by community,
        row, column. Columns ``community`` (position in ``areas``),
        ``residents``, ``households`` (``nan`` without ``household_size``),
        ``cell_row``, ``cell_col`` (in the whole raster), ``cell_fraction``
        (share of the cell's area in the piece, in (0, 1]), ``area_m2`` (the
        piece's area) and point geometry. A piece of a nodata or NaN cell has
        ``nan`` residents and households (unknown, never 0). ``attrs`` holds
        ``source``, ``window`` (row offset, column offset, height, width of
        the cells read), ``window_residents`` (people in the known cells read),
        ``outside_residents`` (people in known cells but in no community),
        ``unknown_cells`` (nodata/NaN cells under the communities) and
        ``unknown_communities`` (positions of the communities with area under
        them); the sums add up over the known cells:
        ``residents.sum() + outside_residents == window_residents`` (the sum
        skipping ``nan``).

    Raises
    ------
    InputDataError
        Missing, unreadable or truncated file; bad band; negative values; a
        raster that does not overlap the communities.
    CRSError
        The raster has no CRS and ``crs=`` is not given; the communities are
        not in a metric projected CRS.
    TooLargeError
        The window covering the communities has more than
        ``settings.max_raster_cells`` cells (checked before anything is read).

    Notes
    -----
    Each cell is a quadrilateral whose corners are the raster cell's corners
    transformed to the communities' CRS (straight edges between them: at 100 m
    the bending of a cell's edge is far below a millimetre). Transforming
    between WGS84 and CGCS2000 applies no datum shift (they differ by a few
    centimetres). Residents are assumed to be spread evenly within a cell.

    Examples
    --------
    Two cells of 10 and 30 people; the second is cut in half by two communities.

    >>> import tempfile, pathlib, numpy as np, rasterio, geopandas as gpd, shapely
    >>> tif = pathlib.Path(tempfile.mkdtemp()) / "pop.tif"
    >>> with rasterio.open(tif, "w", driver="GTiff", width=2, height=1, count=1, dtype="float32",
    ...                    crs="EPSG:4544", transform=rasterio.Affine(100, 0, 500000, 0, -100, 3300100)) as dst:
    ...     dst.write(np.array([[10, 30]], dtype="float32"), 1)
    >>> areas = gpd.GeoSeries([shapely.box(500000, 3300000, 500150, 3300100),
    ...                        shapely.box(500150, 3300000, 500200, 3300100)], crs="EPSG:4544")
    >>> d = population_demand(tif, areas, household_size=2.5)
    >>> d[["community", "residents", "households", "cell_col", "cell_fraction"]].values.tolist()
    [[0.0, 10.0, 4.0, 0.0, 1.0], [0.0, 15.0, 6.0, 1.0, 0.5], [1.0, 15.0, 6.0, 1.0, 0.5]]
    >>> d.geometry.iloc[0].coords[0]
    (500050.0, 3300050.0)
    """
    if household_size is not None and not (math.isfinite(household_size) and household_size > 0):
        raise InputDataError(
            f"household size must be a positive number, not {household_size!r}",
            fix="give the average number of people per household (e.g. 2.6)",
        )
    if isinstance(areas, gpd.GeoDataFrame):
        areas = areas.geometry
    a_crs = _areas_crs(areas)
    if not isinstance(source, PopulationGrid) and not Path(source).exists():
        raise InputDataError("file not found", file=source, fix="check the path")

    owned, lost, usable = _usable_owned(areas)
    if isinstance(source, PopulationGrid):
        grid = source
    else:  # a file: read the window over these communities (the convenience of a direct call)
        grid = read_population(
            source,
            bounds=tuple(shapely.total_bounds(owned[usable])) if usable.any() else None,
            bounds_crs=a_crs,
            band=band,
            crs=crs,
        )
    path = grid.source
    if not usable.any():
        return _empty(areas.crs)
    r_crs = grid.crs
    same = r_crs.equals(a_crs, ignore_axis_order=True)
    to_areas = None if same else pyproj.Transformer.from_crs(r_crs, a_crs, always_xy=True)
    row0, col0, height, width = grid.row0, grid.col0, grid.height, grid.width
    comm_idx = np.flatnonzero(usable)
    targets = owned[comm_idx]
    shapely.prepare(targets)
    tree = shapely.STRtree(targets)
    aff = grid.transform

    def to_metric(col: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = aff.a * col + aff.b * row + aff.c
        y = aff.d * col + aff.e * row + aff.f
        if to_areas is not None:
            x, y = to_areas.transform(x, y)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    pieces: list[tuple[np.ndarray, ...]] = []
    window_total = 0.0
    step = max(1, _CHUNK_CELLS // width)
    for r0 in range(row0, row0 + height, step):
        nr = min(step, row0 + height - r0)
        values = grid.values[r0 - row0 : r0 - row0 + nr]
        window_total += float(np.nansum(values))  # known cells only: an unknown cell adds nothing
        # corners of the block's cells, in the communities' CRS
        cc, rr = np.meshgrid(np.arange(col0, col0 + width + 1, dtype=float), np.arange(r0, r0 + nr + 1, dtype=float))
        cx, cy = to_metric(cc, rr)
        if not (np.isfinite(cx).all() and np.isfinite(cy).all()):
            raise CRSError(
                f"cells of the raster cannot be placed in {a_crs.name}",
                file=path,
                fix="check the raster's coordinate system (crs=)",
            )
        if not len(tree.query(shapely.box(cx.min(), cy.min(), cx.max(), cy.max()))):
            continue
        ring = np.stack(
            [
                np.stack([cx[:-1, :-1], cy[:-1, :-1]], -1),
                np.stack([cx[:-1, 1:], cy[:-1, 1:]], -1),
                np.stack([cx[1:, 1:], cy[1:, 1:]], -1),
                np.stack([cx[1:, :-1], cy[1:, :-1]], -1),
                np.stack([cx[:-1, :-1], cy[:-1, :-1]], -1),
            ],
            axis=2,
        ).reshape(-1, 5, 2)
        polys = shapely.polygons(ring)
        cell_area = shapely.area(polys)
        # the communities query a tree of the cells: the (complex) communities are then the
        # prepared side of each test, the simple cells the other
        ti, ci = shapely.STRtree(polys).query(targets, predicate="intersects")
        if not len(ci):
            continue
        whole = shapely.covers(targets[ti], polys[ci])
        frac = np.ones(len(ci))
        area = cell_area[ci].copy()
        pts = np.empty(len(ci), dtype=object)
        # whole cells: the cell centre
        wi = ci[whole]
        mx, my = to_metric(col0 + wi % width + 0.5, r0 + wi // width + 0.5)
        pts[whole] = shapely.points(mx, my)
        # cut cells: a point inside each piece
        cut = ~whole
        inter = shapely.intersection(polys[ci[cut]], targets[ti[cut]])
        area[cut] = shapely.area(inter)
        frac[cut] = np.minimum(area[cut] / cell_area[ci[cut]], 1.0)
        pts[cut] = shapely.point_on_surface(inter)
        keep = area > 0
        ci, ti = ci[keep], ti[keep]
        pieces.append(
            (
                comm_idx[ti],
                values.ravel()[ci] * frac[keep],
                r0 + ci // width,
                col0 + ci % width,
                frac[keep],
                area[keep],
                pts[keep],
            )
        )

    if pieces:
        comm, res, rows, cols, frac, area, pts = (np.concatenate(p) for p in zip(*pieces))
    else:
        comm = rows = cols = np.zeros(0, dtype=np.int64)
        res = frac = area = np.zeros(0)
        pts = np.zeros(0, dtype=object)
    if not len(comm):
        raise InputDataError(
            "the raster covers none of the communities",
            file=path,
            fix="use a raster that covers the study area, or check its coordinate system (crs=)",
        )
    order = np.lexsort((cols, rows, comm))
    comm, res, rows, cols, frac, area, pts = (a[order] for a in (comm, res, rows, cols, frac, area, pts))
    households = res / household_size if household_size else np.full(len(res), np.nan)
    out = gpd.GeoDataFrame(
        {
            "community": comm.astype(np.int64),
            "residents": res,
            "households": households,
            "cell_row": rows.astype(np.int64),
            "cell_col": cols.astype(np.int64),
            "cell_fraction": frac,
            "area_m2": area,
        },
        geometry=gpd.GeoSeries(pts, crs=areas.crs),
        crs=areas.crs,
    )
    unknown = np.isnan(res)  # pieces of nodata / NaN cells
    assigned = float(res[~unknown].sum())
    outside = window_total - assigned
    unknown_area = np.bincount(comm, weights=np.where(unknown, area, 0.0), minlength=len(owned))
    on_unknown = unknown_area > 0
    out.attrs.update(
        source=str(path),
        layer=None,
        window=(row0, col0, height, width),
        window_residents=window_total,
        outside_residents=outside,
        unknown_cells=_n_cells(rows[unknown], cols[unknown]),
        unknown_communities=tuple(int(k) for k in np.flatnonzero(on_unknown)),
    )
    if on_unknown.any():
        _warn_unknown(path, rows, cols, unknown, on_unknown, unknown_area, shapely.area(owned), int(usable.sum()))

    if outside > 1e-9 * max(window_total, 1.0):
        warn_data(
            "population_outside",
            f"{outside:,.1f} of the {window_total:,.1f} people in the raster "
            "cells read lie outside every community and are not counted",
            file=path,
        )
    if lost.any():
        first = int(np.flatnonzero(lost)[0])
        warn_data(
            "overlapping_communities",
            f"{int(lost.sum())} communities overlap communities listed "
            "before them; residents in an overlap count for the one listed first",
            file=path,
            feature=f"#{first + 1}",
            count=int(lost.sum()),
        )
    covered = np.bincount(comm, weights=area, minlength=len(owned))
    owned_area = np.where(usable, shapely.area(owned), 0.0)
    short = usable & (covered < (1 - _UNCOVERED_SHARE) * owned_area)
    if short.any():
        first = int(np.flatnonzero(short)[0])
        pct = 100 * (1 - covered[first] / owned_area[first])
        warn_data(
            "raster_partial",
            f"{int(short.sum())} communities lie partly or wholly outside the raster "
            f"(#{first + 1}: {pct:.0f}% of its area); their residents there are unknown",
            file=path,
            feature=f"#{first + 1}",
            count=int(short.sum()),
        )
    return out
