"""Metres against minutes on one network: ``python -m benchmarks.walking [--nodes 200000] [--repeats 3]``.

Times, on the benchmarks' synthetic grid (``grid200k``: ~200k nodes, 20,000 demand
points, 5 categories), the distance stage as the assessment runs it — engine
built, demand attached, one Dijkstra per category and the pairs within the widest
radius — in metres (:class:`DistanceEngine`, today's path) and in seconds for the
elderly, flat and with terrain (:class:`CostEngine`, directed). Prints one JSON
line; the best of ``--repeats`` runs per variant (the machine is shared).
Run it with ``PYTHONPATH=<an older checkout>/src`` to time that checkout's metre path.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

from .cases import CASES, CaseSpec, grid_problem


def _stage(engine_cls, P, *extra) -> float:
    from servicecircle.engine import snap_points

    t0 = time.perf_counter()
    fac_nodes = np.concatenate(P.fac_nodes)
    owner = np.concatenate([np.full(len(f), k) for k, f in enumerate(P.fac_nodes)])
    eng = engine_cls(P.net, snap_points(P.net, P.net.node_xy[fac_nodes]), *extra)
    att = eng.attach(snap_points(P.net, P.demand_xy))
    for k, r in enumerate(P.radii):
        members = np.flatnonzero(owner == k)
        nd = eng.node_distances(members)
        eng.point_distances(nd, att)
        eng.within(members, att, r / extra[0].max_speed if extra else r)
    return time.perf_counter() - t0


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.walking", description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", choices=("metre", "flat", "slope"), help="time one variant only (for farm-bench --vs)")
    ap.add_argument("--cache", default=str(Path(__file__).resolve().parents[1] / "out" / "bench" / "cache"))
    args = ap.parse_args(argv)
    base = CASES["grid200k"]
    spec = CaseSpec(base.name, args.nodes, base.demand, base.categories, description=base.description)
    P = grid_problem(spec, Path(args.cache))
    P.net.segment_grid  # noqa: B018 - the snapping index, built once for every variant
    from servicecircle.engine import DistanceEngine

    out: dict = {"nodes": P.n, "edges": int(P.net.n_edges), "categories": len(P.categories)}
    if args.only in (None, "metre"):
        out["metre_s"] = min(_stage(DistanceEngine, P) for _ in range(args.repeats))
    if args.only == "metre":
        print(json.dumps(out))
        return out
    try:
        from servicecircle.engine.weighted import CostEngine
        from servicecircle.network.slope import terrain_from_function
        from servicecircle.network.walking import edge_times, load_walking_groups
    except ImportError:  # an older checkout: metres only
        print(json.dumps(out))
        return out
    elderly = load_walking_groups()["elderly"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flat = edge_times(P.net, elderly)
        if args.only in (None, "slope"):
            t0 = time.perf_counter()
            terrain = terrain_from_function(P.net, lambda x, y: 40 * np.sin(x / 900) * np.cos(y / 700), step=25.0)
            hilly = edge_times(P.net, elderly, terrain)
            out["terrain_build_s"] = time.perf_counter() - t0
    if args.only in (None, "flat"):
        out["time_flat_s"] = min(_stage(CostEngine, P, flat) for _ in range(args.repeats))
    if args.only in (None, "slope"):
        out["time_slope_s"] = min(_stage(CostEngine, P, hilly) for _ in range(args.repeats))
    if args.only is None:
        out["ratio_flat"] = out["time_flat_s"] / out["metre_s"]
        out["ratio_slope"] = out["time_slope_s"] / out["metre_s"]
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
