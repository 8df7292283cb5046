"""The 12-digit administrative code register (统计用区划代码): read it, and know each unit's kind.

The register is the public ``adcode`` data set (Vonng/adcode, CC BY 4.0; one CSV per county, no
header): code, parent code, name, rank (``city``/``county``/``town``/``village``), level, ...,
lon, lat (GCJ-02), ... :func:`read_register` reads one file, several, or a folder of them into a
:class:`CodeRegister`. Each unit's *kind* comes from the end of its name, as data
(``community_types.toml``): a township-level unit is a 街道 (``street``), 镇 (``town``) or 乡
(``xiang``); a village-level one a residents' committee (``committee``: 社区/居委会/居民委员会) or
a village committee (``village``: 村/村委会/村民委员会), by its code's village segment where the name
says neither.

>>> from servicecircle.inputs.register import read_register
>>> reg = read_register("data/sources/chengdu/adcode")
>>> reg.name("510104022006"), reg.kind("510104022006"), reg.kind("510104022000")
('总府路社区居委会', 'committee', 'street')
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputDataError

__all__ = ["CodeRegister", "read_register", "vocabulary", "unit_kind", "normalise_code", "CODE_RE", "register_paths"]

#: A 12-digit national administrative code.
CODE_RE = re.compile(r"\d{12}\Z")
_RANKS = ("province", "city", "county", "town", "village")
_FIX_REGISTER = (
    "give code_register= (--code-register) an adcode CSV file (code, parent code, name, rank, level, ...; "
    "no header) or a folder of them, e.g. data/sources/chengdu/adcode"
)


@cache
def vocabulary() -> dict[str, Any]:
    """The type and unit-kind vocabulary (``community_types.toml``), parsed once."""
    with (Path(__file__).with_name("community_types.toml")).open("rb") as fh:
        return tomllib.load(fh)


def _kinds_by_suffix(table: str) -> list[tuple[str, str]]:
    """``(suffix, kind)`` pairs, longest suffix first."""
    pairs = [(s, kind) for kind, spec in vocabulary()[table].items() for s in spec["suffixes"]]
    return sorted(pairs, key=lambda p: -len(p[0]))


def unit_kind(name: str, rank: str, code: str | None = None) -> str | None:
    """The kind of a township- or village-level unit, from its name (and code), or ``None``.

    >>> unit_kind("春熙路街道办事处", "town"), unit_kind("太和镇", "town"), unit_kind("广济乡", "town")
    ('street', 'town', 'xiang')
    >>> unit_kind("龙方居民委员会", "village"), unit_kind("白果村民委员会", "village")
    ('committee', 'village')
    >>> unit_kind("新华", "village", "511402001215")
    'village'
    """
    text = unicodedata.normalize("NFKC", str(name)).strip()
    if rank == "town":
        table = "township_kinds"
    elif rank == "village":
        table = "village_kinds"
    else:
        return rank if rank in ("city", "county", "province") else None
    for suffix, kind in _kinds_by_suffix(table):
        if text.endswith(suffix):
            return kind
    if table == "village_kinds" and code is not None and CODE_RE.match(code):
        segment = int(code[9:])
        for kind, spec in vocabulary()[table].items():
            if any(lo <= segment <= hi for lo, hi in spec.get("code_segments", ())):
                return kind
    return None


def normalise_code(value: Any) -> str | None:
    """A code as text (integers and whole floats as their digits), ``None`` for a missing value.

    >>> normalise_code(510104022006), normalise_code(510104022006.0), normalise_code(" 510104022006 ")
    ('510104022006', '510104022006', '510104022006')
    >>> normalise_code(None), normalise_code(float("nan")), normalise_code("")
    (None, None, None)
    """
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return None
        return str(int(value)) if float(value).is_integer() else str(value)
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class CodeRegister:
    """A code register: one row per unit, indexed by its 12-digit code.

    Attributes
    ----------
    table
        Columns ``parent``, ``name``, ``rank``, ``level``, ``kind``, ``lon``, ``lat`` (GCJ-02),
        ``file``; index ``code`` (text).
    files
        The files it was read from.
    """

    table: pd.DataFrame
    files: tuple[Path, ...]

    def __contains__(self, code: object) -> bool:
        return code in self.table.index

    def __len__(self) -> int:
        return len(self.table)

    def name(self, code: str) -> str | None:
        """The unit's name, or ``None`` for a code the register does not have.

        A city the register has no row of is named by its counties' rows (their ``city`` column).
        """
        if code in self.table.index:
            return str(self.table.at[code, "name"])
        if len(code) == 12 and code.endswith("00000000"):
            rows = self.table[self.table.index.str.startswith(code[:4]) & (self.table["city_name"] != "")]
            if len(rows):
                return str(rows["city_name"].iloc[0])
        return None

    def kind(self, code: str) -> str | None:
        """The unit's kind (``street``, ``town``, ``xiang``, ``committee``, ``village``, ``county`` ...)."""
        if code not in self.table.index:
            return None
        kind = self.table.at[code, "kind"]
        return None if kind is None or (isinstance(kind, float) and np.isnan(kind)) else str(kind)

    def parent(self, code: str) -> str | None:
        """The code of the unit's parent, or ``None``."""
        return str(self.table.at[code, "parent"]) if code in self.table.index else None

    def of_rank(self, rank: str) -> pd.DataFrame:
        """The units of one rank (``town``, ``village`` ...)."""
        return self.table[self.table["rank"] == rank]

    @property
    def source(self) -> str:
        """The files, for messages: one path, or the folder and how many files."""
        if len(self.files) == 1:
            return str(self.files[0])
        folders = {p.parent for p in self.files}
        where = str(next(iter(folders))) if len(folders) == 1 else ", ".join(str(p) for p in self.files[:3])
        return f"{where} ({len(self.files)} files)"


def register_paths(source: str | Path | Sequence[str | Path]) -> list[Path]:
    """The CSV files a ``code_register`` value names: a file, a folder (its ``*.csv``), or several.

    Several may be given as a list or as one text with ``,`` or ``;`` between them.
    """
    if isinstance(source, (str, Path)):
        items: Iterable[str | Path] = (
            [s.strip() for s in re.split(r"[,;]", source) if s.strip()] if isinstance(source, str) else [source]
        )
    else:
        items = list(source)
    out: list[Path] = []
    for item in items:
        path = Path(item).expanduser()
        if path.is_dir():
            found = sorted(path.glob("*.csv"))
            if not found:
                raise InputDataError("the code register folder has no .csv file", file=path, fix=_FIX_REGISTER)
            out += found
        elif path.is_file():
            out.append(path)
        else:
            raise InputDataError("the code register file does not exist", file=path, fix=_FIX_REGISTER)
    if not out:
        raise InputDataError("no code register file was given", fix=_FIX_REGISTER)
    return out


def _read_one(path: Path) -> pd.DataFrame:
    try:
        raw = pd.read_csv(path, header=None, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raw = pd.read_csv(path, header=None, dtype=str, keep_default_na=False, encoding="gb18030")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as exc:
        raise InputDataError(
            f"cannot read the code register ({' '.join(str(exc).split())})", file=path, fix=_FIX_REGISTER
        ) from None
    if raw.shape[1] < 4:
        raise InputDataError(
            f"the code register has {raw.shape[1]} columns, not at least 4 (code, parent code, name, rank)",
            file=path,
            fix=_FIX_REGISTER,
        )
    code = raw[0].str.strip()
    rank = raw[3].str.strip().str.lower()
    checks = (
        (~code.str.fullmatch(r"\d{12}"), "code '{v}' is not a 12-digit administrative code", code, False,
         "the first column of the register must be the 12-digit code (统计用区划代码); correct or remove the line"),
        (~rank.isin(_RANKS), f"rank '{{v}}' is not one of {', '.join(_RANKS)}", rank, True,
         "the fourth column of the register is the unit's rank; correct the line"),
    )  # fmt: skip
    for bad, what, values, with_code, fix in checks:
        if bad.any():
            first = int(np.flatnonzero(bad.to_numpy())[0])
            where = f"line {first + 1}" + (f" (code {code.iloc[first]})" if with_code else "")
            raise InputDataError(what.format(v=values.iloc[first]), file=path, feature=where, fix=fix)

    def number(col: int) -> pd.Series:
        if raw.shape[1] <= col:
            return pd.Series(np.nan, index=raw.index)
        return pd.to_numeric(raw[col].replace("", np.nan), errors="coerce")

    frame = pd.DataFrame(
        {
            "code": code,
            "parent": raw[1].str.strip(),
            "name": raw[2].str.strip(),
            "rank": rank,
            "level": number(4),
            "lon": number(12),
            "lat": number(13),
            "city_name": raw[16].str.strip() if raw.shape[1] > 16 else "",
            "file": str(path),
        }
    )
    return frame


def read_register(source: str | Path | Sequence[str | Path]) -> CodeRegister:
    """Read a code register (see the module's description).

    Parameters
    ----------
    source
        An adcode CSV file, a folder of them, or several (a list, or text with ``,`` between them).

    Returns
    -------
    CodeRegister

    Raises
    ------
    InputDataError
        A file that does not exist or cannot be read, a code that is not 12 digits, an unknown rank.
    """
    paths = register_paths(source)
    table = pd.concat([_read_one(p) for p in paths], ignore_index=True)
    table = table.drop_duplicates("code", keep="first").set_index("code")
    table["kind"] = [unit_kind(n, r, c) for c, n, r in zip(table.index, table["name"], table["rank"])]
    return CodeRegister(table=table, files=tuple(paths))
