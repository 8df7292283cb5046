"""The distance engine against hand-computed values and a naive brute force."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import shapely

from servicecircle.engine import DistanceEngine, snap_points
from servicecircle.network import network_from_arrays

from .brute import node_distance_matrix, pair_distance, snap_brute

CRS = "EPSG:4544"


def line_net(length=100.0):
    return network_from_arrays(np.array([[0.0, 0.0], [length, 0.0]]), [0], [1], CRS)


def dist(net, facilities_xy, demand_xy, **kw):
    fac = snap_points(net, np.asarray(facilities_xy, dtype=float), **kw)
    eng = DistanceEngine(net, fac)
    tgt = eng.attach(snap_points(net, np.asarray(demand_xy, dtype=float), **kw))
    return eng, tgt, eng.nearest(np.arange(len(facilities_xy)), tgt)


# ---------------------------------------------------------------- hand cases
def test_straight_street_counts_both_access_legs():
    net = line_net(400.0)
    _, _, d = dist(net, [[50.0, 10.0]], [[350.0, -20.0]])
    assert d[0] == pytest.approx(10.0 + 300.0 + 20.0, abs=1e-9)


def test_two_points_on_one_edge_go_straight_along_it():
    # a long U-shaped edge whose ends are close: the straight walk along it is
    # shorter than leaving by either end
    coords = np.array([[0, 0], [0, 500], [100, 500], [100, 0]], dtype=float)
    net = network_from_arrays(
        np.array([[0.0, 0.0], [100.0, 0.0]]),
        [0],
        [1],
        CRS,
        geometry=np.array([shapely.LineString(coords)]),
    )
    assert net.edge_length[0] == pytest.approx(1100.0)
    _, _, d = dist(net, [[-5.0, 400.0]], [[-3.0, 100.0]])
    assert d[0] == pytest.approx(5.0 + 300.0 + 3.0, abs=1e-9)


def test_same_edge_facility_and_home_at_one_spot():
    net = line_net(100.0)
    _, _, d = dist(net, [[40.0, 7.0]], [[40.0, -2.0]])
    assert d[0] == pytest.approx(9.0, abs=1e-12)


def test_square_block_goes_round_the_shorter_way():
    # a 100 m square block; facility near corner A, home halfway along the
    # opposite side: 10 + (100 + 50) + 5 either way round
    xy = np.array([[0, 0], [100, 0], [100, 100], [0, 100]], dtype=float)
    net = network_from_arrays(xy, [0, 1, 2, 3], [1, 2, 3, 0], CRS)
    _, _, d = dist(net, [[-10.0, 0.0]], [[50.0, 105.0]])
    assert d[0] == pytest.approx(10.0 + 150.0 + 5.0, abs=1e-9)
    # facility below corner (100, 0), home at x = 60 on the top side: up the
    # right side and back 40 m (140) beats the way round by the left (260)
    _, _, d = dist(net, [[100.0, -10.0]], [[60.0, 105.0]])
    assert d[0] == pytest.approx(10.0 + 100.0 + 40.0 + 5.0, abs=1e-9)


def test_point_beyond_max_snap_is_unsnapped_and_reported():
    net = line_net(100.0)
    s = snap_points(net, np.array([[50.0, 300.0], [50.0, 250.0]]), max_snap=250.0)
    assert s.edge.tolist() == [-1, 0]
    assert s.access[0] == pytest.approx(300.0)  # the distance that was too far is kept
    eng, tgt, d = dist(net, [[0.0, 0.0]], [[50.0, 300.0], [50.0, 250.0]], max_snap=250.0)
    assert np.isnan(d[0])
    assert d[1] == pytest.approx(300.0)


def test_disconnected_component_is_unreachable():
    xy = np.array([[0, 0], [100, 0], [0, 1000], [100, 1000]], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = network_from_arrays(xy, [0, 2], [1, 3], CRS, keep_components="all")
    _, _, d = dist(net, [[10.0, 0.0]], [[50.0, 1000.0], [90.0, 0.0]])
    assert np.isinf(d[0])
    assert d[1] == pytest.approx(80.0)


def test_nearest_of_several_and_counts_within():
    net = line_net(1000.0)
    fac = [[100.0, 0.0], [500.0, 0.0], [900.0, 0.0]]
    eng, tgt, d = dist(net, fac, [[450.0, 0.0], [0.0, 0.0]])
    assert d.tolist() == pytest.approx([50.0, 100.0])
    s, t, dd = eng.within(np.arange(3), tgt, 400.0)
    pairs = {(int(a), int(b)): float(c) for a, b, c in zip(s, t, dd)}
    assert pairs == pytest.approx({(0, 0): 350.0, (1, 0): 50.0, (0, 1): 100.0})


def test_facility_exactly_at_radius_is_within():
    net = line_net(1000.0)
    eng, tgt, d = dist(net, [[0.0, 0.0]], [[300.0, 0.0]])
    assert d[0] == 300.0
    s, t, _ = eng.within(np.arange(1), tgt, 300.0)
    assert len(s) == 1


def test_distances_from_a_worker_are_remembered_for_the_same_search():
    net = line_net(1000.0)
    fac = snap_points(net, np.array([[100.0, 0.0], [900.0, 0.0], [500.0, 999.0]]), max_snap=50.0)
    eng = DistanceEngine(net, fac)  # facility 2 is off the network: a search from [0, 1, 2] is one from [0, 1]
    fresh = DistanceEngine(net, fac).node_distances([0, 1], 600.0)
    # node 0 at x=0, node 1 at x=1000; split nodes at 100 and 900
    assert fresh.tolist() == pytest.approx([100.0, 100.0, 0.0, 0.0])
    eng.remember([0, 1, 2], 600.0, fresh.copy())
    kept = eng.node_distances(np.array([True, True, False]), 600.0)
    assert kept.tolist() == fresh.tolist()
    assert eng.node_distances([0, 1], 600.0) is kept  # found, not searched again
    assert eng.node_distances([0, 1], None) is not kept  # another limit is another search
    with pytest.raises(ValueError, match="2 nodes"):
        eng.remember([0], None, np.zeros(2))


def test_facility_at_a_node_and_parallel_edges():
    # two parallel edges between the same nodes: one straight (100 m), one bent (~141 m)
    xy = np.array([[0, 0], [100, 0]], dtype=float)
    bent = shapely.LineString([[0, 0], [50, 50], [100, 0]])
    net = network_from_arrays(xy, [0, 0], [1, 1], CRS, geometry=np.array([shapely.LineString(xy), bent]))
    # facility on node 0 exactly; home on the bent edge's apex
    _, _, d = dist(net, [[0.0, 0.0]], [[50.0, 51.0]])
    assert d[0] == pytest.approx(1.0 + np.hypot(50, 50), abs=1e-9)


# ---------------------------------------------------- brute force, real OSM
def near_network(net, n, spread, seed):
    """Random points scattered around random places on the network."""
    rng = np.random.default_rng(seed)
    e = rng.integers(0, net.n_edges, n)
    on = shapely.line_interpolate_point(net.edge_geometry[e], rng.random(n), normalized=True)
    return shapely.get_coordinates(on) + rng.uniform(-spread, spread, (n, 2))


def test_snapping_matches_brute_force_on_real_osm(oakland_network):
    net = oakland_network
    pts = near_network(net, 300, 160.0, 7)
    s = snap_points(net, pts, max_snap=120.0)
    e, off, acc = snap_brute(net.edge_geometry, pts, 120.0)
    assert (s.edge >= 0).tolist() == (e >= 0).tolist()
    np.testing.assert_allclose(s.access, acc, atol=1e-6)
    ok = e >= 0
    # the snapped location is the same (edge ids may differ at exact ties)
    brute_xy = shapely.get_coordinates(shapely.line_interpolate_point(net.edge_geometry[e[ok]], off[ok]))
    np.testing.assert_allclose(s.xy[ok], brute_xy, atol=1e-6)


def test_distances_match_brute_force_on_real_osm(oakland_network):
    net = oakland_network
    fac_xy = near_network(net, 12, 60.0, 11)
    dem_xy = np.vstack([near_network(net, 150, 200.0, 12), fac_xy[:3] + 1.0])
    max_snap = 150.0
    fac = snap_points(net, fac_xy, max_snap=max_snap)
    eng = DistanceEngine(net, fac)
    tgt = eng.attach(snap_points(net, dem_xy, max_snap=max_snap))
    got = eng.nearest(np.arange(len(fac_xy)), tgt)

    fe, fo, fa = snap_brute(net.edge_geometry, fac_xy, max_snap)
    de, do, da = snap_brute(net.edge_geometry, dem_xy, max_snap)
    dm = node_distance_matrix(net.edge_u, net.edge_v, net.edge_length, net.n_nodes)
    pair = np.array(
        [
            [
                pair_distance(dm, net.edge_u, net.edge_v, net.edge_length, de[i], do[i], da[i], fe[j], fo[j], fa[j])
                for j in range(len(fac_xy))
            ]
            for i in range(len(dem_xy))
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.nanmin(np.where(np.isnan(pair), np.inf, pair), axis=1)
    want[de < 0] = np.nan
    assert np.isnan(got).tolist() == np.isnan(want).tolist()
    np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)
    assert np.isfinite(got).sum() > 100  # the check is not vacuous

    # every pair within 600 m, against the same brute force
    s, t, d = eng.within(np.arange(len(fac_xy)), tgt, 600.0, chunk=4)
    got_pairs = {(int(a), int(b)): float(c) for a, b, c in zip(s, t, d)}
    want_pairs = {
        (j, i): pair[i, j]
        for i in range(len(dem_xy))
        for j in range(len(fac_xy))
        if np.isfinite(pair[i, j]) and pair[i, j] <= 600.0
    }
    assert got_pairs.keys() == want_pairs.keys()
    assert len(want_pairs) > 50
    for k, v in want_pairs.items():
        assert got_pairs[k] == pytest.approx(v, abs=1e-6)


def test_bounded_search_is_exact_within_the_limit_against_networkx(oakland_network):
    """``node_distances(limit=L)`` (settings.max_distance): networkx's multi-source Dijkstra to L, inf beyond."""
    import networkx as nx

    net = oakland_network
    g = nx.Graph()
    for u, v, w in zip(net.edge_u.tolist(), net.edge_v.tolist(), net.edge_length.tolist()):
        if u != v and not (g.has_edge(u, v) and g[u][v]["weight"] <= w):
            g.add_edge(u, v, weight=w)
    big = sorted(max(nx.connected_components(g), key=len))
    rng = np.random.default_rng(21)
    src = rng.choice(big, 6, replace=False)
    eng = DistanceEngine(net, snap_points(net, net.node_xy[src], max_snap=1.0))  # facilities on nodes
    on = eng.source_node  # the node each one sits on (another node at the very same spot, maybe)
    assert (on >= 0).all() and (on < net.n_nodes).all()
    full = nx.multi_source_dijkstra_path_length(g, {int(s) for s in on}, weight="weight")
    limit = float(np.median(list(full.values())))  # half the nodes lie beyond it
    want = np.full(net.n_nodes, np.inf)
    for node, d in full.items():
        if d <= limit:
            want[node] = d
    got = eng.node_distances(np.arange(len(src)), limit)[: net.n_nodes]
    assert np.isinf(got).tolist() == np.isinf(want).tolist()
    np.testing.assert_allclose(got[np.isfinite(want)], want[np.isfinite(want)], atol=1e-6, rtol=0)
    assert 0.3 < np.isfinite(want).mean() < 0.7  # the bound really cut the search
    unbounded = eng.node_distances(np.arange(len(src)))[: net.n_nodes]
    reached = np.array([n in full for n in range(net.n_nodes)])
    np.testing.assert_allclose(unbounded[reached], [full[n] for n in np.flatnonzero(reached)], atol=1e-6, rtol=0)


def test_parallel_snapping_equals_serial_for_coordinates_and_geometries(oakland_network):
    from servicecircle.engine.snapping import snap_points_parallel

    x0, y0, x1, y1 = oakland_network.bounds
    rng = np.random.default_rng(5)
    xy = np.column_stack([rng.uniform(x0 - 300, x1 + 300, 2000), rng.uniform(y0 - 300, y1 + 300, 2000)])
    geoms = shapely.points(xy)
    geoms[[3, 77]] = [shapely.Point(), None]  # empty and missing points stay unsnapped
    serial = snap_points(oakland_network, geoms, 100.0)
    for given in (geoms, xy):
        par = snap_points_parallel(oakland_network, given, 100.0, workers=2)
        want = serial if given is geoms else snap_points(oakland_network, xy, 100.0)
        assert np.array_equal(par.edge, want.edge)
        np.testing.assert_array_equal(par.offset, want.offset)
        np.testing.assert_array_equal(par.access, want.access)
    assert serial.edge[3] == -1 and serial.edge[77] == -1 and (~serial.ok).sum() > 2


# ------------------------------------------- snapping: exact, against brute force
def assert_snaps_equal(s, want, *, tol=1e-9):
    """The same edge for every point; offset, access and xy to ``tol`` metres; the same points unsnapped."""
    e, off, acc, xy = want
    assert s.edge.tolist() == e.tolist()
    np.testing.assert_allclose(s.offset, off, atol=tol, rtol=0)
    np.testing.assert_allclose(s.access, acc, atol=tol, rtol=0)
    np.testing.assert_allclose(s.xy, xy, atol=tol, rtol=0)


def test_snapping_equals_a_brute_force_over_every_piece_on_real_osm(oakland_network):
    """Thousands of points, each against every straight piece of every edge (shapely.distance, no index)."""
    from .brute import edge_pieces, snap_brute_geos

    net = oakland_network
    a, b, _, _ = edge_pieces(net.edge_geometry)
    rng = np.random.default_rng(15)
    t = rng.random(len(a))[:, None]
    pts = np.vstack(
        [
            near_network(net, 3000, 150.0, 21),  # around the streets, some beyond max_snap
            net.node_xy,  # on nodes: every edge meeting there is 0 m away, the lowest wins
            a,  # on every vertex
            (a + b) / 2,  # on every piece's middle
            a + t * (b - a),  # somewhere on every piece
            np.round(near_network(net, 1000, 40.0, 22)),  # whole metres: more exact ties
        ]
    )
    for max_snap in (120.0, 30.0):
        want = snap_brute_geos(net.edge_geometry, pts, max_snap)
        s = snap_points(net, pts, max_snap)
        assert_snaps_equal(s, want)
        assert (s.edge < 0).sum() > 50 and (s.edge >= 0).sum() > 3000  # both kinds were exercised
        np.testing.assert_array_equal(s.access, want[2])  # the same GEOS distances, to the last bit
        far = snap_points(net, pts, max_snap, report_far=False)
        assert far.edge.tolist() == s.edge.tolist()
        assert np.isnan(far.access[s.edge < 0]).all()
        np.testing.assert_array_equal(far.access[s.edge >= 0], s.access[s.edge >= 0])


def test_segment_grid_finds_the_nearest_segment_whatever_the_cell_size():
    """Random segments (long and short, some of zero length) and points, against shapely.distance."""
    from servicecircle.network.segindex import SegmentGrid

    rng = np.random.default_rng(3)
    a = rng.uniform(0, 2000, (400, 2)) + [5.0e5, 3.4e6]
    b = a + rng.normal(0, 1, (400, 1)) * rng.choice([5.0, 80.0, 900.0], (400, 1)) * rng.normal(0, 1, (400, 2))
    b[:10] = a[:10]  # zero-length pieces
    b[10:20] = a[10:20] + [300.0, 0.0]  # axis-parallel, in pairs 10 m apart: exact ties half-way
    a[15:20], b[15:20] = a[10:15] + [0.0, 10.0], b[10:15] + [0.0, 10.0]
    pts = np.vstack([rng.uniform(-500, 2500, (1500, 2)) + [5.0e5, 3.4e6], a[:20], (a[10:15] + b[10:15]) / 2 + [0, 5]])
    d = shapely.distance(shapely.points(pts)[:, None], shapely.linestrings(np.stack([a, b], 1))[None, :])
    want_d = d.min(axis=1)
    want_s = np.argmin(d, axis=1)
    assert (d == want_d[:, None]).sum(axis=1).max() > 1  # some points have tied segments
    for cell in (None, 1.0, 7.0, 60.0, 5000.0):
        g = SegmentGrid.build(a, b, cell)
        for limit in (25.0, 300.0, np.inf):
            seg, dist = g.nearest(pts, limit)
            ok = want_d <= limit
            assert seg.tolist() == np.where(ok, want_s, -1).tolist(), (cell, limit)
            np.testing.assert_array_equal(dist, np.where(ok, want_d, np.inf))
    empty = SegmentGrid.build(np.zeros((0, 2)), np.zeros((0, 2)))
    assert empty.nearest(pts[:3], 100.0)[0].tolist() == [-1, -1, -1]


def test_snapping_hand_cases_ties_nodes_vertices_and_far_points():
    # edge 0: y = 10 from x = 0 to 100; edge 1: y = 0 from x = 100 to 0 (drawn the other way);
    # edge 2: a bent street (0, 0) -> (0, -50) -> (40, -80) (a vertex at (0, -50)); edge 3: 10 km long
    xy = np.array([[0, 10], [100, 10], [100, 0], [0, 0], [40, -80], [10_000, 0]], dtype=float)
    geom = [
        shapely.LineString([(0, 10), (100, 10)]),
        shapely.LineString([(100, 0), (0, 0)]),
        shapely.LineString([(0, 0), (0, -50), (40, -80)]),
        shapely.LineString([(100, 0), (10_000, 0)]),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # edge 0 is a part of its own
        net = network_from_arrays(xy, [0, 2, 3, 2], [1, 3, 4, 5], CRS, geometry=np.array(geom), keep_components="all")
    pts = np.array(
        [
            [30.0, 5.0],  # half-way between the parallel streets 0 and 1: a tie, edge 0 (the lower index)
            [30.0, 4.0],  # nearer street 1 (y = 0), which runs from x = 100: 70 m along it
            [0.0, 0.0],  # on node 3, where edges 1 and 2 meet: edge 1, at its far end (100 m)
            [0.0, -50.0],  # on the vertex of edge 2: 50 m along it
            [20.0, -65.0],  # on edge 2's second piece (3-4-5 triangle): 50 + 25 m along it, 0 m off
            [5_000.0, 7.0],  # 7 m off the middle of the 10 km street: 4900 m along it
            [5_000.0, 400.0],  # 400 m from every street: unsnapped, 400 m reported
            [100.0, 5.0],  # equidistant from node 1, node 2 and edge 3's start... 5 m from edges 0, 1, 3
        ]
    )
    s = snap_points(net, pts, 250.0)
    assert s.edge.tolist() == [0, 1, 1, 2, 2, 3, -1, 0]
    np.testing.assert_allclose(s.offset[:6], [30.0, 70.0, 100.0, 50.0, 75.0, 4_900.0], atol=1e-9, rtol=0)
    np.testing.assert_allclose(s.access, [5.0, 4.0, 0.0, 0.0, 0.0, 7.0, 400.0, 5.0], atol=1e-9, rtol=0)
    np.testing.assert_allclose(s.xy[:6], [[30, 10], [30, 0], [0, 0], [0, -50], [20, -65], [5_000, 0]], atol=1e-9)
    assert np.isnan(s.offset[6]) and np.isnan(s.xy[6]).all()
    assert s.offset[7] == pytest.approx(100.0, abs=1e-9)  # edge 0's end, (100, 10)
    # exactly at the limit still snaps; a hair beyond does not
    at = snap_points(net, np.array([[5_000.0, 250.0], [5_000.0, 250.000001]]), 250.0)
    assert at.edge.tolist() == [3, -1]


def test_snapping_empty_missing_and_non_finite_points_stay_unsnapped():
    net = line_net(100.0)
    geoms = np.array([shapely.Point(30, 4), None, shapely.Point(), shapely.Point(np.nan, 5), shapely.Point(60, -2)])
    s = snap_points(net, geoms)
    assert s.edge.tolist() == [0, -1, -1, -1, 0]
    assert np.isnan(s.access[1:4]).all() and np.isnan(s.offset[1:4]).all()
    np.testing.assert_allclose(s.offset[[0, 4]], [30.0, 60.0])
    c = snap_points(net, np.array([[30.0, 4.0], [np.nan, np.nan], [np.inf, 0.0]]))
    assert c.edge.tolist() == [0, -1, -1] and np.isnan(c.access[1:]).all()
    assert len(snap_points(net, np.zeros((0, 2)))) == 0
    with pytest.raises(ValueError, match="position 1 is a LineString"):
        snap_points(net, np.array([shapely.Point(1, 1), shapely.LineString([(0, 1), (5, 1)])]))
