"""The floor-area template: one row per residents' committee, for the planner to fill in.

Columns (:data:`servicecircle.schema.FLOOR_AREA_TEMPLATE_HEADERS`, bilingual
headers whose first word is the key): ``code``, ``name``, ``township``,
``lon``, ``lat`` (WGS84: the committee's position in the code register),
``position`` (where lon/lat come from), and the cells to fill:
``floor_area_m2`` (the community service centre's floor area, m²; empty:
unknown) and ``build_type`` (新建 new, or 改建/扩建/购置/租用 rebuilt, extended,
bought, leased), with a free ``note``.

A ``.csv`` path gives UTF-8 with a byte-order mark, which Excel opens with the
Chinese intact; an ``.xlsx`` path a workbook whose code column is text (Excel
would otherwise turn a 12-digit code into 5.10108E+11), with a drop-down of
the new/rebuilt words and a sheet of instructions. The file is written next
to its place and moved in (a failed write leaves an older template whole).
:func:`servicecircle.inputs.committees.read_floor_area_template` reads it back.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from ..errors import OutputError
from ..schema import FLOOR_AREA_TEMPLATE_COLUMNS, FLOOR_AREA_TEMPLATE_HEADERS

__all__ = ["write_floor_area_template", "TEMPLATE_NAME"]

#: The template's file name in a run's output folder.
TEMPLATE_NAME = "floor_area_template.csv"

_BUILD_CHOICES = ("新建", "改建", "扩建", "改扩建", "购置", "租用")
_HOW = [
    ("填写说明", "How to fill in"),
    (
        "每行一个居委会（社区）。位置为统计用区划代码中的居委会中心点（GCJ-02 转换为 WGS84）。",
        "One row per residents' committee, at its centre in the code register (GCJ-02 converted to WGS84).",
    ),
    (
        "floor_area_m2：社区综合服务设施建筑面积（平方米）；不详请留空（视为无数据，不是 0）。",
        "floor_area_m2: the community service centre's floor area in m²; leave it empty if unknown (no data, not 0).",
    ),
    (
        "build_type：新建，或 改建/扩建/改扩建/购置/租用（城市社区最小 300 平方米，其余 500 平方米）。",
        "build_type: 新建 (new), or 改建/扩建/改扩建/购置/租用 (rebuilt, extended, bought, leased: 300 m² "
        "minimum in urban communities, 500 m² otherwise).",
    ),
    (
        "服务中心不在居委会位置时，改写 lon/lat（WGS84 经纬度）。请勿修改 code 列和表头第一个词。",
        "If the centre is elsewhere, change lon/lat (WGS84 degrees). Keep the code column and the first "
        "word of each header.",
    ),
    (
        "读回：servicecircle run ... --service-centres 本文件；或 sc.read_floor_area_template(本文件)。",
        "Read back: servicecircle run ... --service-centres THIS_FILE; or sc.read_floor_area_template(THIS_FILE).",
    ),
]


def _frame(rows: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("code",) if c not in rows.columns]
    if missing:
        raise OutputError("the template rows have no code column", fix="build them with committee_template")
    out = rows.reindex(columns=FLOOR_AREA_TEMPLATE_COLUMNS)
    out["code"] = out["code"].astype(str)
    return out


def _write_csv(rows: pd.DataFrame, tmp: Path) -> None:
    shown = rows.rename(columns=dict(FLOOR_AREA_TEMPLATE_HEADERS))
    shown.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n", float_format="%.7f")


def _write_xlsx(rows: pd.DataFrame, tmp: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "floor_area 用房面积"
    sheet.append([FLOOR_AREA_TEMPLATE_HEADERS[c] for c in FLOOR_AREA_TEMPLATE_COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")  # the cells to fill in
    for rec in rows.itertuples(index=False):
        values = [None if (isinstance(v, float) and v != v) else v for v in rec]
        sheet.append(values)
    code_col = FLOOR_AREA_TEMPLATE_COLUMNS.index("code") + 1
    area_col = FLOOR_AREA_TEMPLATE_COLUMNS.index("floor_area_m2") + 1
    build_col = FLOOR_AREA_TEMPLATE_COLUMNS.index("build_type") + 1
    for r in range(2, len(rows) + 2):
        sheet.cell(r, code_col).number_format = "@"  # text: Excel keeps all 12 digits
        sheet.cell(r, area_col).fill = fill
        sheet.cell(r, build_col).fill = fill
    letter = sheet.cell(1, build_col).column_letter
    choice = DataValidation(type="list", formula1='"' + ",".join(_BUILD_CHOICES) + '"', allow_blank=True)
    choice.add(f"{letter}2:{letter}{max(len(rows) + 1, 2)}")
    sheet.add_data_validation(choice)
    for c, width in zip(FLOOR_AREA_TEMPLATE_COLUMNS, (15, 24, 14, 13, 12, 22, 16, 16, 20)):
        sheet.column_dimensions[sheet.cell(1, FLOOR_AREA_TEMPLATE_COLUMNS.index(c) + 1).column_letter].width = width
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("说明 notes")
    for zh, en in _HOW:
        notes.append([zh, en])
    notes.column_dimensions["A"].width = 70
    notes.column_dimensions["B"].width = 90
    book.save(tmp)


def write_floor_area_template(rows: pd.DataFrame, path: str | Path) -> Path:
    """Write the floor-area template rows (:func:`~servicecircle.inputs.committees.committee_template`).

    Parameters
    ----------
    rows
        One row per committee, with the template's columns.
    path
        ``.csv`` (UTF-8 with BOM) or ``.xlsx``.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise OutputError(
            f"the floor-area template must be a .csv or .xlsx file, not {path.name}",
            fix="give a path ending in .csv or .xlsx",
        )
    if path.is_dir():
        raise OutputError(f"{path} is a folder", fix=f"give a file name, e.g. {path / TEMPLATE_NAME}")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = _frame(rows)
    fd, name = tempfile.mkstemp(prefix=".servicecircle-tmp-", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        (_write_xlsx if suffix == ".xlsx" else _write_csv)(frame, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
