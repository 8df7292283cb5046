"""GIS files that open clean on an ordinary government desktop (issue 16).

The demo's outputs are checked with the tools such a desktop has: Debian 12's
GDAL 3.6 (its GeoPackage validator and ``ogrinfo``) and QGIS 3.22 (PyQGIS opens
``shortfall.qgz`` and renders it). Where they are missing the test installs them
with apt (CI runs as root) and is skipped, with the reason, only when apt fails.
The venv's own GDAL (pyogrio's wheel) is newer; these tests are about the old one.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pyogrio
import pytest

from servicecircle import settings
from servicecircle.errors import OptionError, OutputError
from servicecircle.options import Options
from servicecircle.outputs import OUTPUT_FILES
from servicecircle.outputs.geopackage import write_geopackage
from servicecircle.outputs.qgis_project import PROJECT_GROUPS, write_qgis_project
from servicecircle.outputs.qgis_styles import STYLED_LAYERS
from servicecircle.pipeline import assess_files, demo_inputs
from servicecircle.schema import LAYERS

from .conftest import DATA
from .systools import apt_install

SYSTEM_PYTHON = "/usr/bin/python3"
OGRINFO = "/usr/bin/ogrinfo"
VALIDATE_GPKG = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py"
SHOTS = Path("/tmp/qgis-shots")
GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
_ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}


# ------------------------------------------------------------------ the system tools
def _need_gdal() -> None:
    if not (Path(OGRINFO).exists() and Path(VALIDATE_GPKG).exists()):
        reason = apt_install("gdal-bin", "python3-gdal")
        if reason:
            pytest.skip(reason)


def _has_pyqgis() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    res = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, env=_ENV, timeout=120)
    return res.returncode == 0


def _need_qgis() -> None:
    if not _has_pyqgis():
        reason = apt_install("qgis", "python3-qgis")
        if reason:
            pytest.skip(reason)
        if not _has_pyqgis():
            pytest.skip("python3-qgis installed, but 'import qgis.core' fails with /usr/bin/python3")


# ------------------------------------------------------------------ the demo's outputs
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo assessed once and saved (no web map: not what this file tests), with a File Geodatabase."""
    old = settings.cache_folder, settings.progress
    settings.cache_folder, settings.progress = tmp_path_factory.mktemp("cache"), False
    try:
        a = assess_files(**demo_inputs(DATA))
        out = tmp_path_factory.mktemp("demo")
        paths = a.save(out, write_map=False, filegdb=True)
    finally:
        settings.cache_folder, settings.progress = old
    return a, paths


def _pragmas(path: Path) -> tuple[int, int]:
    with sqlite3.connect(path) as con:
        return con.execute("PRAGMA application_id").fetchone()[0], con.execute("PRAGMA user_version").fetchone()[0]


def _styles(path: Path) -> dict[str, ET.Element]:
    with sqlite3.connect(path) as con:
        rows = con.execute('SELECT f_table_name, "styleQML" FROM layer_styles WHERE "useAsDefault" = 1').fetchall()
    return {name: ET.fromstring(qml) for name, qml in rows}


# ------------------------------------------------------------------ 1. the GeoPackage version
def test_geopackage_is_version_1_2_by_default(demo):
    _, paths = demo
    assert _pragmas(paths["geopackage"]) == (GPKG_APPLICATION_ID, 10200)


def test_geopackage_newer_versions_on_request(demo, tmp_path):
    a, _ = demo
    layers = {"communities": a.communities[["geometry"]].head(2)}
    for version, user_version in (("1.3", 10300), ("1.4", 10400)):
        path = write_geopackage(layers, tmp_path / f"v{version}.gpkg", "EPSG:4490", version=version)
        assert _pragmas(path) == (GPKG_APPLICATION_ID, user_version)
    with pytest.raises(OutputError, match="1.2, 1.3, 1.4"):
        write_geopackage(layers, tmp_path / "bad.gpkg", "EPSG:4490", version="2.0")


def test_gpkg_version_option_has_a_flag_a_default_and_choices():
    assert Options().gpkg_version == "1.2"
    assert Options(gpkg_version="1.4").gpkg_version == "1.4"
    with pytest.raises(OptionError, match="--gpkg-version"):
        Options(gpkg_version="1.5")


def test_the_run_passes_the_gpkg_version_option_on(demo, tmp_path):
    from servicecircle.pipeline import save

    a, _ = demo
    paths = save(a, Options(out=tmp_path / "v13", gpkg_version="1.3"))
    assert _pragmas(paths["geopackage"]) == (GPKG_APPLICATION_ID, 10300)


def test_gdal_3_6_validator_finds_no_error(demo):
    _need_gdal()
    _, paths = demo
    res = subprocess.run(
        [SYSTEM_PYTHON, VALIDATE_GPKG, str(paths["geopackage"])], capture_output=True, text=True, env=_ENV, timeout=600
    )
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    assert "error" not in (res.stdout + res.stderr).lower()


def test_gdal_3_6_ogrinfo_gives_no_warning(demo):
    _need_gdal()
    _, paths = demo
    version = subprocess.run([OGRINFO, "--version"], capture_output=True, text=True, env=_ENV, timeout=60).stdout
    assert version.startswith("GDAL 3."), version
    res = subprocess.run(
        [OGRINFO, "-so", "-al", str(paths["geopackage"])], capture_output=True, text=True, env=_ENV, timeout=600
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Warning" not in res.stderr, res.stderr[-2000:]
    assert "Layer name: streets" in res.stdout and "Layer name: gaps" in res.stdout


# ------------------------------------------------------------------ 2. the styles
def test_streets_layer_is_the_walking_network(demo):
    a, paths = demo
    info = pyogrio.read_info(paths["geopackage"], layer="streets")
    assert info["features"] == len(a.network.edge_length)
    assert info["geometry_type"] in ("LineString", "MultiLineString")
    assert "length_m" in list(info["fields"])
    assert LAYERS["streets"].label == "路网 Streets" and LAYERS["streets"].spatial


def test_gaps_are_styled_one_rule_per_check_grouped_by_level(demo):
    a, paths = demo
    qml = _styles(paths["geopackage"])
    assert set(qml) == set(STYLED_LAYERS) - {"proposals", "gaps_closed"}  # those two are a scenario's
    renderer = qml["gaps"].find("renderer-v2")
    assert renderer.get("type") == "RuleRenderer"
    levels = renderer.find("rules").findall("rule")
    leaves = [r for lvl in levels for r in lvl.findall("rule")]
    in_gaps = set(a.gaps["check"])
    assert sorted(r.get("filter") for r in leaves) == sorted(f"\"check\" = '{c}'" for c in in_gaps)
    assert len({r.get("symbol") for r in leaves}) == len(leaves)  # a symbol each
    assert all(lvl.get("filter", "").startswith('"level" = ') for lvl in levels)
    assert [lvl.get("label") for lvl in levels][0].startswith("15")  # the widest level first
    labels = {r.get("filter"): r.get("label") for r in leaves}
    assert labels["\"check\" = 'kindergarten'"] == "幼儿园 Kindergarten（300 m）"
    colours = {
        s.get("name"): s.find("layer/Option/Option[@name='color']").get("value")
        for s in renderer.find("symbols").findall("symbol")
    }
    assert len(set(colours.values())) >= min(len(leaves), 10)  # checks tell apart
    # a check is drawn in the colour of its facility category
    fac = qml["facilities"].find("renderer-v2")
    fac_symbol = next(c.get("symbol") for c in fac.find("categories") if c.get("value") == "kindergarten")
    fac_colour = fac.find(f"symbols/symbol[@name='{fac_symbol}']/layer/Option/Option[@name='color']").get("value")
    kg = next(r.get("symbol") for r in leaves if r.get("filter") == "\"check\" = 'kindergarten'")
    assert colours[kg].split(",")[:3] == fac_colour.split(",")[:3]


def test_communities_are_labelled_with_names_and_have_map_tips(demo):
    a, paths = demo
    root = _styles(paths["geopackage"])["communities"]
    assert root.get("labelsEnabled") == "1"
    assert root.find("labeling").get("type") == "simple"
    assert root.find("labeling/settings/text-style").get("fieldName") == a.name_column == "name"
    assert '[% "name" %]' in root.find("mapTip").text and "checks_failed" in root.find("mapTip").text
    assert root.find("previewExpression").text == '"name"'


def test_demand_and_streets_styles(demo):
    _, paths = demo
    qml = _styles(paths["geopackage"])
    r = qml["demand"].find("renderer-v2")
    assert r.get("type") == "graduatedSymbol" and r.get("attr") == "weight"
    sizes = {float(o.get("value")) for o in r.findall("symbols/symbol/layer/Option/Option[@name='size']")}
    assert sizes and max(sizes) <= 1.5  # small points
    with sqlite3.connect(paths["geopackage"]) as con:
        lo, hi = con.execute('SELECT MIN("weight"), MAX("weight") FROM demand').fetchone()
    ranges = r.findall("ranges/range")
    assert float(ranges[0].get("lower")) <= lo and float(ranges[-1].get("upper")) >= hi
    line = qml["streets"].find("renderer-v2/symbols/symbol")
    assert line.get("type") == "line"
    red, green, blue, _ = map(int, line.find("layer/Option/Option[@name='line_color']").get("value").split(","))
    assert red == green == blue and red >= 180  # light grey


def test_style_times_are_the_output_timestamp(demo):
    _, paths = demo
    with sqlite3.connect(paths["geopackage"]) as con:
        times = {r[0] for r in con.execute("SELECT last_change FROM gpkg_contents")}
        updates = {r[0] for r in con.execute("SELECT update_time FROM layer_styles")}
    assert len(times) == 1 and updates == {None}


# ------------------------------------------------------------------ 3. the QGIS project
def _qgs(path: Path) -> tuple[str, ET.Element]:
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert names == [path.with_suffix(".qgs").name]
        return names[0], ET.fromstring(z.read(names[0]))


def test_project_is_beside_the_geopackage_with_relative_paths_and_groups(demo):
    _, paths = demo
    project = paths["project"]
    assert project.name == OUTPUT_FILES["project"] == "shortfall.qgz"
    assert project.parent == paths["geopackage"].parent
    _, root = _qgs(project)
    sources = [m.findtext("datasource") for m in root.iter("maplayer")]
    assert sources and all(s.startswith("./shortfall.gpkg|layername=") for s in sources)
    assert root.find("properties/Paths/Absolute").text == "false"
    groups = [g.get("name") for g in root.find("layer-tree-group").findall("layer-tree-group")]
    assert groups == [g for g, _ in PROJECT_GROUPS]  # the demo has every kind of layer
    in_tree = {t.get("source").split("=")[-1] for t in root.iter("layer-tree-layer")}
    assert {"communities", "gaps", "facilities", "demand", "streets", "greenspace"} <= in_tree
    for m in root.iter("maplayer"):
        assert m.find("renderer-v2") is not None, m.findtext("datasource")  # every layer styled


def test_project_bytes_repeat(demo, tmp_path):
    _, paths = demo
    out = []
    for run in ("a", "b"):
        folder = tmp_path / run
        folder.mkdir()
        gpkg = shutil.copy(paths["geopackage"], folder / "shortfall.gpkg")
        out.append(write_qgis_project(gpkg, folder / "shortfall.qgz").read_bytes())
    assert out[0] == out[1] == paths["project"].read_bytes()


def test_no_project_without_styles(demo, tmp_path):
    a, _ = demo
    paths = a.save(tmp_path / "plain", write_map=False, styles=False)
    assert "project" not in paths and not (tmp_path / "plain" / "shortfall.qgz").exists()


_QGIS_PROJECT_SCRIPT = r"""
import json, os, sys
from qgis.core import (QgsApplication, QgsLayerTreeGroup, QgsMapRendererSequentialJob, QgsMapSettings,
                       QgsProject)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor
app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
out = {"read": project.read(sys.argv[1]), "layers": {}, "groups": {}}
root = project.layerTreeRoot()
for child in root.children():
    if isinstance(child, QgsLayerTreeGroup):
        out["groups"][child.name()] = [c.layer().name() for c in child.findLayers()]
for node in root.findLayers():
    lyr = node.layer()
    r = lyr.renderer()
    info = {"valid": lyr.isValid(), "renderer": r.type() if r else None, "features": lyr.featureCount(),
            "labels": lyr.labelsEnabled(), "source": lyr.source(), "crs": lyr.crs().authid(),
            "visible": node.isVisible(), "map_tip": lyr.mapTipTemplate()}
    if r is not None and r.type() == "RuleRenderer":
        info["rules"] = [[lvl.label(), [c.label() for c in lvl.children()]] for lvl in r.rootRule().children()]
    out["layers"][lyr.name()] = info
settings = QgsMapSettings()
settings.setLayers([n.layer() for n in root.findLayers() if n.isVisible()])
settings.setDestinationCrs(project.crs())
settings.setExtent(project.viewSettings().defaultViewExtent())
settings.setOutputSize(QSize(1000, 750))
settings.setBackgroundColor(QColor(255, 255, 255))
settings.setFlag(QgsMapSettings.DrawLabeling, True)
settings.setFlag(QgsMapSettings.Antialiasing, True)
job = QgsMapRendererSequentialJob(settings)
job.start()
job.waitForFinished()
img = job.renderedImage()
img.save(sys.argv[2], "PNG")
colours = {img.pixel(x, y) for x in range(0, img.width(), 5) for y in range(0, img.height(), 5)}
white = sum(img.pixel(x, y) == 0xFFFFFFFF for x in range(0, img.width(), 5) for y in range(0, img.height(), 5))
out["image"] = {"colours": len(colours), "white_share": white / ((img.width() // 5 + 1) * (img.height() // 5 + 1)),
                "errors": [e.message for e in job.errors()]}
print(json.dumps(out, ensure_ascii=False), flush=True)
os._exit(0)  # QGIS can crash while tearing down offscreen; the answer is out
"""


def test_qgis_opens_the_project_styled_and_grouped_and_draws_it(demo, tmp_path):
    _need_qgis()
    _, paths = demo
    # the project where a planner would get it: the output folder copied elsewhere (relative paths)
    folder = tmp_path / "sent"
    shutil.copytree(paths["project"].parent, folder, ignore=shutil.ignore_patterns("*.gdb"))
    script = tmp_path / "open_project.py"
    script.write_text(_QGIS_PROJECT_SCRIPT, encoding="utf-8")
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / "shortfall_qgz.png"
    res = subprocess.run(
        [SYSTEM_PYTHON, str(script), str(folder / "shortfall.qgz"), str(shot)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**_ENV, "HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path)},
    )
    assert res.returncode == 0, res.stderr[-3000:]
    info = json.loads(res.stdout.strip().splitlines()[-1])
    assert info["read"] is True
    layers = info["layers"]
    assert all(v["valid"] for v in layers.values()), {k: v["valid"] for k, v in layers.items()}
    assert all(v["source"].startswith(str(folder)) for v in layers.values())  # resolved beside the project
    assert all(v["crs"] == "EPSG:4490" for v in layers.values())
    renderers = {name: v["renderer"] for name, v in layers.items()}
    assert renderers[LAYERS["communities"].label] == "graduatedSymbol"
    assert renderers[LAYERS["gaps"].label] == "RuleRenderer"
    assert renderers[LAYERS["facilities"].label] == "categorizedSymbol"
    assert renderers[LAYERS["demand"].label] == "graduatedSymbol"
    assert renderers[LAYERS["streets"].label] == renderers[LAYERS["greenspace"].label] == "singleSymbol"
    assert layers[LAYERS["communities"].label]["labels"] is True
    assert '[% "name" %]' in layers[LAYERS["communities"].label]["map_tip"]
    levels = layers[LAYERS["gaps"].label]["rules"]
    assert levels[0][0].startswith("15分钟") and all(children for _, children in levels)
    assert set(info["groups"]) == {g for g, _ in PROJECT_GROUPS}
    assert info["groups"]["缺口 Gaps"] == [LAYERS["gaps"].label]
    assert info["groups"]["路网 Streets"] == [LAYERS["streets"].label]
    assert layers[LAYERS["streets"].label]["features"] > 1000
    assert not info["image"]["errors"]
    assert info["image"]["colours"] > 50 and info["image"]["white_share"] < 0.6, info["image"]  # not blank
    assert shot.stat().st_size > 20_000


def test_a_scenario_project_shows_its_proposals_and_opens_on_its_check(demo, tmp_path):
    from servicecircle.siting import propose_sites

    a, _ = demo
    after = propose_sites(a, "kindergarten", k=2, method="greedy").scenario()
    paths = after.save(tmp_path / "scenario", write_map=False)
    qml = _styles(paths["geopackage"])
    assert qml["proposals"].find("renderer-v2/symbols/symbol/layer/Option/Option[@name='name']").get("value") == "star"
    assert qml["proposals"].find("labeling/settings/text-style").get("fieldName") == "rank"
    assert qml["gaps_closed"].find("renderer-v2").get("type") == "singleSymbol"
    _, root = _qgs(paths["project"])
    tree = {
        g.get("name"): [t.get("source").split("=")[-1] for t in g.findall("layer-tree-layer")]
        for g in root.find("layer-tree-group").findall("layer-tree-group")
    }
    assert tree["设施 Facilities"] == ["proposals", "facilities"]  # the proposals drawn on top
    assert tree["缺口 Gaps"] == ["gaps_closed", "gaps"]
    gaps = next(m for m in root.iter("maplayer") if m.findtext("datasource").endswith("=gaps"))
    shown = [r.get("filter") for r in gaps.iter("rule") if r.find("rule") is None and r.get("checkstate") != "0"]
    assert shown == ["\"check\" = 'kindergarten'"]


# ------------------------------------------------------------------ 4. File Geodatabase aliases
def test_filegdb_fields_carry_chinese_aliases(demo):
    _, paths = demo
    gdb = paths["filegdb"]
    _, table = pyogrio.read_arrow(gdb, layer="communities", max_features=1)
    alias = {f.name: (f.metadata or {}).get(b"GDAL:OGR:alternative_name", b"").decode() for f in table.schema}
    assert alias["cov_kindergarten"] == "幼儿园覆盖率 Kindergarten coverage (%)"
    assert alias["XZQDM"] == "行政区代码 Administrative division code"
    assert all(alias[f] for f in alias if f not in ("SHAPE", "OBJECTID", "geometry", "wkb_geometry"))


def test_gdal_3_6_reads_the_filegdb_aliases(demo):
    _need_gdal()
    _, paths = demo
    res = subprocess.run(
        [OGRINFO, "-so", "-al", str(paths["filegdb"]), "communities"],
        capture_output=True,
        text=True,
        env=_ENV,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert 'cov_kindergarten: Real (0.0), alternative name="幼儿园覆盖率 Kindergarten coverage (%)"' in res.stdout
    assert "Warning" not in res.stderr
