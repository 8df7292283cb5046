"""Shared fixtures: real data paths, an isolated cache, small networks."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
FIXTURES = ROOT / "tests" / "data"
#: The project's shared data folder (only for files whose licence keeps them out
#: of the repository: the Amap POIs).
SHARED = Path(os.environ.get("SERVICECIRCLE_SHARED", ROOT.parent / "shared" / "data"))
CHENGDU_OSM = DATA / "network" / "chengdu_central_2018.osm.gz"
OAKLAND_OSM = FIXTURES / "West-Oakland.osm.bz2"
AMAP_PARKS = SHARED / "chengdu" / "amap_parks_chengdu_gcj02.csv"


def amap_parks() -> Path:
    """The Amap park POIs (GCJ-02). They carry no licence, so they are not in the
    repository: tests that need them run where the project's shared data folder is
    (``../shared/data`` or ``$SERVICECIRCLE_SHARED``) and are skipped elsewhere."""
    if not AMAP_PARKS.exists():
        pytest.skip(f"Amap POIs not redistributable; not found at {AMAP_PARKS}")
    return AMAP_PARKS


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets a private network cache and no progress bars."""
    from servicecircle import settings

    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setattr(settings, "cache_folder", cache)
    monkeypatch.setattr(settings, "progress", False)
    yield


@pytest.fixture(scope="session")
def oakland_osm() -> Path:
    return OAKLAND_OSM


@pytest.fixture(scope="session")
def chengdu_osm() -> Path:
    return CHENGDU_OSM


@pytest.fixture(scope="session")
def oakland_network(oakland_osm, tmp_path_factory):
    from servicecircle.network import load_network

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_network(oakland_osm, keep_components="all", use_cache=False)
