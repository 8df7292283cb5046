"""Close the gaps: where to put the next facilities, and what they would fix.

Location-allocation over the same exact walking distances as the checks:

*maximal covering* (``objective="max_cover"``)
    choose up to ``k`` sites that bring the most currently uncovered demand
    weight (households, residents) within the check's radius;
*set covering* (``objective="set_cover"``)
    the fewest sites that bring every coverable uncovered demand point within
    reach (demand no candidate can reach is reported, not hidden);
*capacitated maximal covering* (``capacity=``)
    as maximal covering, but each site serves at most ``capacity`` weight
    (e.g. kindergarten places per child: pass children as the weight).

Two solvers: ``method="exact"`` is a mixed-integer program solved by HiGHS
(through :func:`scipy.optimize.milp`), optimal unless the time limit stops it
(the remaining gap is reported); ``method="greedy"`` adds, one at a time, the
site that covers the most still-uncovered weight — fast, within (1 − 1/e) ≈ 63 %
of the optimum for maximal covering, and often optimal in practice, but with no
guarantee. Demand points that no candidate can tell apart are merged before the
model is built, so it grows with the number of distinct coverage patterns.

Candidate sites are network positions inside the check's gap polygons (every
``spacing`` metres along the streets there), the planner's own parcels (e.g.
vacant or idle public land), or both. What a proposal reports is recomputed
independently by :meth:`SitingResult.scenario`, which re-runs the normal
checks with the proposed sites added.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from .assessment import Assessment, RunState
from .checks import within
from .coords import to_crs
from .engine import DistanceEngine, snap_points
from .errors import InputDataError

__all__ = ["candidate_sites", "propose_sites", "propose_floor_area", "gaps_closed", "SitingResult"]


def _check_of(assessment: Assessment, check: str):
    for c in assessment.checks:
        if c.key == check and c.kind == "lifecircle":
            return c
    known = ", ".join(c.key for c in assessment.checks if c.kind == "lifecircle")
    raise InputDataError(f"no life-circle check '{check}' in this assessment", fix=f"choose one of: {known}")


def candidate_sites(
    assessment: Assessment,
    check: str,
    *,
    spacing: float = 50.0,
    parcels: gpd.GeoDataFrame | None = None,
    source: str = "gaps",
) -> gpd.GeoDataFrame:
    """Where new facilities could go.

    Parameters
    ----------
    assessment
        The assessment whose gaps are to be closed.
    check
        A life-circle check key (a facility category, e.g. ``kindergarten``).
    spacing
        Metres between candidate positions along the streets inside the gaps.
    parcels
        The planner's own candidate land (polygons: a point inside each is used;
        or points), any CRS.
    source
        ``"gaps"``, ``"parcels"`` or ``"both"``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``candidate`` (0-based id), ``source`` (``gap`` / ``parcel``),
        ``parcel`` (row of the parcel, or -1) and point geometry, in the
        assessment's CRS.
    """
    _check_of(assessment, check)
    net = assessment.network
    crs = net.crs
    xy_parts, src_parts, parcel_parts = [], [], []
    if source in ("gaps", "both"):
        g = assessment.gaps
        polys = np.asarray(g.loc[g["check"] == check].geometry.values, dtype=object)
        polys = polys[~(shapely.is_missing(polys) | shapely.is_empty(polys))]
        if len(polys):
            area = shapely.union_all(polys)
            e_idx = net.edge_index.query(area, predicate="intersects")
            pieces = shapely.get_parts(shapely.intersection(net.edge_geometry[e_idx], area))
            pieces = pieces[np.isin(shapely.get_type_id(pieces), [1, 2])]  # lines only
            length = shapely.length(pieces)
            n = np.maximum(np.floor(length / spacing).astype(int), 1)
            owner = np.repeat(np.arange(len(pieces)), n)
            k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
            # centred in each stretch of `spacing` metres
            pos = (k + 0.5) * (length[owner] / n[owner])
            pts = shapely.line_interpolate_point(pieces[owner], pos)
            xy = shapely.get_coordinates(pts)
            xy = np.unique(np.round(xy, 3), axis=0)
            xy_parts.append(xy)
            src_parts.append(np.full(len(xy), "gap", dtype=object))
            parcel_parts.append(np.full(len(xy), -1))
    if source in ("parcels", "both"):
        if parcels is None or len(parcels) == 0:
            raise InputDataError(
                "candidate parcels were asked for but none were given",
                fix="pass parcels= (polygons or points of land available for facilities)",
            )
        if parcels.crs is None:
            raise InputDataError("the parcels have no coordinate system", fix="set one (GeoDataFrame.set_crs)")
        geoms = np.asarray(to_crs(parcels, crs).geometry.values, dtype=object)
        ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        pts = shapely.point_on_surface(shapely.make_valid(geoms[ok]))
        xy_parts.append(shapely.get_coordinates(pts))
        src_parts.append(np.full(int(ok.sum()), "parcel", dtype=object))
        parcel_parts.append(np.flatnonzero(ok))
    if not xy_parts or sum(len(x) for x in xy_parts) == 0:
        return gpd.GeoDataFrame(
            {"candidate": np.zeros(0, int), "source": np.zeros(0, object), "parcel": np.zeros(0, int)},
            geometry=[],
            crs=crs,
        )
    xy = np.vstack(xy_parts)
    return gpd.GeoDataFrame(
        {"candidate": np.arange(len(xy)), "source": np.concatenate(src_parts), "parcel": np.concatenate(parcel_parts)},
        geometry=shapely.points(xy),
        crs=crs,
    )


@dataclass
class SitingResult:
    """Proposed sites for one check, what the model says they achieve, and how it was solved."""

    check: str
    category: str
    radius_m: float
    objective: str
    method: str
    sites: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    coverage: pd.DataFrame
    citywide_before: float
    citywide_after: float
    solver: dict[str, Any]
    base: Assessment = field(repr=False)
    uncoverable_weight: float = 0.0

    def facilities(self) -> gpd.GeoDataFrame:
        """The proposed sites as facilities of the check's category (for a scenario)."""
        cat_col = self.base.state.options.category_column if self.base.state else "category"
        f = self.sites[["rank", "geometry"]].copy()
        f[cat_col] = self.category
        f["name"] = [f"proposed {self.category} {r}" for r in self.sites["rank"]]
        return f

    def scenario(self, name: str | None = None) -> Assessment:
        """Re-run the normal checks with the proposed sites added (an independent check of the gains)."""
        from .scenario import scenario

        result = scenario(self.base, add=self.facilities(), name=name or f"proposals: {self.check}")
        result.layers["proposals"] = self.sites
        result.layers["gaps_closed"] = gaps_closed(self.base, result, self.check)
        result.parameters.update(
            {f"siting_{k}": v for k, v in self.solver.items() if isinstance(v, (int, float, str)) or v is None}
        )
        return result

    def __repr__(self) -> str:
        return (
            f"<SitingResult {self.check} ≤ {self.radius_m:g} m, {self.objective} by {self.method}: "
            f"{len(self.sites)} sites, citywide {self.citywide_before:.1f}% → {self.citywide_after:.1f}%, "
            f"{self.solver.get('status')}>"
        )


def _state(assessment: Assessment) -> RunState:
    if assessment.state is None:
        raise InputDataError(
            "this assessment keeps no state to site facilities from", fix="use the result of assess() directly"
        )
    return assessment.state


def _coverage_matrix(
    assessment: Assessment, check: str, cands: gpd.GeoDataFrame, radius: float, weight: np.ndarray | None
):
    """Uncovered demand points, their weights, and which candidates reach them (sparse, demand × candidate)."""
    st = _state(assessment)
    d_snap, d_comm = st.demand_snap, st.demand.community
    w = np.asarray(st.demand.weight if weight is None else weight, dtype=float)
    dist = st.distances.demand[check]
    todo = np.flatnonzero(~within(dist, radius) & d_snap.ok & np.isfinite(w) & (w > 0) & (d_comm >= 0))
    net = assessment.network
    c_snap = snap_points(
        net,
        np.asarray(cands.geometry.values, dtype=object),
        st.options.max_snap or assessment.parameters["max_snap_m"],
    )
    engine = DistanceEngine(net, c_snap)
    att = engine.attach(d_snap.take(todo))
    s_idx, t_idx, _ = engine.within(np.arange(len(cands)), att, radius)
    a = sp.csr_matrix((np.ones(len(s_idx), dtype=np.int8), (t_idx, s_idx)), shape=(len(todo), len(cands)))
    return todo, w[todo], a, c_snap


def _group_rows(a: sp.csr_matrix, w: np.ndarray):
    """Merge demand rows with identical candidate sets (random projection hash, then exact check)."""
    rng = np.random.default_rng(12345)
    h = a.astype(np.float64) @ rng.random((a.shape[1], 2))
    nnz = np.diff(a.indptr)
    key = np.column_stack([h, nnz])
    _, first, inverse = np.unique(np.round(key, 9), axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    weights = np.bincount(inverse, weights=w, minlength=len(first))
    g = a[first]
    # a hash collision would merge different rows: check it cannot have happened
    if (a != g[inverse]).nnz:
        return a, w, np.arange(a.shape[0])
    return g, weights, inverse


def _greedy(a: sp.csr_matrix, w: np.ndarray, k: int | None, cover_all: bool) -> list[int]:
    a_csc = a.tocsc()
    left = w.copy()
    coverable = np.diff(a.indptr) > 0
    chosen: list[int] = []
    while True:
        if k is not None and len(chosen) >= k:
            break
        if cover_all and not (left[coverable] > 0).any():
            break
        gains = a_csc.T @ left
        c = int(np.argmax(gains))
        if gains[c] <= 0:
            break
        chosen.append(c)
        rows = a_csc.indices[a_csc.indptr[c] : a_csc.indptr[c + 1]]
        left[rows] = 0.0
    return chosen


def _exact(
    a: sp.csr_matrix, w: np.ndarray, k: int | None, objective: str, capacity: float | None, time_limit: float
) -> tuple[list[int], dict[str, Any]]:
    from scipy.optimize import Bounds, LinearConstraint, milp

    n_g, n_c = a.shape
    if objective == "set_cover":
        rows = np.flatnonzero(np.diff(a.indptr) > 0)
        cons = [LinearConstraint(a[rows], lb=1, ub=np.inf)]
        res = milp(
            np.ones(n_c),
            integrality=np.ones(n_c),
            bounds=Bounds(0, 1),
            constraints=cons,
            options={"time_limit": time_limit, "disp": False},
        )
    elif capacity is None:
        # x (sites, binary) then y (groups, 0..1): max w·y, y_g <= sum_{c covers g} x_c, sum x <= k
        c = np.r_[np.zeros(n_c), -w]
        link = sp.hstack([-a, sp.identity(n_g, format="csr")], format="csr")
        cons = [LinearConstraint(link, lb=-np.inf, ub=0)]
        if k is not None:
            cons.append(LinearConstraint(sp.csr_matrix(np.r_[np.ones(n_c), np.zeros(n_g)]), lb=0, ub=k))
        res = milp(
            c,
            integrality=np.r_[np.ones(n_c), np.zeros(n_g)],
            bounds=Bounds(0, 1),
            constraints=cons,
            options={"time_limit": time_limit, "disp": False},
        )
    else:
        # assignment z_(g,c) for each pair: max sum w_g z, sum_c z <= 1, z <= x_c, sum_g w_g z <= C x_c
        coo = a.tocoo()
        n_p = len(coo.data)
        g_of, c_of = coo.row, coo.col
        c_obj = np.r_[np.zeros(n_c), -w[g_of]]
        one_per_group = sp.csr_matrix((np.ones(n_p), (g_of, n_c + np.arange(n_p))), shape=(n_g, n_c + n_p))
        z_le_x = sp.csr_matrix(
            (
                np.r_[-np.ones(n_p), np.ones(n_p)],
                (np.r_[np.arange(n_p), np.arange(n_p)], np.r_[c_of, n_c + np.arange(n_p)]),
            ),
            shape=(n_p, n_c + n_p),
        )
        cap = sp.csr_matrix(
            (
                np.r_[-capacity * np.ones(n_c), w[g_of]],
                (np.r_[np.arange(n_c), c_of], np.r_[np.arange(n_c), n_c + np.arange(n_p)]),
            ),
            shape=(n_c, n_c + n_p),
        )
        cons = [LinearConstraint(one_per_group, ub=1), LinearConstraint(z_le_x, ub=0), LinearConstraint(cap, ub=0)]
        if k is not None:
            cons.append(LinearConstraint(sp.csr_matrix(np.r_[np.ones(n_c), np.zeros(n_p)]), lb=0, ub=k))
        res = milp(
            c_obj,
            integrality=np.r_[np.ones(n_c), np.zeros(n_p)],
            bounds=Bounds(0, 1),
            constraints=cons,
            options={"time_limit": time_limit, "disp": False},
        )
    info = {
        "status": {0: "optimal", 1: "time limit reached", 2: "infeasible", 3: "unbounded"}.get(
            res.status, f"status {res.status}"
        ),
        "message": res.message,
        "mip_gap": float(getattr(res, "mip_gap", np.nan) or 0.0) if res.x is not None else np.nan,
    }
    if res.x is None:
        return [], info
    return sorted(np.flatnonzero(res.x[:n_c] > 0.5).tolist()), info


def propose_sites(
    assessment: Assessment,
    check: str,
    *,
    k: int | None = None,
    objective: str = "max_cover",
    candidates: gpd.GeoDataFrame | str = "gaps",
    parcels: gpd.GeoDataFrame | None = None,
    spacing: float = 50.0,
    method: str = "exact",
    time_limit: float = 60.0,
    capacity: float | None = None,
    weight: np.ndarray | None = None,
) -> SitingResult:
    """Propose new sites for one life-circle check.

    Parameters
    ----------
    assessment
        The assessment (its gaps and distances are the starting point).
    check
        The facility category to site (``kindergarten`` ...).
    k
        Number of sites (maximal covering; required there).
    objective
        ``"max_cover"`` or ``"set_cover"``.
    candidates
        ``"gaps"``, ``"parcels"``, ``"both"``, or a GeoDataFrame of your own candidate points.
    parcels
        Candidate land for ``"parcels"`` / ``"both"``.
    spacing
        Metres between candidate positions along streets in the gaps.
    method
        ``"exact"`` (HiGHS MILP) or ``"greedy"``.
    time_limit
        Seconds for the exact solver.
    capacity
        Most weight one site can serve (capacitated maximal covering).
    weight
        Demand weight per demand point to use instead of the assessment's (e.g.
        children: residents × the share aged 3–6).

    Returns
    -------
    SitingResult
    """
    from .options import SitingOptions

    checked = SitingOptions(  # every number and choice checked before any work (one-line errors)
        check=check,
        k=k,
        objective=objective,
        method=method,
        candidates=candidates if isinstance(candidates, str) else "gaps",
        candidate_spacing=spacing,
        capacity=capacity,
        time_limit=time_limit,
    )
    k, spacing, capacity, time_limit = checked.k, checked.candidate_spacing, checked.capacity, checked.time_limit
    chk = _check_of(assessment, check)
    if objective == "max_cover" and not k:
        raise InputDataError("maximal covering needs the number of sites", fix="pass k= (e.g. k=5)")
    if capacity is not None and objective != "max_cover":
        raise InputDataError("capacity applies to maximal covering only", fix="use objective='max_cover'")
    t0 = time.perf_counter()
    if isinstance(candidates, str):
        cands = candidate_sites(assessment, check, spacing=spacing, parcels=parcels, source=candidates)
    else:
        pts = to_crs(candidates, assessment.network.crs)
        cands = gpd.GeoDataFrame(
            {
                "candidate": np.arange(len(pts)),
                "source": pts["source"].to_numpy() if "source" in pts else "given",
                "parcel": pts["parcel"].to_numpy() if "parcel" in pts else -1,
            },
            geometry=shapely.point_on_surface(np.asarray(pts.geometry.values, dtype=object)),
            crs=assessment.network.crs,
        )
    radius = float(chk.radius_m)
    todo, w, a, c_snap = _coverage_matrix(assessment, check, cands, radius, weight)
    t_matrix = time.perf_counter() - t0
    g, gw, inverse = _group_rows(a, w)
    t1 = time.perf_counter()
    if method == "greedy" or g.shape[1] == 0:
        chosen = (
            _greedy(g, gw, k, objective == "set_cover") if capacity is None else _greedy_capacity(g, gw, k, capacity)
        )
        info = {"status": "heuristic (greedy)", "mip_gap": np.nan}
    else:
        chosen, info = _exact(g, gw, k, objective, capacity, time_limit)
    t_solve = time.perf_counter() - t1
    # rank the chosen sites by what each adds, and what each serves (capacity-limited if asked)
    order = _greedy(g[:, chosen], gw, None, False) if chosen else []
    ranked = [chosen[i] for i in order] + [c for c in chosen if c not in {chosen[i] for i in order}]
    a_csc = a.tocsc()
    covered_rows = np.zeros(a.shape[0], dtype=bool)
    gains = []
    for c in ranked:
        rows = a_csc.indices[a_csc.indptr[c] : a_csc.indptr[c + 1]]
        new = rows[~covered_rows[rows]]
        gains.append(float(w[new].sum()))
        covered_rows[new] = True
    left = w.copy()
    served = [_serve(a_csc, left, c, capacity) for c in ranked]
    st = _state(assessment)
    comm_ids = (
        assessment.communities[assessment.id_column].to_numpy()
        if assessment.id_column in assessment.communities
        else np.arange(1, len(assessment.communities) + 1)
    )
    from .demand import assign_to_communities

    site_geom = np.asarray(cands.geometry.values, dtype=object)[ranked] if ranked else np.zeros(0, object)
    site_comm = assign_to_communities(site_geom, np.asarray(assessment.communities.geometry.values, dtype=object))
    sites = gpd.GeoDataFrame(
        {
            "rank": np.arange(1, len(ranked) + 1),
            "check": check,
            "category": chk.category,
            "candidate": cands["candidate"].to_numpy()[ranked] if ranked else np.zeros(0, int),
            "source": cands["source"].to_numpy()[ranked] if ranked else np.zeros(0, object),
            "parcel": cands["parcel"].to_numpy()[ranked] if ranked else np.zeros(0, int),
            "covered_weight": gains,
            "served_weight": served,
            "snap_m": c_snap.access[ranked] if ranked else np.zeros(0),
            "community_id": [comm_ids[k] if k >= 0 else None for k in site_comm],
            "method": method,
            "objective": objective,
        },
        geometry=site_geom,
        crs=assessment.network.crs,
    )
    # coverage per community as the model reports it
    d_comm = st.demand.community
    w_all = np.asarray(st.demand.weight if weight is None else weight, dtype=float)
    use = (d_comm >= 0) & np.isfinite(w_all)
    reached_before = within(st.distances.demand[check], radius)
    reached_after = reached_before.copy()
    reached_after[todo[covered_rows]] = True
    n = len(assessment.communities)
    tot = np.bincount(d_comm[use], weights=w_all[use], minlength=n)
    before = np.bincount(d_comm[use & reached_before], weights=w_all[use & reached_before], minlength=n)
    after = np.bincount(d_comm[use & reached_after], weights=w_all[use & reached_after], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov_b = np.where(tot > 0, 100 * before / tot, np.nan)
        cov_a = np.where(tot > 0, 100 * after / tot, np.nan)
    coverage = pd.DataFrame(
        {
            "community_id": comm_ids,
            "coverage_before": cov_b,
            "coverage_after": cov_a,
            "change": cov_a - cov_b,
            "uncovered_before": tot - before,
            "uncovered_after": tot - after,
        }
    )
    total = float(tot.sum())
    coverable = np.diff(a.indptr) > 0
    info.update(
        {
            "method": "exact: mixed-integer program, HiGHS (scipy.optimize.milp)"
            if method == "exact"
            else "heuristic: greedy",
            "candidates": len(cands),
            "demand_points": int(a.shape[0]),
            "demand_groups": int(g.shape[0]),
            "time_matrix_s": t_matrix,
            "time_solve_s": t_solve,
            "covered_weight": float(sum(gains)),
            "served_weight": float(sum(served)),
            "capacity": capacity,
            "k": k,
        }
    )
    return SitingResult(
        check=check,
        category=chk.category,
        radius_m=radius,
        objective=objective,
        method=method,
        sites=sites,
        candidates=cands.assign(chosen=np.isin(cands["candidate"].to_numpy(), sites["candidate"].to_numpy())),
        coverage=coverage,
        citywide_before=100 * float(before.sum()) / total if total else np.nan,
        citywide_after=100 * float(after.sum()) / total if total else np.nan,
        solver=info,
        base=assessment,
        uncoverable_weight=float(w[~coverable].sum()),
    )


def _serve(a_csc: sp.csc_matrix, left: np.ndarray, c: int, capacity: float | None) -> float:
    """Serve the demand site ``c`` reaches (in row order, up to ``capacity``); return what it served."""
    rows = a_csc.indices[a_csc.indptr[c] : a_csc.indptr[c + 1]]
    want = left[rows]
    if capacity is None:
        take = want
    else:
        before = np.cumsum(want) - want
        take = np.clip(capacity - before, 0.0, want)
    left[rows] = want - take
    return float(take.sum())


def _greedy_capacity(a: sp.csr_matrix, w: np.ndarray, k: int | None, capacity: float) -> list[int]:
    """Greedy with capacity: each pick serves at most ``capacity`` of the weight it reaches."""
    a_csc = a.tocsc()
    left = w.copy()
    chosen: list[int] = []
    while k is None or len(chosen) < k:
        gains = np.minimum(a_csc.T @ left, capacity)
        gains[chosen] = -1
        c = int(np.argmax(gains))
        if gains[c] <= 0:
            break
        chosen.append(c)
        _serve(a_csc, left, c, capacity)
    return chosen


def gaps_closed(before: Assessment, after: Assessment, check: str) -> gpd.GeoDataFrame:
    """The parts of ``check``'s gaps in ``before`` that are no longer gaps in ``after``, per community."""
    gb = before.gaps[before.gaps["check"] == check]
    ga = after.gaps[after.gaps["check"] == check]
    # both come from the same grid: anything smaller than a quarter cell is a sliver of floating point
    min_part = 0.25 * before.timings.get("gap_grid_m", 1.0) ** 2
    rows = []
    after_by = {cid: geom for cid, geom in zip(ga["community_id"], ga.geometry)}
    for cid, geom in zip(gb["community_id"], gb.geometry):
        if geom is None or geom.is_empty:
            continue
        rest = after_by.get(cid)
        closed = geom if rest is None or rest.is_empty else shapely.difference(geom, rest)
        parts = shapely.get_parts(closed)
        parts = parts[np.isin(shapely.get_type_id(parts), [3, 6])]
        parts = parts[shapely.area(parts) >= min_part]
        if len(parts):
            rows.append(
                {
                    "community_id": cid,
                    "check": check,
                    "closed_area_m2": float(shapely.area(parts).sum()),
                    "geometry": shapely.union_all(parts),
                }
            )
    return gpd.GeoDataFrame(
        rows, columns=["community_id", "check", "closed_area_m2", "geometry"], geometry="geometry", crs=before.gaps.crs
    )


def propose_floor_area(assessment: Assessment, *, parcels: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Where the community service floor area falls short, a site per community, largest shortfall first.

    Each community with a shortfall gets one proposal of ``max(shortfall, minimum
    new size)`` m², placed on the largest given parcel inside it or, without
    parcels, at the street position nearest a point inside the community.

    Returns
    -------
    geopandas.GeoDataFrame
        ``rank``, ``community_id``, ``shortfall_m2``, ``proposed_m2``, ``placed_on``
        (``parcel`` / ``street``) and point geometry, in the assessment's CRS.
    """
    comm = assessment.communities
    if "fa_shortfall_m2" not in comm.columns:
        raise InputDataError(
            "this assessment has no floor-area check",
            fix="give facilities a floor-area column (floor_area_column=) and a profile with [floor_area]",
        )
    rule = assessment.profile.floor_area
    short = pd.to_numeric(comm["fa_shortfall_m2"], errors="coerce").to_numpy(dtype=float)
    order = np.argsort(-np.nan_to_num(short, nan=-1), kind="stable")
    picked = order[short[order] > 0]
    crs = assessment.network.crs
    geoms = np.asarray(comm.geometry.values, dtype=object)[picked]
    points = np.empty(len(picked), dtype=object)
    on_parcel = np.zeros(len(picked), dtype=bool)
    if parcels is not None and len(picked):
        par = np.asarray(to_crs(parcels, crs).geometry.values, dtype=object)
        hit_c, hit_p = shapely.STRtree(par).query(geoms, predicate="intersects")
        # each community's largest parcel (the first given among equals)
        first = np.lexsort((hit_p, -shapely.area(par[hit_p]), hit_c))
        hit_c, hit_p = hit_c[first], hit_p[first]
        lead = np.r_[True, hit_c[1:] != hit_c[:-1]] if len(hit_c) else np.zeros(0, dtype=bool)
        points[hit_c[lead]] = shapely.point_on_surface(par[hit_p[lead]])
        on_parcel[hit_c[lead]] = True
    street = np.flatnonzero(~on_parcel)
    if len(street):  # the street position nearest a point inside the community, or that point if off the network
        inner = shapely.point_on_surface(geoms[street])
        s = snap_points(assessment.network, inner)
        points[street] = np.where(s.ok, shapely.points(s.xy), inner)
    minimum = (rule.min_new_m2 or 0.0) if rule is not None else 0.0
    ids = comm[assessment.id_column].iloc[picked].to_numpy() if assessment.id_column in comm else picked + 1
    rows = {
        "rank": np.arange(1, len(picked) + 1),
        "community_id": ids,
        "shortfall_m2": short[picked],
        "proposed_m2": np.maximum(short[picked], minimum),
        "placed_on": np.where(on_parcel, "parcel", "street"),
    }
    return gpd.GeoDataFrame(rows, geometry=points, crs=crs)
