"""The bad-input corpus's machinery: the good inputs, a case, and how a case is run and checked.

Every ``tests/test_bad_inputs*.py`` module registers its cases with :func:`case` into a
list of its own and runs them with :func:`run_case` and :func:`run_case_cli`; see
``tests/test_bad_inputs.py`` for what a case is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from servicecircle import settings
from servicecircle.errors import DataWarning, ServiceCircleError

from .conftest import CHENGDU_OSM, DATA

#: 石油社区 (first) and the five communities around it, in the demo's boundaries.
CODES = ["510108002003", "510106030001", "510106030008", "510108002004", "510108006002", "510108012005"]
NAMES = [
    "石油社区居委会",
    "一环路北四段社区居委会",
    "星辉东路社区居委会",
    "新兴社区居委会",
    "李家沱社区居委会",
    "踏水社区居委会",
]
GK = "EPSG:4544"  # CGCS2000 / 3-degree Gauss-Krüger CM 105E: metres around Chengdu

#: the fixes that many messages share
FIX_COPY = "copy or export the file again (a file cut short while copying or downloading cannot be read)"
FIX_SHP_PARTS = "copy all the files of the shapefile together (.shp, .shx, .dbf, .prj and .cpg)"
FIX_OSM = (
    "check that it is a complete OSM XML (.osm, .osm.gz, .osm.bz2) or PBF (.osm.pbf) file (download or copy it again)"
)
SHIPPED = "gb50180, meishan, national, sichuan, tdt1062"
FIX_EXTENDS = (
    f'name a shipped profile ({SHIPPED}) or a .toml file in the same folder as this file, e.g. extends = "base.toml"'
)


# --------------------------------------------------------------------------- #
# the good inputs every case starts from
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def source_files(tmp_path_factory) -> Path:
    """Write the good inputs once; every case gets its own copy."""
    folder = tmp_path_factory.mktemp("good")
    comm = gpd.read_file(DATA / "boundaries" / "chengdu_communities_approx.gpkg")
    comm = comm.set_index("code").loc[CODES].reset_index()[["code", "name", "households", "residents", "geometry"]]
    comm.to_file(folder / "communities.gpkg", layer="communities")
    fac = gpd.read_file(DATA / "facilities" / "chengdu_facilities_osm.gpkg", layer="facilities")
    fac = fac[fac["category"].isin(["kindergarten", "primary_school"])]
    # well inside one community (30 m from every edge), so that no datum nuance moves one out
    inner = shapely.union_all(comm.to_crs(GK).geometry.buffer(-30).values)
    fac = fac[fac.to_crs(GK).within(inner).to_numpy()].to_crs(4326)
    pd.DataFrame(
        {
            "name": fac["name"].to_numpy(),
            "category": fac["category"].to_numpy(),
            "lon": fac.geometry.x.round(7).to_numpy(),
            "lat": fac.geometry.y.round(7).to_numpy(),
        }
    ).to_csv(folder / "facilities.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def network_cache(tmp_path_factory) -> Path:
    """One network cache for the whole module: the demo network is built once."""
    return tmp_path_factory.mktemp("network-cache")


@pytest.fixture(autouse=True)
def _shared_network_cache(network_cache, monkeypatch):
    monkeypatch.setattr(settings, "cache_folder", network_cache)


@dataclass
class Inputs:
    """One case's folder: the good inputs, and the options of ``run()`` / ``servicecircle run``."""

    dir: Path
    monkeypatch: Any
    boundaries: Path
    facilities: Path
    network: Path
    options: dict[str, Any] = field(default_factory=dict)
    demand: Path | None = None

    # helpers the cases use to break things -----------------------------------
    def communities(self) -> gpd.GeoDataFrame:
        return gpd.read_file(self.dir / "communities.gpkg")

    def facility_table(self) -> pd.DataFrame:
        return pd.read_csv(self.dir / "facilities.csv", dtype={"lon": str, "lat": str})

    def write_boundaries(self, gdf: gpd.GeoDataFrame, name: str = "communities.gpkg", **kwargs) -> Path:
        self.boundaries = self.dir / name
        self.boundaries.unlink(missing_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "'crs' was not provided" from pyogrio itself
            gdf.to_file(self.boundaries, **kwargs)
        return self.boundaries

    def write_facilities(self, frame: pd.DataFrame | gpd.GeoDataFrame, name: str = "facilities.csv", **kwargs) -> Path:
        self.facilities = self.dir / name
        if isinstance(frame, gpd.GeoDataFrame):
            frame.to_file(self.facilities, **kwargs)
            self.options.pop("facilities_crs", None)
        else:
            frame.to_csv(self.facilities, index=False, **kwargs)
        return self.facilities

    def placeholders(self) -> dict[str, str]:
        return {
            "dir": str(self.dir),
            "boundaries": str(self.boundaries),
            "facilities": str(self.facilities),
            "network": str(self.network),
            "demand": str(self.demand),
        }

    # how the case runs --------------------------------------------------------
    def run_api(self):
        from servicecircle.pipeline import run

        return run(
            self.boundaries, self.facilities, self.network, out=self.dir / "out", demand=self.demand, **self.options
        )

    def cli_args(self) -> list[str]:
        args = [
            "run",
            "--boundaries",
            self.boundaries,
            "--facilities",
            self.facilities,
            "--network",
            self.network,
            "--out",
            self.dir / "out",
            "-q",
        ]
        if self.demand is not None:
            args += ["--demand", self.demand]
        from servicecircle.options import Inputs as RunInputs
        from servicecircle.options import Options, option_specs

        specs = {**option_specs(RunInputs), **option_specs(Options)}
        for key, value in self.options.items():  # the option's own flag (output_crs is --out-crs)
            spec = specs.get(key)
            flag = spec.flag if spec is not None and spec.flag else "--" + key.replace("_", "-")
            if spec is not None and spec.kind == "flag":
                args += [flag] if value else []
            else:
                args += [flag, value]
        return [str(a) for a in args]


@pytest.fixture
def good_inputs(source_files, tmp_path, monkeypatch) -> Inputs:
    for f in source_files.iterdir():
        shutil.copy(f, tmp_path / f.name)
    return Inputs(
        dir=tmp_path,
        monkeypatch=monkeypatch,
        boundaries=tmp_path / "communities.gpkg",
        facilities=tmp_path / "facilities.csv",
        network=CHENGDU_OSM,
        options={"facilities_crs": "EPSG:4326", "id_column": "code"},
    )


# --------------------------------------------------------------------------- #
# the catalogue
# --------------------------------------------------------------------------- #


@dataclass
class Case:
    """One bad input: ``make`` breaks the good inputs; the rest is what must come out."""

    make: Callable[[Inputs], Any]
    raises: type[ServiceCircleError] | None
    message: str | None
    code: str | None = None  # the DataWarning code, for warnings
    cli: bool = False
    check: Callable[[Any, Inputs], None] | None = None  # more checks on the run's result

    @property
    def name(self) -> str:
        return self.make.__name__


def case(registry: list[Case]) -> Callable[..., Callable[[Callable[[Inputs], Any]], Callable[[Inputs], Any]]]:
    """A decorator factory registering cases into ``registry`` (their docstrings say what the input is)."""

    def register_case(raises=None, message=None, *, code=None, cli=False, check=None):
        def register(make):
            registry.append(Case(make, raises, message, code=code, cli=cli, check=check))
            return make

        return register

    return register_case


def cut_file(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def caught(records) -> list[DataWarning]:
    return [r.message for r in records if isinstance(r.message, DataWarning)]


def run_case(bad: Case, w: Inputs, monkeypatch) -> None:
    """Run one case through the Python API and check its exact message (and its ``check``)."""
    from servicecircle.assessment import Assessment

    monkeypatch.setattr(Assessment, "save", lambda self, out, **kwargs: {})  # outputs are not the point here
    bad.make(w)
    expected = None if bad.message is None else bad.message.format(**w.placeholders())
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        if bad.raises is not None:
            with pytest.raises(ServiceCircleError) as err:
                w.run_api()
            assert type(err.value) is bad.raises
            assert str(err.value) == expected
            assert "\n" not in str(err.value)
            return
        result = w.run_api()
    got = [x for x in caught(records) if x.code == bad.code]
    if expected is None:
        assert got == [], f"no {bad.code} warning expected"
    else:
        # the run may repeat a warning about the same frame; every one of this code must be this one
        assert {str(x) for x in got} == {expected}
        assert all("\n" not in str(x) for x in got)
        assert expected in result.assessment.warnings["message"].tolist()
    if bad.check is not None:
        bad.check(result, w)


def run_case_cli(bad: Case, w: Inputs, network_cache: Path) -> None:
    """Run one case through the real command line: exit 2, one line on stderr, the same message."""
    bad.make(w)
    env = dict(os.environ, SERVICECIRCLE_CACHE=str(network_cache))
    r = subprocess.run(
        [sys.executable, "-m", "servicecircle.cli", *w.cli_args()], capture_output=True, text=True, env=env, cwd=w.dir
    )
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert r.stderr.endswith("\n") and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr == f"servicecircle: error 错误: {bad.message.format(**w.placeholders())}\n"
    assert not (w.dir / "out").exists()


def check_registry(cases: list[Case], minimum: int) -> None:
    """A corpus module's own checks: large enough, unique names, documented, consistent."""
    ids = [c.name for c in cases]
    assert len(cases) >= minimum
    assert len(set(ids)) == len(ids)
    for c in cases:
        assert c.make.__doc__, f"{c.name}: say what the bad input is"
        assert (c.raises is None) == (c.code is not None), c.name
