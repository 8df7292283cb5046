"""The stages of an assessment: prepare → demand → snap → distances → checks → frames.

Each stage takes typed inputs (:mod:`servicecircle.assessment.state`) and
returns a typed result, reads and writes no file, and can be run and tested on
its own. :func:`servicecircle.assess` runs them in order; a scenario runs them
again with the demand, its snapping and the untouched categories reused.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._parallel import pmap, workers_for
from .._progress import bar
from .._text import counted
from ..checks import CHECK_KINDS, CheckOutcome, Context, lifecircle_checks, within
from ..checks.gaps import trace_gaps
from ..checks.greenspace import greenspace_checks
from ..checks.timed import add_service_areas, time_checks
from ..coords import to_crs
from ..demand import assign_to_communities, sample_demand
from ..engine import DistanceEngine, snap_points
from ..engine.snapping import snap_points_parallel
from ..engine.weighted import CostEngine
from ..errors import CRSError, InputDataError, feature_label, source_of, warn_data
from ..inputs.columns import keep_input_columns
from ..inputs.prepare import numeric_column, prepare_boundaries, prepare_facilities, prepare_points, require_column
from ..network.access import metre_costs
from ..network.model import WalkNetwork
from ..options import Options, setting_or
from ..population import PopulationGrid, population_demand
from ..profiles import Profile
from ..schema import (
    COUNT,
    GAP_COLUMNS,
    SCORECARD_COLUMNS,
    SUMMARY_CITY_COLUMNS,
    SUMMARY_COLUMNS,
    SUMMARY_TIME_COLUMNS,
    count_column,
    distance_column,
    parse_column,
)
from .state import DemandPoints, Distances, FacilitySet, Prepared, Snapping

__all__ = [
    "prepare",
    "prepare_facility_set",
    "build_demand",
    "snap",
    "compute_distances",
    "run_checks",
    "community_frame",
    "demand_frame",
    "facility_frame",
    "summary_table",
    "community_population",
    "category_slug",
]


def _max_snap(options: Options) -> float:
    return float(setting_or("max_snap", options.max_snap))


# ---------------------------------------------------------------------------------------------- prepare
def category_slug(value: str) -> str:
    """A column-safe key for a category name the profile does not know.

    >>> category_slug("Food Market ")
    'food_market'
    >>> category_slug("菜市场")
    '菜市场'
    """
    text = re.sub(r"[^\w]+", "_", str(value).strip().lower(), flags=re.UNICODE).strip("_")
    return text or "unnamed"


def _match_categories(
    facilities: gpd.GeoDataFrame, category_column: str, profile: Profile
) -> tuple[np.ndarray, np.ndarray]:
    from ..profiles import show_invisible  # values are named as typed, their invisible characters escaped

    raw = facilities[category_column]
    keys = np.empty(len(raw), dtype=object)
    in_profile = np.zeros(len(raw), dtype=bool)
    unknown: dict[str, int] = {}
    normalised: dict[str, int] = {}  # values matched only once invisible / look-alike characters were dropped
    cache: dict[str, tuple[str | None, bool]] = {}
    hidden: set[str] = set()  # the values among them that name their category with invisible characters
    for i, value in enumerate(raw.to_numpy()):
        if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
            keys[i] = None
            continue
        text = str(value)
        if text not in cache:
            cat = profile.category_for(text)
            cache[text] = (cat.key, True) if cat is not None else (category_slug(text), False)
            if cat is not None and not profile.names_plainly(text, cat.key):
                hidden.add(text)
        keys[i], in_profile[i] = cache[text]
        if not in_profile[i]:
            unknown[text] = unknown.get(text, 0) + 1
        elif text in hidden:
            normalised[text] = normalised.get(text, 0) + 1
    file, layer = source_of(facilities)
    if normalised:
        n = sum(normalised.values())
        listed = ", ".join(
            f"'{show_invisible(k)}' ({c}) taken as '{cache[k][0]}'" for k, c in sorted(normalised.items())[:8]
        )
        warn_data(
            "category_normalised",
            f"{counted(n, 'facility has a category', 'facilities have categories')} that "
            f"match{'es' if n == 1 else ''} profile '{profile.key}' only once invisible or look-alike characters "
            f"are dropped or replaced (invisible ones shown escaped): {listed}{' ...' if len(normalised) > 8 else ''}; "
            "correct the category column if that is not what was meant",
            file=file,
            layer=layer,
            count=n,
        )
    if unknown:
        listed = ", ".join(f"'{show_invisible(k)}' ({n})" for k, n in sorted(unknown.items())[:8])
        warn_data(
            "category_not_in_profile",
            f"{len(unknown)} facility categories are not in profile "
            f"'{profile.key}': {listed}; their distances are computed but not checked",
            file=file,
            layer=layer,
            count=sum(unknown.values()),
        )
    return keys, in_profile


def _require_crs(frame: gpd.GeoDataFrame, what: str) -> None:
    if frame.crs is None:
        file, layer = source_of(frame)
        raise CRSError(
            f"the {what} have no coordinate system",
            file=file,
            layer=layer,
            fix="set one (GeoDataFrame.set_crs) or read the file with crs=",
        )


def prepare_facility_set(
    facilities: gpd.GeoDataFrame, network: WalkNetwork, profile: Profile, options: Options
) -> FacilitySet:
    """Check the facilities, put them in the network's CRS and match their categories to the profile."""
    fac = prepare_facilities(facilities, category_column=options.category_column)
    _require_crs(fac, "facilities")
    geom = np.asarray(to_crs(fac.geometry, network.crs).values, dtype=object)
    key, in_profile = _match_categories(fac, options.category_column, profile)
    return FacilitySet(frame=fac, geom=geom, key=key, in_profile=in_profile)


def prepare(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    network: WalkNetwork,
    profile: Profile,
    options: Options,
    *,
    residential: gpd.GeoDataFrame | None = None,
) -> Prepared:
    """Stage 1: check the communities and facilities and put them in the network's metric CRS.

    Also each community's type and units (:func:`community_types_and_units`) and the residential
    compounds (:func:`prepare_compounds`; the named ``residential`` land when the options give none).
    """
    boundaries = prepare_boundaries(communities, id_column=options.id_column)
    if options.name_column is not None:
        require_column(boundaries, options.name_column, "community name", "name_column= / --name-column")
    fac = prepare_facility_set(facilities, network, profile, options)
    _require_crs(boundaries, "boundaries")
    comm_geom = np.asarray(to_crs(boundaries.geometry, network.crs).values, dtype=object)
    ids = boundaries[options.id_column].to_numpy() if options.id_column else np.arange(1, len(boundaries) + 1)
    types, units = community_types_and_units(boundaries, comm_geom, network.crs, options)
    compounds = prepare_compounds(options.compounds, residential, comm_geom, network.crs)
    return Prepared(
        boundaries=boundaries,
        comm_geom=comm_geom,
        comm_ids=ids,
        facilities=fac,
        types=types,
        units=units,
        compounds=compounds,
    )


def prepare_compounds(
    value: Any, residential: gpd.GeoDataFrame | None, comm_geom: np.ndarray, crs: Any
) -> gpd.GeoDataFrame | None:
    """The residential compounds (小区) in the metric CRS, each with the community it overlaps most.

    Columns: every input column, ``compound_id`` (1-based), ``compound_name`` (its ``name``, if any),
    ``compound_source`` and ``community`` (the position of its community, -1 for none).
    """
    from ..inputs.units import compound_polygons

    frame = compound_polygons(value, residential)
    if frame is None:
        return None
    _require_crs(frame, "compounds")
    geom = np.asarray(to_crs(frame.geometry, crs).values, dtype=object)
    comm = np.full(len(geom), -1, dtype=np.int64)
    if len(geom) and len(comm_geom):
        tree = shapely.STRtree(comm_geom)
        c_idx, m_idx = tree.query(geom, predicate="intersects")
        area = shapely.area(shapely.intersection(geom[c_idx], comm_geom[m_idx]))
        best = np.full(len(geom), -1.0)
        for ci, mi, a in zip(c_idx, m_idx, area):  # pairs, not nodes: a few per compound
            if a > best[ci]:
                best[ci], comm[ci] = a, mi
    out = gpd.GeoDataFrame(frame.drop(columns=frame.geometry.name), geometry=list(geom), crs=crs)
    out["compound_id"] = np.arange(1, len(out) + 1)
    out["compound_name"] = frame["name"].to_numpy() if "name" in frame.columns else None
    out["compound_source"] = frame.attrs.get("compound_source", "compounds")
    out["community"] = comm
    out.attrs = dict(frame.attrs)
    return out


def community_types_and_units(
    boundaries: gpd.GeoDataFrame, comm_geom: np.ndarray, crs: Any, options: Options
) -> tuple[Any, Any]:
    """Each community's type (urban/town/rural) and rule, and its township, county and city.

    See :mod:`servicecircle.inputs.units`: the options ``type_column``, ``code_column`` (default
    ``code`` when it holds 12-digit codes), ``code_register``, ``type_overrides``,
    ``township_column``, ``county_column`` and ``units``.
    """
    from ..inputs.units import community_types, community_units, guess_code_column, resolve_polygons, resolve_register

    register = resolve_register(options.code_register)
    code_column = options.code_column or guess_code_column(boundaries)
    types = community_types(
        boundaries,
        type_column=options.type_column,
        code_column=code_column,
        register=register,
        overrides=options.type_overrides,
        id_column=options.id_column,
        strict_codes=options.code_column is not None or register is not None,
    )
    units = community_units(
        boundaries,
        code_column=code_column,
        register=register,
        township_column=options.township_column,
        county_column=options.county_column,
        polygons=resolve_polygons(options.units),
        comm_geom=comm_geom,
        comm_crs=crs,
        id_column=options.id_column,
    )
    return types, units


# ---------------------------------------------------------------------------------------------- demand
def community_population(
    boundaries: gpd.GeoDataFrame,
    profile: Profile,
    households_column: str | None,
    residents_column: str | None,
    id_column: str | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Households and residents per community (``nan`` where unknown).

    Where only one of the two is known, the other is derived with the profile's
    household size (residents = households × size), with a warning.
    """
    file, layer = source_of(boundaries)
    n = len(boundaries)
    has_h = households_column is not None and households_column in boundaries.columns
    has_r = residents_column is not None and residents_column in boundaries.columns
    h = np.full(n, np.nan)
    r = np.full(n, np.nan)
    if has_h and households_column is not None:
        h = numeric_column(boundaries, households_column, "households", id_column=id_column)
    if has_r and residents_column is not None:
        r = numeric_column(boundaries, residents_column, "residents", id_column=id_column)
    size = profile.household_size
    if size:
        fill_h = np.isnan(h) & ~np.isnan(r)
        fill_r = np.isnan(r) & ~np.isnan(h)
        if fill_h.any():
            warn_data(
                "households_from_residents",
                f"households = residents ÷ {size:g} (the profile's household size) for {int(fill_h.sum())} communities",
                file=file,
                layer=layer,
                count=int(fill_h.sum()),
            )
        if fill_r.any() and has_r:
            warn_data(
                "residents_from_households",
                f"residents = households × {size:g} (the profile's household size) for {int(fill_r.sum())} communities",
                file=file,
                layer=layer,
                count=int(fill_r.sum()),
            )
        h = np.where(fill_h, r / size, h)
        r = np.where(fill_r, h * size, r)
    return h, r


def _sampled_weights(
    households: np.ndarray, residents: np.ndarray, boundaries: gpd.GeoDataFrame, profile: Profile, options: Options
) -> tuple[np.ndarray, str]:
    """The per-community weight sampled demand carries, as the profile's weight asks."""
    weights = households if profile.weight == "households" else residents
    if np.isnan(weights).all():
        households_column, residents_column = options.households_column, options.residents_column
        file, layer = source_of(boundaries)
        cols = [c for c in boundaries.columns if c != boundaries.geometry.name]
        present = [c for c in (households_column, residents_column) if c and c in cols]
        fix = (
            "name the column of households (--households-column) or residents (--residents-column), "
            "or give a demand layer (--demand) or a population raster (--population)"
        )
        if present:
            raise InputDataError(
                f"the '{present[0]}' column is empty for every community, and no demand layer or population "
                "raster was given",
                file=file,
                layer=layer,
                fix=fix,
            )
        hint = ""
        for want in (households_column, residents_column):
            close = difflib.get_close_matches(str(want), [str(c) for c in cols], n=1) if want else []
            if close:
                hint = f" (did you mean '{close[0]}'?)"
                break
        raise InputDataError(
            f"no households column '{households_column}' or residents column '{residents_column}' "
            f"(columns are {', '.join(map(str, cols))}){hint}, and no demand layer or population raster was given",
            file=file,
            layer=layer,
            fix=fix,
        )
    return weights, profile.weight


def build_demand(
    prepared: Prepared,
    network: WalkNetwork,
    profile: Profile,
    options: Options,
    *,
    demand: gpd.GeoDataFrame | None = None,
    population: PopulationGrid | None = None,
    residential: gpd.GeoDataFrame | None = None,
) -> DemandPoints:
    """Stage 2: the demand points and their weights — a demand layer, a population raster, or sampled."""
    crs = network.crs
    boundaries, b_metric, n_comm = prepared.boundaries, prepared.comm_geom, prepared.n_comm
    households, residents = community_population(
        boundaries, profile, options.households_column, options.residents_column, options.id_column
    )
    area = None
    attrs: dict[str, Any] = {}
    if demand is not None:
        dem = prepare_points(demand, "demand points")
        if dem.crs is None:
            file, layer = source_of(dem)
            raise CRSError(
                "the demand points have no coordinate system",
                file=file,
                layer=layer,
                fix="set one, or read the file with crs=",
            )
        geom = np.asarray(to_crs(dem.geometry, crs).values, dtype=object)
        if options.weight_column is not None:
            require_column(dem, options.weight_column, "demand weight", "weight_column= / --weight-column")
            weight = numeric_column(dem, options.weight_column, "demand weight")
        else:
            weight = np.ones(len(dem))
            file, layer = source_of(dem)
            warn_data("unit_weight", "no demand weight column: every demand point counts as 1", file=file, layer=layer)
        comm = assign_to_communities(geom, b_metric)
        outside = comm < 0
        if outside.any():
            file, layer = source_of(dem)
            warn_data(
                "demand_outside",
                f"{int(outside.sum())} demand points lie in no community; "
                "they keep their distances but count for no community",
                file=file,
                layer=layer,
                feature=feature_label(dem, int(np.flatnonzero(outside)[0])),
                count=int(outside.sum()),
            )
        table = dem.drop(columns=dem.geometry.name).copy()
        kind, weight_kind = "layer", options.weight_column or "count"
        attrs = dict(demand.attrs)
    elif population is not None:
        pop = population_demand(population, gpd.GeoSeries(b_metric, crs=crs), household_size=profile.household_size)
        geom = np.asarray(pop.geometry.values, dtype=object)
        comm = pop["community"].to_numpy()
        # unknown is never 0: a piece of a nodata / NaN cell makes its community's sum nan (bincount
        # propagates it), and a community with no piece at all (outside the raster) has no known sum either
        res_sum = np.bincount(comm, weights=pop["residents"].to_numpy(), minlength=n_comm)
        res_sum[np.bincount(comm, minlength=n_comm) == 0] = np.nan
        if profile.weight == "households" and profile.household_size:
            weight, weight_kind = pop["households"].to_numpy(), "households"
        else:
            weight, weight_kind = pop["residents"].to_numpy(), "residents"
        # where residents live in a community with an unknown cell is unknown too: every weight of it is nan,
        # so the reach checks give it no coverage rather than one over its known cells only
        unknown_comm = np.bincount(comm, weights=np.isnan(weight), minlength=n_comm) > 0
        weight = np.where(unknown_comm[comm], np.nan, weight)
        # communities without a population of their own take the raster's (where the raster knows it)
        fill = np.isnan(residents)
        if fill.any():
            residents = np.where(fill, res_sum, residents)
            if profile.household_size:
                households = np.where(np.isnan(households), residents / profile.household_size, households)
            n_fill = int((fill & np.isfinite(res_sum)).sum())
            if n_fill:
                warn_data(
                    "population_from_raster",
                    f"residents of {n_fill} communities taken from the "
                    f"population raster (households = residents ÷ {profile.household_size:g})",
                    file=population.source,
                    count=n_fill,
                )
        table = pd.DataFrame(
            {
                c: pop[c].to_numpy()
                for c in ("residents", "households", "cell_row", "cell_col", "cell_fraction", "area_m2")
            }
        )
        kind = "raster"
    else:
        weights, weight_kind = _sampled_weights(households, residents, boundaries, profile, options)
        res_geoms = to_crs(residential.geometry, crs) if residential is not None else None
        sampled = sample_demand(
            gpd.GeoSeries(b_metric, crs=crs), weights, spacing=options.sample_spacing, residential=res_geoms
        )
        geom = np.asarray(sampled.geometry.values, dtype=object)
        weight = sampled["weight"].to_numpy()
        comm = sampled["community"].to_numpy()
        area = sampled["area_m2"].to_numpy()
        if residential is not None:
            # residential land is the denominator: communities without any have none to measure
            area = np.where(sampled["sampled_in"].to_numpy() == "residential", area, np.nan)
        table = pd.DataFrame({"sampled_in": sampled["sampled_in"].to_numpy(), "area_m2": area})
        kind = "sampled"
    no_weight = (
        np.isnan(np.bincount(np.maximum(comm, 0), weights=np.where(comm >= 0, weight, 0), minlength=n_comm))
        if len(comm)
        else np.zeros(n_comm, bool)
    )
    return DemandPoints(
        geom=geom,
        weight=weight,
        community=comm,
        area=area,
        table=table,
        kind=kind,
        weight_kind=weight_kind,
        households=households,
        residents=residents,
        no_weight=no_weight,
        attrs=attrs,
    )


# ---------------------------------------------------------------------------------------------- snap
def snap(
    network: WalkNetwork,
    facilities: FacilitySet,
    demand: DemandPoints,
    options: Options,
    *,
    demand_snap: Any = None,
    demand_source: gpd.GeoDataFrame | None = None,
) -> Snapping:
    """Stage 3: facilities and demand on the nearest point of the nearest street (``demand_snap``: reuse it)."""
    max_snap = _max_snap(options)
    f_snap = snap_points_parallel(network, facilities.geom, max_snap)
    fresh = demand_snap is None
    d_snap = snap_points_parallel(network, demand.geom, max_snap) if fresh else demand_snap
    costs = metre_costs(network)  # a residents' access network is directed at its gates
    engine = DistanceEngine(network, f_snap) if costs is None else CostEngine(network, f_snap, costs)
    attachment = engine.attach(d_snap)
    check_web_datum(facilities.frame, network, max_snap)
    _report_snapping(facilities.frame, f_snap, "facilities", max_snap)
    if fresh:
        _report_snapping(demand_source, d_snap, "demand points", max_snap)
    return Snapping(facilities=f_snap, demand=d_snap, engine=engine, attachment=attachment)


def apply_access(network: WalkNetwork, options: Options) -> WalkNetwork:
    """The network with ``options.access_rules`` applied (itself when they are off); the DEM checked to exist.

    The rules need the OSM file the network was read from (its ``source``):
    barrier nodes and private ways are read from it again (:mod:`servicecircle.network.access`).
    """
    from pathlib import Path

    if options.dem is not None and not Path(options.dem).exists():  # checked before any work
        raise InputDataError("DEM file not found", file=options.dem, fix="check the path given for --dem / dem=")
    mode = options.access_rules
    if mode == "off":
        return network

    from ..errors import OptionError
    from ..network.access import access_network_from_file
    from ..network.osm import is_osm_file

    src = Path(network.source) if network.source else None
    if src is None or not src.exists() or not is_osm_file(src):
        raise OptionError(
            f"access_rules (--access) {mode!r} needs the network's OSM file, and this network came from "
            f"{network.source or 'memory'!r}",
            fix="load the network from an OSM XML/PBF file (sc.load_network(path)), or leave access_rules off",
        )
    # the parts cut off from the streets are dropped as the network given dropped its own (one part: largest)
    keep = options.keep_components or ("largest" if network.info.get("components", 1) == 1 else "all")
    acc = access_network_from_file(src, network.crs, mode, keep_components=keep)
    i = acc.info
    warn_data(
        "access_rules",
        f"access rules ({mode}): {i['closed_ways']} ways closed, {i['private_ways']} private ways and "
        f"{i['enclosed_ways']} ways of gated compounds, {i['closed_nodes']} closed and {i['private_nodes']} "
        f"private barriers (gates, fences) on the walking network",
        file=src,
        count=i["closed_ways"] + i["private_ways"] + i["enclosed_ways"] + i["closed_nodes"] + i["private_nodes"],
    )
    if i.get("cut_off_parts"):
        warn_data(
            "access_cut_off",
            f"{i['cut_off_parts']} parts of the walking network ({i['cut_off_m'] / 1000:.2f} km) are joined to the "
            "streets by nothing walkable once the access rules apply (behind a closed gate or way, or stray paths "
            "the access reading brings back): dropped, so the facilities and homes near them snap to the nearest "
            "connected street",
            file=src,
            count=i["cut_off_parts"],
        )
    return acc.network


def access_changes(
    original: WalkNetwork, facilities: FacilitySet, demand: DemandPoints, options: Options, distances: Distances
) -> pd.DataFrame:
    """Per category: how many demand points the access rules moved, and by how much (metres)."""
    max_snap = _max_snap(options)
    f_snap = snap_points_parallel(original, facilities.geom, max_snap)
    d_snap = snap_points_parallel(original, demand.geom, max_snap)
    engine = DistanceEngine(original, f_snap)
    att = engine.attach(d_snap)
    rows = []
    for key, after in distances.demand.items():
        before = engine.nearest(np.flatnonzero(facilities.key == key), att)
        both = np.isfinite(before) & np.isfinite(after)
        change = np.where(both, after - before, np.nan)
        moved = both & (np.abs(change) > 0.01)
        lost = np.isfinite(before) & ~np.isfinite(after)
        rows.append(
            {
                "category": key,
                "n_demand": int(np.isfinite(before).sum()),
                "n_demand_changed": int(moved.sum() + lost.sum()),
                "n_demand_farther": int((moved & (change > 0)).sum()),
                "n_demand_nearer": int((moved & (change < 0)).sum()),
                "n_demand_unreachable": int(lost.sum()),
                "mean_change_m": float(change[moved].mean()) if moved.any() else 0.0,
                "max_change_m": float(np.abs(change[moved]).max()) if moved.any() else 0.0,
            }
        )
    table = pd.DataFrame(rows, columns=list(ACCESS_CHANGE_COLUMNS))
    if len(table):
        n = int(table["n_demand_changed"].sum())
        warn_data(
            "access_changes",
            f"the access rules ({options.access_rules}) changed {n:,} distances of demand points to their nearest "
            f"facility ({int(table['n_demand_farther'].sum()):,} farther, {int(table['n_demand_nearer'].sum()):,} "
            f"nearer, by up to {table['max_change_m'].max():,.0f} m; {int(table['n_demand_unreachable'].sum()):,} "
            "now out of reach): see the access_changes table, and the access_rules warning for what was closed",
            count=max(n, 1),
        )
    return table


#: The columns of the ``access_changes`` table, per category: the demand points with a distance both before and
#: after, how many changed (farther; nearer: a home or a facility that snapped onto a closed way now snaps to an
#: open one), how many lost their every facility, and the mean (signed) and largest (absolute) change of those
#: that changed.
ACCESS_CHANGE_COLUMNS = (
    "category",
    "n_demand",
    "n_demand_changed",
    "n_demand_farther",
    "n_demand_nearer",
    "n_demand_unreachable",
    "mean_change_m",
    "max_change_m",
)


def check_web_datum(frame: gpd.GeoDataFrame, network: WalkNetwork, max_snap: float) -> None:
    """Refuse points that are really GCJ-02 / BD-09 but were declared as WGS84.

    Amap/Tencent (GCJ-02) and Baidu (BD-09) coordinates sit 300–1000 m off the
    map in Chinese cities. The test registers the points against the walking
    network: a layer is refused when, converted from GCJ-02 (or BD-09), its
    points sit on the streets (median distance ≤ 15 m, at least 60 % within
    20 m) while as declared they do not (at least twice as far, and at most half
    as many within 20 m). It is deliberately conservative: layers whose points
    are not on streets (school campuses, parks) give no verdict and pass, and so
    do points already converted from GCJ-02 (they sit where they belong).
    """
    if len(frame) < 8:
        return
    from ..coords import bd09_to_wgs84, gcj02_to_wgs84, out_of_china, transform_xy

    pts = np.asarray(frame.geometry.values, dtype=object)
    # nan for empty points; WGS84 and CGCS2000 lon/lat come back as they are (see transform_xy)
    lon, lat = transform_xy(shapely.get_x(pts), shapely.get_y(pts), frame.crs, 4326)
    use = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    if len(use) < 8 or out_of_china(float(np.mean(lon[use])), float(np.mean(lat[use]))):
        return
    if len(use) > 2000:  # a fixed, spread sample is plenty
        use = use[np.linspace(0, len(use) - 1, 2000).astype(int)]
    xy = np.column_stack(transform_xy(lon[use], lat[use], 4326, network.crs))
    cap = 2 * max_snap

    def distances(points_xy: np.ndarray) -> np.ndarray:
        d = snap_points(network, points_xy, cap, report_far=False).access  # nan beyond the cap: counted as the cap
        return np.where(np.isfinite(d), np.minimum(d, cap), cap)

    d_declared = distances(xy)
    declared = float(np.median(d_declared))
    near_declared = float(np.mean(d_declared <= 20.0))
    for datum, func in (("gcj02", gcj02_to_wgs84), ("bd09", bd09_to_wgs84)):
        x, y = func(lon[use], lat[use])
        conv = np.column_stack(transform_xy(x, y, 4326, network.crs))
        size = float(np.hypot(*np.median(conv - xy, axis=0)))
        if size < 50:
            continue
        d_conv = distances(conv)
        converted = float(np.median(d_conv))
        near_conv = float(np.mean(d_conv <= 20.0))
        if converted <= 15.0 and near_conv >= 0.6 and declared >= 2 * converted and near_declared <= near_conv / 2:
            file, layer = source_of(frame)
            name = {"gcj02": "GCJ-02 (Amap/Tencent)", "bd09": "BD-09 (Baidu)"}[datum]
            raise CRSError(
                f"these points look like {name} coordinates declared as WGS84: as declared their median "
                f"distance to the nearest street is {declared:.0f} m ({100 * near_declared:.0f}% within 20 m); "
                f"converted from {datum} ({size:.0f} m away) it is {converted:.0f} m "
                f"({100 * near_conv:.0f}% within 20 m)",
                file=file,
                layer=layer,
                fix=f"read the layer with crs='{datum}' (--facilities-crs {datum})",
            )


def _report_snapping(frame: gpd.GeoDataFrame | None, snapped: Any, what: str, max_snap: float) -> None:
    far = ~snapped.ok & np.isfinite(snapped.access)
    if far.any():
        file, layer = source_of(frame) if frame is not None else (None, None)
        first = int(np.flatnonzero(far)[0])
        n_far = int(far.sum())
        noun = what if n_far != 1 else {"facilities": "facility is", "demand points": "demand point is"}.get(what, what)
        verb = "" if n_far == 1 else " are"
        example = feature_label(frame, first) if frame is not None else f"#{first + 1}"
        warn_data(
            "unsnapped",
            f"{n_far} {noun}{verb} more than {max_snap:g} m from every street "
            f"(e.g. {example}: {snapped.access[first]:.0f} m); {'it gets' if n_far == 1 else 'they get'} no distance",
            file=file,
            layer=layer,
            count=n_far,
        )


# ---------------------------------------------------------------------------------------------- distances
def _count_key(column: str) -> str | None:
    """The category of a ``n_<key>_<r>m`` column."""
    spec = parse_column(column)
    return spec.key if spec is not None and spec.family == COUNT else None


def compute_distances(
    snapping: Snapping,
    facilities: FacilitySet,
    profile: Profile,
    options: Options,
    *,
    n_demand_comm: int,
    reuse: Distances | None = None,
    changed: frozenset[str] = frozenset(),
) -> Distances:
    """Stage 4: per category, the network distance of every node and demand point, and counts within radii.

    ``reuse``: the distances of an earlier run; its categories not in ``changed`` are kept as they are.
    """
    key_arr = facilities.key
    present = sorted(
        {k for k in key_arr if k is not None and k is not np.nan}, key=lambda k: (k not in profile.categories, k)
    )
    out = Distances(categories=present)
    reused = set()
    if reuse is not None:  # categories a scenario did not touch keep their distances and checks
        reused = {k for k in present if k in reuse.demand and k not in changed}
        for key in reused:
            out.demand[key] = reuse.demand[key]
            out.counts.update({c: v for c, v in reuse.counts.items() if _count_key(c) == key})
    todo = [k for k in present if k not in reused]
    engine, d_att = snapping.engine, snapping.attachment

    limit = setting_or("max_distance")

    def one_category(key: str) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        members = np.flatnonzero(key_arr == key)
        nd = engine.node_distances(members, limit)
        counts = {}
        radii = profile.thresholds(key) if key in profile.categories else ()
        if radii:
            _, t_idx, dd = engine.within(members, d_att, max(radii))
            for r in radii:
                ok = within(dd, r)
                counts[count_column(key, r)] = np.bincount(t_idx[ok], minlength=n_demand_comm)
        dist = engine.point_distances(nd, d_att)
        if limit is not None:  # beyond the bound a point's distance is not known (it may be shorter)
            dist[dist > limit] = np.inf
        return nd, dist, counts

    n_workers = workers_for(engine.n_graph_nodes * len(todo))
    if n_workers > 1:
        engine.prepare_within(d_att)  # indexes built once, before the children share them
    results = bar(
        pmap(one_category, todo, n_workers),
        total=len(todo),
        desc="distances",
        unit="category",
        progress=options.progress,
    )
    for key, (nd, dist, counts) in zip(todo, results):
        out.nodes[key], out.demand[key] = nd, dist
        out.counts.update(counts)
        if n_workers > 1:  # computed in a worker: later checks that ask for the same search find it
            engine.remember(np.flatnonzero(key_arr == key), limit, nd)
    return out


# ---------------------------------------------------------------------------------------------- checks
def run_checks(
    network: WalkNetwork,
    profile: Profile,
    options: Options,
    prepared: Prepared,
    demand: DemandPoints,
    snapping: Snapping,
    distances: Distances,
    *,
    greenspace: gpd.GeoDataFrame | None = None,
    entrances: gpd.GeoDataFrame | None = None,
    lattice_store: Any = None,
    elevation: Any = None,
    reuse: Any = None,
    reused_outcomes: list[CheckOutcome] | None = None,
) -> tuple[list[CheckOutcome], Context, frozenset[str]]:
    """Stage 5: every check of the profile, then the gap polygons of the failing ones.

    Returns the outcomes, the context they were computed in, and the keys of
    the green-space outcomes (which a scenario keeps as they are).

    ``reuse`` (a :class:`~servicecircle.assessment.state.RunState`) and
    ``reused_outcomes`` (its assessment's checks) come from a scenario: its
    gap grid and green-space results are kept, and so are the life-circle
    outcomes of the categories whose distances were reused.
    """
    fac = prepared.facilities
    ctx = Context(
        profile=profile,
        network=network,
        engine=snapping.engine,
        max_snap=_max_snap(options),
        progress=options.progress,
        boundaries=prepared.boundaries,
        comm_geom=prepared.comm_geom,
        comm_ids=prepared.comm_ids,
        households=demand.households,
        residents=demand.residents,
        facilities=fac.frame,
        fac_geom=fac.geom,
        fac_key=fac.key,
        fac_snap=snapping.facilities,
        d_geom=demand.geom,
        d_weight=demand.weight,
        d_comm=demand.community,
        d_snap=snapping.demand,
        d_att=snapping.attachment,
        weight_kind=demand.weight_kind,
        d_area=demand.area,
        gap_resolution_m=options.gap_resolution,
        fac_columns={
            "floor_area": options.floor_area_column,
            "build_type": options.build_type_column,
            "places": options.places_column,
            "area": options.area_column,
        },
        fac_comm=assign_to_communities(fac.geom, prepared.comm_geom),
        node_dist=dict(distances.nodes),
        grid=reuse.gap_grid if reuse is not None else None,
        lattice_store=lattice_store,
        options=options,
        elevation=elevation,
        comm_type=prepared.types.types if prepared.types is not None else None,
        comm_units=dict(prepared.units.codes) if prepared.units is not None else {},
        unit_names=dict(prepared.units.names) if prepared.units is not None else {},
        compounds=prepared.compounds,
    )
    present = distances.categories
    fresh_keys = [k for k in present if k in distances.nodes]
    fresh = {o.key: o for o in lifecircle_checks(ctx, fresh_keys)}
    old_lc = {o.key: o for o in (reused_outcomes or []) if o.kind == "lifecircle"}
    outcomes = [fresh[k] if k in fresh else old_lc[k] for k in present if k in fresh or k in old_lc]
    if reuse is not None:  # green spaces are not part of a facility scenario
        outcomes += [o for o in (reused_outcomes or []) if o.key in reuse.green_keys]
        ctx.destinations.update(reuse.destinations)
    else:
        outcomes += greenspace_checks(ctx, greenspace, entrances)
    green_keys = frozenset(o.key for o in outcomes if o.kind != "lifecircle")
    outcomes += time_checks(ctx)
    trace_gaps(ctx, outcomes)
    for kind in CHECK_KINDS:
        outcomes += kind(ctx)
    add_service_areas(ctx, outcomes)
    absent = [k for k, c in profile.categories.items() if c.check and k not in present]
    if absent:
        warn_data(
            "category_absent",
            f"{len(absent)} categories of profile '{profile.key}' have no "
            f"facility in the input and were not assessed: {', '.join(absent[:12])}"
            f"{' ...' if len(absent) > 12 else ''}",
            count=len(absent),
        )
    return outcomes, ctx, green_keys


# ---------------------------------------------------------------------------------------------- frames
def community_frame(
    prepared: Prepared,
    demand: DemandPoints,
    outcomes: list[CheckOutcome],
    crs: Any,
    *,
    id_column: str | None,
    input_names: dict[str, dict[str, str]] | None = None,
) -> gpd.GeoDataFrame:
    """Every input community with every input column, its demand totals and every check's columns.

    ``input_names`` (filled when given): ``"communities"`` → output column → input column.
    """
    n_comm = prepared.n_comm
    d_comm, d_weight = demand.community, demand.weight
    total = np.bincount(
        np.maximum(d_comm, 0), weights=np.where((d_comm >= 0) & np.isfinite(d_weight), d_weight, 0), minlength=n_comm
    )
    n_dem = np.bincount(d_comm[d_comm >= 0], minlength=n_comm)
    nodata = (n_dem == 0) | demand.no_weight | (total <= 0)
    if nodata.any():
        boundaries = prepared.boundaries
        file, layer = source_of(boundaries)
        first = int(np.flatnonzero(nodata)[0])
        n_nd = int(nodata.sum())
        warn_data(
            "no_demand",
            f"{counted(n_nd, 'community has', 'communities have')} no demand data "
            "(no households/residents or no demand point) and get no pass/fail",
            file=file,
            layer=layer,
            feature=feature_label(boundaries, first, id_column),
            count=n_nd,
        )
    written = {"weight_total", "weight_kind", "n_demand", "checks_assessed", "checks_failed", "worst_cov"}
    written |= {k for o in outcomes for k in o.columns}
    unit_columns = _unit_columns(prepared)
    written |= set(unit_columns)
    comm_out, names = keep_input_columns(to_crs(prepared.boundaries, crs), written, source=prepared.boundaries)
    if input_names is not None:
        input_names["communities"] = names
    comm_out["weight_total"] = np.where(nodata, np.nan, total)
    comm_out["weight_kind"] = demand.weight_kind
    comm_out["n_demand"] = n_dem
    for k, v in unit_columns.items():
        comm_out[k] = v
    for o in outcomes:
        for k, v in o.columns.items():
            comm_out[k] = v
    pass_cols = [o.pass_col for o in outcomes if o.pass_col]
    if pass_cols:
        passes = np.column_stack([np.asarray(comm_out[c].astype("float")) for c in pass_cols])
        comm_out["checks_assessed"] = np.isfinite(passes).sum(axis=1)
        comm_out["checks_failed"] = (passes == 0).sum(axis=1)
    else:
        comm_out["checks_assessed"] = 0
        comm_out["checks_failed"] = 0
    covs = [comm_out[o.cov_col].to_numpy() for o in outcomes if o.cov_col]
    if covs:
        stacked = np.column_stack(covs)
        with np.errstate(all="ignore"):
            comm_out["worst_cov"] = np.where(
                np.isfinite(stacked).any(axis=1),
                np.nanmin(np.where(np.isfinite(stacked), stacked, np.inf), axis=1),
                np.nan,
            )
    else:
        comm_out["worst_cov"] = np.nan
    comm_out.attrs = dict(prepared.boundaries.attrs)
    return comm_out


def _unit_columns(prepared: Prepared) -> dict[str, np.ndarray]:
    """``community_type``, ``community_type_rule`` and each level's ``<level>_code`` / ``<level>_name``."""
    out: dict[str, np.ndarray] = {}
    if prepared.types is not None:
        out["community_type"] = prepared.types.types
        out["community_type_rule"] = prepared.types.rules
    if prepared.units is not None:
        for level, codes in prepared.units.codes.items():
            if all(c is None for c in codes):
                continue
            names = prepared.units.names.get(level, {})
            out[f"{level}_code"] = codes
            out[f"{level}_name"] = np.array([None if c is None else names.get(c, c) for c in codes], dtype=object)
    return out


def unit_layers(comm_out: gpd.GeoDataFrame, prepared: Prepared, crs: Any) -> dict[str, pd.DataFrame]:
    """The roll-up to every unit level: a ``units_<level>`` layer per level, and the long ``rollup`` table.

    Geometry: the user's unit polygons where the level came from them, else the union of the unit's
    communities. See :mod:`servicecircle.checks.rollup`.
    """
    from ..checks.rollup import rollup_table, unit_frame
    from ..inputs.units import UNIT_LEVELS
    from ..schema import unit_layer

    units = prepared.units
    if units is None:
        return {}
    levels = {
        lv: units.codes[lv] for lv in UNIT_LEVELS if lv in units.codes and any(c is not None for c in units.codes[lv])
    }
    if not levels:
        return {}
    table = rollup_table(comm_out, levels, units.names)
    types = prepared.types.types if prepared.types is not None else None
    out: dict[str, pd.DataFrame] = {}
    geoms = np.asarray(comm_out.geometry.values, dtype=object)
    order = list(levels)
    for i, level in enumerate(order):
        codes = levels[level]
        parents = levels[order[i + 1]] if i + 1 < len(order) else None
        frame = unit_frame(
            comm_out, level, codes, units.names.get(level), table, types=types, parents=parents,
            kinds=units.kinds.get(level),
        )  # fmt: skip
        user = units.geometry.get(level)
        if user:
            shapes = gpd.GeoSeries([user.get(u) for u in frame["unit_code"]], crs=units.crs)
            geometry = to_crs(shapes, crs).values
        else:
            members: dict[str, list[int]] = {}
            for i, c in enumerate(codes):
                if c is not None:
                    members.setdefault(str(c), []).append(i)
            geometry = [shapely.union_all(geoms[members[u]]) if u in members else None for u in frame["unit_code"]]
        out[unit_layer(level)] = gpd.GeoDataFrame(frame, geometry=list(geometry), crs=crs)
    out["rollup"] = table
    return out


def demand_frame(
    prepared: Prepared,
    demand: DemandPoints,
    snapping: Snapping,
    distances: Distances,
    outcomes: list[CheckOutcome],
    crs: Any,
    *,
    input_names: dict[str, dict[str, str]] | None = None,
) -> gpd.GeoDataFrame:
    """Every demand point with its attributes, community, weight, snapping, distances and counts."""
    comm_ids = prepared.comm_ids
    d_frame = demand.table.reset_index(drop=True)
    if demand.kind == "layer":  # the user's columns; the other kinds' columns are servicecircle's own
        written = {"community_id", "weight", "snap_m", "snapped", *distances.counts}
        written |= {distance_column(k) for k in distances.categories} | {k for o in outcomes for k in o.demand_columns}
        source = pd.DataFrame()
        source.attrs.update(demand.attrs)
        d_frame, names = keep_input_columns(d_frame, written, source=source)
        if input_names is not None:
            input_names["demand"] = names
    d_frame["community_id"] = pd.array([comm_ids[k] if k >= 0 else None for k in demand.community], dtype=object)
    d_frame["weight"] = demand.weight
    d_frame["snap_m"] = snapping.demand.access
    d_frame["snapped"] = snapping.demand.ok
    for key in distances.categories:
        col = distances.demand[key]
        d_frame[distance_column(key)] = np.where(np.isfinite(col), col, np.nan)
    for k, v in distances.counts.items():
        d_frame[k] = v
    for o in outcomes:
        for k, v in o.demand_columns.items():
            d_frame[k] = v
    d_frame = gpd.GeoDataFrame(d_frame, geometry=gpd.GeoSeries(demand.geom, crs=crs), crs=crs)
    d_frame.attrs = {"kind": demand.kind, **demand.attrs}
    return d_frame


def facility_frame(
    prepared: Prepared,
    snapping: Snapping,
    fac_comm: np.ndarray,
    crs: Any,
    *,
    input_names: dict[str, dict[str, str]] | None = None,
) -> gpd.GeoDataFrame:
    """Every input facility with its attributes, category key, snapping and community."""
    fac = prepared.facilities
    comm_ids = prepared.comm_ids
    written = {"category_key", "in_profile", "snap_m", "snapped", "community_id"}
    f_frame, names = keep_input_columns(to_crs(fac.frame, crs), written, source=fac.frame)
    if input_names is not None:
        input_names["facilities"] = names
    f_frame["category_key"] = fac.key
    f_frame["in_profile"] = fac.in_profile
    f_frame["snap_m"] = snapping.facilities.access
    f_frame["snapped"] = snapping.facilities.ok
    f_frame["community_id"] = pd.array([comm_ids[k] if k >= 0 else None for k in fac_comm], dtype=object)
    f_frame.attrs = dict(fac.frame.attrs)
    outside = (fac_comm < 0) & ~(shapely.is_missing(fac.geom) | shapely.is_empty(fac.geom))
    if outside.any():
        file, layer = source_of(fac.frame)
        n_out = int(outside.sum())
        warn_data(
            "facility_outside",
            f"{counted(n_out, 'facility lies', 'facilities lie')} outside "
            f"every community boundary; {'it still serves' if n_out == 1 else 'they still serve'} the "
            f"communities {'it' if n_out == 1 else 'they'} can reach",
            file=file,
            layer=layer,
            feature=feature_label(fac.frame, int(np.flatnonzero(outside)[0])),
            count=n_out,
        )
    return f_frame


def gap_frame(outcomes: list[CheckOutcome], crs: Any) -> gpd.GeoDataFrame:
    """One row per failed check and community, with the uncovered part as its geometry.

    Each check leaves its gaps as columns (:func:`servicecircle.checks.gaps.trace_gaps`): one value for
    all its rows, or an array.
    """
    cols = [*GAP_COLUMNS, "geometry"]
    parts = [
        pd.DataFrame({c: t.get(c, np.nan) for c in cols}, index=pd.RangeIndex(len(t["geometry"])))
        for o in outcomes
        for t in o.gaps
        if len(t["geometry"])
    ]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    return gpd.GeoDataFrame(frame, columns=cols, geometry="geometry", crs=crs)


def scorecard_table(outcomes: list[CheckOutcome]) -> pd.DataFrame:
    """The citywide targets, one row each."""
    return pd.DataFrame([r for o in outcomes for r in o.scorecard], columns=SCORECARD_COLUMNS)


def summary_table(outcomes: list[CheckOutcome], scorecard: pd.DataFrame) -> pd.DataFrame:
    """One row per check (its citywide score alongside), then citywide-only targets."""
    rows = []
    scored = scorecard.set_index("target_key") if len(scorecard) else None
    used = set()
    for o in outcomes:
        if not o.summary:
            continue
        row = {c: o.summary.get(c) for c in SUMMARY_COLUMNS}
        row.update({c: o.summary[c] for c in SUMMARY_TIME_COLUMNS if c in o.summary})
        key = o.summary.get("check", o.key)
        if scored is not None and key in scored.index:
            sc_row = scored.loc[key]
            sc_row = sc_row.iloc[0] if isinstance(sc_row, pd.DataFrame) else sc_row
            row.update(
                {
                    "city_value": sc_row["value"],
                    "city_unit": sc_row["unit"],
                    "city_target": sc_row["target"],
                    "city_passed": sc_row["passed"],
                    "method": sc_row["method"],
                }
            )
            used.add(key)
        rows.append(row)
    for _, r in scorecard.iterrows():
        if r["target_key"] in used:
            continue
        rows.append(
            {
                "check": r["target_key"],
                "kind": "citywide",
                "category": r["target_key"],
                "name_zh": r["name_zh"],
                "name_en": r["name_en"],
                "source": r["source"],
                "confirmed": r["confirmed"],
                "city_value": r["value"],
                "city_unit": r["unit"],
                "city_target": r["target"],
                "city_passed": r["passed"],
                "method": r["method"],
            }
        )
    timed = [c for c in SUMMARY_TIME_COLUMNS if any(c in r for r in rows)]  # only runs with checks in minutes
    return pd.DataFrame(rows, columns=[*SUMMARY_COLUMNS, *timed, *SUMMARY_CITY_COLUMNS])
