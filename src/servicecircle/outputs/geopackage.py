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
``streets``
    the walking network as simplified lines (:func:`street_layer`), the street
    context the QGIS project draws in light grey (written by ``save_assessment``;
    for a cached network the layer is written once, into a GeoPackage beside the
    network's cache file, which later runs copy and add their layers to:
    :func:`street_file`);

and attribute tables ``summary`` (one row per check), ``scorecard``, ``checks``
(every threshold used and its source), ``warnings``, ``fields`` (every column's
Chinese and English name and unit) and ``run`` (parameters).

The only time in the file, ``gpkg_contents.last_change`` (the format requires
one), is ``settings.output_timestamp`` (:func:`servicecircle.settings.output_time`),
not the clock: the same layers give the same file, byte for byte.

The file is GeoPackage 1.2 by default (``PRAGMA user_version`` 10200), which
every GDAL since 2.2 and QGIS 3.x open without a word; GDAL 3.8 and later write
1.4 unless told, and GDAL 3.6 / QGIS 3.22 (Debian 12, many office desktops)
warn about a version they do not know. ``version="1.4"`` asks for the newest.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..coords import to_crs
from ..errors import OutputError
from .codes import codes_as_text
from .gdal import gdal_config, gpkg_time
from .layers import clean_for_export

__all__ = [
    "write_geopackage",
    "gpkg_time",
    "set_last_change",
    "street_layer",
    "street_file",
    "GPKG_VERSIONS",
    "STREET_TOLERANCE_M",
]

#: The GeoPackage versions :func:`write_geopackage` writes (GDAL's ``VERSION`` creation option).
GPKG_VERSIONS = ("1.2", "1.3", "1.4")
#: Metres: how far a simplified street line may stray from the network's own geometry.
STREET_TOLERANCE_M = 1.0


def street_layer(network: Any, tolerance: float = STREET_TOLERANCE_M) -> gpd.GeoDataFrame:
    """The walking network as lines: one row per edge, simplified to ``tolerance`` metres.

    Columns ``highway`` and ``name`` (the OSM tags, where the network has them)
    and ``length_m`` (the edge's length on the network, before simplifying), in
    the network's own metric CRS. Context for a map, not for measuring: distances
    are computed on the network itself.

    Parameters
    ----------
    network
        A :class:`servicecircle.network.WalkNetwork`.
    tolerance
        Metres (Douglas-Peucker, topology kept).
    """
    geoms = np.array(network.edge_geometry, dtype=object)  # a copy: the network's own array is left alone
    bent = np.flatnonzero(shapely.get_num_coordinates(geoms) > 2)  # a straight piece has nothing to simplify
    geoms[bent] = shapely.simplify(geoms[bent], tolerance, preserve_topology=True)
    data: dict[str, Any] = {}
    for tag in ("highway", "name"):
        values = network.edge_tags.get(tag)
        if values is not None and len(values) == len(geoms):
            values = np.asarray(values, dtype=object)
            missing = pd.isna(values) | (values == "")
            text = np.where(missing, "", values).astype(str).astype(object)  # as text, in bulk
            text[missing] = None
            data[tag] = text
    data["length_m"] = np.round(np.asarray(network.edge_length, dtype=float), 2)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=network.crs), crs=network.crs)


def street_file(network: Any, crs: Any, *, version: str = "1.2") -> Path | None:
    """A GeoPackage holding only the ``streets`` layer of a cached network, written once.

    Everything in it derives from the network, the output CRS and the
    GeoPackage version, so it is kept beside the network's cache file (keyed by
    the network's cache key and those) and :func:`write_geopackage` starts from
    a copy of it (``start=``) instead of reprojecting, simplifying and writing
    the streets again: for a million-node network most of the GeoPackage's time.

    Returns
    -------
    pathlib.Path or None
        ``None`` when the cache is off or the network did not come through the
        cache (nothing stable to key the file by): the layer is then written
        with the others.
    """
    from pyproj import CRS

    from .. import settings
    from ..network.cache import cache_key

    key, folder = network.info.get("cache_key"), network.info.get("cache_folder")
    if not settings.use_cache or not key or not folder:
        return None
    # layer=1: the form of street_layer's output; raise it when street_layer changes what it writes
    part = cache_key(
        network=key, crs=CRS.from_user_input(crs).to_wkt(), version=version, tolerance=STREET_TOLERANCE_M, layer=1
    )
    path = Path(folder) / f"{key}.streets-{part[:16]}.gpkg"
    if not path.exists():
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            write_geopackage({"streets": street_layer(network)}, tmp, crs, version=version)
            os.replace(tmp, path)  # whole or not at all: another run never reads half a file
        except (OSError, OutputError):
            return None  # a cache folder that cannot be written to: the layer goes with the others
        finally:
            tmp.unlink(missing_ok=True)
    return path


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


def write_geopackage(
    layers: dict[str, pd.DataFrame], path: str | Path, crs: Any, *, version: str = "1.2", start: Path | None = None
) -> Path:
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
    version
        The GeoPackage version, one of :data:`GPKG_VERSIONS` (default 1.2: read
        without a warning by GDAL 3.6 and QGIS 3.22).
    start
        A GeoPackage of the same version whose layers come first (a copy of
        it is written to, e.g. :func:`street_file`); ``None``: a new file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import pyogrio

    path = Path(path)
    if version not in GPKG_VERSIONS:
        raise OutputError(
            f"GeoPackage version {version!r} is not one servicecircle writes",
            file=path,
            fix=f"give one of {', '.join(GPKG_VERSIONS)} (--gpkg-version)",
        )
    stamp = gpkg_time()  # first: an unusable setting is refused before the old file goes
    dataset = {"VERSION": version}  # used when the first layer creates the file
    if path.exists():
        path.unlink()
    if start is not None:
        shutil.copyfile(start, path)
    with gdal_config({"OGR_CURRENT_DATE": stamp}):
        for name, frame in layers.items():
            data = clean_for_export(codes_as_text(frame))  # administrative codes stay text
            try:
                if isinstance(data, gpd.GeoDataFrame):
                    data = to_crs(data, crs)
                    promote = bool((shapely.get_type_id(data.geometry.values) == 6).any())  # a MultiPolygon
                    # through Arrow (pyarrow is a dependency): columns go to GDAL in bulk
                    pyogrio.write_dataframe(
                        data,
                        path,
                        layer=name,
                        driver="GPKG",
                        promote_to_multi=promote or None,
                        use_arrow=True,
                        dataset_options=dataset,
                    )
                else:
                    pyogrio.write_dataframe(
                        pd.DataFrame(data), path, layer=name, driver="GPKG", use_arrow=True, dataset_options=dataset
                    )
            except Exception as exc:
                raise OutputError(
                    f"cannot write layer '{name}' ({' '.join(str(exc).split())})",
                    file=path,
                    fix="check free disk space and that the folder is writable",
                ) from None
    if start is not None:
        set_last_change(path)  # the copied layers were registered when they were written
    return path
