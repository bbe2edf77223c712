"""Every notebook in notebooks/ runs top to bottom (nbclient, a real kernel)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _run(nb, tmp_path, monkeypatch):
    """Execute a notebook in a real kernel; the notebook with its outputs."""
    from nbclient import NotebookClient

    # the kernel inherits the environment: a private download cache, no network
    monkeypatch.setenv("CKPTZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CKPTZOO_QUIET", "1")
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError with the failing cell on error
    errors = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]
    assert not [out for out in errors if out.get("output_type") == "error"]
    return nb


def _lesson_inserts(nb) -> tuple[int, list[str]]:
    """The browser cell and the checkpoints the lesson asks the student to insert, in order."""
    for position, cell in enumerate(nb.cells):
        refs = cell.get("metadata", {}).get("ckptzoo", {}).get("lesson_inserts")
        if refs:
            return position, list(refs)
    return -1, []


def _as_the_student_leaves_it(nb):
    """The notebook after the student's clicks on Insert code: what the labextension does.

    Each inserted cell holds exactly ``zoo.load_code(ref)`` and goes below the
    browser's cell and below the cells it inserted before (issue 10, docs/widget.md).
    """
    import ckptzoo_widgets as cz

    zoo = cz.open_zoo()
    position, refs = _lesson_inserts(nb)
    inserted = [nbformat.v4.new_code_cell(zoo.load_code(ref)) for ref in refs]
    nb.cells[position + 1 : position + 1] = inserted
    return nb


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    _run(nbformat.read(path, as_version=4), tmp_path, monkeypatch)


@pytest.mark.slow
def test_quickstart_after_the_students_inserts_compares_their_checkpoints(tmp_path, monkeypatch):
    """Browse, pick, insert, run, compare: the inserted cells run, say what they loaded, and the comparison
    measures each checkpoint's recorded accuracy."""
    import ckptzoo_widgets as cz

    nb = _run(_as_the_student_leaves_it(nbformat.read(QUICKSTART, as_version=4)), tmp_path, monkeypatch)
    position, refs = _lesson_inserts(nb)
    for offset, ref in enumerate(refs, start=1):
        assert _text(nb.cells[position + offset]).startswith(f"Loaded {ref}: mlp digits classifier")
        assert "verified against the zoo index" in _text(nb.cells[position + offset])
    (compare,) = [c for c in nb.cells if c.cell_type == "code" and "cz.LoadedModel" in c.source]
    zoo = cz.open_zoo()
    lines = [line for line in _text(compare).splitlines() if "accuracy" in line]
    assert [line.split()[0] for line in lines] == ["mlp_epoch_1", "mlp_epoch_30"]  # the order they were inserted
    for line, ref in zip(lines, refs, strict=True):
        recorded = zoo.resolve(ref)[1].metrics["val_accuracy"]
        assert line.endswith(f"accuracy {recorded:.1%}")


QUICKSTART = ROOT / "notebooks" / "01-quickstart.ipynb"


def test_quickstart_ships_no_copies_of_the_cells_insert_makes():
    """The student's Insert clicks make the load cells; the notebook has none of its own (no duplicates)."""
    import ckptzoo_widgets as cz

    nb = nbformat.read(QUICKSTART, as_version=4)
    position, refs = _lesson_inserts(nb)
    assert position > 0 and refs == ["digits-mlp@epoch-1", "digits-mlp@epoch-30"]
    zoo = cz.open_zoo()
    snippets = {zoo.load_code(ref).strip() for ref in refs}
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert "cz.load(" not in cell.source and cell.source.strip() not in snippets, cell.source
    # What the lesson's text promises is what Insert code writes.
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert 'mlp_epoch_1 = cz.load("digits-mlp@epoch-1")' in text
    assert f"{codegen_name(zoo, refs[0])} = cz.load(" in zoo.load_code(refs[0])


def codegen_name(zoo, ref: str) -> str:
    from ckptzoo_widgets import codegen

    return codegen.variable_name(*zoo.resolve(ref))


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
    import subprocess
    import sys

    # The terminal IPython of the interpreter running the tests (not the first `ipython` on PATH:
    # under PYTHON=venv/bin/python with nothing activated that is another Python's).
    lines = ["import ckptzoo_widgets as cz", TYPO, "print('-' * 20)", "%tb"]
    done = subprocess.run(
        [sys.executable, "-m", "IPython", "--simple-prompt", "--colors=NoColor", "--no-banner"],
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


# --- marimo notebooks (notebooks/*.py, marimo's format) ---------------------------------------------

MARIMO_NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("path", MARIMO_NOTEBOOKS, ids=[p.name for p in MARIMO_NOTEBOOKS])
def test_marimo_notebook_runs_top_to_bottom(path, tmp_path):
    """marimo's own runner (the notebook run as a script): every cell in dependency order, no error;
    `marimo check` finds nothing to say."""
    import hashlib
    import os
    import subprocess
    import sys

    import ckptzoo_widgets as cz

    env = {**os.environ, "CKPTZOO_CACHE": str(tmp_path / "cache"), "CKPTZOO_QUIET": "1", "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env
    )
    assert run.returncode == 0, run.stderr
    if path.name == "classroom_marimo.py":
        # the reactive cell loaded the browser's pick and printed the sha256 of the file it read
        entry = cz.open_zoo().resolve("digits-mlp@epoch-1")[1]
        blob = (ROOT / "ckptzoo_widgets" / "zoo" / "digits-mlp" / "epoch-1.safetensors").read_bytes()
        assert f"loaded digits-mlp@epoch-1 sha256 {hashlib.sha256(blob).hexdigest()}" in run.stdout
        assert hashlib.sha256(blob).hexdigest() == entry.files[0].sha256
        recorded = entry.metrics["val_accuracy"]
        assert f"measured accuracy {recorded:.1%}, recorded in the zoo {recorded:.1%}" in run.stdout
    check = subprocess.run(
        [sys.executable, "-m", "marimo", "check", str(path)], capture_output=True, text=True, timeout=120, env=env
    )
    assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr
