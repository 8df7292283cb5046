"""Read planners' layers: any vector format GDAL reads, and CSV with lon/lat.

Everything here is about getting the user's data in *honestly*: the coordinate
system comes from the file (or the user), never from a guess; GCJ-02 / BD-09
coordinates are converted only when the user says so; a shapefile without a
``.cpg`` is decoded as UTF-8 or GBK by looking at its bytes; every problem is a
one-line :class:`~servicecircle.errors.InputDataError` that names the file, the
layer, the feature and the fix.
"""

from __future__ import annotations

import difflib
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import settings
from ..coords import bd09_to_wgs84, gcj02_to_wgs84, parse_crs, transform_geometry_array
from ..errors import CRSError, InputDataError, TooLargeError, warn_data

__all__ = ["read_layer", "detect_dbf_encoding", "LON_NAMES", "LAT_NAMES", "source_of", "feature_label"]

LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "wgs84_lon", "gcj02_lon", "lon_gcj02", "lon_wgs84")
LAT_NAMES = ("lat", "latitude", "y", "纬度", "wgs84_lat", "gcj02_lat", "lat_gcj02", "lat_wgs84")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
TEXT_ENCODINGS = ("utf-8-sig", "gb18030")


def source_of(gdf: Any) -> tuple[str | None, str | None]:
    """(file, layer) a frame was read from, as recorded by :func:`read_layer`."""
    attrs = getattr(gdf, "attrs", {}) or {}
    return attrs.get("source"), attrs.get("layer")


def feature_label(gdf: Any, position: int, id_column: str | None = None) -> str:
    """How a feature is named in messages: ``#<1-based row>`` and its id if known."""
    label = f"#{position + 1}"
    if id_column and id_column in gdf.columns:
        label += f" ({id_column}={gdf[id_column].iloc[position]})"
    return label


def detect_dbf_encoding(shp: Path) -> str | None:
    """Encoding of a shapefile's attribute text when it has no ``.cpg``.

    Returns ``None`` when a ``.cpg`` exists (GDAL reads it), otherwise ``"UTF-8"``
    if the ``.dbf`` bytes decode as UTF-8 (pure ASCII included), else
    ``"GB18030"`` (a superset of GBK/GB2312) if they decode as that, else
    ``"ISO-8859-1"``.
    """
    for suffix in (".cpg", ".CPG"):
        if shp.with_suffix(suffix).exists():
            return None
    dbf = next((shp.with_suffix(s) for s in (".dbf", ".DBF") if shp.with_suffix(s).exists()), None)
    if dbf is None:
        return None
    raw = dbf.read_bytes()
    if len(raw) < 32:
        return None
    header_len = int.from_bytes(raw[8:10], "little")
    body = raw[header_len:]
    for enc in ("utf-8", "gb18030"):
        try:
            body.decode(enc)
            return "UTF-8" if enc == "utf-8" else "GB18030"
        except UnicodeDecodeError:
            continue
    return "ISO-8859-1"


def _suggest(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    tried = (encoding,) if encoding else TEXT_ENCODINGS
    last: Exception | None = None
    for enc in tried:
        try:
            frame = pd.read_csv(path, sep=sep, encoding=enc, dtype=str, keep_default_na=False,
                                na_values=[""])
            break
        except UnicodeDecodeError as exc:
            last = exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputDataError(f"cannot read this CSV ({' '.join(str(exc).split())})", file=path,
                                 fix="save it as comma-separated text with one header row") from None
    else:
        raise InputDataError(f"cannot decode this CSV as {' or '.join(tried)} ({last})", file=path,
                             fix="save it as UTF-8 (or GBK) text, or pass encoding=") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    for col in frame.columns:
        values = frame[col].dropna()
        if len(values) == 0:
            continue
        numeric = pd.to_numeric(values, errors="coerce")
        idlike = any(k in col.lower() for k in ("code", "id", "编码", "代码", "编号"))
        leading_zero = values.str.match(r"^0\d").any()
        if numeric.notna().all() and not idlike and not leading_zero:
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


def _pick_column(frame: pd.DataFrame, given: str | None, names: tuple[str, ...], what: str,
                 path: Path, option: str) -> str:
    cols = list(frame.columns)
    if given is not None:
        if given not in cols:
            raise InputDataError(
                f"no column '{given}'{_suggest(given, cols)}; columns are {', '.join(cols)}",
                file=path, fix=f"name the {what} column with {option}",
            )
        return given
    lower = {c.lower(): c for c in cols}
    found = [lower[n] for n in names if n in lower]
    if not found:
        raise InputDataError(
            f"no {what} column (looked for {', '.join(names[:5])} ...); columns are {', '.join(cols)}",
            file=path, fix=f"name the {what} column with {option}",
        )
    return found[0]


def _points_from_csv(frame: pd.DataFrame, path: Path, lon_col: str, lat_col: str) -> np.ndarray:
    xy = []
    for col in (lon_col, lat_col):
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() & frame[col].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputDataError(
                f"'{col}' is not a number in row {row + 2} ('{frame[col].iloc[row]}')",
                file=path, feature=f"#{row + 1}", fix="give decimal degrees such as 104.0657",
            )
        xy.append(values.to_numpy(dtype=float))
    return np.column_stack(xy)


def _check_lonlat(x: np.ndarray, y: np.ndarray, path: Path, layer: str | None, label) -> None:
    """Refuse impossible or swapped geographic coordinates."""
    ok = np.isfinite(x) & np.isfinite(y)
    bad = ok & ((np.abs(x) > 180) | (np.abs(y) > 90))
    looks_swapped = ok & (y >= 73) & (y <= 136) & (x >= 3) & (x <= 54)
    if looks_swapped.any() and looks_swapped.sum() >= 0.5 * ok.sum():
        i = int(np.flatnonzero(looks_swapped)[0])
        raise InputDataError(
            f"longitude and latitude look swapped (x={x[i]:.6g}, y={y[i]:.6g} would be in China the "
            "other way round)", file=path, layer=layer, feature=label(i),
            fix="swap the longitude and latitude columns (or name them with lon_column/lat_column)",
        )
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputDataError(
            f"coordinates out of range for longitude/latitude (x={x[i]:.6g}, y={y[i]:.6g})",
            file=path, layer=layer, feature=label(i),
            fix="check the coordinate columns, or declare the layer's real coordinate system (crs=)",
        )


def _apply_crs(gdf: gpd.GeoDataFrame, crs: Any, path: Path, layer: str | None) -> gpd.GeoDataFrame:
    """Give the frame its declared CRS; convert GCJ-02/BD-09 to WGS84 when asked."""
    declared = gdf.crs
    if crs is None:
        if declared is None:
            raise CRSError(
                "the layer has no coordinate system", file=path, layer=layer,
                fix="add a .prj / declare it, or pass crs= (e.g. 'EPSG:4490', 'EPSG:4326', "
                "'gcj02' for Amap/Tencent, 'bd09' for Baidu)",
            )
        target = declared
        datum = None
    else:
        parsed = parse_crs(crs)
        datum = parsed if isinstance(parsed, str) else None
        target = pyproj.CRS.from_epsg(4326) if datum else parsed
        if datum and declared is not None and not pyproj.CRS(declared).is_geographic:
            raise CRSError(
                f"{datum.upper()} coordinates must be longitude/latitude, but the file declares "
                f"{pyproj.CRS(declared).name}", file=path, layer=layer,
                fix="drop the crs= option, or export the layer in longitude/latitude",
            )
        if not datum and declared is not None and not pyproj.CRS(declared).equals(target):
            warn_data(
                "crs_overridden",
                f"the file declares {pyproj.CRS(declared).name}; using {target.name} as asked",
                file=path, layer=layer,
            )
    gdf = gdf.set_crs(target, allow_override=True)
    if pyproj.CRS(target).is_geographic:
        xy, owner = shapely.get_coordinates(gdf.geometry.values, return_index=True)
        if len(xy):
            _check_lonlat(xy[:, 0], xy[:, 1], path, layer, lambda i: f"#{owner[i] + 1}")
    if datum:
        func = gcj02_to_wgs84 if datum == "gcj02" else bd09_to_wgs84
        gdf = gdf.set_geometry(transform_geometry_array(gdf.geometry, func))
        gdf.attrs["converted_from"] = datum
    return gdf


def read_layer(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: Any = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read one vector layer or CSV into a GeoDataFrame with a known CRS.

    Parameters
    ----------
    path
        Any file GDAL reads (GeoPackage, shapefile, GeoJSON, File Geodatabase
        ...) or a CSV/TSV with longitude and latitude columns.
    layer
        Layer name, required where the file has several.
    crs
        The layer's coordinate system when the file has none (CSV always), or
        ``"gcj02"`` / ``"bd09"`` for Amap/Tencent/Baidu coordinates, which are
        converted to WGS84 (iterative inverse, sub-millimetre).
    lon_column, lat_column
        CSV coordinate columns (default: the first of ``lon``, ``lng``,
        ``longitude``, ``x``, ``经度`` ... / ``lat``, ``latitude``, ``y``, ``纬度`` ...).
    encoding
        Text encoding; by default shapefiles without ``.cpg`` and CSVs are
        detected as UTF-8 or GBK (GB18030).

    Returns
    -------
    geopandas.GeoDataFrame
        Every feature and attribute of the layer, in the file's order, with
        ``attrs["source"]`` and ``attrs["layer"]`` recording where it came from.

    Raises
    ------
    InputDataError, CRSError, TooLargeError
    """
    path = Path(path)
    if not path.exists():
        raise InputDataError("file not found", file=path, fix="check the path")
    if path.suffix.lower() in CSV_SUFFIXES:
        if path.stat().st_size > 2_000_000_000:
            raise TooLargeError("this CSV is over 2 GB", file=path,
                                fix="split it, or convert it to a GeoPackage")
        frame = _read_csv(path, encoding)
        if frame.empty:
            raise InputDataError("the CSV has no rows", file=path, fix="check the file")
        lon_c = _pick_column(frame, lon_column, LON_NAMES, "longitude", path, "lon_column=")
        lat_c = _pick_column(frame, lat_column, LAT_NAMES, "latitude", path, "lat_column=")
        xy = _points_from_csv(frame, path, lon_c, lat_c)
        if crs is None:
            raise CRSError(
                "a CSV carries no coordinate system", file=path,
                fix="pass crs='EPSG:4326' (WGS84 / GPS), 'EPSG:4490' (CGCS2000), "
                "'gcj02' (Amap, Tencent) or 'bd09' (Baidu)",
            )
        geoms = shapely.points(xy)
        geoms[~np.isfinite(xy).all(axis=1)] = None
        gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms), crs=None)
        gdf = _apply_crs(gdf, crs, path, None)
        gdf.attrs.update(source=str(path), layer=None)
        return gdf

    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    try:
        layers = pyogrio.list_layers(path)
    except (DataSourceError, DataLayerError, OSError, ValueError) as exc:
        raise InputDataError(
            f"cannot open this file as a vector layer ({' '.join(str(exc).split())})", file=path,
            fix="check that the file is complete and in a format GDAL reads (GeoPackage, shapefile, GeoJSON)",
        ) from None
    names = [str(n) for n in layers[:, 0]] if len(layers) else []
    if not names:
        raise InputDataError("the file has no layer", file=path, fix="check the file")
    if layer is None:
        if len(names) > 1:
            raise InputDataError(
                f"the file has {len(names)} layers ({', '.join(names)})", file=path,
                fix="name the layer to use (layer= / --...-layer)",
            )
        layer = names[0]
    elif layer not in names:
        raise InputDataError(
            f"no layer '{layer}'{_suggest(layer, names)}; layers are {', '.join(names)}", file=path,
            fix="name one of the file's layers",
        )
    if encoding is None and path.suffix.lower() == ".shp":
        encoding = detect_dbf_encoding(path)
        if encoding == "GB18030":
            warn_data("encoding_guessed", "no .cpg file: attribute text read as GBK (GB18030)",
                      file=path, layer=layer)
        elif encoding == "ISO-8859-1":
            warn_data("encoding_guessed", "no .cpg file and the text is neither UTF-8 nor GBK: "
                      "read as Latin-1, Chinese text may be garbled", file=path, layer=layer)
    try:
        info = pyogrio.read_info(path, layer=layer, encoding=encoding)
        count = int(info.get("features") or 0)
        if count > settings.max_input_features:
            raise TooLargeError(
                f"the layer has {count:,} features, more than the limit of "
                f"{settings.max_input_features:,}", file=path, layer=layer,
                fix="clip the layer to the study area, or raise settings.max_input_features",
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = pyogrio.read_dataframe(path, layer=layer, encoding=encoding, on_invalid="ignore")
    except TooLargeError:
        raise
    except Exception as exc:
        raise InputDataError(
            f"cannot read this layer ({' '.join(str(exc).split())})", file=path, layer=layer,
            fix="check that the file is complete (a truncated or half-copied file cannot be read)",
        ) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise InputDataError("the layer has no geometry", file=path, layer=layer,
                             fix="use a spatial layer, or a CSV with lon/lat columns")
    if len(gdf) == 0:
        raise InputDataError("the layer is empty", file=path, layer=layer,
                             fix="check that the right file and layer were given")
    layer_name = layer if len(names) > 1 else None
    gdf = _apply_crs(gdf, crs, path, layer_name)
    gdf.attrs.update(source=str(path), layer=layer_name)
    return gdf
