"""Residents' committees from the code register, and the floor-area template read back.

The national code register (统计用区划代码; the adcode CSV files: no header,
``code, parent code, name, rank, level, county code, …, lon, lat, WKB point,
province, city, county, town, village``) lists every village-level unit — each
社区 (residents' committee, 居民委员会) and 村 (villagers' committee) — and for
many a centroid in GCJ-02. That centroid is where the committee sits, and so
where its community service centre (社区综合服务设施) stands: the floor-area
template (:func:`servicecircle.outputs.template.write_floor_area_template`)
puts one row per committee at that position, converted to WGS84, for the
planner to give its floor area and whether it is new or rebuilt.

:func:`read_floor_area_template` reads the filled template back and checks
every row: an unknown code, text or a negative number in the floor area, an
unrecognised new/rebuilt word or a bad position is one line naming the file,
the row and the fix (:class:`~servicecircle.errors.InputDataError`). An empty
floor-area cell is "no data" for that committee, never 0.

>>> from servicecircle.inputs.committees import read_committees
>>> c = read_committees("data/sources/chengdu/adcode", codes=["510108002003"])
>>> c.loc[0, ["code", "name", "township"]].tolist()
['510108002003', '石油社区居委会', '猛追湾街道']
>>> round(float(c.geometry.x[0]), 5), round(float(c.geometry.y[0]), 5)  # GCJ-02 (104.094608, 30.675798) -> WGS84
(104.09207, 30.67819)
"""

from __future__ import annotations

import csv
import difflib
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..coords import gcj02_to_wgs84, to_crs
from ..errors import InputDataError, warn_data
from ..schema import FLOOR_AREA_TEMPLATE_COLUMNS, FLOOR_AREA_TEMPLATE_HEADERS
from .buildtype import build_type_kind
from .register import CodeRegister, read_register

__all__ = [
    "read_committees",
    "committee_template",
    "read_floor_area_template",
    "template_facilities",
    "add_service_centres",
    "POSITION_FROM_REGISTER",
    "SERVICE_CENTRE_CATEGORY",
]

#: The ``position`` of a template row placed at the register's centroid.
POSITION_FROM_REGISTER = "code register: GCJ-02 centroid converted to WGS84"
#: ... and of one the register has no centroid for.
POSITION_MISSING = "none in the code register: give lon/lat (WGS84)"
#: The profile category a template row becomes (Meishan ``[floor_area] categories``).
SERVICE_CENTRE_CATEGORY = "community_service_station"

#: cell values read as "unknown" in a floor-area cell (an empty cell is unknown too)
_UNKNOWN = frozenset({"-", "--", "—", "?", "？", "不详", "未知", "无数据", "unknown", "n/a", "na", "nan", "none"})


def read_committees(
    register: str | Path | Sequence[str | Path] | CodeRegister, *, codes: Iterable[Any] | None = None
) -> gpd.GeoDataFrame:
    """Every village-level unit (residents' or villagers' committee) of a code register, at its position.

    Parameters
    ----------
    register
        The adcode CSV files, a folder of them, or a
        :class:`~servicecircle.inputs.register.CodeRegister` already read.
    codes
        Keep only these 12-digit codes (e.g. the communities of the boundaries).
        A code the register does not have is left out, with a warning.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, one row per committee, sorted by code: ``code``, ``name``,
        ``parent_code``, ``township`` (the 街道/镇/乡 name), ``lon_gcj02``,
        ``lat_gcj02`` (as in the register) and the point converted to WGS84
        (:func:`servicecircle.coords.gcj02_to_wgs84`; empty where the register
        has no centroid).
    """
    reg = register if isinstance(register, CodeRegister) else read_register(register)
    villages = reg.of_rank("village")
    frame = pd.DataFrame(
        {
            "code": villages.index.astype(str),
            "name": villages["name"].to_numpy(),
            "parent_code": villages["parent"].to_numpy(),
            "lon_gcj02": villages["lon"].to_numpy(float),
            "lat_gcj02": villages["lat"].to_numpy(float),
        }
    )
    frame = frame.sort_values("code", kind="stable").reset_index(drop=True)
    if codes is not None:
        wanted = [str(c).strip() for c in codes if c is not None and not (isinstance(c, float) and math.isnan(c))]
        missing = sorted(set(wanted) - set(frame["code"]))
        if missing:
            warn_data(
                "committee_not_in_register",
                f"{len(missing)} codes are not residents' or villagers' committees of the code register "
                f"({', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}); they have no committee position",
                file=reg.source,
                count=len(missing),
            )
        frame = frame[frame["code"].isin(set(wanted))].reset_index(drop=True)
    frame["township"] = [reg.name(p) for p in frame["parent_code"]]
    lon, lat = gcj02_to_wgs84(frame["lon_gcj02"].to_numpy(float), frame["lat_gcj02"].to_numpy(float))
    lon, lat = np.atleast_1d(lon), np.atleast_1d(lat)
    ok = np.isfinite(lon) & np.isfinite(lat)
    geom = np.full(len(frame), None, dtype=object)
    geom[ok] = shapely.points(lon[ok], lat[ok])
    out = gpd.GeoDataFrame(frame, geometry=list(geom), crs="EPSG:4326")
    out.attrs["source"] = reg.source
    out.attrs["layer"] = None
    return out


def committee_template(
    committees: gpd.GeoDataFrame,
    boundaries: gpd.GeoDataFrame | None = None,
    *,
    id_column: str = "code",
    name_column: str | None = "name",
) -> pd.DataFrame:
    """The rows of the floor-area template: one per committee, at its register position.

    With ``boundaries``, one row per community of the boundaries (in their
    order), at its committee's position; a community the register has no
    position for gets an empty lon/lat to fill in. The floor-area and
    new/rebuilt cells are empty.
    """
    c = committees.drop_duplicates("code").set_index("code")
    if boundaries is not None:
        if id_column not in boundaries.columns:
            raise InputDataError(
                f"the boundaries have no {id_column!r} column for the committees' codes",
                fix="give id_column= (--id-column), the 12-digit community code column",
            )
        codes = [str(v).strip() for v in boundaries[id_column]]
        given = (
            [str(v) for v in boundaries[name_column]]
            if name_column and name_column in boundaries.columns
            else [None] * len(codes)
        )
    else:
        codes, given = list(c.index), [None] * len(c)
    rows = []
    for code, name in zip(codes, given):
        rec = c.loc[code] if code in c.index else None
        point: Any = None if rec is None else rec.geometry
        has = point is not None and not shapely.is_empty(point)
        rows.append(
            {
                "code": code,
                "name": rec["name"] if rec is not None else name,
                "township": rec["township"] if rec is not None else None,
                "lon": round(float(point.x), 7) if has else None,
                "lat": round(float(point.y), 7) if has else None,
                "position": POSITION_FROM_REGISTER if has else POSITION_MISSING,
                "floor_area_m2": None,
                "build_type": None,
                "note": None,
            }
        )
    return pd.DataFrame(rows, columns=FLOOR_AREA_TEMPLATE_COLUMNS)


# ---------------------------------------------------------------------------------------------- reading back
def _read_table(path: Path) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of a CSV (UTF-8 with or without BOM, or GBK as Excel saves it) or an .xlsx file."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise InputDataError(f"cannot be read as an Excel workbook ({exc})", file=path) from None
        try:
            sheet = book.worksheets[0]
            table = [list(r) for r in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    elif suffix in (".csv", ".txt"):
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - gb18030 decodes any byte string
            raise InputDataError("is neither UTF-8 nor GBK text", file=path)
        table = [list(r) for r in csv.reader(text.splitlines())]
    else:
        raise InputDataError(
            f"is not a CSV or .xlsx file ({path.suffix or 'no suffix'})",
            file=path,
            fix="save the template as CSV or .xlsx",
        )
    if not table:
        raise InputDataError("is empty", file=path, fix="write the template again (servicecircle floor-area-template)")
    header = ["" if h is None else str(h) for h in table[0]]
    return header, table[1:]


def _key(header: str) -> str:
    """The column key of a template header: its first word (``"floor_area_m2 综合…"`` -> ``floor_area_m2``)."""
    text = unicodedata.normalize("NFKC", header).strip()
    for key, label in FLOOR_AREA_TEMPLATE_HEADERS.items():
        if text == label:
            return key
    first = text.split(" ")[0].casefold() if text else ""
    return first


def _cell_text(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return unicodedata.normalize("NFKC", str(v)).strip()


def _number(v: Any) -> float | None:
    """A number from a cell (``None``: empty or an "unknown" word); ``ValueError`` for text."""
    if isinstance(v, bool):
        raise ValueError
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if isinstance(v, float) and math.isnan(v):
            return None
        return float(v)
    text = _cell_text(v)
    if not text or text.casefold() in _UNKNOWN:
        return None
    text = re.sub(r"\s*(m2|m²|㎡|平方米|平米)$", "", text, flags=re.IGNORECASE)
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")
    return float(text)


def read_floor_area_template(
    path: str | Path,
    *,
    codes: Iterable[Any] | None = None,
    committees: gpd.GeoDataFrame | None = None,
    category: str = SERVICE_CENTRE_CATEGORY,
) -> gpd.GeoDataFrame:
    """Read a filled floor-area template back: one community service centre per row.

    Parameters
    ----------
    path
        The template (CSV or .xlsx), as written by
        :func:`servicecircle.write_floor_area_template` and filled in.
    codes
        The codes a row may have (the communities of the boundaries, the
        committees of the register); a row with another code is an error.
    committees
        Committees (:func:`read_committees`): their codes are known codes too,
        and a row without lon/lat takes its committee's position.
    category
        The facility category the rows become.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points: ``code``, ``name``, ``township``, ``floor_area_m2``
        (NaN where the cell is empty or says unknown: "no data", never 0),
        ``build_type`` (as written), ``note``, ``position``, ``category`` and
        the template's other columns, as they are. A row with neither a
        position nor a floor area is left out (with a warning): it says nothing.

    Raises
    ------
    servicecircle.errors.InputDataError
        One line naming the file, the row (as the spreadsheet numbers it: the
        header is row 1) and the fix: an unknown or missing code, text or a
        negative number in the floor area, an unrecognised new/rebuilt word,
        a position that is not longitude/latitude in degrees, a floor area
        without a position.
    """
    path = Path(path)
    if not path.is_file():
        raise InputDataError(
            "the floor-area template was not found",
            file=path,
            fix="write it first (servicecircle floor-area-template), fill it in and give its path",
        )
    header, table = _read_table(path)
    keys = [_key(h) for h in header]
    for need in ("code", "floor_area_m2"):
        if need not in keys:
            raise InputDataError(
                f"has no {need!r} column (the header row has: {', '.join(h for h in header if h)[:120]})",
                file=path,
                fix="keep the template's header row: its first words (code, floor_area_m2, build_type, lon, lat) "
                "name the columns",
            )
    known: set[str] | None = None
    if codes is not None:
        known = {str(c).strip() for c in codes if c is not None}
    positions: dict[str, Any] = {}
    if committees is not None:
        known = (known or set()) | set(committees["code"])
        positions = {c: g for c, g in zip(committees["code"], committees.geometry) if g is not None}
    col = {k: i for i, k in reversed(list(enumerate(keys))) if k}
    extra = [(i, h) for i, (h, k) in enumerate(zip(header, keys)) if h and k not in FLOOR_AREA_TEMPLATE_HEADERS]
    words = "新建 (new) or 改建, 扩建, 改扩建, 购置, 租用 (rebuilt, extended, bought, leased)"

    def cell(rec: list[Any], key: str) -> Any:
        i = col.get(key)
        return rec[i] if i is not None and i < len(rec) else None

    out: list[dict[str, Any]] = []
    geoms: list[Any] = []
    skipped: list[int] = []
    for k, rec in enumerate(table):
        row = k + 2  # as a spreadsheet numbers it: the header is row 1
        if all(_cell_text(v) == "" for v in rec):
            continue
        code = _cell_text(cell(rec, "code"))
        where = f"row {row}" + (f" (code {code})" if code else "")

        def bad(what: str, fix: str) -> InputDataError:
            return InputDataError(f"{where}: {what}", file=path, fix=fix)  # noqa: B023 (raised at once)

        if not code:
            raise bad("has no code", "give the committee's 12-digit code, or delete the row")
        if re.fullmatch(r"\d(\.\d+)?[eE]\+?\d+", code):
            raise bad(
                f"the code {code} was turned into a number (Excel drops a long code's digits)",
                "copy the codes back from the written template, with the code column formatted as text",
            )
        if known is not None and code not in known:
            close = difflib.get_close_matches(code, sorted(known), n=1)
            raise bad(
                "the code is not a committee of the code register nor a community of the boundaries"
                + (f" (did you mean {close[0]}?)" if close else ""),
                "correct the code, or delete the row (a committee outside the study area)",
            )
        raw_area = cell(rec, "floor_area_m2")
        try:
            area = _number(raw_area)
        except ValueError:
            raise bad(
                f"the floor area {_cell_text(raw_area)!r} is not a number",
                "give the floor area in m² as a number (e.g. 650), or leave the cell empty if it is not known",
            ) from None
        if area is not None and not math.isfinite(area):
            raise bad(f"the floor area {_cell_text(raw_area)!r} is not a finite number", "give the floor area in m²")
        if area is not None and area < 0:
            raise bad(
                f"the floor area {area:g} m² is negative",
                "give the floor area in m² (0 or more), or leave the cell empty if it is not known",
            )
        build = _cell_text(cell(rec, "build_type"))
        if build:
            _, recognised = build_type_kind([build])
            if not recognised[0]:
                raise bad(f"the new/rebuilt value {build!r} is not recognised", f"write {words}, or leave it empty")
        lon_raw, lat_raw = cell(rec, "lon"), cell(rec, "lat")
        try:
            lon, lat = _number(lon_raw), _number(lat_raw)
        except ValueError:
            raise bad(
                f"the position ({_cell_text(lon_raw)!r}, {_cell_text(lat_raw)!r}) is not two numbers",
                "give lon and lat in decimal degrees (WGS84), e.g. 104.0925, 30.6650",
            ) from None
        if (lon is None) != (lat is None):
            raise bad("has only one of lon and lat", "give both lon and lat (WGS84), or neither")
        point = None
        if lon is not None and lat is not None:
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise bad(
                    f"the position ({lon:g}, {lat:g}) is not longitude/latitude in degrees",
                    "give lon and lat in decimal degrees (WGS84), lon first",
                )
            point = shapely.Point(lon, lat)
        elif code in positions:
            point = positions[code]
        if point is None:
            if area is None:
                skipped.append(row)
                continue
            raise bad(
                "has a floor area but no position",
                "give the service centre's lon and lat (WGS84) in the row",
            )
        record = {
            "code": code,
            "name": _cell_text(cell(rec, "name")) or None,
            "township": _cell_text(cell(rec, "township")) or None,
            "floor_area_m2": np.nan if area is None else area,
            "build_type": build or None,
            "note": _cell_text(cell(rec, "note")) or None,
            "position": _cell_text(cell(rec, "position")) or None,
            "category": category,
        }
        for i, h in extra:
            record[h] = rec[i] if i < len(rec) else None
        out.append(record)
        geoms.append(point)
    if skipped:
        warn_data(
            "template_row_empty",
            f"{len(skipped)} rows of the floor-area template have neither a position nor a floor area "
            f"(rows {', '.join(map(str, skipped[:6]))}{' ...' if len(skipped) > 6 else ''}); they are left out",
            file=path,
            count=len(skipped),
        )
    columns = [*[c for c in FLOOR_AREA_TEMPLATE_COLUMNS if c not in ("lon", "lat")], "category", *[h for _, h in extra]]
    frame = pd.DataFrame(out, columns=list(dict.fromkeys(columns)))
    frame["floor_area_m2"] = frame["floor_area_m2"].astype(float)
    for text in ("code", "name", "township", "build_type", "note", "position", "category"):
        frame[text] = frame[text].astype(object).where(frame[text].notna(), None)  # empty text: None, not NaN
    gdf = gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")
    gdf.attrs["source"] = str(path)
    gdf.attrs["layer"] = None
    return gdf


def template_facilities(rows: pd.DataFrame, category: str = SERVICE_CENTRE_CATEGORY) -> gpd.GeoDataFrame:
    """Template rows (:func:`committee_template`) as service-centre points, as :func:`read_floor_area_template` gives.

    An unfilled template gives every committee's centre with no floor area:
    the floor-area check then says "no data" for its community, not 0. Rows
    without a position are left out.
    """
    has = rows["lon"].notna() & rows["lat"].notna()
    keep = rows[has].reset_index(drop=True)
    frame = keep.drop(columns=["lon", "lat"]).assign(category=category)
    frame["floor_area_m2"] = pd.to_numeric(frame["floor_area_m2"], errors="coerce").astype(float)
    gdf = gpd.GeoDataFrame(
        frame, geometry=list(shapely.points(keep["lon"].to_numpy(float), keep["lat"].to_numpy(float))), crs="EPSG:4326"
    )
    gdf.attrs["source"], gdf.attrs["layer"] = None, None
    if len(gdf):
        warn_data(
            "service_centres_at_committees",
            f"{len(gdf)} community service stations are taken to stand at their residents' committees' positions "
            "in the code register, with no floor area (an assumption: each committee's service centre at its "
            "office); give the real ones, with their floor areas, in the floor-area template (--service-centres)",
            count=len(gdf),
        )
    return gdf


def add_service_centres(
    facilities: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame,
    *,
    category_column: str = "category",
    floor_area_column: str | None = "floor_area_m2",
    build_type_column: str | None = "build_type",
) -> gpd.GeoDataFrame:
    """The facilities with the service centres (:func:`read_floor_area_template`) added after them.

    The centres' category, floor area and build type go into the facilities'
    own columns (``category_column`` ...), in the facilities' CRS; every
    other column of both is kept. The result keeps the facilities' source
    (file, layer) for messages.
    """
    rename = {
        "category": category_column,
        "floor_area_m2": floor_area_column or "floor_area_m2",
        "build_type": build_type_column or "build_type",
    }
    c = to_crs(centres.rename(columns=rename), facilities.crs)
    c = c.rename_geometry(facilities.geometry.name) if c.geometry.name != facilities.geometry.name else c
    out = gpd.GeoDataFrame(pd.concat([facilities, c], ignore_index=True), crs=facilities.crs)
    out.attrs = dict(facilities.attrs)
    return out
