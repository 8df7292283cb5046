#!/usr/bin/env python
"""Build servicecircle's bundled demo data for central Chengdu into ``data/``.

Run from the repository root::

    .venv/bin/python tools/build_demo_data.py            # writes data/
    .venv/bin/python tools/build_demo_data.py --out DIR  # writes DIR instead

Inputs (real public data, all in the repository):

- ``data/network/chengdu_central_2018.osm.gz``: OpenStreetMap extract, ODbL 1.0
  (``--osm`` may point at the plain ``.osm`` instead);
- ``data/sources/chengdu/adcode/adcode_5101{04..08}.csv`` and
  ``fence_5101{04..08}.json``: administrative codes, community centroids and
  district outlines in GCJ-02, CC BY 4.0 (Vonng/adcode).

The Amap parks CSV of the project's shared data has no licence and is never read here.

Outputs (GeoPackage layers in CGCS2000, EPSG:4490):

- ``network/chengdu_central_2018.osm.gz``: the OSM extract, gzipped
  reproducibly (mtime 0, no file name in the header);
- ``boundaries/chengdu_communities_approx.gpkg`` layer ``communities``:
  APPROXIMATE community polygons (Voronoi cells of the community centroids
  within each district) with ESTIMATED households and residents;
- ``boundaries/chengdu_residential_osm.gpkg`` layer ``residential``: OSM
  ``landuse=residential`` polygons;
- ``facilities/chengdu_facilities_osm.gpkg`` layers ``facilities`` (points)
  and ``greenspace`` (polygons);
- ``README.md`` and ``network/README.md``: what the files are, the
  assumptions and the attributions.

The output is deterministic: rows are sorted, ids are fixed, the gzip header
carries no time stamp and GeoPackage time stamps are pinned
(``OGR_CURRENT_DATE``), so a re-run writes the same bytes with the same
GDAL/GEOS versions.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from servicecircle.coords import gcj02_to_wgs84, transform_geometry_array
from servicecircle.inputs.osm_features import as_points, osm_fids, osm_file_bounds, read_osm_features

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCES = ROOT / "data" / "sources"
DEFAULT_OUT = ROOT / "data"

OSM_NAME = "chengdu_central_2018.osm"
DISTRICTS = ("510104", "510105", "510106", "510107", "510108")

#: Output coordinate system: CGCS2000. It differs from WGS84 by centimetres;
#: pyproj's 4326 -> 4490 transformation is the identity (a "ballpark" offset).
OUT_CRS = "EPSG:4490"
#: Metric CRS for Voronoi cells and areas: CGCS2000 Gauss-Krüger, CM 105°E.
METRIC_CRS = "EPSG:4544"

# ASSUMPTIONS (stated in the README, not facts):
#: Households per hectare of mapped residential land: a floor-area ratio of
#: about 2.5 with about 100 m² of floor area per household
#: (10,000 m² × 2.5 / 100 m² = 250).
HOUSEHOLDS_PER_HA = 250.0
ASSUMED_FAR = 2.5
ASSUMED_FLOOR_AREA_PER_HOUSEHOLD_M2 = 100.0
#: Used only if the gb50180 profile defines no household size.
FALLBACK_HOUSEHOLD_SIZE = 2.62

#: GeoPackage time stamps (gpkg_contents.last_change) pinned for reproducible bytes.
PINNED_DATE = "2018-12-01T00:00:00Z"

METHOD = (
    "Voronoi cell of the adcode community centroid (GCJ-02 converted to WGS84) among the "
    "district's communities with a centroid, computed in EPSG:4544, clipped to the district "
    "fence and to the OSM extract bounds; households = mapped OSM residential land (ha) x 250 "
    "(assumed), residents = households x household size (assumed)"
)

# adcode CSV columns (no header)
COL_CODE, COL_PARENT, COL_NAME, COL_RANK = 0, 1, 2, 3
COL_LON, COL_LAT = 12, 13


@dataclass
class Summary:
    """Numbers printed at the end and written into the README."""

    n_centroids: int = 0
    n_kept: int = 0
    n_clipped: int = 0
    n_with_res: int = 0
    n_without_res: int = 0
    area_km2: float = 0.0
    extract_km2: float = 0.0
    uncovered_km2: float = 0.0
    res_area_ha: float = 0.0
    households: int = 0
    residents: int = 0
    household_size: float = FALLBACK_HOUSEHOLD_SIZE
    household_size_source: str = ""
    per_district: dict | None = None
    n_residential: int = 0
    n_facilities: int = 0
    facilities_by_category: dict | None = None
    n_greenspace: int = 0
    greenspace_by_category: dict | None = None
    point_only_greenspace: list | None = None
    no_res_names: list | None = None


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------


def household_size() -> tuple[float, str]:
    """The household size the gb50180 profile uses, and where it comes from."""
    profile = ROOT / "src" / "servicecircle" / "profiles" / "gb50180.toml"
    try:
        with open(profile, "rb") as fh:
            defaults = tomllib.load(fh).get("defaults", {})
        size = float(defaults["household_size"])
        return size, str(defaults.get("household_size_source", "gb50180 profile [defaults]"))
    except (OSError, KeyError, ValueError, TypeError, tomllib.TOMLDecodeError):
        return FALLBACK_HOUSEHOLD_SIZE, "national average family household size, 2020 census (assumed)"


def read_adcode(sources: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Community rows that carry a centroid, and the names of every code."""
    rows = []
    names: dict[str, str] = {}
    for district in DISTRICTS:
        path = sources / "chengdu" / "adcode" / f"adcode_{district}.csv"
        with open(path, encoding="utf-8", newline="") as fh:
            for rec in csv.reader(fh):
                if not rec:
                    continue
                names[rec[COL_CODE]] = rec[COL_NAME]
                if rec[COL_RANK] == "village" and rec[COL_LON] and rec[COL_LAT]:
                    rows.append((rec[COL_CODE], rec[COL_NAME], float(rec[COL_LON]), float(rec[COL_LAT])))
    frame = pd.DataFrame(rows, columns=["code", "name", "lon_gcj02", "lat_gcj02"])
    frame = frame.sort_values("code", kind="stable").reset_index(drop=True)
    if frame["code"].duplicated().any():
        raise SystemExit("duplicate community codes in the adcode files")
    lon, lat = gcj02_to_wgs84(frame["lon_gcj02"].to_numpy(), frame["lat_gcj02"].to_numpy())
    frame["lon"] = lon
    frame["lat"] = lat
    return frame, names


def read_fences(sources: Path) -> gpd.GeoSeries:
    """District outlines converted from GCJ-02 to WGS84, indexed by district code."""
    geoms = []
    for district in DISTRICTS:
        path = sources / "chengdu" / "adcode" / f"fence_{district}.json"
        with open(path, encoding="utf-8") as fh:
            geom = shapely.geometry.shape(json.load(fh))
        geom = transform_geometry_array(geom, gcj02_to_wgs84)
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        geoms.append(geom)
    return gpd.GeoSeries(geoms, index=list(DISTRICTS), crs="EPSG:4326")


# --------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------


def write_osm_gz(src: Path, dst: Path) -> None:
    """Gzip the OSM extract with no time stamp and no file name in the header.

    ``src`` may be the plain ``.osm`` or an already gzipped copy (the one shipped
    in ``data/network``), which is decompressed and written again the same way.
    """
    dst.parent.mkdir(parents=True, exist_ok=True)
    data = gzip.decompress(src.read_bytes()) if src.suffix == ".gz" else src.read_bytes()
    tmp = dst.with_suffix(".gz.part")
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as fout:
            fout.write(data)
    os.replace(tmp, dst)


def voronoi_communities(
    communities: pd.DataFrame, fences: gpd.GeoSeries, bounds: tuple[float, float, float, float]
) -> gpd.GeoDataFrame:
    """Voronoi cells per district, clipped to the district and the extract bounds."""
    box = shapely.box(*bounds)
    fences_m = fences.to_crs(METRIC_CRS)
    parts = []
    for district in DISTRICTS:
        sub = communities[communities["code"].str[:6] == district].reset_index(drop=True)
        if sub.empty:
            continue
        pts = gpd.GeoSeries(shapely.points(sub["lon"], sub["lat"]), crs="EPSG:4326").to_crs(METRIC_CRS)
        fence_m = fences_m[district]
        if len(sub) == 1:
            cells_m = np.array([fence_m], dtype=object)
        else:
            diagram = shapely.voronoi_polygons(shapely.multipoints(pts.values), extend_to=fence_m, ordered=True)
            cells_m = shapely.get_parts(diagram)
            if len(cells_m) != len(sub):
                raise SystemExit(f"district {district}: {len(cells_m)} Voronoi cells for {len(sub)} points")
            # ordered=True keeps input order; check it anyway.
            if not shapely.contains(cells_m, pts.values).all():
                raise SystemExit(f"district {district}: Voronoi cells do not match their centroids")
        cells = gpd.GeoSeries(cells_m, crs=METRIC_CRS).to_crs("EPSG:4326").values
        in_district = shapely.intersection(cells, fences[district])
        clipped = shapely.intersection(in_district, box)
        frame = sub.copy()
        frame["district_geom"] = in_district
        frame["geometry"] = clipped
        parts.append(frame)
    out = pd.concat(parts, ignore_index=True)
    inside = shapely.contains_xy(box, out["lon"].to_numpy(), out["lat"].to_numpy())
    out = out[inside].reset_index(drop=True)
    before = gpd.GeoSeries(out["district_geom"], crs="EPSG:4326").to_crs(METRIC_CRS).area.to_numpy()
    gdf = gpd.GeoDataFrame(out.drop(columns="district_geom"), geometry="geometry", crs="EPSG:4326")
    gdf["geometry"] = gpd.GeoSeries([polygonal(g) for g in gdf.geometry.values], index=gdf.index, crs="EPSG:4326")
    after = gdf.geometry.to_crs(METRIC_CRS).area.to_numpy()
    gdf["area_m2"] = after
    gdf["clipped_to_extract"] = (before - after) > 1.0
    return gdf


def polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygon parts of a geometry (an intersection can leave stray lines or points)."""
    parts = shapely.get_parts(geom)
    polys = parts[shapely.get_type_id(parts) == 3]
    if len(polys) == 0:
        return shapely.Polygon()
    return polys[0] if len(polys) == 1 else shapely.multipolygons(polys)


def residential_per_community(cells: gpd.GeoDataFrame, residential: gpd.GeoDataFrame) -> np.ndarray:
    """Area (m²) of the union of residential polygons inside each cell."""
    if residential.empty:
        return np.zeros(len(cells))
    union = shapely.union_all(residential.geometry.to_crs(METRIC_CRS).values)
    cells_m = cells.geometry.to_crs(METRIC_CRS).values
    return shapely.area(shapely.intersection(cells_m, union))


def round_half_up(values: np.ndarray) -> np.ndarray:
    return np.floor(np.asarray(values, dtype=np.float64) + 0.5)


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


def write_layer(gdf: gpd.GeoDataFrame, path: Path, layer: str, *, append: bool = False) -> None:
    """Write one GeoPackage layer in EPSG:4490 with pinned time stamps."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not append and path.exists():
        path.unlink()
    out = gdf.to_crs(OUT_CRS)
    geom_types = set(out.geom_type.dropna())
    promote = bool(geom_types & {"Polygon", "MultiPolygon"})
    pyogrio.write_dataframe(
        out,
        path,
        layer=layer,
        driver="GPKG",
        promote_to_multi=promote,
        append=False,
        layer_options={"SPATIAL_INDEX": "YES"},
    )


def fmt_int(n: float) -> str:
    return f"{int(n):,}"


def write_readmes(out: Path, s: Summary) -> None:
    """data/README.md and data/network/README.md, with this run's numbers."""
    fac = "\n".join(f"| `{k}` | {v} |" for k, v in sorted(s.facilities_by_category.items()))
    green = ", ".join(f"{k} {v}" for k, v in sorted(s.greenspace_by_category.items()))
    per_d = "\n".join(
        f"| {code} {d['name']} | {d['kept']} | {d['with_res']} | {fmt_int(d['households'])} |"
        for code, d in sorted(s.per_district.items())
    )
    point_green = "; ".join(s.point_only_greenspace) or "none"
    no_res = "、".join(s.no_res_names) if s.no_res_names else "none"
    text = f"""# servicecircle demo data: central Chengdu

<!-- Generated by tools/build_demo_data.py: edit the script, not this file. -->

> **WARNING: the community polygons and the household and resident numbers in
> `boundaries/chengdu_communities_approx.gpkg` are APPROXIMATE DEMO DATA made up
> for trying servicecircle. They are NOT official boundaries or statistics and
> must not be used for planning decisions.** No public copy of Chengdu's
> community (社区) boundaries or populations exists; the polygons are Voronoi
> cells around published community centroids and the households are an
> estimate from mapped residential land under a stated assumption.

> **警告：`boundaries/chengdu_communities_approx.gpkg` 中的社区边界、户数和人口均为
> 演示用的近似数据，并非官方边界或统计数据，不得用于规划决策。** 社区范围是根据
> 公开的社区中心点坐标生成的泰森多边形（Voronoi），并裁剪到区界和 OSM 数据范围；
> 户数按 OSM 中已绘制的居住用地面积乘以假定的每公顷 {HOUSEHOLDS_PER_HA:.0f} 户估算，
> 人口按每户 {s.household_size} 人估算。没有已绘制居住用地的社区，户数和人口为空（NULL），
> 即"无需求数据"。

Rebuild everything (deterministic, a few seconds):

```
.venv/bin/python tools/build_demo_data.py            # into data/
.venv/bin/python tools/build_demo_data.py --out DIR  # somewhere else
```

The script reads only the OSM extract (`network/`) and the adcode files
(`sources/`, see `sources/README.md`). The Amap POI file of the project's shared
data has no licence and nothing from it is in `data/`.

All layers are GeoPackage in CGCS2000 (EPSG:4490). CGCS2000 and WGS84 differ by
centimetres, so the WGS84 OSM coordinates are written unchanged.

## Files

| file | layer | what | licence |
|---|---|---|---|
| `network/chengdu_central_2018.osm.gz` | | The OSM XML extract of central Chengdu (2018, bounds 104.0421–104.1296 E, 30.6528–30.7279 N), unchanged, gzipped. The walking network is built from it. | ODbL 1.0 |
| `boundaries/chengdu_communities_approx.gpkg` | `communities` | {s.n_kept} **approximate** community polygons with **estimated** households and residents | ODbL 1.0 (uses OSM residential land) with adcode CC BY 4.0 |
| `boundaries/chengdu_residential_osm.gpkg` | `residential` | {s.n_residential} OSM `landuse=residential` polygons (`osm_type`, `osm_id`, `name`, `area_m2`) | ODbL 1.0 |
| `facilities/chengdu_facilities_osm.gpkg` | `facilities` | {s.n_facilities} facility points inside the extract bounds (`fid_osm`, `category`, `name`, `osm_tags`, `area_m2`) | ODbL 1.0 |
| `facilities/chengdu_facilities_osm.gpkg` | `greenspace` | {s.n_greenspace} green-space polygons touching the extract bounds ({green}) with `category`, `name`, `area_m2`, `fid_osm` | ODbL 1.0 |

### Communities layer

Columns: `code` (12-digit community code, text), `name`, `subdistrict_code`
(9 digits), `subdistrict`, `district_code` (6 digits), `district`, `area_m2`
(of the polygon), `residential_area_m2`, `households`, `residents`,
`clipped_to_extract`, `approximate` (always true), `method`.

How it was made:

1. The adcode files list 535 communities (社区, 12-digit codes) in the five
   central districts; {s.n_centroids} of them carry a centroid. The centroids are
   in GCJ-02 (Amap's offset datum) and were converted to WGS84
   (`servicecircle.coords.gcj02_to_wgs84`, iterative inverse). So were the
   district outlines (`fence_*.json`).
2. Per district, the Voronoi cells of that district's centroids were computed
   in CGCS2000 Gauss-Krüger EPSG:4544 and clipped to the district outline, then
   to the OSM extract's bounds.
3. Communities whose centroid lies inside the extract bounds are kept
   ({s.n_kept}); {s.n_clipped} of them are cut by the bounds
   (`clipped_to_extract` = true).
4. `residential_area_m2` is the area of mapped OSM `landuse=residential`
   land (overlaps merged) inside the polygon.
5. `households` = residential hectares × {HOUSEHOLDS_PER_HA:.0f}, rounded;
   `residents` = households × {s.household_size}, rounded.

| district | communities kept | with residential land | households (estimate) |
|---|---|---|---|
{per_d}

The kept polygons cover {s.area_km2:.1f} of the {s.extract_km2:.1f} km² of the five districts
inside the extract; the other {s.uncovered_km2:.1f} km² belong to cells of communities whose
centroid lies outside the extract (and to the sliver of 武侯区 inside it, none of whose
communities with a centroid lies inside), so they have no community in this layer.

Totals: {s.n_kept} communities, {s.area_km2:.1f} km², {s.res_area_ha:.1f} ha of mapped
residential land, **{fmt_int(s.households)} households and {fmt_int(s.residents)} residents
(estimates)**. {s.n_with_res} communities have mapped residential land;
**{s.n_without_res} have none, and their `households` and `residents` are NULL**
(servicecircle reports them as "no demand data", not as zero): {no_res}.

### Assumptions (plain words)

- **Density.** Every hectare of land mapped as `landuse=residential` in OSM is
  assumed to hold {HOUSEHOLDS_PER_HA:.0f} households: a floor-area ratio of about
  {ASSUMED_FAR} with about {ASSUMED_FLOOR_AREA_PER_HOUSEHOLD_M2:.0f} m² of floor area per household. This is an
  assumption for the demo, not a measured figure; real densities in central
  Chengdu range from low-rise work-unit housing to 30-storey towers.
- **Household size.** {s.household_size} persons per household: {s.household_size_source}.
- **Mapped land only.** The 2018 OSM extract maps residential land unevenly:
  much housing is not mapped at all, so many communities get too few
  households or none.
- **Polygons.** Only {s.n_centroids} of 535 communities have a published
  centroid, so each cell also covers neighbouring communities that have none.
  Real community boundaries follow streets and rivers, not Voronoi edges.

## Facilities and green space

The OSM objects were read with `servicecircle.inputs.osm_features.read_osm_features`
and the rules in `src/servicecircle/inputs/osm_categories.toml` (first matching
rule wins; several rules are interpretations and say so). Polygons (schools,
markets, hospitals mapped as areas) became a point inside the polygon
(`representative_point`), with the polygon's area in `area_m2`. `fid_osm` is
`n<id>`, `w<id>` or `r<id>` for an OSM node, way or relation.

| category | points |
|---|---|
{fac}

Categories that are not profile categories (`school`, `hospital`, `pharmacy`,
`marketplace`, `arts_centre`) are kept for reference. `marketplace` holds
`amenity=marketplace` objects whose name says they sell non-food goods
(electronics, fabric, military surplus); the others are `food_market`.
Green space mapped only as a point is not in the `greenspace` layer: {point_green}.

## Known problems in the source data

- OSM 2018 is incomplete: residential land, kindergartens (8 found) and
  community health facilities are heavily under-mapped, so gaps found with this
  data are mostly gaps in the map.
- Some tags are doubtful: `amenity=clinic` 丽婴房 carries the name of a
  children's-wear brand;
  `amenity=marketplace` 文殊坊 is a historic shopping street, kept as a food
  market; several kindergartens are tagged `amenity=school` (the name rule
  catches them).
- The adcode names are not uniform: some sub-districts end in 街道办事处,
  others in 街道; community names end in 社区居委会 (the residents' committee).
- The extract's administrative relations are truncated and not used.

## Attribution and licences

- OSM-derived data (`network/`, `facilities/`, `boundaries/chengdu_residential_osm.gpkg`
  and the residential figures of the communities layer):
  **© OpenStreetMap contributors, ODbL 1.0**
  (<https://www.openstreetmap.org/copyright>, <https://opendatacommons.org/licenses/odbl/1-0/>).
  These are derivative databases and are offered under the ODbL as well.
- Administrative codes, names, community centroids and district outlines:
  **adcode dataset (Vonng/adcode), CC BY 4.0**
  (<https://github.com/Vonng/adcode>, <https://creativecommons.org/licenses/by/4.0/>);
  converted from GCJ-02 to WGS84 and used to make the approximate polygons.
"""
    (out / "README.md").write_text(text, encoding="utf-8")
    net = """# Walking network source: central Chengdu, OpenStreetMap 2018

`chengdu_central_2018.osm.gz` is an unchanged OpenStreetMap XML extract of
central Chengdu (锦江, 青羊, 金牛, 武侯, 成华), 2018, made with osmconvert, bounds
104.0421–104.1296 E, 30.6528–30.7279 N (WGS84), gzipped by
`tools/build_demo_data.py` (no time stamp, so the file is reproducible).
Nodes and ways outside the bounds belong to ways that cross them.

**© OpenStreetMap contributors, ODbL 1.0.** The data is available under the Open
Database License: <https://www.openstreetmap.org/copyright>,
<https://opendatacommons.org/licenses/odbl/1-0/>. If you share a database
derived from it, share it under the ODbL and keep this attribution.

Its administrative relations are truncated by the extract: do not use them as
boundaries.
"""
    (out / "network" / "README.md").write_text(net, encoding="utf-8")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def build(out: Path, sources: Path, osm_src: Path) -> Summary:
    """Build every output file into ``out``; return the summary."""
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": PINNED_DATE})
    s = Summary()
    osm_gz = out / "network" / f"{OSM_NAME}.gz"
    write_osm_gz(osm_src, osm_gz)

    bounds = osm_file_bounds(osm_gz)
    if bounds is None:
        raise SystemExit(f"{osm_gz}: the OSM file declares no <bounds>")
    box = shapely.box(*bounds)
    features = read_osm_features(osm_gz)
    fids = osm_fids(features)
    features.insert(0, "fid_osm", fids)

    # Residential land.
    res = features[features["kind"] == "residential"].copy()
    res = res[res.geometry.intersects(box)]
    res["area_m2"] = res.geometry.to_crs(METRIC_CRS).area
    res_layer = (
        res[["osm_type", "osm_id", "name", "area_m2", "geometry"]]
        .sort_values(["osm_type", "osm_id"], kind="stable")
        .reset_index(drop=True)
    )
    s.n_residential = len(res_layer)

    # Communities.
    communities, names = read_adcode(sources)
    s.n_centroids = len(communities)
    fences = read_fences(sources)
    cells = voronoi_communities(communities, fences, bounds)
    res_m2 = residential_per_community(cells, res_layer)
    size, size_source = household_size()
    s.household_size, s.household_size_source = size, size_source
    has_res = res_m2 > 0.0
    households = np.where(has_res, round_half_up(res_m2 / 10_000.0 * HOUSEHOLDS_PER_HA), np.nan)
    residents = np.where(has_res, round_half_up(households * size), np.nan)
    codes = cells["code"]
    comm = (
        gpd.GeoDataFrame(
            {
                "code": codes.astype(str),
                "name": cells["name"],
                "subdistrict_code": codes.str[:9],
                "subdistrict": [names.get(c[:9] + "000", "") for c in codes],
                "district_code": codes.str[:6],
                "district": [names.get(c[:6] + "000000", "") for c in codes],
                "area_m2": np.round(cells["area_m2"].to_numpy(), 1),
                "residential_area_m2": np.round(res_m2, 1),
                "households": pd.array(households, dtype="Int64"),
                "residents": pd.array(residents, dtype="Int64"),
                "clipped_to_extract": cells["clipped_to_extract"].to_numpy(dtype=bool),
                "approximate": True,
                "method": METHOD,
            },
            geometry=cells.geometry.values,
            crs="EPSG:4326",
        )
        .sort_values("code", kind="stable")
        .reset_index(drop=True)
    )

    s.n_kept = len(comm)
    s.n_clipped = int(comm["clipped_to_extract"].sum())
    s.n_with_res = int(has_res.sum())
    s.n_without_res = s.n_kept - s.n_with_res
    s.area_km2 = float(comm["area_m2"].sum() / 1e6)
    s.res_area_ha = float(comm["residential_area_m2"].sum() / 1e4)
    s.households = int(comm["households"].sum())
    s.residents = int(comm["residents"].sum())
    s.no_res_names = comm.loc[comm["households"].isna(), "name"].tolist()
    in_extract = shapely.intersection(shapely.union_all(fences.values), box)
    uncovered = shapely.difference(in_extract, shapely.union_all(comm.geometry.values))
    metric_area = gpd.GeoSeries([in_extract, uncovered], crs="EPSG:4326").to_crs(METRIC_CRS).area
    s.extract_km2 = float(metric_area.iloc[0] / 1e6)
    s.uncovered_km2 = float(metric_area.iloc[1] / 1e6)
    s.per_district = {}
    for code, grp in comm.groupby("district_code", sort=True):
        s.per_district[code] = {
            "name": grp["district"].iloc[0],
            "kept": len(grp),
            "with_res": int(grp["households"].notna().sum()),
            "households": int(grp["households"].sum()),
        }

    # Facilities: points inside the bounds.
    fac = features[features["kind"] == "facility"]
    fac_pts = as_points(fac, metric_crs=METRIC_CRS)
    fac_pts = fac_pts[shapely.contains_xy(box, fac_pts.geometry.x.to_numpy(), fac_pts.geometry.y.to_numpy())]
    fac_layer = (
        fac_pts[["fid_osm", "category", "name", "osm_tags", "area_m2", "geometry"]]
        .assign(area_m2=lambda d: np.round(d["area_m2"], 1))
        .sort_values(["category", "fid_osm"], kind="stable")
        .reset_index(drop=True)
    )
    s.n_facilities = len(fac_layer)
    s.facilities_by_category = fac_layer["category"].value_counts().to_dict()

    # Green space polygons touching the bounds.
    green = features[features["kind"] == "greenspace"]
    is_poly = green.geom_type.isin(["Polygon", "MultiPolygon"])
    s.point_only_greenspace = [
        f"{r.name or '(unnamed)'} ({r.category}, {r.fid_osm})" for r in green[~is_poly].itertuples()
    ]
    green = green[is_poly & green.geometry.intersects(box)].copy()
    green["area_m2"] = np.round(green.geometry.to_crs(METRIC_CRS).area, 1)
    green_layer = (
        green[["fid_osm", "category", "name", "area_m2", "geometry"]]
        .sort_values(["category", "fid_osm"], kind="stable")
        .reset_index(drop=True)
    )
    s.n_greenspace = len(green_layer)
    s.greenspace_by_category = green_layer["category"].value_counts().to_dict()

    res_layer["area_m2"] = np.round(res_layer["area_m2"], 1)
    write_layer(comm, out / "boundaries" / "chengdu_communities_approx.gpkg", "communities")
    write_layer(res_layer, out / "boundaries" / "chengdu_residential_osm.gpkg", "residential")
    fac_path = out / "facilities" / "chengdu_facilities_osm.gpkg"
    write_layer(fac_layer, fac_path, "facilities")
    write_layer(green_layer, fac_path, "greenspace", append=True)
    write_readmes(out, s)
    return s


def print_summary(s: Summary, out: Path) -> None:
    print(f"demo data written to {out}")
    print(
        f"communities: {s.n_kept} kept of {s.n_centroids} with a centroid "
        f"({s.n_clipped} cut by the extract bounds), {s.area_km2:.1f} km² "
        f"of the {s.extract_km2:.1f} km² of the five districts inside the extract "
        f"({s.uncovered_km2:.1f} km² not covered)"
    )
    print(f"  with mapped residential land: {s.n_with_res}; without (households NULL): {s.n_without_res}")
    print(
        f"  residential land {s.res_area_ha:.1f} ha -> {fmt_int(s.households)} households, "
        f"{fmt_int(s.residents)} residents (ESTIMATES: {HOUSEHOLDS_PER_HA:.0f} households/ha, "
        f"{s.household_size} persons/household)"
    )
    for code, d in sorted(s.per_district.items()):
        print(
            f"  {code} {d['name']}: {d['kept']} communities, {d['with_res']} with residential land, "
            f"{fmt_int(d['households'])} households"
        )
    print(f"residential polygons: {s.n_residential}")
    print(f"facilities: {s.n_facilities} points in {len(s.facilities_by_category)} categories")
    print("  " + ", ".join(f"{k} {v}" for k, v in sorted(s.facilities_by_category.items())))
    print(
        f"green space polygons: {s.n_greenspace} ("
        + ", ".join(f"{k} {v}" for k, v in sorted(s.greenspace_by_category.items()))
        + ")"
    )
    if s.point_only_greenspace:
        print("  mapped only as points, not in the greenspace layer: " + "; ".join(s.point_only_greenspace))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: data/)")
    parser.add_argument(
        "--sources",
        type=Path,
        default=DEFAULT_SOURCES,
        help="folder with chengdu/adcode/ sources (default: data/sources)",
    )
    parser.add_argument(
        "--osm",
        type=Path,
        default=ROOT / "data" / "network" / f"{OSM_NAME}.gz",
        help="the OSM extract, .osm or .osm.gz (default: the copy in data/network)",
    )
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    summary = build(out, args.sources.resolve(), args.osm.resolve())
    print_summary(summary, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
