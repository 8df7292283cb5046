"""Reading planners' files: formats, layers, coordinate systems, encodings."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

import servicecircle as sc
from servicecircle.coords import wgs84_to_bd09, wgs84_to_gcj02
from servicecircle.errors import CRSError, InputDataError

from .conftest import CHENGDU_OSM, amap_parks

COMM = gpd.GeoDataFrame(
    {"code": ["510104022006", "510104022007"], "name": ["总府路社区", "红星路社区"], "households": [1500, 2200]},
    geometry=[shapely.box(104.07, 30.65, 104.08, 30.66), shapely.box(104.08, 30.65, 104.09, 30.66)],
    crs=4490,
)


@pytest.mark.parametrize("driver,suffix", [("GPKG", ".gpkg"), ("ESRI Shapefile", ".shp"), ("GeoJSON", ".geojson")])
def test_every_vector_format_reads_the_same(tmp_path, driver, suffix):
    path = tmp_path / f"c{suffix}"
    COMM.to_file(path, driver=driver)
    got = sc.read_boundaries(path, id_column="code")
    assert got["code"].tolist() == COMM["code"].tolist()
    assert got["name"].tolist() == COMM["name"].tolist()
    assert pyproj.CRS(got.crs).equals(pyproj.CRS(4490)) or suffix == ".geojson"
    want = COMM.geometry.to_crs(got.crs).values
    assert shapely.equals_exact(shapely.normalize(got.geometry.values), shapely.normalize(want), 1e-9).all()


def test_a_file_with_several_layers_needs_a_layer_name(tmp_path):
    path = tmp_path / "two.gpkg"
    COMM.to_file(path, layer="communities")
    COMM.to_file(path, layer="old")
    with pytest.raises(InputDataError) as err:
        sc.read_boundaries(path)
    assert str(err.value) == (
        f"{path}: the file has 2 layers (communities, old). "
        "Fix: name the layer to use (layer=, or --boundaries-layer, --facilities-layer ... "
        "on the command line)"
    )
    assert len(sc.read_boundaries(path, layer="old")) == 2
    with pytest.raises(InputDataError, match=r"no layer 'comunities' \(did you mean 'communities'\?\)"):
        sc.read_boundaries(path, layer="comunities")


def test_a_layer_without_crs_is_an_error_unless_named(tmp_path):
    path = tmp_path / "nocrs.shp"
    COMM.set_crs(None, allow_override=True).to_file(path)
    with pytest.raises(CRSError) as err:
        sc.read_boundaries(path)
    assert str(err.value).startswith(f"{path}: the layer has no coordinate system. Fix: ")
    got = sc.read_boundaries(path, crs="EPSG:4490")
    assert got.crs.to_epsg() == 4490


def test_gbk_shapefile_without_cpg_keeps_chinese_text(tmp_path):
    path = tmp_path / "gbk.shp"
    COMM.to_file(path, encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    assert b"\xd7\xdc\xb8\xae" in path.with_suffix(".dbf").read_bytes()  # 总府 in GBK
    with pytest.warns(UserWarning, match="no .cpg file: attribute text read as GBK"):
        got = sc.read_boundaries(path)
    assert got["name"].tolist() == ["总府路社区", "红星路社区"]


def test_utf8_shapefile_without_cpg(tmp_path):
    path = tmp_path / "utf8.shp"
    COMM.to_file(path, encoding="UTF-8")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    got = sc.read_boundaries(path)
    assert got["name"].tolist() == ["总府路社区", "红星路社区"]


def test_csv_gcj02_and_bd09_are_converted_to_wgs84(tmp_path):
    lon = np.array([104.0657, 104.0812])
    lat = np.array([30.6598, 30.6711])
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    b_lon, b_lat = wgs84_to_bd09(lon, lat)
    for name, (x, y), crs in (("gcj", (g_lon, g_lat), "gcj02"), ("bd", (b_lon, b_lat), "baidu")):
        path = tmp_path / f"{name}.csv"
        pd.DataFrame({"名称": ["甲", "乙"], "category": ["幼儿园", "小学"], "经度": x, "纬度": y}).to_csv(
            path, index=False, encoding="gb18030"
        )
        got = sc.read_facilities(path, crs=crs)
        assert got.crs.to_epsg() == 4326
        np.testing.assert_allclose(got.geometry.x, lon, atol=1e-8)  # < 1 mm
        np.testing.assert_allclose(got.geometry.y, lat, atol=1e-8)
        assert got["名称"].tolist() == ["甲", "乙"]


def test_amap_parks_land_on_osm_parks_after_conversion():
    """Real Amap POIs (GCJ-02) against the same parks in OSM (WGS84)."""
    path = amap_parks()
    raw = sc.read_facilities(path, crs="EPSG:4326", category_column="type")  # wrongly declared
    conv = sc.read_facilities(path, crs="gcj02", category_column="type")
    from servicecircle.inputs.osm_features import as_points, read_osm_features

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parks = as_points(read_osm_features(CHENGDU_OSM))
    parks = parks[parks["category"] == "park"].to_crs(4544)
    name = "人民公园"
    osm = parks[parks["name"] == name].geometry.iloc[0]
    off_raw = raw[raw["name"] == name].to_crs(4544).geometry.iloc[0].distance(osm)
    off_conv = conv[conv["name"] == name].to_crs(4544).geometry.iloc[0].distance(osm)
    assert off_raw > 300 and off_conv < 160


def test_swapped_lon_lat_is_caught(tmp_path):
    path = tmp_path / "swapped.csv"
    pd.DataFrame({"category": ["幼儿园"], "lon": [30.66], "lat": [104.07]}).to_csv(path, index=False)
    with pytest.raises(InputDataError, match="longitude and latitude look swapped"):
        sc.read_facilities(path, crs="EPSG:4326")


def test_polygons_as_facilities_become_points_inside(tmp_path):
    fac = gpd.GeoDataFrame({"category": ["小学"]}, geometry=[shapely.box(104.07, 30.65, 104.071, 30.651)], crs=4326)
    with pytest.warns(UserWarning, match="1 facility is a polygon; a point inside it was used"):
        got = sc.inputs.prepare_facilities(fac)
    assert got.geometry.iloc[0].within(fac.geometry.iloc[0])


def test_gcj02_declared_as_wgs84_is_detected_against_the_network(tmp_path):
    """Real OSM facilities shifted into GCJ-02, then declared as WGS84."""
    from servicecircle.coords import wgs84_to_gcj02
    from servicecircle.network import load_network

    from .conftest import CHENGDU_OSM, DATA

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = load_network(CHENGDU_OSM)
        fac = sc.read_facilities(DATA / "facilities" / "chengdu_facilities_osm.gpkg", layer="facilities")
        comm = sc.read_boundaries(DATA / "boundaries" / "chengdu_communities_approx.gpkg", id_column="code")
    fac = fac[fac["category"] == "bus_stop"].to_crs(4326)  # points on the street, as most POIs are
    x, y = wgs84_to_gcj02(fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy())
    path = tmp_path / "amap_schools.csv"
    pd.DataFrame({"name": fac["name"], "category": fac["category"], "lon": x, "lat": y}).to_csv(path, index=False)
    wrong = sc.read_facilities(path, crs="EPSG:4326")
    with pytest.raises(CRSError) as err:
        sc.assess(comm, wrong, net, id_column="code")
    msg = str(err.value)
    assert msg.startswith(f"{path}: these points look like GCJ-02 (Amap/Tencent) coordinates declared as WGS84")
    assert msg.endswith("Fix: read the layer with crs='gcj02' (--facilities-crs gcj02)")
    # read correctly, the same file runs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ok = sc.assess(comm, sc.read_facilities(path, crs="gcj02"), net, id_column="code")
    assert ok.summary.set_index("check").loc["bus_stop", "facilities"] == len(fac)
    # and the true WGS84 points are not flagged
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sc.assess(comm, fac, net, id_column="code")
