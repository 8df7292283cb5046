"""Coordinate systems: Chinese web-map datums, CRS parsing, metric CRS choice.

Chinese web maps do not publish coordinates in WGS84. Amap (Gaode), Tencent
and most maps published in China use **GCJ-02**, an obfuscated datum that
shifts WGS84 by a smooth, non-linear offset of a few hundred metres (about
370 m around Meishan). Baidu adds a second offset on top of GCJ-02,
**BD-09** (a further ~900 m or so). POIs copied from those maps must be
converted to WGS84 before they are measured against OpenStreetMap or an
official CGCS2000 layer; otherwise every facility sits on the wrong block.

This module converts between the three datums, vectorised with numpy, and
applies a conversion to arrays of shapely geometries. It also parses the
coordinate-system specs users type (``"gcj02"``, ``"EPSG:4544"``,
``"cgcs2000"``...) and picks a metric CRS for distance work: the CGCS2000
3-degree Gauss-Krüger zone of the data, as Chinese planning submissions use,
or UTM outside China.

Notes
-----
CGCS2000 (EPSG:4490) and WGS84 (EPSG:4326) differ by a few centimetres; at
planning scale they are treated as the same datum, so "WGS84" below stands for
either.

The GCJ-02 forward formula is the widely published one (Krasovsky 1940
ellipsoid, a = 6378245 m, e² = 0.00669342162296594323, with a sine-series
offset). Its inverse has no closed form: the common one-step inverse (subtract
the offset computed at the GCJ-02 point) leaves errors of a metre or so (up
to about 1.8 m around Chengdu and Meishan, 3-5 m in parts of eastern and
north-eastern China). The inverses here iterate on the forward transform until they agree to below
1e-10 degrees (about 0.01 mm), so a round trip is exact to well under a
millimetre.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from servicecircle.errors import CRSError, warn_data

__all__ = [
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
    "out_of_china",
    "transform_geometry_array",
    "parse_crs",
    "is_geographic",
    "gauss_kruger_epsg",
    "utm_epsg",
    "choose_metric_crs",
    "WebDatum",
    "transform_xy",
    "to_crs",
    "ballpark_shift",
    "check_layer_datum",
    "crs_label",
]

#: The names :func:`parse_crs` returns for the two Chinese web-map datums.
WebDatum = Literal["gcj02", "bd09"]

_F64 = NDArray[np.float64]

#: A longitude or latitude: a float for scalar input, else a float64 array.
Coord = float | _F64

# --- GCJ-02 / BD-09 constants (the published formula) -----------------------
_KRASOVSKY_A = 6378245.0  # semi-major axis of the Krasovsky 1940 ellipsoid, m
_KRASOVSKY_EE = 0.00669342162296594323  # first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0  # BD-09 constant

# Rough bounding box outside which GCJ-02 (and BD-09) leave points unchanged.
_CHINA_MIN_LON, _CHINA_MAX_LON = 72.004, 137.8347
_CHINA_MIN_LAT, _CHINA_MAX_LAT = 0.8293, 55.8271

# Iterative inverses stop when the largest change is below this (degrees).
_INVERSE_TOL = 1e-10
_INVERSE_MAX_ITER = 30

# CGCS2000 3-degree Gauss-Krüger zones, central meridian in the name only:
# EPSG:4534 (CM 75°E) ... EPSG:4554 (CM 135°E).
_GK_FIRST_EPSG = 4534
_GK_FIRST_CM = 75
_GK_LAST_CM = 135
_GK_MIN_LON, _GK_MAX_LON = 73.5, 136.5  # edges of the first and last zone
# Centre latitudes for which a Chinese Gauss-Krüger zone is chosen.
_GK_MIN_LAT, _GK_MAX_LAT = 3.0, 54.0

_GCJ_NAMES = {
    "gcj02",
    "gcj02ll",
    "gcj",
    "amap",
    "gaode",
    "autonavi",
    "tencent",
    "qq",
    "高德",
    "腾讯",
    "火星",
    "火星坐标",
}
_BD_NAMES = {"bd09", "bd09ll", "bd", "baidu", "百度"}
_NAMED_EPSG = {
    "wgs84": 4326,
    "wgs1984": 4326,
    "cgcs2000": 4490,
    "cgcs": 4490,
}
_ACCEPTED = (
    "gcj02 (also amap, gaode, tencent), bd09 (also baidu), wgs84, cgcs2000, "
    "an EPSG code such as EPSG:4544 or 4326, a WKT or PROJ string, or a pyproj.CRS"
)


# --------------------------------------------------------------------------
# Chinese web-map datums
# --------------------------------------------------------------------------


def _as_lonlat(lon: ArrayLike, lat: ArrayLike) -> tuple[_F64, _F64, bool]:
    """Broadcast ``lon`` and ``lat`` to float64 arrays; tell whether both were scalars."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    # broadcast_arrays returns read-only views: copy so results can be written,
    # and make scalars 1-D so that boolean masks index them.
    return (
        np.atleast_1d(np.array(lon_a, dtype=np.float64)),
        np.atleast_1d(np.array(lat_a, dtype=np.float64)),
        scalar,
    )


def _result(lon: _F64, lat: _F64, scalar: bool) -> tuple[Coord, Coord]:
    if scalar:
        return float(lon[0]), float(lat[0])
    return lon, lat


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> bool | NDArray[np.bool_]:
    """Tell which points lie outside the rough China box the GCJ-02 formula uses.

    The box is lon 72.004-137.8347°E, lat 0.8293-55.8271°N, the bounds used by
    the published GCJ-02 code. It is a rectangle, not China's border: it takes
    in parts of neighbouring countries and the sea, where the offset is applied
    all the same, as the web maps do.

    Parameters
    ----------
    lon, lat
        Degrees, scalars or array-likes (broadcast together).

    Returns
    -------
    bool or numpy.ndarray of bool
        True outside the box. NaN coordinates count as inside (they stay NaN).
    """
    lon_a, lat_a, scalar = _as_lonlat(lon, lat)
    out = _outside(lon_a, lat_a)
    return bool(out[0]) if scalar else out


def _outside(lon: _F64, lat: _F64) -> NDArray[np.bool_]:
    return (lon < _CHINA_MIN_LON) | (lon > _CHINA_MAX_LON) | (lat < _CHINA_MIN_LAT) | (lat > _CHINA_MAX_LAT)


def _gcj02_offset(lon: _F64, lat: _F64) -> tuple[_F64, _F64]:
    """GCJ-02 minus WGS84 at WGS84 point (lon, lat), in degrees, with no China test."""
    x = lon - 105.0
    y = lat - 35.0
    xpi = x * np.pi
    ypi = y * np.pi
    # Shared sine terms, then one series per axis (values in metres of arc).
    common = (20.0 * np.sin(6.0 * xpi) + 20.0 * np.sin(2.0 * xpi)) * (2.0 / 3.0)
    dlat_m = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(ypi) + 40.0 * np.sin(ypi / 3.0)) * (2.0 / 3.0)
        + (160.0 * np.sin(ypi / 12.0) + 320.0 * np.sin(ypi / 30.0)) * (2.0 / 3.0)
    )
    dlon_m = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(xpi) + 40.0 * np.sin(xpi / 3.0)) * (2.0 / 3.0)
        + (150.0 * np.sin(xpi / 12.0) + 300.0 * np.sin(xpi / 30.0)) * (2.0 / 3.0)
    )
    # Metres of arc to degrees on the Krasovsky ellipsoid: meridian radius M
    # for latitude, parallel radius N cos(lat) for longitude.
    phi = np.radians(lat)
    w2 = 1.0 - _KRASOVSKY_EE * np.sin(phi) ** 2
    w = np.sqrt(w2)
    meridian_radius = _KRASOVSKY_A * (1.0 - _KRASOVSKY_EE) / (w2 * w)
    parallel_radius = _KRASOVSKY_A / w * np.cos(phi)
    dlat = dlat_m * 180.0 / (meridian_radius * np.pi)
    dlon = dlon_m * 180.0 / (parallel_radius * np.pi)
    return dlon, dlat


def _bd09_forward(lon: _F64, lat: _F64) -> tuple[_F64, _F64]:
    """BD-09 from GCJ-02 by the published formula, with no China test."""
    r = np.hypot(lon, lat) + 2e-5 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 3e-6 * np.cos(lon * _X_PI)
    return r * np.cos(theta) + 0.0065, r * np.sin(theta) + 0.006


def _bd09_one_step_inverse(lon: _F64, lat: _F64) -> tuple[_F64, _F64]:
    """The usual closed-form approximation of GCJ-02 from BD-09 (a starting value)."""
    x = lon - 0.0065
    y = lat - 0.006
    r = np.hypot(x, y) - 2e-5 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 3e-6 * np.cos(x * _X_PI)
    return r * np.cos(theta), r * np.sin(theta)


def _invert(
    forward: Callable[[_F64, _F64], tuple[_F64, _F64]],
    lon: _F64,
    lat: _F64,
    start_lon: _F64,
    start_lat: _F64,
) -> tuple[_F64, _F64]:
    """Solve ``forward(x) = (lon, lat)`` by fixed-point iteration.

    ``x <- x + target - forward(x)``: the forward transforms here are the
    identity plus a slowly varying offset, so this contracts fast (a handful
    of steps to 1e-10 degrees). Points whose step has fallen below the
    tolerance are left alone; NaNs stay NaN.
    """
    x_lon = start_lon.copy()
    x_lat = start_lat.copy()
    active = np.isfinite(x_lon) & np.isfinite(x_lat)
    for _ in range(_INVERSE_MAX_ITER):
        if not active.any():
            break
        f_lon, f_lat = forward(x_lon[active], x_lat[active])
        step_lon = lon[active] - f_lon
        step_lat = lat[active] - f_lat
        x_lon[active] += step_lon
        x_lat[active] += step_lat
        done = np.maximum(np.abs(step_lon), np.abs(step_lat)) < _INVERSE_TOL
        active[np.flatnonzero(active)[done]] = False
    return x_lon, x_lat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """Convert WGS84 (or CGCS2000) longitude/latitude to GCJ-02 (Amap, Tencent).

    Uses the widely published GCJ-02 formula (Krasovsky 1940 ellipsoid and a
    sine-series offset). Points outside the rough China box
    (lon < 72.004 or > 137.8347, lat < 0.8293 or > 55.8271; see
    :func:`out_of_china`) are returned unchanged, as the web maps do.

    Parameters
    ----------
    lon, lat
        WGS84 degrees: scalars or array-likes of any shape (broadcast together).

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02: floats for scalar input, else float64 arrays.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
    >>> round(lon, 6), round(lat, 6)
    (116.410244, 39.916404)
    """
    lon_a, lat_a, scalar = _as_lonlat(lon, lat)
    inside = ~_outside(lon_a, lat_a)
    dlon, dlat = _gcj02_offset(lon_a[inside], lat_a[inside])
    lon_a[inside] += dlon
    lat_a[inside] += dlat
    return _result(lon_a, lat_a, scalar)


def _gcj02_forward(lon: _F64, lat: _F64) -> tuple[_F64, _F64]:
    dlon, dlat = _gcj02_offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """Convert GCJ-02 (Amap, Tencent) longitude/latitude to WGS84, iteratively.

    GCJ-02 has no closed-form inverse. The common one-step inverse (subtract
    the offset computed at the GCJ-02 point) leaves errors of about a metre
    (up to ~1.8 m around Chengdu, a few metres elsewhere). This function
    starts from that estimate and iterates on the forward transform
    (fixed-point iteration) until the largest change is below
    1e-10 degrees or 30 iterations have run, so that
    ``wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))`` returns the input to well
    under a millimetre.

    Points whose GCJ-02 coordinates lie outside the rough China box (see
    :func:`out_of_china`) are returned unchanged. Within a few hundred metres
    of that box's edge (sea or foreign land, never mainland China) a point
    and its GCJ-02 image can fall on different sides of it; there the round
    trip is not exact.

    Parameters
    ----------
    lon, lat
        GCJ-02 degrees: scalars or array-likes (broadcast together).

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS84: floats for scalar input, else float64 arrays.
    """
    lon_a, lat_a, scalar = _as_lonlat(lon, lat)
    inside = ~_outside(lon_a, lat_a)
    g_lon, g_lat = lon_a[inside], lat_a[inside]
    dlon, dlat = _gcj02_offset(g_lon, g_lat)
    w_lon, w_lat = _invert(_gcj02_forward, g_lon, g_lat, g_lon - dlon, g_lat - dlat)
    lon_a[inside] = w_lon
    lat_a[inside] = w_lat
    return _result(lon_a, lat_a, scalar)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """Convert GCJ-02 longitude/latitude to BD-09 (Baidu).

    Uses the published BD-09 formula (a small rotation and scaling about the
    origin with ``x_pi = pi * 3000 / 180``, then a shift of 0.0065°/0.006°).
    Points outside the rough China box (see :func:`out_of_china`) are
    returned unchanged, as in :func:`wgs84_to_gcj02`.

    Parameters
    ----------
    lon, lat
        GCJ-02 degrees: scalars or array-likes (broadcast together).

    Returns
    -------
    tuple
        ``(lon, lat)`` in BD-09: floats for scalar input, else float64 arrays.
    """
    lon_a, lat_a, scalar = _as_lonlat(lon, lat)
    inside = ~_outside(lon_a, lat_a)
    b_lon, b_lat = _bd09_forward(lon_a[inside], lat_a[inside])
    lon_a[inside] = b_lon
    lat_a[inside] = b_lat
    return _result(lon_a, lat_a, scalar)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """Convert BD-09 (Baidu) longitude/latitude to GCJ-02, iteratively.

    Starts from the usual closed-form approximation and iterates on
    :func:`gcj02_to_bd09` until the largest change is below 1e-10 degrees or
    30 iterations have run, so the round trip is exact to well under a
    millimetre. Points whose BD-09 coordinates lie outside the rough China
    box (see :func:`out_of_china`) are returned unchanged.

    Parameters
    ----------
    lon, lat
        BD-09 degrees: scalars or array-likes (broadcast together).

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02: floats for scalar input, else float64 arrays.
    """
    lon_a, lat_a, scalar = _as_lonlat(lon, lat)
    inside = ~_outside(lon_a, lat_a)
    b_lon, b_lat = lon_a[inside], lat_a[inside]
    s_lon, s_lat = _bd09_one_step_inverse(b_lon, b_lat)
    g_lon, g_lat = _invert(_bd09_forward, b_lon, b_lat, s_lon, s_lat)
    lon_a[inside] = g_lon
    lat_a[inside] = g_lat
    return _result(lon_a, lat_a, scalar)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """Convert WGS84 longitude/latitude to BD-09 (Baidu), through GCJ-02.

    Parameters
    ----------
    lon, lat
        WGS84 degrees: scalars or array-likes (broadcast together).

    Returns
    -------
    tuple
        ``(lon, lat)`` in BD-09: floats for scalar input, else float64 arrays.
        Points outside the rough China box are returned unchanged.
    """
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    return gcj02_to_bd09(g_lon, g_lat)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """Convert BD-09 (Baidu) longitude/latitude to WGS84, through GCJ-02.

    Both steps are the iterative inverses (:func:`bd09_to_gcj02`, then
    :func:`gcj02_to_wgs84`), accurate to well under a millimetre.

    Parameters
    ----------
    lon, lat
        BD-09 degrees: scalars or array-likes (broadcast together).

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS84: floats for scalar input, else float64 arrays.
        Points outside the rough China box are returned unchanged.
    """
    g_lon, g_lat = bd09_to_gcj02(lon, lat)
    return gcj02_to_wgs84(g_lon, g_lat)


# --------------------------------------------------------------------------
# Geometries
# --------------------------------------------------------------------------


def transform_geometry_array(geoms: Any, func: Callable[[Any, Any], tuple[Any, Any]]) -> Any:
    """Apply a ``(lon, lat)`` conversion to every vertex of many geometries.

    Parameters
    ----------
    geoms
        A numpy array (or sequence) of shapely 2 geometries, a single
        geometry, or a :class:`geopandas.GeoSeries`. Missing geometries
        (``None``) stay missing, empty ones stay empty.
    func
        A function taking ``(lon, lat)`` arrays and returning ``(lon, lat)``
        arrays of the same length, such as :func:`gcj02_to_wgs84`.

    Returns
    -------
    Same kind as ``geoms``
        A numpy array of geometries (or one geometry). A GeoSeries comes back
        as a GeoSeries with the same index, name and ``crs``: the CRS label is
        not changed, set it yourself if needed (e.g.
        ``.set_crs("EPSG:4326", allow_override=True)`` after converting to
        WGS84).

    Notes
    -----
    Vectorised with :func:`shapely.transform`: ``func`` is called once for the
    2D geometries and once for those with Z values. Z values are kept
    untouched; nothing is dropped.
    """

    def xy_only(coords: _F64) -> _F64:
        out = np.array(coords, dtype=np.float64, copy=True)
        if len(out):
            new_lon, new_lat = func(out[:, 0], out[:, 1])
            out[:, 0] = new_lon
            out[:, 1] = new_lat
        return out

    series = None
    try:  # geopandas is a dependency, but keep this module importable without it
        import geopandas as gpd

        if isinstance(geoms, gpd.GeoSeries):
            series = geoms
            geoms = geoms.values
    except ImportError:  # pragma: no cover
        pass

    single = isinstance(geoms, shapely.Geometry)
    arr = np.array([geoms], dtype=object) if single else np.asarray(geoms, dtype=object)
    out = np.empty(arr.shape, dtype=object)
    has_z = shapely.has_z(arr)  # False for None and for empty geometries
    flat_2d = ~has_z
    if flat_2d.any():
        out[flat_2d] = shapely.transform(arr[flat_2d], xy_only, include_z=False)
    if has_z.any():
        out[has_z] = shapely.transform(arr[has_z], xy_only, include_z=True)

    if series is not None:
        import geopandas as gpd

        return gpd.GeoSeries(out, index=series.index, name=series.name, crs=series.crs)
    return out[0] if single else out


# --------------------------------------------------------------------------
# Coordinate-system specs
# --------------------------------------------------------------------------


def _describe(spec: Any) -> str:
    """The spec as shown in a one-line message: whitespace collapsed, cut at 80 characters."""
    text = " ".join(str(spec).split()) if isinstance(spec, str) else " ".join(repr(spec).split())
    if len(text) > 80:
        text = text[:77] + "..."
    return f"'{text}'" if isinstance(spec, str) else text


def parse_crs(spec: Any) -> WebDatum | pyproj.CRS:
    """Parse a user's coordinate-system spec.

    Parameters
    ----------
    spec
        Case-insensitive; hyphens, underscores and spaces are ignored in the
        names below.

        - ``"gcj02"``, ``"GCJ-02"``, ``"gcj"``, ``"amap"``, ``"gaode"``,
          ``"tencent"`` (also 高德, 腾讯): the GCJ-02 web-map datum.
        - ``"bd09"``, ``"BD-09"``, ``"bd09ll"``, ``"baidu"`` (also 百度): BD-09.
        - ``"wgs84"`` (EPSG:4326), ``"cgcs2000"`` (EPSG:4490).
        - An EPSG code: ``"EPSG:4544"``, ``"4544"`` or ``4544``.
        - Anything else :func:`pyproj.CRS.from_user_input` accepts (WKT,
          PROJ string, authority code, a :class:`pyproj.CRS`).

    Returns
    -------
    str or pyproj.CRS
        ``"gcj02"`` or ``"bd09"`` for the web-map datums (pyproj does not
        know them), else a :class:`pyproj.CRS`.

    Raises
    ------
    CRSError
        If the spec is empty or not understood; the one-line message names it
        and lists what is accepted.
    """
    if isinstance(spec, pyproj.CRS):
        return spec
    if spec is None or isinstance(spec, bool):
        raise CRSError(f"no usable coordinate system given ({_describe(spec)})", fix=f"use one of: {_ACCEPTED}")
    if isinstance(spec, (int, np.integer)):
        return _crs_or_error(f"EPSG:{int(spec)}", spec)
    if isinstance(spec, str):
        text = spec.strip()
        if not text:
            raise CRSError("the coordinate system is an empty string", fix=f"use one of: {_ACCEPTED}")
        key = text.lower()
        for char in " -_":
            key = key.replace(char, "")
        if key in _GCJ_NAMES:
            return "gcj02"
        if key in _BD_NAMES:
            return "bd09"
        if key in _NAMED_EPSG:
            return pyproj.CRS.from_epsg(_NAMED_EPSG[key])
        if key.isdigit():
            return _crs_or_error(f"EPSG:{int(key)}", spec)
        return _crs_or_error(text, spec)
    return _crs_or_error(spec, spec)


def _crs_or_error(value: Any, spec: Any) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(value)
    except (pyproj.exceptions.CRSError, TypeError, ValueError):
        raise CRSError(
            f"unknown coordinate system {_describe(spec)}",
            fix=f"use one of: {_ACCEPTED}",
        ) from None


def is_geographic(crs: Any) -> bool:
    """Tell whether a CRS spec has longitude/latitude coordinates.

    Parameters
    ----------
    crs
        Anything :func:`parse_crs` accepts.

    Returns
    -------
    bool
        True for geographic CRSs and for the GCJ-02 / BD-09 web-map datums.
    """
    parsed = parse_crs(crs)
    if isinstance(parsed, str):
        return True
    return bool(parsed.is_geographic)


# --------------------------------------------------------------------------
# Metric CRS choice
# --------------------------------------------------------------------------


def _gk_zone_number(lon: float) -> int:
    """Number of the 3-degree zone whose central meridian (3 n °E) is nearest."""
    return math.floor((lon + 1.5) / 3.0)


def gauss_kruger_epsg(lon: float) -> int | None:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger zone nearest ``lon``.

    These are the zones without the zone number in the easting (false easting
    500 km): EPSG:4534 (central meridian 75°E) to EPSG:4554 (135°E), one every
    3°. Each zone reaches 1.5° either side of its central meridian; a
    longitude exactly on a zone line goes to the zone east of it.

    Parameters
    ----------
    lon
        Longitude in degrees east.

    Returns
    -------
    int or None
        The EPSG code, or None if ``lon`` is outside [73.5, 136.5) or not finite.

    Examples
    --------
    >>> gauss_kruger_epsg(103.8)  # Meishan, central meridian 105°E
    4544
    >>> gauss_kruger_epsg(103.0)  # Hongya, central meridian 102°E
    4543
    """
    lon = float(lon)
    if not math.isfinite(lon) or not (_GK_MIN_LON <= lon < _GK_MAX_LON):
        return None
    central_meridian = 3 * _gk_zone_number(lon)
    return _GK_FIRST_EPSG + (central_meridian - _GK_FIRST_CM) // 3


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 UTM zone of a point (326xx north, 327xx south).

    Follows the standard zone grid, including the wider zones over south-west
    Norway (32V) and Svalbard (31X-37X). A longitude of 180° goes to zone 60.

    Parameters
    ----------
    lon, lat
        Degrees.

    Returns
    -------
    int
        32601-32660 for ``lat >= 0``, 32701-32760 otherwise.

    Raises
    ------
    ValueError
        If a coordinate is not finite or out of range.
    """
    lon = float(lon)
    lat = float(lat)
    if not (math.isfinite(lon) and math.isfinite(lat)) or not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise ValueError(f"not a longitude/latitude: ({lon}, {lat})")
    zone = min(math.floor((lon + 180.0) / 6.0) + 1, 60)
    if 56.0 <= lat < 64.0 and 3.0 <= lon < 12.0:
        zone = 32
    elif 72.0 <= lat <= 84.0 and 0.0 <= lon < 42.0:
        zone = 31 if lon < 9.0 else 33 if lon < 21.0 else 35 if lon < 33.0 else 37
    return (32600 if lat >= 0 else 32700) + zone


def _check_metric(crs: Any) -> pyproj.CRS:
    parsed = parse_crs(crs)
    name = _describe(crs) if not isinstance(crs, pyproj.CRS) else f"{crs.name!r}"
    fix = "pick a projected coordinate system in metres, e.g. EPSG:4544 (CGCS2000 Gauss-Krüger CM 105°E)"
    if isinstance(parsed, str):
        raise CRSError(f"{name} is a longitude/latitude web-map datum, not a metric coordinate system", fix=fix)
    horizontal = parsed
    if parsed.is_compound and parsed.sub_crs_list:
        horizontal = parsed.sub_crs_list[0]
    units = {axis.unit_name.lower() for axis in horizontal.axis_info[:2]}
    if not horizontal.is_projected or not units <= {"metre", "meter"}:
        what = "not projected" if not horizontal.is_projected else f"in {', '.join(sorted(units))}, not metres"
        raise CRSError(f"coordinate system {name} ({parsed.name}) is {what}", fix=fix)
    method = (horizontal.coordinate_operation.method_name if horizontal.coordinate_operation else "").lower()
    if "mercator" in method and "transverse" not in method:
        raise CRSError(
            f"coordinate system {name} ({parsed.name}) is a Mercator projection, which stretches "
            "distances by 1/cos(latitude) (about 15% at 30°N)",
            fix=fix,
        )
    return parsed


def choose_metric_crs(bounds: Sequence[float] | ArrayLike, *, crs: Any = None) -> pyproj.CRS:
    """Choose a projected CRS in metres for data with the given extent.

    Parameters
    ----------
    bounds
        ``(minlon, minlat, maxlon, maxlat)`` of the data in longitude/latitude
        degrees (WGS84 or CGCS2000), e.g. ``GeoDataFrame.total_bounds`` of a
        layer in EPSG:4326.
    crs
        A CRS the user asked for (anything :func:`parse_crs` accepts). If
        given it is used as is, after checking that it is projected with
        metre units.

    Returns
    -------
    pyproj.CRS
        ``crs`` if given. Otherwise the CGCS2000 3-degree Gauss-Krüger zone
        (EPSG:4534-4554) whose central meridian is nearest the centre of
        ``bounds``, when the centre lies in China's longitude (73.5-136.5°E)
        and latitude (3-54°N) range; else the WGS84 UTM zone of the centre.
        Note that pyproj lists the Gauss-Krüger axes northing first: use
        ``pyproj.Transformer.from_crs(..., always_xy=True)``.

    Raises
    ------
    CRSError
        If ``crs`` is not a projected metric CRS, or ``bounds`` are not four
        finite longitude/latitude values.

    Warns
    -----
    DataWarning
        ``crs_zone_span`` when the data reach across more than one zone: the
        west and east edges fall in different zones. Distances far from the
        chosen zone's central meridian are then slightly stretched (about
        1 m per km at 3° from it, around 30°N).
    """
    if crs is not None:
        return _check_metric(crs)

    try:
        minlon, minlat, maxlon, maxlat = (float(v) for v in np.asarray(bounds, dtype=np.float64).ravel())
    except (TypeError, ValueError):
        raise CRSError(
            f"bounds {_describe(bounds)} are not four numbers (minlon, minlat, maxlon, maxlat)",
            fix="give the extent in longitude/latitude degrees",
        ) from None
    values = (minlon, minlat, maxlon, maxlat)
    if (
        not all(math.isfinite(v) for v in values)
        or not (-180.0 <= minlon <= maxlon <= 180.0)
        or not (-90.0 <= minlat <= maxlat <= 90.0)
    ):
        raise CRSError(
            f"bounds {values} are not a longitude/latitude extent (minlon, minlat, maxlon, maxlat)",
            fix="reproject the data to EPSG:4326 or EPSG:4490 before choosing a metric coordinate system",
        )

    clon = (minlon + maxlon) / 2.0
    clat = (minlat + maxlat) / 2.0
    gk = gauss_kruger_epsg(clon)
    if gk is not None and _GK_MIN_LAT <= clat <= _GK_MAX_LAT:
        # Zones past the first or last one do not exist: data reaching beyond
        # 73.5°E or 136.5°E still belong to the edge zone.
        west = min(max(_gk_zone_number(minlon), _GK_FIRST_CM // 3), _GK_LAST_CM // 3)
        east = min(max(_gk_zone_number(maxlon), _GK_FIRST_CM // 3), _GK_LAST_CM // 3)
        if west != east:
            first = _GK_FIRST_EPSG + west - _GK_FIRST_CM // 3
            last = _GK_FIRST_EPSG + east - _GK_FIRST_CM // 3
            warn_data(
                "crs_zone_span",
                f"the data ({minlon:.4f} to {maxlon:.4f}°E) span Gauss-Krüger zones "
                f"from EPSG:{first} (central meridian {3 * west}°E) "
                f"to EPSG:{last} (central meridian {3 * east}°E); "
                f"using EPSG:{gk} (central meridian {3 * _gk_zone_number(clon)}°E), "
                "the zone of their centre, so distances far from it are slightly stretched",
            )
        return pyproj.CRS.from_epsg(gk)

    code = utm_epsg(clon, clat)
    west_code = utm_epsg(minlon, clat)
    east_code = utm_epsg(maxlon, clat)
    if west_code != east_code:
        warn_data(
            "crs_zone_span",
            f"the data ({minlon:.4f} to {maxlon:.4f}°E) span UTM zones "
            f"from EPSG:{west_code} to EPSG:{east_code}; using EPSG:{code}, "
            "the zone of their centre, so distances far from it are slightly stretched",
        )
    return pyproj.CRS.from_epsg(code)


_TRANSFORMERS: dict[tuple[str, str], pyproj.Transformer] = {}


def transform_xy(x: ArrayLike, y: ArrayLike, src: Any, dst: Any) -> tuple[_F64, _F64]:
    """Reproject coordinate arrays (x = easting/longitude), with a reused transformer.

    Creating a pyproj transformer between WGS84 and a CGCS2000 projection takes
    about 0.1 s (PROJ searches its database for the operation); geopandas'
    ``to_crs`` pays that on every call. This keeps one transformer per pair of
    CRSs for the process and runs it backwards for the reverse pair. Between
    WGS84 and CGCS2000 lon/lat the coordinates come back as they are, as PROJ
    itself returns them (see :func:`_ballpark_to_cgcs2000`).

    Warns
    -----
    DataWarning
        ``datum_ballpark``, once per pair of CRSs, when PROJ has no exact
        transformation between their datums for these coordinates and falls
        back to a "ballpark" (null) shift, as between Xian 1980 or Beijing 1954
        and CGCS2000 (see :func:`ballpark_shift`).
    """
    a, b = _ballpark_to_cgcs2000(pyproj.CRS.from_user_input(src), pyproj.CRS.from_user_input(dst))
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ka, kb = a.to_wkt(), b.to_wkt()
    if ka == kb:
        return x.copy(), y.copy()
    _check_pair(a, b, ka, kb, x, y)
    if (kb, ka) in _TRANSFORMERS:
        return _TRANSFORMERS[(kb, ka)].transform(x, y, direction=pyproj.enums.TransformDirection.INVERSE)
    if (ka, kb) not in _TRANSFORMERS:
        _TRANSFORMERS[(ka, kb)] = pyproj.Transformer.from_crs(a, b, always_xy=True)
    return _TRANSFORMERS[(ka, kb)].transform(x, y)


_WGS84 = pyproj.CRS.from_epsg(4326)
_CGCS2000 = pyproj.CRS.from_epsg(4490)


def _ballpark_to_cgcs2000(a: pyproj.CRS, b: pyproj.CRS) -> tuple[pyproj.CRS, pyproj.CRS]:
    """Read WGS84 as CGCS2000 when the other side is on CGCS2000.

    No transformation between the two datums is published, so PROJ joins them
    with a "ballpark" (null) offset: the numbers are the same either way (they
    differ by centimetres in reality), but finding that out costs PROJ 0.1–0.2 s
    per transformer. Starting from CGCS2000's own geographic CRS skips the search.
    """

    def on_cgcs2000(crs: pyproj.CRS) -> bool:
        geo = crs.geodetic_crs
        return geo is not None and geo.datum is not None and "China 2000" in geo.datum.name

    if a == _WGS84 and on_cgcs2000(b):
        return _CGCS2000, b
    if b == _WGS84 and on_cgcs2000(a):
        return a, _CGCS2000
    return a, b


# --------------------------------------------------------------------------
# Datum shifts PROJ cannot do exactly
# --------------------------------------------------------------------------

#: The datums of WGS84 and CGCS2000: they agree to a few centimetres, so PROJ's null ("ballpark") shift
#: between them is right at planning scale and is never reported.
_SAME_DATUMS = (_WGS84.datum, _CGCS2000.datum)

#: The pairs of CRSs already examined (``(wkt, wkt)``, both directions) and the ballpark pairs already reported.
_PAIRS_CHECKED: set[tuple[str, str]] = set()
_BALLPARK_REPORTED: set[frozenset[str]] = set()

_GROUP = "WGS 84 / CGCS2000"


def _on_wgs84_or_cgcs2000(crs: pyproj.CRS) -> bool:
    geo = crs.geodetic_crs
    datum = geo.datum if geo is not None else None
    return datum is not None and any(datum == d for d in _SAME_DATUMS)


def _report_key(a: pyproj.CRS, b: pyproj.CRS) -> frozenset[str]:
    """One key per pair for :data:`_BALLPARK_REPORTED`: WGS84 and CGCS2000 (any of their projections) count as one."""
    return frozenset(_GROUP if _on_wgs84_or_cgcs2000(c) else c.to_wkt() for c in (a, b))


def _ballpark_steps(transformer: pyproj.Transformer) -> list[Any]:
    """The steps of a transformer that are ballpark datum shifts, WGS84 ↔ CGCS2000 left out."""
    ops = list(transformer.operations or ())
    if not ops:
        text = transformer.to_json()
        if text:
            ops = [pyproj.crs.CoordinateOperation.from_json(text)]
    found = []
    for op in ops:
        if not op.has_ballpark_transformation:
            continue
        spec = op.to_json_dict()
        try:
            ends = [pyproj.CRS.from_json_dict(spec[k]) for k in ("source_crs", "target_crs")]
        except (KeyError, TypeError, pyproj.exceptions.CRSError):
            ends = []
        if not (ends and all(_on_wgs84_or_cgcs2000(c) for c in ends)):
            found.append(op)
    return found


def ballpark_shift(src: Any, dst: Any, lonlat_bounds: Sequence[float] | None = None) -> bool:
    """Tell whether PROJ transforms ``src`` to ``dst`` only with a "ballpark" datum shift.

    When PROJ knows no transformation between two datums (Xian 1980 or Beijing
    1954 and CGCS2000 or WGS84, for example: their official parameters are not
    public), it joins them with a null shift, a "ballpark" operation, and the
    coordinates come out as they went in, off by the datums' difference: up to
    about 100 m or more in China. This reads it from the operations PROJ
    chooses (``has_ballpark_transformation``), not from the CRSs' names. A
    ballpark shift between WGS84 and CGCS2000 is right to a few centimetres and
    does not count.

    Parameters
    ----------
    src, dst
        Anything :func:`pyproj.CRS.from_user_input` accepts.
    lonlat_bounds
        ``(minlon, minlat, maxlon, maxlat)`` of the data on ``src``'s own datum.
        Where PROJ has several transformations, each for an area (Beijing 1954
        to WGS84 has some for oil fields), the one for this area decides; where
        none covers it, PROJ uses the ballpark one. Without bounds, the best
        transformation anywhere decides.

    Returns
    -------
    bool

    Examples
    --------
    >>> ballpark_shift("EPSG:4610", "EPSG:4544")  # Xian 1980 to CGCS2000 / Gauss-Krüger CM 105E
    True
    >>> ballpark_shift("EPSG:4326", "EPSG:4544")  # WGS84 to CGCS2000: centimetres
    False
    >>> ballpark_shift("EPSG:4214", "EPSG:4326", (104.0, 30.6, 104.1, 30.7))  # Beijing 1954 at Chengdu
    True
    >>> ballpark_shift("EPSG:4214", "EPSG:4326", (108.5, 36.5, 108.6, 36.6))  # ... in the Ordos basin
    False
    """
    a, b = pyproj.CRS.from_user_input(src), pyproj.CRS.from_user_input(dst)
    if _on_wgs84_or_cgcs2000(a) and _on_wgs84_or_cgcs2000(b):
        return False
    transformer = pyproj.Transformer.from_crs(a, b, always_xy=True)
    if transformer.operations or transformer.to_json():
        return bool(_ballpark_steps(transformer))
    # several candidate operations, chosen point by point: the best one for the data's area decides
    from pyproj.transformer import AreaOfInterest, TransformerGroup

    aoi = None if lonlat_bounds is None else AreaOfInterest(*(float(v) for v in lonlat_bounds))
    group = TransformerGroup(a, b, always_xy=True, area_of_interest=aoi)
    return not group.transformers or bool(_ballpark_steps(group.transformers[0]))


def crs_label(crs: Any) -> str:
    """A CRS as messages name it: ``Xian 1980 (EPSG:4610)``, or its name alone when it has no EPSG code."""
    parsed = pyproj.CRS.from_user_input(crs)
    code = parsed.to_epsg()
    return f"{parsed.name} (EPSG:{code})" if code else parsed.name


_DATUM_FIX = "reproject {it} in a GIS with the official transformation parameters, or give {it} in CGCS2000 (EPSG:4490)"


def _lonlat_bounds_of(crs: pyproj.CRS, x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float] | None:
    """Bounds of the finite points on ``crs``'s own geographic CRS (no datum shift), or None."""
    ok = np.isfinite(x) & np.isfinite(y)
    geo = crs.geodetic_crs
    if not ok.any() or geo is None:
        return None
    minx, miny, maxx, maxy = float(x[ok].min()), float(y[ok].min()), float(x[ok].max()), float(y[ok].max())
    if crs.is_geographic:
        return minx, miny, maxx, maxy
    bounds = pyproj.Transformer.from_crs(crs, geo, always_xy=True).transform_bounds(minx, miny, maxx, maxy)
    return tuple(float(v) for v in bounds) if all(math.isfinite(v) for v in bounds) else None  # type: ignore[return-value]


def _check_pair(
    a: pyproj.CRS,
    b: pyproj.CRS,
    ka: str,
    kb: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    file: Any = None,
    layer: str | None = None,
    count: int | None = None,
) -> None:
    """Warn (``datum_ballpark``) the first time a pair of CRSs is transformed with a ballpark datum shift."""
    if (ka, kb) in _PAIRS_CHECKED:
        return
    if _on_wgs84_or_cgcs2000(a) and _on_wgs84_or_cgcs2000(b):
        _PAIRS_CHECKED.update({(ka, kb), (kb, ka)})
        return
    try:
        bounds = _lonlat_bounds_of(a, x, y)
        if bounds is None:
            return  # nothing to transform: the pair is examined when there is
        _PAIRS_CHECKED.update({(ka, kb), (kb, ka)})
        if not ballpark_shift(a, b, bounds):
            return
    except pyproj.exceptions.ProjError:
        return  # not transformable at all: the transformation itself will say so
    key = _report_key(a, b)
    if key in _BALLPARK_REPORTED:
        return
    _BALLPARK_REPORTED.add(key)
    where = "the layer" if file is not None else "the data"
    moved = f"the positions of these {count:,} features" if count is not None else "positions"
    warn_data(
        "datum_ballpark",
        f"PROJ can transform {crs_label(a)} to {crs_label(b)} only with a ballpark (null) datum shift: "
        f"{moved} may be off by up to ~100 m or more; " + _DATUM_FIX.format(it=where),
        file=file,
        layer=layer,
        count=count if count is not None else 1,
        stacklevel=4,
    )


def check_layer_datum(
    crs: Any,
    *,
    bounds: Sequence[float] | None = None,
    file: Any = None,
    layer: str | None = None,
    count: int | None = None,
) -> bool:
    """Warn (``datum_ballpark``) when a layer's CRS reaches neither CGCS2000 nor WGS84 exactly.

    Called by the layer reader for every layer it reads (every time): a layer
    in Xian 1980 or Beijing 1954 (EPSG:4610, EPSG:4214 and their Gauss-Krüger
    projections) is placed among the OpenStreetMap streets and the other
    layers with PROJ's null shift, so it may sit ~100 m or more off. Later
    transformations of the same CRS to CGCS2000 or WGS84 (:func:`transform_xy`,
    :func:`to_crs`) do not warn again.

    Parameters
    ----------
    crs
        The layer's coordinate system.
    bounds
        ``(minx, miny, maxx, maxy)`` of the layer, in ``crs``: where PROJ has
        transformations for some areas only, whether one covers the layer
        decides (see :func:`ballpark_shift`).
    file, layer
        Where the layer was read from, for the message.
    count
        Its number of features with a geometry.

    Returns
    -------
    bool
        True when it warned.
    """
    a = pyproj.CRS.from_user_input(crs)
    if _on_wgs84_or_cgcs2000(a):
        return False
    try:
        lonlat = None
        if bounds is not None:
            x0, y0, x1, y1 = (float(v) for v in bounds)
            lonlat = _lonlat_bounds_of(a, np.array([x0, x1]), np.array([y0, y1]))
        if not (ballpark_shift(a, _CGCS2000, lonlat) and ballpark_shift(a, _WGS84, lonlat)):
            return False
    except pyproj.exceptions.ProjError:
        return False  # no transformation at all (a local CRS): the transformation itself will say so
    _BALLPARK_REPORTED.add(_report_key(a, _CGCS2000))
    moved = f"the positions of its {count:,} features" if count is not None else "its positions"
    warn_data(
        "datum_ballpark",
        f"the layer is in {crs_label(a)}, which PROJ can transform to {crs_label(_CGCS2000)} or "
        f"{crs_label(_WGS84)} only with a ballpark (null) datum shift: {moved} may be off by up to ~100 m or more; "
        + _DATUM_FIX.format(it="the layer"),
        file=file,
        layer=layer,
        count=count if count is not None else 1,
        stacklevel=3,
    )
    return True


def reproject_geometries(geoms: Any, src: Any, dst: Any) -> np.ndarray:
    """:func:`transform_xy` over an array of shapely geometries (missing stay missing)."""
    arr = np.asarray(geoms, dtype=object)

    def move(xy: np.ndarray) -> np.ndarray:
        x, y = transform_xy(xy[:, 0], xy[:, 1], src, dst)
        return np.column_stack([x, y])

    if arr.ndim == 1 and len(arr) and (shapely.get_type_id(arr) == 1).all() and not shapely.has_z(arr).any():
        # plain lines (a street network): built anew from their moved points, faster than
        # shapely.transform's copy-then-overwrite for a million of them (the same geometries)
        xy, owner = shapely.get_coordinates(arr, return_index=True)
        if len(owner) and (np.bincount(owner, minlength=len(arr)) >= 2).all():
            return np.asarray(shapely.linestrings(move(xy), indices=owner), dtype=object)
    return shapely.transform(arr, move)


def _check_frame(frame: Any, dst: pyproj.CRS) -> None:
    """:func:`_check_pair` for a whole frame, naming the file and layer it was read from and its features."""
    a, b = _ballpark_to_cgcs2000(pyproj.CRS.from_user_input(frame.crs), dst)
    ka, kb = a.to_wkt(), b.to_wkt()
    if ka == kb or (ka, kb) in _PAIRS_CHECKED:
        return
    geoms = np.asarray(frame.geometry.values if hasattr(frame, "geometry") else frame.values, dtype=object)
    xy = shapely.get_coordinates(geoms)
    attrs = getattr(frame, "attrs", {}) or {}
    placed = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    _check_pair(
        a, b, ka, kb, xy[:, 0], xy[:, 1], file=attrs.get("source"), layer=attrs.get("layer"), count=int(placed.sum())
    )


def to_crs(frame: Any, crs: Any) -> Any:
    """A GeoDataFrame or GeoSeries reprojected to ``crs`` (as geopandas' ``to_crs``).

    The same result, through :func:`transform_xy`'s reused transformers: a run
    reprojects the same few pairs of CRSs many times.
    """
    import geopandas as gpd

    if frame.crs is None:
        return frame.to_crs(crs)  # geopandas' own error for a layer without a CRS
    dst = pyproj.CRS.from_user_input(crs)
    _check_frame(frame, dst)
    if isinstance(frame, gpd.GeoDataFrame):
        out = frame.copy()
        name = frame.geometry.name
        out[name] = gpd.GeoSeries(
            reproject_geometries(frame.geometry.values, frame.crs, dst), index=frame.index, crs=dst
        )
        return out.set_geometry(name, crs=dst)
    return gpd.GeoSeries(
        reproject_geometries(frame.values, frame.crs, dst), index=frame.index, crs=dst, name=frame.name
    )
