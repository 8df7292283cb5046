"""The command line: outputs on success, one plain line and exit code 2 on bad input."""

from __future__ import annotations

import subprocess
import sys
import warnings

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from servicecircle.cli import main

from .conftest import DATA


def run_cli(*args, cwd=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "servicecircle.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env
    )


@pytest.fixture
def small_inputs(tmp_path, oakland_osm):
    """Communities, facilities (CSV, WGS84) around the West Oakland fixture."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from servicecircle.network import load_network

        net = load_network(oakland_osm, use_cache=False)
    x0, y0, x1, y1 = net.bounds
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    boxes = [shapely.box(mx - 400, my - 400, mx, my + 400), shapely.box(mx, my - 400, mx + 400, my + 400)]
    comm = gpd.GeoDataFrame({"cid": ["W", "E"], "households": [120, 80]}, geometry=boxes, crs=net.crs)
    comm_path = tmp_path / "communities.gpkg"
    comm.to_crs(4326).to_file(comm_path, layer="communities")
    pts = gpd.GeoSeries(shapely.points([[mx - 200, my], [mx + 300, my + 100]]), crs=net.crs).to_crs(4326)
    fac = pd.DataFrame(
        {"name": ["K1", "K2"], "category": ["kindergarten", "幼儿园"], "lon": pts.x.round(7), "lat": pts.y.round(7)}
    )
    fac_path = tmp_path / "facilities.csv"
    fac.to_csv(fac_path, index=False)
    return comm_path, fac_path


def test_run_writes_the_three_outputs(small_inputs, oakland_osm, tmp_path):
    comm, fac = small_inputs
    out = tmp_path / "out"
    r = run_cli(
        "run",
        "--boundaries",
        comm,
        "--facilities",
        fac,
        "--facilities-crs",
        "EPSG:4326",
        "--network",
        oakland_osm,
        "--id-column",
        "cid",
        "--out",
        out,
        "--quiet",
    )
    assert r.returncode == 0, r.stderr
    for name in ("shortfall.gpkg", "gap_map.html", "summary.csv"):
        assert (out / name).stat().st_size > 0
    assert "Gap map" in r.stdout and str(out / "gap_map.html") in r.stdout
    s = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert s.loc[0, "category"] == "kindergarten" and s.loc[0, "facilities"] == 2


def test_csv_without_crs_is_one_line_and_exit_2(small_inputs, oakland_osm, tmp_path):
    comm, fac = small_inputs
    r = run_cli(
        "run", "--boundaries", comm, "--facilities", fac, "--network", oakland_osm, "--out", tmp_path / "o", "--quiet"
    )
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0
    assert r.stderr.strip() == (
        f"servicecircle: error 错误: {fac}: a CSV carries no coordinate system. Fix: pass crs='EPSG:4326' "
        "(WGS84 / GPS), 'EPSG:4490' (CGCS2000), 'gcj02' (Amap, Tencent) or 'bd09' (Baidu)"
    )
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


def test_missing_category_column_names_the_columns(small_inputs, oakland_osm, tmp_path):
    comm, fac = small_inputs
    r = run_cli(
        "run",
        "--boundaries",
        comm,
        "--facilities",
        fac,
        "--facilities-crs",
        "EPSG:4326",
        "--category-column",
        "catgory",
        "--network",
        oakland_osm,
        "--out",
        tmp_path / "o",
        "-q",
    )
    assert r.returncode == 2
    assert "no category column 'catgory' (did you mean 'category'?)" in r.stderr


def test_main_returns_2_and_keeps_bugs_as_tracebacks(monkeypatch, capsys):
    assert main(["run", "--boundaries", "nope.gpkg", "--facilities", "x.csv", "--network", "n.osm", "-q"]) == 2
    assert "nope.gpkg: file not found" in capsys.readouterr().err

    import servicecircle.pipeline as run_mod

    def boom(*a, **k):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(run_mod, "run", boom)
    with pytest.raises(ZeroDivisionError):
        main(["run", "--boundaries", "a", "--facilities", "b", "--network", "c", "-q"])


def test_profiles_command_lists_shipped_profiles():
    r = run_cli("profiles")
    assert r.returncode == 0
    assert "meishan" in r.stdout and "gb50180" in r.stdout


@pytest.mark.slow
def test_demo_on_the_bundled_real_data(tmp_path):
    r = run_cli("demo", "--out", tmp_path / "demo", "--data", DATA, "--offline-map")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "demo"
    comm = gpd.read_file(out / "shortfall.gpkg", layer="communities")
    src = gpd.read_file(DATA / "boundaries" / "chengdu_communities_approx.gpkg")
    assert len(comm) == len(src) and set(src.columns) <= set(comm.columns)
    assert comm.crs.to_epsg() == 4490
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert {"kindergarten", "primary_school", "middle_school"} <= set(summary["category"])
    # the summary agrees with the per-community columns it summarises
    for _, row in summary[summary["kind"] == "lifecircle"].iterrows():
        col = comm[f"pass_{row['category']}"]
        assert int((col == 1).sum()) == row["communities_passed"]
        assert int((col == 0).sum()) == row["communities_failed"]
    html = (out / "gap_map.html").read_text(encoding="utf-8")
    assert "cdn.jsdelivr" not in html and "L.map(" in html
    assert "社区生活圈缺口" in html and "Life-circle gaps" in html
