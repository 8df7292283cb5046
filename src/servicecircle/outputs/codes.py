"""Administrative division codes: identifiers every export keeps as text.

6-digit (county), 9-digit (township / sub-district) and 12-digit (village /
community) codes are identifiers, not numbers: :func:`admin_code_columns` finds
them and :func:`codes_as_text` makes sure they are written as text in every
export (a 12-digit number in a spreadsheet turns into ``5.10104E+11``).
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["is_admin_code", "code_text", "admin_code_columns", "codes_as_text", "PROVINCE_PREFIXES", "CODE_LEVELS"]

#: GB/T 2260 province-level prefixes (the first two digits of every code).
PROVINCE_PREFIXES: Final = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    }
)
_CODE_RE = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")
#: Column-name hints that a numeric column holds codes (numbers need a hint; text does not).
_CODE_NAME_RE = re.compile(r"(code|adcode|dm$|_dm|xzq|qh|区划|代码|编码|编号)", re.IGNORECASE)
#: Digits → (Chinese, English) administrative level.
CODE_LEVELS: Final = {
    6: ("县级", "county"),
    9: ("乡级", "township / sub-district"),
    12: ("村级", "village / community"),
}


def is_admin_code(value: Any) -> bool:
    """Whether ``value`` looks like a 6/9/12-digit administrative division code.

    Parameters
    ----------
    value
        Text, an integer or an integral float.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_admin_code("510104022006"), is_admin_code(511400), is_admin_code("990104")
    (True, True, False)
    """
    text = code_text(value)
    return text is not None and bool(_CODE_RE.match(text)) and text[:2] in PROVINCE_PREFIXES


def code_text(value: Any) -> str | None:
    """The digits of a code given as text, an integer or an integral float (else ``None``).

    Parameters
    ----------
    value
        Any cell value.

    Returns
    -------
    str or None
    """
    if value is None or value is pd.NA:
        return None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if not math.isfinite(x) or x != math.floor(x) or abs(x) >= 1e15:
            return None
        return str(int(x))
    return None


def admin_code_columns(frame: pd.DataFrame) -> dict[str, int]:
    """Columns that hold administrative codes, with their (longest) number of digits.

    A text column qualifies when every non-empty value is a 6, 9 or 12-digit code
    with a valid province prefix. A numeric column qualifies only if, in
    addition, its name says it is a code (``code``, ``adcode``, ``XZQDM``,
    ``代码`` ...), so that a count such as 510 000 residents is never mistaken
    for one.

    Parameters
    ----------
    frame
        A table or layer.

    Returns
    -------
    dict
        Column → number of digits.
    """
    found: dict[str, int] = {}
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    for col in frame.columns:
        if col == geom:
            continue
        s = frame[col]
        numeric = pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
        if not (numeric or pd.api.types.is_string_dtype(s.dtype) or s.dtype == object):
            continue
        if numeric and not _CODE_NAME_RE.search(str(col)):
            continue
        values = s.dropna()
        if numeric:
            values = values[np.isfinite(values.astype(float))]
        if len(values) == 0:
            continue
        texts = [code_text(v) for v in values.unique()]
        if all(t is not None and _CODE_RE.match(t) and t[:2] in PROVINCE_PREFIXES for t in texts):
            found[str(col)] = max(len(t) for t in texts if t is not None)
    return found


def codes_as_text(frame: pd.DataFrame, columns: dict[str, int] | list[str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with its administrative-code columns as text (``None`` where empty).

    ``510104022006`` (int) and ``510104022006.0`` (float) both become
    ``"510104022006"``; text codes are kept exactly as they are.

    Parameters
    ----------
    frame
        A table or layer.
    columns
        The code columns (default: :func:`admin_code_columns`).

    Returns
    -------
    pandas.DataFrame
        A copy (a GeoDataFrame keeps its ``attrs``).
    """
    cols = admin_code_columns(frame) if columns is None else columns
    out = frame.copy()
    for col in cols:
        s = out[col]
        if pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_numeric_dtype(s.dtype):
            continue
        out[col] = pd.Series([code_text(v) if not _isna(v) else None for v in s], index=s.index, dtype=object)
    if isinstance(frame, gpd.GeoDataFrame):
        out.attrs = dict(frame.attrs)
    return out


def _isna(v: Any) -> bool:
    """``pd.isna`` for one value (``False`` for values it cannot judge)."""
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
