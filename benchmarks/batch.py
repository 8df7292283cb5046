"""The batch on Dask: ``python -m benchmarks.batch [--quick]``.

1. **Throughput** on real areas: the four central-Chengdu districts and the eight
   largest sub-districts of the demo (12 areas, each cut from the bundled OSM
   extract with its margin), run serially in this process (what one Dask task
   does, in a loop) and by ``assess_many`` on a ``LocalCluster`` of 1 and of 2
   worker processes. Networks and cuts are cached first (a warm-up batch), so
   every mode does the same work; cluster start-up is timed apart. Areas per
   minute and the peak memory of each worker process.
2. **A national-scale estimate**, measured then extrapolated: 300 synthetic
   city-sized areas whose network sizes follow a log-normal spread (median 150k
   nodes, clipped to 20k–2M), with the country's ~110,000 communities shared in
   proportion to network size. A sample of sizes is really run through the
   batch (one worker, the usual outputs: GeoPackage, QGIS project, map, CSV);
   time and peak worker memory are fitted against network size (power laws)
   and the fit summed over the 300 areas, then packed onto 32 workers (largest
   first) for the wall time, with the largest area's memory as what a worker needs.

Results: ``out/bench/batch/batch.json`` and the tables printed (recorded in
docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import resource
import shutil
import time
import warnings
from pathlib import Path

import numpy as np

from servicecircle.pipeline import demo_inputs

from .cases import ROOT, profile_keys
from .report import machine
from .synth import GridSpec, category_sizes, community_squares, demand_points, facilities_on_nodes, grid_network

DATA = ROOT / "data"
NETWORK = DATA / "network" / "chengdu_central_2018.osm.gz"
FACILITIES = DATA / "facilities" / "chengdu_facilities_osm.gpkg"
COMMUNITIES = DATA / "boundaries" / "chengdu_communities_approx.gpkg"
#: every Chengdu area's files and options but its boundaries: the demo's
CHENGDU = {k: v for k, v in demo_inputs(DATA).items() if k not in ("boundaries", "residential")}
COUNTRY_AREAS = 300
COUNTRY_COMMUNITIES = 110_000
CLUSTER_WORKERS = 32


def _peak_mb() -> float:
    """This process's peak resident memory so far (MB; Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cluster(n: int):
    from distributed import Client, LocalCluster

    t = time.perf_counter()
    cluster = LocalCluster(
        n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=logging.ERROR
    )
    client = Client(cluster)
    return cluster, client, time.perf_counter() - t


def chengdu_manifest(folder: Path) -> Path:
    """The 12 real areas: 4 districts (fence polygons) and the 8 largest sub-districts."""
    import geopandas as gpd
    import shapely

    from servicecircle.coords import gcj02_to_wgs84

    folder.mkdir(parents=True, exist_ok=True)
    comm = gpd.read_file(COMMUNITIES, layer="communities")
    rows = ["id,name,boundaries,area"]
    for code in sorted(comm["district_code"].unique()):
        fence = gpd.read_file(DATA / "sources" / "chengdu" / "adcode" / f"fence_{code}.json")

        def to_wgs84(xy):
            lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
            return np.column_stack([lon, lat])

        gpd.GeoDataFrame(geometry=shapely.transform(fence.geometry.to_numpy(), to_wgs84), crs=4326).to_file(
            folder / f"fence_{code}.geojson"
        )
        part = comm[comm["district_code"] == code]
        part.to_file(folder / f"d_{code}.gpkg", layer="communities")
        rows.append(f"{code},{part['district'].iloc[0]},d_{code}.gpkg,fence_{code}.geojson")
    for code in comm.groupby("subdistrict_code").size().sort_values(ascending=False).index[:8]:
        part = comm[comm["subdistrict_code"] == code]
        part.to_file(folder / f"s_{code}.gpkg", layer="communities")
        rows.append(f"{code},{part['subdistrict'].iloc[0]},s_{code}.gpkg,")
    path = folder / "areas.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def throughput(work: Path) -> dict:
    import servicecircle as sc
    from servicecircle.batch import read_manifest
    from servicecircle.batch.merge import merge_outputs
    from servicecircle.batch.run import _checked, _cut_groups, area_fingerprint, build_whole, run_area

    manifest = chengdu_manifest(work / "in")
    cache = work / "cache"
    res: dict = {"areas": None, "modes": {}}
    cluster, client, start = _cluster(1)
    try:  # warm-up: the whole network and every cut built once, into the shared cache
        t = time.perf_counter()
        warm = sc.assess_many(manifest, client=client, out=work / "warm", cache=cache, quiet=True, **CHENGDU)
        res["warm_up_s"] = time.perf_counter() - t
        res["areas"] = len(warm.summary)
        res["communities"] = int(warm.summary["communities"].sum())
    finally:
        client.close()
        cluster.close()
    n = res["areas"]
    # serially in this process: what one task does, area after area
    areas = [_checked(a) for a in read_manifest(manifest, CHENGDU)]
    groups = _cut_groups(areas)
    out = work / "serial"
    (out / "areas").mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    whole = build_whole(str(NETWORK), None, None, str(cache))
    for a in areas:
        rec = run_area(a, area_fingerprint(a, a.id in groups), str(out), str(cache), whole if a.id in groups else None)
        assert rec["status"] == "done", rec
    took = time.perf_counter() - t
    res["modes"]["serial (this process)"] = {
        "seconds": took,
        "areas_per_min": n / took * 60,
        "peak_mb_per_worker": _peak_mb(),
        "startup_s": 0.0,
        "load_avg": os.getloadavg()[0],
    }
    print(f"  serial: {took:.1f} s, {n / took * 60:.1f} areas/min, peak {_peak_mb():.0f} MB", flush=True)
    for workers in (1, 2):
        cluster, client, start = _cluster(workers)
        try:
            t = time.perf_counter()
            done = sc.assess_many(
                manifest, client=client, out=work / f"cluster{workers}", cache=cache, force=True, quiet=True, **CHENGDU
            )
            took = time.perf_counter() - t
            assert (done.summary["status"] == "done").all(), done.summary
            peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        finally:
            client.close()
            cluster.close()
        t = time.perf_counter()  # the merged outputs alone (the same work again)
        merge_outputs(work / f"cluster{workers}", done.summary.to_dict("records"), areas)
        merge = time.perf_counter() - t
        res["modes"][f"LocalCluster, {workers} worker{'s' if workers > 1 else ''}"] = {
            "seconds": took,
            "areas_per_min": n / took * 60,
            "peak_mb_per_worker": max(peaks.values()),
            "startup_s": start,
            "merge_s": merge,
            "task_s_sum": float(done.summary["seconds"].sum()),
            "load_avg": os.getloadavg()[0],
        }
        print(
            f"  {workers} worker(s): {took:.1f} s (+{start:.1f} s start; merge {merge:.1f} s, tasks "
            f"{done.summary['seconds'].sum():.1f} s summed), {n / took * 60:.1f} areas/min, "
            f"peak {max(peaks.values()):.0f} MB per worker, load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    return res


# ----------------------------------------------------------------------------------------- the country
def country_sizes(seed: int = 15) -> np.ndarray:
    """Network nodes of 300 city-sized areas: log-normal, median 150k, clipped to 20k–2M (seeded)."""
    rng = np.random.default_rng(seed)
    sizes = np.exp(rng.normal(math.log(150_000), 1.0, COUNTRY_AREAS))
    return np.clip(sizes, 20_000, 2_000_000).round().astype(int)


def synthetic_area(nodes: int, communities: int, folder: Path) -> dict:
    """A synthetic city of ``nodes`` nodes: its grid (a servicecircle .npz), communities, facilities, demand."""
    import geopandas as gpd
    import shapely

    folder.mkdir(parents=True, exist_ok=True)
    spec = GridSpec(nodes)
    net, _, _ = grid_network(spec, folder)
    x0, y0, x1, y1 = net.bounds
    size = math.sqrt((x1 - x0) * (y1 - y0) / max(communities, 1))
    comm = community_squares(net.bounds, size)
    comm.to_file(folder / "communities.gpkg", layer="communities")
    keys = profile_keys(10)
    fac_nodes = facilities_on_nodes(net.n_nodes, category_sizes(len(keys), net.n_nodes))
    cats = np.concatenate([[k] * len(f) for k, f in zip(keys, fac_nodes)])
    nodes_ix = np.concatenate(fac_nodes)
    gpd.GeoDataFrame(
        {"category": cats, "name": [f"F{i}" for i in range(len(nodes_ix))]},
        geometry=shapely.points(net.node_xy[nodes_ix]),
        crs=net.crs,
    ).to_file(folder / "facilities.gpkg", layer="facilities")
    xy = demand_points(net.bounds, max(nodes // 10, 1000))
    rng = np.random.default_rng(3)
    gpd.GeoDataFrame(
        {"households": rng.integers(1, 60, len(xy)).astype(float)}, geometry=shapely.points(xy), crs=net.crs
    ).to_file(folder / "demand.gpkg", layer="demand")
    return {
        "boundaries": folder / "communities.gpkg",
        "facilities": folder / "facilities.gpkg",
        "network": folder / f"{spec.key}.npz",
        "demand": folder / "demand.gpkg",
        "communities": len(comm),
        "nodes": net.n_nodes,
    }


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """``y = a x^b`` by least squares on logs: (a, b)."""
    b, log_a = np.polyfit(np.log(x), np.log(y), 1)
    return float(math.exp(log_a)), float(b)


def _pack(times: np.ndarray, workers: int) -> float:
    """Wall time of ``times`` on ``workers`` (largest first onto the least loaded worker)."""
    load = np.zeros(workers)
    for t in sorted(times, reverse=True):
        load[np.argmin(load)] += t
    return float(load.max())


def country(work: Path, sample: list[int]) -> dict:
    import servicecircle as sc

    sizes = country_sizes()
    per_node = COUNTRY_COMMUNITIES / sizes.sum()
    rows = []
    for n in sample:
        area = synthetic_area(n, int(round(n * per_node)), work / "synth" / f"n{n}")
        manifest = work / "synth" / f"n{n}.csv"
        manifest.write_text(
            "id,boundaries,facilities,network,demand\n"
            f"n{n},{area['boundaries']},{area['facilities']},{area['network']},{area['demand']}\n",
            encoding="utf-8",
        )
        cluster, client, _ = _cluster(1)  # a fresh worker per size: its peak memory is this area's
        try:
            t = time.perf_counter()
            result = sc.assess_many(
                manifest,
                client=client,
                out=work / "synth-out",
                cache=work / "synth-cache",
                force=True,
                quiet=True,
                id_column="code",
                weight_column="households",
                profile="meishan",
            )
            wall = time.perf_counter() - t
            peak = max(client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024).values())
        finally:
            client.close()
            cluster.close()
        rec = result.summary.iloc[0]
        assert rec["status"] == "done", rec["error"]
        rows.append(
            {"nodes": area["nodes"], "communities": area["communities"], "task_s": float(rec["seconds"]),
             "batch_s": wall, "peak_mb": peak, "load_avg": os.getloadavg()[0]}
        )  # fmt: skip
        print(
            f"  {area['nodes']:>9,} nodes, {area['communities']:>5,} communities: task {rec['seconds']:.1f} s, "
            f"peak {peak:.0f} MB, load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    x = np.array([r["nodes"] for r in rows], float)
    a_t, b_t = _fit(x, np.array([r["task_s"] for r in rows]))
    a_m, b_m = _fit(x, np.array([r["peak_mb"] for r in rows]))
    times = a_t * sizes.astype(float) ** b_t
    return {
        "sample": rows,
        "time_fit": {"a": a_t, "b": b_t},
        "memory_fit": {"a": a_m, "b": b_m},
        "areas": COUNTRY_AREAS,
        "communities": COUNTRY_COMMUNITIES,
        "nodes": {
            "min": int(sizes.min()),
            "median": int(np.median(sizes)),
            "max": int(sizes.max()),
            "total": int(sizes.sum()),
        },  # fmt: skip
        "worker_hours": float(times.sum() / 3600),
        "workers": CLUSTER_WORKERS,
        "wall_hours_32": _pack(times, CLUSTER_WORKERS) / 3600,
        "largest_area_s": float(times.max()),
        "memory_per_worker_gb": float(a_m * sizes.max() ** b_m / 1024),
        "extrapolated_beyond": int(x.max()),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.batch", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smaller sample for the national estimate (minutes)")
    ap.add_argument("--out", default=str(ROOT / "out" / "bench" / "batch"))
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args(argv)
    work = Path(args.out)
    for sub in ("serial", "warm", "cluster1", "cluster2", "synth-out"):
        shutil.rmtree(work / sub, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    res: dict = {"machine": machine()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not args.skip_throughput:
            print("throughput, 12 real Chengdu areas:", flush=True)
            res["throughput"] = throughput(work)
        sample = [20_000, 50_000] if args.quick else [20_000, 50_000, 100_000, 200_000]
        print(f"national estimate, sample {sample}:", flush=True)
        res["country"] = c = country(work, sample)
    print(
        f"\nMEASURED on {len(c['sample'])} areas up to {c['extrapolated_beyond']:,} nodes, THEN EXTRAPOLATED "
        f"(task time ≈ {c['time_fit']['a']:.3g}·n^{c['time_fit']['b']:.2f} s): {c['areas']} areas, "
        f"{c['nodes']['total']:,} nodes, {c['communities']:,} communities → {c['worker_hours']:.1f} worker-hours; "
        f"on {c['workers']} workers about {c['wall_hours_32']:.2f} h wall (largest area {c['largest_area_s']:.0f} s), "
        f"{c['memory_per_worker_gb']:.1f} GB per worker for the largest ({c['nodes']['max']:,} nodes)"
    )
    (work / "batch.json").write_text(json.dumps(res, indent=1, default=str), encoding="utf-8")
    print(f"→ {work / 'batch.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
