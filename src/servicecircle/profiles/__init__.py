"""Standards profiles: every planning threshold servicecircle checks, as data.

A *standards profile* is a TOML file that lists the life-circle levels, the
facility categories with their service radii, the green-space and park reach
rules, the community service floor-area rule, the Meishan "6个1" set and other
per-resident indicators, each with the document it comes from and whether the
number has been checked against that document (``confirmed``). No threshold
lives in code: a planner edits or extends a profile to apply local rules.

Shipped profiles (see :func:`list_profiles`):

``meishan``
    The default. Meishan's 14th five-year community plan on top of GB 50180.
``gb50180``
    GB 50180-2018 life-circle levels and facility categories only.
``sichuan``, ``national``
    GB 50180 plus the Sichuan (2021) and State Council (2021) floor-area rules.

The format is described field by field in ``docs/profiles.md``.

Loading reads the named file and the files its ``extends`` chain names, nothing
else, and parses them with :mod:`tomllib`, which never executes anything. Every
problem is a :class:`~servicecircle.errors.ProfileError` whose one-line message
names the file, the table and field, and the fix.

Examples
--------
>>> from servicecircle.profiles import load_profile
>>> p = load_profile()                       # the Meishan default
>>> p.categories["kindergarten"].radius_m
300.0
>>> p.category_for("托儿所").key
'nursery'
>>> p.thresholds("kindergarten")             # its radius and the 6个1 radius
(300.0, 500.0)
"""

from __future__ import annotations

import difflib
import math
import os
import re
import stat
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import TYPE_CHECKING, Any

from servicecircle.errors import ProfileError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "SCHEMA",
    "Level",
    "Category",
    "GreenRule",
    "FloorAreaRule",
    "SixOnesItem",
    "Indicator",
    "Profile",
    "load_profile",
    "list_profiles",
    "DEFAULT_PROFILE",
    "MEASURES",
    "ATTRIBUTES",
]

#: The format identifier every profile file must declare as ``schema``.
SCHEMA = "servicecircle-profile/1"

#: The profile :func:`load_profile` returns when given nothing.
DEFAULT_PROFILE = "meishan"

_HERE = Path(__file__).resolve().parent
_MAX_BYTES = 1_000_000  # a profile is a few tens of kB; refuse anything absurd
_ID = re.compile(r"[a-z][a-z0-9_]*\Z")


# --------------------------------------------------------------------------- #
# Public records
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Level:
    """A life-circle level (生活圈层级).

    Attributes
    ----------
    key : str
        Short id used by categories (``"l15"``, ``"l10"``, ``"l5"``, ``"block"``).
    name_zh, name_en : str
        Names shown in reports.
    walk_m : float
        Walking distance of the level in metres; the radius of every category of
        this level that gives no ``radius_m`` of its own.
    source : str
        The document the distance comes from.
    confirmed : bool
        ``False`` when the number could not be checked against that document.
    notes : str
        Free text (interpretations, ranges).
    """

    key: str
    name_zh: str
    name_en: str
    walk_m: float
    source: str
    confirmed: bool
    notes: str = ""


@dataclass(frozen=True)
class Category:
    """A facility category and its service radius.

    Attributes
    ----------
    key : str
        ASCII snake_case id (``"kindergarten"``).
    name_zh, name_en : str
        Names shown in reports.
    level : str
        Key of the :class:`Level` it belongs to.
    radius_m : float
        Walking distance within which demand counts as served, in metres.
    radius_source : str
        ``"profile"`` when the profile gives ``radius_m`` for the category,
        ``"level"`` when it is the level's ``walk_m``.
    target_share : float
        Percent of demand weight that must be within ``radius_m`` to pass.
    source : str
        The document the category and radius come from.
    confirmed : bool
        ``False`` when the radius (or the category's level) is unconfirmed.
    aliases : tuple of str
        Values accepted for this category in users' facility data.
    check : bool
        ``False``: distances are computed and reported but there is no
        pass/fail.
    notes : str
        Free text.
    """

    key: str
    name_zh: str
    name_en: str
    level: str
    radius_m: float
    radius_source: str
    target_share: float
    source: str
    confirmed: bool
    aliases: tuple[str, ...] = ()
    check: bool = True
    notes: str = ""


@dataclass(frozen=True)
class GreenRule:
    """A green-space or park reach rule ("300 米见绿、500 米见园").

    Attributes
    ----------
    key : str
        ``"green"`` or ``"park"``.
    name_zh, name_en : str
        Names shown in reports.
    min_area_m2 : float
        Green spaces smaller than this do not count for the rule.
    radius_m : float
        Walking distance to the nearest qualifying green space, metres.
    target_share : float
        Percent of the denominator that must be within ``radius_m``.
    denominator : str
        ``"residents"`` (demand weight) or ``"residential_area"`` (area of
        residential land).
    reach : str
        How a green space is reached: ``"entrances"`` (given entrance points),
        ``"boundary_crossings"`` (where walkways cross its boundary) or
        ``"boundary_samples"`` (points every ``boundary_spacing_m`` along it).
    boundary_spacing_m : float or None
        Spacing of boundary samples, metres.
    source : str
    confirmed : bool
    notes : str
    """

    key: str
    name_zh: str
    name_en: str
    min_area_m2: float
    radius_m: float
    target_share: float
    denominator: str
    reach: str
    boundary_spacing_m: float | None
    source: str
    confirmed: bool
    notes: str = ""


@dataclass(frozen=True)
class FloorAreaRule:
    """Community service facility floor area per 100 households.

    Attributes
    ----------
    name_zh, name_en : str
    rate_m2_per_100_households : float
        Required floor area per 100 households, m².
    min_new_m2, min_rebuilt_m2 : float or None
        Minimum floor area of one newly built facility and of one rebuilt,
        extended, bought or leased facility; ``None`` when the rule has none.
    assignment : str
        ``"contains"``: a facility counts for the community whose boundary
        contains it; ``"catchment"``: for every community within
        ``catchment_radius_m``.
    catchment_radius_m : float or None
    categories : tuple of str
        Category keys whose floor area counts.
    source : str
    confirmed : bool
    notes : str
    """

    name_zh: str
    name_en: str
    rate_m2_per_100_households: float
    min_new_m2: float | None
    min_rebuilt_m2: float | None
    assignment: str
    catchment_radius_m: float | None
    categories: tuple[str, ...]
    source: str
    confirmed: bool
    notes: str = ""


@dataclass(frozen=True)
class SixOnesItem:
    """One item of the Meishan "6个1" set.

    An item is met when a facility of any of ``categories`` lies inside the
    community or within ``radius_m`` walking distance of it.

    Attributes
    ----------
    key : str
    name_zh, name_en : str
    categories : tuple of str
        Category keys that satisfy the item.
    radius_m : float
    source : str
    confirmed : bool
    notes : str
    """

    key: str
    name_zh: str
    name_en: str
    categories: tuple[str, ...]
    radius_m: float
    source: str
    confirmed: bool
    notes: str = ""


@dataclass(frozen=True)
class Indicator:
    """A numeric target checked where inputs carry the numbers.

    Attributes
    ----------
    key : str
    name_zh, name_en : str
    value : float
    unit : str
        E.g. ``"m2/resident"``, ``"places/1000 residents"``, ``"households"``.
    comparison : str
        ``">="``, ``"<="`` or ``"between"`` (``value`` … ``value_max``).
    value_max : float or None
    source : str
    confirmed : bool
    categories : tuple of str
        Category keys the indicator is about, if any.
    notes : str
    measure : str or None
        How the value is computed (``None``: not computed, only listed):
        ``"attribute_per_resident"`` (sum of the facility attribute
        :attr:`attribute` over :attr:`categories` ÷ residents × :attr:`per`),
        ``"community_households"``, ``"community_residents"``,
        ``"nearest_distance"`` (walking distance from each facility of
        :attr:`categories` to the nearest facility of :attr:`to_categories`).
        Park green area per resident is not an indicator: it is set in
        ``[greenspace] park_area_per_resident_m2`` and computed by the green-space check.
    attribute : str or None
        ``"area"``, ``"floor_area"`` or ``"places"`` (``attribute_per_resident``).
    per : float
        Residents the value is counted per (1 or 1000; ``attribute_per_resident``).
    to_categories : tuple of str
        Category keys distances are measured to (``nearest_distance``).
    """

    key: str
    name_zh: str
    name_en: str
    value: float
    unit: str
    comparison: str
    value_max: float | None
    source: str
    confirmed: bool
    categories: tuple[str, ...] = ()
    notes: str = ""
    measure: str | None = None
    attribute: str | None = None
    per: float = 1.0
    to_categories: tuple[str, ...] = ()

    def is_met(self, x: float) -> bool:
        """Return whether the measured value ``x`` meets the target.

        Parameters
        ----------
        x : float
            The measured value, in :attr:`unit`.

        Returns
        -------
        bool
            ``False`` for NaN.
        """
        x = float(x)
        if math.isnan(x):
            return False
        if self.comparison == ">=":
            return x >= self.value
        if self.comparison == "<=":
            return x <= self.value
        assert self.value_max is not None
        return self.value <= x <= self.value_max


def _norm(text: str) -> str:
    """Normalise a category value for lookup.

    NFKC (full-width → half-width), case-folded, trimmed, and runs of spaces,
    underscores and hyphens collapsed to one space.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s_\-]+", " ", text).strip()


@dataclass(frozen=True)
class Profile:
    """A loaded, validated standards profile.

    Build one with :func:`load_profile`.

    Attributes
    ----------
    key, name_zh, name_en, source : str
        Identity of the profile and the documents it encodes.
    path : pathlib.Path or None
        The file loaded (the most derived one when it ``extends`` another).
    target_share : float
        Default percent of demand weight that must be within reach.
    weight : str
        ``"households"`` or ``"residents"``: what demand weight counts.
    household_size : float
        Residents per household, used when only one of the two is known.
    levels : dict of str to Level
    categories : dict of str to Category
    green : dict of str to GreenRule
        ``"green"`` and/or ``"park"``; empty when the profile has none.
    park_area_per_resident_m2 : float or None
    floor_area : FloorAreaRule or None
    six_ones : tuple of SixOnesItem
    indicators : dict of str to Indicator
    notes : str
    files : tuple of pathlib.Path
        Every file read, the most derived first.
    household_size_source : str
    household_size_confirmed : bool
    park_area_per_resident_source : str or None
    six_ones_name_zh, six_ones_name_en, six_ones_source : str or None
    six_ones_reach_share : float
        Percent of a community's demand weight that must have a facility of a
        6个1 item within the item's ``radius_m`` for the item to count as
        reachable (when none lies inside the community); 50 unless the
        profile's ``[six_ones] reach_share`` says otherwise.
    """

    key: str
    name_zh: str
    name_en: str
    source: str
    path: Path | None
    target_share: float
    weight: str
    household_size: float
    levels: dict[str, Level]
    categories: dict[str, Category]
    green: dict[str, GreenRule] = field(default_factory=dict)
    park_area_per_resident_m2: float | None = None
    floor_area: FloorAreaRule | None = None
    six_ones: tuple[SixOnesItem, ...] = ()
    indicators: dict[str, Indicator] = field(default_factory=dict)
    notes: str = ""
    files: tuple[Path, ...] = ()
    household_size_source: str = ""
    household_size_confirmed: bool = True
    park_area_per_resident_source: str | None = None
    six_ones_name_zh: str | None = None
    six_ones_name_en: str | None = None
    six_ones_source: str | None = None
    six_ones_reach_share: float = 50.0
    _lookup: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        lookup: dict[str, str] = {}
        for cat in self.categories.values():
            for value in (cat.key, cat.name_zh, cat.name_en, *cat.aliases):
                norm = _norm(value)
                if norm:
                    lookup.setdefault(norm, cat.key)
        object.__setattr__(self, "_lookup", lookup)

    # ------------------------------------------------------------------ #
    def category_for(self, value: str) -> Category | None:
        """Return the category a value of users' facility data stands for.

        Parameters
        ----------
        value : str
            A category value such as ``"幼儿园"``, ``"Kindergarten "`` or
            ``"kindergarten"``. Matched against every category's key, names
            and aliases after trimming, case folding, full-width to half-width
            conversion and treating spaces, ``_`` and ``-`` alike. The loader
            refuses profiles where one value would match two categories, so
            the answer is unique.

        Returns
        -------
        Category or None
            ``None`` when nothing matches (or ``value`` is not a string).
        """
        if not isinstance(value, str):
            return None
        key = self._lookup.get(_norm(value))
        return None if key is None else self.categories[key]

    def _category(self, key: str) -> Category:
        try:
            return self.categories[key]
        except KeyError:
            close = difflib.get_close_matches(str(key), list(self.categories), n=1)
            raise ProfileError(
                f"profile '{self.key}' has no category '{key}'",
                file=self.path,
                fix=f"did you mean '{close[0]}'?" if close else "use one of the keys that describe() lists",
            ) from None

    def thresholds(self, category_key: str) -> tuple[float, ...]:
        """Return every distance the profile checks a category against.

        Parameters
        ----------
        category_key : str
            A key of :attr:`categories`.

        Returns
        -------
        tuple of float
            Sorted distinct radii in metres: the category's own radius plus the
            radius of each 6个1 item that the category satisfies.

        Raises
        ------
        ProfileError
            If the profile has no such category.
        """
        cat = self._category(category_key)
        radii = {cat.radius_m}
        radii.update(item.radius_m for item in self.six_ones if cat.key in item.categories)
        return tuple(sorted(radii))

    def categories_frame(self) -> pd.DataFrame:
        """Return the categories as a table, one row per category.

        Returns
        -------
        pandas.DataFrame
            Columns ``key, name_zh, name_en, level, radius_m, target_share,
            confirmed, source, radius_source, check``, in profile order.
        """
        import pandas as pd

        columns = [
            "key",
            "name_zh",
            "name_en",
            "level",
            "radius_m",
            "target_share",
            "confirmed",
            "source",
            "radius_source",
            "check",
        ]
        rows = [[getattr(c, name) for name in columns] for c in self.categories.values()]
        return pd.DataFrame(rows, columns=columns)

    def unconfirmed(self) -> list[str]:
        """Return a label for every entry marked ``confirmed = false``.

        Returns
        -------
        list of str
            Labels such as ``"categories.nursery"``, in profile order.
        """
        out = []
        if not self.household_size_confirmed:
            out.append("defaults.household_size")
        out += [f"levels.{k}" for k, v in self.levels.items() if not v.confirmed]
        out += [f"categories.{k}" for k, v in self.categories.items() if not v.confirmed]
        out += [f"greenspace.{k}" for k, v in self.green.items() if not v.confirmed]
        if self.floor_area is not None and not self.floor_area.confirmed:
            out.append("floor_area")
        out += [f"six_ones.{i.key}" for i in self.six_ones if not i.confirmed]
        out += [f"indicators.{k}" for k, v in self.indicators.items() if not v.confirmed]
        return out

    def describe(self) -> str:
        """Return a plain-text summary of the profile for people.

        Numbers marked ``confirmed = false`` carry a ``*``; radii taken from
        the level carry ``(level)``.

        Returns
        -------
        str
        """
        star = {True: "", False: " *"}
        lines = [f"{self.name_zh} / {self.name_en}  [profile '{self.key}']"]
        if self.files:
            chain = " -> ".join(p.name for p in self.files)
            lines.append(f"files: {self.files[0]}" + (f"  ({chain})" if len(self.files) > 1 else ""))
        lines.append(f"source: {self.source}")
        lines.append(
            f"pass rule: >= {_fmt(self.target_share)}% of {self.weight} within reach; "
            f"{_fmt(self.household_size)} residents per household"
            f"{star[self.household_size_confirmed]}"
        )
        lines.append("levels:")
        for lv in self.levels.values():
            lines.append(f"  {lv.key:<6} {lv.name_zh} / {lv.name_en}: walk {_fmt(lv.walk_m)} m{star[lv.confirmed]}")
        lines.append(f"categories ({len(self.categories)}):")
        for c in self.categories.values():
            rule = f"{_fmt(c.target_share)}%" if c.check else "no pass/fail"
            origin = " (level)" if c.radius_source == "level" else ""
            lines.append(
                f"  {c.key:<28} {c.name_zh} / {c.name_en} [{c.level}]: "
                f"{_fmt(c.radius_m)} m{origin}, {rule}{star[c.confirmed]}"
            )
        if self.green or self.park_area_per_resident_m2 is not None:
            lines.append("green space:")
            for g in self.green.values():
                lines.append(
                    f"  {g.key}: {g.name_zh} / {g.name_en}: >= {_fmt(g.min_area_m2)} m2 within "
                    f"{_fmt(g.radius_m)} m for {_fmt(g.target_share)}% of {g.denominator} "
                    f"(reach: {g.reach}){star[g.confirmed]}"
                )
            if self.park_area_per_resident_m2 is not None:
                lines.append(f"  park area per resident: {_fmt(self.park_area_per_resident_m2)} m2")
        fa = self.floor_area
        if fa is not None:
            mins = []
            if fa.min_new_m2 is not None:
                mins.append(f"new >= {_fmt(fa.min_new_m2)} m2")
            if fa.min_rebuilt_m2 is not None:
                mins.append(f"rebuilt/bought/leased >= {_fmt(fa.min_rebuilt_m2)} m2")
            lines.append(
                f"floor area: {fa.name_zh} / {fa.name_en}: "
                f"{_fmt(fa.rate_m2_per_100_households)} m2 per 100 households"
                + (f"; {'; '.join(mins)}" if mins else "")
                + f"; counts {', '.join(fa.categories)} ({fa.assignment}){star[fa.confirmed]}"
            )
        if self.six_ones:
            lines.append(
                f"{self.six_ones_name_zh or '6个1'} / {self.six_ones_name_en or ''} "
                f"(within reach: >= {_fmt(self.six_ones_reach_share)}% of {self.weight}):"
            )
            for it in self.six_ones:
                lines.append(
                    f"  {it.key:<12} {it.name_zh} / {it.name_en}: {', '.join(it.categories)} "
                    f"within {_fmt(it.radius_m)} m{star[it.confirmed]}"
                )
        if self.indicators:
            lines.append("indicators:")
            for ind in self.indicators.values():
                if ind.comparison == "between":
                    target = f"{_fmt(ind.value)}-{_fmt(ind.value_max)}"
                else:
                    target = f"{ind.comparison} {_fmt(ind.value)}"
                how = f" [{ind.measure}]" if ind.measure else " [not computed]"
                lines.append(
                    f"  {ind.key:<28} {ind.name_zh} / {ind.name_en}: {target} {ind.unit}{how}{star[ind.confirmed]}"
                )
        n = len(self.unconfirmed())
        if n:
            lines.append(f"* unconfirmed ({n}): check these against the source before relying on them")
        return "\n".join(lines)


# --------------------------------------------------------------------------- #
# Schema
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class _F:
    kind: str
    required: bool = False
    choices: tuple[str, ...] = ()
    sub: Mapping[str, _F] | None = None


_T = _F("text", True)
_t = _F("text")
_B = _F("bool")

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
}


def _fmt(x: Any) -> str:
    """Format a number the way a planner wrote it (300, not 300.0)."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, (int, float)):
        if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
            return str(int(x))
        return str(x)
    return str(x)


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


def _shipped_names() -> list[str]:
    return sorted(p.stem for p in _HERE.glob("*.toml"))


def list_profiles() -> list[str]:
    """Return the names of the profiles shipped with servicecircle.

    Returns
    -------
    list of str
        Sorted, e.g. ``["gb50180", "meishan", "national", "sichuan"]``.
    """
    return _shipped_names()


# --------------------------------------------------------------------------- #
# Reading and per-file checks
# --------------------------------------------------------------------------- #


def _read(path: Path) -> dict[str, Any]:
    """Read and parse one profile file (and nothing else)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ProfileError(
            "profile file not found",
            file=path,
            fix="check the path, or name a shipped profile: " + ", ".join(_shipped_names()),
        ) from None
    except OSError as exc:
        raise ProfileError(
            f"cannot read the profile: {exc.strerror}", file=path, fix="check the path and its permissions"
        ) from None
    if not stat.S_ISREG(st.st_mode):
        raise ProfileError("is not a regular file", file=path, fix="give the path of a .toml profile file")
    if st.st_size > _MAX_BYTES:
        raise ProfileError(
            f"is {st.st_size:,} bytes, too large for a profile (limit {_MAX_BYTES:,})",
            file=path,
            fix="give the path of a .toml profile file",
        )
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_MAX_BYTES + 1)
    except OSError as exc:
        raise ProfileError(
            f"cannot read the profile: {exc.strerror}", file=path, fix="check the path and its permissions"
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProfileError(
            f"is not UTF-8 text (byte {exc.start} cannot be decoded)",
            file=path,
            fix="save the file as UTF-8 (not GBK)",
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(
            f"not valid TOML: {exc}",
            file=path,
            fix="correct the syntax at that line (texts need quotes, tables are written [name])",
        ) from None


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


# --------------------------------------------------------------------------- #
# extends
# --------------------------------------------------------------------------- #


def _resolve_extends(value: str, file: Path, chain: list[Path]) -> Path:
    shipped = _shipped_names()
    fix_form = (
        f"name a shipped profile ({', '.join(shipped)}) or a .toml file in the "
        'same folder as this file, e.g. extends = "base.toml"'
    )
    win = PureWindowsPath(value)
    if os.path.isabs(value) or win.is_absolute() or win.drive or value.startswith(("/", "\\")):
        raise _fail(file, "", "extends", f"{value!r} is an absolute path", fix_form)
    if "/" in value or "\\" in value:
        raise _fail(file, "", "extends", f"{value!r} contains a path separator", fix_form)
    if ".." in value:
        raise _fail(file, "", "extends", f"{value!r} contains '..'", fix_form)
    if any(ord(ch) < 32 for ch in value):
        raise _fail(file, "", "extends", f"{value!r} contains control characters", fix_form)
    if value.lower().endswith(".toml"):
        target = file.parent / value
        if not target.is_file():
            raise _fail(
                file,
                "",
                "extends",
                f"{value!r} does not exist in {file.parent}",
                f"put {value} next to this file, or name a shipped profile: " + ", ".join(shipped),
            )
    elif value in shipped:
        target = _HERE / f"{value}.toml"
    else:
        close = _close(value, shipped)
        raise _fail(
            file,
            "",
            "extends",
            f"{value!r} is not a shipped profile",
            (f"did you mean '{close}'? " if close else "")
            + f'for a file next to this one write its name with .toml, e.g. extends = "{value}.toml"',
        )
    resolved = target.resolve()
    if resolved in chain:
        names = [p.name for p in chain[chain.index(resolved) :]] + [resolved.name]
        raise _fail(
            file,
            "",
            "extends",
            f"{value!r} makes a cycle: {' -> '.join(names)}",
            "remove extends from one of these files",
        )
    return target


# --------------------------------------------------------------------------- #
# merging
# --------------------------------------------------------------------------- #

# (table path, the field that must cite a change, fields it governs or None for
# every field but names/aliases/check/notes)
_CITED: list[tuple[tuple[str, ...], str, frozenset[str] | None]] = [
    (("levels", "*"), "source", None),
    (("categories", "*"), "source", None),
    (("greenspace", "green"), "source", None),
    (("greenspace", "park"), "source", None),
    (("floor_area",), "source", None),
    (("six_ones",), "source", frozenset({"reach_share"})),
    (("indicators", "*"), "source", None),
    (("greenspace",), "source_per_resident", frozenset({"park_area_per_resident_m2"})),
    (("defaults",), "household_size_source", frozenset({"household_size", "household_size_confirmed"})),
]
_UNCITED = frozenset({"name_zh", "name_en", "aliases", "check", "notes", "source"})


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _expand(data: dict[str, Any], pattern: tuple[str, ...]) -> list[tuple[str, ...]]:
    if "*" not in pattern:
        return [pattern]
    head = pattern[: pattern.index("*")]
    table = _get(data, head)
    return [head + (k,) for k in table] if isinstance(table, dict) else []


def _check_citations(
    parent: dict[str, Any], porigin: dict[tuple[str, ...], Path], child: dict[str, Any], file: Path
) -> None:
    """A child that changes an inherited number must say where the new one comes from."""
    for pattern, cite, governed in _CITED:
        for path in _expand(child, pattern):
            old, new = _get(parent, path), _get(child, path)
            if not isinstance(old, dict) or not isinstance(new, dict) or cite in new:
                continue
            for name, value in new.items():
                if governed is None and (name in _UNCITED or isinstance(value, dict)):
                    continue
                if governed is not None and name not in governed:
                    continue
                if name.endswith("confirmed") and value is False:
                    continue  # downgrading needs no citation
                if name in old and old[name] == value:
                    continue
                label = ".".join(path)
                pfile = porigin.get(path + (name,), porigin.get(path, file))
                was = (
                    f"{_show(old[name])} inherited from {pfile.name}"
                    if name in old
                    else f"the value inherited from {pfile.name} (not set)"
                )
                raise _fail(
                    file,
                    label,
                    name,
                    f"changes {was} to {_show(value)} but this table gives no {cite}",
                    f'add {cite} = "..." to [{label}] saying where {_show(value)} comes from',
                )


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _origins(data: dict[str, Any], file: Path, path: tuple[str, ...] = ()) -> dict:
    out: dict[tuple[str, ...], Path] = {path: file}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_origins(value, file, path + (key,)))
        else:
            out[path + (key,)] = file
    return out


def _load_chain(file: Path, chain: list[Path]) -> tuple[dict, dict, list[Path]]:
    data = _read(file)
    _check_file(data, file)
    here = chain + [file.resolve()]
    origins = _origins(data, file)
    ext = data.pop("extends", None)
    if ext is None:
        return data, origins, [file]
    parent_file = _resolve_extends(ext, file, here)
    pdata, porigin, pfiles = _load_chain(parent_file, here)
    _check_citations(pdata, porigin, data, file)
    return _merge(pdata, data), {**porigin, **origins}, [file, *pfiles]


# --------------------------------------------------------------------------- #
# building the Profile from merged data
# --------------------------------------------------------------------------- #


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
            )

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
            six_ones=tuple(six),
            indicators=indicators,
            notes=d.get("notes", ""),
            household_size_source=dflt["household_size_source"],
            household_size_confirmed=dflt.get("household_size_confirmed", True),
            park_area_per_resident_source=per_resident_src,
            six_ones_name_zh=None if so is None else so["name_zh"],
            six_ones_name_en=None if so is None else so["name_en"],
            six_ones_source=None if so is None else so["source"],
            six_ones_reach_share=50.0 if so is None else float(so.get("reach_share", 50.0)),
        )

    def check_measure(self, e: dict[str, Any], path: tuple[str, ...], label: str) -> None:
        """The fields an indicator's ``measure`` needs are there, and no others."""
        measure = e.get("measure")
        for name in _MEASURE_NEEDS.get(measure, ()):
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
        allowed = _MEASURE_ALLOWS.get(measure, frozenset())
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


# --------------------------------------------------------------------------- #
# entry point
# --------------------------------------------------------------------------- #


def load_profile(spec: str | os.PathLike[str] | Profile | None = None) -> Profile:
    """Load and validate a standards profile.

    Parameters
    ----------
    spec : str, path-like, Profile or None
        ``None`` loads the default (``"meishan"``). A shipped profile name
        (``"meishan"``, ``"gb50180"``, ``"sichuan"``, ``"national"``; see
        :func:`list_profiles`) loads that profile. Anything else is the path of
        a ``.toml`` profile file. A :class:`Profile` is returned unchanged.

    Returns
    -------
    Profile

    Raises
    ------
    ProfileError
        For a missing file, a TOML syntax error, an unknown format, an unknown
        or mistyped field, a missing required field, an out-of-range number, a
        reference to an undefined level or category, an alias naming two
        categories, a bad or cyclic ``extends``, or an inherited number changed
        without a source. The message is one line naming the file, the table
        and field, and the fix.

    Notes
    -----
    Only the named file and the files its ``extends`` chain names are read.
    Parsing uses :mod:`tomllib`; nothing in a profile is ever executed.
    """
    if isinstance(spec, Profile):
        return spec
    if spec is None:
        spec = DEFAULT_PROFILE
    shipped = _shipped_names()
    if isinstance(spec, str) and spec.strip().lower() in shipped:
        file = _HERE / f"{spec.strip().lower()}.toml"
    else:
        text = os.fspath(spec)
        if not isinstance(text, str):
            raise ProfileError(f"cannot use {text!r} as a profile", fix="give a profile name or path")
        file = Path(os.path.abspath(text))
        if not os.path.lexists(file) and isinstance(spec, str) and not re.search(r"[/\\.]", spec):
            close = _close(spec.strip().lower(), shipped)
            raise ProfileError(
                f"no profile named {spec!r}",
                fix=(f"did you mean '{close}'? " if close else "")
                + f"Shipped profiles: {', '.join(shipped)}; or give the path of a .toml file",
            )
    data, origins, files = _load_chain(file, [])
    return _Builder(data, origins, file, files).build()
