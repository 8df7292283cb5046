"""The Meishan "6个1" set (profile ``[six_ones]``): six functions every community should have.

For each item (elderly service, childcare, supermarket, health, public activity
space, open public green space) and each community *c*, a status:

``inside``
    a facility of one of the item's categories lies inside *c* (a point on a
    shared boundary belongs to the community listed first);
``within_<r>m``
    none inside, but at least ``reach_share`` percent (profile ``[six_ones]
    reach_share``, 50 unless it says otherwise) of *c*'s demand weight has a
    facility of the item within the item's ``radius_m`` walking distance;
``missing``
    neither;
empty (``None``)
    not assessable: none inside and *c* has no demand weight, or the input has
    no facility of any of the item's categories (then the item is not
    assessed at all, with a warning: the data probably leaves them out).

Destinations that are not facility points count too: with a green-space layer,
the open public green space item (category ``public_green``) is met by a green
space large enough to count as green (profile ``[greenspace.green]``) inside the
community or within the item's radius.

Per community: ``six_present`` (items inside or within reach), ``six_missing``
(the missing items' keys) and ``pass_six_ones``: true when every item is
present, false when one is missing, empty when none is missing but one could
not be assessed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import source_of, warn_data
from ..schema import SIX_INSIDE, SIX_MISSING, pass_column, present_column, six_ones_column, six_within_status
from .context import CheckOutcome, Context
from .measure import coverage, nullable, within

__all__ = ["six_ones_checks"]


def six_ones_checks(ctx: Context) -> list[CheckOutcome]:
    """One outcome for the profile's 6个1 set (``[]`` when the profile has none)."""
    prof = ctx.profile
    items = prof.six_ones
    if not items:
        return []
    n = ctx.n_comm
    need = float(prof.six_ones_reach_share)
    fac_comm = ctx.facility_community()
    d_comm = np.asarray(ctx.d_comm)
    weight = np.asarray(ctx.d_weight, dtype=float)

    columns: dict[str, object] = {}
    present = np.zeros(n, dtype=np.int64)
    n_missing = np.zeros(n, dtype=np.int64)
    n_unknown = np.zeros(n, dtype=np.int64)
    missing_keys: list[list[str]] = [[] for _ in range(n)]
    absent: list[str] = []
    per_item: list[dict[str, Any]] = []
    for item in items:  # six of them
        members = ctx.members(item.categories)
        status = np.full(n, None, dtype=object)
        other = [ctx.destinations[c] for c in item.categories if c in ctx.destinations]
        app = ctx.applies(item.applies_to)
        if len(members) == 0 and not other:
            absent.append(item.key)
            n_unknown += app
            columns[six_ones_column(item.key)] = status
            per_item.append({"item": item, "assessed": 0, "present": 0, "inside": 0, "within": 0})
            continue
        fc = fac_comm[members]
        inside = np.zeros(n, dtype=bool)
        inside[fc[fc >= 0]] = True
        dist = np.full(len(d_comm), np.inf)
        if len(members):
            # nearest of several categories = the nearest of their nearest: reuse what is computed
            found = sorted({str(k) for k in ctx.fac_key[members]})
            node_dist = (
                np.min(np.vstack([ctx.node_distances(c) for c in found]), axis=0)
                if len(found) > 1
                else ctx.node_distances(found[0])
            )
            dist = ctx.engine.point_distances(node_dist, ctx.d_att)
        for dest in other:  # e.g. green spaces for "open public green space"
            inside |= dest["inside"]
            dist = np.fmin(dist, dest["dist"])
        reached = within(dist, item.radius_m)
        _, _, share = coverage(d_comm, weight, reached, n)
        with np.errstate(invalid="ignore"):
            near = ~inside & np.isfinite(share) & (share >= need - 1e-9)
        gone = ~inside & ~near & np.isfinite(share)
        inside, near, gone = inside & app, near & app, gone & app  # an item not for this type of community
        status[inside] = SIX_INSIDE
        status[near] = six_within_status(item.radius_m)
        status[gone] = SIX_MISSING
        unknown = ~(inside | near | gone) & app
        present += inside | near
        n_missing += gone
        n_unknown += unknown
        for k in np.flatnonzero(gone):
            missing_keys[k].append(item.key)
        columns[six_ones_column(item.key)] = status
        per_item.append(
            {
                "item": item,
                "assessed": int((~unknown).sum()),
                "present": int((inside | near).sum()),
                "inside": int(inside.sum()),
                "within": int(near.sum()),
            }
        )
    if absent:
        file, layer = source_of(ctx.facilities)
        names = "; ".join(f"{it.key} ({', '.join(it.categories)})" for it in items if it.key in absent)
        verb = "has" if len(absent) == 1 else "have"
        warn_data(
            "six_ones_item_not_assessed",
            f"{len(absent)} of the {len(items)} 6个1 items {verb} no "
            f"facility in the input and {'was' if len(absent) == 1 else 'were'} not assessed: {names}",
            file=file,
            layer=layer,
            count=len(absent),
        )

    known = (n_missing > 0) | (n_unknown == 0)
    passed = nullable(n_missing == 0, known)
    columns["six_present"] = present
    columns["six_missing"] = np.array([",".join(m) for m in missing_keys], dtype=object)
    columns[pass_column("six_ones")] = passed

    assessed = int(known.sum())
    # pandas-stubs give BooleanArray no __eq__ (object's, -> bool); it is elementwise, -> BooleanArray
    n_pass = int((passed == True).sum())  # type: ignore[comparison-overlap,attr-defined]  # noqa: E712
    share_all = 100.0 * n_pass / assessed if assessed else np.nan
    name_zh = prof.six_ones_name_zh or "6个1"
    name_en = prof.six_ones_name_en or "The six ones"
    source = prof.six_ones_source or prof.source
    confirmed = all(it.confirmed for it in items)
    radii = ", ".join(f"{it.key} {it.radius_m:g} m" for it in items)
    summary = {
        "check": "six_ones",
        "kind": "six_ones",
        "category": "six_ones",
        "name_zh": name_zh,
        "name_en": name_en,
        "level": "",
        "level_zh": "",
        "radius_m": np.nan,
        "target_pct": np.nan,
        "target": len(items),
        "target_unit": f"of {len(items)}",
        "reach_share_pct": need,
        "items": len(items),
        "items_not_assessed": ",".join(absent),
        "facilities": int(len(ctx.members(sorted({c for it in items for c in it.categories})))),
        "facilities_unsnapped": np.nan,
        "communities_assessed": assessed,
        "communities_passed": n_pass,
        "communities_failed": assessed - n_pass,
        "citywide_coverage_pct": np.nan,
        "share_all_present_pct": share_all,
        "uncovered_weight": np.nan,
        "weight_kind": ctx.weight_kind,
        "confirmed": confirmed,
        "source": source,
        **{present_column(p["item"].key): p["present"] for p in per_item},
    }
    scorecard = [
        {
            "target_key": "six_ones",
            "name_zh": f"{name_zh}齐全的社区比例",
            "name_en": f"{name_en}: communities with all",
            "value": share_all,
            "unit": "% of communities",
            "target": 100.0,
            "comparison": ">=",
            "passed": bool(share_all >= 100.0 - 1e-9) if assessed else None,
            "method": f"share of the {assessed} assessable communities where every item has a facility inside "
            f"the community or within its radius ({radii}) of at least {need:g}% of the community's "
            f"{ctx.weight_kind}",
            "source": source,
            "confirmed": confirmed,
        }
    ]
    for p in per_item:
        it = p["item"]
        value = 100.0 * p["present"] / p["assessed"] if p["assessed"] else np.nan
        scorecard.append(
            {
                "target_key": six_ones_column(it.key),
                "name_zh": f"{name_zh}：{it.name_zh}",
                "name_en": f"{name_en}: {it.name_en}",
                "value": value,
                "unit": "% of communities",
                "target": 100.0,
                "comparison": ">=",
                "passed": bool(value >= 100.0 - 1e-9) if p["assessed"] else None,
                "method": (
                    f"share of communities with a {', '.join(it.categories)} facility inside or within "
                    f"{it.radius_m:g} m of at least {need:g}% of their {ctx.weight_kind} "
                    f"({p['inside']} inside, {p['within']} within reach, of {p['assessed']})"
                )
                if p["assessed"]
                else f"not assessed: no {', '.join(it.categories)} facility in the input",
                "source": it.source,
                "confirmed": it.confirmed,
            }
        )
    return [
        CheckOutcome(
            key="six_ones",
            kind="six_ones",
            name_zh=name_zh,
            name_en=name_en,
            source=source,
            confirmed=confirmed,
            columns=columns,
            pass_col=pass_column("six_ones"),
            score_col="six_present",
            score_unit=f"of {len(items)}",
            summary=summary,
            scorecard=scorecard,
            target=float(len(items)),
        )
    ]
