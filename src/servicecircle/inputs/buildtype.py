"""Build types of community service facilities: newly built, or rebuilt / extended / bought / leased.

The floor-area check (:mod:`servicecircle.checks.floorarea`) and the
floor-area template (:mod:`servicecircle.inputs.committees`) read them alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["build_type_kind", "NEW_WORDS", "REBUILT_WORDS", "normalise_build_type"]

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


def normalise_build_type(text: str) -> str:
    """NFKC, case-folded, spaces / ``_`` / ``-`` / ``/`` as one space: ``" Re-Built "`` -> ``"re built"``."""
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
    norm = {v: normalise_build_type(v) for v in uniq}  # one entry per distinct value
    n = text.map(norm)
    rebuilt = n.isin(REBUILT_WORDS).to_numpy()
    known = rebuilt | n.isin(NEW_WORDS).to_numpy()
    return rebuilt, known
