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
