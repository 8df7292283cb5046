"""Per-resident and community-size indicators, hand-computed on a straight street."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from servicecircle.checks.indicators import indicator_checks, meets
from servicecircle.errors import DataWarning
from servicecircle.profiles import load_profile

from .test_floorarea import boxes, captured_context, make_ctx, street

#: Meishan plus a nearest_distance indicator (tests/data/nearest_distance.toml)
NEAREST = str(Path(__file__).parent / "data" / "nearest_distance.toml")


def run(ctx):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = indicator_checks(ctx)
    return {o.key: o for o in out}, [w.message for w in caught if isinstance(w.message, DataWarning)]


def col(outcome, name=None):
    return list(outcome.columns[name or outcome.key])


def passes(outcome):
    return list(outcome.columns[outcome.pass_col])


# --------------------------------------------------------------------------- #
# attribute_per_resident
# --------------------------------------------------------------------------- #


def test_sports_ground_area_per_resident():
    # >= 2.6 m² per resident (area, per 1)
    # A: 1000 residents, a 2600 m² ground -> 2.6: pass (exactly at the target)
    # B: 1000 residents, 2599 m² -> 2.599: fail
    # C: residents unknown, a 5000 m² ground -> no value; left out of the citywide figure
    # D: 500 residents, no ground -> 0: fail
    # outside every community: a 1000 m² ground at x = 2500 -> counts citywide only
    # citywide: (2600 + 2599 + 1000) / (1000 + 1000 + 500) = 6199 / 2500 = 2.4796: fail
    facs = [
        {"x": 250, "category": "小型多功能运动场地", "area_m2": 2600.0},
        {"x": 750, "category": "室外综合健身场地", "area_m2": 2599.0},
        {"x": 1250, "category": "小型多功能运动场地", "area_m2": 5000.0},
        {"x": 2500, "category": "大型多功能运动场地", "area_m2": 1000.0},
    ]
    ctx = make_ctx(
        boxes(0, 500, 1000, 1500, 2000),
        facs,
        residents=[1000, 1000, np.nan, 500],
        households=[400, 400, np.nan, 200],
        net=street(3000),
    )
    out, _ = run(ctx)
    o = out["ind_sports_ground_per_resident"]
    assert col(o)[:2] == pytest.approx([2.6, 2.599])
    assert np.isnan(col(o)[2]) and col(o)[3] == 0.0
    assert passes(o) == [True, False, pd.NA, False]
    assert o.columns["pass_ind_sports_ground_per_resident"].dtype == "boolean"
    assert (o.kind, o.score_col, o.score_unit) == ("indicator", "ind_sports_ground_per_resident", "m2/resident")
    (row,) = o.scorecard
    assert row["value"] == pytest.approx(6199 / 2500)
    assert (row["target"], row["comparison"], row["unit"], row["passed"]) == (2.6, ">=", "m2/resident", False)
    assert row["confirmed"] is True and "专栏1" in row["source"]
    s = o.summary
    assert (s["communities_assessed"], s["communities_passed"], s["communities_failed"]) == (3, 1, 2)
    assert s["facilities_outside"] == 1 and s["citywide_value"] == pytest.approx(2.4796)


def test_childcare_places_per_1000_residents():
    # >= 4.5 places per 1000 residents (places, per 1000)
    # A: 2000 residents, nurseries with 5 + 4 places -> 9 / 2000 × 1000 = 4.5: pass
    # B: 2000 residents, 8 places -> 4.0: fail
    # citywide 17 / 4000 × 1000 = 4.25: fail
    facs = [
        {"x": 100, "category": "托儿所", "places": 5.0},
        {"x": 200, "category": "托儿所", "places": 4.0},
        {"x": 700, "category": "托儿所", "places": 8.0},
        {"x": 800, "category": "幼儿园", "places": 300.0},
    ]  # a kindergarten: not the under-3 places
    ctx = make_ctx(boxes(0, 500, 1000), facs, residents=[2000, 2000], households=[700, 700])
    out, _ = run(ctx)
    o = out["ind_childcare_places_per_1000"]
    assert col(o) == pytest.approx([4.5, 4.0])
    assert passes(o) == [True, False]
    assert o.scorecard[0]["value"] == pytest.approx(4.25) and o.scorecard[0]["passed"] is False


def test_health_floor_area_per_1000_and_missing_values():
    # >= 60 m² per 1000 residents (floor area, per 1000)
    # A: 5000 residents, a 300 m² station -> 60: pass; a second station without floor area is left out
    facs = [
        {"x": 100, "category": "社区卫生服务站", "floor_area_m2": 300.0},
        {"x": 200, "category": "社区卫生服务站", "floor_area_m2": np.nan},
    ]
    ctx = make_ctx(boxes(0, 500), facs, residents=[5000], households=[2000])
    out, warned = run(ctx)
    o = out["ind_health_floor_area_per_1000"]
    assert col(o) == pytest.approx([60.0])
    assert passes(o) == [True]
    assert o.summary["facilities_no_value"] == 1
    assert any(w.code == "indicator_value_missing" and "1 of 2 facilities" in str(w) for w in warned)


def test_attribute_column_absent_is_not_computed():
    facs = [{"x": 100, "category": "托儿所"}]
    ctx = make_ctx(boxes(0, 500), facs, residents=[1000], households=[400])
    out, warned = run(ctx)
    assert "ind_childcare_places_per_1000" not in out
    msgs = [str(w) for w in warned if w.code == "indicator_not_computed"]
    assert any("childcare_places_per_1000" in m and "no places column" in m for m in msgs)


# --------------------------------------------------------------------------- #
# community size: between, at both ends
# --------------------------------------------------------------------------- #


def test_community_households_between_both_ends():
    # 1500-4000 households: 1499 no, 1500 yes, 4000 yes, 4001 no, unknown -> no pass/fail
    hh = [1499, 1500, 4000, 4001, np.nan]
    ctx = make_ctx(boxes(0, 500, 1000, 1500, 2000, 2500), [], households=hh, residents=[6000] * 5, net=street(3000))
    out, _ = run(ctx)
    o = out["ind_community_households"]
    assert col(o)[:4] == [1499, 1500, 4000, 4001] and np.isnan(col(o)[4])
    assert passes(o) == [False, True, True, False, pd.NA]
    (row,) = o.scorecard
    assert row["value"] == 50.0 and row["unit"] == "% of communities" and row["passed"] is False
    assert o.summary["communities_assessed"] == 4 and o.summary["median"] == 2750.0


def test_community_residents_between_both_ends():
    res = [4499.99, 4500, 12000, 12000.01]
    ctx = make_ctx(boxes(0, 500, 1000, 1500, 2000), [], households=[2000] * 4, residents=res)
    out, _ = run(ctx)
    o = out["ind_community_residents"]
    assert passes(o) == [False, True, True, False]
    assert o.score_unit == "residents"


def test_meets():
    ind = load_profile().indicators
    assert meets(ind["childcare_places_per_1000"], np.array([4.5, 4.4999999999999, 4.49])).tolist() == [
        True,
        True,
        False,
    ]
    ind = load_profile(NEAREST).indicators
    assert meets(ind["health_next_to_elderly_care"], np.array([100.0, 100.01, np.inf, np.nan])).tolist() == [
        True,
        False,
        False,
        False,
    ]


# --------------------------------------------------------------------------- #
# nearest_distance: health centre next to elderly care (<= 100 m)
# --------------------------------------------------------------------------- #


def test_health_centre_next_to_elderly_care():
    # A: health centre at x=100, day-care centre at x=200 -> 100 m: meets (exactly at 100)
    # B: health centre at x=600, nearest elderly-care home at x=720 -> 120 m: fails
    #    (the day care at 200 is 400 m away)
    # C: no health centre -> no value
    # outside: health centre at x=1900 (beyond C), nearest elderly care 1180 m away: fails
    facs = [
        {"x": 100, "y": 0, "category": "社区卫生服务中心"},
        {"x": 200, "y": 0, "category": "日间照料中心"},
        {"x": 600, "y": 0, "category": "社区卫生服务中心"},
        {"x": 720, "y": 0, "category": "养老院"},
        {"x": 1900, "y": 0, "category": "社区卫生服务中心"},
    ]
    ctx = make_ctx(boxes(0, 500, 1000, 1500), facs, households=[2000] * 3, profile=NEAREST)
    out, _ = run(ctx)
    o = out["ind_health_next_to_elderly_care"]
    assert col(o)[:2] == pytest.approx([100.0, 120.0]) and np.isnan(col(o)[2])
    assert passes(o) == [True, False, pd.NA]
    (row,) = o.scorecard
    assert row["value"] == pytest.approx(100 / 3) and row["unit"] == "% of facilities"
    layer = o.layers["ind_health_next_to_elderly_care"]
    assert layer["nearest_m"].tolist() == pytest.approx([100.0, 120.0, 1180.0])
    assert list(layer["passed"]) == [True, False, False]
    assert list(layer["community_id"]) == [1, 2, None]
    assert layer["facility"].tolist() == [1, 3, 5]


def test_nearest_distance_takes_the_worst_facility_of_a_community():
    # two health centres in A: 50 m and 150 m from the day care at x=250 -> A's value 150, fails
    facs = [
        {"x": 200, "category": "社区卫生服务中心"},
        {"x": 400, "category": "社区卫生服务中心"},
        {"x": 250, "category": "日间照料中心"},
    ]
    facs = [dict(f, y=0.0) for f in facs]
    ctx = make_ctx(boxes(0, 500), facs, households=[2000], profile=NEAREST)
    out, _ = run(ctx)
    o = out["ind_health_next_to_elderly_care"]
    assert col(o) == pytest.approx([150.0])
    assert passes(o) == [False]


def test_nearest_distance_without_targets_is_not_computed():
    ctx = make_ctx(boxes(0, 500), [{"x": 100, "category": "社区卫生服务中心"}], households=[2000], profile=NEAREST)
    out, warned = run(ctx)
    assert "ind_health_next_to_elderly_care" not in out
    assert any(
        "health_next_to_elderly_care" in str(w) and "no facility of elderly_service_centre" in str(w) for w in warned
    )


# --------------------------------------------------------------------------- #
# indicators without a measure
# --------------------------------------------------------------------------- #


def test_indicators_without_measure_are_listed_once():
    ctx = make_ctx(boxes(0, 500), [], households=[2000])
    out, warned = run(ctx)
    assert set(out) == {"ind_community_households", "ind_community_residents"}
    listed = [str(w) for w in warned if w.code == "indicator_not_computed" and "give no measure" in str(w)]
    assert len(listed) == 1
    for key in ("green_per_resident_l15", "park_min_area_l5"):
        assert key in listed[0]


def test_on_the_assess_context(monkeypatch):
    comm = gpd.GeoDataFrame({"households": [1500, 4001]}, geometry=boxes(0, 500, 1000), crs="EPSG:4544")
    fac = gpd.GeoDataFrame(
        {"category": ["托儿所"], "places": [18.0]}, geometry=[shapely.Point(250, 5)], crs="EPSG:4544"
    )
    ctx = captured_context(monkeypatch, comm, fac, street(1000))
    out, _ = run(ctx)
    assert passes(out["ind_community_households"]) == [True, False]
    # residents = households × 2.62 (the profile's household size): 18 / 3930 × 1000 = 4.58
    assert col(out["ind_childcare_places_per_1000"]) == pytest.approx([18 / 3930 * 1000, 0.0])
