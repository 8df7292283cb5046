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

from .._text import counted
from ..errors import InputDataError, feature_label, source_of, warn_data

__all__ = ["prepare_boundaries", "prepare_facilities", "prepare_points", "numeric_column", "require_column"]

POLYGONAL = {"Polygon", "MultiPolygon"}


#: Above these, boundaries that overlap or leave a gap between them are reported (m²).
OVERLAP_MIN_M2 = 1.0
GAP_MIN_M2 = 100.0

#: A boundary whose area is at most this share of its outline's length squared (both in the layer's own
#: units) has zero area up to rounding: a ring whose points lie on a line. A real community's share is about
#: 0.01 to 0.08 (a square: 1/16); a 1 km × 1 cm strip's still 2.5e-6. It is reported (``zero_area_community``)
#: and kept with an empty polygon and no results.
ZERO_AREA_RATIO = 1e-10

_SINGULAR = {"facilities": "facility", "demand points": "demand point", "boundaries": "boundary"}

#: GEOS's reasons for an invalid polygon, in plain words (anything else: "has an invalid shape")
_INVALID_KINDS = (
    ("Ring Self-intersection", "has a ring that crosses itself"),
    ("Self-intersection", "crosses itself"),
    ("Too few points", "has a ring with too few points"),
    ("Hole lies outside shell", "has a hole outside its outer ring"),
    ("Nested holes", "has a hole inside another hole"),
    ("Interior is disconnected", "has holes that cut it in pieces"),
    ("Duplicate Rings", "repeats a ring"),
    ("Nested shells", "has an outer ring inside another"),
    ("Invalid Coordinate", "has a coordinate that is not a number"),
    ("Ring is not closed", "has a ring that is not closed"),
)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _noun(n: int, plural: str) -> str:
    return counted(n, _SINGULAR.get(plural, plural), plural)


def _invalid_kind(geom) -> str:
    """What is wrong with an invalid polygon, in our words (not the GEOS message)."""
    reason = str(shapely.is_valid_reason(geom))
    for prefix, words in _INVALID_KINDS:
        if reason.startswith(prefix):
            return words
    return "has an invalid shape"


def _metric(geoms: np.ndarray, crs):
    """``(geometries, crs)`` in an equal-area projection centred on them, to measure m² (None: no CRS)."""
    if crs is None:
        return None
    import pyproj

    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not ok.any():
        return None
    src = pyproj.CRS(crs)
    x0, y0, x1, y1 = shapely.total_bounds(geoms[ok])
    if not src.is_geographic:
        to_ll = pyproj.Transformer.from_crs(src, 4326, always_xy=True)
        x0, y0, x1, y1 = to_ll.transform_bounds(x0, y0, x1, y1)
    laea = pyproj.CRS.from_proj4(
        f"+proj=laea +lat_0={(y0 + y1) / 2:.6f} +lon_0={(x0 + x1) / 2:.6f} +ellps=GRS80 +units=m +no_defs"
    )
    fwd = pyproj.Transformer.from_crs(src, laea, always_xy=True)
    out = np.array(geoms, dtype=object)
    out[ok] = shapely.transform(geoms[ok], lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))
    out[~ok] = None
    return out, laea


def _check_overlaps(gdf, metric: np.ndarray, id_column: str | None, file, layer) -> None:
    """Warn about pairs of boundaries whose overlap is larger than OVERLAP_MIN_M2."""
    tree = shapely.STRtree(metric)
    pairs = [tree.query(metric, predicate=p) for p in ("overlaps", "contains")]
    i = np.concatenate([p[0] for p in pairs])
    j = np.concatenate([p[1] for p in pairs])
    keep = i != j
    a, b = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
    if len(a) == 0:
        return
    ab = np.unique(np.column_stack([a, b]), axis=0)  # sorted: the first pair is the first in the file
    area = shapely.area(shapely.intersection(metric[ab[:, 0]], metric[ab[:, 1]]))
    big = area > OVERLAP_MIN_M2
    if not big.any():
        return
    n = int(big.sum())
    k = _first(big)
    first = f"{feature_label(gdf, int(ab[k, 0]), id_column)} and {feature_label(gdf, int(ab[k, 1]), id_column)}"
    warn_data(
        "overlapping_boundaries",
        f"{counted(n, 'pair', 'pairs')} of community boundaries overlap by more than {OVERLAP_MIN_M2:g} m² "
        f"(first: {first}, {area[k]:,.0f} m²); what lies in an overlap may be counted for both "
        "communities",
        file=file,
        layer=layer,
        count=n,
    )


def _check_gaps(metric: np.ndarray, laea, file, layer) -> None:
    """Warn about holes in the union of the boundaries larger than GAP_MIN_M2."""
    ok = ~(shapely.is_missing(metric) | shapely.is_empty(metric))
    union = shapely.union_all(metric[ok])
    parts = shapely.get_parts(union)
    n_rings = shapely.get_num_interior_rings(parts)
    if n_rings.sum() == 0:
        return
    owner = np.repeat(np.arange(len(parts)), n_rings)
    index = np.concatenate([np.arange(k) for k in n_rings if k])
    holes = shapely.polygons(shapely.get_interior_ring(parts[owner], index))
    gaps = shapely.get_parts(shapely.difference(shapely.union_all(holes), union))
    area = shapely.area(gaps)
    big = area > GAP_MIN_M2
    if not big.any():
        return
    n = int(big.sum())
    largest = int(np.argmax(np.where(big, area, -1.0)))
    import pyproj

    centre = shapely.centroid(gaps[largest])
    # back from the equal-area projection to longitude/latitude, to find the place on any map
    lon, lat = pyproj.Transformer.from_crs(laea, 4326, always_xy=True).transform(centre.x, centre.y)
    warn_data(
        "boundary_gaps",
        f"the community boundaries leave {counted(n, 'gap', 'gaps')} between communities larger than "
        f"{GAP_MIN_M2:g} m² ("
        + (
            f"{area[largest]:,.0f} m², near"
            if n == 1
            else f"{area[big].sum():,.0f} m² in all; the largest, {area[largest]:,.0f} m², is near"
        )
        + f" lon {lon:.5f}, lat {lat:.5f}); demand in a gap belongs to no community",
        file=file,
        layer=layer,
        count=n,
    )


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
        file=file,
        layer=layer,
        fix=f"name the {what} column with {option}",
    )


def numeric_column(
    gdf: gpd.GeoDataFrame,
    column: str,
    what: str,
    *,
    allow_missing: bool = True,
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
            f"'{raw.iloc[i]}' in the {what} column '{column}' is not a number",
            file=file,
            layer=layer,
            feature=feature_label(gdf, i, id_column),
            fix=f"put a number (or leave it empty) in '{column}'",
        )
    arr = values.to_numpy(dtype=float)
    neg = arr < 0
    if neg.any():
        i = _first(neg)
        raise InputDataError(
            f"{arr[i]:g} in the {what} column '{column}' is negative",
            file=file,
            layer=layer,
            feature=feature_label(gdf, i, id_column),
            fix=f"correct '{column}' (it must be 0 or more)",
        )
    inf = np.isinf(arr)
    if inf.any():
        i = _first(inf)
        raise InputDataError(
            f"the {what} column '{column}' holds an infinite number",
            file=file,
            layer=layer,
            feature=feature_label(gdf, i, id_column),
            fix=f"correct '{column}'",
        )
    if not allow_missing and np.isnan(arr).any():
        i = _first(np.isnan(arr))
        raise InputDataError(
            f"the {what} column '{column}' is empty here",
            file=file,
            layer=layer,
            feature=feature_label(gdf, i, id_column),
            fix=f"fill in '{column}'",
        )
    return arr


def _drop_z(geoms: np.ndarray, gdf, what: str) -> np.ndarray:
    has_z = shapely.has_z(geoms)
    if has_z.any():
        file, layer = source_of(gdf)
        n = int(has_z.sum())
        warn_data(
            "dropped_z",
            f"{n} {what} had Z values (3D); the Z values were dropped (distances are measured on the map plane)",
            file=file,
            layer=layer,
            count=n,
        )
        geoms = shapely.force_2d(geoms)
    return geoms


def prepare_boundaries(gdf: gpd.GeoDataFrame, *, id_column: str | None = None) -> gpd.GeoDataFrame:
    """Validate community boundaries: polygons, repaired where invalid, unique ids.

    Returns a copy whose geometry is 2D and valid; every feature is kept. A
    boundary of zero area (a degenerate ring whose points lie on a line, to
    within rounding: see ``ZERO_AREA_RATIO``; or one that collapsed to nothing
    when repaired) is
    kept too, as an empty polygon, with a ``zero_area_community`` warning: it
    holds no demand, so it gets no pass/fail. Also
    warns (``overlapping_boundaries``) about pairs of boundaries that overlap by
    more than ``OVERLAP_MIN_M2`` and (``boundary_gaps``) about holes in their
    union larger than ``GAP_MIN_M2``: land between communities that belongs to
    none of them.
    """
    file, layer = source_of(gdf)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = np.array([g.geom_type if g is not None else "" for g in geoms])
    wrong = ~missing & ~np.isin(kinds, list(POLYGONAL))
    if wrong.any():
        i = _first(wrong)
        if kinds[i] == "GeometryCollection":
            geoms[i] = shapely.union_all(
                shapely.get_parts(geoms[i])[np.isin(shapely.get_type_id(shapely.get_parts(geoms[i])), [3, 6])]
            )
        wrong = ~missing & ~np.isin(np.array([g.geom_type if g is not None else "" for g in geoms]), list(POLYGONAL))
    if wrong.any():
        i = _first(wrong)
        raise InputDataError(
            f"a community boundary must be a polygon, this is a {kinds[i]}",
            file=file,
            layer=layer,
            feature=feature_label(gdf, i, id_column),
            fix="give community boundaries as (multi)polygons",
        )
    geoms = _drop_z(geoms, gdf, "boundaries")
    invalid = ~missing & ~shapely.is_valid(geoms)
    problems = {int(i): _invalid_kind(geoms[i]) for i in np.flatnonzero(invalid)}
    if invalid.any():
        geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    # a boundary that encloses no land (a degenerate ring, a sliver that collapsed when repaired, an empty
    # polygon after make_valid) holds no resident: it is reported by itself, and not as a repaired shape
    # (zero up to rounding: measured in the layer's own units against its outline's length squared, since a
    # straight edge in degrees is a curve in metres, and a ring on a line in degrees has an area in metres)
    with np.errstate(invalid="ignore"):
        zero = ~missing & (shapely.area(geoms) <= ZERO_AREA_RATIO * shapely.length(geoms) ** 2)
    if zero.any():
        # a ring whose points lie on a line to within rounding is valid by GEOS's test, yet as much a line as one
        # make_valid collapsed: both become the empty polygon, so that no demand point is placed in them
        geoms[zero] = shapely.Polygon()
    repaired = invalid & ~zero
    if repaired.any():
        first = _first(repaired)
        n = int(repaired.sum())
        warn_data(
            "repaired_geometry",
            f"{counted(n, 'boundary was', 'boundaries were')} invalid and repaired "
            f"({'the first' if n > 1 else 'it'} {problems[first]}); check the repaired "
            f"{'shapes' if n > 1 else 'shape'}",
            file=file,
            layer=layer,
            feature=feature_label(gdf, first, id_column),
            count=n,
        )
    if zero.any():
        first = _first(zero)
        n = int(zero.sum())
        why = (
            "collapsed to nothing when it was repaired"
            if invalid[first]
            else "encloses no land: its points lie on a line, to within rounding"
        )
        warn_data(
            "zero_area_community",
            f"{counted(n, 'boundary has', 'boundaries have')} zero area ({'the first' if n > 1 else 'it'} {why}); "
            f"{'it is' if n == 1 else 'they are'} kept in the outputs with no results",
            file=file,
            layer=layer,
            feature=feature_label(gdf, first, id_column),
            count=n,
        )
    if missing.any():
        first = _first(missing)
        n = int(missing.sum())
        warn_data(
            "empty_geometry",
            f"{counted(n, 'boundary has', 'boundaries have')} no geometry; "
            f"{'it is' if n == 1 else 'they are'} kept in the outputs with no results",
            file=file,
            layer=layer,
            feature=feature_label(gdf, first, id_column),
            count=n,
        )
    if id_column is not None:
        require_column(gdf, id_column, "community id", "id_column= / --id-column")
        ids = gdf[id_column]
        if ids.isna().any():
            i = _first(ids.isna().to_numpy())
            raise InputDataError(
                f"the community id column '{id_column}' is empty here",
                file=file,
                layer=layer,
                feature=feature_label(gdf, i),
                fix=f"fill in '{id_column}' for every community",
            )
        dup = ids.duplicated(keep=False).to_numpy()
        if dup.any():
            value = ids[dup].iloc[0]
            rows = [f"#{k + 1}" for k in np.flatnonzero((ids == value).to_numpy())[:3]]
            raise InputDataError(
                f"community id {id_column}={value} appears more than once (features {', '.join(rows)})",
                file=file,
                layer=layer,
                fix=f"make '{id_column}' unique, or choose another id column",
            )
    measured = _metric(geoms, gdf.crs) if len(geoms) > 1 else None
    if measured is not None:
        _check_overlaps(gdf, measured[0], id_column, file, layer)
        _check_gaps(measured[0], measured[1], file, layer)
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
                file=file,
                layer=layer,
                feature=feature_label(gdf, i, id_column),
                fix="give one point per feature (split multipart features, e.g. 'explode' in QGIS)",
            )
        geoms[multi] = shapely.get_geometry(geoms[multi], 0)
        kinds[multi] = "Point"
    area = ~missing & np.isin(kinds, ["Polygon", "MultiPolygon"])
    if area.any():
        if polygons == "point":
            geoms[area] = shapely.point_on_surface(shapely.make_valid(geoms[area]))
            n = int(area.sum())
            warn_data(
                "polygon_as_point",
                f"{_noun(n, what)} {'is a polygon' if n == 1 else 'are polygons'}; "
                f"a point inside {'it' if n == 1 else 'each'} was used",
                file=file,
                layer=layer,
                feature=feature_label(gdf, _first(area), id_column),
                count=n,
            )
            kinds[area] = "Point"
    wrong = ~missing & (kinds != "Point")
    if wrong.any():
        i = _first(wrong)
        raise InputDataError(
            f"{what} must be points, this is a {kinds[i]}",
            file=file,
            layer=layer,
            feature=feature_label(gdf, i, id_column),
            fix=f"give {what} as points",
        )
    geoms = _drop_z(geoms, gdf, what)
    if missing.any():
        n = int(missing.sum())
        warn_data(
            "empty_geometry",
            f"{_noun(n, what)} {'has' if n == 1 else 'have'} no location; "
            f"{'it is' if n == 1 else 'they are'} kept in the outputs, unplaced",
            file=file,
            layer=layer,
            feature=feature_label(gdf, _first(missing), id_column),
            count=n,
        )
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
        raise InputDataError(
            f"the category column '{category_column}' is empty",
            file=file,
            layer=layer,
            fix=f"fill in '{category_column}' with the facility type (e.g. kindergarten / 幼儿园)",
        )
    given = cats[~empty]
    if pd.to_numeric(given.astype(str).str.strip(), errors="coerce").notna().all():
        others = [
            str(c)
            for c in gdf.columns
            if c not in (category_column, gdf.geometry.name) and pd.api.types.is_string_dtype(gdf[c])
        ]
        raise InputDataError(
            f"the category column '{category_column}' holds only numbers (e.g. {given.iloc[0]}); it must hold "
            "facility types such as kindergarten / 幼儿园",
            file=file,
            layer=layer,
            fix="name the column of facility types with category_column= / --category-column"
            + (f" (text columns: {', '.join(others[:8])})" if others else "")
            + ", or replace the codes by type names",
        )
    if empty.any():
        n = int(empty.sum())
        warn_data(
            "no_category",
            f"{_noun(n, 'facilities')} {'has' if n == 1 else 'have'} no category; "
            f"{'it is' if n == 1 else 'they are'} kept in the outputs but not used",
            file=file,
            layer=layer,
            feature=feature_label(gdf, _first(empty.to_numpy())),
            count=n,
        )
    return prepare_points(gdf, "facilities", polygons="point")
