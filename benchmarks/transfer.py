"""What a second worker would pay to help with one large area: the network shipped, or read back.

``python -m benchmarks.transfer --case grid1m --cache-dir out/bench/cache``

Times, for a cached synthetic network: reading it from the network cache (what
any worker can do, the cache being shared), and pickling it and unpickling it
(what sending it to another Dask worker costs). Prints one JSON line. Not a
test: docs/batch.md ("A very large area is one task") records the figures.
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
import warnings
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", default="grid1m")
    ap.add_argument("--cache-dir", default="out/bench/cache")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)

    from .cases import CASES
    from .synth import GridSpec, grid_network

    spec = CASES[args.case]
    if spec.nodes is None:
        raise SystemExit(f"{args.case} is not a synthetic grid case")
    warnings.simplefilter("ignore")
    res: dict[str, object] = {"case": args.case, "cache_read_s": [], "pickle_s": [], "unpickle_s": []}
    for _ in range(args.repeat):
        net, took, cached = grid_network(GridSpec(spec.nodes), Path(args.cache_dir))
        if not cached:
            continue  # it was built (and cached) this time: time the reads from now on
        res["cache_read_s"].append(round(took, 3))  # type: ignore[union-attr]
        t = time.perf_counter()
        blob = pickle.dumps(net, protocol=5)
        res["pickle_s"].append(round(time.perf_counter() - t, 3))  # type: ignore[union-attr]
        t = time.perf_counter()
        pickle.loads(blob)
        res["unpickle_s"].append(round(time.perf_counter() - t, 3))  # type: ignore[union-attr]
        res["pickle_mb"] = round(len(blob) / 2**20, 1)
        res["nodes"] = net.n_nodes
        del blob
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
