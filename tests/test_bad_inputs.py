"""Bad inputs and the exact message each one gives (issue 5, "Clear errors, no tracebacks").

Every case starts from a small set of good inputs, breaks one thing the way
planners' data really breaks, and states the *whole* message that must come out:
the exception class and ``str(exc)`` for errors, the warning code and
``str(warning)`` for what servicecircle works around. Read top to bottom, the
``CASES`` table is the catalogue of ``docs/errors.md``: this input → this message.

The good inputs (written fresh for every case, see :func:`good_inputs`):

* ``communities.gpkg`` — 石油社区 and the five communities around it, from the
  demo's approximate boundaries (``code``, ``name``, ``households``, ``residents``;
  CGCS2000);
* ``facilities.csv`` — the OSM kindergartens and primary schools inside them, as
  WGS84 longitude/latitude (read with ``--facilities-crs EPSG:4326``);
* the demo's OSM extract of central Chengdu as the walking network.

Each case runs through :func:`servicecircle.pipeline.run` (the Python API; the
outputs are not written). The cases marked ``cli=True`` also run through the real
command line, ``python -m servicecircle.cli run ... -q``: exit code 2, exactly one
line on stderr, that same message, no traceback.

In the messages, ``{dir}`` is the case's folder and ``{boundaries}``,
``{facilities}``, ``{network}``, ``{demand}`` the paths of those inputs.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from servicecircle import settings
from servicecircle.coords import wgs84_to_gcj02
from servicecircle.errors import (
    CRSError,
    InputDataError,
    NetworkError,
    OptionError,
    ProfileError,
    TooLargeError,
)

from .badinputs import (  # noqa: F401  (the fixtures are used by name)
    CODES,
    FIX_COPY,
    FIX_EXTENDS,
    FIX_OSM,
    FIX_SHP_PARTS,
    GK,
    NAMES,
    SHIPPED,
    Case,
    Inputs,
    _shared_network_cache,
    case,
    check_registry,
    cut_file,
    good_inputs,
    network_cache,
    run_case,
    run_case_cli,
    source_files,
)
from .conftest import CHENGDU_OSM, DATA

CASES: list[Case] = []
case = case(CASES)


# ----------------------------------------------------------- unreadable files


@case(
    InputDataError,
    "{dir}/communities.gpkg: this is not a GeoPackage: its content is not a SQLite database (was another "
    "file renamed?). Fix: give the real GeoPackage, or export the layer to GeoPackage again",
    cli=True,
)
def random_bytes_named_gpkg(w):
    """Random bytes saved as communities.gpkg."""
    w.boundaries.write_bytes(np.random.default_rng(5).bytes(4096))


@case(InputDataError, "{boundaries}: the GeoPackage is damaged or incomplete. Fix: " + FIX_COPY, cli=True)
def truncated_geopackage(w):
    """A GeoPackage cut in half (a copy interrupted half-way)."""
    cut_file(w.boundaries)


@case(
    InputDataError,
    "{dir}/communities.shp: the shapefile is incomplete: communities.shp is 1,122 bytes but its header says "
    "2,244. Fix: " + FIX_COPY,
    cli=True,
)
def truncated_shapefile(w):
    """A shapefile whose .shp was cut in half (GDAL alone would read features without geometry)."""
    shp = w.write_boundaries(w.communities(), "communities.shp")
    cut_file(shp)


@case(
    InputDataError,
    "{dir}/communities.shp: the shapefile's .dbf file (attribute table) is missing: communities.dbf is not "
    "next to it. Fix: " + FIX_SHP_PARTS,
)
def shapefile_without_dbf(w):
    """A shapefile copied without its .dbf (GDAL alone would read it with no attributes at all)."""
    w.write_boundaries(w.communities(), "communities.shp").with_suffix(".dbf").unlink()


@case(
    InputDataError,
    "{dir}/communities.shp: the shapefile's .shx file (index) is missing: communities.shx is not next to it. "
    "Fix: " + FIX_SHP_PARTS,
)
def shapefile_without_shx(w):
    """A shapefile copied without its .shx."""
    w.write_boundaries(w.communities(), "communities.shp").with_suffix(".shx").unlink()


@case(
    InputDataError,
    "{dir}/communities.geojson: cannot read this GeoJSON file: it is not valid JSON: syntax error at line 3, "
    "column 1. Fix: export the layer to GeoJSON again, or correct the file at that line",
    cli=True,
)
def malformed_geojson(w):
    """A hand-edited GeoJSON with a missing closing bracket."""
    w.boundaries = w.dir / "communities.geojson"
    w.boundaries.write_text(
        '{"type": "FeatureCollection", "features": [\n'
        '  {"type": "Feature", "properties": {"code": "1"}, "geometry": null}\n',
        encoding="utf-8",
    )


@case(
    InputDataError,
    '{dir}/communities.json: cannot read this GeoJSON file: it is JSON but not GeoJSON (it has no "type": '
    '"FeatureCollection"). Fix: export the layer to GeoJSON (or GeoPackage) again',
)
def json_that_is_not_geojson(w):
    """A JSON file of something else (an API response) given as boundaries."""
    w.boundaries = w.dir / "communities.json"
    w.boundaries.write_text('{"status": "1", "count": "2", "pois": []}', encoding="utf-8")


@case(
    InputDataError,
    "{dir}/communities.gpkg: the file is empty (0 bytes). Fix: check that the right file was given, or copy it again",
)
def zero_byte_file(w):
    """A 0-byte file (a failed download)."""
    w.boundaries.write_bytes(b"")


@case(InputDataError, "{dir}/communities.gpkg: the layer is empty. Fix: check that the right file and layer were given")
def empty_layer(w):
    """A GeoPackage whose layer has no feature (a filter that matched nothing)."""
    w.write_boundaries(w.communities().iloc[:0], layer="communities")


@case(
    InputDataError,
    "{dir}/communites.gpkg: file not found (did you mean 'communities.gpkg'?). Fix: check the path",
    cli=True,
)
def file_not_found(w):
    """A misspelt file name."""
    w.boundaries = w.dir / "communites.gpkg"


@case(
    InputDataError,
    "{dir}/2024/communities.gpkg: file not found: the folder {dir}/2024 does not exist. Fix: check the path",
)
def folder_not_found(w):
    """A path into a folder that does not exist."""
    w.boundaries = w.dir / "2024" / "communities.gpkg"


# ----------------------------------------------------------- layers


@case(
    InputDataError,
    "{dir}/communities.gpkg: the file has 2 layers (communities, communities_2019). "
    "Fix: name the layer to use (layer=, or --boundaries-layer, --facilities-layer ... on the command line)",
    cli=True,
)
def several_layers_no_layer_name(w):
    """A GeoPackage with this year's and an old layer, and no layer named."""
    w.communities().to_file(w.boundaries, layer="communities_2019")


@case(
    InputDataError,
    "{dir}/communities.gpkg: no layer 'comunities' (did you mean 'communities'?); layers are "
    "communities, communities_2019. Fix: name one of the file's layers",
)
def wrong_layer_name(w):
    """A misspelt layer name."""
    w.communities().to_file(w.boundaries, layer="communities_2019")
    w.options["boundaries_layer"] = "comunities"


@case(
    TooLargeError,
    "{dir}/communities.gpkg: the layer has 6 features, more than the limit of 5. "
    "Fix: clip the layer to the study area, or raise settings.max_input_features",
)
def more_features_than_the_limit(w):
    """A layer over settings.max_input_features (5 here): refused before a single feature is read."""
    import pyogrio

    w.monkeypatch.setattr(settings, "max_input_features", 5)

    def must_not_read(*args, **kwargs):
        raise AssertionError("the layer was read before it was refused")

    w.monkeypatch.setattr(pyogrio, "read_dataframe", must_not_read)


# ----------------------------------------------------------- CSV


@case(
    InputDataError,
    "{facilities}: no longitude column (looked for lon, lng, long, longitude, x ...); columns "
    "are name, category, east, north. Fix: name the longitude column with lon_column= / --lon-column",
    cli=True,
)
def csv_without_lon_lat(w):
    """A CSV whose coordinate columns are called east/north."""
    w.write_facilities(w.facility_table().rename(columns={"lon": "east", "lat": "north"}))


@case(
    InputDataError,
    "{facilities} feature #2: '104°05′31″' in column 'lon' is not a number (line 3 of the CSV). "
    "Fix: give decimal degrees such as 104.0657",
)
def csv_non_numeric_coordinates(w):
    """Degrees-minutes-seconds typed into the longitude column."""
    t = w.facility_table()
    t.loc[1, "lon"] = "104°05′31″"
    w.write_facilities(t)


@case(
    InputDataError,
    "{facilities}: cannot read this CSV: line 4 has 5 fields but the header row has 4. Fix: "
    "quote texts that contain the separator, or save the table again as CSV with one header row",
)
def csv_ragged_row(w):
    """A name with an unquoted comma in it."""
    lines = w.facilities.read_text(encoding="utf-8").splitlines()
    lines[3] = "六九幼儿园,成华区," + lines[3].split(",", 1)[1]
    w.facilities.write_text("\n".join(lines) + "\n", encoding="utf-8")


@case(
    InputDataError,
    "{facilities}: this CSV is UTF-16 text (as Excel saves 'Unicode text'). Fix: save it from "
    "Excel as 'CSV UTF-8' (or pass encoding='utf-16' in Python)",
)
def csv_in_utf16(w):
    """A table saved from Excel as 'Unicode text' (UTF-16) and renamed .csv."""
    w.write_facilities(w.facility_table(), encoding="utf-16")


@case(
    CRSError,
    "{facilities}: a CSV carries no coordinate system. Fix: pass crs='EPSG:4326' (WGS84 / GPS), "
    "'EPSG:4490' (CGCS2000), 'gcj02' (Amap, Tencent) or 'bd09' (Baidu)",
)
def csv_without_crs(w):
    """A CSV of longitudes/latitudes with no --facilities-crs."""
    del w.options["facilities_crs"]


@case(
    InputDataError,
    "{facilities} feature #1: longitude and latitude look swapped (x=30.68, y=104.09 would be "
    "in China the other way round). Fix: swap the longitude and latitude columns (or name them with "
    "lon_column= / --lon-column and lat_column= / --lat-column)",
)
def lon_lat_swapped(w):
    """An Excel export whose lon and lat columns were exchanged."""
    t = w.facility_table()
    t["lon"], t["lat"] = t["lat"].astype(float).round(2), t["lon"].astype(float).round(2)
    w.write_facilities(t)


@case(
    InputDataError,
    "{facilities} feature #1: coordinates out of range for longitude/latitude (x=412345, "
    "y=3395678); they look like metres of a projected coordinate system. Fix: check the coordinate columns, or "
    "declare the layer's real coordinate system with crs= (e.g. 'EPSG:4544', CGCS2000 / 3-degree "
    "Gauss-Krüger CM 105E, used around Chengdu)",
)
def lon_lat_out_of_range(w):
    """Gauss-Krüger metres in the lon/lat columns, declared as WGS84."""
    t = w.facility_table()
    t.loc[0, ["lon", "lat"]] = ["412345", "3395678"]
    w.write_facilities(t)


# ----------------------------------------------------------- facility categories


@case(
    InputDataError,
    "{facilities}: no category column 'category' (did you mean 'catgory'?); columns are name, "
    "catgory, lon, lat. Fix: name the category column with category_column= / --category-column",
    cli=True,
)
def category_column_missing(w):
    """The category column misspelt in the file."""
    w.write_facilities(w.facility_table().rename(columns={"category": "catgory"}))


@case(
    InputDataError,
    "{facilities}: the category column 'category' holds only numbers (e.g. 141204); it must "
    "hold facility types such as kindergarten / 幼儿园. Fix: name the column of facility types with "
    "category_column= / --category-column (text columns: name, type_name), or replace the codes by type names",
)
def category_column_of_numbers(w):
    """Amap type codes (141204 = kindergarten) where type names are expected."""
    t = w.facility_table()
    t["type_name"] = t["category"]
    t["category"] = np.where(t["category"] == "kindergarten", 141204, 141203)
    w.write_facilities(t)


@case(
    InputDataError,
    "{facilities}: the category column 'category' is empty. Fix: fill in 'category' with the "
    "facility type (e.g. kindergarten / 幼儿园)",
)
def category_column_empty(w):
    """A category column with nothing in it."""
    t = w.facility_table()
    t["category"] = ""
    w.write_facilities(t)


# ----------------------------------------------------------- households and floor areas


@case(
    InputDataError,
    "{boundaries}: no households column 'households' or residents column 'residents' "
    "(columns are code, name), and no demand layer or population raster was given. Fix: name the column of "
    "households (--households-column) or residents (--residents-column), or give a demand layer (--demand) or a "
    "population raster (--population)",
    cli=True,
)
def no_households_and_no_demand(w):
    """Boundaries with neither households nor residents, and no demand layer."""
    w.write_boundaries(w.communities().drop(columns=["households", "residents"]), layer="communities")


@case(
    InputDataError,
    "{boundaries}: the 'households' column is empty for every community, and no demand layer or "
    "population raster was given. Fix: name the column of households (--households-column) or residents "
    "(--residents-column), or give a demand layer (--demand) or a population raster (--population)",
)
def households_all_empty(w):
    """A households column with no value in it (and no residents column)."""
    c = w.communities().drop(columns=["residents"])
    c["households"] = np.nan
    w.write_boundaries(c, layer="communities")


@case(
    InputDataError,
    "{boundaries} feature #3 (code=510106030008): '约1800' in the households column "
    "'households' is not a number. Fix: put a number (or leave it empty) in 'households'",
)
def households_as_text(w):
    """A household count typed as '约1800' (about 1800)."""
    c = w.communities()
    c["households"] = c["households"].astype(object)
    c.loc[2, "households"] = "约1800"
    w.write_boundaries(c, layer="communities")


@case(
    InputDataError,
    "{boundaries} feature #2 (code=510106030001): -1420 in the households column 'households' "
    "is negative. Fix: correct 'households' (it must be 0 or more)",
)
def households_negative(w):
    """A negative household count."""
    c = w.communities()
    c.loc[1, "households"] = -c.loc[1, "households"]
    w.write_boundaries(c, layer="communities")


@case(
    InputDataError,
    "{facilities} feature #2: '600平米' in the facility floor area column 'floor_area_m2' is not "
    "a number. Fix: put a number (or leave it empty) in 'floor_area_m2'",
    cli=True,
)
def floor_area_as_text(w):
    """A floor area with its unit typed in."""
    t = w.facility_table()
    t["floor_area_m2"] = ["800"] * len(t)
    t.loc[1, "floor_area_m2"] = "600平米"
    w.write_facilities(t)


@case(
    InputDataError,
    "{facilities} feature #1: -800 in the facility floor area column 'floor_area_m2' is "
    "negative. Fix: correct 'floor_area_m2' (it must be 0 or more)",
)
def floor_area_negative(w):
    """A negative floor area."""
    t = w.facility_table()
    t["floor_area_m2"] = 800
    t.loc[0, "floor_area_m2"] = -800
    w.write_facilities(t)


@case(
    InputDataError,
    "{dir}/demand.gpkg: no demand weight column 'households' (did you mean 'household'?); "
    "columns are household. Fix: name the demand weight column with weight_column= / --weight-column",
)
def demand_weight_column_missing(w):
    """A demand layer whose weight column is 'household', asked for as 'households'."""
    pts = w.communities().to_crs(GK).geometry.representative_point()
    gpd.GeoDataFrame({"household": np.arange(10, 16)}, geometry=pts.values, crs=GK).to_file(w.dir / "demand.gpkg")
    w.demand = w.dir / "demand.gpkg"
    w.options["weight_column"] = "households"


@case(
    InputDataError,
    "{boundaries}: no community id column 'cod' (did you mean 'code'?); columns are code, name, "
    "households, residents. Fix: name the community id column with id_column= / --id-column",
    cli=True,
)
def id_column_missing(w):
    """A misspelt id column."""
    w.options["id_column"] = "cod"


@case(
    InputDataError,
    "{boundaries}: community id code=510106030001 appears more than once (features #2, #3). "
    "Fix: make 'code' unique, or choose another id column",
    cli=True,
)
def duplicate_community_ids(w):
    """Two communities with the same code (a copy-paste slip)."""
    c = w.communities()
    c.loc[2, "code"] = c.loc[1, "code"]
    w.write_boundaries(c, layer="communities")


@case(
    InputDataError,
    "{boundaries} feature #4: the community id column 'code' is empty here. Fix: fill in 'code' for every community",
)
def community_id_empty(w):
    """A community without a code."""
    c = w.communities()
    c.loc[3, "code"] = None
    w.write_boundaries(c, layer="communities")


# ----------------------------------------------------------- coordinate systems


@case(
    CRSError,
    "{dir}/communities.shp: the layer has no coordinate system. Fix: the shapefile has no .prj file: "
    "add the one that belongs to it, or declare the coordinate system with crs= (--boundaries-crs, "
    "--facilities-crs ... on the command line), e.g. 'EPSG:4490' (CGCS2000), 'EPSG:4326' (WGS84), 'gcj02' "
    "(Amap/Tencent) or 'bd09' (Baidu)",
    cli=True,
)
def shapefile_without_prj(w):
    """A shapefile copied without its .prj."""
    w.write_boundaries(w.communities(), "communities.shp").with_suffix(".prj").unlink()


@case(
    OptionError,
    "facilities_crs (--facilities-crs): unknown coordinate system 'EPSG:45444'. Fix: use one of: gcj02 (also "
    "amap, gaode, tencent), bd09 (also baidu), wgs84, cgcs2000, an EPSG code such as EPSG:4544 or 4326, a WKT or "
    "PROJ string, or a pyproj.CRS",
    cli=True,
)
def unknown_crs_code(w):
    """A mistyped EPSG code for the facilities (refused before any file is read)."""
    w.options["facilities_crs"] = "EPSG:45444"


def _bus_stops_in_gcj02(w):
    fac = gpd.read_file(DATA / "facilities" / "chengdu_facilities_osm.gpkg", layer="facilities")
    fac = fac[fac["category"] == "bus_stop"].to_crs(4326)  # on the street, as most POIs are
    x, y = wgs84_to_gcj02(fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy())
    w.write_facilities(
        pd.DataFrame(
            {"name": fac["name"].to_numpy(), "category": "bus_stop", "lon": np.round(x, 7), "lat": np.round(y, 7)}
        ),
        "amap_bus_stops.csv",
    )


@case(
    CRSError,
    "{dir}/amap_bus_stops.csv: these points look like GCJ-02 (Amap/Tencent) coordinates declared as "
    "WGS84: as declared their median distance to the nearest street is 29 m (31% within 20 m); converted from "
    "gcj02 (360 m away) it is 8 m (87% within 20 m). Fix: read the layer with crs='gcj02' (--facilities-crs "
    "gcj02)",
    cli=True,
)
def gcj02_declared_as_wgs84(w):
    """The demo's bus stops shifted into GCJ-02 (as Amap exports them) but declared as WGS84."""
    _bus_stops_in_gcj02(w)


# ----------------------------------------------------------- text encodings


def _names_read_right(result, w):
    assert result.assessment.communities["name"].tolist() == NAMES


@case(
    None,
    "{dir}/communities.shp: no .cpg file: attribute text read as GBK (GB18030)",
    code="encoding_guessed",
    check=_names_read_right,
)
def gbk_shapefile_without_cpg(w):
    """A shapefile written in GBK (as ArcGIS does in China) and copied without its .cpg."""
    shp = w.write_boundaries(w.communities(), "communities.shp", encoding="GBK")
    shp.with_suffix(".cpg").unlink()
    assert "石油".encode("gbk") in shp.with_suffix(".dbf").read_bytes()


@case(None, None, code="encoding_guessed", check=_names_read_right)
def utf8_shapefile_without_cpg(w):
    """A UTF-8 shapefile without .cpg: read right, and nothing to warn about."""
    shp = w.write_boundaries(w.communities(), "communities.shp", encoding="UTF-8")
    shp.with_suffix(".cpg").unlink()


# ----------------------------------------------------------- geometry


def _all_kept(result, w):
    assert result.assessment.communities["code"].tolist() == CODES


def _repaired(result, w):
    _all_kept(result, w)
    assert result.assessment.communities.geometry.is_valid.all()


@case(
    None,
    "{boundaries} feature #2 (code=510106030001): 1 boundary was invalid and repaired (it crosses "
    "itself); check the repaired shape",
    code="repaired_geometry",
    check=_repaired,
)
def bow_tie_polygon(w):
    """A boundary digitised as a bow-tie (its ring crosses itself)."""
    c = w.communities()
    x0, y0, x1, y1 = c.geometry[1].bounds
    c.loc[1, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    w.write_boundaries(c, layer="communities")


@case(
    None,
    "{dir}/facilities.gpkg feature #3: 1 facility is a polygon; a point inside it was used",
    code="polygon_as_point",
)
def facility_as_polygon(w):
    """A school given as its campus polygon (a point inside it is used)."""
    t = w.facility_table()
    pts = gpd.GeoSeries(shapely.points(t["lon"].astype(float), t["lat"].astype(float)), crs=4326).to_crs(GK)
    geoms = np.array(pts.values, dtype=object)
    geoms[2] = shapely.box(pts.x[2] - 40, pts.y[2] - 30, pts.x[2] + 40, pts.y[2] + 30)
    w.write_facilities(gpd.GeoDataFrame(t.drop(columns=["lon", "lat"]), geometry=geoms, crs=GK), "facilities.gpkg")


@case(
    None,
    "{facilities} feature #4: 1 facility has no category; it is kept in the outputs but not used",
    code="no_category",
)
def facility_without_category(w):
    """One facility whose category cell was left empty."""
    t = w.facility_table()
    t.loc[3, "category"] = None
    w.write_facilities(t)


@case(
    None,
    "{boundaries} feature #5 (code=510108006002): 1 boundary has no geometry; it is kept in the outputs "
    "with no results",
    code="empty_geometry",
    check=_all_kept,
)
def empty_geometry(w):
    """A community row without a polygon."""
    c = w.communities()
    c.loc[4, "geometry"] = None
    w.write_boundaries(c, layer="communities")


@case(
    None,
    "{boundaries}: 6 boundaries had Z values (3D); the Z values were dropped (distances are measured on the map plane)",
    code="dropped_z",
)
def boundaries_in_3d(w):
    """Boundaries exported from a 3D (PolygonZ) layer."""
    c = w.communities()
    c = c.set_geometry(shapely.force_3d(c.geometry.values, 500.0))
    w.write_boundaries(c, layer="communities")


@case(
    InputDataError,
    "{boundaries} feature #3 (code=510106030008): a community boundary must be a polygon, this is a "
    "MultiLineString. "
    "Fix: give community boundaries as (multi)polygons",
)
def boundaries_as_lines(w):
    """Community outlines as lines, not polygons."""
    c = w.communities()
    c = c.set_geometry(c.geometry.boundary.values)
    c.loc[[0, 1], "geometry"] = w.communities().geometry[[0, 1]].values
    w.write_boundaries(c, layer="communities")


@case(
    InputDataError,
    "{facilities} feature #2: one of the facilities is a MultiPoint of 2 points. Fix: give one "
    "point per feature (split multipart features, e.g. 'explode' in QGIS)",
    cli=True,
)
def multipart_facility(w):
    """A school with two campuses stored as one MultiPoint feature."""
    t = w.facility_table()
    pts = shapely.points(t["lon"].astype(float), t["lat"].astype(float))
    pts[1] = shapely.multipoints([pts[1], pts[2]])
    w.write_facilities(gpd.GeoDataFrame(t.drop(columns=["lon", "lat"]), geometry=pts, crs=4326), "facilities.gpkg")


@case(
    None,
    "{boundaries}: 5 pairs of community boundaries overlap by more than 1 m² (first: #1 "
    "(code=510108002003) and #2 (code=510106030001), 2,497 m²); what lies in an overlap may be counted for both "
    "communities",
    code="overlapping_boundaries",
)
def overlapping_boundaries(w):
    """石油社区 drawn 30 m too large, over all its neighbours."""
    c = w.communities().to_crs(GK)
    c.loc[0, "geometry"] = c.geometry[0].buffer(30)
    w.write_boundaries(c.to_crs(4490), layer="communities")


@case(
    None,
    "{boundaries}: the community boundaries leave 1 gap between communities larger than 100 m² (31,459 m², "
    "near lon 104.09263, lat 30.67706); demand in a gap belongs to no community",
    code="boundary_gaps",
)
def gaps_between_boundaries(w):
    """石油社区 drawn 10 m inside its neighbours' edges, leaving a ring of land in no community."""
    c = w.communities().to_crs(GK)
    c.loc[0, "geometry"] = c.geometry[0].buffer(-10)
    w.write_boundaries(c.to_crs(4490), layer="communities")


# ----------------------------------------------------------- where facilities are


@case(
    None,
    "{facilities} feature #6: 1 facility lies outside every community boundary; it still serves the "
    "communities it can reach",
    code="facility_outside",
)
def facility_outside_every_boundary(w):
    """A kindergarten across the road from the study area (on a street, outside every community)."""
    t = w.facility_table()
    t.loc[len(t)] = ["春熙路幼儿园", "kindergarten", "104.0782", "30.6551"]
    w.write_facilities(t)


@case(
    None,
    "{facilities}: 1 facility is more than 250 m from every street (e.g. #6: 6060 m); it gets no distance",
    code="unsnapped",
)
def facility_beyond_max_snap(w):
    """A kindergarten whose point is kilometres off the mapped streets (a typo in its longitude)."""
    t = w.facility_table()
    t.loc[len(t)] = ["远郊幼儿园", "kindergarten", "104.2000", "30.6800"]
    w.write_facilities(t)


# ----------------------------------------------------------- the walking network


@case(
    None,
    "{network}: the walking network falls into 39 unconnected parts; kept the largest (3,057 nodes, "
    "863.7 km) and dropped 38 smaller ones (9.60 km of street); pass keep_components='all' to keep them",
    code="network_components",
)
def network_in_several_parts(w):
    """The demo network itself: 38 small islands (closed campuses, cut at the extract's edge)."""
    w.monkeypatch.setattr(settings, "use_cache", False)  # a cached network does not warn again


@case(
    NetworkError,
    "{network}: the file holds no walkable way (1 highway way, none walkable). Fix: use an OSM "
    "extract that covers the study area's streets and footpaths",
    cli=True,
)
def network_without_walkable_way(w):
    """An OSM file whose only highway is a motorway."""
    w.network = w.dir / "motorway.osm"
    w.network.write_text(
        "<?xml version='1.0' encoding='UTF-8'?><osm version='0.6'>"
        "<node id='1' lat='30.67' lon='104.08'/><node id='2' lat='30.68' lon='104.08'/>"
        "<way id='9'><nd ref='1'/><nd ref='2'/><tag k='highway' v='motorway'/></way></osm>",
        encoding="utf-8",
    )


@case(
    NetworkError,
    "{dir}/streets.txt: unknown network file type '.txt'. Fix: give an OSM XML (.osm, .osm.gz, "
    ".osm.bz2), OSM PBF (.osm.pbf) or GraphML (.graphml) file",
    cli=True,
)
def network_of_unknown_type(w):
    """A text file given as the network."""
    w.network = w.dir / "streets.txt"
    w.network.write_text("中山路, 人民路\n", encoding="utf-8")


@case(
    NetworkError,
    "{dir}/chengdu.osm.gz: cannot read this OSM file (the compressed file is cut short or "
    "damaged: it cannot be decompressed to its end). Fix: " + FIX_OSM,
    cli=True,
)
def network_truncated_gzip(w):
    """The demo network cut short by an interrupted download."""
    w.network = w.dir / "chengdu.osm.gz"
    w.network.write_bytes(CHENGDU_OSM.read_bytes()[:200_000])


@case(
    NetworkError,
    "{dir}/chengdu.osm: cannot read this OSM file (the OSM XML ends before its closing </osm> "
    "tag, so the file is incomplete). Fix: " + FIX_OSM,
)
def network_truncated_xml(w):
    """Uncompressed OSM XML cut short."""
    w.network = w.dir / "chengdu.osm"
    w.network.write_bytes(gzip.decompress(CHENGDU_OSM.read_bytes())[:300_000])


@case(NetworkError, "{dir}/chengdu.osm.bz2: network file not found. Fix: check the path given for the network")
def network_not_found(w):
    """A network path that does not exist."""
    w.network = w.dir / "chengdu.osm.bz2"


# ----------------------------------------------------------- standards profiles

PROFILE_HEAD = """\
schema = "servicecircle-profile/1"
key = "my_district"
name_zh = "我的区"
name_en = "My district"
source = "district plan 2024"
"""


@case(
    ProfileError,
    "no profile named 'meishna'. Fix: did you mean 'meishan'? Shipped profiles: "
    f"{SHIPPED}; or give the path of a .toml file",
    cli=True,
)
def unknown_profile_name(w):
    """A misspelt shipped profile name."""
    w.options["standard"] = "meishna"


@case(
    ProfileError,
    "{dir}/my_district.toml: [categories.kindergarten] radius: unknown field. Fix: did you mean 'radius_m'?",
)
def profile_with_typo_field(w):
    """A district profile that changes the kindergarten radius, with 'radius' for 'radius_m'."""
    path = w.dir / "my_district.toml"
    path.write_text(
        PROFILE_HEAD + 'extends = "meishan"\n\n[categories.kindergarten]\nradius = 500\n'
        'source = "district plan 2024"\n',
        encoding="utf-8",
    )
    w.options["standard"] = path


@case(
    ProfileError,
    "{dir}/profiles/my_district.toml: extends: '../base.toml' contains a path separator. Fix: " + FIX_EXTENDS,
)
def profile_extends_escapes_its_folder(w):
    """A profile that tries to extend a file outside its own folder."""
    (w.dir / "profiles").mkdir()
    path = w.dir / "profiles" / "my_district.toml"
    path.write_text(PROFILE_HEAD + 'extends = "../base.toml"\n', encoding="utf-8")
    w.options["standard"] = path


# ----------------------------------------------------------- population raster


@case(
    TooLargeError,
    "{dir}/worldpop.tif: the raster window covering the communities has 575 cells (23 × 25), "
    "more than the limit of 100. Fix: clip the raster to the study area (gdal_translate -projwin), or raise "
    "settings.max_raster_cells",
)
def raster_window_over_the_limit(w):
    """A population raster whose window over the communities is larger than settings.max_raster_cells."""
    import rasterio

    c = w.communities().to_crs(GK)
    x0, y0, x1, y1 = c.total_bounds
    size = 100.0
    width, height = int(np.ceil((x1 - x0) / size)) + 2, int(np.ceil((y1 - y0) / size)) + 2
    with rasterio.open(
        w.dir / "worldpop.tif",
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=1,
        dtype="float32",
        crs=GK,
        transform=rasterio.Affine(size, 0, x0 - size, 0, -size, y1 + size),
    ) as dst:
        dst.write(np.full((height, width), 5.0, dtype="float32"), 1)
    w.monkeypatch.setattr(settings, "max_raster_cells", 100)
    w.options["population"] = w.dir / "worldpop.tif"


# --------------------------------------------------------------------------- #
# running the catalogue
# --------------------------------------------------------------------------- #

IDS = [c.name for c in CASES]


def test_the_corpus_is_large_and_documented():
    check_registry(CASES, 35)
    assert sum(c.cli for c in CASES) * 3 >= len(CASES)  # a third through the command line


@pytest.mark.parametrize("bad", CASES, ids=IDS)
def test_bad_input_gives_its_exact_message(bad: Case, good_inputs: Inputs, monkeypatch):
    run_case(bad, good_inputs, monkeypatch)


CLI_CASES = [c for c in CASES if c.cli]


@pytest.mark.parametrize("bad", CLI_CASES, ids=[c.name for c in CLI_CASES])
def test_bad_input_on_the_command_line(bad: Case, good_inputs: Inputs, network_cache):
    run_case_cli(bad, good_inputs, network_cache)


# --------------------------------------------------------------------------- #
# docs/errors.md documents every warning code and every error class
# --------------------------------------------------------------------------- #

ROOT = Path(__file__).resolve().parents[1]


def _warning_codes_in_source() -> set[str]:
    import ast

    codes = set()
    for path in (ROOT / "src" / "servicecircle").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) in ("warn_data", "DataWarning")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                codes.add(node.args[0].value)
    return codes


def test_docs_list_every_warning_code_and_error_class():
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    codes = _warning_codes_in_source()
    assert {"repaired_geometry", "overlapping_boundaries", "boundary_gaps"} <= codes
    missing = sorted(c for c in codes if f"`{c}`" not in text)
    assert missing == [], f"docs/errors.md does not explain these warning codes: {missing}"
    for cls in (InputDataError, OptionError, CRSError, NetworkError, ProfileError, TooLargeError):
        assert f"`{cls.__name__}`" in text
    assert {c.code for c in CASES if c.code} <= codes
