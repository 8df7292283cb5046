"""The layers of the package hold: no module imports from a layer above its own.

Read from the source (every ``import`` statement, those inside functions too), so
a lazy import that climbs back up fails here as surely as a top-level one.
The order is the one docs/architecture.md draws.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "servicecircle"

#: lowest first; a module may import from its own layer and those before it
LAYERS: list[tuple[str, set[str]]] = [
    (
        "foundation",
        {"_version", "settings", "errors", "_arrays", "_progress", "_parallel", "_text", "coords", "options", "schema"},
    ),
    ("profiles", {"profiles"}),
    ("inputs", {"inputs"}),
    ("network", {"network"}),
    ("engine", {"engine"}),
    ("demand", {"demand", "population"}),
    ("checks", {"checks"}),
    ("outputs", {"outputs"}),
    ("assessment", {"assessment", "scenario", "siting"}),
    ("entry points", {"pipeline", "batch", "cli", "__init__", "__main__"}),
]
RANK = {top: k for k, (_, tops) in enumerate(LAYERS) for top in tops}

#: the writers: none may import another (their shared words live in outputs/labels, style, codes)
WRITERS = {
    "excel",
    "filegdb",
    "geopackage",
    "gapmap",
    "qgis_styles",
    "qgis_project",
    "figures",
    "report",
    "tables",
    "template",
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:`` (annotations only, never imported at run time)."""
    out: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                todo.extend(child.orelse)
                continue
            todo.append(child)
    return out


def _imports(path: Path, name: str | None = None) -> list[tuple[int, str]]:
    """(line, servicecircle module imported) for every import in ``path`` that runs (``name``: its module)."""
    name = name or _module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
                if not node.module:
                    found += [(node.lineno, ".".join([*base, a.name]).strip(".")) for a in node.names]
                    continue
            elif node.module and node.module.startswith("servicecircle"):
                target = node.module.removeprefix("servicecircle").lstrip(".")
            else:
                continue
            if not target:  # from servicecircle import pipeline
                found += [(node.lineno, ".".join([target, a.name]).strip(".")) for a in node.names]
            else:
                found.append((node.lineno, target))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("servicecircle"):
                    found.append((node.lineno, a.name.removeprefix("servicecircle").lstrip(".")))
    return found


def _top(module: str) -> str:
    return module.split(".")[0] if module else "__init__"


MODULES = sorted(SRC.rglob("*.py"))


def test_every_module_has_a_layer():
    missing = {_top(_module_name(p)) for p in MODULES} - set(RANK)
    assert not missing, f"add these to LAYERS (and to docs/architecture.md): {sorted(missing)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_import_from_a_layer_above(path):
    me = _module_name(path)
    mine = RANK[_top(me)]
    upward = [
        f"line {line}: {target} ({LAYERS[RANK[_top(target)]][0]})"
        for line, target in _imports(path)
        if _top(target) in RANK and RANK[_top(target)] > mine
    ]
    assert not upward, f"{me} ({LAYERS[mine][0]}) imports from a layer above it: {'; '.join(upward)}"


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_no_writer_imports_another(writer):
    path = SRC / "outputs" / f"{writer}.py"
    others = [
        f"line {line}: {target}"
        for line, target in _imports(path)
        if target.startswith("outputs.") and target.split(".")[1] in WRITERS - {writer}
    ]
    assert not others, f"outputs.{writer} imports another writer: {'; '.join(others)}"


def test_checks_import_no_cycle():
    graph = {
        _module_name(p): {t for _, t in _imports(p) if t.startswith("checks.")}
        for p in (SRC / "checks").glob("*.py")
        if p.name != "__init__.py"
    }
    seen: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        if seen.get(node) == 1:
            raise AssertionError(f"import cycle in checks: {' → '.join([*stack, node])}")
        if seen.get(node) == 2:
            return
        seen[node] = 1
        for nxt in graph.get(node, ()):
            visit(nxt, [*stack, node])
        seen[node] = 2

    for node in graph:
        visit(node, [])


def test_the_reader_finds_relative_and_lazy_imports(tmp_path):
    """The analysis itself, on a module whose imports are known: the layers test can fail."""
    found = {t for _, t in _imports(SRC / "pipeline.py")}
    assert {"assessment", "inputs", "network", "options"} <= found
    fake = tmp_path / "probe.py"
    fake.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..assessment import Assessment\n"
        "def f():\n    from ..outputs import gapmap\n    from servicecircle import pipeline\n    from . import gaps\n"
    )
    assert {t for _, t in _imports(fake, "checks.probe")} == {"outputs", "pipeline", "checks.gaps"}


def test_only_inputs_open_raster_files():
    """A raster (population, elevation) is opened in inputs/ only; the layers above take its grid."""
    opened = []
    for path in MODULES:
        if _top(_module_name(path)) == "inputs":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "open"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "rasterio"
            ):
                opened.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert not opened, f"rasterio.open outside inputs/: {opened}"
    # the check itself sees a call written the usual way
    tree = ast.parse("import rasterio\nwith rasterio.open('x.tif') as src:\n    pass\n")
    assert any(isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "open" for n in ast.walk(tree))
