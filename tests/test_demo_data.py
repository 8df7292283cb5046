"""The bundled demo data in data/: present, well-formed, honest and reproducible."""

from __future__ import annotations

import csv
import gzip
import json
import re
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import shape

from servicecircle.coords import gcj02_to_wgs84, transform_geometry_array

from .conftest import DATA, ROOT, SHARED, amap_parks

METRIC = "EPSG:4544"
BOUNDS = (104.0421, 30.6528, 104.1296, 30.7279)

OSM_GZ = DATA / "network" / "chengdu_central_2018.osm.gz"
COMMUNITIES = DATA / "boundaries" / "chengdu_communities_approx.gpkg"
RESIDENTIAL = DATA / "boundaries" / "chengdu_residential_osm.gpkg"
FACILITIES = DATA / "facilities" / "chengdu_facilities_osm.gpkg"

LAYERS = [
    (COMMUNITIES, "communities"),
    (RESIDENTIAL, "residential"),
    (FACILITIES, "facilities"),
    (FACILITIES, "greenspace"),
]


def _read(path, layer) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(path, layer=layer)


@pytest.fixture(scope="module")
def communities() -> gpd.GeoDataFrame:
    return _read(COMMUNITIES, "communities")


def test_shipped_files_exist_and_open_in_cgcs2000():
    for path in (OSM_GZ, DATA / "README.md", DATA / "network" / "README.md", COMMUNITIES, RESIDENTIAL, FACILITIES):
        assert path.is_file(), path
    for path, layer in LAYERS:
        info = pyogrio.read_info(path, layer=layer)
        assert info["crs"] == "EPSG:4490", (path, layer)
        assert info["features"] > 0
        gdf = _read(path, layer)
        assert gdf.crs.to_epsg() == 4490
        assert gdf.geometry.notna().all() and not gdf.geometry.is_empty.any()
    layers = {name for name, _ in pyogrio.list_layers(FACILITIES)}
    assert layers == {"facilities", "greenspace"}


def test_osm_extract_is_the_unchanged_source():
    text = gzip.decompress(OSM_GZ.read_bytes())
    # the extract as ../shared/data/SOURCES.md describes it
    assert b'<bounds minlat="30.6528" minlon="104.0421" maxlat="30.7279" maxlon="104.1296"/>' in text
    assert text.count(b"<node ") == 24_617 and text.count(b"<way ") == 3_820
    original = SHARED / "chengdu" / "chengdu_central_2018.osm"
    if original.exists():  # byte for byte, where the shared folder is at hand
        assert text == original.read_bytes()
    # reproducible gzip header: no time stamp
    assert OSM_GZ.read_bytes()[4:8] == b"\x00\x00\x00\x00"


def test_community_codes(communities):
    codes = communities["code"]
    assert codes.map(lambda c: isinstance(c, str) and re.fullmatch(r"\d{12}", c) is not None).all()
    assert codes.is_unique
    assert (communities["subdistrict_code"] == codes.str[:9]).all()
    assert (communities["district_code"] == codes.str[:6]).all()
    assert communities["subdistrict_code"].str.fullmatch(r"\d{9}").all()
    assert communities["district_code"].str.fullmatch(r"\d{6}").all()
    assert set(communities["district_code"]) <= {"510104", "510105", "510106", "510107", "510108"}
    assert (communities["name"].str.len() > 0).all()
    assert (communities["subdistrict"].str.len() > 0).all()
    assert (communities["district"].str.len() > 0).all()
    assert list(codes) == sorted(codes)


def test_community_polygons_valid_and_not_overlapping(communities):
    geoms = communities.geometry.to_crs(METRIC).values
    assert shapely.is_valid(geoms).all()
    assert set(shapely.get_type_id(geoms)) <= {3, 6}
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    overlap = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    assert len(overlap) > 0  # neighbours touch
    worst = overlap.max()
    assert worst <= 1.0, f"communities overlap by up to {worst:.2f} m²"


def test_communities_inside_district_fences_and_bounds(communities):
    for district, group in communities.groupby("district_code"):
        path = DATA / "sources" / "chengdu" / "adcode" / f"fence_{district}.json"
        fence = shape(json.loads(path.read_text(encoding="utf-8")))
        fence = transform_geometry_array(fence, gcj02_to_wgs84)
        fence_m = gpd.GeoSeries([fence], crs="EPSG:4326").to_crs(METRIC).iloc[0].buffer(1.0)
        cells = group.geometry.to_crs(METRIC)
        outside = cells[~cells.within(fence_m)]
        assert outside.empty, f"{len(outside)} communities of {district} stick out of the district"
    box = shapely.box(*BOUNDS).buffer(1e-7)
    assert communities.geometry.to_crs("EPSG:4326").within(box).all()


def _household_size() -> float:
    """The household size the build script uses: the gb50180 profile's, else 2.62."""
    import tomllib

    path = ROOT / "src" / "servicecircle" / "profiles" / "gb50180.toml"
    with open(path, "rb") as fh:
        return float(tomllib.load(fh).get("defaults", {}).get("household_size", 2.62))


def test_community_estimates_are_labelled_and_null_without_land(communities):
    assert communities["approximate"].astype(bool).all()
    assert (communities["method"].str.contains("Voronoi") & communities["method"].str.contains("assumed")).all()
    no_land = communities["residential_area_m2"] <= 0
    assert no_land.any() and (~no_land).any()
    assert communities.loc[no_land, "households"].isna().all()
    assert communities.loc[no_land, "residents"].isna().all()
    with_land = communities[~no_land]
    assert with_land["households"].notna().all()
    # 250 households per hectare (assumed), the profile's persons per household (assumed)
    expected = np.floor(with_land["residential_area_m2"].to_numpy() / 1e4 * 250 + 0.5)
    assert np.abs(with_land["households"].to_numpy(dtype=float) - expected).max() <= 1
    size = _household_size()
    hh = with_land["households"].to_numpy(dtype=float)
    assert (with_land["residents"].to_numpy(dtype=float) == np.floor(hh * size + 0.5)).all()
    assert (communities["residential_area_m2"] <= communities["area_m2"] + 1).all()
    metric_area = communities.geometry.to_crs(METRIC).area.to_numpy()
    assert np.allclose(communities["area_m2"].to_numpy(), metric_area, rtol=1e-4, atol=1)
    assert communities["clipped_to_extract"].astype(bool).any()


def test_facilities_and_greenspace_layers():
    fac = _read(FACILITIES, "facilities")
    assert list(fac.columns) == ["fid_osm", "category", "name", "osm_tags", "area_m2", "geometry"]
    assert (fac.geom_type == "Point").all()
    assert fac["fid_osm"].str.fullmatch(r"[nwr]\d+").all()
    assert fac["fid_osm"].is_unique
    assert list(zip(fac.category, fac.fid_osm)) == sorted(zip(fac.category, fac.fid_osm))
    x, y = fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy()
    assert ((x >= BOUNDS[0]) & (x <= BOUNDS[2]) & (y >= BOUNDS[1]) & (y <= BOUNDS[3])).all()
    # only polygon-derived points have an area
    from_polygon = fac["fid_osm"].str[0] != "n"
    assert fac.loc[~from_polygon, "area_m2"].isna().all()
    assert (fac.loc[from_polygon, "area_m2"] > 0).all()
    for key in ("kindergarten", "primary_school", "middle_school", "food_market", "bus_stop"):
        assert (fac.category == key).any(), key

    green = _read(FACILITIES, "greenspace")
    assert list(green.columns) == ["fid_osm", "category", "name", "area_m2", "geometry"]
    assert green.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert green.geometry.is_valid.all()
    assert set(green.category) <= {"park", "garden", "grass", "recreation_ground"}
    assert (green.category == "park").sum() >= 20
    assert (green["area_m2"] > 0).all()

    res = _read(RESIDENTIAL, "residential")
    assert {"osm_id", "name", "area_m2"} <= set(res.columns)
    assert len(res) == 186
    assert res.geometry.is_valid.all()


def test_readme_warns_and_attributes():
    text = (DATA / "README.md").read_text(encoding="utf-8")
    assert "APPROXIMATE" in text and "NOT official" in text
    assert "近似数据" in text and "并非官方" in text
    assert "© OpenStreetMap contributors, ODbL 1.0" in text
    assert "adcode dataset (Vonng/adcode), CC BY 4.0" in text
    assert ".venv/bin/python tools/build_demo_data.py" in text
    assert "250" in text and "2.62" in text
    net = (DATA / "network" / "README.md").read_text(encoding="utf-8")
    assert "© OpenStreetMap contributors, ODbL 1.0" in net


def _amap_pois():
    path = amap_parks()
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    return rows


def test_no_amap_derived_data():
    rows = _amap_pois()
    ids = [r["id"] for r in rows]
    assert all(re.fullmatch(r"B[0-9A-Z]{9}", i) for i in ids)
    files = [p for p in DATA.rglob("*") if p.is_file()]
    for path in files:
        assert "amap" not in path.name.lower(), path
        blob = path.read_bytes()
        if path.suffix == ".gz":
            blob = gzip.decompress(blob)
        for poi_id in ids:
            assert poi_id.encode() not in blob, (path, poi_id)
    # no feature sits on an Amap POI, converted or not (1 m)
    lon = np.array([float(r["lon"]) for r in rows])
    lat = np.array([float(r["lat"]) for r in rows])
    wlon, wlat = gcj02_to_wgs84(lon, lat)
    amap = gpd.GeoSeries(
        np.concatenate([shapely.points(lon, lat), shapely.points(wlon, wlat)]), crs="EPSG:4326"
    ).to_crs(METRIC)
    for path, layer in LAYERS:
        gdf = _read(path, layer).to_crs(METRIC)
        vertices = shapely.get_coordinates(gdf.geometry.values)
        tree = shapely.STRtree(shapely.points(vertices))
        hits = tree.query(amap.values, predicate="dwithin", distance=1.0)
        assert hits.shape[1] == 0, (path, layer)
        text_cols = [c for c in gdf.columns if gdf[c].dtype == object or pd.api.types.is_string_dtype(gdf[c])]
        for col in text_cols:
            assert not gdf[col].astype(str).isin(ids).any(), (path, layer, col)


def test_rebuild_gives_identical_layers(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_demo_data.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "communities:" in proc.stdout and "households" in proc.stdout
    assert (tmp_path / "network" / OSM_GZ.name).read_bytes() == OSM_GZ.read_bytes()
    for path, layer in LAYERS:
        shipped = _read(path, layer)
        rebuilt = _read(tmp_path / path.relative_to(DATA), layer)
        assert list(rebuilt.columns) == list(shipped.columns)
        assert rebuilt.crs == shipped.crs
        pd.testing.assert_frame_equal(
            pd.DataFrame(rebuilt.drop(columns="geometry")),
            pd.DataFrame(shipped.drop(columns="geometry")),
        )
        assert rebuilt.geometry.geom_equals_exact(shipped.geometry, tolerance=0).all(), (path, layer)
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == (DATA / "README.md").read_text(encoding="utf-8")
