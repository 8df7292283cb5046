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
    for pkg in ("servicecircle", "numpy", "scipy", "shapely", "pyogrio", "geopandas", "pandas", "networkx",
                "osmnx", "osmium", "rasterio", "folium", "pandana", "psutil", "matplotlib"):
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
    return info


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
        body.append([r["method"], r["stage"], fmt_s(r["seconds"], r["status"]), cpu, fmt_mb(r["peak_mb"]),
                     fmt_mb(r["delta_mb"]), agree, note])
    return md_table(["method", "stage", "wall time", "CPU time", "peak RSS MB", "Δ over method start MB",
                     "max abs diff at nodes vs scipy (m)", "note"], body)


def summary_table(rows: list[dict]) -> str:
    """One line per method: build, snapping, distances, build + distances, memory, agreement."""
    methods = []
    for r in rows:
        if r["method"] not in methods:
            methods.append(r["method"])
    body = []
    for m in methods:
        rs = [r for r in rows if r["method"] == m]
        get = {r["stage"]: r for r in rs}
        build = get.get("build (warm: cache)") or get.get("load (cache)") or get.get("build")
        dist = get.get("distances")
        snap = get.get("snapping")

        def cell(r):
            return "—" if r is None else fmt_s(r["seconds"], r["status"])

        total = None
        est = False
        if dist is not None and dist["seconds"] is not None:
            total = dist["seconds"]
            est = dist["status"] == "estimated"
            b = get.get("build")
            if b is not None and b["seconds"] is not None:
                total += b["seconds"]
                est = est or b["status"] == "estimated"
        deltas = [r["delta_mb"] for r in rs if r["delta_mb"] is not None]
        agree = dist.get("extra", {}).get("agreement", "") if dist else ""
        body.append([m, cell(get.get("build")), cell(get.get("build (warm: cache)")), cell(snap), cell(dist),
                     fmt_s(total, "estimated" if est else "measured"),
                     fmt_mb(max(deltas) if deltas else None), agree])
    return md_table(["method", "network build", "cached load", "snapping", "distances, all categories",
                     "build + distances", "peak Δ RSS MB", "max abs diff at nodes (m)"], body)
