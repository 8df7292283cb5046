"""The batch manifest: one study area per row, read from CSV or TOML and checked before any work starts.

A row names an area (``id``, ``name``) and its files and settings: any field of
:class:`~servicecircle.options.Inputs` (``boundaries``, ``facilities``,
``network``, ``demand``, ``population``, ``greenspace`` ...) or of
:class:`~servicecircle.options.Options` (``profile``, ``id_column``,
``max_snap`` ...), plus ``area`` (a polygon file: where the area's network is
cut from a larger network file) and ``area_layer``. An empty cell takes the
batch's default (the ``[defaults]`` table of a TOML manifest, the keyword
arguments of :func:`~servicecircle.assess_many`, the flags of
``servicecircle batch``). Relative paths are relative to the manifest's folder.

CSV::

    id,name,boundaries,facilities,network,profile
    510104,锦江区,jinjiang/communities.gpkg,jinjiang/facilities.gpkg,jinjiang.osm.pbf,sichuan

TOML::

    [defaults]
    network = "sichuan-latest.osm.pbf"   # one large file: each area is cut from it
    facilities = "sichuan_facilities.gpkg"
    id_column = "code"

    [[area]]
    id = "510104"
    name = "锦江区"
    boundaries = "communities/510104.gpkg"
    area = "fences/510104.geojson"

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "areas.csv").write_text("id,name,boundaries,facilities,network\\nA,North,b.gpkg,f.gpkg,n.osm\\n")
>>> for name in ("b.gpkg", "f.gpkg", "n.osm"):
...     _ = (folder / name).write_text("")
>>> areas = read_manifest(folder / "areas.csv")
>>> areas[0].id, areas[0].name, areas[0].inputs.network.name
('A', 'North', 'n.osm')
"""

from __future__ import annotations

import csv
import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputDataError, OptionError, ServiceCircleError
from ..options import Inputs, Options, option_specs

__all__ = ["Area", "read_manifest", "MANIFEST_COLUMNS"]

_INPUT_SPECS = option_specs(Inputs)
_OPTION_SPECS = option_specs(Options)
#: what a batch decides for every area itself: the output folder, progress bars, worker processes
_NOT_PER_AREA = ("out", "progress", "workers")
_OWN = ("id", "name", "area", "area_layer")
#: every column a manifest may have
MANIFEST_COLUMNS: tuple[str, ...] = (
    *_OWN,
    *_INPUT_SPECS,
    *(k for k in _OPTION_SPECS if k not in _NOT_PER_AREA),
)
_PATHS = {"area", *(k for k, s in _INPUT_SPECS.items() if s.kind == "path")}
_REQUIRED_FILES = ("boundaries", "facilities", "network")
_ID = re.compile(r"^[\w][\w.\-]*$")
_TRUE, _FALSE = {"true", "yes", "1", "y", "是"}, {"false", "no", "0", "n", "否"}


@dataclass(frozen=True)
class Area:
    """One study area of a batch, checked.

    Attributes
    ----------
    id, name : str
        The area's id (its output folder's name) and its name.
    inputs : Inputs
        Its files, as for :func:`servicecircle.run`.
    options : Options
        Its settings (``out``, ``progress`` and ``workers`` are set by the batch).
    polygon : pathlib.Path or None
        A polygon file of the area (``area``), the extent its network is cut to.
    polygon_layer : str or None
    row : int
        Its row in the manifest (1 = the first area).
    source : str
        The manifest it came from.
    """

    id: str
    name: str
    inputs: Inputs
    options: Options
    polygon: Path | None = None
    polygon_layer: str | None = None
    row: int = 0
    source: str = ""

    @property
    def where(self) -> str:
        """``manifest.csv area 3 (id 510104)``: how messages name the row."""
        return f"area {self.row} (id {self.id})"


def read_manifest(
    manifest: str | Path | Iterable[Mapping[str, Any]] | Any, defaults: Mapping[str, Any] | None = None
) -> list[Area]:
    """Read and check a manifest: a CSV or TOML file, a list of mappings or a DataFrame (one row per area).

    Parameters
    ----------
    manifest
        The manifest file, or the rows themselves (paths then relative to the
        working folder).
    defaults
        Values for every area where its row gives none (any manifest column but
        ``id`` and ``name``).

    Returns
    -------
    list of Area

    Raises
    ------
    InputDataError, OptionError
        The first problem, as one line naming the manifest, the row and the fix.
    """
    base = Path.cwd()
    source = "manifest"
    if isinstance(manifest, str | Path):
        path = Path(manifest)
        source = str(path)
        if not path.is_file():
            raise InputDataError(
                "manifest not found" if not path.exists() else "the manifest is a folder, not a file",
                file=path,
                fix="give a CSV or TOML file with one study area per row",
            )
        base = path.resolve().parent
        rows, file_defaults = _read_file(path)
    else:
        file_defaults = {}
        if hasattr(manifest, "to_dict") and hasattr(manifest, "columns"):  # a DataFrame
            manifest = manifest.to_dict("records")
        rows = [dict(r) for r in manifest]
    given = {  # paths given with the call (or on the command line) are relative to the working folder
        k: Path(v).expanduser().resolve() if _is_path(k, v) else v for k, v in dict(defaults or {}).items()
    }
    values_default = {**file_defaults, **given}
    _known(values_default, source, "the defaults")
    if not rows:
        raise InputDataError("the manifest lists no area", file=source, fix="add one row per study area")
    areas: list[Area] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(rows, start=1):
        area = _area(n, raw, values_default, base, source)
        if area.id in seen:
            raise InputDataError(
                f"area id {area.id} is given twice (areas {seen[area.id]} and {n})",
                file=source,
                fix="give every area its own id: it names the area's output folder",
            )
        seen[area.id] = n
        areas.append(area)
    return areas


def _read_file(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    name = path.name.lower()
    if name.endswith(".toml"):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputDataError(f"not a readable TOML file ({exc})", file=path, fix="check the TOML syntax") from None
        unknown = [k for k in data if k not in ("defaults", "area")]
        if unknown:
            raise InputDataError(
                f"unknown table [{unknown[0]}]", file=path, fix="a TOML manifest has [defaults] and [[area]] tables"
            )
        areas = data.get("area", [])
        if not isinstance(areas, list) or not all(isinstance(a, dict) for a in areas):
            raise InputDataError("'area' must be an array of tables", file=path, fix="write each area as [[area]]")
        defaults = data.get("defaults", {})
        if not isinstance(defaults, dict):
            raise InputDataError("'defaults' must be a table", file=path, fix="write [defaults] with key = value lines")
        return areas, defaults
    if name.endswith((".csv", ".txt", ".tsv")):
        text = _decode(path)
        dialect = "excel-tab" if name.endswith(".tsv") else "excel"
        reader = csv.DictReader(text.splitlines(), dialect=dialect)
        if reader.fieldnames is None:
            raise InputDataError("the manifest is empty", file=path, fix="give a header row and one row per area")
        header = [str(h).strip() for h in reader.fieldnames]
        unknown = [h for h in header if h not in MANIFEST_COLUMNS]
        if unknown:
            close = difflib.get_close_matches(unknown[0], MANIFEST_COLUMNS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise InputDataError(
                f"unknown column '{unknown[0]}'{hint}",
                file=path,
                fix="the columns are id, name, area and the names of servicecircle.run's options",
            )
        rows = []
        for raw in reader:
            if None in raw:
                raise InputDataError(
                    f"row {reader.line_num} has more cells than the header",
                    file=path,
                    fix="quote cells that contain commas",
                )
            row = {str(k).strip(): (v.strip() if isinstance(v, str) else v) for k, v in raw.items()}
            if any(v not in ("", None) for v in row.values()):
                rows.append({k: v for k, v in row.items() if v not in ("", None)})
        return rows, {}
    raise InputDataError(
        f"unknown manifest type '{path.suffix}'", file=path, fix="give a .csv or .toml manifest (one area per row)"
    )


def _decode(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputDataError("the manifest is neither UTF-8 nor GBK text", file=path, fix="save it as UTF-8 CSV")


def _known(values: Mapping[str, Any], source: str, where: str) -> None:
    for k in values:
        if k not in MANIFEST_COLUMNS or k in ("id", "name"):
            if k in _NOT_PER_AREA:
                raise OptionError(
                    f"{where} give '{k}', which the batch sets for every area itself",
                    fix="give --out (and --workers for the cluster) to the batch, not per area",
                )
            close = difflib.get_close_matches(str(k), MANIFEST_COLUMNS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise InputDataError(
                f"{where}: unknown field '{k}'{hint}",
                file=source,
                fix="the fields are id, name, area and the names of servicecircle.run's options",
            )


def _area(n: int, raw: Mapping[str, Any], defaults: Mapping[str, Any], base: Path, source: str) -> Area:
    where = f"area {n}"
    _known({k: v for k, v in raw.items() if k not in ("id", "name")}, source, where)
    ident = raw.get("id")
    if ident is None or not str(ident).strip():
        raise InputDataError(f"{where} has no id", file=source, fix="give every area an id (letters, digits, - _ .)")
    ident = str(ident).strip()
    if not _ID.match(ident):
        raise InputDataError(
            f"{where}: the id '{ident}' cannot name a folder",
            file=source,
            fix="use letters, digits, '-', '_' and '.' in ids (not starting with '.')",
        )
    where = f"area {n} (id {ident})"
    values = {**defaults, **{k: v for k, v in raw.items() if k not in ("id", "name")}}
    for k, v in list(values.items()):
        if _is_path(k, v):
            p = Path(str(v)).expanduser()
            values[k] = p if p.is_absolute() else base / p
    polygon = values.pop("area", None)
    polygon_layer = values.pop("area_layer", None)
    in_kw = {k: v for k, v in values.items() if k in _INPUT_SPECS}
    opt_kw = {k: _typed(_OPTION_SPECS[k].kind, v) for k, v in values.items() if k in _OPTION_SPECS}
    in_kw = {k: _typed(_INPUT_SPECS[k].kind, v) for k, v in in_kw.items()}
    try:
        inputs = Inputs(**in_kw)
        options = Options.build(None, **opt_kw)
    except ServiceCircleError as exc:
        raise type(exc)(exc.what, file=source, feature=where, fix=exc.fix) from None
    if inputs.network_place or inputs.download:
        raise OptionError(
            f"{source} {where}: a batch reads local network files only",
            fix="give the area a network file (OSM, PBF or GraphML), or one large file for every area",
        )
    for k in _REQUIRED_FILES:
        if getattr(inputs, k) is None:
            raise InputDataError(
                f"{where} has no {k} file",
                file=source,
                fix=f"give a '{k}' column (or a default for every area: --{k} FILE)",
            )
    files = {k: getattr(inputs, k) for k in _INPUT_SPECS if _INPUT_SPECS[k].kind == "path"}
    files["area"] = polygon
    for k, p in files.items():
        if p is not None and not Path(p).exists():
            raise InputDataError(
                f"{where}: the {k} file {p} does not exist", file=source, fix="correct the path (relative paths are "
                "relative to the manifest's folder)",
            )  # fmt: skip
    name = str(raw.get("name") or ident).strip()
    return Area(
        id=ident,
        name=name,
        inputs=inputs,
        options=options,
        polygon=None if polygon is None else Path(polygon),
        polygon_layer=None if polygon_layer is None else str(polygon_layer),
        row=n,
        source=source,
    )


def _is_path(name: str, value: Any) -> bool:
    if value is None:
        return False
    return name in _PATHS or (name == "profile" and isinstance(value, str | Path) and str(value).endswith(".toml"))


def _typed(kind: str, value: Any) -> Any:
    """A CSV cell as its option expects it: ``true``/``false`` for a flag (numbers are parsed by the options)."""
    if kind == "flag" and isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    return value
