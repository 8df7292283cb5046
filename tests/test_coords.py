"""Tests for servicecircle.coords: Chinese web-map datums, CRS parsing, metric CRS choice.

Expected values are published reference values, hand-derived facts or
independent checks (pyproj's own EPSG definitions, pyproj.Geod distances,
real Amap POIs against OpenStreetMap), never output of the code under test.
"""

from __future__ import annotations

import csv
import gzip
import math
import warnings
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from servicecircle.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    choose_metric_crs,
    gauss_kruger_epsg,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    is_geographic,
    out_of_china,
    parse_crs,
    transform_geometry_array,
    utm_epsg,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from servicecircle.errors import CRSError, DataWarning

from .conftest import CHENGDU_OSM, amap_parks

GEOD = pyproj.Geod(ellps="WGS84")

ALL_FUNCS = [
    wgs84_to_gcj02,
    gcj02_to_wgs84,
    gcj02_to_bd09,
    bd09_to_gcj02,
    wgs84_to_bd09,
    bd09_to_wgs84,
]


def metres(lon1, lat1, lon2, lat2):
    """Geodesic distance in metres (WGS84 ellipsoid)."""
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


@pytest.fixture(scope="module")
def china_grid():
    """WGS84 points every 0.5 degrees over China's extent (73.5-135 E, 18-53.5 N)."""
    lon, lat = np.meshgrid(np.arange(73.5, 135.01, 0.5), np.arange(18.0, 53.51, 0.5))
    return lon.ravel(), lat.ravel()


# --------------------------------------------------------------------------
# Published reference values
# --------------------------------------------------------------------------

# From googollee/eviltransform, python/test.py (TESTS; also go/transform_test.go),
# https://github.com/googollee/eviltransform: (wgsLat, wgsLng, gcjLat, gcjLng).
EVILTRANSFORM_WGS_GCJ = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]

# From the README of wandergis/coordtransform (the npm "coordtransform"
# package), https://github.com/wandergis/coordtransform, "Example&Usage":
#   wgs84togcj02(116.404, 39.915) -> [116.41024449916938, 39.91640428150164]
#   gcj02tobd09(116.404, 39.915)  -> [116.41036949371029, 39.92133699351021]
#   bd09togcj02(116.404, 39.915)  -> [116.39762729119315, 39.90865673957631]  (one-step)
#   gcj02towgs84(116.404, 39.915) -> [116.39775550083061, 39.91359571849836]  (one-step)


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVILTRANSFORM_WGS_GCJ)
def test_wgs84_to_gcj02_matches_eviltransform_vectors(wlat, wlon, glat, glon):
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=1e-9)
    assert lat == pytest.approx(glat, abs=1e-9)


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVILTRANSFORM_WGS_GCJ)
def test_gcj02_to_wgs84_recovers_eviltransform_vectors(wlat, wlon, glat, glon):
    lon, lat = gcj02_to_wgs84(glon, glat)
    # the published GCJ values carry ~1e-14 deg of rounding: far below 1 mm
    assert metres(lon, lat, wlon, wlat) < 1e-3


def test_forward_transforms_match_coordtransform_readme():
    lon, lat = wgs84_to_gcj02(116.404, 39.915)
    assert (lon, lat) == pytest.approx((116.41024449916938, 39.91640428150164), abs=1e-9)
    lon, lat = gcj02_to_bd09(116.404, 39.915)
    assert (lon, lat) == pytest.approx((116.41036949371029, 39.92133699351021), abs=1e-9)


def test_iterative_inverses_are_close_to_but_better_than_published_one_step_values():
    # coordtransform's one-step inverses are published; ours must land within
    # a metre of them and, unlike them, map back onto the input exactly.
    one_step_bd = (116.39762729119315, 39.90865673957631)
    gcj = bd09_to_gcj02(116.404, 39.915)
    assert 0 < metres(*gcj, *one_step_bd) < 1.0
    assert gcj02_to_bd09(*gcj) == pytest.approx((116.404, 39.915), abs=1e-10)
    assert metres(*gcj02_to_bd09(*one_step_bd), 116.404, 39.915) > 0.01

    one_step_gcj = (116.39775550083061, 39.91359571849836)
    wgs = gcj02_to_wgs84(116.404, 39.915)
    assert 0 < metres(*wgs, *one_step_gcj) < 2.0
    assert wgs84_to_gcj02(*wgs) == pytest.approx((116.404, 39.915), abs=1e-10)
    assert metres(*wgs84_to_gcj02(*one_step_gcj), 116.404, 39.915) > 0.01


def test_offsets_have_the_documented_size_around_meishan():
    # standards.md section 5: GCJ-02 ~370 m off WGS84 around Meishan, BD-09 a further ~900 m
    lon, lat = 103.83, 30.05
    gcj = wgs84_to_gcj02(lon, lat)
    bd = gcj02_to_bd09(*gcj)
    assert 300 < metres(lon, lat, *gcj) < 450
    assert 700 < metres(*gcj, *bd) < 1100


# --------------------------------------------------------------------------
# Round trips and the one-step inverse
# --------------------------------------------------------------------------


def test_wgs_gcj_round_trip_over_china(china_grid):
    lon, lat = china_grid
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert np.max(np.abs(back_lon - lon)) < 1e-9
    assert np.max(np.abs(back_lat - lat)) < 1e-9
    # and the other way round, starting from GCJ-02 coordinates
    fwd_lon, fwd_lat = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert np.max(np.abs(fwd_lon - lon)) < 1e-9
    assert np.max(np.abs(fwd_lat - lat)) < 1e-9


def test_one_step_inverse_is_off_by_metres_iterative_by_less_than_a_millimetre(china_grid):
    lon, lat = china_grid
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    # The one-step inverse, computed here by hand: subtract the offset found
    # at the GCJ-02 point, i.e. g - (f(g) - g).
    f_lon, f_lat = wgs84_to_gcj02(gcj_lon, gcj_lat)
    one_lon, one_lat = 2 * gcj_lon - f_lon, 2 * gcj_lat - f_lat
    one_step_error = metres(one_lon, one_lat, lon, lat)
    iterative_error = metres(*gcj02_to_wgs84(gcj_lon, gcj_lat), lon, lat)
    assert one_step_error.max() > 0.1
    assert one_step_error.max() > 1.0  # metres, in fact
    assert iterative_error.max() < 1e-3


def test_bd09_round_trips(china_grid):
    lon, lat = china_grid
    back = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert np.max(np.abs(back[0] - lon)) < 1e-9
    assert np.max(np.abs(back[1] - lat)) < 1e-9
    back = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert np.max(np.abs(back[0] - lon)) < 1e-9
    assert np.max(np.abs(back[1] - lat)) < 1e-9
    # BD-09 is GCJ-02 plus a further shift
    gcj = wgs84_to_gcj02(lon, lat)
    np.testing.assert_allclose(wgs84_to_bd09(lon, lat), gcj02_to_bd09(*gcj), rtol=0, atol=1e-12)
    assert metres(*bd09_to_wgs84(*wgs84_to_bd09(lon, lat)), lon, lat).max() < 1e-3


# --------------------------------------------------------------------------
# Outside China, input kinds
# --------------------------------------------------------------------------

OUTSIDE = [
    (-0.1276, 51.5072),  # London
    (151.2093, -33.8688),  # Sydney
    (-74.006, 40.7128),  # New York
    (100.0, 60.0),  # Siberia, north of the box
    (140.0, 35.0),  # east of the box
    (71.0, 40.0),  # west of the box
]


@pytest.mark.parametrize("func", ALL_FUNCS)
@pytest.mark.parametrize(("lon", "lat"), OUTSIDE)
def test_outside_china_passes_through_unchanged(func, lon, lat):
    assert out_of_china(lon, lat)
    assert func(lon, lat) == (lon, lat)


@pytest.mark.parametrize("func", ALL_FUNCS)
def test_mixed_inside_and_outside_arrays(func):
    lon = np.array([104.06, -0.1276, 103.83, 151.2093])
    lat = np.array([30.66, 51.5072, 30.05, -33.8688])
    out_lon, out_lat = func(lon, lat)
    assert out_of_china(lon, lat).tolist() == [False, True, False, True]
    assert out_lon[[1, 3]].tolist() == lon[[1, 3]].tolist()
    assert out_lat[[1, 3]].tolist() == lat[[1, 3]].tolist()
    assert np.all(np.abs(out_lon[[0, 2]] - lon[[0, 2]]) > 1e-4)
    # vectorised result equals the point-by-point one
    for i in range(len(lon)):
        assert func(lon[i], lat[i]) == pytest.approx((out_lon[i], out_lat[i]), abs=1e-12)


@pytest.mark.parametrize("func", ALL_FUNCS)
def test_input_kinds_and_shapes(func):
    lon, lat = func(104.06, 30.66)
    assert type(lon) is float and type(lat) is float
    lon, lat = func(np.float32(104.06), 30)  # numpy scalar, int
    assert type(lon) is float and type(lat) is float
    grid_lon = np.array([[104.0, 104.1], [104.2, 104.3]])
    lon, lat = func(grid_lon, 30.66)  # broadcasting, 2-D shape kept
    assert isinstance(lon, np.ndarray) and lon.shape == (2, 2) and lat.shape == (2, 2)
    lon, lat = func([104.06, 103.83], [30.66, 30.05])  # lists
    assert isinstance(lon, np.ndarray) and lon.dtype == np.float64 and lon.shape == (2,)
    lon, lat = func(np.array([]), np.array([]))
    assert lon.shape == (0,) and lat.shape == (0,)


@pytest.mark.parametrize("func", ALL_FUNCS)
def test_nan_stays_nan_and_does_not_spoil_others(func):
    lon, lat = func(np.array([np.nan, 104.06]), np.array([30.0, 30.66]))
    assert np.isnan(lon[0])
    assert np.isfinite(lon[1]) and np.isfinite(lat[1])
    assert (lon[1], lat[1]) == pytest.approx(func(104.06, 30.66), abs=1e-12)


def test_inputs_are_not_modified():
    lon = np.array([104.06, 103.83])
    lat = np.array([30.66, 30.05])
    gcj02_to_wgs84(lon, lat)
    wgs84_to_bd09(lon, lat)
    assert lon.tolist() == [104.06, 103.83] and lat.tolist() == [30.66, 30.05]


# --------------------------------------------------------------------------
# Geometries
# --------------------------------------------------------------------------


def test_transform_geometry_array_matches_point_functions():
    square = Polygon([(104.0, 30.6), (104.01, 30.6), (104.01, 30.61), (104.0, 30.61)])
    line = LineString([(104.05, 30.65), (104.06, 30.66)])
    geoms = np.array([Point(104.06, 30.66), line, square, None, Point()], dtype=object)
    out = transform_geometry_array(geoms, gcj02_to_wgs84)
    assert isinstance(out, np.ndarray) and out.shape == (5,)
    assert out[3] is None
    assert out[4].is_empty
    for before, after in zip(geoms[:3], out[:3], strict=True):
        xy = shapely.get_coordinates(before)
        expected = np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1]))
        np.testing.assert_allclose(shapely.get_coordinates(after), expected, rtol=0, atol=1e-12)
        assert after.geom_type == before.geom_type
    # the input is not modified
    assert shapely.get_coordinates(geoms[0]).tolist() == [[104.06, 30.66]]


def test_transform_geometry_array_keeps_z():
    geoms = np.array([Point(104.06, 30.66, 512.5), Point(104.07, 30.67)], dtype=object)
    out = transform_geometry_array(geoms, wgs84_to_gcj02)
    assert shapely.has_z(out).tolist() == [True, False]
    xyz = shapely.get_coordinates(out[0], include_z=True)[0]
    assert xyz[2] == 512.5
    assert (xyz[0], xyz[1]) == pytest.approx(wgs84_to_gcj02(104.06, 30.66), abs=1e-12)
    assert shapely.get_coordinates(out[1]).tolist() == [list(wgs84_to_gcj02(104.07, 30.67))]


def test_transform_geometry_array_geoseries_and_single_geometry():
    series = gpd.GeoSeries([Point(104.06, 30.66), Point(-0.1276, 51.5072)], index=["a", "b"], crs="EPSG:4326", name="g")
    out = transform_geometry_array(series, bd09_to_wgs84)
    assert isinstance(out, gpd.GeoSeries)
    assert list(out.index) == ["a", "b"] and out.name == "g" and out.crs == series.crs
    assert (out["a"].x, out["a"].y) == pytest.approx(bd09_to_wgs84(104.06, 30.66), abs=1e-12)
    assert (out["b"].x, out["b"].y) == (-0.1276, 51.5072)  # outside China: unchanged
    single = transform_geometry_array(Point(104.06, 30.66), gcj02_to_bd09)
    assert isinstance(single, Point)
    assert (single.x, single.y) == pytest.approx(gcj02_to_bd09(104.06, 30.66), abs=1e-12)


# --------------------------------------------------------------------------
# parse_crs
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    ["gcj02", "GCJ-02", "gcj", "GCJ_02", " Amap ", "gaode", "Tencent", "高德"],
)
def test_parse_crs_gcj02_names(spec):
    assert parse_crs(spec) == "gcj02"
    assert is_geographic(spec)


@pytest.mark.parametrize("spec", ["bd09", "BD-09", "bd09ll", "Baidu", "BAIDU", "百度"])
def test_parse_crs_bd09_names(spec):
    assert parse_crs(spec) == "bd09"


@pytest.mark.parametrize(
    ("spec", "epsg"),
    [
        ("EPSG:4326", 4326),
        ("epsg:4326", 4326),
        ("4326", 4326),
        (4326, 4326),
        (np.int64(4544), 4544),
        ("wgs84", 4326),
        ("WGS 84", 4326),
        ("WGS-84", 4326),
        ("cgcs2000", 4490),
        ("CGCS2000", 4490),
        ("EPSG:4544", 4544),
        (pyproj.CRS.from_epsg(4544).to_wkt(), 4544),
    ],
)
def test_parse_crs_pyproj_specs(spec, epsg):
    crs = parse_crs(spec)
    assert isinstance(crs, pyproj.CRS)
    assert crs.to_epsg() == epsg


def test_parse_crs_passes_crs_objects_through():
    crs = pyproj.CRS.from_epsg(4490)
    assert parse_crs(crs) is crs
    assert is_geographic(crs)
    assert not is_geographic("EPSG:4544")


@pytest.mark.parametrize(
    "spec",
    [
        "gcj03",
        "mars-grid",
        "EPSG:999999",
        "bd09mc",
        "",
        "   ",
        None,
        True,
        12.5,
        "not a crs\nat all",
    ],
)
def test_parse_crs_refuses_unknown_specs(spec):
    with pytest.raises(CRSError) as info:
        parse_crs(spec)
    message = str(info.value)
    assert "\n" not in message
    assert "gcj02" in message and "bd09" in message and "EPSG:" in message  # lists what is accepted
    if isinstance(spec, str) and spec.strip():
        assert " ".join(spec.split()) in message  # names the spec
    elif not isinstance(spec, str):
        assert repr(spec) in message


# --------------------------------------------------------------------------
# Gauss-Krüger and UTM zones
# --------------------------------------------------------------------------


def _central_meridian(crs: pyproj.CRS) -> float:
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    return params["Longitude of natural origin"]


def test_epsg_4544_is_the_105e_zone_per_pyproj():
    crs = pyproj.CRS.from_epsg(4544)
    assert _central_meridian(crs) == 105.0
    assert gauss_kruger_epsg(105.0) == 4544


@pytest.mark.parametrize("code", range(4534, 4555))
def test_every_gauss_kruger_zone_against_pyproj(code):
    # Independent check: pyproj's EPSG database gives each code's central meridian.
    crs = pyproj.CRS.from_epsg(code)
    cm = _central_meridian(crs)
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    assert crs.geodetic_crs.to_epsg() == 4490  # CGCS2000
    assert params["False easting"] == 500000.0  # no zone number in the easting
    assert params["Scale factor at natural origin"] == 1.0
    assert crs.is_projected and {a.unit_name for a in crs.axis_info} == {"metre"}
    assert cm % 3 == 0 and 75 <= cm <= 135
    for lon in (cm - 1.49, cm - 0.5, cm, cm + 0.5, cm + 1.49):
        assert gauss_kruger_epsg(lon) == code


@pytest.mark.parametrize(
    ("lon", "code"),
    [
        (103.8, 4544),  # Meishan downtown, CM 105
        (103.0, 4543),  # Hongya, CM 102
        (104.08, 4544),  # Chengdu, CM 105
        (87.6, 4538),  # Urumqi, CM 87
        (73.5, 4534),  # west edge of the first zone
        (136.49, 4554),  # east edge of the last zone
        (103.5, 4544),  # exactly on a zone line: the east zone
    ],
)
def test_gauss_kruger_epsg_places(lon, code):
    assert gauss_kruger_epsg(lon) == code


@pytest.mark.parametrize("lon", [73.49, 136.5, 140.0, -0.1, float("nan")])
def test_gauss_kruger_epsg_outside_range(lon):
    assert gauss_kruger_epsg(lon) is None


@pytest.mark.parametrize(
    ("lon", "lat", "code"),
    [
        (103.8, 30.05, 32648),  # Meishan: 102-108 E is zone 48
        (-0.1276, 51.5072, 32630),  # London
        (151.2093, -33.8688, 32756),  # Sydney
        (-74.006, 40.7128, 32618),  # New York
        (5.32, 60.39, 32632),  # Bergen: the widened 32V zone
        (15.6, 78.2, 32633),  # Longyearbyen, Svalbard
        (180.0, 10.0, 32660),
        (-180.0, -10.0, 32701),
    ],
)
def test_utm_epsg(lon, lat, code):
    assert utm_epsg(lon, lat) == code


def test_utm_epsg_matches_pyproj_query():
    # Independent check against pyproj's own UTM lookup for a few points.
    for lon, lat in [(103.8, 30.05), (87.6, 43.8), (-58.4, -34.6), (2.35, 48.85)]:
        infos = pyproj.database.query_utm_crs_info(
            datum_name="WGS 84",
            area_of_interest=pyproj.aoi.AreaOfInterest(lon, lat, lon, lat),
        )
        assert utm_epsg(lon, lat) in {int(i.code) for i in infos}


# --------------------------------------------------------------------------
# choose_metric_crs
# --------------------------------------------------------------------------


def _no_warnings(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return func(*args, **kwargs)


def test_choose_metric_crs_meishan_and_chengdu():
    assert _no_warnings(choose_metric_crs, (103.75, 29.98, 103.90, 30.12)).to_epsg() == 4544
    chengdu_osm_bounds = (104.0421, 30.6528, 104.1296, 30.7279)  # data/SOURCES.md
    assert _no_warnings(choose_metric_crs, chengdu_osm_bounds).to_epsg() == 4544
    assert _no_warnings(choose_metric_crs, np.array([87.5, 43.7, 87.7, 43.9])).to_epsg() == 4538


def test_choose_metric_crs_warns_when_the_data_span_two_zones():
    hongya = (102.82, 29.4, 103.53, 30.0)  # 102°49'-103°32' E crosses the 103.5 E zone line
    with pytest.warns(DataWarning) as record:
        crs = choose_metric_crs(hongya)
    assert crs.to_epsg() == 4543  # centre 103.175 E: the 102 E zone
    spans = [w.message for w in record if w.message.code == "crs_zone_span"]
    assert len(spans) == 1
    text = str(spans[0])
    assert "EPSG:4543" in text and "EPSG:4544" in text
    assert "using EPSG:4543" in text
    assert "\n" not in text


def test_choose_metric_crs_falls_back_to_utm():
    london = (-0.2, 51.45, -0.05, 51.55)
    assert _no_warnings(choose_metric_crs, london).to_epsg() == 32630
    # in the Gauss-Krüger longitudes but far north of China
    assert _no_warnings(choose_metric_crs, (100.0, 60.0, 100.2, 60.1)).to_epsg() == 32647
    # in the Gauss-Krüger longitudes but south of 3 N
    assert _no_warnings(choose_metric_crs, (104.0, -6.3, 104.2, -6.1)).to_epsg() == 32748


def test_choose_metric_crs_user_crs():
    assert choose_metric_crs((0, 0, 1, 1), crs="EPSG:4544").to_epsg() == 4544
    assert choose_metric_crs((0, 0, 1, 1), crs=32648).to_epsg() == 32648
    compound = choose_metric_crs(None, crs="EPSG:4544+5737")  # with 1985 Yellow Sea heights
    assert compound.is_compound


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("EPSG:4326", "EPSG:4326"),
        (4490, "4490"),
        ("gcj02", "gcj02"),
        ("EPSG:2249", "EPSG:2249"),  # projected, but in US survey feet
    ],
)
def test_choose_metric_crs_refuses_non_metric_crs(spec, named):
    with pytest.raises(CRSError) as info:
        choose_metric_crs((103.75, 29.98, 103.90, 30.12), crs=spec)
    message = str(info.value)
    assert named in message
    assert "EPSG:4544" in message and "projected" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "bounds",
    [
        (500000.0, 3300000.0, 510000.0, 3310000.0),  # projected metres, not degrees
        (104.0, 30.0, 104.1),
        (104.1, 30.0, 104.0, 30.1),  # min > max
        (104.0, float("nan"), 104.1, 30.1),
        "104,30,105,31",
    ],
)
def test_choose_metric_crs_refuses_bad_bounds(bounds):
    with pytest.raises(CRSError):
        choose_metric_crs(bounds)


# --------------------------------------------------------------------------
# Real data: Amap POIs (GCJ-02) against OpenStreetMap (WGS84), central Chengdu
# --------------------------------------------------------------------------


def _osm_park_centroid(name: str) -> tuple[float, float]:
    """Centroid (lon, lat) of the OSM way tagged leisure=park with this name."""
    with gzip.open(CHENGDU_OSM) as fh:
        root = ET.parse(fh).getroot()
    for way in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        if tags.get("leisure") == "park" and tags.get("name") == name:
            refs = [nd.get("ref") for nd in way.iter("nd")]
            break
    else:  # pragma: no cover
        raise AssertionError(f"no OSM park way named {name}")
    nodes = {
        n.get("id"): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node") if n.get("id") in set(refs)
    }
    # centroid in a metric projection (UTM 48N), independent of the code under test
    to_utm = pyproj.Transformer.from_crs(4326, 32648, always_xy=True)
    polygon = Polygon([to_utm.transform(*nodes[r]) for r in refs])
    assert polygon.is_valid and polygon.area > 50_000  # 人民公园 is ~11 ha
    centre = polygon.centroid
    return to_utm.transform(centre.x, centre.y, direction="INVERSE")


def test_amap_peoples_park_lands_on_osm_after_conversion():
    with open(amap_parks(), encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["name"] == "人民公园"]
    assert len(rows) == 1
    gcj_lon, gcj_lat = float(rows[0]["lon"]), float(rows[0]["lat"])
    osm_lon, osm_lat = _osm_park_centroid("人民公园")

    unconverted = metres(gcj_lon, gcj_lat, osm_lon, osm_lat)
    converted = metres(*gcj02_to_wgs84(gcj_lon, gcj_lat), osm_lon, osm_lat)
    assert unconverted > 300
    assert converted < 200
    assert math.isfinite(converted) and converted < unconverted / 2


@pytest.mark.parametrize("spec", ["EPSG:3857", "EPSG:3395"])
def test_choose_metric_crs_refuses_mercator(spec):
    with pytest.raises(CRSError, match="is a Mercator projection, which stretches distances"):
        choose_metric_crs(None, crs=spec)


@pytest.mark.parametrize(
    "src,dst",
    [(4326, 4544), (4544, 4326), (4326, 32648), (32648, 4326), (4490, 4326), (4326, 4490), (4544, 4490), (4326, 3857)],
)
def test_transform_xy_equals_pyproj_and_reuses_its_transformers(src, dst):
    from servicecircle.coords import transform_xy

    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(103.5, 104.5, 500), rng.uniform(30.3, 31.0, 500)
    x, y = pyproj.Transformer.from_crs(4326, src, always_xy=True).transform(lon, lat)
    want = pyproj.Transformer.from_crs(src, dst, always_xy=True).transform(x, y)
    for _ in range(2):  # the second call reuses the transformer, or its inverse
        got = transform_xy(x, y, f"EPSG:{src}", pyproj.CRS(dst))
        np.testing.assert_allclose(got[0], want[0], rtol=0, atol=1e-9 if abs(want[0][0]) < 360 else 1e-6)
        np.testing.assert_allclose(got[1], want[1], rtol=0, atol=1e-9 if abs(want[1][0]) < 360 else 1e-6)


def test_to_crs_is_geopandas_to_crs():
    from servicecircle.coords import to_crs

    frame = gpd.GeoDataFrame(
        {"name": ["a", "b", "c", "d"], "n": [1, 2, 3, 4]},
        geometry=[Point(104.05, 30.65), Polygon([(104, 30.6), (104.1, 30.6), (104.1, 30.7)]), None, Point()],
        crs=4326,
    )
    frame.attrs["source"] = "here"
    got = to_crs(frame, "EPSG:4544")
    want = frame.to_crs("EPSG:4544")
    assert got.crs == want.crs and list(got.columns) == list(want.columns) and got.attrs == frame.attrs
    assert got.geometry.iloc[2] is None and got.geometry.iloc[3].is_empty
    assert all(shapely.equals_exact(got.geometry.values[:2], want.geometry.values[:2], 1e-6))
    assert frame.crs.to_epsg() == 4326  # the input is untouched
    series = to_crs(frame.geometry, 32648)
    assert series.crs.to_epsg() == 32648 and series.name == frame.geometry.name
    assert shapely.equals_exact(series.values[0], frame.geometry.to_crs(32648).values[0], 1e-6)


# --- datum shifts PROJ cannot do exactly ------------------------------------------------


@pytest.fixture
def fresh_datum_reports(monkeypatch):
    """Forget which pairs of CRSs were examined and reported (they are remembered for the process)."""
    from servicecircle import coords

    monkeypatch.setattr(coords, "_PAIRS_CHECKED", set())
    monkeypatch.setattr(coords, "_BALLPARK_REPORTED", set())


def _datum_warnings(records):
    return [r.message for r in records if isinstance(r.message, DataWarning) and r.message.code == "datum_ballpark"]


@pytest.mark.parametrize(
    "src,dst,bounds,ballpark",
    [
        (4610, 4490, None, True),  # Xian 1980 → CGCS2000: no published transformation
        (4610, 4544, None, True),
        (2380, 4326, None, True),  # Xian 1980 / GK CM 105E → WGS84
        (4214, 4544, None, True),  # Beijing 1954 → CGCS2000 / GK
        (4214, 4326, (104.0, 30.6, 104.1, 30.7), True),  # Beijing 1954 → WGS84 at Chengdu: none covers it
        (4214, 4326, (108.5, 36.5, 108.6, 36.6), False),  # ... in the Ordos basin: EPSG's Beijing 1954 to WGS 84
        (4326, 4544, None, False),  # WGS84 ↔ CGCS2000: a null shift, right to centimetres
        (4490, 32648, None, False),
        (3857, 4490, None, False),
        (4544, 4544, None, False),
    ],
)
def test_ballpark_shift_is_read_from_the_operations(src, dst, bounds, ballpark):
    from servicecircle.coords import ballpark_shift

    assert ballpark_shift(f"EPSG:{src}", pyproj.CRS(dst), bounds) is ballpark


def test_a_ballpark_shift_is_a_null_shift_and_a_real_one_is_not():
    """Independent of the operations' flags: the ballpark pairs move no coordinate, the exact ones do."""
    same = pyproj.Transformer.from_crs(4610, 4490, always_xy=True).transform(104.07, 30.66)
    assert same == (104.07, 30.66)  # Xian 1980 → CGCS2000: nothing moves (in reality ~100 m)
    lon, lat = pyproj.Transformer.from_crs(4214, 4326, always_xy=True).transform(108.55, 36.55)
    moved = pyproj.Geod(ellps="WGS84").inv(108.55, 36.55, lon, lat)[2]
    assert moved > 10  # Beijing 1954 → WGS84 in the Ordos basin: a real datum shift


def test_transform_xy_warns_once_per_pair_of_crs(fresh_datum_reports):
    from servicecircle.coords import transform_xy

    lon, lat = np.array([104.05, 104.08]), np.array([30.64, 30.67])
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        x, y = transform_xy(lon, lat, 4610, 4544)
        transform_xy(lon, lat, 4610, 4544)
        transform_xy(x, y, 4544, 4610)  # the same pair, the other way
    got = _datum_warnings(rec)
    assert [str(w) for w in got] == [
        "PROJ can transform Xian 1980 (EPSG:4610) to CGCS2000 / 3-degree Gauss-Kruger CM 105E (EPSG:4544) only "
        "with a ballpark (null) datum shift: positions may be off by up to ~100 m or more; reproject the data in a "
        "GIS with the official transformation parameters, or give the data in CGCS2000 (EPSG:4490)"
    ]
    want = pyproj.Transformer.from_crs(4610, 4544, always_xy=True).transform(lon, lat)
    np.testing.assert_allclose(x, want[0], rtol=0, atol=1e-9)  # the warning changes no number
    np.testing.assert_allclose(y, want[1], rtol=0, atol=1e-9)


def test_transform_xy_of_no_point_waits_for_points(fresh_datum_reports):
    from servicecircle.coords import transform_xy

    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        transform_xy(np.array([np.nan]), np.array([np.nan]), 4214, 4544)
        assert _datum_warnings(rec) == []
        transform_xy(np.array([104.05]), np.array([30.64]), 4214, 4544)
    assert len(_datum_warnings(rec)) == 1


def test_to_crs_names_the_file_the_layer_and_the_features(fresh_datum_reports):
    from servicecircle.coords import to_crs

    frame = gpd.GeoDataFrame(
        {"name": ["a", "b", "c"]}, geometry=[Point(104.05, 30.64), None, Point(104.08, 30.67)], crs=4214
    )
    frame.attrs.update(source="schools.gpkg", layer="2019")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        to_crs(frame, 4544)
        to_crs(frame.geometry, 4544)  # the same pair again: said once
    got = _datum_warnings(rec)
    assert len(got) == 1 and got[0].count == 2 and got[0].file == "schools.gpkg" and got[0].layer == "2019"
    assert str(got[0]) == (
        "schools.gpkg [layer 2019]: PROJ can transform Beijing 1954 (EPSG:4214) to CGCS2000 / 3-degree Gauss-Kruger "
        "CM 105E (EPSG:4544) only with a ballpark (null) datum shift: the positions of these 2 features may be off by "
        "up to ~100 m or more; reproject the layer in a GIS with the official transformation parameters, or give the "
        "layer in CGCS2000 (EPSG:4490)"
    )


@pytest.mark.parametrize("src,dst", [(4326, 4544), (4490, 32648), (32648, 4544), (3857, 4490), (4544, 4326)])
def test_wgs84_and_cgcs2000_never_warn(fresh_datum_reports, src, dst):
    from servicecircle.coords import transform_xy

    x, y = pyproj.Transformer.from_crs(4326, src, always_xy=True).transform([104.05], [30.64])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        transform_xy(np.asarray(x), np.asarray(y), src, dst)


def test_check_layer_datum(fresh_datum_reports):
    from servicecircle.coords import check_layer_datum, transform_xy

    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        assert check_layer_datum(4610, file="a.gpkg", count=6) is True
        assert check_layer_datum("EPSG:4544", file="b.gpkg", count=6) is False
        assert check_layer_datum(4214, bounds=(108.5, 36.5, 108.6, 36.6), file="c.gpkg") is False  # Ordos: exact
        # with the official parameters given (TOWGS84, a bound CRS) WGS84 is reached exactly
        towgs84 = "+proj=longlat +ellps=IAU76 +towgs84=24,-123,-94,0.02,-0.25,-0.13,1.1 +no_defs"
        assert check_layer_datum(pyproj.CRS(towgs84), file="d.gpkg") is False
        transform_xy(np.array([104.05]), np.array([30.64]), 4610, 4544)  # the layer's CRS, reported already
    got = _datum_warnings(rec)
    assert [str(w) for w in got] == [
        "a.gpkg: the layer is in Xian 1980 (EPSG:4610), which PROJ can transform to China Geodetic Coordinate System "
        "2000 (EPSG:4490) or WGS 84 (EPSG:4326) only with a ballpark (null) datum shift: the positions of its 6 "
        "features may be off by up to ~100 m or more; reproject the layer in a GIS with the official transformation "
        "parameters, or give the layer in CGCS2000 (EPSG:4490)"
    ]
