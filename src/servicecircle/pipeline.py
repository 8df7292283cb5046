"""From file paths to written outputs: what the command line and ``run()`` do."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .assessment import Assessment, assess
from .errors import InputDataError, collect_warnings
from .inputs import read_boundaries, read_demand, read_facilities, read_layer
from .network import download_network, load_network

__all__ = ["run", "assess_files", "run_demo", "demo_paths", "demo_inputs", "RunResult"]


@dataclass
class RunResult:
    """What :func:`run` wrote, and the assessment itself."""

    assessment: Assessment
    outputs: dict[str, Path]

    def __repr__(self) -> str:
        files = ", ".join(f"{k}={v}" for k, v in self.outputs.items())
        return f"<RunResult {self.assessment!r} → {files}>"


def assess_files(
    boundaries: str | Path,
    facilities: str | Path,
    network: str | Path | None = None,
    *,
    demand: str | Path | None = None,
    residential: str | Path | None = None,
    greenspace: str | Path | None = None,
    entrances: str | Path | None = None,
    population: str | Path | None = None,
    standard: str | Path | None = None,
    crs: Any = None,
    network_place: str | None = None,
    download: bool = False,
    boundaries_layer: str | None = None,
    boundaries_crs: Any = None,
    facilities_layer: str | None = None,
    facilities_crs: Any = None,
    demand_layer: str | None = None,
    demand_crs: Any = None,
    residential_layer: str | None = None,
    greenspace_layer: str | None = None,
    entrances_layer: str | None = None,
    id_column: str | None = None,
    name_column: str | None = None,
    category_column: str = "category",
    households_column: str | None = "households",
    residents_column: str | None = "residents",
    weight_column: str | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    max_snap: float | None = None,
    sample_spacing: float | None = None,
    gap_resolution_m: float | None = None,
    keep_components: str | None = None,
    progress: bool | None = None,
) -> Assessment:
    """Read the input files, build (or load the cached) network and assess; write nothing.

    See :func:`servicecircle.assess` for the meaning of the options.
    """
    with collect_warnings() as read_log:
        comm = read_boundaries(boundaries, layer=boundaries_layer, crs=boundaries_crs, id_column=id_column)
        fac = read_facilities(
            facilities,
            layer=facilities_layer,
            crs=facilities_crs,
            category_column=category_column,
            lon_column=lon_column,
            lat_column=lat_column,
        )
        dem = read_demand(demand, layer=demand_layer, crs=demand_crs) if demand is not None else None
        res = read_layer(residential, layer=residential_layer) if residential is not None else None
        green = read_layer(greenspace, layer=greenspace_layer) if greenspace is not None else None
        ent = read_layer(entrances, layer=entrances_layer) if entrances is not None else None
        if network is not None:
            net = load_network(network, crs=crs, study_area=comm, keep_components=keep_components, progress=progress)
        elif network_place or download:
            net = download_network(network_place, study_area=comm, crs=crs, keep_components=keep_components)
        else:
            raise InputDataError(
                "no walking network given",
                fix="pass --network FILE (OSM, PBF or GraphML), or --network-place / --download",
            )
    result = assess(
        comm,
        fac,
        net,
        profile=standard,
        demand=dem,
        population=population,
        id_column=id_column,
        name_column=name_column,
        category_column=category_column,
        households_column=households_column,
        residents_column=residents_column,
        weight_column=weight_column,
        residential=res,
        greenspace=green,
        entrances=ent,
        max_snap=max_snap,
        sample_spacing=sample_spacing,
        gap_resolution_m=gap_resolution_m,
        progress=progress,
    )
    if len(read_log):
        import pandas as pd

        result.warnings = pd.concat([read_log.to_frame(), result.warnings], ignore_index=True).drop_duplicates(
            subset=["code", "message"], ignore_index=True
        )
    return result


def run(
    boundaries: str | Path,
    facilities: str | Path,
    network: str | Path | None = None,
    *,
    out: str | Path = "servicecircle-out",
    output_crs: Any = None,
    map_options: dict[str, Any] | None = None,
    save_options: dict[str, Any] | None = None,
    **options: Any,
) -> RunResult:
    """Read the inputs, build (or load the cached) network, assess and write the outputs.

    This is ``servicecircle run`` as a function; ``options`` are those of
    :func:`assess_files` (see :func:`servicecircle.assess` for their meaning), and
    :func:`servicecircle.outputs.save_assessment` describes the outputs.
    """
    result = assess_files(boundaries, facilities, network, **options)
    outputs = result.save(out, crs=output_crs, map_options=map_options, **(save_options or {}))
    return RunResult(result, outputs)


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
        standard="meishan",
        greenspace=p["facilities"],
        greenspace_layer="greenspace",
    )


def run_demo(out: str | Path = "out/demo", *, data_dir: str | Path | None = None, **kwargs: Any) -> RunResult:
    """Run the whole job on the bundled real-data demo (central Chengdu).

    The community polygons and household numbers of the demo are approximate
    (see ``data/README.md``); network and facilities are OpenStreetMap data.
    """
    return run(**{**demo_inputs(data_dir), "out": out, **kwargs})
