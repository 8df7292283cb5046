"""The interactive gap map (Folium / Leaflet).

One HTML file a planner can open, click and mail to a colleague:

* an overview layer: communities coloured by the share of their assessed checks
  they fail; a click lists the checks a community fails, with their numbers;
* one switchable layer per check: communities coloured by the share of their
  people within reach, the gap polygons, and that category's facilities;
* street context drawn from the walking network the assessment holds (and its
  green spaces), so the map needs no basemap: by default it requests nothing
  from any server (Leaflet is embedded, no tiles);
* a legend for the layer on view (it can be collapsed), a scorecard panel, a
  bilingual title, and on the approximate demo data a banner saying why so much
  fails.

Every piece of text that comes from the data (names, categories, ids) is
HTML-escaped before it reaches the page, so a name such as
``<img src=x onerror=alert(1)>`` shows as text and runs nothing. Our own page
elements are written into the page as they are, never handed to Jinja as a
template (folium's default does that with every element's output, so a name such
as ``{{ 7*7 }}`` would be *evaluated* while the map is saved); the braces of
data text are written as HTML entities besides, for the few elements (layer
names) that go through folium's own templates. With
``offline=True`` (the default) Leaflet's script and stylesheet are embedded in the
page (from the ``xstatic-leaflet`` package), so the map opens on an intranet with
no access to a CDN.

The same map gives the same file, byte for byte: every page element is named
from the page's content and its place in it (:func:`_name_elements`), not with
branca's random ids.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from ..schema import FLAG, flag_column, green_rule_key, parse_column
from .labels import (
    FAIL_TEXT,
    NO_DATA_TEXT,
    OSM_DATA_ATTRIBUTION,
    PASS_TEXT,
    UNCONFIRMED_TEXT,
    check_labels,
    weight_names,
)
from .style import (
    COVERAGE_BINS,
    FAIL_COLOUR,
    FAILED_SHARE_BINS,
    GAP_COLOUR,
    GREEN_COLOUR,
    GREEN_OUTLINE,
    NO_DATA,
    PALETTE,
    PASS_COLOUR,
    STREET_COLOUR,
    UNCONFIRMED_COLOUR,
)

if TYPE_CHECKING:
    import folium

    from .result import AssessmentResult as Assessment  # the protocol the writers read, not the record

__all__ = ["gap_map", "BASEMAPS", "embed_assets", "tianditu_key"]

TILES = {
    "openstreetmap": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "&copy; <a href='https://www.openstreetmap.org/copyright'>OpenStreetMap</a> contributors",
    ),
}
#: Tianditu (天地图, the national basemap; CGCS2000, which web maps may take as WGS84 — no
#: offset, unlike Amap/Baidu tiles): WMTS in Web Mercator, a base layer and its labels.
#: ``{key}`` is the user's browser key (https://console.tianditu.gov.cn).
TIANDITU = {
    "tianditu": ("vec", "cva", "天地图 矢量"),
    "tianditu-imagery": ("img", "cia", "天地图 影像"),
}
_TIANDITU_URL = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}"
    "&TILECOL={{x}}&tk={key}"
)
_TIANDITU_ATTR = "&copy; <a href='https://www.tianditu.gov.cn/'>天地图 Tianditu</a>"
BASEMAPS = ("openstreetmap", *TIANDITU)


def tianditu_key(key: str | None = None) -> str:
    """The Tianditu key: the one given, else ``$TIANDITU_KEY``; checked, never guessed."""
    import os

    from ..errors import InputDataError

    key = (key or os.environ.get("TIANDITU_KEY") or "").strip()
    if not key:
        raise InputDataError(
            "the Tianditu basemap needs your Tianditu key 天地图密钥",
            fix="apply for a browser key at https://console.tianditu.gov.cn and pass "
            "tianditu_key= (--tianditu-key) or set TIANDITU_KEY; or use another basemap",
        )
    if not re.fullmatch(r"[0-9A-Za-z]{16,64}", key):
        raise InputDataError(
            "the Tianditu key is not a key (16–64 letters and digits expected)",
            fix="copy the key from https://console.tianditu.gov.cn",
        )
    return key


def _add_basemap(
    m: folium.Map, tiles: str | None, tile_url: str | None, tile_attribution: str | None, key: str | None
) -> None:
    import folium

    from ..errors import InputDataError

    if tile_url:
        folium.TileLayer(
            tiles=tile_url, attr=tile_attribution or "local tiles", name="底图 Basemap", control=False
        ).add_to(m)
        return
    if not tiles:
        return
    name = tiles.lower().replace(" ", "").replace("_", "-")
    if name in TILES:
        url, attr = TILES[name]
        folium.TileLayer(tiles=url, attr=attr, name="底图 Basemap", control=False).add_to(m)
    elif name in TIANDITU:
        key = tianditu_key(key)
        base, labels, title = TIANDITU[name]
        for layer in (base, labels):
            folium.TileLayer(
                tiles=_TIANDITU_URL.format(layer=layer, key=key),
                attr=_TIANDITU_ATTR,
                name=f"底图 Basemap {title}",
                subdomains="01234567",
                max_zoom=18,
                control=False,
                overlay=layer == labels,
            ).add_to(m)
    else:
        raise InputDataError(
            f"unknown basemap {tiles!r}", fix="use one of " + ", ".join(BASEMAPS) + ", none, or a tile URL of your own"
        )


def _e(value: Any) -> str:
    """Text for HTML: escaped (braces too, so no template engine reads it), ``—`` for missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "—"
    return html.escape(str(value), quote=True).replace("{", "&#123;").replace("}", "&#125;")


class _Raw(Element):
    """Text written into the page exactly as given (not parsed as a Jinja template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


class _Script(MacroElement):
    """A page script rendered once from its macro and then written as it is.

    branca's :class:`MacroElement` re-parses a macro's *output* as a Jinja
    template; with data in that output, data would be template code (and slow
    to parse: megabytes of JSON). This renders the ``script`` macro and adds the
    result as :class:`_Raw` text.
    """

    # branca's MacroElement.render returns nothing, though it overrides Element.render, typed -> str
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        script = self._template.module.__dict__["script"]
        root = self.get_root()
        assert isinstance(root, Figure)  # as branca's MacroElement.render asserts
        root.script.add_child(_Raw(str(script(self, kwargs))), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


def _pct(v: Any) -> str:
    return "—" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else f"{float(v):.1f}%"


def _num(v: Any) -> str:
    return "—" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else f"{float(v):,.0f}"


def _coverage_colour(share: float) -> str:
    if share is None or np.isnan(share):
        return NO_DATA
    for upper, colour, _ in COVERAGE_BINS:
        if share <= upper:
            return colour
    return COVERAGE_BINS[-1][1]


def _failed_colour(n: float, assessed: float) -> str:
    """The overview's colour: by the share of the assessed checks failed (grey: none assessed)."""
    if not assessed:
        return NO_DATA
    share = 100.0 * n / assessed
    for upper, colour, _ in FAILED_SHARE_BINS:
        if share <= upper:
            return colour
    return FAILED_SHARE_BINS[-1][1]


def _ha(v: Any) -> str:
    """An area in m² as hectares: ``1.25 ha`` (two decimals; ``<0.01 ha`` for a sliver)."""
    if _missing(v):
        return "—"
    ha = float(v) / 1e4
    return "<0.01 ha" if 0 < ha < 0.005 else f"{ha:,.2f} ha"


def _unit(unit: Any) -> str:
    """A profile's unit as displayed: ``m2/resident`` → ``m²/resident``."""
    return re.sub(r"(?<![\w.])m([23])(?!\w)", lambda g: "m²" if g.group(1) == "2" else "m³", str(unit or ""))


def _badge(confirmed: Any) -> str:
    """The "unconfirmed" badge of a threshold the profile does not confirm ('' when confirmed)."""
    return "" if bool(confirmed) else f"<span class='sc-unc'>{UNCONFIRMED_TEXT}</span>"


def _target_text(check: Any) -> str:
    """A check's target as the plan states it: ``≥ 100%``, ``1,500–4,000 households``, ``≥ 16 m²/resident``."""
    s = check.summary
    unit = _unit(s.get("target_unit") or check.score_unit)
    lo = s.get("target", check.target)
    if check.cov_col:
        lo = check.target
        unit = "%"
    if _missing(lo) or lo is None:
        return "—"
    space = "" if unit == "%" else " "
    if s.get("comparison") == "between" and not _missing(s.get("target_max")):
        return f"{float(lo):,.0f}–{float(s['target_max']):,.0f}{space}{unit}"
    sign = "≤" if s.get("comparison") == "<=" else "≥"
    return f"{sign} {float(lo):,.4g}{space}{unit}"


def _to_wgs84(geoms: np.ndarray, crs: Any, tolerance: float) -> np.ndarray:
    """Simplify (metres) for display, then reproject to EPSG:4326."""
    from ..coords import reproject_geometries

    g = np.asarray(geoms, dtype=object)
    ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
    out = g.copy()
    if tolerance > 0 and ok.any():
        out[ok] = shapely.simplify(g[ok], tolerance, preserve_topology=True)
    return reproject_geometries(out, crs, 4326)


def _feature_collection(geoms: np.ndarray, props: list[dict[str, Any]], digits: int = 6) -> str:
    """A GeoJSON FeatureCollection as JSON text (built in bulk; empty geometries skipped)."""
    geoms = np.asarray(geoms, dtype=object)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if len(geoms) else np.zeros(0, bool)
    # round coordinates for a smaller page (display only; no topology repair needed)
    rounded = shapely.transform(geoms[keep], lambda c: np.round(c, digits))
    texts = shapely.to_geojson(rounded) if len(rounded) else []
    kept = [p for p, k in zip(props, keep) if k]
    feats = ",".join(
        f'{{"type":"Feature","geometry":{g},"properties":{json.dumps(p, ensure_ascii=False, separators=(",", ":"))}}}'
        for g, p in zip(texts, kept)
    )
    return f'{{"type":"FeatureCollection","features":[{feats}]}}'


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))


def gap_map(
    assessment: Assessment,
    *,
    tiles: str | None = None,
    tile_url: str | None = None,
    tile_attribution: str | None = None,
    tianditu_key: str | None = None,
    offline: bool = True,
    simplify_m: float = 3.0,
    streets: bool = True,
    street_simplify_m: float = 4.0,
    title: str | None = None,
    max_facilities_per_layer: int = 20_000,
) -> folium.Map:
    """Build the interactive gap map of an assessment.

    Every geometry is written into the page once; each layer styles and filters
    it in the browser, so the file stays small and fast with many checks.

    Parameters
    ----------
    assessment
        An :class:`~servicecircle.assessment.Assessment`.
    tiles
        The basemap tiles: ``None`` (default: no tiles, nothing is requested
        from any server; the streets come from the walking network),
        ``"openstreetmap"``, ``"tianditu"`` (天地图 vector map with labels) or
        ``"tianditu-imagery"`` (天地图 imagery with labels). Tianditu needs your
        key, which is then written into the page (it is a browser key: restrict
        it to your domain in the Tianditu console).
    tile_url, tile_attribution
        A tile server of your own (e.g. an intranet server:
        ``http://tiles.local/{z}/{x}/{y}.png``); overrides ``tiles``. Its
        tiles must be in WGS84/CGCS2000 Web Mercator (GCJ-02 tiles such as
        Amap's would sit 300–600 m off the data).
    tianditu_key
        Your Tianditu key (default ``$TIANDITU_KEY``).
    offline
        Embed Leaflet in the page (default; no CDN needed). ``False`` loads it
        from a CDN (a smaller file that needs the internet). With no tiles, or a
        local ``tile_url``, the map is fully offline.
    simplify_m
        Display simplification of polygons, metres (the GeoPackage keeps full
        detail).
    streets
        Draw the walking network as light grey street context (default), with
        ``© OpenStreetMap contributors, ODbL``.
    street_simplify_m
        Display simplification of the streets, metres (coordinates are rounded
        to about a metre), which keeps the file small.
    title
        Title shown on the map (default: the profile's name).
    max_facilities_per_layer
        Facilities drawn per layer; beyond it a sample is drawn and the legend
        says so (the GeoPackage keeps every one).

    Returns
    -------
    folium.Map
    """
    import folium

    a = assessment
    comm = a.communities
    crs = comm.crs
    id_col = a.id_column if a.id_column in comm.columns else None
    comm_geo = _to_wgs84(comm.geometry.values, crs, simplify_m)
    valid = [g for g in comm_geo if g is not None and not shapely.is_empty(g)]
    if valid:
        minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(valid, dtype=object))
    else:
        minx, miny, maxx, maxy = 73.5, 18.0, 135.0, 53.5
    reach = [c for c in a.checks if c.cov_col]
    flagged = [c for c in a.checks if not c.cov_col and c.pass_col and c.pass_col in comm.columns]
    fac = a.facilities
    gaps = a.gaps
    # SVG keeps every shape a clickable DOM element; canvas stays fast with very many
    many = len(comm) + len(fac) + len(gaps) > 20_000
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=13,
        tiles=None,
        control_scale=False,
        prefer_canvas=many,
        zoom_snap=0.25,  # the study area fitted to the window, not to the nearest whole zoom level
    )
    m.default_js = [js for js in m.default_js if js[0] == "leaflet"]
    m.default_css = [css for css in m.default_css if css[0] == "leaflet_css"]
    _add_basemap(m, tiles, tile_url, tile_attribution, tianditu_key)

    weight_kind = comm["weight_kind"].iloc[0] if "weight_kind" in comm.columns and len(comm) else "weight"
    weight_zh = {"households": "户数", "residents": "人口"}.get(weight_kind, "权重")

    # ---- one property table for the communities: every layer reads its own columns
    # (built column by column: a city can have thousands of communities and dozens of checks)
    def col(name: str) -> list[Any]:
        return comm[name].tolist() if name in comm.columns else [None] * len(comm)

    def verdicts(values: list[Any]) -> list[str]:
        return ["—" if _missing(v) else (f"{PASS_TEXT} Pass" if v else f"{FAIL_TEXT} Fail") for v in values]

    ids = col(id_col) if id_col else list(range(1, len(comm) + 1))
    names = col(a.name_column) if a.name_column else [None] * len(comm)
    assessed = [0 if _missing(v) else v for v in col("checks_assessed")]
    failed = [0 if _missing(v) else v for v in col("checks_failed")]
    shown_names = [_e(f"{nm} ({i})" if not _missing(nm) else i) for nm, i in zip(names, ids)]
    name_of = {str(i): nm for i, nm in zip(ids, shown_names)}
    if "area_m2" in comm.columns:
        areas = col("area_m2")
    elif crs is not None and getattr(crs, "is_projected", False):
        areas = comm.geometry.area.tolist()
    else:
        areas = [None] * len(comm)
    # the checks a community can fail, once for the page; each community lists the ones it fails
    listed = [c for c in a.checks if c.pass_col and c.pass_col in comm.columns]
    check_table = []
    for chk in listed:
        zh, en = check_labels(chk)
        wzh, wen = weight_names(a, chk.key)
        check_table.append(
            {
                "k": _e(chk.key),
                "n": _e(f"{zh} {en}"),
                "b": _badge(chk.confirmed),
                "t": _e(_target_text(chk)),
                "w": _e(f"{wzh} {wen}"),
                "v": "缺口 Shortfall" if chk.kind == "floor_area" else "数值 Value",
            }
        )
    fails: list[list[list[str | int]]] = [[] for _ in range(len(comm))]
    for j, chk in enumerate(listed):
        assert chk.pass_col is not None
        for i, v in enumerate(col(chk.pass_col)):
            if _missing(v) or bool(v):
                continue
            if chk.cov_col and chk.unc_col:
                fails[i].append([j, _pct(comm[chk.cov_col].iloc[i]), _num(comm[chk.unc_col].iloc[i])])
            else:
                fails[i].append([j, _score_text(chk, comm, i)])
    columns: dict[str, list[Any]] = {
        "name": shown_names,
        "weight": [_num(v) for v in col("weight_total")],
        "o_fill": [_failed_colour(f, n) for f, n in zip(failed, assessed)],
        "o_failed": [_e(int(f)) if n else "—" for f, n in zip(failed, assessed)],
        "o_assessed": [_e(int(n)) for n in assessed],
        "o_share": [f"{100.0 * f / n:.0f}%" if n else "—" for f, n in zip(failed, assessed)],
        "o_worst": [_pct(v) for v in col("worst_cov")],
        "o_area": [_ha(v) for v in areas],
        "fl": fails,
    }
    for j, check in enumerate(reach):
        # a reach check has all three (checks.lifecircle.reach_outcome)
        assert check.cov_col is not None and check.pass_col is not None and check.unc_col is not None
        shares = col(check.cov_col)
        columns[f"f{j}"] = [_coverage_colour(np.nan if _missing(v) else float(v)) for v in shares]
        columns[f"c{j}"] = [_pct(v) for v in shares]
        columns[f"r{j}"] = verdicts(col(check.pass_col))
        columns[f"u{j}"] = [_num(v) for v in col(check.unc_col)]
    for j, check in enumerate(flagged):
        assert check.pass_col is not None  # flagged: those with a pass column
        passed = col(check.pass_col)
        scores = col(check.score_col) if check.score_col else [None] * len(comm)
        columns[f"pf{j}"] = [NO_DATA if _missing(v) else (PASS_COLOUR if v else FAIL_COLOUR) for v in passed]
        columns[f"pv{j}"] = [
            f"{NO_DATA_TEXT} no data"  # e.g. a shortfall where the floor area is not known: not 0
            if _missing(v)
            else (_e(f"{v:,.1f} {_unit(check.score_unit)}") if isinstance(v, (int, float, np.number)) else _e(v))
            for v in scores
        ]
        columns[f"pr{j}"] = verdicts(passed)
    keys = list(columns)
    cprops = [dict(zip(keys, row)) for row in zip(*(columns[k] for k in keys))] if len(comm) else []
    data = {"communities": _feature_collection(comm_geo, cprops)}
    levels = _level_data(a, reach, flagged, simplify_m)  # the unit levels (街道/乡镇, 区县, 市), if any
    data.update({f"lv_{lv}": text for lv, text in levels.items()})

    # ---- gaps, facilities, green spaces: one collection each, filtered per layer
    if len(gaps):
        # the grid's stair steps carry no information: smooth them for display
        gap_geo = _to_wgs84(gaps.geometry.values, gaps.crs, max(simplify_m, a.timings.get("gap_grid_m", 0) / 2))
        # the check's name and radius are the layer's (consts), not repeated per polygon; coordinates
        # to 5 decimals (about a metre) are plenty for outlines traced on a grid of 20 m or more
        data["gaps"] = _feature_collection(
            gap_geo,
            [
                {
                    "check": str(chk),
                    "comm": name_of.get(str(cid), _e(cid)),
                    "area": _ha(area),
                    "unc": _num(unc),
                }
                for chk, cid, area, unc in zip(
                    gaps["check"], gaps["community_id"], gaps["gap_area_m2"], gaps["uncovered_weight"]
                )
            ],
            digits=5,
        )
    name_col = next((c for c in ("name", "名称", "NAME", "Name") if c in fac.columns), None)
    colours: dict[str, str] = {}
    sampled_note = False
    shown: list[int] = []
    for k, check in enumerate(reach):
        colours[check.key] = PALETTE[k % len(PALETTE)]
        if check.category:
            members = np.flatnonzero((fac["category_key"] == check.category).to_numpy())
            if len(members) > max_facilities_per_layer:
                members = np.sort(np.random.default_rng(0).choice(members, max_facilities_per_layer, replace=False))
                sampled_note = True
            shown.extend(members.tolist())
    in_checks = {c.category for c in reach if c.category}
    others = (
        list(
            np.flatnonzero((fac["category_key"].notna() & ~fac["category_key"].isin(in_checks)).to_numpy())[
                :max_facilities_per_layer
            ]
        )
        if len(fac)
        else []
    )
    draw = sorted(set(shown) | set(others))
    if draw:
        fac_geo = _to_wgs84(fac.geometry.values[draw], fac.crs, 0)
        check_of = {c.category: c for c in reach if c.category}
        sel = fac.iloc[draw]
        fprops = []
        for key, name, snap, ok in zip(
            sel["category_key"], sel[name_col] if name_col else [None] * len(sel), sel["snap_m"], sel["snapped"]
        ):
            c = check_of.get(key)
            fprops.append(
                {
                    "cat_key": str(key),
                    "name": _e(name) if name_col else "—",
                    "cat": _e(f"{c.name_zh} {c.name_en}" if c else key),
                    "snap": _num(snap) + " m",
                    "placed": "是 Yes" if bool(ok) else "否：离路网过远 No: too far from the network",
                    "fill": colours.get(c.key, "#555555") if c else "#555555",
                    "op": 0.95 if bool(ok) else 0.25,
                }
            )
        data["facilities"] = _feature_collection(fac_geo, fprops)
    spaces = a.layers.get("greenspace")
    if spaces is not None and len(spaces):
        flags = [c for c in spaces.columns if (spec := parse_column(str(c))) is not None and spec.family == FLAG]
        data["green"] = _feature_collection(
            _to_wgs84(spaces.geometry.values, spaces.crs, simplify_m),
            [
                {
                    "name": _e(r["names"] or "—"),
                    "area": _ha(r["area_m2"]),
                    "how": _e(r["reach_method"]),
                    "n": _e(int(r["n_access"])),
                    **{f: bool(r[f]) for f in flags},
                }
                for _, r in spaces.iterrows()
            ],
        )
    street_source = str(getattr(getattr(a, "network", None), "source", "") or "")
    street_osm = street_source not in ("", "arrays")
    if streets:
        street_data = _streets(a, street_simplify_m)
        if street_data is not None:
            data["streets"] = street_data
    store = _SharedData(data)
    store.add_to(m)
    _Pane("scContext", 450).add_to(m)
    for lv in levels:  # each unit level in a pane of its own: the level switch shows one (or none)
        _Pane(f"scLv_{lv}", 420).add_to(m)
    if "streets" in data or "green" in data:
        context = folium.FeatureGroup(name=_e("街道与绿地 Streets and green space"), show=True)
        if "green" in data:
            _JsonLayer(
                store,
                "green",
                style={"fillColor": GREEN_COLOUR, "color": GREEN_OUTLINE, "weight": 0.6, "fillOpacity": 0.3},
                fields=[],
                aliases=[],
                pane="scContext",
                interactive=False,
            ).add_to(context)
        if "streets" in data:
            _JsonLayer(
                store,
                "streets",
                style={"color": STREET_COLOUR, "weight": 0.8, "opacity": 0.75, "fill": False},
                fields=[],
                aliases=[],
                pane="scContext",
                interactive=False,
                attribution=_e(OSM_DATA_ATTRIBUTION) if street_osm else None,
            ).add_to(context)
        context.add_to(m)

    outline = {"color": "#555555", "weight": 0.6, "fillOpacity": 0.55}
    comm_fields = ["name", "weight", "o_area", "o_assessed", "o_failed", "o_share", "o_worst"]
    comm_aliases = [
        "社区 Community",
        f"{weight_zh} {_e(weight_kind.capitalize())}",
        "面积 Area",
        "评估项 Checks assessed",
        "未达标 Failed",
        "未达标占比 Share failed",
        "最低覆盖率 Lowest coverage",
    ]
    # the overview and the per-check layers are mutually exclusive (radio buttons)
    overview = folium.FeatureGroup(
        name=_e("总览：未达标项占比 Overview: share of checks failed"), overlay=False, show=True
    )
    _JsonLayer(
        store,
        "communities",
        fields=comm_fields,
        aliases=comm_aliases,
        fill_key="o_fill",
        style={"color": "#444444", "weight": 0.8, "fillOpacity": 0.6},
        note="点击查看未达标项 Click for the checks it fails",
        fails=check_table,
    ).add_to(overview)
    _level_layers(store, overview, levels, "o", "未达标社区次 Community verdicts failed")
    sections: list[tuple[Any, str]] = [(overview, _overview_legend())]
    overview.add_to(m)
    fac_fields, fac_aliases = (
        ["name", "cat", "snap", "placed"],
        ["名称 Name", "类别 Category", "接入距离 Snap distance", "接入路网 On the network"],
    )
    for j, check in enumerate(reach):
        label = (
            f"{check.name_zh} · {check.name_en}"
            if check.kind == "reach" or check.radius_m is None  # a check in minutes says them in its name
            else f"{check.name_zh} ≤{check.radius_m:g}米 · {check.name_en} ≤ {check.radius_m:g} m"
        )
        fg = folium.FeatureGroup(name=_e(label), overlay=False, show=False)
        _JsonLayer(
            store,
            "communities",
            fill_key=f"f{j}",
            style=outline,
            fields=["name", f"c{j}", f"r{j}", f"u{j}"],
            aliases=[
                "社区 Community",
                "覆盖率 Coverage",
                "结论 Result",
                f"未覆盖{weight_zh} Uncovered {_e(weight_kind)}",
            ],
            note=f"目标 Target: ≥ {check.target:g}%" + ("" if check.confirmed else f" ({UNCONFIRMED_TEXT})"),
        ).add_to(fg)
        _level_layers(store, fg, levels, f"{j}", "覆盖率 Coverage")
        rule = green_rule_key(check.key)  # a green rule's reach check shows its green spaces
        flag = flag_column(rule) if rule is not None else None
        with_green = "green" in data and spaces is not None and flag is not None and flag in spaces.columns
        sections.append((fg, _check_legend(a, check, colours.get(check.key), with_green, "gaps" in data)))
        if with_green:
            assert flag is not None  # with_green says so
            _JsonLayer(
                store,
                "green",
                filter=(flag, True),
                style={"fillColor": GREEN_COLOUR, "color": GREEN_OUTLINE, "weight": 1, "fillOpacity": 0.6},
                fields=["name", "area", "how", "n"],
                aliases=["绿地 Green space", "面积 Area", "到达方式 Reached at", "出入口/边界点 Access points"],
            ).add_to(fg)
        if "gaps" in data:
            _JsonLayer(
                store,
                "gaps",
                filter=("check", check.key),
                style={"fillColor": GAP_COLOUR, "color": GAP_COLOUR, "weight": 0.8, "fillOpacity": 0.55},
                consts={
                    "cat": _e(f"{check.name_zh} {check.name_en}"),
                    "radius": "—" if check.radius_m is None else f"{check.radius_m:g} m",
                },
                fields=["comm", "cat", "radius", "area", "unc"],
                aliases=[
                    "社区 Community",
                    "缺口 Gap in",
                    "服务半径 Radius",
                    "缺口面积 Gap area",
                    f"未覆盖{weight_zh} Uncovered",
                ],
            ).add_to(fg)
        if check.category and "facilities" in data:
            _JsonLayer(
                store,
                "facilities",
                filter=("cat_key", check.category),
                point=True,
                fill_key="fill",
                style={"color": "#ffffff", "weight": 1.5, "radius": 5},
                opacity_key="op",
                fields=fac_fields,
                aliases=fac_aliases,
            ).add_to(fg)
        fg.add_to(m)
    for j, check in enumerate(flagged):
        fg = folium.FeatureGroup(name=_e(f"{check.name_zh} · {check.name_en}"), overlay=False, show=False)
        target = _target_text(check)
        _JsonLayer(
            store,
            "communities",
            fill_key=f"pf{j}",
            style=outline,
            fields=["name", f"pv{j}", f"pr{j}"],
            aliases=["社区 Community", "缺口 Shortfall" if check.kind == "floor_area" else "数值 Value", "结论 Result"],
            note=f"目标 Target: {target}" + ("" if check.confirmed else f" ({UNCONFIRMED_TEXT})"),
        ).add_to(fg)
        _level_layers(store, fg, levels, f"p{j}", "未达标社区占比 Share failing")
        sections.append((fg, _flag_legend(check)))
        fg.add_to(m)
    if others and "facilities" in data:
        fg = folium.FeatureGroup(name=_e("其他设施（未评估） Other facilities (not checked)"), show=False)
        _JsonLayer(
            store,
            "facilities",
            filter_out=("cat_key", sorted(in_checks)),
            point=True,
            style={"color": "#555555", "weight": 1, "radius": 3, "fillColor": "#555555", "fillOpacity": 0.6},
            fields=fac_fields,
            aliases=fac_aliases,
        ).add_to(fg)
        fg.add_to(m)

    # ---- a scenario's proposed sites and the gaps they close
    closed = a.layers.get("gaps_closed")
    if closed is not None and len(closed):
        data_c = _feature_collection(
            _to_wgs84(closed.geometry.values, closed.crs, simplify_m),
            [
                {
                    "comm": _e(r["community_id"]),
                    "area": _ha(r["closed_area_m2"]),
                    "check": _e(r["check"]),
                }
                for _, r in closed.iterrows()
            ],
        )
        store_c = _SharedData({"closed": data_c})
        store_c.add_to(m)
        fg = folium.FeatureGroup(name=_e("缺口已补 Gaps closed"), show=True)
        _JsonLayer(
            store_c,
            "closed",
            style={"fillColor": "#1a9850", "color": "#1a9850", "weight": 1, "fillOpacity": 0.5},
            fields=["check", "comm", "area"],
            aliases=["检查项 Check", "社区 Community", "已补面积 Area closed"],
        ).add_to(fg)
        fg.add_to(m)
    props_layer = a.layers.get("proposals")
    if props_layer is not None and len(props_layer):
        geo = _to_wgs84(props_layer.geometry.values, props_layer.crs, 0)
        pdata = _feature_collection(
            geo,
            [
                {
                    "rank": _e(int(r["rank"])),
                    "cat": _e(r["category"]),
                    "gain": _num(r["covered_weight"]),
                    "how": _e(f"{r['objective']} · {r['method']}"),
                }
                for _, r in props_layer.iterrows()
            ],
        )
        store_p = _SharedData({"proposals": pdata})
        store_p.add_to(m)
        fg = folium.FeatureGroup(name=_e("建议选址 Proposed sites"), show=True)
        _JsonLayer(
            store_p,
            "proposals",
            point=True,
            style={"color": "#000000", "weight": 2, "radius": 8, "fillColor": "#ffd700", "fillOpacity": 1},
            fields=["rank", "cat", "gain", "how"],
            aliases=["序号 Rank", "类别 Category", f"新覆盖{weight_zh} Newly covered", "方法 Method"],
        ).add_to(fg)
        fg.add_to(m)

    n_areas = _service_area_layers(m, a, simplify_m) + _catchment_layers(m, a, simplify_m)

    n_layers = 2 + len(reach) + len(flagged) + n_areas
    folium.LayerControl(collapsed=n_layers > 10).add_to(m)
    _LegendSwitch([g for g, _ in sections]).add_to(m)
    if levels:
        _LevelSwitch(list(levels)).add_to(m)
    # after the layer control and the legend exist: the study area is fitted beside them
    _FitBounds([[miny, minx], [maxy, maxx]]).add_to(m)
    root = m.get_root()
    assert isinstance(root, Figure)  # a folium map's root is its figure
    context_legend = _context_legend("streets" in data, "green" in data, street_osm, street_source)
    if closed is not None and len(closed):  # a scenario's layers, shown over every check
        context_legend = _swatch("#1a9850", "缺口已补 Gaps closed", extra=";opacity:.6") + context_legend
    if props_layer is not None and len(props_layer):
        context_legend = _swatch("#ffd700", "建议选址 Proposed sites", dot=True) + context_legend
    root.html.add_child(
        _Raw(_legend_html(a, [h for _, h in sections], context_legend, title, sampled_note, bool(tiles or tile_url)))
    )
    if offline:
        embed_assets(m)
    _name_elements(m)
    return m


#: the unit levels the map can switch to, smallest first: key, Chinese and English names
MAP_LEVELS = (("township", "街道乡镇", "Townships"), ("county", "区县", "Counties"), ("city", "全市", "City"))


def _level_data(a: Assessment, reach: list[Any], flagged: list[Any], simplify_m: float) -> dict[str, str]:
    """Per unit level (its ``units_<level>`` layer), the polygons with the same colour keys as the communities'.

    Per reach check ``j`` (as in the community layers): ``f<j>`` (colour by the unit's coverage),
    ``c<j>``, ``k<j>`` (communities passing / failing / unknown), ``u<j>``; per pass/fail check
    ``p<j>``: ``pf<j>`` (colour by the share of its communities failing) and ``pk<j>``; the overview
    ``of`` (the share of all the unit's community verdicts failing) and ``ok``.
    """
    out: dict[str, str] = {}
    for lv, _, _ in MAP_LEVELS:
        units = a.layers.get(f"units_{lv}")
        if units is None or not len(units):
            continue

        def ints(name: str, units: Any = units) -> np.ndarray:
            return units[name].fillna(0).to_numpy(dtype=float) if name in units.columns else np.zeros(len(units))

        def counts(key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            return ints(f"npass_{key}"), ints(f"nfail_{key}"), ints(f"nunk_{key}")

        props: list[dict[str, Any]] = [
            {"name": _e(f"{n} ({c})"), "nc": _e(int(k))}
            for n, c, k in zip(units["unit_name"], units["unit_code"], units["n_communities"])
        ]
        tot_fail, tot_ver = np.zeros(len(units)), np.zeros(len(units))
        for j, check in enumerate(reach):
            ok, bad, unk = counts(check.key)
            tot_fail, tot_ver = tot_fail + bad, tot_ver + ok + bad
            cov = units[check.cov_col] if check.cov_col in units.columns else pd.Series(np.nan, index=units.index)
            unc = units[check.unc_col] if check.unc_col in units.columns else pd.Series(np.nan, index=units.index)
            for p, c, u, n1, n2, n3 in zip(props, cov, unc, ok, bad, unk):
                p[f"f{j}"] = _coverage_colour(np.nan if _missing(c) else float(c))
                p[f"c{j}"], p[f"u{j}"] = _pct(c), _num(u)
                p[f"k{j}"] = f"{n1:.0f} / {n2:.0f} / {n3:.0f}"
        for j, check in enumerate(flagged):
            ok, bad, unk = counts(check.key)
            tot_fail, tot_ver = tot_fail + bad, tot_ver + ok + bad
            for p, n1, n2, n3 in zip(props, ok, bad, unk):
                p[f"pf{j}"] = _failed_colour(n2, n1 + n2)
                p[f"pc{j}"] = f"{100.0 * n2 / (n1 + n2):.0f}%" if n1 + n2 else "—"
                p[f"pk{j}"] = f"{n1:.0f} / {n2:.0f} / {n3:.0f}"
        for p, f, v in zip(props, tot_fail, tot_ver):
            p["of"] = _failed_colour(f, v)
            p["oc"] = f"{100.0 * f / v:.0f}%" if v else "—"
            p["ok"] = f"{v - f:.0f} / {f:.0f}"
        out[lv] = _feature_collection(_to_wgs84(units.geometry.values, units.crs, simplify_m), props)
    return out


def _level_layers(store: _SharedData, group: Any, levels: dict[str, str], j: str, what: str) -> None:
    """The unit levels' layers of one map layer (``j``: a reach check's index, ``p<index>``, or ``o``)."""
    if j == "o":
        fill, value, counts = "of", "oc", "ok"
        count_label = "达标 / 未达标（社区×检查） Passed / failed (community × check)"
    else:
        fill, value, counts = (f"pf{j[1:]}", f"pc{j[1:]}", f"pk{j[1:]}") if j.startswith("p") else (
            f"f{j}", f"c{j}", f"k{j}")  # fmt: skip
        count_label = "社区 达标 / 未达标 / 未判定 Communities passed / failed / unknown"
    fields, aliases = ["name", "nc", value, counts], ["单元 Unit", "社区数 Communities", what, count_label]
    if not j.startswith(("o", "p")):
        fields, aliases = [*fields, f"u{j}"], [*aliases, "未覆盖 Uncovered"]
    for lv in levels:
        _JsonLayer(
            store,
            f"lv_{lv}",
            fill_key=fill,
            style={"color": "#222222", "weight": 1.6, "fillOpacity": 0.8},
            fields=fields,
            aliases=aliases,
            pane=f"scLv_{lv}",
        ).add_to(group)


class _LevelSwitch(_Script):
    """The level switch: 社区 / 街道乡镇 / 区县 / 全市 — which level's polygons the map layers show."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function(){var m = {{ this._parent.get_name() }}; var levels = {{ this.levels }};"
        "var box = L.control({position: 'topright'});"
        "box.onAdd = function(){ var d = L.DomUtil.create('div', 'sc-levels leaflet-bar');"
        " d.innerHTML = '<b>层级 Level</b>' + levels.map(function(l){ return '<button type=\"button\" data-lv=\"'"
        "  + l[0] + '\">' + l[1] + '</button>'; }).join('');"
        " L.DomEvent.disableClickPropagation(d); return d; };"
        "box.addTo(m);"
        "function set(lv){ levels.forEach(function(l){ var p = m.getPane('scLv_' + l[0]);"
        "  if (p) { p.style.display = l[0] === lv ? '' : 'none'; } });"
        " document.querySelectorAll('.sc-levels button').forEach(function(b){"
        "  b.classList.toggle('sc-on', b.getAttribute('data-lv') === lv); }); }"
        "document.querySelectorAll('.sc-levels button').forEach(function(b){"
        " b.addEventListener('click', function(){ set(b.getAttribute('data-lv')); }); });"
        "window.scSetLevel = set; set('community');})();"
        "{% endmacro %}"
    )

    def __init__(self, levels: list[str]) -> None:
        super().__init__()
        self._name = "ScLevelSwitch"
        names = {k: f"{zh} {en}" for k, zh, en in MAP_LEVELS}
        self.levels = _script_json([["community", "社区 Communities"], *[[lv, names[lv]] for lv in levels]])


#: Outline colours of the service-area views: the adult (metres) view, then each walking group's.
_VIEW_COLOURS = {"adult": "#2c7bb6", "elderly": "#d7191c", "parent_child": "#7b3294", "wheelchair": "#fdae61"}


def _service_area_layers(m: folium.Map, a: Assessment, simplify_m: float) -> int:
    """One hidden layer per service area ("elderly (80+), 5 minutes" beside "adult, 300 m"); how many."""
    import folium

    areas = a.layers.get("service_areas")
    if areas is not None and "facility_index" in areas.columns:
        areas = areas[areas["facility_index"] < 0]  # the categories' areas (each facility's is in the GeoPackage)
    if areas is None or not len(areas):
        return 0
    rows = list(areas.itertuples(index=False))
    data = _feature_collection(
        _to_wgs84(areas.geometry.values, areas.crs, simplify_m),
        [
            {
                "i": i,
                "check": _e(r.check),
                "view": _e(r.view),
                "area": _ha(r.area_m2),
                "allow": _num(r.access_allowance_m) + " m",
            }
            for i, r in enumerate(rows)
        ],
    )
    store = _SharedData({"service_areas": data})
    store.add_to(m)
    for i, r in enumerate(rows):
        colour = _VIEW_COLOURS.get(str(r.group), "#555555")
        fg = folium.FeatureGroup(name=_e(f"服务范围 Service area: {r.check} · {r.view}"), show=False)
        _JsonLayer(
            store,
            "service_areas",
            filter=("i", i),
            style={"fillColor": colour, "color": colour, "weight": 1.2, "fillOpacity": 0.18},
            fields=["check", "view", "area", "allow"],
            aliases=["检查项 Check", "视图 View", "面积 Area", "接入宽度 Access allowance"],
        ).add_to(fg)
        fg.add_to(m)
    return len(rows)


#: Fill colours of the catchments: neighbouring facilities' catchments never share one (when 8 suffice).
_CATCHMENT_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4")


def _neighbour_colours(geoms: np.ndarray, touch_m: float) -> np.ndarray:
    """A colour number per polygon, different from every neighbour's (within ``touch_m``) while colours last.

    Greedy, most-connected polygon first (a map of catchments is planar: 8 colours almost always do).
    """
    n = len(geoms)
    out = np.zeros(n, dtype=np.int64)
    if n < 2:
        return out
    usable = geoms.copy()
    usable[shapely.is_missing(geoms) | shapely.is_empty(geoms)] = None
    tree = shapely.STRtree(usable)
    i, j = tree.query(usable, predicate="dwithin", distance=touch_m)
    pairs = i != j
    i, j = i[pairs], j[pairs]
    by = np.lexsort((j, i))
    i, j = i[by], j[by]
    degree = np.bincount(i, minlength=n)
    order = np.argsort(-degree, kind="stable")
    start = np.searchsorted(i, np.arange(n + 1))
    done = np.zeros(n, dtype=bool)
    k = len(_CATCHMENT_COLOURS)
    for p in order:  # one step per facility of a category: the map, not a distance loop
        nb = j[start[p] : start[p + 1]]
        used = set(out[nb[done[nb]]].tolist())
        free = [c for c in range(k) if c not in used]
        out[p] = free[0] if free else int(p) % k
        done[p] = True
    return out


def _catchment_layers(m: folium.Map, a: Assessment, simplify_m: float) -> int:
    """One hidden layer per check's catchments ("which facility is nearest"), coloured by facility; how many."""
    import folium

    ca = a.layers.get("catchments")
    if ca is None or not len(ca) or "facility_index" not in ca.columns:
        return 0
    ca = ca.reset_index(drop=True)
    fac = a.facilities
    name_col = next((c for c in ("name", "名称", "NAME", "Name") if c in fac.columns), None)
    checks = list(dict.fromkeys(ca["check"].astype(str)))
    fill = np.zeros(len(ca), dtype=np.int64)
    for check in checks:
        rows = np.flatnonzero((ca["check"].astype(str) == check).to_numpy())
        fill[rows] = _neighbour_colours(np.asarray(ca.geometry.values[rows], dtype=object), max(simplify_m, 1.0))
    props = []
    for r, f in zip(ca.itertuples(index=False), fill):
        i = int(r.facility_index)
        name = fac[name_col].iloc[i] if name_col and 0 <= i < len(fac) else None
        props.append(
            {
                "c": checks.index(str(r.check)),
                # an unnamed facility (many OSM bus stops): its category and row in the facilities layer
                "fac": _e(name) if not _missing(name) and str(name) else _e(f"未命名 unnamed {r.category} #{i}"),
                "street": _num(r.street_m) + " m",
                "area": _ha(r.area_m2),
                "fill": _CATCHMENT_COLOURS[int(f)],
            }
        )
    data = _feature_collection(_to_wgs84(ca.geometry.values, ca.crs, simplify_m), props, digits=5)
    store = _SharedData({"catchments": data})
    store.add_to(m)
    for k, check in enumerate(checks):
        view = ca.loc[ca["check"].astype(str) == check, "view"].iloc[0]
        fg = folium.FeatureGroup(name=_e(f"服务分区 Catchments: {check} · {view}"), show=False)
        _JsonLayer(
            store,
            "catchments",
            filter=("c", k),
            fill_key="fill",
            consts={"check": _e(check), "view": _e(view)},  # the same for every catchment of the layer
            style={"color": "#222222", "weight": 0.8, "fillOpacity": 0.6},
            fields=["fac", "check", "view", "street", "area"],
            aliases=["最近设施 Nearest facility", "检查项 Check", "视图 View", "服务道路 Street served", "面积 Area"],
            note="范围内各处最近的设施 The facility nearest to every place of this part, within the check's reach",
        ).add_to(fg)
        fg.add_to(m)
    return len(checks)


def _name_elements(m: folium.Map) -> None:
    """Name every element of the map's page from the page itself, not with random ids.

    branca names an element ``<kind>_<32 random hex digits>`` (``map_…``,
    ``feature_group_…``), so each run wrote another file. Here the element that
    comes ``n``-th in the page (its figure, then depth first: header, body, script,
    children, in order) is named ``<kind>_<page>_<n>``, where ``page`` is 16 hex
    digits of a SHA-256 of the whole page — every element's kind, place and
    settings, the data included. Names stay unique within the page and valid
    JavaScript identifiers; the same map gets the same names (and file); a
    different map (another assessment or scenario, basemap, title or option)
    gets other names, so two maps can share one document without a clash.
    """
    order: list[Element] = []
    place: dict[int, int] = {}
    parents: list[int] = []

    def visit(el: Element, parent: int) -> None:
        if id(el) in place:
            return
        me = place[id(el)] = len(order)
        order.append(el)
        parents.append(parent)
        for part in ("header", "html", "script"):  # a figure's (and a popup's) own parts
            sub = vars(el).get(part)
            if isinstance(sub, Element):
                visit(sub, me)
        for child in el._children.values():
            visit(child, me)

    visit(m.get_root(), -1)

    def canon(o: Any) -> Any:
        if isinstance(o, Element):  # another element: by its place (its old name is random)
            return f"<element {place.get(id(o), -1)}>"
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        return f"<{type(o).__qualname__}>"

    digest = hashlib.sha256()
    for n, (el, parent) in enumerate(zip(order, parents)):
        digest.update(f"{n} {parent} {type(el).__module__}.{type(el).__qualname__}\n".encode())
        state = vars(el)
        for key in sorted(state):
            if key in ("_id", "_parent", "_children"):
                continue
            try:
                text = json.dumps(state[key], sort_keys=True, default=canon)
            except (TypeError, ValueError):  # keys that cannot be sorted, a cycle
                text = str(canon(state[key]))
            digest.update(f"{key}={text}\n".encode())
    page = digest.hexdigest()[:16]
    old = {id(el): el.get_name() for el in order}
    for n, el in enumerate(order):
        el._id = f"{page}_{n}"
    for el in order:  # children are kept under their names: rename those keys too
        el._children = OrderedDict(
            (child.get_name() if key == old[id(child)] else key, child) for key, child in el._children.items()
        )


class _FitBounds(_Script):
    """Fit the view to the data at once (no zoom animation) and add a metric scale bar.

    The title, the legend and an open layer list sit over the map: the study
    area is fitted into the room they leave (when they leave room enough).
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function(){var m = {{ this._parent.get_name() }}, r = m.getContainer().getBoundingClientRect();"
        "function box(sel){var e = document.querySelector(sel); return e ? e.getBoundingClientRect() : null;}"
        "var lg = box('.sc-legend'), tp = box('.sc-top'), lc = box('.leaflet-control-layers');"
        "var left = lg && lg.right - r.left < r.width / 2 ? lg.right - r.left + 12 : 12;"
        "var top = tp && tp.bottom - r.top < r.height / 3 ? tp.bottom - r.top + 8 : 12;"
        "var right = lc && r.width - left - (r.right - lc.left + 8) >= 300 ? r.right - lc.left + 8 : 12;"
        "m.fitBounds({{ this.bounds|tojson }}, {animate: false, paddingTopLeft: [left, top],"
        " paddingBottomRight: [right, 28]});"
        "L.control.scale({imperial: false, position: 'bottomright'}).addTo(m);})();"
        "{% endmacro %}"
    )

    def __init__(self, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "FitBounds"
        self.bounds = bounds


class _Pane(_Script):
    """A map pane above the community fills for the street context (clicks pass through it)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function(){var p = {{ this._parent.get_name() }}.createPane({{ this.pane|tojson }});"
        "p.style.zIndex = {{ this.z }}; p.style.pointerEvents = 'none';})();"
        "{% endmacro %}"
    )

    def __init__(self, pane: str, z: int) -> None:
        super().__init__()
        self._name = "ScPane"
        self.pane = pane
        self.z = int(z)


class _LegendSwitch(_Script):
    """Show the legend section of the layer on view (the overview's at first)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function(){var m = {{ this._parent.get_name() }};"
        "var groups = [{% for g in this.groups %}{{ g.get_name() }}{% if not loop.last %}, {% endif %}{% endfor %}];"
        "function show(layer){var n = groups.indexOf(layer); if (n < 0) { return; }"
        " document.querySelectorAll('.sc-legend [data-sec]').forEach(function(el){"
        "  el.style.display = el.getAttribute('data-sec') === String(n) ? '' : 'none'; });}"
        "m.on('baselayerchange', function(e){ show(e.layer); });"
        "show(groups[0]);})();"
        "{% endmacro %}"
    )

    def __init__(self, groups: list[Any]) -> None:
        super().__init__()
        self._name = "ScLegendSwitch"
        self.groups = groups


def _script_json(obj: Any) -> str:
    """JSON that is safe inside a <script> element (no '<', '>' or '&' left raw)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _SharedData(_Script):
    """The map's data, written into the page once as a JavaScript object."""

    _template = Template(
        "{% macro script(this, kwargs) %}var {{ this.get_name() }} = {{ this.payload }};{% endmacro %}"
    )

    def __init__(self, data: dict[str, str]) -> None:
        super().__init__()
        self._name = "ScData"
        self.sizes = {k: len(v) for k, v in data.items()}  # characters per collection (for benchmarks)
        text = "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in data.items()) + "}"
        self.payload = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _JsonLayer(_Script):
    """One Leaflet GeoJSON layer over a collection of the shared data.

    Styles come from feature properties (``fill_key``), features can be filtered
    by a property, and every feature gets a tooltip (hover) and popup (click)
    listing ``fields`` — values that were HTML-escaped in Python.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function(){var cfg = {{ this.cfg }};"
        "var data = {{ this.store.get_name() }}[cfg.collection];"
        "function sty(f){var s = Object.assign({}, cfg.style);"
        " if (cfg.fill_key) { s.fillColor = f.properties[cfg.fill_key]; }"
        " if (cfg.opacity_key) { s.fillOpacity = f.properties[cfg.opacity_key]; } return s;}"
        "function html(f){var rows = cfg.fields.map(function(k, i){"
        " var v = (cfg.consts && k in cfg.consts) ? cfg.consts[k] : f.properties[k];"
        " return '<tr><th>' + cfg.aliases[i] + '</th><td>' + (v === undefined || v === null ? '—' : v)"
        " + '</td></tr>';}).join('');"
        " return '<table class=\"sc-tip\">' + rows + (cfg.note ? '<tr><td colspan=\"2\"><i>' + cfg.note"
        " + '</i></td></tr>' : '') + '</table>';}"
        # the overview's popup: the checks the community fails, with their numbers
        "function fails(f){var p = f.properties, fl = p.fl || [];"
        " var h = '<div class=\"sc-pop\"><b class=\"sc-pname\">' + p.name + '</b><br>未达标 Fails <b>' + p.o_failed"
        " + '</b> / ' + p.o_assessed + ' 项检查 checks (' + p.o_share + ') · 面积 Area ' + p.o_area;"
        " if (!fl.length) { return h + '<br><i>' + (p.o_failed === '—' ? '无数据 No data'"
        "  : '全部达标 Passes every check') + '</i></div>'; }"
        " return h + '<ol class=\"sc-fails\">' + fl.map(function(r){ var c = cfg.fails[r[0]];"
        "  var t = '<li data-check=\"' + c.k + '\"><b>' + c.n + '</b> ' + c.b + '<br>';"
        "  if (r.length === 3) { t += '覆盖率 Coverage <span class=\"sc-cov\">' + r[1] + '</span> (目标 Target '"
        "   + c.t + ') · 未覆盖 Uncovered <span class=\"sc-uncw\">' + r[2] + '</span> ' + c.w; }"
        "  else { t += c.v + ' <span class=\"sc-val\">' + r[1] + '</span> (目标 Target ' + c.t + ')'; }"
        "  return t + '</li>'; }).join('') + '</ol></div>';}"
        # tooltip and popup text made when shown, not for every feature up front
        "var opts = {style: sty};"
        # a popup opens clear of the title (and the legend) that sit over the map
        "var pad = (function(){ function edge(sel, side){ var e = document.querySelector(sel);"
        " return e ? e.getBoundingClientRect()[side] : 0; }"
        " return L.point(Math.min(edge('.sc-legend', 'right'), 300) + 8, Math.min(edge('.sc-top', 'bottom'), 200) + 8);"
        "})();"
        "if (cfg.pane) { opts.pane = cfg.pane; }"
        "if (cfg.attribution) { opts.attribution = cfg.attribution; }"
        "if (cfg.interactive === false) { opts.interactive = false; } else {"
        " opts.onEachFeature = function(f, l){var h = function(){ return html(f); };"
        " l.bindTooltip(h, {sticky: true});"
        " l.bindPopup(cfg.fails ? function(){ return fails(f); } : h,"
        "  {maxWidth: 360, maxHeight: 320, autoPanPaddingTopLeft: pad});"
        " if (!cfg.point) { l.on('mouseover', function(){ l.setStyle({weight: 2.5, color: '#000'}); });"
        "  l.on('mouseout', function(){ l.setStyle(sty(f)); }); }}; }"
        "if (cfg.filter) { opts.filter = function(f){ return f.properties[cfg.filter[0]] === cfg.filter[1]; }; }"
        "if (cfg.filter_out) { opts.filter = function(f){"
        " return cfg.filter_out[1].indexOf(f.properties[cfg.filter_out[0]]) < 0; }; }"
        "if (cfg.point) { opts.pointToLayer = function(f, ll){ return L.circleMarker(ll, sty(f)); }; }"
        # built when its layer is first shown: a city-wide map has dozens of hidden layers
        "var parent = {{ this._parent.get_name() }}, built = false;"
        "function build(){ if (built || !data) { return; } built = true; L.geoJson(data, opts).addTo(parent); }"
        "if (parent._map) { build(); } else { parent.once('add', build); }"
        "})();"
        "{% endmacro %}"
    )

    def __init__(
        self,
        store: _SharedData,
        collection: str,
        *,
        fields: list[str],
        aliases: list[str],
        style: dict[str, Any],
        fill_key: str | None = None,
        opacity_key: str | None = None,
        filter: tuple[str, Any] | None = None,
        filter_out: tuple[str, list] | None = None,
        point: bool = False,
        note: str | None = None,
        consts: dict[str, str] | None = None,
        pane: str | None = None,
        interactive: bool = True,
        attribution: str | None = None,
        fails: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__()
        self._name = "ScLayer"
        self.store = store
        self.cfg = _script_json(
            {
                "consts": consts or None,  # values the same for every feature of the layer (already escaped)
                "collection": collection,
                "fields": fields,
                "aliases": aliases,
                "style": style,
                "fill_key": fill_key,
                "opacity_key": opacity_key,
                "filter": list(filter) if filter else None,
                "filter_out": [filter_out[0], list(filter_out[1])] if filter_out else None,
                "point": point,
                "note": _e(note) if note else None,
                "pane": pane,
                "interactive": interactive,
                "attribution": attribution,  # already escaped
                "fails": fails,  # the checks a popup may list (already escaped)
            }
        )


def _score_text(check: Any, comm: Any, i: int) -> str:
    """A non-reach check's value for community ``i``: ``973 households``, ``4 of 6``, ``1,200 m²`` (escaped)."""
    col = check.score_col
    if not col or col not in comm.columns:
        return "—"
    v = comm[col].iloc[i]
    if _missing(v):
        return "—"
    unit = _unit(check.score_unit)
    if isinstance(v, (int, float, np.number)):
        digits = 0 if abs(float(v)) >= 100 or float(v).is_integer() else 2
        return _e(f"{float(v):,.{digits}f} {unit}".strip())
    return _e(v)


def _streets(a: Assessment, tolerance: float) -> str | None:
    """The walking network near the study area as one GeoJSON feature: simplified, merged, about 1 m precise."""
    from ..coords import reproject_geometries

    net = getattr(a, "network", None)
    geoms = getattr(net, "edge_geometry", None)
    if net is None or geoms is None or not len(geoms):
        return None
    g = np.asarray(geoms, dtype=object)
    g = g[~(shapely.is_missing(g) | shapely.is_empty(g))]
    comm = a.communities
    if len(comm) and comm.crs is not None:
        x0, y0, x1, y1 = comm.to_crs(net.crs).total_bounds if comm.crs != net.crs else comm.total_bounds
        if np.isfinite([x0, y0, x1, y1]).all():  # the streets of the study area and 300 m around it
            g = g[shapely.intersects(g, shapely.box(x0 - 300, y0 - 300, x1 + 300, y1 + 300))]
    if not len(g):
        return None
    if tolerance > 0:
        g = shapely.simplify(g, tolerance, preserve_topology=False)
    merged = shapely.line_merge(shapely.multilinestrings(g[shapely.get_type_id(g) == 1]))
    wgs = reproject_geometries(np.asarray([merged], dtype=object), net.crs, 4326)
    return _feature_collection(wgs, [{}], digits=5)


def _swatch(colour: str, label: str, *, dot: bool = False, extra: str = "") -> str:
    kind = "sc-dot" if dot else "sc-sw"
    return f"<div><span class='{kind}' style='background:{colour}{extra}'></span>{label}</div>"


def _overview_legend() -> str:
    rows = "".join(_swatch(c, _e(label)) for _, c, label in FAILED_SHARE_BINS)
    return (
        "<h4>未达标项占比 Share of checks failed</h4>"
        "<div class='sc-note'>未达标项数 ÷ 已评估项数 checks failed ÷ checks assessed</div>"
        + rows
        + _swatch(NO_DATA, "无数据 No demand data")
        + "<div class='sc-note'>点击社区：未达标项清单 Click a community: the checks it fails</div>"
    )


def _check_legend(a: Assessment, check: Any, colour: str | None, green: bool, gaps: bool) -> str:
    zh, en = check_labels(check)
    rows = "".join(_swatch(c, _e(label)) for _, c, label in COVERAGE_BINS)
    wzh, wen = weight_names(a, check.key)
    parts = [
        f"<h4>{_e(zh)} {_e(en)}</h4>",
        f"<div>目标 Target: {_e(_target_text(check))} {_badge(check.confirmed)}</div>",
        f"<div class='sc-note'>覆盖率（按{_e(wzh)}）Coverage by {_e(wen)}</div>",
        rows,
        _swatch(NO_DATA, "无数据 No demand data"),
    ]
    if gaps:
        parts.append(_swatch(GAP_COLOUR, "缺口 Gap (out of reach)", extra=";opacity:.7"))
    if green:
        parts.append(_swatch(GREEN_COLOUR, "可达绿地 Green spaces reached"))
    if colour and check.category:
        parts.append(_swatch(colour, "设施 Facilities", dot=True))
        parts.append(_swatch(colour, "未接入路网 Too far from the network", dot=True, extra=";opacity:.3"))
    return "".join(parts)


def _flag_legend(check: Any) -> str:
    return (
        f"<h4>{_e(check.name_zh)} {_e(check.name_en)}</h4>"
        f"<div>目标 Target: {_e(_target_text(check))} {_badge(check.confirmed)}</div>"
        + _swatch(PASS_COLOUR, f"{PASS_TEXT} Pass")
        + _swatch(FAIL_COLOUR, f"{FAIL_TEXT} Fail")
        + _swatch(NO_DATA, "无数据 No data")
    )


def _context_legend(streets: bool, green: bool, osm: bool, source: str) -> str:
    parts = []
    if streets:
        parts.append(
            f"<div><span class='sc-line' style='border-color:{STREET_COLOUR}'></span>"
            "步行路网 Streets (walking network)</div>"
        )
    if green:
        parts.append(_swatch(GREEN_COLOUR, "绿地 Green space", extra=";opacity:.5"))
    if osm:  # the network (and what is drawn of it) is OpenStreetMap data
        parts.append(f"<div class='sc-note'>路网 Network {_e(OSM_DATA_ATTRIBUTION)}</div>")
    elif source:
        parts.append(f"<div class='sc-note'>路网 Network: {_e(Path(source).name)}</div>")
    return "".join(parts)


def _demo_banner(a: Assessment) -> str:
    """Why so much fails on the demo: its facilities are what a 2018 OSM extract maps."""
    fac = a.facilities
    n_kg = int((fac["category_key"] == "kindergarten").sum()) if "category_key" in fac.columns else 0
    what_zh = f"例如仅 {n_kg} 所幼儿园" if n_kg else f"共 {len(fac)} 处设施"
    what_en = f"e.g. {n_kg} kindergarten{'s' if n_kg != 1 else ''}" if n_kg else f"{len(fac)} facilities in all"
    return (
        "<div class='sc-banner'><b>演示数据 Demo data</b>：社区边界与户数为近似估算；"
        f"2018 年 OpenStreetMap 数据只收录了真实设施的一小部分（{what_zh}），所以大多数检查未达标。"
        "本工具是为规划师自己的高德或设施登记数据导出而设计的。<br>"
        "Community boundaries and households are approximate. The 2018 OpenStreetMap extract maps only a "
        f"fraction of the real facilities ({what_en}), so most checks fail: servicecircle is meant for a "
        "planner's own Amap or register export.</div>"
    )


def _legend_html(
    a: Assessment, sections: list[str], context: str, title: str | None, sampled: bool, tiles: bool
) -> str:
    prof = a.profile
    approx = str(a.communities.attrs.get("source", "")).find("approx") >= 0
    banner = _demo_banner(a) if approx else ""
    heading = _e(title) if title else f"{_e(prof.name_zh)} <small>{_e(prof.name_en)}</small>"
    note = "<div><i>部分设施为抽样显示 Facilities sampled for display</i></div>" if sampled else ""
    hidden = " style='display:none'"
    body = "".join(f"<div data-sec='{n}'{'' if n == 0 else hidden}>{html}</div>" for n, html in enumerate(sections))
    tiles_note = "" if tiles else "无底图（离线） No basemap tiles (offline)"
    card = _scorecard_html(a)
    button = (
        "<button type='button' class='sc-btn' onclick=\"document.querySelector('.sc-card')"
        ".classList.toggle('sc-open')\">市级指标 Scorecard</button>"
        if card
        else ""
    )
    return f"""
<style>
.sc-top {{position: fixed; top: 10px; left: 56px; z-index: 9999; max-width: min(600px, calc(100vw - 430px));
  min-width: 240px;
  font: 13px/1.35 sans-serif;}}
.sc-title {{background: rgba(255,255,255,.95); padding: 6px 10px; border-radius: 6px;
  box-shadow: 0 1px 5px rgba(0,0,0,.35);}}
.sc-banner {{margin-top: 6px; background: #fff7e6; border-left: 4px solid #d95f0e; padding: 5px 8px;
  border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3); font-size: 11px; line-height: 1.35;}}
.sc-btn {{margin-left: 8px; font: 12px sans-serif; cursor: pointer; border: 1px solid #888;
  background: #f4f4f4; border-radius: 4px; padding: 1px 7px;}}
.sc-legend {{position: fixed; bottom: 24px; left: 10px; z-index: 9999; background: rgba(255,255,255,.95);
  padding: 6px 9px; border-radius: 6px; box-shadow: 0 1px 5px rgba(0,0,0,.35); font: 12px/1.4 sans-serif;
  width: 220px; max-height: calc(100vh - 190px); overflow-y: auto;}}
.sc-legend.sc-collapsed {{width: auto;}}
.sc-legend.sc-collapsed .sc-lb {{display: none;}}
.sc-lh {{display: flex; justify-content: space-between; align-items: center; gap: 8px;}}
.sc-lh button {{font: 11px sans-serif; cursor: pointer; border: 1px solid #999; background: #fff;
  border-radius: 3px; padding: 0 5px;}}
.sc-sw {{display: inline-block; width: 14px; height: 10px; margin-right: 6px; border: 1px solid #777;}}
.sc-dot {{display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 50%;}}
.sc-line {{display: inline-block; width: 16px; height: 0; margin: 0 6px 3px 0; border-top: 2px solid;}}
.sc-legend h4 {{margin: 5px 0 2px; font-size: 12px;}}
.sc-note {{color: #555; font-size: 11px;}}
.sc-unc {{display: inline-block; background: {UNCONFIRMED_COLOUR}; color: #fff; border-radius: 3px;
  padding: 0 4px; font-size: 10px; line-height: 1.5; white-space: nowrap;}}
.leaflet-control-layers-expanded {{max-height: 60vh; overflow-y: auto; font-size: 12px;}}
.sc-tip th {{text-align: left; padding-right: 6px; font-weight: 600;}}
.sc-levels {{background: rgba(255,255,255,.95); padding: 4px 6px; font: 12px sans-serif; display: flex;
  flex-direction: column; gap: 2px;}}
.sc-levels button {{font: 12px sans-serif; cursor: pointer; border: 1px solid #999; background: #fff;
  border-radius: 3px; padding: 1px 6px; text-align: left;}}
.sc-levels button.sc-on {{background: #333; color: #fff;}}
.sc-pop {{font: 12px/1.4 sans-serif;}}
.sc-fails {{margin: 4px 0 0; padding-left: 18px;}}
.sc-fails li {{margin-bottom: 3px;}}
.sc-card {{display: none; position: fixed; top: 56px; right: 10px; z-index: 10000; width: 460px;
  max-width: calc(100vw - 40px); max-height: calc(100vh - 90px); overflow: auto; background: #fff;
  padding: 8px 10px; border-radius: 6px; box-shadow: 0 2px 8px rgba(0,0,0,.4); font: 12px/1.35 sans-serif;}}
.sc-card.sc-open {{display: block;}}
.sc-card table {{border-collapse: collapse; font-size: 11px; width: 100%;}}
.sc-card td, .sc-card th {{border-bottom: 1px solid #ddd; padding: 2px 4px; text-align: left; vertical-align: top;}}
.sc-card td:last-child {{white-space: nowrap;}}
</style>
<div class="sc-top"><div class="sc-title"><b>社区生活圈缺口 Life-circle gaps</b> — {heading}{button}</div>{banner}</div>
<div class="sc-legend">
<div class="sc-lh"><b>图例 Legend</b><button type="button" class="sc-ltoggle" title="收起/展开 Collapse/expand"
 onclick="var l = this.closest('.sc-legend'); l.classList.toggle('sc-collapsed');
 this.textContent = l.classList.contains('sc-collapsed') ? '+' : '−';">−</button></div>
<div class="sc-lb">{body}
<h4>底图 Context</h4>{context}{note}
<div class="sc-note" style="margin-top:4px">步行网络距离 Walking-network distance · servicecircle
{("<br>" + tiles_note) if tiles_note else ""}</div>
</div></div>
{card}
"""


def _fmt_scorecard(v: Any, unit: str, *, target: bool = False) -> str:
    """A scorecard number with its unit: ``2.2% of households``, ``3.84 m²/resident``; a target as written."""
    if _missing(v):
        return "—"
    x = float(v)
    text = f"{x:,.4g}" if target else (f"{x:,.1f}" if unit.startswith("%") else f"{x:,.{0 if abs(x) >= 100 else 2}f}")
    return f"{text}{unit}" if unit.startswith("%") else f"{text} {unit}"


def _register_html(a: Assessment) -> str:
    """The plan's indicator register, every row, in the scorecard panel (folded: it is long).

    Assessed rows give the check's citywide value, the plan's target and the result; the others
    say they were not assessed, why, and what data would let them be.
    """
    reg = getattr(a, "register", None)
    if reg is None or len(reg) == 0:
        return ""
    n_pass = int((reg["status"] == "pass").sum())
    n_fail = int((reg["status"] == "fail").sum())
    n_not = len(reg) - n_pass - n_fail
    rows = []
    for _, r in reg.iterrows():
        if r["status"] in ("pass", "fail"):
            unit = _unit(r.get("value_unit") or "")
            value = _fmt_scorecard(r["value"], unit)
            mark = f"✔ {PASS_TEXT}" if r["status"] == "pass" else f"✘ {FAIL_TEXT}"
            note = f"<br><small>检查项 check: {_e(r['check'])}</small>"
        else:
            value, mark = "—", "未评估 not assessed"
            why = _e(r.get("not_assessed") or "")
            need = r.get("data_needed")
            note = f"<br><small>原因 why: {why}" + (
                f"<br>所需数据 data needed: {_e(need)}</small>" if isinstance(need, str) and need else "</small>"
            )
        aim = _e(_unit(str(r["target_text"])))
        milestone = r.get("target_2022")
        if not _missing(milestone):
            aim += f"<br><small>2022: {float(milestone):g}</small>"
        rows.append(
            f"<tr data-reg='{_e(r['key'])}' data-status='{_e(r['status'])}'><td>{_e(r['name_zh'])}"
            f"<br><small>{_e(r['name_en'])} · {_e(r['plan_table'])} {_e(r['section'])}"
            f"{' · ' + _e(r['binding']) if r.get('binding') else ''}</small>{note} {_badge(bool(r['confirmed']))}</td>"
            f"<td>{_e(value)}</td><td>{aim}</td><td>{_e(mark)}</td></tr>"
        )
    return (
        "<details class='sc-reg'><summary><b>规划指标台账 Plan register</b>: "
        f"{len(reg)} 项 rows — 已评估 assessed {n_pass + n_fail} (✔ {n_pass}, ✘ {n_fail}), "
        f"未评估 not assessed {n_not}</summary>"
        "<table><tr><th>指标 Indicator</th><th>数值 Value</th><th>规划目标 Plan target</th><th>结论 Result</th></tr>"
        + "".join(rows)
        + "</table></details>"
    )


def _scorecard_html(a: Assessment) -> str:
    """The citywide scorecard as a panel: values and targets with their units; a range stays a range.

    The plan's indicator register follows it (:func:`_register_html`).
    """
    sc = getattr(a, "scorecard", None)
    register = _register_html(a)
    if (sc is None or len(sc) == 0) and not register:
        return ""
    if sc is None:
        sc = pd.DataFrame(columns=["target_key", "name_zh", "name_en", "value", "unit", "target"])
    by_key = {c.key: c for c in a.checks}
    rows = []
    for _, r in sc.iterrows():
        unit = _unit(r.get("unit", ""))
        comparison = r.get("comparison")
        target = r.get("target")
        if comparison == "between" and not _missing(r.get("target_max")):
            low = _fmt_scorecard(target, unit, target=True).removesuffix(unit).strip()
            aim = f"{low}–{_fmt_scorecard(r['target_max'], unit, target=True)}"
        else:
            aim = f"{'≤' if comparison == '<=' else '≥'} {_fmt_scorecard(target, unit, target=True)}"
        passed = r.get("passed")
        mark = "—" if _missing(passed) else (f"✔ {PASS_TEXT}" if passed else f"✘ {FAIL_TEXT}")
        # a value the data cannot give (e.g. no floor area in the input) is said so, not left blank
        value = f"{NO_DATA_TEXT} no data" if _missing(r["value"]) else _fmt_scorecard(r["value"], unit)
        check = by_key.get(str(r.get("target_key")))
        plan = ""
        if check is not None and check.summary.get("comparison") == "between":  # the plan's range, per community
            plan = f"<br><small>规划标准 Plan: 每社区 per community {_e(_target_text(check))}</small>"
        rows.append(
            f"<tr data-key='{_e(r.get('target_key'))}'><td>{_e(r['name_zh'])}<br><small>{_e(r['name_en'])}</small>"
            f"{plan} {_badge(r.get('confirmed', True))}</td>"
            f"<td>{_e(value)}</td><td>{_e(aim)}</td><td>{_e(mark)}</td></tr>"
        )
    return (
        "<div class='sc-card'><div class='sc-lh'><b>市级指标 Citywide scorecard</b>"
        "<button type='button' onclick=\"this.closest('.sc-card').classList.remove('sc-open')\">×</button></div>"
        "<table><tr><th>指标 Indicator</th><th>数值 Value</th><th>目标 Target</th><th>结论 Result</th></tr>"
        + "".join(rows)
        + "</table>"
        + register
        + "</div>"
    )


def embed_assets(m: folium.Map) -> None:
    """Make a folium map self-contained: Leaflet's JS and CSS inlined, no CDN."""
    import xstatic.pkg.leaflet as leaflet_pkg

    base = Path(leaflet_pkg.BASE_DIR)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match) -> str:
        name = match.group(1)
        path = base / "images" / name
        if not path.exists():
            return match.group(0)
        mime = "image/svg+xml" if name.endswith(".svg") else "image/png"
        return f"url(data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()})"

    css = re.sub(r"url\(images/([^)]+)\)", data_uri, css)
    m.default_js = []
    m.default_css = []
    js = js.replace("</script", "<\\/script")
    root = m.get_root()
    assert isinstance(root, Figure)  # a folium map's root is its figure
    root.header.add_child(_Raw(f"<style>{css}</style>"), name="leaflet_css_inline")
    root.header.add_child(_Raw(f"<script>{js}</script>"), name="leaflet_js_inline")
