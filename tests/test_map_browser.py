"""The gap map in a real headless browser (Debian's chromium, driven by Playwright).

The browser is installed by tools/ensure-browser.sh if it is missing; the map is
opened offline (Leaflet embedded, no tiles) and every request leaving the page
is recorded, so a CDN dependency would fail the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

import servicecircle as sc
from servicecircle.network import network_from_arrays

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = "<img src=x onerror=alert(1)>"
# Jinja syntax in the data: evaluated, it would write TEMPLATE-RAN into the page
TEMPLATE = '{{ "TEMPL" ~ "ATE-RAN" }}{% if true %}{% endif %}'


@pytest.fixture(scope="session")
def chromium():
    if shutil.which("chromium") is None:
        subprocess.run([str(ROOT / "tools" / "ensure-browser.sh")], check=False)
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium is not installed and tools/ensure-browser.sh could not install it")
    return path


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield b
        b.close()


def grid_network():
    """4 x 4 streets 300 m apart from (404000, 3396000), EPSG:4544."""
    xs = np.arange(4) * 300.0
    xy = np.array([[x, y] for y in xs for x in xs])
    idx = np.arange(16).reshape(4, 4)
    u = np.r_[idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    v = np.r_[idx[:, 1:].ravel(), idx[1:, :].ravel()]
    return network_from_arrays(xy + [404000.0, 3396000.0], u, v, "EPSG:4544")


def grid_assessment():
    """A 3 x 3 block grid with two communities, hostile names included."""
    net = grid_network()
    comm = gpd.GeoDataFrame(
        {"code": ["A", HOSTILE], "name": ["甲社区", HOSTILE], "households": [300.0, 500.0]},
        geometry=[shapely.box(404000, 3396000, 404450, 3396900), shapely.box(404450, 3396000, 404900, 3396900)],
        crs="EPSG:4544",
    )
    fac = gpd.GeoDataFrame(
        {"name": ["K1", HOSTILE, TEMPLATE], "category": ["kindergarten", "kindergarten", "小学"]},
        geometry=shapely.points([[404010, 3396010], [404890, 3396890], [404450, 3396450]]),
        crs="EPSG:4544",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sc.assess(comm, fac, net, id_column="code", name_column="name", sample_spacing=30)


@pytest.fixture(scope="module")
def map_file(tmp_path_factory):
    a = grid_assessment()
    path = tmp_path_factory.mktemp("map") / "gap_map.html"
    a.map(offline=True, tiles=None).save(str(path))
    return path, a


def open_map(browser, path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    events = {"errors": [], "dialogs": [], "requests": []}
    page.on("pageerror", lambda e: events["errors"].append(str(e)))
    page.on("dialog", lambda d: (events["dialogs"].append(d.message), d.dismiss()))
    page.on("request", lambda r: events["requests"].append(r.url))
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-control-layers")
    page.wait_for_timeout(300)
    return page, events


def hover(page, x, y, crs="EPSG:4544"):
    """Move the mouse to map coordinates (x, y) and return the tooltip text."""
    import pyproj

    lon, lat = pyproj.Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
    pt = page.evaluate(
        """([lat, lon]) => { const m = window[Object.keys(window).find(k => k.startsWith('map_'))];
        const p = m.latLngToContainerPoint([lat, lon]); const r = m.getContainer().getBoundingClientRect();
        return [p.x + r.left, p.y + r.top]; }""",
        [lat, lon],
    )
    page.mouse.move(0, 0)
    page.wait_for_timeout(100)
    page.mouse.move(*pt)
    page.wait_for_selector(".leaflet-tooltip")
    return page.locator(".leaflet-tooltip").last.inner_text()


def test_map_loads_offline_switches_layers_and_shows_numbers(browser, map_file):
    path, a = map_file
    page, events = open_map(browser, path)
    assert events["errors"] == []
    assert [u for u in events["requests"] if not u.startswith("file:")] == []
    labels = [t.strip() for t in page.locator(".leaflet-control-layers-base label").all_inner_texts()]
    assert labels[0].startswith("总览") and any("Kindergarten" in t for t in labels)
    overview_paths = page.locator("path.leaflet-interactive").count()
    assert overview_paths >= 2  # the two communities
    # switch to the kindergarten layer: communities + gaps + facility markers appear
    page.locator(".leaflet-control-layers-base label", has_text="Kindergarten").click()
    page.wait_for_timeout(300)
    assert page.locator("path.leaflet-interactive").count() > overview_paths
    # hover a covered spot of community A (next to its kindergarten): its coverage shows
    cov = a.communities["cov_kindergarten"].iloc[0]
    tip = hover(page, 404060, 3396060)
    assert "覆盖率 Coverage" in tip and f"{cov:.1f}%" in tip and "甲社区" in tip
    # hover the far corner of A, out of reach: the gap polygon and its numbers show
    gap = a.gaps[(a.gaps.community_id == "A") & (a.gaps.category == "kindergarten")].iloc[0]
    tip = hover(page, 404430, 3396880)
    assert "缺口 Gap" in tip and f"{gap.uncovered_weight:,.0f}" in tip
    legend = page.locator(".sc-legend").inner_text()
    assert "覆盖率" in legend and "Coverage" in legend and "缺口 Gap" in legend
    shot = page.screenshot()
    page.close()
    from io import BytesIO

    from PIL import Image

    img = np.asarray(Image.open(BytesIO(shot)).convert("RGB"))
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 50  # not a blank page


def test_hostile_text_is_shown_as_text_and_runs_nothing(browser, map_file):
    path, _ = map_file
    html = path.read_text(encoding="utf-8")
    assert HOSTILE not in html  # only its escaped form is in the page
    page, events = open_map(browser, path)
    for label in page.locator(".leaflet-control-layers-base label").all():
        label.click()
        page.wait_for_timeout(150)
        for p in page.locator("path.leaflet-interactive").all()[:12]:
            try:
                p.click(timeout=500, force=True)
            except Exception:
                pass
    page.wait_for_timeout(300)
    assert events["dialogs"] == [] and events["errors"] == []
    assert page.locator("img[src='x']").count() == 0
    page.close()


def test_template_syntax_in_the_data_is_text_not_code(browser, map_file):
    """folium re-reads each element's output as a Jinja template; data must never reach that."""
    path, _ = map_file
    html = path.read_text(encoding="utf-8")
    assert "TEMPLATE-RAN" not in html
    page, events = open_map(browser, path)
    # what a tooltip shows: the stored (escaped) text, decoded by the browser
    shown = page.evaluate("""() => { const d = document.createElement('div');
        d.innerHTML = JSON.stringify(window[Object.keys(window).find(k => k.startsWith("sc_data_"))]);
        return d.textContent; }""")
    assert TEMPLATE in shown
    assert events["errors"] == []
    page.close()


def test_basemaps_openstreetmap_tianditu_local_or_none(map_file, monkeypatch):
    """Which tiles the page asks for (the tile servers themselves are not reached in tests)."""
    from servicecircle.errors import InputDataError
    from servicecircle.options import BASEMAPS as OPTION_BASEMAPS
    from servicecircle.outputs.gapmap import BASEMAPS

    assert OPTION_BASEMAPS == (*BASEMAPS, "none")  # the options' copy of the names (the CLI must not import folium)
    _, a = map_file
    key = "0123456789abcdef0123456789abcdef"
    page = a.map(tiles="tianditu", tianditu_key=key).get_root().render()
    for layer in ("vec", "cva"):  # the map and its labels, from the eight Tianditu servers
        assert f"tianditu.gov.cn/{layer}_w/wmts?" in page and f"LAYER={layer}" in page
    assert f"tk={key}" in page and '"subdomains": "01234567"' in page and "openstreetmap.org/{z}" not in page
    imagery = a.map(tiles="tianditu-imagery", tianditu_key=key).get_root().render()
    assert "img_w/wmts" in imagery and "cia_w/wmts" in imagery
    monkeypatch.setenv("TIANDITU_KEY", key)  # the key can come from the environment
    assert f"tk={key}" in a.map(tiles="tianditu").get_root().render()
    monkeypatch.delenv("TIANDITU_KEY")
    with pytest.raises(InputDataError, match="needs your Tianditu key"):
        a.map(tiles="tianditu")
    with pytest.raises(InputDataError, match="not a key"):
        a.map(tiles="tianditu", tianditu_key="abc'};alert(1)//0123456789")
    with pytest.raises(InputDataError, match="unknown basemap 'amap'"):
        a.map(tiles="amap")
    osm = a.map(tiles="openstreetmap").get_root().render()
    assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in osm and "openstreetmap.org/copyright" in osm
    default = a.map().get_root().render()  # by default: no tiles, no tile attribution, Leaflet embedded
    assert "tile.openstreetmap" not in default and "openstreetmap.org/copyright" not in default
    assert "cdn.jsdelivr.net/npm/leaflet" not in default
    assert "cdn.jsdelivr.net/npm/leaflet" in a.map(offline=False).get_root().render()
    local = a.map(tile_url="http://tiles.intranet/{z}/{x}/{y}.png").get_root().render()
    assert "tiles.intranet" in local and "openstreetmap.org/{z}" not in local
    assert "tile.openstreetmap" not in a.map(tiles=None).get_root().render()


def test_cli_tianditu_without_a_key_is_one_line_and_exit_2(tmp_path, monkeypatch):
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TIANDITU_KEY"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "servicecircle.cli",
            "demo",
            "--out",
            str(tmp_path / "o"),
            "--basemap",
            "tianditu",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "needs your Tianditu key" in err[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "o" / "gap_map.html").exists()


def test_hidden_layers_are_built_only_when_shown(browser, map_file):
    """A city-wide map has dozens of check layers: only the one on screen holds features."""
    path, _ = map_file
    page, events = open_map(browser, path)
    count = """() => Object.keys(window).filter(k => k.startsWith('feature_group_'))
        .map(k => [k, window[k].getLayers().reduce((n, g) => n + (g.getLayers ? g.getLayers().length : 1), 0),
                   !!window[k]._map])"""
    before = page.evaluate(count)
    shown = [n for _, n, on in before if on]
    hidden = [n for _, n, on in before if not on]
    assert shown and all(n > 0 for n in shown)  # the overview: the communities
    assert hidden and all(n == 0 for n in hidden)  # nothing built for the layers not shown
    page.locator(".leaflet-control-layers-base label", has_text="Kindergarten").click()
    page.wait_for_timeout(300)
    after = dict((k, n) for k, n, on in page.evaluate(count) if on)
    assert len(after) >= 1 and all(n > 0 for n in after.values())  # built on first show
    assert events["errors"] == []
    page.close()


def test_level_switch(browser, tmp_path):
    """The map's level switch shows one unit level's polygons (or none: the communities) in every layer."""
    import importlib

    units = importlib.import_module("tests.test_units_outputs")
    comm, fac, compounds = units.three_communities()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = sc.assess(comm, fac, units.grid_network(), id_column="code", code_register=str(units.REGISTER),
                      compounds=compounds, sample_spacing=30, progress=False)  # fmt: skip
    path = tmp_path / "map.html"
    a.map(offline=True, tiles=None).save(str(path))
    page, events = open_map(browser, path)
    shown = "(lv) => document.querySelector('.leaflet-scLv_' + lv + '-pane').style.display"
    assert page.evaluate(shown, "township") == "none"  # the communities first
    page.click(".sc-levels button[data-lv='township']")
    assert page.evaluate(shown, "township") == "" and page.evaluate(shown, "city") == "none"
    assert page.evaluate("() => document.querySelectorAll('.leaflet-scLv_township-pane path').length") == 2
    page.click(".sc-levels button[data-lv='community']")
    assert page.evaluate(shown, "township") == "none"
    assert not events["errors"] and not events["dialogs"]
    page.close()


def test_catchments_are_hidden_layers_coloured_and_named_by_facility(browser, tmp_path):
    """The grid's two kindergartens (K1 at the south-west corner, the hostile one at the north-east), 300 m each:
    every place of a catchment is nearest its own facility, and the tooltip names it."""
    net = grid_network()
    comm = gpd.GeoDataFrame(
        {"code": ["A"], "name": ["甲社区"], "households": [300.0]},
        geometry=[shapely.box(404000, 3396000, 404900, 3396900)],
        crs="EPSG:4544",
    )
    fac = gpd.GeoDataFrame(
        {"name": ["K1", HOSTILE], "category": ["kindergarten", "kindergarten"]},
        geometry=shapely.points([[404000, 3396000], [404900, 3396900]]),
        crs="EPSG:4544",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = sc.assess(comm, fac, net, id_column="code", name_column="name", sample_spacing=60, service_areas=True)
    ca = a.layers["catchments"]
    kg = ca[ca["check"] == "kindergarten"]
    assert sorted(kg["facility_index"]) == [0, 1]
    # by hand: 300 m along the two streets from each corner (600 m of street each)
    np.testing.assert_allclose(kg["street_m"], [600.0, 600.0])
    path = tmp_path / "map.html"
    a.map(offline=True, tiles=None).save(str(path))
    page, events = open_map(browser, path)
    label = page.locator(".leaflet-control-layers-overlays label", has_text="服务分区 Catchments: kindergarten")
    assert label.count() == 1 and not label.locator("input").is_checked()  # hidden until asked for
    label.click()
    page.wait_for_timeout(300)
    tip = hover(page, 404150, 3396010)  # 150 m east of K1 along its street
    assert "K1" in tip and "最近设施 Nearest facility" in tip and "adult, 300 m" in tip and "600 m" in tip
    tip = hover(page, 404890, 3396750)  # 150 m south of the other kindergarten
    assert HOSTILE in tip  # shown as text
    assert events["errors"] == [] and events["dialogs"] == []
    assert [u for u in events["requests"] if not u.startswith("file:")] == []
    page.close()


def test_neighbouring_catchments_never_share_a_colour():
    """A 3 x 3 block of touching squares (corners touch too): each differs from all of its (up to 8) neighbours."""
    from servicecircle.outputs.gapmap import _CATCHMENT_COLOURS, _neighbour_colours

    squares = np.array([shapely.box(x, y, x + 100, y + 100) for y in (0, 100, 200) for x in (0, 100, 200)])
    colour = _neighbour_colours(squares, 1.0)
    for i in range(9):
        for j in range(9):
            if i != j and abs(i % 3 - j % 3) <= 1 and abs(i // 3 - j // 3) <= 1:
                assert colour[i] != colour[j], (i, j)
    assert colour.max() < len(_CATCHMENT_COLOURS)
    # apart, one colour does
    apart = np.array([shapely.box(x, 0, x + 100, 100) for x in (0, 500, 1000)])
    assert _neighbour_colours(apart, 1.0).tolist() == [0, 0, 0]
