"""The layers and tables of an assessment, as every file export writes them.

The GeoPackage and the File Geodatabase hold the same layers (see
``docs/geopackage.md``): :func:`assessment_layers` lists them in order, with
the ``checks``, ``fields`` and ``run`` tables built here, and
:func:`clean_for_export` gives their columns types both formats can hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..schema import CHECKS_COLUMNS, FIELDS_COLUMNS
from .labels import column_labels

if TYPE_CHECKING:
    from .result import AssessmentResult as Assessment  # the protocol the writers read, not the record

__all__ = ["assessment_layers", "clean_for_export", "field_dictionary", "checks_table"]


def clean_for_export(frame: pd.DataFrame) -> pd.DataFrame:
    """Column types GeoPackage can hold: nullable booleans and mixed objects become text/ints.

    Parameters
    ----------
    frame
        A layer or table.

    Returns
    -------
    pandas.DataFrame
        A copy.
    """
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
                    out[col] = s.map(_text_or_none)
    return out


def _text_or_none(v: Any) -> str | None:
    """``str(v)``, or ``None`` for a missing value."""
    return None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v)


def checks_table(a: Assessment) -> pd.DataFrame:
    """Every check, its threshold and target, where they come from, and its columns (the ``checks`` table).

    Parameters
    ----------
    a
        The assessment.

    Returns
    -------
    pandas.DataFrame
        One row per check, columns :data:`servicecircle.schema.CHECKS_COLUMNS`.
    """
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
    # without a check the table has no columns at all
    return pd.DataFrame(rows, columns=CHECKS_COLUMNS) if rows else pd.DataFrame()


def field_dictionary(a: Assessment, layers: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every column of every layer with its Chinese and English name and unit (the ``fields`` table).

    Parameters
    ----------
    a
        The assessment (names of its checks and categories).
    layers
        Layer name → frame.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`servicecircle.schema.FIELDS_COLUMNS`.
    """
    rows = []
    for layer, frame in layers.items():
        geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
        for col in frame.columns:
            if col == geom:
                continue
            zh, en, unit = column_labels(col, a, layer=layer)
            source = getattr(a, "input_columns", {}).get(layer, {}).get(col)  # the input column it holds, if one
            rows.append(dict(zip(FIELDS_COLUMNS, (layer, col, zh, en, unit, source))))
    return pd.DataFrame(rows, columns=FIELDS_COLUMNS)


def assessment_layers(a: Assessment) -> dict[str, pd.DataFrame]:
    """The layers and tables of the shortfall GeoPackage (and File Geodatabase), in order.

    Parameters
    ----------
    a
        The assessment.

    Returns
    -------
    dict
        Layer name → GeoDataFrame or DataFrame.
    """
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
        "checks": checks_table(a),
        "warnings": a.warnings,
        "fields": field_dictionary(a, spatial),
        "run": pd.DataFrame({"key": list(run), "value": [None if v is None else str(v) for v in run.values()]}),
    }
