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
output_timestamp : str | datetime.datetime | None
    The time written into output files whose format requires one — the
    GeoPackage's ``gpkg_contents.last_change``, the Excel workbook's created and
    modified properties and its zip entries' times, a PDF or SVG figure's date —
    so that identical inputs give identical files, byte for byte. ``None`` uses
    ``$SOURCE_DATE_EPOCH`` (whole seconds since 1970-01-01 UTC, the
    reproducible-builds convention) when it is set, else 2000-01-01T00:00:00Z;
    an ISO-8601 string (``"2024-05-01T09:30:00+08:00"``) or a
    :class:`~datetime.datetime` sets it (without a time zone: UTC). It is not the
    run date: the Excel README shows a run date only when the run recorded one.
    Default ``None``. :func:`output_time` reads it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
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
output_timestamp: str | datetime | None = None

#: ``output_timestamp`` when neither it nor ``$SOURCE_DATE_EPOCH`` is set
DEFAULT_OUTPUT_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def output_time(value: str | datetime | None = None) -> datetime:
    """The time to write into output files: ``value``, else ``output_timestamp``, as a UTC datetime.

    ``None`` (for both) means ``$SOURCE_DATE_EPOCH`` if set, else
    :data:`DEFAULT_OUTPUT_TIME`. A value that is not a time is refused with
    :class:`~servicecircle.errors.OptionError`.

    >>> output_time("2024-05-01T09:30:00+08:00").isoformat()
    '2024-05-01T01:30:00+00:00'
    >>> output_time(datetime(2024, 5, 1, 9, 30)).isoformat()
    '2024-05-01T09:30:00+00:00'
    """
    from .errors import OptionError

    raw = output_timestamp if value is None else value
    if raw is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        if not epoch:
            return DEFAULT_OUTPUT_TIME
        try:
            return datetime.fromtimestamp(int(epoch), tz=UTC)
        except (ValueError, OverflowError, OSError):
            raise OptionError(
                f"SOURCE_DATE_EPOCH={epoch!r} is not a time",
                fix="set SOURCE_DATE_EPOCH to whole seconds since 1970-01-01 UTC (e.g. 1714555800), or unset it",
            ) from None
    when: object = raw
    if isinstance(raw, str):
        try:
            when = datetime.fromisoformat(raw.strip())
        except ValueError:
            when = None
    if not isinstance(when, datetime):
        raise OptionError(
            f"settings.output_timestamp = {raw!r} is not a time",
            fix="set servicecircle.settings.output_timestamp to an ISO-8601 time such as "
            "'2024-05-01T09:30:00+08:00', a datetime, or None",
        )
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
