"""Tests for servicecircle.profiles: shipped standards profiles and their loader.

Expected numbers are the hand-checked figures of the project's
reference/standards.md and the Meishan plan, never output of the code under
test. Error messages are asserted in full: they are the user interface.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

from servicecircle.errors import ProfileError, ServiceCircleError
from servicecircle.profiles import (
    SCHEMA,
    Category,
    Profile,
    list_profiles,
    load_profile,
)

PROFILES_DIR = load_profile("meishan").path.parent  # wherever the package is installed

HEAD = """\
schema = "servicecircle-profile/1"
key = "mini"
name_zh = "测试"
name_en = "Mini"
source = "test source"
"""

DEFAULTS = """
[defaults]
target_share = 100
weight = "households"
household_size = 2.5
household_size_source = "test"
"""

LEVEL = """
[levels.l5]
name_zh = "五分钟"
name_en = "Five minutes"
walk_m = 300
source = "test"
"""

KINDERGARTEN = """
[categories.kindergarten]
name_zh = "幼儿园"
name_en = "Kindergarten"
level = "l5"
radius_m = 300
source = "test"
"""

MINI = HEAD + DEFAULTS + LEVEL + KINDERGARTEN


def write(tmp_path: Path, text: str, name: str = "p.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(spec) -> str:
    with pytest.raises(ProfileError) as info:
        load_profile(spec)
    message = str(info.value)
    assert "\n" not in message
    return message


# --------------------------------------------------------------------------- #
# shipped profiles
# --------------------------------------------------------------------------- #


def test_list_profiles():
    assert list_profiles() == ["gb50180", "meishan", "national", "sichuan", "tdt1062"]


@pytest.mark.parametrize("name", ["meishan", "gb50180", "sichuan", "national", "tdt1062"])
def test_shipped_profiles_load(name):
    p = load_profile(name)
    assert isinstance(p, Profile)
    assert p.key == name
    assert p.path == PROFILES_DIR / f"{name}.toml"
    # every level and category cites a source; radii are positive
    for level in p.levels.values():
        assert level.source.strip() and level.walk_m > 0
    for cat in p.categories.values():
        assert cat.source.strip() and cat.radius_m > 0
        assert cat.level in p.levels
        assert re.fullmatch(r"[a-z][a-z0-9_]*", cat.key)
    for ind in p.indicators.values():
        assert ind.source.strip()


def test_default_is_meishan():
    assert load_profile().key == "meishan"
    assert load_profile(None).key == "meishan"
    assert load_profile(" Meishan ").key == "meishan"


def test_meishan_levels():
    p = load_profile("meishan")
    assert {k: (v.name_zh, v.walk_m) for k, v in p.levels.items() if k != "block"} == {
        "l15": ("15分钟街区级", 1000.0),
        "l10": ("10分钟社区级", 500.0),
        "l5": ("5分钟小区级", 300.0),
        # the town and rural levels of TD/T 1062-2021 (type_profiles), for town and rural communities
        "town": ("乡集镇层级社区生活圈", 1000.0),
        "village": ("村/组层级社区生活圈", 500.0),
    }


def test_meishan_category_radii():
    p = load_profile("meishan")
    c = p.categories
    # confirmed for GB 50180-93
    assert (c["kindergarten"].radius_m, c["kindergarten"].confirmed) == (300.0, True)
    assert (c["primary_school"].radius_m, c["primary_school"].confirmed) == (500.0, True)
    assert (c["middle_school"].radius_m, c["middle_school"].confirmed) == (1000.0, True)
    # recalled from GB 50180-2018: present, unconfirmed
    expected = {
        "large_sports_ground": 1000,
        "community_health_centre": 1000,
        "cultural_activity_centre": 1000,
        "medium_sports_ground": 500,
        "food_market": 500,
        "bus_stop": 500,
        "community_service_station": 300,
        "culture_station": 500,
        "small_sports_ground": 300,
        "outdoor_fitness": 300,
        "nursery": 300,
        "elderly_day_care": 300,
    }
    for key, radius in expected.items():
        assert c[key].radius_m == radius, key
        assert c[key].radius_source == "profile", key
        assert c[key].confirmed is False, key
    # level of every category in standards.md §1
    levels = {
        "l15": [
            "middle_school",
            "large_sports_ground",
            "community_health_centre",
            "cultural_activity_centre",
            "elderly_care_home",
            "subdistrict_service_centre",
            "subdistrict_office",
            "police_station",
            "mall",
            "post_office",
        ],
        "l10": ["primary_school", "medium_sports_ground", "food_market", "restaurant", "bank", "telecom", "bus_stop"],
        "l5": [
            "community_service_station",
            "culture_station",
            "small_sports_ground",
            "outdoor_fitness",
            "kindergarten",
            "nursery",
            "elderly_day_care",
            "community_health_station",
            "community_canteen",
            "community_shops",
            "recycling_point",
            "waste_collection_station",
            "public_toilet",
        ],
        "block": [
            "property_management",
            "children_activity_space",
            "elderly_activity_space",
            "convenience_store",
            "parcel_lockers",
            "waste_collection_point",
        ],
    }
    for level, keys in levels.items():
        for key in keys:
            assert c[key].level == level, key
    assert c["kindergarten"].target_share == 100.0
    assert p.target_share == 100.0 and p.weight == "households"


def test_meishan_radius_defaults_to_level():
    c = load_profile("meishan").categories
    assert (c["community_health_station"].radius_m, c["community_health_station"].radius_source) == (300.0, "level")
    assert (c["elderly_care_home"].radius_m, c["elderly_care_home"].radius_source) == (1000.0, "level")
    assert (c["supermarket"].radius_m, c["supermarket"].radius_source) == (500.0, "level")


def test_meishan_floor_area():
    fa = load_profile("meishan").floor_area
    assert fa is not None
    assert (fa.rate_m2_per_100_households, fa.min_new_m2, fa.min_rebuilt_m2) == (40.0, 500.0, 300.0)
    assert fa.assignment == "contains"
    assert fa.categories == ("community_service_station", "neighbourhood_centre")
    assert fa.confirmed is True


def test_meishan_green_and_park():
    p = load_profile("meishan")
    green, park = p.green["green"], p.green["park"]
    assert (green.radius_m, green.min_area_m2, green.target_share) == (300.0, 400.0, 95.0)
    assert (park.radius_m, park.min_area_m2, park.target_share) == (500.0, 10000.0, 95.0)
    assert green.confirmed is False and park.confirmed is False  # which greens count is unconfirmed
    assert park.reach == "boundary_samples" and park.boundary_spacing_m == 20.0
    assert p.park_area_per_resident_m2 == 16.0


def test_meishan_six_ones():
    p = load_profile("meishan")
    items = {i.key: i for i in p.six_ones}
    assert list(items) == ["elderly_service", "childcare", "supermarket", "health", "activity_space", "public_green"]
    assert items["childcare"].categories == ("kindergarten", "nursery")
    assert items["elderly_service"].categories == ("elderly_service_centre", "elderly_day_care")
    assert items["health"].categories == ("community_health_centre", "community_health_station")
    assert items["supermarket"].categories == ("supermarket",)
    assert "public_activity_space" in items["activity_space"].categories
    assert items["public_green"].categories == ("public_green",)
    assert items["public_green"].radius_m == 300.0
    assert all(i.radius_m == 500.0 for k, i in items.items() if k != "public_green")
    assert all(i.confirmed is False for i in p.six_ones)  # radii are interpretations
    assert all(i.source.startswith("Plan chapter 3 §1") for i in p.six_ones)
    assert p.six_ones_name_zh == "6个1"


def test_meishan_indicators():
    ind = load_profile("meishan").indicators
    assert (ind["sports_ground_per_resident"].value, ind["sports_ground_per_resident"].unit) == (2.6, "m2/resident")
    assert ind["childcare_places_per_1000"].value == 4.5
    assert ind["childcare_places_per_1000"].comparison == ">="
    assert (ind["health_floor_area_per_1000"].value, ind["health_floor_area_per_1000"].confirmed) == (60.0, False)
    hh = ind["community_households"]
    assert (hh.value, hh.value_max, hh.comparison, hh.unit) == (1500.0, 4000.0, "between", "households")
    res = ind["community_residents"]
    assert (res.value, res.value_max, res.unit) == (4500.0, 12000.0, "residents")
    adj = load_profile("meishan").targets["health_next_to_elderly_care"]
    assert (adj.kind, adj.within_m, adj.confirmed) == ("colocation", 100.0, False)
    assert hh.is_met(4000) and not hh.is_met(4001) and not hh.is_met(float("nan"))
    assert ind["childcare_places_per_1000"].is_met(4.5)
    assert not ind["childcare_places_per_1000"].is_met(4.4)


def test_gb50180_has_no_local_rules():
    p = load_profile("gb50180")
    assert p.floor_area is None and p.six_ones == () and p.green == {}
    assert p.park_area_per_resident_m2 is None
    assert p.indicators["green_per_resident_l15"].value == 2.0
    assert p.indicators["green_per_resident_l10"].value == 1.0
    assert p.indicators["green_per_resident_l5"].value == 1.0
    assert p.indicators["park_min_area_l10"].confirmed is True
    assert p.indicators["park_min_area_l15"].confirmed is False
    assert p.indicators["park_min_area_l5"].confirmed is False
    assert "supermarket" not in p.categories


def test_sichuan_and_national_floor_area():
    sc, nat = load_profile("sichuan"), load_profile("national")
    assert sc.floor_area.rate_m2_per_100_households == 30.0
    assert (sc.floor_area.min_new_m2, sc.floor_area.min_rebuilt_m2) == (500.0, 300.0)
    assert "600" in sc.floor_area.source
    assert nat.floor_area.rate_m2_per_100_households == 30.0
    assert (nat.floor_area.min_new_m2, nat.floor_area.min_rebuilt_m2) == (None, None)
    # inherited from gb50180
    assert sc.categories["kindergarten"].radius_m == 300.0
    assert [f.name for f in sc.files] == ["sichuan.toml", "gb50180.toml"]
    assert nat.six_ones == ()


def test_household_size_flagged():
    p = load_profile("meishan")
    assert p.household_size == 2.62
    assert p.household_size_confirmed is False
    assert "defaults.household_size" in p.unconfirmed()


def test_every_unconfirmed_section_carries_a_comment():
    """standards.md: anything unconfirmed is flagged confirmed = false *with a comment*."""
    for path in PROFILES_DIR.glob("*.toml"):
        sections = re.split(r"(?m)^\[", path.read_text(encoding="utf-8"))
        for section in sections:
            if re.search(r"(?m)^confirmed = false", section):
                assert "#" in section, (path.name, section.splitlines()[0])


def test_unconfirmed_list():
    u = load_profile("meishan").unconfirmed()
    for label in [
        "levels.block",
        "categories.nursery",
        "greenspace.green",
        "greenspace.park",
        "six_ones.childcare",
        "indicators.health_floor_area_per_1000",
        "colocations.health_next_to_elderly_care",
        "indicators.park_min_area_l5",
    ]:
        assert label in u
    for label in ["categories.kindergarten", "floor_area", "indicators.community_households"]:
        assert label not in u


# --------------------------------------------------------------------------- #
# Profile methods
# --------------------------------------------------------------------------- #


def test_category_for_aliases():
    p = load_profile("meishan")
    assert p.category_for("幼儿园").key == "kindergarten"
    assert p.category_for("托儿所").key == "nursery"  # a different category
    assert p.category_for("托育机构").key == "nursery"
    assert p.category_for(" Kindergarten ").key == "kindergarten"
    assert p.category_for("KINDERGARTEN").key == "kindergarten"
    assert p.category_for("primary school").key == "primary_school"
    assert p.category_for("primary-school").key == "primary_school"
    assert p.category_for("社区卫生服务中心").key == "community_health_centre"
    assert p.category_for("卫生服务站").key == "community_health_station"
    assert p.category_for("社区服务中心（街道级）").key == "subdistrict_service_centre"  # full-width
    assert p.category_for("日间照料中心").key == "elderly_day_care"
    assert p.category_for("养老服务中心").key == "elderly_service_centre"
    assert p.category_for("超市").key == "supermarket"
    assert p.category_for("生鲜超市").key == "food_market"
    assert p.category_for("党群服务中心").key == "community_service_station"
    assert p.category_for("no such thing") is None
    assert p.category_for("") is None
    assert p.category_for(None) is None  # type: ignore[arg-type]
    assert p.category_for(float("nan")) is None  # type: ignore[arg-type]
    assert isinstance(p.category_for("幼儿园"), Category)


def test_thresholds():
    p = load_profile("meishan")
    assert p.thresholds("kindergarten") == (300.0, 500.0)
    assert p.thresholds("primary_school") == (500.0,)
    assert p.thresholds("public_green") == (300.0,)
    assert p.thresholds("community_health_centre") == (500.0, 1000.0)
    assert load_profile("gb50180").thresholds("kindergarten") == (300.0,)
    with pytest.raises(ProfileError) as info:
        p.thresholds("kindergarden")
    assert str(info.value) == (
        f"{PROFILES_DIR / 'meishan.toml'}: profile 'meishan' has no category 'kindergarden'. "
        "Fix: did you mean 'kindergarten'?"
    )


def test_categories_frame():
    p = load_profile("meishan")
    df = p.categories_frame()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns)[:8] == [
        "key",
        "name_zh",
        "name_en",
        "level",
        "radius_m",
        "target_share",
        "confirmed",
        "source",
    ]
    assert len(df) == len(p.categories)
    row = df.set_index("key").loc["kindergarten"]
    assert (row["radius_m"], row["level"], bool(row["confirmed"])) == (300.0, "l5", True)


def test_describe():
    text = load_profile("meishan").describe()
    assert "profile 'meishan'" in text
    assert "kindergarten" in text and "幼儿园" in text
    assert "40 m2 per 100 households" in text
    assert "6个1" in text
    # TD/T 1062 (the town and rural profile) has no nursery: urban communities only
    assert "nursery                      托儿所 / Nursery [l5]: 300 m, 100% (urban only) *" in text


def test_profile_is_frozen():
    p = load_profile("meishan")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.key = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.categories["kindergarten"].radius_m = 1.0  # type: ignore[misc]


def test_load_profile_passes_profile_through():
    p = load_profile("meishan")
    assert load_profile(p) is p


# --------------------------------------------------------------------------- #
# extends
# --------------------------------------------------------------------------- #


def test_extends_meishan_changes_one_radius(tmp_path):
    path = write(
        tmp_path,
        HEAD
        + """
extends = "meishan"

[categories.kindergarten]
radius_m = 500
source = "local rule 2024"
""",
    )
    p = load_profile(path)
    base = load_profile("meishan")
    assert p.key == "mini" and p.path == path
    assert [f.name for f in p.files] == ["p.toml", "meishan.toml", "gb50180.toml", "tdt1062.toml"]
    k = p.categories["kindergarten"]
    assert (k.radius_m, k.source, k.radius_source) == (500.0, "local rule 2024", "profile")
    assert (k.name_zh, k.level, k.aliases) == ("幼儿园", "l5", base.categories["kindergarten"].aliases)
    # everything else unchanged
    assert {c: v for c, v in p.categories.items() if c != "kindergarten"} == {
        c: v for c, v in base.categories.items() if c != "kindergarten"
    }
    assert p.floor_area == base.floor_area and p.six_ones == base.six_ones
    assert p.green == base.green and p.indicators == base.indicators
    assert p.thresholds("kindergarten") == (500.0,)
    # the shipped profile is untouched
    assert load_profile("meishan").categories["kindergarten"].radius_m == 300.0


def test_extends_file_in_same_folder(tmp_path):
    write(tmp_path, MINI.replace('key = "mini"', 'key = "base"'), "base.toml")
    path = write(
        tmp_path,
        HEAD
        + """
extends = "base.toml"

[levels.l5]
walk_m = 400
source = "local"

[categories.nursery]
name_zh = "托儿所"
name_en = "Nursery"
level = "l5"
source = "local"
""",
        "child.toml",
    )
    p = load_profile(path)
    assert p.levels["l5"].walk_m == 400.0
    assert (p.categories["nursery"].radius_m, p.categories["nursery"].radius_source) == (400.0, "level")
    assert p.categories["kindergarten"].radius_m == 300.0  # given by base, not the level
    assert [f.name for f in p.files] == ["child.toml", "base.toml"]


def test_radius_defaults_to_level(tmp_path):
    p = load_profile(write(tmp_path, MINI.replace("radius_m = 300\n", "")))
    k = p.categories["kindergarten"]
    assert (k.radius_m, k.radius_source, k.target_share) == (300.0, "level", 100.0)


def test_extends_merges_tables_key_by_key(tmp_path):
    path = write(
        tmp_path,
        HEAD
        + """
extends = "meishan"

[greenspace.park]
min_area_m2 = 5000
source = "local: parks of 5000 m2 and above"

[floor_area]
rate_m2_per_100_households = 30
source = "local"
""",
    )
    p = load_profile(path)
    assert p.green["park"].min_area_m2 == 5000.0 and p.green["park"].radius_m == 500.0
    assert p.green["green"] == load_profile("meishan").green["green"]
    assert (p.floor_area.rate_m2_per_100_households, p.floor_area.min_new_m2) == (30.0, 500.0)


def test_extends_changing_names_or_aliases_needs_no_source(tmp_path):
    path = write(
        tmp_path,
        HEAD
        + """
extends = "meishan"

[categories.kindergarten]
name_en = "Kindergarten (public)"
aliases = ["幼儿园", "公办幼儿园"]
confirmed = false
""",
    )
    p = load_profile(path)
    k = p.categories["kindergarten"]
    assert k.aliases == ("幼儿园", "公办幼儿园") and k.confirmed is False
    assert p.category_for("幼稚园") is None  # arrays are replaced, not merged


# --------------------------------------------------------------------------- #
# validation errors, asserted in full
# --------------------------------------------------------------------------- #


def test_error_is_a_service_circle_error(tmp_path):
    path = write(tmp_path, MINI + "bogus = 1\n")
    with pytest.raises(ServiceCircleError):
        load_profile(path)


def test_error_unknown_field_did_you_mean(tmp_path):
    path = write(tmp_path, MINI.replace("radius_m = 300", "radius = 300"))
    assert error_of(path) == (f"{path}: [categories.kindergarten] radius: unknown field. Fix: did you mean 'radius_m'?")


def test_error_unknown_field_without_close_match(tmp_path):
    path = write(tmp_path, MINI.replace("walk_m = 300", "walk_m = 300\ncolour = 'red'"))
    assert error_of(path) == (
        f"{path}: [levels.l5] colour: unknown field. "
        "Fix: remove it; allowed fields are name_zh, name_en, walk_m, source, confirmed, notes"
    )


def test_error_unknown_top_level_table(tmp_path):
    path = write(tmp_path, MINI + "\n[categorys.x]\nname_zh = 'x'\n")
    assert error_of(path) == f"{path}: categorys: unknown field. Fix: did you mean 'categories'?"


def test_error_missing_required_field(tmp_path):
    path = write(tmp_path, MINI.replace('level = "l5"\n', ""))
    assert error_of(path) == (f'{path}: [categories.kindergarten] level: missing required field. Fix: add level = "l5"')


def test_error_missing_required_choice(tmp_path):
    path = write(tmp_path, MINI.replace('weight = "households"\n', ""))
    assert error_of(path) == (
        f"{path}: [defaults] weight: missing required field. "
        'Fix: add weight = "households" (allowed: households, residents)'
    )


def test_error_missing_top_level_field(tmp_path):
    path = write(tmp_path, MINI.replace('name_en = "Mini"\n', ""))
    assert error_of(path) == (
        f'{path}: name_en: missing required field. Fix: add name_en = "..." (every profile file gives its own)'
    )


def test_error_missing_table(tmp_path):
    path = write(tmp_path, HEAD + LEVEL + KINDERGARTEN)
    assert error_of(path) == (
        f"{path}: defaults: missing required table. Fix: add a [defaults] section with "
        'target_share, weight and household_size, or extends = "gb50180"'
    )


def test_error_wrong_type_string_for_number(tmp_path):
    path = write(tmp_path, MINI.replace("radius_m = 300", 'radius_m = "300"'))
    assert error_of(path) == (
        f"{path}: [categories.kindergarten] radius_m: must be a number of metres, "
        "not the string '300'. Fix: write radius_m = 300 without quotes"
    )


def test_error_wrong_type_text(tmp_path):
    path = write(tmp_path, MINI.replace("radius_m = 300", 'radius_m = "near"'))
    assert error_of(path) == (
        f"{path}: [categories.kindergarten] radius_m: must be a number of metres, "
        "not the string 'near'. Fix: write a number, e.g. radius_m = 300"
    )


def test_error_wrong_type_bool(tmp_path):
    path = write(tmp_path, MINI.replace("walk_m = 300", 'walk_m = 300\nconfirmed = "false"'))
    assert error_of(path) == (
        f"{path}: [levels.l5] confirmed: must be true or false, not the string 'false'. "
        "Fix: write confirmed = false without quotes"
    )


def test_error_wrong_type_choice(tmp_path):
    path = write(tmp_path, MINI.replace('weight = "households"', 'weight = "household"'))
    assert error_of(path) == (
        f"{path}: [defaults] weight: must be one of 'households', 'residents', not 'household'. "
        "Fix: did you mean 'households'?"
    )


def test_error_wrong_type_aliases(tmp_path):
    path = write(tmp_path, MINI.replace("radius_m = 300", 'radius_m = 300\naliases = "幼儿园"'))
    assert error_of(path) == (
        f"{path}: [categories.kindergarten] aliases: must be a list of texts, "
        'not the string \'幼儿园\'. Fix: write aliases = ["...", "..."]'
    )


def test_error_category_key_not_ascii(tmp_path):
    path = write(tmp_path, MINI.replace("[categories.kindergarten]", '[categories."幼儿园"]'))
    assert error_of(path) == (
        f"{path}: [categories] '幼儿园': key must be ascii snake_case. Fix: use a key of lowercase "
        "ascii letters, digits and _ starting with a letter, and list '幼儿园' in its aliases"
    )


@pytest.mark.parametrize("value", ["0", "-300"])
def test_error_distance_not_positive(tmp_path, value):
    path = write(tmp_path, MINI.replace("radius_m = 300", f"radius_m = {value}"))
    assert error_of(path) == (
        f"{path}: [categories.kindergarten] radius_m: must be greater than 0 metres, got {value}. "
        "Fix: give a positive distance in metres"
    )


def test_error_level_distance_not_positive(tmp_path):
    path = write(tmp_path, MINI.replace("walk_m = 300", "walk_m = -1.5"))
    assert error_of(path) == (
        f"{path}: [levels.l5] walk_m: must be greater than 0 metres, got -1.5. Fix: give a positive distance in metres"
    )


def test_error_not_finite(tmp_path):
    path = write(tmp_path, MINI.replace("walk_m = 300", "walk_m = inf"))
    assert error_of(path) == (
        f"{path}: [levels.l5] walk_m: must be a finite number, got inf. Fix: give a finite number"
    )


@pytest.mark.parametrize("value", ["120", "-5"])
def test_error_target_share_out_of_range(tmp_path, value):
    path = write(tmp_path, MINI.replace("target_share = 100", f"target_share = {value}"))
    assert error_of(path) == (
        f"{path}: [defaults] target_share: must be a percent between 0 and 100, got {value}. "
        "Fix: write target_share as a percent, e.g. target_share = 95"
    )


def test_error_category_target_share_out_of_range(tmp_path):
    path = write(tmp_path, MINI.replace("radius_m = 300", "radius_m = 300\ntarget_share = 100.5"))
    assert error_of(path) == (
        f"{path}: [categories.kindergarten] target_share: must be a percent between 0 and 100, "
        "got 100.5. Fix: write target_share as a percent, e.g. target_share = 95"
    )


def test_error_unknown_level(tmp_path):
    path = write(tmp_path, MINI.replace('level = "l5"', 'level = "l15"'))
    assert error_of(path) == (
        f"{path}: [categories.kindergarten] level: 'l15' is not a defined level. Fix: did you mean 'l5'?"
    )


def test_error_unknown_level_without_close_match(tmp_path):
    path = write(tmp_path, MINI.replace('level = "l5"', 'level = "street"'))
    assert error_of(path) == (
        f"{path}: [categories.kindergarten] level: 'street' is not a defined level. "
        "Fix: use one of l5 or add a [levels.street] section"
    )


def test_error_unknown_level_named_in_child_file(tmp_path):
    path = write(
        tmp_path,
        HEAD
        + """
extends = "meishan"

[categories.canteen_for_elders]
name_zh = "长者食堂"
name_en = "Canteen for elders"
level = "l20"
source = "local"
""",
    )
    assert error_of(path) == (
        f"{path}: [categories.canteen_for_elders] level: 'l20' is not a defined level. Fix: did you mean 'l10'?"
    )


SIX = """
[six_ones]
name_zh = "6个1"
name_en = "Six ones"
source = "plan"

[[six_ones.items]]
key = "childcare"
name_zh = "幼儿园(托儿所)"
name_en = "Kindergarten or nursery"
categories = ["kindergarten", "nursery"]
radius_m = 500
"""


def test_error_six_ones_unknown_category(tmp_path):
    path = write(tmp_path, MINI + SIX)
    assert error_of(path) == (
        f"{path}: [six_ones.items] 'childcare' categories: 'nursery' is not a defined category. "
        "Fix: add a [categories.nursery] section or use a defined category key"
    )


def test_error_six_ones_unknown_category_close_match(tmp_path):
    path = write(tmp_path, MINI + SIX.replace('"kindergarten", "nursery"', '"kindergarden"'))
    assert error_of(path) == (
        f"{path}: [six_ones.items] 'childcare' categories: 'kindergarden' is not a defined "
        "category. Fix: did you mean 'kindergarten'?"
    )


def test_six_ones_item_takes_table_source(tmp_path):
    p = load_profile(write(tmp_path, MINI + SIX.replace(', "nursery"', "")))
    assert p.six_ones[0].source == "plan"
    assert p.six_ones[0].confirmed is True
    assert p.thresholds("kindergarten") == (300.0, 500.0)


def test_error_six_ones_missing_item_field(tmp_path):
    path = write(tmp_path, MINI + SIX.replace(', "nursery"', "").replace("radius_m = 500\n", ""))
    assert error_of(path) == (
        f"{path}: [six_ones.items] 'childcare' radius_m: missing required field. Fix: add radius_m = 300"
    )


def test_error_six_ones_duplicate_item_key(tmp_path):
    item = SIX[SIX.index("[[six_ones.items]]") :].replace(', "nursery"', "")
    path = write(tmp_path, MINI + SIX.replace(', "nursery"', "") + item)
    assert error_of(path) == (
        f"{path}: [six_ones.items] 'childcare' key: two items have the key 'childcare'. Fix: give each item its own key"
    )


FLOOR = """
[floor_area]
name_zh = "社区综合服务设施面积"
name_en = "Community service floor area"
rate_m2_per_100_households = 40
assignment = "contains"
categories = ["community_service_station"]
source = "plan"
"""


def test_error_floor_area_unknown_category(tmp_path):
    path = write(tmp_path, MINI + FLOOR)
    assert error_of(path) == (
        f"{path}: [floor_area] categories: 'community_service_station' is not a defined category. "
        "Fix: add a [categories.community_service_station] section or use a defined category key"
    )


def test_error_floor_area_catchment_needs_radius(tmp_path):
    path = write(
        tmp_path, MINI + FLOOR.replace('"contains"', '"catchment"').replace("community_service_station", "kindergarten")
    )
    assert error_of(path) == (
        f'{path}: [floor_area] catchment_radius_m: missing; required when assignment = "catchment". '
        "Fix: add catchment_radius_m = 500"
    )


def test_floor_area_minimums_optional(tmp_path):
    p = load_profile(write(tmp_path, MINI + FLOOR.replace("community_service_station", "kindergarten")))
    assert (p.floor_area.min_new_m2, p.floor_area.min_rebuilt_m2) == (None, None)


def test_error_indicator_between_needs_value_max(tmp_path):
    path = write(
        tmp_path,
        MINI
        + """
[indicators.size]
name_zh = "规模"
name_en = "Size"
value = 1500
unit = "households"
comparison = "between"
source = "plan"
""",
    )
    assert error_of(path) == (
        f'{path}: [indicators.size] value_max: missing; required when comparison = "between". '
        "Fix: add value_max = the upper end of the range"
    )


def test_error_indicator_value_max_below_value(tmp_path):
    path = write(
        tmp_path,
        MINI
        + """
[indicators.size]
name_zh = "规模"
name_en = "Size"
value = 4000
value_max = 1500
unit = "households"
comparison = "between"
source = "plan"
""",
    )
    assert error_of(path) == (
        f"{path}: [indicators.size] value_max: must be greater than value (4000), got 1500. "
        "Fix: give the range as value = low, value_max = high"
    )


def test_error_green_samples_need_spacing(tmp_path):
    path = write(
        tmp_path,
        MINI
        + """
[greenspace.park]
name_zh = "500米见园"
name_en = "Park within 500 m"
min_area_m2 = 10000
radius_m = 500
denominator = "residents"
reach = "boundary_samples"
source = "plan"
""",
    )
    assert error_of(path) == (
        f"{path}: [greenspace.park] boundary_spacing_m: missing; required when reach = "
        '"boundary_samples". Fix: add boundary_spacing_m = 20'
    )


def test_error_unknown_schema(tmp_path):
    path = write(tmp_path, MINI.replace("servicecircle-profile/1", "servicecircle-profile/2"))
    assert error_of(path) == (
        f"{path}: schema: unknown profile format 'servicecircle-profile/2'. "
        f'Fix: this version of servicecircle reads schema = "{SCHEMA}"'
    )


def test_error_missing_schema(tmp_path):
    path = write(tmp_path, MINI.replace('schema = "servicecircle-profile/1"\n', ""))
    assert error_of(path) == (
        f'{path}: schema: missing required field. Fix: add schema = "{SCHEMA}" at the top of the file'
    )


def test_error_toml_syntax(tmp_path):
    path = write(tmp_path, MINI.replace("walk_m = 300", "walk_m = 300 m"))
    assert error_of(path) == (
        f"{path}: not valid TOML: Expected newline or end of document after a statement "
        "(at line 16, column 14). Fix: correct the syntax at that line "
        "(texts need quotes, tables are written [name])"
    )


def test_error_not_utf8(tmp_path):
    path = tmp_path / "gbk.toml"
    path.write_bytes(MINI.encode("gbk"))
    assert error_of(path) == (
        f"{path}: is not UTF-8 text (byte 59 cannot be decoded). Fix: save the file as UTF-8 (not GBK)"
    )


def test_utf8_bom_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(MINI.encode("utf-8-sig"))
    assert load_profile(path).key == "mini"


def test_error_file_not_found(tmp_path):
    path = tmp_path / "missing.toml"
    assert error_of(path) == (
        f"{path}: profile file not found. Fix: check the path, or name a shipped profile: "
        "gb50180, meishan, national, sichuan, tdt1062"
    )


def test_error_unknown_profile_name():
    assert error_of("meishen") == (
        "no profile named 'meishen'. Fix: did you mean 'meishan'? Shipped profiles: "
        "gb50180, meishan, national, sichuan, tdt1062; or give the path of a .toml file"
    )


def test_error_directory(tmp_path):
    assert error_of(tmp_path) == (f"{tmp_path}: is not a regular file. Fix: give the path of a .toml profile file")


EXTENDS_FIX = (
    "Fix: name a shipped profile (gb50180, meishan, national, sichuan, tdt1062) or a .toml file in the "
    'same folder as this file, e.g. extends = "base.toml"'
)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("/etc/passwd", "'/etc/passwd' is an absolute path"),
        ("C:\\\\profiles\\\\base.toml", "'C:\\\\profiles\\\\base.toml' is an absolute path"),
        ("sub/base.toml", "'sub/base.toml' contains a path separator"),
        ("sub\\\\base.toml", "'sub\\\\base.toml' contains a path separator"),
        ("..base.toml", "'..base.toml' contains '..'"),
    ],
)
def test_error_extends_path(tmp_path, value, problem):
    path = write(tmp_path, HEAD + f'extends = "{value}"\n')
    assert error_of(path) == f"{path}: extends: {problem}. {EXTENDS_FIX}"


def test_error_extends_parent_dir(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path, MINI, "base.toml")
    path = write(tmp_path / "sub", HEAD + 'extends = "../base.toml"\n')
    assert error_of(path) == f"{path}: extends: '../base.toml' contains a path separator. {EXTENDS_FIX}"


def test_error_extends_missing_file(tmp_path):
    path = write(tmp_path, HEAD + 'extends = "base.toml"\n')
    assert error_of(path) == (
        f"{path}: extends: 'base.toml' does not exist in {tmp_path}. Fix: put base.toml next to "
        "this file, or name a shipped profile: gb50180, meishan, national, sichuan, tdt1062"
    )


def test_error_extends_unknown_name(tmp_path):
    path = write(tmp_path, HEAD + 'extends = "meishan2"\n')
    assert error_of(path) == (
        f"{path}: extends: 'meishan2' is not a shipped profile. Fix: did you mean 'meishan'? for a "
        'file next to this one write its name with .toml, e.g. extends = "meishan2.toml"'
    )


def test_error_extends_cycle(tmp_path):
    a = write(tmp_path, HEAD + 'extends = "b.toml"\n', "a.toml")
    b = write(tmp_path, HEAD + 'extends = "a.toml"\n', "b.toml")
    assert error_of(a) == (
        f"{b}: extends: 'a.toml' makes a cycle: a.toml -> b.toml -> a.toml. Fix: remove extends from one of these files"
    )


def test_error_extends_self(tmp_path):
    a = write(tmp_path, HEAD + 'extends = "a.toml"\n', "a.toml")
    assert error_of(a) == (
        f"{a}: extends: 'a.toml' makes a cycle: a.toml -> a.toml. Fix: remove extends from one of these files"
    )


def test_error_extends_change_without_source(tmp_path):
    path = write(
        tmp_path,
        HEAD
        + """
extends = "meishan"

[categories.kindergarten]
radius_m = 500
""",
    )
    assert error_of(path) == (
        f"{path}: [categories.kindergarten] radius_m: changes 300 inherited from gb50180.toml to "
        '500 but this table gives no source. Fix: add source = "..." to '
        "[categories.kindergarten] saying where 500 comes from"
    )


def test_error_extends_error_in_parent_names_parent(tmp_path):
    base = write(tmp_path, MINI.replace("radius_m = 300", "radius_m = -1"), "base.toml")
    path = write(tmp_path, HEAD + 'extends = "base.toml"\n')
    assert error_of(path) == (
        f"{base}: [categories.kindergarten] radius_m: must be greater than 0 metres, got -1. "
        "Fix: give a positive distance in metres"
    )


def test_error_child_must_name_itself(tmp_path):
    path = write(tmp_path, 'schema = "servicecircle-profile/1"\nextends = "meishan"\n')
    assert error_of(path) == (
        f'{path}: key: missing required field. Fix: add key = "mycity" (every profile file gives its own)'
    )


def test_error_alias_names_two_categories(tmp_path):
    path = write(
        tmp_path,
        MINI
        + """
[categories.nursery]
name_zh = "托儿所"
name_en = "Nursery"
level = "l5"
source = "test"
aliases = ["托育机构", "幼儿园"]
""",
    )
    assert error_of(path) == (
        f"{path}: [categories.nursery] aliases: '幼儿园' already names category 'kindergarten' "
        "(its name_zh). Fix: a value may name one category only: remove it from one of them"
    )


def test_error_alias_conflict_up_to_case_and_width(tmp_path):
    path = write(
        tmp_path,
        MINI.replace("radius_m = 300", 'radius_m = 300\naliases = ["Nursery School"]')
        + """
[categories.nursery]
name_zh = "托儿所"
name_en = "Nursery"
level = "l5"
source = "test"
aliases = ["ｎｕｒｓｅｒｙ-School"]
""",
    )
    assert error_of(path) == (
        f"{path}: [categories.nursery] aliases: 'ｎｕｒｓｅｒｙ-School' already names category "
        "'kindergarten' (its aliases). Fix: a value may name one category only: remove it from "
        "one of them"
    )


def test_error_alias_conflict_with_inherited(tmp_path):
    path = write(
        tmp_path,
        HEAD
        + """
extends = "meishan"

[categories.preschool_class]
name_zh = "学前班"
name_en = "Preschool class"
level = "l5"
source = "local"
aliases = ["幼稚园"]
""",
    )
    assert error_of(path) == (
        f"{path}: [categories.preschool_class] aliases: '幼稚园' already names category "
        "'kindergarten' (its aliases). Fix: a value may name one category only: remove it from "
        "one of them"
    )


# --------------------------------------------------------------------------- #
# safety: nothing executes, nothing else is read
# --------------------------------------------------------------------------- #


def test_no_code_execution(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    text = MINI.replace('name_en = "Mini"', f'name_en = "{payload}"').replace(
        'source = "test source"', 'source = """${7*7} {{7*7}} `id` $(id) eval(1+1)"""'
    )
    p = load_profile(write(tmp_path, text))
    assert p.name_en == payload
    assert p.source == "${7*7} {{7*7}} `id` $(id) eval(1+1)"
    assert not marker.exists()
    assert payload in p.describe()


_opened: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _opened is not None and event == "open" and isinstance(args[0], (str, bytes, Path)):
        _opened.append(str(args[0]))


sys.addaudithook(_audit)


def test_reads_only_the_profile_and_its_parents(tmp_path):
    global _opened
    write(tmp_path, MINI, "base.toml")
    write(tmp_path, MINI, "other.toml")
    path = write(tmp_path, HEAD + 'extends = "base.toml"\n', "child.toml")
    _opened = []
    try:
        load_profile(path)
        opened = sorted(Path(p).name for p in _opened)
    finally:
        _opened = None
    assert opened == ["base.toml", "child.toml"]


def test_error_value_max_without_between(tmp_path):
    path = write(
        tmp_path,
        MINI
        + """
[indicators.sports]
name_zh = "人均体育场地面积"
name_en = "Sports ground per resident"
value = 2.6
value_max = 3
unit = "m2/resident"
comparison = ">="
source = "plan"
""",
    )
    assert error_of(path) == (
        f'{path}: [indicators.sports] value_max: only used with comparison = "between", '
        "not '>='. Fix: remove value_max or write comparison = \"between\""
    )


def test_error_indicator_unknown_category(tmp_path):
    path = write(
        tmp_path,
        MINI
        + """
[indicators.places]
name_zh = "托位数"
name_en = "Childcare places"
value = 4.5
unit = "places/1000 residents"
comparison = ">="
source = "plan"
categories = ["nursery"]
""",
    )
    assert error_of(path) == (
        f"{path}: [indicators.places] categories: 'nursery' is not a defined category. "
        "Fix: add a [categories.nursery] section or use a defined category key"
    )


def test_error_park_area_per_resident_needs_source(tmp_path):
    path = write(tmp_path, MINI + "\n[greenspace]\npark_area_per_resident_m2 = 16\n")
    assert error_of(path) == (
        f"{path}: [greenspace] source_per_resident: missing; required when "
        'park_area_per_resident_m2 is given. Fix: add source_per_resident = "..." citing the figure'
    )


def test_error_household_size_change_needs_source(tmp_path):
    path = write(tmp_path, HEAD + 'extends = "meishan"\n\n[defaults]\nhousehold_size = 3.0\n')
    assert error_of(path) == (
        f"{path}: [defaults] household_size: changes 2.62 inherited from gb50180.toml to 3 but "
        'this table gives no household_size_source. Fix: add household_size_source = "..." to '
        "[defaults] saying where 3 comes from"
    )


def test_error_empty_text(tmp_path):
    path = write(tmp_path, MINI.replace('source = "test source"', 'source = "  "'))
    assert error_of(path) == f'{path}: source: must not be empty. Fix: write source = "..." with a text'


def test_shipped_name_wins_over_same_named_file_for_extends(tmp_path):
    # a local gb50180.toml does not shadow the shipped profile: only names ending
    # in .toml refer to files
    write(tmp_path, "this is not read", "gb50180.toml")
    p = load_profile(write(tmp_path, HEAD + 'extends = "gb50180"\n'))
    assert p.categories["kindergarten"].radius_m == 300.0


# --------------------------------------------------------------------------- #
# indicator measures and the 6个1 reach share
# --------------------------------------------------------------------------- #

NURSERY = """
[categories.nursery]
name_zh = "托儿所"
name_en = "Nursery"
level = "l5"
source = "test"
"""

PLACES = """
[indicators.places]
name_zh = "托位数"
name_en = "Childcare places"
value = 4.5
unit = "places/1000 residents"
comparison = ">="
source = "plan"
categories = ["nursery"]
"""


def test_meishan_indicator_measures():
    ind = load_profile("meishan").indicators
    got = {k: (i.measure, i.attribute, i.per) for k, i in ind.items() if i.measure}
    assert got == {
        "sports_ground_per_resident": ("attribute_per_resident", "area", 1.0),
        "childcare_places_per_1000": ("attribute_per_resident", "places", 1000.0),
        "health_floor_area_per_1000": ("attribute_per_resident", "floor_area", 1000.0),
        "community_households": ("community_households", None, 1.0),
        "community_residents": ("community_residents", None, 1.0),
    }
    targets = load_profile("meishan").targets
    adj = targets["health_next_to_elderly_care"]
    assert adj.categories == ("community_health_centre",)
    assert adj.near_categories == ("elderly_service_centre", "elderly_day_care", "elderly_care_home")
    rest = targets["rest_station_per_community"]
    assert (rest.kind, rest.unit, rest.min_count, rest.applies_to) == ("count", "community", 1, ("urban",))
    assert (targets["neighbourhood_centres_citywide"].unit, targets["neighbourhood_centres_citywide"].min_count) == (
        "city",
        40,
    )
    assert targets["township_elderly_institution"].target_pct == 60.0
    assert ind["community_households"].applies_to == ("urban",)
    # without a measure: listed, not computed
    assert load_profile("gb50180").indicators["green_per_resident_l15"].measure is None


def test_meishan_six_ones_reach_share():
    assert load_profile("meishan").six_ones_reach_share == 50.0
    text = (PROFILES_DIR / "meishan.toml").read_text(encoding="utf-8")
    before = text[: text.index("reach_share = 50")]
    assert "# interpretation" in before[before.rindex("[six_ones]") :]
    assert "within reach: >= 50% of households" in load_profile("meishan").describe()


def test_describe_shows_measures():
    text = load_profile("meishan").describe()
    assert "community_households" in text and "1500-4000 households [community_households]" in text
    assert "[not computed]" in text  # e.g. rest_station_per_community


def test_indicator_measure_fields_load(tmp_path):
    p = load_profile(
        write(
            tmp_path, MINI + NURSERY + PLACES + 'measure = "attribute_per_resident"\nattribute = "places"\nper = 1000\n'
        )
    )
    i = p.indicators["places"]
    assert (i.measure, i.attribute, i.per, i.to_categories) == ("attribute_per_resident", "places", 1000.0, ())
    p = load_profile(
        write(tmp_path, MINI + NURSERY + PLACES + 'measure = "attribute_per_resident"\nattribute = "places"\n')
    )
    assert p.indicators["places"].per == 1.0  # default
    p = load_profile(
        write(
            tmp_path,
            MINI
            + NURSERY
            + PLACES.replace('"nursery"', '"kindergarten"')
            + 'measure = "nearest_distance"\nto_categories = ["nursery", "nursery"]\n',
        )
    )
    assert p.indicators["places"].to_categories == ("nursery",)


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            'measure = "attribute_per_residents"\n',
            "measure: must be one of 'attribute_per_resident', 'community_households', 'community_residents', "
            "'nearest_distance', not 'attribute_per_residents'. "
            "Fix: did you mean 'attribute_per_resident'?",
        ),
        (
            'measure = "attribute_per_resident"\n',
            'attribute: missing; required when measure = "attribute_per_resident". '
            'Fix: add attribute = "area" (allowed: area, floor_area, places)',
        ),
        (
            'measure = "attribute_per_resident"\nattribute = "seats"\n',
            "attribute: must be one of 'area', 'floor_area', 'places', not 'seats'. Fix: write attribute = \"area\"",
        ),
        (
            'measure = "attribute_per_resident"\nattribute = "places"\nper = 0\n',
            "per: must be greater than 0, got 0. Fix: give a positive number",
        ),
        (
            'measure = "attribute_per_resident"\nattribute = "places"\nper = "1000"\n',
            "per: must be a number, not the string '1000'. Fix: write per = 1000 without quotes",
        ),
        (
            "per = 1000\n",
            'per: only used with measure = "attribute_per_resident", and this indicator has no measure. '
            'Fix: remove per or write measure = "attribute_per_resident"',
        ),
        (
            'measure = "community_households"\nattribute = "places"\n',
            'attribute: only used with measure = "attribute_per_resident", not with measure = '
            '"community_households". Fix: remove attribute or write measure = "attribute_per_resident"',
        ),
        (
            'measure = "attribute_per_resident"\nattribute = "places"\nto_categories = ["kindergarten"]\n',
            'to_categories: only used with measure = "nearest_distance", not with measure = '
            '"attribute_per_resident". Fix: remove to_categories or write measure = "nearest_distance"',
        ),
        (
            'measure = "nearest_distance"\n',
            'to_categories: missing; required when measure = "nearest_distance". '
            'Fix: add to_categories = ["elderly_day_care"]',
        ),
        (
            'measure = "nearest_distance"\nto_categories = ["kindergarden"]\n',
            "to_categories: 'kindergarden' is not a defined category. Fix: did you mean 'kindergarten'?",
        ),
        (
            'measure = "nearest_distance"\nto_categories = ["elderly"]\n',
            "to_categories: 'elderly' is not a defined category. "
            "Fix: add a [categories.elderly] section or use a defined category key",
        ),
        (
            'measure = "nearest_distance"\nto_categories = ["kindergarten", "nursery"]\n',
            "to_categories: 'nursery' is also in categories (a facility would be its own nearest). "
            "Fix: list each category in categories or in to_categories, not both",
        ),
        (
            'measure = "nearest_distance"\nto_categories = []\n',
            'to_categories: must name at least one category. Fix: write to_categories = ["kindergarten"]',
        ),
    ],
)
def test_error_indicator_measure_fields(tmp_path, extra, message):
    path = write(tmp_path, MINI + NURSERY + PLACES + extra)
    assert error_of(path) == f"{path}: [indicators.places] {message}"


def test_error_attribute_per_resident_needs_categories(tmp_path):
    path = write(
        tmp_path,
        MINI
        + PLACES.replace('categories = ["nursery"]\n', "")
        + 'measure = "attribute_per_resident"\nattribute = "places"\n',
    )
    assert error_of(path) == (
        f"{path}: [indicators.places] categories: missing; required when measure = "
        '"attribute_per_resident". Fix: add categories = ["kindergarten"]'
    )


def test_six_ones_reach_share_loads_and_defaults(tmp_path):
    p = load_profile(write(tmp_path, MINI + NURSERY + SIX))
    assert p.six_ones_reach_share == 50.0
    p = load_profile(
        write(tmp_path, MINI + NURSERY + SIX.replace('source = "plan"\n', 'source = "plan"\nreach_share = 75\n', 1))
    )
    assert p.six_ones_reach_share == 75.0


@pytest.mark.parametrize(
    "value, message",
    [
        (
            "120",
            "must be a percent between 0 and 100, got 120. Fix: write reach_share as a percent, e.g. reach_share = 95",
        ),
        (
            "0",
            "must be greater than 0, got 0. Fix: give the percent of demand weight that must be within "
            "reach, e.g. reach_share = 50",
        ),
        (
            '"50"',
            "must be a percent between 0 and 100, not the string '50'. Fix: write reach_share = 50 without quotes",
        ),
    ],
)
def test_error_six_ones_reach_share(tmp_path, value, message):
    path = write(
        tmp_path, MINI + NURSERY + SIX.replace('source = "plan"\n', f'source = "plan"\nreach_share = {value}\n', 1)
    )
    assert error_of(path) == f"{path}: [six_ones] reach_share: {message}"


def test_error_reach_share_change_needs_source(tmp_path):
    path = write(tmp_path, HEAD + 'extends = "meishan"\n\n[six_ones]\nreach_share = 60\n')
    assert error_of(path) == (
        f"{path}: [six_ones] reach_share: changes 50 inherited from meishan.toml to 60 but this table "
        'gives no source. Fix: add source = "..." to [six_ones] saying where 60 comes from'
    )
    p = load_profile(
        write(
            tmp_path, HEAD + 'extends = "meishan"\n\n[six_ones]\nreach_share = 60\nsource = "local guide: 60 percent"\n'
        )
    )
    assert p.six_ones_reach_share == 60.0
    assert len(p.six_ones) == 6  # the items are inherited


def test_error_measure_change_needs_source(tmp_path):
    path = write(tmp_path, HEAD + 'extends = "meishan"\n\n[indicators.childcare_places_per_1000]\nper = 100\n')
    assert error_of(path) == (
        f"{path}: [indicators.childcare_places_per_1000] per: changes 1000 inherited from meishan.toml "
        'to 100 but this table gives no source. Fix: add source = "..." to '
        "[indicators.childcare_places_per_1000] saying where 100 comes from"
    )
