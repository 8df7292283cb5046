"""Loading the walking network: a local OSM / PBF / GraphML / cache file, or a download.

:func:`load_network` reads a local file, builds the network once and keeps it in
the cache (``settings.cache_folder``); :func:`download_network` asks osmnx.

>>> from servicecircle.network import load_network
>>> net = load_network("data/network/chengdu_central_2018.osm.gz", progress=False)
>>> net.crs.to_epsg(), net.n_nodes > 3000
(4544, True)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyproj

from .. import settings
from .._progress import bar
from ..coords import choose_metric_crs
from ..errors import DataWarning, NetworkError, collect_warnings
from .build import check_ways, network_from_osmnx, network_from_ways
from .cache import cache_key, file_digest, load_cached_network, save_network
from .model import WalkNetwork
from .osm import WALK_FILTER, is_osm_file, read_walkable_ways

__all__ = ["load_network", "download_network", "GRAPHML_SUFFIXES"]

GRAPHML_SUFFIXES = (".graphml", ".graphml.gz", ".xml.graphml")


def _resolve_crs(
    crs: Any, study_area: Any, fallback_bounds: Callable[[], tuple[float, float, float, float]] | None
) -> pyproj.CRS:
    """The metric CRS: the user's, else the GK zone of the study area's centre."""
    if crs is not None:
        return choose_metric_crs((), crs=crs)  # no bounds: they are not used when crs is given
    if study_area is not None:
        return choose_metric_crs(_lonlat_bounds(study_area))
    assert fallback_bounds is not None  # given whenever crs and study_area may both be None
    return choose_metric_crs(fallback_bounds())


def _lonlat_bounds(study_area: Any) -> tuple[float, float, float, float]:
    """(minlon, minlat, maxlon, maxlat) of a GeoDataFrame/GeoSeries or a 4-tuple."""
    if isinstance(study_area, tuple | list) and len(study_area) == 4:
        return tuple(float(v) for v in study_area)  # type: ignore[return-value]
    crs = study_area.crs
    # a geographic CRS is close enough to WGS84 to pick a zone (metres, not kilometres, apart)
    geo = study_area if crs is None or pyproj.CRS(crs).is_geographic else study_area.to_crs(4326)
    b = geo.total_bounds
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def load_network(
    source: str | Path,
    *,
    crs: Any = None,
    study_area: Any = None,
    keep_components: str | None = None,
    walk_filter: tuple[tuple[str, str], ...] = WALK_FILTER,
    use_cache: bool | None = None,
    progress: bool | None = None,
) -> WalkNetwork:
    """Load the walking network from a local file, building and caching it once.

    Parameters
    ----------
    source
        OSM XML (``.osm``, ``.osm.gz``, ``.osm.bz2``), OSM PBF (``.osm.pbf``), an
        osmnx GraphML file (``.graphml``), or a cache file written by servicecircle
        (``.npz``).
    crs
        Metric CRS to project to (anything pyproj accepts). Default: the CGCS2000
        3-degree Gauss-Krüger zone of the study area's centre (UTM outside China).
    study_area
        GeoDataFrame (e.g. the community boundaries) or lon/lat bounds used to
        choose the default CRS; the network's own extent when omitted.
    keep_components
        ``"largest"`` (default, ``settings.keep_components``) or ``"all"``.
    walk_filter
        Which ways are walkable; defaults to osmnx's ``walk`` network type.
    use_cache
        Read/write the cache in ``settings.cache_folder`` (default
        ``settings.use_cache``).
    progress
        Show progress (default ``settings.progress``).

    Returns
    -------
    WalkNetwork

    Raises
    ------
    NetworkError
        If the file is missing, unreadable or holds no walkable way.
    """
    path = Path(source)
    keep_components = keep_components or settings.keep_components
    use_cache = settings.use_cache if use_cache is None else use_cache
    if not path.is_file():
        raise NetworkError(
            "network file not found" if not path.is_dir() else "this is a folder, not a network file",
            file=path,
            fix="check the path given for the network",
        )
    name = path.name.lower()
    if name.endswith(".npz"):
        net = load_cached_network(path)
        if net is None:
            raise NetworkError(
                "not a servicecircle network file", file=path, fix="give an OSM, PBF or GraphML file instead"
            )
        return _as_read_from(net, str(path))  # this run read the .npz (what it was built from: in its info)
    is_graphml = name.endswith(GRAPHML_SUFFIXES)
    if not (is_graphml or is_osm_file(path)):
        raise NetworkError(
            f"unknown network file type '{''.join(path.suffixes[-2:]) or path.name}'",
            file=path,
            fix="give an OSM XML (.osm, .osm.gz, .osm.bz2), OSM PBF (.osm.pbf) or GraphML (.graphml) file",
        )
    crs_part = "auto" if crs is None and study_area is None else None
    resolved: pyproj.CRS | None = None
    if crs_part is None:
        resolved = _resolve_crs(crs, study_area, None)
        crs_part = resolved.to_wkt()
    key = cache_key(
        file=file_digest(path),
        crs=crs_part,
        keep=keep_components,
        walk_filter=list(walk_filter),
        kind="graphml" if is_graphml else "osm",
    )
    cache_file = Path(settings.cache_folder) / "networks" / f"{key}.npz"
    if use_cache:
        cached = load_cached_network(cache_file)
        if cached is not None:
            cached = _as_read_from(cached, str(path))
            cached.info.update(cache_key=key, cache_folder=str(cache_file.parent))
            # what building it warned about is still true: say it again
            for w in cached.info.get("build_warnings", []):
                warnings.warn(
                    DataWarning(
                        w["code"], w["what"], file=w["file"], layer=w["layer"], feature=w["feature"], count=w["count"]
                    ),
                    stacklevel=2,
                )
            return cached

    with collect_warnings() as built, bar(total=2, desc=f"network: reading {path.name}", progress=progress) as pbar:
        if is_graphml:
            net = _from_graphml(path, resolved, keep_components)
        else:
            ways = read_walkable_ways(path, walk_filter)
            check_ways(ways, str(path))
            pbar.update()
            if resolved is None:

                def way_bounds() -> tuple[float, float, float, float]:
                    ok = np.isfinite(ways.lon)
                    if not ok.any():
                        raise NetworkError(
                            "the walkable ways have no node locations", file=path, fix="use a complete OSM extract"
                        )
                    return (
                        float(ways.lon[ok].min()),
                        float(ways.lat[ok].min()),
                        float(ways.lon[ok].max()),
                        float(ways.lat[ok].max()),
                    )

                resolved = _resolve_crs(None, None, way_bounds)
            pbar.set_description_str(f"network: building from {ways.n_ways:,} ways")
            net = network_from_ways(ways, resolved, keep_components=keep_components, source=str(path))
        pbar.update()
    net.info["build_warnings"] = [
        {
            "code": w.code,
            "what": w.what,
            "file": w.file,
            "layer": w.layer,
            "feature": None if w.feature is None else str(w.feature),
            "count": w.count,
        }
        for w in built
    ]
    if use_cache:
        net.info.update(cache_key=key, cache_folder=str(cache_file.parent))
        try:
            save_network(net, cache_file)
        except OSError:
            pass  # a read-only cache folder only costs speed
    return net


def _as_read_from(net: WalkNetwork, source: str) -> WalkNetwork:
    """A cached network as this run read it: its ``source`` and its build warnings name ``source``.

    The cache is keyed by the file's content, so an entry may have been built
    from another copy of the same file (another folder, another name); the
    outputs' provenance (the ``run`` table, the Excel README) and the warnings
    must cite the file this run was given, not that copy. ``source`` is the
    path as given, as :func:`load_network` writes it for a fresh build; where
    the entry came from is kept in ``info["cache_built_from"]``.
    """
    built_from = net.source
    if built_from == source:
        return net
    info = dict(net.info)
    info["build_warnings"] = [
        {**w, "file": source} if w.get("file") == built_from else dict(w) for w in info.get("build_warnings", [])
    ]
    info["cache_built_from"] = built_from
    return replace(net, source=source, info=info)


def _from_graphml(path: Path, crs: pyproj.CRS | None, keep_components: str) -> WalkNetwork:
    import osmnx as ox

    try:
        graph = ox.load_graphml(path)
    except Exception:
        raise NetworkError(
            "cannot read this GraphML file: it is damaged, incomplete or not written by osmnx",
            file=path,
            fix="give a GraphML file written by osmnx (ox.save_graphml)",
        ) from None
    if crs is None:
        xs = [d["x"] for _, d in graph.nodes(data=True)]
        ys = [d["y"] for _, d in graph.nodes(data=True)]
        graph_crs = pyproj.CRS.from_user_input(graph.graph.get("crs", "EPSG:4326"))
        to_ll = pyproj.Transformer.from_crs(graph_crs, 4326, always_xy=True)
        lon, lat = to_ll.transform(np.array(xs), np.array(ys))
        crs = choose_metric_crs((float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))))
    return network_from_osmnx(graph, crs, keep_components=keep_components, source=str(path))


def download_network(
    place: str | None = None,
    *,
    study_area: Any = None,
    crs: Any = None,
    keep_components: str | None = None,
) -> WalkNetwork:
    """Download the walking network with osmnx (online; osmnx caches the responses).

    Parameters
    ----------
    place
        A place name osmnx can geocode (e.g. ``"锦江区, 成都市"``), or None to use
        the bounding box of ``study_area``.
    study_area
        GeoDataFrame whose extent (plus 1 km) is downloaded when ``place`` is None.
    crs, keep_components
        As for :func:`load_network`.
    """
    import osmnx as ox

    keep_components = keep_components or settings.keep_components
    ox.settings.use_cache = True
    ox.settings.cache_folder = str(Path(settings.cache_folder) / "osmnx")
    try:
        if place is not None:
            graph = ox.graph_from_place(place, network_type="walk", retain_all=True)
        elif study_area is not None:
            lon0, lat0, lon1, lat1 = _lonlat_bounds(study_area)
            pad = 0.01
            graph = ox.graph_from_bbox(
                (lon0 - pad, lat0 - pad, lon1 + pad, lat1 + pad), network_type="walk", retain_all=True
            )
        else:
            raise NetworkError("nothing to download", fix="give a place name or a study area")
    except NetworkError:
        raise
    except Exception as exc:
        raise NetworkError(
            f"download failed ({' '.join(str(exc).split())})",
            fix="check the connection, or give a local OSM/PBF file instead",
        ) from None
    resolved = _resolve_crs(crs, study_area, lambda: _graph_bounds(graph))
    return network_from_osmnx(graph, resolved, keep_components=keep_components, source=place or "download")


def _graph_bounds(graph: Any) -> tuple[float, float, float, float]:
    xs = np.array([d["x"] for _, d in graph.nodes(data=True)])
    ys = np.array([d["y"] for _, d in graph.nodes(data=True)])
    return (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
