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

import geopandas as gpd
import pandas as pd

from .. import settings
from .._parallel import Background, workers_for
from ..errors import OutputError
from .gapmap import embed_assets, gap_map
from .geopackage import set_last_change, street_file, street_layer, write_geopackage
from .layers import assessment_layers, register_summary_rows
from .tables import write_csv

__all__ = [
    "save_assessment",
    "gap_map",
    "embed_assets",
    "write_geopackage",
    "assessment_layers",
    "write_csv",
    "OUTPUT_FILES",
]

OUTPUT_FILES = {
    "geopackage": "shortfall.gpkg",
    "project": "shortfall.qgz",
    "map": "gap_map.html",
    "summary": "summary.csv",
    "summary_units": "summary_units.csv",  # the roll-up to every unit level, when the run has units
    "excel": "shortfall.xlsx",
    "filegdb": "shortfall.gdb",
    "figures": "figures",
    "report": "report.pdf",  # and report_<district>.pdf, one per district (outputs.report.write_reports)
}
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
    excel: bool = False,
    filegdb: bool = False,
    figures: bool = False,
    styles: bool = True,
    gpkg_version: str = "1.2",
    report: bool | str = False,
) -> dict[str, Path]:
    """Write the outputs of an assessment into ``out_dir``.

    Always ``shortfall.gpkg`` (with QGIS layer styles and a ``streets`` layer),
    the QGIS project ``shortfall.qgz`` beside it (unless ``styles=False``) and ``summary.csv``; by
    default also ``gap_map.html``; on request an Excel workbook
    ``shortfall.xlsx``, a File Geodatabase ``shortfall.gdb`` and report figures
    in ``figures/``.

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
    write_map, excel, filegdb, figures, styles
        Which outputs to write (figures need a Chinese font, see
        :func:`servicecircle.outputs.figures.cjk_font`; ``styles`` is the QGIS
        styles and project).
    gpkg_version
        GeoPackage version: ``"1.2"`` (default, opens without a warning in QGIS
        3.22 / GDAL 3.6), ``"1.3"`` or ``"1.4"``.
    report
        Also write the printable PDF report ``report.pdf`` (and ``report_<district>.pdf``
        per district, see :func:`servicecircle.outputs.report.write_reports`): ``True``
        or ``"A4"`` for A4 paper, ``"A3"`` for A3.

    Returns
    -------
    dict
        Output name → path.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the output folder ({exc.strerror})",
            file=out_dir,
            fix="choose a folder you can write to (--out)",
        ) from None
    if not os.access(out_dir, os.W_OK):
        raise OutputError(
            "the output folder is not writable", file=out_dir, fix="choose a folder you can write to (--out)"
        )
    _clean_stale(out_dir)
    crs = crs or settings.output_crs
    settings.output_time()  # an unusable settings.output_timestamp is refused before anything is written
    tmp = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=out_dir))
    written: dict[str, Path] = {}
    staged: dict[str, Path] = {"geopackage": tmp / OUTPUT_FILES["geopackage"]}
    if styles:
        staged["project"] = tmp / OUTPUT_FILES["project"]  # written with the GeoPackage, from its styles

    def geopackage() -> None:
        layers = assessment_layers(assessment)
        start = None
        network = getattr(assessment, "network", None)
        if network is not None and "streets" not in layers:
            # the street context of the QGIS project: written once for a cached network, then copied
            start = street_file(network, crs, version=gpkg_version)
            if start is None:  # after the other spatial layers
                spatial = {k: v for k, v in layers.items() if isinstance(v, gpd.GeoDataFrame)}
                layers = {**spatial, "streets": street_layer(network), **layers}
        write_geopackage(layers, staged["geopackage"], crs, version=gpkg_version, start=start)
        if styles:
            from .qgis_project import write_qgis_project
            from .qgis_styles import add_qgis_styles

            add_qgis_styles(staged["geopackage"], assessment)
            set_last_change(staged["geopackage"])  # layer_styles is registered with the clock's time
            write_qgis_project(staged["geopackage"], staged["project"])

    # the GeoPackage is written by a second process while this one writes the rest
    # (both hold the GIL, so a thread would not help); alone when there is nothing else
    others = write_map or excel or filegdb or figures or bool(report)
    try:
        with Background(geopackage, enabled=others and workers_for(2, threshold=2) > 1) as gpkg_job:
            _write_others(assessment, tmp, staged, crs, map_options, write_map, excel, filegdb, figures)
            if report:
                from .report import write_reports

                staged.update(write_reports(assessment, tmp, paper="A4" if report is True else str(report)))
            gpkg_job.result()
        for key, path in staged.items():
            final = out_dir / OUTPUT_FILES.get(key, path.name)  # report_<district>.pdf keeps its own name
            if path.is_dir():
                # a folder cannot be replaced atomically: swap it in by two renames
                old = None
                if final.exists():
                    old = tmp / f"{final.name}.old"
                    os.replace(final, old)
                os.replace(path, final)
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(path, final)
            written[key] = final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written


def _write_others(
    assessment,
    tmp: Path,
    staged: dict[str, Path],
    crs: Any,
    map_options: dict[str, Any] | None,
    write_map: bool,
    excel: bool,
    filegdb: bool,
    figures: bool,
) -> None:
    """Every output but the GeoPackage, staged in ``tmp``."""
    staged["summary"] = tmp / OUTPUT_FILES["summary"]
    # the summary, then its register section: every target of the plan (kind = "register")
    register = register_summary_rows(assessment)
    summary = assessment.summary
    if len(register):
        records = [*summary.to_dict("records"), *register.to_dict("records")]
        summary = pd.DataFrame(records, columns=list(dict.fromkeys([*summary.columns, *register.columns])))
    write_csv(summary, staged["summary"])
    rollup = getattr(assessment, "layers", {}).get("rollup")
    if rollup is not None and len(rollup):
        staged["summary_units"] = tmp / OUTPUT_FILES["summary_units"]
        write_csv(rollup, staged["summary_units"])
    if write_map:
        staged["map"] = tmp / OUTPUT_FILES["map"]
        gap_map(assessment, **(map_options or {})).save(str(staged["map"]))
    if excel:
        from .excel import write_excel

        staged["excel"] = tmp / OUTPUT_FILES["excel"]
        write_excel(assessment, staged["excel"])
    if filegdb:
        from .filegdb import write_filegdb

        staged["filegdb"] = tmp / OUTPUT_FILES["filegdb"]
        write_filegdb(assessment, staged["filegdb"], crs=crs)
    if figures:
        from .figures import figure_check, figure_overview, figure_scorecard

        folder = staged["figures"] = tmp / OUTPUT_FILES["figures"]
        folder.mkdir()
        figure_overview(assessment, folder / "overview.png")
        figure_scorecard(assessment, folder / "scorecard.png")
        for check in assessment.checks:
            if check.cov_col:
                figure_check(assessment, check.key, folder / f"check_{check.key}.png")
