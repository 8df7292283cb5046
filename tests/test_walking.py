"""Walking time by group and slope: hand-computed ramps and bridges, a brute-force check on real OSM."""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import networkx as nx
import numpy as np
import pyproj
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

import servicecircle as sc
from servicecircle.engine import snap_points
from servicecircle.engine.weighted import CostEngine
from servicecircle.errors import DataWarning, InputDataError
from servicecircle.network import network_from_arrays
from servicecircle.network.slope import edge_terrain, is_structure, sample_dem, terrain_from_function
from servicecircle.network.walking import edge_times, load_walking_groups

from .conftest import SHARED
from .test_population import write_tif

GROUPS = load_walking_groups()
ADULT = GROUPS["adult"]
ELDERLY = GROUPS["elderly"]


def tobler(grade, v0):
    """Tobler (1993): 6 exp(-3.5 |s + 0.05|) km/h, scaled so the flat is v0 m/s (written out again, by hand)."""
    return v0 * math.exp(-3.5 * abs(grade + 0.05)) / math.exp(-3.5 * 0.05)


def write_dem(path, z, x0, y0, res, crs, nodata=-9999.0):
    """A one-band float32 GeoTIFF whose cell (row r, col c) centre is (x0 + (c+.5) res, y0 - (r+.5) res)."""
    write_tif(path, z, crs=crs, transform=from_origin(x0, y0, res, res), nodata=nodata)


def ramp_dem(tmp_path, grade, crs="EPSG:4544", x0=-100.0, y0=100.0):
    """A plane rising ``grade`` per metre eastwards, 10 m cells, covering x -100..500, y -100..100."""
    res = 10.0
    cols = np.arange(60)
    xc = x0 + (cols + 0.5) * res
    z = np.tile(grade * xc, (20, 1))
    path = tmp_path / "ramp.tif"
    write_dem(path, z, x0, y0, res, crs)
    return path


# ------------------------------------------------------------------------------------------------ groups
def test_groups_are_cited_and_adult_is_tobler_flat():
    assert set(GROUPS) >= {"adult", "elderly", "parent_child", "wheelchair"}
    for g in GROUPS.values():
        assert g.source and g.flat_speed > 0
    # adult: Tobler's function on the flat, 6 exp(-0.175) km/h
    assert ADULT.flat_speed == pytest.approx(6 * math.exp(-0.175) / 3.6, abs=1e-3)
    assert ADULT.confirmed and not ELDERLY.confirmed
    assert "steps" in GROUPS["wheelchair"].closed_highway


def test_bad_group_file(tmp_path):
    bad = tmp_path / "g.toml"
    bad.write_text("[x]\nflat_speed_m_s = -1\n")
    with pytest.raises(InputDataError, match="positive flat_speed"):
        load_walking_groups(bad)


def test_unconfirmed_speed_warns():
    net = network_from_arrays(np.array([[0.0, 0.0], [100.0, 0.0]]), [0], [1], "EPSG:4544")
    with pytest.warns(DataWarning, match="not confirmed"):
        edge_times(net, ELDERLY)


# ------------------------------------------------------------------------------------------------ ramp
def test_ramp_with_known_grade_by_hand(tmp_path):
    """A 200 m street up an 8 % plane (from a GeoTIFF): Tobler by hand, each way, for adults and the elderly."""
    dem = ramp_dem(tmp_path, 0.08)
    net = network_from_arrays(np.array([[0.0, 0.0], [200.0, 0.0]]), [0], [1], "EPSG:4544")
    terrain = edge_terrain(net, dem, structures=None)
    assert terrain.n_unknown == 0
    assert terrain.piece_rise.sum() == pytest.approx(16.0, abs=1e-9)
    for g in (ADULT, ELDERLY):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            c = edge_times(net, g, terrain)
        up = 200 / tobler(0.08, g.flat_speed)
        down = 200 / tobler(-0.08, g.flat_speed)
        assert c.directed
        assert c.forward[0] == pytest.approx(up, rel=1e-9)
        assert c.backward[0] == pytest.approx(down, rel=1e-9)
    # adults: 200 m up 8 % = 200 / (1.399 e^{-0.28}) = 189.2 s; down = 200 / (1.399 e^{0.07}) = 133.3 s
    c = edge_times(net, ADULT, terrain)
    assert c.forward[0] == pytest.approx(200 / (1.399 * math.exp(-3.5 * 0.13 + 0.175)), rel=1e-12)
    assert round(float(c.forward[0]), 1) == 189.2 and round(float(c.backward[0]), 1) == 133.3

    # the engine: a facility at the top (x = 200, 6 m off the street), homes along the ramp
    eng = CostEngine(net, snap_points(net, np.array([[200.0, 6.0]])), c)
    homes = eng.attach(snap_points(net, np.array([[0.0, 0.0], [50.0, 4.0], [150.0, 0.0]])))
    got = eng.nearest([0], homes)
    v0 = ADULT.flat_speed
    up = tobler(0.08, v0)
    want = [200 / up + 6 / v0, 4 / v0 + 150 / up + 6 / v0, 50 / up + 6 / v0]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # and the other way round: a facility at the bottom, homes walk down
    eng = CostEngine(net, snap_points(net, np.array([[0.0, 0.0]])), c)
    homes = eng.attach(snap_points(net, np.array([[200.0, 0.0], [120.0, 0.0]])))
    np.testing.assert_allclose(eng.nearest([0], homes), [200 / tobler(-0.08, v0), 120 / tobler(-0.08, v0)])


def test_flat_time_is_metres_over_speed_and_undirected():
    net = network_from_arrays(np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 80.0]]), [0, 1], [1, 2], "EPSG:4544")
    c = edge_times(net, ADULT)
    assert not c.directed
    eng = CostEngine(net, snap_points(net, np.array([[30.0, 2.0]])), c)
    homes = eng.attach(snap_points(net, np.array([[100.0, 50.0], [10.0, -1.0]])))
    np.testing.assert_allclose(eng.nearest([0], homes) * ADULT.flat_speed, [2 + 70 + 50, 2 + 20 + 1], rtol=1e-12)


def test_dem_in_another_crs(tmp_path):
    """A DEM in lon/lat under a network in Gauss-Krüger: elevation linear in longitude is read back exactly."""
    lon0, lat0, res = 104.0, 30.7, 0.0002
    z = np.tile(1000.0 * (lon0 + (np.arange(80) + 0.5) * res - lon0), (80, 1))  # 1000 m per degree of longitude
    dem = tmp_path / "lonlat.tif"
    write_dem(dem, z, lon0, lat0, res, "EPSG:4326")
    to_gk = pyproj.Transformer.from_crs(4326, 4544, always_xy=True)
    lon = lon0 + np.array([0.002, 0.004, 0.009, 0.0123])
    lat = lat0 - np.array([0.003, 0.006, 0.002, 0.0101])
    x, y = to_gk.transform(lon, lat)
    got = sample_dem(dem, np.column_stack([x, y]), "EPSG:4544")
    np.testing.assert_allclose(got, 1000.0 * (lon - lon0), atol=1e-6)


def test_the_dem_is_read_in_inputs_once_and_sampled_from_memory(tmp_path):
    """sc.read_elevation reads the window of cells under the network; the slope code samples that grid."""
    dem = ramp_dem(tmp_path, 0.08)  # 60 x 20 cells of 10 m over x -100..500, y -100..100
    grid = sc.read_elevation(dem, bounds=(0.0, -5.0, 200.0, 5.0), bounds_crs="EPSG:4544")
    assert isinstance(grid, sc.ElevationGrid) and grid.source == str(dem)
    # x 0..200 is columns 10..30, y -5..5 rows 9..11, widened by 2 cells each way
    assert (grid.col0, grid.row0, grid.width, grid.height) == (8, 7, 24, 6)
    assert sc.read_elevation(dem).values.shape == (20, 60)  # no bounds: the whole raster
    net = network_from_arrays(np.array([[0.0, 0.0], [200.0, 0.0]]), [0], [1], "EPSG:4544")
    t = edge_terrain(net, grid, structures=None)
    assert t.n_unknown == 0 and t.source == str(dem)
    assert t.piece_rise.sum() == pytest.approx(16.0, abs=1e-9)  # 8 % of 200 m
    # a grid that does not reach the street: every piece unknown, flat, with a warning
    far = sc.read_elevation(dem, bounds=(5000.0, 5000.0, 5100.0, 5100.0), bounds_crs="EPSG:4544")
    assert far.values.size == 0
    with pytest.warns(DataWarning, match="no elevation"):
        assert edge_terrain(net, far, structures=None).n_unknown > 0
    with pytest.raises(InputDataError, match="DEM file not found"):
        sc.read_elevation(tmp_path / "none.tif")


def test_nodata_is_unknown_and_flat_with_a_warning(tmp_path):
    res = 10.0
    z = np.tile(0.1 * (-100 + (np.arange(60) + 0.5) * res), (20, 1))
    z[:, 20:] = -9999.0  # nodata east of x = 100
    dem = tmp_path / "holes.tif"
    write_dem(dem, z, -100.0, 100.0, res, "EPSG:4544")
    net = network_from_arrays(np.array([[0.0, 0.0], [200.0, 0.0]]), [0], [1], "EPSG:4544")
    with pytest.warns(DataWarning, match="no elevation"):
        terrain = edge_terrain(net, dem, structures=None)
    assert terrain.n_unknown > 0
    assert (terrain.piece_rise[~terrain.piece_known] == 0).all()
    c = edge_times(net, ADULT, terrain)
    known = terrain.piece_known
    # the known part climbs 10 %; the unknown part is walked as flat
    want = terrain.piece_length[known].sum() / tobler(0.1, ADULT.flat_speed) + terrain.piece_length[~known].sum() / (
        ADULT.flat_speed
    )
    assert c.forward[0] == pytest.approx(want, rel=1e-9)


def test_real_srtm_tile_has_nodata_and_is_read():
    tif = SHARED / "fixtures" / "elevation1.tif"
    if not tif.exists():
        pytest.skip("shared SRTM fixture not found")
    with rasterio.open(tif) as src:
        band = src.read(1)
        nod = np.argwhere(band == src.nodata)
        good = np.argwhere(band != src.nodata)
        r, c = good[len(good) // 2]
        centre = src.xy(r, c)
        rn, cn = nod[0]
        hole = src.xy(rn, cn)
        want = float(band[r, c])
    to_utm = pyproj.Transformer.from_crs(4326, 32610, always_xy=True)
    x, y = to_utm.transform([centre[0], hole[0]], [centre[1], hole[1]])
    got = sample_dem(tif, np.column_stack([x, y]), "EPSG:32610")
    # at a cell centre bilinear returns the cell's own value (to the reprojection's round trip)
    assert got[0] == pytest.approx(want, abs=0.05)
    assert np.isnan(got[1])


# ------------------------------------------------------------------------------------------------ bridges
def valley_dem(tmp_path):
    """Ground at 50 m except a 20 m deep valley between x = 120 and 280 (a V, bottom at x = 200)."""
    res = 10.0
    xc = -100 + (np.arange(60) + 0.5) * res
    ground = np.where((xc > 120) & (xc < 280), 50.0 - 20.0 * (1 - np.abs(xc - 200) / 80), 50.0)
    path = tmp_path / "valley.tif"
    write_dem(path, np.tile(ground, (20, 1)), -100.0, 100.0, res, "EPSG:4544")
    return path


def test_bridge_over_a_valley_takes_no_terrain(tmp_path):
    dem = valley_dem(tmp_path)
    xy = np.array([[0.0, 0.0], [100.0, 0.0], [300.0, 0.0], [400.0, 0.0]])
    net = network_from_arrays(xy, [0, 1, 2], [1, 2, 3], "EPSG:4544")
    # as tags on the edge (A-B ground, B-C bridge, C-D ground)
    bridged = replace(net, edge_tags={**net.edge_tags, "bridge": np.array(["", "yes", ""], dtype=object)})
    t = edge_terrain(bridged, dem, structures=None)
    c = edge_times(bridged, ADULT, t)
    v0 = ADULT.flat_speed
    np.testing.assert_allclose(c.forward, [100 / v0, 200 / v0, 100 / v0], rtol=1e-9)
    np.testing.assert_allclose(c.backward, c.forward, rtol=1e-9)
    # the same street without the tag dives into the valley: down 20 m over 80 m and up again (25 % grades)
    t0 = edge_terrain(net, dem, structures=None)
    c0 = edge_times(net, ADULT, t0)
    assert c0.forward[1] > 200 / v0 * 1.5
    # as a line (one straight 400 m edge with the bridge mapped as its own way from x = 100 to 300)
    one = network_from_arrays(xy[[0, 3]], [0], [1], "EPSG:4544")
    deck = shapely.linestrings([[100.0, 0.0], [300.0, 0.0]])
    t1 = edge_terrain(one, dem, structures=np.array([deck]))
    assert t1.piece_structure.sum() > 0
    assert np.abs(t1.piece_rise).max() == pytest.approx(0.0, abs=1e-9)
    assert edge_times(one, ADULT, t1).forward[0] == pytest.approx(400 / v0, rel=1e-9)
    # a tunnel and layer=-1 are structures too; layer=0 and bridge=no are not
    assert is_structure({"tunnel": "yes"}) and is_structure({"layer": "-1"})
    assert not is_structure({"bridge": "no", "layer": "0"})


def test_bridge_between_uneven_abutments_climbs_evenly():
    net = network_from_arrays(np.array([[0.0, 0.0], [200.0, 0.0]]), [0], [1], "EPSG:4544")
    net = replace(net, edge_tags={**net.edge_tags, "bridge": np.array(["viaduct"], dtype=object)})
    # ground: 10 m at x=0, 30 m at x=200, a 40 m deep gorge between
    t = terrain_from_function(net, lambda x, y: np.where((x > 0) & (x < 200), -40.0, 10.0 + x / 10))
    np.testing.assert_allclose(t.piece_grade, 0.1, atol=1e-12)


# ------------------------------------------------------------------------------------------------ groups' limits
def test_wheelchair_cannot_take_steps_or_a_steep_ramp(tmp_path):
    net = network_from_arrays(np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 50.0]]), [0, 1, 0], [1, 2, 2], "EPSG:4544")
    net = replace(net, edge_tags={**net.edge_tags, "highway": np.array(["steps", "footway", "footway"], dtype=object)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        c = edge_times(net, GROUPS["wheelchair"])
    assert np.isinf(c.forward[0]) and np.isinf(c.backward[0])
    eng = CostEngine(net, snap_points(net, np.array([[100.0, 0.0]])), c)
    homes = eng.attach(snap_points(net, np.array([[0.0, 0.0]])))
    # around: 0 -> (100, 50) -> (100, 0)
    want = (math.hypot(100, 50) + 50) / GROUPS["wheelchair"].flat_speed
    assert eng.nearest([0], homes)[0] == pytest.approx(want, rel=1e-12)
    # an 8 % ramp is fine for a wheelchair, a 10 % one is not
    ramp = network_from_arrays(np.array([[0.0, 0.0], [200.0, 0.0]]), [0], [1], "EPSG:4544")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        ok = edge_times(ramp, GROUPS["wheelchair"], terrain_from_function(ramp, lambda x, y: 0.08 * x))
        steep = edge_times(ramp, GROUPS["wheelchair"], terrain_from_function(ramp, lambda x, y: 0.10 * x))
    assert np.isfinite(ok.forward[0]) and np.isinf(steep.forward[0]) and np.isinf(steep.backward[0])


# ------------------------------------------------------------------------------------------------ brute force
def hills(x, y):
    return 30.0 * np.sin(x / 150.0) * np.cos(y / 220.0) + 0.02 * x


def naive_times(net, terrain, v0, fac, homes):
    """Time from every home to its nearest facility: networkx Dijkstra on the pieces, points inserted by hand."""
    g = nx.DiGraph()
    pts_on = {}
    for kind, s in (("f", fac), ("h", homes)):
        for i in np.flatnonzero(s.ok):
            pts_on.setdefault(int(s.edge[i]), []).append((float(s.offset[i]), (kind, int(i))))
    starts = {}
    for k in range(len(terrain.piece_edge)):
        starts.setdefault(int(terrain.piece_edge[k]), []).append(k)
    for e, ks in starts.items():
        L = float(net.edge_length[e])
        marks = [(0.0, ("n", int(net.edge_u[e]))), (L, ("n", int(net.edge_v[e])))]
        for k in ks[1:]:
            marks.append((float(terrain.piece_start[k]), ("p", e, k)))
        marks += pts_on.get(e, [])
        marks.sort(key=lambda m: (m[0], m[1][0] != "n" or m[0] > 0))
        for (sa, na), (sb, nb) in zip(marks[:-1], marks[1:]):
            if sb - sa <= 0:
                if na != nb:
                    g.add_edge(na, nb, weight=0.0)
                    g.add_edge(nb, na, weight=0.0)
                continue
            mid = (sa + sb) / 2
            k = ks[int(np.searchsorted(terrain.piece_start[ks], mid, side="right")) - 1]
            grade = terrain.piece_rise[k] / terrain.piece_length[k] if terrain.piece_length[k] > 0 else 0.0
            for a, b, gr in ((na, nb, grade), (nb, na, -grade)):
                w = (sb - sa) / tobler(gr, v0)
                if not g.has_edge(a, b) or g[a][b]["weight"] > w:
                    g.add_edge(a, b, weight=w)
    # reversed: Dijkstra from the facilities over reversed arcs = time from each node to its nearest facility
    r = g.reverse(copy=True)
    src = "SRC"
    for i in np.flatnonzero(fac.ok):
        r.add_edge(src, ("f", int(i)), weight=float(fac.access[i]) / v0)
    dist = nx.single_source_dijkstra_path_length(r, src, weight="weight")
    out = np.full(len(homes), np.nan)
    for i in np.flatnonzero(homes.ok):
        out[i] = dist.get(("h", int(i)), np.inf) + homes.access[i] / v0
    return out


def test_time_distances_match_networkx_on_real_osm(oakland_network):
    net = oakland_network
    terrain = terrain_from_function(net, hills, step=25.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        costs = edge_times(net, ELDERLY, terrain)
    rng = np.random.default_rng(14)
    lo, hi = np.array(net.bounds[:2]), np.array(net.bounds[2:])
    fac_xy = lo + rng.random((25, 2)) * (hi - lo)
    home_xy = lo + rng.random((400, 2)) * (hi - lo)
    fac = snap_points(net, fac_xy, 200.0)
    homes = snap_points(net, home_xy, 200.0)
    eng = CostEngine(net, fac, costs)
    got = eng.nearest(np.arange(len(fac_xy)), eng.attach(homes))
    want = naive_times(net, terrain, ELDERLY.flat_speed, fac, homes)
    both = np.isfinite(want)
    assert both.sum() > 200
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(want))
    np.testing.assert_allclose(got[both], want[both], rtol=0, atol=1e-6)
    # uphill and downhill differ: the same pairs walked the other way give other times somewhere
    assert costs.directed and np.abs(costs.forward - costs.backward).max() > 1.0
