"""The profile's unit targets: counts, shares of units, co-location, attribute shares, minimum sizes.

Five kinds of target, each a table of sections in a profile file (format:
docs/profiles.md, "Unit targets"); the section's key is the check's key in the
outputs (``pass_<key>``, the ``tgt_<key>`` layer, the scorecard's ``target_key``):

``[counts.<key>]``
    At least ``min_count`` facilities of ``categories`` inside each unit of
    ``unit`` (``community``, ``township``, ``county``; ``city``: the whole study
    area). *One 社区养老服务综合体 per 街道; a rest station in every urban
    community; at least 40 社区邻里中心 city-wide.*
``[unit_shares.<key>]``
    At least ``target_pct`` percent of the units of ``unit`` have
    ``min_count`` or more facilities of ``categories``. *乡镇(街道) with a
    comprehensive elderly-care institution ≥ 60 %.*
``[colocations.<key>]``
    Every facility of ``categories`` has one of ``near_categories`` within
    ``within_m`` metres of walking; at least ``target_pct`` percent of them
    (default 100). *A volunteer service station at each community service
    facility; a health centre next to an elderly-care facility.*
``[attribute_shares.<key>]``
    At least ``target_pct`` percent of the facilities of ``categories`` have
    the yes/no ``attribute`` (read from the first facility column named in
    ``columns``). *普惠性幼儿园 ≥ 80 %.*
``[facility_minimums.<key>]``
    Each facility of ``categories`` (of ``build_type`` ``new``, ``rebuilt`` or
    ``any``) has at least ``min_m2`` of floor area. *A new community service
    facility ≥ 500 m², a rebuilt one ≥ 300 m² (urban communities).*

Every target may say which community types it applies to (``applies_to``:
``urban``, ``town``, ``rural``; default: all); a unit above the community
counts when at least one of its communities is of such a type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .schema import _ID, COMMUNITY_TYPES, TARGET_KINDS, TARGET_UNITS, _fail

__all__ = ["Target", "TARGET_KINDS", "TARGET_UNITS", "COMMUNITY_TYPES", "build_targets", "applies_to"]


@dataclass(frozen=True)
class Target:
    """One unit target of a profile (see the module's docstring for the kinds).

    Attributes
    ----------
    kind
        ``count``, ``unit_share``, ``colocation``, ``attribute_share`` or ``facility_minimum``.
    key
        The check's key (``pass_<key>``, layer ``tgt_<key>``, scorecard ``target_key``).
    categories
        The facility categories counted or measured.
    applies_to
        The community types it applies to (all three when the profile does not say).
    unit
        ``count`` / ``unit_share``: the unit counted over.
    min_count
        ``count``: facilities each unit needs; ``unit_share``: for a unit to count as having them.
    target_pct
        ``unit_share``, ``colocation``, ``attribute_share``: the share to reach (%).
    near_categories, within_m
        ``colocation``: what must be near, and how near (walking metres).
    attribute, columns
        ``attribute_share``: the yes/no attribute, and the facility columns that may hold it.
    min_m2, build_type
        ``facility_minimum``: the smallest floor area, and the build type it is for.
    """

    kind: str
    key: str
    name_zh: str
    name_en: str
    categories: tuple[str, ...]
    source: str
    confirmed: bool
    applies_to: tuple[str, ...] = COMMUNITY_TYPES
    notes: str = ""
    unit: str = "community"
    min_count: int = 1
    target_pct: float = 100.0
    near_categories: tuple[str, ...] = ()
    within_m: float | None = None
    attribute: str | None = None
    columns: tuple[str, ...] = ()
    min_m2: float | None = None
    build_type: str = "any"

    @property
    def table(self) -> str:
        """The profile table it comes from (``counts`` ...)."""
        return TARGET_KINDS[self.kind][0]

    @property
    def target_text(self) -> str:
        """The target in words, for tables."""
        if self.kind == "count":
            where = "the study area" if self.unit == "city" else f"each {self.unit}"
            return f"≥ {self.min_count} in {where}"
        if self.kind == "unit_share":
            return f"≥ {self.target_pct:g} % of {self.unit}s with ≥ {self.min_count}"
        if self.kind == "colocation":
            return f"≥ {self.target_pct:g} % within {self.within_m:g} m"
        if self.kind == "attribute_share":
            return f"≥ {self.target_pct:g} % {self.attribute}"
        return f"≥ {self.min_m2:g} m² each ({self.build_type})"


def applies_to(entry: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``applies_to`` of a checked profile entry (every type when absent)."""
    return tuple(dict.fromkeys(entry.get("applies_to", COMMUNITY_TYPES)))


def build_targets(
    data: Mapping[str, Any],
    categories: Mapping[str, Any],
    where: Any,
) -> dict[str, Target]:
    """Build every unit target of the merged profile data, checking references.

    ``where(path) -> Path`` names the file a table came from (for messages).
    """
    out: dict[str, Target] = {}
    for kind, (table, spec) in TARGET_KINDS.items():
        for key, e in data.get(table, {}).items():
            path = (table, key)
            label = f"{table}.{key}"
            file: Path = where(path)
            for name, f in spec.items():
                if f.required and name not in e:
                    raise _fail(file, label, name, "missing required field", f"add {name} = ... (docs/profiles.md)")
            if key in out:
                raise _fail(
                    file,
                    label,
                    None,
                    f"the key {key!r} is also [{out[key].table}.{key}]",
                    "give each target its own key (it names the check's output columns)",
                )
            for field in ("categories", "near_categories"):
                for k in e.get(field, []):
                    if k not in categories:
                        raise _fail(
                            file,
                            label,
                            field,
                            f"{k!r} is not a defined category",
                            f"add a [categories.{k}] section or use a defined category key",
                        )
            both = set(e.get("categories", [])) & set(e.get("near_categories", []))
            if both:
                raise _fail(
                    file,
                    label,
                    "near_categories",
                    f"{sorted(both)[0]!r} is also in categories (a facility would be its own neighbour)",
                    "list each category in categories or in near_categories, not both",
                )
            count = e.get("min_count", 1)
            if count != int(count):
                raise _fail(file, label, "min_count", f"must be a whole number, got {count}", "write min_count = 1")
            if kind == "attribute_share" and not _ID.match(e["attribute"]):
                raise _fail(
                    file, label, "attribute", f"{e['attribute']!r} is not ascii snake_case", 'write e.g. "inclusive"'
                )
            out[key] = Target(
                kind=kind,
                key=key,
                name_zh=e["name_zh"],
                name_en=e["name_en"],
                categories=tuple(dict.fromkeys(e["categories"])),
                source=e["source"],
                confirmed=e.get("confirmed", True),
                applies_to=applies_to(e),
                notes=e.get("notes", ""),
                unit=e.get("unit", "community"),
                min_count=int(count),
                target_pct=float(e.get("target_pct", 100.0)),
                near_categories=tuple(dict.fromkeys(e.get("near_categories", []))),
                within_m=None if "within_m" not in e else float(e["within_m"]),
                attribute=e.get("attribute"),
                columns=tuple(dict.fromkeys(e.get("columns", []))),
                min_m2=None if "min_m2" not in e else float(e["min_m2"]),
                build_type=e.get("build_type", "any"),
            )
    return out
