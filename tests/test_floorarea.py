"""The floor-area check on small, hand-computed cases.

Communities are boxes along one straight street (the x axis); demand points and
facilities sit on the street, so every walking distance is a difference of x
coordinates. Expected numbers are worked out by hand in the comments.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import servicecircle as sc
from servicecircle.checks.context import Context
from servicecircle.checks.floorarea import build_type_kind, floor_area_checks
from servicecircle.demand import assign_to_communities
from servicecircle.engine import DistanceEngine, snap_points
from servicecircle.errors import DataWarning
from servicecircle.network import network_from_arrays
from servicecircle.profiles import load_profile

CRS = "EPSG:4544"
FAC_COLUMNS = {"floor_area": "floor_area_m2", "build_type": "build_type", "places": "places", "area": "area_m2"}


def street(length: float = 2000.0):
    """One straight street from (0, 0) to (length, 0)."""
    return network_from_arrays(np.array([[0.0, 0.0], [length, 0.0]]), [0], [1], CRS)


def make_ctx(
    comms,
    facilities,
    demand=(),
    *,
    households=None,
    residents=None,
    profile="meishan",
    net=None,
    weight_kind="households",
    types="urban",
):
    """A Context built by hand, as :func:`servicecircle.assess` builds it.

    ``facilities``: dicts with ``x``, ``y`` (default 0), ``category`` and any
    attributes (``floor_area_m2``, ``build_type``, ``places``, ``area_m2``).
    ``demand``: ``(x, y, weight)`` triples. ``types``: the community types (one for all, a list, or None:
    unknown), as Part B's prepare stage sets ``Context.comm_type``.
    """
    net = net or street()
    prof = load_profile(profile)
    comm_geom = np.asarray(comms, dtype=object)
    n = len(comm_geom)
    hh = np.full(n, np.nan) if households is None else np.asarray(households, dtype=float)
    res = hh * prof.household_size if residents is None else np.asarray(residents, dtype=float)
    facs = [dict(f) for f in facilities]
    xy = np.array([(f.pop("x"), f.pop("y", 0.0)) for f in facs], dtype=float).reshape(-1, 2)
    fac_geom = np.asarray(shapely.points(xy), dtype=object)
    fac = gpd.GeoDataFrame(pd.DataFrame(facs), geometry=list(fac_geom), crs=CRS)
    if "category" not in fac.columns:
        fac["category"] = pd.Series(dtype=object)
    fac_key = np.array([prof.category_for(c).key for c in fac["category"]], dtype=object)
    fac_snap = snap_points(net, fac_geom, 250.0)
    engine = DistanceEngine(net, fac_snap)
    dem = np.asarray(demand, dtype=float).reshape(-1, 3)
    d_geom = np.asarray(shapely.points(dem[:, :2]), dtype=object)
    d_snap = snap_points(net, d_geom, 250.0)
    ctx = Context(
        profile=prof,
        network=net,
        engine=engine,
        max_snap=250.0,
        progress=False,
        boundaries=gpd.GeoDataFrame({"community_id": np.arange(1, n + 1)}, geometry=list(comm_geom), crs=CRS),
        comm_geom=comm_geom,
        comm_ids=np.arange(1, n + 1),
        households=hh,
        residents=res,
        facilities=fac,
        fac_geom=fac_geom,
        fac_key=fac_key,
        fac_snap=fac_snap,
        d_geom=d_geom,
        d_weight=dem[:, 2].copy(),
        d_comm=assign_to_communities(d_geom, comm_geom),
        d_snap=d_snap,
        d_att=engine.attach(d_snap),
        weight_kind=weight_kind,
        fac_columns=dict(FAC_COLUMNS),
        fac_comm=assign_to_communities(fac_geom, comm_geom),
    )
    if types is not None:
        ctx.comm_type = np.array([types] * n if isinstance(types, str) else list(types), dtype=object)
    return ctx


def boxes(*xs, half_height=100.0):
    """Boxes between consecutive x values: boxes(0, 500, 1000) -> [0..500], [500..1000]."""
    return [shapely.box(a, -half_height, b, half_height) for a, b in zip(xs[:-1], xs[1:])]


def station(x, area, build="新建", y=10.0, category="社区服务站"):
    return {"x": x, "y": y, "category": category, "floor_area_m2": area, "build_type": build}


def run(ctx):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = floor_area_checks(ctx)
    return out, [w.message for w in caught if isinstance(w.message, DataWarning)]


def only(ctx):
    out, warned = run(ctx)
    assert len(out) == 1
    return out[0], warned


def col(outcome, name):
    return list(outcome.columns[name])


# --------------------------------------------------------------------------- #
# the rate: 40 m² per 100 households (Meishan)
# --------------------------------------------------------------------------- #


def test_exactly_at_the_rate_passes_and_just_above_fails():
    # A: 1250 hh -> 40 × 12.5 = 500 m² required; 500 m² new provided: pass.
    # B: 1250.5 hh -> 500.2 m² required; 500 provided: fail by 0.2 m².
    # C: 1249.99 hh -> 499.996 by the rate, but a new facility must be >= 500: 500; pass.
    ctx = make_ctx(
        boxes(0, 500, 1000, 1500),
        [station(250, 500), station(750, 500), station(1250, 500)],
        households=[1250, 1250.5, 1249.99],
    )
    o, _ = only(ctx)
    assert col(o, "fa_required_m2") == pytest.approx([500.0, 500.2, 500.0])
    assert col(o, "fa_provided_m2") == pytest.approx([500.0, 500.0, 500.0])
    assert col(o, "fa_shortfall_m2") == pytest.approx([0.0, 0.2, 0.0])
    assert col(o, "pass_floor_area") == [True, False, True]
    assert col(o, "fa_per_100hh") == pytest.approx([40.0, 100 * 500 / 1250.5, 100 * 500 / 1249.99])
    assert col(o, "fa_households") == [1250, 1250.5, 1249.99]
    assert col(o, "fa_rule") == ["contains"] * 3
    assert col(o, "fa_facilities") == [1, 1, 1]
    assert col(o, "fa_undersized") == [0, 0, 0]
    assert o.pass_col == "pass_floor_area" and o.score_col == "fa_shortfall_m2" and o.score_unit == "m²"
    assert o.columns["pass_floor_area"].dtype == "boolean"
    s = o.summary
    assert (s["communities_assessed"], s["communities_passed"], s["communities_failed"]) == (3, 2, 1)
    assert s["target"] == 40.0 and s["kind"] == "floor_area" and s["check"] == "floor_area"
    # citywide: 1500 m² over 3750.49 households = 39.995 m² per 100 households: below 40
    card = {r["target_key"]: r for r in o.scorecard}
    assert card["floor_area"]["value"] == pytest.approx(100 * 1500 / 3750.49)
    assert card["floor_area"]["target"] == 40.0 and card["floor_area"]["passed"] is False
    # totals: provided 1500 vs required 1500.2 -> fails in total, shortfall 0.2
    assert card["floor_area_total"]["value"] == pytest.approx(1500.0)
    assert card["floor_area_total"]["target"] == pytest.approx(1500.2)
    assert card["floor_area_total"]["passed"] is False
    assert s["shortfall_m2"] == pytest.approx(0.2)
    for row in o.scorecard:
        assert set(row) >= {
            "target_key",
            "name_zh",
            "name_en",
            "value",
            "unit",
            "target",
            "comparison",
            "passed",
            "method",
            "source",
            "confirmed",
        }


def test_several_facilities_add_up_and_a_surplus_is_not_a_shortfall():
    # 3000 hh -> 1200 m² required; 700 + 600 = 1300 provided: pass, shortfall 0, 43.33 per 100 hh
    ctx = make_ctx(boxes(0, 1000), [station(200, 700), station(800, 600, "租用")], households=[3000])
    o, _ = only(ctx)
    assert col(o, "fa_required_m2") == [1200.0]
    assert col(o, "fa_provided_m2") == [1300.0]
    assert col(o, "fa_shortfall_m2") == [0.0]
    assert col(o, "fa_per_100hh") == pytest.approx([1300 / 30])
    assert col(o, "fa_facilities") == [2]
    assert col(o, "pass_floor_area") == [True]


# --------------------------------------------------------------------------- #
# minimum size: new >= 500 m², rebuilt / extended / bought / leased >= 300 m²
# --------------------------------------------------------------------------- #


def test_minimum_size_new_versus_rebuilt():
    # every community has 200 households: 40 × 2 = 80 m² by the rate, so the minimum rules.
    # A: one new 400 m² facility -> required 500, shortfall 100, undersized (400 < 500)
    # B: one leased (租用) 400 m² facility -> required 300, pass, not undersized
    # C: no facility -> required 500 (a facility to be planned counts as new), shortfall 500
    # D: one rebuilt 350 + one new 200 -> not all rebuilt -> 500; provided 550 pass; new 200 undersized
    # E: two rebuilt (改扩建 250, extended 100) -> 300; provided 350 pass; both below 300: undersized 2
    facs = [
        station(250, 400, "新建"),
        station(750, 400, "租用"),
        station(1600, 350, "改建"),
        station(1700, 200, "New"),
        station(2100, 250, "改扩建"),
        station(2200, 100, " Extended "),
    ]
    ctx = make_ctx(boxes(0, 500, 1000, 1500, 2000, 2500), facs, households=[200] * 5, net=street(3000))
    o, warned = only(ctx)
    assert col(o, "fa_min_m2") == [500, 300, 500, 500, 300]
    assert col(o, "fa_required_m2") == [500, 300, 500, 500, 300]
    assert col(o, "fa_provided_m2") == [400, 400, 0, 550, 350]
    assert col(o, "fa_shortfall_m2") == [100, 0, 500, 0, 0]
    assert col(o, "fa_undersized") == [1, 0, 0, 1, 2]
    assert col(o, "pass_floor_area") == [False, True, False, True, True]
    assert not [w for w in warned if w.code == "build_type_unknown"]


def test_unknown_build_type_counts_as_new_and_says_so():
    # 200 households; a 300 m² facility of unknown type: held to the new minimum (500)
    ctx = make_ctx(boxes(0, 500, 1000), [station(250, 300, "不详"), station(750, 300, None)], households=[200, 200])
    o, warned = only(ctx)
    assert col(o, "fa_required_m2") == [500, 500]
    assert col(o, "pass_floor_area") == [False, False]
    msg = [str(w) for w in warned if w.code == "build_type_unknown"]
    assert len(msg) == 1 and "2 of 2 facilities" in msg[0] and "'不详'" in msg[0]
    assert "treated as newly built" in msg[0]


def test_no_build_type_column_counts_as_new():
    ctx = make_ctx(boxes(0, 500), [station(250, 300)], households=[200])
    ctx.fac_columns["build_type"] = None
    o, warned = only(ctx)
    assert col(o, "fa_required_m2") == [500]
    assert any(w.code == "build_type_unknown" and "no build type column" in str(w) for w in warned)


def test_build_type_words():
    rebuilt, known = build_type_kind(
        [
            "新建",
            "改建",
            "扩建",
            "改扩建",
            "购置",
            "租用",
            "租赁",
            "rebuilt",
            "Extended",
            "BOUGHT",
            "leased",
            "new",
            "",
            None,
            3,
            "其他",
        ]
    )
    assert rebuilt.tolist() == [False] + [True] * 10 + [False] * 5
    assert known.tolist() == [True] * 12 + [False] * 4


# --------------------------------------------------------------------------- #
# which facilities count
# --------------------------------------------------------------------------- #


def test_facility_on_a_shared_border_counts_once_for_the_first_community():
    # A = [0, 500], B = [500, 1000] share the edge x = 500; the facility lies exactly on it.
    # It belongs to A (listed first): A provided 600, B 0, total 600 (not 1200).
    ctx = make_ctx(boxes(0, 500, 1000), [station(500, 600, y=0.0)], households=[1000, 1000])
    assert shapely.intersects(ctx.fac_geom[0], ctx.comm_geom).all()  # really on both
    o, _ = only(ctx)
    assert col(o, "fa_provided_m2") == [600.0, 0.0]
    assert sum(col(o, "fa_provided_m2")) == 600.0
    assert col(o, "fa_facilities") == [1, 0]
    assert o.summary["provided_m2"] == 600.0


def test_other_categories_and_facilities_outside_do_not_count():
    # the kindergarten's floor area is not community service floor area; the station
    # at x = 1200 lies outside every community. The 邻里中心 (neighbourhood centre) counts.
    facs = [
        station(250, 500),
        {"x": 300, "category": "幼儿园", "floor_area_m2": 9000},
        station(1200, 800),
        station(400, 2000, category="邻里中心"),
    ]
    ctx = make_ctx(boxes(0, 500), facs, households=[1000])
    o, _ = only(ctx)
    assert col(o, "fa_provided_m2") == [2500.0]
    assert o.summary["facilities"] == 3
    assert o.summary["facilities_not_counted"] == 1


def test_a_facility_without_floor_area_makes_its_community_partial_not_zero():
    # A: 1000 hh -> 400 by the rate, new minimum 500; 500 m² known + one facility with no area:
    #    the known 500 already meets 500 -> pass, shortfall 0, provided unknown (NaN), "partial"
    # B: 2000 hh -> 800 required; 500 known + one without area: 500 < 800 -> no pass/fail, no shortfall
    # C: 1000 hh, no facility at all (the input does give floor areas): provided 0, shortfall 500, fail
    # D: 1000 hh, its only facility has no floor area (an unfilled template row): "no data", not 0
    facs = [station(100, 500), station(200, np.nan), station(600, 500), station(700, np.nan), station(1700, np.nan)]
    ctx = make_ctx(boxes(0, 500, 1000, 1500, 2000), facs, households=[1000, 2000, 1000, 1000])
    o, warned = only(ctx)
    prov = col(o, "fa_provided_m2")
    assert np.isnan(prov[0]) and np.isnan(prov[1]) and prov[2] == 0.0 and np.isnan(prov[3])
    assert col(o, "fa_data") == ["partial", "partial", "given", "no data"]
    assert col(o, "fa_required_m2") == [500.0, 800.0, 500.0, 500.0]
    passed = col(o, "pass_floor_area")
    assert [passed[0], passed[2]] == [True, False] and passed[1] is pd.NA and passed[3] is pd.NA
    short = col(o, "fa_shortfall_m2")
    assert short[0] == 0.0 and np.isnan(short[1]) and short[2] == 500.0 and np.isnan(short[3])
    assert col(o, "fa_no_area") == [1, 1, 0, 1] and col(o, "fa_facilities") == [2, 2, 0, 1]
    assert o.summary["facilities_no_floor_area"] == 3
    assert (o.summary["communities_assessed"], o.summary["communities_no_data"]) == (2, 2)
    # the citywide figures are "no data" while a community's provided floor area is unknown
    card = {r["target_key"]: r for r in o.scorecard}
    assert np.isnan(card["floor_area"]["value"]) and card["floor_area"]["passed"] is None
    assert np.isnan(card["floor_area_total"]["value"]) and card["floor_area_total"]["passed"] is None
    assert card["floor_area_total"]["target"] == 2300.0  # required for every community, data or not
    assert "no data for 3 of 4 communities" in card["floor_area_total"]["method"]
    w = [w for w in warned if w.code == "floor_area_missing"]
    assert len(w) == 1 and "3 of 5 facilities" in str(w[0]) and "unknown" in str(w[0])


def test_community_without_households_has_no_pass_fail():
    ctx = make_ctx(boxes(0, 500, 1000), [station(250, 500), station(750, 500)], households=[1000, np.nan])
    o, warned = only(ctx)
    assert col(o, "pass_floor_area")[:1] == [True]
    assert col(o, "pass_floor_area")[1] is pd.NA
    assert np.isnan(col(o, "fa_required_m2")[1]) and np.isnan(col(o, "fa_shortfall_m2")[1])
    assert col(o, "fa_provided_m2")[1] == 500.0
    assert o.summary["communities_assessed"] == 1
    assert any(w.code == "floor_area_no_households" for w in warned)


def no_data_columns(o, required):
    """Every community: required as given, provided / shortfall / pass unknown, 'no data'."""
    assert col(o, "fa_required_m2") == required
    assert all(np.isnan(v) for v in col(o, "fa_provided_m2"))
    assert all(np.isnan(v) for v in col(o, "fa_shortfall_m2"))
    assert all(np.isnan(v) for v in col(o, "fa_per_100hh"))
    assert all(v is pd.NA for v in col(o, "pass_floor_area"))
    assert col(o, "fa_data") == ["no data"] * len(required)
    assert o.summary["communities_assessed"] == 0 and o.summary["communities_failed"] == 0
    needed = [r for r in required if isinstance(r, float)]  # the communities with households
    assert o.summary["communities_no_data"] == o.summary["communities_required"] == len(needed)
    assert o.summary["required_m2"] == pytest.approx(sum(needed))
    assert np.isnan(o.summary["provided_m2"]) and np.isnan(o.summary["shortfall_m2"])
    card = {r["target_key"]: r for r in o.scorecard}
    assert np.isnan(card["floor_area"]["value"]) and card["floor_area"]["passed"] is None
    assert np.isnan(card["floor_area_total"]["value"]) and card["floor_area_total"]["passed"] is None
    assert card["floor_area_total"]["target"] == pytest.approx(sum(needed))
    assert "provided: no data" in card["floor_area_total"]["method"]


def test_no_floor_area_data_is_no_data_not_zero_and_not_a_fail():
    # gb50180 has no [floor_area]: nothing, silently
    ctx = make_ctx(boxes(0, 500), [station(250, 500)], households=[1000], profile="gb50180")
    assert run(ctx) == ([], [])
    # 1000 hh -> max(400, 500) = 500; 3000 hh -> 1200; no households -> nothing required
    hh = [1000, 3000, np.nan]
    # no floor area column
    ctx = make_ctx(boxes(0, 500, 1000, 1500), [station(250, 500)], households=hh)
    ctx.fac_columns["floor_area"] = None
    o, warned = only(ctx)
    no_data_columns(o, [500.0, 1200.0, pytest.approx(np.nan, nan_ok=True)])
    msg = [str(w) for w in warned if w.code == "floor_area_no_data"]
    assert len(msg) == 1 and "no floor area column" in msg[0] and "'no data' for every community" in msg[0]
    # the register's reason for the floor-area rows is the check's own, with its fix
    assert (
        ctx.not_assessed["floor_area"] == "the facilities have no floor area column (name it with floor_area_column=)"
    )
    # no facility of the rule's categories (a kindergarten's floor area does not count)
    ctx = make_ctx(boxes(0, 500, 1000), [{"x": 250, "category": "幼儿园", "floor_area_m2": 500.0}], households=hh[:2])
    o, warned = only(ctx)
    no_data_columns(o, [500.0, 1200.0])
    assert any("no facility of community_service_station, neighbourhood_centre" in str(w) for w in warned)
    assert (
        ctx.not_assessed["floor_area"] == "no facility of community_service_station, neighbourhood_centre in the input"
    )
    # facilities of the categories, every floor area empty (an unfilled template)
    ctx = make_ctx(boxes(0, 500, 1000), [station(250, np.nan), station(750, np.nan, "改建")], households=hh[:2])
    o, warned = only(ctx)
    no_data_columns(o, [500.0, 1200.0])
    assert col(o, "fa_facilities") == [1, 1] and col(o, "fa_no_area") == [1, 1]
    assert any("none of the 2 facilities" in str(w) for w in warned)


def test_required_by_community_type_and_build_type():
    # Meishan: 40 m² per 100 households; new >= 500 m²; rebuilt (改建/扩建/购置/租用) >= 300 m² in urban
    # communities only (min_rebuilt_applies_to = ["urban"]); unknown type -> the new minimum, warned.
    # 200 households -> 80 m² by the rate, so the minimum decides; 2000 households -> 800 m² by the rate.
    #   type     build     hh    minimum  required
    cases = [
        ("urban", "新建", 200, 500, 500),
        ("urban", "改建", 200, 300, 300),
        ("urban", "不详", 200, 500, 500),  # an unknown build type counts as new
        ("urban", None, 200, 500, 500),  # no facility: one to be planned counts as new
        ("town", "新建", 200, 500, 500),
        ("town", "租用", 200, 500, 500),
        ("town", "?", 200, 500, 500),
        ("rural", "新建", 200, 500, 500),
        ("rural", "购置", 200, 500, 500),
        ("rural", "", 200, 500, 500),
        (None, "新建", 200, 500, 500),
        (None, "扩建", 200, 500, 500),  # unknown type: the new minimum
        ("urban", "改建", 2000, 300, 800),
        ("town", "改建", 2000, 500, 800),
        (None, "改建", 2000, 500, 800),
    ]
    xs = [500.0 * i for i in range(len(cases) + 1)]
    facs = [station(x + 250, 100, b) for x, (_, b, *_r) in zip(xs, cases) if b is not None]
    ctx = make_ctx(
        boxes(*xs),
        facs,
        households=[c[2] for c in cases],
        types=[c[0] for c in cases],
        net=street(xs[-1] + 500),
    )
    o, warned = only(ctx)
    assert col(o, "fa_min_m2") == [c[3] for c in cases]
    assert col(o, "fa_required_m2") == [c[4] for c in cases]
    # 100 m² each: a shortfall of required - 100 everywhere (none where there is no facility: 500)
    assert col(o, "fa_shortfall_m2") == [c[4] - (0 if c[1] is None else 100) for c in cases]
    msg = [str(w) for w in warned if w.code == "floor_area_type_unknown"]
    assert len(msg) == 1 and msg[0].startswith("2 communities") and "new minimum 500 m²" in msg[0]
    # per facility: a rebuilt 100 m² one is undersized against 300 in urban, 500 elsewhere -- all are
    assert col(o, "fa_undersized") == [0 if c[1] is None else 1 for c in cases]


def test_rebuilt_minimum_for_every_type_when_the_profile_says_so(tmp_path):
    # a profile without min_rebuilt_applies_to: 300 m² for a rebuilt facility of any (or unknown) type
    path = tmp_path / "every.toml"
    path.write_text(
        'schema = "servicecircle-profile/1"\nkey = "every"\nname_zh = "测试"\nname_en = "test"\n'
        'source = "test"\nextends = "meishan"\n\n[floor_area]\n'
        'min_rebuilt_applies_to = ["urban", "town", "rural"]\nsource = "test"\n',
        encoding="utf-8",
    )
    ctx = make_ctx(
        boxes(0, 500, 1000, 1500),
        [station(250, 300, "改建"), station(750, 300, "改建"), station(1250, 300, "改建")],
        households=[200, 200, 200],
        types=["town", "rural", None],
        profile=str(path),
    )
    o, warned = only(ctx)
    assert col(o, "fa_required_m2") == [300.0, 300.0, 300.0]
    assert col(o, "pass_floor_area") == [True, True, True]
    assert not [w for w in warned if w.code == "floor_area_type_unknown"]


def test_applies_to_limits_the_check_to_its_types(tmp_path):
    path = tmp_path / "urban.toml"
    path.write_text(
        'schema = "servicecircle-profile/1"\nkey = "urbanonly"\nname_zh = "测试"\nname_en = "test"\n'
        'source = "test"\nextends = "meishan"\n\n[floor_area]\napplies_to = ["urban"]\nsource = "test"\n',
        encoding="utf-8",
    )
    ctx = make_ctx(
        boxes(0, 500, 1000),
        [station(250, 600), station(750, 100)],
        households=[1000, 1000],
        types=["urban", "rural"],
        profile=str(path),
    )
    o, _ = only(ctx)
    assert col(o, "fa_required_m2")[0] == 500.0 and np.isnan(col(o, "fa_required_m2")[1])
    assert col(o, "pass_floor_area")[:1] == [True] and col(o, "pass_floor_area")[1] is pd.NA
    assert col(o, "fa_data") == ["given", "does not apply"]
    assert o.applies.tolist() == [True, False]
    assert o.summary["communities_required"] == 1


# --------------------------------------------------------------------------- #
# catchment assignment: two-step floating catchment on the demand points
# --------------------------------------------------------------------------- #


CATCHMENT = """\
schema = "servicecircle-profile/1"
key = "catch"
name_zh = "测试"
name_en = "Catchment test"
source = "test"
extends = "meishan"

[floor_area]
assignment = "catchment"
catchment_radius_m = 300
source = "test: catchment reading"
"""


def test_catchment_split_by_hand(tmp_path):
    # street 0..1000; A = [0, 500], B = [500, 1000]; demand on the street (walk = |dx|).
    # F at x=500, 600 m² new; G at x=950, 300 m² new; radius 300.
    # demand: A x=100 w10 (400 from F: out), x=200 w10 (300 from F: exactly in), x=300 w10 (200: in);
    #         B x=700 w20 (F 200 in, G 250 in), x=900 w5 (F 400 out, G 50 in).
    # F: reached weight 10 + 10 + 20 = 40 -> 15 m² per unit: A 20 × 15 = 300, B 20 × 15 = 300
    # G: reached weight 20 + 5 = 25 -> 12 m² per unit: B 25 × 12 = 300
    # A: 500 hh -> max(200, 500) = 500 required; 300 provided -> shortfall 200
    # B: 1000 hh -> max(400, 500) = 500 required; 600 provided -> pass
    path = tmp_path / "catch.toml"
    path.write_text(CATCHMENT, encoding="utf-8")
    facs = [station(500, 600, y=0.0), station(950, 300, y=0.0)]
    demand = [(100, 0, 10), (200, 0, 10), (300, 0, 10), (700, 0, 20), (900, 0, 5)]
    ctx = make_ctx(boxes(0, 500, 1000), facs, demand, households=[500, 1000], profile=str(path), net=street(1000))
    o, _ = only(ctx)
    assert col(o, "fa_provided_m2") == pytest.approx([300.0, 600.0])
    assert col(o, "fa_required_m2") == pytest.approx([500.0, 500.0])
    assert col(o, "fa_shortfall_m2") == pytest.approx([200.0, 0.0])
    assert col(o, "pass_floor_area") == [False, True]
    assert col(o, "fa_facilities") == [1, 2]
    assert col(o, "fa_rule") == ["catchment_300m"] * 2
    # every square metre is counted once: 300 + 600 = 600 + 300
    assert sum(col(o, "fa_provided_m2")) == pytest.approx(900.0)
    assert o.summary["rule"] == "catchment_300m" and o.summary["radius_m"] == 300.0


def test_catchment_facility_reaching_no_one_is_reported(tmp_path):
    path = tmp_path / "catch.toml"
    path.write_text(CATCHMENT, encoding="utf-8")
    # H at x=1900 reaches no demand point (all within [0, 500])
    facs = [station(250, 600, y=0.0), station(1900, 400, y=0.0)]
    ctx = make_ctx(boxes(0, 500), facs, [(250, 0, 1)], households=[1000], profile=str(path))
    o, warned = only(ctx)
    assert col(o, "fa_provided_m2") == [600.0]
    assert o.summary["facilities_not_counted"] == 1
    assert any(w.code == "floor_area_unused" for w in warned)


# --------------------------------------------------------------------------- #
# on the Context that assess() builds
# --------------------------------------------------------------------------- #


def captured_context(monkeypatch, *args, **kw) -> Context:
    """Run assess() and keep the Context it hands to the checks."""
    import servicecircle.assessment.stages as assessment  # the stage that runs the checks

    seen = {}
    original = assessment.lifecircle_checks

    def spy(ctx, *a, **k):
        seen["ctx"] = ctx
        return original(ctx, *a, **k)

    monkeypatch.setattr(assessment, "lifecircle_checks", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sc.assess(*args, **kw)
    return seen["ctx"]


def test_on_the_assess_context(monkeypatch):
    comm = gpd.GeoDataFrame({"code": ["A", "B"], "households": [1250, 200]}, geometry=boxes(0, 500, 1000), crs=CRS)
    fac = gpd.GeoDataFrame(
        {
            "category": ["社区服务站", "社区服务站", "幼儿园"],
            "floor_area_m2": [500.0, 300.0, 800.0],
            "build_type": ["新建", "购置", "新建"],
        },
        geometry=[shapely.Point(250, 10), shapely.Point(750, 10), shapely.Point(700, 5)],
        crs=CRS,
    )
    ctx = captured_context(monkeypatch, comm, fac, street(1000), id_column="code")
    # no community type is known here: B's bought (购置) 300 m² facility is held to the new minimum
    ctx.comm_type = None
    o, _ = only(ctx)
    assert col(o, "fa_required_m2") == [500.0, 500.0]
    assert col(o, "fa_provided_m2") == [500.0, 300.0]
    assert col(o, "pass_floor_area") == [True, False]
    ctx.comm_type = np.array(["urban", "urban"], dtype=object)
    o, _ = only(ctx)
    assert col(o, "fa_required_m2") == [500.0, 300.0]
    assert col(o, "pass_floor_area") == [True, True]
