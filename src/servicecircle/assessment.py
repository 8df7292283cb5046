"""Assess communities against a standards profile: the whole pipeline in memory.

``assess`` takes GeoDataFrames (any CRS) and a :class:`WalkNetwork` and returns an
:class:`Assessment` of GeoDataFrames and tables; nothing here reads or writes
files (see :mod:`servicecircle.pipeline` and :mod:`servicecircle.outputs`).
"""

from __future__ import annotations

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
from ._progress import bar
from .checks import coverage, within
from .checks.gaps import GapGrid, gap_polygons, gap_resolution
from .demand import assign_to_communities, sample_demand
from .engine import DistanceEngine, snap_points
from .errors import InputDataError, collect_warnings, warn_data
from .inputs.layers import feature_label, source_of
from .inputs.prepare import numeric_column, prepare_boundaries, prepare_facilities, prepare_points, require_column
from .network.model import WalkNetwork
from .profiles import Profile, load_profile

__all__ = ["Assessment", "LifeCircleCheck", "assess", "category_slug"]


def category_slug(value: str) -> str:
    """A column-safe key for a category name the profile does not know.

    >>> category_slug("Food Market ")
    'food_market'
    >>> category_slug("菜市场")
    '菜市场'
    """
    text = re.sub(r"[^\w]+", "_", str(value).strip().lower(), flags=re.UNICODE).strip("_")
    return text or "unnamed"


@dataclass(frozen=True)
class LifeCircleCheck:
    """One life-circle check: a facility category within its service radius."""

    category: str
    name_zh: str
    name_en: str
    level: str
    level_name_zh: str
    level_name_en: str
    radius_m: float
    target_share: float
    source: str
    confirmed: bool

    @property
    def key(self) -> str:
        return self.category

    @property
    def label_zh(self) -> str:
        return f"{self.name_zh} ≤{self.radius_m:g}米"

    @property
    def label_en(self) -> str:
        return f"{self.name_en} ≤ {self.radius_m:g} m"

    @property
    def cov_col(self) -> str:
        return f"cov_{self.category}"

    @property
    def pass_col(self) -> str:
        return f"pass_{self.category}"

    @property
    def unc_col(self) -> str:
        return f"unc_{self.category}"


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
    checks: list[LifeCircleCheck]
    profile: Profile
    network: WalkNetwork
    parameters: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    id_column: str = "community_id"
    name_column: str | None = None

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


def _community_weights(
    boundaries: gpd.GeoDataFrame, profile: Profile, households_column: str | None,
    residents_column: str | None, id_column: str | None,
) -> tuple[np.ndarray, str]:
    """Households or residents per community, as the profile's weight asks."""
    file, layer = source_of(boundaries)
    has_h = households_column is not None and households_column in boundaries.columns
    has_r = residents_column is not None and residents_column in boundaries.columns
    h = numeric_column(boundaries, households_column, "households", id_column=id_column) if has_h else None
    r = numeric_column(boundaries, residents_column, "residents", id_column=id_column) if has_r else None
    size = profile.household_size
    if profile.weight == "households":
        if h is not None:
            if r is not None and size:
                gap = np.isnan(h) & ~np.isnan(r)
                h = np.where(gap, r / size, h)
            return h, "households"
        if r is not None and size:
            warn_data("households_from_residents", f"no households column: households = residents ÷ "
                      f"{size:g} (the profile's household size)", file=file, layer=layer)
            return r / size, "households"
    else:
        if r is not None:
            if h is not None and size:
                gap = np.isnan(r) & ~np.isnan(h)
                r = np.where(gap, h * size, r)
            return r, "residents"
        if h is not None and size:
            warn_data("residents_from_households", f"no residents column: residents = households × "
                      f"{size:g} (the profile's household size)", file=file, layer=layer)
            return h * size, "residents"
    want = households_column if profile.weight == "households" else residents_column
    raise InputDataError(
        f"no {profile.weight} column '{want}' in the boundaries and no demand layer was given",
        file=file, layer=layer,
        fix="name the households/residents column (households_column= / --households-column) "
        "or give a demand layer (--demand)",
    )


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
        warn_data("category_not_in_profile", f"{len(unknown)} facility categories are not in profile "
                  f"'{profile.key}': {listed}; their distances are computed but not checked",
                  file=file, layer=layer, count=sum(unknown.values()))
    return keys, in_profile


def assess(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    network: WalkNetwork,
    *,
    profile: Profile | str | Path | None = None,
    demand: gpd.GeoDataFrame | None = None,
    id_column: str | None = None,
    name_column: str | None = None,
    category_column: str = "category",
    households_column: str | None = "households",
    residents_column: str | None = "residents",
    weight_column: str | None = None,
    residential: gpd.GeoDataFrame | None = None,
    max_snap: float | None = None,
    sample_spacing: float | None = None,
    gap_resolution_m: float | None = None,
    progress: bool | None = None,
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
    id_column, name_column
        Community id and name columns (the id must be unique; default: the
        row number, 1-based).
    category_column
        Facility category column.
    households_column, residents_column
        Community columns used for sampled demand.
    weight_column
        Demand layer weight column (each point counts 1 when omitted).
    residential
        Optional residential-land polygons: sampled demand stays inside them.
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
        boundaries = prepare_boundaries(communities, id_column=id_column)
        if name_column is not None:
            require_column(boundaries, name_column, "community name", "name_column= / --name-column")
        fac = prepare_facilities(facilities, category_column=category_column)
        for frame, what in ((boundaries, "boundaries"), (fac, "facilities")):
            if frame.crs is None:
                file, layer = source_of(frame)
                from .errors import CRSError

                raise CRSError(f"the {what} have no coordinate system", file=file, layer=layer,
                               fix="set one (GeoDataFrame.set_crs) or read the file with crs=")
        b_metric = np.asarray(boundaries.geometry.to_crs(crs).values, dtype=object)
        f_metric = np.asarray(fac.geometry.to_crs(crs).values, dtype=object)
        n_comm = len(boundaries)
        comm_ids = (boundaries[id_column].to_numpy() if id_column
                    else np.arange(1, n_comm + 1))
        cat_key, in_profile = _match_categories(fac, category_column, prof)

        # ---------------------------------------------------------------- demand
        if demand is not None:
            dem = prepare_points(demand, "demand points")
            if dem.crs is None:
                from .errors import CRSError

                file, layer = source_of(dem)
                raise CRSError("the demand points have no coordinate system", file=file, layer=layer,
                               fix="set one, or read the file with crs=")
            d_metric = np.asarray(dem.geometry.to_crs(crs).values, dtype=object)
            if weight_column is not None:
                require_column(dem, weight_column, "demand weight", "weight_column= / --weight-column")
                d_weight = numeric_column(dem, weight_column, "demand weight")
            else:
                d_weight = np.ones(len(dem))
                file, layer = source_of(dem)
                warn_data("unit_weight", "no demand weight column: every demand point counts as 1",
                          file=file, layer=layer)
            d_comm = assign_to_communities(d_metric, b_metric)
            outside = d_comm < 0
            if outside.any():
                file, layer = source_of(dem)
                warn_data("demand_outside", f"{int(outside.sum())} demand points lie in no community; "
                          "they keep their distances but count for no community", file=file, layer=layer,
                          feature=feature_label(dem, int(np.flatnonzero(outside)[0])),
                          count=int(outside.sum()))
            demand_out = dem.drop(columns=dem.geometry.name).copy()
            demand_kind = "layer"
            weight_kind = weight_column or "count"
        else:
            weights, weight_kind = _community_weights(boundaries, prof, households_column,
                                                      residents_column, id_column)
            res_geoms = None
            if residential is not None:
                res_geoms = residential.geometry.to_crs(crs)
            sampled = sample_demand(gpd.GeoSeries(b_metric, crs=crs), weights,
                                    spacing=sample_spacing, residential=res_geoms)
            d_metric = np.asarray(sampled.geometry.values, dtype=object)
            d_weight = sampled["weight"].to_numpy()
            d_comm = sampled["community"].to_numpy()
            demand_out = pd.DataFrame({"sampled_in": sampled["sampled_in"].to_numpy()})
            demand_kind = "sampled"
        no_weight = np.isnan(np.bincount(np.maximum(d_comm, 0), weights=np.where(d_comm >= 0, d_weight, 0),
                                         minlength=n_comm)) if len(d_comm) else np.zeros(n_comm, bool)
        timings["inputs"] = time.perf_counter() - t0

        # ----------------------------------------------------------- snapping
        t = time.perf_counter()
        f_snap = snap_points(network, f_metric, max_snap)
        d_snap = snap_points(network, d_metric, max_snap)
        engine = DistanceEngine(network, f_snap)
        d_att = engine.attach(d_snap)
        timings["snapping"] = time.perf_counter() - t
        _report_snapping(fac, f_snap, "facilities", max_snap)
        _report_snapping(demand if demand is not None else None, d_snap, "demand points", max_snap)

        # ----------------------------------------------------------- distances
        t = time.perf_counter()
        present = sorted({k for k in cat_key if k is not None and k is not np.nan},
                         key=lambda k: (k not in prof.categories, k))
        dist_cols: dict[str, np.ndarray] = {}
        count_cols: dict[str, np.ndarray] = {}
        node_dist: dict[str, np.ndarray] = {}
        for key in bar(present, desc="distances", unit="category", progress=progress):
            members = np.flatnonzero(cat_key == key)
            node_dist[key] = engine.node_distances(members, settings.max_distance)
            dist_cols[key] = engine.point_distances(node_dist[key], d_att)
            radii = prof.thresholds(key) if key in prof.categories else ()
            if radii:
                s_idx, t_idx, dd = engine.within(members, d_att, max(radii))
                for r in radii:
                    ok = within(dd, r)
                    count_cols[f"n_{key}_{r:g}m"] = np.bincount(t_idx[ok], minlength=len(d_comm))
        timings["distances"] = time.perf_counter() - t

        # ----------------------------------------------------------- checks
        t = time.perf_counter()
        checks: list[LifeCircleCheck] = []
        comm_cols: dict[str, Any] = {}
        total = None
        for key in present:
            cat = prof.categories.get(key)
            if cat is None or not cat.check:
                continue
            level = prof.levels.get(cat.level)
            check = LifeCircleCheck(
                category=key, name_zh=cat.name_zh, name_en=cat.name_en, level=cat.level,
                level_name_zh=level.name_zh if level else cat.level,
                level_name_en=level.name_en if level else cat.level,
                radius_m=float(cat.radius_m), target_share=float(cat.target_share),
                source=cat.source, confirmed=bool(cat.confirmed),
            )
            checks.append(check)
            reached = within(dist_cols[key], check.radius_m)
            total, covered, share = coverage(d_comm, d_weight, reached, n_comm)
            passed = pd.array(np.where(np.isnan(share), False, share >= check.target_share - 1e-9),
                              dtype="boolean")
            passed[np.isnan(share)] = pd.NA
            comm_cols[check.cov_col] = share
            comm_cols[check.pass_col] = passed
            comm_cols[check.unc_col] = np.where(np.isnan(share), np.nan, total - covered)
        absent = [k for k, c in prof.categories.items() if c.check and k not in present]
        if absent:
            warn_data("category_absent", f"{len(absent)} categories of profile '{prof.key}' have no "
                      f"facility in the input and were not assessed: {', '.join(absent[:12])}"
                      f"{' ...' if len(absent) > 12 else ''}", count=len(absent))
        if total is None:
            total = np.bincount(np.maximum(d_comm, 0), weights=np.where((d_comm >= 0) & np.isfinite(d_weight),
                                                                         d_weight, 0), minlength=n_comm)
        n_dem = np.bincount(d_comm[d_comm >= 0], minlength=n_comm)
        nodata = (n_dem == 0) | no_weight | (total <= 0)
        if nodata.any():
            file, layer = source_of(boundaries)
            first = int(np.flatnonzero(nodata)[0])
            warn_data("no_demand", f"{int(nodata.sum())} communities have no demand data (no households/"
                      "residents or no demand point) and get no pass/fail", file=file, layer=layer,
                      feature=feature_label(boundaries, first, id_column), count=int(nodata.sum()))
        timings["checks"] = time.perf_counter() - t

        # ----------------------------------------------------------- gaps
        t = time.perf_counter()
        gap_rows = []
        failing_any = np.zeros(n_comm, dtype=bool)
        for c in checks:
            failing_any |= np.asarray(comm_cols[c.pass_col].fillna(True)) == False  # noqa: E712
        if failing_any.any():
            areas = b_metric[failing_any]
            res = gap_resolution(tuple(shapely.total_bounds(areas)), gap_resolution_m)
            grid = GapGrid(engine, areas, res, max_snap)
            for c in bar(checks, desc="gap polygons", unit="check", progress=progress):
                fail = np.flatnonzero(np.asarray(comm_cols[c.pass_col].fillna(True)) == False)  # noqa: E712
                if len(fail) == 0:
                    continue
                polys = gap_polygons(grid, node_dist[c.category], c.radius_m, b_metric, fail)
                for k, poly in zip(fail, polys):
                    gap_rows.append({
                        "community_id": comm_ids[k], "category": c.category, "name_zh": c.name_zh,
                        "name_en": c.name_en, "level": c.level, "radius_m": c.radius_m,
                        "coverage_pct": comm_cols[c.cov_col][k],
                        "target_pct": c.target_share,
                        "uncovered_weight": comm_cols[c.unc_col][k],
                        "weight_kind": weight_kind,
                        "gap_area_m2": float(shapely.area(poly)) if poly is not None else 0.0,
                        "community_area_m2": float(shapely.area(b_metric[k])),
                        "geometry": poly,
                    })
            timings["gap_grid_m"] = res
        gap_cols = ["community_id", "category", "name_zh", "name_en", "level", "radius_m", "coverage_pct",
                    "target_pct", "uncovered_weight", "weight_kind", "gap_area_m2", "community_area_m2"]
        gaps = gpd.GeoDataFrame(gap_rows, columns=gap_cols + ["geometry"], geometry="geometry", crs=crs)
        timings["gaps"] = time.perf_counter() - t

        # ----------------------------------------------------------- frames
        comm_out = boundaries.to_crs(crs).copy()
        comm_out["weight_total"] = np.where(nodata, np.nan, total)
        comm_out["weight_kind"] = weight_kind
        comm_out["n_demand"] = n_dem
        for k, v in comm_cols.items():
            comm_out[k] = v
        if checks:
            passes = np.column_stack([np.asarray(comm_out[c.pass_col].astype("float")) for c in checks])
            covs = np.column_stack([comm_out[c.cov_col].to_numpy() for c in checks])
            comm_out["checks_assessed"] = np.isfinite(passes).sum(axis=1)
            comm_out["checks_failed"] = (passes == 0).sum(axis=1)
            with np.errstate(all="ignore"):
                worst = np.where(np.isfinite(covs).any(axis=1), np.nanmin(np.where(np.isfinite(covs), covs, np.inf),
                                                                         axis=1), np.nan)
            comm_out["worst_cov"] = worst
        else:
            comm_out["checks_assessed"] = 0
            comm_out["checks_failed"] = 0
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
        d_frame = gpd.GeoDataFrame(d_frame, geometry=gpd.GeoSeries(d_metric, crs=crs), crs=crs)
        d_frame.attrs = {"kind": demand_kind, **(dict(demand.attrs) if demand is not None else {})}

        f_frame = fac.to_crs(crs).copy()
        f_frame["category_key"] = cat_key
        f_frame["in_profile"] = in_profile
        f_frame["snap_m"] = f_snap.access
        f_frame["snapped"] = f_snap.ok
        f_comm = assign_to_communities(f_metric, b_metric)
        f_frame["community_id"] = pd.array([comm_ids[k] if k >= 0 else None for k in f_comm], dtype=object)
        f_frame.attrs = dict(fac.attrs)
        outside = (f_comm < 0) & ~(shapely.is_missing(f_metric) | shapely.is_empty(f_metric))
        if outside.any():
            file, layer = source_of(fac)
            warn_data("facility_outside", f"{int(outside.sum())} facilities lie outside every community "
                      "boundary; they still serve the communities they can reach", file=file, layer=layer,
                      feature=feature_label(fac, int(np.flatnonzero(outside)[0])), count=int(outside.sum()))

        summary = _summary(checks, comm_out, d_comm, d_weight, dist_cols, cat_key, f_snap, prof)

    timings["total"] = time.perf_counter() - t0
    params = {
        "profile": prof.key, "profile_file": str(prof.path) if prof.path else None,
        "max_snap_m": max_snap, "sample_spacing_m": float(sample_spacing or settings.sample_spacing)
        if demand is None else None, "demand": demand_kind, "weight": weight_kind,
        "network": network.source, "network_crs": crs.to_string(),
        "max_distance_m": settings.max_distance,
    }
    return Assessment(
        communities=comm_out, demand=d_frame, facilities=f_frame, gaps=gaps, summary=summary,
        warnings=log.to_frame(), checks=checks, profile=prof, network=network, parameters=params,
        timings=timings, id_column=id_column or "community_id", name_column=name_column,
    )


def _report_snapping(frame, snapped, what: str, max_snap: float) -> None:
    far = ~snapped.ok & np.isfinite(snapped.access)
    if far.any():
        file, layer = source_of(frame) if frame is not None else (None, None)
        first = int(np.flatnonzero(far)[0])
        warn_data("unsnapped", f"{int(far.sum())} {what} are more than {max_snap:g} m from every street "
                  f"(e.g. {feature_label(frame, first) if frame is not None else f'#{first + 1}'}: "
                  f"{snapped.access[first]:.0f} m); they get no distance", file=file, layer=layer,
                  count=int(far.sum()))


def _summary(checks, comm, d_comm, d_weight, dist_cols, cat_key, f_snap, prof) -> pd.DataFrame:
    rows = []
    for c in checks:
        passed = comm[c.pass_col]
        assessed = int(passed.notna().sum())
        n_pass = int((passed == True).sum())  # noqa: E712
        members = cat_key == c.category
        use = (d_comm >= 0) & np.isfinite(d_weight)
        tot = float(d_weight[use].sum())
        cov = float(d_weight[use & within(dist_cols[c.category], c.radius_m)].sum())
        rows.append({
            "category": c.category, "name_zh": c.name_zh, "name_en": c.name_en,
            "level": c.level, "level_zh": c.level_name_zh, "radius_m": c.radius_m,
            "target_pct": c.target_share, "facilities": int(members.sum()),
            "facilities_unsnapped": int((members & ~f_snap.ok).sum()),
            "communities_assessed": assessed, "communities_passed": n_pass,
            "communities_failed": assessed - n_pass,
            "citywide_coverage_pct": 100.0 * cov / tot if tot > 0 else np.nan,
            "uncovered_weight": tot - cov,
            "confirmed": c.confirmed, "source": c.source,
        })
    cols = ["category", "name_zh", "name_en", "level", "level_zh", "radius_m", "target_pct", "facilities",
            "facilities_unsnapped", "communities_assessed", "communities_passed", "communities_failed",
            "citywide_coverage_pct", "uncovered_weight", "confirmed", "source"]
    return pd.DataFrame(rows, columns=cols)
