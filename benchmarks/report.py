"""Tables (markdown, also printed) and the machine description."""

from __future__ import annotations

import datetime as _dt
import os
import platform


def machine() -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import psutil

    info = {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    from importlib.metadata import PackageNotFoundError, version

    libs = {}
    for pkg in (
        "servicecircle",
        "numpy",
        "scipy",
        "shapely",
        "pyogrio",
        "geopandas",
        "pandas",
        "networkx",
        "osmnx",
        "osmium",
        "rasterio",
        "folium",
        "pandana",
        "psutil",
        "matplotlib",
    ):
        try:
            libs[pkg] = version(pkg)
        except PackageNotFoundError:
            libs[pkg] = None
    try:
        import shapely

        libs["GEOS"] = shapely.geos_version_string
    except Exception:
        pass
    info["libraries"] = libs
    info["git"] = _git()
    return info


def _git() -> dict:
    """The commit measured, and how many files differed from it (read-only git commands)."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.splitlines()
        return {"commit": head, "src_files_modified": len(dirty)}
    except (OSError, subprocess.CalledProcessError):
        return {}


def fmt_s(x, status="measured") -> str:
    if x is None:
        return "—"
    s = f"{x:.3f}" if x < 10 else f"{x:.1f}" if x < 1000 else f"{x:,.0f}"
    if status == "estimated":
        s = f"≈{s} (est.)"
    return s + " s"


def fmt_mb(x) -> str:
    return "—" if x is None else f"{x:,.0f}"


def md_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def stage_table(rows: list[dict]) -> str:
    """Every stage of every method."""
    body = []
    for r in rows:
        agree = r.get("extra", {}).get("agreement", "")
        note = r["note"]
        if r["status"] not in ("measured", "estimated"):
            note = f"**{r['status']}**: {note}"
        cpu = "—" if r.get("cpu_seconds") is None else fmt_s(r["cpu_seconds"])
        body.append(
            [
                r["method"],
                r["stage"],
                fmt_s(r["seconds"], r["status"]),
                cpu,
                fmt_mb(r["peak_mb"]),
                fmt_mb(r["delta_mb"]),
                agree,
                note,
            ]
        )
    return md_table(
        [
            "method",
            "stage",
            "wall time",
            "CPU time",
            "peak RSS MB",
            "Δ over method start MB",
            "max abs diff at nodes vs scipy (m)",
            "note",
        ],
        body,
    )


#: stages that count towards a method's total "network → distances at every node and demand point"
TOTAL_STAGES = ("build", "snapping", "set_pois", "distances")


def summary_table(rows: list[dict]) -> str:
    """One line per method: build, snapping, distances, their total, ratio to scipy, memory, agreement."""
    methods = []
    for r in rows:
        if r["method"] not in methods:
            methods.append(r["method"])
    by = {m: {r["stage"]: r for r in rows if r["method"] == m} for m in methods}
    for m in list(methods):  # pandana's usual query (up to each radius) as a line of its own
        if "distances @radius" in by[m]:
            name = f"{m} (queries up to each radius only)"
            by[name] = {k: v for k, v in by[m].items() if k != "distances"}
            by[name]["distances"] = by[m]["distances @radius"]
            methods.insert(methods.index(m) + 1, name)
    floor = by.get("scipy floor (min_only)", {}).get("distances")
    body = []
    for m in methods:
        get = by[m]

        def cell(r):
            return "—" if r is None or r["seconds"] is None else fmt_s(r["seconds"], r["status"])

        parts = [get[s] for s in TOTAL_STAGES if s in get and get[s]["seconds"] is not None]
        total = sum(r["seconds"] for r in parts) if parts else None
        est = any(r["status"] == "estimated" for r in parts)
        dist = get.get("distances")
        ratio = (
            "—"
            if dist is None or dist["seconds"] is None or floor is None
            else f"{'≈' if dist['status'] == 'estimated' else ''}{dist['seconds'] / floor['seconds']:.2f}×"
        )
        deltas = [r["delta_mb"] for r in get.values() if r["delta_mb"] is not None]
        agree = dist.get("extra", {}).get("agreement", "") if dist else ""
        body.append(
            [
                m,
                cell(get.get("build")),
                cell(get.get("build (warm: cache)")),
                cell(get.get("snapping")),
                cell(dist),
                ratio,
                fmt_s(total, "estimated" if est else "measured"),
                fmt_mb(max(deltas) if deltas else None),
                agree,
            ]
        )
    return md_table(
        [
            "method",
            "network build",
            "cached load",
            "snapping",
            "distances, all categories",
            "distances ÷ scipy floor",
            "build + snapping + distances",
            "peak Δ RSS MB",
            "max abs diff at nodes (m)",
        ],
        body,
    )
