"""Building the walking network from real OSM files, in every format, with a cache."""

from __future__ import annotations

import bz2
import gzip
import shutil
import warnings
import xml.etree.ElementTree as ET

import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely

from servicecircle.errors import NetworkError
from servicecircle.network import is_walkable, load_network, network_from_arrays, simplify_segments


def test_walk_filter_mirrors_osmnx_overpass_expression():
    import osmnx._overpass as op

    expr = op._get_network_filter("walk")
    from servicecircle.network.osm import WALK_FILTER

    for key, pattern in WALK_FILTER:
        assert f'["{key}"!~"{pattern}"]' in expr
    assert is_walkable({"highway": "footway"})
    assert is_walkable({"highway": "service", "service": "alley"})
    assert not is_walkable({"highway": "motorway_link"})  # unanchored: "motor"
    assert not is_walkable({"highway": "cycleway"})
    assert not is_walkable({"highway": "residential", "foot": "no"})
    assert not is_walkable({"highway": "pedestrian", "area": "yes"})
    assert not is_walkable({"highway": "primary", "sidewalk": "separate"})
    assert not is_walkable({"building": "yes"})


def test_simplify_merges_chains_and_keeps_rings():
    # a path 0-1-2-3 with a spur 1-4, and a detached ring 5-6-7
    a = np.array([0, 1, 2, 1, 5, 6, 7])
    b = np.array([1, 2, 3, 4, 6, 7, 5])
    u, v, nodes, ptr, _ = simplify_segments(a, b, 8)
    paths = sorted(tuple(nodes[ptr[i] : ptr[i + 1]]) for i in range(len(u)))
    norm = sorted(min(p, p[::-1]) for p in paths)
    assert norm == [(0, 1), (1, 2, 3), (1, 4), (5, 6, 7, 5)]


def _osmnx_walk_graph(osm_path, tmp_path):
    """The walk network osmnx builds from the same file (filtered with osmnx's own rules)."""
    import osmnx as ox

    opener = bz2.open if str(osm_path).endswith(".bz2") else open
    with opener(osm_path, "rb") as fh:
        tree = ET.parse(fh)
    root = tree.getroot()
    import re

    import osmnx._overpass as op

    expr = op._get_network_filter("walk")
    rules = re.findall(r'\["([^"]+)"!~"([^"]+)"\]', expr)
    for way in list(root.findall("way")):
        tags = {t.get("k"): t.get("v") for t in way.findall("tag")}
        if "highway" not in tags or any(k in tags and re.search(p, tags[k]) for k, p in rules):
            root.remove(way)
    for rel in list(root.findall("relation")):
        root.remove(rel)
    out = tmp_path / "walk.osm"
    tree.write(out, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = ox.graph_from_xml(out, simplify=True, retain_all=True)
    g.remove_nodes_from([n for n in list(g.nodes) if g.degree(n) == 0])
    return g


def test_network_matches_osmnx_on_real_osm(oakland_osm, tmp_path):
    """Node-to-node distances agree with osmnx + networkx on the same real file."""
    net = load_network(oakland_osm, keep_components="all", use_cache=False)
    g = _osmnx_walk_graph(oakland_osm, tmp_path)
    import osmnx as ox

    to_m = pyproj.Transformer.from_crs(4326, net.crs, always_xy=True)
    h = nx.Graph()
    ref_len = 0.0
    for u, v, d in ox.convert.to_undirected(g).edges(data=True):
        geom = d.get("geometry") or shapely.LineString(
            [(g.nodes[u]["x"], g.nodes[u]["y"]), (g.nodes[v]["x"], g.nodes[v]["y"])]
        )
        c = shapely.get_coordinates(geom)
        x, y = to_m.transform(c[:, 0], c[:, 1])
        w = float(np.hypot(np.diff(x), np.diff(y)).sum())
        ref_len += w
        if u != v and (not h.has_edge(u, v) or h[u][v]["w"] > w):
            h.add_edge(u, v, w=w)
    assert set(h.nodes) >= set(net.node_id.tolist())
    assert net.total_length == pytest.approx(ref_len, rel=1e-3)
    # distances from three nodes to all others
    from scipy.sparse.csgraph import dijkstra

    from servicecircle.engine.distance import _csr_min

    n = net.n_nodes
    graph = _csr_min(
        np.r_[net.edge_u, net.edge_v], np.r_[net.edge_v, net.edge_u], np.r_[net.edge_length, net.edge_length], n
    )
    for k in (0, n // 2, n - 1):
        ours = dijkstra(graph, indices=k)
        ref = nx.single_source_dijkstra_path_length(h, int(net.node_id[k]), weight="w")
        want = np.array([ref.get(int(i), np.inf) for i in net.node_id])
        np.testing.assert_allclose(ours, want, atol=1e-6)


@pytest.mark.parametrize("fmt", ["osm", "osm.gz", "osm.bz2", "osm.pbf", "graphml"])
def test_every_local_format_gives_the_same_network(oakland_osm, tmp_path, fmt):
    ref = load_network(oakland_osm, use_cache=False)
    raw = bz2.decompress(oakland_osm.read_bytes())
    path = tmp_path / f"oakland.{fmt}"
    if fmt == "osm":
        path.write_bytes(raw)
    elif fmt == "osm.gz":
        path.write_bytes(gzip.compress(raw))
    elif fmt == "osm.bz2":
        shutil.copy(oakland_osm, path)
    elif fmt == "osm.pbf":
        import osmium

        src = tmp_path / "src.osm"
        src.write_bytes(raw)
        with osmium.SimpleWriter(str(path)) as writer:
            for obj in osmium.FileProcessor(str(src)):
                writer.add(obj)
    else:
        import osmnx as ox

        g = _osmnx_walk_graph(oakland_osm, tmp_path)
        g = g.subgraph(max(nx.weakly_connected_components(g), key=len)).copy()
        ox.save_graphml(g, path)
    net = load_network(path, use_cache=False)
    assert net.crs == ref.crs
    assert net.total_length == pytest.approx(ref.total_length, rel=1e-6)
    assert net.n_nodes == ref.n_nodes if fmt != "graphml" else net.n_nodes >= ref.n_nodes


def test_default_crs_is_the_gauss_kruger_zone(chengdu_osm):
    net = load_network(chengdu_osm, use_cache=False)
    assert net.crs.to_epsg() == 4544  # CGCS2000 3-degree GK, CM 105°E
    assert net.n_edges > 4000
    assert 850_000 < net.total_length < 880_000


def test_cache_is_reused_and_invalidated(oakland_osm, tmp_path):
    path = tmp_path / "o.osm.bz2"
    shutil.copy(oakland_osm, path)
    first = load_network(path)
    assert "cache_file" not in first.info
    second = load_network(path)
    assert "cache_file" in second.info  # came from the cache, not the OSM parser
    assert np.array_equal(second.edge_length, first.edge_length)
    assert all(shapely.equals_exact(second.edge_geometry, first.edge_geometry, 0))
    # the straight pieces snapping uses, taken from the coordinates read: those of the geometries, exactly
    assert all(np.array_equal(x, y) for x, y in zip(second.segment_ends, first.segment_ends))
    assert len(first.segment_ends[0]) > first.n_edges  # curved edges: more pieces than edges
    # another CRS is another entry
    other = load_network(path, crs="EPSG:32610")
    assert "cache_file" not in other.info and other.crs.to_epsg() == 32610
    # new content: the cache misses
    raw = bz2.decompress(path.read_bytes()).replace(b"</osm>", b"<!-- edited --></osm>")
    path.write_bytes(bz2.compress(raw))
    assert "cache_file" not in load_network(path).info
    # a damaged entry is rebuilt, with a warning
    cached = load_network(path).info["cache_file"]
    with open(cached, "wb") as fh:
        fh.write(b"not a zip")
    with pytest.warns(UserWarning, match="damaged cache"):
        rebuilt = load_network(path)
    assert rebuilt.total_length == pytest.approx(first.total_length)


def test_components_largest_drops_islands_with_a_warning():
    xy = np.array([[0, 0], [100, 0], [200, 0], [0, 500], [10, 500]], dtype=float)
    with pytest.warns(UserWarning, match="2 unconnected parts"):
        net = network_from_arrays(xy, [0, 1, 3], [1, 2, 4], "EPSG:4544", keep_components="largest")
    assert net.n_nodes == 3 and net.total_length == pytest.approx(200.0)


def test_file_without_walkable_way_is_a_clear_error(tmp_path):
    osm = tmp_path / "buildings.osm"
    osm.write_text(
        "<?xml version='1.0'?><osm version='0.6'>"
        "<node id='1' lat='30.0' lon='104.0'/><node id='2' lat='30.001' lon='104.0'/>"
        "<way id='9'><nd ref='1'/><nd ref='2'/><tag k='building' v='yes'/></way></osm>"
    )
    with pytest.raises(NetworkError) as err:
        load_network(osm, use_cache=False)
    assert str(err.value) == (
        f"{osm}: the file holds no walkable way (0 highway ways, none walkable). "
        "Fix: use an OSM extract that covers the study area's streets and footpaths"
    )


def test_truncated_file_is_a_clear_error(chengdu_osm, tmp_path):
    bad = tmp_path / "cut.osm"
    bad.write_bytes(chengdu_osm.read_bytes()[:200_000])
    with pytest.raises(NetworkError, match=r"cut.osm: cannot read this OSM file .*Fix: check that it is a complete"):
        load_network(bad, use_cache=False)


def test_gap_grid_cells_are_snapped_once_and_kept_with_the_cached_network(oakland_osm, tmp_path):
    """Lattice snaps from the cache equal a fresh snap of the same centres, cell for cell."""
    from servicecircle.engine.snapping import snap_lattice, snap_points
    from servicecircle.network.cache import lattice_cache_file, lattice_store

    path = tmp_path / "o.osm.bz2"
    shutil.copy(oakland_osm, path)
    load_network(path)
    net = load_network(path)  # from the cache: has a key to store the lattice under
    store = lattice_store(net)
    x0, y0, x1, y1 = shapely.total_bounds(net.edge_geometry)
    res = 25.0
    ix, iy = np.meshgrid(
        np.arange(np.floor(x0 / res), np.ceil(x1 / res)), np.arange(np.floor(y0 / res), np.ceil(y1 / res))
    )
    ix, iy = ix.ravel().astype(np.int64), iy.ravel().astype(np.int64)
    half = len(ix) // 2
    centres = np.column_stack([(ix + 0.5) * res, (iy + 0.5) * res])
    fresh = snap_points(net, centres, 100.0, report_far=False)
    file = lattice_cache_file(net, res, 100.0)
    assert not file.exists()
    first = snap_lattice(net, ix[:half], iy[:half], res, 100.0, store=store)  # half the cells: stored
    assert file.exists()
    both = snap_lattice(net, ix, iy, res, 100.0, store=store)  # half from the cache, half new: merged
    again = snap_lattice(net, ix[::-1], iy[::-1], res, 100.0, store=store)  # all from the cache, any order
    for got, rows in ((first, slice(0, half)), (both, slice(None)), (again, slice(None, None, -1))):
        assert np.array_equal(got.edge, fresh.edge[rows])
        np.testing.assert_array_equal(got.offset, fresh.offset[rows])
        np.testing.assert_array_equal(got.xy, fresh.xy[rows])
    assert fresh.ok.any() and (~fresh.ok).any()  # both kinds of cell were exercised
    # another snapping limit is another entry; a damaged entry is recomputed with a warning
    assert lattice_cache_file(net, res, 50.0) != file
    snap_lattice(net, ix, iy, res, 50.0)  # no store: snapped, nothing kept
    assert not lattice_cache_file(net, res, 50.0).exists()
    file.write_bytes(b"not a zip")
    with pytest.warns(UserWarning, match="damaged cache"):
        redone = snap_lattice(net, ix, iy, res, 100.0, store=store)
    assert np.array_equal(redone.edge, fresh.edge)
