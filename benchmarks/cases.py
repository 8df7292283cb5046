"""The benchmark cases: one network, one set of facilities, one set of demand points each.

Every method of a case gets exactly these inputs. Facilities sit *on* network
nodes (the real Chengdu facilities are moved to their nearest node), so that
"distance from the nearest facility to every node" means the same thing for
every method and the methods can be compared node by node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .synth import GridSpec, category_sizes, community_squares, demand_points, facilities_on_nodes, grid_network

ROOT = Path(__file__).resolve().parents[1]
CHENGDU_OSM = ROOT / "data" / "network" / "chengdu_central_2018.osm.gz"


@dataclass
class CaseSpec:
    """What a case is made of (synthetic cases) or where it comes from (``chengdu``)."""

    name: str
    nodes: int | None = None  # None: the bundled Chengdu network
    demand: int = 0
    categories: int = 0
    community_m: float = 1000.0
    description: str = ""


CASES = {
    "chengdu": CaseSpec(
        "chengdu",
        description="bundled central-Chengdu OSM network, real OSM facilities "
        "(moved to their nearest node), demand sampled every 50 m in the demo communities",
    ),
    "grid200k": CaseSpec(
        "grid200k",
        200_000,
        20_000,
        5,
        description="synthetic street grid, ~200k nodes, 100 m blocks, 8 % of links removed",
    ),
    "grid1m": CaseSpec(
        "grid1m",
        1_000_000,
        100_000,
        30,
        description="synthetic street grid, ~1M nodes (a 100 km × 100 km megacity), "
        "100,000 demand points, 30 categories",
    ),
}
QUICK = {
    "chengdu": CASES["chengdu"],
    "grid200k": CaseSpec("grid200k", 10_000, 2_000, 5, description="quick: 10k-node grid"),
    "grid1m": CaseSpec("grid1m", 40_000, 5_000, 30, description="quick: 40k-node grid, 30 categories"),
}


def profile_keys(n: int) -> list[str]:
    """``n`` checked categories of the Meishan profile, widest radius first, spread over the list."""
    from servicecircle.profiles import load_profile

    prof = load_profile("meishan")
    keys = [
        k
        for k, c in sorted(prof.categories.items(), key=lambda kv: -kv[1].radius_m)
        if c.check and k not in ("public_green", "public_activity_space")
    ]
    if n >= len(keys):
        return keys[:n]
    pick = np.unique(np.round(np.linspace(0, len(keys) - 1, n)).astype(int))
    return [keys[i] for i in pick]


@dataclass
class Problem:
    """The inputs of one case, as every method sees them."""

    name: str
    net: object  # WalkNetwork
    categories: list[str]
    fac_nodes: list[np.ndarray]  # node indices per category
    radii: list[float]
    demand_xy: np.ndarray
    communities: object = None  # GeoDataFrame
    build_seconds: float | None = None
    from_cache: bool = False
    notes: list[str] = field(default_factory=list)
    # one simple undirected edge list (parallel edges reduced to the shortest, loops dropped)
    a: np.ndarray | None = None
    b: np.ndarray | None = None
    w: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.net.n_nodes

    @property
    def n_facilities(self) -> int:
        return int(sum(len(f) for f in self.fac_nodes))

    def simple_edges(self) -> None:
        net = self.net
        u, v, w = net.edge_u, net.edge_v, net.edge_length
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        keep = lo != hi
        lo, hi, w = lo[keep], hi[keep], w[keep]
        order = np.lexsort((w, hi, lo))
        lo, hi, w = lo[order], hi[order], w[order]
        first = np.r_[True, (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])]
        self.a, self.b, self.w = lo[first], hi[first], w[first]
        dropped = len(u) - len(self.a)
        if dropped:
            self.notes.append(f"{dropped} parallel edges/loops reduced to the shortest for the peers' simple graphs")

    def facilities_frame(self):
        import geopandas as gpd
        import shapely

        cats = np.concatenate([[c] * len(f) for c, f in zip(self.categories, self.fac_nodes)])
        nodes = np.concatenate(self.fac_nodes)
        return gpd.GeoDataFrame(
            {"category": cats, "name": [f"F{i}" for i in range(len(nodes))]},
            geometry=shapely.points(self.net.node_xy[nodes]),
            crs=self.net.crs,
        )

    def demand_frame(self):
        import geopandas as gpd
        import shapely

        rng = np.random.default_rng(3)
        return gpd.GeoDataFrame(
            {"households": rng.integers(1, 60, len(self.demand_xy)).astype(float)},
            geometry=shapely.points(self.demand_xy),
            crs=self.net.crs,
        )


#: How the end-to-end runs assess a synthetic grid (``sc.assess(comm, fac, net, **GRID_ASSESS)``,
#: demand from ``Problem.demand_frame()``), with ``GRID_SETTINGS`` applied to ``servicecircle.settings``:
#: worker processes chosen automatically, as the command line does (the Python API forks only when asked),
#: and nearest-facility searches bounded at 2 km (issue 15: exact to at least 2 km, twice the widest radius
#: of the profile; the run table's ``max_distance_m`` says where they stopped). ``--max-distance 0`` in
#: ``benchmarks.pipeline`` searches the whole network instead.
GRID_ASSESS = dict(profile="meishan", id_column="code", weight_column="households")
GRID_SETTINGS = dict(workers=None, max_distance=2000.0)


def grid_problem(spec: CaseSpec, cache_dir: Path) -> Problem:
    net, took, cached = grid_network(GridSpec(spec.nodes), cache_dir)
    keys = profile_keys(spec.categories)
    from servicecircle.profiles import load_profile

    prof = load_profile("meishan")
    # the widest radius gets the fewest facilities, as in a real city
    sizes = category_sizes(len(keys), net.n_nodes)
    fac = facilities_on_nodes(net.n_nodes, sizes)
    demand = demand_points(net.bounds, spec.demand)
    comm = community_squares(net.bounds, spec.community_m)
    p = Problem(
        spec.name,
        net,
        keys,
        fac,
        [float(prof.categories[k].radius_m) for k in keys],
        demand,
        comm,
        build_seconds=took,
        from_cache=cached,
    )
    p.simple_edges()
    return p


def chengdu_inputs():
    """The demo's communities, residential land and facilities (as the demo reads them)."""
    import servicecircle as sc
    from servicecircle.pipeline import demo_paths

    paths = demo_paths(ROOT / "data")
    comm = sc.read_boundaries(paths["boundaries"], id_column="code")
    fac = sc.read_facilities(paths["facilities"], layer="facilities")
    res = sc.read_layer(paths["residential"])
    return paths, comm, fac, res


def chengdu_problem(net) -> Problem:
    """The Chengdu case on an already loaded network."""
    import warnings

    from scipy.spatial import cKDTree

    from servicecircle.demand import sample_demand
    from servicecircle.profiles import load_profile

    _, comm, fac, res = chengdu_inputs()
    prof = load_profile("meishan")
    crs = net.crs
    fxy = np.column_stack([fac.geometry.to_crs(crs).x, fac.geometry.to_crs(crs).y])
    _, near = cKDTree(net.node_xy).query(fxy)
    cats, nodes, radii = [], [], []
    for cat in sorted(set(fac["category"])):
        sel = np.unique(near[(fac["category"] == cat).to_numpy()])
        c = prof.category_for(cat)
        cats.append(cat)
        nodes.append(sel)
        radii.append(float(c.radius_m) if c is not None else 500.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from servicecircle.assessment import community_population

        h, _ = community_population(comm, prof, "households", "residents", "code")
        sampled = sample_demand(comm.geometry.to_crs(crs), h, residential=res.geometry.to_crs(crs))
    dxy = np.column_stack([sampled.geometry.x, sampled.geometry.y])
    p = Problem("chengdu", net, cats, nodes, radii, dxy, comm.to_crs(crs))
    p.notes.append(
        f"{len(fac)} OSM facilities in {len(cats)} categories, moved to their nearest node "
        f"({p.n_facilities} distinct facility nodes)"
    )
    p.simple_edges()
    return p
