"""The life-circle check end to end, on small networks with hand-computed answers."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import servicecircle as sc
from servicecircle.network import network_from_arrays

CRS = "EPSG:4544"


@pytest.fixture
def street():
    """One straight 1000 m street along the x axis."""
    return network_from_arrays(np.array([[0.0, 0.0], [1000.0, 0.0]]), [0], [1], CRS)


def frame(geoms, crs=CRS, **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=crs)


def quiet_assess(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sc.assess(*args, **kw)


def test_coverage_share_is_weighted_by_households(street):
    comm = frame([shapely.box(0, -50, 1000, 50)], code=["A"])
    fac = frame([shapely.Point(0, 0)], category=["幼儿园"], name=["K1"])
    dem = frame([shapely.Point(100, 0), shapely.Point(400, 0), shapely.Point(700, 0)], hh=[1.0, 2.0, 3.0])
    a = quiet_assess(comm, fac, street, demand=dem, weight_column="hh", id_column="code")
    row = a.communities.iloc[0]
    assert row["cov_kindergarten"] == pytest.approx(100 * 1 / 6)
    assert row["unc_kindergarten"] == pytest.approx(5.0)
    assert not row["pass_kindergarten"]
    assert a.demand["dist_kindergarten"].tolist() == pytest.approx([100.0, 400.0, 700.0])
    # Meishan uses the kindergarten at 300 m (its radius) and 500 m (6个1)
    assert a.demand["n_kindergarten_300m"].tolist() == [1, 0, 0]
    assert a.demand["n_kindergarten_500m"].tolist() == [1, 1, 0]
    s = a.summary.set_index("category").loc["kindergarten"]
    assert s["communities_failed"] == 1 and s["uncovered_weight"] == pytest.approx(5.0)
    assert s["citywide_coverage_pct"] == pytest.approx(100 / 6)


def test_facility_exactly_at_the_radius_covers(street):
    comm = frame([shapely.box(0, -50, 1000, 50)], code=["A"])
    fac = frame([shapely.Point(0, 0)], category=["kindergarten"])
    dem = frame([shapely.Point(300, 0)], w=[10.0])
    a = quiet_assess(comm, fac, street, demand=dem, weight_column="w")
    assert a.demand["dist_kindergarten"].iloc[0] == 300.0
    assert a.communities["cov_kindergarten"].iloc[0] == 100.0
    assert bool(a.communities["pass_kindergarten"].iloc[0])
    assert len(a.gaps) == 0


def test_river_without_bridge_is_not_covered():
    """A straight-line buffer says 100 m; the walk is 2.1 km round by the bridge."""
    xy = np.array([[0, 0], [1000, 0], [0, 100], [1000, 100]], dtype=float)
    net = network_from_arrays(xy, [0, 2, 1], [1, 3, 3], CRS)  # banks, bridge at x = 1000
    comm = frame([shapely.box(-10, 90, 200, 110)], households=[50.0])
    fac = frame([shapely.Point(0, 0)], category=["kindergarten"])
    dem = frame([shapely.Point(0, 100)], w=[50.0])
    a = quiet_assess(comm, fac, net, demand=dem, weight_column="w")
    assert a.demand["dist_kindergarten"].iloc[0] == pytest.approx(2100.0)
    assert a.communities["cov_kindergarten"].iloc[0] == 0.0
    assert shapely.distance(fac.geometry.iloc[0], dem.geometry.iloc[0]) == 100.0


def test_sampled_demand_and_gap_polygon_area(street):
    """Kindergarten at x=0: a cell (x, y) is within 300 m iff x + |y| <= 300."""
    comm = frame([shapely.box(0, -50, 1000, 50)], code=["A"], households=[400.0])
    fac = frame([shapely.Point(0, 0)], category=["kindergarten"])
    a = quiet_assess(comm, fac, street, id_column="code", sample_spacing=50, gap_resolution=10)
    d = a.demand
    assert len(d) == 40  # a 50 m grid: 20 × 2 points
    assert d["weight"].tolist() == pytest.approx([10.0] * 40)
    # points at y = ±25 and x = 25, 75, ...: within iff x + 25 <= 300 → x <= 275: 6 columns
    assert a.communities["cov_kindergarten"].iloc[0] == pytest.approx(100 * 12 / 40)
    gaps = a.gaps[a.gaps.category == "kindergarten"]
    assert len(gaps) == 1
    covered = 2 * (300 * 50 - 50**2 / 2)  # ∫ (300 - |y|) dy over |y| <= 50
    want = 1000 * 100 - covered
    assert gaps["gap_area_m2"].iloc[0] == pytest.approx(want, rel=0.02)
    assert gaps["uncovered_weight"].iloc[0] == pytest.approx(280.0)
    assert gaps["community_id"].iloc[0] == "A"
    assert gaps.geometry.iloc[0].within(comm.geometry.iloc[0].buffer(1e-6))


def test_every_input_feature_and_attribute_comes_out(street, tmp_path):
    comm = frame(
        [shapely.box(0, -50, 500, 50), shapely.box(500, -50, 1000, 50), shapely.Polygon()],
        code=["A", "B", "C"],
        name=["甲社区", "乙社区", "空"],
        households=[100.0, 200.0, None],
        note=["x", None, "z"],
    )
    fac = frame(
        [shapely.Point(10, 5), shapely.Point(990, 400), shapely.Point(500, 0)],
        category=["kindergarten", "kindergarten", "不在标准里"],
        name=["a", "far", "c"],
    )
    a = quiet_assess(comm.to_crs(4326), fac.to_crs(4326), street, id_column="code", name_column="name")
    paths = a.save(tmp_path / "out")
    import pyogrio

    layers = dict(pyogrio.list_layers(paths["geopackage"]))
    assert {"communities", "demand", "facilities", "gaps", "summary", "checks", "warnings", "run"} <= set(layers)
    c = gpd.read_file(paths["geopackage"], layer="communities")
    assert c.crs.to_epsg() == 4490
    assert c["code"].tolist() == ["A", "B", "C"]
    assert [None if pd.isna(v) else v for v in c["note"]] == ["x", None, "z"]
    assert c["name"].tolist() == ["甲社区", "乙社区", "空"]
    f = gpd.read_file(paths["geopackage"], layer="facilities")
    assert f["name"].tolist() == ["a", "far", "c"] and len(f) == 3
    assert f["snapped"].tolist() == [1, 0, 1]
    assert f["snap_m"].iloc[1] == pytest.approx(400.0, abs=1e-6)
    assert f["category_key"].tolist() == ["kindergarten", "kindergarten", "不在标准里"]
    d = gpd.read_file(paths["geopackage"], layer="demand")
    assert "dist_kindergarten" in d and "dist_不在标准里" in d and "snap_m" in d
    s = pd.read_csv(paths["summary"], encoding="utf-8-sig")
    assert s.loc[s["kind"] == "lifecircle", "category"].tolist() == ["kindergarten"]
    assert paths["summary"].read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    w = gpd.read_file(paths["geopackage"], layer="warnings")
    assert {"unsnapped", "category_not_in_profile", "empty_geometry"} <= set(w["code"])


def test_profile_with_a_lower_target_passes(street, tmp_path):
    prof = tmp_path / "mine.toml"
    prof.write_text(
        'schema = "servicecircle-profile/1"\nkey = "mine"\nname_zh = "我的"\nname_en = "Mine"\n'
        'source = "test"\nextends = "meishan"\n[defaults]\ntarget_share = 10.0\n'
        'household_size = 2.62\nhousehold_size_source = "test"\nsource = "test: lower target"\n',
        encoding="utf-8",
    )
    comm = frame([shapely.box(0, -50, 1000, 50)])
    fac = frame([shapely.Point(0, 0)], category=["kindergarten"])
    dem = frame([shapely.Point(100, 0), shapely.Point(400, 0), shapely.Point(700, 0)], w=[1.0, 2.0, 3.0])
    a = quiet_assess(comm, fac, street, demand=dem, weight_column="w", profile=prof)
    assert bool(a.communities["pass_kindergarten"].iloc[0])  # 16.7 % >= 10 %
    assert a.summary["target_pct"].iloc[0] == 10.0


def test_population_raster_weights_coverage_by_residents(street, tmp_path):
    """Two 100 m cells along the street: 30 and 10 residents; only the first within 300 m."""
    import rasterio
    from rasterio.transform import from_origin

    path = tmp_path / "pop.tif"
    values = np.array([[30.0, 0.0, 0.0, 10.0]], dtype="float32")  # cells x = 0-100, ..., 300-400
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=1,
        width=4,
        count=1,
        dtype="float32",
        crs=CRS,
        transform=from_origin(0, 50, 100, 100),
        nodata=-1,
    ) as dst:
        dst.write(values, 1)
    comm = frame([shapely.box(0, -50, 400, 50)], code=["A"])  # no households column: the raster gives them
    fac = frame([shapely.Point(0, 0)], category=["kindergarten"])
    a = quiet_assess(comm, fac, street, population=sc.read_population(path, comm), id_column="code")
    # cell centres at x = 50 (30 people, 50 m away) and x = 350 (10 people, 350 m away)
    d = a.demand[a.demand["residents"] > 0]
    assert d["residents"].tolist() == pytest.approx([30.0, 10.0])
    assert d["dist_kindergarten"].tolist() == pytest.approx([50.0, 350.0])
    assert a.communities["cov_kindergarten"].iloc[0] == pytest.approx(75.0)
    assert a.communities["weight_kind"].iloc[0] == "households"
    assert a.communities["weight_total"].iloc[0] == pytest.approx(40.0 / 2.62)


def test_bounded_search_says_where_it_stopped(monkeypatch):
    """settings.max_distance: distances exact up to it, none beyond, the run table says where it stopped."""
    from servicecircle import settings

    long_street = network_from_arrays(np.array([[0.0, 0.0], [5000.0, 0.0]]), [0], [1], CRS)
    comm = frame([shapely.box(0, -50, 5000, 50)], code=["A"])
    fac = frame([shapely.Point(0, 0)], category=["kindergarten"])
    dem = frame([shapely.Point(x, 0) for x in (250.0, 1999.0, 2001.0, 4000.0)], w=[1.0, 1.0, 1.0, 1.0])
    monkeypatch.setattr(settings, "max_distance", 2000.0)
    a = quiet_assess(comm, fac, long_street, demand=dem, weight_column="w", id_column="code")
    d = a.demand["dist_kindergarten"].tolist()
    assert d[:2] == [250.0, 1999.0] and np.isnan(d[2:]).all()  # unknown beyond 2 km, never a number
    assert a.parameters["max_distance_m"] == 2000.0
    assert a.communities["cov_kindergarten"].iloc[0] == 25.0  # the checks themselves are unchanged
    # a bound short of the profile's widest radius (1000 m in Meishan's) is refused before any work
    monkeypatch.setattr(settings, "max_distance", 800.0)
    with pytest.raises(sc.OptionError, match="max_distance"):
        quiet_assess(comm, fac, long_street, demand=dem, weight_column="w", id_column="code")


def test_worker_processes_give_identical_results(street, monkeypatch):
    from servicecircle import settings

    comm = frame(
        [shapely.box(0, -50, 500, 50), shapely.box(500, -50, 1000, 50)], code=["A", "B"], households=[100.0, 200.0]
    )
    fac = frame(
        [shapely.Point(0, 0), shapely.Point(900, 0), shapely.Point(450, 5)], category=["kindergarten", "幼儿园", "小学"]
    )
    runs = []
    for workers in (1, 2):
        monkeypatch.setattr(settings, "workers", workers)
        runs.append(quiet_assess(comm, fac, street, id_column="code", sample_spacing=25))
    one, two = runs
    pd.testing.assert_frame_equal(
        pd.DataFrame(one.demand.drop(columns="geometry")), pd.DataFrame(two.demand.drop(columns="geometry"))
    )
    pd.testing.assert_frame_equal(
        pd.DataFrame(one.communities.drop(columns="geometry")), pd.DataFrame(two.communities.drop(columns="geometry"))
    )
    assert one.gaps["gap_area_m2"].tolist() == two.gaps["gap_area_m2"].tolist()
