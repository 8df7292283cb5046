"""servicecircle end to end in a fresh process: cached network → assess → GeoPackage (→ map).

Run by the harness as a subprocess, so that its peak memory is its own::

    python -m benchmarks.pipeline --case grid1m --cache-dir out/bench/cache --out-dir out/bench/pipeline

Prints one JSON object (stage timings, peak RSS) as its last line of output.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

from .measure import _status_kb, peak_rss


def _timed_apart(res: dict, label: str, key: str, timeout: float, fn, path: Path) -> None:
    """Time ``fn`` (wall, CPU, peak RSS of its own); stop it after ``timeout`` seconds."""
    import signal

    def _stop(signum, frame):
        raise TimeoutError

    old = signal.signal(signal.SIGALRM, _stop)
    with peak_rss() as mem:
        t, c = time.perf_counter(), time.process_time()
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            fn()
            signal.setitimer(signal.ITIMER_REAL, 0)
            res[f"{key}_mb"] = path.stat().st_size / 2**20
        except TimeoutError:
            res[f"{key}_unfinished"] = True
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        res["stages"][label] = time.perf_counter() - t
        res["cpu"][label] = time.process_time() - c
    res[f"{key}_peak_rss_mb"] = mem["peak_mb"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--cache-dir", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--map", action="store_true", help="also time the gap map (separately)")
    ap.add_argument("--excel", action="store_true", help="also time the Excel workbook (separately)")
    ap.add_argument(
        "--map-timeout",
        type=float,
        default=600.0,
        help="stop drawing the map after this many seconds and report it as not finished",
    )
    ap.add_argument(
        "--excel-timeout",
        type=float,
        default=600.0,
        help="stop writing the Excel workbook after this many seconds and report it as not finished",
    )
    ap.add_argument("--profile", metavar="FILE", help="pyinstrument profile of assess + GeoPackage to FILE")
    ap.add_argument(
        "--max-distance",
        type=float,
        default=None,
        help="settings.max_distance in metres for the synthetic grids (default the case's, 2000; 0: the whole network)",
    )
    ap.add_argument(
        "--no-lattice-cache",
        action="store_true",
        help="snap the gap-grid cells afresh (default: cached beside the network, as `servicecircle run` does)",
    )
    args = ap.parse_args(argv)

    import servicecircle as sc
    from servicecircle import settings

    from .cases import CASES, GRID_ASSESS, GRID_SETTINGS, QUICK, chengdu_inputs, grid_problem

    for name, value in GRID_SETTINGS.items():
        setattr(settings, name, value)
    if args.max_distance is not None:
        settings.max_distance = args.max_distance or None
    settings.progress = False
    settings.cache_folder = Path(args.cache_dir) / "servicecircle"
    spec = (QUICK if args.quick else CASES)[args.case]
    res: dict = {"case": args.case, "stages": {}}
    t_all = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if spec.nodes is None:
            paths, comm, fac, resid = chengdu_inputs()
            t = time.perf_counter()
            net = sc.load_network(paths["network"], study_area=comm)
            res["stages"]["network (cache)"] = time.perf_counter() - t
            if "cache_file" not in net.info:
                raise SystemExit("the Chengdu network was not in the cache; the harness writes it first")
            kwargs = dict(profile="meishan", id_column="code", name_column="name", residential=resid)
            dem = None
        else:
            t = time.perf_counter()
            P = grid_problem(spec, Path(args.cache_dir))
            if not P.from_cache:
                raise SystemExit("the network is not cached yet; the harness writes it first")
            res["stages"]["network (cache)"] = P.build_seconds
            res["stages"]["(making the synthetic inputs, not counted)"] = time.perf_counter() - t - P.build_seconds
            net, comm, fac, dem = P.net, P.communities, P.facilities_frame(), P.demand_frame()
            kwargs = dict(GRID_ASSESS, demand=dem)
        from servicecircle.network.cache import lattice_store

        store = None if args.no_lattice_cache else lattice_store(net)
        if store is not None:
            res["lattice_cached"] = any(store.folder.glob(f"{store.key}.lattice-*.npz"))
            kwargs["lattice_store"] = store
        res["max_distance_m"] = settings.max_distance
        res["nodes"], res["edges"] = net.n_nodes, net.n_edges
        res["facilities"], res["communities"] = len(fac), len(comm)

        prof = None
        if args.profile:
            from pyinstrument import Profiler

            prof = Profiler(interval=0.005)
            prof.start()
        res["cpu"] = {}
        t, c = time.perf_counter(), time.process_time()
        result = sc.assess(comm, fac, net, **kwargs)
        res["stages"]["assess total"] = time.perf_counter() - t
        res["cpu"]["assess total"] = time.process_time() - c
        for k, v in result.timings.items():
            if k != "total" and isinstance(v, float) and not k.endswith("_m"):
                res["stages"][f"assess: {k}"] = v
        res["demand_points"] = len(result.demand)
        res["checks"] = len(result.checks)
        res["gaps"] = len(result.gaps)
        res["gap_grid_m"] = result.timings.get("gap_grid_m")
        out = Path(args.out_dir) / args.case
        from servicecircle.outputs import save_assessment

        t, c = time.perf_counter(), time.process_time()
        try:  # the GeoPackage (with its QGIS styles) and the CSV: what the target counts
            written = save_assessment(result, out, write_map=False, excel=False)
            excel = True
        except TypeError:  # a servicecircle without the Excel output
            written = save_assessment(result, out, write_map=False)
            excel = False
        res["stages"]["GeoPackage + CSV"] = time.perf_counter() - t
        res["cpu"]["GeoPackage + CSV"] = time.process_time() - c
        if prof is not None:
            prof.stop()
            Path(args.profile).write_text(prof.output_text(unicode=True, color=False, show_all=False))
        res["gpkg_mb"] = written["geopackage"].stat().st_size / 2**20
        res["pipeline_s"] = (
            res["stages"]["network (cache)"] + res["stages"]["assess total"] + res["stages"]["GeoPackage + CSV"]
        )
        res["peak_rss_mb"] = (_status_kb("VmHWM") or 0) / 1024
        if excel and args.excel:  # opt-in (servicecircle run --excel): timed apart
            from servicecircle.outputs.excel import write_excel

            _timed_apart(
                res,
                "Excel (shortfall.xlsx)",
                "excel",
                args.excel_timeout,
                lambda: write_excel(result, out / "shortfall.xlsx"),
                out / "shortfall.xlsx",
            )
        if args.map:
            from servicecircle.outputs import gap_map

            _timed_apart(
                res,
                "map (HTML)",
                "map",
                args.map_timeout,
                lambda: gap_map(result).save(str(out / "gap_map.html")),
                out / "gap_map.html",
            )
    res["process_s"] = time.perf_counter() - t_all
    res["process_cpu_s"] = time.process_time()
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
