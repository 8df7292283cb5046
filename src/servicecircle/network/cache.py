"""On-disk cache of built walking networks.

A built network is stored as one ``.npz`` file of plain arrays (no pickle, so
loading a cache file can never run code) under ``settings.cache_folder``. Its
name is a hash of everything the network depends on: the source file's bytes,
the CRS, the walk filter, the component rule and the builder version. Change any
of them and the old entry is simply not found again; a second run on the same
inputs loads in a fraction of a second instead of parsing OSM.

Next to a cached network, :class:`LatticeCache` (made by :func:`lattice_store`)
keeps the snapped cells of the gap grid's fixed lattices, so a rerun snaps only
the cells it has not seen.
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
from numpy.typing import NDArray

from .. import settings
from ..errors import warn_data
from .model import WalkNetwork, segment_pieces

__all__ = [
    "BUILDER_VERSION",
    "cache_key",
    "file_digest",
    "save_network",
    "load_cached_network",
    "lattice_cache_file",
    "load_lattice_snaps",
    "save_lattice_snaps",
    "LatticeCache",
    "lattice_store",
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
            coords = z["coords"]
            geometry = shapely.linestrings(coords, indices=index)
            meta = json.loads(str(z["meta"]))
            tags = {k[4:]: z[k].astype(object) for k in z.files if k.startswith("tag_")}
            net = WalkNetwork(
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
            # the straight pieces (for snapping) from the coordinates read, not extracted from the geometries again
            net.__dict__["segment_ends"] = segment_pieces(coords, index, net.n_edges)
            return net
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
    return _lattice_file(Path(folder), str(key), resolution, max_snap)


def _lattice_file(folder: Path, key: str, resolution: float, max_snap: float) -> Path:
    name = f"{key}.lattice-{float(resolution):g}m-snap{float(max_snap):g}m-v{SNAP_VERSION}.npz"
    return folder / name


def load_lattice_snaps(path: Path | None, *, warn: bool = True) -> dict[str, NDArray[Any]] | None:
    """Cached lattice snaps (``keys`` sorted), or ``None`` if absent or unreadable.

    A damaged file is reported with a :class:`~servicecircle.errors.DataWarning`
    unless ``warn`` is false.
    """
    if path is None or not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            out = {k: z[k] for k in _LATTICE_FIELDS}
        if not (len(out["keys"]) == len(out["edge"]) == len(out["offset"]) == len(out["xy"])):
            raise ValueError("arrays of different lengths")
        return out
    except Exception as exc:  # a damaged entry is recomputed, never trusted
        if warn:
            warn_data("network_cache_unreadable", f"ignored a damaged cache entry ({exc})", file=path)
        return None


def save_lattice_snaps(path: Path | None, arrays: dict[str, NDArray[Any]]) -> None:
    """Write lattice snaps atomically; a read-only cache folder only costs speed."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.part")
        os.close(fd)
        try:
            with open(tmp, "wb") as fh:
                np.savez(fh, allow_pickle=False, **{k: arrays[k] for k in _LATTICE_FIELDS})  # plain numbers only
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        pass


class LatticeCache:
    """The snapped lattice cells of one cached network, kept next to it in the cache folder.

    A :class:`~servicecircle.engine.snapping.LatticeStore` for
    :func:`~servicecircle.engine.snapping.snap_lattice`: one ``.npz`` file per
    lattice resolution and snapping limit (:func:`lattice_cache_file`), keys
    sorted. Make one with :func:`lattice_store`.

    Parameters
    ----------
    folder : pathlib.Path
        The cache folder of the network (its ``info["cache_folder"]``).
    key : str
        The network's cache key (its ``info["cache_key"]``).
    max_cells : int, optional
        At most this many cells are kept per file. Default: four times
        ``settings.max_gap_cells`` at the time of saving. Beyond it a file
        keeps the cells of the latest call only, or is not written when even
        they are more.
    """

    def __init__(self, folder: str | os.PathLike[str], key: str, *, max_cells: int | None = None) -> None:
        self.folder = Path(folder)
        self.key = str(key)
        self.max_cells = max_cells

    def __repr__(self) -> str:
        return f"LatticeCache({str(self.folder)!r}, {self.key!r})"

    def path(self, resolution: float, max_snap: float) -> Path:
        """Return the file the cells of this lattice and snapping limit are kept in.

        Parameters
        ----------
        resolution : float
            Cell size, metres.
        max_snap : float
            Snapping limit, metres.

        Returns
        -------
        pathlib.Path
        """
        return _lattice_file(self.folder, self.key, resolution, max_snap)

    def load(self, resolution: float, max_snap: float) -> dict[str, NDArray[Any]] | None:
        """Return the kept cells (``keys`` sorted), or ``None`` if there is no readable file.

        Parameters
        ----------
        resolution : float
            Cell size, metres.
        max_snap : float
            Snapping limit, metres.

        Returns
        -------
        dict of str to numpy.ndarray or None
            ``keys``, ``edge``, ``offset``, ``access``, ``xy``. A damaged file
            gives ``None`` and a warning.
        """
        return load_lattice_snaps(self.path(resolution, max_snap))

    def save(self, resolution: float, max_snap: float, arrays: dict[str, NDArray[Any]]) -> None:
        """Keep the cells of one call together with those already kept, within the size bound.

        Parameters
        ----------
        resolution : float
            Cell size, metres.
        max_snap : float
            Snapping limit, metres.
        arrays : dict of str to numpy.ndarray
            ``keys``, ``edge``, ``offset``, ``access``, ``xy`` of every cell of
            the call. Cells not kept yet are added to the file; when that
            makes it larger than the bound the file keeps these cells only;
            when even they are more, nothing is written. A read-only cache
            folder only costs speed.
        """
        bound = settings.max_gap_cells * 4 if self.max_cells is None else int(self.max_cells)
        path = self.path(resolution, max_snap)
        kept = load_lattice_snaps(path, warn=False)  # a damaged file was reported when it was loaded
        if kept is None:
            kept = {f: v[:0] for f, v in arrays.items()}
        new = ~np.isin(arrays["keys"], kept["keys"])
        store = {f: np.concatenate([kept[f], arrays[f][new]]) for f in _LATTICE_FIELDS}
        if len(store["keys"]) > bound:
            store = {f: arrays[f] for f in _LATTICE_FIELDS}
        if len(store["keys"]) <= bound:
            order = np.argsort(store["keys"], kind="stable")
            save_lattice_snaps(path, {f: v[order] for f, v in store.items()})


def lattice_store(net: WalkNetwork, *, use_cache: bool | None = None) -> LatticeCache | None:
    """Return the lattice cache of a cached network, or ``None`` where there is none.

    Parameters
    ----------
    net : WalkNetwork
        The walking network.
    use_cache : bool, optional
        Default ``settings.use_cache``.

    Returns
    -------
    LatticeCache or None
        ``None`` when the cache is off, or for a network that did not come
        through the cache (built from arrays in memory, downloaded): there is
        nothing stable to key the files by (see :func:`lattice_cache_file`).
    """
    use_cache = settings.use_cache if use_cache is None else use_cache
    key, folder = net.info.get("cache_key"), net.info.get("cache_folder")
    if not use_cache or not key or not folder:
        return None
    return LatticeCache(Path(folder), str(key))
