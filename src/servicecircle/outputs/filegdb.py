"""Esri File Geodatabase (``.gdb``) for the national land-space planning database.

The national master-plan database exchanges File Geodatabases (see
``docs/exports.md``). :func:`write_filegdb` writes the layers and tables of the
shortfall GeoPackage into one ``.gdb`` folder with GDAL's OpenFileGDB driver
(GDAL ≥ 3.6 writes it; no Esri library is needed) and a ``FIELD_MAP`` table that
says, for every field, where it came from and what it means in Chinese and
English.

Field names
-----------
File Geodatabase field names must be at most 64 characters of ASCII letters,
digits and underscores, start with a letter, and avoid reserved words. Column
names are renamed by :func:`gdb_field_names`, deterministically:

* where a national convention exists it is used: the community's own
  administrative code becomes ``XZQDM`` (行政区代码) and its name ``XZQMC``
  (行政区名称), the field codes of the land-space planning "one map" databases;
* every other name keeps its ASCII letters, digits and underscores; characters
  outside them (Chinese column names, spaces, ``-``) are dropped and a short hash
  of the original name is appended so two names never merge;
* a name that does not start with a letter gets ``F_`` in front; a reserved word
  or a system field name (``OBJECTID``, ``SHAPE`` ...) gets ``_1`` after it;
* names are compared case-insensitively (as the geodatabase does); a later
  duplicate gets ``_2``, ``_3`` ...

Field aliases
-------------
Every field carries its bilingual name and unit as its alias
(``幼儿园覆盖率 Kindergarten coverage (%)``), which ArcGIS shows in place of the
field name: GDAL's OpenFileGDB driver writes a field's "alternative name" as
its alias, and the fields are written through GDAL's Arrow interface
(:func:`pyogrio.write_arrow`), whose ``GDAL:OGR:alternative_name`` field
metadata sets it (GDAL ≥ 3.8; an older GDAL writes the same fields without
aliases). A field without a known label has its GeoPackage name as its alias.

Administrative codes
--------------------
6-digit (county), 9-digit (township / sub-district) and 12-digit (village /
community) codes are identifiers, not numbers: they are written as text
(:mod:`servicecircle.outputs.codes`) and ``FIELD_MAP`` says which fields hold them.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from ..coords import to_crs
from ..errors import OutputError
from ..schema import FIELD_MAP_COLUMNS, LAYER_COLUMNS
from .codes import CODE_LEVELS, admin_code_columns, codes_as_text
from .gdal import gdal_config
from .labels import column_labels, layer_label
from .layers import assessment_layers, clean_for_export

if TYPE_CHECKING:
    from .result import AssessmentResult as Assessment  # the protocol the writers read, not the record

__all__ = [
    "write_filegdb",
    "gdb_field_names",
    "field_map",
    "RESERVED_WORDS",
    "SYSTEM_FIELDS",
    "CONVENTION_SOURCE",
]

#: Words a File Geodatabase refuses as field names: Esri's list of reserved
#: words for the file geodatabase (as GDAL's OpenFileGDB driver carries it,
#: ``filegdb_reserved_keywords.h``), plus the words Esri's tool message 010085
#: says to avoid in any geodatabase ("data, day, month, table, text, user, when,
#: where, year, zone").
RESERVED_WORDS = frozenset(
    {
        "ADD",
        "ALTER",
        "AND",
        "BETWEEN",
        "BY",
        "COLUMN",
        "CREATE",
        "DELETE",
        "DROP",
        "EXISTS",
        "FOR",
        "FROM",
        "GROUP",
        "IN",
        "INSERT",
        "INTO",
        "IS",
        "LIKE",
        "NOT",
        "NULL",
        "OR",
        "ORDER",
        "SELECT",
        "SET",
        "TABLE",
        "UPDATE",
        "VALUES",
        "WHERE",
        "DATA",
        "DAY",
        "MONTH",
        "TEXT",
        "USER",
        "WHEN",
        "YEAR",
        "ZONE",
    }
)
#: Fields the geodatabase (or GDAL writing it) creates itself.
SYSTEM_FIELDS = frozenset({"OBJECTID", "FID", "SHAPE", "SHAPE_LENGTH", "SHAPE_AREA", "GLOBALID"})
MAX_FIELD_LENGTH = 64

#: Where the XZQDM / XZQMC field codes come from (see docs/exports.md).
CONVENTION_SOURCE = (
    "自然资源部《市级国土空间总体规划数据库规范（试行）》2021年3月，6.2.1 行政区属性结构 "
    "(MNR, municipal land-space master-plan database specification, trial, 2021)"
)

#: Aliases of the convention fields (zh, en).
CONVENTION_ALIASES = {
    "XZQDM": ("行政区代码", "Administrative division code"),
    "XZQMC": ("行政区名称", "Administrative division name"),
}

#: Layer aliases (zh en), shown by ArcGIS next to the layer name. The ``fields``
#: table, scenario and indicator layers are not among them: their alias is their name.
LAYER_ALIASES = {
    name: layer_label(name)
    for name in (
        "communities",
        "demand",
        "facilities",
        "gaps",
        "greenspace",
        "greenspace_access",
        "summary",
        "scorecard",
        "register",
        "checks",
        "warnings",
        "run",
        "FIELD_MAP",
    )
}


# ------------------------------------------------------------------ field names
def _launder(name: str) -> str:
    """ASCII letters/digits/underscores; a hash of the original where anything was dropped."""
    text = str(name)
    ascii_part = re.sub(r"[^A-Za-z0-9_]+", "_", text)
    ascii_part = re.sub(r"_+", "_", ascii_part).strip("_")
    if ascii_part != text:
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:6]
        ascii_part = f"{ascii_part}_h{digest}" if ascii_part else f"h{digest}"
    if not ascii_part[0].isalpha():
        ascii_part = f"F_{ascii_part}"
    if ascii_part.upper() in RESERVED_WORDS or ascii_part.upper() in SYSTEM_FIELDS:
        ascii_part = f"{ascii_part}_1"
    if len(ascii_part) > MAX_FIELD_LENGTH:
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:6]
        ascii_part = f"{ascii_part[: MAX_FIELD_LENGTH - 8]}_h{digest}"
    return ascii_part


def gdb_field_names(columns: list[str], conventions: dict[str, str] | None = None) -> dict[str, str]:
    """Map column names to valid, unique File Geodatabase field names (see the module doc).

    ``conventions`` maps columns to the national field codes they take
    (``{"code": "XZQDM"}``); those are placed first, so they always keep their
    code and an input column that already had that name is renamed instead.

    >>> gdb_field_names(["code", "name", "dist_菜市场", "2nd", "where", "Name"],
    ...                 {"code": "XZQDM", "name": "XZQMC"})["dist_菜市场"]
    'dist_hc8645d'
    """
    conventions = conventions or {}
    out: dict[str, str] = {}
    used: set[str] = set()
    for col, code in conventions.items():
        if col in columns:
            out[col] = code
            used.add(code.upper())
    for col in columns:
        if col in out:
            continue
        base = _launder(col)
        name, k = base, 1
        while name.upper() in used:
            k += 1
            suffix = f"_{k}"
            name = f"{base[: MAX_FIELD_LENGTH - len(suffix)]}{suffix}"
        used.add(name.upper())
        out[col] = name
    return {c: out[c] for c in columns}


# ------------------------------------------------------------------ conventions
def _conventions(layer: str, frame: pd.DataFrame, a: Assessment, codes: dict[str, int]) -> dict[str, str]:
    """National field codes for this layer's columns (only where the meaning matches)."""
    key = _community_code_column(a)
    if key is None:
        return {}
    if layer == "communities":
        conv = {key: "XZQDM"}
        if a.name_column and a.name_column in frame.columns and a.name_column != key:
            conv[a.name_column] = "XZQMC"
        return conv
    if layer == "gaps" and "community_id" in frame.columns and "community_id" in codes:
        # a gap polygon is part of one community: it carries that community's code
        return {"community_id": "XZQDM"}
    return {}


def _community_code_column(a: Assessment) -> str | None:
    """The column holding each community's own administrative code, if any."""
    comm = a.communities
    codes = admin_code_columns(comm)
    if a.id_column in codes:
        return a.id_column
    unique = [c for c in codes if comm[c].dropna().is_unique and comm[c].notna().all()]
    if not unique:
        return None
    return max(unique, key=lambda c: (codes[c], -list(comm.columns).index(c)))


# ------------------------------------------------------------------ the writer
def field_map(a: Assessment, layers: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """The ``FIELD_MAP`` table of :func:`write_filegdb` without writing anything."""
    return _prepare(a, layers)[1]


def field_aliases(a: Assessment, layers: dict[str, pd.DataFrame] | None = None) -> dict[str, dict[str, str]]:
    """Layer → ``.gdb`` field → its alias (``幼儿园覆盖率 Kindergarten coverage (%)``), as written."""
    return _prepare(a, layers)[2]


def _alias(zh: str, en: str, unit: str) -> str:
    text = zh if zh == en or not en else f"{zh} {en}"
    return f"{text} ({unit})" if unit else text


def _prepare(
    a: Assessment, layers: dict[str, pd.DataFrame] | None = None
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict[str, dict[str, str]]]:
    """The layers as the geodatabase takes them (fields renamed and retyped), their ``FIELD_MAP`` and aliases."""
    layers = assessment_layers(a) if layers is None else layers
    prepared: dict[str, pd.DataFrame] = {}
    aliases: dict[str, dict[str, str]] = {}
    rows = []
    for layer, frame in layers.items():
        codes = admin_code_columns(frame)
        data = clean_for_export(codes_as_text(frame, codes))
        geom = data.geometry.name if isinstance(data, gpd.GeoDataFrame) else None
        columns = [c for c in data.columns if c != geom]
        conv = _conventions(layer, frame, a, codes)
        names = gdb_field_names([str(c) for c in columns], conv)
        data = data.rename(columns={c: names[str(c)] for c in columns})
        for col in data.columns:
            if col == geom:
                continue
            data[col] = _fit_type(data[col])
        prepared[layer] = data
        for c in columns:
            zh, en, unit = column_labels(str(c), a, layer=layer)
            note = ""
            if str(c) in conv:
                note = f"{conv[str(c)]}: {CONVENTION_SOURCE}"
                zh, en = CONVENTION_ALIASES[conv[str(c)]]
            if str(c) in codes:
                lz, le = CODE_LEVELS.get(codes[str(c)], ("", ""))
                code_note = (
                    f"行政区划代码（{codes[str(c)]}位，{lz}），按文本保存 "
                    f"administrative code ({codes[str(c)]} digits, {le} level), kept as text"
                )
                note = f"{note}; {code_note}" if note else code_note
            aliases.setdefault(layer, {})[names[str(c)]] = _alias(zh, en, unit)
            rows.append(
                {
                    "layer": layer,
                    "source_name": str(c),
                    "gdb_name": names[str(c)],
                    "alias_zh": zh + (f"（{unit}）" if unit else ""),
                    "alias_en": en + (f" ({unit})" if unit else ""),
                    "field_type": _type_name(data[names[str(c)]]),
                    "admin_code": int(str(c) in codes),
                    "renamed": int(names[str(c)] != str(c)),
                    "note": note,
                }
            )
    return prepared, pd.DataFrame(rows, columns=FIELD_MAP_COLUMNS), aliases


def _fit_type(s: pd.Series) -> pd.Series:
    """Types every ArcGIS reads: 64-bit integers become 32-bit where they fit (else doubles)."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("Int16") if isinstance(s.dtype, pd.BooleanDtype) else s.astype("int16")
    # pandas-stubs give ExtensionDtype no itemsize; every integer one (Int*, UInt*, ArrowDtype) has it
    if pd.api.types.is_integer_dtype(s.dtype) and s.dtype.itemsize > 4:  # type: ignore[union-attr]
        vals = s.dropna()
        if len(vals) == 0 or (vals.min() >= -(2**31) + 1 and vals.max() <= 2**31 - 1):
            return s.astype("Int32") if isinstance(s.dtype, pd.api.extensions.ExtensionDtype) else s.astype("int32")
        return s.astype("float64")
    return s


def _type_name(s: pd.Series) -> str:
    if pd.api.types.is_integer_dtype(s.dtype):
        return "integer"
    if pd.api.types.is_float_dtype(s.dtype):
        return "double"
    if pd.api.types.is_bool_dtype(s.dtype):
        return "integer"
    return "text"


def _geometry_type(frame: gpd.GeoDataFrame, layer: str) -> str:
    kinds = set(frame.geometry.dropna().geom_type)
    if kinds & {"Polygon", "MultiPolygon"}:
        return "MultiPolygon"
    if kinds & {"LineString", "MultiLineString"}:
        return "MultiLineString"
    if kinds == {"MultiPoint"}:
        return "MultiPoint"
    if kinds & {"Point"}:
        return "Point"
    return "MultiPolygon" if layer in ("communities", "gaps", "greenspace") else "Point"


def write_filegdb(assessment: Assessment, path: str | Path, crs: Any = "EPSG:4490") -> pd.DataFrame:
    """Write the assessment to an Esri File Geodatabase; return its ``FIELD_MAP`` table.

    The geodatabase holds no time; the UUIDs GDAL gives its catalogue items come
    from GDAL's reproducible sequence (``OPENFILEGDB_REPRODUCIBLE_UUID``, set for
    this write only), so the same assessment gives the same files, byte for byte.

    Parameters
    ----------
    assessment
        The :class:`~servicecircle.assessment.Assessment`.
    path
        The ``.gdb`` folder to write (replaced if it exists; ``.gdb`` is
        appended when missing, as the format requires).
    crs
        CRS of the feature classes (default CGCS2000, EPSG:4490).

    Returns
    -------
    pandas.DataFrame
        One row per field: ``layer``, ``source_name`` (the GeoPackage column),
        ``gdb_name``, ``alias_zh``, ``alias_en``, ``field_type``, ``admin_code``
        (1 for 6/9/12-digit codes, written as text), ``renamed`` and ``note``
        (the national convention a name follows, with its source). The same
        table is written into the geodatabase as ``FIELD_MAP``.
    """
    import pyogrio

    if "OpenFileGDB" not in pyogrio.list_drivers(write=True):
        raise OutputError(
            f"this GDAL ({pyogrio.__gdal_version_string__}) cannot write File Geodatabases",
            file=path,
            fix="install pyogrio built with GDAL 3.6 or later (pip install -U pyogrio)",
        )
    path = Path(path)
    if path.suffix.lower() != ".gdb":
        path = path.with_name(path.name + ".gdb")
    if path.exists():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    prepared, fmap, aliases = _prepare(assessment)
    tables = {**prepared, "FIELD_MAP": fmap}
    own = LAYER_COLUMNS["FIELD_MAP"]  # the table's own fields, labelled where every column is: the schema
    aliases["FIELD_MAP"] = {c: _alias(own[c].zh, own[c].en, own[c].unit) for c in fmap.columns if c in own}
    # GDAL gives every catalogue item a UUID, random unless asked for its reproducible sequence
    with gdal_config({"OPENFILEGDB_REPRODUCIBLE_UUID": "YES"}):
        _write_tables(tables, path, crs, aliases)
    return fmap


def _arrow_table(data: pd.DataFrame, aliases: dict[str, str], gtype: str | None) -> Any:
    """The layer as an Arrow table for :func:`pyogrio.write_arrow`: geometry as WKB (promoted to
    ``gtype``'s multi type), every field's alias in its ``GDAL:OGR:alternative_name`` metadata."""
    import pyarrow as pa
    import shapely

    geom = data.geometry.name if isinstance(data, gpd.GeoDataFrame) else None
    frame = pd.DataFrame(data.drop(columns=geom) if geom else data, copy=False)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = []
    columns = []
    for field, column in zip(table.schema, table.columns):
        if pa.types.is_null(field.type):  # an all-empty column: text, as GDAL takes no null type
            field, column = field.with_type(pa.string()), column.cast(pa.string())
        alias = aliases.get(field.name)
        fields.append(field.with_metadata({"GDAL:OGR:alternative_name": alias}) if alias else field)
        columns.append(column)
    if geom is not None:
        values: Any = data.geometry.values
        if gtype and gtype.startswith("Multi"):
            single = gtype.removeprefix("Multi")
            kinds = shapely.get_type_id(values)
            wanted = {"Point": 0, "LineString": 1, "Polygon": 3}.get(single)
            make = {
                "Point": shapely.multipoints,
                "LineString": shapely.multilinestrings,
                "Polygon": shapely.multipolygons,
            }
            values = [make[single]([g]) if k == wanted else g for g, k in zip(values, kinds)]
        fields.append(pa.field(geom, pa.binary()))
        columns.append(pa.array(shapely.to_wkb(values), type=pa.binary()))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def _crs_text(crs: Any) -> str | None:
    """The CRS as pyogrio's write_dataframe passes it: ``EPSG:n`` where it has a code, else WKT1."""
    if crs is None:
        return None
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt("WKT1_GDAL")


def _write_tables(
    tables: dict[str, pd.DataFrame], path: Path, crs: Any, aliases: dict[str, dict[str, str]] | None = None
) -> None:
    import warnings

    import pyogrio

    # field aliases go through GDAL's Arrow interface (GDAL >= 3.8); an older GDAL writes without them
    arrow = aliases is not None and pyogrio.__gdal_version__ >= (3, 8, 0)
    for layer, data in tables.items():
        options = {"LAYER_ALIAS": LAYER_ALIASES.get(layer, layer)}
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*will be written as a Float64.*")
                if arrow:
                    assert aliases is not None
                    spatial = isinstance(data, gpd.GeoDataFrame)
                    out = to_crs(data, crs) if spatial else data
                    gtype = _geometry_type(out, layer) if spatial else None
                    pyogrio.write_arrow(
                        _arrow_table(out, aliases.get(layer, {}), gtype),
                        path,
                        layer=layer,
                        driver="OpenFileGDB",
                        geometry_name=out.geometry.name if spatial else None,
                        geometry_type=gtype,
                        crs=_crs_text(out.crs) if spatial else None,
                        layer_options=options,
                    )
                elif isinstance(data, gpd.GeoDataFrame):
                    out = to_crs(data, crs)
                    gtype = _geometry_type(out, layer)
                    pyogrio.write_dataframe(
                        out,
                        path,
                        layer=layer,
                        driver="OpenFileGDB",
                        geometry_type=gtype,
                        promote_to_multi=gtype.startswith("Multi"),
                        layer_options=options,
                    )
                else:
                    pyogrio.write_dataframe(
                        pd.DataFrame(data), path, layer=layer, driver="OpenFileGDB", layer_options=options
                    )
        except Exception as exc:
            raise OutputError(
                f"cannot write layer '{layer}' to the File Geodatabase ({' '.join(str(exc).split())})",
                file=path,
                fix="check free disk space and that the folder is writable",
            ) from None
