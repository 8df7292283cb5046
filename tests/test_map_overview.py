"""The gap map's overview in a real headless browser (Debian's chromium, driven by Playwright).

What a planner sees at a glance: the map opens with nothing requested off the
machine (Leaflet embedded, no tiles), the streets come from the walking network,
communities are coloured by the share of their checks they fail, a click lists
the checks a community fails, and the legend belongs to the layer on view.
Expected values are computed here from the assessment's own frames (its
``pass_`` and ``cov_`` columns), never from the map's code.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import servicecircle as sc
from servicecircle.network import network_from_arrays
from servicecircle.outputs.style import FAILED_SHARE_BINS, NO_DATA

from .conftest import DATA

ROOT = Path(__file__).resolve().parents[1]
SHOTS = Path("/tmp/map-shots")


def running_browser():
    """The browser another test module launched and still holds, if any.

    Playwright's sync API runs one instance per thread: while
    tests/test_map_browser.py holds its (session-wide) browser, a second
    ``sync_playwright()`` is refused, so that browser is borrowed.
    """
    import gc

    from playwright.sync_api import Browser

    return next((o for o in gc.get_objects() if isinstance(o, Browser) and o.is_connected()), None)


@pytest.fixture(scope="module")
def browser():
    shared = running_browser()
    if shared is not None:
        yield shared
        return
    from playwright.sync_api import sync_playwright

    if shutil.which("chromium") is None:
        subprocess.run([str(ROOT / "tools" / "ensure-browser.sh")], check=False)
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium is not installed and tools/ensure-browser.sh could not install it")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The bundled demo, run with the default options (its map as the command writes it)."""
    out = tmp_path_factory.mktemp("demo")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = sc.run_demo(out, data_dir=DATA, progress=False)
    return out / "gap_map.html", run.assessment


def two_communities():
    """A 4 x 4 street grid: B has primary schools all along its streets (and kindergartens on its east edge), A none.

    A fails every check; B only the kindergarten one (its west edge is out of 300 m).
    """
    xs = np.arange(4) * 300.0
    xy = np.array([[x, y] for y in xs for x in xs])
    idx = np.arange(16).reshape(4, 4)
    u = np.r_[idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    v = np.r_[idx[:, 1:].ravel(), idx[1:, :].ravel()]
    x0, y0 = 404000.0, 3396000.0
    net = network_from_arrays(xy + [x0, y0], u, v, "EPSG:4544")
    comm = gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["甲社区", "乙社区"], "households": [300.0, 2000.0]},
        geometry=[shapely.box(x0, y0, x0 + 450, y0 + 900), shapely.box(x0 + 450, y0, x0 + 900, y0 + 900)],
        crs="EPSG:4544",
    )
    # every 150 m along the streets at x = 600 and 900, and along the cross streets east of x = 600
    pts = [(x, y) for x in (600.0, 900.0) for y in np.arange(0, 901, 150.0)]
    pts += [(x, y) for x in (750.0,) for y in xs]
    east = [(900.0, y) for y in np.arange(0, 901, 150.0)]
    fac = gpd.GeoDataFrame(
        {
            "name": [f"F{i}" for i in range(len(east) + len(pts))],
            "category": ["kindergarten"] * len(east) + ["小学"] * len(pts),
        },
        geometry=shapely.points(np.array(east + pts) + [x0, y0]),
        crs="EPSG:4544",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sc.assess(comm, fac, net, id_column="code", name_column="name", sample_spacing=30)


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    a = two_communities()
    path = tmp_path_factory.mktemp("grid") / "gap_map.html"
    a.map().save(str(path))  # the defaults: offline, no tiles
    return path, a


def open_map(browser, path, width=1200, height=900):
    """Open the map with every request routed: only file: and data: URLs may load."""
    page = browser.new_page(viewport={"width": width, "height": height})
    events = {"errors": [], "requests": []}
    page.on("pageerror", lambda e: events["errors"].append(str(e)))

    def route(r):
        events["requests"].append(r.request.url)
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            r.abort()

    page.route("**/*", route)
    page.on("request", lambda r: events["requests"].append(r.url))
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-control-layers")
    page.wait_for_timeout(300)
    return page, events


MAP = "window[Object.keys(window).find(k => k.startsWith('map_'))]"


def to_screen(page, x, y, crs):
    import pyproj

    lon, lat = pyproj.Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
    return page.evaluate(
        f"""([lat, lon]) => {{ const m = {MAP}; const p = m.latLngToContainerPoint([lat, lon]);
        const r = m.getContainer().getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }}""",
        [lat, lon],
    )


def fills(page):
    """Community name → fill colour, as drawn (the SVG path's fill) on the layer shown."""
    return page.evaluate(
        """() => { const out = {};
        Object.keys(window).filter(k => k.startsWith('feature_group_') && window[k]._map).forEach(k =>
          window[k].eachLayer(g => g.eachLayer && g.eachLayer(l => {
            if (l.feature && l.feature.properties.name !== undefined && l._path && 'o_fill' in l.feature.properties)
              { const d = document.createElement('div'); d.innerHTML = l.feature.properties.name;
                out[d.textContent] = l._path.getAttribute('fill'); } })));
        return out; }"""
    )


def failing_checks(comm: pd.DataFrame, i: int) -> set[str]:
    """The checks community ``i`` fails, read from its pass_ columns."""
    return {
        c[len("pass_") :]
        for c in comm.columns
        if c.startswith("pass_") and not pd.isna(comm[c].iloc[i]) and not bool(comm[c].iloc[i])
    }


def expected_colour(comm: pd.DataFrame, i: int) -> str:
    values = [comm[c].iloc[i] for c in comm.columns if c.startswith("pass_")]
    known = [bool(v) for v in values if not pd.isna(v)]
    if not known:
        return NO_DATA
    share = 100.0 * sum(not v for v in known) / len(known)
    return next(colour for upper, colour, _ in FAILED_SHARE_BINS if share <= upper)


def test_the_default_map_requests_nothing_off_the_machine_and_draws_the_streets(browser, demo):
    path, a = demo
    html = path.read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" not in html and "cdn.jsdelivr" not in html.split("<body")[0]
    page, events = open_map(browser, path)
    assert events["errors"] == []
    assert events["requests"] and all(u.startswith(("file:", "data:")) for u in events["requests"])
    # the street context: the walking network, drawn in its own pane, with the OSM data attribution
    assert page.locator(".leaflet-scContext-pane path").count() > 0
    n_lines = page.evaluate(
        "() => { const d = window[Object.keys(window).find(k => k.startsWith('sc_data_'))].streets;"
        " return d.features.reduce((n, f) => n + (f.geometry.type === 'MultiLineString'"
        " ? f.geometry.coordinates.length : 1), 0); }"
    )
    assert n_lines > 100  # the demo's network has 4,518 edges; merged into chains, still hundreds
    assert "© OpenStreetMap contributors, ODbL" in page.locator(".leaflet-control-attribution").inner_text()
    # the green spaces the assessment holds are drawn as context too
    assert page.locator(".leaflet-scContext-pane path").count() >= 2
    # the demo banner names the kindergartens the extract holds
    n_kg = int((a.facilities["category_key"] == "kindergarten").sum())
    banner = page.locator(".sc-banner").inner_text()
    assert f"{n_kg} 所幼儿园" in banner and f"{n_kg} kindergartens" in banner and "Amap" in banner
    page.close()


def test_the_popup_lists_exactly_the_checks_a_community_fails(browser, demo):
    path, a = demo
    comm = a.communities
    n_failed = comm["checks_failed"].to_numpy()
    n_assessed = comm["checks_assessed"].to_numpy()
    some = np.flatnonzero((n_failed > 0) & (n_failed < n_assessed))
    assert len(some)
    i = int(some[np.argmax(comm.geometry.area.to_numpy()[some])])  # the largest: easy to click
    expected = failing_checks(comm, i)
    assert expected and len(expected) == n_failed[i]
    page, events = open_map(browser, path)
    pt = comm.geometry.iloc[i].representative_point()
    page.mouse.click(*to_screen(page, pt.x, pt.y, comm.crs))
    page.wait_for_selector(".leaflet-popup-content .sc-fails")
    popup = page.locator(".leaflet-popup-content")
    assert comm["name"].iloc[i] in popup.inner_text() and str(comm["code"].iloc[i]) in popup.inner_text()
    items = popup.locator("li[data-check]")
    shown = items.evaluate_all("els => els.map(e => e.getAttribute('data-check'))")
    assert sorted(shown) == sorted(expected)
    for li in items.all():
        key = li.get_attribute("data-check")
        if f"cov_{key}" in comm.columns:  # a reach check: its coverage and uncovered households
            assert li.locator(".sc-cov").inner_text() == f"{comm[f'cov_{key}'].iloc[i]:.1f}%"
            assert li.locator(".sc-uncw").inner_text() == f"{comm[f'unc_{key}'].iloc[i]:,.0f}"
    # unconfirmed thresholds carry the badge, confirmed ones not
    confirmed = {c.key: c.confirmed for c in a.checks}
    for li in items.all():
        badge = li.locator(".sc-unc").count()
        assert badge == (0 if confirmed[li.get_attribute("data-check")] else 1)
    assert events["errors"] == []
    page.close()


def test_overview_colours_tell_one_failure_from_all(browser, grid):
    path, a = grid
    comm = a.communities
    share = comm["checks_failed"] / comm["checks_assessed"]
    one = int(np.flatnonzero(comm["checks_failed"].to_numpy() == 1)[0])
    every = int(np.flatnonzero(share.to_numpy() == 1.0)[0])
    assert len(failing_checks(comm, one)) == 1 and failing_checks(comm, every) == {
        c[len("pass_") :] for c in comm.columns if c.startswith("pass_") and comm[c].notna().iloc[every]
    }
    page, events = open_map(browser, path)
    drawn = fills(page)
    name = comm["name"].tolist()
    code = comm["code"].tolist()
    colour_one, colour_every = drawn[f"{name[one]} ({code[one]})"], drawn[f"{name[every]} ({code[every]})"]
    assert colour_one != colour_every
    assert colour_one == expected_colour(comm, one) and colour_every == expected_colour(comm, every)
    # a network of the user's own (arrays, not OSM): no OpenStreetMap attribution is claimed
    assert "OpenStreetMap" not in page.locator(".leaflet-control-attribution").inner_text()
    assert page.locator(".leaflet-scContext-pane path").count() > 0
    assert events["errors"] == [] and all(u.startswith(("file:", "data:")) for u in events["requests"])
    page.close()


def test_the_legend_follows_the_layer_and_collapses(browser, grid):
    path, _ = grid
    page, events = open_map(browser, path)
    legend = page.locator(".sc-legend")
    assert "Share of checks failed" in legend.inner_text()
    page.locator(".leaflet-control-layers-base label", has_text="Kindergarten").click()
    page.wait_for_timeout(200)
    text = legend.inner_text()
    assert "Kindergarten" in text and "Coverage" in text and "Share of checks failed" not in text
    page.locator(".leaflet-control-layers-base label", has_text="总览").click()
    page.wait_for_timeout(200)
    assert "Share of checks failed" in legend.inner_text() and "Kindergarten" not in legend.inner_text()
    tall = legend.bounding_box()["height"]
    page.locator(".sc-ltoggle").click()
    assert not page.locator(".sc-lb").is_visible()
    assert legend.bounding_box()["height"] < tall / 3
    page.locator(".sc-ltoggle").click()
    assert page.locator(".sc-lb").is_visible()
    assert events["errors"] == []
    page.close()


def inside(box, w, h):
    return box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= w and box["y"] + box["height"] <= h


def overlap(a, b):
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_at_1024_by_700_the_legend_and_the_study_area_are_both_visible(browser, demo):
    path, a = demo
    SHOTS.mkdir(parents=True, exist_ok=True)
    for w, h in ((1024, 700), (1600, 1000)):
        page, events = open_map(browser, path, w, h)
        legend = page.locator(".sc-legend").bounding_box()
        top = page.locator(".sc-top").bounding_box()
        x0, y0, x1, y1 = a.communities.total_bounds
        ax, ay = to_screen(page, x0, y0, a.communities.crs)
        bx, by = to_screen(page, x1, y1, a.communities.crs)
        area = {"x": min(ax, bx), "y": min(ay, by), "width": abs(bx - ax), "height": abs(by - ay)}
        assert inside(legend, w, h) and inside(area, w, h), (legend, area)
        assert not overlap(legend, area) and not overlap(top, area), (legend, top, area)
        assert area["width"] > w / 4  # the study area fills the room left, not a dot
        page.screenshot(path=str(SHOTS / f"overview_{w}x{h}.png"))
        if w == 1024:  # a community's popup and the scorecard, as a planner opens them
            page.locator(".sc-btn").click()
            card = page.locator(".sc-card")
            assert card.is_visible() and inside(card.bounding_box(), w, h)
            page.screenshot(path=str(SHOTS / "scorecard_1024x700.png"))
        assert events["errors"] == []
        page.close()


def test_the_scorecard_states_units_ranges_and_unconfirmed_targets(browser, demo):
    path, a = demo
    page, _ = open_map(browser, path, 1024, 700)
    page.locator(".sc-btn").click()
    card = page.locator(".sc-card")
    sc_rows = a.scorecard
    rows = card.locator("tr[data-key]")
    assert rows.count() == len(sc_rows)
    for (_, r), row in zip(sc_rows.iterrows(), rows.all()):
        assert row.get_attribute("data-key") == r["target_key"]
        assert row.locator(".sc-unc").count() == (0 if r["confirmed"] else 1)
        unit = str(r["unit"]).replace("m2", "m²")
        if not pd.isna(r["value"]):
            assert unit in row.inner_text()
    # a range stays a range: the plan's community size, 1,500–4,000 households
    size = card.locator("tr[data-key='ind_community_households']").inner_text()
    assert "1,500–4,000 households" in size
    page.close()


def test_a_floor_area_failure_shows_its_shortfall_in_square_metres(browser, tmp_path):
    """One community service station of 100 m² for 3,000 households: the popup gives the shortfall in m²."""
    xs = np.arange(4) * 300.0
    xy = np.array([[x, y] for y in xs for x in xs])
    idx = np.arange(16).reshape(4, 4)
    u = np.r_[idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    v = np.r_[idx[:, 1:].ravel(), idx[1:, :].ravel()]
    x0, y0 = 404000.0, 3396000.0
    net = network_from_arrays(xy + [x0, y0], u, v, "EPSG:4544")
    comm = gpd.GeoDataFrame(
        {"code": ["A"], "name": ["甲社区"], "households": [3000.0]},
        geometry=[shapely.box(x0, y0, x0 + 900, y0 + 900)],
        crs="EPSG:4544",
    )
    fac = gpd.GeoDataFrame(
        {"name": ["S1"], "category": ["社区服务站"], "floor_area_m2": [100.0], "build_type": ["新建"]},
        geometry=shapely.points([[x0 + 300, y0 + 300]]),
        crs="EPSG:4544",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = sc.assess(comm, fac, net, id_column="code", name_column="name", sample_spacing=30)
    out = a.communities
    assert "floor_area" in failing_checks(out, 0)
    shortfall = float(out["fa_shortfall_m2"].iloc[0])
    assert shortfall > 0
    path = tmp_path / "gap_map.html"
    a.map().save(str(path))
    page, events = open_map(browser, path, 1024, 700)
    pt = comm.geometry.iloc[0].centroid
    page.mouse.click(*to_screen(page, pt.x + 10, pt.y + 10, comm.crs))
    page.wait_for_selector(".leaflet-popup-content .sc-fails")
    item = page.locator(".leaflet-popup-content li[data-check='floor_area']")
    assert "缺口 Shortfall" in item.inner_text()
    assert item.locator(".sc-val").inner_text() == f"{shortfall:,.0f} m²"
    shown = page.locator(".leaflet-popup-content li[data-check]").evaluate_all(
        "els => els.map(e => e.getAttribute('data-check'))"
    )
    assert sorted(shown) == sorted(failing_checks(out, 0))
    assert events["errors"] == []
    page.close()
