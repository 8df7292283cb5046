"""The colours every output draws with: the gap map, the QGIS styles and the report figures.

One palette, so a community is the same colour on the web map, in QGIS and in a
printed figure.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "COVERAGE_BINS",
    "FAILED_BINS",
    "FAILED_SHARE_BINS",
    "STREET_COLOUR",
    "UNCONFIRMED_COLOUR",
    "NO_DATA",
    "GAP_COLOUR",
    "GREEN_COLOUR",
    "GREEN_OUTLINE",
    "PASS_COLOUR",
    "FAIL_COLOUR",
    "PALETTE",
]

#: (upper bound of coverage %, colour, label) — red is worst.
COVERAGE_BINS: Final = (
    (50.0, "#b2182b", "< 50%"),
    (80.0, "#ef8a62", "50–80%"),
    (95.0, "#fddbc7", "80–95%"),
    (100.0 - 1e-9, "#d1e5f0", "95–<100%"),
    (float("inf"), "#67a9cf", "100%"),
)
#: (max checks failed, colour, label)
FAILED_BINS: Final = (
    (0, "#1a9850", "0"),
    (2, "#fee08b", "1–2"),
    (5, "#fc8d59", "3–5"),
    (float("inf"), "#d73027", "≥ 6"),
)
#: (upper bound of the share of a community's assessed checks it fails, %, colour, label): the
#: web map's overview, which tells apart a community failing 18 of 22 checks from one failing all.
FAILED_SHARE_BINS: Final = (
    (0.0, "#1a9850", "0%（全部达标 all pass）"),
    (25.0, "#ffffb2", "< 25%"),
    (50.0, "#fed976", "25–50%"),
    (75.0, "#feb24c", "50–75%"),
    (90.0, "#fd8d3c", "75–90%"),
    (100.0 - 1e-9, "#e31a1c", "90–<100%"),
    (float("inf"), "#67000d", "100%（全部未达标 all fail）"),
)
#: The walking network drawn as street context on the web map.
STREET_COLOUR: Final = "#8c8c8c"
#: The badge of a threshold the profile marks unconfirmed.
UNCONFIRMED_COLOUR: Final = "#b35806"
#: Communities without demand data, checks that could not be assessed.
NO_DATA: Final = "#bdbdbd"
#: Gap polygons.
GAP_COLOUR: Final = "#54278f"
#: Green spaces, and their outline.
GREEN_COLOUR: Final = "#5aae61"
GREEN_OUTLINE: Final = "#1b7837"
#: A community (or the city) that passes / fails a check.
PASS_COLOUR: Final = "#1a9850"
FAIL_COLOUR: Final = "#d73027"
#: One colour per facility category, in order.
PALETTE: Final = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
)
