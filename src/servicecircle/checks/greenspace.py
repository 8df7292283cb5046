"""Green and park reach: "300 米见绿、500 米见园".

Green spaces are polygons (OSM ``leisure=park``, ``leisure=garden``,
``landuse=grass``, ``landuse=recreation_ground`` or a planner's own layer).
Polygons that overlap or touch are merged into one green space, whose size is the
area of the merged shape. The profile says which sizes count for which radius
(Meishan: green ≥ 400 m² within 300 m, park ≥ 1 ha within 500 m) and how a green
space is reached — **never at its centroid**:

``entrances``
    at mapped entrance points (a layer of points; an entrance belongs to the
    green space whose edge is within 20 m). A space without one falls back to
    ``boundary_crossings``.
``boundary_crossings``
    where walkable network edges cross its boundary (the paths into it). A
    space no path enters falls back to ``boundary_samples``.
``boundary_samples``
    points every ``boundary_spacing_m`` metres along its outer boundary.

The access points of every green space become destinations of a distance engine
(snapped like any facility, access leg included). A green space counts once
however many access points it has: distance is to its nearest access point and
counts are of green spaces, not of entrances. A home inside a green space is at
distance 0 from it.

Coverage is the share of residents (or of residential land, as the profile's
``denominator`` says) within the radius of a qualifying green space, per
community and citywide, against the profile's target (the Meishan plan asks for
more than 95 %). The citywide park area per resident is compared with
``park_area_per_resident_m2`` (16 m² in Meishan).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from .._arrays import run_starts
from ..coords import to_crs
from ..engine import DistanceEngine, snap_points
from ..errors import warn_data
from ..schema import count_column, distance_column, flag_column, green_check_key, pass_column
from .context import CheckOutcome, Context
from .lifecircle import reach_outcome
from .measure import nullable

if TYPE_CHECKING:
    from ..network.model import WalkNetwork
    from .gaps import GapGrid

__all__ = ["merge_green_spaces", "access_points", "greenspace_checks", "ENTRANCE_TOLERANCE_M"]

#: An entrance point belongs to a green space whose edge is at most this far.
ENTRANCE_TOLERANCE_M = 20.0


def merge_green_spaces(
    geoms: NDArray[np.object_], names: NDArray[Any] | None = None, kinds: NDArray[Any] | None = None
) -> gpd.GeoDataFrame:
    """Merge overlapping or touching polygons into green spaces.

    Parameters
    ----------
    geoms
        Polygons in a metric CRS.
    names, kinds
        Optional name and category of each polygon (joined per green space).

    Returns
    -------
    geopandas.GeoDataFrame
        ``gs_id`` (1-based), ``area_m2``, ``names``, ``categories``,
        ``n_polygons`` and the merged geometry, sorted by position.

    Examples
    --------
    >>> import shapely
    >>> g = merge_green_spaces(np.array([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10),
    ...                                  shapely.box(50, 0, 60, 10)]))
    >>> g["area_m2"].tolist()
    [200.0, 100.0]
    """
    geoms = np.asarray(geoms, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    ok &= np.isin(shapely.get_type_id(geoms), [3, 6])
    geoms = shapely.make_valid(geoms[ok])
    names = np.asarray(names, dtype=object)[ok] if names is not None else np.full(len(geoms), "", object)
    kinds = np.asarray(kinds, dtype=object)[ok] if kinds is not None else np.full(len(geoms), "", object)
    merged = shapely.get_parts(shapely.union_all(geoms)) if len(geoms) else np.zeros(0, dtype=object)
    merged = merged[np.isin(shapely.get_type_id(merged), [3])]
    merged = merged[shapely.area(merged) > 0]
    # one ring start and orientation per shape: GEOS' union starts a ring where the other polygons of the
    # union make it, and the boundary samples are counted from that start (a far-away park moved them)
    merged = shapely.normalize(merged)
    # deterministic order: by lower-left corner
    b = shapely.bounds(merged) if len(merged) else np.zeros((0, 4))
    order = np.lexsort((b[:, 0], b[:, 1])) if len(merged) else np.zeros(0, dtype=int)
    merged = merged[order]
    rows = []
    tree = shapely.STRtree(geoms) if len(geoms) else None
    for i, g in enumerate(merged):
        hits: NDArray[np.intp] | list[int] = np.sort(tree.query(g, predicate="intersects")) if tree is not None else []
        src = [k for k in hits if shapely.area(shapely.intersection(g, geoms[k])) > 0]
        nm = sorted({str(names[k]) for k in src if names[k] not in (None, "") and str(names[k]) != "nan"})
        kd = sorted({str(kinds[k]) for k in src if kinds[k] not in (None, "") and str(kinds[k]) != "nan"})
        rows.append(
            {
                "gs_id": i + 1,
                "area_m2": float(shapely.area(g)),
                "names": "; ".join(nm),
                "categories": "; ".join(kd),
                "n_polygons": len(src),
                "geometry": g,
            }
        )
    return gpd.GeoDataFrame(
        rows, columns=["gs_id", "area_m2", "names", "categories", "n_polygons", "geometry"], geometry="geometry"
    )


def _boundary_samples(geoms: NDArray[np.object_], spacing: float) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    rings = shapely.get_exterior_ring(geoms)
    length = shapely.length(rings)
    n = np.maximum(np.ceil(length / spacing).astype(int), 1)
    owner = np.repeat(np.arange(len(geoms)), n)
    start = np.repeat(np.cumsum(n) - n, n)
    k = np.arange(n.sum()) - start
    dist = k * (length[owner] / n[owner])
    pts = shapely.line_interpolate_point(rings[owner], dist)
    return shapely.get_coordinates(pts), owner


def _boundary_crossings(
    geoms: NDArray[np.object_], network: WalkNetwork
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    rings = shapely.boundary(geoms)
    tree = network.edge_index
    g_idx, e_idx = tree.query(rings, predicate="intersects")
    if len(g_idx) == 0:
        return np.zeros((0, 2)), np.zeros(0, dtype=int)
    inter = shapely.intersection(rings[g_idx], network.edge_geometry[e_idx])
    parts, owner = shapely.get_parts(inter, return_index=True)
    owner = g_idx[owner]
    # a path running along the boundary gives a line: its ends are the crossings
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    is_point = shapely.get_type_id(parts) == 0
    ends = np.zeros(len(coords), dtype=bool)
    if len(coords):
        first = run_starts(idx)
        last = np.r_[first[1:], True]
        ends = first | last | is_point[idx]
    xy, own = coords[ends], owner[idx[ends]]
    # one access point per distinct location and green space
    key = np.round(xy, 3)
    _, keep = np.unique(np.column_stack([own, key]), axis=0, return_index=True)
    keep.sort()
    return xy[keep], own[keep]


def access_points(
    spaces: gpd.GeoDataFrame,
    network: WalkNetwork,
    *,
    method: str,
    spacing: float,
    entrances: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.object_]]:
    """Where each green space can be entered.

    Returns
    -------
    xy, owner, how
        Coordinates of the access points, the green space (position) each
        belongs to, and per green space the method actually used.
    """
    geoms = np.asarray(spaces.geometry.values, dtype=object)
    n = len(geoms)
    how = np.full(n, method, dtype=object)
    xy_parts, own_parts = [], []
    todo = np.ones(n, dtype=bool)
    if method == "entrances":
        if entrances is not None and len(entrances):
            pts = shapely.points(np.asarray(entrances, dtype=float))
            tree = shapely.STRtree(shapely.boundary(geoms))
            p_idx, g_idx = tree.query(pts, predicate="dwithin", distance=ENTRANCE_TOLERANCE_M)
            if len(p_idx):
                xy_parts.append(shapely.get_coordinates(pts[p_idx]))
                own_parts.append(g_idx)
                todo[g_idx] = False
        how[todo] = "boundary_crossings"
    if method in ("entrances", "boundary_crossings") and todo.any():
        sel = np.flatnonzero(todo)
        xy, own = _boundary_crossings(geoms[sel], network)
        own = sel[own]
        xy_parts.append(xy)
        own_parts.append(own)
        todo[np.unique(own)] = False
        how[todo] = "boundary_samples"
    if todo.any():
        sel = np.flatnonzero(todo)
        xy, own = _boundary_samples(geoms[sel], spacing)
        xy_parts.append(xy)
        own_parts.append(sel[own])
    xy = np.vstack(xy_parts) if xy_parts else np.zeros((0, 2))
    owner = np.concatenate(own_parts) if own_parts else np.zeros(0, dtype=int)
    order = np.lexsort((xy[:, 0], xy[:, 1], owner)) if len(owner) else np.zeros(0, dtype=int)
    return xy[order], owner[order].astype(np.int64), how


def greenspace_checks(
    ctx: Context, greenspace: gpd.GeoDataFrame | None, entrances: gpd.GeoDataFrame | None = None
) -> list[CheckOutcome]:
    """The green and park reach checks of the profile, and park area per resident.

    Parameters
    ----------
    ctx
        The assessment context.
    greenspace
        Green-space polygons (any CRS) with optional ``name`` / ``category`` columns.
    entrances
        Optional entrance points, for profiles whose ``reach`` is ``entrances``.
    """
    prof = ctx.profile
    if not prof.green:
        return []
    if greenspace is None or len(greenspace) == 0:
        warn_data(
            "greenspace_absent",
            "no green-space layer was given: the green and park reach checks "
            f"of profile '{prof.key}' were not assessed",
            count=len(prof.green),
        )
        return []
    gs_in = to_crs(greenspace, ctx.crs)
    kinds = gs_in["category"].to_numpy() if "category" in gs_in.columns else None
    names = gs_in["name"].to_numpy() if "name" in gs_in.columns else None
    polygonal = np.isin(shapely.get_type_id(np.asarray(gs_in.geometry.values, dtype=object)), [3, 6])
    if (~polygonal).any():
        warn_data(
            "greenspace_not_polygon",
            f"{int((~polygonal).sum())} green-space features are not "
            "polygons; their size is unknown, so they were left out",
            count=int((~polygonal).sum()),
        )
    spaces = merge_green_spaces(np.asarray(gs_in.geometry.values, dtype=object), names, kinds)
    spaces = spaces.set_crs(ctx.crs)
    rules = list(prof.green.values())
    n_sp = len(spaces)
    ent_xy = None
    if entrances is not None and len(entrances):
        ent_xy = shapely.get_coordinates(np.asarray(to_crs(entrances, ctx.crs).geometry.values, dtype=object))
    methods = {r.reach for r in rules}
    spacing = min((r.boundary_spacing_m or 20.0) for r in rules)
    method = (
        "entrances"
        if "entrances" in methods
        else ("boundary_crossings" if "boundary_crossings" in methods else "boundary_samples")
    )
    if len(methods) > 1:
        warn_data(
            "greenspace_reach_method",
            f"the profile's green rules use different reach methods "
            f"({', '.join(sorted(methods))}); '{method}' was used for all",
        )
    xy, owner, how = access_points(spaces, ctx.network, method=method, spacing=spacing, entrances=ent_xy)
    a_snap = snap_points(ctx.network, xy, ctx.max_snap)
    engine = DistanceEngine(ctx.network, a_snap)
    d_att = engine.attach(ctx.d_snap)
    area = spaces["area_m2"].to_numpy()
    sp_geom = np.asarray(spaces.geometry.values, dtype=object)
    # a home inside a green space is at distance 0 from it
    inside_tree = shapely.STRtree(sp_geom) if n_sp else None

    def inside(points: NDArray[np.object_], qualifying: NDArray[np.bool_]) -> NDArray[np.bool_]:
        res = np.zeros(len(points), dtype=bool)
        if inside_tree is None or not qualifying.any():
            return res
        p, g = inside_tree.query(points, predicate="within")
        ok = qualifying[g]
        res[p[ok]] = True
        return res

    outcomes: list[CheckOutcome] = []
    layer = spaces.copy()
    layer["reach_method"] = how
    layer["n_access"] = np.bincount(owner, minlength=n_sp)
    for rule in rules:
        q = area >= rule.min_area_m2
        layer[flag_column(rule.key)] = q
        members = np.flatnonzero(q[owner])
        node_dist = engine.node_distances(members)
        dist = engine.point_distances(node_dist, d_att)
        dist = np.where(inside(ctx.d_geom, q), 0.0, dist)
        rule_weight, rule_kind = _denominator(ctx, rule.denominator)

        def cell_dist(
            grid: GapGrid, nd: NDArray[np.float64] = node_dist, qq: NDArray[np.bool_] = q
        ) -> NDArray[np.float64]:
            d = grid.distances(nd, engine)
            return np.where(grid.inside(sp_geom[qq]), 0.0, d)

        out = reach_outcome(
            ctx,
            key=green_check_key(rule.key),
            kind="reach",
            name_zh=rule.name_zh,
            name_en=rule.name_en,
            radius=float(rule.radius_m),
            target=float(rule.target_share),
            source=rule.source,
            confirmed=bool(rule.confirmed),
            dist=dist,
            cell_dist=cell_dist,
            weight=rule_weight,
            weight_kind=rule_kind,
            destinations=int(q.sum()),
            destinations_unsnapped=int((np.bincount(owner[a_snap.ok], minlength=n_sp)[q] == 0).sum()),
            applies=ctx.scope(rule.applies_to, f"the {rule.name_en} check"),
        )
        out.summary["min_area_m2"] = rule.min_area_m2
        out.summary["reach"] = method
        # counts of green spaces (not entrances) within the radius
        s_idx, t_idx, _ = engine.within(members, d_att, float(rule.radius_m))
        pairs = np.unique(np.column_stack([t_idx, owner[s_idx]]), axis=0) if len(s_idx) else np.zeros((0, 2), int)
        counts = np.bincount(pairs[:, 0], minlength=len(ctx.d_geom)) if len(pairs) else np.zeros(len(ctx.d_geom), int)
        counts = np.where(inside(ctx.d_geom, q) & (counts == 0), 1, counts)
        out.demand_columns[distance_column(rule.key)] = np.where(np.isfinite(dist), dist, np.nan)
        out.demand_columns[count_column(rule.key, rule.radius_m)] = counts
        outcomes.append(out)
    # the smallest green spaces that count are the plan's "open public green space" (6个1)
    smallest = min(rules, key=lambda r: r.min_area_m2)
    q_small = area >= smallest.min_area_m2
    if q_small.any():
        nd = engine.node_distances(np.flatnonzero(q_small[owner]))
        dist_small = np.where(inside(ctx.d_geom, q_small), 0.0, engine.point_distances(nd, d_att))
        comm_ok = ~(shapely.is_missing(ctx.comm_geom) | shapely.is_empty(ctx.comm_geom))
        touches = np.zeros(ctx.n_comm, dtype=bool)
        c_idx, g_idx = shapely.STRtree(sp_geom[q_small]).query(ctx.comm_geom[comm_ok], predicate="intersects")
        hit = shapely.area(shapely.intersection(ctx.comm_geom[comm_ok][c_idx], sp_geom[q_small][g_idx])) > 0
        touches[np.flatnonzero(comm_ok)[c_idx[hit]]] = True
        ctx.destinations["public_green"] = {"inside": touches, "dist": dist_small}
    # park (green) area per resident
    target = prof.park_area_per_resident_m2
    green_rule = min(rules, key=lambda r: r.min_area_m2)
    counted = sp_geom[area >= green_rule.min_area_m2]
    comm = ctx.comm_geom
    ok = ~(shapely.is_missing(comm) | shapely.is_empty(comm))
    per_comm = np.full(ctx.n_comm, np.nan)
    if len(counted):
        tree = shapely.STRtree(counted)
        c_idx, g_idx = tree.query(comm[ok], predicate="intersects")
        inter = shapely.area(shapely.intersection(comm[ok][c_idx], counted[g_idx])) if len(c_idx) else np.zeros(0)
        per_comm[ok] = np.bincount(c_idx, weights=inter, minlength=int(ok.sum()))
    else:
        per_comm[ok] = 0.0
    residents = ctx.residents
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(residents > 0, per_comm / residents, np.nan)
    known = np.isfinite(residents) & (residents > 0)
    city_area = float(np.nansum(per_comm[known]))
    city_res = float(np.nansum(residents[known]))
    city = city_area / city_res if city_res > 0 else np.nan
    if target:
        passed = nullable(ratio >= target, ~np.isnan(ratio))
        per = CheckOutcome(
            key="park_area_per_resident",
            kind="indicator",
            name_zh="人均公园绿地面积",
            name_en="Park green area per resident",
            source=prof.park_area_per_resident_source or "",
            confirmed=True,
            columns={
                "green_area_m2": per_comm,
                "green_m2_per_resident": ratio,
                pass_column("park_area_per_resident"): passed,
            },
            pass_col=pass_column("park_area_per_resident"),
            score_col="green_m2_per_resident",
            score_unit="m²/resident",
            target=float(target),
            summary={
                "check": "park_area_per_resident",
                "kind": "indicator",
                "category": "park_area_per_resident",
                "name_zh": "人均公园绿地面积",
                "name_en": "Park green area per resident",
                "target_pct": np.nan,
                "communities_assessed": int((~passed.isna()).sum()),
                # pandas-stubs give BooleanArray no __eq__ (object's, -> bool); it is elementwise, -> BooleanArray
                "communities_passed": int((passed == True).sum()),  # type: ignore[comparison-overlap,attr-defined]  # noqa: E712
                "communities_failed": int((passed == False).sum()),  # type: ignore[comparison-overlap,attr-defined]  # noqa: E712
                "source": prof.park_area_per_resident_source or "",
                "confirmed": True,
            },
            scorecard=[
                {
                    "target_key": "park_area_per_resident",
                    "name_zh": "人均公园绿地面积",
                    "name_en": "Park green area per resident",
                    "value": city,
                    "unit": "m²/resident",
                    "target": float(target),
                    "comparison": ">=",
                    "passed": bool(city >= target) if np.isfinite(city) else None,
                    "method": f"area of green spaces of at least {green_rule.min_area_m2:g} m² inside the communities "
                    f"÷ residents of communities with a known population ({city_res:,.0f})",
                    "source": prof.park_area_per_resident_source or "",
                    "confirmed": True,
                }
            ],
        )
        outcomes.append(per)
    if outcomes:
        layer = layer.set_crs(ctx.crs, allow_override=True)
        access = gpd.GeoDataFrame(
            {
                "gs_id": spaces["gs_id"].to_numpy()[owner] if len(owner) else np.zeros(0, int),
                "method": how[owner] if len(owner) else np.zeros(0, object),
                "snap_m": a_snap.access,
                "snapped": a_snap.ok,
            },
            geometry=shapely.points(xy) if len(xy) else [],
            crs=ctx.crs,
        )
        outcomes[0].layers["greenspace"] = layer
        outcomes[0].layers["greenspace_access"] = access
    return outcomes


def _denominator(ctx: Context, denominator: str) -> tuple[NDArray[np.float64], str]:
    """Demand weight for a green rule: residents, or residential land area."""
    if denominator == "residential_area":
        if ctx.d_area is not None:
            return ctx.d_area, "residential area (m²)"
        warn_data(
            "greenspace_denominator",
            "the profile measures green reach by residential land area, "
            "but the demand points carry no area (a demand layer or raster was given): residents used",
        )
    size = ctx.profile.household_size
    if ctx.weight_kind == "households" and size:
        return ctx.d_weight * size, "residents"
    return ctx.d_weight, ctx.weight_kind
