"""The interactive gap map (Folium / Leaflet).

One HTML file a planner can open, click and mail to a colleague:

* an overview layer: communities coloured by how many checks they fail;
* one switchable layer per check: communities coloured by the share of their
  people within reach, the gap polygons, and that category's facilities;
* tooltips with the numbers, a bilingual legend and title.

Every piece of text that comes from the data (names, categories, ids) is
HTML-escaped before it reaches the page, so a name such as
``<img src=x onerror=alert(1)>`` shows as text and runs nothing. With
``offline=True`` Leaflet's script and stylesheet are embedded in the page (from
the ``xstatic-leaflet`` package), so the map opens on an intranet with no access
to a CDN.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

__all__ = ["gap_map", "COVERAGE_BINS", "FAILED_BINS", "embed_assets"]

#: (upper bound of coverage %, colour, label) — red is worst.
COVERAGE_BINS = (
    (50.0, "#b2182b", "< 50%"),
    (80.0, "#ef8a62", "50–80%"),
    (95.0, "#fddbc7", "80–95%"),
    (100.0 - 1e-9, "#d1e5f0", "95–<100%"),
    (float("inf"), "#67a9cf", "100%"),
)
#: (max checks failed, colour, label)
FAILED_BINS = (
    (0, "#1a9850", "0"),
    (2, "#fee08b", "1–2"),
    (5, "#fc8d59", "3–5"),
    (float("inf"), "#d73027", "≥ 6"),
)
NO_DATA = "#bdbdbd"
GAP_COLOUR = "#54278f"
GREEN_COLOUR = "#5aae61"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173")

TILES = {
    "openstreetmap": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                      "&copy; <a href='https://www.openstreetmap.org/copyright'>OpenStreetMap</a> contributors"),
}


def _e(value: Any) -> str:
    """Text for HTML: escaped, ``—`` for missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "—"
    return html.escape(str(value), quote=True)


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
    if not assessed:
        return NO_DATA
    for upper, colour, _ in FAILED_BINS:
        if n <= upper:
            return colour
    return FAILED_BINS[-1][1]


def _to_wgs84(geoms: np.ndarray, crs, tolerance: float) -> np.ndarray:
    """Simplify (metres) for display, then reproject to EPSG:4326."""
    import geopandas as gpd

    g = np.asarray(geoms, dtype=object)
    ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
    out = g.copy()
    if tolerance > 0 and ok.any():
        out[ok] = shapely.simplify(g[ok], tolerance, preserve_topology=True)
    return np.asarray(gpd.GeoSeries(out, crs=crs).to_crs(4326).values, dtype=object)


def _feature_collection(geoms: np.ndarray, props: list[dict[str, Any]], digits: int = 6) -> dict:
    feats = []
    for g, p in zip(geoms, props):
        if g is None or shapely.is_empty(g):
            continue
        geo = json.loads(shapely.to_geojson(shapely.set_precision(g, 10 ** -digits)))
        feats.append({"type": "Feature", "geometry": geo, "properties": p})
    return {"type": "FeatureCollection", "features": feats}


def _label(row: pd.Series, id_column: str, name_column: str | None) -> str:
    name = row.get(name_column) if name_column else None
    ident = row.get(id_column)
    if name is not None and not (isinstance(name, float) and np.isnan(name)):
        return f"{name} ({ident})" if ident is not None else str(name)
    return str(ident)


def gap_map(
    assessment,
    *,
    tiles: str | None = "openstreetmap",
    tile_url: str | None = None,
    tile_attribution: str | None = None,
    offline: bool = False,
    simplify_m: float = 3.0,
    title: str | None = None,
    max_facilities_per_layer: int = 20_000,
):
    """Build the interactive gap map of an assessment.

    Parameters
    ----------
    assessment
        An :class:`~servicecircle.assessment.Assessment`.
    tiles
        ``"openstreetmap"`` (default) or ``None`` for no basemap.
    tile_url, tile_attribution
        A tile server of your own (e.g. an intranet server:
        ``http://tiles.local/{z}/{x}/{y}.png``); overrides ``tiles``.
    offline
        Embed Leaflet in the page (no CDN needed). Combine with ``tiles=None``
        or a local ``tile_url`` for a fully offline map.
    simplify_m
        Display simplification of polygons, metres (the GeoPackage keeps full
        detail).
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
    ids = comm[id_col].to_numpy() if id_col else np.arange(1, len(comm) + 1)
    comm_geo = _to_wgs84(comm.geometry.values, crs, simplify_m)
    valid = [g for g in comm_geo if g is not None and not shapely.is_empty(g)]
    if valid:
        minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(valid, dtype=object))
    else:
        minx, miny, maxx, maxy = 73.5, 18.0, 135.0, 53.5
    reach = [c for c in a.checks if c.cov_col]
    # SVG keeps every shape a clickable DOM element; canvas stays fast with very many
    many = len(comm) * (1 + len(reach)) + len(a.facilities) + len(a.gaps) > 20_000
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=13, tiles=None,
                   control_scale=False, prefer_canvas=many)
    m.default_js = [js for js in m.default_js if js[0] == "leaflet"]
    m.default_css = [css for css in m.default_css if css[0] == "leaflet_css"]
    if tile_url:
        folium.TileLayer(tiles=tile_url, attr=tile_attribution or "local tiles", name="底图 Basemap",
                         control=False).add_to(m)
    elif tiles:
        key = tiles.lower().replace(" ", "")
        if key not in TILES:
            raise ValueError(f"unknown tiles {tiles!r}; use 'openstreetmap', None or tile_url=")
        url, attr = TILES[key]
        folium.TileLayer(tiles=url, attr=attr, name="底图 Basemap", control=False).add_to(m)
    _FitBounds([[miny, minx], [maxy, maxx]]).add_to(m)

    names = [_label(r, id_col or "", a.name_column) for _, r in comm.iterrows()] if len(comm) else []
    weight_kind = comm["weight_kind"].iloc[0] if "weight_kind" in comm.columns and len(comm) else "weight"
    weight_zh = {"households": "户数", "residents": "人口"}.get(weight_kind, "权重")

    # ---- overview
    props = []
    for i, (_, r) in enumerate(comm.iterrows()):
        props.append({
            "name": _e(names[i]),
            "weight": _num(r.get("weight_total")),
            "failed": _e(int(r["checks_failed"])) if r.get("checks_assessed") else "—",
            "assessed": _e(int(r.get("checks_assessed") or 0)),
            "worst": _pct(r.get("worst_cov")),
            "_fill": _failed_colour(r.get("checks_failed") or 0, r.get("checks_assessed") or 0),
        })
    # the overview and the per-check layers are mutually exclusive (radio buttons)
    overview = folium.FeatureGroup(name=_e("总览：未达标项数 Overview: checks failed"), overlay=False, show=True)
    folium.GeoJson(
        _feature_collection(comm_geo, props),
        style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#444444",
                                  "weight": 0.8, "fillOpacity": 0.6},
        highlight_function=lambda f: {"weight": 2.5, "color": "#000000"},
        **_details(
            fields=["name", "weight", "assessed", "failed", "worst"],
            aliases=["社区 Community", f"{weight_zh} {_e(weight_kind.capitalize())}",
                     "评估项 Checks", "未达标 Failed", "最低覆盖率 Lowest coverage"],
        ),
    ).add_to(overview)
    overview.add_to(m)

    # ---- per check
    fac = a.facilities
    fac_geo = _to_wgs84(fac.geometry.values, fac.crs, 0) if len(fac) else np.zeros(0, dtype=object)
    gaps = a.gaps
    gap_geo = _to_wgs84(gaps.geometry.values, gaps.crs, simplify_m) if len(gaps) else np.zeros(0, object)
    name_col = next((c for c in ("name", "名称", "NAME", "Name") if c in fac.columns), None)
    colours = {}
    sampled_note = False
    for k, check in enumerate(reach):
        colour = PALETTE[k % len(PALETTE)]
        colours[check.key] = colour
        label = (f"{check.name_zh} · {check.name_en}" if check.kind == "reach"
                 else f"{check.name_zh} ≤{check.radius_m:g}米 · {check.name_en} ≤ {check.radius_m:g} m")
        fg = folium.FeatureGroup(name=_e(label), overlay=False, show=False)
        props = []
        for i, (_, r) in enumerate(comm.iterrows()):
            share = r.get(check.cov_col)
            passed = r.get(check.pass_col)
            verdict = "—" if passed is None or passed is pd.NA else ("达标 Pass" if passed else "未达标 Fail")
            props.append({
                "name": _e(names[i]), "cov": _pct(share), "target": _pct(check.target),
                "verdict": verdict, "unc": _num(r.get(check.unc_col)),
                "_fill": _coverage_colour(np.nan if share is None or share is pd.NA else float(share)),
            })
        folium.GeoJson(
            _feature_collection(comm_geo, props),
            style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#555555",
                                      "weight": 0.6, "fillOpacity": 0.55},
            highlight_function=lambda f: {"weight": 2.5, "color": "#000000"},
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "cov", "target", "verdict", "unc"],
                aliases=["社区 Community", "覆盖率 Coverage", "目标 Target", "结论 Result",
                         f"未覆盖{weight_zh} Uncovered {_e(weight_kind)}"],
            ),
        ).add_to(fg)
        sel = np.flatnonzero((gaps["check"] == check.key).to_numpy()) if len(gaps) else []
        if len(sel):
            gprops = [{
                "cat": _e(f"{check.name_zh} {check.name_en}"), "radius": f"{check.radius_m:g} m",
                "area": _num(gaps["gap_area_m2"].iloc[i]), "unc": _num(gaps["uncovered_weight"].iloc[i]),
                "comm": _e(gaps["community_id"].iloc[i]),
            } for i in sel]
            folium.GeoJson(
                _feature_collection(gap_geo[sel], gprops),
                style_function=lambda f: {"fillColor": GAP_COLOUR, "color": GAP_COLOUR, "weight": 0.8,
                                          "fillOpacity": 0.55},
                **_details(
                    fields=["cat", "radius", "comm", "area", "unc"],
                    aliases=["缺口 Gap", "服务半径 Radius", "社区 Community", "面积 m² Area m²",
                             f"未覆盖{weight_zh} Uncovered"],
                ),
            ).add_to(fg)
        spaces = a.layers.get("greenspace")
        flag = f"is_{check.key.removesuffix('_reach')}"
        if spaces is not None and flag in spaces.columns and bool(spaces[flag].any()):
            q = spaces[spaces[flag].astype(bool)]
            gprops = [{"name": _e(r["names"] or "—"), "area": _num(r["area_m2"]) + " m²",
                       "how": _e(r["reach_method"]), "n": _e(int(r["n_access"]))} for _, r in q.iterrows()]
            folium.GeoJson(
                _feature_collection(_to_wgs84(q.geometry.values, q.crs, simplify_m), gprops),
                style_function=lambda f: {"fillColor": GREEN_COLOUR, "color": "#1b7837", "weight": 1,
                                          "fillOpacity": 0.6},
                **_details(["name", "area", "how", "n"],
                           ["绿地 Green space", "面积 Area", "到达方式 Reached at", "出入口/边界点 Access points"]),
            ).add_to(fg)
        members = (np.flatnonzero((fac["category_key"] == check.category).to_numpy()) if check.category
                   else np.zeros(0, dtype=int))
        if len(members) > max_facilities_per_layer:
            members = np.sort(np.random.default_rng(0).choice(members, max_facilities_per_layer, replace=False))
            sampled_note = True
        if len(members):
            _facility_layer(fac, fac_geo, members, name_col, colour,
                            f"{check.name_zh} {check.name_en}").add_to(fg)
        fg.add_to(m)

    # ---- checks without a coverage share (floor area, 6个1, indicators): pass / fail
    for check in [c for c in a.checks if not c.cov_col and c.pass_col and c.pass_col in comm.columns]:
        fg = folium.FeatureGroup(name=_e(f"{check.name_zh} · {check.name_en}"), overlay=False, show=False)
        props = []
        for i, (_, r) in enumerate(comm.iterrows()):
            passed = r.get(check.pass_col)
            score = r.get(check.score_col) if check.score_col else None
            verdict = "—" if passed is None or passed is pd.NA else ("达标 Pass" if passed else "未达标 Fail")
            value = "—" if score is None or score is pd.NA or (isinstance(score, float) and np.isnan(score)) \
                else (f"{score:,.1f} {check.score_unit}" if isinstance(score, (int, float, np.number))
                      else _e(score))
            props.append({"name": _e(names[i]), "value": _e(value), "verdict": verdict,
                          "target": "—" if check.target is None else _e(f"{check.target:g} {check.score_unit}"),
                          "_fill": NO_DATA if verdict == "—" else ("#1a9850" if passed else "#d73027")})
        folium.GeoJson(
            _feature_collection(comm_geo, props),
            style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#555555", "weight": 0.6,
                                      "fillOpacity": 0.55},
            highlight_function=lambda f: {"weight": 2.5, "color": "#000000"},
            **_details(["name", "value", "target", "verdict"],
                       ["社区 Community", "数值 Value", "目标 Target", "结论 Result"]),
        ).add_to(fg)
        fg.add_to(m)

    # ---- facilities of categories that are not checked
    shown = [c.category for c in reach if c.category]
    others = np.flatnonzero(~fac["category_key"].isin(shown).to_numpy() & fac["category_key"].notna().to_numpy()) \
        if len(fac) else []
    if len(others):
        fg = folium.FeatureGroup(name=_e("其他设施（未评估） Other facilities (not checked)"), show=False)
        _facility_layer(fac, fac_geo, others[:max_facilities_per_layer], name_col, "#555555", None).add_to(fg)
        fg.add_to(m)

    n_layers = 2 + len(a.checks)
    folium.LayerControl(collapsed=n_layers > 10).add_to(m)
    m.get_root().html.add_child(folium.Element(_legend_html(a, colours, title, sampled_note)))
    if offline:
        embed_assets(m)
    return m


class _FitBounds(MacroElement):
    """Fit the view to the data at once (no zoom animation) and add a metric scale bar."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.fitBounds({{ this.bounds|tojson }}, {animate: false, padding: [12, 12]});"
        "L.control.scale({imperial: false, position: 'bottomright'}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )

    def __init__(self, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "FitBounds"
        self.bounds = bounds


def _details(fields: list[str], aliases: list[str]) -> dict[str, Any]:
    """A hover tooltip and a click popup showing the same (already escaped) fields."""
    import folium

    return {"tooltip": folium.GeoJsonTooltip(fields=fields, aliases=aliases),
            "popup": folium.GeoJsonPopup(fields=fields, aliases=aliases)}


def _facility_layer(fac, fac_geo, members, name_col, colour: str, category_label: str | None):
    """Facilities as one GeoJSON layer of circle markers, with tooltips and click popups."""
    import folium

    props = []
    for i in members:
        snapped = bool(fac["snapped"].iloc[i])
        props.append({
            "name": _e(fac[name_col].iloc[i]) if name_col else "—",
            "cat": _e(category_label or fac["category_key"].iloc[i]),
            "snap": _num(fac["snap_m"].iloc[i]) + " m",
            "placed": "是 Yes" if snapped else "否：离路网过远 No: too far from the network",
            "_fill": colour,
            "_opacity": 0.95 if snapped else 0.25,
        })
    fields = ["name", "cat", "snap", "placed"]
    aliases = ["名称 Name", "类别 Category", "接入距离 Snap distance", "接入路网 On the network"]
    return folium.GeoJson(
        _feature_collection(np.asarray(fac_geo, dtype=object)[np.asarray(members, dtype=int)], props),
        marker=folium.CircleMarker(radius=5, weight=1.5, fill=True),
        style_function=lambda f: {"fillColor": f["properties"]["_fill"], "color": "#ffffff",
                                  "fillOpacity": f["properties"]["_opacity"], "weight": 1.5},
        **_details(fields, aliases),
    )


def _legend_html(a, colours: dict[str, str], title: str | None, sampled: bool) -> str:
    prof = a.profile
    rows_cov = "".join(
        f"<div><span class='sc-sw' style='background:{c}'></span>{_e(label)}</div>" for _, c, label in COVERAGE_BINS
    )
    rows_fail = "".join(
        f"<div><span class='sc-sw' style='background:{c}'></span>{_e(label)}</div>" for _, c, label in FAILED_BINS
    )
    cats = "".join(
        f"<div><span class='sc-dot' style='background:{colours[c.key]}'></span>"
        f"{_e(c.name_zh)} {_e(c.name_en)} ≤{c.radius_m:g} m</div>" for c in a.checks
        if c.key in colours and c.category
    )
    approx = ""
    if str(a.communities.attrs.get("source", "")).find("approx") >= 0:
        approx = ("<div class='sc-warn'>社区边界与户数为近似估算，非官方数据<br>"
                  "Community boundaries and households are approximate, not official</div>")
    heading = _e(title) if title else f"{_e(prof.name_zh)}<br><small>{_e(prof.name_en)}</small>"
    note = "<div><i>部分设施为抽样显示 Facilities sampled for display</i></div>" if sampled else ""
    return f"""
<style>
.sc-legend {{position: fixed; bottom: 24px; left: 12px; z-index: 9999; background: rgba(255,255,255,.94);
  padding: 8px 10px; border-radius: 6px; box-shadow: 0 1px 5px rgba(0,0,0,.35); font: 12px/1.45 sans-serif;
  max-height: 70vh; overflow-y: auto; max-width: 300px;}}
.sc-title {{position: fixed; top: 10px; left: 56px; z-index: 9999; background: rgba(255,255,255,.94);
  padding: 6px 10px; border-radius: 6px; box-shadow: 0 1px 5px rgba(0,0,0,.35); font: 14px/1.3 sans-serif;}}
.sc-sw {{display: inline-block; width: 14px; height: 10px; margin-right: 6px; border: 1px solid #777;}}
.sc-dot {{display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 50%;}}
.sc-legend h4 {{margin: 6px 0 2px; font-size: 12px;}}
.sc-warn {{color: #a50f15; margin-top: 6px;}}
.leaflet-control-layers-expanded {{max-height: 60vh; overflow-y: auto; font-size: 12px;}}
.sc-card table {{border-collapse: collapse; font-size: 11px;}}
.sc-card td, .sc-card th {{border-bottom: 1px solid #ddd; padding: 1px 4px; text-align: left;}}
</style>
<div class="sc-title"><b>社区生活圈缺口 Life-circle gaps</b> — {heading}</div>
<div class="sc-legend">
<h4>未达标项数 Checks failed</h4>{rows_fail}
<div><span class='sc-sw' style='background:{NO_DATA}'></span>无数据 No demand data</div>
<h4>覆盖率（按{_e('户数' if 'house' in str(a.parameters.get('weight')) else '人口/权重')}）Coverage</h4>{rows_cov}
<div><span class='sc-sw' style='background:{GAP_COLOUR};opacity:.7'></span>缺口 Gap (out of reach)</div>
<h4>设施 Facilities</h4>{cats}
<div><span class='sc-dot' style='background:#555'></span>其他设施 Other facilities</div>
{note}{approx}
{_scorecard_html(a)}
<div style="margin-top:6px;color:#555">步行网络距离 Walking-network distance · servicecircle<br>
路网 Network © OpenStreetMap contributors</div>
</div>
"""


def _scorecard_html(a) -> str:
    """The citywide scorecard as a small collapsible table."""
    sc = getattr(a, "scorecard", None)
    if sc is None or len(sc) == 0:
        return ""
    rows = []
    for _, r in sc.iterrows():
        value = r["value"]
        shown = "—" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:,.1f}"
        mark = "—" if r["passed"] is None or r["passed"] is pd.NA else ("✔" if r["passed"] else "✘")
        cmp_ = "≥" if r["comparison"] == ">=" else ("≤" if r["comparison"] == "<=" else "∈")
        rows.append(f"<tr><td>{_e(r['name_zh'])}<br><small>{_e(r['name_en'])}</small></td>"
                    f"<td>{_e(shown)}</td><td>{_e(cmp_)} {_e(r['target'])}</td><td>{_e(mark)}</td></tr>")
    return ("<details class='sc-card'><summary><b>市级指标 Citywide scorecard</b></summary>"
            "<table><tr><th>指标 Target</th><th>数值 Value</th><th>目标</th><th></th></tr>"
            + "".join(rows) + "</table></details>")


def embed_assets(m) -> None:
    """Make a folium map self-contained: Leaflet's JS and CSS inlined, no CDN."""
    import folium
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
    m.get_root().header.add_child(folium.Element(f"<style>{css}</style>"), name="leaflet_css_inline")
    m.get_root().header.add_child(folium.Element(f"<script>{js}</script>"), name="leaflet_js_inline")
