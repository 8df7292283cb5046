"""Reach checks: the share of each community's people within a walking distance.

For a community *c*, a set of destinations and a radius *r*::

    covered(c)   = Σ weight(d)  over demand points d in c with distance(d) ≤ r
    total(c)     = Σ weight(d)  over demand points d in c with a known weight
    share(c)     = 100 × covered(c) / total(c)            (percent)
    uncovered(c) = total(c) − covered(c)
    pass(c)      = share(c) ≥ target share (profile; 100 % unless it says otherwise)

A demand point that could not be snapped to the network (farther than
``max_snap`` from every street) or that lies in a part of the network with no
destination counts as *not* within reach. A community with no demand weight (no
households known, or no demand point) has no share and no pass/fail: it is
reported, not passed. The life-circle check applies this to every facility
category of the profile found in the input; the green and park checks
(:mod:`servicecircle.checks.greenspace`) apply it to green-space access points.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..network.walking import DEFAULT_GROUP
from ..profiles import Category
from ..schema import coverage_column, pass_column, uncovered_column
from .context import CheckOutcome, Context
from .measure import WITHIN_TOLERANCE, coverage, nullable, within

if TYPE_CHECKING:
    from .gaps import GapGrid

__all__ = ["WITHIN_TOLERANCE", "within", "coverage", "reach_outcome", "lifecircle_checks"]


def _passed(share: NDArray[np.float64], target: float) -> pd.arrays.BooleanArray:
    return nullable(share >= target - 1e-9, ~np.isnan(share))


def reach_outcome(
    ctx: Context,
    *,
    key: str,
    kind: str,
    name_zh: str,
    name_en: str,
    radius: float,
    target: float,
    source: str,
    confirmed: bool,
    dist: NDArray[np.float64],
    cell_dist: Callable[[GapGrid], NDArray[np.float64]],
    weight: NDArray[np.float64],
    weight_kind: str,
    category: str | None = None,
    level: str = "",
    level_name_zh: str = "",
    level_name_en: str = "",
    destinations: int = 0,
    destinations_unsnapped: int = 0,
    applies: NDArray[np.bool_] | None = None,
    radii: NDArray[np.float64] | None = None,
    radius_text: str = "",
) -> CheckOutcome:
    """Coverage, pass/fail, summary, scorecard and gaps of one reach check.

    ``dist`` is the distance of every demand point; ``cell_dist`` a function
    ``grid -> distances of the gap grid's cells``, used when the gaps of failing
    communities are traced (:func:`servicecircle.checks.gaps.trace_gaps`).
    ``applies`` (per community) limits the check to the communities of the
    types it is for: the others get no share and no pass/fail. ``radii`` (per
    community) replaces ``radius`` where the radius depends on the community's
    type; ``radius_text`` then says so in the method.
    """
    n = ctx.n_comm
    if radii is not None:
        reached = within(dist, np.where(ctx.d_comm >= 0, radii[np.maximum(ctx.d_comm, 0)], radius))
    else:
        reached = within(dist, radius)
    total, covered, share = coverage(ctx.d_comm, weight, reached, n)
    if applies is not None:
        share = np.where(applies, share, np.nan)
        total = np.where(applies, total, np.nan)
    passed = _passed(share, target)
    cov_col, pass_col, unc_col = coverage_column(key), pass_column(key), uncovered_column(key)
    columns = {cov_col: share, pass_col: passed, unc_col: np.where(np.isnan(share), np.nan, total - covered)}
    assessed = int((~passed.isna()).sum())
    # pandas-stubs give BooleanArray no __eq__ (object's, -> bool); it is elementwise, -> BooleanArray
    n_pass = int((passed == True).sum())  # type: ignore[comparison-overlap,attr-defined]  # noqa: E712
    use = (ctx.d_comm >= 0) & np.isfinite(weight)
    if applies is not None:
        use &= applies[np.maximum(ctx.d_comm, 0)]
    tot = float(weight[use].sum())
    cov = float(weight[use & reached].sum())
    city = 100.0 * cov / tot if tot > 0 else np.nan
    summary = {
        "check": key,
        "kind": kind,
        "category": category or key,
        "name_zh": name_zh,
        "name_en": name_en,
        "level": level,
        "level_zh": level_name_zh,
        "radius_m": radius,
        "target_pct": target,
        "facilities": destinations,
        "facilities_unsnapped": destinations_unsnapped,
        "communities_assessed": assessed,
        "communities_passed": n_pass,
        "communities_failed": assessed - n_pass,
        "citywide_coverage_pct": city,
        "uncovered_weight": tot - cov,
        "weight_kind": weight_kind,
        "confirmed": confirmed,
        "source": source,
        # a check in metres is the adult view (the group whose metre radii are today's); a time check says its own
        "group": DEFAULT_GROUP if radius else None,
    }
    scorecard = [
        {
            "target_key": key,
            # green rules carry their radius in their name already ("300米见绿")
            "name_zh": name_zh if f"{radius:g}" in name_zh else f"{name_zh}（{radius:g}米内）",
            "name_en": name_en if f"{radius:g}" in name_en else f"{name_en} within {radius:g} m",
            "value": city,
            "unit": f"% of {weight_kind}",
            "target": target,
            "comparison": ">=",
            "passed": bool(city >= target - 1e-9) if np.isfinite(city) else None,
            "method": f"share of {weight_kind} whose walking distance to the nearest "
            f"{'destination' if category is None else category} is ≤ {radius_text or f'{radius:g} m'} "
            + ("(all communities)" if applies is None else f"({int(applies.sum())} communities it applies to)"),
            "source": source,
            "confirmed": confirmed,
        }
    ]
    out = CheckOutcome(
        key=key,
        kind=kind,
        name_zh=name_zh,
        name_en=name_en,
        source=source,
        confirmed=confirmed,
        columns=columns,
        pass_col=pass_col,
        score_col=cov_col,
        score_unit="%",
        summary=summary,
        scorecard=scorecard,
        category=category,
        radius_m=radius,
        target=target,
        cov_col=cov_col,
        unc_col=unc_col,
        level=level,
        level_name_zh=level_name_zh,
        level_name_en=level_name_en,
        applies=applies,
    )
    fail = np.flatnonzero(np.asarray(passed.fillna(True)) == False)  # noqa: E712
    if len(fail):  # traced later, on one grid for all checks (see gaps.trace_gaps)
        out.pending_gaps = {
            "fail": fail,
            "cell_dist": cell_dist,
            "radius": radius if radii is None else radii,
            "rows": {  # a column each: one value for all, or one per failing community (in ``fail``'s order)
                "community_id": np.asarray(ctx.comm_ids, dtype=object)[fail],
                "check": key,
                "category": category or key,
                "name_zh": name_zh,
                "name_en": name_en,
                "level": level,
                "radius_m": radius if radii is None else np.asarray(radii, dtype=float)[fail],
                "coverage_pct": np.asarray(share, dtype=float)[fail],
                "target_pct": target,
                "uncovered_weight": (np.asarray(total, dtype=float) - np.asarray(covered, dtype=float))[fail],
                "weight_kind": weight_kind,
                "community_area_m2": np.asarray(ctx.comm_area, dtype=float)[fail],
            },
        }
    return out


def lifecircle_checks(ctx: Context, present: list[str]) -> list[CheckOutcome]:
    """One reach check per profile category present in the facilities (``check = true``)."""
    prof = ctx.profile
    outcomes: list[CheckOutcome] = []
    for key in present:
        cat = prof.categories.get(key)
        if cat is None or not cat.check:
            continue
        level = prof.levels.get(cat.level)
        members = ctx.members(key)
        node_dist = ctx.node_distances(key)

        def cell_dist(grid: GapGrid, nd: NDArray[np.float64] = node_dist) -> NDArray[np.float64]:
            return grid.distances(nd, ctx.engine)

        applies, radii, radius_text = type_scope(ctx, cat)

        outcomes.append(
            reach_outcome(
                ctx,
                key=key,
                kind="lifecircle",
                name_zh=cat.name_zh,
                name_en=cat.name_en,
                radius=float(cat.radius_m),
                target=float(cat.target_share),
                source=cat.source,
                confirmed=bool(cat.confirmed),
                dist=ctx.engine.point_distances(node_dist, ctx.d_att),
                cell_dist=cell_dist,
                weight=ctx.d_weight,
                weight_kind=ctx.weight_kind,
                category=key,
                level=cat.level,
                level_name_zh=level.name_zh if level else cat.level,
                level_name_en=level.name_en if level else cat.level,
                destinations=len(members),
                destinations_unsnapped=int((~ctx.fac_snap.ok[members]).sum()),
                applies=applies,
                radii=radii,
                radius_text=radius_text,
            )
        )
    return outcomes


def type_scope(ctx: Context, cat: Category) -> tuple[NDArray[np.bool_] | None, NDArray[np.float64] | None, str]:
    """Which communities a category's check applies to, and their radii when they differ by type.

    Returns ``(applies, radii, radius_text)``: ``applies`` is None when the check
    applies to every community; ``radii`` is None when every community has the
    category's ``radius_m``.
    """
    applies = ctx.scope(cat.applies_to, f"the {cat.name_en} check")
    if not cat.by_type:
        return applies, None, ""
    types = ctx.types()
    radii = np.array([cat.radius_for(t) for t in types], dtype=float)
    if np.all(radii == cat.radius_m):
        return applies, None, ""
    parts = [f"{cat.radius_m:g} m"] + [f"{r.radius_m:g} m in {t} communities" for t, r in cat.by_type.items()]
    return applies, radii, ", ".join(parts)
