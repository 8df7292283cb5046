"""The output schema: name builders, their one parser, labels, layers and tables.

Every expected value is written out by hand from the naming rules in
``servicecircle.schema`` (``cov_<check>``, ``n_<key>_<radius>m`` ...).
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicecircle import schema
from servicecircle.outputs import labels
from servicecircle.schema import (
    COUNT,
    COVERAGE,
    DISTANCE,
    FIXED,
    FLAG,
    INDICATOR,
    PASS,
    PRESENT,
    SIX_ONES,
    UNCOVERED,
    ColumnSpec,
    count_column,
    coverage_column,
    describe_column,
    distance_column,
    family_labels,
    flag_column,
    indicator_column,
    parse_column,
    pass_column,
    present_column,
    six_ones_column,
    uncovered_column,
)

SRC = Path(__file__).resolve().parents[1] / "src" / "servicecircle"

#: (family, builder of one key)
BUILDERS = [
    (COVERAGE, coverage_column),
    (PASS, pass_column),
    (UNCOVERED, uncovered_column),
    (DISTANCE, distance_column),
    (SIX_ONES, six_ones_column),
    (PRESENT, present_column),
    (INDICATOR, indicator_column),
    (FLAG, flag_column),
]
#: keys with underscores, digits, radius-like tails and Chinese
KEYS = ["kindergarten", "primary_school", "n_2_school", "bus_500m", "x_300m_", "菜市场", "公园_2", "a1b2", "m"]


# ------------------------------------------------------------------ builders
def test_builders_give_the_documented_names():
    assert coverage_column("kindergarten") == "cov_kindergarten"
    assert pass_column("kindergarten") == "pass_kindergarten"
    assert uncovered_column("kindergarten") == "unc_kindergarten"
    assert distance_column("菜市场") == "dist_菜市场"
    assert count_column("primary_school", 500) == "n_primary_school_500m"
    assert count_column("primary_school", 500.0) == "n_primary_school_500m"
    assert count_column("park", 12.5) == "n_park_12.5m"
    assert six_ones_column("elderly_service") == "six_elderly_service"
    assert present_column("elderly_service") == "present_elderly_service"
    assert indicator_column("community_households") == "ind_community_households"
    assert pass_column(indicator_column("community_households")) == "pass_ind_community_households"
    assert flag_column("green") == "is_green"
    assert schema.green_check_key("park") == "park_reach"
    assert schema.indicator_layer("health_next_to_elderly_care") == "ind_health_next_to_elderly_care"
    assert schema.six_within_status(300.0) == "within_300m"


@pytest.mark.parametrize("family, build", BUILDERS, ids=[f for f, _ in BUILDERS])
@pytest.mark.parametrize("key", KEYS)
def test_parse_is_the_inverse_of_every_builder(family, build, key):
    name = build(key)
    assert parse_column(name) == ColumnSpec(name, family, key)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("radius", [0, 300, 500.0, 12.5, 1e6])
def test_parse_is_the_inverse_of_the_count_builder(key, radius):
    name = count_column(key, radius)
    assert parse_column(name) == ColumnSpec(name, COUNT, key, float(radius))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(BUILDERS),
    st.text(alphabet=st.sampled_from("ab_z09m菜市场.-e"), min_size=1, max_size=12),
    st.one_of(st.integers(0, 100_000), st.floats(0, 1e7, allow_nan=False)),
)
def test_round_trip_for_any_key(builder, key, radius):
    family, build = builder
    name = build(key)
    assert parse_column(name) == ColumnSpec(name, family, key)
    counted = count_column(key, radius)
    spec = parse_column(counted)
    assert (spec.family, spec.key) == (COUNT, key)
    assert f"{spec.radius_m:g}" == f"{radius:g}"


def test_names_read_as_the_columns_they_are():
    s = parse_column("n_primary_school_500m")
    assert (s.family, s.key, s.radius_m) == (COUNT, "primary_school", 500.0)
    s = parse_column("n_bus_500m_300m")  # the radius is the last _<r>m
    assert (s.family, s.key, s.radius_m) == (COUNT, "bus_500m", 300.0)
    assert parse_column("pass_ind_community_households").key == "ind_community_households"
    assert parse_column("is_park") == ColumnSpec("is_park", FLAG, "park")
    assert parse_column("six_present").family == FIXED  # the count of items, not an item
    assert parse_column("n_demand").family == FIXED
    for unknown in ("cov_", "n_shops", "n_shops_m", "population", "覆盖率"):
        assert parse_column(unknown) is None, unknown


def test_builders_refuse_names_they_could_not_read_back():
    for build, key in [(six_ones_column, "present"), (six_ones_column, "missing"), (pass_column, "column")]:
        with pytest.raises(ValueError, match="fixed column"):
            build(key)
    for bad in ("", "a\nb"):
        with pytest.raises(ValueError):
            coverage_column(bad)
    for radius in (-1.0, math.inf, math.nan):
        with pytest.raises(ValueError):
            count_column("park", radius)


def test_six_ones_status_values():
    assert schema.parse_six_status(schema.six_within_status(500)) == ("within", 500.0)
    assert schema.parse_six_status("inside") == ("inside", None)
    assert schema.parse_six_status("missing") == ("missing", None)
    assert schema.parse_six_status("within_m") is None


def test_green_rule_of_a_reach_check():
    assert schema.green_rule_key("green_reach") == "green"
    assert schema.green_rule_key("kindergarten") is None
    assert schema.green_rule_key("_reach") is None


# ------------------------------------------------------------------ labels
def test_labels_of_known_columns():
    cov = describe_column("cov_kindergarten")
    assert "覆盖率" in cov.zh and cov.unit == "%" and cov.kind == schema.REAL
    assert family_labels(parse_column("cov_kindergarten"), "幼儿园", "Kindergarten") == (
        "幼儿园覆盖率",
        "Kindergarten coverage",
        "%",
    )
    assert family_labels(parse_column("cov_kindergarten"), "幼儿园", "Kindergarten", short=True) == (
        "覆盖率",
        "Coverage",
        "%",
    )
    assert family_labels(parse_column("unc_kindergarten"), "幼儿园", "Kindergarten", weight=("户数", "households")) == (
        "幼儿园未覆盖户数",
        "Kindergarten: uncovered households",
        "",
    )
    assert describe_column("pass_kindergarten").kind == schema.BOOLEAN
    assert describe_column("dist_kindergarten").unit == "m"
    assert describe_column("n_kindergarten_300m").zh == "300米内kindergarten数"
    assert describe_column("n_kindergarten_300m").kind == schema.INTEGER
    assert describe_column("is_green").zh == "计入见绿"
    assert describe_column("gap_area_m2") == schema.Column("gap_area_m2", schema.REAL, "缺口面积", "Gap area", "m²")
    assert describe_column("checks_failed").zh == "未达标项数"
    assert describe_column("population") is None


def test_a_table_can_give_a_name_its_own_meaning():
    assert describe_column("count", layer="warnings").zh == "数量"
    assert describe_column("count") is None
    assert describe_column("name_zh", layer="scorecard").zh == "指标名称"
    assert describe_column("name_zh").zh == "中文名称"


def test_writer_labels_without_an_assessment():
    assert labels.column_labels("cov_kindergarten") == ("kindergarten覆盖率", "kindergarten coverage", "%")
    assert labels.column_header("cov_kindergarten", short=True) == "覆盖率 Coverage (%)"
    assert labels.column_header("gap_area_m2") == "缺口面积 Gap area (m²)"
    assert labels.column_labels("unc_park_reach", short=True) == ("未覆盖需求", "Uncovered demand", "")
    # names the schema does not label stay as they are (an input attribute, another green rule's flag)
    assert labels.column_labels("is_urban") == ("is_urban", "is_urban", "")
    assert labels.column_labels("ind_community_households") == (
        "ind_community_households",
        "ind_community_households",
        "",
    )
    assert labels.six_status_text("within_300m") == "300米内 within 300 m"
    assert labels.six_status_text("inside") == "社区内 inside"
    assert labels.layer_label("gaps") == "服务缺口 Gaps"


def test_every_fixed_column_has_a_kind_and_both_labels():
    tables = [schema.COLUMNS, *schema.LAYER_COLUMNS.values()]
    for table in tables:
        for name, col in table.items():
            assert col.name == name
            assert col.kind in schema.KINDS, name
            assert col.zh and col.en, name
    for family in schema.FAMILIES.values():
        assert family.kind in schema.KINDS and family.prefix.endswith("_")


@pytest.mark.parametrize(
    "columns, layer",
    [
        (schema.GAP_COLUMNS, "gaps"),
        (schema.SUMMARY_COLUMNS + schema.SUMMARY_CITY_COLUMNS, "summary"),
        (schema.SCORECARD_COLUMNS, "scorecard"),
        (schema.CHECKS_COLUMNS, "checks"),
        (schema.REGISTER_COLUMNS, "register"),
        (schema.WARNING_COLUMNS, "warnings"),
        (schema.RUN_COLUMNS, "run"),
        (schema.FIELD_MAP_COLUMNS, "FIELD_MAP"),
    ],
    ids=["gaps", "summary", "scorecard", "checks", "register", "warnings", "run", "FIELD_MAP"],
)
def test_every_table_column_is_described(columns, layer):
    assert len(set(columns)) == len(columns)
    missing = [c for c in columns if describe_column(c, layer=layer) is None]
    assert not missing


def test_table_column_lists():
    assert schema.GAP_COLUMNS[:2] == ["community_id", "check"]
    assert schema.GAP_COLUMNS[-2:] == ["gap_area_m2", "community_area_m2"]
    assert schema.SCORECARD_COLUMNS[0] == "target_key"
    assert "citywide_coverage_pct" in schema.SUMMARY_COLUMNS
    assert schema.SUMMARY_CITY_COLUMNS == ["city_value", "city_unit", "city_target", "city_passed", "method"]


# ------------------------------------------------------------------ layers
def test_layers_and_their_labels():
    assert schema.LAYERS["communities"].label == "社区 Communities"
    assert schema.layer_labels("FIELD_MAP") == ("字段对照", "Field map")
    assert schema.layer_labels("ind_x", ("邻近养老", "Next to elderly care")) == (
        "邻近养老（设施）",
        "Next to elderly care: facilities",
    )
    assert schema.layer_labels("nope") is None
    for name in ("communities", "demand", "facilities", "gaps", "warnings", "scorecard", "summary", "fields", "run"):
        layer = schema.LAYERS[name]
        assert layer.zh and layer.en
    assert schema.LAYERS["gaps"].spatial and not schema.LAYERS["summary"].spatial


def test_schema_imports_nothing_from_servicecircle_but_errors():
    tree = ast.parse((SRC / "schema.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level or (node.module or "").startswith("servicecircle"):
                imported.add(node.module or "")
        elif isinstance(node, ast.Import):
            imported |= {a.name for a in node.names if a.name.startswith("servicecircle")}
    assert imported <= {"errors", "servicecircle.errors"}
