"""The methods compared: servicecircle and its peers, each timed stage by stage.

Every method computes, for every category, the network distance from the
nearest facility of that category to every network node, then reads a distance
for every demand point. Node distances are compared with scipy's (the floor:
one compiled Dijkstra per category); demand-point distances are *not* compared
across methods, because the peers snap to the nearest node and servicecircle to
the nearest edge (the difference is reported separately).
"""

from __future__ import annotations

import time

import numpy as np

from .cases import Problem
from .measure import Recorder, quiet_stdout


class Agreement:
    """Max absolute difference of node distances against the reference, over categories."""

    def __init__(self, ref: list[np.ndarray] | None) -> None:
        self.ref = ref
        self.max_abs = 0.0
        self.compared = 0
        self.inf_mismatch = 0

    def add(self, k: int, d: np.ndarray) -> None:
        if self.ref is None:
            return
        r = self.ref[k]
        d = np.asarray(d, dtype=np.float64)[: len(r)]
        both = np.isfinite(r) & np.isfinite(d)
        self.inf_mismatch += int((np.isfinite(r) != np.isfinite(d)).sum())
        if both.any():
            self.max_abs = max(self.max_abs, float(np.abs(d[both] - r[both]).max()))
        self.compared += 1

    def text(self, total: int) -> str:
        if self.ref is None:
            return "reference"
        if self.compared == 0:
            return "n/a"
        s = f"{self.max_abs:.2e}"
        if self.inf_mismatch:
            s += f" ({self.inf_mismatch} reach mismatches)"
        if self.compared < total:
            s += f" ({self.compared}/{total} categories)"
        return s


def _budgeted(items, fn, budget: float):
    """Run ``fn`` over ``items`` until the projected total passes ``budget`` seconds.

    At least ``min(60 s, budget / 10)`` is spent before stopping, so that an
    extrapolation rests on more than one run. Returns ``(done, elapsed, projected_total)``.
    """
    t0 = time.perf_counter()
    done = 0
    floor = min(60.0, budget / 10)
    for it in items:
        fn(it)
        done += 1
        el = time.perf_counter() - t0
        if done < len(items) and el / done * len(items) > budget and el >= floor:
            break
    el = time.perf_counter() - t0
    return done, el, (el / done * len(items) if done else float("inf"))


def _nearest_node(P: Problem):
    from scipy.spatial import cKDTree

    tree = cKDTree(P.net.node_xy)
    dist, idx = tree.query(P.demand_xy)
    return idx, dist


# --------------------------------------------------------------------- scipy
def scipy_floor(rec: Recorder, P: Problem) -> list[np.ndarray]:
    """scipy ``csgraph.dijkstra(min_only=True)`` from all facility nodes of a category."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    m = "scipy floor (min_only)"
    rec.start_method(m)
    n = P.n
    with rec.stage(m, "build", "CSR matrix from the edge arrays"):
        g = sp.csr_array((np.r_[P.w, P.w], (np.r_[P.a, P.b], np.r_[P.b, P.a])), shape=(n, n))
    with rec.stage(m, "snapping", "nearest node (cKDTree), demand"):
        nn, acc = _nearest_node(P)
    ref = []
    with rec.stage(m, "distances", f"{len(P.categories)} categories") as row:
        for nodes in P.fac_nodes:
            d = dijkstra(g, directed=True, indices=nodes, min_only=True)
            ref.append(d)
            _ = d[nn] + acc
        row.extra["agreement"] = "reference"
    P._nn = (nn, acc)
    return ref


# ------------------------------------------------------------ servicecircle
def servicecircle_engine(rec: Recorder, P: Problem, ref) -> dict:
    """servicecircle: snap to the nearest edge, insert facilities, one Dijkstra per category."""
    from servicecircle.engine import DistanceEngine, snap_points

    m = "servicecircle"
    rec.start_method(m)
    fac_nodes = np.concatenate(P.fac_nodes)
    owner = np.concatenate([np.full(len(f), k) for k, f in enumerate(P.fac_nodes)])
    with rec.stage(m, "snapping", "facilities + demand to nearest edge, split graph, attach"):
        for index in ("edge_index", "segment_ends", "segment_grid"):  # snapping indexes belong to snapping: built here
            P.net.__dict__.pop(index, None)
        fs = snap_points(P.net, P.net.node_xy[fac_nodes])
        ds = snap_points(P.net, P.demand_xy)
        eng = DistanceEngine(P.net, fs)
        att = eng.attach(ds)
    agree = Agreement(ref)
    out = {}
    with rec.stage(m, "distances", f"{len(P.categories)} categories") as row:
        for k in range(len(P.categories)):
            nd = eng.node_distances(np.flatnonzero(owner == k))
            agree.add(k, nd[: P.n])
            out[k] = eng.point_distances(nd, att)
        row.extra["agreement"] = agree.text(len(P.categories))
    # demand: exact (nearest edge) versus the peers' nearest-node reading
    nn, acc = P._nn
    diffs = [np.nanmax(np.abs((ref[k][nn] + acc) - out[k])) for k in out if np.isfinite(out[k]).any()]
    means = [np.nanmean(np.abs((ref[k][nn] + acc) - out[k])) for k in out if np.isfinite(out[k]).any()]
    rec.rows[-1].extra["demand_vs_nearest_node"] = {
        "mean_abs_m": float(np.mean(means)) if means else None,
        "max_abs_m": float(np.max(diffs)) if diffs else None,
    }
    return {"engine": eng}


# ------------------------------------------------------------------ networkx
def networkx_build(rec: Recorder, P: Problem, m: str):
    import networkx as nx

    with rec.stage(m, "build", "nx.Graph from the edge arrays"):
        G = nx.Graph()
        G.add_nodes_from(range(P.n))
        G.add_weighted_edges_from(zip(P.a.tolist(), P.b.tolist(), P.w.tolist()), weight="length")
    return G


def _dict_to_array(d: dict, n: int) -> np.ndarray:
    arr = np.full(n, np.inf)
    arr[np.fromiter(d.keys(), dtype=np.int64, count=len(d))] = np.fromiter(d.values(), dtype=np.float64, count=len(d))
    return arr


def networkx_multi(rec: Recorder, P: Problem, ref, budget: float, G=None):
    """networkx ``multi_source_dijkstra_path_length`` per category."""
    import networkx as nx

    m = "networkx multi-source"
    rec.start_method(m)
    if G is None:
        G = networkx_build(rec, P, m)
    with rec.stage(m, "snapping", "nearest node (cKDTree, as osmnx.nearest_nodes)"):
        nn, acc = _nearest_node(P)
    agree = Agreement(ref)
    ks = list(range(len(P.categories)))

    def one(k):
        d = _dict_to_array(nx.multi_source_dijkstra_path_length(G, P.fac_nodes[k].tolist(), weight="length"), P.n)
        agree.add(k, d)
        _ = d[nn] + acc

    with rec.stage(m, "distances", f"{len(ks)} categories") as row:
        done, el, proj = _budgeted(ks, one, budget)
        if done < len(ks):
            row.seconds = proj
            row.status = "estimated"
            row.note = f"capped: {done}/{len(ks)} categories in {el:.0f} s, total extrapolated"
        row.extra["agreement"] = agree.text(len(ks))
    return G


def osmnx_way(rec: Recorder, P: Problem, ref, budget: float, G):
    """The osmnx-example way: one networkx Dijkstra per facility, then the minimum."""
    import networkx as nx

    m = "osmnx way (Dijkstra/facility)"
    rec.start_method(m)
    rec.add(m, "build", None, status="shared", note="same nx.Graph as networkx multi-source")
    agree = Agreement(ref)
    order = sorted(range(len(P.categories)), key=lambda k: len(P.fac_nodes[k]))
    items = [(k, int(f), i == len(P.fac_nodes[k]) - 1) for k in order for i, f in enumerate(P.fac_nodes[k])]
    acc = {}

    def one(item):
        k, f, last = item
        d = _dict_to_array(nx.single_source_dijkstra_path_length(G, f, weight="length"), P.n)
        acc[k] = d if k not in acc else np.minimum(acc[k], d)
        if last:
            agree.add(k, acc.pop(k))

    with rec.stage(m, "distances", f"{len(items)} single-source runs") as row:
        done, el, proj = _budgeted(items, one, budget)
        if done < len(items):
            row.seconds = proj
            row.status = "estimated"
            row.note = (
                f"capped: {done}/{len(items)} facilities in {el:.0f} s "
                f"({el / done * 1000:.0f} ms each), total extrapolated"
            )
        row.extra["agreement"] = agree.text(len(P.categories))
        row.extra["per_source_s"] = el / max(done, 1)
    acc.clear()


# -------------------------------------------------------------------- pandana
def pandana_peer(rec: Recorder, P: Problem, ref, budget: float) -> dict:
    """pandana: ``Network()`` (contraction hierarchies), ``precompute``, ``set_pois``, ``nearest_pois``."""
    import pandana
    import pandas as pd

    m = "pandana"
    rec.start_method(m)
    xy = P.net.node_xy
    with rec.stage(m, "build", "pandana.Network(): contraction hierarchies"):
        with quiet_stdout():
            pn = pandana.Network(
                pd.Series(xy[:, 0]),
                pd.Series(xy[:, 1]),
                pd.Series(P.a),
                pd.Series(P.b),
                pd.DataFrame({"length": P.w}),
                twoway=True,
            )
    build_s = rec.rows[-1].seconds
    r_max = max(P.radii)
    with rec.stage(m, "precompute", f"precompute({r_max:g}) (only aggregate() needs it)"):
        with quiet_stdout():
            pn.precompute(r_max)
    with rec.stage(m, "snapping", "get_node_ids (nearest node), demand"):
        pn.get_node_ids(pd.Series(P.demand_xy[:, 0]), pd.Series(P.demand_xy[:, 1]))
    b = P.net.bounds
    # beyond any walk in the network; whole metres, and the query a metre below the
    # preprocessing limit (pandana refuses a query "larger" than it after rounding)
    full = float(np.ceil(2.0 * ((b[2] - b[0]) + (b[3] - b[1]))))
    with rec.stage(m, "set_pois", f"{len(P.categories)} categories, maxdist {full + 1:,.0f} m"):
        with quiet_stdout():
            for k, nodes in enumerate(P.fac_nodes):
                pn.set_pois(f"c{k}", full + 1.0, 1, pd.Series(xy[nodes, 0]), pd.Series(xy[nodes, 1]))
    agree = Agreement(ref)
    ks = list(range(len(P.categories)))

    def q_full(k):
        d = pn.nearest_pois(full, f"c{k}", num_pois=1)[1].to_numpy()
        agree.add(k, d)

    with rec.stage(m, "distances", "nearest_pois, whole network (exact everywhere)") as row:
        done, el, proj = _budgeted(ks, q_full, budget)
        if done < len(ks):
            row.seconds, row.status = proj, "estimated"
            row.note = f"capped: {done}/{len(ks)} categories in {el:.0f} s, total extrapolated"
        row.extra["agreement"] = agree.text(len(ks))
    agree_r = _RadiusAgreement(ref, P.radii)

    def q_r(k):
        d = pn.nearest_pois(P.radii[k], f"c{k}", num_pois=1, max_distance=np.inf)[1].to_numpy()
        agree_r.add(k, d)

    with rec.stage(m, "distances @radius", "nearest_pois up to each category's radius (typical use)") as row:
        done, el, proj = _budgeted(ks, q_r, budget)
        if done < len(ks):
            row.seconds, row.status = proj, "estimated"
            row.note = f"capped: {done}/{len(ks)} categories in {el:.0f} s, total extrapolated"
        row.extra["agreement"] = agree_r.text()
    pn = None  # free the network (the closures above hold the same cell)
    return {"build_s": build_s}


def pandana_build_probe(rec: Recorder, nodes: int, cache_dir) -> None:
    """Time pandana's ``Network()`` alone on a smaller grid (basis of the estimate at 1M nodes)."""
    import pandana
    import pandas as pd

    from .synth import GridSpec, grid_arrays

    xy, u, v = grid_arrays(GridSpec(nodes))
    w = np.hypot(*(xy[u] - xy[v]).T)
    with rec.stage("pandana", "build probe", f"Network() alone on a {len(xy):,}-node grid") as row:
        with quiet_stdout():
            pn = pandana.Network(
                pd.Series(xy[:, 0]),
                pd.Series(xy[:, 1]),
                pd.Series(u),
                pd.Series(v),
                pd.DataFrame({"length": w}),
                twoway=True,
            )
        row.extra["nodes"] = len(xy)
    del pn


class _RadiusAgreement:
    """Agreement within the radius only (beyond it pandana returns no distance)."""

    def __init__(self, ref, radii):
        self.ref, self.radii = ref, radii
        self.max_abs, self.wrong_reach = 0.0, 0

    def add(self, k, d):
        r, rad = self.ref[k], self.radii[k]
        inside = r <= rad - 0.1  # keep clear of pandana's millimetre rounding at the edge
        self.wrong_reach += int((~np.isfinite(d[inside])).sum())
        ok = inside & np.isfinite(d)
        if ok.any():
            self.max_abs = max(self.max_abs, float(np.abs(d[ok] - r[ok]).max()))

    def text(self):
        s = f"{self.max_abs:.2e} within radius"
        if self.wrong_reach:
            s += f" ({self.wrong_reach} nodes within reach reported out of reach)"
        return s
