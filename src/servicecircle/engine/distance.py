"""The distance engine: exact walking distances from facilities to any point.

Definition (the one tests and reviewers hold the code to)::

    distance(d, f) = access(d) + network(pos(d), pos(f)) + access(f)

where ``pos`` is a point's snapped position on its nearest edge, ``access`` the
straight leg to it, and ``network`` the shortest along-network distance between
the two positions (two positions on the same edge may go straight along it).

How it is computed. Every facility's position is inserted into the graph as a
node, splitting its edge, so a facility *is* a node. A demand point (or any
target) then sits on a sub-edge with no facility inside it and is reached through
one of that sub-edge's two ends::

    distance(d) = access(d) + min(D[left] + b_left, D[right] + b_right)

where ``D`` are node distances from the facilities. ``D`` for the nearest
facility of a category comes from one run of scipy's compiled Dijkstra from a
virtual source joined to every facility node by an edge of length
``access(f)``. Counts of facilities within a radius come from bounded Dijkstra
runs from chunks of nearby facilities on a local subgraph (all nodes within the
radius of the chunk, in straight line: a walk of length r never leaves that disc),
so the cost grows with the area searched, not with the whole city.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import dijkstra

from .._arrays import ragged_ranges, run_ends, run_starts
from ..network.model import WalkNetwork
from .pointgrid import PointGrid
from .snapping import Snapped

__all__ = ["Attachment", "DistanceEngine"]


@dataclass(frozen=True)
class Attachment:
    """How targets (demand points, grid cells) connect to the split graph.

    ``distance = access + min(D[left] + left_cost, D[right] + right_cost)``;
    unsnapped targets have ``left == right == -1``.
    """

    left: NDArray[np.int64]
    left_cost: NDArray[np.float64]
    right: NDArray[np.int64]
    right_cost: NDArray[np.float64]
    access: NDArray[np.float64]
    xy: NDArray[np.float64]

    @property
    def ok(self) -> NDArray[np.bool_]:
        """Boolean mask of snapped targets."""
        return self.left >= 0

    def __len__(self) -> int:
        return len(self.left)


def _csr_min(rows: NDArray[np.int64], cols: NDArray[np.int64], w: NDArray[np.float64], n: int) -> sp.csr_array:
    """CSR matrix keeping the *smallest* weight of duplicate (row, col) pairs."""
    keep = rows != cols
    rows, cols, w = rows[keep], cols[keep], w[keep]
    key = rows.astype(np.int64) * n + cols  # one sort key (n² < 2⁶³ for any street network)
    order = np.argsort(key, kind="stable")
    key, w = key[order], w[order]
    first = run_starts(key)
    w = np.minimum.reduceat(w, np.flatnonzero(first)) if len(w) else w
    key = key[first]
    rows, cols = key // n, key % n
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return sp.csr_array((w, cols.astype(np.int32), indptr), shape=(n, n))


class DistanceEngine:
    """Exact network distances from a fixed set of facilities.

    Parameters
    ----------
    network
        The walking network.
    sources
        Snapped facilities (all categories at once); their positions become
        graph nodes.

    Examples
    --------
    A 100 m street, a facility at 20 m (5 m off the street), a home at 70 m
    (3 m off): 5 + 50 + 3 = 58 m.

    >>> import numpy as np
    >>> from servicecircle.network import network_from_arrays
    >>> from servicecircle.engine import snap_points
    >>> net = network_from_arrays(np.array([[0, 0], [100, 0]]), [0], [1], "EPSG:4544")
    >>> engine = DistanceEngine(net, snap_points(net, np.array([[20.0, 5.0]])))
    >>> homes = engine.attach(snap_points(net, np.array([[70.0, -3.0]])))
    >>> float(engine.nearest([0], homes)[0])
    58.0
    """

    def __init__(self, network: WalkNetwork, sources: Snapped) -> None:
        self.network = network
        self.sources = sources
        n = network.n_nodes
        e_u, e_v, length = network.edge_u, network.edge_v, network.edge_length

        ok = sources.ok
        s_edge = sources.edge[ok]
        s_off = sources.offset[ok]
        s_len = length[s_edge]
        at_u = s_off <= 0.0
        at_v = s_off >= s_len
        inner = ~(at_u | at_v)
        # distinct interior positions become new nodes, numbered n, n+1, ...
        pos = np.unique(np.stack([s_edge[inner], s_off[inner]], axis=1), axis=0).reshape(-1, 2)
        sp_edge = pos[:, 0].astype(np.int64)
        sp_off = pos[:, 1]
        sp_node = n + np.arange(len(pos), dtype=np.int64)
        self._sp_edge, self._sp_off, self._sp_node = sp_edge, sp_off, sp_node
        self.n_graph_nodes = n + len(pos)

        source_node = np.full(len(sources), -1, dtype=np.int64)
        node_ok = np.empty(int(ok.sum()), dtype=np.int64)
        node_ok[at_u] = e_u[s_edge[at_u]]
        node_ok[at_v & ~at_u] = e_v[s_edge[at_v & ~at_u]]
        key_edge, key_off = s_edge[inner], s_off[inner]
        idx = np.lexsort((sp_off, sp_edge))  # pos is already sorted this way
        loc = _find_sorted(sp_edge[idx], sp_off[idx], key_edge, key_off)
        node_ok[inner] = sp_node[idx][loc]
        source_node[ok] = node_ok
        self.source_node = source_node
        self.source_access = np.where(ok, sources.access, np.nan)

        # edges: unsplit ones whole, split ones as chains through their split nodes
        split_edges = np.unique(sp_edge)
        whole = np.ones(network.n_edges, dtype=bool)
        whole[split_edges] = False
        first_of_edge = run_starts(sp_edge)
        last_of_edge = run_ends(sp_edge)
        prev_node = np.where(first_of_edge, e_u[sp_edge], np.r_[-1, sp_node[:-1]])
        prev_off = np.where(first_of_edge, 0.0, np.r_[0.0, sp_off[:-1]])
        lr = [e_u[whole], prev_node, sp_node[last_of_edge]]
        lc = [e_v[whole], sp_node, e_v[sp_edge[last_of_edge]]]
        lw = [length[whole], sp_off - prev_off, length[sp_edge[last_of_edge]] - sp_off[last_of_edge]]
        a = np.concatenate(lr)
        b = np.concatenate(lc)
        w = np.maximum(np.concatenate(lw), 0.0)
        self.graph = self._build_graph(a, b, w, (whole, sp_edge, prev_off, last_of_edge))

        split_xy = (
            shapely.get_coordinates(shapely.line_interpolate_point(network.edge_geometry[sp_edge], sp_off))
            if len(pos)
            else np.zeros((0, 2))
        )
        self.node_xy = np.vstack([network.node_xy, split_xy])
        self._node_grid: PointGrid | None = None
        self._cache: dict[bytes, NDArray[np.float64]] = {}
        self._targets: tuple[int, PointGrid, Attachment] | None = None

    def _build_graph(
        self,
        a: NDArray[np.int64],
        b: NDArray[np.int64],
        w: NDArray[np.float64],
        pieces: tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.float64], NDArray[np.bool_]],
    ) -> sp.csr_array:
        """The graph of the split edges ``a``–``b`` of length ``w``, both ways (a subclass may weigh them otherwise).

        ``pieces`` says where each piece lies: ``(whole, split_edge, prev_offset,
        last_of_edge)`` as computed in ``__init__``.
        """
        return _csr_min(np.r_[a, b], np.r_[b, a], np.r_[w, w], self.n_graph_nodes)

    def _reach(self, budget: float) -> float:
        """Metres, in straight line, that a walk within ``budget`` (the engine's unit) can get."""
        return budget

    # ------------------------------------------------------------------ targets
    def attach(self, targets: Snapped) -> Attachment:
        """Connect snapped targets to the split graph (vectorised).

        Parameters
        ----------
        targets
            Snapped demand points or grid cells (same network).

        Returns
        -------
        Attachment
        """
        net = self.network
        n_t = len(targets)
        left = np.full(n_t, -1, dtype=np.int64)
        right = np.full(n_t, -1, dtype=np.int64)
        lcost = np.full(n_t, np.nan)
        rcost = np.full(n_t, np.nan)
        ok = np.flatnonzero(targets.ok)
        t_edge = targets.edge[ok]
        t_off = targets.offset[ok]
        L = net.edge_length[t_edge]

        n_sp = len(self._sp_edge)
        all_edge = np.r_[self._sp_edge, t_edge]
        all_off = np.r_[self._sp_off, t_off]
        is_split = np.r_[np.ones(n_sp, dtype=bool), np.zeros(len(ok), dtype=bool)]
        # splits sort before targets at the same offset: a facility at the very
        # spot of a home is its left neighbour at cost 0
        order = np.lexsort((~is_split, all_off, all_edge))
        pos_in_order = np.arange(len(order))
        split_pos = np.where(is_split[order], pos_in_order, -1)
        last_split = np.maximum.accumulate(split_pos) if len(order) else split_pos
        split_pos_rev = np.where(is_split[order], pos_in_order, len(order))
        next_split = np.minimum.accumulate(split_pos_rev[::-1])[::-1] if len(order) else split_pos_rev

        tgt_rank = np.flatnonzero(~is_split[order])  # positions of targets in order
        tgt_index = order[tgt_rank] - n_sp  # which target (into ok) sits there
        ls = last_split[tgt_rank]
        ns = next_split[tgt_rank]
        sorted_edge = all_edge[order]
        sorted_off = all_off[order]
        sorted_node = np.where(is_split[order], np.r_[self._sp_node, np.zeros(len(ok), np.int64)][order], -1)
        te = sorted_edge[tgt_rank]
        to = sorted_off[tgt_rank]
        has_l = (ls >= 0) & (sorted_edge[np.maximum(ls, 0)] == te)
        has_r = (ns < len(order)) & (sorted_edge[np.minimum(ns, len(order) - 1)] == te)

        ln = np.where(has_l, sorted_node[np.maximum(ls, 0)], net.edge_u[te])
        lc = np.where(has_l, to - sorted_off[np.maximum(ls, 0)], to)
        rn = np.where(has_r, sorted_node[np.minimum(ns, len(order) - 1)], net.edge_v[te])
        rc = np.where(has_r, sorted_off[np.minimum(ns, len(order) - 1)] - to, L[tgt_index] - to)

        rows = ok[tgt_index]
        left[rows], lcost[rows] = ln, np.maximum(lc, 0.0)
        right[rows], rcost[rows] = rn, np.maximum(rc, 0.0)
        access = np.where(targets.ok, targets.access, np.nan)
        return Attachment(left, lcost, right, rcost, access, targets.xy)

    # ---------------------------------------------------------------- distances
    def node_distances(self, sources: ArrayLike, limit: float | None = None) -> NDArray[np.float64]:
        """Distance from the nearest of ``sources`` to every graph node.

        Parameters
        ----------
        sources
            Indices into the engine's facilities (or a boolean mask).
        limit
            Stop searching beyond this many metres (``inf`` there).

        Returns
        -------
        numpy.ndarray
            ``float64`` of length ``n_graph_nodes``; ``inf`` where unreachable.
        """
        idx = self._snapped_sources(sources)
        key = self._cache_key(idx, limit)
        if key in self._cache:
            return self._cache[key]
        N = self.n_graph_nodes
        dist: NDArray[np.float64]
        if len(idx) == 0:
            dist = np.full(N, np.inf)
        else:
            nodes = self.source_node[idx]
            acc = self.source_access[idx]
            order = np.lexsort((acc, nodes))
            nodes, acc = nodes[order], acc[order]
            first = run_starts(nodes)
            nodes, acc = nodes[first], acc[first]
            g = self.graph
            indptr = np.r_[g.indptr, g.indptr[-1] + len(nodes)]
            indices = np.r_[g.indices, nodes.astype(g.indices.dtype)]
            data = np.r_[g.data, acc]
            full = sp.csr_array((data, indices, indptr), shape=(N + 1, N + 1))
            dist = dijkstra(full, directed=True, indices=N, limit=np.inf if limit is None else limit)[:N]
        self._cache[key] = dist
        return dist

    def _snapped_sources(self, sources: ArrayLike) -> NDArray[np.intp]:
        """Facility indices (from indices or a mask), those on the network only."""
        idx = np.asarray(sources)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        snapped: NDArray[np.intp] = idx[self.source_node[idx] >= 0].astype(np.intp, copy=False)
        return snapped

    @staticmethod
    def _cache_key(idx: NDArray[np.intp], limit: float | None) -> bytes:
        return idx.tobytes() + b"|" + repr(limit).encode()

    def remember(self, sources: ArrayLike, limit: float | None, node_dist: NDArray[np.float64]) -> None:
        """Keep ``node_dist``, computed elsewhere (a worker process), as :meth:`node_distances` of ``sources``."""
        if len(node_dist) != self.n_graph_nodes:
            raise ValueError(f"node distances for {len(node_dist)} nodes; the engine has {self.n_graph_nodes}")
        self._cache[self._cache_key(self._snapped_sources(sources), limit)] = node_dist

    @staticmethod
    def point_distances(node_dist: NDArray[np.float64], targets: Attachment) -> NDArray[np.float64]:
        """Distances to targets from node distances (``nan`` unsnapped, ``inf`` unreachable)."""
        out = np.full(len(targets), np.nan)
        ok = targets.ok
        via_l = node_dist[targets.left[ok]] + targets.left_cost[ok]
        via_r = node_dist[targets.right[ok]] + targets.right_cost[ok]
        out[ok] = targets.access[ok] + np.minimum(via_l, via_r)
        return out

    def nearest(self, sources: ArrayLike, targets: Attachment, limit: float | None = None) -> NDArray[np.float64]:
        """Distance from every target to its nearest facility among ``sources``.

        Returns
        -------
        numpy.ndarray
            Metres; ``nan`` for unsnapped targets, ``inf`` where no facility can
            be reached (another network component, or beyond ``limit``: a
            target past the limit may have a shorter way through a node the
            search did not reach, so its distance is not known).
        """
        dist = self.point_distances(self.node_distances(sources, limit), targets)
        if limit is not None:
            dist[dist > limit] = np.inf
        return dist

    def prepare_within(self, targets: Attachment | None = None) -> None:
        """Build the indexes :meth:`within` uses (before forking workers that share them)."""
        if self._node_grid is None:
            self._node_grid = PointGrid.build(self.node_xy)
        if targets is not None:
            self._target_grid(targets, np.flatnonzero(targets.ok))

    def _target_grid(self, targets: Attachment, rows: NDArray[np.int64]) -> PointGrid:
        """Box index of the snapped targets (kept for the last targets seen)."""
        if self._targets is None or self._targets[0] != id(targets):
            self._targets = (id(targets), PointGrid.build(targets.xy[rows]), targets)
        return self._targets[1]

    def within(
        self, sources: ArrayLike, targets: Attachment, radius: float, *, chunk: int = 32
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """Every (facility, target) pair no farther apart than ``radius``.

        Parameters
        ----------
        sources
            Indices into the engine's facilities (or a boolean mask).
        targets
            Attached targets.
        radius
            Metres.
        chunk
            Facilities searched together (nearby ones share a local subgraph).

        Returns
        -------
        source, target, distance : numpy.ndarray
            Parallel arrays, sorted by target then source.
        """
        idx = self._snapped_sources(sources)
        idx = idx[self.source_access[idx] <= radius]
        out_s: list[NDArray[np.int64]] = []
        out_t: list[NDArray[np.int64]] = []
        out_d: list[NDArray[np.float64]] = []
        t_ok = np.flatnonzero(targets.ok)
        if len(idx) and len(t_ok):
            self.prepare_within()
            node_grid = self._node_grid
            assert node_grid is not None  # built by prepare_within
            t_grid = self._target_grid(targets, t_ok)
            g = self.graph
            local_of = np.full(self.n_graph_nodes, -1, dtype=np.int64)
            src_xy = self.node_xy[self.source_node[idx]]
            # group facilities by squares of 8 radii: few, well-filled chunks (each chunk's
            # local subgraph is its bounding box plus one radius, so it stays local)
            reach = self._reach(radius)
            cell = np.floor(src_xy / max(8 * reach, 1.0)).astype(np.int64)
            order = np.lexsort((idx, cell[:, 0], cell[:, 1]))
            cell_key = cell[order]
            brk = run_starts(cell_key)
            group = np.cumsum(brk) - 1
            pos_in_group = np.arange(len(order)) - np.flatnonzero(brk)[group]
            chunk_id = np.cumsum(brk | (pos_in_group % chunk == 0)) - 1
            for c in range(int(chunk_id[-1]) + 1):
                members = order[chunk_id == c]
                fac = idx[members]
                lo = src_xy[members].min(axis=0) - reach
                hi = src_xy[members].max(axis=0) + reach
                local = node_grid.query(lo[0], lo[1], hi[0], hi[1])
                local_of[local] = np.arange(len(local))
                starts, ends = g.indptr[local], g.indptr[local + 1]
                counts = ends - starts
                flat = ragged_ranges(starts, counts)
                cols = local_of[g.indices[flat]]
                rows = np.repeat(np.arange(len(local)), counts)
                keep = cols >= 0
                # rows come out in order: build the CSR arrays directly (no COO sort)
                indptr = np.zeros(len(local) + 1, dtype=np.int64)
                np.cumsum(np.bincount(rows[keep], minlength=len(local)), out=indptr[1:])
                sub = sp.csr_array(
                    (g.data[flat][keep], cols[keep].astype(np.int32), indptr), shape=(len(local), len(local))
                )
                d = dijkstra(sub, directed=True, indices=local_of[self.source_node[fac]], limit=radius)
                near = t_ok[t_grid.query(lo[0], lo[1], hi[0], hi[1])]
                li = local_of[targets.left[near]]
                ri = local_of[targets.right[near]]
                dl = np.where(li >= 0, d[:, np.maximum(li, 0)], np.inf) + targets.left_cost[near]
                dr = np.where(ri >= 0, d[:, np.maximum(ri, 0)], np.inf) + targets.right_cost[near]
                total = np.minimum(dl, dr) + targets.access[near] + self.source_access[fac][:, None]
                si, ti = np.nonzero(total <= radius)
                out_s.append(fac[si])
                out_t.append(near[ti])
                out_d.append(total[si, ti])
                local_of[local] = -1
        if not out_s:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0)
        s_arr, t_arr, d_arr = np.concatenate(out_s), np.concatenate(out_t), np.concatenate(out_d)
        order = np.lexsort((s_arr, t_arr))
        return s_arr[order], t_arr[order], d_arr[order]


def _find_sorted(
    edge_sorted: NDArray[np.int64],
    off_sorted: NDArray[np.float64],
    q_edge: NDArray[np.int64],
    q_off: NDArray[np.float64],
) -> NDArray[np.int64]:
    """Positions of (edge, offset) queries in a lexicographically sorted table."""
    n = len(edge_sorted)
    all_e = np.r_[edge_sorted, q_edge]
    all_o = np.r_[off_sorted, q_off]
    is_tab = np.r_[np.ones(n, dtype=bool), np.zeros(len(q_edge), dtype=bool)]
    order = np.lexsort((~is_tab, all_o, all_e))
    tab_pos = np.where(is_tab[order], order, -1)
    last = np.maximum.accumulate(tab_pos) if len(order) else tab_pos
    out = np.empty(len(q_edge), dtype=np.int64)
    q_rank = np.flatnonzero(~is_tab[order])
    out[order[q_rank] - n] = last[q_rank]
    return out
