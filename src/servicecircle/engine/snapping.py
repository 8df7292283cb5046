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
from ..network.model import WalkNetwork

#: Fewer points than this are snapped in one process when the number of workers is automatic: snapping
#: takes about 3 µs a point, so below a million points starting the worker processes costs more than it saves
PARALLEL_POINTS = 1_000_000

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


def _coordinates(points: Any) -> tuple[NDArray[np.object_] | None, NDArray[np.float64], NDArray[np.bool_]]:
    """``(geometries or None, (n, 2) coordinates, usable)`` of point input.

    Empty, missing and non-finite points are not usable (their coordinates are
    ``nan``); anything but points is refused.
    """
    if hasattr(points, "geometry"):
        points = points.geometry
    arr = np.asarray(points)
    if arr.dtype != object:
        xy = np.asarray(arr, dtype=np.float64).reshape(-1, 2)
        return None, xy, np.asarray(np.isfinite(xy).all(axis=1))
    geoms: NDArray[np.object_] = arr.reshape(-1)
    xy = np.full((len(geoms), 2), np.nan)
    usable = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    other = usable & (shapely.get_type_id(geoms) != 0)
    if other.any():
        i = int(np.argmax(other))
        raise ValueError(f"snap_points snaps points; the geometry at position {i} is a {geoms[i].geom_type}")
    xy[usable] = shapely.get_coordinates(geoms[usable])
    return geoms, xy, usable & np.isfinite(xy).all(axis=1)


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
    geoms, pxy, usable = _coordinates(points)
    n = len(pxy)
    edge = np.full(n, -1, dtype=np.int64)
    offset = np.full(n, np.nan)
    access = np.full(n, np.nan)
    xy = np.full((n, 2), np.nan)
    if n == 0 or network.n_edges == 0 or not usable.any():
        return Snapped(edge, offset, access, xy, max_snap)

    cand = np.flatnonzero(usable)
    a, b, seg_edge, seg_start = network.segment_ends
    s_idx, dist = network.segment_grid.nearest(pxy[cand], max_snap)
    hit = s_idx >= 0
    rows, s_idx, dist = cand[hit], s_idx[hit], dist[hit]
    e_idx = seg_edge[s_idx]
    edge[rows] = e_idx
    access[rows] = dist
    off = seg_start[s_idx] + _locate(a[s_idx], b[s_idx], pxy[rows])
    offset[rows] = np.clip(off, 0.0, network.edge_length[e_idx])
    xy[rows] = _interpolate(a[s_idx], b[s_idx], off - seg_start[s_idx])

    if report_far:  # how far the nearest street is, for points left unsnapped
        _far_access(network, geoms, pxy, cand[~hit], access)
    return Snapped(edge, offset, access, xy, max_snap)


def _far_access(
    network: WalkNetwork,
    geoms: NDArray[np.object_] | None,
    pxy: NDArray[np.float64],
    rows: NDArray[np.int64],
    access: NDArray[np.float64],
) -> None:
    """``access[rows]``: metres from those points to the nearest street, however far (``nan`` where unknown).

    An unbounded nearest search (GEOS, over :attr:`WalkNetwork.edge_index`, built
    on first use), for the few points :func:`snap_points` leaves unsnapped: the
    distance to an edge is the distance to the nearest of its pieces. ``geoms``
    are the input points (``None``: they came as the coordinates ``pxy``).
    """
    if not len(rows) or network.n_edges == 0:
        return
    points = geoms[rows] if geoms is not None else shapely.points(pxy[rows])
    (fp, _), far_dist = network.edge_index.query_nearest(points, return_distance=True, all_matches=False)
    access[rows[fp]] = far_dist


def _locate(a: NDArray[np.float64], b: NDArray[np.float64], p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Distance along each segment ``a``-``b`` to the point of it nearest ``p``.

    GEOS's operations (``LengthIndexedLine::project`` on a two-point line), so the
    result is ``shapely.line_locate_point``'s to the last bit.
    """
    dx, dy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
    len2 = dx * dx + dy * dy
    with np.errstate(divide="ignore", invalid="ignore"):
        r = ((p[:, 0] - a[:, 0]) * dx + (p[:, 1] - a[:, 1]) * dy) / len2
    r = np.where((p == a).all(axis=1), 0.0, np.where((p == b).all(axis=1), 1.0, r))
    length = np.sqrt(len2)
    out: NDArray[np.float64] = np.where(r <= 0.0, 0.0, np.where(r <= 1.0, r * length, length))
    return out


def _interpolate(a: NDArray[np.float64], b: NDArray[np.float64], along: NDArray[np.float64]) -> NDArray[np.float64]:
    """The point ``along`` metres from ``a`` towards ``b`` on each segment (clamped to its ends).

    GEOS's operations (``LengthIndexedLine::extractPoint`` on a two-point line),
    so the result is ``shapely.line_interpolate_point``'s to the last bit.
    """
    out = np.empty((len(a), 2))
    d = b - a
    length = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = along / length
    for k in (0, 1):
        on = np.where(frac <= 0.0, a[:, k], np.where(frac >= 1.0, b[:, k], d[:, k] * frac + a[:, k]))
        out[:, k] = np.where(along <= 0.0, a[:, k], np.where(length > along, on, b[:, k]))
    return out


def snap_points_parallel(
    network: WalkNetwork, xy: Any, max_snap: float | None = None, *, report_far: bool = True, workers: int | None = None
) -> Snapped:
    """:func:`snap_points` for many points, split over worker processes (see ``settings.workers``).

    ``xy`` is an ``(n, 2)`` coordinate array or an array of point geometries
    (empty or missing ones stay unsnapped, as in :func:`snap_points`).
    """
    from .._parallel import pmap, workers_for

    geoms, pxy, usable = _coordinates(xy)
    n = workers if workers is not None else workers_for(len(pxy), threshold=PARALLEL_POINTS)
    if n <= 1:
        return snap_points(network, xy if geoms is None else geoms, max_snap, report_far=report_far)
    network.segment_grid  # noqa: B018 - build the index once, before the children share it
    # the children snap coordinates (unusable points are nan there); the parent measures the far ones
    parts = list(pmap(lambda c: snap_points(network, c, max_snap, report_far=False), np.array_split(pxy, 4 * n), n))
    out = Snapped(
        np.concatenate([p.edge for p in parts]),
        np.concatenate([p.offset for p in parts]),
        np.concatenate([p.access for p in parts]),
        np.vstack([p.xy for p in parts]),
        parts[0].max_snap,
    )
    if report_far:
        _far_access(network, geoms, pxy, np.flatnonzero(usable & (out.edge < 0)), out.access)
    return out


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
