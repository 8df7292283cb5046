"""Checks in minutes for a walking group, and the service areas of the run's checks.

A profile's ``[time_checks.<key>]`` says "``category`` within ``minutes`` for
``group``" (e.g. the elderly day-care centre within 5 minutes at an
80-year-old's speed). Each is a reach check exactly like a life-circle one
(:func:`~servicecircle.checks.lifecircle.reach_outcome`: coverage, pass/fail,
gaps), but its distances are walking times from
:class:`~servicecircle.engine.weighted.CostEngine`: the group's speed
(``network/walking.toml``), Tobler's slope when the run has a DEM
(``options.dem``), the run's access rules. Every output says minutes: the
check's name, the ``min_<key>`` column of the demand layer, the summary's
``minutes`` and ``group``.

With ``options.service_areas`` the checks also leave their service areas and
catchments (:mod:`servicecircle.engine.servicearea`) as the ``service_areas``
and ``catchments`` layers: one area per checked category (metres, the adult
view) and per time check (minutes, its group's view).
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from numpy.typing import NDArray

from ..engine.servicearea import catchments, facility_service_areas
from ..engine.weighted import CostEngine
from ..errors import ProfileError
from ..network.access import restrict_costs
from ..network.model import WalkNetwork
from ..network.walking import DEFAULT_GROUP, WalkingGroup, edge_times, load_walking_groups
from ..schema import time_column
from .lifecircle import reach_outcome

if TYPE_CHECKING:
    from ..engine import DistanceEngine
    from ..network.slope import Terrain
    from .context import CheckOutcome, Context
    from .grid import GapGrid

__all__ = ["time_checks", "group_engine", "ServiceAreaJob", "service_area_layers", "add_service_areas"]

#: the terrain of each network, by DEM file or elevation grid (with the file name or grid it came from)
_TERRAIN: weakref.WeakKeyDictionary[WalkNetwork, dict[str, tuple[Any, Terrain]]] = weakref.WeakKeyDictionary()


def _terrain(network: WalkNetwork, dem: Any) -> Terrain | None:
    """The network's terrain from ``dem``, a DEM file or an elevation grid (sampled once per network and DEM)."""
    if dem is None:
        return None
    from ..network.slope import edge_terrain

    kept = _TERRAIN.setdefault(network, {})
    # a grid is kept with its terrain, so no other object can take its id while the key stands
    key = str(dem) if isinstance(dem, (str, os.PathLike)) else f"grid {id(dem)}"
    if key not in kept:
        kept[key] = (dem, edge_terrain(network, dem))
    return kept[key][1]


def _group(key: str, where: str) -> WalkingGroup:
    groups = load_walking_groups()
    if key not in groups:
        raise ProfileError(
            f"{where}: unknown walking group {key!r}",
            fix="use one of the groups of servicecircle/network/walking.toml: " + ", ".join(groups),
        )
    return groups[key]


def group_engine(ctx: Context, group: WalkingGroup) -> CostEngine:
    """The run's facilities in seconds for ``group`` (slope from the run's DEM, the run's access rules)."""
    cache: dict[str, CostEngine] = ctx.__dict__.setdefault("_group_engines", {})
    if group.key not in cache:
        dem = ctx.elevation if ctx.elevation is not None else ctx.options.dem
        costs = edge_times(ctx.network, group, _terrain(ctx.network, dem))
        cache[group.key] = CostEngine(ctx.network, ctx.fac_snap, restrict_costs(ctx.network, costs))
    return cache[group.key]


def time_checks(ctx: Context) -> list[CheckOutcome]:
    """With ``options.time_checks``: one reach check per ``[time_checks]`` entry whose category is in the facilities."""
    outcomes: list[CheckOutcome] = []
    if not ctx.options.time_checks:
        return outcomes
    for tc in ctx.profile.time_checks.values():
        members = ctx.members(tc.category)
        if not len(members):
            continue
        group = _group(tc.group, f"time_checks.{tc.key}")
        engine = group_engine(ctx, group)
        budget = 60.0 * tc.minutes
        node_cost = engine.node_distances(members)
        seconds = engine.point_distances(node_cost, engine.attach(ctx.d_snap))
        cat = ctx.profile.categories[tc.category]

        def cell_dist(grid: GapGrid, nd: NDArray[np.float64] = node_cost, eng: CostEngine = engine) -> Any:
            return grid.distances(nd, eng)

        level = ctx.profile.levels.get(cat.level)
        out = reach_outcome(
            ctx,
            key=tc.key,
            kind="time",
            name_zh=tc.name_zh,
            name_en=tc.name_en,
            radius=budget,
            target=float(tc.target_share),
            source=tc.source + f"; walking model: {group.label} ({group.source})",
            confirmed=bool(tc.confirmed and group.confirmed),
            dist=seconds,
            cell_dist=cell_dist,
            weight=ctx.d_weight,
            weight_kind=ctx.weight_kind,
            category=tc.category,
            level=cat.level,
            level_name_zh=level.name_zh if level else cat.level,
            level_name_en=level.name_en if level else cat.level,
            destinations=len(members),
            destinations_unsnapped=int((~ctx.fac_snap.ok[members]).sum()),
        )
        _say_minutes(out, tc.minutes, group)
        out.demand_columns[time_column(tc.key)] = seconds / 60.0
        if ctx.options.service_areas:  # built with the other checks' (add_service_areas)
            out.pending_service_areas = ServiceAreaJob(
                engine, members, budget, view=f"{group.name_en}, {tc.minutes:g} minutes", group=group
            )
        outcomes.append(out)
    return outcomes


def _say_minutes(out: CheckOutcome, minutes: float, group: WalkingGroup) -> None:
    """A time check's outcome speaks minutes, not the seconds it was computed in."""
    out.radius_m = None
    out.summary["radius_m"] = np.nan
    out.summary["minutes"] = minutes
    out.summary["group"] = group.key
    for row in out.scorecard:
        row["name_zh"] = out.name_zh
        row["name_en"] = out.name_en
        row["method"] = (
            f"share of {out.summary.get('weight_kind', 'demand')} whose walk to the nearest {out.category} takes "
            f"≤ {minutes:g} min at the speed of: {group.label}"
        )
    if out.pending_gaps is not None:
        out.pending_gaps["rows"].update(radius_m=np.nan, minutes=minutes, group=group.key)


@dataclass(frozen=True)
class ServiceAreaJob:
    """The service areas one check asks for: its category's members within ``budget`` on ``engine``."""

    engine: DistanceEngine
    members: NDArray[np.intp]
    budget: float
    view: str
    group: WalkingGroup | None


#: facilities per task when a check's own areas are shared out among worker processes
_CHUNK = 16


def _tasks(jobs: list[ServiceAreaJob]) -> list[tuple[int, str, int, NDArray[np.intp]]]:
    """The jobs cut into tasks (each job's catchments, its facilities' own areas by chunks), largest first.

    A task's cost grows with its facilities and the area a budget reaches;
    handing out the largest first keeps the workers evenly busy to the end.
    """
    tasks: list[tuple[float, int, str, int, NDArray[np.intp]]] = []
    for i, job in enumerate(jobs):
        reach = (job.budget * (job.group.flat_speed if job.group is not None else 1.0)) ** 2
        tasks.append((len(job.members) * reach * 0.5, i, "catchments", 0, job.members))
        for j, chunk in enumerate(np.array_split(job.members, max(1, -(-len(job.members) // _CHUNK)))):
            tasks.append((len(chunk) * reach, i, "own", j, chunk))
    tasks.sort(key=lambda t: -t[0])
    return [t[1:] for t in tasks]


def service_area_layers(
    ctx: Context,
    job: ServiceAreaJob,
    key: str,
    own: NDArray[np.object_],
    catchment: tuple[NDArray[np.int64], NDArray[np.object_], NDArray[np.object_]],
) -> dict[str, Any]:
    """The rows of the ``service_areas`` and ``catchments`` layers of one check.

    ``own`` is each member's own area (:func:`facility_service_areas`),
    ``catchment`` the members' :func:`catchments`. The category's area is the
    union of the catchments: they are built from the same reached pieces as
    ``service_areas(engine, [members], ...)``, split by nearest facility, so
    they barely overlap, and their union is far cheaper than one of the
    facilities' own (overlapping) areas.
    """
    import geopandas as gpd

    members, budget, group = job.members, job.budget, job.group
    allowance = float(ctx.options.access_allowance)
    minutes = budget / 60.0 if group is not None else np.nan
    fac, lines, polys = catchment
    area = shapely.union_all(polys) if len(polys) else shapely.Polygon()
    common = {
        "check": key,
        "category": ctx.fac_key[members[0]] if len(members) else key,
        "view": job.view,
        "group": group.key if group is not None else DEFAULT_GROUP,
        "budget": budget,
        "budget_unit": "s" if group is not None else "m",
        "minutes": minutes,
        "radius_m": np.nan if group is not None else budget,
        "access_allowance_m": allowance,
    }
    # the category's area (facility_index -1), then each facility's own
    sa = gpd.GeoDataFrame(
        {
            **{k: [v] * (1 + len(members)) for k, v in common.items()},
            "facility_index": np.r_[-1, members].astype(np.int64),
            "area_m2": shapely.area(np.r_[np.array([area], dtype=object), own]),
        },
        geometry=[area, *own],
        crs=ctx.crs,
    )
    ca = gpd.GeoDataFrame(
        {
            **{k: [v] * len(fac) for k, v in common.items()},
            "facility_index": fac.astype(np.int64),
            "street_m": shapely.length(lines) if len(fac) else np.zeros(0),
            "area_m2": shapely.area(polys) if len(fac) else np.zeros(0),
        },
        geometry=list(polys),
        crs=ctx.crs,
    )
    return {f"service_areas/{key}": sa, f"catchments/{key}": ca}


def add_service_areas(ctx: Context, outcomes: list[CheckOutcome]) -> None:
    """With ``options.service_areas``: the areas of the life-circle checks (metres, adult) and the time checks'.

    The time checks left theirs pending (:func:`time_checks`). Every job is cut
    into tasks (catchments, own areas by chunks of facilities), shared out
    among worker processes when the run may fork, and every area and
    catchment row goes into the ``service_areas`` and ``catchments`` layers.
    """
    import pandas as pd

    if not ctx.options.service_areas:
        return
    from .._parallel import pmap, workers_for

    todo: list[tuple[CheckOutcome, ServiceAreaJob]] = []
    for o in outcomes:
        if o.kind == "lifecircle" and o.category and o.radius_m:
            members = ctx.members(o.category)
            if len(members):
                view = f"adult, {o.radius_m:g} m"
                todo.append((o, ServiceAreaJob(ctx.engine, members, float(o.radius_m), view=view, group=None)))
        elif o.pending_service_areas is not None:
            todo.append((o, o.pending_service_areas))
            o.pending_service_areas = None
    jobs = [job for _, job in todo]
    tasks = _tasks(jobs)
    allowance = float(ctx.options.access_allowance)

    def one(task: tuple[int, str, int, NDArray[np.intp]]) -> Any:
        i, kind, _, members = task
        job = jobs[i]
        if kind == "own":
            return facility_service_areas(job.engine, members, job.budget, allowance)
        return catchments(job.engine, members, job.budget, allowance)

    # in forked processes on a large network when the run may use the cores
    n_workers = workers_for(ctx.engine.n_graph_nodes * sum(len(j.members) for j in jobs), threshold=2e5)
    own: list[dict[int, NDArray[np.object_]]] = [{} for _ in jobs]
    caught: list[Any] = [None] * len(jobs)
    for (i, kind, j, _), got in zip(tasks, pmap(one, tasks, n_workers)):
        if kind == "own":
            own[i][j] = got
        else:
            caught[i] = got
    for i, (o, job) in enumerate(todo):
        areas = np.concatenate([own[i][j] for j in sorted(own[i])])  # the chunks back in the members' order
        o.layers.update(service_area_layers(ctx, job, o.key, areas, caught[i]))
    for name in ("service_areas", "catchments"):
        parts = [(o, k) for o in outcomes for k in o.layers if k.startswith(name + "/")]
        if not parts:
            continue
        frames = [o.layers.pop(k) for o, k in parts]
        merged = pd.concat(frames, ignore_index=True)
        parts[0][0].layers[name] = type(frames[0])(merged, geometry="geometry", crs=frames[0].crs)
