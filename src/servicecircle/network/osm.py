"""Read walkable ways from local OpenStreetMap files.

One reader for every OSM format planners get: XML (``.osm``, ``.osm.gz``,
``.osm.bz2``) and PBF (``.osm.pbf``), through libosmium (the ``osmium`` package),
which keeps node locations in compiled code and hands Python only the ways that
carry a ``highway`` tag.

Which ways are walkable follows osmnx 2.1's ``network_type="walk"`` filter
exactly (the Overpass expression osmnx builds), so a network read here from a
local file is the one osmnx would download for the same area:

``["highway"]["area"!~"yes"]["access"!~"private"]``
``["highway"!~"abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|raceway|razed|rest_area|services"]``
``["foot"!~"no"]["service"!~"private"]``
``["sidewalk"!~"separate"]["sidewalk:both"!~"separate"]["sidewalk:left"!~"separate"]["sidewalk:right"!~"separate"]``

Overpass ``!~`` is an unanchored, case-sensitive regular-expression test that a
missing key passes; :func:`is_walkable` reproduces that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
from numpy.typing import NDArray

from ..errors import NetworkError
from ..inputs.osmfile import OSM_SUFFIXES, is_osm_file, osm_file_problem

__all__ = ["WALK_FILTER", "OSM_SUFFIXES", "WayTable", "is_walkable", "read_walkable_ways", "is_osm_file"]

#: (key, regular expression): a way whose value for ``key`` matches is not walkable.
WALK_FILTER: tuple[tuple[str, str], ...] = (
    ("area", "yes"),
    ("access", "private"),
    (
        "highway",
        "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|"
        "proposed|raceway|razed|rest_area|services",
    ),
    ("foot", "no"),
    ("service", "private"),
    ("sidewalk", "separate"),
    ("sidewalk:both", "separate"),
    ("sidewalk:left", "separate"),
    ("sidewalk:right", "separate"),
)

#: Tags copied onto edges of the network.
EDGE_TAGS = ("highway", "name")

_COMPILED = tuple((key, re.compile(pattern)) for key, pattern in WALK_FILTER)


def is_walkable(tags: dict[str, str], walk_filter: tuple[tuple[str, str], ...] = WALK_FILTER) -> bool:
    """Whether a way with these tags belongs to the walking network.

    Parameters
    ----------
    tags
        The way's OSM tags.
    walk_filter
        ``(key, regex)`` pairs; a way is excluded when a key is present and its
        value matches the regex anywhere (Overpass ``!~`` semantics).

    Returns
    -------
    bool

    Examples
    --------
    >>> is_walkable({"highway": "residential"})
    True
    >>> is_walkable({"highway": "motorway_link"})
    False
    >>> is_walkable({"highway": "footway", "access": "private"})
    False
    """
    if "highway" not in tags:
        return False
    compiled = _COMPILED if walk_filter is WALK_FILTER else tuple((k, re.compile(p)) for k, p in walk_filter)
    for key, rx in compiled:
        value = tags.get(key)
        if value is not None and rx.search(value):
            return False
    return True


@dataclass(frozen=True)
class WayTable:
    """Walkable ways as flat arrays (one row per way node).

    Attributes
    ----------
    way_ptr
        ``int64`` array of length ``n_ways + 1``: way ``i`` owns rows
        ``way_ptr[i]:way_ptr[i+1]``.
    node_ref, lon, lat
        OSM node id and location of each row; rows whose node is missing from
        the file (a truncated extract) have ``nan`` coordinates.
    way_id
        OSM id of each way.
    tags
        ``{tag: array of str}`` for the tags in ``EDGE_TAGS`` (``""`` when absent).
    n_ways_read
        How many ``highway`` ways the file had before filtering.
    """

    way_ptr: NDArray[np.int64]
    node_ref: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    way_id: NDArray[np.int64]
    tags: dict[str, NDArray[np.object_]]
    n_ways_read: int

    @property
    def n_ways(self) -> int:
        return len(self.way_id)


def read_walkable_ways(path: str | Path, walk_filter: tuple[tuple[str, str], ...] = WALK_FILTER) -> WayTable:
    """Read the walkable ways of an OSM XML or PBF file.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.gz``, ``.osm.bz2`` or ``.osm.pbf`` file.
    walk_filter
        See :func:`is_walkable`.

    Returns
    -------
    WayTable

    Raises
    ------
    NetworkError
        If the file cannot be read or parsed.
    """
    import osmium

    path = Path(path)
    if not path.exists():
        raise NetworkError("network file not found", file=path, fix="check the path given for the network")
    refs: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    ptr = [0]
    way_ids: list[int] = []
    tag_values: dict[str, list[str]] = {k: [] for k in EDGE_TAGS}
    n_read = 0
    try:
        processor = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for entity in processor:
            way = cast(osmium.osm.Way, entity)  # the entity filter passes ways only
            n_read += 1
            tags = {t.k: t.v for t in way.tags}
            if not is_walkable(tags, walk_filter):
                continue
            for nd in way.nodes:
                refs.append(nd.ref)
                loc = nd.location
                if loc.valid():
                    lons.append(loc.lon)
                    lats.append(loc.lat)
                else:
                    lons.append(np.nan)
                    lats.append(np.nan)
            ptr.append(len(refs))
            way_ids.append(way.id)
            for k in EDGE_TAGS:
                tag_values[k].append(tags.get(k, ""))
    except (RuntimeError, ValueError, OSError):
        raise NetworkError(
            f"cannot read this OSM file ({osm_file_problem(path)})",
            file=path,
            fix="check that it is a complete OSM XML (.osm, .osm.gz, .osm.bz2) or PBF (.osm.pbf) file "
            "(download or copy it again)",
        ) from None
    return WayTable(
        way_ptr=np.asarray(ptr, dtype=np.int64),
        node_ref=np.asarray(refs, dtype=np.int64),
        lon=np.asarray(lons, dtype=np.float64),
        lat=np.asarray(lats, dtype=np.float64),
        way_id=np.asarray(way_ids, dtype=np.int64),
        tags={k: np.asarray(v, dtype=object) for k, v in tag_values.items()},
        n_ways_read=n_read,
    )
