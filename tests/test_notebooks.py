"""Every notebook in notebooks/ runs top to bottom (nbclient, a real kernel)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    # the kernel inherits the environment: a private download cache, no network
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CKPTZOO_QUIET", "1")
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError with the failing cell on error
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors


def test_inserted_cells_match_the_code_insert_gives():
    """Cells tagged `inserted-code` hold exactly what Insert code puts in a cell."""
    import ckptzoo_widgets as cz

    zoo = cz.open_zoo()
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            ref = cell.get("metadata", {}).get("ckptzoo", {}).get("ref")
            if "inserted-code" in cell.get("metadata", {}).get("tags", []) and ref:
                assert cell.source.rstrip("\n") == zoo.load_code(ref).rstrip("\n"), (
                    f"{path.name}: the cell for {ref} differs from zoo.load_code({ref!r}); "
                    "paste the new code into the notebook"
                )
