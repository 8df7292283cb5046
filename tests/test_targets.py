"""Unit targets (counts, shares of units, co-location, attribute shares, minimum sizes) and community types.

Every expected value is worked out by hand in the comments, on a straight
street from (0, 0) along the x axis with communities as boxes along it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from servicecircle.checks.lifecircle import lifecircle_checks
from servicecircle.checks.targets import target_checks, yes_no
from servicecircle.errors import DataWarning, ProfileError
from servicecircle.profiles import load_profile

from .test_floorarea import boxes, make_ctx, street


def run(ctx):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = target_checks(ctx)
    return {o.key: o for o in out}, [w.message for w in caught if isinstance(w.message, DataWarning)]


def typed(ctx, types, townships=None, names=None):
    ctx.comm_type = np.array(types, dtype=object)
    if townships is not None:
        ctx.comm_units = {"township": np.array(townships, dtype=object)}
        ctx.unit_names = {"township": names or {}}
    return ctx


def card(outcome):
    (row,) = outcome.scorecard
    return row


# --------------------------------------------------------------------------- #
# counts inside a unit
# --------------------------------------------------------------------------- #


def test_rest_station_in_every_urban_community():
    # A [0, 500] urban: stations at x=100 and 200 -> 2, pass
    # B [500, 1000] urban: none -> 0, fail
    # C [1000, 1500] urban: one at 1200 -> pass
    # D [1500, 2000] town: one at 1700 -> counted (1), but the target is for urban communities: no result
    # scorecard: 2 of the 3 urban communities pass -> 66.67 %, target 100 %: fails
    facs = [{"x": x, "category": "休息驿站"} for x in (100, 200, 1200, 1700)]
    ctx = typed(make_ctx(boxes(0, 500, 1000, 1500, 2000), facs, households=[1000] * 4), ["urban"] * 3 + ["town"])
    out, _ = run(ctx)
    o = out["rest_station_per_community"]
    assert list(o.columns["in_rest_station_per_community"]) == [2, 0, 1, 1]
    assert list(o.columns["pass_rest_station_per_community"]) == [True, False, True, pd.NA]
    row = card(o)
    assert row["value"] == pytest.approx(200 / 3) and row["target"] == 100.0 and row["passed"] is False
    assert (o.summary["communities_assessed"], o.summary["communities_passed"]) == (3, 2)
    assert o.kind == "count" and o.pass_col == "pass_rest_station_per_community"


def test_unknown_type_is_taken_as_the_profiles_default_with_a_warning():
    # Meishan (through GB 50180) takes a community of unknown type as urban, and says so
    facs = [{"x": 100, "category": "休息驿站"}]
    ctx = typed(make_ctx(boxes(0, 500, 1000), facs, households=[1000] * 2), ["urban", None])
    out, warned = run(ctx)
    assert list(out["rest_station_per_community"].columns["pass_rest_station_per_community"]) == [True, False]
    assert any(w.code == "community_type_assumed" and "taken as urban" in str(w) for w in warned)


def test_no_facility_of_the_category_is_not_assessed_not_zero():
    ctx = typed(make_ctx(boxes(0, 500), [], households=[1000]), ["urban"])
    out, warned = run(ctx)
    assert "rest_station_per_community" not in out
    assert any(w.code == "target_not_assessed" and "rest_station_per_community" in str(w) for w in warned)


def test_elderly_care_complex_per_subdistrict():
    # township T1 = A, B (urban: a 街道); T2 = C, D (urban); T3 = E (town: a 镇, not counted)
    # complexes: one in A (x=300) -> T1 has 1: pass; T2 none: fail; T3 has one (x=2200) but does not apply
    # scorecard: 1 of the 2 sub-districts -> 50 %
    facs = [{"x": 300, "category": "社区养老服务综合体"}, {"x": 2200, "category": "养老服务综合体"}]
    ctx = make_ctx(boxes(0, 500, 1000, 1500, 2000, 2500), facs, households=[1000] * 5, net=street(3000))
    typed(ctx, ["urban"] * 4 + ["town"], ["T1", "T1", "T2", "T2", "T3"], {"T1": "甲街道", "T2": "乙街道", "T3": "丙镇"})
    out, _ = run(ctx)
    o = out["elderly_complex_per_subdistrict"]
    layer = o.layers["tgt_elderly_complex_per_subdistrict"]
    assert layer["unit_code"].tolist() == ["T1", "T2", "T3"]
    assert layer["unit_name"].tolist() == ["甲街道", "乙街道", "丙镇"]
    assert layer["facilities"].tolist() == [1, 0, 1]
    assert layer["communities"].tolist() == [2, 2, 1]
    assert list(layer["passed"]) == [True, False, pd.NA]
    # the unit's polygon is its communities' union: T1 spans x 0..1000 and 200 m high
    assert layer.geometry.iloc[0].area == pytest.approx(1000 * 200)
    row = card(o)
    assert (row["value"], row["passed"], row["unit"]) == (50.0, False, "% of townships")
    assert o.summary["units_assessed"] == 2 and o.summary["units_passed"] == 1
    assert o.pass_col is None  # a sub-district's result is not a community's


def test_unit_target_without_units_is_not_assessed():
    facs = [{"x": 300, "category": "社区养老服务综合体"}]
    ctx = typed(make_ctx(boxes(0, 500), facs, households=[1000]), ["urban"])
    out, warned = run(ctx)
    assert "elderly_complex_per_subdistrict" not in out
    assert any("elderly_complex_per_subdistrict" in str(w) and "no township" in str(w) for w in warned)


def test_citywide_count_counts_only_facilities_inside_the_communities():
    # neighbourhood centres at 100, 700, 1200 (inside) and 2500 (outside every community): 3 < 40
    facs = [{"x": x, "category": "邻里中心"} for x in (100, 700, 1200, 2500)]
    ctx = typed(make_ctx(boxes(0, 500, 1000, 1500), facs, households=[1000] * 3, net=street(3000)), ["urban"] * 3)
    out, _ = run(ctx)
    row = card(out["neighbourhood_centres_citywide"])
    assert (row["value"], row["target"], row["passed"], row["unit"]) == (3.0, 40.0, False, "facilities")


# --------------------------------------------------------------------------- #
# share of units
# --------------------------------------------------------------------------- #


def test_share_of_townships_with_an_elderly_care_institution():
    # T1 (A): a care home -> has; T2 (B): none; T3 (C): a complex -> has; D: township unknown, left out
    # 2 of 3 = 66.67 % >= 60 %: pass
    facs = [
        {"x": 100, "category": "养老院"},
        {"x": 1100, "category": "社区养老服务综合体"},
        {"x": 1700, "category": "养老院"},
    ]
    ctx = make_ctx(boxes(0, 500, 1000, 1500, 2000), facs, households=[1000] * 4)
    typed(ctx, ["urban", "town", "rural", "urban"], ["T1", "T2", "T3", None])
    out, warned = run(ctx)
    o = out["township_elderly_institution"]
    row = card(o)
    assert row["value"] == pytest.approx(200 / 3) and row["target"] == 60.0 and row["passed"] is True
    assert o.layers["tgt_township_elderly_institution"]["facilities"].tolist() == [1, 0, 1]
    assert any(w.code == "target_unit_unknown" and "1 communities have no township" in str(w) for w in warned)


# --------------------------------------------------------------------------- #
# co-location
# --------------------------------------------------------------------------- #


def test_health_centre_next_to_elderly_care():
    # A: health centre at x=100 (y=0), day care at x=200: 100 m walking -> ok (exactly at the limit)
    # B: health centre at 600, care home at 720: 120 m -> not ok (the day care at 200 is 400 m)
    # C: none -> no result; scorecard 1 of 2 = 50 % against 100 %
    facs = [
        {"x": 100, "category": "社区卫生服务中心"},
        {"x": 200, "category": "日间照料中心"},
        {"x": 600, "category": "社区卫生服务中心"},
        {"x": 720, "category": "养老院"},
    ]
    ctx = typed(make_ctx(boxes(0, 500, 1000, 1500), facs, households=[1000] * 3), ["urban"] * 3)
    out, _ = run(ctx)
    o = out["health_next_to_elderly_care"]
    layer = o.layers["tgt_health_next_to_elderly_care"]
    assert layer["nearest_m"].tolist() == pytest.approx([100.0, 120.0])
    assert list(layer["passed"]) == [True, False]
    assert list(o.columns["pass_health_next_to_elderly_care"]) == [True, False, pd.NA]
    row = card(o)
    assert (row["value"], row["target"], row["passed"]) == (50.0, 100.0, False)
    assert o.radius_m == 100.0


def test_colocation_counts_the_access_legs():
    # health centre 30 m off the street at x=100, day care 40 m off at x=130: 30 + 30 + 40 = 100 m -> ok;
    # the same with the day care at x=131: 101 m -> not ok
    for x, ok in ((130, True), (131, False)):
        facs = [{"x": 100, "y": 30, "category": "社区卫生服务中心"}, {"x": x, "y": 40, "category": "日间照料中心"}]
        ctx = typed(make_ctx(boxes(0, 500), facs, households=[1000]), ["urban"])
        out, _ = run(ctx)
        layer = out["health_next_to_elderly_care"].layers["tgt_health_next_to_elderly_care"]
        assert layer["nearest_m"].iloc[0] == pytest.approx(100.0 + (x - 130))
        assert bool(layer["passed"].iloc[0]) is ok


def test_colocation_in_worker_processes_uses_the_workers_distances(monkeypatch):
    """With two workers the day cares' distances come back from a worker, and the colocation target reads
    them instead of searching again; the figures are the hand-computed ones either way (100 m and 200 m)."""
    import geopandas as gpd
    import shapely

    import servicecircle as sc
    from servicecircle.engine.distance import DistanceEngine

    from .test_floorarea import CRS

    comm = gpd.GeoDataFrame({"code": ["A", "B"], "households": [1000, 1200]}, geometry=boxes(0, 500, 1000), crs=CRS)
    where = [(100, "社区卫生服务中心"), (200, "日间照料中心"), (600, "社区卫生服务中心"), (800, "日间照料中心")]
    fac = gpd.GeoDataFrame(
        {"category": [c for _, c in where]}, geometry=[shapely.Point(x, 0) for x, _ in where], crs=CRS
    )
    searched = DistanceEngine.node_distances
    asked: list[tuple[list[int], bool]] = []

    def spy(self, sources, limit=None):
        idx = self._snapped_sources(sources)
        asked.append((idx.tolist(), self._cache_key(idx, limit) in self._cache))
        return searched(self, sources, limit)

    monkeypatch.setattr(DistanceEngine, "node_distances", spy)
    for workers in (1, 2):
        asked.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = sc.assess(comm, fac, street(1000), id_column="code", progress=False, workers=workers)
        layer = a.layers["tgt_health_next_to_elderly_care"]
        assert layer["nearest_m"].tolist() == pytest.approx([100.0, 200.0])
        assert list(layer["passed"]) == [True, False]
        day_cares = [found for idx, found in asked if idx == [1, 3]]
        assert day_cares and all(day_cares[-1:])  # the target's search was already there


# --------------------------------------------------------------------------- #
# attribute share
# --------------------------------------------------------------------------- #


def test_inclusive_kindergarten_share():
    # 普惠性 = 是, 否, 是, (blank), 是 -> 3 yes of 4 known = 75 % < 80 %: fails; the blank one is unknown
    values = ["是", "否", "是", None, "是"]
    facs = [{"x": 50 + 100 * i, "category": "幼儿园", "普惠性": v} for i, v in enumerate(values)]
    ctx = typed(make_ctx(boxes(0, 500), facs, households=[1000]), ["urban"])
    out, warned = run(ctx)
    o = out["inclusive_kindergarten"]
    row = card(o)
    assert (row["value"], row["target"], row["passed"]) == (75.0, 80.0, False)
    assert list(o.layers["tgt_inclusive_kindergarten"]["inclusive"]) == [True, False, True, pd.NA, True]
    assert any(w.code == "target_attribute_unknown" and "1 of 5" in str(w) for w in warned)


def test_attribute_share_without_the_column_is_not_assessed():
    ctx = typed(make_ctx(boxes(0, 500), [{"x": 50, "category": "幼儿园"}], households=[1000]), ["urban"])
    out, warned = run(ctx)
    assert "inclusive_kindergarten" not in out
    assert any("inclusive_kindergarten" in str(w) and "no inclusive column" in str(w) for w in warned)


def test_yes_no_words():
    yes, known = yes_no(["普惠", "非普惠", "TRUE", "n", 2, "", np.nan])
    assert yes.tolist() == [True, False, True, False, False, False, False]
    assert known.tolist() == [True, True, True, True, False, False, False]


# --------------------------------------------------------------------------- #
# minimum size per facility
# --------------------------------------------------------------------------- #


def test_minimum_size_by_build_type_and_community_type():
    # new stations: 500 m² (ok), 499 m² (too small)            -> new rule: 1 of 2 = 50 %
    # rebuilt (购置) in urban A: 300 (ok), 250 (too small)      -> rebuilt rule: 1 of 2 = 50 %
    # rebuilt in town C: 200 -> the 300 m² rule is for urban communities: no result
    def station(x, area, build):
        return {"x": x, "y": 10.0, "category": "社区服务站", "floor_area_m2": area, "build_type": build}

    facs = [station(100, 500, "新建"), station(700, 499, "新建"), station(200, 300, "购置")]
    facs += [station(300, 250, "改建"), station(1200, 200, "租用")]
    ctx = typed(make_ctx(boxes(0, 500, 1000, 1500), facs, households=[1000] * 3), ["urban", "urban", "town"])
    out, _ = run(ctx)
    new, reb = out["service_facility_new_size"], out["service_facility_rebuilt_size"]
    assert list(new.layers["tgt_service_facility_new_size"]["passed"]) == [True, False]
    assert card(new)["value"] == 50.0 and card(new)["passed"] is False
    assert list(reb.layers["tgt_service_facility_rebuilt_size"]["passed"]) == [True, False, pd.NA]
    assert card(reb)["value"] == 50.0
    # per community: A's rebuilt facilities (300 ok, 250 not) -> fails; B none; C not applicable
    assert list(reb.columns["pass_service_facility_rebuilt_size"]) == [False, pd.NA, pd.NA]
    assert list(new.columns["pass_service_facility_new_size"]) == [True, False, pd.NA]


# --------------------------------------------------------------------------- #
# rules by community type
# --------------------------------------------------------------------------- #


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text('schema = "servicecircle-profile/1"\n' + text, encoding="utf-8")
    return p


def test_radius_by_type(tmp_path):
    # kindergarten radius 300 m (urban, GB 50180), 1000 m for town communities (by_type)
    # A urban [0, 500]: demand at x=400, kindergarten at x=1200 -> 800 m > 300: uncovered
    # B urban [500, 1000]: no demand; C town [1000, 1500]: demand at x=1450 -> 250 m: covered
    # D town [1500, 2000]: demand at 1950 -> 750 m <= 1000: covered (it would fail at 300)
    prof = write(
        tmp_path,
        "p.toml",
        'key = "bytype"\nname_zh = "t"\nname_en = "t"\nsource = "t"\nextends = "meishan"\n'
        '[categories.kindergarten.by_type.town]\nradius_m = 1000\nsource = "test"\n',
    )
    ctx = make_ctx(
        boxes(0, 500, 1000, 1500, 2000),
        [{"x": 1200, "category": "幼儿园"}],
        [(400, 0, 10), (1450, 0, 10), (1950, 0, 10)],
        households=[10, np.nan, 10, 10],
        profile=str(prof),
        net=street(2500),
    )
    ctx.comm_type = np.array(["urban", "urban", "town", "town"], dtype=object)
    ctx.d_comm = np.array([0, 2, 3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (o,) = lifecircle_checks(ctx, ["kindergarten"])
    assert list(o.columns["cov_kindergarten"])[0] == 0.0
    assert list(o.columns["cov_kindergarten"])[2:] == [100.0, 100.0]
    assert "1000 m in town communities" in o.scorecard[0]["method"]


def test_category_for_urban_communities_only(tmp_path):
    prof = write(
        tmp_path,
        "p.toml",
        'key = "urbanonly"\nname_zh = "t"\nname_en = "t"\nsource = "t"\nextends = "gb50180"\n'
        '[categories.kindergarten]\napplies_to = ["urban"]\nsource = "test: urban only"\n',
    )
    ctx = make_ctx(
        boxes(0, 500, 1000),
        [{"x": 1200, "category": "幼儿园"}],
        [(400, 0, 10), (900, 0, 10)],
        households=[10, 10],
        profile=str(prof),
        net=street(2500),
    )
    ctx.comm_type = np.array(["urban", "rural"], dtype=object)
    ctx.d_comm = np.array([0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (o,) = lifecircle_checks(ctx, ["kindergarten"])
    assert list(o.columns["pass_kindergarten"]) == [False, pd.NA]
    assert o.summary["communities_assessed"] == 1


def test_type_profiles_take_the_town_numbers_from_another_profile(tmp_path):
    # the town profile: kindergarten 1000 m, a 'village_clinic' category of its own, no middle school
    town = write(
        tmp_path,
        "town.toml",
        'key = "towntest"\nname_zh = "t"\nname_en = "t"\nsource = "t"\n'
        '[defaults]\ntarget_share = 100\nweight = "households"\nhousehold_size = 2.6\nhousehold_size_source = "t"\n'
        '[levels.village]\nname_zh = "村"\nname_en = "village"\nwalk_m = 800\nsource = "t"\n'
        '[categories.kindergarten]\nname_zh = "幼儿园"\nname_en = "Kindergarten"\nlevel = "village"\n'
        'radius_m = 1000\nsource = "town source"\n'
        '[categories.village_clinic]\nname_zh = "测试村站"\nname_en = "Test village station"\nlevel = "village"\n'
        'source = "town source"\n',
    )
    main = write(
        tmp_path,
        "main.toml",
        'key = "maintest"\nname_zh = "t"\nname_en = "t"\nsource = "t"\nextends = "gb50180"\n'
        f'type_profiles = {{ town = "{town.as_posix()}" }}\n',
    )
    p = load_profile(main)
    kg = p.categories["kindergarten"]
    assert kg.radius_for("urban") == 300.0 and kg.radius_for("town") == 1000.0
    assert kg.by_type["town"].source == "town source"
    assert p.categories["village_clinic"].applies_to == ("town",)
    assert p.levels["village"].walk_m == 800.0
    assert "town" not in p.categories["middle_school"].applies_to
    assert p.categories["middle_school"].applies_to == ("urban", "rural")
    assert town in p.files


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[categories.kindergarten]\napplies_to = ["city"]\n', "'city' is not a community type"),
        ('[categories.kindergarten]\napplies_to = ["urbn"]\n', "did you mean 'urban'?"),
        ('[categories.kindergarten.by_type.town]\nsource = "x"\n', "radius_m: missing required field"),
        (
            '[counts.x]\nname_zh = "a"\nname_en = "a"\ncategories = ["nope"]\nunit = "community"\n'
            'min_count = 1\nsource = "s"\n',
            "'nope' is not a defined category",
        ),
        (
            '[counts.x]\nname_zh = "a"\nname_en = "a"\ncategories = ["kindergarten"]\nunit = "street"\n'
            'min_count = 1\nsource = "s"\n',
            "unit: must be one of",
        ),
        (
            '[counts.x]\nname_zh = "a"\nname_en = "a"\ncategories = ["kindergarten"]\nunit = "community"\n'
            'min_count = 1.5\nsource = "s"\n',
            "must be a whole number",
        ),
        (
            '[colocations.x]\nname_zh = "a"\nname_en = "a"\ncategories = ["kindergarten"]\n'
            'near_categories = ["kindergarten"]\nwithin_m = 50\nsource = "s"\n',
            "also in categories",
        ),
        (
            '[counts.kindergarten]\nname_zh = "a"\nname_en = "a"\ncategories = ["nursery"]\nunit = "community"\n'
            'min_count = 1\nsource = "s"\n',
            "one would overwrite the other",
        ),
        ('type_profiles = { village = "gb50180" }\n', "'village' is not a community type"),
    ],
)
def test_bad_type_rules_and_targets_name_the_field(tmp_path, text, message):
    prof = write(
        tmp_path, "bad.toml", 'key = "bad"\nname_zh = "t"\nname_en = "t"\nsource = "t"\nextends = "meishan"\n' + text
    )
    with pytest.raises(ProfileError) as err:
        load_profile(prof)
    assert message in str(err.value) and "bad.toml" in str(err.value)


# --------------------------------------------------------------------------- #
# through assess() into the files
# --------------------------------------------------------------------------- #


def test_targets_reach_every_output(tmp_path):
    import geopandas as gpd
    import pyogrio
    import shapely

    import servicecircle as sc

    from .test_floorarea import CRS

    comm = gpd.GeoDataFrame({"code": ["A", "B"], "households": [1000, 1200]}, geometry=boxes(0, 500, 1000), crs=CRS)
    fac = gpd.GeoDataFrame(
        {
            "category": ["休息驿站", "社区卫生服务中心", "日间照料中心", "幼儿园", "幼儿园"],
            "普惠性": [None, None, None, "是", "否"],
        },
        geometry=[
            shapely.Point(100, 5),
            shapely.Point(600, 0),
            shapely.Point(650, 0),
            shapely.Point(300, 5),
            shapely.Point(800, 5),
        ],
        crs=CRS,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = sc.assess(comm, fac, street(1000), id_column="code")
        a.save(tmp_path / "out", excel=True)
    gpkg = tmp_path / "out" / "shortfall.gpkg"
    layers = dict(pyogrio.list_layers(gpkg))
    assert "tgt_health_next_to_elderly_care" in layers and "tgt_inclusive_kindergarten" in layers
    communities = gpd.read_file(gpkg, layer="communities")
    # rest station in A only; A and B are taken as urban (GB 50180's default type)
    assert communities["in_rest_station_per_community"].tolist() == [1, 0]
    assert communities["pass_rest_station_per_community"].tolist() == [1, 0]
    score = pyogrio.read_dataframe(gpkg, layer="scorecard")
    got = score.set_index("target_key")
    assert got.loc["inclusive_kindergarten", "value"] == 50.0
    assert got.loc["health_next_to_elderly_care", "value"] == 100.0  # 50 m apart, within 100 m
    assert got.loc["rest_station_per_community", "value"] == 50.0
    fields = pyogrio.read_dataframe(gpkg, layer="fields")
    row = fields[(fields["layer"] == "communities") & (fields["column"] == "in_rest_station_per_community")]
    assert len(row) == 1 and row["name_en"].iloc[0]
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert {"rest_station_per_community", "inclusive_kindergarten"} <= set(summary["check"])
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "out" / "shortfall.xlsx", read_only=True)
    text = " ".join(str(c) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for c in r if c)
    assert "普惠性幼儿园覆盖率" in text
