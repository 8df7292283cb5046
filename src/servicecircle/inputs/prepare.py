"""Check and tidy the three input layers before any computation.

Geometry problems that can be repaired are repaired, with a warning; problems
that cannot are errors naming the feature. Nothing is dropped: a feature that
cannot take part (an empty geometry, say) stays in the outputs with empty
results and a warning.
"""

from __future__ import annotations

import difflib
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import InputDataError, warn_data
from .layers import feature_label, source_of

__all__ = ["prepare_boundaries", "prepare_facilities", "prepare_points", "numeric_column", "require_column"]

POLYGONAL = {"Polygon", "MultiPolygon"}


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def require_column(gdf: gpd.GeoDataFrame, column: str, what: str, option: str) -> None:
    """Raise a clear error if ``column`` is missing."""
    if column in gdf.columns:
        return
    file, layer = source_of(gdf)
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    close = difflib.get_close_matches(column, cols, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise InputDataError(
        f"no {what} column '{column}'{hint}; columns are {', '.join(map(str, cols)) or 'none'}",
        file=file, layer=layer, fix=f"name the {what} column with {option}",
    )


def numeric_column(
    gdf: gpd.GeoDataFrame, column: str, what: str, *, allow_missing: bool = True,
    id_column: str | None = None,
) -> np.ndarray:
    """A column as float64, refusing text and negative numbers with a clear message."""
    file, layer = source_of(gdf)
    raw = gdf[column]
    values = pd.to_numeric(raw, errors="coerce")
    text = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if text.any():
        i = _first(text.to_numpy())
        raise InputDataError(
            f"{what} '{column}' is not a number ('{raw.iloc[i]}')", file=file, layer=layer,
            feature=feature_label(gdf, i, id_column), fix=f"put a number (or leave it empty) in '{column}'",
        )
    arr = values.to_numpy(dtype=float)
    neg = arr < 0
    if neg.any():
        i = _first(neg)
        raise InputDataError(
            f"{what} '{column}' is negative ({arr[i]:g})", file=file, layer=layer,
            feature=feature_label(gdf, i, id_column), fix=f"correct '{column}' (it must be 0 or more)",
        )
    inf = np.isinf(arr)
    if inf.any():
        i = _first(inf)
        raise InputDataError(
            f"{what} '{column}' is infinite", file=file, layer=layer,
            feature=feature_label(gdf, i, id_column), fix=f"correct '{column}'",
        )
    if not allow_missing and np.isnan(arr).any():
        i = _first(np.isnan(arr))
        raise InputDataError(
            f"{what} '{column}' is empty", file=file, layer=layer,
            feature=feature_label(gdf, i, id_column), fix=f"fill in '{column}'",
        )
    return arr


def _drop_z(geoms: np.ndarray, gdf, what: str) -> np.ndarray:
    has_z = shapely.has_z(geoms)
    if has_z.any():
        file, layer = source_of(gdf)
        warn_data("dropped_z", f"{int(has_z.sum())} {what} had Z values; they were dropped (distances are "
                  "measured on the map plane)", file=file, layer=layer, count=int(has_z.sum()))
        geoms = shapely.force_2d(geoms)
    return geoms


def prepare_boundaries(gdf: gpd.GeoDataFrame, *, id_column: str | None = None) -> gpd.GeoDataFrame:
    """Validate community boundaries: polygons, repaired where invalid, unique ids.

    Returns a copy whose geometry is 2D and valid; every feature is kept.
    """
    file, layer = source_of(gdf)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = np.array([g.geom_type if g is not None else "" for g in geoms])
    wrong = ~missing & ~np.isin(kinds, list(POLYGONAL))
    if wrong.any():
        i = _first(wrong)
        if kinds[i] == "GeometryCollection":
            geoms[i] = shapely.union_all(shapely.get_parts(geoms[i])[
                np.isin(shapely.get_type_id(shapely.get_parts(geoms[i])), [3, 6])])
        wrong = ~missing & ~np.isin(np.array([g.geom_type if g is not None else "" for g in geoms]), list(POLYGONAL))
    if wrong.any():
        i = _first(wrong)
        raise InputDataError(
            f"a community boundary must be a polygon, this is a {kinds[i]}", file=file, layer=layer,
            feature=feature_label(gdf, i, id_column), fix="give community boundaries as (multi)polygons",
        )
    geoms = _drop_z(geoms, gdf, "boundaries")
    invalid = ~missing & ~shapely.is_valid(geoms)
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        geoms[invalid] = fixed
        first = _first(invalid)
        warn_data(
            "repaired_geometry",
            f"{int(invalid.sum())} invalid boundaries were repaired (first: {feature_label(gdf, first, id_column)}, "
            f"{reasons[0]})", file=file, layer=layer, feature=feature_label(gdf, first, id_column),
            count=int(invalid.sum()),
        )
    if missing.any():
        first = _first(missing)
        warn_data("empty_geometry", f"{int(missing.sum())} boundaries have no geometry; they are kept "
                  "in the outputs with no results", file=file, layer=layer,
                  feature=feature_label(gdf, first, id_column), count=int(missing.sum()))
    if id_column is not None:
        require_column(gdf, id_column, "community id", "id_column= / --id-column")
        ids = gdf[id_column]
        if ids.isna().any():
            i = _first(ids.isna().to_numpy())
            raise InputDataError(f"community id '{id_column}' is empty", file=file, layer=layer,
                                 feature=feature_label(gdf, i), fix=f"fill in '{id_column}' for every community")
        dup = ids.duplicated(keep=False).to_numpy()
        if dup.any():
            value = ids[dup].iloc[0]
            rows = [f"#{k + 1}" for k in np.flatnonzero((ids == value).to_numpy())[:3]]
            raise InputDataError(
                f"community id {id_column}={value} appears more than once (features {', '.join(rows)})",
                file=file, layer=layer, fix=f"make '{id_column}' unique, or choose another id column",
            )
    out = gdf.copy()
    out = out.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    out.attrs = dict(gdf.attrs)
    return out


def prepare_points(
    gdf: gpd.GeoDataFrame, what: str, *, polygons: str = "error", id_column: str | None = None
) -> gpd.GeoDataFrame:
    """Validate a point layer (facilities, demand).

    Parameters
    ----------
    what
        Plural noun for messages ("facilities").
    polygons
        ``"point"`` to replace polygons by a point inside them (with a warning),
        ``"error"`` to refuse them.
    """
    file, layer = source_of(gdf)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = np.array([g.geom_type if g is not None else "" for g in geoms])
    multi = kinds == "MultiPoint"
    if multi.any():
        parts = shapely.get_num_geometries(geoms[multi])
        if (parts > 1).any():
            i = int(np.flatnonzero(multi)[np.flatnonzero(parts > 1)[0]])
            raise InputDataError(
                f"one of the {what} is a MultiPoint of {shapely.get_num_geometries(geoms[i])} points",
                file=file, layer=layer, feature=feature_label(gdf, i, id_column),
                fix="give one point per feature (split multipart features, e.g. 'explode' in QGIS)",
            )
        geoms[multi] = shapely.get_geometry(geoms[multi], 0)
        kinds[multi] = "Point"
    area = ~missing & np.isin(kinds, ["Polygon", "MultiPolygon"])
    if area.any():
        if polygons == "point":
            geoms[area] = shapely.point_on_surface(shapely.make_valid(geoms[area]))
            warn_data("polygon_as_point", f"{int(area.sum())} {what} are polygons; a point inside each "
                      "was used", file=file, layer=layer, feature=feature_label(gdf, _first(area), id_column),
                      count=int(area.sum()))
            kinds[area] = "Point"
    wrong = ~missing & (kinds != "Point")
    if wrong.any():
        i = _first(wrong)
        raise InputDataError(
            f"{what} must be points, this is a {kinds[i]}", file=file, layer=layer,
            feature=feature_label(gdf, i, id_column), fix=f"give {what} as points",
        )
    geoms = _drop_z(geoms, gdf, what)
    if missing.any():
        warn_data("empty_geometry", f"{int(missing.sum())} {what} have no location; they are kept in the "
                  "outputs, unplaced", file=file, layer=layer,
                  feature=feature_label(gdf, _first(missing), id_column), count=int(missing.sum()))
    out = gdf.copy()
    out = out.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    out.attrs = dict(gdf.attrs)
    return out


def prepare_facilities(gdf: gpd.GeoDataFrame, *, category_column: str = "category") -> gpd.GeoDataFrame:
    """Validate facilities: points (polygons become a point inside), a category each."""
    require_column(gdf, category_column, "category", "category_column= / --category-column")
    file, layer = source_of(gdf)
    cats = gdf[category_column]
    empty = cats.isna() | (cats.astype(str).str.strip() == "")
    if empty.all():
        raise InputDataError(f"the category column '{category_column}' is empty", file=file, layer=layer,
                             fix=f"fill in '{category_column}' with the facility type (e.g. kindergarten / 幼儿园)")
    if empty.any():
        warn_data("no_category", f"{int(empty.sum())} facilities have no category; they are kept in the "
                  "outputs but not used", file=file, layer=layer,
                  feature=feature_label(gdf, _first(empty.to_numpy())), count=int(empty.sum()))
    return prepare_points(gdf, "facilities", polygons="point")
