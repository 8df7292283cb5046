"""The records of a standards profile: levels, categories, rules, indicators and the :class:`Profile`.

Plain frozen dataclasses; :func:`~servicecircle.profiles.load_profile` builds
them from validated TOML (:mod:`servicecircle.profiles.build`).
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servicecircle.errors import ProfileError

#: The community types a rule may apply to (the profile format's ``applies_to``).
COMMUNITY_TYPES: tuple[str, ...] = ("urban", "town", "rural")

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .register import RegisterRow
    from .targets import Target

__all__ = [
    "Level",
    "Category",
    "GreenRule",
    "FloorAreaRule",
    "CompoundRule",
    "SixOnesItem",
    "Indicator",
    "Profile",
    "show_invisible",
]


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
    applies_to : tuple of str
        The community types the check applies to (``urban``, ``town``, ``rural``).
    by_type : dict of str to TypeRadius
        Numbers that differ for one community type (e.g. the town radius from
        TD/T 1062-2021); a type not listed uses ``radius_m``.
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
    applies_to: tuple[str, ...] = COMMUNITY_TYPES
    by_type: Mapping[str, TypeRadius] = field(default_factory=dict)

    def radius_for(self, community_type: str | None) -> float:
        """The walking radius for a community of this type (``radius_m`` when it has none of its own)."""
        own = self.by_type.get(community_type) if community_type is not None else None
        return own.radius_m if own is not None else self.radius_m


@dataclass(frozen=True)
class TypeRadius:
    """A category's radius for one community type (``[categories.<key>.by_type.<type>]``)."""

    radius_m: float
    source: str
    confirmed: bool = True
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
    applies_to: tuple[str, ...] = COMMUNITY_TYPES


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
    applies_to : tuple of str
        The community types the check applies to (``urban``, ``town``, ``rural``).
    min_rebuilt_applies_to : tuple of str
        The community types whose rebuilt, extended, bought or leased facilities
        may be as small as ``min_rebuilt_m2`` (Meishan: urban only); other
        communities are held to ``min_new_m2``.
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
    applies_to: tuple[str, ...] = COMMUNITY_TYPES
    min_rebuilt_applies_to: tuple[str, ...] = COMMUNITY_TYPES


@dataclass(frozen=True)
class CompoundRule:
    """Coverage checked per residential compound (小区), below the community.

    Attributes
    ----------
    name_zh, name_en : str
    categories : tuple of str
        Every category checked per compound: those of ``levels`` and those named.
    levels : tuple of str
        The life-circle levels whose every checked category is checked per compound (``l5``).
    target_share : float
        Percent of a compound's demand within each category's radius for the compound to pass.
    source : str
    confirmed : bool
    notes : str
    """

    name_zh: str
    name_en: str
    categories: tuple[str, ...]
    levels: tuple[str, ...]
    target_share: float
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
    applies_to: tuple[str, ...] = COMMUNITY_TYPES


@dataclass(frozen=True)
class TimeCheck:
    """A reach check in minutes for a walking group: the share of demand within ``minutes`` of a category.

    Attributes
    ----------
    key : str
        The check's key (its columns: ``cov_<key>``, ``pass_<key>``, ``unc_<key>``, ``min_<key>``).
    name_zh, name_en : str
    category : str
        The facility category walked to.
    group : str
        The walking group (a table of ``servicecircle/network/walking.toml``: ``elderly``, ``wheelchair`` ...).
    minutes : float
    target_share : float
        Percent of demand weight that must be within reach to pass.
    source : str
    confirmed : bool
    notes : str
    """

    key: str
    name_zh: str
    name_en: str
    category: str
    group: str
    minutes: float
    target_share: float
    source: str
    confirmed: bool = True
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
    applies_to: tuple[str, ...] = COMMUNITY_TYPES

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

    Invisible format characters dropped (zero-width space, BOM, soft hyphen,
    zero-width joiners, direction marks: Unicode category ``Cf``), NFKC
    (full-width → half-width, non-breaking and ideographic spaces → spaces),
    case-folded, trimmed, and runs of spaces, underscores and hyphens collapsed
    to one space.
    """
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s_\-]+", " ", text).strip()


def _plain(text: str) -> str:
    """A category value with only the differences anyone can see removed: letter case, ASCII spaces, ``_``, ``-``."""
    return re.sub(r"[ _\-]+", " ", text.casefold()).strip(" ")


#: Unicode categories of characters that show as nothing, or as a plain space: format characters,
#: controls, separators, private-use and unassigned code points
_INVISIBLE = frozenset({"Cf", "Cc", "Zs", "Zl", "Zp", "Co", "Cn"})


def show_invisible(text: str) -> str:
    r"""``text`` with its invisible characters written as escapes, for messages.

    Zero-width spaces, BOMs, soft hyphens, non-breaking and other non-ASCII
    spaces, controls (tab, newline ...): anything that shows as nothing or as
    a plain space is written ``\uXXXX``; every other character, Chinese and
    full-width letters included, is kept as it is.

    >>> show_invisible("kindergarten\u200b")
    'kindergarten\\u200b'
    >>> show_invisible("\ufeff幼儿园\xa0")
    '\\ufeff幼儿园\\u00a0'
    >>> show_invisible("primary school")
    'primary school'
    """
    out = []
    for ch in text:
        if ch != " " and unicodedata.category(ch) in _INVISIBLE:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "".join(out)


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
    time_checks : dict of str to TimeCheck
        Reach checks in minutes for a walking group (``[time_checks.<key>]``).
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
    register : tuple of RegisterRow
        The plan's indicator register (``[[register]]`` rows or ``register_file``; see
        :mod:`servicecircle.profiles.register`): every target of the plan, and the check that
        assesses it or why none can. Empty when the profile has none.
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
    time_checks: dict[str, TimeCheck] = field(default_factory=dict)
    notes: str = ""
    files: tuple[Path, ...] = ()
    household_size_source: str = ""
    household_size_confirmed: bool = True
    park_area_per_resident_source: str | None = None
    six_ones_name_zh: str | None = None
    six_ones_name_en: str | None = None
    six_ones_source: str | None = None
    six_ones_reach_share: float = 50.0
    #: the count, unit-share, co-location, attribute-share and minimum-size targets, by check key
    targets: Mapping[str, Target] = field(default_factory=dict)
    #: the type a community of unknown type is taken to be (with a warning), if the profile names one
    default_type: str | None = None
    #: community type -> the profile whose numbers apply to it (``type_profiles``)
    type_profiles: Mapping[str, str] = field(default_factory=dict)
    #: the plan's indicator register: every target of the plan and the check that assesses it, or why none can
    register: tuple[RegisterRow, ...] = ()
    #: the compound-level coverage rule (``[compounds]``), if the profile has one
    compounds: CompoundRule | None = None
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
            and aliases after dropping invisible format characters (zero-width
            space, BOM, soft hyphen ...), trimming, case folding, full-width to
            half-width conversion and treating spaces (non-breaking ones too),
            ``_`` and ``-`` alike; :meth:`names_plainly` tells whether the match
            needed more than case, spaces, ``_`` and ``-``. The loader
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

    def names_plainly(self, value: str, key: str) -> bool:
        """Tell whether ``value`` names category ``key`` with no invisible or look-alike character.

        :meth:`category_for` also matches a value that differs from one of
        the category's names only by invisible characters (a zero-width space,
        a BOM, a soft hyphen, a non-breaking space) or by full-width forms; a
        caller should then say which value was taken as which category, as
        typed (see :func:`show_invisible`), rather than let it pass for the
        profile's own name. Letter case, ASCII spaces, ``_`` and ``-`` are
        differences anyone can see: they count as plain.

        Parameters
        ----------
        value : str
            A category value of users' facility data.
        key : str
            A key of :attr:`categories` (the one :meth:`category_for` returned).

        Returns
        -------
        bool
            True when ``value`` equals the key, a name or an alias of the
            category up to letter case, ASCII spaces, ``_`` and ``-``.

        Examples
        --------
        >>> from servicecircle.profiles import load_profile
        >>> p = load_profile()
        >>> p.category_for("Kindergarten\u200b").key, p.names_plainly("Kindergarten\u200b", "kindergarten")
        ('kindergarten', False)
        >>> p.names_plainly(" Kindergarten ", "kindergarten")
        True
        """
        cat = self._category(key)
        plain = _plain(value)
        return any(plain == _plain(name) for name in (cat.key, cat.name_zh, cat.name_en, *cat.aliases))

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
            Labels such as ``"categories.nursery"`` (``"register.<key>"`` for a register row whose
            reading is a judgement), in profile order.
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
        out += [f"{t.table}.{k}" for k, t in self.targets.items() if not t.confirmed]
        out += [
            f"categories.{k}.by_type.{t}"
            for k, c in self.categories.items()
            for t, r in c.by_type.items()
            if not r.confirmed
        ]
        out += [f"register.{r.key}" for r in self.register if not r.confirmed]
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
            types = "" if set(c.applies_to) >= set(COMMUNITY_TYPES) else f" ({', '.join(c.applies_to)} only)"
            per_type = "".join(f"; {t} {_fmt(r.radius_m)} m{star[r.confirmed]}" for t, r in c.by_type.items())
            lines.append(
                f"  {c.key:<28} {c.name_zh} / {c.name_en} [{c.level}]: "
                f"{_fmt(c.radius_m)} m{origin}{per_type}, {rule}{types}{star[c.confirmed]}"
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
        if self.targets:
            lines.append("unit targets:")
            for t in self.targets.values():
                types = "" if set(t.applies_to) >= set(COMMUNITY_TYPES) else f" ({', '.join(t.applies_to)} only)"
                lines.append(
                    f"  {t.key:<28} {t.name_zh} / {t.name_en}: {', '.join(t.categories)} "
                    f"{t.target_text} [{t.kind}]{types}{star[t.confirmed]}"
                )
        if self.type_profiles:
            lines.append("community types: " + "; ".join(f"{t} -> profile {p}" for t, p in self.type_profiles.items()))
        if self.register:
            by = sum(r.assessed_by is not None for r in self.register)
            pending = sum(r.pending is not None for r in self.register)
            unsure = [r.key for r in self.register if not r.confirmed]
            lines.append(
                f"register: {len(self.register)} targets of the plan, {by} named to a check"
                + (f" ({pending} of a kind this version does not compute)" if pending else "")
                + f", {len(self.register) - by} not assessed (each says why and what data would let it be)"
                + (f"; readings unconfirmed{star[False]}: {', '.join(unsure)}" if unsure else "")
            )
        n = len(self.unconfirmed())
        if n:
            lines.append(f"* unconfirmed ({n}): check these against the source before relying on them")
        return "\n".join(lines)


def _fmt(x: Any) -> str:
    """Format a number the way a planner wrote it (300, not 300.0)."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, (int, float)):
        if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
            return str(int(x))
        return str(x)
    return str(x)
