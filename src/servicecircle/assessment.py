"""Assess communities against a standards profile: the whole pipeline in memory.

``assess`` takes GeoDataFrames (any CRS) and a :class:`WalkNetwork` and returns an
:class:`Assessment` of GeoDataFrames and tables; nothing here reads or writes
files (see :mod:`servicecircle.pipeline` and :mod:`servicecircle.outputs`).
"""

from __future__ import annotations

import difflib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import settings
from ._parallel import pmap, workers_for
from ._progress import bar
from .checks import CheckOutcome, Context, lifecircle_checks, within
from .checks.floorarea import floor_area_checks
from .checks.gaps import trace_gaps
from .checks.greenspace import greenspace_checks
from .checks.indicators import indicator_checks
from .checks.sixones import six_ones_checks
from .coords import to_crs
from .demand import assign_to_communities, sample_demand
from .engine import DistanceEngine, snap_points
from .engine.snapping import snap_points_parallel
from .errors import CRSError, InputDataError, collect_warnings, warn_data
from .inputs.layers import feature_label, source_of
from .inputs.prepare import numeric_column, prepare_boundaries, prepare_facilities, prepare_points, require_column
from .network.model import WalkNetwork
from .profiles import Profile, load_profile

__all__ = ["Assessment", "assess", "category_slug"]


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


def _summary_table(outcomes: list[CheckOutcome], scorecard: pd.DataFrame) -> pd.DataFrame:
    """One row per check (its citywide score alongside), then citywide-only targets."""
    rows = []
    scored = scorecard.set_index("target_key") if len(scorecard) else None
    used = set()
    for o in outcomes:
        if not o.summary:
            continue
        row = {c: o.summary.get(c) for c in SUMMARY_COLUMNS}
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
    return pd.DataFrame(
        rows, columns=SUMMARY_COLUMNS + ["city_value", "city_unit", "city_target", "city_passed", "method"]
    )


def category_slug(value: str) -> str:
    """A column-safe key for a category name the profile does not know.

    >>> category_slug("Food Market ")
    'food_market'
    >>> category_slug("菜市场")
    '菜市场'
    """
    text = re.sub(r"[^\w]+", "_", str(value).strip().lower(), flags=re.UNICODE).strip("_")
    return text or "unnamed"


@dataclass
class Assessment:
    """Everything an assessment produced; GeoDataFrames are in the network's metric CRS.

    Attributes
    ----------
    communities
        Every input boundary with every input attribute, plus ``weight_total``,
        ``n_demand`` and, per check, ``cov_<cat>`` (percent of weight within
        reach), ``pass_<cat>`` and ``unc_<cat>`` (weight out of reach), and
        ``checks_assessed``, ``checks_failed``, ``worst_cov``.
    demand
        Every demand point with its attributes, ``community_id``, ``weight``,
        ``snap_m``, ``snapped`` and per category ``dist_<cat>`` (metres, empty
        where unreachable) and ``n_<cat>_<r>m`` (facilities within each radius).
    facilities
        Every input facility with its attributes, ``category_key``,
        ``in_profile``, ``snap_m``, ``snapped`` and ``community_id``.
    gaps
        One row per failed check and community: the uncovered part of the
        community (``None`` if the grid found no uncovered cell).
    summary
        One row per check, citywide.
    warnings
        Every data warning raised, one row each.
    """

    communities: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    summary: pd.DataFrame
    warnings: pd.DataFrame
    checks: list[CheckOutcome]
    scorecard: pd.DataFrame
    profile: Profile
    network: WalkNetwork
    parameters: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    id_column: str = "community_id"
    name_column: str | None = None
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    #: what a scenario can reuse (demand, snapping, grid, outcomes); not exported
    state: dict[str, Any] = field(default_factory=dict, repr=False)

    def map(self, **kwargs: Any):
        """The interactive gap map (a ``folium.Map``); see :func:`servicecircle.outputs.gap_map`."""
        from .outputs.gapmap import gap_map

        return gap_map(self, **kwargs)

    def save(self, out_dir: str | Path, **kwargs: Any) -> dict[str, Path]:
        """Write ``shortfall.gpkg``, ``gap_map.html`` and ``summary.csv`` to ``out_dir``."""
        from .outputs import save_assessment

        return save_assessment(self, out_dir, **kwargs)

    def __repr__(self) -> str:
        failed = int((self.summary["communities_failed"] > 0).sum()) if len(self.summary) else 0
        return (
            f"<Assessment {len(self.communities)} communities, {len(self.facilities)} facilities, "
            f"{len(self.demand)} demand points, {len(self.checks)} checks ({failed} with failures), "
            f"profile {self.profile.key!r}>"
        )


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
    h = (
        numeric_column(boundaries, households_column, "households", id_column=id_column)
        if has_h
        else np.full(n, np.nan)
    )
    r = numeric_column(boundaries, residents_column, "residents", id_column=id_column) if has_r else np.full(n, np.nan)
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


def _sampled_weights(households, residents, boundaries, profile, households_column, residents_column):
    """The per-community weight sampled demand carries, as the profile's weight asks."""
    weights = households if profile.weight == "households" else residents
    if np.isnan(weights).all():
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


def _match_categories(facilities: gpd.GeoDataFrame, category_column: str, profile: Profile):
    raw = facilities[category_column]
    keys = np.empty(len(raw), dtype=object)
    in_profile = np.zeros(len(raw), dtype=bool)
    unknown: dict[str, int] = {}
    cache: dict[str, tuple[str | None, bool]] = {}
    for i, value in enumerate(raw.to_numpy()):
        if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
            keys[i] = None
            continue
        text = str(value)
        if text not in cache:
            cat = profile.category_for(text)
            cache[text] = (cat.key, True) if cat is not None else (category_slug(text), False)
        keys[i], in_profile[i] = cache[text]
        if not in_profile[i]:
            unknown[text] = unknown.get(text, 0) + 1
    if unknown:
        file, layer = source_of(facilities)
        listed = ", ".join(f"'{k}' ({n})" for k, n in sorted(unknown.items())[:8])
        warn_data(
            "category_not_in_profile",
            f"{len(unknown)} facility categories are not in profile "
            f"'{profile.key}': {listed}; their distances are computed but not checked",
            file=file,
            layer=layer,
            count=sum(unknown.values()),
        )
    return keys, in_profile


def assess(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    network: WalkNetwork,
    *,
    profile: Profile | str | Path | None = None,
    demand: gpd.GeoDataFrame | None = None,
    population: str | Path | None = None,
    id_column: str | None = None,
    name_column: str | None = None,
    category_column: str = "category",
    households_column: str | None = "households",
    residents_column: str | None = "residents",
    weight_column: str | None = None,
    floor_area_column: str | None = "floor_area_m2",
    build_type_column: str | None = "build_type",
    places_column: str | None = "places",
    area_column: str | None = "area_m2",
    residential: gpd.GeoDataFrame | None = None,
    greenspace: gpd.GeoDataFrame | None = None,
    entrances: gpd.GeoDataFrame | None = None,
    max_snap: float | None = None,
    sample_spacing: float | None = None,
    gap_resolution_m: float | None = None,
    progress: bool | None = None,
    _reuse: Assessment | None = None,
    _changed: set[str] | None = None,
) -> Assessment:
    """Check every community against the profile's life-circle standards.

    Parameters
    ----------
    communities
        Community boundaries (polygons, any CRS) with, unless ``demand`` is
        given, a households and/or residents column.
    facilities
        Facility points (polygons are replaced by a point inside) with a
        category column whose values are profile keys or aliases
        (``kindergarten``, ``幼儿园`` ...).
    network
        The walking network (:func:`servicecircle.load_network`).
    profile
        A :class:`Profile`, a shipped profile name or a TOML file (default:
        the Meishan plan).
    demand
        Optional demand points (buildings, households, raster cells). Without
        it, demand is sampled inside the communities (see
        :mod:`servicecircle.demand`).
    population
        Optional population raster (GeoTIFF, e.g. WorldPop 100 m): one demand
        point per raster cell (per piece, where a boundary splits a cell)
        carrying its residents (see :mod:`servicecircle.population`).
    id_column, name_column
        Community id and name columns (the id must be unique; default: the
        row number, 1-based).
    category_column
        Facility category column.
    households_column, residents_column
        Community columns used for sampled demand.
    weight_column
        Demand layer weight column (each point counts 1 when omitted).
    floor_area_column, build_type_column, places_column, area_column
        Facility columns used by the floor-area check and the per-resident
        indicators, where the input has them: floor area (m²), whether a site is
        new or rebuilt/extended/bought/leased, childcare places, site area (m²).
    residential
        Optional residential-land polygons: sampled demand stays inside them.
    greenspace, entrances
        Green-space polygons for the green and park reach checks, and
        optionally their mapped entrances (see :mod:`servicecircle.checks.greenspace`).
    max_snap, sample_spacing, gap_resolution_m
        Override ``settings.max_snap``, ``settings.sample_spacing`` and
        ``settings.gap_resolution``.
    progress
        Show progress bars.

    Returns
    -------
    Assessment

    Examples
    --------
    >>> import servicecircle as sc  # doctest: +SKIP
    >>> result = sc.assess(communities, facilities, network, id_column="code")  # doctest: +SKIP
    >>> result.summary  # doctest: +SKIP
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    max_snap = settings.max_snap if max_snap is None else float(max_snap)
    crs = network.crs
    with collect_warnings() as log:
        # ---------------------------------------------------------------- inputs
        # frames read with read_boundaries / read_facilities are checked already (and warned about once)
        boundaries = (
            communities
            if communities.attrs.get("prepared") == ("boundaries", id_column)
            else prepare_boundaries(communities, id_column=id_column)
        )
        if name_column is not None:
            require_column(boundaries, name_column, "community name", "name_column= / --name-column")
        fac = (
            facilities
            if facilities.attrs.get("prepared") == ("facilities", category_column)
            else prepare_facilities(facilities, category_column=category_column)
        )
        for frame, what in ((boundaries, "boundaries"), (fac, "facilities")):
            if frame.crs is None:
                file, layer = source_of(frame)
                raise CRSError(
                    f"the {what} have no coordinate system",
                    file=file,
                    layer=layer,
                    fix="set one (GeoDataFrame.set_crs) or read the file with crs=",
                )
        b_metric = np.asarray(to_crs(boundaries.geometry, crs).values, dtype=object)
        f_metric = np.asarray(to_crs(fac.geometry, crs).values, dtype=object)
        n_comm = len(boundaries)
        comm_ids = boundaries[id_column].to_numpy() if id_column else np.arange(1, n_comm + 1)
        cat_key, in_profile = _match_categories(fac, category_column, prof)

        # ---------------------------------------------------------------- demand
        st = _reuse.state if _reuse is not None else None
        if st is None:
            comm_households, comm_residents = community_population(
                boundaries, prof, households_column, residents_column, id_column
            )
        d_area = None
        if st is not None:  # a scenario: the people did not move
            comm_households, comm_residents = st["households"], st["residents"]
            d_metric, d_weight, d_comm, d_area = st["d_metric"], st["d_weight"], st["d_comm"], st["d_area"]
            demand_out, demand_kind, weight_kind = st["demand_out"], st["demand_kind"], st["weight_kind"]
        elif demand is not None:
            dem = prepare_points(demand, "demand points")
            if dem.crs is None:
                file, layer = source_of(dem)
                raise CRSError(
                    "the demand points have no coordinate system",
                    file=file,
                    layer=layer,
                    fix="set one, or read the file with crs=",
                )
            d_metric = np.asarray(to_crs(dem.geometry, crs).values, dtype=object)
            if weight_column is not None:
                require_column(dem, weight_column, "demand weight", "weight_column= / --weight-column")
                d_weight = numeric_column(dem, weight_column, "demand weight")
            else:
                d_weight = np.ones(len(dem))
                file, layer = source_of(dem)
                warn_data(
                    "unit_weight", "no demand weight column: every demand point counts as 1", file=file, layer=layer
                )
            d_comm = assign_to_communities(d_metric, b_metric)
            outside = d_comm < 0
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
            demand_out = dem.drop(columns=dem.geometry.name).copy()
            demand_kind = "layer"
            weight_kind = weight_column or "count"
        elif population is not None:
            from .population import population_demand

            pop = population_demand(population, gpd.GeoSeries(b_metric, crs=crs), household_size=prof.household_size)
            d_metric = np.asarray(pop.geometry.values, dtype=object)
            d_comm = pop["community"].to_numpy()
            res_sum = np.bincount(d_comm, weights=pop["residents"].to_numpy(), minlength=n_comm)
            if prof.weight == "households" and prof.household_size:
                d_weight, weight_kind = pop["households"].to_numpy(), "households"
            else:
                d_weight, weight_kind = pop["residents"].to_numpy(), "residents"
            # communities without a population of their own take the raster's
            fill = np.isnan(comm_residents)
            if fill.any():
                comm_residents = np.where(fill, res_sum, comm_residents)
                if prof.household_size:
                    comm_households = np.where(
                        np.isnan(comm_households), comm_residents / prof.household_size, comm_households
                    )
                warn_data(
                    "population_from_raster",
                    f"residents of {int(fill.sum())} communities taken from the "
                    f"population raster (households = residents ÷ {prof.household_size:g})",
                    file=str(population),
                    count=int(fill.sum()),
                )
            demand_out = pd.DataFrame(
                {
                    c: pop[c].to_numpy()
                    for c in ("residents", "households", "cell_row", "cell_col", "cell_fraction", "area_m2")
                }
            )
            demand_kind = "raster"
        else:
            weights, weight_kind = _sampled_weights(
                comm_households, comm_residents, boundaries, prof, households_column, residents_column
            )
            res_geoms = None
            if residential is not None:
                res_geoms = to_crs(residential.geometry, crs)
            sampled = sample_demand(
                gpd.GeoSeries(b_metric, crs=crs), weights, spacing=sample_spacing, residential=res_geoms
            )
            d_metric = np.asarray(sampled.geometry.values, dtype=object)
            d_weight = sampled["weight"].to_numpy()
            d_comm = sampled["community"].to_numpy()
            d_area = sampled["area_m2"].to_numpy()
            if residential is not None:
                # residential land is the denominator: communities without any have none to measure
                d_area = np.where(sampled["sampled_in"].to_numpy() == "residential", d_area, np.nan)
            demand_out = pd.DataFrame({"sampled_in": sampled["sampled_in"].to_numpy(), "area_m2": d_area})
            demand_kind = "sampled"
        no_weight = (
            np.isnan(np.bincount(np.maximum(d_comm, 0), weights=np.where(d_comm >= 0, d_weight, 0), minlength=n_comm))
            if len(d_comm)
            else np.zeros(n_comm, bool)
        )
        timings["inputs"] = time.perf_counter() - t0

        # ----------------------------------------------------------- snapping
        t = time.perf_counter()
        f_snap = snap_points_parallel(network, f_metric, max_snap)
        d_snap = st["d_snap"] if st is not None else snap_points_parallel(network, d_metric, max_snap)
        engine = DistanceEngine(network, f_snap)
        d_att = engine.attach(d_snap)
        timings["snapping"] = time.perf_counter() - t
        _check_web_datum(fac, f_snap, network, max_snap)
        _report_snapping(fac, f_snap, "facilities", max_snap)
        if st is None:
            _report_snapping(demand if demand is not None else None, d_snap, "demand points", max_snap)

        # ----------------------------------------------------------- distances
        t = time.perf_counter()
        present = sorted(
            {k for k in cat_key if k is not None and k is not np.nan}, key=lambda k: (k not in prof.categories, k)
        )
        dist_cols: dict[str, np.ndarray] = {}
        count_cols: dict[str, np.ndarray] = {}
        node_dist: dict[str, np.ndarray] = {}
        reused = set()
        if st is not None:  # categories the scenario did not touch keep their distances and checks
            reused = {k for k in present if k in st["dist"] and k not in (_changed or set())}
            for key in reused:
                dist_cols[key] = st["dist"][key]
                count_cols.update({c: v for c, v in st["counts"].items() if c.startswith(f"n_{key}_")})
        todo = [k for k in present if k not in reused]

        def one_category(key: str):
            members = np.flatnonzero(cat_key == key)
            nd = engine.node_distances(members, settings.max_distance)
            counts = {}
            radii = prof.thresholds(key) if key in prof.categories else ()
            if radii:
                s_idx, t_idx, dd = engine.within(members, d_att, max(radii))
                for r in radii:
                    ok = within(dd, r)
                    counts[f"n_{key}_{r:g}m"] = np.bincount(t_idx[ok], minlength=len(d_comm))
            return nd, engine.point_distances(nd, d_att), counts

        n_workers = workers_for(engine.n_graph_nodes * len(todo))
        if n_workers > 1:
            engine.prepare_within(d_att)  # indexes built once, before the children share them
        results = bar(
            pmap(one_category, todo, n_workers), total=len(todo), desc="distances", unit="category", progress=progress
        )
        for key, (nd, dist, counts) in zip(todo, results):
            node_dist[key], dist_cols[key] = nd, dist
            count_cols.update(counts)
        timings["distances"] = time.perf_counter() - t

        # ----------------------------------------------------------- checks
        t = time.perf_counter()
        f_comm = assign_to_communities(f_metric, b_metric)
        ctx = Context(
            profile=prof,
            network=network,
            engine=engine,
            max_snap=max_snap,
            progress=progress,
            boundaries=boundaries,
            comm_geom=b_metric,
            comm_ids=comm_ids,
            households=comm_households,
            residents=comm_residents,
            facilities=fac,
            fac_geom=f_metric,
            fac_key=cat_key,
            fac_snap=f_snap,
            d_geom=d_metric,
            d_weight=d_weight,
            d_comm=d_comm,
            d_snap=d_snap,
            d_att=d_att,
            weight_kind=weight_kind,
            d_area=d_area,
            gap_resolution_m=gap_resolution_m,
        )
        ctx._node_dist.update(node_dist)
        ctx.fac_columns = {
            "floor_area": floor_area_column,
            "build_type": build_type_column,
            "places": places_column,
            "area": area_column,
        }
        ctx.fac_comm = f_comm
        if st is not None:
            ctx._gap_grid = st["gap_grid"]
        outcomes: list[CheckOutcome] = []
        fresh = {o.key: o for o in lifecircle_checks(ctx, [k for k in present if k not in reused])}
        old_lc = {o.key: o for o in _reuse.checks if o.kind == "lifecircle"} if _reuse is not None else {}
        outcomes += [fresh[k] if k in fresh else old_lc[k] for k in present if k in fresh or k in old_lc]
        if st is not None:  # green spaces are not part of a facility scenario
            outcomes += [o for o in _reuse.checks if o.key in st["green_keys"]]
            ctx.destinations.update(st["destinations"])
        else:
            outcomes += greenspace_checks(ctx, greenspace, entrances)
        green_keys = [o.key for o in outcomes if o.kind != "lifecircle"]
        trace_gaps(ctx, outcomes)
        outcomes += floor_area_checks(ctx)
        outcomes += six_ones_checks(ctx)
        outcomes += indicator_checks(ctx)
        absent = [k for k, c in prof.categories.items() if c.check and k not in present]
        if absent:
            warn_data(
                "category_absent",
                f"{len(absent)} categories of profile '{prof.key}' have no "
                f"facility in the input and were not assessed: {', '.join(absent[:12])}"
                f"{' ...' if len(absent) > 12 else ''}",
                count=len(absent),
            )
        total = np.bincount(
            np.maximum(d_comm, 0),
            weights=np.where((d_comm >= 0) & np.isfinite(d_weight), d_weight, 0),
            minlength=n_comm,
        )
        n_dem = np.bincount(d_comm[d_comm >= 0], minlength=n_comm)
        nodata = (n_dem == 0) | no_weight | (total <= 0)
        if nodata.any():
            file, layer = source_of(boundaries)
            first = int(np.flatnonzero(nodata)[0])
            n_nd = int(nodata.sum())
            warn_data(
                "no_demand",
                f"{n_nd} {'community has' if n_nd == 1 else 'communities have'} no demand data "
                "(no households/residents or no demand point) and get no pass/fail",
                file=file,
                layer=layer,
                feature=feature_label(boundaries, first, id_column),
                count=n_nd,
            )
        timings["checks"] = time.perf_counter() - t
        if ctx._gap_grid is not None:
            timings["gap_grid_m"] = ctx._gap_grid.res

        # ----------------------------------------------------------- frames
        comm_out = to_crs(boundaries, crs)
        comm_out["weight_total"] = np.where(nodata, np.nan, total)
        comm_out["weight_kind"] = weight_kind
        comm_out["n_demand"] = n_dem
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
            covs = np.column_stack(covs)
            with np.errstate(all="ignore"):
                comm_out["worst_cov"] = np.where(
                    np.isfinite(covs).any(axis=1), np.nanmin(np.where(np.isfinite(covs), covs, np.inf), axis=1), np.nan
                )
        else:
            comm_out["worst_cov"] = np.nan
        comm_out.attrs = dict(boundaries.attrs)

        d_frame = demand_out.reset_index(drop=True)
        d_frame["community_id"] = pd.array([comm_ids[k] if k >= 0 else None for k in d_comm], dtype=object)
        d_frame["weight"] = d_weight
        d_frame["snap_m"] = d_snap.access
        d_frame["snapped"] = d_snap.ok
        for key in present:
            col = dist_cols[key]
            d_frame[f"dist_{key}"] = np.where(np.isfinite(col), col, np.nan)
        for k, v in count_cols.items():
            d_frame[k] = v
        for o in outcomes:
            for k, v in o.demand_columns.items():
                d_frame[k] = v
        d_frame = gpd.GeoDataFrame(d_frame, geometry=gpd.GeoSeries(d_metric, crs=crs), crs=crs)
        d_frame.attrs = {"kind": demand_kind, **(dict(demand.attrs) if demand is not None else {})}

        f_frame = to_crs(fac, crs)
        f_frame["category_key"] = cat_key
        f_frame["in_profile"] = in_profile
        f_frame["snap_m"] = f_snap.access
        f_frame["snapped"] = f_snap.ok
        f_frame["community_id"] = pd.array([comm_ids[k] if k >= 0 else None for k in f_comm], dtype=object)
        f_frame.attrs = dict(fac.attrs)
        outside = (f_comm < 0) & ~(shapely.is_missing(f_metric) | shapely.is_empty(f_metric))
        if outside.any():
            file, layer = source_of(fac)
            n_out = int(outside.sum())
            warn_data(
                "facility_outside",
                f"{n_out} {'facility lies' if n_out == 1 else 'facilities lie'} outside "
                f"every community boundary; {'it still serves' if n_out == 1 else 'they still serve'} the "
                f"communities {'it' if n_out == 1 else 'they'} can reach",
                file=file,
                layer=layer,
                feature=feature_label(fac, int(np.flatnonzero(outside)[0])),
                count=n_out,
            )

        gap_rows = [row for o in outcomes for row in o.gaps]
        gaps = gpd.GeoDataFrame(gap_rows, columns=GAP_COLUMNS + ["geometry"], geometry="geometry", crs=crs)
        scorecard = pd.DataFrame([r for o in outcomes for r in o.scorecard], columns=SCORECARD_COLUMNS)
        summary = _summary_table(outcomes, scorecard)

    timings["total"] = time.perf_counter() - t0
    params = {
        "profile": prof.key,
        "profile_file": str(prof.path) if prof.path else None,
        "max_snap_m": max_snap,
        "sample_spacing_m": float(sample_spacing or settings.sample_spacing) if demand is None else None,
        "demand": demand_kind,
        "weight": weight_kind,
        "network": network.source,
        "network_crs": crs.to_string(),
        "max_distance_m": settings.max_distance,
    }
    state = {
        "households": comm_households,
        "residents": comm_residents,
        "d_metric": d_metric,
        "d_weight": d_weight,
        "d_comm": d_comm,
        "d_area": d_area,
        "d_snap": d_snap,
        "demand_out": demand_out,
        "demand_kind": demand_kind,
        "weight_kind": weight_kind,
        "gap_grid": ctx._gap_grid,
        "dist": dist_cols,
        "counts": count_cols,
        "destinations": dict(ctx.destinations),
        "green_keys": set(green_keys),
        "boundaries": communities,
        "facilities": facilities,
        "profile": prof,
        "kwargs": dict(
            demand=demand,
            population=population,
            id_column=id_column,
            name_column=name_column,
            category_column=category_column,
            households_column=households_column,
            residents_column=residents_column,
            weight_column=weight_column,
            floor_area_column=floor_area_column,
            build_type_column=build_type_column,
            places_column=places_column,
            area_column=area_column,
            residential=residential,
            greenspace=greenspace,
            entrances=entrances,
            max_snap=max_snap,
            sample_spacing=sample_spacing,
            gap_resolution_m=gap_resolution_m,
        ),
    }
    return Assessment(
        communities=comm_out,
        demand=d_frame,
        facilities=f_frame,
        gaps=gaps,
        summary=summary,
        scorecard=scorecard,
        warnings=log.to_frame(),
        checks=outcomes,
        profile=prof,
        network=network,
        parameters=params,
        timings=timings,
        id_column=id_column or "community_id",
        name_column=name_column,
        layers={k: v for o in outcomes for k, v in o.layers.items()},
        state=state,
    )


def _check_web_datum(frame: gpd.GeoDataFrame, snapped, network: WalkNetwork, max_snap: float) -> None:
    """Refuse points that are really GCJ-02 / BD-09 but were declared as WGS84.

    Amap/Tencent (GCJ-02) and Baidu (BD-09) coordinates sit 300–1000 m off the
    map in Chinese cities. The test registers the points against the walking
    network: a layer is refused when, converted from GCJ-02 (or BD-09), its
    points sit on the streets (median distance ≤ 15 m, at least 60 % within
    20 m) while as declared they do not (at least twice as far, and at most half
    as many within 20 m). It is deliberately conservative: layers whose points
    are not on streets (school campuses, parks) give no verdict and pass.
    """
    if frame.attrs.get("converted_from") or len(frame) < 8:
        return
    from .coords import bd09_to_wgs84, gcj02_to_wgs84, out_of_china, transform_xy

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
        d = snap_points(network, points_xy, cap).access
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


def _report_snapping(frame, snapped, what: str, max_snap: float) -> None:
    far = ~snapped.ok & np.isfinite(snapped.access)
    if far.any():
        file, layer = source_of(frame) if frame is not None else (None, None)
        first = int(np.flatnonzero(far)[0])
        n_far = int(far.sum())
        noun = what if n_far != 1 else {"facilities": "facility is", "demand points": "demand point is"}.get(what, what)
        verb = "" if n_far == 1 else " are"
        warn_data(
            "unsnapped",
            f"{n_far} {noun}{verb} more than {max_snap:g} m from every street "
            f"(e.g. {feature_label(frame, first) if frame is not None else f'#{first + 1}'}: "
            f"{snapped.access[first]:.0f} m); {'it gets' if n_far == 1 else 'they get'} no distance",
            file=file,
            layer=layer,
            count=n_far,
        )
