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


def test_fitting_on_half_cells_equals_fitting_the_traced_polygons():
    # fit_on_grid (what gap_polygons uses) against fit_to_boundary on the traced gap and reach polygons,
    # an independent computation with buffers: curved, stretched and neighbouring communities, two
    # resolutions (one not dividing the street spacing), three radii (some communities all gap, some none)
    import shapely.affinity

    from servicecircle.checks.gaps import _trace, fit_on_grid, fit_to_boundary
    from servicecircle.checks.measure import within

    rng = np.random.default_rng(1)
    n = 12
    xy = np.array([(x, y) for y in np.arange(n) * 100.0 for x in np.arange(n) * 100.0])
    xy += rng.uniform(-8, 8, xy.shape)
    idx = np.arange(n * n).reshape(n, n)
    u = np.r_[idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    v = np.r_[idx[:, 1:].ravel(), idx[1:, :].ravel()]
    net = network_from_arrays(xy, u, v, "EPSG:4544")
    eng = DistanceEngine(net, snap_points(net, xy[[5, 70, 130]]))
    comms = []
    for i in range(4):
        for j in range(4):
            c = shapely.Point(150 + i * 260 + rng.uniform(-20, 20), 150 + j * 260).buffer(rng.uniform(90, 170))
            comms.append(shapely.affinity.scale(c, 1.3, 0.8) if (i + j) % 2 else c)
    comms_a = np.array(comms, dtype=object)
    which = np.arange(len(comms))
    compared = 0
    for res in (20.0, 13.7):
        grid = GapGrid(eng, comms_a, which, res, 250.0)
        cell_dist = grid.distances(eng.node_distances([0, 1, 2]))
        for r in (150.0, 250.0, 400.0):
            out = ~within(cell_dist, r)
            ref = fit_to_boundary(_trace(grid, out, which), _trace(grid, ~out, which), comms_a, grid.res)
            got = fit_on_grid(grid, out, which, comms_a)
            for a, b in zip(ref, got):
                assert (a is None) == (b is None)
                if a is not None:
                    assert b.is_valid and b.geom_type in ("Polygon", "MultiPolygon")
                    assert shapely.symmetric_difference(a, b).area < 1e-6 * max(a.area, 1.0)
                    compared += 1
    assert compared > 80


def test_atlas_places_every_window_apart_and_inside():
    from servicecircle.checks.gaps import _atlas

    rng = np.random.default_rng(7)
    for n in (1, 2, 17, 300):
        h = rng.integers(1, 40, n)
        w = rng.integers(1, 90, n)
        y, x, shape = _atlas(h, w)
        count = np.zeros(shape, dtype=int)
        for yi, xi, hi, wi in zip(y, x, h, w):  # brute force: paint every rectangle
            assert yi >= 0 and xi >= 0 and yi + hi <= shape[0] and xi + wi <= shape[1]
            count[yi : yi + hi, xi : xi + wi] += 1
        assert count.max() == 1  # no two overlap
        assert count.sum() == (h * w).sum()


def test_a_community_all_out_of_reach_is_its_polygon_where_its_grown_cells_cover_it():
    # all out of reach (radius 1 m): a square's gap is the square itself; a square with a 2 m wide tail
    # reaching 200 m past it (farther than two cells from any of its cells) is not covered, and its gap is
    # fitted as before: the square and the tail's first two cells, as fit_to_boundary computes it
    from servicecircle.checks.gaps import _trace, _whole_gaps, fit_on_grid, fit_to_boundary

    net = network_from_arrays(np.array([[0.0, 0.0], [1000.0, 0.0]]), [0], [1], "EPSG:4544")
    eng = DistanceEngine(net, snap_points(net, np.array([[0.0, 0.0]])))
    square = shapely.box(103.0, 101.0, 297.0, 299.0)
    tailed = shapely.union(shapely.box(503.0, 101.0, 697.0, 299.0), shapely.box(697.0, 191.0, 897.0, 193.0))
    comms = np.array([square, tailed], dtype=object)
    grid = GapGrid(eng, comms, [0, 1], RES, 250.0)
    cover = _whole_gaps(grid)[1]
    assert cover.tolist() == [True, False]
    out = np.ones(len(grid.cells), dtype=bool)
    which = np.array([0, 1])
    ref = fit_to_boundary(_trace(grid, out, which), _trace(grid, ~out, which), comms, grid.res)
    copies = np.array([shapely.from_wkb(shapely.to_wkb(g)) for g in comms], dtype=object)  # not the grid's own
    for given in (comms, copies):
        got = fit_on_grid(grid, out, which, given)
        assert shapely.equals(got[0], square)
        assert shapely.symmetric_difference(got[1], ref[1]).area < 1e-6 * ref[1].area
        # the tail is cut two cells past the last cell whose centre is in the community (x = 690 m)
        assert abs(got[1].area - (tailed.area - 2.0 * (897.0 - 740.0))) < 1e-6


def test_a_grid_without_cells_traces_no_gap():
    # a community smaller than a cell holds no cell centre: the grid has no cell, and its gap is None
    from servicecircle.checks.gaps import _whole_gaps, fit_on_grid

    net = network_from_arrays(np.array([[0.0, 0.0], [1000.0, 0.0]]), [0], [1], "EPSG:4544")
    eng = DistanceEngine(net, snap_points(net, np.array([[0.0, 0.0]])))
    comms = np.array([shapely.box(101.0, 101.0, 105.0, 105.0)], dtype=object)
    grid = GapGrid(eng, comms, [0], RES, 250.0)
    assert len(grid.cells) == 0
    assert len(_whole_gaps(grid)[0]) == 0
    assert fit_on_grid(grid, np.zeros(0, dtype=bool), np.array([0]), comms).tolist() == [None]
