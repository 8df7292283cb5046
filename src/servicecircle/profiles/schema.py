"""The profile format: every field a profile file may hold, and the checks of one file's values.

:data:`SCHEMA` names the format; the ``_F`` tables say, section by section,
which fields exist, which are required and what kind of value each takes.
:func:`_check_file` checks one parsed file against them (field names, types,
ranges) before files are merged; every problem is a
:class:`~servicecircle.errors.ProfileError` naming the file, table, field and fix.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servicecircle.errors import ProfileError

from .model import COMMUNITY_TYPES, _fmt

__all__ = [
    "SCHEMA",
    "MEASURES",
    "ATTRIBUTES",
    "COMMUNITY_TYPES",
    "TARGET_KINDS",
    "TARGET_UNITS",
    "REGISTER_COMPARISONS",
    "REGISTER_SCALES",
]

#: The format identifier every profile file must declare as ``schema``.
SCHEMA = "servicecircle-profile/1"

_ID = re.compile(r"[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True)
class _F:
    kind: str
    required: bool = False
    choices: tuple[str, ...] = ()
    sub: Mapping[str, _F] | None = None


_T = _F("text", True)
_t = _F("text")
_B = _F("bool")
_TYPES = _F("types")  # applies_to: a list of COMMUNITY_TYPES

_LEVEL: dict[str, _F] = {
    "name_zh": _T,
    "name_en": _T,
    "walk_m": _F("distance", True),
    "source": _T,
    "confirmed": _B,
    "notes": _t,
}
_CATEGORY: dict[str, _F] = {
    "name_zh": _T,
    "name_en": _T,
    "level": _T,
    "radius_m": _F("distance"),
    "target_share": _F("percent"),
    "source": _T,
    "confirmed": _B,
    "aliases": _F("strings"),
    "check": _B,
    "notes": _t,
    "applies_to": _TYPES,
    "by_type": _F("by_type"),
}
#: ``[categories.<key>.by_type.<type>]``: the numbers of one community type.
_BY_TYPE: dict[str, _F] = {
    "radius_m": _F("distance", True),
    "source": _T,
    "confirmed": _B,
    "notes": _t,
}
_GREEN: dict[str, _F] = {
    "name_zh": _T,
    "name_en": _T,
    "min_area_m2": _F("area", True),
    "radius_m": _F("distance", True),
    "target_share": _F("percent"),
    "denominator": _F("choice", True, ("residents", "residential_area")),
    "reach": _F("choice", True, ("entrances", "boundary_crossings", "boundary_samples")),
    "boundary_spacing_m": _F("distance"),
    "source": _T,
    "confirmed": _B,
    "notes": _t,
    "applies_to": _TYPES,
}
_GREENSPACE: dict[str, _F] = {
    "park_area_per_resident_m2": _F("area"),
    "source_per_resident": _t,
    "green": _F("table", sub=_GREEN),
    "park": _F("table", sub=_GREEN),
    "notes": _t,
}
_FLOOR: dict[str, _F] = {
    "name_zh": _T,
    "name_en": _T,
    "rate_m2_per_100_households": _F("positive", True),
    "min_new_m2": _F("area"),
    "min_rebuilt_m2": _F("area"),
    "assignment": _F("choice", True, ("contains", "catchment")),
    "catchment_radius_m": _F("distance"),
    "categories": _F("keys", True),
    "source": _T,
    "confirmed": _B,
    "notes": _t,
    "applies_to": _TYPES,
    "min_rebuilt_applies_to": _TYPES,
}
_ITEM: dict[str, _F] = {
    "key": _T,
    "name_zh": _T,
    "name_en": _T,
    "categories": _F("keys", True),
    "radius_m": _F("distance", True),
    "source": _T,
    "confirmed": _B,
    "notes": _t,
    "applies_to": _TYPES,
}
_SIX: dict[str, _F] = {
    "name_zh": _T,
    "name_en": _T,
    "source": _T,
    "items": _F("items", True, sub=_ITEM),
    "reach_share": _F("percent"),
    "notes": _t,
}
#: How an indicator's value is computed (``[indicators.<key>] measure``).
MEASURES = ("attribute_per_resident", "community_households", "community_residents", "nearest_distance")
#: Facility attributes ``attribute_per_resident`` can sum.
ATTRIBUTES = ("area", "floor_area", "places")
#: The fields each measure needs (beyond the common ones), and those it allows.
_MEASURE_NEEDS: dict[str, tuple[str, ...]] = {
    "attribute_per_resident": ("attribute", "categories"),
    "nearest_distance": ("categories", "to_categories"),
}
_MEASURE_ALLOWS: dict[str, frozenset[str]] = {
    "attribute_per_resident": frozenset({"attribute", "per"}),
    "nearest_distance": frozenset({"to_categories"}),
}

_INDICATOR: dict[str, _F] = {
    "name_zh": _T,
    "name_en": _T,
    "value": _F("number", True),
    "unit": _T,
    "comparison": _F("choice", True, (">=", "<=", "between")),
    "value_max": _F("number"),
    "source": _T,
    "confirmed": _B,
    "categories": _F("keys"),
    "notes": _t,
    "measure": _F("choice", False, MEASURES),
    "attribute": _F("choice", False, ATTRIBUTES),
    "per": _F("positive"),
    "to_categories": _F("keys"),
    "applies_to": _TYPES,
}
# unit targets (profiles/targets.py builds them)
#: The units a count or share is taken over, from the smallest.
TARGET_UNITS = ("community", "township", "county", "city")
_TARGET: dict[str, _F] = {
    "name_zh": _T,
    "name_en": _T,
    "categories": _F("keys", True),
    "source": _T,
    "confirmed": _B,
    "notes": _t,
    "applies_to": _TYPES,
}
#: Each kind of unit target: its profile table and its fields.
TARGET_KINDS: dict[str, tuple[str, dict[str, _F]]] = {
    "count": (
        "counts",
        {**_TARGET, "unit": _F("choice", True, TARGET_UNITS), "min_count": _F("positive", True)},
    ),
    "unit_share": (
        "unit_shares",
        {
            **_TARGET,
            "unit": _F("choice", True, TARGET_UNITS[:3]),
            "min_count": _F("positive"),
            "target_pct": _F("percent", True),
        },
    ),
    "colocation": (
        "colocations",
        {
            **_TARGET,
            "near_categories": _F("keys", True),
            "within_m": _F("distance", True),
            "target_pct": _F("percent"),
        },
    ),
    "attribute_share": (
        "attribute_shares",
        {**_TARGET, "attribute": _T, "columns": _F("strings", True), "target_pct": _F("percent", True)},
    ),
    "facility_minimum": (
        "facility_minimums",
        {**_TARGET, "min_m2": _F("area", True), "build_type": _F("choice", False, ("any", "new", "rebuilt"))},
    ),
}
#: A reach check stated in minutes for a walking group (``[time_checks.<key>]``).
_TIME_CHECK: dict[str, _F] = {
    "name_zh": _T,
    "name_en": _T,
    "category": _F("text", True),
    "group": _F("text", True),
    "minutes": _F("positive", True),
    "target_share": _F("percent"),
    "source": _T,
    "confirmed": _B,
    "notes": _t,
}
_DEFAULTS: dict[str, _F] = {
    "target_share": _F("percent", True),
    "weight": _F("choice", True, ("households", "residents")),
    "household_size": _F("positive", True),
    "household_size_source": _T,
    "household_size_confirmed": _B,
    "source": _t,
    "notes": _t,
}
#: What a register row's target is compared with (``[[register]] comparison``).
REGISTER_COMPARISONS = (">=", "<=", ">", "<", "=", "between")
#: The scale a register row's target is stated at (``[[register]] scale``).
REGISTER_SCALES = ("facility", "compound", "community", "township", "county", "city")
#: One row of the plan's indicator register (``[[register]]``; see :mod:`servicecircle.profiles.register`).
_REGISTER_ROW: dict[str, _F] = {
    "key": _T,
    "table": _T,
    "group": _t,
    "section": _T,
    "name_zh": _T,
    "name_en": _T,
    "unit": _T,
    "comparison": _F("choice", True, REGISTER_COMPARISONS),
    "target_2025": _F("number", True),
    "target_max": _F("number"),
    "target_2022": _F("number"),
    "binding": _F("choice", False, ("约束性", "预期性")),
    "scale": _F("choice", False, REGISTER_SCALES),
    "applies_to": _F("strings"),
    "scraped": _T,
    "reading": _T,
    "source": _T,
    "confirmed": _B,
    "assessed_by": _t,
    "not_assessed": _t,
    "data_needed": _t,
    "notes": _t,
}

_COMPOUNDS: dict[str, _F] = {
    "name_zh": _T,
    "name_en": _T,
    "levels": _F("strings"),
    "categories": _F("strings"),
    "target_share": _F("percent"),
    "source": _T,
    "confirmed": _B,
    "notes": _t,
}
_TOP: dict[str, _F] = {
    "schema": _T,
    "key": _T,
    "name_zh": _T,
    "name_en": _T,
    "source": _T,
    "notes": _t,
    "extends": _t,
    "defaults": _F("table", True, sub=_DEFAULTS),
    "levels": _F("entries", True, sub=_LEVEL),
    "categories": _F("entries", True, sub=_CATEGORY),
    "greenspace": _F("table", sub=_GREENSPACE),
    "floor_area": _F("table", sub=_FLOOR),
    "six_ones": _F("table", sub=_SIX),
    "indicators": _F("entries", sub=_INDICATOR),
    "default_type": _F("choice", False, COMMUNITY_TYPES),
    "type_profiles": _F("type_profiles"),
    **{table: _F("entries", sub=fields) for table, fields in TARGET_KINDS.values()},
    "register": _F("items", sub=_REGISTER_ROW),
    "register_file": _t,
    "compounds": _F("table", sub=_COMPOUNDS),
    "time_checks": _F("entries", sub=_TIME_CHECK),
}

_EXAMPLES = {
    "schema": f'"{SCHEMA}"',
    "key": '"mycity"',
    "level": '"l5"',
    "walk_m": "300",
    "radius_m": "300",
    "target_share": "95",
    "household_size": "2.62",
    "min_area_m2": "400",
    "boundary_spacing_m": "20",
    "rate_m2_per_100_households": "30",
    "catchment_radius_m": "500",
    "categories": '["kindergarten"]',
    "value": "1",
    "to_categories": '["elderly_day_care"]',
    "per": "1000",
    "reach_share": "50",
    "minutes": "5",
    "group": '"elderly"',
    "category": '"elderly_day_care"',
    "unit": '"m2/resident"',
    "value_max": "2",
    "confirmed": "false",
}

_KIND_DESC = {
    "text": "a text in quotes",
    "bool": "true or false",
    "distance": "a number of metres",
    "positive": "a number",
    "area": "a number of square metres",
    "percent": "a percent between 0 and 100",
    "number": "a number",
    "choice": "one of the listed words in quotes",
    "strings": "a list of texts",
    "keys": "a list of category keys",
    "types": "a list of community types (" + ", ".join(repr(t) for t in COMMUNITY_TYPES) + ")",
}


def _show(x: Any) -> str:
    """Describe a TOML value for a message."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, (int, float)):
        return _fmt(x)
    if isinstance(x, str):
        return repr(x)
    if isinstance(x, list):
        return "[" + ", ".join(_show(v) for v in x) + "]"
    if isinstance(x, dict):
        return "a table"
    return str(x)


def _what_is(x: Any) -> str:
    if isinstance(x, bool):
        return f"the boolean {_show(x)}"
    if isinstance(x, (int, float)):
        return f"the number {_fmt(x)}"
    if isinstance(x, str):
        return f"the string {x!r}"
    if isinstance(x, list):
        return "a list"
    if isinstance(x, dict):
        return "a table"
    return f"the date/time {x}"


def _close(word: str, options: Any) -> str | None:
    found = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return found[0] if found else None


def _prefix(label: str) -> str:
    if not label:
        return ""
    return f"{label} " if label.startswith("[") else f"[{label}] "


def _fail(file: Path, label: str, name: str | None, what: str, fix: str) -> ProfileError:
    where = _prefix(label) + (f"{name}: " if name else "")
    return ProfileError(f"{where}{what}".strip(), file=file, fix=fix)


def _check_value(value: Any, f: _F, name: str, file: Path, label: str) -> None:
    """Check one field's type and range; recurse into tables."""
    kind = f.kind
    if kind == "table":
        if not isinstance(value, dict):
            raise _fail(
                file,
                label,
                name,
                f"must be a table, not {_what_is(value)}",
                f"write it as a [{_join(label, name)}] section",
            )
        _check_table(value, f.sub or {}, file, _join(label, name))
        return
    if kind == "entries":
        table = _join(label, name)
        if not isinstance(value, dict):
            raise _fail(
                file,
                label,
                name,
                f"must be a table of [{table}.<key>] sections, not {_what_is(value)}",
                f"write sections such as [{table}.{_sample_key(name)}]",
            )
        for key, entry in value.items():
            if not _ID.match(key):
                fix = "use a key of lowercase ascii letters, digits and _ starting with a letter"
                if name == "categories":
                    fix += f", and list {key!r} in its aliases"
                raise _fail(file, table, repr(key), "key must be ascii snake_case", fix)
            if not isinstance(entry, dict):
                raise _fail(
                    file,
                    table,
                    key,
                    f"must be a table, not {_what_is(entry)}",
                    f"write it as a [{table}.{key}] section",
                )
            _check_table(entry, f.sub or {}, file, f"{table}.{key}")
        return
    if kind == "items":
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise _fail(
                file,
                label,
                name,
                f"must be an array of tables, not {_what_is(value)}",
                f"write each item as a [[{_join(label, name)}]] section",
            )
        if not value:
            raise _fail(file, label, name, "must list at least one item", f"add [[{_join(label, name)}]] sections")
        for i, item in enumerate(value, 1):
            _check_table(item, f.sub or {}, file, _item_label(_join(label, name), item, i))
        return
    if kind in ("types", "by_type", "type_profiles"):
        _check_types(value, f, name, file, label)
        return
    if kind == "text":
        if not isinstance(value, str):
            raise _fail(
                file,
                label,
                name,
                f"must be a text in quotes, not {_what_is(value)}",
                f'write {name} = "{_fmt(value)}"' if isinstance(value, (int, float)) else f'write {name} = "..."',
            )
        if not value.strip():
            raise _fail(file, label, name, "must not be empty", f'write {name} = "..." with a text')
        return
    if kind == "bool":
        if not isinstance(value, bool):
            fix = (
                f"write {name} = {value.strip().lower()} without quotes"
                if isinstance(value, str) and value.strip().lower() in ("true", "false")
                else f"write {name} = true or {name} = false"
            )
            raise _fail(file, label, name, f"must be true or false, not {_what_is(value)}", fix)
        return
    if kind == "choice":
        if not isinstance(value, str) or value not in f.choices:
            opts = ", ".join(repr(c) for c in f.choices)
            shown = _what_is(value) if not isinstance(value, str) else repr(value)
            close = _close(value, f.choices) if isinstance(value, str) else None
            fix = f"did you mean '{close}'?" if close else f'write {name} = "{f.choices[0]}"'
            raise _fail(file, label, name, f"must be one of {opts}, not {shown}", fix)
        return
    if kind in ("strings", "keys"):
        if not isinstance(value, list):
            example = '["kindergarten"]' if kind == "keys" else '["...", "..."]'
            raise _fail(
                file, label, name, f"must be {_KIND_DESC[kind]}, not {_what_is(value)}", f"write {name} = {example}"
            )
        for i, item in enumerate(value, 1):
            if not isinstance(item, str) or not item.strip():
                got = _what_is(item) if not isinstance(item, str) else "empty"
                raise _fail(
                    file, label, name, f"item {i} must be a non-empty text in quotes, got {got}", "quote every item"
                )
            if kind == "keys" and not _ID.match(item):
                raise _fail(
                    file,
                    label,
                    name,
                    f"item {i} ({item!r}) is not a category key",
                    "use keys of [categories.<key>] sections (ascii snake_case)",
                )
        if kind == "keys" and not value:
            raise _fail(
                file, label, name, "must name at least one category", f"write {name} = {_EXAMPLES['categories']}"
            )
        return
    # numbers
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, str) and _is_number(value):
            fix = f"write {name} = {value.strip()} without quotes"
        else:
            fix = f"write a number, e.g. {name} = {_EXAMPLES.get(name, '1')}"
        raise _fail(file, label, name, f"must be {_KIND_DESC[kind]}, not {_what_is(value)}", fix)
    if not math.isfinite(value):
        raise _fail(file, label, name, f"must be a finite number, got {value}", "give a finite number")
    if kind == "distance" and value <= 0:
        raise _fail(
            file, label, name, f"must be greater than 0 metres, got {_fmt(value)}", "give a positive distance in metres"
        )
    if kind == "positive" and value <= 0:
        raise _fail(file, label, name, f"must be greater than 0, got {_fmt(value)}", "give a positive number")
    if kind == "area" and value < 0:
        raise _fail(
            file, label, name, f"must not be negative, got {_fmt(value)}", "give 0 or a positive area in square metres"
        )
    if kind == "percent" and not 0 <= value <= 100:
        raise _fail(
            file,
            label,
            name,
            f"must be a percent between 0 and 100, got {_fmt(value)}",
            f"write {name} as a percent, e.g. {name} = 95",
        )


def _check_types(value: Any, f: _F, name: str, file: Path, label: str) -> None:
    """``applies_to`` (a list of types), ``by_type`` (a table per type), ``type_profiles`` (type -> profile)."""
    types = ", ".join(repr(t) for t in COMMUNITY_TYPES)
    if f.kind == "types":
        if not isinstance(value, list) or not value:
            raise _fail(
                file,
                label,
                name,
                f"must be a non-empty list of community types, not {_what_is(value)}",
                f'write {name} = ["urban"] (types: {types})',
            )
        keys = value
    else:
        if not isinstance(value, dict) or not value:
            raise _fail(
                file,
                label,
                name,
                f"must be a table keyed by community type, not {_what_is(value)}",
                f"write [{_join(label, name)}.town] (types: {types})"
                if f.kind == "by_type"
                else f'write {name} = {{ town = "tdt1062" }} (types: {types})',
            )
        keys = list(value)
    for t in keys:
        if t not in COMMUNITY_TYPES:
            close = _close(str(t), COMMUNITY_TYPES)
            raise _fail(
                file,
                label,
                name,
                f"{_show(t)} is not a community type",
                f"did you mean '{close}'?" if close else f"use one of {types}",
            )
    if f.kind == "by_type":
        for t, entry in value.items():
            if not isinstance(entry, dict):
                raise _fail(
                    file,
                    label,
                    f"{name}.{t}",
                    f"must be a table, not {_what_is(entry)}",
                    f"write it as a [{_join(label, name)}.{t}] section",
                )
            _check_table(entry, _BY_TYPE, file, f"{_join(label, name)}.{t}")
            if "radius_m" not in entry or "source" not in entry:
                missing = "radius_m" if "radius_m" not in entry else "source"
                raise _fail(
                    file,
                    f"{_join(label, name)}.{t}",
                    missing,
                    "missing required field",
                    f"add {missing} = {_EXAMPLES.get(missing, chr(34) + '...' + chr(34))}",
                )
    elif f.kind == "type_profiles":
        for t, prof in value.items():
            if not isinstance(prof, str) or not prof.strip():
                raise _fail(
                    file, label, f"{name}.{t}", f"must name a profile, not {_what_is(prof)}", f'write {t} = "tdt1062"'
                )


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _join(label: str, name: str) -> str:
    return f"{label}.{name}" if label else name


def _sample_key(section: str) -> str:
    return {"levels": "l5", "categories": "kindergarten", "indicators": "sports_ground"}.get(section, "key")


def _item_label(table: str, item: Any, index: int) -> str:
    key = item.get("key") if isinstance(item, dict) else None
    return f"[{table}] '{key}'" if isinstance(key, str) else f"[{table}] #{index}"


def _check_table(data: dict[str, Any], spec: Mapping[str, _F], file: Path, label: str) -> None:
    for name, value in data.items():
        f = spec.get(name)
        if f is None:
            close = _close(name, spec)
            fix = f"did you mean '{close}'?" if close else "remove it; allowed fields are " + ", ".join(spec)
            raise _fail(file, label, name, "unknown field", fix)
        _check_value(value, f, name, file, label)


def _check_file(data: dict[str, Any], file: Path) -> None:
    """Checks that need only this one file: format, field names, types, ranges."""
    if "schema" not in data:
        raise _fail(file, "", "schema", "missing required field", f'add schema = "{SCHEMA}" at the top of the file')
    if data["schema"] != SCHEMA:
        raise _fail(
            file,
            "",
            "schema",
            f"unknown profile format {_show(data['schema'])}",
            f'this version of servicecircle reads schema = "{SCHEMA}"',
        )
    _check_table(data, _TOP, file, "")
    for name in ("key", "name_zh", "name_en", "source"):
        if name not in data:
            raise _fail(
                file,
                "",
                name,
                "missing required field",
                f"add {name} = {_EXAMPLES.get(name, chr(34) + '...' + chr(34))} (every profile file gives its own)",
            )
    if not _ID.match(data["key"]):
        raise _fail(
            file,
            "",
            "key",
            f"{data['key']!r} is not ascii snake_case",
            "use lowercase ascii letters, digits and _, starting with a letter",
        )
    # 6个1 items without a source take the [six_ones] source of the same file
    six = data.get("six_ones")
    if six is not None and "source" in six:
        for item in six.get("items", []):
            item.setdefault("source", six["source"])
