"""Where people live: demand points and their weights.

Two ways in:

* a **demand layer** of points (buildings, households, raster cells) with a
  weight column (households or residents; 1 per point when none is named);
* **sampled demand**, when no layer is given: points on a regular grid
  (``settings.sample_spacing``, 50 m by default, aligned to whole multiples of the
  spacing so the same community always gets the same points) inside each
  community (or inside its residential land, when a residential layer is given),
  with the community's households or residents shared equally among its points.
  A community too small or thin to hold a grid point gets one point inside it.

Coverage is then the share of a community's *weight* (not of its area) within
reach, which is what GB 50180's service radii are about.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely

from ._arrays import run_starts
from .errors import TooLargeError, warn_data
from .options import setting_or

__all__ = ["grid_points", "sample_demand", "assign_to_communities", "MAX_SAMPLE_POINTS"]

#: Sampled demand is coarsened (with a warning) to stay below this many grid points.
MAX_SAMPLE_POINTS = 5_000_000


def grid_points(bounds: tuple[float, float, float, float], spacing: float) -> np.ndarray:
    """Centres of a grid aligned to multiples of ``spacing`` covering ``bounds``.

    >>> grid_points((0, 0, 100, 50), 50).tolist()
    [[25.0, 25.0], [75.0, 25.0]]
    """
    minx, miny, maxx, maxy = bounds
    x0 = math.floor(minx / spacing)
    y0 = math.floor(miny / spacing)
    nx = max(int(math.ceil(maxx / spacing)) - x0, 1)
    ny = max(int(math.ceil(maxy / spacing)) - y0, 1)
    if nx * ny > 4 * MAX_SAMPLE_POINTS:
        raise TooLargeError(
            f"a {spacing:g} m grid over this area would have {nx * ny:,} cells",
            fix="use a larger spacing",
        )
    xs = (x0 + np.arange(nx) + 0.5) * spacing
    ys = (y0 + np.arange(ny) + 0.5) * spacing
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def assign_to_communities(points: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Position of the area each point lies in (``-1`` if none).

    A point on a shared edge, or in an overlap, goes to the area listed first.
    """
    pts = shapely.points(points) if np.asarray(points).dtype != object else np.asarray(points)
    out = np.full(len(pts), -1, dtype=np.int64)
    ok = ~(shapely.is_missing(pts) | shapely.is_empty(pts))
    if not ok.any() or len(areas) == 0:
        return out
    tree = shapely.STRtree(areas)
    p, a = tree.query(pts[ok], predicate="intersects")
    order = np.lexsort((a, p))
    p, a = p[order], a[order]
    first = run_starts(p)
    out[np.flatnonzero(ok)[p[first]]] = a[first]
    return out


def sample_demand(
    areas: gpd.GeoSeries,
    weight: np.ndarray,
    *,
    spacing: float | None = None,
    residential: gpd.GeoSeries | None = None,
) -> gpd.GeoDataFrame:
    """Sample demand points inside each area and share its weight among them.

    Parameters
    ----------
    areas
        Community polygons in a metric CRS.
    weight
        Households or residents per community (``nan`` = unknown: its points get
        ``nan`` weight and the community is reported as having no demand data).
    spacing
        Grid spacing in metres (default ``settings.sample_spacing``).
    residential
        Optional residential-land polygons (same CRS): points are sampled only
        where a community overlaps them; communities with no residential land
        fall back to their whole area.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``community`` (position of the area), ``weight``, ``sampled_in``
        (``"residential"`` or ``"community"``), ``area_m2`` (the land each point
        stands for: the sampled area shared equally) and point geometry.

    Examples
    --------
    A 100 m × 100 m community of 8 households, sampled every 50 m: 4 points of 2.

    >>> import geopandas as gpd, numpy as np, shapely
    >>> sq = gpd.GeoSeries([shapely.box(0, 0, 100, 100)], crs="EPSG:4544")
    >>> d = sample_demand(sq, np.array([8.0]), spacing=50)
    >>> len(d), d.weight.tolist()
    (4, [2.0, 2.0, 2.0, 2.0])
    """
    spacing = float(setting_or("sample_spacing", spacing))
    geoms = np.asarray(areas.values, dtype=object)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    where = np.full(len(geoms), "community", dtype=object)
    sample_geoms = geoms.copy()
    if residential is not None and len(residential):
        land = shapely.union_all(np.asarray(residential.values, dtype=object))
        inter = np.empty(len(geoms), dtype=object)
        inter[usable] = shapely.intersection(geoms[usable], land)
        has_land = usable & ~shapely.is_empty(inter) & (shapely.area(inter) > 0)
        sample_geoms[has_land] = inter[has_land]
        where[has_land] = "residential"
    if not usable.any():
        return gpd.GeoDataFrame(
            {
                "community": np.zeros(0, np.int64),
                "weight": np.zeros(0),
                "sampled_in": np.zeros(0, object),
                "area_m2": np.zeros(0),
            },
            geometry=[],
            crs=areas.crs,
        )
    total_area = float(shapely.area(sample_geoms[usable]).sum())
    if total_area / spacing**2 > MAX_SAMPLE_POINTS:
        new = math.sqrt(total_area / MAX_SAMPLE_POINTS)
        warn_data(
            "coarse_sampling",
            f"sampling every {spacing:g} m would make over "
            f"{MAX_SAMPLE_POINTS:,} demand points; sampled every {new:.0f} m instead",
            count=1,
        )
        spacing = new
    b = shapely.total_bounds(sample_geoms[usable])
    grid = grid_points(tuple(b), spacing)
    owner = assign_to_communities(grid, np.where(usable, sample_geoms, shapely.Point()))
    keep = owner >= 0
    pts, owner = grid[keep], owner[keep]
    counts = np.bincount(owner, minlength=len(geoms))
    lonely = usable & (counts == 0)
    if lonely.any():
        extra = shapely.get_coordinates(shapely.point_on_surface(sample_geoms[lonely]))
        pts = np.vstack([pts, extra])
        owner = np.r_[owner, np.flatnonzero(lonely)]
        counts = np.bincount(owner, minlength=len(geoms))
    order = np.lexsort((pts[:, 0], pts[:, 1], owner))
    pts, owner = pts[order], owner[order]
    w = np.asarray(weight, dtype=float)[owner] / counts[owner]
    area = shapely.area(sample_geoms)[owner] / counts[owner]
    return gpd.GeoDataFrame(
        {"community": owner, "weight": w, "sampled_in": where[owner], "area_m2": area},
        geometry=shapely.points(pts),
        crs=areas.crs,
    )
