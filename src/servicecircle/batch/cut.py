"""Cutting one area's walking network out of a large one (a province's PBF), with a margin that keeps it exact.

The margin is the widest radius the area's profile checks plus ``max_snap``.
Why that is enough: a walk of at most ``R`` metres from a point of the area never
leaves the disc of radius ``R`` around it, so every edge such a walk uses lies
within ``R`` of the area; a facility that counts lies within ``R`` of the area
too, and the edge it snaps to within ``max_snap`` of the facility. Every edge
within ``R + max_snap`` of the area (its polygon and its communities) is kept
whole, with the network's own nodes and lengths, and nothing else changes: the
network's components were chosen on the whole network before the cut. So every
count and coverage within a radius of the profile, every snap of a community's
demand and every snap of a facility within ``R`` is the one the whole network
gives. Facilities farther than ``R`` from the area cannot count and are left out
of the area's run (counted in a warning). A nearest-facility distance beyond
``R`` may be longer on the cut network than on the whole one (the walk may need
streets outside the margin): the batch summary says how far the cut reaches.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from ..errors import NetworkError
from ..network.cache import cache_key, load_cached_network, save_network
from ..network.model import WalkNetwork
from ..options import Options, setting_or
from ..profiles import Profile, load_profile

__all__ = ["widest_radius", "cut_margin", "cut_network", "area_core", "cut_file"]


def widest_radius(profile: Profile) -> float:
    """The widest walking distance ``profile`` checks anything within, metres.

    >>> from servicecircle.profiles import load_profile
    >>> widest_radius(load_profile("gb50180"))
    1000.0
    """
    radii = [c.radius_m for c in profile.categories.values()]
    radii += [g.radius_m for g in profile.green.values()]
    radii += [item.radius_m for item in profile.six_ones]
    if profile.floor_area is not None and profile.floor_area.catchment_radius_m is not None:
        radii.append(profile.floor_area.catchment_radius_m)
    return float(max(radii, default=0.0))


def cut_margin(options: Options) -> tuple[float, float]:
    """(margin, widest radius) in metres for an area assessed with ``options``: the radius plus ``max_snap``."""
    profile = options.profile if isinstance(options.profile, Profile) else load_profile(options.profile)
    radius = widest_radius(profile)
    return radius + float(setting_or("max_snap", options.max_snap)), radius


def area_core(boundaries: Any, polygon: Any, crs: Any) -> Any:
    """The area the margin is measured from, in ``crs``: its communities and its polygon (when given), merged."""
    from ..coords import to_crs

    parts = [shapely.union_all(to_crs(boundaries.geometry, crs).to_numpy())]
    if polygon is not None:
        parts.append(shapely.union_all(to_crs(polygon.geometry, crs).to_numpy()))
    return shapely.union_all(parts)


def cut_network(net: WalkNetwork, core: Any, margin: float) -> WalkNetwork:
    """The edges of ``net`` within ``margin`` metres of ``core`` (a geometry in ``net.crs``), kept whole.

    Nodes are renumbered; every array keeps its order; ``info["cut"]`` says
    what was cut (the margin, the nodes and edges kept of how many).

    >>> import numpy as np, pyproj, shapely
    >>> from servicecircle.network.build import network_from_arrays
    >>> xy = np.array([[0.0, 0], [100, 0], [200, 0], [900, 0]])
    >>> net = network_from_arrays(xy, np.array([0, 1, 2]), np.array([1, 2, 3]), crs=pyproj.CRS(4544))
    >>> part = cut_network(net, shapely.Point(0, 0), 150)
    >>> part.n_nodes, part.n_edges, part.info["cut"]["edges_of"]
    (3, 2, 3)
    """
    hits = np.sort(net.edge_index.query(core, predicate="dwithin", distance=float(margin)))
    nodes = np.unique(np.concatenate([net.edge_u[hits], net.edge_v[hits]]))
    info = {k: v for k, v in net.info.items() if k not in ("cache_key", "cache_folder", "cache_file")}
    info["cut"] = {
        "margin_m": float(margin),
        "nodes": int(len(nodes)),
        "nodes_of": int(net.n_nodes),
        "edges": int(len(hits)),
        "edges_of": int(net.n_edges),
        "km": float(net.edge_length[hits].sum() / 1000),
        "km_of": float(net.edge_length.sum() / 1000),
    }
    return net.with_edges(hits, info)


def cut_file(whole: str | Path, whole_key: str, core: Any, margin: float) -> Path:
    """Cut the cached network ``whole`` to ``core`` and keep the cut beside it, in the same cache; its path.

    The cut's file is named by the whole network's cache key, the core's
    geometry and the margin, so a rerun (on any worker) finds it and does not
    load the whole network again.
    """
    folder = Path(whole).parent
    digest = hashlib.sha256(shapely.to_wkb(core, output_dimension=2)).hexdigest()
    key = cache_key(whole=str(whole_key), core=digest, margin=float(margin), kind="cut")
    path = folder / f"{key}.npz"
    if not path.exists():
        net = load_cached_network(whole)
        if net is None:
            raise NetworkError("the cached network is missing or damaged", file=whole, fix="run the batch again")
        part = cut_network(net, core, margin)
        part.info.update(cache_key=key, cache_folder=str(folder))  # the cut's gap-grid snaps are kept beside it
        save_network(part, path)
    return path
