"""servicecircle: where a city's neighbourhoods fall short of their planning standards.

Community boundaries and facility points in; exact walking-network distances
over OpenStreetMap; a life-circle check per community against a standards
profile (GB 50180-2018, the Meishan plan ...); a Folium gap map and a shortfall
GeoPackage out.

>>> import servicecircle as sc
>>> net = sc.load_network("data/network/chengdu_central_2018.osm.gz", progress=False)
>>> comm = sc.read_boundaries("data/boundaries/chengdu_communities_approx.gpkg", id_column="code")
>>> fac = sc.read_facilities("data/facilities/chengdu_facilities_osm.gpkg", layer="facilities")
>>> result = sc.assess(comm, fac, net, id_column="code", progress=False)
>>> len(result.communities) == len(comm)
True
>>> "kindergarten" in set(result.summary["check"]), type(result.map()).__name__
(True, 'Map')
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import settings
from ._version import __version__
from .errors import DataWarning, InputDataError, NetworkError, OptionError, ProfileError, ServiceCircleError
from .options import BatchOptions, Inputs, Options, SitingOptions, TemplateOptions

if TYPE_CHECKING:  # the names below are imported when first used (see __getattr__)
    from .assessment import Assessment, assess
    from .batch import BatchResult, assess_many
    from .inputs import read_boundaries, read_demand, read_facilities, read_layer
    from .inputs.committees import read_committees, read_floor_area_template
    from .inputs.rasters import ElevationGrid, PopulationGrid, read_elevation, read_population
    from .network import WalkNetwork, download_network, load_network
    from .pipeline import assess_files, run, run_demo, write_floor_area_template
    from .profiles import Profile, list_profiles, load_profile

#: public name → the module that defines it. They load on first use, so that ``import servicecircle`` and
#: the ``servicecircle`` command start without geopandas, shapely and pyproj (and a Ctrl-C while they
#: load is the command's one-line message, not a traceback from the import)
_LAZY = {
    "Assessment": "assessment",
    "assess": "assessment",
    "assess_many": "batch",
    "BatchResult": "batch",
    "read_boundaries": "inputs",
    "read_demand": "inputs",
    "read_facilities": "inputs",
    "read_layer": "inputs",
    "PopulationGrid": "inputs.rasters",
    "read_population": "inputs.rasters",
    "ElevationGrid": "inputs.rasters",
    "read_elevation": "inputs.rasters",
    "WalkNetwork": "network",
    "download_network": "network",
    "load_network": "network",
    "assess_files": "pipeline",
    "run": "pipeline",
    "run_demo": "pipeline",
    "write_floor_area_template": "pipeline",
    "read_floor_area_template": "inputs.committees",
    "read_committees": "inputs.committees",
    "Profile": "profiles",
    "list_profiles": "profiles",
    "load_profile": "profiles",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    try:  # a submodule: sc.pipeline, sc.scenario ...
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":  # a missing dependency of that submodule: say so
            raise
        raise AttributeError(f"module 'servicecircle' has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "__version__",
    "settings",
    "assess",
    "Assessment",
    "load_network",
    "download_network",
    "WalkNetwork",
    "read_boundaries",
    "read_facilities",
    "read_demand",
    "read_layer",
    "read_population",
    "PopulationGrid",
    "read_elevation",
    "ElevationGrid",
    "Options",
    "Inputs",
    "SitingOptions",
    "BatchOptions",
    "assess_files",
    "assess_many",
    "BatchResult",
    "TemplateOptions",
    "write_floor_area_template",
    "read_floor_area_template",
    "read_committees",
    "OptionError",
    "load_profile",
    "list_profiles",
    "Profile",
    "run",
    "run_demo",
    "ServiceCircleError",
    "InputDataError",
    "NetworkError",
    "ProfileError",
    "DataWarning",
]
