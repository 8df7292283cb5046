"""Exports for planners: the Excel workbook, the File Geodatabase, QGIS styles in the GeoPackage.

Every expectation is checkable by hand against a three-community assessment on
one straight street (see :func:`build_small_assessment`).
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
import warnings
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import servicecircle as sc
from servicecircle.network import network_from_arrays
from servicecircle.outputs.codes import admin_code_columns, codes_as_text
from servicecircle.outputs.excel import sheet_names, write_excel
from servicecircle.outputs.filegdb import RESERVED_WORDS, gdb_field_names, write_filegdb
from servicecircle.outputs.labels import FAIL_TEXT, PASS_TEXT, column_header
from servicecircle.outputs.qgis_styles import STYLE_NAME, STYLED_LAYERS, add_qgis_styles

CRS = "EPSG:4544"
CODES = ["511402001001", "511402001002", "511402002001"]


def build_small_assessment():
    """Three 500 m × 100 m communities along a 1.5 km street (Meishan, EPSG:4544).

    A kindergarten at x = 0 and a park next to the street at x = 700–800; the
    communities carry 12-digit community, 9-digit sub-district and 6-digit
    county codes as text, Chinese names (one that looks like a formula).
    """
    x0, y0 = 500000.0, 3300000.0
    net = network_from_arrays(np.array([[x0, y0], [x0 + 1500.0, y0]]), [0], [1], CRS)

    def frame(geoms, **cols):
        return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=CRS)

    comm = frame(
        [shapely.box(x0 + 500 * i, y0 - 50, x0 + 500 * (i + 1), y0 + 50) for i in range(3)],
        code=CODES,
        name=["东坡社区", "苏祠社区", "=SUM(1,2)"],
        subdistrict_code=["511402001", "511402001", "511402002"],
        district_code=["511402"] * 3,
        households=[100.0, 200.0, 300.0],
        residents=[262.0, 524.0, 786.0],
    )
    comm.attrs = {"source": "/data/meishan_communities.gpkg", "layer": None}
    fac = frame(
        [shapely.Point(x0, y0 + 5), shapely.Point(x0 + 900, y0 + 5), shapely.Point(x0 + 1400, y0 + 5)],
        category=["幼儿园", "小学", "不在标准里"],
        name=["幼儿园甲", "小学乙", "其他丙"],
    )
    green = frame([shapely.box(x0 + 700, y0 + 10, x0 + 800, y0 + 110)], name=["东湖公园"], category=["park"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sc.assess(
            comm,
            fac,
            net,
            id_column="code",
            name_column="name",
            greenspace=green,
            sample_spacing=50,
            gap_resolution_m=20,
            progress=False,
        )


@pytest.fixture(scope="module")
def small():
    return build_small_assessment()


# ------------------------------------------------------------------ administrative codes
def test_admin_code_columns_find_text_and_named_numeric_codes():
    df = pd.DataFrame(
        {
            "code": ["510104022006", None, "510104022007"],
            "adcode": np.array([511400, 511402, 511403], dtype="int64"),  # numbers, but named as codes
            "xzqdm": [510104022006.0, np.nan, 511402001001.0],  # floats from a CSV with a gap
            "households": np.array([511400, 3, 4], dtype="int64"),  # a count, never a code
            "street_no": ["003456", "990001", "770000"],  # 00, 99, 77: no such province
            "mixed": ["511402", "511402001", "511402001001"],
        }
    )
    found = admin_code_columns(df)
    assert found == {"code": 12, "adcode": 6, "xzqdm": 12, "mixed": 12}
    out = codes_as_text(df)
    assert out["adcode"].tolist() == ["511400", "511402", "511403"]
    assert out["xzqdm"].tolist() == ["510104022006", None, "511402001001"]  # no ".0", no 5.1e11
    assert [None if pd.isna(v) else v for v in out["code"]] == ["510104022006", None, "510104022007"]
    assert out["households"].dtype == np.int64  # untouched


# ------------------------------------------------------------------ Excel
def _table(ws) -> tuple[list[str], list[tuple]]:
    rows = list(ws.iter_rows(values_only=True))
    return list(rows[0]), rows[1:]


def test_excel_sheets_names_headers_and_freeze(small, tmp_path):
    import openpyxl

    path = write_excel(small, tmp_path / "report.xlsx")
    wb = openpyxl.load_workbook(path)
    names = wb.sheetnames
    assert names[:3] == ["说明 README", "汇总 Summary", "指标 Scorecard"]
    assert names[-2:] == ["缺口 Gaps", "提示 Warnings"]
    assert names[3:5] == ["达标矩阵 Matrix", "规划指标台账 Register"]  # the matrix (issue 16), the plan's register
    # a sheet per unit level the communities roll up to, and the compounds' (both sheets replace no check's)
    units = sum(f"units_{lv}" in small.layers for lv in ("township", "county", "city"))
    compounds = sum(o.kind == "compound" for o in small.checks)
    assert len(names) == 4 + len(small.checks) - compounds + ("compounds" in small.layers) + units + 1 + 2
    assert all(len(n) <= 31 for n in names)
    assert len({n.lower() for n in names}) == len(names)
    for name in names[1:]:
        # the matrix keeps the code and name columns in view too
        assert wb[name].freeze_panes == ("C2" if name == "达标矩阵 Matrix" else "A2"), name
    header, _ = _table(wb["汇总 Summary"])
    assert "全市覆盖率 Citywide coverage (%)" in header
    assert "服务半径 Radius (m)" in header


def test_excel_summary_numbers_equal_the_assessment(small, tmp_path):
    import openpyxl

    wb = openpyxl.load_workbook(write_excel(small, tmp_path / "r.xlsx"))
    header, rows = _table(wb["汇总 Summary"])
    s = small.summary
    assert len(rows) == len(s)
    for col in (
        "radius_m",
        "target_pct",
        "facilities",
        "communities_assessed",
        "communities_passed",
        "communities_failed",
        "citywide_coverage_pct",
        "uncovered_weight",
        "city_value",
    ):
        j = header.index(column_header(col, small, layer="summary"))
        got = [r[j] for r in rows]
        want = [None if pd.isna(v) else float(v) for v in s[col]]
        assert got == pytest.approx(want, nan_ok=True), col
    j = header.index(column_header("check", small, layer="summary"))
    assert [r[j] for r in rows] == s["check"].tolist()
    j = header.index(column_header("city_passed", small, layer="summary"))
    assert {r[j] for r in rows} <= {PASS_TEXT, FAIL_TEXT, "无数据"}
    # the kindergarten at x = 0 reaches 300 m of the first 500 m community's households
    kg = s.set_index("check").loc["kindergarten"]
    assert kg["communities_failed"] >= 1
    cov = wb["汇总 Summary"].cell(
        2 + list(s["check"]).index("kindergarten"), 1 + header.index("全市覆盖率 Citywide coverage (%)")
    )
    assert cov.number_format == "0.0" and cov.value == pytest.approx(kg["citywide_coverage_pct"])


def test_excel_check_sheet_codes_text_and_pass_fail(small, tmp_path):
    import openpyxl

    wb = openpyxl.load_workbook(write_excel(small, tmp_path / "r.xlsx"))
    o = next(o for o in small.checks if o.key == "kindergarten")
    ws = next(wb[n] for n in wb.sheetnames if n.endswith(" kindergarten"))
    header, rows = _table(ws)
    assert header[:2] == ["代码 Code", "名称 Name"]
    assert "覆盖率 Coverage (%)" in header and "是否达标 Result" in header
    assert [r[0] for r in rows] == CODES  # 12 digits, as text
    for r in range(2, 2 + len(CODES)):
        assert ws.cell(r, 1).data_type == "s" and ws.cell(r, 1).number_format == "@"
    assert [r[1] for r in rows] == ["东坡社区", "苏祠社区", "=SUM(1,2)"]
    assert ws.cell(4, 2).data_type == "s"  # a name is never a formula
    j = header.index("是否达标 Result")
    want = [PASS_TEXT if v else FAIL_TEXT for v in small.communities[o.pass_col]]
    assert [r[j] for r in rows] == want
    j = header.index("覆盖率 Coverage (%)")
    assert [r[j] for r in rows] == pytest.approx(small.communities[o.cov_col].tolist())


def test_excel_gaps_and_warnings(small, tmp_path):
    import openpyxl

    wb = openpyxl.load_workbook(write_excel(small, tmp_path / "r.xlsx"))
    header, rows = _table(wb["缺口 Gaps"])
    assert len(rows) == len(small.gaps)
    assert "缺口面积 Gap area (m²)" in header and not any("geometry" in str(h) for h in header)
    j = header.index("缺口面积 Gap area (m²)")
    assert [r[j] for r in rows] == pytest.approx(small.gaps["gap_area_m2"].tolist())
    assert wb["缺口 Gaps"].cell(2, j + 1).number_format == "#,##0"
    assert {r[0] for r in rows} <= set(CODES)
    header, rows = _table(wb["提示 Warnings"])
    assert len(rows) == len(small.warnings)
    assert "提示代码 Warning code" in header


def test_excel_readme_date_only_from_parameters_and_approximate_note(small, tmp_path):
    import openpyxl

    def readme(a):
        p = write_excel(a, tmp_path / "readme.xlsx")
        return [c for row in openpyxl.load_workbook(p)["说明 README"].iter_rows(values_only=True) for c in row if c]

    text = " ".join(map(str, readme(small)))
    assert "Run date" not in text and "approximate" not in text.lower().replace("approximate data", "")
    assert "meishan" in text
    comm = small.communities.copy()
    comm.attrs = {"source": "/data/chengdu_communities_approx.gpkg"}
    dated = dataclasses.replace(small, communities=comm, parameters={**small.parameters, "run_date": "2026-01-02"})
    text = " ".join(map(str, readme(dated)))
    assert "2026-01-02" in text
    assert "近似数据 Approximate data" in text


def test_excel_is_deterministic(small, tmp_path):
    import openpyxl

    def cells(path):
        wb = openpyxl.load_workbook(path)
        return {n: [tuple(r) for r in wb[n].iter_rows(values_only=True)] for n in wb.sheetnames}

    one = cells(write_excel(small, tmp_path / "1.xlsx"))
    two = cells(write_excel(small, tmp_path / "2.xlsx"))
    assert one == two
    import datetime

    assert not any(isinstance(v, (datetime.date, datetime.datetime)) for rows in one.values() for r in rows for v in r)


def test_sheet_names_are_valid_and_unique():
    names = sheet_names(["社区卫生服务站 ≤300米 community_health_station"] * 3 + ["a/b:c*?[d]", "X", "x"])
    assert all(len(n) <= 31 for n in names)
    assert len({n.lower() for n in names}) == len(names)
    assert names[3] == "a_b_c___d_"
    assert names[5] == "x~2"


# ------------------------------------------------------------------ File Geodatabase
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def test_gdb_field_names_are_valid_unique_and_deterministic():
    cols = [
        "code",
        "name",
        "dist_菜市场",
        "dist_幼儿园",
        "2nd",
        "where",
        "Name",
        "objectid",
        "Shape_Area",
        "a" * 70,
        "a" * 70 + "b",
        "有 空格",
        "XZQDM",
    ]
    names = gdb_field_names(cols, {"code": "XZQDM", "name": "XZQMC"})
    assert names == gdb_field_names(cols, {"code": "XZQDM", "name": "XZQMC"})
    assert names["code"] == "XZQDM" and names["name"] == "XZQMC"
    assert names["XZQDM"] != "XZQDM"  # the convention keeps the name
    assert names["2nd"] == "F_2nd" and names["where"] == "where_1" and names["objectid"] == "objectid_1"
    assert names["Name"] == "Name"  # XZQMC took "name"
    assert names["dist_菜市场"] != names["dist_幼儿园"]
    upper = [n.upper() for n in names.values()]
    assert len(set(upper)) == len(upper)  # case-blind unique
    for n in names.values():
        assert _FIELD.match(n), n
        assert n.upper() not in RESERVED_WORDS


def test_filegdb_round_trips_every_feature_and_attribute(small, tmp_path):
    if "OpenFileGDB" not in pyogrio.list_drivers(write=True):
        pytest.skip("this GDAL cannot write File Geodatabases")
    fmap = write_filegdb(small, tmp_path / "shortfall.gdb")
    gdb = tmp_path / "shortfall.gdb"
    layers = dict(pyogrio.list_layers(gdb))
    assert {"communities", "demand", "facilities", "gaps", "greenspace", "summary", "FIELD_MAP"} <= set(layers)
    assert layers["communities"] == "MultiPolygon" and layers["facilities"] == "Point"
    stored = pyogrio.read_dataframe(gdb, layer="FIELD_MAP")
    assert stored["gdb_name"].tolist() == fmap["gdb_name"].tolist()
    for layer, frame in (
        ("communities", small.communities),
        ("facilities", small.facilities),
        ("demand", small.demand),
        ("gaps", small.gaps),
        ("greenspace", small.layers["greenspace"]),
        ("summary", small.summary),
        ("warnings", small.warnings),
    ):
        got = pyogrio.read_dataframe(gdb, layer=layer)
        assert len(got) == len(frame), layer
        m = fmap[fmap["layer"] == layer].set_index("source_name")["gdb_name"]
        for col in frame.columns:
            if col == "geometry" or (isinstance(frame, gpd.GeoDataFrame) and col == frame.geometry.name):
                continue
            name = m[str(col)]
            assert _FIELD.match(name) and name.upper() not in RESERVED_WORDS
            want = frame[col].astype(object).where(frame[col].notna(), None).tolist()
            have = got[name].astype(object).where(got[name].notna(), None).tolist()
            for w, h in zip(want, have):
                if w is None:
                    assert h is None or (isinstance(h, str) and h == ""), (layer, col)
                elif isinstance(w, (bool, np.bool_)):
                    assert int(h) == int(w), (layer, col)
                elif isinstance(w, (int, float, np.integer, np.floating)):
                    assert float(h) == pytest.approx(float(w), rel=1e-12, abs=1e-9), (layer, col)
                else:
                    assert str(h) == str(w), (layer, col)
        if isinstance(frame, gpd.GeoDataFrame):
            want_geom = frame.geometry.to_crs(4490)
            for w, h in zip(want_geom, got.geometry):
                if w is None or w.is_empty:
                    assert h is None or h.is_empty
                else:
                    # the geodatabase stores coordinates on a 1e-9° grid (about 0.1 mm)
                    assert shapely.hausdorff_distance(w, h) < 1e-8, layer
                    assert h.area == pytest.approx(w.area, rel=1e-5)


def test_filegdb_codes_are_text_with_national_field_names(small, tmp_path):
    if "OpenFileGDB" not in pyogrio.list_drivers(write=True):
        pytest.skip("this GDAL cannot write File Geodatabases")
    fmap = write_filegdb(small, tmp_path / "out")  # ".gdb" is added
    gdb = tmp_path / "out.gdb"
    comm = pyogrio.read_dataframe(gdb, layer="communities")
    assert comm["XZQDM"].tolist() == CODES
    assert comm["XZQMC"].tolist() == ["东坡社区", "苏祠社区", "=SUM(1,2)"]
    assert comm["district_code"].tolist() == ["511402"] * 3
    assert comm["subdistrict_code"].tolist() == ["511402001", "511402001", "511402002"]
    info = pyogrio.read_info(gdb, layer="communities")
    types = dict(zip(info["fields"], info["dtypes"]))
    assert types["XZQDM"] == types["district_code"] == "object"  # text fields, not numbers
    gaps = pyogrio.read_dataframe(gdb, layer="gaps")
    assert set(gaps["XZQDM"]) <= set(CODES)
    row = fmap[(fmap.layer == "communities") & (fmap.source_name == "code")].iloc[0]
    assert row["gdb_name"] == "XZQDM" and row["admin_code"] == 1 and "市级国土空间总体规划数据库规范" in row["note"]
    assert row["alias_zh"] == "行政区代码"
    cov = fmap[(fmap.layer == "communities") & (fmap.source_name == "cov_kindergarten")].iloc[0]
    assert cov["alias_zh"] == "幼儿园覆盖率（%）" and cov["alias_en"] == "Kindergarten coverage (%)"
    dem = fmap[fmap.layer == "demand"]
    odd = dem[dem.source_name.str.contains("不在标准里")]
    assert len(odd) and all(_FIELD.match(n) for n in odd["gdb_name"])


def test_filegdb_carries_numeric_input_codes_as_text(small, tmp_path):
    if "OpenFileGDB" not in pyogrio.list_drivers(write=True):
        pytest.skip("this GDAL cannot write File Geodatabases")
    comm = small.communities.copy()
    comm["adcode"] = np.array([int(c) for c in CODES], dtype="int64")
    a = dataclasses.replace(small, communities=comm)
    write_filegdb(a, tmp_path / "n.gdb")
    got = pyogrio.read_dataframe(tmp_path / "n.gdb", layer="communities")
    assert got["adcode"].tolist() == CODES


def test_geopackage_keeps_text_codes(small, tmp_path):
    paths = small.save(tmp_path / "out", write_map=False)
    c = gpd.read_file(paths["geopackage"], layer="communities")
    assert c["code"].tolist() == CODES and c["district_code"].tolist() == ["511402"] * 3
    with sqlite3.connect(paths["geopackage"]) as con:
        types = {r[1]: r[2] for r in con.execute('PRAGMA table_info("communities")')}
    assert types["code"] == "TEXT" and types["district_code"] == "TEXT"


def test_geopackage_carries_numeric_input_codes_as_text(small, tmp_path):
    comm = small.communities.copy()
    comm["adcode"] = np.array([int(c) for c in CODES], dtype="int64")
    paths = dataclasses.replace(small, communities=comm).save(tmp_path / "o", write_map=False)
    with sqlite3.connect(paths["geopackage"]) as con:
        types = {r[1]: r[2] for r in con.execute('PRAGMA table_info("communities")')}
    assert types["adcode"] == "TEXT"


# ------------------------------------------------------------------ QGIS styles
@pytest.fixture
def gpkg(small, tmp_path):
    return small.save(tmp_path / "out", write_map=False)["geopackage"]


#: the styled layers an assessment has (a siting scenario adds proposals and gaps_closed; the small one has
#: no residential compounds)
ASSESSMENT_STYLED = [x for x in STYLED_LAYERS if x not in ("proposals", "gaps_closed", "compounds")]


def test_qgis_styles_one_default_per_layer_and_valid_xml(small, gpkg):
    before = [x for x in pyogrio.list_layers(gpkg).tolist() if x[0] != "layer_styles"]  # save() styles it already
    styled = add_qgis_styles(gpkg, small)
    assert styled == ASSESSMENT_STYLED  # the small assessment has green spaces
    with sqlite3.connect(gpkg) as con:
        rows = con.execute(
            'SELECT f_table_name, f_geometry_column, "styleName", "styleQML", "styleSLD", '
            '"useAsDefault" FROM layer_styles'
        ).fetchall()
        kind = con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'").fetchone()
        geom_tables = {r[0] for r in con.execute("SELECT table_name FROM gpkg_geometry_columns")}
    assert kind == ("attributes",) and "layer_styles" not in geom_tables
    defaults = [r[0] for r in rows if r[5] == 1]
    assert sorted(defaults) == sorted(ASSESSMENT_STYLED)
    qml = {}
    for table, geom_col, name, q, sld, _ in rows:
        assert geom_col == "geom" and name == STYLE_NAME
        root = ET.fromstring(q)
        assert root.tag == "qgis"
        ET.fromstring(sld)
        qml[table] = root
    r = qml["communities"].find("renderer-v2")
    assert r.get("type") == "graduatedSymbol" and "checks_failed" in r.get("attr")
    assert len(r.find("ranges")) == len(r.find("symbols")) == 5  # no data + 4 classes
    r = qml["facilities"].find("renderer-v2")
    assert r.get("type") == "categorizedSymbol" and r.get("attr") == "category_key"
    values = [c.get("value") for c in r.find("categories")]
    assert "kindergarten" in values and "primary_school" in values and values[-1] == ""
    assert "不在标准里" not in values  # not a profile category
    r = qml["gaps"].find("renderer-v2")
    assert r.get("type") == "RuleRenderer"  # a rule per check, in a rule per level (tests/test_gis_files.py)
    checks = {rule.get("filter") for rule in r.iter("rule") if rule.find("rule") is None}
    assert checks == {f"\"check\" = '{c}'" for c in small.gaps["check"]}
    for fill in r.findall("symbols/symbol/layer/Option/Option[@name='color']"):
        assert int(fill.get("value").split(",")[3]) < 255  # semi-transparent
    fill = qml["greenspace"].find(".//layer/Option/Option[@name='color']").get("value")
    red, green, blue, _ = map(int, fill.split(","))
    assert green > red and green > blue
    aliases = {a.get("field"): a.get("name") for a in qml["communities"].find("aliases")}
    assert aliases["cov_kindergarten"] == "幼儿园覆盖率 Kindergarten coverage (%)"
    after = pyogrio.list_layers(gpkg).tolist()
    assert [x for x in after if x[0] != "layer_styles"] == before  # GDAL lists the same layers
    assert ["layer_styles", None] in after  # a table, not a spatial layer
    assert len(gpd.read_file(gpkg, layer="communities")) == len(small.communities)
    assert len(pyogrio.read_dataframe(gpkg, layer="layer_styles")) == len(ASSESSMENT_STYLED)


def test_qgis_styles_rerun_replaces_and_keeps_user_styles(small, gpkg):
    add_qgis_styles(gpkg, small)
    with sqlite3.connect(gpkg) as con:
        con.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
            '"styleName", "styleQML", "styleSLD", "useAsDefault", description, owner, ui) '
            "VALUES ('', '', 'communities', 'geom', 'mine', '<qgis/>', '', 1, '', '', '')"
        )
    add_qgis_styles(gpkg)  # no assessment: still styled
    with sqlite3.connect(gpkg) as con:
        rows = con.execute('SELECT f_table_name, "styleName", "useAsDefault" FROM layer_styles').fetchall()
        count = con.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = 'layer_styles'")
        count = count.fetchone()
    assert sorted(rows) == sorted([(t, STYLE_NAME, 1) for t in ASSESSMENT_STYLED] + [("communities", "mine", 0)])
    assert count == (len(ASSESSMENT_STYLED) + 1,)


def test_qgis_styles_skip_missing_layers(tmp_path):
    comm = gpd.GeoDataFrame(
        {"checks_failed": [1], "checks_assessed": [2]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4490
    )
    path = tmp_path / "plain.gpkg"
    pyogrio.write_dataframe(comm, path, layer="communities", driver="GPKG")
    assert add_qgis_styles(path) == ["communities"]


_QGIS_SCRIPT = r"""
import os, sys, json
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
out = {}
for name in sys.argv[2:]:
    lyr = QgsVectorLayer(sys.argv[1] + "|layername=" + name, name, "ogr")
    r = lyr.renderer()
    info = {"valid": lyr.isValid(), "renderer": r.type()}
    if r.type() == "graduatedSymbol":
        info["classes"] = [[x.lowerValue(), x.upperValue(), x.symbol().color().name()] for x in r.ranges()]
    if r.type() == "categorizedSymbol":
        info["values"] = [c.value() for c in r.categories()]
    i = lyr.fields().indexOf("cov_kindergarten")
    info["alias"] = lyr.attributeAlias(i) if i >= 0 else None
    out[name] = info
print(json.dumps(out), flush=True)
os._exit(0)  # QGIS can crash while tearing down offscreen; the answer is out
"""


def _system_qgis() -> str | None:
    import shutil
    import subprocess

    py = shutil.which("python3", path="/usr/bin")
    if not py:
        return None
    ok = subprocess.run([py, "-c", "import qgis.core"], capture_output=True, timeout=60)
    return py if ok.returncode == 0 else None


def test_qgis_itself_opens_the_layers_styled(small, gpkg, tmp_path):
    """With QGIS installed (Debian's python3-qgis), the layers open with these styles as default."""
    import json
    import subprocess

    py = _system_qgis()
    if py is None:
        pytest.skip("QGIS (python3-qgis) is not installed")
    add_qgis_styles(gpkg, small)
    script = tmp_path / "check.py"
    script.write_text(_QGIS_SCRIPT, encoding="utf-8")
    res = subprocess.run(
        [py, str(script), str(gpkg), *ASSESSMENT_STYLED],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert res.returncode == 0, res.stderr[-2000:]
    info = json.loads(res.stdout.strip().splitlines()[-1])
    assert all(v["valid"] for v in info.values())
    assert info["communities"]["renderer"] == "graduatedSymbol"
    assert info["communities"]["classes"][1] == [0.0, 0.0, "#1a9850"]
    assert info["communities"]["alias"] == "幼儿园覆盖率 Kindergarten coverage (%)"
    assert info["facilities"]["renderer"] == "categorizedSymbol"
    assert "kindergarten" in info["facilities"]["values"]
    assert info["gaps"]["renderer"] == "RuleRenderer"
    assert info["greenspace"]["renderer"] == info["streets"]["renderer"] == "singleSymbol"
    assert info["demand"]["renderer"] == "graduatedSymbol"
