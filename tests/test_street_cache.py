"""The streets layer of a cached network: written once beside the cache, copied into every GeoPackage."""

from __future__ import annotations

import sqlite3
import warnings

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from servicecircle.network import load_network
from servicecircle.outputs.geopackage import gpkg_time, street_file, street_layer, write_geopackage


def test_cached_streets_equal_streets_written_afresh(oakland_osm, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load_network(oakland_osm, keep_components="all")  # writes the cache
        net = load_network(oakland_osm, keep_components="all")  # read from it
    assert net.info.get("cache_key")
    cached = street_file(net, "EPSG:4490")
    assert cached is not None and cached.exists()
    mtime = cached.stat().st_mtime_ns
    assert street_file(net, "EPSG:4490") == cached and cached.stat().st_mtime_ns == mtime  # written once
    assert street_file(net, "EPSG:4326") != cached  # another CRS, another file

    comm = gpd.GeoDataFrame({"code": ["a"]}, geometry=[shapely.box(*net.bounds)], crs=net.crs)
    via_cache = write_geopackage({"communities": comm}, tmp_path / "a.gpkg", "EPSG:4490", start=cached)
    afresh = write_geopackage({"communities": comm, "streets": street_layer(net)}, tmp_path / "b.gpkg", "EPSG:4490")
    assert {n for n, _ in pyogrio.list_layers(via_cache)} == {n for n, _ in pyogrio.list_layers(afresh)}
    a = pyogrio.read_dataframe(via_cache, layer="streets")
    b = pyogrio.read_dataframe(afresh, layer="streets")
    assert len(a) == len(b) == net.n_edges
    assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))
    assert shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=0).all()
    assert a.crs == b.crs
    with sqlite3.connect(via_cache) as con:  # every table stamped with the output time, the copied one too
        times = {t for (t,) in con.execute("SELECT last_change FROM gpkg_contents")}
    assert times == {gpkg_time()}


def test_no_street_file_for_a_network_that_did_not_come_through_the_cache(oakland_network):
    assert street_file(oakland_network, "EPSG:4490") is None
    assert np.asarray(oakland_network.edge_geometry).size > 0
