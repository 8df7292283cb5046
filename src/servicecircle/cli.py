"""The ``servicecircle`` command line (中文/English).

Exit codes: 0 success; 2 a problem with the input or options, printed as one
plain line (file, layer, feature, what is wrong, how to fix it); 1 a bug, with
its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from . import settings
from ._version import __version__
from .errors import DataWarning, ServiceCircleError

DESCRIPTION = """\
servicecircle — 社区生活圈缺口分析：按真实步行路网检查每个社区是否达到规划标准。
Checks every community against its planning standards by walking-network distance,
and writes a gap map (HTML), a shortfall GeoPackage (CGCS2000) and a summary table."""


# as outputs.gapmap.BASEMAPS (not imported here: the parser must not load folium)
_TIANDITU = ("tianditu", "tianditu-imagery")
BASEMAP_CHOICES = ("openstreetmap", *_TIANDITU, "none")


def _add_run_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("inputs 输入")
    g.add_argument(
        "--boundaries",
        required=True,
        metavar="FILE",
        help="community boundaries 社区边界 (polygons: GeoPackage, shapefile, GeoJSON ...)",
    )
    g.add_argument("--boundaries-layer", metavar="NAME", help="layer name 图层名 (files with several layers)")
    g.add_argument("--boundaries-crs", metavar="CRS", help="CRS if the file has none, or gcj02/bd09 坐标系")
    g.add_argument("--id-column", metavar="COL", help="community id column 社区编码字段 (unique)")
    g.add_argument("--name-column", metavar="COL", help="community name column 社区名称字段")
    g.add_argument(
        "--households-column",
        default="households",
        metavar="COL",
        help="households column 户数字段 (default: households)",
    )
    g.add_argument(
        "--residents-column", default="residents", metavar="COL", help="residents column 人口字段 (default: residents)"
    )
    g.add_argument(
        "--facilities", required=True, metavar="FILE", help="facility points 设施点 (GIS layer, or CSV with lon/lat)"
    )
    g.add_argument("--facilities-layer", metavar="NAME", help="layer name 图层名")
    g.add_argument(
        "--facilities-crs",
        metavar="CRS",
        help="CRS of the facilities: EPSG:4326, EPSG:4490, gcj02 (高德/腾讯), bd09 (百度)",
    )
    g.add_argument(
        "--category-column",
        default="category",
        metavar="COL",
        help="facility category column 设施类别字段 (default: category)",
    )
    g.add_argument("--lon-column", metavar="COL", help="CSV longitude column 经度字段")
    g.add_argument("--lat-column", metavar="COL", help="CSV latitude column 纬度字段")
    g.add_argument("--demand", metavar="FILE", help="demand points 需求点 (buildings, households) [optional]")
    g.add_argument("--demand-layer", metavar="NAME")
    g.add_argument("--demand-crs", metavar="CRS")
    g.add_argument("--weight-column", metavar="COL", help="demand weight column 需求权重字段 (households/residents)")
    g.add_argument(
        "--population",
        metavar="FILE",
        help="population raster 人口栅格 (GeoTIFF, e.g. WorldPop 100 m) for demand [optional]",
    )
    g.add_argument(
        "--greenspace",
        metavar="FILE",
        help="green-space polygons 绿地/公园面 for the green and park reach checks [optional]",
    )
    g.add_argument("--greenspace-layer", metavar="NAME")
    g.add_argument("--entrances", metavar="FILE", help="park entrance points 公园出入口 [optional]")
    g.add_argument("--entrances-layer", metavar="NAME")
    g.add_argument(
        "--residential",
        metavar="FILE",
        help="residential land polygons 居住用地 (sampled demand stays inside them) [optional]",
    )
    n = p.add_argument_group("walking network 步行路网")
    n.add_argument("--network", metavar="FILE", help="OSM XML (.osm/.osm.gz/.osm.bz2), PBF (.osm.pbf) or GraphML")
    n.add_argument("--network-place", metavar="PLACE", help="download by place name (online, cached) 在线下载")
    n.add_argument("--download", action="store_true", help="download the boundaries' extent (online, cached)")
    n.add_argument(
        "--crs", metavar="CRS", help="metric CRS for the analysis 分析坐标系 (default: CGCS2000 3° Gauss-Krüger zone)"
    )
    n.add_argument("--keep-components", choices=["largest", "all"], help="network parts to keep (default: largest)")
    s = p.add_argument_group("standard and settings 标准与参数")
    s.add_argument(
        "--standard",
        metavar="NAME|FILE",
        help="standards profile 标准配置: meishan (default), gb50180, sichuan, national, or a .toml file",
    )
    s.add_argument(
        "--max-snap",
        type=float,
        metavar="M",
        help=f"max distance to the street network, m 最大接入距离 (default {settings.max_snap:g})",
    )
    s.add_argument(
        "--spacing",
        type=float,
        metavar="M",
        help=f"demand sampling spacing, m 需求采样间距 (default {settings.sample_spacing:g})",
    )
    s.add_argument(
        "--gap-resolution",
        type=float,
        metavar="M",
        help=f"gap polygon grid, m 缺口栅格 (default {settings.gap_resolution:g})",
    )
    o = p.add_argument_group("outputs 输出")
    o.add_argument("--out", default="servicecircle-out", metavar="DIR", help="output folder 输出目录")
    o.add_argument("--out-crs", metavar="CRS", help=f"CRS of exported layers (default {settings.output_crs}, CGCS2000)")
    o.add_argument(
        "--gdb", action="store_true", help="also write an Esri File Geodatabase (shortfall.gdb) 国土空间数据库格式"
    )
    o.add_argument("--figures", action="store_true", help="also write report figures (PNG, 300 dpi) 报告插图")
    o.add_argument(
        "--excel", action="store_true", help="also write an Excel workbook (shortfall.xlsx) 输出 Excel 工作簿"
    )
    o.add_argument(
        "--offline-map", action="store_true", help="embed Leaflet in the map (opens without internet) 离线地图"
    )
    o.add_argument(
        "--basemap",
        choices=BASEMAP_CHOICES,
        default="openstreetmap",
        help="online basemap: OpenStreetMap, 天地图 vector or imagery (needs --tianditu-key), or none 在线底图",
    )
    o.add_argument("--tianditu-key", metavar="KEY", help="your Tianditu browser key (default $TIANDITU_KEY) 天地图密钥")
    o.add_argument("--no-basemap", action="store_true", help="no online basemap (= --basemap none) 不加载底图")
    o.add_argument("--tile-url", metavar="URL", help="your own tile server, e.g. http://host/{z}/{x}/{y}.png 自有瓦片")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars or warnings 安静模式")


def _map_options(args) -> dict:
    opts: dict = {"offline": args.offline_map}
    basemap = getattr(args, "basemap", "openstreetmap")
    opts["tiles"] = None if args.no_basemap or basemap == "none" else basemap
    if opts["tiles"] in _TIANDITU and not getattr(args, "tile_url", None):
        from .outputs.gapmap import tianditu_key

        opts["tianditu_key"] = tianditu_key(getattr(args, "tianditu_key", None))  # refused now, not after the run
    if args.tile_url:
        opts["tile_url"] = args.tile_url
    return opts


def _fmt_value(value, unit) -> str:
    if value is None or value != value:  # NaN
        return "—"
    unit = str(unit or "")
    if unit.startswith("%"):
        return f"{value:.1f}%"
    return f"{value:,.1f} {unit}".strip()


def _print_result(result, quiet: bool) -> None:
    a = result.assessment
    out = result.outputs
    if not quiet and len(a.summary):
        print(f"\n{a.profile.name_zh}  ({a.profile.name_en})")
        print(f"{'check 检查项':<40} {'citywide 全市':>22} {'target 目标':>16} {'pass':>5} {'fail':>5}")
        for _, r in a.summary.iterrows():
            label = f"{r['name_zh']} {r['name_en']}"[:40]
            value = _fmt_value(r.get("city_value"), r.get("city_unit"))
            target = _fmt_value(r.get("city_target"), r.get("city_unit"))
            n_pass = (
                "" if r.get("communities_passed") != r.get("communities_passed") else f"{int(r['communities_passed'])}"
            )
            n_fail = (
                "" if r.get("communities_failed") != r.get("communities_failed") else f"{int(r['communities_failed'])}"
            )
            print(f"{label:<40} {value:>22} {target:>16} {n_pass:>5} {n_fail:>5}")
        if len(a.warnings):
            print(f"\n{len(a.warnings)} data warnings 数据提示 (see the 'warnings' table of the GeoPackage)")
    print(f"\nGap map 缺口地图:        {out.get('map', '(not written)')}")
    print(f"Shortfall GeoPackage:  {out['geopackage']}  (CGCS2000 unless --out-crs)")
    print(f"Summary 汇总表:         {out['summary']}")
    for key, label in (
        ("excel", "Excel workbook 工作簿:  "),
        ("filegdb", "File Geodatabase:      "),
        ("figures", "Figures 插图:           "),
    ):
        if key in out:
            print(f"{label}{out[key]}")


def _cmd_run(args) -> int:
    from .pipeline import run

    result = run(
        args.boundaries,
        args.facilities,
        args.network,
        out=args.out,
        output_crs=args.out_crs,
        map_options=_map_options(args),
        save_options=_save_options(args),
        **_run_kwargs(args),
    )
    _print_result(result, args.quiet)
    return 0


def _save_options(args) -> dict:
    return {
        "excel": getattr(args, "excel", False),
        "filegdb": getattr(args, "gdb", False),
        "figures": getattr(args, "figures", False),
    }


def _run_kwargs(args) -> dict:
    return dict(
        demand=args.demand,
        residential=args.residential,
        population=args.population,
        greenspace=args.greenspace,
        greenspace_layer=args.greenspace_layer,
        entrances=args.entrances,
        entrances_layer=args.entrances_layer,
        standard=args.standard,
        crs=args.crs,
        network_place=args.network_place,
        download=args.download,
        boundaries_layer=args.boundaries_layer,
        boundaries_crs=args.boundaries_crs,
        facilities_layer=args.facilities_layer,
        facilities_crs=args.facilities_crs,
        demand_layer=args.demand_layer,
        demand_crs=args.demand_crs,
        id_column=args.id_column,
        name_column=args.name_column,
        category_column=args.category_column,
        households_column=args.households_column,
        residents_column=args.residents_column,
        weight_column=args.weight_column,
        lon_column=args.lon_column,
        lat_column=args.lat_column,
        max_snap=args.max_snap,
        sample_spacing=args.spacing,
        gap_resolution_m=args.gap_resolution,
        keep_components=args.keep_components,
        progress=False if args.quiet else None,
    )


def _cmd_propose(args) -> int:
    from .inputs import read_layer
    from .outputs import save_assessment
    from .pipeline import assess_files
    from .scenario import compare
    from .siting import propose_sites

    map_options = _map_options(args)
    base = assess_files(args.boundaries, args.facilities, args.network, **_run_kwargs(args))
    parcels = read_layer(args.parcels, layer=args.parcels_layer) if args.parcels else None
    source = args.candidates if args.candidates in ("gaps", "parcels", "both") else "gaps"
    proposal = propose_sites(
        base,
        args.check,
        k=args.k,
        objective=args.objective,
        candidates=source,
        parcels=parcels,
        spacing=args.candidate_spacing,
        method=args.method,
        time_limit=args.time_limit,
        capacity=args.capacity,
    )
    after = proposal.scenario()
    after.layers["before_after"] = compare(base, after)
    outputs = save_assessment(after, args.out, crs=args.out_crs, map_options=map_options, **_save_options(args))
    if not args.quiet:
        print(f"\n{proposal!r}")
        print(proposal.sites.drop(columns="geometry").to_string(index=False))
        s = proposal.solver
        print(
            f"solver: {s['method']}; {s['status']}; {s['candidates']:,} candidates, {s['demand_groups']:,} "
            f"demand groups; matrix {s['time_matrix_s']:.2f} s, solve {s['time_solve_s']:.2f} s"
        )
    print(f"\nScenario map 方案地图:   {outputs.get('map', '(not written)')}")
    print(f"GeoPackage (proposals, gaps_closed, before_after): {outputs['geopackage']}")
    return 0


def _cmd_demo(args) -> int:
    from .pipeline import run_demo

    result = run_demo(
        args.out,
        data_dir=args.data,
        map_options=_map_options(args),
        save_options=_save_options(args),
        progress=False if args.quiet else None,
    )
    if not args.quiet:
        print(
            "Demo: central Chengdu 成都中心城区 (OSM 2018; community polygons and households are "
            "APPROXIMATE 社区边界与户数为近似估算)"
        )
    _print_result(result, args.quiet)
    return 0


def _cmd_profiles(args) -> int:
    from .profiles import list_profiles, load_profile

    if args.name:
        print(load_profile(args.name).describe())
    else:
        for name in list_profiles():
            prof = load_profile(name)
            print(f"{name:<10} {prof.name_zh}  {prof.name_en}")
    return 0


def _cmd_network(args) -> int:
    from .network import load_network

    net = load_network(
        args.file, crs=args.crs, keep_components=args.keep_components, progress=False if args.quiet else None
    )
    print(net)
    for k, v in net.info.items():
        print(f"  {k}: {v}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="servicecircle", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"servicecircle {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p_run = sub.add_parser(
        "run",
        help="assess your own data 分析自有数据",
        description="Assess communities against a standards profile. 按标准评估社区。",
    )
    _add_run_options(p_run)
    p_run.set_defaults(func=_cmd_run)
    p_prop = sub.add_parser(
        "propose",
        help="propose sites that close the gaps 补缺选址",
        description="Propose new facility sites for one check (location-allocation), "
        "re-run the checks with them and write the scenario. 选址建议。",
    )
    _add_run_options(p_prop)
    g = p_prop.add_argument_group("siting 选址")
    g.add_argument("--check", required=True, metavar="CATEGORY", help="the check to close, e.g. kindergarten 检查项")
    g.add_argument("--k", type=int, metavar="N", help="number of sites (max cover) 选址数量")
    g.add_argument(
        "--objective",
        choices=["max_cover", "set_cover"],
        default="max_cover",
        help="max_cover: most uncovered weight with k sites; set_cover: fewest sites covering all",
    )
    g.add_argument(
        "--method",
        choices=["exact", "greedy"],
        default="exact",
        help="exact (HiGHS MILP, optimal or with the remaining gap) or greedy (fast heuristic)",
    )
    g.add_argument(
        "--candidates",
        choices=["gaps", "parcels", "both"],
        default="gaps",
        help="candidate sites: streets inside the gaps, your parcels, or both 候选点",
    )
    g.add_argument("--parcels", metavar="FILE", help="candidate land, e.g. vacant public land 可用地块")
    g.add_argument("--parcels-layer", metavar="NAME")
    g.add_argument(
        "--candidate-spacing",
        type=float,
        default=50.0,
        metavar="M",
        help="metres between candidate positions along streets in the gaps (default 50)",
    )
    g.add_argument("--capacity", type=float, metavar="W", help="most weight one site can serve 容量")
    g.add_argument("--time-limit", type=float, default=60.0, metavar="S", help="seconds for the exact solver")
    p_prop.set_defaults(func=_cmd_propose)
    p_demo = sub.add_parser("demo", help="run the bundled central-Chengdu demo 运行成都示例")
    p_demo.add_argument("--out", default="out/demo", metavar="DIR", help="output folder 输出目录")
    p_demo.add_argument("--data", metavar="DIR", help="folder of the demo data (default: ./data)")
    p_demo.add_argument("--offline-map", action="store_true", help="embed Leaflet in the map 离线地图")
    p_demo.add_argument("--gdb", action="store_true", help="also write an Esri File Geodatabase 国土空间数据库格式")
    p_demo.add_argument("--figures", action="store_true", help="also write report figures (PNG) 报告插图")
    p_demo.add_argument("--excel", action="store_true", help="also write an Excel workbook 输出 Excel 工作簿")
    p_demo.add_argument("--basemap", choices=BASEMAP_CHOICES, default="openstreetmap", help="online basemap 在线底图")
    p_demo.add_argument("--tianditu-key", metavar="KEY", help="your Tianditu key (default $TIANDITU_KEY) 天地图密钥")
    p_demo.add_argument("--no-basemap", action="store_true", help="no online basemap 不加载底图")
    p_demo.add_argument("--tile-url", metavar="URL", help="your own tile server 自有瓦片")
    p_demo.add_argument("--quiet", "-q", action="store_true", help="no progress bars 安静模式")
    p_demo.set_defaults(func=_cmd_demo)
    p_prof = sub.add_parser("profiles", help="list or show standards profiles 查看标准配置")
    p_prof.add_argument("name", nargs="?", help="profile name or .toml file")
    p_prof.set_defaults(func=_cmd_profiles)
    p_net = sub.add_parser("network", help="build and cache a walking network 构建路网缓存")
    p_net.add_argument("file", help="OSM XML/PBF or GraphML file")
    p_net.add_argument("--crs", metavar="CRS")
    p_net.add_argument("--keep-components", choices=["largest", "all"])
    p_net.add_argument("--quiet", "-q", action="store_true")
    p_net.set_defaults(func=_cmd_network)
    return parser


_SHOWN: set[str] = set()


def _show_warning(message, category, filename, lineno, file=None, line=None):
    text = (
        str(message)
        if issubclass(category, DataWarning)
        else warnings.formatwarning(message, category, filename, lineno, line).rstrip()
    )
    if text in _SHOWN:  # the same data warning can be raised again by a later stage
        return
    _SHOWN.add(text)
    print(f"warning 提示: {text}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``servicecircle`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    quiet = getattr(args, "quiet", False)
    if quiet:
        settings.progress = False
    warnings.showwarning = _show_warning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if quiet else "default", DataWarning)
        if not quiet:
            warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return int(args.func(args) or 0)
        except ServiceCircleError as exc:
            print(f"servicecircle: error 错误: {exc.message}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("servicecircle: interrupted 已中断", file=sys.stderr)
            return 130


def console_main() -> None:  # pragma: no cover - the installed ``servicecircle`` command
    """Run :func:`main` and leave at once.

    Once every output is closed and moved into place, tearing the interpreter
    down (freeing every array and module, unloading GDAL and PROJ) only costs
    time: about half a second after a city-sized run. So the command flushes
    its streams and ends the process directly, as mypy's ``fast_exit`` does. A
    bug's traceback still goes the normal way (exit code 1).
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    console_main()
