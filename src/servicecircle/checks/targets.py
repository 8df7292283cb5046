"""The profile's unit targets: counts, shares of units, co-location, attribute shares, minimum sizes.

The targets are data (:mod:`servicecircle.profiles.targets`); this module
computes them. For a target with ``categories`` *C*:

count (``[counts.<key>]``)
    ``n(u)`` = facilities of *C* inside the communities of unit *u*;
    ``pass(u) = n(u) ≥ min_count``. Units: each community, each township
    (街道/乡镇) or county (区/县) the communities roll up to, or the whole study
    area (``city``: ``n`` counts every facility of *C* inside a community).
    Scorecard: the share of units passing (target 100 %), or for ``city`` the
    count itself against ``min_count``.
unit share (``[unit_shares.<key>]``)
    ``has(u) = n(u) ≥ min_count``; ``share = 100 × #has / #units``;
    pass when ``share ≥ target_pct``.
co-location (``[colocations.<key>]``)
    For each facility *f* of *C*: ``d(f)`` = the exact walking distance (the
    engine's, access legs included) to the nearest facility of
    ``near_categories``; ``ok(f) = d(f) ≤ within_m``. Per community: pass when
    every facility of *C* inside it is ok. Scorecard: the share of facilities
    ok against ``target_pct``.
attribute share (``[attribute_shares.<key>]``)
    The facilities of *C* whose yes/no ``attribute`` (from the first of
    ``columns`` the facilities have) is yes, as a share of those where it is
    known, against ``target_pct``.
facility minimum (``[facility_minimums.<key>]``)
    Each facility of *C* of the target's ``build_type`` has a floor area
    ``≥ min_m2``. Per community: pass when every such facility inside it does.

Community types: a target applies to the communities of the types in its
``applies_to``; a unit above the community is counted when at least one of
its communities is of such a type, and a facility when its community is.
Nothing unknown is counted as zero: a unit level the communities do not roll
up to, a missing column, or no facility of *C* at all leaves the target not
assessed, with a warning saying why.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from ..errors import feature_label, source_of, warn_data
from ..profiles.targets import Target
from ..schema import inside_column, pass_column, target_layer
from .context import CheckOutcome, Context
from .floorarea import AREA_TOLERANCE, build_type_kind
from .indicators import _community_ids
from .measure import every_facility_passes, nullable, within

__all__ = ["target_checks", "YES_WORDS", "NO_WORDS", "yes_no"]

#: Values read as "yes" in an attribute column (after NFKC, case-folding and trimming).
YES_WORDS = frozenset({"1", "true", "t", "yes", "y", "是", "有", "√", "✓", "普惠", "普惠性", "inclusive"})
#: Values read as "no".
NO_WORDS = frozenset({"0", "false", "f", "no", "n", "否", "无", "×", "非普惠", "非普惠性", "not inclusive"})


def yes_no(values: Any) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Read a yes/no column: ``(yes, known)`` per value.

    Booleans and the numbers 0/1 are themselves; texts are read with
    :data:`YES_WORDS` and :data:`NO_WORDS`; anything else is unknown.

    >>> yes, known = yes_no([True, "是", "否", 1, 0.0, None, "maybe", " Yes "])
    >>> yes.tolist(), known.tolist()
    ([True, True, False, True, False, False, False, True], [True, True, True, True, True, False, False, True])
    """
    vals = list(values)
    yes = np.zeros(len(vals), dtype=bool)
    known = np.zeros(len(vals), dtype=bool)
    for i, v in enumerate(vals):  # one pass over a facility column, not a hot path
        if isinstance(v, (bool, np.bool_)):
            yes[i], known[i] = bool(v), True
        elif isinstance(v, (int, float, np.integer, np.floating)):
            if v in (0, 1):
                yes[i], known[i] = v == 1, True
        elif isinstance(v, str):
            word = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", v)).strip().casefold()
            if word in YES_WORDS:
                yes[i], known[i] = True, True
            elif word in NO_WORDS:
                known[i] = True
    return yes, known


# --------------------------------------------------------------------------- #
# units
# --------------------------------------------------------------------------- #


def _units(ctx: Context, t: Target) -> tuple[NDArray[np.int64], list[str], list[str]] | None:
    """The unit of each community (position in the unit list, -1: unknown), the units' codes and names.

    None (with a warning) when the communities do not roll up to the target's unit.
    """
    n = ctx.n_comm
    if t.unit == "community":
        ids = [str(i) for i in ctx.comm_ids]
        return np.arange(n, dtype=np.int64), ids, ids
    if t.unit == "city":
        return np.zeros(n, dtype=np.int64), ["city"], ["study area"]
    codes = ctx.comm_units.get(t.unit)
    if codes is None or pd.isna(pd.Series(codes, dtype=object)).all():
        why = f"the communities have no {t.unit} (give their codes and a code register, or a {t.unit}_column)"
        ctx.not_assessed[t.key] = why
        warn_data("target_not_assessed", f"target {t.key} ({t.name_en}) was not assessed: {why}")
        return None
    s = pd.Series(codes, dtype=object)
    known = ~s.isna()
    uniq = sorted({str(c) for c in s[known]})
    pos = np.full(n, -1, dtype=np.int64)
    pos[known.to_numpy()] = np.searchsorted(np.array(uniq, dtype=object), s[known].astype(str).to_numpy())
    if (~known).any():
        warn_data(
            "target_unit_unknown",
            f"{int((~known).sum())} communities have no {t.unit}: target {t.key} leaves them out",
            count=int((~known).sum()),
        )
    names = ctx.unit_names.get(t.unit, {})
    return pos, uniq, [names.get(c, c) for c in uniq]


def _unit_geometry(ctx: Context, unit_of: NDArray[np.int64], n_units: int) -> list[Any]:
    geoms: list[Any] = []
    for u in range(n_units):  # a few dozen units, each a union of its communities
        members = ctx.comm_geom[unit_of == u]
        geoms.append(shapely.union_all(members) if len(members) else None)
    return geoms


def _outcome(
    ctx: Context,
    t: Target,
    *,
    columns: dict[str, Any],
    pass_col: str | None,
    score_col: str | None,
    score_unit: str,
    value: float,
    unit: str,
    target: float,
    assessed: int,
    passed: bool | None,
    method: str,
    layer: gpd.GeoDataFrame | None,
    extra: dict[str, Any],
) -> CheckOutcome:
    comm_pass = columns.get(pass_col) if pass_col else None
    if comm_pass is not None:
        c_assessed = int((~comm_pass.isna()).sum())
        c_pass = int((comm_pass == True).sum())  # noqa: E712
    summary = {
        "check": t.key,
        "kind": t.kind,
        "category": ", ".join(t.categories),
        "name_zh": t.name_zh,
        "name_en": t.name_en,
        "level": t.unit if t.kind in ("count", "unit_share") else "",
        "level_zh": "",
        "radius_m": t.within_m if t.within_m is not None else np.nan,
        "target_pct": t.target_pct if t.kind != "count" else np.nan,
        "target": target,
        "target_unit": unit,
        "facilities": int(len(ctx.members(t.categories))),
        "communities_assessed": c_assessed if comm_pass is not None else np.nan,
        "communities_passed": c_pass if comm_pass is not None else np.nan,
        "communities_failed": c_assessed - c_pass if comm_pass is not None else np.nan,
        "citywide_coverage_pct": np.nan,
        "uncovered_weight": np.nan,
        "weight_kind": ctx.weight_kind,
        "confirmed": t.confirmed,
        "source": t.source,
        "applies_to": ",".join(t.applies_to),
        "assessed": assessed,
        **extra,
    }
    scorecard = {
        "target_key": t.key,
        "name_zh": t.name_zh,
        "name_en": t.name_en,
        "value": value,
        "unit": unit,
        "target": target,
        "comparison": ">=",
        "passed": passed,
        "method": method,
        "source": t.source,
        "confirmed": t.confirmed,
    }
    return CheckOutcome(
        key=t.key,
        kind=t.kind,
        name_zh=t.name_zh,
        name_en=t.name_en,
        source=t.source,
        confirmed=bool(t.confirmed),
        columns=columns,
        pass_col=pass_col,
        score_col=score_col,
        score_unit=score_unit,
        summary=summary,
        scorecard=[scorecard],
        layers={} if layer is None else {target_layer(t.key): layer},
        target=target,
        radius_m=t.within_m,
    )


def _not_assessed(ctx: Context, t: Target, why: str) -> None:
    """Record why target ``t`` gave no result (the register reports it) and warn."""
    ctx.not_assessed[t.key] = why
    file, layer = source_of(ctx.facilities)
    warn_data("target_not_assessed", f"target {t.key} ({t.name_en}) was not assessed: {why}", file=file, layer=layer)


def _share(k: int, of: int) -> float:
    return 100.0 * k / of if of else np.nan


def _count(ctx: Context, t: Target, unit_share: bool) -> CheckOutcome | None:
    got = _units(ctx, t)
    if got is None:
        return None
    unit_of, codes, names = got
    members = ctx.members(t.categories)
    cats = ", ".join(t.categories)
    if len(members) == 0:  # no facility of them at all: the input may not map them (unknown, not 0)
        _not_assessed(ctx, t, f"no facility of {cats} in the input")
        return None
    fc = ctx.facility_community()[members]
    fc = fc[fc >= 0]
    n_units = len(codes)
    fu = unit_of[fc]
    per_unit = np.bincount(fu[fu >= 0], minlength=n_units)
    comm_applies = ctx.scope(t.applies_to, f"target {t.key}")
    if comm_applies is None:
        comm_applies = np.ones(ctx.n_comm, dtype=bool)
    applies_u = np.zeros(n_units, dtype=bool)
    known = unit_of >= 0
    applies_u[unit_of[known & comm_applies]] = True
    if t.unit == "city":
        applies_u[:] = True
    ok_u = per_unit >= t.min_count
    n_app = int(applies_u.sum())
    n_ok = int((ok_u & applies_u).sum())
    what = f"≥ {t.min_count} {cats}"
    columns: dict[str, Any] = {}
    pass_col = score_col = None
    layer = None
    if t.unit == "community":
        pass_col = pass_column(t.key)
        columns[inside_column(t.key)] = per_unit.astype(np.int64)
        columns[pass_col] = nullable(ok_u, applies_u)
        score_col = inside_column(t.key)
    elif t.unit != "city":
        geoms = _unit_geometry(ctx, unit_of, n_units)
        layer = gpd.GeoDataFrame(
            {
                "unit_level": t.unit,
                "unit_code": codes,
                "unit_name": names,
                "communities": np.bincount(unit_of[known], minlength=n_units),
                "facilities": per_unit,
                "target": what,
                "applies": applies_u,
                "passed": nullable(ok_u, applies_u),
            },
            geometry=gpd.GeoSeries(geoms, crs=ctx.crs),
            crs=ctx.crs,
        )
    if t.unit == "city":
        count = int(per_unit[0]) if n_units else 0
        value, unit, target = float(count), "facilities", float(t.min_count)
        passed: bool | None = count >= t.min_count
        method = f"facilities of {cats} inside the study area's communities, against ≥ {t.min_count}"
    elif unit_share:
        value, unit, target = _share(n_ok, n_app), f"% of {t.unit}s", t.target_pct
        passed = bool(value >= t.target_pct - 1e-9) if n_app else None
        method = f"share of the {n_app} {t.unit}s (of {', '.join(t.applies_to)} communities) with {what}"
    else:
        value, unit, target = _share(n_ok, n_app), f"% of {t.unit}s", 100.0
        passed = bool(n_ok == n_app) if n_app else None
        method = f"share of the {n_app} {t.unit}s (of {', '.join(t.applies_to)} communities) with {what} inside"
    return _outcome(
        ctx,
        t,
        columns=columns,
        pass_col=pass_col,
        score_col=score_col,
        score_unit="facilities",
        value=value,
        unit=unit,
        target=target,
        assessed=n_app,
        passed=passed,
        method=method,
        layer=layer,
        extra={"units_assessed": n_app, "units_passed": n_ok, "units_failed": n_app - n_ok},
    )


def _facility_layer(ctx: Context, t: Target, src: NDArray[np.intp], cols: dict[str, Any]) -> gpd.GeoDataFrame:
    fc = ctx.facility_community()[src]
    return gpd.GeoDataFrame(
        {"facility": src + 1, "category": ctx.fac_key[src], "community_id": _community_ids(ctx, fc), **cols},
        geometry=gpd.GeoSeries(ctx.fac_geom[src], crs=ctx.crs),
        crs=ctx.crs,
    )


def _facility_scope(ctx: Context, t: Target, src: NDArray[np.intp]) -> NDArray[np.bool_]:
    """Whether each facility's community is of a type the target applies to."""
    comm = ctx.scope(t.applies_to, f"target {t.key}")
    if comm is None:
        return np.ones(len(src), dtype=bool)
    fc = ctx.facility_community()[src]
    return np.where(fc >= 0, comm[np.maximum(fc, 0)], False)


def _facility_share(
    ctx: Context,
    t: Target,
    src: NDArray[np.intp],
    ok: NDArray[np.bool_],
    known: NDArray[np.bool_],
    layer_cols: dict[str, Any],
    method: str,
    per_community: bool,
) -> CheckOutcome:
    k = int(known.sum())
    n_ok = int((ok & known).sum())
    value = _share(n_ok, k)
    columns: dict[str, Any] = {}
    pass_col = None
    if per_community:
        pass_col = pass_column(t.key)
        columns[pass_col] = every_facility_passes(ctx.facility_community()[src], ok, known, ctx.n_comm)
    return _outcome(
        ctx,
        t,
        columns=columns,
        pass_col=pass_col,
        score_col=None,
        score_unit="%",
        value=value,
        unit="% of facilities",
        target=t.target_pct,
        assessed=k,
        passed=bool(value >= t.target_pct - 1e-9) if k else None,
        method=method,
        layer=_facility_layer(ctx, t, src, {**layer_cols, "passed": nullable(ok, known)}),
        extra={"facilities_assessed": k, "facilities_passed": n_ok, "facilities_unknown": int(len(src) - k)},
    )


def _colocation(ctx: Context, t: Target) -> CheckOutcome | None:
    src = ctx.members(t.categories)
    dst = ctx.members(t.near_categories)
    cats, near = ", ".join(t.categories), ", ".join(t.near_categories)
    if len(src) == 0:
        _not_assessed(ctx, t, f"no facility of {cats} in the input")
        return None
    if len(dst) == 0:
        _not_assessed(ctx, t, f"no facility of {near} in the input to measure the distance to")
        return None
    assert t.within_m is not None  # the profile requires it
    dist = ctx.facility_distances(src, dst, "target_unsnapped", f"target {t.key}")
    known = ~np.isnan(dist) & _facility_scope(ctx, t, src)
    ok = within(dist, t.within_m)
    shown = np.where(np.isfinite(dist), dist, np.nan)
    method = (
        f"share of the {cats} facilities with a {near} facility within {t.within_m:g} m walking "
        "(the exact network distance, access legs included)"
    )
    return _facility_share(
        ctx, t, src, ok, known, {"nearest_m": shown, "near_categories": near, "within_m": t.within_m}, method, True
    )


def _attribute_share(ctx: Context, t: Target) -> CheckOutcome | None:
    src = ctx.members(t.categories)
    cats = ", ".join(t.categories)
    if len(src) == 0:
        _not_assessed(ctx, t, f"no facility of {cats} in the input")
        return None
    fac = ctx.facilities
    lower = {str(c).casefold(): c for c in fac.columns}
    column = next((lower[c.casefold()] for c in t.columns if c.casefold() in lower), None)
    if column is None:
        _not_assessed(
            ctx, t, f"the facilities have no {t.attribute} column (looked for {', '.join(repr(c) for c in t.columns)})"
        )
        return None
    raw = fac[column].to_numpy()[src]
    yes, known = yes_no(raw)
    if (~known).any():
        file, layer = source_of(fac)
        warn_data(
            "target_attribute_unknown",
            f"{int((~known).sum())} of {len(src)} facilities of {cats} have no yes/no value in {column!r}; "
            f"target {t.key} leaves them out",
            file=file,
            layer=layer,
            feature=feature_label(fac, int(src[~known][0])),
            count=int((~known).sum()),
        )
    known &= _facility_scope(ctx, t, src)
    method = f"share of the {cats} facilities whose {column!r} says {t.attribute} (of those where it is known)"
    return _facility_share(ctx, t, src, yes, known, {t.attribute or "attribute": nullable(yes, known)}, method, False)


def _facility_minimum(ctx: Context, t: Target) -> CheckOutcome | None:
    members = ctx.members(t.categories)
    cats = ", ".join(t.categories)
    if len(members) == 0:
        _not_assessed(ctx, t, f"no facility of {cats} in the input")
        return None
    area_all = ctx.facility_values("floor_area")
    if area_all is None:
        _not_assessed(ctx, t, "the facilities have no floor-area column (name it with floor_area_column=)")
        return None
    fac = ctx.facilities
    bt_col = ctx.fac_columns.get("build_type")
    if bt_col and bt_col in fac.columns:
        rebuilt, bt_known = build_type_kind(fac[bt_col].to_numpy()[members])
    else:
        rebuilt, bt_known = np.zeros(len(members), bool), np.zeros(len(members), bool)
    if t.build_type == "rebuilt":
        pick = bt_known & rebuilt
    elif t.build_type == "new":
        pick = ~(bt_known & rebuilt)  # an unknown build type is taken as new, as the floor-area check does
        if (~bt_known).any():
            file, layer = source_of(fac)
            warn_data(
                "build_type_unknown",
                f"{int((~bt_known).sum())} facilities of {cats} have no recognised build type; target {t.key} "
                f"takes them as newly built (≥ {t.min_m2:g} m²)",
                file=file,
                layer=layer,
                count=int((~bt_known).sum()),
            )
    else:
        pick = np.ones(len(members), dtype=bool)
    src = members[pick]
    if len(src) == 0:
        _not_assessed(ctx, t, f"no {t.build_type} facility of {cats} in the input")
        return None
    area = area_all[src]
    assert t.min_m2 is not None  # the profile requires it
    known = np.isfinite(area) & _facility_scope(ctx, t, src)
    ok = np.isfinite(area) & (area >= t.min_m2 - AREA_TOLERANCE)
    method = f"share of the {t.build_type} {cats} facilities with ≥ {t.min_m2:g} m² of floor area"
    return _facility_share(
        ctx,
        t,
        src,
        ok,
        known,
        {"floor_area_m2": area, "build_type": t.build_type, "min_m2": t.min_m2},
        method,
        True,
    )


def target_checks(ctx: Context) -> list[CheckOutcome]:
    """One outcome per unit target of the profile that can be assessed (see the module's docstring)."""
    out: list[CheckOutcome] = []
    for t in ctx.profile.targets.values():  # a handful per profile
        if t.kind == "count":
            o = _count(ctx, t, unit_share=False)
        elif t.kind == "unit_share":
            o = _count(ctx, t, unit_share=True)
        elif t.kind == "colocation":
            o = _colocation(ctx, t)
        elif t.kind == "attribute_share":
            o = _attribute_share(ctx, t)
        else:
            o = _facility_minimum(ctx, t)
        if o is not None:
            out.append(o)
    return out
