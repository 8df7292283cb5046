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
``达标矩阵 Matrix``
    communities × checks, each cell 达标 / 未达标 / 无数据, coloured;
one sheet per check
    community id and name, then the check's columns; pass/fail as 达标/未达标;
``缺口 Gaps``
    the gap table without geometry (areas in m²);
``提示 Warnings``
    every data warning.

Every header is bilingual (``覆盖率 Coverage (%)``) and wraps, the header row is
frozen and filtered, numbers keep their full value and are shown rounded to what
they mean (counts whole, percentages as 0–100 to 0.1, m and m² whole), and
6/9/12-digit administrative codes are text cells, never numbers. Every sheet
prints landscape, one page wide, its header row on every page (A4, or A3 when
it is wide); see docs/exports.md.
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
from typing import TYPE_CHECKING, Any, Final, TypeGuard

import numpy as np
import pandas as pd

from ..errors import OutputError
from ..schema import FAMILIES, INTEGER, PASS, SIX_ONES, UNCOVERED, parse_column
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
    unit_text,
    weight_kind_text,
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


def _kind(col: str, layer: str | None) -> str | None:
    """The schema's dtype family of a column (``integer``, ``real`` …; ``None`` for an unknown one)."""
    spec = parse_column(col, layer)
    if spec is None:
        return None
    if spec.column is not None:
        return spec.column.kind
    family = FAMILIES.get(spec.family)
    return None if family is None else family.kind


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


def _fit_words(name: str, limit: int) -> str:
    """``name`` in at most ``limit`` characters, cut only between words.

    Whole words are dropped from the end (``社区卫生服务站 ≤300米 community_health_station``
    → ``社区卫生服务站 ≤300米``): a Chinese name is one word, so it is kept whole or
    dropped whole. Only a first word longer than ``limit`` on its own is cut.
    """
    if len(name) <= limit:
        return name
    words = name.split()
    while len(words) > 1 and len(" ".join(words)) > limit:
        words.pop()
    return " ".join(words)[:limit].rstrip()


def sheet_names(wanted: list[str]) -> list[str]:
    """Valid, unique sheet names (≤ 31 characters, none of ``[]:*?/\\``; Excel compares case-blind).

    A name that is too long loses whole words from its end, never part of a word
    (see :func:`_fit_words`); a clash gets ``~2``, ``~3`` …
    """
    out: list[str] = []
    seen: set[str] = set()
    for name in wanted:
        base = _BAD_SHEET.sub("_", name).strip("' ") or "Sheet"
        base = _fit_words(base, 31)
        cand, k = base, 1
        while cand.lower() in seen:
            k += 1
            suffix = f"~{k}"
            cand = _fit_words(base, 31 - len(suffix)) + suffix
        seen.add(cand.lower())
        out.append(cand)
    return out


#: Columns that count households, people or things (shown as whole numbers) whatever their dtype.
_COUNTS: Final = frozenset(
    {"households", "residents", "weight_total", "uncovered_weight", "n_demand", "facilities", "count"}
)
#: Units that are counts.
_COUNT_UNITS: Final = frozenset({"households", "residents", "communities", "facilities", "demand points", "places"})


def _unit_format(unit: str) -> str | None:
    """The number format a unit means: % to 0.1, m and m² to 1, m² per resident to 0.1, counts to 1."""
    unit = unit_text(unit).strip()
    if unit.startswith("%"):
        return "0.0"
    if unit in ("m", "m²"):
        return "#,##0"
    if unit.startswith("m²/"):
        return "#,##0.0"
    if unit in _COUNT_UNITS:
        return "#,##0"
    return None


def _number_format(col: str, unit: str, series: pd.Series, layer: str | None = None) -> str | None:
    fmt = _unit_format(unit)
    if fmt is not None:
        return fmt
    if col in _COUNTS or _family(col) == UNCOVERED or _kind(col, layer) == INTEGER:
        return "#,##0"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "#,##0"
    if pd.api.types.is_float_dtype(series.dtype):
        return "#,##0.00"
    return None


# ------------------------------------------------------------------ print layout
#: The workbook's font (a bold cell names it too: a font without a name prints in a client's serif default).
_FONT: Final = "Calibri"
#: Height of one line of 11-point text (points): Latin (Calibri, 1.22 em) and Chinese (Noto Sans CJK, 1.45 em); padding.
_LINE_PT: Final = 14.0
_CJK_LINE_PT: Final = 16.0
_PAD_PT: Final = 3.0
#: A sheet whose columns add up to more than this (character widths) prints on A3, others on A4.
_A3_WIDTH: Final = 200.0
#: Fill and font colour of a pass/fail cell (Excel's "good", "bad" and "neutral" styles).
_RESULT_COLOURS: Final = {
    PASS_TEXT: ("C6EFCE", "006100"),
    FAIL_TEXT: ("FFC7CE", "9C0006"),
    NO_DATA_TEXT: ("EDEDED", "595959"),
}


def _char_width(ch: str) -> float:
    """Width of a character in column units (one unit is a digit of 11-point Calibri).

    A Chinese character is 2.1 (an em of 11 points is 14.7 pixels, a digit 7);
    a digit or capital 1, any other character 0.88, a little over Calibri's and Carlito's widest
    letters on average, so that an estimate errs towards room to spare.
    """
    if unicodedata.east_asian_width(ch) in "WF":
        return 2.1
    return 1.0 if ch.isdigit() or ch.isupper() else 0.88


def _text_width(text: str) -> float:
    """Width of one line of ``text`` in column units."""
    return sum(_char_width(ch) for ch in text)


def _tokens(text: str) -> list[str]:
    """Words, spaces and single Chinese characters: the places text may wrap between."""
    out: list[str] = []
    word = ""
    for ch in text:
        if ch.isspace() or unicodedata.east_asian_width(ch) in "WF":
            if word:
                out.append(word)
                word = ""
            out.append(" " if ch.isspace() else ch)
        else:
            word += ch
    if word:
        out.append(word)
    return out


def _wrap_lines(text: str, width: float) -> int:
    """How many lines ``text`` takes wrapped in a column ``width`` characters wide.

    Text breaks at spaces and between Chinese characters (as Excel and
    LibreOffice wrap it); a word longer than the line is broken where it must.
    The estimate errs on the high side: a row a little too tall is better than
    text cut off.
    """
    usable = max((width - _PAD_CHARS) * 0.95, 1.0)  # 5 % to spare: a client breaks lines its own way
    total = 0
    for para in str(text).split("\n"):
        lines, used = 1, 0.0
        for token in _tokens(para):
            w = _text_width(token)
            if token.isspace():
                used += 0 if used == 0 else w
                continue
            if used + w > usable and used > 0:
                lines, used = lines + 1, 0.0
            while w > usable:  # a word longer than a line
                lines, w = lines + 1, w - usable
            used += w
        total += lines
    return total


#: What a cell's padding and a little slack take of its width (characters).
_PAD_CHARS: Final = 2.0
#: The widest a column grows for its text (characters); longer text wraps.
_TEXT_WIDTH: Final = 36.0
#: … in the wide summary tables, so that they print one page wide at a readable size.
_NARROW_TEXT_WIDTH: Final = 24.0


def _header_width(header: str, split_chinese: bool = False) -> float:
    """A column's width for its header alone.

    Its longest word fits (a Chinese label counts as one word, ``目标覆盖率`` is not
    split, unless ``split_chinese``: then it wraps between characters, as in the
    matrix's narrow columns), and it wraps to at most about four lines.
    """
    words = _tokens(header) if split_chinese else header.split()
    longest = max((_text_width(w) for w in words), default=0.0)
    return float(min(max(8.0, longest + _PAD_CHARS, _text_width(header) / 4 + _PAD_CHARS), _TEXT_WIDTH))


def _row_height(lines: int) -> float:
    return lines * _LINE_PT + _PAD_PT


def _cell_height(text: str, width: float) -> float:
    """The height (points) ``text`` needs wrapped in a column ``width`` characters wide."""
    cjk = any(unicodedata.east_asian_width(ch) in "WF" for ch in text)
    return _wrap_lines(text, width) * (_CJK_LINE_PT if cjk else _LINE_PT) + _PAD_PT


def _print_setup(ws: WriteOnlyWorksheet, widths: list[float], title_rows: str | None = "1:1") -> None:
    """Landscape, one page wide (as many pages tall as it takes), the header row on every page.

    A4 unless the columns add up to more than :data:`_A3_WIDTH` characters, then A3;
    margins 1.3 cm at the sides, 1.6 cm top and bottom; the sheet name in the page
    header, the page number in the footer.
    """
    from openpyxl.worksheet.page import PageMargins
    from openpyxl.worksheet.properties import PageSetupProperties

    setup = ws.page_setup
    setup.orientation = "landscape"
    setup.paperSize = "8" if sum(widths) > _A3_WIDTH else "9"  # 8 = A3, 9 = A4
    setup.fitToWidth = 1
    setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.65, bottom=0.65, header=0.3, footer=0.3)
    if title_rows:
        ws.print_title_rows = title_rows
    ws.print_options.gridLines = True
    ws.oddHeader.left.text = "&A"
    ws.oddHeader.left.size = 9
    ws.oddFooter.center.text = "&P / &N"
    ws.oddFooter.center.size = 9


def _result_style(cell: Cell, value: Any) -> None:
    """Colour a 达标 / 未达标 / 无数据 cell (a fill, which every client prints) and centre it."""
    from openpyxl.styles import Alignment, Font, PatternFill

    colours = _RESULT_COLOURS.get(value) if isinstance(value, str) else None
    if colours is None:
        return
    cell.fill = PatternFill("solid", fgColor=colours[0])
    cell.font = Font(name=_FONT, size=11, color=colours[1])
    cell.alignment = Alignment(horizontal="center", vertical="center")


class _Table:
    """One table sheet: headers, per-column converters and formats, and how it prints."""

    def __init__(
        self,
        frame: pd.DataFrame,
        a: Assessment | None,
        layer: str | None,
        short: bool = False,
        converters: dict[str, Callable[[Any], Any]] | None = None,
        headers: dict[str, str] | None = None,
        unit_columns: dict[str, str] | None = None,
        widths: dict[str, float] | None = None,
        freeze: str = "A2",
        text_width: float = _TEXT_WIDTH,
    ) -> None:
        self.frame = frame
        self.text_width = text_width
        self.columns = [c for c in frame.columns if c != "geometry"]
        self.codes = set(admin_code_columns(frame[self.columns]))
        self.converters = dict(converters or {})
        for c in self.columns:
            if c == "weight_kind" and c not in self.converters:
                self.converters[c] = weight_kind_text
        self.headers = {
            c: unit_text((headers or {}).get(c) or column_header(str(c), a, layer=layer, short=short))
            for c in self.columns
        }
        #: columns whose format follows the unit in another column, row by row (a value and its unit)
        self.unit_columns = {c: u for c, u in (unit_columns or {}).items() if c in self.columns and u in frame}
        self.fixed_widths = widths or {}
        self.freeze = freeze
        self.formats: dict[str, str | None] = {}
        for c in self.columns:
            if c in self.codes:
                self.formats[c] = "@"
            elif c in self.converters:
                self.formats[c] = None
            else:
                unit = column_labels(str(c), a, layer=layer, short=short)[2]
                self.formats[c] = _number_format(str(c), unit, frame[c], layer)

    def _values(self) -> list[list[Any]]:
        rows: list[list[Any]] = []
        for row in self.frame[self.columns].itertuples(index=False, name=None):
            values = []
            for c, v in zip(self.columns, row):
                if c in self.converters:
                    v = self.converters[c](v)
                elif c in self.codes:
                    v = code_text(v) if _plain(v) is not None else None
                else:
                    v = _plain(v)
                    if isinstance(v, bool):
                        v = YES_TEXT if v else NO_TEXT
                values.append(v)
            rows.append(values)
        return rows

    def _row_formats(self) -> list[list[str | None]]:
        """Each row's number format per column (a value with a unit column takes its row's unit)."""
        base = [self.formats[c] for c in self.columns]
        if not self.unit_columns:
            return [base] * len(self.frame)
        out = []
        units = {c: self.frame[u].tolist() for c, u in self.unit_columns.items()}
        for i in range(len(self.frame)):
            formats = list(base)
            for j, c in enumerate(self.columns):
                if c in units:
                    unit = units[c][i]
                    formats[j] = (_unit_format(str(unit)) if isinstance(unit, str) else None) or "#,##0.00"
            out.append(formats)
        return out

    def write(self, ws: WriteOnlyWorksheet) -> None:
        """Stream the table into a write-only sheet (linear time, little memory)."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter

        rows = self._values()
        row_formats = self._row_formats()
        widths = [_header_width(self.headers[c]) for c in self.columns]
        for values, formats in zip(rows, row_formats):
            for j, (v, fmt) in enumerate(zip(values, formats)):
                if v is None:
                    continue
                if isinstance(v, float) and fmt:
                    decimals = fmt.count("0") - 1 if "." in fmt else 0
                    text = f"{v:,.{decimals}f}"
                else:
                    text = f"{v:,.2f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v)
                widths[j] = max(widths[j], min(_text_width(text) + _PAD_CHARS, self.text_width))
        for j, c in enumerate(self.columns):
            if c in self.fixed_widths:
                widths[j] = self.fixed_widths[c]
        widths = [math.ceil(w * 10) / 10 for w in widths]  # as written (one decimal), never narrower
        # sheet layout first: a write-only sheet takes it before any row
        for j in range(len(self.columns)):
            ws.column_dimensions[get_column_letter(j + 1)].width = widths[j]
        ws.freeze_panes = self.freeze
        if self.columns:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(self.columns))}{max(len(rows) + 1, 1)}"
        _print_setup(ws, widths)
        bold, fill = Font(name=_FONT, size=11, bold=True), PatternFill("solid", fgColor="DDEBF7")
        wrap = Alignment(wrap_text=True, vertical="top")
        header = []
        for c in self.columns:
            cell = WriteOnlyCell(ws, value=self.headers[c])
            cell.font, cell.fill, cell.alignment = bold, fill, wrap
            header.append(cell)
        ws.row_dimensions[1].height = max(
            (_cell_height(self.headers[c], w) for c, w in zip(self.columns, widths)), default=_row_height(1)
        )
        ws.append(header)
        results = {j for j, c in enumerate(self.columns) if self.converters.get(c) is _pass_text}
        for r, (values, formats) in enumerate(zip(rows, row_formats), start=2):
            # long text wraps in its column, and its row is made tall enough to show it all
            tall = [j for j, v in enumerate(values) if isinstance(v, str) and _text_width(v) > widths[j] - _PAD_CHARS]
            if tall:
                ws.row_dimensions[r].height = max(_cell_height(values[j], widths[j]) for j in tall)
            out: list[Any] = []
            for j, (v, fmt) in enumerate(zip(values, formats)):
                if v is None:
                    out.append(None)
                    continue
                cell = _text_cell(ws, v) if _formula_like(v) else WriteOnlyCell(ws, value=v)
                if fmt:
                    cell.number_format = fmt
                if j in results:
                    _result_style(cell, v)
                elif tall:
                    cell.alignment = wrap if j in tall else Alignment(vertical="top")
                out.append(cell if cell.has_style or _formula_like(v) else v)
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

    widths = [30.0, 110.0]
    ws.column_dimensions["A"].width = widths[0]
    ws.column_dimensions["B"].width = widths[1]
    ws.freeze_panes = "A2"
    _print_setup(ws, widths, title_rows=None)
    ws.print_options.gridLines = False
    for r, (label, value, heading) in enumerate(rows, start=1):
        texts = [(str(t), w) for t, w in ((label, widths[0]), (_plain(value), widths[1])) if t is not None and t != ""]
        if any(_wrap_lines(t, w) > 1 for t, w in texts):
            ws.row_dimensions[r].height = max(_cell_height(t, w) for t, w in texts)
        cells = []
        for j, v in enumerate((label, _plain(value) if value is not None else None), start=1):
            cell = _text_cell(ws, v) if _formula_like(v) else WriteOnlyCell(ws, value=v)
            if heading:
                cell.font = Font(name=_FONT, bold=j == 1 or r == 1, size=13 if r == 1 and j == 1 else 11)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
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
        elif c == "six_missing":
            conv[c] = _six_missing_text(a)
    return frame, conv


def _six_missing_text(a: Assessment) -> Callable[[Any], str | None]:
    """``childcare,health`` → ``幼儿园(托儿所)、卫生服务中心(站)``: the missing 6个1 items by their Chinese names."""
    names = {it.key: it.name_zh for it in getattr(a.profile, "six_ones", ()) or ()}

    def text(v: Any) -> str | None:
        v = _plain(v)
        if v is None:
            return None
        keys = [k.strip() for k in str(v).split(",") if k.strip()]
        return "、".join(names.get(k, k) for k in keys) or None  # empty: none missing, or no data (see 是否达标)

    return text


def _unit_cell(v: Any) -> str | None:
    """A unit as it is shown (``m2/resident`` → ``m²/resident``)."""
    v = _plain(v)
    return None if v is None else unit_text(str(v))


#: Width of a check's column in the matrix (characters): its header wraps to fit.
_MATRIX_WIDTH: Final = 11.0


def _matrix_table(a: Assessment) -> _Table | None:
    """Communities × checks: 达标 / 未达标 / 无数据 per community and check, coloured.

    Rows are the communities (code and name, then how many checks each fails of
    how many assessed); columns are the checks with a per-community result, headed
    by their short names in Chinese and English (``幼儿园 ≤300米`` / ``Kindergarten``).
    ``None`` when no check has a per-community result.
    """
    from openpyxl.utils import get_column_letter

    comm = a.communities
    checks = [o for o in a.checks if o.pass_col and o.pass_col in comm.columns]
    if not checks:
        return None
    frame, id_cols = _community_frame(a)
    widths: dict[str, float] = {}
    for c in ("checks_failed", "checks_assessed"):
        if c in comm.columns:
            frame[c] = comm[c].to_numpy()
            widths[c] = 10.0
    headers: dict[str, str] = {}
    conv: dict[str, Callable[[Any], Any]] = {}
    for o in checks:
        col = str(o.pass_col)
        frame[col] = comm[col].to_numpy()
        headers[col] = "\n".join([*check_labels(o)[0].rsplit(" ", 1), o.name_en])  # 幼儿园 / ≤300米 / Kindergarten
        conv[col] = _pass_text
        widths[col] = max(_MATRIX_WIDTH, _header_width(headers[col], split_chinese=True))  # no English word broken
    return _Table(
        frame,
        a,
        "communities",
        converters=conv,
        headers=headers,
        widths=widths,
        freeze=f"{get_column_letter(len(id_cols) + 1)}2",
    )


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


#: the unit levels' sheets: layer, sheet name, description
_UNIT_SHEETS = (
    ("units_township", "街道乡镇 Townships", "每个街道（乡镇）的汇总 one row per township (街道/乡镇)"),
    ("units_county", "区县 Counties", "每个区县的汇总 one row per county (区/县)"),
    ("units_city", "全市 City", "全市汇总 one row per city"),
)


def _unit_sheets(a: Assessment) -> list[tuple[str, str, Any]]:
    """A sheet per unit level (townships, counties, city); the long roll-up table is ``summary_units.csv``."""
    out: list[tuple[str, str, Any]] = []
    for layer, name, what in _UNIT_SHEETS:
        frame = a.layers.get(layer)
        if frame is not None and len(frame):
            table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
            out.append(
                (
                    name,
                    f"{what}: 覆盖率、达标/未达标/未判定社区数 coverage, communities passing/failing",
                    _Table(table, a, layer),
                )
            )
    return out


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
            _Table(
                summary,
                a,
                "summary",
                converters={"confirmed": _yes_no, "city_passed": _pass_text, "city_unit": _unit_cell},
                unit_columns={"city_value": "city_unit", "city_target": "city_unit"},
                text_width=_NARROW_TEXT_WIDTH,
            ),
        )
    )
    plan.append(
        (
            "指标 Scorecard",
            "全市指标与目标 citywide indicators against their targets",
            _Table(
                a.scorecard,
                a,
                "scorecard",
                converters={"passed": _pass_text, "confirmed": _yes_no, "unit": _unit_cell},
                unit_columns={"value": "unit", "target": "unit"},
                text_width=_NARROW_TEXT_WIDTH,
            ),
        )
    )
    matrix = _matrix_table(a)
    if matrix is not None:
        plan.append(
            (
                "达标矩阵 Matrix",
                "社区 × 检查项：达标 / 未达标 / 无数据 communities × checks: passed / failed / no data",
                matrix,
            )
        )
    register = getattr(a, "register", None)  # the plan's indicator register: every target, assessed or not
    if register is not None and len(register):
        plan.append(
            (
                "规划指标台账 Register",
                "规划每项指标：已评估（数值、目标、结果、检查项）或未评估（原因、所需数据） every target of the plan: "
                "assessed (value, target, result, check) or not assessed (why, data needed)",
                _Table(
                    register,
                    a,
                    "register",
                    converters={"passed": _pass_text, "confirmed": _yes_no, "value_unit": _unit_cell},
                    unit_columns={"value": "value_unit", "check_target": "value_unit"},
                    text_width=_NARROW_TEXT_WIDTH,
                ),
            )
        )
    for o in a.checks:
        if o.kind == "compound":  # its results are per compound, not per community
            comp = a.layers.get("compounds")
            if comp is not None:
                frame = pd.DataFrame(comp.drop(columns=comp.geometry.name))
                plan.append(
                    (
                        "小区 Compounds",
                        f"{o.name_zh} {o.name_en}: 每个小区的结果 per compound",
                        _Table(frame, a, "compounds"),
                    )
                )
            continue
        frame, conv = _check_sheet(a, o)
        zh, en = check_labels(o)
        plan.append(
            (
                f"{zh} {o.key}",
                f"{zh} {en}: 每个社区的结果 per community",
                _Table(frame, a, "communities", short=True, converters=conv),
            )
        )
    plan += _unit_sheets(a)
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
