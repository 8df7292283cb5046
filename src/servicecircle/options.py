"""Every knob a user can set, declared once: its name, type, range, default, help and command-line flag.

Three frozen dataclasses hold them:

:class:`Inputs`
    the files of a run and how to read them (``boundaries``, ``facilities_crs``,
    ``network`` ...): what :func:`servicecircle.assess_files` and
    :func:`servicecircle.run` read;
:class:`Options`
    how to assess and what to write (``profile``, ``id_column``, ``max_snap``,
    ``output_crs``, ``excel`` ...): what :func:`servicecircle.assess` uses, and
    the outputs after it;
:class:`SitingOptions`
    what ``servicecircle propose`` / :func:`servicecircle.siting.propose_sites`
    take.

The command line is derived from these declarations (:func:`add_arguments`),
and so are the keyword arguments of :func:`~servicecircle.assess`,
:func:`~servicecircle.assess_files` and :func:`~servicecircle.run`
(:func:`split_keywords`): a new knob is one new field here, and it is reachable
from Python and from the command line at once. Every value is checked when the
object is made — type, range, finiteness, coordinate systems, the choices —
so a bad value is refused before any work starts, with the usual one-line
message (:class:`~servicecircle.errors.OptionError`).

>>> from servicecircle.options import Options
>>> Options(id_column="code", max_snap=150).max_snap
150.0
>>> Options(max_snap=0)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
servicecircle.errors.OptionError: max_snap (--max-snap) must be a number above 0 m, not 0. Fix: give the farthest ...
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from .errors import OptionError

__all__ = [
    "Inputs",
    "Options",
    "SitingOptions",
    "BatchOptions",
    "TemplateOptions",
    "OptionSpec",
    "add_arguments",
    "from_namespace",
    "split_keywords",
    "option_specs",
    "RENAMED",
    "setting_or",
]

Kind = Literal[
    "text", "path", "crs", "metric_crs", "input_crs", "metres", "seconds", "number", "count", "flag", "choice", "any"
]


@dataclass(frozen=True)
class OptionSpec:
    """How one option is checked and offered on the command line.

    Attributes
    ----------
    help
        One line, Chinese and English, shown by ``--help`` and in the docs.
    kind
        What the value is: ``text`` (a column or layer name), ``path``, ``crs``
        (a real coordinate system), ``input_crs`` (a coordinate system or the
        web datums ``gcj02``/``bd09``), ``metres``/``seconds``/``number``
        (finite floats), ``count`` (a whole number), ``flag`` (true/false),
        ``choice`` or ``any`` (checked where it is used, e.g. a profile).
    flag
        The command-line flag, or ``None`` for a Python-only option (data
        frames, for instance).
    group
        The ``--help`` section.
    above, minimum
        Exclusive and inclusive lower bounds of a number.
    choices
        The allowed values of a ``choice``.
    metavar
        The placeholder in ``--help``.
    fix
        How to put a bad value right (the second half of the error line).
    aliases
        Older flags still accepted (not shown in ``--help``).
    """

    help: str
    kind: Kind = "text"
    flag: str | None = None
    group: str = "standard and settings 标准与参数"
    above: float | None = None
    minimum: float | None = None
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    fix: str = ""
    aliases: tuple[str, ...] = ()


def _opt(default: Any, help: str, **spec: Any) -> Any:
    """A dataclass field carrying its :class:`OptionSpec`."""
    return field(default=default, metadata={"spec": OptionSpec(help=help, **spec)})


_IN = "inputs 输入"
_NET = "walking network 步行路网"
_STD = "standard and settings 标准与参数"
_OUT = "outputs 输出"
_SITE = "siting 选址"
_UNITS = "community types and units 社区类型与单元"
_BATCH = "batch 批量"

BASEMAPS = ("openstreetmap", "tianditu", "tianditu-imagery", "none")


def _show(value: Any) -> str:
    """A value as the user typed it: ``0``, ``nan``, ``abc`` (text from the command line has no quotes)."""
    if isinstance(value, str):
        return value if value.strip() else repr(value)
    return repr(value)


def _check(option: str, spec: OptionSpec, value: Any) -> Any:
    """The value, normalised (numbers as float/int, paths as text kept), or an :class:`OptionError`.

    The message names the option as Python spells it and, where it has one,
    its command-line flag: ``max_snap (--max-snap) must be ...``.
    """
    if value is None:
        return None
    name = f"{option} ({spec.flag})" if spec.flag else option
    kind = spec.kind
    if kind in ("metres", "seconds", "number", "count"):
        unit = {"metres": " m", "seconds": " s"}.get(kind, "")
        if isinstance(value, bool) or not isinstance(value, (int, float, str)) or isinstance(value, str) and not value:
            raise OptionError(f"{name} must be a number, not {_show(value)}", fix=spec.fix)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise OptionError(f"{name} must be a number, not {_show(value)}", fix=spec.fix) from None
        if not math.isfinite(number):
            raise OptionError(f"{name} must be a finite number, not {_show(value)}", fix=spec.fix)
        if kind == "count":
            if number != int(number):
                raise OptionError(f"{name} must be a whole number, not {_show(value)}", fix=spec.fix)
            number = int(number)
        if spec.above is not None and not number > spec.above:
            raise OptionError(f"{name} must be a number above {spec.above:g}{unit}, not {_show(value)}", fix=spec.fix)
        if spec.minimum is not None and not number >= spec.minimum:
            raise OptionError(f"{name} must be at least {spec.minimum:g}{unit}, not {_show(value)}", fix=spec.fix)
        return number
    if kind == "flag":
        if not isinstance(value, bool):
            raise OptionError(f"{name} must be True or False, not {_show(value)}", fix=spec.fix)
        return value
    if kind == "choice":
        if value not in spec.choices:
            close = difflib.get_close_matches(str(value), spec.choices, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise OptionError(
                f"{name} must be one of {', '.join(spec.choices)}, not {_show(value)}{hint}",
                fix=spec.fix or f"use one of: {', '.join(spec.choices)}",
            )
        return value
    if kind in ("text", "path"):
        if kind == "path" and isinstance(value, Path):
            return value
        if not isinstance(value, str) or not value.strip():
            what = "a file path" if kind == "path" else "a name"
            raise OptionError(f"{name} must be {what}, not {_show(value)}", fix=spec.fix)
        return value
    if kind in ("crs", "metric_crs", "input_crs"):
        from .coords import parse_crs  # pyproj: only when a CRS is given

        try:
            parsed = parse_crs(value)
        except OptionError:
            raise
        except Exception as exc:  # the CRSError's own wording, under this option's name
            what = getattr(exc, "what", str(exc))
            raise OptionError(f"{name}: {what}", fix=spec.fix or getattr(exc, "fix", None)) from None
        if kind in ("crs", "metric_crs") and isinstance(parsed, str):
            raise OptionError(
                f"{name} cannot be {parsed.upper()}: that is a web-map datum for reading points, not a "
                "coordinate system to compute or write in",
                fix=spec.fix,
            )
        if kind == "metric_crs" and not isinstance(parsed, str) and not parsed.is_projected:
            raise OptionError(
                f"{name} must be a projected coordinate system in metres, not {parsed.name}", fix=spec.fix
            )
        return value
    return value


class _Checked:
    """Validation and keyword handling shared by the option classes."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            spec = f.metadata.get("spec")
            if spec is not None:
                object.__setattr__(self, f.name, _check(f.name, spec, getattr(self, f.name)))

    def replace(self: _T, **changes: Any) -> _T:
        """A copy with ``changes`` (checked like the original)."""
        known = {f.name for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        _refuse_unknown(changes, known, type(self).__name__)
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    @classmethod
    def build(cls: type[_T], base: _T | Mapping[str, Any] | None = None, **changes: Any) -> _T:
        """An instance from another one (or a mapping) with ``changes``; unknown names are refused."""
        if base is None:
            values: dict[str, Any] = {}
        elif isinstance(base, cls):
            values = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}  # type: ignore[arg-type]
        elif isinstance(base, Mapping):
            values = dict(base)
        else:
            raise OptionError(
                f"options must be a {cls.__name__} or a mapping, not {type(base).__name__}",
                fix=f"pass servicecircle.{cls.__name__}(...) or keyword arguments",
            )
        values.update(changes)
        values = _renamed(values)
        _refuse_unknown(values, {f.name for f in dataclasses.fields(cls)}, cls.__name__)  # type: ignore[arg-type]
        return cls(**values)


_T = TypeVar("_T", bound=_Checked)

#: Names of 0.1 that now have one spelling; still accepted, with a warning.
RENAMED = {"standard": "profile", "gap_resolution_m": "gap_resolution", "crs": "network_crs"}


def _renamed(values: dict[str, Any]) -> dict[str, Any]:
    import warnings

    out = dict(values)
    for old, new in RENAMED.items():
        if old in out:
            if new in out and out[new] is not None and out[old] is not None and out[new] != out[old]:
                raise OptionError(f"both {old}= and {new}= are given", fix=f"give {new}= only ({old} is its old name)")
            value = out.pop(old)
            out.setdefault(new, value)
            if out[new] is None:
                out[new] = value
            warnings.warn(f"{old}= is now called {new}=", FutureWarning, stacklevel=4)
    return out


def _refuse_unknown(values: Mapping[str, Any], known: set[str], owner: str) -> None:
    unknown = [k for k in values if k not in known]
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise OptionError(f"unknown option '{unknown[0]}' for {owner}{hint}", fix="see servicecircle.options")


@dataclass(frozen=True, kw_only=True)
class Inputs(_Checked):
    """The files of one run and how to read them.

    Every field is also a ``servicecircle run`` flag (``boundaries_crs`` is
    ``--boundaries-crs``). Layers and CRSs apply to their own file only.
    """

    boundaries: str | Path | None = _opt(
        None,
        "community boundaries 社区边界 (polygons: GeoPackage, shapefile, GeoJSON ...)",
        kind="path",
        flag="--boundaries",
        group=_IN,
        metavar="FILE",
    )
    boundaries_layer: str | None = _opt(
        None, "layer name 图层名 (files with several layers)", flag="--boundaries-layer", group=_IN, metavar="NAME"
    )
    boundaries_crs: Any = _opt(
        None,
        "CRS if the file has none, or gcj02/bd09 坐标系",
        kind="input_crs",
        flag="--boundaries-crs",
        group=_IN,
        metavar="CRS",
    )
    facilities: str | Path | None = _opt(
        None,
        "facility points 设施点 (GIS layer, or CSV with lon/lat)",
        kind="path",
        flag="--facilities",
        group=_IN,
        metavar="FILE",
    )
    facilities_layer: str | None = _opt(None, "layer name 图层名", flag="--facilities-layer", group=_IN, metavar="NAME")
    facilities_crs: Any = _opt(
        None,
        "CRS of the facilities: EPSG:4326, EPSG:4490, gcj02 (高德/腾讯), bd09 (百度)",
        kind="input_crs",
        flag="--facilities-crs",
        group=_IN,
        metavar="CRS",
    )
    lon_column: str | None = _opt(None, "CSV longitude column 经度字段", flag="--lon-column", group=_IN, metavar="COL")
    lat_column: str | None = _opt(None, "CSV latitude column 纬度字段", flag="--lat-column", group=_IN, metavar="COL")
    demand: str | Path | None = _opt(
        None,
        "demand points 需求点 (buildings, households) [optional]",
        kind="path",
        flag="--demand",
        group=_IN,
        metavar="FILE",
    )
    demand_layer: str | None = _opt(None, "layer name 图层名", flag="--demand-layer", group=_IN, metavar="NAME")
    demand_crs: Any = _opt(
        None, "CRS of the demand points 坐标系", kind="input_crs", flag="--demand-crs", group=_IN, metavar="CRS"
    )
    population: str | Path | None = _opt(
        None,
        "population raster 人口栅格 (GeoTIFF, e.g. WorldPop 100 m) for demand [optional]",
        kind="path",
        flag="--population",
        group=_IN,
        metavar="FILE",
    )
    population_crs: Any = _opt(
        None,
        "CRS of the population raster if the file has none 人口栅格坐标系",
        kind="crs",
        flag="--population-crs",
        group=_IN,
        metavar="CRS",
    )
    population_band: int = _opt(
        1, "band of the population raster 波段 (default 1)", kind="count", minimum=1, flag="--population-band",
        group=_IN, metavar="N", fix="bands are numbered from 1",
    )  # fmt: skip
    greenspace: str | Path | None = _opt(
        None,
        "green-space polygons 绿地/公园面 for the green and park reach checks [optional]",
        kind="path",
        flag="--greenspace",
        group=_IN,
        metavar="FILE",
    )
    greenspace_layer: str | None = _opt(None, "layer name 图层名", flag="--greenspace-layer", group=_IN, metavar="NAME")
    entrances: str | Path | None = _opt(
        None, "park entrance points 公园出入口 [optional]", kind="path", flag="--entrances", group=_IN, metavar="FILE"
    )
    entrances_layer: str | None = _opt(None, "layer name 图层名", flag="--entrances-layer", group=_IN, metavar="NAME")
    residential: str | Path | None = _opt(
        None,
        "residential land polygons 居住用地 (sampled demand stays inside them) [optional]",
        kind="path",
        flag="--residential",
        group=_IN,
        metavar="FILE",
    )
    residential_layer: str | None = _opt(
        None, "layer name 图层名", flag="--residential-layer", group=_IN, metavar="NAME"
    )
    service_centres: str | Path | None = _opt(
        None,
        "the filled floor-area template 用房面积模板 (servicecircle floor-area-template): its rows become "
        "community service stations with their floor areas and new/rebuilt [optional]",
        kind="path",
        flag="--service-centres",
        group=_IN,
        metavar="FILE",
    )
    network: str | Path | None = _opt(
        None,
        "OSM XML (.osm/.osm.gz/.osm.bz2), PBF (.osm.pbf) or GraphML",
        kind="path",
        flag="--network",
        group=_NET,
        metavar="FILE",
    )
    network_place: str | None = _opt(
        None, "download by place name (online, cached) 在线下载", flag="--network-place", group=_NET, metavar="PLACE"
    )
    download: bool = _opt(
        False, "download the boundaries' extent (online, cached)", kind="flag", flag="--download", group=_NET
    )


@dataclass(frozen=True, kw_only=True)
class Options(_Checked):
    """How to assess, and what to write: one name per knob, checked when made.

    ``Options()`` gives every default; ``servicecircle.assess(..., options,
    id_column="code")`` and ``Options.build(options, id_column="code")`` apply
    changes. ``None`` for a number means the global default in
    :mod:`servicecircle.settings` at the time of the run.
    """

    # --- the standard
    profile: Any = _opt(
        None,
        "standards profile 标准配置: meishan (default), gb50180, sichuan, national, or a .toml file",
        kind="any",
        flag="--profile",
        aliases=("--standard",),
        metavar="NAME|FILE",
    )
    # --- community columns
    id_column: str | None = _opt(
        None, "community id column 社区编码字段 (unique)", flag="--id-column", group=_IN, metavar="COL"
    )
    name_column: str | None = _opt(
        None, "community name column 社区名称字段", flag="--name-column", group=_IN, metavar="COL"
    )
    households_column: str | None = _opt(
        "households", "households column 户数字段 (default: households)", flag="--households-column", group=_IN,
        metavar="COL",
    )  # fmt: skip
    residents_column: str | None = _opt(
        "residents", "residents column 人口字段 (default: residents)", flag="--residents-column", group=_IN,
        metavar="COL",
    )  # fmt: skip
    # --- community types and units (servicecircle.inputs.units)
    type_column: str | None = _opt(
        None, "community type column 社区类型字段 (城市社区/集镇社区/农村社区, urban/town/rural)", flag="--type-column",
        group=_UNITS, metavar="COL",
    )  # fmt: skip
    code_column: str | None = _opt(
        None, "12-digit community code column 区划代码字段 (default: code, when it holds 12-digit codes)",
        flag="--code-column", group=_UNITS, metavar="COL",
    )  # fmt: skip
    code_register: Any = _opt(
        None, "code register 区划代码库: adcode CSV file(s) or a folder of them (types and unit names from codes)",
        kind="any", flag="--code-register", group=_UNITS, metavar="FILE|DIR",
    )  # fmt: skip
    type_overrides: Any = _opt(
        None, "community types to impose 指定社区类型: code=type,... (e.g. 510104022006=town)", kind="any",
        flag="--type-overrides", group=_UNITS, metavar="CODE=TYPE,...",
    )  # fmt: skip
    township_column: str | None = _opt(
        None, "township column 街道（乡镇）字段 (code or name; default: from the codes)", flag="--township-column",
        group=_UNITS, metavar="COL",
    )  # fmt: skip
    county_column: str | None = _opt(
        None, "county column 区县字段 (code or name; default: from the codes)", flag="--county-column",
        group=_UNITS, metavar="COL",
    )  # fmt: skip
    units: Any = _opt(
        None, "unit polygons 单元边界 (a layer per level: township/county/city, or a level column) [optional]",
        kind="any", flag="--units", group=_UNITS, metavar="FILE",
    )  # fmt: skip
    compounds: Any = _opt(
        None, "residential compounds 小区 polygons (default: the named residential land, e.g. OSM "
        "landuse=residential) [optional]", kind="any", flag="--compounds", group=_UNITS, metavar="FILE",
    )  # fmt: skip
    # --- facility columns
    category_column: str = _opt(
        "category", "facility category column 设施类别字段 (default: category)", flag="--category-column", group=_IN,
        metavar="COL",
    )  # fmt: skip
    floor_area_column: str | None = _opt(
        "floor_area_m2", "facility floor area column, m² 建筑面积字段 (default: floor_area_m2)",
        flag="--floor-area-column", group=_IN, metavar="COL",
    )  # fmt: skip
    build_type_column: str | None = _opt(
        "build_type", "facility new/rebuilt column 新建/改建字段 (default: build_type)", flag="--build-type-column",
        group=_IN, metavar="COL",
    )  # fmt: skip
    places_column: str | None = _opt(
        "places", "childcare places column 学位/托位字段 (default: places)", flag="--places-column", group=_IN,
        metavar="COL",
    )  # fmt: skip
    area_column: str | None = _opt(
        "area_m2", "facility site area column, m² 用地面积字段 (default: area_m2)", flag="--area-column", group=_IN,
        metavar="COL",
    )  # fmt: skip
    # --- demand columns
    weight_column: str | None = _opt(
        None, "demand weight column 需求权重字段 (households/residents)", flag="--weight-column", group=_IN,
        metavar="COL",
    )  # fmt: skip
    # --- the network
    network_crs: Any = _opt(
        None,
        "metric CRS for the analysis 分析坐标系 (default: CGCS2000 3° Gauss-Krüger zone)",
        kind="metric_crs",
        flag="--network-crs",
        aliases=("--crs",),
        group=_NET,
        metavar="CRS",
        fix="give a projected CRS in metres, e.g. EPSG:4544 (CGCS2000 / 3-degree Gauss-Kruger CM 105E)",
    )
    keep_components: str | None = _opt(
        None,
        "network parts to keep (default: largest)",
        kind="choice",
        choices=("largest", "all"),
        flag="--keep-components",
        group=_NET,
    )
    dem: str | Path | None = _opt(
        None,
        "elevation GeoTIFF (DEM, any CRS) for slope in the minute checks and service areas 高程 (Tobler) [optional]",
        kind="path",
        flag="--dem",
        group=_NET,
        metavar="FILE",
    )
    time_checks: bool = _opt(
        False,
        "also run the profile's checks in minutes for walking groups (elderly, parent with child) 分人群步行时间",
        kind="flag",
        flag="--time-checks",
        group=_STD,
    )
    access_rules: str = _opt(
        "off",
        "gates and private ways 门禁与内部道路: off (osmnx's walk network, as before), public (private ways and "
        "gates closed to all), residents (a compound's residents walk out through its gates)",
        kind="choice",
        choices=("off", "public", "residents"),
        flag="--access",
        group=_NET,
    )
    # --- numbers
    max_snap: float | None = _opt(
        None,
        "max distance to the street network, m 最大接入距离 (default 250)",
        kind="metres",
        above=0,
        flag="--max-snap",
        metavar="M",
        fix="give the farthest a point may be from a street, in metres (default 250)",
    )
    sample_spacing: float | None = _opt(
        None,
        "demand sampling spacing, m 需求采样间距 (default 50)",
        kind="metres",
        above=0,
        flag="--sample-spacing",
        aliases=("--spacing",),
        metavar="M",
        fix="give the spacing of sampled demand points in metres (default 50)",
    )
    gap_resolution: float | None = _opt(
        None,
        "gap polygon grid, m 缺口栅格 (default 20)",
        kind="metres",
        above=0,
        flag="--gap-resolution",
        metavar="M",
        fix="give the gap grid's cell size in metres (default 20)",
    )
    workers: int | None = _opt(
        None,
        "worker processes for the largest loops 进程数 (Python default: settings.workers, 1; the command: "
        "automatic for large jobs; Linux only)",
        kind="count",
        minimum=1,
        flag="--workers",
        metavar="N",
        fix="give 1 (no worker processes) or more",
    )
    progress: bool | None = _opt(None, "show progress bars (default: on a terminal or in a notebook)", kind="any")
    # --- outputs
    out: str | Path = _opt(
        "servicecircle-out", "output folder 输出目录", kind="path", flag="--out", group=_OUT, metavar="DIR"
    )
    output_crs: Any = _opt(
        None,
        "CRS of exported layers (default EPSG:4490, CGCS2000)",
        kind="crs",
        flag="--out-crs",
        group=_OUT,
        metavar="CRS",
        fix="give a coordinate system GDAL knows, e.g. EPSG:4490 (CGCS2000) or EPSG:4326",
    )
    gpkg_version: str = _opt(
        "1.2",
        "GeoPackage version (default 1.2: opens without a warning in QGIS 3.22 / GDAL 3.6) GeoPackage 版本",
        kind="choice",
        choices=("1.2", "1.3", "1.4"),
        flag="--gpkg-version",
        group=_OUT,
    )
    service_areas: bool = _opt(
        False,
        "also build service areas and catchments of every checked category (GeoPackage layers, map) 服务范围",
        kind="flag",
        flag="--service-areas",
        group=_OUT,
    )
    access_allowance: float = _opt(
        50.0,
        "widest straight access leg a service area is widened by, m 服务范围接入宽度 (default 50)",
        kind="metres",
        above=0,
        flag="--access-allowance",
        group=_OUT,
        metavar="M",
        fix="give the widest straight walk from a street into a service area, in metres (default 50)",
    )
    excel: bool = _opt(
        False,
        "also write an Excel workbook (shortfall.xlsx) 输出 Excel 工作簿",
        kind="flag",
        flag="--excel",
        group=_OUT,
    )
    filegdb: bool = _opt(
        False,
        "also write an Esri File Geodatabase (shortfall.gdb) 国土空间数据库格式",
        kind="flag",
        flag="--gdb",
        group=_OUT,
    )
    figures: bool = _opt(
        False, "also write report figures (PNG, 300 dpi) 报告插图", kind="flag", flag="--figures", group=_OUT
    )
    report: bool = _opt(False, "also write a printable PDF report 打印报告", kind="flag", flag="--report", group=_OUT)
    report_paper: str = _opt(
        "A4",
        "paper size of the PDF report 报告纸张 (A4 or A3)",
        kind="choice",
        choices=("A4", "A3"),
        flag="--report-paper",
        group=_OUT,
    )
    offline_map: bool = _opt(
        True,
        "embed Leaflet in the map, so it opens without internet (the default; kept for old scripts) 离线地图（默认）",
        kind="flag",
        flag="--offline-map",
        group=_OUT,
    )
    basemap: str = _opt(
        "none",
        "basemap tiles: none (default: no request leaves the machine; streets are drawn from the walking "
        "network), OpenStreetMap, 天地图 vector or imagery (needs --tianditu-key) 底图（默认无，离线）",
        kind="choice",
        choices=BASEMAPS,
        flag="--basemap",
        group=_OUT,
    )
    tianditu_key: str | None = _opt(
        None, "your Tianditu browser key (default $TIANDITU_KEY) 天地图密钥", flag="--tianditu-key", group=_OUT,
        metavar="KEY",
    )  # fmt: skip
    tile_url: str | None = _opt(
        None,
        "your own tile server, e.g. http://host/{z}/{x}/{y}.png 自有瓦片",
        flag="--tile-url",
        group=_OUT,
        metavar="URL",
    )

    def map_options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`servicecircle.outputs.gap_map` these options ask for."""
        opts: dict[str, Any] = {"offline": self.offline_map}
        opts["tiles"] = None if self.basemap == "none" else self.basemap
        if self.tile_url:
            opts["tile_url"] = self.tile_url
        if self.tianditu_key:
            opts["tianditu_key"] = self.tianditu_key
        return opts


@dataclass(frozen=True, kw_only=True)
class SitingOptions(_Checked):
    """What ``servicecircle propose`` / :func:`~servicecircle.siting.propose_sites` take."""

    check: str | None = _opt(
        None, "the check to close, e.g. kindergarten 检查项", flag="--check", group=_SITE, metavar="CATEGORY"
    )
    k: int | None = _opt(
        None, "number of sites (max cover) 选址数量", kind="count", minimum=1, flag="--k", group=_SITE, metavar="N",
        fix="give how many new sites to propose (1 or more)",
    )  # fmt: skip
    objective: str = _opt(
        "max_cover",
        "max_cover: most uncovered weight with k sites; set_cover: fewest sites covering all",
        kind="choice",
        choices=("max_cover", "set_cover"),
        flag="--objective",
        group=_SITE,
    )
    method: str = _opt(
        "exact",
        "exact (HiGHS MILP, optimal or with the remaining gap) or greedy (fast heuristic)",
        kind="choice",
        choices=("exact", "greedy"),
        flag="--method",
        group=_SITE,
    )
    candidates: str = _opt(
        "gaps",
        "candidate sites: streets inside the gaps, your parcels, or both 候选点",
        kind="choice",
        choices=("gaps", "parcels", "both"),
        flag="--candidates",
        group=_SITE,
    )
    parcels: str | Path | None = _opt(
        None, "candidate land, e.g. vacant public land 可用地块", kind="path", flag="--parcels", group=_SITE,
        metavar="FILE",
    )  # fmt: skip
    parcels_layer: str | None = _opt(None, "layer name 图层名", flag="--parcels-layer", group=_SITE, metavar="NAME")
    candidate_spacing: float = _opt(
        50.0, "metres between candidate positions along streets in the gaps (default 50)", kind="metres", above=0,
        flag="--candidate-spacing", group=_SITE, metavar="M", fix="give a spacing in metres (default 50)",
    )  # fmt: skip
    capacity: float | None = _opt(
        None, "most weight one site can serve 容量", kind="number", above=0, flag="--capacity", group=_SITE,
        metavar="W", fix="give the households or residents one site can serve (above 0)",
    )  # fmt: skip
    time_limit: float = _opt(
        60.0, "seconds for the exact solver (default 60)", kind="seconds", above=0, flag="--time-limit", group=_SITE,
        metavar="S", fix="give the solver's time limit in seconds",
    )  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class BatchOptions(_Checked):
    """How ``servicecircle batch`` / :func:`servicecircle.assess_many` runs its study areas on Dask."""

    workers: int | None = _opt(
        None, "Dask worker processes of the local cluster (default: from the machine's cores and memory) 进程数",
        kind="count", minimum=1, flag="--workers", group=_BATCH, metavar="N", fix="give 1 or more worker processes",
    )  # fmt: skip
    memory_limit: str | None = _opt(
        None, "memory limit per local worker, e.g. 4GB (default: the machine's memory shared among the workers)",
        flag="--memory-limit", group=_BATCH, metavar="BYTES", fix="give a size such as 4GB or 2500MB",
    )  # fmt: skip
    scheduler: str | None = _opt(
        None, "address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster) 调度器",
        flag="--scheduler", group=_BATCH, metavar="ADDRESS", fix="give the scheduler's address, e.g. tcp://host:8786",
    )  # fmt: skip
    dashboard_address: str = _opt(
        ":8787", "where the local cluster serves its dashboard (default :8787; :0 picks a free port)",
        flag="--dashboard-address", group=_BATCH, metavar="[HOST]:PORT", fix="give :PORT or HOST:PORT",
    )  # fmt: skip
    cache: str | Path | None = _opt(
        None, "network cache every worker can read and write (default: OUT/cache) 路网缓存",
        kind="path", flag="--cache", group=_BATCH, metavar="DIR",
    )  # fmt: skip
    force: bool = _opt(
        False, "rerun every area, also those whose inputs and settings are unchanged 全部重算",
        kind="flag", flag="--force", group=_BATCH,
    )  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class TemplateOptions(_Checked):
    """What ``servicecircle floor-area-template`` / :func:`servicecircle.write_floor_area_template` take.

    The committees come from ``Options.code_register`` (``--code-register``), the communities from
    ``Inputs.boundaries`` with ``Options.id_column``.
    """

    template: str | Path = _opt(
        "floor_area_template.csv",
        "the template to write 用房面积模板 (.csv, UTF-8 for Excel, or .xlsx; default floor_area_template.csv)",
        kind="path",
        flag="--template",
        group=_OUT,
        metavar="FILE",
    )


#: the numbers of :mod:`servicecircle.settings` a run reads, checked as the options that override them are
_SETTINGS: dict[str, OptionSpec] = {
    "max_snap": OptionSpec("", kind="metres", above=0, fix="set servicecircle.settings.max_snap to metres above 0"),
    "sample_spacing": OptionSpec(
        "", kind="metres", above=0, fix="set servicecircle.settings.sample_spacing to metres above 0"
    ),
    "gap_resolution": OptionSpec(
        "", kind="metres", above=0, fix="set servicecircle.settings.gap_resolution to metres above 0"
    ),
    "max_gap_cells": OptionSpec(
        "", kind="count", minimum=1, fix="set servicecircle.settings.max_gap_cells to a whole number of 1 or more"
    ),
    "max_distance": OptionSpec(
        "", kind="metres", above=0, fix="set servicecircle.settings.max_distance to metres above 0, or None"
    ),
}


def setting_or(name: str, value: Any = None) -> Any:
    """``value`` if given (it was checked as an option), else ``settings.<name>``, checked the same way.

    A session can set ``servicecircle.settings.max_snap = 0``; a run refuses it
    with the usual one-line message instead of computing with it.

    >>> setting_or("max_snap", 120.0), setting_or("max_snap")
    (120.0, 250.0)
    """
    if value is not None:
        return _check(name, _SETTINGS[name], value)
    from . import settings

    raw = getattr(settings, name)
    if raw is None and name == "max_distance":
        return None
    return _check(f"settings.{name}", _SETTINGS[name], raw)


def option_specs(cls: type[_Checked]) -> dict[str, OptionSpec]:
    """Field name → :class:`OptionSpec` of an option class, in declaration order."""
    return {f.name: f.metadata["spec"] for f in dataclasses.fields(cls) if "spec" in f.metadata}  # type: ignore[arg-type]


def split_keywords(keywords: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split keyword arguments into those of :class:`Inputs` and those of :class:`Options`.

    Old names (:data:`RENAMED`) are mapped to their new ones (with a warning);
    a name that is neither is refused, with the closest known one.

    >>> split_keywords({"boundaries_layer": "c", "id_column": "code"})
    ({'boundaries_layer': 'c'}, {'id_column': 'code'})
    """
    values = _renamed(dict(keywords))
    ins = {f.name for f in dataclasses.fields(Inputs)}
    opts = {f.name for f in dataclasses.fields(Options)}
    _refuse_unknown(values, ins | opts, "servicecircle.run")
    return {k: v for k, v in values.items() if k in ins}, {k: v for k, v in values.items() if k in opts}


# ---------------------------------------------------------------------------------------------- command line
def add_arguments(
    parser: Any, cls: type[_Checked], *, only: tuple[str, ...] | None = None, required: tuple[str, ...] = ()
) -> None:
    """Add one argument per option of ``cls`` (or of those named in ``only``) to an :class:`argparse.ArgumentParser`.

    Arguments not given on the command line are left out of the parsed
    namespace (``argparse.SUPPRESS``), so the defaults stay those of ``cls``.
    Numbers are parsed by the option class, not by argparse, so that ``0``,
    ``-1``, ``nan`` and ``inf`` get the same one-line message as in Python.
    """
    import argparse

    # one --help section per group, whichever option class its options come from
    groups: dict[str, Any] = parser.__dict__.setdefault("_servicecircle_groups", {})
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        spec: OptionSpec | None = f.metadata.get("spec")
        if spec is None or spec.flag is None or (only is not None and f.name not in only):
            continue
        group = groups.get(spec.group)
        if group is None:
            group = groups[spec.group] = parser.add_argument_group(spec.group)
        kwargs: dict[str, Any] = {"dest": f.name, "help": spec.help, "default": argparse.SUPPRESS}
        if spec.kind == "flag":
            kwargs["action"] = "store_true"
        else:
            if spec.metavar:
                kwargs["metavar"] = spec.metavar
            if spec.choices:  # checked by the option class (one line), not argparse (its usage text)
                kwargs["metavar"] = "{" + ",".join(spec.choices) + "}"
        if f.name in required:
            kwargs["required"] = True
        group.add_argument(spec.flag, *spec.aliases, **kwargs)


def from_namespace(cls: type[_T], namespace: Any, **changes: Any) -> _T:
    """An option object from the parsed command line (only the fields of ``cls``)."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values = {k: v for k, v in vars(namespace).items() if k in names}
    values.update(changes)
    return cls(**values)
