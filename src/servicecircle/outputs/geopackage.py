"""The shortfall GeoPackage: every input feature and attribute, plus the results.

Layers (listed by :func:`servicecircle.outputs.layers.assessment_layers`; see
``docs/geopackage.md`` for the full schema):

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

The only time in the file, ``gpkg_contents.last_change`` (the format requires
one), is ``settings.output_timestamp`` (:func:`servicecircle.settings.output_time`),
not the clock: the same layers give the same file, byte for byte.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ..coords import to_crs
from ..errors import OutputError
from .codes import codes_as_text
from .gdal import gdal_config, gpkg_time
from .layers import clean_for_export

__all__ = ["write_geopackage", "gpkg_time", "set_last_change"]


def set_last_change(path: str | Path, when: datetime | None = None) -> None:
    """Set every table's ``gpkg_contents.last_change`` to ``when`` (default the output timestamp).

    For tables added to the GeoPackage by other means than :func:`write_geopackage`
    (the QGIS ``layer_styles`` table is registered with the clock's time).
    """
    path = Path(path)
    try:
        con = sqlite3.connect(path)
        try:
            with con:
                con.execute(
                    "UPDATE gpkg_contents SET last_change = ? WHERE last_change IS NOT ?", (gpkg_time(when),) * 2
                )
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise OutputError(
            f"cannot update the GeoPackage ({exc})", file=path, fix="check the file is writable and not open elsewhere"
        ) from None


def write_geopackage(layers: dict[str, pd.DataFrame], path: str | Path, crs: Any) -> Path:
    """Write layers (GeoDataFrames reprojected to ``crs``) and tables to one GeoPackage.

    ``gpkg_contents.last_change`` is ``settings.output_timestamp`` (through GDAL's
    ``OGR_CURRENT_DATE``, set for this write only and restored after).

    Parameters
    ----------
    layers
        Layer name → frame (:func:`servicecircle.outputs.layers.assessment_layers`).
    path
        The file to write (replaced if it exists).
    crs
        CRS of the spatial layers.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import pyogrio

    path = Path(path)
    stamp = gpkg_time()  # first: an unusable setting is refused before the old file goes
    if path.exists():
        path.unlink()
    with gdal_config({"OGR_CURRENT_DATE": stamp}):
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
