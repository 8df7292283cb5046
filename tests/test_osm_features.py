"""Reading facilities, green space and residential land from OSM files."""

from __future__ import annotations

import bz2
import gzip
import math
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import shapely

from servicecircle.errors import DataWarning, InputDataError
from servicecircle.inputs.osm_features import (
    DEFAULT_MAPPING,
    as_points,
    load_category_rules,
    match_rule,
    osm_fids,
    osm_file_bounds,
    read_osm_features,
)

# A square park (way 10), a multipolygon park with a hole (relation 30), a
# school named 小学 (way 40), a kindergarten node, a school node named 幼儿园
# (first rule wins: kindergarten), a metro stop named after a hospital (no
# match), and a broken multipolygon (member way 99 missing).
LAT0 = 30.70
LON0 = 104.05
# outer ring of the relation: 0.004° x 0.003°; inner ring: 0.002° x 0.001°
OUTER = (LON0 + 0.010, LAT0, LON0 + 0.014, LAT0 + 0.003)
INNER = (LON0 + 0.011, LAT0 + 0.001, LON0 + 0.013, LAT0 + 0.002)
SQUARE = (LON0, LAT0, LON0 + 0.002, LAT0 + 0.002)
SCHOOL = (LON0 + 0.020, LAT0, LON0 + 0.021, LAT0 + 0.001)


def _ring_nodes(first_id: int, box: tuple[float, float, float, float]) -> tuple[str, list[int]]:
    x0, y0, x1, y1 = box
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    xml = "".join(
        f'  <node id="{first_id + i}" version="1" lat="{y:.7f}" lon="{x:.7f}"/>\n' for i, (x, y) in enumerate(corners)
    )
    ids = [first_id + i for i in range(4)] + [first_id]
    return xml, ids


def _way(way_id: int, refs: list[int], tags: dict[str, str]) -> str:
    nds = "".join(f'    <nd ref="{r}"/>\n' for r in refs)
    tg = "".join(f'    <tag k="{k}" v="{v}"/>\n' for k, v in tags.items())
    return f'  <way id="{way_id}" version="1">\n{nds}{tg}  </way>\n'


def _tiny_osm() -> str:
    sq_nodes, sq_refs = _ring_nodes(100, SQUARE)
    out_nodes, out_refs = _ring_nodes(200, OUTER)
    in_nodes, in_refs = _ring_nodes(300, INNER)
    sc_nodes, sc_refs = _ring_nodes(400, SCHOOL)
    nodes = (
        f'  <node id="1" version="1" lat="{LAT0 + 0.005:.7f}" lon="{LON0 + 0.005:.7f}">\n'
        '    <tag k="amenity" v="kindergarten"/>\n    <tag k="name" v="阳光幼儿园"/>\n  </node>\n'
        f'  <node id="2" version="1" lat="{LAT0 + 0.006:.7f}" lon="{LON0 + 0.005:.7f}">\n'
        '    <tag k="amenity" v="school"/>\n    <tag k="name" v="小太阳幼儿园"/>\n  </node>\n'
        f'  <node id="3" version="1" lat="{LAT0 + 0.007:.7f}" lon="{LON0 + 0.005:.7f}">\n'
        '    <tag k="name" v="市二医院"/>\n    <tag k="public_transport" v="stop_position"/>\n'
        '    <tag k="railway" v="stop"/>\n  </node>\n'
        f'  <node id="4" version="1" lat="{LAT0 + 0.008:.7f}" lon="{LON0 + 0.005:.7f}">\n'
        '    <tag k="highway" v="bus_stop"/>\n    <tag k="name" v="Stop"/>\n'
        '    <tag k="name:zh" v="公交站"/>\n  </node>\n'
        f"{sq_nodes}{out_nodes}{in_nodes}{sc_nodes}"
        f'  <node id="500" version="1" lat="{LAT0 + 0.01:.7f}" lon="{LON0:.7f}"/>\n'
        f'  <node id="501" version="1" lat="{LAT0 + 0.01:.7f}" lon="{LON0 + 0.001:.7f}"/>\n'
    )
    ways = (
        _way(10, sq_refs, {"leisure": "park", "name": "方块公园"})
        + _way(20, out_refs, {})
        + _way(21, in_refs, {})
        + _way(40, sc_refs, {"amenity": "school", "name": "xx小学"})
        + _way(50, [500, 501], {"leisure": "park", "name": "线公园"})
    )
    relations = (
        '  <relation id="30" version="1">\n'
        '    <member type="way" ref="20" role="outer"/>\n'
        '    <member type="way" ref="21" role="inner"/>\n'
        '    <tag k="type" v="multipolygon"/>\n    <tag k="leisure" v="park"/>\n'
        '    <tag k="name" v="环形公园"/>\n  </relation>\n'
        '  <relation id="31" version="1">\n'
        '    <member type="way" ref="99" role="outer"/>\n'
        '    <tag k="type" v="multipolygon"/>\n    <tag k="leisure" v="park"/>\n'
        '    <tag k="name" v="残缺公园"/>\n  </relation>\n'
    )
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<osm version="0.6" generator="hand">\n'
        f'  <bounds minlat="{LAT0}" minlon="{LON0}" maxlat="{LAT0 + 0.01}" maxlon="{LON0 + 0.03}"/>\n'
        f"{nodes}{ways}{relations}</osm>\n"
    )


@pytest.fixture
def tiny_osm(tmp_path):
    path = tmp_path / "tiny.osm"
    path.write_text(_tiny_osm(), encoding="utf-8")
    return path


def _read(path, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gdf = read_osm_features(path, **kw)
    return gdf, [w.message for w in caught if isinstance(w.message, DataWarning)]


def _same(a, b) -> bool:
    """Same shape up to OSM's 7-decimal coordinate precision."""
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=1e-7))


def _sphere_rect_area(box: tuple[float, float, float, float]) -> float:
    """Area of a longitude/latitude rectangle on the mean-radius sphere, m²."""
    r = 6_371_008.8
    x0, y0, x1, y1 = box
    return r * r * math.radians(x1 - x0) * (math.sin(math.radians(y1)) - math.sin(math.radians(y0)))


def test_tiny_file_features_and_geometries(tiny_osm):
    gdf, warns = _read(tiny_osm)
    assert gdf.crs.to_epsg() == 4326
    assert list(gdf.columns) == ["category", "kind", "name", "osm_type", "osm_id", "osm_tags", "geometry"]
    got = {(r.osm_type, r.osm_id): r for r in gdf.itertuples()}
    assert set(got) == {("node", 1), ("node", 2), ("node", 4), ("way", 10), ("way", 40), ("relation", 30)}

    kg = got[("node", 1)]
    assert (kg.category, kg.kind, kg.name, kg.osm_tags) == (
        "kindergarten",
        "facility",
        "阳光幼儿园",
        "amenity=kindergarten",
    )
    assert _same(kg.geometry, shapely.Point(LON0 + 0.005, LAT0 + 0.005))
    # first rule wins: the name rule for 幼儿园 comes before the school rules
    assert got[("node", 2)].category == "kindergarten"
    assert got[("node", 2)].osm_tags == "name~幼儿园"
    # name:zh is preferred over name
    assert got[("node", 4)].name == "公交站"
    assert got[("node", 4)].category == "bus_stop"

    park = got[("way", 10)]
    assert (park.category, park.kind, park.name) == ("park", "greenspace", "方块公园")
    assert park.geometry.geom_type == "Polygon"
    assert _same(park.geometry, shapely.box(*SQUARE))

    school = got[("way", 40)]
    assert (school.category, school.osm_tags) == ("primary_school", "amenity=school;name~小学")

    ring = got[("relation", 30)]
    assert (ring.category, ring.name) == ("park", "环形公园")
    assert ring.geometry.geom_type == "Polygon"
    assert len(ring.geometry.interiors) == 1
    assert _same(ring.geometry, shapely.box(*OUTER).difference(shapely.box(*INNER)))

    # rows are sorted: nodes, ways, relations, by id
    assert list(zip(gdf.osm_type, gdf.osm_id)) == sorted(
        got, key=lambda k: ({"node": 0, "way": 1, "relation": 2}[k[0]], k[1])
    )
    codes = sorted(w.code for w in warns)
    assert codes == ["osm_area_not_assembled", "osm_open_way"]
    assert any("relation 31" in str(w) for w in warns)
    assert any("way 50" in str(w) for w in warns)


def test_multipolygon_area_is_outer_minus_inner(tiny_osm):
    gdf, _ = _read(tiny_osm)
    pts = as_points(gdf)
    ring = pts[(pts.osm_type == "relation") & (pts.osm_id == 30)].iloc[0]
    expected = _sphere_rect_area(OUTER) - _sphere_rect_area(INNER)
    assert ring.area_m2 == pytest.approx(expected, rel=0.01)
    square = pts[(pts.osm_type == "way") & (pts.osm_id == 10)].iloc[0]
    assert square.area_m2 == pytest.approx(_sphere_rect_area(SQUARE), rel=0.01)
    # the representative point is inside the ring, not in its hole
    poly = shapely.box(*OUTER).difference(shapely.box(*INNER))
    assert poly.contains(ring.geometry)
    assert not shapely.box(*INNER).contains(ring.geometry)
    # nodes keep their point and get no area
    node = pts[pts.osm_type == "node"]
    assert node.area_m2.isna().all()
    assert node.geometry.equals(gdf[gdf.osm_type == "node"].geometry)
    assert (pts.geom_type == "Point").all()
    assert pts.crs == gdf.crs


def test_compressed_and_pbf_files_read_the_same(tiny_osm, tmp_path):
    plain, _ = _read(tiny_osm)
    data = tiny_osm.read_bytes()
    gz = tmp_path / "tiny.osm.gz"
    gz.write_bytes(gzip.compress(data, mtime=0))
    bz = tmp_path / "tiny.osm.bz2"
    bz.write_bytes(bz2.compress(data))
    pbf = tmp_path / "tiny.osm.pbf"
    import osmium

    writer = osmium.SimpleWriter(str(pbf))
    try:
        for obj in osmium.FileProcessor(str(tiny_osm)):
            writer.add(obj)
    finally:
        writer.close()
    for path in (gz, bz, pbf):
        other, _ = _read(path)
        assert other.drop(columns="geometry").equals(plain.drop(columns="geometry"))
        assert other.geometry.geom_equals(plain.geometry).all()
    assert osm_file_bounds(gz) == pytest.approx((LON0, LAT0, LON0 + 0.03, LAT0 + 0.01))


def test_first_matching_rule_wins_with_custom_rules(tiny_osm):
    rules = [
        {"category": "first", "kind": "facility", "tags": {"amenity": "*"}},
        {"category": "second", "kind": "facility", "tags": {"amenity": "kindergarten"}},
    ]
    gdf, _ = _read(tiny_osm, mapping=rules)
    assert set(gdf.category) == {"first"}
    assert set(gdf.osm_id) == {1, 2, 40}
    swapped, _ = _read(tiny_osm, mapping=rules[::-1])
    assert dict(zip(swapped.osm_id, swapped.category)) == {1: "second", 2: "first", 40: "first"}


def test_rule_details():
    rules = load_category_rules()

    def cat(**tags):
        found = match_rule(tags, rules)
        return None if found is None else found[0].category

    assert cat(amenity="school", name="成都市第八中学") == "middle_school"
    assert cat(amenity="school", name="石室初中青龙校区") == "middle_school"
    assert cat(amenity="school", name="成都十八中") == "middle_school"
    assert cat(amenity="school", name="某某外国语学校（高中部）") == "school"
    assert cat(amenity="school", name="新方舟学校") == "school"
    assert cat(amenity="school") == "school"
    assert cat(amenity="hospital", name="某某社区卫生服务中心") == "community_health_centre"
    assert cat(amenity="clinic", name="某某社区卫生服务站") == "community_health_station"
    assert cat(amenity="doctors") == "community_health_station"
    assert cat(amenity="hospital", name="市二医院") == "hospital"
    assert cat(name="市二医院", railway="station") is None
    assert cat(amenity="marketplace", name="八里庄菜市场") == "food_market"
    assert cat(amenity="marketplace", name="城北电子城") == "marketplace"
    assert cat(shop="supermarket") == "supermarket"
    assert cat(amenity="social_facility", social_facility="nursing_home") == "elderly_care_home"
    assert (
        cat(amenity="social_facility", social_facility="day_care", **{"social_facility:for": "senior"})
        == "elderly_day_care"
    )
    assert cat(amenity="community_centre", name="社区文化活动中心") == "cultural_activity_centre"
    assert cat(amenity="community_centre") == "community_service_station"
    assert cat(leisure="pitch") == "small_sports_ground"
    assert cat(leisure="stadium") == "large_sports_ground"
    assert cat(leisure="playground") == "children_activity_space"
    assert cat(landuse="residential", name="培华社区") == "residential"
    assert cat(leisure="park") == "park"
    kinds = {r.category: r.kind for r in rules}
    assert kinds["park"] == kinds["garden"] == kinds["grass"] == kinds["recreation_ground"] == "greenspace"
    assert kinds["residential"] == "residential"


def test_default_categories_exist_in_profiles():
    """Every profile category the rules name is a real key; the others are listed here."""
    import tomllib
    from pathlib import Path

    profiles = Path(DEFAULT_MAPPING).parents[1] / "profiles"
    keys: set[str] = set()
    for path in profiles.glob("*.toml"):
        with open(path, "rb") as fh:
            keys |= set(tomllib.load(fh).get("categories", {}))
    assert "kindergarten" in keys  # the profiles were read
    extra = {
        "school",
        "hospital",
        "pharmacy",
        "marketplace",
        "arts_centre",
        "supermarket",
        "park",
        "garden",
        "grass",
        "recreation_ground",
        "residential",
    }
    unknown = {r.category for r in load_category_rules()} - keys - extra
    assert not unknown


def test_errors_are_one_line_input_data_errors(tmp_path, tiny_osm):
    with pytest.raises(InputDataError, match="file not found"):
        read_osm_features(tmp_path / "missing.osm")
    wrong = tmp_path / "tiny.txt"
    wrong.write_text("x")
    with pytest.raises(InputDataError, match="not an OSM file name"):
        read_osm_features(wrong)
    broken = tmp_path / "broken.osm"
    broken.write_text("<osm><node id='1' lat='x'", encoding="utf-8")
    with pytest.raises(
        InputDataError, match="the OSM XML ends before its closing </osm> tag, so the file is incomplete"
    ) as info:
        read_osm_features(broken)
    assert "\n" not in str(info.value) and "broken.osm" in str(info.value)
    with pytest.raises(InputDataError, match="neither tags nor name_regex"):
        read_osm_features(tiny_osm, mapping=[{"category": "x", "kind": "facility"}])
    with pytest.raises(InputDataError, match="kind"):
        read_osm_features(tiny_osm, mapping=[{"category": "x", "kind": "shop", "tags": {"a": "b"}}])
    with pytest.raises(InputDataError, match="regular expression"):
        read_osm_features(tiny_osm, mapping=[{"category": "x", "name_regex": "("}])
    bad_toml = tmp_path / "rules.toml"
    bad_toml.write_text("[[rule]]\ncategory = 'x'\ntags = { amenity = 3 }\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="rules.toml"):
        read_osm_features(tiny_osm, mapping=bad_toml)


def test_osm_fids(tiny_osm):
    gdf, _ = _read(tiny_osm)
    fids = osm_fids(gdf)
    assert {"n1", "w10", "r30"} <= set(fids)


# --------------------------------------------------------------------------
# The real Chengdu extract, checked against a plain XML parse
# --------------------------------------------------------------------------


def _independent_counts(path):
    """Ids of kindergartens, parks and marketplaces found with xml.etree only.

    Same reading as the shipped rules, written out by hand: a node or a closed
    way (or a multipolygon relation) with amenity=kindergarten, or named
    幼儿园 and not a transport stop; leisure=park; amenity=marketplace.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        root = ET.parse(fh).getroot()
    found: dict[str, set[tuple[str, int]]] = {
        "kindergarten": set(),
        "kindergarten_tag": set(),
        "park": set(),
        "marketplace": set(),
        "residential": set(),
    }
    for el in root:
        if el.tag not in ("node", "way", "relation"):
            continue
        tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
        if el.tag == "way":
            refs = [nd.get("ref") for nd in el.findall("nd")]
            if len(refs) < 4 or refs[0] != refs[-1]:
                continue
        if el.tag == "relation" and tags.get("type") != "multipolygon":
            continue
        key = (el.tag, int(el.get("id")))
        names = [tags.get("name:zh", ""), tags.get("name", "")]
        is_stop = any(k in tags for k in ("highway", "public_transport", "railway"))
        if tags.get("amenity") == "kindergarten":
            found["kindergarten_tag"].add(key)
        if tags.get("amenity") == "kindergarten" or (any("幼儿园" in n for n in names) and not is_stop):
            found["kindergarten"].add(key)
        if tags.get("leisure") == "park":
            found["park"].add(key)
        if tags.get("amenity") == "marketplace":
            found["marketplace"].add(key)
        if tags.get("landuse") == "residential":
            found["residential"].add(key)
    return found


def test_chengdu_counts_match_an_independent_parse(chengdu_osm):
    gdf, _ = _read(chengdu_osm)
    ref = _independent_counts(chengdu_osm)

    def ids(mask):
        return set(zip(gdf.loc[mask, "osm_type"], gdf.loc[mask, "osm_id"]))

    assert ids(gdf.category == "kindergarten") == ref["kindergarten"]
    assert ids(gdf.osm_tags == "amenity=kindergarten") == ref["kindergarten_tag"]
    assert ids(gdf.category == "park") == ref["park"]
    markets = ids(gdf.osm_tags.str.startswith("amenity=marketplace"))
    assert markets == ref["marketplace"]
    assert ids(gdf.category.isin(["food_market", "marketplace"])) == ref["marketplace"]
    assert ids(gdf.category == "residential") == ref["residential"]

    # the same ballpark as SOURCES.md: 5 tagged kindergartens (3 more are
    # tagged amenity=school but named 幼儿园), 29 parks, 13 marketplaces,
    # 186 closed landuse=residential polygons
    assert len(ref["kindergarten_tag"]) == 5
    assert len(ref["kindergarten"]) == 8
    assert len(ref["park"]) == 29
    assert len(ref["marketplace"]) == 13
    assert len(ref["residential"]) == 186

    parks = gdf[gdf.category == "park"]
    assert (parks.geom_type == "Polygon").sum() == 28  # one park is only a node
    assert parks.geometry.is_valid.all()
    assert gdf[gdf.osm_type != "node"].geom_type.isin(["Polygon", "MultiPolygon"]).all()
    # polygon areas are plausible: 人民公园 is about 11 ha
    pts = as_points(gdf[gdf.category == "park"])
    renmin = pts[pts.name == "人民公园"].iloc[0]
    assert 8e4 < renmin.area_m2 < 1.5e5
    assert np.isfinite(pts.loc[pts.osm_type == "way", "area_m2"]).all()


def test_broken_closed_way_is_repaired_with_a_warning(tmp_path):
    # a bow-tie ring: libosmium refuses it, the reader repairs it into two triangles
    pts = [(LON0, LAT0), (LON0 + 0.002, LAT0 + 0.002), (LON0 + 0.002, LAT0), (LON0, LAT0 + 0.002)]
    nodes = "".join(f'  <node id="{i + 1}" version="1" lat="{y:.7f}" lon="{x:.7f}"/>\n' for i, (x, y) in enumerate(pts))
    xml = (
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n"
        + nodes
        + _way(7, [1, 2, 3, 4, 1], {"leisure": "pitch"})
        + "</osm>\n"
    )
    path = tmp_path / "bowtie.osm"
    path.write_text(xml, encoding="utf-8")
    gdf, warns = _read(path)
    assert len(gdf) == 1
    row = gdf.iloc[0]
    assert (row.category, row.osm_type, row.osm_id) == ("small_sports_ground", "way", 7)
    assert row.geometry.is_valid and row.geometry.geom_type == "MultiPolygon"
    assert len(row.geometry.geoms) == 2
    assert [w.code for w in warns] == ["osm_area_not_assembled"]
