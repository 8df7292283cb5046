"""Siting solve times on the Chengdu demo: 1,000 and 10,000 candidate sites (issue 7).

    python -m benchmarks.siting [--out out/bench] [--k 10] [--time-limit 120]

The demo is assessed once (as ``servicecircle demo`` does); the candidate sites
are the street positions every 25 m inside the gaps of the chosen checks, from
which 1,000 and 10,000 are drawn at random (seeded; all of them when there are
fewer). For each check and pool size it solves maximal covering (k sites) and
set covering, exactly (HiGHS through ``scipy.optimize.milp``) and greedily, and
records the time to build the coverage matrix, the solve time, the status, the
weight covered and, for greedy, how far it falls short of the exact optimum.
Results: ``out/bench/siting.json`` and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from .report import machine, md_table

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ("kindergarten", "primary_school")
POOLS = (1_000, 10_000)


def _assess():
    import servicecircle as sc
    from servicecircle.pipeline import assess_files, demo_inputs

    sc.settings.progress = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return assess_files(**demo_inputs())


def run(out: Path, k: int = 10, time_limit: float = 120.0) -> dict:
    from servicecircle.siting import candidate_sites, propose_sites

    t = time.perf_counter()
    a = _assess()
    rows = []
    res = {"machine": machine(), "assess_s": time.perf_counter() - t, "k": k, "time_limit_s": time_limit, "rows": rows}
    for check in CHECKS:
        try:
            pool = candidate_sites(a, check, spacing=25.0)
        except Exception as exc:  # a check the demo cannot site: say so and go on
            print(f"{check}: no candidates ({exc})", file=sys.stderr)
            continue
        rng = np.random.default_rng(2026)
        for size in POOLS:
            take = np.sort(rng.choice(len(pool), size=min(size, len(pool)), replace=False))
            cands = pool.iloc[take].reset_index(drop=True)
            exact_value = {}
            for objective in ("max_cover", "set_cover"):
                for method in ("exact", "greedy"):
                    t0 = time.perf_counter()
                    r = propose_sites(
                        a,
                        check,
                        k=k if objective == "max_cover" else None,
                        objective=objective,
                        candidates=cands,
                        method=method,
                        time_limit=time_limit,
                    )
                    wall = time.perf_counter() - t0
                    value = len(r.sites) if objective == "set_cover" else r.solver["covered_weight"]
                    if method == "exact":
                        exact_value[objective] = value
                    row = {
                        "check": check,
                        "candidates": len(cands),
                        "pool": len(pool),
                        "objective": objective,
                        "method": method,
                        "wall_s": wall,
                        "matrix_s": r.solver["time_matrix_s"],
                        "solve_s": r.solver["time_solve_s"],
                        "status": r.solver.get("status"),
                        "mip_gap": r.solver.get("mip_gap"),
                        "sites": len(r.sites),
                        "covered_weight": r.solver["covered_weight"],
                        "demand_points": r.solver["demand_points"],
                        "demand_groups": r.solver["demand_groups"],
                        "citywide_before": r.citywide_before,
                        "citywide_after": r.citywide_after,
                    }
                    if method == "greedy" and objective in exact_value and exact_value[objective]:
                        row["vs_exact"] = value / exact_value[objective]
                    rows.append(row)
                    print(
                        f"{check:<16} {len(cands):>6} {objective:<9} {method:<6} {wall:7.2f} s "
                        f"(solve {row['solve_s']:.2f} s) {row['status']}  sites {row['sites']}  "
                        f"covered {row['covered_weight']:,.0f}",
                        flush=True,
                    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "siting.json").write_text(json.dumps(res, indent=1, default=str))
    return res


def table(res: dict) -> str:
    body = []
    for r in res["rows"]:
        extra = f"{100 * r['vs_exact']:.1f} % of exact" if "vs_exact" in r else ""
        what = f"{r['covered_weight']:,.0f} households" if r["objective"] == "max_cover" else f"{r['sites']} sites"
        body.append(
            [
                r["check"],
                f"{r['candidates']:,}",
                r["objective"],
                r["method"],
                f"{r['matrix_s']:.2f} s",
                f"{r['solve_s']:.2f} s",
                f"{r['wall_s']:.2f} s",
                str(r["status"]),
                what,
                extra,
            ]
        )
    return md_table(
        [
            "check",
            "candidates",
            "objective",
            "method",
            "coverage matrix",
            "solve",
            "total",
            "status",
            "result",
            "greedy vs exact",
        ],
        body,
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.siting", description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "out" / "bench"))
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--time-limit", type=float, default=120.0)
    args = ap.parse_args(argv)
    res = run(Path(args.out), args.k, args.time_limit)
    print()
    print(table(res))


if __name__ == "__main__":
    main()
