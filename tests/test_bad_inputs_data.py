"""Bad inputs whose data is unknown or ambiguous, and the exact message each one gives (issue 12).

"Nothing lost, nothing assumed in silence": each case below feeds servicecircle
data that it could silently get wrong — a population raster whose cells are
nodata, a layer on a datum PROJ cannot transform exactly, a community that
encloses no land, a category that only looks like a profile name, a network
loaded from a cache another copy of the file built — and states the *whole*
message that must come out (the warning code and ``str(warning)``; for
errors, the class and ``str(exc)``), and, in its ``check``, what must follow
from it: a community whose residents are unknown gets no pass/fail (its pass
column is NA, its households ``nan``, never 0), and so on.

The machinery (the good inputs, :class:`~tests.badinputs.Case`,
:func:`~tests.badinputs.run_case`, :func:`~tests.badinputs.run_case_cli`) is
``tests/badinputs.py``, shared with ``tests/test_bad_inputs.py``; read that
module's docstring for the good inputs: 石油社区 and the five communities
around it (demo boundaries, CGCS2000), their OSM kindergartens and primary
schools (WGS84 lon/lat CSV) and the demo's OSM extract of central Chengdu.

The population rasters are written here over those six communities: 100 m
cells in EPSG:4544 (CGCS2000 / 3-degree Gauss-Krüger CM 105E, the network's
CRS), aligned to whole hundreds of metres, 20 people per known cell.
"""

from __future__ import annotations

import math
import shutil
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from servicecircle import settings
from servicecircle.errors import DataWarning, InputDataError

from .badinputs import (  # noqa: F401  (the fixtures are used by name)
    CODES,
    GK,
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
from .conftest import CHENGDU_OSM

CASES: list[Case] = []
case = case(CASES)

#: the reach checks of the good inputs' two facility categories
REACH = ("kindergarten", "primary_school")
CELL = 100.0  # metres
PEOPLE = 20.0  # per known cell


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #


def _grid(w: Inputs) -> tuple[float, float, int, int]:
    """(x0, y1, width, height) of a 100 m grid in EPSG:4544 covering the six communities."""
    x0, y0, x1, y1 = w.communities().to_crs(GK).total_bounds
    gx0, gy1 = math.floor(x0 / CELL) * CELL, math.ceil(y1 / CELL) * CELL
    return gx0, gy1, math.ceil((x1 - gx0) / CELL), math.ceil((gy1 - y0) / CELL)


def _write_raster(w: Inputs, unknown, *, nodata: float | None = -99999.0, name: str = "worldpop.tif") -> Path:
    """A population raster of 20 people per cell, ``unknown(x, y)`` (cell centres, metres) marking nodata cells.

    With ``nodata=None`` the unknown cells are NaN and the file declares no nodata value.
    """
    import rasterio

    gx0, gy1, width, height = _grid(w)
    cx = gx0 + CELL * (np.arange(width) + 0.5)
    cy = gy1 - CELL * (np.arange(height) + 0.5)
    xx, yy = np.meshgrid(cx, cy)
    data = np.full((height, width), PEOPLE, dtype="float32")
    data[unknown(xx, yy)] = np.nan if nodata is None else nodata
    path = w.dir / name
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=1,
        dtype="float32",
        crs=GK,
        transform=rasterio.Affine(CELL, 0, gx0, 0, -CELL, gy1),
        nodata=nodata,
    ) as dst:
        dst.write(data, 1)
    w.options["population"] = path
    return path


def _cells_under(w: Inputs, unknown) -> tuple[int, int, np.ndarray]:
    """By hand, with shapely: cells under the communities, unknown ones among them, unknown area per community."""
    gx0, gy1, width, height = _grid(w)
    comm = np.asarray(w.communities().to_crs(GK).geometry.values, dtype=object)
    union = shapely.union_all(comm)
    n_cells = n_unknown = 0
    unknown_area = np.zeros(len(comm))
    for i in range(height):
        for j in range(width):
            box = shapely.box(gx0 + CELL * j, gy1 - CELL * (i + 1), gx0 + CELL * (j + 1), gy1 - CELL * i)
            if shapely.area(shapely.intersection(box, union)) <= 0:
                continue
            n_cells += 1
            if unknown(np.array(gx0 + CELL * (j + 0.5)), np.array(gy1 - CELL * (i + 0.5))):
                n_unknown += 1
                unknown_area += shapely.area(shapely.intersection(comm, box))
    return n_cells, n_unknown, unknown_area


def _without_population_columns(w: Inputs) -> None:
    """The boundaries without their households and residents: the raster is the only source of residents."""
    w.write_boundaries(w.communities().drop(columns=["households", "residents"]), layer="communities")


def _reach_verdicts(result) -> pd.DataFrame:
    comm = result.assessment.communities.set_index("code")
    return comm[[f"pass_{k}" for k in REACH]]


def _no_reach_verdict(result, codes) -> None:
    """These communities have no coverage and no pass/fail in the reach checks; the others have both."""
    comm = result.assessment.communities.set_index("code")
    verdicts = _reach_verdicts(result)
    for code in CODES:
        unknown = code in codes
        for k in REACH:
            assert pd.isna(verdicts.loc[code, f"pass_{k}"]) == unknown, (code, k)
            assert np.isnan(comm.loc[code, f"cov_{k}"]) == unknown, (code, k)
    # their demand points carry an unknown weight, never 0
    demand = result.assessment.demand
    mine = demand["community_id"].isin(list(codes)).to_numpy()
    assert np.isnan(demand["weight"].to_numpy()[mine]).all()
    assert np.isfinite(demand["weight"].to_numpy()[~mine & demand["community_id"].notna().to_numpy()]).all()


def _west(x, y):
    """Cells whose centre lies west of x = 412,500 m: under 510106030001, 510106030008 and 510108006002."""
    return x < 412_500.0


WEST = ["510106030001", "510106030008", "510108006002"]


# --------------------------------------------------------------------------- #
# 1. population rasters: unknown is never zero
# --------------------------------------------------------------------------- #


def _all_unknown_no_columns(result, w):
    _no_reach_verdict(result, CODES)
    comm = result.assessment.communities
    # residents and households unknown (nan), not the 3.6e-05 households that nodata-as-0 gave
    assert comm["weight_total"].isna().all()
    demand = result.assessment.demand
    assert demand["residents"].isna().all() and demand["households"].isna().all()
    state = result.assessment.state.demand
    assert np.isnan(state.households).all() and np.isnan(state.residents).all()
    assert (comm["checks_failed"] == 0).all()  # no verdict anywhere, never a fail
    n_cells, n_unknown, _ = _cells_under(w, lambda x, y: np.ones_like(x, dtype=bool))
    assert (n_cells, n_unknown) == (441, 441)
    assert "population_from_raster" not in set(result.assessment.warnings["code"])


@case(
    None,
    "{dir}/worldpop.tif: all 441 raster cells under the communities are nodata or NaN: their population is unknown, "
    "not 0, so the residents of all 6 communities are unknown and the reach checks give them no pass/fail; check "
    "the raster's nodata value and band, or use a raster with data there (first: feature #1)",
    code="population_unknown",
    check=_all_unknown_no_columns,
)
def raster_all_nodata(w):
    """A WorldPop-style raster (nodata -99999) that is nodata over the whole study area; the boundaries carry no
    households or residents, so every community's residents are unknown: no pass/fail, households nan (not 0)."""
    _without_population_columns(w)
    _write_raster(w, lambda x, y: np.ones_like(x, dtype=bool))


def _all_unknown_households_kept(result, w):
    _no_reach_verdict(result, CODES)
    comm = result.assessment.communities.set_index("code")
    good = w.communities().set_index("code")
    # the boundaries' own households are known and stay as they are
    assert result.assessment.state.demand.households.tolist() == good.loc[CODES, "households"].tolist()
    assert comm["weight_total"].isna().all()


@case(
    None,
    "{dir}/worldpop.tif: all 441 raster cells under the communities are nodata or NaN: their population is unknown, "
    "not 0, so the residents of all 6 communities are unknown and the reach checks give them no pass/fail; check "
    "the raster's nodata value and band, or use a raster with data there (first: feature #1)",
    code="population_unknown",
    check=_all_unknown_households_kept,
)
def raster_all_nan_without_nodata_tag(w):
    """A float raster that is NaN over the whole study area and declares no nodata value at all; the boundaries
    keep their households: where those households live is unknown, so no reach check gives a pass/fail."""
    _write_raster(w, lambda x, y: np.ones_like(x, dtype=bool), nodata=None)


def _half_unknown(result, w):
    _no_reach_verdict(result, WEST)
    n_cells, n_unknown, area = _cells_under(w, _west)
    assert (n_cells, n_unknown) == (441, 87)
    share = area / w.communities().to_crs(GK).area.to_numpy()
    assert round(100 * share[1]) == 86  # the first community on unknown cells, #2 (510106030001)
    assert (share[[1, 2, 4]] > 0).all() and (share[[0, 3, 5]] == 0).all()
    # the known communities' residents come from the known cells, 20 per cell pro rata
    demand = result.assessment.demand
    known = demand[demand["community_id"] == CODES[0]]
    assert math.isclose(known["residents"].sum(), PEOPLE * w.communities().to_crs(GK).area[0] / CELL**2, rel_tol=1e-9)


@case(
    None,
    "{dir}/worldpop.tif: 87 of the 441 raster cells under the communities are nodata or NaN: their population is "
    "unknown, not 0, so the residents of 3 communities with area on them are unknown (#2: 86% of its area) and the "
    "reach checks give them no pass/fail; fill those cells (with 0 where nobody lives) or use a raster with data "
    "there (first: feature #2)",
    code="population_unknown",
    check=_half_unknown,
)
def raster_west_half_nodata(w):
    """A raster whose cells west of x = 412,500 m (EPSG:4544) are nodata: the three communities reaching there get
    no reach verdict (not one over their known cells only); the three east of it are assessed as usual."""
    _write_raster(w, _west)


def _west_unknown_no_columns(result, w):
    _no_reach_verdict(result, WEST)
    state = result.assessment.state.demand
    west = [CODES.index(c) for c in WEST]
    east = [i for i in range(6) if i not in west]
    assert np.isnan(state.residents[west]).all() and np.isnan(state.households[west]).all()
    # the others' residents: 20 people per cell, pro rata of area
    area = w.communities().to_crs(GK).area.to_numpy()
    assert np.allclose(state.residents[east], PEOPLE * area[east] / CELL**2, rtol=1e-9)


@case(
    None,
    "{dir}/worldpop.tif: 87 of the 441 raster cells under the communities are nodata or NaN: their population is "
    "unknown, not 0, so the residents of 3 communities with area on them are unknown (#2: 86% of its area) and the "
    "reach checks give them no pass/fail; fill those cells (with 0 where nobody lives) or use a raster with data "
    "there (first: feature #2)",
    code="population_unknown",
    check=_west_unknown_no_columns,
)
def raster_west_half_nan_residents_from_raster(w):
    """The same half-unknown raster with NaN cells (no nodata tag), and boundaries without households or
    residents: the raster gives the residents of the three eastern communities; the western three stay nan."""
    _without_population_columns(w)
    _write_raster(w, _west, nodata=None)


def _one_cell(x, y):
    """The one cell whose centre is (413,050, 3,395,450): inside 石油社区 (510108002003), away from its edges."""
    return (np.abs(x - 413_050.0) < 1) & (np.abs(y - 3_395_450.0) < 1)


def _one_cell_unknown(result, w):
    _no_reach_verdict(result, [CODES[0]])
    n_cells, n_unknown, area = _cells_under(w, _one_cell)
    assert (n_cells, n_unknown) == (441, 1)
    assert area[0] == pytest.approx(CELL**2) and (area[1:] == 0).all()  # the whole cell, in 石油社区 only
    assert round(100 * CELL**2 / w.communities().to_crs(GK).area[0]) == 3


@case(
    None,
    "{dir}/worldpop.tif feature #1: 1 of the 441 raster cells under the communities is nodata or NaN: its "
    "population is unknown, not 0, so the residents of 1 community with area on them are unknown (#1: 3% of its "
    "area) and the reach checks give it no pass/fail; fill those cells (with 0 where nobody lives) or use a raster "
    "with data there",
    code="population_unknown",
    check=_one_cell_unknown,
)
def raster_one_nodata_cell(w):
    """One nodata cell in the middle of 石油社区 (3% of its area): strict, the community gets no reach verdict."""
    _write_raster(w, _one_cell)


def _all_assessed(result, w):
    _no_reach_verdict(result, [])


@case(None, None, code="population_unknown", check=_all_assessed)
def raster_fully_known(w):
    """A raster with people in every cell (nodata declared, but no cell is nodata): no population_unknown warning,
    and every community has its reach verdicts."""
    _write_raster(w, lambda x, y: np.zeros_like(x, dtype=bool))


@case(
    InputDataError,
    "{dir}/worldpop.tif: a population cell is -5 at row 10, column 3 (1 such cells in the window). Fix: population "
    "must be 0 or more; set the raster's nodata value if that is what it means",
    cli=True,
)
def raster_negative_cell_without_nodata_tag(w):
    """A raster with a -5 cell and no nodata value declared: not taken as nodata (nor as 0), refused."""
    path = _write_raster(w, lambda x, y: np.zeros_like(x, dtype=bool), name="worldpop.tif")
    import rasterio

    with rasterio.open(path, "r+") as dst:
        data = dst.read(1)
        data[10, 3] = -5
        dst.write(data, 1)
        dst.nodata = None


# --------------------------------------------------------------------------- #
# 2. a datum PROJ cannot transform exactly
# --------------------------------------------------------------------------- #


def _positions_as_given(result, w):
    """A ballpark shift is a null shift: the communities come out where the file put them, number for number."""
    got = result.assessment.communities.to_crs(4490).geometry
    given = gpd.read_file(w.boundaries).geometry.values
    assert shapely.equals_exact(got.values, given, tolerance=1e-9).all()
    codes = result.assessment.warnings["code"].tolist()
    assert codes.count("datum_ballpark") == 1  # read once, reported once; not again when transformed


DATUM_FIX = (
    "reproject the layer in a GIS with the official transformation parameters, "
    "or give the layer in CGCS2000 (EPSG:4490)"
)


@case(
    None,
    "{boundaries}: the layer is in Xian 1980 (EPSG:4610), which PROJ can transform to China Geodetic Coordinate "
    "System 2000 (EPSG:4490) or WGS 84 (EPSG:4326) only with a ballpark (null) datum shift: the positions of its 6 "
    "features may be off by up to ~100 m or more; " + DATUM_FIX,
    code="datum_ballpark",
    check=_positions_as_given,
)
def boundaries_in_xian_1980(w):
    """The boundaries reprojected to Xian 1980 (EPSG:4610) with pyproj and written with that CRS."""
    w.write_boundaries(w.communities().to_crs(4610), layer="communities")


@case(
    None,
    "{boundaries}: the layer is in Xian 1980 / 3-degree Gauss-Kruger CM 105E (EPSG:2380), which PROJ can transform "
    "to China Geodetic Coordinate System 2000 (EPSG:4490) or WGS 84 (EPSG:4326) only with a ballpark (null) datum "
    "shift: the positions of its 6 features may be off by up to ~100 m or more; " + DATUM_FIX,
    code="datum_ballpark",
)
def boundaries_in_xian_1980_gauss_kruger(w):
    """The boundaries in Xian 1980 / 3-degree Gauss-Krüger CM 105E (EPSG:2380), as many district CAD exports are."""
    w.write_boundaries(w.communities().to_crs(2380), layer="communities")


@case(
    None,
    "{boundaries}: the layer is in Beijing 1954 / 3-degree Gauss-Kruger CM 105E (EPSG:2432), which PROJ can "
    "transform to China Geodetic Coordinate System 2000 (EPSG:4490) or WGS 84 (EPSG:4326) only with a ballpark "
    "(null) datum shift: the positions of its 5 features may be off by up to ~100 m or more; " + DATUM_FIX,
    code="datum_ballpark",
)
def boundaries_in_beijing_1954_with_one_empty(w):
    """The boundaries in Beijing 1954 / 3-degree GK CM 105E (EPSG:2432), one of them without geometry: the
    warning counts the 5 features that have a position."""
    c = w.communities().to_crs(2432)
    c.loc[4, "geometry"] = None
    w.write_boundaries(c, layer="communities")


def _facilities_in_beijing(result, w):
    t = w.facility_table()
    assert len(t) == 5 and t["category"].value_counts().to_dict() == {"primary_school": 3, "kindergarten": 2}
    assert result.assessment.warnings["code"].tolist().count("datum_ballpark") == 1


@case(
    None,
    "{facilities}: the layer is in Beijing 1954 (EPSG:4214), which PROJ can transform to China Geodetic Coordinate "
    "System 2000 (EPSG:4490) or WGS 84 (EPSG:4326) only with a ballpark (null) datum shift: the positions of its 5 "
    "features may be off by up to ~100 m or more; " + DATUM_FIX,
    code="datum_ballpark",
    check=_facilities_in_beijing,
)
def facilities_csv_in_beijing_1954(w):
    """The facilities CSV declared as Beijing 1954 longitude/latitude (--facilities-crs EPSG:4214). PROJ has
    Beijing 1954 → WGS84 transformations for some oil fields, none for Chengdu: the ballpark one is used there."""
    w.options["facilities_crs"] = "EPSG:4214"


@case(None, None, code="datum_ballpark")
def boundaries_in_wgs84_utm(w):
    """The boundaries in WGS 84 / UTM 48N (EPSG:32648): PROJ's null shift WGS84 → CGCS2000 is right to
    centimetres, so nothing is reported."""
    w.write_boundaries(w.communities().to_crs(32648), layer="communities")


# --------------------------------------------------------------------------- #
# 3. a community of zero area
# --------------------------------------------------------------------------- #


def _zero_area(positions):
    def check(result, w):
        comm = result.assessment.communities
        assert comm["code"].tolist() == CODES  # kept
        for i, code in enumerate(CODES):
            for k in REACH:
                assert pd.isna(comm[f"pass_{k}"].iloc[i]) == (i in positions), (code, k)
        assert comm["n_demand"].iloc[positions].eq(0).all()
        assert comm.geometry.iloc[positions].is_empty.all()
        assert "repaired_geometry" not in set(result.assessment.warnings["code"])

    return check


@case(
    None,
    "{boundaries} feature #3 (code=510106030008): 1 boundary has zero area (it collapsed to nothing when it was "
    "repaired); it is kept in the outputs with no results",
    code="zero_area_community",
    check=_zero_area([2]),
)
def degenerate_community(w):
    """星辉东路社区 digitised as a degenerate ring: its four points lie on one east-west line, exactly (GEOS calls it
    self-intersecting; make_valid leaves an empty polygon)."""
    c = w.communities()
    x0, y0, x1, _ = c.geometry[2].bounds
    c.loc[2, "geometry"] = shapely.Polygon([(x0, y0), (x1, y0), ((x0 + x1) / 2, y0), (x0, y0)])
    w.write_boundaries(c, layer="communities")


@case(
    None,
    "{boundaries}: 2 boundaries have zero area (the first encloses no land: its points lie on a line, to within "
    "rounding); they are kept in the outputs with no results (first: feature #2 (code=510106030001))",
    code="zero_area_community",
    check=_zero_area([1, 4]),
)
def nearly_collinear_slivers(w):
    """Two communities drawn as a diagonal line and back, their middle point on the line up to rounding: a valid
    polygon to GEOS, of about 1e-17 square degrees (though 14 m² and 24 m² once projected to metres, where the
    straight edges in degrees bend)."""
    c = w.communities()
    for i in (1, 4):
        x0, y0, x1, y1 = c.geometry[i].bounds
        ring = [(x0, y0), ((x0 + x1) / 2, (y0 + y1) / 2), (x1, y1), (x0, y0)]
        assert 0 < shapely.Polygon(ring).area < 1e-12 and shapely.Polygon(ring).is_valid
        c.loc[i, "geometry"] = shapely.Polygon(ring)
    w.write_boundaries(c, layer="communities")


# --------------------------------------------------------------------------- #
# 4. categories that only look like a profile name
# --------------------------------------------------------------------------- #


def _taken_as(values: dict[str, str]):
    def check(result, w):
        fac = result.assessment.facilities
        for value, key in values.items():
            rows = fac[fac["category"] == value]
            assert len(rows) and (rows["category_key"] == key).all() and rows["in_profile"].all(), value
        assert "category_not_in_profile" not in set(result.assessment.warnings["code"])

    return check


def _retype(w: Inputs, category: str, value: str, first: int | None = None) -> int:
    """Write ``value`` for the facilities of ``category`` (the ``first`` of them only, if given); how many."""
    t = w.facility_table()
    rows = np.flatnonzero((t["category"] == category).to_numpy())[:first]
    t.loc[rows, "category"] = value
    w.write_facilities(t)
    return len(rows)


@case(
    None,
    "{facilities}: 1 facility has a category that matches profile 'meishan' only once invisible or look-alike "
    "characters are dropped or replaced (invisible ones shown escaped): 'kindergarten\\u200b' (1) taken as "
    "'kindergarten'; correct the category column if that is not what was meant",
    code="category_normalised",
    check=_taken_as({"kindergarten\u200b": "kindergarten", "kindergarten": "kindergarten"}),
)
def category_with_zero_width_space(w):
    """One kindergarten's category is 'kindergarten' followed by a zero-width space (U+200B), as text copied from a
    web page carries: it is taken as kindergarten, and the message shows the value escaped."""
    assert _retype(w, "kindergarten", "kindergarten\u200b", first=1) == 1


@case(
    None,
    "{facilities}: 5 facilities have categories that match profile 'meishan' only once invisible or look-alike "
    "characters are dropped or replaced (invisible ones shown escaped): 'primary\\u00a0school' (3) taken as "
    "'primary_school', '\\ufeffkindergarten' (2) taken as 'kindergarten'; correct the category column if that is "
    "not what was meant",
    code="category_normalised",
    check=_taken_as({"primary\xa0school": "primary_school", "\ufeffkindergarten": "kindergarten"}),
)
def categories_with_bom_and_non_breaking_space(w):
    """Kindergartens as '\\ufeffkindergarten' (a BOM, U+FEFF, in front) and primary schools as 'primary\\xa0school'
    (a non-breaking space, U+00A0)."""
    assert _retype(w, "kindergarten", "\ufeffkindergarten") == 2
    assert _retype(w, "primary_school", "primary\xa0school") == 3


@case(
    None,
    "{facilities}: 5 facilities have categories that match profile 'meishan' only once invisible or look-alike "
    "characters are dropped or replaced (invisible ones shown escaped): 'kinder\\u00adgarten' (2) taken as "
    "'kindergarten', 'ｐｒｉｍａｒｙ_ｓｃｈｏｏｌ' (3) taken as 'primary_school'; "
    "correct the category column if that is not what was meant",
    code="category_normalised",
    check=_taken_as({"kinder\xadgarten": "kindergarten", "ｐｒｉｍａｒｙ_ｓｃｈｏｏｌ": "primary_school"}),
)
def categories_with_soft_hyphen_and_full_width_letters(w):
    """Kindergartens typed with a soft hyphen (U+00AD, invisible: escaped) and primary schools in full-width
    letters (as a Chinese input method types them: visible, so shown as they are)."""
    assert _retype(w, "kindergarten", "kinder\xadgarten") == 2
    assert _retype(w, "primary_school", "ｐｒｉｍａｒｙ_ｓｃｈｏｏｌ") == 3


@case(None, None, code="category_normalised", check=_taken_as({"Kindergarten ": "kindergarten"}))
def category_with_capital_and_trailing_space(w):
    """'Kindergarten ' (a capital letter, a trailing space): differences anyone can see, matched silently."""
    _retype(w, "kindergarten", "Kindergarten ")


def _unknown_escaped(result, w):
    fac = result.assessment.facilities
    typo = fac[fac["category"] == "kindergarden\u200b"]
    assert len(typo) == 1 and not typo["in_profile"].any() and typo["category_key"].tolist() == ["kindergarden"]


@case(
    None,
    "{facilities}: 1 facility categories are not in profile 'meishan': 'kindergarden\\u200b' (1); their distances "
    "are computed but not checked",
    code="category_not_in_profile",
    check=_unknown_escaped,
)
def misspelt_category_with_zero_width_space(w):
    """One kindergarten typed 'kindergarden' with a zero-width space: not a profile name, and named escaped so that
    it cannot pass for one."""
    t = w.facility_table()
    t.loc[int(np.flatnonzero((t["category"] == "kindergarten").to_numpy())[0]), "category"] = "kindergarden\u200b"
    w.write_facilities(t)


# --------------------------------------------------------------------------- #
# 5. provenance: the network file of this run
# --------------------------------------------------------------------------- #

NETWORK_COMPONENTS = (
    "the walking network falls into 39 unconnected parts; kept the largest (3,057 nodes, 863.7 km) and dropped 38 "
    "smaller ones (9.60 km of street); pass keep_components='all' to keep them"
)


def _copies(w: Inputs) -> tuple[Path, Path]:
    """Two copies of the demo network, the first built into the cache (same content: the same cache entry)."""
    from servicecircle.network import load_network

    first, second = w.dir / "first" / "chengdu.osm.gz", w.dir / "second" / "chengdu.osm.gz"
    for p in (first, second):
        p.parent.mkdir()
        shutil.copy(CHENGDU_OSM, p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = load_network(first, study_area=w.communities())
    assert built.source == str(first)  # built here, or loaded from an entry an earlier case built from the demo's path
    return first, second


def _network_of_this_run(result, w):
    net = result.assessment.network
    assert "cache_file" in net.info  # loaded from the cache another copy built
    assert net.source == str(w.network)
    assert result.assessment.parameters["network"] == str(w.network)  # the run table's and the README's source
    files = result.assessment.warnings.loc[result.assessment.warnings["code"] == "network_components", "file"]
    assert files.tolist() == [str(w.network)]


@case(None, "{network}: " + NETWORK_COMPONENTS, code="network_components", check=_network_of_this_run)
def network_second_copy_loaded_from_cache(w):
    """The network given as a second copy of a file whose first copy built the cache entry: the cached network,
    its warnings and the run's provenance name the second copy."""
    _, w.network = _copies(w)


@case(None, "second/chengdu.osm.gz: " + NETWORK_COMPONENTS, code="network_components", check=_network_of_this_run)
def network_relative_path_loaded_from_cache(w):
    """The second copy given as a relative path (from the case's folder): named as given, as a fresh build names it."""
    _copies(w)
    w.monkeypatch.chdir(w.dir)
    w.network = Path("second") / "chengdu.osm.gz"


# --------------------------------------------------------------------------- #
# running the catalogue
# --------------------------------------------------------------------------- #

IDS = [c.name for c in CASES]


def test_the_corpus_is_large_and_documented():
    check_registry(CASES, 15)


@pytest.mark.parametrize("bad", CASES, ids=IDS)
def test_bad_input_gives_its_exact_message(bad: Case, good_inputs: Inputs, monkeypatch):
    run_case(bad, good_inputs, monkeypatch)


CLI_CASES = [c for c in CASES if c.cli]


@pytest.mark.parametrize("bad", CLI_CASES, ids=[c.name for c in CLI_CASES])
def test_bad_input_on_the_command_line(bad: Case, good_inputs: Inputs, network_cache):
    run_case_cli(bad, good_inputs, network_cache)


def test_a_network_loaded_from_the_cache_names_this_runs_file(tmp_path, monkeypatch):
    """Build from one copy, load from a second copy with the same content: source and warnings name the second."""
    from servicecircle.network import load_network

    monkeypatch.setattr(settings, "cache_folder", tmp_path / "cache")
    first, second = tmp_path / "a" / "chengdu.osm.gz", tmp_path / "b" / "copy.osm.gz"
    for p in (first, second):
        p.parent.mkdir()
        shutil.copy(CHENGDU_OSM, p)
    with warnings.catch_warnings(record=True) as built_log:
        warnings.simplefilter("always")
        built = load_network(first)
    with warnings.catch_warnings(record=True) as cached_log:
        warnings.simplefilter("always")
        cached = load_network(second)
    assert "cache_file" not in built.info and "cache_file" in cached.info
    assert built.info["cache_key"] == cached.info["cache_key"]
    assert built.source == str(first) and cached.source == str(second)
    assert cached.info["cache_built_from"] == str(first)
    built_w = [w.message for w in built_log if isinstance(w.message, DataWarning)]
    cached_w = [w.message for w in cached_log if isinstance(w.message, DataWarning)]
    assert [w.code for w in cached_w] == [w.code for w in built_w] == ["network_components"]
    assert cached_w[0].file == str(second) and built_w[0].file == str(first)
    assert str(cached_w[0]) == f"{second}: {NETWORK_COMPONENTS}"
    assert all(w["file"] == str(second) for w in cached.info["build_warnings"])
    # the first copy, loaded again, is named as itself; the cache file given itself, as the cache file
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert load_network(first).source == str(first)
        npz = Path(cached.info["cache_file"])
        direct = load_network(npz)
    assert direct.source == str(npz) and direct.info["cache_built_from"] == str(first)
