"""servicecircle batch / sc.assess_many on a real Dask LocalCluster (two worker processes).

The areas are real: the central-Chengdu communities of the bundled demo, grouped by
district, each with its district's fence (adcode, GCJ-02 converted to WGS84) as its
area polygon, all cut from the one bundled OSM extract. The references are ordinary
serial runs (``sc.run`` on the whole network, no Dask).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import servicecircle as sc
from servicecircle.batch.cut import area_core, cut_margin
from servicecircle.batch.manifest import read_manifest
from servicecircle.batch.merge import MERGED_LAYERS
from servicecircle.cli import main
from servicecircle.coords import gcj02_to_wgs84
from servicecircle.options import Options
from servicecircle.pipeline import demo_inputs

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
NETWORK = DATA / "network" / "chengdu_central_2018.osm.gz"
FACILITIES = DATA / "facilities" / "chengdu_facilities_osm.gpkg"
COMMUNITIES = DATA / "boundaries" / "chengdu_communities_approx.gpkg"
#: every area's files and options but its boundaries: the demo's (facilities, green space, network, columns, profile)
DEFAULTS = {k: v for k, v in demo_inputs(DATA).items() if k not in ("boundaries", "residential")}
DEFAULT_FLAGS = [f for k, v in DEFAULTS.items() for f in (f"--{k.replace('_', '-')}", str(v))]

#: the installed `servicecircle` command, run by this Python
COMMAND = "from servicecircle.cli import console_main; console_main()"


def _fence(code: str) -> gpd.GeoDataFrame:
    fence = gpd.read_file(DATA / "sources" / "chengdu" / "adcode" / f"fence_{code}.json")

    def to_wgs84(xy: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return gpd.GeoDataFrame(geometry=shapely.transform(fence.geometry.to_numpy(), to_wgs84), crs=4326)


@pytest.fixture(scope="module")
def areas_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Per district: its communities and its fence; a manifest of the four districts with communities."""
    folder = tmp_path_factory.mktemp("areas")
    comm = gpd.read_file(COMMUNITIES, layer="communities")
    rows = ["id,name,boundaries,area"]
    for code in sorted(comm["district_code"].unique()):
        _fence(code).to_file(folder / f"fence_{code}.geojson")
        part = comm[comm["district_code"] == code]
        part.to_file(folder / f"communities_{code}.gpkg", layer="communities")
        rows.append(f"{code},{part['district'].iloc[0]},communities_{code}.gpkg,fence_{code}.geojson")
    assert len(rows) - 1 >= 4
    (folder / "areas.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "broken.gpkg").write_bytes(b"this is not a GeoPackage\n" * 40)
    broken = [*rows, "broken,坏数据,broken.gpkg,"]
    (folder / "with_broken.csv").write_text("\n".join(broken) + "\n", encoding="utf-8")
    # eight smaller areas (sub-districts) for the run that is killed: no polygon, cut because they share the network
    subs = comm.groupby("subdistrict_code").size().sort_values(ascending=False).index[:8]
    sub_rows = ["id,name,boundaries"]
    for code in sorted(subs):
        part = comm[comm["subdistrict_code"] == code]
        part.to_file(folder / f"sub_{code}.gpkg", layer="communities")
        sub_rows.append(f"{code},{part['subdistrict'].iloc[0]},sub_{code}.gpkg")
    (folder / "subdistricts.csv").write_text("\n".join(sub_rows) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=logging.ERROR
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def batch(areas_dir: Path, client, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("batch")
    result = sc.assess_many(areas_dir / "with_broken.csv", client=client, out=out, quiet=True, **DEFAULTS)
    return result, out


@pytest.fixture(scope="module")
def serial(areas_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each district run the ordinary way: sc.run on the whole network, in this process, no Dask."""
    out = tmp_path_factory.mktemp("serial")
    runs = {}
    for path in sorted(areas_dir.glob("communities_*.gpkg")):
        code = path.stem.split("_")[1]
        runs[code] = sc.run(boundaries=path, out=out / code, progress=False, **DEFAULTS).outputs["geopackage"]
    return runs


def _merged(out: Path, layer: str, area_id: str) -> pd.DataFrame:
    frame = pyogrio.read_dataframe(out / "batch.gpkg", layer=layer)
    assert {"area_id", "area_name"} <= set(frame.columns)
    return frame[frame["area_id"] == area_id].drop(columns=["area_id", "area_name"]).reset_index(drop=True)


def test_good_areas_done_and_the_broken_one_fails_alone(batch, areas_dir: Path):
    result, out = batch
    s = result.summary.set_index("area_id")
    assert s.loc["broken", "status"] == "failed"
    error = s.loc["broken", "error"]
    assert "broken.gpkg" in error and "Fix:" in error and "\n" not in error
    good = [i for i in s.index if i != "broken"]
    assert len(good) >= 4 and (s.loc[good, "status"] == "done").all()
    assert (s.loc[good, "cut"] == True).all()  # noqa: E712 (a column)
    assert (s.loc[good, "cut_margin_m"] == 1250.0).all()  # meishan's widest radius 1000 m + max_snap 250 m
    assert (s.loc[good, "network_nodes"] < s.loc[good, "network_nodes_whole"]).all()
    assert not (out / "areas" / "broken").exists()
    listed = pd.read_csv(out / "batch_summary.csv", dtype={"area_id": str})
    assert list(listed["area_id"]) == list(s.index) and listed.loc[listed.area_id == "broken", "error"].item() == error


def test_merged_outputs_equal_the_serial_runs(batch, serial: dict[str, Path]):
    """Communities and gaps exactly as an ordinary run on the whole network gives them; the checks' numbers too."""
    _, out = batch
    for code, gpkg in serial.items():
        for layer in ("communities", "gaps"):
            alone = pyogrio.read_dataframe(gpkg, layer=layer)
            pd.testing.assert_frame_equal(_merged(out, layer, code), alone, check_dtype=False)
        cols = ["check", "communities_assessed", "communities_passed", "communities_failed", "citywide_coverage_pct",
                "uncovered_weight", "city_target", "city_passed"]  # fmt: skip
        alone = pyogrio.read_dataframe(gpkg, layer="summary")
        merged = _merged(out, "summary", code)
        pd.testing.assert_frame_equal(merged[cols], alone[cols], check_dtype=False)
        # facilities farther than the widest radius were left out of the area's run: they are counted, not hidden
        assert (merged["facilities"].fillna(0) <= alone["facilities"].fillna(0)).all()
        kept = pyogrio.read_dataframe(out / "areas" / code / "shortfall.gpkg", layer="warnings")
        assert "batch_cut_left_out" in set(kept["code"])


def test_merged_layers_are_the_areas_own_rows(batch):
    """Every merged row is one of an area's rows, tagged with it; the GeoParquet dataset holds the same rows."""
    result, out = batch
    done = result.summary.loc[result.summary["status"] == "done", "area_id"]
    for layer in MERGED_LAYERS:
        total = 0
        for code in done:
            own = pyogrio.read_dataframe(out / "areas" / code / "shortfall.gpkg", layer=layer)
            pd.testing.assert_frame_equal(_merged(out, layer, code), own, check_dtype=False)
            part = out / "merged" / layer / f"area={code}" / "part-0.parquet"
            parquet = gpd.read_parquet(part) if layer in ("communities", "gaps") else pd.read_parquet(part)
            assert (parquet["area_id"] == code).all() and len(parquet) == len(own)
            if layer in ("communities", "gaps"):
                assert parquet.crs == pyogrio.read_info(out / "batch.gpkg", layer=layer)["crs"] or parquet.crs
                assert shapely.equals_exact(parquet.geometry.to_numpy(), own.geometry.to_numpy(), 1e-9).all()
            total += len(own)
        assert len(pyogrio.read_dataframe(out / "batch.gpkg", layer=layer, read_geometry=False)) == total
    areas = pyogrio.read_dataframe(out / "batch.gpkg", layer="areas")
    assert len(areas) == len(result.summary) and areas.loc[areas.area_id == "broken", "geometry"].isna().all()
    page = (out / "areas_map.html").read_text(encoding="utf-8")
    assert "<svg" in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")
    assert all(name in page for name in result.summary["area_name"])


def test_a_facility_across_the_edge_counts(batch, areas_dir: Path):
    """With only the facilities inside the area, some community's coverage drops: those across the edge count."""
    _, out = batch
    net = sc.load_network(NETWORK, progress=False)
    fac = sc.read_facilities(FACILITIES, layer="facilities")
    green = sc.read_layer(FACILITIES, layer="greenspace")
    higher = 0
    for path in sorted(areas_dir.glob("communities_*.gpkg")):
        code = path.stem.split("_")[1]
        comm = sc.read_boundaries(path, id_column="code")
        core = area_core(comm, sc.read_layer(areas_dir / f"fence_{code}.geojson"), net.crs)
        inside = fac[sc.coords.to_crs(fac.geometry, net.crs).within(core).to_numpy()]
        assert len(inside) < len(fac)
        alone = sc.assess(comm, inside, net, greenspace=green, id_column="code", profile="meishan", progress=False)
        merged = _merged(out, "communities", code)
        cov = [c for c in merged.columns if c.startswith("cov_") and c in alone.communities]
        a = alone.communities[cov].to_numpy(dtype=float)
        b = merged[cov].to_numpy(dtype=float)
        assert (np.nan_to_num(b, nan=-1) >= np.nan_to_num(a, nan=-1) - 1e-9).all()
        higher += int((np.nan_to_num(b) > np.nan_to_num(a) + 1e-9).sum())
    assert higher > 0


def test_a_worker_killed_mid_task(areas_dir: Path, client, batch, tmp_path: Path):
    """SIGKILL to the worker process on an area: the area reruns elsewhere; nothing lost, nothing twice."""
    out = tmp_path / "killed"
    pids = client.run(os.getpid)
    done: dict[str, object] = {}

    def run() -> None:
        done["result"] = sc.assess_many(areas_dir / "areas.csv", client=client, out=out, quiet=True, **DEFAULTS)

    thread = threading.Thread(target=run)
    thread.start()
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and time.monotonic() < deadline and thread.is_alive():
        for tmp in (out / "areas").glob(".tmp-*"):  # .tmp-<area>-<pid>-<hex>: a worker on an area, mid-task
            pid = int(tmp.name.split("-")[2])
            if pid in pids.values():
                os.kill(pid, signal.SIGKILL)
                killed = pid
                break
        time.sleep(0.01)
    thread.join(timeout=300)
    assert killed is not None, "no worker was caught on an area"
    result = done["result"]
    assert (result.summary["status"] == "done").all(), result.summary[["area_id", "error"]]
    assert not any(str(w).endswith(f":{killed}") for w in result.summary["worker"])  # no record from the dead one
    assert not list((out / "areas").glob(".*")), "a killed attempt's temporary folder was left behind"
    _, first = batch
    for layer in MERGED_LAYERS:  # the same rows as the batch no worker was killed in, once each
        again = pyogrio.read_dataframe(out / "batch.gpkg", layer=layer)
        before = pyogrio.read_dataframe(first / "batch.gpkg", layer=layer)
        before = before[before["area_id"] != "broken"].reset_index(drop=True)
        pd.testing.assert_frame_equal(again, before, check_dtype=False)
    client.wait_for_workers(2, timeout=60)


def _published(out: Path) -> set[str]:
    """The areas whose folder is in place (a killed attempt's ``.tmp-…`` folder may hold a batch.json too)."""
    return {p.parent.name for p in (out / "areas").glob("*/batch.json") if not p.parent.name.startswith(".")}


def test_a_rerun_after_the_batch_is_killed_does_only_the_rest(areas_dir: Path, client, tmp_path: Path):
    """`servicecircle batch` killed (SIGKILL to its process group) after its first area: a rerun does the rest."""
    out = tmp_path / "rerun"
    manifest = areas_dir / "subdistricts.csv"
    cmd = [sys.executable, "-c", COMMAND, "batch", str(manifest), "--out", str(out), "--workers", "2",
           "--dashboard-address", ":0", "--quiet", *DEFAULT_FLAGS]  # fmt: skip
    log = tmp_path / "stderr.txt"
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stderr=err)
    deadline = time.monotonic() + 180
    while not _published(out):
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    for _ in range(200):  # the workers go with their group
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    finished = _published(out)
    ids = [r.split(",")[0] for r in manifest.read_text(encoding="utf-8").splitlines()[1:]]
    assert finished and len(finished) < len(ids)
    result = sc.assess_many(manifest, client=client, out=out, quiet=True, **DEFAULTS)
    status = result.summary.set_index("area_id")["status"]
    assert set(status[status == "unchanged"].index) == finished
    assert set(status[status == "done"].index) == set(ids) - finished
    comm = pyogrio.read_dataframe(out / "batch.gpkg", layer="communities", read_geometry=False)
    assert not comm.duplicated(["area_id", "code"]).any()
    assert len(comm) == sum(len(pyogrio.read_dataframe(out / "areas" / i / "shortfall.gpkg", layer="communities",
                                                       read_geometry=False)) for i in ids)  # fmt: skip
    assert not list((out / "areas").glob(".*"))
    again = sc.assess_many(manifest, client=client, out=out, quiet=True, **DEFAULTS)
    assert (again.summary["status"] == "unchanged").all()


def test_an_edited_input_reruns_only_its_area(areas_dir: Path, client, tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    for p in areas_dir.iterdir():
        if p.is_file():
            (folder / p.name).write_bytes(p.read_bytes())
    rows = (folder / "areas.csv").read_text(encoding="utf-8").splitlines()
    (folder / "areas.csv").write_text("\n".join(rows[:3]) + "\n", encoding="utf-8")  # two districts are enough
    out = tmp_path / "out"
    first = sc.assess_many(folder / "areas.csv", client=client, out=out, quiet=True, **DEFAULTS)
    assert (first.summary["status"] == "done").all() and len(first.summary) == 2
    edited = gpd.read_file(folder / "communities_510104.gpkg")
    edited.loc[0, "households"] = float(edited.loc[0, "households"] or 0) + 100
    edited.to_file(folder / "communities_510104.gpkg", layer="communities")
    again = sc.assess_many(folder / "areas.csv", client=client, out=out, quiet=True, **DEFAULTS).summary
    assert again.set_index("area_id")["status"].to_dict() == {
        i: ("done" if i == "510104" else "unchanged") for i in again["area_id"]
    }
    changed = sc.assess_many(folder / "areas.csv", client=client, out=out, quiet=True, max_snap=200, **DEFAULTS)
    assert (changed.summary["status"] == "done").all() and (changed.summary["cut_margin_m"] == 1200).all()


# ----------------------------------------------------------------------------------------- before any work
def test_margin_is_the_widest_radius_plus_max_snap():
    assert cut_margin(Options(profile="gb50180", max_snap=100)) == (1100.0, 1000.0)
    assert cut_margin(Options(profile="meishan")) == (1250.0, 1000.0)


def test_toml_manifest(tmp_path: Path):
    for name in ("a.gpkg", "f.gpkg", "big.osm.pbf"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "areas.toml").write_text(
        '[defaults]\nnetwork = "big.osm.pbf"\nfacilities = "f.gpkg"\nid_column = "code"\nmax_snap = 120\n\n'
        '[[area]]\nid = "A"\nname = "北区"\nboundaries = "a.gpkg"\n\n'
        '[[area]]\nid = "B"\nboundaries = "a.gpkg"\nmax_snap = 80\nexcel = true\n',
        encoding="utf-8",
    )
    a, b = read_manifest(tmp_path / "areas.toml")
    assert (a.id, a.name, b.name) == ("A", "北区", "B")
    assert a.inputs.network == tmp_path / "big.osm.pbf" and a.options.id_column == "code"
    assert (a.options.max_snap, b.options.max_snap, b.options.excel) == (120.0, 80.0, True)


@pytest.mark.parametrize(
    ("manifest", "extra", "words"),
    [
        ("id,name,boundary\nA,x,a.gpkg\n", [], "unknown column 'boundary' (did you mean 'boundaries'?)"),
        ("id,boundaries\nA,missing.gpkg\n", [], "the boundaries file"),
        ("id,boundaries\nA,a.gpkg\nA,a.gpkg\n", [], "area id A is given twice"),
        ("id,boundaries,max_snap\nA,a.gpkg,-5\n", [], "max_snap (--max-snap) must be a number above 0"),
        ("id,boundaries\nA/B,a.gpkg\n", [], "cannot name a folder"),
        ("id,boundaries,profile\nA,a.gpkg,meishn\n", [], "meishn"),
        ("id,boundaries\nA,a.gpkg\n", ["--memory-limit", "lots"], "memory_limit (--memory-limit)"),
        ("id,boundaries\nA,a.gpkg\n", ["--scheduler", "localhost"], "tcp://"),
        ("id,boundaries\nA,a.gpkg\n", ["--workers", "0"], "workers (--workers) must be at least 1"),
    ],
)
def test_bad_arguments_exit_2_before_any_work(tmp_path: Path, capsys, manifest: str, extra: list[str], words: str):
    for name in ("a.gpkg", "f.gpkg", "n.osm"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "m.csv").write_text(manifest, encoding="utf-8")
    args = ["batch", str(tmp_path / "m.csv"), "--out", str(tmp_path / "out"), "--facilities", str(tmp_path / "f.gpkg"),
            "--network", str(tmp_path / "n.osm"), *extra]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err
    assert not (tmp_path / "out").exists()


def test_an_area_with_its_own_network_is_loaded_whole(areas_dir: Path, client, tmp_path: Path):
    """One area, its own network file, no polygon: not cut; the same communities as `servicecircle run`."""
    (tmp_path / "one.csv").write_text(
        f"id,name,boundaries\n510104,锦江区,{areas_dir / 'communities_510104.gpkg'}\n", encoding="utf-8"
    )
    result = sc.assess_many(tmp_path / "one.csv", client=client, out=tmp_path / "out", quiet=True, **DEFAULTS)
    row = result.summary.iloc[0]
    assert row["status"] == "done" and row["cut"] == False  # noqa: E712 (a value of the frame)
    assert pd.isna(row["cut_margin_m"]) and row["network_nodes"] == sc.load_network(NETWORK, progress=False).n_nodes
    alone = sc.run(boundaries=areas_dir / "communities_510104.gpkg", out=tmp_path / "alone", progress=False, **DEFAULTS)
    pd.testing.assert_frame_equal(
        _merged(tmp_path / "out", "communities", "510104"),
        pyogrio.read_dataframe(alone.outputs["geopackage"], layer="communities"),
        check_dtype=False,
    )
