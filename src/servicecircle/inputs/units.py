"""Community types (urban / town / rural) and the units above a community (township, county, city).

**Types.** Every community gets a type, and the rule that gave it:

1. an override the user gives (``type_overrides="510104022006=town"``): rule ``override``;
2. a column the user names (``type_column``), in Chinese or English with the usual variants
   (城市社区/城市/urban …, 集镇社区/乡镇社区/town …, 农村社区/村/rural …; the vocabulary is data,
   ``community_types.toml``): rule ``column <name>``;
3. the 12-digit code and a code register (:mod:`servicecircle.inputs.register`): a residents'
   committee (社区/居委会/居民委员会) whose parent is a 街道(办事处) is urban, one under a 镇 or 乡 is
   town, a 村(民委员会) is rural: rule ``code register: parent 春熙路街道办事处 is a 街道``;
4. otherwise unknown (``None``), with the reason (``unknown: …``) and one warning.

A type value that is not recognised, or a code that is not 12 digits, is refused with the usual
one-line message (the file, the feature and the fix).

**Units.** Each community's township (街道/乡镇), county (区/县) and city: from the user's columns
(``township_column``, ``county_column``), else the user's unit polygons (``units``), else the
code's 9-, 6- and 4-digit prefixes; names from the register where it has them.

>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> from servicecircle.inputs.register import read_register
>>> reg = read_register("data/sources/chengdu/adcode")
>>> comm = gpd.GeoDataFrame({"code": ["510104022006", "510104022999"]}, geometry=[Point(0, 0)] * 2, crs=4490)
>>> t = community_types(comm, code_column="code", register=reg)
>>> list(t.types), t.rules[0]
(['urban', None], 'code register: parent 春熙路街道办事处 is a 街道')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._text import word
from ..errors import InputDataError, OptionError, feature_label, source_of, warn_data
from .register import CODE_RE, CodeRegister, normalise_code, unit_kind, vocabulary

__all__ = [
    "COMMUNITY_TYPES",
    "UNIT_LEVELS",
    "CommunityTypes",
    "UnitHierarchy",
    "type_of_value",
    "parse_overrides",
    "type_from_register",
    "community_types",
    "community_units",
    "read_unit_polygons",
    "guess_code_column",
    "resolve_register",
    "resolve_polygons",
    "compound_polygons",
]

#: The three community types, in order.
COMMUNITY_TYPES = ("urban", "town", "rural")
#: The unit levels above a community, smallest first.
UNIT_LEVELS = ("township", "county", "city")
_FIX_TYPE = (
    "write 城市社区/集镇社区/农村社区 (or urban/town/rural) in the type column, or leave it empty to type the "
    "community from its code"
)


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", text)).lower()


def _aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for key, spec in vocabulary()["types"].items():
        out[_norm(key)] = key
        for alias in (spec["name_zh"], spec["name_en"], *spec["aliases"]):
            out[_norm(alias)] = key
    return out


def type_of_value(value: Any) -> str | None:
    """The type a column value names, ``None`` for an empty value; ``ValueError`` if it names none.

    >>> type_of_value("城市社区"), type_of_value(" Urban "), type_of_value("乡镇社区"), type_of_value("村")
    ('urban', 'urban', 'town', 'rural')
    >>> type_of_value(None), type_of_value("")
    (None, None)
    """
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    text = _norm(str(value))
    if not text:
        return None
    found = _aliases().get(text)
    if found is None:
        raise ValueError(f"'{value}' is not a community type")
    return found


def parse_overrides(value: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"code=type,code=type"`` (or a mapping) as code → type key; bad entries are an :class:`OptionError`.

    >>> parse_overrides("510104022006=town; 510104022007 = 农村社区")
    {'510104022006': 'town', '510104022007': 'rural'}
    """
    if value is None:
        return {}
    if isinstance(value, Mapping):
        items = [(normalise_code(k) or "", str(v)) for k, v in value.items()]
    else:
        items = []
        for part in re.split(r"[,;，；]", str(value)):
            if not part.strip():
                continue
            if "=" not in part:
                raise OptionError(
                    f"type_overrides (--type-overrides): '{part.strip()}' is not code=type",
                    fix="write code=type pairs, e.g. 510104022006=town,510104022007=rural",
                )
            k, v = part.split("=", 1)
            items.append((k.strip(), v.strip()))
    out: dict[str, str] = {}
    for k, v in items:
        try:
            t = type_of_value(v)
        except ValueError:
            t = None
        if not k or t is None:
            raise OptionError(
                f"type_overrides (--type-overrides): '{k}={v}' does not name a community and a type",
                fix="write code=type pairs with a type of urban/town/rural (城市社区/集镇社区/农村社区)",
            )
        out[k] = t
    return out


def _kind_zh(kind: str | None) -> str:
    if kind is None:
        return "?"
    for table in ("township_kinds", "village_kinds"):
        spec = vocabulary()[table].get(kind)
        if spec is not None:
            return str(spec["name_zh"])
    return {"county": "区/县", "city": "市"}.get(kind, kind)


def type_from_register(code: str | None, register: CodeRegister | None) -> tuple[str | None, str]:
    """The type of a community with this 12-digit code, and the rule that gave it.

    >>> from servicecircle.inputs.register import read_register
    >>> reg = read_register("data/sources/chengdu/adcode")
    >>> type_from_register("510104022006", reg)
    ('urban', 'code register: parent 春熙路街道办事处 is a 街道')
    >>> type_from_register("510104022000", reg)
    (None, 'unknown: code 510104022000 is a 街道 (春熙路街道办事处), not a community')
    >>> type_from_register("510104022099", None)
    (None, 'unknown: code 510104022099 is a residents’ committee; its parent’s kind needs a code register')
    """
    if code is None:
        return None, "unknown: no code"
    vill = vocabulary()["village_kinds"]
    if register is not None and code in register:
        kind, name = register.kind(code), register.name(code)
        parent = register.parent(code)
    else:
        kind, name, parent = unit_kind("", "village", code), None, code[:9] + "000"
    if register is not None and code in register and register.table.at[code, "rank"] != "village":
        return None, f"unknown: code {code} is a {_kind_zh(kind)} ({name}), not a community"
    if kind is not None and "community_type" in vill.get(kind, {}):
        what = name or f"code {code} (village segment {code[9:]})"
        return str(vill[kind]["community_type"]), f"code register: {what} is a {_kind_zh(kind)}"
    if kind == "committee":
        if register is None:
            return None, f"unknown: code {code} is a residents’ committee; its parent’s kind needs a code register"
        if parent is None or parent not in register:
            return None, f"unknown: the parent of {code} is not in the code register"
        pkind = register.kind(parent)
        spec = vocabulary()["township_kinds"].get(pkind or "")
        if spec is None:
            return None, f"unknown: parent {register.name(parent)} is neither a 街道 nor a 镇/乡"
        rule = f"code register: parent {register.name(parent)} is a {spec['name_zh']}"
        if code not in register:
            rule += f" (code {code} itself is not in the register)"
        return str(spec["community_type"]), rule
    if register is not None and code not in register:
        return None, f"unknown: code {code} is not in the code register"
    return None, f"unknown: {name or code} is neither a 社区/居委会 nor a 村"


@dataclass
class CommunityTypes:
    """Per community: its type (``urban``/``town``/``rural``/``None``) and the rule that gave it."""

    types: NDArray[np.object_]
    rules: NDArray[np.object_]

    def counts(self) -> dict[str, int]:
        """How many communities of each type (``unknown`` for ``None``)."""
        out = {t: int(sum(1 for v in self.types if v == t)) for t in COMMUNITY_TYPES}
        out["unknown"] = int(sum(1 for v in self.types if v is None))
        return out


def guess_code_column(frame: pd.DataFrame) -> str | None:
    """``code`` when the frame has such a column of 12-digit codes (every non-empty value), else ``None``."""
    for name in ("code", "adcode", "区划代码", "社区编码"):
        if name in frame.columns:
            values = [normalise_code(v) for v in frame[name]]
            present = [v for v in values if v is not None]
            if present and all(CODE_RE.match(v) for v in present):
                return str(name)
    return None


def _codes(
    frame: pd.DataFrame, column: str, strict: bool, id_column: str | None, what: str = "code"
) -> list[str | None]:
    """The column's 12-digit codes as text; with ``strict`` a value that is not 12 digits is refused."""
    out: list[str | None] = []
    for i, raw in enumerate(frame[column].to_numpy()):
        code = normalise_code(raw)
        if code is not None and not CODE_RE.match(code):
            if strict:
                file, layer = source_of(frame)
                raise InputDataError(
                    f"{what} '{code}' in column '{column}' is not a 12-digit administrative code",
                    file=file,
                    layer=layer,
                    feature=feature_label(frame, i, id_column),
                    fix="give the community's 12-digit 统计用区划代码 (e.g. 510104022006), leave it empty, or name "
                    "another column with code_column= (--code-column)",
                )
            code = None
        out.append(code)
    return out


def community_types(
    frame: pd.DataFrame,
    *,
    type_column: str | None = None,
    code_column: str | None = None,
    register: CodeRegister | None = None,
    overrides: str | Mapping[str, str] | None = None,
    id_column: str | None = None,
    strict_codes: bool = True,
) -> CommunityTypes:
    """Type every community (see the module's description for the rules, in order).

    Parameters
    ----------
    frame
        The communities (any frame; only the named columns are read).
    type_column, code_column
        The type column and the 12-digit code column, each optional.
    register
        The code register, for the code rule (without it only a 村 code is typed).
    overrides
        ``code=type`` pairs; a key matches the community's code or id.
    id_column
        The id column, to name features in messages and match overrides.
    strict_codes
        Refuse a code that is not 12 digits (off for a code column that was only guessed).

    Returns
    -------
    CommunityTypes
    """
    n = len(frame)
    types = np.full(n, None, dtype=object)
    rules = np.full(n, None, dtype=object)
    file, layer = source_of(frame)
    codes: list[str | None] = [None] * n
    if code_column is not None:
        if code_column not in frame.columns:
            from .prepare import require_column

            require_column(frame, code_column, "community code", "code_column= / --code-column")  # type: ignore[arg-type]
        codes = _codes(frame, code_column, strict_codes, id_column)
    column_values = frame[type_column].to_numpy() if type_column is not None else None
    if type_column is not None and type_column not in frame.columns:
        from .prepare import require_column

        require_column(frame, type_column, "community type", "type_column= / --type-column")  # type: ignore[arg-type]
    over = parse_overrides(overrides)
    keys: list[set[str]] = []
    ids = frame[id_column].to_numpy() if id_column and id_column in frame.columns else None
    for i in range(n):
        k = {c for c in (codes[i], normalise_code(ids[i]) if ids is not None else None) if c}
        keys.append(k)
    used: set[str] = set()
    for i in range(n):
        hit = next((k for k in keys[i] if k in over), None)
        if hit is not None:
            types[i], rules[i] = over[hit], "override"
            used.add(hit)
            continue
        if column_values is not None:
            try:
                t = type_of_value(column_values[i])
            except ValueError:
                raise InputDataError(
                    f"'{column_values[i]}' in column '{type_column}' is not a community type",
                    file=file,
                    layer=layer,
                    feature=feature_label(frame, i, id_column),
                    fix=_FIX_TYPE,
                ) from None
            if t is not None:
                types[i], rules[i] = t, f"column {type_column}"
                continue
        if code_column is not None:
            types[i], rules[i] = type_from_register(codes[i], register)
        else:
            rules[i] = "unknown: no type column and no code column"
    missing = sorted(set(over) - used)
    if missing:
        raise OptionError(
            f"type_overrides (--type-overrides): no community has the code or id {', '.join(missing[:5])}",
            fix="give the 12-digit code (or id) of a community of the boundaries",
        )
    unknown = np.flatnonzero([t is None for t in types])
    if len(unknown):
        first = int(unknown[0])
        n_unknown = len(unknown)
        warn_data(
            "community_type_unknown",
            f"{n_unknown} of {n} {word(n, 'community', 'communities')} {'has' if n_unknown == 1 else 'have'} "
            f"no type (urban/town/rural): {rules[first]}; rules that depend on the type treat "
            f"{'it' if n_unknown == 1 else 'them'} as unknown. Fix: name a type column (type_column=), give the "
            "12-digit codes and a code register (code_column=, code_register=) or type them with type_overrides=",
            file=file,
            layer=layer,
            feature=feature_label(frame, first, id_column),
            count=n_unknown,
        )
    return CommunityTypes(types=types, rules=rules)


# ---------------------------------------------------------------------------------------------- units
@dataclass
class UnitHierarchy:
    """Each community's unit at every level, and the units' names.

    Attributes
    ----------
    codes
        Level (``township``, ``county``, ``city``) → the unit code (text) of each community, ``None`` unknown.
    names
        Level → code → name.
    kinds
        Level → code → kind (``street``, ``town``, ``xiang`` for townships; where the register says).
    sources
        Level → where the units came from (``code``, ``column subdistrict_code``, ``polygons FILE``).
    geometry
        Level → code → the user's polygon (in the polygons' CRS: see ``crs``), for levels from polygons.
    crs
        The CRS of ``geometry``.
    """

    codes: dict[str, NDArray[np.object_]]
    names: dict[str, dict[str, str]]
    kinds: dict[str, dict[str, str]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    geometry: dict[str, dict[str, Any]] = field(default_factory=dict)
    crs: Any = None


_PAD = {6: "000000", 9: "000"}


def _unit_key(value: Any) -> str | None:
    """A unit value as text; a 6- or 9-digit code is padded to 12 digits (``510104`` → ``510104000000``)."""
    code = normalise_code(value)
    if code is not None and code.isdigit() and len(code) in _PAD:
        code += _PAD[len(code)]
    return code


def _prefix_code(code: str | None, level: str) -> str | None:
    if code is None:
        return None
    if level == "township":
        return code[:9] + "000"
    if level == "county":
        return code[:6] + "000000"
    return code[:4] + "00000000"


def read_unit_polygons(path: str | Path, *, layer: str | None = None) -> dict[str, gpd.GeoDataFrame]:
    """The user's unit polygons by level: a file with a layer per level, or one layer with a ``level`` column.

    Layers (or ``level`` values) are ``township`` (or 街道/乡镇), ``county`` (区县) and ``city`` (市); each
    row's code is its ``code`` (or ``adcode``, ``id``) column, its name its ``name`` column.
    """
    import pyogrio

    from .layers import read_layer

    synonyms = {
        "township": ("township", "subdistrict", "街道", "乡镇", "街道乡镇"),
        "county": ("county", "district", "区县", "区", "县"),
        "city": ("city", "市", "全市"),
    }

    def level_of(text: Any) -> str | None:
        t = _norm(str(text))
        return next((lvl for lvl, names in synonyms.items() if t in {_norm(s) for s in names}), None)

    p = Path(path)
    if not p.exists():
        raise InputDataError(
            "the unit polygons file does not exist", file=p, fix="give units= (--units) a GIS file of unit polygons"
        )
    names = [str(n) for n, _ in pyogrio.list_layers(p)] if layer is None else [layer]
    out: dict[str, gpd.GeoDataFrame] = {}
    for name in names:
        frame = read_layer(p, layer=name if len(names) > 1 or layer else None)
        lvl_col = next((c for c in ("level", "层级") if c in frame.columns), None)
        if lvl_col is not None:
            for value, part in frame.groupby(frame[lvl_col].map(level_of), dropna=True):
                out[str(value)] = part
            unknown = frame[frame[lvl_col].map(level_of).isna()]
            if len(unknown):
                raise InputDataError(
                    f"level '{unknown[lvl_col].iloc[0]}' is not township, county or city",
                    file=p,
                    layer=name,
                    feature=f"#{int(np.flatnonzero(frame[lvl_col].map(level_of).isna())[0]) + 1}",
                    fix="write township (街道/乡镇), county (区县) or city (市) in the level column",
                )
        elif level_of(name) is not None:
            out[str(level_of(name))] = frame
        elif len(names) == 1:
            raise InputDataError(
                "the unit polygons have no level column and the layer is not named township, county or city",
                file=p,
                layer=name,
                fix="add a level column (township/county/city) or name the layers by level",
            )
    return out


def _polygon_units(
    comm_geom: NDArray[np.object_], comm_crs: Any, frame: gpd.GeoDataFrame
) -> tuple[NDArray[np.object_], dict[str, str], dict[str, Any]]:
    """Each community's unit among ``frame``'s polygons (the one holding its representative point)."""
    import shapely

    from ..coords import to_crs

    code_col = next((c for c in ("code", "adcode", "unit_code", "id") if c in frame.columns), None)
    name_col = next((c for c in ("name", "unit_name", "名称") if c in frame.columns), None)
    codes = (
        [_unit_key(v) or f"#{i + 1}" for i, v in enumerate(frame[code_col])]
        if code_col
        else [f"#{i + 1}" for i in range(len(frame))]
    )
    names = {
        c: (str(n) if name_col and n is not None else c) for c, n in zip(codes, frame[name_col] if name_col else codes)
    }
    geom = {c: g for c, g in zip(codes, frame.geometry.to_numpy())}
    polys = np.asarray(to_crs(frame.geometry, comm_crs).values, dtype=object)
    points = shapely.point_on_surface(comm_geom)
    tree = shapely.STRtree(polys)
    comm_idx, poly_idx = tree.query(points, predicate="within")
    out = np.full(len(comm_geom), None, dtype=object)
    order = np.argsort(comm_idx, kind="stable")
    for ci, pi in zip(comm_idx[order][::-1], poly_idx[order][::-1]):  # the first polygon wins
        out[ci] = codes[pi]
    return out, names, geom


def community_units(
    frame: gpd.GeoDataFrame,
    *,
    code_column: str | None = None,
    register: CodeRegister | None = None,
    township_column: str | None = None,
    county_column: str | None = None,
    polygons: Mapping[str, gpd.GeoDataFrame] | None = None,
    comm_geom: NDArray[np.object_] | None = None,
    comm_crs: Any = None,
    id_column: str | None = None,
) -> UnitHierarchy:
    """Each community's township, county and city, and their names (see the module's description).

    Parameters
    ----------
    frame
        The communities.
    code_column, register
        The 12-digit code column and the code register (names), each optional.
    township_column, county_column
        Columns holding each community's township / county (a code or a name).
    polygons
        The user's unit polygons by level (:func:`read_unit_polygons`).
    comm_geom, comm_crs
        The communities' geometry and its CRS, to place them in ``polygons`` (default: ``frame``'s).
    id_column
        To name features in messages.
    """
    n = len(frame)
    codes = _codes(frame, code_column, True, id_column) if code_column else [None] * n
    geoms = comm_geom if comm_geom is not None else np.asarray(frame.geometry.values, dtype=object)
    crs = comm_crs if comm_crs is not None else frame.crs
    out = UnitHierarchy(codes={}, names={}, kinds={})
    columns = {"township": township_column, "county": county_column}
    for level in UNIT_LEVELS:
        names: dict[str, str] = {}
        col = columns.get(level)
        if col is not None:
            from .prepare import require_column

            require_column(frame, col, f"{level}", f"{level}_column= / --{level}-column")  # type: ignore[arg-type]
            unit = np.array([_unit_key(v) for v in frame[col].to_numpy()], dtype=object)
            out.sources[level] = f"column {col}"
        elif polygons is not None and level in polygons:
            unit, names, out.geometry[level] = _polygon_units(geoms, crs, polygons[level])
            out.crs = polygons[level].crs
            src, lyr = source_of(polygons[level])
            out.sources[level] = f"polygons {src or ''}{f' [{lyr}]' if lyr else ''}".strip()
        elif any(c is not None for c in codes):
            unit = np.array([_prefix_code(c, level) for c in codes], dtype=object)
            out.sources[level] = f"code {code_column}"
        elif level == "city":  # one city holds every community
            parents = [out.codes[lv] for lv in ("county", "township") if lv in out.codes]
            prefixes = {_prefix_code(c, "city") for arr in parents for c in arr if c is not None and CODE_RE.match(c)}
            code = next(iter(prefixes)) if len(prefixes) == 1 else "city"
            unit = np.full(n, code, dtype=object)
            out.sources[level] = "every community"
        else:
            unit = np.full(n, None, dtype=object)
            out.sources[level] = "none"
        kinds: dict[str, str] = {}
        for c in {c for c in unit if c is not None}:
            if c in names:
                pass
            elif register is not None and register.name(c) is not None:
                names[c] = str(register.name(c))
            elif c == "city":
                names[c] = "全部社区 all communities"
            else:
                names[c] = c
            if register is not None and c in register and (kind := register.kind(c)) is not None:
                kinds[c] = kind
        out.codes[level] = unit
        out.names[level] = names
        out.kinds[level] = kinds
    return out


def resolve_register(value: Any) -> CodeRegister | None:
    """The ``code_register`` option as a :class:`CodeRegister`: read from its file(s), or as given."""
    if value is None or isinstance(value, CodeRegister):
        return value
    from .register import read_register

    if not isinstance(value, (str, Path, list, tuple)):
        raise OptionError(
            f"code_register (--code-register) must be a file or folder, not {type(value).__name__}",
            fix="give an adcode CSV file, a folder of them, or servicecircle.inputs.register.read_register(...)",
        )
    return read_register(value)


def resolve_polygons(value: Any) -> dict[str, gpd.GeoDataFrame] | None:
    """The ``units`` option as level → polygons: read from its file, or a mapping / frame as given."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, gpd.GeoDataFrame):
        lvl = next((c for c in ("level", "层级") if c in value.columns), None)
        if lvl is None:
            raise OptionError(
                "units= got polygons without a level column",
                fix="add a level column (township/county/city) or pass {'township': frame, ...}",
            )
        return {str(k): part for k, part in value.groupby(lvl)}
    if isinstance(value, (str, Path)):
        return read_unit_polygons(value)
    raise OptionError(
        f"units (--units) must be a file of unit polygons, not {type(value).__name__}",
        fix="give a GIS file with a layer per level (township/county/city) or a level column",
    )


def compound_polygons(value: Any, residential: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame | None:
    """The residential compounds (小区): the ``compounds`` option (a file or a frame), else the named residential land.

    Without ``compounds``, the polygons of ``residential`` (e.g. OSM ``landuse=residential``) that have a
    ``name`` are taken as compounds; unnamed residential land is not a compound. Returns ``None`` when
    there is neither. The frame's ``attrs["compound_source"]`` says which it was.
    """
    if value is None:
        if residential is None or "name" not in residential.columns:
            return None
        names = residential["name"].map(lambda v: None if v is None or str(v).strip() in ("", "nan") else str(v))
        named = residential[names.notna().to_numpy()].copy()
        if not len(named):
            return None
        named.attrs = {**residential.attrs, "compound_source": "named residential land"}
        return named
    if isinstance(value, gpd.GeoDataFrame):
        frame = value
    elif isinstance(value, (str, Path)):
        from .layers import read_layer

        if not Path(value).exists():
            raise InputDataError(
                "the compounds file does not exist", file=value, fix="give compounds= (--compounds) a polygon file"
            )
        frame = read_layer(value)
    else:
        raise OptionError(
            f"compounds (--compounds) must be a polygon file or a GeoDataFrame, not {type(value).__name__}",
            fix="give a GIS file of residential compound (小区) polygons",
        )
    kinds = set(frame.geometry.geom_type.dropna())
    if kinds - {"Polygon", "MultiPolygon"}:
        file, layer = source_of(frame)
        raise InputDataError(
            f"the compounds are {', '.join(sorted(kinds))}, not polygons",
            file=file,
            layer=layer,
            fix="give the compounds' (小区) outlines as polygons",
        )
    frame = frame.copy()
    frame.attrs = (
        {**value.attrs, "compound_source": "compounds"}
        if isinstance(value, gpd.GeoDataFrame)
        else {
            **frame.attrs,
            "compound_source": "compounds",
        }
    )
    return frame
