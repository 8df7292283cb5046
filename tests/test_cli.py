"""The command line: outputs on success, one plain line and exit code 2 on bad input."""

from __future__ import annotations

import re
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


def test_python_dash_m_servicecircle_is_the_command():
    r = subprocess.run([sys.executable, "-m", "servicecircle", "profiles"], capture_output=True, text=True)
    assert r.returncode == 0 and "meishan" in r.stdout
    r = subprocess.run([sys.executable, "-m", "servicecircle", "no-such-command"], capture_output=True, text=True)
    assert r.returncode == 2 and "no-such-command" in r.stderr


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


# ------------------------------------------------------------------ the terminal summary (issue 16)
def _summary_result(rows):
    """What ``_print_result`` reads: an assessment with a profile, a summary and warnings, and the outputs."""
    from types import SimpleNamespace

    summary = pd.DataFrame(
        rows, columns=["name_zh", "name_en", "city_value", "city_unit", "city_target", "communities_passed",
                       "communities_failed"],
    )  # fmt: skip
    profile = SimpleNamespace(name_zh="测试标准", name_en="Test profile")
    a = SimpleNamespace(profile=profile, summary=summary, warnings=pd.DataFrame())
    return SimpleNamespace(assessment=a, outputs={"geopackage": "g.gpkg", "summary": "s.csv"})


def _width(text):
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def test_terminal_summary_wraps_names_by_display_width_and_spells_m2_once(monkeypatch, capsys):
    from servicecircle.cli import _print_result

    nan = float("nan")
    result = _summary_result(
        [
            ("幼儿园", "Kindergarten", 2.3, "% of households", 100.0, 3, 7),
            ("人均体育场地面积", "Sports ground area per resident", 0.6, "m2/resident", 2.6, 7, 49),
            ("6个1：养老服务中心(日间照料中心)", "The six ones: Elderly service centre or day-care centre", nan,
             "% of communities", 100.0, nan, nan),
        ]
    )  # fmt: skip
    monkeypatch.setenv("COLUMNS", "80")
    _print_result(result, quiet=False)
    lines = capsys.readouterr().out.splitlines()
    # worked by hand: the numbers take 15 + 15 + 4 + 4 columns and four spaces, the names the other 38
    # (a Chinese character is two columns wide, so 检查项 takes six)
    assert lines[1:10] == [
        "测试标准  (Test profile)",
        "check 检查项" + " " * 26 + "   citywide 全市     target 目标 pass fail",
        "幼儿园 Kindergarten" + " " * 19 + "            2.3%          100.0%    3    7",
        "人均体育场地面积 Sports ground area" + " " * 3 + " 0.6 m²/resident 2.6 m²/resident    7   49",
        "  per resident",
        "6个1：养老服务中心(日间照料中心) The" + " " * 2 + "         no data          100.0%",  # NaN: no data, not 0
        "  six ones: Elderly service centre or",
        "  day-care centre",
        "",
    ]
    assert all(_width(line) <= 80 for line in lines)
    assert not any(re.search(r"\bm2\b", line) for line in lines)
    # a wide terminal: every name on one line, whole
    monkeypatch.setenv("COLUMNS", "200")
    _print_result(result, quiet=False)
    out = capsys.readouterr().out
    assert "6个1：养老服务中心(日间照料中心) The six ones: Elderly service centre or day-care centre " in out
    assert "人均体育场地面积 Sports ground area per resident " in out


def test_fmt_value_one_spelling_of_each_unit():
    from servicecircle.cli import _fmt_value

    assert _fmt_value(3.84, "m2/resident") == "3.8 m²/resident"
    assert _fmt_value(3.84, "m²/resident") == "3.8 m²/resident"
    assert _fmt_value(12345.0, "m2") == "12,345.0 m²"
    assert _fmt_value(26.24, "% of households") == "26.2%"
    assert _fmt_value(float("nan"), "%") == "—" and _fmt_value(None, "m2") == "—"


@pytest.mark.slow
@pytest.mark.parametrize("columns", [80, 120])
def test_demo_summary_never_cuts_a_check_name(columns, monkeypatch, capsys):
    """Every check name of the demo's summary is printed whole (wrapped if need be), and no ``m2``."""
    from types import SimpleNamespace

    from servicecircle.cli import _print_result
    from servicecircle.pipeline import assess_files, demo_inputs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = assess_files(**demo_inputs(DATA), progress=False)
    monkeypatch.setenv("COLUMNS", str(columns))
    _print_result(SimpleNamespace(assessment=a, outputs={"geopackage": "g", "summary": "s"}), quiet=False)
    out = capsys.readouterr().out
    assert len(a.summary) > 20
    for _, r in a.summary.iterrows():
        words = f"{r['name_zh']} {r['name_en']}".split()
        # word after word: on one line, or on the next (after the numbers that end the first line)
        pattern = r"(?: |[^\n]*\n  )".join(map(re.escape, words))
        assert re.search(pattern, out), f"{r['name_zh']} {r['name_en']} is cut"
    assert "m²/resident" in out
    assert not re.search(r"\bm2\b", out)
    # unconfirmed thresholds are marked where people look: a * before the name, and a note saying what it means
    for _, r in a.summary.iterrows():
        marked = f"*{r['name_zh']} " in out
        assert marked == (r["confirmed"] is False or r["confirmed"] == 0), r["name_zh"]
    assert "*未确认 unconfirmed threshold" in out
    assert all(_width(line) <= columns for line in out.splitlines() if not line.startswith(("眉山", "Gap", "Short")))
