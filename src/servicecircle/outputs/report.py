"""A printable PDF report of an assessment (matplotlib ``PdfPages``, A4 or A3, Chinese first with English).

Pages, in order:

1. the cover: the profile, the study area, the date (``settings.output_time()``),
   the servicecircle version and an overview map;
2. method and sources: the walking network, the distances, the demand, the
   profile's sources;
3. the scorecard: every target as the plan states it, with its unit, the
   value, the result, and unconfirmed thresholds marked ``*``;
4. one page per failed check: its map (streets from ``assessment.network``,
   communities by coverage or pass/fail, the gaps, the facilities) and the
   failing communities (name, coverage, uncovered households, shortfall);
5. the community × check matrix (达标 pass ○ / 未达标 fail × / 无数据 no data –),
   :data:`MATRIX_ROWS` communities a page;
6. the data warnings (more pages if they do not fit on one).

:func:`write_reports` writes ``report.pdf`` for the study area and, when the
communities carry a district column (:func:`district_column`), one
``report_<district>.pdf`` per district. The same assessment gives the same
bytes: the PDF's dates are ``settings.output_time()`` and the fonts are
embedded as subsets (Type 3) whose names depend only on the text.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..errors import OutputError, ServiceCircleError
from ..schema import flag_column, green_rule_key
from .drawing import coverage_colour, drawable, failed_colours, map_furniture, metric_frame
from .fonts import cjk_font
from .labels import FAIL_TEXT, NO_DATA_TEXT, PASS_TEXT, check_labels, column_labels, unit_text, weight_names
from .style import (
    COVERAGE_BINS,
    FAIL_COLOUR,
    FAILED_BINS,
    GAP_COLOUR,
    GREEN_COLOUR,
    GREEN_OUTLINE,
    NO_DATA,
    PASS_COLOUR,
)

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..checks.context import CheckOutcome
    from .result import AssessmentResult as Assessment  # the protocol the writers read, not the record

__all__ = [
    "write_report",
    "write_reports",
    "report_pages",
    "district_column",
    "district_file_name",
    "PAPER_SIZES",
    "DISTRICT_COLUMNS",
    "MATRIX_ROWS",
]

#: Paper sizes in millimetres (portrait).
PAPER_SIZES = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
#: The columns that name a community's district, tried in this order (case-insensitive).
DISTRICT_COLUMNS = ("district", "district_name", "区县", "区", "county")
#: Communities on one page of the matrix.
MATRIX_ROWS = 72
#: Failing communities listed on a check's page (three blocks of rows); the rest are counted.
CHECK_TABLE_ROWS = 72
_W, _H = PAPER_SIZES["A4"]  # every page is laid out in A4 millimetres and scaled to the paper
_MARGIN = 15.0
_PT = 0.3528  # mm per point
_STREET = "#b0b0b0"
_SYMBOL = {True: "○", False: "×", None: "–"}


def _cjk_family() -> str:
    """The family of the Chinese font (:func:`servicecircle.outputs.fonts.cjk_font`), registered with matplotlib."""
    return cjk_font()[0]


@contextlib.contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(
        {
            "font.family": [_cjk_family(), "DejaVu Sans"],
            "axes.unicode_minus": False,
            "pdf.fonttype": 3,  # subset Type 3 fonts: embedded, and poppler reads them without complaint
            "hatch.linewidth": 0.6,
        }
    ):
        yield


# ------------------------------------------------------------------ text helpers
def _char_mm(ch: str, size: float) -> float:
    """Approximate width of one character in mm at ``size`` points."""
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return size * _PT
    return size * _PT * (0.58 if ch.isupper() or ch.isdigit() else 0.5)


def _width_mm(text: str, size: float) -> float:
    return sum(_char_mm(ch, size) for ch in text)


def _fit(text: str, width: float, size: float) -> str:
    """``text`` cut (with …) to ``width`` mm."""
    if _width_mm(text, size) <= width:
        return text
    out, used = "", _char_mm("…", size)
    for ch in text:
        used += _char_mm(ch, size)
        if used > width:
            break
        out += ch
    return out.rstrip() + "…"


def _wrap(text: str, width: float, size: float) -> list[str]:
    """``text`` broken into lines of at most ``width`` mm (at spaces, or anywhere in Chinese)."""
    lines: list[str] = []
    for para in str(text).split("\n"):
        line = ""
        for token in re.findall(r"\S+\s*|\s+", para):
            if _width_mm(line + token.rstrip(), size) <= width:
                line += token
                continue
            if line.strip():
                lines.append(line.rstrip())
                line = ""
            while _width_mm(token.rstrip(), size) > width:  # a long word or Chinese run: break anywhere
                cut = len(_fit(token, width, size).rstrip("…")) or 1
                lines.append(token[:cut])
                token = token[cut:]
            line = token
        lines.append(line.rstrip())
    return lines


def _num(v: Any, fmt: str = "{:,.0f}") -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "—"
    return fmt.format(f) if math.isfinite(f) else "—"


def _safe(v: Any) -> Any:
    return None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v


def _passed(v: Any) -> bool | None:
    v = _safe(v)
    if v is None:
        return None
    return bool(v)


# ------------------------------------------------------------------ districts
def district_column(communities: pd.DataFrame) -> str | None:
    """The column naming each community's district, if there are several districts.

    The first of :data:`DISTRICT_COLUMNS` (``district``, ``district_name``, ``区县``,
    ``区``, ``county``; letter case ignored) that the communities have, if it holds at
    least two different names; otherwise ``None`` (one report for the study area only).
    """
    lower = {str(c).lower(): c for c in communities.columns}
    for name in DISTRICT_COLUMNS:
        col = lower.get(name)
        if col is None:
            continue
        values = communities[col].dropna().astype(str).str.strip()
        if values[values != ""].nunique() >= 2:
            return str(col)
        return None
    return None


def district_file_name(district: str, taken: set[str] | None = None) -> str:
    """``report_<district>.pdf``: characters a file name cannot hold become ``_``; a clash gets ``_2`` …"""
    stem = re.sub(r'[\\/:*?"<>|\s\x00-\x1f]+', "_", str(district)).strip("._") or "district"
    name, n = f"report_{stem}.pdf", 2
    while taken is not None and name in taken:
        name, n = f"report_{stem}_{n}.pdf", n + 1
    if taken is not None:
        taken.add(name)
    return name


# ------------------------------------------------------------------ what goes on the pages
@dataclass
class _Area:
    """The communities a report covers."""

    title_zh: str
    title_en: str
    mask: np.ndarray
    district: str | None = None


@dataclass
class _Plan:
    """The pages of one report."""

    area: _Area
    failed: list[CheckOutcome]
    pages: list[tuple[str, Any]] = field(default_factory=list)


def _checks(a: Assessment) -> list[CheckOutcome]:
    return [o for o in a.checks if o.pass_col and o.pass_col in a.communities.columns]


def _failed_checks(a: Assessment, mask: np.ndarray) -> list[CheckOutcome]:
    out = []
    for o in _checks(a):
        col = a.communities[o.pass_col][mask]
        if ((col == False) & col.notna()).any():  # noqa: E712 (nullable booleans)
            out.append(o)
    return out


def _warning_lines(a: Assessment) -> list[list[str]]:
    """Each warning as lines of the message column."""
    rows = []
    for _, r in a.warnings.iterrows():
        msg = str(r.get("message", ""))
        f = _safe(r.get("file"))
        if f:
            msg = msg.replace(str(f), os.path.basename(str(f)))
        rows.append(_wrap(msg, 128.0, 6.5))
    return rows


_WARN_LINES_PAGE = 60


def _warning_chunks(a: Assessment) -> list[list[int]]:
    chunks: list[list[int]] = [[]]
    used = 0
    for i, lines in enumerate(_warning_lines(a)):
        if used + len(lines) > _WARN_LINES_PAGE and chunks[-1]:
            chunks.append([])
            used = 0
        chunks[-1].append(i)
        used += len(lines)
    return chunks


def _plan(a: Assessment, area: _Area) -> _Plan:
    plan = _Plan(area, _failed_checks(a, area.mask))
    plan.pages = [("cover", None), ("method", None), ("scorecard", None)]
    plan.pages += [("register", c) for c in _register_chunks(a)]
    plan.pages += [("check", o) for o in plan.failed]
    idx = np.flatnonzero(area.mask)
    order = _matrix_order(a, idx)
    for k in range(0, max(len(order), 1), MATRIX_ROWS):
        plan.pages.append(("matrix", order[k : k + MATRIX_ROWS]))
    plan.pages += [("warnings", c) for c in _warning_chunks(a)]
    return plan


def _matrix_order(a: Assessment, idx: np.ndarray) -> np.ndarray:
    col = district_column(a.communities)
    if col is None:
        return idx
    key = a.communities[col].iloc[idx].astype(str).to_numpy()
    return idx[np.argsort(key, kind="stable")]


def report_pages(assessment: Assessment, district: str | None = None) -> list[str]:
    """The kind of every page of the report, in order.

    ``cover``, ``method``, ``scorecard``, ``register`` (the plan's indicator table, when the profile has
    one), ``check:<key>`` (one per failed check), ``matrix`` and ``warnings`` (one or more pages each).
    """
    plan = _plan(assessment, _area(assessment, district))
    return [kind if kind != "check" else f"check:{arg.key}" for kind, arg in plan.pages]


def _area(a: Assessment, district: str | None) -> _Area:
    comm = a.communities
    n = len(comm)
    if district is None:
        col = district_column(comm)
        names = sorted(comm[col].dropna().astype(str).unique()) if col else []
        zh = f"全部 {n} 个社区" + (f"（{len(names)} 个区：{'、'.join(names)}）" if names else "")
        en = f"all {n} communities" + (f" in {len(names)} districts" if names else "")
        return _Area(zh, en, np.ones(n, dtype=bool))
    col = district_column(comm)
    if col is None:
        raise ServiceCircleError(
            f"no district '{district}': the communities have no district column", fix="leave district out"
        )
    mask = (comm[col].astype(str) == str(district)).to_numpy()
    if not mask.any():
        known = ", ".join(sorted(comm[col].dropna().astype(str).unique()))
        raise ServiceCircleError(f"no district '{district}' in column '{col}'", fix=f"use one of: {known}")
    n_in = int(mask.sum())
    return _Area(f"{district}（{n_in} 个社区）", f"district {district}: {n_in} communities", mask, str(district))


# ------------------------------------------------------------------ page drawing
class _Page:
    """One page, laid out in A4 millimetres from the top left and scaled to the paper."""

    def __init__(self, paper: str) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        w, h = PAPER_SIZES[paper]
        self.k = w / _W
        self.fig: Figure = Figure(figsize=(w / 25.4, h / 25.4))
        FigureCanvasAgg(self.fig)

    def text(self, x: float, y: float, s: str, size: float = 8.0, **kw: Any) -> None:
        kw.setdefault("va", "top")
        self.fig.text(x / _W, 1.0 - y / _H, s, fontsize=size * self.k, **kw)

    def rect(self, x: float, y: float, w: float, h: float, **kw: Any) -> None:
        from matplotlib.patches import Rectangle

        kw.setdefault("linewidth", 0)
        self.fig.add_artist(
            Rectangle((x / _W, 1.0 - (y + h) / _H), w / _W, h / _H, transform=self.fig.transFigure, **kw)
        )

    def line(self, x0: float, y0: float, x1: float, y1: float, **kw: Any) -> None:
        from matplotlib.lines import Line2D

        kw.setdefault("color", "#888888")
        kw.setdefault("linewidth", 0.5)
        self.fig.add_artist(
            Line2D([x0 / _W, x1 / _W], [1 - y0 / _H, 1 - y1 / _H], transform=self.fig.transFigure, **kw)
        )

    def axes(self, x: float, y: float, w: float, h: float) -> Axes:
        return self.fig.add_axes((x / _W, 1.0 - (y + h) / _H, w / _W, h / _H))

    def heading(self, zh: str, en: str, y: float = 14.0) -> float:
        self.text(_MARGIN, y, zh, 15, fontweight="bold")
        self.text(_MARGIN, y + 7.5, en, 10.5, color="#333333")
        self.line(_MARGIN, y + 13, _W - _MARGIN, y + 13, color="#333333", linewidth=0.8)
        return y + 17

    def column(self, x: float, centre: float, lines: Sequence[str], pitch: float, size: float, **kw: Any) -> None:
        """One text object holding a column of lines ``pitch`` mm apart, the first centred at ``centre``.

        matplotlib lays out a text with a fixed ``linespacing`` at exactly ``linespacing`` × the font's
        height (OS/2 ascender + descender) per line, each line centred in its band, so the lines of a
        column stay on the rows of the table (one text per column rather than one per cell: fewer
        objects; matplotlib still lays out each line).
        """
        if not lines:
            return
        spacing = pitch / (size * _PT * _em_height())
        kw.setdefault("va", "top")
        self.text(x, centre - pitch / 2, "\n".join(lines), size, linespacing=spacing, **kw)

    def table(
        self,
        x: float,
        y: float,
        widths: Sequence[float],
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        size: float = 6.5,
        line_h: float = 3.0,
        aligns: Sequence[str] | None = None,
        colours: Sequence[Sequence[str | None]] | None = None,
    ) -> float:
        """Draw a table (cells may hold several lines, split at ``\\n``); return the y below it."""
        aligns = aligns or ["left"] * len(widths)
        head_lines = max(h.count("\n") + 1 for h in header)
        hh = head_lines * line_h + 1.6
        self.rect(x, y, sum(widths), hh, facecolor="#e6e6e6")
        lefts = np.concatenate([[x], x + np.cumsum(widths)[:-1]])

        def anchor(cx: float, w: float, al: str) -> float:
            return cx + 1.0 if al == "left" else cx + w - 1.0 if al == "right" else cx + w / 2

        for cx, w, h, al in zip(lefts, widths, header, aligns):
            lines = [_fit(ln, w - 1.5, size) for ln in h.split("\n")]
            self.column(anchor(cx, w, al), y + 0.8 + line_h / 2, lines, line_h, size, ha=al, fontweight="bold")
        y += hh
        cells = [[str(c).split("\n") for c in row] for row in rows]
        heights = [max(len(c) for c in row) for row in cells]
        uniform = len(set(heights)) <= 1
        tops = []
        for i, n_lines in enumerate(heights):
            rh = n_lines * line_h + 1.0
            tops.append(y)
            if i % 2:
                self.rect(x, y, sum(widths), rh, facecolor="#f5f5f5")
            for j, (cx, w) in enumerate(zip(lefts, widths)):
                colour = colours[i][j] if colours is not None else None
                if colour:
                    self.rect(cx + 0.3, y + 0.2, w - 0.6, rh - 0.4, facecolor=colour)
            y += rh
        for j, (cx, w, al) in enumerate(zip(lefts, widths, aligns)):
            tx = anchor(cx, w, al)
            if uniform and cells:  # one text per column and line of the rows
                pitch = heights[0] * line_h + 1.0
                for m in range(heights[0]):
                    lines = [_fit(row[j][m], w - 1.5, size) if m < len(row[j]) else "" for row in cells]
                    self.column(tx, tops[0] + 0.5 + (m + 0.5) * line_h, lines, pitch, size, ha=al)
                continue
            for i, row in enumerate(cells):
                lines = [_fit(ln, w - 1.5, size) for ln in row[j]]
                self.column(tx, tops[i] + 0.5 + line_h / 2, lines, line_h, size, ha=al)
        self.line(x, y, x + sum(widths), y, color="#999999", linewidth=0.4)
        return y


_em: float | None = None


def _em_height() -> float:
    """The CJK font's line height (OS/2 typographic ascender + descender, as matplotlib uses it) per em."""
    global _em
    if _em is None:
        from matplotlib.font_manager import FontProperties, findfont, get_font

        font = get_font(findfont(FontProperties(family=_cjk_family())))
        table: Any = font.get_sfnt_table("OS/2")
        head: Any = font.get_sfnt_table("head")
        units = head["unitsPerEm"] if head else 1000
        if table is not None:
            _em = (table["sTypoAscender"] - table["sTypoDescender"]) / units
        else:
            hhea: Any = font.get_sfnt_table("hhea")
            _em = (hhea["ascent"] - hhea["descent"]) / units if hhea else 1.2
    return _em


@dataclass
class _Context:
    a: Assessment
    plan: _Plan
    paper: str
    date: str
    streets: Any  # list of (n, 2) arrays in the communities' CRS, or None
    comm: gpd.GeoDataFrame


def _footer(page: _Page, ctx: _Context, n: int, total: int) -> None:
    y = _H - 9.0
    page.line(_MARGIN, y - 2.0, _W - _MARGIN, y - 2.0, color="#bbbbbb", linewidth=0.4)
    p = ctx.a.profile
    left = f"servicecircle {__version__} · {getattr(p, 'name_zh', p.key)} · {ctx.plan.area.title_zh}"
    page.text(_MARGIN, y, _fit(left, 140.0, 6.5), 6.5, color="#555555")
    page.text(_W - _MARGIN, y, f"第 {n}/{total} 页  page {n} of {total} · {ctx.date}", 6.5, ha="right", color="#555555")


def _streets(a: Assessment, crs: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Every street's vertices (in the communities' CRS) and which street each belongs to."""
    import shapely

    net = getattr(a, "network", None)
    geoms = getattr(net, "edge_geometry", None)
    if geoms is None or len(geoms) == 0:
        return None
    geoms = np.asarray(geoms, dtype=object)
    if crs is not None and net is not None and net.crs is not None:
        from pyproj import CRS

        if not CRS.from_user_input(net.crs).equals(CRS.from_user_input(crs)):
            import geopandas as gpd

            geoms = gpd.GeoSeries(geoms, crs=net.crs).to_crs(crs).to_numpy()
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    return (coords, owner) if len(coords) else None


def _street_path(streets: tuple[np.ndarray, np.ndarray], lo: np.ndarray, hi: np.ndarray) -> Any:
    """One compound path of the streets with a vertex inside ``lo``–``hi`` (one object in the PDF, drawn fast)."""
    from matplotlib.path import Path as MplPath

    coords, owner = streets
    inside = ((coords >= lo) & (coords <= hi)).all(axis=1)
    keep = np.zeros(int(owner.max()) + 1, dtype=bool)
    keep[owner[inside]] = True
    sel = keep[owner]
    xy, own = coords[sel], owner[sel]
    if not len(xy):
        return None
    codes = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
    codes[np.r_[True, own[1:] != own[:-1]]] = MplPath.MOVETO
    return MplPath(xy, codes)


def _geom_path(geom: Any) -> Any:
    """A matplotlib path of a polygon or multipolygon (holes included)."""
    from matplotlib.path import Path as MplPath

    parts = list(getattr(geom, "geoms", [geom]))
    verts, codes = [], []
    for poly in parts:
        if poly.is_empty or not hasattr(poly, "exterior"):
            continue
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)[:, :2]
            if len(xy) < 3:
                continue
            c = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
            c[0], c[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
            verts.append(xy)
            codes.append(c)
    if not verts:
        return None
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def _polygons(ax: Axes, frame: gpd.GeoDataFrame, facecolors: Any, **kw: Any) -> None:
    """Draw polygons straight onto ``ax`` (geopandas' plot redraws the whole figure on every call)."""
    from matplotlib.collections import PathCollection

    paths, colours = [], []
    faces = [facecolors] * len(frame) if isinstance(facecolors, str) else list(facecolors)
    for geom, colour in zip(frame.geometry, faces):
        path = _geom_path(geom)
        if path is not None:
            paths.append(path)
            colours.append(colour)
    if paths:
        ax.add_collection(PathCollection(paths, facecolors=colours, **kw), autolim=False)


def _points(ax: Axes, frame: gpd.GeoDataFrame, size: float, **kw: Any) -> None:
    import shapely

    xy = shapely.get_coordinates(frame.geometry.representative_point().to_numpy())
    if len(xy):
        ax.scatter(xy[:, 0], xy[:, 1], s=size, **kw)


def _map(
    page: _Page, ctx: _Context, box: tuple[float, float, float, float], shown: gpd.GeoDataFrame
) -> tuple[Axes, float]:
    """Map axes over ``box`` (mm) fitted to ``shown``, with the streets drawn; returns (axes, extent width).

    The view is fixed here (the extent padded to the box's shape), so nothing drawn later moves it.
    """
    from matplotlib.patches import PathPatch

    ax = page.axes(*box)
    ax.set_axis_off()
    frame = drawable(shown)
    xmin, ymin, xmax, ymax = frame.total_bounds if len(frame) else (np.nan,) * 4
    if not np.all(np.isfinite([xmin, ymin, xmax, ymax])):
        xmin, ymin, xmax, ymax = 0.0, 0.0, 1000.0, 1000.0
    pad = 0.03 * max(xmax - xmin, ymax - ymin, 1.0)
    x0, x1, y0, y1 = xmin - pad, xmax + pad, ymin - pad, ymax + pad
    shape = box[3] / box[2]  # height / width of the box
    if (y1 - y0) / (x1 - x0) < shape:  # too wide for the box: show more north and south
        extra = (x1 - x0) * shape - (y1 - y0)
        y0, y1 = y0 - extra / 2, y1 + extra / 2
    else:
        extra = (y1 - y0) / shape - (x1 - x0)
        x0, x1 = x0 - extra / 2, x1 + extra / 2
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_autoscale_on(False)
    if ctx.streets is not None:
        path = _street_path(ctx.streets, np.array([x0, y0]), np.array([x1, y1]))
        if path is not None:
            patch = PathPatch(path, facecolor="none", edgecolor=_STREET, linewidth=0.3, zorder=0.5)
            patch.set_transform(ax.transData)
            patch.set_clip_path(ax.patch)
            ax.add_artist(patch)  # not add_patch: no data limits to compute for thousands of curves
    return ax, float(xmax - xmin)


def _legend(ax: Axes, items: list[tuple[str, str, dict[str, Any]]], k: float, ncols: int = 5) -> float:
    """The legend under the map (below the attribution line); returns its height in mm (approximately)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = []
    for kind, label, style in items:
        if kind == "patch":
            handles.append(Patch(label=label, **style))
        elif kind == "marker":
            handles.append(Line2D([], [], linestyle="", label=label, **style))
        else:
            handles.append(Line2D([], [], label=label, **style))
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.0, -0.035),
        ncols=ncols,
        fontsize=6.5 * k,
        frameon=False,
        borderaxespad=0.0,
        handlelength=1.6,
        columnspacing=1.4,
    )
    return 4.2 * math.ceil(len(handles) / ncols)


# ------------------------------------------------------------------ the pages
def _cover(page: _Page, ctx: _Context) -> None:
    a, p = ctx.a, ctx.a.profile
    page.rect(0, 0, _W, 8, facecolor="#1a4f7a")
    page.text(_MARGIN, 28, "社区生活圈评估报告", 26, fontweight="bold")
    page.text(_MARGIN, 41, "Life-circle assessment report", 16, color="#333333")
    y = 56.0
    rows = [
        ("规划标准", "Profile", [getattr(p, "name_zh", p.key), getattr(p, "name_en", "")]),
        ("研究范围", "Study area", [ctx.plan.area.title_zh, ctx.plan.area.title_en]),
        ("日期", "Date", [ctx.date]),
        ("版本", "Version", [f"servicecircle {__version__}"]),
    ]
    n_checks = len(_checks(a))
    rows.append(
        (
            "结论",
            "Result",
            [
                f"{n_checks} 项检查中 {len(ctx.plan.failed)} 项有社区未达标",
                f"{len(ctx.plan.failed)} of {n_checks} checks have failing communities",
            ],
        )
    )
    for zh, en, values in rows:
        page.text(_MARGIN, y, zh, 10, fontweight="bold")
        page.text(_MARGIN, y + 4.6, en, 7.5, color="#555555")
        yy = y
        for v in values:
            for ln in _wrap(v, 140.0, 10):
                page.text(_MARGIN + 30, yy, ln, 10)
                yy += 5.0
        y = max(y + 11.0, yy + 3.0)
    source = str(a.communities.attrs.get("source") or "")
    if "approx" in source.lower():
        page.text(_MARGIN, y, "注意：社区边界与户数为近似数据，不得用于规划决策。", 8.5, color=FAIL_COLOUR)
        page.text(
            _MARGIN, y + 4.5, "Note: the community boundaries and households are approximate.", 7.5, color=FAIL_COLOUR
        )
        y += 11.0
    top = max(y + 4.0, 118.0)
    page.text(_MARGIN, top, "各社区未达标项数 Checks failed per community", 9, fontweight="bold")
    comm = ctx.comm[ctx.plan.area.mask]
    shown = drawable(comm)
    ax, width = _map(page, ctx, (_MARGIN, top + 6.0, _W - 2 * _MARGIN, _H - top - 6.0 - 30.0), shown)
    if len(shown):
        _polygons(ax, shown, failed_colours(shown), edgecolors="white", linewidths=0.4, zorder=1)
    items: list[tuple[str, str, dict[str, Any]]] = [
        ("patch", f"{label} 项", {"facecolor": colour, "edgecolor": "white"}) for _, colour, label in FAILED_BINS
    ]
    items.append(("patch", f"{NO_DATA_TEXT} no data", {"facecolor": NO_DATA, "edgecolor": "white"}))
    items.append(("line", "街道 street", {"color": _STREET, "linestyle": "-", "linewidth": 0.8}))
    _legend(ax, items, page.k, ncols=6)
    map_furniture(page.fig, ax, a, width, scale=0.85 * page.k)


def _method(page: _Page, ctx: _Context) -> None:
    a, p = ctx.a, ctx.a.profile
    par = a.parameters
    y = page.heading("方法与数据来源", "Method and sources")
    net = a.network
    n_nodes = getattr(net, "n_nodes", None)
    n_edges = getattr(net, "n_edges", None)
    length = getattr(net, "edge_length", None)
    km = float(np.sum(length)) / 1000.0 if length is not None and len(length) else float("nan")
    net_file = os.path.basename(str(par.get("network") or getattr(net, "source", "") or "")) or "—"
    crs = par.get("network_crs") or (net.crs.to_string() if getattr(net, "crs", None) is not None else "—")
    snap = par.get("max_snap_m")
    weight = par.get("weight")
    w_zh, w_en = weight_names(a, str(weight) if weight else None)
    demand = str(par.get("demand") or "")
    spacing = par.get("sample_spacing_m")
    comm_file = os.path.basename(str(a.communities.attrs.get("source") or "")) or "—"
    if demand == "sampled":
        demand_zh = f"在每个社区内每隔 {_num(spacing, '{:g}')} 米取一个需求点，社区的{w_zh}平均分给其需求点。"
        demand_en = (
            f"demand points every {_num(spacing, '{:g}')} m inside each community; the community's {w_en} "
            "are shared equally among its points."
        )
    else:
        demand_zh = f"需求：{demand or '—'}，权重为{w_zh}。"
        demand_en = f"demand: {demand or '—'}, weighted by {w_en}."
    sections = [
        (
            "步行路网 Walking network",
            f"OpenStreetMap 步行路网，文件 {net_file}：{_num(n_nodes)} 个节点、{_num(n_edges)} 条路段、"
            f"共 {_num(km, '{:,.1f}')} 公里，坐标系 {crs}。",
            f"The OpenStreetMap walking network from {net_file}: {_num(n_nodes)} nodes, {_num(n_edges)} edges, "
            f"{_num(km, '{:,.1f}')} km of street, in {crs}.",
        ),
        (
            "距离 Distances",
            "沿街道的最短步行距离（不是直线距离）。每个需求点和设施接入最近街道上的最近点，接入段计入距离"
            f"（最远 {_num(snap, '{:g}')} 米，更远的不计距离）。",
            "The shortest walking distance along the streets, not a straight line. Every demand point and facility "
            "joins the nearest point of the nearest street; the access leg counts "
            f"(at most {_num(snap, '{:g}')} m; farther ones get no distance).",
        ),
        ("需求 Demand", f"社区边界 {comm_file}；" + demand_zh, f"Communities from {comm_file}; " + demand_en),
        (
            "覆盖率与达标 Coverage and pass/fail",
            f"覆盖率：服务半径内的{w_zh}占社区{w_zh}的比例；覆盖率达到目标即为达标。没有需求数据的社区为“无数据”。",
            f"Coverage: the share of a community's {w_en} within the service radius; a community passes when its "
            "coverage reaches the target. Communities without demand data have no result.",
        ),
        (
            "规划标准 Profile",
            f"{getattr(p, 'name_zh', p.key)}（{p.key}）",
            f"{getattr(p, 'name_en', p.key)}. {getattr(p, 'source', '')}",
        ),
    ]
    for title, zh, en in sections:
        page.text(_MARGIN, y, title, 9.5, fontweight="bold")
        y += 5.0
        for ln in _wrap(zh, 178.0, 8):
            page.text(_MARGIN + 2, y, ln, 8)
            y += 3.9
        for ln in _wrap(en, 178.0, 7.5):
            page.text(_MARGIN + 2, y, ln, 7.5, color="#333333")
            y += 3.6
        y += 3.0
    page.text(_MARGIN, y, "各项标准的出处 Sources of the thresholds", 9.5, fontweight="bold")
    y += 5.0
    seen: dict[str, list[str]] = {}
    for o in _checks(a):
        seen.setdefault(str(o.source or "—"), []).append(o.name_zh + ("*" if not o.confirmed else ""))
    bottom = _H - 22.0
    items = list(seen.items())
    for i, (src, names) in enumerate(items):
        lines = _wrap(f"{'、'.join(names)}：{src}", 174.0, 6.5)
        if y + 3.2 * len(lines) > bottom - 8:
            page.text(
                _MARGIN + 2,
                y,
                f"… 另有 {len(items) - i} 条出处见 summary.csv 的 source 列  {len(items) - i} more: the source "
                "column of summary.csv",
                6.5,
                color="#555555",
            )
            y += 3.4
            break
        for j, ln in enumerate(lines):
            page.text(_MARGIN + 2 + (0 if j == 0 else 3), y, ln, 6.5)
            y += 3.2
        y += 0.8
    page.text(
        _MARGIN,
        max(y + 2, bottom - 5),
        "* 阈值未经标准原文核实  threshold not confirmed against the standard's text (see docs/profiles.md)",
        6.5,
        color=FAIL_COLOUR,
    )


def _target_text(cmp: Any, target: Any, unit: Any) -> str:
    unit = unit_text(str(_safe(unit) or ""))
    sign = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}.get(str(_safe(cmp) or ">="), str(cmp))
    t = _num(target, "{:,.6g}")
    if unit.startswith("%"):
        rest = unit[1:].strip()
        return f"{sign} {t}%" + (f"\n{rest}" if rest else "")
    return f"{sign} {t}" + (f"\n{unit}" if unit else "")


def _value_text(v: Any, unit: Any) -> str:
    unit = unit_text(str(_safe(unit) or ""))
    if unit.startswith("%"):
        return _num(v, "{:.1f}%")
    return _num(v, "{:,.2f}")


def _area_counts(a: Assessment, key: str, mask: np.ndarray) -> str:
    for o in _checks(a):
        if o.key == key:
            col = a.communities[o.pass_col][mask]
            known = col.notna()
            return f"{int((col[known] == False).sum())}/{int(known.sum())}"  # noqa: E712
    return "—"


def _scorecard(page: _Page, ctx: _Context) -> None:
    a = ctx.a
    y = page.heading("指标总览", "Scorecard: the targets as the plan states them")
    sc = a.scorecard.reset_index(drop=True)
    note_zh = "指标值为全部社区（整个评估范围）的值" if ctx.plan.area.district else "指标值为整个研究范围的值"
    page.text(
        _MARGIN,
        y,
        f"{note_zh}；“未达标社区”为本报告范围内未达标/参评社区数。  Values for the whole assessment; "
        "'failed' counts this report's communities.",
        6.5,
        color="#444444",
    )
    y += 5.0
    rows, colours = [], []
    for _, r in sc.iterrows():
        passed = _passed(r.get("passed"))
        result = (
            f"{PASS_TEXT} passed" if passed else f"{FAIL_TEXT} failed" if passed is False else f"{NO_DATA_TEXT} no data"
        )
        confirmed = bool(_safe(r.get("confirmed")))
        rows.append(
            [
                f"{r['name_zh']}{'' if confirmed else ' *'}\n{r['name_en']}",
                _target_text(r.get("comparison"), r.get("target"), r.get("unit")),
                _value_text(r.get("value"), r.get("unit")),
                result,
                "是 yes" if confirmed else "否 no *",
                _area_counts(a, str(r["target_key"]), ctx.plan.area.mask),
            ]
        )
        colour = PASS_COLOUR if passed else FAIL_COLOUR if passed is False else NO_DATA
        colours.append([None, None, None, _tint(colour), None, None])
    n_lines = 2 * max(len(rows), 1)
    line_h = min(3.0, (_H - 28.0 - y - 12.0 - len(rows) * 1.0) / n_lines)
    size = min(6.5, line_h / 0.45)
    y = page.table(
        _MARGIN,
        y,
        [76, 32, 20, 20, 14, 18],
        ["指标\nIndicator", "目标\nTarget", "现状\nValue", "结果\nResult", "核实\nConfirmed", "未达标社区\nFailed"],
        rows,
        size=size,
        line_h=line_h,
        aligns=["left", "left", "right", "center", "center", "right"],
        colours=colours,
    )
    page.text(
        _MARGIN,
        y + 2.5,
        "* 阈值未经标准原文核实，使用前请核对  threshold not confirmed against the standard's text: check before use",
        6.5,
        color=FAIL_COLOUR,
    )


#: The register pages' columns (mm) and the lines a page holds.
_REG_WIDTHS = [7.0, 62.0, 27.0, 19.0, 19.0, 46.0]
_REG_SIZE = 6.0
_REG_LINE = 2.7
_REG_LINES_PAGE = 84
_REG_WHY_LINES = 4  # the reason is cut after this many lines (the whole text: the workbook's register sheet)
_REG_RESULT = {"pass": f"{PASS_TEXT}\npassed", "fail": f"{FAIL_TEXT}\nfailed"}
_REG_NOT = "未评估\nnot assessed"


def _register_frame(a: Assessment) -> pd.DataFrame | None:
    reg = getattr(a, "register", None)
    return reg if reg is not None and len(reg) else None


def _register_lines(text: str, width: float) -> list[str]:
    """``text`` wrapped to ``width`` mm and cut after :data:`_REG_WHY_LINES` lines, with an ellipsis."""
    lines = _wrap(text, width - 1.5, _REG_SIZE) if text else [""]
    if len(lines) > _REG_WHY_LINES:
        last = _fit(lines[_REG_WHY_LINES - 1] + " …", width - 1.5, _REG_SIZE)
        lines = lines[: _REG_WHY_LINES - 1] + [last if last.endswith("…") else last + " …"]
    return lines


def _register_why(r: Any) -> list[str]:
    """Why a row is not assessed and the data that would let it be, or how an assessed one was measured."""
    if str(r.get("status")) in ("pass", "fail"):
        return _register_lines(str(_safe(r.get("method")) or _safe(r.get("check")) or ""), _REG_WIDTHS[-1])
    why = str(_safe(r.get("not_assessed")) or "")
    need = str(_safe(r.get("data_needed")) or "")
    return _register_lines(why + (f"  需要 needs: {need}" if need else ""), _REG_WIDTHS[-1])


def _register_rows(a: Assessment) -> list[tuple[list[str], str]]:
    """Each register row's cells and its result colour."""
    reg = _register_frame(a)
    if reg is None:
        return []
    out = []
    for i, (_, r) in enumerate(reg.iterrows(), start=1):
        status = str(r.get("status"))
        passed = {"pass": True, "fail": False}.get(status)
        binding = str(_safe(r.get("binding")) or "")
        target = str(_safe(r.get("target_text")) or "")
        value = "" if passed is None else _value_text(r.get("value"), r.get("value_unit"))
        name_zh = str(r["name_zh"]) + ("" if bool(_safe(r.get("confirmed"))) else " *")
        name_en = _wrap(str(r["name_en"]), _REG_WIDTHS[1] - 1.5, _REG_SIZE)
        if len(name_en) > 2:
            name_en = [name_en[0], _fit(" ".join(name_en[1:]), _REG_WIDTHS[1] - 1.5, _REG_SIZE)]
        cells = [
            str(i),
            "\n".join([name_zh, *name_en]),
            f"{target}\n{binding}".strip("\n"),
            value,
            _REG_RESULT.get(status, _REG_NOT),
            "\n".join(_register_why(r)),
        ]
        colour = PASS_COLOUR if passed else FAIL_COLOUR if passed is False else NO_DATA
        out.append((cells, colour))
    return out


def _register_chunks(a: Assessment) -> list[list[tuple[list[str], str]]]:
    """The register rows (cells, result colour) of each register page (none without a register)."""
    chunks: list[list[tuple[list[str], str]]] = []
    used = float(_REG_LINES_PAGE)
    for row in _register_rows(a):
        cells = row[0]
        n = max(c.count("\n") + 1 for c in cells) + 0.4  # a row's lines and its padding
        if used + n > _REG_LINES_PAGE:
            chunks.append([])
            used = 0.0
        chunks[-1].append(row)
        used += n
    return chunks


def _register(page: _Page, ctx: _Context, chunk: list[tuple[list[str], str]]) -> None:
    a = ctx.a
    reg = _register_frame(a)
    assert reg is not None  # a register page is planned only with a register
    tables = "、".join(dict.fromkeys(str(t) for t in reg["plan_table"] if _safe(t)))
    y = page.heading("规划指标", f"The plan's indicators ({tables}): each assessed, or not and why")
    counts = reg["status"].value_counts()
    n_pass, n_fail = int(counts.get("pass", 0)), int(counts.get("fail", 0))
    n_not = len(reg) - n_pass - n_fail
    whole = "（指标值为全部社区的值 values for the whole assessment）" if ctx.plan.area.district else ""
    page.text(
        _MARGIN,
        y,
        f"{whole}共 {len(reg)} 项：达标 {n_pass}，未达标 {n_fail}，未评估 {n_not}"
        "（空间数据无法评估或缺少数据，原因见右栏）。"
        f"  {len(reg)} rows: {n_pass} pass, {n_fail} fail, {n_not} not assessed (the reason on the right).",
        6.5,
        color="#444444",
    )
    y += 5.0
    cells = [c for c, _ in chunk]
    colours = [[None, None, None, None, _tint(colour), None] for _, colour in chunk]
    y = page.table(
        _MARGIN,
        y,
        _REG_WIDTHS,
        [
            "#",
            "指标\nIndicator",
            "规划目标\nPlan target",
            "现状\nValue",
            "结果\nResult",
            "方法 / 未评估原因\nMethod / why not",
        ],
        cells,
        size=_REG_SIZE,
        line_h=_REG_LINE,
        aligns=["right", "left", "left", "right", "center", "left"],
        colours=colours,
    )
    page.text(
        _MARGIN,
        y + 2.5,
        "* 指标读取未经规划原文核实  reading not confirmed against the plan's text · 全文见工作簿 register 表与 "
        "shortfall.gpkg  the whole text: the workbook's register sheet, shortfall.gpkg",
        6.0,
        color="#444444",
    )


def _tint(colour: str, share: float = 0.35) -> str:
    from matplotlib.colors import to_hex, to_rgb

    r, g, b = (1.0 - share * (1.0 - c) for c in to_rgb(colour))
    return str(to_hex((r, g, b)))


def _score_unit(a: Assessment, o: CheckOutcome) -> str:
    """The unit of a community's value in a check that is not a coverage (``m²/人``, ``项 items`` …)."""
    if o.cov_col:
        return "%"
    if o.kind == "six_ones":
        return "项 items"
    score = getattr(o, "score_col", None)
    return unit_text(column_labels(score, a)[2]) if score else ""


def _group_names(key: str) -> tuple[str, str]:
    """A walking group's Chinese and English names (its key when the group is unknown)."""
    from ..network.walking import load_walking_groups

    g = load_walking_groups().get(key)
    return (g.name_zh, g.name_en) if g is not None else (key, key)


def _check_page(page: _Page, ctx: _Context, o: CheckOutcome) -> None:
    a, k = ctx.a, page.k
    zh, en = check_labels(o)
    y = page.heading(zh, en)
    mask = ctx.plan.area.mask
    comm = ctx.comm[mask]
    passed = comm[o.pass_col]
    known = passed.notna()
    n_failed = int((passed[known] == False).sum())  # noqa: E712
    unit = _score_unit(a, o)
    target = _safe(o.target)
    parts_zh, parts_en = [], []
    if o.radius_m:
        parts_zh.append(f"服务半径 {o.radius_m:g} 米（步行距离）")
        parts_en.append(f"radius {o.radius_m:g} m (walking distance)")
    minutes = o.summary.get("minutes")
    if isinstance(minutes, (int, float)) and minutes == minutes:  # a time check: minutes, for a walking group
        zh_g, en_g = _group_names(str(o.summary.get("group", "")))
        parts_zh.append(f"步行 {minutes:g} 分钟（{zh_g}步速）")
        parts_en.append(f"{minutes:g} min walk at {en_g} speed")
    if target is not None:
        t = _target_text(">=", target, "%" if o.cov_col else unit).replace("\n", " ")
        parts_zh.append(f"目标 {t}")
        parts_en.append(f"target {t}")
    parts_zh.append(f"未达标社区 {n_failed}/{int(known.sum())}")
    parts_en.append(f"{n_failed} of {int(known.sum())} communities fail")
    if not o.confirmed:
        parts_zh.append("阈值未核实*")
        parts_en.append("threshold not confirmed*")
    page.text(_MARGIN, y, "；".join(parts_zh), 8)
    page.text(_MARGIN, y + 4.0, "; ".join(parts_en), 7.5, color="#333333")
    page.text(_MARGIN, y + 8.0, _fit(f"出处 Source: {o.source}", 180.0, 6.5), 6.5, color="#555555")
    top = y + 12.0
    map_h = 118.0
    shown = drawable(comm)
    ax, width = _map(page, ctx, (_MARGIN, top, _W - 2 * _MARGIN, map_h), shown)
    items: list[tuple[str, str, dict[str, Any]]] = []
    if o.cov_col and o.cov_col in shown.columns:
        colours = [coverage_colour(v) for v in shown[o.cov_col].to_numpy(dtype=float, na_value=np.nan)]
        items += [
            ("patch", f"覆盖率 {label}", {"facecolor": colour, "edgecolor": "white"})
            for _, colour, label in COVERAGE_BINS
        ]
    else:
        colours = [
            PASS_COLOUR if v is True else FAIL_COLOUR if v is False else NO_DATA
            for v in (_passed(x) for x in shown[o.pass_col])
        ]
        items += [
            ("patch", f"{PASS_TEXT} passed", {"facecolor": PASS_COLOUR, "edgecolor": "white"}),
            ("patch", f"{FAIL_TEXT} failed", {"facecolor": FAIL_COLOUR, "edgecolor": "white"}),
        ]
    items.append(("patch", f"{NO_DATA_TEXT} no data", {"facecolor": NO_DATA, "edgecolor": "white"}))
    if len(shown):
        _polygons(ax, shown, colours, edgecolors="white", linewidths=0.4, alpha=0.85, zorder=1)
    crs = ctx.comm.crs
    gaps = a.gaps[a.gaps["check"] == o.key] if "check" in a.gaps.columns else a.gaps.iloc[0:0]
    if "community_id" in gaps.columns:
        ids = set(comm[a.id_column].astype(str)) if a.id_column in comm.columns else set()
        gaps = gaps[gaps["community_id"].astype(str).isin(ids)]
    gaps = drawable(gaps)
    if len(gaps):
        g = gaps.to_crs(crs) if gaps.crs is not None and crs is not None else gaps
        _polygons(ax, g, "none", edgecolors=GAP_COLOUR, hatch="///", linewidths=0.4, zorder=2)
        items.append(("patch", "服务缺口 gap", {"facecolor": "white", "edgecolor": GAP_COLOUR, "hatch": "///"}))
    rule = green_rule_key(o.key)
    green_flag = flag_column(rule) if rule in ("green", "park") else None
    spaces = a.layers.get("greenspace")
    if green_flag and spaces is not None and len(spaces):
        sel = drawable(spaces[spaces[green_flag].astype(bool)] if green_flag in spaces.columns else spaces)
        if len(sel):
            _polygons(ax, sel.to_crs(crs), GREEN_COLOUR, edgecolors=GREEN_OUTLINE, linewidths=0.4, zorder=3)
            items.append(
                (
                    "patch",
                    "绿地 green space" if rule == "green" else "公园 park",
                    {"facecolor": GREEN_COLOUR, "edgecolor": GREEN_OUTLINE},
                )
            )
    elif o.category and "category_key" in a.facilities.columns:
        fac = drawable(a.facilities[a.facilities["category_key"] == o.category])
        if len(fac):
            _points(ax, fac.to_crs(crs), 9 * k, color="black", marker="o", edgecolors="white", linewidths=0.4, zorder=4)
            items.append(
                (
                    "marker",
                    f"{o.name_zh} {o.name_en}",
                    {"marker": "o", "color": "black", "markeredgecolor": "white", "markersize": 4.5 * k},
                )
            )
    items.append(("line", "街道 street", {"color": _STREET, "linestyle": "-", "linewidth": 0.8}))
    legend_h = _legend(ax, items, k)
    map_furniture(page.fig, ax, a, width, scale=0.85 * k)
    _failing_table(page, ctx, o, comm, top + map_h + 8.0 + legend_h, unit)


def _failing_table(page: _Page, ctx: _Context, o: CheckOutcome, comm: pd.DataFrame, y: float, unit: str) -> None:
    a = ctx.a
    passed = comm[o.pass_col]
    fail = comm[(passed == False) & passed.notna()].copy()  # noqa: E712
    names = fail[a.name_column] if a.name_column and a.name_column in fail.columns else fail[a.id_column]
    fail["_name"] = names.astype(str)
    unc = o.unc_col if o.unc_col and o.unc_col in fail.columns else None
    value_col = o.cov_col if o.cov_col and o.cov_col in fail.columns else None
    if value_col is None:
        score = getattr(o, "score_col", None)
        value_col = score if score and score in fail.columns else None
    target = _safe(o.target)
    fail["_value"] = pd.to_numeric(fail[value_col], errors="coerce") if value_col else np.nan
    fail["_unc"] = pd.to_numeric(fail[unc], errors="coerce") if unc else np.nan
    # a value at or above the target fails a range (e.g. 1500–4000 households): no shortfall to give
    fail["_short"] = (
        (float(target) - fail["_value"]).where(fail["_value"] < float(target)) if target is not None else np.nan
    )
    fail = fail.sort_values(["_unc", "_short", "_name"], ascending=[False, False, True], na_position="last")
    w_zh, w_en = weight_names(a, str(fail["weight_kind"].iloc[0]) if "weight_kind" in fail and len(fail) else None)
    if o.cov_col:
        v_head, s_head, s_unit = "覆盖率\nCoverage", "差距 (pp)\nShortfall", ""
    else:
        v_head, s_head, s_unit = (
            f"现状\nValue\n{unit}" if unit else "现状\nValue",
            f"差距\nShortfall\n{unit}" if unit else "差距\nShortfall",
            "",
        )
    u_head = f"未覆盖{w_zh}\nUncovered\n{w_en}"
    n = len(fail)
    shown = fail.iloc[:CHECK_TABLE_ROWS]
    title = (
        f"未达标社区 Failing communities（{n}），按未覆盖{w_zh}从多到少 sorted by uncovered {w_en}"
        if unc
        else f"未达标社区 Failing communities（{n}），按差距从大到小 sorted by shortfall"
    )
    page.text(_MARGIN, y, title, 8, fontweight="bold")
    y += 4.5
    rows = []
    for _, r in shown.iterrows():
        value = _num(r["_value"], "{:.1f}%") if o.cov_col else _num(r["_value"], "{:,.2f}")
        short = _num(r["_short"], "{:.1f}" + s_unit) if o.cov_col else _num(r["_short"], "{:,.2f}")
        if pd.isna(r["_short"]) and pd.notna(r["_value"]):
            short = "超出 over"
        rows.append([str(r["_name"]), value, _num(r["_unc"]), short])
    blocks = 3
    per = max(len(rows), 1) if len(rows) <= 24 else min(math.ceil(len(rows) / blocks), 24)  # fill a block first
    width = (_W - 2 * _MARGIN - (blocks - 1) * 3.0) / blocks
    widths = [width - 10.5 - 13 - 12.5, 10.5, 13, 12.5]
    bottom = y
    for b in range(blocks):
        chunk = rows[b * per : (b + 1) * per]
        if not chunk:
            break
        x = _MARGIN + b * (width + 3.0)
        bottom = max(
            bottom,
            page.table(
                x,
                y,
                widths,
                ["社区\nCommunity", v_head, u_head, s_head],
                chunk,
                size=6.0,
                line_h=2.6,
                aligns=["left", "right", "right", "right"],
            ),
        )
    if n > blocks * per:
        page.text(
            _MARGIN,
            bottom + 2.0,
            f"另有 {n - blocks * per} 个未达标社区，见 shortfall.xlsx / shortfall.gpkg  "
            f"{n - blocks * per} more failing communities: see the workbook or the GeoPackage",
            6.5,
            color="#555555",
        )


def _matrix(page: _Page, ctx: _Context, idx: np.ndarray) -> None:
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    a = ctx.a
    y = page.heading("社区 × 检查项", "Communities × checks")
    checks = _checks(a)
    page.text(_MARGIN, y, f"○ {PASS_TEXT} pass    × {FAIL_TEXT} fail    – {NO_DATA_TEXT} no data", 7)
    y += 5.0
    comm = a.communities
    dcol = district_column(comm)
    name_w = 38.0 if dcol is None else 30.0
    dist_w = 0.0 if dcol is None else 14.0
    count_w = 10.0
    cell_w = min(8.0, (_W - 2 * _MARGIN - name_w - dist_w - count_w) / max(len(checks), 1))
    head_h = 34.0
    x0 = _MARGIN + name_w + dist_w
    x_end = x0 + len(checks) * cell_w + count_w
    for j, o in enumerate(checks):
        label = _fit(f"{o.name_zh} {o.name_en}", head_h - 2, 6)
        page.text(x0 + (j + 0.5) * cell_w, y + head_h - 1.0, label, 6, rotation=90,
                  ha="center", va="bottom")  # fmt: skip
    page.text(x0 + len(checks) * cell_w + count_w / 2, y + head_h - 1.0, "未达标数 failed", 6, rotation=90,
              ha="center", va="bottom")  # fmt: skip
    page.text(_MARGIN + 1, y + head_h - 4.0, "社区 Community", 6.5, fontweight="bold")
    if dcol:
        page.text(_MARGIN + name_w + 1, y + head_h - 4.0, "区 District", 6.5, fontweight="bold")
    y += head_h + 0.5
    page.line(_MARGIN, y, x_end, y, color="#333333", linewidth=0.6)
    row_h = min(4.2, (_H - 22.0 - y) / max(len(idx), 1))
    size = min(6.5, row_h / 0.5)
    names = comm[a.name_column] if a.name_column and a.name_column in comm.columns else comm[a.id_column]
    # the cells and their symbols as a few collections on one page-sized axes in millimetres (fast to write)
    ax = page.axes(0, 0, _W, _H)
    ax.set_axis_off()
    ax.set_xlim(0, _W)
    ax.set_ylim(_H, 0)
    rects, faces = [], []
    marks: dict[bool | None, list[tuple[float, float]]] = {True: [], False: [], None: []}
    for i, ix in enumerate(idx):
        yy = y + i * row_h
        if i % 2:
            rects.append(Rectangle((_MARGIN, yy), x_end - _MARGIN, row_h))
            faces.append("#f3f3f3")
        page.text(_MARGIN + 1, yy + 0.5 * row_h, _fit(str(names.iloc[ix]), name_w - 1.5, size), size, va="center")
        if dcol:
            page.text(_MARGIN + name_w + 1, yy + 0.5 * row_h, _fit(str(comm[dcol].iloc[ix]), dist_w - 1.5, size),
                      size, color="#444444", va="center")  # fmt: skip
        failed = 0
        for j, o in enumerate(checks):
            v = _passed(comm[o.pass_col].iloc[ix])
            colour = PASS_COLOUR if v is True else FAIL_COLOUR if v is False else NO_DATA
            failed += v is False
            rects.append(Rectangle((x0 + j * cell_w + 0.25, yy + 0.2), cell_w - 0.5, row_h - 0.4))
            faces.append(_tint(colour, 0.55))
            marks[v].append((x0 + (j + 0.5) * cell_w, yy + 0.5 * row_h))
        page.text(x_end - 1.5, yy + 0.5 * row_h, str(failed), size, ha="right", va="center")
    ax.add_collection(PatchCollection(rects, facecolors=faces, linewidths=0, zorder=1))
    ms = (0.45 * row_h / _PT * page.k) ** 2  # marker area in points²
    for v, marker, lw in ((True, "o", 0.6), (False, "x", 0.8), (None, "_", 0.8)):
        if marks[v]:
            xy = np.asarray(marks[v])
            style: dict[str, Any] = {"facecolors": "none", "edgecolors": "black"} if v is True else {"color": "black"}
            ax.scatter(xy[:, 0], xy[:, 1], s=ms, marker=marker, linewidths=lw * page.k, zorder=2, **style)


def _warnings(page: _Page, ctx: _Context, chunk: list[int]) -> None:
    a = ctx.a
    y = page.heading("数据提示", "Data warnings")
    page.text(
        _MARGIN, y, "读入和计算时修复或假定的数据（整个评估），详见 shortfall.gpkg 的 warnings 表与 docs/errors.md。", 7
    )
    page.text(
        _MARGIN,
        y + 3.6,
        "Data that was repaired or assumed (the whole assessment): the warnings table of shortfall.gpkg, "
        "docs/errors.md.",
        6.5,
        color="#444444",
    )
    y += 8.5
    if not len(a.warnings):
        page.text(_MARGIN, y + 4, "没有数据提示。  No data warnings.", 9)
        return
    lines = _warning_lines(a)
    rows = []
    for i in chunk:
        r = a.warnings.iloc[i]
        rows.append([str(i + 1), str(_safe(r.get("code")) or ""), _num(r.get("count")), "\n".join(lines[i])])
    page.table(
        _MARGIN,
        y,
        [7, 33, 10, 130],
        ["#", "代码\nCode", "数量\nCount", "说明\nMessage"],
        rows,
        size=6.5,
        line_h=3.0,
        aligns=["right", "left", "right", "left"],
    )


# ------------------------------------------------------------------ writing
def _metadata(ctx: _Context) -> dict[str, Any]:
    from .. import settings

    when = settings.output_time().replace(microsecond=0)
    p = ctx.a.profile
    return {
        "Title": f"社区生活圈评估报告 Life-circle assessment report — {ctx.plan.area.title_zh}",
        "Subject": f"{getattr(p, 'name_zh', p.key)}",
        "Creator": f"servicecircle {__version__}",
        "CreationDate": when,
        "ModDate": when,
    }


def write_report(assessment: Assessment, path: str | Path, *, paper: str = "A4", district: str | None = None) -> Path:
    """Write the PDF report of ``assessment`` (or of one ``district``'s communities) to ``path``.

    Parameters
    ----------
    assessment
        The assessment.
    path
        The ``.pdf`` file to write.
    paper
        ``"A4"`` (default) or ``"A3"`` (the same pages, enlarged).
    district
        A value of the district column (:func:`district_column`): the report of
        that district's communities only.

    Returns
    -------
    Path
    """
    from matplotlib.backends.backend_pdf import PdfPages

    from .. import settings

    if paper not in PAPER_SIZES:
        raise ServiceCircleError(f"unknown paper size '{paper}'", fix="use A4 or A3")
    a = assessment
    path = Path(path)
    area = _area(a, district)
    plan = _plan(a, area)
    comm = metric_frame(a.communities)
    with _style():
        ctx = _Context(
            a=a,
            plan=plan,
            paper=paper,
            date=settings.output_time().strftime("%Y-%m-%d"),
            streets=_streets(a, comm.crs),
            comm=comm,
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with PdfPages(path, metadata=_metadata(ctx)) as pdf:
                total = len(plan.pages)
                for n, (kind, arg) in enumerate(plan.pages, start=1):
                    page = _Page(paper)
                    if kind == "cover":
                        _cover(page, ctx)
                    elif kind == "method":
                        _method(page, ctx)
                    elif kind == "scorecard":
                        _scorecard(page, ctx)
                    elif kind == "register":
                        _register(page, ctx, arg)
                    elif kind == "check":
                        _check_page(page, ctx, arg)
                    elif kind == "matrix":
                        _matrix(page, ctx, arg)
                    else:
                        _warnings(page, ctx, arg)
                    _footer(page, ctx, n, total)
                    pdf.savefig(page.fig)
        except OSError as exc:
            raise OutputError(
                f"cannot write the report ({exc.strerror})", file=path, fix="check the folder exists and is writable"
            ) from None
    return path


def write_reports(assessment: Assessment, folder: str | Path, *, paper: str = "A4") -> dict[str, Path]:
    """``report.pdf`` for the study area and ``report_<district>.pdf`` per district, in ``folder``.

    Returns
    -------
    dict
        ``"report"`` and ``"report_<district>"`` → path.
    """
    folder = Path(folder)
    out = {"report": write_report(assessment, folder / "report.pdf", paper=paper)}
    col = district_column(assessment.communities)
    if col is not None:
        taken = {"report.pdf"}
        for d in sorted(assessment.communities[col].dropna().astype(str).unique()):
            name = district_file_name(d, taken)
            out[name.removesuffix(".pdf")] = write_report(assessment, folder / name, paper=paper, district=d)
    return out
