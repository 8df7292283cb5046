"""Synthetic, seeded street grids, facilities, demand points and communities.

A grid of ``side × side`` intersections about ``block`` metres apart, each node
nudged by a few metres (so edges are not all of one length and ties are rare),
with a share of the street segments removed (so it is not a perfect lattice:
shortest paths have to go round missing links); only the largest connected part
is kept, so every method sees one connected network. Coordinates are in the
CGCS2000 3-degree Gauss-Krüger zone of Chengdu (EPSG:4544), offset to where
Chengdu lies in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

CRS = "EPSG:4544"
ORIGIN = (440_000.0, 3_340_000.0)  # about central Chengdu in EPSG:4544


@dataclass
class GridSpec:
    nodes: int
    block: float = 100.0
    jitter: float = 8.0
    removed: float = 0.08
    seed: int = 42

    @property
    def side(self) -> int:
        return int(round(math.sqrt(self.nodes)))

    @property
    def key(self) -> str:
        return f"grid_{self.nodes}_{self.block:g}_{self.jitter:g}_{self.removed:g}_{self.seed}"


def grid_arrays(spec: GridSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``node_xy, edge_u, edge_v`` of the perturbed grid (largest component only)."""
    rng = np.random.default_rng(spec.seed)
    s = spec.side
    ii, jj = np.meshgrid(np.arange(s), np.arange(s), indexing="ij")
    idx = (ii * s + jj).ravel()
    xy = np.column_stack([jj.ravel() * spec.block, ii.ravel() * spec.block]).astype(np.float64)
    xy += rng.uniform(-spec.jitter, spec.jitter, size=xy.shape)
    xy += np.asarray(ORIGIN)
    grid = idx.reshape(s, s)
    hu, hv = grid[:, :-1].ravel(), grid[:, 1:].ravel()
    vu, vv = grid[:-1, :].ravel(), grid[1:, :].ravel()
    u = np.concatenate([hu, vu])
    v = np.concatenate([hv, vv])
    keep = rng.random(len(u)) >= spec.removed
    u, v = u[keep], v[keep]
    n = s * s
    adj = sp.coo_matrix((np.ones(len(u), dtype=np.int8), (u, v)), shape=(n, n))
    _, label = connected_components(adj, directed=False)
    big = np.argmax(np.bincount(label))
    keep_node = label == big
    remap = np.full(n, -1, dtype=np.int64)
    remap[keep_node] = np.arange(int(keep_node.sum()))
    keep_edge = keep_node[u]
    return xy[keep_node], remap[u[keep_edge]], remap[v[keep_edge]]


def grid_network(spec: GridSpec, cache_dir: Path | None = None):
    """The grid as a :class:`~servicecircle.network.WalkNetwork` (cached as ``.npz`` when asked).

    Returns ``(network, seconds_to_build, came_from_cache)``.
    """
    import time

    from servicecircle.network import network_from_arrays
    from servicecircle.network.cache import load_cached_network, save_network

    path = Path(cache_dir) / f"{spec.key}.npz" if cache_dir else None
    if path is not None and path.exists():
        t = time.perf_counter()
        net = load_cached_network(path)
        if net is not None:
            # keyed as servicecircle's own cache keys a network, so that its gap-grid cells are
            # cached beside it (network.cache.lattice_store) as they are for `servicecircle run`
            net.info.update(cache_key=spec.key, cache_folder=str(path.parent))
            return net, time.perf_counter() - t, True
    t = time.perf_counter()
    xy, u, v = grid_arrays(spec)
    net = network_from_arrays(xy, u, v, CRS, source=spec.key)
    took = time.perf_counter() - t
    if path is not None:
        save_network(net, path)
        net.info.update(cache_key=spec.key, cache_folder=str(path.parent))
    return net, took, False


def category_sizes(n_categories: int, n_nodes: int, lo: float = 50, hi: float = 5000) -> np.ndarray:
    """Facilities per category: geometric from ``lo`` to ``hi`` at 1M nodes, scaled with the area."""
    scale = n_nodes / 1_000_000
    if n_categories == 1:
        sizes = np.array([math.sqrt(lo * hi)])
    else:
        sizes = np.geomspace(lo, hi, n_categories)
    return np.maximum(np.round(sizes * scale), 5).astype(int)


def facilities_on_nodes(n_nodes: int, sizes, seed: int = 7) -> list[np.ndarray]:
    """For each category, distinct random node indices (facilities sit exactly on nodes)."""
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(n_nodes, size=int(k), replace=False)) for k in sizes]


def demand_points(bounds, n: int, seed: int = 11) -> np.ndarray:
    """``n`` points uniformly inside ``bounds`` (minx, miny, maxx, maxy)."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = bounds
    return np.column_stack([rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)])


def community_squares(bounds, size: float):
    """Square communities of ``size`` metres tiling ``bounds`` (GeoDataFrame, with households)."""
    import geopandas as gpd
    import shapely

    minx, miny, maxx, maxy = bounds
    nx = max(int(math.ceil((maxx - minx) / size)), 1)
    ny = max(int(math.ceil((maxy - miny) / size)), 1)
    gx, gy = np.meshgrid(np.arange(nx), np.arange(ny))
    x0 = minx + gx.ravel() * size
    y0 = miny + gy.ravel() * size
    geoms = shapely.box(x0, y0, x0 + size, y0 + size)
    codes = np.array([f"C{i:06d}" for i in range(len(geoms))], dtype=object)
    return gpd.GeoDataFrame({"code": codes, "households": np.full(len(geoms), 1000.0)}, geometry=geoms, crs=CRS)
