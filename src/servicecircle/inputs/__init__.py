"""Inputs: community boundaries, facilities and demand from files planners have."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd

from ..errors import source_of
from .layers import detect_dbf_encoding, read_layer
from .prepare import prepare_boundaries, prepare_facilities, prepare_points

__all__ = [
    "read_layer",
    "read_boundaries",
    "read_facilities",
    "read_demand",
    "detect_dbf_encoding",
    "prepare_boundaries",
    "prepare_facilities",
    "prepare_points",
    "source_of",
]


def read_boundaries(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: Any = None,
    id_column: str | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read community boundaries (polygons), repairing invalid ones with a warning.

    Parameters
    ----------
    path, layer, crs, encoding
        See :func:`read_layer`.
    id_column
        Community id column; must be unique.

    Returns
    -------
    geopandas.GeoDataFrame
    """
    return prepare_boundaries(read_layer(path, layer=layer, crs=crs, encoding=encoding), id_column=id_column)


def read_facilities(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: Any = None,
    category_column: str = "category",
    lon_column: str | None = None,
    lat_column: str | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read facility points with a category column (GIS layer or CSV with lon/lat).

    Examples
    --------
    Amap export in GCJ-02, converted to WGS84 on reading:

    >>> import pathlib, tempfile
    >>> csv = pathlib.Path(tempfile.mkdtemp()) / "amap_parks.csv"
    >>> _ = csv.write_text("name,type,lon,lat\\n人民公园,park,104.0627,30.6601\\n", encoding="utf-8")
    >>> parks = read_facilities(csv, crs="gcj02", category_column="type")
    >>> parks.crs.to_epsg(), round(float(parks.geometry.x.iloc[0]), 4), round(float(parks.geometry.y.iloc[0]), 4)
    (4326, 104.0602, 30.6625)
    """
    gdf = read_layer(path, layer=layer, crs=crs, lon_column=lon_column, lat_column=lat_column, encoding=encoding)
    return prepare_facilities(gdf, category_column=category_column)


def read_demand(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: Any = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read demand points (buildings, households) — polygons become a point inside."""
    gdf = read_layer(path, layer=layer, crs=crs, lon_column=lon_column, lat_column=lat_column, encoding=encoding)
    return prepare_points(gdf, "demand points", polygons="point")
