"""Snap points to the nearest point on the nearest edge of the walking network.

A point is placed on the closest point of the closest edge *geometry* (not the
closest node), and the straight line from the point to that place (the access
leg) is kept: it is part of every distance the point gets, and it is reported as
``snap_m`` so a planner can see what was assumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from .. import settings
from .._arrays import run_starts
from ..network.model import WalkNetwork

__all__ = ["Snapped", "snap_points", "snap_points_parallel", "snap_lattice", "LatticeStore", "lattice_keys"]


@dataclass(frozen=True)
class Snapped:
    """Where points sit on the network.

    Attributes
    ----------
    edge
        Index of the edge each point snapped to; ``-1`` where the nearest edge is
        farther than ``max_snap`` (the point is *unsnapped*).
    offset
        Metres along the edge geometry from its ``u`` end (``nan`` if unsnapped).
    access
        Metres from the point to the nearest edge: the access leg for snapped
        points, the distance that was too far for unsnapped ones (``nan`` for
        empty geometries or an empty network).
    xy
        ``(n, 2)`` snapped position (``nan`` if unsnapped).
    max_snap
        The snapping limit used.
    """

    edge: NDArray[np.int64]
    offset: NDArray[np.float64]
    access: NDArray[np.float64]
    xy: NDArray[np.float64]
    max_snap: float

    @property
    def ok(self) -> NDArray[np.bool_]:
        """Boolean mask of snapped points."""
        return self.edge >= 0

    def __len__(self) -> int:
        return len(self.edge)

    def take(self, idx: ArrayLike) -> Snapped:
        """The points at positions ``idx`` (an index or boolean array), in that order."""
        i = np.asarray(idx)
        return Snapped(self.edge[i], self.offset[i], self.access[i], self.xy[i], self.max_snap)


def _as_points(points: Any) -> NDArray[np.object_]:
    if hasattr(points, "geometry"):
        points = points.geometry
    arr = np.asarray(points)
    if arr.dtype != object:
        arr = np.asarray(arr, dtype=np.float64).reshape(-1, 2)
        made: NDArray[np.object_] = shapely.points(arr)
        return made
    return arr


def snap_points(
    network: WalkNetwork, points: Any, max_snap: float | None = None, *, report_far: bool = True
) -> Snapped:
    """Snap points to the nearest edge geometry of ``network``.

    Parameters
    ----------
    network
        The walking network (its CRS is the points' CRS).
    points
        Point geometries (array, GeoSeries, GeoDataFrame) or an ``(n, 2)``
        array of coordinates, in the network CRS.
    max_snap
        Metres; points farther than this from every edge stay unsnapped.
        Default ``settings.max_snap``.
    report_far
        Also measure how far unsnapped points are from the network (a second,
        unbounded search); skip it where only the snapped points matter.

    Returns
    -------
    Snapped

    Notes
    -----
    Where two edges are exactly equally near, the edge with the lower index is
    taken, so results never depend on the order of a spatial index.

    Examples
    --------
    >>> import numpy as np
    >>> from servicecircle.network import network_from_arrays
    >>> net = network_from_arrays(np.array([[0, 0], [100, 0]]), [0], [1], "EPSG:4544")
    >>> s = snap_points(net, np.array([[30.0, 4.0]]))
    >>> float(s.offset[0]), float(s.access[0])
    (30.0, 4.0)
    """
    max_snap = settings.max_snap if max_snap is None else float(max_snap)
    pts = _as_points(points)
    n = len(pts)
    edge = np.full(n, -1, dtype=np.int64)
    offset = np.full(n, np.nan)
    access = np.full(n, np.nan)
    xy = np.full((n, 2), np.nan)
    usable = ~(shapely.is_empty(pts) | shapely.is_missing(pts))
    if n == 0 or network.n_edges == 0 or not usable.any():
        return Snapped(edge, offset, access, xy, max_snap)

    seg_geom, seg_edge, seg_start, tree = network.segments
    cand = np.flatnonzero(usable)
    (p_idx, s_idx), dist = tree.query_nearest(pts[cand], max_distance=max_snap, return_distance=True, all_matches=True)
    order = np.lexsort((s_idx, p_idx))  # lowest edge (then piece) first among ties
    p_idx, s_idx, dist = p_idx[order], s_idx[order], dist[order]
    first = run_starts(p_idx)
    p_idx, s_idx, dist = p_idx[first], s_idx[first], dist[first]
    within = dist <= max_snap
    p_idx, s_idx, dist = p_idx[within], s_idx[within], dist[within]
    rows = cand[p_idx]
    e_idx = seg_edge[s_idx]
    edge[rows] = e_idx
    access[rows] = dist
    off = seg_start[s_idx] + shapely.line_locate_point(seg_geom[s_idx], pts[rows])
    offset[rows] = np.clip(off, 0.0, network.edge_length[e_idx])
    xy[rows] = shapely.get_coordinates(shapely.line_interpolate_point(seg_geom[s_idx], off - seg_start[s_idx]))

    far = usable & (edge < 0)
    if report_far and far.any():  # how far the nearest street is, for points left unsnapped
        far_rows = np.flatnonzero(far)
        (fp, _), far_dist = tree.query_nearest(pts[far_rows], return_distance=True, all_matches=False)
        access[far_rows[fp]] = far_dist
    return Snapped(edge, offset, access, xy, max_snap)


def snap_points_parallel(
    network: WalkNetwork, xy: Any, max_snap: float | None = None, *, report_far: bool = True, workers: int | None = None
) -> Snapped:
    """:func:`snap_points` for many points, split over worker processes (see ``settings.workers``).

    ``xy`` is an ``(n, 2)`` coordinate array or an array of point geometries
    (empty or missing ones stay unsnapped, as in :func:`snap_points`).
    """
    from .._parallel import pmap, workers_for

    if hasattr(xy, "geometry"):
        xy = xy.geometry
    xy = np.asarray(xy)
    if xy.dtype != object:
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    n = workers if workers is not None else workers_for(len(xy), threshold=50_000)
    if n <= 1:
        return snap_points(network, xy, max_snap, report_far=report_far)
    network.segments  # noqa: B018 - build the index once, before the children share it
    parts = list(pmap(lambda c: snap_points(network, c, max_snap, report_far=report_far), np.array_split(xy, 4 * n), n))
    return Snapped(
        np.concatenate([p.edge for p in parts]),
        np.concatenate([p.offset for p in parts]),
        np.concatenate([p.access for p in parts]),
        np.vstack([p.xy for p in parts]),
        parts[0].max_snap,
    )


def lattice_keys(ix: ArrayLike, iy: ArrayLike) -> NDArray[np.int64]:
    """One int64 per lattice cell ``(ix, iy)`` (column, row numbers of any sign)."""
    return (np.asarray(ix, dtype=np.int64) << 32) + (np.asarray(iy, dtype=np.int64) + (1 << 31))


class LatticeStore(Protocol):
    """Where :func:`snap_lattice` keeps the snapped cells of fixed lattices between runs.

    The engine reads and writes nothing itself: a store (for a cached network,
    :class:`servicecircle.network.cache.LatticeCache`, made by
    :func:`servicecircle.network.cache.lattice_store`) decides where the cells
    are kept and how many.
    """

    def load(self, resolution: float, max_snap: float) -> dict[str, NDArray[Any]] | None:
        """Return the cells kept for this lattice and snapping limit, or ``None``.

        Parameters
        ----------
        resolution : float
            Cell size of the lattice, metres.
        max_snap : float
            The snapping limit the cells were snapped with, metres.

        Returns
        -------
        dict of str to numpy.ndarray or None
            ``keys`` (:func:`lattice_keys`, sorted ascending) and, row for row,
            ``edge``, ``offset``, ``access`` and ``xy`` as in :class:`Snapped`;
            ``None`` when nothing is kept (or what is kept cannot be read).
        """
        ...

    def save(self, resolution: float, max_snap: float, arrays: dict[str, NDArray[Any]]) -> None:
        """Keep the snapped cells of one :func:`snap_lattice` call.

        Parameters
        ----------
        resolution : float
            Cell size of the lattice, metres.
        max_snap : float
            The snapping limit used, metres.
        arrays : dict of str to numpy.ndarray
            ``keys`` and ``edge``, ``offset``, ``access``, ``xy`` of *every*
            cell of the call (those :meth:`load` returned and those just
            snapped), in the call's order. The store merges them with what it
            holds and bounds its size as it sees fit; failing to keep them
            must cost only speed, never raise.
        """
        ...


def snap_lattice(
    network: WalkNetwork,
    ix: ArrayLike,
    iy: ArrayLike,
    resolution: float,
    max_snap: float | None = None,
    *,
    store: LatticeStore | None = None,
) -> Snapped:
    """Snap the centres ``((ix + ½)·res, (iy + ½)·res)`` of lattice cells, reusing a store's earlier snaps.

    The cells of a fixed lattice (anchored at the CRS origin) are snapped once
    and kept in ``store``, so a rerun (the same city, another scenario or
    standard) only snaps cells it has not seen. The result is exactly
    :func:`snap_points_parallel`'s: the store holds its output for the same
    points, network and ``max_snap``.

    Parameters
    ----------
    network : WalkNetwork
        The walking network.
    ix, iy : numpy.ndarray
        Column and row numbers of the cells (integers of any sign).
    resolution : float
        Cell size, metres.
    max_snap : float, optional
        Snapping limit, metres. Default ``settings.max_snap``.
    store : LatticeStore, optional
        Where earlier snaps of this lattice are read from and the cells are
        kept (:func:`servicecircle.network.cache.lattice_store` gives the disk
        cache of a cached network). ``None``: every cell is snapped, nothing
        is kept.

    Returns
    -------
    Snapped
        One row per cell, in the order of ``ix, iy``.
    """
    max_snap = settings.max_snap if max_snap is None else float(max_snap)
    res = float(resolution)
    ix = np.asarray(ix, dtype=np.int64)
    iy = np.asarray(iy, dtype=np.int64)
    keys = lattice_keys(ix, iy)
    centres = np.column_stack([(ix + 0.5) * res, (iy + 0.5) * res])
    cached = None if store is None else store.load(res, max_snap)
    n = len(keys)
    out = {
        "edge": np.full(n, -1, dtype=np.int64),
        "offset": np.full(n, np.nan),
        "access": np.full(n, np.nan),
        "xy": np.full((n, 2), np.nan),
    }
    hit = np.zeros(n, dtype=bool)
    if cached is not None and len(cached["keys"]):
        pos = np.minimum(np.searchsorted(cached["keys"], keys), len(cached["keys"]) - 1)
        hit = cached["keys"][pos] == keys
        for f, v in out.items():
            v[hit] = cached[f][pos[hit]]
    miss = np.flatnonzero(~hit)
    if len(miss):
        new = snap_points_parallel(network, centres[miss], max_snap, report_far=False)
        for f, v in out.items():
            v[miss] = getattr(new, f)
        if store is not None:
            store.save(res, max_snap, {"keys": keys, **out})
    return Snapped(out["edge"], out["offset"], out["access"], out["xy"], max_snap)
