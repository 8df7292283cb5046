"""Write the example notebooks from this script (so they stay reviewable as code).

Run: .venv/bin/python tools/make_notebooks.py  — notebooks are stored without outputs;
CI executes them (tests/test_notebooks.py).
"""

from __future__ import annotations

from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).resolve().parents[1] / "notebooks"


def notebook(cells: list[tuple[str, str]]) -> nbf.NotebookNode:
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
                for kind, src in cells]
    return nb


QUICKSTART = [
    ("md", """# servicecircle quickstart — 社区生活圈缺口分析入门

This notebook runs the bundled demo step by step: central Chengdu (OpenStreetMap, 2018), checked against the
**Meishan 14th Five-Year community plan** profile (GB 50180-2018 life circles).

> **Approximate data.** The community polygons and household numbers of the demo are *estimates* made from public
> data (Voronoi cells around real community centres, households from mapped residential land); they are not
> official. See `data/README.md`. 社区边界与户数为近似估算，非官方数据。"""),
    ("code", """import warnings
import servicecircle as sc
from servicecircle.pipeline import demo_paths

paths = demo_paths()   # the files under data/
paths"""),
    ("md", """## 1. Inputs 输入

Community boundaries (polygons with a 12-digit code and estimated households) and facilities (points with a
`category` column). Every layer's coordinate system is read from its file."""),
    ("code", """communities = sc.read_boundaries(paths["boundaries"], id_column="code")
facilities = sc.read_facilities(paths["facilities"], layer="facilities")
residential = sc.read_layer(paths["residential"])
print(communities.crs, len(communities), "communities;", len(facilities), "facilities")
communities[["code", "name", "district", "households", "residents"]].head()"""),
    ("code", """facilities["category"].value_counts().head(12)"""),
    ("md", """## 2. The walking network 步行路网

Read from the local OSM extract (only walkable ways, as osmnx's `walk` network type), simplified, undirected and
projected to the CGCS2000 Gauss-Krüger zone of the study area. Built once, then cached."""),
    ("code", """network = sc.load_network(paths["network"], study_area=communities)
network"""),
    ("md", """## 3. The standard 标准

A profile is a TOML file; every number cites its source, and numbers that could not be confirmed are flagged."""),
    ("code", """profile = sc.load_profile("meishan")
profile.categories_frame().head(10)"""),
    ("md", """## 4. Assess 评估

Demand points are sampled every 50 m inside each community's residential land and carry its households.
Distances are exact walking distances: snapped to the nearest point of the nearest street, access legs included."""),
    ("code", """with warnings.catch_warnings():
    warnings.simplefilter("ignore")   # the warnings are kept in result.warnings
    result = sc.assess(communities, facilities, network, profile=profile, id_column="code",
                       name_column="name", residential=residential)
result"""),
    ("code", """result.summary[["name_zh", "name_en", "radius_m", "communities_passed", "communities_failed",
                "citywide_coverage_pct"]].style.format({"citywide_coverage_pct": "{:.1f}%"}).hide(axis="index")"""),
    ("code", """cols = ["code", "name", "weight_total", "checks_failed", "cov_kindergarten", "cov_primary_school"]
result.communities[cols].sort_values("checks_failed", ascending=False).head(10)"""),
    ("code", """result.warnings[["code", "count", "message"]]"""),
    ("md", """## 5. The gap map 缺口地图

Switch between the overview and one layer per check (radio buttons, top right); hover or click for numbers.
`offline=True` embeds Leaflet so the map also opens without internet."""),
    ("code", """m = result.map(offline=True)
m"""),
    ("md", """## 6. Save 保存

`shortfall.gpkg` (CGCS2000, EPSG:4490) with the layers `communities`, `demand`, `facilities`, `gaps` and the
tables `summary`, `checks`, `warnings`, `run`; `gap_map.html`; `summary.csv` (UTF-8 with BOM, opens in Excel)."""),
    ("code", """import tempfile, pathlib
out = pathlib.Path(tempfile.mkdtemp()) / "demo"
written = result.save(out, map_options={"offline": True})
written"""),
]


def main() -> None:
    HERE.mkdir(exist_ok=True)
    nbf.write(notebook(QUICKSTART), HERE / "01-quickstart.ipynb")


if __name__ == "__main__":
    main()
