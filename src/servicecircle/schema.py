"""The output schema: every column and layer servicecircle writes, in one place.

A column is either *fixed* (``community_id``, ``checks_failed``, ``gap_area_m2``
...: :data:`COLUMNS`, with per-layer meanings in :data:`LAYER_COLUMNS`) or
belongs to a *family* whose name carries a key: the check, category, 6个1 item
or indicator it is about, and for counts a radius. Every family has one name
builder and :func:`parse_column` is their exact inverse:

==============  ==========================  ===============================  =========
family          builder                     name                             kind
==============  ==========================  ===============================  =========
``coverage``    :func:`coverage_column`     ``cov_<check>``                  real (%)
``pass``        :func:`pass_column`         ``pass_<check>``                 boolean
``uncovered``   :func:`uncovered_column`    ``unc_<check>``                  real
``distance``    :func:`distance_column`     ``dist_<category>``              real (m)
``count``       :func:`count_column`        ``n_<category>_<radius>m``       integer
``six_ones``    :func:`six_ones_column`     ``six_<item>``                   text
``present``     :func:`present_column`      ``present_<item>``               integer
``indicator``   :func:`indicator_column`    ``ind_<indicator>``              real
``flag``        :func:`flag_column`         ``is_<green rule>``              boolean
``npass``       :func:`npass_column`        ``npass_<check>``                integer
``nfail``       :func:`nfail_column`        ``nfail_<check>``                integer
``nunk``        :func:`nunk_column`         ``nunk_<check>``                 integer
==============  ==========================  ===============================  =========

``parse_column(coverage_column(k)) == ColumnSpec("cov_" + k, "coverage", k)`` for
every key a builder accepts (underscores, digits and Chinese included); a
builder refuses a key whose name would be a fixed column (``six_present``
is the count of items present, so no 6个1 item can be called ``present``).

Each column has a *kind* (the dtype family: :data:`TEXT`, :data:`INTEGER`,
:data:`REAL`, :data:`BOOLEAN`), a unit and bilingual labels; the labels of a
family column name its subject (``幼儿园覆盖率 Kindergarten coverage``), which
the writers look up in the assessment and pass to :func:`family_labels`.

Layers (:data:`LAYERS`) have a name and bilingual labels too, and the tables'
column lists are here: :data:`GAP_COLUMNS`, :data:`SUMMARY_COLUMNS`,
:data:`SCORECARD_COLUMNS` and the rest.

This module imports nothing from servicecircle: the checks build names with
it and the writers read them back with it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

__all__ = [
    "TEXT",
    "INTEGER",
    "REAL",
    "BOOLEAN",
    "KINDS",
    "FIXED",
    "COVERAGE",
    "PASS",
    "UNCOVERED",
    "DISTANCE",
    "COUNT",
    "SIX_ONES",
    "PRESENT",
    "INDICATOR",
    "FLAG",
    "NPASS",
    "NFAIL",
    "NUNK",
    "TIME",
    "Column",
    "Family",
    "ColumnSpec",
    "Layer",
    "COLUMNS",
    "LAYER_COLUMNS",
    "FAMILIES",
    "FLAG_LABELS",
    "LAYERS",
    "coverage_column",
    "pass_column",
    "uncovered_column",
    "distance_column",
    "count_column",
    "six_ones_column",
    "present_column",
    "indicator_column",
    "flag_column",
    "npass_column",
    "nfail_column",
    "nunk_column",
    "UNIT_LAYER_PREFIX",
    "unit_layer",
    "ROLLUP_COLUMNS",
    "time_column",
    "parse_column",
    "fixed_column",
    "family_labels",
    "describe_column",
    "green_check_key",
    "green_rule_key",
    "indicator_layer",
    "parse_layer",
    "layer_labels",
    "SIX_INSIDE",
    "SIX_MISSING",
    "six_within_status",
    "parse_six_status",
    "GAP_COLUMNS",
    "SUMMARY_COLUMNS",
    "SUMMARY_TIME_COLUMNS",
    "SUMMARY_CITY_COLUMNS",
    "SCORECARD_COLUMNS",
    "target_layer",
    "inside_column",
    "INSIDE",
    "CHECKS_COLUMNS",
    "REGISTER_COLUMNS",
    "REGISTER_PASS",
    "REGISTER_FAIL",
    "REGISTER_NOT_ASSESSED",
    "WARNING_COLUMNS",
    "FIELDS_COLUMNS",
    "FIELD_MAP_COLUMNS",
    "RUN_COLUMNS",
    "FLOOR_AREA_TEMPLATE_HEADERS",
    "FLOOR_AREA_TEMPLATE_COLUMNS",
]

# ------------------------------------------------------------------ kinds
TEXT: Final = "text"
INTEGER: Final = "integer"
REAL: Final = "real"
BOOLEAN: Final = "boolean"
#: The dtype families a column can have.
KINDS: Final = (TEXT, INTEGER, REAL, BOOLEAN)

# ------------------------------------------------------------------ families
FIXED: Final = "fixed"
COVERAGE: Final = "coverage"
PASS: Final = "pass"
UNCOVERED: Final = "uncovered"
DISTANCE: Final = "distance"
COUNT: Final = "count"
SIX_ONES: Final = "six_ones"
PRESENT: Final = "present"
INDICATOR: Final = "indicator"
FLAG: Final = "flag"
INSIDE: Final = "inside"
NPASS: Final = "npass"
NFAIL: Final = "nfail"
NUNK: Final = "nunk"
TIME: Final = "time"


@dataclass(frozen=True)
class Column:
    """One fixed output column.

    Attributes
    ----------
    name
        The column name.
    kind
        Dtype family: ``text``, ``integer``, ``real`` or ``boolean``.
    zh, en
        Chinese and English label.
    unit
        Unit (``%``, ``m``, ``m²`` ...; empty when it has none or it varies).
    """

    name: str
    kind: str
    zh: str
    en: str
    unit: str = ""

    @property
    def labels(self) -> tuple[str, str, str]:
        """``(zh, en, unit)``."""
        return self.zh, self.en, self.unit


def _table(*rows: tuple[str, str, str, str, str]) -> Mapping[str, Column]:
    """A read-only name → :class:`Column` table from ``(name, kind, zh, en, unit)`` rows."""
    out: dict[str, Column] = {}
    for name, kind, zh, en, unit in rows:
        if kind not in KINDS:
            raise ValueError(f"column {name!r}: unknown kind {kind!r}")
        if name in out:
            raise ValueError(f"column {name!r} is listed twice")
        out[name] = Column(name, kind, zh, en, unit)
    return MappingProxyType(out)


#: Columns whose meaning does not depend on a check (any layer).
COLUMNS: Final[Mapping[str, Column]] = _table(
    # communities
    ("community_id", TEXT, "社区编号", "Community id", ""),
    ("weight_total", REAL, "需求总量", "Demand total", ""),
    ("weight_kind", TEXT, "需求计量", "Weight counts", ""),
    ("n_demand", INTEGER, "需求点数", "Demand points", ""),
    ("checks_assessed", INTEGER, "评估项数", "Checks assessed", ""),
    ("checks_failed", INTEGER, "未达标项数", "Checks failed", ""),
    ("worst_cov", REAL, "最低覆盖率", "Lowest coverage", "%"),
    ("households", REAL, "户数", "Households", ""),
    ("residents", REAL, "常住人口", "Residents", ""),
    ("name", TEXT, "名称", "Name", ""),
    ("code", TEXT, "代码", "Code", ""),
    ("district", TEXT, "区县", "District", ""),
    ("district_code", TEXT, "区县代码", "District code", ""),
    ("subdistrict", TEXT, "街道（乡镇）", "Sub-district", ""),
    ("subdistrict_code", TEXT, "街道（乡镇）代码", "Sub-district code", ""),
    ("area_m2", REAL, "面积", "Area", "m²"),
    ("residential_area_m2", REAL, "居住用地面积", "Residential area", "m²"),
    ("approximate", BOOLEAN, "近似数据", "Approximate", ""),
    ("clipped_to_extract", BOOLEAN, "按范围裁剪", "Clipped to extract", ""),
    ("method", TEXT, "方法", "Method", ""),
    # summary
    ("check", TEXT, "检查项", "Check", ""),
    ("kind", TEXT, "类型", "Kind", ""),
    ("category", TEXT, "设施类别", "Category", ""),
    ("name_zh", TEXT, "中文名称", "Name (Chinese)", ""),
    ("name_en", TEXT, "英文名称", "Name (English)", ""),
    ("level", TEXT, "层级代码", "Level", ""),
    ("level_zh", TEXT, "生活圈层级", "Life-circle level", ""),
    ("level_en", TEXT, "生活圈层级（英文）", "Life-circle level (English)", ""),
    ("radius_m", REAL, "服务半径", "Radius", "m"),
    ("target_pct", REAL, "目标覆盖率", "Target", "%"),
    ("facilities", INTEGER, "设施数", "Facilities", ""),
    ("facilities_unsnapped", INTEGER, "未接入路网的设施", "Facilities off the network", ""),
    ("communities_assessed", INTEGER, "评估社区数", "Communities assessed", ""),
    ("communities_passed", INTEGER, "达标社区数", "Communities passed", ""),
    ("communities_failed", INTEGER, "未达标社区数", "Communities failed", ""),
    ("citywide_coverage_pct", REAL, "全市覆盖率", "Citywide coverage", "%"),
    ("uncovered_weight", REAL, "未覆盖需求", "Uncovered demand", ""),
    ("confirmed", BOOLEAN, "标准已核实", "Confirmed in source", ""),
    ("source", TEXT, "标准依据", "Source", ""),
    ("city_value", REAL, "全市指标值", "Citywide value", ""),
    ("city_unit", TEXT, "单位", "Unit", ""),
    ("city_target", REAL, "全市目标", "Citywide target", ""),
    ("city_passed", BOOLEAN, "全市达标", "Citywide result", ""),
    # scorecard
    ("target_key", TEXT, "指标", "Indicator", ""),
    ("value", REAL, "数值", "Value", ""),
    ("unit", TEXT, "单位", "Unit", ""),
    ("target", REAL, "目标", "Target", ""),
    ("comparison", TEXT, "比较", "Comparison", ""),
    ("passed", BOOLEAN, "结果", "Result", ""),
    # gaps
    ("coverage_pct", REAL, "覆盖率", "Coverage", "%"),
    ("gap_area_m2", REAL, "缺口面积", "Gap area", "m²"),
    ("community_area_m2", REAL, "社区面积", "Community area", "m²"),
    # facilities / demand
    ("category_key", TEXT, "标准类别", "Profile category", ""),
    ("in_profile", BOOLEAN, "属于标准", "In profile", ""),
    ("snap_m", REAL, "至道路距离", "Distance to street", "m"),
    ("snapped", BOOLEAN, "已接入路网", "Snapped", ""),
    ("sampled_in", TEXT, "采样范围", "Sampled in", ""),
    ("weight", REAL, "权重", "Weight", ""),
    # floor area
    ("fa_households", REAL, "户数（用房）", "Households (floor area)", ""),
    ("fa_required_m2", REAL, "应配建筑面积", "Required floor area", "m²"),
    ("fa_provided_m2", REAL, "已配建筑面积", "Provided floor area", "m²"),
    ("fa_shortfall_m2", REAL, "建筑面积缺口", "Floor-area shortfall", "m²"),
    ("fa_per_100hh", REAL, "每百户建筑面积", "Floor area per 100 households", "m²"),
    ("fa_data", TEXT, "面积数据", "Floor-area data (given / partial / no data)", ""),
    ("fa_facilities", INTEGER, "计入用房数", "Facilities counted", ""),
    ("fa_no_area", INTEGER, "无面积用房数", "Facilities without floor area", ""),
    ("fa_undersized", INTEGER, "规模不足用房数", "Undersized facilities", ""),
    ("fa_min_m2", REAL, "最小规模", "Minimum size", "m²"),
    ("fa_rule", TEXT, "规则", "Rule", ""),
    # 6个1
    ("six_present", INTEGER, "具备项数", "Items present", ""),
    ("six_missing", TEXT, "缺项", "Missing items", ""),
    # green
    ("green_area_m2", REAL, "公园绿地面积", "Park green area", "m²"),
    ("green_m2_per_resident", REAL, "人均公园绿地面积", "Park green area per resident", "m²/人"),
    ("gs_id", INTEGER, "绿地编号", "Green space id", ""),
    ("names", TEXT, "名称", "Names", ""),
    ("categories", TEXT, "类别", "Categories", ""),
    ("n_polygons", INTEGER, "面数", "Polygons", ""),
    ("reach_method", TEXT, "可达方式", "Reach method", ""),
    ("n_access", INTEGER, "出入口数", "Access points", ""),
    # checks / run tables
    ("target_unit", TEXT, "目标单位", "Target unit", ""),
    ("pass_column", TEXT, "达标字段", "Pass column", ""),
    ("score_column", TEXT, "评分字段", "Score column", ""),
    ("columns", TEXT, "字段", "Columns", ""),
    ("key", TEXT, "参数", "Parameter", ""),
    # community types and units (inputs/units.py, checks/rollup.py)
    ("community_type", TEXT, "社区类型", "Community type", ""),
    ("community_type_rule", TEXT, "社区类型依据", "Community type: rule", ""),
    ("township_code", TEXT, "街道（乡镇）代码", "Township code", ""),
    ("township_name", TEXT, "街道（乡镇）", "Township", ""),
    ("county_code", TEXT, "区县代码", "County code", ""),
    ("county_name", TEXT, "区县", "County", ""),
    ("city_code", TEXT, "市代码", "City code", ""),
    ("city_name", TEXT, "市", "City", ""),
    ("unit_code", TEXT, "单元代码", "Unit code", ""),
    ("unit_name", TEXT, "单元名称", "Unit", ""),
    ("unit_kind", TEXT, "单元类别", "Kind of unit", ""),
    ("parent_code", TEXT, "上级单元代码", "Parent unit code", ""),
    ("n_communities", INTEGER, "社区数", "Communities", ""),
    ("n_urban", INTEGER, "城市社区数", "Urban communities", ""),
    ("n_town", INTEGER, "集镇社区数", "Town communities", ""),
    ("n_rural", INTEGER, "农村社区数", "Rural communities", ""),
    ("n_type_unknown", INTEGER, "类型未知社区数", "Communities of unknown type", ""),
    ("communities", INTEGER, "社区数", "Communities", ""),
    ("communities_unknown", INTEGER, "未判定社区数", "Communities without a verdict", ""),
    ("assessed_weight", REAL, "参评需求", "Demand assessed", ""),
    ("shortfall_m2", REAL, "建筑面积缺口", "Floor-area shortfall", "m²"),
    ("compound_id", INTEGER, "小区编号", "Compound id", ""),
    ("compound_name", TEXT, "小区名称", "Compound", ""),
    ("compound_source", TEXT, "小区来源", "Compound source", ""),
    ("checks_passed", INTEGER, "达标项数", "Checks passed", ""),
    # service areas, catchments, time checks, access
    ("group", TEXT, "人群", "Walking group", ""),
    ("minutes", REAL, "步行时间", "Minutes", "min"),
    ("budget", REAL, "出行预算", "Budget", ""),
    ("budget_unit", TEXT, "预算单位", "Budget unit", ""),
    ("access_allowance_m", REAL, "接入宽度", "Access allowance", "m"),
    ("facility_index", INTEGER, "设施序号", "Facility", ""),
    ("street_m", REAL, "覆盖道路长度", "Street length served", "m"),
    ("view", TEXT, "视图", "View", ""),
    ("n_demand_changed", INTEGER, "距离变化的需求点", "Demand points whose distance changed", ""),
    ("n_demand_farther", INTEGER, "距离变远的需求点", "Demand points now farther", ""),
    ("n_demand_nearer", INTEGER, "距离变近的需求点", "Demand points now nearer", ""),
    ("n_demand_unreachable", INTEGER, "变为不可达的需求点", "Demand points now out of reach", ""),
    ("mean_change_m", REAL, "平均变化", "Mean change", "m"),
    ("max_change_m", REAL, "最大变化", "Largest change", "m"),
)

#: Per-layer meanings that differ from :data:`COLUMNS` (or exist only in that layer).
LAYER_COLUMNS: Final[Mapping[str, Mapping[str, Column]]] = MappingProxyType(
    {
        "warnings": _table(
            ("code", TEXT, "提示代码", "Warning code", ""),
            ("file", TEXT, "文件", "File", ""),
            ("layer", TEXT, "图层", "Layer", ""),
            ("feature", TEXT, "要素", "Feature", ""),
            ("count", INTEGER, "数量", "Count", ""),
            ("message", TEXT, "说明", "Message", ""),
        ),
        "run": _table(("value", TEXT, "值", "Value", "")),
        "fields": _table(
            ("layer", TEXT, "图层", "Layer", ""),
            ("column", TEXT, "字段", "Column", ""),
            ("input_column", TEXT, "输入字段", "Input column", ""),
        ),
        "scorecard": _table(
            ("name_zh", TEXT, "指标名称", "Indicator (Chinese)", ""),
            ("name_en", TEXT, "指标名称（英文）", "Indicator (English)", ""),
        ),
        "register": _table(
            ("key", TEXT, "指标编号", "Register key", ""),
            ("plan_table", TEXT, "出处", "Plan table", ""),
            ("plan_group", TEXT, "大类", "Group", ""),
            ("section", TEXT, "类别", "Section", ""),
            ("name_zh", TEXT, "指标（规划原文）", "Indicator (plan wording)", ""),
            ("name_en", TEXT, "指标（英文）", "Indicator (English)", ""),
            ("status", TEXT, "评估状态", "Status", ""),
            ("value", REAL, "现状值", "Value", ""),
            ("value_unit", TEXT, "现状值单位", "Value unit", ""),
            ("check_target", REAL, "检查目标", "Check target", ""),
            ("passed", BOOLEAN, "是否达标", "Result", ""),
            ("assessed_by", TEXT, "评估检查项", "Assessed by", ""),
            ("check", TEXT, "检查结果键", "Check result key", ""),
            ("method", TEXT, "计算方法", "Method", ""),
            ("not_assessed", TEXT, "未评估原因", "Why not assessed", ""),
            ("data_needed", TEXT, "所需数据", "Data needed", ""),
            ("target_2025", REAL, "2025年目标值", "2025 target", ""),
            ("target_max", REAL, "目标上限", "2025 target (upper end)", ""),
            ("target_2022", REAL, "2022年目标值", "2022 milestone", ""),
            ("unit", TEXT, "目标单位", "Target unit", ""),
            ("comparison", TEXT, "比较", "Comparison", ""),
            ("target_text", TEXT, "目标", "Target", ""),
            ("binding", TEXT, "指标属性", "Binding or expected", ""),
            ("scale", TEXT, "统计尺度", "Scale", ""),
            ("applies_to", TEXT, "适用社区类型", "Community types", ""),
            ("scraped", TEXT, "原文抓取值", "As scraped", ""),
            ("reading", TEXT, "解读", "Reading", ""),
            ("confirmed", BOOLEAN, "解读已核实", "Reading confirmed", ""),
            ("source", TEXT, "出处说明", "Source", ""),
        ),
        **{
            layer: _table(("level", TEXT, "单元层级", "Unit level", ""))
            for layer in ("units_township", "units_county", "units_city", "rollup")
        },
        "FIELD_MAP": _table(
            ("layer", TEXT, "图层", "Layer", ""),
            ("source_name", TEXT, "原字段名", "Source name", ""),
            ("gdb_name", TEXT, "地理数据库字段名", "Geodatabase name", ""),
            ("alias_zh", TEXT, "中文别名", "Alias (Chinese)", ""),
            ("alias_en", TEXT, "英文别名", "Alias (English)", ""),
            ("field_type", TEXT, "字段类型", "Field type", ""),
            ("admin_code", INTEGER, "行政区划代码", "Administrative code", ""),
            ("renamed", INTEGER, "已改名", "Renamed", ""),
            ("note", TEXT, "说明", "Note", ""),
        ),
    }
)


@dataclass(frozen=True)
class Family:
    """A family of columns named after a key.

    Attributes
    ----------
    name
        The family (``coverage``, ``count`` ...).
    prefix
        What every name of the family starts with (``cov_``).
    kind
        Dtype family of its columns.
    unit
        Unit of its columns (empty when it has none or it depends on the check).
    zh, en
        What the family is, in Chinese and English (for documentation).
    """

    name: str
    prefix: str
    kind: str
    unit: str
    zh: str
    en: str


#: The column families, by name.
FAMILIES: Final[Mapping[str, Family]] = MappingProxyType(
    {
        f.name: f
        for f in (
            Family(COVERAGE, "cov_", REAL, "%", "覆盖率", "coverage"),
            Family(PASS, "pass_", BOOLEAN, "", "是否达标", "result"),
            Family(UNCOVERED, "unc_", REAL, "", "未覆盖需求", "uncovered demand"),
            Family(DISTANCE, "dist_", REAL, "m", "步行距离", "walking distance"),
            Family(COUNT, "n_", INTEGER, "", "半径内设施数", "facilities within a radius"),
            Family(SIX_ONES, "six_", TEXT, "", "6个1状态", "six-ones status"),
            Family(PRESENT, "present_", INTEGER, "", "6个1具备社区数", "communities with a six-ones item"),
            Family(INDICATOR, "ind_", REAL, "", "指标值", "indicator value"),
            Family(FLAG, "is_", BOOLEAN, "", "计入", "counts as"),
            Family(INSIDE, "in_", INTEGER, "", "社区内设施数", "facilities inside"),
            Family(NPASS, "npass_", INTEGER, "", "达标社区数", "communities passing"),
            Family(NFAIL, "nfail_", INTEGER, "", "未达标社区数", "communities failing"),
            Family(NUNK, "nunk_", INTEGER, "", "未判定社区数", "communities without a verdict"),
            Family(TIME, "min_", REAL, "min", "步行时间", "walking time"),
        )
    }
)

#: Labels of the flags of the green rules every shipped profile has (``is_green``, ``is_park``).
FLAG_LABELS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {"green": ("计入见绿", "Counts as green"), "park": ("计入见园", "Counts as park")}
)


# ------------------------------------------------------------------ builders
_RADIUS = r"\d+(?:\.\d+)?(?:e[+-]\d+)?"  # what format(r, "g") gives for a finite r >= 0


def _build(family: str, key: str, suffix: str = "") -> str:
    """``<prefix><key><suffix>``, refused when it cannot be parsed back to ``(family, key)``."""
    if not isinstance(key, str) or not key or "\n" in key or "\r" in key:
        raise ValueError(f"a {family} column needs a non-empty one-line key, not {key!r}")
    name = FAMILIES[family].prefix + key + suffix
    if name in COLUMNS:
        raise ValueError(f"{name!r} is a fixed column: {key!r} cannot be a key of the {family} columns")
    return name


def coverage_column(key: str) -> str:
    """Coverage (%) of a reach check: ``cov_<check>``.

    Parameters
    ----------
    key
        The check's key (``kindergarten``, ``green_reach`` ...).

    Returns
    -------
    str
        The column name.

    Examples
    --------
    >>> coverage_column("kindergarten")
    'cov_kindergarten'
    """
    return _build(COVERAGE, key)


def pass_column(key: str) -> str:
    """Pass/fail of a check: ``pass_<check>``.

    Parameters
    ----------
    key
        The check's key (``kindergarten``, ``floor_area``, ``ind_<indicator>`` ...).

    Returns
    -------
    str
        The column name.
    """
    return _build(PASS, key)


def uncovered_column(key: str) -> str:
    """Demand out of reach of a reach check: ``unc_<check>``.

    Parameters
    ----------
    key
        The check's key.

    Returns
    -------
    str
        The column name.
    """
    return _build(UNCOVERED, key)


def distance_column(key: str) -> str:
    """Walking distance (m) from a demand point to the nearest destination: ``dist_<key>``.

    Parameters
    ----------
    key
        A facility category or a green rule (``green``, ``park``).

    Returns
    -------
    str
        The column name.
    """
    return _build(DISTANCE, key)


def count_column(key: str, radius_m: float) -> str:
    """Destinations within a walking radius of a demand point: ``n_<key>_<radius>m``.

    Parameters
    ----------
    key
        A facility category or a green rule.
    radius_m
        The radius in metres, written with ``format(radius_m, "g")``.

    Returns
    -------
    str
        The column name.

    Examples
    --------
    >>> count_column("primary_school", 500.0)
    'n_primary_school_500m'
    """
    r = float(radius_m)
    if not math.isfinite(r) or r < 0:
        raise ValueError(f"a count column needs a finite radius of 0 m or more, not {radius_m!r}")
    return _build(COUNT, key, f"_{radius_m:g}m")


def six_ones_column(item: str) -> str:
    """Status of one 6个1 item in a community: ``six_<item>``.

    Its values are :data:`SIX_INSIDE`, :func:`six_within_status` and
    :data:`SIX_MISSING` (or empty: not assessable).

    Parameters
    ----------
    item
        The item's key (``elderly_service`` ...).

    Returns
    -------
    str
        The column name.
    """
    return _build(SIX_ONES, item)


def present_column(item: str) -> str:
    """Communities where one 6个1 item is present (in the check's summary): ``present_<item>``.

    Parameters
    ----------
    item
        The item's key.

    Returns
    -------
    str
        The column name.
    """
    return _build(PRESENT, item)


def indicator_column(key: str) -> str:
    """Value of an indicator per community: ``ind_<indicator>``.

    The same text is the indicator's check key, its scorecard key and the name
    of its facility layer (:func:`indicator_layer`).

    Parameters
    ----------
    key
        The indicator's key in the profile.

    Returns
    -------
    str
        The column name.
    """
    return _build(INDICATOR, key)


def flag_column(key: str) -> str:
    """Whether a green space counts for a green rule (``greenspace`` layer): ``is_<rule>``.

    Parameters
    ----------
    key
        The green rule's key (``green``, ``park``).

    Returns
    -------
    str
        The column name.
    """
    return _build(FLAG, key)


def inside_column(key: str) -> str:
    """Facilities of a count target inside each community (``[counts.<key>]``): ``in_<key>``.

    Parameters
    ----------
    key
        The target's key in the profile.

    Returns
    -------
    str
        The column name.
    """
    return _build(INSIDE, key)


def npass_column(key: str) -> str:
    """Communities of a unit passing a check (unit layers): ``npass_<check>``.

    >>> npass_column("kindergarten"), nfail_column("kindergarten"), nunk_column("kindergarten")
    ('npass_kindergarten', 'nfail_kindergarten', 'nunk_kindergarten')
    """
    return _build(NPASS, key)


def nfail_column(key: str) -> str:
    """Communities of a unit failing a check (unit layers): ``nfail_<check>``."""
    return _build(NFAIL, key)


def nunk_column(key: str) -> str:
    """Communities of a unit without a verdict on a check (unit layers): ``nunk_<check>``."""
    return _build(NUNK, key)


_REACH_SUFFIX = "_reach"


def time_column(key: str) -> str:
    """Walking time (minutes, at the check's group's speed) to the nearest destination: ``min_<check>``.

    Parameters
    ----------
    key
        A check stated in minutes (a profile's ``[time_checks.<key>]``).

    Returns
    -------
    str
        The column name.

    Examples
    --------
    >>> time_column("elderly_day_care_5min")
    'min_elderly_day_care_5min'
    """
    return _build(TIME, key)


def green_check_key(rule: str) -> str:
    """The key of the reach check of a green rule: ``<rule>_reach``.

    Parameters
    ----------
    rule
        The green rule's key (``green``, ``park``).

    Returns
    -------
    str
        The check key.
    """
    return f"{rule}{_REACH_SUFFIX}"


def green_rule_key(check: str) -> str | None:
    """The green rule of a reach check key (``green_reach`` → ``green``); ``None`` for other keys.

    Parameters
    ----------
    check
        A check key.

    Returns
    -------
    str or None
        The rule key.
    """
    if check.endswith(_REACH_SUFFIX) and len(check) > len(_REACH_SUFFIX):
        return check[: -len(_REACH_SUFFIX)]
    return None


# ------------------------------------------------------------------ the parser
@dataclass(frozen=True)
class ColumnSpec:
    """What a column name says.

    Attributes
    ----------
    name
        The column name.
    family
        :data:`FIXED` or the family (:data:`COVERAGE`, :data:`COUNT` ...).
    key
        The check, category, item, indicator or green rule (``None`` for a fixed column).
    radius_m
        The radius of a :data:`COUNT` column.
    column
        The :class:`Column` of a fixed column.
    """

    name: str
    family: str
    key: str | None = None
    radius_m: float | None = None
    column: Column | None = None

    @property
    def kind(self) -> str:
        """Dtype family of the column."""
        return self.column.kind if self.column is not None else FAMILIES[self.family].kind

    @property
    def unit(self) -> str:
        """Unit of the column (empty for a family whose unit depends on the check)."""
        return self.column.unit if self.column is not None else FAMILIES[self.family].unit


_PATTERNS: Final = tuple(
    (family, re.compile(re.escape(FAMILIES[family].prefix) + pattern))
    for family, pattern in (
        (COVERAGE, r"(.+)"),
        (PASS, r"(.+)"),
        (UNCOVERED, r"(.+)"),
        (DISTANCE, r"(.+)"),
        (COUNT, rf"(.+)_({_RADIUS})m"),
        (SIX_ONES, r"(.+)"),
        (PRESENT, r"(.+)"),
        (INDICATOR, r"(.+)"),
        (FLAG, r"(.+)"),
        (INSIDE, r"(.+)"),
        (NPASS, r"(.+)"),
        (NFAIL, r"(.+)"),
        (NUNK, r"(.+)"),
        (TIME, r"(.+)"),
    )
)


def fixed_column(name: str, layer: str | None = None) -> Column | None:
    """The fixed :class:`Column` called ``name`` (in ``layer``, whose meanings come first).

    Parameters
    ----------
    name
        A column name.
    layer
        The layer or table it is in, if known.

    Returns
    -------
    Column or None
        ``None`` when ``name`` is not a fixed column.
    """
    if layer is not None and layer in LAYER_COLUMNS and name in LAYER_COLUMNS[layer]:
        return LAYER_COLUMNS[layer][name]
    return COLUMNS.get(name)


def parse_column(name: str, layer: str | None = None) -> ColumnSpec | None:
    """Read a column name: fixed, or its family, key and radius.

    The exact inverse of the builders: ``parse_column(count_column(k, r))`` is
    ``ColumnSpec(name, "count", k, r)`` for every key and radius they accept.

    Parameters
    ----------
    name
        A column name.
    layer
        The layer or table it is in (some tables give a name a meaning of their own).

    Returns
    -------
    ColumnSpec or None
        ``None`` for a name the schema does not know (an input attribute).

    Examples
    --------
    >>> s = parse_column("n_primary_school_500m")
    >>> s.family, s.key, s.radius_m
    ('count', 'primary_school', 500.0)
    >>> parse_column("cov_菜市场").key
    '菜市场'
    """
    fixed = fixed_column(name, layer)
    if fixed is not None:
        return ColumnSpec(name, FIXED, column=fixed)
    for family, pattern in _PATTERNS:
        m = pattern.fullmatch(name)
        if m is None:
            continue
        if family == COUNT:
            return ColumnSpec(name, COUNT, m.group(1), float(m.group(2)))
        return ColumnSpec(name, family, m.group(1))
    return None


def family_labels(
    spec: ColumnSpec,
    zh: str,
    en: str,
    *,
    weight: tuple[str, str] = ("需求", "demand"),
    short: bool = False,
) -> tuple[str, str, str]:
    """``(zh, en, unit)`` of a family column about a subject named ``zh`` / ``en``.

    Parameters
    ----------
    spec
        The parsed column (not a fixed one).
    zh, en
        The Chinese and English name of its key (the check, category, item ...).
    weight
        What the demand counts (``("户数", "households")``), for ``uncovered``.
    short
        Leave the subject out of coverage, pass and uncovered labels (for a
        table that is about one check already).

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> family_labels(parse_column("cov_kindergarten"), "幼儿园", "Kindergarten")
    ('幼儿园覆盖率', 'Kindergarten coverage', '%')
    """
    family = spec.family
    unit = FAMILIES[family].unit
    if family in (COVERAGE, PASS, UNCOVERED) and short:
        zh, en = "", ""
    if family == COVERAGE:
        return f"{zh}覆盖率", (f"{en} coverage" if en else "Coverage"), unit
    if family == PASS:
        return f"{zh}是否达标", (f"{en} result" if en else "Result"), unit
    if family == UNCOVERED:
        wz, we = weight
        return f"{zh}未覆盖{wz}", (f"{en}: uncovered {we}" if en else f"Uncovered {we}"), unit
    if family == DISTANCE:
        return f"至{zh}步行距离", f"Walk to {en}", unit
    if family == COUNT:
        r = f"{spec.radius_m:g}"
        return f"{r}米内{zh}数", f"{en} within {r} m", unit
    if family == SIX_ONES:
        return f"6个1：{zh}", f"Six ones: {en}", unit
    if family == PRESENT:
        return f"6个1具备社区数：{zh}", f"Six ones: communities with {en}", unit
    if family == FLAG:
        if spec.key is not None and spec.key in FLAG_LABELS:
            fz, fe = FLAG_LABELS[spec.key]
            return fz, fe, unit
        return f"计入{zh}", f"Counts as {en}", unit
    if family == INDICATOR:
        return zh, en, unit
    if family == NPASS:
        return f"{zh}达标社区数", f"{en}: communities passing", unit
    if family == NFAIL:
        return f"{zh}未达标社区数", f"{en}: communities failing", unit
    if family == NUNK:
        return f"{zh}未判定社区数", f"{en}: communities without a verdict", unit
    if family == TIME:
        return f"至{zh}步行时间", f"Minutes to {en}", unit
    raise ValueError(f"{spec.name!r} is not a family column")


def describe_column(name: str, layer: str | None = None) -> Column | None:
    """Everything the schema says about a column, its key standing in for the subject's name.

    The writers name the subject (``幼儿园`` for ``kindergarten``) from the
    assessment; without one, the key is the name.

    Parameters
    ----------
    name
        A column name.
    layer
        The layer or table it is in, if known.

    Returns
    -------
    Column or None
        ``None`` for a name the schema does not know.

    Examples
    --------
    >>> describe_column("dist_kindergarten")
    Column(name='dist_kindergarten', kind='real', zh='至kindergarten步行距离', en='Walk to kindergarten', unit='m')
    """
    spec = parse_column(name, layer)
    if spec is None:
        return None
    if spec.column is not None:
        return spec.column
    key = spec.key or ""
    zh, en, unit = family_labels(spec, key, key)
    return Column(name, spec.kind, zh, en, unit)


# ------------------------------------------------------------------ 6个1 status values
#: A facility of the item lies inside the community.
SIX_INSIDE: Final = "inside"
#: Neither inside nor within reach.
SIX_MISSING: Final = "missing"
_WITHIN = re.compile(rf"within_({_RADIUS})m")


def six_within_status(radius_m: float) -> str:
    """The status of an item within reach: ``within_<radius>m``.

    Parameters
    ----------
    radius_m
        The item's radius in metres.

    Returns
    -------
    str
        The status text.
    """
    r = float(radius_m)
    if not math.isfinite(r) or r < 0:
        raise ValueError(f"a 6个1 radius must be finite and 0 m or more, not {radius_m!r}")
    return f"within_{radius_m:g}m"


def parse_six_status(value: str) -> tuple[str, float | None] | None:
    """Read a 6个1 status: ``("inside", None)``, ``("within", 300.0)``, ``("missing", None)``.

    Parameters
    ----------
    value
        A value of a :func:`six_ones_column`.

    Returns
    -------
    tuple or None
        ``None`` for any other text.
    """
    if value in (SIX_INSIDE, SIX_MISSING):
        return value, None
    m = _WITHIN.fullmatch(value)
    return ("within", float(m.group(1))) if m else None


# ------------------------------------------------------------------ layers
@dataclass(frozen=True)
class Layer:
    """One output layer or table.

    Attributes
    ----------
    name
        The layer name in the GeoPackage and the File Geodatabase.
    zh, en
        Chinese and English label.
    spatial
        Whether it has geometry.
    """

    name: str
    zh: str
    en: str
    spatial: bool

    @property
    def label(self) -> str:
        """``"社区 Communities"``."""
        return f"{self.zh} {self.en}"


#: The layers and tables, in the order the GeoPackage has them.
LAYERS: Final[Mapping[str, Layer]] = MappingProxyType(
    {
        lyr.name: lyr
        for lyr in (
            Layer("communities", "社区", "Communities", True),
            Layer("demand", "需求点", "Demand points", True),
            Layer("facilities", "设施", "Facilities", True),
            Layer("gaps", "服务缺口", "Gaps", True),
            Layer("greenspace", "绿地公园", "Green spaces", True),
            Layer("greenspace_access", "绿地出入口", "Green-space access points", True),
            Layer("proposals", "建议选址", "Proposed sites", True),
            Layer("gaps_closed", "缺口已补", "Gaps closed", True),
            Layer("streets", "路网", "Streets", True),
            Layer("units_township", "街道（乡镇）汇总", "Townships", True),
            Layer("units_county", "区县汇总", "Counties", True),
            Layer("units_city", "全市汇总", "City", True),
            Layer("compounds", "小区", "Compounds", True),
            Layer("service_areas", "服务范围", "Service areas", True),
            Layer("catchments", "服务分区", "Catchments", True),
            Layer("access_changes", "门禁影响", "Access changes", False),
            Layer("before_after", "方案前后对比", "Before and after", False),
            Layer("summary", "汇总", "Summary", False),
            Layer("scorecard", "指标", "Scorecard", False),
            Layer("register", "规划指标台账", "Plan indicator register", False),
            Layer("rollup", "分级汇总", "Roll-up by level", False),
            Layer("checks", "检查项", "Checks", False),
            Layer("warnings", "提示", "Warnings", False),
            Layer("fields", "字段说明", "Fields", False),
            Layer("run", "运行参数", "Run parameters", False),
            Layer("FIELD_MAP", "字段对照", "Field map", False),
        )
    }
)
_INDICATOR_LAYER = "ind_"
#: The unit layers: ``units_<level>`` (``units_township``, ``units_county``, ``units_city``).
UNIT_LAYER_PREFIX: Final = "units_"


def unit_layer(level: str) -> str:
    """The layer of one unit level: ``units_<level>``.

    >>> unit_layer("township")
    'units_township'
    """
    return UNIT_LAYER_PREFIX + level


def indicator_layer(key: str) -> str:
    """The layer of an indicator's facilities (``nearest_distance`` measures): ``ind_<indicator>``.

    Parameters
    ----------
    key
        The indicator's key in the profile.

    Returns
    -------
    str
        The layer name.
    """
    if not key:
        raise ValueError("an indicator layer needs a key")
    return f"{_INDICATOR_LAYER}{key}"


_TARGET_LAYER = "tgt_"


def target_layer(key: str) -> str:
    """The layer of a unit target's units or facilities (profile ``[counts.<key>]`` ...): ``tgt_<key>``.

    Parameters
    ----------
    key
        The target's key in the profile.

    Returns
    -------
    str
        The layer name.
    """
    if not key:
        raise ValueError("a target layer needs a key")
    return f"{_TARGET_LAYER}{key}"


def parse_layer(name: str) -> tuple[Layer | None, str | None] | None:
    """Read a layer name: ``(Layer, None)`` for a fixed layer, ``(None, key)`` for an indicator's or target's.

    Parameters
    ----------
    name
        A layer name.

    Returns
    -------
    tuple or None
        ``None`` for a layer the schema does not know.
    """
    if name in LAYERS:
        return LAYERS[name], None
    for prefix in (_INDICATOR_LAYER, _TARGET_LAYER):
        if name.startswith(prefix) and len(name) > len(prefix):
            return None, name[len(prefix) :]
    return None


def layer_labels(name: str, subject: tuple[str, str] | None = None) -> tuple[str, str] | None:
    """``(zh, en)`` of a layer; an indicator's layer takes the indicator's names as ``subject``.

    Parameters
    ----------
    name
        A layer name.
    subject
        Chinese and English name of the indicator (for ``ind_<key>``; default the key).

    Returns
    -------
    tuple of str or None
        ``None`` for a layer the schema does not know.
    """
    parsed = parse_layer(name)
    if parsed is None:
        return None
    layer, key = parsed
    if layer is not None:
        return layer.zh, layer.en
    zh, en = subject or (key or "", key or "")
    if name.startswith(_TARGET_LAYER):
        return f"{zh}（目标）", f"{en}: target"
    return f"{zh}（设施）", f"{en}: facilities"


# ------------------------------------------------------------------ table columns
#: The ``gaps`` layer (without its geometry).
GAP_COLUMNS = [
    "community_id",
    "check",
    "category",
    "name_zh",
    "name_en",
    "level",
    "radius_m",
    "coverage_pct",
    "target_pct",
    "uncovered_weight",
    "weight_kind",
    "gap_area_m2",
    "community_area_m2",
]
#: The ``summary`` table's per-check columns (taken from each check's summary row) ...
#: Summary columns of checks stated in minutes (present only in runs that have one).
SUMMARY_TIME_COLUMNS = ["group", "minutes"]
SUMMARY_COLUMNS = [
    "check",
    "kind",
    "category",
    "name_zh",
    "name_en",
    "level",
    "level_zh",
    "radius_m",
    "target_pct",
    "facilities",
    "facilities_unsnapped",
    "communities_assessed",
    "communities_passed",
    "communities_failed",
    "citywide_coverage_pct",
    "uncovered_weight",
    "weight_kind",
    "confirmed",
    "source",
]
#: ... followed by its citywide score (from the scorecard).
SUMMARY_CITY_COLUMNS = ["city_value", "city_unit", "city_target", "city_passed", "method"]
#: The ``scorecard`` table.
SCORECARD_COLUMNS = [
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
]
#: The ``register`` table: every target of the plan's indicator register, assessed or not (and why).
REGISTER_COLUMNS = [
    "key",
    "plan_table",
    "plan_group",
    "section",
    "name_zh",
    "name_en",
    "status",
    "value",
    "value_unit",
    "check_target",
    "passed",
    "assessed_by",
    "check",
    "method",
    "not_assessed",
    "data_needed",
    "target_2025",
    "target_max",
    "target_2022",
    "unit",
    "comparison",
    "target_text",
    "binding",
    "scale",
    "applies_to",
    "scraped",
    "reading",
    "confirmed",
    "source",
]
#: The ``register`` table's ``status`` values.
REGISTER_PASS: Final = "pass"
REGISTER_FAIL: Final = "fail"
REGISTER_NOT_ASSESSED: Final = "not assessed"
#: The ``checks`` table: every check, its threshold and target, their source and its columns.
CHECKS_COLUMNS = [
    "check",
    "kind",
    "category",
    "name_zh",
    "name_en",
    "level",
    "level_zh",
    "level_en",
    "radius_m",
    "target",
    "target_unit",
    "confirmed",
    "source",
    "pass_column",
    "score_column",
    "columns",
]
#: The ``warnings`` table.
WARNING_COLUMNS = ["code", "file", "layer", "feature", "count", "message"]
#: The ``fields`` table: every column of every spatial layer with its labels.
FIELDS_COLUMNS = ["layer", "column", "name_zh", "name_en", "unit", "input_column"]
#: The File Geodatabase's ``FIELD_MAP`` table.
FIELD_MAP_COLUMNS = [
    "layer",
    "source_name",
    "gdb_name",
    "alias_zh",
    "alias_en",
    "field_type",
    "admin_code",
    "renamed",
    "note",
]
#: The ``rollup`` table: one row per level, unit and check (:func:`servicecircle.checks.rollup.rollup_table`).
ROLLUP_COLUMNS = [
    "level",
    "unit_code",
    "unit_name",
    "check",
    "communities",
    "communities_passed",
    "communities_failed",
    "communities_unknown",
    "assessed_weight",
    "coverage_pct",
    "uncovered_weight",
    "shortfall_m2",
]
#: The ``run`` table: parameters as text.
RUN_COLUMNS = ["key", "value"]
#: The floor-area template (one row per residents' committee; ``servicecircle floor-area-template``):
#: column key -> its bilingual header. A header is read back by its first word (the key), so a planner
#: may translate the rest.
FLOOR_AREA_TEMPLATE_HEADERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "code": "code 居委会代码 (12-digit code)",
        "name": "name 名称",
        "township": "township 街道/乡镇",
        "lon": "lon 经度 (WGS84)",
        "lat": "lat 纬度 (WGS84)",
        "position": "position 位置来源 (where lon/lat come from)",
        "floor_area_m2": "floor_area_m2 综合服务设施建筑面积 (m²; empty: unknown)",
        "build_type": "build_type 新建/改建 (新建 new; 改建/扩建/购置/租用 rebuilt, extended, bought, leased)",
        "note": "note 备注",
    }
)
#: The template's columns, in order.
FLOOR_AREA_TEMPLATE_COLUMNS: Final = list(FLOOR_AREA_TEMPLATE_HEADERS)
