"""An exact nearest-piece search over the straight pieces of a network's edges.

Every edge geometry is cut into straight two-point pieces (``WalkNetwork.segment_ends``),
so the distance from a point to a piece is a few array operations. :class:`SegmentGrid`
buckets the pieces by the midpoint of their parts no longer than one cell into a uniform
grid, and :meth:`SegmentGrid.nearest` finds, for many points at once, the nearest piece
within a distance: a first look at the 3 × 3 cells around each point settles most points
(everything nearer than what was found there is among those cells); the rest look again
over every cell that a piece nearer than the best found so far (or than the limit) could
fall in. Distances are computed exactly as GEOS computes a point-to-segment distance
(``geos::algorithm::Distance::pointToSegment``), operation for operation, so the result is
the one a GEOS nearest search over the same pieces gives, ties included.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._arrays import ragged_ranges

__all__ = ["SegmentGrid", "point_segment_distance"]

#: at most this many point-piece pairs are measured at a time (memory stays bounded)
PAIR_BUDGET = 1 << 20


def point_segment_distance(
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    ax: NDArray[np.float64],
    ay: NDArray[np.float64],
    bx: NDArray[np.float64],
    by: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Distance from points ``p`` to segments ``ab``, elementwise, as GEOS computes it.

    The same floating-point operations in the same order as GEOS's
    ``Distance::pointToSegment`` (the distance ``shapely.distance`` and
    ``STRtree.query_nearest`` report for a point and a two-point LineString), so
    the results are equal to the last bit, not merely close.

    Parameters
    ----------
    px, py, ax, ay, bx, by
        Coordinates of the points and of the segments' ends (broadcast together).

    Returns
    -------
    numpy.ndarray
        Distances, in the coordinates' unit.

    Examples
    --------
    >>> import numpy as np
    >>> d = point_segment_distance(*(np.array([v]) for v in (30.0, 4.0, 0.0, 0.0, 100.0, 0.0)))
    >>> float(d[0])
    4.0
    """
    dx = bx - ax
    dy = by - ay
    ux = px - ax
    uy = py - ay
    len2 = dx * dx + dy * dy
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (ux * dx + uy * dy) / len2
        s = (ux * dy - uy * dx) / len2  # GEOS: ((A.y - p.y)(B.x - A.x) - (A.x - p.x)(B.y - A.y)) / L², the same bits
        inner = np.abs(s) * np.sqrt(len2)
    wx = px - bx
    wy = py - by
    to_a = np.sqrt(ux * ux + uy * uy)
    to_b = np.sqrt(wx * wx + wy * wy)
    out: NDArray[np.float64] = np.where(r <= 0.0, to_a, np.where(r >= 1.0, to_b, inner))
    return np.where((ax == bx) & (ay == by), to_a, out)


@dataclass(frozen=True, eq=False)
class SegmentGrid:
    """Straight segments bucketed in a uniform grid, for exact nearest-segment searches.

    Build it with :meth:`build`. A segment longer than a cell is cut (for the
    bucketing only) into equal parts no longer than a cell, and each part is
    listed in the cell of its midpoint: every point of the segment then lies
    within half a cell of a listed midpoint, which bounds where a search must look.

    Attributes
    ----------
    ax, ay, bx, by
        The segments' ends.
    cell
        Cell size, in the coordinates' unit.
    x0, y0
        Lower-left corner of cell ``(0, 0)``.
    nx, ny
        Columns and rows of the grid.
    ptr
        ``nx * ny + 1`` offsets: the segments listed in cell ``(i, j)`` are
        ``members[ptr[i * ny + j]:ptr[i * ny + j + 1]]``.
    members
        Segment indices, cell by cell.
    slack
        A margin far above the rounding of the bucketing arithmetic, added to
        every search reach so that no segment is missed by a rounding.
    """

    ax: NDArray[np.float64]
    ay: NDArray[np.float64]
    bx: NDArray[np.float64]
    by: NDArray[np.float64]
    cell: float
    x0: float
    y0: float
    nx: int
    ny: int
    ptr: NDArray[np.int64]
    members: NDArray[np.int64]
    slack: float

    @classmethod
    def build(cls, a: ArrayLike, b: ArrayLike, cell: float | None = None) -> SegmentGrid:
        """Bucket the segments from ``a[i]`` to ``b[i]`` (``(m, 2)`` arrays).

        Parameters
        ----------
        a, b
            Start and end of each segment.
        cell
            Cell size; default :meth:`cell_size` of the segments.

        Returns
        -------
        SegmentGrid

        Examples
        --------
        >>> import numpy as np
        >>> g = SegmentGrid.build(np.array([[0.0, 0.0], [0.0, 10.0]]), np.array([[100.0, 0.0], [100.0, 10.0]]))
        >>> seg, dist = g.nearest(np.array([[50.0, 7.0], [50.0, 5.0]]), 20.0)
        >>> seg.tolist(), dist.tolist()
        ([1, 0], [3.0, 5.0])
        """
        a = np.asarray(a, dtype=np.float64).reshape(-1, 2)
        b = np.asarray(b, dtype=np.float64).reshape(-1, 2)
        ax, ay, bx, by = (np.ascontiguousarray(v) for v in (a[:, 0], a[:, 1], b[:, 0], b[:, 1]))
        m = len(ax)
        if m == 0:
            return cls(ax, ay, bx, by, 1.0, 0.0, 0.0, 1, 1, np.zeros(2, np.int64), np.zeros(0, np.int64), 1e-8)
        dx, dy = bx - ax, by - ay
        length = np.hypot(dx, dy)
        lo_x, hi_x = min(float(ax.min()), float(bx.min())), max(float(ax.max()), float(bx.max()))
        lo_y, hi_y = min(float(ay.min()), float(by.min())), max(float(ay.max()), float(by.max()))
        if cell is None:
            h = cls.cell_size(float(length.mean()), hi_x - lo_x, hi_y - lo_y, m)
        else:
            h = float(cell)
        if not (np.isfinite(h) and h > 0):
            raise ValueError(f"the cell size must be a positive number, not {h}")
        # cut each segment into k equal parts no longer than a cell; list each part by its midpoint
        k = np.maximum(np.ceil(length / h), 1.0).astype(np.int64)
        seg = np.arange(m, dtype=np.int64)
        mx = ax + 0.5 * dx
        my = ay + 0.5 * dy
        long = np.flatnonzero(k > 1)
        if len(long):
            kl = k[long]
            cut = np.repeat(long, kl)
            t = (ragged_ranges(np.zeros(len(long), np.int64), kl) + 0.5) / np.repeat(kl, kl)
            one = k == 1
            seg = np.concatenate([seg[one], cut])
            mx = np.concatenate([mx[one], ax[cut] + t * dx[cut]])
            my = np.concatenate([my[one], ay[cut] + t * dy[cut]])
        x0, y0 = float(mx.min()), float(my.min())
        ix = np.floor((mx - x0) / h).astype(np.int64)
        iy = np.floor((my - y0) / h).astype(np.int64)
        nx, ny = int(ix.max()) + 1, int(iy.max()) + 1
        key = ix * ny + iy
        order = np.argsort(key)
        ptr = np.zeros(nx * ny + 1, dtype=np.int64)
        np.cumsum(np.bincount(key, minlength=nx * ny), out=ptr[1:])
        scale = max(abs(lo_x), abs(hi_x), abs(lo_y), abs(hi_y), h)
        return cls(ax, ay, bx, by, h, x0, y0, nx, ny, ptr, seg[order], 1e-8 * scale)

    @staticmethod
    def cell_size(mean: float, width: float, height: float, m: int) -> float:
        """A cell size for ``m`` segments of ``mean`` length spread over ``width`` × ``height``.

        A tenth more than the mean segment length (so that segments of about
        the mean length are not cut in two), but no less than the side of a
        square of the extent's area per segment, nor than the extent's width
        plus height over four times the segments: so that, however the
        segments are spread, the grid has at most about eight cells per
        segment and the parts number at most about twice the segments.

        >>> round(SegmentGrid.cell_size(100.0, 1000.0, 1000.0, 220), 9)
        110.0
        """
        h = max(1.1 * mean, float(np.sqrt(width * height / max(m, 1))), (width + height) / (4 * max(m, 1)))
        return h if h > 0 else 1.0

    def __len__(self) -> int:
        return len(self.ax)

    def _columns(
        self, x: NDArray[np.float64], y: NDArray[np.float64], reach: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """The runs of ``members`` listed in the cells that the squares ``(x, y) ± reach`` meet.

        Returns ``(point, start, count)`` per run, one run per grid column a
        square crosses (the cells of a column are consecutive in ``members``),
        and per point how far from it the cells looked at extend every way.
        """
        h = self.cell
        fx0 = np.floor((x - reach - self.x0) / h)
        fx1 = np.floor((x + reach - self.x0) / h)
        fy0 = np.floor((y - reach - self.y0) / h)
        fy1 = np.floor((y + reach - self.y0) / h)
        cover = np.minimum(
            np.minimum(x - (self.x0 + fx0 * h), (self.x0 + (fx1 + 1.0) * h) - x),
            np.minimum(y - (self.y0 + fy0 * h), (self.y0 + (fy1 + 1.0) * h) - y),
        )
        top_x, top_y = float(self.nx - 1), float(self.ny - 1)
        lox = np.clip(fx0, 0.0, top_x + 1).astype(np.int64)
        hix = np.clip(fx1, -1.0, top_x).astype(np.int64)
        loy = np.clip(fy0, 0.0, top_y + 1).astype(np.int64)
        hiy = np.clip(fy1, -1.0, top_y).astype(np.int64)
        ncol = np.maximum(hix - lox + 1, 0)
        ncol[hiy < loy] = 0
        point = np.repeat(np.arange(len(x), dtype=np.int64), ncol)
        col = ragged_ranges(lox, ncol)
        start = self.ptr[col * self.ny + loy[point]]
        count = self.ptr[col * self.ny + hiy[point] + 1] - start
        return point, start, count, cover

    def _best(
        self, x: NDArray[np.float64], y: NDArray[np.float64], reach: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        """Nearest segment (lowest index among exact ties) among those listed in the cells within ``reach``.

        Returns the segment (``-1`` where none is listed there), its distance
        (``inf``) and how far the cells looked at extend from each point: the
        answer is the true nearest segment wherever it is nearer than that
        extent less half a cell (every segment that near is listed there).
        """
        n = len(x)
        seg = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.inf)
        point, start, count, cover = self._columns(x, y, reach)
        if not len(point):
            return seg, dist, cover
        per_point = np.bincount(point, weights=count, minlength=n).astype(np.int64)
        # points in groups of at most PAIR_BUDGET pairs (one point alone may exceed it)
        group = np.cumsum(per_point) // PAIR_BUDGET
        cuts = np.flatnonzero(np.r_[True, group[1:] != group[:-1], True])
        run_cut = np.searchsorted(point, cuts)
        for g in range(len(cuts) - 1):
            r0, r1 = run_cut[g], run_cut[g + 1]
            cnt = count[r0:r1]
            pair_seg = self.members[ragged_ranges(start[r0:r1], cnt)]
            pair_pt = np.repeat(point[r0:r1], cnt)
            if not len(pair_pt):
                continue
            d = point_segment_distance(
                x[pair_pt], y[pair_pt], self.ax[pair_seg], self.ay[pair_seg], self.bx[pair_seg], self.by[pair_seg]
            )
            first = np.flatnonzero(np.r_[True, pair_pt[1:] != pair_pt[:-1]])
            owner = pair_pt[first]
            dmin = np.minimum.reduceat(d, first)
            tied = d == np.repeat(dmin, np.diff(np.r_[first, len(d)]))
            seg[owner] = np.minimum.reduceat(np.where(tied, pair_seg, np.iinfo(np.int64).max), first)
            dist[owner] = dmin
        return seg, dist, cover

    def nearest(self, xy: ArrayLike, max_distance: float) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The nearest segment to each point, if one is within ``max_distance``.

        Parameters
        ----------
        xy
            ``(n, 2)`` point coordinates (rows with a non-finite coordinate find nothing).
        max_distance
            Segments farther than this are not looked for.

        Returns
        -------
        segment, distance
            Index of the nearest segment and the distance to it; where two or
            more are exactly equally near, the lowest index. ``-1`` and ``inf``
            where no segment is within ``max_distance``.

        Notes
        -----
        Each point first looks at the cells within one cell of it. Where what it
        found is not proven nearest (a segment nearer than that could be listed
        in a cell not looked at), it looks again over every cell such a segment
        could be listed in; where it found nothing, twice as far, up to
        ``max_distance``. The distances are GEOS's (:func:`point_segment_distance`).
        """
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        n = len(xy)
        limit = float(max_distance)
        seg = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.inf)
        todo = np.flatnonzero(np.isfinite(xy).all(axis=1))
        if not len(todo) or not len(self) or not limit >= 0:
            return seg, dist
        half = 0.5 * self.cell + self.slack  # a listed midpoint is within half a cell of its part
        see_all = limit + half  # cells this far round a point list every segment within the limit
        reach = np.full(len(todo), self.cell)
        while len(todo):
            s, d, cover = self._best(xy[todo, 0], xy[todo, 1], reach)
            done = (d + half <= cover) | (cover >= see_all)
            seg[todo[done]], dist[todo[done]] = s[done], d[done]
            todo, d, reach = todo[~done], d[~done], reach[~done]
            # found something: look as far as a nearer segment could be listed; found nothing: twice as far
            # (the slack added makes the next look settle, whatever the rounding of `cover`)
            reach = np.where(
                np.isfinite(d), np.minimum(d, limit) + half + self.slack, np.minimum(2.0 * reach, see_all + self.slack)
            )
        far = dist > limit
        seg[far], dist[far] = -1, np.inf
        return seg, dist
