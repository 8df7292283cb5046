"""Residents' committees from the code register, and the floor-area template: written, filled, read back.

Positions are checked against an independent, hand-written GCJ-02 transform
(the published formula, not servicecircle.coords); the round trip against the
values a planner types in.
"""

from __future__ import annotations

import csv
import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import servicecircle as sc
from servicecircle.cli import main
from servicecircle.errors import DataWarning, InputDataError
from servicecircle.inputs.committees import (
    POSITION_FROM_REGISTER,
    add_service_centres,
    committee_template,
    read_committees,
    read_floor_area_template,
    template_facilities,
)
from servicecircle.outputs.template import write_floor_area_template
from servicecircle.schema import FLOOR_AREA_TEMPLATE_COLUMNS, FLOOR_AREA_TEMPLATE_HEADERS

from .conftest import DATA

REGISTER = DATA / "sources" / "chengdu" / "adcode"
#: two rows of the register, as they are in the files (code, name, township, GCJ-02 lon/lat)
KNOWN = [
    ("510104022006", "总府路社区居委会", "春熙路街道办事处", 104.07853, 30.654113),
    ("510108002003", "石油社区居委会", "猛追湾街道", 104.094608, 30.675798),
]


def gcj02_by_hand(lon, lat):
    """WGS84 -> GCJ-02, the published formula (Krasovsky 1940 ellipsoid), written out here."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    t_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    t_lat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    t_lat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    t_lat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    t_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    t_lon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    t_lon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    t_lon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (t_lat * 180.0) / ((a * (1 - ee)) / (magic * sqrt_magic) * math.pi)
    d_lon = (t_lon * 180.0) / (a / sqrt_magic * math.cos(rad) * math.pi)
    return lon + d_lon, lat + d_lat


def metres(lon1, lat1, lon2, lat2):
    k = 111_320.0
    return math.hypot((lon1 - lon2) * k * math.cos(math.radians(lat1)), (lat1 - lat2) * k)


def quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return fn(*a, **k)


# --------------------------------------------------------------------------- #
# the register
# --------------------------------------------------------------------------- #


def test_committee_positions_are_the_register_centroids_converted_by_hand():
    c = read_committees(REGISTER, codes=[k[0] for k in KNOWN]).set_index("code")
    for code, name, township, g_lon, g_lat in KNOWN:
        row = c.loc[code]
        assert (row["name"], row["township"]) == (name, township)
        assert (row["lon_gcj02"], row["lat_gcj02"]) == (g_lon, g_lat)
        lon, lat = row.geometry.x, row.geometry.y
        # the WGS84 point, shifted by the published GCJ-02 formula, lands on the register's point (< 1 cm)
        f_lon, f_lat = gcj02_by_hand(lon, lat)
        assert metres(f_lon, f_lat, g_lon, g_lat) < 0.01
        # and it really was moved: the GCJ-02 offset around Chengdu is a few hundred metres (south-west)
        assert 200 < metres(lon, lat, g_lon, g_lat) < 600 and lon < g_lon and lat > g_lat
        # the one-step inverse by hand (subtract the offset at the GCJ-02 point) is within 2 m of it
        s_lon, s_lat = gcj02_by_hand(g_lon, g_lat)
        assert metres(2 * g_lon - s_lon, 2 * g_lat - s_lat, lon, lat) < 2.0


def test_the_register_lists_every_committee_and_the_ones_it_has_no_centroid_for():
    c = read_committees(REGISTER)
    # data/README.md: 535 communities in the five districts, 260 with a centroid
    assert len(c) == 535 and int(c.geometry.notna().sum()) == 260
    assert c.crs.to_epsg() == 4326 and c["code"].str.fullmatch(r"\d{12}").all()
    with pytest.warns(DataWarning, match="1 codes are not residents' or villagers' committees"):
        one = read_committees(REGISTER, codes=["510104022006", "510104999999"])
    assert one["code"].tolist() == ["510104022006"]


def test_demo_communities_sit_at_their_committees_which_lie_inside_them():
    comm = gpd.read_file(DATA / "boundaries" / "chengdu_communities_approx.gpkg")
    c = read_committees(REGISTER, codes=comm["code"])
    rows = committee_template(c, comm)
    assert rows["code"].tolist() == comm["code"].tolist()
    assert (rows["position"] == POSITION_FROM_REGISTER).all()  # every demo community is a Voronoi cell of one
    pts = gpd.GeoSeries(shapely.points(rows["lon"], rows["lat"]), crs=4326).to_crs(comm.crs)
    assert all(g.contains(p) for g, p in zip(comm.geometry, pts))


# --------------------------------------------------------------------------- #
# the template: written, filled in as a planner would, read back
# --------------------------------------------------------------------------- #


def three_rows():
    comm = pd.DataFrame({"code": [k[0] for k in KNOWN] + ["510108002999"], "name": ["a", "b", "新社区"]})
    c = quiet(read_committees, REGISTER, codes=comm["code"])
    return committee_template(c, comm), c


def fill_csv(path, edits):
    """Edit cells of a CSV template as Excel would save it back (UTF-8 with BOM): {(row, key): text}."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    keys = [h.split(" ")[0] for h in table[0]]
    for (row, key), text in edits.items():
        table[row - 1][keys.index(key)] = text
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(table)


def fill_xlsx(path, edits):
    import openpyxl

    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    keys = [str(c.value).split(" ")[0] for c in sheet[1]]
    for (row, key), value in edits.items():
        sheet.cell(row, keys.index(key) + 1).value = value
    book.save(path)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_template_round_trip_gives_back_exactly_what_the_planner_typed(tmp_path, suffix):
    rows, c = three_rows()
    path = write_floor_area_template(rows, tmp_path / f"template{suffix}")
    if suffix == ".csv":
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel opens the Chinese intact
        header = raw[3:].decode("utf-8").splitlines()[0]
        assert header.startswith(FLOOR_AREA_TEMPLATE_HEADERS["code"]) and "建筑面积" in header
        # row 2: 650 m², new; row 3: "1,200 m²", leased, and the centre moved; row 4: left empty (no data)
        fill_csv(path, {(2, "floor_area_m2"): "650", (2, "build_type"): "新建", (3, "floor_area_m2"): "1,200 m²"})
        fill_csv(path, {(3, "build_type"): "租用", (3, "lon"): "104.0935", (3, "lat"): "30.6771"})
        fill_csv(path, {(4, "lon"): "104.1", (4, "lat"): "30.66"})
    else:
        import openpyxl

        sheet = openpyxl.load_workbook(path).worksheets[0]
        assert [str(c.value).split(" ")[0] for c in sheet[1]] == FLOOR_AREA_TEMPLATE_COLUMNS
        assert sheet.cell(2, 1).number_format == "@"  # the code column is text
        fill_xlsx(path, {(2, "floor_area_m2"): 650, (2, "build_type"): "新建", (3, "floor_area_m2"): "1,200 m²"})
        fill_xlsx(path, {(3, "build_type"): "租用", (3, "lon"): 104.0935, (3, "lat"): 30.6771})
        fill_xlsx(path, {(4, "lon"): 104.1, (4, "lat"): 30.66})
    back = read_floor_area_template(path, codes=rows["code"])
    assert back["code"].tolist() == rows["code"].tolist()
    assert back["floor_area_m2"].tolist()[:2] == [650.0, 1200.0] and np.isnan(back["floor_area_m2"].iloc[2])
    assert back["build_type"].tolist() == ["新建", "租用", None]
    assert (back["category"] == "community_service_station").all()
    assert back.crs.to_epsg() == 4326
    # row 2 stays at its committee (the written 7 decimals, exactly); row 3 moved; row 4 placed by hand
    assert (back.geometry.x[0], back.geometry.y[0]) == (rows["lon"][0], rows["lat"][0])
    assert (back.geometry.x[1], back.geometry.y[1]) == (104.0935, 30.6771)
    assert (back.geometry.x[2], back.geometry.y[2]) == (104.1, 30.66)
    assert back["name"].tolist() == ["总府路社区居委会", "石油社区居委会", "新社区"]


def test_an_unfilled_template_is_no_data_and_rows_with_nothing_are_left_out(tmp_path):
    rows, c = three_rows()  # the third code has no committee in the register: no position
    assert rows["lon"].isna().tolist() == [False, False, True]
    path = write_floor_area_template(rows, tmp_path / "t.csv")
    with pytest.warns(DataWarning, match="1 rows of the floor-area template have neither a position nor a floor"):
        back = read_floor_area_template(path, codes=rows["code"])
    assert len(back) == 2 and back["floor_area_m2"].isna().all()
    with pytest.warns(DataWarning, match="2 community service stations are taken to stand at their residents'"):
        direct = template_facilities(rows)
    assert direct["code"].tolist() == back["code"].tolist() and direct["floor_area_m2"].isna().all()


def test_service_centres_join_the_facilities_in_their_columns_and_crs():
    rows, _ = three_rows()
    rows.loc[0, ["floor_area_m2", "build_type"]] = [650.0, "新建"]
    centres = quiet(template_facilities, rows)
    fac = gpd.GeoDataFrame(
        {"type": ["幼儿园"], "area": [900.0]}, geometry=[shapely.Point(104.08, 30.66)], crs=4326
    ).to_crs(4544)
    fac.attrs["source"] = "fac.gpkg"
    both = add_service_centres(fac, centres, category_column="type", floor_area_column="area")
    assert both.crs == fac.crs and both.attrs["source"] == "fac.gpkg"
    assert both["type"].tolist() == ["幼儿园", "community_service_station", "community_service_station"]
    assert both["area"].tolist()[:2] == [900.0, 650.0] and np.isnan(both["area"].iloc[2])
    x, y = both.to_crs(4326).geometry.x[1], both.to_crs(4326).geometry.y[1]
    assert abs(x - rows["lon"][0]) < 1e-9 and abs(y - rows["lat"][0]) < 1e-9


# --------------------------------------------------------------------------- #
# bad rows: one line naming the file, the row and the fix
# --------------------------------------------------------------------------- #


BAD = [
    ("code", "510104099999", "row 3 (code 510104099999): the code is not a committee", "correct the code"),
    ("code", "5.10108E+11", "the code 5.10108E+11 was turned into a number", "formatted as text"),
    ("floor_area_m2", "about 600", "the floor area 'about 600' is not a number", "give the floor area in m²"),
    ("floor_area_m2", "-50", "the floor area -50 m² is negative", "0 or more"),
    ("build_type", "重建了", "the new/rebuilt value '重建了' is not recognised", "write 新建 (new) or 改建"),
    ("lon", "东经104度", "is not two numbers", "decimal degrees"),
    ("lat", "", "has only one of lon and lat", "give both lon and lat"),
    ("lon", "30.67", "is not longitude/latitude in degrees", "lon first"),
]


@pytest.mark.parametrize(("key", "text", "what", "fix"), BAD, ids=[b[2][:24] for b in BAD])
def test_a_bad_row_is_one_line_naming_file_row_and_fix(tmp_path, key, text, what, fix):
    rows, _ = three_rows()
    path = write_floor_area_template(rows, tmp_path / "filled.csv")
    fill_csv(path, {(2, "floor_area_m2"): "500"})
    if key == "lon" and text == "30.67":
        fill_csv(path, {(3, "lat"): "104.09"})
    fill_csv(path, {(3, key): text})
    with pytest.raises(InputDataError) as err:
        read_floor_area_template(path, codes=rows["code"])
    msg = err.value.message
    assert "\n" not in msg and msg.startswith(f"{path}: row 3")
    assert what in msg and "Fix: " in msg and fix in msg


def test_a_floor_area_without_a_position_and_a_file_without_the_columns_are_refused(tmp_path):
    rows, _ = three_rows()
    path = write_floor_area_template(rows, tmp_path / "t.csv")
    fill_csv(path, {(4, "floor_area_m2"): "700"})  # the committee the register has no position for
    with pytest.raises(InputDataError, match="row 4 .*has a floor area but no position. Fix: give the service"):
        read_floor_area_template(path, codes=rows["code"])
    other = tmp_path / "other.csv"
    other.write_text("编码,面积\n510104022006,500\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="has no 'code' column .*Fix: keep the template's header row"):
        read_floor_area_template(other)
    with pytest.raises(InputDataError, match="was not found"):
        read_floor_area_template(tmp_path / "missing.csv")


def test_the_command_line_refuses_a_bad_template_with_exit_2(tmp_path, capsys):
    rows, _ = three_rows()
    path = write_floor_area_template(rows, tmp_path / "bad.csv")
    fill_csv(path, {(2, "floor_area_m2"): "六百"})
    code = main(["demo", "--data", str(DATA), "--out", str(tmp_path / "out"), "--service-centres", str(path), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "bad.csv: row 2 (code 510104022006): the floor area '六百' is not a number" in err
    assert not (tmp_path / "out" / "shortfall.gpkg").exists()


def test_the_command_writes_the_template_for_the_boundaries(tmp_path, capsys):
    out = tmp_path / "t.xlsx"
    code = main(
        [
            "floor-area-template",
            "--code-register",
            str(REGISTER),
            "--boundaries",
            str(DATA / "boundaries" / "chengdu_communities_approx.gpkg"),
            "--template",
            str(out),
        ]
    )
    assert code == 0 and str(out) in capsys.readouterr().out
    back = read_floor_area_template(out)
    assert len(back) == 69 and back["floor_area_m2"].isna().all()
    assert main(["floor-area-template", "--code-register", str(tmp_path / "nowhere")]) == 2


def test_the_python_api_names():
    assert sc.read_floor_area_template is read_floor_area_template
    assert sc.read_committees is read_committees
    assert callable(sc.write_floor_area_template)


# --------------------------------------------------------------------------- #
# the demo: required for every community, "no data" provided; then the loop
# --------------------------------------------------------------------------- #


@pytest.mark.slow
def test_demo_shows_required_floor_area_and_no_data_then_the_filled_template_gives_the_shortfall(tmp_path):
    src = gpd.read_file(DATA / "boundaries" / "chengdu_communities_approx.gpkg")
    hh = src.set_index("code")["households"]
    first = quiet(sc.run_demo, tmp_path / "before", data_dir=DATA, progress=False)
    comm = first.assessment.communities.set_index("code")
    with_hh = hh.notna() & (hh > 0)
    assert int(with_hh.sum()) == 56
    # required = max(40 m² × households / 100, 500 m²) (no build type known: the new minimum), by hand
    expected = np.maximum(0.4 * hh[with_hh], 500.0)
    assert np.allclose(comm.loc[with_hh.index[with_hh], "fa_required_m2"], expected)
    assert comm.loc[with_hh.index[~with_hh], "fa_required_m2"].isna().all()
    # provided: no data, never 0 and never a fail
    assert comm["fa_provided_m2"].isna().all() and comm["fa_shortfall_m2"].isna().all()
    assert (comm["fa_data"] == "no data").all() and comm["pass_floor_area"].isna().all()
    # the service centres stand at the committees: one per community, inside it
    fac = first.assessment.facilities
    centres = fac[fac["category_key"] == "community_service_station"]
    assert sorted(centres["code"]) == sorted(src["code"]) and (comm["fa_facilities"] == 1).all()
    row = first.assessment.summary.set_index("check").loc["floor_area"]
    assert np.isnan(row["city_value"]) and row["communities_failed"] == 0
    card = first.assessment.scorecard.set_index("target_key").loc["floor_area_total"]
    assert card["target"] == pytest.approx(expected.sum()) and np.isnan(card["value"])
    written = pd.read_csv(tmp_path / "before" / "summary.csv", encoding="utf-8-sig").set_index("check")
    assert written.loc[["floor_area"], "city_value"].isna().all()  # (a row per unit level too)
    gpkg = gpd.read_file(tmp_path / "before" / "shortfall.gpkg", layer="communities")
    assert gpkg["fa_provided_m2"].isna().all() and (gpkg["fa_data"] == "no data").all()
    html = (tmp_path / "before" / "gap_map.html").read_text(encoding="utf-8")
    assert "无数据 no data" in html  # the scorecard says so
    # the loop: the demo wrote the template; a planner fills three rows and runs again
    template = first.outputs["floor_area_template"]
    assert template == tmp_path / "before" / "floor_area_template.csv"
    rows = pd.read_csv(template, encoding="utf-8-sig", dtype=str)
    assert len(rows) == 69
    codes = list(rows.iloc[:, 0])
    fill = {"510108010004": ("3000", "新建"), "510106041004": ("4500", "改建"), "510108015003": ("800", "")}
    fill_csv(template, {(codes.index(c) + 2, "floor_area_m2"): a for c, (a, _) in fill.items()})
    fill_csv(template, {(codes.index(c) + 2, "build_type"): b for c, (_, b) in fill.items()})
    filled = tmp_path / "filled.csv"
    filled.write_bytes(template.read_bytes())
    second = quiet(sc.run_demo, tmp_path / "after", data_dir=DATA, progress=False, service_centres=filled)
    after = second.assessment.communities.set_index("code")
    # 红花堰 12,375 hh: 4,950 required, 3,000 given -> 1,950 short; 新桥 10,107 hh: 4,042.8, 4,500 -> pass;
    # 海滨湾 10,053 hh: 4,021.2 required, 800 -> 3,221.2 short
    assert after.loc[list(fill), "fa_required_m2"].tolist() == pytest.approx([4950.0, 4042.8, 4021.2])
    assert after.loc[list(fill), "fa_provided_m2"].tolist() == [3000.0, 4500.0, 800.0]
    assert after.loc[list(fill), "fa_shortfall_m2"].tolist() == pytest.approx([1950.0, 0.0, 3221.2])
    assert after.loc[list(fill), "pass_floor_area"].tolist() == [False, True, False]
    assert (after.loc[list(fill), "fa_data"] == "given").all()
    rest = after.drop(index=list(fill))
    assert (rest["fa_data"] == "no data").all() and rest["fa_provided_m2"].isna().all()
    assert "floor_area_template" in second.outputs  # the blank one, beside the outputs; the filled one is kept
    assert pd.read_csv(filled, encoding="utf-8-sig", dtype=str).iloc[:, 6].notna().sum() == 3


def test_a_run_reads_the_template_against_the_boundaries_codes(tmp_path):
    from servicecircle.pipeline import _service_centres

    comm = gpd.read_file(DATA / "boundaries" / "chengdu_communities_approx.gpkg")
    path = sc.write_floor_area_template(tmp_path / "t.csv", REGISTER, comm)
    fill_csv(path, {(2, "floor_area_m2"): "650", (2, "build_type"): "扩建"})
    inputs = sc.Inputs(boundaries="b.gpkg", facilities="f.gpkg", service_centres=path)
    centres, rows = _service_centres(inputs, sc.Options(id_column="code"), comm, None)
    assert rows is None and len(centres) == 69 and centres["floor_area_m2"].notna().sum() == 1
    assert centres.loc[0, ["code", "floor_area_m2", "build_type"]].tolist() == [comm["code"][0], 650.0, "扩建"]
    fill_csv(path, {(3, "code"): "510104022007"})  # not a community of these boundaries
    with pytest.raises(InputDataError, match="row 3 .*not a committee of the code register nor a community"):
        _service_centres(inputs, sc.Options(id_column="code"), comm, None)
    with pytest.raises(sc.OptionError, match="service_centres"):
        sc.Inputs(service_centres=3)
