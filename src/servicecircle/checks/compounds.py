"""Coverage per residential compound (小区), below the community: the profile's ``[compounds]`` rule.

For every compound and every category of the rule (the categories of its life-circle levels, e.g.
the 5-minute tier, and those it names, e.g. 户外休闲运动设施), the share of the compound's demand —
the demand points inside its polygon, with their weights — within the category's walking radius:
``cov_<category>`` (%), and ``pass_<category>`` (share ≥ the rule's ``target_share``). A compound
with no demand point inside gets no share and no verdict (unknown, not 0). A category with no
facility in the input is not assessed (as for the community checks).

The compounds, their community (``community_id``) and these columns are the ``compounds`` layer; the
summary row and the scorecard give the share of compounds passing every assessed category.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from ..schema import coverage_column, pass_column
from .context import CheckOutcome, Context
from .measure import within

__all__ = ["compound_checks"]


def compound_checks(ctx: Context) -> list[CheckOutcome]:
    """The compound-level coverage check (nothing when the profile has no rule or there are no compounds)."""
    rule = ctx.profile.compounds
    comp = ctx.compounds
    if rule is None or comp is None or not len(comp):
        return []
    geom = np.asarray(comp.geometry.values, dtype=object)
    n = len(geom)
    tree = shapely.STRtree(geom)
    p_idx, c_idx = tree.query(ctx.d_geom, predicate="within")
    w = ctx.d_weight[p_idx]
    ok = np.isfinite(w)
    total = np.bincount(c_idx[ok], weights=w[ok], minlength=n)
    n_points = np.bincount(c_idx[ok], minlength=n)
    keys = [k for k in rule.categories if k in ctx.profile.categories and len(ctx.members(k))]
    columns: dict[str, Any] = {}
    verdicts: list[np.ndarray[Any, Any]] = []
    for key in keys:
        radius = ctx.profile.categories[key].radius_m
        dist = ctx.engine.point_distances(ctx.node_distances(key), ctx.d_att)[p_idx]
        reached = within(dist, radius) & ok
        covered = np.bincount(c_idx[reached], weights=w[reached], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where((n_points > 0) & (total > 0), 100.0 * covered / np.where(total > 0, total, 1.0), np.nan)
        verdict = np.where(np.isnan(share), np.nan, (share >= rule.target_share - 1e-9).astype(float))
        passed = pd.array([None if np.isnan(v) else bool(v) for v in verdict], dtype="boolean")
        columns[coverage_column(key)] = share
        columns[pass_column(key)] = passed
        verdicts.append(verdict)
    frame = comp.drop(columns=["community"]).copy()
    comm_pos = comp["community"].to_numpy()
    frame["community_id"] = pd.array([ctx.comm_ids[k] if k >= 0 else None for k in comm_pos], dtype=object)
    frame["weight_total"] = np.where(n_points > 0, total, np.nan)
    frame["n_demand"] = n_points
    for k, v in columns.items():
        frame[k] = v
    if verdicts:
        stacked = np.column_stack(verdicts)
        frame["checks_assessed"] = np.isfinite(stacked).sum(axis=1)
        frame["checks_failed"] = (stacked == 0).sum(axis=1)
        frame["checks_passed"] = (stacked == 1).sum(axis=1)
        every = np.isfinite(stacked).all(axis=1)
        all_pass = every & (stacked == 1).all(axis=1)
    else:
        frame["checks_assessed"] = frame["checks_failed"] = frame["checks_passed"] = 0
        every = all_pass = np.zeros(n, dtype=bool)
    assessed = int(every.sum())
    n_pass = int(all_pass.sum())
    share_pass = 100.0 * n_pass / assessed if assessed else np.nan
    key = "compounds"
    summary = {
        "check": key,
        "kind": "compound",
        "category": ", ".join(keys),
        "name_zh": rule.name_zh,
        "name_en": rule.name_en,
        "level": ", ".join(rule.levels),
        "target_pct": rule.target_share,
        "facilities": int(sum(len(ctx.members(k)) for k in keys)),
        "weight_kind": ctx.weight_kind,
        "confirmed": rule.confirmed,
        "source": rule.source,
    }
    scorecard = [
        {
            "target_key": key,
            "name_zh": f"{rule.name_zh}：各项均达标的小区占比",
            "name_en": f"{rule.name_en}: compounds passing every category",
            "value": share_pass,
            "unit": "%",
            "target": 100.0,
            "comparison": ">=",
            "passed": None if np.isnan(share_pass) else bool(share_pass >= 100.0 - 1e-9),
            "method": f"{n_pass} of {assessed} compounds with demand inside ({n} compounds; "
            f"{len(keys)} categories with facilities)",
            "source": rule.source,
            "confirmed": rule.confirmed,
        }
    ]
    return [
        CheckOutcome(
            key=key,
            kind="compound",
            name_zh=rule.name_zh,
            name_en=rule.name_en,
            source=rule.source,
            confirmed=rule.confirmed,
            summary=summary,
            scorecard=scorecard,
            layers={"compounds": frame},
            target=rule.target_share,
        )
    ]
