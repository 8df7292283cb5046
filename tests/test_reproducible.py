"""Identical inputs give identical files, byte for byte (issue 12).

The demo is run twice, as the command a planner types, and every file of the
two output folders is compared as bytes, nothing stripped: the map's element
names, the GeoPackage's ``last_change``, the workbook's core properties and zip
entry times, the File Geodatabase's item UUIDs and the figures must all repeat.
The one time a format requires is ``settings.output_timestamp``.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pyogrio
import pytest

from servicecircle import settings

from .conftest import DATA
from .test_exports import build_small_assessment


def demo(out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "servicecircle.cli",
        "demo",
        "--out",
        str(out),
        "--data",
        str(DATA),
        "--excel",
        "--gdb",
        "--figures",
        "-q",
    ]


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (its path relative to ``folder``) → its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small():
    return build_small_assessment()


@pytest.mark.slow
def test_the_demo_twice_gives_identical_files_byte_for_byte(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env["SERVICECIRCLE_CACHE"] = str(tmp_path / "cache")  # the first run builds the network, the second reads it
    for run in ("A", "B"):
        r = subprocess.run(demo(tmp_path / run), capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr
    a, b = files(tmp_path / "A"), files(tmp_path / "B")
    assert {"gap_map.html", "shortfall.gpkg", "summary.csv", "shortfall.xlsx", "figures/overview.png"} <= set(a)
    assert any(name.startswith("shortfall.gdb/") for name in a)
    assert sum(name.startswith("figures/check_") for name in a) > 0
    assert sorted(a) == sorted(b)
    differ = [name for name in a if a[name] != b[name]]
    assert not differ, f"these files differ between two runs: {differ}"
    # no random element names left in the map (branca's are 32 hex digits)
    assert not re.search(r"_[0-9a-f]{32}\b", a["gap_map.html"].decode("utf-8"))
    # the default time, where a format needs one
    with sqlite3.connect(tmp_path / "A" / "shortfall.gpkg") as con:
        times = {t for (t,) in con.execute("SELECT last_change FROM gpkg_contents")}
    assert times == {"2000-01-01T00:00:00.000Z"}


def last_changes(gpkg: Path) -> dict[str, str]:
    con = sqlite3.connect(gpkg)
    try:
        return dict(con.execute("SELECT table_name, last_change FROM gpkg_contents"))
    finally:
        con.close()


def test_output_timestamp_sets_the_geopackage_last_change(small, tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    small.save(tmp_path / "default", write_map=False)
    default = last_changes(tmp_path / "default" / "shortfall.gpkg")
    assert "communities" in default and "layer_styles" in default  # GDAL's tables and the QGIS styles
    assert set(default.values()) == {"2000-01-01T00:00:00.000Z"}

    monkeypatch.setattr(settings, "output_timestamp", "2024-05-01T09:30:00.250+08:00")
    small.save(tmp_path / "set", write_map=False)
    stamped = last_changes(tmp_path / "set" / "shortfall.gpkg")
    assert stamped.keys() == default.keys()
    assert set(stamped.values()) == {"2024-05-01T01:30:00.250Z"}  # that time, in UTC
    assert pyogrio.get_gdal_config_option("OGR_CURRENT_DATE") == before  # set for the write only

    monkeypatch.setattr(settings, "output_timestamp", None)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1714555800")
    small.save(tmp_path / "epoch", write_map=False)
    assert set(last_changes(tmp_path / "epoch" / "shortfall.gpkg").values()) == {"2024-05-01T09:30:00.000Z"}


def test_output_timestamp_is_the_workbook_time(small, tmp_path, monkeypatch):
    from servicecircle.outputs.excel import write_excel

    monkeypatch.setattr(settings, "output_timestamp", "2024-05-01T09:30:00Z")
    with zipfile.ZipFile(write_excel(small, tmp_path / "w.xlsx")) as z:
        core = z.read("docProps/core.xml").decode("utf-8")
        assert {i.date_time for i in z.infolist()} == {(2024, 5, 1, 9, 30, 0)}
    assert re.findall(r"<dcterms:(\w+)[^>]*>([^<]+)<", core) == [
        ("created", "2024-05-01T09:30:00Z"),
        ("modified", "2024-05-01T09:30:00Z"),
    ]


def test_an_unusable_output_timestamp_is_refused_before_anything_is_written(small, tmp_path, monkeypatch):
    from servicecircle.errors import OptionError
    from servicecircle.outputs.excel import write_excel

    small.save(tmp_path, write_map=False)
    workbook = write_excel(small, tmp_path / "w.xlsx")
    before = files(tmp_path)
    monkeypatch.setattr(settings, "output_timestamp", "yesterday")
    with pytest.raises(OptionError, match="settings.output_timestamp"):
        small.save(tmp_path, write_map=False)
    with pytest.raises(OptionError, match="settings.output_timestamp"):
        write_excel(small, workbook)
    assert files(tmp_path) == before  # the previous outputs are untouched
    monkeypatch.setattr(settings, "output_timestamp", None)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1714555800.5")
    with pytest.raises(OptionError, match="SOURCE_DATE_EPOCH"):
        settings.output_time()


_NAME = re.compile(r"\b([a-z_]+_[0-9a-f]{16}_\d+)\b")


def names(m) -> set[str]:
    return set(_NAME.findall(m.get_root().render()))


def test_map_element_names_repeat_and_differ_between_maps(small):
    one, again = small.map(tiles=None), small.map(tiles=None)
    html = one.get_root().render()
    assert html == again.get_root().render()  # the same map, the same page
    found = _NAME.findall(html)
    assert any(n.startswith("map_") for n in found) and any(n.startswith("feature_group_") for n in found)
    assert all(re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", n) for n in found)  # JavaScript identifiers
    # unique within the page: one name per element (each `var` declared once)
    declared = re.findall(r"\bvar ([a-z_]+_[0-9a-f]{16}_\d+)\b", html)
    assert declared and len(declared) == len(set(declared))
    # two different maps of the same assessment never share a name, so they can share one document
    other = [small.map(tiles="openstreetmap"), small.map(title="另一张 Another"), small.map(offline=False)]
    for m in other:
        assert names(m) and not names(m) & set(found)
    assert not names(other[0]) & names(other[1])
