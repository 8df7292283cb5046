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
from .options import Inputs, Options, TemplateOptions, split_keywords

__all__ = [
    "run",
    "assess_files",
    "save",
    "run_demo",
    "demo_paths",
    "demo_inputs",
    "RunResult",
    "write_floor_area_template",
]


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
    opts = _read_unit_inputs(opts)
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


def _read_unit_inputs(opts: Options) -> Options:
    """The code register, unit polygons and compounds the options name, read now (a missing file: exit 2 now)."""
    from .inputs.units import compound_polygons, resolve_polygons, resolve_register

    changes: dict[str, Any] = {}
    if opts.code_register is not None:
        changes["code_register"] = resolve_register(opts.code_register)
    if isinstance(opts.units, (str, Path)):
        changes["units"] = resolve_polygons(opts.units)
    if isinstance(opts.compounds, (str, Path)):
        changes["compounds"] = compound_polygons(opts.compounds)
    return opts.replace(**changes) if changes else opts


def _assess(inputs: Inputs, opts: Options, *, keep_within: Any = None) -> Assessment:
    """Read what ``inputs`` names, then :func:`~servicecircle.assess` (every file read here, none later).

    ``keep_within`` (a ``(geometry, crs, metres)`` triple, from a batch's cut): facilities
    and green spaces that cannot reach a community within ``metres`` are left out (see
    :func:`_near`), with a warning that counts them.
    """
    return _assess_with(inputs, opts, keep_within=keep_within)[0]


def _service_centres(inputs: Inputs, opts: Options, comm: Any, at_committees: bool) -> tuple[Any, Any]:
    """The service centres to add to the facilities, and the floor-area template rows (the demo's), or None.

    ``service_centres`` (the filled template) is read and checked row by row against the boundaries'
    codes and the ``code_register``'s committees (whose positions fill a row without lon/lat). With
    ``at_committees`` (the demo), the committees of the boundaries' codes stand at their register
    positions, with no floor area unless the filled template gives one.
    """
    from .inputs.committees import committee_template, read_committees, read_floor_area_template, template_facilities

    id_col = opts.id_column
    codes = list(comm[id_col]) if id_col and id_col in comm.columns else None
    rows = committees = None
    if opts.code_register is not None and codes is not None and (at_committees or inputs.service_centres):
        committees = read_committees(opts.code_register, codes=codes)
    if committees is not None and at_committees:
        rows = committee_template(committees, comm, id_column=id_col or "code", name_column=opts.name_column)
    if inputs.service_centres is not None:
        centres = read_floor_area_template(inputs.service_centres, codes=codes, committees=committees)
    elif rows is not None:
        centres = template_facilities(rows)
    else:
        centres = None
    return centres, rows


def _assess_with(
    inputs: Inputs, opts: Options, *, at_committees: bool = False, keep_within: Any = None
) -> tuple[Assessment, Any]:
    """:func:`_assess`; with ``at_committees``, the service centres at the code register's committees
    (the demo), and the floor-area template rows (None without)."""
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
        centres, rows = _service_centres(inputs, opts, comm, at_committees)
        if centres is not None:
            from .inputs.committees import add_service_centres

            fac = add_service_centres(
                fac,
                centres,
                category_column=opts.category_column,
                floor_area_column=opts.floor_area_column,
                build_type_column=opts.build_type_column,
            )
        dem = read_demand(inputs.demand, layer=inputs.demand_layer, crs=inputs.demand_crs) if inputs.demand else None
        res = read_layer(inputs.residential, layer=inputs.residential_layer) if inputs.residential else None
        green = read_layer(inputs.greenspace, layer=inputs.greenspace_layer) if inputs.greenspace else None
        ent = read_layer(inputs.entrances, layer=inputs.entrances_layer) if inputs.entrances else None
        if keep_within is not None:  # entrances are few and decide how a kept park is reached: all kept
            fac = _near(fac, *keep_within, by=opts.category_column)
            green = _near(green, *keep_within, by="category", closure=True)
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
    return result, rows


def _near(layer: Any, geometry: Any, crs: Any, metres: float, *, by: str | None = None, closure: bool = False) -> Any:
    """The features of ``layer`` that can matter within ``metres`` of ``geometry`` (in ``crs``).

    Those within ``metres``; with ``closure``, also every polygon touching a kept
    one, again and again (touching green spaces are merged into one, whose size
    decides whether it counts); and for each value of ``by`` (each category) with
    none within reach its nearest feature, so the category is assessed (and
    fails) as it would be on the whole network. A warning counts the others.
    """
    if layer is None or not len(layer):
        return layer
    import numpy as np
    import shapely

    from .coords import to_crs
    from .errors import source_of, warn_data

    geoms = to_crs(layer.geometry, crs).to_numpy()
    near = shapely.dwithin(geoms, geometry, metres)
    groups = layer[by].astype(str).to_numpy() if by is not None and by in layer else np.zeros(len(layer), dtype=str)
    far = sorted(set(groups) - set(groups[near]))
    if far:
        distance = shapely.distance(geoms, geometry)
        for key in far:
            members = np.flatnonzero(groups == key)
            near[members[np.argmin(distance[members])]] = True
    if closure:
        tree = shapely.STRtree(geoms)
        frontier = np.flatnonzero(near)
        while len(frontier):
            _, hit = tree.query(geoms[frontier], predicate="intersects")
            frontier = np.unique(hit[~near[hit]])
            near[frontier] = True
    if not near.all():
        file, name = source_of(layer)
        warn_data(
            "batch_cut_left_out",
            f"{int((~near).sum())} of {len(layer)} features lie farther than {metres:g} m from the area and were left "
            "out of its run (no walk within the widest radius reaches them)",
            file=file,
            layer=name,
        )
        layer = layer[near]
    return layer


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
        "code_register": Path("sources/chengdu/adcode"),
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
        # community types and unit names from the real code register (the communities' codes are real);
        # the compounds are the named OSM residential land (the default with residential=)
        code_register=p["code_register"],
    )


def run_demo(out: str | Path = "out/demo", *, data_dir: str | Path | None = None, **kwargs: Any) -> RunResult:
    """Run the whole job on the bundled real-data demo (central Chengdu).

    The community polygons and household numbers of the demo are approximate
    (see ``data/README.md``); network and facilities are OpenStreetMap data.

    The community service centres stand at the residents' committees'
    positions in the code register (``data/sources/chengdu/adcode``, GCJ-02
    converted to WGS84), with no floor area: the floor-area check shows the
    required floor area of every community and "no data" for what is
    provided. The demo writes the floor-area template
    (``floor_area_template.csv`` in ``out``) for the planner to fill in;
    ``service_centres=`` (``--service-centres``) feeds the filled one back.

    The demo also runs the profile's checks in minutes (the elderly's 5 minutes
    beside the adult's 300 m) and draws their service areas, unless told otherwise
    (``time_checks=False``, ``service_areas=False``).
    """
    from .outputs.template import TEMPLATE_NAME
    from .outputs.template import write_floor_area_template as write_template

    every_age = {"time_checks": True, "service_areas": True}
    kw: dict[str, Any] = {**demo_inputs(data_dir), **every_age, "out": out, **kwargs}
    options = kw.pop("options", None)
    inputs, opts = _inputs_and_options(kw.pop("boundaries"), kw.pop("facilities"), kw.pop("network"), options, kw)
    result, rows = _assess_with(inputs, opts, at_committees=True)
    outputs = save(result, opts)
    if rows is not None:
        target = Path(opts.out) / TEMPLATE_NAME
        given = inputs.service_centres
        if given is None or not (target.exists() and Path(given).exists() and target.samefile(given)):
            outputs["floor_area_template"] = write_template(rows, target)
    return RunResult(result, outputs)


def write_floor_area_template(
    template: str | Path = "floor_area_template.csv",
    code_register: str | Path | None = None,
    boundaries: Any = None,
    *,
    boundaries_layer: str | None = None,
    id_column: str | None = "code",
    name_column: str | None = "name",
) -> Path:
    """Write the floor-area template: one row per residents' committee, at its register position.

    Parameters
    ----------
    template
        The file to write: ``.csv`` (UTF-8 with BOM, for Excel) or ``.xlsx``.
    code_register
        The code register (adcode CSV files, or their folder): the committees,
        their names and their positions (GCJ-02 centroids converted to WGS84).
    boundaries
        The communities (a file or a GeoDataFrame): one row per community of
        them, by ``id_column`` (12-digit codes). Without: every committee of
        the register.

    Returns
    -------
    pathlib.Path
        The template written; fill in ``floor_area_m2`` and ``build_type``,
        then give it back as ``service_centres=`` (``--service-centres``).

    Examples
    --------
    >>> import tempfile, pathlib, servicecircle as sc
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "template.csv"
    >>> _ = sc.write_floor_area_template(path, "data/sources/chengdu/adcode",
    ...                                  "data/boundaries/chengdu_communities_approx.gpkg")
    >>> rows = sc.read_floor_area_template(path)
    >>> len(rows), int(rows["floor_area_m2"].notna().sum())
    (69, 0)
    """
    from .inputs.committees import committee_template, read_committees
    from .inputs.units import resolve_register
    from .outputs.template import write_floor_area_template as write_template

    opts = TemplateOptions(template=template)
    register = resolve_register(code_register)
    if register is None:
        raise OptionError(
            "no code register given", fix="pass code_register= (--code-register): the adcode CSV files or their folder"
        )
    comm = None
    if boundaries is not None:
        comm = (
            read_boundaries(boundaries, layer=boundaries_layer) if isinstance(boundaries, (str, Path)) else boundaries
        )
    id_col = id_column or "code"
    codes = list(comm[id_col]) if comm is not None and id_col in comm.columns else None
    committees = read_committees(register, codes=codes)
    rows = committee_template(committees, comm, id_column=id_col, name_column=name_column)
    return write_template(rows, opts.template)
