"""Service areas and catchments: the places a facility serves, built from the reached parts of the streets.

Definition. For a budget ``r`` (metres, or seconds for a walking group) and an
access allowance ``A`` (metres), the service area of a set of facilities is::

    { p : there is a place q on the network with |p - q| <= min(A, v (r - c(q))) }

where ``c(q)`` is the cost of walking from ``q`` to the nearest facility of the
set (the engine's node costs, plus the cost along ``q``'s own edge, facility
access legs included) and ``v`` is the access speed (metres per unit of cost:
1 for metres, the group's flat speed for time). So every place in the area is
within ``r`` of a facility by a walk that leaves the street once, in a straight
line no longer than ``A``: a place beyond the radius is never inside.

Construction (exact up to the circles). Every edge is cut at its vertices, at
the facilities inserted in it, at the knots of its cost profile (slope), at the
meeting point of the costs from its two ends, where the remaining budget falls
to ``A`` and where it runs out. On each resulting straight piece the cost is
linear, so the union of the discs of radius ``min(A, v (r - c))`` centred on
it is exactly the convex hull of its two end discs. Discs are regular polygons
inscribed in the circles (``quad_segs`` segments per quarter), so the polygon
is inside the exact area too; an area is the union of its pieces.

Catchments. The same pieces, each labelled with the facility it is nearest to
(the meeting point between two facilities is a cut), partition the reached
network: every reached street place belongs to exactly one facility's
catchment, and the catchment areas are those pieces' hulls per facility.

>>> import numpy as np
>>> from servicecircle.network import network_from_arrays
>>> from servicecircle.engine import DistanceEngine, snap_points
>>> net = network_from_arrays(np.array([[0, 0], [1000, 0]]), [0], [1], "EPSG:4544")
>>> eng = DistanceEngine(net, snap_points(net, np.array([[500.0, 0.0]])))
>>> area = service_areas(eng, [[0]], 300.0, 50.0)[0]
>>> round(area.area / 1000, 1)  # 500 m x 100 m, and one 32-gon of radius 50 m
57.8
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import dijkstra

from ..network.slope import vertex_offsets
from .distance import DistanceEngine

__all__ = ["ReachedPieces", "reached_pieces", "service_areas", "facility_service_areas", "catchments"]

#: Segments per quarter circle of the discs (32-gons, as GEOS and PostGIS buffer by default).
QUAD_SEGS = 8


@dataclass(frozen=True)
class ReachedPieces:
    """Straight pieces of the network within budget, with their costs and the facility they are nearest to.

    Attributes
    ----------
    edge, s0, s1
        Network edge and metres from its ``u`` end of each piece.
    c0, c1
        Cost at the piece's ends (the cost is linear between).
    radius0, radius1
        Metres of allowance at the ends: ``min(A, v (r - c))``.
    facility
        Index (into the engine's facilities) of the nearest facility (``-1``: not known).
    """

    edge: NDArray[np.int64]
    s0: NDArray[np.float64]
    s1: NDArray[np.float64]
    c0: NDArray[np.float64]
    c1: NDArray[np.float64]
    radius0: NDArray[np.float64]
    radius1: NDArray[np.float64]
    facility: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.edge)


def _split(
    cols: dict[str, NDArray[Any]], a: NDArray[np.float64], b: NDArray[np.float64]
) -> tuple[dict[str, NDArray[Any]], NDArray[np.float64]]:
    """Cut pieces where the linear ``a`` crosses ``b`` strictly inside; the fraction of each cut."""
    d0, d1 = a, b
    cross = (d0 * d1 < 0) & np.isfinite(d0) & np.isfinite(d1)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(cross, d0 / np.where(cross, d0 - d1, 1.0), 1.0)
    return cols, np.where(cross, t, 1.0)


def _cut_at(cols: dict[str, NDArray[Any]], t: NDArray[np.float64]) -> dict[str, NDArray[Any]]:
    """Split piece i at fraction t[i] (0 < t < 1) into two; pieces with t >= 1 stay whole."""
    cut = t < 1.0
    idx = np.r_[np.arange(len(t)), np.flatnonzero(cut)]
    out = {k: v[idx].copy() for k, v in cols.items()}
    n = len(t)
    ci = np.flatnonzero(cut)
    tc = t[cut]
    s_mid = cols["s0"][ci] + tc * (cols["s1"][ci] - cols["s0"][ci])
    for side in ("l", "r"):
        k0, k1 = f"c{side}0", f"c{side}1"
        mid = cols[k0][ci] + tc * (cols[k1][ci] - cols[k0][ci])
        out[k1][ci] = mid
        out[k0][n:] = mid
    out["s1"][ci] = s_mid
    out["s0"][n:] = s_mid
    order = np.lexsort((out["s0"], out["edge"]))
    return {k: v[order] for k, v in out.items()}


def reached_pieces(
    engine: DistanceEngine,
    node_cost: NDArray[np.float64],
    budget: float,
    allowance: float,
    node_facility: NDArray[np.int64] | None = None,
) -> ReachedPieces:
    """The straight pieces of the network within ``budget`` of the facilities that gave ``node_cost``.

    Parameters
    ----------
    engine
        The engine (metres, or a :class:`~servicecircle.engine.weighted.CostEngine`).
    node_cost
        Cost from every graph node to its nearest facility (``engine.node_distances``).
    budget
        The radius, in the engine's unit.
    allowance
        Metres of straight access leg at most.
    node_facility
        Nearest facility of every graph node (for catchments); ``None``: not labelled.
    """
    net = engine.network
    costs = getattr(engine, "costs", None)
    if costs is None:
        from ..network.walking import edge_metres

        costs = edge_metres(net)
    speed = 1.0 / costs.access_rate
    L = net.edge_length
    # only edges a walk within budget can touch: one end reached, or a reached facility split on them
    near = (node_cost[net.edge_u] <= budget) | (node_cost[net.edge_v] <= budget)
    near[engine._sp_edge[node_cost[engine._sp_node] <= budget]] = True
    cand = np.flatnonzero(near)
    if not len(cand):  # nothing within budget (no facility on the network, or a budget below its access leg)
        z, zi = np.zeros(0), np.zeros(0, dtype=np.int64)
        return ReachedPieces(zi, z, z, z, z, z, z, zi)
    # every breakpoint of those edges: their ends, vertices, facility splits, cost-profile knots
    v_edge, v_s, _ = vertex_offsets(net.edge_geometry[cand])
    parts_e = [cand[v_edge], engine._sp_edge[near[engine._sp_edge]]]
    parts_s = [v_s, engine._sp_off[near[engine._sp_edge]]]
    if costs.knot_edge is not None and costs.knot_s is not None:
        k_near = near[costs.knot_edge]
        parts_e.append(costs.knot_edge[k_near])
        parts_s.append(costs.knot_s[k_near])
    be = np.concatenate(parts_e)
    bs = np.clip(np.concatenate(parts_s), 0.0, L[be])
    order = np.lexsort((bs, be))
    be, bs = be[order], bs[order]
    keep = np.r_[True, (be[1:] != be[:-1]) | (np.diff(bs) > 1e-9)]
    be, bs = be[keep], bs[keep]
    inner = np.r_[be[1:] == be[:-1], False]
    i0 = np.flatnonzero(inner)
    edge, s0, s1 = be[i0], bs[i0], bs[i0 + 1]
    # the split-graph nodes around each piece: last split at or before s0, first at or after s1
    n_sp = len(engine._sp_edge)
    gap = float(L.max(initial=0.0)) + 1.0
    sp_key = engine._sp_edge * gap + engine._sp_off
    k0 = edge * gap + s0
    k1 = edge * gap + s1
    li = np.searchsorted(sp_key, k0 + 1e-9, side="right") - 1
    ri = np.searchsorted(sp_key, k1 - 1e-9, side="left")
    has_l = (
        (li >= 0) & (engine._sp_edge[np.clip(li, 0, max(n_sp - 1, 0))] == edge) if n_sp else np.zeros(len(edge), bool)
    )
    has_r = (
        (ri < n_sp) & (engine._sp_edge[np.clip(ri, 0, max(n_sp - 1, 0))] == edge) if n_sp else np.zeros(len(edge), bool)
    )
    li_c, ri_c = np.clip(li, 0, max(n_sp - 1, 0)), np.clip(ri, 0, max(n_sp - 1, 0))
    ln = np.where(has_l, engine._sp_node[li_c] if n_sp else 0, net.edge_u[edge])
    ls = np.where(has_l, engine._sp_off[li_c] if n_sp else 0.0, 0.0)
    rn = np.where(has_r, engine._sp_node[ri_c] if n_sp else 0, net.edge_v[edge])
    rs = np.where(has_r, engine._sp_off[ri_c] if n_sp else 0.0, L[edge])
    Le = L[edge]
    # cost via the left node: walk back to it; via the right node: walk on to it
    _, back0 = costs.segment(edge, ls, s0, Le)
    _, back1 = costs.segment(edge, ls, s1, Le)
    fwd0, _ = costs.segment(edge, s0, rs, Le)
    fwd1, _ = costs.segment(edge, s1, rs, Le)
    cols: dict[str, NDArray[Any]] = {
        "edge": edge,
        "s0": s0,
        "s1": s1,
        "cl0": node_cost[ln] + back0,
        "cl1": node_cost[ln] + back1,
        "cr0": node_cost[rn] + fwd0,
        "cr1": node_cost[rn] + fwd1,
        "ln": ln,
        "rn": rn,
    }
    useful = np.minimum(np.minimum(cols["cl0"], cols["cl1"]), np.minimum(cols["cr0"], cols["cr1"])) <= budget
    cols = {k: v[useful] for k, v in cols.items()}
    # the meeting point of the two ends' costs
    _, t = _split(cols, cols["cl0"] - cols["cr0"], cols["cl1"] - cols["cr1"])
    cols = _cut_at(cols, t)
    use_l = (cols["cl0"] + cols["cl1"]) <= (cols["cr0"] + cols["cr1"])
    c0 = np.where(use_l, cols["cl0"], cols["cr0"])
    c1 = np.where(use_l, cols["cl1"], cols["cr1"])
    cols = {**cols, "cl0": c0, "cl1": c1, "cr0": c0, "cr1": c1, "lab": np.where(use_l, cols["ln"], cols["rn"])}
    # where the allowance stops being full, and where the budget runs out
    for level in (budget - allowance / speed, budget):
        _, t = _split(cols, cols["cl0"] - level, cols["cl1"] - level)
        cols = _cut_at(cols, t)
    c0, c1 = cols["cl0"], cols["cl1"]
    ok = (np.maximum(c0, c1) <= budget + 1e-9 * max(1.0, budget)) & (cols["s1"] > cols["s0"] - 1e-12)
    cols = {k: v[ok] for k, v in cols.items()}
    c0, c1 = cols["cl0"], cols["cl1"]
    r0 = np.clip(np.minimum(allowance, speed * (budget - c0)), 0.0, None)
    r1 = np.clip(np.minimum(allowance, speed * (budget - c1)), 0.0, None)
    fac = np.full(len(c0), -1, dtype=np.int64) if node_facility is None else node_facility[cols["lab"]]
    return ReachedPieces(cols["edge"], cols["s0"], cols["s1"], c0, c1, r0, r1, fac)


def piece_shapes(engine: DistanceEngine, pieces: ReachedPieces, quad_segs: int = QUAD_SEGS) -> NDArray[np.object_]:
    """The hull of each piece's two end discs (a polygon inscribed in the exact shape)."""
    if not len(pieces.edge):
        return np.empty(0, dtype=object)
    geoms = engine.network.edge_geometry[pieces.edge]
    xy0 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, pieces.s0))
    xy1 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, pieces.s1))
    # the discs' vertices as GEOS's point buffer places them (4 * quad_segs on the circle), and the two
    # centres: the hull of these points is the hull of the discs' union, with no buffer or union built
    ang = -np.arange(4 * quad_segs) * (np.pi / (2 * quad_segs))
    ring = np.column_stack([np.cos(ang), np.sin(ang)])
    pts = np.concatenate(
        [
            xy0[:, None, :] + np.asarray(pieces.radius0, dtype=float)[:, None, None] * ring,
            xy1[:, None, :] + np.asarray(pieces.radius1, dtype=float)[:, None, None] * ring,
            xy0[:, None, :],
            xy1[:, None, :],
        ],
        axis=1,
    )
    hulls: NDArray[np.object_] = shapely.convex_hull(shapely.linestrings(pts))  # a line: no point objects
    return hulls


def _areas_from(engine: DistanceEngine, pieces: ReachedPieces) -> Any:
    shapes = piece_shapes(engine, pieces)
    shapes = shapes[shapely.area(shapes) > 0]
    return shapely.union_all(shapes) if len(shapes) else shapely.Polygon()


def service_areas(
    engine: DistanceEngine, groups: list[ArrayLike], budget: float, allowance: float
) -> NDArray[np.object_]:
    """One service area per group of facilities (a category's members, or one facility each).

    Parameters
    ----------
    engine
        The distance engine (metres or a walking group's seconds).
    groups
        Facility indices (into the engine's facilities) of each area.
    budget
        The radius in the engine's unit (metres, or seconds).
    allowance
        Metres of straight access leg at most (the widening).

    Returns
    -------
    numpy.ndarray
        (Multi)Polygons, parallel to ``groups`` (empty where nothing is reached).
    """
    out: NDArray[np.object_] = np.empty(len(groups), dtype=object)
    for i, g in enumerate(groups):
        nd = engine.node_distances(np.asarray(g, dtype=np.int64), limit=budget)
        out[i] = _areas_from(engine, reached_pieces(engine, nd, budget, allowance))
    return out


def facility_service_areas(
    engine: DistanceEngine, facilities: ArrayLike, budget: float, allowance: float
) -> NDArray[np.object_]:
    """:func:`service_areas` of each facility alone."""
    return service_areas(engine, [[int(f)] for f in np.asarray(facilities).ravel()], budget, allowance)


def _nearest_facility(
    engine: DistanceEngine, members: NDArray[np.int64], budget: float
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Node costs and the nearest facility of every node (one Dijkstra, predecessors followed)."""
    import scipy.sparse as sp

    members = members[engine.source_node[members] >= 0]
    N = engine.n_graph_nodes
    nodes = engine.source_node[members]
    acc = engine.source_access[members]
    order = np.lexsort((acc, nodes))
    nodes, acc, mem = nodes[order], acc[order], members[order]
    first = np.r_[True, nodes[1:] != nodes[:-1]]
    nodes, acc, mem = nodes[first], acc[first], mem[first]
    g = engine.graph
    indptr = np.r_[g.indptr, g.indptr[-1] + len(nodes)]
    indices = np.r_[g.indices, nodes.astype(g.indices.dtype)]
    data = np.r_[g.data, acc]
    full = sp.csr_array((data, indices, indptr), shape=(N + 1, N + 1))
    dist, pred = dijkstra(full, directed=True, indices=N, limit=budget, return_predecessors=True)
    dist, pred = dist[:N], pred[:N]
    # follow predecessors (pointer jumping) to the node that hangs from the virtual source: a facility's node
    up = np.where(pred == N, np.arange(N), pred)
    up = np.where(up < 0, -1, up)
    while True:
        nxt = np.where(up >= 0, up[np.maximum(up, 0)], -1)
        if np.array_equal(nxt, up):
            break
        up = nxt
    root = up
    fac_of_node = np.full(N, -1, dtype=np.int64)
    fac_of_node[nodes] = mem
    label = np.where(root >= 0, fac_of_node[np.maximum(root, 0)], -1)
    return dist, label


def catchments(
    engine: DistanceEngine, members: ArrayLike, budget: float, allowance: float
) -> tuple[NDArray[np.int64], NDArray[np.object_], NDArray[np.object_]]:
    """The catchment of every facility of a category: the reached places it is the nearest facility of.

    Returns
    -------
    facility, lines, areas
        Facility index; the street pieces it is nearest to (MultiLineString, cut
        exactly at the meeting points); the places within ``budget`` served
        through those pieces (polygons; neighbouring catchments meet along the
        meeting lines and may overlap by at most the allowance there).
    """
    idx = np.asarray(members, dtype=np.int64)
    if idx.dtype == bool:
        idx = np.flatnonzero(idx)
    nd, label = _nearest_facility(engine, idx, budget)
    pieces = reached_pieces(engine, nd, budget, allowance, node_facility=label)
    geoms = engine.network.edge_geometry[pieces.edge]
    ends = np.stack(
        [
            shapely.get_coordinates(shapely.line_interpolate_point(geoms, pieces.s0)),
            shapely.get_coordinates(shapely.line_interpolate_point(geoms, pieces.s1)),
        ],
        axis=1,
    )
    parts = shapely.linestrings(ends)  # every piece is straight: edges were cut at their vertices
    shapes = piece_shapes(engine, pieces)
    facs = np.unique(pieces.facility[pieces.facility >= 0])
    out_l = np.empty(len(facs), dtype=object)
    out_a = np.empty(len(facs), dtype=object)
    order = np.argsort(pieces.facility, kind="stable")
    lab = pieces.facility[order]
    starts = np.searchsorted(lab, facs, side="left")
    ends = np.searchsorted(lab, facs, side="right")
    for i, (a, b) in enumerate(zip(starts, ends)):
        sel = order[a:b]
        out_l[i] = shapely.multilinestrings(parts[sel])
        out_a[i] = shapely.union_all(shapes[sel])
    return facs, out_l, out_a
