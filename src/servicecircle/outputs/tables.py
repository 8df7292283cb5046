"""Plain tables: CSV that Excel opens with Chinese text intact."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["write_csv"]


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` as UTF-8 CSV with a byte-order mark (so Excel reads Chinese).

    Floats are written with up to 6 significant decimals so reruns give
    byte-identical files.
    """
    frame.to_csv(path, index=False, encoding="utf-8-sig", float_format="%.6g", lineterminator="\n")
