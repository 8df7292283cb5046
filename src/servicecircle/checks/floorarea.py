"""Community service facility floor area per 100 households (profile ``[floor_area]``).

For a community *c* with *h* households (the Meishan plan: 40 m² per 100
households, a new facility at least 500 m², a rebuilt, extended, bought or
leased one in an urban community at least 300 m²)::

    minimum(c)   = min_rebuilt_m2  if c has counted facilities, every one of them is
                                   rebuilt / extended / bought / leased, and c's type
                                   is one of ``min_rebuilt_applies_to`` (Meishan: urban)
                   min_new_m2      otherwise (an unknown build type counts as new; so does
                                   a community of unknown type, with a warning)
    required(c)  = max(rate × h / 100, minimum(c))
    provided(c)  = Σ floor area counted for c (see below)
    shortfall(c) = max(required(c) − provided(c), 0)
    pass(c)      = provided(c) ≥ required(c)

Required floor area is computed for every community with households, whether
or not the input says anything about floor area. Provided floor area is only
what the input states (``fa_data``):

``given``
    every facility counted for *c* has a floor area (no facility: 0 m², when
    the input does give floor areas for facilities of the rule's categories);
``partial``
    some counted facilities have a floor area and some have none: provided is
    unknown (NaN); *c* passes if the known areas already meet the requirement,
    else has no pass/fail;
``no data``
    no counted facility of *c* has a floor area (an unfilled row of the
    floor-area template), or the input has no floor area for any facility of
    the rule's categories (no column, no such facility, or every value empty):
    provided, shortfall and pass/fail are unknown (NaN / NA), never 0 and
    never a fail;
``does not apply``
    the rule's ``applies_to`` does not include *c*'s type.

What is *counted for c* depends on the profile's ``assignment``:

``contains``
    every facility of the rule's categories whose point lies inside *c* (a
    point on a shared boundary belongs to the community listed first, so it
    counts once);
``catchment``
    a two-step floating catchment on the demand points. For facility *f* with
    floor area *A_f*, the demand points within ``catchment_radius_m`` walking
    distance share it in proportion to their weight::

        R_f         = A_f / Σ weight(d)   over demand points d within the radius of f
        provided(c) = Σ_{d in c} Σ_{f within the radius of d} R_f × weight(d)

    so a facility's area is split between the communities whose people can
    reach it, and every square metre is counted at most once.

Households come from the communities (``ctx.households``); a community with
no (or zero) households has no requirement and no pass/fail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import feature_label, source_of, warn_data
from ..inputs.buildtype import NEW_WORDS, REBUILT_WORDS, build_type_kind
from ..profiles.model import COMMUNITY_TYPES
from ..schema import pass_column
from .context import CheckOutcome, Context
from .measure import WITHIN_TOLERANCE, nullable

__all__ = [
    "floor_area_checks",
    "build_type_kind",
    "NEW_WORDS",
    "REBUILT_WORDS",
    "DATA_GIVEN",
    "DATA_PARTIAL",
    "NO_DATA",
]

#: ``fa_data`` values (see the module docstring)
DATA_GIVEN = "given"
DATA_PARTIAL = "partial"
NO_DATA = "no data"
NOT_APPLICABLE = "does not apply"

#: Square metres of slack when comparing provided with required floor area.
AREA_TOLERANCE = 1e-6


def _per_community(
    ctx: Context, use: NDArray[np.intp], values: list[NDArray[np.float64]]
) -> tuple[list[NDArray[np.float64]], NDArray[np.int64], int]:
    """Sum facility ``values`` (parallel to ``use``) per community by the rule's assignment.

    Returns the sums, the number of facilities counted per community, and the
    number of facilities counted for none. ``contains``: the community whose
    boundary contains the facility. ``catchment``: each value is shared among
    the demand points within the radius in proportion to their weight (the
    first of ``values`` is the floor area; the others are shared as whole
    facilities: a community reached by a facility gets its value once).
    """
    rule = ctx.profile.floor_area
    assert rule is not None
    n = ctx.n_comm
    if rule.assignment == "contains":
        fc = ctx.facility_community()[use]
        inside = fc >= 0
        c_of = fc[inside]
        sums = [np.bincount(c_of, weights=v[inside], minlength=n).astype(np.float64) for v in values]
        return sums, np.bincount(c_of, minlength=n).astype(np.int64), int((~inside).sum())
    assert rule.catchment_radius_m is not None  # the profile requires it with assignment = "catchment"
    radius = float(rule.catchment_radius_m)
    s, t, _ = ctx.engine.within(use, ctx.d_att, radius + WITHIN_TOLERANCE)
    w = np.asarray(ctx.d_weight, dtype=float)[t]
    keep = np.isfinite(w) & (w > 0)
    s, t, w = s[keep], t[keep], w[keep]
    loc = np.searchsorted(use, s)  # position of each pair's facility in `use` (sorted)
    wsum = np.bincount(loc, weights=w, minlength=len(use))
    dc = np.asarray(ctx.d_comm)[t]
    inc = dc >= 0
    ratio = np.divide(values[0], wsum, out=np.zeros(len(use)), where=wsum > 0)
    first = np.bincount(dc[inc], weights=ratio[loc[inc]] * w[inc], minlength=n).astype(np.float64)
    # facilities counted for a community: one per (facility, community) pair
    pair = np.unique(loc[inc].astype(np.int64) * max(n, 1) + dc[inc])
    p_fac, p_comm = pair // max(n, 1), pair % max(n, 1)
    sums = [first] + [np.bincount(p_comm, weights=v[p_fac], minlength=n).astype(np.float64) for v in values[1:]]
    unused = int(((wsum <= 0) & ctx.fac_snap.ok[use]).sum())
    return sums, np.bincount(p_comm, minlength=n).astype(np.int64), unused


def floor_area_checks(ctx: Context) -> list[CheckOutcome]:
    """The ``[floor_area]`` check: floor area per community against the rate and minimum size.

    Returns ``[]`` only when the profile has no ``[floor_area]``. Without any
    floor-area data in the input (no column, no facility of the rule's
    categories, or none with a value) the required floor area is still
    computed for every community with households; provided, shortfall and
    pass/fail are "no data" (NaN / NA), with a warning saying why.
    """
    rule = ctx.profile.floor_area
    if rule is None:
        return []
    n = ctx.n_comm
    cats = list(rule.categories)
    cat_text = ", ".join(cats)
    fac = ctx.facilities
    file, layer = source_of(fac)
    members = ctx.members(cats)
    area_all = ctx.facility_values("floor_area")
    area = np.full(len(members), np.nan) if area_all is None else area_all[members]
    has_value = np.isfinite(area)
    no_data_why = fix = ""
    if area_all is None:
        col = ctx.fac_columns.get("floor_area")
        no_data_why = f"the facilities have no floor area column{f' {col!r}' if col else ''}"
        fix = " (name it with floor_area_column=)"
    elif len(members) == 0:
        no_data_why = f"no facility of {cat_text} in the input"
    elif not has_value.any():
        no_data_why = f"none of the {len(members)} facilities of {cat_text} has a floor area value"
        fix = (
            " (write the template with servicecircle floor-area-template, fill it in, give it back with "
            "--service-centres)"
        )
    if no_data_why:
        ctx.not_assessed["floor_area"] = no_data_why + fix  # the register's reason for the floor-area rows
        warn_data(
            "floor_area_no_data",
            f"the floor-area check ({rule.name_en}): provided floor area is 'no data' for every community "
            f"({no_data_why}); the required floor area is computed, the shortfall and pass/fail are unknown "
            "(fill in the floor-area template: servicecircle floor-area-template)",
            file=file,
            layer=layer,
        )
    elif not has_value.all():
        k = int((~has_value).sum())
        warn_data(
            "floor_area_missing",
            f"{k} of {len(members)} facilities of {cat_text} have no floor "
            "area value; the provided floor area of their communities is unknown ('partial': passed only "
            "if the known areas already meet the requirement)",
            file=file,
            layer=layer,
            feature=feature_label(fac, int(members[~has_value][0])),
            count=k,
        )

    # ------------------------------------------------------------ build type
    min_new = float(rule.min_new_m2 or 0.0)
    min_rebuilt = float(rule.min_rebuilt_m2 or 0.0)
    bt_col = ctx.fac_columns.get("build_type")
    if bt_col and bt_col in fac.columns:
        rebuilt, known = build_type_kind(fac[bt_col].to_numpy()[members])
    else:
        bt_col = None
        rebuilt, known = np.zeros(len(members), bool), np.zeros(len(members), bool)
    if (~known).any() and min_new != min_rebuilt:
        k = int((~known).sum())
        if bt_col is None:
            what = "the facilities have no build type column"
        else:
            odd = sorted({str(v) for v in fac[bt_col].to_numpy()[members][~known] if isinstance(v, str) and v.strip()})
            what = f"{k} of {len(members)} facilities of {cat_text} have no recognised build type" + (
                f" ({', '.join(repr(v) for v in odd[:6])}{' ...' if len(odd) > 6 else ''})" if odd else ""
            )
        warn_data(
            "build_type_unknown",
            f"{what}; they are treated as newly built, so their community's "
            f"minimum is {min_new:g} m² (new) rather than {min_rebuilt:g} m² (rebuilt, extended, "
            "bought or leased)",
            file=file,
            layer=layer,
            count=k,
        )

    # ------------------------------------------------------------ community types
    all_types = set(rule.min_rebuilt_applies_to) >= set(COMMUNITY_TYPES)
    # the raw types, not the profile's default_type: a community of unknown type is held to the new minimum
    types = np.full(n, None, dtype=object) if ctx.comm_type is None else np.asarray(ctx.comm_type, dtype=object)
    type_known = ~pd.isna(types).astype(bool)
    rebuilt_type = np.array([t in rule.min_rebuilt_applies_to for t in types], dtype=bool) | all_types
    scope = ctx.scope(rule.applies_to, f"the floor-area check ({rule.name_en})")
    applies = np.ones(n, dtype=bool) if scope is None else scope
    fcomm = ctx.facility_community()[members]
    fac_rebuilt_ok = rebuilt & np.where(fcomm >= 0, rebuilt_type[np.maximum(fcomm, 0)], all_types)
    fac_min = np.where(fac_rebuilt_ok, min_rebuilt, min_new)
    small = has_value & (area < fac_min - AREA_TOLERANCE)

    # ------------------------------------------------------------ provided
    (known_sum, n_reb, n_small, n_missing), n_fac, unused = _per_community(
        ctx,
        members,
        [np.where(has_value, area, 0.0), rebuilt.astype(float), small.astype(float), (~has_value).astype(float)],
    )
    if rule.assignment == "contains":
        rule_text = "contains"
        method = f"floor area of the {cat_text} facilities inside each community"
    else:
        radius = float(rule.catchment_radius_m or 0.0)
        if unused and not no_data_why:
            warn_data(
                "floor_area_unused",
                f"{unused} facilities of {cat_text} have no demand within "
                f"{radius:g} m walking distance; their floor area counts for no community",
                file=file,
                layer=layer,
                count=unused,
            )
        rule_text = f"catchment_{radius:g}m"
        method = (
            f"two-step floating catchment: each {cat_text} facility's floor area is shared among "
            f"the demand points within {radius:g} m walking distance in proportion to their "
            "weight; a community gets its points' shares"
        )
    unsnapped = int((~ctx.fac_snap.ok[members]).sum()) if rule.assignment == "catchment" else 0
    n_missing = np.rint(n_missing).astype(np.int64)
    if no_data_why:
        status = np.full(n, NO_DATA, dtype=object)
    else:
        n_known = n_fac - n_missing
        status = np.where(n_missing > 0, np.where(n_known > 0, DATA_PARTIAL, NO_DATA), DATA_GIVEN).astype(object)
    status[~applies] = NOT_APPLICABLE
    given = status == DATA_GIVEN
    provided = np.where(given, known_sum, np.nan)

    # ------------------------------------------------------------ required
    hh = np.asarray(ctx.households, dtype=float)
    assessable = np.isfinite(hh) & (hh > 0) & applies
    all_rebuilt = (n_fac > 0) & (np.rint(n_reb) == n_fac)
    held_new = all_rebuilt & ~rebuilt_type & assessable
    unknown_held = held_new & ~type_known
    if unknown_held.any() and min_new != min_rebuilt:
        k = int(unknown_held.sum())
        warn_data(
            "floor_area_type_unknown",
            f"{k} communities whose service facilities are all rebuilt, extended, bought or leased have no "
            f"known type: they are held to the new minimum {min_new:g} m² (the {min_rebuilt:g} m² minimum is for "
            f"{', '.join(rule.min_rebuilt_applies_to)} communities only); give their type (type_column, or their "
            "codes and a code register)",
            count=k,
        )
    minimum = np.where(all_rebuilt & rebuilt_type, min_rebuilt, min_new)
    rate = float(rule.rate_m2_per_100_households)
    with np.errstate(invalid="ignore", divide="ignore"):
        required = np.where(assessable, np.maximum(rate * hh / 100.0, minimum), np.nan)
        known_short = np.maximum(required - np.nan_to_num(known_sum), 0.0)
        per100 = np.where(assessable, 100.0 * provided / np.where(assessable, hh, 1.0), np.nan)
    met_by_known = np.nan_to_num(known_sum) >= required - AREA_TOLERANCE
    decided = assessable & (given | ((status == DATA_PARTIAL) & met_by_known))
    shortfall = np.where(decided, known_short, np.nan)
    passed = nullable(met_by_known, decided)
    if (~(np.isfinite(hh) & (hh > 0)) & applies).any():
        k = int((~(np.isfinite(hh) & (hh > 0)) & applies).sum())
        warn_data(
            "floor_area_no_households",
            f"{k} communities have no household count and get no required floor area and no pass/fail",
            count=k,
        )

    columns = {
        "fa_households": np.where(assessable, hh, np.nan),
        "fa_required_m2": required,
        "fa_provided_m2": provided,
        "fa_shortfall_m2": shortfall,
        "fa_per_100hh": per100,
        "fa_data": status,
        "fa_facilities": n_fac,
        "fa_no_area": n_missing,
        "fa_undersized": np.rint(n_small).astype(np.int64),
        "fa_min_m2": np.where(assessable, minimum, np.nan),
        "fa_rule": np.full(n, rule_text, dtype=object),
        pass_column("floor_area"): passed,
    }

    # ------------------------------------------------------------ citywide
    n_assessable = int(assessable.sum())
    with_data = assessable & given
    n_data = int(with_data.sum())
    n_nodata = n_assessable - n_data
    complete = n_assessable > 0 and n_nodata == 0
    # pandas-stubs give BooleanArray no __eq__ (object's, -> bool); it is elementwise, -> BooleanArray
    n_pass = int((passed == True).sum())  # type: ignore[comparison-overlap,attr-defined]  # noqa: E712
    n_decided = int(decided.sum())
    tot_hh = float(hh[with_data].sum())
    tot_prov = float(provided[with_data].sum())
    tot_req_all = float(required[assessable].sum())
    tot_req = float(required[with_data].sum())
    tot_short = float(shortfall[decided].sum())
    city = 100.0 * tot_prov / tot_hh if tot_hh > 0 else np.nan
    mins = []
    if rule.min_new_m2 is not None:
        mins.append(f"new ≥ {min_new:g} m²")
    if rule.min_rebuilt_m2 is not None:
        where = "" if all_types else f" in {', '.join(rule.min_rebuilt_applies_to)} communities"
        mins.append(f"rebuilt/extended/bought/leased{where} ≥ {min_rebuilt:g} m²")
    if no_data_why:
        data_text = f"provided: no data ({no_data_why})"
    elif n_nodata:
        data_text = (
            f"provided: no data for {n_nodata} of {n_assessable} communities (a facility without floor area); "
            f"the {n_data} with data have {tot_prov:,.0f} m² against {tot_req:,.0f} m² required"
        )
    else:
        data_text = f"floor area given for all {n_assessable} communities"
    summary = {
        "check": "floor_area",
        "kind": "floor_area",
        "category": cat_text,
        "name_zh": rule.name_zh,
        "name_en": rule.name_en,
        "level": "",
        "level_zh": "",
        "radius_m": rule.catchment_radius_m if rule.assignment == "catchment" else np.nan,
        "target_pct": np.nan,
        "target": rate,
        "target_unit": "m2/100 households",
        "min_new_m2": rule.min_new_m2,
        "min_rebuilt_m2": rule.min_rebuilt_m2,
        "rule": rule_text,
        "facilities": int(has_value.sum()),
        "facilities_unsnapped": unsnapped,
        "facilities_no_floor_area": int((~has_value).sum()),
        "facilities_not_counted": unused,
        "facilities_undersized": int(small.sum()),
        "communities_assessed": n_decided,
        "communities_passed": n_pass,
        "communities_failed": n_decided - n_pass,
        "communities_no_data": n_assessable - n_decided,
        "communities_required": n_assessable,
        "citywide_coverage_pct": np.nan,
        "citywide_m2_per_100hh": city if complete else np.nan,
        "provided_m2": tot_prov if complete else np.nan,
        "required_m2": tot_req_all,
        "shortfall_m2": tot_short if complete else np.nan,
        "known_shortfall_m2": tot_short,
        "uncovered_weight": np.nan,
        "weight_kind": "households",
        "confirmed": rule.confirmed,
        "source": rule.source,
    }
    scorecard = [
        {
            "target_key": "floor_area",
            "name_zh": f"{rule.name_zh}（每百户）",
            "name_en": f"{rule.name_en} per 100 households",
            "value": city if complete else np.nan,
            "unit": "m2/100 households",
            "target": rate,
            "comparison": ">=",
            "passed": bool(city >= rate - 1e-9) if complete and np.isfinite(city) else None,
            "method": f"{method}, summed over the communities, × 100 ÷ their households "
            f"({n_assessable} communities with a household count); {data_text}",
            "source": rule.source,
            "confirmed": rule.confirmed,
        },
        {
            "target_key": "floor_area_total",
            "name_zh": f"{rule.name_zh}合计",  # (short: a terminal column; the minimum sizes are in the method)
            "name_en": f"{rule.name_en}: total provided vs required",
            "value": tot_prov if complete else np.nan,
            "unit": "m2",
            "target": tot_req_all,
            "comparison": ">=",
            "passed": bool(tot_prov >= tot_req - AREA_TOLERANCE) if complete else None,
            "method": f"total floor area counted for the {n_assessable} communities with a household count "
            f"against the sum of their requirements, max({rate:g} m² × households / 100, minimum size"
            + (f": {'; '.join(mins)}" if mins else "")
            + f") = {tot_req_all:,.0f} m²; {data_text}; the known shortfalls add up to {tot_short:,.0f} m² "
            "(a surplus in one community does not fill another's)",
            "source": rule.source,
            "confirmed": rule.confirmed,
        },
    ]
    return [
        CheckOutcome(
            key="floor_area",
            kind="floor_area",
            name_zh=rule.name_zh,
            name_en=rule.name_en,
            source=rule.source,
            confirmed=bool(rule.confirmed),
            columns=columns,
            pass_col=pass_column("floor_area"),
            score_col="fa_shortfall_m2",
            score_unit="m²",
            summary=summary,
            scorecard=scorecard,
            target=rate,
            applies=scope,
        )
    ]
