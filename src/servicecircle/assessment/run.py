"""``assess``: the stages in order, and ``rerun``: the same with what a scenario can reuse."""

from __future__ import annotations

import time
from typing import Any

import geopandas as gpd

from .. import settings
from .._parallel import use_workers
from ..checks.register import register_table
from ..errors import OptionError, collect_warnings
from ..inputs.rasters import ElevationGrid
from ..network.model import WalkNetwork
from ..options import Options, setting_or
from ..population import PopulationGrid
from ..profiles import Profile, load_profile
from . import stages
from .result import Assessment
from .state import DemandPoints, FacilitySet, Prepared, RunState

__all__ = ["assess", "rerun"]


def _workers(options: Options) -> Any:
    """What :func:`use_workers` gets: the run's own number of workers, or no change (``settings.workers``)."""
    from .._parallel import _UNSET

    return _UNSET if options.workers is None else options.workers


def assess(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    network: WalkNetwork,
    options: Options | None = None,
    *,
    demand: gpd.GeoDataFrame | None = None,
    population: PopulationGrid | None = None,
    residential: gpd.GeoDataFrame | None = None,
    greenspace: gpd.GeoDataFrame | None = None,
    entrances: gpd.GeoDataFrame | None = None,
    elevation: ElevationGrid | None = None,
    lattice_store: Any = None,
    **changes: Any,
) -> Assessment:
    """Check every community against the profile's life-circle standards.

    Parameters
    ----------
    communities
        Community boundaries (polygons, any CRS) with, unless ``demand`` or
        ``population`` is given, a households and/or residents column.
    facilities
        Facility points (polygons are replaced by a point inside) with a
        category column whose values are profile keys or aliases
        (``kindergarten``, ``幼儿园`` ...).
    network
        The walking network (:func:`servicecircle.load_network`).
    options
        An :class:`~servicecircle.options.Options`; keyword arguments
        (``id_column="code"``, ``profile="gb50180"``, ``max_snap=150`` ...)
        change it. Every option, its meaning and its range is listed in
        :mod:`servicecircle.options`.
    demand
        Optional demand points (buildings, households). Without it (and
        without ``population``), demand is sampled inside the communities
        (see :mod:`servicecircle.demand`).
    population
        Optional population grid (:func:`servicecircle.read_population`): one
        demand point per raster cell (per piece, where a boundary splits a
        cell) carrying its residents (see :mod:`servicecircle.population`).
    residential
        Optional residential-land polygons: sampled demand stays inside them.
    greenspace, entrances
        Green-space polygons for the green and park reach checks, and
        optionally their mapped entrances (see :mod:`servicecircle.checks.greenspace`).
    elevation
        Optional elevation grid (:func:`servicecircle.read_elevation`) for the
        slope of the checks in minutes and their service areas, read already
        (the ``dem`` option names a file instead; give one or the other).
    lattice_store
        Where the snapped gap-grid cells of this network are kept between runs
        (:func:`servicecircle.network.cache.lattice_store`); ``None`` snaps
        them afresh. :func:`servicecircle.assess_files` passes the network
        cache's.

    Returns
    -------
    Assessment

    Examples
    --------
    >>> import servicecircle as sc
    >>> paths = sc.pipeline.demo_paths()
    >>> network = sc.load_network(paths["network"], progress=False)
    >>> communities = sc.read_boundaries(paths["boundaries"], id_column="code")
    >>> facilities = sc.read_facilities(paths["facilities"], layer="facilities")
    >>> result = sc.assess(communities, facilities, network, id_column="code", progress=False)
    >>> int(result.summary.loc[result.summary["check"] == "kindergarten", "facilities"].iloc[0])
    8
    """
    opts = Options.build(options, **changes)
    if population is not None and not isinstance(population, PopulationGrid):
        raise OptionError(
            "population= takes a population grid, not a file name",
            fix="read the raster first: sc.read_population(path, study_area=communities)",
        )
    if elevation is not None and not isinstance(elevation, ElevationGrid):
        raise OptionError(
            "elevation= takes an elevation grid, not a file name",
            fix="read the DEM first (sc.read_elevation(path)), or give its file as dem=path",
        )
    if elevation is not None and opts.dem is not None:
        raise OptionError("both elevation= and dem= were given", fix="give the DEM once: elevation=grid or dem=path")
    prof = opts.profile if isinstance(opts.profile, Profile) else load_profile(opts.profile)
    _check_search_bound(prof)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with collect_warnings() as log, use_workers(_workers(opts)):
        original, network = network, stages.apply_access(network, opts)
        prepared = stages.prepare(communities, facilities, network, prof, opts, residential=residential)
        dem = stages.build_demand(
            prepared, network, prof, opts, demand=demand, population=population, residential=residential
        )
        timings["inputs"] = time.perf_counter() - t0
        result = _snap_to_frames(
            network,
            prof,
            opts,
            prepared,
            dem,
            timings,
            facilities_input=facilities,
            demand_source=demand,
            greenspace=greenspace,
            entrances=entrances,
            elevation=elevation,
            lattice_store=None if network is not original else lattice_store,
        )
        if network is not original and result.state is not None:
            result.layers["access_changes"] = stages.access_changes(
                original, prepared.facilities, dem, opts, result.state.distances
            )
    result.warnings = log.to_frame()
    result.timings["total"] = time.perf_counter() - t0
    return result


def _check_search_bound(prof: Profile) -> None:
    """Refuse a ``settings.max_distance`` short of the profile's widest radius (its checks would be cut short)."""
    limit = setting_or("max_distance")
    widest = max((r for key in prof.categories for r in prof.thresholds(key)), default=0.0)
    if limit is not None and limit < widest:
        raise OptionError(
            f"settings.max_distance ({limit:g} m) is shorter than the widest radius of the profile "
            f"'{prof.key}' ({widest:g} m): its checks would stop short of the radius",
            fix=f"set servicecircle.settings.max_distance to {widest:g} m or more (2000 keeps distances exact "
            "to 2 km), or None to search the whole network",
        )


def _snap_to_frames(
    network: WalkNetwork,
    prof: Profile,
    opts: Options,
    prepared: Prepared,
    dem: DemandPoints,
    timings: dict[str, float],
    *,
    facilities_input: gpd.GeoDataFrame,
    demand_source: gpd.GeoDataFrame | None = None,
    greenspace: gpd.GeoDataFrame | None = None,
    entrances: gpd.GeoDataFrame | None = None,
    elevation: Any = None,
    lattice_store: Any = None,
    reuse: RunState | None = None,
    reused_outcomes: list[stages.CheckOutcome] | None = None,
    changed: frozenset[str] = frozenset(),
) -> Assessment:
    """Stages 3–6 (snap, distances, checks, frames), for a fresh run or (``reuse``) a rerun."""
    t = time.perf_counter()
    demand_snap = reuse.demand_snap if reuse is not None else None
    snapping = stages.snap(
        network, prepared.facilities, dem, opts, demand_snap=demand_snap, demand_source=demand_source
    )
    timings["snapping"] = time.perf_counter() - t
    t = time.perf_counter()
    dist = stages.compute_distances(
        snapping,
        prepared.facilities,
        prof,
        opts,
        n_demand_comm=len(dem.community),
        reuse=reuse.distances if reuse is not None else None,
        changed=changed,
    )
    timings["distances"] = time.perf_counter() - t
    t = time.perf_counter()
    outcomes, ctx, green_keys = stages.run_checks(
        network,
        prof,
        opts,
        prepared,
        dem,
        snapping,
        dist,
        greenspace=greenspace,
        entrances=entrances,
        lattice_store=lattice_store,
        elevation=elevation,
        reuse=reuse,
        reused_outcomes=reused_outcomes,
    )
    state = RunState(
        options=opts,
        profile=prof,
        prepared=prepared,
        demand=dem,
        demand_snap=snapping.demand,
        distances=dist,
        gap_grid=ctx.grid,
        destinations=dict(ctx.destinations),
        green_keys=green_keys,
        facilities_input=facilities_input,
        greenspace=greenspace,
        entrances=entrances,
        lattice_store=lattice_store,
        elevation=elevation,
    )
    return _finish(network, prof, opts, state, snapping, outcomes, ctx, timings, t)


def _finish(
    network: WalkNetwork,
    prof: Profile,
    opts: Options,
    state: RunState,
    snapping: stages.Snapping,
    outcomes: list[stages.CheckOutcome],
    ctx: Any,
    timings: dict[str, float],
    t_checks: float,
) -> Assessment:
    """Stage 6: the output frames and tables."""
    crs = network.crs
    prepared, dem = state.prepared, state.demand
    input_names: dict[str, dict[str, str]] = {}
    comm_out = stages.community_frame(prepared, dem, outcomes, crs, id_column=opts.id_column, input_names=input_names)
    timings["checks"] = time.perf_counter() - t_checks
    if ctx.grid is not None:
        timings["gap_grid_m"] = ctx.grid.res
    d_frame = stages.demand_frame(prepared, dem, snapping, state.distances, outcomes, crs, input_names=input_names)
    f_frame = stages.facility_frame(prepared, snapping, ctx.fac_comm, crs, input_names=input_names)
    gaps = stages.gap_frame(outcomes, crs)
    scorecard = stages.scorecard_table(outcomes)
    summary = stages.summary_table(outcomes, scorecard)
    register = register_table(prof, outcomes, ctx)  # after every check: the plan's indicator register
    max_snap = float(setting_or("max_snap", opts.max_snap))
    params = {
        "profile": prof.key,
        "profile_file": str(prof.path) if prof.path else None,
        "max_snap_m": max_snap,
        "sample_spacing_m": float(setting_or("sample_spacing", opts.sample_spacing)) if dem.kind == "sampled" else None,
        "demand": dem.kind,
        "weight": dem.weight_kind,
        "network": network.source,
        "network_crs": crs.to_string(),
        "max_distance_m": settings.max_distance,
    }
    return Assessment(
        communities=comm_out,
        demand=d_frame,
        facilities=f_frame,
        gaps=gaps,
        summary=summary,
        scorecard=scorecard,
        warnings=None,  # type: ignore[arg-type]  # set by the caller from its warning log
        checks=outcomes,
        profile=prof,
        network=network,
        parameters=params,
        timings=timings,
        id_column=opts.id_column or "community_id",
        name_column=opts.name_column,
        layers={**{k: v for o in outcomes for k, v in o.layers.items()}, **stages.unit_layers(comm_out, prepared, crs)},
        input_columns=input_names,
        register=register,
        state=state,
    )


def rerun(
    base: Assessment,
    facilities: gpd.GeoDataFrame,
    changed: frozenset[str],
    *,
    progress: bool | None = None,
) -> Assessment:
    """Assess ``facilities`` again with everything else of ``base`` reused.

    The communities, the demand and its snapping, the gap grid and the
    green-space checks are ``base``'s; distances and life-circle checks are
    recomputed for the categories in ``changed`` (and any new one) only. The
    result is identical to a full :func:`assess` of the same inputs.
    """
    st = base.state
    if st is None:
        raise ValueError("this assessment keeps no state to rerun from")
    opts = st.options if progress is None else st.options.replace(progress=progress)
    network, prof = base.network, st.profile
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with collect_warnings() as log, use_workers(_workers(opts)):
        fac: FacilitySet = stages.prepare_facility_set(facilities, network, prof, opts)
        prepared = Prepared(
            boundaries=st.prepared.boundaries,
            comm_geom=st.prepared.comm_geom,
            comm_ids=st.prepared.comm_ids,
            facilities=fac,
            types=st.prepared.types,
            units=st.prepared.units,
            compounds=st.prepared.compounds,
        )
        dem = st.demand
        timings["inputs"] = time.perf_counter() - t0
        result = _snap_to_frames(
            network,
            prof,
            opts,
            prepared,
            dem,
            timings,
            facilities_input=facilities,
            greenspace=st.greenspace,
            entrances=st.entrances,
            elevation=st.elevation,
            lattice_store=st.lattice_store,
            reuse=st,
            reused_outcomes=base.checks,
            changed=changed,
        )
    result.warnings = log.to_frame()
    result.timings["total"] = time.perf_counter() - t0
    return result
