"""Read facilities, green spaces and residential land from local OpenStreetMap files.

Which OSM objects count, and as what, is data, not code: an ordered list of
rules in ``osm_categories.toml`` (next to this module), each mapping tags and
optionally a name pattern to a category key of the standards profiles
(``kindergarten``, ``primary_school`` ...) and a *kind* (``facility``,
``greenspace`` or ``residential``). The first rule that matches an object
decides its category. Users can pass their own rules file.

Nodes become points. Closed ways and multipolygon relations become polygons,
assembled by libosmium (the ``osmium`` package) exactly as osm2pgsql and
osmium-tool assemble them, so a park with a hole (an inner ring) has the hole.
:func:`as_points` turns polygons into points that lie inside them, with their
area in square metres, for tools that measure reach to a point.

Reads XML (``.osm``, ``.osm.gz``, ``.osm.bz2``) and PBF (``.osm.pbf``) alike.

Examples
--------
>>> from servicecircle.inputs.osm_features import read_osm_features, as_points
>>> gdf = read_osm_features("data/network/chengdu_central_2018.osm.gz")
>>> int((gdf.category == "kindergarten").sum()) > 0
True
>>> points = as_points(gdf[gdf.kind == "facility"])
>>> set(points.geom_type)
{'Point'}
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..coords import choose_metric_crs
from ..errors import InputDataError, warn_data
from .osmfile import OSM_SUFFIXES, osm_file_problem

__all__ = [
    "DEFAULT_MAPPING",
    "KINDS",
    "FEATURE_COLUMNS",
    "CategoryRule",
    "load_category_rules",
    "match_rule",
    "read_osm_features",
    "as_points",
    "osm_fids",
    "osm_file_bounds",
]

#: The rules file shipped with servicecircle.
DEFAULT_MAPPING = Path(__file__).with_name("osm_categories.toml")

#: The kinds a rule may give.
KINDS = ("facility", "greenspace", "residential")

#: Columns of the frame :func:`read_osm_features` returns, before ``geometry``.
FEATURE_COLUMNS = ("category", "kind", "name", "osm_type", "osm_id", "osm_tags")

_OSM_TYPE_ORDER = {"node": 0, "way": 1, "relation": 2}
_OSM_TYPE_LETTER = {"node": "n", "way": "w", "relation": "r"}
_NAME_KEYS = ("name:zh", "name")
_RULE_KEYS = {"category", "kind", "tags", "name_regex", "name_not_regex", "exclude_tags"}
_ANY = "*"

#: ``(key, allowed values)``; ``None`` for "any value".
TagTest = tuple[str, frozenset[str] | None]


@dataclass(frozen=True)
class CategoryRule:
    """One rule of the OSM category mapping.

    Attributes
    ----------
    category
        The category key given to matching objects.
    kind
        ``"facility"``, ``"greenspace"`` or ``"residential"``.
    tags
        ``(key, values)`` pairs that must all hold; ``values`` is a set of
        allowed values or None for any value.
    name_regex
        A pattern that must be found in ``name:zh`` or ``name``, or None.
    name_not_regex
        A pattern that must not be found in ``name:zh`` or ``name``, or None.
    exclude_tags
        ``(key, values)`` pairs any of which stops the rule from matching.
    """

    category: str
    kind: str
    tags: tuple[TagTest, ...] = ()
    name_regex: re.Pattern[str] | None = None
    name_not_regex: re.Pattern[str] | None = None
    exclude_tags: tuple[TagTest, ...] = ()

    @property
    def keys(self) -> set[str]:
        """The tag keys an object needs for this rule to have a chance to match."""
        if self.tags:
            return {k for k, _ in self.tags}
        return set(_NAME_KEYS)

    def match(self, tags: Mapping[str, str]) -> str | None:
        """Test the rule against an object's tags.

        Parameters
        ----------
        tags
            The object's tags.

        Returns
        -------
        str or None
            None if the rule does not match; else what matched, as
            ``key=value`` pairs joined by ``;`` (``name~<text>`` for the part of
            the name the pattern found), e.g. ``"amenity=school;name~小学"``.
        """
        matched = []
        for key, values in self.tags:
            value = tags.get(key)
            if value is None or (values is not None and value not in values):
                return None
            matched.append(f"{key}={value}")
        for key, values in self.exclude_tags:
            value = tags.get(key)
            if value is not None and (values is None or value in values):
                return None
        names = [tags[k] for k in _NAME_KEYS if k in tags]
        if self.name_not_regex is not None and any(self.name_not_regex.search(n) for n in names):
            return None
        if self.name_regex is not None:
            for n in names:
                found = self.name_regex.search(n)
                if found:
                    matched.append(f"name~{found.group(0)}")
                    break
            else:
                return None
        return ";".join(matched)


def match_rule(tags: Mapping[str, str], rules: Sequence[CategoryRule]) -> tuple[CategoryRule, str] | None:
    """The first rule matching these tags, with what matched.

    Parameters
    ----------
    tags
        An OSM object's tags.
    rules
        Ordered rules, as :func:`load_category_rules` returns them.

    Returns
    -------
    tuple or None
        ``(rule, matched)`` (see :meth:`CategoryRule.match`), or None.

    Examples
    --------
    >>> rules = load_category_rules()
    >>> rule, how = match_rule({"amenity": "school", "name": "成都市实验小学"}, rules)
    >>> rule.category, how
    ('primary_school', 'amenity=school;name~小学')
    """
    for rule in rules:
        how = rule.match(tags)
        if how is not None:
            return rule, how
    return None


# --------------------------------------------------------------------------
# The rules file
# --------------------------------------------------------------------------


def _tag_tests(value: Any, *, where: str, file: Any) -> tuple[TagTest, ...]:
    if not isinstance(value, Mapping):
        raise InputDataError(
            f"{where} must be a table of key = value, not {type(value).__name__}",
            file=file,
            fix='write it as tags = { amenity = "school" }',
        )
    tests = []
    for key, val in value.items():
        if isinstance(val, str):
            vals: frozenset[str] | None = None if val == _ANY else frozenset([val])
        elif isinstance(val, list) and val and all(isinstance(v, str) for v in val):
            vals = None if _ANY in val else frozenset(val)
        else:
            raise InputDataError(
                f'{where}: the value of {key!r} must be a string, a list of strings or "*"',
                file=file,
                fix=f'write it as {key} = "value" or {key} = ["value1", "value2"]',
            )
        tests.append((str(key), vals))
    return tuple(tests)


def _regex(value: Any, *, where: str, file: Any) -> re.Pattern[str] | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InputDataError(f"{where} must be a non-empty string", file=file, fix="give a regular expression")
    try:
        return re.compile(value)
    except re.error as exc:
        raise InputDataError(
            f"{where} {value!r} is not a valid regular expression ({exc})",
            file=file,
            fix="correct the pattern (Python re syntax)",
        ) from None


def _rule_from_dict(raw: Any, number: int, file: Any) -> CategoryRule:
    where = f"rule {number}"
    if not isinstance(raw, Mapping):
        raise InputDataError(f"{where} is not a table", file=file, fix="write each rule as a [[rule]] table")
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise InputDataError(
            f"{where} has unknown field(s) {', '.join(unknown)}",
            file=file,
            fix=f"use only {', '.join(sorted(_RULE_KEYS))}",
        )
    category = raw.get("category")
    if not isinstance(category, str) or not category.strip():
        raise InputDataError(f"{where} has no category", file=file, fix='add category = "<key>"')
    kind = raw.get("kind", "facility")
    if kind not in KINDS:
        raise InputDataError(f"{where} ({category}) has kind {kind!r}", file=file, fix=f"use one of {', '.join(KINDS)}")
    where = f"rule {number} ({category})"
    tags = _tag_tests(raw.get("tags", {}), where=f"{where} tags", file=file)
    exclude = _tag_tests(raw.get("exclude_tags", {}), where=f"{where} exclude_tags", file=file)
    name_regex = _regex(raw.get("name_regex"), where=f"{where} name_regex", file=file)
    name_not_regex = _regex(raw.get("name_not_regex"), where=f"{where} name_not_regex", file=file)
    if not tags and name_regex is None:
        raise InputDataError(
            f"{where} has neither tags nor name_regex, so it would match everything",
            file=file,
            fix="give tags = {...} or name_regex",
        )
    return CategoryRule(
        category=category.strip(),
        kind=kind,
        tags=tags,
        name_regex=name_regex,
        name_not_regex=name_not_regex,
        exclude_tags=exclude,
    )


def load_category_rules(
    mapping: str | Path | Iterable[CategoryRule | Mapping[str, Any]] | None = None,
) -> list[CategoryRule]:
    """Load the ordered OSM category rules.

    Parameters
    ----------
    mapping
        None for the rules shipped with servicecircle (:data:`DEFAULT_MAPPING`);
        a path to a TOML file in the same format (a list of ``[[rule]]``
        tables); or rules already in memory (:class:`CategoryRule` objects or
        dicts with the TOML fields).

    Returns
    -------
    list of CategoryRule
        In file order: the first matching rule wins.

    Raises
    ------
    InputDataError
        If the file cannot be read or a rule is malformed.
    """
    file: Any = None
    if mapping is None or isinstance(mapping, (str, Path)):
        file = Path(DEFAULT_MAPPING if mapping is None else mapping)
        try:
            with open(file, "rb") as fh:
                doc = tomllib.load(fh)
        except FileNotFoundError:
            raise InputDataError(
                "OSM category rules file not found", file=file, fix="check the path given as mapping"
            ) from None
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputDataError(
                f"cannot read the OSM category rules ({' '.join(str(exc).split())})",
                file=file,
                fix="check that it is a TOML file of [[rule]] tables",
            ) from None
        raw_rules = doc.get("rule")
        if not isinstance(raw_rules, list) or not raw_rules:
            raise InputDataError(
                "the OSM category rules file has no [[rule]] tables",
                file=file,
                fix='add rules such as [[rule]] category = "kindergarten" tags = { amenity = "kindergarten" }',
            )
    else:
        raw_rules = list(mapping)
    rules = [
        r if isinstance(r, CategoryRule) else _rule_from_dict(r, i, file) for i, r in enumerate(raw_rules, start=1)
    ]
    if not rules:
        raise InputDataError("no OSM category rules given", fix="pass mapping=None for the default rules")
    return rules


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def _check_osm_path(path: Path) -> None:
    if not path.exists():
        raise InputDataError("file not found", file=path, fix="check the path to the OSM file")
    if path.is_dir():
        raise InputDataError("is a folder, not an OSM file", file=path, fix="give the path of a .osm or .osm.pbf file")
    name = path.name.lower()
    if not any(name.endswith(s) for s in OSM_SUFFIXES):
        raise InputDataError(
            "is not an OSM file name",
            file=path,
            fix=f"rename it to end in one of {', '.join(OSM_SUFFIXES)} (osmium picks the format from the name)",
        )


def _read_error(path: Path, exc: BaseException) -> InputDataError:
    return InputDataError(
        osm_file_problem(path),
        file=path,
        fix="check that it is a complete OSM XML (.osm, .osm.gz, .osm.bz2) or PBF (.osm.pbf) file "
        "(download or copy it again)",
    )


def osm_file_bounds(path: str | Path) -> tuple[float, float, float, float] | None:
    """The bounding box an OSM file declares (XML ``<bounds>``, PBF header).

    Parameters
    ----------
    path
        An OSM XML or PBF file.

    Returns
    -------
    tuple or None
        ``(minlon, minlat, maxlon, maxlat)`` in degrees, or None if the file
        declares no bounds.

    Raises
    ------
    InputDataError
        If the file cannot be read.
    """
    import osmium

    path = Path(path)
    _check_osm_path(path)
    try:
        box = osmium.io.Reader(str(path), osmium.osm.NOTHING).header().box()
    except (RuntimeError, ValueError, OSError) as exc:
        raise _read_error(path, exc) from None
    if not box.valid():
        return None
    return (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)


def _empty_frame() -> gpd.GeoDataFrame:
    frame = pd.DataFrame(
        {
            "category": pd.Series(dtype=object),
            "kind": pd.Series(dtype=object),
            "name": pd.Series(dtype=object),
            "osm_type": pd.Series(dtype=object),
            "osm_id": pd.Series(dtype=np.int64),
            "osm_tags": pd.Series(dtype=object),
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")


def read_osm_features(
    path: str | Path,
    mapping: str | Path | Iterable[CategoryRule | Mapping[str, Any]] | None = None,
) -> gpd.GeoDataFrame:
    """Read the OSM objects that match the category rules.

    Every node, closed way and multipolygon relation whose tags match a rule
    becomes one row; the first matching rule gives its category.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.gz``, ``.osm.bz2`` or ``.osm.pbf`` file.
    mapping
        The rules: None for the shipped ``osm_categories.toml``, a path to
        your own rules file, or rules in memory (see
        :func:`load_category_rules`).

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326, sorted by ``osm_type`` (node, way, relation) then
        ``osm_id``, with columns

        - ``category``: the rule's category key;
        - ``kind``: ``facility``, ``greenspace`` or ``residential``;
        - ``name``: ``name:zh``, else ``name``, else ``""``;
        - ``osm_type``: ``"node"``, ``"way"`` or ``"relation"``;
        - ``osm_id``: the OSM id (int64);
        - ``osm_tags``: what matched, e.g. ``"amenity=school;name~小学"``;
        - ``geometry``: a Point for nodes, a Polygon or MultiPolygon for
          closed ways and multipolygon relations.

    Raises
    ------
    InputDataError
        If the file is missing, not an OSM file or cannot be parsed, or the
        rules are malformed.

    Warns
    -----
    DataWarning
        ``osm_area_not_assembled`` for matching multipolygon relations whose
        polygon could not be built (members missing from the extract) and
        closed ways whose ring is broken (these are repaired with
        :func:`shapely.make_valid` when possible); ``osm_open_way`` for
        matching ways that are not closed or are tagged ``area=no`` (left
        out: a facility or green space drawn as a line is a mapping error);
        ``osm_bad_location`` for matching nodes without a valid location.

    Notes
    -----
    Unclosed ways and relations other than ``type=multipolygon`` are not read.
    Old-style multipolygons that carry their tags on the outer way are not
    supported (libosmium dropped them; OSM finished converting them in 2017).
    """
    import osmium

    path = Path(path)
    _check_osm_path(path)
    rules = load_category_rules(mapping)
    keys = sorted(set().union(*(r.keys for r in rules)))

    node_rows: list[tuple[str, str, str, int, str]] = []
    node_lon: list[float] = []
    node_lat: list[float] = []
    area_rows: list[tuple[str, str, str, str, int, str]] = []
    area_wkb: list[str] = []
    # Matching closed ways and multipolygon relations, to find the ones the
    # area assembler could not build.
    wanted_ways: dict[int, tuple[CategoryRule, str, str, list[tuple[float, float]]]] = {}
    wanted_relations: dict[int, tuple[CategoryRule, str, str]] = {}
    built_ways: set[int] = set()
    built_relations: set[int] = set()
    open_ways: list[int] = []
    bad_nodes = 0

    factory = osmium.geom.WKBFactory()
    try:
        processor = osmium.FileProcessor(str(path)).with_areas().with_filter(osmium.filter.KeyFilter(*keys))
        for obj in processor:
            tags = {t.k: t.v for t in obj.tags}
            found = match_rule(tags, rules)
            if found is None:
                continue
            rule, how = found
            name = tags.get("name:zh") or tags.get("name") or ""
            # isinstance, which is what osmium's is_node() & co. test, so the type checker narrows too
            if isinstance(obj, osmium.osm.Node):
                loc = obj.location
                if not loc.valid():
                    bad_nodes += 1
                    continue
                node_rows.append((rule.category, rule.kind, name, int(obj.id), how))
                node_lon.append(loc.lon)
                node_lat.append(loc.lat)
            elif isinstance(obj, osmium.osm.Area):
                from_way = obj.from_way()
                orig = int(obj.orig_id())
                try:
                    wkb = factory.create_multipolygon(obj)
                except (RuntimeError, osmium.InvalidLocationError):
                    continue  # reported below as not assembled
                (built_ways if from_way else built_relations).add(orig)
                area_rows.append((rule.category, rule.kind, name, "way" if from_way else "relation", orig, how))
                area_wkb.append(wkb)
            elif isinstance(obj, osmium.osm.Way):
                if obj.is_closed() and tags.get("area") != "no":
                    ring = [
                        (n.location.lon, n.location.lat) if n.location.valid() else (np.nan, np.nan) for n in obj.nodes
                    ]
                    wanted_ways[int(obj.id)] = (rule, name, how, ring)
                else:
                    open_ways.append(int(obj.id))
            elif isinstance(obj, osmium.osm.Relation):
                if tags.get("type") == "multipolygon":
                    wanted_relations[int(obj.id)] = (rule, name, how)
    except (RuntimeError, ValueError, OSError) as exc:
        raise _read_error(path, exc) from None

    geoms: list[Any] = list(shapely.from_wkb(np.asarray(area_wkb, dtype=object))) if area_wkb else []

    # Closed ways the assembler refused (self-intersecting, too few nodes):
    # build the ring ourselves and repair it.
    repaired = []
    for way_id in sorted(set(wanted_ways) - built_ways):
        rule, name, how, ring = wanted_ways[way_id]
        coords = np.asarray(ring, dtype=np.float64)
        if len(coords) < 4 or not np.isfinite(coords).all():
            repaired.append((way_id, False))
            continue
        geom = shapely.make_valid(shapely.Polygon(coords))
        polys = shapely.get_parts(geom)
        polys = polys[shapely.get_type_id(polys) == 3]
        if len(polys) == 0:
            repaired.append((way_id, False))
            continue
        area_rows.append((rule.category, rule.kind, name, "way", way_id, how))
        geoms.append(shapely.multipolygons(polys))
        repaired.append((way_id, True))
    fixed = [w for w, ok in repaired if ok]
    lost = [w for w, ok in repaired if not ok]
    if fixed:
        warn_data(
            "osm_area_not_assembled",
            f"{len(fixed)} closed way(s) had a broken ring and were repaired (e.g. way {fixed[0]}); check their shape",
            file=path,
            count=len(fixed),
        )
    if lost:
        warn_data(
            "osm_area_not_assembled",
            f"{len(lost)} closed way(s) have nodes missing from the extract or too few nodes "
            f"and were left out (e.g. way {lost[0]})",
            file=path,
            count=len(lost),
        )
    missing_rel = sorted(set(wanted_relations) - built_relations)
    if missing_rel:
        names = ", ".join(
            f"relation {r} ({wanted_relations[r][0].category}"
            + (f" {wanted_relations[r][1]}" if wanted_relations[r][1] else "")
            + ")"
            for r in missing_rel[:3]
        )
        warn_data(
            "osm_area_not_assembled",
            f"{len(missing_rel)} multipolygon relation(s) could not be assembled into polygons "
            f"(members missing from the extract or broken rings) and were left out: {names}"
            + (" ..." if len(missing_rel) > 3 else ""),
            file=path,
            count=len(missing_rel),
        )
    if open_ways:
        warn_data(
            "osm_open_way",
            f"{len(open_ways)} matching way(s) are not closed (or are tagged area=no) and were left out "
            f"(e.g. way {open_ways[0]})",
            file=path,
            count=len(open_ways),
        )
    if bad_nodes:
        warn_data(
            "osm_bad_location",
            f"{bad_nodes} matching node(s) have no valid location and were left out",
            file=path,
            count=bad_nodes,
        )

    if not node_rows and not area_rows:
        return _empty_frame()

    # Single-part multipolygons become polygons; repair the rare invalid one.
    area_geoms = np.asarray(geoms, dtype=object)
    if len(area_geoms):
        single = shapely.get_num_geometries(area_geoms) == 1
        area_geoms[single] = shapely.get_geometry(area_geoms[single], 0)
        invalid = ~shapely.is_valid(area_geoms)
        if invalid.any():
            area_geoms[invalid] = shapely.make_valid(area_geoms[invalid])
    node_geoms = shapely.points(np.asarray(node_lon, dtype=np.float64), np.asarray(node_lat, dtype=np.float64))

    node_frame = pd.DataFrame(node_rows, columns=["category", "kind", "name", "osm_id", "osm_tags"])
    node_frame.insert(3, "osm_type", "node")
    area_frame = pd.DataFrame(area_rows, columns=["category", "kind", "name", "osm_type", "osm_id", "osm_tags"])
    frame = pd.concat([node_frame, area_frame], ignore_index=True)
    frame["osm_id"] = frame["osm_id"].astype(np.int64)
    all_geoms = np.concatenate([np.asarray(node_geoms, dtype=object).reshape(-1), area_geoms])
    gdf = gpd.GeoDataFrame(frame[list(FEATURE_COLUMNS)], geometry=all_geoms, crs="EPSG:4326")
    order = np.lexsort((gdf["osm_id"].to_numpy(), gdf["osm_type"].map(_OSM_TYPE_ORDER).to_numpy()))
    return gdf.iloc[order].reset_index(drop=True)


# --------------------------------------------------------------------------
# Points
# --------------------------------------------------------------------------


def osm_fids(gdf: pd.DataFrame) -> pd.Series:
    """Short OSM feature ids: ``n123``, ``w456``, ``r789``.

    Parameters
    ----------
    gdf
        A frame with ``osm_type`` and ``osm_id`` columns, as
        :func:`read_osm_features` returns.

    Returns
    -------
    pandas.Series of str
        Same index as ``gdf``.
    """
    letters = gdf["osm_type"].map(_OSM_TYPE_LETTER)
    if letters.isna().any():
        bad = gdf.loc[letters.isna(), "osm_type"].iloc[0]
        raise InputDataError(f"unknown osm_type {bad!r}", fix='osm_type must be "node", "way" or "relation"')
    return letters + gdf["osm_id"].astype(np.int64).astype(str)


def as_points(gdf: gpd.GeoDataFrame, *, metric_crs: Any = None) -> gpd.GeoDataFrame:
    """Turn polygons into points inside them, keeping their area.

    Parameters
    ----------
    gdf
        Features with a coordinate system, e.g. from :func:`read_osm_features`.
    metric_crs
        The projected CRS in metres in which areas are computed; by default
        :func:`servicecircle.coords.choose_metric_crs` picks the CGCS2000
        Gauss-Krüger zone of the data.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy in the same CRS where polygons and multipolygons are replaced
        by :meth:`~geopandas.GeoSeries.representative_point` (a point
        guaranteed to lie inside the polygon, unlike the centroid of an L- or
        ring-shaped site), other geometries are kept, and a float column
        ``area_m2`` holds each polygon's area in square metres (NaN for
        features that were not polygons).

    Raises
    ------
    InputDataError
        If ``gdf`` has no coordinate system.
    """
    if gdf.crs is None:
        raise InputDataError(
            "the features have no coordinate system",
            fix="set one with gdf.set_crs(...) before turning polygons into points",
        )
    out = gdf.copy()
    geoms = out.geometry.values
    type_ids = shapely.get_type_id(np.asarray(geoms, dtype=object))
    is_poly = (type_ids == 3) | (type_ids == 6)
    area = np.full(len(out), np.nan, dtype=np.float64)
    if is_poly.any():
        polys = out.geometry[is_poly]
        if metric_crs is None:
            bounds = polys.to_crs("EPSG:4326").total_bounds
            metric_crs = choose_metric_crs(bounds)
        else:
            metric_crs = choose_metric_crs((), crs=metric_crs)  # no bounds: unused when crs is given
        area[is_poly] = polys.to_crs(metric_crs).area.to_numpy()
        new_geoms = np.asarray(geoms, dtype=object).copy()
        new_geoms[is_poly] = shapely.point_on_surface(new_geoms[is_poly])
        out[out.geometry.name] = gpd.GeoSeries(new_geoms, index=out.index, crs=out.crs)
    out["area_m2"] = area
    return out
