"""Green and park reach ("300 米见绿、500 米见园"), hand-computed."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely

import servicecircle as sc
from servicecircle.checks.greenspace import access_points, merge_green_spaces
from servicecircle.network import network_from_arrays

CRS = "EPSG:4544"


@pytest.fixture
def street():
    """A straight 2 km street along the x axis."""
    return network_from_arrays(np.array([[0.0, 0.0], [2000.0, 0.0]]), [0], [1], CRS)


def gdf(geoms, **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=CRS)


def run(street, homes, weights, parks, *, residents=None, community=None, **kw):
    comm = gdf(
        [community or shapely.box(-100, -100, 2100, 2100)],
        code=["C"],
        residents=[residents if residents is not None else float(sum(weights))],
    )
    fac = gdf([shapely.Point(1990, 0)], category=["kindergarten"])
    dem = gdf([shapely.Point(*h) for h in homes], w=weights)
    green = gdf(parks, name=[f"p{i}" for i in range(len(parks))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sc.assess(comm, fac, street, demand=dem, weight_column="w", greenspace=green, id_column="code", **kw)


def test_park_reached_at_its_edge_not_its_centroid(street):
    park = shapely.box(450, 10, 1250, 810)  # 64 ha; edge samples every 20 m hit the corner (450, 10)
    a = run(street, [(0, 0)], [1.0], [park])
    d = a.demand["dist_park"].iloc[0]
    assert d == pytest.approx(450 + 10, abs=1e-6)  # along the street, then 10 m to the park's corner
    centroid = park.centroid
    assert centroid.distance(shapely.Point(0, 0)) > 500  # a centroid buffer would miss it
    assert a.communities["cov_park_reach"].iloc[0] == 100.0
    assert bool(a.communities["pass_park_reach"].iloc[0])


def test_a_park_with_many_access_points_counts_once(street):
    one = shapely.box(100, 10, 300, 110)  # 2 ha
    two = shapely.box(400, 10, 600, 110)  # 2 ha
    a = run(street, [(200, 0), (350, 0), (1500, 0)], [1.0, 1.0, 1.0], [one, two])
    assert a.demand["n_park_500m"].tolist() == [2, 2, 0]
    spaces = a.layers["greenspace"]
    assert spaces["n_access"].tolist() == [30, 30]  # 600 m of boundary every 20 m
    assert a.communities["cov_park_reach"].iloc[0] == pytest.approx(200 / 3)


def test_small_gardens_do_not_count_and_touching_parts_merge(street):
    tiny = shapely.box(100, 10, 115, 30)  # 300 m² < 400 m²
    halves = [shapely.box(1000, 10, 1050, 110), shapely.box(1050, 10, 1100, 110)]  # 0.5 ha + 0.5 ha = 1 ha
    a = run(street, [(110, 0), (1075, -5)], [1.0, 1.0], [tiny, *halves])
    spaces = a.layers["greenspace"]
    assert spaces["area_m2"].tolist() == pytest.approx([300.0, 10_000.0])
    assert spaces["is_green"].tolist() == [False, True] and spaces["is_park"].tolist() == [False, True]
    dist_green = a.demand["dist_green"].tolist()
    # the 300 m² garden next door does not count: the merged park is 890 m along the street + 10 m
    assert dist_green[0] == pytest.approx(890 + 10, abs=1e-6)
    # 5 m to the street, 5 m along it to the edge sample at x = 1080 (samples every 20 m from a corner),
    # 10 m to the park edge
    assert dist_green[1] == pytest.approx(5 + 5 + 10, abs=1e-6)


def test_home_inside_a_park_is_at_distance_zero(street):
    park = shapely.box(500, 200, 700, 400)
    a = run(street, [(600, 300)], [1.0], [park])
    assert a.demand["dist_park"].iloc[0] == 0.0
    assert a.demand["n_park_500m"].iloc[0] == 1


def test_park_area_per_resident_against_16(street):
    park = shapely.box(500, 200, 660, 300)  # 16 000 m²
    a = run(street, [(0, 0)], [1.0], [park], residents=1000.0)
    assert a.communities["green_m2_per_resident"].iloc[0] == pytest.approx(16.0)
    assert bool(a.communities["pass_park_area_per_resident"].iloc[0])
    row = a.scorecard.set_index("target_key").loc["park_area_per_resident"]
    assert row["value"] == pytest.approx(16.0) and row["target"] == 16.0 and row["passed"]


def test_access_point_methods():
    net = network_from_arrays(np.array([[0.0, 0.0], [400.0, 0.0], [200.0, 0.0], [200.0, 300.0]]), [0, 2], [2, 3], CRS)
    net_edges = net.n_edges
    assert net_edges >= 2
    spaces = merge_green_spaces(np.array([shapely.box(100, 100, 300, 250)]))
    # a path (x = 200) enters the park through its bottom edge and leaves through its top edge
    xy, owner, how = access_points(spaces, net, method="boundary_crossings", spacing=20)
    assert sorted(map(tuple, np.round(xy, 6))) == [(200.0, 100.0), (200.0, 250.0)]
    assert how.tolist() == ["boundary_crossings"]
    # entrances: a mapped gate near the edge wins; a park without one falls back
    xy, owner, how = access_points(
        spaces, net, method="entrances", spacing=20, entrances=np.array([[150.0, 95.0], [1000.0, 1000.0]])
    )
    assert xy.tolist() == [[150.0, 95.0]] and how.tolist() == ["entrances"]


def test_green_spaces_count_for_the_six_ones_open_green_item(street):
    park = shapely.box(100, 10, 300, 110)  # 2 ha, 100 m along the street from the home
    a = run(street, [(0, 0)], [1.0], [park])
    assert a.communities["six_public_green"].iloc[0] == "inside"
    far = run(street, [(0, 0)], [1.0], [shapely.box(150, 10, 350, 110)], community=shapely.box(-100, -100, 120, 100))
    assert far.communities["six_public_green"].iloc[0] == "within_300m"  # 150 + 10 m away, not inside
