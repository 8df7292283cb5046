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

from . import settings
from ._version import __version__
from .assessment import Assessment, assess
from .errors import DataWarning, InputDataError, NetworkError, OptionError, ProfileError, ServiceCircleError
from .inputs import read_boundaries, read_demand, read_facilities, read_layer
from .inputs.rasters import PopulationGrid, read_population
from .network import WalkNetwork, download_network, load_network
from .options import Inputs, Options, SitingOptions
from .pipeline import assess_files, run, run_demo
from .profiles import Profile, list_profiles, load_profile

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
    "Options",
    "Inputs",
    "SitingOptions",
    "assess_files",
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
