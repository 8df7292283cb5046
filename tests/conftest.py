"""Shared fixtures: real data paths, an isolated cache, small networks."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DATA = ROOT / "data"


def shared_file(*parts: str) -> Path:
    """A file from ../shared/data (real public data); the test fails loudly if absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"missing shared test data {path}")
    return path


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
    return shared_file("fixtures", "West-Oakland.osm.bz2")


@pytest.fixture(scope="session")
def chengdu_osm() -> Path:
    return shared_file("chengdu", "chengdu_central_2018.osm")


@pytest.fixture(scope="session")
def oakland_network(oakland_osm, tmp_path_factory):
    from servicecircle.network import load_network

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_network(oakland_osm, keep_components="all", use_cache=False)
