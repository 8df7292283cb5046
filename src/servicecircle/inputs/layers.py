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
from ..coords import bd09_to_wgs84, check_layer_datum, gcj02_to_wgs84, parse_crs, transform_geometry_array
from ..errors import CRSError, InputDataError, TooLargeError, feature_label, source_of, warn_data

__all__ = ["read_layer", "detect_dbf_encoding", "LON_NAMES", "LAT_NAMES", "source_of", "feature_label"]

LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "wgs84_lon", "gcj02_lon", "lon_gcj02", "lon_wgs84")
LAT_NAMES = ("lat", "latitude", "y", "纬度", "wgs84_lat", "gcj02_lat", "lat_gcj02", "lat_wgs84")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
TEXT_ENCODINGS = ("utf-8-sig", "gb18030")


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


def _ragged_line(path: Path, sep: str, encoding: str) -> str:
    """Where a CSV first has more fields than its header (for the error message)."""
    import csv

    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        rows = csv.reader(fh, delimiter=sep)
        header = next(rows, [])
        for row in rows:
            if len(row) > len(header):
                return f"line {rows.line_num} has {len(row)} fields but the header row has {len(header)}"
    return "its rows do not line up with the header row"


def _count_rows(path: Path) -> int:
    """Number of lines of a text file, counted without parsing it."""
    n = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
    return n


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    tried = (encoding,) if encoding else TEXT_ENCODINGS
    last: UnicodeDecodeError | None = None
    for enc in tried:
        try:
            frame = pd.read_csv(path, sep=sep, encoding=enc, dtype=str, keep_default_na=False, na_values=[""])
            break
        except UnicodeDecodeError as exc:
            last = exc
        except pd.errors.EmptyDataError:
            raise InputDataError(
                "the CSV is empty (it has no header row)", file=path, fix="check that the right file was given"
            ) from None
        except pd.errors.ParserError:
            raise InputDataError(
                f"cannot read this CSV: {_ragged_line(path, sep, enc)}",
                file=path,
                fix="quote texts that contain the separator, or save the table again as CSV with one header row",
            ) from None
    else:
        with open(path, "rb") as fh:
            bom = fh.read(2)
        if bom in (b"\xff\xfe", b"\xfe\xff"):
            raise InputDataError(
                "this CSV is UTF-16 text (as Excel saves 'Unicode text')",
                file=path,
                fix="save it from Excel as 'CSV UTF-8' (or pass encoding='utf-16' in Python)",
            ) from None
        where = f" (byte {last.start:,} is not valid text)" if last is not None else ""
        names = " or ".join("UTF-8" if e == "utf-8-sig" else "GBK (GB18030)" if e == "gb18030" else e for e in tried)
        raise InputDataError(
            f"cannot decode this CSV as {names}{where}",
            file=path,
            fix="save it as UTF-8 (or GBK) text, or pass encoding=",
        ) from None
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


def _pick_column(
    frame: pd.DataFrame, given: str | None, names: tuple[str, ...], what: str, path: Path, option: str
) -> str:
    cols = list(frame.columns)
    if given is not None:
        if given not in cols:
            raise InputDataError(
                f"no column '{given}'{_suggest(given, cols)}; columns are {', '.join(cols)}",
                file=path,
                fix=f"name the {what} column with {option}",
            )
        return given
    lower = {c.lower(): c for c in cols}
    found = [lower[n] for n in names if n in lower]
    if not found:
        raise InputDataError(
            f"no {what} column (looked for {', '.join(names[:5])} ...); columns are {', '.join(cols)}",
            file=path,
            fix=f"name the {what} column with {option}",
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
                f"'{frame[col].iloc[row]}' in column '{col}' is not a number (line {row + 2} of the CSV)",
                file=path,
                feature=f"#{row + 1}",
                fix="give decimal degrees such as 104.0657",
            )
        xy.append(values.to_numpy(dtype=float))
    return np.column_stack(xy)


def _degrees(v: float) -> str:
    """A coordinate as typed, without exponent notation (3312345, 104.0657, -0.5)."""
    text = f"{v:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _check_lonlat(x: np.ndarray, y: np.ndarray, path: Path, layer: str | None, label) -> None:
    """Refuse impossible or swapped geographic coordinates."""
    ok = np.isfinite(x) & np.isfinite(y)
    bad = ok & ((np.abs(x) > 180) | (np.abs(y) > 90))
    looks_swapped = ok & (y >= 73) & (y <= 136) & (x >= 3) & (x <= 54)
    if looks_swapped.any() and looks_swapped.sum() >= 0.5 * ok.sum():
        i = int(np.flatnonzero(looks_swapped)[0])
        raise InputDataError(
            f"longitude and latitude look swapped (x={_degrees(x[i])}, y={_degrees(y[i])} would be in "
            "China the other way round)",
            file=path,
            layer=layer,
            feature=label(i),
            fix="swap the longitude and latitude columns (or name them with lon_column= / --lon-column "
            "and lat_column= / --lat-column)",
        )
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        metres = abs(x[i]) > 1000 or abs(y[i]) > 1000
        raise InputDataError(
            f"coordinates out of range for longitude/latitude (x={_degrees(x[i])}, y={_degrees(y[i])})"
            + ("; they look like metres of a projected coordinate system" if metres else ""),
            file=path,
            layer=layer,
            feature=label(i),
            fix="check the coordinate columns, or declare the layer's real coordinate system with crs= "
            "(e.g. 'EPSG:4544', CGCS2000 / 3-degree Gauss-Krüger CM 105E, used around Chengdu)"
            if metres
            else "check the coordinate columns, or declare the layer's real coordinate system (crs=)",
        )


CRS_EXAMPLES = "'EPSG:4490' (CGCS2000), 'EPSG:4326' (WGS84), 'gcj02' (Amap/Tencent) or 'bd09' (Baidu)"


def _apply_crs(gdf: gpd.GeoDataFrame, crs: Any, path: Path, layer: str | None) -> gpd.GeoDataFrame:
    """Give the frame its declared CRS; convert GCJ-02/BD-09 to WGS84 when asked."""
    declared = gdf.crs
    if crs is None:
        if declared is None:
            no_prj = path.suffix.lower() == ".shp" and _sibling(path, ".prj") is None
            raise CRSError(
                "the layer has no coordinate system",
                file=path,
                layer=layer,
                fix=("the shapefile has no .prj file: add the one that belongs to it, or " if no_prj else "")
                + "declare the coordinate system with crs= (--boundaries-crs, --facilities-crs ... on the "
                f"command line), e.g. {CRS_EXAMPLES}",
            )
        target = declared
        datum = None
    else:
        try:
            parsed = parse_crs(crs)
        except CRSError as exc:  # name the layer it was given for
            raise CRSError(exc.what, file=path, layer=layer, fix=exc.fix) from None
        datum = parsed if isinstance(parsed, str) else None
        target = pyproj.CRS.from_epsg(4326) if datum else parsed
        assert isinstance(target, pyproj.CRS)  # parsed is a CRS when it names no datum
        if datum and declared is not None and not pyproj.CRS(declared).is_geographic:
            raise CRSError(
                f"{datum.upper()} coordinates must be longitude/latitude, but the file declares "
                f"{pyproj.CRS(declared).name}",
                file=path,
                layer=layer,
                fix="drop the crs= option, or export the layer in longitude/latitude",
            )
        if not datum and declared is not None and not pyproj.CRS(declared).equals(target):
            warn_data(
                "crs_overridden",
                f"the file declares {pyproj.CRS(declared).name}; using {target.name} as asked",
                file=path,
                layer=layer,
            )
    gdf = gdf.set_crs(target, allow_override=True)
    if pyproj.CRS(target).is_geographic:
        xy, owner = shapely.get_coordinates(gdf.geometry.values, return_index=True)
        if len(xy):
            _check_lonlat(xy[:, 0], xy[:, 1], path, layer, lambda i: f"#{owner[i] + 1}")
    if datum:
        func = gcj02_to_wgs84 if datum == "gcj02" else bd09_to_wgs84
        gdf = gdf.set_geometry(transform_geometry_array(gdf.geometry, func))
    else:
        _check_datum(gdf, path, layer)
    return gdf


def _check_datum(gdf: gpd.GeoDataFrame, path: Path, layer: str | None) -> None:
    """Warn (``datum_ballpark``) when PROJ can bring the layer to CGCS2000 or WGS84 only with a null shift."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    placed = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not placed.any():
        return
    check_layer_datum(
        gdf.crs,
        bounds=tuple(float(v) for v in shapely.total_bounds(geoms[placed])),
        file=path,
        layer=layer,
        count=int(placed.sum()),
    )


# --------------------------------------------------------------------------- #
# Files GDAL cannot read: say what is wrong in our words, not GDAL's
# --------------------------------------------------------------------------- #

COMPLETE_COPY = "copy or export the file again (a file cut short while copying or downloading cannot be read)"
SHAPEFILE_PARTS = "copy all the files of the shapefile together (.shp, .shx, .dbf, .prj and .cpg)"


def _sibling(path: Path, suffix: str) -> Path | None:
    """The file next to ``path`` with another suffix, in either case, if it exists."""
    for s in (suffix.lower(), suffix.upper()):
        candidate = path.with_suffix(s)
        if candidate.exists():
            return candidate
    return None


def _check_shapefile(path: Path) -> None:
    """Refuse a shapefile with a missing or cut-short part before GDAL reads it.

    GDAL reads a ``.shp`` without its ``.dbf`` (losing every attribute) and a
    cut-short ``.shp`` as features without geometry; both would silently lose data.
    """
    for suffix, role in ((".shx", "index"), (".dbf", "attribute table")):
        if _sibling(path, suffix) is None:
            raise InputDataError(
                f"the shapefile's {suffix} file ({role}) is missing: {path.stem}{suffix} is not next to it",
                file=path,
                fix=SHAPEFILE_PARTS,
            )
    for part in (path, _sibling(path, ".shx")):
        assert part is not None  # the .shx is there: checked above
        size = part.stat().st_size
        with open(part, "rb") as fh:
            head = fh.read(100)
        if len(head) < 100 or int.from_bytes(head[0:4], "big") != 9994:
            raise InputDataError(
                f"{part.name} is not a shapefile part (its header is not a shapefile header)",
                file=path,
                fix=SHAPEFILE_PARTS,
            )
        declared = 2 * int.from_bytes(head[24:28], "big")
        if size < declared:
            raise InputDataError(
                f"the shapefile is incomplete: {part.name} is {size:,} bytes but its header says {declared:,}",
                file=path,
                fix=COMPLETE_COPY,
            )
    dbf = _sibling(path, ".dbf")
    assert dbf is not None  # checked above
    size = dbf.stat().st_size
    with open(dbf, "rb") as fh:
        head = fh.read(32)
    if len(head) < 32:
        raise InputDataError(
            f"the shapefile is incomplete: {dbf.name} is only {size} bytes", file=path, fix=COMPLETE_COPY
        )
    n_records = int.from_bytes(head[4:8], "little")
    expected = int.from_bytes(head[8:10], "little") + n_records * int.from_bytes(head[10:12], "little")
    if size < expected:
        raise InputDataError(
            f"the shapefile is incomplete: {dbf.name} is {size:,} bytes but its header says "
            f"{n_records:,} records need {expected:,}",
            file=path,
            fix=COMPLETE_COPY,
        )


def _json_problem(path: Path) -> str | None:
    """What is wrong with a (Geo)JSON file GDAL refused, if Python's parser can tell."""
    import json

    if path.stat().st_size > 200_000_000:
        return None
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return f"it is not UTF-8 text (byte {exc.start:,} is not valid), as GeoJSON must be"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"it is not valid JSON: syntax error at line {exc.lineno}, column {exc.colno}"
    if not isinstance(data, dict) or data.get("type") not in (
        "FeatureCollection",
        "Feature",
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    ):
        return 'it is JSON but not GeoJSON (it has no "type": "FeatureCollection")'
    return None


def _unreadable(path: Path, layer: str | None = None, *, read: bool = False) -> InputDataError:
    """The error for a file (or layer) GDAL could not open or read, in plain words."""
    suffix = path.suffix.lower()
    fix = "check that the file is complete and in a format GDAL reads (GeoPackage, shapefile, GeoJSON)"
    if suffix == ".gpkg" and path.is_file():
        with open(path, "rb") as fh:
            magic = fh.read(16)
        if magic != b"SQLite format 3\x00":
            what = "this is not a GeoPackage: its content is not a SQLite database (was another file renamed?)"
            fix = "give the real GeoPackage, or export the layer to GeoPackage again"
        else:
            what = "the GeoPackage is damaged or incomplete"
            fix = COMPLETE_COPY
    elif suffix in (".geojson", ".json") and path.is_file():
        problem = _json_problem(path)
        what = f"cannot read this GeoJSON file: {problem}" if problem else "cannot read this GeoJSON file"
        fix = (
            "export the layer to GeoJSON again, or correct the file at that line"
            if problem and "line" in problem
            else "export the layer to GeoJSON (or GeoPackage) again"
        )
    elif read:
        what = "cannot read this layer: the file is damaged or incomplete"
        fix = COMPLETE_COPY
    else:
        what = "cannot open this file as a vector layer: GDAL does not recognise its format, or it is damaged"
    return InputDataError(what, file=path, layer=layer, fix=fix)


def _not_found(path: Path, what: str = "file") -> InputDataError:
    """``file not found``, with a close name from the same folder when there is one."""
    folder = path.parent
    hint = ""
    if folder.is_dir():
        try:
            names = sorted(p.name for p in folder.iterdir())
        except OSError:
            names = []
        close = difflib.get_close_matches(path.name, names, n=1, cutoff=0.8)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
    elif str(folder) not in ("", "."):
        return InputDataError(f"{what} not found: the folder {folder} does not exist", file=path, fix="check the path")
    return InputDataError(f"{what} not found{hint}", file=path, fix="check the path")


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

    Warns
    -----
    DataWarning
        ``datum_ballpark`` when the layer's datum reaches neither CGCS2000
        nor WGS84 exactly in PROJ (Xian 1980, Beijing 1954 ...: a null shift,
        positions off by up to ~100 m or more), with the number of features;
        and the warnings of the reading itself (``encoding_guessed``,
        ``crs_overridden``).

    Raises
    ------
    InputDataError, CRSError, TooLargeError
        A layer with more than ``settings.max_input_features`` features (a CSV
        with more rows) is refused before it is read.
    """
    path = Path(path)
    if not path.exists():
        raise _not_found(path)
    if path.is_file() and path.stat().st_size == 0:
        raise InputDataError(
            "the file is empty (0 bytes)", file=path, fix="check that the right file was given, or copy it again"
        )
    if path.suffix.lower() in CSV_SUFFIXES:
        size = path.stat().st_size
        if size > 2_000_000_000:
            raise TooLargeError("this CSV is over 2 GB", file=path, fix="split it, or convert it to a GeoPackage")
        if size // 2 > settings.max_input_features:  # a row takes at least two bytes
            rows = _count_rows(path) - 1
            if rows > settings.max_input_features:
                raise TooLargeError(
                    f"the CSV has {rows:,} rows, more than the limit of {settings.max_input_features:,}",
                    file=path,
                    fix="clip it to the study area, or raise settings.max_input_features",
                )
        frame = _read_csv(path, encoding)
        if frame.empty:
            raise InputDataError("the CSV has no rows", file=path, fix="check the file")
        lon_c = _pick_column(frame, lon_column, LON_NAMES, "longitude", path, "lon_column= / --lon-column")
        lat_c = _pick_column(frame, lat_column, LAT_NAMES, "latitude", path, "lat_column= / --lat-column")
        xy = _points_from_csv(frame, path, lon_c, lat_c)
        if crs is None:
            raise CRSError(
                "a CSV carries no coordinate system",
                file=path,
                fix="pass crs='EPSG:4326' (WGS84 / GPS), 'EPSG:4490' (CGCS2000), "
                "'gcj02' (Amap, Tencent) or 'bd09' (Baidu)",
            )
        geoms = shapely.points(xy)
        geoms[~np.isfinite(xy).all(axis=1)] = None
        if "geometry" in {str(c).lower() for c in frame.columns}:  # a text column: kept, not overwritten
            from .columns import keep_input_columns

            frame.attrs.update(source=str(path), layer=None)
            frame, _ = keep_input_columns(frame, {"geometry"})
        gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms), crs=None)
        gdf = _apply_crs(gdf, crs, path, None)
        gdf.attrs.update(source=str(path), layer=None)
        return gdf

    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    if path.suffix.lower() == ".shp":
        _check_shapefile(path)
    try:
        layers = pyogrio.list_layers(path)
    except (DataSourceError, DataLayerError, OSError, ValueError):
        raise _unreadable(path) from None
    names = [str(n) for n in layers[:, 0]] if len(layers) else []
    if not names:
        raise InputDataError("the file has no layer", file=path, fix="check the file")
    if layer is None:
        if len(names) > 1:
            raise InputDataError(
                f"the file has {len(names)} layers ({', '.join(names)})",
                file=path,
                fix="name the layer to use (layer=, or --boundaries-layer, --facilities-layer ... on the command line)",
            )
        layer = names[0]
    elif layer not in names:
        raise InputDataError(
            f"no layer '{layer}'{_suggest(layer, names)}; layers are {', '.join(names)}",
            file=path,
            fix="name one of the file's layers",
        )
    where = layer if len(names) > 1 else None  # messages name the layer where the file has several
    if encoding is None and path.suffix.lower() == ".shp":
        encoding = detect_dbf_encoding(path)
        if encoding == "GB18030":
            warn_data("encoding_guessed", "no .cpg file: attribute text read as GBK (GB18030)", file=path, layer=where)
        elif encoding == "ISO-8859-1":
            warn_data(
                "encoding_guessed",
                "no .cpg file and the text is neither UTF-8 nor GBK: read as Latin-1, Chinese text may be garbled",
                file=path,
                layer=where,
            )
    try:
        info = pyogrio.read_info(path, layer=layer, encoding=encoding)
    except Exception:
        raise _unreadable(path, where, read=True) from None
    count = int(info.get("features") or 0)
    if count > settings.max_input_features:
        raise TooLargeError(
            f"the layer has {count:,} features, more than the limit of {settings.max_input_features:,}",
            file=path,
            layer=where,
            fix="clip the layer to the study area, or raise settings.max_input_features",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = pyogrio.read_dataframe(path, layer=layer, encoding=encoding, on_invalid="ignore")
    except Exception:
        raise _unreadable(path, where, read=True) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise InputDataError(
            "the layer has no geometry",
            file=path,
            layer=where,
            fix="use a spatial layer, or a CSV with lon/lat columns",
        )
    if len(gdf) == 0:
        raise InputDataError(
            "the layer is empty", file=path, layer=where, fix="check that the right file and layer were given"
        )
    gdf = _apply_crs(gdf, crs, path, where)
    gdf.attrs.update(source=str(path), layer=where)
    return gdf
