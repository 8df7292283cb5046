"""The "6个1" check on a straight street, expectations worked out by hand.

Meishan items: elderly service, childcare, supermarket, health, activity space
(radius 500 m) and public green (300 m); an item outside the community counts
when at least 50 % of the community's demand weight has one within its radius.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from servicecircle.checks.sixones import six_ones_checks
from servicecircle.errors import DataWarning

from .test_floorarea import boxes, captured_context, make_ctx, street

KEYS = ["elderly_service", "childcare", "supermarket", "health", "activity_space", "public_green"]


def six_in_a(*, without=()):
    """One facility per item inside A = [0, 500]: five at x = 250, the green at x = 450."""
    cats = {
        "elderly_service": "日间照料中心",
        "childcare": "幼儿园",
        "supermarket": "超市",
        "health": "社区卫生服务站",
        "activity_space": "公共活动场所",
        "public_green": "游园",
    }
    return [{"x": 450.0 if k == "public_green" else 250.0, "category": c} for k, c in cats.items() if k not in without]


# A = [0, 500]: the facilities. B = [500, 1000]: demand at x=600 and x=900 (1 each):
#   x=600 is 350 m from x=250 (<= 500) and 150 m from the green at 450 (<= 300);
#   x=900 is 650 m and 450 m away: out of both. So 50 % of B's weight is within reach.
# C = [1000, 2000]: demand at 1100 and 1900, out of reach of everything: missing.
# D = [2000, 2500]: no demand weight and no facility: not assessable.
COMMS = boxes(0, 500, 1000, 2000, 2500)
DEMAND = [(100, 0, 1), (400, 0, 1), (600, 0, 1), (900, 0, 1), (1100, 0, 1), (1900, 0, 1)]


def run(ctx):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = six_ones_checks(ctx)
    return out, [w.message for w in caught if isinstance(w.message, DataWarning)]


def ctx_for(facilities, profile="meishan", demand=DEMAND):
    return make_ctx(COMMS, facilities, demand, households=[2, 2, 2, np.nan], profile=profile, net=street(2500))


def test_inside_within_missing_and_not_assessable():
    (o,), warned = run(ctx_for(six_in_a()))
    for k in KEYS:
        radius = 300 if k == "public_green" else 500
        assert list(o.columns[f"six_{k}"]) == ["inside", f"within_{radius}m", "missing", None]
    assert list(o.columns["six_present"]) == [6, 6, 0, 0]
    assert list(o.columns["six_missing"]) == ["", "", ",".join(KEYS), ""]
    assert o.columns["pass_six_ones"].dtype == "boolean"
    assert list(o.columns["pass_six_ones"]) == [True, True, False, pd.NA]
    assert (o.key, o.kind, o.pass_col, o.score_col, o.score_unit) == (
        "six_ones",
        "six_ones",
        "pass_six_ones",
        "six_present",
        "of 6",
    )
    s = o.summary
    assert (s["communities_assessed"], s["communities_passed"], s["communities_failed"]) == (3, 2, 1)
    assert s["share_all_present_pct"] == pytest.approx(200 / 3)
    assert s["reach_share_pct"] == 50.0 and s["present_childcare"] == 2
    assert s["confirmed"] is False  # the radii are interpretations
    card = {r["target_key"]: r for r in o.scorecard}
    assert card["six_ones"]["value"] == pytest.approx(200 / 3)
    assert card["six_ones"]["unit"] == "% of communities" and card["six_ones"]["passed"] is False
    assert card["six_health"]["value"] == pytest.approx(200 / 3)
    assert not warned


def test_reach_share_is_a_threshold(tmp_path):
    # B has exactly 50 % within reach: present at reach_share 50, missing at 60
    path = tmp_path / "p.toml"
    path.write_text(
        'schema = "servicecircle-profile/1"\nkey = "p"\nname_zh = "测试"\nname_en = "T"\n'
        'source = "t"\nextends = "meishan"\n\n[six_ones]\nreach_share = 60\n'
        'source = "test: 60 percent"\n',
        encoding="utf-8",
    )
    (o,), _ = run(ctx_for(six_in_a(), profile=str(path)))
    assert list(o.columns["six_childcare"])[:2] == ["inside", "missing"]
    assert list(o.columns["six_present"])[:2] == [6, 0]
    assert list(o.columns["pass_six_ones"])[:2] == [True, False]
    assert o.summary["reach_share_pct"] == 60.0


def test_reach_is_weighted_by_demand():
    # B's point at x=900 carries 3 of its 4 households: only 25 % within reach -> missing
    demand = [(100, 0, 1), (600, 0, 1), (900, 0, 3), (1100, 0, 1)]
    (o,), _ = run(ctx_for(six_in_a(), demand=demand))
    assert list(o.columns["six_supermarket"])[:2] == ["inside", "missing"]


def test_item_reached_at_exactly_its_radius():
    # the supermarket at x=100 is exactly 500 m from B's point at x=600
    facs = six_in_a(without=("supermarket",)) + [{"x": 100.0, "category": "超市"}]
    (o,), _ = run(ctx_for(facs))
    assert list(o.columns["six_supermarket"])[:2] == ["inside", "within_500m"]


def test_item_without_any_facility_is_not_assessed():
    (o,), warned = run(ctx_for(six_in_a(without=("supermarket",))))
    assert list(o.columns["six_supermarket"]) == [None, None, None, None]
    # A and B lack nothing that was assessed, but their supermarket is unknown: no pass/fail;
    # C misses the other five: fails.
    assert list(o.columns["pass_six_ones"]) == [pd.NA, pd.NA, False, pd.NA]
    assert list(o.columns["six_present"]) == [5, 5, 0, 0]
    assert list(o.columns["six_missing"])[2] == "elderly_service,childcare,health,activity_space,public_green"
    assert [w.code for w in warned] == ["six_ones_item_not_assessed"]
    assert "supermarket (supermarket)" in str(warned[0])
    assert o.summary["items_not_assessed"] == "supermarket"


def test_facility_on_the_border_is_inside_the_first_community():
    # every facility sits on x = 500, the edge A and B share: inside A, not inside B;
    # B's points (600: 100 m, 900: 400 m) are both within 500 m, but the green (300 m) reaches only x=600
    cats = ["日间照料中心", "幼儿园", "超市", "社区卫生服务站", "公共活动场所", "游园"]
    facs = [{"x": 500.0, "y": 0.0, "category": c} for c in cats]
    (o,), _ = run(ctx_for(facs))
    assert list(o.columns["six_health"])[:2] == ["inside", "within_500m"]
    assert list(o.columns["six_public_green"])[:2] == ["inside", "within_300m"]


def test_profile_without_six_ones():
    assert run(ctx_for([{"x": 250.0, "category": "幼儿园"}], profile="gb50180")) == ([], [])


def test_on_the_assess_context(monkeypatch):
    comm = gpd.GeoDataFrame({"households": [2, 2]}, geometry=boxes(0, 500, 1000), crs="EPSG:4544")
    cats = ["日间照料中心", "幼儿园", "超市", "社区卫生服务站", "公共活动场所", "游园"]
    fac = gpd.GeoDataFrame({"category": cats}, geometry=[shapely.Point(250, 5)] * 6, crs="EPSG:4544")
    ctx = captured_context(monkeypatch, comm, fac, street(1000))
    # sampled demand: B gets 40 equal points at x = 525 ... 975, y = ±25, ±75. From the
    # facilities (snapped to x = 250, 5 m access) a point is 5 + (x - 250) + |y| away:
    # within 500 m for x <= 720 (|y| = 25: 4 columns) or x <= 670 (|y| = 75: 3 columns),
    # 14 of 40 points = 35 % < 50 %: missing; within 300 m: none.
    (o,), _ = run(ctx)
    assert list(o.columns["six_present"]) == [6, 0]
    assert list(o.columns["six_childcare"]) == ["inside", "missing"]
    assert list(o.columns["pass_six_ones"]) == [True, False]
