"""Is the gap map usable at city scale? Build it for a case and open it in Chromium.

    python -m benchmarks.mapload [--case grid1m] [--out out/bench]

Assesses the case (the synthetic grid from the benchmark cache; the network must
be cached, as ``python -m benchmarks --case grid1m`` leaves it), writes the gap
map offline (Leaflet embedded, no basemap, so nothing is fetched), then loads
it in headless Chromium (Playwright) and records: the page size per data
collection, the time to write the map, the time until the layer control is
there, the time to switch to another check's layer, and the JavaScript heap.
Results: ``out/bench/mapload-<case>.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
import warnings
from pathlib import Path

from .report import machine

ROOT = Path(__file__).resolve().parents[1]


def build_map(case: str, cache: Path, html: Path) -> dict:
    import servicecircle as sc
    import servicecircle.outputs.gapmap as gm
    from servicecircle import settings

    from .cases import CASES, GRID_ASSESS, GRID_SETTINGS, grid_problem

    for name, value in GRID_SETTINGS.items():
        setattr(settings, name, value)
    settings.progress = False
    settings.cache_folder = cache / "servicecircle"
    P = grid_problem(CASES[case], cache)
    if not P.from_cache:
        raise SystemExit(f"the {case} network is not cached yet: run python -m benchmarks --case {case} first")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = sc.assess(P.communities, P.facilities_frame(), P.net, demand=P.demand_frame(), **GRID_ASSESS)
        sizes: dict[str, int] = {}
        t = time.perf_counter()
        m = gm.gap_map(a, offline=True, tiles=None)
        for child in m._children.values():  # the shared data element: its collections' sizes
            if isinstance(child, gm._SharedData):
                sizes = dict(child.sizes)
        m.save(str(html))
        write_s = time.perf_counter() - t
    return {
        "case": case,
        "gaps": len(a.gaps),
        "communities": len(a.communities),
        "facilities": len(a.facilities),
        "checks": len(a.checks),
        "write_s": write_s,
        "html_mb": html.stat().st_size / 2**20,
        "collections_mb": {k: v / 2**20 for k, v in sizes.items()},
    }


def open_map(html: Path) -> dict:
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        page = b.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        t = time.perf_counter()
        page.goto(html.resolve().as_uri(), timeout=600_000)
        page.wait_for_selector(".leaflet-control-layers", timeout=600_000)
        load_s = time.perf_counter() - t
        page.locator(".leaflet-control-layers").hover()
        t = time.perf_counter()
        page.locator(".leaflet-control-layers-base label").nth(5).click(timeout=600_000)
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
        switch_s = time.perf_counter() - t
        heap = page.evaluate("() => performance.memory ? performance.memory.usedJSHeapSize : null")
        b.close()
    return {
        "load_s": load_s,
        "switch_layer_s": switch_s,
        "js_heap_mb": heap / 2**20 if heap else None,
        "page_errors": errors[:5],
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.mapload", description=__doc__.splitlines()[0])
    ap.add_argument("--case", default="grid1m")
    ap.add_argument("--out", default=str(ROOT / "out" / "bench"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    html = out / "pipeline" / args.case / "gap_map_offline.html"
    html.parent.mkdir(parents=True, exist_ok=True)
    res = {"machine": machine(), **build_map(args.case, out / "cache", html)}
    res.update(open_map(html))
    (out / f"mapload-{args.case}.json").write_text(json.dumps(res, indent=1, default=str))
    print(json.dumps({k: v for k, v in res.items() if k != "machine"}, indent=1, default=str))


if __name__ == "__main__":
    main()
