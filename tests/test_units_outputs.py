"""The unit levels in the outputs: GeoPackage layers, the workbook, summary_units.csv, the map's level switch."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import servicecircle as sc
from servicecircle.errors import InputDataError
from servicecircle.network import network_from_arrays

ROOT = Path(__file__).resolve().parents[1]
REGISTER = ROOT / "data" / "sources" / "chengdu" / "adcode"


def grid_network():
    xs = np.arange(4) * 300.0
    xy = np.array([[x, y] for y in xs for x in xs])
    idx = np.arange(16).reshape(4, 4)
    u = np.r_[idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    v = np.r_[idx[:, 1:].ravel(), idx[1:, :].ravel()]
    return network_from_arrays(xy + [404000.0, 3396000.0], u, v, "EPSG:4544")


def three_communities():
    """Three communities of real Chengdu codes: two under 春熙路街道, one under 书院街街道 (锦江区)."""
    x0, y0 = 404000.0, 3396000.0
    comm = gpd.GeoDataFrame(
        {
            "code": ["510104022006", "510104022007", "510104023001"],
            "households": [300.0, 100.0, 600.0],
        },
        geometry=[
            shapely.box(x0, y0, x0 + 300, y0 + 900),
            shapely.box(x0 + 300, y0, x0 + 600, y0 + 900),
            shapely.box(x0 + 600, y0, x0 + 900, y0 + 900),
        ],
        crs="EPSG:4544",
    )
    fac = gpd.GeoDataFrame(
        {"category": ["kindergarten"]}, geometry=shapely.points([[x0 + 10, y0 + 10]]), crs="EPSG:4544"
    )
    compounds = gpd.GeoDataFrame(
        {"name": ["甲小区", "乙小区"]},
        geometry=[
            shapely.box(x0 + 20, y0 + 20, x0 + 100, y0 + 100),
            shapely.box(x0 + 620, y0 + 620, x0 + 880, y0 + 880),
        ],
        crs="EPSG:4544",
    )
    return comm, fac, compounds


@pytest.fixture(scope="module")
def result():
    comm, fac, compounds = three_communities()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sc.assess(
            comm,
            fac,
            grid_network(),
            id_column="code",
            code_register=str(REGISTER),
            compounds=compounds,
            sample_spacing=30,
            progress=False,
        )


def test_types_and_units_in_the_communities(result):
    c = result.communities
    assert list(c["community_type"]) == ["urban"] * 3
    assert c["community_type_rule"].iloc[0] == "code register: parent 春熙路街道办事处 is a 街道"
    assert list(c["township_name"]) == ["春熙路街道办事处", "春熙路街道办事处", "书院街街道办事处"]
    assert list(c["county_name"]) == ["锦江区"] * 3
    assert list(c["city_name"]) == ["成都市"] * 3


def test_rollup_matches_the_communities(result):
    c = result.communities
    town = result.layers["units_township"].set_index("unit_code")
    city = result.layers["units_city"].iloc[0]
    w, cov = c["weight_total"].to_numpy(), c["cov_kindergarten"].to_numpy()
    a = town.loc["510104022000"]
    assert a["n_communities"] == 2 and a["unit_name"] == "春熙路街道办事处" and a["unit_kind"] == "street"
    assert a["cov_kindergarten"] == pytest.approx((w[0] * cov[0] + w[1] * cov[1]) / (w[0] + w[1]))
    assert city["cov_kindergarten"] == pytest.approx((w * cov).sum() / w.sum())
    # the city's coverage is the summary's citywide coverage: the same demand, the same reach
    summary = result.summary.set_index("check")
    assert city["cov_kindergarten"] == pytest.approx(summary.loc["kindergarten", "citywide_coverage_pct"])
    passed = c["pass_kindergarten"].astype("boolean")
    assert city["npass_kindergarten"] == int((passed == True).sum())  # noqa: E712
    assert city["nfail_kindergarten"] == int((passed == False).sum())  # noqa: E712
    assert city["n_urban"] == 3 and city["unit_name"] == "成都市"
    assert shapely.equals(shapely.normalize(city.geometry), shapely.normalize(shapely.union_all(c.geometry.values)))


def test_compounds_layer(result):
    comp = result.layers["compounds"]
    assert list(comp["compound_name"]) == ["甲小区", "乙小区"]
    assert list(comp["community_id"]) == ["510104022006", "510104023001"]
    # 甲小区 is beside the kindergarten: its farthest corner is 100 m from a street, 90 m along it, 10 m back
    # (200 m); 乙小区 is more than 1.2 km away
    assert comp["cov_kindergarten"].iloc[0] == pytest.approx(100.0)
    assert comp["cov_kindergarten"].iloc[1] == pytest.approx(0.0)
    assert list(comp["pass_kindergarten"]) == [True, False]
    row = result.scorecard.set_index("target_key").loc["compounds"]
    assert row["value"] == pytest.approx(50.0) and bool(row["passed"]) is False


def test_outputs_open(result, tmp_path):
    import openpyxl
    import pyogrio

    written = result.save(tmp_path / "out", excel=True)
    gpkg = written["geopackage"]
    layers = dict(pyogrio.list_layers(gpkg))
    for name in ("units_township", "units_county", "units_city", "compounds"):
        assert layers[name] in ("MultiPolygon", "Polygon")
    town = pyogrio.read_dataframe(gpkg, layer="units_township")
    assert len(town) == 2 and town.crs.to_epsg() == 4490
    assert set(town["unit_name"]) == {"春熙路街道办事处", "书院街街道办事处"}
    assert list(town["unit_code"]) == ["510104022000", "510104023000"]  # 12-digit codes stay text
    rollup = pyogrio.read_dataframe(gpkg, layer="rollup", read_geometry=False)
    assert set(rollup["level"]) == {"township", "county", "city"}
    comm = pyogrio.read_dataframe(gpkg, layer="communities")
    assert list(comm["community_type"]) == ["urban"] * 3
    fields = pyogrio.read_dataframe(gpkg, layer="fields", read_geometry=False)
    labels = fields.set_index(["layer", "column"])
    assert labels.loc[("units_township", "npass_kindergarten"), "name_en"] == "Kindergarten: communities passing"
    units_csv = pd.read_csv(written["summary_units"], encoding="utf-8-sig", dtype={"unit_code": str})
    assert len(units_csv) == len(rollup)
    wb = openpyxl.load_workbook(written["excel"], read_only=True)
    assert {"街道乡镇 Townships", "区县 Counties", "全市 City", "小区 Compounds"} <= set(wb.sheetnames)


def test_map_has_a_level_switch(result, tmp_path):
    path = tmp_path / "map.html"
    result.map().save(str(path))
    html = path.read_text(encoding="utf-8")
    assert "sc-levels" in html and '"lv_township"' in html and "scLv_city" in html


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed (see test_map_browser)")
def test_level_switch_in_a_browser(result, tmp_path):
    from playwright.sync_api import sync_playwright

    path = tmp_path / "map.html"
    result.map().save(str(path))
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox", "--disable-gpu"])
        page = b.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_selector(".sc-levels button")
        shown = "(lv) => { const p = document.querySelector('.leaflet-scLv_' + lv + '-pane'); return p.style.display; }"
        assert page.evaluate(shown, "township") == "none"
        page.click(".sc-levels button[data-lv='township']")
        assert page.evaluate(shown, "township") == "" and page.evaluate(shown, "city") == "none"
        n_paths = page.evaluate("() => document.querySelectorAll('.leaflet-scLv_township-pane path').length")
        assert n_paths == 2  # the overview's two townships
        page.click(".sc-levels button[data-lv='community']")
        assert page.evaluate(shown, "township") == "none"
        b.close()
        assert not errors


def test_missing_register_is_one_line_exit_2(tmp_path):
    import subprocess
    import sys

    data = ROOT / "data"
    r = subprocess.run(
        [sys.executable, "-m", "servicecircle.cli", "run", "--boundaries", str(data / "boundaries" /
         "chengdu_communities_approx.gpkg"), "--facilities", str(data / "facilities" / "chengdu_facilities_osm.gpkg"),
         "--facilities-layer", "facilities", "--network", str(data / "network" / "chengdu_central_2018.osm.gz"),
         "--out", str(tmp_path / "o"), "--code-register", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "the code register file does not exist" in lines[0] and "Fix:" in lines[0]
    assert str(tmp_path / "nope") in lines[0]


def test_bad_type_column_refused_before_the_run(tmp_path):
    comm, fac, _ = three_communities()
    comm["kind"] = ["城市社区", "suburb", None]
    with pytest.raises(InputDataError, match="'suburb' in column 'kind' is not a community type"):
        sc.assess(comm, fac, grid_network(), id_column="code", type_column="kind", progress=False)
