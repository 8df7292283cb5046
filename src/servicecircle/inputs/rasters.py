"""Reading rasters (population, elevation): the one place a raster file is opened.

:func:`read_population` opens a GeoTIFF (or anything GDAL reads), checks its
band, georeferencing and coordinate system, and reads the window of cells that
covers a study area into memory as a :class:`PopulationGrid`;
:func:`servicecircle.population.population_demand` turns that grid into demand
points without touching the file again.

:func:`read_elevation` does the same for a DEM (SRTM/ASTER-style, any CRS): an
:class:`ElevationGrid` of metres, nodata as ``nan``, that
:mod:`servicecircle.network.slope` samples along the streets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyproj

from .. import settings
from ..coords import parse_crs
from ..errors import CRSError, InputDataError, TooLargeError, warn_data

__all__ = ["PopulationGrid", "read_population", "ElevationGrid", "read_elevation"]


@dataclass(frozen=True)
class _Cells:
    """A window of a raster's cells: values, georeferencing, where it came from; ``height`` and ``width``."""

    values: np.ndarray
    transform: Any
    crs: pyproj.CRS
    row0: int
    col0: int
    source: str

    @property
    def height(self) -> int:
        return int(self.values.shape[0])

    @property
    def width(self) -> int:
        return int(self.values.shape[1]) if self.values.ndim == 2 else 0


@dataclass(frozen=True)
class PopulationGrid(_Cells):
    """The cells of a population raster that cover a study area, read into memory.

    Attributes
    ----------
    values
        People per cell, float64, ``height × width``. A cell the raster marks
        as nodata (its nodata value or mask) or that holds NaN is ``nan``:
        its population is unknown, never taken as 0.
    transform
        The whole raster's affine transform (cell → raster CRS).
    crs
        The raster's coordinate system (declared, or given with ``crs=``).
    row0, col0
        Offset of the window in the whole raster.
    source
        The file read.
    band
        The band read (1-based).
    """

    band: int = 1


def _open(path: Path):
    import rasterio

    try:
        return rasterio.open(path)
    except (rasterio.errors.RasterioError, OSError):
        raise InputDataError(
            "cannot open this file as a raster: GDAL does not recognise its format, or it is damaged or incomplete",
            file=path,
            fix="check that the file is a complete GeoTIFF (a truncated or half-copied file cannot be read)",
        ) from None


def _check_band_and_georeference(src, band: int, path: Path) -> None:
    if not 1 <= band <= src.count:
        raise InputDataError(
            f"the raster has {src.count} band(s), there is no band {band}",
            file=path,
            fix=f"pass band= between 1 and {src.count}",
        )
    if src.transform.is_identity:
        raise InputDataError(
            "the raster has no georeferencing (no geotransform)",
            file=path,
            fix="georeference it (gdalwarp) so that each cell has a position",
        )


def _raster_crs(src, crs: Any, path: Path) -> pyproj.CRS:
    declared = None if src.crs is None else pyproj.CRS.from_user_input(src.crs.to_wkt())
    if crs is None:
        if declared is None:
            raise CRSError(
                "the raster has no coordinate system",
                file=path,
                fix="pass crs= (WorldPop and most population grids are 'EPSG:4326')",
            )
        return declared
    parsed = parse_crs(crs)
    if isinstance(parsed, str):
        raise CRSError(
            f"a population raster in {parsed.upper()} coordinates is not supported",
            file=path,
            fix="warp the raster to WGS84 or CGCS2000 first",
        )
    if declared is not None and not declared.equals(parsed, ignore_axis_order=True):
        warn_data("crs_overridden", f"the file declares {declared.name}; using {parsed.name} as asked", file=path)
    return parsed


def _cell_range(
    src, to_raster: pyproj.Transformer | None, bounds: Any, pad: int, eps: float = 0.0
) -> tuple[int, int, int, int] | None:
    """``(row0, col0, row1, col1)`` of the raster cells under ``bounds``, widened by ``pad`` cells, within the raster.

    ``bounds`` are in their own CRS (``to_raster`` takes them into the
    raster's; ``None``: they are in it already); ``eps`` keeps a bound on a
    cell edge from taking the next cell. ``None`` where the bounds cannot be
    placed in the raster (not finite there); an empty range where they miss it.
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    if to_raster is not None:
        minx, miny, maxx, maxy = to_raster.transform_bounds(minx, miny, maxx, maxy, densify_pts=21)
    inv = ~src.transform
    xs, ys = np.array([minx, minx, maxx, maxx]), np.array([miny, maxy, miny, maxy])
    cols, rows = inv.a * xs + inv.b * ys + inv.c, inv.d * xs + inv.e * ys + inv.f
    if not (np.isfinite(cols).all() and np.isfinite(rows).all()):
        return None
    col0 = max(math.floor(float(cols.min()) + eps) - pad, 0)
    col1 = min(math.ceil(float(cols.max()) - eps) + pad, src.width)
    row0 = max(math.floor(float(rows.min()) + eps) - pad, 0)
    row1 = min(math.ceil(float(rows.max()) - eps) + pad, src.height)
    return row0, col0, row1, col1


def _window(
    src, raster_crs: pyproj.CRS, to_raster: pyproj.Transformer | None, bounds: np.ndarray, path: Path
) -> tuple[int, int, int, int]:
    """(row_off, col_off, height, width) of the cells that cover ``bounds`` (areas CRS)."""
    # one cell more around reprojected bounds: they curve
    cells = _cell_range(src, to_raster, bounds, pad=0 if to_raster is None else 1, eps=1e-9)
    if cells is None:
        raise CRSError(
            f"the communities cannot be placed in the raster's coordinate system ({raster_crs.name})",
            file=path,
            fix="check the raster's coordinate system (crs=)",
        )
    row0, col0, row1, col1 = cells
    if col1 <= col0 or row1 <= row0:
        rb = ", ".join(f"{v:.6g}" for v in src.bounds)
        raise InputDataError(
            f"the raster ({rb} in {raster_crs.name}) does not overlap the communities",
            file=path,
            fix="use a raster that covers the study area, or check its coordinate system (crs=)",
        )
    return row0, col0, row1 - row0, col1 - col0


def _check_size(height: int, width: int, path: Path, what: str) -> None:
    """Refuse a window of more than ``settings.max_raster_cells`` cells (before any is read)."""
    cells = height * width
    if cells > settings.max_raster_cells:
        raise TooLargeError(
            f"{what} has {cells:,} cells ({height:,} × {width:,}), "
            f"more than the limit of {settings.max_raster_cells:,}",
            file=path,
            fix="clip the raster to the study area (gdal_translate -projwin), or raise settings.max_raster_cells",
        )


def _read_window(src, band: int, row0: int, col0: int, nrows: int, width: int, path: Path) -> np.ma.MaskedArray:
    """A window of one band, masked where the file has no value; a damaged file is one clear error."""
    import rasterio
    from rasterio.windows import Window

    try:
        return src.read(band, window=Window(col0, row0, width, nrows), masked=True)
    except (rasterio.errors.RasterioError, OSError):
        raise InputDataError(
            "cannot read the raster: the file is damaged or incomplete",
            file=path,
            fix="check that the file is complete (a truncated or half-copied file cannot be read)",
        ) from None


def _read_rows(src, band: int, row0: int, col0: int, nrows: int, width: int, path: Path) -> np.ndarray:
    """People per cell of a block of rows: float64, nodata/NaN as ``nan`` (unknown); refuses negative values."""
    data = _read_window(src, band, row0, col0, nrows, width, path)
    values = np.asarray(data.data, dtype=np.float64)
    scale, offset = src.scales[band - 1], src.offsets[band - 1]
    if scale not in (None, 1) or offset not in (None, 0):
        values = values * (1.0 if scale is None else scale) + (offset or 0.0)
    empty = np.ma.getmaskarray(data) | np.isnan(values)
    bad = ~empty & ((values < 0) | ~np.isfinite(values))
    if bad.any():
        i, j = np.unravel_index(int(np.flatnonzero(bad)[0]), bad.shape)
        raise InputDataError(
            f"a population cell is {values[i, j]:g} at row {row0 + i}, column {col0 + j} "
            f"({int(bad.sum()):,} such cells in the window)",
            file=path,
            fix="population must be 0 or more; set the raster's nodata value if that is what it means",
        )
    values[empty] = np.nan  # unknown, not 0 people
    return values


def read_population(
    path: str | Path,
    study_area: Any = None,
    *,
    band: int = 1,
    crs: Any = None,
    bounds: tuple[float, float, float, float] | None = None,
    bounds_crs: Any = None,
) -> PopulationGrid:
    """Read the cells of a population raster that cover a study area.

    Parameters
    ----------
    path
        A raster GDAL reads (GeoTIFF) of people per cell.
    study_area
        The communities (a GeoDataFrame or GeoSeries in any CRS): the cells
        under their extent are read.
    bounds, bounds_crs
        Or the extent ``(minx, miny, maxx, maxy)`` itself and its CRS. With
        neither, the file is checked and no cell is read.
    band
        Band to read (1-based).
    crs
        The raster's coordinate system when the file has none (or to override
        it, with a ``crs_overridden`` warning).

    Returns
    -------
    PopulationGrid
        The window's cells as people per cell; nodata cells (the file's
        nodata value or mask) and NaN cells, with or without a nodata tag,
        are ``nan``: their population is unknown, not 0 (see
        :mod:`servicecircle.population` for what that means for a community).

    Raises
    ------
    InputDataError
        Missing, unreadable or truncated file; bad band; no georeferencing;
        negative values; a raster that does not overlap the study area.
    CRSError
        The raster has no CRS and ``crs=`` is not given.
    TooLargeError
        The window has more than ``settings.max_raster_cells`` cells (checked
        before any cell is read).
    """
    path = Path(path)
    if study_area is not None:
        geoms = np.asarray(getattr(study_area, "geometry", study_area).values, dtype=object)
        import shapely

        usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        bounds = tuple(float(v) for v in shapely.total_bounds(geoms[usable])) if usable.any() else None  # type: ignore[assignment]
        bounds_crs = study_area.crs
        if bounds_crs is None:
            raise CRSError("the study area has no coordinate system", fix="set one (GeoDataFrame.set_crs)")
    if not path.exists():
        raise InputDataError("file not found", file=path, fix="check the path")
    with _open(path) as src:
        _check_band_and_georeference(src, band, path)
        r_crs = _raster_crs(src, crs, path)
        if bounds is None:
            return PopulationGrid(np.zeros((0, 0)), src.transform, r_crs, 0, 0, str(path), band)
        a_crs = pyproj.CRS(bounds_crs)
        same = r_crs.equals(a_crs, ignore_axis_order=True)
        to_raster = None if same else pyproj.Transformer.from_crs(a_crs, r_crs, always_xy=True)
        row0, col0, height, width = _window(src, r_crs, to_raster, np.asarray(bounds, dtype=float), path)
        _check_size(height, width, path, "the raster window covering the communities")
        values = _read_rows(src, band, row0, col0, height, width, path)
        return PopulationGrid(values, src.transform, r_crs, row0, col0, str(path), band)


@dataclass(frozen=True)
class ElevationGrid(_Cells):
    """The cells of a DEM that cover an area, read into memory.

    Attributes
    ----------
    values
        Metres, float64, ``height × width``; ``nan`` where the raster has no
        value (its nodata value, its mask, NaN).
    transform
        The whole raster's affine transform (cell → raster CRS).
    crs
        The raster's coordinate system.
    row0, col0
        Offset of the window in the whole raster.
    source
        The file read.
    nodata
        The file's nodata value (``None`` when it declares none).

    >>> import affine, pyproj
    >>> g = ElevationGrid(np.zeros((2, 3)), affine.Affine(30, 0, 0, 0, -30, 60), pyproj.CRS(4544), 0, 0, "x.tif")
    >>> g.height, g.width
    (2, 3)
    """

    nodata: float | None = None


def read_elevation(
    path: str | Path,
    *,
    bounds: tuple[float, float, float, float] | None = None,
    bounds_crs: Any = None,
    band: int = 1,
    pad: int = 2,
) -> ElevationGrid:
    """Read the cells of a DEM GeoTIFF that cover ``bounds`` (the whole raster without them).

    Parameters
    ----------
    path
        A single-band raster rasterio reads (GeoTIFF), in any CRS, in metres.
    bounds, bounds_crs
        ``(minx, miny, maxx, maxy)`` and its CRS: the window of cells under
        it, widened by ``pad`` cells (bilinear sampling needs the cells around
        a point). A DEM that does not reach the bounds gives an empty grid
        (every elevation unknown), not an error.
    band
        Band to read (1-based).

    Returns
    -------
    ElevationGrid

    Raises
    ------
    InputDataError
        Missing or unreadable file, no such band, no georeferencing, no CRS.
    TooLargeError
        The window has more than ``settings.max_raster_cells`` cells.
    """
    path = Path(path)
    if not path.exists():
        raise InputDataError("DEM file not found", file=path, fix="check the path given for the elevation raster")
    with _open(path) as src:
        _check_band_and_georeference(src, band, path)
        if src.crs is None:
            raise InputDataError(
                "the elevation raster has no coordinate system",
                file=path,
                fix="give a DEM with its CRS (e.g. SRTM in EPSG:4326)",
            )
        r_crs = pyproj.CRS.from_user_input(src.crs.to_wkt())
        nodata = None if src.nodata is None else float(src.nodata)
        row0, col0, height, width = 0, 0, src.height, src.width
        if bounds is not None:
            to_raster = None
            if bounds_crs is not None and not r_crs.equals(pyproj.CRS(bounds_crs), ignore_axis_order=True):
                to_raster = pyproj.Transformer.from_crs(pyproj.CRS(bounds_crs), r_crs, always_xy=True)
            cells = _cell_range(src, to_raster, bounds, pad)
            if cells is None or cells[3] <= cells[1] or cells[2] <= cells[0]:  # not under the DEM: all unknown
                return ElevationGrid(np.zeros((0, 0)), src.transform, r_crs, 0, 0, str(path), nodata)
            row0, col0, row1, col1 = cells
            height, width = row1 - row0, col1 - col0
        _check_size(height, width, path, "the elevation raster window")
        data = _read_window(src, band, row0, col0, height, width, path)
        values = np.ma.filled(data.astype(np.float64), np.nan)
        if nodata is not None and not np.isnan(nodata):
            values[values == nodata] = np.nan
        return ElevationGrid(values, src.transform, r_crs, row0, col0, str(path), nodata)
