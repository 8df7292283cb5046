"""From file paths to written outputs: what the command line and ``run()`` do."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .assessment import Assessment, assess
from .errors import InputDataError, OptionError, collect_warnings
from .inputs import read_boundaries, read_demand, read_facilities, read_layer
from .network import download_network, load_network
from .network.cache import lattice_store
from .options import Inputs, Options, split_keywords

__all__ = ["run", "assess_files", "save", "run_demo", "demo_paths", "demo_inputs", "RunResult"]


@dataclass
class RunResult:
    """What :func:`run` wrote, and the assessment itself."""

    assessment: Assessment
    outputs: dict[str, Path]

    def __repr__(self) -> str:
        files = ", ".join(f"{k}={v}" for k, v in self.outputs.items())
        return f"<RunResult {self.assessment!r} → {files}>"


def assess_files(
    boundaries: str | Path | Inputs | None = None,
    facilities: str | Path | None = None,
    network: str | Path | None = None,
    *,
    options: Options | None = None,
    **keywords: Any,
) -> Assessment:
    """Read the input files, build (or load the cached) network and assess; write nothing.

    Parameters
    ----------
    boundaries, facilities, network
        The three files every run needs (or an :class:`~servicecircle.options.Inputs`
        as the first argument).
    options
        An :class:`~servicecircle.options.Options`.
    **keywords
        Any field of :class:`~servicecircle.options.Inputs` (``boundaries_layer``,
        ``facilities_crs``, ``population`` ...) or of
        :class:`~servicecircle.options.Options` (``id_column``, ``profile``,
        ``max_snap`` ...): every option is described there.
    """
    inputs, opts = _inputs_and_options(boundaries, facilities, network, options, keywords)
    return _assess(inputs, opts)


def _inputs_and_options(
    boundaries: Any, facilities: Any, network: Any, options: Options | None, keywords: dict[str, Any]
) -> tuple[Inputs, Options]:
    in_kw, opt_kw = split_keywords(keywords)
    if isinstance(boundaries, Inputs):
        inputs = boundaries.replace(**in_kw)
    else:
        given = {"boundaries": boundaries, "facilities": facilities, "network": network}
        inputs = Inputs(**{k: v for k, v in given.items() if v is not None}, **in_kw)
    opts = Options.build(options, **opt_kw)
    for name in ("boundaries", "facilities"):
        if getattr(inputs, name) is None:
            raise OptionError(f"no {name} file given", fix=f"pass {name}= (--{name} FILE)")
    if inputs.network is None and not (inputs.network_place or inputs.download):
        raise InputDataError(
            "no walking network given",
            fix="pass --network FILE (OSM, PBF or GraphML), or --network-place / --download",
        )
    return inputs, _check_up_front(opts)


def _check_up_front(opts: Options) -> Options:
    """What can be checked before any file is read: the profile, the output folder, what the exports need."""
    from .profiles import Profile, load_profile

    if not isinstance(opts.profile, Profile):  # a malformed profile is refused before the run, not after
        opts = opts.replace(profile=load_profile(opts.profile))
    out = Path(opts.out)
    if out.exists() and not out.is_dir():
        raise OptionError(f"out (--out) is a file, not a folder: {out}", fix="give a folder for the outputs")
    if opts.figures or opts.report:  # the figures and the PDF report need a Chinese font: say so now, not after
        from .outputs.fonts import cjk_font

        cjk_font()
    if opts.basemap in ("tianditu", "tianditu-imagery") and not opts.tile_url:
        from .outputs.gapmap import tianditu_key

        opts = opts.replace(tianditu_key=tianditu_key(opts.tianditu_key))  # refused now, not after the run
    return opts


def _assess(inputs: Inputs, opts: Options) -> Assessment:
    """Read what ``inputs`` names, then :func:`~servicecircle.assess` (every file read here, none later)."""
    assert inputs.boundaries is not None and inputs.facilities is not None  # checked by _inputs_and_options
    with collect_warnings() as read_log:
        comm = read_boundaries(
            inputs.boundaries, layer=inputs.boundaries_layer, crs=inputs.boundaries_crs, id_column=opts.id_column
        )
        fac = read_facilities(
            inputs.facilities,
            layer=inputs.facilities_layer,
            crs=inputs.facilities_crs,
            category_column=opts.category_column,
            lon_column=inputs.lon_column,
            lat_column=inputs.lat_column,
        )
        dem = read_demand(inputs.demand, layer=inputs.demand_layer, crs=inputs.demand_crs) if inputs.demand else None
        res = read_layer(inputs.residential, layer=inputs.residential_layer) if inputs.residential else None
        green = read_layer(inputs.greenspace, layer=inputs.greenspace_layer) if inputs.greenspace else None
        ent = read_layer(inputs.entrances, layer=inputs.entrances_layer) if inputs.entrances else None
        if inputs.network is not None:
            net = load_network(
                inputs.network,
                crs=opts.network_crs,
                study_area=comm,
                keep_components=opts.keep_components,
                progress=opts.progress,
            )
        else:
            net = download_network(
                inputs.network_place, study_area=comm, crs=opts.network_crs, keep_components=opts.keep_components
            )
        pop = None
        if inputs.population is not None:
            from .coords import to_crs
            from .inputs.rasters import read_population
            from .population import population_bounds

            pop = read_population(
                inputs.population,
                bounds=population_bounds(to_crs(comm.geometry, net.crs)),
                bounds_crs=net.crs,
                band=inputs.population_band,
                crs=inputs.population_crs,
            )
    result = assess(
        comm,
        fac,
        net,
        opts,
        demand=dem,
        population=pop,
        residential=res,
        greenspace=green,
        entrances=ent,
        lattice_store=lattice_store(net),
    )
    if len(read_log):
        import pandas as pd

        result.warnings = pd.concat([read_log.to_frame(), result.warnings], ignore_index=True).drop_duplicates(
            subset=["code", "message"], ignore_index=True
        )
    return result


def run(
    boundaries: str | Path | Inputs | None = None,
    facilities: str | Path | None = None,
    network: str | Path | None = None,
    *,
    options: Options | None = None,
    **keywords: Any,
) -> RunResult:
    """Read the inputs, build (or load the cached) network, assess and write the outputs.

    This is ``servicecircle run`` as a function: the same options, with the
    same names (:mod:`servicecircle.options`; ``out``, ``output_crs``,
    ``excel``, ``filegdb``, ``figures`` and the map's options among them), and
    :func:`servicecircle.outputs.save_assessment` describes the outputs. Every
    option is checked before anything is read.
    """
    inputs, opts = _inputs_and_options(boundaries, facilities, network, options, keywords)
    result = _assess(inputs, opts)
    return RunResult(result, save(result, opts))


def save(result: Assessment, options: Options) -> dict[str, Path]:
    """Write ``result`` as ``options`` ask (folder, CRS, map, the optional exports)."""
    return result.save(
        options.out,
        crs=options.output_crs,
        map_options=options.map_options(),
        excel=options.excel,
        filegdb=options.filegdb,
        figures=options.figures,
        gpkg_version=options.gpkg_version,
        report=options.report_paper if options.report else False,
    )


def demo_paths(data_dir: str | Path | None = None) -> dict[str, Path]:
    """Paths of the bundled central-Chengdu demo data.

    Looks in ``data_dir``, ``$SERVICECIRCLE_DATA``, ``./data`` and the source
    checkout's ``data/`` folder, in that order.
    """
    candidates = [Path(p) for p in (data_dir, os.environ.get("SERVICECIRCLE_DATA")) if p]
    candidates += [Path.cwd() / "data", Path(__file__).resolve().parents[2] / "data"]
    names = {
        "boundaries": Path("boundaries/chengdu_communities_approx.gpkg"),
        "residential": Path("boundaries/chengdu_residential_osm.gpkg"),
        "facilities": Path("facilities/chengdu_facilities_osm.gpkg"),
        "network": Path("network/chengdu_central_2018.osm.gz"),
    }
    for base in candidates:
        if all((base / p).exists() for p in names.values()):
            return {k: base / p for k, p in names.items()}
    raise InputDataError(
        "the demo data was not found (looked in " + ", ".join(str(c) for c in candidates) + ")",
        fix="run from the servicecircle source folder, or set SERVICECIRCLE_DATA to its data/ folder",
    )


def demo_inputs(data_dir: str | Path | None = None) -> dict[str, Any]:
    """The demo as keyword arguments of :func:`assess_files` (files and options)."""
    p = demo_paths(data_dir)
    return dict(
        boundaries=p["boundaries"],
        facilities=p["facilities"],
        network=p["network"],
        residential=p["residential"],
        facilities_layer="facilities",
        id_column="code",
        name_column="name",
        profile="meishan",
        greenspace=p["facilities"],
        greenspace_layer="greenspace",
    )


def run_demo(out: str | Path = "out/demo", *, data_dir: str | Path | None = None, **kwargs: Any) -> RunResult:
    """Run the whole job on the bundled real-data demo (central Chengdu).

    The community polygons and household numbers of the demo are approximate
    (see ``data/README.md``); network and facilities are OpenStreetMap data.
    The demo also runs the profile's checks in minutes (the elderly's 5 minutes
    beside the adult's 300 m) and draws their service areas, unless told otherwise
    (``time_checks=False``, ``service_areas=False``).
    """
    every_age = {"time_checks": True, "service_areas": True}
    return run(**{**demo_inputs(data_dir), **every_age, "out": out, **kwargs})
