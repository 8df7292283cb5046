"""Points in a box: a uniform-grid bucket index over many points, in arrays.

:meth:`DistanceEngine.within <servicecircle.engine.distance.DistanceEngine.within>`
asks, for each chunk of facilities, which graph nodes and which demand points
lie in a box around them. A GEOS ``STRtree`` answers that, but it needs a
shapely point object per node first: for a million-node network, building the
points and the tree takes about 0.7 s in the parent process, before the
workers can start. :class:`PointGrid` sorts the points by cell once (one
``argsort``) and answers a box with a few contiguous slices, one per row of
cells, then keeps the points inside the box exactly (its edges included), so
the answer is the one ``STRtree.query(box)`` gives over the same points.

>>> import numpy as np
>>> grid = PointGrid.build(np.array([[0.0, 0.0], [5.0, 5.0], [10.0, 10.0], [5.0, 12.0]]))
>>> grid.query(0.0, 0.0, 5.0, 5.0).tolist()  # the box's edges belong to it
[0, 1]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["PointGrid"]

#: points per cell on average, when the points fill their extent evenly
POINTS_PER_CELL = 256


@dataclass(frozen=True)
class PointGrid:
    """Points bucketed into a grid of square cells, row by row.

    Attributes
    ----------
    n
        Points given (those with a ``nan`` coordinate are in no cell).
    order
        Point indices sorted by cell (row-major: row, then column).
    x, y
        The points' coordinates in that order (a box reads them as contiguous slices).
    starts
        ``starts[k]:starts[k + 1]`` are the positions in ``order`` of cell ``k``'s points.
    x0, y0, cell
        The grid's lower-left corner and cell size.
    nx, ny
        Columns and rows of cells.
    """

    n: int
    order: NDArray[np.int64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    starts: NDArray[np.int64]
    x0: float
    y0: float
    cell: float
    nx: int
    ny: int

    @classmethod
    def build(cls, xy: ArrayLike, cell: float | None = None) -> PointGrid:
        """Bucket ``xy`` (points with a ``nan`` coordinate are never found).

        ``cell``: the cell size; by default about :data:`POINTS_PER_CELL` points a cell.
        """
        pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        finite = np.isfinite(pts).all(axis=1)
        if finite.any():
            lo, hi = pts[finite].min(axis=0), pts[finite].max(axis=0)
        else:
            lo = hi = np.zeros(2)
        width, height = float(hi[0] - lo[0]), float(hi[1] - lo[1])
        n = int(finite.sum())
        if cell is None:
            cell = float(np.sqrt(max(width * height, 1.0) * POINTS_PER_CELL / max(n, 1)))
        cell = max(float(cell), 1e-9)
        while True:  # a few cells a point at most, whatever the extent's shape
            nx, ny = int(width // cell) + 1, int(height // cell) + 1
            if nx * ny <= max(4 * n, 16):
                break
            cell *= 2.0
        ix, iy = cls._cells(pts[finite], float(lo[0]), float(lo[1]), cell, nx, ny)
        keys = iy * nx + ix
        inside = np.flatnonzero(finite)
        sort = np.argsort(keys, kind="stable")
        order = inside[sort]
        starts = np.searchsorted(keys[sort], np.arange(nx * ny + 1))
        sx, sy = np.ascontiguousarray(pts[order, 0]), np.ascontiguousarray(pts[order, 1])
        corner = float(lo[0]), float(lo[1])
        return cls(len(pts), order.astype(np.int64), sx, sy, starts.astype(np.int64), *corner, cell, nx, ny)

    @staticmethod
    def _cells(
        pts: NDArray[np.float64], x0: float, y0: float, cell: float, nx: int, ny: int
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Column and row of each point (clipped to the grid; monotone in x and y)."""
        ix = np.clip(np.floor((pts[:, 0] - x0) / cell), 0, nx - 1).astype(np.int64)
        iy = np.clip(np.floor((pts[:, 1] - y0) / cell), 0, ny - 1).astype(np.int64)
        return ix, iy

    def __len__(self) -> int:
        return self.n

    def query(self, xmin: float, ymin: float, xmax: float, ymax: float) -> NDArray[np.int64]:
        """Indices (ascending) of the points with ``xmin <= x <= xmax`` and ``ymin <= y <= ymax``."""
        if not (xmin <= xmax and ymin <= ymax) or not len(self.order):
            return np.zeros(0, dtype=np.int64)
        corners = np.array([[xmin, ymin], [xmax, ymax]], dtype=np.float64)
        (c0, c1), (r0, r1) = self._cells(corners, self.x0, self.y0, self.cell, self.nx, self.ny)
        rows = np.arange(r0, r1 + 1) * self.nx
        lo, hi = self.starts[rows + c0], self.starts[rows + c1 + 1]  # a row's cells c0..c1 are one slice
        parts = []
        for a, b in zip(lo.tolist(), hi.tolist()):  # a loop over the box's rows of cells, not its points
            x, y = self.x[a:b], self.y[a:b]
            parts.append(self.order[a:b][(x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)])
        found = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        found.sort()
        return found
