"""PointGrid: the points in a box, against a brute-force comparison and GEOS's STRtree."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from servicecircle.engine.pointgrid import PointGrid


def _brute(xy: np.ndarray, box: tuple[float, float, float, float]) -> list[int]:
    x0, y0, x1, y1 = box
    with np.errstate(invalid="ignore"):
        ok = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
    return np.flatnonzero(ok).tolist()


def _boxes(rng: np.random.Generator, lo: float, hi: float, n: int) -> list[tuple[float, float, float, float]]:
    a = rng.uniform(lo, hi, (n, 2))
    size = rng.exponential((hi - lo) / 10, (n, 2))
    # whole-number corners too: points on the integer lattice then lie on the boxes' edges
    a[: n // 2] = np.round(a[: n // 2])
    size[: n // 2] = np.round(size[: n // 2])
    return [(float(x), float(y), float(x + w), float(y + h)) for (x, y), (w, h) in zip(a, size)]


@pytest.mark.parametrize("cell", [None, 0.5, 7.0, 1000.0])
def test_boxes_find_exactly_the_points_inside_edges_included(cell):
    rng = np.random.default_rng(7)
    xy = np.vstack(
        [
            rng.uniform(0, 100, (3000, 2)),
            rng.integers(0, 100, (1000, 2)).astype(float),  # on box edges, and repeated
            np.repeat([[50.0, 50.0]], 20, axis=0),
        ]
    )
    grid = PointGrid.build(xy, cell)
    tree = shapely.STRtree(shapely.points(xy))
    found = 0
    for box in _boxes(rng, -20, 120, 400):
        got = grid.query(*box).tolist()
        assert got == _brute(xy, box)
        assert got == np.sort(tree.query(shapely.box(*box))).tolist()
        found += len(got)
    assert found > 10_000  # the boxes are not empty


def test_degenerate_inputs():
    empty = PointGrid.build(np.zeros((0, 2)))
    assert empty.query(0, 0, 1, 1).tolist() == []
    one = PointGrid.build(np.array([[3.0, 4.0]]))
    assert one.query(3, 4, 3, 4).tolist() == [0]  # a box that is a point
    assert one.query(3.0000001, 4, 5, 5).tolist() == []
    assert one.query(5, 5, 0, 0).tolist() == []  # an inverted box holds nothing
    assert one.query(np.nan, 0, 10, 10).tolist() == []
    same = PointGrid.build(np.repeat([[1.0, 1.0]], 5, axis=0))
    assert same.query(0, 0, 2, 2).tolist() == [0, 1, 2, 3, 4]
    with_nan = PointGrid.build(np.array([[0.0, 0.0], [np.nan, 1.0], [2.0, 2.0]]))
    assert with_nan.query(-np.inf, -np.inf, np.inf, np.inf).tolist() == [0, 2]


def test_a_long_thin_extent_keeps_the_grid_small():
    xy = np.column_stack([np.linspace(0, 1e7, 1000), np.zeros(1000)])
    grid = PointGrid.build(xy, cell=1e-3)  # a cell that small would make ten billion columns
    assert grid.nx * grid.ny <= 4 * len(xy)
    assert grid.query(0, -1, 5e6, 1).tolist() == _brute(xy, (0, -1, 5e6, 1))
