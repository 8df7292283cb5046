"""A QGIS project beside the shortfall GeoPackage: ``shortfall.qgz``, every layer styled and grouped.

:func:`write_qgis_project` writes the project as QGIS itself stores it (a
``.qgs`` XML document zipped into a ``.qgz``), by hand: QGIS is not needed to
write it. Double-clicking ``shortfall.qgz`` opens, in QGIS 3.22 or later:

======================  ============================================================
group                   layers
======================  ============================================================
设施 Facilities          ``facilities`` (one colour per category)
缺口 Gaps                ``gaps``: a rule per life-circle level, in it a rule per
                        check, each switchable in the layer panel; the project
                        opens with one check shown, the one whose gaps
                        (those smaller than their community) cover the most ground (all of
                        them at once overlap into one brown)
需求 Demand              ``demand`` (small points by weight; off at opening)
路网 Streets             ``streets`` (the walking network, light grey, over the
                        communities' colours)
绿地 Green spaces        ``greenspace`` (when there is one)
社区 Communities         ``communities`` (by checks failed, labelled with names)
======================  ============================================================

and any other spatial layer (a scenario's ``proposals`` ...) in a group of its
own name. Each layer carries the default style stored in the GeoPackage's
``layer_styles`` table (:mod:`servicecircle.outputs.qgis_styles`), so the
project and the GeoPackage dragged in alone look the same. The layers point to
the GeoPackage by a relative path (``./shortfall.gpkg``): the folder can be
moved or zipped and sent whole. The project holds no time, and no random
identifier: the same GeoPackage gives the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

from ..errors import OutputError
from ..schema import LAYERS

__all__ = ["write_qgis_project", "project_xml", "PROJECT_GROUPS"]

#: The QGIS version the project says it was written by (the oldest it is tested with).
QGIS_VERSION = "3.22.16-Białowieża"
_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
#: (group name, layers in it, drawn on top first), and which layers open switched off.
PROJECT_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("设施 Facilities", ("proposals", "facilities")),
    ("缺口 Gaps", ("gaps_closed", "gaps")),
    ("需求 Demand", ("demand", "greenspace_access")),
    ("路网 Streets", ("streets",)),
    ("绿地 Green spaces", ("greenspace",)),
    ("单元 Units", ("compounds", "units_township", "units_county", "units_city")),
    ("社区 Communities", ("communities",)),
)
#: thousands of points, and the unit polygons over the communities: one click away, not in the way
_HIDDEN = frozenset({"demand", "greenspace_access", "compounds", "units_township", "units_county", "units_city"})
_GEOMETRY = {0: "Point", 1: "Line", 2: "Polygon"}
_WKB_TYPES = {
    "POINT": ("Point", "Point"),
    "MULTIPOINT": ("Point", "MultiPoint"),
    "LINESTRING": ("Line", "LineString"),
    "MULTILINESTRING": ("Line", "MultiLineString"),
    "POLYGON": ("Polygon", "Polygon"),
    "MULTIPOLYGON": ("Polygon", "MultiPolygon"),
}


def _layer_id(name: str) -> str:
    """A layer id as QGIS makes them (name + 36 characters), the same on every run."""
    digest = hashlib.sha1(f"servicecircle:{name}".encode()).hexdigest()
    return f"{name}_{digest[:8]}_{digest[8:12]}_{digest[12:16]}_{digest[16:20]}_{digest[20:32]}"


def _label(name: str) -> str:
    layer = LAYERS.get(name)
    return layer.label if layer is not None else name


def _read_package(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The spatial layers of the GeoPackage (in its order) and its CRS."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT c.table_name, g.column_name, g.geometry_type_name, c.srs_id, c.min_x, c.min_y, c.max_x, c.max_y "
            "FROM gpkg_contents c JOIN gpkg_geometry_columns g ON g.table_name = c.table_name "
            "WHERE c.data_type = 'features' ORDER BY c.rowid"
        ).fetchall()
        has_styles = bool(
            con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'layer_styles'").fetchone()
        )
        layers = []
        srs_ids = []
        for name, geom_col, gtype, srs_id, *extent in rows:
            qml = None
            if has_styles:
                found = con.execute(
                    'SELECT "styleQML" FROM layer_styles WHERE f_table_name = ? AND "useAsDefault" = 1 '
                    "ORDER BY id DESC LIMIT 1",
                    (name,),
                ).fetchone()
                qml = found[0] if found else None
            if any(v is None for v in extent):
                rtree = f"rtree_{name}_{geom_col}"
                try:
                    extent = list(
                        con.execute(f'SELECT min(minx), min(miny), max(maxx), max(maxy) FROM "{rtree}"').fetchone()
                    )
                except sqlite3.Error:
                    extent = [None] * 4
            count = con.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
            layer = {"name": name, "geometry_type": str(gtype).upper(), "extent": extent, "qml": qml, "count": count}
            columns = {r[1] for r in con.execute(f'PRAGMA table_info("{name}")')}
            if name == "gaps" and "check" in columns:
                # the ground a check's partial gaps cover: a gap that is a whole community shows no pattern
                size = (
                    'SUM(CASE WHEN "gap_area_m2" < 0.95 * "community_area_m2" THEN "gap_area_m2" ELSE 0 END)'
                    if {"gap_area_m2", "community_area_m2"} <= columns
                    else "COUNT(*)"
                )
                layer["checks"] = {
                    str(k): n or 0 for k, n in con.execute(f'SELECT "check", {size} FROM "gaps" GROUP BY "check"')
                }
            if name == "proposals" and "check" in columns:  # a scenario: its gaps open on its check
                layer["checks"] = {str(k): 0 for (k,) in con.execute('SELECT DISTINCT "check" FROM "proposals"')}
            layers.append(layer)
            srs_ids.append(srs_id)
        srs: dict[str, Any] = {"srs_id": srs_ids[0] if srs_ids else 4326}
        found = con.execute(
            "SELECT srs_name, organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys "
            "WHERE srs_id = ?",
            (srs["srs_id"],),
        ).fetchone()
        if found:
            srs.update(zip(("name", "organization", "code", "wkt"), found))
    finally:
        con.close()
    return layers, srs


def _spatialrefsys(parent: ET.Element, srs: dict[str, Any]) -> None:
    """The CRS as QGIS writes it; QGIS reads it back from ``authid`` (else the WKT)."""
    el = ET.SubElement(parent, "spatialrefsys", {"nativeFormat": "Wkt"})
    ET.SubElement(el, "wkt").text = str(srs.get("wkt") or "")
    ET.SubElement(el, "proj4").text = ""
    ET.SubElement(el, "srsid").text = "0"
    ET.SubElement(el, "srid").text = str(srs.get("code") or srs["srs_id"])
    org = str(srs.get("organization") or "EPSG").upper()
    ET.SubElement(el, "authid").text = f"{org}:{srs.get('code') or srs['srs_id']}"
    ET.SubElement(el, "description").text = str(srs.get("name") or "")
    ET.SubElement(el, "projectionacronym").text = ""
    ET.SubElement(el, "ellipsoidacronym").text = ""
    ET.SubElement(el, "geographicflag").text = "true" if _geographic(srs) else "false"


def _geographic(srs: dict[str, Any]) -> bool:
    wkt = str(srs.get("wkt") or "").lstrip().upper()
    return wkt.startswith(("GEOGCS", "GEOGCRS", "GEODCRS"))


def _extent(parent: ET.Element, tag: str, box: list[float]) -> None:
    el = ET.SubElement(parent, tag)
    for k, v in zip(("xmin", "ymin", "xmax", "ymax"), box):
        ET.SubElement(el, k).text = repr(float(v))


def _union(boxes: list[list[Any]]) -> list[float]:
    good = [b for b in boxes if all(v is not None for v in b)]
    if not good:
        return [-180.0, -90.0, 180.0, 90.0]
    box = [min(b[0] for b in good), min(b[1] for b in good), max(b[2] for b in good), max(b[3] for b in good)]
    dx, dy = (box[2] - box[0]) * 0.03, (box[3] - box[1]) * 0.03  # a margin, as "zoom to layer" leaves
    return [box[0] - dx, box[1] - dy, box[2] + dx, box[3] + dy]


def _maplayer(parent: ET.Element, layer: dict[str, Any], source: str, srs: dict[str, Any]) -> None:
    """One ``<maplayer>``: the data source, the CRS and the stored QML style's elements."""
    geometry, wkb = _WKB_TYPES.get(layer["geometry_type"], ("Unknown", "Unknown"))
    el = ET.SubElement(
        parent,
        "maplayer",
        {
            "type": "vector",
            "geometry": geometry,
            "wkbType": wkb,
            "autoRefreshEnabled": "0",
            "autoRefreshTime": "0",
            "refreshOnNotifyEnabled": "0",
            "refreshOnNotifyMessage": "",
            "simplifyDrawingHints": "1",
            "simplifyDrawingTol": "1",
            "simplifyLocal": "1",
            "simplifyAlgorithm": "0",
            "simplifyMaxScale": "1",
            "hasScaleBasedVisibilityFlag": "0",
            "minScale": "100000000",
            "maxScale": "0",
            "readOnly": "0",
            "styleCategories": "AllStyleCategories",
            "labelsEnabled": "0",
        },
    )
    if all(v is not None for v in layer["extent"]):
        _extent(el, "extent", layer["extent"])
    ET.SubElement(el, "id").text = _layer_id(layer["name"])
    ET.SubElement(el, "datasource").text = source
    ET.SubElement(el, "keywordList").append(ET.Element("value"))
    ET.SubElement(el, "layername").text = _label(layer["name"])
    _spatialrefsys(ET.SubElement(el, "srs"), srs)
    ET.SubElement(el, "provider", {"encoding": "UTF-8"}).text = "ogr"
    ET.SubElement(el, "flags")
    if layer["qml"]:
        try:
            style = ET.fromstring(layer["qml"])
        except ET.ParseError:  # a user's broken style: the layer opens with QGIS's default
            style = None
        if style is not None and style.tag == "qgis":
            if layer["name"] == "gaps":
                _show_one_rule(style, layer.get("checks", {}), layer.get("scenario_checks", ()))
            el.set("labelsEnabled", style.get("labelsEnabled", "0"))
            for child in style:
                if child.tag not in ("layerGeometryType",):
                    el.append(child)
    ET.SubElement(el, "layerGeometryType").text = str(
        {"Point": 0, "Line": 1, "Polygon": 2}.get(geometry, 3)  # QgsWkbTypes::GeometryType
    )


def _show_one_rule(style: ET.Element, counts: dict[str, float], prefer: Any = ()) -> None:
    """A rule-based style opens with one check shown: a scenario's check (``prefer``), else the one
    whose partial gaps cover the most ground.

    Every other check's rule is switched off (``checkstate="0"``), one click away in the layer panel.
    """
    rules = style.find("renderer-v2/rules")
    if rules is None:
        return
    leaves = [r for r in rules.iter("rule") if r.find("rule") is None and r.get("filter") != "ELSE"]
    if not leaves:
        return

    def gaps(rule: ET.Element) -> float:
        m = re.fullmatch(r"\"check\" = '((?:[^']|'')*)'", rule.get("filter", ""))
        return counts.get(m.group(1).replace("''", "'"), 0) if m else 0

    def check(rule: ET.Element) -> str | None:
        m = re.fullmatch(r"\"check\" = '((?:[^']|'')*)'", rule.get("filter", ""))
        return m.group(1).replace("''", "'") if m else None

    preferred = [r for r in leaves if check(r) in set(prefer)]
    shown = preferred[0] if preferred else max(leaves, key=gaps)  # max keeps the first of equals
    for rule in leaves:
        if rule is not shown:
            rule.set("checkstate", "0")


def project_xml(gpkg_path: str | Path, project_path: str | Path, *, title: str | None = None) -> str:
    """The ``.qgs`` document of :func:`write_qgis_project` (the layers' paths relative to ``project_path``)."""
    gpkg_path, project_path = Path(gpkg_path), Path(project_path)
    layers, srs = _read_package(gpkg_path)
    rel = os.path.relpath(gpkg_path.resolve(), project_path.resolve().parent).replace(os.sep, "/")
    if not rel.startswith("."):
        rel = f"./{rel}"
    title = title or f"servicecircle {gpkg_path.stem}"
    root = ET.Element(
        "qgis", {"projectname": title, "version": QGIS_VERSION, "saveUser": "", "saveUserFull": "", "saveDateTime": ""}
    )
    ET.SubElement(root, "homePath", {"path": ""})
    ET.SubElement(root, "title").text = title
    ET.SubElement(root, "autotransaction", {"active": "0"})
    ET.SubElement(root, "evaluateDefaultValues", {"active": "0"})
    ET.SubElement(root, "trust", {"active": "0"})
    _spatialrefsys(ET.SubElement(root, "projectCrs"), srs)

    by_name = {lyr["name"]: lyr for lyr in layers}
    if "gaps" in by_name and "proposals" in by_name:
        by_name["gaps"]["scenario_checks"] = tuple(by_name["proposals"].get("checks", {}))
    placed = {n for _, names in PROJECT_GROUPS for n in names}
    groups = [(g, [n for n in names if n in by_name]) for g, names in PROJECT_GROUPS]
    others = [(_label(n), [n]) for n in by_name if n not in placed]
    order = others + groups  # a scenario's own layers on top
    order = [(g, names) for g, names in order if names]

    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    for group, names in order:
        g = ET.SubElement(tree, "layer-tree-group", {"name": group, "checked": "Qt::Checked", "expanded": "1"})
        ET.SubElement(g, "customproperties")
        for n in names:
            ET.SubElement(
                g,
                "layer-tree-layer",
                {
                    "id": _layer_id(n),
                    "name": _label(n),
                    "source": f"{rel}|layername={n}",
                    "providerKey": "ogr",
                    "checked": "Qt::Unchecked" if n in _HIDDEN else "Qt::Checked",
                    "expanded": "1" if n == "gaps" else "0",
                    "legend_exp": "",
                },
            )
    drawn = [n for _, names in order for n in names]  # top first

    canvas = ET.SubElement(root, "mapcanvas", {"name": "theMapCanvas", "annotationsVisible": "1"})
    ET.SubElement(canvas, "units").text = "degrees" if _geographic(srs) else "meters"
    main = [by_name[n]["extent"] for n in ("communities",) if n in by_name] or [lyr["extent"] for lyr in layers]
    _extent(canvas, "extent", _union(main))  # where QGIS opens
    ET.SubElement(canvas, "rotation").text = "0"
    _spatialrefsys(ET.SubElement(canvas, "destinationsrs"), srs)
    ET.SubElement(canvas, "rendermaptile").text = "0"

    view = ET.SubElement(root, "ProjectViewSettings", {"UseProjectScales": "0"})
    ET.SubElement(view, "Scales")
    box = _union(main)
    default = ET.SubElement(
        view, "DefaultViewExtent", {k: repr(float(v)) for k, v in zip(("xmin", "ymin", "xmax", "ymax"), box)}
    )
    _spatialrefsys(default, srs)

    order_el = ET.SubElement(root, "layerorder")
    for n in drawn:
        ET.SubElement(order_el, "layer", {"id": _layer_id(n)})
    project_layers = ET.SubElement(root, "projectlayers")
    for n in drawn:
        _maplayer(project_layers, by_name[n], f"{rel}|layername={n}", srs)

    props = ET.SubElement(root, "properties")
    paths = ET.SubElement(props, "Paths")
    ET.SubElement(paths, "Absolute", {"type": "bool"}).text = "false"
    measure = ET.SubElement(props, "Measure")
    ET.SubElement(measure, "Ellipsoid", {"type": "QString"}).text = "EPSG:7044" if srs.get("code") == 4490 else "NONE"
    ET.indent(root, space="  ")
    return _DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"


def write_qgis_project(gpkg_path: str | Path, path: str | Path, *, title: str | None = None) -> Path:
    """Write a QGIS project (``.qgz``) that opens every spatial layer of ``gpkg_path``, styled and grouped.

    The project file is meant to stay beside the GeoPackage (as
    ``save_assessment`` writes them): the layers' paths are relative to it.
    Deterministic: a zip entry with a fixed time, compressed the same each run.

    Parameters
    ----------
    gpkg_path
        The shortfall GeoPackage, already styled (:func:`servicecircle.outputs.qgis_styles.add_qgis_styles`).
    path
        The ``.qgz`` to write (replaced if it exists).
    title
        The project title (default ``servicecircle <gpkg name>``).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    try:
        xml = project_xml(gpkg_path, path, title=title)
    except sqlite3.Error as exc:
        raise OutputError(
            f"cannot read the GeoPackage for the QGIS project ({exc})",
            file=gpkg_path,
            fix="write the GeoPackage first (write_geopackage / Assessment.save)",
        ) from None
    info = zipfile.ZipInfo(path.with_suffix(".qgs").name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    try:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr(info, xml.encode("utf-8"), compresslevel=6)
    except OSError as exc:
        raise OutputError(
            f"cannot write the QGIS project ({exc.strerror})", file=path, fix="check the folder is writable"
        ) from None
    return path
