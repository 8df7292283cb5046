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

from ..schema import CHECKS_COLUMNS, FIELDS_COLUMNS, REGISTER_NOT_ASSESSED, SUMMARY_CITY_COLUMNS, SUMMARY_COLUMNS
from .labels import column_labels

if TYPE_CHECKING:
    from .result import AssessmentResult as Assessment  # the protocol the writers read, not the record

__all__ = [
    "assessment_layers",
    "clean_for_export",
    "field_dictionary",
    "checks_table",
    "register_layer",
    "register_summary_rows",
]


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


def register_layer(a: Assessment) -> dict[str, pd.DataFrame]:
    """``{"register": the plan's indicator register}``, or nothing when the profile has none.

    Parameters
    ----------
    a
        The assessment.

    Returns
    -------
    dict
        Layer name → table (one row per target of the plan, :data:`servicecircle.schema.REGISTER_COLUMNS`).
    """
    register = getattr(a, "register", None)
    return {"register": register} if register is not None and len(register) else {}


def register_summary_rows(a: Assessment) -> pd.DataFrame:
    """The register as rows of the summary table (``kind = "register"``), for ``summary.csv``.

    ``check`` is the check that assesses the row (empty when none does), ``category`` the
    register key; ``city_value``, ``city_unit``, ``city_target`` and ``city_passed`` are the
    check's citywide result, and ``method`` the check's method or why the row is not assessed
    and what data would let it be.

    Parameters
    ----------
    a
        The assessment.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`~servicecircle.schema.SUMMARY_COLUMNS` + :data:`~servicecircle.schema.SUMMARY_CITY_COLUMNS`.
    """
    columns = [*SUMMARY_COLUMNS, *SUMMARY_CITY_COLUMNS]
    register = getattr(a, "register", None)
    if register is None or not len(register):
        return pd.DataFrame(columns=columns)
    rows = []
    for _, r in register.iterrows():
        assessed = r["status"] != REGISTER_NOT_ASSESSED
        why = f"not assessed: {r['not_assessed']}" + (
            f"; data needed: {r['data_needed']}" if isinstance(r["data_needed"], str) else ""
        )
        rows.append(
            {
                "check": r["check"] if isinstance(r["check"], str) else (r["assessed_by"] or ""),
                "kind": "register",
                "category": r["key"],
                "name_zh": r["name_zh"],
                "name_en": r["name_en"],
                "level": r["scale"],
                "target_pct": np.nan,
                "confirmed": bool(r["confirmed"]),
                "source": r["source"],
                "city_value": r["value"] if assessed else np.nan,
                "city_unit": r["value_unit"] if assessed else r["unit"],
                "city_target": r["check_target"] if assessed else r["target_2025"],
                "city_passed": bool(r["passed"]) if assessed else None,
                "method": r["method"] if assessed else why,
            }
        )
    return pd.DataFrame(rows, columns=columns)


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
        **register_layer(a),
        "checks": checks_table(a),
        "warnings": a.warnings,
        "fields": field_dictionary(a, spatial),
        "run": pd.DataFrame({"key": list(run), "value": [None if v is None else str(v) for v in run.values()]}),
    }
