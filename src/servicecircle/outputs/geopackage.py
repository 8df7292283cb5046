"""The shortfall GeoPackage: every input feature and attribute, plus the results.

Layers (see ``docs/geopackage.md`` for the full schema):

``communities``
    every boundary with every input attribute and the per-check results;
``demand``
    every demand point with its attributes, ``snap_m`` and ``dist_<category>``;
``facilities``
    every facility with its attributes, ``category_key`` and ``snap_m``;
``gaps``
    the uncovered part of each community per failed check;

and attribute tables ``summary`` (one row per check), ``scorecard``, ``checks``
(every threshold used and its source), ``warnings``, ``fields`` (every column's
Chinese and English name and unit) and ``run`` (parameters).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..coords import to_crs
from ..errors import OutputError

__all__ = ["assessment_layers", "write_geopackage", "clean_for_export"]


def clean_for_export(frame: pd.DataFrame) -> pd.DataFrame:
    """Column types GeoPackage can hold: nullable booleans and mixed objects become text/ints."""
    out = frame.copy()
    geom = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for col in out.columns:
        if col == geom:
            continue
        s = out[col]
        if isinstance(s.dtype, pd.BooleanDtype):
            out[col] = s.astype("Int8")
        elif s.dtype == object:
            kinds = {type(v) for v in s.dropna()}
            if kinds and not kinds <= {str}:
                if kinds <= {bool, np.bool_}:
                    out[col] = s.astype("boolean").astype("Int8")
                else:
                    out[col] = s.map(
                        lambda v: None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v)
                    )
    return out


def _checks_table(a) -> pd.DataFrame:
    """Every check, its threshold and target, where they come from, and its columns."""
    rows = []
    for c in a.checks:
        rows.append(
            {
                "check": c.key,
                "kind": c.kind,
                "category": c.category,
                "name_zh": c.name_zh,
                "name_en": c.name_en,
                "level": c.level,
                "level_zh": c.level_name_zh,
                "level_en": c.level_name_en,
                "radius_m": c.radius_m,
                "target": c.target,
                "target_unit": c.score_unit,
                "confirmed": c.confirmed,
                "source": c.source,
                "pass_column": c.pass_col,
                "score_column": c.score_col,
                "columns": ", ".join(c.columns),
            }
        )
    return pd.DataFrame(rows)


def field_dictionary(a, layers: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every column of every layer with its Chinese and English name and unit (the ``fields`` table)."""
    from .excel import column_labels

    rows = []
    for layer, frame in layers.items():
        geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
        for col in frame.columns:
            if col == geom:
                continue
            zh, en, unit = column_labels(col, a, layer=layer)
            rows.append({"layer": layer, "column": col, "name_zh": zh, "name_en": en, "unit": unit})
    return pd.DataFrame(rows, columns=["layer", "column", "name_zh", "name_en", "unit"])


def assessment_layers(a) -> dict[str, pd.DataFrame]:
    """The layers and tables of the shortfall GeoPackage, in order."""
    from .._version import __version__

    # parameters only: timings would make two runs on the same inputs differ
    run = {"servicecircle_version": __version__, **a.parameters}
    if "gap_grid_m" in a.timings:
        run["gap_grid_m"] = a.timings["gap_grid_m"]
    spatial = {
        "communities": a.communities,
        "demand": a.demand,
        "facilities": a.facilities,
        "gaps": a.gaps,
        **{k: v for k, v in a.layers.items() if isinstance(v, gpd.GeoDataFrame)},
    }
    return {
        "communities": a.communities,
        "demand": a.demand,
        "facilities": a.facilities,
        "gaps": a.gaps,
        **a.layers,
        "summary": a.summary,
        "scorecard": a.scorecard,
        "checks": _checks_table(a),
        "warnings": a.warnings,
        "fields": field_dictionary(a, spatial),
        "run": pd.DataFrame({"key": list(run), "value": [None if v is None else str(v) for v in run.values()]}),
    }


def write_geopackage(layers: dict[str, pd.DataFrame], path: str | Path, crs: Any) -> Path:
    """Write layers (GeoDataFrames reprojected to ``crs``) and tables to one GeoPackage."""
    import pyogrio

    path = Path(path)
    if path.exists():
        path.unlink()
    from .filegdb import codes_as_text

    for name, frame in layers.items():
        data = clean_for_export(codes_as_text(frame))  # administrative codes stay text
        try:
            if isinstance(data, gpd.GeoDataFrame):
                data = to_crs(data, crs)
                promote = bool(data.geometry.geom_type.isin(["MultiPolygon"]).any())
                # through Arrow (pyarrow is a dependency): columns go to GDAL in bulk
                pyogrio.write_dataframe(
                    data, path, layer=name, driver="GPKG", promote_to_multi=promote or None, use_arrow=True
                )
            else:
                pyogrio.write_dataframe(pd.DataFrame(data), path, layer=name, driver="GPKG", use_arrow=True)
        except Exception as exc:
            raise OutputError(
                f"cannot write layer '{name}' ({' '.join(str(exc).split())})",
                file=path,
                fix="check free disk space and that the folder is writable",
            ) from None
    return path
