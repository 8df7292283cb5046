"""Build a :class:`WalkNetwork` from OSM ways, an osmnx graph or plain arrays.

Simplification follows osmnx's rules for a bidirectional (walk) network: a node
stays a node of the network unless exactly two distinct street segments meet
there, in which case it becomes an interior vertex of the edge geometry. Rings
with no such node keep their smallest-id node as both ends of one edge. All of it
is vectorised (numpy and scipy's compiled graph traversals): no Python loop per
node or per segment.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import connected_components, depth_first_order

from .._arrays import run_starts
from ..errors import NetworkError, warn_data
from .model import WalkNetwork
from .osm import EDGE_TAGS, WayTable

__all__ = ["network_from_ways", "network_from_arrays", "network_from_osmnx", "simplify_segments"]

WGS84 = pyproj.CRS.from_epsg(4326)


def _link_graph(a: NDArray[np.int64], b: NDArray[np.int64], interior: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Pairs of segments that meet at an interior node, shape ``(k, 2)``."""
    m = len(a)
    ends = np.concatenate([a, b])
    segs = np.concatenate([np.arange(m), np.arange(m)])
    keep = interior[ends]
    order = np.argsort(ends[keep], kind="stable")
    pairs: NDArray[np.int64] = segs[keep][order].reshape(-1, 2)
    return pairs


def simplify_segments(
    a: ArrayLike, b: ArrayLike, n_nodes: int, keep: ArrayLike | None = None
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Merge chains of segments through degree-2 nodes into edges.

    Parameters
    ----------
    a, b
        Node index of each segment's ends; segments must be distinct as
        unordered pairs and have ``a != b``.
    n_nodes
        Number of nodes the indices refer to.
    keep
        Optional boolean mask of nodes that stay nodes whatever their degree
        (barriers, where access changes).

    Returns
    -------
    u, v
        End nodes of each merged edge.
    path_nodes, path_ptr
        Node sequence of each edge: edge ``i`` runs through
        ``path_nodes[path_ptr[i]:path_ptr[i+1]]`` from ``u[i]`` to ``v[i]``.
    first_segment
        Index of the segment each edge starts with (to carry attributes over).
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    m = len(a)
    if m == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(1, dtype=np.int64), empty
    degree = np.bincount(np.concatenate([a, b]), minlength=n_nodes)
    interior = degree == 2
    if keep is not None:
        interior &= ~np.asarray(keep, dtype=bool)

    pairs = _link_graph(a, b, interior)
    links = sp.coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(m, m)).tocsr()
    n_comp, label = connected_components(links, directed=False)
    has_end = np.zeros(n_comp, dtype=bool)
    has_end[label[~interior[a] | ~interior[b]]] = True
    if not has_end.all():
        # Rings of interior nodes only: their smallest node becomes an end.
        ring_seg = ~has_end[label]
        nodes = np.concatenate([a[ring_seg], b[ring_seg]])
        labs = np.concatenate([label[ring_seg], label[ring_seg]])
        order = np.lexsort((nodes, labs))
        first = run_starts(labs[order])
        interior[nodes[order][first]] = False
        pairs = _link_graph(a, b, interior)

    # Root node m links to one end segment of every chain; a depth-first walk
    # from it then lists each chain's segments contiguously, in path order.
    is_end_seg = ~interior[a] | ~interior[b]
    n_comp, label = connected_components(
        sp.coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(m, m)),
        directed=False,
    )
    cand = np.flatnonzero(is_end_seg)
    order = np.lexsort((cand, label[cand]))
    cand = cand[order]
    start_seg = cand[run_starts(label[cand])]
    rows = np.concatenate([pairs[:, 0], pairs[:, 1], np.full(len(start_seg), m)])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0], start_seg])
    graph = sp.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(m + 1, m + 1))
    walk, pred = depth_first_order(graph, m, directed=True, return_predecessors=True)
    walk = walk[1:]
    p = pred[walk]
    is_first = p == m
    s_a, s_b = a[walk], b[walk]
    p_safe = np.where(is_first, walk, p)
    shared_a = (s_a == a[p_safe]) | (s_a == b[p_safe])
    start = np.where(is_first, np.where(interior[s_a], s_b, s_a), np.where(shared_a, s_a, s_b))
    end = s_a + s_b - start

    chain = np.cumsum(is_first) - 1
    last = np.flatnonzero(np.r_[is_first[1:], True])
    path_nodes = np.insert(start, last + 1, end[last])
    counts = np.bincount(chain) + 1
    path_ptr = np.concatenate([[0], np.cumsum(counts)])
    u = start[is_first]
    v = end[last]
    return u, v, path_nodes, path_ptr, walk[is_first]


def _finish(
    *,
    node_id: NDArray[np.int64],
    node_xy: NDArray[np.float64],
    edge_u: NDArray[np.int64],
    edge_v: NDArray[np.int64],
    geometry: NDArray[np.object_],
    edge_way: NDArray[np.int64],
    edge_tags: dict[str, NDArray[Any]],
    crs: pyproj.CRS,
    keep_components: str,
    source: str,
    info: dict[str, Any],
) -> WalkNetwork:
    """Drop unused nodes and (optionally) all but the largest component."""
    if len(edge_u) == 0:
        raise NetworkError(
            "the network has no walkable street",
            file=source or None,
            fix="check that the file covers the study area and holds highway ways",
        )
    length = shapely.length(geometry)
    used = np.unique(np.concatenate([edge_u, edge_v]))
    remap = np.full(len(node_id), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    node_id, node_xy = node_id[used], node_xy[used]
    edge_u, edge_v = remap[edge_u], remap[edge_v]

    n = len(node_id)
    adj = sp.coo_matrix((np.ones(len(edge_u), dtype=np.int8), (edge_u, edge_v)), shape=(n, n))
    n_comp, label = connected_components(adj, directed=False)
    info = dict(info)
    info["components"] = int(n_comp)
    if n_comp > 1:
        sizes = np.bincount(label)
        edge_comp_len = np.bincount(label[edge_u], weights=length, minlength=n_comp)
        biggest = int(np.argmax(sizes))  # ties: the lowest label, deterministic
        dropped_len = float(edge_comp_len.sum() - edge_comp_len[biggest])
        if keep_components == "largest":
            keep_node = label == biggest
            keep_edge = keep_node[edge_u]
            info["dropped_components"] = int(n_comp - 1)
            info["dropped_length_m"] = dropped_len
            warn_data(
                "network_components",
                f"the walking network falls into {n_comp} unconnected parts; kept the largest "
                f"({int(sizes[biggest]):,} nodes, {edge_comp_len[biggest] / 1000:.1f} km) and dropped "
                f"{n_comp - 1} smaller ones ({dropped_len / 1000:.2f} km of street); "
                "pass keep_components='all' to keep them",
                file=source or None,
                count=n_comp - 1,
            )
            remap = np.full(n, -1, dtype=np.int64)
            remap[keep_node] = np.arange(int(keep_node.sum()))
            node_id, node_xy = node_id[keep_node], node_xy[keep_node]
            edge_u, edge_v = remap[edge_u[keep_edge]], remap[edge_v[keep_edge]]
            geometry, length, edge_way = geometry[keep_edge], length[keep_edge], edge_way[keep_edge]
            edge_tags = {k: t[keep_edge] for k, t in edge_tags.items()}
            info["components"] = 1
        elif keep_components == "all":
            warn_data(
                "network_components",
                f"the walking network falls into {n_comp} unconnected parts "
                f"({dropped_len / 1000:.2f} km outside the largest); points snapped to a small "
                "part can only reach facilities in that part",
                file=source or None,
                count=n_comp - 1,
            )
        else:
            raise NetworkError(
                f"keep_components must be 'largest' or 'all', not {keep_components!r}",
                fix="use keep_components='largest' or 'all'",
            )
    return WalkNetwork(
        crs=crs,
        node_id=node_id.astype(np.int64),
        node_xy=np.ascontiguousarray(node_xy, dtype=np.float64),
        edge_u=edge_u.astype(np.int64),
        edge_v=edge_v.astype(np.int64),
        edge_length=length.astype(np.float64),
        edge_geometry=geometry,
        edge_way=edge_way.astype(np.int64),
        edge_tags=edge_tags,
        source=source,
        info=info,
    )


def check_ways(ways: WayTable, source: str = "") -> None:
    """Raise :class:`NetworkError` if ``ways`` holds no walkable way."""
    if ways.n_ways == 0:
        raise NetworkError(
            f"the file holds no walkable way ({ways.n_ways_read:,} highway "
            f"{'way' if ways.n_ways_read == 1 else 'ways'}, none walkable)",
            file=source or None,
            fix="use an OSM extract that covers the study area's streets and footpaths",
        )


def network_from_ways(
    ways: WayTable,
    crs: pyproj.CRS,
    *,
    keep_components: str = "largest",
    source: str = "",
    keep_nodes: ArrayLike | None = None,
) -> WalkNetwork:
    """Build the simplified, undirected, projected walking network from OSM ways.

    Parameters
    ----------
    ways
        Walkable ways, from :func:`servicecircle.network.osm.read_walkable_ways`.
    crs
        Metric CRS to project to.
    keep_components
        ``"largest"`` or ``"all"`` (see :mod:`servicecircle.settings`).
    source
        Name of the source, for messages.
    keep_nodes
        OSM ids of nodes that stay network nodes even where only two segments
        meet (barriers, places where access changes; see :mod:`.access`).

    Returns
    -------
    WalkNetwork
    """
    check_ways(ways, source)
    ptr = ways.way_ptr
    rows = len(ways.node_ref)
    way_of_row = np.repeat(np.arange(ways.n_ways), np.diff(ptr))
    valid = np.isfinite(ways.lon) & np.isfinite(ways.lat)
    i = np.arange(rows - 1)
    seg = (way_of_row[i] == way_of_row[i + 1]) & valid[i] & valid[i + 1]
    seg &= ways.node_ref[i] != ways.node_ref[i + 1]
    i = i[seg]
    n_missing = int((~valid).sum())

    node_ids, first_row, inverse = np.unique(ways.node_ref, return_index=True, return_inverse=True)
    a = inverse[i]
    b = inverse[i + 1]
    seg_way = way_of_row[i]
    # distinct undirected segments (the same pair drawn twice adds nothing)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    _, keep = np.unique(np.stack([lo, hi], axis=1), axis=0, return_index=True)
    keep.sort()
    a, b, seg_way = a[keep], b[keep], seg_way[keep]
    if len(a) == 0:
        raise NetworkError(
            "the file's walkable ways have no usable segment (their nodes are missing)",
            file=source or None,
            fix="use a complete extract that includes the nodes of its ways",
        )

    to_metric = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
    x, y = to_metric.transform(ways.lon[first_row], ways.lat[first_row])
    node_xy = np.column_stack([x, y])
    if not np.isfinite(node_xy[np.unique(np.concatenate([a, b]))]).all():
        raise NetworkError(
            f"some network nodes cannot be projected to {crs.name}",
            file=source or None,
            fix="choose a projected CRS that covers the study area (--crs)",
        )

    kept = None if keep_nodes is None else np.isin(node_ids, np.asarray(keep_nodes, dtype=np.int64))
    u, v, path_nodes, path_ptr, first_seg = simplify_segments(a, b, len(node_ids), kept)
    edge_index = np.repeat(np.arange(len(u)), np.diff(path_ptr))
    geometry = shapely.linestrings(node_xy[path_nodes], indices=edge_index)
    way_index = seg_way[first_seg]
    info = {
        "ways_read": int(ways.n_ways_read),
        "walkable_ways": int(ways.n_ways),
        "missing_nodes": n_missing,
    }
    if n_missing:
        warn_data(
            "network_missing_nodes",
            f"{n_missing:,} way nodes are missing from the extract (cut at its edge); the ways were split there",
            file=source or None,
            count=n_missing,
        )
    return _finish(
        node_id=node_ids,
        node_xy=node_xy,
        edge_u=u,
        edge_v=v,
        geometry=geometry,
        edge_way=ways.way_id[way_index],
        edge_tags={k: ways.tags[k][way_index].astype(str) for k in EDGE_TAGS},
        crs=crs,
        keep_components=keep_components,
        source=source,
        info=info,
    )


def network_from_arrays(
    node_xy: ArrayLike,
    edge_u: ArrayLike,
    edge_v: ArrayLike,
    crs: pyproj.CRS | str,
    *,
    geometry: ArrayLike | None = None,
    node_id: ArrayLike | None = None,
    keep_components: str = "all",
    source: str = "arrays",
) -> WalkNetwork:
    """Build a network from node coordinates and edge end indices.

    Used for synthetic street grids (benchmarks, tests) and for any graph a user
    already has in memory. Straight edges are drawn where ``geometry`` is None.

    Parameters
    ----------
    node_xy
        ``(n, 2)`` metric coordinates.
    edge_u, edge_v
        End node index of each edge.
    crs
        The (projected, metric) CRS of ``node_xy``.
    geometry
        Optional LineStrings running from ``u`` to ``v``.
    node_id
        Optional node ids (default ``0..n-1``).
    keep_components, source
        As for :func:`network_from_ways`.

    Examples
    --------
    >>> import numpy as np
    >>> net = network_from_arrays(np.array([[0, 0], [100, 0]]), [0], [1], "EPSG:4544")
    >>> float(net.edge_length[0])
    100.0
    """
    node_xy = np.asarray(node_xy, dtype=np.float64)
    edge_u = np.asarray(edge_u, dtype=np.int64)
    edge_v = np.asarray(edge_v, dtype=np.int64)
    if geometry is None:
        coords = np.stack([node_xy[edge_u], node_xy[edge_v]], axis=1)
        geometry = shapely.linestrings(coords)
    node_id = np.arange(len(node_xy)) if node_id is None else np.asarray(node_id)
    m = len(edge_u)
    return _finish(
        node_id=node_id,
        node_xy=node_xy,
        edge_u=edge_u,
        edge_v=edge_v,
        geometry=np.asarray(geometry, dtype=object),
        edge_way=np.full(m, -1, dtype=np.int64),
        edge_tags={k: np.full(m, "", dtype=object) for k in EDGE_TAGS},
        crs=pyproj.CRS.from_user_input(crs),
        keep_components=keep_components,
        source=source,
        info={},
    )


def network_from_osmnx(
    graph: Any, crs: pyproj.CRS, *, keep_components: str = "largest", source: str = ""
) -> WalkNetwork:
    """Convert an osmnx graph (from GraphML or a download) to a :class:`WalkNetwork`.

    Edges become undirected (a street stored both ways is kept once), geometries
    are taken from the graph where present and reprojected to ``crs``; edge
    lengths are recomputed from the projected geometry.
    """
    graph_crs = pyproj.CRS.from_user_input(graph.graph.get("crs", "EPSG:4326"))
    nodes = list(graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    xy = np.array([[graph.nodes[n]["x"], graph.nodes[n]["y"]] for n in nodes], dtype=np.float64)
    seen: set[tuple[Any, Any, Any]] = set()
    us: list[int] = []
    vs: list[int] = []
    geoms: list[Any] = []
    way: list[int] = []
    tags: dict[str, list[str]] = {k: [] for k in EDGE_TAGS}
    for u, v, data in graph.edges(data=True):
        geom = data.get("geometry")
        # a street stored in both directions: same ends, same (normalised) line
        key = (min(u, v), max(u, v), shapely.normalize(geom).wkb if geom is not None else None)
        if key in seen:
            continue
        seen.add(key)
        if geom is None:
            geom = shapely.LineString([xy[index[u]], xy[index[v]]])
        us.append(index[u])
        vs.append(index[v])
        geoms.append(geom)
        osmid = data.get("osmid", -1)
        way.append(int(osmid[0] if isinstance(osmid, list) else osmid))
        for k in EDGE_TAGS:
            value = data.get(k, "")
            tags[k].append(str(value[0] if isinstance(value, list) else value))
    if not us:
        raise NetworkError("the graph has no edges", file=source or None, fix="use a graph with walkable streets")
    transformer = pyproj.Transformer.from_crs(graph_crs, crs, always_xy=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        node_xy = np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
        geometry = shapely.transform(
            np.array(geoms, dtype=object), lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1]))
        )
    us_a, vs_a = np.asarray(us), np.asarray(vs)
    # orient every geometry from u to v
    first = shapely.get_point(geometry, 0)
    d_u = shapely.distance(first, shapely.points(node_xy[us_a]))
    d_v = shapely.distance(first, shapely.points(node_xy[vs_a]))
    flip = d_v < d_u
    geometry[flip] = shapely.reverse(geometry[flip])
    node_id = np.array([n if isinstance(n, (int, np.integer)) else i for i, n in enumerate(nodes)], dtype=np.int64)
    return _finish(
        node_id=node_id,
        node_xy=node_xy,
        edge_u=us_a,
        edge_v=vs_a,
        geometry=geometry,
        edge_way=np.asarray(way, dtype=np.int64),
        edge_tags={k: np.asarray(t, dtype=object) for k, t in tags.items()},
        crs=crs,
        keep_components=keep_components,
        source=source,
        info={"graph_edges": graph.number_of_edges()},
    )
