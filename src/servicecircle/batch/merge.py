"""The batch's merged outputs: every area's layers tagged with the area, in one GeoPackage and one GeoParquet dataset.

Written from the areas' own GeoPackages (so the merged rows are exactly the
areas' rows, plus ``area_id`` and ``area_name``), each output staged beside its
final name and moved into place when complete:

``batch.gpkg``
    ``areas`` (one polygon per area, the union of its communities, with its
    batch summary row), ``communities``, ``gaps``, ``scorecard``, ``summary``
    (each area's checks) and ``batch_summary`` (every area, failed ones too).
``merged/<layer>/area=<id>/part-0.parquet``
    The same four layers as a GeoParquet dataset partitioned by area (hive
    style: ``pyarrow.dataset``, DuckDB, Spark and ``dask_geopandas`` read the
    folder as one table).
``batch_summary.csv``
    One row per area: status, error, time, communities, pass rates, shortfall.
``areas_map.html``
    The areas coloured by their scorecard, one self-contained page (no network).
"""

from __future__ import annotations

import html
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import settings
from .manifest import Area

__all__ = ["merge_outputs", "MERGED_LAYERS", "SUMMARY_COLUMNS", "areas_map_html"]

#: the layers of each area's GeoPackage that are merged
MERGED_LAYERS = ("communities", "gaps", "scorecard", "summary")
#: the batch summary's columns, in order (a column an area lacks is empty)
SUMMARY_COLUMNS = (
    "area_id",
    "area_name",
    "status",
    "error",
    "seconds",
    "communities",
    "checks",
    "check_pass_pct",
    "communities_all_pass",
    "scorecard_targets",
    "scorecard_pass_pct",
    "shortfall_m2",
    "facilities",
    "warnings",
    "cut",
    "cut_margin_m",
    "cut_radius_m",
    "network_nodes",
    "network_nodes_whole",
    "network_km",
    "network_km_whole",
    "worker",
    "outputs",
)


def merge_outputs(out: Path, records: list[dict[str, Any]], areas: list[Area]) -> tuple[pd.DataFrame, dict[str, Path]]:
    """Write the merged outputs of a batch into ``out``; (the batch summary, output name → path)."""
    import pyogrio

    from ..outputs.geopackage import write_geopackage

    summary = pd.DataFrame(records)
    for col in SUMMARY_COLUMNS:
        if col not in summary:
            summary[col] = None
    names = {a.id: a.name for a in areas}
    summary["area_name"] = summary["area_id"].map(names)
    summary["outputs"] = [str(out / "areas" / i) for i in summary["area_id"]]
    summary = summary[list(SUMMARY_COLUMNS)]
    ok = summary[summary["status"].isin(["done", "unchanged"])]
    crs = settings.output_crs
    merged: dict[str, pd.DataFrame] = {}
    for layer in MERGED_LAYERS:
        parts = []
        for area_id in ok["area_id"]:
            frame = pyogrio.read_dataframe(out / "areas" / area_id / "shortfall.gpkg", layer=layer)
            if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None:
                crs = frame.crs
            frame.insert(0, "area_name", names[area_id])
            frame.insert(0, "area_id", area_id)
            parts.append(frame)
        if parts:
            frame = pd.concat(parts, ignore_index=True)
            if isinstance(parts[0], gpd.GeoDataFrame) and parts[0].geometry.name in frame:
                frame = gpd.GeoDataFrame(frame, geometry=parts[0].geometry.name, crs=parts[0].crs)
            merged[layer] = frame
    polygons = _area_polygons(merged.get("communities"), summary, crs)
    outputs: dict[str, Path] = {}
    gpkg = out / "batch.gpkg"
    tmp = out / f".tmp-batch-{uuid.uuid4().hex[:8]}.gpkg"
    try:
        write_geopackage({"areas": polygons, **merged, "batch_summary": summary}, tmp, crs)
        os.replace(tmp, gpkg)
    finally:
        if tmp.exists():
            tmp.unlink()
    outputs["geopackage"] = gpkg
    outputs["parquet"] = _write_parquet(out / "merged", merged)
    csv = out / "batch_summary.csv"
    tmp_csv = out / f".tmp-batch-{uuid.uuid4().hex[:8]}.csv"
    summary.to_csv(tmp_csv, index=False, encoding="utf-8-sig")  # Excel opens it with the Chinese names right
    os.replace(tmp_csv, csv)
    outputs["summary"] = csv
    page = out / "areas_map.html"
    tmp_page = out / f".tmp-batch-{uuid.uuid4().hex[:8]}.html"
    tmp_page.write_text(areas_map_html(polygons), encoding="utf-8")
    os.replace(tmp_page, page)
    outputs["map"] = page
    return summary, outputs


def _area_polygons(communities: pd.DataFrame | None, summary: pd.DataFrame, crs: Any) -> gpd.GeoDataFrame:
    """One polygon per area (its communities merged; none for an area without outputs) with its summary row."""
    import shapely

    geoms: dict[str, Any] = {}
    if communities is not None and len(communities):
        for area_id, part in communities.groupby("area_id", sort=False):
            geoms[str(area_id)] = shapely.union_all(shapely.make_valid(part.geometry.to_numpy()))
    frame = summary.copy()
    return gpd.GeoDataFrame(frame, geometry=[geoms.get(str(i)) for i in frame["area_id"]], crs=crs)


def _write_parquet(root: Path, merged: dict[str, pd.DataFrame]) -> Path:
    """Each layer as a GeoParquet dataset partitioned by area, built beside ``root`` and swapped in."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    stage = root.with_name(f".tmp-{root.name}-{uuid.uuid4().hex[:8]}")
    try:
        for layer, frame in merged.items():
            table, meta = _arrow(frame)
            ids = np.asarray(frame["area_id"].astype(str))
            for area_id in pd.unique(ids):
                part = table.filter(pa.array(ids == area_id))
                folder = stage / layer / f"area={area_id}"
                folder.mkdir(parents=True)
                pq.write_table(part.replace_schema_metadata(meta), folder / "part-0.parquet")
        stage.mkdir(parents=True, exist_ok=True)
        old = None
        if root.exists():
            old = root.with_name(f".old-{root.name}-{uuid.uuid4().hex[:8]}")
            os.replace(root, old)
        os.replace(stage, root)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return root


def _arrow(frame: pd.DataFrame) -> tuple[Any, dict[bytes, bytes]]:
    """A frame as one Arrow table (one schema for every partition) and its GeoParquet 1.0 metadata."""
    import pyarrow as pa

    if not isinstance(frame, gpd.GeoDataFrame):
        table = pa.Table.from_pandas(frame, preserve_index=False)
        return table, dict(table.schema.metadata or {})
    name = frame.geometry.name
    plain = pd.DataFrame(frame.drop(columns=name))
    plain[name] = frame.geometry.to_wkb()
    table = pa.Table.from_pandas(plain, preserve_index=False)
    kinds = sorted({str(t) for t in frame.geometry.geom_type.dropna().unique()})
    geo = {
        "version": "1.0.0",
        "primary_column": name,
        "columns": {
            name: {
                "encoding": "WKB",
                "geometry_types": kinds,
                "crs": None if frame.crs is None else frame.crs.to_json_dict(),
            }
        },
    }
    meta = dict(table.schema.metadata or {})
    meta[b"geo"] = json.dumps(geo).encode()
    return table, meta


# ------------------------------------------------------------------------------------------------ the map
_COLOURS = ((0, "#d73027"), (25, "#fc8d59"), (50, "#fee08b"), (75, "#91cf60"), (100, "#1a9850"))


def _colour(pct: Any) -> str:
    if pct is None or pct != pct:
        return "#bdbdbd"
    for bound, colour in reversed(_COLOURS):
        if float(pct) >= bound:
            return colour
    return _COLOURS[0][1]


def areas_map_html(areas: gpd.GeoDataFrame, title: str = "servicecircle batch 批量评估") -> str:
    """One self-contained HTML page (inline SVG, no script, no tiles): the areas coloured by scorecard pass rate.

    Every area is a polygon with a tooltip (name, status, pass rates, its error
    if it failed); failed areas and areas without a scorecard are grey; a table
    below lists every area.
    """
    import shapely

    drawn = areas[areas.geometry.notna() & ~areas.geometry.is_empty] if len(areas) else areas
    paths = []
    width, height = 900.0, 640.0
    if len(drawn):
        geo = drawn.to_crs(4326) if drawn.crs is not None and not drawn.crs.is_geographic else drawn
        x0, y0, x1, y1 = geo.total_bounds
        k = float(np.cos(np.radians((y0 + y1) / 2)))
        span_x, span_y = max((x1 - x0) * k, 1e-9), max(y1 - y0, 1e-9)
        scale = min((width - 20) / span_x, (height - 20) / span_y)
        width, height = span_x * scale + 20, span_y * scale + 20
        tolerance = 0.5 / scale  # half a pixel
        for (_, row), g in zip(geo.iterrows(), geo.geometry):
            g = shapely.simplify(g, tolerance)
            rings = []
            for poly in getattr(g, "geoms", [g]):
                if poly.geom_type != "Polygon":
                    continue
                for ring in [poly.exterior, *poly.interiors]:
                    xy = np.asarray(ring.coords)
                    px = 10 + (xy[:, 0] - x0) * k * scale
                    py = 10 + (y1 - xy[:, 1]) * scale
                    rings.append("M" + "L".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py)) + "Z")
            tip = _tooltip(row)
            paths.append(
                f'<path d="{" ".join(rings)}" fill="{_colour(row.get("scorecard_pass_pct"))}" '
                f'fill-rule="evenodd" stroke="#333" stroke-width="0.8"><title>{html.escape(tip)}</title></path>'
            )
    legend = (
        "".join(f'<span><i style="background:{c}"></i>≥ {b}%</span>' for b, c in _COLOURS)
        + '<span><i style="background:#bdbdbd"></i>failed or no scorecard 失败/无数据</span>'
    )
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(_cell(r.get(c)))}</td>"
            for c in (
                "area_id",
                "area_name",
                "status",
                "communities",
                "check_pass_pct",
                "scorecard_pass_pct",
                "shortfall_m2",
                "cut_margin_m",
                "error",
            )
        )  # fmt: skip
        + "</tr>"
        for _, r in areas.iterrows()
    )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("id", "name 名称", "status 状态", "communities 社区", "checks passed % 检查达标率",
                  "scorecard % 指标达标率", "floor-area shortfall m² 面积缺口", "cut margin m 裁切范围", "error 错误")
    )  # fmt: skip
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:16px;color:#222}}
svg{{background:#f7f7f7;border:1px solid #ccc}} path:hover{{stroke-width:2.5}}
.legend span{{margin-right:14px;font-size:13px}} .legend i{{display:inline-block;width:14px;height:14px;
margin-right:4px;vertical-align:middle;border:1px solid #666}}
table{{border-collapse:collapse;margin-top:14px;font-size:13px}} td,th{{border:1px solid #ccc;padding:3px 6px}}
</style></head><body>
<h2>{html.escape(title)}</h2>
<p>Areas coloured by the share of their scorecard targets met 按指标达标率着色 (hover for details 悬停查看).</p>
<div class="legend">{legend}</div>
<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}">{"".join(paths)}</svg>
<table><tr>{head}</tr>{rows}</table>
</body></html>
"""


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def _tooltip(row: Any) -> str:
    text = f"{row.get('area_name')} ({row.get('area_id')}): {row.get('status')}"
    if row.get("status") == "failed":
        return f"{text}\n{row.get('error')}"
    return (
        f"{text}\n{_cell(row.get('communities'))} communities, checks passed {_cell(row.get('check_pass_pct'))}%, "
        f"scorecard {_cell(row.get('scorecard_pass_pct'))}%"
    )
