"""On-disk cache of built walking networks.

A built network is stored as one ``.npz`` file of plain arrays (no pickle, so
loading a cache file can never run code) under ``settings.cache_folder``. Its
name is a hash of everything the network depends on: the source file's bytes,
the CRS, the walk filter, the component rule and the builder version. Change any
of them and the old entry is simply not found again; a second run on the same
inputs loads in a fraction of a second instead of parsing OSM.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely

from ..errors import warn_data
from .model import WalkNetwork

__all__ = [
    "BUILDER_VERSION",
    "cache_key",
    "file_digest",
    "save_network",
    "load_cached_network",
    "lattice_cache_file",
    "load_lattice_snaps",
    "save_lattice_snaps",
]

#: Bump when the way a network is built changes: old cache entries then miss.
BUILDER_VERSION = "1"


def file_digest(path: str | Path, chunk: int = 1 << 22) -> str:
    """SHA-256 of a file's content."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def cache_key(**parts: Any) -> str:
    """A stable hash of the given JSON-serialisable parts."""
    text = json.dumps({"builder": BUILDER_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def save_network(net: WalkNetwork, path: str | Path) -> None:
    """Write ``net`` to ``path`` (``.npz``), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    coords, ring_index = shapely.get_coordinates(net.edge_geometry, return_index=True)
    counts = np.bincount(ring_index, minlength=net.n_edges)
    arrays = {
        "node_id": net.node_id,
        "node_xy": net.node_xy,
        "edge_u": net.edge_u,
        "edge_v": net.edge_v,
        "edge_way": net.edge_way,
        "coords": coords,
        "coord_counts": counts,
        "crs_wkt": np.array(net.crs.to_wkt()),
        "meta": np.array(json.dumps({"source": net.source, "info": net.info})),
    }
    for k, v in net.edge_tags.items():
        arrays[f"tag_{k}"] = np.asarray(v, dtype=str)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.part")
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_cached_network(path: str | Path) -> WalkNetwork | None:
    """Read a network written by :func:`save_network`; ``None`` if absent or unreadable."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            counts = z["coord_counts"]
            index = np.repeat(np.arange(len(counts)), counts)
            geometry = shapely.linestrings(z["coords"], indices=index)
            meta = json.loads(str(z["meta"]))
            tags = {k[4:]: z[k].astype(object) for k in z.files if k.startswith("tag_")}
            return WalkNetwork(
                crs=pyproj.CRS.from_wkt(str(z["crs_wkt"])),
                node_id=z["node_id"],
                node_xy=z["node_xy"],
                edge_u=z["edge_u"],
                edge_v=z["edge_v"],
                edge_length=shapely.length(geometry),
                edge_geometry=geometry,
                edge_way=z["edge_way"],
                edge_tags=tags,
                source=meta["source"],
                info={**meta["info"], "cache_file": str(path)},
            )
    except Exception as exc:  # a damaged cache entry is rebuilt, never trusted
        warn_data("network_cache_unreadable", f"ignored a damaged cache entry ({exc})", file=path)
        return None


#: Bump when the way points are snapped changes: cached lattice snaps then miss.
SNAP_VERSION = "1"
_LATTICE_FIELDS = ("keys", "edge", "offset", "access", "xy")


def lattice_cache_file(net: WalkNetwork, resolution: float, max_snap: float) -> Path | None:
    """Where the snapped cells of a ``resolution`` lattice over ``net`` are kept.

    ``None`` for a network that did not come through the cache (built from
    arrays in memory): there is nothing stable to key the file by.
    """
    key, folder = net.info.get("cache_key"), net.info.get("cache_folder")
    if not key or not folder:
        return None
    name = f"{key}.lattice-{float(resolution):g}m-snap{float(max_snap):g}m-v{SNAP_VERSION}.npz"
    return Path(folder) / name


def load_lattice_snaps(path: Path | None) -> dict[str, np.ndarray] | None:
    """Cached lattice snaps (``keys`` sorted), or ``None`` if absent or unreadable."""
    if path is None or not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            out = {k: z[k] for k in _LATTICE_FIELDS}
        if not (len(out["keys"]) == len(out["edge"]) == len(out["offset"]) == len(out["xy"])):
            raise ValueError("arrays of different lengths")
        return out
    except Exception as exc:  # a damaged entry is recomputed, never trusted
        warn_data("network_cache_unreadable", f"ignored a damaged cache entry ({exc})", file=path)
        return None


def save_lattice_snaps(path: Path | None, arrays: dict[str, np.ndarray]) -> None:
    """Write lattice snaps atomically; a read-only cache folder only costs speed."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.part")
        os.close(fd)
        try:
            with open(tmp, "wb") as fh:
                np.savez(fh, **{k: arrays[k] for k in _LATTICE_FIELDS})
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        pass
