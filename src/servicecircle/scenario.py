"""Scenarios: add or remove facilities and see what changes.

A scenario reuses everything that does not depend on the facilities — the
network, the demand points and their snapping, the gap grid, the green-space
checks — and recomputes distances and checks only for the facility categories it
touches, so planners can try one idea after another quickly.

>>> import geopandas as gpd, shapely, servicecircle as sc
>>> from servicecircle.scenario import compare, scenario
>>> base = sc.assess_files(**sc.pipeline.demo_inputs(), progress=False)
>>> new = gpd.GeoDataFrame({"category": ["kindergarten"]}, geometry=[shapely.Point(104.07, 30.66)], crs=4326)
>>> plan = scenario(base, add=new)
>>> city = compare(base, plan).query("check == 'kindergarten' and community_id == '(citywide)'")
>>> bool(city["after"].iloc[0] >= city["before"].iloc[0])
True
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .assessment import Assessment, rerun
from .coords import to_crs
from .errors import InputDataError
from .inputs.columns import keep_input_columns
from .inputs.prepare import prepare_facilities

__all__ = ["scenario", "compare", "SCENARIO_COLUMN"]

#: Column marking each facility of a scenario as ``existing`` or ``added``.
SCENARIO_COLUMN = "scenario"


def _removed_mask(base: Assessment, remove: Any) -> np.ndarray:
    n = len(base.facilities)
    mask = np.zeros(n, dtype=bool)
    if remove is None:
        return mask
    arr = np.asarray(remove)
    if arr.dtype == bool:
        if len(arr) != n:
            raise InputDataError(
                f"remove= has {len(arr)} flags for {n} facilities",
                fix="give one flag per facility, or their row positions",
            )
        return arr.copy()
    pos = arr.astype(np.int64).ravel()
    if len(pos) and (pos.min() < 0 or pos.max() >= n):
        raise InputDataError(
            f"remove= names facility row {int(pos.max()) if len(pos) else 0}, but there are {n}",
            fix="give row positions between 0 and the number of facilities - 1",
        )
    mask[pos] = True
    return mask


def scenario(
    base: Assessment,
    *,
    add: gpd.GeoDataFrame | None = None,
    remove: Any = None,
    name: str = "scenario",
    progress: bool | None = None,
) -> Assessment:
    """Re-assess with facilities added and/or removed.

    Parameters
    ----------
    base
        The assessment to start from.
    add
        New facilities (points, any CRS) with the same category column as the
        base's facilities (e.g. ``category``); other columns are kept.
    remove
        Facilities to take away: a boolean mask or row positions over
        ``base.facilities``.
    name
        A label stored in the result's parameters.

    Returns
    -------
    Assessment
        The scenario; its ``facilities`` carry a ``scenario`` column
        (``existing`` / ``added``).
    """
    st = base.state
    if st is None or st.facilities_input is None:
        raise InputDataError(
            "this assessment keeps nothing to rerun from", fix="start the scenario from the result of assess()"
        )
    cat_col = st.options.category_column
    original = st.facilities_input
    gone = _removed_mask(base, remove)
    keep = original.iloc[np.flatnonzero(~gone)].copy()
    if SCENARIO_COLUMN.lower() in {str(c).lower() for c in keep.columns}:  # the input's own 'scenario' column stays
        keep, _ = keep_input_columns(keep, {SCENARIO_COLUMN}, source=original)
    keep[SCENARIO_COLUMN] = "existing"
    changed: set[str] = set(base.facilities["category_key"].to_numpy()[gone].tolist())
    parts = [keep]
    if add is not None and len(add):
        added = prepare_facilities(add, category_column=cat_col)
        if added.crs is None:
            raise InputDataError("the added facilities have no coordinate system", fix="set one (GeoDataFrame.set_crs)")
        added = to_crs(added, original.crs)
        if SCENARIO_COLUMN.lower() in {str(c).lower() for c in added.columns}:
            added, _ = keep_input_columns(added, {SCENARIO_COLUMN}, source=add)
        added[SCENARIO_COLUMN] = "added"
        for value in added[cat_col].dropna().astype(str):
            cat = base.profile.category_for(value)
            changed.add(cat.key if cat is not None else value)
        parts.append(added)
    facilities = gpd.GeoDataFrame(
        pd.concat(parts, ignore_index=True), geometry=original.geometry.name, crs=original.crs
    )
    facilities.attrs = dict(original.attrs)
    result = rerun(base, facilities, frozenset(c for c in changed if c is not None), progress=progress)
    result.parameters["scenario"] = name
    result.parameters["scenario_added"] = 0 if add is None else len(add)
    result.parameters["scenario_removed"] = int(gone.sum())
    return result


def compare(before: Assessment, after: Assessment) -> pd.DataFrame:
    """Before/after per community and check, and a citywide row per check.

    Returns
    -------
    pandas.DataFrame
        Columns ``community_id``, ``check``, ``name_zh``, ``name_en``, ``before``,
        ``after``, ``change``, ``unit``, ``passed_before``, ``passed_after``;
        citywide rows have ``community_id`` ``"(citywide)"``.
    """
    rows = []
    ids_b = (
        before.communities[before.id_column]
        if before.id_column in before.communities
        else pd.Series(np.arange(1, len(before.communities) + 1))
    )
    checks_after = {c.key: c for c in after.checks}
    for c in before.checks:
        a = checks_after.get(c.key)
        if a is None or not c.score_col or c.score_col not in before.communities:
            continue
        vb = pd.to_numeric(before.communities[c.score_col], errors="coerce").to_numpy(dtype=float)
        va = pd.to_numeric(after.communities[a.score_col], errors="coerce").to_numpy(dtype=float)
        pb = before.communities[c.pass_col] if c.pass_col else pd.Series([pd.NA] * len(vb))
        pa = after.communities[a.pass_col] if a.pass_col else pd.Series([pd.NA] * len(va))
        for k in range(len(vb)):
            rows.append(
                {
                    "community_id": ids_b.iloc[k],
                    "check": c.key,
                    "name_zh": c.name_zh,
                    "name_en": c.name_en,
                    "before": vb[k],
                    "after": va[k],
                    "change": va[k] - vb[k],
                    "unit": c.score_unit,
                    "passed_before": pb.iloc[k],
                    "passed_after": pa.iloc[k],
                }
            )
        sb = before.summary.set_index("check")
        sa = after.summary.set_index("check")
        if c.key in sb.index and c.key in sa.index:
            cb: Any = sb.loc[c.key, "city_value"]
            ca: Any = sa.loc[c.key, "city_value"]
            rows.append(
                {
                    "community_id": "(citywide)",
                    "check": c.key,
                    "name_zh": c.name_zh,
                    "name_en": c.name_en,
                    "before": cb,
                    "after": ca,
                    "change": ca - cb if cb == cb and ca == ca else np.nan,
                    "unit": sb.loc[c.key, "city_unit"],
                    "passed_before": sb.loc[c.key, "communities_passed"],
                    "passed_after": sa.loc[c.key, "communities_passed"],
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "community_id",
            "check",
            "name_zh",
            "name_en",
            "before",
            "after",
            "change",
            "unit",
            "passed_before",
            "passed_after",
        ],
    )
