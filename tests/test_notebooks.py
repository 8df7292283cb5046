"""The example notebooks run top to bottom (executed with a real Jupyter kernel)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.chdir(path.parents[1])
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    if path.name.startswith(("01-", "04-")):  # the map really rendered inline
        html = [
            o
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.get("outputs", [])
            if "text/html" in o.get("data", {}) and "leaflet" in o["data"]["text/html"].lower()
        ]
        assert html, "the folium map did not render in the notebook"


def test_there_are_notebooks():
    names = {p.name for p in NOTEBOOKS}
    assert {"01-quickstart.ipynb", "02-your-own-data.ipynb", "03-custom-standard.ipynb", "04-scenario.ipynb"} <= names
