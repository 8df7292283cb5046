"""Terrain along the walking network: elevation profiles of every edge from a DEM GeoTIFF.

Every edge is cut into straight *pieces* at its own vertices and every ``step``
metres between them; each piece point takes the elevation of the DEM at that
place (bilinear between the four nearest cell centres, in the raster's own CRS,
whatever it is). A piece's *rise* is the difference of its ends' elevations, in
the direction of the edge (``u`` to ``v``); its length is horizontal, measured
in the network's metric CRS.

Structures take no terrain from the ground under them: a piece that lies on an
OSM way tagged ``bridge``, ``tunnel`` or a ``layer`` other than 0 gets the
elevation interpolated linearly, by distance along the edge, between the last
ground point before the structure and the first one after it (edge ends are
always ground). So a bridge over a valley climbs evenly from one abutment to
the other instead of diving into the valley.

Where the DEM has no value (its nodata value, or outside the raster), the piece
is *unknown*: it is treated as flat, counted, and reported in one warning.

>>> import numpy as np
>>> from servicecircle.network import network_from_arrays
>>> net = network_from_arrays(np.array([[0.0, 0.0], [100.0, 0.0]]), [0], [1], "EPSG:4544")
>>> t = terrain_from_function(net, lambda x, y: 0.1 * x)  # a 10 % ramp up towards v
>>> round(float(t.piece_rise.sum()), 6), int(t.n_unknown)
(10.0, 0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import shapely
from numpy.typing import NDArray

from ..errors import warn_data
from ..inputs.rasters import ElevationGrid, read_elevation
from .model import WalkNetwork

__all__ = [
    "Terrain",
    "STRUCTURE_TAGS",
    "is_structure",
    "sample_dem",
    "edge_terrain",
    "terrain_from_function",
    "read_structure_lines",
]

#: OSM keys that lift a way off the ground (or under it).
STRUCTURE_TAGS = ("bridge", "tunnel", "layer")


def is_structure(tags: dict[str, str]) -> bool:
    """Whether a way with these tags is a bridge, a tunnel or on another layer than the ground.

    >>> is_structure({"bridge": "yes"}), is_structure({"bridge": "no"}), is_structure({"layer": "0"})
    (True, False, False)
    >>> is_structure({"layer": "-1"}), is_structure({"tunnel": "building_passage"})
    (True, True)
    """
    for key in ("bridge", "tunnel"):
        value = tags.get(key, "").strip()
        if value and value != "no":
            return True
    layer = tags.get("layer", "").strip()
    if layer:
        try:
            return float(layer) != 0.0
        except ValueError:
            return False
    return False


@dataclass(frozen=True)
class Terrain:
    """The elevation profile of every edge, as straight pieces in edge order.

    Attributes
    ----------
    piece_edge
        Edge of each piece (pieces of an edge are contiguous, from ``u`` to ``v``).
    piece_start
        Metres along the edge where the piece starts.
    piece_length
        Horizontal metres.
    piece_rise
        Metres gained walking the piece from ``u`` towards ``v`` (``0`` where unknown).
    piece_known
        ``False`` where the DEM had no value at either end (the piece is taken as flat).
    piece_structure
        ``True`` on bridges, tunnels and ``layer`` != 0 (elevation interpolated, not sampled).
    n_unknown
        How many pieces are unknown.
    source
        The DEM file (or what made the elevations).
    """

    piece_edge: NDArray[np.int64]
    piece_start: NDArray[np.float64]
    piece_length: NDArray[np.float64]
    piece_rise: NDArray[np.float64]
    piece_known: NDArray[np.bool_]
    piece_structure: NDArray[np.bool_]
    n_unknown: int
    source: str = ""

    @property
    def piece_grade(self) -> NDArray[np.float64]:
        """Rise over horizontal length of each piece (``0`` on zero-length pieces)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            g = self.piece_rise / self.piece_length
        return np.where(self.piece_length > 0, g, 0.0)


def vertex_offsets(
    geoms: NDArray[np.object_],
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Every vertex of every line: (line index, metres along the line, xy)."""
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    seg = np.hypot(*np.diff(coords, axis=0).T)
    same = owner[1:] == owner[:-1]
    cum = np.r_[0.0, np.cumsum(np.where(same, seg, 0.0))]
    first = np.r_[True, ~same]
    s = cum - np.maximum.accumulate(np.where(first, cum, 0.0))
    return owner.astype(np.int64), s, coords


def _sample_points(
    network: WalkNetwork, step: float
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Points along every edge: its vertices and every ``step`` metres; (edge, distance along, xy)."""
    geoms = network.edge_geometry
    owner, s_vertex, coords = vertex_offsets(geoms)
    length = network.edge_length
    n_reg = np.maximum(np.ceil(length / step).astype(np.int64) - 1, 0)
    reg_edge = np.repeat(np.arange(network.n_edges), n_reg)
    k = np.arange(len(reg_edge)) - np.repeat(np.cumsum(n_reg) - n_reg, n_reg) + 1
    reg_s = k * step
    # interpolated on the vertex arrays directly (one searchsorted; no geometry object per point)
    gap = float(length.max(initial=0.0)) + 1.0
    g_vertex = owner * gap + s_vertex
    g_reg = reg_edge * gap + reg_s
    i = np.clip(np.searchsorted(g_vertex, g_reg, side="right") - 1, 0, max(len(g_vertex) - 2, 0))
    if len(reg_edge):
        seg = g_vertex[i + 1] - g_vertex[i]
        t = np.where(seg > 0, (g_reg - g_vertex[i]) / np.where(seg > 0, seg, 1.0), 0.0)
        reg_xy = coords[i] + t[:, None] * (coords[i + 1] - coords[i])
    else:
        reg_xy = np.zeros((0, 2))
    edge = np.r_[owner, reg_edge]
    s = np.r_[s_vertex, reg_s]
    xy = np.vstack([coords, reg_xy])
    order = np.argsort(edge * gap + s, kind="stable")
    edge, s, xy = edge[order], s[order], xy[order]
    # drop repeated points (a vertex within a millimetre of a regular point, duplicate vertices)
    keep = np.r_[True, (edge[1:] != edge[:-1]) | (np.diff(s) > 1e-3)]
    last = np.r_[edge[1:] != edge[:-1], True]
    keep |= last  # the edge's end stays (it is the node)
    # a regular point dropped next to the end vertex: keep the end, drop the one before it instead
    dup_end = last & ~np.r_[True, (edge[1:] != edge[:-1]) | (np.diff(s) > 1e-3)]
    keep[np.flatnonzero(dup_end) - 1] = False
    return edge[keep], s[keep], xy[keep]


def _profile(
    network: WalkNetwork,
    edge: NDArray[np.int64],
    s: NDArray[np.float64],
    z: NDArray[np.float64],
    xy: NDArray[np.float64],
    structure_lines: Any,
    edge_is_structure: NDArray[np.bool_] | None,
    source: str,
) -> Terrain:
    """Pieces from sampled points: structures interpolated, unknown pieces flat."""
    nxt = np.r_[edge[1:] == edge[:-1], False]  # point i starts a piece to point i+1
    p0 = np.flatnonzero(nxt)
    p1 = p0 + 1
    piece_edge = edge[p0]
    struct = np.zeros(len(p0), dtype=bool)
    if edge_is_structure is not None:
        struct |= edge_is_structure[piece_edge]
    if structure_lines is not None and len(structure_lines):
        mid = shapely.points((xy[p0] + xy[p1]) / 2)
        tree = shapely.STRtree(np.asarray(structure_lines, dtype=object))
        hit, _ = tree.query(mid, predicate="dwithin", distance=0.05)
        struct[np.unique(hit)] = True
    # a point is on the deck when every piece of its edge touching it is a structure piece
    n_pts = len(edge)
    before = np.zeros(n_pts, dtype=bool)  # the piece ending here is a structure
    after = np.zeros(n_pts, dtype=bool)  # the piece starting here is a structure
    before[p1] = struct
    after[p0] = struct
    is_first = np.r_[True, edge[1:] != edge[:-1]]
    is_last = np.r_[edge[1:] != edge[:-1], True]
    deck = before & after & ~is_first & ~is_last
    if deck.any():
        # linear in distance along the edge between the ground points around the deck
        gap = float(network.edge_length.max(initial=0.0)) + 1.0
        pos = edge * gap + s
        ground = ~deck
        z = z.copy()
        z[deck] = np.interp(pos[deck], pos[ground], z[ground])
        # an unknown ground anchor leaves its deck unknown
        left = np.maximum.accumulate(np.where(ground, np.arange(n_pts), 0))
        right = np.minimum.accumulate(np.where(ground, np.arange(n_pts), n_pts - 1)[::-1])[::-1]
        z[deck & (np.isnan(z[left]) | np.isnan(z[right]))] = np.nan
    rise = z[p1] - z[p0]
    known = ~np.isnan(rise)
    rise = np.where(known, rise, 0.0)
    return Terrain(
        piece_edge=piece_edge,
        piece_start=s[p0],
        piece_length=s[p1] - s[p0],
        piece_rise=rise,
        piece_known=known,
        piece_structure=struct,
        n_unknown=int((~known).sum()),
        source=source,
    )


def sample_dem(dem: str | Path | ElevationGrid, xy: NDArray[np.float64], crs: Any) -> NDArray[np.float64]:
    """Elevation of a DEM at points ``xy`` (in ``crs``): bilinear, ``nan`` where unknown.

    Parameters
    ----------
    dem
        An :class:`~servicecircle.inputs.rasters.ElevationGrid` read with
        :func:`~servicecircle.inputs.rasters.read_elevation`, or the path of a
        DEM GeoTIFF (any CRS), read here through it (the cells around ``xy``).
    xy
        ``(n, 2)`` coordinates.
    crs
        The CRS of ``xy``.

    Returns
    -------
    numpy.ndarray
        Metres (the raster's unit); ``nan`` outside the grid or next to a nodata cell.

    >>> import affine, pyproj
    >>> from servicecircle.inputs.rasters import ElevationGrid
    >>> z = np.array([[0.0, 10.0], [0.0, 10.0]])  # cell centres at x = 5 and 15
    >>> g = ElevationGrid(z, affine.Affine(10, 0, 0, 0, -10, 20), pyproj.CRS(4544), 0, 0, "hand")
    >>> sample_dem(g, np.array([[7.5, 10.0], [30.0, 10.0]]), "EPSG:4544").tolist()
    [2.5, nan]
    """
    from ..coords import transform_xy

    out = np.full(len(xy), np.nan)
    if len(xy) == 0:
        return out
    if isinstance(dem, ElevationGrid):
        grid = dem
    else:
        lo, hi = np.nanmin(xy, axis=0), np.nanmax(xy, axis=0)
        grid = read_elevation(dem, bounds=(float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])), bounds_crs=crs)
    if grid.height == 0 or grid.width == 0:
        return out
    x, y = transform_xy(xy[:, 0], xy[:, 1], crs, grid.crs)
    inv = ~grid.transform
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    col = inv.a * x + inv.b * y + inv.c - 0.5 - grid.col0  # cell-centre coordinates in the window
    row = inv.d * x + inv.e * y + inv.f - 0.5 - grid.row0
    ok = np.isfinite(col) & np.isfinite(row)
    c0 = np.floor(col[ok]).astype(np.int64)
    r0 = np.floor(row[ok]).astype(np.int64)
    data = np.asarray(grid.values, dtype=np.float64)
    h, w = data.shape
    fc, fr = col[ok] - c0, row[ok] - r0
    inside = (c0 >= 0) & (r0 >= 0) & (c0 + 1 < w) & (r0 + 1 < h)
    val = np.full(len(c0), np.nan)
    i = np.flatnonzero(inside)
    c_, r_, fc_, fr_ = c0[i], r0[i], fc[i], fr[i]
    val[i] = (
        data[r_, c_] * (1 - fc_) * (1 - fr_)
        + data[r_, c_ + 1] * fc_ * (1 - fr_)
        + data[r_ + 1, c_] * (1 - fc_) * fr_
        + data[r_ + 1, c_ + 1] * fc_ * fr_
    )
    out[np.flatnonzero(ok)] = val
    return out


def read_structure_lines(path: str | Path, crs: Any) -> NDArray[np.object_]:
    """Lines (in ``crs``) of the ``highway`` ways of an OSM file that are bridges, tunnels or off layer 0."""
    import osmium

    from ..coords import transform_xy

    lines: list[NDArray[np.float64]] = []
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    for entity in processor:
        way = cast(osmium.osm.Way, entity)  # the entity filter passes ways only
        tags = {t.k: t.v for t in way.tags}
        if not is_structure(tags):
            continue
        pts = [(n.location.lon, n.location.lat) for n in way.nodes if n.location.valid()]
        if len(pts) >= 2:
            lines.append(np.asarray(pts, dtype=np.float64))
    if not lines:
        return np.zeros(0, dtype=object)
    allpts = np.vstack(lines)
    x, y = transform_xy(allpts[:, 0], allpts[:, 1], "EPSG:4326", crs)
    idx = np.repeat(np.arange(len(lines)), [len(line) for line in lines])
    made: NDArray[np.object_] = shapely.linestrings(np.column_stack([x, y]), indices=idx)
    return made


def _edge_structure_flags(network: WalkNetwork) -> NDArray[np.bool_] | None:
    """Edges whose own tags (``bridge``/``tunnel``/``layer`` in ``edge_tags``) make them structures."""
    present = [k for k in STRUCTURE_TAGS if k in network.edge_tags]
    if not present:
        return None
    cols = {k: np.asarray(network.edge_tags[k], dtype=object) for k in present}
    return np.array([is_structure({k: str(cols[k][e] or "") for k in present}) for e in range(network.n_edges)])


def edge_terrain(
    network: WalkNetwork,
    dem: str | Path | ElevationGrid,
    *,
    step: float = 10.0,
    structures: Any = "auto",
) -> Terrain:
    """The elevation profile of every edge of ``network`` from a DEM GeoTIFF.

    Parameters
    ----------
    network
        The walking network.
    dem
        Elevation: an :class:`~servicecircle.inputs.rasters.ElevationGrid`
        (:func:`~servicecircle.inputs.rasters.read_elevation`) or the path of a
        DEM GeoTIFF (SRTM/ASTER-style, any CRS, metres), read through it.
    step
        Metres between sample points along an edge (besides its vertices).
    structures
        Lines (in the network CRS) of bridges/tunnels/off-ground ways; ``"auto"``:
        read them from the network's OSM file when it came from one, plus edges
        whose own tags say so; ``None``: none.

    Returns
    -------
    Terrain

    Warns
    -----
    DataWarning ``dem_unknown``
        When some pieces have no elevation (they are taken as flat).
    """
    edge, s, xy = _sample_points(network, float(step))
    z = sample_dem(dem, xy, network.crs)
    lines = structures
    if isinstance(structures, str) and structures == "auto":
        lines = None
        src = Path(network.source) if network.source else None
        if src is not None and src.exists():
            from .osm import is_osm_file

            if is_osm_file(src):
                lines = read_structure_lines(src, network.crs)
    source = dem.source if isinstance(dem, ElevationGrid) else str(dem)
    terrain = _profile(network, edge, s, z, xy, lines, _edge_structure_flags(network), source)
    if terrain.n_unknown:
        unknown_m = float(terrain.piece_length[~terrain.piece_known].sum())
        warn_data(
            "dem_unknown",
            f"{terrain.n_unknown:,} pieces of street ({unknown_m / 1000:,.1f} km) have no elevation in the DEM "
            "(nodata or outside it): taken as flat",
            file=source,
            count=terrain.n_unknown,
        )
    return terrain


def terrain_from_function(
    network: WalkNetwork,
    elevation: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]],
    *,
    step: float = 10.0,
    structures: Any = None,
) -> Terrain:
    """:func:`edge_terrain` with elevations from a function of network coordinates (for hand cases).

    ``elevation(x, y)`` returns metres (``nan`` for unknown).
    """
    edge, s, xy = _sample_points(network, float(step))
    z = np.asarray(elevation(xy[:, 0], xy[:, 1]), dtype=np.float64)
    return _profile(network, edge, s, z, xy, structures, _edge_structure_flags(network), "function")
