"""Run the benchmarks: ``python -m benchmarks [--quick] [--case NAME ...]``.

Cases: ``chengdu``, ``grid200k``, ``grid1m`` (servicecircle and its peers on one
network, one set of facilities and demand points per case, in this process;
servicecircle's full pipeline in a fresh subprocess), ``demo`` (the bundled demo
cold and warm, as subprocesses), ``growth`` (the distance stage at several
sizes × 1, 5, 30 categories, with a log-log plot) and ``siting`` (solve times for
1,000 and 10,000 candidate sites on the demo). Default: all of them.
Results go to ``out/bench/`` (JSON per case and ``report.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

from . import growth as growth_mod
from . import siting as siting_mod
from .cases import CASES, CHENGDU_OSM, QUICK, ROOT, CaseSpec, Problem, chengdu_problem, grid_problem
from .measure import Recorder
from .methods import networkx_multi, osmnx_way, pandana_build_probe, pandana_peer, scipy_floor, servicecircle_engine
from .report import fmt_mb, fmt_s, machine, md_table, stage_table, summary_table

ALL = ("chengdu", "grid200k", "grid1m", "demo", "growth", "siting")


def parse(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument(
        "--case", action="append", choices=ALL + ("all",), help="run only this case (repeatable; default: all)"
    )
    ap.add_argument("--quick", action="store_true", help="small sizes only (a smoke run, about a minute)")
    ap.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds a slow peer's distance stage may take before it is capped and "
        "extrapolated (default 600; 30 with --quick)",
    )
    ap.add_argument(
        "--pandana-1m",
        action="store_true",
        help="really build pandana's network at 1M nodes (long); estimated otherwise",
    )
    ap.add_argument("--no-pandana", action="store_true", help="leave pandana out")
    ap.add_argument("--map", action="store_true", default=True, help=argparse.SUPPRESS)
    ap.add_argument(
        "--profile",
        action="store_true",
        help="write pyinstrument profiles of the pipeline (and the warm demo) to out/bench/profiles/",
    )
    ap.add_argument("--demo-repeats", type=int, default=3)
    ap.add_argument(
        "--pipeline-only",
        action="store_true",
        help="rerun only servicecircle's end-to-end pipeline of the chosen cases, updating their JSON",
    )
    ap.add_argument(
        "--report-only",
        action="store_true",
        help="only rebuild out/bench/report.md from the JSON results already there",
    )
    ap.add_argument("--out", default=str(ROOT / "out" / "bench"), help="results folder (default out/bench)")
    ap.add_argument(
        "--plot",
        default=None,
        help="growth plot PNG (default docs/img/growth.png; out/bench/growth-quick.png with --quick)",
    )
    args = ap.parse_args(argv)
    if args.budget is None:
        args.budget = 30.0 if args.quick else 600.0
    cases = args.case or ["all"]
    args.cases = list(ALL) if "all" in cases else list(dict.fromkeys(cases))
    args.out = Path(args.out)
    args.cache = args.out / "cache"
    if args.plot is None:
        args.plot = args.out / "growth-quick.png" if args.quick else ROOT / "docs" / "img" / "growth.png"
    return args


def _header(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)), flush=True)


# ----------------------------------------------------------------- pipeline
def run_pipeline(args, case: str) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.pipeline",
        "--case",
        case,
        "--cache-dir",
        str(args.cache),
        "--out-dir",
        str(args.out / "pipeline"),
        "--map",
        "--excel",
    ]
    if args.quick:
        cmd.append("--quick")
    if args.profile:
        (args.out / "profiles").mkdir(parents=True, exist_ok=True)
        cmd += ["--profile", str(args.out / "profiles" / f"pipeline-{case}.txt")]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        print(f"  servicecircle pipeline FAILED:\n{proc.stderr[-2000:]}", flush=True)
        return {"error": proc.stderr[-4000:], "stages": {}, "wall_s": time.perf_counter() - t}
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["wall_s"] = time.perf_counter() - t
    for k, v in res["stages"].items():
        print(f"  {'servicecircle pipeline':<28} {k:<40} {v:9.3f} s", flush=True)
    print(
        f"  {'servicecircle pipeline':<28} {'cache → GeoPackage':<40} {res['pipeline_s']:9.3f} s  "
        f"peak RSS {res['peak_rss_mb']:,.0f} MB",
        flush=True,
    )
    return res


def pipeline_table(res: dict) -> str:
    if res.get("error"):
        return "servicecircle end to end: **failed**:\n\n```\n" + res["error"][-1500:] + "\n```"
    cpu = res.get("cpu", {})
    rows = [[k, fmt_s(v), fmt_s(cpu[k]) if k in cpu else ""] for k, v in res["stages"].items()]
    rows.append(["**cached network → GeoPackage**", f"**{fmt_s(res['pipeline_s'])}**", ""])
    rows.append(["peak RSS of the process (up to the GeoPackage)", f"{fmt_mb(res['peak_rss_mb'])} MB", ""])
    if "excel_peak_rss_mb" in res:
        rows.append(["peak RSS while writing the Excel workbook", f"{fmt_mb(res['excel_peak_rss_mb'])} MB", ""])
        if res.get("excel_unfinished"):
            rows.append(
                [
                    "Excel workbook",
                    f"**not finished**: stopped after {res['stages']['Excel (shortfall.xlsx)']:.0f} s",
                    "",
                ]
            )
        elif "excel_mb" in res:
            rows.append(["Excel workbook size", f"{res['excel_mb']:.1f} MB", ""])
    if res.get("note"):
        rows.append(["note", res["note"], ""])
    if "map_peak_rss_mb" in res:
        rows.append(["peak RSS while drawing the map", f"{fmt_mb(res['map_peak_rss_mb'])} MB", ""])
        if res.get("map_unfinished"):
            rows.append(["map HTML", f"**not finished**: stopped after {res['stages']['map (HTML)']:.0f} s", ""])
        elif "map_mb" in res:
            rows.append(["map HTML size", f"{res['map_mb']:.1f} MB", ""])
    rows.append(["GeoPackage size", f"{res['gpkg_mb']:.1f} MB", ""])
    rows.append(
        ["checks / gap rows / demand points", f"{res['checks']} / {res['gaps']:,} / {res['demand_points']:,}", ""]
    )
    if res.get("gap_grid_m"):
        rows.append(["gap grid cell", f"{res['gap_grid_m']:g} m", ""])
    return md_table(["servicecircle end to end, fresh process", "wall", "CPU"], rows)


# -------------------------------------------------------------------- cases
def build_servicecircle(rec: Recorder, spec: CaseSpec, args):
    """Time servicecircle's network build (cold) and cache load (warm); return the Problem."""
    from servicecircle import settings

    m = "servicecircle"
    settings.progress = False
    settings.cache_folder = args.cache / "servicecircle"
    if spec.nodes is None:
        import servicecircle as sc

        from .cases import chengdu_inputs

        _, comm, _, _ = chengdu_inputs()
        rec.start_method(m)
        with rec.stage(m, "build", "cold: parse OSM, build, project (cache off)"):
            sc.load_network(CHENGDU_OSM, study_area=comm, use_cache=False)
        sc.load_network(CHENGDU_OSM, study_area=comm)  # writes the cache entry
        with rec.stage(m, "build (warm: cache)", "warm: load the cached network"):
            net = sc.load_network(CHENGDU_OSM, study_area=comm)
        from servicecircle.network import network_from_arrays

        # like for like with pandana, whose Network() starts from node and edge arrays
        with rec.stage(m, "build (from arrays)", "network_from_arrays: the parsed network's nodes, edges, geometry"):
            network_from_arrays(net.node_xy, net.edge_u, net.edge_v, net.crs, geometry=net.edge_geometry)
        return chengdu_problem(net)
    from servicecircle.network import network_from_arrays
    from servicecircle.network.cache import load_cached_network, save_network

    from .synth import CRS, GridSpec, grid_arrays

    g = GridSpec(spec.nodes)
    xy, u, v = grid_arrays(g)
    rec.start_method(m)
    with rec.stage(m, "build", "network_from_arrays (edges, geometry, components)"):
        net = network_from_arrays(xy, u, v, CRS, source=g.key)
    path = args.cache / f"{g.key}.npz"
    with rec.stage(m, "cache write", "save_network (.npz)"):
        save_network(net, path)
    del net, xy, u, v
    with rec.stage(m, "build (warm: cache)", "load_cached_network"):
        load_cached_network(path)
    return grid_problem(spec, args.cache)


def pandana_estimate(rec: Recorder, P: Problem, args) -> None:
    """pandana at this size from the measured grid case, clearly marked as an estimate.

    Build: a power law in nodes fitted to pandana's two measured builds on grids
    (the 200k case and its quarter-size probe); queries: the measured time per
    category scaled linearly with nodes.
    """
    import math

    m = "pandana"
    f = args.out / "grid200k.json"
    d = json.loads(f.read_text()) if f.exists() else None
    rows = {r["stage"]: r for r in d["rows"] if r["method"] == "pandana"} if d else {}
    if "build" not in rows or not rows["build"]["seconds"]:
        rec.add(
            m,
            "build",
            None,
            status="skipped",
            note="not run at this size (--pandana-1m runs it); grid200k not measured, nothing to estimate from",
        )
        return
    n1, t1 = d["problem"]["nodes"], rows["build"]["seconds"]
    probe = rows.get("build probe")
    if probe and probe["seconds"]:
        n0, t0 = probe["extra"]["nodes"], probe["seconds"]
        expo = math.log(t1 / t0) / math.log(n1 / n0)
        basis = f"fitted on {n0:,} ({t0:.0f} s) and {n1:,} nodes ({t1:.0f} s)"
    else:
        expo, basis = 1.0, f"{t1:.0f} s at {n1:,} nodes, linear (a lower bound)"
    build = t1 * (P.n / n1) ** expo
    rec.add(m, "build", build, status="estimated", note=f"not run (--pandana-1m runs it): nodes^{expo:.2f}, {basis}")
    for stage in ("distances", "distances @radius"):
        r = rows.get(stage)
        if r and r["seconds"]:
            per_cat = r["seconds"] / d["problem"]["categories"]
            est = per_cat * (P.n / n1) * len(P.categories)
            rec.add(
                m,
                stage,
                est,
                status="estimated",
                note=f"{per_cat:.2f} s per category at {n1:,} nodes × node ratio × {len(P.categories)} categories",
            )


def run_case(name: str, args) -> dict:
    spec = (QUICK if args.quick else CASES)[name]
    _header(f"case {name}: {spec.description}")
    rec = Recorder(name)
    load0 = os.getloadavg()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        P = build_servicecircle(rec, spec, args)
        print(
            f"  {P.n:,} nodes, {P.net.n_edges:,} edges, {len(P.categories)} categories, "
            f"{P.n_facilities:,} facilities, {len(P.demand_xy):,} demand points",
            flush=True,
        )
        for note in P.notes:
            print(f"  note: {note}")
        ref = scipy_floor(rec, P)
        servicecircle_engine(rec, P, ref)
        pipe = run_pipeline(args, name)
        G = networkx_multi(rec, P, ref, args.budget)
        osmnx_way(rec, P, ref, args.budget, G)
        del G
        big = P.n > 300_000
        if args.no_pandana:
            rec.add("pandana", "build", None, status="skipped", note="--no-pandana")
        elif big and not args.pandana_1m:
            pandana_estimate(rec, P, args)
        elif args.quick and name == "grid1m":
            pandana_estimate(rec, P, args)
        else:
            pandana_peer(rec, P, ref, args.budget)
            if spec.nodes is not None and not args.quick:
                pandana_build_probe(rec, spec.nodes // 4, args.cache)
    rows = [r.to_dict() for r in rec.rows]
    dem = next(
        (
            r["extra"].get("demand_vs_nearest_node")
            for r in rows
            if r["method"] == "servicecircle" and r["stage"] == "distances"
        ),
        None,
    )
    result = {
        "case": name,
        "description": spec.description,
        "quick": args.quick,
        "problem": {
            "nodes": P.n,
            "edges": P.net.n_edges,
            "categories": len(P.categories),
            "category_keys": P.categories,
            "facilities": P.n_facilities,
            "facilities_per_category": [len(f) for f in P.fac_nodes],
            "demand": len(P.demand_xy),
            "communities": len(P.communities) if P.communities is not None else None,
            "notes": P.notes,
        },
        "load_average": {"start": load0, "end": os.getloadavg()},
        "rows": rows,
        "pipeline": pipe,
        "demand_vs_nearest_node": dem,
        "machine": machine(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=1, default=str))
    print()
    print(case_markdown(result))
    return result


def case_markdown(res: dict) -> str:
    p = res["problem"]
    parts = [
        f"### {res['case']}: {res['description']}",
        f"{p['nodes']:,} nodes, {p['edges']:,} edges, {p['categories']} categories, "
        f"{p['facilities']:,} facilities on nodes, {p['demand']:,} demand points"
        + (f", {p['communities']:,} communities" if p.get("communities") else "")
        + "."
        + (
            " Load average (1 min) at start / end: "
            f"{res['load_average']['start'][0]:.2f} / {res['load_average']['end'][0]:.2f}."
            if res.get("load_average")
            else ""
        ),
        "",
        summary_table(res["rows"]),
        "",
        stage_table(res["rows"]),
        "",
        pipeline_table(res["pipeline"]),
    ]
    dem = res.get("demand_vs_nearest_node")
    if dem and dem.get("mean_abs_m") is not None:
        parts += [
            "",
            f"Demand points, nearest-node reading (peers) vs servicecircle's nearest-edge distance: "
            f"mean |difference| {dem['mean_abs_m']:.1f} m, max {dem['max_abs_m']:.1f} m "
            "(a difference of definition, not an error of either).",
        ]
    return "\n".join(parts)


def run_demo(args) -> dict:
    from . import demo

    _header("demo: servicecircle demo, cold (empty cache) and warm")
    res = demo.run(repeats=1 if args.quick else args.demo_repeats)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import servicecircle.cli"], check=True, cwd=ROOT)
    res["import_s"] = time.perf_counter() - t
    print(f"  python -c 'import servicecircle.cli': {res['import_s']:.2f} s")
    if args.profile:
        (args.out / "profiles").mkdir(parents=True, exist_ok=True)
        demo.profile(args.out / "profiles" / "demo-warm.txt")
    res["machine"] = machine()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "demo.json").write_text(json.dumps(res, indent=1))
    return res


def demo_markdown(res: dict) -> str:
    rows = [
        [
            "cold (empty cache: OSM parsed)",
            f"{min(res['cold']):.2f} s",
            ", ".join(f"{x:.2f}" for x in res["cold"]),
            f"{min(res['cold_cpu']):.2f} s",
            f"{max(res['cold_rss_mb']):,.0f}",
            "< 20 s",
        ],
        [
            "warm (network cached)",
            f"{min(res['warm']):.2f} s",
            ", ".join(f"{x:.2f}" for x in res["warm"]),
            f"{min(res['warm_cpu']):.2f} s",
            f"{max(res['warm_rss_mb']):,.0f}",
            "< 5 s",
        ],
    ]
    return (
        md_table(["servicecircle demo", "best wall", "all runs (s)", "best CPU", "peak RSS MB", "target"], rows)
        + f"\n\nInterpreter start + `import servicecircle.cli` alone: {res['import_s']:.2f} s."
    )


def run_growth(args) -> dict:
    _header("growth: distance stage vs nodes × categories")
    sizes = growth_mod.QUICK_SIZES if args.quick else growth_mod.SIZES
    pts = growth_mod.run(args.cache, sizes)
    slopes = growth_mod.plot(pts, Path(args.plot))
    print(
        f"  fitted log-log slope: time {slopes['time_slope']:.2f} (cpu {slopes['cpu_slope']:.2f}), "
        f"memory {slopes['memory_slope']:.2f}; plot: {args.plot}"
    )
    res = {"points": pts, **slopes, "plot": str(args.plot), "machine": machine()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "growth.json").write_text(json.dumps(res, indent=1))
    return res


def growth_markdown(res: dict) -> str:
    rows = [
        [
            f"{p['nodes']:,}",
            p["categories"],
            f"{p['facilities']:,}",
            f"{p['demand']:,}",
            fmt_s(p["seconds"]),
            fmt_s(p.get("cpu_seconds")),
            fmt_mb(p["delta_mb"]),
        ]
        for p in res["points"]
    ]
    return (
        md_table(
            ["nodes", "categories", "facilities", "demand points", "distance stage (wall)", "CPU", "peak Δ MB"], rows
        )
        + f"\n\nFitted log-log slope against nodes × categories: wall time {res['time_slope']:.2f}, "
        f"CPU time {res.get('cpu_slope', float('nan')):.2f}, memory {res['memory_slope']:.2f}."
        + (
            ""
            if "time_slope_in_nodes" not in res
            else " At a fixed number of categories, against nodes: time "
            + ", ".join(f"{s:.2f} ({k} cat.)" for k, s in res["time_slope_in_nodes"].items())
            + "; memory "
            + ", ".join(f"{s:.2f} ({k} cat.)" for k, s in res["memory_slope_in_nodes"].items())
            + "."
        )
    )


def main(argv=None) -> int:
    args = parse(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    args.cache.mkdir(parents=True, exist_ok=True)
    info = machine()
    print(
        f"machine: {info['cpu']}, {info['usable_cpus']} usable CPUs, {info['ram_gb']} GB RAM, "
        f"Python {info['python']}; {info['date']}"
    )
    print(f"results: {args.out}{'  (quick)' if args.quick else ''}; servicecircle at {info.get('git')}")
    md = [
        f"# Benchmark report{' (quick)' if args.quick else ''}",
        "",
        f"`{' '.join(['python -m benchmarks'] + (argv if argv is not None else sys.argv[1:]))}` — "
        f"{info['cpu']}, {info['usable_cpus']} CPUs, {info['ram_gb']} GB, Python {info['python']}, "
        f"{info['date']}; servicecircle commit {info.get('git', {}).get('commit')} "
        f"({info.get('git', {}).get('src_files_modified')} files under src/ modified)",
        "",
    ]
    t0 = time.perf_counter()
    for case in args.cases:
        f = args.out / f"{case}.json"
        if args.report_only:
            if f.exists():
                res = json.loads(f.read_text())
                md += (
                    [case_markdown(res)]
                    if case in CASES
                    else ["### demo", "", demo_markdown(res)]
                    if case == "demo"
                    else ["### siting", "", siting_mod.table(res)]
                    if case == "siting"
                    else ["### growth", "", growth_markdown(res)]
                ) + [""]
            continue
        if args.pipeline_only:
            if case in CASES and f.exists():
                _header(f"pipeline only: {case}")
                res = json.loads(f.read_text())
                res["pipeline"] = run_pipeline(args, case)
                f.write_text(json.dumps(res, indent=1, default=str))
                md += [case_markdown(res), ""]
            continue
        if case in CASES:
            md += [case_markdown(run_case(case, args)), ""]
        elif case == "demo":
            md += ["### demo", "", demo_markdown(run_demo(args)), ""]
        elif case == "growth":
            md += ["### growth", "", growth_markdown(run_growth(args)), ""]
        elif case == "siting":
            _header("siting: 1,000 and 10,000 candidate sites on the Chengdu demo")
            md += ["### siting", "", siting_mod.table(siting_mod.run(args.out)), ""]
    (args.out / "report.md").write_text("\n".join(md))
    if args.report_only:
        print("\n".join(md))
    print(f"\nall done in {time.perf_counter() - t0:.0f} s; report: {args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
