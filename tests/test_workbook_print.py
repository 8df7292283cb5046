"""The Excel workbook reads and prints as a report (issue 16).

Fast tests read the workbook's print setup, matrix and formats with openpyxl on
the three-community assessment of ``test_exports``. The slow tests open the demo
workbook in a real client, LibreOffice (headless), print it to PDF and read the
pages back with poppler: how many there are (227 before issue 16), that each has
text, that the matrix and the summary fit to the page width, and that no page is
blank (its pixels vary).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from servicecircle.outputs.excel import sheet_names, write_excel
from servicecircle.outputs.labels import FAIL_TEXT, NO_DATA_TEXT, PASS_TEXT

from .conftest import DATA
from .systools import apt_install
from .test_exports import CODES, build_small_assessment

MATRIX = "达标矩阵 Matrix"
#: Pages LibreOffice printed the demo workbook on before issue 16 (portrait, no fitting, tables split across pages).
PAGES_BEFORE = 227


@pytest.fixture(scope="module")
def small():
    return build_small_assessment()


@pytest.fixture(scope="module")
def small_book(small, tmp_path_factory):
    import openpyxl

    return openpyxl.load_workbook(write_excel(small, tmp_path_factory.mktemp("book") / "r.xlsx"))


# ------------------------------------------------------------------ the workbook itself (openpyxl)
def test_every_sheet_prints_landscape_one_page_wide_with_its_header_on_every_page(small_book):
    for ws in small_book.worksheets:
        setup = ws.page_setup
        assert setup.orientation == "landscape", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), ws.title
        assert setup.paperSize in ("8", "9", 8, 9), ws.title  # A3 or A4
        assert ws.page_margins.left >= 0.4 and ws.page_margins.top >= 0.5, ws.title
        if ws.title != "说明 README":
            assert ws.print_title_rows in ("1:1", "$1:$1"), ws.title
            assert ws.freeze_panes in ("A2", "C2"), ws.title
            assert all(c.alignment.wrap_text for c in ws[1]), ws.title  # headers wrap, never clipped
            assert ws.row_dimensions[1].height >= 2 * 15, ws.title  # … in a row tall enough for two lines or more


def test_matrix_is_communities_by_checks_with_coloured_results(small, small_book):
    ws = small_book[MATRIX]
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    checks = [o for o in small.checks if o.pass_col in small.communities.columns]
    assert header[:2] == ("代码 Code", "名称 Name")
    assert header[2:4] == ("未达标项数 Checks failed", "评估项数 Checks assessed")
    assert len(header) == 4 + len(checks)
    kg = next(o for o in checks if o.key == "kindergarten")
    # bilingual short headers: the Chinese name, the radius, the English name, one a line
    assert header[4 + checks.index(kg)] == "幼儿园\n≤300米\nKindergarten"
    assert [r[0] for r in rows[1:]] == CODES
    assert ws.cell(2, 1).data_type == "s" and ws.cell(2, 1).number_format == "@"
    assert [r[1] for r in rows[1:]] == ["东坡社区", "苏祠社区", "=SUM(1,2)"]
    assert ws.cell(4, 2).data_type == "s"  # a name is never a formula
    for j, o in enumerate(checks, start=4):
        want = [NO_DATA_TEXT if pd.isna(v) else PASS_TEXT if v else FAIL_TEXT for v in small.communities[o.pass_col]]
        assert [r[j] for r in rows[1:]] == want, o.key
    fills = {}
    for row in ws.iter_rows(min_row=2, min_col=5):
        for cell in row:
            fills.setdefault(cell.value, set()).add(cell.fill.fgColor.rgb[-6:])
    assert fills[FAIL_TEXT] == {"FFC7CE"}
    if PASS_TEXT in fills:
        assert fills[PASS_TEXT] == {"C6EFCE"}
    assert {r[2] for r in rows[1:]} <= set(range(len(checks) + 1))  # checks failed: a whole number
    assert ws.cell(2, 3).number_format == "#,##0"


def test_counts_are_whole_numbers_and_values_rounded_to_what_they_mean(small, small_book):
    ws = small_book["汇总 Summary"]
    header = [c.value for c in ws[1]]

    def fmt(title):
        return ws.cell(2, 1 + header.index(title)).number_format

    for title in ("设施数 Facilities", "评估社区数 Communities assessed", "达标社区数 Communities passed",
                  "未覆盖需求 Uncovered demand", "服务半径 Radius (m)"):  # fmt: skip
        assert fmt(title) == "#,##0", title
    assert fmt("全市覆盖率 Citywide coverage (%)") == "0.0"
    # the stored values keep their full precision: a cell equals the number in summary.csv
    j = header.index("未覆盖需求 Uncovered demand")
    assert [ws.cell(r, j + 1).value for r in range(2, ws.max_row + 1)] == pytest.approx(
        [None if v != v else float(v) for v in small.summary["uncovered_weight"]], nan_ok=True
    )
    gaps = small_book["缺口 Gaps"]
    gh = [c.value for c in gaps[1]]
    assert gaps.cell(2, 1 + gh.index("缺口面积 Gap area (m²)")).number_format == "#,##0"
    assert gaps.cell(2, 1 + gh.index("需求计量 Weight counts")).value == "户数 households"  # Chinese too
    # a value with a unit of its own in the next column takes its row's unit: % to 0.1, m² per resident to 0.1
    units = [c.value for c in ws[1]].index("单位 Unit")
    value = header.index("全市指标值 Citywide value")
    for r in range(2, ws.max_row + 1):
        unit = ws.cell(r, units + 1).value or ""
        assert "m2" not in unit
        if ws.cell(r, value + 1).value is None:
            continue
        if unit.startswith("%"):
            assert ws.cell(r, value + 1).number_format == "0.0"
        elif unit.startswith("m²/"):
            assert ws.cell(r, value + 1).number_format == "#,##0.0"


def test_sheet_names_keep_whole_words():
    names = sheet_names(
        [
            "社区卫生服务站 ≤300米 community_health_station",
            "社区卫生服务站 ≤300米 community_health_station",
            "人均体育场地面积 ind_sports_ground_per_resident",
            "大型多功能运动场地 ≤1000米 large_sports_ground",
            "幼儿园 ≤300米 kindergarten",
            "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三",  # one word longer than 31
        ]
    )
    assert names == [
        "社区卫生服务站 ≤300米",
        "社区卫生服务站 ≤300米~2",
        "人均体育场地面积",
        "大型多功能运动场地 ≤1000米",
        "幼儿园 ≤300米 kindergarten",
        "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一",
    ]


# ------------------------------------------------------------------ printed by LibreOffice
def _have_tools() -> bool:
    return all(shutil.which(t) for t in ("soffice", "pdftoppm", "pdftotext", "pdfinfo"))


def _ensure_libreoffice() -> None:
    if not _have_tools():
        why = apt_install("libreoffice-calc", "poppler-utils")
        if why or not _have_tools():
            pytest.skip(f"LibreOffice and poppler are needed to print the workbook: {why or 'not found after install'}")
    # Carlito has Calibri's metrics (the workbook's font) and Noto CJK the Chinese: best effort, fonts only change looks
    fonts = subprocess.run(["fc-list"], capture_output=True, text=True).stdout
    wanted = [
        p
        for p, name in (("fonts-crosextra-carlito", "Carlito"), ("fonts-noto-cjk", "Noto Sans CJK"))
        if name not in fonts
    ]
    if wanted:
        apt_install(*wanted)


def _page_sizes(pdf: Path) -> list[tuple[float, float]]:
    out = subprocess.run(["pdfinfo", "-f", "1", "-l", "100000", str(pdf)], capture_output=True, text=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", out, re.M)]


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """The demo workbook, printed to PDF by LibreOffice: (pdf, the text of each page)."""
    _ensure_libreoffice()
    from servicecircle.pipeline import assess_files, demo_inputs

    folder = tmp_path_factory.mktemp("print")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = assess_files(**demo_inputs(DATA), progress=False)
    book = write_excel(a, folder / "shortfall.xlsx")
    profile = folder / "lo-profile"  # a profile of its own: no clash with a LibreOffice already running
    r = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
         "--outdir", str(folder), str(book)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    pdf = folder / "shortfall.pdf"
    assert r.returncode == 0 and pdf.exists(), r.stderr
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages = pages[:-1]  # pdftotext ends every page with a form feed
    return pdf, pages, book


def _sheet(page: str) -> str:
    """The sheet a page prints: its page header (``&A``) is the first line."""
    return next((line.strip() for line in page.splitlines() if line.strip()), "")


@pytest.mark.slow
def test_demo_workbook_prints_in_far_fewer_pages_each_with_text(printed):
    pdf, pages, _ = printed
    sizes = _page_sizes(pdf)
    assert len(sizes) == len(pages)
    # 227 pages before issue 16 for the sheets it had; 98 after it: 3 README, 3 summary, 5 scorecard, 1 matrix,
    # 3 per check (22), 16 gaps, 4 warnings. Issue 13 added sheets (the register, the unit levels, the compounds)
    # and checks, so the budget is per sheet: no sheet prints longer than it did, and the new ones are short.
    per_sheet = {}
    for page in pages:
        name = " ".join(_sheet(page).split())
        per_sheet[name] = per_sheet.get(name, 0) + 1
    fixed = {"说明 README": 3, "汇总 Summary": 3, "指标 Scorecard": 6, "达标矩阵 Matrix": 1, "缺口 Gaps": 16}
    fixed |= {"提示 Warnings": 8, "规划指标台账 Register": 5, "小区 Compounds": 2}
    for name, n in per_sheet.items():
        assert n <= fixed.get(name, 3), (name, n)  # a check's sheet, a unit level's: at most 3 pages
    checks = sum(1 for name in per_sheet if name not in fixed)
    assert len(pages) <= sum(fixed.values()) + 3 * checks, (len(pages), per_sheet)
    assert all(w > h for w, h in sizes), "every page is landscape"
    for i, page in enumerate(pages, start=1):
        assert len(page.split()) >= 5, f"page {i} has no text"
        assert re.search(rf"\b{i} / {len(pages)}\b", page), f"page {i} has no page number"
    printed_sheets = {_sheet(p) for p in pages}
    assert {"说明 README", "汇总 Summary", "指标 Scorecard", MATRIX, "缺口 Gaps", "提示 Warnings"} <= printed_sheets


@pytest.mark.slow
def test_matrix_and_summary_fit_the_page_width(printed):
    pdf, pages, _ = printed
    sizes = _page_sizes(pdf)
    matrix = [i for i, p in enumerate(pages) if _sheet(p) == MATRIX]
    assert len(matrix) == 1, "the 69 communities × 22 checks matrix is one page"
    page = pages[matrix[0]]
    assert PASS_TEXT in page and FAIL_TEXT in page and NO_DATA_TEXT in page
    # the first and the last column on the same page: nothing spilled onto a page of its own
    assert "代码 Code" in page and "Bank" in page and "residents" in page
    assert "总府路社区居委会" in page
    assert sizes[matrix[0]][0] > 1100, "the matrix is wide: A3"
    summary = [p for p in pages if _sheet(p) == "汇总 Summary"]
    assert summary and all("检查项 Check" in p and "方法 Method" in p for p in summary)  # header on every page
    scorecard = [p for p in pages if _sheet(p) == "指标 Scorecard"]
    assert scorecard and all("指标 Indicator" in p and "标准已核实" in p for p in scorecard)


@pytest.mark.slow
def test_no_page_is_blank(printed, tmp_path):
    from PIL import Image

    pdf, pages, _ = printed
    out = tmp_path / "pages"
    out.mkdir()
    subprocess.run(["pdftoppm", "-r", "20", "-gray", "-png", str(pdf), str(out / "p")], check=True, timeout=600)
    images = sorted(out.glob("p-*.png"))
    assert len(images) == len(pages)
    for image in images:
        px = np.asarray(Image.open(image).convert("L"), dtype=float)
        assert px.std() > 3 and (px < 200).mean() > 0.002, f"{image.name} is blank"


@pytest.mark.slow
def test_demo_workbook_names_are_chinese_and_whole(printed):
    import openpyxl

    _, _, book = printed
    wb = openpyxl.load_workbook(book)
    # a name too long for a sheet tab loses whole words: the English key, never half of it
    assert "社区卫生服务站 ≤300米" in wb.sheetnames and "人均体育场地面积" in wb.sheetnames
    assert not any(re.search(r"[a-z]+_$|_[a-z]?$", n) for n in wb.sheetnames)
    six = wb["6个1 six_ones"]
    header = [c.value for c in six[1]]
    assert "6个1：幼儿园(托儿所) Six ones: Kindergarten or nursery" in header  # the profile's item names
    j = header.index("缺项 Missing items")
    missing = {r[j] for r in six.iter_rows(min_row=2, values_only=True)} - {None}
    assert missing and all(not re.search(r"[a-z_]{3,}", v) for v in missing), missing  # 幼儿园(托儿所)、综合超市 …
    assert any("幼儿园(托儿所)" in v for v in missing)
    for ws in wb.worksheets:
        assert not any(re.search(r"\bm2\b", str(c.value)) for c in ws[1]), ws.title  # m², one spelling
