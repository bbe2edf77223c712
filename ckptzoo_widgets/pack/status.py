"""`ckptzoo pack status [--notebooks DIR]`: what a pack holds, and what a lab's notebooks need that it lacks.

The notebooks are read, never run: each code cell is parsed and the calls that load a
checkpoint are picked out with their literal arguments:

    cz.load("digits-mlp@epoch-10", zoo=...)               a zoo ref
    AutoModel.from_pretrained("org/name", revision="b")   a Hub repo at a revision (main when left out)
    hf_hub_download("org/name", "file", revision="b")     the same; snapshot_download too
    timm.create_model("hf-hub:org/name", pretrained=True) a Hub repo; a bare timm name: timm/<name>
    cz.fetch("https://…", sha256="…")                     a file by URL or sha256
    torch.hub.load_state_dict_from_url("https://…")      a torch.hub file (by its name)
    torchvision.models.get_model("resnet18", weights="IMAGENET1K_V1")

A ref is missing when no entry of the pack provides it.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import pathlib
import re
from collections.abc import Iterator
from typing import Any

from ..text import one_line
from . import layout
from .verify import manifest_or_fail

MAX_NOTEBOOK = 64 << 20


@dataclasses.dataclass(frozen=True)
class Use:
    notebook: str  # relative to the folder scanned
    cell: int  # 1-based, code cells and others counted as Jupyter numbers them
    call: str  # what was called (`cz.load`, `from_pretrained`, ...)
    names: tuple[str, ...]  # what would satisfy it (any of them)
    shown: str  # how status prints it


@dataclasses.dataclass
class Status:
    pack: pathlib.Path
    manifest: dict[str, Any]
    missing_files: list[str]
    uses: list[Use]
    lacking: list[Use]

    @property
    def total_bytes(self) -> int:
        return sum(int(f.get("size", 0)) for f in self.manifest["files"].values())


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _arg(call: ast.Call, position: int, *names: str) -> str | None:
    for keyword in call.keywords:
        if keyword.arg in names:
            return _literal(keyword.value)
    return _literal(call.args[position]) if len(call.args) > position else None


def _called(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _on_module(call: ast.Call, *modules: str) -> bool:
    func = call.func
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in modules


def _cell_source(cell: Any) -> str:
    source = cell.get("source", "")
    text = "".join(source) if isinstance(source, list) else str(source)
    # IPython's magics and shell lines are not Python: blank them, keep the line numbers
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in text.splitlines())


def uses_in_source(source: str, notebook: str = "", cell: int = 0) -> Iterator[Use]:
    """The checkpoint loads a piece of Python names with literal arguments."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = _called(node)
        if called == "load" and _on_module(node, "cz", "ckptzoo_widgets"):
            ref = _arg(node, 0, "ref")
            if ref:
                yield Use(notebook, cell, "cz.load", (ref,), ref)
        elif called in ("from_pretrained", "hf_hub_download", "snapshot_download"):
            repo = _arg(node, 0, "pretrained_model_name_or_path", "repo_id")
            if repo and re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
                revision = _arg(node, 99, "revision") or "main"
                yield Use(notebook, cell, called, (f"{repo}@{revision}",), f"hf:{repo}@{revision}")
        elif called == "create_model":
            name = _arg(node, 0, "model_name")
            if name:
                repo = name.removeprefix("hf-hub:").removeprefix("hf_hub:")
                repo = repo if "/" in repo else f"timm/{repo}"
                yield Use(notebook, cell, "timm.create_model", (f"{repo}@main",), f"hf:{repo}@main")
        elif called == "fetch":
            target = _arg(node, 0, "url_or_path")
            sha = _arg(node, 99, "sha256")
            if target and target.startswith(("http://", "https://", "s3://", "gs://", "az://", "hf://")):
                names = (target,) + ((sha.lower().removeprefix("sha256:"),) if sha else ())
                yield Use(notebook, cell, "cz.fetch", names, target)
        elif called in ("load_state_dict_from_url", "download_url_to_file"):
            url = _arg(node, 0, "url")
            if url:
                name = url.split("?", 1)[0].rsplit("/", 1)[-1]
                yield Use(notebook, cell, called, (url, name), url)
        elif called == "get_model":
            arch = _arg(node, 0, "name")
            weights = _arg(node, 99, "weights")
            if arch and weights and weights != "DEFAULT":
                weights = weights.rsplit(".", 1)[-1]
                yield Use(notebook, cell, "torchvision get_model", (f"{arch}@{weights}",), f"{arch} {weights}")


def scan_notebooks(folder: str | os.PathLike[str]) -> list[Use]:
    """Every checkpoint load in the notebooks under ``folder`` (checkpoint folders skipped)."""
    base = pathlib.Path(folder)
    found: list[Use] = []
    paths = sorted(base.rglob("*.ipynb")) if base.is_dir() else [base]
    for path in paths:
        if ".ipynb_checkpoints" in path.parts:
            continue
        try:
            if path.stat().st_size > MAX_NOTEBOOK:
                continue
            notebook = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        cells = notebook.get("cells") if isinstance(notebook, dict) else None
        shown = path.relative_to(base).as_posix() if base.is_dir() else path.name
        for number, cell in enumerate(cells if isinstance(cells, list) else [], 1):
            if isinstance(cell, dict) and cell.get("cell_type") == "code":
                found.extend(uses_in_source(_cell_source(cell), shown, number))
    return found


def pack_status(pack: str | os.PathLike[str], notebooks: str | os.PathLike[str] | None = None) -> Status:
    """What the pack holds (no hashing: `verify` does that) and the notebooks' loads it lacks."""
    root = pathlib.Path(pack).expanduser().absolute()
    manifest = manifest_or_fail(root)
    missing = [rel for rel, want in manifest["files"].items() if not _present(root / rel, want.get("size"))]
    provided = {name for entry in manifest["entries"] for name in entry.get("provides", [])}
    uses = scan_notebooks(notebooks) if notebooks is not None else []
    lacking = [use for use in uses if not any(name in provided for name in use.names)]
    return Status(root, manifest, missing, uses, lacking)


def _present(path: pathlib.Path, size: Any) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False


def status_text(status: Status, human_bytes: Any) -> str:
    m = status.manifest
    lines = [
        one_line(f"course pack {status.pack}: {m.get('title', '')}", 300),
        f"built {m.get('built', '?')}, {len(m['entries'])} checkpoints, {human_bytes(status.total_bytes)}",
    ]
    for entry in m["entries"]:
        size = human_bytes(int(entry.get("size", 0)))
        lines.append(f"  {entry.get('kind', ''):<4} {size:>10}  {one_line(entry.get('label', ''))}")
    if status.missing_files:
        lines.append(
            f"{len(status.missing_files)} file(s) missing or of the wrong size, e.g. {status.missing_files[0]}: "
            f"run `ckptzoo pack build {layout.COURSE} -o {status.pack}` again"
        )
    if status.uses:
        lines.append(f"notebooks: {len(status.uses)} checkpoint load(s), {len(status.lacking)} not in the pack")
        for use in status.lacking:
            lines.append(one_line(f"  missing  {use.shown}  ({use.notebook}, cell {use.cell}, {use.call})", 400))
    return "\n".join(lines)
