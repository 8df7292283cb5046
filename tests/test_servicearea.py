"""Service areas and catchments: exact areas by hand, and no place inside beyond the radius (brute force)."""

from __future__ import annotations

import math
import warnings

import networkx as nx
import numpy as np
import pytest
import shapely

from servicecircle.engine import DistanceEngine, snap_points
from servicecircle.engine.servicearea import QUAD_SEGS, catchments, facility_service_areas, service_areas
from servicecircle.engine.weighted import CostEngine
from servicecircle.errors import DataWarning
from servicecircle.network import network_from_arrays
from servicecircle.network.walking import edge_times, load_walking_groups

A = 50.0
#: the disc of radius A as the areas draw it: a regular polygon of 4 QUAD_SEGS sides inscribed in the circle
P = 2 * QUAD_SEGS * A**2 * math.sin(math.pi / (2 * QUAD_SEGS))


def sample_inside(area, rng, n, keep):
    """Up to ``keep`` of ``n`` random places in the area's bounds that lie inside it (at least 50)."""
    minx, miny, maxx, maxy = area.bounds
    pts = np.column_stack([rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)])
    inside = pts[shapely.contains_xy(area, pts[:, 0], pts[:, 1])][:keep]
    assert len(inside) > 50
    return inside


def test_straight_street_exact_area():
    """1000 m street, facility in the middle, 300 m: 500 m x 100 m (full allowance) + the two 50 m caps (one disc)."""
    net = network_from_arrays(np.array([[0, 0], [1000, 0]]), [0], [1], "EPSG:4544")
    eng = DistanceEngine(net, snap_points(net, np.array([[500.0, 0.0]])))
    area = service_areas(eng, [[0]], 300.0, A)[0]
    assert area.area == pytest.approx(500 * 100 + P, rel=1e-12)
    assert area.bounds == pytest.approx((200.0, -50.0, 800.0, 50.0))
    # 299 m along the street is inside, 301 m is not; and places off the street by their straight leg
    assert area.contains(shapely.Point(799, 0)) and not area.intersects(shapely.Point(801, 0))
    assert area.contains(shapely.Point(760, 45))  # 46.1 m off the street at 250 m: 296.1 m
    assert not area.intersects(shapely.Point(785, 40))  # at best 47.2 m off at 260 m: 307.2 m


def test_facility_off_the_street_uses_up_budget():
    net = network_from_arrays(np.array([[0, 0], [1000, 0]]), [0], [1], "EPSG:4544")
    eng = DistanceEngine(net, snap_points(net, np.array([[500.0, 20.0]])))  # 20 m access leg
    area = service_areas(eng, [[0]], 300.0, A)[0]
    # reached to 280 m each way; full allowance while 230 m: 460 m x 100 m + one disc
    assert area.area == pytest.approx(460 * 100 + P, rel=1e-12)


def test_t_junction_exact_area():
    """Main street along x, a 400 m stem south from (500, 0), facility at the junction, 300 m.

    Main: x 250..750 full width (500 x 100) + its two caps (one disc); stem: y -50..-250 beyond the main
    street's band (100 x 200) + its cap (half a disc outside the band... and the other half inside the stem's
    own rectangle end: the cap is a half disc below y = -250): 50000 + P + 20000 + P / 2.
    """
    net = network_from_arrays(np.array([[0, 0], [1000, 0], [500, 0], [500, -400]]), [0, 2, 2], [2, 1, 3], "EPSG:4544")
    eng = DistanceEngine(net, snap_points(net, np.array([[500.0, 0.0]])))
    area = service_areas(eng, [[0]], 300.0, A)[0]
    assert area.area == pytest.approx(70000 + 1.5 * P, rel=1e-12)
    assert area.bounds == pytest.approx((200.0, -300.0, 800.0, 50.0))


def test_elderly_five_minutes_on_the_flat():
    """5 minutes at the elderly's 0.94 m/s is 282 m: the straight street's area with 282 m."""
    net = network_from_arrays(np.array([[0, 0], [1000, 0]]), [0], [1], "EPSG:4544")
    g = load_walking_groups()["elderly"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        eng = CostEngine(net, snap_points(net, np.array([[500.0, 0.0]])), edge_times(net, g))
    area = service_areas(eng, [[0]], 300.0, A)[0]
    reach = 300 * g.flat_speed
    assert area.area == pytest.approx(2 * (reach - A) * 100 + P, rel=1e-9)


def test_catchments_split_at_the_meeting_point():
    net = network_from_arrays(np.array([[0, 0], [1000, 0]]), [0], [1], "EPSG:4544")
    eng = DistanceEngine(net, snap_points(net, np.array([[100.0, 0.0], [700.0, 0.0]])))
    fac, lines, areas = catchments(eng, [0, 1], 10_000.0, A)
    assert list(fac) == [0, 1]
    # meeting point at 400 m: facility 0 has 0..400, facility 1 has 400..1000
    assert lines[0].length == pytest.approx(400.0) and lines[1].length == pytest.approx(600.0)
    assert shapely.intersection(lines[0], lines[1]).length == pytest.approx(0.0)


def test_service_area_never_over_reaches_on_real_osm(oakland_network):
    """Points sampled inside per-facility areas are within the radius by networkx and a dense walk along the streets."""
    net = oakland_network
    rng = np.random.default_rng(82)
    deg = np.bincount(np.r_[net.edge_u, net.edge_v], minlength=net.n_nodes)
    fac_xy = net.node_xy[rng.choice(np.flatnonzero(deg >= 3), 3, replace=False)] + [12.0, 7.0]
    fac = snap_points(net, fac_xy, 100.0)
    assert fac.ok.all()
    eng = DistanceEngine(net, fac)
    r = 400.0
    areas = facility_service_areas(eng, [0, 1, 2], r, A)
    # networkx distances from each facility's snapped position (inserted by hand into its edge)
    g = nx.Graph()
    for e in range(net.n_edges):
        u, v, w = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length[e])
        if u != v and (not g.has_edge(u, v) or g[u][v]["weight"] > w):
            g.add_edge(u, v, weight=w)
    tree = shapely.STRtree(net.edge_geometry)
    checked = 0
    for f in range(3):
        e, off = int(fac.edge[f]), float(fac.offset[f])
        L = float(net.edge_length[e])
        h = g.copy()
        h.add_edge("F", int(net.edge_u[e]), weight=off)
        h.add_edge("F", int(net.edge_v[e]), weight=L - off)
        D = nx.single_source_dijkstra_path_length(h, "F", weight="weight")
        area = areas[f]
        assert area.area > 0
        inside = sample_inside(area, rng, 3000, 150)
        step = 0.25
        for p in inside:
            best = np.inf
            for c in tree.query(shapely.Point(p).buffer(A)):
                geom = net.edge_geometry[c]
                Lc = float(net.edge_length[c])
                s = np.r_[np.arange(0.0, Lc, step), Lc]
                q = shapely.get_coordinates(shapely.line_interpolate_point(geom, s))
                du = D.get(int(net.edge_u[c]), np.inf)
                dv = D.get(int(net.edge_v[c]), np.inf)
                netd = np.minimum(du + s, dv + (Lc - s))
                if c == e:
                    netd = np.minimum(netd, np.abs(s - off))
                leg = np.hypot(*(q - p).T)
                cand = np.where(leg <= A + 1e-9, leg + netd, np.inf)
                best = min(best, float(cand.min()))
            total = best + float(fac.access[f])
            assert total <= r + step + 1e-6, (f, p, total)
            checked += 1
    assert checked >= 150


def test_nothing_reached_is_an_empty_area():
    net = network_from_arrays(np.array([[0, 0], [1000, 0]]), [0], [1], "EPSG:4544")
    eng = DistanceEngine(net, snap_points(net, np.array([[500.0, 400.0]]), 250.0))  # too far: unsnapped
    assert service_areas(eng, [[0]], 300.0, A)[0].is_empty
    eng = DistanceEngine(net, snap_points(net, np.array([[500.0, 200.0]])))  # its access leg is 200 m
    assert service_areas(eng, [[0]], 150.0, A)[0].is_empty
    fac, lines, areas = catchments(eng, [0], 150.0, A)
    assert len(fac) == 0


def test_elderly_service_area_with_slope_never_over_reaches(oakland_network):
    """Hilly ground, elderly speed, 5 minutes: sampled places inside are within 300 s by networkx on the pieces."""
    from servicecircle.network.slope import terrain_from_function

    from .test_walking import hills, tobler

    net = oakland_network
    g = load_walking_groups()["elderly"]
    v0 = g.flat_speed
    terrain = terrain_from_function(net, hills, step=25.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        costs = edge_times(net, g, terrain)
    deg = np.bincount(np.r_[net.edge_u, net.edge_v], minlength=net.n_nodes)
    node = int(np.random.default_rng(5).choice(np.flatnonzero(deg >= 3)))
    eng = CostEngine(net, snap_points(net, net.node_xy[[node]]), costs)
    budget = 300.0
    area = service_areas(eng, [[0]], budget, A)[0]
    # networkx: the pieces as a directed graph, reversed, from the facility's node
    G = nx.DiGraph()
    starts = {}
    for k, e in enumerate(terrain.piece_edge):
        starts.setdefault(int(e), []).append(k)

    def pnode(e, k, ks):
        if k == ks[0]:
            return ("n", int(net.edge_u[e]))
        return ("p", e, k)

    for e, ks in starts.items():
        for j, k in enumerate(ks):
            a = pnode(e, k, ks)
            b = ("n", int(net.edge_v[e])) if j == len(ks) - 1 else ("p", e, ks[j + 1])
            grade = terrain.piece_rise[k] / terrain.piece_length[k] if terrain.piece_length[k] > 0 else 0.0
            L = float(terrain.piece_length[k])
            for x, y, gr in ((a, b, grade), (b, a, -grade)):
                w = L / tobler(gr, v0)
                if not G.has_edge(y, x) or G[y][x]["weight"] > w:
                    G.add_edge(y, x, weight=w)  # reversed: time from x to the facility
    D = nx.single_source_dijkstra_path_length(G, ("n", node), weight="weight")
    tree = shapely.STRtree(net.edge_geometry)
    rng = np.random.default_rng(6)
    inside = sample_inside(area, rng, 4000, 120)
    step = 0.25
    for p in inside:
        best = np.inf
        for c in tree.query(shapely.Point(p).buffer(A)):
            ks = starts[int(c)]
            Lc = float(net.edge_length[c])
            s = np.r_[np.arange(0.0, Lc, step), Lc]
            q = shapely.get_coordinates(shapely.line_interpolate_point(net.edge_geometry[c], s))
            kk = np.asarray(ks)[np.clip(np.searchsorted(terrain.piece_start[ks], s, side="right") - 1, 0, len(ks) - 1)]
            s0 = terrain.piece_start[kk]
            L = terrain.piece_length[kk]
            grade = np.where(L > 0, terrain.piece_rise[kk] / np.where(L > 0, L, 1), 0.0)
            d_left = np.array([D.get(pnode(int(c), int(k), ks), np.inf) for k in kk])
            j_next = [ks.index(int(k)) + 1 for k in kk]
            d_right = np.array(
                [D.get(("n", int(net.edge_v[c])) if j == len(ks) else ("p", int(c), ks[j]), np.inf) for j in j_next]
            )
            back = (s - s0) / np.array([tobler(-x, v0) for x in grade]) + d_left
            fwd = (s0 + L - s) / np.array([tobler(x, v0) for x in grade]) + d_right
            leg = np.hypot(*(q - p).T)
            cand = np.where(leg <= A + 1e-9, leg / v0 + np.minimum(back, fwd), np.inf)
            best = min(best, float(cand.min()))
        assert best <= budget + 2 * step / v0 + 1e-6, (p, best)


def test_a_category_area_is_the_union_of_its_facilities_areas(oakland_network):
    """The places within reach of some facility are those within reach of the nearest: one search, one each, or the
    catchments."""
    net = oakland_network
    rng = np.random.default_rng(7)
    deg = np.bincount(np.r_[net.edge_u, net.edge_v], minlength=net.n_nodes)
    fac = snap_points(net, net.node_xy[rng.choice(np.flatnonzero(deg >= 3), 5, replace=False)] + [9.0, -6.0], 100.0)
    eng = DistanceEngine(net, fac)
    for r in (150.0, 400.0):
        together = service_areas(eng, [np.arange(5)], r, A)[0]
        apart = shapely.union_all(facility_service_areas(eng, np.arange(5), r, A))
        assert together.area > 0
        assert shapely.symmetric_difference(together, apart).area < 1e-9 * together.area  # the same polygon
        # and the union of the catchments (how the checks build a category's area) is that polygon too
        fac, _, parts = catchments(eng, np.arange(5), r, A)
        assert len(fac) == 5
        by_catchment = shapely.union_all(parts)
        assert shapely.symmetric_difference(together, by_catchment).area < 1e-9 * together.area
