"""QGIS layer styles stored inside the shortfall GeoPackage.

QGIS keeps the styles it saves "in the database" in a table ``layer_styles``
(one row per style, the QML document in ``styleQML``, ``useAsDefault`` marking
the one a layer opens with). :func:`add_qgis_styles` writes that table itself,
as QGIS would, so that dragging ``shortfall.gpkg`` into QGIS opens:

``communities``
    graduated by ``checks_failed`` (green → red, grey where no check could be
    assessed), the same classes as the gap map, labelled with the community's
    name, with a map tip (name, checks failed);
``gaps``
    rule-based on ``check``: one rule per check, each with its own colour (the
    colour of its facility category) and its bilingual name, semi-transparent, so
    a planner can switch one check on or off in the layer panel;
``facilities``
    categorized by ``category_key`` (one colour per profile category, grey for
    the rest);
``demand``
    small points graduated by ``weight`` (light to dark blue, five classes at
    the quintiles of the file's own weights);
``greenspace``
    green;
``greenspace_access``
    small dark-green points (where each green space is entered);
``streets``
    the walking network, thin light grey lines (street context);
``proposals``, ``gaps_closed`` (a siting scenario)
    the proposed sites as large dark stars labelled with their rank; the parts
    of the gaps they close, semi-transparent green.

Field aliases (bilingual column descriptions) travel in the same QML, so the
attribute table shows ``幼儿园覆盖率 Kindergarten coverage (%)`` above
``cov_kindergarten``. An SLD version of each style goes in ``styleSLD`` for
other clients.

The table is an attribute table registered in ``gpkg_contents``
(``data_type = 'attributes'``), exactly as QGIS (through GDAL) creates it: GDAL
lists it as a table without geometry and every spatial layer stays as it was.
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OutputError
from .gdal import gpkg_time
from .labels import column_header
from .style import FAILED_BINS, GAP_COLOUR, GREEN_COLOUR, GREEN_OUTLINE, NO_DATA, PALETTE, PASS_COLOUR

if TYPE_CHECKING:
    from .result import AssessmentResult as Assessment  # the protocol the writers read, not the record

__all__ = ["add_qgis_styles", "layer_qml", "STYLE_NAME", "STYLED_LAYERS"]

STYLE_NAME = "servicecircle"
STYLED_LAYERS = (
    "communities",
    "gaps",
    "facilities",
    "demand",
    "greenspace",
    "greenspace_access",
    "streets",
    "proposals",
    "gaps_closed",
    "compounds",
    "units_township",
    "units_county",
    "units_city",
)
#: the unit levels' outlines, mm: a higher level draws a bolder line
_UNIT_WIDTH = {"units_township": 0.6, "units_county": 1.0, "units_city": 1.4}
_COMPOUND = "#e6a23c"
QGIS_VERSION = "3.28.0-Firenze"  # the QML dialect written (read by QGIS 3.x)
_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
_OUTLINE = "35,35,35,255"
_OTHER = "#9e9e9e"
_OUTLINE_UNITS = "#222222"
_STREET = "#c8c8c8"
_PROPOSAL = "#1a1a1a"
#: light to dark blue, the demand classes
_DEMAND_RAMP = ("#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
#: the fonts the labels ask for (QGIS takes the first installed one's look-alike)
_LABEL_FONT = "Microsoft YaHei"

#: One check of the gaps style: (check key, label, colour, level key, level label).
GapCheck = tuple[str, str, str, str, str]

_DDL = """
CREATE TABLE layer_styles (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  "f_table_catalog" TEXT(256),
  "f_table_schema" TEXT(256),
  "f_table_name" TEXT(256),
  "f_geometry_column" TEXT(256),
  "styleName" TEXT(30),
  "styleQML" TEXT,
  "styleSLD" TEXT,
  "useAsDefault" BOOLEAN,
  "description" TEXT,
  "owner" TEXT(30),
  "ui" TEXT(30),
  "update_time" DATETIME
)"""


# ------------------------------------------------------------------ colours
def _rgba(colour: str, alpha: int = 255) -> str:
    """``#54278f`` -> ``"84,39,143,255"`` (QGIS colour text)."""
    c = colour.lstrip("#")
    r, g, b = (int(c[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{alpha}"


# ------------------------------------------------------------------ QML pieces
def _symbol(parent: ET.Element, name: str, kind: str, props: dict[str, str]) -> ET.Element:
    """A ``<symbol>`` with one simple layer; properties both as an Option map
    (QGIS ≥ 3.26 reads this) and as legacy ``<prop>`` elements (older 3.x)."""
    sym = ET.SubElement(
        parent, "symbol", {"type": kind, "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"}
    )
    cls = {"fill": "SimpleFill", "marker": "SimpleMarker", "line": "SimpleLine"}[kind]
    layer = ET.SubElement(sym, "layer", {"class": cls, "enabled": "1", "locked": "0", "pass": "0"})
    opt = ET.SubElement(layer, "Option", {"type": "Map"})
    for k, v in props.items():
        ET.SubElement(opt, "Option", {"type": "QString", "name": k, "value": v})
    for k, v in props.items():
        ET.SubElement(layer, "prop", {"k": k, "v": v})
    return sym


def _fill(colour: str, alpha: int = 255, outline: str = _OUTLINE, width: float = 0.26) -> dict[str, str]:
    return {
        "color": _rgba(colour, alpha),
        "style": "solid",
        "outline_color": outline,
        "outline_style": "solid",
        "outline_width": f"{width:g}",
        "outline_width_unit": "MM",
        "joinstyle": "bevel",
        "offset": "0,0",
        "offset_unit": "MM",
    }


def _marker(colour: str, size: float = 2.4) -> dict[str, str]:
    return {
        "name": "circle",
        "color": _rgba(colour),
        "outline_color": "255,255,255,255",
        "outline_style": "solid",
        "outline_width": "0.2",
        "outline_width_unit": "MM",
        "size": f"{size:g}",
        "size_unit": "MM",
        "angle": "0",
        "scale_method": "diameter",
        "joinstyle": "bevel",
        "offset": "0,0",
        "offset_unit": "MM",
    }


def _line(colour: str, width: float = 0.26) -> dict[str, str]:
    return {
        "line_color": _rgba(colour),
        "line_style": "solid",
        "line_width": f"{width:g}",
        "line_width_unit": "MM",
        "capstyle": "round",
        "joinstyle": "round",
        "offset": "0",
        "offset_unit": "MM",
    }


def _root(categories: str = "Symbology|Fields", labels: bool = False) -> ET.Element:
    return ET.Element(
        "qgis", {"version": QGIS_VERSION, "styleCategories": categories, "labelsEnabled": "1" if labels else "0"}
    )


def _rule_key(*parts: str) -> str:
    """A rule's key, as QGIS writes them (a braced UUID), the same on every run."""
    import uuid

    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "servicecircle:" + "/".join(parts))) + "}"


def _quote(field: str) -> str:
    return '"' + field.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _labels(root: ET.Element, field: str) -> None:
    """Simple labels of ``field``: dark text with a white halo, over the polygon's inside."""
    lab = ET.SubElement(root, "labeling", {"type": "simple"})
    settings = ET.SubElement(lab, "settings", {"calloutType": "simple"})
    style = ET.SubElement(
        settings,
        "text-style",
        {
            "fieldName": field,
            "isExpression": "0",
            "fontFamily": _LABEL_FONT,
            "fontSize": "9",
            "fontSizeUnit": "Point",
            "fontWeight": "50",
            "fontItalic": "0",
            "textColor": "35,35,35,255",
            "textOpacity": "1",
            "namedStyle": "Regular",
            "multilineHeight": "1",
            "blendMode": "0",
            "previewBkgrdColor": "255,255,255,255",
        },
    )
    ET.SubElement(
        style,
        "text-buffer",
        {
            "bufferDraw": "1",
            "bufferSize": "0.8",
            "bufferSizeUnits": "MM",
            "bufferColor": "255,255,255,255",
            "bufferOpacity": "0.85",
            "bufferNoFill": "1",
            "bufferJoinStyle": "128",
            "bufferBlendMode": "0",
        },
    )
    ET.SubElement(settings, "text-format", {"wrapChar": "", "multilineAlign": "3", "autoWrapLength": "0"})
    ET.SubElement(
        settings,
        "placement",
        {"placement": "1", "centroidInside": "1", "centroidWhole": "0", "fitInPolygonOnly": "0", "priority": "5"},
    )
    ET.SubElement(
        settings,
        "rendering",
        {"obstacle": "1", "obstacleType": "1", "displayAll": "0", "upsidedownLabels": "0", "scaleVisibility": "0"},
    )


def _map_tip(root: ET.Element, html: str, display: str) -> None:
    ET.SubElement(root, "mapTip").text = html
    ET.SubElement(root, "previewExpression").text = display


def _renderer(root: ET.Element, kind: str, **attrs: str) -> ET.Element:
    return ET.SubElement(
        root,
        "renderer-v2",
        {"type": kind, "symbollevels": "0", "forceraster": "0", "enableorderby": "0", "referencescale": "-1", **attrs},
    )


def _aliases(root: ET.Element, fields: list[str], aliases: dict[str, str]) -> None:
    if not aliases:
        return
    el = ET.SubElement(root, "aliases")
    for i, f in enumerate(fields):
        if f in aliases:
            ET.SubElement(el, "alias", {"field": f, "index": str(i), "name": aliases[f]})


def _finish(root: ET.Element, geometry: int) -> str:
    ET.SubElement(root, "layerGeometryType").text = str(geometry)
    ET.indent(root, space="  ")
    return _DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"


def communities_qml(
    fields: Sequence[str] = (), aliases: dict[str, str] | None = None, name_field: str | None = None
) -> str:
    """Graduated by checks failed; grey where no check was assessed; labelled with ``name_field``."""
    if name_field is None and "name" in fields:
        name_field = "name"
    root = _root("Symbology|Labeling|Fields|MapTips" if name_field else "Symbology|Fields|MapTips", bool(name_field))
    expr = 'CASE WHEN "checks_assessed" = 0 THEN -1 ELSE "checks_failed" END'
    r = _renderer(root, "graduatedSymbol", attr=expr, graduatedMethod="GraduatedColor")
    ranges = ET.SubElement(r, "ranges")
    symbols = ET.SubElement(r, "symbols")
    classes = [(-1, -1, NO_DATA, "无数据 no data")]
    lower = 0
    for upper, colour, label in FAILED_BINS:
        hi = 9999 if upper == float("inf") else int(upper)
        classes.append((lower, hi, colour, f"{label} 项未达标 checks failed"))
        lower = hi + 1
    for i, (lo, hi, colour, label) in enumerate(classes):
        ET.SubElement(
            ranges,
            "range",
            {"lower": f"{lo:.6f}", "upper": f"{hi:.6f}", "symbol": str(i), "label": label, "render": "true"},
        )
        _symbol(symbols, str(i), "fill", _fill(colour, 150))
    if name_field:
        _labels(root, name_field)
    title = f"[% {_quote(name_field)} %]" if name_field else "[% $id %]"
    tip = (
        f'<b>{title}</b><br>未达标 checks failed: [% "checks_failed" %] / [% "checks_assessed" %]'
        if {"checks_failed", "checks_assessed"} <= set(fields)
        else f"<b>{title}</b>"
    )
    _map_tip(root, tip, _quote(name_field) if name_field else "$id")
    _aliases(root, list(fields), aliases or {})
    return _finish(root, 2)


def gaps_qml(checks: Sequence[GapCheck] = (), fields: Sequence[str] = (), aliases: dict[str, str] | None = None) -> str:
    """Rule-based on ``level`` and ``check``: one rule per level, in it one rule per check.

    ``checks`` are :data:`GapCheck` tuples, every check in the layer (no ELSE
    rule: it would draw the checks switched off). Each check is drawn
    semi-transparent in its own colour, so that the layer panel lists the levels
    and their checks and each can be switched on or off on its own.
    """
    root = _root()
    r = _renderer(root, "RuleRenderer")
    rules = ET.SubElement(r, "rules", {"key": _rule_key("gaps")})
    symbols = ET.SubElement(r, "symbols")
    parents: dict[str, ET.Element] = {}
    for i, (key, label, colour, level, level_label) in enumerate(checks):
        parent = parents.get(level)
        if parent is None:
            parent = parents[level] = ET.SubElement(
                rules,
                "rule",
                {"key": _rule_key("gaps", "level", level), "filter": f"{_quote('level')} = {_literal(level)}",
                 "label": level_label},
            )  # fmt: skip
        ET.SubElement(
            parent,
            "rule",
            {"key": _rule_key("gaps", key), "filter": f"{_quote('check')} = {_literal(key)}", "symbol": str(i),
             "label": label},
        )  # fmt: skip
        _symbol(symbols, str(i), "fill", _fill(colour, 150, _rgba(colour), 0.5))
    if not checks:  # a gaps layer without a check column: one purple rule
        ET.SubElement(rules, "rule", {"key": _rule_key("gaps", ""), "symbol": "0", "label": "服务缺口 gaps"})
        _symbol(symbols, "0", "fill", _fill(GAP_COLOUR, 70, _rgba(GAP_COLOUR), 0.4))
    _aliases(root, list(fields), aliases or {})
    return _finish(root, 2)


def demand_qml(breaks: Sequence[float] = (), fields: Sequence[str] = (), aliases: dict[str, str] | None = None) -> str:
    """Small points graduated by ``weight``: ``breaks`` are the class bounds, lowest first (one class without)."""
    root = _root()
    bounds = list(breaks) if len(breaks) >= 2 else [0.0, 1e12]
    r = _renderer(root, "graduatedSymbol", attr="weight", graduatedMethod="GraduatedColor")
    ranges = ET.SubElement(r, "ranges")
    symbols = ET.SubElement(r, "symbols")
    n = len(bounds) - 1
    for i in range(n):
        lo, hi = bounds[i], bounds[i + 1]
        colour = _DEMAND_RAMP[round(i * (len(_DEMAND_RAMP) - 1) / max(n - 1, 1))]
        label = f"{lo:g} – {hi:g} 户/人 weight" if n > 1 else "需求点 demand point"
        ET.SubElement(
            ranges,
            "range",
            {"lower": f"{lo:.6f}", "upper": f"{hi:.6f}", "symbol": str(i), "label": label, "render": "true"},
        )
        props = _marker(colour, 1.0)
        props["outline_style"] = "no"
        _symbol(symbols, str(i), "marker", props)
    _aliases(root, list(fields), aliases or {})
    return _finish(root, 0)


def greenspace_access_qml(fields: Sequence[str] = (), aliases: dict[str, str] | None = None) -> str:
    """Small dark-green points."""
    root = _root()
    r = _renderer(root, "singleSymbol")
    _symbol(ET.SubElement(r, "symbols"), "0", "marker", _marker(GREEN_OUTLINE, 1.2))
    _aliases(root, list(fields), aliases or {})
    return _finish(root, 0)


def proposals_qml(fields: Sequence[str] = (), aliases: dict[str, str] | None = None) -> str:
    """Large dark stars, labelled with their rank where the layer has one."""
    labels = "rank" in fields
    root = _root("Symbology|Labeling|Fields" if labels else "Symbology|Fields", labels)
    r = _renderer(root, "singleSymbol")
    props = _marker(_PROPOSAL, 5.0)
    props["name"] = "star"
    props["outline_width"] = "0.4"
    _symbol(ET.SubElement(r, "symbols"), "0", "marker", props)
    if labels:
        _labels(root, "rank")
        placement = root.find("labeling/settings/placement")
        if placement is not None:
            placement.set("placement", "0")  # around the point
    _aliases(root, list(fields), aliases or {})
    return _finish(root, 0)


def gaps_closed_qml(fields: Sequence[str] = (), aliases: dict[str, str] | None = None) -> str:
    """Semi-transparent green."""
    root = _root()
    r = _renderer(root, "singleSymbol")
    _symbol(ET.SubElement(r, "symbols"), "0", "fill", _fill(PASS_COLOUR, 130, _rgba(PASS_COLOUR), 0.5))
    _aliases(root, list(fields), aliases or {})
    return _finish(root, 2)


def units_qml(width: float, fields: Sequence[str] = (), aliases: dict[str, str] | None = None) -> str:
    """Dark outlines, no fill (a township, county or city over its communities)."""
    root = _root()
    r = _renderer(root, "singleSymbol")
    _symbol(ET.SubElement(r, "symbols"), "0", "fill", _fill("#ffffff", 0, _rgba(_OUTLINE_UNITS), width))
    _aliases(root, list(fields), aliases or {})
    return _finish(root, 2)


def compounds_qml(fields: Sequence[str] = (), aliases: dict[str, str] | None = None) -> str:
    """Light orange, outlined."""
    root = _root()
    r = _renderer(root, "singleSymbol")
    _symbol(ET.SubElement(r, "symbols"), "0", "fill", _fill(_COMPOUND, 110, _rgba(_COMPOUND), 0.3))
    _aliases(root, list(fields), aliases or {})
    return _finish(root, 2)


def streets_qml(fields: Sequence[str] = (), aliases: dict[str, str] | None = None) -> str:
    """Thin light grey lines."""
    root = _root()
    r = _renderer(root, "singleSymbol")
    _symbol(ET.SubElement(r, "symbols"), "0", "line", _line(_STREET, 0.3))
    _aliases(root, list(fields), aliases or {})
    return _finish(root, 1)


def greenspace_qml(fields: Sequence[str] = (), aliases: dict[str, str] | None = None) -> str:
    """Green."""
    root = _root()
    r = _renderer(root, "singleSymbol")
    _symbol(ET.SubElement(r, "symbols"), "0", "fill", _fill(GREEN_COLOUR, 170, _rgba(GREEN_OUTLINE), 0.3))
    _aliases(root, list(fields), aliases or {})
    return _finish(root, 2)


def facilities_qml(
    categories: list[tuple[str, str]], fields: Sequence[str] = (), aliases: dict[str, str] | None = None
) -> str:
    """Categorized by ``category_key``: ``categories`` is ``[(value, label)]``; others grey."""
    root = _root()
    r = _renderer(root, "categorizedSymbol", attr="category_key")
    cats = ET.SubElement(r, "categories")
    symbols = ET.SubElement(r, "symbols")
    for i, (value, label) in enumerate(categories):
        ET.SubElement(
            cats, "category", {"type": "string", "value": value, "symbol": str(i), "label": label, "render": "true"}
        )
        _symbol(symbols, str(i), "marker", _marker(PALETTE[i % len(PALETTE)]))
    k = len(categories)
    ET.SubElement(
        cats, "category", {"type": "string", "value": "", "symbol": str(k), "label": "其他 other", "render": "true"}
    )
    _symbol(symbols, str(k), "marker", _marker(_OTHER, 1.6))
    _aliases(root, list(fields), aliases or {})
    return _finish(root, 0)


# ------------------------------------------------------------------ SLD
_SLD_NS = {"sld": "http://www.opengis.net/sld", "se": "http://www.opengis.net/se", "ogc": "http://www.opengis.net/ogc"}


def _sld(layer: str, rules: list[dict[str, Any]], geometry: int) -> str:
    """A small SLD 1.1 document: one rule per class."""
    se, ogc, sld = "{http://www.opengis.net/se}", "{http://www.opengis.net/ogc}", "{http://www.opengis.net/sld}"
    for prefix, uri in _SLD_NS.items():
        ET.register_namespace(prefix, uri)
    root = ET.Element(f"{sld}StyledLayerDescriptor", {"version": "1.1.0"})
    named = ET.SubElement(root, f"{sld}NamedLayer")
    ET.SubElement(named, f"{se}Name").text = layer
    style = ET.SubElement(named, f"{sld}UserStyle")
    ET.SubElement(style, f"{se}Name").text = layer
    fts = ET.SubElement(style, f"{se}FeatureTypeStyle")
    for rule in rules:
        el = ET.SubElement(fts, f"{se}Rule")
        ET.SubElement(el, f"{se}Name").text = rule["name"]
        desc = ET.SubElement(el, f"{se}Description")
        ET.SubElement(desc, f"{se}Title").text = rule["name"]
        flt = rule.get("filter")
        if flt is not None:
            f = ET.SubElement(el, f"{ogc}Filter")
            _sld_filter(f, flt, ogc)
        colour, opacity = rule["colour"], rule.get("opacity", 1.0)
        if geometry == 0:
            sym = ET.SubElement(el, f"{se}PointSymbolizer")
            g = ET.SubElement(sym, f"{se}Graphic")
            mark = ET.SubElement(g, f"{se}Mark")
            ET.SubElement(mark, f"{se}WellKnownName").text = "circle"
            fill = ET.SubElement(mark, f"{se}Fill")
            ET.SubElement(fill, f"{se}SvgParameter", {"name": "fill"}).text = colour
            ET.SubElement(g, f"{se}Size").text = rule.get("size", "7")
        elif geometry == 1:
            sym = ET.SubElement(el, f"{se}LineSymbolizer")
            stroke = ET.SubElement(sym, f"{se}Stroke")
            ET.SubElement(stroke, f"{se}SvgParameter", {"name": "stroke"}).text = colour
            ET.SubElement(stroke, f"{se}SvgParameter", {"name": "stroke-width"}).text = "1"
        else:
            sym = ET.SubElement(el, f"{se}PolygonSymbolizer")
            fill = ET.SubElement(sym, f"{se}Fill")
            ET.SubElement(fill, f"{se}SvgParameter", {"name": "fill"}).text = colour
            ET.SubElement(fill, f"{se}SvgParameter", {"name": "fill-opacity"}).text = f"{opacity:.2f}"
            stroke = ET.SubElement(sym, f"{se}Stroke")
            ET.SubElement(stroke, f"{se}SvgParameter", {"name": "stroke"}).text = rule.get("stroke", "#232323")
            ET.SubElement(stroke, f"{se}SvgParameter", {"name": "stroke-width"}).text = "1"
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _sld_filter(parent: ET.Element, flt: tuple, ogc: str) -> None:
    op = flt[0]
    if op == "and":
        el = ET.SubElement(parent, f"{ogc}And")
        for sub in flt[1:]:
            _sld_filter(el, sub, ogc)
    elif op == "between":
        _, prop, lo, hi = flt
        el = ET.SubElement(parent, f"{ogc}PropertyIsBetween")
        ET.SubElement(el, f"{ogc}PropertyName").text = prop
        ET.SubElement(ET.SubElement(el, f"{ogc}LowerBoundary"), f"{ogc}Literal").text = str(lo)
        ET.SubElement(ET.SubElement(el, f"{ogc}UpperBoundary"), f"{ogc}Literal").text = str(hi)
    else:  # ("eq" | "gt", prop, value)
        _, prop, value = flt
        tag = {"eq": "PropertyIsEqualTo", "gt": "PropertyIsGreaterThan"}[op]
        el = ET.SubElement(parent, f"{ogc}{tag}")
        ET.SubElement(el, f"{ogc}PropertyName").text = prop
        ET.SubElement(el, f"{ogc}Literal").text = str(value)


def _sld_for(
    layer: str,
    categories: list[tuple[str, str]],
    checks: Sequence[GapCheck] = (),
    breaks: Sequence[float] = (),
) -> str:
    """The SLD document of one styled layer."""
    if layer == "communities":
        rules = [{"name": "无数据 no data", "colour": NO_DATA, "opacity": 0.8, "filter": ("eq", "checks_assessed", 0)}]
        lower = 0
        for upper, colour, label in FAILED_BINS:
            hi = 9999 if upper == float("inf") else int(upper)
            rules.append(
                {
                    "name": f"{label} 项未达标 checks failed",
                    "colour": colour,
                    "opacity": 0.8,
                    "filter": ("and", ("gt", "checks_assessed", 0), ("between", "checks_failed", lower, hi)),
                }
            )
            lower = hi + 1
        return _sld(layer, rules, 2)
    if layer == "gaps":
        rules = [
            {"name": label, "colour": colour, "opacity": 0.35, "stroke": colour, "filter": ("eq", "check", key)}
            for key, label, colour, _, _ in checks
        ]
        if not rules:
            rules = [{"name": "服务缺口 gap", "colour": GAP_COLOUR, "opacity": 0.27, "stroke": GAP_COLOUR}]
        return _sld(layer, rules, 2)
    if layer == "streets":
        return _sld(layer, [{"name": "路网 streets", "colour": _STREET}], 1)
    if layer == "greenspace_access":
        return _sld(layer, [{"name": "绿地出入口 green-space access", "colour": GREEN_OUTLINE, "size": "4"}], 0)
    if layer == "proposals":
        return _sld(layer, [{"name": "建议选址 proposed site", "colour": _PROPOSAL, "size": "14"}], 0)
    if layer == "gaps_closed":
        rule = {"name": "缺口已补 gap closed", "colour": PASS_COLOUR, "opacity": 0.5, "stroke": PASS_COLOUR}
        return _sld(layer, [rule], 2)
    if layer == "demand":
        bounds = list(breaks) if len(breaks) >= 2 else [0.0, 1e12]
        n = len(bounds) - 1
        rules = [
            {
                "name": f"{bounds[i]:g} – {bounds[i + 1]:g}",
                "colour": _DEMAND_RAMP[round(i * (len(_DEMAND_RAMP) - 1) / max(n - 1, 1))],
                "size": "3",
                "filter": ("between", "weight", bounds[i], bounds[i + 1]),
            }
            for i in range(n)
        ]
        return _sld(layer, rules, 0)
    if layer == "greenspace":
        rule = {"name": "绿地 green space", "colour": GREEN_COLOUR, "opacity": 0.67, "stroke": GREEN_OUTLINE}
        return _sld(layer, [rule], 2)
    if layer == "compounds":
        return _sld(layer, [{"name": "小区 compound", "colour": _COMPOUND, "opacity": 0.43, "stroke": _COMPOUND}], 2)
    if layer in _UNIT_WIDTH:
        rule = {"name": "单元 unit", "colour": "#ffffff", "opacity": 0.0, "stroke": _OUTLINE_UNITS}
        return _sld(layer, [rule], 2)
    rules = [
        {"name": label, "colour": PALETTE[i % len(PALETTE)], "filter": ("eq", "category_key", value)}
        for i, (value, label) in enumerate(categories)
    ]
    return _sld(layer, rules, 0)


# ------------------------------------------------------------------ the table
def layer_qml(
    layer: str,
    *,
    fields: Sequence[str] = (),
    aliases: dict[str, str] | None = None,
    categories: list[tuple[str, str]] | None = None,
    checks: Sequence[GapCheck] = (),
    breaks: Sequence[float] = (),
    name_field: str | None = None,
) -> str:
    """The QML document for one of :data:`STYLED_LAYERS`.

    ``categories`` (facilities) are ``[(value, label)]``; ``checks`` (gaps)
    :data:`GapCheck` tuples; ``breaks`` (demand) the weight class bounds;
    ``name_field`` (communities) the field the labels show.
    """
    if layer == "communities":
        return communities_qml(fields, aliases, name_field)
    if layer == "gaps":
        return gaps_qml(checks, fields, aliases)
    if layer == "greenspace":
        return greenspace_qml(fields, aliases)
    if layer == "facilities":
        return facilities_qml(categories or [], fields, aliases)
    if layer == "demand":
        return demand_qml(breaks, fields, aliases)
    if layer == "streets":
        return streets_qml(fields, aliases)
    if layer == "greenspace_access":
        return greenspace_access_qml(fields, aliases)
    if layer == "proposals":
        return proposals_qml(fields, aliases)
    if layer == "gaps_closed":
        return gaps_closed_qml(fields, aliases)
    if layer == "compounds":
        return compounds_qml(fields, aliases)
    if layer in _UNIT_WIDTH:
        return units_qml(_UNIT_WIDTH[layer], fields, aliases)
    raise ValueError(f"no style for layer {layer!r}")


def _gap_checks(
    con: sqlite3.Connection, assessment: Assessment | None, categories: list[tuple[str, str]]
) -> list[GapCheck]:
    """The checks in the gaps layer (:data:`GapCheck`), in the profile's order.

    A check's colour is its facility category's colour in the facilities style,
    so a kindergarten gap is drawn in the kindergartens' colour.
    """
    cols = {r[1] for r in con.execute('PRAGMA table_info("gaps")')}
    if "check" not in cols:
        return []
    wanted = [c for c in ("category", "name_zh", "name_en", "level", "radius_m") if c in cols]
    select = ", ".join(_quote(c) for c in ["check", *wanted])
    found: dict[str, dict[str, Any]] = {}
    for row in con.execute(f'SELECT {select} FROM "gaps" WHERE "check" IS NOT NULL ORDER BY "check"'):
        found.setdefault(str(row[0]), dict(zip(wanted, row[1:])))
    known = {c.key: c for c in assessment.checks} if assessment is not None else {}
    order = list(known)
    keys = sorted(found, key=lambda k: (order.index(k) if k in order else len(order), k))
    colour_of = {value: PALETTE[i % len(PALETTE)] for i, (value, _) in enumerate(categories)}
    spare = len(categories)
    out = []
    for key in keys:
        info = found[key]
        category = str(info.get("category") or "")
        if category not in colour_of:
            colour_of[category] = PALETTE[spare % len(PALETTE)]
            spare += 1
        zh, en = str(info.get("name_zh") or key), str(info.get("name_en") or "")
        label = f"{zh} {en}".strip() if zh != en else zh
        if info.get("radius_m") is not None:
            label = f"{label}（{float(info['radius_m']):g} m）"
        level = str(info.get("level") or "")
        check = known.get(key)
        level_label = " ".join(
            dict.fromkeys(x for x in (getattr(check, "level_name_zh", ""), getattr(check, "level_name_en", "")) if x)
        )
        out.append((key, label, colour_of[category], level, level_label or level or "其他检查 other checks"))
    # levels widest first (15, 10, 5 minutes), checks without a level last; the profile's order within one
    widest: dict[str, float] = {}
    for key, *_, level, _ in out:
        radius = found[key].get("radius_m")
        widest[level] = max(widest.get(level, 0.0), float(radius) if radius is not None and level else -1.0)
    return sorted(out, key=lambda c: -widest[c[3]])


def _weight_breaks(con: sqlite3.Connection) -> list[float]:
    """Class bounds of the demand layer's ``weight``: its quintiles, rounded, duplicates dropped."""
    cols = {r[1] for r in con.execute('PRAGMA table_info("demand")')}
    if "weight" not in cols:
        return []
    values = sorted(r[0] for r in con.execute('SELECT "weight" FROM "demand" WHERE "weight" IS NOT NULL'))
    if not values:
        return []
    n = len(values)
    raw = [values[0]] + [values[min(n - 1, (n * k) // 5)] for k in range(1, 5)] + [values[-1]]
    bounds: list[float] = []
    for v in raw:
        b = float(f"{float(v):.3g}")
        if not bounds or b > bounds[-1]:
            bounds.append(b)
    if len(bounds) == 1:
        bounds.append(bounds[0] + 1)
    bounds[0] = min(bounds[0], float(values[0]))
    bounds[-1] = max(bounds[-1], float(values[-1]))
    return bounds


def _name_field(fields: Sequence[str], assessment: Assessment | None) -> str | None:
    """The communities' name column (the assessment's ``name_column``, else ``name``), if the layer has it."""
    if assessment is not None and assessment.name_column and assessment.name_column in fields:
        return assessment.name_column
    return "name" if "name" in fields else None


def _facility_categories(con: sqlite3.Connection, assessment: Assessment | None) -> list[tuple[str, str]]:
    """(value, bilingual label) for the profile categories present in the facilities layer."""
    cols = [r[1] for r in con.execute('PRAGMA table_info("facilities")')]
    if "category_key" not in cols:
        return []
    where = ' WHERE "in_profile" = 1' if "in_profile" in cols else ""
    values = [
        r[0]
        for r in con.execute(f'SELECT DISTINCT "category_key" FROM "facilities"{where} ORDER BY "category_key"')
        if r[0] is not None
    ]
    out = []
    for v in values:
        zh, en = str(v), str(v)
        if assessment is not None:
            cat = assessment.profile.categories.get(str(v))
            if cat is not None:
                zh, en = cat.name_zh, cat.name_en
        out.append((str(v), f"{zh} {en}" if zh != en else zh))
    return out


def _fields_and_aliases(
    con: sqlite3.Connection, table: str, geom_col: str, assessment: Assessment | None, layer: str
) -> tuple[list[str], dict[str, str]]:
    """The table's fields (without its geometry) and their bilingual aliases."""
    info = list(con.execute(f'PRAGMA table_info("{table}")'))
    fields = [r[1] for r in info if r[1] != geom_col]
    aliases = {}
    if assessment is not None:
        for f in fields:
            header = column_header(f, assessment, layer=layer)
            if header != f:
                aliases[f] = header
    return fields, aliases


def add_qgis_styles(gpkg_path: str | Path, assessment: Assessment | None = None) -> list[str]:
    """Store default QGIS styles for the styled layers in ``gpkg_path``; return the layers styled.

    Layers the GeoPackage does not have (``greenspace`` without green-space
    input) are skipped. Running it twice replaces this package's styles and
    leaves any other style a user saved in place (no longer the default).

    Parameters
    ----------
    gpkg_path
        The shortfall GeoPackage (written by :func:`write_geopackage`).
    assessment
        Optional: the assessment, for bilingual category labels and field
        aliases (the styles work without it).
    """
    path = Path(gpkg_path)
    if not path.is_file():
        raise OutputError(
            "no GeoPackage to add styles to",
            file=path,
            fix="write the GeoPackage first (write_geopackage / Assessment.save)",
        )
    try:
        con = sqlite3.connect(path)
    except sqlite3.Error as exc:  # pragma: no cover - unreadable file
        raise OutputError(f"cannot open the GeoPackage ({exc})", file=path) from None
    styled: list[str] = []
    try:
        with con:
            geoms = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
            _ensure_table(con)
            for layer in STYLED_LAYERS:
                if layer not in geoms:
                    continue
                fields, aliases = _fields_and_aliases(con, layer, geoms[layer], assessment, layer)
                cats = _facility_categories(con, assessment) if layer in ("facilities", "gaps") else []
                checks = _gap_checks(con, assessment, cats) if layer == "gaps" else []
                breaks = _weight_breaks(con) if layer == "demand" else []
                qml = layer_qml(
                    layer,
                    fields=fields,
                    aliases=aliases,
                    categories=cats,
                    checks=checks,
                    breaks=breaks,
                    name_field=_name_field(fields, assessment) if layer == "communities" else None,
                )
                sld = _sld_for(layer, cats, checks, breaks)
                con.execute('DELETE FROM layer_styles WHERE f_table_name = ? AND "styleName" = ?', (layer, STYLE_NAME))
                con.execute('UPDATE layer_styles SET "useAsDefault" = 0 WHERE f_table_name = ?', (layer,))
                con.execute(
                    "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                    '"styleName", "styleQML", "styleSLD", "useAsDefault", description, owner, ui, update_time) '
                    "VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, 'servicecircle', '', NULL)",
                    (layer, geoms[layer], STYLE_NAME, qml, sld, _DESCRIPTIONS[layer]),
                )
                styled.append(layer)
            _update_counts(con)
    except sqlite3.Error as exc:
        raise OutputError(
            f"cannot write QGIS styles into the GeoPackage ({exc})",
            file=path,
            fix="close the GeoPackage in QGIS and check the file is writable",
        ) from None
    finally:
        con.close()
    return styled


_DESCRIPTIONS = {
    "communities": "社区按未达标项数分级 communities graduated by checks failed",
    "gaps": "服务缺口，按检查项分色 gaps, one colour per check",
    "facilities": "设施按标准类别分类 facilities categorized by profile category",
    "demand": "需求点按权重分级 demand points graduated by weight",
    "greenspace": "绿地公园 green spaces",
    "streets": "步行路网（浅灰） walking network, light grey",
    "greenspace_access": "绿地出入口 green-space access points",
    "proposals": "建议选址（星形，按序号标注） proposed sites, stars labelled with their rank",
    "gaps_closed": "方案补上的缺口（绿色） gaps the proposals close, green",
    "compounds": "小区（浅橙） residential compounds, light orange",
    "units_township": "街道（乡镇）边界 township outlines",
    "units_county": "区县边界 county outlines",
    "units_city": "市界 city outline",
}


def _ensure_table(con: sqlite3.Connection) -> None:
    """Create ``layer_styles`` and register it as an attribute table, as QGIS does through GDAL."""
    exists = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'layer_styles'").fetchone()
    if not exists:
        con.execute(_DDL)
    registered = con.execute("SELECT 1 FROM gpkg_contents WHERE table_name = 'layer_styles'").fetchone()
    if not registered:
        con.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
            "VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS layer styles', ?)",
            (gpkg_time(),),  # the output timestamp, not the clock: reruns give the same file
        )


def _update_counts(con: sqlite3.Connection) -> None:
    """Keep GDAL's feature-count cache (``gpkg_ogr_contents``) right for the styles table."""
    has = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gpkg_ogr_contents'").fetchone()
    if not has:
        return
    n = con.execute("SELECT COUNT(*) FROM layer_styles").fetchone()[0]
    con.execute("DELETE FROM gpkg_ogr_contents WHERE table_name = 'layer_styles'")
    con.execute("INSERT INTO gpkg_ogr_contents (table_name, feature_count) VALUES ('layer_styles', ?)", (n,))
