"""Naive, independent re-computations used as the reference in tests.

Nothing here calls servicecircle's snapping or distance engine: snapping is a
numpy loop over every segment of every edge, network distances come from
networkx Dijkstra on the plain edge list.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import shapely


def snap_brute(edge_geometry, points_xy, max_snap):
    """Nearest point on any edge, by projecting on every segment of every edge.

    Returns (edge, offset, access) with edge = -1 beyond max_snap; ties go to
    the lowest edge index.
    """
    n = len(points_xy)
    best_d = np.full(n, np.inf)
    best_e = np.full(n, -1)
    best_off = np.full(n, np.nan)
    for e, geom in enumerate(edge_geometry):
        c = shapely.get_coordinates(geom)
        p0, p1 = c[:-1], c[1:]
        seg = p1 - p0
        seg_len = np.hypot(seg[:, 0], seg[:, 1])
        cum = np.r_[0.0, np.cumsum(seg_len)[:-1]]
        for k in range(len(seg)):
            if seg_len[k] == 0:
                t = np.zeros(n)
            else:
                t = ((points_xy - p0[k]) @ seg[k]) / seg_len[k] ** 2
                t = np.clip(t, 0.0, 1.0)
            q = p0[k] + t[:, None] * seg[k]
            d = np.hypot(*(points_xy - q).T)
            better = d < best_d - 1e-12
            best_d[better] = d[better]
            best_e[better] = e
            best_off[better] = cum[k] + t[better] * seg_len[k]
    far = best_d > max_snap
    best_e[far] = -1
    best_off[far] = np.nan
    return best_e, best_off, best_d


def edge_pieces(edge_geometry):
    """Every straight piece of every edge, one edge at a time: (a, b, edge, start along the edge)."""
    a, b, edge, start = [], [], [], []
    for e, geom in enumerate(edge_geometry):
        c = shapely.get_coordinates(geom)
        along = 0.0
        for k in range(len(c) - 1):
            a.append(c[k])
            b.append(c[k + 1])
            edge.append(e)
            start.append(along)
            along += float(np.hypot(*(c[k + 1] - c[k])))
    return np.array(a).reshape(-1, 2), np.array(b).reshape(-1, 2), np.array(edge, dtype=int), np.array(start)


def snap_brute_geos(edge_geometry, points_xy, max_snap):
    """Nearest piece by shapely.distance from every point to every piece of every edge.

    Returns (edge, offset, access, xy) as ``Snapped`` has them, without a
    spatial index: ties (exactly equal distances) go to the first piece in edge
    order, i.e. the lowest edge; beyond ``max_snap`` edge = -1, offset and xy
    nan, access the distance to the nearest piece.
    """
    a, b, edge, start = edge_pieces(edge_geometry)
    pieces = shapely.linestrings(np.stack([a, b], axis=1))
    pts = shapely.points(points_xy)
    n = len(points_xy)
    best = np.zeros(n, dtype=int)
    access = np.full(n, np.inf)
    for i in range(0, n, 500):  # a block of points against every piece
        d = shapely.distance(pts[i : i + 500, None], pieces[None, :])
        best[i : i + 500] = np.argmin(d, axis=1)  # the first of equal minima
        access[i : i + 500] = d.min(axis=1)
    ok = access <= max_snap
    e = np.where(ok, edge[best], -1)
    along = shapely.line_locate_point(pieces[best], pts)
    offset = np.where(ok, start[best] + along, np.nan)
    xy = shapely.get_coordinates(shapely.line_interpolate_point(pieces[best], along))
    xy[~ok] = np.nan
    return e, offset, access, xy


def node_distance_matrix(edge_u, edge_v, edge_length, n_nodes):
    """All-pairs shortest path lengths between nodes (networkx Dijkstra)."""
    g = nx.Graph()
    g.add_nodes_from(range(n_nodes))
    for u, v, w in zip(edge_u, edge_v, edge_length):
        if u == v:
            continue
        if g.has_edge(u, v) and g[u][v]["weight"] <= w:
            continue
        g.add_edge(int(u), int(v), weight=float(w))
    dm = np.full((n_nodes, n_nodes), np.inf)
    for s, lengths in nx.all_pairs_dijkstra_path_length(g, weight="weight"):
        for t, d in lengths.items():
            dm[s, t] = d
    return dm


def pair_distance(dm, edge_u, edge_v, edge_length, d_edge, d_off, d_acc, f_edge, f_off, f_acc):
    """distance(d, f) by enumerating the ends of both edges (and the same-edge walk)."""
    if d_edge < 0 or f_edge < 0:
        return np.nan
    best = np.inf
    if d_edge == f_edge:
        best = abs(d_off - f_off)
    d_ends = ((edge_u[d_edge], d_off), (edge_v[d_edge], edge_length[d_edge] - d_off))
    f_ends = ((edge_u[f_edge], f_off), (edge_v[f_edge], edge_length[f_edge] - f_off))
    for x, cx in d_ends:
        for y, cy in f_ends:
            best = min(best, cx + dm[x, y] + cy)
    return d_acc + best + f_acc
