"""Snapping alone on a synthetic grid case: facilities + demand, the snapping index built in the run.

Run in a fresh process (the index is built once per network)::

    python -m benchmarks.snapping --case grid1m --cache-dir out/bench/cache            # one process
    python -m benchmarks.snapping --case grid1m --cache-dir out/bench/cache --auto     # workers as the pipeline

Prints one JSON object: wall and CPU seconds (this process and its worker processes), the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
import warnings
from pathlib import Path


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", default="grid1m")
    ap.add_argument("--cache-dir", required=True, help="where the case's network is cached (built if missing)")
    ap.add_argument("--auto", action="store_true", help="snap_points_parallel with workers chosen automatically")
    args = ap.parse_args(argv)

    import numpy as np

    from servicecircle import settings
    from servicecircle.engine.snapping import snap_points, snap_points_parallel

    from .cases import CASES, GRID_SETTINGS, grid_problem

    for name, value in GRID_SETTINGS.items():
        setattr(settings, name, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        P = grid_problem(CASES[args.case], Path(args.cache_dir))
    net = P.net
    fac = net.node_xy[np.concatenate(P.fac_nodes)]
    snap = snap_points_parallel if args.auto else snap_points
    t, c = time.perf_counter(), _cpu()
    f = snap(net, fac, settings.max_snap)
    d = snap(net, P.demand_xy, settings.max_snap)
    res = {
        "case": args.case,
        "mode": "auto" if args.auto else "one process",
        "points": len(fac) + len(P.demand_xy),
        "snapped": int(f.ok.sum() + d.ok.sum()),
        "wall_s": round(time.perf_counter() - t, 3),
        "cpu_s": round(_cpu() - c, 3),
        "load": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
