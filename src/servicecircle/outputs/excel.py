"""An Excel workbook a planner can paste into a report.

:func:`write_excel` writes one ``.xlsx`` file with:

``说明 README``
    the profile, the run date (only when the run recorded one, so reruns compare
    equal), the inputs, the parameters, how to read the workbook and, when the
    community data are approximate, a note saying so;
``汇总 Summary``
    the ``summary`` table, one row per check;
``指标 Scorecard``
    the citywide targets and whether the city meets them;
one sheet per check
    community id and name, then the check's columns; pass/fail as 达标/未达标;
``缺口 Gaps``
    the gap table without geometry (areas in m²);
``提示 Warnings``
    every data warning.

Every header is bilingual (``覆盖率 Coverage (%)``), the header row is frozen
and filtered, numbers keep their full value (percentages as 0–100 with one
decimal shown, areas with thousands separators) and 6/9/12-digit
administrative codes are text cells, never numbers.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import unicodedata
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np
import pandas as pd

from ..errors import OutputError
from ..schema import PASS, SIX_ONES, UNCOVERED, parse_column
from .codes import admin_code_columns, code_text
from .labels import (
    FAIL_TEXT,
    NO_DATA_TEXT,
    NO_TEXT,
    PASS_TEXT,
    YES_TEXT,
    check_labels,
    column_header,
    column_labels,
    six_status_text,
)

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from ..checks.context import CheckOutcome
    from .result import AssessmentResult as Assessment  # the protocol the writers read, not the record

__all__ = ["write_excel", "sheet_names"]


def _family(col: str) -> str | None:
    """The schema family of a column (``None`` for a fixed or unknown one)."""
    spec = parse_column(col)
    return None if spec is None or spec.column is not None else spec.family


# ------------------------------------------------------------------ cell values
def _plain(v: Any) -> Any:
    """A value openpyxl can write (``None`` for missing)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (float, np.floating)):
        return None if not math.isfinite(float(v)) else float(v)
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, str):
        return _clean_text(v)
    return _clean_text(str(v))


_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _clean_text(text: str) -> str:
    """Text Excel accepts: no control characters (formulas are prevented when the cell is written)."""
    return _ILLEGAL.sub("", text)


def _pass_text(v: Any) -> str:
    v = _plain(v)
    if v is None:
        return NO_DATA_TEXT
    return PASS_TEXT if bool(v) else FAIL_TEXT


def _yes_no(v: Any) -> str | None:
    v = _plain(v)
    if v is None:
        return None
    return YES_TEXT if bool(v) else NO_TEXT


def _six_text(v: Any) -> str | None:
    v = _plain(v)
    if v is None:
        return NO_DATA_TEXT
    return six_status_text(str(v))


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# ------------------------------------------------------------------ sheets
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def sheet_names(wanted: list[str]) -> list[str]:
    """Valid, unique sheet names (≤ 31 characters, none of ``[]:*?/\\``; Excel compares case-blind)."""
    out: list[str] = []
    seen: set[str] = set()
    for name in wanted:
        base = _BAD_SHEET.sub("_", name).strip("' ") or "Sheet"
        base = base[:31].rstrip()
        cand, k = base, 1
        while cand.lower() in seen:
            k += 1
            suffix = f"~{k}"
            cand = base[: 31 - len(suffix)].rstrip() + suffix
        seen.add(cand.lower())
        out.append(cand)
    return out


def _number_format(col: str, unit: str, series: pd.Series) -> str | None:
    if unit == "%":
        return "0.0"
    if unit in ("m", "m²"):
        return "#,##0"
    if unit.startswith("m²/"):
        return "0.00"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "0"
    if pd.api.types.is_float_dtype(series.dtype):
        weights = ("uncovered_weight", "weight_total", "households", "residents", "weight")
        if col in weights or _family(col) == UNCOVERED:
            return "#,##0.0"
        return "#,##0.00"
    return None


class _Table:
    """One table sheet: headers, per-column converters and formats."""

    def __init__(
        self,
        frame: pd.DataFrame,
        a: Assessment | None,
        layer: str | None,
        short: bool = False,
        converters: dict[str, Callable[[Any], Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.frame = frame
        self.columns = [c for c in frame.columns if c != "geometry"]
        self.codes = set(admin_code_columns(frame[self.columns]))
        self.converters = converters or {}
        self.headers = {
            c: (headers or {}).get(c) or column_header(str(c), a, layer=layer, short=short) for c in self.columns
        }
        self.formats: dict[str, str | None] = {}
        for c in self.columns:
            if c in self.codes:
                self.formats[c] = "@"
            elif c in self.converters:
                self.formats[c] = None
            else:
                unit = column_labels(str(c), a, layer=layer, short=short)[2]
                self.formats[c] = _number_format(str(c), unit, frame[c])

    def write(self, ws: WriteOnlyWorksheet) -> None:
        """Stream the table into a write-only sheet (linear time, little memory)."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter

        rows: list[list[Any]] = []
        widths = [min(max(_display_width(self.headers[c]) // 2 + 2, 8), 40) for c in self.columns]
        for row in self.frame[self.columns].itertuples(index=False, name=None):
            values = []
            for j, (c, v) in enumerate(zip(self.columns, row)):
                if c in self.converters:
                    v = self.converters[c](v)
                elif c in self.codes:
                    v = code_text(v) if _plain(v) is not None else None
                else:
                    v = _plain(v)
                    if isinstance(v, bool):
                        v = YES_TEXT if v else NO_TEXT
                values.append(v)
                if v is not None:
                    text = f"{v:,.2f}" if isinstance(v, float) else str(v)
                    widths[j] = max(widths[j], min(_display_width(text) + 2, 60))
            rows.append(values)
        # sheet layout first: a write-only sheet takes it before any row
        for j in range(len(self.columns)):
            ws.column_dimensions[get_column_letter(j + 1)].width = widths[j]
        ws.freeze_panes = "A2"
        if self.columns:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(self.columns))}{max(len(rows) + 1, 1)}"
        bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
        wrap = Alignment(wrap_text=True, vertical="top")
        header = []
        for c in self.columns:
            cell = WriteOnlyCell(ws, value=self.headers[c])
            cell.font, cell.fill, cell.alignment = bold, fill, wrap
            header.append(cell)
        ws.append(header)
        formats = [self.formats[c] for c in self.columns]
        for values in rows:
            out = []
            for v, fmt in zip(values, formats):
                if _formula_like(v):
                    out.append(_text_cell(ws, v))
                elif fmt and v is not None:
                    cell = WriteOnlyCell(ws, value=v)
                    cell.number_format = fmt
                    out.append(cell)
                else:
                    out.append(v)
            ws.append(out)


def _community_frame(a: Assessment) -> tuple[pd.DataFrame, list[str]]:
    """Id (and name) columns of the communities, in input order."""
    comm = a.communities
    cols: dict[str, Any] = {}
    if a.id_column in comm.columns:
        cols[a.id_column] = comm[a.id_column].to_numpy()
    else:
        cols[a.id_column] = np.arange(1, len(comm) + 1)
    if a.name_column and a.name_column in comm.columns and a.name_column != a.id_column:
        cols[a.name_column] = comm[a.name_column].to_numpy()
    return pd.DataFrame(cols), list(cols)


def _source_text(frame: pd.DataFrame) -> str | None:
    attrs = getattr(frame, "attrs", {}) or {}
    src = attrs.get("source")
    if not src:
        return None
    return f"{src} [{attrs['layer']}]" if attrs.get("layer") else str(src)


def _readme_rows(a: Assessment, sheets: list[tuple[str, str]]) -> list[tuple[str, Any, bool]]:
    """(label, value, is_heading) rows of the README sheet."""
    from .._version import __version__

    p = a.profile
    params = dict(a.parameters)
    run_date = params.pop("run_date", None) or params.pop("date", None)
    rows: list[tuple[str, Any, bool]] = [
        ("社区生活圈达标评估 Community life-circle assessment", f"servicecircle {__version__}", True),
        ("标准 Profile", f"{p.key}: {getattr(p, 'name_zh', '')} / {getattr(p, 'name_en', '')}", False),
        ("标准依据 Profile source", getattr(p, "source", None), False),
    ]
    if run_date:
        rows.append(("评估日期 Run date", str(run_date), False))
    rows.append(("输入 Inputs", None, True))
    rows.append(("社区边界 Communities", _source_text(a.communities) or "(in memory 内存数据)", False))
    rows.append(("设施 Facilities", _source_text(a.facilities) or "(in memory 内存数据)", False))
    if a.demand.attrs.get("kind") == "layer":
        rows.append(("需求点 Demand points", _source_text(a.demand) or "(in memory 内存数据)", False))
    else:
        rows.append(("需求点 Demand points", "在社区内按网格采样 sampled on a grid inside the communities", False))
    rows.append(("步行网络 Walking network", getattr(a.network, "source", None), False))
    rows.append(
        (
            "数量 Counts",
            f"{len(a.communities)} 个社区 communities, {len(a.facilities)} 个设施 facilities, "
            f"{len(a.demand)} 个需求点 demand points, {len(a.checks)} 项检查 checks",
            False,
        )
    )
    rows.append(("参数 Parameters", None, True))
    for k, v in params.items():
        rows.append((k, None if v is None else str(v), False))
    rows.append(("如何阅读 How to read", None, True))
    for zh_en in (
        "覆盖率：社区内需求（户、人口或居住用地面积）中步行距离在服务半径以内的比例（0–100）。"
        " Coverage: the share (0–100) of a community's demand (households, residents or residential area) "
        "whose walking distance along streets is within the service radius.",
        "达标 / 未达标：覆盖率不低于标准目标为达标；无数据表示该社区无户数或需求点。"
        " 达标 = passed, 未达标 = failed: coverage at or above the standard's target; 无数据 = no demand data.",
        "未覆盖：服务半径以外的户数（或人口、面积），即需要新增设施服务的需求。"
        " Uncovered: households (or residents, area) beyond the radius — the demand a new facility would serve.",
        "缺口面积：社区内距离设施超过服务半径的范围（按网格计算）。"
        " Gap area: the part of the community farther than the radius (traced on a grid).",
        "标准已核实 = 否：该数值尚未与原文核对，引用前请核实。"
        " Confirmed = 否 (no): the number has not been checked against its source document; verify before citing.",
        "距离为沿道路的步行距离，不是直线距离。 Distances are walking distances along streets, not straight lines.",
    ):
        rows.append(("", zh_en, False))
    source = str(a.communities.attrs.get("source") or "")
    approx = "approx" in source.lower()
    if approx:
        rows.append(("近似数据 Approximate data", None, True))
        rows.append(
            (
                "",
                "社区边界与户数为近似数据（见 data/README.md），结果仅用于演示方法，不可作为规划依据。"
                " The community boundaries and household numbers are approximate (see data/README.md): "
                "the results show the method and must not be used as planning evidence.",
                False,
            )
        )
    rows.append(("工作表 Sheets", None, True))
    for name, what in sheets:
        rows.append((name, what, False))
    rows.append(
        ("", "地图数据 © OpenStreetMap contributors (ODbL)。 Map data © OpenStreetMap contributors (ODbL).", False)
    )
    return rows


def _formula_like(v: Any) -> TypeGuard[str]:
    """Text Excel would take for a formula."""
    return isinstance(v, str) and v.startswith("=")


def _text_cell(ws: WriteOnlyWorksheet, v: str) -> Cell:
    """A cell that keeps ``v`` as text: data never becomes a formula."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=v)
    cell.data_type = "s"
    return cell


def _write_readme(ws: WriteOnlyWorksheet, rows: list[tuple[str, Any, bool]]) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 110
    ws.freeze_panes = "A2"
    for r, (label, value, heading) in enumerate(rows, start=1):
        cells = []
        for j, v in enumerate((label, _plain(value) if value is not None else None), start=1):
            cell = _text_cell(ws, v) if _formula_like(v) else WriteOnlyCell(ws, value=v)
            if heading:
                cell.font = Font(bold=True, size=13 if r == 1 else 11) if j == 1 else Font(bold=r == 1)
            cell.alignment = Alignment(wrap_text=j == 2, vertical="top")
            cells.append(cell)
        ws.append(cells)


def _check_sheet(a: Assessment, o: CheckOutcome) -> tuple[pd.DataFrame, dict[str, Callable[[Any], Any]]]:
    """One check's sheet: the community id (and name) and the check's columns, with their converters."""
    base, _ = _community_frame(a)
    cols = [c for c in o.columns if c in a.communities.columns]
    frame = pd.concat([base, a.communities[cols].reset_index(drop=True)], axis=1)
    conv: dict[str, Callable[[Any], Any]] = {}
    for c in cols:
        family = _family(c)
        if c == o.pass_col or family == PASS:
            conv[c] = _pass_text
        elif family == SIX_ONES:
            conv[c] = _six_text
    return frame, conv


class _StampedZip(zipfile.ZipFile):
    """A zip archive whose every entry carries one time (openpyxl would give each the clock's time)."""

    def __init__(self, file: Path, date_time: tuple[int, int, int, int, int, int]) -> None:
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)  # as openpyxl opens it
        self.date_time = date_time

    def _entry(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self.date_time)
        info.compress_type = self.compression
        info.external_attr = 0o600 << 16  # what ZipFile.writestr gives a file
        return info

    def writestr(
        self,
        zinfo_or_arcname: str | zipfile.ZipInfo,
        data: Any,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = self._entry(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(
        self,
        filename: Any,
        arcname: Any = None,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        # openpyxl adds each worksheet from a temporary file (whose time ZipFile.write would copy)
        info = self._entry(str(arcname if arcname is not None else filename))
        info.file_size = os.path.getsize(filename)
        with open(filename, "rb") as src, self.open(info, "w") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)


def _save(wb: Workbook, path: Path, when: datetime) -> None:
    """Save ``wb`` with ``settings.output_timestamp`` as its created and modified time and its entries' time.

    openpyxl's own ``save`` sets *modified* to the clock's time and each zip entry
    to the time it was written: two runs would differ in those bytes only.
    """
    from openpyxl.writer.excel import ExcelWriter

    when = when.astimezone(UTC).replace(microsecond=0, tzinfo=None)  # openpyxl writes naive times as UTC
    wb.properties.created = when
    wb.properties.modified = when
    stamp = max((when.year, when.month, when.day, when.hour, when.minute, when.second), (1980, 1, 1, 0, 0, 0))
    with _StampedZip(path, stamp) as archive:  # zip times start in 1980
        ExcelWriter(wb, archive).save()


def write_excel(assessment: Assessment, path: str | Path) -> Path:
    """Write the assessment as an ``.xlsx`` workbook (see the module doc); return its path.

    The workbook's created and modified properties and its entries' times are
    ``settings.output_timestamp``: the same assessment gives the same file, byte
    for byte.

    Parameters
    ----------
    assessment
        The :class:`~servicecircle.assessment.Assessment`.
    path
        File to write (replaced if it exists).
    """
    from openpyxl import Workbook

    from .. import settings

    a = assessment
    path = Path(path)
    plan: list[tuple[str, str, Any]] = []  # (wanted sheet name, description, writer)

    summary = a.summary
    plan.append(
        (
            "汇总 Summary",
            "每项检查的全市汇总 one row per check, citywide",
            _Table(summary, a, "summary", converters={"confirmed": _yes_no, "city_passed": _pass_text}),
        )
    )
    plan.append(
        (
            "指标 Scorecard",
            "全市指标与目标 citywide indicators against their targets",
            _Table(a.scorecard, a, "scorecard", converters={"passed": _pass_text, "confirmed": _yes_no}),
        )
    )
    for o in a.checks:
        frame, conv = _check_sheet(a, o)
        zh, en = check_labels(o)
        plan.append(
            (
                f"{zh} {o.key}",
                f"{zh} {en}: 每个社区的结果 per community",
                _Table(frame, a, "communities", short=True, converters=conv),
            )
        )
    gaps = pd.DataFrame(a.gaps.drop(columns=a.gaps.geometry.name))
    if a.name_column and a.name_column in a.communities.columns and len(gaps):
        base, _ = _community_frame(a)
        lookup = dict(zip(base[a.id_column].astype(str), base[a.name_column]))
        gaps.insert(1, a.name_column, [lookup.get(str(v)) for v in gaps["community_id"]])
    plan.append(
        (
            "缺口 Gaps",
            "未达标社区的服务缺口（无图形，面积单位平方米） gaps of failed checks (no geometry, m²)",
            _Table(gaps, a, "gaps"),
        )
    )
    plan.append(("提示 Warnings", "数据提示 data warnings", _Table(a.warnings, a, "warnings")))

    names = sheet_names(["说明 README"] + [p[0] for p in plan])
    wb = Workbook(write_only=True)
    _write_readme(wb.create_sheet(names[0]), _readme_rows(a, [(n, p[1]) for n, p in zip(names[1:], plan)]))
    for name, (_, _, table) in zip(names[1:], plan):
        table.write(wb.create_sheet(name))
    wb.properties.creator = "servicecircle"
    wb.properties.title = "社区生活圈达标评估 Community life-circle assessment"
    when = settings.output_time()  # first: an unusable setting is refused before the old file goes
    try:
        if path.exists():
            path.unlink()
        _save(wb, path, when)
    except OSError as exc:
        raise OutputError(
            f"cannot write the Excel workbook ({exc.strerror})",
            file=path,
            fix="close the file in Excel and check the folder is writable",
        ) from None
    return path
