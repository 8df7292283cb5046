"""Growth: servicecircle's distance stage against nodes × categories.

For each network size and number of categories a fresh subprocess (so that
memory freed by one point cannot hide the next one's peak) loads the (cached) synthetic grid,
snaps the facilities and 0.1 demand points per node, then, for 1, 5 and 30
categories, times the distance stage (insert the facilities into the graph,
attach the demand, one Dijkstra per category, distances at the demand points)
and records its peak memory above the process's resident set before the stage.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .measure import peak_rss

SIZES = (50_000, 100_000, 200_000, 500_000, 1_000_000)
QUICK_SIZES = (5_000, 10_000, 20_000)
CATEGORIES = (1, 5, 30)


def _point(nodes: int, cache_dir: Path, categories=CATEGORIES) -> list[dict]:
    from servicecircle.engine import DistanceEngine, snap_points

    from .synth import GridSpec, category_sizes, demand_points, facilities_on_nodes, grid_network

    net, _, _ = grid_network(GridSpec(nodes), cache_dir)
    out = []
    for k in categories:
        sizes = category_sizes(k, net.n_nodes)
        fac = facilities_on_nodes(net.n_nodes, sizes)
        nodes_all = np.concatenate(fac)
        owner = np.concatenate([np.full(len(f), i) for i, f in enumerate(fac)])
        t = time.perf_counter()
        fs = snap_points(net, net.node_xy[nodes_all])
        ds = snap_points(net, demand_points(net.bounds, net.n_nodes // 10))
        snap_s = time.perf_counter() - t
        with peak_rss() as mem:
            t, c = time.perf_counter(), time.process_time()
            eng = DistanceEngine(net, fs)
            att = eng.attach(ds)
            for i in range(k):
                eng.point_distances(eng.node_distances(np.flatnonzero(owner == i)), att)
            took = time.perf_counter() - t
            cpu = time.process_time() - c
        out.append(
            {
                "nodes": net.n_nodes,
                "edges": net.n_edges,
                "categories": k,
                "facilities": int(len(nodes_all)),
                "demand": len(ds),
                "seconds": took,
                "cpu_seconds": cpu,
                "snap_seconds": snap_s,
                "peak_mb": mem["peak_mb"],
                "delta_mb": mem["peak_mb"] - mem["start_mb"],
            }
        )
        del eng, att, fs, ds
        gc.collect()
    return out


def run(cache_dir: Path, sizes=SIZES, categories=CATEGORIES, echo=True) -> list[dict]:
    """Each (size, categories) point in its own subprocess; returns all points."""
    points = []
    for n, k in ((n, k) for n in sizes for k in categories):
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.growth",
            "--nodes",
            str(n),
            "--categories",
            str(k),
            "--cache-dir",
            str(cache_dir),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
        if proc.returncode != 0:
            raise RuntimeError(f"growth point {n} failed:\n{proc.stderr[-3000:]}")
        got = json.loads(proc.stdout.strip().splitlines()[-1])
        points += got
        if echo:
            for p in got:
                print(
                    f"  growth {p['nodes']:>9,} nodes × {p['categories']:>2} categories: "
                    f"{p['seconds']:7.3f} s, Δ peak {p['delta_mb']:7.0f} MB",
                    flush=True,
                )
    return points


def fit_slope(x, y) -> float:
    x, y = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    return float(np.polyfit(x, y, 1)[0])


def plot(points: list[dict], path: Path) -> dict:
    """Log-log plot of time and memory against nodes × categories; returns the fitted slopes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nk = np.array([p["nodes"] * p["categories"] for p in points], float)
    sec = np.array([p["seconds"] for p in points])
    mem = np.array([max(p["delta_mb"], 1e-3) for p in points])
    cats = np.array([p["categories"] for p in points])
    slope_t = fit_slope(nk, sec)
    slope_c = fit_slope(nk, [max(p.get("cpu_seconds") or 1e-6, 1e-6) for p in points])
    slope_m = fit_slope(nk, mem)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    per_k: dict[bool, dict[int, float]] = {False: {}, True: {}}
    for ax, y, label, slope in (
        (axes[0], sec, "distance stage, wall seconds", slope_t),
        (axes[1], mem, "peak memory above baseline, MB", slope_m),
    ):
        nodes = nk / cats
        for k, marker in zip(sorted(set(cats)), "os^v"):
            sel = cats == k
            order = np.argsort(nk[sel])
            s_n = fit_slope(nodes[sel], y[sel]) if sel.sum() > 1 else float("nan")
            per_k[ax is axes[1]][int(k)] = s_n
            ax.loglog(
                nk[sel][order],
                y[sel][order],
                marker=marker,
                label=f"{k} categor{'y' if k == 1 else 'ies'} (slope in nodes {s_n:.2f})",
            )
        c = np.polyfit(np.log(nk), np.log(y), 1)
        xs = np.geomspace(nk.min(), nk.max(), 50)
        ax.loglog(xs, np.exp(np.polyval(c, np.log(xs))), "k--", lw=1, label=f"all points: slope {slope:.2f}")
        ax.set_xlabel("nodes × categories")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("servicecircle distance stage: growth with nodes × categories (log-log)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return {
        "time_slope": slope_t,
        "cpu_slope": slope_c,
        "memory_slope": slope_m,
        "time_slope_in_nodes": per_k[False],
        "memory_slope_in_nodes": per_k[True],
    }


def replot(results: Path, path: Path) -> dict:
    """Redraw the plot from a saved ``growth.json``."""
    import json

    d = json.loads(Path(results).read_text())
    d.update(plot(d["points"], Path(path)))
    Path(results).write_text(json.dumps(d, indent=1))
    return d


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, required=True)
    ap.add_argument("--categories", type=int, action="append")
    ap.add_argument("--cache-dir", required=True)
    args = ap.parse_args(argv)
    import warnings

    warnings.simplefilter("ignore")
    print(json.dumps(_point(args.nodes, Path(args.cache_dir), tuple(args.categories or CATEGORIES))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
