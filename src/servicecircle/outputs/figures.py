"""Static report figures (matplotlib, Agg): citywide overview, one check, the scorecard.

Every figure has a bilingual title and legend. Chinese text needs a CJK font:
:func:`cjk_font` finds one (Noto Sans CJK from Debian's ``fonts-noto-cjk``,
Source Han Sans, WenQuanYi, Microsoft YaHei, SimHei ...) through matplotlib's
font list, the system font folders and ``fc-list``, and raises
:class:`~servicecircle.errors.OutputError` saying how to install one when there
is none: a figure never shows empty boxes for Chinese characters silently. Set
``SERVICECIRCLE_CJK_FONT`` to a font file to choose one.

``make_*`` return a :class:`matplotlib.figure.Figure` (shown inline in a
notebook); ``figure_*`` write it to a file (PNG at the asked DPI, or PDF/SVG by
the file extension). The same figure gives the same file, byte for byte: a PNG
holds no date, a PDF or SVG the date ``settings.output_timestamp`` (not the
clock's), and an SVG's ids are salted with a fixed salt.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import OutputError, ServiceCircleError
from ..schema import flag_column, green_rule_key
from .drawing import ATTRIBUTION
from .drawing import coverage_colour as _coverage_colour
from .drawing import drawable as _drawable
from .drawing import failed_colours as _failed_colours
from .drawing import map_furniture as _furniture
from .drawing import metric_frame as _metric
from .fonts import PREFERRED_FONTS, cjk_font
from .labels import FAIL_TEXT, PASS_TEXT, check_labels
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
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..checks.context import CheckOutcome
    from .result import AssessmentResult as Assessment  # the protocol the writers read, not the record

__all__ = [
    "cjk_font",
    "make_overview",
    "make_check",
    "make_scorecard",
    "figure_overview",
    "figure_check",
    "figure_scorecard",
    "ATTRIBUTION",
    "PREFERRED_FONTS",
]


@contextlib.contextmanager
def _style() -> Iterator[None]:
    """matplotlib settings for every figure: the CJK font first, DejaVu Sans as fallback.

    The families are named (not the generic ``sans-serif``), so every text keeps
    them when the figure is drawn later outside this context (inline in a notebook).
    """
    import matplotlib

    family, _ = cjk_font()
    with matplotlib.rc_context(
        {
            "font.family": [family, "DejaVu Sans"],
            "axes.unicode_minus": False,
            "svg.fonttype": "none",
            "pdf.fonttype": 42,
        }
    ):
        yield


def _new_figure(size: tuple[float, float]) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _file_metadata(path: Path) -> dict[str, Any] | None:
    """The date a PDF, SVG or PostScript file carries: ``settings.output_timestamp``, not the clock's.

    A PNG carries none (matplotlib writes only ``Software``, its version), nor do the other formats.
    """
    from .. import settings

    kind = path.suffix.lower().lstrip(".")
    if kind not in ("pdf", "svg", "ps", "eps"):
        return None
    when = settings.output_time().replace(microsecond=0)
    if kind == "pdf":
        return {"CreationDate": when}
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"Date": stamp} if kind == "svg" else {"CreationDate": stamp}


def _save(fig: Figure, path: str | Path, dpi: float) -> Path:
    import matplotlib

    path = Path(path)
    metadata = _file_metadata(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # an SVG's element ids are hashes salted with a random uuid unless given a salt
        with _style(), matplotlib.rc_context({"svg.hashsalt": "servicecircle"}):
            if metadata is None:
                fig.savefig(path, dpi=dpi, facecolor="white")
            else:
                fig.savefig(path, dpi=dpi, facecolor="white", metadata=metadata)
    except OSError as exc:
        raise OutputError(
            f"cannot write the figure ({exc.strerror})", file=path, fix="check the folder exists and is writable"
        ) from None
    return path


# ------------------------------------------------------------------ map furniture
def _legend(ax: Axes, items: list[tuple[str, str, dict[str, Any]]], title: str) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Artist] = []
    for kind, label, style in items:
        if kind == "patch":
            handles.append(Patch(label=label, **style))
        else:
            handles.append(Line2D([], [], linestyle="", label=label, **style))
    ax.figure.legend(
        handles=handles,
        title=title,
        loc="outside lower center",
        ncols=min(len(handles), 4),
        fontsize=8,
        title_fontsize=9,
        frameon=False,
    )


def _map_axes(fig: Figure, frame: gpd.GeoDataFrame) -> tuple[Axes, float]:
    ax = fig.add_subplot(1, 1, 1)
    ax.set_aspect("equal", adjustable="datalim")  # the map fills the axes whatever the city's shape
    ax.set_axis_off()
    xmin, ymin, xmax, ymax = frame.total_bounds
    if not np.all(np.isfinite([xmin, ymin, xmax, ymax])):
        xmin, ymin, xmax, ymax = 0.0, 0.0, 1000.0, 1000.0
    pad = 0.03 * max(xmax - xmin, ymax - ymin, 1.0)
    ax.update_datalim([(xmin - pad, ymin - pad), (xmax + pad, ymax + pad)])
    ax.margins(0)
    ax.autoscale_view()
    return ax, (xmax - xmin)


# ------------------------------------------------------------------ figures
def make_overview(assessment: Assessment, *, figsize: tuple[float, float] = (8.0, 8.6)) -> Figure:
    """Communities coloured by how many checks they fail (a :class:`~matplotlib.figure.Figure`)."""
    a = assessment
    with _style():
        comm = _metric(a.communities)
        fig = _new_figure(figsize)
        shown = _drawable(comm)
        ax, width = _map_axes(fig, shown if len(shown) else comm)
        if len(shown):
            shown.plot(ax=ax, color=_failed_colours(shown), edgecolor="white", linewidth=0.4)
        items = [("patch", label, {"facecolor": colour, "edgecolor": "white"}) for _, colour, label in FAILED_BINS]
        items.append(("patch", "无数据 no data", {"facecolor": NO_DATA, "edgecolor": "white"}))
        _legend(ax, items, "未达标项数 Checks failed")
        p = a.profile
        n_checks = len([o for o in a.checks if o.pass_col])
        fig.suptitle("社区生活圈达标概览 Life-circle overview", fontsize=14, fontweight="bold")
        ax.set_title(
            f"{getattr(p, 'name_zh', p.key)} — {len(comm)} 个社区 communities, {n_checks} 项检查 checks",
            fontsize=9,
            color="#333333",
        )
        _furniture(fig, ax, a, width)
    return fig


def _find_check(a: Assessment, key: str) -> CheckOutcome:
    for o in a.checks:
        if o.key == key:
            return o
    keys = ", ".join(o.key for o in a.checks) or "none"
    raise ServiceCircleError(f"no check '{key}' in this assessment", fix=f"use one of: {keys}")


def make_check(assessment: Assessment, check_key: str, *, figsize: tuple[float, float] = (8.0, 8.6)) -> Figure:
    """One check: communities by coverage (or pass/fail), its gap polygons and its facilities."""
    a = assessment
    o = _find_check(a, check_key)
    with _style():
        comm = _metric(a.communities)
        crs = comm.crs
        fig = _new_figure(figsize)
        shown = _drawable(comm)
        ax, width = _map_axes(fig, shown if len(shown) else comm)
        items: list[tuple[str, str, dict]] = []
        if o.cov_col and o.cov_col in shown.columns:
            colours = [_coverage_colour(v) for v in shown[o.cov_col].to_numpy(dtype=float, na_value=np.nan)]
            items += [
                ("patch", label, {"facecolor": colour, "edgecolor": "white"}) for _, colour, label in COVERAGE_BINS
            ]
            legend_title = "覆盖率 Coverage"
        else:
            passed = shown[o.pass_col] if o.pass_col in shown.columns else pd.Series([None] * len(shown))
            colours = [
                PASS_COLOUR if v is True or v == 1 else FAIL_COLOUR if v is False or v == 0 else NO_DATA
                for v in passed.astype(object).where(passed.notna(), None)
            ]
            items += [
                ("patch", f"{PASS_TEXT} passed", {"facecolor": PASS_COLOUR, "edgecolor": "white"}),
                ("patch", f"{FAIL_TEXT} failed", {"facecolor": FAIL_COLOUR, "edgecolor": "white"}),
            ]
            legend_title = "结果 Result"
        items.append(("patch", "无数据 no data", {"facecolor": NO_DATA, "edgecolor": "white"}))
        if len(shown):
            shown.plot(ax=ax, color=colours, edgecolor="white", linewidth=0.4, zorder=1)
        gaps = a.gaps[a.gaps["check"] == o.key] if "check" in a.gaps.columns else a.gaps.iloc[0:0]
        gaps = _drawable(gaps)
        if len(gaps):
            gaps.to_crs(crs).plot(ax=ax, facecolor="none", edgecolor=GAP_COLOUR, hatch="////", linewidth=0.0, zorder=2)
            gaps.to_crs(crs).boundary.plot(ax=ax, color=GAP_COLOUR, linewidth=0.5, zorder=2)
            items.append(("patch", "服务缺口 gap", {"facecolor": "white", "edgecolor": GAP_COLOUR, "hatch": "////"}))
        rule = green_rule_key(o.key)  # green spaces for the green and park reach checks
        green_flag = flag_column(rule) if rule in ("green", "park") else None
        spaces = a.layers.get("greenspace")
        if green_flag and spaces is not None and len(spaces):
            sel = spaces[spaces[green_flag].astype(bool)] if green_flag in spaces.columns else spaces
            sel = _drawable(sel)
            if len(sel):
                sel.to_crs(crs).plot(
                    ax=ax, facecolor=GREEN_COLOUR, edgecolor=GREEN_OUTLINE, linewidth=0.4, alpha=0.8, zorder=3
                )
                items.append(
                    (
                        "patch",
                        "绿地 green space" if rule == "green" else "公园 park",
                        {"facecolor": GREEN_COLOUR, "edgecolor": GREEN_OUTLINE},
                    )
                )
        elif o.category:
            fac = a.facilities[a.facilities["category_key"] == o.category]
            fac = _drawable(fac)
            if len(fac):
                fac.to_crs(crs).plot(
                    ax=ax, color="black", markersize=14, marker="o", edgecolor="white", linewidth=0.5, zorder=4
                )
                items.append(
                    (
                        "marker",
                        f"{o.name_zh} {o.name_en}",
                        {"marker": "o", "color": "black", "markeredgecolor": "white", "markersize": 6},
                    )
                )
        _legend(ax, items, legend_title)
        fig.suptitle(_check_title(o), fontsize=14, fontweight="bold")
        ax.set_title(_check_subtitle(a, o), fontsize=9, color="#333333")
        _furniture(fig, ax, a, width)
    return fig


def _check_title(o: CheckOutcome) -> str:
    """``幼儿园 ≤300米  Kindergarten ≤ 300 m`` (without repeating a radius the name already has)."""
    zh, en = check_labels(o)
    return f"{zh}  {en}"


def _check_subtitle(a: Assessment, o: CheckOutcome) -> str:
    """Citywide coverage (or value) against the target, and the communities failed."""
    row = a.summary[a.summary["check"] == o.key]
    parts = []
    if len(row):
        r = row.iloc[0]
        cov = r.get("citywide_coverage_pct")
        if cov is not None and pd.notna(cov):
            target = r.get("target_pct")
            parts.append(
                f"全市覆盖率 citywide {float(cov):.1f}%"
                + (f"（目标 target {float(target):g}%）" if target is not None and pd.notna(target) else "")
            )
        elif pd.notna(r.get("city_value", np.nan)):
            target = r.get("city_target")
            target = f"{float(target):g}" if target is not None and pd.notna(target) else "—"
            parts.append(f"全市 citywide {float(r['city_value']):.2f} {r.get('city_unit', '')}（目标 target {target}）")
        if pd.notna(r.get("communities_assessed", np.nan)):
            parts.append(f"未达标社区 failed {int(r['communities_failed'])}/{int(r['communities_assessed'])}")
    return "；".join(parts)


def make_scorecard(assessment: Assessment, *, width: float = 9.0) -> Figure:
    """Citywide value against target for every scorecard row (horizontal bars)."""
    a = assessment
    sc = a.scorecard.reset_index(drop=True)
    n = max(len(sc), 1)
    with _style():
        fig = _new_figure((width, 0.42 * n + 1.8))
        ax = fig.add_subplot(1, 1, 1)
        labels, values, targets, colours, texts = [], [], [], [], []
        for _, r in sc.iterrows():
            value = float(r["value"]) if pd.notna(r["value"]) else np.nan
            target = float(r["target"]) if pd.notna(r["target"]) else np.nan
            unit = str(r["unit"] or "")
            if unit.startswith("%"):
                x, tx = value, target
                text = f"{value:.1f}%" if np.isfinite(value) else "—"
            else:  # a quantity: drawn as the share of its target
                x = 100.0 * value / target if np.isfinite(value) and np.isfinite(target) and target else np.nan
                tx = 100.0
                shown = f"{value:,.2f}" if np.isfinite(value) else "—"
                text = f"{shown} / {target:,.6g} {unit}"
            passed = r["passed"]
            colour = NO_DATA if passed is None or pd.isna(passed) else (PASS_COLOUR if bool(passed) else FAIL_COLOUR)
            labels.append(f"{r['name_zh']}\n{r['name_en']}")
            values.append(x)
            targets.append(tx)
            colours.append(colour)
            texts.append(text)
        y = np.arange(len(labels))[::-1]
        vals = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)
        ax.barh(y, np.minimum(vals, 150.0), color=colours, height=0.62, zorder=2)
        for yi, t in zip(y, targets):
            if np.isfinite(t):
                ax.plot([min(t, 150.0)] * 2, [yi - 0.4, yi + 0.4], color="black", linewidth=1.6, zorder=3)
        for yi, v, text in zip(y, vals, texts):
            ax.text(min(v, 150.0) + 1.5, yi, text, va="center", fontsize=7.5, zorder=4)
        ax.set_yticks(y, labels, fontsize=7.5)
        ax.set_xlim(0, 150 if (vals > 100).any() else 125)
        ax.set_ylim(-0.7, len(labels) - 0.3)
        ax.set_xlabel(
            "全市覆盖率，或指标值占目标的比例 (%)  citywide coverage, or value as a share of the target (%)", fontsize=8
        )
        ax.grid(axis="x", color="#dddddd", zorder=0)
        ax.spines[["top", "right"]].set_visible(False)
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        fig.legend(
            handles=[
                Patch(color=PASS_COLOUR, label=f"{PASS_TEXT} passed"),
                Patch(color=FAIL_COLOUR, label=f"{FAIL_TEXT} failed"),
                Patch(color=NO_DATA, label="无数据 no data"),
                Line2D([], [], color="black", linewidth=1.6, label="目标 target"),
            ],
            loc="outside lower center",
            ncols=4,
            fontsize=8,
            frameon=False,
        )
        p = a.profile
        fig.suptitle("全市指标 Citywide scorecard", fontsize=13, fontweight="bold")
        ax.set_title(f"{getattr(p, 'name_zh', p.key)}", fontsize=8.5, color="#333333")
        fig.text(0.01, 0.003, ATTRIBUTION, fontsize=7, color="#444444", ha="left", va="bottom")
    return fig


def figure_overview(assessment: Assessment, path: str | Path, dpi: float = 300) -> Path:
    """Write the citywide overview map (communities by checks failed); return the path."""
    return _save(make_overview(assessment), path, dpi)


def figure_check(assessment: Assessment, check_key: str, path: str | Path, dpi: float = 300) -> Path:
    """Write the map of one check (coverage, gaps, facilities); return the path."""
    return _save(make_check(assessment, check_key), path, dpi)


def figure_scorecard(assessment: Assessment, path: str | Path, dpi: float = 300) -> Path:
    """Write the citywide scorecard bar chart; return the path."""
    return _save(make_scorecard(assessment), path, dpi)
