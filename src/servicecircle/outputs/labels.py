"""Bilingual words every output shares: column headers, pass/fail texts, check names.

:func:`column_labels` reads a column name with :func:`servicecircle.schema.parse_column`
and names its subject from the assessment (``cov_kindergarten`` →
``幼儿园覆盖率`` / ``Kindergarten coverage`` / ``%``); the Excel headers, the
GeoPackage ``fields`` table, the File Geodatabase aliases and the QGIS field
aliases all come from it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from .. import schema
from ..schema import FLAG, FLAG_LABELS, PRESENT, UNCOVERED, family_labels, parse_column

if TYPE_CHECKING:
    from ..checks.context import CheckOutcome
    from .result import AssessmentResult as Assessment  # the protocol the writers read, not the record

__all__ = [
    "PASS_TEXT",
    "FAIL_TEXT",
    "NO_DATA_TEXT",
    "YES_TEXT",
    "NO_TEXT",
    "UNCONFIRMED_TEXT",
    "OSM_DATA_ATTRIBUTION",
    "column_labels",
    "column_header",
    "check_labels",
    "subject_names",
    "weight_names",
    "six_status_text",
    "layer_label",
    "unit_text",
    "weight_kind_text",
]

PASS_TEXT: Final = "达标"
FAIL_TEXT: Final = "未达标"
NO_DATA_TEXT: Final = "无数据"
YES_TEXT: Final = "是"
NO_TEXT: Final = "否"
#: A threshold the profile marks ``confirmed = false``.
UNCONFIRMED_TEXT: Final = "未确认 unconfirmed"
#: The attribution of OpenStreetMap data (the walking network, the demo's facilities).
OSM_DATA_ATTRIBUTION: Final = "© OpenStreetMap contributors, ODbL"

#: What the demand weight counts → (zh, en).
_WEIGHT_NAMES: Final = {
    "households": ("户数", "households"),
    "residents": ("人口", "residents"),
    "count": ("需求点", "demand points"),
    "residential area (m²)": ("居住用地面积", "residential area (m²)"),
}
#: 6个1 statuses without a radius.
_SIX_STATUS: Final = {schema.SIX_INSIDE: "社区内 inside", schema.SIX_MISSING: "缺 missing"}
#: Families labelled by their key's names whatever the assessment.
_NAMED: Final = frozenset(
    {
        schema.COVERAGE,
        schema.PASS,
        schema.UNCOVERED,
        schema.DISTANCE,
        schema.COUNT,
        schema.SIX_ONES,
        schema.NPASS,
        schema.NFAIL,
        schema.NUNK,
    }
)


def subject_names(a: Assessment | None, key: str) -> tuple[str, str]:
    """Chinese and English name of a check, category or 6个1 item (the key itself if unknown).

    Parameters
    ----------
    a
        The assessment (its checks and profile), if any.
    key
        A check, category or item key.

    Returns
    -------
    tuple of str
    """
    if a is not None:
        for o in a.checks:
            if o.key == key:
                return o.name_zh, o.name_en
        cat = a.profile.categories.get(key) if getattr(a.profile, "categories", None) else None
        if cat is not None:
            return cat.name_zh, cat.name_en
        for it in getattr(a.profile, "six_ones", ()) or ():
            if it.key == key:
                return it.name_zh, it.name_en
    return key, key


def weight_names(a: Assessment | None, key: str | None) -> tuple[str, str]:
    """What the demand of check ``key`` counts, in Chinese and English (``户数``, ``households``).

    Parameters
    ----------
    a
        The assessment, if any.
    key
        A check key (its own weight kind wins over the run's).

    Returns
    -------
    tuple of str
    """
    kind = None
    if a is not None:
        for o in a.checks:
            if o.key == key:
                kind = o.summary.get("weight_kind")
        kind = kind or a.parameters.get("weight")
    return _WEIGHT_NAMES.get(str(kind), (str(kind or "需求"), str(kind or "demand")))


def _is_six_item(a: Assessment | None, key: str) -> bool:
    return a is not None and any(it.key == key for it in getattr(a.profile, "six_ones", ()) or ())


def column_labels(
    col: str, a: Assessment | None = None, *, layer: str | None = None, short: bool = False
) -> tuple[str, str, str]:
    """``(zh, en, unit)`` for an output column; ``(col, col, "")`` for one the schema does not know.

    Parameters
    ----------
    col
        The column name.
    a
        The assessment: names of checks, categories and items, and what the demand counts.
    layer
        The layer or table the column is in (some give a name a meaning of their own).
    short
        Drop the check's name from per-check columns (for a sheet that is
        about one check already): ``cov_kindergarten`` is ``幼儿园覆盖率`` /
        ``Kindergarten coverage`` in full and ``覆盖率`` / ``Coverage`` short.

    Returns
    -------
    tuple of str
    """
    spec = parse_column(col, layer)
    if spec is not None and spec.column is not None:
        return spec.column.labels
    if spec is not None and spec.key is not None:
        if spec.family in _NAMED:
            weight = weight_names(a, spec.key) if spec.family == UNCOVERED else ("需求", "demand")
            return family_labels(spec, *subject_names(a, spec.key), weight=weight, short=short)
        if spec.family == FLAG and spec.key in FLAG_LABELS:
            return family_labels(spec, spec.key, spec.key)
        if spec.family == PRESENT and _is_six_item(a, spec.key):
            return family_labels(spec, *subject_names(a, spec.key))
    if a is not None:  # an indicator's value (and any other check's score) takes the check's names
        for o in a.checks:
            if o.score_col == col and col in o.columns:
                return o.name_zh, o.name_en, o.score_unit
    return col, col, ""


def column_header(col: str, a: Assessment | None = None, *, layer: str | None = None, short: bool = False) -> str:
    """``"覆盖率 Coverage (%)"``: the bilingual header of a column.

    Parameters
    ----------
    col, a, layer, short
        As for :func:`column_labels`.

    Returns
    -------
    str
    """
    zh, en, unit = column_labels(col, a, layer=layer, short=short)
    text = zh if zh == en else f"{zh} {en}"
    return f"{text} ({unit})" if unit else text


def check_labels(o: CheckOutcome) -> tuple[str, str]:
    """``("幼儿园 ≤300米", "Kindergarten ≤ 300 m")``: a check's names with its radius.

    The radius is not repeated when the name already has it (``300米见绿``).

    Parameters
    ----------
    o
        The check.

    Returns
    -------
    tuple of str
    """
    if not o.radius_m:
        return o.name_zh, o.name_en
    r = f"{o.radius_m:g}"
    return (o.name_zh if r in o.name_zh else o.label_zh), (o.name_en if r in o.name_en else o.label_en)


def six_status_text(status: str) -> str:
    """``"社区内 inside"``, ``"300米内 within 300 m"``, ``"缺 missing"`` (other text as it is).

    Parameters
    ----------
    status
        A value of a 6个1 item column.

    Returns
    -------
    str
    """
    parsed = schema.parse_six_status(status)
    if parsed is not None and parsed[1] is not None:
        r = f"{parsed[1]:g}"
        return f"{r}米内 within {r} m"
    return _SIX_STATUS.get(status, status)


def layer_label(name: str) -> str:
    """``"社区 Communities"``: the bilingual label of a layer (its name if the schema has none).

    Parameters
    ----------
    name
        The layer name.

    Returns
    -------
    str
    """
    labels = schema.layer_labels(name)
    return name if labels is None else f"{labels[0]} {labels[1]}"


#: ``m2`` / ``m3`` as a word of their own (not ``gap_area_m2``, not ``m20``).
_POWER: Final = re.compile(r"(?<![\w.])m([23])(?![\w])")


def unit_text(text: str) -> str:
    """One spelling of each unit: ``m2`` → ``m²``, ``m3`` → ``m³`` (in a unit or in a label that ends in one).

    Profiles write units in ASCII (``unit = "m2/resident"``); every display uses
    the one spelling ``m²``.

    Parameters
    ----------
    text
        A unit (``"m2/resident"``) or a label with one (``"Area (m2)"``).

    Returns
    -------
    str

    Examples
    --------
    >>> unit_text("m2/resident"), unit_text("Gap area (m2)"), unit_text("gap_area_m2")
    ('m²/resident', 'Gap area (m²)', 'gap_area_m2')
    """
    return _POWER.sub(lambda m: "m²" if m.group(1) == "2" else "m³", text)


def weight_kind_text(kind: str | None) -> str | None:
    """``"户数 households"``: what a demand weight counts, in Chinese and English.

    Parameters
    ----------
    kind
        A ``weight_kind`` value (``households``, ``residents``, ``count``, ``residential area (m²)``).

    Returns
    -------
    str or None
        ``None`` for a missing value; an unknown kind as it is.
    """
    if kind is None or kind != kind:  # NaN
        return None
    names = _WEIGHT_NAMES.get(str(kind))
    return str(kind) if names is None else f"{names[0]} {names[1]}"
