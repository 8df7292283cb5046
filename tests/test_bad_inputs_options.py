"""Bad options and name clashes, and the exact message each gives (issue 12, "Nothing lost, nothing assumed").

The second round of the bad-input corpus (see ``tests/test_bad_inputs.py`` for what a
case is). Every number, choice and coordinate system a run takes is checked before
any file is read: zero, negative, infinite and NaN values, text where a number goes,
unknown choices and CRSs give the usual one line (``OptionError``), in Python and on
the command line alike (the same text: the option's Python name and its flag). Input
columns whose names servicecircle writes (in any letter case), or that the
GeoPackage reserves, are kept under ``input_<name>`` with a ``column_renamed``
warning, never overwritten or lost. A profile whose keys would make two checks write
the same columns is refused when it is read.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from servicecircle import settings
from servicecircle.errors import OptionError, ProfileError

from .badinputs import (  # noqa: F401  (the fixtures are used by name)
    Case,
    Inputs,
    _shared_network_cache,
    case,
    check_registry,
    good_inputs,
    network_cache,
    run_case,
    run_case_cli,
    source_files,
)

CASES: list[Case] = []
case = case(CASES)

FIX_SNAP = "give the farthest a point may be from a street, in metres (default 250)"
FIX_SPACING = "give the spacing of sampled demand points in metres (default 50)"
FIX_GAP = "give the gap grid's cell size in metres (default 20)"
FIX_OUT_CRS = "give a coordinate system GDAL knows, e.g. EPSG:4490 (CGCS2000) or EPSG:4326"
FIX_NET_CRS = "give a projected CRS in metres, e.g. EPSG:4544 (CGCS2000 / 3-degree Gauss-Kruger CM 105E)"
RENAMED = (
    "input {n} share{s} {their} name{plural} (ignoring case) with a column servicecircle writes, a reserved name or "
    "another input column, and {verb} kept under a new name: "
)


def renamed(n: int, pairs: str) -> str:
    one = n == 1
    text = RENAMED.format(
        n="column" if one else "columns",
        s="s" if one else "",
        their="its" if one else "their",
        plural="" if one else "s",
        verb="is" if one else "are",
    )
    return f"{n} {text}{pairs}"


# ----------------------------------------------------------- numbers


@case(OptionError, f"max_snap (--max-snap) must be a number above 0 m, not 0. Fix: {FIX_SNAP}", cli=True)
def max_snap_zero(w):
    """A snapping distance of 0 m (every point would be unsnapped: fully uncovered, silently)."""
    w.options["max_snap"] = "0"


@case(OptionError, f"max_snap (--max-snap) must be a number above 0 m, not -50. Fix: {FIX_SNAP}", cli=True)
def max_snap_negative(w):
    """A negative snapping distance."""
    w.options["max_snap"] = "-50"


@case(OptionError, f"max_snap (--max-snap) must be a finite number, not nan. Fix: {FIX_SNAP}", cli=True)
def max_snap_nan(w):
    """NaN as the snapping distance (every comparison with it is false)."""
    w.options["max_snap"] = "nan"


@case(OptionError, f"max_snap (--max-snap) must be a finite number, not inf. Fix: {FIX_SNAP}", cli=True)
def max_snap_infinite(w):
    """An infinite snapping distance (points kilometres off the streets would count)."""
    w.options["max_snap"] = "inf"


@case(OptionError, f"max_snap (--max-snap) must be a number, not 150m. Fix: {FIX_SNAP}", cli=True)
def max_snap_with_unit(w):
    """The unit typed into the number ("150m")."""
    w.options["max_snap"] = "150m"


@case(OptionError, f"sample_spacing (--sample-spacing) must be a number above 0 m, not 0. Fix: {FIX_SPACING}", cli=True)
def sample_spacing_zero(w):
    """A sampling spacing of 0 m (it used to fall back to the default in silence)."""
    w.options["sample_spacing"] = "0"


@case(OptionError, f"sample_spacing (--sample-spacing) must be a number above 0 m, not -25. Fix: {FIX_SPACING}")
def sample_spacing_negative(w):
    """A negative sampling spacing, from Python."""
    w.options["sample_spacing"] = -25


@case(OptionError, f"gap_resolution (--gap-resolution) must be a number above 0 m, not 0. Fix: {FIX_GAP}", cli=True)
def gap_resolution_zero(w):
    """A gap grid of 0 m cells."""
    w.options["gap_resolution"] = "0"


@case(OptionError, f"gap_resolution (--gap-resolution) must be a finite number, not nan. Fix: {FIX_GAP}")
def gap_resolution_nan(w):
    """NaN as the gap grid's cell size, from Python."""
    w.options["gap_resolution"] = float("nan")


@case(OptionError, "workers (--workers) must be at least 1, not 0. Fix: give 1 (no worker processes) or more", cli=True)
def workers_zero(w):
    """Zero worker processes."""
    w.options["workers"] = "0"


@case(
    OptionError,
    "workers (--workers) must be a whole number, not 1.5. Fix: give 1 (no worker processes) or more",
    cli=True,
)
def workers_fraction(w):
    """One and a half worker processes."""
    w.options["workers"] = "1.5"


@case(
    OptionError,
    "population_band (--population-band) must be at least 1, not 0. Fix: bands are numbered from 1",
    cli=True,
)
def population_band_zero(w):
    """Band 0 of a population raster (bands count from 1), refused before the raster is opened."""
    w.options["population_band"] = "0"


@case(
    OptionError,
    "settings.max_snap must be a number above 0 m, not 0. Fix: set servicecircle.settings.max_snap to metres above 0",
)
def setting_max_snap_zero(w):
    """settings.max_snap = 0 set for the session (not an option of the run): refused, not used."""
    w.monkeypatch.setattr(settings, "max_snap", 0)


@case(
    OptionError,
    "settings.sample_spacing must be a finite number, not inf. Fix: set servicecircle.settings.sample_spacing "
    "to metres above 0",
)
def setting_sample_spacing_infinite(w):
    """settings.sample_spacing = inf set for the session."""
    w.monkeypatch.setattr(settings, "sample_spacing", float("inf"))


# ----------------------------------------------------------- choices and coordinate systems


@case(
    OptionError,
    "output_crs (--out-crs): unknown coordinate system 'EPSG:99999'. Fix: " + FIX_OUT_CRS,
    cli=True,
)
def output_crs_unknown(w):
    """An output CRS GDAL does not know: refused before the run, not when the GeoPackage is written."""
    w.options["output_crs"] = "EPSG:99999"


@case(
    OptionError,
    "output_crs (--out-crs) cannot be GCJ02: that is a web-map datum for reading points, not a coordinate system to "
    "compute or write in. Fix: " + FIX_OUT_CRS,
    cli=True,
)
def output_crs_web_datum(w):
    """GCJ-02 as the output CRS (it is a way Amap shifts points, not a CRS GIS software can write)."""
    w.options["output_crs"] = "gcj02"


@case(
    OptionError,
    "network_crs (--network-crs) must be a projected coordinate system in metres, not WGS 84. Fix: " + FIX_NET_CRS,
    cli=True,
)
def network_crs_in_degrees(w):
    """Longitude/latitude as the analysis CRS (distances would be in degrees)."""
    w.options["network_crs"] = "EPSG:4326"


@case(
    OptionError,
    "basemap (--basemap) must be one of openstreetmap, tianditu, tianditu-imagery, none, not google. Fix: use one "
    "of: openstreetmap, tianditu, tianditu-imagery, none",
    cli=True,
)
def basemap_unknown(w):
    """A basemap servicecircle does not offer (one line, not argparse's usage text)."""
    w.options["basemap"] = "google"


@case(
    OptionError,
    "keep_components (--keep-components) must be one of largest, all, not larges (did you mean 'largest'?). "
    "Fix: use one of: largest, all",
    cli=True,
)
def keep_components_unknown(w):
    """A near miss for 'largest'."""
    w.options["keep_components"] = "larges"


@case(
    OptionError,
    "unknown option 'households_colum' for servicecircle.run (did you mean 'households_column'?). "
    "Fix: see servicecircle.options",
)
def option_name_misspelt(w):
    """A misspelt keyword argument of run()."""
    w.options["households_colum"] = "hh"


@case(OptionError, "out (--out) is a file, not a folder: {dir}/out. Fix: give a folder for the outputs")
def out_is_a_file(w):
    """The output folder's name is taken by a file: refused before the run, not after it."""
    (w.dir / "out").write_text("not a folder", encoding="utf-8")


# ----------------------------------------------------------- profiles whose checks would share columns

PROFILE_HEAD = """schema = "servicecircle-profile/1"
key = "clash"
name_zh = "测试"
name_en = "Test"
source = "test"
extends = "meishan"
"""


def _profile(w: Inputs, body: str) -> None:
    path = w.dir / "clash.toml"
    path.write_text(PROFILE_HEAD + body, encoding="utf-8")
    w.options["profile"] = path


@case(
    ProfileError,
    "{dir}/clash.toml: [categories.green] the key 'green' gives output columns the names green rule 'green' "
    "writes (e.g. dist_green), and one would overwrite the other. Fix: give categories.green another key",
    cli=True,
)
def profile_category_named_like_a_green_rule(w):
    """A facility category keyed 'green' in a profile that also has the green-space rule 'green'."""
    _profile(
        w,
        '\n[categories.green]\nname_zh = "绿化设施"\nname_en = "Green facility"\nlevel = "l15"\n'
        'radius_m = 500\nsource = "test"\n',
    )


@case(
    ProfileError,
    "{dir}/clash.toml: [categories.floor_area] the key 'floor_area' gives output columns the names the built-in "
    "floor-area check writes (e.g. pass_floor_area), and one would overwrite the other. Fix: give "
    "categories.floor_area another key",
)
def profile_category_named_like_a_built_in_check(w):
    """A facility category keyed 'floor_area' (the floor-area check's own key)."""
    _profile(
        w,
        '\n[categories.floor_area]\nname_zh = "面积"\nname_en = "Area"\nlevel = "l15"\n'
        'radius_m = 500\nsource = "test"\n',
    )


# ----------------------------------------------------------- input columns named like output columns


def _facility_column_kept(column: str, new: str, values: list):
    def check(result, w):
        fac = result.assessment.facilities
        assert list(fac[new]) == values, f"{new} must hold the input's {column}"
        fields = result.assessment.input_columns["facilities"]
        assert fields[new] == column

    return check


@case(
    None,
    "{facilities}: " + renamed(1, "'snap_m' → 'input_snap_m'"),
    code="column_renamed",
    check=_facility_column_kept("snap_m", "input_snap_m", ["a", "b", "c", "d", "e"]),
)
def facility_column_named_snap_m(w):
    """A facility column 'snap_m' (servicecircle writes the snapping distance under that name)."""
    t = w.facility_table()
    t["snap_m"] = list("abcde")[: len(t)] + ["x"] * max(0, len(t) - 5)
    w.write_facilities(t.iloc[:5])


@case(
    None,
    "{facilities}: " + renamed(1, "'COMMUNITY_ID' → 'input_COMMUNITY_ID'"),
    code="column_renamed",
    check=_facility_column_kept("COMMUNITY_ID", "input_COMMUNITY_ID", ["1", "2", "3", "4", "5"]),  # CSV: text
)
def facility_column_named_like_an_output_in_capitals(w):
    """'COMMUNITY_ID' in capitals (GeoPackage column names ignore case, so it would clash)."""
    t = w.facility_table().iloc[:5].copy()
    t["COMMUNITY_ID"] = [1, 2, 3, 4, 5]
    w.write_facilities(t)


@case(
    None,
    "{facilities}: " + renamed(2, "'NAME' → 'input_NAME', 'fid' → 'input_fid'"),
    code="column_renamed",
    check=_facility_column_kept("NAME", "input_NAME", ["甲", "乙", "丙", "丁", "戊"]),
)
def facility_columns_differing_only_in_case_and_fid(w):
    """'name' and 'NAME' side by side, and a text column 'fid' (the GeoPackage's row id)."""
    t = w.facility_table().iloc[:5].copy()
    t["NAME"] = ["甲", "乙", "丙", "丁", "戊"]
    t["fid"] = ["f1", "f2", "f3", "f4", "f5"]
    w.write_facilities(t)


@case(
    None,
    "{facilities}: " + renamed(1, "'geometry' → 'input_geometry'"),
    code="column_renamed",
    check=_facility_column_kept("geometry", "input_geometry", ["南门", "北门", "东门", "西门", "中门"]),
)
def facility_csv_with_a_geometry_text_column(w):
    """A CSV whose text column 'geometry' (an address note) would be overwritten by the points built from lon/lat."""
    t = w.facility_table().iloc[:5].copy()
    t["geometry"] = ["南门", "北门", "东门", "西门", "中门"]
    w.write_facilities(t)


def _community_column_kept(column: str, new: str):
    def check(result, w):
        comm = result.assessment.communities
        assert comm[new].tolist() == [10.0 * k for k in range(len(comm))]
        assert result.assessment.input_columns["communities"][new] == column
        assert np.isfinite(comm["cov_kindergarten"].to_numpy(dtype=float)).any()  # servicecircle's own column

    return check


@case(
    None,
    "{boundaries}: " + renamed(1, "'Cov_Kindergarten' → 'input_Cov_Kindergarten'"),
    code="column_renamed",
    check=_community_column_kept("Cov_Kindergarten", "input_Cov_Kindergarten"),
)
def community_column_named_like_a_coverage_column(w):
    """A community column 'Cov_Kindergarten' (a planner's own coverage figure) beside servicecircle's."""
    c = w.communities()
    c["Cov_Kindergarten"] = [10.0 * k for k in range(len(c))]
    w.write_boundaries(c, layer="communities")


@case(
    None,
    "{boundaries}: " + renamed(1, "'n_demand' → 'input_n_demand'"),
    code="column_renamed",
    check=_community_column_kept("n_demand", "input_n_demand"),
)
def community_column_named_n_demand(w):
    """A community column 'n_demand' (servicecircle counts the demand points under that name)."""
    c = w.communities()
    c["n_demand"] = [10.0 * k for k in range(len(c))]
    w.write_boundaries(c, layer="communities")


# --------------------------------------------------------------------------- #
# running the catalogue
# --------------------------------------------------------------------------- #

IDS = [c.name for c in CASES]


def test_the_corpus_grows_by_every_class():
    check_registry(CASES, 25)


@pytest.mark.parametrize("bad", CASES, ids=IDS)
def test_bad_option_gives_its_exact_message(bad: Case, good_inputs: Inputs, monkeypatch):
    run_case(bad, good_inputs, monkeypatch)


CLI_CASES = [c for c in CASES if c.cli]


@pytest.mark.parametrize("bad", CLI_CASES, ids=[c.name for c in CLI_CASES])
def test_bad_option_on_the_command_line(bad: Case, good_inputs: Inputs, network_cache):
    run_case_cli(bad, good_inputs, network_cache)


# ----------------------------------------------------------- servicecircle propose: the siting numbers

PROPOSE = [
    (["--k", "0"], "k (--k) must be at least 1, not 0. Fix: give how many new sites to propose (1 or more)"),
    (["--k", "2.5"], "k (--k) must be a whole number, not 2.5. Fix: give how many new sites to propose (1 or more)"),
    (
        ["--k", "3", "--capacity", "0"],
        "capacity (--capacity) must be a number above 0, not 0. Fix: give the households or residents one site can "
        "serve (above 0)",
    ),
    (
        ["--k", "3", "--time-limit", "-1"],
        "time_limit (--time-limit) must be a number above 0 s, not -1. Fix: give the solver's time limit in seconds",
    ),
    (
        ["--k", "3", "--candidate-spacing", "nan"],
        "candidate_spacing (--candidate-spacing) must be a finite number, not nan. Fix: give a spacing in metres "
        "(default 50)",
    ),
    (
        ["--k", "3", "--objective", "cover"],
        "objective (--objective) must be one of max_cover, set_cover, not cover (did you mean 'set_cover'?). Fix: "
        "use one of: max_cover, set_cover",
    ),
]


@pytest.mark.parametrize("extra,message", PROPOSE, ids=[" ".join(p[0]) for p in PROPOSE])
def test_propose_refuses_bad_numbers_before_the_run(extra, message, good_inputs: Inputs, network_cache):
    w = good_inputs
    args = [a if a != "run" else "propose" for a in w.cli_args()] + ["--check", "kindergarten", *extra]
    env = dict(os.environ, SERVICECIRCLE_CACHE=str(network_cache))
    r = subprocess.run([sys.executable, "-m", "servicecircle.cli", *args], capture_output=True, text=True, env=env)
    assert r.returncode == 2, r.stderr
    assert r.stderr == f"servicecircle: error 错误: {message}\n"
    assert not (w.dir / "out").exists()


def test_propose_sites_checks_its_numbers_in_python_too(good_inputs: Inputs):
    from servicecircle.siting import propose_sites

    with pytest.raises(OptionError, match=r"^k \(--k\) must be at least 1, not 0\."):
        propose_sites(None, "kindergarten", k=0)  # refused before the assessment is even looked at
    with pytest.raises(OptionError, match=r"^capacity \(--capacity\) must be a finite number, not inf\."):
        propose_sites(None, "kindergarten", k=2, capacity=float("inf"))


def test_unchanged_columns_keep_their_names(good_inputs: Inputs):
    """The rule renames only what clashes: every other input column keeps its name and values."""
    from servicecircle.pipeline import run

    w = good_inputs
    t = w.facility_table().iloc[:5].copy()
    t["operator"] = ["甲", "乙", "丙", "丁", "戊"]
    w.write_facilities(t)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = run(w.boundaries, w.facilities, w.network, out=w.dir / "o", **w.options).assessment
    assert a.facilities["operator"].tolist() == t["operator"].tolist()
    assert not any(str(c).startswith("input_") for c in a.facilities.columns)
    assert a.input_columns["facilities"]["operator"] == "operator"
    fields = pd.DataFrame(a.input_columns["facilities"].items(), columns=["out", "in"])
    assert (fields["out"] == fields["in"]).all()
