"""GDAL settings for one write, and the GeoPackage's time format: what the GDAL-based writers share."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

__all__ = ["gdal_config", "gpkg_time"]


@contextlib.contextmanager
def gdal_config(options: dict[str, str]) -> Iterator[None]:
    """GDAL configuration options set for the block only; the previous values restored after."""
    import pyogrio

    old = {name: pyogrio.get_gdal_config_option(name) for name in options}
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(
            {k: v if v is None or isinstance(v, (str, bool)) else str(v) for k, v in old.items()}
        )


def gpkg_time(when: datetime | None = None) -> str:
    """A time as the GeoPackage writes it (``YYYY-MM-DDTHH:MM:SS.SSSZ``, UTC); default the output timestamp.

    >>> from datetime import UTC, datetime
    >>> gpkg_time(datetime(2024, 5, 1, 1, 30, 0, 250000, tzinfo=UTC))
    '2024-05-01T01:30:00.250Z'
    """
    from .. import settings

    when = settings.output_time(when)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
