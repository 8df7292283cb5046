"""Gap polygons follow their community's boundary exactly: a curved community, hand-computed reach."""

from __future__ import annotations

import numpy as np
import shapely

from servicecircle.checks.gaps import GapGrid, gap_polygons
from servicecircle.engine import DistanceEngine, snap_points
from servicecircle.network import network_from_arrays

RES = 20.0


def setup():
    # a street along y = 0, a facility at its west end: a place (x, y) with 0 <= x <= 1000 is x + |y| away
    net = network_from_arrays(np.array([[0.0, 0.0], [1000.0, 0.0]]), [0], [1], "EPSG:4544")
    eng = DistanceEngine(net, snap_points(net, np.array([[0.0, 0.0]])))
    comm = shapely.Point(500.0, 203.0).buffer(157.0, quad_segs=64)  # curved, off the street, not grid-aligned
    grid = GapGrid(eng, np.array([comm], dtype=object), [0], RES, 250.0)
    cell_dist = grid.distances(eng.node_distances([0]))
    return comm, grid, cell_dist


def test_gap_on_a_curved_community_stays_inside_and_reaches_its_boundary():
    comm, grid, cell_dist = setup()
    r = 560.0
    traced = gap_polygons(grid, cell_dist, r, np.array([0]))[0]
    fitted = gap_polygons(grid, cell_dist, r, np.array([0]), np.array([comm], dtype=object))[0]
    assert shapely.difference(traced, comm).area > 100  # the cells spill past the boundary
    assert shapely.difference(fitted, comm).area < 1e-6  # the fitted gap never does
    # exact gap: the part of the community with x + |y| > r; the fitted one differs only along the frontier
    far = shapely.Polygon([(r - 2000, 2000), (r + 2000, -2000), (r + 5000, 1000), (r + 1000, 5000)])  # x + y > r
    exact = shapely.intersection(comm, far)
    frontier = shapely.intersection(shapely.LineString([(r - 2000, 2000), (r + 2000, -2000)]), comm).length
    assert abs(fitted.area - exact.area) <= frontier * RES
    # along the boundary: every place clearly out of reach is in the gap (no sliver), none clearly in reach is
    ring = comm.exterior
    pts = shapely.line_interpolate_point(ring, np.linspace(0, ring.length, 720, endpoint=False))
    xy = shapely.get_coordinates(pts)
    d = xy[:, 0] + np.abs(xy[:, 1])
    out = d > r + 2 * RES
    inn = d < r - 2 * RES
    assert out.sum() > 100 and inn.sum() > 100
    assert (shapely.distance(fitted, pts[out]) < 1e-6).all()
    assert (shapely.distance(fitted, pts[inn]) > 1.0).all()
