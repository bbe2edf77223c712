"""The browser's choice as a value, the front end the kernel finds, and load code as a marimo cell.

marimo itself runs here (notebooks as scripts, in a child process): the code
form is checked by marimo's own rule that a cell may not redefine another
cell's name. The page in Chromium: tests/browser/test_marimo.py.
"""

from __future__ import annotations

import ast
import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_codegen import CASES, constants, literal_only

import ckptzoo_widgets as cz
from ckptzoo_widgets import codegen
from ckptzoo_widgets.widget import front_end
from ckptzoo_widgets.widget.browser import NO_CHOICE

ROOT = Path(__file__).resolve().parents[1]
EPOCH_12_SHA256 = "75ba06ee57aa16959d447f16a21a4270404d3c2714e488aa077b449fe616d29e"


# ---- browser.value ---------------------------------------------------------------------------
def test_value_is_the_choice_and_observers_hear_each_new_one():
    browser = cz.browse(selected="digits-mlp@epoch-12")
    assert browser.value == {
        "ref": "digits-mlp@epoch-12",
        "model": "digits-mlp",
        "checkpoint": "epoch-12",
        "library": "ckptzoo",
        "code": browser.code,
    }
    heard: list[dict] = []
    browser.observe(lambda change: heard.append(change["new"]), names="value")
    browser.select("digits-mlp@epoch-2")
    assert [v["ref"] for v in heard] == ["digits-mlp@epoch-2"]
    browser.select("digits-mlp@epoch-2", library="safetensors-numpy")
    assert heard[-1]["library"] == "safetensors-numpy" and heard[-1]["code"] == browser.code
    assert "load_file" in heard[-1]["code"]
    browser.selected = ""
    assert browser.value == NO_CHOICE and heard[-1] == NO_CHOICE


def test_value_of_a_bare_model_id_names_its_default_checkpoint():
    browser = cz.browse(selected="digits-mlp")
    assert browser.value["ref"] == "digits-mlp@epoch-30" and browser.value["checkpoint"] == "epoch-30"
    assert cz.load(browser.value["ref"]).sha256 == cz.open_zoo().resolve("digits-mlp@epoch-30")[1].files[0].sha256


def test_nothing_selected_has_the_same_keys_empty():
    browser = cz.browse()
    assert browser.value == NO_CHOICE


def test_the_pages_echo_of_value_is_accepted_and_any_other_write_dropped():
    browser = cz.browse(selected="digits-mlp@epoch-12")
    before = dict(browser.value)
    browser.set_state({"value": dict(before)})  # what the page sends in marimo: the kernel's own value
    assert browser.rejected_updates == 0 and browser.value == before
    browser.set_state({"value": {**before, "ref": "digits-cnn@epoch-1"}})  # a value the kernel never sent
    browser.set_state({"selected": "digits-cnn@epoch-1"})
    assert browser.rejected_updates == 2 and browser.value == before and browser.selected == "digits-mlp@epoch-12"


# ---- front_end.detect ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("environ", "modules", "platform", "expected"),
    [
        ({}, {"google.colab": object()}, "linux", "colab"),
        ({"VSCODE_PID": "4242"}, {}, "linux", "vscode"),
        ({"JPY_SESSION_NAME": "/home/a/n.ipynb"}, {}, "linux", "python"),  # Jupyter Server sets it too
        ({}, {}, "emscripten", "jupyterlite"),
        ({"VSCODE_PID": "4242"}, {"google.colab": object()}, "linux", "colab"),
        ({}, {}, "linux", "python"),
    ],
)
def test_detect_names_the_front_end(environ, modules, platform, expected):
    assert front_end.detect(environ, modules, platform).name == expected


def test_marimo_imported_without_a_running_notebook_is_not_marimo():
    import marimo  # noqa: F401 - imported, as a library that uses marimo would

    assert front_end.detect({}, sys.modules, "linux").name == "python"


def test_every_hint_is_one_line_and_the_page_gets_the_decision():
    for name in ("marimo", "colab", "vscode", "jupyterlite", "jupyter", "python"):
        chosen = front_end.named(name)
        assert "\n" not in chosen.hint and len(chosen.hint) < 160
        assert chosen.payload() == {
            "name": name,
            "label": chosen.label,
            "reactive": name == "marimo",
            "hint": chosen.hint,
        }
    assert "browser.insert()" in front_end.named("vscode").hint and "Copy" in front_end.named("colab").hint
    assert cz.browse().front_end["name"] == "python"  # this test process: no notebook


# ---- load code as a marimo cell ----------------------------------------------------------------
def _binds(code: str) -> set[str]:
    """The names a cell defines at its top level (what marimo checks against other cells)."""
    names: set[str] = set()
    for node in ast.parse(code).body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).partition(".")[0] for a in node.names}
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _imports(code: str) -> set[str]:
    return {
        (a.asname or a.name)
        for node in ast.parse(code).body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for a in node.names
    }


def _statements(code: str, renames: dict[str, str]) -> list[str]:
    """The non-import statements, with the cell-local names put back."""

    class Back(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            if node.id in renames:
                return ast.copy_location(ast.parse(renames[node.id], mode="eval").body, node)
            return node

    body = [s for s in ast.parse(code).body if not isinstance(s, ast.Import | ast.ImportFrom)]
    return [ast.unparse(Back().visit(s)) for s in body]


@pytest.mark.parametrize("library", sorted(CASES))
@pytest.mark.parametrize("notebook_has_cz", [True, False])
def test_marimo_cell_rebinds_no_notebook_name_and_does_what_the_code_does(library, notebook_has_cz):
    entry = CASES[library]
    code = codegen.generate(entry, entry.checkpoints[0], library)
    bound = {"cz": cz, "os": __import__("os")} if notebook_has_cz else {}
    cell = codegen.marimo_cell(code, bound)
    tree = ast.parse(cell)
    assert literal_only(tree) == [] and constants(cell) == constants(code)
    assert not (_binds(cell) & set(bound)), cell
    assert all(name.startswith("_") for name in _imports(cell)), cell
    # the same statements, once the cell-local names are put back
    renames = {f"_{name}": name for name in _imports(code) if "." not in name}
    renames |= {"_" + name.replace(".", "_"): name for name in _imports(code) if "." in name}
    assert _statements(cell, renames) == _statements(code, {})
    if "cz." in code:
        assert ("import ckptzoo_widgets" in cell) is not notebook_has_cz


def test_marimo_cell_of_the_builtin_zoo_runs_with_the_notebooks_cz_and_without_it():
    zoo = cz.open_zoo()
    for library in zoo.code_libraries("digits-mlp@epoch-12"):
        code = zoo.load_code("digits-mlp@epoch-12", library=library)
        with_cz = codegen.marimo_cell(code, {"cz": cz})
        names: dict = {"cz": cz}
        exec(with_cz, names)  # noqa: S102 - our own generated code, as the user's cell would run it
        alone: dict = {}
        exec(codegen.marimo_cell(code, {}), alone)  # noqa: S102
        assert "cz" not in alone
        if library == "ckptzoo":
            assert with_cz == 'mlp_epoch_12 = cz.load("digits-mlp@epoch-12")\nmlp_epoch_12\n'
            assert names["mlp_epoch_12"].sha256 == alone["mlp_epoch_12"].sha256 == EPOCH_12_SHA256


def test_a_name_the_notebook_binds_to_something_else_is_not_reused():
    code = "import ckptzoo_widgets as cz\n\nx = cz.load('digits-mlp@epoch-12')\n"
    assert codegen.marimo_cell(code, {"cz": "not the package"}).startswith("import ckptzoo_widgets as _cz\n")


# ---- in marimo, for real (scripts in a child process) ---------------------------------------------
def _run_marimo_script(tmp_path: Path, name: str, source: str) -> subprocess.CompletedProcess:
    path = tmp_path / name
    path.write_text(source)
    env = {"PYTHONPATH": str(ROOT), "CKPTZOO_QUIET": "1", "CKPTZOO_CACHE": str(tmp_path / "cache")}
    return subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**__import__("os").environ, **env},
    )


NOTEBOOK = """
import marimo

app = marimo.App()


@app.cell
def _():
    import json

    import marimo as mo

    import ckptzoo_widgets as cz

    return cz, json, mo


@app.cell
def _(cz, mo):
    browser = mo.ui.anywidget(cz.browse(selected="digits-mlp@epoch-12"))
    return (browser,)


@app.cell
def _(browser, json):
    print(json.dumps({{"value": browser.value["value"], "front_end": browser.widget.front_end["name"],
                      "insert": browser.insert(), "code": browser.code}}))
    return


{pasted}

if __name__ == "__main__":
    app.run()
"""


def _pasted_cell(code: str) -> str:
    """`code` as a cell of a marimo file: what marimo writes when the user pastes it into a new cell."""
    names = sorted(_binds(code) - {n for n in _binds(code) if n.startswith("_")})
    returns = f"    return ({', '.join(names)},)\n" if names else "    return\n"
    refs = sorted(n for n in ("cz",) if f"{n}." in code and f"as {n}" not in code)
    return f"@app.cell\ndef _({', '.join(refs)}):\n" + textwrap.indent(code, "    ") + returns


@pytest.mark.slow
def test_in_marimo_the_value_the_code_form_and_insert(tmp_path):
    run = _run_marimo_script(tmp_path, "notebook.py", NOTEBOOK.format(pasted=""))
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["front_end"] == "marimo"
    assert seen["value"]["ref"] == "digits-mlp@epoch-12" and seen["value"]["code"] == seen["code"]
    assert seen["code"] == 'mlp_epoch_12 = cz.load("digits-mlp@epoch-12")\nmlp_epoch_12\n'
    assert "\n" not in seen["insert"] and "Copy" in seen["insert"] and 'browser.value["value"]["ref"]' in seen["insert"]

    # The code pasted into a new cell: marimo runs it (a second `import ... as cz` would be refused).
    pasted = _pasted_cell(seen["code"]) + "\n\n@app.cell\ndef _(mlp_epoch_12):\n    print('SHA', mlp_epoch_12.sha256)\n"
    pasted += "    return\n"
    run = _run_marimo_script(tmp_path, "pasted.py", NOTEBOOK.format(pasted=pasted))
    assert run.returncode == 0, run.stderr
    assert f"SHA {EPOCH_12_SHA256}" in run.stdout
    blob = (ROOT / "ckptzoo_widgets/zoo/digits-mlp/epoch-12.safetensors").read_bytes()
    assert hashlib.sha256(blob).hexdigest() == EPOCH_12_SHA256

    # and the Jupyter form, pasted the same way, is what marimo refuses
    jupyter_code = cz.open_zoo().load_code("digits-mlp@epoch-12")
    run = _run_marimo_script(tmp_path, "refused.py", NOTEBOOK.format(pasted=_pasted_cell(jupyter_code)))
    assert run.returncode != 0 and "multiple definitions of the name cz" in run.stderr
