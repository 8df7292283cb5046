"""Minutes and service areas in a whole assessment: hand-computed on one street, written and read back."""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import servicecircle as sc
from servicecircle.engine.servicearea import QUAD_SEGS
from servicecircle.network import network_from_arrays
from servicecircle.network.walking import load_walking_groups

CRS = "EPSG:4544"
P = 2 * QUAD_SEGS * 50.0**2 * math.sin(math.pi / (2 * QUAD_SEGS))  # the inscribed disc of radius 50 m the areas draw


def frame(geoms, **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=CRS)


@pytest.fixture(scope="module")
def run():
    street = network_from_arrays(np.array([[0.0, 0.0], [1000.0, 0.0]]), [0], [1], CRS)
    comm = frame([shapely.box(0, -50, 1000, 50)], code=["A"])
    fac = frame([shapely.Point(0, 0)], category=["kindergarten"])
    dem = frame([shapely.Point(x, 0) for x in (100.0, 250.0, 290.0, 400.0)], hh=[1.0, 1.0, 1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = sc.assess(comm, fac, street, demand=dem, weight_column="hh", id_column="code", progress=False)
        timed = sc.assess(
            comm,
            fac,
            street,
            demand=dem,
            weight_column="hh",
            id_column="code",
            progress=False,
            time_checks=True,
            service_areas=True,
        )
    return plain, timed


def test_metre_results_are_unchanged_by_the_time_checks(run):
    plain, timed = run
    assert timed.demand["dist_kindergarten"].tolist() == plain.demand["dist_kindergarten"].tolist()
    assert timed.communities["cov_kindergarten"].tolist() == plain.communities["cov_kindergarten"].tolist()
    assert "kindergarten_parent_child_5min" not in set(plain.summary["check"])


def test_minutes_for_a_parent_with_a_small_child(run):
    _, a = run
    v = load_walking_groups()["parent_child"].flat_speed  # 1.0 m/s
    minutes = a.demand["min_kindergarten_parent_child_5min"].to_numpy()
    np.testing.assert_allclose(minutes, np.array([100.0, 250.0, 290.0, 400.0]) / v / 60, rtol=1e-12)
    row = a.summary.set_index("check").loc["kindergarten_parent_child_5min"]
    assert row["minutes"] == 5 and row["group"] == "parent_child" and np.isnan(row["radius_m"])
    # within 300 s at 1.0 m/s: the points at 100, 250 and 290 m; 3 of 4 households
    assert a.communities["cov_kindergarten_parent_child_5min"].iloc[0] == pytest.approx(75.0)
    assert "5 min" in a.scorecard.set_index("target_key").loc["kindergarten_parent_child_5min", "method"]


def test_service_areas_by_hand_and_in_the_geopackage(run, tmp_path):
    _, a = run
    layer = a.layers["service_areas"]
    # one facility: its own area is the category's
    assert sorted(layer["facility_index"]) == [-1, -1, 0, 0]
    areas = layer[layer["facility_index"] < 0].set_index("check")
    # adult, 300 m from the street's end: 250 m at full width (100 m) + half a disc at each end = 25000 + P
    assert areas.loc["kindergarten", "area_m2"] == pytest.approx(250 * 100 + P, rel=1e-12)
    assert areas.loc["kindergarten", "view"] == "adult, 300 m"
    # a parent with a child at 1.0 m/s for 5 minutes: 300 m too
    assert areas.loc["kindergarten_parent_child_5min", "area_m2"] == pytest.approx(250 * 100 + P, rel=1e-12)
    assert "5 minutes" in areas.loc["kindergarten_parent_child_5min", "view"]
    gpkg = a.save(tmp_path / "out", write_map=False)["geopackage"]
    names = [n for n, _ in pyogrio.list_layers(gpkg)]
    assert "service_areas" in names and "catchments" in names
    back = gpd.read_file(gpkg, layer="service_areas")
    assert len(back) == 4 and set(back["check"]) == set(areas.index)
    np.testing.assert_allclose(sorted(back["area_m2"]), sorted(layer["area_m2"]))


def test_slope_from_a_dem_in_a_whole_run(tmp_path):
    """The street climbs 8 % eastwards (a GeoTIFF plane): homes walk down to the kindergarten at x = 0."""
    from .test_walking import ramp_dem, tobler

    dem = ramp_dem(tmp_path, 0.08)
    street = network_from_arrays(np.array([[0.0, 0.0], [400.0, 0.0]]), [0], [1], CRS)
    comm = frame([shapely.box(0, -50, 400, 50)], code=["A"])
    fac = frame([shapely.Point(0, 0)], category=["kindergarten"])
    dem_pts = frame([shapely.Point(x, 0) for x in (100.0, 250.0, 350.0)], hh=[1.0, 1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = sc.assess(
            comm, fac, street, demand=dem_pts, weight_column="hh", progress=False, time_checks=True, dem=str(dem)
        )
    v = load_walking_groups()["parent_child"].flat_speed
    want = np.array([100.0, 250.0, 350.0]) / tobler(-0.08, v) / 60
    np.testing.assert_allclose(a.demand["min_kindergarten_parent_child_5min"], want, rtol=1e-6)  # float32 DEM
    # metres are metres: the slope does not touch them
    assert a.demand["dist_kindergarten"].tolist() == pytest.approx([100.0, 250.0, 350.0])
    with pytest.raises(sc.errors.InputDataError, match="DEM file not found"):
        sc.assess(comm, fac, street, demand=dem_pts, weight_column="hh", dem=str(tmp_path / "none.tif"))
    # the DEM read already (a notebook's grid, no file named in the options): the same minutes, in a scenario too
    grid = sc.read_elevation(dem)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = sc.assess(
            comm, fac, street, demand=dem_pts, weight_column="hh", progress=False, time_checks=True, elevation=grid
        )
        top = frame([shapely.Point(400.0, 0.0)], category=["kindergarten"])
        moved = sc.scenario.scenario(b, add=top, remove=[0])
    np.testing.assert_allclose(b.demand["min_kindergarten_parent_child_5min"], want, rtol=1e-6)
    # the kindergarten moved to the top of the street: uphill from 300, 150 and 50 m below it
    up = np.array([300.0, 150.0, 50.0]) / tobler(0.08, v) / 60
    np.testing.assert_allclose(moved.demand["min_kindergarten_parent_child_5min"], up, rtol=1e-6)
    with pytest.raises(sc.errors.OptionError, match="elevation= takes an elevation grid"):
        sc.assess(comm, fac, street, demand=dem_pts, weight_column="hh", elevation=str(dem))
    with pytest.raises(sc.errors.OptionError, match="both elevation= and dem="):
        sc.assess(comm, fac, street, demand=dem_pts, weight_column="hh", elevation=grid, dem=str(dem))


def test_every_output_says_metres_or_minutes_and_for_whom(run, tmp_path):
    """Summary (GeoPackage, workbook, CSV): a metre check is the adult view with its radius, a time check its
    minutes and group; the report's check page says the same in words."""
    pymupdf = pytest.importorskip("pymupdf")
    _, a = run
    rows = a.summary.set_index("check")
    metre, timed = rows.loc["kindergarten"], rows.loc["kindergarten_parent_child_5min"]
    assert metre["radius_m"] == 300 and np.isnan(metre["minutes"]) and metre["group"] == "adult"
    assert timed["minutes"] == 5 and np.isnan(timed["radius_m"]) and timed["group"] == "parent_child"
    out = a.save(tmp_path / "out", write_map=False, report=True)
    back = gpd.read_file(out["geopackage"], layer="summary").set_index("check")
    assert back.loc["kindergarten", "group"] == "adult" and back.loc["kindergarten_parent_child_5min", "minutes"] == 5
    with pymupdf.open(out["report"]) as doc:
        text = " ".join(page.get_text() for page in doc).replace("\n", " ")
    group = load_walking_groups()["parent_child"]
    assert f"5 min walk at {group.name_en} speed" in text and f"{group.name_zh}步速" in text
    assert "radius 300 m (walking distance)" in text


def test_service_areas_shared_out_among_workers_are_each_facilitys_own():
    """40 kindergartens on a 2 km grid, the areas built in one process and in two (chunks handed out largest
    first): the same rows in the same order, and each facility's own area holds that facility and reaches exactly
    as far along its street as the budget allows (by hand: a facility on a node of a 100 m grid, 300 m)."""
    n = 21  # 21 x 21 nodes, 100 m apart
    xy = np.array([(x * 100.0, y * 100.0) for y in range(n) for x in range(n)])
    u = [i for i in range(n * n) if i % n < n - 1] + [i for i in range(n * n - n)]
    v = [i + 1 for i in range(n * n) if i % n < n - 1] + [i + n for i in range(n * n - n)]
    street = network_from_arrays(xy, u, v, CRS)
    rng = np.random.default_rng(3)
    nodes = rng.choice(
        np.flatnonzero((xy[:, 0] >= 400) & (xy[:, 0] <= 1600) & (xy[:, 1] >= 400) & (xy[:, 1] <= 1600)),
        40,
        replace=False,
    )
    fac = frame(
        [shapely.Point(*xy[i]) for i in nodes], category=["kindergarten"] * 40, name=[f"k{i}" for i in range(40)]
    )
    comm = frame([shapely.box(0, 0, 2000, 2000)], code=["A"], households=[400])
    got = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for workers in (1, 2):
            a = sc.assess(
                comm,
                fac,
                street,
                id_column="code",
                progress=False,
                time_checks=True,
                service_areas=True,
                workers=workers,
            )
            got[workers] = a.layers["service_areas"], a.layers["catchments"]
    for one, two in zip(got[1], got[2]):
        assert len(one) == len(two)
        cols = [c for c in one.columns if c != "geometry"]
        pd.testing.assert_frame_equal(pd.DataFrame(one[cols]), pd.DataFrame(two[cols]))
        assert shapely.equals(one.geometry.values, two.geometry.values).all()
    areas = got[2][0]
    adult = areas[(areas["check"] == "kindergarten") & (areas["facility_index"] >= 0)]
    assert len(adult) == 40
    for i, geom in zip(adult["facility_index"], adult.geometry):
        x, y = xy[nodes[i]]
        assert geom.contains(shapely.Point(x, y))
        # along the street east: 300 m, where the allowance has shrunk to nothing; 250 m out, 50 m to the side
        assert geom.contains(shapely.Point(x + 299.0, y)) and not geom.contains(shapely.Point(x + 301.0, y))
        assert geom.contains(shapely.Point(x + 250.0, y + 49.0)) and not geom.contains(
            shapely.Point(x + 250.0, y + 51.0)
        )
