"""Roll the communities' results up to every unit level: township (街道/乡镇), county (区/县), city.

Pure computation on the communities frame (the assessment's ``communities`` layer): the schema's
parser (:func:`servicecircle.schema.parse_column`) tells each column's family, so every check with a
pass column (and, for reach checks, coverage and uncovered-demand columns) is rolled up, whatever
its kind. Per unit and check:

* ``coverage_pct`` — the demand-weighted coverage (households, or the run's weight): the sum of
  ``weight_total × cov`` over the unit's communities with a coverage, over the sum of their
  ``weight_total`` (``assessed_weight``). It is exactly the share of the unit's assessed demand
  within reach, so a higher level's coverage is the ``assessed_weight``-weighted mean of its units';
* ``communities_passed`` / ``communities_failed`` / ``communities_unknown`` (no verdict: no demand,
  no data) — counts, which add up;
* ``uncovered_weight`` — demand out of reach (a sum);
* ``shortfall_m2`` — the floor-area shortfall (a sum over the communities that have one).

A sum over no community is unknown (``NaN``), never zero.

>>> import pandas as pd
>>> comm = pd.DataFrame({"weight_total": [100.0, 300.0], "cov_park": [50.0, 100.0],
...                      "unc_park": [50.0, 0.0], "pass_park": pd.array([False, True], dtype="boolean")})
>>> t = rollup_table(comm, {"city": ["c", "c"]}, {"city": {"c": "眉山市"}})
>>> t[["unit_code", "check", "coverage_pct", "communities_passed", "uncovered_weight"]].to_dict("records")
[{'unit_code': 'c', 'check': 'park', 'coverage_pct': 87.5, 'communities_passed': 1, 'uncovered_weight': 50.0}]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..schema import (
    PASS,
    ROLLUP_COLUMNS,
    coverage_column,
    nfail_column,
    npass_column,
    nunk_column,
    parse_column,
    uncovered_column,
)

__all__ = ["ROLLUP_COLUMNS", "rolled_checks", "rollup_table", "unit_frame"]

_SHORTFALL = "fa_shortfall_m2"
_CHECK_SHORTFALL = {"floor_area": _SHORTFALL}


def rolled_checks(columns: Iterable[str]) -> list[str]:
    """The checks a frame's columns can be rolled up for: those with a ``pass_<check>`` column, in order.

    >>> rolled_checks(["code", "cov_park", "pass_park", "pass_floor_area", "fa_shortfall_m2"])
    ['park', 'floor_area']
    """
    out = []
    for c in columns:
        spec = parse_column(str(c))
        if spec is not None and spec.family == PASS and spec.key is not None:
            out.append(spec.key)
    return out


def _float(frame: pd.DataFrame, column: str) -> NDArray[np.float64] | None:
    if column not in frame.columns:
        return None
    return np.asarray(pd.to_numeric(frame[column], errors="coerce").astype("float64").to_numpy(na_value=np.nan))


def _verdicts(frame: pd.DataFrame, column: str) -> NDArray[np.float64]:
    """1.0 pass, 0.0 fail, NaN unknown."""
    s = frame[column]
    return np.asarray(s.astype("Float64").to_numpy(dtype="float64", na_value=np.nan))


def _group_sum(idx: NDArray[np.intp], values: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """Sum per group of the finite values; NaN for a group without one."""
    ok = np.isfinite(values)
    total = np.bincount(idx[ok], weights=values[ok], minlength=k)
    n = np.bincount(idx[ok], minlength=k)
    return np.where(n > 0, total, np.nan)


def rollup_table(
    frame: pd.DataFrame,
    unit_codes: Mapping[str, Sequence[Any] | NDArray[Any]],
    unit_names: Mapping[str, Mapping[str, str]] | None = None,
    checks: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The long roll-up table (:data:`ROLLUP_COLUMNS`) of every level of ``unit_codes``.

    Parameters
    ----------
    frame
        One row per community, with ``weight_total`` and each check's ``pass_<check>`` (and
        ``cov_<check>``, ``unc_<check>``, ``fa_shortfall_m2`` where it has them).
    unit_codes
        Level → the unit code of each community (``None`` where unknown: left out of that level).
    unit_names
        Level → code → name.
    checks
        The checks to roll up (default: every one with a pass column, :func:`rolled_checks`).

    Returns
    -------
    pandas.DataFrame
        One row per level, unit (sorted by code) and check.
    """
    keys = list(checks) if checks is not None else rolled_checks(frame.columns)
    weight = _float(frame, "weight_total")
    if weight is None:
        weight = np.full(len(frame), np.nan)
    rows: list[dict[str, Any]] = []
    for level, codes in unit_codes.items():
        arr = np.asarray(codes, dtype=object)
        if len(arr) != len(frame):
            raise ValueError(f"level {level!r}: {len(arr)} unit codes for {len(frame)} communities")
        known = np.array([c is not None and not (isinstance(c, float) and np.isnan(c)) for c in arr], dtype=bool)
        units = sorted({str(c) for c in arr[known]})
        if not units:
            continue
        pos = {u: i for i, u in enumerate(units)}
        k = len(units)
        idx = np.array([pos[str(c)] for c in arr[known]], dtype=np.intp)
        sub = frame.iloc[np.flatnonzero(known)]
        w = weight[known]
        n_comm = np.bincount(idx, minlength=k)
        names = (unit_names or {}).get(level, {})
        for key in keys:
            verdict = _verdicts(sub, f"pass_{key}") if f"pass_{key}" in sub.columns else np.full(len(sub), np.nan)
            n_pass = np.bincount(idx, weights=(verdict == 1.0).astype(float), minlength=k)
            n_fail = np.bincount(idx, weights=(verdict == 0.0).astype(float), minlength=k)
            cov = _float(sub, coverage_column(key))
            unc = _float(sub, uncovered_column(key))
            short_col = _CHECK_SHORTFALL.get(key)
            short = _float(sub, short_col) if short_col else None
            if cov is not None:
                use = np.isfinite(cov) & np.isfinite(w)
                base = np.bincount(idx[use], weights=w[use], minlength=k)
                num = np.bincount(idx[use], weights=(w * cov)[use], minlength=k)
                with np.errstate(invalid="ignore", divide="ignore"):
                    cov_u = np.where(base > 0, num / np.where(base > 0, base, 1.0), np.nan)
                base_u = np.where(np.bincount(idx[use], minlength=k) > 0, base, np.nan)
            else:
                cov_u = base_u = np.full(k, np.nan)
            unc_u = _group_sum(idx, unc, k) if unc is not None else np.full(k, np.nan)
            short_u = _group_sum(idx, short, k) if short is not None else np.full(k, np.nan)
            for u, code in enumerate(units):
                rows.append(
                    {
                        "level": level,
                        "unit_code": code,
                        "unit_name": names.get(code, code),
                        "check": key,
                        "communities": int(n_comm[u]),
                        "communities_passed": int(n_pass[u]),
                        "communities_failed": int(n_fail[u]),
                        "communities_unknown": int(n_comm[u] - n_pass[u] - n_fail[u]),
                        "assessed_weight": float(base_u[u]),
                        "coverage_pct": float(cov_u[u]),
                        "uncovered_weight": float(unc_u[u]),
                        "shortfall_m2": float(short_u[u]),
                    }
                )
    return pd.DataFrame(rows, columns=ROLLUP_COLUMNS)


def unit_frame(
    frame: pd.DataFrame,
    level: str,
    codes: Sequence[Any] | NDArray[Any],
    names: Mapping[str, str] | None = None,
    table: pd.DataFrame | None = None,
    *,
    types: Sequence[Any] | NDArray[Any] | None = None,
    parents: Sequence[Any] | NDArray[Any] | None = None,
    kinds: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per unit of ``level``: its communities, demand and types, and per check its roll-up.

    Columns ``level``, ``unit_code``, ``unit_name``, ``unit_kind``, ``parent_code``,
    ``n_communities``, ``n_urban``, ``n_town``, ``n_rural``, ``n_type_unknown``, ``households``,
    ``residents``, ``weight_total``, then per check ``cov_<check>``, ``unc_<check>``,
    ``npass_<check>``, ``nfail_<check>``, ``nunk_<check>``, and ``fa_shortfall_m2``.

    Parameters
    ----------
    frame
        The communities frame.
    level, codes, names
        The level, each community's unit code, the units' names.
    table
        The level's rows of :func:`rollup_table` (computed if not given).
    types
        Each community's type (``urban``/``town``/``rural``/``None``).
    parents
        Each community's unit one level up (its code), for ``parent_code``.
    kinds
        Code → kind of unit (``street``, ``town``, ``xiang`` ...).
    """
    if table is None:
        table = rollup_table(frame, {level: codes}, {level: dict(names or {})})
    table = table[table["level"] == level]
    arr = np.asarray(codes, dtype=object)
    known = np.array([c is not None for c in arr], dtype=bool)
    units = sorted({str(c) for c in arr[known]})
    out: dict[str, Any] = {"level": [level] * len(units), "unit_code": units}
    out["unit_name"] = [(names or {}).get(u, u) for u in units]
    out["unit_kind"] = [(kinds or {}).get(u) for u in units]
    if parents is not None:
        par = np.asarray(parents, dtype=object)
        first: dict[str, Any] = {}
        for c, p in zip(arr, par):
            if c is not None:
                first.setdefault(str(c), p)
        out["parent_code"] = [first.get(u) for u in units]
    pos = {u: i for i, u in enumerate(units)}
    idx = np.array([pos[str(c)] for c in arr[known]], dtype=np.intp)
    k = len(units)
    out["n_communities"] = np.bincount(idx, minlength=k)
    if types is not None:
        t = np.asarray(types, dtype=object)[known]
        for name in ("urban", "town", "rural"):
            out[f"n_{name}"] = np.bincount(idx, weights=(t == name).astype(float), minlength=k).astype(int)
        out["n_type_unknown"] = np.bincount(
            idx, weights=np.array([v is None for v in t], dtype=float), minlength=k
        ).astype(int)
    sub = frame.iloc[np.flatnonzero(known)]
    for col in ("households", "residents", "weight_total"):
        values = _float(sub, col)
        if values is not None:
            out[col] = _group_sum(idx, values, k)
    for key, part in table.groupby("check", sort=False):  # one check at a time, its columns together
        part = part.set_index("unit_code").reindex(units)
        ckey = str(key)
        if coverage_column(ckey) in frame.columns:
            out[coverage_column(ckey)] = part["coverage_pct"].to_numpy(dtype=float)
        if uncovered_column(ckey) in frame.columns:
            out[uncovered_column(ckey)] = part["uncovered_weight"].to_numpy(dtype=float)
        out[npass_column(ckey)] = part["communities_passed"].to_numpy(dtype=int)
        out[nfail_column(ckey)] = part["communities_failed"].to_numpy(dtype=int)
        out[nunk_column(ckey)] = part["communities_unknown"].to_numpy(dtype=int)
        if ckey in _CHECK_SHORTFALL:
            out[_CHECK_SHORTFALL[ckey]] = part["shortfall_m2"].to_numpy(dtype=float)
    return pd.DataFrame(out)
