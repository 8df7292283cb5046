"""Outputs: the shortfall GeoPackage, the gap map and the summary table.

Everything is written to a temporary folder next to the target and moved into
place file by file (``os.replace``, atomic on one file system): a run that fails
or is killed half-way leaves the previous outputs whole and readable.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from .. import settings
from ..errors import OutputError
from .gapmap import embed_assets, gap_map
from .geopackage import assessment_layers, write_geopackage
from .tables import write_csv

__all__ = ["save_assessment", "gap_map", "embed_assets", "write_geopackage", "assessment_layers", "write_csv",
           "OUTPUT_FILES"]

OUTPUT_FILES = {"geopackage": "shortfall.gpkg", "map": "gap_map.html", "summary": "summary.csv"}
_TMP_PREFIX = ".servicecircle-tmp-"


def _clean_stale(out_dir: Path, max_age_s: float = 3600.0) -> None:
    """Remove temporary folders left by runs that were killed."""
    now = time.time()
    for p in out_dir.glob(f"{_TMP_PREFIX}*"):
        try:
            if now - p.stat().st_mtime > max_age_s:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass


def save_assessment(
    assessment,
    out_dir: str | Path,
    *,
    crs: Any = None,
    map_options: dict[str, Any] | None = None,
    write_map: bool = True,
) -> dict[str, Path]:
    """Write ``shortfall.gpkg``, ``gap_map.html`` and ``summary.csv`` into ``out_dir``.

    Parameters
    ----------
    assessment
        The :class:`~servicecircle.assessment.Assessment` to save.
    out_dir
        Output folder (created if needed).
    crs
        CRS of the exported layers (default ``settings.output_crs``, CGCS2000).
    map_options
        Keyword arguments for :func:`gap_map`.
    write_map
        Skip the HTML map when False.

    Returns
    -------
    dict
        ``{"geopackage": path, "map": path, "summary": path}``.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder ({exc.strerror})", file=out_dir,
                          fix="choose a folder you can write to (--out)") from None
    if not os.access(out_dir, os.W_OK):
        raise OutputError("the output folder is not writable", file=out_dir,
                          fix="choose a folder you can write to (--out)")
    _clean_stale(out_dir)
    crs = crs or settings.output_crs
    tmp = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=out_dir))
    written: dict[str, Path] = {}
    try:
        staged = {}
        staged["geopackage"] = tmp / OUTPUT_FILES["geopackage"]
        write_geopackage(assessment_layers(assessment), staged["geopackage"], crs)
        staged["summary"] = tmp / OUTPUT_FILES["summary"]
        write_csv(assessment.summary, staged["summary"])
        if write_map:
            staged["map"] = tmp / OUTPUT_FILES["map"]
            gap_map(assessment, **(map_options or {})).save(str(staged["map"]))
        for key, path in staged.items():
            final = out_dir / OUTPUT_FILES[key]
            os.replace(path, final)
            written[key] = final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written
