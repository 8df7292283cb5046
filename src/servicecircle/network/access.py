"""Gates, fences and private ways: the walking network with OSM access honoured.

Today's network follows osmnx's walk filter: ways tagged ``access=private``,
``foot=no`` or ``service=private`` are left out, and barrier nodes are ignored
(a locked gate is walked through). With access rules the network is built from
every walkable way, and:

* **ways** — ``foot=yes|designated|permissive`` opens a way whatever its
  ``access``; otherwise ``foot=no`` or ``access=no`` closes it to everyone,
  ``foot=private``, ``access=private`` or ``service=private`` makes it *private*;
* **barrier nodes** — ``barrier=gate``, ``lift_gate``, ``swing_gate``,
  ``kissing_gate``, ``turnstile``, ``entrance``, ``bollard``… are passable and
  ``barrier=fence``, ``wall``, ``hedge``, ``block``, ``retaining_wall``… are not;
  the node's own ``foot``/``access`` tags then decide as for ways (a gate with
  ``access=no`` is closed, one with ``access=private`` is private);
* **gated compounds** — a part of the network that is joined to the streets only
  through private ways or private gates (the compound's interior, even where its
  own ways carry no access tag) is private too: it can be entered only through
  its mapped entrances.

What "private" means is the mode:

``"public"``
    Private ways and private gates are closed to everyone (a visitor's view).
``"residents"``
    Demand inside a compound (a point whose nearest street is one of its private
    ways) may use that compound's private ways and gates to walk out; nobody else
    may use them. Built as two layers: private ways hang from the public network
    by one-way links at the gates, passable from inside out only, so one
    compiled Dijkstra still answers every query.

A closed or private node is cut: every street that ends there gets its own end,
so nothing passes through it. The network keeps barrier nodes and the places
where access changes as nodes (they are never simplified away).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..errors import NetworkError
from .build import network_from_ways
from .model import WalkNetwork
from .osm import WALK_FILTER, read_walkable_ways
from .walking import EdgeCosts

__all__ = [
    "ACCESS_MODES",
    "AccessNetwork",
    "OSMAccess",
    "access_class",
    "barrier_class",
    "read_osm_access",
    "access_network",
    "access_network_from_file",
    "street_part",
    "gate_links",
    "restrict_costs",
    "metre_costs",
]

#: ``off``: today's osmnx network (no barriers); ``public``; ``residents``.
ACCESS_MODES = ("off", "public", "residents")

OPEN, PRIVATE, CLOSED = 0, 1, 2
_YES = {"yes", "designated", "permissive", "official", "destination", "customers", "permit"}
_NO = {"no", "use_sidepath", "discouraged_no"}
_PRIVATE = {"private", "residents", "delivery"}
_PASSABLE = {
    "gate",
    "lift_gate",
    "swing_gate",
    "sliding_gate",
    "kissing_gate",
    "turnstile",
    "full-height_turnstile",
    "entrance",
    "bollard",
    "cycle_barrier",
    "stile",
    "kerb",
    "cattle_grid",
    "border_control",
    "toll_booth",
    "chain",
    "rope",
    "height_restrictor",
    "motorcycle_barrier",
    "bump_gate",
    "hampshire_gate",
    "step",
    "log",
}
_BLOCKING = {"fence", "wall", "hedge", "block", "retaining_wall", "city_wall", "ditch", "guard_rail", "jersey_barrier"}

#: The walk filter with the clauses about access left out (access is decided here instead).
RELAXED_FILTER: tuple[tuple[str, str], ...] = tuple(
    (k, p) for k, p in WALK_FILTER if (k, p) not in (("access", "private"), ("foot", "no"), ("service", "private"))
)


def access_class(tags: dict[str, str]) -> int:
    """0 open, 1 private, 2 closed, for a way's tags.

    >>> access_class({"highway": "service", "access": "private"}), access_class({"access": "no", "foot": "yes"})
    (1, 0)
    >>> access_class({"foot": "no"}), access_class({"highway": "footway"})
    (2, 0)
    """
    foot = tags.get("foot", "").strip()
    if foot in _YES:
        return OPEN
    if foot in _NO:
        return CLOSED
    if foot in _PRIVATE:
        return PRIVATE
    acc = tags.get("access", "").strip()
    if acc in _NO:
        return CLOSED
    if acc in _PRIVATE or tags.get("service", "").strip() == "private":
        return PRIVATE
    return OPEN


def barrier_class(tags: dict[str, str]) -> int:
    """0 open, 1 private, 2 closed, for a node's tags (a barrier, or a node with access tags).

    >>> barrier_class({"barrier": "gate"}), barrier_class({"barrier": "gate", "access": "no"})
    (0, 2)
    >>> barrier_class({"barrier": "wall"}), barrier_class({"barrier": "fence", "foot": "yes"})
    (2, 0)
    >>> barrier_class({"barrier": "lift_gate", "access": "private"})
    1
    """
    explicit = tags.get("foot", "").strip() or tags.get("access", "").strip()
    if explicit:
        cls = access_class(tags)
        if cls != OPEN or tags.get("foot", "").strip() in _YES or tags.get("access", "").strip() in _YES:
            return cls
    barrier = tags.get("barrier", "").strip()
    if barrier in _BLOCKING:
        return CLOSED
    if tags.get("locked", "").strip() == "yes":
        return CLOSED
    return OPEN


@dataclass(frozen=True)
class OSMAccess:
    """Access tags read from an OSM file: every highway way's class, the classed nodes."""

    way_id: NDArray[np.int64]
    way_class: NDArray[np.int8]
    node_id: NDArray[np.int64]
    node_class: NDArray[np.int8]
    node_barrier: NDArray[np.object_]


def read_osm_access(path: str | Path) -> OSMAccess:
    """The access class of every ``highway`` way and of every barrier / access-tagged node of an OSM file."""
    import osmium

    w_id: list[int] = []
    w_cls: list[int] = []
    n_id: list[int] = []
    n_cls: list[int] = []
    n_bar: list[str] = []
    try:
        processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_filter(
            osmium.filter.KeyFilter("highway", "barrier", "access", "foot")
        )
        for item in processor:
            entity = cast(osmium.osm.Node | osmium.osm.Way, item)  # nodes and ways only (see the processor)
            tags = {t.k: t.v for t in entity.tags}
            if entity.is_way():
                if "highway" in tags:
                    w_id.append(entity.id)
                    w_cls.append(access_class(tags))
            elif entity.is_node() and ("barrier" in tags or "access" in tags or "foot" in tags):
                node = cast(osmium.osm.Node, entity)
                n_id.append(node.id)
                n_cls.append(barrier_class(tags))
                n_bar.append(tags.get("barrier", ""))
    except (RuntimeError, ValueError, OSError):
        raise NetworkError(
            "cannot read this OSM file for its access tags",
            file=path,
            fix="give the OSM XML or PBF file the network was read from",
        ) from None
    return OSMAccess(
        np.asarray(w_id, dtype=np.int64),
        np.asarray(w_cls, dtype=np.int8),
        np.asarray(n_id, dtype=np.int64),
        np.asarray(n_cls, dtype=np.int8),
        np.asarray(n_bar, dtype=object),
    )


@dataclass(frozen=True)
class AccessNetwork:
    """A walking network with access rules applied.

    Attributes
    ----------
    network
        The network: closed ways gone, closed and private nodes cut; in
        ``"residents"`` mode with its private layer and the one-way links
        (zero-length edges at the end of the edge arrays).
    edge_private
        Edges only residents may use.
    link
        The one-way links (walkable from ``u``, inside, to ``v``, outside, only).
    mode
        ``"public"`` or ``"residents"``.
    info
        Counts: closed ways, private ways, enclosed ways, gates closed / private, links.
    """

    network: WalkNetwork
    edge_private: NDArray[np.bool_]
    link: NDArray[np.bool_]
    mode: str
    info: dict[str, Any] = field(default_factory=dict)

    def metres(self) -> EdgeCosts:
        """Metre costs of the network: the links one way only (directed when there are any)."""
        return self.restrict(
            EdgeCosts(self.network.edge_length, self.network.edge_length.copy(), 1.0, "m", False, 1.0, label="metres")
        )

    def restrict(self, costs: EdgeCosts) -> EdgeCosts:
        """``costs`` (of :attr:`network`) with the links closed from outside in."""
        if not self.link.any():
            return costs
        backward = np.where(self.link, np.inf, costs.backward)
        return replace(costs, backward=backward, directed=True, label=costs.label + ", residents' gates one way")


def _classify(net: WalkNetwork, acc: OSMAccess) -> tuple[NDArray[np.int8], NDArray[np.int8]]:
    order = np.argsort(acc.way_id)
    pos = np.clip(np.searchsorted(acc.way_id[order], net.edge_way), 0, max(len(order) - 1, 0))
    found = acc.way_id[order][pos] == net.edge_way if len(order) else np.zeros(net.n_edges, bool)
    edge_cls = np.where(found, acc.way_class[order][pos] if len(order) else 0, OPEN).astype(np.int8)
    o2 = np.argsort(acc.node_id)
    p2 = np.clip(np.searchsorted(acc.node_id[o2], net.node_id), 0, max(len(o2) - 1, 0))
    f2 = acc.node_id[o2][p2] == net.node_id if len(o2) else np.zeros(net.n_nodes, bool)
    node_cls = np.where(f2, acc.node_class[o2][p2] if len(o2) else 0, OPEN).astype(np.int8)
    return edge_cls, node_cls


def access_network(net: WalkNetwork, acc: OSMAccess, mode: str = "residents") -> AccessNetwork:
    """Apply access rules to ``net`` (built from every walkable way, barriers kept as nodes).

    Parameters
    ----------
    net
        A network from :func:`access_network_from_file` 's reading (relaxed filter, kept nodes),
        or any network whose ``edge_way`` and ``node_id`` are OSM ids.
    acc
        The file's access tags (:func:`read_osm_access`).
    mode
        ``"public"`` or ``"residents"``.
    """
    if mode not in ("public", "residents"):
        raise ValueError(f"mode must be 'public' or 'residents', not {mode!r}")
    edge_cls, node_cls = _classify(net, acc)
    n, m = net.n_nodes, net.n_edges
    info: dict[str, Any] = {
        "closed_ways": int((edge_cls == CLOSED).sum()),
        "private_ways": int((edge_cls == PRIVATE).sum()),
        "closed_nodes": int((node_cls == CLOSED).sum()),
        "private_nodes": int((node_cls == PRIVATE).sum()),
    }
    keep = edge_cls != CLOSED
    u, v = net.edge_u.copy(), net.edge_v.copy()
    private = edge_cls == PRIVATE
    # gated compounds: public parts reachable from the main street network only through private things
    blocked_node = node_cls != OPEN
    cut_u = np.where(blocked_node[u], n + np.arange(m), u)  # every blocked end its own node
    cut_v = np.where(blocked_node[v], n + m + np.arange(m), v)
    pub = keep & ~private
    N2 = n + 2 * m
    lab_pub = _components(cut_u[pub], cut_v[pub], N2)
    # the whole (walkable) network, with private nodes joined again and private ways in
    allow = keep
    aa = np.where(node_cls[u] == CLOSED, cut_u, u)[allow]
    bb = np.where(node_cls[v] == CLOSED, cut_v, v)[allow]
    lab_all = _components(aa, bb, N2)
    # per whole component, its biggest public part (by length) is the street network
    e_pub = np.flatnonzero(pub)
    comp_pub = lab_pub[cut_u[e_pub]]
    comp_all = lab_all[np.where(node_cls[u] == CLOSED, cut_u, u)[e_pub]]
    length_by_pub = np.bincount(comp_pub, weights=net.edge_length[e_pub], minlength=N2)
    best = np.full(N2, -1, dtype=np.int64)
    best_len = np.full(N2, -1.0)
    order = np.argsort(length_by_pub[comp_pub], kind="stable")
    best[comp_all[order]] = comp_pub[order]  # the last (longest) wins
    best_len[comp_all[order]] = length_by_pub[comp_pub[order]]
    enclosed = comp_pub != best[comp_all]
    # an enclosed part counts as a compound only where it touches the street network through private things
    private[e_pub[enclosed]] = True
    info["enclosed_ways"] = int(enclosed.sum())
    if mode == "public":
        keep &= ~private
    # build the nodes: cut nodes, private hubs, public copies at private gates
    ends_node = np.r_[u, v]
    ends_edge = np.r_[np.arange(m), np.arange(m)]
    ends_priv = private[ends_edge]
    new_node = ends_node.copy()
    next_id = n
    extra_src: list[NDArray[np.int64]] = []
    closed_end = node_cls[ends_node] == CLOSED
    if mode == "public":
        closed_end |= node_cls[ends_node] == PRIVATE
    k = int(closed_end.sum())
    new_node[closed_end] = next_id + np.arange(k)
    extra_src.append(ends_node[closed_end])
    next_id += k
    links_from: list[NDArray[np.int64]] = []
    links_to: list[NDArray[np.int64]] = []
    if mode == "residents":
        present = keep[ends_edge]
        touches_pub = np.zeros(n, dtype=bool)
        touches_priv = np.zeros(n, dtype=bool)
        touches_pub[ends_node[present & ~ends_priv]] = True
        touches_priv[ends_node[present & ends_priv]] = True
        gate = node_cls == PRIVATE
        # private ends at a node that also has public ways (or at a private gate) hang from a private hub
        hub_nodes = np.flatnonzero((touches_priv & touches_pub) | (gate & touches_priv))
        hub = np.full(n, -1, dtype=np.int64)
        hub[hub_nodes] = next_id + np.arange(len(hub_nodes))
        extra_src.append(hub_nodes)
        next_id += len(hub_nodes)
        at_hub = ends_priv & (hub[ends_node] >= 0) & ~closed_end
        new_node[at_hub] = hub[ends_node[at_hub]]
        # public ends at a private gate: each its own end, linked one way from the hub
        pub_gate_end = ~ends_priv & gate[ends_node] & present & ~closed_end
        kk = int(pub_gate_end.sum())
        new_node[pub_gate_end] = next_id + np.arange(kk)
        extra_src.append(ends_node[pub_gate_end])
        next_id += kk
        gate_hub = hub[ends_node[pub_gate_end]]
        has_hub = gate_hub >= 0
        links_from.append(gate_hub[has_hub])
        links_to.append(new_node[pub_gate_end][has_hub])
        # ordinary nodes with both: the hub links to the node itself
        plain = hub_nodes[~gate[hub_nodes]]
        links_from.append(hub[plain])
        links_to.append(plain)
    src_of_new = np.concatenate([np.arange(n)] + extra_src) if extra_src else np.arange(n)
    node_xy = net.node_xy[src_of_new]
    node_id = net.node_id[src_of_new]
    nu, nv = new_node[:m], new_node[m:]
    e_keep = np.flatnonzero(keep)
    lf = np.concatenate(links_from) if links_from else np.zeros(0, dtype=np.int64)
    lt = np.concatenate(links_to) if links_to else np.zeros(0, dtype=np.int64)
    link_xy = node_xy[lf]
    link_geom = shapely.linestrings(np.stack([link_xy, link_xy], axis=1)) if len(lf) else np.zeros(0, dtype=object)
    tags = {
        k: np.r_[np.asarray(t, dtype=object)[e_keep], np.full(len(lf), "", dtype=object)]
        for k, t in net.edge_tags.items()
    }
    if "highway" in tags:
        tags["highway"][len(e_keep) :] = "gate_link"
    out = WalkNetwork(
        crs=net.crs,
        node_id=node_id,
        node_xy=node_xy,
        edge_u=np.r_[nu[e_keep], lf].astype(np.int64),
        edge_v=np.r_[nv[e_keep], lt].astype(np.int64),
        edge_length=np.r_[net.edge_length[e_keep], np.zeros(len(lf))],
        edge_geometry=np.r_[net.edge_geometry[e_keep], link_geom].astype(object),
        edge_way=np.r_[net.edge_way[e_keep], np.full(len(lf), -1, dtype=np.int64)],
        edge_tags=tags,
        source=net.source,
        info={**net.info, "access": mode},
    )
    info["links"] = int(len(lf))
    edge_private = np.r_[private[e_keep], np.zeros(len(lf), dtype=bool)]
    link = np.r_[np.zeros(len(e_keep), dtype=bool), np.ones(len(lf), dtype=bool)]
    return AccessNetwork(out, edge_private, link, mode, info)


def _components(a: NDArray[np.int64], b: NDArray[np.int64], n: int) -> NDArray[np.int32]:
    g = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, lab = connected_components(g, directed=False)
    out: NDArray[np.int32] = lab.astype(np.int32)
    return out


def access_network_from_file(
    path: str | Path, crs: Any, mode: str = "residents", *, keep_components: str = "largest"
) -> AccessNetwork:
    """Read an OSM file's every walkable way (private ones too) and apply access rules.

    Barrier nodes and nodes where ways of different access meet stay network
    nodes. The network is not cached (it is built from the file each time).
    With ``keep_components="largest"`` (the default, as for today's network)
    the parts the rules leave joined to nothing are dropped (:func:`street_part`).
    """
    if keep_components not in ("largest", "all"):
        raise NetworkError(
            f"keep_components must be 'largest' or 'all', not {keep_components!r}",
            fix="use keep_components='largest' or 'all'",
        )
    acc = read_osm_access(path)
    ways = read_walkable_ways(path, RELAXED_FILTER)
    # nodes to keep: classed nodes, and nodes on ways of more than one access class
    order = np.argsort(acc.way_id)
    pos = np.clip(np.searchsorted(acc.way_id[order], ways.way_id), 0, max(len(order) - 1, 0))
    cls = acc.way_class[order][pos] if len(order) else np.zeros(ways.n_ways, dtype=np.int8)
    row_cls = np.repeat(cls, np.diff(ways.way_ptr))
    ref = ways.node_ref
    o = np.lexsort((row_cls, ref))
    r_sorted, c_sorted = ref[o], row_cls[o]
    first = np.r_[True, r_sorted[1:] != r_sorted[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(o)), 0))
    mixed = np.unique(r_sorted[c_sorted != c_sorted[start]])
    keep_nodes = np.r_[acc.node_id, mixed]
    net = network_from_ways(
        ways, pyproj.CRS.from_user_input(crs), keep_components="all", source=str(path), keep_nodes=keep_nodes
    )
    out = access_network(net, acc, mode)
    return out if keep_components == "all" else street_part(out)


def street_part(acc: AccessNetwork) -> AccessNetwork:
    """``acc`` without the parts the street network cannot be walked to or from: its largest part only.

    The rules cut the network at closed ways and barriers, and the relaxed
    reading brings back ways osmnx's filter leaves out; parts come off that are
    joined to the streets by nothing walkable (a path behind a locked gate, a
    school's or a compound's inner paths with no mapped entrance, a stray
    footway of the extract). A facility or a home snapped there could reach
    nothing else, so every such part is dropped, as
    :func:`~servicecircle.network.load.load_network` drops the unconnected
    parts of today's network (``keep_components="largest"``): their points snap
    to the nearest connected street instead, with their straight access leg.
    The counts are in ``info`` (``cut_off_parts``, ``cut_off_m``).

    A gated compound is *not* cut off: its private layer hangs from the streets
    by its gates' one-way links.
    """
    net = acc.network
    n = net.n_nodes
    if not net.n_edges:
        return acc
    lab = _components(net.edge_u, net.edge_v, n)
    length = np.bincount(lab[net.edge_u], weights=net.edge_length, minlength=n)
    main = int(np.argmax(length))
    keep_edge = lab[net.edge_u] == main
    info = {
        **acc.info,
        "cut_off_parts": int(len(np.unique(lab[net.edge_u[~keep_edge]]))),
        "cut_off_m": float(net.edge_length[~keep_edge].sum()),
    }
    if keep_edge.all():
        return replace(acc, info=info)
    e = np.flatnonzero(keep_edge)
    kept = net.with_edges(e, {**net.info, "components": 1})
    return replace(acc, network=kept, edge_private=acc.edge_private[e], link=acc.link[e], info=info)


def gate_links(network: WalkNetwork) -> NDArray[np.bool_]:
    """The one-way links of a ``"residents"`` access network (``highway = "gate_link"``); none elsewhere."""
    hw = network.edge_tags.get("highway")
    if hw is None or network.info.get("access") != "residents":
        return np.zeros(network.n_edges, dtype=bool)
    out: NDArray[np.bool_] = np.asarray(hw, dtype=object) == "gate_link"
    return out


def restrict_costs(network: WalkNetwork, costs: EdgeCosts) -> EdgeCosts:
    """``costs`` with a residents' network's gate links walkable from inside out only (unchanged elsewhere)."""
    link = gate_links(network)
    if not link.any():
        return costs
    return replace(costs, backward=np.where(link, np.inf, costs.backward), directed=True)


def metre_costs(network: WalkNetwork) -> EdgeCosts | None:
    """Metre costs of a residents' access network (directed at its gates); ``None`` for any other network."""
    if not gate_links(network).any():
        return None
    from .walking import edge_metres

    return restrict_costs(network, edge_metres(network))
