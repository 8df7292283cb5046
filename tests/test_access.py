"""Gates, fences and private ways, on small OSM files written here: routes and lengths by hand."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pyproj
import pytest

from servicecircle.engine import DistanceEngine, snap_points
from servicecircle.engine.weighted import CostEngine
from servicecircle.errors import NetworkError
from servicecircle.network import load_network, network_from_arrays
from servicecircle.network.access import access_network_from_file, barrier_class

CRS = "EPSG:4544"
LON0, LAT0 = 104.06, 30.66


PLACES: dict[int, np.ndarray] = {}


def write_osm(path, nodes, ways):
    """nodes: {id: (x, y, tags)} in metres east/north of (LON0, LAT0); ways: {id: ([node ids], tags)}.

    Keeps every node's projected position in ``PLACES`` (the network's coordinates, whether or not the node
    stays a network node)."""
    to_gk = pyproj.Transformer.from_crs(4326, CRS, always_xy=True)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for nid, (x, y, tags) in nodes.items():
        lon = LON0 + x / (111320.0 * math.cos(math.radians(LAT0)))
        lat = LAT0 + y / 110574.0
        body = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append(f'<node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}">{body}</node>')
        PLACES[nid] = np.array(to_gk.transform(float(f"{lon:.7f}"), float(f"{lat:.7f}")))
    for wid, (refs, tags) in ways.items():
        body = "".join(f'<nd ref="{r}"/>' for r in refs) + "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append(f'<way id="{wid}" version="1">{body}</way>')
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def xy_of(net, osm_id):
    return PLACES[osm_id]


def route(net, ids):
    """Length of the walk through the OSM nodes ``ids`` (projected), by hand."""
    pts = [PLACES[i] for i in ids]
    return sum(math.dist(a, b) for a, b in zip(pts[:-1], pts[1:]))


def compound(tmp_path, gate_tags):
    """A street along y = 0 (nodes 1-4, x = 0..300, on to 10 at x = 700), a stub north from 4 to the gate 5
    at (300, 20), and the compound's private way 5 - 6 (150, 120) - 7 (0, 120)."""
    nodes = {
        1: (0, 0, {}),
        2: (100, 0, {}),
        3: (200, 0, {}),
        4: (300, 0, {}),
        5: (300, 20, gate_tags),
        6: (150, 120, {}),
        7: (0, 120, {}),
        10: (700, 0, {}),
    }
    ways = {
        100: ([1, 2, 3, 4], {"highway": "residential"}),
        103: ([4, 10], {"highway": "residential"}),
        101: ([4, 5], {"highway": "service"}),
        102: ([5, 6, 7], {"highway": "service", "access": "private"}),
    }
    return write_osm(tmp_path / "compound.osm", nodes, ways)


def quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


def test_compound_with_one_gate(tmp_path):
    path = compound(tmp_path, {"barrier": "gate", "access": "private"})
    today = quiet(load_network, path, crs=CRS, keep_components="all", use_cache=False)
    acc = quiet(access_network_from_file, path, CRS, "residents")
    net = acc.network
    kg = np.array([xy_of(net, 1)])  # on the street
    home = np.array([xy_of(net, 7)])  # inside the compound, at the end of its way
    # today: the private way is not in the network, the home snaps to the street across the fence (~120 m)
    eng0 = DistanceEngine(today, snap_points(today, kg))
    assert eng0.nearest([0], eng0.attach(snap_points(today, home)))[0] == pytest.approx(120.0, abs=1.0)
    # residents: out through the gate and round by the street
    eng = CostEngine(net, snap_points(net, kg), acc.metres())
    got = eng.nearest([0], eng.attach(snap_points(net, home)))[0]
    want = route(net, [7, 6, 5, 4, 3, 2, 1])
    assert got == pytest.approx(want, abs=1e-6)
    assert want > 600
    assert acc.info["private_ways"] == 1 and acc.info["private_nodes"] == 1 and acc.info["links"] >= 1
    # a facility inside the compound serves its residents only: from the street it cannot be reached
    inside = np.array([xy_of(net, 6)])
    eng_in = CostEngine(net, snap_points(net, inside), acc.metres())
    d = eng_in.nearest([0], eng_in.attach(snap_points(net, np.vstack([home, [xy_of(net, 2)]]))))
    assert d[0] == pytest.approx(route(net, [7, 6]), abs=1e-6)
    assert np.isinf(d[1])
    # the visitors' view: private ways closed, the home snaps to the street again
    pub = quiet(access_network_from_file, path, CRS, "public")
    assert pub.edge_private.sum() == 0 and not pub.link.any()


def test_gate_with_access_no(tmp_path):
    """A street 1 - 2 - 3 (x = 0, 100, 200) with a locked gate at 2, and a detour 1 - 8 (0, 100) - 9 (200, 100) - 3."""
    nodes = {
        1: (0, 0, {}),
        2: (100, 0, {"barrier": "gate", "access": "no"}),
        3: (200, 0, {}),
        8: (0, 100, {}),
        9: (200, 100, {}),
    }
    ways = {200: ([1, 2, 3], {"highway": "footway"}), 201: ([1, 8, 9, 3], {"highway": "residential"})}
    path = write_osm(tmp_path / "gate.osm", nodes, ways)
    today = quiet(load_network, path, crs=CRS, keep_components="all", use_cache=False)
    acc = quiet(access_network_from_file, path, CRS, "public")
    for net, ids in ((today, [3, 2, 1]), (acc.network, [3, 9, 8, 1])):
        fac = snap_points(net, np.array([xy_of(net, 3)]))
        eng = DistanceEngine(net, fac)
        d = eng.nearest([0], eng.attach(snap_points(net, np.array([xy_of(net, 1)]))))[0]
        assert d == pytest.approx(route(net, ids), abs=1e-6)
    assert acc.info["closed_nodes"] == 1
    # the gate stayed a node of the network (it is not simplified away) and is cut there: two ends, one per street
    n2 = acc.network
    assert (n2.node_id[np.r_[n2.edge_u, n2.edge_v]] == 2).sum() == 2
    assert len(np.unique(np.r_[n2.edge_u, n2.edge_v][n2.node_id[np.r_[n2.edge_u, n2.edge_v]] == 2])) == 2
    # foot=yes opens it again; a wall across a path closes it
    assert barrier_class({"barrier": "gate", "access": "no", "foot": "yes"}) == 0
    assert barrier_class({"barrier": "wall"}) == 2


def test_untagged_compound_behind_a_private_gate_is_private(tmp_path):
    """The gate is private but the compound's own ways carry no tag: they are the compound's interior all the same.

    (Which side of a private gate is the interior: the smaller part, by length, of the network it splits.)"""
    path = compound(tmp_path, {"barrier": "lift_gate", "access": "private"})
    text = path.read_text().replace('<tag k="access" v="private"/></way>', "</way>")
    path.write_text(text)
    acc = quiet(access_network_from_file, path, CRS, "residents")
    assert acc.info["private_ways"] == 0 and acc.info["enclosed_ways"] == 1
    pub = quiet(access_network_from_file, path, CRS, "public")
    assert not (pub.network.edge_way == 102).any()
    net = acc.network
    eng = CostEngine(net, snap_points(net, np.array([xy_of(net, 1)])), acc.metres())
    got = eng.nearest([0], eng.attach(snap_points(net, np.array([xy_of(net, 7)]))))[0]
    assert got == pytest.approx(route(net, [7, 6, 5, 4, 3, 2, 1]), abs=1e-6)


def test_residents_in_a_whole_run_and_the_changes_reported(tmp_path):
    import geopandas as gpd
    import shapely

    import servicecircle as sc

    path = compound(tmp_path, {"barrier": "gate", "access": "private"})
    net = quiet(load_network, path, crs=CRS, keep_components="all", use_cache=False)
    home, street_home = PLACES[7], PLACES[3] + [0.0, -5.0]
    comm = gpd.GeoDataFrame({"code": ["A"]}, geometry=[shapely.box(-50, -60, 750, 200)], crs=CRS)
    fac = gpd.GeoDataFrame({"category": ["kindergarten"]}, geometry=[shapely.Point(*PLACES[1])], crs=CRS)
    dem = gpd.GeoDataFrame({"hh": [1.0, 1.0]}, geometry=[shapely.Point(*home), shapely.Point(*street_home)], crs=CRS)
    kw = dict(demand=dem, weight_column="hh", id_column="code", progress=False)
    before = quiet(sc.assess, comm, fac, net, **kw)
    after = quiet(sc.assess, comm, fac, net, access_rules="residents", **kw)
    assert after.demand["dist_kindergarten"].iloc[0] == pytest.approx(route(net, [7, 6, 5, 4, 3, 2, 1]), abs=1e-6)
    assert after.demand["dist_kindergarten"].iloc[1] == pytest.approx(before.demand["dist_kindergarten"].iloc[1])
    table = after.layers["access_changes"].set_index("category")
    assert table.loc["kindergarten", "n_demand_changed"] == 1
    assert table.loc["kindergarten", "n_demand_farther"] == 1 and table.loc["kindergarten", "n_demand_nearer"] == 0
    change = after.demand["dist_kindergarten"].iloc[0] - before.demand["dist_kindergarten"].iloc[0]
    assert table.loc["kindergarten", "max_change_m"] == pytest.approx(change)
    assert "access_changes" in set(after.warnings["code"])
    # a network that did not come from an OSM file cannot take access rules
    arrays = network_from_arrays(np.array([[0.0, 0.0], [100.0, 0.0]]), [0], [1], CRS)
    with pytest.raises(sc.errors.OptionError, match="needs the network's OSM file"):
        sc.assess(comm, fac, arrays, access_rules="public", **kw)


def foot(p, a, b):
    """The nearest point of segment a-b to p, and how far it is (by hand)."""
    t = float(np.clip(np.dot(p - a, b - a) / np.dot(b - a, b - a), 0.0, 1.0))
    q = a + t * (b - a)
    return q, math.dist(p, q)


def test_parts_cut_off_from_the_streets_are_dropped_not_left_unreachable(tmp_path):
    """A street 1 - 3 - 4 - 2 (x = 0, 200, 300, 400); a stray footway 20 - 21 north of 3 joined to nothing (a school's
    inner path); a path 4 - 30 - 31 behind a locked gate at 30 (access=no), with a loop 31 - 32 beyond it.

    The school (at 3 + 40 m north) is nearest the stray footway, a home nearest the loop behind the gate. Left in,
    both parts would be islands: the school unreachable for everyone, the home unable to reach anything (the
    demo's 沙湾路小学 was such a school: +1,058 m on average for 529 homes). Dropped, both snap to the street."""
    nodes = {
        1: (0, 0, {}),
        3: (200, 0, {}),
        4: (300, 0, {}),
        2: (400, 0, {}),
        20: (180, 30, {}),
        21: (220, 30, {}),
        30: (330, 40, {"barrier": "gate", "access": "no"}),
        31: (360, 80, {}),
        32: (460, 80, {}),
    }
    ways = {
        100: ([1, 3, 4, 2], {"highway": "residential"}),
        200: ([20, 21], {"highway": "footway"}),
        300: ([4, 30, 31], {"highway": "footway"}),
        301: ([31, 32], {"highway": "footway"}),
    }
    path = write_osm(tmp_path / "islands.osm", nodes, ways)
    school = PLACES[3] + [0.0, 40.0]
    home = PLACES[32] + [-10.0, 3.0]
    acc = quiet(access_network_from_file, path, CRS, "public")
    assert acc.info["cut_off_parts"] == 2  # the stray footway; the gate's far side
    kept_all = quiet(access_network_from_file, path, CRS, "public", keep_components="all")
    # what was there before: the two islands (the stray footway; 30 - 31 - 32, one edge) besides the street
    assert kept_all.network.n_edges - acc.network.n_edges == 2 and 200 in kept_all.network.edge_way
    assert 200 not in acc.network.edge_way
    assert acc.info["cut_off_m"] == pytest.approx(route(acc.network, [20, 21]) + route(acc.network, [30, 31, 32]))
    net = acc.network
    eng = DistanceEngine(net, snap_points(net, school[None, :]))
    got = eng.nearest([0], eng.attach(snap_points(net, home[None, :])))[0]
    # by hand: the home walks straight to the street (the end 2 of 4 - 2: it is 50 m east of it, 83 m north), along
    # it to the school's foot on 1 - 3 and up its 40 m leg
    q_home, leg_home = foot(home, PLACES[4], PLACES[2])
    q_school, leg_school = foot(school, PLACES[1], PLACES[3])
    along = math.dist(q_home, PLACES[4]) + route(net, [4, 3]) + math.dist(PLACES[3], q_school)
    assert got == pytest.approx(leg_home + along + leg_school, abs=1e-6)
    assert leg_home == pytest.approx(math.hypot(50.0, 83.0), abs=0.5) and leg_school == pytest.approx(40.0, abs=0.5)
    with pytest.raises(NetworkError, match="keep_components"):
        access_network_from_file(path, CRS, "public", keep_components="some")


def test_cut_off_parts_in_a_whole_run_change_nothing_that_today_reaches(tmp_path):
    """The same streets in a whole run: with the rules, the school and the home are where today's network puts them
    (today's network drops the stray footway; it walks through the locked gate), and the run says what was dropped."""
    import geopandas as gpd
    import shapely

    import servicecircle as sc

    test_parts_cut_off_from_the_streets_are_dropped_not_left_unreachable(tmp_path)
    path = tmp_path / "islands.osm"
    net = quiet(load_network, path, crs=CRS, use_cache=False)  # largest part: the stray footway dropped
    school, street_home = PLACES[3] + [0.0, 40.0], PLACES[1] + [0.0, -5.0]
    comm = gpd.GeoDataFrame({"code": ["A"]}, geometry=[shapely.box(-50, -60, 500, 120)], crs=CRS)
    fac = gpd.GeoDataFrame({"category": ["primary_school"]}, geometry=[shapely.Point(*school)], crs=CRS)
    dem = gpd.GeoDataFrame({"hh": [1.0]}, geometry=[shapely.Point(*street_home)], crs=CRS)
    kw = dict(demand=dem, weight_column="hh", id_column="code", progress=False)
    before = quiet(sc.assess, comm, fac, net, **kw)
    after = quiet(sc.assess, comm, fac, net, access_rules="residents", **kw)
    q, leg = foot(school, PLACES[1], PLACES[3])
    want = 5.0 + math.dist(PLACES[1], q) + leg  # by hand, ± the 5 m leg's own projection
    assert after.demand["dist_primary_school"].iloc[0] == pytest.approx(want, abs=0.05)
    assert after.demand["dist_primary_school"].iloc[0] == pytest.approx(before.demand["dist_primary_school"].iloc[0])
    table = after.layers["access_changes"].set_index("category")
    assert table.loc["primary_school", "n_demand_changed"] == 0
    assert "access_cut_off" in set(after.warnings["code"])
