"""The plan's indicator register on every run: each row assessed, or not assessed and why.

Runs after every other check (it reads their outcomes). A register row
(:class:`~servicecircle.profiles.register.RegisterRow`) that names a check
(``assessed_by``) takes that check's citywide scorecard row: its value, unit,
target, pass/fail and method. A row is *not assessed* when

* it says so (``not_assessed``: staffing, satisfaction, leakage rates ... are
  not in spatial data), with the data that would let it be (``data_needed``);
* its check kind is not computed by this version (``counts.…`` and the other
  kinds of :data:`~servicecircle.profiles.register.PENDING_KINDS` before the
  profile has their tables);
* its check did not run on these inputs (no facility of the category, no green
  spaces, no floor-area column ...), with the reason;
* its check ran but gave no citywide value (no community with a household
  count ...).

Unknown is never a pass or a fail: ``passed`` is empty for every row not assessed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..profiles import Profile
from ..profiles.register import RegisterRow
from ..schema import (
    REGISTER_COLUMNS,
    REGISTER_FAIL,
    REGISTER_NOT_ASSESSED,
    REGISTER_PASS,
    green_rule_key,
    indicator_column,
    six_ones_column,
)
from .context import CheckOutcome, Context

__all__ = ["register_table", "register_counts"]


def _missing(x: Any) -> bool:
    if x is None or x is pd.NA:
        return True
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def _why_no_result(row: RegisterRow, profile: Profile, ctx: Context | None) -> str:
    """Why the check a row names gave no result on this run."""
    by = row.assessed_by or ""
    if row.pending is not None:
        return f"its check {by} is of a kind ({row.pending}) this version of servicecircle does not compute"
    key = row.check_keys[0] if row.check_keys else by
    if key in profile.categories:
        cat = profile.categories[key]
        if ctx is not None and len(ctx.members(key)) == 0:
            return f"no facility of category {key} ({cat.name_zh}) in the input"
        return f"the {key} check did not run (see the warnings table)"
    rule = green_rule_key(key)
    if (rule is not None and rule in profile.green) or key == "park_area_per_resident":
        return "no green-space layer was given (greenspace=), or it holds no green space the rule counts"
    if key in ("floor_area", "floor_area_total"):
        if ctx is not None and "floor_area" in ctx.not_assessed:
            return ctx.not_assessed["floor_area"]  # what the floor-area check found
        return "the floor-area check did not run (see the warnings table)"
    if key == "six_ones" or key in {six_ones_column(i.key) for i in profile.six_ones}:
        return "the 6个1 check did not run (see the warnings table)"
    ind = next((i for i in profile.indicators.values() if indicator_column(i.key) == key), None)
    if ind is not None and ind.measure is None:
        return f"indicator {ind.key} gives no measure in the profile: it is listed, not computed"
    target = profile.targets.get(key) or profile.targets.get(by.partition(".")[2])
    found = indicator_column(ind.key) if ind is not None else target.key if target is not None else None
    if found is not None and ctx is not None and found in ctx.not_assessed:
        return ctx.not_assessed[found]  # what the indicator's or target's own check found
    return f"the {by} check did not run (see the warnings table)"


def register_table(profile: Profile, outcomes: list[CheckOutcome], ctx: Context | None = None) -> pd.DataFrame:
    """Every row of the profile's register, with the result of the check that assesses it.

    Parameters
    ----------
    profile
        The profile whose :attr:`~servicecircle.profiles.Profile.register` is reported.
    outcomes
        Every check's outcome of the run (their scorecard rows are the citywide results).
    ctx
        The run's context, to say why a check did not run (no facility of the category,
        no floor-area column ...); without it the reason is less precise.

    Returns
    -------
    pandas.DataFrame
        One row per register row, in the profile's order, columns
        :data:`servicecircle.schema.REGISTER_COLUMNS`. ``status`` is ``"pass"``,
        ``"fail"`` or ``"not assessed"``; ``passed`` is empty unless assessed;
        ``not_assessed`` says why.
    """
    scored: dict[str, dict[str, Any]] = {}
    for o in outcomes:
        for sc in o.scorecard:
            scored.setdefault(str(sc.get("target_key")), sc)
    rows = []
    for r in profile.register:
        out: dict[str, Any] = {
            "key": r.key,
            "plan_table": r.table,
            "plan_group": r.group,
            "section": r.section,
            "name_zh": r.name_zh,
            "name_en": r.name_en,
            "assessed_by": r.assessed_by,
            "data_needed": r.data_needed,
            "target_2025": r.target_2025,
            "target_max": r.target_max,
            "target_2022": r.target_2022,
            "unit": r.unit,
            "comparison": r.comparison,
            "target_text": r.target_text,
            "binding": r.binding,
            "scale": r.scale,
            "applies_to": ", ".join(r.applies_to) if r.applies_to else "urban, town, rural",
            "scraped": r.scraped,
            "reading": r.reading,
            "confirmed": r.confirmed,
            "source": r.source,
            "status": REGISTER_NOT_ASSESSED,
            "passed": None,
        }
        if r.assessed_by is None:
            out["not_assessed"] = r.not_assessed
        else:
            hit = next((k for k in r.check_keys if k in scored), None) if r.pending is None else None
            if hit is None:
                out["not_assessed"] = _why_no_result(r, profile, ctx)
            else:
                sc = scored[hit]
                out.update(
                    check=hit,
                    value=sc.get("value"),
                    value_unit=sc.get("unit"),
                    check_target=sc.get("target"),
                    method=sc.get("method"),
                )
                passed = sc.get("passed")
                if _missing(sc.get("value")) or passed is None or passed is pd.NA:
                    why = _why_no_result(r, profile, ctx)
                    out["not_assessed"] = (
                        f"the {hit} check ran but gave no citywide value (no community or facility "
                        "had what it needs: see the warnings table)"
                        if "did not run" in why or ctx is None
                        else f"{why}: the {hit} check ran but gave no citywide value"
                    )
                else:
                    out["passed"] = bool(passed)
                    out["status"] = REGISTER_PASS if passed else REGISTER_FAIL
        rows.append(out)
    frame = pd.DataFrame(rows, columns=REGISTER_COLUMNS)
    frame["passed"] = frame["passed"].astype("boolean")
    for col in ("value", "check_target", "target_2025", "target_max", "target_2022"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(np.float64)
    frame["confirmed"] = frame["confirmed"].astype(bool)
    return frame


def register_counts(register: pd.DataFrame | None) -> dict[str, int]:
    """How many rows passed, failed and were not assessed.

    >>> register_counts(pd.DataFrame({"status": ["pass", "fail", "not assessed", "not assessed"]}))
    {'rows': 4, 'assessed': 2, 'pass': 1, 'fail': 1, 'not assessed': 2}
    """
    if register is None or "status" not in register:
        return {"rows": 0, "assessed": 0, REGISTER_PASS: 0, REGISTER_FAIL: 0, REGISTER_NOT_ASSESSED: 0}
    status = register["status"]
    n_pass, n_fail = int((status == REGISTER_PASS).sum()), int((status == REGISTER_FAIL).sum())
    return {
        "rows": len(register),
        "assessed": n_pass + n_fail,
        REGISTER_PASS: n_pass,
        REGISTER_FAIL: n_fail,
        REGISTER_NOT_ASSESSED: int((status == REGISTER_NOT_ASSESSED).sum()),
    }
