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
from ._text import counted
from ._version import __version__
from .errors import DataWarning, ServiceCircleError
from .options import (
    BatchOptions,
    Inputs,
    Options,
    SitingOptions,
    TemplateOptions,
    add_arguments,
    from_namespace,
    option_specs,
)

DESCRIPTION = """\
servicecircle — 社区生活圈缺口分析：按真实步行路网检查每个社区是否达到规划标准。
Checks every community against its planning standards by walking-network distance,
and writes a gap map (HTML), a shortfall GeoPackage (CGCS2000) and a summary table."""


def _add_run_options(p: argparse.ArgumentParser) -> None:
    """The inputs and options of ``run`` and ``propose``: every field of Inputs and Options (servicecircle.options)."""
    add_arguments(p, Inputs, required=("boundaries", "facilities"))
    add_arguments(p, Options)
    _add_common(p)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-basemap", dest="basemap", action="store_const", const="none", default=argparse.SUPPRESS,
        help="no online basemap (= --basemap none) 不加载底图",
    )  # fmt: skip
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars or warnings 安静模式")


def _options(args: argparse.Namespace, **changes: object) -> Options:
    if getattr(args, "quiet", False):
        changes.setdefault("progress", False)
    return from_namespace(Options, args, **changes)


def _fmt_value(value, unit) -> str:
    """``"26.2%"``, ``"3.8 m²/resident"``: a citywide value with its unit, spelt one way (``m2`` → ``m²``)."""
    from .outputs.labels import unit_text

    if value is None or value != value:  # NaN
        return "—"
    unit = unit_text(str(unit or ""))
    if unit.startswith("%"):
        return f"{value:.1f}%"
    return f"{value:,.1f} {unit}".strip()


def _print_units(a) -> None:  # an Assessment
    """The communities' types and the units of each level, in two lines."""
    comm, layers = getattr(a, "communities", None), getattr(a, "layers", None) or {}
    if comm is not None and "community_type" in comm.columns:
        types = comm["community_type"]
        counts = {t: int((types == t).sum()) for t in ("urban", "town", "rural")}
        unknown = int(types.isna().sum())
        print(
            f"\n社区类型 Community types: {counts['urban']} urban, {counts['town']} town, {counts['rural']} rural, "
            f"{unknown} unknown"
        )
    names = {"township": ("township", "townships"), "county": ("county", "counties"), "city": ("city", "cities")}
    levels = [lv for lv in names if f"units_{lv}" in layers]
    if levels:
        parts = []
        for lv in levels:
            n, (one, many) = len(layers[f"units_{lv}"]), names[lv]
            parts.append(counted(n, one, many))
        print(f"单元 Units: {', '.join(parts)} (GeoPackage: units_<level>)")


#: the terminal's short spelling of a unit per 100 households (the numbers' columns leave the names their room)
_HH = ("/100 households", "/100 hh")


def _print_result(result, quiet: bool) -> None:
    import shutil
    import unicodedata

    def width(text: str) -> int:  # columns on a terminal: a Chinese character takes two
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    def pad(text: str, n: int, right: bool = False) -> str:
        gap = " " * max(n - width(text), 0)
        return gap + text if right else text + gap

    def wrap(text: str, n: int) -> list[str]:
        """``text`` in lines of at most ``n`` columns, broken between words (a word wider than a line anywhere)."""
        words = []
        for word in text.split():
            while width(word) > n:  # a long Chinese name: broken over two lines, nothing lost
                k = 1
                while width(word[: k + 1]) <= n:
                    k += 1
                words.append(word[:k])
                word = word[k:]
            words.append(word)
        lines = [""]
        for word in words:
            if lines[-1] and width(lines[-1]) + 1 + width(word) > n:
                lines.append(word)
            else:
                lines[-1] = f"{lines[-1]} {word}" if lines[-1] else word
        return lines

    a = result.assessment
    out = result.outputs
    if not quiet and len(a.summary):
        print(f"\n{a.profile.name_zh}  ({a.profile.name_en})")
        rows = []
        for _, r in a.summary.iterrows():
            n_pass = (
                "" if r.get("communities_passed") != r.get("communities_passed") else f"{int(r['communities_passed'])}"
            )
            n_fail = (
                "" if r.get("communities_failed") != r.get("communities_failed") else f"{int(r['communities_failed'])}"
            )
            unconfirmed = r.get("confirmed") is False or r.get("confirmed") == 0
            rows.append(
                (
                    ("*" if unconfirmed else "") + f"{r['name_zh']} {r['name_en']}",
                    _fmt_value(r.get("city_value"), r.get("city_unit")).replace("—", "no data").replace(*_HH),
                    _fmt_value(r.get("city_target"), r.get("city_unit")).replace(*_HH),
                    n_pass,
                    n_fail,
                )
            )
        head = ("check 检查项", "citywide 全市", "target 目标", "pass", "fail")
        cols = [max(width(row[j]) for row in [*rows, head]) for j in range(5)]
        # the names get the room the numbers leave; a name that does not fit wraps onto the next line, never cut
        room = shutil.get_terminal_size((100, 24)).columns - sum(cols[1:]) - 4
        cols[0] = min(cols[0], max(room, 30))
        for row in [head, *rows]:
            label, *numbers = row
            lines = wrap(label, cols[0])
            print(
                " ".join([pad(lines[0], cols[0])] + [pad(v, n, right=True) for v, n in zip(numbers, cols[1:])]).rstrip()
            )
            for more in lines[1:]:
                print(f"  {more}")
        if any(_HH[1] in v for row in rows for v in row[1:3]):
            print("hh = households 户")
        if "confirmed" in a.summary and (a.summary["confirmed"] == False).any():  # noqa: E712 (a column)
            print("*未确认 unconfirmed threshold: its source is not confirmed (see the profile)")
        register = getattr(a, "register", None)  # the plan's indicator register: every target, assessed or not
        if register is not None and len(register):
            from .checks.register import register_counts

            n = register_counts(register)
            text = (
                f"规划指标台账 Plan register: {n['rows']} targets, {n['assessed']} assessed "
                f"({n['pass']} pass, {n['fail']} fail), {n['not assessed']} not assessed: why, and the data "
                "that would let them be, in the 'register' table of the GeoPackage and summary.csv"
            )
            print()
            for line in wrap(text, max(shutil.get_terminal_size((100, 24)).columns - 1, 30)):
                print(line)
        _print_units(a)
        if len(a.warnings):
            print(f"\n{len(a.warnings)} data warnings 数据提示 (see the 'warnings' table of the GeoPackage)")
    print(f"\nGap map 缺口地图:        {out.get('map', '(not written)')}")
    print(f"Shortfall GeoPackage:  {out['geopackage']}  (CGCS2000 unless --out-crs)")
    print(f"Summary 汇总表:         {out['summary']}")
    if "summary_units" in out:
        print(f"By level 分级汇总:       {out['summary_units']}")
    for key, label in (
        ("project", "QGIS project 工程:     "),
        ("excel", "Excel workbook 工作簿:  "),
        ("filegdb", "File Geodatabase:      "),
        ("figures", "Figures 插图:           "),
    ):
        if key in out:
            print(f"{label}{out[key]}")
    if "floor_area_template" in out:
        print(f"Floor-area template 用房面积模板: {out['floor_area_template']}  (fill in, then --service-centres)")
    reports = [path for key, path in out.items() if str(key).startswith("report")]
    for path in reports:
        print(f"PDF report 报告:        {path}")


def _cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import run

    result = run(from_namespace(Inputs, args), options=_options(args))
    _print_result(result, args.quiet)
    return 0


def _cmd_propose(args: argparse.Namespace) -> int:
    from .inputs import read_layer
    from .pipeline import assess_files, save
    from .scenario import compare
    from .siting import propose_sites

    siting = from_namespace(SitingOptions, args)  # checked before the run, like the rest
    opts = _options(args)
    base = assess_files(from_namespace(Inputs, args), options=opts)
    parcels = read_layer(siting.parcels, layer=siting.parcels_layer) if siting.parcels else None
    assert siting.check is not None  # a required flag
    proposal = propose_sites(
        base,
        siting.check,
        k=siting.k,
        objective=siting.objective,
        candidates=siting.candidates,
        parcels=parcels,
        spacing=siting.candidate_spacing,
        method=siting.method,
        time_limit=siting.time_limit,
        capacity=siting.capacity,
    )
    after = proposal.scenario()
    after.layers["before_after"] = compare(base, after)
    outputs = save(after, opts)  # as `run` writes, with every output option
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


def _cmd_demo(args: argparse.Namespace) -> int:
    from .pipeline import run_demo

    opts = _options(args, out=getattr(args, "out", "out/demo"))
    centres = from_namespace(Inputs, args).service_centres
    result = run_demo(opts.out, data_dir=args.data, options=opts, service_centres=centres)
    if not args.quiet:
        fac = result.assessment.facilities
        n_kg = int((fac["category_key"] == "kindergarten").sum()) if "category_key" in fac else 0
        print(
            "Demo: central Chengdu 成都中心城区 (OSM 2018; community polygons and households are "
            "APPROXIMATE 社区边界与户数为近似估算)\n"
            f"Most checks fail because the 2018 OSM extract maps only a fraction of the real facilities "
            f"({n_kg} kindergartens); a planner's Amap or register export is what servicecircle is for. "
            "2018 年 OSM 数据只收录了少量设施，故多数检查未达标；请用高德或设施登记数据。"
        )
    _print_result(result, args.quiet)
    return 0


def _cmd_floor_area_template(args: argparse.Namespace) -> int:
    from .pipeline import write_floor_area_template

    tpl = from_namespace(TemplateOptions, args)
    ins = from_namespace(Inputs, args)
    opts = from_namespace(Options, args)
    path = write_floor_area_template(
        tpl.template,
        opts.code_register,
        ins.boundaries,
        boundaries_layer=ins.boundaries_layer,
        id_column=opts.id_column or "code",
        name_column=opts.name_column or "name",
    )
    if not getattr(args, "quiet", False):
        print(
            f"Floor-area template 用房面积模板: {path}\n"
            "Fill in floor_area_m2 (m²; empty if unknown) and build_type (新建 / 改建 扩建 购置 租用), then give it to "
            "a run: servicecircle run ... --service-centres FILE"
        )
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


def _cmd_network(args: argparse.Namespace) -> int:
    from .network import load_network

    opts = _options(args)
    net = load_network(args.file, crs=opts.network_crs, keep_components=opts.keep_components, progress=opts.progress)
    print(net)
    for k, v in net.info.items():
        print(f"  {k}: {v}")
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    from .batch import assess_many

    given = {k: v for k, v in vars(args).items() if k in option_specs(Inputs) or k in option_specs(Options)}
    given.pop("progress", None)
    result = assess_many(
        args.manifest, batch=from_namespace(BatchOptions, args), quiet=args.quiet, **{"out": args.out, **given}
    )
    if not args.quiet:
        counts = result.summary["status"].value_counts().to_dict()
        print(f"\n{len(result.summary)} areas 研究区: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
        print(f"Batch summary 批量汇总:  {result.outputs['summary']}")
        print(f"Merged GeoPackage:      {result.outputs['geopackage']}")
        print(f"GeoParquet (by area):   {result.outputs['parquet']}")
        print(f"Areas map 研究区地图:    {result.outputs['map']}")
    return 0


_OUTPUT_OPTIONS = tuple(n for n, spec in option_specs(Options).items() if spec.group.startswith("outputs"))


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
    add_arguments(p_prop, SitingOptions, required=("check",))
    p_prop.set_defaults(func=_cmd_propose)
    p_batch = sub.add_parser(
        "batch",
        help="many study areas in one run, on Dask 批量评估",
        description="Assess every study area of a manifest (CSV or TOML) on a Dask cluster and merge the results; "
        "the other flags are defaults for every area. 批量评估多个研究区。",
    )
    p_batch.add_argument("manifest", help="CSV or TOML manifest, one study area per row")
    add_arguments(p_batch, BatchOptions)
    add_arguments(p_batch, Inputs)
    add_arguments(p_batch, Options, only=tuple(n for n in option_specs(Options) if n not in ("workers", "out")))
    p_batch.add_argument("--out", default="servicecircle-batch", metavar="DIR", help="output folder 输出目录")
    _add_common(p_batch)
    p_batch.set_defaults(func=_cmd_batch)
    p_demo = sub.add_parser("demo", help="run the bundled central-Chengdu demo 运行成都示例")
    p_demo.add_argument("--data", metavar="DIR", help="folder of the demo data (default: ./data)")
    add_arguments(p_demo, Options, only=(*_OUTPUT_OPTIONS, "workers"))
    add_arguments(p_demo, Inputs, only=("service_centres",))
    _add_common(p_demo)
    p_demo.set_defaults(func=_cmd_demo)
    p_tpl = sub.add_parser(
        "floor-area-template",
        help="write the floor-area template to fill in 用房面积填报模板",
        description="Write one row per residents' committee (code, name, its position in the code register, "
        "empty floor area and new/rebuilt) for the planner to fill in; give it back with --service-centres. "
        "每个居委会一行，填写社区综合服务设施面积与新建/改建。",
    )
    add_arguments(p_tpl, TemplateOptions)
    add_arguments(p_tpl, Inputs, only=("boundaries", "boundaries_layer"))
    add_arguments(p_tpl, Options, only=("code_register", "id_column", "name_column"), required=("code_register",))
    p_tpl.add_argument("--quiet", "-q", action="store_true")
    p_tpl.set_defaults(func=_cmd_floor_area_template)
    p_prof = sub.add_parser("profiles", help="list or show standards profiles 查看标准配置")
    p_prof.add_argument("name", nargs="?", help="profile name or .toml file")
    p_prof.set_defaults(func=_cmd_profiles)
    p_net = sub.add_parser("network", help="build and cache a walking network 构建路网缓存")
    p_net.add_argument("file", help="OSM XML/PBF or GraphML file")
    add_arguments(p_net, Options, only=("network_crs", "keep_components"))
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
    # a command is a fresh process of its own: worker processes for large jobs unless --workers says otherwise
    # (the Python API forks only when asked; see servicecircle._parallel)
    settings.workers = getattr(args, "workers", None)
    warnings.showwarning = _show_warning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if quiet else "default", DataWarning)
        if not quiet:
            warnings.simplefilter("ignore", RuntimeWarning)
        try:
            if settings.workers is not None:
                settings.workers = Options(workers=settings.workers).workers
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
    try:
        code = main()
    except KeyboardInterrupt:  # before or after main's own handler: while the libraries load, say
        print("servicecircle: interrupted 已中断", file=sys.stderr)
        code = 130
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    console_main()
