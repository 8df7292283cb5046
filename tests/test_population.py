"""Residents from a population raster: tiny GeoTIFFs written here, totals worked out by hand."""

from __future__ import annotations

import doctest
import math
import warnings
from unittest import mock

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import rasterio
import rasterio.io
import shapely
from affine import Affine
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from servicecircle import population, settings
from servicecircle.errors import CRSError, DataWarning, InputDataError, TooLargeError
from servicecircle.population import population_demand

# top-left corner of the test rasters, in EPSG:4544 (CGCS2000 / 3-degree GK CM 105E)
X0, Y0 = 500_000.0, 3_300_000.0
METRIC = "EPSG:4544"
VALUES = np.arange(1, 10, dtype="float32").reshape(3, 3)  # [[1 2 3] [4 5 6] [7 8 9]]


def write_tif(path, data, *, crs=METRIC, transform=None, nodata=None, dtype="float32"):
    data = np.asarray(data, dtype=dtype)
    transform = transform or Affine(100, 0, X0, 0, -100, Y0)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype=dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(data, 1)
    return path


def boxes(*xspans, y0=Y0 - 300, y1=Y0, crs=METRIC):
    """Communities as vertical strips: (x from, x to) in metres east of X0."""
    return gpd.GeoSeries([shapely.box(X0 + a, y0, X0 + b, y1) for a, b in xspans], crs=crs)


def strict(func, *args, **kwargs):
    """Call with every DataWarning turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        return func(*args, **kwargs)


def per_community(d, n):
    return np.bincount(d.community, weights=d.residents, minlength=n)


# --- splitting cells ---------------------------------------------------------------


def test_middle_column_split_in_half(tmp_path):
    tif = write_tif(tmp_path / "pop.tif", VALUES)
    d = strict(population_demand, tif, boxes((0, 150), (150, 300)))
    # left: column 0 (1+4+7) + half of column 1 (2+5+8); right: the other half + column 2 (3+6+9)
    assert per_community(d, 2).tolist() == [12 + 7.5, 7.5 + 18]
    assert d.residents.sum() == VALUES.sum()
    assert d.attrs["outside_residents"] == 0
    assert d[["community", "cell_row", "cell_col"]].values.tolist() == [
        [0, 0, 0],
        [0, 0, 1],
        [0, 1, 0],
        [0, 1, 1],
        [0, 2, 0],
        [0, 2, 1],
        [1, 0, 1],
        [1, 0, 2],
        [1, 1, 1],
        [1, 1, 2],
        [1, 2, 1],
        [1, 2, 2],
    ]
    middle = d[d.cell_col == 1]
    assert middle.cell_fraction.tolist() == [0.5] * 6
    assert middle.area_m2.tolist() == [5000.0] * 6
    assert middle.residents.tolist() == [1, 2.5, 4, 1, 2.5, 4]  # halves of 2, 5, 8 for each side
    whole = d[d.cell_col != 1]
    assert whole.cell_fraction.tolist() == [1.0] * 6 and whole.area_m2.tolist() == [10000.0] * 6
    # a whole cell's point is its centre; a piece's point lies inside the piece
    assert (whole.geometry.x == X0 + 100 * whole.cell_col + 50).all()
    assert (whole.geometry.y == Y0 - 100 * whole.cell_row - 50).all()
    left = middle[middle.community == 0].geometry
    right = middle[middle.community == 1].geometry
    assert ((left.x > X0 + 100) & (left.x < X0 + 150)).all()
    assert ((right.x > X0 + 150) & (right.x < X0 + 200)).all()
    assert d.crs == pyproj.CRS(METRIC)
    assert d.households.isna().all()
    assert list(d.columns) == population.COLUMNS + ["geometry"]
    assert d.community.dtype == np.int64 and d.cell_row.dtype == np.int64


def test_cell_split_quarter_and_three_quarters(tmp_path):
    tif = write_tif(tmp_path / "pop.tif", VALUES)
    d = strict(population_demand, tif, boxes((0, 125), (125, 300)), household_size=2.5)
    middle = d[d.cell_col == 1]
    assert middle[middle.community == 0].cell_fraction.tolist() == [0.25] * 3
    assert middle[middle.community == 1].cell_fraction.tolist() == [0.75] * 3
    assert middle[middle.community == 0].area_m2.tolist() == [2500.0] * 3
    # left: 12 + (2+5+8)/4 = 15.75; right: 3/4 of 15 + 18 = 29.25
    assert per_community(d, 2).tolist() == [15.75, 29.25]
    assert np.allclose(d.households, d.residents / 2.5)


def test_people_outside_every_community_are_reported(tmp_path):
    tif = write_tif(tmp_path / "pop.tif", VALUES)
    # the lower-left half of the grid: 4, 7, 8 whole, the diagonal 1, 5, 9 halved, 2, 3, 6 outside
    tri = gpd.GeoSeries([shapely.Polygon([(X0, Y0 - 300), (X0 + 300, Y0 - 300), (X0, Y0)])], crs=METRIC)
    with pytest.warns(DataWarning, match=r"18\.5 of the 45\.0 people") as rec:
        d = population_demand(tif, tri)
    assert [w.message.code for w in rec if isinstance(w.message, DataWarning)] == ["population_outside"]
    assert "pop.tif" in str(rec[0].message)
    assert d.residents.sum() == 26.5 and d.attrs["outside_residents"] == 18.5
    assert d.attrs["window_residents"] == 45 and d.attrs["window"] == (0, 0, 3, 3)
    assert d[["cell_row", "cell_col"]].values.tolist() == [[0, 0], [1, 0], [1, 1], [2, 0], [2, 1], [2, 2]]
    assert d.cell_fraction.tolist() == [0.5, 1, 0.5, 1, 1, 0.5]


def _unknown_warning(rec) -> DataWarning:
    got = [w.message for w in rec if isinstance(w.message, DataWarning)]
    assert [w.code for w in got] == ["population_unknown"]
    return got[0]


def test_nodata_and_nan_cells_are_unknown_not_zero(tmp_path):
    data = VALUES.copy()
    data[0, 0] = -99999  # declared nodata
    data[2, 2] = np.nan  # NaN in a raster that also has a nodata value
    tif = write_tif(tmp_path / "pop.tif", data, nodata=-99999)
    # three strips, one column each: the first holds cell (0, 0), the last cell (2, 2)
    with pytest.warns(DataWarning) as rec:
        d = population_demand(tif, boxes((0, 100), (100, 200), (200, 300)), household_size=2.5)
    w = _unknown_warning(rec)
    assert str(w) == (
        f"{tif}: 2 of the 9 raster cells under the communities are nodata or NaN: their population is "
        "unknown, not 0, so the residents of 2 communities with area on them are unknown (#1: 33% of its area) "
        "and the reach checks give them no pass/fail; fill those cells (with 0 where nobody lives) or use a "
        "raster with data there (first: feature #1)"
    )
    assert w.count == 2 and w.feature == "#1"
    assert len(d) == 9  # the unknown cells still stand for their land
    cell = d.set_index(["cell_row", "cell_col"])
    assert np.isnan(cell.residents[(0, 0)]) and np.isnan(cell.households[(0, 0)])
    assert np.isnan(cell.residents[(2, 2)]) and np.isnan(cell.households[(2, 2)])
    assert cell.residents[(1, 1)] == 5 and cell.households[(1, 1)] == 2
    # per community, unknown propagates: only the middle strip (2 + 5 + 8) is known
    per = d.groupby("community").residents.sum(min_count=1, skipna=False)
    assert np.isnan(per[0]) and per[1] == 15 and np.isnan(per[2])
    # the window sums are over the known cells: 45 - 1 - 9
    assert d.attrs["window_residents"] == 35 and d.attrs["outside_residents"] == 0
    assert d.residents.sum() == 35  # skipping nan, as pandas does
    assert d.attrs["unknown_cells"] == 2 and d.attrs["unknown_communities"] == (0, 2)


def test_nan_without_nodata_tag_is_unknown(tmp_path):
    data = VALUES.copy()
    data[1, 2] = np.nan
    tif = write_tif(tmp_path / "pop.tif", data)  # no nodata value declared
    with pytest.warns(DataWarning) as rec:
        d = population_demand(tif, boxes((0, 150), (150, 300)))
    assert str(_unknown_warning(rec)) == (
        f"{tif} feature #2: 1 of the 9 raster cells under the communities is nodata or NaN: its population is "
        "unknown, not 0, so the residents of 1 community with area on them are unknown (#2: 22% of its area) "
        "and the reach checks give it no pass/fail; fill those cells (with 0 where nobody lives) or use a "
        "raster with data there"
    )
    # the left strip (columns 0 and half of 1) is untouched: 12 + 7.5
    assert d[d.community == 0].residents.tolist() == [1, 1, 4, 2.5, 7, 4]
    # the right strip (half of column 1, column 2): 150 m × 300 m, of which the 100 m × 100 m cell is unknown
    assert d.attrs["unknown_communities"] == (1,)
    assert d.attrs["window_residents"] == 45 - 6


def test_all_nodata_raster_leaves_every_community_unknown(tmp_path):
    tif = write_tif(tmp_path / "pop.tif", np.full((3, 3), -99999.0), nodata=-99999)
    with pytest.warns(DataWarning) as rec:
        d = population_demand(tif, boxes((0, 150), (150, 300)), household_size=2.5)
    assert str(_unknown_warning(rec)) == (
        f"{tif}: all 9 raster cells under the communities are nodata or NaN: their population is unknown, not 0, "
        "so the residents of all 2 communities are unknown and the reach checks give them no pass/fail; check "
        "the raster's nodata value and band, or use a raster with data there (first: feature #1)"
    )
    assert len(d) == 12 and d.residents.isna().all() and d.households.isna().all()
    assert d.attrs["window_residents"] == 0 and d.attrs["outside_residents"] == 0
    assert d.attrs["unknown_cells"] == 9 and d.attrs["unknown_communities"] == (0, 1)


def test_known_cells_only_give_no_unknown_warning(tmp_path):
    data = VALUES.copy()
    data[0, 2] = -99999  # nodata, but outside the one community
    tif = write_tif(tmp_path / "pop.tif", data, nodata=-99999)
    d = strict(population_demand, tif, boxes((0, 200)))
    assert d.residents.sum() == 1 + 2 + 4 + 5 + 7 + 8
    assert d.attrs["unknown_cells"] == 0 and d.attrs["unknown_communities"] == ()


def test_integer_raster_with_nodata(tmp_path):
    data = np.array([[5, 65535], [0, 7]])
    tif = write_tif(tmp_path / "pop.tif", data, dtype="uint16", nodata=65535)
    with pytest.warns(DataWarning, match=r"1 of the 4 raster cells .* is nodata .* \(#1: 25% of its area\)") as rec:
        d = population_demand(tif, gpd.GeoSeries([shapely.box(X0, Y0 - 200, X0 + 200, Y0)], crs=METRIC))
    _unknown_warning(rec)
    assert d.residents.tolist()[::2] == [5, 0] and d.residents.tolist()[3] == 7
    assert np.isnan(d.residents.tolist()[1])  # 65535 is nodata: unknown, and a real 0 stays 0


def test_overlap_goes_to_the_first_community(tmp_path):
    tif = write_tif(tmp_path / "pop.tif", VALUES)
    with pytest.warns(DataWarning, match="overlap") as rec:
        d = population_demand(tif, boxes((0, 200), (100, 300)))
    assert rec[0].message.code == "overlapping_communities" and rec[0].message.feature == "#2"
    assert per_community(d, 2).tolist() == [12 + 15, 18]
    assert d.attrs["outside_residents"] == 0
    assert (d[d.cell_col == 1].community == 0).all()


def test_south_up_raster(tmp_path):
    # the same grid stored bottom row first: same people in the same places
    tif = write_tif(tmp_path / "pop.tif", VALUES[::-1], transform=Affine(100, 0, X0, 0, 100, Y0 - 300))
    d = strict(population_demand, tif, boxes((0, 150), (150, 300)))
    assert per_community(d, 2).tolist() == [19.5, 25.5]
    assert d.cell_fraction[d.cell_col == 1].tolist() == [0.5] * 6


def test_whole_frame_order_and_chunks_do_not_change_results(tmp_path):
    rng = np.random.default_rng(1)
    data = rng.random((17, 13)) * 50
    tif = write_tif(tmp_path / "pop.tif", data, dtype="float64")
    areas = gpd.GeoSeries(
        [shapely.Point(X0 + 600, Y0 - 800).buffer(450), shapely.box(X0 + 100, Y0 - 1650, X0 + 1250, Y0 - 1200)],
        crs=METRIC,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        d1 = population_demand(tif, areas)
        with mock.patch.object(population, "_CHUNK_CELLS", 7):
            d2 = population_demand(tif, areas)
    assert d1.drop(columns="geometry").equals(d2.drop(columns="geometry"))
    assert shapely.equals(d1.geometry.values, d2.geometry.values).all()
    keys = d1[["community", "cell_row", "cell_col"]].to_numpy()
    assert (np.lexsort(keys.T[::-1]) == np.arange(len(d1))).all()


# --- coordinate systems -----------------------------------------------------------


def test_wgs84_raster_with_metric_communities(tmp_path):
    # 10 × 8 cells of 0.001° (about 96 m × 111 m) near 104.5° E, 30° N
    rng = np.random.default_rng(7)
    data = (rng.random((8, 10)) * 100).astype("float32")
    transform = Affine(0.001, 0, 104.5, 0, -0.001, 30.008)
    tif = write_tif(tmp_path / "pop.tif", data, crs="EPSG:4326", transform=transform)
    to_metric = pyproj.Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)
    x, y = to_metric.transform([104.5, 104.51, 104.51, 104.5], [30.0, 30.0, 30.008, 30.008])
    minx, miny, maxx, maxy = min(x) - 300, min(y) - 300, max(x) + 300, max(y) + 300
    mid = (minx + maxx) / 2 + 17.0  # a cut through the middle of the raster
    areas = gpd.GeoSeries([shapely.box(minx, miny, mid, maxy), shapely.box(mid, miny, maxx, maxy)], crs=METRIC)
    with pytest.warns(DataWarning) as rec:  # the communities run past the raster on every side
        d = population_demand(tif, areas)
    assert {w.message.code for w in rec if isinstance(w.message, DataWarning)} == {"raster_partial"}
    total = float(data.astype(np.float64).sum())
    assert math.isclose(d.residents.sum(), total, rel_tol=1e-6)
    assert abs(d.attrs["outside_residents"]) <= 1e-9 * total
    assert d.crs == pyproj.CRS(METRIC)
    # every cell is cut by the line or whole; each whole cell's point is its centre
    whole = d[d.cell_fraction == 1].iloc[0]
    cx, cy = to_metric.transform(104.5 + 0.001 * (whole.cell_col + 0.5), 30.008 - 0.001 * (whole.cell_row + 0.5))
    assert whole.geometry.distance(shapely.Point(cx, cy)) < 1e-6
    assert math.isclose(whole.area_m2, 96.5 * 110.9, rel_tol=0.01)
    cut = d[d.cell_fraction < 1]
    assert len(cut) == 2 * 8 and set(cut.cell_col) == {int(cut.cell_col.iloc[0])}
    assert np.allclose(cut.groupby(["cell_row"]).cell_fraction.sum(), 1.0, atol=1e-12)
    inside = shapely.covers(areas.values[d.community], d.geometry.values)
    assert inside.all()


def test_only_the_window_is_read(tmp_path, monkeypatch):
    data = np.ones((40, 30), dtype="float32")
    tif = write_tif(tmp_path / "pop.tif", data, crs="EPSG:4326", transform=Affine(0.001, 0, 104.5, 0, -0.001, 30.04))
    to_metric = pyproj.Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)
    # a community well inside cells rows 10-14, columns 20-24
    x, y = to_metric.transform([104.5205, 104.5245], [30.04 - 0.0145, 30.04 - 0.0105])
    areas = gpd.GeoSeries([shapely.box(x[0], y[0], x[1], y[1])], crs=METRIC)
    seen = []
    real_read = rasterio.io.DatasetReader.read

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("window"))
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(rasterio.io.DatasetReader, "read", spy)
    with pytest.warns(DataWarning, match="outside every community"):
        d = population_demand(tif, areas)
    assert len(seen) == 1
    w = seen[0]
    # the cells under the community plus one cell of margin for the reprojection
    assert (w.row_off, w.col_off, w.height, w.width) == (9, 19, 7, 7)
    assert d.attrs["window"] == (9, 19, 7, 7) and d.attrs["window_residents"] == 49
    assert math.isclose(d.residents.sum(), areas.area.iloc[0] / d.area_m2.max(), rel_tol=0.02)


def test_raster_without_crs_needs_crs(tmp_path):
    tif = write_tif(tmp_path / "nocrs.tif", VALUES, crs=None)
    with pytest.raises(CRSError, match=r"nocrs\.tif: the raster has no coordinate system.*crs=") as err:
        population_demand(tif, boxes((0, 300)))
    assert "\n" not in str(err.value)
    d = strict(population_demand, tif, boxes((0, 300)), crs="EPSG:4544")
    assert d.residents.sum() == 45


def test_crs_override_is_reported(tmp_path):
    tif = write_tif(tmp_path / "pop.tif", VALUES, crs="EPSG:4545")  # the wrong zone
    with pytest.warns(DataWarning, match="declares") as rec:
        d = population_demand(tif, boxes((0, 300)), crs=4544)
    assert rec[0].message.code == "crs_overridden"
    assert d.residents.sum() == 45


def test_web_datum_raster_refused(tmp_path):
    tif = write_tif(tmp_path / "pop.tif", VALUES, crs=None)
    with pytest.raises(CRSError, match="GCJ02"):
        population_demand(tif, boxes((0, 300)), crs="gcj02")


def test_communities_must_be_metric(tmp_path):
    tif = write_tif(tmp_path / "pop.tif", VALUES)
    with pytest.raises(CRSError, match="not a projected CRS in metres"):
        population_demand(tif, boxes((0, 300)).to_crs("EPSG:4326"))
    with pytest.raises(CRSError, match="no coordinate system"):
        population_demand(tif, boxes((0, 300)).set_crs(None, allow_override=True))


# --- refusals ----------------------------------------------------------------------


def test_too_large_refused_before_reading(tmp_path, monkeypatch):
    tif = write_tif(tmp_path / "big.tif", VALUES)
    monkeypatch.setattr(settings, "max_raster_cells", 4)

    def no_read(*args, **kwargs):
        raise AssertionError("the raster was read")

    monkeypatch.setattr(rasterio.io.DatasetReader, "read", no_read)
    with pytest.raises(TooLargeError) as err:
        population_demand(tif, boxes((0, 300)))
    msg = str(err.value)
    assert "big.tif" in msg and "9 cells" in msg and "limit of 4" in msg
    assert "clip the raster" in msg and "settings.max_raster_cells" in msg
    # a window of 4 cells is within the limit (and is read)
    monkeypatch.undo()
    monkeypatch.setattr(settings, "max_raster_cells", 4)
    d = population_demand(tif, boxes((0, 200), y0=Y0 - 200))
    assert d.residents.sum() == 1 + 2 + 4 + 5


def test_negative_value_refused(tmp_path):
    data = VALUES.copy()
    data[1, 2] = -3
    tif = write_tif(tmp_path / "neg.tif", data, nodata=-99999)
    with pytest.raises(InputDataError, match=r"neg\.tif: a population cell is -3 at row 1, column 2"):
        population_demand(tif, boxes((0, 300)))


def test_infinite_value_refused(tmp_path):
    data = VALUES.copy()
    data[2, 0] = np.inf
    tif = write_tif(tmp_path / "inf.tif", data)
    with pytest.raises(InputDataError, match="is inf at row 2, column 0"):
        population_demand(tif, boxes((0, 300)))


@pytest.mark.parametrize("keep", [0.5, 0.01])
def test_truncated_file_refused(tmp_path, keep):
    tif = write_tif(tmp_path / "whole.tif", np.random.default_rng(0).random((60, 60)))
    raw = tif.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(raw[: int(len(raw) * keep)])
    areas = gpd.GeoSeries([shapely.box(X0, Y0 - 6000, X0 + 6000, Y0)], crs=METRIC)
    with pytest.raises(InputDataError, match=r"cut\.tif: cannot (open|read)") as err:
        population_demand(cut, areas)
    assert "complete" in str(err.value) and "\n" not in str(err.value)


def test_not_a_raster_and_missing_file(tmp_path):
    junk = tmp_path / "pop.tif"
    junk.write_text("not a tiff")
    with pytest.raises(InputDataError, match="cannot open this file as a raster"):
        population_demand(junk, boxes((0, 300)))
    with pytest.raises(InputDataError, match="file not found"):
        population_demand(tmp_path / "missing.tif", boxes((0, 300)))


def test_bad_band_and_household_size(tmp_path):
    tif = write_tif(tmp_path / "pop.tif", VALUES)
    with pytest.raises(InputDataError, match="no band 2"):
        population_demand(tif, boxes((0, 300)), band=2)
    with pytest.raises(InputDataError, match="household size"):
        population_demand(tif, boxes((0, 300)), household_size=0)


def test_raster_elsewhere_refused(tmp_path):
    tif = write_tif(tmp_path / "pop.tif", VALUES)
    far = boxes((0, 300), y0=Y0 + 5000, y1=Y0 + 5300)
    with pytest.raises(InputDataError, match="does not overlap the communities"):
        population_demand(tif, far)


def test_no_usable_community_gives_an_empty_frame(tmp_path):
    tif = write_tif(tmp_path / "pop.tif", VALUES)
    d = population_demand(tif, gpd.GeoSeries([None, shapely.Polygon()], crs=METRIC))
    assert len(d) == 0 and list(d.columns) == population.COLUMNS + ["geometry"]


def test_docstring_example():
    result = doctest.testmod(population, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# --- conservation ------------------------------------------------------------------

# micrometre coordinates: GEOS's overlay (used by the brute-force check below) can fail on
# slivers with vertices at 1e-88 m, which no survey produces
coord = st.floats(-60, 860, allow_nan=False).map(lambda v: round(v, 6))
rect = st.tuples(coord, coord, coord, coord).map(
    lambda c: shapely.box(min(c[0], c[2]), min(c[1], c[3]), max(c[0], c[2]) + 1, max(c[1], c[3]) + 1)
)
triangle = st.tuples(*[st.tuples(coord, coord)] * 3).map(lambda p: shapely.Polygon(p).buffer(0))
disc = st.tuples(coord, coord, st.floats(5, 300)).map(lambda c: shapely.Point(c[0], c[1]).buffer(c[2], 4))


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    layout=st.lists(st.one_of(rect, triangle, disc), min_size=1, max_size=5),
    cells=st.lists(st.floats(0, 1000, allow_nan=False) | st.just(-1.0), min_size=64, max_size=64),
    chunk=st.sampled_from([3, 1_000_000]),
)
def test_conservation(tmp_path_factory, layout, cells, chunk):
    """residents assigned + people reported outside = people in the cells read."""
    areas = gpd.GeoSeries([shapely.affinity.translate(g, X0, Y0) for g in layout], crs=METRIC)
    raster = shapely.box(X0, Y0, X0 + 800, Y0 + 800)
    assume(shapely.area(shapely.intersection(shapely.union_all(areas.values), raster)) > 1e-3)
    data = np.array(cells).reshape(8, 8)  # -1 = nodata
    tif = write_tif(
        tmp_path_factory.mktemp("p") / "pop.tif",
        data,
        dtype="float64",
        nodata=-1,
        transform=Affine(100, 0, X0, 0, -100, Y0 + 800),
    )
    with warnings.catch_warnings(), mock.patch.object(population, "_CHUNK_CELLS", chunk):
        warnings.simplefilter("ignore", DataWarning)
        d = population_demand(tif, areas)
    # the window, by hand: the cells under the communities' bounding box
    # (of the communities with an area: a sliver that rounds to nothing holds no cell)
    held = areas.values[shapely.area(areas.values) > 0]
    minx, miny, maxx, maxy = shapely.total_bounds(held) - [X0, Y0, X0, Y0]
    col0, col1 = max(math.floor(minx / 100), 0), min(math.ceil(maxx / 100), 8)
    row0, row1 = max(math.floor((800 - maxy) / 100), 0), min(math.ceil((800 - miny) / 100), 8)
    assert d.attrs["window"] == (row0, col0, row1 - row0, col1 - col0)
    people = np.where(data < 0, 0, data)
    expected = people[row0:row1, col0:col1].sum()
    got = d.residents.sum() + d.attrs["outside_residents"]
    assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9)
    # a piece is unknown exactly where its cell is nodata; so is every community with such a piece
    nodata_piece = data[d.cell_row.to_numpy(), d.cell_col.to_numpy()] < 0
    assert (d.residents.isna().to_numpy() == nodata_piece).all()
    assert d.attrs["unknown_communities"] == tuple(sorted(set(d.community[nodata_piece].tolist())))
    # no cell gives away more than it has; every point is in its community's piece
    share = d.groupby(["cell_row", "cell_col"]).cell_fraction.sum()
    assert (share <= 1 + 1e-9).all()
    assert ((d.cell_fraction > 0) & (d.cell_fraction <= 1)).all()
    assert (shapely.distance(areas.values[d.community], d.geometry.values) < 1e-6).all()
    # people inside = each community's land (minus earlier ones) over the cells, by area
    owned, seen = [], shapely.Polygon()
    for g in areas.values:
        owned.append(shapely.difference(g, seen))
        seen = shapely.union(seen, g)
    cell_polys = [
        shapely.box(X0 + 100 * j, Y0 + 800 - 100 * (i + 1), X0 + 100 * (j + 1), Y0 + 800 - 100 * i)
        for i in range(8)
        for j in range(8)
    ]
    inside = sum(people.ravel()[k] * shapely.area(shapely.intersection(cell_polys[k], seen)) / 1e4 for k in range(64))
    assert math.isclose(d.residents.sum(), inside, rel_tol=1e-7, abs_tol=1e-6)


def test_invalid_community_is_repaired_without_touching_the_input(tmp_path):
    tif = write_tif(tmp_path / "pop.tif", VALUES)
    bowtie = shapely.Polygon([(X0, Y0 - 300), (X0 + 300, Y0), (X0 + 300, Y0 - 300), (X0, Y0)])
    areas = gpd.GeoSeries([bowtie], crs=METRIC)
    with pytest.warns(DataWarning, match="outside every community"):
        d = population_demand(tif, areas)
    # repaired into two triangles meeting at the centre: the left and right columns are half
    # (top, bottom) or wholly (middle) inside; the centre cell holds a quarter of each triangle
    assert d.residents.sum() == 0.5 * 1 + 4 + 0.5 * 7 + 0.5 * 3 + 6 + 0.5 * 9 + 0.5 * 5  # = 22.5
    centre = d[(d.cell_row == 1) & (d.cell_col == 1)]
    assert len(centre) == 1 and centre.cell_fraction.iloc[0] == 0.5  # one point per (cell, community)
    assert not (d.cell_row.isin([0, 2]) & (d.cell_col == 1)).any()
    assert not areas.is_valid.iloc[0]  # the caller's geometry is unchanged
