"""Location-allocation: hand-solved cases, and gains re-checked through the normal checks."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely

import servicecircle as sc
from servicecircle.network import network_from_arrays
from servicecircle.siting import candidate_sites, propose_floor_area, propose_sites

CRS = "EPSG:4544"


def quiet(f, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*a, **k)


@pytest.fixture
def line_case():
    """Homes e a b c d f on a street at x = 0, 300, 450, 750, 900, 1200 (weights 1.5, 1, 1, 1, 1, 1.5);
    the only kindergarten is 6 km away. With a 300 m radius a site at x = 600 reaches a, b, c, d (4);
    at 150 it reaches e, a, b (3.5); at 1050 c, d, f (3.5). Greedy takes 600 then one side (5.5);
    the best pair is 150 + 1050 (7): the textbook case where greedy is not optimal."""
    net = network_from_arrays(np.array([[-500.0, 0.0], [6000.0, 0.0]]), [0], [1], CRS)
    comm = gpd.GeoDataFrame({"code": ["A"]}, geometry=[shapely.box(-500, -50, 6000, 50)], crs=CRS)
    fac = gpd.GeoDataFrame({"category": ["kindergarten"]}, geometry=[shapely.Point(6000, 0)], crs=CRS)
    xs, ws = [0, 300, 450, 750, 900, 1200], [1.5, 1, 1, 1, 1, 1.5]
    dem = gpd.GeoDataFrame({"w": ws}, geometry=shapely.points(np.column_stack([xs, np.zeros(6)])), crs=CRS)
    a = quiet(sc.assess, comm, fac, net, demand=dem, weight_column="w", id_column="code")
    cands = gpd.GeoDataFrame(geometry=shapely.points([[150, 0], [600, 0], [1050, 0]]), crs=CRS)
    return a, cands


def test_greedy_is_not_optimal_and_the_exact_solver_is(line_case):
    a, cands = line_case
    greedy = propose_sites(a, "kindergarten", k=2, candidates=cands, method="greedy")
    exact = propose_sites(a, "kindergarten", k=2, candidates=cands, method="exact")
    assert greedy.sites["candidate"].tolist() == [1, 0]
    assert greedy.sites["covered_weight"].tolist() == [4.0, 1.5]
    assert sorted(exact.sites["candidate"].tolist()) == [0, 2]
    assert sum(exact.sites["covered_weight"]) == 7.0
    assert exact.solver["status"] == "optimal"
    assert exact.citywide_after == pytest.approx(100.0) and greedy.citywide_after == pytest.approx(100 * 5.5 / 7)


def test_set_cover_finds_the_fewest_sites(line_case):
    a, cands = line_case
    r = propose_sites(a, "kindergarten", objective="set_cover", candidates=cands)
    assert sorted(r.sites["candidate"].tolist()) == [0, 2] and r.uncoverable_weight == 0.0


def test_capacity_limits_what_a_site_serves(line_case):
    a, cands = line_case
    r = propose_sites(a, "kindergarten", k=1, candidates=cands, capacity=2.0)
    assert r.sites["served_weight"].tolist() == [2.0]
    assert r.sites["covered_weight"].iloc[0] >= 2.0


def test_reported_gains_match_an_independent_rerun(line_case):
    a, cands = line_case
    r = propose_sites(a, "kindergarten", k=2, candidates=cands, method="greedy")
    after = quiet(r.scenario)
    got = after.communities["cov_kindergarten"].iloc[0]
    assert got == pytest.approx(r.coverage["coverage_after"].iloc[0])
    assert "proposals" in after.layers and len(after.layers["proposals"]) == 2


@pytest.mark.slow
def test_sites_in_the_chengdu_gaps_really_raise_coverage():
    from servicecircle.pipeline import demo_paths

    p = demo_paths()
    comm = sc.read_boundaries(p["boundaries"], id_column="code")
    fac = sc.read_facilities(p["facilities"], layer="facilities")
    res = sc.read_layer(p["residential"])
    net = quiet(sc.load_network, p["network"], study_area=comm)
    a = quiet(sc.assess, comm, fac, net, id_column="code", residential=res)
    cands = candidate_sites(a, "kindergarten", spacing=100)
    assert len(cands) > 200 and (cands["source"] == "gap").all()
    r = propose_sites(a, "kindergarten", k=5, candidates=cands, method="exact", time_limit=120)
    assert len(r.sites) == 5 and r.citywide_after > r.citywide_before
    after = quiet(r.scenario)
    city = after.summary.set_index("check").loc["kindergarten", "city_value"]
    assert city == pytest.approx(r.citywide_after, abs=1e-9)
    per = after.communities["cov_kindergarten"].to_numpy(dtype=float)
    np.testing.assert_allclose(per, r.coverage["coverage_after"].to_numpy(dtype=float), atol=1e-9, equal_nan=True)
    greedy = propose_sites(a, "kindergarten", k=5, candidates=cands, method="greedy")
    assert r.solver["covered_weight"] >= greedy.solver["covered_weight"] - 1e-9


def test_floor_area_proposals_go_where_the_shortfall_is_largest():
    net = network_from_arrays(np.array([[0.0, 0.0], [2000.0, 0.0]]), [0], [1], CRS)
    comm = gpd.GeoDataFrame(
        {"code": ["A", "B", "C"], "households": [2000.0, 500.0, 1500.0]},
        geometry=[shapely.box(0, -50, 600, 50), shapely.box(600, -50, 1200, 50), shapely.box(1200, -50, 2000, 50)],
        crs=CRS,
    )
    # A needs 40 × 2000/100 = 800 m² and has 300 (short 500); B needs max(200, 500) = 500 and has 600;
    # C needs 600 and has none (short 600)
    fac = gpd.GeoDataFrame(
        {
            "category": ["community_service_station"] * 2,
            "floor_area_m2": [300.0, 600.0],
            "build_type": ["新建", "新建"],
        },
        geometry=[shapely.Point(100, 0), shapely.Point(700, 0)],
        crs=CRS,
    )
    a = quiet(sc.assess, comm, fac, net, id_column="code")
    props = propose_floor_area(a)
    assert props["community_id"].tolist() == ["C", "A"]
    assert props["shortfall_m2"].tolist() == [600.0, 500.0]
    assert props["proposed_m2"].tolist() == [600.0, 500.0]  # both at least the 500 m² of a new build
    assert props["placed_on"].tolist() == ["street", "street"]


def _floor_area_case():
    """Four communities in a row with shortfalls 500, 200, 600 and 100 m² (the last off the street)."""
    net = network_from_arrays(np.array([[0.0, 0.0], [1800.0, 0.0]]), [0], [1], CRS)
    comm = gpd.GeoDataFrame(
        {"code": ["A", "B", "C", "D"], "households": [2000.0, 1250.0, 1500.0, 250.0]},
        geometry=[
            shapely.box(0, -50, 600, 50),
            shapely.box(600, -50, 1200, 50),
            shapely.box(1200, -50, 1800, 50),
            shapely.box(0, 2000, 600, 2400),  # 2 km from the only street: nothing to snap to
        ],
        crs=CRS,
    )
    # A needs 800 and has 300 (short 500); B needs max(500, 500) and has 300 (short 200);
    # C needs 600 and has none (short 600); D needs the minimum 500... and has 400 (short 100)
    fac = gpd.GeoDataFrame(
        {
            "category": ["community_service_station"] * 3,
            "floor_area_m2": [300.0, 300.0, 400.0],
            "build_type": ["新建"] * 3,
        },
        geometry=[shapely.Point(100, 0), shapely.Point(700, 0), shapely.Point(300, 2200)],
        crs=CRS,
    )
    return quiet(sc.assess, comm, fac, net, id_column="code")


def test_floor_area_proposals_take_the_largest_parcel_and_else_the_street():
    a = _floor_area_case()
    short = dict(zip(a.communities["code"], a.communities["fa_shortfall_m2"]))
    assert short == {"A": 500.0, "B": 200.0, "C": 600.0, "D": 100.0}
    parcels = gpd.GeoDataFrame(
        {"name": ["a-small", "a-large", "a-large-twin", "astride-B-C"]},
        geometry=[
            shapely.box(10, 10, 20, 20),  # 100 m² in A
            shapely.box(100, 10, 130, 40),  # 900 m² in A: the largest there
            shapely.box(200, 10, 230, 40),  # 900 m² in A too: the first given wins the tie
            shapely.box(1190, 10, 1230, 30),  # 800 m², across the B/C line: in both
        ],
        crs=CRS,
    )
    props = propose_floor_area(a, parcels=parcels)
    assert props["community_id"].tolist() == ["C", "A", "B", "D"]
    assert props["rank"].tolist() == [1, 2, 3, 4]
    assert props["shortfall_m2"].tolist() == [600.0, 500.0, 200.0, 100.0]
    assert props["proposed_m2"].tolist() == [600.0, 500.0, 500.0, 500.0]
    assert props["placed_on"].tolist() == ["parcel", "parcel", "parcel", "street"]
    inside = [parcels.geometry[3], parcels.geometry[1], parcels.geometry[3]]
    for point, parcel in zip(props.geometry[:3], inside):
        assert parcel.contains(point)
    # D has no parcel and no street within max_snap: its own point inside it
    assert a.communities.geometry[3].contains(props.geometry[3])


def test_floor_area_proposals_without_parcels_stand_on_the_street_by_hand():
    a = _floor_area_case()
    props = propose_floor_area(a)
    assert props["placed_on"].tolist() == ["street"] * 4
    # a box's point on surface is its centre; the street is y = 0, so each lands straight below it
    xy = shapely.get_coordinates(props.geometry.values)
    np.testing.assert_allclose(xy[:3], [[1500.0, 0.0], [300.0, 0.0], [900.0, 0.0]], atol=1e-9)
    np.testing.assert_allclose(xy[3], [300.0, 2200.0], atol=1e-9)
    assert props.crs == a.network.crs
