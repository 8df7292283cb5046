"""Input columns under the names they can keep: nothing an input holds is overwritten or lost.

An output layer holds every input column beside the columns servicecircle
writes; where the names meet (ignoring case, as GeoPackage, shapefile and File
Geodatabase do), the input column moves aside to ``input_<name>``
(:func:`keep_input_columns`), with one warning that lists what moved.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from .._text import word
from ..errors import source_of, warn_data

__all__ = ["RESERVED_COLUMNS", "INPUT_PREFIX", "keep_input_columns"]


#: column names no input column may keep in an output layer, whatever servicecircle writes: the GeoPackage's
#: primary key and geometry column names (compared ignoring case, as SQLite and GDAL do)
RESERVED_COLUMNS = ("fid", "geom", "geometry")

#: the prefix an input column gets when its name is taken (``snap_m`` → ``input_snap_m``)
INPUT_PREFIX = "input_"


def keep_input_columns(
    frame: pd.DataFrame, written: set[str] | list[str], *, source: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rename the input columns whose names an output column (or another input column) takes, losing nothing.

    An input column keeps its name unless that name, ignoring letter case,
    is one servicecircle writes into the same layer (``written``), is
    reserved by the GeoPackage (:data:`RESERVED_COLUMNS`), or repeats an
    earlier input column's: then it is kept as ``input_<name>`` (or
    ``input_<name>_2`` ... if that is taken too), with one ``column_renamed``
    warning per layer. GeoPackage, shapefile and File Geodatabase columns
    are case-insensitive, so ``Name`` and ``name`` cannot both be written.

    Returns the frame (renamed where needed) and, for every input column,
    its name in the output → its name in the input file (a reader that moved
    a column aside records the original in ``attrs["input_names"]``).

    >>> import pandas as pd
    >>> f, names = keep_input_columns(pd.DataFrame(columns=["Snap_M", "name", "NAME", "fid"]), {"snap_m"})
    >>> list(f.columns), names["input_NAME"]
    (['input_Snap_M', 'name', 'input_NAME', 'input_fid'], 'NAME')
    """
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    taken = {str(c).lower() for c in written} | set(RESERVED_COLUMNS)
    inputs = [c for c in frame.columns if c != geom]
    seen = {str(c).lower() for c in inputs}  # a new name must not be an input column's either
    used: set[str] = set()
    renames: dict[Any, str] = {}
    for col in inputs:
        low = str(col).lower()
        if low in taken or low in used:
            base = f"{INPUT_PREFIX}{col}"
            new, k = base, 1
            while new.lower() in taken | used | seen:
                k += 1
                new = f"{base}_{k}"
            renames[col] = new
            used.add(new.lower())
        else:
            used.add(low)
    if renames:
        file, layer = source_of(source if source is not None else frame)
        n = len(renames)
        listed = ", ".join(f"'{old}' → '{new}'" for old, new in list(renames.items())[:6])
        warn_data(
            "column_renamed",
            f"{n} input {word(n, 'column shares its name', 'columns share their names')} (ignoring case) with "
            f"a column servicecircle writes, a reserved name or another input column, and "
            f"{'is' if n == 1 else 'are'} kept under a new name: {listed}{' ...' if n > 6 else ''}",
            file=file,
            layer=layer,
            count=n,
        )
        frame = frame.rename(columns=renames)
    # a column a reader moved aside already keeps its original name (attrs["input_names"]: new → original)
    earlier: dict[str, str] = dict(getattr(frame, "attrs", {}).get("input_names", {}))
    names = {renames.get(c, str(c)): earlier.get(str(c), str(c)) for c in inputs}
    if renames:
        frame.attrs["input_names"] = {new: old for new, old in names.items() if new != old}
    return frame, names
