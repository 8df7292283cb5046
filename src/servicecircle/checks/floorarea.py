"""Community service facility floor area per 100 households (profile ``[floor_area]``).

For a community *c* with *h* households (the Meishan plan: 40 m² per 100
households, a new facility at least 500 m², a rebuilt, extended, bought or
leased one at least 300 m²)::

    minimum(c)   = min_rebuilt_m2  if c has counted facilities and every one of
                                   them is rebuilt / extended / bought / leased
                   min_new_m2      otherwise (an unknown build type counts as new)
    required(c)  = max(rate × h / 100, minimum(c))
    provided(c)  = Σ floor area counted for c (see below)
    shortfall(c) = max(required(c) − provided(c), 0)
    pass(c)      = provided(c) ≥ required(c)

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
no (or zero) households has no pass/fail. Facilities without a floor area
value are left out, with a warning.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import feature_label, source_of, warn_data
from ..schema import pass_column
from .context import CheckOutcome, Context
from .measure import WITHIN_TOLERANCE

__all__ = ["floor_area_checks", "build_type_kind", "NEW_WORDS", "REBUILT_WORDS"]

#: Build-type values read as a newly built facility (after normalising: NFKC,
#: case-folded, spaces / ``_`` / ``-`` as one space).
NEW_WORDS = frozenset({"new", "new build", "newly built", "built new", "新建", "新增", "新建设"})
#: Build-type values read as rebuilt, extended, bought or leased.
REBUILT_WORDS = frozenset(
    {
        "rebuilt",
        "rebuild",
        "reconstructed",
        "renovated",
        "renovation",
        "converted",
        "extended",
        "extension",
        "expanded",
        "rebuilt extended",
        "bought",
        "purchased",
        "purchase",
        "acquired",
        "leased",
        "lease",
        "rented",
        "rent",
        "rental",
        "改建",
        "扩建",
        "改扩建",
        "改造",
        "购置",
        "购买",
        "租用",
        "租赁",
        "租借",
    }
)

#: Square metres of slack when comparing provided with required floor area.
AREA_TOLERANCE = 1e-6


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s_\-/]+", " ", text).strip()


def build_type_kind(values: Iterable[Any]) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Classify build-type values.

    Returns
    -------
    rebuilt, known : numpy.ndarray of bool
        ``rebuilt``: rebuilt, extended, bought or leased; ``known``: the value
        was recognised (new or rebuilt). Unknown values are neither.

    Examples
    --------
    >>> r, k = build_type_kind(["新建", "Leased", "改扩建", None, "?"])
    >>> r.tolist(), k.tolist()
    ([False, True, True, False, False], [True, True, True, False, False])
    """
    raw = pd.Series(list(values), dtype=object)
    text = raw.where(raw.map(lambda v: isinstance(v, str)), None)
    uniq = pd.unique(text.dropna())
    norm = {v: _norm(v) for v in uniq}  # one entry per distinct value
    n = text.map(norm)
    rebuilt = n.isin(REBUILT_WORDS).to_numpy()
    known = rebuilt | n.isin(NEW_WORDS).to_numpy()
    return rebuilt, known


def _nullable(ok: NDArray[np.bool_], known: NDArray[np.bool_]) -> pd.arrays.BooleanArray:
    out = pd.array(np.where(known, ok, False), dtype="boolean")
    out[~known] = pd.NA
    return out


def _fac_comm(ctx: Context) -> NDArray[np.int64]:
    if ctx.fac_comm is not None:
        return np.asarray(ctx.fac_comm)
    from ..demand import assign_to_communities

    return assign_to_communities(ctx.fac_geom, ctx.comm_geom)


def floor_area_checks(ctx: Context) -> list[CheckOutcome]:
    """The ``[floor_area]`` check: floor area per community against the rate and minimum size.

    Returns ``[]`` (with a warning saying why) when the profile has no
    ``[floor_area]``, the facilities have no floor area column, or no facility
    of the rule's categories has a floor area.
    """
    rule = ctx.profile.floor_area
    if rule is None:
        return []
    n = ctx.n_comm
    cats = list(rule.categories)
    cat_text = ", ".join(cats)
    fac = ctx.facilities
    file, layer = source_of(fac)
    area_all = ctx.facility_values("floor_area")
    if area_all is None:
        col = ctx.fac_columns.get("floor_area")
        warn_data(
            "floor_area_not_assessed",
            f"the floor-area check ({rule.name_en}) was not assessed: "
            f"the facilities have no floor area column{f' {col!r}' if col else ''}",
            file=file,
            layer=layer,
        )
        return []
    members = ctx.members(cats)
    if len(members) == 0:
        warn_data(
            "floor_area_not_assessed",
            f"the floor-area check ({rule.name_en}) was not assessed: no facility of {cat_text} in the input",
            file=file,
            layer=layer,
        )
        return []
    area_m = area_all[members]
    no_value = ~np.isfinite(area_m)
    if no_value.any():
        k = int(no_value.sum())
        warn_data(
            "floor_area_missing",
            f"{k} of {len(members)} facilities of {cat_text} have no floor "
            "area value; they are left out of the floor-area check",
            file=file,
            layer=layer,
            feature=feature_label(fac, int(members[no_value][0])),
            count=k,
        )
    use = members[~no_value]
    area = area_m[~no_value]
    if len(use) == 0:
        warn_data(
            "floor_area_not_assessed",
            f"the floor-area check ({rule.name_en}) was not assessed: "
            f"none of the {len(members)} facilities of {cat_text} has a floor area value",
            file=file,
            layer=layer,
        )
        return []

    # ------------------------------------------------------------ build type
    min_new = float(rule.min_new_m2 or 0.0)
    min_rebuilt = float(rule.min_rebuilt_m2 or 0.0)
    bt_col = ctx.fac_columns.get("build_type")
    if bt_col and bt_col in fac.columns:
        rebuilt, known = build_type_kind(fac[bt_col].to_numpy()[use])
    else:
        bt_col = None
        rebuilt, known = np.zeros(len(use), bool), np.zeros(len(use), bool)
    if (~known).any() and min_new != min_rebuilt:
        k = int((~known).sum())
        if bt_col is None:
            what = "the facilities have no build type column"
        else:
            odd = sorted({str(v) for v in fac[bt_col].to_numpy()[use][~known] if isinstance(v, str) and v.strip()})
            what = f"{k} of {len(use)} facilities of {cat_text} have no recognised build type" + (
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
    fac_min = np.where(rebuilt, min_rebuilt, min_new)
    small = area < fac_min - AREA_TOLERANCE

    # ------------------------------------------------------------ provided
    unsnapped = 0
    unused = 0
    if rule.assignment == "contains":
        fc = _fac_comm(ctx)[use]
        inside = fc >= 0
        unused = int((~inside).sum())
        c_of = fc[inside]
        provided = np.bincount(c_of, weights=area[inside], minlength=n)
        n_fac = np.bincount(c_of, minlength=n)
        n_reb = np.bincount(c_of, weights=rebuilt[inside].astype(float), minlength=n)
        n_small = np.bincount(c_of, weights=small[inside].astype(float), minlength=n)
        rule_text = "contains"
        method = f"floor area of the {cat_text} facilities inside each community, summed over assessed communities"
    else:
        assert rule.catchment_radius_m is not None  # the profile requires it with assignment = "catchment"
        radius = float(rule.catchment_radius_m)
        unsnapped = int((~ctx.fac_snap.ok[use]).sum())
        s, t, _ = ctx.engine.within(use, ctx.d_att, radius + WITHIN_TOLERANCE)
        w = np.asarray(ctx.d_weight, dtype=float)[t]
        keep = np.isfinite(w) & (w > 0)
        s, t, w = s[keep], t[keep], w[keep]
        loc = np.searchsorted(use, s)  # position of each pair's facility in `use` (sorted)
        wsum = np.bincount(loc, weights=w, minlength=len(use))
        ratio = np.divide(area, wsum, out=np.zeros(len(use)), where=wsum > 0)
        dc = np.asarray(ctx.d_comm)[t]
        inc = dc >= 0
        provided = np.bincount(dc[inc], weights=ratio[loc[inc]] * w[inc], minlength=n)
        # facilities counted for a community: one per (facility, community) pair
        pair = np.unique(loc[inc].astype(np.int64) * max(n, 1) + dc[inc])
        p_fac, p_comm = pair // max(n, 1), pair % max(n, 1)
        n_fac = np.bincount(p_comm, minlength=n)
        n_reb = np.bincount(p_comm, weights=rebuilt[p_fac].astype(float), minlength=n)
        n_small = np.bincount(p_comm, weights=small[p_fac].astype(float), minlength=n)
        unused = int(((wsum <= 0) & ctx.fac_snap.ok[use]).sum())
        if unused:
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

    # ------------------------------------------------------------ required
    hh = np.asarray(ctx.households, dtype=float)
    assessable = np.isfinite(hh) & (hh > 0)
    all_rebuilt = (n_fac > 0) & (n_reb == n_fac)
    minimum = np.where(all_rebuilt, min_rebuilt, min_new)
    rate = float(rule.rate_m2_per_100_households)
    with np.errstate(invalid="ignore", divide="ignore"):
        required = np.where(assessable, np.maximum(rate * hh / 100.0, minimum), np.nan)
        shortfall = np.where(assessable, np.maximum(required - provided, 0.0), np.nan)
        per100 = np.where(assessable, 100.0 * provided / np.where(assessable, hh, 1.0), np.nan)
    ok = provided >= required - AREA_TOLERANCE
    passed = _nullable(ok, assessable)
    if (~assessable).any():
        warn_data(
            "floor_area_no_households",
            f"{int((~assessable).sum())} communities have no household count and get no floor-area pass/fail",
            count=int((~assessable).sum()),
        )

    columns = {
        "fa_households": np.where(assessable, hh, np.nan),
        "fa_required_m2": required,
        "fa_provided_m2": provided,
        "fa_shortfall_m2": shortfall,
        "fa_per_100hh": per100,
        "fa_facilities": n_fac.astype(np.int64),
        "fa_undersized": np.rint(n_small).astype(np.int64),
        "fa_min_m2": np.where(assessable, minimum, np.nan),
        "fa_rule": np.full(n, rule_text, dtype=object),
        pass_column("floor_area"): passed,
    }

    # ------------------------------------------------------------ citywide
    assessed = int(assessable.sum())
    # pandas-stubs give BooleanArray no __eq__ (object's, -> bool); it is elementwise, -> BooleanArray
    n_pass = int((passed == True).sum())  # type: ignore[comparison-overlap,attr-defined]  # noqa: E712
    tot_hh = float(hh[assessable].sum())
    tot_prov = float(provided[assessable].sum())
    tot_req = float(required[assessable].sum())
    tot_short = float(shortfall[assessable].sum())
    city = 100.0 * tot_prov / tot_hh if tot_hh > 0 else np.nan
    mins = []
    if rule.min_new_m2 is not None:
        mins.append(f"new ≥ {min_new:g} m²")
    if rule.min_rebuilt_m2 is not None:
        mins.append(f"rebuilt/extended/bought/leased ≥ {min_rebuilt:g} m²")
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
        "facilities": len(use),
        "facilities_unsnapped": unsnapped,
        "facilities_no_floor_area": int(no_value.sum()),
        "facilities_not_counted": unused,
        "facilities_undersized": int(small.sum()),
        "communities_assessed": assessed,
        "communities_passed": n_pass,
        "communities_failed": assessed - n_pass,
        "citywide_coverage_pct": np.nan,
        "citywide_m2_per_100hh": city,
        "provided_m2": tot_prov,
        "required_m2": tot_req,
        "shortfall_m2": tot_short,
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
            "value": city,
            "unit": "m2/100 households",
            "target": rate,
            "comparison": ">=",
            "passed": bool(city >= rate - 1e-9) if np.isfinite(city) else None,
            "method": f"{method}, × 100 ÷ their households ({assessed} communities with a household count)",
            "source": rule.source,
            "confirmed": rule.confirmed,
        },
        {
            "target_key": "floor_area_total",
            "name_zh": f"{rule.name_zh}（合计，含最小规模）",
            "name_en": f"{rule.name_en}: total provided vs required",
            "value": tot_prov,
            "unit": "m2",
            "target": tot_req,
            "comparison": ">=",
            "passed": bool(tot_prov >= tot_req - AREA_TOLERANCE) if assessed else None,
            "method": f"total floor area counted for the assessed communities against the sum of their "
            f"requirements, max({rate:g} m² × households / 100, minimum size"
            + (f": {'; '.join(mins)}" if mins else "")
            + f"); the communities' shortfalls add "
            f"up to {tot_short:,.0f} m² (a surplus in one community does not fill another's)",
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
        )
    ]
