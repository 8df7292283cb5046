"""Building a :class:`~servicecircle.profiles.model.Profile` from a profile's merged, checked data.

The checks that need the whole ``extends`` chain merged: required fields,
references between sections (a category's level, the categories of a rule),
aliases naming one category only, and the fields an indicator's measure needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from servicecircle.errors import ProfileError

from .model import (
    COMMUNITY_TYPES,
    Category,
    CompoundRule,
    FloorAreaRule,
    GreenRule,
    Indicator,
    Level,
    Profile,
    SixOnesItem,
    TimeCheck,
    TypeRadius,
    _fmt,
    _norm,
)
from .register import build_register, check_names
from .schema import (
    _CATEGORY,
    _COMPOUNDS,
    _DEFAULTS,
    _EXAMPLES,
    _F,
    _FLOOR,
    _GREEN,
    _ID,
    _INDICATOR,
    _ITEM,
    _LEVEL,
    _MEASURE_ALLOWS,
    _MEASURE_NEEDS,
    _SIX,
    _TIME_CHECK,
    ATTRIBUTES,
    _close,
    _fail,
    _item_label,
)
from .targets import applies_to, build_targets


class _Builder:
    def __init__(self, data: dict[str, Any], origins: dict[tuple[str, ...], Path], top: Path, files: list[Path]):
        self.files = tuple(files)
        self.data = data
        self.origins = origins
        self.top = top

    def where(self, path: tuple[str, ...]) -> Path:
        while path not in self.origins and path:
            path = path[:-1]
        return self.origins.get(path, self.top)

    def require(
        self, table: dict[str, Any], spec: Mapping[str, _F], path: tuple[str, ...], label: str | None = None
    ) -> None:
        label = ".".join(path) if label is None else label
        for name, f in spec.items():
            if not f.required or name in table:
                continue
            if f.kind == "items":
                fix = f"add [[{label}.{name}]] sections"
            elif f.kind == "choice":
                fix = f'add {name} = "{f.choices[0]}" (allowed: {", ".join(f.choices)})'
            else:
                fix = f"add {name} = {_EXAMPLES.get(name, chr(34) + '...' + chr(34))}"
            raise _fail(self.where(path), label, name, "missing required field", fix)

    def unknown_ref(
        self, path: tuple[str, ...], label: str, name: str, value: str, options: list[str], noun: str, section: str
    ) -> ProfileError:
        close = _close(value, options)
        if close:
            fix = f"did you mean '{close}'?"
        elif noun == "level":
            fix = f"use one of {', '.join(options)} or add a [{section}.{value}] section"
        else:
            fix = f"add a [{section}.{value}] section or use a defined {noun} key"
        return _fail(self.where(path + (name,)), label, name, f"{value!r} is not a defined {noun}", fix)

    def build(self) -> Profile:
        d = self.data
        for name in ("defaults", "levels", "categories"):
            if name not in d:
                fix = {
                    "defaults": "add a [defaults] section with target_share, weight and "
                    'household_size, or extends = "gb50180"',
                    "levels": 'add [levels.<key>] sections, or extends = "gb50180"',
                    "categories": 'add [categories.<key>] sections, or extends = "gb50180"',
                }
                raise _fail(self.top, "", name, "missing required table", fix[name])
        dflt = d["defaults"]
        self.require(dflt, _DEFAULTS, ("defaults",))
        target = float(dflt["target_share"])

        levels: dict[str, Level] = {}
        if not d["levels"]:
            raise _fail(self.top, "", "levels", "no levels defined", "add [levels.<key>] sections")
        for key, e in d["levels"].items():
            self.require(e, _LEVEL, ("levels", key))
            levels[key] = Level(
                key,
                e["name_zh"],
                e["name_en"],
                float(e["walk_m"]),
                e["source"],
                e.get("confirmed", True),
                e.get("notes", ""),
            )

        path: tuple[str, ...]  # the table being built, for messages
        categories: dict[str, Category] = {}
        if not d["categories"]:
            raise _fail(self.top, "", "categories", "no categories defined", "add [categories.<key>] sections")
        for key, e in d["categories"].items():
            path = ("categories", key)
            self.require(e, _CATEGORY, path)
            if e["level"] not in levels:
                raise self.unknown_ref(path, ".".join(path), "level", e["level"], list(levels), "level", "levels")
            if "radius_m" in e:
                radius, rsrc = float(e["radius_m"]), "profile"
            else:
                radius, rsrc = levels[e["level"]].walk_m, "level"
            aliases = tuple(dict.fromkeys(a.strip() for a in e.get("aliases", [])))
            categories[key] = Category(
                key,
                e["name_zh"],
                e["name_en"],
                e["level"],
                radius,
                rsrc,
                float(e.get("target_share", target)),
                e["source"],
                e.get("confirmed", True),
                aliases,
                e.get("check", True),
                e.get("notes", ""),
                applies_to(e),
                {
                    t: TypeRadius(float(b["radius_m"]), b["source"], b.get("confirmed", True), b.get("notes", ""))
                    for t, b in e.get("by_type", {}).items()
                },
            )
        self.check_aliases(categories)

        def known(keys: list[str], path: tuple[str, ...], label: str) -> tuple[str, ...]:
            for k in keys:
                if k not in categories:
                    raise self.unknown_ref(path, label, "categories", k, list(categories), "category", "categories")
            return tuple(dict.fromkeys(keys))

        green: dict[str, GreenRule] = {}
        per_resident = per_resident_src = None
        gs = d.get("greenspace")
        if gs is not None:
            for gkey in ("green", "park"):
                if gkey not in gs:
                    continue
                e, path = gs[gkey], ("greenspace", gkey)
                self.require(e, _GREEN, path)
                if e["reach"] == "boundary_samples" and "boundary_spacing_m" not in e:
                    raise _fail(
                        self.where(path),
                        ".".join(path),
                        "boundary_spacing_m",
                        'missing; required when reach = "boundary_samples"',
                        "add boundary_spacing_m = 20",
                    )
                spacing = e.get("boundary_spacing_m")
                green[gkey] = GreenRule(
                    gkey,
                    e["name_zh"],
                    e["name_en"],
                    float(e["min_area_m2"]),
                    float(e["radius_m"]),
                    float(e.get("target_share", target)),
                    e["denominator"],
                    e["reach"],
                    None if spacing is None else float(spacing),
                    e["source"],
                    e.get("confirmed", True),
                    e.get("notes", ""),
                    applies_to(e),
                )
            if "park_area_per_resident_m2" in gs:
                if "source_per_resident" not in gs:
                    raise _fail(
                        self.where(("greenspace",)),
                        "greenspace",
                        "source_per_resident",
                        "missing; required when park_area_per_resident_m2 is given",
                        'add source_per_resident = "..." citing the figure',
                    )
                per_resident = float(gs["park_area_per_resident_m2"])
                per_resident_src = gs["source_per_resident"]

        floor = None
        fa = d.get("floor_area")
        if fa is not None:
            path = ("floor_area",)
            self.require(fa, _FLOOR, path)
            if fa["assignment"] == "catchment" and "catchment_radius_m" not in fa:
                raise _fail(
                    self.where(path),
                    "floor_area",
                    "catchment_radius_m",
                    'missing; required when assignment = "catchment"',
                    "add catchment_radius_m = 500",
                )
            cats = known(fa["categories"], path, "floor_area")
            floor = FloorAreaRule(
                fa["name_zh"],
                fa["name_en"],
                float(fa["rate_m2_per_100_households"]),
                _opt_float(fa.get("min_new_m2")),
                _opt_float(fa.get("min_rebuilt_m2")),
                fa["assignment"],
                _opt_float(fa.get("catchment_radius_m")),
                cats,
                fa["source"],
                fa.get("confirmed", True),
                fa.get("notes", ""),
                applies_to(fa),
                tuple(dict.fromkeys(fa.get("min_rebuilt_applies_to", COMMUNITY_TYPES))),
            )

        six: list[SixOnesItem] = []
        so = d.get("six_ones")
        if so is not None:
            self.require(so, _SIX, ("six_ones",))
            if "reach_share" in so and so["reach_share"] <= 0:
                raise _fail(
                    self.where(("six_ones", "reach_share")),
                    "six_ones",
                    "reach_share",
                    f"must be greater than 0, got {_fmt(so['reach_share'])}",
                    "give the percent of demand weight that must be within reach, e.g. reach_share = 50",
                )
            seen: set[str] = set()
            for i, e in enumerate(so["items"], 1):
                path = ("six_ones", "items")
                label = _item_label("six_ones.items", e, i)
                self.require(e, _ITEM, path, label)
                if not _ID.match(e["key"]):
                    raise _fail(
                        self.where(path),
                        label,
                        "key",
                        f"{e['key']!r} is not ascii snake_case",
                        "use lowercase ascii letters, digits and _, starting with a letter",
                    )
                if e["key"] in seen:
                    raise _fail(
                        self.where(path),
                        label,
                        "key",
                        f"two items have the key {e['key']!r}",
                        "give each item its own key",
                    )
                seen.add(e["key"])
                for k in e["categories"]:
                    if k not in categories:
                        close = _close(k, categories)
                        raise _fail(
                            self.where(path),
                            label,
                            "categories",
                            f"{k!r} is not a defined category",
                            f"did you mean '{close}'?"
                            if close
                            else f"add a [categories.{k}] section or use a defined category key",
                        )
                six.append(
                    SixOnesItem(
                        e["key"],
                        e["name_zh"],
                        e["name_en"],
                        tuple(dict.fromkeys(e["categories"])),
                        float(e["radius_m"]),
                        e["source"],
                        e.get("confirmed", True),
                        e.get("notes", ""),
                        applies_to(e),
                    )
                )

        indicators: dict[str, Indicator] = {}
        for key, e in d.get("indicators", {}).items():
            path = ("indicators", key)
            label = ".".join(path)
            self.require(e, _INDICATOR, path)
            vmax = e.get("value_max")
            if e["comparison"] == "between":
                if vmax is None:
                    raise _fail(
                        self.where(path),
                        label,
                        "value_max",
                        'missing; required when comparison = "between"',
                        "add value_max = the upper end of the range",
                    )
                if vmax <= e["value"]:
                    raise _fail(
                        self.where(path + ("value_max",)),
                        label,
                        "value_max",
                        f"must be greater than value ({_fmt(e['value'])}), got {_fmt(vmax)}",
                        "give the range as value = low, value_max = high",
                    )
            elif vmax is not None:
                raise _fail(
                    self.where(path + ("value_max",)),
                    label,
                    "value_max",
                    f'only used with comparison = "between", not {e["comparison"]!r}',
                    'remove value_max or write comparison = "between"',
                )
            cats = known(e.get("categories", []), path, label) if "categories" in e else ()
            measure = e.get("measure")
            self.check_measure(e, path, label)
            to_cats: tuple[str, ...] = ()
            if "to_categories" in e:
                for k in e["to_categories"]:
                    if k not in categories:
                        raise self.unknown_ref(
                            path, label, "to_categories", k, list(categories), "category", "categories"
                        )
                to_cats = tuple(dict.fromkeys(e["to_categories"]))
                both = [k for k in to_cats if k in cats]
                if both:
                    raise _fail(
                        self.where(path + ("to_categories",)),
                        label,
                        "to_categories",
                        f"{both[0]!r} is also in categories (a facility would be its own nearest)",
                        "list each category in categories or in to_categories, not both",
                    )
            indicators[key] = Indicator(
                key,
                e["name_zh"],
                e["name_en"],
                float(e["value"]),
                e["unit"],
                e["comparison"],
                _opt_float(vmax),
                e["source"],
                e.get("confirmed", True),
                cats,
                e.get("notes", ""),
                measure,
                e.get("attribute"),
                float(e.get("per", 1.0)),
                to_cats,
                applies_to(e),
            )

        targets = build_targets(d, categories, self.where)
        self.check_columns(
            categories, green, indicators, floor is not None, bool(six), per_resident is not None, targets
        )
        names = check_names(categories, green, per_resident is not None, floor is not None, tuple(six), indicators)
        names.update({key: (key,) for key in targets})
        register = build_register(d.get("register", []), self.where, names, d, categories)
        compounds = None
        cp = d.get("compounds")
        if cp is not None:
            path = ("compounds",)
            self.require(cp, _COMPOUNDS, path)
            for lv in cp.get("levels", []):
                if lv not in levels:
                    raise self.unknown_ref(path, "compounds", "levels", lv, list(levels), "level", "levels")
            named = known(cp.get("categories", []), path, "compounds")
            of_levels = [k for k, c in categories.items() if c.check and c.level in cp.get("levels", [])]
            compounds = CompoundRule(
                cp["name_zh"],
                cp["name_en"],
                tuple(dict.fromkeys([*of_levels, *named])),
                tuple(cp.get("levels", [])),
                float(cp.get("target_share", target)),
                cp["source"],
                cp.get("confirmed", True),
                cp.get("notes", ""),
            )
        time_checks: dict[str, TimeCheck] = {}
        for key, e in d.get("time_checks", {}).items():
            path = ("time_checks", key)
            label = ".".join(path)
            self.require(e, _TIME_CHECK, path)
            if e["category"] not in categories:
                raise self.unknown_ref(
                    path, label, "category", e["category"], list(categories), "category", "categories"
                )
            if key in categories:
                raise _fail(
                    self.where(path),
                    label,
                    None,
                    f"{key!r} is also a category: their columns would have the same names",
                    "give the time check a key of its own (e.g. elderly_day_care_5min)",
                )
            time_checks[key] = TimeCheck(
                key,
                e["name_zh"],
                e["name_en"],
                e["category"],
                e["group"],
                float(e["minutes"]),
                float(e.get("target_share", target)),
                e["source"],
                e.get("confirmed", True),
                e.get("notes", ""),
            )

        self.check_columns(categories, green, indicators, floor is not None, bool(six), per_resident is not None)
        return Profile(
            key=d["key"],
            name_zh=d["name_zh"],
            name_en=d["name_en"],
            source=d["source"],
            path=self.top,
            files=self.files,
            target_share=target,
            weight=dflt["weight"],
            household_size=float(dflt["household_size"]),
            levels=levels,
            categories=categories,
            green=green,
            park_area_per_resident_m2=per_resident,
            floor_area=floor,
            compounds=compounds,
            six_ones=tuple(six),
            indicators=indicators,
            time_checks=time_checks,
            notes=d.get("notes", ""),
            household_size_source=dflt["household_size_source"],
            household_size_confirmed=dflt.get("household_size_confirmed", True),
            park_area_per_resident_source=per_resident_src,
            six_ones_name_zh=None if so is None else so["name_zh"],
            six_ones_name_en=None if so is None else so["name_en"],
            six_ones_source=None if so is None else so["source"],
            six_ones_reach_share=50.0 if so is None else float(so.get("reach_share", 50.0)),
            targets=targets,
            default_type=d.get("default_type"),
            type_profiles=dict(d.get("type_profiles", {})),
            register=register,
        )

    def check_measure(self, e: dict[str, Any], path: tuple[str, ...], label: str) -> None:
        """The fields an indicator's ``measure`` needs are there, and no others."""
        measure: str | None = e.get("measure")
        needs = () if measure is None else _MEASURE_NEEDS.get(measure, ())
        for name in needs:
            if name not in e:
                raise _fail(
                    self.where(path),
                    label,
                    name,
                    f'missing; required when measure = "{measure}"',
                    f"add {name} = {_EXAMPLES.get(name, chr(34) + '...' + chr(34))}"
                    if name != "attribute"
                    else f'add attribute = "{ATTRIBUTES[0]}" (allowed: {", ".join(ATTRIBUTES)})',
                )
        allowed = frozenset() if measure is None else _MEASURE_ALLOWS.get(measure, frozenset())
        for name in ("attribute", "per", "to_categories"):
            if name in e and name not in allowed:
                users = [m for m, fields in _MEASURE_ALLOWS.items() if name in fields]
                now = f'not with measure = "{measure}"' if measure else "and this indicator has no measure"
                raise _fail(
                    self.where(path + (name,)),
                    label,
                    name,
                    f'only used with measure = "{users[0]}", {now}',
                    f'remove {name} or write measure = "{users[0]}"',
                )

    def check_columns(
        self,
        categories: dict[str, Any],
        green: dict[str, Any],
        indicators: dict[str, Any],
        floor: bool,
        six_ones: bool,
        per_resident: bool,
        targets: Mapping[str, Any] | None = None,
    ) -> None:
        """No two checks of the profile write columns of the same name (ignoring case, as GeoPackage does).

        A category writes ``dist_<key>``, ``n_<key>_<r>m``, ``cov_<key>``,
        ``pass_<key>``, ``unc_<key>``; a green rule ``dist_<rule>``, ``n_<rule>_<r>m``
        and ``cov_<rule>_reach`` ...; an indicator ``ind_<key>`` and
        ``pass_ind_<key>``; the built-in checks ``pass_floor_area``,
        ``pass_six_ones`` and ``pass_park_area_per_resident``. The later of two
        would overwrite the earlier one's results.
        """
        from ..schema import green_check_key, indicator_column

        owners: dict[str, tuple[str, str]] = {}  # key (lower case) → (who writes its columns, one of them)
        builtin = {"floor_area": floor, "six_ones": six_ones, "park_area_per_resident": per_resident}
        for key, present in builtin.items():
            if present:
                owners[key] = (f"the built-in {key.replace('_', '-')} check", f"pass_{key}")

        def claim(key: str, what: str, example: str, path: tuple[str, ...]) -> None:
            prev = owners.get(key.lower())
            if prev is not None and prev[0] != what:
                raise _fail(
                    self.where(path),
                    ".".join(path),
                    None,
                    f"the key {path[1]!r} gives output columns the names {prev[0]} writes (e.g. {prev[1]}), "
                    "and one would overwrite the other",
                    f"give {path[0]}.{path[1]} another key",
                )
            owners[key.lower()] = (what, example)

        for rule in green:
            claim(rule, f"green rule {rule!r}", f"dist_{rule}", ("green", rule))
            claim(green_check_key(rule), f"green rule {rule!r}", f"cov_{green_check_key(rule)}", ("green", rule))
        for key in categories:
            claim(key, f"category {key!r}", f"dist_{key}", ("categories", key))
        for key in indicators:
            claim(indicator_column(key), f"indicator {key!r}", f"pass_{indicator_column(key)}", ("indicators", key))
        for key, tgt in (targets or {}).items():
            claim(key, f"{tgt.table} target {key!r}", f"pass_{key}", (tgt.table, key))

    def check_aliases(self, categories: dict[str, Category]) -> None:
        owner: dict[str, tuple[str, str]] = {}
        for cat in categories.values():
            named = [("key", cat.key), ("name_zh", cat.name_zh), ("name_en", cat.name_en)]
            named += [("aliases", a) for a in cat.aliases]
            for fieldname, value in named:
                norm = _norm(value)
                if not norm:
                    continue
                prev = owner.get(norm)
                if prev is not None and prev[0] != cat.key:
                    path = ("categories", cat.key)
                    raise _fail(
                        self.where(path + (fieldname,)),
                        ".".join(path),
                        fieldname,
                        f"{value!r} already names category {prev[0]!r} (its {prev[1]})",
                        "a value may name one category only: remove it from one of them",
                    )
                owner.setdefault(norm, (cat.key, fieldname))


def _opt_float(x: Any) -> float | None:
    return None if x is None else float(x)
