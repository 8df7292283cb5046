"""Numeric indicators of the profile (``[indicators.<key>]`` with a ``measure``).

Each indicator's ``measure`` says how its value is computed; ``value``
(``value_max``) and ``comparison`` say what meets it. Measures:

``attribute_per_resident``
    Σ facility ``attribute`` (``area``, ``floor_area`` or ``places``) over the
    indicator's ``categories`` ÷ residents × ``per`` (1 or 1000). Per community:
    the facilities inside it over its residents. Citywide: every facility of the
    categories (inside a community or outside every one) over all residents,
    leaving out facilities inside communities whose residents are unknown.
``community_households``, ``community_residents``
    The community's households / residents against the range. Citywide: the
    share of communities that meet it.
``nearest_distance``
    For each facility of ``categories``, the walking distance (the engine's
    exact network distance) to the nearest facility of ``to_categories``.
    Per community: the largest such distance among its facilities (the
    smallest for ``>=``) and pass when every one of them meets the target.
    Citywide: the share of the facilities that meet it.
``park_area_per_resident``
    Computed by the green-space check, not here.

Indicators without a ``measure`` are listed in one warning as not computed.
Comparisons allow 1e-9 relative slack (4.5 places per 1000 computed as
4.4999999999 meets ≥ 4.5).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ..errors import feature_label, source_of, warn_data
from ..profiles import Indicator
from ..schema import indicator_column, indicator_layer, pass_column
from .context import CheckOutcome, Context
from .measure import every_facility_passes, nullable

__all__ = ["indicator_checks", "meets"]

_COLUMN_OPTION = {"floor_area": "floor_area_column=", "places": "places_column=", "area": "area_column="}
_ATTRIBUTE_TEXT = {"floor_area": "floor area", "places": "places", "area": "site area"}


def meets(ind: Indicator, x: ArrayLike) -> NDArray[np.bool_]:
    """Whether each value meets the indicator (``nan`` never does).

    >>> from servicecircle.profiles import load_profile
    >>> hh = load_profile().indicators["community_households"]   # 1500-4000
    >>> meets(hh, np.array([1499.0, 1500.0, 4000.0, 4001.0, np.nan])).tolist()
    [False, True, True, False, False]
    """
    x = np.asarray(x, dtype=float)
    lo = ind.value - 1e-9 * max(1.0, abs(ind.value))
    with np.errstate(invalid="ignore"):
        if ind.comparison == ">=":
            ok = x >= lo
        elif ind.comparison == "<=":
            ok = x <= ind.value + 1e-9 * max(1.0, abs(ind.value))
        else:
            assert ind.value_max is not None  # the profile requires it with comparison = "between"
            hi = ind.value_max + 1e-9 * max(1.0, abs(ind.value_max))
            ok = (x >= lo) & (x <= hi)
    met: NDArray[np.bool_] = ok & ~np.isnan(x)
    return met


def _target_text(ind: Indicator) -> str:
    if ind.comparison == "between":
        return f"{ind.value:g}–{ind.value_max:g} {ind.unit}"
    return f"{ind.comparison} {ind.value:g} {ind.unit}"


def _outcome(
    ctx: Context,
    ind: Indicator,
    value: NDArray[np.float64],
    passed: pd.arrays.BooleanArray,
    scorecard: dict[str, Any],
    extra: dict[str, Any],
    layers: dict[str, Any] | None = None,
) -> CheckOutcome:
    key = indicator_column(ind.key)
    applies = ctx.scope(ind.applies_to, f"indicator {ind.key}")
    if applies is not None:  # e.g. the community size range is for urban communities
        value = np.where(applies, value, np.nan)
        passed = passed.copy()
        passed[~applies] = pd.NA
    assessed = int((~passed.isna()).sum())
    # pandas-stubs give BooleanArray no __eq__ (object's, -> bool); it is elementwise, -> BooleanArray
    n_pass = int((passed == True).sum())  # type: ignore[comparison-overlap,attr-defined]  # noqa: E712
    summary = {
        "check": key,
        "kind": "indicator",
        "category": ", ".join(ind.categories) or ind.key,
        "name_zh": ind.name_zh,
        "name_en": ind.name_en,
        "level": "",
        "level_zh": "",
        "radius_m": np.nan,
        "target_pct": np.nan,
        "target": ind.value,
        "target_max": ind.value_max,
        "target_unit": ind.unit,
        "comparison": ind.comparison,
        "measure": ind.measure,
        "communities_assessed": assessed,
        "communities_passed": n_pass,
        "communities_failed": assessed - n_pass,
        "citywide_coverage_pct": np.nan,
        "citywide_value": scorecard["value"],
        "citywide_unit": scorecard["unit"],
        "uncovered_weight": np.nan,
        "weight_kind": ctx.weight_kind,
        "confirmed": ind.confirmed,
        "source": ind.source,
        **extra,
    }
    row = {"target_key": key, "source": ind.source, "confirmed": ind.confirmed, **scorecard}
    return CheckOutcome(
        key=key,
        kind="indicator",
        name_zh=ind.name_zh,
        name_en=ind.name_en,
        source=ind.source,
        confirmed=bool(ind.confirmed),
        columns={key: value, pass_column(key): passed},
        pass_col=pass_column(key),
        score_col=key,
        score_unit=ind.unit,
        summary=summary,
        scorecard=[row],
        layers=layers or {},
        target=ind.value,
    )


def _not_computed(ctx: Context, ind: Indicator, why: str) -> None:
    """Record why indicator ``ind`` gave no result (the register reports it) and warn."""
    ctx.not_assessed[indicator_column(ind.key)] = why
    file, layer = source_of(ctx.facilities)
    warn_data(
        "indicator_not_computed", f"indicator {ind.key} ({ind.name_en}) was not computed: {why}", file=file, layer=layer
    )


# --------------------------------------------------------------------------- #
# measures
# --------------------------------------------------------------------------- #


def _attribute_per_resident(ctx: Context, ind: Indicator) -> CheckOutcome | None:
    assert ind.attribute is not None  # the profile requires it with measure = "attribute_per_resident"
    what = _ATTRIBUTE_TEXT[ind.attribute]
    cats = ", ".join(ind.categories)
    values = ctx.facility_values(ind.attribute)
    if values is None:
        _not_computed(ctx, ind, f"the facilities have no {what} column (name it with {_COLUMN_OPTION[ind.attribute]})")
        return None
    members = ctx.members(ind.categories)
    if len(members) == 0:
        _not_computed(ctx, ind, f"no facility of {cats} in the input")
        return None
    v = values[members]
    missing = ~np.isfinite(v)
    if missing.all():
        _not_computed(ctx, ind, f"none of the {len(members)} facilities of {cats} has a {what} value")
        return None
    if missing.any():
        file, layer = source_of(ctx.facilities)
        warn_data(
            "indicator_value_missing",
            f"{int(missing.sum())} of {len(members)} facilities of {cats} "
            f"have no {what} value; they are left out of indicator {ind.key}",
            file=file,
            layer=layer,
            feature=feature_label(ctx.facilities, int(members[missing][0])),
            count=int(missing.sum()),
        )
    use, v = members[~missing], v[~missing]
    n = ctx.n_comm
    fc = ctx.facility_community()[use]
    inside = fc >= 0
    total = np.bincount(fc[inside], weights=v[inside], minlength=n)
    res = np.asarray(ctx.residents, dtype=float)
    known = np.isfinite(res) & (res > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(known, total / np.where(known, res, 1.0) * ind.per, np.nan)
    passed = nullable(meets(ind, value), known)
    # citywide: every facility except those inside communities whose residents are unknown
    counted = ~inside | known[np.maximum(fc, 0)]
    tot_res = float(res[known].sum())
    city = float(v[counted].sum()) / tot_res * ind.per if tot_res > 0 else np.nan
    per = "" if ind.per == 1 else f" × {ind.per:g}"
    scorecard = {
        "name_zh": ind.name_zh,
        "name_en": ind.name_en,
        "value": city,
        "unit": ind.unit,
        "target": ind.value,
        "comparison": ind.comparison,
        "passed": bool(meets(ind, city)[()]) if np.isfinite(city) else None,
        "method": f"{what} of every {cats} facility ({int(counted.sum())} with a value, "
        f"{int((~inside).sum())} of them outside every community) ÷ the residents of the "
        f"{int(known.sum())} communities with a resident count{per}",
    }
    extra = {
        "facilities": int(len(members)),
        "facilities_no_value": int(missing.sum()),
        "facilities_outside": int((~inside).sum()),
    }
    if ind.comparison == "between":
        scorecard["target_max"] = ind.value_max
    return _outcome(ctx, ind, value, passed, scorecard, extra)


def _community_size(ctx: Context, ind: Indicator) -> CheckOutcome | None:
    households = ind.measure == "community_households"
    value = np.asarray(ctx.households if households else ctx.residents, dtype=float)
    word = "households" if households else "residents"
    known = np.isfinite(value)
    if not known.any():
        _not_computed(ctx, ind, f"no community has a {'household' if households else 'resident'} count")
        return None
    ok = meets(ind, value)
    passed = nullable(ok, known)
    n_known = int(known.sum())
    share = 100.0 * int(ok[known].sum()) / n_known
    target = _target_text(ind)
    scorecard = {
        "name_zh": f"{ind.name_zh}：符合 {target} 的社区比例",
        "name_en": f"{ind.name_en}: communities within {target}",
        "value": share,
        "unit": "% of communities",
        "target": 100.0,
        "comparison": ">=",
        "passed": bool(share >= 100.0 - 1e-9),
        "method": f"share of the {n_known} communities with a {word} count whose {word} are {target}",
    }
    extra = {
        "median": float(np.median(value[known])),
        "min": float(value[known].min()),
        "max": float(value[known].max()),
    }
    return _outcome(ctx, ind, np.where(known, value, np.nan), passed, scorecard, extra)


def _community_ids(ctx: Context, pos: NDArray[np.int64]) -> NDArray[np.object_]:
    """Community id for each position (``None`` for -1)."""
    out = np.full(len(pos), None, dtype=object)
    inside = pos >= 0
    out[inside] = np.asarray(ctx.comm_ids, dtype=object)[pos[inside]]
    return out


def _nearest_distance(ctx: Context, ind: Indicator) -> CheckOutcome | None:
    src = ctx.members(ind.categories)
    dst = ctx.members(ind.to_categories)
    cats, to_cats = ", ".join(ind.categories), ", ".join(ind.to_categories)
    if len(src) == 0:
        _not_computed(ctx, ind, f"no facility of {cats} in the input")
        return None
    if len(dst) == 0:
        _not_computed(ctx, ind, f"no facility of {to_cats} in the input to measure the distance to")
        return None
    dist = ctx.facility_distances(src, dst, "indicator_unsnapped", f"indicator {ind.key}")
    known = ~np.isnan(dist)  # unsnapped facilities have no distance; unreachable ones are inf
    ok = meets(ind, dist)
    n = ctx.n_comm
    fc = ctx.facility_community()[src]
    inside = fc >= 0
    c_in = fc[inside]
    worst = np.full(n, np.nan)
    shown = np.where(np.isfinite(dist), dist, np.nan)
    if ind.comparison == ">=":
        acc = np.full(n, np.inf)
        np.minimum.at(acc, c_in, np.where(np.isnan(dist[inside]), np.inf, dist[inside]))
    else:
        acc = np.full(n, -np.inf)
        np.maximum.at(acc, c_in, np.where(np.isnan(dist[inside]), -np.inf, dist[inside]))
    has = np.isfinite(acc)
    worst[has] = acc[has]
    passed = every_facility_passes(fc, ok, known, n)
    k_known = int(known.sum())
    share = 100.0 * int((known & ok).sum()) / k_known if k_known else np.nan
    target = _target_text(ind)
    scorecard = {
        "name_zh": f"{ind.name_zh}：达标设施比例",
        "name_en": f"{ind.name_en}: share of facilities",
        "value": share,
        "unit": "% of facilities",
        "target": 100.0,
        "comparison": ">=",
        "passed": bool(share >= 100.0 - 1e-9) if k_known else None,
        "method": f"share of the {k_known} {cats} facilities whose walking distance to the nearest "
        f"{to_cats} facility is {target}",
    }
    fac_rows = gpd.GeoDataFrame(
        {
            "facility": src + 1,
            "category": ctx.fac_key[src],
            "community_id": _community_ids(ctx, fc),
            "nearest_m": shown,
            "to_categories": to_cats,
            "target": target,
            "passed": nullable(ok, known),
        },
        geometry=gpd.GeoSeries(ctx.fac_geom[src], crs=ctx.crs),
        crs=ctx.crs,
    )
    finite = np.isfinite(dist)
    extra = {
        "facilities": int(len(src)),
        "facilities_unsnapped": int((~known).sum()),
        "facilities_unreachable": int((known & ~finite).sum()),
        "median_m": float(np.median(dist[finite])) if finite.any() else np.nan,
    }
    return _outcome(ctx, ind, worst, passed, scorecard, extra, layers={indicator_layer(ind.key): fac_rows})


_MEASURES = {
    "attribute_per_resident": _attribute_per_resident,
    "community_households": _community_size,
    "community_residents": _community_size,
    "nearest_distance": _nearest_distance,
}


def indicator_checks(ctx: Context) -> list[CheckOutcome]:
    """One outcome per indicator with a ``measure`` this module computes.

    Indicators without a measure are listed in a warning; ``park_area_per_resident``
    is left to the green-space check.
    """
    out: list[CheckOutcome] = []
    not_computed: list[str] = []
    for ind in ctx.profile.indicators.values():  # a handful per profile
        if ind.measure is None:
            not_computed.append(ind.key)
            continue
        compute = _MEASURES.get(ind.measure)
        if compute is None:  # park_area_per_resident: the green-space check
            continue
        outcome = compute(ctx, ind)
        if outcome is not None:
            out.append(outcome)
    if not_computed:
        warn_data(
            "indicator_not_computed",
            f"{len(not_computed)} indicators of profile '{ctx.profile.key}' "
            f"give no measure and were not computed: {', '.join(not_computed)}",
            count=len(not_computed),
        )
    return out
