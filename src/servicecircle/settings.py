"""Global defaults, in one place, in the manner of ``osmnx.settings``.

Every value here can be changed for a session (``servicecircle.settings.max_snap
= 150``) and most can be passed to the function that uses them. Numbers that
come from a planning standard do *not* live here: they live in the standards
profiles (``servicecircle/profiles/*.toml``), which cite their sources.

Attributes
----------
max_snap : float
    Metres. A point farther than this from every edge of the walking network is
    left unsnapped: it gets no distance and is reported. Default 250 m.
sample_spacing : float
    Metres between demand points sampled inside community boundaries when no
    demand layer is given. Default 50 m.
gap_resolution : float
    Metres. Gap polygons are traced on a grid of this cell size. Default 20 m.
max_gap_cells : int
    The gap grid is coarsened (with a warning) so that it never has more cells
    than this. Default 300,000.
max_distance : float | None
    Metres. Shortest-path searches stop here (distances beyond are reported as
    unreachable). ``None`` searches the whole network. Default ``None``.
cache_folder : pathlib.Path
    Where built walking networks are cached. Default ``$SERVICECIRCLE_CACHE`` or
    ``~/.cache/servicecircle``.
use_cache : bool
    Read and write the network cache. Default ``True``.
keep_components : str
    ``"largest"`` keeps only the largest connected part of the walking network
    (as osmnx does by default) and warns about what was dropped; ``"all"``
    keeps every part. Default ``"largest"``.
progress : bool | None
    Show progress bars (tqdm, notebook-aware). ``None`` shows them only on an
    interactive terminal or in a notebook. Default ``None``.
output_crs : str
    Coordinate system of exported layers. Default ``"EPSG:4490"`` (CGCS2000).
max_input_features : int
    A vector layer with more features than this is refused before it is read.
max_raster_cells : int
    A raster with more cells than this is refused before it is read.
workers : int | None
    Processes for the heaviest loops (shortest paths per category, snapping the
    gap grid, writing the GeoPackage beside the map). ``1`` never forks (safe
    in a notebook); a number uses that many forked processes; ``None`` uses up
    to four cores for large jobs on Linux. Default ``1`` in Python; the
    ``servicecircle`` command uses ``None`` unless ``--workers`` is given.
"""

from __future__ import annotations

import os
from pathlib import Path

max_snap: float = 250.0
sample_spacing: float = 50.0
gap_resolution: float = 20.0
max_gap_cells: int = 300_000
max_distance: float | None = None
cache_folder: Path = Path(os.environ.get("SERVICECIRCLE_CACHE", Path.home() / ".cache" / "servicecircle"))
use_cache: bool = True
keep_components: str = "largest"
progress: bool | None = None
output_crs: str = "EPSG:4490"
max_input_features: int = 20_000_000
max_raster_cells: int = 400_000_000
workers: int | None = 1
