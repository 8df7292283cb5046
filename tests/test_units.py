"""Community types, the unit hierarchy and the roll-up (servicecircle.inputs.units, checks.rollup)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from servicecircle.checks.rollup import rollup_table, unit_frame
from servicecircle.errors import DataWarning, InputDataError, OptionError
from servicecircle.inputs.register import read_register
from servicecircle.inputs.units import (
    community_types,
    community_units,
    parse_overrides,
    type_from_register,
    type_of_value,
)

ROOT = Path(__file__).resolve().parents[1]
MEISHAN = ROOT.parent / "shared" / "data" / "meishan" / "adcode"

# A hand-made register: one city, one county, a 街道, a 镇 and a 乡, and their villages.
REGISTER_ROWS = [
    ("519900000000", "510000000000", "样市", "city"),
    ("519901000000", "519900000000", "甲区", "county"),
    ("519901001000", "519901000000", "东街道办事处", "town"),
    ("519901101000", "519901000000", "西镇", "town"),
    ("519901201000", "519901000000", "南乡", "town"),
    ("519901001001", "519901001000", "东一社区居民委员会", "village"),
    ("519901101001", "519901101000", "西镇社区居委会", "village"),
    ("519901201002", "519901201000", "南乡居民委员会", "village"),
    ("519901201201", "519901201000", "白果村民委员会", "village"),
    ("519901101202", "519901101000", "新华村委会", "village"),
]


@pytest.fixture
def register_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "adcode"
    folder.mkdir()
    lines = [
        f"{c},{p},{n},{r},{ {'city': 2, 'county': 3, 'town': 4, 'village': 5}[r] }" for c, p, n, r in REGISTER_ROWS
    ]
    (folder / "adcode_519901.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _communities(codes, **columns) -> gpd.GeoDataFrame:
    n = len(codes)
    frame = gpd.GeoDataFrame(
        {"code": codes, **columns}, geometry=[box(i, 0, i + 1, 1) for i in range(n)], crs="EPSG:4544"
    )
    frame.attrs["source"] = "comm.gpkg"
    return frame


# ---------------------------------------------------------------------------------------------- type values
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("城市社区", "urban"),
        ("城市", "urban"),
        ("城镇社区", "urban"),
        ("Urban", "urban"),
        (" urban community ", "urban"),
        ("集镇社区", "town"),
        ("集镇", "town"),
        ("乡镇社区", "town"),
        ("TOWN", "town"),
        ("农村社区", "rural"),
        ("村", "rural"),
        ("Rural", "rural"),
        ("village", "rural"),
        ("ｕｒｂａｎ", "urban"),  # full-width letters (NFKC)
        ("", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_type_values(value, expected):
    assert type_of_value(value) == expected


def test_type_value_not_recognised():
    with pytest.raises(ValueError):
        type_of_value("郊区")


# ---------------------------------------------------------------------------------------------- type rules
def test_each_register_rule(register_dir):
    reg = read_register(register_dir)
    assert type_from_register("519901001001", reg) == ("urban", "code register: parent 东街道办事处 is a 街道")
    assert type_from_register("519901101001", reg) == ("town", "code register: parent 西镇 is a 镇")
    assert type_from_register("519901201002", reg) == ("town", "code register: parent 南乡 is a 乡")
    assert type_from_register("519901201201", reg) == ("rural", "code register: 白果村民委员会 is a 村")
    assert type_from_register("519901101202", reg) == ("rural", "code register: 新华村委会 is a 村")
    t, rule = type_from_register("519901001000", reg)
    assert t is None and rule.startswith("unknown: code 519901001000 is a 街道")
    # a residents' committee's code the register lacks, under a 街道 it has
    assert type_from_register("519901001099", reg) == (
        "urban",
        "code register: parent 东街道办事处 is a 街道 (code 519901001099 itself is not in the register)",
    )
    t, rule = type_from_register("519901001999", reg)  # segment 999: neither kind, not in the register
    assert t is None and "not in the code register" in rule


def test_rules_without_register():
    # a village committee's code (segment 2xx) says 村 by itself; a residents' committee needs its parent
    assert type_from_register("519901201201", None)[0] == "rural"
    t, rule = type_from_register("519901001001", None)
    assert t is None and "needs a code register" in rule


def test_community_types_column_code_override_unknown(register_dir):
    reg = read_register(register_dir)
    comm = _communities(
        ["519901001001", "519901101001", "519901201201", "519901201002", "519901001999", None],
        kind=["农村社区", None, "", None, None, None],
    )
    with pytest.warns(DataWarning, match="2 of 6 communities have no type") as rec:
        t = community_types(comm, type_column="kind", code_column="code", register=reg, overrides="519901201002=urban")
    assert list(t.types) == ["rural", "town", "rural", "urban", None, None]
    assert list(t.rules) == [
        "column kind",  # the column comes before the code
        "code register: parent 西镇 is a 镇",
        "code register: 白果村民委员会 is a 村",
        "override",
        "unknown: code 519901001999 is not in the code register",
        "unknown: no code",
    ]
    assert rec[0].message.count == 2
    assert t.counts() == {"urban": 1, "town": 1, "rural": 2, "unknown": 2}


def test_overrides_parse_and_refuse():
    assert parse_overrides({"519901001001": "集镇社区"}) == {"519901001001": "town"}
    with pytest.raises(OptionError, match="not code=type"):
        parse_overrides("519901001001:town")
    with pytest.raises(OptionError, match="does not name a community and a type"):
        parse_overrides("519901001001=suburb")


def test_override_of_unknown_community(register_dir):
    comm = _communities(["519901001001"])
    with pytest.raises(OptionError, match="no community has the code or id 519901009999"):
        community_types(comm, code_column="code", register=read_register(register_dir), overrides="519901009999=town")


# ---------------------------------------------------------------------------------------------- bad input
def test_bad_type_value_one_line(register_dir):
    comm = _communities(["519901001001", "519901101001"], kind=["城市社区", "郊区"])
    with pytest.raises(InputDataError) as err:
        community_types(comm, type_column="kind", id_column="code")
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("comm.gpkg feature #2 (code=519901101001): '郊区' in column 'kind' is not a community type")
    assert "Fix: write 城市社区/集镇社区/农村社区" in msg


def test_bad_code_one_line(register_dir):
    comm = _communities(["519901001001", "5199010010"])
    with pytest.raises(InputDataError) as err:
        community_types(comm, code_column="code", register=read_register(register_dir))
    msg = str(err.value)
    assert "comm.gpkg feature #2" in msg and "'5199010010' in column 'code' is not a 12-digit" in msg
    assert "Fix:" in msg and "\n" not in msg


def test_guessed_code_column_is_not_strict():
    comm = _communities(["A1", "A2"])
    with pytest.warns(DataWarning):
        t = community_types(comm, code_column="code", strict_codes=False)
    assert list(t.types) == [None, None]


def test_register_missing_or_bad(tmp_path):
    with pytest.raises(InputDataError, match="the code register file does not exist. Fix: give code_register"):
        read_register(tmp_path / "nope.csv")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputDataError, match="folder has no .csv file"):
        read_register(empty)
    bad = tmp_path / "bad.csv"
    bad.write_text("519901001001,519901001000,东一社区,village,5\n51990100100,519901001000,x,village,5\n")
    with pytest.raises(InputDataError) as err:
        read_register(bad)
    assert "bad.csv feature line 2: code '51990100100' is not a 12-digit administrative code" in str(err.value)


# ---------------------------------------------------------------------------------------------- Meishan
@pytest.fixture(scope="module")
def meishan():
    if not MEISHAN.exists():
        pytest.skip("../shared/data/meishan/adcode is not here")
    return read_register(MEISHAN)


def test_meishan_register_counts(meishan):
    towns = meishan.of_rank("town")
    assert len(towns) == 131
    assert towns["kind"].value_counts().to_dict() == {"town": 82, "xiang": 46, "street": 3}
    assert sorted(towns.loc[towns["kind"] == "street", "name"]) == sorted(
        ["通惠街道办事处", "大石桥街道办事处", *towns.loc[towns["kind"] == "street", "name"].iloc[2:]]
    )
    villages = meishan.of_rank("village")
    assert len(villages) == 1354
    assert int(villages["name"].str.contains("社区").sum()) == 232  # the residents' committees named 社区
    # 239 residents' committees: the 232 named 社区 and 7 named only 居民委员会/居委会 (龙方居民委员会 ...)
    assert villages["kind"].value_counts().to_dict() == {"village": 1115, "committee": 239}


def test_meishan_every_unit_typed(meishan):
    villages = meishan.of_rank("village")
    results = [type_from_register(c, meishan) for c in villages.index]
    assert all(t is not None for t, _ in results)
    types = pd.Series([t for t, _ in results], index=villages.index)
    assert types.value_counts().to_dict() == {"rural": 1115, "town": 205, "urban": 34}
    named = villages["name"].str.contains("社区")
    assert set(types[~named & (villages["kind"] == "village")]) == {"rural"}
    assert (types[villages["kind"] == "committee"] != "rural").all()


def test_meishan_hierarchy(meishan):
    villages = meishan.of_rank("village")
    comm = gpd.GeoDataFrame(
        {"code": list(villages.index)}, geometry=[Point(i, 0) for i in range(len(villages))], crs="EPSG:4544"
    )
    units = community_units(comm, code_column="code", register=meishan)
    assert len({c for c in units.codes["township"]}) == 131
    assert len({c for c in units.codes["county"]}) == 6  # 511401 市辖区 has no village
    assert set(units.codes["city"]) == {"511400000000"}
    assert units.names["city"]["511400000000"] == "眉山市"
    assert units.names["county"]["511402000000"] == "东坡区"
    kinds = pd.Series(units.kinds["township"]).value_counts().to_dict()
    assert kinds == {"town": 82, "xiang": 46, "street": 3}
    assert all(units.names["township"][c] == meishan.name(c) for c in units.codes["township"])


def test_units_from_columns_and_polygons(register_dir):
    reg = read_register(register_dir)
    comm = _communities(["519901001001", "519901101001", None], sub=["519901001", "519901101", "519901101"])
    units = community_units(comm, code_column="code", register=reg, township_column="sub")
    assert list(units.codes["township"]) == ["519901001000", "519901101000", "519901101000"]
    assert units.names["township"]["519901101000"] == "西镇"
    assert units.sources["township"] == "column sub"
    assert list(units.codes["county"]) == ["519901000000", "519901000000", None]  # from the codes
    polys = gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["甲", "乙"]}, geometry=[box(0, 0, 1.2, 1), box(1.2, 0, 3, 1)], crs="EPSG:4544"
    )
    units = community_units(comm, polygons={"township": polys})
    assert list(units.codes["township"]) == ["A", "B", "B"]
    assert units.names["township"] == {"A": "甲", "B": "乙"}
    assert list(units.codes["city"]) == ["city"] * 3


# ---------------------------------------------------------------------------------------------- roll-up
def test_rollup_by_hand():
    comm = pd.DataFrame(
        {
            "weight_total": [100.0, 300.0, 50.0, np.nan],
            "cov_park": [50.0, 100.0, 0.0, np.nan],
            "unc_park": [50.0, 0.0, 50.0, np.nan],
            "pass_park": pd.array([False, True, False, None], dtype="boolean"),
            "pass_floor_area": pd.array([True, None, False, None], dtype="boolean"),
            "fa_shortfall_m2": [0.0, np.nan, 120.0, np.nan],
        }
    )
    codes = {"township": ["a", "a", "b", "b"], "city": ["c", "c", "c", "c"]}
    t = rollup_table(comm, codes, {"township": {"a": "甲街道"}})
    park = t[t["check"] == "park"].set_index(["level", "unit_code"])
    # a: (100*50 + 300*100) / 400 = 87.5 %; b: 0 %; city: (5000 + 30000 + 0) / 450 = 77.78 %
    assert park.loc[("township", "a"), "coverage_pct"] == pytest.approx(87.5)
    assert park.loc[("township", "b"), "coverage_pct"] == pytest.approx(0.0)
    assert park.loc[("city", "c"), "coverage_pct"] == pytest.approx(35000 / 450)
    assert park.loc[("township", "a"), "unit_name"] == "甲街道"
    assert park.loc[("township", "b"), "unit_name"] == "b"
    assert park.loc[("city", "c"), ["communities_passed", "communities_failed", "communities_unknown"]].tolist() == [
        1,
        2,
        1,
    ]
    assert park.loc[("city", "c"), "uncovered_weight"] == pytest.approx(100.0)
    fa = t[t["check"] == "floor_area"].set_index(["level", "unit_code"])
    assert fa.loc[("township", "a"), "shortfall_m2"] == 0.0
    assert fa.loc[("township", "b"), "shortfall_m2"] == 120.0
    assert np.isnan(fa.loc[("township", "a"), "coverage_pct"])  # no coverage: unknown, not 0
    wide = unit_frame(comm, "township", codes["township"], table=t, types=["urban", "town", None, "rural"])
    assert wide["n_communities"].tolist() == [2, 2]
    assert wide[["n_urban", "n_town", "n_rural", "n_type_unknown"]].to_numpy().tolist() == [[1, 1, 0, 0], [0, 0, 1, 1]]
    assert wide["npass_park"].tolist() == [1, 0] and wide["nunk_park"].tolist() == [0, 1]
    assert wide["fa_shortfall_m2"].tolist() == [0.0, 120.0]
    assert "cov_floor_area" not in wide.columns


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 4),  # township
            st.one_of(st.none(), st.floats(0, 1e4)),  # weight
            st.one_of(st.none(), st.floats(0, 100)),  # coverage
            st.sampled_from([True, False, None]),
            st.one_of(st.none(), st.floats(0, 1e4)),  # shortfall
        ),
        min_size=1,
        max_size=40,
    )
)
def test_rollup_is_consistent(rows):
    town = [f"t{r[0]}" for r in rows]
    w = np.array([np.nan if r[1] is None else r[1] for r in rows])
    cov = np.array([np.nan if r[2] is None else r[2] for r in rows])
    comm = pd.DataFrame(
        {
            "weight_total": w,
            "cov_park": cov,
            "unc_park": w * (100 - cov) / 100,
            "pass_park": pd.array([r[3] for r in rows], dtype="boolean"),
            "pass_floor_area": pd.array([r[3] for r in rows], dtype="boolean"),
            "fa_shortfall_m2": [np.nan if r[4] is None else r[4] for r in rows],
        }
    )
    t = rollup_table(comm, {"township": town, "city": ["c"] * len(rows)})
    for key in ("park", "floor_area"):
        part = t[t["check"] == key]
        units, city = part[part["level"] == "township"], part[part["level"] == "city"].iloc[0]
        for col in ("communities", "communities_passed", "communities_failed", "communities_unknown"):
            assert units[col].sum() == city[col]
        assert city["communities"] == len(rows)
        for col in ("uncovered_weight", "shortfall_m2", "assessed_weight"):
            if units[col].notna().any():
                assert city[col] == pytest.approx(units[col].sum(), rel=1e-9, abs=1e-6)
            else:
                assert np.isnan(city[col])
        ok = units["coverage_pct"].notna() & (units["assessed_weight"] > 0)
        if ok.any():
            mean = (units.loc[ok, "coverage_pct"] * units.loc[ok, "assessed_weight"]).sum() / units.loc[
                ok, "assessed_weight"
            ].sum()
            assert city["coverage_pct"] == pytest.approx(mean, rel=1e-9, abs=1e-9)
        else:
            assert np.isnan(city["coverage_pct"])
