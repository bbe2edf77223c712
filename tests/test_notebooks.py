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


# --- errors a student can read ------------------------------------------------------------------

TYPO = 'cz.load("digit-mlp")'
TYPO_MESSAGE = "ZooError: unknown model 'digit-mlp' in zoo builtin; did you mean digits-mlp"
LIBRARY_FRAMES = ("loader.py", "catalog.py", "Traceback (most recent call last)")


def plain(lines) -> str:
    """Traceback lines as a reader sees them (colour codes removed)."""
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(lines))


def test_a_typo_in_a_kernel_prints_one_line_and_tb_keeps_the_full_traceback(tmp_path, monkeypatch):
    """A real kernel (nbclient): ZooError and FetchError outputs are the message, %tb the whole traceback."""
    from nbclient import NotebookClient

    import ckptzoo_widgets as cz

    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import ckptzoo_widgets as cz"),
        nbformat.v4.new_code_cell(TYPO),
        nbformat.v4.new_code_cell("%tb"),
        nbformat.v4.new_code_cell('cz.fetch("no-such-file.safetensors")'),
        nbformat.v4.new_code_cell("1 / 0"),  # other errors keep IPython's usual traceback
        nbformat.v4.new_code_cell(cz.open_zoo().load_code("digits-mlp@epoch-1")),  # what Insert code puts in a cell
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    typo, tb, fetch, other, loaded = (cell.outputs for cell in nb.cells[1:])
    assert [o.output_type for o in typo] == ["error"] and typo[0].ename == "ZooError"
    shown = plain(typo[0].traceback)
    assert TYPO_MESSAGE in shown and len(typo[0].traceback) <= 2
    assert not any(frame in shown for frame in LIBRARY_FRAMES), shown
    full = plain(o.get("text", "") + plain(o.get("traceback", [])) for o in tb)
    assert "loader.py" in full and TYPO in full  # the whole traceback is still there with %tb
    assert fetch[0].ename == "FetchError" and len(fetch[0].traceback) <= 2
    assert "no-such-file.safetensors" in plain(fetch[0].traceback) and "fetch.py" not in plain(fetch[0].traceback)
    assert other[0].ename == "ZeroDivisionError" and len(other[0].traceback) > 2
    # Running the inserted cell says what was loaded and that it was verified.
    (result,) = loaded
    shown = result.data["text/plain"]
    assert shown.startswith("Loaded digits-mlp@epoch-1: mlp digits classifier, 2,410 parameters\n")
    assert "verified against the zoo index" in shown


def test_a_typo_in_the_ipython_shell_prints_one_line(tmp_path):
    """The terminal IPython, as a student starts it: the typo is one line, %tb shows the rest."""
    import os
    import shutil
    import subprocess
    import sys

    ipython = shutil.which("ipython") or str(Path(sys.executable).parent / "ipython")
    lines = ["import ckptzoo_widgets as cz", TYPO, "print('-' * 20)", "%tb"]
    done = subprocess.run(
        [ipython, "--simple-prompt", "--colors=NoColor", "--no-banner"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "IPYTHONDIR": str(tmp_path / "ipython")},
    )
    brief, _, full = done.stdout.partition("-" * 20)
    assert TYPO_MESSAGE in brief
    assert not any(frame in brief for frame in LIBRARY_FRAMES), brief
    error_lines = [line for line in brief.splitlines() if line.strip() and not line.startswith("In [")]
    assert len(error_lines) <= 2, brief
    assert "loader.py" in full and "Traceback (most recent call last)" in full
