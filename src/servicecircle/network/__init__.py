"""The walking network: read local OSM / GraphML (or download), build, cache.

:mod:`~servicecircle.network.load` loads (:func:`load_network`,
:func:`download_network`), :mod:`~servicecircle.network.osm` reads walkable ways,
:mod:`~servicecircle.network.build` builds a :class:`WalkNetwork`
(:mod:`~servicecircle.network.model`) and :mod:`~servicecircle.network.cache`
keeps built networks and snapped lattices on disk. Everything public is
importable from here.

>>> from servicecircle.network import load_network
>>> net = load_network("data/network/chengdu_central_2018.osm.gz", progress=False)
>>> net.crs.to_epsg(), net.n_nodes > 3000
(4544, True)
"""

from __future__ import annotations

from .build import network_from_arrays, network_from_osmnx, network_from_ways, simplify_segments
from .load import download_network, load_network
from .model import WalkNetwork
from .osm import WALK_FILTER, is_walkable, read_walkable_ways

__all__ = [
    "WalkNetwork",
    "load_network",
    "download_network",
    "network_from_arrays",
    "network_from_osmnx",
    "network_from_ways",
    "simplify_segments",
    "read_walkable_ways",
    "is_walkable",
    "WALK_FILTER",
]
