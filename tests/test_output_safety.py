"""Outputs are written atomically and reproducibly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from .conftest import DATA


def demo(out, env=None):
    return [sys.executable, "-m", "servicecircle.cli", "demo", "--out", str(out), "--data", str(DATA), "-q", "--excel"]


def read_all(gpkg):
    layers = {}
    for name, _ in pyogrio.list_layers(gpkg):
        frame = gpd.read_file(gpkg, layer=name)
        if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame:
            wkb = shapely.to_wkb(frame.geometry.values)
            frame = pd.DataFrame(frame.drop(columns=frame.geometry.name)).assign(wkb=wkb)
        layers[name] = frame
    return layers


# two runs giving identical outputs: tests/test_reproducible.py (every file, byte for byte)


@pytest.mark.slow
def test_a_killed_run_leaves_the_previous_outputs_intact(tmp_path):
    out = tmp_path / "out"
    r = subprocess.run(demo(out), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    # --excel; shortfall.qgz is the QGIS project beside the GeoPackage
    assert set(before) == {
        "shortfall.gpkg",
        "shortfall.qgz",
        "gap_map.html",
        "summary.csv",
        "summary_units.csv",  # the demo's communities roll up to their townships, districts and city
        "shortfall.xlsx",
        "floor_area_template.csv",  # the demo's committees, to fill in (servicecircle demo --service-centres)
    }
    proc = subprocess.Popen(demo(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed_while_writing = False
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        staging = [p for p in out.glob(".servicecircle-tmp-*") if any(p.iterdir())]
        if staging:  # the new GeoPackage is being written: kill the run now
            os.kill(proc.pid, signal.SIGKILL)
            killed_while_writing = True
            break
        time.sleep(0.005)
    proc.wait()
    assert killed_while_writing, "the run finished before it could be killed mid-write"
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before  # every previous output is untouched, byte for byte
    assert len(read_all(out / "shortfall.gpkg")["communities"]) > 0
    # the next run cleans up and writes normally
    r = subprocess.run(demo(out), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
