"""Drawing helpers the map writers share (the report figures and the PDF report).

Map furniture (north arrow, scale bar, attribution) and the colours of a
community by coverage or by checks failed. No writer imports another: what two
of them draw alike lives here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .style import COVERAGE_BINS, FAILED_BINS, NO_DATA

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .result import AssessmentResult as Assessment  # the protocol the writers read, not the record

__all__ = [
    "ATTRIBUTION",
    "metric_frame",
    "nice_length",
    "map_furniture",
    "failed_colours",
    "coverage_colour",
    "drawable",
]

ATTRIBUTION = "© OpenStreetMap contributors"


def metric_frame(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame in metres (its own CRS if projected, else a UTM zone)."""
    if frame.crs is not None and frame.crs.is_geographic:
        return frame.to_crs(frame.estimate_utm_crs())
    return frame


def nice_length(span: float) -> float:
    target = max(span / 5.0, 1.0)
    base = 10 ** math.floor(math.log10(target))
    for m in (5, 2, 1):
        if m * base <= target:
            return m * base
    return base


def map_furniture(fig: Figure, ax: Axes, a: Assessment, extent_width: float, *, scale: float = 1.0) -> None:
    """North arrow, scale bar and attribution (``scale`` multiplies the font sizes)."""
    from matplotlib.font_manager import FontProperties
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    ax.annotate(
        "北\nN",
        xy=(0.95, 0.97),
        xytext=(0.95, 0.85),
        xycoords="axes fraction",
        textcoords="axes fraction",
        ha="center",
        va="center",
        fontsize=9 * scale,
        fontweight="bold",
        arrowprops={"facecolor": "black", "edgecolor": "black", "width": 3, "headwidth": 9, "headlength": 9},
    )
    length = nice_length(extent_width)
    label = f"{length / 1000:g} 公里 km" if length >= 1000 else f"{length:g} 米 m"
    bar = AnchoredSizeBar(
        ax.transData,
        length,
        label,
        loc="lower left",
        pad=0.6,
        borderpad=0.6,
        sep=4,
        frameon=True,
        size_vertical=extent_width / 250,
        fontproperties=FontProperties(size=8 * scale),
    )
    bar.patch.set_alpha(0.75)
    ax.add_artist(bar)
    note = ATTRIBUTION
    source = str(a.communities.attrs.get("source") or "")
    if "approx" in source.lower():
        note += "    社区边界与户数为近似数据 approximate community boundaries and households"
    ax.text(0.0, -0.01, note, transform=ax.transAxes, fontsize=7 * scale, color="#444444", ha="left", va="top")


def failed_colours(comm: pd.DataFrame) -> list[str]:
    out = []
    for n, assessed in zip(comm["checks_failed"].to_numpy(), comm["checks_assessed"].to_numpy()):
        if not assessed:
            out.append(NO_DATA)
            continue
        for upper, colour, _ in FAILED_BINS:
            if n <= upper:
                out.append(colour)
                break
    return out


def coverage_colour(v: Any) -> str:
    if v is None or v is pd.NA or not np.isfinite(float(v)):
        return NO_DATA
    for upper, colour, _ in COVERAGE_BINS:
        if float(v) <= upper:
            return colour
    return COVERAGE_BINS[-1][1]


def drawable(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geom = frame.geometry
    return frame[~(geom.isna() | geom.is_empty)]
