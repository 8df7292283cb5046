"""The walking network as servicecircle holds it: flat numpy arrays in a metric CRS.

A :class:`WalkNetwork` is an undirected multigraph whose nodes are street
intersections and dead ends and whose edges carry their full projected geometry.
Edge length is always the length of that geometry, so a distance measured along
an edge and the edge's length can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from .segindex import SegmentGrid

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import networkx as nx

__all__ = ["WalkNetwork"]


@dataclass(frozen=True, eq=False)
class WalkNetwork:
    """An undirected walking network in a projected, metric coordinate system.

    Attributes
    ----------
    crs
        The metric CRS of every coordinate.
    node_id
        ``int64`` id of each node (the OSM node id where there is one).
    node_xy
        ``(n_nodes, 2)`` coordinates in metres.
    edge_u, edge_v
        Index (into the node arrays) of each edge's two ends; an edge's geometry
        runs from ``edge_u`` to ``edge_v``.
    edge_length
        Metres, the length of the projected geometry.
    edge_geometry
        ``LineString`` of each edge (object array).
    edge_way
        OSM way id the edge was built from (``-1`` if unknown).
    edge_tags
        ``{"highway": array, "name": array}`` of strings.
    source
        Where the network came from (file path, place name ...).
    info
        What was done building it (ways read, components dropped ...).
    """

    crs: pyproj.CRS
    node_id: NDArray[np.int64]
    node_xy: NDArray[np.float64]
    edge_u: NDArray[np.int64]
    edge_v: NDArray[np.int64]
    edge_length: NDArray[np.float64]
    edge_geometry: NDArray[np.object_]
    edge_way: NDArray[np.int64]
    edge_tags: dict[str, NDArray[Any]] = field(default_factory=dict)  # str_ or object arrays of strings
    source: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_id)

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return len(self.edge_u)

    @property
    def total_length(self) -> float:
        """Sum of edge lengths in metres."""
        return float(self.edge_length.sum())

    def with_edges(self, edges: NDArray[np.int64], info: dict[str, Any] | None = None) -> WalkNetwork:
        """The network of ``edges`` only (in their order) and their nodes (renumbered, in order).

        >>> import numpy as np, pyproj
        >>> from servicecircle.network.build import network_from_arrays
        >>> net = network_from_arrays(np.array([[0.0, 0], [100, 0], [200, 0]]), [0, 1], [1, 2], pyproj.CRS(4544))
        >>> part = net.with_edges(np.array([1]))
        >>> part.n_nodes, part.n_edges, float(part.edge_length[0]), part.edge_u.tolist()
        (2, 1, 100.0, [0])
        """
        nodes = np.unique(np.concatenate([self.edge_u[edges], self.edge_v[edges]]))
        renumber = np.full(self.n_nodes, -1, dtype=np.int64)
        renumber[nodes] = np.arange(len(nodes))
        return WalkNetwork(
            crs=self.crs,
            node_id=self.node_id[nodes],
            node_xy=self.node_xy[nodes],
            edge_u=renumber[self.edge_u[edges]],
            edge_v=renumber[self.edge_v[edges]],
            edge_length=self.edge_length[edges],
            edge_geometry=self.edge_geometry[edges],
            edge_way=self.edge_way[edges],
            edge_tags={k: np.asarray(v)[edges] for k, v in self.edge_tags.items()},
            source=self.source,
            info=dict(self.info) if info is None else info,
        )

    @cached_property
    def edge_index(self) -> shapely.STRtree:
        """Spatial index over the edge geometries (built on first use)."""
        return shapely.STRtree(self.edge_geometry)

    @cached_property
    def segment_ends(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
        """The straight pieces of every edge, as coordinates (computed on first use).

        Returns
        -------
        a, b, edge, start
            ``(m, 2)`` start and end of each two-point piece, in edge order and
            along each edge from its ``u`` end; the edge each belongs to; metres
            along that edge where it starts.
        """
        coords, owner = shapely.get_coordinates(self.edge_geometry, return_index=True)
        return segment_pieces(coords, owner, self.n_edges)

    @cached_property
    def segment_grid(self) -> SegmentGrid:
        """The pieces of :attr:`segment_ends` bucketed for exact nearest-piece searches (built on first use)."""
        a, b, _, _ = self.segment_ends
        return SegmentGrid.build(a, b)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) of the nodes, in the network CRS."""
        lo = self.node_xy.min(axis=0)
        hi = self.node_xy.max(axis=0)
        return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))

    def __repr__(self) -> str:
        return (
            f"<WalkNetwork {self.n_nodes:,} nodes, {self.n_edges:,} edges, "
            f"{self.total_length / 1000:,.1f} km, {self.crs.to_string()}>"
        )

    def to_gdfs(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """Nodes and edges as GeoDataFrames (in the network CRS).

        Returns
        -------
        tuple of geopandas.GeoDataFrame
            ``(nodes, edges)``; edges carry ``u``, ``v`` (node ids), ``length``,
            ``osmid`` and the edge tags.
        """
        import geopandas as gpd

        nodes = gpd.GeoDataFrame(
            {"osmid": self.node_id, "x": self.node_xy[:, 0], "y": self.node_xy[:, 1]},
            geometry=shapely.points(self.node_xy),
            crs=self.crs,
        )
        cols = {
            "u": self.node_id[self.edge_u],
            "v": self.node_id[self.edge_v],
            "length": self.edge_length,
            "osmid": self.edge_way,
        }
        cols.update({k: v for k, v in self.edge_tags.items()})
        edges = gpd.GeoDataFrame(cols, geometry=self.edge_geometry, crs=self.crs)
        return nodes, edges

    def to_networkx(self) -> nx.MultiGraph:
        """The network as an undirected ``networkx.MultiGraph``.

        Nodes carry ``x``/``y``; edges carry ``length``, ``geometry``, ``osmid``
        and the edge tags, as osmnx graphs do.
        """
        import networkx as nx

        g = nx.MultiGraph(crs=self.crs.to_string())
        for i, (x, y) in enumerate(self.node_xy):
            g.add_node(int(self.node_id[i]), x=float(x), y=float(y))
        tag_items = list(self.edge_tags.items())
        for e in range(self.n_edges):
            attrs = {
                "length": float(self.edge_length[e]),
                "geometry": self.edge_geometry[e],
                "osmid": int(self.edge_way[e]),
            }
            attrs.update({k: v[e] for k, v in tag_items})
            g.add_edge(int(self.node_id[self.edge_u[e]]), int(self.node_id[self.edge_v[e]]), **attrs)
        return g


def segment_pieces(
    coords: NDArray[np.float64], owner: NDArray[np.int64], n_edges: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
    """:attr:`WalkNetwork.segment_ends` from the edges' coordinates and the edge of each (in edge order).

    >>> a, b, edge, start = segment_pieces(np.array([[0.0, 0], [3, 4], [3, 10]]), np.array([0, 0, 0]), 1)
    >>> b.tolist(), edge.tolist(), start.tolist()
    ([[3.0, 4.0], [3.0, 10.0]], [0, 0], [0.0, 5.0])
    """
    if len(coords) == 2 * n_edges and (np.bincount(owner, minlength=n_edges) == 2).all():
        # every edge is one straight piece already (e.g. a synthetic grid)
        two = coords.reshape(-1, 2, 2)
        return two[:, 0], two[:, 1], np.arange(n_edges), np.zeros(n_edges)
    same = owner[1:] == owner[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    edge = owner[:-1][same]
    if not len(edge):
        return a, b, edge, np.zeros(0)
    piece = np.hypot(*(b - a).T)
    cum = np.cumsum(piece)
    first = np.r_[True, edge[1:] != edge[:-1]]
    before = np.r_[0.0, cum[:-1]]
    start = before - np.maximum.accumulate(np.where(first, before, 0.0))
    return a, b, edge, start
