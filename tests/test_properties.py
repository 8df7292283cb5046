"""Property-based tests of the distance engine and the coverage arithmetic (hypothesis)."""

from __future__ import annotations

import warnings

import numpy as np
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicecircle.checks import coverage
from servicecircle.engine import DistanceEngine, snap_points
from servicecircle.network import network_from_arrays

from .brute import node_distance_matrix, pair_distance, snap_brute

CRS = "EPSG:4544"
# coordinates on a 0.5 m grid: real networks have no hairpins a micrometre wide, where
# "the nearest edge" is decided by the last bit of floating point
coord = st.integers(min_value=0, max_value=2000).map(lambda k: k / 2)
point = st.tuples(coord, coord)


@st.composite
def networks(draw):
    """A random small street network; some edges bend through an extra vertex."""
    n = draw(st.integers(3, 12))
    xy = np.array(draw(st.lists(point, min_size=n, max_size=n)), dtype=float)
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=2, max_size=24))
    pairs = [(a, b) for a, b in pairs if a != b and not np.allclose(xy[a], xy[b])]
    if not pairs:
        pairs = [(0, 1)] if not np.allclose(xy[0], xy[1]) else []
    if not pairs:
        xy[1] = xy[0] + 10.0
        pairs = [(0, 1)]
    bends = draw(st.lists(st.one_of(st.none(), point), min_size=len(pairs), max_size=len(pairs)))
    geoms = []
    for (a, b), bend in zip(pairs, bends):
        pts = [xy[a]] + ([np.array(bend)] if bend is not None else []) + [xy[b]]
        geoms.append(shapely.LineString(pts))
    u = np.array([a for a, _ in pairs])
    v = np.array([b for _, b in pairs])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return network_from_arrays(xy, u, v, CRS, geometry=np.array(geoms, dtype=object), keep_components="all")


def points(k_min=1, k_max=8):
    return st.lists(point, min_size=k_min, max_size=k_max).map(lambda p: np.array(p, dtype=float))


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAX_SNAP = 2000.0  # every point snaps: the properties are about the network


def engine_for(net, fac_xy):
    return DistanceEngine(net, snap_points(net, fac_xy, MAX_SNAP))


@SETTINGS
@given(networks(), points(1, 5), points(1, 8))
def test_distance_is_never_below_the_straight_line(net, fac_xy, dem_xy):
    eng = engine_for(net, fac_xy)
    att = eng.attach(snap_points(net, dem_xy, MAX_SNAP))
    for j in range(len(fac_xy)):
        d = eng.nearest(np.array([j]), att)
        straight = np.hypot(*(dem_xy - fac_xy[j]).T)
        ok = np.isfinite(d)
        assert np.all(d[ok] >= straight[ok] - 1e-6)


@SETTINGS
@given(networks(), points(1, 5), points(2, 6))
def test_triangle_inequality_through_any_point(net, fac_xy, dem_xy):
    """d(p, f) <= d(p, q) + d(q, f) for homes p, q and facility f."""
    both = np.vstack([fac_xy, dem_xy])
    eng = engine_for(net, both)
    att = eng.attach(snap_points(net, dem_xy, MAX_SNAP))
    nf = len(fac_xy)
    to_fac = np.column_stack([eng.nearest(np.array([j]), att) for j in range(nf)])  # d(p, f)
    to_home = np.column_stack([eng.nearest(np.array([nf + q]), att) for q in range(len(dem_xy))])  # d(p, q)
    for q in range(len(dem_xy)):
        via = to_home[:, q][:, None] + to_fac[q][None, :]
        ok = np.isfinite(via)
        assert np.all(to_fac[ok] <= via[ok] + 1e-6)


@SETTINGS
@given(networks(), points(1, 4), point, points(1, 8))
def test_adding_a_facility_never_lengthens_a_distance(net, fac_xy, extra, dem_xy):
    before = engine_for(net, fac_xy)
    after = engine_for(net, np.vstack([fac_xy, [extra]]))
    s = snap_points(net, dem_xy, MAX_SNAP)
    d0 = before.nearest(np.arange(len(fac_xy)), before.attach(s))
    d1 = after.nearest(np.arange(len(fac_xy) + 1), after.attach(s))
    assert np.all((d1 <= d0 + 1e-6) | np.isinf(d0))


@SETTINGS
@given(networks(), points(1, 5), points(1, 8))
def test_agrees_with_brute_force(net, fac_xy, dem_xy):
    eng = engine_for(net, fac_xy)
    got = eng.nearest(np.arange(len(fac_xy)), eng.attach(snap_points(net, dem_xy, MAX_SNAP)))
    fe, fo, fa = snap_brute(net.edge_geometry, fac_xy, MAX_SNAP)
    de, do, da = snap_brute(net.edge_geometry, dem_xy, MAX_SNAP)
    dm = node_distance_matrix(net.edge_u, net.edge_v, net.edge_length, net.n_nodes)
    want = np.array(
        [
            min(
                pair_distance(dm, net.edge_u, net.edge_v, net.edge_length, de[i], do[i], da[i], fe[j], fo[j], fa[j])
                for j in range(len(fac_xy))
            )
            for i in range(len(dem_xy))
        ]
    )
    assert np.array_equal(np.isinf(got), np.isinf(want))
    ok = np.isfinite(want)
    np.testing.assert_allclose(got[ok], want[ok], atol=1e-6, rtol=0)


weights = st.lists(st.one_of(st.floats(0, 1e6, allow_nan=False), st.just(float("nan"))), min_size=0, max_size=40)


@settings(max_examples=200, deadline=None)
@given(weights, st.integers(1, 6), st.data())
def test_coverage_share_in_range_and_weights_add_up(w, n_comm, data):
    w = np.array(w, dtype=float)
    comm = np.array(data.draw(st.lists(st.integers(-1, n_comm - 1), min_size=len(w), max_size=len(w))), dtype=int)
    reached = np.array(data.draw(st.lists(st.booleans(), min_size=len(w), max_size=len(w))), dtype=bool)
    total, covered, share = coverage(comm, w, reached, n_comm)
    ok = ~np.isnan(share)
    assert np.all((share[ok] >= 0) & (share[ok] <= 100))
    assert np.all(np.isnan(share[total == 0]))
    uncovered = total - covered
    np.testing.assert_allclose(uncovered + covered, total, rtol=1e-12, atol=1e-9)
    assert np.all(uncovered >= -1e-9 * np.maximum(total, 1))
    use = (comm >= 0) & np.isfinite(w)
    np.testing.assert_allclose(total.sum(), w[use].sum(), rtol=1e-9)
